"""Application and request contexts, and the helpers that work with them."""

from __future__ import annotations

import contextvars
import sys
import typing as t
from functools import update_wrapper

from . import signals
from ._async import iscoroutinefunction
from .exceptions import BadHost
from .exceptions import HTTPException
from .globals import _cv_app
from .globals import _cv_request
from .routing import MapAdapter
from .routing import WebsocketMismatch

if t.TYPE_CHECKING:  # pragma: no cover
    from types import TracebackType

    from .app import Flask
    from .sessions import SessionMixin
    from .websockets import Websocket
    from .wrappers import Request

_sentinel = object()
_ADAPTER_MATCH = MapAdapter.match
_UNBOUND = object()

T_after = t.TypeVar("T_after", bound=t.Callable[..., t.Any])
F = t.TypeVar("F", bound=t.Callable[..., t.Any])


E = t.TypeVar("E")


def _pop_own_token(
    var: contextvars.ContextVar[t.Any],
    entries: list[E],
    token_of: t.Callable[[E], contextvars.Token[t.Any]],
) -> E:
    """Reset ``var`` with the newest of ``entries`` made in the running context.

    Usually that is the last entry. A context object can also be pushed from
    two contexts at once: a streamed response keeps the request context
    pushed in the request's own context while the test client re-pushes it
    in the test's (``with client:``). Each pop then undoes its own push.
    """
    for index in range(len(entries) - 1, -1, -1):
        try:
            var.reset(token_of(entries[index]))
        except ValueError:  # made in another context
            continue
        return entries.pop(index)
    raise RuntimeError(
        f"Cannot pop {var.name!r}: it was not pushed in the running context."
        " Push and pop a context in the same thread or task."
    )


_new_object = object.__new__


class _AppCtxGlobals:
    """A plain namespace for data that lives as long as one application context.

    Reached through :data:`erlen.g`. Besides attribute access it offers the
    ``dict``-like ``get``, ``pop``, ``setdefault``, ``in`` and iteration.
    """

    # Attributes are stored in the instance __dict__; these methods only
    # give them a dict-like face.
    def __getattr__(self, name: str) -> t.Any:
        try:
            return self.__dict__[name]
        except KeyError:
            raise AttributeError(name) from None

    if t.TYPE_CHECKING:  # pragma: no cover
        # PERF: at run time, object's own (C) setattr and delattr do this.
        def __setattr__(self, name: str, value: t.Any) -> None: ...

        def __delattr__(self, name: str) -> None: ...

    def get(self, name: str, default: t.Any | None = None) -> t.Any:
        """Return the attribute ``name``, or ``default`` if it is not set."""
        return self.__dict__.get(name, default)

    def pop(self, name: str, default: t.Any = _sentinel) -> t.Any:
        """Remove the attribute ``name`` and return it, or ``default``."""
        if default is _sentinel:
            return self.__dict__.pop(name)
        return self.__dict__.pop(name, default)

    def setdefault(self, name: str, default: t.Any = None) -> t.Any:
        """Return the attribute ``name``, setting it to ``default`` first if unset."""
        return self.__dict__.setdefault(name, default)

    def __contains__(self, item: str) -> bool:
        return item in self.__dict__

    def __iter__(self) -> t.Iterator[str]:
        return iter(self.__dict__)

    def __repr__(self) -> str:
        ctx = _cv_app.get(None)
        if ctx is not None:
            return f"<erlen.g of '{ctx.app.name}'>"
        return object.__repr__(self)


def after_this_request(f: T_after) -> T_after:
    """Run ``f(response)`` after this request, before the after_request hooks.

    The function must take the response and return a response (the same or a
    new one), like an ``after_request`` function.
    """
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(
            "'after_this_request' can only be used while a request is being"
            " handled; call it from a view or a before_request function."
        )
    ctx._after_request_functions.append(f)
    return f


def copy_current_request_context(f: F) -> F:
    """Wrap ``f`` so that it runs inside a copy of the current request context.

    Useful for work started from a view (a greenlet, a thread) that must see
    ``request`` and ``session``. Coroutine functions are wrapped likewise.
    """
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(
            "'copy_current_request_context' can only be used while a request"
            " is being handled; call it from a view or a hook."
        )
    copied = ctx.copy()

    if iscoroutinefunction(f):

        async def async_wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
            with copied:
                # NOTE: awaited on the caller's loop; ensure_sync would run
                # it to completion synchronously and hand back a plain value.
                return await f(*args, **kwargs)

        return update_wrapper(async_wrapper, f)  # type: ignore[return-value]

    def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        with copied:
            return copied.app.ensure_sync(f)(*args, **kwargs)

    return update_wrapper(wrapper, f)  # type: ignore[return-value]


