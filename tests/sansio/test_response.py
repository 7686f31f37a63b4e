from __future__ import annotations

import io
import json
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from http import HTTPStatus

import pytest

from erlen.datastructures import ContentRange
from erlen.datastructures import ContentSecurityPolicy
from erlen.datastructures import Headers
from erlen.datastructures import WWWAuthenticate
from erlen.exceptions import RequestedRangeNotSatisfiable
from erlen.sansio.response import COEP
from erlen.sansio.response import COOP
from erlen.sansio.response import get_content_type
from erlen.sansio.response import Response
from erlen.sansio.response import ResponseStream

# -- construction -----------------------------------------------------------


def test_defaults() -> None:
    r = Response()
    assert r.status == "200 OK"
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert r.response == []
    assert r.get_data() == b""
    assert "Content-Length" not in r.headers
    assert r.direct_passthrough is False
    assert r.autocorrect_location_header is False
    assert r.max_cookie_size == 4093


def test_headers_object_is_used_as_is() -> None:
    headers = Headers([("X-A", "1")])
    r = Response("x", headers=headers)
    assert r.headers is headers
    assert headers["Content-Type"] == "text/plain; charset=utf-8"


def test_existing_content_type_header_is_kept() -> None:
    r = Response(headers={"content-type": "application/x-custom"})
    assert r.headers.getlist("Content-Type") == ["application/x-custom"]
    r = Response(headers={"content-type": "a/b"}, content_type="c/d")
    assert r.content_type == "c/d"


def test_subclass_without_default_mimetype() -> None:
    class Bare(Response):
        default_mimetype = None

    assert "Content-Type" not in Bare("x").headers
    assert Bare("x", mimetype="text/html").mimetype == "text/html"


def test_flask_style_subclass_default_mimetype() -> None:
    class Html(Response):
        default_mimetype = "text/html"

    assert Html("<p>").content_type == "text/html; charset=utf-8"


@pytest.mark.parametrize(
    ("mimetype", "expected"),
    [
        ("text/html", "text/html; charset=utf-8"),
        ("application/javascript", "application/javascript; charset=utf-8"),
        ("application/atom+xml", "application/atom+xml; charset=utf-8"),
        ("application/json", "application/json"),
        ("image/png", "image/png"),
    ],
)
def test_get_content_type(mimetype: str, expected: str) -> None:
    assert get_content_type(mimetype) == expected
    assert get_content_type("text/x", "latin-1") == "text/x; charset=latin-1"


# -- status ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "line", "code"),
    [
        (404, "404 NOT FOUND", 404),
        (HTTPStatus.NO_CONTENT, "204 NO CONTENT", 204),
        ("404", "404 NOT FOUND", 404),
        ("404 Gone Fishing", "404 Gone Fishing", 404),
        (" 418 ", "418 I'M A TEAPOT", 418),
        ("599", "599 UNKNOWN", 599),
        (599, "599 UNKNOWN", 599),
        ("200 tab\there", "200 tab\there", 200),
        ("200 ", "200 OK", 200),
    ],
)
def test_status_values(value: object, line: str, code: int) -> None:
    r = Response(status=value)  # type: ignore[arg-type]
    assert (r.status, r.status_code) == (line, code)
    # A str or bytes body with an int status takes the constructor's plain
    # path: the same status and headers as the general one.
    for body in ("x", b"x"):
        r = Response(body, status=value)  # type: ignore[arg-type]
        assert (r.status, r.status_code) == (line, code)
        assert r.headers.to_wsgi_list() == [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", "1"),
        ]
    r = Response()
    r.status_code = value  # type: ignore[assignment]
    assert (r.status, r.status_code) == (line, code)


@pytest.mark.parametrize(
    "value", [0, 99, 1000, -200, True, "", "abc", "20", "2000", "099", "4_04"]
)
def test_invalid_status_values(value: object) -> None:
    with pytest.raises(ValueError, match="status"):
        Response(status=value)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="status"):
        Response("x", status=value)  # type: ignore[arg-type]
    r = Response()
    with pytest.raises(ValueError, match="status"):
        r.status = value  # type: ignore[assignment]
    assert r.status == "200 OK"


