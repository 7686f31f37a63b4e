"""The bare WSGI callable plus the objects Flask's API requires, one layer at a time.

What does Flask's object model cost before any routing, hooks or dispatch
of a framework? Each variant here is the bare callable of ``bare.py`` (the
same handler, the same answers: every answer check passes) with erlen's
real code for one more layer of it, cumulative:

- ``layer-contexts``: a Request, an app context with its ``g``, a request
  context, both set as context variables (``erlen.ctx.push_lean``), the
  session check and the URL match (``ctx._open()``), and both popped
  (``erlen.ctx.pop_lean``, which closes the Request);
- ``layer-contexts-g``: also the two hook statements done the Flask way,
  ``g.hook = ...`` before and a read of ``g.hook`` after, through the
  ``erlen.g`` proxy (the bare callable uses the environ);
- ``layer-response``: also the answer made as an ``app.response_class``
  object (body, status, the endpoint's content type as its mimetype), the
  hook's header written with ``response.headers[...] = ...``, and sent
  with erlen's ``erlen.wsgi.respond``.

The app is the benchmark's erlen app (``flask_like.build_erlen()``), so its
config, session interface and URL map are the real ones; its first-request
decisions are made at build, and the build checks that the contexts are
pushed the lean way, as a real request's are. Each variant repeats the
bare callable's statements (not a call to it), so that the difference of
two consecutive variants is exactly the code of one layer. What these
leave out of erlen's request: ``contextvars.copy_context()`` and the
context's ``run``, the before/after hook and view calls and their
dispatch, ``make_response`` of the view's value, and ``wsgi_app``'s checks.
"""

from __future__ import annotations

import typing as t

import erlen
from benchmarks import common as c
from benchmarks.apps import bare
from benchmarks.apps import flask_like
from erlen.ctx import pop_lean
from erlen.ctx import push_lean
from erlen.wsgi import respond

WSGIApp = t.Callable[[dict[str, t.Any], t.Callable[..., t.Any]], t.Iterable[bytes]]


def _erlen_app() -> t.Any:
    """Return the benchmark's erlen app, ready to push the lean way.

    :raise RuntimeError: if a pushed context did not take the lean path
        (then the variants would count something else than a request does).
    """
    app = flask_like.build_erlen()
    # The decisions erlen makes at the first request (whether the lean path
    # applies among them), made as wsgi_app makes them.
    app._erlen_setup()
    environ = c.wsgi_environ(c.ENDPOINTS["hello"])
    ctx = push_lean(app, environ)
    try:
        if not ctx._cv_tokens:
            raise RuntimeError("push_lean did not push: the layers need the lean path")
        ctx._open()
        if ctx.request.url_rule is None:
            raise RuntimeError("the hello request matched no rule")
    finally:
        if ctx._cv_tokens:
            pop_lean(ctx, None)
    return app


def build_contexts() -> WSGIApp:
    """Return the bare callable inside a pushed and popped pair of contexts."""
    app = _erlen_app()
    handle = bare._make_handler()
    reasons = bare._REASONS

    def wsgi(
        environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]
    ) -> t.Iterable[bytes]:
        ctx = push_lean(app, environ)
        try:
            ctx._open()
            # The bare callable's statements, from here to the return.
            environ["bench.hook"] = c.HOOK_VALUE
            method = environ["REQUEST_METHOD"]
            body = b""
            if method == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                body = environ["wsgi.input"].read(length)
            status, headers, out = handle(
                method,
                environ["PATH_INFO"],
                environ.get("QUERY_STRING", ""),
                environ.get("HTTP_COOKIE", ""),
                environ.get("CONTENT_TYPE", ""),
                body,
            )
            headers = [
                *headers,
                ("Content-Length", str(len(out))),
                ("X-Hook", environ["bench.hook"]),
            ]
            start_response(reasons[status], headers)
            return [out]
        finally:
            pop_lean(ctx, None)

    return wsgi


def build_contexts_g() -> WSGIApp:
    """Return :func:`build_contexts`'s app with the hooks' value kept in ``g``."""
    app = _erlen_app()
    handle = bare._make_handler()
    reasons = bare._REASONS
    g = erlen.g

    def wsgi(
        environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]
    ) -> t.Iterable[bytes]:
        ctx = push_lean(app, environ)
        try:
            ctx._open()
            g.hook = c.HOOK_VALUE  # the before-request hook, as in flask_like
            method = environ["REQUEST_METHOD"]
            body = b""
            if method == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                body = environ["wsgi.input"].read(length)
            status, headers, out = handle(
                method,
                environ["PATH_INFO"],
                environ.get("QUERY_STRING", ""),
                environ.get("HTTP_COOKIE", ""),
                environ.get("CONTENT_TYPE", ""),
                body,
            )
            headers = [
                *headers,
                ("Content-Length", str(len(out))),
                ("X-Hook", g.hook),  # the after-request hook's read
            ]
            start_response(reasons[status], headers)
            return [out]
        finally:
            pop_lean(ctx, None)

    return wsgi


def build_response() -> WSGIApp:
    """Return :func:`build_contexts_g`'s app answering with a Response object."""
    app = _erlen_app()
    handle = bare._make_handler()
    response_class = app.response_class
    mimetypes = {
        ct: ct.partition(";")[0] for ct in (bare._TEXT, bare._JSON, bare._HTML)
    }
    g = erlen.g

    def wsgi(
        environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]
    ) -> t.Iterable[bytes]:
        ctx = push_lean(app, environ)
        try:
            ctx._open()
            g.hook = c.HOOK_VALUE
            method = environ["REQUEST_METHOD"]
            body = b""
            if method == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                body = environ["wsgi.input"].read(length)
            status, headers, out = handle(
                method,
                environ["PATH_INFO"],
                environ.get("QUERY_STRING", ""),
                environ.get("HTTP_COOKIE", ""),
                environ.get("CONTENT_TYPE", ""),
                body,
            )
            # The bare answer's first header is its content type, given as
            # the mimetype (erlen adds the charset of text types), as jsonify
            # and make_response give it. NOTE: not as ``content_type=``,
            # which takes the constructor's general path (~10k instructions
            # more than this one for hello).
            response = response_class(out, status, mimetype=mimetypes[headers[0][1]])
            if len(headers) > 1:  # the cookie endpoint's Set-Cookie
                response.headers.extend(headers[1:])
            response.headers["X-Hook"] = g.hook  # the after-request hook
        finally:
            pop_lean(ctx, None)
        # Sent after the pop, as wsgi_app sends what _handle_sync returns.
        return respond(response, environ, start_response)

    return wsgi
