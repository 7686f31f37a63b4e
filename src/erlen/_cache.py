"""A dict that empties itself when full: the bound on erlen's lookup caches."""

from __future__ import annotations

import typing as t

K = t.TypeVar("K")
V = t.TypeVar("V")


class BoundedCache(dict[K, V]):
    """A memo of values computed from keys, cleared when it holds ``maxsize``.

    PERF: hot paths remember what they computed from repeated input (hosts,
    header names, cookie names, error pages...); a hit is a plain dict
    lookup. APPSEC: clearing when full bounds the memory, whatever keys
    clients send.
    """

    __slots__ = ("maxsize",)

    def __init__(self, maxsize: int) -> None:
        super().__init__()
        self.maxsize = maxsize

    def put(self, key: K, value: V) -> V:
        """Remember ``value`` for ``key`` (first clearing a full cache); return it."""
        if len(self) >= self.maxsize:
            self.clear()
        self[key] = value
        return value
