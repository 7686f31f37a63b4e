"""The ASGI driver: scope and messages in, an environ to the app, a response out."""

from __future__ import annotations

import contextvars
import io
import os
import sys
import typing as t
from functools import partial
from urllib.parse import unquote_to_bytes

from .sansio.files import FileBody

# PERF: asyncio (~25 ms), inspect and tempfile are imported on first use (import time):
# a WSGI app never loads them. The coroutines below run on an event loop, so
# asyncio is loaded by then and their local import is a dict lookup.

if t.TYPE_CHECKING:  # pragma: no cover
    import asyncio
    from collections.abc import Awaitable
    from collections.abc import Callable
    from collections.abc import Iterable
    from collections.abc import Mapping

    from .sansio.response import Response

    Receive = Callable[[], Awaitable[dict[str, t.Any]]]
    Send = Callable[[dict[str, t.Any]], Awaitable[None]]

F = t.TypeVar("F", bound=t.Callable[..., t.Any])

#: Request bodies up to this size stay in memory; larger ones are spooled to
#: a temporary file while they are received.
BODY_SPOOL_SIZE = 1024 * 1024

_END = object()


class ASGIHandler(t.Protocol):
    """What the driver needs from the application (the app provides it)."""

    @property
    def config(self) -> Mapping[str, t.Any]: ...

    async def _erlen_handle_async(
        self, environ: dict[str, t.Any]
    ) -> tuple[Response, contextvars.Context | None]: ...

    async def _erlen_lifespan(self, phase: str) -> None: ...


def mark_coroutine_function(func: F) -> F:
    """Mark ``func`` so that servers sniffing for an ASGI app see a coroutine function.

    The app's ``__call__`` serves both protocols: with two arguments it
    returns a WSGI iterable, with three an awaitable. Servers that choose
    the protocol with ``inspect.iscoroutinefunction`` (uvicorn, hypercorn)
    must see ASGI; the marker is the standard way to say so (3.12+), with
    asyncio's older marker for 3.11.
    """
    if sys.version_info >= (3, 12):  # pragma: no cover (3.12+)
        import inspect  # PERF: imported on first use (import time)

        inspect.markcoroutinefunction(func)
        return func
    coroutines = sys.modules.get("asyncio.coroutines")
    if coroutines is not None and hasattr(coroutines, "_is_coroutine"):
        func._is_coroutine = coroutines._is_coroutine  # type: ignore[attr-defined]
        return func
    # PERF: asyncio is not loaded: mark ``func`` when it is (import time).
    _unmarked.append(func)
    if _AsyncioWatch not in sys.meta_path:
        sys.meta_path.insert(0, _AsyncioWatch)
    return func


#: Functions waiting for asyncio's 3.11 marker (see _AsyncioWatch).
_unmarked: list[t.Any] = []


class _AsyncioWatch:
    """A meta path finder that finds nothing; it notices asyncio being imported.

    PERF: importing asyncio costs ~25 ms, which a WSGI app should not pay just
    so that its ``__call__`` carries asyncio's 3.11 coroutine marker. The
    marker is only read by ``asyncio.iscoroutinefunction``, so asyncio is
    loaded by then; and asyncio's package imports more submodules after
    ``asyncio.coroutines``, so one of those lookups marks the waiting
    functions before ``import asyncio`` returns.

    NOTE: the finder stays on ``sys.meta_path`` (returning ``None`` at once
    when done): removing it while the import system iterates the list would
    skip the next finder.
    """

    @staticmethod
    def find_spec(fullname: str, path: t.Any = None, target: t.Any = None) -> None:
        """Mark the waiting functions once ``asyncio.coroutines`` is executed."""
        if _unmarked:
            coroutines = sys.modules.get("asyncio.coroutines")
            marker = getattr(coroutines, "_is_coroutine", None)
            if marker is not None:
                for func in _unmarked:
                    func._is_coroutine = marker
                _unmarked.clear()
        return None


def _latin1(value: bytes) -> str:
    return value.decode("latin-1")


def build_environ(scope: Mapping[str, t.Any], body: t.IO[bytes]) -> dict[str, t.Any]:
    """Return the WSGI-shaped environ for an HTTP ``scope``.

    Header values join as a WSGI server would (``, ``; cookies with
    ``; ``), but the request's ``headers`` come from the raw list
    (``erlen.raw_headers``), so two different header names are never merged
    into one (``X-Foo`` and ``X_Foo`` stay apart).
    """
    root_path: str = scope.get("root_path", "")
    raw_path = scope.get("raw_path")
    if raw_path:
        path_bytes = unquote_to_bytes(raw_path.split(b"?", 1)[0])
    else:
        path_bytes = scope["path"].encode("utf-8")
    root_bytes = root_path.encode("utf-8")
    if root_bytes and path_bytes.startswith(root_bytes):
        path_bytes = path_bytes[len(root_bytes) :]
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client")
    environ: dict[str, t.Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root_bytes.decode("latin-1"),
        "PATH_INFO": path_bytes.decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]) if server[1] is not None else "",
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": client[0] if client else None,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "asgi.scope": scope,
        "erlen.raw_headers": scope.get("headers", ()),
    }
    if client:
        environ["REMOTE_PORT"] = str(client[1])
    extensions = scope.get("extensions") or {}
    preserve = extensions.get("erlen.preserve_context")
    if preserve is not None:
        # erlen's test client keeps the request's contexts for `with client:`.
        environ["erlen.debug.preserve_context"] = preserve
    for raw_name, raw_value in scope.get("headers", ()):
        name = _latin1(raw_name).upper().replace("-", "_")
        value = _latin1(raw_value)
        if name == "CONTENT_TYPE" or name == "CONTENT_LENGTH":
            key = name
        else:
            key = "HTTP_" + name
        if key in environ:
            sep = "; " if key == "HTTP_COOKIE" else ", "
            environ[key] = f"{environ[key]}{sep}{value}"
        else:
            environ[key] = value
    return environ


