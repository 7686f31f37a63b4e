"""Helpers for views: URLs, redirects, aborts, responses, streaming and flashing."""

from __future__ import annotations

import os
import typing as t
from functools import update_wrapper

from . import signals
from .exceptions import abort as _abort_plain
from .globals import _cv_app
from .globals import _cv_request
from .sansio import files as _files
from .scaffold import _send_file_kwargs
from .scaffold import get_root_path as get_root_path
from .urls import iri_to_uri

if t.TYPE_CHECKING:  # pragma: no cover
    from datetime import datetime

    from .sansio.response import Response as BaseResponse
    from .wrappers import Response

R = t.TypeVar("R", bound="BaseResponse")


def get_debug_flag() -> bool:
    """Return whether ``ERLEN_DEBUG`` (or ``FLASK_DEBUG``) asks for debug mode."""
    value = os.environ.get("ERLEN_DEBUG") or os.environ.get("FLASK_DEBUG")
    return bool(value) and value.lower() not in {"0", "false", "no"}  # type: ignore[union-attr]


def get_load_dotenv(default: bool = True) -> bool:
    """Return whether to load ``.env`` files (see ``ERLEN_SKIP_DOTENV``)."""
    value = os.environ.get("ERLEN_SKIP_DOTENV") or os.environ.get("FLASK_SKIP_DOTENV")
    if not value:
        return default
    return value.lower() in {"0", "false", "no"}


def stream_with_context(generator_or_function: t.Any) -> t.Any:
    """Keep the request context active while a streamed body is produced.

    Wrap a generator (or decorate a generator function) returned from a view;
    ``request`` and ``session`` stay usable while it runs, and the request's
    teardown waits until the stream has finished or the client went away.
    Async generators are wrapped likewise.
    """
    if hasattr(generator_or_function, "__aiter__"):
        return _stream_async_with_context(generator_or_function)
    try:
        gen = iter(generator_or_function)
    except TypeError:

        def decorator(*args: t.Any, **kwargs: t.Any) -> t.Any:
            return stream_with_context(generator_or_function(*args, **kwargs))

        return update_wrapper(decorator, generator_or_function)

    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(
            "'stream_with_context' can only be used while a request context is"
            " active, such as in a view function."
        )

    def generator() -> t.Iterator[t.Any]:
        with ctx:
            yield None
            try:
                yield from gen
            finally:
                close = getattr(gen, "close", None)
                if close is not None:
                    close()

    wrapped = generator()
    # Prime it: the context is pushed now, so the request's own pop at the
    # end of dispatch leaves it active for the stream.
    next(wrapped)
    return wrapped


def _stream_async_with_context(agen: t.Any) -> t.AsyncIterator[t.Any]:
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(
            "'stream_with_context' can only be used while a request context is"
            " active, such as in a view function."
        )
    ctx.push()

    async def generator() -> t.AsyncIterator[t.Any]:
        try:
            async for chunk in agen:
                yield chunk
        finally:
            aclose = getattr(agen, "aclose", None)
            try:
                if aclose is not None:
                    await aclose()
            finally:
                ctx.pop()

    return generator()


def get_template_attribute(template_name: str, attribute: str) -> t.Any:
    """Return a macro (or any top-level name) that a template defines.

    Lets Python code call a template's macro::

        hello = get_template_attribute("_macros.html", "hello")
        hello("World")

    :param template_name: the template, found by the app's loader.
    :param attribute: the name of the macro or variable.
    :raise jinja2.TemplateNotFound: if the template does not exist.
    :raise AttributeError: if the template defines no such name.
    """
    ctx = _cv_app.get(None)
    if ctx is None:
        raise RuntimeError(
            "get_template_attribute() needs an application context to find the"
            " app's templates. Call it from a view, or inside"
            " 'with app.app_context():'."
        )
    return getattr(ctx.app.jinja_env.get_template(template_name).module, attribute)


def make_response(*args: t.Any) -> Response:
    """Return a response built like a view's return value, to add headers to."""
    ctx = _cv_app.get(None)
    if ctx is None:
        raise RuntimeError(
            "make_response() needs an application context; call it from a view."
        )
    if not args:
        return ctx.app.response_class()
    value: t.Any = args[0] if len(args) == 1 else args
    return ctx.app.make_response(value)


def url_for(
    endpoint: str,
    *,
    _anchor: str | None = None,
    _method: str | None = None,
    _scheme: str | None = None,
    _external: bool | None = None,
    **values: t.Any,
) -> str:
    """Build a URL to ``endpoint``; extra values become the query string.

    A leading dot names an endpoint of the current blueprint. Inside a
    request the URL is relative unless ``_external`` (or ``_scheme``) is
    given; outside one, ``SERVER_NAME`` is needed and the URL is absolute.
    """
    ctx = _cv_app.get(None)
    if ctx is None:
        raise RuntimeError(
            "url_for() needs an application context; call it from a view or"
            " inside 'with app.app_context():' (and set SERVER_NAME)."
        )
    return ctx.app.url_for(
        endpoint,
        _anchor=_anchor,
        _method=_method,
        _scheme=_scheme,
        _external=_external,
        **values,
    )


