"""The ASGI driver: scope and messages in, an environ to the app, a response out."""

from __future__ import annotations

import contextvars
import io
import os
import sys
import threading
import types
import typing as t
from urllib.parse import unquote_to_bytes

from ._cache import cache_put
from .datastructures import Headers
from .sansio.files import FileBody
from .sansio.response import Response as _Response

# PERF: asyncio (~25 ms), inspect, queue and tempfile are imported on first use
# (import time): a WSGI app never loads them. The coroutines below run on an
# event loop, so asyncio is loaded by then and their local import is a dict
# lookup.

if t.TYPE_CHECKING:  # pragma: no cover
    import asyncio
    from collections.abc import Awaitable
    from collections.abc import Callable
    from collections.abc import Iterable
    from collections.abc import Mapping

    from .sansio.response import Response
    from .websockets import Websocket

    Receive = Callable[[], Awaitable[dict[str, t.Any]]]
    Send = Callable[[dict[str, t.Any]], Awaitable[None]]

F = t.TypeVar("F", bound=t.Callable[..., t.Any])
T = t.TypeVar("T")

#: Request bodies up to this size stay in memory; larger ones are spooled to
#: a temporary file while they are received.
BODY_SPOOL_SIZE = 1024 * 1024

_END = object()

_NO_KWARGS: Mapping[str, t.Any] = types.MappingProxyType({})

_get_app_iter = _Response.get_app_iter


class ASGIHandler(t.Protocol):
    """What the driver needs from the application (the app provides it)."""

    @property
    def config(self) -> Mapping[str, t.Any]: ...

    def _erlen_handle_async(
        self, environ: dict[str, t.Any], context: contextvars.Context
    ) -> Response | Awaitable[Response]: ...

    async def _erlen_lifespan(self, phase: str) -> None: ...

    async def _erlen_websocket(
        self, environ: dict[str, t.Any], websocket: Websocket
    ) -> None: ...


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


#: Environ key of each raw header name seen so far (b"x-foo" -> "HTTP_X_FOO").
# PERF: translating a name costs a decode, upper() and replace() per header;
# servers send the same few names again and again, so they are looked up. The
# table is bounded so that clients sending random names cannot grow it.
_HEADER_KEYS: dict[bytes, str] = {}
_HEADER_KEYS_MAX = 1024


def _header_key(raw_name: bytes) -> str:
    name = raw_name.decode("latin-1").upper().replace("-", "_")
    key = name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + name
    if len(_HEADER_KEYS) < _HEADER_KEYS_MAX:
        _HEADER_KEYS[raw_name] = key
    return key


for _name in (
    b"host",
    b"user-agent",
    b"accept",
    b"accept-encoding",
    b"accept-language",
    b"connection",
    b"content-type",
    b"content-length",
    b"cookie",
    b"origin",
    b"referer",
    b"authorization",
    b"cache-control",
    b"x-forwarded-for",
    b"x-forwarded-proto",
    b"x-forwarded-host",
    b"x-requested-with",
    b"if-none-match",
    b"if-modified-since",
):
    _header_key(_name)

_PROTOCOLS = {"1.1": "HTTP/1.1", "1.0": "HTTP/1.0", "2": "HTTP/2", "3": "HTTP/3"}

#: The environ keys every request has, with what they are for one server
#: (scope's server, scheme and HTTP version); the others are placeholders.
# PERF: a server sends the same server address, scheme and version on every
# request (the same objects, on one connection), so the keys derived from
# them are computed once; a request copies its server's template (one
# memcpy-like clone) and sets the keys of its own. Bounded as above.
_SERVER_ENVIRONS: dict[tuple[t.Any, ...], dict[str, t.Any]] = {}
_SERVER_ENVIRONS_MAX = 64

#: Keys added to a server's template and removed again (see _server_environ).
_GROWTH_KEYS = 6


