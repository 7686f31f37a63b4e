"""Parse and dump HTTP header values into erlen's datastructures."""

from __future__ import annotations

import re
import typing as t
from collections.abc import Mapping
from datetime import timedelta

from ._cookies import dump_cookie as dump_cookie
from ._cookies import parse_cookie_pairs
from ._parsing import as_utc
from ._parsing import dump_header as dump_header
from ._parsing import dump_options_header as dump_options_header
from ._parsing import generate_etag as generate_etag
from ._parsing import has_ctl as has_ctl
from ._parsing import http_date as http_date
from ._parsing import HTTP_STATUS_CODES as HTTP_STATUS_CODES
from ._parsing import is_byte_range_valid as is_byte_range_valid
from ._parsing import is_token as is_token
from ._parsing import parse_date as parse_date
from ._parsing import parse_dict_header as parse_dict_header
from ._parsing import parse_list_header as parse_list_header
from ._parsing import parse_options_header as parse_options_header
from ._parsing import parse_plain_int
from ._parsing import quote_etag as quote_etag
from ._parsing import quote_header_value as quote_header_value
from ._parsing import unquote_etag as unquote_etag
from ._parsing import unquote_header_value as unquote_header_value
from .datastructures import Accept
from .datastructures import ContentRange
from .datastructures import ContentSecurityPolicy
from .datastructures import ETags
from .datastructures import HeaderSet
from .datastructures import IfRange
from .datastructures import MultiDict
from .datastructures import Range
from .datastructures import RequestCacheControl

if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable
    from collections.abc import Iterable
    from collections.abc import MutableSequence
    from datetime import datetime

    from .datastructures._cache_control import _CacheControl


_ENTITY_HEADERS = frozenset(
    {
        "allow",
        "content-encoding",
        "content-language",
        "content-length",
        "content-location",
        "content-md5",
        "content-range",
        "content-type",
        "expires",
        "last-modified",
    }
)
_HOP_BY_HOP_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)

# RFC 9110 12.4.2: qvalue, loosened to what clients send (any digits, a sign).
_q_value_re = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
# PERF: the usual Accept item, ``type/subtype`` or ``type/subtype;q=0.9``,
# skips the general parameter parser.
_simple_accept_item_re = re.compile(
    r"([^;\s\"]+)(?:[ \t]*;[ \t]*[qQ]=(-?[0-9]+(?:\.[0-9]+)?))?"
)
_etag_re = re.compile(
    r"""
    [ \t]*
    ([Ww]/)?                 # weak marker
    (?:"([^"]*)"|([^" \t,]+))  # quoted tag, or a bare one (invalid, tolerated)
    [ \t]*
    (?:,|\Z)
    """,
    re.X,
)

_TAccept = t.TypeVar("_TAccept", bound=Accept)
_TCacheControl = t.TypeVar("_TCacheControl", bound="_CacheControl")
_TCSP = t.TypeVar("_TCSP", bound=ContentSecurityPolicy)


@t.overload
def parse_accept_header(value: str | None) -> Accept: ...
@t.overload
def parse_accept_header(value: str | None, cls: type[_TAccept]) -> _TAccept: ...
def parse_accept_header(value: str | None, cls: type[Accept] | None = None) -> Accept:
    """Return an ``Accept*`` header as an :class:`~erlen.datastructures.Accept`.

    Items with a ``q`` that is not a number between 0 and 1 are skipped. Other
    parameters stay on the value (``text/html;level=1``).

    :param value: The header value; empty or ``None`` gives an empty object
        whose ``provided`` is false.
    :param cls: The class to build, such as
        :class:`~erlen.datastructures.MIMEAccept` for ``Accept``.
    """
    if cls is None:
        cls = Accept

    if not value:
        return cls(None)

    items: list[tuple[str, float]] = []

    for item in parse_list_header(value):
        simple = _simple_accept_item_re.fullmatch(item)

        if simple is not None:
            media, raw_q = simple.groups()

            if raw_q is None:
                items.append((media, 1))
            elif 0 <= (quality := float(raw_q)) <= 1:
                items.append((media, quality))

            continue

        media, options = parse_options_header(item)
        quality = 1

        if "q" in options:
            raw_q = options.pop("q").strip(" \t")

            if _q_value_re.fullmatch(raw_q) is None:
                continue

            quality = float(raw_q)

            if not 0 <= quality <= 1:
                continue

        if options:
            media = dump_options_header(media, options)

        items.append((media, quality))

    return cls(items)


