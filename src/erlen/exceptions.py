"""HTTP error exceptions, their default HTML pages, and the abort helpers."""

from __future__ import annotations

import typing as t
from datetime import datetime

from ._cache import cache_put
from ._parsing import http_date
from ._parsing import HTTP_STATUS_CODES as _STATUS_NAMES

if t.TYPE_CHECKING:  # pragma: no cover
    from .sansio.response import Response

# NOTE: the same five replacements as MarkupSafe's ``escape`` so that the
# error pages are byte-identical to Werkzeug's for the same description.
_HTML_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"}
)


# Error pages by (code, description), for classes whose page depends on
# nothing else (see HTTPException.get_body).
_bodies: dict[tuple[int | None, str | None], str] = {}
_BODIES_MAX = 256


def _escape(value: str) -> str:
    """Return ``value`` with the HTML special characters replaced by entities."""
    return value.translate(_HTML_ESCAPES)


class HTTPException(Exception):
    """Base class of the HTTP errors; raise a subclass to end a request with it.

    :param description: replaces the class's default description (plain text; it
        is HTML-escaped on the error page, and newlines become ``<br>``).
    :param response: a ready response to send instead of the default page.

    .. note:: Flask compatibility: Werkzeug's exceptions are also WSGI
       applications (``exc(environ, start_response)``). erlen's are not: this
       layer knows no server protocol, and the WSGI/ASGI drivers turn
       :meth:`get_response` into bytes on the wire.
    """

    #: The HTTP status code, or None on the abstract base.
    code: int | None = None
    #: The plain-text explanation shown on the error page.
    description: str | None = None

    def __init__(
        self, description: str | None = None, response: Response | None = None
    ) -> None:
        super().__init__()
        if description is not None:
            self.description = description
        #: A response to return from :meth:`get_response` instead of the page.
        self.response = response

    @classmethod
    def wrap(
        cls, exception: type[BaseException], name: str | None = None
    ) -> type[HTTPException]:
        """Return a subclass of this class that is also a ``exception``.

        The new class is raised as ``NewClass(arg)``; ``arg`` becomes the wrapped
        exception's argument, and setting ``show_exception`` to True appends it
        to the description (useful in debug mode).

        :param exception: the exception class to combine with, e.g. ``KeyError``.
        :param name: the new class's name; defaults to both names joined.
        """
        if not (isinstance(exception, type) and issubclass(exception, BaseException)):
            raise TypeError(
                f"{cls.__name__}.wrap() expected an exception class to combine"
                f" with, but received {exception!r} (a {type(exception).__name__})."
                " Pass a class such as KeyError."
            )
        namespace = _wrapped_namespace(cls, exception)
        new_name = name or f"{cls.__name__}{exception.__name__}"
        namespace["__qualname__"] = new_name
        return t.cast(
            "type[HTTPException]", type(new_name, (cls, exception), namespace)
        )

    @property
    def name(self) -> str:
        """The reason phrase of :attr:`code`, such as ``"Not Found"``."""
        return _STATUS_NAMES.get(self.code, "Unknown Error")  # type: ignore[arg-type]

    def get_description(
        self,
        environ: t.Any | None = None,
        scope: dict[str, t.Any] | None = None,
    ) -> str:
        """Return the description as an HTML ``<p>`` element."""
        description = self.description
        if not description:
            return "<p></p>"
        return f"<p>{_escape(description).replace(chr(10), '<br>')}</p>"

    def get_body(
        self,
        environ: t.Any | None = None,
        scope: dict[str, t.Any] | None = None,
    ) -> str:
        """Return the HTML error page."""
        cls = type(self)
        if (
            cls.get_description is HTTPException.get_description
            and cls.name is HTTPException.name
        ):
            # PERF: the page then depends only on the code and the description
            # (a 404 answers the same page every time); it is built once and
            # kept in a bounded cache.
            key = (self.code, self.description)
            body = _bodies.get(key)
            if body is None:
                body = cache_put(
                    _bodies, _BODIES_MAX, key, self._build_body(environ, scope)
                )
            return body
        return self._build_body(environ, scope)

    def _build_body(self, environ: t.Any | None, scope: dict[str, t.Any] | None) -> str:
        name = _escape(self.name)
        return (
            "<!doctype html>\n"
            "<html lang=en>\n"
            f"<title>{self.code} {name}</title>\n"
            f"<h1>{name}</h1>\n"
            f"{self.get_description(environ, scope)}\n"
        )

    def get_headers(
        self,
        environ: t.Any | None = None,
        scope: dict[str, t.Any] | None = None,
    ) -> list[tuple[str, str]]:
        """Return the error response's headers as ``(name, value)`` pairs."""
        return [("Content-Type", "text/html; charset=utf-8")]

    def get_response(
        self,
        environ: t.Any | None = None,
        scope: dict[str, t.Any] | None = None,
    ) -> Response:
        """Return :attr:`response` if set, else a response with the error page.

        :param environ: the WSGI environ (or a request), for subclasses that
            tailor the page to the request.
        :param scope: the ASGI scope, for the same purpose.
        """
        if self.response is not None:
            return self.response
        # NOTE: the one upward import of the L0 layer (see docs/architecture.md),
        # deferred so that importing exceptions never imports the sans-IO core.
        from .sansio.response import Response

        return Response(
            self.get_body(environ, scope), self.code, self.get_headers(environ, scope)
        )

    def __str__(self) -> str:
        code = "???" if self.code is None else self.code
        return f"{code} {self.name}: {self.description}"

    def __repr__(self) -> str:
        code = "???" if self.code is None else self.code
        return f"<{type(self).__name__} '{code}: {self.name}'>"


