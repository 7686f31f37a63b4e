"""Cookie sessions and flashing on Flask and on erlen."""

from __future__ import annotations

import datetime
import uuid

import pytest

from .harness import check
from .harness import R
from .harness import Registry

S = Registry()


def _session_app(fw, **config):
    app = fw.Flask(__name__)
    app.secret_key = "s3cr3t"
    app.config.update(config)

    @app.route("/set")
    def set_():
        for k, v in fw.request.args.items():
            fw.session[k] = v
        return "set"

    @app.route("/get")
    def get():
        return fw.jsonify(dict(fw.session))

    @app.route("/peek")
    def peek():
        return str("x" in fw.session)

    @app.route("/len")
    def length():
        return str(len(fw.session))

    @app.route("/none")
    def none():
        return "untouched"

    @app.route("/clear")
    def clear():
        fw.session.clear()
        return "cleared"

    @app.route("/permanent")
    def permanent():
        fw.session.permanent = True
        fw.session["p"] = 1
        return "permanent"

    @app.route("/nested")
    def nested():
        fw.session.setdefault("list", []).append(1)
        if fw.request.args.get("mark"):
            fw.session.modified = True
        return fw.jsonify(fw.session.get("list"))

    @app.route("/flags")
    def flags():
        s = fw.session
        return fw.jsonify(new=s.new, modified=s.modified, permanent=s.permanent)

    return app


STEPS = (
    R("/none"),
    R("/set", query_string="x=1&y=two"),
    R("/get"),
    R("/peek"),
    R("/len"),
    R("/flags"),
    R("/nested"),
    R("/get"),
    R("/nested", query_string="mark=1"),
    R("/get"),
    R("/clear"),
    R("/get"),
    R("/permanent"),
    # A permanent session's cookie is refreshed even by a request that
    # never touches the session (erlen opens it lazily otherwise).
    R("/none"),
    R("/get"),
)

S.add("session-lifecycle", lambda fw: _session_app(fw), *STEPS)
S.add(
    "session-no-refresh",
    lambda fw: _session_app(fw, SESSION_REFRESH_EACH_REQUEST=False),
    R("/permanent"),
    # A permanent session's cookie is refreshed even by a request that
    # never touches the session (erlen opens it lazily otherwise).
    R("/none"),
    R("/get"),
    R("/set", query_string="z=1"),
)
S.add(
    "session-cookie-options",
    lambda fw: _session_app(
        fw,
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_DOMAIN="example.test",
        SESSION_COOKIE_PATH="/app",
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=600,
    ),
    R("/set", query_string="a=1", base_url="http://example.test"),
    R("/permanent", base_url="http://example.test"),
    R("/clear", base_url="http://example.test"),
)
S.add(
    "session-partitioned",
    lambda fw: _session_app(fw, SESSION_COOKIE_PARTITIONED=True),
    R("/set", query_string="a=1"),
)
S.add(
    "session-application-root",
    lambda fw: _session_app(fw, APPLICATION_ROOT="/root"),
    R("/set", query_string="a=1"),
)


@S("session-types-roundtrip", R("/set"), R("/get"))
def _(fw):
    app = fw.Flask(__name__)
    app.secret_key = "k"

    @app.route("/set")
    def set_():
        fw.session["t"] = (1, 2)
        fw.session["b"] = b"\x00\x01"
        fw.session["u"] = uuid.UUID(int=5)
        fw.session["d"] = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
        fw.session["nested"] = {" t": [1], "x": {"y": (2,)}}
        fw.session["s"] = "é"
        return "ok"

    @app.route("/get")
    def get():
        s = fw.session
        return repr(
            (
                s["t"],
                s["b"],
                s["u"],
                s["d"],
                s["nested"],
                s["s"],
            )
        )

    return app


