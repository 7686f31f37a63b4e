"""Tests for matching with erlen.routing.Map / MapAdapter."""

from __future__ import annotations

import pytest

from erlen.exceptions import BadHost
from erlen.exceptions import MethodNotAllowed
from erlen.exceptions import NotFound
from erlen.routing import BaseConverter
from erlen.routing import Map
from erlen.routing import RequestRedirect
from erlen.routing import Rule
from erlen.routing import ValidationError
from erlen.routing import WebsocketMismatch


def adapter(*rules, **kwargs):
    return Map(list(rules), **kwargs).bind("example.com")


def test_static_and_dynamic_priority():
    a = adapter(
        Rule("/<name>", endpoint="name"),
        Rule("/<int:n>", endpoint="int"),
        Rule("/me", endpoint="me"),
    )
    assert a.match("/me") == ("me", {})
    assert a.match("/5") == ("int", {"n": 5})
    assert a.match("/x") == ("name", {"name": "x"})


def test_method_not_allowed_and_head():
    a = adapter(Rule("/x", endpoint="x", methods=["GET"]), Rule("/y", endpoint="y"))
    assert a.match("/x", "head") == ("x", {})
    with pytest.raises(MethodNotAllowed) as e:
        a.match("/x", "POST")
    assert sorted(e.value.valid_methods) == ["GET", "HEAD"]
    assert sorted(a.allowed_methods("/x")) == ["GET", "HEAD"]
    assert a.allowed_methods("/y") == []
    assert a.allowed_methods("/nope") == []


def test_defaults_are_merged_into_view_args():
    a = adapter(
        Rule("/s", endpoint="s", defaults={"k": 1}),
        Rule("/d/<int:n>", endpoint="d", defaults={"k": 2}),
    )
    assert a.match("/s") == ("s", {"k": 1})
    assert a.match("/d/3") == ("d", {"n": 3, "k": 2})


def test_return_rule_and_path_info_defaults():
    r = Rule("/", endpoint="i")
    m = Map([r])
    a = m.bind("example.com", path_info="/")
    assert a.match(return_rule=True) == (r, {})


def test_empty_path_redirects_to_root():
    a = adapter(Rule("/", endpoint="i"))
    with pytest.raises(RequestRedirect) as e:
        a.match("")
    assert e.value.new_url == "http://example.com/"
    assert e.value.code == 308


def test_leading_slashes_are_normalised():
    a = adapter(Rule("/a", endpoint="a"))
    assert a.match("a") == ("a", {})
    assert a.match("/a") == ("a", {})
    assert a.match("//a") == ("a", {})
    with pytest.raises(NotFound):
        a.match("//a//")


def test_strict_slashes_redirect_keeps_query_and_script_name():
    m = Map([Rule("/d/", endpoint="d")])
    a = m.bind("example.com", "/app", query_args="x=1")
    with pytest.raises(RequestRedirect) as e:
        a.match("/d")
    assert e.value.new_url == "http://example.com/app/d/?x=1"
    with pytest.raises(RequestRedirect) as e:
        a.match("/d", query_args={"y": "a b"})
    assert e.value.new_url == "http://example.com/app/d/?y=a+b"


def test_merge_slashes_redirect_and_opt_out():
    a = adapter(
        Rule("/a/b", endpoint="ab"),
        Rule("/c/d", endpoint="cd", merge_slashes=False),
        Rule("/e/", endpoint="e"),
    )
    with pytest.raises(RequestRedirect) as e:
        a.match("/a//b")
    assert e.value.new_url == "http://example.com/a/b"
    with pytest.raises(NotFound):
        a.match("/c//d")
    with pytest.raises(RequestRedirect) as e:
        a.match("//e")
    assert e.value.new_url == "http://example.com/e/"
    off = adapter(Rule("/a/b", endpoint="ab"), merge_slashes=False)
    with pytest.raises(NotFound):
        off.match("/a//b")


