"""Request lifecycle hook order on Flask and on erlen (sync and async hooks)."""

from __future__ import annotations

import pytest

from .harness import check
from .harness import R
from .harness import Registry

S = Registry()


def _exc_name(exc):
    return None if exc is None else type(exc).__name__


def _add_blueprints(app, fw, *, fail, short):
    """Register parent and child blueprints with every hook on ``app``."""
    log = fw.log
    c = fw.coro
    exc_name = _exc_name
    parent = fw.Blueprint("parent", __name__, url_prefix="/p")
    child = fw.Blueprint("child", __name__, url_prefix="/c")

    for b in (parent, child):

        def make(b=b):
            @b.url_value_preprocessor
            def uvp(endpoint, values):
                log(("uvp " + b.name, endpoint))

            @b.before_request
            @c
            def before():
                log("before " + b.name)
                if short and fw.request.args.get("short") == b.name:
                    return "short-circuit by " + b.name

            @b.after_request
            @c
            def after(r):
                log(("after " + b.name, r.status_code))
                r.headers.add("X-Order", b.name)
                return r

            @b.teardown_request
            @c
            def td(exc):
                log(("teardown " + b.name, exc_name(exc)))

            @b.before_app_request
            @c
            def before_app():
                log("before_app_request from " + b.name)

            @b.after_app_request
            @c
            def after_app(r):
                log("after_app_request from " + b.name)
                return r

        make()

    @child.route("/v/<int:n>")
    @c
    def child_view(n):
        log(("view child", n))
        if fail == "child":
            raise ValueError("child failed")
        return f"child {n}"

    parent.register_blueprint(child)
    app.register_blueprint(parent)


def _full_app(fw, *, fail=None, short=False, bp=True):
    """Return an app with every hook at app and (nested) blueprint level."""
    app = fw.Flask(__name__)
    log = fw.log
    c = fw.coro
    exc_name = _exc_name

    # NOTE: Flask calls URL value preprocessors directly (no ensure_sync),
    # so they stay sync in the async twin too.
    @app.url_value_preprocessor
    def app_uvp(endpoint, values):
        log(("uvp app", endpoint, dict(values or {})))

    @app.before_request
    @c
    def app_before1():
        log("before app 1")

    @app.before_request
    @c
    def app_before2():
        log("before app 2")
        if short and fw.request.args.get("short") == "app":
            return "short-circuit by app"

    @app.after_request
    @c
    def app_after1(r):
        log(("after app 1", r.status_code))
        r.headers.add("X-Order", "app1")
        return r

    @app.after_request
    @c
    def app_after2(r):
        log(("after app 2", r.status_code))
        r.headers.add("X-Order", "app2")
        return r

    @app.teardown_request
    @c
    def app_td1(exc):
        log(("teardown app 1", exc_name(exc)))

    @app.teardown_request
    @c
    def app_td2(exc):
        log(("teardown app 2", exc_name(exc)))

    @app.teardown_appcontext
    @c
    def app_ctx_td(exc):
        log(("teardown appctx", exc_name(exc)))

    if bp:
        _add_blueprints(app, fw, fail=fail, short=short)

    @app.route("/")
    @c
    def index():
        log("view app")

        @fw.after_this_request
        def first(r):
            log("after_this_request")
            r.headers.add("X-Order", "this")
            return r

        if fail == "app":
            raise ValueError("app failed")
        if fail == "abort":
            fw.abort(409)
        return "index"

    return app


S.add(
    "hooks-order",
    lambda fw: _full_app(fw),
    R("/"),
    R("/p/c/v/3"),
    R("/missing"),
    aio=True,
)
S.add(
    "hooks-short-circuit",
    lambda fw: _full_app(fw, short=True),
    R("/", query_string="short=app"),
    R("/p/c/v/3", query_string="short=parent"),
    R("/p/c/v/3", query_string="short=child"),
    aio=True,
)
S.add(
    "hooks-exception-500",
    lambda fw: _full_app(fw, fail="app"),
    R("/"),
    logs=True,
    aio=True,
)
S.add(
    "hooks-exception-blueprint-500",
    lambda fw: _full_app(fw, fail="child"),
    R("/p/c/v/1"),
    logs=True,
    aio=True,
)
S.add("hooks-abort", lambda fw: _full_app(fw, fail="abort"), R("/"), aio=True)
S.add(
    "hooks-no-blueprints",
    lambda fw: _full_app(fw, bp=False),
    R("/"),
    R("/", "OPTIONS"),
    R("/", "POST"),
    aio=True,
)


