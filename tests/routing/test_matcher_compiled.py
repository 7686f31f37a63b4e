"""The compiled matcher and the tree walker must agree on every input."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from erlen.routing import Map
from erlen.routing import Rule
from erlen.routing.matcher import SlashRequired

from .test_routing_differential import request_path
from .test_routing_differential import rule_specs


def both(matcher, domain, path, method="GET", websocket=False):
    """Return (compiled result, interpreted result) as comparable values."""
    segs = [domain, *path.split("/")]
    find = matcher._find or matcher._compile()
    results = []
    for run in (
        lambda: find(segs, len(segs), method, websocket),
        lambda: matcher.interpret(segs, method, websocket),
    ):
        try:
            rv = run()
        except SlashRequired:
            results.append("slash")
        else:
            results.append(None if rv is None else (rv[0].endpoint, rv[1]))
    return results


@given(
    rule_specs(),
    st.lists(request_path, min_size=1, max_size=8),
    st.sampled_from(["GET", "POST"]),
    st.booleans(),
)
def test_compiled_and_interpreted_agree(specs, paths, method, websocket):
    try:
        m = Map([Rule(s, **kw) for s, kw in specs])
    except ValueError:
        return
    m.update()
    for path in paths + [s for s, _ in specs]:
        compiled, interpreted = both(m._matcher, "", path, method, websocket)
        assert compiled == interpreted, path


def test_wide_fanout_uses_dispatch_table():
    rules = [Rule(f"/r{i}/<int:id>", endpoint=f"r{i}") for i in range(50)]
    m = Map(rules)
    a = m.bind("h")
    assert a.match("/r49/7") == ("r49", {"id": 7})
    assert ".get(s2)" in m._matcher_source
    assert both(m._matcher, "", "/r12/3") == [("r12", {"id": 3})] * 2
    assert both(m._matcher, "", "/r12/x") == [None, None]


def test_deep_rules_are_split_into_functions():
    deep = "/" + "/".join(f"<int:v{i}>" for i in range(40))
    wide = "/" + "/".join(f"s{i}" for i in range(60)) + "/<x>"
    m = Map([Rule(deep, endpoint="deep"), Rule(wide, endpoint="wide")])
    a = m.bind("h")
    path = "/" + "/".join(str(i) for i in range(40))
    assert a.match(path) == ("deep", {f"v{i}": i for i in range(40)})
    wide_path = "/" + "/".join(f"s{i}" for i in range(60)) + "/end"
    assert a.match(wide_path) == ("wide", {"x": "end"})
    assert both(m._matcher, "", path)[0] == both(m._matcher, "", path)[1]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/f/a/b/", ("files", {"p": "a/b"})),
        ("/f/a/b", "slash"),
        ("/g/a/b", ("lax", {"p": "a/b"})),
        ("/g/a/b/", ("lax", {"p": "a/b"})),
        ("/h/a/x/5", ("mid", {"p": "a", "n": 5})),
        ("/k/", ("k", {})),
        ("/k", "slash"),
        ("/m/z/", ("m", {"v": "z"})),
    ],
)
def test_agreement_on_slash_handling(path, expected):
    m = Map(
        [
            Rule("/f/<path:p>/", endpoint="files"),
            Rule("/g/<path:p>/", endpoint="lax", strict_slashes=False),
            Rule("/h/<path:p>/x/<int:n>", endpoint="mid"),
            Rule("/k/", endpoint="k"),
            Rule("/m/<v>/", endpoint="m", strict_slashes=False, defaults={}),
        ]
    )
    m.update()
    assert both(m._matcher, "", path) == [expected, expected]


def test_interpreter_collects_method_and_websocket_misses():
    from erlen.routing.matcher import _Info

    m = Map(
        [
            Rule("/a/<x>", endpoint="a", methods=["POST"]),
            Rule("/a/<x>", endpoint="w", websocket=True),
            Rule("/b/", endpoint="b", strict_slashes=False, methods=["PUT"]),
            Rule("/c/<int(max=3):n>", endpoint="c", defaults={"d": 1}),
            Rule("/e/<int(max=3):n>/", endpoint="e", strict_slashes=False),
        ]
    )
    m.update()
    info = _Info()
    assert m._matcher.interpret(["", "", "a", "q"], "GET", False, info) is None
    assert info.have_match_for == {"POST"}
    assert info.websocket_mismatch is True
    info = _Info()
    assert m._matcher.interpret(["", "", "b"], "GET", False, info) is None
    assert m._matcher.interpret(["", "", "b", ""], "GET", False, info) is None
    assert info.have_match_for == {"PUT"}
    rule, args = m._matcher.interpret(["", "", "c", "2"], "GET", False)
    assert args == {"n": 2, "d": 1}
    assert m._matcher.interpret(["", "", "c", "5"], "GET", False) is None
    # A lenient trailing-slash rule whose converter refuses the value.
    assert m._matcher.interpret(["", "", "e", "5"], "GET", False) is None
    assert m._matcher.interpret(["", "", "e", "2"], "GET", False)[1] == {"n": 2}


def test_compile_is_lazy_thread_safe_and_cached():
    m = Map([Rule("/a/<x>", endpoint="a")])
    assert m._matcher_source is None
    a = m.bind("h")
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(a.match("/a/1")))
        for _ in range(4)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results == [("a", {"x": "1"})] * 4
    find = m._matcher._find
    assert m._matcher._compile() is find
    assert "def _find(segs, n, method, websocket):" in m._matcher_source


def test_static_rule_shares_state_with_method_variants():
    m = Map(
        [
            Rule("/x", endpoint="get", methods=["GET"]),
            Rule("/x", endpoint="post", methods=["POST"]),
            Rule("/<v>", endpoint="any"),
        ]
    )
    a = m.bind("h")
    assert a.match("/x", "POST") == ("post", {})
    assert a.match("/x", "PUT") == ("any", {"v": "x"})
