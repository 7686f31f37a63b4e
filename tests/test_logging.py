from __future__ import annotations

import io
import logging
import sys
import typing as t

import pytest

import erlen
from erlen.logging import create_logger
from erlen.logging import default_handler
from erlen.logging import has_level_handler
from erlen.logging import wsgi_errors_stream


@pytest.fixture
def fresh_logger(app: erlen.Flask) -> t.Iterator[logging.Logger]:
    logger = logging.getLogger(app.name)
    saved = (logger.level, list(logger.handlers), logger.propagate)
    logger.handlers.clear()
    logger.setLevel(logging.NOTSET)
    yield logger
    logger.setLevel(saved[0])
    logger.handlers[:] = saved[1]
    logger.propagate = saved[2]


def test_create_logger_debug_sets_level(
    app: erlen.Flask, fresh_logger: logging.Logger
) -> None:
    app.debug = True
    logger = create_logger(app)
    assert logger is fresh_logger
    assert logger.level == logging.DEBUG


def test_create_logger_keeps_explicit_level(
    app: erlen.Flask, fresh_logger: logging.Logger
) -> None:
    app.debug = True
    fresh_logger.setLevel(logging.WARNING)
    assert create_logger(app).level == logging.WARNING


def test_create_logger_not_debug(
    app: erlen.Flask, fresh_logger: logging.Logger
) -> None:
    assert create_logger(app).level == logging.NOTSET


def test_create_logger_adds_default_handler_once(
    app: erlen.Flask, fresh_logger: logging.Logger
) -> None:
    fresh_logger.propagate = False
    create_logger(app)
    assert fresh_logger.handlers == [default_handler]
    create_logger(app)
    assert fresh_logger.handlers == [default_handler]


def test_create_logger_respects_existing_handler(
    app: erlen.Flask, fresh_logger: logging.Logger
) -> None:
    handler = logging.StreamHandler(io.StringIO())
    fresh_logger.addHandler(handler)
    create_logger(app)
    assert fresh_logger.handlers == [handler]


def test_has_level_handler() -> None:
    parent = logging.getLogger("erlen_test_parent")
    child = logging.getLogger("erlen_test_parent.child")
    saved = (list(parent.handlers), parent.propagate, parent.level)
    try:
        parent.handlers.clear()
        parent.propagate = False
        parent.setLevel(logging.INFO)
        assert not has_level_handler(child)
        high = logging.StreamHandler(io.StringIO())
        high.setLevel(logging.ERROR)
        parent.addHandler(high)
        assert not has_level_handler(child)
        low = logging.StreamHandler(io.StringIO())
        low.setLevel(logging.DEBUG)
        parent.addHandler(low)
        assert has_level_handler(child)
        # Propagating to the root logger, which has no handlers here.
        parent.handlers.clear()
        parent.propagate = True
        root_handlers = list(logging.root.handlers)
        logging.root.handlers.clear()
        try:
            assert not has_level_handler(child)
        finally:
            logging.root.handlers[:] = root_handlers
    finally:
        parent.handlers[:] = saved[0]
        parent.propagate = saved[1]
        parent.setLevel(saved[2])


def test_wsgi_errors_stream(app: erlen.Flask) -> None:
    assert wsgi_errors_stream._get_current_object() is sys.stderr  # type: ignore[attr-defined]
    errors = io.StringIO()
    with app.test_request_context(errors_stream=errors):
        assert wsgi_errors_stream._get_current_object() is errors  # type: ignore[attr-defined]
    with app.test_request_context() as ctx:
        del ctx.request.environ["wsgi.errors"]
        assert wsgi_errors_stream._get_current_object() is sys.stderr  # type: ignore[attr-defined]


def test_logged_error_goes_to_request_stream(
    app: erlen.Flask, fresh_logger: logging.Logger
) -> None:
    app.testing = False
    fresh_logger.propagate = False
    fresh_logger.addHandler(default_handler)
    errors = io.StringIO()

    @app.route("/")
    def index() -> str:
        raise ValueError("to the stream")

    with app.test_request_context("/", errors_stream=errors) as ctx:
        environ = ctx.request.environ
    environ.pop("erlen.request", None)
    response = app._erlen_handle(environ)
    assert response.status_code == 500
    assert "ERROR in app: Exception on / [GET]" in errors.getvalue()
    assert "to the stream" in errors.getvalue()
