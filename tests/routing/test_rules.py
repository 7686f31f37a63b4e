"""Tests for erlen.routing.rules: parsing, factories, rule attributes."""

from __future__ import annotations

import pytest

from erlen.routing import EndpointPrefix
from erlen.routing import Map
from erlen.routing import Rule
from erlen.routing import RuleFactory
from erlen.routing import RuleTemplate
from erlen.routing import Subdomain
from erlen.routing import Submount
from erlen.routing.rules import encode_query
from erlen.routing.rules import parse_converter_args


@pytest.mark.parametrize(
    ("text", "args", "kwargs"),
    [
        ("", (), {}),
        ("1, 2.5, 3.", (1, 2.5, 3.0), {}),
        ("a, 'b c', \"d,e\", u'f'", ("a", "b c", "d,e", "f"), {}),
        ("True, False, None", (True, False, None), {}),
        ("x = 1 , y='2'", (), {"x": 1, "y": "2"}),
        ("'True', 1_0", ("True", 10), {}),
        ("  ", (), {}),
    ],
)
def test_parse_converter_args(text, args, kwargs):
    assert parse_converter_args(text) == (args, kwargs)


def test_parse_converter_args_rejects_garbage():
    with pytest.raises(ValueError, match="Cannot parse converter argument"):
        parse_converter_args("a, #, b")
    with pytest.raises(ValueError, match="argument ' #,' in 'a, #'"):
        parse_converter_args("a, #")


def test_rule_attributes():
    r = Rule("/a/<int:b>", endpoint="e", methods=["get", "post"], defaults={"c": 1})
    assert r.methods == {"GET", "HEAD", "POST"}
    assert r.arguments == {"c"}
    assert r.is_leaf
    assert not r.is_branch
    assert repr(r) == "<Rule (unbound)>"
    assert str(r) == "/a/<int:b>"
    m = Map([r])
    assert r.map is m
    assert r.arguments == {"b", "c"}
    assert r.strict_slashes is True
    assert r.merge_slashes is True
    assert r.subdomain == ""
    assert repr(r).startswith("<Rule '/a/<b>' (")
    assert repr(r).endswith(") -> e>")
    assert repr(Map([Rule("/x", endpoint="x", subdomain="s")])) == (
        "Map([<Rule 's|/x' -> x>])"
    )


