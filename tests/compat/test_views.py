"""Class-based views (View, MethodView) on Flask and on erlen."""

from __future__ import annotations

import pytest

from .harness import check
from .harness import R
from .harness import Registry

S = Registry()

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")


@S(
    "methodview-basic",
    *[R("/items/1", m) for m in METHODS],
    R("/items/", "GET"),
    aio=True,
)
def _(fw):
    c = fw.coro

    class Item(fw.views.MethodView):
        @c
        def get(self, id=None):
            return f"get {id}"

        @c
        def post(self, id=None):
            return f"post {id}", 201

        @c
        def delete(self, id):
            return "", 204

    app = fw.Flask(__name__)
    view = Item.as_view("item")
    app.add_url_rule("/items/<int:id>", view_func=view)
    app.add_url_rule("/items/", view_func=view, defaults={"id": None})
    return app


@S("methodview-inheritance", *[R("/", m) for m in METHODS])
def _(fw):
    class Base(fw.views.MethodView):
        def get(self):
            return "base get " + type(self).__name__

    class Child(Base):
        def put(self):
            return "child put"

    app = fw.Flask(__name__)
    app.add_url_rule("/", view_func=Child.as_view("child"))
    return app


@S("methodview-head-fallback-and-explicit", R("/", "HEAD"), R("/h", "HEAD"))
def _(fw):
    class G(fw.views.MethodView):
        def get(self):
            fw.log("get")
            return "g"

    class H(fw.views.MethodView):
        def get(self):
            return "g"

        def head(self):
            fw.log("head")
            return "", 200, {"X-Head": "1"}

    app = fw.Flask(__name__)
    app.add_url_rule("/", view_func=G.as_view("g"))
    app.add_url_rule("/h", view_func=H.as_view("h"))
    return app


@S(
    "view-dispatch-request",
    R("/", "GET"),
    R("/", "POST"),
    R("/", "PUT"),
    R("/", "OPTIONS"),
    aio=True,
)
def _(fw):
    class V(fw.views.View):
        methods = ["GET", "POST"]

        def __init__(self, greeting):
            self.greeting = greeting

        @fw.coro
        def dispatch_request(self):
            return f"{self.greeting} {fw.request.method}"

    app = fw.Flask(__name__)
    app.add_url_rule("/", view_func=V.as_view("v", "hello"))
    return app


@S("view-init-every-request", R("/a"), R("/a"), R("/b"), R("/b"))
def _(fw):
    counter = {"n": 0}

    class V(fw.views.View):
        def __init__(self):
            counter["n"] += 1
            self.mine = counter["n"]

        def dispatch_request(self):
            return str(self.mine)

    class Once(V):
        init_every_request = False

    app = fw.Flask(__name__)
    app.add_url_rule("/a", view_func=V.as_view("a"))
    app.add_url_rule("/b", view_func=Once.as_view("b"))
    return app


@S("view-decorators-and-attrs", R("/"), R("/", "OPTIONS"))
def _(fw):
    def deco(f):
        def wrapper(*a, **k):
            fw.log("decorated")
            return f(*a, **k) + " (decorated)"

        wrapper.__name__ = f.__name__
        return wrapper

    class V(fw.views.View):
        decorators = [deco]
        provide_automatic_options = False
        methods = ["GET", "OPTIONS"]

        def dispatch_request(self):
            return "view " + fw.request.method

    app = fw.Flask(__name__)
    view = V.as_view("v")
    fw.log((view.__name__, view.view_class.__name__, sorted(view.methods)))
    app.add_url_rule("/", view_func=view)

    @app.route("/attrs")
    def attrs():
        return fw.jsonify(sorted(fw.views.http_method_funcs))

    return app


@S("methodview-methods-attribute", R("/attrs"))
def _(fw):
    class M(fw.views.MethodView):
        def get(self):
            return ""

        def patch(self):
            return ""

    class N(M):
        methods = ["GET"]

    app = fw.Flask(__name__)

    @app.route("/attrs")
    def attrs():
        return fw.jsonify(
            m=sorted(M.methods),
            n=sorted(N.methods),
            view=sorted(M.as_view("m").methods),
        )

    return app


@S("methodview-in-blueprint", R("/bp/r"), R("/bp/r", "POST"), R("/bp/r", "DELETE"))
def _(fw):
    class R_(fw.views.MethodView):
        def get(self):
            return fw.url_for(".res")

        def post(self):
            return fw.request.endpoint

    bp = fw.Blueprint("bp", __name__, url_prefix="/bp")
    bp.add_url_rule("/r", view_func=R_.as_view("res"))
    app = fw.Flask(__name__)
    app.register_blueprint(bp)
    return app


@pytest.mark.parametrize(("scenario", "iface"), S.params())
def test_compat(scenario, iface):
    check(scenario, iface)
