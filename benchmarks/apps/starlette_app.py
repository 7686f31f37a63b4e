"""The Starlette apps: async endpoints, and the same endpoints as sync functions.

Starlette has no before/after-request hooks; the closest equivalent that
keeps streaming and context variables intact is a pure ASGI middleware
(``BaseHTTPMiddleware`` would add a task and a memory stream per request):
it stores the hook value in ``scope["state"]`` (``request.state``) and adds
the header on ``http.response.start``.

Sync endpoints run in Starlette's thread pool; a sync endpoint cannot await
the body, so the body-reading ones call ``anyio.from_thread.run``, as sync
Starlette code must.
"""

from __future__ import annotations

import typing as t

import anyio.from_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from benchmarks import common as c


class HookMiddleware:
    """The before-request and after-request hooks as one ASGI middleware."""

    def __init__(self, app: t.Any) -> None:
        self.app = app

    async def __call__(self, scope: t.Any, receive: t.Any, send: t.Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["hook"] = c.HOOK_VALUE

        async def send_with_hook(message: t.Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                headers.append((b"x-hook", state["hook"].encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_hook)


def _templates() -> Jinja2Templates:
    return Jinja2Templates(env=c.template_environment())


def _template_context() -> dict[str, t.Any]:
    return {"title": c.TEMPLATE_TITLE, "items": c.TEMPLATE_ITEMS}


def _cookie_response(request: t.Any) -> t.Any:
    value = request.cookies.get(c.COOKIE_IN, "")
    resp = PlainTextResponse(value)
    resp.set_cookie(c.COOKIE_OUT, value)
    return resp


def _search(request: t.Any) -> t.Any:
    params = request.query_params
    return JSONResponse(
        {"q": params.get("q", ""), "page": int(params.get("page", "1"))}
    )


def _make(routes: list[Route]) -> Starlette:
    return Starlette(routes=routes, middleware=[Middleware(HookMiddleware)])


def build_async() -> Starlette:
    """Return the Starlette app with async endpoints."""
    templates = _templates()

    async def hello(request: t.Any) -> t.Any:
        return PlainTextResponse(c.HELLO)

    async def json_view(request: t.Any) -> t.Any:
        return JSONResponse({"message": c.HELLO})

    async def user_post(request: t.Any) -> t.Any:
        p = request.path_params
        return PlainTextResponse(c.user_answer(p["id"], p["slug"]))

    async def search(request: t.Any) -> t.Any:
        return _search(request)

    async def form(request: t.Any) -> t.Any:
        data = await request.form()
        return PlainTextResponse(c.form_answer(len(data), data["f9"]))

    async def upload(request: t.Any) -> t.Any:
        data = await request.form()
        file = data["file"]
        content = await file.read()
        return PlainTextResponse(
            c.upload_answer(file.filename, len(content), data["title"], data["tag"])
        )

    async def echo_json(request: t.Any) -> t.Any:
        return JSONResponse(await request.json())

    async def template(request: t.Any) -> t.Any:
        return templates.TemplateResponse(request, c.TEMPLATE_NAME, _template_context())

    async def cookie(request: t.Any) -> t.Any:
        return _cookie_response(request)

    def make_deep(version: int) -> t.Any:
        async def view(request: t.Any) -> t.Any:
            return PlainTextResponse(c.deep_answer(version, request.path_params["id"]))

        return view

    return _make(
        _routes(hello, json_view, user_post, search, form, upload, echo_json, template)
        + [Route("/cookie", cookie)]
        + _deep_routes(make_deep)
    )


def build_sync() -> Starlette:
    """Return the Starlette app with sync endpoints (run in the thread pool)."""
    templates = _templates()

    async def read_form(request: t.Any) -> t.Any:
        return await request.form()

    def hello(request: t.Any) -> t.Any:
        return PlainTextResponse(c.HELLO)

    def json_view(request: t.Any) -> t.Any:
        return JSONResponse({"message": c.HELLO})

    def user_post(request: t.Any) -> t.Any:
        p = request.path_params
        return PlainTextResponse(c.user_answer(p["id"], p["slug"]))

    def search(request: t.Any) -> t.Any:
        return _search(request)

    def form(request: t.Any) -> t.Any:
        data = anyio.from_thread.run(read_form, request)
        return PlainTextResponse(c.form_answer(len(data), data["f9"]))

    def upload(request: t.Any) -> t.Any:
        data = anyio.from_thread.run(read_form, request)
        file = data["file"]
        content = file.file.read()
        return PlainTextResponse(
            c.upload_answer(file.filename, len(content), data["title"], data["tag"])
        )

    def echo_json(request: t.Any) -> t.Any:
        return JSONResponse(anyio.from_thread.run(request.json))

    def template(request: t.Any) -> t.Any:
        return templates.TemplateResponse(request, c.TEMPLATE_NAME, _template_context())

    def cookie(request: t.Any) -> t.Any:
        return _cookie_response(request)

    def make_deep(version: int) -> t.Any:
        def view(request: t.Any) -> t.Any:
            return PlainTextResponse(c.deep_answer(version, request.path_params["id"]))

        return view

    return _make(
        _routes(hello, json_view, user_post, search, form, upload, echo_json, template)
        + [Route("/cookie", cookie)]
        + _deep_routes(make_deep)
    )


def _routes(
    hello: t.Any,
    json_view: t.Any,
    user_post: t.Any,
    search: t.Any,
    form: t.Any,
    upload: t.Any,
    echo_json: t.Any,
    template: t.Any,
) -> list[Route]:
    return [
        Route("/", hello),
        Route("/json", json_view),
        Route("/user/{id:int}/post/{slug}", user_post),
        Route("/search", search),
        Route("/form", form, methods=["POST"]),
        Route("/upload", upload, methods=["POST"]),
        Route("/echo-json", echo_json, methods=["POST"]),
        Route("/template", template),
    ]


def _deep_routes(make_deep: t.Callable[[int], t.Any]) -> list[Route]:
    return [
        Route(f"/api/v{i}/items/{{id:int}}", make_deep(i))
        for i in range(c.DEEP_ROUTES + 1)
    ]
