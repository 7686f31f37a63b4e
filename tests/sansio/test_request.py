from __future__ import annotations

import io
import typing as t
from datetime import datetime
from datetime import UTC

import pytest
from hypothesis import given
from hypothesis import strategies as st

from erlen.datastructures import CombinedMultiDict
from erlen.datastructures import FileStorage
from erlen.datastructures import Headers
from erlen.datastructures import ImmutableList
from erlen.datastructures import ImmutableMultiDict
from erlen.datastructures import MultiDict
from erlen.exceptions import BadRequest
from erlen.exceptions import BadRequestKeyError
from erlen.exceptions import ClientDisconnected
from erlen.exceptions import HTTPException
from erlen.exceptions import RequestEntityTooLarge
from erlen.exceptions import SecurityError
from erlen.exceptions import UnsupportedMediaType
from erlen.sansio._json import check_json_depth
from erlen.sansio._json import json_depth
from erlen.sansio._json import JSONDepthError
from erlen.sansio._stream import LimitedStream
from erlen.sansio.formparser import FormDataParser
from erlen.sansio.request import Request
from erlen.sansio.user_agent import UserAgent

from .test_multipart import BOUNDARY
from .test_multipart import encode

MP = f"multipart/form-data; boundary={BOUNDARY.decode()}"


def make(
    method: str = "GET",
    path: str = "/",
    query: bytes = b"",
    headers: t.Any = None,
    body: bytes | None = None,
    *,
    scheme: str = "http",
    server: tuple[str, int | None] | None = ("localhost", 80),
    root_path: str = "",
    remote_addr: str | None = "127.0.0.1",
    input_terminated: bool = False,
    content_length: bool = True,
    **attrs: t.Any,
) -> Request:
    h = Headers(headers or [])
    if body is not None and content_length and "Content-Length" not in h:
        h["Content-Length"] = str(len(body))
    r = Request(
        method,
        scheme,
        server,
        root_path,
        path,
        query,
        h,
        remote_addr,
        stream=None if body is None else io.BytesIO(body),
        input_terminated=input_terminated,
    )
    for key, value in attrs.items():
        setattr(r, key, value)
    return r


# URL and environment pieces ---------------------------------------------------


def test_basic_values() -> None:
    r = make(
        "post",
        "//a/b",
        b"x=1&y=2",
        root_path="/app/",
        scheme="https",
        server=("example.com", 443),
        headers={"Host": "example.com"},
    )
    assert r.method == "POST"
    assert r.path == "/a/b"
    assert r.root_path == r.script_root == "/app"
    assert r.full_path == "/a/b?x=1&y=2"
    assert r.url == "https://example.com/app/a/b?x=1&y=2"
    assert r.base_url == "https://example.com/app/a/b"
    assert r.root_url == r.url_root == "https://example.com/app/"
    assert r.host_url == "https://example.com/"
    assert r.is_secure
    assert repr(r) == "<Request 'https://example.com/app/a/b?x=1&y=2' [POST]>"


def test_url_quoting_and_iri() -> None:
    r = make(path="/\u00fc n/%2F", query=b"q=%C3%A9 x")
    assert r.url == "http://localhost/\u00fc%20n/%2F?q=\u00e9%20x"


@pytest.mark.parametrize(
    ("scheme", "host_header", "server", "expected"),
    [
        ("http", "example.com:80", None, "example.com"),
        ("https", "example.com:443", None, "example.com"),
        ("wss", "example.com:443", None, "example.com"),
        ("ws", "example.com:80", None, "example.com"),
        ("http", "example.com:8080", None, "example.com:8080"),
        ("http", None, ("example.com", 8080), "example.com:8080"),
        ("http", None, ("::1", 8080), "[::1]:8080"),
        ("http", None, ("[::1]", 8080), "[::1]:8080"),
        ("http", None, ("/tmp/sock", None), ""),
        ("http", None, None, ""),
        ("http", "bad host", None, ""),
        ("http", "evil.com/path", None, ""),
        ("http", "a_b:5000", None, ""),
        ("http", "example.com:99999", None, ""),
        ("http", "[::1]:8000", None, "[::1]:8000"),
    ],
)
def test_host(
    scheme: str, host_header: str | None, server: t.Any, expected: str
) -> None:
    headers = {} if host_header is None else {"Host": host_header}
    assert make(scheme=scheme, headers=headers, server=server).host == expected


