"""Bounded memo caches: plain dicts that are emptied when full."""

from __future__ import annotations

import typing as t

K = t.TypeVar("K")
V = t.TypeVar("V")


def cache_put(cache: dict[K, V], maxsize: int, key: K, value: V) -> V:
    """Remember ``value`` for ``key`` in ``cache``; return ``value``.

    PERF: hot paths remember what they computed from repeated input (hosts,
    header names, cookie names, error pages...); a hit is a plain dict
    lookup. The caches are plain dicts, not a dict subclass, because
    CPython specializes ``get``, ``in`` and ``[]`` for the exact dict type
    only (a subclass pays ~170 instructions more per lookup on 3.11).
    APPSEC: a full cache is emptied first, which bounds the memory whatever
    keys clients send. Only misses come here, so the bound costs hits
    nothing.
    """
    if len(cache) >= maxsize:
        cache.clear()
    cache[key] = value
    return value
