"""Tests for erlen.debug: the debug error page middleware, over WSGI and ASGI."""

from __future__ import annotations

import asyncio
import inspect
import io
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import escape

import erlen
from erlen import debug as debug_mod
from erlen.debug import DebuggedApplication
from erlen.debug import MASK
from erlen.middleware.proxy_fix import ProxyFix
from erlen.testing import Client
from erlen.testing import EnvironBuilder

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

# Secret values are assembled at run time, so that they never appear in
# this file's source lines, which the page shows around each frame.
COOKIE_SECRET = "cookie" + "-s3cr3t-" + "value"
AUTH_SECRET = "Bearer " + "auth" + "-s3cr3t"
API_KEY_SECRET = "api" + "key-s3cr3t"
TOKEN_SECRET = "tok" + "en-s3cr3t"
QUERY_SECRET = "query" + "-s3cr3t"
ALL_SECRETS = [COOKIE_SECRET, AUTH_SECRET, API_KEY_SECRET, TOKEN_SECRET, QUERY_SECRET]


def make_app(debug: bool = True) -> erlen.Flask:
    app = erlen.Flask("debug_test_app", root_path="/tmp")
    app.debug = debug

    @app.route("/boom")
    def boom():
        raise ValueError("boom from the view")

    @app.route("/xss")
    def xss():
        raise RuntimeError("<script>alert('x')</script> & more")

    @app.route("/chained")
    def chained():
        try:
            {}["missing-key"]
        except KeyError as e:
            raise LookupError("wrapped lookup") from e

    @app.route("/context")
    def context():
        try:
            1 / 0  # noqa: B018
        except ZeroDivisionError:
            raise TypeError("during handling")  # noqa: B904

    @app.route("/suppressed")
    def suppressed():
        try:
            1 / 0  # noqa: B018
        except ZeroDivisionError:
            raise TypeError("suppressed context") from None

    @app.route("/stream-late")
    def stream_late():
        def generate():
            yield "first chunk"
            raise RuntimeError("late stream failure")

        return app.response_class(generate())

    @app.route("/stream-early")
    def stream_early():
        def generate():
            raise RuntimeError("early stream failure")
            yield "never"  # pragma: no cover (unreachable by design)

        return app.response_class(generate())

    @app.route("/ok")
    def ok():
        return "fine"

    return app


@pytest.fixture
def dapp() -> erlen.Flask:
    return make_app()


@pytest.fixture
def client(dapp: erlen.Flask, interface: str):
    with Client(DebuggedApplication(dapp), asgi=(interface == "asgi")) as c:
        yield c


def text_of(response) -> str:
    return response.get_data(as_text=True)


# -- the page -----------------------------------------------------------------


def test_plain_text_page_without_accept(client):
    response = client.get("/boom")
    assert response.status_code == 500
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert int(response.headers["Content-Length"]) == len(response.get_data())
    body = text_of(response)
    assert body.startswith("Internal Server Error (erlen debug mode)")
    assert "ValueError: boom from the view" in body
    # The frame of the view, with its source line marked.
    assert "in boom\n" in body
    assert ">" in body
    assert 'raise ValueError("boom from the view")' in body
    assert "GET /boom" in body
    # Library frames are there too, but no locals: nothing like a repr of app.
    assert "<Flask" not in body


def test_plain_text_for_json_and_star_accept(client):
    for accept in ("application/json", "*/*", "text/plain, text/html;q=0.5"):
        response = client.get("/boom", headers={"Accept": accept})
        assert response.mimetype == "text/plain", accept


