"""The Quart app: Flask's API with async views and hooks."""

from __future__ import annotations

import typing as t

from benchmarks import common as c


def build() -> t.Any:
    """Return the Quart ASGI app."""
    import quart
    from quart import g
    from quart import jsonify
    from quart import make_response
    from quart import render_template
    from quart import request

    app = quart.Quart(
        "bench_app", root_path=str(c.HERE), template_folder=str(c.TEMPLATES)
    )

    @app.before_request
    async def before() -> None:
        g.hook = c.HOOK_VALUE

    @app.after_request
    async def after(response: t.Any) -> t.Any:
        response.headers["X-Hook"] = g.hook
        return response

    @app.get("/")
    async def hello() -> t.Any:
        return c.HELLO

    @app.get("/json")
    async def json_view() -> t.Any:
        return jsonify(message=c.HELLO)

    @app.get("/user/<int:id>/post/<slug>")
    async def user_post(id: int, slug: str) -> t.Any:
        return c.user_answer(id, slug)

    @app.get("/search")
    async def search() -> t.Any:
        args = request.args
        return jsonify(q=args.get("q", ""), page=args.get("page", 1, type=int))

    @app.post("/form")
    async def form() -> t.Any:
        data = await request.form
        return c.form_answer(len(data), data["f9"])

    @app.post("/upload")
    async def upload() -> t.Any:
        files = await request.files
        data = await request.form
        file = files["file"]
        content = file.read()
        return c.upload_answer(file.filename, len(content), data["title"], data["tag"])

    @app.post("/echo-json")
    async def echo_json() -> t.Any:
        return jsonify(await request.get_json())

    @app.get("/template")
    async def template() -> t.Any:
        return await render_template(
            c.TEMPLATE_NAME, title=c.TEMPLATE_TITLE, items=c.TEMPLATE_ITEMS
        )

    @app.get("/cookie")
    async def cookie() -> t.Any:
        value = request.cookies.get(c.COOKIE_IN, "")
        resp = await make_response(value)
        resp.set_cookie(c.COOKIE_OUT, value)
        return resp

    def make_deep(version: int) -> t.Callable[..., t.Any]:
        async def view(id: int) -> t.Any:
            return c.deep_answer(version, id)

        return view

    for i in range(c.DEEP_ROUTES + 1):
        app.add_url_rule(
            f"/api/v{i}/items/<int:id>", endpoint=f"deep_v{i}", view_func=make_deep(i)
        )
    return app
