"""Running coroutines from sync code: the worker thread's loop, or the server's."""

from __future__ import annotations

import contextvars
import sys
import threading
import typing as t
from functools import update_wrapper
from types import FunctionType

from .asgi import worker_loop

if t.TYPE_CHECKING:  # pragma: no cover
    import asyncio

# PERF: asyncio and concurrent.futures are imported on first use (import time):
# a WSGI app that never awaits anything does not load them (~25 ms).

T = t.TypeVar("T")

_local = threading.local()

#: ``inspect.CO_COROUTINE``: the code flag of an ``async def`` function.
_CO_COROUTINE = 0x80


def iscoroutinefunction(func: t.Any) -> bool:
    """Return ``inspect.iscoroutinefunction(func)``.

    PERF: a plain function (nearly every view and hook) is answered from its
    code flags: no ``inspect`` import (~5 ms, import time) and about a third
    of the call's cost. Anything else (methods, partials, callables, functions
    carrying 3.12's coroutine marker) goes to ``inspect``.
    """
    if type(func) is FunctionType and "_is_coroutine_marker" not in func.__dict__:
        return bool(func.__code__.co_flags & _CO_COROUTINE)
    import inspect

    return bool(inspect.iscoroutinefunction(func))


def thread_loop() -> asyncio.AbstractEventLoop:
    """Return this thread's own event loop, created on first use and then reused.

    PERF: one loop per worker thread, never one per request.
    """
    loop: asyncio.AbstractEventLoop | None = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        import asyncio

        loop = asyncio.new_event_loop()
        _local.loop = loop
    return loop


def _in_running_loop() -> bool:
    # PERF: called for each coroutine run from sync code. No import statement
    # (about 1k instructions each time, even when loaded), and no RuntimeError
    # made and caught when no loop runs (the WSGI case): a loop can only run
    # once asyncio is loaded, and _get_running_loop() answers None.
    asyncio = sys.modules.get("asyncio")
    return asyncio is not None and asyncio._get_running_loop() is not None


def run_coroutine_sync(coro: t.Coroutine[t.Any, t.Any, T]) -> T:
    """Run ``coro`` to completion from synchronous code and return its result.

    - In a worker thread of an ASGI request, on the server's loop, so that
      the coroutine shares the loop with everything else it may talk to.
    - In a thread with no running loop (WSGI), on the thread's reused loop.
    - On a thread whose loop is running (sync code called from async code),
      on a private helper thread, since that loop cannot be re-entered.

    The caller's context variables are visible to the coroutine in each case.
    """
    if not _in_running_loop():
        # A worker thread of asgi.run_sync knows the loop that handed it the
        # call. PERF: nothing is set per request for this.
        main = worker_loop()
        if main is not None and main.is_running():
            import asyncio

            return asyncio.run_coroutine_threadsafe(coro, main).result()
        return thread_loop().run_until_complete(coro)
    from concurrent.futures import ThreadPoolExecutor

    context = contextvars.copy_context()
    with ThreadPoolExecutor(1, thread_name_prefix="erlen-async") as pool:
        return pool.submit(context.run, _run_on_new_loop, coro).result()


def _run_on_new_loop(coro: t.Coroutine[t.Any, t.Any, T]) -> T:
    # NOTE: this runs on a one-off helper thread: its loop is closed here,
    # not kept in the thread-local (the thread, and the loop, would leak).
    import asyncio

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


def run_in_context(
    coro: t.Coroutine[t.Any, t.Any, T], context: contextvars.Context
) -> T:
    """Run ``coro`` to completion as a task in ``context`` and return its result.

    Unlike :func:`run_coroutine_sync`, whose coroutine sees a copy of the
    caller's context, changes the coroutine makes to context variables
    (a pushed request context, say) stay in ``context``. The caller must
    not be running inside ``context`` itself. Runs on the thread's reused
    loop, or on a helper thread when this thread's loop is running.
    """
    if not _in_running_loop():
        return _run_task(coro, context, thread_loop())
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="erlen-async") as pool:
        return pool.submit(_run_task_once, coro, context).result()


