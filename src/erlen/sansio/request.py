"""The sans-IO Request: an HTTP request built from plain values, parsed lazily."""

from __future__ import annotations

import json
import re
import typing as t
from io import BytesIO
from urllib.parse import quote

from .._cache import cache_put
from .._cookies import cookie_pairs
from ..datastructures import Accept
from ..datastructures import Authorization
from ..datastructures import CharsetAccept
from ..datastructures import CombinedMultiDict
from ..datastructures import EnvironHeaders
from ..datastructures import group_pairs
from ..datastructures import ImmutableList
from ..datastructures import ImmutableMultiDict
from ..datastructures import iter_multi_items
from ..datastructures import LanguageAccept
from ..datastructures import MIMEAccept
from ..datastructures import MultiDict
from ..datastructures import RequestCacheControl
from ..exceptions import BadRequest
from ..exceptions import SecurityError
from ..exceptions import UnsupportedMediaType
from ..http import parse_accept_header
from ..http import parse_cache_control_header
from ..http import parse_cookie
from ..http import parse_date
from ..http import parse_etags
from ..http import parse_if_range_header
from ..http import parse_list_header
from ..http import parse_options_header
from ..http import parse_range_header
from ..http import parse_set_header
from ..urls import uri_to_iri
from ._json import check_json_depth
from ._lazy import lazy_property
from ._stream import LimitedStream
from ._stream import too_large
from .formparser import _READ_SIZE
from .formparser import default_stream_factory
from .formparser import FormDataParser
from .formparser import parse_urlencoded
from .user_agent import UserAgent

if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Collection
    from datetime import datetime
    from types import TracebackType

    from ..datastructures import ETags
    from ..datastructures import FileStorage
    from ..datastructures import Headers
    from ..datastructures import HeaderSet
    from ..datastructures import IfRange
    from ..datastructures import Range

# A host is a name or IPv4 address, or a bracketed IPv6 address, with an
# optional port. Anything else (spaces, "/", "@", "_", control characters...)
# is not a host a URL can be built from.
_HOST_RE = re.compile(
    r"(?:[a-z0-9.-]+|\[[a-f0-9]*:[a-f0-9.:]+\])(?::([1-9][0-9]{0,4}))?",
    re.ASCII | re.IGNORECASE,
)
# Build a dict subclass's instance without its __init__ (request.cookies).
_new_dict = dict.__new__
_init_dict: t.Callable[[t.Any, t.Any], None] = dict.__init__
_PLAIN_INT_RE = re.compile(r"[ \t]*(-?[0-9]+)[ \t]*", re.ASCII)
# Characters left unquoted when rebuilding the URL: the WHATWG path-segment
# set plus "%" (already-quoted input stays as it is), and "?" in the query.
_PATH_SAFE = "!$&'()*+,/:;=@%"
_QUERY_SAFE = "!$&'()*+,/:;=?@%"


# PERF: the host is validated on every request, and a server sees few
# distinct Host values; a well-formed one is remembered (with its port, or
# None) so the regex runs once per value. Bounded like the header-name cache,
# so hostile Host headers cannot grow it without limit.
_valid_hosts: dict[str, str | None] = {}
_VALID_HOSTS_MAX = 256


def _host_port(host: str) -> str | None | t.Literal[False]:
    """Return the port of a well-formed *host* (None if absent), else False."""
    try:
        return _valid_hosts[host]
    except KeyError:
        pass
    match = _HOST_RE.fullmatch(host)
    if match is None:
        return False
    port = match.group(1)
    if port is not None and int(port) > 65535:
        return False
    return cache_put(_valid_hosts, _VALID_HOSTS_MAX, host, port)


def _host_is_trusted(host: str, trusted_hosts: Collection[str] | None) -> bool:
    port = _host_port(host)
    if port is False:
        return False
    if not trusted_hosts:
        return True
    if isinstance(trusted_hosts, str):
        trusted_hosts = [trusted_hosts]
    # NOTE: host names are case-insensitive (RFC 4343), so both sides are
    # lowercased; Werkzeug compares them case-sensitively.
    name = host[: len(host) - len(port) - 1].lower() if port else host.lower()
    for ref in trusted_hosts:
        suffix = ref.startswith(".")
        ref = ref[1:] if suffix else ref
        try:
            ref = ref.partition(":")[0].lower().encode("idna").decode("ascii")
        except UnicodeError:
            continue
        if name == ref or (suffix and name.endswith("." + ref)):
            return True
    return False


