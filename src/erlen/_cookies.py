"""Cookie header parsing and Set-Cookie header building."""

from __future__ import annotations

import re
import warnings
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from urllib.parse import quote as _quote

from ._cache import cache_put
from ._parsing import http_date

# A cookie pair as browsers send it, tolerating the spacing RFC 6265 forbids.
_cookie_re = re.compile(
    r"""
    [ \t]*
    ([^ \t=";]+)                    # name
    (?:
        [ \t]*=[ \t]*
        ( "(?:[^\\"]|\\.)*"         # quoted value with backslash escapes
        | [^ \t";]*                 # plain value
        )
    )?
    [ \t]*
    (?:;|\Z)
    """,
    re.ASCII | re.VERBOSE,
)
# Inside quotes, "\ooo" is an octal byte (what http.cookies writes) and "\x"
# is the character x.
_unslash_re = re.compile(rb"\\([0-3][0-7]{2}|.)")

# Values made only of these characters are sent without quotes.
_no_quote_re = re.compile(r"[\w!#$%&'()*+\-./:<=>?@\[\]^`{|}~]*", re.ASCII)
_no_quote_match = _no_quote_re.fullmatch
# NOTE: the range stops at 0x19, not 0x1f, to produce the same bytes as
# Werkzeug (and so the same cookies); CR, LF and NUL are all escaped.
_slash_re = re.compile(rb"[\x00-\x19\",;\\\x7f-\xff]")
_slash_map = {b'"': b'\\"', b"\\": b"\\\\"}
_slash_map.update(
    (bytes((c,)), b"\\%03o" % c) for c in (*range(0x20), *b",;", *range(0x7F, 256))
)
# APPSEC: any of these in a name, domain, path or expires would end the
# header or start a new attribute in it (cookie or header injection).
_injection_re = re.compile(r"[\r\n\x00;]")
_ctl_re = re.compile(r"[\r\n\x00]")
_SAMESITE = frozenset(("Strict", "Lax", "None"))
# The characters a cookie path keeps unquoted: the URL path-segment set plus
# "%" (already quoted text), without ";", which separates attributes.
_PATH_SAFE = "%!$&'()*+,/:=@"
# Checked cookie names (to their latin-1 header form) and checked paths (to
# their quoted form); cleared when full, so untrusted input cannot grow them.
_checked_names: dict[str, str] = {}
_CHECKED_NAMES_MAX = 256
_quoted_paths: dict[str, str] = {}
_QUOTED_PATHS_MAX = 256
# The pairs of recently parsed Cookie headers, keyed by the raw header. A
# client sends the same header with each request until a cookie changes.
_parsed_headers: dict[str, tuple[tuple[str, str], ...]] = {}
_PARSED_HEADERS_MAX = 256
# APPSEC: longer headers are parsed every time, so that the cache holds at
# most 256 short strings whatever clients send.
_MAX_CACHED_HEADER = 2048


def _unslash(match: re.Match[bytes]) -> bytes:
    escaped = match.group(1)
    if len(escaped) == 1:
        return escaped
    return bytes((int(escaped, 8),))


def parse_cookie_pairs(header: str | bytes | None) -> list[tuple[str, str]]:
    """Return the ``(name, value)`` pairs of a ``Cookie`` header, in order.

    Parsing is as tolerant as browsers: spaces around ``=`` are ignored, a
    name without ``=`` has an empty value, and a malformed part is skipped up
    to the next ``;``. Quoted values lose their quotes and backslash escapes
    (``\\ooo`` octal escapes are bytes, decoded as UTF-8). Bytes are decoded
    as latin-1, like WSGI header values, so the result equals Flask's
    ``request.cookies`` for the same header.
    """
    if not header:
        return []
    if header.__class__ is not str and not isinstance(header, str):
        header = bytes(header).decode("latin-1")
    if '"' not in header and "\t" not in header:
        # PERF: the usual header ("a=1; b=2": no quotes, no spacing inside a
        # pair) splits without the regex. Anything else (a space left inside
        # a pair after stripping) goes to the tolerant parser below.
        fast: list[tuple[str, str]] = []
        for part in header.split(";"):
            part = part.strip(" ")
            if " " in part:
                break
            name, _, value = part.partition("=")
            # An empty part or a missing name is malformed: skipped.
            if name:
                fast.append((name, value))
        else:
            return fast
    out: list[tuple[str, str]] = []
    pos = 0
    match_at = _cookie_re.match
    while True:
        m = match_at(header, pos)
        if m is None:
            # Skip the malformed part, up to and including the next ";".
            pos = header.find(";", pos) + 1
            if pos == 0:
                break
            continue
        name, value = m.groups()
        pos = m.end()
        if value is None:
            value = ""
        elif len(value) > 1 and value[0] == '"' and value[-1] == '"':
            value = _unslash_re.sub(_unslash, value[1:-1].encode()).decode(
                errors="replace"
            )
        out.append((name, value))
        # NOTE: "\Z" matched at the end does not move past it.
        if pos >= len(header):
            break
    return out