def test_html_page_for_browser(client):
    response = client.get("/boom?x=1", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 500
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Vary"] == "Accept"
    body = text_of(response)
    assert body.startswith("<!doctype html>")
    assert "<title>ValueError: boom from the view // erlen debug page</title>" in body
    assert escape('raise ValueError("boom from the view")') in body
    assert "<span class=line>" in body
    assert "in <code>boom</code>" in body
    # The app's frame is open; erlen's own frames are folded.
    assert (
        f'<div class="frame"><div class="where">File <code>{escape(__file__)}' in body
    )
    assert '<details class="frame lib"><summary class="where">' in body
    assert "<th>Path</th><td>/boom</td>" in body
    assert "<th>Query string</th><td>x=1</td>" in body
    # No external assets and no script at all.
    assert "<link" not in body
    assert "<script" not in body
    assert " src=" not in body
    assert " href=" not in body


def test_html_escapes_exception_message(client):
    response = client.get("/xss", headers={"Accept": "text/html"})
    body = text_of(response)
    assert "<script" not in body
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more" in body


def test_secrets_are_masked(client, interface):
    client.set_cookie("session", COOKIE_SECRET)
    headers = {
        "Authorization": AUTH_SECRET,
        "Proxy-Authorization": AUTH_SECRET,
        "X-Api-Key": API_KEY_SECRET,
        "X-Auth-Token": TOKEN_SECRET,
        "X-Client-Secret": TOKEN_SECRET,
        "X-Request-Id": "visible-request-id",
    }
    for accept in ("text/html", "text/plain"):
        response = client.get(
            f"/boom?api_key={QUERY_SECRET}&page=2&password={QUERY_SECRET}&novalue",
            headers={**headers, "Accept": accept},
        )
        body = text_of(response)
        for secret in ALL_SECRETS:
            assert secret not in body, (accept, secret)
        assert "visible-request-id" in body
        query = f"api_key={MASK}&page=2&password={MASK}&novalue"
        assert (escape(query) if accept == "text/html" else query) in body
        assert body.count(MASK) >= 7


def test_show_secrets(dapp, interface):
    mw = DebuggedApplication(dapp, show_secrets=True)
    with Client(mw, asgi=(interface == "asgi")) as c:
        response = c.get(
            f"/boom?token={QUERY_SECRET}", headers={"Authorization": AUTH_SECRET}
        )
    body = text_of(response)
    assert AUTH_SECRET in body
    assert f"token={QUERY_SECRET}" in body
    assert MASK not in body


def test_chained_exceptions(client):
    body = text_of(client.get("/chained"))
    assert "KeyError: 'missing-key'" in body
    assert "LookupError: wrapped lookup" in body
    assert body.index("KeyError") < body.index(debug_mod._CAUSE)
    assert body.index(debug_mod._CAUSE) < body.index("LookupError: wrapped")


def test_implicit_context(client):
    body = text_of(client.get("/context", headers={"Accept": "text/html"}))
    assert "ZeroDivisionError: division by zero" in body
    assert escape(debug_mod._CONTEXT) in body
    assert "TypeError: during handling" in body


def test_suppressed_context(client):
    body = text_of(client.get("/suppressed"))
    assert "TypeError: suppressed context" in body
    assert "ZeroDivisionError: division by zero" not in body


def test_exception_is_logged(client, caplog):
    with caplog.at_level(logging.ERROR, logger="erlen.debug"):
        client.get("/boom")
    (record,) = [r for r in caplog.records if r.name == "erlen.debug"]
    assert record.getMessage() == "Exception on /boom [GET]"
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], ValueError)


def test_normal_response_passes_through(client):
    response = client.get("/ok")
    assert response.status_code == 200
    assert text_of(response) == "fine"


def test_no_debug_propagates(interface):
    app = make_app(debug=False)
    app.config["PROPAGATE_EXCEPTIONS"] = True
    with Client(DebuggedApplication(app), asgi=(interface == "asgi")) as c:
        with pytest.raises(ValueError, match="boom from the view"):
            c.get("/boom")
        assert c.get("/ok").status_code == 200


def test_debug_turned_off_after_wrapping(dapp, interface):
    mw = DebuggedApplication(dapp)
    dapp.debug = False
    dapp.config["PROPAGATE_EXCEPTIONS"] = True
    with Client(mw, asgi=(interface == "asgi")) as c:
        with pytest.raises(ValueError, match="boom from the view"):
            c.get("/boom")


def test_error_after_body_started_is_not_a_page(client, caplog):
    with caplog.at_level(logging.ERROR, logger="erlen.debug"):
        with pytest.raises(RuntimeError, match="late stream failure"):
            client.get("/stream-late").get_data()
    messages = [r.getMessage() for r in caplog.records if r.name == "erlen.debug"]
    assert messages
    assert "after the response started" in messages[0]


def test_error_after_body_started_no_debug_not_logged(interface, caplog):
    app = make_app()
    mw = DebuggedApplication(app)
    with Client(mw, asgi=(interface == "asgi")) as c:
        app.debug = False
        with caplog.at_level(logging.ERROR, logger="erlen.debug"):
            with pytest.raises(RuntimeError, match="late stream failure"):
                c.get("/stream-late").get_data()
    assert not [r for r in caplog.records if r.name == "erlen.debug"]


