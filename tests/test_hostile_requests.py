"""Hostile and malformed requests never get a 500, under WSGI or ASGI.

Hypothesis generates requests a real server could hand over (any method,
raw path and query bytes, odd header values, lying lengths, broken bodies)
and sends them to an app whose views read most of the request API the way
apps do. Whatever arrives, the answer is a 2xx/3xx/4xx, never a 5xx: bad
input is the client's error. The app is not in testing mode, so an
unhandled exception would surface as the 500 it would be in production.
"""

from __future__ import annotations

import asyncio
import io
import logging
import typing as t
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st

import erlen
from erlen import jsonify
from erlen import redirect
from erlen import request
from erlen import session
from erlen import url_for

HEADER_NAMES = [
    "Host",
    "Cookie",
    "Content-Type",
    "Content-Length",
    "Transfer-Encoding",
    "Accept",
    "Accept-Language",
    "Accept-Encoding",
    "Accept-Charset",
    "If-Modified-Since",
    "If-Unmodified-Since",
    "If-None-Match",
    "If-Match",
    "If-Range",
    "Range",
    "Authorization",
    "Cache-Control",
    "Pragma",
    "X-Forwarded-For",
    "User-Agent",
    "Date",
    "Origin",
    "Referer",
    "Max-Forwards",
]

#: Values shaped like what each header carries, plus arbitrary bytes.
SHAPED_VALUES = [
    "",
    " ",
    "0",
    "-1",
    "99999999999999999999999",
    "1e3",
    "chunked",
    "gzip, chunked",
    "text/html;q=0.5, */*;q=abc",
    "application/json",
    "application/json; charset=utf-16",
    "application/json; charset=bogus",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "multipart/form-data; boundary=xyz",
    'multipart/form-data; boundary="a b"',
    "multipart/form-data; boundary=" + "b" * 300,
    "bytes=0-",
    "bytes=5-2",
    "bytes=-0",
    "bytes=0-1,2-3,4-5,6-7,8-9",
    "bytes=abc",
    "items=0-1",
    "Basic",
    "Basic !!!",
    "Basic dXNlcjpwYXNz",
    "Basic dXNlcg==",
    "Bearer",
    'Digest username="a", realm=',
    '"etag"',
    'W/"weak", "strong", *',
    "*",
    "Thu, 01 Jan 1970 00:00:00 GMT",
    "Mon, 32 Foo 99999 99:99:99 GMT",
    "session=abc; session=def",
    "session=" + "A" * 5000,
    "a=b; c",
    '=; ==; ";"',
    "max-age=abc, no-cache",
    "localhost",
    "localhost:99999999",
    "[::1",
    "évil.example",
    "1.2.3.4, , unknown, ::1",
]

latin1_text = st.binary(max_size=120).map(lambda b: b.decode("latin-1"))
header_value = st.one_of(st.sampled_from(SHAPED_VALUES), latin1_text)
path_prefix = st.sampled_from(
    [
        "/",
        "/echo",
        "/echo/",
        "/json",
        "/form",
        "/session",
        "/go",
        "/user/",
        "/user/12/",
        "/user/12/a/b",
        "/file/hello.txt",
        "/file/../hello.txt",
        "/static/",
        "/static/hello.txt",
        "/file/",
        "//",
        "",
        "/%",
        "/echo%00",
    ]
)
# Mostly a route's own path (so the views run), sometimes with junk after it.
path_tail = st.one_of(st.just(b""), st.just(b""), st.just(b""), st.binary(max_size=40))
raw_path = st.tuples(path_prefix, path_tail).map(
    lambda pair: pair[0].encode() + pair[1]
)
query = st.one_of(
    st.sampled_from(
        [
            b"",
            b"q=1&q=2&next=/x",
            b"next=http://evil.example/%0d%0aX-Injected:%201",
            b"next=%0d%0aSet-Cookie:%20a=b",
            b"v=%ff%fe&v=\xff",
            b"&&&==&=",
            b"a=" + b"%" * 50,
            b"q=" + b"x" * 3000,
        ]
    ),
    st.binary(max_size=200),
)
body = st.one_of(
    st.sampled_from(
        [
            b"",
            b"{",
            b'{"a": [1, 2, {"b": null}]}',
            b"[" * 5000,
            b'"\xff"',
            b"a=1&b=%zz&c",
            b'--xyz\r\nContent-Disposition: form-data; name="f"; filename="../../x"'
            b"\r\n\r\ndata\r\n--xyz--\r\n",
            b"--xyz\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--xyz--",
            b"--xyz\r\n\r\n\r\n",
        ]
    ),
    st.binary(max_size=600),
)
method = st.one_of(
    st.sampled_from(["GET", "POST"]),
    st.sampled_from(["GET", "POST", "PUT", "HEAD", "OPTIONS", "DELETE", "PATCH"]),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ-_", min_size=1, max_size=12),
)


class Hostile(t.NamedTuple):
    method: str
    path: bytes
    query: bytes
    headers: list[tuple[str, str]]
    body: bytes


