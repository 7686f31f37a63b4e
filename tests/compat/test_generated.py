"""Hypothesis-generated requests and return values, answered by Flask and by erlen."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

import erlen.testing

from .harness import make_fw
from .harness import response_view


def _apps(build):
    """Return Flask's client and erlen's WSGI and ASGI clients for ``build``."""
    flask_app = build(make_fw("flask"))
    erlen_app = build(make_fw("erlen"))
    return (
        flask_app.test_client(),
        erlen.testing.Client(erlen_app, asgi=False),
        erlen.testing.Client(erlen_app, asgi=True),
    )


def _compare(clients, *args, **kwargs):
    views = []
    for i, client in enumerate(clients):
        response = client.open(*args, **kwargs)
        try:
            views.append(
                response_view(
                    response,
                    "flask" if i == 0 else "erlen",
                    kwargs.get("method", "GET"),
                )
            )
        finally:
            response.close()
    flask_view, *erlen_views = views
    for view in erlen_views:
        assert view == flask_view


# -- routing: generated paths against converter rules ---------------------------------


def _routing_app(fw):
    app = fw.Flask(__name__)
    rules = [
        "/i/<int:n>",
        "/i/<int(signed=True):n>/s",
        "/f/<float:x>",
        "/p/<path:p>",
        "/s/<name>",
        "/s/<name>/",
        "/a/<any(one,two):w>",
        "/u/<uuid:u>",
        "/m/<int:a>-<int:b>",
        "/d/",
    ]
    for i, rule in enumerate(rules):

        def view(i=i, **kw):
            return repr((i, sorted((k, repr(v)) for k, v in kw.items())))

        app.add_url_rule(rule, f"r{i}", view, methods=["GET", "POST"])
    return app


ROUTING = None

_segment = st.one_of(
    st.sampled_from(
        [
            "i",
            "f",
            "p",
            "s",
            "a",
            "u",
            "m",
            "d",
            "one",
            "two",
            "1-2",
            "-5",
            "1.5",
            "0",
            "",
        ]
    ),
    st.text(string.ascii_letters + string.digits + "-._~%", max_size=6),
    st.just("12345678-1234-5678-1234-567812345678"),
)


@given(
    segments=st.lists(_segment, min_size=1, max_size=4),
    method=st.sampled_from(["GET", "POST", "PUT", "HEAD"]),
)
def test_generated_paths(segments, method):
    """Every generated path gets the same status, headers and body."""
    global ROUTING
    if ROUTING is None:
        ROUTING = _apps(_routing_app)
    path = "/" + "/".join(segments)
    if path.startswith("//"):
        # NOTE: for a request line "//i/d", Werkzeug's slash redirect reads
        # "i" as a host (Location: http://i/d/); erlen keeps the request's
        # host (docs/compat.md, pinned in test_routing.py).
        path = "/-" + path[1:]
    if "%" in path:
        # NOTE: a lone "%" is decoded differently by the two test clients'
        # environ builders (not by the apps); keep valid escapes only.
        path = path.replace("%", "%25")
    _compare(ROUTING, path, method=method)


# -- view return values ------------------------------------------------------------

_token = st.text(string.ascii_letters + "-", min_size=1, max_size=8).map(
    lambda s: "X-" + s
)
_value = st.text(string.ascii_letters + string.digits + " ;=,/", max_size=10).map(
    str.strip
)
_body = st.one_of(
    st.text(max_size=20),
    st.binary(max_size=20),
    st.dictionaries(
        st.text(string.ascii_letters, max_size=4),
        st.integers() | st.text(max_size=4),
        max_size=3,
    ),
    st.lists(st.integers() | st.none() | st.booleans(), max_size=3),
)
_status = st.sampled_from(
    [200, 201, 202, 204, 301, 400, 404, 418, 500, 503, "201", "202 ACCEPTED"]
)
_headers = st.one_of(
    st.dictionaries(_token, _value, max_size=3),
    st.lists(st.tuples(_token, _value), max_size=3),
)
_rv = st.one_of(
    _body,
    st.tuples(_body, _status),
    st.tuples(_body, _headers),
    st.tuples(_body, _status, _headers),
)

RETURNS = None
_CURRENT = {}


def _returns_app(fw):
    app = fw.Flask(__name__)

    @app.route("/", methods=["GET", "HEAD"])
    def index():
        return _CURRENT["rv"]

    return app


@given(rv=_rv, method=st.sampled_from(["GET", "HEAD"]))
def test_generated_return_values(rv, method):
    """Every generated return value becomes the same response."""
    global RETURNS
    if RETURNS is None:
        RETURNS = _apps(_returns_app)
    _CURRENT["rv"] = rv
    _compare(RETURNS, "/", method=method)


# -- url_for with generated values -------------------------------------------------

URLS = None


def _url_app(fw):
    app = fw.Flask(__name__)

    @app.route("/u/<name>/<path:rest>")
    def target(name, rest):
        return "t"

    @app.route("/build")
    def build():
        values = fw.json.loads(fw.request.args["v"])
        return fw.url_for(
            "target",
            name=values["name"],
            rest=values["rest"],
            _anchor=values["anchor"] or None,
            **values["extra"],
        )

    return app


@given(
    name=st.text(min_size=1, max_size=8).filter(lambda s: "\x00" not in s),
    rest=st.text(min_size=1, max_size=8).filter(lambda s: "\x00" not in s),
    anchor=st.text(max_size=5),
    extra=st.dictionaries(
        st.text(string.ascii_lowercase, min_size=1, max_size=3),
        st.text(max_size=5) | st.integers(),
        max_size=3,
    ),
)
def test_generated_url_for(name, rest, anchor, extra):
    """url_for quotes generated values the same way."""
    global URLS
    if URLS is None:
        URLS = _apps(_url_app)
    import json

    payload = json.dumps({"name": name, "rest": rest, "anchor": anchor, "extra": extra})
    _compare(URLS, "/build", query_string={"v": payload})


@pytest.fixture(autouse=True, scope="module")
def _close_clients():
    yield
    for clients in (ROUTING, RETURNS, URLS):
        if clients is not None:
            for client in clients[1:]:
                client.close()