# -- WSGI specifics -----------------------------------------------------------


class Server:
    """A PEP 3333 start_response: exc_info replaces unsent headers."""

    def __init__(self):
        self.calls = []
        self.sent = False

    def start_response(self, status, headers, exc_info=None):
        if exc_info is not None and self.sent:
            raise exc_info[1].with_traceback(exc_info[2])
        self.calls.append((status, headers, exc_info))
        return lambda data: None

    def run(self, app, environ):
        body = []
        app_iter = app(environ, self.start_response)
        try:
            for chunk in app_iter:
                if chunk:
                    self.sent = True
                body.append(chunk)
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                close()
        return b"".join(body)


def environ_for(path="/", **kwargs):
    environ = EnvironBuilder(path, **kwargs).get_environ()
    environ["wsgi.errors"] = io.StringIO()
    return environ


def test_wsgi_error_before_first_chunk_replaces_headers(dapp):
    server = Server()
    body = server.run(DebuggedApplication(dapp), environ_for("/stream-early"))
    (first_status, _, first_exc), (status, headers, exc_info) = server.calls
    assert first_status.startswith("200")
    assert first_exc is None
    assert status == "500 INTERNAL SERVER ERROR"
    assert exc_info[0] is RuntimeError
    assert ("Cache-Control", "no-store") in headers
    assert b"RuntimeError: early stream failure" in body


def test_wsgi_error_before_start_response_has_no_exc_info(dapp):
    server = Server()
    body = server.run(DebuggedApplication(dapp), environ_for("/boom"))
    ((status, _, exc_info),) = server.calls
    assert status == "500 INTERNAL SERVER ERROR"
    assert exc_info is None
    assert b"ValueError: boom from the view" in body


def test_wsgi_stream_error_without_debug_propagates(dapp):
    mw = DebuggedApplication(dapp)
    dapp.debug = False
    with pytest.raises(RuntimeError, match="early stream failure"):
        Server().run(mw, environ_for("/stream-early"))


def test_wsgi_iterable_is_closed():
    closed = []

    class Body:
        def __iter__(self):
            yield b"a"
            yield b""
            yield b"b"

        def close(self):
            closed.append(True)

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return Body()

    assert Server().run(DebuggedApplication(app), environ_for()) == b"ab"
    assert closed == [True]


def test_wsgi_empty_chunks_do_not_count_as_sent():
    class App:
        debug = True

        def __call__(self, environ, start_response):
            start_response("200 OK", [])
            yield b""
            raise KeyError("after empty chunk")

    server = Server()
    body = server.run(DebuggedApplication(App()), environ_for())
    assert server.calls[-1][0].startswith("500")
    assert b"KeyError: 'after empty chunk'" in body


def test_wsgi_request_details_from_environ():
    def app(environ, start_response):
        raise OSError("disk")

    app.debug = True  # type: ignore[attr-defined]
    environ = environ_for(
        "/caf\u00e9/x",
        query_string="q=%C3%A9",
        method="POST",
        data=b"x=1",
        content_type="application/x-www-form-urlencoded",
        headers={"X-Trace": "t-1"},
    )
    environ["SCRIPT_NAME"] = "/root"
    body = Server().run(DebuggedApplication(app), environ).decode()
    assert "POST /root/caf\u00e9/x?q=%C3%A9" in body
    assert "Content-Type: application/x-www-form-urlencoded" in body
    assert "Content-Length: 3" in body
    assert "X-Trace: t-1" in body
    assert "wsgi" not in body.split("Headers:")[1]


# -- ASGI specifics -----------------------------------------------------------


def run_asgi(app, scope, messages=()):
    sent = []
    incoming = [*messages, {"type": "http.request", "body": b""}]

    async def receive():
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(3600)  # pragma: no cover (never needed)

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def http_scope(path="/", headers=()):
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": list(headers),
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 5555),
    }


def test_asgi_error_before_first_body_message_is_a_page(dapp):
    sent = run_asgi(
        DebuggedApplication(dapp),
        http_scope("/stream-early", [(b"accept", b"text/html")]),
    )
    start, body = sent
    assert start["type"] == "http.response.start"
    assert start["status"] == 500
    assert (b"content-type", b"text/html; charset=utf-8") in start["headers"]
    assert b"RuntimeError: early stream failure" in body["body"]


