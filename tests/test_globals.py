from __future__ import annotations

import pytest

import erlen
from erlen import globals as erlen_globals
from erlen.testing import Client


def test_proxies_outside_context() -> None:
    with pytest.raises(RuntimeError, match="Working outside of application context"):
        erlen.current_app.name  # noqa: B018
    with pytest.raises(RuntimeError, match="Working outside of application context"):
        erlen.g.x  # noqa: B018
    with pytest.raises(RuntimeError, match="Working outside of application context"):
        erlen_globals.app_ctx.app  # noqa: B018
    with pytest.raises(RuntimeError, match="Working outside of request context"):
        erlen.request.path  # noqa: B018
    with pytest.raises(RuntimeError, match="Working outside of request context"):
        erlen.session.get("x")
    with pytest.raises(RuntimeError, match="Working outside of request context"):
        erlen_globals.request_ctx.request  # noqa: B018


def test_proxies_in_request(app: erlen.Flask, client: Client) -> None:
    @app.route("/")
    def index() -> str:
        ctx = erlen_globals.request_ctx._get_current_object()  # type: ignore[attr-defined]
        app_ctx = erlen_globals.app_ctx._get_current_object()  # type: ignore[attr-defined]
        assert erlen.request._get_current_object() is ctx.request  # type: ignore[attr-defined]
        assert erlen.current_app._get_current_object() is app  # type: ignore[attr-defined]
        assert erlen.g._get_current_object() is app_ctx.g  # type: ignore[attr-defined]
        assert erlen.session._get_current_object() is ctx.session  # type: ignore[attr-defined]
        return f"{erlen.current_app.name} {erlen.request.method}"

    assert client.get("/").data == b"erlen_test_app GET"


def test_context_variable_names() -> None:
    assert erlen_globals._cv_app.name == "erlen.app_ctx"
    assert erlen_globals._cv_request.name == "erlen.request_ctx"