@t.overload
def parse_cache_control_header(
    value: str | None,
    on_update: Callable[[_CacheControl], None] | None = None,
) -> RequestCacheControl: ...
@t.overload
def parse_cache_control_header(
    value: str | None,
    on_update: Callable[[_CacheControl], None] | None = None,
    cls: type[_TCacheControl] = ...,
) -> _TCacheControl: ...
def parse_cache_control_header(
    value: str | None,
    on_update: Callable[[_CacheControl], None] | None = None,
    cls: type[_CacheControl] | None = None,
) -> _CacheControl:
    """Return a ``Cache-Control`` header as a cache-control dict.

    Request and response directives are not told apart: pick the ``cls``.

    :param value: The header value.
    :param on_update: Called with the object after each change.
    :param cls: The class to build; the immutable
        :class:`~erlen.datastructures.RequestCacheControl` by default.
    """
    if cls is None:
        cls = RequestCacheControl

    if not value:
        return cls((), on_update)

    return cls(parse_dict_header(value), on_update)


@t.overload
def parse_csp_header(
    value: str | None,
    on_update: Callable[[ContentSecurityPolicy], None] | None = None,
) -> ContentSecurityPolicy: ...
@t.overload
def parse_csp_header(
    value: str | None,
    on_update: Callable[[ContentSecurityPolicy], None] | None = None,
    cls: type[_TCSP] = ...,
) -> _TCSP: ...
def parse_csp_header(
    value: str | None,
    on_update: Callable[[ContentSecurityPolicy], None] | None = None,
    cls: type[ContentSecurityPolicy] | None = None,
) -> ContentSecurityPolicy:
    """Return a ``Content-Security-Policy`` header as a directive dict.

    A policy without a space (a directive without a value) is skipped.

    :param value: The header value.
    :param on_update: Called with the object after each change.
    :param cls: The class to build.
    """
    if cls is None:
        cls = ContentSecurityPolicy

    if value is None:
        return cls((), on_update)

    items = []

    for policy in value.split(";"):
        directive, space, source = policy.strip(" \t").partition(" ")

        if space:
            items.append((directive.strip(" \t"), source.strip(" \t")))

    return cls(items, on_update)


def dump_csp_header(header: Mapping[str, str]) -> str:
    """Return a ``Content-Security-Policy`` value from a directive mapping."""
    return "; ".join([f"{key} {value}" for key, value in header.items()])


def parse_set_header(
    value: str | None, on_update: Callable[[HeaderSet], None] | None = None
) -> HeaderSet:
    """Return a comma separated header as a case-insensitive, ordered ``HeaderSet``.

    :param value: The header value, like a ``Vary``.
    :param on_update: Called with the set after each change.
    """
    if not value:
        return HeaderSet(None, on_update)

    return HeaderSet(parse_list_header(value), on_update)


def parse_etags(value: str | None) -> ETags:
    """Return an ``If-Match`` or ``If-None-Match`` header as :class:`ETags`.

    Unquoted tags are tolerated; garbage up to the next comma is skipped.
    """
    if not value:
        return ETags()

    if value == "*":
        return ETags(star_tag=True)

    strong: list[str] = []
    weak: list[str] = []
    pos = 0
    match = _etag_re.match

    while True:
        found = match(value, pos)

        if found is None:
            # Skip to after the next comma, or stop.
            pos = value.find(",", pos) + 1

            if pos == 0:
                break

            continue

        is_weak, quoted, bare = found.groups()
        tag = bare if quoted is None else quoted
        (weak if is_weak else strong).append(tag)
        pos = found.end()

        if pos >= len(value):
            break

    return ETags(strong, weak)


def parse_if_range_header(value: str | None) -> IfRange:
    """Return an ``If-Range`` header (a date or an entity tag) as :class:`IfRange`.

    The weakness of a tag is dropped: ranges always compare strongly.
    """
    if not value:
        return IfRange()

    date = parse_date(value)

    if date is not None:
        return IfRange(date=date)

    return IfRange(unquote_etag(value)[0])


