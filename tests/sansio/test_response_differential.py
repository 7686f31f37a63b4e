"""Differential tests: erlen's Response against werkzeug.wrappers.Response."""

from __future__ import annotations

import io
import typing as t
from datetime import datetime
from datetime import timedelta
from http import HTTPStatus

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.exceptions import RequestedRangeNotSatisfiable as WzRangeError
from werkzeug.wrappers import Response as WzResponse

from erlen.exceptions import RequestedRangeNotSatisfiable
from erlen.sansio.response import Response

FIXED_DATE = "Wed, 21 Oct 2015 07:28:00 GMT"
LAST_MODIFIED = "Tue, 20 Oct 2015 07:28:00 GMT"
BODY = b"0123456789abcdefghij"


def both(*args: t.Any, **kwargs: t.Any) -> tuple[Response, WzResponse]:
    return Response(*args, **kwargs), WzResponse(*args, **kwargs)


def same(ours: Response, theirs: WzResponse, fold_case: bool = False) -> None:
    assert ours.status == theirs.status
    assert ours.status_code == theirs.status_code
    if fold_case:
        assert list(ours.headers.items(lower=True)) == list(
            theirs.headers.items(lower=True)
        )
    else:
        assert list(ours.headers) == list(theirs.headers)
    assert ours.get_data() == theirs.get_data()


# -- construction and status ----------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"response": "héllo"},
        {"response": b"bytes"},
        {"response": bytearray(b"ba")},
        {"response": ["a", b"b"]},
        {"response": ("x", "y")},
        {"status": 404},
        {"status": HTTPStatus.IM_A_TEAPOT},
        {"status": "404"},
        {"status": " 201 "},
        {"status": "299 Custom Thing"},
        {"status": "404 not found"},
        {"status": "599"},
        {"status": 599},
        {"status": "200  Two Spaces"},
        {"mimetype": "text/html"},
        {"mimetype": "application/json"},
        {"mimetype": "application/xml"},
        {"mimetype": "image/svg+xml"},
        {"content_type": "text/csv"},
        {"content_type": "text/html; charset=latin-1", "mimetype": "x/y"},
        {"headers": {"X-A": "1"}},
        {"headers": [("X-A", "1"), ("X-A", "2")]},
        {"headers": {"Content-Type": "application/octet-stream"}},
        {"headers": {"content-type": "a/b"}, "mimetype": "text/html"},
        {"headers": {"X-List": ["a", "b"]}},
    ],
)
def test_construction(kwargs: dict[str, t.Any]) -> None:
    same(*both(**kwargs))


@pytest.mark.parametrize(
    "value", [200, 404, 999, 100, "418", "418 Teapot", HTTPStatus.CREATED, " 302"]
)
def test_status_setters(value: t.Any) -> None:
    ours, theirs = both("x")
    ours.status = theirs.status = value
    same(ours, theirs)
    ours, theirs = both("x")
    ours.status_code = theirs.status_code = value
    same(ours, theirs)


@given(
    code=st.integers(100, 999),
    reason=st.one_of(
        st.none(), st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E))
    ),
)
def test_status_generated(code: int, reason: str | None) -> None:
    value = str(code) if reason is None else f"{code} {reason}"
    ours, theirs = both(status=value)
    assert ours.status == theirs.status
    assert ours.status_code == theirs.status_code
    ours, theirs = both(status=code)
    assert ours.status == theirs.status


@given(
    chunks=st.lists(st.one_of(st.binary(max_size=20), st.text(max_size=20)), max_size=6)
)
def test_body_forms(chunks: list[bytes | str]) -> None:
    ours, theirs = Response(iter(chunks)), WzResponse(iter(chunks))
    assert ours.is_streamed == theirs.is_streamed
    assert ours.get_data() == theirs.get_data()
    assert ours.calculate_content_length() == theirs.calculate_content_length()
    ours, theirs = both(list(chunks))
    assert ours.is_sequence == theirs.is_sequence
    ours.freeze()
    theirs.freeze()
    same(ours, theirs)


# -- header attributes ------------------------------------------------------------


