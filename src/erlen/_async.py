"""Running coroutines from sync code: the worker thread's loop, or the server's."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import typing as t
from concurrent.futures import ThreadPoolExecutor
from functools import update_wrapper

T = t.TypeVar("T")

#: The ASGI server's event loop, set while a request's sync chain runs in a
#: worker thread; coroutines called from that chain are run on it.
_cv_main_loop: contextvars.ContextVar[asyncio.AbstractEventLoop] = (
    contextvars.ContextVar("erlen.main_loop")
)

_local = threading.local()


def thread_loop() -> asyncio.AbstractEventLoop:
    """Return this thread's own event loop, created on first use and then reused.

    PERF: one loop per worker thread, never one per request.
    """
    loop: asyncio.AbstractEventLoop | None = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        _local.loop = loop
    return loop


def _in_running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


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
        main = _cv_main_loop.get(None)
        if main is not None and main.is_running():
            return asyncio.run_coroutine_threadsafe(coro, main).result()
        return thread_loop().run_until_complete(coro)
    context = contextvars.copy_context()
    with ThreadPoolExecutor(1, thread_name_prefix="erlen-async") as pool:
        return pool.submit(context.run, _run_on_new_loop, coro).result()


def _run_on_new_loop(coro: t.Coroutine[t.Any, t.Any, T]) -> T:
    return thread_loop().run_until_complete(coro)


def async_to_sync(
    func: t.Callable[..., t.Coroutine[t.Any, t.Any, T]],
) -> t.Callable[..., T]:
    """Wrap a coroutine function so that calling it runs it to completion."""

    def wrapper(*args: t.Any, **kwargs: t.Any) -> T:
        return run_coroutine_sync(func(*args, **kwargs))

    update_wrapper(wrapper, func)
    wrapper._erlen_async_wrapped = func  # type: ignore[attr-defined]
    return wrapper
