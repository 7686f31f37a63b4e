"""The sans-IO Response: status, headers and body, with no server protocol attached."""

from __future__ import annotations

import json
import re
import typing as t
from collections.abc import Mapping
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from enum import Enum
from urllib.parse import urljoin

from .._cache import cache_put
from .._cookies import dump_cookie
from ..datastructures import CallbackDict
from ..datastructures import ContentRange
from ..datastructures import ContentSecurityPolicy
from ..datastructures import Headers
from ..datastructures import HeaderSet
from ..datastructures import ResponseCacheControl
from ..datastructures import WWWAuthenticate
from ..exceptions import RequestedRangeNotSatisfiable
from ..http import dump_age
from ..http import dump_header
from ..http import dump_options_header
from ..http import generate_etag
from ..http import http_date
from ..http import HTTP_STATUS_CODES
from ..http import is_resource_modified
from ..http import parse_age
from ..http import parse_cache_control_header
from ..http import parse_content_range_header
from ..http import parse_csp_header
from ..http import parse_date
from ..http import parse_etags
from ..http import parse_options_header
from ..http import parse_range_header
from ..http import parse_set_header
from ..http import quote_etag
from ..http import remove_entity_headers
from ..http import unquote_etag
from ..urls import iri_to_uri

if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable
    from collections.abc import Iterable
    from collections.abc import Iterator
    from http import HTTPStatus
    from types import TracebackType

_T = t.TypeVar("_T")

#: What ``Response(headers=...)`` accepts.
HeadersInit = (
    Headers
    | Mapping[str, "str | int | Iterable[str | int]"]
    | t.Iterable[tuple[str, "str | int"]]
)

# PERF: the status line of every registered code is built once, so setting an
# int status is one dict lookup.
_STATUS_LINES: dict[int, str] = {
    code: f"{code} {name.upper()}" for code, name in HTTP_STATUS_CODES.items()
}
# A status string is a three-digit code, then optionally one space and a reason
# phrase of visible characters, spaces and tabs (RFC 9112 section 4).
_STATUS_RE = re.compile(r"([1-9][0-9]{2})(?: ([^\x00-\x08\x0a-\x1f\x7f]*))?")

# Media types that get ``; charset=utf-8`` besides ``text/*`` and ``*+xml``.
_CHARSET_MIMETYPES = frozenset(
    {
        "application/ecmascript",
        "application/javascript",
        "application/sql",
        "application/xml",
        "application/xml-dtd",
        "application/xml-external-parsed-entity",
    }
)

_UNSET: t.Any = object()

# PERF: the Content-Length pairs of small bodies (see Response.__init__).
_LENGTH_PAIRS = [("Content-Length", str(n)) for n in range(1024)]

# Response.__init__'s per-class cache (see Response._defaults_cache).
_DefaultsCache: t.TypeAlias = tuple[
    t.Any, t.Any, t.Any, tuple[str, str] | None, tuple[str, int]
]
_NO_DEFAULTS: _DefaultsCache = (_UNSET, _UNSET, _UNSET, None, ("", 0))

# PERF: header names that lower to none of "content-length", "location" and
# "content-location", so that sending passes them over with one lookup (see
# Response._plain_wsgi_headers and erlen.wsgi.respond). A plain dict: ``in``
# on a dict subclass costs more. Bounded by _remember_plain_send_name, as
# names copied from requests could otherwise grow it.
_plain_send_names: dict[str, bool] = {}


def _remember_plain_send_name(name: str) -> None:
    if len(_plain_send_names) >= 1024:
        _plain_send_names.clear()
    _plain_send_names[name] = True


# PERF: ranges of seekable bodies are read in blocks of this size.
_RANGE_BLOCK_SIZE = 64 * 1024


class COEP(Enum):
    """Values of the ``Cross-Origin-Embedder-Policy`` header."""

    UNSAFE_NONE = "unsafe-none"
    REQUIRE_CORP = "require-corp"


class COOP(Enum):
    """Values of the ``Cross-Origin-Opener-Policy`` header."""

    UNSAFE_NONE = "unsafe-none"
    SAME_ORIGIN_ALLOW_POPUPS = "same-origin-allow-popups"
    SAME_ORIGIN = "same-origin"


def get_content_type(mimetype: str, charset: str = "utf-8") -> str:
    """Return ``mimetype`` with ``; charset=...`` added if it is a text type.

    :param mimetype: a media type without parameters, such as ``text/html``.
    :param charset: the charset to add.
    """
    if (
        mimetype.startswith("text/")
        or mimetype in _CHARSET_MIMETYPES
        or mimetype.endswith("+xml")
    ):
        return f"{mimetype}; charset={charset}"
    return mimetype


# PERF: the Content-Type header pairs for the mimetypes responses are created
# with (application/json for jsonify...), computed and validated once. Bounded.
_content_types: dict[str, tuple[str, str]] = {}
_CONTENT_TYPES_MAX = 256
# PERF: the bound lookup: a method call on a dict subclass is not specialized
# (the cache is cleared in place, never replaced).
_content_type_get = _content_types.get

_new_object = object.__new__


def _content_type_for(mimetype: str) -> tuple[str, str]:
    ct = get_content_type(mimetype)
    # APPSEC: validated like any header write; only a valid value is cached.
    Headers().set("Content-Type", ct)
    return cache_put(_content_types, _CONTENT_TYPES_MAX, mimetype, ("Content-Type", ct))


def _clean_status(value: t.Any) -> tuple[str, int]:
    """Return ``(status line, code)`` for an int, ``HTTPStatus`` or str status."""
    if isinstance(value, int):
        code = int(value)
        line = _STATUS_LINES.get(code)
        if line is not None:
            return line, code
        if isinstance(value, bool) or not 100 <= code <= 999:
            raise ValueError(
                f"Invalid status code {value!r}: expected an int from 100 to 999"
                " (or a string such as '404 Not Found')."
            )
        return f"{code} UNKNOWN", code
    if isinstance(value, str):
        value = value.strip()
        match = _STATUS_RE.fullmatch(value)
        if match is None:
            raise ValueError(
                f"Invalid status {value!r}: expected a three-digit code from 100,"
                " optionally followed by one space and a reason phrase without"
                " control characters, such as '404 Not Found'."
            )
        code = int(match[1])
        if match[2] is not None:
            return value, code
        return _STATUS_LINES.get(code, f"{code} UNKNOWN"), code
    raise TypeError(
        f"The status must be an int, str or HTTPStatus, but it was a"
        f" {type(value).__name__} ({value!r})."
    )