def _wrapped_namespace(
    base: type[HTTPException], exception: type[BaseException]
) -> dict[str, t.Any]:
    """Return the class body for :meth:`HTTPException.wrap`."""

    def __init__(
        self: t.Any, arg: object = None, *args: t.Any, **kwargs: t.Any
    ) -> None:
        base.__init__(self, *args, **kwargs)
        if arg is None:
            exception.__init__(self)
        else:
            exception.__init__(self, arg)

    def _get_description(self: t.Any) -> str | None:
        description: str | None = self._description
        if self.show_exception:
            return f"{description}\n{exception.__name__}: {exception.__str__(self)}"
        return description

    def _set_description(self: t.Any, value: str | None) -> None:
        self._description = value

    return {
        "__init__": __init__,
        "__module__": base.__module__,
        "_description": base.description,
        "show_exception": False,
        "description": property(_get_description, _set_description),
    }


class BadRequest(HTTPException):
    """*400 Bad Request*: the request could not be understood or processed."""

    code = 400
    description = (
        "The server could not understand the request sent by the browser (or a"
        " proxy in between)."
    )


class BadRequestKeyError(BadRequest, KeyError):
    """*400 Bad Request* that is also a :exc:`KeyError` (a missing form or query key).

    The data structures raise it, so ``request.form["x"]`` gives a 400 response
    when the key is absent while remaining catchable as ``KeyError``.
    """

    _description: str | None = BadRequest.description
    #: Append ``KeyError: 'name'`` to the description. Leave it off in
    #: production; Flask turns it on in debug mode.
    show_exception = False

    def __init__(self, arg: object | None = None, *args: t.Any, **kwargs: t.Any):
        super().__init__(*args, **kwargs)
        if arg is None:
            KeyError.__init__(self)
        else:
            KeyError.__init__(self, arg)

    @property
    def key(self) -> object | None:
        """The missing key, or None if none was given."""
        return self.args[0] if self.args else None

    @property  # type: ignore[override]
    def description(self) -> str | None:
        """The description, with the missing key if :attr:`show_exception` is set."""
        if self.show_exception:
            return f"{self._description}\nKeyError: {KeyError.__str__(self)}"
        return self._description

    @description.setter
    def description(self, value: str | None) -> None:
        self._description = value


class ClientDisconnected(BadRequest):
    """*400*: the client went away before the request body was read in full.

    Answering is usually pointless, since nobody is listening; the class exists
    so servers and apps can recognise the case and stay quiet about it.
    """


