"""The test client: build WSGI environs and drive WSGI or ASGI apps in-process."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
import mimetypes
import secrets
import sys
import time
import typing as t
import weakref
from collections import deque
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from contextlib import ExitStack
from functools import cached_property
from io import BytesIO
from itertools import chain
from urllib.parse import quote
from urllib.parse import unquote_to_bytes
from urllib.parse import urljoin
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from ._cookies import dump_cookie
from ._cookies import parse_cookie_pairs
from .datastructures import Authorization
from .datastructures import EnvironHeaders
from .datastructures import FileMultiDict
from .datastructures import FileStorage
from .datastructures import Headers
from .datastructures import MultiDict
from .exceptions import WebsocketDisconnect
from .http import HTTP_STATUS_CODES
from .http import parse_date
from .sansio.request import Request
from .sansio.response import get_content_type
from .sansio.response import Response
from .urls import encode_query
from .urls import iri_to_uri

if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Awaitable
    from collections.abc import Callable
    from datetime import datetime
    from types import TracebackType

    Environ = dict[str, t.Any]
    StartResponse = Callable[..., Callable[[bytes], object]]
    WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]
    Scope = dict[str, t.Any]
    Message = dict[str, t.Any]
    Receive = Callable[[], Awaitable[Message]]
    Send = Callable[[Message], Awaitable[None]]
    ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

__all__ = [
    "Client",
    "ClientRedirectError",
    "Cookie",
    "EnvironBuilder",
    "TestRequest",
    "TestResponse",
    "TestWebsocket",
    "WebsocketRejected",
    "create_environ",
    "encode_multipart",
    "environ_to_scope",
    "run_asgi_app",
    "run_wsgi_app",
]

#: Size of the ``http.request`` messages an ASGI app receives, and of the
#: reads used to copy files into a multipart body.
CHUNK_SIZE = 64 * 1024

_REDIRECT_CODES = frozenset((301, 302, 303, 305, 307, 308))
# What stays unescaped when a decoded path is quoted back into a URI path:
# the WHATWG path-segment set, without "%" so that a decoded "%" is escaped.
_RAW_PATH_SAFE = "/!$&'()*+,;=:@"


def _wsgi_str(value: str) -> str:
    """Return *value* as a WSGI "bytes as latin-1" string (its UTF-8 bytes)."""
    return value.encode().decode("latin-1")


def _unquote_wsgi(value: str) -> str:
    """Return the percent-decoded bytes of URI text *value* as a WSGI string.

    .. note:: Flask compatibility: Werkzeug decodes escapes as UTF-8 with
       replacement first, so ``%FF`` reaches the app as U+FFFD; erlen passes
       the byte itself, as a real server does.
    """
    if "%" not in value:
        return _wsgi_str(value)
    return unquote_to_bytes(value).decode("latin-1")


# -- multipart ----------------------------------------------------------------


def _escape_disposition(value: str) -> bytes:
    # APPSEC: a quote, CR or LF in a field or file name would end the
    # parameter or the header; browsers percent-encode exactly these three.
    return value.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22").encode()


def _iter_form_items(data: Mapping[str, t.Any]) -> Iterator[tuple[str, t.Any]]:
    """Yield ``(key, value)`` pairs; a list value gives one pair per item.

    Tuples are not expanded: ``(file, filename[, content_type])`` is a file.
    """
    if isinstance(data, MultiDict):
        yield from data.items(multi=True)
        return
    for key, value in data.items():
        if isinstance(value, list):
            for item in value:
                yield key, item
        else:
            yield key, value


def _is_file_value(value: object) -> bool:
    return isinstance(value, (tuple, FileStorage)) or hasattr(value, "read")


def _write_file_part(write: Callable[[bytes], object], name: str, value: t.Any) -> None:
    if isinstance(value, tuple):
        storage = FileMultiDict()
        storage.add_file(name, *value)
        value = storage[name]
    if isinstance(value, FileStorage):
        filename = value.filename
    else:
        # NOTE: a plain file object is named by its path, if it has one.
        filename = getattr(value, "name", None)
        if not isinstance(filename, str):
            filename = None
    content_type = getattr(value, "content_type", None)
    if content_type is None:
        guess = mimetypes.guess_type(filename)[0] if filename else None
        content_type = guess or "application/octet-stream"
    part_headers = Headers(getattr(value, "headers", None) or ())
    part_headers["Content-Type"] = content_type
    head = b'Content-Disposition: form-data; name="%s"' % _escape_disposition(name)
    if filename is not None:
        head += b'; filename="%s"' % _escape_disposition(filename)
    lines = [head]
    for key, header_value in part_headers.items():
        if key.lower() != "content-disposition":
            lines.append(f"{key}: {header_value}".encode())
    write(b"\r\n".join(lines) + b"\r\n\r\n")
    read = value.read
    while True:
        chunk = read(CHUNK_SIZE)
        if not chunk:
            break
        write(chunk)


def _write_multipart(
    write: Callable[[bytes], object], values: Mapping[str, t.Any], boundary: str
) -> None:
    delimiter = f"--{boundary}".encode("ascii")
    for name, value in _iter_form_items(values):
        write(delimiter + b"\r\n")
        if _is_file_value(value):
            _write_file_part(write, name, value)
        else:
            if isinstance(value, (bytes, bytearray)):
                data = bytes(value)
            else:
                data = str(value).encode()
            write(
                b'Content-Disposition: form-data; name="%s"\r\n\r\n'
                % _escape_disposition(name)
            )
            write(data)
        write(b"\r\n")
    write(delimiter + b"--\r\n")


def encode_multipart(
    values: Mapping[str, t.Any], boundary: str | None = None
) -> tuple[str, bytes]:
    """Return ``(boundary, body)``: *values* encoded as ``multipart/form-data``.

    For tests only: the body is built in memory.

    :param values: a dict or :class:`~erlen.datastructures.MultiDict`. A list
        value gives one part per item. A value that is a
        :class:`~erlen.datastructures.FileStorage`, a binary file object or a
        ``(file, filename[, content_type])`` tuple is a file part (read from
        its current position); ``bytes`` are sent as they are and any other
        value as ``str(value)``.
    :param boundary: the boundary; a random one if not given.
    :raise ValueError: if *boundary* is not 1 to 70 printable ASCII
        characters (RFC 2046).

    .. note:: Flask compatibility: Werkzeug leaves out the blank line after
       the headers of an empty part, sends ``bytes`` as their ``repr`` and
       does not escape ``"``, CR or LF in names; erlen writes what browsers
       send.
    """
    if boundary is None:
        boundary = f"----------------erlenFormPart{secrets.token_hex(16)}"
    elif not (
        0 < len(boundary) <= 70
        and boundary.isascii()
        and boundary.isprintable()
        and '"' not in boundary
    ):
        raise ValueError(
            f"Invalid multipart boundary {boundary!r}: expected 1 to 70 printable"
            " ASCII characters without '\"' (RFC 2046). Pass another boundary,"
            " or None for a random one."
        )
    out = BytesIO()
    _write_multipart(out.write, values, boundary)
    return boundary, out.getvalue()


# -- environ builder ----------------------------------------------------------


class EnvironBuilder:
    """Build a WSGI environ for a test request from high-level arguments.

    :param path: the request path, an IRI (non-ASCII text is quoted); a
        ``?query`` part is the query string unless *query_string* is given.
    :param base_url: scheme, host and script root, such as
        ``"https://example.org/app/"``; ``http://localhost/`` if not given.
    :param query_string: a str (sent as it is), a dict or a
        :class:`~erlen.datastructures.MultiDict` (URL-encoded).
    :param method: the request method.
    :param input_stream: a binary stream with the body; not with *data*.
    :param content_type: the ``Content-Type``; derived from *data* when it is
        a dict (urlencoded, or multipart if it has files).
    :param content_length: the ``Content-Length``; computed from a seekable
        body.
    :param errors_stream: ``wsgi.errors``; :data:`sys.stderr` if not given.
    :param multithread: ``wsgi.multithread``.
    :param multiprocess: ``wsgi.multiprocess``.
    :param run_once: ``wsgi.run_once``.
    :param headers: a :class:`~erlen.datastructures.Headers`, a mapping or
        ``(name, value)`` pairs.
    :param data: the body: ``bytes``, ``str`` (UTF-8), a binary file object
        (read at once), or a dict of form fields whose values may be files
        (a file object, a :class:`~erlen.datastructures.FileStorage` or a
        ``(file, filename[, content_type])`` tuple) or lists.
    :param environ_base: environ keys set before the built ones.
    :param environ_overrides: environ keys set after the built ones.
    :param mimetype: sets the content type (text types get a UTF-8 charset).
    :param json: an object sent as JSON with :attr:`json_dumps`; sets the
        content type to ``application/json`` if none is given.
    :param auth: an :class:`~erlen.datastructures.Authorization`, or a
        ``(username, password)`` tuple for Basic auth.
    :raise ValueError: if the path has a query string and *query_string* is
        given, or *base_url* has a query or fragment.
    :raise TypeError: for both *data* and *json*, both *data* and
        *input_stream*, or an *auth* without ``to_header()``.

    .. note:: Flask compatibility: ``get_request()`` is not provided; use
       :class:`TestRequest` with :meth:`get_environ`. JSON is dumped with
       compact separators, and a dict *data* with an explicit content type
       that is neither form type raises :exc:`ValueError` (Werkzeug sends an
       empty body).
    """

    #: ``SERVER_PROTOCOL``.
    server_protocol = "HTTP/1.1"
    #: ``wsgi.version``.
    wsgi_version = (1, 0)

    @staticmethod
    def json_dumps(obj: t.Any, **kwargs: t.Any) -> str:
        """Return *obj* as compact JSON; override to use another encoder."""
        kwargs.setdefault("separators", (",", ":"))
        return json.dumps(obj, **kwargs)

    _args: MultiDict[str, t.Any] | None
    _query_string: str | None
    _input_stream: t.IO[bytes] | None
    _form: MultiDict[str, t.Any] | None
    _files: FileMultiDict | None

    def __init__(
        self,
        path: str = "/",
        base_url: str | None = None,
        query_string: Mapping[str, t.Any] | str | None = None,
        method: str = "GET",
        input_stream: t.IO[bytes] | None = None,
        content_type: str | None = None,
        content_length: int | None = None,
        errors_stream: t.IO[str] | None = None,
        multithread: bool = False,
        multiprocess: bool = False,
        run_once: bool = False,
        headers: Headers
        | Mapping[str, t.Any]
        | Iterable[tuple[str, t.Any]]
        | None = None,
        data: t.IO[bytes] | str | bytes | Mapping[str, t.Any] | None = None,
        environ_base: Mapping[str, t.Any] | None = None,
        environ_overrides: Mapping[str, t.Any] | None = None,
        mimetype: str | None = None,
        json: t.Any = None,
        auth: Authorization | tuple[str, str] | None = None,
    ) -> None:
        if not isinstance(path, str):
            raise TypeError(
                f"The path must be a str, but it was a {type(path).__name__}"
                f" ({path!r}). Pass a path such as '/index', an EnvironBuilder,"
                " an environ dict or a request."
            )
        if query_string is not None and "?" in path:
            raise ValueError(
                f"The path {path!r} has a query string and query_string="
                f"{query_string!r} was also given. Pass the query in one place."
            )
        request_uri = urlsplit(path)
        if query_string is None and "?" in path:
            query_string = request_uri.query
        #: The path as a URI (quoted), without the query string.
        self.path = iri_to_uri(request_uri.path)
        #: The path as given, sent as ``REQUEST_URI`` and ``RAW_URI``.
        self.request_uri = path
        self.base_url = base_url
        self._query_string = None
        self._args = None
        if isinstance(query_string, str):
            self._query_string = query_string
        elif query_string is not None:
            self._args = (
                query_string
                if isinstance(query_string, MultiDict)
                else MultiDict(query_string)
            )
        #: The request method.
        self.method = method
        #: The request headers (``Content-Type`` and ``Content-Length`` too).
        self.headers = headers if isinstance(headers, Headers) else Headers(headers)
        if content_type is not None:
            self.content_type = content_type
        #: ``wsgi.errors``.
        self.errors_stream: t.IO[str] = (
            sys.stderr if errors_stream is None else errors_stream
        )
        #: ``wsgi.multithread``.
        self.multithread = multithread
        #: ``wsgi.multiprocess``.
        self.multiprocess = multiprocess
        #: ``wsgi.run_once``.
        self.run_once = run_once
        #: Environ keys set before the built ones.
        self.environ_base = environ_base
        #: Environ keys set after the built ones.
        self.environ_overrides = environ_overrides
        self.input_stream = input_stream
        if content_length is not None:
            self.content_length = content_length
        #: Whether :meth:`close` ran.
        self.closed = False
        if auth is not None:
            self.headers.set("Authorization", _auth_header(auth))
        if json is not None:
            if data is not None:
                raise TypeError(
                    "Both 'data' and 'json' were given; a request has one body."
                    " Pass only one of them."
                )
            data = self.json_dumps(json)
            if self.content_type is None:
                self.content_type = "application/json"
        if data:
            self._set_data(data, input_stream)
        if mimetype is not None:
            self.mimetype = mimetype

    def _set_data(
        self,
        data: t.IO[bytes] | str | bytes | Mapping[str, t.Any],
        input_stream: t.IO[bytes] | None,
    ) -> None:
        if input_stream is not None:
            raise TypeError(
                "Both 'data' and 'input_stream' were given; a request has one"
                " body. Pass only one of them."
            )
        if isinstance(data, Mapping):
            for key, value in _iter_form_items(data):
                if _is_file_value(value):
                    if isinstance(value, tuple):
                        self.files.add_file(key, *value)
                    else:
                        self.files.add_file(key, value)
                else:
                    self.form.add(key, value)
            return
        raw: t.Any = data
        if not isinstance(raw, (str, bytes, bytearray)):
            read = getattr(raw, "read", None)
            if read is None:
                raise TypeError(
                    "'data' must be bytes, str, a binary file object or a dict"
                    f" of form fields, but it was a {type(raw).__name__}"
                    f" ({raw!r})."
                )
            raw = read()
        body = raw.encode() if isinstance(raw, str) else bytes(raw)
        self._input_stream = BytesIO(body)
        if self.content_length is None:
            self.content_length = len(body)

    @classmethod
    def from_environ(cls, environ: Mapping[str, t.Any], **kwargs: t.Any) -> t.Self:
        """Return a builder that rebuilds *environ*; *kwargs* override its values.

        Only the standard WSGI keys and the ``HTTP_*`` headers are kept.
        """
        headers = Headers(EnvironHeaders(environ))
        host = headers.get("Host")
        headers.remove("Host")
        out: dict[str, t.Any] = {
            "path": _wsgi_decode(environ.get("PATH_INFO", "")),
            "base_url": _make_base_url(
                environ.get("wsgi.url_scheme", "http"),
                host if host is not None else _server_host(environ),
                _wsgi_decode(environ.get("SCRIPT_NAME", "")),
            ),
            "query_string": _wsgi_decode(environ.get("QUERY_STRING", "")),
            "method": environ.get("REQUEST_METHOD", "GET"),
            "input_stream": environ.get("wsgi.input"),
            "content_type": headers.get("Content-Type"),
            "content_length": headers.get("Content-Length"),
            "errors_stream": environ.get("wsgi.errors"),
            "multithread": environ.get("wsgi.multithread", False),
            "multiprocess": environ.get("wsgi.multiprocess", False),
            "run_once": environ.get("wsgi.run_once", False),
            "headers": headers,
        }
        headers.remove("Content-Type")
        headers.remove("Content-Length")
        out.update(kwargs)
        return cls(**out)

    # -- URL ------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Scheme, host and script root, ending with ``/``; settable."""
        return _make_base_url(self.url_scheme, self.host, self.script_root)

    @base_url.setter
    def base_url(self, value: str | None) -> None:
        if value is None:
            scheme, netloc, script_root = "http", "localhost", ""
        else:
            scheme, netloc, script_root, qs, anchor = urlsplit(iri_to_uri(value))
            if qs or anchor:
                raise ValueError(
                    f"The base URL {value!r} has a query string or fragment; it"
                    " must be only scheme, host and script root. Pass the query"
                    " with the path or query_string."
                )
        #: The mount point (``SCRIPT_NAME``) as a URI path, no trailing slash.
        self.script_root = script_root.rstrip("/")
        #: The host with an optional port (``HTTP_HOST``).
        self.host = netloc
        #: ``wsgi.url_scheme``.
        self.url_scheme = scheme

    @property
    def server_name(self) -> str:
        """The host without the port."""
        host = self.host
        if host.startswith("["):
            return host[: host.find("]") + 1]
        return host.partition(":")[0]

    @property
    def server_port(self) -> int:
        """The port from :attr:`host`, else the scheme's default."""
        _, sep, port = self.host.rpartition(":")
        if sep and port.isdigit():
            return int(port)
        return 443 if self.url_scheme == "https" else 80

    @property
    def query_string(self) -> str:
        """The query string; setting it replaces :attr:`args`."""
        if self._query_string is not None:
            return self._query_string
        if self._args is not None:
            return encode_query(self._args)
        return ""

    @query_string.setter
    def query_string(self, value: str | None) -> None:
        self._query_string = value
        self._args = None

    @property
    def args(self) -> MultiDict[str, t.Any]:
        """The query arguments; not available once a query string is set."""
        if self._query_string is not None:
            raise AttributeError(
                "'args' is not available because a query string was given as a"
                " str. Set query_string = None first to build it from args."
            )
        if self._args is None:
            self._args = MultiDict()
        return self._args

    @args.setter
    def args(self, value: MultiDict[str, t.Any] | None) -> None:
        self._query_string = None
        self._args = value

    # -- body -----------------------------------------------------------------

    @property
    def content_type(self) -> str | None:
        """The ``Content-Type`` header, else the form type implied by the data."""
        ct = self.headers.get("Content-Type")
        if ct is None and self._input_stream is None:
            if self._files:
                return "multipart/form-data"
            if self._form:
                return "application/x-www-form-urlencoded"
        return ct

    @content_type.setter
    def content_type(self, value: str | None) -> None:
        if value is None:
            self.headers.remove("Content-Type")
        else:
            self.headers["Content-Type"] = value

    @property
    def mimetype(self) -> str | None:
        """The content type without parameters; setting adds a UTF-8 charset to text."""
        ct = self.content_type
        return ct.partition(";")[0].strip() if ct else None

    @mimetype.setter
    def mimetype(self, value: str) -> None:
        self.content_type = get_content_type(value, "utf-8")

    @property
    def content_length(self) -> int | None:
        """The ``Content-Length`` header as an int, if valid."""
        return self.headers.get("Content-Length", type=int)

    @content_length.setter
    def content_length(self, value: int | None) -> None:
        if value is None:
            self.headers.remove("Content-Length")
        else:
            self.headers["Content-Length"] = str(value)

    @property
    def input_stream(self) -> t.IO[bytes] | None:
        """The body stream; setting it clears :attr:`form` and :attr:`files`."""
        return self._input_stream

    @input_stream.setter
    def input_stream(self, value: t.IO[bytes] | None) -> None:
        self._input_stream = value
        self._form = None
        self._files = None

    def _check_no_stream(self) -> None:
        if self._input_stream is not None:
            raise AttributeError(
                "The form and files are not available because an input stream"
                " is set. Set input_stream = None first to send form data."
            )

    @property
    def form(self) -> MultiDict[str, t.Any]:
        """The form fields sent (URL-encoded, or multipart with :attr:`files`)."""
        self._check_no_stream()
        if self._form is None:
            self._form = MultiDict()
        return self._form

    @form.setter
    def form(self, value: MultiDict[str, t.Any]) -> None:
        self._input_stream = None
        self._form = value

    @property
    def files(self) -> FileMultiDict:
        """The files sent as multipart parts; see ``add_file``."""
        self._check_no_stream()
        if self._files is None:
            self._files = FileMultiDict()
        return self._files

    @files.setter
    def files(self, value: FileMultiDict) -> None:
        self._input_stream = None
        self._files = value

    def close(self) -> None:
        """Close the files in :attr:`files` (once)."""
        if self.closed:
            return
        if self._files is not None:
            for storage in self._files.values():
                storage.close()
        self.closed = True

    def _body(self) -> tuple[t.IO[bytes], str | None, int | None]:
        stream = self._input_stream
        content_type = self.content_type
        content_length = self.content_length
        if stream is not None:
            try:
                start = stream.tell()
                end = stream.seek(0, 2)
                stream.seek(start)
            except (AttributeError, OSError, ValueError):
                # NOTE: a stream that cannot seek keeps the length given.
                return stream, content_type, content_length
            return stream, content_type, end - start
        mimetype = self.mimetype
        if not (self._form or self._files):
            return BytesIO(), content_type, content_length
        if mimetype == "multipart/form-data":
            values: MultiDict[str, t.Any] = MultiDict(self.form)
            for key, storage in self.files.items(multi=True):
                values.add(key, storage)
            boundary, body = encode_multipart(values)
            return BytesIO(body), f'{mimetype}; boundary="{boundary}"', len(body)
        if mimetype == "application/x-www-form-urlencoded" and not self._files:
            body = encode_query(self.form).encode("ascii")
            return BytesIO(body), content_type, len(body)
        raise ValueError(
            f"Form data cannot be sent with the content type {content_type!r}"
            " (files need multipart/form-data). Leave the content type out to"
            " have it chosen, or pass the body as bytes."
        )

    def get_environ(self) -> dict[str, t.Any]:
        """Return a new WSGI environ for the request."""
        stream, content_type, content_length = self._body()
        result: dict[str, t.Any] = {}
        if self.environ_base:
            result.update(self.environ_base)
        raw_uri = _wsgi_str(self.request_uri)
        result.update(
            {
                "REQUEST_METHOD": self.method,
                "SCRIPT_NAME": _unquote_wsgi(self.script_root),
                "PATH_INFO": _unquote_wsgi(self.path),
                "QUERY_STRING": _wsgi_str(self.query_string),
                # NOTE: not in PEP 3333; mod_wsgi/uWSGI and gunicorn set these.
                "REQUEST_URI": raw_uri,
                "RAW_URI": raw_uri,
                "SERVER_NAME": self.server_name,
                "SERVER_PORT": str(self.server_port),
                "HTTP_HOST": self.host,
                "SERVER_PROTOCOL": self.server_protocol,
                "wsgi.version": self.wsgi_version,
                "wsgi.url_scheme": self.url_scheme,
                "wsgi.input": stream,
                "wsgi.errors": self.errors_stream,
                "wsgi.multithread": self.multithread,
                "wsgi.multiprocess": self.multiprocess,
                "wsgi.run_once": self.run_once,
            }
        )
        if content_type is not None:
            result["CONTENT_TYPE"] = content_type
        if content_length is not None:
            result["CONTENT_LENGTH"] = str(content_length)
        combined: dict[str, list[str]] = {}
        for key, value in self.headers.items():
            lower = key.lower()
            if lower == "content-type" or lower == "content-length":
                continue
            name = f"HTTP_{key.upper().replace('-', '_')}"
            combined.setdefault(name, []).append(value)
        for name, values in combined.items():
            result[name] = ", ".join(values)
        if self.environ_overrides:
            result.update(self.environ_overrides)
        return result


