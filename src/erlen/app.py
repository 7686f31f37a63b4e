"""The application object: registration, configuration and the request pipeline."""

from __future__ import annotations

import collections.abc as cabc
import contextvars
import os
import sys
import threading
import typing as t
import weakref
from datetime import timedelta
from functools import cached_property
from itertools import chain

from . import asgi as _asgi
from . import signals
from . import wsgi as _wsgi
from ._async import async_to_sync as _async_to_sync
from ._async import iscoroutinefunction as _iscoroutinefunction
from ._async import run_in_context as _run_in_context
from ._async import SyncIterator as _SyncIterator
from ._async import wait_as_task as _wait_as_task
from ._cache import cache_put
from .config import Config
from .config import ConfigAttribute
from .ctx import _AppCtxGlobals
from .ctx import _UNBOUND
from .ctx import AppContext
from .ctx import pop_lean as _pop_lean
from .ctx import push_lean as _push_lean
from .ctx import RequestContext
from .datastructures import Headers
from .datastructures import ImmutableDict
from .exceptions import Aborter
from .exceptions import BadRequest
from .exceptions import BadRequestKeyError
from .exceptions import HTTPException
from .exceptions import InternalServerError
from .exceptions import MethodNotAllowed
from .exceptions import NotFound
from .exceptions import RequestRedirect
from .exceptions import RoutingException
from .exceptions import WebsocketDisconnect
from .globals import _cv_app
from .globals import _cv_request
from .json.provider import DefaultJSONProvider
from .json.provider import JSONProvider
from .routing import BuildError
from .routing import Map
from .routing import MapAdapter
from .routing import Rule
from .scaffold import _endpoint_from_view_func
from .scaffold import find_package
from .scaffold import Scaffold
from .scaffold import setupmethod
from .sessions import SecureCookieSessionInterface
from .sessions import SessionInterface
from .templating import _default_template_ctx_processor
from .templating import _EnvironmentClassAttribute
from .wrappers import Request
from .wrappers import Response

_new_object = object.__new__

if t.TYPE_CHECKING:  # pragma: no cover
    import logging

    from .blueprints import Blueprint
    from .cli import AppGroup
    from .cli import FlaskCliRunner
    from .templating import DispatchingJinjaLoader
    from .templating import Environment
    from .testing import Client
    from .websockets import Websocket

T = t.TypeVar("T")
T_shell_context_processor = t.TypeVar(
    "T_shell_context_processor", bound=t.Callable[[], dict[str, t.Any]]
)
T_teardown = t.TypeVar("T_teardown", bound=t.Callable[[t.Any], t.Any])
T_serving = t.TypeVar("T_serving", bound=t.Callable[[], t.Any])
T_template_filter = t.TypeVar("T_template_filter", bound=t.Callable[..., t.Any])
T_template_global = t.TypeVar("T_template_global", bound=t.Callable[..., t.Any])
T_template_test = t.TypeVar("T_template_test", bound=t.Callable[..., bool])

_sentinel: t.Any = object()
_HTTP_EXCEPTION_GET_RESPONSE = HTTPException.get_response
_HTTP_EXCEPTION_GET_HEADERS = HTTPException.get_headers
#: The scopes of a request outside any blueprint: the app's only.
_APP_SCOPE: tuple[str | None, ...] = (None,)
_ANCHOR_SAFE = "%!#$&'()*+,/:;=?@"


class _Call(tuple[t.Callable[..., t.Any], tuple[t.Any, ...], dict[str, t.Any]]):
    """A call a pipeline step asks its driver to make: ``(function, args, kwargs)``.

    A class of its own, so that the event loop's driver tells it apart from
    what an awaited coroutine yields (a future, or None).
    """

    __slots__ = ()


#: A pipeline step: yields calls for its driver (and, on the event loop, what
#: the coroutines it awaits yield), returns its result.
_Gen = t.Generator[t.Any, t.Any, T]

#: ``inspect.CO_ITERABLE_COROUTINE``: a generator that may ``yield from`` a
#: coroutine (what ``types.coroutine`` sets).
_CO_ITERABLE_COROUTINE = 0x100

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def _awaits(func: F) -> F:
    """Let the generator function ``func`` ``yield from`` coroutines.

    PERF: on the event loop a step runs a coroutine function in place, as
    ``await`` would (``types.coroutine`` without its wrapper and its typing):
    a coroutine that finishes without waiting costs no trip through the
    driver, and what one waits on passes through the step to the driver.
    """
    code = func.__code__
    func.__code__ = code.replace(co_flags=code.co_flags | _CO_ITERABLE_COROUTINE)
    return func


# The overridable pipeline methods. When a subclass or the instance replaces
# one of them, the app is served by the plain sync methods, which call the
# replacement as Flask does (under ASGI, in one worker thread per request:
# a replacement is plain synchronous code by Flask's contract).
_PIPELINE_METHODS = (
    "full_dispatch_request",
    "preprocess_request",
    "dispatch_request",
    "finalize_request",
    "process_response",
    "handle_user_exception",
    "handle_http_exception",
    "handle_exception",
    "do_teardown_request",
    "do_teardown_appcontext",
    "ensure_sync",
    "async_to_sync",
)


# The routing errors full_dispatch_request may answer without the handling
# methods (see Flask._erlen_answers_quietly).
_QUIET_ROUTING_ERRORS = frozenset({NotFound, MethodNotAllowed})
_HTTP_ERROR_METHODS = frozenset({"handle_user_exception", "handle_http_exception"})
_TEARDOWN_METHODS = frozenset({"do_teardown_request", "do_teardown_appcontext"})
# The methods besides _PIPELINE_METHODS that the lean path inlines.
_LEAN_METHODS = ("request_context", "app_context", "make_response")
# The instance attributes the first request's decisions read (see
# Flask._erlen_decide): set after it, they are decided on again.
_DECIDED_ON = frozenset(
    {
        *_PIPELINE_METHODS,
        *_LEAN_METHODS,
        "create_url_adapter",
        "trap_http_exception",
        "url_map",
        "subdomain_matching",
        "asgi_app",
        "wsgi_app",
    }
)


def _check_websocket_view(view_func: t.Callable[..., t.Any]) -> None:
    # A websocket view awaits the connection: it must be a coroutine function.
    if not _iscoroutinefunction(view_func):
        raise TypeError(
            f"A websocket view must be an 'async def' function, but"
            f" {getattr(view_func, '__name__', view_func)!r} is a"
            f" {type(view_func).__name__} that is not a coroutine function;"
            " define it with 'async def'."
        )


def _make_timedelta(value: t.Any) -> t.Any:
    if value is None or isinstance(value, timedelta):
        return value
    return timedelta(seconds=value)


def _split_blueprint_path(name: str) -> list[str]:
    out = [name]
    while "." in name:
        name = name.rpartition(".")[0]
        out.append(name)
    return out


def _unpack_view_tuple(rv: tuple[t.Any, ...]) -> tuple[t.Any, t.Any, t.Any]:
    """Return ``(body, status, headers)`` from a view's tuple."""
    len_rv = len(rv)
    if len_rv == 3:
        return rv
    if len_rv == 2:
        if isinstance(rv[1], (Headers, dict, tuple, list)):
            return rv[0], None, rv[1]
        return rv[0], rv[1], None
    raise TypeError(
        "The view function did not return a valid response tuple."
        " The tuple must have the form (body, status, headers),"
        " (body, status), or (body, headers)."
    )


def _is_http_exception(e: BaseException) -> bool:
    # NOTE: an exception from another library that carries an integer code
    # and a get_response() is answered as an HTTP error, not as a 500.
    if isinstance(e, HTTPException):
        return True
    return isinstance(getattr(e, "code", None), int) and callable(
        getattr(e, "get_response", None)
    )


class _CoroutineFunctions(dict[t.Any, bool]):
    """Function -> whether it is a coroutine function, worked out on first lookup.

    Bounded: functions made per request (after_this_request closures) must
    not grow it forever. PERF: the generator steps ask it for each user
    function they call: ``_ASYNC_CACHE[func]`` is one dict lookup, where a
    call to _is_coroutine_function costs ~500 instructions more. An
    unhashable callable raises TypeError (the caller asks
    _iscoroutinefunction instead).
    """

    __slots__ = ()

    def __missing__(self, func: t.Any) -> bool:
        return cache_put(self, _ASYNC_CACHE_MAX, func, _iscoroutinefunction(func))


_ASYNC_CACHE = _CoroutineFunctions()
_ASYNC_CACHE_MAX = 4096
#: The most functions remembered in an app's ``_erlen_plain_funcs``.
_PLAIN_FUNCS_MAX = 4096


def _is_coroutine_function(func: t.Any) -> bool:
    # PERF: _iscoroutinefunction unwraps and checks code flags on
    # every call; the hooks and views of an app are a small, fixed set.
    try:
        return _ASYNC_CACHE[func]
    except TypeError:  # unhashable callable
        return _iscoroutinefunction(func)


def _is_async_callable(func: t.Any) -> bool:
    if _iscoroutinefunction(func):
        return True
    # A class-based view's function is sync; its handlers may not be.
    view_class = getattr(func, "view_class", None)
    if view_class is None:
        return False
    names = ["dispatch_request"]
    names.extend(m.lower() for m in getattr(view_class, "methods", None) or ())
    return any(_iscoroutinefunction(getattr(view_class, name, None)) for name in names)


