from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import gc
import io
import json
import uuid

import flask.json.provider as flask_provider
import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup
from werkzeug.http import http_date as wz_http_date

from erlen.json.provider import _http_date
from erlen.json.provider import DefaultJSONProvider
from erlen.json.provider import JSONProvider


class FakeApp:
    def __init__(self, debug=False):
        self.debug = debug

    def response_class(self, body, mimetype=None):
        return (body, mimetype)


@dataclasses.dataclass
class Point:
    x: int
    y: list[int]
    when: dt.date


class HTMLish:
    def __html__(self):
        return "<b>hi</b>"


def outcome(fn):
    try:
        return ("ok", fn())
    except Exception as e:
        return ("raise", type(e))


def pair(debug=False, **attrs):
    """Return an erlen and a Flask DefaultJSONProvider sharing one fake app."""
    app = FakeApp(debug)
    ours = DefaultJSONProvider(app)
    theirs = flask_provider.DefaultJSONProvider(app)
    for name, value in attrs.items():
        setattr(ours, name, value)
        setattr(theirs, name, value)
    return app, ours, theirs


UTC = dt.UTC
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
HST = dt.timezone(dt.timedelta(hours=-10))

EDGE_VALUES = [
    None,
    True,
    0,
    -1.5,
    "plain",
    "ünïcödé ☃ \U0001f600",
    "</script>",
    [],
    {},
    {"b": 1, "a": [1, 2, {"d": None, "c": "x"}]},
    (1, 2),
    dt.datetime(2024, 2, 29, 23, 59, 59, 999999),
    dt.datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC),
    dt.datetime(2024, 3, 1, 1, 0, tzinfo=IST),
    dt.datetime(2024, 12, 31, 20, 0, tzinfo=HST),
    dt.datetime(1, 1, 1, 0, 0),
    dt.datetime(999, 12, 31, 23, 59, 59),
    dt.date(2000, 1, 1),
    dt.date(9, 3, 4),
    decimal.Decimal("1.10"),
    decimal.Decimal("-0"),
    decimal.Decimal("NaN"),
    decimal.Decimal("1E+3"),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    Point(1, [2, 3], dt.date(2020, 5, 17)),
    Markup("<em>&amp;</em>"),
    HTMLish(),
    {"nested": [Point(0, [], dt.date(1970, 1, 1)), uuid.UUID(int=0)]},
]


@pytest.mark.parametrize("value", EDGE_VALUES, ids=repr)
def test_dumps_matches_flask(value):
    _, ours, theirs = pair()
    assert ours.dumps(value) == theirs.dumps(value)


@pytest.mark.parametrize("value", EDGE_VALUES, ids=repr)
@pytest.mark.parametrize("ensure_ascii", [True, False])
@pytest.mark.parametrize("sort_keys", [True, False])
def test_dumps_attributes_match_flask(value, ensure_ascii, sort_keys):
    _, ours, theirs = pair(ensure_ascii=ensure_ascii, sort_keys=sort_keys)
    assert ours.dumps(value) == theirs.dumps(value)
    assert ours.dumps(value, indent=1) == theirs.dumps(value, indent=1)


def test_dumps_kwargs_override_attributes():
    app, ours, _ = pair()
    assert ours.dumps({"b": "é", "a": 1}, sort_keys=False, ensure_ascii=False) == (
        '{"b": "é", "a": 1}'
    )
    assert ours.dumps(dt.date(2020, 1, 2), default=lambda o: "custom") == '"custom"'


def test_default_is_a_staticmethod_usable_on_class_and_instance():
    app, ours, _ = pair()
    assert DefaultJSONProvider.default(decimal.Decimal("2.5")) == "2.5"
    assert ours.default(uuid.UUID(int=1)) == "00000000-0000-0000-0000-000000000001"
    assert ours.default(Point(1, [], dt.date(2001, 2, 3))) == {
        "x": 1,
        "y": [],
        "when": dt.date(2001, 2, 3),
    }
    assert ours.default(HTMLish()) == "<b>hi</b>"


@pytest.mark.parametrize("value", [object(), {1, 2}, b"bytes", Point, 1j])
def test_default_rejects_unknown_types(value):
    _, ours, theirs = pair()
    with pytest.raises(TypeError, match=f"type {type(value).__name__} is not JSON"):
        ours.dumps(value)
    with pytest.raises(TypeError):
        theirs.dumps(value)


def test_unsortable_keys_raise_type_error_like_flask():
    _, ours, theirs = pair()
    assert outcome(lambda: ours.dumps({1: 2, "a": 3})) == outcome(
        lambda: theirs.dumps({1: 2, "a": 3})
    )


_timezones = st.sampled_from([None, UTC, IST, HST, dt.timezone(dt.timedelta(0))])
_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.datetimes(timezones=_timezones),
    st.dates(),
    st.decimals(allow_nan=False),
    st.uuids(),
    st.builds(Markup, st.text(max_size=5)),
)
_values = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=4), inner, max_size=4),
    ),
    max_leaves=12,
)