hostile_requests = st.builds(
    Hostile,
    method=method,
    path=raw_path,
    query=query,
    headers=st.lists(
        st.tuples(st.sampled_from(HEADER_NAMES), header_value), max_size=8
    ),
    body=body,
)


def make_app(static: Path) -> erlen.Flask:
    """An app whose views read the request API the way apps do."""
    app = erlen.Flask(
        "hostile",
        static_folder=str(static),
        static_url_path="/static",
        root_path=str(static),
    )
    app.config.update(SECRET_KEY="hostile requests", MAX_CONTENT_LENGTH=4096)
    app.logger.setLevel(logging.CRITICAL)

    @app.route("/echo", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def echo() -> t.Any:
        accept = request.accept_mimetypes
        info = {
            "args": request.args.to_dict(flat=False),
            "form": request.form.to_dict(flat=False),
            "files": {k: f.filename for k, f in request.files.items()},
            "json": request.get_json(silent=True),
            "cookies": request.cookies.to_dict(),
            "url": request.url,
            "base": request.base_url,
            "host": request.host,
            "root": request.url_root,
            "full": request.full_path,
            "remote": request.remote_addr,
            "route": request.access_route,
            "agent": request.user_agent.string,
            "best": accept.best_match(["text/html", "application/json"]),
            "langs": list(request.accept_languages.values()),
            "enc": str(request.accept_encodings),
            "charsets": str(request.accept_charsets),
            "ims": str(request.if_modified_since),
            "ius": str(request.if_unmodified_since),
            "inm": str(request.if_none_match),
            "im": str(request.if_match),
            "ir": str(request.if_range),
            "range": str(request.range),
            "cc": str(request.cache_control),
            "pragma": str(request.pragma),
            "auth": str(request.authorization),
            "date": str(request.date),
            "mf": request.max_forwards,
            "len": request.content_length,
            "type": request.mimetype,
            "params": request.mimetype_params,
            "origin": request.origin,
            "referrer": request.referrer,
            "data": len(request.get_data()),
            "values": request.values.to_dict(flat=False),
            "link": url_for("echo", q=request.args.get("q"), _external=True),
        }
        return jsonify(info)

    @app.route("/json", methods=["POST", "PUT"])
    def json_view() -> t.Any:
        return jsonify(request.get_json())

    @app.route("/form", methods=["POST"])
    def form_view() -> t.Any:
        return request.form["name"] + request.files["upload"].filename

    @app.route("/session", methods=["GET", "POST"])
    def session_view() -> t.Any:
        seen = session.get("seen", [])
        seen.append(request.args.get("v", ""))
        session["seen"] = seen[-3:]
        response = erlen.make_response(str(len(seen)))
        response.set_cookie("echo", request.args.get("v", ""))
        return response

    @app.route("/go")
    def go() -> t.Any:
        return redirect(request.args.get("next", "/"))

    @app.route("/user/<int:id>/<path:rest>")
    def user(id: int, rest: str) -> t.Any:
        return {"id": id, "rest": rest}

    @app.route("/file/<path:name>")
    def file(name: str) -> t.Any:
        return erlen.send_from_directory(static, name, conditional=True)

    return app


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory: pytest.TempPathFactory) -> erlen.Flask:
    static = tmp_path_factory.mktemp("static")
    (static / "hello.txt").write_bytes(b"hello, static\n" * 50)
    return make_app(static)


def wsgi_status(app: erlen.Flask, req: Hostile) -> int:
    environ: dict[str, t.Any] = {
        "REQUEST_METHOD": req.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": req.path.decode("latin-1"),
        "QUERY_STRING": req.query.decode("latin-1"),
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(req.body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in req.headers:
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        environ[key] = value
    statuses: list[str] = []
    chunks = app(
        environ, lambda status, headers, exc_info=None: statuses.append(status)
    )
    try:
        b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return int(statuses[0].split()[0])


def asgi_status(app: erlen.Flask, req: Hostile) -> int:
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in req.headers
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": req.method,
        "scheme": "http",
        "path": req.path.decode("utf-8", "replace"),
        "raw_path": req.path,
        "query_string": req.query,
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1234),
        "server": ("localhost", 80),
    }
    sent: list[dict[str, t.Any]] = []
    messages = [{"type": "http.request", "body": req.body, "more_body": False}]

    async def receive() -> dict[str, t.Any]:
        if messages:
            return messages.pop()
        await asyncio.sleep(3600)  # the client stays connected
        raise AssertionError("unreachable")

    async def send(message: dict[str, t.Any]) -> None:
        sent.append(message)

    asyncio.run(asyncio.wait_for(app(scope, receive, send), 30))
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert len(starts) == 1, sent
    return int(starts[0]["status"])