def _run_task(
    coro: t.Coroutine[t.Any, t.Any, T],
    context: contextvars.Context,
    loop: asyncio.AbstractEventLoop,
) -> T:
    return loop.run_until_complete(loop.create_task(coro, context=context))


def _run_task_once(
    coro: t.Coroutine[t.Any, t.Any, T], context: contextvars.Context
) -> T:
    # NOTE: on a one-off helper thread, as in _run_on_new_loop.
    import asyncio

    loop = asyncio.new_event_loop()
    try:
        return _run_task(coro, context, loop)
    finally:
        loop.close()


async def await_in_context(
    coro: t.Coroutine[t.Any, t.Any, T], context: contextvars.Context
) -> T:
    """Await ``coro`` from the calling task, each of its steps run in ``context``.

    What ``create_task(coro, context=context)`` gives, without a task: no
    extra turn of the event loop, and a coroutine that never suspends (most
    views) costs one ``context.run``. When ``coro`` waits on a future, the
    calling task waits on it instead, and ``coro`` resumes once it is done;
    the calling task's cancellation is passed on to ``coro``.
    """
    try:
        yielded = context.run(coro.send, None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    return await resume_in_context(coro, context, yielded)


async def wait_as_task(yielded: t.Any) -> None:
    """Wait on what a suspended coroutine yielded, as its task would.

    ``yielded`` is a future, or None for a bare yield (``asyncio.sleep(0)``).
    """
    if yielded is None:
        # A bare yield: give the loop one turn.
        import asyncio  # PERF: not at module level (import time)

        await asyncio.sleep(0)
    else:
        # As a task does: take over the wait (the future refuses a second
        # waiter while marked blocking). The future's own __await__ in the
        # coroutine reads its result when resumed.
        yielded._asyncio_future_blocking = False
        await yielded


async def resume_in_context(
    coro: t.Coroutine[t.Any, t.Any, T], context: contextvars.Context, yielded: t.Any
) -> T:
    """Go on with ``coro``, suspended on ``yielded``, as :func:`await_in_context`.

    PERF: a caller that made the first step itself (``context.run(coro.send,
    None)``) only pays for this coroutine when ``coro`` really suspends.
    """
    run = context.run
    send = coro.send
    value: t.Any = None
    error: BaseException | None = None
    while True:
        try:
            await wait_as_task(yielded)
        except BaseException as e:
            error = e
        try:
            if error is None:
                yielded = run(send, value)
            else:
                yielded = run(coro.throw, error)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        value = error = None


async def _await(awaitable: t.Awaitable[T]) -> T:
    # NOTE: __anext__() and aclose() give awaitables, not coroutines, and a
    # task needs a coroutine.
    return await awaitable


class SyncIterator(t.Generic[T]):
    """Iterate an async iterable from sync code, each step as a task in ``context``.

    ``close()`` closes the async iterator (``aclose()``) in ``context`` too,
    so an async generator's cleanup runs where its context variables live.
    """

    __slots__ = ("_iterator", "_context")

    def __init__(
        self, iterable: t.AsyncIterable[T], context: contextvars.Context
    ) -> None:
        self._iterator = iterable.__aiter__()
        self._context = context

    def __iter__(self) -> SyncIterator[T]:
        return self

    def __next__(self) -> T:
        try:
            return run_in_context(_await(self._iterator.__anext__()), self._context)
        except StopAsyncIteration:
            raise StopIteration from None

    def close(self) -> None:
        """Close the async iterator, if it can be closed."""
        aclose = getattr(self._iterator, "aclose", None)
        if aclose is not None:
            run_in_context(_await(aclose()), self._context)


def async_to_sync(
    func: t.Callable[..., t.Coroutine[t.Any, t.Any, T]],
) -> t.Callable[..., T]:
    """Wrap a coroutine function so that calling it runs it to completion."""

    def wrapper(*args: t.Any, **kwargs: t.Any) -> T:
        return run_coroutine_sync(func(*args, **kwargs))

    update_wrapper(wrapper, func)
    wrapper._erlen_async_wrapped = func  # type: ignore[attr-defined]
    return wrapper
