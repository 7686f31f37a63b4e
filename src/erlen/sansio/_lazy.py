"""A lock-free ``cached_property`` for the per-request objects."""

from __future__ import annotations

import typing as t

_T = t.TypeVar("_T")


class lazy_property(t.Generic[_T]):
    """Compute an attribute on first access and store it in the instance dict.

    PERF: :class:`functools.cached_property` takes a lock on every first
    access on Python 3.11, which costs more than most of the values it
    caches here. This non-data descriptor does the same job without it: the
    value written into ``__dict__`` shadows the descriptor from then on, and
    assigning or deleting the attribute works as on a plain attribute. Two
    threads racing on one request compute the same value twice, harmlessly.
    """

    # PERF: slots are read faster than an instance dict on every first
    # access; the dict holds only __doc__ (the class has its own).
    __slots__ = ("func", "attrname", "__dict__")

    def __init__(self, func: t.Callable[[t.Any], _T]) -> None:
        self.func = func
        self.attrname = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.attrname = name

    @t.overload
    def __get__(self, instance: None, owner: type | None = None) -> t.Self: ...
    @t.overload
    def __get__(self, instance: object, owner: type | None = None) -> _T: ...
    def __get__(self, instance: object, owner: type | None = None) -> t.Any:
        if instance is None:
            return self
        value = instance.__dict__[self.attrname] = self.func(instance)
        return value
