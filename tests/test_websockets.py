"""WebSocket routes in-process: the raw ASGI app driven with hand-made messages."""

from __future__ import annotations

import asyncio
import datetime
import logging
import typing as t

import pytest

import erlen
from erlen import abort
from erlen import Blueprint
from erlen import current_app
from erlen import Flask
from erlen import g
from erlen import request
from erlen import session
from erlen import url_for
from erlen import websocket
from erlen.exceptions import WebsocketDisconnect
from erlen.websockets import build_environ
from erlen.websockets import Websocket

Message = dict[str, t.Any]

CONNECT: Message = {"type": "websocket.connect"}
HTTP_RESPONSE = {"websocket.http.response": {}}


def text(data: str) -> Message:
    return {"type": "websocket.receive", "text": data}


def binary(data: bytes) -> Message:
    return {"type": "websocket.receive", "bytes": data}


def disconnect(code: int = 1001, reason: str = "") -> Message:
    return {"type": "websocket.disconnect", "code": code, "reason": reason}


def ws_scope(path: str = "/ws", **extra: t.Any) -> dict[str, t.Any]:
    raw_path, _, query = path.partition("?")
    scope: dict[str, t.Any] = {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "ws",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"connection", b"Upgrade"),
            (b"upgrade", b"websocket"),
        ],
        "client": ("127.0.0.3", 5000),
        "server": ("testserver", 80),
        "subprotocols": [],
        "extensions": {},
    }
    scope.update(extra)
    return scope


def run(
    app: t.Any,
    incoming: list[Message] | None = None,
    path: str = "/ws",
    send_error: BaseException | None = None,
    **extra: t.Any,
) -> list[Message]:
    """Connect to ``path``, feed ``incoming`` after the connect, return what was sent.

    Once ``incoming`` is used up the client "goes away" (a 1006 disconnect).
    With ``send_error``, every send after the accept raises it (a server
    whose client has gone).
    """
    messages = [CONNECT, *(incoming or [])]
    sent: list[Message] = []

    async def receive() -> Message:
        await asyncio.sleep(0)
        return messages.pop(0) if messages else disconnect(1006)

    async def send(message: Message) -> None:
        if send_error is not None and message["type"] == "websocket.send":
            raise send_error
        sent.append(message)

    asyncio.run(app(ws_scope(path, **extra), receive, send))
    return sent


def kinds(sent: list[Message]) -> list[str]:
    return [m["type"] for m in sent]


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.secret_key = "websocket-test-key"

    @app.websocket("/ws")
    async def echo() -> None:
        while True:
            data = await websocket.receive()
            await websocket.send(data)

    return app


# -- handshake, echo, close -------------------------------------------------------


def test_echo_text_and_bytes_with_implicit_accept(app: Flask) -> None:
    sent = run(app, [text("hello"), binary(b"\x00\xff"), disconnect()])
    assert sent == [
        {"type": "websocket.accept", "subprotocol": None},
        {"type": "websocket.send", "text": "hello"},
        {"type": "websocket.send", "bytes": b"\x00\xff"},
    ]


def test_view_returning_closes_normally(app: Flask) -> None:
    @app.websocket("/once")
    async def once() -> None:
        await websocket.send("bye")

    sent = run(app, path="/once")
    assert sent[-1] == {"type": "websocket.close", "code": 1000, "reason": ""}
    assert kinds(sent) == ["websocket.accept", "websocket.send", "websocket.close"]


def test_explicit_close_code_and_reason(app: Flask) -> None:
    after_close: list[object] = []

    @app.websocket("/close")
    async def close() -> None:
        await websocket.accept()
        await websocket.close(4000, "go away")
        await websocket.close()  # a second close does nothing
        try:
            await websocket.send("late")
        except WebsocketDisconnect as e:
            after_close.append(e.code)
            raise

    sent = run(app, path="/close")
    assert sent == [
        {"type": "websocket.accept", "subprotocol": None},
        {"type": "websocket.close", "code": 4000, "reason": "go away"},
    ]
    assert after_close == [4000]


def test_accept_with_subprotocol_and_headers(app: Flask) -> None:
    seen: list[object] = []

    @app.websocket("/proto")
    async def proto() -> None:
        seen.append(websocket.subprotocols)
        seen.append(websocket.requested_subprotocols)
        await websocket.accept(
            subprotocol="chat.v2", headers={"X-Server": "erlen", "Set-Thing": "1"}
        )
        await websocket.send("hi")

    sent = run(app, path="/proto", subprotocols=["chat.v1", "chat.v2"])
    assert sent[0] == {
        "type": "websocket.accept",
        "subprotocol": "chat.v2",
        "headers": [(b"x-server", b"erlen"), (b"set-thing", b"1")],
    }
    assert seen == [["chat.v1", "chat.v2"], ["chat.v1", "chat.v2"]]


