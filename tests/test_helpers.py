from __future__ import annotations

import asyncio
import typing as t

import pytest

import erlen
from erlen.exceptions import Forbidden
from erlen.exceptions import HTTPException
from erlen.exceptions import NotFound
from erlen.helpers import get_debug_flag
from erlen.helpers import get_load_dotenv
from erlen.routing import BuildError
from erlen.sansio.response import Response as BaseResponse
from erlen.testing import Client

# -- environment flags ---------------------------------------------------------


@pytest.mark.parametrize(
    ("erlen_value", "flask_value", "expected"),
    [
        (None, None, False),
        ("", None, False),
        ("1", None, True),
        ("yes", None, True),
        ("0", None, False),
        ("FALSE", None, False),
        ("No", None, False),
        (None, "1", True),
        (None, "false", False),
        ("0", "1", False),  # ERLEN_DEBUG wins
    ],
)
def test_get_debug_flag(
    monkeypatch: pytest.MonkeyPatch,
    erlen_value: str | None,
    flask_value: str | None,
    expected: bool,
) -> None:
    for name, value in (("ERLEN_DEBUG", erlen_value), ("FLASK_DEBUG", flask_value)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert get_debug_flag() is expected


@pytest.mark.parametrize(
    ("erlen_value", "flask_value", "default", "expected"),
    [
        (None, None, True, True),
        (None, None, False, False),
        ("1", None, True, False),
        ("true", None, True, False),
        ("0", None, True, True),
        ("false", None, False, True),
        ("no", None, True, True),
        (None, "1", True, False),
    ],
)
def test_get_load_dotenv(
    monkeypatch: pytest.MonkeyPatch,
    erlen_value: str | None,
    flask_value: str | None,
    default: bool,
    expected: bool,
) -> None:
    for name, value in (
        ("ERLEN_SKIP_DOTENV", erlen_value),
        ("FLASK_SKIP_DOTENV", flask_value),
    ):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert get_load_dotenv(default) is expected


# -- url_for ---------------------------------------------------------------------


@pytest.fixture
def url_app(app: erlen.Flask) -> erlen.Flask:
    bp = erlen.Blueprint("bp", __name__, url_prefix="/bp")

    @app.route("/")
    def index() -> str:
        return erlen.url_for("index")

    @app.route("/item/<int:n>")
    def item(n: int) -> str:
        return erlen.url_for("item", n=n + 1, q="x y")

    @app.route("/post", methods=["POST"])
    def post() -> str:
        return "p"

    @bp.route("/")
    def bp_index() -> str:
        return erlen.url_for(".bp_other") + " " + erlen.url_for("index")

    @bp.route("/other")
    def bp_other() -> str:
        return "o"

    app.register_blueprint(bp)
    return app


def test_url_for_in_request(url_app: erlen.Flask) -> None:
    with url_app.test_request_context("/"):
        assert erlen.url_for("index") == "/"
        assert erlen.url_for("item", n=3) == "/item/3"
        assert erlen.url_for("item", n=3, q="a b") == "/item/3?q=a+b"
        assert erlen.url_for(".index") == "/"
        assert erlen.url_for("index", _external=True) == "http://localhost/"
        assert erlen.url_for("index", _scheme="https") == "https://localhost/"
        assert (
            erlen.url_for("index", _scheme="https", _external=True)
            == "https://localhost/"
        )
        assert erlen.url_for("index", _anchor="a b/c?d") == "/#a%20b/c?d"
        assert erlen.url_for("post", _method="POST") == "/post"
        with pytest.raises(ValueError, match="'_external' must be True"):
            erlen.url_for("index", _scheme="https", _external=False)


def test_url_for_in_blueprint(url_app: erlen.Flask, interface: str) -> None:
    with Client(url_app, asgi=interface == "asgi") as client:
        assert client.get("/bp/").data == b"/bp/other /"
        assert client.get("/item/1").data == b"/item/2?q=x+y"


def test_url_for_outside_request(url_app: erlen.Flask) -> None:
    with pytest.raises(RuntimeError, match="needs an application context"):
        erlen.url_for("index")
    with url_app.app_context():
        with pytest.raises(RuntimeError, match="without 'SERVER_NAME'"):
            erlen.url_for("index")
    url_app.config.update(
        SERVER_NAME="example.org", APPLICATION_ROOT="/app", PREFERRED_URL_SCHEME="https"
    )
    with url_app.app_context():
        assert erlen.url_for("index") == "https://example.org/app/"
        assert erlen.url_for("index", _external=False) == "/app/"
    # Through the app itself, with no context at all.
    assert url_app.url_for("item", n=1) == "https://example.org/app/item/1"


def test_url_for_build_error_handlers(url_app: erlen.Flask) -> None:
    with url_app.test_request_context("/"):
        with pytest.raises(BuildError):
            erlen.url_for("nowhere")
    seen: list[tuple[str, dict[str, t.Any]]] = []

    def reraise(error: Exception, endpoint: str, values: dict[str, t.Any]) -> str:
        raise error

    def decline(error: Exception, endpoint: str, values: dict[str, t.Any]) -> None:
        seen.append((endpoint, dict(values)))
        return None

    def answer(error: Exception, endpoint: str, values: dict[str, t.Any]) -> str:
        return f"/fallback/{endpoint}"

    url_app.url_build_error_handlers.extend([reraise, decline])
    with url_app.test_request_context("/"):
        with pytest.raises(BuildError):
            erlen.url_for("nowhere", x=1, _anchor="a")
    assert seen == [
        (
            "nowhere",
            {
                "x": 1,
                "_anchor": "a",
                "_method": None,
                "_scheme": None,
                "_external": False,
            },
        )
    ]
    url_app.url_build_error_handlers.append(answer)
    with url_app.test_request_context("/"):
        assert erlen.url_for("nowhere") == "/fallback/nowhere"


def test_url_defaults(url_app: erlen.Flask) -> None:
    calls: list[str] = []

    @url_app.url_defaults
    def app_defaults(endpoint: str, values: dict[str, t.Any]) -> None:
        calls.append(f"app {endpoint}")

    bp = url_app.blueprints["bp"]
    url_app.url_default_functions.setdefault("bp", []).append(
        lambda endpoint, values: calls.append(f"bp {endpoint}")
    )
    with url_app.test_request_context("/"):
        erlen.url_for("bp.bp_other")
        erlen.url_for("index")
    assert bp.name == "bp"
    assert calls == ["app bp.bp_other", "bp bp.bp_other", "app index"]


# -- redirect and abort ------------------------------------------------------------


def test_redirect_without_app() -> None:
    response = erlen.redirect("/target?x=<1>")
    assert isinstance(response, erlen.Response)
    assert response.status_code == 302
    assert response.headers["Location"] == "/target?x=<1>"
    assert response.mimetype == "text/html"
    assert b'href="/target?x=%3C1%3E"' in response.get_data()
    assert b"/target?x=&lt;1&gt;" in response.get_data()


def test_redirect_with_response_class() -> None:
    response = erlen.redirect("http://ü.example/ä", 301, BaseResponse)
    assert type(response) is BaseResponse
    assert response.status_code == 301
    assert response.headers["Location"] == "http://ü.example/ä"
    assert b"http://xn--tda.example/%C3%A4" in response.get_data()


def test_redirect_with_app(app: erlen.Flask) -> None:
    class MyResponse(erlen.Response):
        pass

    app.response_class = MyResponse
    with app.app_context():
        response = erlen.redirect("/x", code=303)
    assert type(response) is MyResponse
    assert response.status_code == 303
    assert app.redirect("/y").headers["Location"] == "/y"


def test_redirect_in_view(app: erlen.Flask, client: Client) -> None:
    @app.route("/")
    def index() -> t.Any:
        return erlen.redirect(erlen.url_for("target"))

    @app.route("/target")
    def target() -> str:
        return "arrived"

    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/target"
    assert client.get("/", follow_redirects=True).data == b"arrived"


@pytest.mark.parametrize(
    ("target", "sent"),
    [
        # Tabs and newlines are dropped, as URL parsers (and browsers) do;
        # other control characters are percent-encoded.
        ("/x\r\nSet-Cookie: a=b", "/xSet-Cookie:%20a=b"),
        ("http://evil.example/\nX-Injected: 1", "http://evil.example/X-Injected:%201"),
        ("/tab\there", "/tabhere"),
        ("/nul\x00x", "/nul%00x"),
        ("/line\u2028sep", "/line%E2%80%A8sep"),
    ],
)
def test_redirect_to_a_location_with_control_characters(
    app: erlen.Flask, client: Client, target: str, sent: str
) -> None:
    # A smuggled CR/LF cannot start a header, and is no 500 either.
    @app.route("/go")
    def go() -> t.Any:
        return erlen.redirect(erlen.request.args["next"])

    response = client.get("/go", query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == sent
    assert "Set-Cookie" not in response.headers
    assert "X-Injected" not in response.headers
    assert erlen.redirect(target).headers["Location"] == sent


def test_abort_without_app() -> None:
    with pytest.raises(NotFound):
        erlen.abort(404)
    with pytest.raises(HTTPException) as info:
        erlen.abort(BaseResponse("custom", status=418))
    assert info.value.get_response().status_code == 418


def test_abort_uses_app_aborter(app: erlen.Flask) -> None:
    class Teapot(HTTPException):
        code = 418
        description = "short and stout"

    app.aborter.mapping[418] = Teapot
    with app.app_context():
        with pytest.raises(Teapot):
            erlen.abort(418)
        with pytest.raises(Forbidden, match="nope"):
            erlen.abort(403, "nope")


def test_abort_in_view(app: erlen.Flask, client: Client) -> None:
    @app.route("/")
    def index() -> str:
        erlen.abort(403, description="not for you")

    response = client.get("/")
    assert response.status_code == 403
    assert b"not for you" in response.data


# -- make_response ----------------------------------------------------------------


def test_make_response_helper(app: erlen.Flask, client: Client) -> None:
    @app.route("/empty")
    def empty() -> t.Any:
        response = erlen.make_response()
        response.headers["X-Empty"] = "1"
        return response

    @app.route("/one")
    def one() -> t.Any:
        return erlen.make_response("body")

    @app.route("/many")
    def many() -> t.Any:
        response = erlen.make_response("body", 201, {"X-A": "b"})
        response.headers["X-B"] = "c"
        return response

    response = client.get("/empty")
    assert response.data == b""
    assert response.headers["X-Empty"] == "1"
    assert client.get("/one").data == b"body"
    response = client.get("/many")
    assert response.status_code == 201
    assert response.headers["X-A"] == "b"
    assert response.headers["X-B"] == "c"


def test_make_response_helper_outside_app() -> None:
    with pytest.raises(RuntimeError, match="needs an application context"):
        erlen.make_response("x")


# -- flashing ----------------------------------------------------------------------


def test_flash_and_get(app: erlen.Flask, client: Client) -> None:
    @app.route("/flash")
    def flash() -> str:
        erlen.flash("plain")
        erlen.flash("careful", "warning")
        erlen.flash("bad", "error")
        return "ok"

    @app.route("/all")
    def all_messages() -> str:
        first = erlen.get_flashed_messages()
        # Consumed once per request, but cached for the request.
        again = erlen.get_flashed_messages(with_categories=True)
        return repr((first, again))

    @app.route("/filtered")
    def filtered() -> str:
        return repr(
            (
                erlen.get_flashed_messages(category_filter=["warning", "error"]),
                erlen.get_flashed_messages(
                    with_categories=True, category_filter=["error"]
                ),
            )
        )

    client.get("/flash")
    assert client.get("/all").text == repr(
        (
            ["plain", "careful", "bad"],
            [("message", "plain"), ("warning", "careful"), ("error", "bad")],
        )
    )
    assert client.get("/all").text == repr(([], []))
    client.get("/flash")
    assert client.get("/filtered").text == repr(
        (["careful", "bad"], [("error", "bad")])
    )


def test_flash_signal(app: erlen.Flask) -> None:
    seen: list[tuple[str, str]] = []

    def on_flash(sender: erlen.Flask, message: str, category: str) -> None:
        seen.append((message, category))

    with erlen.message_flashed.connected_to(on_flash, app):
        with app.test_request_context():
            erlen.flash("hi", "info")
    assert seen == [("hi", "info")]


def test_flash_outside_request() -> None:
    with pytest.raises(RuntimeError, match="flash\\(\\) needs a request context"):
        erlen.flash("x")
    with pytest.raises(RuntimeError, match="get_flashed_messages\\(\\) needs"):
        erlen.get_flashed_messages()


# -- stream_with_context -------------------------------------------------------------


def test_stream_with_context_sync(app: erlen.Flask, client: Client) -> None:
    torn: list[str] = []

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        torn.append("request")

    @app.route("/")
    def index() -> t.Any:
        def generate() -> t.Iterator[str]:
            yield "hello "
            yield erlen.request.args["name"]
            yield f" {torn}"

        return erlen.stream_with_context(generate())

    @app.route("/decorated")
    def decorated() -> t.Any:
        @erlen.stream_with_context
        def generate(suffix: str) -> t.Iterator[str]:
            yield erlen.request.path
            yield suffix

        return generate("!")

    response = client.get("/?name=world")
    assert response.data == b"hello world []"
    response.close()
    assert torn == ["request"]
    response = client.get("/decorated")
    assert response.data == b"/decorated!"


def test_stream_with_context_async(app: erlen.Flask, client: Client) -> None:
    torn: list[str] = []

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        torn.append("request")

    @app.route("/")
    async def index() -> t.Any:
        async def generate() -> t.AsyncIterator[str]:
            yield "hello "
            await asyncio.sleep(0)
            yield erlen.request.args["name"]
            yield f" {torn}"

        return erlen.stream_with_context(generate())

    response = client.get("/?name=world")
    assert response.data == b"hello world []"
    response.close()
    assert torn == ["request"]


class _AsyncChunks:
    """An async iterable without ``aclose``."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def __aiter__(self) -> _AsyncChunks:
        return self

    async def __anext__(self) -> bytes:
        if not self.chunks:
            raise StopAsyncIteration
        return self.chunks.pop(0)


class _SyncChunks:
    """An iterator without ``close``."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def __iter__(self) -> _SyncChunks:
        return self

    def __next__(self) -> bytes:
        if not self.chunks:
            raise StopIteration
        return self.chunks.pop(0)


def test_stream_with_context_without_close(app: erlen.Flask, client: Client) -> None:
    @app.route("/sync")
    def sync_view() -> t.Any:
        return erlen.stream_with_context(_SyncChunks([b"a", b"b"]))

    @app.route("/async")
    async def async_view() -> t.Any:
        return erlen.stream_with_context(_AsyncChunks([b"c", b"d"]))

    assert client.get("/sync").data == b"ab"
    if client.asgi:
        assert client.get("/async").data == b"cd"


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_stream_disconnect_closes_generator_and_tears_down(
    app: erlen.Flask, client: Client, kind: str
) -> None:
    events: list[str] = []

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        events.append("teardown")

    def sync_gen() -> t.Iterator[bytes]:
        try:
            for i in range(1000):
                yield f"chunk{i};".encode()
        finally:
            events.append("closed")

    async def async_gen() -> t.AsyncIterator[bytes]:
        try:
            for i in range(1000):
                await asyncio.sleep(0)
                yield f"chunk{i};".encode()
        finally:
            events.append("closed")

    @app.route("/")
    def index() -> t.Any:
        return erlen.stream_with_context(sync_gen() if kind == "sync" else async_gen())

    if kind == "async" and not client.asgi:
        # An async body cannot be sent over WSGI; it stays an ASGI feature.
        return
    response = client.get("/")
    first = next(iter(response.response))
    assert first.startswith(b"chunk0;")
    assert events == []
    response.close()
    assert events == ["closed", "teardown"]


def test_stream_with_context_outside_request() -> None:
    def gen() -> t.Iterator[str]:
        yield "x"

    async def agen() -> t.AsyncIterator[str]:
        yield "x"

    with pytest.raises(RuntimeError, match="request context"):
        erlen.stream_with_context(gen())
    agen_obj = agen()
    with pytest.raises(RuntimeError, match="request context"):
        erlen.stream_with_context(agen_obj)
    asyncio.run(agen_obj.aclose())