class _HeaderProperty(t.Generic[_T]):
    """Descriptor mapping one response header to a typed attribute."""

    def __init__(
        self,
        name: str,
        load: Callable[[str], _T | None] | None = None,
        dump: Callable[[_T], str | None] | None = None,
        default: _T | None = None,
        doc: str | None = None,
    ) -> None:
        self.name = name
        self.load = load
        self.dump = dump
        self.default = default
        self.__doc__ = doc

    @t.overload
    def __get__(self, instance: None, owner: type) -> _HeaderProperty[_T]: ...
    @t.overload
    def __get__(self, instance: Response, owner: type) -> _T | None: ...
    def __get__(
        self, instance: Response | None, owner: type
    ) -> _T | None | _HeaderProperty[_T]:
        if instance is None:
            return self
        value = instance.headers.get(self.name)
        if value is None:
            return self.default
        if self.load is None:
            return t.cast(_T, value)
        try:
            return self.load(value)
        except (ValueError, TypeError):
            # NOTE: a malformed header reads as unset rather than failing the
            # request, as Werkzeug's header properties do.
            return self.default

    def __set__(self, instance: Response, value: _T | None) -> None:
        if value is not None and self.dump is not None:
            value = self.dump(value)  # type: ignore[assignment]
        if value is None:
            instance.headers.remove(self.name)
        else:
            instance.headers[self.name] = value

    def __delete__(self, instance: Response) -> None:
        instance.headers.remove(self.name)

    def __repr__(self) -> str:
        return f"<header property {self.name}>"


class _HeaderSetProperty:
    """Descriptor exposing a comma-separated header as a live :class:`HeaderSet`."""

    def __init__(self, name: str, doc: str) -> None:
        self.name = name
        self.__doc__ = doc

    @t.overload
    def __get__(self, instance: None, owner: type) -> _HeaderSetProperty: ...
    @t.overload
    def __get__(self, instance: Response, owner: type) -> HeaderSet: ...
    def __get__(
        self, instance: Response | None, owner: type
    ) -> HeaderSet | _HeaderSetProperty:
        if instance is None:
            return self
        name = self.name
        headers = instance.headers

        def on_update(header_set: HeaderSet) -> None:
            if header_set:
                headers[name] = header_set.to_header()
            else:
                headers.remove(name)

        return parse_set_header(headers.get(name), on_update)

    def __set__(self, instance: Response, value: str | Iterable[str] | None) -> None:
        if not value:
            instance.headers.remove(self.name)
        elif isinstance(value, str):
            instance.headers[self.name] = value
        else:
            instance.headers[self.name] = dump_header(value)

    def __delete__(self, instance: Response) -> None:
        instance.headers.remove(self.name)


def _load_set(value: str) -> HeaderSet:
    return parse_set_header(value)


class _CSPProperty:
    """Descriptor for a ``Content-Security-Policy(-Report-Only)`` header."""

    def __init__(self, name: str, doc: str) -> None:
        self.name = name
        self.__doc__ = doc

    @t.overload
    def __get__(self, instance: None, owner: type) -> _CSPProperty: ...
    @t.overload
    def __get__(self, instance: Response, owner: type) -> ContentSecurityPolicy: ...
    def __get__(
        self, instance: Response | None, owner: type
    ) -> ContentSecurityPolicy | _CSPProperty:
        if instance is None:
            return self
        name = self.name
        headers = instance.headers

        def on_update(csp: ContentSecurityPolicy) -> None:
            if csp:
                headers[name] = csp.to_header()
            else:
                headers.remove(name)

        return parse_csp_header(headers.get(name), on_update)

    def __set__(
        self, instance: Response, value: ContentSecurityPolicy | str | None
    ) -> None:
        if not value:
            instance.headers.remove(self.name)
        elif isinstance(value, str):
            instance.headers[self.name] = value
        else:
            instance.headers[self.name] = value.to_header()

    def __delete__(self, instance: Response) -> None:
        instance.headers.remove(self.name)


class _RangeIterator:
    """Iterate over bytes ``[start, start + length)`` of a response body.

    A seekable body with ``read`` (an open file) is positioned with ``seek`` and
    read block by block, so the bytes before the range are never read.
    """

    __slots__ = ("body", "start", "length")

    def __init__(self, body: t.Any, start: int, length: int) -> None:
        self.body = body
        self.start = start
        self.length = length

    def __iter__(self) -> Iterator[bytes]:
        body = self.body
        remaining = self.length
        seekable = getattr(body, "seekable", None)
        if seekable is not None and hasattr(body, "read") and seekable():
            body.seek(self.start)
            while remaining > 0:
                block = body.read(min(remaining, _RANGE_BLOCK_SIZE))
                if not block:
                    return
                remaining -= len(block)
                yield block
            return
        skip = self.start
        for item in body:
            chunk = item.encode() if isinstance(item, str) else item
            if skip:
                if len(chunk) <= skip:
                    skip -= len(chunk)
                    continue
                chunk = chunk[skip:]
                skip = 0
            if len(chunk) >= remaining:
                yield chunk[:remaining]
                return
            if chunk:
                remaining -= len(chunk)
                yield chunk

    def close(self) -> None:
        """Close the wrapped body if it can be closed."""
        close = getattr(self.body, "close", None)
        if close is not None:
            close()