def cookie_pairs(header: str) -> tuple[tuple[str, str], ...]:
    """Return a request's ``Cookie`` header as its ``(name, value)`` pairs.

    The header is a WSGI-style latin-1 ``str``; UTF-8 tunnelled through
    latin-1 is decoded to text, and the pairs are those of
    :func:`parse_cookie_pairs`, as :func:`erlen.http.parse_cookie` reads them.
    """
    pairs = _parsed_headers.get(header)
    if pairs is None:
        text = header
        if not text.isascii():
            try:
                text = text.encode("latin-1").decode("utf-8")
            except UnicodeError:
                # NOTE: already text (or not UTF-8): keep it, as parse_cookie.
                pass
        pairs = tuple(parse_cookie_pairs(text))
        if len(header) <= _MAX_CACHED_HEADER:
            cache_put(_parsed_headers, _PARSED_HEADERS_MAX, header, pairs)
    return pairs


def _check_attr(what: str, value: str, pattern: re.Pattern[str]) -> None:
    match = pattern.search(value)
    if match is not None:
        raise ValueError(
            f"The cookie {what} {value!r} contains the character"
            f" {match.group()!r}, which would inject text into the Set-Cookie"
            " header. Remove it (CR, LF, NUL and ';' are not allowed)."
        )


def _require_str(key: object, value: object) -> None:
    for obj in (key, value):
        if not isinstance(obj, str):
            raise TypeError(
                f"The cookie key and value must be str, got {type(obj).__name__}"
                f" {obj!r}. Convert the value with str() (or decode bytes) first."
            )


def _quote_value(value: str) -> str:
    """Return *value* quoted, for one that is not all bare-safe characters."""
    # PERF: escape on bytes so a multi-byte UTF-8 character becomes several
    # octal escapes in one pass.
    escaped = _slash_re.sub(lambda m: _slash_map[m.group()], value.encode())
    return f'"{escaped.decode("ascii")}"'


def _expires_value(
    expires: str | datetime | int | float | None,
    max_age: int | None,
    sync_expires: bool,
) -> str | None:
    if expires is not None:
        if isinstance(expires, str):
            _check_attr("expires", expires, _injection_re)
            return expires
        return http_date(expires)
    if max_age is not None and sync_expires:
        return http_date(datetime.now(tz=UTC).timestamp() + max_age)
    return None


def _checked_name(key: str) -> str:
    """Check a cookie name and return (and cache) its header form."""
    _check_attr("name", key, _injection_re)
    # NOTE: a non-ASCII name is sent as its UTF-8 bytes (latin-1 text, as
    # WSGI header values are), which is what Werkzeug does.
    return cache_put(
        _checked_names, _CHECKED_NAMES_MAX, key, key.encode().decode("latin-1")
    )


def _quoted_path(path: str) -> str:
    """Check a cookie path and return (and cache) its quoted form."""
    _check_attr("path", path, _injection_re)
    return cache_put(_quoted_paths, _QUOTED_PATHS_MAX, path, _quote(path, _PATH_SAFE))


def _cookie_domain(domain: str) -> str:
    _check_attr("domain", domain, _injection_re)
    return domain.partition(":")[0].lstrip(".").encode("idna").decode("ascii")