def test_asgi_start_without_body_is_forwarded():
    class App:
        debug = True

        async def __call__(self, scope, receive, send):
            await send({"type": "http.response.start", "status": 204, "headers": []})

    sent = run_asgi(DebuggedApplication(App()), http_scope())
    assert sent == [{"type": "http.response.start", "status": 204, "headers": []}]


def test_asgi_start_is_held_until_body():
    class App:
        debug = True

        async def __call__(self, scope, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"x", "more_body": True})
            await send({"type": "http.response.body", "body": b"y"})

    sent = run_asgi(DebuggedApplication(App()), http_scope())
    assert [m["type"] for m in sent] == [
        "http.response.start",
        "http.response.body",
        "http.response.body",
    ]


@pytest.mark.parametrize("kind", ["lifespan", "websocket"])
def test_asgi_other_scopes_pass_through(kind):
    seen = []

    async def app(scope, receive, send):
        seen.append(scope["type"])
        raise RuntimeError("not an http error")

    app.debug = True  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError):
        run_asgi(DebuggedApplication(app), {"type": kind})
    assert seen == [kind]


def test_call_picks_protocol_and_looks_like_coroutine(dapp):
    mw = DebuggedApplication(dapp)
    assert inspect.iscoroutinefunction(mw.__call__) or asyncio.iscoroutinefunction(
        mw.__call__
    )
    assert inspect.iscoroutine(coro := mw(http_scope(), None, None))
    coro.close()
    assert repr(mw) == f"<DebuggedApplication {dapp!r}>"


def test_asgi_lifespan_of_real_app(dapp):
    sent = run_asgi(
        DebuggedApplication(dapp),
        {"type": "lifespan", "asgi": {"version": "3.0"}},
        [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}],
    )
    assert [m["type"] for m in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]


# -- debug flag lookup --------------------------------------------------------


def test_debug_found_through_bound_method_and_middleware(dapp):
    assert DebuggedApplication(dapp.wsgi_app).debug_enabled()
    assert DebuggedApplication(ProxyFix(dapp)).debug_enabled()
    dapp.debug = False
    assert not DebuggedApplication(ProxyFix(dapp.wsgi_app)).debug_enabled()


def test_debug_not_found():
    def plain(environ, start_response):
        raise ValueError("plain")

    mw = DebuggedApplication(plain)
    assert not mw.debug_enabled()
    with pytest.raises(ValueError, match="plain"):
        Server().run(mw, environ_for())

    class Loop:
        pass

    loop = Loop()
    loop.app = loop  # type: ignore[attr-defined]
    assert not DebuggedApplication(loop).debug_enabled()

    class Truthy:
        debug = "yes"

    assert not DebuggedApplication(Truthy()).debug_enabled()


# -- rendering details --------------------------------------------------------


def raise_and_catch(func):
    try:
        func()
    except BaseException as e:
        return e
    raise AssertionError("func did not raise")  # pragma: no cover


def request_info(**kw):
    values = {"method": "GET", "path": "/", "query_string": "", "headers": []}
    values.update(kw)
    return debug_mod._RequestInfo(**values)


def render(exc, accept=None, **kw):
    body, content_type = DebuggedApplication(None, **kw).render(
        exc, request_info(), accept
    )
    return body.decode(), content_type


def test_deep_recursion_omits_middle_frames():
    def recurse(n):
        if n == 0:
            raise RecursionError("bottom")
        recurse(n - 1)

    exc = raise_and_catch(lambda: recurse(300))
    for accept in (None, "text/html"):
        body, _ = render(exc, accept)
        frames = len(debug_mod.traceback.extract_tb(exc.__traceback__))
        assert frames > 300
        assert f"{frames - debug_mod.MAX_FRAMES} more frames" in body
        assert body.count("in recurse") + body.count("<code>recurse</code>") <= (
            debug_mod.MAX_FRAMES
        )


def test_source_not_available():
    namespace: dict[str, object] = {}
    exec(
        compile("def f():\n    raise ValueError('no source')\n", "<dyn>", "exec"),
        namespace,
    )
    exc = raise_and_catch(namespace["f"])
    html, _ = render(exc, "text/html")
    assert "(source not available)" in html
    assert (
        '<details class="frame lib"><summary class="where">File <code>&lt;dyn&gt;'
        in html
    )
    text, _ = render(exc)
    assert 'File "<dyn>", line 2, in f\nValueError: no source' in text


