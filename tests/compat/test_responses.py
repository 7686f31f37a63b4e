"""View return values (make_response rules) on Flask and on erlen."""

from __future__ import annotations

import pytest

from .harness import check
from .harness import deviate
from .harness import Do
from .harness import R
from .harness import Registry

S = Registry()


def _returns(make_rv, testing=False, steps=None):
    """Return a build(fw) whose single view returns ``make_rv(fw)``."""

    def build(fw):
        app = fw.Flask(__name__)
        app.testing = testing

        @app.route("/", methods=["GET", "POST", "HEAD"])
        @fw.coro
        def index():
            return make_rv(fw)

        return app

    return build


RETURN_VALUES = {
    "str": lambda fw: "héllo",
    "empty-str": lambda fw: "",
    "bytes": lambda fw: b"\x00\xffraw",
    "bytearray": lambda fw: bytearray(b"ba"),
    "dict": lambda fw: {"b": 1, "a": [1, 2], "c": None},
    "list": lambda fw: [3, "x", {"k": True}],
    "empty-list": lambda fw: [],
    "tuple-status": lambda fw: ("made", 201),
    "tuple-status-str": lambda fw: ("made", "201 CREATED"),
    "tuple-status-custom-str": lambda fw: ("odd", "299 Whatever"),
    "tuple-status-str-code-only": lambda fw: ("x", "202"),
    "tuple-headers-dict": lambda fw: ("h", {"X-A": "1", "Content-Type": "text/plain"}),
    "tuple-headers-list": lambda fw: ("h", [("X-A", "1"), ("X-A", "2")]),
    "tuple-status-headers": lambda fw: ("h", 418, {"X-Tea": "yes"}),
    "tuple-status-headers-list": lambda fw: ("h", 202, [("X-B", "b")]),
    "tuple-dict-status": lambda fw: ({"ok": False}, 400),
    "tuple-list-status-headers": lambda fw: ([1], 201, {"X-L": "l"}),
    "tuple-response-status": lambda fw: (fw.Response("r"), 203),
    "tuple-response-headers-replace": lambda fw: (
        fw.Response("r", headers={"X-A": "old", "X-B": "keep"}),
        {"X-A": "new"},
    ),
    "tuple-headers-obj": lambda fw: ("h", fw.Response(headers={"X-H": "v"}).headers),
    "response": lambda fw: fw.Response("plain", 202, mimetype="text/plain"),
    "response-json": lambda fw: fw.Response('{"a":1}', content_type="application/json"),
    "response-no-body": lambda fw: fw.Response(status=204),
    "make-response-str": lambda fw: fw.make_response("mr", 201, {"X-M": "1"}),
    "make-response-dict": lambda fw: fw.make_response({"k": "v"}),
    "make-response-empty": lambda fw: fw.make_response(),
    "make-response-tuple": lambda fw: fw.make_response(("t", 202)),
    "jsonify": lambda fw: fw.jsonify(1, 2, 3),
    "generator": lambda fw: (f"{i}," for i in range(3)),
    "generator-bytes": lambda fw: iter([b"a", b"b"]),
    "redirect": lambda fw: fw.redirect("/elsewhere?x=1&y=<"),
    "redirect-301": lambda fw: fw.redirect("https://example.com/", 301),
    "redirect-relative": lambda fw: fw.redirect("../up"),
    "unicode-headers": lambda fw: ("u", {"X-U": "caf\u00e9"}),
    "status-only-int": lambda fw: ("", 204),
    "mimetype-change": lambda fw: _mutated(fw),
    "response-set-cookie": lambda fw: _cookies(fw),
    "response-delete-cookie": lambda fw: _delete_cookie(fw),
    "wsgi-callable": lambda fw: _wsgi_app,
}


def _mutated(fw):
    r = fw.make_response("m")
    r.mimetype = "application/xml"
    r.status_code = 207
    r.headers.add("X-Multi", "1")
    r.headers.add("X-Multi", "2")
    r.set_data("changed")
    return r


def _cookies(fw):
    r = fw.make_response("c")
    r.set_cookie("plain", "v")
    r.set_cookie(
        "full",
        "x y",
        max_age=60,
        path="/p",
        domain="example.com",
        secure=True,
        httponly=True,
        samesite="Lax",
    )
    r.set_cookie("quoted", 'a"b;c')
    return r


def _delete_cookie(fw):
    r = fw.make_response("d")
    r.delete_cookie("gone", path="/x")
    return r


def _add_length(length, steps):
    def apply(expected):
        for i in range(steps):
            headers = expected[i]["out"]["headers"]
            headers.append(["content-length", str(length)])
            headers.sort()
        return expected

    return apply


def _wsgi_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-W", "1")])
    return [b"from wsgi ", environ["PATH_INFO"].encode()]


