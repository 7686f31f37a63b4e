"""JSON responses and request bodies on Flask and on erlen."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import uuid

import pytest
from markupsafe import Markup

from .harness import check
from .harness import Do
from .harness import R
from .harness import Registry

S = Registry()


@dataclasses.dataclass
class Point:
    x: int
    y: list[int]


class Html:
    def __html__(self):
        return "<b>html</b>"


VALUES = {
    "sorted-keys": lambda: {"b": 1, "a": {"d": 2, "c": 3}},
    "unicode": lambda: {"s": "é\u2028</script>"},
    "date": lambda: {"d": datetime.date(2024, 2, 29)},
    "datetime-aware": lambda: {
        "d": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    },
    "datetime-naive": lambda: {"d": datetime.datetime(2024, 1, 2, 3, 4, 5)},
    "decimal": lambda: {"d": decimal.Decimal("1.10")},
    "uuid": lambda: {"u": uuid.UUID(int=1)},
    "dataclass": lambda: {"p": Point(1, [2, 3])},
    "html": lambda: {"h": Html(), "m": Markup("<i>m</i>")},
    "floats": lambda: [1.5, 1e100, -0.0, 10**20],
    "scalars": lambda: [None, True, False, "", 0],
    "tuple-nested": lambda: {"t": (1, (2, 3))},
}


def _json_app(make, debug=False):
    def build(fw):
        app = fw.Flask(__name__)
        app.debug = debug

        @app.route("/jsonify")
        @fw.coro
        def j():
            return fw.jsonify(make())

        @app.route("/return")
        @fw.coro
        def r():
            v = make()
            return v if isinstance(v, (dict, list)) else fw.jsonify(v)

        @app.route("/dumps")
        @fw.coro
        def d():
            return fw.json.dumps(make())

        return app

    return build


for _name, _make in VALUES.items():
    S.add(
        f"json-{_name}",
        _json_app(_make),
        R("/jsonify"),
        R("/return"),
        R("/dumps"),
        aio=True,
    )

S.add(
    "json-debug-pretty",
    _json_app(VALUES["sorted-keys"], debug=True),
    R("/jsonify"),
    R("/dumps"),
)


@S("json-unserializable", R("/"), exc_message="type")
def _(fw):
    app = fw.Flask(__name__)
    app.testing = True

    @app.route("/")
    def index():
        return fw.jsonify(x=object())

    return app


@S(
    "jsonify-args",
    R("/none"),
    R("/one"),
    R("/many"),
    R("/kw"),
    R("/both"),
    exc_message="type",
)
def _(fw):
    app = fw.Flask(__name__)
    app.testing = True
    app.add_url_rule("/none", "none", lambda: fw.jsonify())
    app.add_url_rule("/one", "one", lambda: fw.jsonify("x"))
    app.add_url_rule("/many", "many", lambda: fw.jsonify(1, "2", None))
    app.add_url_rule("/kw", "kw", lambda: fw.jsonify(a=1, b=[2]))
    app.add_url_rule("/both", "both", lambda: fw.jsonify(1, a=2))
    return app


@S("json-provider-settings", R("/"), R("/compact"))
def _(fw):
    app = fw.Flask(__name__)
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.json.mimetype = "application/vnd.api+json"

    @app.route("/")
    def index():
        return {"z": "é", "a": 1}

    @app.route("/compact")
    def compact():
        app.json.compact = False
        return fw.jsonify(z=1, a=[1, 2])

    return app


# NOTE: Flask's test client encodes ``json=`` with app.json (the custom
# dumps); send the body raw so both clients send the same bytes.
@S(
    "json-custom-provider",
    R("/"),
    R("/in", "POST", data='{"a": 1}', content_type="application/json"),
)
def _(fw):
    class Provider(fw.json_provider.DefaultJSONProvider):
        def dumps(self, obj, **kwargs):
            return "custom:" + super().dumps(obj, **kwargs)

        def loads(self, s, **kwargs):
            fw.log("custom loads")
            return {"loaded": super().loads(s, **kwargs)}

        @staticmethod
        def default(o):
            if isinstance(o, set):
                return sorted(o)
            raise TypeError(type(o).__name__)

    class App(fw.Flask):
        json_provider_class = Provider

    app = App(__name__)

    @app.route("/")
    def index():
        return {"s": {3, 1, 2}}

    @app.route("/in", methods=["POST"])
    def inp():
        return fw.jsonify(fw.request.get_json())

    return app


@S(
    "json-request-bodies",
    R("/", "POST", json={"a": [1, 2]}),
    R("/", "POST", data="[1,", content_type="application/json"),
    R("/", "POST", data="x=1", content_type="application/x-www-form-urlencoded"),
    R("/", "POST", data='{"a":1}', content_type="application/vnd.x+json"),
    R("/", "POST", data='{"a":1}', content_type="text/plain"),
    R("/", "POST", data="", content_type="application/json"),
    R("/silent", "POST", data="[1,", content_type="application/json"),
    R("/force", "POST", data='{"f":1}', content_type="text/plain"),
    R("/silent", "POST", data='{"a":1}', content_type="text/plain"),
)
def _(fw):
    app = fw.Flask(__name__)

    @app.route("/", methods=["POST"])
    def index():
        return fw.jsonify(
            is_json=fw.request.is_json,
            mimetype=fw.request.mimetype,
            json=fw.request.json,
        )

    # NOTE: erlen's 415/400 descriptions name the received type (its own
    # wording); compare the error class and code.
    @app.errorhandler(fw.exceptions.HTTPException)
    def err(e):
        return f"{type(e).__name__} {e.code}", e.code

    @app.route("/silent", methods=["POST"])
    def silent():
        return fw.jsonify(v=fw.request.get_json(silent=True))

    @app.route("/force", methods=["POST"])
    def force():
        return fw.jsonify(v=fw.request.get_json(force=True))

    return app


@S(
    "json-module-outside-app",
    Do(lambda app, fw: fw.json.dumps({"b": 1, "a": datetime.date(2020, 1, 1)})),
    Do(lambda app, fw: fw.json.loads('{"a": [1]}')),
    Do(lambda app, fw: _in_app(app, fw)),
)
def _(fw):
    app = fw.Flask(__name__)
    app.json.sort_keys = False
    return app


def _in_app(app, fw):
    with app.app_context():
        return fw.json.dumps({"b": 1, "a": 2})


@pytest.mark.parametrize(("scenario", "iface"), S.params())
def test_compat(scenario, iface):
    check(scenario, iface)