def has_request_context() -> bool:
    """Return whether a request context is active."""
    return _cv_request.get(None) is not None


def has_app_context() -> bool:
    """Return whether an application context is active."""
    return _cv_app.get(None) is not None


class AppContext:
    """The application context: ``current_app`` and ``g`` for its lifetime.

    Pushed automatically with each request, and by hand with
    ``with app.app_context():`` for CLI commands and background work.
    """

    #: Set by the generator pipeline when it ran the teardown functions.
    _erlen_teardown_done = False

    def __init__(self, app: Flask) -> None:
        self.app = app
        # PERF: the default create_url_adapter gives None without SERVER_NAME.
        self.url_adapter = (
            None
            if app._erlen_lazy_url_adapter and app.config["SERVER_NAME"] is None
            else app.create_url_adapter(None)
        )
        self.g: _AppCtxGlobals = app.app_ctx_globals_class()
        self._cv_tokens: list[contextvars.Token[AppContext]] = []

    def push(self) -> None:
        """Make this the current application context."""
        self._cv_tokens.append(_cv_app.set(self))
        # PERF: blinker's send costs even with no receivers; ask first.
        if signals._loaded:  # PERF: no call while no signal exists
            signal = signals.receivers_of("appcontext_pushed")
            if signal is not None:
                signal.send(self.app, _async_wrapper=self.app.ensure_sync)

    def pop(self, exc: BaseException | None = _sentinel) -> None:  # type: ignore[assignment]
        """Pop this context, running the teardown functions on its last pop."""
        try:
            if len(self._cv_tokens) == 1:
                if self._erlen_teardown_done:
                    del self._erlen_teardown_done
                else:
                    if exc is _sentinel:
                        exc = sys.exc_info()[1]
                    app = self.app
                    # PERF: no call when it would have nothing to do.
                    if (
                        not app._erlen_quiet_teardown
                        or app.teardown_appcontext_funcs
                        or signals._loaded
                    ):
                        app.do_teardown_appcontext(exc)
        finally:
            ctx = _cv_app.get()
            tokens = self._cv_tokens
            try:
                # PERF: the newest token is nearly always this context's own.
                _cv_app.reset(tokens[-1])
            except ValueError:
                _pop_own_token(_cv_app, tokens, lambda token: token)
            else:
                tokens.pop()
        if ctx is not self:
            raise AssertionError(
                f"Popped wrong app context. ({ctx!r} instead of {self!r})"
            )
        if signals._loaded:  # PERF: no call while no signal exists
            signal = signals.receivers_of("appcontext_popped")
            if signal is not None:
                signal.send(self.app, _async_wrapper=self.app.ensure_sync)

    def __enter__(self) -> AppContext:
        self.push()
        return self

    def __exit__(
        self,
        exc_type: type | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.pop(exc_value)


class RequestContext:
    """The request context: ``request`` and ``session`` for one request.

    Created from a WSGI-shaped environ (under ASGI the driver builds one).
    Pushing it pushes an application context if needed, opens the session
    and matches the URL, in that order, so URL converters can use the
    session.
    """

    # PERF: class-level defaults, written per instance only when they change.
    #: The flashed messages, loaded on first use.
    flashes: list[tuple[str, str]] | None = None
    #: The URL adapter until it is made (see url_adapter).
    _url_adapter: MapAdapter | None | object = _UNBOUND
    #: Set by the generator pipeline when it ran the teardown functions.
    _erlen_teardown_done = False
    #: The WebSocket connection this context serves (None for HTTP).
    websocket: Websocket | None = None

    def __init__(
        self,
        app: Flask,
        environ: dict[str, t.Any],
        request: Request | None = None,
        session: SessionMixin | None = None,
    ) -> None:
        self.app = app
        if request is None:
            request = app.request_class(environ)
        self.request: Request = request
        if not app._erlen_binds_lazily(request):
            self._bind()
        self._session: SessionMixin | None = session
        self._after_request_functions: list[t.Callable[..., t.Any]] = []
        self._cv_tokens: list[
            tuple[contextvars.Token[RequestContext], AppContext | None]
        ] = []

    @property
    def url_adapter(self) -> MapAdapter | None:
        """The app's URL map bound to this request (None if binding failed).

        PERF: made on first use (url_for), not for every request: with the
        app's own ``create_url_adapter`` the URL is matched without it.
        """
        if self._url_adapter is _UNBOUND:
            self._bind()
        return self._url_adapter  # type: ignore[return-value]

    @url_adapter.setter
    def url_adapter(self, value: MapAdapter | None) -> None:
        self._url_adapter = value

    def _bind(self) -> None:
        try:
            self._url_adapter = self.app.create_url_adapter(self.request)
        except HTTPException as e:
            self._url_adapter = None
            self.request.routing_exception = e

    def copy(self) -> RequestContext:
        """Return a new context for the same request, sharing its session."""
        session = self._session
        if session is None and self._cv_tokens:
            # The copy shares the session, so a deferred one is opened now.
            session = self._open_session()
        return self.__class__(
            self.app,
            environ=self.request.environ,
            request=self.request,
            session=session,
        )

    @property
    def session(self) -> SessionMixin:
        """The session; reading it marks it accessed (``Vary: Cookie``)."""
        session = self._session
        if session is None:
            if not self._cv_tokens:
                raise RuntimeError(
                    "The session has not been opened yet: push the request"
                    " context (with ctx: ...) before reading ctx.session."
                )
            session = self._open_session()
        session.accessed = True
        return session

    @session.setter
    def session(self, value: SessionMixin) -> None:
        self._session = value

    def _open_session(self) -> SessionMixin:
        session_interface = self.app.session_interface
        session = session_interface.open_session(self.app, self.request)
        if session is None:
            session = session_interface.make_null_session(self.app)
        self._session = session
        return session

    def match_request(self) -> None:
        """Match the URL and store the rule and arguments on the request."""
        if self._url_adapter is _UNBOUND:
            # Match as the unmade adapter would (see Flask._erlen_binds_lazily);
            # None: the answer needs the adapter.
            url_map = self.app.url_map
            found = url_map._match_environ(
                self.request.environ, url_map.default_subdomain or ""
            )
            if found is not None:
                if isinstance(found, HTTPException):
                    self.request.routing_exception = found
                    if isinstance(found, BadHost):
                        # What binding would have given: no adapter.
                        self._url_adapter = None
                else:
                    self.request.url_rule, self.request.view_args = found
                return
        adapter = self.url_adapter
        if adapter is None:  # binding failed: its error is the routing error
            return
        try:
            if type(adapter).match is _ADAPTER_MATCH:
                # PERF: the routing error comes back as a value, not raised
                # and caught (a 404 costs about a third less).
                found = adapter._lookup(None, None, None, None)
                if isinstance(found, HTTPException):
                    self.request.routing_exception = found
                    return
                result: tuple[t.Any, t.Any] = found
            else:
                result = adapter.match(return_rule=True)
        except HTTPException as e:
            self.request.routing_exception = e
        else:
            if adapter.websocket and self.websocket is None and result[0].websocket:
                # An HTTP request with WebSocket upgrade headers (under WSGI)
                # matched a WebSocket rule: its view needs a connection.
                self.request.routing_exception = WebsocketMismatch()
                return
            self.request.url_rule, self.request.view_args = result

    def push(self) -> None:
        """Make this the current request context, opening the session and matching."""
        app = self.app
        app_ctx = _cv_app.get(None)
        if app_ctx is None or app_ctx.app is not app:
            app_ctx = app.app_context()
            app_ctx.push()
        else:
            app_ctx = None
        self._cv_tokens.append((_cv_request.set(self), app_ctx))
        self._open()

    def _open(self) -> None:
        # The second half of push(), once the context variables are set:
        # the session, then the URL.
        app = self.app
        # PERF: without a session cookie the default interface's session is
        # a new empty one, so it is opened on first use instead, and not at
        # all by the many requests that never touch it. An interface class
        # opts in by naming itself in ``_erlen_lazy_open`` (a subclass may
        # open differently, so it does not qualify).
        interface_class = type(app.session_interface)
        if self._session is None and not (
            interface_class._erlen_lazy_open is interface_class
            and app.config["SESSION_COOKIE_NAME"]
            not in self.request.environ.get("HTTP_COOKIE", "")
        ):
            self._open_session()

        # NOTE: matched after the session is opened, so that custom URL
        # converters can use the session.
        if self._url_adapter is not None:
            self.match_request()

    def pop(self, exc: BaseException | None = _sentinel) -> None:  # type: ignore[assignment]
        """Pop this context, running teardown functions on its last pop."""
        clear_request = len(self._cv_tokens) == 1
        try:
            if clear_request:
                if exc is _sentinel:
                    exc = sys.exc_info()[1]
                if self._erlen_teardown_done:
                    del self._erlen_teardown_done
                else:
                    app = self.app
                    # PERF: no call when it would have nothing to do.
                    if (
                        not app._erlen_quiet_teardown
                        or app.teardown_request_funcs
                        or signals._loaded
                    ):
                        app.do_teardown_request(exc)
                request_close = getattr(self.request, "close", None)
                if request_close is not None:
                    request_close()
        finally:
            ctx = _cv_request.get()
            tokens = self._cv_tokens
            try:
                # PERF: the newest token is nearly always this context's own.
                _cv_request.reset(tokens[-1][0])
            except ValueError:
                _, app_ctx = _pop_own_token(_cv_request, tokens, lambda entry: entry[0])
            else:
                app_ctx = tokens.pop()[1]
            if clear_request:
                ctx.request.environ["erlen.request"] = None
            if app_ctx is not None:
                app_ctx.pop(exc)
            if ctx is not self:
                raise AssertionError(
                    f"Popped wrong request context. ({ctx!r} instead of {self!r})"
                )

    def __enter__(self) -> RequestContext:
        self.push()
        return self

    def __exit__(
        self,
        exc_type: type | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.pop(exc_value)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.request.url!r}"
            f" [{self.request.method}] of {self.app.name}>"
        )


