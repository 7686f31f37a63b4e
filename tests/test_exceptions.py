from __future__ import annotations

import re
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from datetime import UTC

import pytest
import werkzeug.exceptions as wz
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import WWWAuthenticate as WzWWWAuthenticate
from werkzeug.routing import RequestRedirect as WzRequestRedirect

import erlen.exceptions as ex
from erlen.datastructures import WWWAuthenticate
from erlen.sansio.response import Response

ALL_CODES = sorted(wz.default_exceptions)

PAGE_RE = re.compile(
    r"<!doctype html>\n<html lang=en>\n<title>(\d{3}) ([^<]*)</title>\n"
    r"<h1>([^<]*)</h1>\n<p>(.*)</p>\n",
    re.DOTALL,
)


# -- the class tree -----------------------------------------------------------


def test_default_exceptions_match_werkzeug() -> None:
    assert sorted(ex.default_exceptions) == ALL_CODES
    for code, cls in ex.default_exceptions.items():
        wz_cls = wz.default_exceptions[code]
        assert cls.__name__ == wz_cls.__name__
        assert cls.code == code
        assert cls().name == wz_cls().name
        assert cls.__module__ == "erlen.exceptions"


@pytest.mark.parametrize("code", ALL_CODES)
def test_default_page_structure(code: int) -> None:
    exc = ex.default_exceptions[code]()
    match = PAGE_RE.fullmatch(exc.get_body())
    assert match is not None
    assert match[1] == str(code)
    assert match[2] == match[3] == exc.name.replace("'", "&#39;")
    # Our own wording, not Werkzeug's, but a real sentence.
    assert exc.description
    assert exc.description != wz.default_exceptions[code].description
    assert match[4] == exc.description.replace("'", "&#39;").replace('"', "&#34;")
    assert exc.get_headers() == [("Content-Type", "text/html; charset=utf-8")]


@pytest.mark.parametrize("code", ALL_CODES)
def test_same_page_as_werkzeug_for_a_given_description(code: int) -> None:
    desc = "Line <one> & 'two'\nline \"three\""
    ours = ex.default_exceptions[code](description=desc)
    theirs = wz.default_exceptions[code](description=desc)
    assert ours.get_body() == theirs.get_body()
    assert ours.get_description() == theirs.get_description()
    assert str(ours) == str(theirs)
    assert repr(ours) == repr(theirs)
    assert ours.get_headers() == theirs.get_headers()


@given(desc=st.text(max_size=80))
def test_page_matches_werkzeug_for_any_description(desc: str) -> None:
    assert ex.NotFound(desc).get_body() == wz.NotFound(desc).get_body()
    assert ex.ImATeapot(desc).get_body() == wz.ImATeapot(desc).get_body()


def test_subclasses_of_bad_request() -> None:
    for cls in (ex.SecurityError, ex.BadHost, ex.ClientDisconnected):
        exc = cls()
        assert isinstance(exc, ex.BadRequest)
        assert exc.code == 400
        assert exc.description == ex.BadRequest.description
    assert ex.default_exceptions[400] is ex.BadRequest


def test_base_exception_without_code() -> None:
    exc = ex.HTTPException()
    assert exc.code is None
    assert exc.name == "Unknown Error"
    assert str(exc) == "??? Unknown Error: None"
    assert repr(exc) == "<HTTPException '???: Unknown Error'>"
    assert exc.get_description() == "<p></p>"
    assert exc.args == ()
    assert str(exc) == str(wz.HTTPException())
    assert repr(exc) == repr(wz.HTTPException())


def test_custom_subclass_with_unknown_code() -> None:
    class Weird(ex.HTTPException):
        code = 599

    assert Weird().name == "Unknown Error"
    assert (
        Weird("x")
        .get_body()
        .startswith("<!doctype html>\n<html lang=en>\n<title>599 Unknown Error</title>")
    )


def test_description_argument_overrides_class_default() -> None:
    exc = ex.NotFound("gone fishing")
    assert exc.description == "gone fishing"
    assert ex.NotFound.description != "gone fishing"
    assert str(exc) == "404 Not Found: gone fishing"
    assert repr(exc) == "<NotFound '404: Not Found'>"


# -- headers of the specialised classes ----------------------------------


def test_method_not_allowed_allow_header() -> None:
    exc = ex.MethodNotAllowed(["GET", "HEAD"], "nope")
    assert exc.valid_methods == ["GET", "HEAD"]
    assert exc.description == "nope"
    assert exc.get_headers() == [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Allow", "GET, HEAD"),
    ]
    assert exc.get_headers() == wz.MethodNotAllowed(["GET", "HEAD"]).get_headers()
    assert ex.MethodNotAllowed().get_headers() == wz.MethodNotAllowed().get_headers()
    assert (
        ex.MethodNotAllowed([]).get_headers() == wz.MethodNotAllowed([]).get_headers()
    )