def test_redirect_to_string_and_callable():
    def target(adapter, id):
        return f"/item/{id * 2}"

    m = Map(
        [
            Rule("/old/<int:id>", redirect_to="new/<id>"),
            Rule("/call/<int:id>", redirect_to=target),
        ],
        default_subdomain="api",
    )
    a = m.bind("example.com", "/app", subdomain="api")
    with pytest.raises(RequestRedirect) as e:
        a.match("/old/3")
    assert e.value.new_url == "http://api.example.com/app/new/3"
    with pytest.raises(RequestRedirect) as e:
        a.match("/call/3")
    assert e.value.new_url == "http://api.example.com/item/6"
    plain = Map([Rule("/o", redirect_to="/n")]).bind("example.com", subdomain="")
    with pytest.raises(RequestRedirect) as e:
        plain.match("/o")
    assert e.value.new_url == "http://example.com/n"


def test_alias_redirects_to_canonical_url():
    a = adapter(
        Rule("/canonical/<x>", endpoint="e"),
        Rule("/alias/<x>", endpoint="e", alias=True),
    )
    with pytest.raises(RequestRedirect) as e:
        a.match("/alias/1", query_args="q=1")
    assert e.value.new_url == "http://example.com/canonical/1?q=1"
    no_redirect = adapter(
        Rule("/canonical", endpoint="e"),
        Rule("/alias", endpoint="e", alias=True),
        redirect_defaults=False,
    )
    assert no_redirect.match("/alias") == ("e", {})


def test_defaults_redirect_and_opt_out():
    rules = [
        Rule("/all/", defaults={"page": 1}, endpoint="all"),
        Rule("/all/<int:page>", endpoint="all"),
    ]
    a = adapter(*rules)
    with pytest.raises(RequestRedirect) as e:
        a.match("/all/1")
    assert e.value.new_url == "http://example.com/all/"
    assert a.match("/all/2") == ("all", {"page": 2})
    off = adapter(
        Rule("/all/", defaults={"page": 1}, endpoint="all"),
        Rule("/all/<int:page>", endpoint="all"),
        redirect_defaults=False,
    )
    assert off.match("/all/1") == ("all", {"page": 1})


def test_defaults_redirect_skipped_when_provider_cannot_build():
    class Picky(BaseConverter):
        def to_url(self, value):
            raise ValidationError()

    m = Map(
        [
            Rule("/x/<picky:a>", defaults={"b": 1}, endpoint="e"),
            Rule("/y/<a>/<int:b>", endpoint="e"),
        ],
        converters={"picky": Picky},
    )
    # Same arguments {a, b}; the defaults rule cannot build, so no redirect.
    rules = list(m.iter_rules("e"))
    assert rules[0].provides_defaults_for(rules[1])
    assert m.bind("h").match("/y/q/1") == ("e", {"a": "q", "b": 1})


def test_websocket_mismatch_and_scheme():
    m = Map([Rule("/ws", endpoint="ws", websocket=True), Rule("/http", endpoint="h")])
    with pytest.raises(WebsocketMismatch) as e:
        m.bind("example.com").match("/ws")
    assert e.value.code == 400
    ws = m.bind("example.com", url_scheme="wss")
    assert ws.websocket is True
    assert ws.match("/ws") == ("ws", {})
    with pytest.raises(WebsocketMismatch):
        ws.match("/http")
    assert m.bind("example.com").match("/ws", websocket=True) == ("ws", {})


def test_validation_error_keeps_looking():
    # NOTE: deviation from Werkzeug 3.1, which stops with a 404 here.
    a = adapter(
        Rule("/n/<int(max=9):n>", endpoint="small"),
        Rule("/n/<name>", endpoint="name"),
        Rule("/d/<int(fixed_digits=2):d>", endpoint="dd", strict_slashes=False),
        Rule("/d/<x>/", endpoint="dx", strict_slashes=False),
    )
    assert a.match("/n/5") == ("small", {"n": 5})
    assert a.match("/n/50") == ("name", {"name": "50"})
    assert a.match("/d/12/") == ("dd", {"d": 12})
    assert a.match("/d/123/") == ("dx", {"x": "123"})
    assert a.match("/d/123") == ("dx", {"x": "123"})


