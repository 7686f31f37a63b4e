"""Percent-encoding, IRI/URI conversion and query string parsing and building."""

from __future__ import annotations

import codecs
import re
import typing as t
import urllib.parse
from codecs import escape_decode as _escape_decode
from collections.abc import Iterable
from collections.abc import Mapping
from urllib.parse import quote as _quote
from urllib.parse import quote_plus as _quote_plus
from urllib.parse import unquote as _unquote
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

__all__ = [
    "encode_query",
    "iri_to_uri",
    "parse_qsl",
    "quote",
    "unquote",
    "uri_to_iri",
    "url_quote_path",
]

#: Codec error handler that turns undecodable bytes back into ``%XX`` escapes.
URL_QUOTE_ERRORS = "erlen.url_quote"


def _url_quote_errors(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return "".join(f"%{b:02X}" for b in bad), exc.end


codecs.register_error(URL_QUOTE_ERRORS, _url_quote_errors)

# NOTE: Python before 3.12 does not know that itms-services URLs have a
# netloc and would drop their "//"; Werkzeug adds it the same way.
# The branch depends on the Python version and on import order (Werkzeug
# may have added it first in tests), hence no branch coverage for it.
if "itms-services" not in urllib.parse.uses_netloc:  # pragma: no branch
    urllib.parse.uses_netloc.append("itms-services")

# Safe sets follow the WHATWG URL standard's percent-encode sets; "%" stays so
# that text already percent-encoded is not encoded twice.
_PATH_SAFE = "%!$&'()*+,/:;=@"
_QUERY_SAFE = "%!$&'()*+,/:;=?@"
_FRAGMENT_SAFE = "%!#$&'()*+,/:;=?@"
_USER_SAFE = "%!$&'()*+,;="
# What the URL builder leaves unescaped in a path segment and in a query.
_BUILD_PATH_SAFE = "!$&'()*+,/:;=@"
_BUILD_QUERY_SAFE = "!$'()*,/:;?@"

# Bytes that must stay percent-encoded when decoding a URI for display:
# controls, space, "%" and DEL everywhere, plus each part's delimiters.
_ALWAYS_KEEP = frozenset((*range(0x21), 0x25, 0x7F))
_KEEP_PATH = _ALWAYS_KEEP | frozenset(b"/?#")
_KEEP_QUERY = _ALWAYS_KEEP | frozenset(b"&=+#")
_KEEP_FRAGMENT = _ALWAYS_KEEP
_KEEP_USER = _ALWAYS_KEEP | frozenset(b":@/?#")

_escape_run_re = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


def quote(
    string: str | bytes,
    safe: str | bytes = "/",
    encoding: str = "utf-8",
    errors: str = "strict",
) -> str:
    """Return *string* percent-encoded, keeping ``A-Za-z0-9_.-~`` and *safe*.

    A str is encoded with *encoding* first; bytes are used as they are.
    """
    if isinstance(string, str):
        return _quote(string, safe, encoding, errors)
    return _quote(string, safe)


def unquote(
    string: str | bytes, encoding: str = "utf-8", errors: str = URL_QUOTE_ERRORS
) -> str:
    """Return *string* with ``%XX`` escapes decoded.

    Bytes that are not valid in *encoding* stay percent-encoded by default
    (``"%FF"``); pass ``errors="replace"`` to get U+FFFD instead. Malformed
    escapes such as ``%zz`` are kept as they are. Bytes input is decoded with
    the same *encoding* and *errors*.
    """
    if not isinstance(string, str):
        string = bytes(string).decode(encoding, errors)
    return _unquote(string, encoding, errors)


def url_quote_path(string: str) -> str:
    """Return *string* quoted for a URL path, as the URL builder does.

    Slashes and the sub-delimiters allowed in a path segment are kept.
    """
    return _quote(string, _BUILD_PATH_SAFE)


def _unquote_keeping(value: str, keep: frozenset[int]) -> str:
    """Decode the escapes in *value* except those of bytes in *keep*.

    Undecodable UTF-8 stays percent-encoded (upper-case hex).
    """
    if "%" not in value:
        return value

    def decode_run(match: re.Match[str]) -> str:
        text = match.group()
        out: list[str] = []
        buf = bytearray()
        for i in range(0, len(text), 3):
            byte = int(text[i + 1 : i + 3], 16)
            if byte in keep:
                if buf:
                    out.append(buf.decode("utf-8", URL_QUOTE_ERRORS))
                    buf.clear()
                out.append(text[i : i + 3])
            else:
                buf.append(byte)
        if buf:
            out.append(buf.decode("utf-8", URL_QUOTE_ERRORS))
        return "".join(out)

    return _escape_run_re.sub(decode_run, value)


def _decode_idna(domain: str) -> str:
    try:
        data = domain.encode("ascii")
    except UnicodeEncodeError:
        # Already Unicode: nothing to decode.
        return domain
    try:
        return data.decode("idna")
    except UnicodeError:
        pass
    # NOTE: decode label by label so one bad label stays as Punycode text
    # instead of failing the whole conversion. UnicodeError, not just
    # UnicodeDecodeError: a label that does not round-trip raises the former
    # (Werkzeug lets that one escape).
    labels = []
    for label in data.split(b"."):
        try:
            labels.append(label.decode("idna"))
        except UnicodeError:
            labels.append(label.decode("ascii"))
    return ".".join(labels)


def _netloc(
    parts: urllib.parse.SplitResult,
    host: str,
    user: t.Callable[[str], str],
) -> str:
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    if parts.username is not None:
        auth = user(parts.username)
        if parts.password is not None:
            auth = f"{auth}:{user(parts.password)}"
        netloc = f"{auth}@{netloc}"
    return netloc


def uri_to_iri(uri: str) -> str:
    """Return *uri* made readable: escapes of UTF-8 text decoded, host from Punycode.

    Reserved characters and bytes that are not UTF-8 stay percent-encoded, so
    the IRI means the same as the URI::

        >>> uri_to_iri("http://xn--n3h.net/p%C3%A5th?q=%C3%A8ry%DF")
        'http://☃.net/påth?q=èry%DF'

    :raise ValueError: if the port is not a number in range.
    """
    parts = urlsplit(uri)
    host = _decode_idna(parts.hostname) if parts.hostname else ""
    netloc = _netloc(parts, host, lambda s: _unquote_keeping(s, _KEEP_USER))
    return urlunsplit(
        (
            parts.scheme,
            netloc,
            _unquote_keeping(parts.path, _KEEP_PATH),
            _unquote_keeping(parts.query, _KEEP_QUERY),
            _unquote_keeping(parts.fragment, _KEEP_FRAGMENT),
        )
    )


def iri_to_uri(iri: str) -> str:
    """Return *iri* as an ASCII URI: non-ASCII and unsafe characters quoted.

    The host is encoded with IDNA (Punycode); existing ``%XX`` escapes are
    kept::

        >>> iri_to_uri("http://☃.net/påth?q=èry%DF")
        'http://xn--n3h.net/p%C3%A5th?q=%C3%A8ry%DF'

    :raise ValueError: if the host is not a valid IDNA name (a
        :exc:`UnicodeError`) or the port is not a number in range.
    """
    parts = urlsplit(iri)
    host = parts.hostname.encode("idna").decode("ascii") if parts.hostname else ""
    netloc = _netloc(parts, host, lambda s: _quote(s, _USER_SAFE))
    return urlunsplit(
        (
            parts.scheme,
            netloc,
            _quote(parts.path, _PATH_SAFE),
            _quote(parts.query, _QUERY_SAFE),
            _quote(parts.fragment, _FRAGMENT_SAFE),
        )
    )


def _decode_field(text: str, errors: str) -> str:
    if "+" in text:
        text = text.replace("+", " ")
    if "%" in text:
        if text.isascii():
            return _unquote_ascii(text, errors)
        text = _unquote(text, "utf-8", errors)
    return text


def _unquote_ascii(text: str, errors: str) -> str:
    """Decode the ``%XX`` escapes of ASCII *text*, like ``unquote(text, "utf-8")``.

    PERF: urllib's unquote loops in Python over every escape (a form value
    has many); here ``%XX`` becomes ``\\xXX`` and the C codec behind bytes
    literals decodes them all. Backslashes are doubled first so that only
    the escapes made here are interpreted. A malformed escape (``%zz``, a
    trailing ``%``) makes the codec fail; urllib then keeps it literally.
    """
    # PERF: replace() alone (it returns the bytes themselves when there is
    # nothing to replace); ``b"x" in data`` costs more on 3.11, as it first
    # tries the operand as an int.
    data = text.encode("ascii").replace(b"\\", b"\\\\")
    try:
        raw = _escape_decode(data.replace(b"%", b"\\x"))[0]
    except ValueError:
        return _unquote(text, "utf-8", errors)
    return raw.decode("utf-8", errors)


_NOT_SEPARATORS = bytes(b for b in range(256) if b not in b"&=")


def _decode_all_fields(qs: bytes, errors: str) -> list[tuple[str, str]] | None:
    """Decode every field of ASCII *qs* at once, as the per-field loop would.

    PERF: when each field has exactly one ``=`` (the separators alone read
    ``=&=&...=``), both separators become NUL and one pass of the C codecs
    decodes every name and value; splitting on NUL separates them again.
    UTF-8 decoding errors cannot span a NUL (ASCII), so each part decodes as
    it would alone. Returns None, for the per-field loop, for any other
    shape: an empty field or one without ``=``, a malformed escape, or a
    NUL in the data (it would add a part).
    """
    separators = qs.translate(None, _NOT_SEPARATORS)
    fields = (len(separators) >> 1) + 1
    if separators != b"=&" * (fields - 1) + b"=":
        return None
    # NOTE: only the escapes made below may be interpreted by the codec,
    # hence the doubled backslashes (replace() alone: see _unquote_ascii).
    data = (
        qs.replace(b"&", b"\x00")
        .replace(b"=", b"\x00")
        .replace(b"+", b" ")
        .replace(b"\\", b"\\\\")
    )
    try:
        raw = _escape_decode(data.replace(b"%", b"\\x"))[0]
    except ValueError:
        return None
    parts = raw.decode("utf-8", errors).split("\x00")
    if len(parts) != 2 * fields:
        return None
    pairs = iter(parts)
    return list(zip(pairs, pairs, strict=False))  # the length is even


def parse_qsl(
    qs: bytes | str,
    *,
    keep_blank_values: bool = True,
    max_fields: int | None = None,
    errors: str = URL_QUOTE_ERRORS,
) -> list[tuple[str, str]]:
    """Return the ``(name, value)`` fields of a query string, in order.

    Decodes like a Flask request's ``args``: fields are separated by ``&``
    only (not ``;``), ``+`` is a space, ``%XX`` escapes are UTF-8, and bytes
    that are not UTF-8 stay percent-encoded (``"%FF"``); empty fields are
    skipped and a field without ``=`` has an empty value.

    :param qs: the raw query string (bytes from the server, or str).
    :param keep_blank_values: keep fields whose value is empty.
    :param max_fields: the most fields allowed; more raise :exc:`ValueError`
        (the request turns that into an HTTP error).
    :param errors: the codec error handler for undecodable bytes, such as
        ``"replace"``.
    :raise ValueError: if there are more than *max_fields* fields.

    .. note:: Flask compatibility: Werkzeug fails with
        :exc:`UnicodeDecodeError` on raw (not percent-encoded) non-UTF-8 bytes;
        erlen percent-encodes them like escaped ones.
    """
    if qs.__class__ is bytes:
        if (
            keep_blank_values
            # PERF: the joined decoding pays off with several escapes (a
            # form); a short query decodes faster field by field.
            and qs.count(b"%") > 2
            and (max_fields is None or qs.count(b"&") < max_fields)
            and qs.isascii()
        ):
            decoded = _decode_all_fields(qs, errors)
            if decoded is not None:
                return decoded
        qs = qs.decode("utf-8", errors)
    elif not isinstance(qs, str):
        qs = bytes(qs).decode("utf-8", errors)
    if not qs:
        return []
    # PERF: the count of "&" bounds the number of fields, so the per-field
    # limit check is only needed when that bound is over the limit.
    limit = max_fields if max_fields is not None and qs.count("&") >= max_fields else -1
    if limit < 0 and keep_blank_values and "%" not in qs and "+" not in qs:
        # PERF: nothing to decode (the usual short query): split only.
        fast: list[tuple[str, str]] = []
        for field in qs.split("&"):
            if field:
                name, _, value = field.partition("=")
                fast.append((name, value))
        return fast
    out: list[tuple[str, str]] = []
    for field in qs.split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        if not value and not keep_blank_values:
            continue
        if limit >= 0 and len(out) >= limit:
            raise ValueError(
                f"The query string has more than {limit} fields, the most"
                " allowed. Send fewer parameters or raise the limit."
            )
        out.append((_decode_field(name, errors), _decode_field(value, errors)))
    return out


def _iter_query_items(
    query: Mapping[str, t.Any] | Iterable[tuple[str, t.Any]],
) -> Iterable[tuple[t.Any, t.Any]]:
    if isinstance(query, Mapping):
        # NOTE: duck-typed MultiDict support (urls must not import
        # datastructures): it yields every value with items(multi=True).
        if callable(getattr(type(query), "getlist", None)):
            yield from query.items(multi=True)  # type: ignore[call-arg]
            return
        for key, value in query.items():
            if isinstance(value, (list, tuple, set)):
                for item in value:
                    yield key, item
            else:
                yield key, value
    else:
        yield from query


def _encode_part(value: t.Any) -> str:
    if isinstance(value, bytes):
        return _quote_plus(value, _BUILD_QUERY_SAFE)
    return _quote_plus(str(value), _BUILD_QUERY_SAFE)


def encode_query(
    items: Mapping[str, t.Any] | Iterable[tuple[str, t.Any]],
    sort: bool = False,
    key: t.Callable[[tuple[str, t.Any]], t.Any] | None = None,
) -> str:
    """Return *items* as a query string (without ``?``), as ``url_for`` builds it.

    A mapping's list, tuple and set values (and every value of a
    :class:`~erlen.datastructures.MultiDict`) give one field each; ``None``
    values are left out; other values are converted with :func:`str`. Spaces
    become ``+``.

    :param items: a mapping or an iterable of ``(name, value)`` pairs.
    :param sort: sort the fields, by *key* if given.
    :param key: the sort key, called with each ``(name, value)`` pair.
    """
    pairs: Iterable[tuple[t.Any, t.Any]] = (
        p for p in _iter_query_items(items) if p[1] is not None
    )
    if sort:
        pairs = sorted(pairs, key=key)
    return "&".join(f"{_encode_part(k)}={_encode_part(v)}" for k, v in pairs)
