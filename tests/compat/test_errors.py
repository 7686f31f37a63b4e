"""abort, HTTP errors and error handlers on Flask and on erlen."""

from __future__ import annotations

import pytest
import werkzeug.exceptions

from .harness import check
from .harness import R
from .harness import Registry

S = Registry()

CODES = sorted(werkzeug.exceptions.default_exceptions)


def _abort_app(code):
    def build(fw):
        app = fw.Flask(__name__)

        @app.route("/")
        def plain():
            fw.abort(code)

        @app.route("/custom")
        def custom():
            fw.abort(code, description="Custom <b>words</b>")

        return app

    return build


for _code in CODES:
    S.add(f"abort-{_code}", _abort_app(_code), R("/"), R("/custom"), R("/", "HEAD"))


@S("abort-unknown-code", R("/"), R("/ok"), exc_message="type")
def _(fw):
    app = fw.Flask(__name__)
    app.testing = True

    @app.route("/")
    def index():
        fw.abort(299)

    @app.route("/ok")
    def ok():
        try:
            fw.abort(799)
        except LookupError as e:
            return type(e).__name__
        return "no"

    return app


@S("abort-response", R("/"), R("/tuple"))
def _(fw):
    app = fw.Flask(__name__)

    @app.after_request
    def after(r):
        fw.log(("after", r.status_code))
        return r

    @app.route("/")
    def index():
        fw.abort(fw.Response("teapot body", 418, {"X-A": "1"}))

    @app.route("/tuple")
    def tup():
        fw.abort(fw.make_response(("made", 409)))

    return app


@S("abort-special-kwargs", R("/405"), R("/401"), R("/429"), R("/503"), R("/416"))
def _(fw):
    app = fw.Flask(__name__)

    @app.route("/405")
    def m():
        fw.abort(405, valid_methods=["GET", "POST"])

    @app.route("/401")
    def u():
        raise fw.exceptions.Unauthorized()

    @app.route("/429")
    def tm():
        raise fw.exceptions.TooManyRequests(retry_after=120)

    @app.route("/503")
    def su():
        raise fw.exceptions.ServiceUnavailable(retry_after=30)

    @app.route("/416")
    def rr():
        raise fw.exceptions.RequestedRangeNotSatisfiable(length=100)

    return app


@S("errorhandler-code-and-class", R("/404"), R("/nf"), R("/403"), R("/409"))
def _(fw):
    app = fw.Flask(__name__)

    @app.errorhandler(404)
    def nf(e):
        return f"404 handler: {type(e).__name__} {e.code} {e.description}", 404

    @app.errorhandler(fw.exceptions.Forbidden)
    def forbidden(e):
        return {"error": e.name, "code": e.code}, e.code

    @app.route("/nf")
    def nf_view():
        fw.abort(404, "gone fishing")

    @app.route("/403")
    def f():
        fw.abort(403)

    @app.route("/409")
    def c():
        fw.abort(409)

    return app


@S("errorhandler-mro", R("/key"), R("/lookup"), R("/value"), R("/custom"))
def _(fw):
    class MyError(ValueError):
        pass

    app = fw.Flask(__name__)

    @app.errorhandler(LookupError)
    def lookup(e):
        return f"lookup {type(e).__name__}", 400

    @app.errorhandler(ValueError)
    def value(e):
        return f"value {type(e).__name__}: {e}", 400

    @app.errorhandler(MyError)
    def mine(e):
        return "mine", 422

    @app.route("/key")
    def key():
        raise KeyError("k")

    @app.route("/lookup")
    def lk():
        raise IndexError("i")

    @app.route("/value")
    def val():
        raise ValueError("v")

    @app.route("/custom")
    def cu():
        raise MyError("m")

    return app


@S("errorhandler-generic-exception-gets-http", R("/nope"), R("/boom"), R("/abort"))
def _(fw):
    app = fw.Flask(__name__)

    @app.errorhandler(Exception)
    def everything(e):
        if isinstance(e, fw.exceptions.HTTPException):
            return f"http {e.code}", e.code
        return f"other {type(e).__name__}", 500

    @app.route("/boom")
    def boom():
        raise RuntimeError("x")

    @app.route("/abort")
    def ab():
        fw.abort(410)

    return app


