from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck
from hypothesis import settings

import erlen
from erlen.testing import Client

# The CI machine is shared and noisy: no per-example deadline, and a bounded
# number of examples so the whole suite stays well inside CI's time limit.
settings.register_profile(
    "ci",
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=100)
# HYPOTHESIS_PROFILE=stress: a long search, to shake out rare inputs before
# CI's random ones do.
settings.register_profile(
    "stress",
    deadline=None,
    max_examples=2000,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(params=["wsgi", "asgi"])
def interface(request: pytest.FixtureRequest) -> str:
    """Run a behaviour test once over WSGI and once over ASGI."""
    return str(request.param)


@pytest.fixture
def app() -> erlen.Flask:
    """Return a tiny app in testing mode, with a secret key for sessions."""
    app = erlen.Flask("erlen_test_app", root_path="/tmp")
    app.config.update(TESTING=True, SECRET_KEY="test key")
    return app


@pytest.fixture
def client(app: erlen.Flask, interface: str) -> Iterator[Client]:
    """Return a test client driving ``app`` over the ``interface`` protocol."""
    with Client(app, asgi=(interface == "asgi")) as c:
        yield c