def _auth_header(auth: t.Any) -> str:
    if isinstance(auth, tuple):
        if len(auth) != 2:
            raise TypeError(
                f"auth must be a (username, password) tuple, got {len(auth)}"
                " items. Pass two strings or an Authorization object."
            )
        auth = Authorization("basic", {"username": auth[0], "password": auth[1]})
    to_header = getattr(auth, "to_header", None)
    if to_header is None:
        raise TypeError(
            "auth must be a (username, password) tuple or an Authorization"
            f" object, but it was a {type(auth).__name__} ({auth!r})."
        )
    return str(to_header())


def _make_base_url(scheme: str, host: str, script_root: str) -> str:
    return urlunsplit((scheme, host, script_root, "", "")).rstrip("/") + "/"


def _wsgi_decode(value: str) -> str:
    """Return a WSGI (latin-1) string as text, for rebuilding a URL."""
    return value.encode("latin-1").decode(errors="replace")


def _server_host(environ: Mapping[str, t.Any]) -> str:
    name = environ.get("SERVER_NAME", "localhost")
    port = str(environ.get("SERVER_PORT", ""))
    scheme = environ.get("wsgi.url_scheme", "http")
    if not port or (scheme, port) in (("http", "80"), ("https", "443")):
        return str(name)
    return f"{name}:{port}"