@S("session-no-secret-key", R("/read"), R("/write"), exc_message="type")
def _(fw):
    app = fw.Flask(__name__)
    app.testing = True

    @app.route("/read")
    def read():
        return fw.jsonify(
            value=fw.session.get("x"),
            type=type(fw.session).__name__,
            null=app.session_interface.is_null_session(fw.session),
        )

    @app.route("/write")
    def write():
        fw.session["x"] = 1
        return "no"

    return app


@S(
    "session-secret-key-fallbacks",
    R("/set", query_string="a=1"),
    R("/rotate"),
    R("/get"),
    R("/get2"),
)
def _(fw):
    app = fw.Flask(__name__)
    app.secret_key = "old"

    @app.route("/set")
    def set_():
        fw.session["a"] = fw.request.args["a"]
        return "set"

    @app.route("/rotate")
    def rotate():
        app.config["SECRET_KEY"] = "new"
        app.config["SECRET_KEY_FALLBACKS"] = ["older", "old"]
        return "rotated"

    @app.route("/get")
    def get():
        return fw.jsonify(dict(fw.session))

    @app.route("/get2")
    def get2():
        app.config["SECRET_KEY_FALLBACKS"] = None
        return fw.jsonify(dict(fw.session))

    return app


@S(
    "session-bad-cookie",
    R("/get", headers={"Cookie": "session=garbage.value.sig"}),
    R("/get", headers={"Cookie": "session="}),
)
def _(fw):
    return _session_app(fw)


@S("session-vary-cookie", R("/a"), R("/b"), R("/c"), R("/d"))
def _(fw):
    app = fw.Flask(__name__)
    app.secret_key = "k"

    @app.route("/a")
    def a():
        return "no access"

    @app.route("/b")
    def b():
        fw.session.get("x")
        return "get"

    @app.route("/c")
    def c():
        r = fw.make_response("own vary")
        r.vary.add("Accept")
        _ = "x" in fw.session
        return r

    @app.route("/d")
    def d():
        fw.session["x"] = 1
        return "write"

    return app


@S("session-custom-interface", R("/"), R("/"))
def _(fw):
    class Interface(fw.sessions.SecureCookieSessionInterface):
        salt = "other-salt"

        def get_cookie_name(self, app):
            return "custom_session"

        def should_set_cookie(self, app, session):
            fw.log(("should_set_cookie", session.modified))
            return super().should_set_cookie(app, session)

    app = fw.Flask(__name__)
    app.secret_key = "k"
    app.session_interface = Interface()

    @app.route("/")
    def index():
        fw.session["n"] = fw.session.get("n", 0) + 1
        return str(fw.session["n"])

    return app


@S(
    "flash-basic",
    R("/flash"),
    R("/show"),
    R("/show"),
    R("/flash"),
    R("/cats"),
    R("/flash"),
    R("/filter"),
    R("/filter"),
)
def _(fw):
    app = fw.Flask(__name__)
    app.secret_key = "k"

    @app.route("/flash")
    def flash():
        fw.flash("hello")
        fw.flash("oops", "error")
        fw.flash({"k": 1}, "info")
        return "flashed"

    @app.route("/show")
    def show():
        return fw.jsonify(fw.get_flashed_messages(), fw.get_flashed_messages())

    @app.route("/cats")
    def cats():
        return fw.jsonify(fw.get_flashed_messages(with_categories=True))

    @app.route("/filter")
    def filt():
        return fw.jsonify(
            fw.get_flashed_messages(category_filter=["error", "info"]),
            fw.get_flashed_messages(with_categories=True, category_filter="info"),
        )

    return app


@S("flash-signal", R("/"))
def _(fw):
    app = fw.Flask(__name__)
    app.secret_key = "k"

    def rec(sender, message, category, **kw):
        fw.log(("flashed", sender is app, message, category))

    fw.signals.message_flashed.connect(rec, app)
    app.extensions["keep"] = rec

    @app.route("/")
    def index():
        fw.flash("m", "c")
        return "ok"

    return app


@pytest.mark.parametrize(("scenario", "iface"), S.params())
def test_compat(scenario, iface):
    check(scenario, iface)