def test_validation_error_without_fallback_is_404_or_405():
    a = adapter(
        Rule("/n/<int(max=9):n>", endpoint="small", methods=["POST"]),
        Rule("/m/<int(max=9):n>", endpoint="m"),
    )
    with pytest.raises(NotFound):
        a.match("/m/50")
    with pytest.raises(MethodNotAllowed):
        a.match("/n/5", "GET")
    with pytest.raises(NotFound):
        a.match("/n/50", "POST")


def test_test_and_dispatch():
    a = adapter(Rule("/a", endpoint="a"), Rule("/b/", endpoint="b"))
    assert a.test("/a")
    assert a.test("/b")
    assert not a.test("/c")
    assert a.dispatch(lambda e, v: (e, v), "/a") == ("a", {})
    assert isinstance(a.dispatch(lambda e, v: None, "/b"), RequestRedirect)
    assert isinstance(
        a.dispatch(lambda e, v: None, "/c", catch_http_exceptions=True), NotFound
    )
    with pytest.raises(NotFound):
        a.dispatch(lambda e, v: None, "/c")


def test_host_matching():
    m = Map(
        [
            Rule("/", endpoint="main", host="example.com"),
            Rule("/", endpoint="user", host="<user>.example.com"),
        ],
        host_matching=True,
    )
    assert m.bind("EXAMPLE.com").match("/") == ("main", {})
    assert m.bind("bob.example.com").match("/") == ("user", {"user": "bob"})
    with pytest.raises(RuntimeError, match="Host matching is enabled"):
        m.bind("example.com", subdomain="x")


def test_subdomain_matching():
    m = Map(
        [Rule("/", endpoint="root"), Rule("/", endpoint="sub", subdomain="<s>")],
        default_subdomain="www",
    )
    assert m.bind("example.com").match("/") == ("root", {})
    assert m.bind("example.com", subdomain="api").match("/") == ("sub", {"s": "api"})


def test_bind_idna_and_bad_host():
    m = Map([Rule("/", endpoint="i")])
    assert m.bind("bücher.example:8080").server_name == "xn--bcher-kva.example:8080"
    with pytest.raises(BadHost):
        m.bind("a" * 70 + ".com")


def _environ(**kw):
    env = {
        "wsgi.url_scheme": "http",
        "REQUEST_METHOD": "GET",
        "SERVER_NAME": "example.com",
        "SERVER_PORT": "80",
        "PATH_INFO": "/",
        "SCRIPT_NAME": "",
    }
    env.update(kw)
    return env


def test_bind_to_environ_basic():
    m = Map([Rule("/x", endpoint="x", methods=["POST"])])
    a = m.bind_to_environ(
        _environ(PATH_INFO="/x", REQUEST_METHOD="POST", QUERY_STRING="a=1")
    )
    assert a.server_name == "example.com"
    assert (a.path_info, a.default_method, a.query_args) == ("/x", "POST", "a=1")
    assert a.match() == ("x", {})


def test_bind_to_environ_decodes_wsgi_strings():
    m = Map([Rule("/<x>", endpoint="x")])
    path = "/caf\u00c3\u00a9"  # UTF-8 bytes of "café" as latin-1, as WSGI has it
    assert m.bind_to_environ(_environ(PATH_INFO=path)).match() == ("x", {"x": "café"})
    # Already-decoded text is kept rather than crashing.
    assert m.bind_to_environ(_environ(PATH_INFO="/€")).path_info == "/€"


class _Req:
    def __init__(self, environ):
        self.environ = environ


@pytest.mark.parametrize(
    ("env", "host"),
    [
        ({"HTTP_HOST": "Example.COM:80"}, "example.com"),
        ({"HTTP_HOST": "example.com:8080"}, "example.com:8080"),
        ({"wsgi.url_scheme": "https", "SERVER_PORT": "443"}, "example.com"),
        ({"SERVER_PORT": "8000"}, "example.com:8000"),
        ({"SERVER_NAME": "::1", "SERVER_PORT": "8000"}, "[::1]:8000"),
        ({"SERVER_PORT": None}, ""),
        ({"HTTP_HOST": "bad host"}, ""),
        ({"HTTP_HOST": "example.com:99999"}, ""),
    ],
)
def test_bind_to_environ_host(env, host):
    a = Map().bind_to_environ(_Req(_environ(**env)))
    assert a.server_name == host


