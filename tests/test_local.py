from __future__ import annotations

import asyncio
import contextvars
import threading
import typing as t

import pytest

from erlen.local import LocalProxy


class Box:
    def __init__(self) -> None:
        self.items: dict[str, int] = {"a": 1}
        self.value = 3

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> t.Iterator[str]:
        return iter(self.items)

    def __contains__(self, key: object) -> bool:
        return key in self.items

    def __getitem__(self, key: str) -> int:
        return self.items[key]

    def __setitem__(self, key: str, value: int) -> None:
        self.items[key] = value

    def __delitem__(self, key: str) -> None:
        del self.items[key]

    def __call__(self, x: int) -> int:
        return x * self.value

    def __enter__(self) -> str:
        return "entered"

    def __exit__(self, *exc: object) -> bool:
        return True

    def __repr__(self) -> str:
        return "<Box>"

    def __str__(self) -> str:
        return "box"


@pytest.fixture
def cv() -> contextvars.ContextVar[Box]:
    return contextvars.ContextVar("erlen.test_box")


def test_unbound_proxy_raises_with_message(cv: contextvars.ContextVar[Box]) -> None:
    proxy: LocalProxy[Box] = LocalProxy(cv, unbound_message="nothing here")
    with pytest.raises(RuntimeError, match="nothing here"):
        proxy.value  # noqa: B018
    assert not proxy
    assert repr(proxy) == "<LocalProxy unbound>"
    assert dir(proxy) == []
    assert proxy.__class__ is LocalProxy


def test_default_unbound_message(cv: contextvars.ContextVar[Box]) -> None:
    proxy: LocalProxy[Box] = LocalProxy(cv, "items")
    with pytest.raises(RuntimeError, match="not bound"):
        len(proxy)


def test_forwards_operations(cv: contextvars.ContextVar[Box]) -> None:
    box = Box()
    token = cv.set(box)
    try:
        proxy: t.Any = LocalProxy(cv)
        assert proxy._get_current_object() is box
        assert proxy.__wrapped__ is cv
        assert isinstance(proxy, Box)
        assert proxy.value == 3
        proxy.value = 4
        assert box.value == 4
        proxy.extra = "x"
        del proxy.extra
        assert not hasattr(box, "extra")
        assert len(proxy) == 1
        assert list(proxy) == ["a"]
        assert "a" in proxy
        proxy["b"] = 2
        assert proxy["b"] == 2
        del proxy["b"]
        assert "b" not in box.items
        assert proxy(2) == 8
        with proxy as entered:
            assert entered == "entered"
        assert repr(proxy) == "<Box>"
        assert str(proxy) == "box"
        assert bool(proxy)
        assert "value" in dir(proxy)
        assert proxy == box
        assert not (proxy != box)
        assert hash(proxy) == hash(box)
    finally:
        cv.reset(token)


def test_attribute_proxy_and_comparisons() -> None:
    cv: contextvars.ContextVar[Box] = contextvars.ContextVar("erlen.test_cmp")
    token = cv.set(Box())
    try:
        value: t.Any = LocalProxy(cv, "value")
        assert value == 3
        assert value < 4
        assert value <= 3
        assert value > 2
        assert value >= 3
    finally:
        cv.reset(token)


def test_callable_source() -> None:
    box = Box()
    proxy: t.Any = LocalProxy(lambda: box)
    assert proxy.value == 3
    named: t.Any = LocalProxy(lambda: box, "items")
    assert named == {"a": 1}


def test_rejects_other_sources() -> None:
    with pytest.raises(TypeError, match="ContextVar or a callable"):
        LocalProxy(42)  # type: ignore[arg-type]


def test_await_forwards() -> None:
    cv: contextvars.ContextVar[t.Any] = contextvars.ContextVar("erlen.test_await")

    async def value() -> int:
        return 7

    async def main() -> int:
        cv.set(value())
        proxy: t.Any = LocalProxy(cv)
        return t.cast(int, await proxy)

    assert asyncio.run(main()) == 7


def test_isolated_between_threads(cv: contextvars.ContextVar[Box]) -> None:
    proxy: t.Any = LocalProxy(cv, "value")
    seen: list[object] = []

    def worker() -> None:
        box = Box()
        box.value = 99
        cv.set(box)
        seen.append(proxy == 99)

    token = cv.set(Box())
    try:
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert seen == [True]
        assert proxy == 3
    finally:
        cv.reset(token)


def _attribute_holder(box: Box) -> t.Any:
    class Holder:
        pass

    holder = Holder()
    holder.box = box  # type: ignore[attr-defined]
    return holder


@pytest.mark.parametrize("name", [None, "box"])
def test_variable_proxies_behave_like_the_generic_proxy(name: str | None) -> None:
    # A proxy of a context variable gets its own class (PERF); it must answer
    # every operation as the generic proxy, bound or not.
    var: contextvars.ContextVar[t.Any] = contextvars.ContextVar("erlen.test_var")
    fast: t.Any = LocalProxy(var, name, unbound_message="not bound here")
    generic: t.Any = LocalProxy(lambda: var.get() if name is None else var.get().box)
    assert type(fast) is not LocalProxy
    assert isinstance(fast, LocalProxy)
    assert type(generic) is LocalProxy
    for op in (
        lambda p: p.value,
        lambda p: setattr(p, "value", 1),
        lambda p: p["a"],
        lambda p: p.__setitem__("a", 1),
        lambda p: "a" in p,
    ):
        with pytest.raises(RuntimeError, match="not bound here"):
            op(fast)
    assert fast.__class__ is LocalProxy
    assert fast.__wrapped__ is var
    box = Box()
    token = var.set(box if name is None else _attribute_holder(box))
    try:
        assert fast.__class__ is Box
        assert fast._get_current_object() is box
        fast.value = 7
        assert box.value == 7 == fast.value == generic.value
        fast["b"] = 2
        assert box.items == {"a": 1, "b": 2}
        assert fast["b"] == 2
        assert "b" in fast
        assert "z" not in fast
        with pytest.raises(AttributeError):
            fast.missing  # noqa: B018
        assert fast(2) == 14
        assert repr(fast) == "<Box>"
    finally:
        var.reset(token)


def test_dotted_names_and_subclasses_keep_the_generic_class() -> None:
    var: contextvars.ContextVar[t.Any] = contextvars.ContextVar("erlen.test_var")

    class MyProxy(LocalProxy[t.Any]):
        pass

    assert type(LocalProxy(var, "box.value")) is LocalProxy
    assert type(MyProxy(var)) is MyProxy
    token = var.set(_attribute_holder(Box()))
    try:
        assert LocalProxy(var, "box.value") == 3
    finally:
        var.reset(token)
