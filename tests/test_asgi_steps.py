"""The generator steps on the event loop: coroutine functions in place, sync in threads.

An app with a coroutine function is served under ASGI by ``_handle_gen``
driven from the event loop: a coroutine function runs inside the step (as
``await`` would), so what it waits on passes through to the driver; a sync
function is handed to the driver, which runs it in a worker thread. Each
test here makes a request wait in a different place.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import typing as t

import pytest

import erlen
from erlen import g
from erlen.testing import Client

from .test_asgi import _body
from .test_asgi import _request
from .test_asgi import _run
from .test_asgi import _scope
from .test_asgi import Message

_var: contextvars.ContextVar[str] = contextvars.ContextVar("_var", default="unset")


def test_mixed_functions_wait_and_share_the_context(app: erlen.Flask) -> None:
    events: list[str] = []
    main = threading.current_thread()

    def where() -> str:
        return "loop" if threading.current_thread() is main else "thread"

    @app.before_request
    def sync_before() -> None:
        events.append(f"before:{where()}")
        g.seen = ["before"]

    @app.before_request
    async def async_before() -> None:
        await asyncio.sleep(0)  # a bare yield: one turn of the loop
        events.append(f"async_before:{where()}")
        g.seen.append("async_before")

    @app.route("/")
    async def index() -> str:
        await asyncio.sleep(0.001)  # waits on a future
        _var.set("set by the view")
        events.append(f"view:{where()}")
        return "index"

    @app.after_request
    def sync_after(response: t.Any) -> t.Any:
        events.append(f"after:{where()}:{_var.get()}")
        response.headers["X-Seen"] = ",".join(g.seen)
        return response

    @app.teardown_request
    async def async_teardown(exc: BaseException | None) -> None:
        await asyncio.sleep(0)
        events.append(f"teardown:{where()}:{_var.get()}:{exc!r}")

    sent = _run(app, _scope(), [_request()])
    assert sent[0]["status"] == 200
    assert (b"x-seen", b"before,async_before") in sent[0]["headers"]
    assert _body(sent) == b"index"
    assert events == [
        "before:thread",
        "async_before:loop",
        "view:loop",
        "after:thread:set by the view",
        "teardown:loop:set by the view:None",
    ]
    # Nothing of the request is left in the caller's context.
    assert _var.get() == "unset"


def test_errors_after_waiting_reach_the_handlers(app: erlen.Flask) -> None:
    events: list[str] = []

    class Custom(Exception):
        pass

    @app.errorhandler(Custom)
    async def on_custom(e: Custom) -> tuple[str, int]:
        await asyncio.sleep(0.001)
        events.append("custom handler")
        return "handled", 418

    @app.errorhandler(500)
    def on_500(e: t.Any) -> tuple[str, int]:
        events.append(f"500 handler:{type(e.original_exception).__name__}")
        return "server error", 500

    @app.route("/custom")
    async def custom() -> str:
        await asyncio.sleep(0.001)
        raise Custom()

    @app.route("/boom")
    async def boom() -> str:
        await asyncio.sleep(0)
        raise KeyError("boom")

    @app.route("/sync-boom")
    def sync_boom() -> str:
        raise ValueError("in a thread")

    app.testing = False
    sent = _run(app, _scope("/custom"), [_request()])
    assert (sent[0]["status"], _body(sent)) == (418, b"handled")
    sent = _run(app, _scope("/boom"), [_request()])
    assert (sent[0]["status"], _body(sent)) == (500, b"server error")
    sent = _run(app, _scope("/sync-boom"), [_request()])
    assert (sent[0]["status"], _body(sent)) == (500, b"server error")
    assert events == [
        "custom handler",
        "500 handler:KeyError",
        "500 handler:ValueError",
    ]


def test_error_raised_into_a_waiting_view(app: erlen.Flask) -> None:
    # The future the view waits on fails: the view sees the exception where
    # it awaited, and may handle it.
    @app.route("/")
    async def index() -> str:
        future = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(future.set_exception, KeyError("x"))
        try:
            await future
        except KeyError:
            return "caught"
        return "not raised"

    sent = _run(app, _scope(), [_request()])
    assert _body(sent) == b"caught"


def test_cancelled_while_waiting(app: erlen.Flask) -> None:
    events: list[str] = []
    holder: dict[str, asyncio.Event] = {}

    @app.route("/")
    async def index() -> str:
        holder["started"].set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            events.append("view cancelled")
            raise
        return "never"

    @app.teardown_request
    async def teardown(exc: BaseException | None) -> None:
        events.append(f"teardown:{type(exc).__name__}")

    async def main() -> None:
        holder["started"] = asyncio.Event()
        sent: list[Message] = []

        async def receive() -> Message:
            return _request()

        async def send(message: Message) -> None:
            sent.append(message)

        task = asyncio.ensure_future(app(_scope(), receive, send))
        await holder["started"].wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert sent == []

    asyncio.run(main())
    assert events == ["view cancelled", "teardown:CancelledError"]
    assert erlen.globals._cv_request.get(None) is None


def test_request_that_never_waits_needs_no_driver(app: erlen.Flask) -> None:
    # Coroutine functions that finish at once: the response comes back from
    # _erlen_handle_async itself, not as an awaitable.
    @app.route("/")
    async def index() -> str:
        return "at once"

    app._erlen_setup()
    environ = erlen.asgi.build_environ(_scope(), None)  # type: ignore[arg-type]
    response = app._erlen_handle_async(environ, contextvars.copy_context())
    assert isinstance(response, erlen.Response)
    assert response.get_data() == b"at once"


class _Unhashable:
    """A callable that cannot be a dict key (the steps' coroutine memo)."""

    __hash__ = None  # type: ignore[assignment]

    def __init__(self, func: t.Callable[..., t.Any]) -> None:
        self.func = func

    def __call__(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        return self.func(*args, **kwargs)


def test_unhashable_callables_in_the_steps(app: erlen.Flask, client: Client) -> None:
    # Any callable may be a hook or a view, as in Flask; an unhashable one
    # is asked whether it is a coroutine function without the memo.
    events: list[str] = []

    def before() -> None:
        events.append("before")

    def after(response: t.Any) -> t.Any:
        events.append("after")
        response.headers["X-After"] = "yes"
        return response

    def fail(e: Exception) -> tuple[str, int]:
        events.append("error handler")
        return "handled", 500

    def add_after_this(response: t.Any) -> t.Any:
        events.append("after_this_request")
        return response

    def view() -> str:
        erlen.after_this_request(_Unhashable(add_after_this))
        return "plain"

    def broken() -> str:
        raise KeyError("boom")

    @app.route("/async")
    async def async_view() -> str:  # the steps serve the app
        return "async"

    app.before_request(_Unhashable(before))
    app.after_request(_Unhashable(after))
    app.register_error_handler(KeyError, _Unhashable(fail))
    app.add_url_rule("/", "view", _Unhashable(view))
    app.add_url_rule("/broken", "broken", _Unhashable(broken))

    response = client.get("/")
    assert response.data == b"plain"
    assert response.headers["X-After"] == "yes"
    assert events == ["before", "after_this_request", "after"]
    events.clear()
    response = client.get("/broken")
    assert (response.status_code, response.data) == (500, b"handled")
    assert events == ["before", "error handler", "after"]


def test_error_path_finalizes_through_the_steps(
    app: erlen.Flask, client: Client
) -> None:
    # An unhandled error is answered with a 500 that still goes through
    # after_this_request and after_request functions (coroutines too, and
    # an unhashable one), and saves the session.
    app.config["PROPAGATE_EXCEPTIONS"] = False
    events: list[str] = []

    @app.route("/")
    async def index() -> str:
        erlen.session["seen"] = True

        @erlen.after_this_request
        async def once(response: t.Any) -> t.Any:
            events.append("after_this_request")
            return response

        raise KeyError("boom")

    @app.after_request
    async def async_after(response: t.Any) -> t.Any:
        events.append(f"after:{response.status_code}")
        return response

    def plain_after(response: t.Any) -> t.Any:
        events.append("plain after")
        return response

    app.after_request(_Unhashable(plain_after))

    response = client.get("/")
    assert response.status_code == 500
    assert events == ["after_this_request", "plain after", "after:500"]
    assert "session=" in response.headers["Set-Cookie"]


def test_quiet_not_found_leaves_no_reference_cycle(app: erlen.Flask) -> None:
    # The routing error answering a 404 on its own drops its traceback,
    # which tied the request to itself through its frames' locals.
    @app.route("/")
    async def index() -> str:
        return "index"

    seen: list[t.Any] = []

    @app.after_request
    async def after(response: t.Any) -> t.Any:
        seen.append(erlen.request.routing_exception)
        return response

    sent = _run(app, _scope("/missing"), [_request()])
    assert sent[0]["status"] == 404
    assert seen[0].__traceback__ is None
