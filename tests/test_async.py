from __future__ import annotations

import asyncio
import contextvars
import threading
import typing as t

import pytest

import erlen
from erlen import asgi as asgi_module
from erlen._async import async_to_sync
from erlen._async import run_coroutine_sync
from erlen._async import run_in_context
from erlen._async import SyncIterator
from erlen._async import thread_loop
from erlen.testing import Client

var: contextvars.ContextVar[str] = contextvars.ContextVar(
    "erlen_test_var", default="unset"
)


async def _loop_and_var() -> tuple[asyncio.AbstractEventLoop, str]:
    await asyncio.sleep(0)
    return asyncio.get_running_loop(), var.get()


def test_thread_loop_reused_and_replaced_when_closed() -> None:
    loop = thread_loop()
    assert thread_loop() is loop
    loop.close()
    new = thread_loop()
    assert new is not loop
    assert not new.is_closed()


def test_run_coroutine_sync_on_thread_loop() -> None:
    token = var.set("caller")
    try:
        loop, value = run_coroutine_sync(_loop_and_var())
    finally:
        var.reset(token)
    assert loop is thread_loop()
    assert value == "caller"


def test_run_coroutine_sync_from_running_loop_uses_helper_thread() -> None:
    async def main() -> tuple[
        asyncio.AbstractEventLoop, asyncio.AbstractEventLoop, str
    ]:
        var.set("inside")
        here = asyncio.get_running_loop()
        loop, value = run_coroutine_sync(_loop_and_var())
        return here, loop, value

    here, loop, value = asyncio.run(main())
    assert loop is not here
    assert value == "inside"


def test_run_coroutine_sync_on_main_loop_from_worker() -> None:
    async def main() -> tuple[asyncio.AbstractEventLoop, asyncio.AbstractEventLoop]:
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        result = await asgi_module.run_sync(
            context, run_coroutine_sync, _loop_and_var()
        )
        return loop, result[0]

    server, used = asyncio.run(main())
    assert used is server


def test_run_coroutine_sync_main_loop_not_running() -> None:
    # A worker thread whose loop has stopped runs the coroutine on its own.
    stopped = asyncio.new_event_loop()
    try:
        asgi_module._worker.loop = stopped
        try:
            loop, _ = run_coroutine_sync(_loop_and_var())
        finally:
            del asgi_module._worker.loop
    finally:
        stopped.close()
    assert loop is thread_loop()


def test_async_to_sync_wrapper() -> None:
    async def add(a: int, b: int = 0) -> int:
        """Add."""
        await asyncio.sleep(0)
        return a + b

    wrapped = async_to_sync(add)
    assert wrapped(1, b=2) == 3
    assert wrapped.__name__ == "add"
    assert wrapped.__doc__ == "Add."
    assert wrapped._erlen_async_wrapped is add  # type: ignore[attr-defined]


def test_run_in_context_keeps_changes() -> None:
    context = contextvars.copy_context()

    async def setter() -> str:
        var.set("set in task")
        return "done"

    assert run_in_context(setter(), context) == "done"
    assert context[var] == "set in task"
    assert var.get() == "unset"

    async def main() -> str:
        return run_in_context(setter(), context)

    assert asyncio.run(main()) == "done"


def test_sync_iterator() -> None:
    context = contextvars.copy_context()
    context.run(var.set, "ctx")
    events: list[str] = []

    async def agen() -> t.AsyncIterator[str]:
        try:
            yield var.get()
            yield "second"
        finally:
            events.append("closed")

    iterator = SyncIterator(agen(), context)
    assert iter(iterator) is iterator
    assert next(iterator) == "ctx"
    iterator.close()
    assert events == ["closed"]
    assert list(SyncIterator(agen(), context)) == ["ctx", "second"]

    class NoClose:
        def __aiter__(self) -> NoClose:
            return self

        async def __anext__(self) -> str:
            raise StopAsyncIteration

    plain = SyncIterator(NoClose(), context)
    assert list(plain) == []
    plain.close()


# -- ensure_sync through the app ----------------------------------------------------