# The lean path's push and pop (see Flask._handle_sync and _handle_gen):
# what request_context(), push() and pop() do for the common request, with
# no method layers. The app decides at its first request whether it may use
# them (Flask._erlen_lean: none of the methods they stand for overridden).


def push_lean(app: Flask, environ: dict[str, t.Any]) -> RequestContext:
    """Return a request context for ``environ``, pushed the lean way if it may be.

    Pushed: both contexts made as their constructors make them for the
    default binding (the URL adapter made on first use), and set as the
    current ones; the caller then opens it (:meth:`RequestContext._open`)
    where errors are handled, and pops it with :func:`pop_lean`. Not pushed
    (no tokens): made by ``app.request_context()`` or for the request
    already built, for the caller to push as usual; so a request with a
    signal receiver or an enclosing app context to honour, a context to
    preserve (the debugger, ``with client``), or a binding that may fail or
    warn (SERVER_NAME, trusted hosts).
    """
    if (
        not app._erlen_lean
        or signals._live
        or _cv_app.get(None) is not None
        or "erlen.debug.preserve_context" in environ
    ):
        return app.request_context(environ)
    request = app.request_class(environ)
    config = app.config
    if (
        config["SERVER_NAME"] is not None
        or config["TRUSTED_HOSTS"] is not None
        or request.trusted_hosts
    ):
        return RequestContext(app, environ, request)
    # NOTE: the fields AppContext.__init__ and RequestContext.__init__ set
    # (keep them alike); the rest are class defaults.
    app_ctx = _new_object(AppContext)
    app_ctx.app = app
    app_ctx.url_adapter = None
    app_ctx.g = app.app_ctx_globals_class()
    app_ctx._cv_tokens = [_cv_app.set(app_ctx)]
    ctx = _new_object(RequestContext)
    ctx.app = app
    ctx.request = request
    ctx._session = None
    ctx._after_request_functions = []
    ctx._cv_tokens = [(_cv_request.set(ctx), app_ctx)]
    return ctx


def pop_lean(ctx: RequestContext, exc: BaseException | None) -> None:
    """Pop a request context and its app context, as ``ctx.pop(exc)`` does.

    For the lean path's apps (no teardown method overridden): the teardown
    functions run if there are any. Anything unusual (a context pushed
    again, or another one left pushed over it, or a signal to send) is left
    to the plain pop, which sorts it out or says what is wrong.
    """
    tokens = ctx._cv_tokens
    if (
        len(tokens) == 1
        and ctx.app._erlen_lean
        and not signals._live
        and _cv_request.get() is ctx
    ):
        app_ctx = tokens[0][1]
        if (
            app_ctx is not None
            and len(app_ctx._cv_tokens) == 1
            and _cv_app.get() is app_ctx
        ):
            app = ctx.app
            request = ctx.request
            try:
                if app.teardown_request_funcs:
                    app.do_teardown_request(exc)
                request.close()
            finally:
                _cv_request.reset(tokens.pop()[0])
                request.environ["erlen.request"] = None
                try:
                    if app.teardown_appcontext_funcs:
                        app.do_teardown_appcontext(exc)
                finally:
                    _cv_app.reset(app_ctx._cv_tokens.pop())
            return
    ctx.pop(exc)