def _server_environ(server: t.Any, scheme: str, http_version: str) -> dict[str, t.Any]:
    server = server or ("localhost", 80)
    port = server[1]
    environ: dict[str, t.Any] = {
        "REQUEST_METHOD": "",
        "SCRIPT_NAME": "",
        "PATH_INFO": "",
        "QUERY_STRING": "",
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(port) if port is not None else "",
        "SERVER_PROTOCOL": _PROTOCOLS.get(http_version) or f"HTTP/{http_version}",
        "REMOTE_ADDR": None,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": None,
        "wsgi.errors": None,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
        "asgi.scope": None,
        "erlen.raw_headers": (),
    }
    # PERF: grow the table now and leave the room empty, so that a request's
    # headers go in without resizing its copy. 18 keys and 6 more are past
    # what CPython's 32-slot table holds (21), so it grows to 64 slots; and
    # copy() clones a table as it is while at most a third of its entries
    # were removed (6 of 24). Only the speed depends on this.
    for i in range(_GROWTH_KEYS):
        environ[str(i)] = None
    for i in range(_GROWTH_KEYS):
        del environ[str(i)]
    return environ


def _path_bytes(raw_path: bytes) -> bytes:
    # The path of a raw_path: without a query (some servers leave it in),
    # unquoted.
    # PERF: find(), not ``in``: ``b"?" in raw_path`` first tries the operand
    # as an integer and builds and clears a TypeError (about twice the cost).
    if raw_path.find(b"?") >= 0:
        raw_path = raw_path.split(b"?", 1)[0]
    return unquote_to_bytes(raw_path) if raw_path.find(b"%") >= 0 else raw_path


#: PATH_INFO for each raw_path seen so far (when there is no root_path).
# PERF: servers see the same few paths again and again; a hit is one lookup
# instead of two searches and a decode. Bounded; long paths are not kept.
_PATH_INFOS: dict[bytes, str] = {}
_PATH_INFOS_MAX = 1024
_PATH_INFO_MAX = 200


def _path_info(raw_path: bytes) -> str:
    path_info = _path_bytes(raw_path).decode("latin-1")
    if len(raw_path) <= _PATH_INFO_MAX:
        cache_put(_PATH_INFOS, _PATH_INFOS_MAX, raw_path, path_info)
    return path_info


#: The last template build_environ() used and what it was for: (server,
#: scheme, http_version, template).
# PERF: a server sends equal server, scheme and version values on every
# request, so comparing them with the last ones is cheaper than hashing a
# new key tuple for _SERVER_ENVIRONS (its nested server tuple and a version
# string that servers decode anew per request). Only equality is relied on;
# the template is the one _SERVER_ENVIRONS holds for equal values.
_last_template: tuple[t.Any, t.Any, t.Any, dict[str, t.Any]] = (
    _END,
    _END,
    _END,
    {},
)


def _template(server: t.Any, scheme: t.Any, http_version: t.Any) -> dict[str, t.Any]:
    global _last_template
    key = (server, scheme, http_version)
    try:
        template = _SERVER_ENVIRONS.get(key)
        if template is None:
            template = cache_put(
                _SERVER_ENVIRONS, _SERVER_ENVIRONS_MAX, key, _server_environ(*key)
            )
    except TypeError:  # an unhashable server (a list): no template to share
        return _server_environ(*key)
    _last_template = (server, scheme, http_version, template)
    return template


def build_environ(scope: Mapping[str, t.Any], body: t.IO[bytes]) -> dict[str, t.Any]:
    """Return the WSGI-shaped environ for an HTTP ``scope``, ``body`` its input.

    Header values join as a WSGI server would (``, ``; cookies with
    ``; ``), but the request's ``headers`` come from the raw list
    (``erlen.raw_headers``), so two different header names are never merged
    into one (``X-Foo`` and ``X_Foo`` stay apart).
    """
    environ = _build_environ(scope)
    environ["wsgi.input"] = body
    return environ


