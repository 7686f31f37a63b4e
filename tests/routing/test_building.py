"""Tests for URL building with MapAdapter.build and BuildError."""

from __future__ import annotations

import pytest

from erlen.datastructures import MultiDict
from erlen.routing import BuildError
from erlen.routing import Map
from erlen.routing import Rule


@pytest.fixture
def a():
    m = Map(
        [
            Rule("/", endpoint="index"),
            Rule("/user/<int:id>", endpoint="user"),
            Rule("/p", endpoint="p", methods=["POST"]),
            Rule("/g", endpoint="p", methods=["GET"]),
            Rule("/ws", endpoint="ws", websocket=True),
            Rule("/sub", endpoint="sub", subdomain="api"),
        ]
    )
    return m.bind("example.com", "/app")


def test_build_relative_and_external(a):
    assert a.build("index") == "/app/"
    assert a.build("user", {"id": 3}) == "/app/user/3"
    assert a.build("user", {"id": 3}, force_external=True) == (
        "http://example.com/app/user/3"
    )
    assert a.build("user", {"id": 3}, force_external=True, url_scheme="https") == (
        "https://example.com/app/user/3"
    )
    assert a.build("sub") == "http://api.example.com/app/sub"


def test_build_query_string(a):
    assert a.build("index", {"q": "a b", "n": None}) == "/app/?q=a+b"
    assert a.build("index", {"q": 1}, append_unknown=False) == "/app/"
    md = MultiDict([("t", "1"), ("t", "2"), ("u", "x")])
    assert a.build("index", md) == "/app/?t=1&t=2&u=x"


def test_build_sorted_parameters():
    m = Map([Rule("/", endpoint="i")], sort_parameters=True)
    assert m.bind("h").build("i", {"b": 1, "a": 2}) == "/?a=2&b=1"


def test_build_method_selection(a):
    assert a.build("p") == "/app/g"
    assert a.build("p", method="POST") == "/app/p"
    with pytest.raises(BuildError) as e:
        a.build("p", method="PUT")
    assert "Did you mean to use methods" in str(e.value)


def test_build_websocket_scheme(a):
    assert a.build("ws") == "ws://example.com/app/ws"
    wss = Map([Rule("/ws", endpoint="ws", websocket=True), Rule("/h", endpoint="h")])
    adapter = wss.bind("example.com", url_scheme="wss")
    assert adapter.build("ws") == "wss://example.com/ws"
    assert adapter.build("h", force_external=True) == "https://example.com/h"


def test_build_without_scheme_is_protocol_relative():
    adapter = Map([Rule("/h", endpoint="h")]).bind("example.com", url_scheme="")
    assert adapter.build("h", force_external=True) == "//example.com/h"


def test_build_error_messages(a):
    with pytest.raises(BuildError) as e:
        a.build("usr", {"id": 1})
    assert str(e.value) == (
        "Could not build url for endpoint 'usr' with values ['id']."
        " Did you mean 'user' instead?"
    )
    with pytest.raises(BuildError) as e:
        a.build("user")
    assert "Did you forget to specify values ['id']?" in str(e.value)
    assert e.value.suggested.endpoint == "user"
    assert isinstance(e.value, LookupError)


def test_build_error_without_adapter_or_rules():
    assert BuildError("x", {}, None).suggested is None
    empty = Map().bind("h")
    with pytest.raises(BuildError) as e:
        empty.build("x")
    assert str(e.value) == "Could not build url for endpoint 'x'."


def test_build_error_same_endpoint_nothing_missing():
    m = Map([Rule("/a", endpoint="a", methods=["POST"])])
    with pytest.raises(BuildError) as e:
        m.bind("h").build("a", method="GET")
    assert str(e.value) == (
        "Could not build url for endpoint 'a' ('GET')."
        " Did you mean to use methods ['POST']?"
    )


def test_build_host_matching_prefers_current_host():
    m = Map(
        [
            Rule("/", endpoint="i", host="a.example.com"),
            Rule("/", endpoint="i", host="b.example.com"),
        ],
        host_matching=True,
    )
    assert m.bind("b.example.com").build("i") == "/"
    assert m.bind("c.example.com").build("i") == "http://a.example.com/"
    assert m.bind("a.example.com").get_host(None) == "a.example.com"


def test_build_any_rejects_unknown_value():
    m = Map([Rule("/<any(a, b):x>", endpoint="e")])
    with pytest.raises(ValueError, match="is not one of"):
        m.bind("h").build("e", {"x": "c"})


def test_build_defaults_in_rule_are_constants():
    m = Map([Rule("/<int:page>", endpoint="e", defaults={"page": 1})])
    assert m.bind("h").build("e") == "/1"


def test_encode_query_args_and_redirect_url():
    adapter = Map().bind("example.com", "/app/")
    assert adapter.encode_query_args("a=1") == "a=1"
    assert adapter.encode_query_args({"a": [1, 2]}) == "a=1&a=2"
    assert adapter.make_redirect_url("/x", {"q": "1"}) == "http://example.com/app/x?q=1"
    assert adapter.make_redirect_url("x") == "http://example.com/app/x"