def create_environ(*args: t.Any, **kwargs: t.Any) -> dict[str, t.Any]:
    """Return a WSGI environ built by :class:`EnvironBuilder` from the arguments."""
    builder = EnvironBuilder(*args, **kwargs)
    try:
        return builder.get_environ()
    finally:
        builder.close()


# -- the request that was sent ------------------------------------------------


class TestRequest(Request):
    """The request a test client sent: a sans-IO request over a WSGI environ.

    Every :class:`~erlen.sansio.request.Request` attribute is available
    (``method``, ``path``, ``url``, ``headers``, ``args``...), read from
    :attr:`environ`.
    """

    __test__ = False

    def __init__(self, environ: dict[str, t.Any]) -> None:
        #: The WSGI environ the application was called with (before it
        #: could change it: the app gets a copy).
        self.environ = environ
        try:
            port: int | None = int(environ.get("SERVER_PORT", ""))
        except ValueError:
            port = None
        stream = environ.get("wsgi.input")
        super().__init__(
            environ.get("REQUEST_METHOD", "GET"),
            environ.get("wsgi.url_scheme", "http"),
            (environ.get("SERVER_NAME", ""), port),
            _wsgi_decode(environ.get("SCRIPT_NAME", "")),
            _wsgi_decode(environ.get("PATH_INFO", "")),
            environ.get("QUERY_STRING", "").encode("latin-1"),
            EnvironHeaders(environ),
            environ.get("REMOTE_ADDR"),
            stream=stream,
        )
        # NOTE: remembered so that a 307/308 redirect can send the body again.
        try:
            self._body_start: int | None = stream.tell() if stream else None
        except (AttributeError, OSError, ValueError):
            self._body_start = None

    def _rewind_body(self) -> None:
        if self._body_start is not None:
            try:
                self.environ["wsgi.input"].seek(self._body_start)
            except (AttributeError, OSError, ValueError):
                # NOTE: closed or replaced stream: send what is left.
                pass


