"""The app's logger, and a default handler writing to the request's error stream."""

from __future__ import annotations

import logging
import sys
import typing as t

from .globals import _cv_request
from .local import LocalProxy

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import Flask


def _errors_stream() -> t.TextIO:
    ctx = _cv_request.get(None)
    if ctx is not None:
        stream = ctx.request.environ.get("wsgi.errors")
        if stream is not None:
            return stream  # type: ignore[no-any-return]
    return sys.stderr


#: The request's ``wsgi.errors`` stream while a request is handled, else
#: :data:`sys.stderr`. Usable as a handler's stream in logging configuration
#: as ``ext://erlen.logging.wsgi_errors_stream``.
wsgi_errors_stream: t.TextIO = LocalProxy(_errors_stream)  # type: ignore[assignment]


def has_level_handler(logger: logging.Logger) -> bool:
    """Return whether a handler in the logger's chain takes its effective level."""
    level = logger.getEffectiveLevel()
    current: logging.Logger | None = logger
    while current is not None:
        if any(handler.level <= level for handler in current.handlers):
            return True
        if not current.propagate:
            break
        current = current.parent
    return False


#: Writes to :data:`wsgi_errors_stream` as
#: ``[%(asctime)s] %(levelname)s in %(module)s: %(message)s``.
default_handler = logging.StreamHandler(wsgi_errors_stream)
default_handler.setFormatter(
    logging.Formatter("[%(asctime)s] %(levelname)s in %(module)s: %(message)s")
)


def create_logger(app: Flask) -> logging.Logger:
    """Return the logger named after the app, configured as Flask configures it.

    In debug mode an unset level becomes DEBUG; when no handler would take
    the logger's messages, :data:`default_handler` is added.
    """
    logger = logging.getLogger(app.name)
    if app.debug and not logger.level:
        logger.setLevel(logging.DEBUG)
    if not has_level_handler(logger):
        logger.addHandler(default_handler)
    return logger
