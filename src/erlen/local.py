"""Proxies that forward to the object bound in a context variable."""

from __future__ import annotations

import operator
import typing as t
from contextvars import ContextVar

T = t.TypeVar("T")

_MISSING_NAME = "<object>"

# PERF: the proxy's methods read their own slot with object's lookup, not
# through the proxy's Python-level __getattribute__ (a call per use).
_own = object.__getattribute__


class LocalProxy(t.Generic[T]):
    """Forward every operation to the object a :class:`~contextvars.ContextVar` holds.

    ``LocalProxy(cv)`` stands for ``cv.get()``; ``LocalProxy(cv, "request")``
    stands for ``cv.get().request``. When the variable is unset, any use of the
    proxy raises :exc:`RuntimeError` with ``unbound_message``. A callable may be
    given instead of a variable; it is called to find the object.

    :param local: the context variable, or a callable returning the object.
    :param name: an attribute to read from the bound object, if any.
    :param unbound_message: the error message when nothing is bound.

    .. note:: Flask compatibility: Werkzeug's proxy also accepts its ``Local``
       and ``LocalStack`` classes; erlen keeps state in context variables only.
    """

    __slots__ = ("__wrapped", "_get_current_object")

    _get_current_object: t.Callable[[], T]

    def __new__(
        cls,
        local: ContextVar[t.Any] | t.Callable[[], t.Any],
        name: str | None = None,
        *,
        unbound_message: str | None = None,
    ) -> LocalProxy[T]:
        if cls is LocalProxy and type(local) is ContextVar and "." not in (name or ""):
            # PERF: a proxy of a context variable gets a class of its own
            # whose hot methods read the variable directly (see
            # _variable_proxy_class): half the cost of ``request.x``.
            cls = _variable_proxy_class(
                local, name, unbound_message or "object is not bound"
            )
        return object.__new__(cls)

    def __init__(
        self,
        local: ContextVar[t.Any] | t.Callable[[], t.Any],
        name: str | None = None,
        *,
        unbound_message: str | None = None,
    ) -> None:
        message = unbound_message or "object is not bound"
        if isinstance(local, ContextVar):
            cv_get = local.get
            if name is None:

                def _get_current_object() -> T:
                    try:
                        return cv_get()  # type: ignore[no-any-return]
                    except LookupError:
                        raise RuntimeError(message) from None

            else:
                read = operator.attrgetter(name)

                def _get_current_object() -> T:
                    try:
                        obj = cv_get()
                    except LookupError:
                        raise RuntimeError(message) from None
                    return read(obj)  # type: ignore[no-any-return]

        elif callable(local):
            factory = local
            if name is None:

                def _get_current_object() -> T:
                    return factory()  # type: ignore[no-any-return]

            else:
                read = operator.attrgetter(name)

                def _get_current_object() -> T:
                    return read(factory())  # type: ignore[no-any-return]

        else:
            raise TypeError(
                "LocalProxy needs a ContextVar or a callable to find its object,"
                f" but got {type(local).__name__} ({local!r})."
            )
        object.__setattr__(self, "_LocalProxy__wrapped", local)
        object.__setattr__(self, "_get_current_object", _get_current_object)

    # PERF: attribute reads are the hot case (``request.args``); they go
    # straight to the bound object with no further indirection.
    def __getattribute__(self, name: str) -> t.Any:
        # PERF: what a __getattr__ would do, without first failing the normal
        # lookup (an AttributeError raised and caught on every `request.x`).
        # The proxy's own names, found on its class, stay the proxy's.
        if name in _PROXY_OWN_NAMES:
            return object.__getattribute__(self, name)
        if name == "__wrapped__":
            return object.__getattribute__(self, "_LocalProxy__wrapped")
        return getattr(object.__getattribute__(self, "_get_current_object")(), name)

    def __setattr__(self, name: str, value: t.Any) -> None:
        setattr(_own(self, "_get_current_object")(), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(_own(self, "_get_current_object")(), name)

    def __repr__(self) -> str:
        try:
            obj = _own(self, "_get_current_object")()
        except RuntimeError:
            return f"<{type(self).__name__} unbound>"
        return repr(obj)

    def __str__(self) -> str:
        return str(_own(self, "_get_current_object")())

    def __bool__(self) -> bool:
        try:
            return bool(_own(self, "_get_current_object")())
        except RuntimeError:
            return False

    def __dir__(self) -> list[str]:
        try:
            return dir(_own(self, "_get_current_object")())
        except RuntimeError:
            return []

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        # Lets ``isinstance(request, Request)`` see the bound object's class.
        try:
            return type(_own(self, "_get_current_object")())
        except RuntimeError:
            return type(self)

    def __eq__(self, other: object) -> bool:
        return bool(_own(self, "_get_current_object")() == other)

    def __ne__(self, other: object) -> bool:
        return bool(_own(self, "_get_current_object")() != other)

    def __hash__(self) -> int:
        return hash(_own(self, "_get_current_object")())

    def __lt__(self, other: t.Any) -> t.Any:
        obj: t.Any = _own(self, "_get_current_object")()
        return obj < other

    def __le__(self, other: t.Any) -> t.Any:
        obj: t.Any = _own(self, "_get_current_object")()
        return obj <= other

    def __gt__(self, other: t.Any) -> t.Any:
        obj: t.Any = _own(self, "_get_current_object")()
        return obj > other

    def __ge__(self, other: t.Any) -> t.Any:
        obj: t.Any = _own(self, "_get_current_object")()
        return obj >= other

    def __len__(self) -> int:
        obj: t.Any = _own(self, "_get_current_object")()
        return len(obj)

    def __iter__(self) -> t.Iterator[t.Any]:
        obj: t.Any = _own(self, "_get_current_object")()
        return iter(obj)

    def __contains__(self, item: object) -> bool:
        obj: t.Any = _own(self, "_get_current_object")()
        return item in obj

    def __getitem__(self, key: t.Any) -> t.Any:
        obj: t.Any = _own(self, "_get_current_object")()
        return obj[key]

    def __setitem__(self, key: t.Any, value: t.Any) -> None:
        obj: t.Any = _own(self, "_get_current_object")()
        obj[key] = value

    def __delitem__(self, key: t.Any) -> None:
        obj: t.Any = _own(self, "_get_current_object")()
        del obj[key]

    def __call__(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        obj: t.Any = _own(self, "_get_current_object")()
        return obj(*args, **kwargs)

    def __enter__(self) -> t.Any:
        obj: t.Any = _own(self, "_get_current_object")()
        return obj.__enter__()

    def __exit__(self, *exc_info: t.Any) -> t.Any:
        obj: t.Any = _own(self, "_get_current_object")()
        return obj.__exit__(*exc_info)

    def __await__(self) -> t.Generator[t.Any, None, t.Any]:
        obj: t.Any = _own(self, "_get_current_object")()
        return obj.__await__()  # type: ignore[no-any-return]


#: The names a proxy answers itself: everything its class (and object) has.
_PROXY_OWN_NAMES = frozenset(name for cls in LocalProxy.__mro__ for name in vars(cls))


def _variable_proxy_class(
    var: ContextVar[t.Any], name: str | None, message: str
) -> type[LocalProxy[t.Any]]:
    """Return a LocalProxy subclass for one proxy of ``var`` (its ``name`` attribute).

    PERF: its attribute and item methods find the object with the variable's
    ``get`` and the attribute name held in closure cells, instead of a call
    to ``_get_current_object`` found through ``object.__getattribute__``.
    ``__getattribute__`` (the hottest) repeats the unbound check inline for
    that reason; the behaviour is LocalProxy's.
    """
    get = var.get

    def current() -> t.Any:
        try:
            obj = get()
        except LookupError:
            raise RuntimeError(message) from None
        return obj if name is None else getattr(obj, name)

    class _VariableProxy(LocalProxy[t.Any]):
        __slots__ = ()

        def __getattribute__(self, attr: str) -> t.Any:
            if attr in _PROXY_OWN_NAMES:
                return _own(self, attr)
            if attr == "__wrapped__":
                return var
            try:
                obj = get()
            except LookupError:
                raise RuntimeError(message) from None
            if name is not None:
                obj = getattr(obj, name)
            return getattr(obj, attr)

        def __setattr__(self, attr: str, value: t.Any) -> None:
            setattr(current(), attr, value)

        @property  # type: ignore[misc]
        def __class__(self) -> type:
            try:
                return type(current())
            except RuntimeError:
                return LocalProxy  # the public class, as an unbound proxy's

        def __getitem__(self, key: t.Any) -> t.Any:
            return current()[key]

        def __setitem__(self, key: t.Any, value: t.Any) -> None:
            current()[key] = value

        def __contains__(self, item: object) -> bool:
            return item in current()

    _VariableProxy.__name__ = _VariableProxy.__qualname__ = "LocalProxy"
    return _VariableProxy
