"""The WSGI driver: a response out to a WSGI server, and a WSGI app's answer in."""

from __future__ import annotations

import typing as t
from functools import partial

from .sansio.files import FileBody

if t.TYPE_CHECKING:  # pragma: no cover
    import contextvars
    from collections.abc import Callable
    from collections.abc import Iterable
    from collections.abc import Iterator

    from .sansio.response import Response

R = t.TypeVar("R", bound="Response")

# The statuses whose response has no body: 1xx, 204 and 304 (a status code is
# always from 100 to 999).
_NO_BODY_STATUSES = frozenset((*range(100, 200), 204, 304))


class _ClosingIterator:
    """Iterate a body and, on ``close()``, close the response it came from."""

    __slots__ = ("_iterator", "_close")

    def __init__(self, iterable: Iterable[bytes], close: Callable[[], None]) -> None:
        self._iterator = iter(iterable)
        self._close = close

    def __iter__(self) -> Iterator[bytes]:
        return self._iterator

    def close(self) -> None:
        self._close()


class _ContextIterator:
    """Like :class:`_ClosingIterator`, but every step runs in the request's context."""

    __slots__ = ("_iterator", "_close", "_run")

    def __init__(
        self,
        iterable: Iterable[bytes],
        close: Callable[[], None],
        context: contextvars.Context,
    ) -> None:
        self._run = context.run
        self._iterator = iter(iterable)
        self._close = close

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        return self._run(next, self._iterator)

    def close(self) -> None:
        self._run(self._close)


class _WrappedFile:
    """The file handed to ``wsgi.file_wrapper``: its ``close()`` closes the response.

    Servers look for ``fileno()`` to use ``sendfile(2)`` and call ``close()``
    when done; closing the response (not just the file) runs its
    ``call_on_close`` functions too.
    """

    __slots__ = ("_file", "_close")

    def __init__(self, file: t.IO[bytes], close: Callable[[], None]) -> None:
        self._file = file
        self._close = close

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def fileno(self) -> int:
        return self._file.fileno()

    def __getattr__(self, name: str) -> t.Any:
        # seek, tell, seekable, ...: whatever else a server's wrapper uses.
        return getattr(self._file, name)

    def close(self) -> None:
        self._close()


def _wrap_file(
    file_wrapper: Callable[..., Iterable[bytes]],
    body: FileBody,
    close: Callable[[], None],
) -> Iterable[bytes]:
    """Hand the rest of ``body``'s file to the server's ``wsgi.file_wrapper``."""
    # PERF: zero-copy. Used only when the body is the file from its offset to
    # the end, since PEP 3333 lets a server send everything the file holds;
    # a narrower range is iterated instead.
    if body.offset is not None:
        body.fileobj.seek(body.offset)
    return file_wrapper(_WrappedFile(body.fileobj, close), body.chunk_size)


def respond(
    response: Response,
    environ: dict[str, t.Any],
    start_response: Callable[..., t.Any],
    context: contextvars.Context | None = None,
) -> Iterable[bytes]:
    """Start the WSGI response and return the body iterable for the server.

    The server's call to ``close()`` on the iterable closes the response:
    its generator (so streamed bodies run their cleanup, even when the
    client went away) and its ``call_on_close`` functions.

    :param context: the context the request ran in; a streamed body is
        iterated and closed in it, so that ``stream_with_context`` sees the
        request and pops it where it was pushed.
    """
    # PERF: one flag: False for a class overriding the sending methods, and
    # on a response with call_on_close functions (see Response._plain_send).
    if response._plain_send:
        body = response.response
        if body.__class__ is list:
            for chunk in body:
                if chunk.__class__ is not bytes:
                    break
            else:
                # PERF: the common case, a buffered body of bytes with nothing
                # to close: the same answer as get_wsgi_response(), but the
                # server gets the body list itself (no encoding generator to
                # create and step through, no wrapper), and the header list
                # without a Headers object around it. The same private fields
                # get_app_iter/get_wsgi_response read.
                headers: list[tuple[str, str]] | None = None
                if response._status_code in _NO_BODY_STATUSES:
                    body = ()
                else:
                    headers = response._plain_wsgi_headers()
                    if environ["REQUEST_METHOD"] == "HEAD":
                        body = ()
                if headers is None:  # no body, or a Location to make absolute
                    headers = response.get_wsgi_headers(environ).to_wsgi_list()
                start_response(response._status, headers)
                return body
    return _respond_general(response, environ, start_response, context)


def _respond_general(
    response: Response,
    environ: dict[str, t.Any],
    start_response: Callable[..., t.Any],
    context: contextvars.Context | None,
) -> Iterable[bytes]:
    """Do respond()'s work through get_wsgi_response(), for any response."""
    app_iter, status, headers_list = response.get_wsgi_response(environ)
    start_response(status, headers_list)
    if isinstance(app_iter, FileBody):
        file_wrapper = environ.get("wsgi.file_wrapper")
        if file_wrapper is not None and app_iter.whole_file_rest():
            close = response.close
            if context is not None:
                close = partial(context.run, close)
            return _wrap_file(file_wrapper, app_iter, close)
    # PERF: a buffered body with nothing to close goes out as it is.
    if not response._on_close and response.is_sequence:
        return app_iter
    if context is None:
        return _ClosingIterator(app_iter, response.close)
    return _ContextIterator(app_iter, response.close, context)


def response_from_wsgi_app(
    app: Callable[..., Iterable[bytes]],
    environ: dict[str, t.Any],
    response_class: type[R],
) -> R:
    """Call a WSGI application and return its answer as a ``response_class``.

    Flask lets a view return any WSGI application. Its body is collected
    here (and its ``close()`` called), so the response is complete.
    """
    started: list[t.Any] = []
    written: list[bytes] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
    ) -> Callable[[bytes], None]:
        if exc_info is not None and started:
            raise exc_info[1].with_traceback(exc_info[2])
        started[:] = [status, headers]
        return written.append

    if not callable(app):
        raise TypeError(
            f"Expected a WSGI application (a callable), got {type(app).__name__}."
        )
    app_iter = app(environ, start_response)
    try:
        body = written + [bytes(chunk) for chunk in app_iter]
    finally:
        close = getattr(app_iter, "close", None)
        if close is not None:
            close()
    if not started:
        raise TypeError(
            f"The WSGI application {app!r} returned without calling start_response()."
        )
    status, headers = started
    return response_class(body, status=status, headers=headers)