class SecurityError(BadRequest):
    """*400*: the request tripped a security check; otherwise a plain bad request."""


class BadHost(BadRequest):
    """*400*: the ``Host`` header is malformed or not among the trusted hosts."""


class Unauthorized(HTTPException):
    """*401 Unauthorized*: the request lacks valid credentials.

    :param description: replaces the default description.
    :param response: a ready response to send instead of the error page.
    :param www_authenticate: one challenge or an iterable of challenges (objects
        such as :class:`~erlen.datastructures.WWWAuthenticate`, turned to text
        with ``str()``); each becomes its own ``WWW-Authenticate`` header.
    """

    code = 401
    description = (
        "The server could not confirm that you may access the requested URL."
        " The credentials were missing or wrong (a mistyped password, for"
        " example), or the browser does not know how to send them."
    )

    def __init__(
        self,
        description: str | None = None,
        response: Response | None = None,
        www_authenticate: t.Any | t.Iterable[t.Any] | None = None,
    ) -> None:
        super().__init__(description, response)
        # NOTE: a challenge object is recognised by its ``to_header`` method, so
        # this layer does not import the data structures above it.
        if www_authenticate is not None and (
            hasattr(www_authenticate, "to_header") or isinstance(www_authenticate, str)
        ):
            www_authenticate = (www_authenticate,)
        #: The challenges sent as ``WWW-Authenticate`` headers, or None.
        self.www_authenticate: t.Iterable[t.Any] | None = www_authenticate

    def get_headers(
        self,
        environ: t.Any | None = None,
        scope: dict[str, t.Any] | None = None,
    ) -> list[tuple[str, str]]:
        """Return the headers, with one ``WWW-Authenticate`` per challenge."""
        headers = super().get_headers(environ, scope)
        if self.www_authenticate:
            headers.extend(("WWW-Authenticate", str(v)) for v in self.www_authenticate)
        return headers


class Forbidden(HTTPException):
    """*403 Forbidden*: the client is known but may not access the resource."""

    code = 403
    description = (
        "You do not have permission to access the requested resource. It is"
        " either protected against reading or the server cannot read it."
    )


class NotFound(HTTPException):
    """*404 Not Found*: nothing exists at the requested URL."""

    code = 404
    description = (
        "Nothing was found at the requested URL on this server. If you typed the"
        " URL yourself, please check the spelling and try again."
    )


class MethodNotAllowed(HTTPException):
    """*405 Method Not Allowed*: the resource exists but not for this method.

    :param valid_methods: the methods the resource accepts, sent in ``Allow``
        (a 405 response should always carry them).
    :param description: replaces the default description.
    :param response: a ready response to send instead of the error page.
    """

    code = 405
    description = "The requested URL does not accept this request method."

    def __init__(
        self,
        valid_methods: t.Iterable[str] | None = None,
        description: str | None = None,
        response: Response | None = None,
    ) -> None:
        super().__init__(description=description, response=response)
        #: The methods listed in the ``Allow`` header, or None.
        self.valid_methods = valid_methods

    def get_headers(
        self,
        environ: t.Any | None = None,
        scope: dict[str, t.Any] | None = None,
    ) -> list[tuple[str, str]]:
        """Return the headers, with ``Allow`` if valid methods are known."""
        headers = super().get_headers(environ, scope)
        if self.valid_methods:
            headers.append(("Allow", ", ".join(self.valid_methods)))
        return headers


class NotAcceptable(HTTPException):
    """*406 Not Acceptable*: no representation matches the request's Accept headers."""

    code = 406
    description = (
        "The requested resource can only produce content that the Accept"
        " headers of the request do not allow."
    )


class RequestTimeout(HTTPException):
    """*408 Request Timeout*: the client took too long to send its request."""

    code = 408
    description = (
        "The browser did not finish sending the request in time, so the server"
        " closed the connection."
    )


class Conflict(HTTPException):
    """*409 Conflict*: the request clashes with the resource's current state."""

    code = 409
    description = (
        "The request conflicts with the current state of the resource, which"
        " may have changed while the request was being handled."
    )


