"""The request and response classes an erlen app uses, with Flask's additions."""

from __future__ import annotations

import typing as t
from io import BytesIO

from . import json as _app_json
from ._cache import cache_put
from .datastructures import EnvironHeaders
from .datastructures import Headers
from .exceptions import BadRequest
from .exceptions import HTTPException
from .globals import _cv_app
from .sansio._lazy import lazy_property
from .sansio.formparser import parse_urlencoded
from .sansio.request import Request as _SansIORequest
from .sansio.response import Response as _SansIOResponse

if t.TYPE_CHECKING:  # pragma: no cover
    from .datastructures import MultiDict
    from .routing import Rule


_new_object = object.__new__
_URLENCODED = "application/x-www-form-urlencoded"

# A blueprint's name and its parents' names, by name (see Request.blueprints).
_blueprint_paths: dict[str, list[str]] = {}
_BLUEPRINT_PATHS_MAX = 512


def _wsgi_decode(value: str) -> str:
    # WSGI carries path bytes as latin-1 code points; the URL is UTF-8.
    if value.isascii():
        # PERF: ASCII reads the same either way; skip the two codec passes.
        return value
    try:
        return value.encode("latin-1").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return value


def _server_from_environ(
    environ: t.Mapping[str, t.Any],
) -> tuple[str, int | None] | None:
    name = environ.get("SERVER_NAME")
    if not name:
        return None
    port = environ.get("SERVER_PORT")
    try:
        return name, int(port) if port else None
    except ValueError:
        return name, None


def _raw_body_headers(
    raw: t.Iterable[tuple[bytes, bytes]],
) -> tuple[str | None, str | None, bool]:
    # The Content-Type and Content-Length of an ASGI request's raw headers
    # (the first of each name, as Headers.get reads them), and whether a
    # Transfer-Encoding was sent.
    ctype = length = None
    chunked = False
    for name, value in raw:
        name = name.lower()
        if name == b"content-type":
            if ctype is None:
                ctype = value.decode("latin-1")
        elif name == b"content-length":
            if length is None:
                length = value.decode("latin-1")
        elif name == b"transfer-encoding":
            chunked = True
    return ctype, length, chunked