def _redirect_response(location: str, code: int, response_class: type[R]) -> R:
    # PERF: imported on first use (import time); html loads a large entity table.
    from html import escape

    display = escape(location)
    html_location = escape(iri_to_uri(location))
    body = (
        "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n"
        "<h1>Redirecting...</h1>\n"
        f'<p>This page has moved to <a href="{html_location}">{display}</a>.'
        " Follow the link if you are not taken there automatically.\n"
    )
    response = response_class(body, status=code, mimetype="text/html")
    # NOTE: a location with control characters (a CR/LF smuggled in through
    # a ?next= parameter) is sent percent-encoded, as the URI the response
    # would send anyway, instead of failing the header check with a 500.
    response.headers["Location"] = (
        location if location.isprintable() else iri_to_uri(location)
    )
    return response


def redirect(
    location: str, code: int = 302, Response: type[BaseResponse] | None = None
) -> BaseResponse:
    """Return a response that redirects the client to ``location`` (302 by default).

    ``Location`` is sent as given (relative URLs stay relative), after
    IRI-to-URI encoding. Inside an app, this calls ``app.redirect``.
    """
    if Response is not None:
        return _redirect_response(location, code, Response)
    ctx = _cv_app.get(None)
    if ctx is not None:
        return ctx.app.redirect(location, code=code)
    from .wrappers import Response as DefaultResponse

    return _redirect_response(location, code, DefaultResponse)


def abort(code: int | BaseResponse, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
    """Raise the HTTP error for ``code`` (or wrapping a response)."""
    ctx = _cv_app.get(None)
    if ctx is not None:
        ctx.app.aborter(code, *args, **kwargs)
    _abort_plain(code, *args, **kwargs)


def flash(message: str, category: str = "message") -> None:
    """Store ``message`` in the session for the next request to show."""
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError("flash() needs a request context; call it from a view.")
    session = ctx.session
    flashes = session.get("_flashes", [])
    flashes.append((category, message))
    session["_flashes"] = flashes
    app = ctx.app
    signal = signals.receivers_of("message_flashed")
    if signal is not None:
        signal.send(
            app, _async_wrapper=app.ensure_sync, message=message, category=category
        )


def get_flashed_messages(
    with_categories: bool = False, category_filter: t.Iterable[str] = ()
) -> list[str] | list[tuple[str, str]]:
    """Return (and consume) the flashed messages, optionally with categories."""
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(
            "get_flashed_messages() needs a request context; call it from a"
            " view or a template."
        )
    flashes = ctx.flashes
    if flashes is None:
        session = ctx.session
        flashes = session.pop("_flashes") if "_flashes" in session else []
        ctx.flashes = flashes
    if category_filter:
        # NOTE: Flask tests ``category in category_filter``: a plain string
        # is kept as is (so "info" matches "info"), not split into letters.
        wanted: str | set[str] = (
            category_filter
            if isinstance(category_filter, str)
            else set(category_filter)
        )
        flashes = [f for f in flashes if f[0] in wanted]
    if not with_categories:
        return [message for _, message in flashes]
    return flashes


def send_file(
    path_or_file: os.PathLike[str] | str | t.IO[bytes],
    mimetype: str | None = None,
    as_attachment: bool = False,
    download_name: str | None = None,
    conditional: bool = True,
    etag: bool | str = True,
    last_modified: datetime | int | float | None = None,
    max_age: float | t.Callable[[str | None], float | None] | None = None,
) -> Response:
    """Return a response sending a file, answering conditional and range requests.

    A relative path is relative to the app's :attr:`~erlen.Flask.root_path`.
    Never pass a path taken from the request: use :func:`send_from_directory`.
    ``max_age`` defaults to ``current_app.get_send_file_max_age(path)``
    (:data:`SEND_FILE_MAX_AGE_DEFAULT`), and ``USE_X_SENDFILE`` sends an
    ``X-Sendfile`` header instead of the body. The body is read lazily and
    sent zero-copy where the server allows it. See
    :func:`erlen.sansio.files.send_file` for every argument.
    """
    kwargs = _send_file_kwargs(
        "send_file",
        {
            "mimetype": mimetype,
            "as_attachment": as_attachment,
            "download_name": download_name,
            "conditional": conditional,
            "etag": etag,
            "last_modified": last_modified,
            "max_age": max_age,
        },
    )
    request = kwargs.pop("request")
    return t.cast("Response", _files.send_file(path_or_file, request, **kwargs))


def send_from_directory(
    directory: os.PathLike[str] | str, path: os.PathLike[str] | str, **kwargs: t.Any
) -> Response:
    """Send the file at an untrusted ``path`` inside ``directory``, or raise 404.

    ``directory`` is trusted and relative to the app's root path; ``path``
    (from the URL) may not leave it, whatever its encoding (``..``,
    absolute paths, backslashes, drive letters, NUL bytes): such paths and
    missing files raise :exc:`~erlen.exceptions.NotFound`. ``kwargs`` are
    :func:`send_file`'s.
    """
    kwargs = _send_file_kwargs("send_from_directory", kwargs)
    request = kwargs.pop("request")
    return t.cast(
        "Response", _files.send_from_directory(directory, path, request, **kwargs)
    )