class Flask(Scaffold):
    """The application: one object that is a WSGI app and an ASGI app.

    ``app(environ, start_response)`` serves WSGI; ``await app(scope, receive,
    send)`` serves ASGI. :meth:`wsgi_app` and :meth:`asgi_app` are the
    explicit entry points; wrap :meth:`wsgi_app` with WSGI middleware as in
    Flask, and the ASGI path honours the wrapping.

    :param import_name: the name of the application package or module,
        usually ``__name__``; it locates the root path.
    :param static_url_path: the URL prefix of the static route.
    :param static_folder: the folder of static files, relative to
        :attr:`root_path`.
    :param static_host: the host of the static route, with ``host_matching``.
    :param host_matching: match the ``host`` part of each rule.
    :param subdomain_matching: match subdomains against ``SERVER_NAME``.
    :param template_folder: the folder of templates.
    :param instance_path: the instance folder; found automatically if unset.
    :param instance_relative_config: load config files relative to the
        instance folder instead of the root path.
    :param root_path: the application's folder, if it cannot be found from
        ``import_name``.
    """

    #: The class of :attr:`request` objects.
    request_class: type[Request] = Request
    #: The class of response objects built by :meth:`make_response`.
    response_class: type[Response] = Response
    #: The class of :data:`g`.
    app_ctx_globals_class = _AppCtxGlobals
    #: The class of :attr:`config`.
    config_class = Config
    #: The class of :attr:`aborter`.
    aborter_class = Aborter
    #: The class of :attr:`json`.
    json_provider_class: type[JSONProvider] = DefaultJSONProvider
    #: The class of URL rules made by :meth:`add_url_rule`.
    url_rule_class = Rule
    #: The class of :attr:`url_map`.
    url_map_class = Map
    #: The class of :meth:`test_client`'s clients; ``None`` means erlen's.
    test_client_class: type[Client] | None = None
    #: The class of :meth:`test_cli_runner`'s runners; ``None`` means erlen's.
    test_cli_runner_class: type[t.Any] | None = None
    #: The session interface; replace it to store sessions elsewhere.
    session_interface: SessionInterface = SecureCookieSessionInterface()
    #: Options passed to the Jinja environment by
    #: :meth:`create_jinja_environment`; changes after :attr:`jinja_env`
    #: was first used have no effect.
    jinja_options: dict[str, t.Any] = {}
    #: The class of :attr:`jinja_env`, :class:`erlen.templating.Environment`
    #: unless replaced (read lazily, so that Jinja2 loads on first use).
    jinja_environment: type[Environment] = t.cast(
        "type[Environment]", _EnvironmentClassAttribute()
    )

    testing = ConfigAttribute[bool]("TESTING")
    secret_key = ConfigAttribute[str | bytes | None]("SECRET_KEY")
    permanent_session_lifetime = ConfigAttribute[timedelta](
        "PERMANENT_SESSION_LIFETIME", get_converter=_make_timedelta
    )

    #: Flask 3.1's configuration defaults, plus erlen's ``MAX_JSON_DEPTH``
    #: and ``WEBSOCKET_MAX_MESSAGE_SIZE``.
    default_config = ImmutableDict(
        {
            "DEBUG": None,
            "TESTING": False,
            "PROPAGATE_EXCEPTIONS": None,
            "SECRET_KEY": None,
            "SECRET_KEY_FALLBACKS": None,
            "PERMANENT_SESSION_LIFETIME": timedelta(days=31),
            "USE_X_SENDFILE": False,
            "TRUSTED_HOSTS": None,
            "SERVER_NAME": None,
            "APPLICATION_ROOT": "/",
            "SESSION_COOKIE_NAME": "session",
            "SESSION_COOKIE_DOMAIN": None,
            "SESSION_COOKIE_PATH": None,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SECURE": False,
            "SESSION_COOKIE_PARTITIONED": False,
            "SESSION_COOKIE_SAMESITE": None,
            "SESSION_REFRESH_EACH_REQUEST": True,
            "MAX_CONTENT_LENGTH": None,
            "MAX_FORM_MEMORY_SIZE": 500_000,
            "MAX_FORM_PARTS": 1_000,
            "MAX_JSON_DEPTH": 256,
            "SEND_FILE_MAX_AGE_DEFAULT": None,
            "TRAP_BAD_REQUEST_ERRORS": None,
            "TRAP_HTTP_EXCEPTIONS": False,
            "EXPLAIN_TEMPLATE_LOADING": False,
            "PREFERRED_URL_SCHEME": "http",
            "TEMPLATES_AUTO_RELOAD": None,
            "MAX_COOKIE_SIZE": 4093,
            "PROVIDE_AUTOMATIC_OPTIONS": True,
            "WEBSOCKET_MAX_MESSAGE_SIZE": 1024 * 1024,
        }
    )

    def __init__(
        self,
        import_name: str,
        static_url_path: str | None = None,
        static_folder: str | os.PathLike[str] | None = "static",
        static_host: str | None = None,
        host_matching: bool = False,
        subdomain_matching: bool = False,
        template_folder: str | os.PathLike[str] | None = "templates",
        instance_path: str | None = None,
        instance_relative_config: bool = False,
        root_path: str | None = None,
    ) -> None:
        super().__init__(
            import_name=import_name,
            static_folder=static_folder,
            static_url_path=static_url_path,
            template_folder=template_folder,
            root_path=root_path,
        )
        if instance_path is None:
            instance_path = self.auto_find_instance_path()
        elif not os.path.isabs(instance_path):
            raise ValueError(
                "If an instance path is provided it must be absolute."
                f" A relative path was given instead: {instance_path!r}."
            )
        #: The folder for files that belong to this deployment.
        self.instance_path = instance_path
        #: The configuration dictionary.
        self.config = self.make_config(instance_relative_config)
        #: The object :func:`abort` delegates to.
        self.aborter = self.make_aborter()
        #: The JSON provider, used by :func:`jsonify` and ``request.json``.
        self.json: JSONProvider = self.json_provider_class(self)
        #: Functions called when :meth:`url_for` fails with a BuildError.
        self.url_build_error_handlers: list[
            t.Callable[[Exception, str, dict[str, t.Any]], str]
        ] = []
        #: Functions called when the application context is popped.
        self.teardown_appcontext_funcs: list[t.Callable[[t.Any], t.Any]] = []
        #: Functions adding names to ``erlen shell``.
        self.shell_context_processors: list[t.Callable[[], dict[str, t.Any]]] = []
        #: Functions run (possibly async) when an ASGI server starts, then stops.
        #: Flask has no such hooks; erlen runs them from the ASGI lifespan.
        self.before_serving_funcs: list[t.Callable[[], t.Any]] = []
        self.after_serving_funcs: list[t.Callable[[], t.Any]] = []
        #: Registered blueprints by name.
        self.blueprints: dict[str, Blueprint] = {}
        #: Extension state, by extension name.
        self.extensions: dict[str, t.Any] = {}
        #: The URL map.
        self.url_map = self.url_map_class(host_matching=host_matching)
        self.subdomain_matching = subdomain_matching
        self._got_first_request = False
        self._setup_lock = threading.Lock()
        self._erlen_overridden: frozenset[str] = self._find_overrides()
        self._erlen_chain_in_thread = True
        self._erlen_wrap_all = False
        # Whether request contexts bind the URL map on first use only (see
        # RequestContext.url_adapter); decided at the first request.
        self._erlen_lazy_url_adapter = False
        # Whether neither teardown method is overridden, so that a context
        # pop may skip calling them when there is nothing to run; decided
        # at the first request.
        self._erlen_quiet_teardown = False
        # Whether none of the methods handling an HTTP error in dispatch is
        # overridden (see _erlen_answers_quietly); decided at the first request.
        self._erlen_plain_http_errors = False
        self._erlen_plain_funcs: dict[t.Any, t.Any] = {}
        self._erlen_lean = False
        self._erlen_plain_asgi = False
        # NOTE: Flask seeds every scaffold with it; erlen adds it once, here.
        self.template_context_processors[None].append(_default_template_ctx_processor)

        if self.has_static_folder:
            if bool(static_host) != host_matching:
                raise ValueError(
                    "Invalid static_host/host_matching combination: give"
                    " static_host exactly when host_matching is on."
                )
            self._static_host = static_host
            # NOTE: the view holds the app weakly, so the URL map (owned by
            # the app) does not keep the app alive through a cycle.
            self_ref = weakref.ref(self)
            self.add_url_rule(
                f"{self.static_url_path}/<path:filename>",
                endpoint="static",
                host=static_host,
                view_func=lambda **kw: self_ref().send_static_file(**kw),  # type: ignore[union-attr]
            )

    # -- properties -------------------------------------------------------

    @cached_property
    def name(self) -> str:  # type: ignore[override]
        """The application's name: the import name, or the script's stem."""
        if self.import_name == "__main__":
            fn: str | None = getattr(sys.modules["__main__"], "__file__", None)
            if fn is None:
                return "__main__"
            return os.path.splitext(os.path.basename(fn))[0]
        return self.import_name

    @cached_property
    def logger(self) -> logging.Logger:
        """The ``logging`` logger named after the app."""
        # PERF: imported on first use (import time): logging is ~4 ms.
        from .logging import create_logger

        return create_logger(self)

    @property
    def debug(self) -> bool:
        """Whether debug mode is on (the ``DEBUG`` config key)."""
        return bool(self.config["DEBUG"])

    @debug.setter
    def debug(self, value: bool) -> None:
        self.config["DEBUG"] = value
        if self.config["TEMPLATES_AUTO_RELOAD"] is None:
            # PERF: an environment not created yet reads debug when it is;
            # only an explicit auto_reload option needs it created now.
            if "jinja_env" in self.__dict__ or "auto_reload" in self.jinja_options:
                self.jinja_env.auto_reload = value

    @cached_property
    def cli(self) -> AppGroup:
        """The click group for this app's commands (``erlen --app ... <cmd>``).

        Its commands run inside the app context.
        """
        # PERF: click and erlen.cli are imported on first use only.
        from .cli import AppGroup

        return AppGroup(self.name)

    # -- setup --------------------------------------------------------------

    def make_config(self, instance_relative: bool = False) -> Config:
        """Create :attr:`config`, seeded from the defaults and ``FLASK_DEBUG``."""
        root_path = self.instance_path if instance_relative else self.root_path
        defaults = dict(self.default_config)
        defaults["DEBUG"] = _debug_flag_from_env()
        return self.config_class(root_path, defaults)

    def make_aborter(self) -> Aborter:
        """Create the :attr:`aborter` object."""
        return self.aborter_class()

    def auto_find_instance_path(self) -> str:
        """Return ``<project>/instance``, or ``<prefix>/var/<name>-instance``."""
        prefix, package_path = find_package(self.import_name)
        if prefix is None:
            return os.path.join(package_path, "instance")
        return os.path.join(prefix, "var", f"{self.name}-instance")

    def open_instance_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = "utf-8"
    ) -> t.IO[t.Any]:
        """Open a file relative to :attr:`instance_path` (may be written)."""
        path = os.path.join(self.instance_path, resource)
        if "b" in mode:
            return open(path, mode)
        return open(path, mode, encoding=encoding)

    def _check_setup_finished(self, f_name: str) -> None:
        if self._got_first_request:
            raise AssertionError(
                f"The setup method '{f_name}' can no longer be called on the"
                " application. It has already handled its first request, any"
                " changes will not be applied consistently.\n"
                "Make sure all imports, decorators, functions, etc. needed to"
                " set up the application are done before running it."
            )

    def _find_overrides(
        self, names: t.Iterable[str] = _PIPELINE_METHODS
    ) -> frozenset[str]:
        # The methods of ``names`` replaced on the instance or overridden by
        # a subclass.
        cls = type(self)
        return frozenset(
            name
            for name in names
            if name in self.__dict__ or getattr(cls, name) is not getattr(Flask, name)
        )

    def _erlen_setup(self) -> None:
        # Work moves to start-up: decided once, at the first request.
        with self._setup_lock:
            if self._got_first_request:
                return
            self._erlen_decide()
            self._got_first_request = True

    if not t.TYPE_CHECKING:  # NOTE: mypy still checks attribute names

        def __setattr__(self, name: str, value: t.Any) -> None:
            object.__setattr__(self, name, value)
            # An attribute the first request's decisions read, set on the
            # instance afterwards (``app.make_response = ...``): decided
            # again, so that it is honoured from the next request on, as
            # Flask honours it. PERF: no request sets one of these.
            if name in _DECIDED_ON and self.__dict__.get("_got_first_request"):
                with self._setup_lock:
                    self._erlen_decide()

    def _erlen_decide(self) -> None:
        # The decisions _erlen_setup makes (the caller holds _setup_lock).
        self._erlen_overridden = self._find_overrides()
        self._erlen_chain_in_thread = (
            bool(self._erlen_overridden) or not self._has_async_functions()
        )
        # An overridden ensure_sync sees every function, as in Flask.
        self._erlen_wrap_all = "ensure_sync" in self._erlen_overridden
        # The default binding's fixed part: this class's
        # create_url_adapter, the Map class itself, no host or subdomain
        # matching (the config part is read per request).
        url_map = self.url_map
        self._erlen_lazy_url_adapter = (
            "create_url_adapter" not in self.__dict__
            and type(self).create_url_adapter is Flask.create_url_adapter
            and type(url_map) is Map
            and not url_map.host_matching
            and not self.subdomain_matching
        )
        self._erlen_quiet_teardown = not (self._erlen_overridden & _TEARDOWN_METHODS)
        self._erlen_plain_http_errors = not (
            self._erlen_overridden & _HTTP_ERROR_METHODS
            or self._find_overrides(("trap_http_exception",))
        )
        self._erlen_plain_funcs.clear()
        # Whether __call__ may serve ASGI without the asgi_app call: neither
        # it nor wsgi_app (which serve() would run) replaced or overridden.
        self._erlen_plain_asgi = not self._find_overrides(("asgi_app", "wsgi_app"))
        # The lean path (see _handle_sync) inlines these methods.
        self._erlen_lean = (
            not self._erlen_overridden
            and self._erlen_lazy_url_adapter
            and not self._find_overrides(_LEAN_METHODS)
        )

    def _websocket_only_endpoints(self) -> set[str]:
        # The endpoints that only WebSocket rules lead to: their views never
        # run in the HTTP pipeline.
        websocket: set[str] = set()
        http: set[str] = set()
        for rule in self.url_map.iter_rules():
            (websocket if rule.websocket else http).add(rule.endpoint)
        return websocket - http

    def _has_async_functions(self) -> bool:
        # PERF: a websocket view is a coroutine function, but it does not
        # take the HTTP requests off the all-sync path.
        ws_only = self._websocket_only_endpoints()
        funcs: list[t.Any] = [
            f for name, f in self.view_functions.items() if name not in ws_only
        ]
        for registry in (
            self.before_request_funcs,
            self.after_request_funcs,
            self.teardown_request_funcs,
        ):
            for f_list in registry.values():
                funcs.extend(f_list)
        funcs.extend(self.teardown_appcontext_funcs)
        for per_code in self.error_handler_spec.values():
            for handlers in per_code.values():
                funcs.extend(handlers.values())
        return any(_is_async_callable(f) for f in funcs)

    # -- registration ---------------------------------------------------------

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: t.Callable[..., t.Any] | None = None,
        provide_automatic_options: bool | None = None,
        **options: t.Any,
    ) -> None:
        """Register a rule for routing incoming requests and building URLs."""
        if endpoint is None:
            endpoint = _endpoint_from_view_func(view_func)
        if options.get("websocket") and view_func is not None:
            _check_websocket_view(view_func)
        options["endpoint"] = endpoint
        methods = options.pop("methods", None)
        if methods is None:
            methods = getattr(view_func, "methods", None) or ("GET",)
        if isinstance(methods, str):
            raise TypeError(
                "Allowed methods must be a list of strings, for example:"
                f' @app.route(..., methods=["POST"]); got the string {methods!r}.'
            )
        methods = {item.upper() for item in methods}
        required_methods: set[str] = set(getattr(view_func, "required_methods", ()))
        if provide_automatic_options is None:
            provide_automatic_options = getattr(
                view_func, "provide_automatic_options", None
            )
        if provide_automatic_options is None:
            if "OPTIONS" not in methods and self.config["PROVIDE_AUTOMATIC_OPTIONS"]:
                provide_automatic_options = True
                required_methods.add("OPTIONS")
            else:
                provide_automatic_options = False
        methods |= required_methods
        rule_obj = self.url_rule_class(rule, methods=methods, **options)
        rule_obj.provide_automatic_options = provide_automatic_options  # type: ignore[attr-defined]
        self.url_map.add(rule_obj)
        if view_func is not None:
            old_func = self.view_functions.get(endpoint)
            if old_func is not None and old_func != view_func:
                raise AssertionError(
                    "View function mapping is overwriting an existing"
                    f" endpoint function: {endpoint}"
                )
            self.view_functions[endpoint] = view_func

    @setupmethod
    def register_blueprint(self, blueprint: Blueprint, **options: t.Any) -> None:
        """Register a blueprint, applying its deferred setup with ``options``."""
        blueprint.register(self, options)

    def iter_blueprints(self) -> t.ValuesView[Blueprint]:
        """Return the registered blueprints, in registration order."""
        return self.blueprints.values()

    @setupmethod
    def teardown_appcontext(self, f: T_teardown) -> T_teardown:
        """Register ``f(exc)`` to run when the application context is popped."""
        self.teardown_appcontext_funcs.append(f)
        return f

    @setupmethod
    def shell_context_processor(
        self, f: T_shell_context_processor
    ) -> T_shell_context_processor:
        """Register a function returning names for the shell's namespace."""
        self.shell_context_processors.append(f)
        return f

    @setupmethod
    def before_serving(self, f: T_serving) -> T_serving:
        """Register ``f()`` (sync or async) to run when an ASGI server starts.

        .. note:: Flask compatibility: Flask has no start-up hook; erlen runs
           these from the ASGI ``lifespan`` protocol.
        """
        self.before_serving_funcs.append(f)
        return f

    @setupmethod
    def after_serving(self, f: T_serving) -> T_serving:
        """Register ``f()`` (sync or async) to run when an ASGI server shuts down."""
        self.after_serving_funcs.append(f)
        return f

    def make_shell_context(self) -> dict[str, t.Any]:
        """Return the shell's namespace: ``app``, ``g`` and the processors' names."""
        from .globals import g

        rv: dict[str, t.Any] = {"app": self, "g": g}
        for processor in self.shell_context_processors:
            rv.update(processor())
        return rv

    # -- templates ----------------------------------------------------------

    @cached_property
    def jinja_env(self) -> Environment:
        """The Jinja environment, created on first use."""
        return self.create_jinja_environment()

    def create_jinja_environment(self) -> Environment:
        """Create the Jinja environment from :attr:`jinja_options` and the app.

        Autoescaping follows :meth:`select_jinja_autoescape` and
        ``auto_reload`` follows ``TEMPLATES_AUTO_RELOAD`` (debug mode when
        ``None``), unless the options say otherwise. Adds the globals
        ``url_for``, ``get_flashed_messages``, ``config``, ``request``,
        ``session`` and ``g``, and makes the ``tojson`` filter use
        :attr:`json`.
        """
        from .globals import g
        from .globals import request
        from .globals import session
        from .helpers import get_flashed_messages

        options = dict(self.jinja_options)
        if "autoescape" not in options:
            options["autoescape"] = self.select_jinja_autoescape
        if "auto_reload" not in options:
            auto_reload = self.config["TEMPLATES_AUTO_RELOAD"]
            options["auto_reload"] = self.debug if auto_reload is None else auto_reload
        env = self.jinja_environment(self, **options)
        env.globals.update(
            url_for=self.url_for,
            get_flashed_messages=get_flashed_messages,
            config=self.config,
            # NOTE: the default context processor passes the objects behind
            # request and g; the proxies serve imported templates and macros,
            # which do not see the render context.
            request=request,
            session=session,
            g=g,
        )
        # APPSEC: Jinja's tojson escapes <, >, & and ' after dumping, so its
        # output is safe inside <script>; only the dumps function is ours.
        env.policies["json.dumps_function"] = self.json.dumps
        return env

    def create_global_jinja_loader(self) -> DispatchingJinjaLoader:
        """Return the loader of :attr:`jinja_env`: app folder, then blueprints'."""
        from .templating import DispatchingJinjaLoader

        return DispatchingJinjaLoader(self)

    def select_jinja_autoescape(self, filename: str | None) -> bool:
        """Return whether to autoescape a template, by its file name.

        True for ``.html``, ``.htm``, ``.xml``, ``.xhtml`` and ``.svg``, and
        for templates without a name (:func:`render_template_string`).
        """
        if filename is None:
            return True
        return filename.endswith((".html", ".htm", ".xml", ".xhtml", ".svg"))

    def update_template_context(self, context: dict[str, t.Any]) -> None:
        """Add the context processors' variables to ``context``, in place.

        The app's processors run first, then those of the request's
        blueprints, outermost first; values already in ``context`` (the
        ones passed to the render function) are never replaced.
        """
        names: t.Iterable[str | None] = (None,)
        req_ctx = _cv_request.get(None)
        if req_ctx is not None:
            names = chain(names, reversed(req_ctx.request.blueprints))
        original = context.copy()
        processors = self.template_context_processors
        for name in names:
            # NOTE: .get, not [], so that the defaultdict gains no keys.
            for func in processors.get(name, ()):
                context.update(self.ensure_sync(func)())
        context.update(original)

    @setupmethod
    def template_filter(
        self, name: str | None = None
    ) -> t.Callable[[T_template_filter], T_template_filter]:
        """Return a decorator registering a template filter (default: its name)."""

        def decorator(f: T_template_filter) -> T_template_filter:
            self.add_template_filter(f, name=name)
            return f

        return decorator

    @setupmethod
    def add_template_filter(
        self, f: t.Callable[..., t.Any], name: str | None = None
    ) -> None:
        """Register ``f`` as the template filter ``name`` (default: its own name)."""
        self.jinja_env.filters[name or f.__name__] = f

    @setupmethod
    def template_test(
        self, name: str | None = None
    ) -> t.Callable[[T_template_test], T_template_test]:
        """Return a decorator registering a template test (default: its name)."""

        def decorator(f: T_template_test) -> T_template_test:
            self.add_template_test(f, name=name)
            return f

        return decorator

    @setupmethod
    def add_template_test(
        self, f: t.Callable[..., bool], name: str | None = None
    ) -> None:
        """Register ``f`` as the template test ``name`` (default: its own name)."""
        self.jinja_env.tests[name or f.__name__] = f

    @setupmethod
    def template_global(
        self, name: str | None = None
    ) -> t.Callable[[T_template_global], T_template_global]:
        """Return a decorator registering a template global (default: its name)."""

        def decorator(f: T_template_global) -> T_template_global:
            self.add_template_global(f, name=name)
            return f

        return decorator

    @setupmethod
    def add_template_global(
        self, f: t.Callable[..., t.Any], name: str | None = None
    ) -> None:
        """Register ``f`` as the template global ``name`` (default: its own name)."""
        self.jinja_env.globals[name or f.__name__] = f

    # -- contexts -----------------------------------------------------------

    def app_context(self) -> AppContext:
        """Return a new :class:`~erlen.ctx.AppContext` for this app."""
        return AppContext(self)

    def request_context(self, environ: dict[str, t.Any]) -> RequestContext:
        """Return a new :class:`~erlen.ctx.RequestContext` for a WSGI-shaped environ."""
        return RequestContext(self, environ)

    def test_request_context(self, *args: t.Any, **kwargs: t.Any) -> RequestContext:
        """Return a request context for an environ built from the arguments.

        Takes :class:`erlen.testing.EnvironBuilder`'s arguments; ``base_url``
        defaults from ``SERVER_NAME``, ``APPLICATION_ROOT`` and
        ``PREFERRED_URL_SCHEME``.
        """
        from .testing import app_environ_builder  # NOTE: L3 tool, used on call.

        builder = app_environ_builder(self, *args, **kwargs)
        try:
            return self.request_context(builder.get_environ())
        finally:
            builder.close()

    def test_cli_runner(self, **kwargs: t.Any) -> FlaskCliRunner:
        """Return a click runner that invokes this app's commands (``erlen.cli``)."""
        cls = self.test_cli_runner_class
        if cls is None:
            from .cli import FlaskCliRunner

            cls = FlaskCliRunner
        return cls(self, **kwargs)

    def test_client(self, use_cookies: bool = True, **kwargs: t.Any) -> Client:
        """Return a test client for this app (see :mod:`erlen.testing`)."""
        cls = self.test_client_class
        if cls is None:
            from .testing import FlaskClient

            cls = FlaskClient
        return cls(self, self.response_class, use_cookies=use_cookies, **kwargs)

    # -- URL building ---------------------------------------------------------

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        """Return a URL adapter for ``request``, or for ``SERVER_NAME`` outside one."""
        if request is not None:
            trusted_hosts = self.config["TRUSTED_HOSTS"]
            if trusted_hosts is not None:
                request.trusted_hosts = trusted_hosts
            if request.trusted_hosts:
                # APPSEC: reading host validates it against TRUSTED_HOSTS
                # (400). PERF: without them reading it cannot fail, so it
                # is left to whoever needs it.
                request.host  # noqa: B018
            subdomain = None
            server_name = self.config["SERVER_NAME"]
            if self.url_map.host_matching:
                server_name = None
            elif not self.subdomain_matching:
                subdomain = self.url_map.default_subdomain or ""
            return self.url_map.bind_to_environ(
                request.environ, server_name=server_name, subdomain=subdomain
            )
        if self.config["SERVER_NAME"] is not None:
            return self.url_map.bind(
                self.config["SERVER_NAME"],
                script_name=self.config["APPLICATION_ROOT"],
                url_scheme=self.config["PREFERRED_URL_SCHEME"],
            )
        return None

    def _erlen_binds_lazily(self, request: Request) -> bool:
        # Whether a request context may leave binding to first use: this
        # class's create_url_adapter, and its default binding in use (no
        # SERVER_NAME, trusted hosts, host or subdomain matching, nor a Map
        # subclass), which cannot warn or fail but for the Host header
        # (checked when matching, see Map._match_environ).
        if not self._erlen_lazy_url_adapter:
            return False
        config = self.config
        return (
            config["SERVER_NAME"] is None
            and config["TRUSTED_HOSTS"] is None
            and not request.trusted_hosts
        )

    def inject_url_defaults(self, endpoint: str, values: dict[str, t.Any]) -> None:
        """Let the url_defaults functions of the endpoint's scopes fill ``values``."""
        names: t.Iterable[str | None] = (None,)
        if "." in endpoint:
            names = chain(
                names, reversed(_split_blueprint_path(endpoint.rpartition(".")[0]))
            )
        for name in names:
            if name in self.url_default_functions:
                for func in self.url_default_functions[name]:
                    func(endpoint, values)

    def handle_url_build_error(
        self, error: BuildError, endpoint: str, values: dict[str, t.Any]
    ) -> str:
        """Try the url_build_error_handlers, then re-raise ``error``."""
        for handler in self.url_build_error_handlers:
            try:
                rv = handler(error, endpoint, values)
            except BuildError as e:
                error = e
            else:
                if rv is not None:
                    return rv
        raise error

    def url_for(
        self,
        endpoint: str,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values: t.Any,
    ) -> str:
        """Build a URL for ``endpoint``; see :func:`erlen.url_for`."""
        req_ctx = _cv_request.get(None)
        if req_ctx is not None:
            url_adapter = req_ctx.url_adapter
            blueprint_name = req_ctx.request.blueprint
            if endpoint[:1] == ".":
                if blueprint_name is not None:
                    endpoint = f"{blueprint_name}{endpoint}"
                else:
                    endpoint = endpoint[1:]
            if _external is None:
                _external = _scheme is not None
        else:
            app_ctx = _cv_app.get(None)
            if app_ctx is not None:
                url_adapter = app_ctx.url_adapter
            else:
                url_adapter = self.create_url_adapter(None)
            if url_adapter is None:
                raise RuntimeError(
                    "Unable to build URLs outside an active request without"
                    " 'SERVER_NAME' configured. Also configure 'APPLICATION_ROOT'"
                    " and 'PREFERRED_URL_SCHEME' as needed."
                )
            if _external is None:
                _external = True
        if _scheme is not None and not _external:
            raise ValueError("When specifying '_scheme', '_external' must be True.")
        self.inject_url_defaults(endpoint, values)
        try:
            rv = url_adapter.build(  # type: ignore[union-attr]
                endpoint,
                values,
                method=_method,
                url_scheme=_scheme,
                force_external=_external,
            )
        except BuildError as error:
            values.update(
                _anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external
            )
            return self.handle_url_build_error(error, endpoint, values)
        if _anchor is not None:
            from .urls import quote

            rv = f"{rv}#{quote(_anchor, safe=_ANCHOR_SAFE)}"
        return rv

    def redirect(self, location: str, code: int = 302) -> Response:
        """Return a redirect response to ``location`` (relative URLs stay relative)."""
        from .helpers import _redirect_response

        return _redirect_response(location, code, self.response_class)

    # -- responses ----------------------------------------------------------

    def make_response(self, rv: t.Any) -> Response:
        """Turn a view's return value into a :attr:`response_class` instance.

        Accepts what Flask accepts: a response, ``str``, ``bytes``, an
        iterator (streamed), a ``dict`` or ``list`` (JSON), a WSGI callable,
        and tuples ``(body, status)``, ``(body, headers)`` or
        ``(body, status, headers)``.
        """
        if rv.__class__ is str:
            # PERF: the commonest return value, with nothing to unpack.
            return self.response_class(rv)
        status = headers = None
        if isinstance(rv, tuple):
            rv, status, headers = _unpack_view_tuple(rv)
        if rv is None:
            ctx = _cv_request.get(None)
            endpoint = ctx.request.endpoint if ctx is not None else None
            raise TypeError(
                f"The view function for {endpoint!r} did not return a valid"
                " response. The function either returned None or ended"
                " without a return statement."
            )
        if not isinstance(rv, self.response_class):
            # PERF: the common kinds first, the ABC checks (slow) last; no
            # value is of two of these kinds.
            if isinstance(rv, (str, bytes, bytearray)):
                rv = self.response_class(rv, status=status, headers=headers)
                status = headers = None
            elif isinstance(rv, (dict, list)):
                rv = self.json.response(rv)
            elif (
                isinstance(rv, HTTPException)
                and rv.response is None
                and type(rv).get_response is _HTTP_EXCEPTION_GET_RESPONSE
            ):
                rv = self._error_page(rv)
            elif isinstance(rv, (cabc.Iterator, cabc.AsyncIterable)):
                # NOTE: an async iterable body is served by both drivers.
                rv = self.response_class(
                    t.cast(t.Any, rv), status=status, headers=headers
                )
                status = headers = None
            elif _is_http_exception(rv):
                rv = rv.get_response()
                if not isinstance(rv, self.response_class):
                    rv = self._coerce_response(rv)
            elif callable(rv) or hasattr(rv, "status_code"):
                rv = self._coerce_response(rv)
            else:
                raise TypeError(
                    "The view function did not return a valid response. The"
                    " return type must be a string, dict, list, tuple with"
                    " headers or status, Response instance, or WSGI callable,"
                    f" but it was a {type(rv).__name__}."
                )
        if status is not None:
            # NOTE: bytes are refused by the setter with a TypeError, as a
            # str body's status is (Flask's status type is int | str).
            if isinstance(status, str):
                rv.status = status
            else:
                rv.status_code = status
        if headers:
            rv.headers.update(headers)
        return rv  # type: ignore[no-any-return]

    def _error_page(self, e: HTTPException) -> Response:
        # PERF: what HTTPException.get_response() gives, built as the app's
        # response class at once instead of built and then converted.
        response_class = self.response_class
        if type(e).get_headers is _HTTP_EXCEPTION_GET_HEADERS:
            code = e.code
            if code is not None and response_class.default_mimetype == "text/html":
                # PERF: the constructor's plain path (a body and an int
                # code, about half the cost): the same response.
                return response_class(e.get_body(), code)
            return response_class(e.get_body(), e.code, mimetype="text/html")
        return response_class(e.get_body(), e.code, e.get_headers())

    def _coerce_response(self, rv: t.Any) -> Response:
        ctx = _cv_request.get(None)
        environ = ctx.request.environ if ctx is not None else {}
        try:
            if isinstance(rv, Response.__mro__[1]):
                return self.response_class.force_type(t.cast(Response, rv))
            return _wsgi.response_from_wsgi_app(rv, environ, self.response_class)
        except TypeError as e:
            raise TypeError(
                f"{e}\nThe view function did not return a valid response. The"
                " return type must be a string, dict, list, tuple with headers"
                " or status, Response instance, or WSGI callable, but it was a"
                f" {type(rv).__name__}."
            ).with_traceback(sys.exc_info()[2]) from None

    def make_default_options_response(self) -> Response:
        """Return the automatic ``OPTIONS`` response, with ``Allow``."""
        adapter = _cv_request.get().url_adapter
        methods = adapter.allowed_methods()  # type: ignore[union-attr]
        rv = self.response_class()
        rv.allow.update(methods)
        return rv

    # -- errors -------------------------------------------------------------

    def _find_error_handler(
        self, e: BaseException, blueprints: list[str]
    ) -> t.Callable[[t.Any], t.Any] | None:
        if not self.error_handler_spec:  # PERF: no handler anywhere
            return None
        exc_class = type(e)
        code = getattr(e, "code", None) if _is_http_exception(e) else None
        names = (*blueprints, None)
        for c in (code, None) if code is not None else (None,):
            for name in names:
                per_code = self.error_handler_spec.get(name)
                if not per_code:
                    continue
                handler_map = per_code.get(c)
                if not handler_map:
                    continue
                for cls in exc_class.__mro__:
                    handler = handler_map.get(cls)
                    if handler is not None:
                        return handler
        return None

    def trap_http_exception(self, e: Exception) -> bool:
        """Return whether an HTTP error should propagate instead of being handled."""
        if self.config["TRAP_HTTP_EXCEPTIONS"]:
            return True
        trap_bad_request = self.config["TRAP_BAD_REQUEST_ERRORS"]
        if (
            trap_bad_request is None
            and isinstance(e, BadRequestKeyError)
            and self.debug
        ):
            return True
        if trap_bad_request:
            return isinstance(e, BadRequest)
        return False

    def should_ignore_error(self, error: BaseException | None) -> bool:
        """Return whether ``error`` should be hidden from teardown functions."""
        return False

    def log_exception(
        self,
        exc_info: tuple[type, BaseException, t.Any] | tuple[None, None, None],
    ) -> None:
        """Log an unhandled exception as ``Exception on /path [METHOD]``."""
        ctx = _cv_request.get(None)
        if ctx is not None:
            where = f"{ctx.request.path} [{ctx.request.method}]"
        else:
            where = "(no request)"
        self.logger.error(f"Exception on {where}", exc_info=exc_info)

    def raise_routing_exception(self, request: Request) -> t.NoReturn:
        """Raise the request's routing error (404, 405, 308 redirect...)."""
        exc = request.routing_exception
        if (
            not isinstance(exc, RequestRedirect)  # PERF: before the debug property
            or not self.debug
            or exc.code in {307, 308}
            or request.method in {"GET", "HEAD", "OPTIONS"}
        ):
            raise exc  # type: ignore[misc]
        from .debughelpers import FormDataRoutingRedirect

        raise FormDataRoutingRedirect(request)

    # -- async support ------------------------------------------------------

    def ensure_sync(self, func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        """Return ``func``, or a sync wrapper if it is a coroutine function."""
        if _iscoroutinefunction(func):
            return self.async_to_sync(func)
        return func

    def async_to_sync(
        self, func: t.Callable[..., t.Coroutine[t.Any, t.Any, t.Any]]
    ) -> t.Callable[..., t.Any]:
        """Wrap a coroutine function to run to completion when called.

        Under WSGI the coroutine runs on the worker thread's own event loop,
        created once and reused; in an ASGI request's worker thread it runs
        on the server's loop.

        .. note:: Flask compatibility: no asgiref is involved.
        """
        return _async_to_sync(func)

    # -- the request pipeline -----------------------------------------------
    #
    # Written twice, on purpose, side by side (and the plain methods a third
    # time, inlined, as the lean path of _handle_sync, for apps that
    # override none of them):
    #
    # * The public Flask methods below (full_dispatch_request,
    #   preprocess_request, ...) are plain sync code calling one another as
    #   Flask's do, so an override of any of them is honoured by the call
    #   itself. They serve every app whose user functions are all sync or
    #   that overrides a pipeline method (_erlen_chain_in_thread): under
    #   WSGI, and under ASGI in one worker thread. A coroutine function met
    #   there runs through ensure_sync, as in Flask.
    # * The generator steps (_*_gen) serve apps that have coroutine
    #   functions and override nothing. A step yields the user functions it
    #   needs called, as (function, args, kwargs), and gets the result sent
    #   back: the event loop's driver awaits coroutine functions and sends
    #   sync ones to a worker thread; the WSGI driver (_drive_in_context)
    #   runs coroutine functions as tasks in the request's context.
    #
    # PERF: a generator costs ~165 ns to create and ~130 ns per
    # ``yield from``, a plain call ~25 ns: an all-sync request costs about
    # a sixth less through the plain methods than through the steps. The
    # decisions both share are helpers (_run_url_value_preprocessors,
    # _matched_view, _save_session, _http_error_handler, ...), and so are
    # the lean push and pop of the contexts (ctx.push_lean, ctx.pop_lean);
    # the tests in tests/test_pipeline_twins.py run the same apps through
    # all three.

    def _sync_callable(self, func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        # What the plain methods call for a user function: ensure_sync's
        # result, asked only where it can differ from the function itself.
        # PERF: the plain methods look in _erlen_plain_funcs first: a sync
        # function is remembered there and then called as it is.
        if self._erlen_wrap_all or _is_coroutine_function(func):
            return self.ensure_sync(func)
        try:
            cache_put(self._erlen_plain_funcs, _PLAIN_FUNCS_MAX, func, func)
        except TypeError:  # unhashable callable: not remembered
            pass
        return func

    def _send(self, name: str, **kwargs: t.Any) -> None:
        # PERF: blinker's send costs even without receivers; ask first, and
        # without loading blinker while no signal was ever looked up.
        signal = signals.receivers_of(name)
        if signal is not None:
            signal.send(self, _async_wrapper=self.ensure_sync, **kwargs)

    def _after_request_chain(self, req: Request) -> t.Sequence[t.Callable[..., t.Any]]:
        # The after_request functions to call, in Flask's order (innermost
        # blueprint first, each scope's last added first).
        after_request_funcs = self.after_request_funcs
        if len(after_request_funcs) <= (None in after_request_funcs):
            # PERF: no blueprint has a function (see _before_request_chain).
            return after_request_funcs.get(None, ())[::-1]
        bps = req.blueprints
        return [
            func
            for name in ((*bps, None) if bps else _APP_SCOPE)
            for func in reversed(after_request_funcs.get(name, ()))
        ]

    def _before_request_chain(self, req: Request) -> t.Sequence[t.Callable[..., t.Any]]:
        # The before_request functions to call, in Flask's order, once the
        # URL value preprocessors have run (preprocess_request and the steps).
        before_request_funcs = self.before_request_funcs
        if not self.url_value_preprocessors and len(before_request_funcs) <= (
            None in before_request_funcs
        ):
            # PERF: no blueprint has a function (a key besides None), so
            # request.blueprints is not looked up: len(d) > (None in d).
            return before_request_funcs.get(None, ())
        # The app's scope, then the blueprints' from the outermost.
        bps = req.blueprints
        names = (None, *reversed(bps)) if bps else _APP_SCOPE
        if self.url_value_preprocessors:
            self._run_url_value_preprocessors(req, names)
        return [func for name in names for func in before_request_funcs.get(name, ())]

    def _run_url_value_preprocessors(
        self, req: Request, names: tuple[str | None, ...]
    ) -> None:
        url_value_preprocessors = self.url_value_preprocessors
        for name in names:
            if name in url_value_preprocessors:
                for url_func in url_value_preprocessors[name]:
                    url_func(req.endpoint, req.view_args)

    def _matched_view(self, req: Request) -> t.Callable[..., t.Any] | None:
        # The view to call, or None for the automatic OPTIONS answer; a
        # routing error (404, 405, redirect) is raised.
        if req.routing_exception is not None:
            self.raise_routing_exception(req)
        rule: t.Any = req.url_rule
        if (
            getattr(rule, "provide_automatic_options", False)
            and req.method == "OPTIONS"
        ):
            return None
        return self.view_functions[rule.endpoint]

    def _save_session(self, ctx: RequestContext, response: Response) -> None:
        # NOTE: ctx._session, not ctx.session: saving is not an access. It
        # is None when the session was never opened: a new session, unused.
        session = ctx._session
        if session is not None:
            session_interface = self.session_interface
            if not session_interface.is_null_session(session):
                session_interface.save_session(self, session, response)

    def _http_error_handler(self, e: t.Any) -> t.Callable[..., t.Any] | None:
        # The handler handle_http_exception calls; None: the error answers.
        if e.code is None or isinstance(e, RoutingException):
            return None
        return self._find_error_handler(e, _cv_request.get().request.blueprints)

    def _is_handled_as_http(self, e: Exception) -> bool:
        # Whether handle_user_exception hands ``e`` to handle_http_exception.
        if isinstance(e, BadRequestKeyError) and (
            self.debug or self.config["TRAP_BAD_REQUEST_ERRORS"]
        ):
            e.show_exception = True
        return _is_http_exception(e) and not self.trap_http_exception(e)

    def _user_error_handler(self, e: Exception) -> t.Callable[..., t.Any]:
        handler = self._find_error_handler(e, _cv_request.get().request.blueprints)
        if handler is None:
            raise e
        return handler

    def _server_error(self, e: Exception) -> t.Any:
        # handle_exception's first half: re-raise when propagating, else
        # log and return the 500 to answer with (its handler not yet run).
        self._send("got_request_exception", exception=e)
        propagate = self.config["PROPAGATE_EXCEPTIONS"]
        if propagate is None:
            propagate = self.testing or self.debug
        if propagate:
            raise e
        self.log_exception((type(e), e, e.__traceback__))
        return InternalServerError(original_exception=e)

    def _server_error_handler(self, server_error: t.Any) -> t.Any:
        ctx = _cv_request.get(None)
        return self._find_error_handler(
            server_error, ctx.request.blueprints if ctx is not None else []
        )

    def _before_pop(
        self, environ: dict[str, t.Any], error: BaseException | None
    ) -> BaseException | None:
        # What happens between the answer and the pop: the debugger may
        # keep the contexts; an ignored error is not passed to teardown.
        preserve = environ.get("erlen.debug.preserve_context")
        if preserve is not None:
            preserve(_cv_app.get())
            preserve(_cv_request.get())
        if error is not None and self.should_ignore_error(error):
            return None
        return error

    # The public pipeline methods: Flask's names and signatures. Subclasses
    # may override any of them.

    def full_dispatch_request(self) -> Response:
        """Dispatch the request with pre- and post-processing and error handling."""
        if not self._got_first_request:  # PERF: no __setattr__ call per request
            self._got_first_request = True
        try:
            if signals._loaded:  # PERF: no call while no signal exists
                self._send("request_started")
            rv = self.preprocess_request()
            if rv is None:
                rv = self.dispatch_request()
        except Exception as e:
            if e.__class__ in _QUIET_ROUTING_ERRORS and self._erlen_answers_quietly():
                # PERF: a 404/405 with no handler to run is its own answer,
                # as handle_http_exception would return it; without its
                # traceback, whose frame (holding ``rv``) would make a
                # reference cycle for the GC to find (~15k instructions).
                rv = e.with_traceback(None)
            else:
                rv = self.handle_user_exception(e)
        return self.finalize_request(rv)

    def _erlen_answers_quietly(self) -> bool:
        # Whether handle_user_exception would return a 404/405 unchanged:
        # neither it, handle_http_exception nor trap_http_exception is
        # overridden, nothing traps HTTP errors, and no error handler exists.
        return (
            self._erlen_plain_http_errors
            and not self.error_handler_spec
            and not self.config["TRAP_HTTP_EXCEPTIONS"]
        )

    def preprocess_request(self) -> t.Any:
        """Run URL value preprocessors and before_request functions."""
        plain = self._erlen_plain_funcs.get
        for func in self._before_request_chain(_cv_request.get().request):
            try:
                call = plain(func) or self._sync_callable(func)
            except TypeError:  # an unhashable callable: no lookup
                call = self._sync_callable(func)
            rv = call()
            if rv is not None:
                return rv
        return None

    def dispatch_request(self) -> t.Any:
        """Call the matched view (or raise the routing error) and return its value."""
        req = _cv_request.get().request
        view = self._matched_view(req)
        if view is None:
            return self.make_default_options_response()
        try:
            call = self._erlen_plain_funcs.get(view) or self._sync_callable(view)
        except TypeError:  # an unhashable callable: no lookup
            call = self._sync_callable(view)
        return call(**req.view_args)  # type: ignore[arg-type]

    def finalize_request(self, rv: t.Any, from_error_handler: bool = False) -> Response:
        """Turn ``rv`` into a response and run the after-request processing."""
        response = self.make_response(rv)
        try:
            response = self.process_response(response)
            if signals._loaded:  # PERF: no call while no signal exists
                self._send("request_finished", response=response)
        except Exception:
            self._finalizing_failed(from_error_handler)
        return response

    def _finalizing_failed(self, from_error_handler: bool) -> None:
        # Called in finalize_request's (and _finalize_gen's) except block:
        # re-raise, unless this was already the answer to an error.
        if not from_error_handler:
            raise
        self.logger.exception(
            "Request finalizing failed with an error while handling an error"
        )

    def process_response(self, response: Response) -> Response:
        """Run after_this_request and after_request functions, then save the session."""
        ctx = _cv_request.get()
        plain = self._erlen_plain_funcs.get
        for func in ctx._after_request_functions:
            try:
                call = plain(func) or self._sync_callable(func)
            except TypeError:  # an unhashable callable: no lookup
                call = self._sync_callable(func)
            response = call(response)
        for func in self._after_request_chain(ctx.request):
            try:
                call = plain(func) or self._sync_callable(func)
            except TypeError:  # an unhashable callable: no lookup
                call = self._sync_callable(func)
            response = call(response)
        if ctx._session is not None:
            self._save_session(ctx, response)
        return response

    def handle_http_exception(self, e: HTTPException) -> t.Any:
        """Return the registered handler's value for an HTTP error, or the error."""
        handler = self._http_error_handler(e)
        if handler is None:
            return e
        return self.ensure_sync(handler)(e)

    def handle_user_exception(self, e: Exception) -> t.Any:
        """Handle an exception raised while dispatching, or re-raise it."""
        if self._is_handled_as_http(e):
            return self.handle_http_exception(e)  # type: ignore[arg-type]
        return self.ensure_sync(self._user_error_handler(e))(e)

    def handle_exception(self, e: Exception) -> Response:
        """Answer an unhandled exception with a 500, or propagate it."""
        server_error = self._server_error(e)
        handler = self._server_error_handler(server_error)
        if handler is not None:
            server_error = self.ensure_sync(handler)(server_error)
        return self.finalize_request(server_error, from_error_handler=True)

    def do_teardown_request(self, exc: BaseException | None = _sentinel) -> None:
        """Run the teardown_request functions, innermost blueprint first."""
        if exc is _sentinel:
            exc = sys.exc_info()[1]
        funcs = self.teardown_request_funcs
        if funcs:  # PERF: most apps have none
            plain = self._erlen_plain_funcs.get
            bps = _cv_request.get().request.blueprints
            for name in (*bps, None) if bps else _APP_SCOPE:
                if name in funcs:
                    for func in reversed(funcs[name]):
                        try:
                            call = plain(func) or self._sync_callable(func)
                        except TypeError:  # an unhashable callable: no lookup
                            call = self._sync_callable(func)
                        call(exc)
        if signals._loaded:  # PERF: no call while no signal exists
            self._send("request_tearing_down", exc=exc)

    def do_teardown_appcontext(self, exc: BaseException | None = _sentinel) -> None:
        """Run the teardown_appcontext functions."""
        if exc is _sentinel:
            exc = sys.exc_info()[1]
        plain = self._erlen_plain_funcs.get
        for func in reversed(self.teardown_appcontext_funcs):
            try:
                call = plain(func) or self._sync_callable(func)
            except TypeError:  # an unhashable callable: no lookup
                call = self._sync_callable(func)
            call(exc)
        if signals._loaded:  # PERF: no call while no signal exists
            self._send("appcontext_tearing_down", exc=exc)

    def _handle_sync(self, environ: dict[str, t.Any]) -> Response:
        # One all-sync request. The lean path: for an app that overrides none
        # of the methods it inlines (_LEAN_METHODS, decided at the first
        # request) this is request_context(), push(), full_dispatch_request()
        # (preprocess_request, dispatch_request, finalize_request,
        # make_response of a str, process_response) and pop() in one frame,
        # calling out only for the rare branches. The requests it leaves to
        # the plain methods (_handle_ctx): a signal receiver or an enclosing
        # app context to honour, a context to preserve (the debugger, ``with
        # client``), a binding that may fail or warn (SERVER_NAME, trusted
        # hosts).
        # NOTE: the same steps as the plain methods and _handle_gen, in the
        # same order; tests/test_pipeline_twins.py holds the three alike.
        # PERF: a Python call costs ~1.5k instructions with its frame and
        # arguments; a hello request saves ~16k.
        ctx = _push_lean(self, environ)
        if not ctx._cv_tokens:
            return self._handle_ctx(ctx, environ)
        request = ctx.request
        after_this = ctx._after_request_functions
        plain = self._erlen_plain_funcs.get
        error: BaseException | None = None
        try:
            try:
                ctx._open()
                # full_dispatch_request()
                try:
                    rv = None
                    func: t.Callable[..., t.Any]
                    funcs = self.before_request_funcs
                    # PERF: _before_request_chain's first case, without the call.
                    for func in (
                        funcs.get(None, ())
                        if not self.url_value_preprocessors
                        and len(funcs) <= (None in funcs)
                        else self._before_request_chain(request)
                    ):
                        try:
                            call = plain(func) or self._sync_callable(func)
                        except TypeError:  # an unhashable callable: no lookup
                            call = self._sync_callable(func)
                        rv = call()
                        if rv is not None:
                            break
                    else:
                        # PERF: _matched_view's answer for a matched request
                        # other than OPTIONS, without the call.
                        view = (
                            self._matched_view(request)
                            if request.routing_exception is not None
                            or request.method == "OPTIONS"
                            else self.view_functions[request.url_rule.endpoint]  # type: ignore[union-attr]
                        )
                        if view is None:
                            rv = self.make_default_options_response()
                        else:
                            try:
                                call = plain(view) or self._sync_callable(view)
                            except TypeError:  # an unhashable callable
                                call = self._sync_callable(view)
                            rv = call(**request.view_args)  # type: ignore[arg-type]
                except Exception as e:
                    if (
                        e.__class__ in _QUIET_ROUTING_ERRORS
                        and self._erlen_answers_quietly()
                    ):
                        rv = e.with_traceback(None)  # see full_dispatch_request
                    else:
                        rv = self.handle_user_exception(e)
                # finalize_request() and process_response()
                # PERF: make_response's answer to a str and to a response,
                # the commonest values, without the call.
                response = (
                    self.response_class(rv)
                    if rv.__class__ is str
                    else rv
                    if rv.__class__ is self.response_class
                    else self.make_response(rv)
                )
                after_funcs = self.after_request_funcs
                # PERF: _after_request_chain's first case, without the call.
                after = (
                    after_funcs.get(None, ())[::-1]
                    if len(after_funcs) <= (None in after_funcs)
                    else self._after_request_chain(request)
                )
                # NOTE: the after_this_request list itself, iterated as it
                # grows (as in Flask).
                for func in chain(after_this, after) if after_this else after:
                    try:
                        call = plain(func) or self._sync_callable(func)
                    except TypeError:  # an unhashable callable: no lookup
                        call = self._sync_callable(func)
                    response = call(response)
                # NOTE: request_finished too, for a receiver connected
                # during this request (the lean path was taken without one).
                if ctx._session is not None or signals._live:
                    self._finish_response(ctx, response)
            except Exception as e:
                error = e
                response = self.handle_exception(e)
            except BaseException:
                error = sys.exc_info()[1]
                raise
            return response
        finally:
            if error is not None:
                error = self._before_pop(environ, error)
            _pop_lean(ctx, error)

    def _handle_ctx(self, ctx: RequestContext, environ: dict[str, t.Any]) -> Response:
        # One request through the plain methods, as Flask's wsgi_app does.
        error: BaseException | None = None
        try:
            try:
                ctx.push()
                response = self.full_dispatch_request()
            except Exception as e:
                error = e
                response = self.handle_exception(e)
            except BaseException:
                error = sys.exc_info()[1]
                raise
            return response
        finally:
            if error is None and "erlen.debug.preserve_context" not in environ:
                ctx.pop(None)  # PERF: what _before_pop gives, without the call
            else:
                ctx.pop(self._before_pop(environ, error))

    # The generator steps, for apps with coroutine functions. ``inline``
    # (a parameter of each step) tells the two drivers apart:
    # - inline (every driver but the event loop's): a sync function is
    #   called in place, and a coroutine function is handed to the driver
    #   as a _Call (it runs it as a task in the request's context).
    # - not inline (the event loop's driver): a coroutine function runs in
    #   the step itself (``yield from``, as ``await`` does; see _awaits),
    #   and a sync function is handed to the driver as a _Call (it runs it
    #   in a worker thread, so that it never blocks the loop).
    # So each call site asks ``_ASYNC_CACHE[func] is inline``: true, the
    # driver makes the call; false, the step makes it (an unhashable
    # callable is asked with _iscoroutinefunction instead).
    # PERF: a request is one generator, _handle_gen: its sections follow
    # the plain methods of the same names, finalize_request included (a
    # nested generator per request costs ~1k instructions). The error path
    # finalizes through _finalize_gen, the twin of that section. On the
    # event loop, coroutine functions that never wait (most) make the whole
    # request one send() into it.

    @_awaits
    def _finalize_gen(
        self, rv: t.Any, inline: bool, from_error_handler: bool = False
    ) -> _Gen[Response]:
        # NOTE: the twin of _handle_gen's finalize_request section (keep
        # the two alike); this one serves the error path.
        ctx = _cv_request.get()
        response = self.make_response(rv)
        try:
            # process_response. NOTE: the after_this_request list itself,
            # iterated as it grows (as in Flask).
            after_this = ctx._after_request_functions
            funcs = self._after_request_chain(ctx.request)
            for func in chain(after_this, funcs) if after_this else funcs:
                try:
                    by_driver = _ASYNC_CACHE[func] is inline
                except TypeError:  # an unhashable callable
                    by_driver = _iscoroutinefunction(func) is inline
                response = (
                    (yield _Call((func, (response,), {})))
                    if by_driver
                    else func(response)
                    if inline
                    else (yield from func(response))
                )
            if inline or not self.session_interface.io_bound:
                self._finish_response(ctx, response)
            else:  # the session saved off the loop (see _handle_gen)
                yield _Call((self._finish_response, (ctx, response), {}))
        except Exception:
            self._finalizing_failed(from_error_handler)
        return response

    def _finish_response(self, ctx: RequestContext, response: Response) -> None:
        # The end of the steps' finalize_request: save the session, send
        # request_finished.
        if ctx._session is not None:
            self._save_session(ctx, response)
        if signals._loaded:  # PERF: no call while no signal exists
            self._send("request_finished", response=response)

    @_awaits
    def _call_gen(
        self, func: t.Callable[..., t.Any], arg: t.Any, inline: bool
    ) -> _Gen[t.Any]:
        # ``func(arg)`` as the steps call a function, for the rare paths
        # (error handlers).
        if _is_coroutine_function(func) is inline:
            return (yield _Call((func, (arg,), {})))
        return func(arg) if inline else (yield from func(arg))

    def _handle_user_exception_gen(self, e: Exception, inline: bool) -> _Gen[t.Any]:
        if self._is_handled_as_http(e):
            handler = self._http_error_handler(e)
            if handler is None:
                return e
        else:
            handler = self._user_error_handler(e)
        return (yield from self._call_gen(handler, e, inline))

    def _handle_exception_gen(self, e: Exception, inline: bool) -> _Gen[Response]:
        server_error = self._server_error(e)
        handler = self._server_error_handler(server_error)
        if handler is not None:
            server_error = yield from self._call_gen(handler, server_error, inline)
        return (yield from self._finalize_gen(server_error, inline, True))

    @_awaits
    def _teardown_request_gen(
        self, exc: BaseException | None, inline: bool
    ) -> _Gen[None]:
        bps = _cv_request.get().request.blueprints
        teardown_request_funcs = self.teardown_request_funcs
        for name in (*bps, None) if bps else _APP_SCOPE:
            if name in teardown_request_funcs:
                for func in reversed(teardown_request_funcs[name]):
                    if _is_coroutine_function(func) is inline:
                        yield _Call((func, (exc,), {}))
                    elif inline:
                        func(exc)
                    else:
                        yield from func(exc)
        self._send("request_tearing_down", exc=exc)

    @_awaits
    def _teardown_appcontext_gen(
        self, exc: BaseException | None, inline: bool
    ) -> _Gen[None]:
        for func in reversed(self.teardown_appcontext_funcs):
            if _is_coroutine_function(func) is inline:
                yield _Call((func, (exc,), {}))
            elif inline:
                func(exc)
            else:
                yield from func(exc)
        self._send("appcontext_tearing_down", exc=exc)

    def _pop_gen(
        self,
        ctx: RequestContext,
        environ: dict[str, t.Any],
        exc: BaseException | None,
        inline: bool,
    ) -> _Gen[None]:
        # Run the teardown functions through the driver (so async ones are
        # awaited), then pop the contexts without running them again.
        if exc is not None or "erlen.debug.preserve_context" in environ:
            exc = self._before_pop(environ, exc)
        if not (
            self.teardown_request_funcs
            or self.teardown_appcontext_funcs
            or signals._loaded
        ):
            ctx.pop(exc)  # PERF: nothing to run at teardown
            return
        if len(ctx._cv_tokens) != 1:
            ctx.pop(exc)
            return
        app_ctx = ctx._cv_tokens[-1][1]
        try:
            ctx._erlen_teardown_done = True
            # PERF: most apps have nothing to run at teardown.
            if self.teardown_request_funcs or (
                signals._loaded
                and signals.receivers_of("request_tearing_down") is not None
            ):
                yield from self._teardown_request_gen(exc, inline)
        finally:
            # NOTE: as in Flask, a failing teardown_request function still
            # lets the app context tear down and both contexts pop.
            try:
                if app_ctx is not None and len(app_ctx._cv_tokens) == 1:
                    app_ctx._erlen_teardown_done = True
                    if self.teardown_appcontext_funcs or (
                        signals._loaded
                        and signals.receivers_of("appcontext_tearing_down") is not None
                    ):
                        yield from self._teardown_appcontext_gen(exc, inline)
            finally:
                ctx.pop(exc)

    @_awaits
    def _handle_gen(
        self,
        environ: dict[str, t.Any],
        inline: bool = True,
        out: list[Response] | None = None,
    ) -> _Gen[Response]:
        # Pushed lean, or not pushed yet (see push_lean).
        ctx = _push_lean(self, environ)
        req = ctx.request
        error: BaseException | None = None
        try:
            try:
                # NOTE: pushing opens the session; a store that waits on I/O
                # (Redis) is read in a worker thread, off the event loop.
                off_loop = not inline and self.session_interface.io_bound
                push = ctx._open if ctx._cv_tokens else ctx.push
                (yield _Call((push, (), {}))) if off_loop else push()
                # full_dispatch_request. NOTE: no _got_first_request store:
                # both drivers ran _erlen_setup, which set it.
                try:
                    if signals._loaded:  # PERF: no call while no signal exists
                        self._send("request_started")
                    # preprocess_request
                    rv = None
                    func: t.Callable[..., t.Any]
                    funcs = self.before_request_funcs
                    # PERF: _before_request_chain's first case, without the call.
                    for func in (
                        funcs.get(None, ())
                        if not self.url_value_preprocessors
                        and len(funcs) <= (None in funcs)
                        else self._before_request_chain(req)
                    ):
                        try:
                            by_driver = _ASYNC_CACHE[func] is inline
                        except TypeError:  # an unhashable callable
                            by_driver = _iscoroutinefunction(func) is inline
                        rv = (
                            (yield _Call((func, (), {})))
                            if by_driver
                            else func()
                            if inline
                            else (yield from func())
                        )
                        if rv is not None:
                            break
                    # dispatch_request
                    if rv is None:
                        # PERF: _matched_view's answer for a matched request
                        # other than OPTIONS, without the call.
                        view = (
                            self._matched_view(req)
                            if req.routing_exception is not None
                            or req.method == "OPTIONS"
                            else self.view_functions[req.url_rule.endpoint]  # type: ignore[union-attr]
                        )
                        if view is None:
                            rv = self.make_default_options_response()
                        else:
                            kwargs: t.Any = req.view_args
                            try:
                                by_driver = _ASYNC_CACHE[view] is inline
                            except TypeError:  # an unhashable callable
                                by_driver = _iscoroutinefunction(view) is inline
                            # PERF: no ``**{}`` (~400 instructions) without
                            # view arguments.
                            rv = (
                                (yield _Call((view, (), kwargs)))
                                if by_driver
                                else (view(**kwargs) if kwargs else view())
                                if inline
                                else (yield from (view(**kwargs) if kwargs else view()))
                            )
                except Exception as e:
                    # PERF: a 404/405 with no handler to run is its own answer
                    # (as in full_dispatch_request). Its traceback, which no
                    # one reads, is dropped: through its frames' locals (the
                    # request, whose routing_exception it is) it made a
                    # reference cycle, ~30 objects per request left to the
                    # garbage collector (~10k instructions).
                    rv = (
                        e.with_traceback(None)
                        if e.__class__ in _QUIET_ROUTING_ERRORS
                        and self._erlen_answers_quietly()
                        else (yield from self._handle_user_exception_gen(e, inline))
                    )
                # finalize_request (the twin of _finalize_gen). NOTE: no
                # _finalizing_failed here: outside the error path it re-raises.
                # PERF: make_response's answer to a str and to a response,
                # the commonest values, without the call (when it is Flask's).
                response = (
                    self.make_response(rv)
                    if not self._erlen_lean
                    else self.response_class(rv)
                    if rv.__class__ is str
                    else rv
                    if rv.__class__ is self.response_class
                    else self.make_response(rv)
                )
                # process_response
                # NOTE: the after_this_request list itself, iterated as it
                # grows (as in Flask).
                after_this = ctx._after_request_functions
                after_funcs = self.after_request_funcs
                # PERF: _after_request_chain's first case, without the call.
                after = (
                    after_funcs.get(None, ())[::-1]
                    if len(after_funcs) <= (None in after_funcs)
                    else self._after_request_chain(req)
                )
                for func in chain(after_this, after) if after_this else after:
                    try:
                        by_driver = _ASYNC_CACHE[func] is inline
                    except TypeError:  # an unhashable callable
                        by_driver = _iscoroutinefunction(func) is inline
                    response = (
                        (yield _Call((func, (response,), {})))
                        if by_driver
                        else func(response)
                        if inline
                        else (yield from func(response))
                    )
                if ctx._session is not None or signals._loaded:
                    # The session saved off the loop too (see the push).
                    (
                        (yield _Call((self._finish_response, (ctx, response), {})))
                        if off_loop
                        else self._finish_response(ctx, response)
                    )
            except Exception as e:
                error = e
                response = yield from self._handle_exception_gen(e, inline)
            except BaseException:
                error = sys.exc_info()[1]
                raise
        finally:
            if (
                error is not None
                or "erlen.debug.preserve_context" in environ
                or self.teardown_request_funcs
                or self.teardown_appcontext_funcs
                or signals._loaded
            ):
                yield from self._pop_gen(ctx, environ, error, inline)
            else:  # PERF: nothing to run at teardown, nor before the pop
                _pop_lean(ctx, None)
        # PERF: with ``out``, the response goes there and the generator
        # returns None, so that ``next(gen, default)`` sees it end without
        # a StopIteration being made and caught (about 2k instructions).
        # (Typed for the caller without ``out``, the one that reads the result.)
        return response if out is None else out.append(response)  # type: ignore[return-value,func-returns-value]

    async def _drive_async(
        self,
        gen: _Gen[t.Any],
        context: contextvars.Context,
        yielded: t.Any,
        out: list[Response],
    ) -> Response:
        # The event loop's driver, in the calling task (no task per request),
        # once the first stretch of ``gen`` (run by _erlen_handle_async)
        # stopped at ``yielded``: a _Call for a sync function, or what a
        # coroutine function running in ``gen`` waits on (a future, or None
        # for one turn of the loop), which is awaited here as a task would.
        # The response is put in ``out`` when ``gen`` ends.
        # ``gen`` runs in ``context`` one stretch at a time, and a sync
        # function runs in a worker thread in that same context object
        # (entered by one thread at a time: never here while awaiting). One
        # context per request keeps ContextVar tokens valid wherever a step
        # pushed them.
        run = context.run
        send = gen.send
        value: t.Any = None
        error: BaseException | None = None
        try:
            while True:
                try:
                    if yielded.__class__ is _Call:
                        func, args, kwargs = yielded
                        value = await _asgi.run_sync(context, func, *args, **kwargs)
                    else:
                        await _wait_as_task(yielded)
                except BaseException as e:
                    error = e
                if error is None:
                    yielded = run(send, value)
                else:
                    yielded = run(gen.throw, error)
                value = error = None
        except StopIteration:
            return out[0]

    # -- protocol entry points ------------------------------------------------

    def _erlen_handle(self, environ: dict[str, t.Any]) -> Response:
        """Handle one request synchronously and return its response."""
        if not self._got_first_request:
            self._erlen_setup()
        return self._handle_sync(environ)

    def _drive_in_context(
        self, environ: dict[str, t.Any], context: contextvars.Context
    ) -> Response:
        # The sync driver for apps with coroutine functions: every step and
        # sync function runs in ``context``; coroutine functions run as tasks
        # in it on the thread's loop (never while ``context`` is entered).
        run = context.run
        out: list[Response] = []
        gen = self._handle_gen(environ, True, out)
        try:
            # PERF: ``out`` when gen ended (see _handle_gen).
            call: t.Any = run(next, gen, out)
            while call is not out:
                func, args, kwargs = call
                try:
                    value = _run_in_context(func(*args, **kwargs), context)
                except BaseException as e:
                    call = run(gen.throw, e)
                else:
                    call = run(gen.send, value)
        except StopIteration:
            pass
        return out[0]

    def _erlen_handle_async(
        self, environ: dict[str, t.Any], context: contextvars.Context
    ) -> Response | t.Awaitable[Response]:
        """Handle one request from the event loop, in ``context`` (one per request).

        Returns the response when the request finished without waiting (most
        do), else an awaitable of it.
        """
        if not self._got_first_request:
            self._erlen_setup()
        if self._erlen_chain_in_thread:
            # Every user function is sync: the whole chain in one worker
            # thread call.
            return _asgi.run_sync(context, self._erlen_handle, environ)
        out: list[Response] = []
        gen = self._handle_gen(environ, False, out)
        # PERF: the first stretch of work runs here; a coroutine is made only
        # when the request has to wait.
        yielded = context.run(next, gen, out)  # ``out`` when gen ended
        if yielded is out:
            return out[0]
        return self._drive_async(gen, context, yielded, out)

    async def _erlen_lifespan(self, phase: str) -> None:
        """Run the before_serving or after_serving functions."""
        funcs = (
            self.before_serving_funcs
            if phase == "startup"
            else self.after_serving_funcs
        )
        with self.app_context():
            for func in funcs:
                if _iscoroutinefunction(func):
                    await func()
                else:
                    func()

    async def _erlen_websocket(
        self, environ: dict[str, t.Any], websocket: Websocket
    ) -> None:
        """Serve one WebSocket connection (the websockets driver calls it)."""
        if not self._got_first_request:
            self._erlen_setup()
        import asyncio  # PERF: on the loop, asyncio is loaded: a dict lookup

        # One context for the connection, as for an HTTP request: the
        # session runs in it as a task of its own (a real task: servers'
        # receive() awaitables need one), then the teardown steps run in it
        # from this task, and sync teardown functions in worker threads
        # entered from here, never while the session task runs, so that
        # ContextVar tokens stay valid wherever they were set.
        context = contextvars.copy_context()
        ctx = context.run(self.request_context, environ)
        error: BaseException | None = None
        try:
            error = await asyncio.get_running_loop().create_task(
                self._websocket_session(ctx, websocket, environ, context),
                context=context,
            )
        except BaseException:
            error = sys.exc_info()[1]
            raise
        finally:
            await self._websocket_pop(ctx, environ, error, context)

    async def _websocket_session(
        self,
        ctx: RequestContext,
        websocket: Websocket,
        environ: dict[str, t.Any],
        context: contextvars.Context,
    ) -> Exception | None:
        # What a websocket connection runs: push the contexts, match, run the
        # url_value_preprocessors and the view, close. The before_request and
        # after_request functions do not run: they are about HTTP requests
        # and responses (see docs/websockets.md). Returns the unhandled
        # error, for the teardown functions.
        ctx.websocket = websocket
        websocket.request = ctx.request
        websocket.json = self.json
        websocket.logger = self.logger
        websocket.max_json_depth = self.config["MAX_JSON_DEPTH"]
        if ctx._url_adapter is _UNBOUND:
            # The lazy matcher only knows HTTP; the bound adapter (scheme ws
            # or wss) matches WebSocket rules.
            ctx._bind()
        try:
            if self.session_interface.io_bound:
                # Pushing opens the session: a store that waits on I/O is
                # read in a worker thread, in this connection's context
                # (free while this task waits for the thread).
                await _asgi.run_sync(context, ctx.push)
            else:
                ctx.push()
            rv = await self._websocket_view(ctx.request)
            if not websocket.accepted:
                # The view answered without accepting: refuse the
                # handshake, with its response if it returned one.
                await websocket.reject(
                    None if rv is None else self.make_response(rv), environ
                )
            else:
                await websocket.close()
        except WebsocketDisconnect:
            pass  # the client went away: nothing to report
        except HTTPException as e:
            await self._websocket_refuse(websocket, e, environ)
        except Exception as e:
            self._send("got_request_exception", exception=e)
            self.log_exception((type(e), e, e.__traceback__))
            await self._websocket_refuse(
                websocket, InternalServerError(original_exception=e), environ
            )
            return e
        return None

    async def _websocket_view(self, req: Request) -> t.Any:
        # dispatch_request for a websocket: match, preprocess, await the view.
        if req.routing_exception is not None:
            self.raise_routing_exception(req)
        rule: t.Any = req.url_rule
        if self.url_value_preprocessors:
            bps = req.blueprints
            self._run_url_value_preprocessors(
                req, (None, *reversed(bps)) if bps else _APP_SCOPE
            )
        view = self.view_functions[rule.endpoint]
        return await view(**(req.view_args or {}))

    async def _websocket_refuse(
        self, websocket: Websocket, e: HTTPException, environ: dict[str, t.Any]
    ) -> None:
        # An HTTP error before the handshake refuses it (the error's own
        # answer where the server can send one); after it, the connection
        # closes: 1011 for a server error, 1008 (policy) for a client error.
        if not websocket.accepted:
            await websocket.reject(e.get_response(environ), environ)
        else:
            code = e.code or 500
            await websocket.close(1011 if code >= 500 else 1008, e.name)

    async def _websocket_pop(
        self,
        ctx: RequestContext,
        environ: dict[str, t.Any],
        error: BaseException | None,
        context: contextvars.Context,
    ) -> None:
        # The HTTP pipeline's teardown steps (_pop_gen), driven as
        # _drive_async drives them: each stretch in ``context``, sync
        # functions in a worker thread in that same context, what a
        # coroutine function waits on awaited here.
        if self._erlen_overridden & _TEARDOWN_METHODS:
            # A subclass's teardown methods are plain sync code (Flask's
            # contract): the plain pop calls them, in a worker thread.
            if error is not None:
                error = self._before_pop(environ, error)
            await _asgi.run_sync(context, ctx.pop, error)
            return
        gen = self._pop_gen(ctx, environ, error, False)
        # _drive_async drives it past its first stretch; it ends with no
        # response, so ``out`` holds a placeholder (also next()'s default).
        out: list[t.Any] = [None]
        yielded = context.run(next, gen, out)
        if yielded is not out:
            await self._drive_async(gen, context, yielded, out)

    def wsgi_app(
        self, environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]
    ) -> t.Iterable[bytes]:
        """Serve one WSGI request. Wrap this attribute to add WSGI middleware."""
        if not self._got_first_request:
            self._erlen_setup()
        # One context per request, as under ASGI: a coroutine function (run
        # as a task in that context) can push contexts or set context
        # variables that the rest of the request, and its streamed body,
        # then see.
        context = contextvars.copy_context()
        if self._erlen_chain_in_thread:
            response = context.run(self._handle_sync, environ)
        else:
            response = self._drive_in_context(environ, context)
        body = response.response
        # PERF: a list (most bodies) is never async; hasattr on it would
        # raise and catch an AttributeError.
        if type(body) is not list and hasattr(body, "__aiter__"):
            # An async body (an async generator, stream_with_context of one)
            # is iterated step by step as tasks in the request's context.
            response.response = _SyncIterator(
                t.cast("t.AsyncIterable[bytes]", body), context
            )
            return _wsgi.respond(response, environ, start_response)
        return _wsgi.respond(response, environ, start_response, context)

    @_asgi.mark_coroutine_function
    def asgi_app(
        self,
        scope: dict[str, t.Any],
        receive: t.Callable[[], t.Awaitable[dict[str, t.Any]]],
        send: t.Callable[[dict[str, t.Any]], t.Awaitable[None]],
    ) -> t.Awaitable[None]:
        """Serve one ASGI connection (http, websocket or lifespan)."""
        # PERF: the driver's coroutine itself, not one awaiting it.
        return _asgi.serve(self, scope, receive, send, self.__dict__.get("wsgi_app"))

    @_asgi.mark_coroutine_function
    def __call__(
        self,
        environ: dict[str, t.Any],
        start_response: t.Callable[..., t.Any],
        send: t.Callable[[dict[str, t.Any]], t.Awaitable[None]] | None = None,
    ) -> t.Any:
        """Serve WSGI when called with two arguments, ASGI when called with three.

        Under ASGI, ``environ`` is the scope and ``start_response`` the
        receive callable.
        """
        # PERF: named parameters, not ``*args``: no tuple packed and unpacked.
        if send is not None:
            if self._erlen_plain_asgi:
                # PERF: asgi_app's coroutine without its call (decided at the
                # first request, and again if asgi_app or wsgi_app is set).
                return _asgi.serve(self, environ, start_response, send, None)
            return self.asgi_app(environ, start_response, send)
        return self.wsgi_app(environ, start_response)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    def run(
        self,
        host: str | None = None,
        port: int | None = None,
        debug: bool | None = None,
        load_dotenv: bool = True,
        **options: t.Any,
    ) -> None:
        """Serve the app with the development server (uvicorn), on 127.0.0.1:5000.

        Not for production: use gunicorn, uvicorn or granian directly.

        .. note:: erlen addition: when ``port`` is not given, the
            ``ERLEN_RUN_PORT`` environment variable, if set, replaces the
            default port 5000 (say, when 5000 is taken), without editing
            the code.
        """
        if (
            os.environ.get("FLASK_RUN_FROM_CLI") == "true"
            or os.environ.get("ERLEN_RUN_FROM_CLI") == "true"
        ):
            import warnings

            warnings.warn(
                "app.run() does nothing under the 'erlen run' command; the"
                " command starts the server itself.",
                stacklevel=2,
            )
            return
        if load_dotenv:
            from .cli import load_dotenv as _load_dotenv
            from .helpers import get_debug_flag

            _load_dotenv()
            if "ERLEN_DEBUG" in os.environ or "FLASK_DEBUG" in os.environ:
                self.debug = get_debug_flag()
        if debug is not None:
            self.debug = bool(debug)
        from .serving import run_simple

        host = host or "127.0.0.1"
        port = _default_run_port() if port is None else int(port)
        options.setdefault("use_reloader", self.debug)
        options.setdefault("use_debugger", self.debug)
        # Werkzeug's run_simple options with no uvicorn counterpart.
        for name in _WERKZEUG_ONLY_RUN_OPTIONS:
            options.pop(name, None)
        print(f" * Serving erlen app '{self.name}' on http://{host}:{port}", flush=True)
        run_simple(host, port, self, **options)


_WERKZEUG_ONLY_RUN_OPTIONS = (
    "use_evalex",
    "threaded",
    "processes",
    "reloader_type",
    "reloader_interval",
    "static_files",
    "passthrough_errors",
    "request_handler",
)


def _default_run_port() -> int:
    """Return the port ``run()`` uses when none is given: ERLEN_RUN_PORT or 5000."""
    value = os.environ.get("ERLEN_RUN_PORT", "").strip()
    if not value:
        return 5000
    if not value.isdecimal() or not 0 <= int(value) <= 65535:
        raise ValueError(
            f"ERLEN_RUN_PORT must be a TCP port number from 0 to 65535, got"
            f" {value!r}; set it to a number such as 8000 or unset it to use 5000."
        )
    return int(value)


def _debug_flag_from_env() -> bool:
    value = os.environ.get("FLASK_DEBUG") or os.environ.get("ERLEN_DEBUG")
    if not value:
        return False
    return value.lower() not in {"0", "false", "no"}