class Request(_SansIORequest):
    """The request object behind :data:`erlen.request`.

    Built from a WSGI-shaped ``environ`` (under ASGI the driver makes one from
    the scope), it adds Flask's routing results and reads its body limits
    from the current app's config unless set on the request itself.
    """

    #: What :meth:`get_json` parses with: :mod:`erlen.json`, which follows
    #: the current app's JSON provider (stdlib json outside an app context).
    json_module: t.Any = _app_json

    #: The matched rule, or ``None`` before or after a failed match.
    url_rule: Rule | None = None
    #: The matched URL values, or ``None``.
    view_args: dict[str, t.Any] | None = None
    #: The routing error (404, 405, a redirect), kept until dispatch raises it.
    routing_exception: HTTPException | None = None

    _max_content_length: int | None = None
    _max_form_memory_size: int | None = None
    _max_form_parts: int | None = None
    _max_json_depth: int | None = None

    def __init__(
        self,
        environ: dict[str, t.Any],
        populate_request: bool = True,
        shallow: bool = False,
    ) -> None:
        # PERF: little is read from the environ here; path, headers and the
        # rest are lazy properties below, computed on first access, since
        # most requests touch only a few of them.
        #: The WSGI-shaped environ this request was built from.
        self.environ = environ
        if self._erlen_plain_init and not shallow:
            # PERF: every request reads its method (the view lookup does), so
            # it is read here, as Werkzeug does, without the lazy property's
            # two Python calls; the plain attribute shadows the ``method``
            # lazy property below. ``shallow`` keeps its class default False.
            self.method = environ.get("REQUEST_METHOD", "GET").upper()
            if populate_request:
                environ["erlen.request"] = self
            return
        self.shallow = shallow
        if populate_request and not shallow:
            environ["erlen.request"] = self

    # The sansio constructor's arguments, read from the environ on first use.

    @lazy_property
    def method(self) -> str:
        """The request method, uppercased."""
        return self.environ.get("REQUEST_METHOD", "GET").upper()  # type: ignore[no-any-return]

    @lazy_property
    def scheme(self) -> str:
        """The URL scheme, such as ``https``."""
        return self.environ.get("wsgi.url_scheme", "http")  # type: ignore[no-any-return]

    @lazy_property
    def server(self) -> tuple[str, int | None] | None:
        """The server address ``(host, port)``, or ``None``."""
        return _server_from_environ(self.environ)

    @lazy_property
    def root_path(self) -> str:
        """The mount prefix, without a trailing slash."""
        return _wsgi_decode(self.environ.get("SCRIPT_NAME") or "").rstrip("/")

    @lazy_property
    def path(self) -> str:
        """The path after :attr:`root_path`, always starting with ``/``."""
        path = self.environ.get("PATH_INFO") or ""
        # PERF: the usual path is ASCII and starts with one "/": no decoding
        # and no new string.
        if path.isascii():
            if path[:1] == "/" and path[1:2] != "/":
                return path
            return "/" + path.lstrip("/")
        return "/" + _wsgi_decode(path).lstrip("/")

    @lazy_property
    def query_string(self) -> bytes:
        """The raw query string bytes."""
        return self.environ.get("QUERY_STRING", "").encode("latin-1")  # type: ignore[no-any-return]

    @lazy_property
    def headers(self) -> Headers:
        """The request headers."""
        raw = self.environ.get("erlen.raw_headers")
        if raw is not None:
            # ASGI: the server's header list as given, never merged by name.
            return Headers._from_received(
                [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]
            )
        # PERF: EnvironHeaders.__init__'s two writes without its call.
        headers = _new_object(EnvironHeaders)
        headers._list = []
        headers.environ = self.environ
        return headers

    @lazy_property
    def args(self) -> MultiDict[str, str]:
        """The query string arguments; bytes that are not UTF-8 stay ``%XX``."""
        if self._erlen_plain_query and "query_string" not in self.__dict__:
            # PERF: the query string straight from the environ, without the
            # query_string lazy property's two calls (a subclass overriding
            # it, or a value assigned to it, is still read through it).
            query = self.environ.get("QUERY_STRING", "").encode("latin-1")
        else:
            query = self.query_string
        # PERF: the form's bulk decoder (the same answer as
        # ``cls(parse_qsl(query, keep_blank_values=True))``).
        return parse_urlencoded(query, None, self.parameter_storage_class)

    @lazy_property
    def remote_addr(self) -> str | None:
        """The client address, if known."""
        return self.environ.get("REMOTE_ADDR")

    @lazy_property
    def input_terminated(self) -> bool:
        """Whether the server terminates the body stream itself."""
        return bool(self.environ.get("wsgi.input_terminated"))

    @lazy_property
    def _raw_stream(self) -> t.IO[bytes] | None:
        return self.environ.get("wsgi.input")

    @lazy_property
    def input_stream(self) -> t.IO[bytes]:
        """The raw body stream, with no length checks; prefer :attr:`stream`."""
        # PERF: read from the environ at once, without the _raw_stream lazy
        # property's two calls (it stays for a subclass that reads it).
        stream: t.IO[bytes] | None = self.environ.get("wsgi.input")
        return BytesIO() if stream is None else stream

    @property
    def remote_user(self) -> str | None:
        """The authenticated user name the server reports, if any."""
        value = self.environ.get("REMOTE_USER")
        return value if isinstance(value, str) else None

    @property
    def is_multithread(self) -> bool:
        """Whether the server may run this app in several threads."""
        return bool(self.environ.get("wsgi.multithread"))

    @property
    def is_multiprocess(self) -> bool:
        """Whether the server may run this app in several processes."""
        return bool(self.environ.get("wsgi.multiprocess"))

    @property
    def is_run_once(self) -> bool:
        """Whether the server runs the app once per process (CGI)."""
        return bool(self.environ.get("wsgi.run_once"))

    def _config_limit(
        self, key: str, own: int | None, default: int | None
    ) -> int | None:
        if own is not None:
            return own
        ctx = _cv_app.get(None)
        if ctx is None:
            return default
        return ctx.app.config.get(key, default)

    @property
    def max_content_length(self) -> int | None:
        """Largest body in bytes: set on the request, else ``MAX_CONTENT_LENGTH``."""
        # PERF: _config_limit() inlined; read by every request body read.
        own = self._max_content_length
        if own is not None:
            return own
        ctx = _cv_app.get(None)
        if ctx is None:
            return _SansIORequest.max_content_length
        return ctx.app.config.get(
            "MAX_CONTENT_LENGTH", _SansIORequest.max_content_length
        )

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    @property
    def max_form_memory_size(self) -> int | None:
        """Largest form text field in bytes, else ``MAX_FORM_MEMORY_SIZE``."""
        return self._config_limit(
            "MAX_FORM_MEMORY_SIZE",
            self._max_form_memory_size,
            _SansIORequest.max_form_memory_size,
        )

    @max_form_memory_size.setter
    def max_form_memory_size(self, value: int | None) -> None:
        self._max_form_memory_size = value

    @property
    def max_form_parts(self) -> int | None:
        """Largest number of form parts, else ``MAX_FORM_PARTS``."""
        return self._config_limit(
            "MAX_FORM_PARTS", self._max_form_parts, _SansIORequest.max_form_parts
        )

    @max_form_parts.setter
    def max_form_parts(self, value: int | None) -> None:
        self._max_form_parts = value

    @property
    def max_json_depth(self) -> int | None:
        """Deepest JSON nesting accepted, else ``MAX_JSON_DEPTH`` (an erlen key)."""
        return self._config_limit(
            "MAX_JSON_DEPTH", self._max_json_depth, _SansIORequest.max_json_depth
        )

    @max_json_depth.setter
    def max_json_depth(self, value: int | None) -> None:
        self._max_json_depth = value

    def _erlen_urlencoded_body(self) -> tuple[int, t.IO[bytes]] | None:
        d = self.__dict__
        environ = self.environ
        headers = d.get("headers")
        raw = environ.get("erlen.raw_headers")
        if not self._erlen_plain_body or (
            headers is not None
            and (
                raw is not None
                or headers.__class__ is not EnvironHeaders
                or headers.environ is not environ
            )
        ):
            return super()._erlen_urlencoded_body()
        # PERF: the Content-Type, Content-Length and Transfer-Encoding read
        # as the headers, mimetype and content_length properties would read
        # them, without making them (the request's headers cost the most).
        if raw is None:
            ctype = environ.get("CONTENT_TYPE")
        else:
            ctype, length, chunked = _raw_body_headers(raw)
        if ctype != _URLENCODED and (
            not ctype or ctype.partition(";")[0].strip(" \t").lower() != _URLENCODED
        ):
            return None
        if raw is None:
            length = environ.get("CONTENT_LENGTH")
            chunked = "HTTP_TRANSFER_ENCODING" in environ
        if (
            length is not None
            and not chunked
            and "content_length" not in d
            and "input_stream" not in d
            and length.isdigit()
            and length.isascii()
        ):
            stream: t.IO[bytes] | None = environ.get("wsgi.input")
            return int(length), BytesIO() if stream is None else stream
        return super()._erlen_urlencoded_body()

    def _erlen_form_limits(self) -> tuple[int | None, int | None, int | None]:
        if not self._erlen_plain_limits:
            return super()._erlen_form_limits()
        # PERF: the three properties above at once, with one config lookup
        # (the urlencoded form path reads them all).
        base = _SansIORequest
        length = self._max_content_length
        size = self._max_form_memory_size
        parts = self._max_form_parts
        if length is None or size is None or parts is None:
            ctx = _cv_app.get(None)
            if ctx is None:
                config: t.Mapping[str, t.Any] = {}
            else:
                config = ctx.app.config
            if length is None:
                length = config.get("MAX_CONTENT_LENGTH", base.max_content_length)
            if size is None:
                size = config.get("MAX_FORM_MEMORY_SIZE", base.max_form_memory_size)
            if parts is None:
                parts = config.get("MAX_FORM_PARTS", base.max_form_parts)
        return length, size, parts

    # True while neither endpoint nor blueprint is overridden (a subclass
    # that does is served by the general path of blueprints).
    _erlen_plain_blueprint: t.ClassVar[bool] = True

    # True while ``method`` is this class's lazy property and ``shallow``
    # defaults to False: __init__ then takes its short path (a subclass
    # defining its own ``method`` keeps it, lazy or not).
    _erlen_plain_init: t.ClassVar[bool] = True
    # True while ``query_string`` is this class's lazy property (see args).
    _erlen_plain_query: t.ClassVar[bool] = True
    # True while the body limits are this class's properties (see
    # _erlen_form_limits).
    _erlen_plain_limits: t.ClassVar[bool] = True
    # True while headers, content_length and input_stream are this class's
    # (see _erlen_urlencoded_body).
    _erlen_plain_body: t.ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._erlen_plain_blueprint = (
            cls.endpoint is Request.endpoint and cls.blueprint is Request.blueprint
        )
        cls._erlen_plain_init = cls.method is Request.method and cls.shallow is False
        cls._erlen_plain_query = cls.query_string is Request.query_string
        cls._erlen_plain_body = (
            cls.headers is Request.headers
            and cls.content_length is Request.content_length
            and cls.input_stream is Request.input_stream
        )
        cls._erlen_plain_limits = (
            cls.max_content_length is Request.max_content_length
            and cls.max_form_memory_size is Request.max_form_memory_size
            and cls.max_form_parts is Request.max_form_parts
        )

    @property
    def endpoint(self) -> str | None:
        """The endpoint of the matched rule, or ``None``."""
        rule = self.url_rule
        return None if rule is None else rule.endpoint

    @property
    def blueprint(self) -> str | None:
        """The registered (dotted) name of the blueprint that handled the request."""
        endpoint = self.endpoint
        if endpoint is not None and "." in endpoint:
            return endpoint.rpartition(".")[0]
        return None

    @property
    def blueprints(self) -> list[str]:
        """The current blueprint's name and its parents', innermost first.

        As in Flask, the list is shared by every request of the same
        blueprint: do not modify it.
        """
        if self._erlen_plain_blueprint:
            # PERF: the pipeline asks twice per request; one property call
            # instead of three, and an app view (no dot) returns at once.
            rule = self.url_rule
            if rule is None:
                return []
            endpoint = rule.endpoint
            if endpoint is None or "." not in endpoint:
                return []
            name = endpoint.rpartition(".")[0]
        else:
            blueprint = self.blueprint
            if blueprint is None:
                return []
            name = blueprint
        names = _blueprint_paths.get(name)
        if names is None:
            names = [name]
            while "." in name:
                name = name.rpartition(".")[0]
                names.append(name)
            names = cache_put(_blueprint_paths, _BLUEPRINT_PATHS_MAX, names[0], names)
        return names

    def on_json_loading_failed(self, e: ValueError | None) -> t.Any:
        """Raise 400 for a body that is not valid JSON; the detail only in debug."""
        try:
            return super().on_json_loading_failed(e)
        except BadRequest as ebr:
            ctx = _cv_app.get(None)
            if ctx is not None and ctx.app.debug:
                raise
            raise BadRequest() from ebr


class Response(_SansIOResponse):
    """The response class an erlen app returns by default (``text/html``)."""

    default_mimetype: str | None = "text/html"

    #: Flask keeps ``Location`` as given (relative URLs stay relative).
    autocorrect_location_header = False

    @property
    def max_cookie_size(self) -> int:  # type: ignore[override]
        """Largest cookie in bytes before a warning: the app's ``MAX_COOKIE_SIZE``."""
        ctx = _cv_app.get(None)
        if ctx is not None:
            return ctx.app.config["MAX_COOKIE_SIZE"]  # type: ignore[no-any-return]
        return 4093