def _samesite(samesite: str) -> str:
    samesite = samesite.title()
    if samesite not in _SAMESITE:
        raise ValueError(
            f"SameSite must be 'Strict', 'Lax' or 'None', got {samesite!r}."
            " Pass one of those (any case) or None to leave it out."
        )
    return samesite


def dump_cookie(
    key: str,
    value: str = "",
    max_age: timedelta | int | None = None,
    expires: str | datetime | int | float | None = None,
    path: str | None = "/",
    domain: str | None = None,
    secure: bool = False,
    httponly: bool = False,
    sync_expires: bool = True,
    max_size: int = 4093,
    samesite: str | None = None,
    partitioned: bool = False,
) -> str:
    """Return a ``Set-Cookie`` header value (without the ``Set-Cookie:`` name).

    :param key: the cookie name.
    :param value: the cookie value; quoted with octal escapes when it has
        characters RFC 6265 does not allow bare.
    :param max_age: lifetime in seconds (or a :class:`~datetime.timedelta`).
    :param expires: expiry as a date, a timestamp or a ready ``str``; with
        *sync_expires*, derived from *max_age* when not given.
    :param path: the path the cookie applies to, percent-quoted.
    :param domain: the domain the cookie applies to (port and leading dot are
        dropped; non-ASCII names are IDNA-encoded).
    :param secure: send the cookie over HTTPS only.
    :param httponly: hide the cookie from JavaScript.
    :param sync_expires: set ``Expires`` from *max_age* when *expires* is
        not given.
    :param max_size: warn (:exc:`UserWarning`) when the header is longer;
        ``0`` disables the check.
    :param samesite: ``"Strict"``, ``"Lax"`` or ``"None"`` (any case).
    :param partitioned: add ``Partitioned`` (CHIPS); this implies *secure*.
    :raise ValueError: for an invalid *samesite*, or CR, LF, NUL or ``;`` in
        the name, path, domain or expires string.
    :raise TypeError: if *key* or *value* is not a str.

    .. note:: Flask compatibility: Werkzeug does not reject injection
        characters; erlen raises :exc:`ValueError` for them.
    """
    if key.__class__ is not str or value.__class__ is not str:
        _require_str(key, value)
    # PERF: cookie names and paths come from application code, so their
    # checked (and encoded or quoted) forms are remembered in bounded caches;
    # attributes are appended in straight-line code, in Werkzeug's order.
    name = _checked_names.get(key) or _checked_name(key)
    # PERF: the usual value needs no quotes: ASCII letters and digits are
    # checked by two string methods, anything else by the regex.
    if not (value.isalnum() and value.isascii()) and _no_quote_match(value) is None:
        value = _quote_value(value)
    rv = f"{name}={value}"
    if domain is not None:
        rv = f"{rv}; Domain={_cookie_domain(domain)}"
    if max_age is not None and isinstance(max_age, timedelta):
        max_age = int(max_age.total_seconds())
    if expires is not None or (max_age is not None and sync_expires):
        rv = f"{rv}; Expires={_expires_value(expires, max_age, sync_expires)}"
    if max_age is not None:
        rv = f"{rv}; Max-Age={max_age}"
    # NOTE: browsers ignore Partitioned cookies that are not Secure.
    if secure or partitioned:
        rv = f"{rv}; Secure"
    if httponly:
        rv = f"{rv}; HttpOnly"
    if path is not None:
        rv = f"{rv}; Path={_quoted_paths.get(path) or _quoted_path(path)}"
    if samesite is not None:
        rv = f"{rv}; SameSite={_samesite(samesite)}"
    if partitioned:
        rv = f"{rv}; Partitioned"
    # APPSEC: a last check on the whole header, whatever the attribute types.
    if "\r" in rv or "\n" in rv or "\x00" in rv:
        _check_attr("header", rv, _ctl_re)

    if max_size and len(rv) > max_size:
        value_size = len(value)
        warnings.warn(
            f"The {key!r} cookie is {len(rv)} bytes long (value {value_size}"
            f" bytes, attributes {len(rv) - value_size} bytes), over the limit"
            f" of {max_size} bytes. Browsers may silently drop it; store less"
            " in the cookie.",
            stacklevel=2,
        )
    return rv
