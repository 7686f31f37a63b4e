"""Streamed bodies over real sockets: sent as produced, closed when clients leave."""

from __future__ import annotations

import socket
import time
import uuid

import pytest

from .conftest import CLIENT_TIMEOUT
from .conftest import HOST
from .conftest import Server

pytestmark = pytest.mark.servers

ROUTES = ["/stream/slow", "/stream/async-slow"]


def _open_stream(server: Server, route: str, rid: str, ticks: int) -> socket.socket:
    sock = socket.create_connection((HOST, server.port), timeout=CLIENT_TIMEOUT)
    sock.sendall(
        f"GET {route}?id={rid}&ticks={ticks} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()
    )
    return sock


def _read_until(sock: socket.socket, marker: bytes, deadline: float) -> bytes:
    data = b""
    while marker not in data:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def _state(server: Server, rid: str) -> dict[str, object]:
    reply = server.request("GET", f"/stream/state?of={rid}")
    assert reply.status == 200, server.log()
    return reply.json()  # type: ignore[return-value]


def _wait_for_state(server: Server, rid: str, timeout: float) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    state = _state(server, rid)
    while state["stream"] is None and time.monotonic() < deadline:
        time.sleep(0.05)
        state = _state(server, rid)
    return state


@pytest.mark.parametrize("route", ROUTES)
def test_first_chunk_arrives_before_the_stream_ends(server: Server, route: str) -> None:
    rid = f"slow-{uuid.uuid4().hex[:8]}"
    ticks = 50  # the whole body takes about 1 s
    start = time.monotonic()
    sock = _open_stream(server, route, rid, ticks)
    try:
        head = _read_until(sock, f"first {rid}\n".encode(), start + 10)
        first_at = time.monotonic() - start
        assert b"HTTP/1.1 200" in head, server.log()
        assert f"first {rid}\n".encode() in head
        rest = _read_until(sock, b"0\r\n\r\n", start + 15)
    finally:
        sock.close()
    # Sent as produced: the first line came well before the last one.
    assert first_at < 0.8, f"first chunk after {first_at:.2f} s"
    assert (head + rest).count(b"tick\n") == ticks
    state = _wait_for_state(server, rid, 5)
    assert state == {"stream": "finished", "teardown": True}


@pytest.mark.parametrize("route", ROUTES)
def test_client_leaving_closes_the_stream(server: Server, route: str) -> None:
    rid = f"slow-{uuid.uuid4().hex[:8]}"
    # hypercorn's WSGI adapter never tells a WSGI app that the client left
    # (its writes after the disconnect do not fail): there the stream runs
    # to its end, so keep that end near.
    runs_to_the_end = server.name.startswith("hypercorn") and server.protocol == "wsgi"
    ticks = 60 if runs_to_the_end else 400  # 400: about 8 s if nobody stops it
    start = time.monotonic()
    sock = _open_stream(server, route, rid, ticks)
    try:
        head = _read_until(sock, f"first {rid}\n".encode(), start + 10)
        assert f"first {rid}\n".encode() in head, server.log()
    finally:
        # RST rather than FIN, so the server's next write fails at once.
        sock.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
        )
        sock.close()
    state = _wait_for_state(server, rid, 5)
    elapsed = time.monotonic() - start
    if runs_to_the_end:
        assert state == {"stream": "finished", "teardown": True}, server.log()
        return
    # The generator was closed (its cleanup ran), long before its 8 s end,
    # and the request's teardown ran after it.
    assert state == {"stream": "closed", "teardown": True}, server.log()
    assert elapsed < 6