class Gone(HTTPException):
    """*410 Gone*: the resource existed but was removed for good."""

    code = 410
    description = (
        "The requested URL used to exist on this server but has been removed,"
        " and no new address is known. If a link brought you here, please tell"
        " the owner of the page that links to it."
    )


class LengthRequired(HTTPException):
    """*411 Length Required*: the request body came without a ``Content-Length``."""

    code = 411
    description = "Requests with this method must carry a valid Content-Length header."


class PreconditionFailed(HTTPException):
    """*412 Precondition Failed*: a conditional request header evaluated to false."""

    code = 412
    description = "A precondition in the request headers evaluated to false."


class RequestEntityTooLarge(HTTPException):
    """*413 Content Too Large*: the request body exceeds a configured limit."""

    code = 413
    description = "The data sent is larger than the server is willing to accept."


class RequestURITooLarge(HTTPException):
    """*414 URI Too Long*: the request target exceeds the server's limit."""

    code = 414
    description = (
        "The requested URL is longer than this server is willing to handle, so"
        " the request cannot be processed."
    )


class UnsupportedMediaType(HTTPException):
    """*415 Unsupported Media Type*: the body's content type cannot be handled."""

    code = 415
    description = (
        "The server cannot handle the media type of the data sent with the request."
    )


class RequestedRangeNotSatisfiable(HTTPException):
    """*416 Range Not Satisfiable*: the requested range lies outside the resource.

    :param length: the resource's full length; if given, the response carries
        ``Content-Range: <units> */<length>``.
    :param units: the range unit.
    :param description: replaces the default description.
    :param response: a ready response to send instead of the error page.
    """

    code = 416
    description = "The requested range of the resource cannot be served."

    def __init__(
        self,
        length: int | None = None,
        units: str = "bytes",
        description: str | None = None,
        response: Response | None = None,
    ) -> None:
        super().__init__(description=description, response=response)
        #: The complete length of the resource, or None.
        self.length = length
        #: The range unit used in ``Content-Range``.
        self.units = units

    def get_headers(
        self,
        environ: t.Any | None = None,
        scope: dict[str, t.Any] | None = None,
    ) -> list[tuple[str, str]]:
        """Return the headers, with ``Content-Range`` if the length is known."""
        headers = super().get_headers(environ, scope)
        if self.length is not None:
            headers.append(("Content-Range", f"{self.units} */{self.length}"))
        return headers


class ExpectationFailed(HTTPException):
    """*417 Expectation Failed*: the ``Expect`` header cannot be honoured."""

    code = 417
    description = "The server cannot meet the expectation given in the Expect header."


class ImATeapot(HTTPException):
    """*418 I'm a teapot*: asked to brew coffee, this server declines (RFC 2324)."""

    code = 418
    description = "This server is a teapot; it does not brew coffee."


class MisdirectedRequest(HTTPException):
    """*421 Misdirected Request*: this server cannot answer for the requested origin."""

    code = 421
    description = "This server cannot produce a response for this request."


class UnprocessableEntity(HTTPException):
    """*422 Unprocessable Content*: well-formed, but its contents cannot be acted on."""

    code = 422
    description = (
        "The request was well-formed, but its contents contain semantic errors"
        " and cannot be processed."
    )


class Locked(HTTPException):
    """*423 Locked*: the resource is locked (WebDAV)."""

    code = 423
    description = "The requested resource is currently locked."


class FailedDependency(HTTPException):
    """*424 Failed Dependency*: an action this request relied on failed (WebDAV)."""

    code = 424
    description = (
        "The method could not be applied to the resource because another action"
        " it depended on failed."
    )


class PreconditionRequired(HTTPException):
    """*428 Precondition Required*: the server insists on a conditional request.

    Requiring ``If-Match`` or ``If-Unmodified-Since`` on writes stops clients from
    overwriting changes they have not seen (the "lost update" problem).
    """

    code = 428
    description = (
        "This request must be conditional. Send an If-Match or"
        " If-Unmodified-Since header."
    )


