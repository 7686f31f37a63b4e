"""The three pipelines answer alike: lean, the plain sync methods, the generator steps.

An app whose user functions are all sync and that overrides no pipeline
method is served by the lean path (one function, Flask's public methods
inlined); one that overrides a method by those methods as plain code; an
app with a coroutine function by the generator steps (see "the request
pipeline" in app.py). Each scenario here is built three times: as it is;
with a ``full_dispatch_request`` override that only calls Flask's, which
moves the app to the plain methods; and with one extra ``async def`` view
that no request reaches, which moves it to the steps. All builds must give
the same answers and run the same hooks in the same order, under WSGI and
ASGI.
"""

from __future__ import annotations

import typing as t

import pytest

from erlen import abort
from erlen import after_this_request
from erlen import Blueprint
from erlen import Flask
from erlen import g
from erlen import jsonify
from erlen import request
from erlen import session
from erlen import signals
from erlen.testing import Client

Events = list[str]
Builder = t.Callable[[Flask, Events], None]


def _hooks_and_blueprints(app: Flask, events: Events) -> None:
    parent = Blueprint("parent", __name__, url_prefix="/p")
    child = Blueprint("child", __name__, url_prefix="/c")

    for scope, name in ((app, "app"), (parent, "parent"), (child, "child")):

        def before(name: str = name) -> None:
            events.append(f"before:{name}")

        def after(response: t.Any, name: str = name) -> t.Any:
            events.append(f"after:{name}")
            response.headers.add("X-After", name)
            return response

        def teardown(exc: BaseException | None, name: str = name) -> None:
            events.append(f"teardown:{name}:{type(exc).__name__}")

        def preprocess(endpoint: str | None, values: t.Any, name: str = name) -> None:
            events.append(f"url_value:{name}:{endpoint}")

        scope.before_request(before)
        scope.after_request(after)
        scope.teardown_request(teardown)
        scope.url_value_preprocessor(preprocess)

    @app.after_request
    def after_app_second(response: t.Any) -> t.Any:
        # Registered last, so it runs first among the app's.
        events.append("after:app-second")
        return response

    @app.teardown_appcontext
    def teardown_app(exc: BaseException | None) -> None:
        events.append(f"teardown_app:{type(exc).__name__}")

    @child.route("/view/<int:n>")
    def view(n: int) -> str:
        @after_this_request
        def once(response: t.Any) -> t.Any:
            events.append("after_this_request")
            return response

        return f"n={n} g={g.get('x', '-')}"

    @child.route("/fail")
    def fail() -> str:
        raise KeyError("boom")

    @app.route("/", methods=["GET", "POST"])
    def index() -> str:
        return f"index {request.method}"

    parent.register_blueprint(child)
    app.register_blueprint(parent)


def _short_circuit(app: Flask, events: Events) -> None:
    @app.before_request
    def first() -> t.Any:
        events.append("first")
        if request.args.get("stop"):
            return "stopped", 202
        return None

    @app.before_request
    def second() -> None:
        events.append("second")

    @app.route("/")
    def index() -> str:
        events.append("view")
        return "view"


def _errors(app: Flask, events: Events) -> None:
    class Teapot(Exception):
        pass

    @app.errorhandler(404)
    def not_found(e: t.Any) -> t.Any:
        events.append(f"404:{e.code}")
        return "custom 404", 404

    @app.errorhandler(Teapot)
    def teapot(e: Teapot) -> t.Any:
        events.append("teapot")
        return "teapot", 418

    @app.errorhandler(500)
    def server_error(e: t.Any) -> t.Any:
        events.append(f"500:{type(e.original_exception).__name__}")
        return "custom 500", 500

    @app.route("/teapot")
    def raise_teapot() -> str:
        raise Teapot

    @app.route("/abort/<int:code>")
    def abort_with(code: int) -> str:
        abort(code)

    @app.route("/crash")
    def crash() -> str:
        raise ZeroDivisionError

    @app.route("/post-only", methods=["POST"])
    def post_only() -> str:
        return "posted"

    @app.route("/bad-return")
    def bad_return() -> t.Any:
        return None

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        events.append(f"teardown:{type(exc).__name__}")


def _after_request_error(app: Flask, events: Events) -> None:
    @app.route("/")
    def index() -> str:
        return "index"

    @app.after_request
    def broken(response: t.Any) -> t.Any:
        events.append("broken")
        raise RuntimeError("after_request failed")

    @app.errorhandler(500)
    def server_error(e: t.Any) -> t.Any:
        events.append(f"500:{type(e.original_exception).__name__}")
        return "custom 500", 500


