"""The app object: contexts, signals, config, overridable methods, logging."""

from __future__ import annotations

import logging

import pytest

from .harness import check
from .harness import Do
from .harness import make_fw
from .harness import R
from .harness import Registry

S = Registry()


# -- contexts -----------------------------------------------------------------


@S("ctx-proxies-in-view", R("/p", query_string="a=1"), aio=True)
def _(fw):
    app = fw.Flask(__name__)
    app.secret_key = "k"

    @app.route("/p")
    @fw.coro
    def p():
        return fw.jsonify(
            has_request=fw.has_request_context(),
            has_app=fw.has_app_context(),
            same_app=fw.current_app._get_current_object() is app,
            name=fw.current_app.name == app.name,
            g_type=type(fw.g._get_current_object()).__name__ in ("_AppCtxGlobals",),
            request_type=isinstance(
                fw.request._get_current_object(), app.request_class
            ),
            session_new=fw.session.new,
            args=fw.request.args.to_dict(),
        )

    return app


@S(
    "ctx-outside",
    Do(lambda app, fw: fw.has_request_context()),
    Do(lambda app, fw: fw.has_app_context()),
    Do(lambda app, fw: fw.request.path),
    Do(lambda app, fw: fw.current_app.name),
    Do(lambda app, fw: fw.g.x),
    Do(lambda app, fw: fw.session.get("x")),
    exc_message="prefix",
)
def _(fw):
    return fw.Flask(__name__)


def _app_ctx(app, fw):
    out = []
    with app.app_context():
        out.append((fw.has_app_context(), fw.has_request_context()))
        fw.g.x = 1
        out.append(fw.g.get("x"))
        out.append("x" in fw.g)
        out.append(fw.g.pop("x"))
        out.append(fw.g.pop("x", "default"))
        out.append(fw.g.setdefault("y", 2))
        out.append(list(fw.g))
        with app.app_context():
            out.append(fw.g.get("y"))
    out.append(fw.has_app_context())
    return out


S.add("ctx-app-context", lambda fw: _teardown_logger(fw), Do(_app_ctx))


def _teardown_logger(fw):
    app = fw.Flask(__name__)

    @app.teardown_appcontext
    def td(exc):
        fw.log(("appctx teardown", exc))

    return app


def _req_ctx(app, fw):
    out = []
    with app.test_request_context("/x?y=1", method="POST", data={"f": "v"}):
        out.append(
            (
                fw.request.path,
                fw.request.method,
                fw.request.args["y"],
                fw.request.form["f"],
            )
        )
        ctx = fw.request
    ctx = app.test_request_context("/manual")
    ctx.push()
    try:
        out.append(fw.request.path)
    finally:
        ctx.pop()
    out.append(fw.has_request_context())
    return out


S.add("ctx-test-request-context", lambda fw: _teardown_logger(fw), Do(_req_ctx))


@S("ctx-copy-current-request-context", R("/", query_string="v=42"), aio=True)
def _(fw):
    app = fw.Flask(__name__)

    @app.route("/")
    @fw.coro
    def index():
        @fw.copy_current_request_context
        def later():
            return fw.request.args["v"] + " " + fw.request.path

        import threading

        box = []
        th = threading.Thread(target=lambda: box.append(later()))
        th.start()
        th.join()
        return box[0]

    return app


@S("ctx-g-per-request", R("/"), R("/"))
def _(fw):
    app = fw.Flask(__name__)

    @app.route("/")
    def index():
        before = fw.g.get("hits")
        fw.g.hits = (before or 0) + 1
        return repr((before, fw.g.hits))

    return app


# -- signals ------------------------------------------------------------------