SETTERS: list[tuple[str, t.Any]] = [
    ("location", "/a/b?c=d"),
    ("location", "http://example.com/ü"),
    ("content_type", "application/x-thing; a=b"),
    ("mimetype", "text/html"),
    ("mimetype", "application/octet-stream"),
    ("content_length", 42),
    ("content_location", "/loc"),
    ("content_encoding", "gzip"),
    ("content_md5", "Q2hlY2sgSW50ZWdyaXR5IQ=="),
    ("age", timedelta(seconds=60)),
    ("age", 30),
    ("date", datetime(2020, 1, 2, 3, 4, 5)),
    ("expires", datetime(2021, 1, 2, 3, 4, 5)),
    ("expires", 0),
    ("last_modified", datetime(2019, 1, 2, 3, 4, 5)),
    ("retry_after", 120),
    ("retry_after", datetime(2022, 1, 2, 3, 4, 5)),
    ("retry_after", "Wed, 21 Oct 2015 07:28:00 GMT"),
    ("vary", ["Accept", "Cookie"]),
    ("vary", "Accept-Encoding"),
    ("vary", ""),
    ("content_language", ["de", "en"]),
    ("allow", ["GET", "POST"]),
    ("allow", []),
    ("accept_ranges", "bytes"),
    ("content_range", "bytes 0-9/100"),
    ("content_range", ""),
    ("content_security_policy", "default-src 'self'; img-src *"),
    ("content_security_policy", None),
    ("content_security_policy_report_only", "default-src 'none'"),
    ("access_control_allow_credentials", True),
    ("access_control_allow_credentials", False),
    ("access_control_allow_headers", ["X-A", "X-B"]),
    ("access_control_allow_methods", ["GET", "PUT"]),
    ("access_control_allow_origin", "*"),
    ("access_control_expose_headers", ["X-Total"]),
    ("access_control_max_age", 600),
]


@pytest.mark.parametrize(("attr", "value"), SETTERS)
def test_header_setters(attr: str, value: t.Any) -> None:
    ours, theirs = both("body", headers={"Content-Range": "bytes 1-2/3"})
    setattr(ours, attr, value)
    setattr(theirs, attr, value)
    # NOTE: Werkzeug spells it "Content-Security-policy-report-only"; we use
    # the registered casing. Header names compare case-insensitively.
    same(ours, theirs, fold_case=attr == "content_security_policy_report_only")
    got, expected = getattr(ours, attr), getattr(theirs, attr)
    if attr == "retry_after" and isinstance(value, int):
        assert abs((got - expected).total_seconds()) < 5
    elif attr in {
        "vary",
        "allow",
        "content_language",
        "access_control_allow_headers",
        "access_control_allow_methods",
        "access_control_expose_headers",
    }:
        assert list(got) == list(expected)
    elif attr.startswith("content_security_policy"):
        assert dict(got) == dict(expected)
    elif attr == "content_range":
        assert got.to_header() == expected.to_header()
    else:
        assert got == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Content-Length", "abc"),
        ("Content-Length", "12"),
        ("Age", "-5"),
        ("Age", "x"),
        ("Date", "garbage"),
        ("Expires", FIXED_DATE),
        ("Last-Modified", LAST_MODIFIED),
        ("Access-Control-Max-Age", "soon"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Cross-Origin-Opener-Policy", "bogus"),
        ("Cross-Origin-Embedder-Policy", "require-corp"),
        ("Retry-After", FIXED_DATE),
        ("Retry-After", "nonsense"),
        ("Content-Type", "text/html; charset=utf-8; q=1"),
        ("Vary", "Accept, Cookie"),
    ],
)
def test_header_getters(name: str, value: str) -> None:
    ours, theirs = both(headers={name: value})
    for attr in (
        "content_length",
        "age",
        "date",
        "expires",
        "last_modified",
        "access_control_max_age",
        "mimetype",
        "mimetype_params",
        "content_type",
    ):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert (
        ours.cross_origin_opener_policy.value == theirs.cross_origin_opener_policy.value
    )
    assert (
        ours.cross_origin_embedder_policy.value
        == theirs.cross_origin_embedder_policy.value
    )
    assert list(ours.vary) == list(theirs.vary)
    if name == "Retry-After":
        assert ours.retry_after == theirs.retry_after


def test_mutable_header_objects() -> None:
    ours, theirs = both()
    for r in (ours, theirs):
        r.cache_control.max_age = 60
        r.cache_control.public = True
        r.vary.add("Accept")
        r.vary.add("Cookie")
        r.mimetype_params["charset"] = "latin-1"
        r.content_security_policy.default_src = "'self'"
        r.content_range.set(0, 10, 100)
    same(ours, theirs)
    for r in (ours, theirs):
        r.cache_control.max_age = None
        r.cache_control.public = False
        r.vary.clear()
        r.content_security_policy.default_src = None
        r.content_range.unset()
    same(ours, theirs)


