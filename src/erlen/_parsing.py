"""Low-level HTTP header tokenizing, quoting, etag and date helpers."""

from __future__ import annotations

import re
import time
import typing as t
from datetime import date
from datetime import datetime
from datetime import UTC
from urllib.parse import unquote as _percent_unquote

#: Reason phrases by status code, as Werkzeug spells them.
HTTP_STATUS_CODES: dict[int, str] = {
    100: "Continue",
    101: "Switching Protocols",
    102: "Processing",
    103: "Early Hints",
    200: "OK",
    201: "Created",
    202: "Accepted",
    203: "Non Authoritative Information",
    204: "No Content",
    205: "Reset Content",
    206: "Partial Content",
    207: "Multi Status",
    208: "Already Reported",
    226: "IM Used",
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    304: "Not Modified",
    305: "Use Proxy",
    306: "Switch Proxy",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    409: "Conflict",
    410: "Gone",
    411: "Length Required",
    412: "Precondition Failed",
    413: "Request Entity Too Large",
    414: "Request URI Too Long",
    415: "Unsupported Media Type",
    416: "Requested Range Not Satisfiable",
    417: "Expectation Failed",
    418: "I'm a teapot",
    421: "Misdirected Request",
    422: "Unprocessable Entity",
    423: "Locked",
    424: "Failed Dependency",
    425: "Too Early",
    426: "Upgrade Required",
    428: "Precondition Required",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    449: "Retry With",
    451: "Unavailable For Legal Reasons",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    505: "HTTP Version Not Supported",
    506: "Variant Also Negotiates",
    507: "Insufficient Storage",
    508: "Loop Detected",
    510: "Not Extended",
    511: "Network Authentication Failed",
}


if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable
    from collections.abc import Mapping

# RFC 9110 5.6.2: tchar.
_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
_token_re = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# APPSEC: every control character except HTAB, which RFC 9110 allows in values.
_ctl_re = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# A backslash escapes the next character inside a quoted string (not a newline,
# which cannot legally appear in a header value anyway).
_quoted_pair_re = re.compile(r"\\(.)")

# PERF: possessive quantifiers keep the list tokenizer linear: no backtracking
# on hostile input such as many unclosed quotes.
_list_item_re = re.compile(r'(?:[^,"]++|"(?:[^"\\]++|\\.)*+")*+', re.S)

# RFC 9110 5.6.6 parameters, RFC 2231 markers and charset values.
_param_key_re = re.compile(r"([\w!#$%&'*+\-.^`|~]+)=", re.A)
_param_token_re = re.compile(r"[\w!#$%&'*+\-.^`|~]+", re.A)
# NOTE: only ``\\`` and ``\"`` are consumed as pairs; the possessive group stops
# the engine from re-reading an escaped quote as the closing one.
_param_quoted_re = re.compile(r'"(?:\\[\\"]|[^"])*+"')
_param_delim_re = re.compile(r";[ \t]*")
_param_mark_re = re.compile(r"(?:\*([0-9]+))?(\*)?$")
_charset_value_re = re.compile(
    r"([\w!#$%&*+\-.^`|~]*)'[\w!#$%&*+\-.^`|~]*'([\w!#$%&'*+\-.^`|~]+)$", re.A
)
# APPSEC: a fixed list of charsets; anything else leaves the value encoded.
_SAFE_CHARSETS = frozenset({"ascii", "us-ascii", "utf-8", "iso-8859-1"})

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
_MONTH_NUMBERS = {name: number for number, name in enumerate(_MONTHS, 1)}
# PERF: the IMF-fixdate form that every modern client sends is parsed by one
# regex; the obsolete RFC 850 and asctime forms go through email.utils.
_imf_fixdate_re = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-9]{2}) "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([0-9]{4}) "
    r"([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT"
)
_plain_int_re = re.compile(r"-?[0-9]+")


def is_token(value: str) -> bool:
    """Return whether ``value`` is a non-empty RFC 9110 token."""
    return _token_re.fullmatch(value) is not None


def has_ctl(value: str) -> bool:
    """Return whether ``value`` contains a control character (CR, LF, NUL, ...).

    Horizontal tab is not counted: RFC 9110 allows it inside field values.
    """
    return _ctl_re.search(value) is not None