def _sessions(app: Flask, events: Events) -> None:
    app.secret_key = "twins"

    @app.route("/set/<value>")
    def set_value(value: str) -> str:
        session["value"] = value
        return "set"

    @app.route("/get")
    def get_value() -> str:
        return session.get("value", "none")

    @app.route("/plain")
    def plain() -> str:
        return "plain"


SCENARIOS: dict[str, tuple[Builder, list[tuple[str, str]]]] = {
    "hooks_and_blueprints": (
        _hooks_and_blueprints,
        [
            ("GET", "/"),
            ("POST", "/"),
            ("OPTIONS", "/"),
            ("DELETE", "/"),
            ("GET", "/p/c/view/3"),
            ("GET", "/p/c/fail"),
            ("GET", "/p/c/missing"),
        ],
    ),
    "short_circuit": (_short_circuit, [("GET", "/"), ("GET", "/?stop=1")]),
    "errors": (
        _errors,
        [
            ("GET", "/teapot"),
            ("GET", "/abort/404"),
            ("GET", "/abort/403"),
            ("GET", "/crash"),
            ("GET", "/nowhere"),
            ("GET", "/post-only"),
            ("GET", "/bad-return"),
        ],
    ),
    "after_request_error": (_after_request_error, [("GET", "/")]),
    "sessions": (
        _sessions,
        [("GET", "/get"), ("GET", "/set/a"), ("GET", "/get"), ("GET", "/plain")],
    ),
}


class _Overriding(Flask):
    def full_dispatch_request(self) -> t.Any:
        return super().full_dispatch_request()


def _build(builder: Builder, path: str) -> tuple[Flask, Events]:
    app = _Overriding(__name__) if path == "methods" else Flask(__name__)
    events: Events = []
    builder(app, events)
    if path == "steps":

        @app.route("/__never_requested__")
        async def never() -> str:
            return "never"

    return app, events


def _run(
    builder: Builder, calls: list[tuple[str, str]], path: str, asgi: bool
) -> tuple[Flask, list[t.Any]]:
    app, events = _build(builder, path)
    # Nothing sends the lean path's requests to the plain methods (a signal
    # receiver left connected by another test would).
    assert not signals._live
    if path == "lean":

        def no_plain_methods(ctx: t.Any, environ: t.Any) -> t.NoReturn:
            raise AssertionError("took the plain methods")

        app._handle_ctx = no_plain_methods  # type: ignore[method-assign]
    answers: list[t.Any] = []
    with Client(app, asgi=asgi) as client:
        for method, path in calls:
            response = client.open(path, method=method)
            answers.append(
                (
                    method,
                    path,
                    response.status_code,
                    response.get_data(),
                    sorted(
                        (k, v)
                        for k, v in response.headers.items()
                        if k.lower() not in {"date", "set-cookie"}
                    ),
                    "Set-Cookie" in response.headers,
                    list(events),
                )
            )
            events.clear()
    return app, answers


@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_lean_plain_methods_and_steps_answer_alike(scenario: str, asgi: bool) -> None:
    builder, calls = SCENARIOS[scenario]
    lean_app, lean = _run(builder, calls, "lean", asgi=asgi)
    plain_app, plain = _run(builder, calls, "methods", asgi=asgi)
    steps_app, steps = _run(builder, calls, "steps", asgi=asgi)
    # The builds took the three pipelines.
    assert lean_app._erlen_lean
    assert plain_app._erlen_chain_in_thread
    assert not plain_app._erlen_lean
    assert steps_app._erlen_lean
    assert not steps_app._erlen_chain_in_thread
    assert lean == plain
    assert plain == steps
    # And the answers are the ones Flask gives (spot checks).
    statuses = [answer[2] for answer in plain]
    assert all(100 <= code < 600 for code in statuses)
    if scenario == "errors":
        assert statuses == [418, 404, 403, 500, 404, 405, 500]
    if scenario == "hooks_and_blueprints":
        view_events = plain[4][-1]
        assert view_events == [
            "url_value:app:parent.child.view",
            "url_value:parent:parent.child.view",
            "url_value:child:parent.child.view",
            "before:app",
            "before:parent",
            "before:child",
            "after_this_request",
            "after:child",
            "after:parent",
            "after:app-second",
            "after:app",
            "teardown:child:NoneType",
            "teardown:parent:NoneType",
            "teardown:app:NoneType",
            "teardown_app:NoneType",
        ]