def _request_view(
    request_or_environ: t.Any,
) -> tuple[str, Callable[[str], str | None]]:
    """Return ``(method, header getter)`` for an environ dict or a request object."""
    if isinstance(request_or_environ, Mapping):
        environ = request_or_environ
        method = environ.get("REQUEST_METHOD")
        if not isinstance(method, str):
            raise ValueError(
                "The environ passed to make_conditional() has no REQUEST_METHOD;"
                " pass a WSGI-shaped dict or a request with .method and .headers."
            )

        def get(name: str) -> str | None:
            value = environ.get(f"HTTP_{name.upper().replace('-', '_')}")
            return value if value is None else str(value)

        return method, get
    method = getattr(request_or_environ, "method", None)
    headers = getattr(request_or_environ, "headers", None)
    if not isinstance(method, str) or headers is None:
        raise TypeError(
            "make_conditional() expected a WSGI environ dict or a request with"
            f" .method and .headers, but received a"
            f" {type(request_or_environ).__name__}."
        )
    return method, headers.get


def _is_unmodified(
    get: Callable[[str], str | None],
    etag: str | None,
    last_modified: str | None,
    ignore_if_range: bool,
) -> bool:
    """Return True if the request's validators say the client's copy is current."""
    return not is_resource_modified(
        http_range=get("Range"),
        http_if_range=get("If-Range"),
        http_if_modified_since=get("If-Modified-Since"),
        http_if_none_match=get("If-None-Match"),
        http_if_match=get("If-Match"),
        etag=etag,
        last_modified=last_modified,
        ignore_if_range=ignore_if_range,
    )


def _current_url(environ: Mapping[str, t.Any]) -> str:
    """Return the request URL without query string, built from a WSGI environ."""
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST")
    if not host:
        host = environ.get("SERVER_NAME", "localhost")
        port = str(environ.get("SERVER_PORT", ""))
        if port and port != ("443" if scheme == "https" else "80"):
            host = f"{host}:{port}"
    path = f"{environ.get('SCRIPT_NAME', '')}{environ.get('PATH_INFO', '')}"
    return iri_to_uri(f"{scheme}://{host}{path or '/'}")


