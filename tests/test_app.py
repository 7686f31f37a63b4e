from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import typing as t
from datetime import timedelta

import pytest

import erlen
from erlen import app as app_module
from erlen.app import _debug_flag_from_env
from erlen.app import _is_async_callable
from erlen.app import _is_http_exception
from erlen.app import _make_timedelta
from erlen.app import _split_blueprint_path
from erlen.datastructures import Headers
from erlen.debughelpers import FormDataRoutingRedirect
from erlen.exceptions import BadRequest
from erlen.exceptions import BadRequestKeyError
from erlen.exceptions import Forbidden
from erlen.exceptions import HTTPException
from erlen.exceptions import InternalServerError
from erlen.exceptions import NotFound
from erlen.testing import Client
from erlen.views import MethodView
from erlen.views import View

# -- small module helpers ---------------------------------------------------


def test_make_timedelta() -> None:
    assert _make_timedelta(None) is None
    delta = timedelta(seconds=3)
    assert _make_timedelta(delta) is delta
    assert _make_timedelta(5) == timedelta(seconds=5)


def test_split_blueprint_path() -> None:
    assert _split_blueprint_path("a") == ["a"]
    assert _split_blueprint_path("a.b.c") == ["a.b.c", "a.b", "a"]


def test_is_http_exception_duck_typed() -> None:
    class Foreign(Exception):
        code = 418

        def get_response(self) -> erlen.Response:
            return erlen.Response("teapot", status=418)

    class NoCode(Exception):
        code = "x"

    assert _is_http_exception(NotFound())
    assert _is_http_exception(Foreign())
    assert not _is_http_exception(NoCode())
    assert not _is_http_exception(ValueError())


def test_is_async_callable() -> None:
    async def coro() -> None:
        pass

    def plain() -> None:
        pass

    class AsyncView(View):
        async def dispatch_request(self) -> str:  # type: ignore[override]
            return "x"

    class SyncView(View):
        def dispatch_request(self) -> str:
            return "x"

    class AsyncMethods(MethodView):
        async def post(self) -> str:
            return "x"

    class NoMethods:
        methods = None

        def dispatch_request(self) -> str:
            return "x"

    def with_plain_view_class() -> None:
        pass

    with_plain_view_class.view_class = NoMethods  # type: ignore[attr-defined]

    assert _is_async_callable(coro)
    assert not _is_async_callable(plain)
    assert _is_async_callable(AsyncView.as_view("a"))
    assert not _is_async_callable(SyncView.as_view("s"))
    assert _is_async_callable(AsyncMethods.as_view("m"))
    assert not _is_async_callable(with_plain_view_class)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False),
        ("", False),
        ("1", True),
        ("true", True),
        ("0", False),
        ("False", False),
        ("no", False),
    ],
)
def test_debug_flag_from_env(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: bool
) -> None:
    monkeypatch.delenv("ERLEN_DEBUG", raising=False)
    if value is None:
        monkeypatch.delenv("FLASK_DEBUG", raising=False)
    else:
        monkeypatch.setenv("FLASK_DEBUG", value)
    assert _debug_flag_from_env() is expected
    assert erlen.Flask("x", root_path="/tmp").debug is expected


def test_debug_flag_from_erlen_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.setenv("ERLEN_DEBUG", "1")
    assert _debug_flag_from_env() is True


# -- construction and properties ----------------------------------------------


def test_instance_path_must_be_absolute() -> None:
    with pytest.raises(ValueError, match="must be absolute"):
        erlen.Flask("x", root_path="/tmp", instance_path="rel")
    app = erlen.Flask("x", root_path="/tmp", instance_path="/tmp/inst")
    assert app.instance_path == "/tmp/inst"


def test_auto_find_instance_path_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_module, "find_package", lambda name: ("/prefix", "/p"))
    app = erlen.Flask("pkg", root_path="/tmp")
    assert app.instance_path == os.path.join("/prefix", "var", "pkg-instance")


def test_static_host_needs_host_matching() -> None:
    with pytest.raises(ValueError, match="static_host"):
        erlen.Flask("x", root_path="/tmp", static_host="example.com")
    with pytest.raises(ValueError, match="static_host"):
        erlen.Flask("x", root_path="/tmp", host_matching=True)
    app = erlen.Flask(
        "x", root_path="/tmp", host_matching=True, static_host="example.com"
    )
    assert app.url_map.host_matching
    # Without a static folder, the combination is not checked.
    erlen.Flask("x", root_path="/tmp", static_folder=None, static_host="h")


def test_name_of_main_module(monkeypatch: pytest.MonkeyPatch) -> None:
    main = sys.modules["__main__"]
    monkeypatch.setattr(main, "__file__", "/some/where/script.py", raising=False)
    assert erlen.Flask("__main__", root_path="/tmp").name == "script"
    monkeypatch.delattr(main, "__file__", raising=False)
    assert erlen.Flask("__main__", root_path="/tmp").name == "__main__"


def test_debug_property_and_logger(app: erlen.Flask) -> None:
    app.debug = True
    assert app.config["DEBUG"] is True
    assert app.debug is True
    assert isinstance(app.logger, logging.Logger)
    assert app.logger.name == "erlen_test_app"
    assert repr(app) == "<Flask 'erlen_test_app'>"


def test_cli_group(app: erlen.Flask) -> None:
    import click

    assert isinstance(app.cli, click.Group)
    assert app.cli.name == "erlen_test_app"


def test_config_attributes(app: erlen.Flask) -> None:
    assert app.testing is True
    assert app.secret_key == "test key"
    app.config["PERMANENT_SESSION_LIFETIME"] = 60
    assert app.permanent_session_lifetime == timedelta(seconds=60)


def test_make_config_instance_relative(tmp_path: t.Any) -> None:
    app = erlen.Flask(
        "x",
        root_path="/tmp",
        instance_path=str(tmp_path),
        instance_relative_config=True,
    )
    assert app.config.root_path == str(tmp_path)


