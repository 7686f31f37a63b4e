from __future__ import annotations

import asyncio
import threading
import typing as t

import pytest

import erlen
from erlen.ctx import _AppCtxGlobals
from erlen.ctx import RequestContext
from erlen.globals import _cv_app
from erlen.globals import _cv_request
from erlen.testing import Client

# -- g -------------------------------------------------------------------------------


def test_g_namespace(app: erlen.Flask) -> None:
    g = _AppCtxGlobals()
    g.a = 1
    assert g.a == 1
    assert "a" in g
    assert list(g) == ["a"]
    assert g.get("a") == 1
    assert g.get("b") is None
    assert g.get("b", 2) == 2
    assert g.setdefault("b", 3) == 3
    assert g.setdefault("b", 4) == 3
    assert g.pop("b") == 3
    assert g.pop("b", "gone") == "gone"
    with pytest.raises(KeyError):
        g.pop("b")
    with pytest.raises(AttributeError, match="missing"):
        g.missing  # noqa: B018
    del g.a
    with pytest.raises(AttributeError, match="a"):
        del g.a
    assert repr(g).startswith("<erlen.ctx._AppCtxGlobals object")
    with app.app_context():
        assert repr(erlen.g) == "<erlen.g of 'erlen_test_app'>"


def test_g_per_app_context(app: erlen.Flask, client: Client) -> None:
    @app.route("/")
    def index() -> str:
        erlen.g.setdefault("hits", 0)
        erlen.g.hits += 1
        return str(erlen.g.hits)

    assert client.get("/").data == b"1"
    assert client.get("/").data == b"1"


# -- has_*_context -----------------------------------------------------------------


def test_has_context(app: erlen.Flask) -> None:
    assert not erlen.has_app_context()
    assert not erlen.has_request_context()
    with app.app_context():
        assert erlen.has_app_context()
        assert not erlen.has_request_context()
    with app.test_request_context():
        assert erlen.has_app_context()
        assert erlen.has_request_context()


# -- AppContext ----------------------------------------------------------------------


def test_app_context_push_pop_and_teardown(app: erlen.Flask) -> None:
    seen: list[t.Any] = []

    @app.teardown_appcontext
    def teardown(exc: BaseException | None) -> None:
        seen.append(exc)

    ctx = app.app_context()
    ctx.push()
    assert erlen.current_app._get_current_object() is app  # type: ignore[attr-defined]
    ctx.push()  # nested: teardown only on the last pop
    ctx.pop()
    assert seen == []
    ctx.pop()
    assert seen == [None]
    assert not erlen.has_app_context()

    error = ValueError("x")
    with pytest.raises(ValueError, match="x"):
        with app.app_context():
            raise error
    assert seen[-1] is error

    # Without an argument, the exception being handled is used.
    ctx = app.app_context()
    ctx.push()
    error2 = KeyError("k")
    try:
        raise error2
    except KeyError:
        ctx.pop()
    assert seen[-1] is error2


def test_app_context_signals(app: erlen.Flask) -> None:
    events: list[str] = []

    def pushed(sender: erlen.Flask, **kw: t.Any) -> None:
        events.append("pushed")

    def popped(sender: erlen.Flask, **kw: t.Any) -> None:
        events.append("popped")

    with (
        erlen.appcontext_pushed.connected_to(pushed, app),
        erlen.appcontext_popped.connected_to(popped, app),
    ):
        with app.app_context():
            events.append("inside")
    assert events == ["pushed", "inside", "popped"]


def test_app_context_wrong_pop(app: erlen.Flask) -> None:
    first = app.app_context()
    second = app.app_context()
    first.push()
    second.push()
    with pytest.raises(AssertionError, match="Popped wrong app context"):
        first.pop()
    # The wrong pop still reset first's token; restore a clean state.
    assert _cv_app.get(None) is None


def test_app_context_url_adapter(app: erlen.Flask) -> None:
    @app.route("/x")
    def x() -> str:
        return "x"

    assert app.app_context().url_adapter is None
    app.config["SERVER_NAME"] = "example.com"
    ctx = app.app_context()
    assert ctx.url_adapter is not None
    with ctx:
        assert erlen.url_for("x") == "http://example.com/x"


# -- RequestContext --------------------------------------------------------------------


def test_request_context_push_pop_order(app: erlen.Flask) -> None:
    events: list[str] = []

    @app.teardown_request
    def teardown_request(exc: BaseException | None) -> None:
        events.append("request")

    @app.teardown_appcontext
    def teardown_app(exc: BaseException | None) -> None:
        events.append("app")

    ctx = app.test_request_context("/")
    ctx.push()
    app_ctx = _cv_app.get()
    assert _cv_request.get() is ctx
    assert app_ctx.app is app
    ctx.pop()
    assert events == ["request", "app"]
    assert not erlen.has_app_context()
    assert ctx.request.environ["erlen.request"] is None