# -- running applications -----------------------------------------------------


def run_wsgi_app(
    app: WSGIApp, environ: dict[str, t.Any], buffered: bool = False
) -> tuple[Iterable[bytes], str, Headers]:
    """Call a WSGI app and return ``(body iterable, status line, headers)``.

    The app gets a shallow copy of *environ*. Without *buffered*, the body is
    iterated only until ``start_response`` has been called; the rest stays
    lazy and closing the returned iterable closes the app's. Data passed to
    the ``write`` callable comes first.

    :param buffered: read the whole body into a list and close it now.
    :raise RuntimeError: if the app never calls ``start_response``.
    """
    environ = dict(environ)
    response: list[t.Any] = []
    buffer: list[bytes] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
    ) -> Callable[[bytes], object]:
        if exc_info:
            try:
                raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        response[:] = (status, headers)
        return buffer.append

    app_rv = app(environ, start_response)
    close = getattr(app_rv, "close", None)
    app_iter: Iterable[bytes]
    if buffered:
        try:
            buffer.extend(app_rv)
        finally:
            if close is not None:
                close()
        app_iter = buffer
    else:
        iterator = iter(app_rv)
        # NOTE: a generator app calls start_response on its first step.
        while not response:
            item = next(iterator, None)
            if item is None:
                break
            buffer.append(item)
        app_iter = _ClosingIterator(chain(buffer, iterator), close)
    if not response:
        if not buffered and close is not None:
            close()
        raise RuntimeError(
            "The WSGI application returned without calling start_response()."
            " A WSGI app must call start_response(status, headers) before or"
            " while returning its body."
        )
    status, header_list = response
    return app_iter, status, Headers(header_list)


class _ClosingIterator:
    """Iterate over a body and call the app's ``close`` once, when closed."""

    def __init__(
        self, iterator: Iterator[bytes], close: Callable[[], object] | None
    ) -> None:
        self._iterator = iterator
        self._close = close

    def __iter__(self) -> Iterator[bytes]:
        return self._iterator

    def close(self) -> None:
        close, self._close = self._close, None
        if close is not None:
            close()


def _is_coroutine_callable(obj: object) -> bool:
    if inspect.iscoroutinefunction(obj):
        return True
    call = getattr(type(obj), "__call__", None)  # noqa: B004
    return inspect.iscoroutinefunction(call)


def _latin1(key: str, value: t.Any) -> bytes:
    try:
        return str(value).encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(
            f"The environ value {key}={value!r} is not a WSGI (latin-1) string."
            " Encode text as UTF-8 bytes decoded as latin-1, as servers do."
        ) from None


def environ_to_scope(environ: Mapping[str, t.Any]) -> dict[str, t.Any]:
    """Return the ASGI HTTP scope for a WSGI environ.

    ``path`` is the decoded full path (``root_path`` included, as the ASGI
    spec and current servers have it) and ``raw_path`` its quoted bytes.
    Header names are lower-cased bytes; ``CONTENT_TYPE``/``CONTENT_LENGTH``
    become headers. ``client`` comes from ``REMOTE_ADDR``/``REMOTE_PORT``.
    """
    script_bytes = environ.get("SCRIPT_NAME", "").encode("latin-1")
    path_bytes = environ.get("PATH_INFO", "").encode("latin-1")
    full = script_bytes.rstrip(b"/") + path_bytes
    headers: list[tuple[bytes, bytes]] = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key
        else:
            continue
        headers.append(
            (_latin1(key, name.replace("_", "-").lower()), _latin1(key, value))
        )
    remote = environ.get("REMOTE_ADDR")
    client = None
    if remote:
        try:
            client = (remote, int(environ.get("REMOTE_PORT") or 0))
        except ValueError:
            client = (remote, 0)
    try:
        port: int | None = int(environ.get("SERVER_PORT", ""))
    except ValueError:
        port = None
    protocol = environ.get("SERVER_PROTOCOL", "HTTP/1.1")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": protocol.partition("/")[2] or "1.1",
        "method": environ.get("REQUEST_METHOD", "GET").upper(),
        "scheme": environ.get("wsgi.url_scheme", "http"),
        "path": full.decode(errors="replace"),
        "raw_path": quote(full, safe=_RAW_PATH_SAFE).encode("ascii"),
        "query_string": environ.get("QUERY_STRING", "").encode("latin-1"),
        "root_path": script_bytes.rstrip(b"/").decode(errors="replace"),
        "headers": headers,
        "client": client,
        "server": (environ.get("SERVER_NAME", "localhost"), port),
        # NOTE: FlaskClient passes its preserve-context hook to erlen's ASGI
        # driver here; other apps ignore unknown extensions.
        "extensions": dict(environ.get("erlen.asgi.extensions") or {}),
    }


def _in_running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _check_no_running_loop() -> None:
    if not _in_running_loop():
        return
    raise RuntimeError(
        "The test client cannot run an ASGI app from inside a running event"
        " loop (an async test or callback). Call it from synchronous code."
    )


class _Disconnected(OSError):
    """Raised by ``send`` once the test client has closed the response."""


class _ASGIExchange:
    """One HTTP request/response exchange with an ASGI app on a given loop."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        app: ASGIApp,
        scope: dict[str, t.Any],
        body: t.IO[bytes],
        body_length: int | None,
    ) -> None:
        self.loop = loop
        self.status: int | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: deque[bytes] = deque()
        self.response_complete = False
        self.disconnected = False
        self._body = body
        self._remaining = body_length
        self._request_complete = False
        self._progress: asyncio.Future[None] | None = None
        self._waiters: list[asyncio.Future[None]] = []
        self._closed = False
        self.task = loop.create_task(self._run(app, scope))

    async def _run(self, app: ASGIApp, scope: dict[str, t.Any]) -> None:
        try:
            await app(scope, self.receive, self.send)
        finally:
            self._notify()

    def _notify(self) -> None:
        progress, self._progress = self._progress, None
        if progress is not None and not progress.done():
            progress.set_result(None)

    def _wake_receivers(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def receive(self) -> dict[str, t.Any]:
        if not self._request_complete and not self.disconnected:
            size = CHUNK_SIZE
            if self._remaining is not None:
                size = min(size, self._remaining)
            chunk = self._body.read(size) if size else b""
            if self._remaining is not None:
                self._remaining -= len(chunk)
            more = bool(chunk) and self._remaining != 0
            if more and self._remaining is None:
                # PERF: peek only for a body of unknown length.
                more = len(chunk) == size
            self._request_complete = not more
            return {"type": "http.request", "body": chunk, "more_body": more}
        # NOTE: like a server, report the disconnect only once the response
        # is complete (or the client went away); until then, wait.
        while not (self.response_complete or self.disconnected):
            waiter = self.loop.create_future()
            self._waiters.append(waiter)
            await waiter
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, t.Any]) -> None:
        if self.disconnected:
            raise _Disconnected("The test client closed the response.")
        kind = message.get("type")
        if kind == "http.response.start":
            if self.status is not None:
                raise RuntimeError(
                    "The ASGI app sent 'http.response.start' twice; send it once,"
                    " before the body."
                )
            status = message.get("status")
            if not isinstance(status, int) or isinstance(status, bool):
                raise TypeError(
                    "The ASGI 'http.response.start' status must be an int, but it"
                    f" was a {type(status).__name__} ({status!r})."
                )
            headers = list(message.get("headers", ()))
            for pair in headers:
                if (
                    len(pair) != 2
                    or not isinstance(pair[0], bytes)
                    or not isinstance(pair[1], bytes)
                ):
                    raise TypeError(
                        "ASGI response headers must be (bytes, bytes) pairs, got"
                        f" {pair!r}. Encode names and values as latin-1 bytes."
                    )
            self.status = status
            self.headers = headers
        elif kind == "http.response.body":
            if self.status is None:
                raise RuntimeError(
                    "The ASGI app sent 'http.response.body' before"
                    " 'http.response.start'. Send the status and headers first."
                )
            if self.response_complete:
                raise RuntimeError(
                    "The ASGI app sent 'http.response.body' after the response was"
                    " complete (after a message with more_body=False)."
                )
            body = message.get("body", b"")
            if not isinstance(body, (bytes, bytearray)):
                raise TypeError(
                    "The ASGI 'http.response.body' body must be bytes, but it was"
                    f" a {type(body).__name__}."
                )
            if body:
                self.chunks.append(bytes(body))
            if not message.get("more_body", False):
                self.response_complete = True
                self._wake_receivers()
        else:
            raise RuntimeError(
                f"The ASGI app sent a message of type {kind!r}; the test client"
                " supports 'http.response.start' and 'http.response.body'."
            )
        self._notify()

    def step(self) -> None:
        """Run the loop until the app sends something or finishes."""
        progress = self._progress = self.loop.create_future()
        self._run_loop(
            lambda: asyncio.wait(
                (self.task, progress), return_when=asyncio.FIRST_COMPLETED
            )
        )

    def _run_loop(self, make: Callable[[], Awaitable[t.Any]]) -> None:
        _check_no_running_loop()
        self.loop.run_until_complete(make())

    def check(self) -> None:
        """Raise the app's exception if it failed."""
        if self.task.done() and not self.task.cancelled():
            exc = self.task.exception()
            # NOTE: the app saw our own disconnect error only after close().
            if exc is not None and not isinstance(exc, _Disconnected):
                raise exc

    def start(self) -> None:
        """Run until the response has started, or raise why it did not."""
        while self.status is None and not self.task.done():
            self.step()
        if self.status is None:
            # NOTE: an error after the start surfaces while reading the body.
            self.check()
            raise RuntimeError(
                "The ASGI application returned without sending"
                " 'http.response.start'. It must send a response."
            )

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        while not self.chunks:
            if self.task.done() or self._closed:
                self.check()
                raise StopIteration
            self.step()
        return self.chunks.popleft()

    def close(self) -> None:
        """Disconnect; cancel the app if it is still running."""
        if self._closed:
            return
        self._closed = True
        if self.task.done():
            return
        if not self.response_complete:
            self.disconnected = True
            self._wake_receivers()
        self.task.cancel()
        self._run_loop(lambda: asyncio.wait((self.task,)))
        self.check()