class Response:
    """An HTTP response built from plain values: status, headers and a body.

    :param response: the body: ``str`` (encoded as UTF-8) or ``bytes`` for a
        fixed body, or any iterable of ``str``/``bytes`` to stream.
    :param status: an int, ``HTTPStatus`` or a string like ``"404 Not Found"``;
        :attr:`default_status` if None.
    :param headers: a :class:`~erlen.datastructures.Headers` (used as is), a
        mapping or an iterable of ``(name, value)`` pairs.
    :param mimetype: the media type; text types get ``; charset=utf-8``.
    :param content_type: the full ``Content-Type`` value; wins over ``mimetype``.
    :param direct_passthrough: hand the body to the server untouched (for file
        bodies); methods that need the whole body then raise ``RuntimeError``.

    .. note:: Flask compatibility: Werkzeug's ``Response`` is also a WSGI
       application and has ``from_app``. erlen's is protocol-free; the WSGI and
       ASGI drivers send it with :meth:`get_wsgi_response` or their own loop.
       A status must be a code from 100 to 999 (Werkzeug also accepts ``0``,
       a bare reason phrase or control characters), and assigning None to a
       header attribute removes the header (Werkzeug writes ``"None"``).
    """

    #: The status used when none is given.
    default_status = 200
    #: The media type used when neither a mimetype nor a content type is given.
    default_mimetype: str | None = "text/plain"
    #: Warn if a ``Set-Cookie`` header is longer than this; 0 disables the check.
    max_cookie_size = 4093
    #: Buffer a streamed body when a method needs all of it (``get_data``).
    implicit_sequence_conversion = True
    #: Make a relative ``Location`` absolute in :meth:`get_wsgi_headers`. Off,
    #: as in Flask: RFC 9110 allows relative redirects.
    autocorrect_location_header = False
    #: Set ``Content-Length`` when the body is known in full.
    automatically_set_content_length = True
    #: The module :meth:`get_json` decodes with.
    json_module: t.Any = json

    #: The response headers.
    headers: Headers
    #: The body: a list of ``bytes``/``str`` when fixed, any iterable when streamed.
    response: Iterable[t.Any]
    #: Whether the body goes to the server untouched (see the constructor).
    # PERF: class-level defaults for what most responses never set: the
    # constructor writes them on the instance only when they differ.
    direct_passthrough: bool = False
    _on_close: list[Callable[[], t.Any]] | tuple[()] = ()

    def __init__(
        self,
        response: Iterable[bytes]
        | Iterable[str]
        | bytes
        | bytearray
        | str
        | None = None,
        status: int | str | HTTPStatus | None = None,
        headers: HeadersInit | None = None,
        mimetype: str | None = None,
        content_type: str | None = None,
        direct_passthrough: bool = False,
    ) -> None:
        # PERF: a content type given as a printable str (no CR, LF or NUL:
        # nothing for the header check to refuse or convert) takes the fast
        # path too; any other goes through the header write that checks it.
        if headers is None and (
            content_type is None
            or (content_type.__class__ is str and content_type.isprintable())
        ):
            if response.__class__ is str or response.__class__ is bytes:
                cls = self.__class__
                cache = cls._defaults_cache
                # PERF: the common ``Response(body)`` (and jsonify's):
                # headers, status line and content type come from per-class
                # precomputed values, and the pairs are known valid, so the
                # write checks are skipped. The class defaults the values
                # derive from are compared by identity, so a default changed
                # on the class is never served stale; a class whose
                # constructor must take the general path has a cache that
                # never matches (see __init_subclass__).
                if (
                    cache[0] is not cls.default_mimetype
                    or cache[1] is not cls.default_status
                    or cache[2] is not cls.automatically_set_content_length
                ):
                    computed = cls._compute_defaults()
                    if computed is None:
                        self._init_general(
                            response,
                            status,
                            headers,
                            mimetype,
                            content_type,
                            direct_passthrough,
                        )
                        return
                    cache = computed
                if status is None:
                    self._status, self._status_code = cache[4]
                elif (
                    status.__class__ is int
                    and (line := _STATUS_LINES.get(status)) is not None
                ):
                    self._status = line
                    self._status_code = status
                else:
                    self._status, self._status_code = _clean_status(status)
                ct_pair: tuple[str, str] | None
                if content_type is not None:
                    # As the general path: the content type wins over a mimetype.
                    ct_pair = ("Content-Type", content_type)
                elif mimetype is None:
                    ct_pair = cache[3]
                else:
                    ct_pair = _content_type_get(mimetype)
                    if ct_pair is None:
                        ct_pair = _content_type_for(mimetype)
                if direct_passthrough:
                    self.direct_passthrough = True
                body = response.encode() if response.__class__ is str else response
                self.response = [body]
                if cache[2]:
                    # PERF: a small body's Content-Length pair from a
                    # table (no int-to-str conversion, no new tuple).
                    try:
                        length_pair = _LENGTH_PAIRS[len(body)]
                    except IndexError:
                        length_pair = ("Content-Length", str(len(body)))
                    if ct_pair is None:
                        pairs = [length_pair]
                    else:
                        pairs = [ct_pair, length_pair]
                else:
                    pairs = [] if ct_pair is None else [ct_pair]
                # PERF: Headers._from_received without the call.
                self.headers = headers = _new_object(Headers)
                headers._list = pairs
                return
        self._init_general(
            response, status, headers, mimetype, content_type, direct_passthrough
        )

    def _init_general(
        self,
        response: Iterable[bytes] | Iterable[str] | bytes | bytearray | str | None,
        status: int | str | HTTPStatus | None,
        headers: HeadersInit | None,
        mimetype: str | None,
        content_type: str | None,
        direct_passthrough: bool,
    ) -> None:
        if isinstance(headers, Headers):
            self.headers = headers
        elif not headers:
            self.headers = Headers()
        else:
            self.headers = Headers(headers)
        if content_type is None:
            if mimetype is None and (not headers or "Content-Type" not in self.headers):
                mimetype = self.default_mimetype
            if mimetype is not None:
                content_type = get_content_type(mimetype)
        if content_type is not None:
            self.headers["Content-Type"] = content_type
        self._status, self._status_code = _clean_status(
            self.default_status if status is None else status
        )
        self.direct_passthrough = direct_passthrough
        if response is None:
            self.response = []
        elif isinstance(response, (str, bytes, bytearray)):
            self.set_data(response)
        else:
            self.response = response

    # PERF: what __init__ derives from default_mimetype, default_status and
    # automatically_set_content_length, cached per class as ``(mimetype,
    # status, automatically_set_content_length, ("Content-Type", value) or
    # None, (line, code))``. The first three are compared by identity on
    # use, so changing a default on a class never serves a stale value. Every
    # class starts with _NO_DEFAULTS, which never matches: a class is never
    # served its base's cache, and a class whose constructor must take the
    # general path (see _plain_init) never gets one.
    _defaults_cache: t.ClassVar[_DefaultsCache] = _NO_DEFAULTS
    # False for a class whose constructor must call set_data and assign
    # direct_passthrough (see __init_subclass__).
    _plain_init: t.ClassVar[bool] = True
    # True while get_wsgi_response, get_app_iter and get_wsgi_headers are
    # Response's own and no call_on_close function is registered: a driver
    # may then compute their answer itself. PERF: one attribute for both (a
    # class flag, turned off on the instance by call_on_close).
    _plain_send: bool = True

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        # A subclass overriding set_data expects the constructor to call it;
        # one giving direct_passthrough another class default expects the
        # constructor to assign it.
        cls._plain_init = (
            cls.set_data is Response.set_data and cls.direct_passthrough is False
        )
        cls._defaults_cache = _NO_DEFAULTS
        cls._plain_send = (
            cls.get_wsgi_response is Response.get_wsgi_response
            and cls.get_app_iter is Response.get_app_iter
            and cls.get_wsgi_headers is Response.get_wsgi_headers
        )

    @classmethod
    def _compute_defaults(cls) -> _DefaultsCache | None:
        # The cache for __init__ (see _defaults_cache), or None if this
        # class's constructor takes the general path.
        if not cls._plain_init:
            return None
        mimetype = cls.default_mimetype
        status = cls.default_status
        ct_pair = None
        if mimetype is not None:
            ct = get_content_type(mimetype)
            # APPSEC: checked like any header write before it is cached.
            Headers().set("Content-Type", ct)
            ct_pair = ("Content-Type", ct)
        cache = (
            mimetype,
            status,
            cls.automatically_set_content_length,
            ct_pair,
            _clean_status(status),
        )
        cls._defaults_cache = cache
        return cache

    def __repr__(self) -> str:
        if self.is_sequence:
            body = f"{sum(map(len, self.iter_encoded()))} bytes"
        elif self.is_streamed:
            body = "streamed"
        else:
            body = "likely-streamed"
        return f"<{type(self).__name__} {body} [{self.status}]>"

    # -- status -------------------------------------------------------------

    @property
    def status(self) -> str:
        """The status line, such as ``"404 NOT FOUND"``; settable from int or str."""
        return self._status

    @status.setter
    def status(self, value: int | str | HTTPStatus) -> None:
        self._status, self._status_code = _clean_status(value)

    @property
    def status_code(self) -> int:
        """The status code as an int; settable from int, str or ``HTTPStatus``."""
        return self._status_code

    @status_code.setter
    def status_code(self, value: int | str | HTTPStatus) -> None:
        if value.__class__ is int:
            # PERF: a registered int code (make_response's (body, code)) is
            # one lookup, without the _clean_status call.
            line = _STATUS_LINES.get(value)
            if line is not None:
                self._status = line
                self._status_code = value
                return
        self._status, self._status_code = _clean_status(value)

    # -- body -----------------------------------------------------------------

    @t.overload
    def get_data(self, as_text: t.Literal[False] = False) -> bytes: ...
    @t.overload
    def get_data(self, as_text: t.Literal[True]) -> str: ...
    @t.overload
    def get_data(self, as_text: bool) -> bytes | str: ...
    def get_data(self, as_text: bool = False) -> bytes | str:
        """Return the whole body, buffering a streamed one first.

        :param as_text: decode the body as UTF-8.
        :raises RuntimeError: if the body is streamed and buffering is off.
        """
        self._ensure_sequence()
        data = b"".join(self.iter_encoded())
        return data.decode() if as_text else data

    def set_data(self, value: bytes | bytearray | str) -> None:
        """Replace the body with ``value`` (str is encoded as UTF-8) and set its length.

        :raises TypeError: if ``value`` is neither str nor bytes.
        """
        if isinstance(value, str):
            value = value.encode()
        elif not isinstance(value, (bytes, bytearray)):
            raise TypeError(
                f"set_data() expected str or bytes, but received a"
                f" {type(value).__name__}. Encode the value first, or pass an"
                " iterable as the response to stream it."
            )
        self.response = [value]
        if self.automatically_set_content_length:
            self.headers["Content-Length"] = str(len(value))

    data = property(get_data, set_data, doc="The body as bytes (see get_data).")

    @property
    def is_streamed(self) -> bool:
        """True if the body has no known length (e.g. a generator)."""
        try:
            len(self.response)  # type: ignore[arg-type]
        except (TypeError, AttributeError):
            return True
        return False

    @property
    def is_sequence(self) -> bool:
        """True if the body is a list or tuple, i.e. already buffered."""
        return isinstance(self.response, (list, tuple))

    def iter_encoded(self) -> Iterator[bytes]:
        """Iterate over the body with ``str`` items encoded as UTF-8."""
        return _iter_encoded(self.response)

    def _ensure_sequence(self, mutable: bool = False) -> None:
        """Buffer the body into a list, as methods needing all of it require."""
        if self.is_sequence:
            if mutable and not isinstance(self.response, list):
                self.response = list(self.response)
            return
        if self.direct_passthrough:
            raise RuntimeError(
                "The response body is in direct passthrough mode, so it cannot be"
                " buffered. Read it yourself or create the response without"
                " direct_passthrough=True."
            )
        if not self.implicit_sequence_conversion:
            raise RuntimeError(
                "This operation needs the whole response body, but implicit"
                " buffering is disabled (implicit_sequence_conversion = False)."
                " Call make_sequence() first."
            )
        self.make_sequence()

    def make_sequence(self) -> None:
        """Buffer a streamed body into a list of bytes (closing it later)."""
        if not self.is_sequence:
            close = getattr(self.response, "close", None)
            self.response = list(self.iter_encoded())
            if close is not None:
                self.call_on_close(close)

    def calculate_content_length(self) -> int | None:
        """Return the body's length, or None if it cannot be buffered."""
        try:
            self._ensure_sequence()
        except RuntimeError:
            return None
        return sum(len(chunk) for chunk in self.iter_encoded())

    def freeze(self) -> None:
        """Buffer the body and set ``Content-Length`` and an ``ETag``."""
        self.response = list(self.iter_encoded())
        self.headers["Content-Length"] = str(sum(map(len, self.response)))
        self.add_etag()

    def call_on_close(self, func: Callable[[], t.Any]) -> Callable[[], t.Any]:
        """Register ``func`` to run in :meth:`close`; returns it (a decorator)."""
        on_close = self._on_close
        if isinstance(on_close, list):
            on_close.append(func)
        else:
            self._on_close = [func]
            self._plain_send = False
        return func

    def close(self) -> None:
        """Close the body if it can be closed, then run the close hooks."""
        close = getattr(self.response, "close", None)
        if close is not None:
            close()
        for func in self._on_close:
            func()

    def __enter__(self) -> t.Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def stream(self) -> ResponseStream:
        """A write-only file-like object appending to the body."""
        stream = self.__dict__.get("_stream")
        if stream is None:
            stream = self.__dict__["_stream"] = ResponseStream(self)
        return t.cast(ResponseStream, stream)

    # -- JSON (for tests) ---------------------------------------------------

    @property
    def is_json(self) -> bool:
        """True if the mimetype is ``application/json`` or ``application/*+json``."""
        mt = self.mimetype
        return mt is not None and (
            mt == "application/json"
            or (mt.startswith("application/") and mt.endswith("+json"))
        )

    @property
    def json(self) -> t.Any | None:
        """The body parsed as JSON if the mimetype is JSON, else None."""
        return self.get_json()

    def get_json(self, force: bool = False, silent: bool = False) -> t.Any | None:
        """Return the body parsed as JSON (not cached); meant for tests.

        :param force: parse even if the mimetype is not JSON.
        :param silent: return None instead of raising on invalid JSON.
        """
        if not (force or self.is_json):
            return None
        try:
            return self.json_module.loads(self.get_data())
        except ValueError:
            if not silent:
                raise
            return None

    # -- cookies --------------------------------------------------------------

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: timedelta | int | None = None,
        expires: str | datetime | int | float | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = None,
        partitioned: bool = False,
    ) -> None:
        """Add a ``Set-Cookie`` header; warns if longer than :attr:`max_cookie_size`.

        :param key: the cookie name.
        :param value: the cookie value.
        :param max_age: lifetime in seconds (or a timedelta); None for a session
            cookie.
        :param expires: expiry as a datetime or a Unix timestamp.
        :param path: the path the cookie is sent for.
        :param domain: the domain the cookie is sent to (and its subdomains).
        :param secure: send only over HTTPS.
        :param httponly: hide the cookie from JavaScript.
        :param samesite: ``"Strict"``, ``"Lax"`` or ``"None"``.
        :param partitioned: partition the cookie per top-level site (implies
            ``secure``).
        """
        # PERF: positional arguments (cheaper to bind than keywords), in
        # dump_cookie's order; sync_expires is True.
        value = dump_cookie(
            key,
            value,
            max_age,
            expires,
            path,
            domain,
            secure,
            httponly,
            True,
            self.max_cookie_size,
            samesite,
            partitioned,
        )
        headers = self.headers
        if headers.__class__ is Headers:
            # PERF: Headers.add() without its checks: the name is a valid
            # constant and dump_cookie() never returns CR, LF or NUL.
            headers._list.append(("Set-Cookie", value))
        else:
            headers.add("Set-Cookie", value)

    def delete_cookie(
        self,
        key: str,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = None,
        partitioned: bool = False,
    ) -> None:
        """Tell the client to drop a cookie (an expired, empty ``Set-Cookie``).

        ``path`` and ``domain`` must match those the cookie was set with.
        """
        self.set_cookie(
            key,
            expires=0,
            max_age=0,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
            partitioned=partitioned,
        )

    # -- header attributes ----------------------------------------------------

    @property
    def mimetype(self) -> str | None:
        """The media type of ``Content-Type``, without parameters."""
        ct = self.headers.get("Content-Type")
        if ct:
            return ct.partition(";")[0].strip()
        return None

    @mimetype.setter
    def mimetype(self, value: str) -> None:
        self.headers["Content-Type"] = get_content_type(value)

    @property
    def mimetype_params(self) -> dict[str, str]:
        """The ``Content-Type`` parameters; changing the dict rewrites the header."""

        def on_update(d: CallbackDict[str, str]) -> None:
            self.headers["Content-Type"] = dump_options_header(self.mimetype, d)

        params = parse_options_header(self.headers.get("Content-Type", ""))[1]
        return CallbackDict(params, on_update)

    location = _HeaderProperty[str](
        "Location", doc="Where a redirect or a created resource points."
    )
    age = _HeaderProperty[timedelta](
        "Age",
        parse_age,
        dump_age,
        doc="How long ago the response was generated (``Age``), as a timedelta.",
    )
    content_type = _HeaderProperty[str](
        "Content-Type", doc="The full media type of the body, with parameters."
    )
    content_length = _HeaderProperty[int](
        "Content-Length", int, str, doc="The body's length in bytes."
    )
    content_location = _HeaderProperty[str](
        "Content-Location", doc="The URL the body can also be found at."
    )
    content_encoding = _HeaderProperty[str](
        "Content-Encoding", doc="The codings applied to the body, such as gzip."
    )
    content_md5 = _HeaderProperty[str](
        "Content-MD5", doc="An MD5 digest of the body (RFC 1864, obsolete)."
    )
    date = _HeaderProperty[datetime](
        "Date", parse_date, http_date, doc="When the response was made (aware UTC)."
    )
    expires = _HeaderProperty[datetime](
        "Expires",
        parse_date,
        http_date,
        doc="When the response becomes stale (aware UTC).",
    )
    last_modified = _HeaderProperty[datetime](
        "Last-Modified",
        parse_date,
        http_date,
        doc="When the resource last changed (aware UTC).",
    )
    accept_ranges = _HeaderProperty[str](
        "Accept-Ranges", doc="The range unit accepted, usually bytes or none."
    )
    access_control_allow_headers = _HeaderProperty[HeaderSet](
        "Access-Control-Allow-Headers",
        _load_set,
        dump_header,
        doc="The headers a cross-origin request may send.",
    )
    access_control_allow_methods = _HeaderProperty[HeaderSet](
        "Access-Control-Allow-Methods",
        _load_set,
        dump_header,
        doc="The methods a cross-origin request may use.",
    )
    access_control_allow_origin = _HeaderProperty[str](
        "Access-Control-Allow-Origin",
        doc="The origin allowed to read the response, or ``*``.",
    )
    access_control_expose_headers = _HeaderProperty[HeaderSet](
        "Access-Control-Expose-Headers",
        _load_set,
        dump_header,
        doc="The response headers scripts on another origin may read.",
    )
    access_control_max_age = _HeaderProperty[int](
        "Access-Control-Max-Age",
        int,
        str,
        doc="How many seconds a preflight result may be cached.",
    )
    cross_origin_opener_policy = _HeaderProperty[COOP](
        "Cross-Origin-Opener-Policy",
        COOP,
        lambda value: value.value,
        default=COOP.UNSAFE_NONE,
        doc="Browsing-context isolation from cross-origin windows (a COOP).",
    )
    cross_origin_embedder_policy = _HeaderProperty[COEP](
        "Cross-Origin-Embedder-Policy",
        COEP,
        lambda value: value.value,
        default=COEP.UNSAFE_NONE,
        doc="Whether cross-origin resources need explicit permission (a COEP).",
    )

    vary = _HeaderSetProperty(
        "Vary", doc="The request headers that select this representation."
    )
    content_language = _HeaderSetProperty(
        "Content-Language", doc="The languages of the intended audience."
    )
    allow = _HeaderSetProperty(
        "Allow", doc="The methods the resource supports (required on a 405)."
    )
    content_security_policy = _CSPProperty(
        "Content-Security-Policy",
        doc="The ``Content-Security-Policy`` header as a live object.",
    )
    content_security_policy_report_only = _CSPProperty(
        "Content-Security-Policy-Report-Only",
        doc="The report-only ``Content-Security-Policy`` header as a live object.",
    )

    @property
    def retry_after(self) -> datetime | None:
        """When to retry (``Retry-After``), as an aware UTC datetime.

        A number of seconds is turned into a moment from now. Set it from an int
        (seconds), a datetime or a string.
        """
        value = self.headers.get("Retry-After")
        if value is None:
            return None
        if value.isdigit() and value.isascii():
            return datetime.now(UTC) + timedelta(seconds=int(value))
        return parse_date(value)

    @retry_after.setter
    def retry_after(self, value: datetime | int | str | None) -> None:
        if value is None:
            self.headers.remove("Retry-After")
        elif isinstance(value, datetime):
            self.headers["Retry-After"] = http_date(value)
        else:
            self.headers["Retry-After"] = str(value)

    @property
    def access_control_allow_credentials(self) -> bool:
        """Whether the browser may expose the response to credentialed requests."""
        return "Access-Control-Allow-Credentials" in self.headers

    @access_control_allow_credentials.setter
    def access_control_allow_credentials(self, value: bool | None) -> None:
        if value is True:
            self.headers["Access-Control-Allow-Credentials"] = "true"
        else:
            self.headers.remove("Access-Control-Allow-Credentials")

    @property
    def cache_control(self) -> ResponseCacheControl:
        """The ``Cache-Control`` header; changing the object rewrites the header."""

        def on_update(cache_control: t.Any) -> None:
            if cache_control:
                self.headers["Cache-Control"] = cache_control.to_header()
            else:
                self.headers.remove("Cache-Control")

        return parse_cache_control_header(
            self.headers.get("Cache-Control"), on_update, ResponseCacheControl
        )

    @property
    def content_range(self) -> ContentRange:
        """The ``Content-Range`` header as a live object (unset if absent)."""

        def on_update(rng: ContentRange) -> None:
            if rng:
                self.headers["Content-Range"] = rng.to_header()
            else:
                self.headers.remove("Content-Range")

        rv = parse_content_range_header(self.headers.get("Content-Range"), on_update)
        if rv is None:
            rv = ContentRange(None, None, None, on_update=on_update)
        return rv

    @content_range.setter
    def content_range(self, value: ContentRange | str | None) -> None:
        if not value:
            self.headers.remove("Content-Range")
        elif isinstance(value, str):
            self.headers["Content-Range"] = value
        else:
            self.headers["Content-Range"] = value.to_header()

    @property
    def www_authenticate(self) -> WWWAuthenticate:
        """The first ``WWW-Authenticate`` challenge; changes rewrite the header.

        Assign a :class:`~erlen.datastructures.WWWAuthenticate` or a list of them
        (one header each); assign None or ``del`` to remove the header.
        """
        value = WWWAuthenticate.from_header(self.headers.get("WWW-Authenticate"))
        if value is None:
            value = WWWAuthenticate("basic")
        self._watch_www_authenticate(value)
        return value

    @www_authenticate.setter
    def www_authenticate(
        self, value: WWWAuthenticate | list[WWWAuthenticate] | None
    ) -> None:
        if not value:
            self.headers.remove("WWW-Authenticate")
        elif isinstance(value, list):
            self.headers.set("WWW-Authenticate", value[0].to_header())
            for item in value[1:]:
                self.headers.add("WWW-Authenticate", item.to_header())
        else:
            self.headers.set("WWW-Authenticate", value.to_header())
            self._watch_www_authenticate(value)

    @www_authenticate.deleter
    def www_authenticate(self) -> None:
        self.headers.remove("WWW-Authenticate")

    def _watch_www_authenticate(self, value: WWWAuthenticate) -> None:
        def on_update(changed: WWWAuthenticate) -> None:
            self.headers.set("WWW-Authenticate", changed.to_header())

        # NOTE: WWWAuthenticate reserves ``_on_update`` for its owner's callback.
        object.__setattr__(value, "_on_update", on_update)

    # -- ETags and conditional requests ------------------------------------

    def set_etag(self, etag: str, weak: bool = False) -> None:
        """Set the ``ETag`` header, quoting ``etag``."""
        self.headers["ETag"] = quote_etag(etag, weak)

    def get_etag(self) -> tuple[str, bool] | tuple[None, None]:
        """Return ``(etag, is_weak)``, or ``(None, None)`` if there is no ETag."""
        return unquote_etag(self.headers.get("ETag"))

    def add_etag(self, overwrite: bool = False, weak: bool = False) -> None:
        """Set an ETag computed from the body (SHA-1) unless one is already set."""
        if overwrite or "ETag" not in self.headers:
            self.set_etag(generate_etag(self.get_data()), weak)

    def make_conditional(
        self,
        request_or_environ: t.Any,
        accept_ranges: bool | str = False,
        complete_length: int | None = None,
    ) -> t.Self:
        """Answer the request's conditional and range headers; return self.

        Only GET and HEAD requests are affected. A ``Date`` header is added. A
        satisfiable ``Range`` (with ``accept_ranges`` and ``complete_length``)
        gives 206 with the slice of the body; otherwise matching validators
        (``If-None-Match``, ``If-Modified-Since``) give 304 and a failing
        ``If-Match`` gives 412. The body is left in place: the driver sends none
        for 304.

        :param request_or_environ: a WSGI-shaped dict or a request object with
            ``.method`` and ``.headers``.
        :param accept_ranges: True (``bytes``) or a unit to send in
            ``Accept-Ranges`` and allow range requests; False to ignore ``Range``.
        :param complete_length: the full body length; needed for a 206.
        :raises RequestedRangeNotSatisfiable: if the ``Range`` is malformed or
            outside the body.
        """
        method, get = _request_view(request_or_environ)
        if method not in ("GET", "HEAD"):
            return self
        headers = self.headers
        if "Date" not in headers:
            headers["Date"] = http_date()
        is206 = self._process_range_request(get, complete_length, accept_ranges)
        if not is206 and _is_unmodified(
            get, headers.get("ETag"), headers.get("Last-Modified"), True
        ):
            if parse_etags(get("If-Match")):
                self.status_code = 412
            else:
                self.status_code = 304
        if self.automatically_set_content_length and "Content-Length" not in headers:
            length = self.calculate_content_length()
            if length is not None:
                headers["Content-Length"] = str(length)
        return self

    def _process_range_request(
        self,
        get: Callable[[str], str | None],
        complete_length: int | None,
        accept_ranges: bool | str,
    ) -> bool:
        """Turn the response into a 206 if the request's range applies."""
        if not accept_ranges:
            return False
        self.accept_ranges = "bytes" if accept_ranges is True else accept_ranges
        if not complete_length:
            return False
        range_header = get("Range")
        if range_header is None:
            return False
        if get("If-Range") is not None and not _is_unmodified(
            get, self.headers.get("ETag"), self.headers.get("Last-Modified"), False
        ):
            return False
        parsed = parse_range_header(range_header)
        span = None if parsed is None else parsed.range_for_length(complete_length)
        if parsed is None or span is None:
            raise RequestedRangeNotSatisfiable(complete_length)
        start, stop = span
        self.headers["Content-Length"] = str(stop - start)
        self.headers["Content-Range"] = (
            f"{parsed.units} {start}-{stop - 1}/{complete_length}"
        )
        self.status_code = 206
        self.response = _RangeIterator(self.response, start, stop - start)
        return True

    # -- handing over to a server ------------------------------------------

    @classmethod
    def force_type(cls, response: Response, environ: t.Any | None = None) -> t.Self:
        """Return ``response`` converted in place to this class.

        :raises TypeError: if ``response`` is not a Response (converting a WSGI
            application is the WSGI driver's job).
        """
        if not isinstance(response, Response):
            raise TypeError(
                f"force_type() expected a Response instance, but received a"
                f" {type(response).__name__}. To run a WSGI application and"
                " collect its response, use the WSGI driver (erlen.wsgi)."
            )
        response.__class__ = cls
        return response  # type: ignore[return-value]

    def get_wsgi_headers(self, environ: t.Any) -> Headers:
        """Return a copy of the headers adjusted for sending.

        ``Location``/``Content-Location`` IRIs become URIs (``Location`` is made
        absolute only if :attr:`autocorrect_location_header` is set); 1xx and 204
        lose ``Content-Length``; 304 loses the body headers; a buffered body gets
        ``Content-Length`` if missing.

        :param environ: the WSGI environ (used only to make ``Location``
            absolute).
        """
        status = self._status_code
        if 200 <= status and status != 204 and status != 304:
            pairs = self._plain_wsgi_headers()
            if pairs is not None:
                return Headers._from_received(pairs)
        headers = Headers(self.headers)
        location = headers.get("Location")
        if location is not None:
            location = iri_to_uri(location)
            if self.autocorrect_location_header:
                location = urljoin(_current_url(environ), location)
            headers["Location"] = location
        content_location = headers.get("Content-Location")
        if content_location is not None:
            headers["Content-Location"] = iri_to_uri(content_location)
        no_body = status < 200 or status == 204
        if no_body:
            headers.remove("Content-Length")
        elif status == 304:
            remove_entity_headers(headers)
        if (
            self.automatically_set_content_length
            and not no_body
            and status != 304
            and self.is_sequence
            and "Content-Length" not in self.headers
        ):
            length = sum(len(chunk) for chunk in self.iter_encoded())
            headers["Content-Length"] = str(length)
        return headers

    def _plain_wsgi_headers(self) -> list[tuple[str, str]] | None:
        """Return get_wsgi_headers()'s pairs for a 2xx-5xx (not 204/304) status.

        A new list the caller may keep. None if a ``Location`` or
        ``Content-Location`` needs the full path.
        """
        # PERF: one pass over the names and one list copy; the pairs were
        # validated when added. A name already known to be none of
        # Content-Length, Location and Content-Location (in any case) is
        # passed over with one lookup; others are lowercased once.
        pairs = self.headers._list
        has_length = False
        for name, _ in pairs:
            if name == "Content-Length":
                has_length = True
                continue
            if name in _plain_send_names:
                continue
            lname = name.lower()
            if lname == "content-length":
                has_length = True
            elif lname == "location" or lname == "content-location":
                return None
            else:
                _remember_plain_send_name(name)
        pairs = pairs.copy()
        if not has_length and self.automatically_set_content_length:
            body = self.response
            if body.__class__ is list and len(body) == 1 and body[0].__class__ is bytes:
                pairs.append(("Content-Length", str(len(body[0]))))
            elif self.is_sequence:
                length = sum(len(chunk) for chunk in self.iter_encoded())
                pairs.append(("Content-Length", str(length)))
        return pairs

    def get_app_iter(self, environ: t.Any) -> Iterable[bytes]:
        """Return the body to send: empty for HEAD and for 1xx, 204 and 304.

        :param environ: the WSGI environ (its ``REQUEST_METHOD`` is read).
        """
        status = self._status_code
        if environ["REQUEST_METHOD"] == "HEAD" or status < 200 or status in (204, 304):
            return ()
        if self.direct_passthrough:
            return t.cast("Iterable[bytes]", self.response)
        body = self.response
        # PERF: a body that is one bytes object is sent as it is, without a
        # generator to encode it.
        if body.__class__ is list and len(body) == 1:
            chunk = body[0]
            if chunk.__class__ is bytes:
                return (chunk,)
        return self.iter_encoded()

    def get_wsgi_response(
        self, environ: t.Any
    ) -> tuple[Iterable[bytes], str, list[tuple[str, str]]]:
        """Return ``(body iterable, status line, header list)`` for a WSGI server."""
        headers = self.get_wsgi_headers(environ)
        return self.get_app_iter(environ), self._status, headers.to_wsgi_list()


