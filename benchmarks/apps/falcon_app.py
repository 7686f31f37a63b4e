"""The Falcon apps (WSGI and ASGI): resources, and middleware as the hooks.

Falcon has no before/after-request hooks on the app; the closest equivalent
is a middleware component's ``process_request`` and ``process_response``,
which run for every request, routed or not. Templates come from the shared
autoescaping Jinja environment (``common.template_environment``).
"""

from __future__ import annotations

import typing as t

import falcon
import falcon.asgi

from benchmarks import common as c

_ROUTES = (
    ("/", "hello"),
    ("/json", "json"),
    ("/user/{id:int}/post/{slug}", "user"),
    ("/search", "search"),
    ("/form", "form"),
    ("/upload", "upload"),
    ("/echo-json", "echo"),
    ("/template", "template"),
    ("/cookie", "cookie"),
)


def _text(resp: t.Any, text: str) -> None:
    resp.content_type = falcon.MEDIA_TEXT
    resp.text = text


# --- WSGI --------------------------------------------------------------------


class _Hooks:
    def process_request(self, req: t.Any, resp: t.Any) -> None:
        req.context.hook = c.HOOK_VALUE

    def process_response(
        self, req: t.Any, resp: t.Any, resource: t.Any, req_succeeded: bool
    ) -> None:
        resp.set_header("X-Hook", req.context.hook)


class _Resources:
    """Each endpoint as a responder; mapped to routes by suffix."""

    def __init__(self) -> None:
        self.env = c.template_environment()

    def on_get_hello(self, req: t.Any, resp: t.Any) -> None:
        _text(resp, c.HELLO)

    def on_get_json(self, req: t.Any, resp: t.Any) -> None:
        resp.media = {"message": c.HELLO}

    def on_get_user(self, req: t.Any, resp: t.Any, id: int, slug: str) -> None:
        _text(resp, c.user_answer(id, slug))

    def on_get_search(self, req: t.Any, resp: t.Any) -> None:
        resp.media = {
            "q": req.get_param("q", default=""),
            "page": req.get_param_as_int("page", default=1),
        }

    def on_post_form(self, req: t.Any, resp: t.Any) -> None:
        data = req.get_media()
        _text(resp, c.form_answer(len(data), data["f9"]))

    def on_post_upload(self, req: t.Any, resp: t.Any) -> None:
        fields = {}
        filename, size = "", 0
        for part in req.get_media():
            if part.filename:
                filename, size = part.filename, len(part.stream.read())
            else:
                fields[part.name] = part.text
        _text(resp, c.upload_answer(filename, size, fields["title"], fields["tag"]))

    def on_post_echo(self, req: t.Any, resp: t.Any) -> None:
        resp.media = req.get_media()

    def on_get_template(self, req: t.Any, resp: t.Any) -> None:
        tpl = self.env.get_template(c.TEMPLATE_NAME)
        resp.content_type = falcon.MEDIA_HTML
        resp.text = tpl.render(title=c.TEMPLATE_TITLE, items=c.TEMPLATE_ITEMS)

    def on_get_cookie(self, req: t.Any, resp: t.Any) -> None:
        value = req.cookies.get(c.COOKIE_IN, "")
        resp.set_cookie(c.COOKIE_OUT, value, path="/", secure=False)
        _text(resp, value)


class _Deep:
    def __init__(self, version: int) -> None:
        self.version = version

    def on_get(self, req: t.Any, resp: t.Any, id: int) -> None:
        _text(resp, c.deep_answer(self.version, id))


def build_wsgi() -> t.Any:
    """Return the Falcon WSGI app."""
    app = falcon.App(middleware=[_Hooks()])
    resources = _Resources()
    for path, suffix in _ROUTES:
        app.add_route(path, resources, suffix=suffix)
    for i in range(c.DEEP_ROUTES + 1):
        app.add_route(f"/api/v{i}/items/{{id:int}}", _Deep(i))
    return app


# --- ASGI --------------------------------------------------------------------


class _AsyncHooks:
    async def process_request(self, req: t.Any, resp: t.Any) -> None:
        req.context.hook = c.HOOK_VALUE

    async def process_response(
        self, req: t.Any, resp: t.Any, resource: t.Any, req_succeeded: bool
    ) -> None:
        resp.set_header("X-Hook", req.context.hook)


class _AsyncResources:
    def __init__(self) -> None:
        self.env = c.template_environment()

    async def on_get_hello(self, req: t.Any, resp: t.Any) -> None:
        _text(resp, c.HELLO)

    async def on_get_json(self, req: t.Any, resp: t.Any) -> None:
        resp.media = {"message": c.HELLO}

    async def on_get_user(self, req: t.Any, resp: t.Any, id: int, slug: str) -> None:
        _text(resp, c.user_answer(id, slug))

    async def on_get_search(self, req: t.Any, resp: t.Any) -> None:
        resp.media = {
            "q": req.get_param("q", default=""),
            "page": req.get_param_as_int("page", default=1),
        }

    async def on_post_form(self, req: t.Any, resp: t.Any) -> None:
        data = await req.get_media()
        _text(resp, c.form_answer(len(data), data["f9"]))

    async def on_post_upload(self, req: t.Any, resp: t.Any) -> None:
        fields = {}
        filename, size = "", 0
        form = await req.get_media()
        async for part in form:
            if part.filename:
                filename, size = part.filename, len(await part.get_data())
            else:
                fields[part.name] = await part.get_text()
        _text(resp, c.upload_answer(filename, size, fields["title"], fields["tag"]))

    async def on_post_echo(self, req: t.Any, resp: t.Any) -> None:
        resp.media = await req.get_media()

    async def on_get_template(self, req: t.Any, resp: t.Any) -> None:
        tpl = self.env.get_template(c.TEMPLATE_NAME)
        resp.content_type = falcon.MEDIA_HTML
        resp.text = tpl.render(title=c.TEMPLATE_TITLE, items=c.TEMPLATE_ITEMS)

    async def on_get_cookie(self, req: t.Any, resp: t.Any) -> None:
        value = req.cookies.get(c.COOKIE_IN, "")
        resp.set_cookie(c.COOKIE_OUT, value, path="/", secure=False)
        _text(resp, value)


class _AsyncDeep:
    def __init__(self, version: int) -> None:
        self.version = version

    async def on_get(self, req: t.Any, resp: t.Any, id: int) -> None:
        _text(resp, c.deep_answer(self.version, id))


def build_asgi() -> t.Any:
    """Return the Falcon ASGI app."""
    app = falcon.asgi.App(middleware=[_AsyncHooks()])
    resources = _AsyncResources()
    for path, suffix in _ROUTES:
        app.add_route(path, resources, suffix=suffix)
    for i in range(c.DEEP_ROUTES + 1):
        app.add_route(f"/api/v{i}/items/{{id:int}}", _AsyncDeep(i))
    return app
