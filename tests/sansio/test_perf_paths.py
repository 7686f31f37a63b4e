"""The fast paths added for speed behave exactly like the general ones."""

from __future__ import annotations

import io
import typing as t
from http import HTTPStatus
from urllib.parse import unquote

import pytest

from erlen.datastructures import EnvironHeaders
from erlen.datastructures import Headers
from erlen.sansio import request as request_mod
from erlen.sansio import response as response_mod
from erlen.sansio._lazy import lazy_property
from erlen.sansio.multipart import MultipartParser
from erlen.sansio.response import Response
from erlen.urls import _unquote_ascii
from erlen.urls import parse_qsl
from erlen.wrappers import Request


def test_lazy_property_class_access_and_assignment() -> None:
    class A:
        @lazy_property
        def x(self) -> int:
            """Doc."""
            return 1

    assert isinstance(A.__dict__["x"], lazy_property)
    assert A.x.__doc__ == "Doc."  # type: ignore[attr-defined]
    a = A()
    assert a.x == 1
    a.x = 2
    assert a.x == 2


def test_host_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(request_mod, "_VALID_HOSTS_MAX", 2)
    request_mod._valid_hosts.clear()
    for host in ("a.example", "b.example", "c.example", "a.example"):
        assert request_mod._host_port(host) is None
    assert request_mod._host_port("a.example:8080") == "8080"
    assert request_mod._host_port("a b") is False
    assert request_mod._host_port("a:99999") is False
    assert len(request_mod._valid_hosts) <= 2


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", "/"),
        ("/a/b", "/a/b"),
        ("//a", "/a"),
        ("a", "/a"),
        ("", "/"),
        ("/caf\xc3\xa9", "/caf\xe9"),
        ("//caf\xc3\xa9", "/caf\xe9"),
    ],
)
def test_wsgi_path(path: str, expected: str) -> None:
    assert Request({"PATH_INFO": path}).path == expected


def test_wsgi_lazy_attributes() -> None:
    environ = {
        "REQUEST_METHOD": "post",
        "SCRIPT_NAME": "/app/",
        "PATH_INFO": "/x",
        "QUERY_STRING": "a=1",
        "REMOTE_ADDR": "1.2.3.4",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.input_terminated": True,
        "wsgi.url_scheme": "https",
        "SERVER_NAME": "h",
        "SERVER_PORT": "443",
    }
    r = Request(environ)
    assert environ["erlen.request"] is r
    assert (r.method, r.root_path, r.query_string) == ("POST", "/app", b"a=1")
    assert (r.scheme, r.server, r.remote_addr) == ("https", ("h", 443), "1.2.3.4")
    assert r.input_terminated is True
    r.method = "PUT"
    assert r.method == "PUT"
    env: dict[str, object] = {}
    Request(env, shallow=True)
    assert "erlen.request" not in env


def test_environ_headers_getlist_and_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    from erlen.datastructures import _headers

    monkeypatch.setattr(_headers, "_ENVIRON_KEYS_MAX", 1)
    h = EnvironHeaders(
        {"HTTP_COOKIE": "a=1", "CONTENT_TYPE": "", "HTTP_X_N": "5", "HTTP_X_B": "b"}
    )
    assert h.getlist("Cookie") == ["a=1"]
    assert h.getlist("Content-Type") == []
    assert h.getlist("Missing") == []
    assert h.getlist("X-N", int) == [5]
    assert h.getlist("X-B", int) == []
    assert h.getlist("X_N") == []  # iteration spells it X-N
    assert h.get(1) is None  # type: ignore[call-overload]
    assert 1 not in h
    assert len(_headers._environ_keys) <= 1


def test_headers_find_keeps_order() -> None:
    h = Headers([("x-a", "1"), ("X-A", "2")])
    assert h.get("X-A") == "1"
    assert h.get("missing", "d") == "d"


def test_header_value_check_names_the_character() -> None:
    with pytest.raises(ValueError, match="'\\\\n'"):
        Headers().set("X", "a\nb")