def test_rule_accepts_extra_attributes_and_subclassing():
    class MyRule(Rule):
        def __init__(self, string, flag=False, **kwargs):
            super().__init__(string, **kwargs)
            self.flag = flag

        def get_empty_kwargs(self):
            return {**super().get_empty_kwargs(), "flag": self.flag}

    r = MyRule("/x", endpoint="x", flag=True)
    r.provide_automatic_options = False
    copy = r.empty()
    assert type(copy) is MyRule
    assert copy.flag is True
    assert copy == r
    assert copy is not r
    m = Map([r])
    assert m.bind("h").match("/x", return_rule=True)[0] is r


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        (("x",), {}, ValueError, "must be a string starting with a slash"),
        ((b"/x",), {}, ValueError, "got a bytes"),
        (("/x",), {"methods": "GET"}, TypeError, "should be a list of strings"),
        (("/x",), {"methods": ["POST"], "websocket": True}, ValueError, "WebSocket"),
    ],
)
def test_rule_constructor_errors(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        Rule(*args, **kwargs)


@pytest.mark.parametrize(
    ("rule", "exc", "match"),
    [
        ("/<a>/<a>", ValueError, "more than once"),
        ("/<1x>", ValueError, "Malformed URL rule"),
        ("/<nope:x>", LookupError, "does not exist"),
        ("/<int(#):x>", ValueError, "Cannot parse"),
    ],
)
def test_rule_parse_errors(rule, exc, match):
    with pytest.raises(exc, match=match):
        Map([Rule(rule, endpoint="e")])


def test_rule_bind_twice_and_unbound_compile():
    r = Rule("/x", endpoint="x")
    with pytest.raises(RuntimeError, match="not bound"):
        r.compile()
    Map([r])
    with pytest.raises(RuntimeError, match="already bound"):
        Map([r])
    r.rule = "/y"
    r.refresh()
    assert r._trace[-1] == (False, "y")


def test_rule_equality_is_by_structure():
    a, b = Rule("/x/<int:a>", endpoint="1"), Rule("/x/<int:a>", endpoint="2")
    Map([a, b])
    assert a == b
    assert a != Rule("/x/<a>", endpoint="3")
    with pytest.raises(TypeError):
        hash(a)


def test_suitable_for_and_provides_defaults():
    default = Rule("/all/", defaults={"page": 1}, endpoint="all")
    paged = Rule("/all/<int:page>", endpoint="all")
    Map([default, paged])
    assert default.provides_defaults_for(paged)
    assert not paged.provides_defaults_for(default)
    assert default.suitable_for({})
    assert default.suitable_for({"page": 1})
    assert not default.suitable_for({"page": 2})
    assert not paged.suitable_for({})
    assert paged.suitable_for({"page": 3}, "GET")
    post = Rule("/p", endpoint="p", methods=["POST"])
    Map([post])
    assert not post.suitable_for({}, "GET")
    assert post.suitable_for({}, "POST")
    assert default.build_compare_key() == (0, -1, -1)


def test_rule_build_direct():
    r = Rule("/a/<x>", endpoint="a")
    Map([r])
    assert r.build({"x": "1", "q": 2}) == ("", "/a/1?q=2")
    assert r.build({"x": "1", "q": 2}, append_unknown=False) == ("", "/a/1")
    assert r.build({"x": "1", "q": None}) == ("", "/a/1")
    with pytest.raises(TypeError, match="the value for 'x' is missing"):
        r.build({})


def test_rule_factories():
    m = Map(
        [
            EndpointPrefix(
                "blog/",
                [
                    Submount(
                        "/blog/",
                        [Rule("/", endpoint="index"), Rule("/<slug>", endpoint="show")],
                    )
                ],
            ),
            Subdomain("<lang>", [Rule("/", endpoint="lang_index")]),
        ]
    )
    rules = {r.endpoint: r for r in m.iter_rules()}
    assert rules["blog/index"].rule == "/blog/"
    assert rules["blog/show"].rule == "/blog/<slug>"
    assert rules["lang_index"].subdomain == "<lang>"
    with pytest.raises(NotImplementedError):
        RuleFactory().get_rules(m)


def test_rule_template():
    resource = RuleTemplate(
        [
            Rule("/$name/", endpoint="$name.list", defaults={"k": "$name", "n": 1}),
            Rule("/$name/<int:id>", endpoint="$name.show", subdomain="$sub"),
            Rule("/$name/x", endpoint=None),
        ]
    )
    m = Map([resource(name="user", sub="api")])
    rules = list(m.iter_rules())
    assert [r.rule for r in rules] == ["/user/", "/user/<int:id>", "/user/x"]
    assert rules[0].endpoint == "user.list"
    assert rules[0].defaults == {"k": "user", "n": 1}
    assert rules[1].subdomain == "api"


def test_encode_query():
    assert encode_query({"b": [1, 2], "a": "x y", "n": None}) == "b=1&b=2&a=x+y"
    assert encode_query([("b", 1), ("a", 2)], sort=True) == "a=2&b=1"
    assert encode_query({"k": "/:@?"}) == "k=/:@?"


def test_rule_part_repr_and_equality():
    r = Rule("/a/<int:x>", endpoint="e")
    Map([r])
    part = r._parts[-1]
    assert repr(part).startswith("RulePart(")
    assert part == r._parts[-1]
    assert part != "x"


def test_request_alias_redirect_attributes():
    from erlen.routing import RequestAliasRedirect
    from erlen.routing import RoutingException

    e = RequestAliasRedirect({"a": 1}, "ep")
    assert (e.matched_values, e.endpoint) == ({"a": 1}, "ep")
    assert isinstance(e, RoutingException)
