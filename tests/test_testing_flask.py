from __future__ import annotations

import gc

import pytest

import erlen
from erlen import Flask
from erlen import g
from erlen import request
from erlen import session
from erlen import stream_with_context
from erlen.testing import app_base_url
from erlen.testing import app_environ_builder
from erlen.testing import FlaskClient


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.secret_key = "test key"

    @app.route("/")
    def index() -> str:
        g.seen = request.args.get("q")
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    @app.route("/stream")
    def stream() -> object:
        def gen() -> object:
            yield "a"
            yield request.path

        return stream_with_context(gen())

    @app.route("/where")
    def where() -> str:
        return f"{request.host} {request.script_root} {request.scheme}"

    return app


@pytest.fixture(params=["wsgi", "asgi"])
def client(app: Flask, request: pytest.FixtureRequest) -> FlaskClient:
    c = app.test_client(asgi=request.param == "asgi")
    assert isinstance(c, FlaskClient)
    return c


def test_session_round_trip_and_transaction(client: FlaskClient) -> None:
    assert client.get("/").text == "1"
    assert client.get("/").text == "2"
    with client.session_transaction() as sess:
        assert sess["n"] == 2
        sess["n"] = 10
    assert client.get("/").text == "11"


def test_session_transaction_needs_cookies(app: Flask) -> None:
    c = app.test_client(use_cookies=False)
    with pytest.raises(TypeError, match="use_cookies=True"):
        with c.session_transaction():
            pass  # pragma: no cover


def test_session_transaction_without_secret_key(app: Flask) -> None:
    # As in Flask: no secret key, no session to edit.
    app.secret_key = None
    with pytest.raises(RuntimeError, match="did not open a session"):
        with app.test_client().session_transaction():
            pass  # pragma: no cover


def test_session_transaction_with_a_null_session(app: Flask) -> None:
    class NullOpening(type(app.session_interface)):  # type: ignore[misc]
        def open_session(self, app: Flask, request: object) -> object:
            return self.make_null_session(app)

    app.session_interface = NullOpening()
    c = app.test_client()
    with c.session_transaction() as sess:
        assert app.session_interface.is_null_session(sess)
    assert c.get_cookie("session") is None


def test_session_transaction_when_interface_opens_nothing(app: Flask) -> None:
    class Nothing(type(app.session_interface)):  # type: ignore[misc]
        def open_session(self, app: object, request: object) -> None:
            return None

    app.session_interface = Nothing()
    with pytest.raises(RuntimeError, match="did not open a session"):
        with app.test_client().session_transaction():
            pass  # pragma: no cover


def test_with_client_preserves_contexts(client: FlaskClient) -> None:
    with client:
        client.get("/?q=7")
        assert request.args["q"] == "7"
        assert g.seen == "7"
        assert session["n"] == 1
        # A second request replaces the preserved contexts.
        client.get("/?q=8")
        assert request.args["q"] == "8"
    assert not erlen.has_request_context()
    assert not erlen.has_app_context()


def test_with_client_cannot_nest(client: FlaskClient) -> None:
    with client:
        with pytest.raises(RuntimeError, match="nest"):
            client.__enter__()


def test_with_client_and_a_streamed_body(client: FlaskClient) -> None:
    # The stream keeps the request context pushed in the request's own
    # context while `with client:` re-pushes it in the test's.
    with client:
        response = client.get("/stream")
        assert response.text == "a/stream"
        assert request.path == "/stream"
    assert not erlen.has_request_context()


def test_response_outlives_its_client(app: Flask) -> None:
    response = app.test_client(asgi=True).get("/stream")
    gc.collect()
    assert response.text == "a/stream"


def test_request_defaults_come_from_config(app: Flask) -> None:
    app.config.update(
        SERVER_NAME="example.test",
        APPLICATION_ROOT="/root",
        PREFERRED_URL_SCHEME="https",
    )
    c = app.test_client()
    assert c.get("/where").text == "example.test /root https"
    # An absolute URL in the path wins over the defaults.
    assert c.get("http://other.test/where").text == "other.test /root http"


def test_app_base_url_and_builder(app: Flask) -> None:
    assert app_base_url(app, "/x?a=1") == ("http://localhost/", "/x?a=1")
    assert app_base_url(app, "/", subdomain="api", url_scheme="https") == (
        "https://api.localhost/",
        "/",
    )
    builder = app_environ_builder(app, "/p", subdomain="api")
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    assert environ["HTTP_HOST"] == "api.localhost"
    assert environ["PATH_INFO"] == "/p"
    given = app_environ_builder(app, base_url="http://h.test/", path="/q")
    assert given.get_environ()["HTTP_HOST"] == "h.test"
    given.close()


def test_open_accepts_a_prepared_environ(client: FlaskClient, app: Flask) -> None:
    builder = app_environ_builder(app, "/where")
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    assert client.open(environ).text == "localhost  http"
