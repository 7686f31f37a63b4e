"""The endpoints every benchmarked framework serves, their requests and checks.

Every framework app in ``benchmarks.apps`` implements the same eleven
endpoints with the same observable answers, plus one before-request and one
after-request hook: the before hook stores the string ``"before"`` in
per-request state, the after hook copies it into an ``X-Hook`` response
header. The checks below verify status, body and that header, so a
framework that skipped a hook, a parse or a route would fail before it is
timed.
"""

from __future__ import annotations

import json
import pathlib
import typing as t
import urllib.parse
from dataclasses import dataclass
from dataclasses import field

import jinja2

HERE = pathlib.Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
RESULTS = HERE / "results"
ROOT = HERE.parent
DOCS = ROOT / "docs"

HOOK_HEADER = "x-hook"
HOOK_VALUE = "before"

# --- payloads shared by every framework -------------------------------------

HELLO = "Hello, World!"
JSON_MESSAGE = {"message": HELLO}

#: The path-parameter endpoint: ``/user/<int:id>/post/<slug>``.
USER_ID = 42
POST_SLUG = "hello-world"

#: ``/search?q=&page=``: two query arguments (one percent-encoded).
SEARCH_Q = "erlen & flask"
SEARCH_PAGE = 3

#: ``POST /form``: ten urlencoded fields, values with characters to decode.
FORM_FIELDS = [(f"f{i}", f"value {i} & é+ü") for i in range(10)]

#: ``POST /upload``: one 64 KiB file and two text fields.
UPLOAD_FILENAME = "data.bin"
UPLOAD_DATA = bytes(range(256)) * 256
UPLOAD_FIELDS = [("title", "A title"), ("tag", "bench")]
UPLOAD_BOUNDARY = "----erlenbenchboundary7MA4YWxkTrZu0gW"

#: ``POST /echo-json``: about 1 KB of JSON, parsed and sent back.
ECHO_PAYLOAD: dict[str, t.Any] = {
    "id": 12345,
    "name": "Benchmark payload",
    "active": True,
    "ratio": 0.75,
    "tags": ["alpha", "beta", "gamma", "delta"],
    "items": [
        {"sku": f"SKU-{i:04d}", "qty": i, "price": i * 1.5, "note": "ok"}
        for i in range(14)
    ],
}

#: ``GET /template``: a 20-item loop whose names need HTML escaping.
TEMPLATE_NAME = "page.html"
TEMPLATE_TITLE = "Items & <prices>"
TEMPLATE_ITEMS = [
    {"id": i, "name": f"<item {i}> & co", "price": f"{i * 3}.99"} for i in range(20)
]

#: ``GET /cookie``: read one cookie, set another to its value.
COOKIE_IN = "session_id"
COOKIE_VALUE = "abc123"
COOKIE_OUT = "seen"

#: The route matched after 200 other dynamic routes.
DEEP_ROUTES = 200
DEEP_ID = 7

# --- what the views compute (each framework's view computes the same) -------


def form_answer(count: int, last: str) -> str:
    """Return the ``/form`` body: the field count and the last field's value."""
    return f"{count} fields, f9={last}"


def upload_answer(filename: str, size: int, title: str, tag: str) -> str:
    """Return the ``/upload`` body."""
    return f"{filename} {size} {title} {tag}"


def user_answer(user_id: int, slug: str) -> str:
    """Return the ``/user/<id>/post/<slug>`` body."""
    return f"user {user_id}, post {slug}"


def deep_answer(version: int, item_id: int) -> str:
    """Return the body of ``/api/v<version>/items/<id>``."""
    return f"item {item_id} of v{version}"


