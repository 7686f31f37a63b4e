"""Async views, hooks, handlers and receivers on erlen vs their sync twins on Flask.

Flask without asgiref cannot run coroutines, so each scenario is written
with ``fw.coro``: on Flask (and on erlen's plain runs) the functions are
sync; on erlen's ``async-*`` runs they are ``async def`` that await first.
"""

from __future__ import annotations

import pytest

from .harness import check
from .harness import R
from .harness import Registry

S = Registry()


@S("async-signal-receivers", R("/"), R("/boom"), aio=True, logs=True)
def _(fw):
    app = fw.Flask(__name__)
    app.secret_key = "k"
    keep = []
    for name in (
        "request_started",
        "request_finished",
        "got_request_exception",
        "request_tearing_down",
        "message_flashed",
    ):

        def rec(sender, name=name, **kw):
            fw.log(("signal", name, sorted(kw)))

        rec = fw.coro(rec)
        getattr(fw.signals, name).connect(rec, app)
        keep.append(rec)
    app.extensions["keep"] = keep

    @app.route("/")
    @fw.coro
    def index():
        fw.flash("x")
        return "ok"

    @app.route("/boom")
    @fw.coro
    def boom():
        raise ValueError("b")

    return app


@S("async-error-handlers", R("/key"), R("/404"), R("/500"), aio=True, logs=True)
def _(fw):
    app = fw.Flask(__name__)

    @app.errorhandler(KeyError)
    @fw.coro
    def key(e):
        return "key handler " + type(e).__name__, 400

    @app.errorhandler(404)
    @fw.coro
    def nf(e):
        return "nf handler", 404

    @app.errorhandler(500)
    @fw.coro
    def ise(e):
        return "ise handler " + type(e.original_exception).__name__, 500

    @app.route("/key")
    @fw.coro
    def k():
        raise KeyError("k")

    @app.route("/500")
    @fw.coro
    def five():
        raise RuntimeError("r")

    return app


@S("async-after-this-request-and-teardown-appcontext", R("/"), aio=True)
def _(fw):
    app = fw.Flask(__name__)

    @app.teardown_appcontext
    @fw.coro
    def td(exc):
        fw.log(("teardown_appcontext", exc))

    @app.route("/")
    @fw.coro
    def index():
        @fw.after_this_request
        @fw.coro
        def add(r):
            r.headers["X-This"] = "1"
            fw.log("after_this_request")
            return r

        return "ok"

    return app


@S("async-copy-current-request-context", R("/", query_string="q=1"), aio=True)
def _(fw):
    app = fw.Flask(__name__)

    @app.route("/")
    @fw.coro
    def index():
        @fw.copy_current_request_context
        def inner():
            return fw.request.args["q"] + fw.request.path

        return inner()

    return app


@S("async-session-and-g", R("/set"), R("/get"), aio=True)
def _(fw):
    app = fw.Flask(__name__)
    app.secret_key = "k"

    @app.before_request
    @fw.coro
    def load():
        fw.g.user = fw.session.get("user", "anon")

    @app.route("/set")
    @fw.coro
    def set_():
        fw.session["user"] = "bob"
        return fw.g.user

    @app.route("/get")
    @fw.coro
    def get():
        return fw.g.user

    return app


@S("async-view-class-method-view", R("/"), R("/", "POST"), R("/", "PUT"), aio=True)
def _(fw):
    class V(fw.views.MethodView):
        @fw.coro
        def get(self):
            return {"m": "get"}

        @fw.coro
        def post(self):
            return fw.jsonify(m="post", json=fw.request.get_json(silent=True)), 201

    app = fw.Flask(__name__)
    app.add_url_rule("/", view_func=V.as_view("v"))
    return app


@S("async-blueprint-hooks", R("/b/x"), aio=True)
def _(fw):
    app = fw.Flask(__name__)
    bp = fw.Blueprint("b", __name__, url_prefix="/b")

    @bp.before_app_request
    @fw.coro
    def bar():
        fw.log("before_app_request")

    @bp.after_request
    @fw.coro
    def ar(r):
        fw.log("bp after")
        return r

    @bp.route("/x")
    @fw.coro
    def x():
        return "x"

    app.register_blueprint(bp)
    return app


@pytest.mark.parametrize("asgi", [False, True], ids=["wsgi", "asgi"])
def test_copy_current_request_context_async_function(asgi):
    """erlen: an async function stays async under the copied context (await it).

    Flask wraps it in a sync function that runs it with asgiref, which
    cannot be called from the view's own event loop (docs/compat.md).
    """
    import asyncio

    import erlen
    import erlen.testing

    app = erlen.Flask(__name__)

    @app.route("/")
    async def index():
        @erlen.copy_current_request_context
        async def inner():
            await asyncio.sleep(0)
            return erlen.request.args["q"]

        assert asyncio.iscoroutinefunction(inner)
        return await inner()

    with erlen.testing.Client(app, asgi=asgi) as client:
        response = client.get("/", query_string="q=copied")
        assert (response.status_code, response.data) == (200, b"copied")


@pytest.mark.parametrize(("scenario", "iface"), S.params())
def test_compat(scenario, iface):
    check(scenario, iface)