def test_an_overridden_ensure_sync_sees_every_user_function() -> None:
    seen: list[str] = []

    class Recording(Flask):
        def ensure_sync(self, func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
            seen.append(getattr(func, "__name__", "?"))
            return super().ensure_sync(func)

    app = Recording(__name__)

    @app.before_request
    def before() -> None:
        pass

    @app.after_request
    def after(response: t.Any) -> t.Any:
        return response

    @app.route("/")
    def index() -> str:
        return "index"

    client = app.test_client()
    assert client.get("/").data == b"index"
    assert {"before", "index", "after"} <= set(seen)


def test_a_coroutine_function_added_late_runs_through_ensure_sync() -> None:
    app = Flask(__name__)

    @app.route("/")
    def index() -> str:
        return "index"

    client = app.test_client()
    assert client.get("/").data == b"index"
    assert app._erlen_chain_in_thread

    async def late_after(response: t.Any) -> t.Any:
        response.headers["X-Late"] = "yes"
        return response

    # A registry edited after the first request (setup methods refuse it).
    app.after_request_funcs.setdefault(None, []).append(late_after)
    assert client.get("/").headers["X-Late"] == "yes"


@pytest.mark.parametrize("with_coroutine", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
def test_an_overridden_make_response_sees_a_str(
    with_coroutine: bool, asgi: bool
) -> None:
    # The pipelines turn a str into a response without the call when
    # make_response is Flask's own; an override sees every return value.
    class Marking(Flask):
        def make_response(self, rv: t.Any) -> t.Any:
            response = super().make_response(rv)
            response.headers["X-Made"] = type(rv).__name__
            return response

    app = Marking(__name__)

    @app.route("/")
    def index() -> str:
        return "index"

    @app.route("/json")
    def json() -> t.Any:
        return jsonify(answer=42)

    if with_coroutine:

        @app.route("/never")
        async def never() -> str:
            return "never"

    with Client(app, asgi=asgi) as client:
        response = client.get("/")
        json_response = client.get("/json")
    assert response.headers["X-Made"] == "str"
    assert json_response.headers["X-Made"] == "Response"
    assert json_response.json == {"answer": 42}
    assert app._erlen_chain_in_thread is not with_coroutine
    assert not app._erlen_lean


def test_the_lean_path_gives_way_to_signal_receivers_only_while_connected() -> None:
    app = Flask(__name__)

    @app.route("/")
    def index() -> str:
        return "index"

    plain_calls: list[str] = []
    handle_ctx = app._handle_ctx

    def spy(ctx: t.Any, environ: t.Any) -> t.Any:
        plain_calls.append(environ["PATH_INFO"])
        return handle_ctx(ctx, environ)

    app._handle_ctx = spy  # type: ignore[method-assign]
    client = Client(app)
    seen: list[str] = []

    def started(sender: t.Any, **kwargs: t.Any) -> None:
        seen.append("started")

    def popped(sender: t.Any, **kwargs: t.Any) -> None:
        seen.append("popped")

    # A signal looked up (blinker loaded) but no receiver: lean.
    assert signals.template_rendered is not None
    assert client.get("/").data == b"index"
    assert plain_calls == []
    with signals.request_started.connected_to(started, app):
        with signals.appcontext_popped.connected_to(popped, app):
            assert client.get("/").data == b"index"
    assert seen == ["started", "popped"]
    assert plain_calls == ["/"]
    # Disconnected again: lean again.
    assert client.get("/").data == b"index"
    assert plain_calls == ["/"]
    assert seen == ["started", "popped"]


@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
@pytest.mark.parametrize(
    ("config", "host", "status"),
    [
        ({"SERVER_NAME": "example.com"}, "example.com", 200),
        # Flask 3.1: without subdomain matching, SERVER_NAME does not
        # restrict the hosts served.
        ({"SERVER_NAME": "example.com"}, "other.org", 200),
        ({"TRUSTED_HOSTS": ["example.com"]}, "example.com", 200),
        ({"TRUSTED_HOSTS": ["example.com"]}, "other.org", 400),
    ],
)
def test_a_binding_that_can_refuse_answers_alike_on_every_path(
    config: dict[str, t.Any], host: str, status: int, asgi: bool
) -> None:
    # The lean contexts leave such a request to the plain push (binding).
    answers = []
    for path in ("lean", "methods", "steps"):
        app, _ = _build(_short_circuit, path)
        app.config.update(config)
        response = Client(app, asgi=asgi).get("/", base_url=f"http://{host}")
        answers.append((response.status_code, response.get_data()))
    assert answers[0][0] == status
    assert answers[0] == answers[1] == answers[2]