@pytest.mark.parametrize("value", ["200 OK\r\nX-Injected: 1", "200 a\nb", "200 \x00"])
def test_status_rejects_control_characters(value: str) -> None:
    with pytest.raises(ValueError, match="control characters"):
        Response(status=value)


@pytest.mark.parametrize("value", [200.0, b"200", [200], object()])
def test_status_wrong_type(value: object) -> None:
    with pytest.raises(TypeError, match="must be an int, str or HTTPStatus"):
        Response(status=value)  # type: ignore[arg-type]


# -- body -------------------------------------------------------------------------


def test_set_data_and_data_property() -> None:
    r = Response()
    r.data = "héllo"
    assert r.response == ["héllo".encode()]
    assert r.headers["Content-Length"] == "6"
    assert r.data == "héllo".encode()
    assert r.get_data(as_text=True) == "héllo"
    r.set_data(bytearray(b"ab"))
    assert r.content_length == 2


def test_set_data_rejects_other_types() -> None:
    with pytest.raises(TypeError, match="received a int"):
        Response().set_data(5)  # type: ignore[arg-type]


def test_set_data_without_automatic_length() -> None:
    class NoLength(Response):
        automatically_set_content_length = False

    r = NoLength("abc")
    assert "Content-Length" not in r.headers
    assert r.get_wsgi_headers({"REQUEST_METHOD": "GET"}).get("Content-Length") is None


def test_streamed_body_is_buffered_once() -> None:
    closed = []

    def gen():  # type: ignore[no-untyped-def]
        try:
            yield "a"
            yield b"b"
        finally:
            closed.append(True)

    body = gen()
    r = Response(body)
    assert r.is_streamed
    assert not r.is_sequence
    assert repr(r) == "<Response streamed [200 OK]>"
    assert r.get_data() == b"ab"
    assert r.is_sequence
    assert r.response == [b"a", b"b"]
    assert repr(r) == "<Response 2 bytes [200 OK]>"
    r.close()
    assert closed == [True]


def test_likely_streamed_repr() -> None:
    class Sized:
        def __len__(self) -> int:
            return 1

        def __iter__(self):  # type: ignore[no-untyped-def]
            yield b"x"

    r = Response(Sized())
    assert not r.is_streamed
    assert repr(r) == "<Response likely-streamed [200 OK]>"


def test_iter_encoded_rejects_other_items() -> None:
    r = Response([b"a", 5])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="yielded a int"):
        r.get_data()


def test_direct_passthrough_refuses_buffering() -> None:
    r = Response(iter([b"a"]), direct_passthrough=True)
    with pytest.raises(RuntimeError, match="direct passthrough"):
        r.get_data()
    assert r.calculate_content_length() is None
    body = r.response
    assert r.get_app_iter({"REQUEST_METHOD": "GET"}) is body


def test_implicit_sequence_conversion_off() -> None:
    class Strict(Response):
        implicit_sequence_conversion = False

    r = Strict(iter([b"a"]))
    with pytest.raises(RuntimeError, match="make_sequence"):
        r.get_data()
    r.make_sequence()
    assert r.get_data() == b"a"
    r.make_sequence()  # already a sequence: no-op
    assert r.response == [b"a"]


def test_calculate_content_length_and_freeze() -> None:
    r = Response(iter(["ab", b"cd"]))
    assert r.calculate_content_length() == 4
    r = Response(("x", "yz"))
    r.freeze()
    assert r.response == [b"x", b"yz"]
    assert r.headers["Content-Length"] == "3"
    assert r.get_etag()[0] is not None


def test_close_hooks_and_context_manager() -> None:
    calls: list[str] = []
    r = Response(io.BytesIO(b"data"))

    @r.call_on_close
    def hook() -> None:
        calls.append("hook")

    assert hook.__name__ == "hook"
    with r as same:
        assert same is r
    assert calls == ["hook"]
    assert r.response.closed  # type: ignore[attr-defined]
    Response("plain").close()  # a list body has no close()


