"""Parsed ``Accept*`` headers: quality-sorted, immutable lists of ``(value, q)``."""

from __future__ import annotations

import codecs
import functools
import re
import typing as t

from ._multidict import ImmutableList

if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable
    from collections.abc import Iterator

_mime_split_re = re.compile(r"/|(?:[ \t]*;[ \t]*)")
_lang_split_re = re.compile(r"[_-]")


class Accept(ImmutableList[tuple[str, float]]):
    """An immutable list of ``(value, quality)`` pairs from an ``Accept*`` header.

    Items are sorted by specificity, then quality, both descending; equal items
    keep the client's order. Lookups follow the header's matching rules, so
    ``"*"`` matches anything and comparison ignores case::

        accept = Accept([("gzip", 1), ("*", 0.5)])
        accept["br"]  # 0.5, from "*"
        accept.best_match(["br", "gzip"])  # "gzip"

    :param values: The pairs, another :class:`Accept`, or ``None`` if the header
        was not sent (then :attr:`provided` is false).
    """

    #: Whether the client sent the header at all.
    provided: bool

    def __init__(
        self, values: Accept | Iterable[tuple[str, float]] | None = ()
    ) -> None:
        if values is None:
            super().__init__()
            self.provided = False
        elif isinstance(values, Accept):
            super().__init__(values)
            self.provided = values.provided
        else:
            specificity = self._specificity
            super().__init__(
                sorted(
                    values,
                    key=lambda item: (specificity(item[0]), item[1]),
                    reverse=True,
                )
            )
            self.provided = True

    def _specificity(self, value: str) -> tuple[bool, ...]:
        """Return a sort key that is larger for more specific values."""
        return (value != "*",)

    def _value_matches(self, value: str, item: str) -> bool:
        """Return whether the server ``value`` matches the client ``item``."""
        return item == "*" or item.lower() == value.lower()

    @t.overload
    def __getitem__(self, key: str) -> float: ...
    @t.overload
    def __getitem__(self, key: t.SupportsIndex) -> tuple[str, float]: ...
    @t.overload
    def __getitem__(self, key: slice) -> list[tuple[str, float]]: ...
    def __getitem__(
        self, key: str | t.SupportsIndex | slice
    ) -> float | tuple[str, float] | list[tuple[str, float]]:
        """Return the quality of a value (a ``str`` key), or the item(s) at an index."""
        if isinstance(key, str):
            return self.quality(key)

        return list.__getitem__(self, key)

    def quality(self, key: str) -> float:
        """Return the quality the client gives ``key``, or ``0`` if not accepted."""
        for item, quality in self:
            if self._value_matches(key, item):
                return quality

        return 0

    def __contains__(self, value: object) -> bool:
        """Return whether the client accepts ``value`` (at any quality)."""
        if not isinstance(value, str):
            return list.__contains__(self, value)

        return self._accepts(value)

    def _accepts(self, value: str) -> bool:
        return any(self._value_matches(value, item) for item, _ in self)

    def __repr__(self) -> str:
        pairs = ", ".join(f"({value!r}, {quality})" for value, quality in self)
        return f"{type(self).__name__}([{pairs}])"

    def index(self, key: str | tuple[str, float], *args: t.Any) -> int:
        """Return the position of the first item matching ``key``.

        :param key: A value (matched with the header's rules) or a pair.
        :raise ValueError: If nothing matches.
        """
        if isinstance(key, str):
            for position, (item, _) in enumerate(self):
                if self._value_matches(key, item):
                    return position

            raise ValueError(f"{key!r} is not accepted by {self!r}.")

        return list.index(self, key, *args)

    def find(self, key: str | tuple[str, float]) -> int:
        """Return the position of the first item matching ``key``, or ``-1``."""
        try:
            return self.index(key)
        except ValueError:
            return -1

    def values(self) -> Iterator[str]:
        """Iterate over the values without their qualities."""
        for value, _ in self:
            yield value

    def to_header(self) -> str:
        """Return the header value, with ``;q=`` only where the quality is not 1."""
        return ",".join(
            value if quality == 1 else f"{value};q={quality}" for value, quality in self
        )

    def __str__(self) -> str:
        return self.to_header()

    def _best_single_match(self, match: str) -> tuple[str, float] | None:
        # The list is sorted by specificity first, so the first hit is the
        # most specific client item for this server value.
        for item, quality in self:
            if self._value_matches(match, item):
                return item, quality

        return None

    @t.overload
    def best_match(self, matches: Iterable[str]) -> str | None: ...
    @t.overload
    def best_match(self, matches: Iterable[str], default: str = ...) -> str: ...
    def best_match(
        self, matches: Iterable[str], default: str | None = None
    ) -> str | None:
        """Return the server value the client prefers most.

        The client's quality wins first, then the specificity of the client item
        that matched; ties go to the earlier server value. Items with quality
        ``0`` are refused.

        :param matches: The values the server can produce, best first.
        :param default: Returned if the client accepts none of them.
        """
        result = default
        best_quality: float = -1
        best_specificity: tuple[bool, ...] = ()

        for server_value in matches:
            found = self._best_single_match(server_value)

            if found is None:
                continue

            item, quality = found

            if quality <= 0 or quality < best_quality:
                continue

            specificity = self._specificity(item)

            if quality > best_quality or specificity > best_specificity:
                result = server_value
                best_quality = quality
                best_specificity = specificity

        return result

    @property
    def best(self) -> str | None:
        """The client's most preferred value, or ``None`` if the list is empty."""
        if self:
            return list.__getitem__(self, 0)[0]

        return None