@S("errorhandler-http-base", R("/nope"), R("/", "POST"), R("/x"))
def _(fw):
    app = fw.Flask(__name__)

    @app.errorhandler(fw.exceptions.HTTPException)
    def http(e):
        r = e.get_response()
        r.data = f"wrapped {e.code} {e.name}"
        r.content_type = "text/plain"
        return r

    @app.route("/")
    def index():
        return "i"

    @app.route("/x")
    def x():
        fw.abort(400)

    return app


@S("errorhandler-register", R("/"), R("/t"))
def _(fw):
    app = fw.Flask(__name__)

    def handler(e):
        return "registered " + type(e).__name__, 500

    app.register_error_handler(ZeroDivisionError, handler)
    app.register_error_handler(418, lambda e: ("tea handler", 418))

    @app.route("/")
    def index():
        return str(1 / 0)

    @app.route("/t")
    def t():
        fw.abort(418)

    return app


@S("errorhandler-invalid-registration", R("/"))
def _(fw):
    app = fw.Flask(__name__)
    out = []
    for key in (999, fw.exceptions.HTTPException(), object):
        try:
            app.register_error_handler(key, lambda e: "x")
        except (ValueError, TypeError) as e:
            out.append(type(e).__name__)
        else:
            out.append("accepted")

    @app.route("/")
    def index():
        return ",".join(out)

    return app


@S("errorhandler-return-through-after-request", R("/"), R("/missing"))
def _(fw):
    app = fw.Flask(__name__)

    @app.after_request
    def after(r):
        r.headers["X-After"] = "yes"
        fw.log(("after", r.status_code))
        return r

    @app.errorhandler(ZeroDivisionError)
    def zde(e):
        return ["handled"], 500, {"X-H": "1"}

    @app.errorhandler(404)
    def nf(e):
        return "custom 404", 404

    @app.route("/")
    def index():
        return str(1 / 0)

    return app


@S("errorhandler-raises", R("/"), logs=True)
def _(fw):
    app = fw.Flask(__name__)

    @app.errorhandler(KeyError)
    def bad_handler(e):
        raise RuntimeError("handler broke")

    @app.route("/")
    def index():
        raise KeyError("x")

    return app


@S("500-handler-original-exception", R("/"), R("/abort500"), R("/raise500"), logs=True)
def _(fw):
    app = fw.Flask(__name__)

    @app.errorhandler(500)
    def ise(e):
        orig = e.original_exception
        return (
            f"500 handler {type(e).__name__} orig={type(orig).__name__}:{orig}",
            500,
        )

    @app.route("/")
    def index():
        raise ValueError("oops")

    @app.route("/abort500")
    def a500():
        fw.abort(500)

    @app.route("/raise500")
    def r500():
        raise fw.exceptions.InternalServerError("explicit")

    return app


@S("500-class-handler", R("/"), logs=True)
def _(fw):
    app = fw.Flask(__name__)

    @app.errorhandler(fw.exceptions.InternalServerError)
    def ise(e):
        return "class handler " + type(e.original_exception).__name__, 500

    @app.route("/")
    def index():
        raise OSError("disk")

    return app


@S("unhandled-500-logged", R("/"), R("/q", query_string="a=1"), logs=True)
def _(fw):
    app = fw.Flask(__name__)

    @app.route("/", methods=["GET"])
    def index():
        raise LookupError("nope")

    @app.route("/q")
    def q():
        raise ArithmeticError()

    return app


@S("propagate-testing", R("/"), R("/http"), exc_message="full")
def _(fw):
    app = fw.Flask(__name__)
    app.testing = True

    @app.route("/")
    def index():
        raise ValueError("propagated")

    @app.route("/http")
    def http():
        fw.abort(404)

    return app


