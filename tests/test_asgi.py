from __future__ import annotations

import asyncio
import io
import sys
import typing as t

import pytest

import erlen
from erlen import asgi as asgi_module
from erlen.asgi import build_environ
from erlen.middleware.proxy_fix import ProxyFix

Message = dict[str, t.Any]


def _scope(path: str = "/", method: str = "GET", **extra: t.Any) -> dict[str, t.Any]:
    scope: dict[str, t.Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    scope.update(extra)
    return scope


async def _call(
    app: t.Any, scope: dict[str, t.Any], incoming: list[Message]
) -> list[Message]:
    sent: list[Message] = []
    queue = list(incoming)

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        # Like a server whose client stays: wait (the driver cancels this).
        return await asyncio.get_running_loop().create_future()  # type: ignore[no-any-return]

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def _run(app: t.Any, scope: dict[str, t.Any], incoming: list[Message]) -> list[Message]:
    return asyncio.run(_call(app, scope, incoming))


def _body(sent: list[Message]) -> bytes:
    return b"".join(
        m.get("body", b"") for m in sent if m["type"] == "http.response.body"
    )


def _request(body: bytes = b"", more: bool = False) -> Message:
    return {"type": "http.request", "body": body, "more_body": more}


def _chunked(path: str = "/", method: str = "POST") -> dict[str, t.Any]:
    # An HTTP/1.1 request whose body has no length given up front: the
    # driver receives it (a request with neither header has no body).
    headers = [(b"host", b"testserver"), (b"transfer-encoding", b"chunked")]
    return _scope(path, method, headers=headers)


def test_build_environ() -> None:
    scope = _scope(
        "/root/a b",
        raw_path=b"/root/a%20b?ignored",
        root_path="/root",
        query_string=b"x=1",
        headers=[
            (b"content-type", b"text/plain"),
            (b"content-length", b"3"),
            (b"cookie", b"a=1"),
            (b"cookie", b"b=2"),
            (b"x-many", b"1"),
            (b"x-many", b"2"),
        ],
        client=None,
        server=("h", None),
    )
    environ = build_environ(scope, None)  # type: ignore[arg-type]
    assert environ["SCRIPT_NAME"] == "/root"
    assert environ["PATH_INFO"] == "/a b"
    assert environ["QUERY_STRING"] == "x=1"
    assert environ["CONTENT_TYPE"] == "text/plain"
    assert environ["CONTENT_LENGTH"] == "3"
    assert environ["HTTP_COOKIE"] == "a=1; b=2"
    assert environ["HTTP_X_MANY"] == "1, 2"
    assert environ["REMOTE_ADDR"] is None
    assert "REMOTE_PORT" not in environ
    assert environ["SERVER_PORT"] == ""
    environ = build_environ({"method": "GET", "path": "/é"}, None)  # type: ignore[arg-type]
    assert environ["PATH_INFO"] == "/é".encode().decode("latin-1")
    assert environ["SERVER_NAME"] == "localhost"


def test_build_environ_path_info_without_root_path() -> None:
    # Without a root_path, PATH_INFO comes from a cache of raw paths: the
    # same answers the first time and the next, and long paths are not kept.
    long_path = b"/" + b"x" * asgi_module._PATH_INFO_MAX
    cases = [
        (b"/plain", "/plain"),
        (b"/q?x=1", "/q"),
        (b"/a%20b%2Fc", "/a b/c"),
        (b"/both%3F?y", "/both?"),
        ("/é".encode(), "/é".encode().decode("latin-1")),
        (long_path, long_path.decode()),
    ]
    for raw_path, expected in cases:
        for _ in range(2):
            environ = build_environ(_scope(raw_path=raw_path), None)  # type: ignore[arg-type]
            assert environ["PATH_INFO"] == expected
            assert environ["SCRIPT_NAME"] == ""
    assert asgi_module._PATH_INFOS[b"/a%20b%2Fc"] == "/a b/c"
    assert long_path not in asgi_module._PATH_INFOS
    # No raw_path: the decoded path, as before.
    environ = build_environ(_scope("/p q", raw_path=None), None)  # type: ignore[arg-type]
    assert environ["PATH_INFO"] == "/p q"
    # An empty or missing query string gives "".
    for extra in ({"query_string": b""}, {}):
        scope = _scope(**extra)
        if not extra:
            del scope["query_string"]
        assert build_environ(scope, None)["QUERY_STRING"] == ""  # type: ignore[arg-type]


def test_raw_headers_not_merged(app: erlen.Flask) -> None:
    @app.route("/")
    def index() -> str:
        h = erlen.request.headers
        return repr((h.getlist("X-Foo"), h.getlist("X_Foo")))

    scope = _scope(headers=[(b"x-foo", b"dash"), (b"x_foo", b"underscore")])
    sent = _run(app, scope, [_request()])
    assert _body(sent) == repr((["dash"], ["underscore"])).encode()


def _body_app(app: erlen.Flask, seen: list[t.Any]) -> erlen.Flask:
    @app.route("/", methods=["GET", "POST"])
    def index() -> str:
        stream = erlen.request.environ["wsgi.input"]
        seen.append((type(stream).__name__, erlen.request.get_data()))
        return "ok"

    return app


@pytest.mark.parametrize("version", ["1.1", "1.0"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_no_receive_for_a_request_without_a_body(
    app: erlen.Flask, version: str, method: str
) -> None:
    # HTTP/1.x: neither Content-Length nor Transfer-Encoding means no body
    # (RFC 9112, section 6.3): the driver does not wait for its message.
    seen: list[t.Any] = []
    _body_app(app, seen)
    sent: list[Message] = []

    async def receive() -> Message:
        raise AssertionError("receive() called")

    async def send(message: Message) -> None:
        sent.append(message)

    scope = _scope(method=method, http_version=version)
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 200
    assert _body(sent) == b"ok"
    # The shared empty input (a read-only BytesIO).
    assert seen == [("_NoBody", b"")]


@pytest.mark.parametrize(
    ("version", "headers"),
    [
        # HTTP/2 and 3 frame a body without either header: always received.
        ("2", []),
        ("3", []),
        ("1.1", [(b"content-length", b"3")]),
        ("1.1", [(b"Content-Length", b"3")]),
        ("1.0", [(b"content-length", b"3")]),
        ("1.1", [(b"transfer-encoding", b"chunked")]),
    ],
)
def test_body_received_when_framed(
    app: erlen.Flask, version: str, headers: list[tuple[bytes, bytes]]
) -> None:
    seen: list[t.Any] = []
    _body_app(app, seen)
    scope = _scope(method="POST", http_version=version, headers=headers)
    sent = _run(app, scope, [_request(b"ab", True), _request(b"c")])
    assert _body(sent) == b"ok"
    assert seen == [("BytesIO", b"abc")]


def test_empty_length_body_received(app: erlen.Flask) -> None:
    # Content-Length: 0 is a (empty) body: its message is received.
    seen: list[t.Any] = []
    _body_app(app, seen)
    received: list[Message] = []
    sent: list[Message] = []

    async def receive() -> Message:
        received.append(_request())
        return received[-1]

    async def send(message: Message) -> None:
        sent.append(message)

    scope = _scope(method="POST", headers=[(b"content-length", b"0")])
    asyncio.run(app(scope, receive, send))
    assert _body(sent) == b"ok"
    assert len(received) == 1
    assert seen == [("BytesIO", b"")]


def test_body_in_memory_and_spooled(
    app: erlen.Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(asgi_module, "BODY_SPOOL_SIZE", 8)
    kinds: list[str] = []

    @app.route("/", methods=["POST"])
    def index() -> str:
        kinds.append(type(erlen.request.environ["wsgi.input"]).__name__)
        return str(len(erlen.request.get_data()))

    sent = _run(app, _chunked(), [_request(b"abc", True), _request(b"de")])
    assert _body(sent) == b"5"
    parts = [_request(b"12345", True), _request(b"67890", True), _request(b"1")]
    assert _body(_run(app, _chunked(), parts)) == b"11"
    assert kinds == ["BytesIO", "SpooledTemporaryFile"]


def test_disconnect_before_body_complete(app: erlen.Flask) -> None:
    called: list[int] = []

    @app.route("/", methods=["POST"])
    def index() -> str:  # never reached
        called.append(1)
        return "x"

    incoming = [_request(b"a", True), {"type": "http.disconnect"}]
    sent = _run(app, _chunked(), incoming)
    assert sent == []
    assert called == []
    index()
    assert called == [1]


def test_max_content_length_only_when_read(app: erlen.Flask) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 4

    @app.route("/read", methods=["POST"])
    def read() -> str:
        return str(len(erlen.request.get_data()))

    @app.route("/ignore", methods=["POST"])
    def ignore() -> str:
        return "ignored"

    parts = [_request(b"123", True), _request(b"456", True), _request(b"789")]
    sent = _run(app, _chunked("/read"), parts)
    assert sent[0]["status"] == 413
    parts = [_request(b"123", True), _request(b"456", True), _request(b"789")]
    sent = _run(app, _chunked("/ignore"), parts)
    assert sent[0]["status"] == 200
    assert _body(sent) == b"ignored"


@pytest.mark.parametrize(
    ("method", "status", "expect_body"),
    [
        ("HEAD", 200, False),
        ("GET", 204, False),
        ("GET", 304, False),
        ("GET", 200, True),
    ],
)
@pytest.mark.parametrize("kind", ["list", "sync", "async"])
def test_bodiless_responses(
    app: erlen.Flask, method: str, status: int, expect_body: bool, kind: str
) -> None:
    events: list[str] = []

    def sync_gen() -> t.Iterator[bytes]:
        yield b"data"
        events.append("done")

    async def async_gen() -> t.AsyncIterator[str]:
        yield "data"
        events.append("done")

    @app.route("/")
    def index() -> t.Any:
        body: t.Any = {"list": [b"data"], "sync": sync_gen(), "async": async_gen()}[
            kind
        ]
        return erlen.Response(body, status=status)

    sent = _run(app, _scope(method=method), [_request()])
    assert sent[0]["status"] == status
    assert _body(sent) == (b"data" if expect_body else b"")
    assert sent[-1].get("more_body", False) is False


def test_lifespan(app: erlen.Flask) -> None:
    events: list[str] = []

    @app.before_serving
    def sync_start() -> None:
        events.append(f"start {erlen.current_app.name}")

    @app.before_serving
    async def async_start() -> None:
        events.append("async start")

    @app.after_serving
    async def async_stop() -> None:
        events.append("async stop")

    @app.after_serving
    def sync_stop() -> None:
        events.append("stop")

    incoming = [
        {"type": "lifespan.other"},
        {"type": "lifespan.startup"},
        {"type": "lifespan.shutdown"},
    ]
    sent = _run(app, {"type": "lifespan"}, incoming)
    assert [m["type"] for m in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    assert events == ["start erlen_test_app", "async start", "async stop", "stop"]


def test_lifespan_failures(app: erlen.Flask) -> None:
    @app.before_serving
    def broken() -> None:
        raise RuntimeError("no database")

    sent = _run(app, {"type": "lifespan"}, [{"type": "lifespan.startup"}])
    assert sent == [
        {"type": "lifespan.startup.failed", "message": "RuntimeError('no database')"}
    ]

    other = erlen.Flask("other", root_path="/tmp")

    @other.after_serving
    def broken_stop() -> None:
        raise RuntimeError("stuck")

    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent = _run(other, {"type": "lifespan"}, incoming)
    assert [m["type"] for m in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.failed",
    ]


def test_websocket_refused(app: erlen.Flask) -> None:
    # No WebSocket rule for "/" (tests/test_websockets.py has the routes):
    # the handshake is refused (servers answer 403).
    sent = _run(
        app, {"type": "websocket", "path": "/"}, [{"type": "websocket.connect"}]
    )
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": ""}]


def test_unknown_scope_type(app: erlen.Flask) -> None:
    with pytest.raises(RuntimeError, match="scope type 'mystery'"):
        _run(app, {"type": "mystery"}, [])


def test_call_picks_protocol(app: erlen.Flask) -> None:
    import inspect

    assert inspect.iscoroutinefunction(app.__call__) or asyncio.iscoroutinefunction(
        app.__call__
    )

    @app.route("/")
    def index() -> str:
        return "x"

    sent = _run(app.asgi_app, _scope(), [_request()])
    assert _body(sent) == b"x"


def test_replaced_wsgi_app_honoured(app: erlen.Flask) -> None:
    @app.route("/")
    def index() -> str:
        return f"{erlen.request.remote_addr} {erlen.request.scheme}"

    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
    scope = _scope(
        headers=[(b"x-forwarded-for", b"10.0.0.9"), (b"x-forwarded-proto", b"https")]
    )
    sent = _run(app, scope, [_request()])
    assert sent[0]["status"] == 200
    assert _body(sent) == b"10.0.0.9 https"


def test_wrapped_wsgi_app_shapes(app: erlen.Flask) -> None:
    events: list[str] = []

    class Body:
        def __iter__(self) -> t.Iterator[bytes]:
            yield b"one"
            yield b"two"

        def close(self) -> None:
            events.append("closed")

    def empty_app(environ: dict[str, t.Any], start_response: t.Any) -> list[bytes]:
        start_response("204 NO CONTENT", [("X-A", "1")])
        return []

    def body_app(environ: dict[str, t.Any], start_response: t.Any) -> Body:
        start_response("200 OK", [])
        return Body()

    def writing_app(environ: dict[str, t.Any], start_response: t.Any) -> list[bytes]:
        write = start_response("200 OK", [])
        return [write(b"x")]  # type: ignore[list-item]

    def restarting_app(environ: dict[str, t.Any], start_response: t.Any) -> list[bytes]:
        start_response("200 OK", [])
        try:
            raise ValueError("restart")
        except ValueError:
            return start_response("500 ERROR", [], sys.exc_info())  # type: ignore[no-any-return]

    app.wsgi_app = empty_app  # type: ignore[method-assign]
    sent = _run(app, _scope(), [_request()])
    assert sent[0]["status"] == 204
    assert sent[0]["headers"] == [(b"x-a", b"1")]
    app.wsgi_app = body_app  # type: ignore[method-assign]
    assert _body(_run(app, _scope(), [_request()])) == b"onetwo"
    assert events == ["closed"]
    app.wsgi_app = writing_app  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="write\\(\\) callable"):
        _run(app, _scope(), [_request()])
    app.wsgi_app = restarting_app  # type: ignore[method-assign]
    with pytest.raises(ValueError, match="restart"):
        _run(app, _scope(), [_request()])


def test_send_response_without_context() -> None:
    events: list[str] = []

    def gen() -> t.Iterator[bytes]:
        yield b"a"
        yield b""
        events.append("done")

    async def agen() -> t.AsyncIterator[bytes]:
        yield b"b"

    async def main() -> list[Message]:
        sent: list[Message] = []

        async def send(message: Message) -> None:
            sent.append(message)

        environ = {"REQUEST_METHOD": "GET"}
        response = erlen.Response(gen())
        response.call_on_close(lambda: events.append("hook"))
        await asgi_module.send_response(response, environ, send)
        response = erlen.Response(agen())
        response.call_on_close(lambda: events.append("async hook"))
        await asgi_module.send_response(response, environ, send)
        await asgi_module.send_response(erlen.Response("c"), environ, send)
        return sent

    sent = asyncio.run(main())
    assert _body(sent) == b"abc"
    assert events == ["done", "hook", "async hook"]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_client_disconnect_mid_stream(app: erlen.Flask, kind: str) -> None:
    events: list[str] = []

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        events.append("teardown")

    def sync_gen() -> t.Iterator[bytes]:
        try:
            while True:
                yield b"tick"
        finally:
            events.append("closed")

    async def async_gen() -> t.AsyncIterator[bytes]:
        try:
            while True:
                await asyncio.sleep(0.001)
                yield b"tick"
        finally:
            events.append("closed")

    @app.route("/")
    def index() -> t.Any:
        return erlen.stream_with_context(sync_gen() if kind == "sync" else async_gen())

    async def main() -> list[Message]:
        sent: list[Message] = []
        disconnected = asyncio.Event()
        first = [True]

        async def receive() -> Message:
            if first[0]:
                first[0] = False
                return _request()
            await disconnected.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)
            if len(sent) >= 3:
                disconnected.set()

        await asyncio.wait_for(app(_scope(), receive, send), 10)
        return sent

    sent = asyncio.run(main())
    assert sent[0]["status"] == 200
    assert events == ["closed", "teardown"]


def test_plain_header_pairs_are_sent_fresh_per_request(app: erlen.Flask) -> None:
    # A buffered answer's pairs go out without a Headers object: each request
    # gets its own list (middleware may change it), long values included.
    @app.route("/<int:n>")
    def index(n: int) -> t.Any:
        return "x", {f"X-{i}": "v" for i in range(n)}

    @app.route("/long")
    def long() -> t.Any:
        return "x", {"X-Long": "v" * 201}

    def headers(path: str) -> list[t.Any]:
        sent = _run(app, _scope(path), [_request()])
        assert sent[0]["type"] == "http.response.start"
        assert _body(sent) == b"x"
        return sent[0]["headers"]  # type: ignore[no-any-return]

    first = headers("/1")
    assert sorted(first) == [
        (b"content-length", b"1"),
        (b"content-type", b"text/html; charset=utf-8"),
        (b"x-0", b"v"),
    ]
    first.append((b"x-added", b"by middleware"))
    again = headers("/1")
    assert again == first[:-1]
    assert again is not first
    assert len(headers("/2")) == 4
    assert (b"x-long", b"v" * 201) in headers("/long")
    assert sorted(headers("/0")) == sorted(p for p in first if p[0] != b"x-0")[:2]


def test_header_lists_for_head_and_overridden_headers(app: erlen.Flask) -> None:
    # HEAD gets the headers without the body; a get_wsgi_headers() override
    # is still called.
    class Custom(erlen.Response):
        def get_wsgi_headers(self, environ: t.Any) -> t.Any:
            headers = super().get_wsgi_headers(environ)
            headers["X-Custom"] = "1"
            return headers

    @app.route("/")
    def index() -> str:
        return "body"

    @app.route("/custom")
    def custom() -> t.Any:
        return Custom("body")

    sent = _run(app, _scope("/", method="HEAD"), [_request()])
    assert sent[0]["status"] == 200
    assert (b"content-length", b"4") in sent[0]["headers"]
    assert _body(sent) == b""
    sent = _run(app, _scope("/custom"), [_request()])
    assert (b"x-custom", b"1") in sent[0]["headers"]
    assert _body(sent) == b"body"


def test_call_with_named_arguments(app: erlen.Flask) -> None:
    # Flask's __call__(environ, start_response) takes its arguments by name
    # too; three positional arguments serve ASGI.
    from erlen.testing import create_environ

    @app.route("/")
    def index() -> str:
        return "x"

    started: list[t.Any] = []
    body = app(
        environ=create_environ("/"),
        start_response=lambda status, headers, exc_info=None: started.append(status),
    )
    assert b"".join(body) == b"x"
    assert started == ["200 OK"]
    sent = _run(app, _scope(), [_request()])
    assert _body(sent) == b"x"


def test_test_client_body_without_length_same_as_wsgi(app: erlen.Flask) -> None:
    # A test-client body of unknown length (an unseekable stream and no
    # content_length) has no framing header: empty under ASGI as under WSGI.
    from erlen.testing import Client

    @app.post("/")
    def index() -> str:
        return repr(erlen.request.get_data())

    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.data = io.BytesIO(b"hello")

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: t.Any) -> int:
            return self.data.readinto(buffer)

    answers = [
        Client(app, asgi=asgi).post("/", input_stream=Unseekable()).data
        for asgi in (False, True)
    ]
    assert answers == [b"b''", b"b''"]
    sized = Client(app, asgi=True).post(
        "/", input_stream=Unseekable(), content_length=5
    )
    assert sized.data == b"b'hello'"


class _NoLength(erlen.Response):
    automatically_set_content_length = False


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_buffered_answers_same_as_wsgi(app: erlen.Flask, method: str) -> None:
    # The buffered answer sent without get_wsgi_headers() (serve's plain
    # pass) has WSGI's status, headers and body, whatever the header pairs
    # (Location rewritten, Content-Length given in any case or missing) and
    # chunks (str, bytearray) are.
    answers: dict[str, t.Callable[[], t.Any]] = {
        "plain": lambda: "body",
        "location": lambda: erlen.Response("x", 302, {"Location": "/p\u00e4th"}),
        "content-location": lambda: erlen.Response(
            "x", headers={"Content-Location": "/\u00e4"}
        ),
        "lower-length": lambda: erlen.Response(
            [b"ab"], headers={"content-length": "2"}
        ),
        "no-length": lambda: erlen.Response([b"a", b"bc"]),
        "one-chunk-no-length": lambda: erlen.Response([b"abc"]),
        "one-chunk-no-auto-length": lambda: _NoLength([b"abc"]),
        "no-auto-length": lambda: _NoLength([b"a", b"bc"]),
        "str-chunks": lambda: erlen.Response(["a", "\u00e9"]),
        "bytearray": lambda: erlen.Response([bytearray(b"ab")]),
        "long-value": lambda: erlen.Response("x", headers={"X-Long": "v" * 300}),
        "no-content": lambda: erlen.Response([b"x"], 204),
        "not-modified": lambda: erlen.Response([b"x"], 304, {"ETag": '"a"'}),
    }
    for name, answer in answers.items():
        app.add_url_rule(f"/{name}", name, answer, methods=["GET"])
    client = app.test_client()
    for name in answers:
        for _ in range(2):  # the second time from the caches
            wsgi = client.open(f"/{name}", method=method)
            sent = _run(app, _scope(f"/{name}", method=method), [_request()])
            assert sent[0]["status"] == wsgi.status_code, name
            expected = [
                (k.lower().encode("latin-1"), v.encode("latin-1"))
                for k, v in wsgi.headers.to_wsgi_list()
            ]
            assert sent[0]["headers"] == expected, name
            assert _body(sent) == wsgi.get_data(), name
            assert sent[-1].get("more_body", False) is False


def test_build_environ_extensions(app: erlen.Flask) -> None:
    # Empty or missing extensions preserve nothing.
    for extra in ({}, {"extensions": {}}, {"extensions": None}):
        environ = build_environ(_scope(**extra), io.BytesIO())
        assert "erlen.debug.preserve_context" not in environ
    environ = build_environ(
        _scope(extensions={"erlen.preserve_context": True}), io.BytesIO()
    )
    assert environ["erlen.debug.preserve_context"] is True


def test_shared_empty_input_reads_as_a_new_one(app: erlen.Flask) -> None:
    # A request without a body reads from a shared empty stream: empty
    # wherever it is read from, never written to, never closed or moved.
    streams: list[t.Any] = []

    @app.route("/")
    def index() -> str:
        stream = erlen.request.environ["wsgi.input"]
        streams.append(stream)
        assert isinstance(stream, io.BytesIO)
        assert stream.read() == b""
        assert stream.read(10) == b""
        assert stream.readline() == b""
        assert stream.readlines() == []
        assert stream.readable()
        assert stream.seekable()
        assert not stream.writable()
        for write in (
            lambda: stream.write(b"x"),
            lambda: stream.writelines([b"x"]),
            lambda: stream.truncate(0),
        ):
            with pytest.raises(io.UnsupportedOperation):
                write()
        assert stream.seek(5) == 5
        assert stream.tell() == 0
        assert stream.seek(0, io.SEEK_END) == 0
        with pytest.raises(ValueError, match="negative"):
            stream.seek(-1)
        stream.close()
        assert not stream.closed
        assert stream.getvalue() == b""
        return "ok"

    for _ in range(2):
        sent = _run(app, _scope(), [])
        assert _body(sent) == b"ok"
    assert streams[0] is streams[1]
    assert not streams[0].closed
