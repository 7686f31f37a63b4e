"""An erlen app with WebSocket routes, for tests/servers/test_websockets_servers.py."""

from __future__ import annotations

from erlen import abort
from erlen import Flask
from erlen import request
from erlen import websocket
from erlen.exceptions import WebsocketDisconnect

app = Flask(__name__)
app.config["WEBSOCKET_MAX_MESSAGE_SIZE"] = 64 * 1024

#: What each connection's teardown saw, by connection id (?id=...).
TEARDOWNS: dict[str, str] = {}


@app.get("/")
def index() -> str:
    return "websocket app"


@app.get("/teardowns")
def teardowns() -> dict[str, str]:
    return TEARDOWNS


@app.websocket("/echo")
async def echo() -> None:
    while True:
        await websocket.send(await websocket.receive())


@app.websocket("/json")
async def json_echo() -> None:
    data = await websocket.receive_json()
    await websocket.send_json({"received": data, "args": request.args.to_dict()})


@app.websocket("/hello")
async def hello() -> None:
    requested = websocket.subprotocols
    await websocket.accept(
        subprotocol=requested[0] if requested else None,
        headers={"X-Erlen": "yes"},
    )
    await websocket.send_json(
        {
            "path": websocket.path,
            "scheme": websocket.scheme,
            "subprotocols": requested,
            "token": websocket.headers.get("X-Token"),
        }
    )


@app.websocket("/private")
async def private() -> None:
    if request.args.get("token") != "s3cret":
        abort(403)
    await websocket.send("welcome")


@app.websocket("/bye")
async def bye() -> None:
    # Server-initiated close, with a code and a reason.
    await websocket.send("bye")
    await websocket.close(4001, "done here")


@app.websocket("/watch")
async def watch() -> None:
    try:
        while True:
            await websocket.receive()
    except WebsocketDisconnect as e:
        TEARDOWNS[request.args["id"]] = f"disconnect {e.code}"
        raise


@app.teardown_request
def record_teardown(exc: BaseException | None) -> None:
    connection = request.args.get("id")
    if connection is not None:
        TEARDOWNS[connection] = TEARDOWNS.get(connection, "") + f"; teardown {exc}"