def _signal_app(fw, fail=False):
    app = fw.Flask(__name__)
    app.secret_key = "k"
    sig = fw.signals
    keep = []

    def connect(signal, name, *fields):
        def receiver(sender, **kw):
            fw.log((name, sender is app, *[_v(kw.get(f)) for f in fields]))

        signal.connect(receiver, app)
        keep.append(receiver)

    connect(sig.request_started, "request_started")
    connect(sig.request_finished, "request_finished", "response")
    connect(sig.got_request_exception, "got_request_exception", "exception")
    connect(sig.request_tearing_down, "request_tearing_down", "exc")
    connect(sig.appcontext_tearing_down, "appcontext_tearing_down", "exc")
    connect(sig.appcontext_pushed, "appcontext_pushed")
    connect(sig.appcontext_popped, "appcontext_popped")
    connect(sig.message_flashed, "message_flashed", "message", "category")
    app.extensions["receivers"] = keep

    @app.before_request
    def before():
        fw.log("before_request")

    @app.after_request
    def after(r):
        fw.log("after_request")
        return r

    @app.teardown_request
    def td(exc):
        fw.log("teardown_request")

    @app.route("/")
    def index():
        fw.log("view")
        fw.flash("hi", "info")
        if fail:
            raise ValueError("fail")
        return "ok"

    return app


def _v(value):
    if value is None:
        return None
    if isinstance(value, BaseException):
        return type(value).__name__
    if hasattr(value, "status_code"):
        return value.status_code
    return value


S.add("signals-order", lambda fw: _signal_app(fw), R("/"), R("/missing"))
S.add(
    "signals-order-exception", lambda fw: _signal_app(fw, fail=True), R("/"), logs=True
)
S.add(
    "signals-app-context",
    lambda fw: _signal_app(fw),
    Do(lambda app, fw: _push_pop(app)),
)


def _push_pop(app):
    with app.app_context():
        pass
    return "done"


@S("signals-connected-to", Do(lambda app, fw: _connected_to(app, fw)))
def _(fw):
    app = fw.Flask(__name__)
    app.add_url_rule("/", "index", lambda: "x")
    return app


def _connected_to(app, fw):
    seen = []

    def rec(sender, **kw):
        seen.append(kw["response"].status_code)

    with fw.signals.request_finished.connected_to(rec, app):
        app.test_client().get("/") if fw.name == "flask" else _erlen_get(app)
    app.test_client().get("/") if fw.name == "flask" else _erlen_get(app)
    return seen


def _erlen_get(app):
    import erlen.testing

    with erlen.testing.Client(app) as c:
        c.get("/").close()


# -- config -------------------------------------------------------------------


CONFIG_KEYS = sorted(make_fw("flask").Flask(__name__).config)


@S(
    "config-defaults",
    Do(lambda app, fw: {k: repr(app.config.get(k)) for k in CONFIG_KEYS}),
)
def _(fw):
    return fw.Flask(__name__)


def _config_methods(app, fw):
    out = []
    app.config.from_mapping({"UPPER": 1, "lower": 2}, EXTRA=3)
    out.append(
        (app.config.get("UPPER"), app.config.get("lower"), app.config.get("EXTRA"))
    )

    class Obj:
        OBJ_KEY = "o"
        obj_lower = "l"

    app.config.from_object(Obj)
    out.append((app.config.get("OBJ_KEY"), app.config.get("obj_lower")))
    app.config.update(
        IMAGE_STORE_TYPE="fs", IMAGE_STORE_PATH="/p", IMAGE_STORE_BASE_URL="u"
    )
    out.append(app.config.get_namespace("IMAGE_STORE_"))
    out.append(
        app.config.get_namespace("IMAGE_STORE_", lowercase=False, trim_namespace=False)
    )
    out.append((app.testing, app.debug, app.secret_key))
    app.testing = True
    app.secret_key = "x"
    out.append((app.config["TESTING"], app.config["SECRET_KEY"]))
    app.config["PERMANENT_SESSION_LIFETIME"] = 60
    out.append(app.permanent_session_lifetime.total_seconds())
    return out


S.add("config-methods", lambda fw: fw.Flask(__name__), Do(_config_methods))


def _prefixed_env(app, fw):
    import os

    env = {
        "COMPATX_SECRET_KEY": "from-env",
        "COMPATX_NUM": "5",
        "COMPATX_FLAG": "true",
        "COMPATX_LIST": "[1, 2]",
        "COMPATX_TEXT": "not json",
        "COMPATX_DB__HOST": '"h"',
        "COMPATX_DB__PORT": "5432",
    }
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        app.config["DB"] = {"USER": "u"}
        app.config.from_prefixed_env("COMPATX")
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k)
            else:
                os.environ[k] = v
    return {
        k: app.config.get(k)
        for k in ("SECRET_KEY", "NUM", "FLAG", "LIST", "TEXT", "DB")
    }