def test_bind_to_environ_without_server_name_key():
    env = _environ()
    del env["SERVER_NAME"]
    assert Map().bind_to_environ(env).server_name == ""


def test_bind_to_environ_subdomain_and_ports():
    m = Map([Rule("/", endpoint="sub", subdomain="<s>"), Rule("/", endpoint="root")])
    env = _environ(HTTP_HOST="api.example.com")
    a = m.bind_to_environ(env, server_name="example.com:80")
    assert a.subdomain == "api"
    assert a.match() == ("sub", {"s": "api"})
    https = _environ(HTTP_HOST="example.com", **{"wsgi.url_scheme": "https"})
    assert m.bind_to_environ(https, server_name="example.com:443").subdomain == ""
    assert m.bind_to_environ(env, subdomain="x").subdomain == "x"


def test_bind_to_environ_server_name_mismatch_warns():
    env = _environ(HTTP_HOST="10.0.0.1")
    with pytest.warns(UserWarning, match="doesn't match configured server name"):
        a = Map([Rule("/", endpoint="i")]).bind_to_environ(env, server_name="ex.com")
    assert a.subdomain == "<invalid>"
    with pytest.raises(NotFound):
        a.match()


def test_bind_to_environ_websocket_upgrade():
    m = Map([Rule("/ws", endpoint="ws", websocket=True)])
    env = _environ(
        PATH_INFO="/ws",
        HTTP_CONNECTION="keep-alive, Upgrade",
        HTTP_UPGRADE="websocket",
        **{"wsgi.url_scheme": "https"},
    )
    a = m.bind_to_environ(env)
    assert a.url_scheme == "wss"
    assert a.match() == ("ws", {})
    env["wsgi.url_scheme"] = "http"
    assert m.bind_to_environ(env).url_scheme == "ws"
    # An environ built from an ASGI websocket scope has the ws(s) scheme
    # already: a secure one stays secure.
    env["wsgi.url_scheme"] = "wss"
    assert m.bind_to_environ(env).url_scheme == "wss"
    env["wsgi.url_scheme"] = "ws"
    assert m.bind_to_environ(env).url_scheme == "ws"


def test_bind_to_environ_rejects_non_dict():
    with pytest.raises(TypeError, match="expected a WSGI environ dict"):
        Map().bind_to_environ([("PATH_INFO", "/")])


def test_host_matching_bind_to_environ():
    m = Map([Rule("/", endpoint="h", host="<h>.example.com")], host_matching=True)
    a = m.bind_to_environ(_environ(HTTP_HOST="x.example.com"))
    assert a.subdomain is None
    assert a.match() == ("h", {"h": "x"})


def test_rules_added_after_matching_are_seen():
    m = Map([Rule("/a", endpoint="a")])
    a = m.bind("example.com")
    assert a.match("/a") == ("a", {})
    m.add(Rule("/b/<int:n>", endpoint="b"))
    assert a.match("/b/1") == ("b", {"n": 1})
    assert m._matcher_source is not None


def test_map_introspection():
    m = Map([Rule("/a/<x>", endpoint="a"), Rule("/b", endpoint="b")])
    assert m.is_endpoint_expecting("a", "x")
    assert not m.is_endpoint_expecting("b", "x")
    with pytest.raises(KeyError):
        m.is_endpoint_expecting("zzz")
    assert [r.endpoint for r in m.iter_rules()] == ["a", "b"]
    assert [r.rule for r in m.iter_rules("b")] == ["/b"]
    m.merge_slashes = False
    assert m.merge_slashes is False
    assert "uuid" in m.converters
    assert "uuid" in Map.default_converters


def test_merge_slashes_then_slash_required():
    a = adapter(Rule("/a/b/", endpoint="ab"))
    with pytest.raises(RequestRedirect) as e:
        a.match("/a//b")
    assert e.value.new_url == "http://example.com/a/b/"


