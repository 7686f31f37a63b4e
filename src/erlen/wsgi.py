"""The WSGI driver: a response out to a WSGI server, and a WSGI app's answer in."""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable
    from collections.abc import Iterable
    from collections.abc import Iterator

    from .sansio.response import Response

R = t.TypeVar("R", bound="Response")


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


def respond(
    response: Response,
    environ: dict[str, t.Any],
    start_response: Callable[..., t.Any],
) -> Iterable[bytes]:
    """Start the WSGI response and return the body iterable for the server.

    The server's call to ``close()`` on the iterable closes the response:
    its generator (so streamed bodies run their cleanup, even when the
    client went away) and its ``call_on_close`` functions.
    """
    app_iter, status, headers = response.get_wsgi_response(environ)
    start_response(status, headers)
    # PERF: a buffered body with nothing to close goes out as it is.
    if not response._on_close and response.is_sequence:
        return app_iter
    return _ClosingIterator(app_iter, response.close)


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
            f"The WSGI application {app!r} returned without calling"
            " start_response()."
        )
    status, headers = started
    return response_class(body, status=status, headers=headers)
