"""Many requests at once: no waiting in line under ASGI, no cross-talk anywhere."""

from __future__ import annotations

import asyncio
import http.client
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from .app_under_test import app
from .conftest import CLIENT_TIMEOUT
from .conftest import HOST
from .conftest import Server

pytestmark = pytest.mark.servers

#: Concurrent requests to the async view under uvicorn.
ASYNC_REQUESTS = 500
#: Each of them awaits this long in the view.
ASYNC_DELAY = 0.5
#: Generous bound for all of them (serially they would take 250 s).
ASYNC_BOUND = 5.0

GTHREAD_CLIENTS = 8
GTHREAD_REQUESTS_EACH = 200


def _signed_session(value: str) -> str:
    """Return a ``Cookie`` header with the app's session ``{"value": value}``."""
    serializer = app.session_interface.get_signing_serializer(app)
    assert serializer is not None
    return f"{app.config['SESSION_COOKIE_NAME']}={serializer.dumps({'value': value})}"


def _decode_body(head: bytes, rest: bytes) -> bytes:
    if b"transfer-encoding: chunked" not in head.lower():
        return rest
    body = b""
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return body
        body += rest[:size]
        rest = rest[size + 2 :]


async def _one_async_request(
    port: int, rid: str, cookie: str
) -> tuple[int, dict[str, object]]:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(
            (
                f"GET /slow?id={rid}&delay={ASYNC_DELAY} HTTP/1.1\r\n"
                f"Host: {HOST}:{port}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        raw = await reader.read()  # Connection: close, so read to EOF.
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, rest = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(_decode_body(head, rest))


async def _many_async_requests(
    port: int, ids: list[str], cookies: dict[str, str]
) -> list[tuple[int, dict[str, object]]]:
    tasks = [_one_async_request(port, rid, cookies[rid]) for rid in ids]
    return await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)


def test_uvicorn_async_requests_run_concurrently(uvicorn_server: Server) -> None:
    ids = [f"r{i}-{uuid.uuid4().hex[:8]}" for i in range(ASYNC_REQUESTS)]
    cookies = {rid: _signed_session("s-" + rid) for rid in ids}
    # Warm up: the first request sets the app up; time only the burst.
    assert uvicorn_server.request("GET", "/slow?id=warm&delay=0").status == 200

    start = time.perf_counter()
    results = asyncio.run(_many_async_requests(uvicorn_server.port, ids, cookies))
    elapsed = time.perf_counter() - start

    assert len(results) == ASYNC_REQUESTS
    for rid, (status, data) in zip(ids, results, strict=True):
        assert status == 200, uvicorn_server.log()
        assert data == {"id": rid, "g": rid, "session": "s-" + rid}
    # 500 half-second sleeps, overlapped: far less than 500 * 0.5 s.
    assert ASYNC_DELAY <= elapsed < ASYNC_BOUND, (
        f"{ASYNC_REQUESTS} requests took {elapsed:.2f} s"
    )
    print(f"\nuvicorn: {ASYNC_REQUESTS} x sleep({ASYNC_DELAY}) in {elapsed:.2f} s")


def _client_thread(port: int, worker: int) -> list[str]:
    """Send requests on one keep-alive connection; return the mismatches."""
    problems: list[str] = []
    conn = http.client.HTTPConnection(HOST, port, timeout=CLIENT_TIMEOUT)
    try:
        for i in range(GTHREAD_REQUESTS_EACH):
            rid = f"w{worker}-{i}-{uuid.uuid4().hex[:8]}"
            conn.request(
                "GET",
                f"/echo?id={rid}",
                headers={"Cookie": _signed_session("s-" + rid)},
            )
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                problems.append(f"{rid}: status {resp.status}")
                continue
            data = json.loads(body)
            expected = {"id": rid, "g": rid, "session": "s-" + rid, "again": rid}
            if data != expected:
                problems.append(f"{rid}: got {data!r}")
            if resp.will_close:
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=CLIENT_TIMEOUT)
    finally:
        conn.close()
    return problems


def test_gthread_no_cross_talk(gthread_server: Server) -> None:
    start = time.perf_counter()
    with ThreadPoolExecutor(GTHREAD_CLIENTS) as pool:
        futures = [
            pool.submit(_client_thread, gthread_server.port, w)
            for w in range(GTHREAD_CLIENTS)
        ]
        problems = [p for f in futures for p in f.result(timeout=120)]
    elapsed = time.perf_counter() - start
    assert problems == [], gthread_server.log()
    print(
        f"\ngunicorn gthread: {GTHREAD_CLIENTS} x {GTHREAD_REQUESTS_EACH} requests"
        f" in {elapsed:.2f} s"
    )


def test_uvicorn_sync_view_no_cross_talk(uvicorn_server: Server) -> None:
    # The same sync view under ASGI: it runs in worker threads of the loop.
    with ThreadPoolExecutor(GTHREAD_CLIENTS) as pool:
        futures = [
            pool.submit(_client_thread, uvicorn_server.port, w)
            for w in range(GTHREAD_CLIENTS)
        ]
        problems = [p for f in futures for p in f.result(timeout=120)]
    assert problems == [], uvicorn_server.log()