async def _receive_body(receive: Receive, limit: int | None) -> t.IO[bytes] | None:
    """Receive the whole body, in memory or spooled, stopping just past ``limit``.

    Returns ``None`` if the client disconnected. When the body exceeds the
    limit, receiving stops after ``limit + 1`` bytes: the request then sees
    a body over its limit and answers 413 if the app reads it.
    """
    chunks: list[bytes] = []
    size = 0
    spool: t.IO[bytes] | None = None
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if spool is not None:
                spool.write(chunk)
            else:
                chunks.append(chunk)
                if size > BODY_SPOOL_SIZE:
                    import tempfile  # PERF: imported on first use (import time)

                    spool = tempfile.SpooledTemporaryFile(max_size=BODY_SPOOL_SIZE)
                    spool.writelines(chunks)
                    chunks.clear()
        if not message.get("more_body", False):
            break
        if limit is not None and size > limit:
            break
    if spool is not None:
        spool.seek(0)
        return spool
    return io.BytesIO(b"".join(chunks))


async def serve(
    handler: ASGIHandler,
    scope: dict[str, t.Any],
    receive: Receive,
    send: Send,
    wsgi_app: Callable[..., Iterable[bytes]] | None = None,
) -> None:
    """Serve one ASGI connection for ``handler``.

    :param wsgi_app: the app's replaced ``wsgi_app`` attribute (WSGI
        middleware), if any; it is then run in a worker thread, so that
        wrapping ``wsgi_app`` works under ASGI too.
    """
    kind = scope["type"]
    if kind == "http":
        await _serve_http(handler, scope, receive, send, wsgi_app)
    elif kind == "lifespan":
        await _serve_lifespan(handler, receive, send)
    elif kind == "websocket":
        # No websocket routes yet: refuse the handshake (the server sends 403).
        await receive()
        await send({"type": "websocket.close", "code": 1000})
    else:
        raise RuntimeError(
            f"erlen cannot serve ASGI scope type {kind!r}; expected 'http',"
            " 'websocket' or 'lifespan'."
        )