def test_to_wsgi_list_of_environ_headers() -> None:
    assert EnvironHeaders({"HTTP_X": "1"}).to_wsgi_list() == [("X", "1")]


@pytest.mark.parametrize(
    "text",
    ["a%20b", "%", "a%2", "%zz%41", "\\x41%41", "%C3%A9", "%FF", "\\\\%5C"],
)
def test_unquote_ascii_matches_urllib(text: str) -> None:
    assert _unquote_ascii(text, "replace") == unquote(text, "utf-8", "replace")


def test_parse_qsl_non_ascii_field() -> None:
    assert parse_qsl("a=%C3%A9\xe9") == [("a", "\xe9\xe9")]


class _Custom(Response):
    def set_data(self, value: bytes | bytearray | str) -> None:
        super().set_data(value)
        self.headers["X-Set"] = "1"


def test_response_fast_path_variants(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _Custom("x").headers["X-Set"] == "1"
    r = Response(b"abc", mimetype="application/json")
    assert r.headers.to_wsgi_list() == [
        ("Content-Type", "application/json"),
        ("Content-Length", "3"),
    ]

    class NoType(Response):
        default_mimetype = None
        automatically_set_content_length = False

    assert NoType("x").headers.to_wsgi_list() == []
    assert NoType(bytearray(b"x")).headers.to_wsgi_list() == []
    NoType.default_mimetype = "text/csv"
    assert NoType("x").headers["Content-Type"] == "text/csv; charset=utf-8"
    with pytest.raises(ValueError, match="forbidden character"):
        Response("x", mimetype="text/a\nb")
    full = response_mod._content_types
    full.update({f"m{i}": ("Content-Type", "") for i in range(256 - len(full))})
    assert Response("x", mimetype="a/b").headers["Content-Type"] == "a/b"
    assert len(response_mod._content_types) == 1


def test_response_fast_path_statuses_lengths_and_defaults() -> None:
    # The constructor's plain path gives what the general path gives: a str
    # or HTTPStatus status, an unknown code, a body past the length table.
    for status, line in (
        ("201 Made", "201 Made"),
        ("404", "404 NOT FOUND"),
        (HTTPStatus.CREATED, "201 CREATED"),
        (299, "299 UNKNOWN"),
    ):
        r = Response("x", status)
        assert (r.status, r.headers.to_wsgi_list()) == (
            line,
            [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "1")],
        )
    with pytest.raises(ValueError, match="Invalid status"):
        Response("x", "20")
    with pytest.raises(ValueError, match="Invalid status code"):
        Response("x", True)  # type: ignore[arg-type]
    big = b"x" * 5000
    assert Response(big).headers["Content-Length"] == "5000"
    assert Response(b"x" * 1023).headers["Content-Length"] == "1023"
    assert Response(b"x" * 1024).headers["Content-Length"] == "1024"

    class NoTypeLength(Response):
        default_mimetype = None

    assert NoTypeLength(b"ab").headers.to_wsgi_list() == [("Content-Length", "2")]
    # A default changed on a class already used is honoured at once, and a
    # subclass never uses its base's cache.
    NoTypeLength.automatically_set_content_length = False
    assert NoTypeLength(b"ab").headers.to_wsgi_list() == []
    NoTypeLength.default_status = 202
    assert NoTypeLength(b"ab").status == "202 ACCEPTED"

    class Child(NoTypeLength):
        default_mimetype = "text/csv"

    assert Child("a").headers.to_wsgi_list() == [
        ("Content-Type", "text/csv; charset=utf-8")
    ]
    assert Child("a").status_code == 202
    # A class whose constructor must call set_data never takes the plain
    # path, even below a class that does.
    assert not _Custom._plain_init
    assert _Custom._compute_defaults() is None
    for _ in range(2):
        assert _Custom("x").headers["X-Set"] == "1"

    class Passthrough(Response):
        direct_passthrough = True

    # The constructor's argument wins over the class default (as in
    # Werkzeug), which the general path assigns.
    assert not Passthrough._plain_init
    assert Passthrough("x").direct_passthrough is False
    assert Response("x", direct_passthrough=True).direct_passthrough is True
    assert Response("x").direct_passthrough is False


