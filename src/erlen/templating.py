"""Render Jinja2 templates with the app's environment: Flask's templating API.

Jinja2 is imported only when templating is first used: this module loads
without it, and :class:`Environment` and :class:`DispatchingJinjaLoader`
(Jinja2 subclasses, defined in ``erlen._jinja``) are resolved on first
access. ``app.jinja_env`` is created on first use as in Flask, so an app
that never renders a template never pays for Jinja2's import.

Async views. :func:`render_template` is synchronous, as in Flask: called
from an ``async def`` view it renders on the event loop, and a large
template holds the loop meanwhile. erlen adds :func:`render_template_async`
and :func:`render_template_string_async`, which render in a worker thread
(``asyncio.to_thread``) under a copy of the caller's context, so
``request``, ``session`` and ``g`` are the view's own. erlen renders in a
thread rather than in Jinja2's async mode because async mode compiles
every template differently (``enable_async``) and makes sync filters,
globals and macros awaitable, which would change what ``get_template_attribute``
and extensions see. :func:`stream_template` returned from an async view is
already off the loop: the ASGI driver iterates sync bodies in a worker
thread under the request's context, and the request context stays pushed
until the stream ends.
"""

from __future__ import annotations

import typing as t

from . import signals
from .globals import _cv_app
from .globals import _cv_request
from .helpers import stream_with_context

if t.TYPE_CHECKING:  # pragma: no cover
    from jinja2 import Template

    from ._jinja import DispatchingJinjaLoader as DispatchingJinjaLoader
    from ._jinja import Environment as Environment
    from .app import Flask

#: Names resolved from ``erlen._jinja`` on first access (PEP 562).
_JINJA_NAMES = frozenset({"Environment", "DispatchingJinjaLoader"})


def __getattr__(name: str) -> t.Any:
    if name in _JINJA_NAMES:
        # PERF: Jinja2 takes tens of milliseconds to import; load it when a
        # template is first needed, not on ``import erlen``.
        from . import _jinja

        value = getattr(_jinja, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _EnvironmentClassAttribute:
    """Resolve ``Flask.jinja_environment`` to :class:`Environment` when read.

    A non-data descriptor: a subclass or an instance that assigns its own
    class replaces it, as with Flask's plain class attribute.
    """

    def __get__(self, obj: object, owner: type | None = None) -> type[Environment]:
        from ._jinja import Environment

        return Environment


def _default_template_ctx_processor() -> dict[str, t.Any]:
    """Return ``g`` and ``request`` as the objects themselves, not proxies.

    Registered once in the app's ``template_context_processors[None]``.
    The session stays the ``session`` global of the environment, so that
    only templates that read it mark it accessed.
    """
    rv: dict[str, t.Any] = {}
    app_ctx = _cv_app.get(None)
    if app_ctx is not None:
        rv["g"] = app_ctx.g
    req_ctx = _cv_request.get(None)
    if req_ctx is not None:
        rv["request"] = req_ctx.request
    return rv


def _current_app(func_name: str) -> Flask:
    ctx = _cv_app.get(None)
    if ctx is None:
        raise RuntimeError(
            f"{func_name}() needs an application context to find the app's"
            " templates. Call it from a view, or inside"
            " 'with app.app_context():'."
        )
    return ctx.app


def _send(app: Flask, name: str, template: Template, context: t.Any) -> None:
    # PERF: blinker's send costs even without receivers; ask first (without
    # loading blinker when no signal was ever looked up).
    signal = signals.receivers_of(name)
    if signal is not None:
        signal.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=context
        )


def _render(app: Flask, template: Template, context: dict[str, t.Any]) -> str:
    app.update_template_context(context)
    _send(app, "before_render_template", template, context)
    rv = template.render(context)
    _send(app, "template_rendered", template, context)
    return rv


def render_template(
    template_name_or_list: str | Template | list[str | Template],
    **context: t.Any,
) -> str:
    """Render a template of the app by name, with ``context`` as its variables.

    :param template_name_or_list: a template name, a
        :class:`jinja2.Template`, or a list of them; the first that exists
        is rendered.
    :param context: the template's variables; they win over the names
        added by context processors.
    :raise jinja2.TemplateNotFound: if no template of that name exists
        (:class:`jinja2.TemplatesNotFound` for a list).
    :raise RuntimeError: outside an application context.
    """
    app = _current_app("render_template")
    template = app.jinja_env.get_or_select_template(template_name_or_list)
    return _render(app, template, context)


def render_template_string(source: str, **context: t.Any) -> str:
    """Render template source text (always autoescaped) with ``context``.

    :param source: the template's source.
    :param context: the template's variables.
    :raise RuntimeError: outside an application context.
    """
    app = _current_app("render_template_string")
    template = app.jinja_env.from_string(source)
    return _render(app, template, context)


async def render_template_async(
    template_name_or_list: str | Template | list[str | Template],
    **context: t.Any,
) -> str:
    """Render like :func:`render_template`, in a worker thread, for async views.

    The event loop keeps serving other requests while the template renders;
    the thread sees the caller's context (``request``, ``session``, ``g``).

    .. note:: Flask compatibility: an erlen addition; Flask has no async
       rendering function.
    """
    # PERF: imported on first use (import time); WSGI-only apps never load asyncio.
    import asyncio

    return await asyncio.to_thread(render_template, template_name_or_list, **context)


async def render_template_string_async(source: str, **context: t.Any) -> str:
    """Render like :func:`render_template_string`, in a worker thread.

    .. note:: Flask compatibility: an erlen addition.
    """
    # PERF: imported on first use (import time).
    import asyncio

    return await asyncio.to_thread(render_template_string, source, **context)


def _stream(
    app: Flask, template: Template, context: dict[str, t.Any]
) -> t.Iterator[str]:
    app.update_template_context(context)
    _send(app, "before_render_template", template, context)

    def generate() -> t.Iterator[str]:
        yield from template.generate(context)
        _send(app, "template_rendered", template, context)

    rv: t.Iterator[str] = generate()
    # Keep the request context pushed while the response body is produced.
    if _cv_request.get(None) is not None:
        rv = stream_with_context(rv)
    return rv


def stream_template(
    template_name_or_list: str | Template | list[str | Template],
    **context: t.Any,
) -> t.Iterator[str]:
    """Render a template of the app piece by piece, as a streamed response body.

    Inside a request the request context stays active until the stream
    has been consumed, so the template can read ``request`` and ``session``.

    :param template_name_or_list: as for :func:`render_template`.
    :param context: the template's variables.
    """
    app = _current_app("stream_template")
    template = app.jinja_env.get_or_select_template(template_name_or_list)
    return _stream(app, template, context)


def stream_template_string(source: str, **context: t.Any) -> t.Iterator[str]:
    """Render template source text piece by piece, as a streamed response body.

    :param source: the template's source.
    :param context: the template's variables.
    """
    app = _current_app("stream_template_string")
    template = app.jinja_env.from_string(source)
    return _stream(app, template, context)