def _iter_encoded(iterable: Iterable[bytes] | Iterable[str]) -> Iterator[bytes]:
    for item in iterable:
        if isinstance(item, str):
            yield item.encode()
        elif isinstance(item, (bytes, bytearray, memoryview)):
            yield item
        else:
            raise TypeError(
                f"The response body yielded a {type(item).__name__} ({item!r});"
                " it may only yield str or bytes."
            )


class ResponseStream:
    """A write-only file-like view of a :class:`Response` body (``response.stream``)."""

    mode = "wb+"
    encoding = "utf-8"

    def __init__(self, response: Response) -> None:
        self.response = response
        self.closed = False

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed response stream.")

    def write(self, value: bytes | str) -> int:
        """Append ``value`` to the body and return its length."""
        self._check_open()
        self.response._ensure_sequence(mutable=True)
        t.cast("list[bytes | str]", self.response.response).append(value)
        self.response.headers.remove("Content-Length")
        return len(value)

    def writelines(self, seq: Iterable[bytes | str]) -> None:
        """Append every item of ``seq``."""
        for item in seq:
            self.write(item)

    def close(self) -> None:
        """Mark the stream closed (the response is not affected)."""
        self.closed = True

    def flush(self) -> None:
        """Do nothing (the body is in memory), but fail if closed."""
        self._check_open()

    def isatty(self) -> bool:
        """Return False; fail if closed."""
        self._check_open()
        return False

    def tell(self) -> int:
        """Return the body's length so far."""
        self.response._ensure_sequence()
        return sum(len(chunk) for chunk in self.response.iter_encoded())