def test_unrequested_subprotocol_refuses_with_500(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    @app.websocket("/proto")
    async def proto() -> None:
        await websocket.accept(subprotocol="nope")

    sent = run(app, path="/proto", subprotocols=["chat"], extensions=HTTP_RESPONSE)
    assert sent[0]["type"] == "websocket.http.response.start"
    assert sent[0]["status"] == 500
    assert "did not ask for the subprotocol 'nope'" in caplog.text


def test_header_with_newline_refused(app: Flask) -> None:
    @app.websocket("/inject")
    async def inject() -> None:
        await websocket.accept(headers=[("X-A", "1\r\nSet-Cookie: x=1")])

    sent = run(app, path="/inject")
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": ""}]


def test_accept_twice_is_an_error(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    @app.websocket("/twice")
    async def twice() -> None:
        await websocket.send("x")
        await websocket.accept()

    sent = run(app, path="/twice")
    assert sent[-1] == {
        "type": "websocket.close",
        "code": 1011,
        "reason": "Internal Server Error",
    }
    assert "already accepted" in caplog.text


def test_send_rejects_other_types(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    @app.websocket("/int")
    async def send_int() -> None:
        await websocket.send(42)  # type: ignore[arg-type]

    sent = run(app, path="/int", extensions=HTTP_RESPONSE)
    assert sent[0]["status"] == 500
    assert "send() got a int" in caplog.text


# -- JSON -----------------------------------------------------------------------


def test_json_round_trip_through_the_app_provider(app: Flask) -> None:
    @app.websocket("/json")
    async def json_view() -> None:
        data = await websocket.receive_json()
        await websocket.send_json(
            {"got": data, "when": datetime.date(2026, 1, 2), "sorted": {"b": 1, "a": 2}}
        )

    sent = run(app, [text('{"n": [1, 2]}')], path="/json")
    # The app's provider (app.json.dumps): dates as HTTP dates, keys sorted.
    assert sent[1] == {
        "type": "websocket.send",
        "text": '{"got": {"n": [1, 2]}, "sorted": {"a": 2, "b": 1},'
        ' "when": "Fri, 02 Jan 2026 00:00:00 GMT"}',
    }


def test_json_from_binary_frame(app: Flask) -> None:
    @app.websocket("/json")
    async def json_view() -> None:
        await websocket.send_json(await websocket.receive_json())

    sent = run(app, [binary(b"[true]")], path="/json")
    assert sent[1] == {"type": "websocket.send", "text": "[true]"}


@pytest.mark.parametrize("payload", ["{not json", "[" * 300 + "]" * 300])
def test_bad_json_closes_with_1007(
    app: Flask, caplog: pytest.LogCaptureFixture, payload: str
) -> None:
    reached: list[str] = []

    @app.websocket("/json")
    async def json_view() -> None:
        await websocket.receive_json()
        reached.append("after")

    with caplog.at_level(logging.WARNING):
        sent = run(app, [text(payload)], path="/json")
    assert sent[-1] == {
        "type": "websocket.close",
        "code": 1007,
        "reason": "invalid JSON",
    }
    assert reached == []
    assert "not valid JSON" in caplog.text
    assert "Exception on" not in caplog.text


# -- limits ---------------------------------------------------------------------


def test_message_over_the_limit_closes_with_1009(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["WEBSOCKET_MAX_MESSAGE_SIZE"] = 10
    with caplog.at_level(logging.WARNING):
        sent = run(app, [text("0123456789"), binary(b"x" * 11), text("never")])
    assert sent == [
        {"type": "websocket.accept", "subprotocol": None},
        {"type": "websocket.send", "text": "0123456789"},
        {"type": "websocket.close", "code": 1009, "reason": "message too big"},
    ]
    assert "11 bytes on /ws is larger than WEBSOCKET_MAX_MESSAGE_SIZE (10)" in (
        caplog.text
    )


def test_limit_counts_utf8_bytes_of_text(app: Flask) -> None:
    app.config["WEBSOCKET_MAX_MESSAGE_SIZE"] = 8
    # Four characters, but twelve bytes in UTF-8.
    sent = run(app, [text("日本語!")])
    assert sent[-1]["code"] == 1009


def test_default_limit_is_one_mib(app: Flask) -> None:
    assert app.config["WEBSOCKET_MAX_MESSAGE_SIZE"] == 1024 * 1024
    big = "x" * (1024 * 1024)
    sent = run(app, [text(big), text(big + "x")])
    assert sent[1] == {"type": "websocket.send", "text": big}
    assert sent[2]["code"] == 1009


def test_no_limit_with_none(app: Flask) -> None:
    app.config["WEBSOCKET_MAX_MESSAGE_SIZE"] = None
    big = b"x" * (2 * 1024 * 1024)
    sent = run(app, [binary(big), disconnect()])
    assert sent[1] == {"type": "websocket.send", "bytes": big}


# -- disconnects and teardown ---------------------------------------------------


def test_disconnect_ends_the_view_quietly_and_runs_teardown(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    events: list[object] = []

    @app.websocket("/chat")
    async def chat() -> None:
        try:
            while True:
                await websocket.receive()
        except WebsocketDisconnect as e:
            events.append(("disconnect", e.code, e.reason, str(e)))
            raise

    @app.teardown_request
    def teardown_request(exc: BaseException | None) -> None:
        # A sync teardown runs in a worker thread, in the request context.
        events.append(("teardown_request", exc, request.path))

    @app.teardown_appcontext
    async def teardown_appcontext(exc: BaseException | None) -> None:
        await asyncio.sleep(0)
        events.append(("teardown_appcontext", exc, current_app.name))

    with caplog.at_level(logging.DEBUG):
        sent = run(app, [text("x"), disconnect(1001, "tab closed")], path="/chat")
    assert kinds(sent) == ["websocket.accept"]
    assert events == [
        (
            "disconnect",
            1001,
            "tab closed",
            "WebSocket closed with code 1001 (tab closed)",
        ),
        ("teardown_request", None, "/chat"),
        ("teardown_appcontext", None, app.name),
    ]
    assert [r for r in caplog.records if r.name != "asyncio"] == []


def test_receive_after_disconnect_raises_again(app: Flask) -> None:
    codes: list[int] = []

    @app.websocket("/again")
    async def again() -> None:
        for _ in range(2):
            try:
                await websocket.receive()
            except WebsocketDisconnect as e:
                codes.append(e.code)
        assert websocket.closed
        assert websocket.close_code == 1006

    sent = run(app, [{"type": "websocket.disconnect"}], path="/again")
    assert codes == [1006, 1006]
    assert kinds(sent) == ["websocket.accept"]


def test_send_to_a_gone_client_ends_the_view_quietly(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    events: list[object] = []

    @app.websocket("/push")
    async def push() -> None:
        try:
            await websocket.send("tick")
        except WebsocketDisconnect as e:
            events.append(e.code)
            raise

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        events.append(exc)

    sent = run(app, path="/push", send_error=ConnectionResetError("gone"))
    assert kinds(sent) == ["websocket.accept"]
    assert events == [1006, None]
    assert "Exception" not in caplog.text


def test_disconnect_before_the_handshake_serves_nothing(app: Flask) -> None:
    called: list[str] = []

    @app.websocket("/never")
    async def never() -> None:
        called.append("view")

    sent: list[Message] = []

    async def receive() -> Message:
        return disconnect(1006)

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(ws_scope("/never"), receive, send))
    assert sent == []
    assert called == []


def test_cancelled_connection_still_tears_down(app: Flask) -> None:
    events: list[object] = []

    @app.websocket("/hang")
    async def hang() -> None:
        await websocket.accept()
        events.append("accepted")
        await asyncio.sleep(3600)

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        events.append(type(exc).__name__)

    async def main() -> None:
        sent: list[Message] = []
        connected = [CONNECT]

        async def receive() -> Message:
            if connected:
                return connected.pop()
            await asyncio.sleep(3600)
            raise AssertionError("unreachable")

        async def send(message: Message) -> None:
            sent.append(message)

        task = asyncio.get_running_loop().create_task(
            app(ws_scope("/hang"), receive, send)
        )
        while not sent:
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert events == ["accepted", "CancelledError"]


# -- refused handshakes and errors -----------------------------------------------


def test_no_route_refuses_the_handshake(app: Flask) -> None:
    assert run(app, path="/missing") == [
        {"type": "websocket.close", "code": 1008, "reason": ""}
    ]


def test_no_route_sends_404_with_the_http_response_extension(app: Flask) -> None:
    sent = run(app, path="/missing", extensions=HTTP_RESPONSE)
    assert kinds(sent) == [
        "websocket.http.response.start",
        "websocket.http.response.body",
    ]
    assert sent[0]["status"] == 404
    assert (b"content-type", b"text/html; charset=utf-8") in sent[0]["headers"]
    assert b"Not Found" in sent[1]["body"]


def test_http_route_is_not_a_websocket_route(app: Flask) -> None:
    @app.get("/page")
    def page() -> str:
        return "page"

    sent = run(app, path="/page", extensions=HTTP_RESPONSE)
    assert sent[0]["status"] == 400  # WebsocketMismatch


def test_abort_before_accept_refuses(app: Flask) -> None:
    @app.websocket("/private")
    async def private() -> None:
        if request.args.get("token") != "s3cret":
            abort(403)
        await websocket.send("welcome")

    assert run(app, path="/private") == [
        {"type": "websocket.close", "code": 1008, "reason": ""}
    ]
    sent = run(app, path="/private", extensions=HTTP_RESPONSE)
    assert sent[0]["status"] == 403
    assert kinds(run(app, path="/private?token=s3cret")) == [
        "websocket.accept",
        "websocket.send",
        "websocket.close",
    ]


def test_abort_after_accept_closes_with_1008(app: Flask) -> None:
    @app.websocket("/later")
    async def later() -> None:
        await websocket.accept()
        abort(403)

    sent = run(app, path="/later")
    assert sent[-1] == {"type": "websocket.close", "code": 1008, "reason": "Forbidden"}


def test_view_returning_a_response_before_accept_refuses_with_it(app: Flask) -> None:
    @app.websocket("/busy")
    async def busy() -> object:
        return "try again later", 503, {"Retry-After": "5"}

    sent = run(app, path="/busy", extensions=HTTP_RESPONSE)
    assert sent[0]["status"] == 503
    assert (b"retry-after", b"5") in sent[0]["headers"]
    assert sent[1] == {
        "type": "websocket.http.response.body",
        "body": b"try again later",
    }
    # Without the extension the server can only answer 403.
    assert run(app, path="/busy") == [
        {"type": "websocket.close", "code": 1008, "reason": ""}
    ]


def test_view_returning_nothing_before_accept_refuses(app: Flask) -> None:
    @app.websocket("/nothing")
    async def nothing() -> None:
        return None

    assert run(app, path="/nothing", extensions=HTTP_RESPONSE) == [
        {"type": "websocket.close", "code": 1008, "reason": ""}
    ]


def test_error_after_accept_is_logged_and_closes_with_1011(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    teardown: list[object] = []
    signalled: list[object] = []

    @app.websocket("/boom")
    async def boom() -> None:
        await websocket.send("about to fail")
        raise ValueError("kaboom")

    @app.teardown_request
    def td(exc: BaseException | None) -> None:
        teardown.append(exc)

    def on_exception(sender: object, exception: BaseException) -> None:
        signalled.append(exception)

    erlen.got_request_exception.connect(on_exception, app)
    try:
        sent = run(app, path="/boom")
    finally:
        erlen.got_request_exception.disconnect(on_exception, app)
    assert sent[-1] == {
        "type": "websocket.close",
        "code": 1011,
        "reason": "Internal Server Error",
    }
    assert "Exception on /boom [GET]" in caplog.text
    assert "ValueError: kaboom" in caplog.text
    assert [type(e) for e in teardown] == [ValueError]
    assert [type(e) for e in signalled] == [ValueError]


def test_error_before_accept_refuses_with_500(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    @app.websocket("/boom")
    async def boom() -> None:
        raise KeyError("early")

    sent = run(app, path="/boom", extensions=HTTP_RESPONSE)
    assert sent[0]["status"] == 500
    assert "Exception on /boom [GET]" in caplog.text
    assert run(app, path="/boom") == [
        {"type": "websocket.close", "code": 1008, "reason": ""}
    ]


def test_reject_after_accept_is_an_error() -> None:
    async def main() -> None:
        sent: list[Message] = []

        async def send(message: Message) -> None:
            sent.append(message)

        async def receive() -> Message:
            return disconnect()

        ws = Websocket(ws_scope(), receive, send)
        await ws.accept()
        with pytest.raises(RuntimeError, match="cannot be rejected"):
            await ws.reject()
        # The driver on its own: no request attached, no request attributes.
        with pytest.raises(RuntimeError, match="no handshake request"):
            ws.path  # noqa: B018
        assert repr(ws) == "<Websocket '/ws' [open]>"
        await ws.close()
        assert repr(ws) == "<Websocket '/ws' [closed]>"

    asyncio.run(main())


# -- contexts -------------------------------------------------------------------


def test_request_like_attributes_and_contexts(app: Flask) -> None:
    seen: dict[str, object] = {}

    @app.get("/page/<int:n>")
    def page(n: int) -> str:
        return str(n)

    @app.websocket("/room/<name>")
    async def room(name: str) -> None:
        g.user = "ann"
        seen.update(
            name=name,
            path=websocket.path,
            full_path=websocket.full_path,
            args=websocket.args.get("a"),
            header=websocket.headers.get("X-Token"),
            cookie=websocket.cookies.get("theme"),
            scheme=websocket.scheme,
            host=websocket.host,
            url=websocket.url,
            remote_addr=websocket.remote_addr,
            method=request.method,
            request_args=request.args.get("a"),
            is_secure=request.is_secure,
            app=current_app.name,
            g=g.user,
            own_url=url_for("room", name="x"),
            page_url=url_for("page", n=3),
            page_external=url_for("page", n=3, _external=True),
        )
        await websocket.send("ok")

    headers = [
        (b"host", b"chat.example"),
        (b"connection", b"Upgrade"),
        (b"upgrade", b"websocket"),
        (b"x-token", b"t1"),
        (b"cookie", b"theme=dark"),
    ]
    run(app, path="/room/blue?a=1", headers=headers)
    assert seen == {
        "name": "blue",
        "path": "/room/blue",
        "full_path": "/room/blue?a=1",
        "args": "1",
        "header": "t1",
        "cookie": "dark",
        "scheme": "ws",
        "host": "chat.example",
        "url": "ws://chat.example/room/blue?a=1",
        "remote_addr": "127.0.0.3",
        "method": "GET",
        "request_args": "1",
        "is_secure": False,
        "app": app.name,
        "g": "ann",
        "own_url": "ws://chat.example/room/x",
        "page_url": "/page/3",
        "page_external": "http://chat.example/page/3",
    }


def test_wss_scheme_is_secure(app: Flask) -> None:
    seen: list[object] = []

    @app.websocket("/secure")
    async def secure() -> None:
        seen.extend([request.is_secure, websocket.url, url_for("secure")])

    run(app, path="/secure", scheme="wss", server=("testserver", 443))
    assert seen == [True, "wss://testserver/secure", "wss://testserver/secure"]


def test_session_from_the_handshake_cookie(app: Flask) -> None:
    seen: list[object] = []

    @app.get("/login")
    def login() -> str:
        session["user"] = "ann"
        return "ok"

    @app.websocket("/me")
    async def me() -> None:
        seen.append(session.get("user"))

    cookie = app.test_client().get("/login").headers["Set-Cookie"].split(";")[0]
    headers = [(b"host", b"testserver"), (b"cookie", cookie.encode())]
    run(app, path="/me", headers=headers)
    run(app, path="/me")
    assert seen == ["ann", None]


def test_proxy_outside_a_websocket(app: Flask) -> None:
    with pytest.raises(RuntimeError, match="outside of websocket context"):
        websocket.receive  # noqa: B018
    with app.test_request_context("/"):
        with pytest.raises(RuntimeError, match="outside of websocket context"):
            websocket.path  # noqa: B018
    assert erlen.websocket is websocket
    assert "websocket" in erlen.__all__


def test_before_and_after_request_do_not_run(app: Flask) -> None:
    events: list[str] = []

    @app.before_request
    def before() -> None:
        events.append("before_request")

    @app.after_request
    def after(response: object) -> object:
        events.append("after_request")
        return response

    @app.url_value_preprocessor
    def preprocess(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        events.append(f"url_value_preprocessor {endpoint} {values}")

    @app.websocket("/hooks/<int:n>")
    async def hooks(n: int) -> None:
        events.append(f"view {n}")

    run(app, path="/hooks/7")
    assert events == ["url_value_preprocessor hooks {'n': 7}", "view 7"]


def test_concurrent_connections_keep_their_own_contexts(app: Flask) -> None:
    seen: list[tuple[str, str]] = []

    @app.websocket("/who/<name>")
    async def who(name: str) -> None:
        g.name = name
        await asyncio.sleep(0.01 if name == "a" else 0)
        seen.append((name, g.name))

    async def connect(path: str) -> None:
        messages = [CONNECT]

        async def receive() -> Message:
            return messages.pop() if messages else disconnect()

        async def send(message: Message) -> None:
            pass

        await app(ws_scope(path), receive, send)

    async def main() -> None:
        await asyncio.gather(connect("/who/a"), connect("/who/b"))

    asyncio.run(main())
    assert sorted(seen) == [("a", "a"), ("b", "b")]


# -- blueprints and registration ---------------------------------------------------


def test_blueprint_websocket(app: Flask) -> None:
    bp = Blueprint("chat", __name__, url_prefix="/chat")
    events: list[object] = []

    @bp.url_value_preprocessor
    def pull_room(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        assert values is not None
        g.room = values.pop("room")

    @bp.teardown_request
    def bp_teardown(exc: BaseException | None) -> None:
        events.append("bp teardown")

    @bp.websocket("/<room>")
    async def room() -> None:
        events.append((request.blueprint, request.endpoint, g.room))
        events.append(url_for(".room", room="lobby"))
        await websocket.send(g.room)

    app.register_blueprint(bp)
    sent = run(app, path="/chat/lobby")
    assert sent[1] == {"type": "websocket.send", "text": "lobby"}
    assert events == [
        ("chat", "chat.room", "lobby"),
        "ws://testserver/chat/lobby",
        "bp teardown",
    ]


def test_sync_view_is_a_type_error() -> None:
    app = Flask(__name__)
    bp = Blueprint("bp", __name__)

    def sync_view() -> None:
        pass

    with pytest.raises(TypeError, match="must be an 'async def' function"):
        app.websocket("/ws")(sync_view)
    with pytest.raises(TypeError, match="'sync_view' is not a coroutine function"):
        bp.websocket("/ws")(sync_view)
    with pytest.raises(TypeError, match="must be an 'async def' function"):
        app.add_url_rule("/ws", view_func=sync_view, websocket=True)


def test_methods_are_refused() -> None:
    app = Flask(__name__)

    async def view() -> None:
        pass

    with pytest.raises(TypeError, match="takes no 'methods'"):
        app.add_websocket("/ws", view_func=view, methods=["POST"])


def test_websocket_rule_options(app: Flask) -> None:
    async def view() -> None:
        await websocket.send("custom")

    app.add_websocket("/custom", "named", view)
    rules = {r.rule: r for r in app.url_map.iter_rules()}
    assert rules["/custom"].websocket is True
    assert rules["/custom"].endpoint == "named"
    assert rules["/custom"].methods == {"GET", "HEAD"}
    assert run(app, path="/custom")[1]["text"] == "custom"


def test_websocket_views_keep_http_on_the_sync_chain(app: Flask) -> None:
    @app.get("/")
    def index() -> str:
        return "index"

    client = app.test_client()
    assert client.get("/").data == b"index"
    # The only coroutine function is the websocket view: HTTP requests stay
    # on the all-sync path.
    assert app._erlen_chain_in_thread is True
    assert run(app, [text("still")])[1]["text"] == "still"


# -- HTTP requests to WebSocket rules --------------------------------------------


@pytest.mark.parametrize("asgi", [False, True])
def test_http_request_to_a_websocket_rule_is_400(app: Flask, asgi: bool) -> None:
    response = app.test_client(asgi=asgi).get("/ws")
    assert response.status_code == 400


def test_wsgi_upgrade_request_to_a_websocket_rule_is_400(app: Flask) -> None:
    # A WSGI server cannot serve the connection; with upgrade headers the
    # router matches the WebSocket rule, which still answers 400.
    response = app.test_client().get(
        "/ws", headers={"Connection": "Upgrade", "Upgrade": "websocket"}
    )
    assert response.status_code == 400
    assert b"Bad Request" in response.data


# -- the driver's environ -----------------------------------------------------------


def test_build_environ() -> None:
    scope = ws_scope(
        "/app/r%C3%A4um?x=1",
        root_path="/app",
        headers=[
            (b"host", b"h.example"),
            (b"cookie", b"a=1"),
            (b"cookie", b"b=2"),
            (b"x-multi", b"1"),
            (b"x-multi", b"2"),
            (b"content-type", b"text/plain"),
        ],
        server=("h.example", None),
    )
    environ = build_environ(scope)
    assert environ["REQUEST_METHOD"] == "GET"
    assert environ["SCRIPT_NAME"] == "/app"
    assert environ["PATH_INFO"] == "/räum".encode().decode("latin-1")
    assert environ["QUERY_STRING"] == "x=1"
    assert environ["wsgi.url_scheme"] == "ws"
    assert environ["HTTP_COOKIE"] == "a=1; b=2"
    assert environ["HTTP_X_MULTI"] == "1, 2"
    assert environ["CONTENT_TYPE"] == "text/plain"
    assert environ["SERVER_PORT"] == ""
    assert environ["REMOTE_ADDR"] == "127.0.0.3"
    assert environ["REMOTE_PORT"] == "5000"
    assert environ["asgi.scope"] is scope
    assert environ["wsgi.input"].read() == b""


def test_build_environ_minimal_scope() -> None:
    environ = build_environ({"type": "websocket", "path": "/p"})
    assert environ["PATH_INFO"] == "/p"
    assert environ["SERVER_NAME"] == "localhost"
    assert environ["SERVER_PORT"] == "80"
    assert environ["REMOTE_ADDR"] is None
    assert environ["wsgi.url_scheme"] == "ws"
    # A path outside the root path is left whole.
    environ = build_environ({"path": "/other", "root_path": "/app"})
    assert (environ["SCRIPT_NAME"], environ["PATH_INFO"]) == ("/app", "/other")


def test_root_path_is_script_name(app: Flask) -> None:
    seen: list[object] = []

    @app.websocket("/rooted")
    async def rooted() -> None:
        seen.extend([request.script_root, request.path, url_for("rooted")])

    run(
        app,
        path="/mount/rooted",
        root_path="/mount",
    )
    assert seen == ["/mount", "/rooted", "ws://testserver/mount/rooted"]


def test_the_driver_on_its_own() -> None:
    # Without an app: the standard json module, the module's logger, and
    # servers whose send fails because the client has gone.
    async def main() -> None:
        incoming = [text('{"a": 1}'), {"type": "websocket.ping"}]
        sent: list[Message] = []
        broken = False

        async def receive() -> Message:
            return incoming.pop(0)

        async def send(message: Message) -> None:
            if broken:
                raise ConnectionResetError("gone")
            sent.append(message)

        ws = Websocket(ws_scope(extensions=HTTP_RESPONSE), receive, send)
        assert repr(ws) == "<Websocket '/ws' [handshake]>"
        assert await ws.receive_json() == {"a": 1}
        await ws.send_json([1, "ü"])
        assert sent[-1] == {"type": "websocket.send", "text": '[1, "\\u00fc"]'}
        with pytest.raises(RuntimeError, match="got 'websocket.ping'"):
            await ws.receive()
        broken = True
        await ws.close(1001)  # the client has gone: closed either way
        assert ws.closed
        assert ws.close_code == 1001

        # The client has gone before the refusal could be sent: nothing raised.
        refused = Websocket(ws_scope(extensions=HTTP_RESPONSE), receive, send)
        await refused.reject(erlen.Response("nope", status=401))
        assert refused.closed

    asyncio.run(main())


def test_reject_with_a_response_sends_it_without_environ() -> None:
    async def main() -> list[Message]:
        sent: list[Message] = []

        async def receive() -> Message:
            return disconnect()

        async def send(message: Message) -> None:
            sent.append(message)

        ws = Websocket(ws_scope("/x", extensions=HTTP_RESPONSE), receive, send)
        await ws.reject(erlen.Response("nope", status=401))
        return sent

    sent = asyncio.run(main())
    assert sent == [
        {
            "type": "websocket.http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", b"4"),
            ],
        },
        {"type": "websocket.http.response.body", "body": b"nope"},
    ]


# -- the test client's helper -------------------------------------------------------


def test_client_websocket_round_trips(app: Flask) -> None:
    events: list[object] = []

    @app.get("/login")
    def login() -> str:
        session["user"] = "ann"
        return "ok"

    @app.websocket("/hello")
    async def hello() -> None:
        await websocket.accept(
            subprotocol=websocket.subprotocols[-1], headers={"X-Hello": "1"}
        )
        await websocket.send_json({"user": session.get("user"), "a": request.args["a"]})
        while True:
            await websocket.send(await websocket.receive())

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        events.append(("teardown", exc))

    client = app.test_client()
    client.get("/login")
    events.clear()  # the login request's own teardown
    with client.websocket("/hello?a=1", subprotocols=["v1", "v2"]) as ws:
        assert ws.subprotocol == "v2"
        assert ws.headers["X-Hello"] == "1"
        assert ws.receive_json() == {"user": "ann", "a": "1"}
        ws.send("text")
        assert ws.receive() == "text"
        ws.send(b"\x01")
        assert ws.receive() == b"\x01"
        ws.send_json({"k": [1]})
        assert ws.receive_json() == {"k": [1]}
        assert events == []
    # The block's end disconnected the client: the app's teardown ran.
    assert events == [("teardown", None)]
    client.close()


def test_client_websocket_app_closes(app: Flask) -> None:
    @app.websocket("/bye")
    async def bye() -> None:
        await websocket.send("bye")
        await websocket.close(4000, "done")

    with app.test_client().websocket("/bye") as ws:
        assert ws.receive() == "bye"
        with pytest.raises(WebsocketDisconnect) as info:
            ws.receive()
        assert (info.value.code, info.value.reason) == (4000, "done")
        assert ws.close_code == 4000
        with pytest.raises(WebsocketDisconnect):
            ws.send("late")
        with pytest.raises(WebsocketDisconnect) as info:
            ws.receive()  # nothing more: the app has finished
        assert info.value.code == 4000


def test_client_websocket_rejected(app: Flask) -> None:
    from erlen.testing import WebsocketRejected

    @app.websocket("/private")
    async def private() -> None:
        abort(403)

    @app.websocket("/plain")
    async def plain() -> None:
        await websocket.close()

    client = app.test_client()
    bodies = {}
    for path, status in [("/private", 403), ("/missing", 404), ("/plain", 403)]:
        with pytest.raises(WebsocketRejected) as info:
            with client.websocket(path):
                raise AssertionError("not reached")
        assert info.value.response.status_code == status
        bodies[path] = info.value.response.data
    # The app's own error pages; a plain close has no body (servers send 403).
    assert b"Forbidden" in bodies["/private"]
    assert b"Not Found" in bodies["/missing"]
    assert bodies["/plain"] == b""


def test_client_websocket_error_closes_with_1011(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    @app.websocket("/boom")
    async def boom() -> None:
        await websocket.accept()
        await websocket.receive()
        raise RuntimeError("boom")

    with app.test_client().websocket("/boom") as ws:
        ws.send("go")
        with pytest.raises(WebsocketDisconnect) as info:
            ws.receive()
        assert info.value.code == 1011
    assert "RuntimeError: boom" in caplog.text


def test_client_websocket_guards_against_a_hang(app: Flask) -> None:
    @app.websocket("/quiet")
    async def quiet() -> None:
        await websocket.accept()
        await asyncio.Event().wait()  # never sends, ignores the disconnect

    connection = app.test_client().websocket("/quiet", timeout=0.05)
    ws = connection.__enter__()
    with pytest.raises(TimeoutError, match="sent nothing"):
        ws.receive()
    with pytest.raises(TimeoutError, match="was cancelled"):
        ws.close()
    connection.__exit__(None, None, None)  # the app is gone: nothing more


def test_client_websocket_with_raw_asgi_apps() -> None:
    from erlen.testing import Client
    from erlen.testing import WebsocketRejected

    async def refusing(scope: Message, receive: t.Any, send: t.Any) -> None:
        await receive()
        start = {"type": "websocket.http.response.start", "status": 401}
        await send({**start, "headers": [(b"www-authenticate", b"Basic")]})
        body = {"type": "websocket.http.response.body"}
        await send({**body, "body": b"no ", "more_body": True})
        await send({**body, "body": b"entry"})

    async def cut_short(scope: Message, receive: t.Any, send: t.Any) -> None:
        await receive()
        start = {"type": "websocket.http.response.start", "status": 500}
        await send({**start, "headers": []})
        body = {"type": "websocket.http.response.body"}
        await send({**body, "body": b"partial", "more_body": True})

    async def failing(scope: Message, receive: t.Any, send: t.Any) -> None:
        await receive()
        raise ValueError("broken app")

    with pytest.raises(WebsocketRejected) as info:
        with Client(refusing).websocket("/"):
            raise AssertionError("not reached")
    response = info.value.response
    assert (response.status_code, response.data) == (401, b"no entry")
    assert response.headers["WWW-Authenticate"] == "Basic"
    with pytest.raises(WebsocketRejected) as info:
        with Client(cut_short).websocket("/"):
            raise AssertionError("not reached")
    assert info.value.response.data == b"partial"
    with pytest.raises(ValueError, match="broken app"):
        with Client(failing).websocket("/"):
            raise AssertionError("not reached")


def test_close_before_accept_then_returning_a_response(app: Flask) -> None:
    @app.websocket("/closed")
    async def closed() -> object:
        await websocket.close()  # refuses the handshake
        return "too late", 503

    assert run(app, path="/closed", extensions=HTTP_RESPONSE) == [
        {"type": "websocket.close", "code": 1000, "reason": ""}
    ]


def test_overridden_teardown_methods_are_called() -> None:
    events: list[object] = []

    class App(Flask):
        def do_teardown_request(self, exc: BaseException | None = None) -> None:
            events.append(("do_teardown_request", type(exc).__name__, request.path))
            super().do_teardown_request(exc)

        def should_ignore_error(self, error: BaseException | None) -> bool:
            return isinstance(error, KeyError)

    app = App(__name__)

    @app.websocket("/ws/<kind>")
    async def fail(kind: str) -> None:
        await websocket.accept()
        raise KeyError(kind) if kind == "key" else ValueError(kind)

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        events.append(("teardown", type(exc).__name__))

    assert run(app, path="/ws/value")[-1]["code"] == 1011
    assert run(app, path="/ws/key")[-1]["code"] == 1011
    assert events == [
        ("do_teardown_request", "ValueError", "/ws/value"),
        ("teardown", "ValueError"),
        # An ignored error is not passed to teardown, as for a request.
        ("do_teardown_request", "NoneType", "/ws/key"),
        ("teardown", "NoneType"),
    ]


def test_with_server_name_the_context_binds_at_once(app: Flask) -> None:
    # SERVER_NAME: the request context binds its adapter when made (not
    # lazily); WebSocket rules still match, and URLs build from it.
    app.config["SERVER_NAME"] = "chat.example"
    seen: list[str] = []

    @app.websocket("/where")
    async def where() -> None:
        seen.append(url_for("where"))

    assert run(app, [text("bound")])[1] == {"type": "websocket.send", "text": "bound"}
    run(app, path="/where")
    assert seen == ["ws://chat.example/where"]


@pytest.mark.parametrize("io_bound", [True, False])
def test_io_bound_session_is_opened_off_the_event_loop(io_bound: bool) -> None:
    # As for HTTP requests of async apps: a session store that waits on I/O
    # (Redis) is read in a worker thread, not on the loop the view runs on.
    import threading

    from erlen.sessions import SecureCookieSessionInterface

    opened_in: list[int] = []

    class Recording(SecureCookieSessionInterface):
        def open_session(self, app: t.Any, request: t.Any) -> t.Any:
            opened_in.append(threading.get_ident())
            return super().open_session(app, request)

    app = Flask(__name__)
    app.secret_key = "ws"
    app.session_interface = Recording()
    app.session_interface.io_bound = io_bound
    view_in: list[int] = []

    @app.websocket("/ws")
    async def ws() -> None:
        view_in.append(threading.get_ident())
        await websocket.send(str(session.get("user")))

    cookie = app.session_interface.get_signing_serializer(app).dumps({"user": "ann"})
    sent = run(
        app,
        headers=[(b"host", b"testserver"), (b"cookie", b"session=" + cookie.encode())],
    )
    assert [m.get("text") for m in sent if m["type"] == "websocket.send"] == ["ann"]
    assert len(opened_in) == 1
    assert (opened_in[0] != view_in[0]) is io_bound