@S("propagate-explicit-false", R("/"), logs=True)
def _(fw):
    app = fw.Flask(__name__)
    app.testing = True
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/")
    def index():
        raise ValueError("not propagated")

    return app


@S("propagate-explicit-true", R("/"))
def _(fw):
    app = fw.Flask(__name__)
    app.config["PROPAGATE_EXCEPTIONS"] = True

    @app.route("/")
    def index():
        raise ValueError("up")

    return app


@S("trap-http-exceptions", R("/"), R("/missing"), exc_message="type")
def _(fw):
    app = fw.Flask(__name__)
    app.testing = True
    app.config["TRAP_HTTP_EXCEPTIONS"] = True

    @app.route("/")
    def index():
        fw.abort(403)

    return app


@S("trap-http-exceptions-handled-by-500", R("/"), logs=True)
def _(fw):
    app = fw.Flask(__name__)
    app.config["TRAP_HTTP_EXCEPTIONS"] = True

    @app.errorhandler(500)
    def ise(e):
        return "500 got " + type(e.original_exception).__name__, 500

    @app.route("/")
    def index():
        fw.abort(403)

    return app


@S("bad-request-key-error", R("/"), R("/f", "POST", data={"a": "1"}), R("/f", "POST"))
def _(fw):
    app = fw.Flask(__name__)

    @app.route("/")
    def index():
        return fw.request.args["missing"]

    @app.route("/f", methods=["POST"])
    def f():
        return fw.request.form["a"]

    return app


@S("bad-request-key-error-debug", R("/"), exc_message="prefix")
def _(fw):
    app = fw.Flask(__name__)
    app.debug = True

    @app.route("/")
    def index():
        return fw.request.args["missing"]

    return app


@S("bad-request-key-error-debug-untrapped", R("/"))
def _(fw):
    app = fw.Flask(__name__)
    app.debug = True
    app.config["TRAP_BAD_REQUEST_ERRORS"] = False

    @app.route("/")
    def index():
        return fw.request.args["missing"]

    return app


@S("trap-bad-request-errors", R("/"), R("/b"), exc_message="type")
def _(fw):
    app = fw.Flask(__name__)
    app.testing = True
    app.config["TRAP_BAD_REQUEST_ERRORS"] = True

    @app.route("/")
    def index():
        return fw.request.args["missing"]

    @app.route("/b")
    def b():
        fw.abort(400)

    return app


@S("bad-request-key-error-handler", R("/"))
def _(fw):
    app = fw.Flask(__name__)

    @app.errorhandler(KeyError)
    def ke(e):
        return f"keyerror handler {type(e).__name__} {e.code}", 400

    @app.route("/")
    def index():
        return fw.request.args["missing"]

    return app


@S("http-exception-in-before-request", R("/"))
def _(fw):
    app = fw.Flask(__name__)

    @app.before_request
    def guard():
        fw.abort(401)

    @app.errorhandler(401)
    def unauth(e):
        return "please log in", 401, {"WWW-Authenticate": "Basic"}

    @app.route("/")
    def index():
        return "never"

    return app


@S("exception-in-after-request", R("/"), logs=True)
def _(fw):
    app = fw.Flask(__name__)

    @app.after_request
    def after(r):
        raise RuntimeError("after broke")

    @app.route("/")
    def index():
        return "x"

    return app


@S("http-exception-code-none", R("/"), exc_message="type")
def _(fw):
    class Odd(fw.exceptions.HTTPException):
        pass

    app = fw.Flask(__name__)
    app.testing = True

    @app.errorhandler(Odd)
    def odd(e):
        return "odd handled", 200

    @app.route("/")
    def index():
        raise Odd()

    return app


@S("error-handler-exception-custom-response-attr", R("/"))
def _(fw):
    app = fw.Flask(__name__)

    @app.route("/")
    def index():
        raise fw.exceptions.Conflict(response=fw.Response("conflict body", 409))

    return app


@pytest.mark.parametrize(("scenario", "iface"), S.params())
def test_compat(scenario, iface):
    check(scenario, iface)