@given(_values, st.booleans(), st.booleans())
def test_dumps_hypothesis(value, debug, compact_none):
    _, ours, theirs = pair(debug=debug)
    assert outcome(lambda: ours.dumps(value)) == outcome(lambda: theirs.dumps(value))
    if not compact_none:
        ours.compact = theirs.compact = debug
    assert outcome(lambda: ours.response(value)) == outcome(
        lambda: theirs.response(value)
    )


@given(st.datetimes(timezones=_timezones) | st.dates())
def test_http_date_matches_werkzeug(value):
    assert outcome(lambda: _http_date(value)) == outcome(lambda: wz_http_date(value))


def test_http_date_known_values():
    assert _http_date(dt.datetime(1994, 11, 6, 8, 49, 37)) == (
        "Sun, 06 Nov 1994 08:49:37 GMT"
    )
    assert _http_date(dt.datetime(1994, 11, 6, 14, 19, 37, tzinfo=IST)) == (
        "Sun, 06 Nov 1994 08:49:37 GMT"
    )
    assert _http_date(dt.date(1994, 11, 6)) == "Sun, 06 Nov 1994 00:00:00 GMT"


def test_loads_and_load():
    app, ours, _ = pair()
    assert ours.loads('{"a": [1, 2.5]}') == {"a": [1, 2.5]}
    assert ours.loads(b'"\xc3\xa9"') == "é"
    assert ours.loads("1.1", parse_float=decimal.Decimal) == decimal.Decimal("1.1")
    assert ours.load(io.StringIO("[true]")) == [True]
    assert ours.load(io.BytesIO(b"null")) is None
    with pytest.raises(json.JSONDecodeError):
        ours.loads("{")


def _loads_outcome(loads, doc):
    try:
        return ("ok", repr(loads(doc)))
    except (ValueError, UnicodeError) as e:
        return (type(e), str(e))


LOADS_BYTES = [
    b"",
    b"1",
    b"12",
    b"[1]",
    b'{"a": "\xc3\xa9"}',
    b"\xef\xbb\xbf[1]",
    b"\xff\xfe[\x00]\x00",
    b"\xfe\xff\x00[\x00]",
    b"[\x00]\x00",
    b"\x00[\x00]",
    b"[\x001",
    b"1\x00",
    b"\x00\x00\x00[",
    b'"\xed\xa0\x80"',
    b'"\xff"',
    b"{",
    b"[1] x",
    '"\u00e9"'.encode("utf-16"),
    "[1]".encode("utf-32-le"),
    "[1]".encode("utf-16-be"),
]


@pytest.mark.parametrize("doc", LOADS_BYTES)
def test_loads_bytes_like_json(doc):
    app, ours, _ = pair()
    assert _loads_outcome(ours.loads, doc) == _loads_outcome(json.loads, doc)
    assert _loads_outcome(ours.loads, bytearray(doc)) == _loads_outcome(
        json.loads, bytearray(doc)
    )


@given(st.binary(max_size=8))
def test_loads_generated_bytes_like_json(doc):
    app, ours, _ = pair()
    assert _loads_outcome(ours.loads, doc) == _loads_outcome(json.loads, doc)


def test_dump_writes_to_file():
    app, ours, _ = pair()
    fp = io.StringIO()
    ours.dump({"b": 1, "a": dt.date(2020, 1, 1)}, fp, separators=(",", ":"))
    assert fp.getvalue() == '{"a":"Wed, 01 Jan 2020 00:00:00 GMT","b":1}'


# -- response --------------------------------------------------------------------

RESPONSE_CALLS = [
    ((), {}),
    ((1,), {}),
    (([1, 2],), {}),
    ((1, "two", None), {}),
    ((), {"b": 1, "a": [1, {"y": 2, "x": 3}]}),
    (({"k": "ü"},), {}),
]


@pytest.mark.parametrize(("args", "kwargs"), RESPONSE_CALLS)
@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("compact", [None, True, False])
def test_response_matches_flask(args, kwargs, debug, compact):
    _, ours, theirs = pair(debug=debug, compact=compact)
    assert ours.response(*args, **kwargs) == theirs.response(*args, **kwargs)


def test_response_shapes():
    app, ours, _ = pair()
    assert ours.response() == ("null\n", "application/json")
    assert ours.response(1, 2) == ("[1,2]\n", "application/json")
    assert ours.response(a=1) == ('{"a":1}\n', "application/json")
    app, ours, _ = pair(debug=True)
    assert ours.response(b=[1], a=1) == (
        '{\n  "a": 1,\n  "b": [\n    1\n  ]\n}\n',
        "application/json",
    )
    ours.compact = True
    assert ours.response(b=[1]) == ('{"b":[1]}\n', "application/json")


def test_response_mimetype_attribute():
    _, ours, theirs = pair(mimetype="application/vnd.api+json")
    assert ours.response(1) == theirs.response(1) == ("1\n", "application/vnd.api+json")


def test_response_rejects_args_and_kwargs():
    _, ours, theirs = pair()
    with pytest.raises(TypeError, match="either positional or keyword arguments"):
        ours.response(1, a=2)
    with pytest.raises(TypeError):
        theirs.response(1, a=2)


