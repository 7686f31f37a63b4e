from __future__ import annotations

import typing as t

import pytest
import werkzeug.http
import werkzeug.middleware.proxy_fix as wz_proxy_fix
from hypothesis import example
from hypothesis import given
from hypothesis import strategies as st

from erlen.middleware import ProxyFix
from erlen.middleware.proxy_fix import _parse_list

KEYS = (
    "REMOTE_ADDR",
    "wsgi.url_scheme",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "SCRIPT_NAME",
    "PATH_INFO",
)


class EchoApp:
    """WSGI app that records the environ it was called with."""

    def __init__(self) -> None:
        self.environ: dict[str, t.Any] = {}

    def __call__(
        self, environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]
    ) -> list[bytes]:
        self.environ = environ
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"echo"]


def base_environ(**headers: str) -> dict[str, t.Any]:
    environ: dict[str, t.Any] = {
        "REQUEST_METHOD": "GET",
        "REMOTE_ADDR": "10.0.0.2",
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "internal:8000",
        "SERVER_NAME": "internal",
        "SERVER_PORT": "8000",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/page",
    }
    for name, value in headers.items():
        environ[f"HTTP_X_FORWARDED_{name.upper()}"] = value
    return environ


def run(
    middleware: type[t.Any], environ: dict[str, t.Any], **counts: int
) -> dict[str, t.Any]:
    app = EchoApp()
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        statuses.append(status)

    body = middleware(app, **counts)(dict(environ), start_response)
    assert list(body) == [b"echo"]
    assert statuses == ["200 OK"]
    return app.environ


def view(environ: dict[str, t.Any]) -> dict[str, t.Any]:
    return {key: environ.get(key) for key in KEYS}


def test_defaults_trust_one_for_and_proto() -> None:
    environ = base_environ(
        **{"for": "203.0.113.9", "proto": "https", "host": "evil.example"}
    )
    seen = run(ProxyFix, environ)
    assert seen["REMOTE_ADDR"] == "203.0.113.9"
    assert seen["wsgi.url_scheme"] == "https"
    # x_host defaults to 0: a client-sent host is ignored.
    assert seen["HTTP_HOST"] == "internal:8000"


def test_rightmost_trusted_value_wins() -> None:
    # The client forged the first value; two proxies appended one each.
    environ = base_environ(**{"for": "1.1.1.1, 198.51.100.7, 10.0.0.1"})
    assert run(ProxyFix, environ, x_for=1)["REMOTE_ADDR"] == "10.0.0.1"
    assert run(ProxyFix, environ, x_for=2)["REMOTE_ADDR"] == "198.51.100.7"
    assert run(ProxyFix, environ, x_for=3)["REMOTE_ADDR"] == "1.1.1.1"
    # More trusted proxies than values: the header did not pass them all.
    assert run(ProxyFix, environ, x_for=4)["REMOTE_ADDR"] == "10.0.0.2"
    assert run(ProxyFix, environ, x_for=0)["REMOTE_ADDR"] == "10.0.0.2"


def test_host_with_port_sets_server_name_and_port() -> None:
    seen = run(ProxyFix, base_environ(host="example.com:8443"), x_host=1)
    assert view(seen) | {"PATH_INFO": None} == {
        "REMOTE_ADDR": "10.0.0.2",
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "example.com:8443",
        "SERVER_NAME": "example.com",
        "SERVER_PORT": "8443",
        "SCRIPT_NAME": "",
        "PATH_INFO": None,
    }


@pytest.mark.parametrize(
    ("host", "name", "port"),
    [
        ("example.com", "example.com", "8000"),
        ("[::1]", "[::1]", "8000"),
        ("[::1]:9000", "[::1]", "9000"),
    ],
)
def test_host_ipv6_and_portless(host: str, name: str, port: str) -> None:
    seen = run(ProxyFix, base_environ(host=host), x_host=1)
    assert (seen["HTTP_HOST"], seen["SERVER_NAME"], seen["SERVER_PORT"]) == (
        host,
        name,
        port,
    )


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("internal:8000", "internal:443"),
        ("internal", "internal:443"),
        ("[::1]", "[::1]:443"),
        ("[::1]:8000", "[::1]:443"),
        ("", None),
    ],
)
def test_port_rewrites_host(host: str, expected: str | None) -> None:
    environ = base_environ(port="443")
    environ["HTTP_HOST"] = host
    seen = run(ProxyFix, environ, x_port=1)
    assert seen["SERVER_PORT"] == "443"
    assert seen["HTTP_HOST"] == (expected if expected is not None else "")


def test_port_without_host_header() -> None:
    environ = base_environ(port="443")
    del environ["HTTP_HOST"]
    seen = run(ProxyFix, environ, x_port=1)
    assert "HTTP_HOST" not in seen
    assert seen["SERVER_PORT"] == "443"


def test_host_then_port() -> None:
    environ = base_environ(host="example.com:8080", port="443")
    seen = run(ProxyFix, environ, x_host=1, x_port=1)
    assert seen["HTTP_HOST"] == "example.com:443"
    assert seen["SERVER_NAME"] == "example.com"
    assert seen["SERVER_PORT"] == "443"


def test_prefix_sets_script_name() -> None:
    seen = run(ProxyFix, base_environ(prefix="/app"), x_prefix=1)
    assert seen["SCRIPT_NAME"] == "/app"
    assert seen["PATH_INFO"] == "/page"


