"""The Flask test client API (session_transaction, with client:) on both."""

from __future__ import annotations

import pytest

from .harness import check
from .harness import R
from .harness import Registry
from .harness import WithClient

S = Registry()


def _app(fw):
    app = fw.Flask(__name__)
    app.secret_key = "k"

    @app.route("/get")
    def get():
        return fw.jsonify(dict(fw.session))

    @app.route("/set/<v>")
    def set_(v):
        fw.session["v"] = v
        fw.g.marker = v
        return "set"

    return app


def _edit(client, app, fw):
    with client.session_transaction() as sess:
        before = dict(sess)
        sess["edited"] = True
        sess["n"] = 2
    return before


def _edit_again(client, app, fw):
    with client.session_transaction() as sess:
        before = dict(sess)
        del sess["n"]
    return before


def _keep_context(client, app, fw):
    with client:
        client.get("/set/kept").close()
        return [
            fw.request.path,
            fw.session.get("v"),
            fw.g.marker,
            fw.has_request_context(),
        ]


def _after_with(client, app, fw):
    return fw.has_request_context()


def _follow(client, app, fw):
    r = client.get("/go", follow_redirects=True)
    try:
        return [
            r.status_code,
            r.get_data(as_text=True),
            [h.status_code for h in r.history],
            r.request.path,
        ]
    finally:
        r.close()


S.add(
    "client-session-transaction",
    _app,
    WithClient(_edit),
    R("/get"),
    WithClient(_edit_again),
    R("/get"),
    R("/set/x"),
    WithClient(_edit_again),
    flask_client=True,
)
S.add(
    "client-with-keeps-context",
    _app,
    WithClient(_keep_context),
    WithClient(_after_with),
    flask_client=True,
)


@S(
    "client-follow-redirects",
    WithClient(_follow),
    R("/go", follow_redirects=True),
    flask_client=True,
)
def _(fw):
    app = fw.Flask(__name__)

    @app.route("/go")
    def go():
        return fw.redirect(fw.url_for("mid"))

    @app.route("/mid")
    def mid():
        return fw.redirect("/end", 307)

    @app.route("/end")
    def end():
        return "end " + fw.request.method

    return app


@S(
    "client-json-uses-app-provider",
    R("/in", "POST", json={"b": 1, "a": 2}),
    R("/in", "POST", json=[1, {"z": None}], content_type="application/vnd.x+json"),
    flask_client=True,
)
def _(fw):
    app = fw.Flask(__name__)
    app.json.sort_keys = False

    @app.route("/in", methods=["POST"])
    def inp():
        return fw.request.get_data() + b" " + fw.request.content_type.encode()

    return app


@S(
    "client-server-name-config",
    R("/where"),
    flask_client=True,
)
def _(fw):
    app = fw.Flask(__name__)
    app.config.update(
        SERVER_NAME="example.test:8080",
        APPLICATION_ROOT="/app",
        PREFERRED_URL_SCHEME="https",
    )

    @app.route("/where")
    def where():
        return fw.jsonify(
            url=fw.request.url, root=fw.request.script_root, host=fw.request.host
        )

    return app


@pytest.mark.parametrize(("scenario", "iface"), S.params())
def test_compat(scenario, iface):
    check(scenario, iface)
