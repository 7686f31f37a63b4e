"""URL building (url_for) on Flask and on erlen."""

from __future__ import annotations

import pytest

from .harness import check
from .harness import Do
from .harness import R
from .harness import Registry

S = Registry()


def _app(fw):
    app = fw.Flask(__name__)

    @app.route("/")
    def index():
        return "i"

    @app.route("/user/<name>")
    def user(name):
        return name

    @app.route("/post/<int:year>/<slug>", methods=["GET", "POST"])
    def post(year, slug):
        return slug

    @app.route("/files/<path:p>")
    def files(p):
        return p

    @app.route("/only-post", methods=["POST"])
    def only_post():
        return "p"

    @app.route("/only-post-get", endpoint="only_post_get")
    def only_post_get():
        return "g"

    return app


CASES = {
    "plain": lambda fw: fw.url_for("index"),
    "arg": lambda fw: fw.url_for("user", name="bob smith/é"),
    "query": lambda fw: fw.url_for("user", name="x", q="a b", n=[1, 2], none=None),
    "int": lambda fw: fw.url_for("post", year=2024, slug="hi"),
    "path": lambda fw: fw.url_for("files", p="a/b c/d.txt"),
    "anchor": lambda fw: fw.url_for("index", _anchor="sec tion#x"),
    "external": lambda fw: fw.url_for("user", name="a", _external=True),
    "scheme": lambda fw: fw.url_for("index", _external=True, _scheme="https"),
    "method": lambda fw: fw.url_for("only_post", _method="POST"),
    "bool-int-values": lambda fw: fw.url_for("index", a=True, b=0, c=1.5),
}


def _build(case):
    def build(fw):
        app = _app(fw)

        @app.route("/case")
        def run_case():
            return CASES[case](fw)

        return app

    return build


for _name in CASES:
    S.add(
        f"url-for-{_name}",
        _build(_name),
        R("/case"),
        R("/case", base_url="https://h.test:8443/root/"),
    )


@S(
    "url-for-errors",
    R("/scheme"),
    R("/missing"),
    R("/missing-arg"),
    R("/wrong-method"),
    exc_message="type",
)
def _(fw):
    app = _app(fw)
    app.testing = True
    app.add_url_rule("/scheme", "scheme", lambda: fw.url_for("index", _scheme="https"))
    app.add_url_rule("/missing", "missing", lambda: fw.url_for("nope"))
    app.add_url_rule("/missing-arg", "missing_arg", lambda: fw.url_for("user"))
    app.add_url_rule(
        "/wrong-method", "wrong_method", lambda: fw.url_for("index", _method="POST")
    )
    return app


@S("url-for-build-error-handler", R("/"), R("/other"))
def _(fw):
    app = fw.Flask(__name__)

    def handler(error, endpoint, values):
        fw.log(("handler", type(error).__name__, endpoint, sorted(values)))
        if endpoint == "external_thing":
            return "https://external.test/" + values.get("x", "")
        return None

    app.url_build_error_handlers.append(handler)

    @app.route("/")
    def index():
        return fw.url_for("external_thing", x="1")

    @app.errorhandler(Exception)
    def err(e):
        return "error " + type(e).__name__, 500

    @app.route("/other")
    def other():
        return fw.url_for("missing_thing", y=2)

    return app


@S(
    "url-for-app-context-server-name",
    Do(lambda app, fw: _ctx_url(app, fw, "example.test", "/app", "https")),
    Do(lambda app, fw: _ctx_url(app, fw, None, "/", "http")),
    exc_message="type",
)
def _(fw):
    app = fw.Flask(__name__)

    @app.route("/x/<v>")
    def x(v):
        return v

    return app


def _ctx_url(app, fw, server_name, root, scheme):
    app.config.update(
        SERVER_NAME=server_name, APPLICATION_ROOT=root, PREFERRED_URL_SCHEME=scheme
    )
    with app.app_context():
        return [fw.url_for("x", v="1"), fw.url_for("x", v="2", _external=False)]


@S("url-for-no-context", Do(lambda app, fw: fw.url_for("x")), exc_message="type")
def _(fw):
    return fw.Flask(__name__)


@S("url-for-test-request-context", Do(lambda app, fw: _trc(app, fw)))
def _(fw):
    app = fw.Flask(__name__)

    @app.route("/y/<int:n>")
    def y(n):
        return str(n)

    return app


def _trc(app, fw):
    with app.test_request_context("/y/3", base_url="http://h.test/pre"):
        return [
            fw.url_for("y", n=4),
            fw.url_for("y", n=5, _external=True),
            fw.request.endpoint,
            fw.request.view_args,
            fw.request.script_root,
            fw.request.url,
        ]


@S("url-defaults-app-level", R("/en/x"), R("/fr/x"))
def _(fw):
    app = fw.Flask(__name__)

    @app.url_defaults
    def defaults(endpoint, values):
        if app.url_map.is_endpoint_expecting(endpoint, "lang"):
            values.setdefault("lang", fw.g.get("lang", "en"))

    @app.url_value_preprocessor
    def pre(endpoint, values):
        fw.g.lang = (values or {}).pop("lang", None)

    @app.route("/<lang>/x")
    def x():
        return fw.url_for("x") + " " + fw.url_for("x", lang="de")

    return app


@pytest.mark.parametrize(("scenario", "iface"), S.params())
def test_compat(scenario, iface):
    check(scenario, iface)