def test_bind_to_environ_other_scheme_keeps_ports():
    env = _environ(HTTP_HOST="example.com:80", **{"wsgi.url_scheme": "ftp"})
    a = Map().bind_to_environ(env, server_name="example.com:80")
    assert a.server_name == "example.com:80"
    assert a.subdomain == ""


def test_update_skips_work_done_by_another_thread():
    class FlippingLock:
        # Simulates another thread finishing update() while this one waited.
        def __init__(self):
            self.map = None

        def __enter__(self):
            self.map._remap = False

        def __exit__(self, *exc):
            return False

    class M(Map):
        lock_class = FlippingLock

    m = M([Rule("/b/<x>", endpoint="b"), Rule("/a", endpoint="a")])
    m._remap_lock.map = m
    m.update()
    # The sort by build key never ran, so registration order is kept.
    assert [r.endpoint for r in m._rules] == ["b", "a"]
    assert m._remap is False


def test_build_skips_rule_whose_converter_refuses():
    class Picky(BaseConverter):
        def to_url(self, value):
            if value == "bad":
                raise ValidationError()
            return value

    m = Map(
        [Rule("/p/<picky:x>", endpoint="e"), Rule("/q/<x>", endpoint="e")],
        converters={"picky": Picky},
    )
    a = m.bind("h")
    assert a.build("e", {"x": "ok"}) == "/p/ok"
    assert a.build("e", {"x": "bad"}) == "/q/bad"


_ADAPTER_FIELDS = (
    "map",
    "server_name",
    "script_name",
    "subdomain",
    "url_scheme",
    "path_info",
    "default_method",
    "query_args",
    "websocket",
)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, ("example.com", "/", "/", None)),
        ({"SCRIPT_NAME": "/app"}, ("example.com", "/app/", "/", None)),
        ({"SCRIPT_NAME": "/app/"}, ("example.com", "/app/", "/", None)),
        ({"SCRIPT_NAME": None}, ("example.com", "/", "/", None)),
        ({"SCRIPT_NAME": "/caf\u00c3\u00a9"}, ("example.com", "/café/", "/", None)),
        ({"PATH_INFO": None}, ("example.com", "/", "/", None)),
        ({"QUERY_STRING": "a=1"}, ("example.com", "/", "/", "a=1")),
        ({"QUERY_STRING": "a=\u00c3\u00a9"}, ("example.com", "/", "/", "a=é")),
        ({"HTTP_HOST": "B\u00fccher.example"}, ("", "/", "/", None)),
    ],
)
def test_bind_to_environ_agrees_with_bind(env, expected):
    m = Map([Rule("/", endpoint="i")])
    a = m.bind_to_environ(_environ(**env))
    server_name, script_name, path_info, query_args = expected
    b = m.bind(
        server_name,
        script_name,
        url_scheme="http",
        path_info=path_info,
        query_args=query_args,
    )
    assert [getattr(a, f) for f in _ADAPTER_FIELDS] == [
        getattr(b, f) for f in _ADAPTER_FIELDS
    ]
    # PERF: adapters are made once per request and have no instance dict.
    assert not hasattr(a, "__dict__")


def test_bind_to_environ_idna_server_name():
    env = _environ(HTTP_HOST="xn--bcher-kva.example")
    a = Map().bind_to_environ(env, server_name="Bücher.example", subdomain="")
    assert a.server_name == "xn--bcher-kva.example"
    with pytest.raises(BadHost):
        Map().bind_to_environ(env, server_name="a" * 70 + ".com", subdomain="")


def test_host_matching_bind_to_environ_rejects_subdomain():
    m = Map([Rule("/", endpoint="h", host="example.com")], host_matching=True)
    with pytest.raises(RuntimeError, match="Host matching is enabled"):
        m.bind_to_environ(_environ(), subdomain="x")