def _split_mime_uncached(value: str) -> tuple[str, str, tuple[str, ...]]:
    kind, subtype, *params = _mime_split_re.split(value.lower())
    return kind, subtype, tuple(sorted(params))


# PERF: best_match compares every server value with every client item; caching
# the split saves most of that work. APPSEC: only short (realistic) values are
# cached, so client text cannot grow the cache beyond a few hundred KiB.
_split_mime_cached = functools.lru_cache(maxsize=1024)(_split_mime_uncached)


def _split_mime(value: str) -> tuple[str, str, tuple[str, ...]]:
    """Return ``(type, subtype, sorted params)`` of a mimetype containing ``/``."""
    if len(value) > 128:
        return _split_mime_uncached(value)

    return _split_mime_cached(value)


def _invalid_mimetype(value: str) -> t.NoReturn:
    raise ValueError(
        f"Invalid mimetype {value!r}: expected 'type/subtype' such as"
        " 'text/html', or '*/*'. Fix the value passed to the Accept lookup."
    )


class MIMEAccept(Accept):
    """An :class:`Accept` for mimetypes, with ``type/*`` and ``*/*`` wildcards.

    Parameters must match exactly (in any order) unless a wildcard applies.
    """

    def _specificity(self, value: str) -> tuple[bool, ...]:
        return tuple(part != "*" for part in _mime_split_re.split(value))

    def _value_matches(self, value: str, item: str) -> bool:
        # The client item may be garbage: it simply never matches.
        if "/" not in item:
            return False

        # The server value comes from the application: tell the developer.
        if "/" not in value:
            _invalid_mimetype(value)

        value_type, value_subtype, value_params = _split_mime(value)

        if value_type == "*" and value_subtype != "*":
            _invalid_mimetype(value)

        item_type, item_subtype, item_params = _split_mime(item)

        if item_type == "*":
            # ``*/html`` is not a valid media range.
            return item_subtype == "*"

        if value_type == "*":
            return True

        if item_type != value_type:
            return False

        return (
            item_subtype == "*"
            or value_subtype == "*"
            or (item_subtype == value_subtype and item_params == value_params)
        )

    @property
    def accept_html(self) -> bool:
        """Whether the client accepts HTML (or XHTML)."""
        return self._accepts("text/html") or self.accept_xhtml

    @property
    def accept_xhtml(self) -> bool:
        """Whether the client accepts XHTML or XML."""
        return self._accepts("application/xhtml+xml") or self._accepts(
            "application/xml"
        )

    @property
    def accept_json(self) -> bool:
        """Whether the client accepts JSON."""
        return self._accepts("application/json")


def _split_lang(value: str) -> list[str]:
    return _lang_split_re.split(value.lower())


class LanguageAccept(Accept):
    """An :class:`Accept` for language tags; ``en_US`` and ``en-us`` are equal."""

    def _value_matches(self, value: str, item: str) -> bool:
        return item == "*" or _split_lang(value) == _split_lang(item)

    @t.overload
    def best_match(self, matches: Iterable[str]) -> str | None: ...
    @t.overload
    def best_match(self, matches: Iterable[str], default: str = ...) -> str: ...
    def best_match(
        self, matches: Iterable[str], default: str | None = None
    ) -> str | None:
        """Return the supported language the client prefers most.

        An exact tag match wins. Failing that, the client's tags are cut to the
        primary language (a client asking for ``en-US`` gets ``en``), then the
        server's (a client asking for ``en`` gets ``en-US``). Returned values are
        the server's, unchanged.

        :param matches: The supported language tags, best first.
        :param default: Returned if nothing matches.
        """
        candidates = list(matches)
        result = super().best_match(candidates)

        if result is not None:
            return result

        primary_client = Accept(
            [(_lang_split_re.split(item, maxsplit=1)[0], q) for item, q in self]
        )
        result = primary_client.best_match(candidates)

        if result is not None:
            return result

        primaries = [_lang_split_re.split(item, maxsplit=1)[0] for item in candidates]
        result = super().best_match(primaries)

        if result is not None:
            return candidates[primaries.index(result)]

        return default


# APPSEC: the cache key is client text, so only short names are cached (no
# charset name is longer than a few dozen characters): the cache stays small.
@functools.lru_cache(maxsize=256)
def _lookup_charset(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return name.lower()


def _normalize_charset(name: str) -> str:
    if len(name) > 64:
        return name.lower()

    return _lookup_charset(name)


class CharsetAccept(Accept):
    """An :class:`Accept` for charsets; aliases such as ``utf8`` and ``UTF-8`` match."""

    def _value_matches(self, value: str, item: str) -> bool:
        return item == "*" or _normalize_charset(value) == _normalize_charset(item)