# Deliberate differences (docs/compat.md), keyed by scenario name.
_ASGI = ("asgi", "async-asgi")
RETURN_DEVIATIONS = {
    # ASGI has no reason phrase: the client sees the standard (or UNKNOWN) one.
    "tuple-status-custom-str": dict(
        deviation=deviate(s0={"status": "299 UNKNOWN"}, s1={"status": "299 UNKNOWN"}),
        deviation_ifaces=_ASGI,
    ),
    # erlen collects a WSGI callable's body, so it knows its length.
    "wsgi-callable": dict(deviation=_add_length(11, 2)),
}

for _name, _make in RETURN_VALUES.items():
    S.add(
        f"return-{_name}",
        _returns(_make),
        R("/"),
        R("/", "HEAD"),
        aio=True,
        **RETURN_DEVIATIONS.get(_name, {}),
    )


# Invalid return values: with testing on the exception reaches the client;
# with it off the client gets the 500 page.
INVALID = {
    "none": lambda fw: None,
    "int": lambda fw: 42,
    "tuple-4": lambda fw: ("a", 200, {}, "extra"),
    "tuple-1": lambda fw: ("a",),
    "tuple-none-body": lambda fw: (None, 200),
    "object": lambda fw: object(),
}

for _name, _make in INVALID.items():
    S.add(
        f"invalid-{_name}-testing",
        _returns(_make, testing=True),
        R("/"),
        aio=True,
        exc_message="type",
    )
    S.add(f"invalid-{_name}-500", _returns(_make), R("/"), logs=True)


@S("invalid-none-message", R("/"), exc_message="prefix")
def _(fw):
    app = fw.Flask(__name__)
    app.testing = True

    @app.route("/")
    def index():
        return None

    return app


@S("head-body-dropped", R("/", "HEAD"), R("/g", "HEAD"))
def _(fw):
    app = fw.Flask(__name__)

    @app.route("/")
    def index():
        return "x" * 100

    @app.route("/g")
    def gen():
        return iter(["a", "b"])

    return app


# Deliberate: Flask 3.1.3 runs teardown when the view returns and again when
# the stream ends; erlen runs it once, after the stream (docs/compat.md).
@S(
    "streaming-with-context",
    R("/"),
    deviation=deviate(s0={"events": ["gen start /", "teardown"]}),
)
def _(fw):
    app = fw.Flask(__name__)

    @app.teardown_request
    def td(exc):
        fw.log("teardown")

    @app.route("/")
    def index():
        @fw.stream_with_context
        def gen():
            fw.log("gen start " + fw.request.path)
            yield "a"
            yield fw.request.args.get("x", "none")

        return gen()

    return app


# Flask 3.1.3 does not keep the request context for a plain generator: the
# stream fails with "Working outside of request context"; erlen too.
@S("streaming-auto-context", R("/", query_string="x=7"))
def _(fw):
    app = fw.Flask(__name__)

    @app.route("/")
    def index():
        def gen():
            yield "x="
            yield fw.request.args["x"]

        return gen()

    return app


@S("make-response-outside-views", Do(lambda app, fw: _in_ctx(app, fw)))
def _(fw):
    return fw.Flask(__name__)


def _in_ctx(app, fw):
    with app.test_request_context("/"):
        r1 = fw.make_response("a", 201)
        r2 = fw.make_response({"x": 1})
        r3 = app.make_response(("b", {"X": "y"}))
        return [r1, r2, r3, r3.headers.get("X"), r2.mimetype]


@S("response-class-attributes", R("/"))
def _(fw):
    app = fw.Flask(__name__)

    @app.route("/")
    def index():
        r = fw.Response("b")
        return fw.jsonify(
            mimetype=r.mimetype,
            ct=r.content_type,
            status=r.status,
            code=r.status_code,
            charset=r.mimetype_params,
            default=fw.Response.default_mimetype,
        )

    return app


@S("custom-response-class", R("/"), R("/d"))
def _(fw):
    class MyResponse(fw.Response):
        default_mimetype = "text/plain"

    class App(fw.Flask):
        response_class = MyResponse

    app = App(__name__)

    @app.route("/")
    def index():
        return "plain " + type(app.make_response("x")).__name__

    @app.route("/d")
    def d():
        return {"j": 1}

    return app


@S("response-force-type-foreign", R("/"))
def _(fw):
    # A Response subclass from the same framework is kept (force_type).
    class Sub(fw.Response):
        pass

    app = fw.Flask(__name__)

    @app.route("/")
    def index():
        r = Sub("sub", 201)
        r.headers["X-Type"] = type(r).__name__
        return r

    return app


@pytest.mark.parametrize(("scenario", "iface"), S.params())
def test_compat(scenario, iface):
    check(scenario, iface)