def test_open_instance_resource(tmp_path: t.Any) -> None:
    (tmp_path / "data.txt").write_text("héllo", encoding="utf-8")
    app = erlen.Flask("x", root_path="/tmp", instance_path=str(tmp_path))
    with app.open_instance_resource("data.txt") as f:
        assert f.read() == "héllo".encode()
    with app.open_instance_resource("data.txt", "r") as f:
        assert f.read() == "héllo"
    with app.open_instance_resource("new.txt", "w") as f:
        f.write("x")
    assert (tmp_path / "new.txt").read_text() == "x"


def test_setup_method_after_first_request(app: erlen.Flask, client: Client) -> None:
    @app.route("/")
    def index() -> str:
        return "x"

    assert client.get("/").data == b"x"
    with pytest.raises(AssertionError, match="can no longer be called"):
        app.add_url_rule("/late", "late", index)


def test_setup_runs_once(app: erlen.Flask) -> None:
    app._erlen_setup()
    assert app._got_first_request
    app._erlen_overridden = frozenset({"sentinel"})
    app._erlen_setup()  # already set up: nothing changes
    assert app._erlen_overridden == frozenset({"sentinel"})


# -- registration ---------------------------------------------------------------


def test_add_url_rule_methods(app: erlen.Flask) -> None:
    def view() -> str:
        return "x"

    with pytest.raises(TypeError, match="list of strings"):
        app.add_url_rule("/s", "s", view, methods="POST")
    app.add_url_rule("/a", "a", view, methods=["post"])
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "a")
    assert rule.methods == {"POST", "OPTIONS"}
    assert rule.provide_automatic_options is True  # type: ignore[attr-defined]

    # OPTIONS given explicitly: no automatic handling.
    app.add_url_rule("/b", "b", view, methods=["GET", "OPTIONS"])
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "b")
    assert rule.provide_automatic_options is False  # type: ignore[attr-defined]

    # From the view function's attributes.
    def attr_view() -> str:
        return "y"

    attr_view.methods = ["PUT"]  # type: ignore[attr-defined]
    attr_view.required_methods = ["PATCH"]  # type: ignore[attr-defined]
    attr_view.provide_automatic_options = False  # type: ignore[attr-defined]
    app.add_url_rule("/c", view_func=attr_view)
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "attr_view")
    assert rule.methods == {"PUT", "PATCH"}

    # Explicit argument wins.
    app.add_url_rule("/d", "d", view, provide_automatic_options=True)
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "d")
    assert rule.provide_automatic_options is True  # type: ignore[attr-defined]
    assert "OPTIONS" not in rule.methods  # type: ignore[operator]


def test_add_url_rule_config_disables_automatic_options(app: erlen.Flask) -> None:
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    app.add_url_rule("/a", "a", lambda: "x")
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "a")
    assert rule.provide_automatic_options is False  # type: ignore[attr-defined]
    assert rule.methods == {"GET", "HEAD"}


def test_add_url_rule_without_view_and_overwrite(app: erlen.Flask) -> None:
    app.add_url_rule("/a", "a")
    assert "a" not in app.view_functions

    def one() -> str:
        return "1"

    def two() -> str:
        return "2"

    app.add_url_rule("/one", "same", one)
    app.add_url_rule("/one-again", "same", one)  # same function: fine
    with pytest.raises(AssertionError, match="overwriting an existing endpoint"):
        app.add_url_rule("/two", "same", two)


def test_register_blueprint_and_iter(app: erlen.Flask) -> None:
    bp = erlen.Blueprint("bp", __name__)
    app.register_blueprint(bp)
    assert list(app.iter_blueprints()) == [bp]


def test_shell_context(app: erlen.Flask) -> None:
    @app.shell_context_processor
    def extra() -> dict[str, t.Any]:
        return {"answer": 42}

    rv = app.make_shell_context()
    assert rv["app"] is app
    assert rv["g"] is erlen.g
    assert rv["answer"] == 42


def test_test_request_context_base_url(app: erlen.Flask) -> None:
    app.config.update(
        SERVER_NAME="example.org:8080",
        APPLICATION_ROOT="/root",
        PREFERRED_URL_SCHEME="https",
    )
    with app.test_request_context("/page") as ctx:
        assert ctx.request.url == "https://example.org:8080/root/page"


def test_test_client(app: erlen.Flask) -> None:
    @app.route("/")
    def index() -> str:
        return "hello"

    class MyClient(Client):
        pass

    app.test_client_class = MyClient
    with app.test_client() as c:
        assert type(c) is MyClient
        assert c.get("/").data == b"hello"


# -- make_response --------------------------------------------------------------


def _wsgi_hello(environ: dict[str, t.Any], start_response: t.Any) -> list[bytes]:
    start_response("201 CREATED", [("X-App", "wsgi")])
    return [b"from ", b"wsgi"]


@pytest.mark.parametrize(
    ("rv", "status", "body", "header"),
    [
        ("text", 200, b"text", None),
        (b"bytes", 200, b"bytes", None),
        (bytearray(b"ba"), 200, b"ba", None),
        (iter([b"a", "b"]), 200, b"ab", None),
        ({"k": 1}, 200, b'{"k":1}\n', None),
        ([1, 2], 200, b"[1,2]\n", None),
        (("t", 201), 201, b"t", None),
        (("t", "202 ACCEPTED"), 202, b"t", None),
        (("t", {"X-A": "1"}), 200, b"t", ("X-A", "1")),
        (("t", [("X-A", "2")]), 200, b"t", ("X-A", "2")),
        (("t", (("X-A", "3"),)), 200, b"t", ("X-A", "3")),
        (("t", Headers({"X-A": "4"})), 200, b"t", ("X-A", "4")),
        (("t", 404, {"X-A": "5"}), 404, b"t", ("X-A", "5")),
        (({"k": 2}, 201, {"X-A": "6"}), 201, b'{"k":2}\n', ("X-A", "6")),
        ((erlen.Response("r"), 418), 418, b"r", None),
        ((erlen.Response("r"), 200, {}), 200, b"r", None),
        (NotFound(), 404, None, None),
        ((Forbidden(), 499), 499, None, None),
        (_wsgi_hello, 201, b"from wsgi", ("X-App", "wsgi")),
    ],
)
def test_make_response_rules(
    app: erlen.Flask,
    rv: t.Any,
    status: int,
    body: bytes | None,
    header: tuple[str, str] | None,
) -> None:
    with app.test_request_context():
        response = app.make_response(rv)
    assert isinstance(response, erlen.Response)
    assert response.status_code == status
    if body is not None:
        assert response.get_data() == body
    if header is not None:
        assert response.headers[header[0]] == header[1]