def template_environment() -> jinja2.Environment:
    """Return the Jinja environment used by frameworks without their own."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        # NOTE: a production setting, as in Flask when not debugging: no
        # stat() of the template file on every render.
        auto_reload=False,
    )


def _multipart_body() -> bytes:
    parts = []
    for name, value in UPLOAD_FIELDS:
        parts.append(
            f'--{UPLOAD_BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"'
            f"\r\n\r\n{value}\r\n".encode()
        )
    parts.append(
        f'--{UPLOAD_BOUNDARY}\r\nContent-Disposition: form-data; name="file";'
        f' filename="{UPLOAD_FILENAME}"\r\nContent-Type: application/octet-stream'
        "\r\n\r\n".encode()
        + UPLOAD_DATA
        + b"\r\n"
    )
    parts.append(f"--{UPLOAD_BOUNDARY}--\r\n".encode())
    return b"".join(parts)


# --- requests ----------------------------------------------------------------

#: Headers a browser-like client sends with every request.
BASE_HEADERS = [
    ("host", "127.0.0.1:8000"),
    ("user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101"),
    ("accept", "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8"),
    ("accept-language", "en-US,en;q=0.5"),
    ("accept-encoding", "gzip, deflate"),
    ("connection", "keep-alive"),
]


class CheckFailed(AssertionError):
    """A framework's answer differs from the expected one."""


@dataclass(frozen=True)
class Endpoint:
    """One benchmarked request and the checks of its answer."""

    name: str
    method: str
    path: str
    query: str = ""
    body: bytes = b""
    content_type: str | None = None
    extra_headers: tuple[tuple[str, str], ...] = ()
    status: int = 200
    #: Exact expected body, or None when the body is checked by ``check``.
    expected: bytes | None = None
    #: Extra semantic check of the body (e.g. parsed JSON); raise CheckFailed.
    check: t.Callable[[bytes, dict[str, str]], None] | None = field(
        default=None, compare=False
    )

    @property
    def headers(self) -> list[tuple[str, str]]:
        """Return the request headers, lower-case names, in wire order."""
        headers = list(BASE_HEADERS) + list(self.extra_headers)
        if self.content_type is not None:
            headers.append(("content-type", self.content_type))
        if self.body:
            headers.append(("content-length", str(len(self.body))))
        return headers

    def verify(self, status: int, headers: dict[str, str], body: bytes) -> None:
        """Raise :class:`CheckFailed` unless the answer is the expected one.

        :param status: the response status code.
        :param headers: response headers, names lower-cased (last value wins,
            except ``set-cookie`` whose values are joined with newlines).
        :param body: the whole response body.
        """
        if status != self.status:
            raise CheckFailed(
                f"{self.name}: expected status {self.status}, got {status}"
                f" (body {body[:200]!r})"
            )
        if headers.get(HOOK_HEADER) != HOOK_VALUE:
            raise CheckFailed(
                f"{self.name}: expected the after-request hook's header"
                f" {HOOK_HEADER}: {HOOK_VALUE!r}, got {headers.get(HOOK_HEADER)!r}"
            )
        if self.expected is not None and body != self.expected:
            raise CheckFailed(
                f"{self.name}: expected body {self.expected[:200]!r},"
                f" got {body[:200]!r}"
            )
        if self.check is not None:
            self.check(body, headers)


def _json_equals(expected: t.Any) -> t.Callable[[bytes, dict[str, str]], None]:
    def check(body: bytes, headers: dict[str, str]) -> None:
        ctype = headers.get("content-type", "")
        if not ctype.startswith("application/json"):
            raise CheckFailed(f"expected a JSON content type, got {ctype!r}")
        try:
            got = json.loads(body)
        except ValueError as exc:
            raise CheckFailed(f"expected JSON, got {body[:200]!r}: {exc}") from None
        if got != expected:
            raise CheckFailed(f"expected JSON {expected!r}, got {got!r}")

    return check


def _cookie_set(body: bytes, headers: dict[str, str]) -> None:
    cookies = headers.get("set-cookie", "")
    if f"{COOKIE_OUT}={COOKIE_VALUE}" not in cookies:
        raise CheckFailed(
            f"expected a Set-Cookie of {COOKIE_OUT}={COOKIE_VALUE}, got {cookies!r}"
        )


def _render_reference() -> bytes:
    template = template_environment().get_template(TEMPLATE_NAME)
    return template.render(title=TEMPLATE_TITLE, items=TEMPLATE_ITEMS).encode()