def test_cookies() -> None:
    ours, theirs = both()
    for r in (ours, theirs):
        r.set_cookie("a", "b")
        r.set_cookie(
            "c",
            "d e",
            max_age=60,
            expires=datetime(2030, 1, 1),
            path="/p",
            domain="example.com",
            secure=True,
            httponly=True,
            samesite="Lax",
            partitioned=True,
        )
        r.delete_cookie("old", path="/x", domain="example.com", samesite="Strict")
    same(ours, theirs)


def test_etags() -> None:
    ours, theirs = both("payload")
    for r in (ours, theirs):
        r.add_etag()
    same(ours, theirs)
    assert ours.get_etag() == theirs.get_etag()
    for r in (ours, theirs):
        r.add_etag()  # already set: unchanged
        r.set_etag("v1", weak=True)
    same(ours, theirs)
    assert ours.get_etag() == theirs.get_etag() == ("v1", True)
    for r in (ours, theirs):
        r.add_etag(overwrite=True, weak=True)
    same(ours, theirs)


# -- WSGI hand-over -------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 101, 204, 304, 404])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_get_wsgi_response(status: int, method: str) -> None:
    headers = {
        "Location": "/ü/x",
        "Content-Location": "/é",
        "Expires": FIXED_DATE,
        "Last-Modified": LAST_MODIFIED,
        "Allow": "GET",
    }
    environ = {"REQUEST_METHOD": method}
    ours, theirs = both("body", status, headers)
    ours.headers.remove("Content-Length")
    theirs.headers.remove("Content-Length")
    o_iter, o_status, o_headers = ours.get_wsgi_response(environ)
    t_iter, t_status, t_headers = theirs.get_wsgi_response(environ)
    assert o_status == t_status
    assert o_headers == t_headers
    assert b"".join(o_iter) == b"".join(t_iter)


# -- make_conditional -------------------------------------------------------------


ETAG_VALUES = [None, '"abc"', 'W/"abc"', '"zzz"', "*", '"abc", "def"', "garbage"]
DATE_VALUES = [None, LAST_MODIFIED, FIXED_DATE, "Mon, 19 Oct 2015 07:28:00 GMT", "x"]
RANGE_VALUES = [
    None,
    "bytes=0-4",
    "bytes=5-",
    "bytes=-3",
    "bytes=15-100",
    "bytes=0-0",
    "bytes=25-30",
    "bytes=0-1,3-4",
    "items=0-1",
    "bytes=4-2",
    "",
    "garbage",
]
IF_RANGE_VALUES = [None, '"abc"', '"zzz"', LAST_MODIFIED, FIXED_DATE, 'W/"abc"']


def run_conditional(
    request_headers: dict[str, str],
    *,
    method: str = "GET",
    etag: str | None = "abc",
    last_modified: str | None = LAST_MODIFIED,
    accept_ranges: bool | str = True,
    complete_length: int | None = len(BODY),
    body_factory: t.Callable[[], t.Any] = lambda: [BODY],
    direct_passthrough: bool = False,
) -> None:
    environ = {"REQUEST_METHOD": method}
    for name, value in request_headers.items():
        environ[f"HTTP_{name.upper().replace('-', '_')}"] = value
    results = []
    for cls, error in (
        (Response, RequestedRangeNotSatisfiable),
        (WzResponse, WzRangeError),
    ):
        response = cls(body_factory(), direct_passthrough=direct_passthrough)
        response.headers["Date"] = FIXED_DATE
        if etag is not None:
            response.set_etag(etag)
        if last_modified is not None:
            response.headers["Last-Modified"] = last_modified
        try:
            response.make_conditional(
                environ, accept_ranges=accept_ranges, complete_length=complete_length
            )
        except error as exc:
            results.append(("error", exc.code, exc.get_headers()[1:]))
            continue
        results.append(
            (
                response.status,
                list(response.headers),
                b"".join(response.get_app_iter(environ)),
                response.get_wsgi_response(environ)[2],
            )
        )
    assert results[0] == results[1]


@pytest.mark.parametrize("if_none_match", ETAG_VALUES)
@pytest.mark.parametrize("if_modified_since", DATE_VALUES)
def test_conditional_get_matrix(
    if_none_match: str | None, if_modified_since: str | None
) -> None:
    headers = {}
    if if_none_match is not None:
        headers["If-None-Match"] = if_none_match
    if if_modified_since is not None:
        headers["If-Modified-Since"] = if_modified_since
    run_conditional(headers)
    run_conditional(headers, method="HEAD")
    run_conditional(headers, etag=None)
    run_conditional(headers, last_modified=None)