def test_host_caches_are_bounded(monkeypatch):
    from erlen.routing import map as map_module

    monkeypatch.setattr(map_module, "_HOST_CACHE_MAX", 2)
    monkeypatch.setattr(map_module, "_IDNA_CACHE_MAX", 2)
    map_module._host_cache.clear()
    map_module._idna_cache.clear()
    m = Map()
    hosts = ["A.example", "b.example:8080", "c.example", "bad host", "A.example"]
    for _ in range(2):  # the second round is served (partly) from the caches
        got = [m.bind_to_environ(_environ(HTTP_HOST=h)).server_name for h in hosts]
        assert got == ["a.example", "b.example:8080", "c.example", "", "a.example"]
        assert len(map_module._host_cache) <= 2
        assert len(map_module._idna_cache) <= 2
    # The scheme is part of the key: the default port differs.
    https = _environ(HTTP_HOST="a.example:443", **{"wsgi.url_scheme": "https"})
    assert m.bind_to_environ(https).server_name == "a.example"
    http = _environ(HTTP_HOST="a.example:443")
    assert m.bind_to_environ(http).server_name == "a.example:443"


def test_static_rules_added_after_matching_are_seen():
    m = Map([Rule("/a", endpoint="a")])
    a = m.bind("example.com")
    assert a.match("/a") == ("a", {})
    m.add(Rule("/b", endpoint="b"))
    assert a.match("/b") == ("b", {})


def test_match_method_case_and_static_fallbacks():
    a = adapter(
        Rule("/a", endpoint="a", methods=["PURGE"]),
        Rule("/old", endpoint="old", redirect_to="/a"),
        Rule("/s", endpoint="s", methods=["POST"]),
    )
    assert a.match("/a", method="purge") == ("a", {})
    assert a.match("/a", method="PURGE", return_rule=True)[0].rule == "/a"
    with pytest.raises(RequestRedirect) as e:
        a.match("/old")
    assert e.value.new_url == "http://example.com/a"
    with pytest.raises(MethodNotAllowed):
        a.match("/s", method="get")


def _bound_answer(m, env, domain):
    """What matching through bind_to_environ gives: (rule, args) or the error type."""
    try:
        adapter = m.bind_to_environ(env, subdomain=domain)
    except BadHost as e:
        return type(e)
    rv = adapter._lookup(None, None, None, None)
    return rv if isinstance(rv, tuple) else type(rv)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"PATH_INFO": "/plain"}, "plain"),
        ({"PATH_INFO": "/u/7"}, "user"),
        ({"PATH_INFO": "/u/x"}, NotFound),
        ({"PATH_INFO": "/plain", "REQUEST_METHOD": "post"}, MethodNotAllowed),
        ({"PATH_INFO": "/caf\xc3\xa9"}, "cafe"),  # WSGI latin-1 for UTF-8 "café"
        ({"PATH_INFO": "//plain"}, "plain"),
        ({"PATH_INFO": ""}, NotFound),
        ({"PATH_INFO": None}, NotFound),  # no path: "/", which no rule has
        ({"HTTP_HOST": "a" * 70 + ".com"}, BadHost),  # as binding refuses it
        ({"PATH_INFO": "/dir"}, None),  # a slash redirect needs the adapter
        ({"PATH_INFO": "/a//b"}, None),  # so does merging slashes
        ({"PATH_INFO": "/old"}, None),  # a rule with redirect_to
        ({"HTTP_HOST": None}, None),  # the host comes from SERVER_NAME
        ({"HTTP_UPGRADE": "websocket"}, None),
    ],
)
def test_match_environ_agrees_with_binding(overrides, expected):
    m = Map(
        [
            Rule("/plain", endpoint="plain", methods=["GET"]),
            Rule("/u/<int:id>", endpoint="user"),
            Rule("/café", endpoint="cafe"),
            Rule("/dir/", endpoint="dir"),
            Rule("/a/b", endpoint="ab"),
            Rule("/old", endpoint="old", redirect_to="/plain"),
        ]
    )
    env = _environ(HTTP_HOST="example.com")
    env.update(overrides)
    for key, value in overrides.items():
        if value is None:
            del env[key]
    rv = m._match_environ(env, "")
    if expected is None:
        assert rv is None
        return
    if isinstance(expected, str):
        assert rv[0].endpoint == expected
    else:
        assert type(rv) is expected
    assert (rv if isinstance(rv, tuple) else type(rv)) == _bound_answer(m, env, "")