def test_close_hooks_are_per_response() -> None:
    calls: list[int] = []
    a, b = Response("a"), Response("b")
    a.call_on_close(lambda: calls.append(1))
    a.call_on_close(lambda: calls.append(2))
    a.close()
    b.close()
    assert calls == [1, 2]
    assert not b._on_close


def test_plain_body_constructor_options() -> None:
    r = Response("data", direct_passthrough=True)
    assert r.direct_passthrough is True
    assert Response("data").direct_passthrough is False
    assert r.headers.to_wsgi_list() == [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", "4"),
    ]

    class Passthrough(Response):
        direct_passthrough = True

    # A class default other than False: the constructor's argument wins.
    assert Passthrough("data").direct_passthrough is False
    assert Passthrough("data", direct_passthrough=True).direct_passthrough is True


# -- response.stream ---------------------------------------------------------


def test_response_stream() -> None:
    r = Response(("a",))
    stream = r.stream
    assert isinstance(stream, ResponseStream)
    assert r.stream is stream
    assert stream.mode == "wb+"
    assert stream.encoding == "utf-8"
    assert stream.write(b"bc") == 2
    assert "Content-Length" not in r.headers
    stream.writelines([b"d", "e"])
    assert stream.tell() == 5
    stream.flush()
    assert stream.isatty() is False
    assert r.get_data() == b"abcde"
    stream.close()
    assert stream.closed
    for call in (lambda: stream.write(b"x"), stream.flush, stream.isatty):
        with pytest.raises(ValueError, match="closed"):
            call()


# -- JSON ---------------------------------------------------------------------------


def test_json() -> None:
    r = Response(json.dumps({"a": [1, 2]}), mimetype="application/json")
    assert r.is_json
    assert r.json == {"a": [1, 2]}
    assert Response("{}", mimetype="application/problem+json").is_json
    plain = Response("[1]")
    assert not plain.is_json
    assert plain.json is None
    assert plain.get_json(force=True) == [1]
    bad = Response("{nope", mimetype="application/json")
    with pytest.raises(ValueError, match="Expecting"):
        bad.get_json()
    assert bad.get_json(silent=True) is None
    assert not Response(headers={"Content-Type": ""}, content_type="").is_json


# -- header attributes ---------------------------------------------------------


def test_descriptor_on_class_and_repr() -> None:
    prop = Response.__dict__["location"]
    assert Response.location is prop
    assert repr(prop) == "<header property Location>"
    assert Response.vary is Response.__dict__["vary"]
    assert (
        Response.content_security_policy is Response.__dict__["content_security_policy"]
    )
    assert "redirect" in (Response.location.__doc__ or "")


def test_plain_header_property_roundtrip() -> None:
    r = Response()
    assert r.location is None
    r.location = "/x"
    assert r.location == "/x"
    r.location = None
    assert "Location" not in r.headers
    r.content_length = 5
    assert r.content_length == 5
    del r.content_length
    assert r.content_length is None
    r.headers["Content-Length"] = "nope"
    assert r.content_length is None


def test_dates_are_aware_utc() -> None:
    r = Response()
    r.last_modified = datetime(2020, 5, 6, 7, 8, 9)
    assert r.headers["Last-Modified"] == "Wed, 06 May 2020 07:08:09 GMT"
    assert r.last_modified == datetime(2020, 5, 6, 7, 8, 9, tzinfo=UTC)
    r.age = timedelta(minutes=2)
    assert r.headers["Age"] == "120"
    assert r.age == timedelta(minutes=2)


def test_retry_after() -> None:
    r = Response()
    assert r.retry_after is None
    r.retry_after = 60
    got = r.retry_after
    assert got is not None
    assert 55 < (got - datetime.now(UTC)).total_seconds() <= 60
    r.retry_after = datetime(2030, 1, 1)
    assert r.headers["Retry-After"] == "Tue, 01 Jan 2030 00:00:00 GMT"
    assert r.retry_after == datetime(2030, 1, 1, tzinfo=UTC)
    r.retry_after = None
    assert "Retry-After" not in r.headers
    r.retry_after = None  # removing twice is fine


