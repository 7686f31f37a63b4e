"""The helpers that let erlen load modules on first use (import time)."""

from __future__ import annotations

import functools
import inspect
import itertools
import os
import pathlib

import pytest

from erlen import signals
from erlen._async import iscoroutinefunction
from erlen.scaffold import _is_relative_to
from tests._python import run_python


def test_asgi_marker_waits_for_asyncio() -> None:
    # asyncio is hidden while the function is marked, as if not imported yet;
    # the next import after it "arrives" sets the marker.
    code = (
        "import sys\n"
        "from erlen import asgi\n"
        "hidden = sys.modules.pop('asyncio.coroutines', None)\n"
        "def f(): pass\n"
        "asgi.mark_coroutine_function(f)\n"
        "assert not hasattr(f, '_is_coroutine') or sys.version_info >= (3, 12)\n"
        "if hidden is not None: sys.modules['asyncio.coroutines'] = hidden\n"
        "import xml.dom\n"
        "import asyncio\n"
        "print(asyncio.iscoroutinefunction(f))\n"
    )
    assert run_python(code) == "True"


def test_asgi_marker_is_set_when_asyncio_is_imported_after_erlen() -> None:
    code = (
        "from erlen import Flask\n"
        "import asyncio, inspect\n"
        "app = Flask('x')\n"
        "print(asyncio.iscoroutinefunction(app.__call__)"
        " or inspect.iscoroutinefunction(app.__call__))\n"
    )
    assert run_python(code) == "True"


def test_asgi_marker_is_set_when_asyncio_was_imported_first() -> None:
    code = (
        "import asyncio, inspect\n"
        "from erlen import Flask\n"
        "app = Flask('x')\n"
        "print(asyncio.iscoroutinefunction(app.__call__)"
        " or inspect.iscoroutinefunction(app.__call__))\n"
    )
    assert run_python(code) == "True"


def test_signals_load_on_first_lookup_and_only_once() -> None:
    code = (
        "import sys, threading\n"
        "from erlen import signals\n"
        "assert 'blinker' not in sys.modules\n"
        "assert signals.receivers_of('request_started') is None\n"
        "assert 'blinker' not in sys.modules\n"
        "got = []\n"
        "def look(): got.append(signals.request_started)\n"
        "threads = [threading.Thread(target=look) for _ in range(8)]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "assert len({id(s) for s in got}) == 1, got\n"
        "print('blinker' in sys.modules)\n"
    )
    assert run_python(code) == "True"


def test_receivers_of_gives_the_signal_only_with_receivers() -> None:
    signal = signals.request_finished
    assert signals.receivers_of("request_finished") is None

    def receiver(sender: object, **kwargs: object) -> None:
        pass

    signal.connect(receiver)
    try:
        assert signals.receivers_of("request_finished") is signal
    finally:
        signal.disconnect(receiver)
    assert signals.receivers_of("request_finished") is None


def test_signals_module_attributes() -> None:
    assert "request_started" in dir(signals)
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        signals.nope  # noqa: B018


async def _coro() -> None:
    pass


def _sync() -> None:
    pass


class _C:
    async def method(self) -> None:
        pass

    def sync_method(self) -> None:
        pass

    async def __call__(self) -> None:
        pass


def _marked() -> None:
    pass


_marked._is_coroutine_marker = object()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "func",
    [
        _coro,
        _sync,
        _C().method,
        _C().sync_method,
        _C.method,
        _C(),
        functools.partial(_coro),
        functools.partial(_sync),
        functools.wraps(_coro)(lambda: None),
        _marked,
        len,
        None,
        lambda: None,
    ],
)
def test_iscoroutinefunction_agrees_with_inspect(func: object) -> None:
    assert iscoroutinefunction(func) is inspect.iscoroutinefunction(func)


_PARTS = ["", "/", "a", "b", ".", "..", "ab", "a/", "/a", "a/b", "./a", "a//b"]


@pytest.mark.skipif(os.name == "nt", reason="Windows paths go to pathlib")
def test_is_relative_to_agrees_with_pathlib() -> None:
    for path_parts in itertools.product(_PARTS, repeat=3):
        for base_parts in itertools.product(_PARTS, repeat=2):
            path, base = "".join(path_parts), "".join(base_parts)
            if not base:
                continue
            expected = pathlib.PurePath(path).is_relative_to(base)
            assert _is_relative_to(path, base) is expected, (path, base)


def test_is_relative_to_leaves_double_slash_roots_to_pathlib() -> None:
    assert _is_relative_to("//a/b", "/a") is False
    assert _is_relative_to("//a/b", "//a") is True
    assert _is_relative_to("/a", "//a") is False