def test_trusted_hosts() -> None:
    ok = ["example.com", ".sub.org", "\u2603.net:80"]
    assert (
        make(headers={"Host": "example.com:8000"}, trusted_hosts=ok).host
        == "example.com:8000"
    )
    assert make(headers={"Host": "EXAMPLE.com"}, trusted_hosts=ok).host == "EXAMPLE.com"
    assert make(headers={"Host": "a.sub.org"}, trusted_hosts=ok).host == "a.sub.org"
    assert make(headers={"Host": "sub.org"}, trusted_hosts=ok).host == "sub.org"
    assert make(headers={"Host": "xn--n3h.net"}, trusted_hosts=ok).host == "xn--n3h.net"
    assert make(headers={"Host": "example.com"}, trusted_hosts="example.com").host
    for bad in ["evil.com", "xsub.org", "bad host"]:
        with pytest.raises(SecurityError) as info:
            make(headers={"Host": bad}, trusted_hosts=ok).host  # noqa: B018
        assert info.value.code == 400
        assert "TRUSTED_HOSTS" in str(info.value.description)
    with pytest.raises(SecurityError):
        make(headers={"Host": "x.com"}, trusted_hosts=["\udcff"]).host  # noqa: B018


def test_repr_with_invalid_url() -> None:
    r = make(headers={"Host": "evil.com"}, trusted_hosts=["good.com"])
    assert "invalid URL" in repr(r)


def test_args_and_values() -> None:
    r = make(query=b"a=1&a=2&b=%FF&c")
    assert isinstance(r.args, ImmutableMultiDict)
    assert r.args.getlist("a") == ["1", "2"]
    assert r.args["b"] == "%FF"
    assert r.args.get("a", type=int) == 1
    with pytest.raises(BadRequestKeyError):
        r.args["missing"]
    assert isinstance(r.values, CombinedMultiDict)
    assert r.values.getlist("a") == ["1", "2"]


def test_values_for_get_ignores_form_and_post_includes_it() -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    r = make("GET", query=b"a=1", headers=headers, body=b"b=2")
    assert "b" not in r.values
    r = make("POST", query=b"a=1", headers=headers, body=b"b=2")
    assert r.values["a"] == "1"
    assert r.values["b"] == "2"
    r = make("HEAD", headers=headers, body=b"b=2")
    assert r.values["b"] == "2"


def test_values_converts_plain_dicts() -> None:
    class R(Request):
        parameter_storage_class = dict  # type: ignore[assignment]

    r = make(query=b"a=1")
    r.__class__ = R
    assert r.values["a"] == "1"


def test_client_values() -> None:
    r = make(headers={"X-Forwarded-For": "1.1.1.1, 2.2.2.2"})
    assert isinstance(r.access_route, ImmutableList)
    assert r.access_route == ["1.1.1.1", "2.2.2.2"]
    assert make().access_route == ["127.0.0.1"]
    assert make(remote_addr=None).access_route == []
    assert make().remote_addr == "127.0.0.1"


def test_cookies() -> None:
    h = Headers([("Cookie", "a=1; b=2"), ("Cookie", "a=3")])
    r = make(headers=h)
    assert isinstance(r.cookies, ImmutableMultiDict)
    assert r.cookies.getlist("a") == ["1", "3"]
    assert make().cookies == {}


COOKIE_HEADERS = [
    "",
    "a=1",
    "a=1; b=2; a=3",
    "b=2; a=1; b=3; b=4",
    "a = 1 ;  b\t=\t2",
    'a="with \\"escaped\\" quotes"; b',
    "a=1; bad cookie; c=3",
    "a=\xc3\xa9; b=\xe9",
    "a=" + "x" * 3000,
]


@pytest.mark.parametrize("header", COOKIE_HEADERS)
@pytest.mark.parametrize("repeat", [1, 2])
def test_cookies_match_parse_cookie(header: str, repeat: int) -> None:
    from erlen.http import parse_cookie

    expected = parse_cookie(header, cls=ImmutableMultiDict)
    for _ in range(repeat):
        cookies = make(headers=[("Cookie", header)]).cookies
        assert type(cookies) is ImmutableMultiDict
        assert list(cookies.lists()) == list(expected.lists())
        assert list(cookies.items(multi=True)) == list(expected.items(multi=True))
        assert cookies == expected


def test_cookies_of_a_cached_header_are_new_objects() -> None:
    from erlen import _cookies

    header = "k=v; k=w; z=1"
    first = make(headers=[("Cookie", header)]).cookies
    assert header in _cookies._parsed_headers
    second = make(headers=[("Cookie", header)]).cookies
    assert first is not second
    assert dict.__getitem__(first, "k") is not dict.__getitem__(second, "k")
    assert second.getlist("k") == ["v", "w"]
    with pytest.raises(TypeError):
        second["k"] = "x"