def quote_header_value(value: t.Any, allow_token: bool = True) -> str:
    """Return ``value`` as a header value, quoted unless it is a plain token.

    Backslashes and double quotes are escaped; the empty string becomes ``""``.
    This is the inverse of :func:`unquote_header_value`.

    :param value: The value to quote, converted with ``str()``.
    :param allow_token: Quote the value even if it is a token when false.
    """
    text = str(value)

    if not text:
        return '""'

    if allow_token and _TOKEN_CHARS.issuperset(text):
        return text

    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unquote_header_value(value: str, is_filename: bool = False) -> str:
    """Return ``value`` without its surrounding double quotes and backslash escapes.

    A value that is not wrapped in double quotes is returned unchanged.

    :param value: The header value to unquote.
    :param is_filename: Keep the backslashes of a quoted UNC path (one that starts
        with two backslashes) as they are, since those are not escapes.
    """
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return value

    inner = value[1:-1]

    if is_filename and inner[:2] == "\\\\":
        return inner

    if "\\" not in inner:
        return inner

    return _quoted_pair_re.sub(r"\1", inner)


def dump_options_header(header: str | None, options: Mapping[str, t.Any]) -> str:
    """Return a header value followed by ``; key=value`` parameters.

    Values that are not tokens are quoted; ``None`` values are skipped. A key that
    ends with ``*`` is assumed to carry an RFC 2231 ``charset''value`` and is not
    quoted. This is the inverse of :func:`parse_options_header`.

    :param header: The main value, or ``None`` to emit only parameters.
    :param options: The parameters.
    """
    segments = [] if header is None else [header]

    for key, value in options.items():
        if value is None:
            continue

        if key[-1:] == "*":
            segments.append(f"{key}={value}")
        else:
            segments.append(f"{key}={quote_header_value(value)}")

    return "; ".join(segments)


def dump_header(iterable: dict[str, t.Any] | Iterable[t.Any]) -> str:
    """Return a comma separated header value from a list or a dict.

    List items and dict values that are not tokens are quoted. A dict value of
    ``None`` emits the key alone; a key ending in ``*`` is not quoted (RFC 2231).
    This is the inverse of :func:`parse_list_header` and :func:`parse_dict_header`.

    :param iterable: The items, or the ``key=value`` pairs.
    """
    if isinstance(iterable, dict):
        items = []

        for key, value in iterable.items():
            if value is None:
                items.append(key)
            elif key[-1:] == "*":
                items.append(f"{key}={value}")
            else:
                items.append(f"{key}={quote_header_value(value)}")

        return ", ".join(items)

    return ", ".join([quote_header_value(item) for item in iterable])


def parse_list_header(value: str) -> list[str]:
    """Return the items of a comma separated header value (RFC 9110 5.6.1).

    Commas inside quoted strings do not split. Items are stripped of spaces and
    tabs, a fully quoted item is unquoted, and empty items are dropped. A value
    with an unclosed quoted string is invalid and gives an empty list.

    :param value: The header value.
    """
    if '"' not in value:
        # PERF: the common case needs no tokenizer.
        return [
            item for item in (part.strip(" \t") for part in value.split(",")) if item
        ]

    items = []
    pos = 0
    end = len(value)
    match = _list_item_re.match

    while True:
        # The pattern can match the empty string, so it always matches.
        found = match(value, pos)
        pos = found.end()  # type: ignore[union-attr]
        item = found.group().strip(" \t")  # type: ignore[union-attr]

        if item:
            items.append(unquote_header_value(item))

        if pos >= end:
            return items

        if value[pos] == '"':
            # An opening quote the item pattern could not close.
            return []

        pos += 1  # Skip the comma.


def parse_dict_header(value: str) -> dict[str, str | None]:
    """Return the ``key=value`` items of a comma separated header value.

    A key without ``=`` maps to ``None``; an item starting with ``=`` is skipped.
    ``key*=charset''value`` items are percent-decoded (RFC 2231) when the charset
    is ASCII, UTF-8 or ISO-8859-1; any other charset leaves the value encoded.

    :param value: The header value.
    """
    result: dict[str, str | None] = {}

    for item in parse_list_header(value):
        key, has_value, raw = item.partition("=")
        key = key.strip(" \t")

        if not key:
            continue

        if not has_value:
            result[key] = None
            continue

        raw = raw.strip(" \t")

        if key[-1] == "*":
            key = key[:-1]
            found = _charset_value_re.match(raw)

            if found is not None:
                charset, raw = found.groups()

                if charset.lower() in _SAFE_CHARSETS:
                    raw = _percent_unquote(raw, encoding=charset.lower())

        result[key] = unquote_header_value(raw)

    return result