def test_request_context_reuses_app_context(app: erlen.Flask) -> None:
    events: list[str] = []

    @app.teardown_appcontext
    def teardown_app(exc: BaseException | None) -> None:
        events.append("app")

    with app.app_context() as app_ctx:
        with app.test_request_context():
            assert _cv_app.get() is app_ctx
        assert events == []
    assert events == ["app"]
    # Another app's context is not reused.
    other = erlen.Flask("other", root_path="/tmp")
    with other.app_context():
        with app.test_request_context():
            assert erlen.current_app._get_current_object() is app  # type: ignore[attr-defined]
        assert erlen.current_app._get_current_object() is other  # type: ignore[attr-defined]


def test_request_context_wrong_pop(app: erlen.Flask) -> None:
    first = app.test_request_context()
    second = app.test_request_context()
    first.push()
    second.push()
    with pytest.raises(AssertionError, match="Popped wrong request context"):
        first.pop()


def test_request_context_pop_uses_exc_info(app: erlen.Flask) -> None:
    seen: list[BaseException | None] = []

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        seen.append(exc)

    ctx = app.test_request_context()
    ctx.push()
    error = KeyError("k")
    try:
        raise error
    except KeyError:
        ctx.pop()
    assert seen == [error]


def test_request_context_session(app: erlen.Flask) -> None:
    ctx = app.test_request_context()
    with pytest.raises(RuntimeError, match="has not been opened yet"):
        ctx.session  # noqa: B018
    with ctx:
        session = ctx.session
        assert session.accessed
        replacement = app.session_interface.make_null_session(app)
        ctx.session = replacement
        assert ctx.session is replacement


def test_request_context_null_session_when_interface_declines(app: erlen.Flask) -> None:
    app.config["SECRET_KEY"] = None
    with app.test_request_context() as ctx:
        assert app.session_interface.is_null_session(ctx.session)


def test_request_context_bad_host(app: erlen.Flask) -> None:
    app.config["TRUSTED_HOSTS"] = ["good.example"]
    ctx = app.test_request_context("/", base_url="http://evil.example/")
    assert ctx.url_adapter is None
    assert ctx.request.routing_exception is not None
    assert ctx.request.routing_exception.code == 400
    with ctx:
        assert ctx.request.url_rule is None


def test_request_context_repr_and_copy(app: erlen.Flask) -> None:
    with app.test_request_context("/path?q=1", method="POST") as ctx:
        assert repr(ctx) == (
            "<RequestContext 'http://localhost/path?q=1' [POST] of erlen_test_app>"
        )
        copied = ctx.copy()
        assert copied.request is ctx.request
        assert copied._session is ctx._session


def test_request_context_given_request(app: erlen.Flask) -> None:
    with app.test_request_context("/") as ctx:
        environ = ctx.request.environ
    request = app.request_class(environ)
    ctx = RequestContext(app, environ, request=request)
    assert ctx.request is request


def test_request_without_close(app: erlen.Flask) -> None:
    class NoClose(erlen.Request):
        close = None  # type: ignore[assignment]

    app.request_class = NoClose
    with app.test_request_context() as ctx:
        assert isinstance(ctx.request, NoClose)


# -- after_this_request --------------------------------------------------------------


def test_after_this_request(app: erlen.Flask, client: Client) -> None:
    @app.route("/")
    def index() -> str:
        @erlen.after_this_request
        def add_header(response: erlen.Response) -> erlen.Response:
            response.headers["X-Once"] = "yes"
            return response

        return "x"

    @app.route("/other")
    def other() -> str:
        return "y"

    assert client.get("/").headers["X-Once"] == "yes"
    assert "X-Once" not in client.get("/other").headers


def test_after_this_request_outside_request() -> None:
    with pytest.raises(RuntimeError, match="'after_this_request' can only be used"):
        erlen.after_this_request(lambda r: r)


# -- copy_current_request_context -------------------------------------------


def test_copy_current_request_context_sync(app: erlen.Flask, client: Client) -> None:
    results: list[str] = []

    @app.route("/")
    def index() -> str:
        @erlen.copy_current_request_context
        def work(prefix: str) -> str:
            return f"{prefix} {erlen.request.path} {erlen.session.get('k')}"

        erlen.session["k"] = "v"
        thread = threading.Thread(target=lambda: results.append(work("thread")))
        thread.start()
        thread.join()
        assert work.__name__ == "work"
        return results[0]

    assert client.get("/").data == b"thread / v"


def test_copy_current_request_context_async(app: erlen.Flask) -> None:
    with app.test_request_context("/async-path"):

        @erlen.copy_current_request_context
        async def work(prefix: str) -> str:
            await asyncio.sleep(0)
            return f"{prefix} {erlen.request.path}"

    assert work.__name__ == "work"
    assert not erlen.has_request_context()
    assert asyncio.run(work("later")) == "later /async-path"


def test_copy_current_request_context_outside_request() -> None:
    with pytest.raises(RuntimeError, match="copy_current_request_context"):
        erlen.copy_current_request_context(lambda: None)


# -- the default session is opened on first use when there is no cookie ------