def test_long_cookie_headers_are_not_cached() -> None:
    from erlen import _cookies

    header = "a=" + "x" * _cookies._MAX_CACHED_HEADER
    assert make(headers=[("Cookie", header)]).cookies["a"] == "x" * (
        _cookies._MAX_CACHED_HEADER
    )
    assert header not in _cookies._parsed_headers


def test_cookies_with_another_storage_class() -> None:
    r = make(headers=[("Cookie", "a=1; a=2")], dict_storage_class=MultiDict)
    assert type(r.cookies) is MultiDict
    assert r.cookies.getlist("a") == ["1", "2"]


# Headers ------------------------------------------------------------------


def test_header_values() -> None:
    r = make(
        headers={
            "Content-Type": "Text/HTML; Charset=utf-8",
            "Content-Encoding": "gzip",
            "Content-MD5": "abc",
            "Referer": "http://ref/",
            "Origin": "http://origin",
            "Date": "Wed, 21 Oct 2015 07:28:00 GMT",
            "Max-Forwards": "5",
            "Pragma": "no-cache",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "X-A, X-B",
            "User-Agent": "curl/8",
            "Authorization": "Basic dXNlcjpwYXNz",
            "Accept": "text/html;q=0.9, application/json",
            "Accept-Charset": "utf-8",
            "Accept-Encoding": "gzip, br;q=0.5",
            "Accept-Language": "en-US, de;q=0.5",
            "Cache-Control": "no-cache, max-age=10",
            "If-Match": '"a", "b"',
            "If-None-Match": 'W/"c"',
            "If-Modified-Since": "Wed, 21 Oct 2015 07:28:00 GMT",
            "If-Unmodified-Since": "Wed, 21 Oct 2015 07:28:00 GMT",
            "If-Range": '"etag"',
            "Range": "bytes=0-99",
        }
    )
    when = datetime(2015, 10, 21, 7, 28, tzinfo=UTC)
    assert r.content_type == "Text/HTML; Charset=utf-8"
    assert r.mimetype == "text/html"
    assert r.mimetype_params == {"charset": "utf-8"}
    assert r.content_encoding == "gzip"
    assert r.content_md5 == "abc"
    assert r.referrer == "http://ref/"
    assert r.origin == "http://origin"
    assert r.date == when
    assert r.max_forwards == 5
    assert "no-cache" in r.pragma
    assert r.access_control_request_method == "PUT"
    assert r.access_control_request_headers is not None
    assert "x-a" in r.access_control_request_headers
    assert isinstance(r.user_agent, UserAgent)
    assert r.user_agent.string == str(r.user_agent) == "curl/8"
    assert r.user_agent.to_header() == "curl/8"
    assert not r.user_agent
    assert repr(r.user_agent) == "<UserAgent None/None>"
    assert r.authorization is not None
    assert r.authorization.username == "user"
    assert r.accept_mimetypes.best == "application/json"
    assert r.accept_charsets.best == "utf-8"
    assert r.accept_encodings["br"] == 0.5
    assert r.accept_languages.best == "en-US"
    assert r.cache_control.no_cache
    assert r.cache_control.max_age == 10
    assert "a" in r.if_match
    assert r.if_none_match.contains_weak("c")
    assert r.if_modified_since == when
    assert r.if_unmodified_since == when
    assert r.if_range.etag == "etag"
    assert r.range is not None
    assert r.range.ranges == [(0, 100)]


def test_missing_headers() -> None:
    r = make()
    assert r.content_type is None
    assert r.mimetype == ""
    assert r.mimetype_params == {}
    assert r.date is None
    assert r.max_forwards is None
    assert r.access_control_request_headers is None
    assert r.authorization is None
    assert r.range is None
    assert r.user_agent.string == ""
    assert r.content_length is None
    assert not r.is_json
    assert not r.is_secure


def test_bad_max_forwards() -> None:
    assert make(headers={"Max-Forwards": "x"}).max_forwards is None


class ParsingUA(UserAgent):
    def __init__(self, string: str) -> None:
        super().__init__(string)
        self.browser = string.split("/")[0] or None


def test_user_agent_class() -> None:
    r = make(headers={"User-Agent": "firefox/1"}, user_agent_class=ParsingUA)
    assert r.user_agent
    assert r.user_agent.browser == "firefox"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("10", 10), (" 7 ", 7), ("-3", 0), ("abc", 0), ("1_0", 0), ("+5", 0), ("", 0)],
)
def test_content_length(value: str, expected: int) -> None:
    assert make(headers={"Content-Length": value}).content_length == expected


