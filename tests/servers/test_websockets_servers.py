"""WebSocket routes through real servers over real sockets (websocket-client).

The app is tests/servers/ws_app.py; each server starts once for this module:
uvicorn (with wsproto, as the development server uses it), hypercorn,
granian's ASGI interface, and the development server itself (`erlen run`).
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import websocket

from .conftest import HOST
from .conftest import run_server
from .conftest import Server

APP = "tests.servers.ws_app:app"
ERLEN = str(Path(sys.executable).with_name("erlen"))

#: name -> command with a {port} placeholder.
WS_SERVERS: dict[str, list[str]] = {
    "uvicorn": [
        sys.executable,
        "-m",
        "uvicorn",
        "--host",
        HOST,
        "--port",
        "{port}",
        "--ws",
        "wsproto",
        APP,
    ],
    "hypercorn": [
        sys.executable,
        "-m",
        "hypercorn",
        "--bind",
        HOST + ":{port}",
        "asgi:" + APP,
    ],
    "granian": [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--host",
        HOST,
        "--port",
        "{port}",
        APP,
    ],
    # The development server: uvicorn with erlen's settings (ws="wsproto").
    "erlen-run": [ERLEN, "--app", APP, "run", "--host", HOST, "--port", "{port}"],
}

TIMEOUT = 15.0


@pytest.fixture(scope="module", params=sorted(WS_SERVERS))
def ws_server(request: pytest.FixtureRequest) -> Iterator[Server]:
    name = str(request.param)
    with run_server(name, WS_SERVERS[name], "asgi") as server:
        yield server


@contextlib.contextmanager
def connect(
    server: Server, path: str, **options: object
) -> Iterator[websocket.WebSocket]:
    """Open a WebSocket to ``path``; always close its socket afterwards."""
    ws = websocket.WebSocket()
    ws.settimeout(TIMEOUT)
    try:
        ws.connect(f"ws://{HOST}:{server.port}{path}", **options)
        yield ws
        ws.close()
    finally:
        ws.shutdown()  # after a refused handshake or a server's close too


def close_frame(ws: websocket.WebSocket) -> tuple[int, str]:
    """Read frames up to the server's close frame; return its code and reason."""
    while True:
        opcode, data = ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return int.from_bytes(data[:2], "big"), data[2:].decode()


def test_echo_round_trips(ws_server: Server) -> None:
    with connect(ws_server, "/echo") as ws:
        for i in range(3):
            ws.send(f"text {i} ü")
            assert ws.recv() == f"text {i} ü"
        ws.send_binary(b"\x00\xffbinary")
        opcode, data = ws.recv_data()
        assert (opcode, data) == (websocket.ABNF.OPCODE_BINARY, b"\x00\xffbinary")


def test_json_and_query_args(ws_server: Server) -> None:
    with connect(ws_server, "/json?room=blue") as ws:
        ws.send(json.dumps({"n": [1, 2, 3]}))
        assert json.loads(ws.recv()) == {
            "received": {"n": [1, 2, 3]},
            "args": {"room": "blue"},
        }
        # The view returned: the server closes normally.
        assert close_frame(ws) == (1000, "")


def test_subprotocol_and_handshake_headers(ws_server: Server) -> None:
    with connect(
        ws_server,
        "/hello",
        subprotocols=["chat.v2", "chat.v1"],
        header=["X-Token: t-42"],
    ) as ws:
        assert ws.getsubprotocol() == "chat.v2"
        if ws_server.name != "granian":
            # granian (2.8) drops the headers of websocket.accept.
            assert ws.getheaders()["x-erlen"] == "yes"
        assert json.loads(ws.recv()) == {
            "path": "/hello",
            "scheme": "ws",
            "subprotocols": ["chat.v2", "chat.v1"],
            "token": "t-42",
        }


@pytest.mark.parametrize(
    ("path", "status"), [("/private", 403), ("/nowhere", 404), ("/", 400)]
)
def test_refused_handshakes(ws_server: Server, path: str, status: int) -> None:
    # Every server here offers the websocket.http.response extension: the
    # client gets the app's own status (403 from abort, 404, 400 for an
    # HTTP-only rule).
    with pytest.raises(websocket.WebSocketBadStatusException) as info:
        with connect(ws_server, path):
            pass
    assert info.value.status_code == status


def test_allowed_after_the_check(ws_server: Server) -> None:
    with connect(ws_server, "/private?token=s3cret") as ws:
        assert ws.recv() == "welcome"


def test_server_initiated_close(ws_server: Server) -> None:
    with connect(ws_server, "/bye") as ws:
        assert ws.recv() == "bye"
        assert close_frame(ws) == (4001, "done here")


def test_message_over_the_limit_closes_with_1009(ws_server: Server) -> None:
    with connect(ws_server, "/echo") as ws:
        ws.send("small")
        assert ws.recv() == "small"
        ws.send("x" * (64 * 1024 + 1))
        assert close_frame(ws) == (1009, "message too big")
    assert "larger than WEBSOCKET_MAX_MESSAGE_SIZE (65536)" in ws_server.log()


def test_client_close_runs_teardown(ws_server: Server) -> None:
    connection = f"{ws_server.name}-{time.monotonic_ns()}"
    with connect(ws_server, f"/watch?id={connection}") as ws:
        ws.send("hello")
        ws.close(status=1001)
    # The server sees the close on its own schedule: poll for the record.
    deadline = time.monotonic() + TIMEOUT
    seen = None
    while time.monotonic() < deadline:
        seen = ws_server.request("GET", "/teardowns").json()
        assert isinstance(seen, dict)
        if connection in seen:
            break
        time.sleep(0.05)
    assert seen is not None
    # hypercorn reports every client close as 1006 (not the client's code).
    code = 1006 if ws_server.name == "hypercorn" else 1001
    assert seen.get(connection) == f"disconnect {code}; teardown None"
    assert "Traceback" not in ws_server.log()