def _build_environ(scope: Mapping[str, t.Any]) -> dict[str, t.Any]:
    # build_environ() without the body (serve() decides whether to receive
    # one from the headers).
    # PERF: servers send every key (uvicorn, hypercorn, granian): subscripts,
    # cheaper than get() calls; the spec's defaults when one is missing.
    try:
        server = scope["server"]
        scheme = scope["scheme"]
        http_version = scope["http_version"]
        raw_path = scope["raw_path"]
        root_path: str = scope["root_path"]
        query = scope["query_string"]
        headers = scope["headers"]
        client = scope["client"]
    except KeyError:
        get = scope.get
        server = get("server")
        scheme = get("scheme", "http")
        http_version = get("http_version", "1.1")
        raw_path = get("raw_path")
        root_path = get("root_path", "")
        query = get("query_string")
        headers = get("headers", ())
        client = get("client")
    last = _last_template
    if server == last[0] and scheme == last[1] and http_version == last[2]:
        template = last[3]
    else:
        template = _template(server, scheme, http_version)
    environ = template.copy()
    if raw_path and not root_path:
        # PERF: the common case: a path seen before is one lookup.
        path_info = _PATH_INFOS.get(raw_path) or _path_info(raw_path)
    else:
        path_bytes = _path_bytes(raw_path) if raw_path else scope["path"].encode()
        if root_path:
            root_bytes = root_path.encode("utf-8")
            if path_bytes.startswith(root_bytes):
                path_bytes = path_bytes[len(root_bytes) :]
            environ["SCRIPT_NAME"] = root_bytes.decode("latin-1")
        path_info = path_bytes.decode("latin-1")
    if headers.__class__ is not list:
        # Iterated twice below (and again by the request): a list, once.
        headers = list(headers)
    environ["REQUEST_METHOD"] = scope["method"]
    environ["PATH_INFO"] = path_info
    if query:  # PERF: most have none; the template's is ""
        environ["QUERY_STRING"] = query.decode("latin1")
    environ["wsgi.errors"] = sys.stderr
    environ["asgi.scope"] = scope
    environ["erlen.raw_headers"] = headers
    if client:
        environ["REMOTE_ADDR"] = client[0]
        # PERF: an f-string formats an int as str() does, without calling
        # the str type.
        environ["REMOTE_PORT"] = f"{client[1]}"
    # PERF: ``in``, not a get() call: most servers send no extensions.
    if "extensions" in scope:
        preserve = (scope["extensions"] or _NO_KWARGS).get("erlen.preserve_context")
        if preserve is not None:
            # erlen's test client keeps the request's contexts for `with client:`.
            environ["erlen.debug.preserve_context"] = preserve
    # PERF: one pass of plain stores, names from the table. A name not in
    # the table yet (KeyError), or a name sent more than once (fewer keys
    # than headers), sends the headers through _add_headers() instead; it
    # overwrites whatever this pass stored.
    # PERF: "latin1" is the codec's own name: decode() finds it in one
    # comparison fewer than "latin-1" (the same codec, the same str).
    keys = _HEADER_KEYS
    size = len(environ)
    try:
        for raw_name, raw_value in headers:
            environ[keys[raw_name]] = raw_value.decode("latin1")
    except KeyError:
        _add_headers(environ, headers)
    else:
        if len(environ) - size != len(headers):
            _add_headers(environ, headers)
    return environ


def _add_headers(environ: dict[str, t.Any], headers: Iterable[t.Any]) -> None:
    """Add the ``headers`` to ``environ``, joining the values of a repeated name."""
    values: dict[str, str] = {}
    key_of = _HEADER_KEYS.get
    for raw_name, raw_value in headers:
        key = key_of(raw_name) or _header_key(raw_name)
        value = raw_value.decode("latin1")
        if key in values:
            sep = "; " if key == "HTTP_COOKIE" else ", "
            values[key] = f"{values[key]}{sep}{value}"
        else:
            values[key] = value
    environ.update(values)


async def _receive_body(
    message: dict[str, t.Any], receive: Receive, limit: int | None
) -> t.IO[bytes] | None:
    """Receive the whole body, in memory or spooled, stopping just past ``limit``.

    ``message`` is the first message, already received. Returns ``None`` if
    the client disconnected. When the body exceeds the limit, receiving
    stops after ``limit + 1`` bytes: the request then sees a body over its
    limit and answers 413 if the app reads it.
    """
    if message["type"] == "http.disconnect":
        return None
    chunks: list[bytes] = []
    size = 0
    spool: t.IO[bytes] | None = None
    while True:
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
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
    if spool is not None:
        spool.seek(0)
        return spool
    return io.BytesIO(b"".join(chunks))


# -- worker threads --------------------------------------------------------------

#: How many worker threads :func:`run_sync` starts at most, by default.
DEFAULT_THREAD_LIMIT = 40

#: Seconds an idle worker thread waits for work before it ends.
THREAD_IDLE_TIMEOUT = 10.0