def _count_opens(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    from erlen.sessions import SecureCookieSessionInterface

    opened: list[int] = []
    original = SecureCookieSessionInterface.open_session

    def counting(self: t.Any, app: t.Any, request: t.Any) -> t.Any:
        opened.append(1)
        return original(self, app, request)

    monkeypatch.setattr(SecureCookieSessionInterface, "open_session", counting)
    return opened


def test_session_not_opened_unless_used(
    app: erlen.Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.secret_key = "k"
    opened = _count_opens(monkeypatch)

    @app.route("/plain")
    def plain() -> str:
        return "plain"

    @app.route("/use")
    def use() -> str:
        erlen.session["n"] = 1
        return "used"

    client = app.test_client()
    resp = client.get("/plain")
    assert resp.data == b"plain"
    assert "Set-Cookie" not in resp.headers
    assert "Vary" not in resp.headers
    assert opened == []
    resp = client.get("/use")
    assert opened == [1]
    assert "session=" in resp.headers["Set-Cookie"]
    # With the cookie present the session is opened when the context is
    # pushed, as in Flask, so a permanent one is refreshed even if unused.
    client.get("/plain")
    assert opened == [1, 1]


def test_unopened_session_is_shared_by_copies(app: erlen.Flask) -> None:
    app.secret_key = "k"
    with app.test_request_context("/"):
        ctx = _cv_request.get()
        assert ctx._session is None
        copied = ctx.copy()
        assert ctx._session is not None
        assert copied._session is ctx._session
    with app.test_request_context("/"):
        # Never pushed: reading the session is an error, not a lazy open.
        fresh = app.test_request_context("/")
        with pytest.raises(RuntimeError, match="push the request context"):
            fresh.session  # noqa: B018


def test_subclassed_interface_opens_at_push(app: erlen.Flask) -> None:
    from erlen.sessions import SecureCookieSessionInterface

    class Interface(SecureCookieSessionInterface):
        pass

    app.secret_key = "k"
    app.session_interface = Interface()
    with app.test_request_context("/"):
        assert _cv_request.get()._session is not None


@pytest.mark.parametrize("path", ["/plain", "/nope", "/plain/", "/dir"])
def test_overridden_adapter_match_is_called(app: erlen.Flask, path: str) -> None:
    # The request context matches through MapAdapter.match when a subclass
    # replaces it (otherwise through its non-raising internal twin), and
    # both give the same url_rule, view_args and routing_exception.
    from erlen.routing import Map
    from erlen.routing import MapAdapter

    calls: list[str] = []

    class Adapter(MapAdapter):
        __slots__ = ()

        def match(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
            calls.append(self.path_info)
            return super().match(*args, **kwargs)

    class CustomMap(Map):
        def bind_to_environ(self, *args: t.Any, **kwargs: t.Any) -> MapAdapter:
            adapter = super().bind_to_environ(*args, **kwargs)
            adapter.__class__ = Adapter
            return adapter

    @app.route("/plain")
    def plain() -> str:
        return "plain"

    @app.route("/dir/")
    def folder() -> str:
        return "dir"

    def outcome() -> tuple[t.Any, t.Any, t.Any]:
        with app.test_request_context(path):
            req = erlen.request
            exc = req.routing_exception
            return (
                req.url_rule and req.url_rule.rule,
                req.view_args,
                exc and (type(exc), getattr(exc, "new_url", None)),
            )

    expected = outcome()
    assert calls == []
    app.url_map.__class__ = CustomMap
    assert outcome() == expected
    assert calls == [path]


def test_url_adapter_is_made_on_first_use(app: erlen.Flask, client: Client) -> None:
    from erlen.ctx import _UNBOUND

    seen: list[bool] = []

    @app.route("/")
    def index() -> str:
        ctx = _cv_request.get()
        seen.append(ctx._url_adapter is _UNBOUND)
        url = erlen.url_for("index", _external=True)
        seen.append(ctx._url_adapter is _UNBOUND)
        return url

    response = client.get("/")
    assert response.text == "http://localhost/"
    assert seen == [True, False]
    with app.test_request_context("/"):
        ctx = _cv_request.get()
        ctx.url_adapter = None
        assert ctx.url_adapter is None


@pytest.mark.parametrize("from_header", [True, False])
def test_unencodable_host_is_400_without_binding(
    app: erlen.Flask, client: Client, from_header: bool
) -> None:
    from erlen.testing import EnvironBuilder

    @app.route("/")
    def index() -> str:
        return "ok"

    assert client.get("/").status_code == 200  # the app is set up
    host = "a" * 70 + ".com"
    environ = EnvironBuilder(path="/").get_environ()
    if from_header:
        environ["HTTP_HOST"] = host
    else:
        del environ["HTTP_HOST"]
        environ["SERVER_NAME"] = host
    statuses: list[str] = []
    body = app.wsgi_app(environ, lambda status, headers, *a: statuses.append(status))
    assert statuses == ["400 BAD REQUEST"]
    assert b"Bad Request" in b"".join(body)
    ctx = app.request_context(environ)
    assert ctx.url_adapter is None
