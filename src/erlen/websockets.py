"""The WebSocket driver: an ASGI ``websocket`` scope in, a :class:`Websocket` out.

Like :mod:`erlen.asgi`, this module only translates: it builds a WSGI-shaped
environ for the handshake request (method ``GET``, scheme ``ws``/``wss``) and
a :class:`Websocket` speaking the ASGI messages, then hands both to the
handler (the app) through :class:`WebsocketHandler`. It knows nothing of
the app or the globals.
"""

from __future__ import annotations

import io
import logging
import sys
import typing as t
from urllib.parse import unquote_to_bytes

from .exceptions import WebsocketDisconnect
from .sansio._json import check_json_depth

if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Awaitable
    from collections.abc import Callable
    from collections.abc import Iterable
    from collections.abc import Mapping

    from .sansio.request import Request
    from .sansio.response import Response

    Receive = Callable[[], Awaitable[dict[str, t.Any]]]
    Send = Callable[[dict[str, t.Any]], Awaitable[None]]

#: ``WEBSOCKET_MAX_MESSAGE_SIZE`` when the config has no such key: 1 MiB.
DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024

#: The close codes this module sends (RFC 6455, section 7.4.1).
CLOSE_NORMAL = 1000
CLOSE_INVALID_DATA = 1007
CLOSE_POLICY_VIOLATION = 1008
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL_ERROR = 1011
#: The code a :exc:`WebsocketDisconnect` carries when the connection broke
#: without a close frame (a failed send, a disconnect without a code).
CLOSE_ABNORMAL = 1006

_logger = logging.getLogger("erlen.websockets")


class JSONLike(t.Protocol):
    """What :class:`Websocket` needs to (de)serialize JSON: the app's provider."""

    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str: ...

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any: ...


class _StdJSON:
    """The standard :mod:`json` module as a :class:`JSONLike` (no app attached)."""

    @staticmethod
    def dumps(obj: t.Any, **kwargs: t.Any) -> str:
        import json

        return json.dumps(obj, **kwargs)

    @staticmethod
    def loads(s: str | bytes, **kwargs: t.Any) -> t.Any:
        import json

        return json.loads(s, **kwargs)


class WebsocketHandler(t.Protocol):
    """What the driver needs from the application (the app provides it)."""

    @property
    def config(self) -> Mapping[str, t.Any]: ...

    async def _erlen_websocket(
        self, environ: dict[str, t.Any], websocket: Websocket
    ) -> None: ...


def build_environ(scope: Mapping[str, t.Any]) -> dict[str, t.Any]:
    """Return the WSGI-shaped environ of a ``websocket`` scope's handshake request.

    The method is ``GET`` and ``wsgi.url_scheme`` is the scope's scheme
    (``ws`` or ``wss``), so the request's ``args``, ``headers``,
    ``cookies``, ``url`` and the session work as for HTTP, and the router
    matches WebSocket rules. The body is empty.
    """
    get = scope.get
    server = get("server") or ("localhost", 80)
    root_path: str = get("root_path", "")
    raw_path = get("raw_path")
    if raw_path:
        path_bytes = raw_path.split(b"?", 1)[0]
        if b"%" in path_bytes:
            path_bytes = unquote_to_bytes(path_bytes)
    else:
        path_bytes = get("path", "/").encode("utf-8")
    script_name = ""
    if root_path:
        root_bytes = root_path.encode("utf-8")
        if path_bytes.startswith(root_bytes):
            path_bytes = path_bytes[len(root_bytes) :]
        script_name = root_bytes.decode("latin-1")
    http_version = get("http_version", "1.1")
    headers = list(get("headers", ()))
    environ: dict[str, t.Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path_bytes.decode("latin-1"),
        "QUERY_STRING": (get("query_string") or b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]) if server[1] is not None else "",
        "SERVER_PROTOCOL": f"HTTP/{http_version}",
        "REMOTE_ADDR": None,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": get("scheme", "ws"),
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
        "asgi.scope": scope,
        "erlen.raw_headers": headers,
    }
    client = get("client")
    if client:
        environ["REMOTE_ADDR"] = client[0]
        environ["REMOTE_PORT"] = f"{client[1]}"
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        if name not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = "HTTP_" + name
        value = raw_value.decode("latin-1")
        if name in environ:
            sep = "; " if name == "HTTP_COOKIE" else ", "
            value = f"{environ[name]}{sep}{value}"
        environ[name] = value
    return environ