def _build_endpoints() -> dict[str, Endpoint]:
    form_body = urllib.parse.urlencode(FORM_FIELDS).encode()
    echo_body = json.dumps(ECHO_PAYLOAD).encode()
    eps = [
        Endpoint("hello", "GET", "/", expected=HELLO.encode()),
        Endpoint("json", "GET", "/json", check=_json_equals(JSON_MESSAGE)),
        Endpoint(
            "params",
            "GET",
            f"/user/{USER_ID}/post/{POST_SLUG}",
            expected=user_answer(USER_ID, POST_SLUG).encode(),
        ),
        Endpoint(
            "search",
            "GET",
            "/search",
            query=urllib.parse.urlencode({"q": SEARCH_Q, "page": SEARCH_PAGE}),
            check=_json_equals({"q": SEARCH_Q, "page": SEARCH_PAGE}),
        ),
        Endpoint(
            "form",
            "POST",
            "/form",
            body=form_body,
            content_type="application/x-www-form-urlencoded",
            expected=form_answer(len(FORM_FIELDS), FORM_FIELDS[-1][1]).encode(),
        ),
        Endpoint(
            "upload",
            "POST",
            "/upload",
            body=_multipart_body(),
            content_type=f"multipart/form-data; boundary={UPLOAD_BOUNDARY}",
            expected=upload_answer(
                UPLOAD_FILENAME,
                len(UPLOAD_DATA),
                UPLOAD_FIELDS[0][1],
                UPLOAD_FIELDS[1][1],
            ).encode(),
        ),
        Endpoint(
            "echo-json",
            "POST",
            "/echo-json",
            body=echo_body,
            content_type="application/json",
            check=_json_equals(ECHO_PAYLOAD),
        ),
        Endpoint("template", "GET", "/template", expected=_render_reference()),
        Endpoint(
            "cookie",
            "GET",
            "/cookie",
            extra_headers=(("cookie", f"{COOKIE_IN}={COOKIE_VALUE}; theme=dark"),),
            expected=COOKIE_VALUE.encode(),
            check=_cookie_set,
        ),
        Endpoint(
            "route-200",
            "GET",
            f"/api/v{DEEP_ROUTES}/items/{DEEP_ID}",
            expected=deep_answer(DEEP_ROUTES, DEEP_ID).encode(),
        ),
        Endpoint("missing", "GET", "/missing", status=404),
    ]
    return {ep.name: ep for ep in eps}


#: Every endpoint by name, in report order.
ENDPOINTS: dict[str, Endpoint] = _build_endpoints()

#: The endpoints served end to end.
E2E_ENDPOINTS = ("hello", "json", "params")


def wsgi_environ(ep: Endpoint) -> dict[str, t.Any]:
    """Return the WSGI environ of ``ep`` (without ``wsgi.input``)."""
    import sys

    environ: dict[str, t.Any] = {
        "REQUEST_METHOD": ep.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": ep.path,
        "QUERY_STRING": ep.query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "50000",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in ep.headers:
        if name == "content-type":
            environ["CONTENT_TYPE"] = value
        elif name == "content-length":
            environ["CONTENT_LENGTH"] = value
        else:
            environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def asgi_scope(ep: Endpoint) -> dict[str, t.Any]:
    """Return the ASGI HTTP scope of ``ep``."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": ep.method,
        "scheme": "http",
        "path": ep.path,
        "raw_path": ep.path.encode(),
        "query_string": ep.query.encode(),
        "root_path": "",
        "headers": [(n.encode(), v.encode()) for n, v in ep.headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


def header_dict(pairs: t.Iterable[tuple[t.Any, t.Any]]) -> dict[str, str]:
    """Return response headers as a dict with lower-case names.

    ``set-cookie`` values are joined with newlines; other repeated headers
    keep the last value.
    """
    out: dict[str, str] = {}
    for name, value in pairs:
        if isinstance(name, bytes):
            name = name.decode("latin-1")
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        key = name.lower()
        if key == "set-cookie" and key in out:
            out[key] += "\n" + value
        else:
            out[key] = value
    return out