def parse_range_header(value: str | None, make_inclusive: bool = True) -> Range | None:
    """Return a ``Range`` header as a :class:`Range`, or ``None`` if it is invalid.

    Ranges must be ascending and not overlap; a suffix range (``-500``) may only
    come last. Stored stops are exclusive.

    :param value: The header value, like ``bytes=0-499,-500``.
    :param make_inclusive: Accepted for compatibility; stops are always stored
        exclusive, as Werkzeug does.
    """
    if not value or "=" not in value:
        return None

    units, _, specs = value.partition("=")
    units = units.strip(" \t").lower()
    ranges: list[tuple[int, int | None]] = []
    # The smallest start the next range may have; -1 after an open range.
    last_end = 0

    # PERF: one pass, constant work per range; each number is bounded by
    # Python's int digit limit, so hostile headers cost linear time.
    for raw in specs.split(","):
        spec = raw.strip(" \t")
        start_text, dash, stop_text = spec.partition("-")

        if not dash or last_end < 0:
            return None

        try:
            if not start_text:
                # A suffix range: the last N bytes.
                suffix = parse_plain_int(spec)

                if suffix == 0:
                    return None

                ranges.append((suffix, None))
                last_end = -1
                continue

            start = parse_plain_int(start_text)

            if start < last_end:
                return None

            if not stop_text.strip(" \t"):
                ranges.append((start, None))
                last_end = -1
                continue

            stop = parse_plain_int(stop_text) + 1
        except ValueError:
            return None

        if start >= stop:
            return None

        ranges.append((start, stop))
        last_end = stop

    return Range(units, ranges)


def parse_content_range_header(
    value: str | None, on_update: Callable[[ContentRange], None] | None = None
) -> ContentRange | None:
    """Return a ``Content-Range`` header as a :class:`ContentRange`, or ``None``.

    :param value: The header value, like ``bytes 0-99/1000`` or ``bytes */1000``.
    :param on_update: Called with the object after each change.
    """
    if value is None:
        return None

    units, _, spec = value.strip(" \t").partition(" ")
    span, slash, length_text = spec.partition("/")

    if not slash:
        return None

    length: int | None = None

    try:
        if length_text != "*":
            length = parse_plain_int(length_text)

        if span == "*":
            if length is not None and length < 0:
                return None

            return ContentRange(units, None, None, length, on_update=on_update)

        start_text, dash, stop_text = span.partition("-")

        if not dash:
            return None

        start = parse_plain_int(start_text)
        stop = parse_plain_int(stop_text) + 1
    except ValueError:
        return None

    if not is_byte_range_valid(start, stop, length):
        return None

    return ContentRange(units, start, stop, length, on_update=on_update)


def is_resource_modified(
    *,
    http_range: str | None = None,
    http_if_range: str | None = None,
    http_if_modified_since: str | None = None,
    http_if_none_match: str | None = None,
    http_if_match: str | None = None,
    etag: str | None = None,
    data: bytes | None = None,
    last_modified: datetime | str | None = None,
    ignore_if_range: bool = True,
) -> bool:
    """Return whether a resource changed for a conditional request.

    The request's header values come in as keywords (a sans-IO form of
    Werkzeug's ``is_resource_modified(environ, ...)``).

    :param http_range: The ``Range`` header.
    :param http_if_range: The ``If-Range`` header, used only with ``Range``
        when ``ignore_if_range`` is false.
    :param http_if_modified_since: The ``If-Modified-Since`` header.
    :param http_if_none_match: The ``If-None-Match`` header (weak comparison).
    :param http_if_match: The ``If-Match`` header (strong comparison).
    :param etag: The resource's entity tag.
    :param data: The body to generate a tag from, instead of ``etag``.
    :param last_modified: The resource's modification time.
    :param ignore_if_range: Skip ``If-Range``.
    :raise TypeError: If both ``etag`` and ``data`` are given.

    .. note:: Flask compatibility: ``werkzeug.http.is_resource_modified`` takes a
        WSGI environ; this takes the header values.
    """
    if data is not None:
        if etag is not None:
            raise TypeError(
                "is_resource_modified() got both 'etag' and 'data'; pass one:"
                " the tag is generated from 'data' only when 'etag' is None."
            )

        etag = f'"{generate_etag(data)}"'

    if isinstance(last_modified, str):
        last_modified = parse_date(last_modified)

    if last_modified is not None:
        # HTTP dates have no sub-second part: drop it so a resource is not
        # "modified" by its microseconds.
        last_modified = as_utc(last_modified.replace(microsecond=0))

    if_range = None

    if not ignore_if_range and http_range is not None:
        # RFC 9110 13.1.5: If-Range is ignored without a Range header.
        if_range = parse_if_range_header(http_if_range)

    modified_since: datetime | None

    if if_range is not None and if_range.date is not None:
        modified_since = if_range.date
    else:
        modified_since = parse_date(http_if_modified_since)

    unmodified = bool(
        modified_since and last_modified and last_modified <= modified_since
    )

    if etag:
        tag = unquote_etag(etag)[0]

        if if_range is not None and if_range.etag is not None:
            unmodified = if_range.etag == tag
        else:
            if_none_match = parse_etags(http_if_none_match)

            if if_none_match:
                # RFC 9110 13.1.2: weak comparison for If-None-Match.
                unmodified = if_none_match.contains_weak(tag)

            if_match = parse_etags(http_if_match)

            if if_match:
                # RFC 9110 13.1.1: strong comparison for If-Match.
                unmodified = not if_match.is_strong(tag)

    return not unmodified


