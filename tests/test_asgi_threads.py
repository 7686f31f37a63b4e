"""The ASGI driver's worker threads (``run_sync``) and its fast paths."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import typing as t

import pytest

import erlen
from erlen import asgi as asgi_module
from erlen.asgi import build_environ
from erlen.asgi import run_sync
from erlen.asgi import WorkerPool

var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")

Message = dict[str, t.Any]


def _set_and_get(value: str) -> str:
    old = var.get()
    var.set(value)
    return old


def test_run_sync_result_and_context() -> None:
    async def main() -> tuple[str, str, str, str]:
        context = contextvars.copy_context()
        context.run(var.set, "request")
        seen = await run_sync(context, _set_and_get, "thread")
        var.set("caller")
        # None: a copy of the caller's context; its changes stay there.
        copied = await run_sync(None, _set_and_get, "lost")
        return seen, context[var], copied, var.get()

    assert asyncio.run(main()) == ("request", "thread", "caller", "caller")


def test_run_sync_exceptions() -> None:
    def fail() -> None:
        raise KeyError("boom")

    def stop() -> None:
        raise StopIteration

    async def main() -> None:
        with pytest.raises(KeyError, match="boom"):
            await run_sync(None, fail)
        with pytest.raises(RuntimeError, match="raised StopIteration") as info:
            await run_sync(None, stop)
        assert isinstance(info.value.__cause__, StopIteration)
        # The thread that raised is still there for the next call.
        assert await run_sync(None, len, "abc") == 3
        assert await run_sync(None, int, "ff", base=16) == 255

    asyncio.run(main())


def test_pool_limit_and_cancellation() -> None:
    pool = WorkerPool(limit=1)
    release = threading.Event()
    ran: list[str] = []

    def block() -> str:
        release.wait(5)
        ran.append("block")
        return "done"

    async def main() -> None:
        context = contextvars.copy_context()
        first = asyncio.ensure_future(pool.submit(context, block, ()))
        second = asyncio.ensure_future(
            pool.submit(contextvars.copy_context(), ran.append, ("skipped",))
        )
        await asyncio.sleep(0.01)
        # One thread at most: the second call waits in the queue.
        assert pool.threads == 1
        first.cancel()
        second.cancel()
        await asyncio.sleep(0.01)
        release.set()
        # The pool is not stuck: the cancelled calls are done with (the
        # running one finishes, the waiting one is skipped).
        third = pool.submit(contextvars.copy_context(), ran.append, ("third",))
        await asyncio.wait_for(third, 5)
        assert ran == ["block", "third"]
        assert pool.threads == 1

    asyncio.run(main())


def test_pool_reuses_and_bounds_threads() -> None:
    pool = WorkerPool(limit=3)
    barrier = threading.Barrier(3, timeout=5)
    names: set[str] = set()

    def meet() -> None:
        names.add(threading.current_thread().name)
        barrier.wait()

    async def main() -> None:
        calls = [pool.submit(contextvars.copy_context(), meet, ()) for _ in range(3)]
        await asyncio.gather(*calls)
        # The three calls met: they ran at once, in three threads.
        assert pool.threads == 3
        await asyncio.sleep(0.01)
        for _ in range(5):
            await pool.submit(contextvars.copy_context(), len, ((),))
        assert pool.threads == 3

    asyncio.run(main())
    assert names == {"erlen-worker"}


def test_idle_threads_end(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asgi_module, "THREAD_IDLE_TIMEOUT", 0.02)
    pool = WorkerPool()

    async def main() -> None:
        await pool.submit(contextvars.copy_context(), len, ((),))
        assert pool.threads == 1
        for _ in range(200):
            if not pool.threads:
                break
            await asyncio.sleep(0.01)
        assert pool.threads == 0
        # A new call starts a new thread.
        assert await pool.submit(contextvars.copy_context(), len, ("ab",)) == 2

    asyncio.run(main())


def test_idle_timeout_while_promised(monkeypatch: pytest.MonkeyPatch) -> None:
    # A thread whose wait times out just after a caller counted on it stays.
    monkeypatch.setattr(asgi_module, "THREAD_IDLE_TIMEOUT", 0.02)
    pool = WorkerPool()

    async def main() -> None:
        await pool.submit(contextvars.copy_context(), len, ((),))
        await asyncio.sleep(0.01)
        with pool._lock:
            # What submit() does: take the idle thread, before queueing.
            assert pool._idle == 1
            pool._idle = 0
            await asyncio.sleep(0.1)  # the thread times out, waits for the lock
        await asyncio.sleep(0.05)
        assert pool.threads == 1
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        context = contextvars.copy_context()
        pool._queue.put((loop, future, context, len, ("abc",), {}))
        assert await asyncio.wait_for(future, 5) == 3
        assert pool.threads == 1

    asyncio.run(main())


def test_result_of_cancelled_call_dropped() -> None:
    pool = WorkerPool()
    started = threading.Event()
    release = threading.Event()

    def block() -> None:
        started.set()
        release.wait(5)
        raise ValueError("nobody hears this")

    async def main() -> None:
        task = asyncio.ensure_future(pool.submit(contextvars.copy_context(), block, ()))
        while not started.is_set():
            await asyncio.sleep(0.001)
        task.cancel()
        release.set()
        await asyncio.sleep(0.05)
        assert await pool.submit(contextvars.copy_context(), len, ("a",)) == 1

    asyncio.run(main())


def test_limits_validated() -> None:
    with pytest.raises(ValueError, match="at least one thread"):
        WorkerPool(0)
    with pytest.raises(ValueError, match="at least one thread"):
        asgi_module.set_thread_limit(0)


def test_reset_after_fork() -> None:
    pool = WorkerPool()
    pool.threads = pool._idle = 3
    pool._reset_after_fork()
    assert (pool.threads, pool._idle) == (0, 0)


def test_lifespan_sets_thread_limit(
    app: erlen.Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = asgi_module._get_pool()
    monkeypatch.setattr(pool, "limit", pool.limit)
    monkeypatch.setattr(asgi_module, "_thread_limit", asgi_module._thread_limit)
    app.config["ASGI_MAX_THREADS"] = "7"
    sent: list[Message] = []
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app({"type": "lifespan"}, receive, send))
    assert [m["type"] for m in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    assert pool.limit == 7


def test_thread_limit_before_the_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    # The pool is made on the first call, with the limit set by then.
    monkeypatch.setattr(asgi_module, "_pool", None)
    monkeypatch.setattr(asgi_module, "_thread_limit", asgi_module._thread_limit)
    asgi_module.set_thread_limit(3)
    assert asgi_module._pool is None
    assert asyncio.run(_in_loop(run_sync, None, len, "ab")) == 2
    assert asgi_module._pool is not None
    assert asgi_module._pool.limit == 3


async def _in_loop(func: t.Any, *args: t.Any) -> t.Any:
    return await func(*args)


def test_build_environ_header_names() -> None:
    scope = {
        "method": "GET",
        "path": "/",
        "raw_path": b"/a%2Fb",
        "headers": [
            (b"x-unusual-name", b"1"),
            (b"X-Upper", b"2"),
            (b"content-type", b"text/plain"),
        ],
        "http_version": "2",
        "extensions": {"http.response.pathsend": {}},
    }
    environ = build_environ(scope, None)  # type: ignore[arg-type]
    assert environ["PATH_INFO"] == "/a/b"
    assert environ["HTTP_X_UNUSUAL_NAME"] == "1"
    assert environ["HTTP_X_UPPER"] == "2"
    assert environ["CONTENT_TYPE"] == "text/plain"
    assert environ["SERVER_PROTOCOL"] == "HTTP/2"
    assert "erlen.debug.preserve_context" not in environ
    assert environ["wsgi.input_terminated"] is True
    environ = build_environ({**scope, "http_version": "0.9"}, None)  # type: ignore[arg-type]
    assert environ["SERVER_PROTOCOL"] == "HTTP/0.9"


def test_header_tables_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asgi_module, "_HEADER_KEYS", {})
    monkeypatch.setattr(asgi_module, "_HEADER_PAIRS_MAX", 2)
    asgi_module._HEADER_PAIRS.clear()
    monkeypatch.setattr(asgi_module, "_HEADER_KEYS_MAX", 2)
    headers = [(f"x-{i}".encode(), b"v") for i in range(5)]
    environ = build_environ({"method": "GET", "path": "/", "headers": headers}, None)  # type: ignore[arg-type]
    assert [environ[f"HTTP_X_{i}"] for i in range(5)] == ["v"] * 5
    assert len(asgi_module._HEADER_KEYS) == 2

    async def main() -> list[Message]:
        sent: list[Message] = []

        async def send(message: Message) -> None:
            sent.append(message)

        response = erlen.Response("x", headers={f"X-{i}": "v" for i in range(5)})
        response.headers["X-Long"] = "v" * 201
        await asgi_module.send_response(response, {"REQUEST_METHOD": "GET"}, send)
        # Sent again: the pairs come from the table where they are kept.
        await asgi_module.send_response(response, {"REQUEST_METHOD": "GET"}, send)
        return sent

    sent = asyncio.run(main())
    for start in (sent[0], sent[2]):
        assert [pair for pair in start["headers"] if pair[0][:2] == b"x-"] == [
            *((f"x-{i}".encode(), b"v") for i in range(5)),
            (b"x-long", b"v" * 201),
        ]
    # The table is emptied when full; a long value is never kept.
    assert len(asgi_module._HEADER_PAIRS) <= 2
    assert all(len(value) <= 200 for _, value in asgi_module._HEADER_PAIRS)


def test_headers_not_a_headers_object() -> None:
    # A get_wsgi_headers() override may hand back any iterable of pairs.
    class Listed(erlen.Response):
        def get_wsgi_headers(self, environ: t.Any) -> t.Any:
            return [("X-Listed", "1"), ["X-As-List", "2"]]

    async def main() -> list[Message]:
        sent: list[Message] = []

        async def send(message: Message) -> None:
            sent.append(message)

        await asgi_module.send_response(Listed("x"), {"REQUEST_METHOD": "GET"}, send)
        return sent

    sent = asyncio.run(main())
    assert sent[0]["headers"] == [(b"x-listed", b"1"), (b"x-as-list", b"2")]


def test_server_environ_template() -> None:
    scope = {
        "method": "GET",
        "path": "/",
        "server": ("example.org", 8443),
        "scheme": "https",
        "http_version": "2",
        "client": ("10.0.0.1", 5555),
    }
    first = build_environ(scope, None)  # type: ignore[arg-type]
    # The second request on the server reuses its template, and changes to
    # one environ never reach the template or another request.
    first["SERVER_NAME"] = "changed"
    first["HTTP_X"] = "1"
    second = build_environ({**scope, "client": None}, None)  # type: ignore[arg-type]
    assert second["SERVER_NAME"] == "example.org"
    assert second["SERVER_PORT"] == "8443"
    assert second["SERVER_PROTOCOL"] == "HTTP/2"
    assert second["wsgi.url_scheme"] == "https"
    assert second["REMOTE_ADDR"] is None
    assert "REMOTE_PORT" not in second
    assert "HTTP_X" not in second
    assert first["REMOTE_ADDR"] == "10.0.0.1"
    assert first["REMOTE_PORT"] == "5555"
    # A server given as a list (an iterable, as the spec allows) cannot be
    # a template's key: the environ is built all the same.
    listed = build_environ({**scope, "server": ["example.org", 80]}, None)  # type: ignore[arg-type]
    assert (listed["SERVER_NAME"], listed["SERVER_PORT"]) == ("example.org", "80")


def test_server_environ_template_switches() -> None:
    # Requests alternating between servers, schemes and versions each get
    # their own server's keys (the last template is only reused for equal
    # values).
    base = {"method": "GET", "path": "/", "server": ("a.example", 80)}
    cases = [
        ({}, ("a.example", "80", "http", "HTTP/1.1")),
        ({"scheme": "https"}, ("a.example", "80", "https", "HTTP/1.1")),
        ({"http_version": "2"}, ("a.example", "80", "http", "HTTP/2")),
        ({"server": ("b.example", 81)}, ("b.example", "81", "http", "HTTP/1.1")),
        ({"server": ["a.example", 82]}, ("a.example", "82", "http", "HTTP/1.1")),
        ({}, ("a.example", "80", "http", "HTTP/1.1")),
    ]
    for _ in range(2):
        for extra, expected in cases:
            environ = build_environ({**base, **extra}, None)  # type: ignore[arg-type]
            keys = ("SERVER_NAME", "SERVER_PORT", "wsgi.url_scheme", "SERVER_PROTOCOL")
            assert tuple(environ[k] for k in keys) == expected


def test_buffered_body_close_hooks() -> None:
    events: list[str] = []

    async def main() -> list[Message]:
        sent: list[Message] = []

        async def send(message: Message) -> None:
            sent.append(message)

        response = erlen.Response(["a", b"b"])
        response.call_on_close(lambda: events.append(var.get()))
        context = contextvars.copy_context()
        context.run(var.set, "request")
        await asgi_module.send_response(
            response, {"REQUEST_METHOD": "GET"}, send, context
        )
        return sent

    sent = asyncio.run(main())
    assert sent[1] == {"type": "http.response.body", "body": b"ab"}
    # The hook ran in a worker thread, in the request's context.
    assert events == ["request"]


def test_body_in_several_chunks(app: erlen.Flask) -> None:
    @app.post("/")
    def index() -> bytes:
        return erlen.request.get_data()

    async def main() -> list[Message]:
        sent: list[Message] = []
        incoming = [
            {"type": "http.request", "body": b"ab", "more_body": True},
            {"type": "http.request", "more_body": True},
            {"type": "http.request", "body": b"c"},
        ]

        async def receive() -> Message:
            if incoming:
                return incoming.pop(0)
            await asyncio.get_running_loop().create_future()
            raise AssertionError  # pragma: no cover

        async def send(message: Message) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": "POST",
            "path": "/",
            "headers": [(b"host", b"h"), (b"content-length", b"3")],
        }
        await app(scope, receive, send)
        return sent

    sent = asyncio.run(main())
    assert sent[0]["status"] == 200
    assert sent[1]["body"] == b"abc"


def test_root_path_not_a_prefix() -> None:
    scope = {"method": "GET", "path": "/other", "root_path": "/root"}
    environ = build_environ(scope, None)  # type: ignore[arg-type]
    assert (environ["SCRIPT_NAME"], environ["PATH_INFO"]) == ("/root", "/other")


def test_disconnect_before_any_body(app: erlen.Flask) -> None:
    @app.route("/")
    def index() -> str:  # pragma: no cover (never called)
        raise AssertionError

    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    # A request with a body (a length given): the body is received first.
    headers = [(b"content-length", b"3")]
    scope = {"type": "http", "method": "GET", "path": "/", "headers": headers}
    asyncio.run(app(scope, receive, send))
    assert sent == []


@pytest.mark.parametrize(
    ("method", "status", "body", "expected"),
    [
        ("GET", 200, [b"a", b"b"], b"ab"),
        ("HEAD", 200, [b"a"], b""),
        ("GET", 204, [b"a"], b""),
        ("GET", 304, [b"a"], b""),
        ("GET", 100, [b"a"], b""),
        ("GET", 200, [b"a", "é"], "aé".encode()),
        ("GET", 200, (b"a", b"b"), b"ab"),
    ],
)
def test_buffered_bodies(
    method: str, status: int, body: t.Any, expected: bytes
) -> None:
    class Custom(erlen.Response):
        def get_app_iter(self, environ: t.Any) -> t.Iterable[bytes]:
            return [b"custom"]

    async def main(response: erlen.Response) -> list[Message]:
        sent: list[Message] = []

        async def send(message: Message) -> None:
            sent.append(message)

        await asgi_module.send_response(response, {"REQUEST_METHOD": method}, send)
        return sent

    response = erlen.Response(status=status)
    response.response = body
    sent = asyncio.run(main(response))
    assert sent[0]["status"] == status
    assert sent[1] == {"type": "http.response.body", "body": expected}
    # A subclass's get_app_iter() is honoured.
    custom = Custom(status=status)
    custom.response = body
    assert asyncio.run(main(custom))[1]["body"] == b"custom"


def test_build_environ_header_passes() -> None:
    # Known names, then a new one (the table lookup fails midway), then a
    # repeated known one: each value lands once, repeated ones joined.
    headers = (
        (b"host", b"h"),
        (b"x-first-seen-here", b"1"),
        (b"accept", b"a"),
        (b"accept", b"b"),
    )
    scope = {"method": "GET", "path": "/", "headers": iter(headers)}
    environ = build_environ(scope, None)  # type: ignore[arg-type]
    assert environ["HTTP_HOST"] == "h"
    assert environ["HTTP_X_FIRST_SEEN_HERE"] == "1"
    assert environ["HTTP_ACCEPT"] == "a, b"
    # A one-shot iterable is kept as a list: the request reads it again.
    assert environ["erlen.raw_headers"] == list(headers)
    environ = build_environ({**scope, "headers": headers[:3]}, None)  # type: ignore[arg-type]
    assert environ["HTTP_ACCEPT"] == "a"
    # Only known names, one repeated: found by counting the keys.
    known = [(b"cookie", b"a=1"), (b"host", b"h"), (b"cookie", b"b=2")]
    environ = build_environ({**scope, "headers": known}, None)  # type: ignore[arg-type]
    assert (environ["HTTP_COOKIE"], environ["HTTP_HOST"]) == ("a=1; b=2", "h")


def test_worker_runs_coroutines_on_its_loop() -> None:
    # Sync code in a worker thread hands a coroutine to the loop that gave
    # it the call, with no context variable set for it.
    from erlen._async import run_coroutine_sync

    async def where() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    def sync_code() -> asyncio.AbstractEventLoop:
        return run_coroutine_sync(where())

    async def main() -> tuple[t.Any, t.Any]:
        loop = asyncio.get_running_loop()
        used = await run_sync(None, sync_code)
        return loop, used

    server, used = asyncio.run(main())
    assert used is server
    assert asgi_module.worker_loop() is None