def _deliver(
    future: asyncio.Future[t.Any], result: t.Any, error: BaseException | None
) -> None:
    # Runs on the loop. The awaiting task may have been cancelled meanwhile.
    if future.cancelled():
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


class WorkerPool:
    """Worker threads running sync calls for the event loop, one call each at a time.

    PERF: ``loop.run_in_executor`` goes through a ``concurrent.futures``
    future, a thread pool's work item, ``wrap_future`` and two done callbacks
    per call; here a call is one tuple on a :class:`queue.SimpleQueue` and one
    ``call_soon_threadsafe`` back, about a third cheaper per hop.

    Threads start on demand, up to ``limit``; calls beyond that wait in the
    queue for a free thread. An idle thread ends after
    :data:`THREAD_IDLE_TIMEOUT` seconds. Threads are daemon threads: a call
    still running at interpreter exit does not hold the process.
    """

    def __init__(self, limit: int = DEFAULT_THREAD_LIMIT) -> None:
        if limit < 1:
            raise ValueError(f"A worker pool needs at least one thread, not {limit}.")
        #: The most threads this pool runs at once.
        self.limit = limit
        import asyncio
        import queue  # PERF: imported on first use (import time)

        # PERF: kept here: an import statement per call costs about 1k
        # instructions even when the module is loaded.
        self._get_running_loop = asyncio.get_running_loop
        self._queue: queue.SimpleQueue[t.Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        #: Threads started and not ended.
        self.threads = 0
        #: Threads waiting for work and not yet promised a call.
        self._idle = 0

    def _reset_after_fork(self) -> None:
        # The child process has none of the parent's threads.
        import queue

        self._queue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self.threads = self._idle = 0

    def submit(
        self,
        context: contextvars.Context,
        func: Callable[..., T],
        args: tuple[t.Any, ...],
        kwargs: Mapping[str, t.Any] = _NO_KWARGS,
    ) -> asyncio.Future[T]:
        """Run ``context.run(func, *args, **kwargs)`` in a worker thread; its future.

        Call from the event loop's thread. Cancelling the future does not stop
        a call already running (a thread cannot be interrupted), but a call not
        yet started is skipped.
        """
        loop = self._get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._lock:
            if self._idle:
                self._idle -= 1
                start = False
            else:
                start = self.threads < self.limit
                if start:
                    self.threads += 1
        self._queue.put((loop, future, context, func, args, kwargs))
        if start:
            threading.Thread(
                target=self._work, name="erlen-worker", daemon=True
            ).start()
        return future

    def _work(self) -> None:
        import queue

        get = self._queue.get
        lock = self._lock
        current = _worker
        while True:
            try:
                item = get(timeout=THREAD_IDLE_TIMEOUT)
            except queue.Empty:
                with lock:
                    if self._idle:
                        # Nobody was promised this thread: end it.
                        self._idle -= 1
                        self.threads -= 1
                        return
                # A call was promised to this thread just now: it is coming.
                continue
            loop, future, context, func, args, kwargs = item
            result: t.Any = None
            error: BaseException | None = None
            # A call whose awaiting task was cancelled before it started is
            # skipped (as run_in_executor does).
            run = not future.cancelled()
            if run:
                current.loop = loop
                try:
                    result = context.run(func, *args, **kwargs)
                except StopIteration as e:
                    # A future cannot hold StopIteration (it would end the
                    # awaiting coroutine); the same as a coroutine raising it.
                    error = RuntimeError(f"{func!r} raised StopIteration")
                    error.__cause__ = e
                except BaseException as e:  # handed to the awaiting task
                    error = e
            # PERF: counted idle before waking the loop, so that this thread
            # is back in get() (off the GIL) as soon as possible.
            with lock:
                self._idle += 1
            if run:
                try:
                    loop.call_soon_threadsafe(_deliver, future, result, error)
                except RuntimeError:  # pragma: no cover (the loop closed meanwhile)
                    pass
            # Do not keep the call's objects alive while idle.
            del item, loop, future, context, func, args, kwargs, result, error


#: The worker thread's current call: ``loop``, the event loop it came from.
_worker = threading.local()


def worker_loop() -> asyncio.AbstractEventLoop | None:
    """Return the event loop whose call this worker thread runs; None off the pool.

    Code that a worker thread runs for a request can hand coroutines to the
    server's loop with it (``_async.run_coroutine_sync`` does).
    """
    return getattr(_worker, "loop", None)


#: The pool run_sync() uses; made on first use (see _get_pool).
_pool: WorkerPool | None = None
_pool_lock = threading.Lock()
_thread_limit = DEFAULT_THREAD_LIMIT


def _get_pool() -> WorkerPool:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = WorkerPool(_thread_limit)
            if hasattr(os, "register_at_fork"):  # pragma: no branch (not Windows)
                os.register_at_fork(after_in_child=_pool._reset_after_fork)
        return _pool


def set_thread_limit(limit: int) -> None:
    """Set how many worker threads :func:`run_sync` may run at once (default 40).

    A lower limit takes effect as busy threads finish; threads are not ended
    early.
    """
    global _thread_limit
    if limit < 1:
        raise ValueError(f"A worker pool needs at least one thread, not {limit}.")
    _thread_limit = limit
    if _pool is not None:
        _pool.limit = limit


def run_sync(
    context: contextvars.Context | None,
    func: Callable[..., T],
    *args: t.Any,
    **kwargs: t.Any,
) -> asyncio.Future[T]:
    """Call ``func(*args, **kwargs)`` in a worker thread inside ``context``; await it.

    ``context`` is entered in the thread (``context.run``), so the call sees
    and sets the request's context variables; ``None`` runs it in a copy of
    the caller's context. The call's exception is raised by the await.
    Call from the event loop's thread (a coroutine or a loop callback): the
    returned future belongs to the running loop. Cancelling it leaves the
    worker thread to finish the call and take the next one.
    """
    if context is None:
        context = contextvars.copy_context()
    # PERF: no queue or threads until a first call (a WSGI app never makes one).
    return (_pool or _get_pool()).submit(context, func, args, kwargs)


# -- serving -----------------------------------------------------------------------


class _NoBody(io.BytesIO):
    """The input of every request without a body: empty, read-only and shared.

    PERF: no stream made and closed per request (the commonest requests,
    GETs, have no body; ~2k instructions per request under uvicorn). It reads
    as a new empty BytesIO does; as no request may change it, writing raises
    (as a WSGI server's input does), closing leaves it open, and seeking
    leaves it at the start (reads are empty wherever they start).
    """

    def writable(self) -> bool:
        return False

    def write(self, data: t.Any, /) -> int:
        raise io.UnsupportedOperation("The request body is not writable.")

    def writelines(self, lines: t.Any, /) -> None:
        raise io.UnsupportedOperation("The request body is not writable.")

    def truncate(self, size: int | None = None, /) -> int:
        raise io.UnsupportedOperation("The request body is not writable.")

    def seek(self, offset: int, whence: int = 0, /) -> int:
        # Checked and answered as BytesIO does, but the shared position
        # stays at 0.
        position = super().seek(offset, whence)
        super().seek(0)
        return position

    def close(self) -> None:
        pass  # shared: it stays open


_NO_BODY = _NoBody()

#: The SERVER_PROTOCOL values whose requests frame a body with a header.
_HTTP1 = frozenset({"HTTP/1.1", "HTTP/1.0"})


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
    if kind != "http":
        await _serve_other(kind, handler, scope, receive, send)
        return
    # PERF: HTTP served here, not in a helper coroutine: one frame less.
    environ = _build_environ(scope)
    body: t.IO[bytes] | None
    if (
        "CONTENT_LENGTH" not in environ
        and "HTTP_TRANSFER_ENCODING" not in environ
        and environ["SERVER_PROTOCOL"] in _HTTP1
    ):
        # PERF: by HTTP/1.x framing (RFC 9112, section 6.3) a request with
        # neither Content-Length nor Transfer-Encoding has no body: no
        # receive() for its empty http.request message (under uvicorn, a
        # wait on an event and a bytes copy). HTTP/2 and 3 frame bodies
        # otherwise: they are always received.
        body = _NO_BODY
    else:
        message = await receive()
        if message["type"] == "http.request" and not message.get("more_body", False):
            # PERF: the common case, the whole body in one message: no list,
            # no join; BytesIO shares the bytes object until written to.
            body = io.BytesIO(message.get("body", b""))
        else:
            limit = handler.config.get("MAX_CONTENT_LENGTH")
            body = await _receive_body(message, receive, limit)
            if body is None:
                return
    environ["wsgi.input"] = body
    try:
        if wsgi_app is not None:
            await _serve_wrapped_wsgi(wsgi_app, environ, send)
            return
        # One context for the whole request, wherever its steps run.
        context = contextvars.copy_context()
        response = handler._erlen_handle_async(environ, context)
        if not isinstance(response, _Response):
            response = await response
        chunks = response.response
        status = response._status_code
        # PERF: the common case, a body of one bytes object from a Response
        # whose sending methods are its own, with nothing to close and a
        # status with a body: sent here (no send_response() coroutine), with
        # the answer get_wsgi_headers() and get_app_iter() would give.
        if (
            response._plain_send
            and chunks.__class__ is list
            and len(chunks) == 1
            and chunks[0].__class__ is bytes
            and 200 <= status
            and status != 204
            and status != 304
        ):
            # PERF: get_wsgi_headers()'s pairs in one pass over the
            # Headers' tuples (cache keys), one lookup each: a pair
            # whose name is none of Content-Length, Location and
            # Content-Location is sent as it is (get_wsgi_headers()
            # would only copy it), a Content-Length pair is noted. A
            # Location or Content-Location pair (which get_wsgi_headers()
            # may rewrite) sends the response the general way.
            plain = _PLAIN_PAIRS.get
            headers = []
            has_length = False
            for pair in response.headers._list:
                encoded = plain(pair)
                if encoded is None:
                    encoded = _SEND_LENGTHS.get(pair) or _send_pair(pair)
                    if encoded is None:
                        break
                    has_length = has_length or encoded[0] == b"content-length"
                headers.append(encoded)
            else:
                data = chunks[0]
                if not has_length and response.automatically_set_content_length:
                    headers.append((b"content-length", b"%d" % len(data)))
                await send(
                    {
                        "type": "http.response.start",
                        "status": status,
                        "headers": headers,
                    }
                )
                await send(
                    {
                        "type": "http.response.body",
                        "body": b"" if environ["REQUEST_METHOD"] == "HEAD" else data,
                    }
                )
                return
        await send_response(response, environ, send, context, receive)
    finally:
        if body is not _NO_BODY:
            body.close()


async def _serve_other(
    kind: str,
    handler: ASGIHandler,
    scope: dict[str, t.Any],
    receive: Receive,
    send: Send,
) -> None:
    if kind == "lifespan":
        await _serve_lifespan(handler, receive, send)
    elif kind == "websocket":
        # PERF: the WebSocket driver is imported on first use (import time).
        from .websockets import serve as serve_websocket

        await serve_websocket(handler, scope, receive, send)
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
            if phase == "startup":
                limit = handler.config.get("ASGI_MAX_THREADS")
                if limit is not None:
                    set_thread_limit(int(limit))
            await handler._erlen_lifespan(phase)
        except Exception as e:
            await send({"type": f"lifespan.{phase}.failed", "message": repr(e)})
            if phase == "startup":
                return
        else:
            await send({"type": f"lifespan.{phase}.complete"})
        if phase == "shutdown":
            return


#: The ASGI form of each response header pair seen so far: ("Content-Type",
#: "text/plain") -> (b"content-type", b"text/plain").
# PERF: responses send the same few pairs again and again (types, lengths,
# the app's fixed headers); a hit is one lookup instead of a lower(), two
# encodes and a tuple. Bounded; long values (cookies, say) are not kept.
_HEADER_PAIRS: dict[tuple[str, str], tuple[bytes, bytes]] = {}
_HEADER_PAIRS_MAX = 1024
_HEADER_PAIR_MAX_VALUE = 200


#: The ASGI form of each response header pair seen so far whose name is none
#: of Content-Length, Location and Content-Location (in any case): what
#: get_wsgi_headers() passes on as it is. Bounded as _HEADER_PAIRS.
_PLAIN_PAIRS: dict[tuple[str, str], tuple[bytes, bytes]] = {}
#: The same for Content-Length pairs.
_SEND_LENGTHS: dict[tuple[str, str], tuple[bytes, bytes]] = {}


def _send_pair(pair: tuple[str, str]) -> tuple[bytes, bytes] | None:
    """Return the ASGI form of a response header pair for serve()'s plain pass.

    None for a ``Location`` or ``Content-Location`` pair, which
    get_wsgi_headers() may rewrite. The pair is remembered in _PLAIN_PAIRS or
    _SEND_LENGTHS unless its value is long.
    """
    name, value = pair
    lname = name.lower()
    if lname == "location" or lname == "content-location":
        return None
    encoded = (lname.encode("latin1"), value.encode("latin1"))
    if len(value) <= _HEADER_PAIR_MAX_VALUE:
        cache = _SEND_LENGTHS if lname == "content-length" else _PLAIN_PAIRS
        cache_put(cache, _HEADER_PAIRS_MAX, pair, encoded)
    return encoded


def _encode_pair(name: str, value: str) -> tuple[bytes, bytes]:
    pair = (name.lower().encode("latin1"), value.encode("latin1"))
    if len(value) <= _HEADER_PAIR_MAX_VALUE:
        cache_put(_HEADER_PAIRS, _HEADER_PAIRS_MAX, (name, value), pair)
    return pair


def _encode_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """Return response headers as ASGI's list of lower-cased latin-1 pairs."""
    encoded: list[tuple[bytes, bytes]] = []
    append = encoded.append
    if type(headers) is Headers:
        # PERF: the pairs are tuples of str already (a Headers holds them
        # so): each is its own cache key.
        pair_of = _HEADER_PAIRS.get
        for pair in headers._list:
            append(pair_of(pair) or _encode_pair(*pair))
    elif type(headers) is tuple:
        pair_of = _HEADER_PAIRS.get
        for pair in headers:
            append(pair_of(pair) or _encode_pair(*pair))
    else:
        for name, value in headers:
            append(_encode_pair(name, value))
    return encoded


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
    headers = _encode_headers(response.get_wsgi_headers(environ))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    body = response.response
    if body.__class__ is list or body.__class__ is tuple or response.is_sequence:
        # PERF: a buffered body (the common case) goes out in one message,
        # without the disconnect watch a stream needs.
        try:
            data = None
            if body.__class__ is list and type(response).get_app_iter is _get_app_iter:
                # PERF: a list of bytes is joined as it is, without the
                # encoding generator get_app_iter() would step through (the
                # same bytes; the same empty body for HEAD, 1xx, 204, 304).
                for chunk in body:
                    if chunk.__class__ is not bytes:
                        break
                else:
                    if (
                        environ["REQUEST_METHOD"] == "HEAD"
                        or status < 200
                        or status == 204
                        or status == 304
                    ):
                        data = b""
                    else:
                        data = b"".join(body)
            if data is None:
                data = b"".join(response.get_app_iter(environ))
            await send({"type": "http.response.body", "body": data})
        finally:
            if response._on_close:
                await run_sync(context, response.close)
        return
    # NOTE: servers may take send() after a disconnect without an error
    # (uvicorn does); only receive() tells that the client is gone. Without
    # this watch an endless stream would run on for nobody.
    import asyncio

    gone = asyncio.Event()
    watcher = None
    if receive is not None:
        watcher = asyncio.get_running_loop().create_task(
            _watch_disconnect(receive, gone)
        )
    try:
        if hasattr(body, "__aiter__"):
            if environ["REQUEST_METHOD"] != "HEAD" and status not in (204, 304):
                agen = t.cast("t.AsyncIterable[t.Any]", body)
                await _in_context(_send_async_iterable(agen, send, gone), context)
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
    if context is None:
        context = contextvars.copy_context()
    iterator = iter(iterable)
    while gone is None or not gone.is_set():
        chunk = await run_sync(context, next, iterator, _END)
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
    await run_sync(context, response.close)


async def _serve_wrapped_wsgi(
    wsgi_app: Callable[..., Iterable[bytes]],
    environ: dict[str, t.Any],
    send: Send,
) -> None:
    """Run a (middleware-wrapped) WSGI app in a worker thread and send its answer."""
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

    app_iter = await run_sync(context, wsgi_app, environ, start_response)
    iterator = iter(app_iter)
    try:
        first = await run_sync(context, next, iterator, _END)
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
            await run_sync(context, close)