def _encode_headers(headers: t.Any) -> list[tuple[bytes, bytes]]:
    """Return response ``headers`` (a mapping or pairs) as ASGI's byte pairs."""
    pairs = headers.items() if hasattr(headers, "items") else headers
    encoded = []
    for name, value in pairs:
        name = str(name)
        value = str(value)
        if "\r" in name or "\n" in name or "\r" in value or "\n" in value:
            # APPSEC: a newline would split the handshake response.
            raise ValueError(
                f"WebSocket handshake header {name!r} contains a newline; header"
                " names and values must be single lines."
            )
        encoded.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    return encoded


def _request_attribute(name: str) -> property:
    def get(self: Websocket) -> t.Any:
        return getattr(self._handshake_request(), name)

    return property(get, doc=f"The handshake request's ``{name}``.")


class Websocket:
    """One WebSocket connection, as a view sees it (``from erlen import websocket``).

    The handshake is accepted by :meth:`accept`, or implicitly by the first
    :meth:`send` or :meth:`receive`. Text frames are ``str``, binary frames
    ``bytes``. Once the client has gone, :meth:`receive` and :meth:`send`
    raise :exc:`~erlen.exceptions.WebsocketDisconnect`.

    The handshake request's attributes (``path``, ``args``, ``headers``,
    ``cookies``, ``scheme``, ``host``, ``remote_addr``, ...) are read from
    :attr:`request`, the same object as ``erlen.request`` in the view.

    :param scope: the ASGI ``websocket`` scope.
    :param receive: the ASGI receive callable (``websocket.connect`` is
        already received).
    :param send: the ASGI send callable.
    :param max_message_size: the largest message :meth:`receive` takes, in
        bytes (``WEBSOCKET_MAX_MESSAGE_SIZE``); a larger one closes the
        connection with 1009. ``None`` leaves the limit to the server.

    .. note:: Flask compatibility: Flask has no WebSockets; the API follows
       Quart's ``websocket`` object.
    """

    #: The handshake request, set by the app before the view runs.
    request: Request | None = None
    #: How :meth:`send_json` and :meth:`receive_json` (de)serialize: the
    #: app's JSON provider (``app.json``) once the app serves the connection.
    json: JSONLike = _StdJSON()
    #: The deepest JSON nesting :meth:`receive_json` accepts (MAX_JSON_DEPTH).
    max_json_depth: int | None = 256
    #: Where refused messages are logged: the app's logger once the app
    #: serves the connection.
    logger: logging.Logger = _logger

    def __init__(
        self,
        scope: Mapping[str, t.Any],
        receive: Receive,
        send: Send,
        max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
    ) -> None:
        #: The ASGI scope of the connection.
        self.scope = scope
        self._receive = receive
        self._send = send
        #: The largest message :meth:`receive` accepts, in bytes.
        self.max_message_size = max_message_size
        #: Whether the handshake was accepted.
        self.accepted = False
        #: Whether the connection is closed (by either side) or was refused.
        self.closed = False
        #: The close code, once closed (None while open).
        self.close_code: int | None = None

    @property
    def subprotocols(self) -> list[str]:
        """The subprotocols the client asked for, in its order of preference."""
        return list(self.scope.get("subprotocols") or ())

    #: Quart's name for :attr:`subprotocols`.
    requested_subprotocols = subprotocols

    def _handshake_request(self) -> Request:
        if self.request is None:
            raise RuntimeError(
                "This Websocket has no handshake request yet: the app sets"
                " 'websocket.request' before the view runs."
            )
        return self.request

    path = _request_attribute("path")
    full_path = _request_attribute("full_path")
    root_path = _request_attribute("root_path")
    url = _request_attribute("url")
    base_url = _request_attribute("base_url")
    host = _request_attribute("host")
    host_url = _request_attribute("host_url")
    scheme = _request_attribute("scheme")
    args = _request_attribute("args")
    query_string = _request_attribute("query_string")
    headers = _request_attribute("headers")
    cookies = _request_attribute("cookies")
    remote_addr = _request_attribute("remote_addr")
    origin = _request_attribute("origin")
    environ = _request_attribute("environ")

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    ) -> None:
        """Accept the handshake, choosing ``subprotocol`` and adding ``headers``.

        :param subprotocol: one of :attr:`subprotocols`, or None for none.
        :param headers: extra headers for the handshake response.
        :raise ValueError: ``subprotocol`` is not one the client asked for.
        :raise RuntimeError: the handshake was already accepted or refused.
        """
        if self.accepted or self.closed:
            state = "accepted" if self.accepted else "closed"
            raise RuntimeError(
                f"The WebSocket handshake was already {state}; call accept() once,"
                " before the first send() or receive() (which accept implicitly)."
            )
        if subprotocol is not None and subprotocol not in self.subprotocols:
            raise ValueError(
                f"The client did not ask for the subprotocol {subprotocol!r}; it"
                f" asked for {self.subprotocols!r}."
            )
        message: dict[str, t.Any] = {
            "type": "websocket.accept",
            "subprotocol": subprotocol,
        }
        if headers is not None:
            message["headers"] = _encode_headers(headers)
        self.accepted = True
        await self._send_message(message)

    async def receive(self) -> str | bytes:
        """Wait for the next message: ``str`` for a text frame, ``bytes`` for binary.

        :raise WebsocketDisconnect: the client closed or went away, or the
            message was larger than :attr:`max_message_size` (the
            connection is then closed with 1009).
        """
        if not self.accepted:
            await self.accept()
        if self.closed:
            raise WebsocketDisconnect(self.close_code or CLOSE_ABNORMAL)
        message = await self._receive()
        kind = message["type"]
        if kind == "websocket.disconnect":
            self.closed = True
            self.close_code = message.get("code") or CLOSE_ABNORMAL
            raise WebsocketDisconnect(self.close_code, message.get("reason") or "")
        if kind != "websocket.receive":
            raise RuntimeError(
                f"Expected a 'websocket.receive' or 'websocket.disconnect' ASGI"
                f" message, got {kind!r}."
            )
        data: str | bytes | None = message.get("text")
        if data is None:
            data = message.get("bytes") or b""
        limit = self.max_message_size
        if limit is not None and len(data) * 4 > limit:
            # PERF: a str of n characters is at most 4n UTF-8 bytes, so
            # short text is never encoded just to be measured.
            size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
            if size > limit:
                self.logger.warning(
                    "WebSocket message of %d bytes on %s is larger than"
                    " WEBSOCKET_MAX_MESSAGE_SIZE (%d); closing with 1009.",
                    size,
                    self.scope.get("path", "?"),
                    limit,
                )
                await self.close(CLOSE_TOO_BIG, "message too big")
                raise WebsocketDisconnect(CLOSE_TOO_BIG, "message too big")
        return data

    async def send(self, data: str | bytes) -> None:
        """Send ``data``: a ``str`` as a text frame, ``bytes`` as a binary frame.

        :raise WebsocketDisconnect: the client has gone.
        :raise TypeError: ``data`` is neither ``str`` nor bytes.
        """
        message: dict[str, t.Any]
        if isinstance(data, str):
            message = {"type": "websocket.send", "text": data}
        elif isinstance(data, (bytes, bytearray, memoryview)):
            message = {"type": "websocket.send", "bytes": bytes(data)}
        else:
            raise TypeError(
                f"A WebSocket message is str (text) or bytes (binary), but"
                f" send() got a {type(data).__name__}; use send_json() for data."
            )
        if not self.accepted:
            await self.accept()
        if self.closed:
            raise WebsocketDisconnect(self.close_code or CLOSE_ABNORMAL)
        await self._send_message(message)

    async def receive_json(self) -> t.Any:
        """Receive a message and parse it as JSON with the app's JSON provider.

        Data that is not JSON, or nests deeper than ``MAX_JSON_DEPTH``,
        closes the connection with 1007 (and is logged).

        :raise WebsocketDisconnect: as :meth:`receive`, or for bad JSON.
        """
        data = await self.receive()
        try:
            check_json_depth(data, self.max_json_depth)
            return self.json.loads(data)
        except ValueError as e:  # json's errors and JSONDepthError are ValueErrors
            self.logger.warning(
                "WebSocket message on %s is not valid JSON (%s); closing with 1007.",
                self.scope.get("path", "?"),
                e,
            )
            await self.close(CLOSE_INVALID_DATA, "invalid JSON")
            raise WebsocketDisconnect(CLOSE_INVALID_DATA, "invalid JSON") from None

    async def send_json(self, data: t.Any) -> None:
        """Send ``data`` as JSON in a text frame, through the app's JSON provider."""
        await self.send(self.json.dumps(data))

    async def close(self, code: int = CLOSE_NORMAL, reason: str = "") -> None:
        """Close the connection with ``code`` and ``reason``; nothing if already closed.

        Before the handshake is accepted, this refuses it (servers answer
        ``403``); :meth:`reject` can send another HTTP answer.
        """
        if self.closed:
            return
        self.closed = True
        self.close_code = code
        message = {"type": "websocket.close", "code": code, "reason": reason}
        try:
            await self._send(message)
        except OSError:
            pass  # the connection is gone already: closed either way

    async def reject(
        self,
        response: Response | None = None,
        environ: Mapping[str, t.Any] | None = None,
    ) -> None:
        """Refuse the handshake, with ``response`` if the server can send one.

        With the ``websocket.http.response`` ASGI extension the server sends
        ``response`` (a buffered body) to the client; without it, or
        without a response, the handshake is closed, which servers answer
        with ``403``.

        :raise RuntimeError: the handshake was already accepted.
        """
        if self.accepted:
            raise RuntimeError(
                "The WebSocket handshake was already accepted and cannot be"
                " rejected any more; close() the connection instead."
            )
        if self.closed:
            if response is not None:
                response.close()
            return  # already refused (close() before the accept)
        extensions = self.scope.get("extensions") or {}
        if response is None or "websocket.http.response" not in extensions:
            await self.close(CLOSE_POLICY_VIOLATION)
            return
        self.closed = True
        self.close_code = CLOSE_POLICY_VIOLATION
        if environ is None:
            environ = build_environ(self.scope)
        headers = _encode_headers(response.get_wsgi_headers(environ))
        body = b"".join(response.get_app_iter(environ))
        try:
            await self._send(
                {
                    "type": "websocket.http.response.start",
                    "status": response.status_code,
                    "headers": headers,
                }
            )
            await self._send({"type": "websocket.http.response.body", "body": body})
        except OSError:
            pass  # the client has gone: nothing to refuse
        finally:
            response.close()

    async def _send_message(self, message: dict[str, t.Any]) -> None:
        # A server raises an OSError (ASGI spec 2.4) when the client has gone.
        try:
            await self._send(message)
        except OSError:
            self.closed = True
            self.close_code = CLOSE_ABNORMAL
            raise WebsocketDisconnect(CLOSE_ABNORMAL) from None

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open" if self.accepted else "handshake"
        return f"<{type(self).__name__} {self.scope.get('path', '?')!r} [{state}]>"


async def serve(
    handler: WebsocketHandler, scope: dict[str, t.Any], receive: Receive, send: Send
) -> None:
    """Serve one ASGI ``websocket`` connection for ``handler``."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return  # the client went away before the handshake: nothing to serve
    limit = handler.config.get("WEBSOCKET_MAX_MESSAGE_SIZE", DEFAULT_MAX_MESSAGE_SIZE)
    websocket = Websocket(scope, receive, send, None if limit is None else int(limit))
    await handler._erlen_websocket(build_environ(scope), websocket)