def test_originals_stored_under_both_keys() -> None:
    environ = base_environ(
        **{"for": "a", "proto": "https", "host": "h:1", "prefix": "/p"}
    )
    seen = run(ProxyFix, environ, x_host=1, x_port=1, x_prefix=1)
    orig = seen["erlen.proxy_fix.orig"]
    assert seen["werkzeug.proxy_fix.orig"] is orig
    assert orig == {
        "REMOTE_ADDR": "10.0.0.2",
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "internal:8000",
        "SERVER_NAME": "internal",
        "SERVER_PORT": "8000",
        "SCRIPT_NAME": "",
    }


def test_originals_of_missing_keys_are_none() -> None:
    seen = run(ProxyFix, {"PATH_INFO": "/"})
    assert seen["erlen.proxy_fix.orig"] == dict.fromkeys(
        ["REMOTE_ADDR", "wsgi.url_scheme", "HTTP_HOST", "SERVER_NAME"]
        + ["SERVER_PORT", "SCRIPT_NAME"]
    )


@pytest.mark.parametrize(
    "value", ["", " ", ",", " , ,", '"', '"unclosed, 1.2.3.4', '""', 'a, ""']
)
def test_empty_or_broken_values_are_ignored(value: str) -> None:
    seen = run(ProxyFix, base_environ(**{"for": value}))
    assert seen["REMOTE_ADDR"] == "10.0.0.2"
    assert run(wz_proxy_fix.ProxyFix, base_environ(**{"for": value}))[
        "REMOTE_ADDR"
    ] == ("10.0.0.2")


def test_quoted_value_is_unquoted() -> None:
    seen = run(ProxyFix, base_environ(**{"for": 'x, "[2001:db8::1]:4711"'}))
    assert seen["REMOTE_ADDR"] == "[2001:db8::1]:4711"


@pytest.mark.parametrize("name", ["x_for", "x_proto", "x_host", "x_port", "x_prefix"])
def test_negative_count_rejected(name: str) -> None:
    with pytest.raises(ValueError, match=rf"ProxyFix\({name}=\.\.\.\).*got -1"):
        ProxyFix(EchoApp(), **{name: -1})  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["1", 1.0, None])
def test_non_int_count_rejected(bad: object) -> None:
    with pytest.raises(TypeError, match=r"ProxyFix\(x_host=\.\.\.\) needs an int"):
        ProxyFix(EchoApp(), x_host=bad)  # type: ignore[arg-type]


def test_attributes() -> None:
    app = EchoApp()
    fix = ProxyFix(app, x_for=2, x_proto=0, x_host=3, x_port=4, x_prefix=5)
    assert (fix.app, fix.x_for, fix.x_proto, fix.x_host, fix.x_port) == (
        app,
        2,
        0,
        3,
        4,
    )
    assert fix.x_prefix == 5


# -- differential against Werkzeug ---------------------------------------------

LIST_ALPHABET = st.sampled_from(
    [",", " ", "\t", '"', "\\", "a", "1", ".", ":", "[", "]", "\n", "é", '\\"']
)
list_values = st.lists(LIST_ALPHABET, max_size=16).map("".join)


@example('"a\\\nb"')
@example('"a\\')
@example('a"b,c"d, e')
@example('"a" "b"')
@given(list_values)
def test_parse_list_matches_werkzeug(value: str) -> None:
    assert _parse_list(value) == werkzeug.http.parse_list_header(value)


HEADER_ITEMS = st.sampled_from(
    [
        "203.0.113.9",
        "10.0.0.1",
        "2001:db8::1",
        "[2001:db8::1]",
        "[2001:db8::1]:8080",
        "example.com",
        "example.com:8443",
        "https",
        "http",
        "443",
        "8080",
        "/app",
        "/a/b",
        "",
        " ",
        '"quoted, item"',
        '""',
        '"open',
        "host:",
        ":80",
    ]
)
header_values = st.one_of(
    st.none(),
    st.lists(HEADER_ITEMS, max_size=4).map(", ".join),
    st.lists(HEADER_ITEMS, max_size=4).map(",".join),
)
counts = st.integers(0, 3)


@given(
    xff=header_values,
    proto=header_values,
    host=header_values,
    port=header_values,
    prefix=header_values,
    http_host=st.sampled_from([None, "", "internal", "internal:8000", "[::1]:80"]),
    x_for=counts,
    x_proto=counts,
    x_host=counts,
    x_port=counts,
    x_prefix=counts,
)
def test_proxy_fix_matches_werkzeug(
    xff: str | None,
    proto: str | None,
    host: str | None,
    port: str | None,
    prefix: str | None,
    http_host: str | None,
    x_for: int,
    x_proto: int,
    x_host: int,
    x_port: int,
    x_prefix: int,
) -> None:
    environ = base_environ()
    headers = {"FOR": xff, "PROTO": proto, "HOST": host, "PORT": port}
    headers["PREFIX"] = prefix
    for name, value in headers.items():
        if value is not None:
            environ[f"HTTP_X_FORWARDED_{name}"] = value
    if http_host is None:
        del environ["HTTP_HOST"]
    else:
        environ["HTTP_HOST"] = http_host
    options = {
        "x_for": x_for,
        "x_proto": x_proto,
        "x_host": x_host,
        "x_port": x_port,
        "x_prefix": x_prefix,
    }
    ours = run(ProxyFix, environ, **options)
    theirs = run(wz_proxy_fix.ProxyFix, environ, **options)
    ours_orig = ours.pop("erlen.proxy_fix.orig")
    assert ours_orig == theirs["werkzeug.proxy_fix.orig"]
    assert ours == theirs