def test_frame_without_line_number():
    frame = debug_mod._Frame("app.py", None, "view", (), False)
    assert "line ?, in" in debug_mod._html_frame(frame)
    section = debug_mod._Section(None, "E: x", (frame,), 0)
    assert 'File "app.py", line ?, in view' in debug_mod._text_page(
        [section], request_info()
    )


def test_app_frames_are_not_library_frames():
    assert not debug_mod._is_library_file(__file__)
    assert debug_mod._is_library_file(debug_mod.__file__)
    assert debug_mod._is_library_file(logging.__file__)
    assert debug_mod._is_library_file("/somewhere/site-packages/pkg/mod.py")
    assert debug_mod._is_library_file("<frozen importlib._bootstrap>")


def test_long_message_is_cut():
    exc = ValueError("x" * (debug_mod.MAX_MESSAGE * 2))
    body, _ = render(exc)
    assert "more characters)" in body
    assert len(body) < debug_mod.MAX_MESSAGE + 2000


def test_syntax_error_summary():
    exc = raise_and_catch(lambda: compile("a = (", "broken.py", "exec"))
    body, _ = render(exc)
    assert 'File "broken.py", line 1' in body
    assert "SyntaxError:" in body


def test_exception_group_members_are_shown():
    def fail():
        try:
            raise KeyError("inner cause")
        except KeyError as e:
            sub = ValueError("second member")
            sub.__cause__ = e
        raise ExceptionGroup("several", [TypeError("first member"), sub])

    body, _ = render(raise_and_catch(fail))
    assert "ExceptionGroup: several (2 sub-exceptions)" in body
    assert "Sub-exception 1 of 2 of the exception group above:" in body
    assert "TypeError: first member" in body
    assert body.index("Sub-exception 2 of 2") < body.index("KeyError: 'inner cause'")
    assert body.index("KeyError: 'inner cause'") < body.index(
        "ValueError: second member"
    )


def test_exception_group_repeated_member_is_shown_once():
    member = TypeError("same member")
    group = ExceptionGroup("dup", [member, member])
    body, _ = render(group)
    assert body.count("TypeError: same member") == 1


def test_cyclic_chain_terminates():
    a = ValueError("a")
    b = KeyError("b")
    a.__context__ = b
    b.__context__ = a
    body, _ = render(a)
    assert body.count("ValueError: a") == 1
    assert body.count("KeyError: 'b'") == 1

    c = ValueError("c")
    d = KeyError("d")
    c.__cause__ = d
    d.__cause__ = c
    body, _ = render(c)
    assert body.count(debug_mod._CAUSE) == 1


def test_long_chain_keeps_the_newest():
    exc: BaseException = ValueError("oldest")
    for number in range(40):
        new = ValueError(f"link {number}")
        new.__cause__ = exc
        exc = new
    body, _ = render(exc)
    assert "link 39" in body
    assert "oldest" not in body
    assert body.count("Traceback (most recent call last):") == debug_mod.MAX_CHAIN


def test_render_failure_falls_back(dapp, monkeypatch, caplog):
    def broken(exc, context_lines):
        raise RuntimeError("renderer broke")

    monkeypatch.setattr(debug_mod, "_sections", broken)
    with Client(DebuggedApplication(dapp)) as c:
        with caplog.at_level(logging.ERROR, logger="erlen.debug"):
            response = c.get("/boom", headers={"Accept": "text/html"})
    assert response.status_code == 500
    assert response.mimetype == "text/plain"
    assert "traceback of ValueError is in the server's log" in text_of(response)
    messages = [r.getMessage() for r in caplog.records if r.name == "erlen.debug"]
    assert "The debug page could not be rendered" in messages


def test_empty_headers_and_query_when_masking():
    assert debug_mod._masked_query("", False) == ""
    assert debug_mod._masked_headers([("Cookie", "a")], True) == [("Cookie", "a")]
    assert debug_mod._masked_query("a%5Ftoken=1&b=2", False) == f"a%5Ftoken={MASK}&b=2"