def test_prepare_response_obj_matches_flask():
    _, ours, theirs = pair()
    for args, kwargs in RESPONSE_CALLS:
        assert ours._prepare_response_obj(args, kwargs) == (
            theirs._prepare_response_obj(args, kwargs)
        )
    assert ours._prepare_response_obj((1, 2), {}) == (1, 2)


# -- base class and the app reference ----------------------------------------------


class UpperProvider(JSONProvider):
    def dumps(self, obj, **kwargs):
        return json.dumps(obj, **kwargs).upper()

    def loads(self, s, **kwargs):
        return json.loads(s.lower() if isinstance(s, str) else s, **kwargs)


def test_base_provider_requires_dumps_and_loads():
    provider = JSONProvider(FakeApp())
    with pytest.raises(NotImplementedError):
        provider.dumps(1)
    with pytest.raises(NotImplementedError):
        provider.loads("1")
    with pytest.raises(NotImplementedError):
        provider.dump(1, io.StringIO())
    with pytest.raises(NotImplementedError):
        provider.load(io.StringIO("1"))


def test_base_provider_builds_on_dumps_and_loads():
    app = FakeApp(debug=True)
    provider = UpperProvider(app)
    fp = io.StringIO()
    provider.dump(["a"], fp)
    assert fp.getvalue() == '["A"]'
    assert provider.load(io.StringIO('"ABC"')) == "abc"
    # The base response ignores debug and always uses application/json.
    assert provider.response(x="y") == ('{"X": "Y"}', "application/json")

    class FlaskUpper(flask_provider.JSONProvider):
        dumps = UpperProvider.dumps

    assert FlaskUpper(app).response(x="y") == provider.response(x="y")


def test_provider_holds_only_a_weak_reference():
    app = FakeApp()
    provider = DefaultJSONProvider(app)
    assert provider._app.debug is False
    del app
    gc.collect()
    with pytest.raises(ReferenceError):
        provider.response(1)


@pytest.mark.parametrize("ensure_ascii", [True, False])
@pytest.mark.parametrize("sort_keys", [True, False])
def test_encoder_matches_json_dumps(ensure_ascii, sort_keys):
    app = FakeApp()
    provider = DefaultJSONProvider(app)
    provider.ensure_ascii = ensure_ascii
    provider.sort_keys = sort_keys
    obj = {"b": [1, 2.5, None, True, "\u00e9\n"], "a": {"z": float("inf")}, "c": "x"}
    opts = {"ensure_ascii": ensure_ascii, "sort_keys": sort_keys}
    assert provider.dumps(obj) == json.dumps(obj, **opts)
    compact = json.dumps(obj, separators=(",", ":"), **opts)
    assert provider.response(obj) == (compact + "\n", "application/json")
    assert provider.dumps("\u00e9") == json.dumps("\u00e9", **opts)


def test_failed_encode_leaves_no_circular_marker():
    app = FakeApp()
    provider = DefaultJSONProvider(app)
    shared = [1]
    bad = [shared, object()]
    for _ in range(2):
        with pytest.raises(TypeError):
            provider.dumps(bad)
        # A marker left behind by the failed call would make this one fail.
        assert provider.dumps([shared, shared]) == "[[1], [1]]"
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular"):
        provider.dumps(loop)


def test_response_of_a_subclass_uses_its_dumps():
    class Custom(DefaultJSONProvider):
        def dumps(self, obj, **kwargs):
            return "custom"

    app = FakeApp()
    assert Custom(app).response(1) == ("custom\n", "application/json")


def test_cycles_and_deep_data_fail_as_json_dumps_does():
    app = FakeApp()
    provider = DefaultJSONProvider(app)
    # A cycle through default(): the shared encoder (no markers) recurses;
    # the retry with markers names the cycle, as json.dumps does.
    provider.default = lambda o: o  # type: ignore[method-assign]
    with pytest.raises(ValueError, match="Circular"):
        provider.dumps(object())
    with pytest.raises(ValueError, match="Circular"):
        json.dumps(object(), default=lambda o: o)
    loop: dict[str, object] = {}
    loop["self"] = loop
    with pytest.raises(ValueError, match="Circular"):
        provider.response(loop)
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(RecursionError):
        json.dumps(deep)
    with pytest.raises(RecursionError):
        provider.dumps(deep)
    # The shared encoder is still usable after the failures.
    assert provider.dumps({"b": [1], "a": None}) == '{"a": null, "b": [1]}'
    del provider.default
    assert provider.response(a=[1]) == ('{"a":[1]}\n', "application/json")


def test_response_of_a_subclass_uses_its_prepare_response_obj():
    class Wrapped(DefaultJSONProvider):
        def _prepare_response_obj(self, args, kwargs):
            return {"data": super()._prepare_response_obj(args, kwargs)}

    app = FakeApp()
    assert Wrapped(app).response(1) == ('{"data":1}\n', "application/json")
    assert Wrapped(app).response(a=1) == ('{"data":{"a":1}}\n', "application/json")
    assert Wrapped._plain_prepare is False
    assert Wrapped._plain_dumps is True
    assert DefaultJSONProvider._plain_prepare is True