class _RetryAfter(HTTPException):
    """Base for errors with an optional ``Retry-After`` header.

    :param description: replaces the default description.
    :param response: a ready response to send instead of the error page.
    :param retry_after: seconds to wait (an int) or the moment to retry at (a
        datetime; a naive one is taken as UTC).
    """

    def __init__(
        self,
        description: str | None = None,
        response: Response | None = None,
        retry_after: datetime | int | None = None,
    ) -> None:
        super().__init__(description, response)
        #: The value sent as ``Retry-After``, or None.
        self.retry_after = retry_after

    def get_headers(
        self,
        environ: t.Any | None = None,
        scope: dict[str, t.Any] | None = None,
    ) -> list[tuple[str, str]]:
        """Return the headers, with ``Retry-After`` if it is set."""
        headers = super().get_headers(environ, scope)
        retry_after = self.retry_after
        if retry_after:
            if isinstance(retry_after, datetime):
                value = http_date(retry_after)
            else:
                value = str(retry_after)
            headers.append(("Retry-After", value))
        return headers


class TooManyRequests(_RetryAfter):
    """*429 Too Many Requests*: the client exceeded a rate limit.

    Pass ``retry_after`` to tell the client when to try again.
    """

    code = 429
    description = "You have sent more requests than allowed. Please try again later."


class RequestHeaderFieldsTooLarge(HTTPException):
    """*431 Request Header Fields Too Large*: a header, or all of them, is too big."""

    code = 431
    description = "A request header field, or the header section, is too large."


class UnavailableForLegalReasons(HTTPException):
    """*451 Unavailable For Legal Reasons*: access is denied by a legal demand."""

    code = 451
    description = "This resource is unavailable for legal reasons."


class InternalServerError(HTTPException):
    """*500 Internal Server Error*: an unexpected error happened in the application.

    :param description: replaces the default description.
    :param response: a ready response to send instead of the error page.
    :param original_exception: the unhandled exception behind this error.
    """

    code = 500
    description = (
        "The server hit an internal error and could not complete your request."
        " The server may be overloaded, or the application has a bug."
    )

    def __init__(
        self,
        description: str | None = None,
        response: Response | None = None,
        original_exception: BaseException | None = None,
    ) -> None:
        #: The exception that caused this error; Flask sets it for unhandled
        #: errors so that handlers can inspect it.
        self.original_exception = original_exception
        super().__init__(description=description, response=response)


class NotImplemented(HTTPException):
    """*501 Not Implemented*: the server does not support the requested action."""

    code = 501
    description = "The server does not support the action the browser asked for."


class BadGateway(HTTPException):
    """*502 Bad Gateway*: an upstream server sent an invalid response."""

    code = 502
    description = (
        "The server, acting as a proxy, received an invalid response from the"
        " server behind it."
    )


class ServiceUnavailable(_RetryAfter):
    """*503 Service Unavailable*: the server cannot answer right now.

    Pass ``retry_after`` to tell the client when to try again.
    """

    code = 503
    description = (
        "The server cannot handle your request right now because of maintenance"
        " or overload. Please try again later."
    )


class GatewayTimeout(HTTPException):
    """*504 Gateway Timeout*: an upstream server did not answer in time."""

    code = 504
    description = "The server behind this proxy did not answer in time."


class HTTPVersionNotSupported(HTTPException):
    """*505 HTTP Version Not Supported*: the request's HTTP version is refused."""

    code = 505
    description = "The server does not support the HTTP version used by the request."


class WebsocketDisconnect(Exception):
    """The WebSocket connection is closed: the client went away or closed it.

    Raised by :meth:`erlen.websockets.Websocket.receive` (and ``send``) once
    the connection is gone. Left to propagate out of a websocket view, it
    ends the view quietly: no error is logged, and teardown functions still
    run (they see no error).

    :param code: the close code (1000 normal, 1001 going away, 1006 closed
        without a close frame, 1009 message too big, ...).
    :param reason: the close reason the peer gave, if any.

    .. note:: Flask compatibility: Flask has no WebSockets; this is erlen's.
    """

    def __init__(self, code: int = 1000, reason: str = "") -> None:
        super().__init__(code, reason)
        #: The WebSocket close code.
        self.code = code
        #: The close reason, "" when none was given.
        self.reason = reason

    def __str__(self) -> str:
        if self.reason:
            return f"WebSocket closed with code {self.code} ({self.reason})"
        return f"WebSocket closed with code {self.code}"