def test_make_response_foreign_http_exception(app: erlen.Flask) -> None:
    from erlen.sansio.response import Response as BaseResponse

    class Foreign(Exception):
        code = 418

        def get_response(self) -> BaseResponse:
            return BaseResponse("teapot", status=418)

    with app.app_context():
        response = app.make_response(Foreign())
    assert type(response) is erlen.Response
    assert response.status_code == 418
    assert response.get_data() == b"teapot"


def test_make_response_base_response_is_coerced(app: erlen.Flask) -> None:
    from erlen.sansio.response import Response as BaseResponse

    with app.app_context():
        response = app.make_response(BaseResponse("plain", status=202))
    assert type(response) is erlen.Response
    assert response.status_code == 202
    assert response.get_data() == b"plain"


def test_make_response_errors(app: erlen.Flask) -> None:
    @app.route("/none")
    def none_view() -> None:
        return None

    with app.test_request_context("/none"):
        with pytest.raises(TypeError, match="'none_view' did not return a valid"):
            app.make_response(None)
    with app.app_context():
        with pytest.raises(TypeError, match="None did not return a valid"):
            app.make_response(None)
        with pytest.raises(TypeError, match="valid response tuple"):
            app.make_response(("a", 200, {}, 4))
        with pytest.raises(TypeError, match="valid response tuple"):
            app.make_response(("a",))
        with pytest.raises(TypeError, match="but it was a int"):
            app.make_response(42)
        # Flask's status type is int | str; bytes get a clean TypeError.
        with pytest.raises(TypeError, match="it was a bytes"):
            app.make_response(("t", b"203 OK"))
        with pytest.raises(TypeError, match="it was a bytes"):
            app.make_response((erlen.Response("t"), b"203 OK"))

        def not_wsgi() -> str:
            return "x"

        with pytest.raises(TypeError, match="but it was a function"):
            app.make_response(not_wsgi)

        def silent(environ: t.Any, start_response: t.Any) -> list[bytes]:
            return [b"x"]

        with pytest.raises(TypeError, match="without calling start_response"):
            app.make_response(silent)


def test_make_response_over_protocols(app: erlen.Flask, client: Client) -> None:
    @app.route("/tuple")
    def tuple_view() -> t.Any:
        return "made", 201, {"X-Thing": "yes"}

    @app.route("/wsgi")
    def wsgi_view() -> t.Any:
        return _wsgi_hello

    response = client.get("/tuple")
    assert response.status_code == 201
    assert response.headers["X-Thing"] == "yes"
    assert response.data == b"made"
    assert response.mimetype == "text/html"
    response = client.get("/wsgi")
    assert response.status_code == 201
    assert response.data == b"from wsgi"
    assert response.headers["X-App"] == "wsgi"


# -- the pipeline -----------------------------------------------------------------