@pytest.mark.parametrize("if_match", ETAG_VALUES)
@pytest.mark.parametrize("if_unmodified_since", DATE_VALUES)
def test_conditional_match_matrix(
    if_match: str | None, if_unmodified_since: str | None
) -> None:
    headers = {}
    if if_match is not None:
        headers["If-Match"] = if_match
    if if_unmodified_since is not None:
        headers["If-Unmodified-Since"] = if_unmodified_since
    run_conditional(headers)
    run_conditional(dict(headers, **{"If-None-Match": '"abc"'}))


@pytest.mark.parametrize("range_value", RANGE_VALUES)
@pytest.mark.parametrize("if_range", IF_RANGE_VALUES)
def test_range_matrix(range_value: str | None, if_range: str | None) -> None:
    headers = {}
    if range_value is not None:
        headers["Range"] = range_value
    if if_range is not None:
        headers["If-Range"] = if_range
    run_conditional(headers)
    run_conditional(headers, accept_ranges="bytes")
    run_conditional(headers, accept_ranges=False)
    run_conditional(headers, complete_length=None)
    run_conditional(headers, body_factory=lambda: iter([BODY[:7], BODY[7:]]))
    run_conditional(headers, body_factory=lambda: io.BytesIO(BODY))


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_conditional_ignores_other_methods(method: str) -> None:
    run_conditional({"If-None-Match": '"abc"', "Range": "bytes=0-1"}, method=method)


def test_conditional_direct_passthrough() -> None:
    run_conditional({}, body_factory=lambda: iter([BODY]), direct_passthrough=True)
    run_conditional(
        {"If-None-Match": '"abc"'},
        body_factory=lambda: iter([BODY]),
        direct_passthrough=True,
    )


header_value = st.one_of(st.none(), st.sampled_from(ETAG_VALUES[1:]))
date_value = st.one_of(st.none(), st.sampled_from(DATE_VALUES[1:]))


@st.composite
def range_header(draw: st.DrawFn) -> str | None:
    kind = draw(st.integers(0, 4))
    a = draw(st.integers(0, 30))
    b = draw(st.integers(0, 30))
    if kind == 0:
        return None
    if kind == 1:
        return f"bytes={a}-{b}"
    if kind == 2:
        return f"bytes={a}-"
    if kind == 3:
        return f"bytes=-{b}"
    return f"bytes={a}-{b},{b}-{a}"


@given(
    if_none_match=header_value,
    if_match=header_value,
    if_modified_since=date_value,
    if_unmodified_since=date_value,
    range_value=range_header(),
    if_range=st.one_of(st.none(), st.sampled_from(IF_RANGE_VALUES[1:])),
    method=st.sampled_from(["GET", "HEAD", "POST"]),
    etag=st.sampled_from([None, "abc", "def"]),
    last_modified=st.sampled_from([None, LAST_MODIFIED, FIXED_DATE]),
    accept_ranges=st.sampled_from([False, True, "bytes"]),
    complete_length=st.sampled_from([None, 0, len(BODY), 5]),
    body_kind=st.sampled_from(["list", "iter", "file"]),
)
def test_conditional_generated(
    if_none_match: str | None,
    if_match: str | None,
    if_modified_since: str | None,
    if_unmodified_since: str | None,
    range_value: str | None,
    if_range: str | None,
    method: str,
    etag: str | None,
    last_modified: str | None,
    accept_ranges: bool | str,
    complete_length: int | None,
    body_kind: str,
) -> None:
    values = {
        "If-None-Match": if_none_match,
        "If-Match": if_match,
        "If-Modified-Since": if_modified_since,
        "If-Unmodified-Since": if_unmodified_since,
        "Range": range_value,
        "If-Range": if_range,
    }
    factories: dict[str, t.Callable[[], t.Any]] = {
        "list": lambda: [BODY],
        "iter": lambda: iter([BODY[:3], BODY[3:11], BODY[11:]]),
        "file": lambda: io.BytesIO(BODY),
    }
    run_conditional(
        {k: v for k, v in values.items() if v is not None},
        method=method,
        etag=etag,
        last_modified=last_modified,
        accept_ranges=accept_ranges,
        complete_length=complete_length,
        body_factory=factories[body_kind],
    )
