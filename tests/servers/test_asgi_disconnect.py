"""In-process: a streamed ASGI body stops and is closed when the client disconnects."""

from __future__ import annotations

import asyncio

import pytest

from erlen import Flask
from erlen import request
from erlen import stream_with_context


def _app(events: list[str]) -> Flask:
    app = Flask(__name__)

    @app.get("/sync")
    def sync_stream() -> object:
        @stream_with_context
        def generate() -> object:
            try:
                for i in range(1000):  # bounded: the test stops it far sooner
                    yield f"{request.args['id']}:{i}\n"
                events.append("finished")
            except GeneratorExit:
                events.append("closed")
                raise

        return generate()

    @app.get("/async")
    async def async_stream() -> object:
        async def generate() -> object:
            try:
                for i in range(1000):
                    await asyncio.sleep(0)
                    yield f"{request.args['id']}:{i}\n"
                events.append("finished")
            except GeneratorExit:
                events.append("closed")
                raise

        return app.response_class(stream_with_context(generate()))

    return app


def _scope(path: str) -> dict[str, object]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"id=x",
        "root_path": "",
        "headers": [(b"host", b"test")],
        "client": ("127.0.0.1", 5555),
        "server": ("127.0.0.1", 80),
    }


async def _serve(
    app: Flask, path: str, chunks_before_leaving: int | None
) -> list[dict[str, object]]:
    sent: list[dict[str, object]] = []
    body_chunks = asyncio.Event()
    messages = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, object]:
        if messages:
            return messages.pop(0)
        if chunks_before_leaving is None:
            await asyncio.sleep(3600)  # never leaves; cancelled at the end
        await body_chunks.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)
        n = sum(1 for m in sent if m["type"] == "http.response.body")
        if chunks_before_leaving is not None and n >= chunks_before_leaving:
            body_chunks.set()
        # Like uvicorn: sending after a disconnect is silently dropped.
        await asyncio.sleep(0)

    await asyncio.wait_for(app.asgi_app(_scope(path), receive, send), timeout=30)
    return sent


@pytest.mark.parametrize("path", ["/sync", "/async"])
def test_stream_stops_when_client_leaves(path: str) -> None:
    events: list[str] = []
    sent = asyncio.run(_serve(_app(events), path, chunks_before_leaving=3))
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    assert sent[0]["type"] == "http.response.start"
    assert events == ["closed"]
    # Stopped early; no final empty "end of body" message for a gone client.
    assert 3 <= len(bodies) < 100
    assert all(m.get("more_body") for m in bodies)


@pytest.mark.parametrize("path", ["/sync", "/async"])
def test_stream_runs_to_its_end_while_client_stays(path: str) -> None:
    events: list[str] = []
    sent = asyncio.run(_serve(_app(events), path, chunks_before_leaving=None))
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    assert events == ["finished"]
    assert bodies[-1] == {"type": "http.response.body", "body": b""}
    assert (
        b"".join(m["body"] for m in bodies)
        == "".join(f"x:{i}\n" for i in range(1000)).encode()
    )


def test_other_messages_while_streaming_are_ignored() -> None:
    # A server may deliver more http.request messages (say, an unread rest
    # of the body); only http.disconnect means the client left.
    events: list[str] = []
    app = _app(events)
    sent: list[dict[str, object]] = []
    messages = [
        {"type": "http.request", "body": b"", "more_body": False},
        {"type": "http.request", "body": b"", "more_body": False},
    ]
    left = asyncio.Event()

    async def receive() -> dict[str, object]:
        if messages:
            return messages.pop(0)
        await left.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)
        if len(sent) > 5:
            left.set()
        await asyncio.sleep(0)

    asyncio.run(asyncio.wait_for(app.asgi_app(_scope("/async"), receive, send), 30))
    assert events == ["closed"]
