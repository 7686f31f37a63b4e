from __future__ import annotations

from erlen._cache import cache_put


def test_cache_put_clears_when_full() -> None:
    cache: dict[str, int] = {}
    assert cache_put(cache, 2, "a", 1) == 1
    assert cache_put(cache, 2, "b", 2) == 2
    assert cache == {"a": 1, "b": 2}
    assert cache_put(cache, 2, "c", 3) == 3  # full: emptied first
    assert cache == {"c": 3}
    assert cache.get("a") is None
    assert cache_put(cache, 2, "c", 4) == 4  # a key again: replaced
    assert cache == {"c": 4}
