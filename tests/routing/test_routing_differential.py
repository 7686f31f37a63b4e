"""Differential tests: erlen.routing must route exactly like werkzeug.routing."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from erlen.datastructures import MultiDict

from ._diff import build_outcome
from ._diff import make_maps
from ._diff import outcome

# One realistic map exercising most options; every path below is matched
# against it with several methods.
APP_RULES = [
    ("/", {"endpoint": "index"}),
    ("/about", {"endpoint": "about"}),
    ("/docs/", {"endpoint": "docs"}),
    ("/post", {"endpoint": "post_only", "methods": ["POST"]}),
    ("/post", {"endpoint": "post_put", "methods": ["PUT"]}),
    ("/user/<int:id>", {"endpoint": "user_id"}),
    ("/user/<name>", {"endpoint": "user_name"}),
    ("/user/<name>/edit", {"endpoint": "user_edit", "methods": ["GET", "POST"]}),
    ("/user/me", {"endpoint": "user_me"}),
    ("/static/<path:filename>", {"endpoint": "static"}),
    ("/files/<path:p>/", {"endpoint": "files_dir"}),
    ("/wiki/<path:page>/edit", {"endpoint": "wiki_edit"}),
    ("/wiki/<path:page>", {"endpoint": "wiki"}),
    ("/n/<int(signed=True):n>", {"endpoint": "signed"}),
    ("/n/<int(min=5, max=10):n>/r", {"endpoint": "ranged"}),
    ("/d/<int(fixed_digits=4):year>", {"endpoint": "year"}),
    ("/f/<float:x>", {"endpoint": "float"}),
    ("/f/<float(signed=True):x>/s", {"endpoint": "float_signed"}),
    ("/u/<uuid:u>", {"endpoint": "uuid"}),
    ("/any/<any(red, green, 'bl ue'):c>", {"endpoint": "any"}),
    ("/len/<string(length=3):code>", {"endpoint": "len3"}),
    ("/len/<string(minlength=4, maxlength=5):code>", {"endpoint": "len45"}),
    ("/lax/", {"endpoint": "lax", "strict_slashes": False}),
    ("/lax2", {"endpoint": "lax2", "strict_slashes": False}),
    ("/v<int:major>.<int:minor>/api", {"endpoint": "version"}),
    ("/page/", {"endpoint": "pages", "defaults": {"page": 1}}),
    ("/page/<int:page>", {"endpoint": "pages"}),
    ("/old/<slug>", {"redirect_to": "new/<slug>"}),
    ("/older/<int:id>", {"redirect_to": "/abs/<id>"}),
    ("/alias", {"endpoint": "about", "alias": True}),
    ("/ws", {"endpoint": "ws", "websocket": True}),
    ("/both", {"endpoint": "both_ws", "websocket": True}),
    ("/both", {"endpoint": "both_http"}),
    ("/nomerge//x", {"endpoint": "nomerge", "merge_slashes": False}),
    ("/build-only", {"endpoint": "bo", "build_only": True}),
    ("/a/<x>/b", {"endpoint": "axb"}),
    ("/a/<int:x>/<y>", {"endpoint": "axy"}),
    ("/a/c/<y>", {"endpoint": "acy"}),
]

APP_PATHS = [
    "/",
    "",
    "//",
    "/about",
    "/about/",
    "/docs",
    "/docs/",
    "//docs//",
    "/post",
    "/user/12",
    "/user/x",
    "/user/me",
    "/user/me/",
    "/user/12/edit",
    "/user/-1",
    "/user/",
    "/user//12",
    "/user/x/edit/",
    "/static/css/site.css",
    "/static/",
    "/static//a",
    "/static/a//b",
    "/files/a/b/",
    "/files/a/b",
    "/files/a",
    "/wiki/A/B/edit",
    "/wiki/A/edit",
    "/wiki/A",
    "/wiki/A/",
    "/n/-5",
    "/n/5",
    "/n/7/r",
    "/n/11/r",
    "/n/4/r",
    "/d/2024",
    "/d/24",
    "/d/02024",
    "/f/1.5",
    "/f/1",
    "/f/-1.5",
    "/f/-1.5/s",
    "/f/.5",
    "/u/6ba7b810-9dad-11d1-80b4-00c04fd430c8",
    "/u/6BA7B810-9DAD-11D1-80B4-00C04FD430C8",
    "/u/xyz",
    "/any/red",
    "/any/bl ue",
    "/any/blue",
    "/len/abc",
    "/len/abcd",
    "/len/ab",
    "/len/abcdef",
    "/lax",
    "/lax/",
    "/lax2",
    "/lax2/",
    "/v1.2/api",
    "/v1.2/api/",
    "/v1/api",
    "/page/",
    "/page/1",
    "/page/2",
    "/page",
    "/old/foo",
    "/old/f%20o",
    "/older/5",
    "/alias",
    "/ws",
    "/both",
    "/nomerge//x",
    "/nomerge/x",
    "/build-only",
    "/a/x/b",
    "/a/1/b",
    "/a/1/c",
    "/a/c/d",
    "/a/c/b",
    "/café",
    "/user/café",
    "/user/%2F",
    "/a%2Fb",
    "/user/a b",
    "/user/\n",
    "/wiki/a\nb",
    "/nope",
    "/nope/",
    "user/12",
]


@pytest.fixture(scope="module")
def app_adapters():
    ours, theirs = make_maps(APP_RULES)
    return ours.bind("example.com", "/app"), theirs.bind("example.com", "/app")


@pytest.mark.parametrize("path", APP_PATHS)
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "HEAD"])
def test_app_paths_match_like_werkzeug(app_adapters, path, method):
    ours, theirs = app_adapters
    assert outcome(ours, path, method) == outcome(theirs, path, method)


@pytest.mark.parametrize("path", ["/ws", "/both", "/about", "/nope"])
def test_websocket_requests_match_like_werkzeug(app_adapters, path):
    ours, theirs = app_adapters
    expected = outcome(theirs, path, websocket=True)
    assert outcome(ours, path, websocket=True) == expected


@pytest.mark.parametrize("path", ["/old/foo", "/page/1", "/docs", "/alias"])
@pytest.mark.parametrize("query", ["a=1&b=2", {"q": "x y", "n": None}])
def test_redirects_keep_query_like_werkzeug(app_adapters, path, query):
    ours, theirs = app_adapters
    assert outcome(ours, path, query_args=query) == outcome(
        theirs, path, query_args=query
    )


@pytest.mark.parametrize("path", ["/post", "/user/x/edit", "/nope", "/about"])
def test_allowed_methods_like_werkzeug(app_adapters, path):
    ours, theirs = app_adapters
    assert sorted(ours.allowed_methods(path)) == sorted(theirs.allowed_methods(path))


BUILD_CASES = [
    ("index", {}),
    ("index", {"q": "a b", "none": None}),
    ("index", {"list": [1, 2], "t": ("x",)}),
    ("about", {}),
    ("user_id", {"id": 5}),
    ("user_id", {}),
    ("user_name", {"name": "a/b c"}),
    ("user_name", {"name": "café"}),
    ("user_edit", {"name": "bob"}),
    ("static", {"filename": "css/a b.css"}),
    ("files_dir", {"p": "x/y"}),
    ("signed", {"n": -3}),
    ("year", {"year": 7}),
    ("float", {"x": 2.5}),
    ("any", {"c": "red"}),
    ("version", {"major": 1, "minor": 2}),
    ("pages", {}),
    ("pages", {"page": 1}),
    ("pages", {"page": 3}),
    ("pages", {"page": 3, "sort": "asc"}),
    ("ws", {}),
    ("both_http", {}),
    ("bo", {"x": "?&="}),
    ("missing", {}),
    ("usr_id", {"id": 1}),
    ("post_only", {}),
    ("axy", {"x": 1}),
]


@pytest.mark.parametrize(("endpoint", "values"), BUILD_CASES)
@pytest.mark.parametrize("external", [False, True])
def test_build_like_werkzeug(app_adapters, endpoint, values, external):
    ours, theirs = app_adapters
    assert build_outcome(
        ours, endpoint, values, force_external=external
    ) == build_outcome(theirs, endpoint, values, force_external=external)


@pytest.mark.parametrize("method", [None, "GET", "POST", "PUT", "DELETE"])
@pytest.mark.parametrize("endpoint", ["post_only", "post_put", "user_edit"])
def test_build_with_method_like_werkzeug(app_adapters, endpoint, method):
    ours, theirs = app_adapters
    values = {"name": "n"}
    assert build_outcome(ours, endpoint, values, method=method) == build_outcome(
        theirs, endpoint, values, method=method
    )


def test_build_multidict_like_werkzeug(app_adapters):
    import werkzeug.datastructures as wd

    ours, theirs = app_adapters
    items = [("name", "x"), ("tag", "a"), ("tag", "b")]
    assert ours.build("user_name", MultiDict(items)) == theirs.build(
        "user_name", wd.MultiDict(items)
    )


HOST_RULES = [
    ("/", {"endpoint": "main", "host": "example.com"}),
    ("/", {"endpoint": "user", "host": "<user>.example.com"}),
    ("/x/<int:id>", {"endpoint": "x", "host": "<user>.example.com"}),
    ("/admin", {"endpoint": "admin", "host": "admin.example.org"}),
]


@pytest.mark.parametrize(
    ("host", "path"),
    [
        ("example.com", "/"),
        ("bob.example.com", "/"),
        ("bob.example.com", "/x/3"),
        ("admin.example.org", "/admin"),
        ("admin.example.org", "/"),
        ("other.net", "/"),
    ],
)
def test_host_matching_like_werkzeug(host, path):
    ours, theirs = make_maps(HOST_RULES, host_matching=True)
    assert outcome(ours.bind(host), path) == outcome(theirs.bind(host), path)


@pytest.mark.parametrize(
    ("endpoint", "values"),
    [
        ("main", {}),
        ("user", {"user": "bob"}),
        ("x", {"user": "a", "id": 2}),
        ("admin", {}),
    ],
)
def test_host_building_like_werkzeug(endpoint, values):
    ours, theirs = make_maps(HOST_RULES, host_matching=True)
    for host in ("example.com", "bob.example.com"):
        assert ours.bind(host).build(endpoint, values) == theirs.bind(host).build(
            endpoint, values
        )


SUB_RULES = [
    ("/", {"endpoint": "root"}),
    ("/", {"endpoint": "sub", "subdomain": "<lang>"}),
    ("/p/<int:n>", {"endpoint": "subp", "subdomain": "<lang>"}),
    ("/api", {"endpoint": "api", "subdomain": "api"}),
]


@pytest.mark.parametrize("subdomain", ["", "www", "api", "en", None])
@pytest.mark.parametrize("path", ["/", "/api", "/p/1"])
def test_subdomain_matching_like_werkzeug(subdomain, path):
    ours, theirs = make_maps(SUB_RULES, default_subdomain="www")
    a = ours.bind("example.com", subdomain=subdomain)
    b = theirs.bind("example.com", subdomain=subdomain)
    assert outcome(a, path) == outcome(b, path)
    for endpoint, values in [("root", {}), ("sub", {"lang": "de"}), ("api", {})]:
        assert build_outcome(a, endpoint, values) == build_outcome(b, endpoint, values)


# --- Hypothesis: generated rule sets and paths -------------------------------

_SEG_CHARS = string.ascii_lowercase[:4] + "0123456789-._~%é/ "
static_segment = st.sampled_from(["a", "b", "ab", "1", "12", "x.y", "é", "v1", ""])
converter = st.sampled_from(
    [
        "<v{}>",
        "<int:v{}>",
        "<int(signed=True):v{}>",
        "<int(fixed_digits=2):v{}>",
        "<int(min=2, max=20):v{}>",
        "<float:v{}>",
        "<path:v{}>",
        "<string(length=2):v{}>",
        "<string(minlength=2, maxlength = 3):v{}>",
        "<any(a, b, 'a b', \"1\"):v{}>",
        "<uuid:v{}>",
        "x<int:v{}>",
        "<v{}>.y",
    ]
)


# Converters whose to_python can refuse a value that matched the regex. erlen
# then keeps looking (the documented ValidationError contract) where
# Werkzeug 3.1 stops with 404, so generated *matching* maps leave them out;
# tests/routing/test_matching.py pins erlen's behaviour for them.
_VALIDATING = ("fixed_digits", "min=")


@st.composite
def rule_specs(draw, validating=True):
    count = draw(st.integers(1, 6))
    specs = []
    for r in range(count):
        pieces = []
        for i in range(draw(st.integers(0, 4))):
            if draw(st.booleans()):
                pieces.append(draw(static_segment))
            else:
                conv = draw(converter)
                if not validating and any(v in conv for v in _VALIDATING):
                    conv = "<v{}>"
                pieces.append(conv.format(i))
        rule = "/" + "/".join(pieces)
        if draw(st.booleans()):
            rule += "/"
        kwargs = {"endpoint": f"e{r}"}
        if draw(st.integers(0, 3)) == 0:
            kwargs["methods"] = draw(
                st.lists(st.sampled_from(["GET", "POST", "PUT"]), min_size=1)
            )
        if draw(st.integers(0, 4)) == 0:
            kwargs["strict_slashes"] = False
        if draw(st.integers(0, 5)) == 0:
            kwargs["websocket"] = True
            kwargs.pop("methods", None)
        specs.append((rule, kwargs))
    return specs


request_path = st.lists(
    st.one_of(
        static_segment,
        st.sampled_from(["5", "-3", "05", "1.5", "a b", "ab/cd", "abc", "１"]),
        st.sampled_from(["6ba7b810-9dad-11d1-80b4-00c04fd430c8", "%2F", "x5"]),
        st.text(_SEG_CHARS, max_size=4),
    ),
    max_size=5,
).map(lambda segs: "/" + "/".join(segs))


def _has_fullwidth(path):
    # APPSEC deviation: Werkzeug's \d accepts non-ASCII digits; erlen does not.
    return any(not c.isascii() and c.isdigit() for c in path)


_PLACEHOLDER = re.compile(r"<[^>]+>")
filler = st.sampled_from(["5", "12", "-3", "1.5", "a", "ab", "a b", "a/b", "x", ""])


@given(
    rule_specs(validating=False),
    st.lists(request_path, min_size=1, max_size=6),
    st.booleans(),
    st.data(),
)
def test_generated_maps_match_like_werkzeug(specs, paths, merge, data):
    try:
        ours, theirs = make_maps(specs, merge_slashes=merge)
    except ValueError:
        return
    a, b = ours.bind("example.com"), theirs.bind("example.com")
    # Paths shaped like the rules (placeholders filled, slash toggled) hit
    # the interesting branches far more often than random ones.
    for rule, _ in specs:
        path = _PLACEHOLDER.sub(lambda m: data.draw(filler), rule)
        if data.draw(st.booleans()):
            path = path[:-1] if path.endswith("/") else path + "/"
        paths.append(path)
    for path in paths:
        if _has_fullwidth(path):
            continue
        for method in ("GET", "POST"):
            assert outcome(a, path, method) == outcome(b, path, method), path


@given(rule_specs(), st.data())
def test_generated_maps_build_like_werkzeug(specs, data):
    try:
        ours, theirs = make_maps(specs)
    except ValueError:
        return
    a, b = ours.bind("example.com"), theirs.bind("example.com")
    values = data.draw(
        st.dictionaries(
            st.sampled_from(["v0", "v1", "v2", "v3", "q"]),
            st.one_of(st.integers(0, 30), st.sampled_from(["a", "b", "a b", "é/x"])),
        )
    )
    for r in range(len(specs)):
        assert build_outcome(a, f"e{r}", values) == build_outcome(b, f"e{r}", values)


@given(rule_specs(validating=False))
def test_built_urls_match_back_like_werkzeug(specs):
    # Build every rule with plausible values and match the result in both.
    try:
        ours, theirs = make_maps(specs)
    except ValueError:
        return
    a, b = ours.bind("example.com"), theirs.bind("example.com")
    values = {f"v{i}": v for i, v in enumerate(["5", "12", "b", "a"])}
    for r in range(len(specs)):
        built = build_outcome(b, f"e{r}", values)
        if built[0] == "ok":
            path = built[1].split("?")[0]
            assert outcome(a, path) == outcome(b, path)