def test_header_sets() -> None:
    r = Response()
    vary = r.vary
    assert not vary
    vary.add("Accept")
    assert r.headers["Vary"] == "Accept"
    vary.discard("Accept")
    assert "Vary" not in r.headers
    r.allow = ["GET", "HEAD"]
    assert r.headers["Allow"] == "GET, HEAD"
    assert "get" in r.allow
    del r.allow
    assert "Allow" not in r.headers
    r.access_control_allow_methods = ["GET"]  # type: ignore[assignment]
    assert r.headers["Access-Control-Allow-Methods"] == "GET"
    assert list(r.access_control_allow_methods or ()) == ["GET"]


def test_mimetype_and_params() -> None:
    r = Response()
    assert r.mimetype == "text/plain"
    assert r.mimetype_params == {"charset": "utf-8"}
    r.mimetype = "application/json"
    assert r.content_type == "application/json"
    params = r.mimetype_params
    params["version"] = "2"
    assert r.content_type == "application/json; version=2"
    del r.content_type
    assert r.mimetype is None
    assert r.mimetype_params == {}


def test_cache_control_sync() -> None:
    r = Response()
    cc = r.cache_control
    cc.no_store = True
    assert r.headers["Cache-Control"] == "no-store"
    cc.no_store = False
    assert "Cache-Control" not in r.headers
    r.headers["Cache-Control"] = "max-age=10"
    assert r.cache_control.max_age == 10


def test_content_range() -> None:
    r = Response()
    rng = r.content_range
    assert not rng
    rng.set(0, 5, 10)
    assert r.headers["Content-Range"] == "bytes 0-4/10"
    assert r.content_range.stop == 5
    r.content_range.unset()
    assert "Content-Range" not in r.headers
    r.content_range = ContentRange("bytes", 1, 3, 9)
    assert r.headers["Content-Range"] == "bytes 1-2/9"
    r.content_range = None
    assert "Content-Range" not in r.headers


def test_content_security_policy() -> None:
    r = Response()
    csp = r.content_security_policy
    csp.default_src = "'self'"
    assert r.headers["Content-Security-Policy"] == "default-src 'self'"
    csp.default_src = None
    assert "Content-Security-Policy" not in r.headers
    policy = ContentSecurityPolicy()
    policy.img_src = "*"
    r.content_security_policy_report_only = policy
    assert r.headers["Content-Security-Policy-Report-Only"] == "img-src *"
    del r.content_security_policy_report_only
    assert "Content-Security-Policy-Report-Only" not in r.headers


def test_cross_origin_policies() -> None:
    r = Response()
    assert r.cross_origin_opener_policy is COOP.UNSAFE_NONE
    assert r.cross_origin_embedder_policy is COEP.UNSAFE_NONE
    r.cross_origin_opener_policy = COOP.SAME_ORIGIN
    r.cross_origin_embedder_policy = COEP.REQUIRE_CORP
    assert r.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert r.cross_origin_embedder_policy is COEP.REQUIRE_CORP


def test_cors_credentials() -> None:
    r = Response()
    assert r.access_control_allow_credentials is False
    r.access_control_allow_credentials = True
    assert r.headers["Access-Control-Allow-Credentials"] == "true"
    r.access_control_allow_credentials = None
    assert r.access_control_allow_credentials is False


def test_www_authenticate() -> None:
    r = Response()
    default = r.www_authenticate
    assert default.type == "basic"
    assert "WWW-Authenticate" not in r.headers
    default["realm"] = "here"
    assert r.headers["WWW-Authenticate"] == "Basic realm=here"
    r.www_authenticate = [WWWAuthenticate("basic"), WWWAuthenticate("bearer")]
    assert r.headers.getlist("WWW-Authenticate") == ["Basic", "Bearer"]
    single = WWWAuthenticate("digest", {"realm": "a"})
    r.www_authenticate = single
    assert r.headers.getlist("WWW-Authenticate") == ['Digest realm="a"']
    single["realm"] = "b"
    assert r.headers["WWW-Authenticate"] == 'Digest realm="b"'
    assert r.www_authenticate.realm == "b"
    r.www_authenticate = None
    assert "WWW-Authenticate" not in r.headers
    r.www_authenticate = single
    del r.www_authenticate
    assert "WWW-Authenticate" not in r.headers


