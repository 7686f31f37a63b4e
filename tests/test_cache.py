from __future__ import annotations

from erlen._cache import BoundedCache


def test_bounded_cache_clears_when_full() -> None:
    cache: BoundedCache[str, int] = BoundedCache(2)
    assert cache.put("a", 1) == 1
    assert cache.put("b", 2) == 2
    assert cache == {"a": 1, "b": 2}
    assert cache.put("c", 3) == 3  # full: emptied first
    assert cache == {"c": 3}
    assert cache.get("a") is None
    assert cache.maxsize == 2