def test_unauthorized_www_authenticate() -> None:
    ours = ex.Unauthorized(www_authenticate=WWWAuthenticate("basic", {"realm": "x"}))
    theirs = wz.Unauthorized(
        www_authenticate=WzWWWAuthenticate("basic", {"realm": "x"})
    )
    assert ours.get_headers() == theirs.get_headers()
    assert ours.get_headers()[-1] == ("WWW-Authenticate", "Basic realm=x")

    two = [WWWAuthenticate("basic"), WWWAuthenticate("bearer", token="t0k")]
    wz_two = [WzWWWAuthenticate("basic"), WzWWWAuthenticate("bearer", token="t0k")]
    assert (
        ex.Unauthorized(www_authenticate=two).get_headers()
        == wz.Unauthorized(www_authenticate=wz_two).get_headers()
    )
    assert ex.Unauthorized().get_headers() == wz.Unauthorized().get_headers()
    assert ex.Unauthorized().www_authenticate is None


def test_unauthorized_accepts_a_plain_string_challenge() -> None:
    # NOTE: Werkzeug would iterate the string character by character.
    exc = ex.Unauthorized(www_authenticate='Bearer realm="api"')
    assert exc.get_headers()[-1] == ("WWW-Authenticate", 'Bearer realm="api"')


def test_range_not_satisfiable_content_range() -> None:
    assert ex.RequestedRangeNotSatisfiable(100).get_headers()[-1] == (
        "Content-Range",
        "bytes */100",
    )
    exc = ex.RequestedRangeNotSatisfiable(length=5, units="items", description="d")
    assert (
        exc.get_headers()
        == wz.RequestedRangeNotSatisfiable(length=5, units="items").get_headers()
    )
    assert exc.description == "d"
    assert len(ex.RequestedRangeNotSatisfiable().get_headers()) == 1
    assert ex.RequestedRangeNotSatisfiable(0).get_headers()[-1] == (
        "Content-Range",
        "bytes */0",
    )


@pytest.mark.parametrize("cls_name", ["TooManyRequests", "ServiceUnavailable"])
@pytest.mark.parametrize(
    "retry_after",
    [
        None,
        0,
        120,
        datetime(2024, 2, 29, 12, 30, 5),
        datetime(2024, 2, 29, 12, 30, 5, tzinfo=UTC),
        datetime(2024, 2, 29, 14, 30, 5, tzinfo=timezone(timedelta(hours=2))),
    ],
)
def test_retry_after(cls_name: str, retry_after: object) -> None:
    ours = getattr(ex, cls_name)(retry_after=retry_after)
    theirs = getattr(wz, cls_name)(retry_after=retry_after)
    assert ours.get_headers() == theirs.get_headers()
    assert ours.retry_after == retry_after


def test_retry_after_date_format() -> None:
    exc = ex.TooManyRequests(retry_after=datetime(2024, 2, 29, 12, 30, 5))
    assert exc.get_headers()[-1] == ("Retry-After", "Thu, 29 Feb 2024 12:30:05 GMT")


def test_internal_server_error_original_exception() -> None:
    cause = ZeroDivisionError("boom")
    exc = ex.InternalServerError(original_exception=cause)
    assert exc.original_exception is cause
    assert exc.code == 500
    assert ex.InternalServerError().original_exception is None
    assert ex.InternalServerError("x").description == "x"


# -- BadRequestKeyError and wrap ---------------------------------------------


def test_bad_request_key_error() -> None:
    exc = ex.BadRequestKeyError("name")
    assert isinstance(exc, KeyError)
    assert isinstance(exc, ex.BadRequest)
    assert exc.key == "name"
    assert exc.args == ("name",)
    assert exc.code == 400
    assert exc.description == ex.BadRequest.description
    exc.show_exception = True
    assert exc.description == f"{ex.BadRequest.description}\nKeyError: 'name'"
    assert "<br>KeyError: &#39;name&#39;</p>" in exc.get_body()

    bare = ex.BadRequestKeyError()
    assert bare.key is None
    assert bare.args == ()

    custom = ex.BadRequestKeyError("k", "custom text")
    assert custom.description == "custom text"
    custom.description = "changed"
    assert custom.description == "changed"

    with pytest.raises(KeyError):
        raise ex.BadRequestKeyError("x")


def test_bad_request_key_error_matches_werkzeug() -> None:
    for show in (False, True):
        ours = ex.BadRequestKeyError("k")
        theirs = wz.BadRequestKeyError("k")
        ours.show_exception = theirs.show_exception = show
        theirs.description = ours.description = "desc"
        assert ours.description == theirs.description
        assert ours.get_body() == theirs.get_body()
        assert ours.args == theirs.args


def test_wrap_builds_a_combined_class() -> None:
    wrapped = ex.NotFound.wrap(LookupError)
    assert wrapped.__name__ == wrapped.__qualname__ == "NotFoundLookupError"
    assert wrapped.__module__ == "erlen.exceptions"
    assert issubclass(wrapped, ex.NotFound)
    assert issubclass(wrapped, LookupError)
    exc = wrapped("missing")
    assert exc.args == ("missing",)
    assert exc.code == 404
    assert exc.description == ex.NotFound.description
    exc.show_exception = True  # type: ignore[attr-defined]
    assert exc.description == f"{ex.NotFound.description}\nLookupError: missing"
    exc.description = "other"
    exc.show_exception = False  # type: ignore[attr-defined]
    assert exc.description == "other"
    assert wrapped().args == ()
    assert wrapped(None, "d").description == "d"

    named = ex.BadRequest.wrap(ValueError, "Custom")
    assert named.__name__ == "Custom"
    assert isinstance(named("v"), ValueError)