class RoutingException(Exception):
    """Base of the router's control-flow exceptions (redirects, build errors)."""


class RequestRedirect(HTTPException, RoutingException):
    """*308 Permanent Redirect* raised by the router, e.g. to add a trailing slash.

    :param new_url: the URL to redirect to; also used as the description.
    """

    code = 308

    def __init__(self, new_url: str) -> None:
        super().__init__(new_url)
        #: The redirect target, sent as ``Location``.
        self.new_url = new_url

    def get_body(
        self,
        environ: t.Any | None = None,
        scope: dict[str, t.Any] | None = None,
    ) -> str:
        """Return a small HTML page that links to :attr:`new_url`."""
        location = _escape(self.new_url)
        return (
            "<!doctype html>\n"
            "<html lang=en>\n"
            "<title>Redirecting...</title>\n"
            "<h1>Redirecting...</h1>\n"
            f'<p>This page has moved to <a href="{location}">{location}</a>.'
            " Follow the link if your browser does not go there by itself.\n"
        )

    def get_headers(
        self,
        environ: t.Any | None = None,
        scope: dict[str, t.Any] | None = None,
    ) -> list[tuple[str, str]]:
        """Return the headers, with ``Location`` set to :attr:`new_url`."""
        headers = super().get_headers(environ, scope)
        headers.append(("Location", self.new_url))
        return headers


def _build_default_exceptions() -> dict[int, type[HTTPException]]:
    """Return the code-to-class map, preferring the most general class per code."""
    found: dict[int, type[HTTPException]] = {}
    for obj in globals().values():
        if not (isinstance(obj, type) and issubclass(obj, HTTPException)):
            continue
        code = obj.code
        if code is None or obj is RequestRedirect:
            continue
        known = found.get(code)
        if known is None or not issubclass(obj, known):
            found[code] = obj
    return found


#: The exception class for each status code, as used by :func:`abort`.
default_exceptions: dict[int, type[HTTPException]] = _build_default_exceptions()


class Aborter:
    """Raise the exception registered for a status code; :func:`abort` is one.

    :param mapping: code-to-class map to use instead of :data:`default_exceptions`.
    :param extra: more entries added on top of ``mapping``.
    """

    def __init__(
        self,
        mapping: dict[int, type[HTTPException]] | None = None,
        extra: dict[int, type[HTTPException]] | None = None,
    ) -> None:
        if mapping is None:
            mapping = default_exceptions
        #: The code-to-class map (a private copy).
        self.mapping = dict(mapping)
        if extra is not None:
            self.mapping.update(extra)

    def __call__(
        self, code: int | Response, *args: t.Any, **kwargs: t.Any
    ) -> t.NoReturn:
        """Raise the exception for ``code``, built with the remaining arguments.

        A response object (anything with a ``status_code``) is raised inside a
        bare :class:`HTTPException` whose :attr:`~HTTPException.response` it is.

        :raises LookupError: if no exception is registered for ``code``.
        """
        if not isinstance(code, int) and hasattr(code, "status_code"):
            raise HTTPException(response=code)
        try:
            cls = self.mapping.get(code)  # type: ignore[arg-type]
        except TypeError:  # an unhashable value
            cls = None
        if cls is None:
            raise LookupError(
                f"no exception for {code!r}: abort() takes a status code registered"
                " in the aborter's mapping (or a response object); register a"
                " custom HTTPException subclass with Aborter(extra={code: cls})."
            )
        raise cls(*args, **kwargs)


_aborter = Aborter()


def abort(status: int | Response, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
    """Raise the :class:`HTTPException` for ``status``, or one wrapping a response.

    ``abort(404)`` raises :class:`NotFound`; further arguments go to the
    exception's constructor. ``abort(response)`` raises an exception whose
    :meth:`~HTTPException.get_response` returns that response.

    :raises LookupError: if no exception is registered for the status code.
    """
    _aborter(status, *args, **kwargs)