def _seen_map(*rules, **kwargs):
    return Map(list(rules), **kwargs)


def _host_env(path, **kw):
    return _environ(**{"HTTP_HOST": "example.com", "PATH_INFO": path, **kw})


def test_match_environ_remembers_static_matches_with_fresh_view_args():
    m = _seen_map(
        Rule("/a", endpoint="a", defaults={"page": 1}),
        Rule("/b", endpoint="b"),
    )
    env = _host_env("/a")
    first = m._match_environ(env, "")
    assert len(m._seen) == 1
    first[1]["page"] = 99  # the app may change view_args
    second = m._match_environ(env, "")
    assert second == (first[0], {"page": 1})
    assert second[1] is not first[1]
    b1 = m._match_environ(_host_env("/b"), "")
    b2 = m._match_environ(_host_env("/b"), "")
    assert b1 == b2 == (b1[0], {})
    assert b1[1] is not b2[1]


def test_match_environ_remembers_misses_of_a_pure_map():
    m = _seen_map(
        Rule("/x", endpoint="x", methods=["GET"]), Rule("/u/<int:id>", endpoint="u")
    )
    for _ in range(2):
        assert type(m._match_environ(_host_env("/missing"), "")) is NotFound
        e = m._match_environ(_host_env("/x", REQUEST_METHOD="POST"), "")
        assert sorted(e.valid_methods) == ["GET", "HEAD"]
    assert len(m._seen) == 2
    # Each hit gives a new exception (they carry tracebacks).
    assert m._match_environ(_host_env("/missing"), "") is not m._match_environ(
        _host_env("/missing"), ""
    )


def test_match_environ_forgets_on_change():
    m = _seen_map(Rule("/x", endpoint="x"))
    assert type(m._match_environ(_host_env("/y"), "")) is NotFound
    m.add(Rule("/y", endpoint="y"))
    assert m._match_environ(_host_env("/y"), "")[0].endpoint == "y"
    rule = Rule("/a/b", endpoint="ab", merge_slashes=True)
    m = _seen_map(rule, merge_slashes=False)
    assert type(m._match_environ(_host_env("/a//b"), "")) is NotFound
    m.merge_slashes = True
    assert m._match_environ(_host_env("/a//b"), "") is None  # a redirect


def test_match_environ_keeps_long_keys_out():
    m = _seen_map(Rule("/a", endpoint="a"))
    path = "/" * 2000 + "a"
    assert m._match_environ(_host_env(path), "")[0].endpoint == "a"
    assert type(m._match_environ(_host_env(path + "b"), "")) is NotFound
    assert len(m._seen) == 0


def test_match_environ_converter_misses_are_not_remembered():
    class Toggle(BaseConverter):
        accept = False

        def to_python(self, value):
            if not Toggle.accept:
                raise ValidationError()
            return value

    m = _seen_map(Rule("/t/<toggle:v>", endpoint="t"), converters={"toggle": Toggle})
    assert type(m._match_environ(_host_env("/t/1"), "")) is NotFound
    Toggle.accept = True
    assert m._match_environ(_host_env("/t/1"), "")[1] == {"v": "1"}
    assert len(m._seen) == 0


def test_match_environ_checks_a_host_again_for_another_scheme():
    m = _seen_map(Rule("/a", endpoint="a"), Rule("/<int:n>", endpoint="n"))
    bad = "a" * 70 + ".com"
    for _ in range(2):  # a refused host is never remembered
        assert type(m._match_environ(_host_env("/1", HTTP_HOST=bad), "")) is BadHost
    for scheme in ("http", "https", "http"):
        env = _host_env("/1", **{"wsgi.url_scheme": scheme})
        assert m._match_environ(env, "")[1] == {"n": 1}
    env = _host_env("/a", **{"wsgi.url_scheme": "https"})
    assert m._match_environ(env, "")[0].endpoint == "a"
    assert len(m._seen) == 1