def test_content_length_chunked() -> None:
    h = {"Content-Length": "10", "Transfer-Encoding": "gzip, chunked"}
    assert make(headers=h).content_length is None
    h = {"Content-Length": "10", "Transfer-Encoding": "gzip"}
    assert make(headers=h).content_length == 10


@pytest.mark.parametrize(
    ("mimetype", "expected"),
    [
        ("application/json", True),
        ("application/vnd.api+json", True),
        ("APPLICATION/JSON; charset=utf-8", True),
        ("text/json", False),
        ("text/x+json", False),
        ("application/jsonx", False),
    ],
)
def test_is_json(mimetype: str, expected: bool) -> None:
    assert make(headers={"Content-Type": mimetype}).is_json is expected


# Body ----------------------------------------------------------------------


def test_get_data_and_cache() -> None:
    r = make("POST", body=b"hello \xff")
    assert r.get_data(as_text=True) == "hello \ufffd"
    assert r.get_data() == b"hello \xff"
    assert r.data == b"hello \xff"


def test_get_data_without_cache() -> None:
    r = make("POST", body=b"hello")
    assert r.get_data(cache=False) == b"hello"
    assert r.get_data(cache=False) == b""


def test_no_stream_given() -> None:
    r = make("POST")
    assert r.get_data() == b""
    assert r.input_stream.read() == b""


def test_stream_is_limited_stream() -> None:
    r = make("POST", body=b"abcdef", headers={"Content-Length": "3"})
    assert isinstance(r.stream, LimitedStream)
    assert r.get_data() == b"abc"
    assert r.input_stream.read() == b"def"


def test_no_length_is_empty_unless_terminated() -> None:
    r = make("POST", body=b"abc", content_length=False)
    assert r.get_data() == b""
    r = make("POST", body=b"abc", content_length=False, input_terminated=True)
    assert r.get_data() == b"abc"
    r = make(
        "POST",
        body=b"abc",
        content_length=False,
        input_terminated=True,
        max_content_length=3,
    )
    assert r.get_data() == b"abc"


def test_terminated_body_over_max_is_413() -> None:
    r = make(
        "POST",
        body=b"abcd",
        content_length=False,
        input_terminated=True,
        max_content_length=3,
    )
    with pytest.raises(RequestEntityTooLarge) as info:
        r.get_data()
    assert "MAX_CONTENT_LENGTH" in str(info.value.description)


def test_content_length_over_max_is_413_before_reading() -> None:
    r = make("POST", body=b"abcd", max_content_length=3)
    with pytest.raises(RequestEntityTooLarge) as info:
        r.get_data()
    assert "Content-Length is 4 bytes" in str(info.value.description)
    assert r.input_stream.tell() == 0
    with pytest.raises(RequestEntityTooLarge):
        r.form  # noqa: B018


def test_truncated_body_is_client_disconnected() -> None:
    r = make("POST", body=b"abc", headers={"Content-Length": "10"})
    with pytest.raises(ClientDisconnected) as info:
        r.get_data()
    assert info.value.code == 400


def test_shallow() -> None:
    r = make("POST", body=b"abc", shallow=True)
    with pytest.raises(RuntimeError, match="shallow"):
        r.get_data()
    with pytest.raises(RuntimeError):
        r.form  # noqa: B018
    assert r.args == {}


# Forms ---------------------------------------------------------------------

URLENC = {"Content-Type": "application/x-www-form-urlencoded"}


def test_urlencoded_form() -> None:
    r = make("POST", headers=URLENC, body=b"a=1&b=%C3%BC")
    assert isinstance(r.form, ImmutableMultiDict)
    assert r.form["b"] == "\u00fc"
    assert r.files == {}
    assert r.data == b""
    assert r.get_data() == b""
    with pytest.raises(BadRequestKeyError):
        r.form["missing"]


def test_get_data_first_then_form() -> None:
    r = make("POST", headers=URLENC, body=b"a=1")
    assert r.get_data() == b"a=1"
    assert r.form["a"] == "1"
    assert r.get_data() == b"a=1"


def test_get_data_parse_form_data() -> None:
    r = make("POST", headers=URLENC, body=b"a=1")
    assert r.get_data(parse_form_data=True) == b""
    assert r.form["a"] == "1"