def _get_host(
    scheme: str,
    host_header: str | None,
    server: tuple[str, int | None] | None,
    trusted_hosts: Collection[str] | None,
) -> str:
    if host_header is not None:
        host = host_header
    elif server is not None and server[1] is not None:
        name = server[0]
        if ":" in name and not name.startswith("["):
            name = f"[{name}]"
        host = f"{name}:{server[1]}"
    else:
        # No Host header (HTTP/1.0) and no usable server address.
        return ""
    if scheme in ("http", "ws"):
        host = host.removesuffix(":80")
    elif scheme in ("https", "wss"):
        host = host.removesuffix(":443")
    if _host_is_trusted(host, trusted_hosts):
        return host
    if trusted_hosts:
        raise SecurityError(
            f"The host {host!r} is not in the trusted hosts. Add it to"
            " TRUSTED_HOSTS (request.trusted_hosts) if it should be served."
        )
    # APPSEC: a Host header with characters no host has (spaces, "/", "@"...)
    # must not reach URL building; it is treated as absent, like Werkzeug.
    return ""


def _current_url(
    scheme: str,
    host: str,
    root_path: str | None = None,
    path: str | None = None,
    query_string: bytes | None = None,
) -> str:
    url = f"{scheme}://{host}"
    if root_path is None:
        return uri_to_iri(url + "/")
    url = f"{url}{quote(root_path.rstrip('/'), safe=_PATH_SAFE)}/"
    if path is None:
        return uri_to_iri(url)
    url += quote(path.lstrip("/"), safe=_PATH_SAFE)
    if query_string:
        url = f"{url}?{quote(query_string, safe=_QUERY_SAFE)}"
    return uri_to_iri(url)


def _content_length(length: str | None, transfer_encoding: str | None) -> int | None:
    if length is None or (
        transfer_encoding is not None
        and "chunked" in parse_set_header(transfer_encoding)
    ):
        return None
    if length.isdigit() and length.isascii():
        # PERF: the usual value, plain ASCII digits: no regex match (which
        # costs several times more); int() reads it as the pattern would.
        return int(length)
    match = _PLAIN_INT_RE.fullmatch(length)
    # NOTE: a value that is not a plain integer, or is negative, counts as 0
    # (no body is read), as in Werkzeug.
    return 0 if match is None else max(0, int(match.group(1)))