def run_asgi_app(
    app: ASGIApp,
    environ: dict[str, t.Any],
    buffered: bool = False,
    *,
    loop: asyncio.AbstractEventLoop | None = None,
) -> tuple[Iterable[bytes], str, Headers]:
    """Call an ASGI app with *environ*'s request; return ``(body, status, headers)``.

    The scope comes from :func:`environ_to_scope`; the body is read from
    ``wsgi.input`` (up to ``CONTENT_LENGTH``) and fed in ``http.request``
    messages of at most :data:`CHUNK_SIZE` bytes. After the body, ``receive``
    waits until the response is complete, then returns ``http.disconnect``.

    Without *buffered*, this returns once ``http.response.start`` is sent and
    the body is produced as it is iterated; closing it early disconnects and
    cancels the app. Iterating to the end also waits for the app to return.

    :param loop: the event loop to run on (not running); without one, a new
        loop is used and closed, and the body is always buffered.
    :raise RuntimeError: if the app returns without starting a response, or
        breaks the message order; also if called inside a running loop.
    """
    _check_no_running_loop()
    own_loop = loop is None
    if loop is None:
        loop = asyncio.new_event_loop()
        buffered = True
    try:
        length_text = environ.get("CONTENT_LENGTH")
        try:
            length = int(length_text) if length_text else None
        except ValueError:
            length = None
        body = environ.get("wsgi.input") or BytesIO()
        exchange = _ASGIExchange(loop, app, environ_to_scope(environ), body, length)
        try:
            exchange.start()
            app_iter: Iterable[bytes] = exchange
            if buffered:
                app_iter = list(exchange)
        except BaseException:
            exchange.close()
            raise
    finally:
        if own_loop:
            loop.close()
    status = exchange.status
    reason = HTTP_STATUS_CODES.get(t.cast(int, status), "unknown")
    headers = Headers(
        [(k.decode("latin-1"), v.decode("latin-1")) for k, v in exchange.headers]
    )
    return app_iter, f"{status} {reason.upper()}", headers


# -- the response --------------------------------------------------------------


class TestResponse(Response):
    """The response a test client got, with the request that caused it.

    No mimetype is assumed: the headers are what the app sent. Call
    :meth:`close` when the app returned open files.
    """

    __test__ = False
    default_mimetype = None

    #: The request that was sent.
    request: Request
    #: The responses to the earlier requests of a followed redirect chain.
    history: tuple[TestResponse, ...]

    def __init__(
        self,
        response: Iterable[bytes],
        status: str,
        headers: Headers,
        request: Request,
        history: tuple[TestResponse, ...] = (),
        **kwargs: t.Any,
    ) -> None:
        super().__init__(response, status, headers, **kwargs)
        self.request = request
        self.history = history

    @cached_property
    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.get_data(as_text=True)


# -- cookies ------------------------------------------------------------------


@dataclasses.dataclass
class Cookie:
    """A cookie in the test client's jar (see :meth:`Client.get_cookie`)."""

    #: The name as sent in the ``Cookie`` header.
    key: str
    #: The value as sent in the ``Cookie`` header (quoted if it was).
    value: str
    #: The name as the application sets and reads it.
    decoded_key: str
    #: The value as the application sets and reads it.
    decoded_value: str
    #: The ``Expires`` attribute.
    expires: datetime | None
    #: The ``Max-Age`` attribute.
    max_age: int | None
    #: The ``Domain`` attribute, else the host that set the cookie.
    domain: str
    #: Whether only that exact host gets the cookie (no ``Domain`` attribute).
    origin_only: bool
    #: The ``Path`` attribute, else the default path of the setting URL.
    path: str
    #: The ``Secure`` attribute (recorded; not enforced, as in Werkzeug).
    secure: bool | None
    #: The ``HttpOnly`` attribute.
    http_only: bool | None
    #: The ``SameSite`` attribute.
    same_site: str | None
    #: The ``Partitioned`` attribute.
    partitioned: bool = False
    # When the cookie expires (a timestamp), from Max-Age else Expires.
    _expiry: float | None = dataclasses.field(default=None, repr=False, compare=False)

    def _matches(self, host: str, path: str) -> bool:
        domain = self.domain
        if host != domain and (
            self.origin_only
            or not host.endswith(domain)
            or host[-len(domain) - 1] != "."
        ):
            return False
        cookie_path = self.path
        return path == cookie_path or (
            path.startswith(cookie_path)
            and (cookie_path.endswith("/") or path[len(cookie_path)] == "/")
        )

    def _expired(self, now: float) -> bool:
        return self._expiry is not None and self._expiry <= now

    @property
    def _storage_key(self) -> tuple[str, str, str]:
        return self.domain, self.path, self.decoded_key

    @classmethod
    def _from_header(
        cls, host: str, request_path: str, header: str, now: float
    ) -> Cookie | None:
        pair, _, attributes = header.partition(";")
        parsed = parse_cookie_pairs(pair)
        if not parsed:
            return None
        key, _, value = pair.partition("=")
        params: dict[str, str | None] = {}
        for item in attributes.split(";"):
            name, sep, attr = item.partition("=")
            params[name.strip(" \t").lower()] = attr.strip(" \t") if sep else None
        max_age: int | None = None
        raw_max_age = params.get("max-age")
        if raw_max_age and raw_max_age.lstrip("-").isdigit():
            max_age = int(raw_max_age)
        expires = parse_date(params.get("expires"))
        expiry: float | None = None
        if max_age is not None:
            expiry = now + max_age
        elif expires is not None:
            expiry = expires.timestamp()
        domain = (params.get("domain") or "").lstrip(".").lower()
        path = params.get("path")
        if not path or not path.startswith("/"):
            path = request_path.rpartition("/")[0] or "/"
        return cls(
            key=key.strip(" \t"),
            value=value.strip(" \t"),
            decoded_key=parsed[0][0],
            decoded_value=parsed[0][1],
            expires=expires,
            max_age=max_age,
            domain=domain or host,
            origin_only=not domain,
            path=path,
            secure="secure" in params,
            http_only="httponly" in params,
            same_site=params.get("samesite"),
            partitioned="partitioned" in params,
            _expiry=expiry,
        )


def _cookie_target(environ: Mapping[str, t.Any]) -> tuple[str, str]:
    """Return the ``(host name, URI path)`` cookies are matched against."""
    host = environ.get("HTTP_HOST") or _server_host(environ)
    try:
        name = urlsplit(f"//{host}").hostname
    except ValueError:
        name = None
    script = environ.get("SCRIPT_NAME", "").encode("latin-1").rstrip(b"/")
    path = script + b"/" + environ.get("PATH_INFO", "").encode("latin-1").lstrip(b"/")
    return name or "localhost", quote(path, safe=_RAW_PATH_SAFE)


# -- the client ---------------------------------------------------------------


class WebsocketRejected(Exception):
    """The app refused a test client's WebSocket handshake.

    :attr:`response` is what the client got: the app's own status, headers
    and body (it was sent with the ``websocket.http.response`` extension),
    or a bodiless ``403`` when the app just closed the handshake.
    """

    def __init__(self, response: TestResponse) -> None:
        super().__init__(
            f"The app refused the WebSocket handshake with {response.status!r}."
        )
        #: The HTTP answer to the handshake.
        self.response = response


