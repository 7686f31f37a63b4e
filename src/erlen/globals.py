"""The context variables and the proxies user code reads them through."""

from __future__ import annotations

import typing as t
from contextvars import ContextVar

from .local import LocalProxy

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import Flask
    from .ctx import _AppCtxGlobals
    from .ctx import AppContext
    from .ctx import RequestContext
    from .sessions import SessionMixin
    from .websockets import Websocket
    from .wrappers import Request

_no_app_msg = """\
Working outside of application context.

This code needed the current application, but no application context is
active. To solve this, set up an application context with
app.app_context(), for example in a `with app.app_context():` block.\
"""

_no_req_msg = """\
Working outside of request context.

This code needed the current HTTP request, but no request is being handled.
In tests, use app.test_request_context() or the test client; in a
background task, pass the values it needs from the request explicitly.\
"""

_no_ws_msg = """\
Working outside of websocket context.

This code needed the current WebSocket connection, but none is being served:
`websocket` is only bound inside a view registered with @app.websocket(...)
(and the functions it calls), while that view runs.\
"""

_cv_app: ContextVar[AppContext] = ContextVar("erlen.app_ctx")
_cv_request: ContextVar[RequestContext] = ContextVar("erlen.request_ctx")

# NOTE: the proxies are declared with the type of the object they stand for,
# so that `request.args` and `current_app.config` type-check in user code. At
# run time each is a LocalProxy; `_get_current_object()` returns the object.
if t.TYPE_CHECKING:  # pragma: no cover
    app_ctx: AppContext
    current_app: Flask
    g: _AppCtxGlobals
    request_ctx: RequestContext
    request: Request
    session: SessionMixin
    websocket: Websocket
else:
    app_ctx = LocalProxy(_cv_app, unbound_message=_no_app_msg)
    current_app = LocalProxy(_cv_app, "app", unbound_message=_no_app_msg)
    g = LocalProxy(_cv_app, "g", unbound_message=_no_app_msg)
    request_ctx = LocalProxy(_cv_request, unbound_message=_no_req_msg)
    request = LocalProxy(_cv_request, "request", unbound_message=_no_req_msg)
    session = LocalProxy(_cv_request, "session", unbound_message=_no_req_msg)


def _current_websocket() -> Websocket:
    # The current request context's connection, if it serves one.
    ctx = _cv_request.get(None)
    websocket = None if ctx is None else ctx.websocket
    if websocket is None:
        raise RuntimeError(_no_ws_msg)
    return websocket


if not t.TYPE_CHECKING:
    websocket = LocalProxy(_current_websocket)