HOSTILE_SETTINGS = settings(
    deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@HOSTILE_SETTINGS
@given(req=hostile_requests)
def test_wsgi_never_answers_5xx(hostile_app: erlen.Flask, req: Hostile) -> None:
    status = wsgi_status(hostile_app, req)
    assert 200 <= status < 500, (status, req)


@HOSTILE_SETTINGS
@given(req=hostile_requests)
def test_asgi_never_answers_5xx(hostile_app: erlen.Flask, req: Hostile) -> None:
    status = asgi_status(hostile_app, req)
    assert 200 <= status < 500, (status, req)


def test_the_views_answer_well_formed_requests(hostile_app: erlen.Flask) -> None:
    """The app really reaches its views (the property above is not vacuous)."""
    ok = Hostile("GET", b"/echo", b"q=1", [("Accept", "application/json")], b"")
    assert wsgi_status(hostile_app, ok) == 200
    assert asgi_status(hostile_app, ok) == 200
    form = Hostile(
        "POST",
        b"/form",
        b"",
        [("Content-Type", "multipart/form-data; boundary=xyz")],
        b'--xyz\r\nContent-Disposition: form-data; name="name"\r\n\r\nann\r\n'
        b'--xyz\r\nContent-Disposition: form-data; name="upload"; filename="a.txt"'
        b"\r\n\r\ndata\r\n--xyz--\r\n",
    )
    form = form._replace(
        headers=[*form.headers, ("Content-Length", str(len(form.body)))]
    )
    assert wsgi_status(hostile_app, form) == 200
    assert asgi_status(hostile_app, form) == 200
    assert wsgi_status(hostile_app, Hostile("GET", b"/user/7/a/b", b"", [], b"")) == 200
    assert (
        wsgi_status(hostile_app, Hostile("GET", b"/file/hello.txt", b"", [], b""))
        == 200
    )
    assert (
        wsgi_status(hostile_app, Hostile("GET", b"/static/hello.txt", b"", [], b""))
        == 200
    )
    assert wsgi_status(hostile_app, Hostile("GET", b"/go", b"next=/x", [], b"")) == 302


# -- WebSocket connections ------------------------------------------------------

ws_message = st.one_of(
    st.builds(lambda s: {"type": "websocket.receive", "text": s}, st.text(max_size=60)),
    st.builds(
        lambda b: {"type": "websocket.receive", "bytes": b}, st.binary(max_size=60)
    ),
    st.sampled_from(
        [
            {"type": "websocket.receive", "text": '{"a": [1, {"b": null}]}'},
            {"type": "websocket.receive", "text": "[" * 3000},
            {"type": "websocket.receive", "text": "x" * 3000},
            {"type": "websocket.receive"},
            {"type": "websocket.disconnect", "code": 1000},
            {"type": "websocket.disconnect"},
        ]
    ),
)


def make_ws_app() -> erlen.Flask:
    app = erlen.Flask("hostile_ws")
    app.config.update(SECRET_KEY="ws", WEBSOCKET_MAX_MESSAGE_SIZE=2048)
    app.logger.setLevel(logging.CRITICAL)
    torn_down: list[bool] = []
    app.extensions["torn_down"] = torn_down

    @app.websocket("/json")
    async def json_echo() -> None:
        while True:
            data = await erlen.websocket.receive_json()
            await erlen.websocket.send_json({"got": data, "args": request.args})

    @app.websocket("/echo/<int:times>")
    async def echo(times: int) -> None:
        for _ in range(min(times, 3)):
            await erlen.websocket.send(await erlen.websocket.receive())
        await erlen.websocket.close(1000)

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        torn_down.append(True)

    return app


@HOSTILE_SETTINGS
@given(
    path=st.sampled_from(["/json", "/echo/2", "/echo/x", "/nowhere", "/json?a=%ff"]),
    messages=st.lists(ws_message, max_size=6),
    subprotocols=st.lists(st.text(max_size=5), max_size=2),
)
def test_websocket_connections_end_cleanly(
    path: str, messages: list[dict[str, t.Any]], subprotocols: list[str]
) -> None:
    # Whatever the client sends, the app returns normally (nothing escapes to
    # the server, which would log an "Exception in ASGI application"), the
    # connection ends accepted-and-closed or refused, and teardown runs once.
    app = make_ws_app()
    raw_path, _, query = path.partition("?")
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "scheme": "ws",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"upgrade", b"websocket")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "subprotocols": subprotocols,
    }
    incoming = [{"type": "websocket.connect"}, *messages]
    sent: list[dict[str, t.Any]] = []

    async def receive() -> dict[str, t.Any]:
        if incoming:
            return incoming.pop(0)
        return {"type": "websocket.disconnect", "code": 1006}

    async def send(message: dict[str, t.Any]) -> None:
        sent.append(message)

    asyncio.run(asyncio.wait_for(app(scope, receive, send), 30))
    kinds = [m["type"] for m in sent]
    assert kinds.count("websocket.close") <= 1
    if "websocket.accept" in kinds:
        assert kinds[0] == "websocket.accept"
    else:  # refused: a close before any accept, nothing else
        assert kinds == ["websocket.close"]
    for message in sent:
        if message["type"] == "websocket.close":
            assert 1000 <= message["code"] < 5000
            assert message["code"] != 1011, sent  # no server error
    assert app.extensions["torn_down"] == [True]