async def _await(awaitable: t.Awaitable[None]) -> None:
    # A task needs a coroutine; an ASGI app may return any awaitable.
    await awaitable


class TestWebsocket:
    """A WebSocket connection to an app, driven on a test client's event loop.

    Made by :meth:`Client.websocket`, which accepts the handshake before
    handing it over and disconnects it at the end of the ``with`` block.
    Each call runs the loop until the app has answered (or :attr:`timeout`
    seconds pass, a guard against a test that waits for a message the app
    never sends).
    """

    __test__ = False

    def __init__(
        self,
        app: t.Callable[..., t.Awaitable[None]],
        scope: dict[str, t.Any],
        loop: asyncio.AbstractEventLoop,
        request: Request,
        timeout: float = 10.0,
    ) -> None:
        self._loop = loop
        self._scope = scope
        self._request = request
        #: Seconds each call waits for the app before raising TimeoutError.
        self.timeout = timeout
        self._inbox: asyncio.Queue[dict[str, t.Any]] = asyncio.Queue()
        self._sent: deque[dict[str, t.Any]] = deque()
        self._progress: asyncio.Future[None] | None = None
        #: The subprotocol the app chose, once accepted.
        self.subprotocol: str | None = None
        #: The headers of the handshake response, once accepted.
        self.headers = Headers()
        #: The close code the app sent, once it closed the connection.
        self.close_code: int | None = None
        self._task = loop.create_task(_await(app(scope, self._receive, self._send)))

    async def _receive(self) -> dict[str, t.Any]:
        return await self._inbox.get()

    async def _send(self, message: dict[str, t.Any]) -> None:
        self._sent.append(message)
        progress = self._progress
        if progress is not None and not progress.done():
            progress.set_result(None)

    def _run_until_sent(self) -> None:
        # Run the loop until the app sent a message or finished.
        while not self._sent and not self._task.done():
            _check_no_running_loop()
            progress = self._progress = self._loop.create_future()
            done, _ = self._loop.run_until_complete(
                asyncio.wait(
                    (self._task, progress),
                    timeout=self.timeout,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            )
            if not done:
                raise TimeoutError(
                    f"The app sent nothing on the WebSocket {self._scope['path']!r}"
                    f" within {self.timeout} s; is it waiting for a message?"
                )
        if not self._sent:
            self._check()

    def _check(self) -> None:
        if self._task.done() and not self._task.cancelled():
            exc = self._task.exception()
            if exc is not None:
                raise exc

    def _next_message(self) -> dict[str, t.Any] | None:
        self._run_until_sent()
        return self._sent.popleft() if self._sent else None

    def _handshake(self) -> None:
        self._inbox.put_nowait({"type": "websocket.connect"})
        message = self._next_message()
        kind = None if message is None else message["type"]
        if message is not None and kind == "websocket.accept":
            self.subprotocol = message.get("subprotocol")
            self.headers = Headers(
                [
                    (k.decode("latin-1"), v.decode("latin-1"))
                    for k, v in message.get("headers") or ()
                ]
            )
            return
        status, headers, body = 403, Headers(), b""
        if message is not None and kind == "websocket.http.response.start":
            status = message["status"]
            headers = Headers(
                [
                    (k.decode("latin-1"), v.decode("latin-1"))
                    for k, v in message["headers"]
                ]
            )
            chunks = []
            while (part := self._next_message()) is not None:
                chunks.append(part.get("body", b""))
                if not part.get("more_body", False):
                    break
            body = b"".join(chunks)
        reason = HTTP_STATUS_CODES.get(status, "unknown").upper()
        raise WebsocketRejected(
            TestResponse([body], f"{status} {reason}", headers, self._request)
        )

    def send(self, data: str | bytes) -> None:
        """Send a text (``str``) or binary (``bytes``) message to the app."""
        if self.close_code is not None:
            raise WebsocketDisconnect(self.close_code)
        key = "text" if isinstance(data, str) else "bytes"
        self._inbox.put_nowait({"type": "websocket.receive", key: data})

    def send_json(self, data: t.Any) -> None:
        """Send ``data`` as JSON in a text message."""
        self.send(json.dumps(data))

    def receive(self) -> str | bytes:
        """Return the app's next message: ``str`` for text, ``bytes`` for binary.

        :raise WebsocketDisconnect: the app closed the connection (or its
            view ended without closing it).
        """
        message = self._next_message()
        if message is None:
            raise WebsocketDisconnect(self.close_code or 1006)
        if message["type"] == "websocket.close":
            self.close_code = message.get("code", 1000)
            raise WebsocketDisconnect(
                t.cast(int, self.close_code), message.get("reason") or ""
            )
        text = message.get("text")
        return text if text is not None else message.get("bytes") or b""

    def receive_json(self) -> t.Any:
        """Return the app's next message parsed as JSON."""
        return json.loads(self.receive())

    def close(self, code: int = 1000) -> None:
        """Disconnect with ``code`` and let the app finish (its teardown runs)."""
        if not self._task.done():
            self._inbox.put_nowait({"type": "websocket.disconnect", "code": code})
            _check_no_running_loop()
            done, _ = self._loop.run_until_complete(
                asyncio.wait((self._task,), timeout=self.timeout)
            )
            if not done:
                self._task.cancel()
                self._loop.run_until_complete(asyncio.wait((self._task,)))
                raise TimeoutError(
                    f"The app did not end the WebSocket {self._scope['path']!r}"
                    f" within {self.timeout} s of the disconnect; it was cancelled."
                )
        self._check()


class ClientRedirectError(Exception):
    """A followed redirect chain came back to a redirect it already made."""


class Client:
    """Send requests to a WSGI or ASGI application in-process, keeping cookies.

    :param application: a WSGI callable, or an ASGI callable.
    :param response_wrapper: the response class; a class that does not
        subclass :class:`TestResponse` is combined with it.
    :param use_cookies: keep ``Set-Cookie`` cookies and send them back.
    :param allow_subdomain_redirects: follow redirects to subdomains.
    :param asgi: run the app over ASGI (``True``) or WSGI (``False``). By
        default, ASGI if the app (or its ``__call__``) is a coroutine function
        and it has no ``wsgi_app`` attribute: an app that serves both is run
        over WSGI unless asked.

    Over ASGI the client owns an event loop, reused across requests and
    closed by :meth:`close` (or ``with client:``, or garbage collection); a
    closed client makes a new one when used again.
    """

    def __init__(
        self,
        application: t.Any,
        response_wrapper: type[Response] | None = None,
        use_cookies: bool = True,
        allow_subdomain_redirects: bool = False,
        *,
        asgi: bool | None = None,
    ) -> None:
        #: The application under test.
        self.application = application
        if response_wrapper is None or response_wrapper is Response:
            response_wrapper = TestResponse
        elif not (
            isinstance(response_wrapper, type)
            and issubclass(response_wrapper, Response)
        ):
            raise TypeError(
                "response_wrapper must be a subclass of erlen's Response, but it"
                f" was {response_wrapper!r}. Pass a Response subclass or None."
            )
        elif not issubclass(response_wrapper, TestResponse):
            response_wrapper = type(
                "WrapperTestResponse", (TestResponse, response_wrapper), {}
            )
        #: The class responses are built with.
        self.response_wrapper = t.cast("type[TestResponse]", response_wrapper)
        self._cookies: dict[tuple[str, str, str], Cookie] | None = (
            {} if use_cookies else None
        )
        #: Whether redirects to subdomains are followed.
        self.allow_subdomain_redirects = allow_subdomain_redirects
        if asgi is None:
            asgi = _is_coroutine_callable(application) and not hasattr(
                application, "wsgi_app"
            )
        #: Whether the app runs over ASGI.
        self.asgi = asgi
        self._loop: asyncio.AbstractEventLoop | None = None
        self._finalizer: weakref.finalize[t.Any, t.Any] | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.application!r}>"

    # -- event loop -----------------------------------------------------------

    def _get_loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is None or loop.is_closed():
            loop = self._loop = asyncio.new_event_loop()
            # NOTE: closes the loop when the client is collected without
            # close(); it holds the loop, not the client.
            self._finalizer = weakref.finalize(self, loop.close)
        return loop

    def close(self) -> None:
        """Close the client's event loop, if it has one; the client stays usable."""
        loop, self._loop = self._loop, None
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if loop is not None and not loop.is_closed():
            try:
                if not _in_running_loop():
                    loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    def __enter__(self) -> t.Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- cookies --------------------------------------------------------------

    def _jar(self) -> dict[tuple[str, str, str], Cookie]:
        if self._cookies is None:
            raise TypeError(
                "Cookies are disabled for this client. Create it with"
                " use_cookies=True to use the cookie jar."
            )
        return self._cookies

    def get_cookie(
        self, key: str, domain: str = "localhost", path: str = "/"
    ) -> Cookie | None:
        """Return the cookie stored for ``(domain, path, key)``, or None.

        :param key: the decoded name.
        :raise TypeError: if cookies are disabled.
        """
        return self._jar().get((domain, path, key))

    def set_cookie(
        self,
        key: str,
        value: str = "",
        *,
        domain: str = "localhost",
        origin_only: bool = True,
        path: str = "/",
        **kwargs: t.Any,
    ) -> None:
        """Store a cookie to send with later matching requests.

        :param domain: the host the cookie is sent to.
        :param origin_only: send it to that exact host only, not subdomains.
        :param path: send it for this path and the paths below it.
        :param kwargs: passed to :func:`~erlen.http.dump_cookie` (``max_age=0``
            deletes the cookie).
        :raise TypeError: if cookies are disabled.
        """
        jar = self._jar()
        header = dump_cookie(key, value, domain=domain, path=path, **kwargs)
        cookie = Cookie._from_header(domain, "/", header, time.time())
        if cookie is None:
            raise ValueError(
                f"The cookie name {key!r} cannot be sent in a Cookie header. Use a"
                " name without spaces, '=', ';' or '\"'."
            )
        cookie.origin_only = origin_only
        self._store_cookie(jar, cookie, time.time())

    def delete_cookie(
        self, key: str, *, domain: str = "localhost", path: str = "/"
    ) -> None:
        """Remove the cookie stored for ``(domain, path, key)``, if any.

        :raise TypeError: if cookies are disabled.
        """
        self._jar().pop((domain, path, key), None)

    @staticmethod
    def _store_cookie(
        jar: dict[tuple[str, str, str], Cookie], cookie: Cookie, now: float
    ) -> None:
        if cookie._expired(now):
            jar.pop(cookie._storage_key, None)
        else:
            jar[cookie._storage_key] = cookie

    def _add_cookies(self, environ: dict[str, t.Any]) -> None:
        jar = self._cookies
        if jar is None:
            return
        host, path = _cookie_target(environ)
        now = time.time()
        values = []
        for storage_key, cookie in list(jar.items()):
            if cookie._expired(now):
                del jar[storage_key]
            elif cookie._matches(host, path):
                values.append(f"{cookie.key}={cookie.value}")
        if values:
            environ["HTTP_COOKIE"] = "; ".join(values)
        else:
            environ.pop("HTTP_COOKIE", None)

    def _update_cookies(self, environ: dict[str, t.Any], headers: Headers) -> None:
        jar = self._cookies
        if jar is None:
            return
        set_cookies = headers.getlist("Set-Cookie")
        if not set_cookies:
            return
        host, path = _cookie_target(environ)
        now = time.time()
        for header in set_cookies:
            cookie = Cookie._from_header(host, path, header, now)
            if cookie is not None:
                self._store_cookie(jar, cookie, now)

    # -- requests -------------------------------------------------------------

    def run_app(
        self, environ: dict[str, t.Any], buffered: bool = False
    ) -> tuple[Iterable[bytes], str, Headers]:
        """Send the jar's cookies, run the app and store the cookies it set."""
        self._add_cookies(environ)
        if self.asgi:
            rv = run_asgi_app(
                self.application, environ, buffered=buffered, loop=self._get_loop()
            )
        else:
            rv = run_wsgi_app(self.application, environ, buffered=buffered)
        self._update_cookies(environ, rv[2])
        return rv

    def resolve_redirect(
        self, response: TestResponse, buffered: bool = False
    ) -> TestResponse:
        """Make the request that a redirect *response* points to.

        :raise RuntimeError: for a redirect to another host (or to a
            subdomain, unless allowed).
        """
        request = response.request
        environ: dict[str, t.Any] = getattr(request, "environ", None) or {}
        location = response.headers.get("Location") or ""
        # NOTE: relative references ("next", "../x") are resolved against the
        # request URL, as browsers do; absolute paths keep the host.
        if not location.startswith("/") and "://" not in location:
            location = urljoin(request.base_url, location)
        scheme, netloc, path, qs, _ = urlsplit(location)
        builder = EnvironBuilder.from_environ(environ, path=path, query_string=qs)
        to_parts = netloc.partition(":")[0].lower().split(".")
        from_parts = builder.server_name.lower().split(".")
        if to_parts != [""]:
            builder.url_scheme = scheme or builder.url_scheme
            builder.host = netloc
        else:
            to_parts = from_parts
        if to_parts != from_parts:
            if to_parts[-len(from_parts) :] != from_parts:
                raise RuntimeError(
                    f"Not following the redirect to {location!r}: it is on another"
                    f" host than {builder.server_name!r}, and the test client only"
                    " reaches the application under test."
                )
            if not self.allow_subdomain_redirects:
                raise RuntimeError(
                    f"Not following the redirect to the subdomain in {location!r}."
                    " Create the client with allow_subdomain_redirects=True to"
                    " follow it."
                )
        root = builder.script_root
        if root and (path == root or path.startswith(root + "/")):
            builder.path = path[len(root) :]
        else:
            builder.path = path
            builder.script_root = ""
        if response.status_code in (307, 308):
            # NOTE: the app read the body; rewind it so it is sent again
            # (Werkzeug sends an empty body here).
            if isinstance(request, TestRequest):
                request._rewind_body()
        else:
            if builder.method != "HEAD":
                builder.method = "GET"
            stream = builder.input_stream
            if stream is not None:
                stream.close()
                builder.input_stream = None
            builder.content_type = None
            builder.content_length = None
            builder.headers.remove("Transfer-Encoding")
        return self.open(builder, buffered=buffered)

    def _request_for(
        self, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]
    ) -> tuple[Request, dict[str, t.Any]]:
        if not kwargs and len(args) == 1:
            arg = args[0]
            if isinstance(arg, EnvironBuilder):
                environ = arg.get_environ()
                return TestRequest(environ), environ
            if isinstance(arg, dict):
                environ = EnvironBuilder.from_environ(arg).get_environ()
                return TestRequest(environ), environ
            arg_environ = getattr(arg, "environ", None)
            if isinstance(arg, Request) and isinstance(arg_environ, dict):
                return arg, arg_environ
        builder = EnvironBuilder(*args, **kwargs)
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        return TestRequest(environ), environ

    def open(
        self,
        *args: t.Any,
        buffered: bool = False,
        follow_redirects: bool = False,
        **kwargs: t.Any,
    ) -> TestResponse:
        """Send a request and return the response.

        :param args: an :class:`EnvironBuilder`, a WSGI environ dict (rebuilt
            with :meth:`EnvironBuilder.from_environ`), a request with an
            ``environ`` (such as a :class:`TestRequest`), or the arguments of
            :class:`EnvironBuilder`.
        :param buffered: read the whole body and close the app's iterable now.
        :param follow_redirects: make the requests that 301, 302, 303, 305,
            307 and 308 responses point to; :attr:`TestResponse.history`
            holds the intermediate responses.
        :raise ClientRedirectError: if a redirect chain loops.
        """
        request, environ = self._request_for(args, kwargs)
        response = self.response_wrapper(
            *self.run_app(environ, buffered=buffered), request=request
        )
        if self.asgi and not buffered:
            # NOTE: an unread ASGI body still needs the client's event loop;
            # the response keeps the client (and so its loop) alive.
            response._client = self  # type: ignore[attr-defined]
        if not follow_redirects:
            return response
        seen: set[tuple[str | None, int]] = set()
        history: list[TestResponse] = []
        while response.status_code in _REDIRECT_CODES:
            if not buffered:
                # NOTE: run the app's cleanup for intermediate responses.
                response.make_sequence()
                response.close()
            entry = (response.headers.get("Location"), response.status_code)
            if entry in seen:
                raise ClientRedirectError(
                    f"Redirect loop: the {response.status_code} redirect to"
                    f" {entry[0]!r} was already followed. Check the app's"
                    " redirects, or pass follow_redirects=False to inspect them."
                )
            seen.add(entry)
            response.history = tuple(history)
            history.append(response)
            response = self.resolve_redirect(response, buffered=buffered)
        response.history = tuple(history)
        return response

    @contextmanager
    def websocket(
        self,
        *args: t.Any,
        subprotocols: Iterable[str] = (),
        timeout: float = 10.0,
        **kwargs: t.Any,
    ) -> Iterator[TestWebsocket]:
        """Open a WebSocket to the app (ASGI, in-process) for a ``with`` block.

        The arguments are :meth:`open`'s (the path, ``query_string``,
        ``headers``, ...); the client's cookies are sent with the
        handshake. The connection is disconnected (1000) at the end of the
        block, and the app's teardown has run by then.

        :param subprotocols: the subprotocols to ask for.
        :param timeout: seconds each call waits for the app (a hang guard).
        :raise WebsocketRejected: the app refused the handshake.
        """
        request, environ = self._request_for(args, kwargs)
        self._add_cookies(environ)
        scope = environ_to_scope(environ)
        scope["type"] = "websocket"
        del scope["method"]
        scope["scheme"] = "wss" if scope["scheme"] == "https" else "ws"
        scope["subprotocols"] = list(subprotocols)
        scope["headers"] += [
            (b"connection", b"Upgrade"),
            (b"upgrade", b"websocket"),
            (b"sec-websocket-version", b"13"),
        ]
        scope["extensions"]["websocket.http.response"] = {}
        app = getattr(self.application, "asgi_app", self.application)
        ws = TestWebsocket(app, scope, self._get_loop(), request, timeout)
        try:
            ws._handshake()
            yield ws
        finally:
            ws.close()

    def get(self, *args: t.Any, **kw: t.Any) -> TestResponse:
        """Send a ``GET`` request; see :meth:`open`."""
        kw["method"] = "GET"
        return self.open(*args, **kw)

    def post(self, *args: t.Any, **kw: t.Any) -> TestResponse:
        """Send a ``POST`` request; see :meth:`open`."""
        kw["method"] = "POST"
        return self.open(*args, **kw)

    def put(self, *args: t.Any, **kw: t.Any) -> TestResponse:
        """Send a ``PUT`` request; see :meth:`open`."""
        kw["method"] = "PUT"
        return self.open(*args, **kw)

    def patch(self, *args: t.Any, **kw: t.Any) -> TestResponse:
        """Send a ``PATCH`` request; see :meth:`open`."""
        kw["method"] = "PATCH"
        return self.open(*args, **kw)

    def delete(self, *args: t.Any, **kw: t.Any) -> TestResponse:
        """Send a ``DELETE`` request; see :meth:`open`."""
        kw["method"] = "DELETE"
        return self.open(*args, **kw)

    def head(self, *args: t.Any, **kw: t.Any) -> TestResponse:
        """Send a ``HEAD`` request; see :meth:`open`."""
        kw["method"] = "HEAD"
        return self.open(*args, **kw)

    def options(self, *args: t.Any, **kw: t.Any) -> TestResponse:
        """Send an ``OPTIONS`` request; see :meth:`open`."""
        kw["method"] = "OPTIONS"
        return self.open(*args, **kw)

    def trace(self, *args: t.Any, **kw: t.Any) -> TestResponse:
        """Send a ``TRACE`` request; see :meth:`open`."""
        kw["method"] = "TRACE"
        return self.open(*args, **kw)