def _propagating(fw):
    app = _full_app(fw, fail="app")
    app.testing = True
    return app


S.add("hooks-exception-propagated", _propagating, R("/"), aio=True)


@S("hooks-after-request-replaces-response", R("/"), aio=True)
def _(fw):
    app = fw.Flask(__name__)

    @app.after_request
    @fw.coro
    def swap(r):
        new = fw.make_response("replaced", 202)
        new.headers["X-Old-Status"] = str(r.status_code)
        return new

    @app.route("/")
    @fw.coro
    def index():
        return "orig"

    return app


@S("hooks-before-request-response-runs-after", R("/"), aio=True)
def _(fw):
    app = fw.Flask(__name__)

    @app.before_request
    @fw.coro
    def early():
        return {"early": True}, 201

    @app.after_request
    @fw.coro
    def after(r):
        fw.log(("after", r.status_code, r.mimetype))
        return r

    @app.route("/")
    def index():
        fw.log("view")
        return "never"

    return app


@S("hooks-teardown-exception-handled", R("/"), aio=True)
def _(fw):
    app = fw.Flask(__name__)

    @app.errorhandler(KeyError)
    @fw.coro
    def handled(e):
        return "handled", 400

    @app.teardown_request
    @fw.coro
    def td(exc):
        fw.log(("teardown", type(exc).__name__ if exc else None))

    @app.route("/")
    @fw.coro
    def index():
        raise KeyError("k")

    return app


@S("hooks-g-shared", R("/"), aio=True)
def _(fw):
    app = fw.Flask(__name__)

    @app.before_request
    @fw.coro
    def set_g():
        fw.g.user = "alice"
        fw.g.setdefault("count", 0)

    @app.after_request
    @fw.coro
    def use_g(r):
        r.headers["X-User"] = fw.g.user
        return r

    @app.teardown_request
    @fw.coro
    def td(exc):
        fw.log(("td g", fw.g.get("user"), "count" in fw.g, sorted(fw.g)))

    @app.route("/")
    @fw.coro
    def index():
        fw.g.count += 1
        return (
            f"{fw.g.user} {fw.g.count} {fw.g.pop('count')} {fw.g.get('count', 'gone')}"
        )

    return app


@S("after-this-request-multiple", R("/"))
def _(fw):
    app = fw.Flask(__name__)

    @app.after_request
    def app_after(r):
        fw.log("app after")
        return r

    @app.route("/")
    def index():
        for i in range(3):

            @fw.after_this_request
            def f(r, i=i):
                fw.log(("this", i))
                return r

        return "x"

    return app


@S("after-this-request-outside", R("/"))
def _(fw):
    app = fw.Flask(__name__)

    @app.route("/")
    def index():
        return "ok"

    try:
        fw.after_this_request(lambda r: r)
    except RuntimeError as e:
        fw.log(("RuntimeError", str(e).split(".")[0][:20]))
    return app


@S("setup-guard-after-first-request", R("/"), R("/late"))
def _(fw):
    app = fw.Flask(__name__)

    @app.route("/")
    def index():
        out = []
        for name, call in (
            ("route", lambda: app.add_url_rule("/late", "late", lambda: "late")),
            ("before_request", lambda: app.before_request(lambda: None)),
            ("errorhandler", lambda: app.register_error_handler(404, lambda e: "x")),
            ("blueprint", lambda: app.register_blueprint(fw.Blueprint("b", __name__))),
            ("teardown_appcontext", lambda: app.teardown_appcontext(lambda e: None)),
        ):
            try:
                call()
            except AssertionError as e:
                out.append((name, "AssertionError", "setup method" in str(e)))
            else:
                out.append((name, "allowed"))
        return fw.jsonify(out)

    return app


@pytest.mark.parametrize(("scenario", "iface"), S.params())
def test_compat(scenario, iface):
    check(scenario, iface)