def _scan_parameters(rest: str) -> list[tuple[str, str]]:
    """Return the raw ``(lowercase key, value)`` pairs of a parameter list."""
    parts: list[tuple[str, str]] = []
    pos = 0
    end = len(rest)

    while pos < end:
        key_match = _param_key_re.match(rest, pos)

        if key_match is not None:
            key = key_match.group(1).lower()
            pos = key_match.end()
            token_match = _param_token_re.match(rest, pos)

            if token_match is not None:
                parts.append((key, token_match.group()))
                pos = token_match.end()
            elif rest.startswith('"', pos):
                quoted_match = _param_quoted_re.match(rest, pos)

                if quoted_match is None:
                    # An unclosed quoted string swallows the rest of the value.
                    break

                parts.append((key, quoted_match.group()))
                pos = quoted_match.end()

        delim_match = _param_delim_re.search(rest, pos)

        if delim_match is None:
            break

        pos = delim_match.end()

    return parts


def _decode_parameters(parts: list[tuple[str, str]]) -> dict[str, str]:
    """Return the options of raw parameters, applying RFC 2231 markers."""
    options: dict[str, str] = {}
    pieces: dict[str, list[str]] = {}
    piece_charsets: dict[str, str] = {}

    for raw_key, raw_value in parts:
        key = raw_key
        value = raw_value
        charset: str | None = None
        is_piece = has_charset = False

        if "*" in key:
            mark = _param_mark_re.search(key)

            if mark is not None and mark.start() != mark.end():
                is_piece = mark.group(1) is not None
                has_charset = mark.group(2) is not None
                key = key[: mark.start()]

        if has_charset:
            found = _charset_value_re.match(value)

            if found is not None:
                charset, value = found.groups()
                charset = charset.lower()

            if not charset and is_piece:
                charset = piece_charsets.get(key)

            if charset in _SAFE_CHARSETS:
                value = _percent_unquote(value, encoding=charset)
        else:
            # Browsers send ``%22`` for a quote in multipart names (HTML spec),
            # RFC 9110 uses a backslash escape: both mean ``"``.
            value = unquote_header_value(value).replace("%22", '"')

        if is_piece:
            options.pop(key, None)
            pieces.setdefault(key, []).append(value)

            if charset:
                piece_charsets[key] = charset
        else:
            if key in pieces:
                del pieces[key]
                piece_charsets.pop(key, None)

            options[key] = value

    for key, values in pieces.items():
        options[key] = "".join(values)

    return options


def parse_options_header(value: str | None) -> tuple[str, dict[str, str]]:
    """Return the main value and the ``key=value`` parameters of a header.

    Parameter names are lowercased; invalid parameters are skipped. RFC 2231
    continuations (``key*0=``, ``key*1=``) are joined in the order received, and
    ``key*=charset''value`` is percent-decoded for ASCII, UTF-8 and ISO-8859-1.
    This is the inverse of :func:`dump_options_header`.

    :param value: The header value, for example a ``Content-Type``.
    :return: ``(value, options)``; ``("", {})`` for ``None``.
    """
    if value is None:
        return "", {}

    head, _, rest = value.partition(";")
    head = head.strip(" \t")
    rest = rest.strip(" \t")

    if not head or not rest:
        return head, {}

    return head, _decode_parameters(_scan_parameters(rest))


def quote_etag(etag: str, weak: bool = False) -> str:
    """Return ``etag`` wrapped in double quotes, with a ``W/`` prefix if weak.

    :param etag: The entity tag, which must not contain a double quote.
    :param weak: Mark the tag as weak.
    :raise ValueError: If ``etag`` contains a double quote.
    """
    if '"' in etag:
        raise ValueError(
            f"An entity tag cannot contain a double quote, got {etag!r}. Remove"
            " the quotes; quote_etag adds its own."
        )

    if weak:
        return f'W/"{etag}"'

    return f'"{etag}"'