async def _serve_lifespan(handler: ASGIHandler, receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        phase = message["type"].rpartition(".")[2]
        if phase not in ("startup", "shutdown"):
            continue
        try:
            await handler._erlen_lifespan(phase)
        except Exception as e:
            await send({"type": f"lifespan.{phase}.failed", "message": repr(e)})
            if phase == "startup":
                return
        else:
            await send({"type": f"lifespan.{phase}.complete"})
        if phase == "shutdown":
            return


async def _serve_http(
    handler: ASGIHandler,
    scope: dict[str, t.Any],
    receive: Receive,
    send: Send,
    wsgi_app: Callable[..., Iterable[bytes]] | None,
) -> None:
    body = await _receive_body(receive, handler.config.get("MAX_CONTENT_LENGTH"))
    if body is None:
        return
    environ = build_environ(scope, body)
    try:
        if wsgi_app is not None:
            await _serve_wrapped_wsgi(wsgi_app, environ, send)
            return
        response, context = await handler._erlen_handle_async(environ)
        await send_response(response, environ, send, context, receive)
    finally:
        body.close()


async def send_response(
    response: Response,
    environ: dict[str, t.Any],
    send: Send,
    context: contextvars.Context | None = None,
    receive: Receive | None = None,
) -> None:
    """Send ``response`` as ASGI messages, then close it.

    A sync iterable body is iterated in a worker thread, always under
    ``context`` (the one the request ran in), never a fresh context per
    chunk; an async iterable body is iterated on the loop. With ``receive``,
    a streamed body stops as soon as the client disconnects. Whatever
    happens, the body is closed, so its cleanup runs.
    """
    status = response.status_code
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in response.get_wsgi_headers(environ).to_wsgi_list()
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    body = response.response
    # NOTE: servers may take send() after a disconnect without an error
    # (uvicorn does); only receive() tells that the client is gone. Without
    # this watch an endless stream would run on for nobody.
    import asyncio

    gone = asyncio.Event()
    watcher = None
    if receive is not None and not response.is_sequence:
        watcher = asyncio.get_running_loop().create_task(
            _watch_disconnect(receive, gone)
        )
    try:
        if hasattr(body, "__aiter__"):
            if environ["REQUEST_METHOD"] != "HEAD" and status not in (204, 304):
                agen = t.cast("t.AsyncIterable[t.Any]", body)
                await _in_context(_send_async_iterable(agen, send, gone), context)
        elif response.is_sequence:
            data = b"".join(response.get_app_iter(environ))
            await send({"type": "http.response.body", "body": data})
            return
        else:
            app_iter = response.get_app_iter(environ)
            if app_iter is body and isinstance(body, FileBody):
                path = _pathsend_path(body, environ)
                if path is not None:
                    # PERF: zero-copy; the server sends the file itself, and
                    # this message ends the response.
                    await send({"type": "http.response.pathsend", "path": path})
                    return
            # A FileBody reads one 64 KiB chunk per worker-thread step, so a
            # big file never sits in memory.
            await _send_sync_iterable(app_iter, send, context, gone)
        if not gone.is_set():
            await send({"type": "http.response.body", "body": b""})
    finally:
        if watcher is not None:
            watcher.cancel()
        await _close_response(response, body, context)


async def _watch_disconnect(receive: Receive, gone: asyncio.Event) -> None:
    """Set ``gone`` when the client disconnects (the body is already received)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            gone.set()
            return


def _pathsend_path(body: FileBody, environ: Mapping[str, t.Any]) -> str | None:
    """Return the absolute path to send with ``http.response.pathsend``, or None.

    Only when the server offers the extension and the body is a whole file
    opened by path (a range or a caller's file object is streamed instead).
    """
    if body.path is None or body.offset:
        return None
    scope = environ.get("asgi.scope") or {}
    extensions = scope.get("extensions") or {}
    if "http.response.pathsend" not in extensions or not body.whole_file_rest():
        return None
    return os.path.abspath(body.path)


async def _in_context(
    coro: t.Coroutine[t.Any, t.Any, None], context: contextvars.Context | None
) -> None:
    # An async body runs where the request ran, so stream_with_context's
    # generator sees the request and pops it in the context it was pushed.
    if context is None:
        await coro
    else:
        import asyncio

        await asyncio.get_running_loop().create_task(coro, context=context)


async def _send_async_iterable(
    body: t.AsyncIterable[t.Any], send: Send, gone: asyncio.Event | None = None
) -> None:
    async for chunk in body:
        if gone is not None and gone.is_set():
            return
        if isinstance(chunk, str):
            chunk = chunk.encode()
        await send({"type": "http.response.body", "body": chunk, "more_body": True})


async def _aclose(aclose: t.Callable[[], t.Awaitable[t.Any]]) -> None:
    await aclose()


async def _send_sync_iterable(
    iterable: Iterable[bytes],
    send: Send,
    context: contextvars.Context | None,
    gone: asyncio.Event | None = None,
) -> None:
    import asyncio

    loop = asyncio.get_running_loop()
    if context is None:
        context = contextvars.copy_context()
    iterator = iter(iterable)
    while gone is None or not gone.is_set():
        chunk = await loop.run_in_executor(
            None, partial(context.run, next, iterator, _END)
        )
        if chunk is _END:
            return
        if chunk:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})


async def _close_response(
    response: Response, body: t.Any, context: contextvars.Context | None
) -> None:
    aclose = getattr(body, "aclose", None)
    if aclose is not None:
        await _in_context(_aclose(aclose), context)
        for func in response._on_close:
            func()
        return
    if response.is_sequence and not response._on_close:
        return
    import asyncio

    loop = asyncio.get_running_loop()
    if context is None:
        context = contextvars.copy_context()
    await loop.run_in_executor(None, context.run, response.close)


async def _serve_wrapped_wsgi(
    wsgi_app: Callable[..., Iterable[bytes]],
    environ: dict[str, t.Any],
    send: Send,
) -> None:
    """Run a (middleware-wrapped) WSGI app in a worker thread and send its answer."""
    import asyncio

    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    started: list[t.Any] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
    ) -> Callable[[bytes], None]:
        if exc_info is not None and started:
            raise exc_info[1].with_traceback(exc_info[2])
        started[:] = [status, headers]

        def write(data: bytes) -> None:
            raise RuntimeError(
                "The write() callable of start_response is not supported when"
                " serving a wrapped wsgi_app under ASGI; yield the body instead."
            )

        return write

    app_iter = await loop.run_in_executor(
        None, context.run, wsgi_app, environ, start_response
    )
    iterator = iter(app_iter)
    try:
        first = await loop.run_in_executor(
            None, partial(context.run, next, iterator, _END)
        )
        status_line, header_list = started
        await send(
            {
                "type": "http.response.start",
                "status": int(status_line.split(" ", 1)[0]),
                "headers": [
                    (k.lower().encode("latin-1"), v.encode("latin-1"))
                    for k, v in header_list
                ],
            }
        )
        if first is not _END:
            await send({"type": "http.response.body", "body": first, "more_body": True})
            await _send_sync_iterable(iterator, send, context)
        await send({"type": "http.response.body", "body": b""})
    finally:
        close = getattr(app_iter, "close", None)
        if close is not None:
            await loop.run_in_executor(None, context.run, close)