def test_files_first_then_form() -> None:
    body = encode([("a", b"1", None, None), ("f", b"x", "f.txt", None)])
    with make("POST", headers={"Content-Type": MP}, body=body) as r:
        f = r.files["f"]
        assert r.form["a"] == "1"
        assert f.read() == b"x"
        assert r.values["a"] == "1"
    assert f.closed


def test_close_without_files() -> None:
    r = make()
    r.close()
    assert "files" not in r.__dict__
    assert type(r).files is Request.files  # the descriptor, on the class


def test_assigned_files_are_closed_and_deletable() -> None:
    # close() trusts a flag instead of reading __dict__: assigning the
    # attribute must set it too, as parsing does.
    stream = io.BytesIO(b"x")
    r = make()
    r.files = MultiDict([("f", FileStorage(stream, "f.txt"))])
    assert r.files["f"].filename == "f.txt"
    r.close()
    assert stream.closed
    del r.files
    assert "files" not in r.__dict__
    assert r.files == {}  # parsed again on the next read: no body, no files


def test_no_content_type_means_no_form() -> None:
    r = make("POST", body=b"a=1")
    assert r.form == {}
    assert r.data == b"a=1"
    assert not r.want_form_data_parsed


def test_non_form_content_type_keeps_data() -> None:
    r = make("POST", headers={"Content-Type": "text/plain"}, body=b"a=1")
    assert r.want_form_data_parsed
    assert r.form == {}
    assert r.data == b"a=1"


def test_form_limits_per_request() -> None:
    body = b"a=" + b"x" * 20
    r = make("POST", headers=URLENC, body=body, max_form_memory_size=10)
    with pytest.raises(RequestEntityTooLarge, match="MAX_FORM_MEMORY_SIZE"):
        r.form  # noqa: B018
    body = b"&".join([b"a=1"] * 5)
    r = make("POST", headers=URLENC, body=body, max_form_parts=4)
    with pytest.raises(RequestEntityTooLarge, match="MAX_FORM_PARTS"):
        r.form  # noqa: B018
    mp = encode([("a", b"x" * 20, None, None)])
    r = make("POST", headers={"Content-Type": MP}, body=mp, max_form_memory_size=10)
    with pytest.raises(RequestEntityTooLarge, match="MAX_FORM_MEMORY_SIZE"):
        r.form  # noqa: B018


def test_malformed_multipart_is_400() -> None:
    r = make("POST", headers={"Content-Type": "multipart/form-data"}, body=b"x")
    with pytest.raises(BadRequest, match="boundary"):
        r.form  # noqa: B018
    r = make("POST", headers={"Content-Type": MP}, body=b"--nope\r\n")
    with pytest.raises(BadRequest):
        r.files  # noqa: B018


def test_custom_form_parser_class() -> None:
    seen = []

    class Parser(FormDataParser):
        def __init__(self, **kwargs: t.Any) -> None:
            seen.append(kwargs)
            super().__init__(**kwargs)

    r = make(
        "POST",
        headers=URLENC,
        body=b"a=1",
        form_data_parser_class=Parser,
        parameter_storage_class=MultiDict,
        max_form_parts=7,
    )
    assert type(r.form) is MultiDict
    assert seen[0]["max_form_parts"] == 7
    assert seen[0]["cls"] is MultiDict


class GeneralFormRequest(Request):
    """Takes the general form path: make_form_data_parser is its own."""

    def make_form_data_parser(self) -> FormDataParser:
        return super().make_form_data_parser()


def test_urlencoded_fast_path_state() -> None:
    assert Request._erlen_plain_form
    assert not GeneralFormRequest._erlen_plain_form
    r = make("POST", headers=URLENC, body=b"a=1&b=%C3%BC+x")
    assert r.form.to_dict() == {"a": "1", "b": "\u00fc x"}
    assert "stream" not in r.__dict__
    assert r.input_stream.tell() == 14
    # The stream parsing would have left: a LimitedStream at the body's end.
    stream = r.stream
    assert isinstance(stream, LimitedStream)
    assert (stream.limit, stream.tell()) == (14, 14)
    assert stream.read() == b""
    assert r.files == {}
    assert type(r.files) is ImmutableMultiDict
    assert r.data == b""
    assert r.values["b"] == "\u00fc x"
    r.close()