# -- the Flask layer -----------------------------------------------------------


def app_base_url(
    app: t.Any,
    path: str = "/",
    subdomain: str | None = None,
    url_scheme: str | None = None,
) -> tuple[str, str]:
    """Return ``(base_url, path)`` for a test request to ``app``, as Flask builds it.

    The host comes from ``SERVER_NAME`` (else ``localhost``, with an optional
    subdomain), the scheme from ``PREFERRED_URL_SCHEME``, and the script root
    from ``APPLICATION_ROOT``; an absolute URL in ``path`` wins.
    """
    http_host = app.config.get("SERVER_NAME") or "localhost"
    app_root = app.config["APPLICATION_ROOT"]
    if subdomain:
        http_host = f"{subdomain}.{http_host}"
    if url_scheme is None:
        url_scheme = app.config["PREFERRED_URL_SCHEME"]
    url = urlsplit(path)
    base_url = (
        f"{url.scheme or url_scheme}://{url.netloc or http_host}/{app_root.lstrip('/')}"
    )
    path = url.path
    if url.query:
        path = f"{path}?{url.query}"
    return base_url, path


def app_environ_builder(app: t.Any, *args: t.Any, **kwargs: t.Any) -> EnvironBuilder:
    """Return an :class:`EnvironBuilder` whose defaults come from ``app``'s config.

    Takes :class:`EnvironBuilder`'s arguments plus ``subdomain`` and
    ``url_scheme``; without ``base_url`` one is made by :func:`app_base_url`.

    .. note:: Flask compatibility: Flask's ``flask.testing.EnvironBuilder``
       takes the app as its first argument; erlen keeps ``EnvironBuilder``
       protocol-level and offers this function instead.
    """
    subdomain = kwargs.pop("subdomain", None)
    url_scheme = kwargs.pop("url_scheme", None)
    json_value = kwargs.get("json")
    if json_value is not None and kwargs.get("data") is None:
        # NOTE: as in Flask, ``json=`` is encoded with the app's JSON provider
        # (its sort_keys, default(), ...), not with the stdlib defaults.
        del kwargs["json"]
        kwargs["data"] = app.json.dumps(json_value)
        if kwargs.get("content_type") is None:
            kwargs["content_type"] = "application/json"
    if kwargs.get("base_url") is None:
        path = args[0] if args else kwargs.pop("path", "/")
        args = args[1:]
        if subdomain or url_scheme:
            if kwargs.get("base_url") is not None:
                raise ValueError(
                    "Pass either base_url, or subdomain/url_scheme, not both."
                )
        kwargs["base_url"], kwargs["path"] = app_base_url(
            app, path, subdomain, url_scheme
        )
    return EnvironBuilder(*args, **kwargs)