S.add("config-from-prefixed-env", lambda fw: fw.Flask(__name__), Do(_prefixed_env))


@S(
    "config-max-content-length",
    R("/", "POST", data="x" * 100),
    R("/", "POST", data="x" * 5),
)
def _(fw):
    app = fw.Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 10

    @app.route("/", methods=["POST"])
    def index():
        return str(len(fw.request.get_data()))

    @app.errorhandler(413)
    def too_large(e):
        return f"{type(e).__name__} {e.code}", 413

    return app


# -- overridable methods ---------------------------------------------------------


@S("override-dispatch-request", R("/"), R("/x/1"), R("/missing"), aio=True)
def _(fw):
    class App(fw.Flask):
        def dispatch_request(self):
            fw.log(("dispatch", fw.request.endpoint))
            rv = super().dispatch_request()
            if isinstance(rv, str):
                return rv.upper()
            return rv

    app = App(__name__)
    app.add_url_rule("/", "index", fw.coro(lambda: "hello"))
    app.add_url_rule("/x/<int:n>", "x", fw.coro(lambda n: f"n={n}"))
    return app


@S("override-make-response", R("/"), R("/t"))
def _(fw):
    class App(fw.Flask):
        def make_response(self, rv):
            if isinstance(rv, int):
                rv = (str(rv), rv)
            return super().make_response(rv)

    app = App(__name__)
    app.add_url_rule("/", "index", lambda: 201)
    app.add_url_rule("/t", "t", lambda: ("x", 202))
    return app


@S("override-process-response", R("/"), R("/e"))
def _(fw):
    class App(fw.Flask):
        def process_response(self, response):
            response = super().process_response(response)
            response.headers["X-Processed"] = "1"
            fw.log(("process_response", response.status_code))
            return response

    app = App(__name__)

    @app.after_request
    def after(r):
        fw.log("after_request")
        return r

    app.add_url_rule("/", "index", lambda: "x")

    @app.route("/e")
    def e():
        fw.abort(400)

    return app


@S("override-handle-exception", R("/"), logs=True)
def _(fw):
    class App(fw.Flask):
        def handle_exception(self, e):
            fw.log(("handle_exception", type(e).__name__))
            return self.response_class("custom 500 " + str(e), 500)

    app = App(__name__)

    @app.route("/")
    def index():
        raise RuntimeError("kaput")

    return app


@S("override-handle-exception-instance", R("/"), R("/http"))
def _(fw):
    app = fw.Flask(__name__)

    def handle_exception(e):
        fw.log(("instance handle_exception", type(e).__name__))
        return fw.Response("instance 500", 500)

    app.handle_exception = handle_exception

    def handle_http_exception(e):
        fw.log(("instance handle_http_exception", e.code))
        return fw.Response(f"http {e.code}", e.code)

    app.handle_http_exception = handle_http_exception

    @app.route("/")
    def index():
        raise RuntimeError("kaput")

    @app.route("/http")
    def http():
        fw.abort(409)

    return app


@S("override-handle-user-exception", R("/"), R("/ok"))
def _(fw):
    class App(fw.Flask):
        def handle_user_exception(self, e):
            fw.log(("handle_user_exception", type(e).__name__))
            if isinstance(e, KeyError):
                return "user handled"
            return super().handle_user_exception(e)

    app = App(__name__)

    @app.route("/")
    def index():
        raise KeyError("k")

    app.add_url_rule("/ok", "ok", lambda: "ok")
    return app


@S("override-preprocess-and-full-dispatch", R("/"), R("/stop"))
def _(fw):
    class App(fw.Flask):
        def preprocess_request(self):
            fw.log("preprocess")
            if fw.request.path == "/stop":
                return "stopped by preprocess"
            return super().preprocess_request()

        def full_dispatch_request(self):
            fw.log("full_dispatch")
            return super().full_dispatch_request()

        def finalize_request(self, rv, from_error_handler=False):
            fw.log(("finalize", from_error_handler))
            return super().finalize_request(rv, from_error_handler)

    app = App(__name__)
    app.add_url_rule("/", "index", lambda: "x")
    app.add_url_rule("/stop", "stop", lambda: "never")
    return app