def test_urlencoded_fast_path_with_parameters_and_empty_body() -> None:
    ctype = {"Content-Type": "Application/X-WWW-Form-URLEncoded; charset=utf-8"}
    r = make("POST", headers=ctype, body=b"a=%41")
    assert r.form["a"] == "A"
    assert "stream" not in r.__dict__

    class NoRead(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise AssertionError("an empty body is not read")

    r = make("POST", headers=URLENC, body=b"")
    r.__dict__["input_stream"] = NoRead()
    assert r.form == {}


def test_urlencoded_fast_path_short_reads() -> None:
    from .test_formparser import TrickleStream

    body = b"a=1&b=" + b"y" * 40
    r = make("POST", headers=URLENC, body=body)
    r.__dict__["input_stream"] = TrickleStream(body, 7)
    assert r.form["b"] == "y" * 40
    assert r.stream.read() == b""


def test_urlencoded_fast_path_disconnects() -> None:
    r = make("POST", headers={**URLENC, "Content-Length": "10"}, body=b"a=1")
    with pytest.raises(ClientDisconnected, match="sent 3 of the 10 bytes"):
        r.form  # noqa: B018
    assert isinstance(r.__dict__["stream"], LimitedStream)
    r = make("POST", headers={**URLENC, "Content-Length": "10"}, body=b"")
    with pytest.raises(ClientDisconnected, match="sent 0 of the 10 bytes"):
        r.form  # noqa: B018

    class Broken(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise OSError("reset")

    r = make("POST", headers=URLENC, body=b"a=1")
    r.__dict__["input_stream"] = Broken()
    with pytest.raises(ClientDisconnected, match="sent 0 of the 3 bytes"):
        r.form  # noqa: B018


def test_urlencoded_long_body_without_memory_limit() -> None:
    # Without max_form_memory_size, a body over one chunk is read in chunks
    # by the general path (a lying Content-Length allocates nothing).
    body = b"a=" + b"x" * (100 * 1024)
    r = make("POST", headers=URLENC, body=body, max_form_memory_size=None)
    assert len(r.form["a"]) == 100 * 1024
    assert isinstance(r.__dict__["stream"], LimitedStream)
    r = make("POST", headers=URLENC, body=b"a=1", max_form_memory_size=None)
    assert r.form["a"] == "1"
    assert "stream" not in r.__dict__


def test_urlencoded_fast_path_skipped() -> None:
    # Each of these takes the general path, which stores the stream.
    cases: list[tuple[Request, t.Any]] = []
    r = make("POST", headers=URLENC, body=b"a=1")
    r.__class__ = GeneralFormRequest
    cases.append((r, None))
    r = make("POST", headers=URLENC, body=b"a=1")
    r.stream  # noqa: B018
    cases.append((r, None))
    r = make("POST", headers=URLENC, body=b"a=1")
    r.form_data_parser_class = type("P", (FormDataParser,), {})
    cases.append((r, None))
    r = make("POST", headers=URLENC, body=b"a=1", content_length=False)
    cases.append((r, {}))  # no length: an empty body
    for r, expected in cases:
        assert r.form.to_dict() == ({"a": "1"} if expected is None else expected)
        assert "stream" in r.__dict__


def _form_outcome(r: Request) -> list[t.Any]:
    outcome: list[t.Any] = []
    for step in ("form", "form", "stream", "data", "files"):
        try:
            if step == "stream":
                value: t.Any = r.stream.read()
            else:
                value = getattr(r, step)
                value = list(value.items(multi=True)) if step != "data" else value
        except HTTPException as e:
            value = (type(e), e.description)
        outcome.append(value)
    r.close()
    return outcome


@given(
    body=st.binary(max_size=40)
    | st.lists(st.sampled_from(["a=1", "b=%41", "=", "c=%zz", "+", "%C3%A9"])).map(
        lambda x: "&".join(x).encode()
    ),
    declared=st.one_of(st.none(), st.integers(0, 60)),
    max_content_length=st.one_of(st.none(), st.integers(0, 60)),
    max_form_memory_size=st.one_of(st.none(), st.integers(0, 60)),
    max_form_parts=st.one_of(st.none(), st.integers(0, 3)),
)
def test_urlencoded_fast_path_matches_general_path(
    body: bytes,
    declared: int | None,
    max_content_length: int | None,
    max_form_memory_size: int | None,
    max_form_parts: int | None,
) -> None:
    headers = Headers(URLENC)
    if declared is not None:
        headers["Content-Length"] = str(declared)
    outcomes = []
    for cls in (Request, GeneralFormRequest):
        r = make(
            "POST",
            headers=headers,
            body=body,
            content_length=False,
            max_content_length=max_content_length,
            max_form_memory_size=max_form_memory_size,
            max_form_parts=max_form_parts,
        )
        r.__class__ = cls
        outcomes.append(_form_outcome(r))
    assert outcomes[0] == outcomes[1]


# JSON ----------------------------------------------------------------------

JSON = {"Content-Type": "application/json"}


def test_json() -> None:
    r = make("POST", headers=JSON, body=b'{"a": [1, 2]}')
    assert r.json == {"a": [1, 2]}
    assert r.get_json() is r.get_json()


def test_json_wrong_mimetype() -> None:
    r = make("POST", headers={"Content-Type": "text/plain"}, body=b"{}")
    with pytest.raises(UnsupportedMediaType) as info:
        r.get_json()
    assert info.value.code == 415
    assert r.get_json(silent=True) is None
    assert r.get_json(force=True) == {}


def test_json_invalid() -> None:
    r = make("POST", headers=JSON, body=b"{nope")
    with pytest.raises(BadRequest, match="Failed to decode JSON"):
        r.get_json()
    assert r.get_json(silent=True) is None
    r = make("POST", headers=JSON, body=b'"\xff"')
    with pytest.raises(BadRequest):
        r.json  # noqa: B018


def test_json_cache_semantics() -> None:
    class R(Request):
        def on_json_loading_failed(self, e: ValueError | None) -> t.Any:
            return "fallback"

    r = make("POST", headers=JSON, body=b"{nope")
    r.__class__ = R
    assert r.get_json(silent=True) is None
    assert r._cached_json == (Ellipsis, None)
    assert r.get_json() == "fallback"
    assert r._cached_json == ("fallback", None)
    r = make("POST", headers=JSON, body=b"{nope")
    r.__class__ = R
    assert r.get_json() == "fallback"
    assert r.get_json(silent=True) is None
    assert r._cached_json == ("fallback", None)
    r = make("POST", headers=JSON, body=b"[1]")
    assert r.get_json(cache=False) == [1]
    assert r._cached_json == (Ellipsis, Ellipsis)
    r = make("POST", headers=JSON, body=b"{nope")
    assert r.get_json(silent=True, cache=False) is None
    with pytest.raises(BadRequest):
        r.get_json(cache=False)
    assert r._cached_json == (Ellipsis, Ellipsis)


def test_json_depth_limit() -> None:
    deep = b"[" * 300 + b"]" * 300
    r = make("POST", headers=JSON, body=deep)
    with pytest.raises(BadRequest) as info:
        r.get_json()
    assert "max_json_depth (MAX_JSON_DEPTH) of 256" in str(info.value.description)
    value = make("POST", headers=JSON, body=deep, max_json_depth=300).json
    for _ in range(299):
        value = value[0]
    assert value == []
    assert make("POST", headers=JSON, body=deep).get_json(silent=True) is None


def test_json_depth_never_recursion_error() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    r = make("POST", headers=JSON, body=deep, max_json_depth=None)
    with pytest.raises(BadRequest, match="deeper than the interpreter"):
        r.get_json()
    r = make("POST", headers=JSON, body=deep)
    with pytest.raises(BadRequest, match="MAX_JSON_DEPTH"):
        r.get_json()


def test_json_module_attribute() -> None:
    class Loader:
        @staticmethod
        def loads(data: bytes) -> t.Any:
            return ("custom", data)

    r = make("POST", headers=JSON, body=b"x", json_module=Loader)
    assert r.json == ("custom", b"x")


@pytest.mark.parametrize(
    ("doc", "depth"),
    [
        ("", 0),
        ("1", 0),
        ("[]", 1),
        ('{"a": [{"b": []}]}', 4),
        ('["[[[", "]]]"]', 1),
        ('["\\"[[[", 1]', 1),
        ('["\\\\", [[]]]', 3),
        ("]]][[", 0),
        ("[]][[[", 2),
        ('"unterminated [[[', 3),
    ],
)
def test_json_depth(doc: str, depth: int) -> None:
    assert json_depth(doc) == depth
    assert json_depth(doc.encode()) == depth
    assert json_depth(doc.encode("utf-16")) == depth
    assert json_depth(doc.encode("utf-32-le")) == depth
    assert json_depth(b"\xef\xbb\xbf" + doc.encode()) == depth


def test_check_json_depth() -> None:
    check_json_depth("[[[]]]", None)
    check_json_depth("[[[]]]", 3)
    check_json_depth(b"[[[]]]", 3)
    check_json_depth(b"[[], [], [], []]", 2)
    with pytest.raises(JSONDepthError) as info:
        check_json_depth("[[[]]]", 2)
    assert info.value.depth == 3
    assert info.value.max_depth == 2
    with pytest.raises(JSONDepthError):
        check_json_depth(b"[[[]]]", 2)
    # Data no longer than the limit is not scanned; it cannot nest deeper.
    check_json_depth(b"[[[", 3)
    check_json_depth("[[[[", 4)
    with pytest.raises(JSONDepthError):
        check_json_depth(b"[[[[", 3)


def test_utf16_quote_cannot_hide_brackets() -> None:
    doc = '["\\"", ' + "[" * 10 + "]" * 10 + "]"
    assert json_depth(doc.encode("utf-16-le")) == 11


@given(
    st.recursive(
        st.none() | st.integers() | st.text(max_size=5),
        lambda c: (
            st.lists(c, max_size=3)
            | st.dictionaries(st.text(max_size=3), c, max_size=3)
        ),
    )
)
def test_json_depth_matches_structure(value: t.Any) -> None:
    import json

    def depth(v: t.Any) -> int:
        if isinstance(v, list):
            return 1 + max(map(depth, v), default=0)
        if isinstance(v, dict):
            return 1 + max(map(depth, v.values()), default=0)
        return 0

    doc = json.dumps(value)
    assert json_depth(doc) == depth(value)
    assert json_depth(doc.encode()) == depth(value)
    assert json_depth(json.dumps(value, ensure_ascii=False).encode("utf-16")) == depth(
        value
    )


# Robustness ------------------------------------------------------------------

content_types = st.sampled_from(
    [
        None,
        "application/json",
        "application/x-www-form-urlencoded",
        MP,
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "text/plain",
        "application/vnd.x+json",
    ]
)


@given(
    body=st.one_of(
        st.binary(max_size=200),
        st.builds(lambda b: b"--" + BOUNDARY + b"\r\n" + b, st.binary(max_size=200)),
        st.sampled_from(
            [b"[" * 300, b'{"a": 1}', b"a=1&b", encode([("a", b"1", "f", None)])]
        ),
    ),
    content_type=content_types,
    declared=st.one_of(st.none(), st.integers(0, 300)),
    max_content_length=st.one_of(st.none(), st.integers(0, 300)),
    max_form_memory_size=st.one_of(st.none(), st.integers(0, 100)),
    max_form_parts=st.one_of(st.none(), st.integers(0, 3)),
    terminated=st.booleans(),
)
def test_body_access_raises_only_http_errors(
    body: bytes,
    content_type: str | None,
    declared: int | None,
    max_content_length: int | None,
    max_form_memory_size: int | None,
    max_form_parts: int | None,
    terminated: bool,
) -> None:
    headers = Headers()
    if content_type is not None:
        headers["Content-Type"] = content_type
    if declared is not None:
        headers["Content-Length"] = str(declared)
    codes: list[int | None] = []
    for access in ("form", "files", "json", "data", "get_data", "values"):
        r = make(
            "POST",
            headers=headers,
            body=body,
            content_length=False,
            input_terminated=terminated,
            max_content_length=max_content_length,
            max_form_memory_size=max_form_memory_size,
            max_form_parts=max_form_parts,
        )
        try:
            if access == "get_data":
                r.get_data(parse_form_data=True)
            else:
                getattr(r, access)
        except HTTPException as e:
            codes.append(e.code)
        finally:
            r.close()
    assert set(codes) <= {400, 413, 415}


def test_host_for_other_scheme_keeps_port() -> None:
    assert (
        make(scheme="ftp", headers={"Host": "example.com:80"}).host == "example.com:80"
    )


def test_json_failure_hook_without_cache() -> None:
    class R(Request):
        def on_json_loading_failed(self, e: ValueError | None) -> t.Any:
            return "fallback"

    r = make("POST", headers=JSON, body=b"{nope")
    r.__class__ = R
    assert r.get_json(cache=False) == "fallback"
    assert r._cached_json == (Ellipsis, Ellipsis)


def test_overridden_get_file_stream_makes_the_file_containers() -> None:
    made: list[str | None] = []

    class MyRequest(Request):
        def _get_file_stream(
            self,
            total_content_length: int | None,
            content_type: str | None,
            filename: str | None = None,
            content_length: int | None = None,
        ) -> t.IO[bytes]:
            made.append(filename)
            return super()._get_file_stream(
                total_content_length, content_type, filename, content_length
            )

    body = encode([("f", b"abc", "a.txt", "text/plain")])
    r = make("POST", headers={"Content-Type": MP}, body=body)
    r.__class__ = MyRequest
    assert r.files["f"].read() == b"abc"
    assert made == ["a.txt"]
    r.close()