@t.overload
def unquote_etag(etag: str) -> tuple[str, bool]: ...
@t.overload
def unquote_etag(etag: None) -> tuple[None, None]: ...
def unquote_etag(etag: str | None) -> tuple[str, bool] | tuple[None, None]:
    """Return ``(tag, weak)`` for a quoted entity tag, or ``(None, None)`` if empty.

    An unquoted tag is returned as is.

    :param etag: The entity tag as sent, like ``W/"abc"``.
    """
    if not etag:
        return None, None

    weak = etag[:2] in ("W/", "w/")
    tag = etag[2:] if weak else etag

    if len(tag) >= 2 and tag[0] == '"' and tag[-1] == '"':
        return tag[1:-1], weak

    if tag == '"':
        # ``W/"`` or ``"``: the opening and closing quote are the same one.
        return "", weak

    return tag, weak


def generate_etag(data: bytes) -> str:
    """Return a strong entity tag (a SHA-1 hex digest) for ``data``."""
    # PERF: imported on first use (import time).
    from hashlib import sha1

    return sha1(data).hexdigest()


def is_byte_range_valid(
    start: int | None, stop: int | None, length: int | None
) -> bool:
    """Return whether a half-open byte range is valid for a content length.

    ``start`` and ``stop`` are both ``None`` (an unsatisfied range) or both set.
    """
    if start is None or stop is None:
        return start is None and stop is None and (length is None or length >= 0)

    if length is None:
        return 0 <= start < stop

    return 0 <= start < stop and start < length


def parse_plain_int(value: str) -> int:
    """Return the integer in ``value``: ASCII digits with an optional ``-``.

    Surrounding spaces and tabs are ignored. Unlike ``int()``, ``+``, ``_`` and
    non-ASCII digits are rejected, as HTTP does not allow them.

    :raise ValueError: If ``value`` is not a plain integer.
    """
    text = value.strip(" \t")

    if _plain_int_re.fullmatch(text) is None:
        raise ValueError(f"Expected a decimal integer of ASCII digits, got {value!r}.")

    return int(text)


def as_utc(dt: datetime) -> datetime:
    """Return ``dt`` in UTC; a naive datetime is taken to be UTC already."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)

    if dt.tzinfo is not UTC:
        return dt.astimezone(UTC)

    return dt


def parse_date(value: str | None) -> datetime | None:
    """Return an HTTP date as an aware UTC :class:`~datetime.datetime`.

    IMF-fixdate, RFC 850 and asctime forms are accepted (anything
    :func:`email.utils.parsedate_to_datetime` reads). A date without a zone is
    taken to be UTC.

    :param value: The header value.
    :return: The datetime, or ``None`` if the value is missing or invalid.
    """
    if value is None:
        return None

    fixed = _imf_fixdate_re.fullmatch(value)

    # NOTE: years below 1000 go through email.utils, which maps two-digit style
    # years (``0050``) into the 20th and 21st centuries.
    if fixed is not None and fixed.group(3)[0] != "0":
        day, month, year, hour, minute, second = fixed.groups()

        try:
            return datetime(
                int(year),
                _MONTH_NUMBERS[month],
                int(day),
                int(hour),
                int(minute),
                int(second),
                tzinfo=UTC,
            )
        except ValueError:
            return None

    # PERF: imported on first use (import time); only obsolete date forms need it.
    import email.utils

    try:
        dt = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None

    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)

    return dt


def _format_utc(dt: datetime) -> str:
    return (
        f"{_WEEKDAYS[dt.weekday()]}, {dt.day:02d} {_MONTHS[dt.month - 1]}"
        f" {dt.year:04d} {dt.hour:02d}:{dt.minute:02d}:{dt.second:02d} GMT"
    )


def http_date(
    timestamp: datetime | date | int | float | time.struct_time | None = None,
) -> str:
    """Return an IMF-fixdate (RFC 9110 5.6.7) for a datetime, date or timestamp.

    A naive datetime is taken to be UTC, a date means midnight UTC, a
    ``struct_time`` is local time (as :func:`time.mktime` reads it) and ``None``
    means now.

    :param timestamp: The moment to format.
    """
    if isinstance(timestamp, datetime):
        return _format_utc(as_utc(timestamp))

    if isinstance(timestamp, date):
        return _format_utc(datetime(timestamp.year, timestamp.month, timestamp.day))

    if isinstance(timestamp, time.struct_time):
        timestamp = time.mktime(timestamp)

    if timestamp is None:
        timestamp = time.time()

    return _format_utc(datetime.fromtimestamp(timestamp, UTC))