def test_etag_helpers() -> None:
    r = Response("x")
    assert r.get_etag() == (None, None)
    r.set_etag("abc")
    assert r.headers["ETag"] == '"abc"'
    r.add_etag()
    assert r.get_etag() == ("abc", False)
    r.add_etag(overwrite=True, weak=True)
    tag, weak = r.get_etag()
    assert weak is True
    assert tag is not None
    assert tag != "abc"


# -- cookies and header injection -------------------------------------------


def test_set_and_delete_cookie() -> None:
    r = Response()
    r.set_cookie("session", "abc", httponly=True, samesite="Lax")
    r.delete_cookie("old")
    cookies = r.headers.getlist("Set-Cookie")
    assert cookies[0] == "session=abc; HttpOnly; Path=/; SameSite=Lax"
    assert cookies[1].startswith("old=; Expires=Thu, 01 Jan 1970 00:00:00 GMT;")
    assert "Max-Age=0" in cookies[1]


def test_set_cookie_goes_through_an_overridden_add() -> None:
    added: list[tuple[str, str]] = []

    class MyHeaders(Headers):
        def add(self, key: str, value: object, /, **kwargs: object) -> None:
            added.append((key, str(value)))
            super().add(key, value, **kwargs)

    r = Response("x", headers=MyHeaders())
    r.set_cookie("a", "b c")
    assert added == [("Set-Cookie", 'a="b c"; Path=/')]
    assert r.headers["Set-Cookie"] == 'a="b c"; Path=/'


def test_oversized_cookie_warns() -> None:
    r = Response()
    with pytest.warns(UserWarning, match="cookie"):
        r.set_cookie("big", "x" * 5000)

    class NoLimit(Response):
        max_cookie_size = 0

    NoLimit().set_cookie("big", "x" * 5000)  # no warning when disabled


@pytest.mark.parametrize("bad", ["a\r\nSet-Cookie: evil=1", "a\nb", "a\rb"])
def test_header_injection_is_rejected(bad: str) -> None:
    r = Response()
    with pytest.raises(ValueError, match="Location"):
        r.location = bad
    with pytest.raises(ValueError, match="X-Test"):
        r.headers["X-Test"] = bad
    with pytest.raises(ValueError, match="X-Test"):
        Response(headers={"X-Test": bad})
    with pytest.raises(ValueError, match="cookie path"):
        r.set_cookie("k", "v", path=bad)
    with pytest.raises(ValueError, match="cookie domain"):
        r.set_cookie("k", "v", domain=bad)
    with pytest.raises(ValueError, match="Content-Type"):
        Response(content_type=bad)
    with pytest.raises(ValueError, match="Content-Type"):
        r.mimetype = bad
    assert "Location" not in r.headers
    assert "Set-Cookie" not in r.headers


# -- conditional responses ---------------------------------------------------


class FakeRequest:
    def __init__(self, method: str, headers: dict[str, str]) -> None:
        self.method = method
        self.headers = Headers(headers)


def test_make_conditional_with_a_request_object() -> None:
    r = Response("hello world")
    r.set_etag("v1")
    assert r.make_conditional(FakeRequest("GET", {"If-None-Match": '"v1"'})) is r
    assert r.status_code == 304
    assert "Date" in r.headers

    r = Response("hello world")
    r.set_etag("v1")
    r.make_conditional(FakeRequest("GET", {"If-Match": '"v2"'}))
    assert r.status_code == 412

    r = Response("hello world")
    req = FakeRequest("HEAD", {"Range": "bytes=0-4"})
    r.make_conditional(req, accept_ranges=True, complete_length=11)
    assert r.status_code == 206
    assert r.headers["Content-Range"] == "bytes 0-4/11"
    assert r.get_data() == b"hello"
    assert b"".join(r.get_app_iter({"REQUEST_METHOD": "HEAD"})) == b""