def parse_age(value: str | None = None) -> timedelta | None:
    """Return an ``Age`` style count of seconds as a timedelta, or ``None``.

    Negative, non-numeric and out-of-range values give ``None``.
    """
    if not value:
        return None

    try:
        seconds = int(value)
    except ValueError:
        return None

    if seconds < 0:
        return None

    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        return None


def dump_age(age: timedelta | int | None = None) -> str | None:
    """Return a duration as a count of seconds, or ``None`` if it is unknown.

    :raise ValueError: If the age is negative.
    """
    if age is None:
        return None

    seconds = int(age.total_seconds()) if isinstance(age, timedelta) else int(age)

    if seconds < 0:
        raise ValueError(
            f"An age cannot be negative, got {age!r}. Pass a number of seconds"
            " (or a timedelta) of zero or more."
        )

    return str(seconds)


def is_entity_header(header: str) -> bool:
    """Return whether ``header`` is an entity header, ignoring case."""
    return header.lower() in _ENTITY_HEADERS


def is_hop_by_hop_header(header: str) -> bool:
    """Return whether ``header`` is an HTTP/1.1 hop-by-hop header, ignoring case."""
    return header.lower() in _HOP_BY_HOP_HEADERS


def remove_entity_headers(
    headers: MutableSequence[tuple[str, str]] | t.Any,
    allowed: Iterable[str] = ("expires", "content-location"),
) -> None:
    """Remove the entity headers from a list of pairs or a ``Headers``, in place.

    :param headers: The ``(name, value)`` pairs.
    :param allowed: Entity headers to keep; ``Expires`` and ``Content-Location``
        by default, as a 304 response may carry them.
    """
    keep = {name.lower() for name in allowed}
    headers[:] = [
        (name, value)
        for name, value in headers
        if name.lower() not in _ENTITY_HEADERS or name.lower() in keep
    ]


def remove_hop_by_hop_headers(
    headers: MutableSequence[tuple[str, str]] | t.Any,
) -> None:
    """Remove the hop-by-hop headers from a list of pairs or a ``Headers``, in place."""
    headers[:] = [
        (name, value)
        for name, value in headers
        if name.lower() not in _HOP_BY_HOP_HEADERS
    ]


def parse_cookie(
    header: Mapping[str, t.Any] | str | bytes | None,
    cls: type[MultiDict[str, str]] | None = None,
) -> MultiDict[str, str]:
    """Return the pairs of a ``Cookie`` header as a :class:`MultiDict`.

    A repeated name keeps every value, first one first.

    :param header: The header value, or a WSGI environ with ``HTTP_COOKIE``. A
        ``str`` that is UTF-8 tunnelled through latin-1 (as WSGI passes it) is
        decoded to text.
    :param cls: The multidict class to build.
    """
    # PERF: a str header (what requests pass) skips the Mapping ABC check.
    if header.__class__ is not str and isinstance(header, Mapping):
        header = header.get("HTTP_COOKIE")

    if isinstance(header, str) and not header.isascii():
        try:
            header = header.encode("latin-1").decode("utf-8")
        except UnicodeError:
            # NOTE: already text (or not UTF-8): keep it rather than fail.
            pass

    if cls is None:
        cls = MultiDict

    if not header:
        return cls()

    return cls(parse_cookie_pairs(header))
