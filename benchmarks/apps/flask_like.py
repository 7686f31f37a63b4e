"""The same app source for Flask and erlen (sync views), and erlen with async views.

The views are written once against Flask's API and built on the ``flask``
or the ``erlen`` module, so the two run exactly the same user code. The
async variant writes every view and both hooks as ``async def`` (as an
async erlen app would be written); templates are rendered with the plain
``render_template``, as in a Flask async view.
"""

from __future__ import annotations

import types
import typing as t

from benchmarks import common as c


def _views(mod: types.ModuleType) -> dict[str, t.Callable[..., t.Any]]:
    """Return the views and hooks, written against ``mod``'s Flask API."""
    request, g = mod.request, mod.g
    jsonify, make_response = mod.jsonify, mod.make_response
    render_template = mod.render_template

    # The bodies of the views, shared by the sync and the async variants.
    def hello() -> t.Any:
        return c.HELLO

    def json_view() -> t.Any:
        return jsonify(message=c.HELLO)

    def user_post(id: int, slug: str) -> t.Any:
        return c.user_answer(id, slug)

    def search() -> t.Any:
        args = request.args
        return jsonify(q=args.get("q", ""), page=args.get("page", 1, type=int))

    def form() -> t.Any:
        data = request.form
        return c.form_answer(len(data), data["f9"])

    def upload() -> t.Any:
        file = request.files["file"]
        data = file.read()
        form = request.form
        return c.upload_answer(file.filename, len(data), form["title"], form["tag"])

    def echo_json() -> t.Any:
        return jsonify(request.get_json())

    def template() -> t.Any:
        return render_template(
            c.TEMPLATE_NAME, title=c.TEMPLATE_TITLE, items=c.TEMPLATE_ITEMS
        )

    def cookie() -> t.Any:
        value = request.cookies.get(c.COOKIE_IN, "")
        resp = make_response(value)
        resp.set_cookie(c.COOKIE_OUT, value)
        return resp

    def before() -> None:
        g.hook = c.HOOK_VALUE

    def after(response: t.Any) -> t.Any:
        response.headers["X-Hook"] = g.hook
        return response

    return {
        "hello": hello,
        "json_view": json_view,
        "user_post": user_post,
        "search": search,
        "form": form,
        "upload": upload,
        "echo_json": echo_json,
        "template": template,
        "cookie": cookie,
        "before": before,
        "after": after,
    }


def _make_deep(version: int) -> t.Callable[[int], t.Any]:
    def view(id: int) -> t.Any:
        return c.deep_answer(version, id)

    return view


def _build(mod: types.ModuleType, async_views: bool) -> t.Any:
    app = mod.Flask(
        "bench_app", root_path=str(c.HERE), template_folder=str(c.TEMPLATES)
    )
    v = _views(mod)

    def asyncify(func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        if not async_views:
            return func

        async def view(*args: t.Any, **kwargs: t.Any) -> t.Any:
            return func(*args, **kwargs)

        view.__name__ = func.__name__
        return view

    app.before_request(asyncify(v["before"]))
    app.after_request(asyncify(v["after"]))
    routes = [
        ("/", "hello", ["GET"]),
        ("/json", "json_view", ["GET"]),
        ("/user/<int:id>/post/<slug>", "user_post", ["GET"]),
        ("/search", "search", ["GET"]),
        ("/form", "form", ["POST"]),
        ("/upload", "upload", ["POST"]),
        ("/echo-json", "echo_json", ["POST"]),
        ("/template", "template", ["GET"]),
        ("/cookie", "cookie", ["GET"]),
    ]
    for rule, name, methods in routes:
        app.add_url_rule(rule, view_func=asyncify(v[name]), methods=methods)
    for i in range(c.DEEP_ROUTES + 1):
        app.add_url_rule(
            f"/api/v{i}/items/<int:id>",
            endpoint=f"deep_v{i}",
            view_func=asyncify(_make_deep(i)),
        )
    return app


def build_flask() -> t.Any:
    """Return the Flask app."""
    import flask

    return _build(flask, async_views=False)


def build_erlen() -> t.Any:
    """Return the erlen app with sync views (a WSGI and an ASGI callable)."""
    import erlen

    return _build(erlen, async_views=False)


def build_erlen_async() -> t.Any:
    """Return the erlen app with ``async def`` views and hooks."""
    import erlen

    return _build(erlen, async_views=True)