def test_hook_order(app: erlen.Flask, client: Client) -> None:
    calls: list[str] = []
    bp = erlen.Blueprint("bp", __name__, url_prefix="/bp")

    @app.url_value_preprocessor
    def app_pre(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        calls.append(f"app_pre {endpoint}")

    @bp.url_value_preprocessor
    def bp_pre(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        calls.append("bp_pre")
        assert values is not None
        values["n"] = int(values.pop("n")) * 2

    @app.before_request
    def app_before() -> None:
        calls.append("app_before")

    @bp.before_request
    def bp_before() -> None:
        calls.append("bp_before")

    @bp.route("/<n>")
    def view(n: int) -> str:
        calls.append("view")

        @erlen.after_this_request
        def once(response: erlen.Response) -> erlen.Response:
            calls.append("after_this")
            return response

        return str(n)

    @app.after_request
    def app_after_1(response: erlen.Response) -> erlen.Response:
        calls.append("app_after_1")
        return response

    @app.after_request
    def app_after_2(response: erlen.Response) -> erlen.Response:
        calls.append("app_after_2")
        return response

    @bp.after_request
    def bp_after(response: erlen.Response) -> erlen.Response:
        calls.append("bp_after")
        response.headers["X-Bp"] = "1"
        return response

    @bp.teardown_request
    def bp_teardown(exc: BaseException | None) -> None:
        calls.append(f"bp_teardown {exc}")

    @app.teardown_request
    def app_teardown(exc: BaseException | None) -> None:
        calls.append(f"app_teardown {exc}")

    @app.teardown_appcontext
    def appctx_teardown(exc: BaseException | None) -> None:
        calls.append(f"appctx_teardown {exc}")

    app.register_blueprint(bp)
    response = client.get("/bp/21")
    assert response.data == b"42"
    assert response.headers["X-Bp"] == "1"
    assert calls == [
        "app_pre bp.view",
        "bp_pre",
        "app_before",
        "bp_before",
        "view",
        "after_this",
        "bp_after",
        "app_after_2",
        "app_after_1",
        "bp_teardown None",
        "app_teardown None",
        "appctx_teardown None",
    ]


def test_before_request_returns_early(app: erlen.Flask, client: Client) -> None:
    calls: list[str] = []

    @app.before_request
    def stop() -> str:
        return "stopped"

    @app.before_request
    def never() -> None:
        calls.append("never")

    @app.route("/")
    def index() -> str:
        calls.append("view")
        return "view"

    assert client.get("/").data == b"stopped"
    assert calls == []


def test_automatic_options(app: erlen.Flask, client: Client) -> None:
    @app.route("/", methods=["GET", "POST"])
    def index() -> str:
        return "x"

    response = client.options("/")
    assert response.status_code == 200
    assert set(response.allow) == {"GET", "HEAD", "OPTIONS", "POST"}
    assert response.data == b""


def test_routing_errors(app: erlen.Flask, client: Client) -> None:
    @app.route("/only-get")
    def only_get() -> str:
        return "x"

    @app.route("/slash/")
    def slash() -> str:
        return "x"

    assert client.get("/missing").status_code == 404
    response = client.post("/only-get")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    response = client.get("/slash")
    assert response.status_code == 308
    assert response.headers["Location"].endswith("/slash/")


def test_routing_redirect_with_form_data_in_debug(
    app: erlen.Flask, client: Client
) -> None:
    app.debug = True

    @app.route("/slash/", methods=["POST"])
    def slash() -> str:
        return "x"

    # 308 keeps the body, so no debug error is raised even for POST.
    response = client.post("/slash", data={"a": "b"})
    assert response.status_code == 308


def test_raise_routing_exception_debug_redirect(app: erlen.Flask) -> None:
    from erlen.exceptions import RequestRedirect

    app.debug = True
    with app.test_request_context("/x", method="POST"):
        request = erlen.request._get_current_object()  # type: ignore[attr-defined]
        redirect = RequestRedirect("http://localhost/x/")
        redirect.code = 301
        request.routing_exception = redirect
        with pytest.raises(FormDataRoutingRedirect, match="trailing slash"):
            app.raise_routing_exception(request)
        request.method = "GET"
        with pytest.raises(RequestRedirect):
            app.raise_routing_exception(request)
    app.debug = False
    with app.test_request_context("/x", method="POST"):
        request = erlen.request._get_current_object()  # type: ignore[attr-defined]
        request.routing_exception = redirect
        with pytest.raises(RequestRedirect):
            app.raise_routing_exception(request)


def test_request_started_and_finished_signals(app: erlen.Flask, client: Client) -> None:
    seen: list[str] = []

    @app.route("/")
    def index() -> str:
        return "x"

    def started(sender: erlen.Flask, **kw: t.Any) -> None:
        seen.append("started")

    def finished(sender: erlen.Flask, response: erlen.Response, **kw: t.Any) -> None:
        seen.append(f"finished {response.status_code}")

    def tearing(sender: erlen.Flask, exc: BaseException | None, **kw: t.Any) -> None:
        seen.append("tearing")

    def app_tearing(
        sender: erlen.Flask, exc: BaseException | None, **kw: t.Any
    ) -> None:
        seen.append("app_tearing")

    with (
        erlen.request_started.connected_to(started, app),
        erlen.request_finished.connected_to(finished, app),
        erlen.request_tearing_down.connected_to(tearing, app),
        erlen.appcontext_tearing_down.connected_to(app_tearing, app),
    ):
        client.get("/")
    assert seen == ["started", "finished 200", "tearing", "app_tearing"]


def test_session_saved(app: erlen.Flask, client: Client) -> None:
    @app.route("/set")
    def set_value() -> str:
        erlen.session["v"] = "stored"
        return "ok"

    @app.route("/get")
    def get_value() -> str:
        return str(erlen.session.get("v"))

    response = client.get("/set")
    assert "session=" in response.headers["Set-Cookie"]
    assert client.get("/get").data == b"stored"


def test_null_session_not_saved(app: erlen.Flask, client: Client) -> None:
    app.config["SECRET_KEY"] = None

    @app.route("/")
    def index() -> str:
        return "x"

    response = client.get("/")
    assert "Set-Cookie" not in response.headers


# -- errors -------------------------------------------------------------------------


def test_http_error_handler(app: erlen.Flask, client: Client) -> None:
    @app.errorhandler(404)
    def not_found(e: HTTPException) -> t.Any:
        return f"custom {e.code}", 404

    @app.route("/forbidden")
    def forbidden() -> str:
        erlen.abort(403)

    response = client.get("/missing")
    assert response.status_code == 404
    assert response.data == b"custom 404"
    # No handler: the exception is the response.
    response = client.get("/forbidden")
    assert response.status_code == 403
    assert b"Forbidden" in response.data


def test_error_handler_by_class_and_blueprint(app: erlen.Flask, client: Client) -> None:
    bp = erlen.Blueprint("bp", __name__)

    class MyError(Exception):
        pass

    class SubError(MyError):
        pass

    @bp.errorhandler(MyError)
    def bp_handler(e: MyError) -> str:
        return f"bp {type(e).__name__}"

    @app.errorhandler(MyError)
    def app_handler(e: MyError) -> str:
        return f"app {type(e).__name__}"

    @bp.route("/bp")
    def bp_view() -> str:
        raise SubError()

    @app.route("/app")
    def app_view() -> str:
        raise SubError()

    app.register_blueprint(bp)
    assert client.get("/bp").data == b"bp SubError"
    assert client.get("/app").data == b"app SubError"


def test_http_exception_without_code(app: erlen.Flask, client: Client) -> None:
    class NoCode(HTTPException):
        code = None  # type: ignore[assignment]

        def get_response(self, *a: t.Any, **k: t.Any) -> t.Any:
            return erlen.Response("no code", status=299)

    @app.route("/")
    def index() -> str:
        raise NoCode()

    response = client.get("/")
    assert response.status_code == 299
    assert response.data == b"no code"


def test_routing_exception_not_sent_to_handler(
    app: erlen.Flask, client: Client
) -> None:
    handled: list[int] = []

    from erlen.exceptions import RequestRedirect

    @app.errorhandler(RequestRedirect)
    def redirect_handler(e: HTTPException) -> str:
        handled.append(1)
        return "handled"

    @app.route("/slash/")
    def slash() -> str:
        return "x"

    assert client.get("/slash").status_code == 308
    assert handled == []


def test_unhandled_error_propagates_in_testing(
    app: erlen.Flask, client: Client
) -> None:
    torn: list[BaseException | None] = []

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        torn.append(exc)

    @app.route("/")
    def index() -> str:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        client.get("/")
    assert isinstance(torn[0], ValueError)


def test_unhandled_error_500(
    app: erlen.Flask, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    app.testing = False
    seen: list[BaseException] = []

    def got(sender: erlen.Flask, exception: BaseException, **kw: t.Any) -> None:
        seen.append(exception)

    @app.route("/")
    def index() -> str:
        raise ValueError("boom")

    with erlen.got_request_exception.connected_to(got, app):
        response = client.get("/")
    assert response.status_code == 500
    assert b"Internal Server Error" in response.data
    assert isinstance(seen[0], ValueError)
    assert "Exception on / [GET]" in caplog.text


def test_propagate_exceptions_config(app: erlen.Flask, client: Client) -> None:
    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = True

    @app.route("/")
    def index() -> str:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        client.get("/")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.debug = True
    assert client.get("/").status_code == 500


def test_500_handler(app: erlen.Flask, client: Client) -> None:
    app.testing = False

    @app.errorhandler(500)
    def on_500(e: InternalServerError) -> t.Any:
        assert isinstance(e.original_exception, ValueError)
        return f"handled {e.original_exception}", 500

    @app.route("/")
    def index() -> str:
        raise ValueError("boom")

    response = client.get("/")
    assert response.status_code == 500
    assert response.data == b"handled boom"


def test_500_handler_for_exception_class(app: erlen.Flask, client: Client) -> None:
    app.testing = False

    @app.errorhandler(Exception)
    def on_any(e: Exception) -> t.Any:
        return f"any {type(e).__name__}", 500

    @app.route("/")
    def index() -> str:
        raise ValueError("boom")

    @app.route("/404")
    def not_found() -> str:
        erlen.abort(404)

    assert client.get("/").data == b"any ValueError"
    # An HTTP error is an Exception too; the generic handler gets it.
    assert client.get("/404").data == b"any NotFound"


def test_error_handler_raising(
    app: erlen.Flask, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    app.testing = False

    @app.errorhandler(KeyError)
    def broken(e: KeyError) -> str:
        raise RuntimeError("handler broke")

    @app.route("/")
    def index() -> str:
        raise KeyError("k")

    response = client.get("/")
    assert response.status_code == 500
    assert "handler broke" in caplog.text


def test_finalize_failing_while_handling_error_is_logged(
    app: erlen.Flask, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    app.testing = False

    @app.after_request
    def broken(response: erlen.Response) -> erlen.Response:
        raise RuntimeError("after broke")

    @app.route("/")
    def index() -> str:
        raise ValueError("boom")

    response = client.get("/")
    assert response.status_code == 500
    assert "Request finalizing failed with an error while handling an error" in (
        caplog.text
    )


def test_finalize_failing_normally_is_a_500(app: erlen.Flask, client: Client) -> None:
    app.testing = False
    calls: list[int] = []

    @app.after_request
    def broken(response: erlen.Response) -> erlen.Response:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("after broke")
        return response

    @app.route("/")
    def index() -> str:
        return "x"

    response = client.get("/")
    assert response.status_code == 500
    assert calls == [1, 1]


def test_trap_http_exceptions(app: erlen.Flask, client: Client) -> None:
    app.config["TRAP_HTTP_EXCEPTIONS"] = True

    @app.route("/")
    def index() -> str:
        erlen.abort(404)

    with pytest.raises(NotFound):
        client.get("/")


def test_trap_bad_request_errors(app: erlen.Flask, client: Client) -> None:
    @app.route("/key")
    def key() -> str:
        return erlen.request.args["missing"]

    @app.route("/bad")
    def bad() -> str:
        erlen.abort(400)

    # Default in testing, not debug: a 400 with the generic message.
    response = client.get("/key")
    assert response.status_code == 400
    assert b"missing" not in response.data

    app.config["TRAP_BAD_REQUEST_ERRORS"] = True
    with pytest.raises(BadRequestKeyError) as info:
        client.get("/key")
    assert info.value.show_exception
    with pytest.raises(BadRequest):
        client.get("/bad")

    app.config["TRAP_BAD_REQUEST_ERRORS"] = None
    app.debug = True
    with pytest.raises(BadRequestKeyError):
        client.get("/key")
    assert client.get("/bad").status_code == 400

    app.config["TRAP_BAD_REQUEST_ERRORS"] = False
    response = client.get("/key")
    assert response.status_code == 400
    # In debug, the key is shown.
    assert b"missing" in response.data


def test_handle_exception_outside_request(app: erlen.Flask) -> None:
    app.testing = False
    with app.app_context():
        response = app.handle_exception(ValueError("x"))
    assert response.status_code == 500


def test_log_exception_outside_request(
    app: erlen.Flask, caplog: pytest.LogCaptureFixture
) -> None:
    try:
        raise ValueError("x")
    except ValueError as e:
        app.log_exception((ValueError, e, e.__traceback__))
    assert "Exception on (no request)" in caplog.text


def test_should_ignore_error(app: erlen.Flask, client: Client) -> None:
    torn: list[BaseException | None] = []

    class IgnoringApp(erlen.Flask):
        def should_ignore_error(self, error: BaseException | None) -> bool:
            return True

    app.should_ignore_error = lambda error: True  # type: ignore[method-assign]
    assert app.should_ignore_error(ValueError())
    plain = erlen.Flask("x", root_path="/tmp")
    assert plain.should_ignore_error(ValueError()) is False

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        torn.append(exc)

    @app.route("/")
    def index() -> str:
        raise ValueError("x")

    with pytest.raises(ValueError, match="x"):
        client.get("/")
    assert torn == [None]


def test_base_exception_passes_through_with_teardown(
    app: erlen.Flask, client: Client
) -> None:
    torn: list[BaseException | None] = []

    class Stop(BaseException):
        pass

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        torn.append(exc)

    @app.route("/")
    def index() -> str:
        raise Stop()

    with pytest.raises(Stop):
        client.get("/")
    assert len(torn) == 1
    assert isinstance(torn[0], Stop)


def test_preserve_context_hook(app: erlen.Flask) -> None:
    kept: list[t.Any] = []

    @app.route("/")
    def index() -> str:
        return "x"

    with app.test_request_context() as ctx:
        environ = dict(ctx.request.environ)
    environ["erlen.debug.preserve_context"] = kept.append
    environ.pop("erlen.request", None)
    response = app._erlen_handle(environ)
    assert response.get_data() == b"x"
    assert isinstance(kept[0], erlen.ctx.AppContext)
    assert isinstance(kept[1], erlen.ctx.RequestContext)


def test_teardown_raising_still_pops_contexts(app: erlen.Flask, client: Client) -> None:
    calls: list[str] = []

    @app.teardown_request
    def broken(exc: BaseException | None) -> None:
        raise RuntimeError("teardown broke")

    @app.teardown_appcontext
    def app_teardown(exc: BaseException | None) -> None:
        calls.append("appctx")

    @app.route("/")
    def index() -> str:
        return "x"

    with pytest.raises(RuntimeError, match="teardown broke"):
        client.get("/")
    # As in Flask: the app context's teardown still ran, no context leaked.
    assert calls == ["appctx"]
    assert not erlen.has_request_context()
    assert not erlen.has_app_context()
    with pytest.raises(RuntimeError, match="teardown broke"):
        client.get("/")
    assert calls == ["appctx", "appctx"]


# -- overridden pipeline methods ------------------------------------------------------


def _override_app(kind: str, name: str, calls: list[str]) -> erlen.Flask:
    """Return an app whose pipeline method ``name`` is replaced, recording calls."""

    def wrap(original: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        def replacement(*args: t.Any, **kwargs: t.Any) -> t.Any:
            calls.append(name)
            return original(*args, **kwargs)

        return replacement

    if kind == "subclass":

        def method(self: erlen.Flask, *args: t.Any, **kwargs: t.Any) -> t.Any:
            calls.append(name)
            return getattr(super(Sub, self), name)(*args, **kwargs)

        Sub = type("Sub", (erlen.Flask,), {name: method})
        app = Sub("erlen_test_app", root_path="/tmp")
    else:
        app = erlen.Flask("erlen_test_app", root_path="/tmp")
        setattr(app, name, wrap(getattr(app, name)))
    app.config.update(TESTING=True, SECRET_KEY="k")
    return app


@pytest.mark.parametrize("kind", ["subclass", "instance"])
@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("full_dispatch_request", "/"),
        ("preprocess_request", "/"),
        ("dispatch_request", "/"),
        ("finalize_request", "/"),
        ("process_response", "/"),
        ("handle_user_exception", "/missing"),
        ("handle_http_exception", "/missing"),
        ("handle_exception", "/error"),
        ("do_teardown_request", "/"),
        ("do_teardown_appcontext", "/"),
        ("ensure_sync", "/async"),
        ("async_to_sync", "/async"),
    ],
)
def test_pipeline_override(kind: str, name: str, path: str, interface: str) -> None:
    calls: list[str] = []
    events: list[str] = []
    app = _override_app(kind, name, calls)
    app.testing = False

    @app.route("/")
    def index() -> str:
        return "index"

    @app.route("/async")
    async def async_view() -> str:
        await asyncio.sleep(0)
        return "async"

    @app.route("/error")
    def error() -> str:
        raise ValueError("boom")

    @app.errorhandler(404)
    def not_found(e: HTTPException) -> t.Any:
        return "nf", 404

    @app.after_request
    def after(response: erlen.Response) -> erlen.Response:
        events.append("after")
        return response

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        events.append("teardown")

    @app.teardown_appcontext
    def teardown_app(exc: BaseException | None) -> None:
        events.append("teardown_app")

    with Client(app, asgi=interface == "asgi") as client:
        response = client.get(path)
    assert name in calls
    expected = {"/": b"index", "/async": b"async", "/missing": b"nf"}
    if path == "/error":
        assert response.status_code == 500
    else:
        assert response.data == expected[path]
    assert events == ["after", "teardown", "teardown_app"]
    assert name in app._erlen_overridden
    # An overridden pipeline runs the whole chain in one worker thread.
    assert app._erlen_chain_in_thread


def test_override_dispatch_request_replaces_view(
    client: Client, app: erlen.Flask
) -> None:
    @app.route("/")
    def index() -> str:  # the replacement below answers instead
        return "original"

    app.dispatch_request = lambda: "replaced"  # type: ignore[method-assign]
    assert client.get("/").data == b"replaced"
    assert index() == "original"


def test_public_pipeline_methods_in_request(app: erlen.Flask) -> None:
    @app.route("/")
    def index() -> str:
        return "x"

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        seen.append(exc)

    @app.teardown_appcontext
    def teardown_app(exc: BaseException | None) -> None:
        seen.append(exc)

    seen: list[BaseException | None] = []
    with app.test_request_context("/"):
        assert app.preprocess_request() is None
        assert app.dispatch_request() == "x"
        assert app.full_dispatch_request().get_data() == b"x"
        response = app.finalize_request("y")
        assert app.process_response(response) is response
        assert app.handle_http_exception(NotFound()).code == 404
        assert app.handle_user_exception(NotFound()).code == 404
        with pytest.raises(ValueError, match="v"):
            app.handle_user_exception(ValueError("v"))
        error = KeyError("during")
        try:
            raise error
        except KeyError:
            app.do_teardown_request()
            app.do_teardown_appcontext()
        assert seen == [error, error]
        app.do_teardown_request(None)
        assert seen[-1] is None


# -- async functions ---------------------------------------------------------------


def test_async_hooks_views_and_teardown(app: erlen.Flask, client: Client) -> None:
    calls: list[str] = []

    @app.before_request
    async def before() -> None:
        await asyncio.sleep(0)
        erlen.g.value = "from before"
        calls.append("before")

    @app.route("/")
    async def index() -> str:
        await asyncio.sleep(0)
        return f"{erlen.g.value} {erlen.request.path}"

    @app.route("/sync")
    def sync_view() -> str:
        return f"sync {erlen.g.value}"

    @app.after_request
    async def after(response: erlen.Response) -> erlen.Response:
        response.headers["X-After"] = "async"
        return response

    @app.teardown_request
    async def teardown(exc: BaseException | None) -> None:
        await asyncio.sleep(0)
        calls.append("teardown")

    @app.teardown_appcontext
    async def teardown_app(exc: BaseException | None) -> None:
        calls.append("teardown_app")

    response = client.get("/")
    assert response.data == b"from before /"
    assert response.headers["X-After"] == "async"
    assert calls == ["before", "teardown", "teardown_app"]
    assert client.get("/sync").data == b"sync from before"
    # A mixed app is driven by the async driver under ASGI.
    assert app._erlen_chain_in_thread is False


def test_async_error_handler(app: erlen.Flask, client: Client) -> None:
    @app.errorhandler(ValueError)
    async def handler(e: ValueError) -> t.Any:
        await asyncio.sleep(0)
        return f"handled {e}", 400

    @app.route("/")
    async def index() -> str:
        raise ValueError("async boom")

    @app.route("/sync")
    def sync_view() -> str:
        raise ValueError("sync boom")

    response = client.get("/")
    assert response.status_code == 400
    assert response.data == b"handled async boom"
    assert client.get("/sync").data == b"handled sync boom"


def test_async_500_handler(app: erlen.Flask, client: Client) -> None:
    app.testing = False

    @app.errorhandler(500)
    async def handler(e: InternalServerError) -> t.Any:
        return "async 500", 500

    @app.route("/")
    async def index() -> str:
        raise ValueError("x")

    response = client.get("/")
    assert response.status_code == 500
    assert response.data == b"async 500"


def test_async_base_exception_is_thrown_into_pipeline(
    app: erlen.Flask, client: Client
) -> None:
    torn: list[BaseException | None] = []

    class Stop(BaseException):
        pass

    @app.route("/")
    async def index() -> str:
        raise Stop()

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        torn.append(exc)

    with pytest.raises(Stop):
        client.get("/")
    assert isinstance(torn[0], Stop)


def test_sync_app_runs_chain_in_one_thread(app: erlen.Flask, client: Client) -> None:
    threads: set[int] = set()

    @app.before_request
    def before() -> None:
        threads.add(threading.get_ident())

    @app.route("/")
    def index() -> str:
        threads.add(threading.get_ident())
        return "x"

    @app.after_request
    def after(response: erlen.Response) -> erlen.Response:
        threads.add(threading.get_ident())
        return response

    assert client.get("/").data == b"x"
    assert len(threads) == 1
    assert app._erlen_chain_in_thread is True


@pytest.mark.parametrize(
    "register",
    ["before", "after", "teardown", "teardown_app", "error", "view"],
)
def test_any_async_function_selects_async_driver(
    app: erlen.Flask, register: str
) -> None:
    async def func(*args: t.Any) -> t.Any:
        return args[0] if args else "x"

    if register == "before":
        app.before_request(func)
    elif register == "after":
        app.after_request(func)
    elif register == "teardown":
        app.teardown_request(func)
    elif register == "teardown_app":
        app.teardown_appcontext(func)
    elif register == "error":
        app.register_error_handler(404, func)
    else:
        app.add_url_rule("/", "index", func)
    assert app._has_async_functions()
    app._erlen_setup()
    assert app._erlen_chain_in_thread is False


def test_default_test_client(app: erlen.Flask) -> None:
    from erlen.testing import FlaskClient

    @app.route("/")
    def index() -> str:
        return "hello"

    with app.test_client() as c:
        assert isinstance(c, FlaskClient)
        assert c.get("/").data == b"hello"


def test_make_response_status_string_on_response(app: erlen.Flask) -> None:
    with app.app_context():
        response = app.make_response((erlen.Response("r"), "299 CUSTOM"))
    assert response.status == "299 CUSTOM"


def test_host_matching_url_adapter(interface: str) -> None:
    app = erlen.Flask(
        "x", root_path="/tmp", host_matching=True, static_host="static.example"
    )

    @app.route("/", host="a.example")
    def a() -> str:
        return "a"

    @app.route("/", host="b.example", endpoint="b")
    def b() -> str:
        return "b"

    with Client(app, asgi=interface == "asgi") as client:
        assert client.get("/", base_url="http://a.example").data == b"a"
        assert client.get("/", base_url="http://b.example").data == b"b"


def test_request_inside_existing_app_context(app: erlen.Flask) -> None:
    events: list[str] = []

    @app.teardown_appcontext
    def teardown(exc: BaseException | None) -> None:
        events.append("app")

    @app.route("/")
    def index() -> str:
        return erlen.g.outer

    with app.test_request_context() as ctx:
        environ = dict(ctx.request.environ)
    environ.pop("erlen.request")
    events.clear()
    with app.app_context():
        erlen.g.outer = "kept"
        assert app._erlen_handle(environ).get_data() == b"kept"
        # The request reused the app context: its teardown waits for it.
        assert events == []
    assert events == ["app"]


def test_run(
    app: erlen.Flask,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import erlen.serving

    calls: list[tuple[t.Any, dict[str, t.Any]]] = []

    def fake_run_simple(host: str, port: int, app: t.Any, **kw: t.Any) -> None:
        calls.append((app, {"host": host, "port": port, **kw}))

    monkeypatch.setattr(erlen.serving, "run_simple", fake_run_simple)
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    monkeypatch.delenv("ERLEN_RUN_FROM_CLI", raising=False)
    monkeypatch.delenv("ERLEN_RUN_PORT", raising=False)
    app.run(debug=True, workers=1)
    assert app.debug is True
    assert calls == [
        (
            app,
            {
                "host": "127.0.0.1",
                "port": 5000,
                "use_reloader": True,
                "use_debugger": True,
                "workers": 1,
            },
        )
    ]
    assert "http://127.0.0.1:5000" in capsys.readouterr().out
    app.run(host="0.0.0.0", port="8080")
    assert calls[-1][1]["host"] == "0.0.0.0"
    assert calls[-1][1]["port"] == 8080

    monkeypatch.setenv("ERLEN_RUN_PORT", "8000")
    app.run()
    assert calls[-1][1]["port"] == 8000

    monkeypatch.setenv("ERLEN_RUN_FROM_CLI", "true")
    with pytest.warns(UserWarning, match="does nothing under the 'erlen run'"):
        app.run()
    assert len(calls) == 3


def test_subdomain_matching(interface: str) -> None:
    app = erlen.Flask("x", root_path="/tmp", subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.com"

    @app.route("/", subdomain="<user>")
    def user(user: str) -> str:
        return user

    with Client(app, asgi=interface == "asgi") as client:
        assert client.get("/", base_url="http://ann.example.com").data == b"ann"


@pytest.mark.parametrize("value", ["http", "70000", "-1"])
def test_run_port_env_invalid(
    app: erlen.Flask, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    monkeypatch.delenv("ERLEN_RUN_FROM_CLI", raising=False)
    monkeypatch.setenv("ERLEN_RUN_PORT", value)
    with pytest.raises(ValueError, match="ERLEN_RUN_PORT must be a TCP port"):
        app.run()


@pytest.mark.parametrize("default_mimetype", ["text/html", "text/plain"])
def test_error_pages_are_html_whatever_the_response_class_default(
    default_mimetype: str,
) -> None:
    class AppResponse(erlen.Response):
        pass

    AppResponse.default_mimetype = default_mimetype
    app = erlen.Flask(__name__)
    app.response_class = AppResponse

    response = app.test_client().get("/missing")
    assert response.status == "404 NOT FOUND"
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"<title>404 Not Found</title>" in response.data
    with app.test_request_context("/"):
        page = app.make_response(Forbidden())
    assert isinstance(page, AppResponse)
    assert page.status_code == 403
    assert page.mimetype == "text/html"


@pytest.mark.parametrize(
    "variant",
    ["plain", "handler", "trap-config", "trap-override", "http-override", "abort"],
)
def test_routing_errors_answered_without_handling_methods_only_when_unobservable(
    variant: str,
) -> None:
    # A 404/405 is answered as it is, without handle_user_exception, only
    # when that would change nothing; each way of observing it is honoured.
    calls: list[str] = []

    class App(erlen.Flask):
        if variant == "trap-override":

            def trap_http_exception(self, e: Exception) -> bool:
                calls.append("trap")
                return super().trap_http_exception(e)

        if variant == "http-override":

            def handle_http_exception(self, e: t.Any) -> t.Any:
                calls.append("http")
                return super().handle_http_exception(e)

    app = App(__name__)

    @app.route("/only-get")
    def only_get() -> str:
        if variant == "abort":
            erlen.abort(404)
        return "ok"

    if variant == "handler":

        @app.errorhandler(404)
        def not_found(e: t.Any) -> tuple[str, int]:
            calls.append("handler")
            return "custom", 404

    if variant == "trap-config":
        app.config["TRAP_HTTP_EXCEPTIONS"] = True
    client = app.test_client()
    if variant == "trap-config":
        # Trapped: re-raised, so answered as an unhandled exception.
        assert client.get("/nope").status_code == 500
        return
    assert client.get("/nope").status_code == 404
    response = client.post("/only-get")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert client.get("/only-get").status_code == (404 if variant == "abort" else 200)
    if variant == "handler":
        assert client.get("/nope").text == "custom"
    # One call per 404/405 answered through the handling methods.
    expected = {
        "plain": [],
        "abort": [],
        "handler": ["handler", "handler"],
        "trap-override": ["trap", "trap"],
        "http-override": ["http", "http"],
    }[variant]
    assert calls == expected


class _Unhashable:
    """A callable that cannot be a dict key (as with __eq__ and no __hash__)."""

    __hash__ = None  # type: ignore[assignment]

    def __init__(self, calls: list[str], name: str, result: t.Any = None) -> None:
        self.calls, self.name, self.result = calls, name, result

    def __call__(self, *args: t.Any) -> t.Any:
        self.calls.append(self.name)
        if self.name == "after":
            args[0].headers["X-After"] = "1"
            return args[0]
        return self.result


def test_unhashable_callables_work_everywhere() -> None:
    # Flask takes any callable as a hook or a view; the plain methods' lookup
    # of remembered functions must not fail on one it cannot hash.
    calls: list[str] = []
    app = erlen.Flask(__name__)
    app.before_request(_Unhashable(calls, "before"))
    app.after_request(_Unhashable(calls, "after"))
    app.teardown_request(_Unhashable(calls, "teardown"))
    app.teardown_appcontext(_Unhashable(calls, "teardown_app"))
    app.add_url_rule("/", "index", _Unhashable(calls, "view", "ok"))
    for _ in range(2):  # the second request finds nothing remembered either
        response = app.test_client().get("/")
        assert (response.status_code, response.text) == (200, "ok")
        assert response.headers["X-After"] == "1"
    assert calls == ["before", "view", "after", "teardown", "teardown_app"] * 2