def test_call_on_close_turns_the_plain_send_off() -> None:
    r = Response("x")
    assert r._plain_send
    r.call_on_close(lambda: None)
    assert not r._plain_send
    assert Response._plain_send
    r.call_on_close(lambda: None)
    assert len(r._on_close) == 2


def test_wsgi_headers_fast_path() -> None:
    env = {"REQUEST_METHOD": "GET"}
    r = Response("hi")
    assert r.get_wsgi_headers(env)["Content-Length"] == "2"
    r = Response(["a", b"bc"])
    assert r.get_wsgi_headers(env)["Content-Length"] == "3"
    r = Response(iter([b"a"]))
    assert "Content-Length" not in r.get_wsgi_headers(env)
    r = Response("hi", headers={"location": "/\xe9"})
    assert r.get_wsgi_headers(env)["Location"] == "/%C3%A9"
    r = Response("hi", headers={"X-Other": "1"})
    r.headers.remove("Content-Length")
    assert r.get_wsgi_headers(env)["Content-Length"] == "2"
    assert list(Response("hi").get_app_iter(env)) == [b"hi"]
    assert list(Response(["hi"]).get_app_iter(env)) == [b"hi"]


def test_plain_send_names_are_bounded_and_any_case_counts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    names: dict[str, bool] = {f"X-{i}": True for i in range(1024)}
    monkeypatch.setattr(response_mod, "_plain_send_names", names)
    r = Response("hi")
    r.headers["X-New"] = "1"
    # Names are remembered (the cache cleared when full) only when they are
    # neither Content-Length nor Location nor Content-Location, in any case.
    assert r._plain_wsgi_headers() == [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", "2"),
        ("X-New", "1"),
    ]
    assert set(names) == {"Content-Type", "X-New"}
    r = Response("hi")
    r.headers.remove("Content-Length")
    r.headers.add("content-length", "2")
    assert r._plain_wsgi_headers() == [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("content-length", "2"),
    ]
    for name in ("location", "CONTENT-LOCATION"):
        r = Response("hi", headers=[(name, "/x")])
        assert r._plain_wsgi_headers() is None
    assert set(names) == {"Content-Type", "X-New"}


def test_multipart_with_preamble_and_without() -> None:
    body = b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--b--\r\n"
    for data in (body, b"preamble\r\n" + body):
        parser = MultipartParser(b"b", lambda **kw: io.BytesIO())
        fields, _ = parser.parse(io.BytesIO(data).read)
        assert fields == [("a", "1")]


@pytest.mark.parametrize("body", ["héllo", b"raw", ""])
@pytest.mark.parametrize(
    "content_type",
    ["text/csv; charset=utf-8", "application/json", "", "x/y\tz", "a/b\r\nX-Evil: 1"],
)
@pytest.mark.parametrize("mimetype", [None, "text/html"])
@pytest.mark.parametrize("status", [None, 201, "299 Custom"])
def test_content_type_fast_path_matches_the_general_path(
    body: str | bytes, content_type: str, mimetype: str | None, status: t.Any
) -> None:
    # headers={} sends the constructor down its general path.
    def build(**extra: t.Any) -> Response | Exception:
        try:
            return Response(
                body, status, content_type=content_type, mimetype=mimetype, **extra
            )
        except Exception as e:
            return e

    fast = build()
    general = build(headers={})
    if isinstance(general, Exception):
        # CR/LF in the value: refused the same way, by the header check.
        assert type(fast) is type(general)
        assert str(fast) == str(general)
        return
    assert isinstance(fast, Response)
    assert list(fast.headers.items()) == list(general.headers.items())
    assert fast.status == general.status
    assert fast.get_data() == general.get_data()
    env = {"REQUEST_METHOD": "GET", "SERVER_NAME": "x", "SERVER_PORT": "80"}
    assert fast.get_wsgi_headers(env).to_wsgi_list() == (
        general.get_wsgi_headers(env).to_wsgi_list()
    )
    assert fast.headers["Content-Type"] == content_type