def _int_or_none(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


_URLENCODED = "application/x-www-form-urlencoded"
# What the urlencoded fast path of Request._load_form_data goes around: a
# subclass that overrides one of them takes the general path.
_FORM_HOOKS = (
    "want_form_data_parsed",
    "make_form_data_parser",
    "_load_form_data",
    "_parsed_content_type",
    "mimetype",
    "stream",
)


class _FilesAttribute:
    """``Request.files``: parsed on first read, like the other lazy attributes.

    PERF: a data descriptor, so that every way of storing the files (parsing,
    or assigning ``request.files``) also sets ``_erlen_holds_files``; close()
    then reads that flag instead of ``__dict__``, which would build the
    instance dict of a request that never needed one (most never touch a
    lazy attribute). Reads of ``files`` are rare; they pay one call.
    """

    @t.overload
    def __get__(self, instance: None, owner: type | None = None) -> t.Self: ...
    @t.overload
    def __get__(
        self, instance: Request, owner: type | None = None
    ) -> MultiDict[str, FileStorage]: ...
    def __get__(self, instance: Request | None, owner: type | None = None) -> t.Any:
        if instance is None:
            return self
        d = instance.__dict__
        if "files" not in d:
            instance._load_form_data()
            if "files" not in d:
                # The urlencoded fast path of _load_form_data stores no files.
                instance.files = instance.parameter_storage_class()
        return d["files"]

    def __set__(self, instance: Request, value: MultiDict[str, FileStorage]) -> None:
        instance.__dict__["files"] = value
        instance._erlen_holds_files = True

    def __delete__(self, instance: Request) -> None:
        del instance.__dict__["files"]


class Request:
    """An HTTP request, built from plain values and parsed on first use.

    Nothing is parsed in ``__init__``: headers, cookies, query arguments, the
    form and the JSON body are each computed on first access and cached on
    the instance. The body is read at most once.

    :param method: The request method, such as ``GET``; stored uppercased.
    :param scheme: The URL scheme, such as ``https`` or ``wss``.
    :param server: The server address ``(host, port)``, ``(path, None)`` for
        a Unix socket, or ``None``.
    :param root_path: The prefix the application is mounted under.
    :param path: The path after ``root_path``, used for routing.
    :param query_string: The raw bytes after the ``?``.
    :param headers: The request headers (:class:`~erlen.datastructures.Headers`
        or :class:`~erlen.datastructures.EnvironHeaders`).
    :param remote_addr: The client address, if known.
    :param stream: The binary body stream, or ``None`` for no body.
    :param input_terminated: Whether the server ends ``stream`` at the end of
        the body, so that a body without ``Content-Length`` (chunked) can be
        read to its end. Otherwise such a body reads as empty.
    """

    #: The class of :attr:`args` and :attr:`form`.
    parameter_storage_class: type[MultiDict[str, t.Any]] = ImmutableMultiDict
    #: The class of dict-like values such as :attr:`cookies`.
    dict_storage_class: type[MultiDict[str, t.Any]] = ImmutableMultiDict
    #: The class of list values such as :attr:`access_route`.
    list_storage_class: type[list[t.Any]] = ImmutableList
    #: The class of :attr:`user_agent`; a subclass may parse the string.
    user_agent_class: type[UserAgent] = UserAgent
    #: The class that parses form bodies; see :meth:`make_form_data_parser`.
    form_data_parser_class: type[FormDataParser] = FormDataParser
    #: Host names accepted in :attr:`host`; ``None`` trusts every host. A name
    #: starting with ``.`` also accepts its subdomains.
    trusted_hosts: list[str] | None = None
    #: If true, reading the body raises :exc:`RuntimeError`, so that a
    #: middleware cannot consume it by accident.
    shallow: bool = False
    #: Largest body, in bytes (``MAX_CONTENT_LENGTH``); 413 beyond it.
    max_content_length: int | None = None
    #: Largest multipart text part or urlencoded body, in bytes
    #: (``MAX_FORM_MEMORY_SIZE``); 413 beyond it.
    max_form_memory_size: int | None = 500_000
    #: Largest number of multipart parts or urlencoded fields
    #: (``MAX_FORM_PARTS``); 413 beyond it.
    max_form_parts: int | None = 1000
    #: Deepest nesting of JSON arrays and objects (``MAX_JSON_DEPTH``); 400
    #: beyond it. ``None`` disables the check.
    max_json_depth: int | None = 256
    #: The module (or object) with a ``loads`` function used by
    #: :meth:`get_json`; the standard :mod:`json` by default.
    json_module: t.Any = json

    #: Whether ``files`` was stored (parsed or assigned); see close().
    _erlen_holds_files = False
    # The body length once the urlencoded fast path of _load_form_data has
    # read the body without making ``stream``; see stream.
    _erlen_form_read: int | None = None
    # True while none of the hooks that the urlencoded fast path of
    # _load_form_data goes around is overridden (see _FORM_HOOKS).
    _erlen_plain_form: t.ClassVar[bool] = True

    # Cached get_json results for (silent=False, silent=True); Ellipsis = unset.
    _cached_json: tuple[t.Any, t.Any] = (Ellipsis, Ellipsis)
    _cached_data: bytes | None = None

    def __init__(
        self,
        method: str,
        scheme: str,
        server: tuple[str, int | None] | None,
        root_path: str,
        path: str,
        query_string: bytes,
        headers: Headers,
        remote_addr: str | None,
        *,
        stream: t.IO[bytes] | None = None,
        input_terminated: bool = False,
    ) -> None:
        #: The request method, uppercased.
        self.method = method.upper()
        #: The URL scheme, such as ``https``.
        self.scheme = scheme
        #: The server address ``(host, port)``, or ``None``.
        self.server = server
        #: The mount prefix, without a trailing slash.
        self.root_path = root_path.rstrip("/")
        #: The path after :attr:`root_path`, always starting with ``/``.
        self.path = "/" + path.lstrip("/")
        #: The raw query string bytes.
        self.query_string = query_string
        #: The request headers.
        self.headers = headers
        #: The client address, if known.
        self.remote_addr = remote_addr
        #: Whether the server terminates the body stream itself.
        self.input_terminated = input_terminated
        self._raw_stream = stream

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._erlen_plain_form = all(
            getattr(cls, name) is getattr(Request, name) for name in _FORM_HOOKS
        )

    def __repr__(self) -> str:
        try:
            url = self.url
        except Exception as e:
            url = f"(invalid URL: {e})"
        return f"<{type(self).__name__} {url!r} [{self.method}]>"

    # URL -------------------------------------------------------------------

    @property
    def script_root(self) -> str:
        """Alias of :attr:`root_path`."""
        return self.root_path

    @lazy_property
    def full_path(self) -> str:
        """The path followed by ``?`` and the query string."""
        return f"{self.path}?{self.query_string.decode(errors='replace')}"

    @property
    def is_secure(self) -> bool:
        """Whether the scheme is ``https`` or ``wss``."""
        return self.scheme in ("https", "wss")

    @lazy_property
    def host(self) -> str:
        """The host (with the port if not the scheme's default) the request is for.

        Taken from the ``Host`` header, else from :attr:`server`. A value
        with characters no host name has gives the empty string.

        :raise SecurityError: If :attr:`trusted_hosts` is set and the host is
            not in it (400).
        """
        return _get_host(
            self.scheme, self.headers.get("Host"), self.server, self.trusted_hosts
        )

    @lazy_property
    def url(self) -> str:
        """The full URL: scheme, host, root path, path and query string."""
        return _current_url(
            self.scheme, self.host, self.root_path, self.path, self.query_string
        )

    @lazy_property
    def base_url(self) -> str:
        """The URL without the query string."""
        return _current_url(self.scheme, self.host, self.root_path, self.path)

    @lazy_property
    def root_url(self) -> str:
        """The scheme, host and root path, ending with ``/``."""
        return _current_url(self.scheme, self.host, self.root_path)

    @property
    def url_root(self) -> str:
        """Alias of :attr:`root_url`."""
        return self.root_url

    @lazy_property
    def host_url(self) -> str:
        """The scheme and host, ending with ``/``."""
        return _current_url(self.scheme, self.host)

    @lazy_property
    def args(self) -> MultiDict[str, str]:
        """The query string arguments; bytes that are not UTF-8 stay ``%XX``."""
        # PERF: the form's bulk decoder (the same answer as
        # ``cls(parse_qsl(query, keep_blank_values=True))``).
        return parse_urlencoded(self.query_string, None, self.parameter_storage_class)

    # Client ----------------------------------------------------------------

    @lazy_property
    def access_route(self) -> list[str]:
        """The ``X-Forwarded-For`` addresses, else :attr:`remote_addr`.

        The header is client-controlled: trust it only behind a proxy that sets
        it (see ProxyFix).
        """
        forwarded = self.headers.get("X-Forwarded-For")
        if forwarded is not None:
            return self.list_storage_class(parse_list_header(forwarded))
        if self.remote_addr is not None:
            return self.list_storage_class([self.remote_addr])
        return self.list_storage_class()

    @lazy_property
    def cookies(self) -> MultiDict[str, str]:
        """The cookies sent with the request."""
        headers = self.headers
        if headers.__class__ is EnvironHeaders:
            # PERF: a WSGI environ holds at most one Cookie header; read it
            # directly rather than through getlist and a join.
            header = headers.environ.get("HTTP_COOKIE") or ""
        else:
            header = ";".join(headers.getlist("Cookie"))
        cls = self.dict_storage_class
        if cls is ImmutableMultiDict:
            # PERF: fill the dict underneath with the parsed lists (its
            # internal form, see MultiDict) instead of MultiDict.__init__'s
            # per-pair loop; a header seen recently is not parsed again.
            rv: ImmutableMultiDict[str, str] = _new_dict(ImmutableMultiDict)
            _init_dict(rv, group_pairs(cookie_pairs(header)))
            return rv
        return parse_cookie(header, cls=cls)

    @lazy_property
    def user_agent(self) -> UserAgent:
        """The ``User-Agent`` header as a :attr:`user_agent_class` object."""
        return self.user_agent_class(self.headers.get("User-Agent", ""))

    @lazy_property
    def authorization(self) -> Authorization | None:
        """The parsed ``Authorization`` header, or ``None`` if absent."""
        return Authorization.from_header(self.headers.get("Authorization"))

    # Content headers -------------------------------------------------------

    @property
    def content_type(self) -> str | None:
        """The ``Content-Type`` header."""
        return self.headers.get("Content-Type")

    @lazy_property
    def content_length(self) -> int | None:
        """The ``Content-Length`` as an int; ``None`` if absent or chunked.

        A value that is not a plain non-negative integer gives 0.
        """
        return _content_length(
            self.headers.get("Content-Length"), self.headers.get("Transfer-Encoding")
        )

    @property
    def content_encoding(self) -> str | None:
        """The ``Content-Encoding`` header."""
        return self.headers.get("Content-Encoding")

    @property
    def content_md5(self) -> str | None:
        """The ``Content-MD5`` header."""
        return self.headers.get("Content-MD5")

    @property
    def referrer(self) -> str | None:
        """The ``Referer`` header."""
        return self.headers.get("Referer")

    @property
    def origin(self) -> str | None:
        """The ``Origin`` header."""
        return self.headers.get("Origin")

    @property
    def date(self) -> datetime | None:
        """The ``Date`` header as an aware UTC datetime, or ``None``."""
        return parse_date(self.headers.get("Date"))

    @property
    def max_forwards(self) -> int | None:
        """The ``Max-Forwards`` header as an int, or ``None``."""
        return _int_or_none(self.headers.get("Max-Forwards"))

    @lazy_property
    def _parsed_content_type(self) -> tuple[str, dict[str, str]]:
        return parse_options_header(self.headers.get("Content-Type", ""))

    @property
    def mimetype(self) -> str:
        """The content type without parameters, lowercased."""
        return self._parsed_content_type[0].lower()

    @property
    def mimetype_params(self) -> dict[str, str]:
        """The content type parameters, such as ``{"charset": "utf-8"}``."""
        return self._parsed_content_type[1]

    @property
    def is_json(self) -> bool:
        """Whether the mimetype is ``application/json`` or ``application/*+json``."""
        mimetype = self.mimetype
        return mimetype == "application/json" or (
            mimetype.startswith("application/") and mimetype.endswith("+json")
        )

    @lazy_property
    def pragma(self) -> HeaderSet:
        """The ``Pragma`` header as a set of directives."""
        return parse_set_header(self.headers.get("Pragma", ""))

    # Negotiation and caching -----------------------------------------------

    @lazy_property
    def accept_mimetypes(self) -> MIMEAccept:
        """The ``Accept`` header."""
        return parse_accept_header(self.headers.get("Accept"), MIMEAccept)

    @lazy_property
    def accept_charsets(self) -> CharsetAccept:
        """The ``Accept-Charset`` header."""
        return parse_accept_header(self.headers.get("Accept-Charset"), CharsetAccept)

    @lazy_property
    def accept_encodings(self) -> Accept:
        """The ``Accept-Encoding`` header (gzip, br...)."""
        return parse_accept_header(self.headers.get("Accept-Encoding"))

    @lazy_property
    def accept_languages(self) -> LanguageAccept:
        """The ``Accept-Language`` header."""
        return parse_accept_header(self.headers.get("Accept-Language"), LanguageAccept)

    @lazy_property
    def cache_control(self) -> RequestCacheControl:
        """The ``Cache-Control`` header."""
        return parse_cache_control_header(
            self.headers.get("Cache-Control"), None, RequestCacheControl
        )

    @lazy_property
    def if_match(self) -> ETags:
        """The ``If-Match`` ETags."""
        return parse_etags(self.headers.get("If-Match"))

    @lazy_property
    def if_none_match(self) -> ETags:
        """The ``If-None-Match`` ETags."""
        return parse_etags(self.headers.get("If-None-Match"))

    @lazy_property
    def if_modified_since(self) -> datetime | None:
        """The ``If-Modified-Since`` header as an aware UTC datetime."""
        return parse_date(self.headers.get("If-Modified-Since"))

    @lazy_property
    def if_unmodified_since(self) -> datetime | None:
        """The ``If-Unmodified-Since`` header as an aware UTC datetime."""
        return parse_date(self.headers.get("If-Unmodified-Since"))

    @lazy_property
    def if_range(self) -> IfRange:
        """The ``If-Range`` header."""
        return parse_if_range_header(self.headers.get("If-Range"))

    @lazy_property
    def range(self) -> Range | None:
        """The ``Range`` header, or ``None`` if absent or invalid."""
        return parse_range_header(self.headers.get("Range"))

    @property
    def access_control_request_headers(self) -> HeaderSet | None:
        """The ``Access-Control-Request-Headers`` of a CORS preflight."""
        value = self.headers.get("Access-Control-Request-Headers")
        return None if value is None else parse_set_header(value)

    @property
    def access_control_request_method(self) -> str | None:
        """The ``Access-Control-Request-Method`` of a CORS preflight."""
        return self.headers.get("Access-Control-Request-Method")

    # Body ------------------------------------------------------------------

    @lazy_property
    def input_stream(self) -> t.IO[bytes]:
        """The raw body stream, with no length checks; prefer :attr:`stream`."""
        return BytesIO() if self._raw_stream is None else self._raw_stream

    @lazy_property
    def stream(self) -> t.IO[bytes]:
        """The body stream, safe to read to its end.

        With a ``Content-Length`` it stops there (a shorter body raises
        :exc:`~erlen.exceptions.ClientDisconnected`, 400). Without one, it is
        empty unless :attr:`input_terminated`; then it reads to the end, up to
        :attr:`max_content_length`. Past that limit, or when
        ``Content-Length`` announces more, it raises
        :exc:`~erlen.exceptions.RequestEntityTooLarge` (413).

        :raise RuntimeError: If :attr:`shallow` is true.
        """
        read = self._erlen_form_read
        if read is not None:
            # The form was parsed from a body read without this stream: make
            # the stream that parsing would have left, at the end of the body.
            # PERF: made only if asked for (an io object is costly).
            done = LimitedStream(self.input_stream, read)
            done._pos = read
            return done  # type: ignore[return-value]
        if self.shallow:
            raise RuntimeError(
                "This request was created with shallow=True, so reading its body"
                " is disabled. Read the body in the application, not before it."
            )
        length = self.content_length
        limit = self.max_content_length
        if length is not None:
            if limit is not None and length > limit:
                raise too_large(limit, f"Content-Length is {length} bytes")
            # PERF: no run-time cast; a LimitedStream is a binary IO.
            return LimitedStream(self.input_stream, length)  # type: ignore[return-value]
        if not self.input_terminated:
            # NOTE: without a length or a server that ends the stream, reading
            # could block forever or run unbounded: treat the body as empty.
            return BytesIO()
        if limit is not None:
            return LimitedStream(self.input_stream, limit, is_max=True)  # type: ignore[return-value]
        return self.input_stream

    @lazy_property
    def data(self) -> bytes:
        """The raw body; empty if it was form data (see :attr:`form`)."""
        return self.get_data(parse_form_data=True)

    @t.overload
    def get_data(
        self,
        cache: bool = True,
        as_text: t.Literal[False] = False,
        parse_form_data: bool = False,
    ) -> bytes: ...

    @t.overload
    def get_data(
        self,
        cache: bool = True,
        *,
        as_text: t.Literal[True],
        parse_form_data: bool = False,
    ) -> str: ...

    @t.overload
    def get_data(
        self, cache: bool, as_text: t.Literal[True], parse_form_data: bool = False
    ) -> str: ...

    def get_data(
        self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False
    ) -> bytes | str:
        """Read the whole body and return it.

        :param cache: Keep the bytes, so later calls (and form parsing) see them.
        :param as_text: Decode as UTF-8, replacing undecodable bytes.
        :param parse_form_data: Parse the form first; the result is then empty
            for a form body, whose data went to :attr:`form` and :attr:`files`.
        """
        rv = self._cached_data
        if rv is None:
            if parse_form_data:
                self._load_form_data()
            rv = self.stream.read()
            if cache:
                self._cached_data = rv
        if as_text:
            return rv.decode(errors="replace")
        return rv

    @property
    def want_form_data_parsed(self) -> bool:
        """Whether the body may be form data: a ``Content-Type`` was sent."""
        return bool(self.headers.get("Content-Type"))

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> t.IO[bytes]:
        """Return a container for one uploaded file; override to customise."""
        return default_stream_factory(
            total_content_length=total_content_length,
            content_type=content_type,
            filename=filename,
            content_length=content_length,
        )

    def make_form_data_parser(self) -> FormDataParser:
        """Return a :attr:`form_data_parser_class` set up with this request's limits."""
        factory: t.Callable[..., t.IO[bytes]] = self._get_file_stream
        if type(self)._get_file_stream is Request._get_file_stream:
            # PERF: not overridden, so it is default_stream_factory; passing
            # that lets the parser keep small files in memory without it.
            factory = default_stream_factory
        # PERF: the three limits in one call (one config lookup in an app).
        max_length, max_size, max_parts = self._erlen_form_limits()
        return self.form_data_parser_class(
            stream_factory=factory,
            max_form_memory_size=max_size,
            max_content_length=max_length,
            max_form_parts=max_parts,
            cls=self.parameter_storage_class,
        )

    def _erlen_urlencoded_body(self) -> tuple[int, t.IO[bytes]] | None:
        """Return the length and stream of an urlencoded body, else None.

        The length is :attr:`content_length` and the stream
        :attr:`input_stream`; a body without a Content-Length gives None.
        """
        ctype = self.headers.get("Content-Type")
        if ctype == _URLENCODED or (ctype and self.mimetype == _URLENCODED):
            length = self.content_length
            if length is not None:
                return length, self.input_stream
        return None

    def _erlen_form_limits(self) -> tuple[int | None, int | None, int | None]:
        """Return the three body limits the urlencoded fast path checks.

        They are :attr:`max_content_length`, :attr:`max_form_memory_size` and
        :attr:`max_form_parts`.
        """
        # In the order make_form_data_parser has always read them.
        size = self.max_form_memory_size
        length = self.max_content_length
        return length, size, self.max_form_parts

    def _erlen_finish_form_read(
        self, stream: t.IO[bytes], length: int, body: bytes, error: Exception | None
    ) -> bytes:
        """Go on with a form body read that failed or came back short.

        It goes on as :attr:`stream` and :func:`~.formparser._read_bounded`
        would have: the stream is stored, and the disconnect is a 400.
        """
        limited = LimitedStream(stream, length)
        self.__dict__["stream"] = limited
        if error is not None or not body:
            # Always raises ClientDisconnected (400): a length is not a maximum.
            limited.on_disconnect(error)
        limited._pos = len(body)
        chunks = [body]
        while data := limited.read(_READ_SIZE):
            chunks.append(data)
        return b"".join(chunks)

    def _load_form_data(self) -> None:
        d = self.__dict__
        if "form" in d:
            return
        if (
            self._erlen_plain_form
            and self._cached_data is None
            and "stream" not in d
            and self._erlen_form_read is None
            and not self.shallow
            and self.form_data_parser_class is FormDataParser
        ):
            # PERF: an urlencoded body with a Content-Length within the limits
            # (the usual HTML form) is read and parsed here at once, as the
            # parser would: no parser object, no LimitedStream (made later
            # only if ``stream`` is read, see there) and no ``files`` dict
            # (see _FilesAttribute).
            found = self._erlen_urlencoded_body()
            if found is not None:
                length, stream = found
                max_length, max_size, max_parts = self._erlen_form_limits()
                # The 413s of a body over a limit are left to the general path,
                # and so is a long body without max_size: it is read in chunks
                # there, so that a lying Content-Length allocates nothing.
                if (max_length is None or length <= max_length) and length <= (
                    _READ_SIZE if max_size is None else max_size
                ):
                    body = b""
                    try:
                        if length:
                            body = stream.read(length)
                    except (OSError, ValueError) as e:
                        body = self._erlen_finish_form_read(stream, length, b"", e)
                    else:
                        if len(body or b"") != length:
                            body = self._erlen_finish_form_read(
                                stream, length, body, None
                            )
                    self._erlen_form_read = length
                    d["form"] = parse_urlencoded(
                        body, max_parts, self.parameter_storage_class
                    )
                    return
        if self.want_form_data_parsed:
            cached = self._cached_data
            stream = self.stream if cached is None else BytesIO(cached)
            data = self.make_form_data_parser().parse(
                stream, self.mimetype, self.content_length, self.mimetype_params
            )
        else:
            data = (
                self.stream,
                self.parameter_storage_class(),
                self.parameter_storage_class(),
            )
        # NOTE: written into __dict__ so the cached_property descriptors for
        # stream, form and files are bypassed from now on.
        d = self.__dict__
        d["stream"], d["form"], d["files"] = data
        self._erlen_holds_files = True

    @lazy_property
    def form(self) -> MultiDict[str, str]:
        """The form fields of an urlencoded or multipart body.

        :raise RequestEntityTooLarge: When a form limit is exceeded (413).
        :raise BadRequest: When a multipart body is malformed (400).
        """
        self._load_form_data()
        # PERF: an annotation, not a run-time cast() call.
        form: MultiDict[str, str] = self.__dict__["form"]
        return form

    #: The uploaded files of a multipart body, as FileStorage objects.
    files = _FilesAttribute()

    @lazy_property
    def values(self) -> CombinedMultiDict[str, str]:
        """:attr:`args` combined with :attr:`form` (args only for GET)."""
        sources: list[MultiDict[str, str]] = [self.args]
        if self.method != "GET":
            # NOTE: a GET body must not change what the URL means: caches key
            # on the URL alone.
            sources.append(self.form)
        return CombinedMultiDict(
            [d if isinstance(d, MultiDict) else MultiDict(d) for d in sources]
        )

    # JSON ------------------------------------------------------------------

    @property
    def json(self) -> t.Any:
        """The parsed JSON body; same as :meth:`get_json` with no arguments."""
        return self.get_json()

    def get_json(
        self, force: bool = False, silent: bool = False, cache: bool = True
    ) -> t.Any:
        """Parse the body as JSON.

        A mimetype that is not JSON (see :attr:`is_json`) gives 415, invalid
        JSON or nesting deeper than :attr:`max_json_depth` gives 400, both
        through :meth:`on_json_loading_failed`.

        :param force: Ignore the mimetype.
        :param silent: Return ``None`` instead of raising for those errors.
        :param cache: Keep the result for later calls.
        """
        if cache and self._cached_json[silent] is not Ellipsis:
            return self._cached_json[silent]
        if not (force or self.is_json):
            if silent:
                return None
            return self.on_json_loading_failed(None)
        data = self.get_data(cache=cache)
        try:
            rv = self._load_json(data)
        except ValueError as e:
            if silent:
                rv = None
                if cache:
                    self._cached_json = (self._cached_json[0], rv)
            else:
                rv = self.on_json_loading_failed(e)
                if cache:
                    self._cached_json = (rv, self._cached_json[1])
        else:
            if cache:
                self._cached_json = (rv, rv)
        return rv

    def _load_json(self, data: bytes) -> t.Any:
        max_depth = self.max_json_depth
        check_json_depth(data, max_depth)
        try:
            return self.json_module.loads(data)
        except RecursionError:
            # NOTE: only reachable when max_json_depth is None or above the
            # interpreter's recursion limit; still a client error, not a crash.
            raise ValueError(
                "JSON nesting is deeper than the interpreter can parse; set"
                " max_json_depth (MAX_JSON_DEPTH) to a lower value."
            ) from None

    def on_json_loading_failed(self, e: ValueError | None) -> t.Any:
        """Handle a failed :meth:`get_json`; the return value, if any, is used.

        :param e: The parse error, or ``None`` if the mimetype was not JSON.
        :raise BadRequest: For a parse error (400).
        :raise UnsupportedMediaType: For a wrong mimetype (415).
        """
        if e is not None:
            raise BadRequest(f"Failed to decode JSON object: {e}")
        raise UnsupportedMediaType(
            "Did not attempt to load JSON data because the request Content-Type"
            f" was not 'application/json' (got {self.mimetype!r})."
        )

    # Resources -------------------------------------------------------------

    def close(self) -> None:
        """Close the uploaded files' streams."""
        # PERF: the flag first: most requests never parsed a file, and
        # __dict__ would build an instance dict just to say so.
        files = self._erlen_holds_files and self.__dict__.get("files")
        if files:
            for _key, value in iter_multi_items(files):
                value.close()

    def __enter__(self) -> Request:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