def test_wrap_rejects_non_exception_classes() -> None:
    with pytest.raises(TypeError, match="expected an exception class"):
        ex.BadRequest.wrap(int)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="KeyError"):
        ex.BadRequest.wrap("KeyError")  # type: ignore[arg-type]


# -- get_response -------------------------------------------------------------


def test_get_response_builds_an_html_response() -> None:
    exc = ex.MethodNotAllowed(["GET"])
    response = exc.get_response()
    assert isinstance(response, Response)
    assert response.status == "405 METHOD NOT ALLOWED"
    assert response.headers["Allow"] == "GET"
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.get_data(as_text=True) == exc.get_body()
    assert response.content_length == len(exc.get_body().encode())
    theirs = wz.MethodNotAllowed(["GET"]).get_response()
    assert response.status == theirs.status
    # Same header names in the same order; the length differs with our wording.
    assert [k for k, _ in response.headers] == [k for k, _ in theirs.headers]
    same_text = ex.MethodNotAllowed(["GET"], "x").get_response()
    assert list(same_text.headers) == list(
        wz.MethodNotAllowed(["GET"], "x").get_response().headers
    )

    scope_response = ex.NotFound().get_response(scope={"type": "http"})
    assert scope_response.status_code == 404


def test_get_response_returns_the_given_response() -> None:
    given_response = Response("teapot", 418)
    exc = ex.HTTPException(response=given_response)
    assert exc.get_response() is given_response
    assert exc.response is given_response


# -- redirects ----------------------------------------------------------------


def test_request_redirect() -> None:
    exc = ex.RequestRedirect("http://example.com/a?b=<c>")
    assert isinstance(exc, ex.RoutingException)
    assert isinstance(exc, ex.HTTPException)
    assert exc.code == 308
    assert exc.new_url == "http://example.com/a?b=<c>"
    assert exc.description == exc.new_url
    assert exc.name == "Permanent Redirect"
    assert exc.get_headers() == [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Location", "http://example.com/a?b=<c>"),
    ]
    body = exc.get_body()
    assert '<a href="http://example.com/a?b=&lt;c&gt;">' in body
    assert body.startswith("<!doctype html>\n<html lang=en>\n<title>Redirecting...")
    response = exc.get_response()
    assert response.status == "308 PERMANENT REDIRECT"
    assert response.location == "http://example.com/a?b=<c>"
    theirs = WzRequestRedirect("http://example.com/a?b=<c>").get_response()
    assert response.status == theirs.status
    assert response.headers["Location"] == theirs.headers["Location"]
    assert response.mimetype == theirs.mimetype
    assert 308 not in ex.default_exceptions


def test_request_redirect_rejects_header_injection() -> None:
    with pytest.raises(ValueError, match="Location"):
        ex.RequestRedirect("/a\r\nSet-Cookie: x=1").get_response()


# -- abort and Aborter ------------------------------------------------------


@pytest.mark.parametrize("code", ALL_CODES)
def test_abort_raises_the_class_for_the_code(code: int) -> None:
    with pytest.raises(ex.default_exceptions[code]) as info:
        ex.abort(code)
    assert info.value.code == code


def test_abort_passes_arguments() -> None:
    with pytest.raises(ex.NotFound) as info:
        ex.abort(404, "not here")
    assert info.value.description == "not here"
    with pytest.raises(ex.MethodNotAllowed) as info2:
        ex.abort(405, valid_methods=["POST"])
    assert info2.value.valid_methods == ["POST"]


def test_abort_with_a_response() -> None:
    response = Response("custom", 400)
    with pytest.raises(ex.HTTPException) as info:
        ex.abort(response)
    assert info.value.response is response
    assert info.value.get_response() is response
    assert type(info.value) is ex.HTTPException


@pytest.mark.parametrize("bad", [999, 200, "404", None, 404.5, [404]])
def test_abort_unknown_code(bad: object) -> None:
    with pytest.raises(LookupError, match="no exception for"):
        ex.abort(bad)  # type: ignore[arg-type]


def test_abort_unknown_code_like_werkzeug() -> None:
    with pytest.raises(LookupError):
        wz.abort(999)
    with pytest.raises(LookupError):
        ex.abort(999)


def test_aborter_mapping_and_extra() -> None:
    class Custom(ex.HTTPException):
        code = 499
        description = "custom"

    aborter = ex.Aborter(extra={499: Custom})
    with pytest.raises(Custom):
        aborter(499)
    with pytest.raises(ex.NotFound):
        aborter(404)

    only = ex.Aborter(mapping={404: Custom})
    with pytest.raises(Custom):
        only(404)
    with pytest.raises(LookupError):
        only(500)
    assert only.mapping == {404: Custom}
    assert ex.Aborter().mapping == ex.default_exceptions
    assert ex.Aborter().mapping is not ex.default_exceptions