def test_wsgi_reuses_thread_loop_across_requests(app: erlen.Flask) -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    @app.route("/")
    async def index() -> str:
        loops.append(asyncio.get_running_loop())
        return "x"

    with Client(app, asgi=False) as client:
        client.get("/")
        client.get("/")
    assert loops[0] is loops[1]
    assert loops[0] is thread_loop()


def test_asgi_worker_thread_uses_server_loop(app: erlen.Flask) -> None:
    loops: list[asyncio.AbstractEventLoop] = []
    threads: list[int] = []

    async def fetch() -> None:
        loops.append(asyncio.get_running_loop())

    @app.route("/")
    def index() -> str:
        # A sync view in an all-sync app runs in a worker thread; its
        # coroutines run on the server's loop.
        threads.append(threading.get_ident())
        app.ensure_sync(fetch)()
        return "x"

    with Client(app, asgi=True) as client:
        client.get("/")
        assert loops[0] is client._loop
    assert threads[0] != threading.get_ident()


def test_ensure_sync_returns_sync_function(app: erlen.Flask) -> None:
    def plain() -> str:
        return "x"

    assert app.ensure_sync(plain) is plain


def test_async_view_sets_context_var_seen_later(
    app: erlen.Flask, client: Client
) -> None:
    @app.before_request
    async def before() -> None:
        var.set("from async hook")

    @app.route("/")
    def index() -> str:
        return var.get()

    assert client.get("/").data == b"from async hook"
    assert var.get() == "unset"


def test_async_stream_over_wsgi_from_running_loop(app: erlen.Flask) -> None:
    @app.route("/")
    async def index() -> t.Any:
        async def gen() -> t.AsyncIterator[str]:
            yield erlen.request.path

        return erlen.stream_with_context(gen())

    async def main() -> bytes:
        # A WSGI call made from async code: coroutines run on a helper thread.
        with Client(app, asgi=False) as client:
            return client.get("/").data

    assert asyncio.run(main()) == b"/"


def test_class_based_async_view(app: erlen.Flask, client: Client) -> None:
    from erlen.views import MethodView

    class Thing(MethodView):
        async def get(self) -> str:
            await asyncio.sleep(0)
            return "async method"

    app.add_url_rule("/", view_func=Thing.as_view("thing"))
    assert client.get("/").data == b"async method"


class _ThreadRecordingInterface(erlen.sessions.SecureCookieSessionInterface):
    """The cookie interface, recording the thread each open and save ran in."""

    def __init__(self, io_bound: bool) -> None:
        self.io_bound = io_bound
        self.threads: dict[str, int] = {}

    def open_session(self, app: t.Any, request: t.Any) -> t.Any:
        self.threads["open"] = threading.get_ident()
        return super().open_session(app, request)

    def save_session(self, app: t.Any, session: t.Any, response: t.Any) -> None:
        self.threads["save"] = threading.get_ident()
        super().save_session(app, session, response)


@pytest.mark.parametrize("io_bound", [True, False])
@pytest.mark.parametrize("fail", [False, True])
def test_io_bound_session_interface_runs_off_the_event_loop(
    app: erlen.Flask, io_bound: bool, fail: bool
) -> None:
    # A session store that waits on I/O (Redis) must not block the event
    # loop an async app runs on: it is opened and saved in a worker thread.
    # The cookie interface (io_bound False) stays on the loop, as before.
    interface = _ThreadRecordingInterface(io_bound)
    app.session_interface = interface
    loop_threads: list[int] = []

    @app.route("/")
    async def index() -> str:
        loop_threads.append(threading.get_ident())
        erlen.session["n"] = erlen.session.get("n", 0) + 1
        if fail and erlen.session["n"] > 1:
            raise RuntimeError("boom")  # the error path saves the session too
        return str(erlen.session["n"])

    @app.errorhandler(RuntimeError)
    def failed(e: Exception) -> tuple[str, int]:
        return "failed", 500

    with Client(app, asgi=True) as client:
        assert client.get("/").text == "1"
        # The second request has a cookie, so its session is opened at push.
        second = client.get("/")
    assert second.text == ("failed" if fail else "2")
    assert "Set-Cookie" in second.headers
    loop = loop_threads[-1]
    assert (interface.threads["open"] != loop) is io_bound
    assert (interface.threads["save"] != loop) is io_bound