@S("override-options-response", R("/", "OPTIONS"))
def _(fw):
    class App(fw.Flask):
        def make_default_options_response(self):
            rv = super().make_default_options_response()
            rv.headers["X-Options"] = "custom"
            return rv

    app = App(__name__)
    app.add_url_rule("/", "index", lambda: "x", methods=["GET", "PUT"])
    return app


@S("override-teardown-and-log-exception", R("/"), logs=True)
def _(fw):
    class App(fw.Flask):
        def log_exception(self, exc_info):
            fw.log(("log_exception", exc_info[0].__name__))

        def do_teardown_request(self, exc=None):
            fw.log(("do_teardown_request", type(exc).__name__ if exc else None))
            return super().do_teardown_request(exc)

    app = App(__name__)

    @app.route("/")
    def index():
        raise TypeError("t")

    return app


@S("override-raise-routing-exception", R("/nope"), R("/dir"))
def _(fw):
    class App(fw.Flask):
        def raise_routing_exception(self, request):
            fw.log(("routing", type(request.routing_exception).__name__))
            return super().raise_routing_exception(request)

    app = App(__name__)
    app.add_url_rule("/dir/", "d", lambda: "d")
    return app


@S("override-request-class", R("/", query_string="a=1"))
def _(fw):
    class Req(fw.Request):
        @property
        def shout(self):
            return self.args["a"] + "!"

    class App(fw.Flask):
        request_class = Req

    app = App(__name__)
    app.add_url_rule("/", "index", lambda: fw.request.shout)
    return app


@S("override-aborter", R("/"))
def _(fw):
    class Custom(fw.exceptions.HTTPException):
        code = 499
        description = "client closed"

    class App(fw.Flask):
        def make_aborter(self):
            aborter = super().make_aborter()
            aborter.mapping[499] = Custom
            return aborter

    app = App(__name__)

    @app.route("/")
    def index():
        fw.abort(499)

    return app


@S("app-attributes", Do(lambda app, fw: _attrs(app)))
def _(fw):
    app = fw.Flask(__name__)
    app.add_url_rule("/", "index", lambda: "x")
    return app


def _attrs(app):
    return {
        "name": app.name,
        "import_name": app.import_name,
        "debug": app.debug,
        "testing": app.testing,
        "view_functions": sorted(app.view_functions),
        "blueprints": app.blueprints,
        "extensions": app.extensions,
        "logger": app.logger.name,
        "rules": sorted(
            r.rule for r in app.url_map.iter_rules() if r.endpoint != "static"
        ),
        "before": dict(app.before_request_funcs),
    }


# -- logging ----------------------------------------------------------------------


def test_logging_exception_caplog(caplog):
    """Both log "Exception on /path [METHOD]" with the exception attached."""
    records = {}
    for kind in ("flask", "erlen"):
        fw = make_fw(kind)
        app = fw.Flask(__name__)

        @app.route("/boom/<x>", methods=["POST"])
        def boom(x):
            raise ZeroDivisionError("zero")

        caplog.clear()
        with caplog.at_level(logging.ERROR, logger=app.name):
            if kind == "flask":
                app.test_client().post("/boom/1?q=2")
            else:
                import erlen.testing

                erlen.testing.Client(app).post("/boom/1?q=2")
        records[kind] = [
            (r.name, r.levelname, r.getMessage(), r.exc_info[0].__name__)
            for r in caplog.records
            if r.name == app.name
        ]
    assert records["erlen"] == records["flask"]
    assert records["erlen"] == [
        (__name__, "ERROR", "Exception on /boom/1 [POST]", "ZeroDivisionError")
    ]


def test_logger_level_follows_debug():
    """app.logger is named after the app and set to DEBUG in debug mode."""
    levels = {}
    for kind in ("flask", "erlen"):
        fw = make_fw(kind)
        app = fw.Flask(__name__ + ".debuglogger" + kind)
        app.debug = True
        levels[kind] = (app.logger.name.endswith(kind), app.logger.level)
    assert levels["erlen"] == levels["flask"] == (True, logging.DEBUG)


@pytest.mark.parametrize(("scenario", "iface"), S.params())
def test_compat(scenario, iface):
    check(scenario, iface)