def test_make_conditional_custom_unit_and_416() -> None:
    r = Response("abc")
    with pytest.raises(RequestedRangeNotSatisfiable) as info:
        r.make_conditional(
            {"REQUEST_METHOD": "GET", "HTTP_RANGE": "bytes=10-20"},
            accept_ranges="bytes",
            complete_length=3,
        )
    assert info.value.length == 3
    assert r.accept_ranges == "bytes"
    r = Response("abc")
    r.make_conditional(
        {"REQUEST_METHOD": "GET", "HTTP_RANGE": "bytes=0-1"},
        accept_ranges="none",
        complete_length=3,
    )
    assert r.headers["Accept-Ranges"] == "none"
    assert r.status_code == 206


def test_make_conditional_bad_arguments() -> None:
    with pytest.raises(ValueError, match="REQUEST_METHOD"):
        Response().make_conditional({"HTTP_RANGE": "bytes=0-1"})
    with pytest.raises(TypeError, match="received a str"):
        Response().make_conditional("GET")

    class NoHeaders:
        method = "GET"

    with pytest.raises(TypeError, match="received a NoHeaders"):
        Response().make_conditional(NoHeaders())


class CountingFile(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        block = super().read(size)
        self.bytes_read += len(block)
        return block


def test_range_on_a_seekable_file_reads_only_the_range() -> None:
    data = bytes(range(256)) * 1024  # 256 KiB
    body = CountingFile(data)
    r = Response(body)
    r.make_conditional(
        {"REQUEST_METHOD": "GET", "HTTP_RANGE": "bytes=200000-200099"},
        accept_ranges=True,
        complete_length=len(data),
    )
    assert r.status_code == 206
    assert r.content_length == 100
    assert b"".join(r.get_app_iter({"REQUEST_METHOD": "GET"})) == data[200000:200100]
    assert body.bytes_read == 100
    r.close()
    assert body.closed


def test_range_on_a_big_file_reads_in_blocks() -> None:
    data = b"z" * (200 * 1024)
    r = Response(io.BytesIO(data))
    r.make_conditional(
        {"REQUEST_METHOD": "GET", "HTTP_RANGE": "bytes=1-"},
        accept_ranges=True,
        complete_length=len(data),
    )
    chunks = list(r.get_app_iter({"REQUEST_METHOD": "GET"}))
    assert len(chunks) == 4
    assert b"".join(chunks) == data[1:]


def test_range_on_a_file_shorter_than_announced() -> None:
    r = Response(io.BytesIO(b"short"))
    r.make_conditional(
        {"REQUEST_METHOD": "GET", "HTTP_RANGE": "bytes=2-50"},
        accept_ranges=True,
        complete_length=100,
    )
    assert r.get_data() == b"ort"
    r = Response(iter([b"sh", b"ort"]))
    r.make_conditional(
        {"REQUEST_METHOD": "GET", "HTTP_RANGE": "bytes=1-50"},
        accept_ranges=True,
        complete_length=100,
    )
    assert r.get_data() == b"hort"


def test_range_on_a_str_iterable_and_closing() -> None:
    closed = []

    class Body:
        def __iter__(self):  # type: ignore[no-untyped-def]
            yield "ab"
            yield ""
            yield "cdé"
            yield "fg"

        def close(self) -> None:
            closed.append(True)

    r = Response(Body())
    r.make_conditional(
        {"REQUEST_METHOD": "GET", "HTTP_RANGE": "bytes=1-4"},
        accept_ranges=True,
        complete_length=8,
    )
    assert r.get_data() == "bcdé".encode()[:4]
    r.close()
    # Buffering registered the range iterator's close, which closes the body.
    assert closed == [True]


def test_range_iterator_without_close() -> None:
    r = Response([b"abcdef"])
    r.make_conditional(
        {"REQUEST_METHOD": "GET", "HTTP_RANGE": "bytes=2-3"},
        accept_ranges=True,
        complete_length=6,
    )
    assert list(r.get_app_iter({"REQUEST_METHOD": "GET"})) == [b"cd"]
    r.close()


# -- WSGI hand-over and force_type ---------------------------------------------


def test_get_wsgi_headers_autocorrect_location() -> None:
    class Absolute(Response):
        autocorrect_location_header = True

    environ = {
        "REQUEST_METHOD": "GET",
        "wsgi.url_scheme": "https",
        "HTTP_HOST": "example.com",
        "SCRIPT_NAME": "/app",
        "PATH_INFO": "/a/b",
    }
    r = Absolute("", 302, {"Location": "../c?x=ü"})
    assert (
        r.get_wsgi_headers(environ)["Location"] == "https://example.com/app/c?x=%C3%BC"
    )
    assert r.headers["Location"] == "../c?x=ü"

    for port, expected in (("8443", "https://srv:8443/x"), ("443", "https://srv/x")):
        environ = {
            "wsgi.url_scheme": "https",
            "SERVER_NAME": "srv",
            "SERVER_PORT": port,
        }
        assert (
            Absolute("", 302, {"Location": "x"}).get_wsgi_headers(environ)["Location"]
            == expected
        )
    assert (
        Absolute("", 302, {"Location": "x"}).get_wsgi_headers({})["Location"]
        == "http://localhost/x"
    )

    plain = Response("", 302, {"Location": "/ü"})
    assert plain.get_wsgi_headers({})["Location"] == "/%C3%BC"


def test_get_wsgi_headers_keeps_an_explicit_length() -> None:
    r = Response([b"abc"], headers={"Content-Length": "3"})
    headers = r.get_wsgi_headers({"REQUEST_METHOD": "GET"})
    assert headers.getlist("Content-Length") == ["3"]
    streamed = Response(iter([b"abc"]))
    assert "Content-Length" not in streamed.get_wsgi_headers({})


def test_get_wsgi_headers_finds_special_names_in_any_case() -> None:
    environ = {"REQUEST_METHOD": "GET"}
    # Names of the special names' lengths that are not them.
    r = Response(
        [b"abc"], headers=[("X-Abcdefghijkl", "1"), ("X-Abcdef", "2"), ("x", "3")]
    )
    assert r.get_wsgi_headers(environ).to_wsgi_list()[-1] == ("Content-Length", "3")
    r = Response([b"abc"], headers=[("content-LENGTH", "7")])
    assert r.get_wsgi_headers(environ).getlist("Content-Length") == ["7"]
    for name in ("LOCATION", "content-location"):
        r = Response([b"abc"], headers=[(name, "/\u00fc")])
        assert r.get_wsgi_headers(environ)[name] == "/%C3%BC"


def test_get_wsgi_response_shapes() -> None:
    r = Response("hi", 201)
    body, status, headers = r.get_wsgi_response({"REQUEST_METHOD": "GET"})
    assert status == "201 CREATED"
    assert list(body) == [b"hi"]
    assert headers == [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", "2"),
    ]
    assert list(Response("x", 204).get_app_iter({"REQUEST_METHOD": "GET"})) == []
    assert list(Response("x", 100).get_app_iter({"REQUEST_METHOD": "GET"})) == []


def test_force_type() -> None:
    class Mine(Response):
        pass

    r = Response("x")
    converted = Mine.force_type(r)
    assert converted is r
    assert type(r) is Mine
    with pytest.raises(TypeError, match="WSGI driver"):
        Mine.force_type(lambda environ, start: [])  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [0, 1, 1023, 1024, 5000])
def test_content_length_of_plain_bodies(size: int) -> None:
    # Small lengths come from a table, larger ones are converted.
    for body in (b"x" * size, "x" * size):
        response = Response(body)
        assert response.headers["Content-Length"] == str(size)