class FlaskClient(Client):
    """The client :meth:`erlen.Flask.test_client` returns.

    On top of :class:`Client`: request defaults from the app's config
    (``SERVER_NAME``, ``APPLICATION_ROOT``, ``PREFERRED_URL_SCHEME``),
    :meth:`session_transaction`, and ``with client:``, which keeps the last
    request's contexts active so ``request``, ``session`` and ``g`` can be
    inspected after it.

    :param asgi: drive the app over ASGI instead of WSGI (default WSGI), so
        the same tests can run on both protocols.
    """

    application: t.Any

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        kwargs.setdefault("asgi", False)
        super().__init__(*args, **kwargs)
        self.preserve_context = False
        self._new_contexts: list[t.ContextManager[t.Any]] = []
        self._context_stack = ExitStack()
        #: Environ keys every request starts from.
        self.environ_base: dict[str, t.Any] = {
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_USER_AGENT": "erlen-test-client",
        }

    def _request_for(
        self, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]
    ) -> tuple[Request, dict[str, t.Any]]:
        if not kwargs and len(args) == 1 and not isinstance(args[0], str):
            request, environ = super()._request_for(args, kwargs)
        else:
            kwargs["environ_base"] = {
                **self.environ_base,
                **(kwargs.get("environ_base") or {}),
            }
            builder = app_environ_builder(self.application, *args, **kwargs)
            try:
                environ = builder.get_environ()
            finally:
                builder.close()
            request = TestRequest(environ)
        if self.preserve_context:
            environ["erlen.debug.preserve_context"] = self._new_contexts.append
        return request, environ

    def run_app(
        self, environ: dict[str, t.Any], buffered: bool = False
    ) -> tuple[Iterable[bytes], str, Headers]:
        """Run the app; under ASGI pass the preserve-context hook through the scope."""
        preserve = environ.get("erlen.debug.preserve_context")
        if self.asgi and preserve is not None:
            environ["erlen.asgi.extensions"] = {"erlen.preserve_context": preserve}
        return super().run_app(environ, buffered=buffered)

    def open(
        self,
        *args: t.Any,
        buffered: bool = False,
        follow_redirects: bool = False,
        **kwargs: t.Any,
    ) -> TestResponse:
        """Send a request (see :meth:`Client.open`); `with client:` keeps it."""
        # Pop the previous request's preserved contexts first.
        self._context_stack.close()
        response = super().open(
            *args, buffered=buffered, follow_redirects=follow_redirects, **kwargs
        )
        # Oldest first, as they were pushed (the app context, then the
        # request context), so that closing the stack pops them in reverse.
        for cm in self._new_contexts:
            self._context_stack.enter_context(cm)
        self._new_contexts.clear()
        return response

    @contextmanager
    def session_transaction(self, *args: t.Any, **kwargs: t.Any) -> Iterator[t.Any]:
        """Open the client's session for editing; it is saved back on exit.

        Takes :meth:`erlen.Flask.test_request_context`'s arguments to choose
        the request the session is opened for.
        """
        if self._cookies is None:
            raise TypeError(
                "Cookies are disabled. Create the client with use_cookies=True."
            )
        app = self.application
        ctx = app.test_request_context(*args, **kwargs)
        self._add_cookies(ctx.request.environ)
        # The request was built before the cookies were added to its environ.
        ctx.request.__dict__.pop("cookies", None)
        with ctx:
            sess = app.session_interface.open_session(app, ctx.request)
        if sess is None:
            raise RuntimeError("The session interface did not open a session.")
        yield sess
        response = app.response_class()
        if app.session_interface.is_null_session(sess):
            return
        with ctx:
            app.session_interface.save_session(app, sess, response)
        self._update_cookies(ctx.request.environ, response.headers)

    def __enter__(self) -> t.Self:
        if self.preserve_context:
            raise RuntimeError("Cannot nest client invocations")
        self.preserve_context = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.preserve_context = False
        self._context_stack.close()
