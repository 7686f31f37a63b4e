"""``Cache-Control`` directives as a dict with typed properties."""

from __future__ import annotations

import typing as t

from .._parsing import dump_header
from ._multidict import CallbackDict

if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable
    from collections.abc import Iterable
    from collections.abc import Mapping


def cache_control_property(
    key: str, empty: t.Any, type: type[t.Any] | None, *, doc: str | None = None
) -> t.Any:
    """Return a property reading and writing one ``Cache-Control`` directive.

    Subclasses use it to support an extension directive.

    :param key: The directive name, like ``"max-age"``.
    :param empty: The value when the directive is present without a value.
    :param type: ``bool`` for a flag (present or not), a converter such as
        ``int`` (a value it cannot convert reads as ``None``), or ``None`` for
        the raw string.
    :param doc: The property's docstring; generated if not given.
    """
    if doc is None:
        if type is bool:
            doc = f"The ``{key}`` directive: ``True`` if present."
        else:
            kind = "str" if type is None else type.__name__
            doc = f"The ``{key}`` directive as ``{kind}``, or ``None`` if absent."

    def fget(self: _CacheControl) -> t.Any:
        return self._get_cache_value(key, empty, type)

    def fset(self: _CacheControl, value: t.Any) -> None:
        self._set_cache_value(key, value, type)

    def fdel(self: _CacheControl) -> None:
        self._del_cache_value(key)

    return property(fget, fset, fdel, doc=doc)


class _CacheControl(CallbackDict[str, str | None]):
    """Directives of a ``Cache-Control`` header; values are ``str`` or ``None``.

    Directive names use dashes in the dict and underscores in the properties.
    ``on_update`` is called after each change, so a response can keep its
    header in sync.
    """

    no_store: bool = cache_control_property("no-store", None, bool)
    max_age: int | None = cache_control_property("max-age", None, int)
    no_transform: bool = cache_control_property("no-transform", None, bool)
    stale_if_error: int | None = cache_control_property("stale-if-error", None, int)

    #: Whether the header was sent (``False`` when built from ``None``).
    provided: bool

    def __init__(
        self,
        values: Mapping[str, t.Any] | Iterable[tuple[str, t.Any]] | None = (),
        on_update: Callable[[_CacheControl], None] | None = None,
    ) -> None:
        super().__init__(values, on_update)
        self.provided = values is not None

    def _get_cache_value(
        self, key: str, empty: t.Any, kind: Callable[[str], t.Any] | None
    ) -> t.Any:
        if kind is bool:
            return key in self

        if key not in self:
            return None

        value = dict.__getitem__(self, key)

        if value is None:
            return empty

        if kind is None:
            return value

        try:
            return kind(value)
        except ValueError:
            return None

    def _set_cache_value(
        self, key: str, value: t.Any, kind: Callable[[t.Any], t.Any] | None
    ) -> None:
        if kind is bool:
            if value:
                self[key] = None
            else:
                self.pop(key, None)
        elif value is None or value is False:
            self.pop(key, None)
        elif value is True:
            self[key] = None
        else:
            self[key] = str(value if kind is None else kind(value))

    def _del_cache_value(self, key: str) -> None:
        if key in self:
            del self[key]

    def to_header(self) -> str:
        """Return the ``Cache-Control`` header value."""
        return dump_header(self)

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        pairs = " ".join(f"{key}={value!r}" for key, value in sorted(self.items()))
        return f"<{type(self).__name__} {pairs}>"

    cache_property = staticmethod(cache_control_property)


def _immutable(obj: object) -> t.NoReturn:
    raise TypeError(
        f"{type(obj).__name__!r} objects are immutable: a request's Cache-Control"
        " cannot be changed. Build a ResponseCacheControl to set directives."
    )


class RequestCacheControl(_CacheControl):
    """The immutable ``Cache-Control`` directives of a request."""

    no_cache: bool = cache_control_property("no-cache", None, bool)
    max_stale: int | t.Literal[True] | None = cache_control_property(
        "max-stale", True, int
    )
    min_fresh: int | None = cache_control_property("min-fresh", None, int)
    only_if_cached: bool = cache_control_property("only-if-cached", None, bool)

    def __setitem__(self, key: str, value: str | None) -> t.NoReturn:
        _immutable(self)

    def __delitem__(self, key: str) -> t.NoReturn:
        _immutable(self)

    def setdefault(self, key: str, default: str | None = None) -> t.NoReturn:
        _immutable(self)

    def pop(self, key: str, default: t.Any = None, /) -> t.NoReturn:
        _immutable(self)

    def popitem(self) -> t.NoReturn:
        _immutable(self)

    def update(self, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        _immutable(self)

    def __ior__(self, other: t.Any) -> t.NoReturn:  # type: ignore[misc]
        _immutable(self)

    def clear(self) -> t.NoReturn:
        _immutable(self)

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))


class ResponseCacheControl(_CacheControl):
    """The mutable ``Cache-Control`` directives of a response."""

    no_cache: str | t.Literal[True] | None = cache_control_property(
        "no-cache", True, None
    )
    public: bool = cache_control_property("public", None, bool)
    private: str | t.Literal[True] | None = cache_control_property(
        "private", True, None
    )
    must_revalidate: bool = cache_control_property("must-revalidate", None, bool)
    proxy_revalidate: bool = cache_control_property("proxy-revalidate", None, bool)
    s_maxage: int | None = cache_control_property("s-maxage", None, int)
    immutable: bool = cache_control_property("immutable", None, bool)
    must_understand: bool = cache_control_property("must-understand", None, bool)
    stale_while_revalidate: int | None = cache_control_property(
        "stale-while-revalidate", None, int
    )