@pytest.mark.parametrize(
    "name",
    [
        "Cookie",
        "Set-Cookie",
        "Authorization",
        "Proxy-Authorization",
        "X-Api-Key",
        "X-CSRF-Token",
        "X-Secret",
        "X-User-Password",
        "X-Amz-Security-Token",
        "api_key",
    ],
)
def test_secret_names(name):
    assert debug_mod._is_secret_name(name)


@pytest.mark.parametrize(
    "name", ["Host", "Accept", "User-Agent", "Content-Type", "X-Request-Id", "page"]
)
def test_non_secret_names(name):
    assert not debug_mod._is_secret_name(name)


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (None, False),
        ("", False),
        ("*/*", False),
        ("text/*", False),
        ("application/json", False),
        ("text/html", True),
        ("TEXT/HTML", True),
        ("application/xhtml+xml", True),
        (BROWSER_ACCEPT, True),
        ("text/plain, text/html;q=0.5", False),
        ("text/html, text/plain", True),
        ("text/html;q=0", False),
        ("text/html;q=0.5, */*;q=0.9", False),
        ("garbage,,;;", False),
    ],
)
def test_wants_html(accept, html):
    assert debug_mod._wants_html(accept) is html


# -- differential: Werkzeug's DebuggedApplication -------------------------------


def werkzeug_debugged(app):
    from werkzeug.debug import DebuggedApplication as WerkzeugDebugged

    return WerkzeugDebugged(app, evalex=False)


def message_app(message):
    def app(environ, start_response):
        raise ValueError(message)

    app.debug = True  # type: ignore[attr-defined]
    return app


def both_pages(app, path="/"):
    pages = []
    for mw in (DebuggedApplication(app), werkzeug_debugged(app)):
        server = Server()
        body = server.run(mw, environ_for(path, headers={"Accept": "text/html"}))
        pages.append((server.calls[-1][0], body.decode()))
    return pages


def test_differential_status_and_source_line(dapp):
    (ours, our_body), (theirs, their_body) = both_pages(dapp, "/boom")
    assert ours.split()[0] == theirs.split()[0] == "500"
    line = escape('raise ValueError("boom from the view")')
    assert line in our_body
    assert line in their_body
    summary = escape("ValueError: boom from the view")
    assert summary in our_body
    assert summary in their_body


def test_differential_chained(dapp):
    (_, ours), (_, theirs) = both_pages(dapp, "/chained")
    for text in ("KeyError: &#39;missing-key&#39;", "LookupError: wrapped lookup"):
        assert text in ours
        assert text in theirs


def test_differential_no_debug_propagates(dapp):
    # Werkzeug shows the page whatever the app's mode; erlen refuses.
    dapp.debug = False
    dapp.config["PROPAGATE_EXCEPTIONS"] = True
    server = Server()
    server.run(werkzeug_debugged(dapp), environ_for("/boom"))
    assert server.calls[-1][0].startswith("500")
    with pytest.raises(ValueError, match="boom from the view"):
        Server().run(DebuggedApplication(dapp), environ_for("/boom"))


@given(
    st.text(
        st.characters(
            blacklist_categories=("Cs",),
            blacklist_characters="\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029",
        ),
        max_size=60,
    )
)
def test_differential_escaped_message(message):
    app = message_app(message)
    exc = raise_and_catch(lambda: app({}, None))
    summary = escape(
        "".join(debug_mod.traceback.format_exception_only(ValueError, exc)).rstrip("\n")
    )
    (_, ours), (_, theirs) = both_pages(app)
    assert summary in ours
    assert summary in theirs
    if escape(message) != message:
        # The raw text never reaches our HTML. (Werkzeug's page repeats the
        # raw traceback inside an HTML comment, so it is not checked.)
        assert f"ValueError: {message}" not in ours.replace(str(summary), "")


def test_wsgi_list_body_without_close():
    def app(environ, start_response):
        start_response("200 OK", [])
        return [b"listed"]

    assert Server().run(DebuggedApplication(app), environ_for()) == b"listed"


def test_asgi_messages_are_forwarded_unchanged_without_start():
    # An app breaking the protocol (body before start) is not repaired: the
    # server sees exactly what the app sent.
    async def app(scope, receive, send):
        await send({"type": "http.response.body", "body": b"z"})

    sent = run_asgi(DebuggedApplication(app), http_scope())
    assert sent == [{"type": "http.response.body", "body": b"z"}]
