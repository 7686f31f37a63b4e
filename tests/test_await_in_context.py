"""erlen._async.await_in_context: a coroutine stepped in a context, without a task."""

from __future__ import annotations

import asyncio
import contextvars

import pytest

from erlen._async import await_in_context

var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="outer")


def test_runs_in_the_given_context_and_keeps_its_changes() -> None:
    async def inner() -> str:
        seen = var.get()
        var.set("changed")
        await asyncio.sleep(0)  # a bare yield
        await asyncio.sleep(0.001)  # a future
        assert var.get() == "changed"
        return seen

    async def main() -> None:
        context = contextvars.copy_context()
        context.run(var.set, "request")
        assert await await_in_context(inner(), context) == "request"
        assert context[var] == "changed"
        assert var.get() == "outer"  # the caller's own context is untouched

    asyncio.run(main())


def test_no_task_is_created_and_result_is_immediate() -> None:
    async def inner() -> int:
        return 7

    async def main() -> None:
        before = asyncio.all_tasks()
        assert await await_in_context(inner(), contextvars.copy_context()) == 7
        assert asyncio.all_tasks() == before

    asyncio.run(main())


def test_exceptions_propagate_from_the_coroutine() -> None:
    async def inner() -> None:
        await asyncio.sleep(0)
        raise KeyError("boom")

    async def main() -> None:
        with pytest.raises(KeyError, match="boom"):
            await await_in_context(inner(), contextvars.copy_context())

    asyncio.run(main())


def test_a_failed_future_is_raised_inside_the_coroutine() -> None:
    async def inner() -> str:
        fut = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_later(0.001, fut.set_exception, ValueError("x"))
        try:
            await fut
        except ValueError:
            return "caught"
        return "not raised"

    async def main() -> None:
        assert await await_in_context(inner(), contextvars.copy_context()) == "caught"

    asyncio.run(main())


def test_cancellation_reaches_the_coroutine() -> None:
    cleaned: list[str] = []

    async def inner() -> None:
        try:
            await asyncio.sleep(10)
        finally:
            cleaned.append(var.get())

    async def main() -> None:
        context = contextvars.copy_context()
        context.run(var.set, "request")
        task = asyncio.ensure_future(await_in_context(inner(), context))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert cleaned == ["request"]


def test_timeout_inside_the_coroutine() -> None:
    async def inner() -> str:
        try:
            async with asyncio.timeout(0.01):
                await asyncio.sleep(10)
        except TimeoutError:
            return "timed out"
        return "no timeout"

    async def main() -> None:
        result = await await_in_context(inner(), contextvars.copy_context())
        assert result == "timed out"

    asyncio.run(main())
