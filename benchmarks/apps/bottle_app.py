"""The Bottle app: ``before_request``/``after_request`` hooks, a shared Jinja env.

Bottle's own ``jinja2_template`` builds its environment without
autoescaping, so the template is rendered from the shared autoescaping
environment (``common.template_environment``), as for Falcon.
"""

from __future__ import annotations

import typing as t

import bottle

from benchmarks import common as c


def build() -> t.Any:
    """Return the Bottle WSGI app."""
    app = bottle.Bottle()
    request, response = bottle.request, bottle.response
    env = c.template_environment()

    @app.hook("before_request")
    def before() -> None:
        request.environ["bench.hook"] = c.HOOK_VALUE

    @app.hook("after_request")
    def after() -> None:
        response.set_header("X-Hook", request.environ["bench.hook"])

    @app.get("/")
    def hello() -> t.Any:
        return c.HELLO

    @app.get("/json")
    def json_view() -> t.Any:
        return {"message": c.HELLO}

    @app.get("/user/<id:int>/post/<slug>")
    def user_post(id: int, slug: str) -> t.Any:
        return c.user_answer(id, slug)

    @app.get("/search")
    def search() -> t.Any:
        query = request.query
        return {"q": query.getunicode("q", ""), "page": int(query.get("page", 1))}

    @app.post("/form")
    def form() -> t.Any:
        data = request.forms
        return c.form_answer(len(data), data.getunicode("f9"))

    @app.post("/upload")
    def upload() -> t.Any:
        file = request.files["file"]
        data = file.file.read()
        forms = request.forms
        return c.upload_answer(
            file.raw_filename, len(data), forms.getunicode("title"), forms["tag"]
        )

    @app.post("/echo-json")
    def echo_json() -> t.Any:
        return request.json

    @app.get("/template")
    def template() -> t.Any:
        tpl = env.get_template(c.TEMPLATE_NAME)
        return tpl.render(title=c.TEMPLATE_TITLE, items=c.TEMPLATE_ITEMS)

    @app.get("/cookie")
    def cookie() -> t.Any:
        value = request.get_cookie(c.COOKIE_IN, "")
        response.set_cookie(c.COOKIE_OUT, value, path="/")
        return value

    def make_deep(version: int) -> t.Callable[[int], t.Any]:
        def view(id: int) -> t.Any:
            return c.deep_answer(version, id)

        return view

    for i in range(c.DEEP_ROUTES + 1):
        app.get(f"/api/v{i}/items/<id:int>", callback=make_deep(i))
    return app
