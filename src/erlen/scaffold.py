"""The registration base shared by the application and blueprints."""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
import typing as t
from collections import defaultdict
from datetime import timedelta

from ._async import iscoroutinefunction as _iscoroutinefunction
from .exceptions import default_exceptions
from .exceptions import HTTPException
from .globals import _cv_app
from .globals import _cv_request
from .sansio import files as _files

if t.TYPE_CHECKING:  # pragma: no cover
    from jinja2 import BaseLoader

    from .wrappers import Response

#: The "argument not passed" marker, distinct from ``None``.
_sentinel: t.Any = object()

# NOTE: these aliases mirror ``flask.typing``; they move to ``erlen.typing``
# once that module exists, and stay importable from here.
AppOrBlueprintKey = str | None
RouteCallable = t.Callable[..., t.Any]
BeforeRequestCallable = t.Callable[[], t.Any]
AfterRequestCallable = t.Callable[[t.Any], t.Any]
TeardownCallable = t.Callable[[BaseException | None], t.Any]
TemplateContextProcessorCallable = t.Callable[[], t.Any]
TemplateFilterCallable = t.Callable[..., t.Any]
TemplateGlobalCallable = t.Callable[..., t.Any]
TemplateTestCallable = t.Callable[..., bool]
URLDefaultCallable = t.Callable[[str, dict[str, t.Any]], None]
URLValuePreprocessorCallable = t.Callable[[str | None, dict[str, t.Any] | None], None]
ErrorHandlerCallable = t.Callable[[t.Any], t.Any]

F = t.TypeVar("F", bound=t.Callable[..., t.Any])
T_after_request = t.TypeVar("T_after_request", bound=AfterRequestCallable)
T_before_request = t.TypeVar("T_before_request", bound=BeforeRequestCallable)
T_error_handler = t.TypeVar("T_error_handler", bound=ErrorHandlerCallable)
T_teardown = t.TypeVar("T_teardown", bound=TeardownCallable)
T_template_context_processor = t.TypeVar(
    "T_template_context_processor", bound=TemplateContextProcessorCallable
)
T_url_defaults = t.TypeVar("T_url_defaults", bound=URLDefaultCallable)
T_url_value_preprocessor = t.TypeVar(
    "T_url_value_preprocessor", bound=URLValuePreprocessorCallable
)
T_route = t.TypeVar("T_route", bound=RouteCallable)
T_websocket = t.TypeVar(
    "T_websocket", bound=t.Callable[..., t.Coroutine[t.Any, t.Any, t.Any]]
)

_RESOURCE_READ_MODES = frozenset({"r", "rt", "rb"})


def setupmethod(f: F) -> F:
    """Guard a registration method so it fails once setup is over.

    The wrapper calls ``self._check_setup_finished(name)`` before ``f``; the
    app raises after its first request, a blueprint after its registration.
    """
    f_name = f.__name__

    def wrapper_func(self: Scaffold, *args: t.Any, **kwargs: t.Any) -> t.Any:
        self._check_setup_finished(f_name)
        return f(self, *args, **kwargs)

    return t.cast(F, functools.update_wrapper(wrapper_func, f))


class Scaffold:
    """Hold the registries and decorators common to the app and blueprints.

    :param import_name: the import name of the module or package the object
        belongs to, usually ``__name__``; it locates :attr:`root_path`.
    :param static_folder: a folder of static files, relative to
        :attr:`root_path`; when set, a static route is added.
    :param static_url_path: the URL prefix of the static route; derived from
        the folder name when not given.
    :param template_folder: a folder of templates, relative to
        :attr:`root_path`; when set, :attr:`jinja_loader` reads from it.
    :param root_path: the directory that static, template and resource paths
        are relative to; found from ``import_name`` when not given.

    Every hook registry is a plain ``dict`` keyed by ``None`` (the object
    itself) or a blueprint name, holding lists, as in Flask: extensions
    append to them directly.
    """

    #: The name used in endpoint prefixes and registry keys.
    name: str
    _static_folder: str | None = None
    _static_url_path: str | None = None

    def __init__(
        self,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        root_path: str | None = None,
    ) -> None:
        #: The import name of the module or package this object belongs to.
        self.import_name = import_name
        self.static_folder = static_folder
        self.static_url_path = static_url_path
        #: The template folder relative to :attr:`root_path`, or ``None``.
        self.template_folder = template_folder
        if root_path is None:
            root_path = get_root_path(import_name)
        #: Absolute directory that resource paths are relative to.
        self.root_path = root_path

        #: Endpoint name to view function.
        self.view_functions: dict[str, RouteCallable] = {}
        #: Error handlers as ``{scope: {code or None: {exception class: f}}}``.
        self.error_handler_spec: dict[
            AppOrBlueprintKey,
            dict[int | None, dict[type[Exception], ErrorHandlerCallable]],
        ] = defaultdict(lambda: defaultdict(dict))
        #: Functions run before each request, per scope.
        self.before_request_funcs: dict[
            AppOrBlueprintKey, list[BeforeRequestCallable]
        ] = defaultdict(list)
        #: Functions run on the response after each request, per scope.
        self.after_request_funcs: dict[
            AppOrBlueprintKey, list[AfterRequestCallable]
        ] = defaultdict(list)
        #: Functions run when the request context is popped, per scope.
        self.teardown_request_funcs: dict[AppOrBlueprintKey, list[TeardownCallable]] = (
            defaultdict(list)
        )
        #: Functions adding template variables, per scope.
        #:
        #: .. note:: Flask compatibility: Flask seeds every scaffold's ``None``
        #:    list with its default context processor, so a blueprint carries
        #:    a second copy of it. erlen starts the list empty; the app adds
        #:    the default processor once.
        self.template_context_processors: dict[
            AppOrBlueprintKey, list[TemplateContextProcessorCallable]
        ] = defaultdict(list, {None: []})
        #: Functions that edit matched URL values before the view, per scope.
        self.url_value_preprocessors: dict[
            AppOrBlueprintKey, list[URLValuePreprocessorCallable]
        ] = defaultdict(list)
        #: Functions that fill in URL values when building URLs, per scope.
        self.url_default_functions: dict[
            AppOrBlueprintKey, list[URLDefaultCallable]
        ] = defaultdict(list)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    def _check_setup_finished(self, f_name: str) -> None:
        """Raise if ``f_name`` is called after setup is over; subclasses decide."""
        raise NotImplementedError

    # -- static and template folders -----------------------------------

    @property
    def static_folder(self) -> str | None:
        """Return the absolute static folder path, or ``None`` if not set."""
        if self._static_folder is None:
            return None
        return os.path.join(self.root_path, self._static_folder)

    @static_folder.setter
    def static_folder(self, value: str | os.PathLike[str] | None) -> None:
        if value is not None:
            value = os.fspath(value).rstrip("\\/")
        self._static_folder = value

    @property
    def has_static_folder(self) -> bool:
        """Return whether a static folder is configured."""
        return self.static_folder is not None

    @property
    def static_url_path(self) -> str | None:
        """Return the static route's URL prefix, derived from the folder name."""
        if self._static_url_path is not None:
            return self._static_url_path
        folder = self.static_folder
        if folder is not None:
            return f"/{os.path.basename(folder)}".rstrip("/")
        return None

    @static_url_path.setter
    def static_url_path(self, value: str | None) -> None:
        if value is not None:
            value = value.rstrip("/")
        self._static_url_path = value

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        """Return the cache lifetime in seconds for a sent file, or None.

        :data:`SEND_FILE_MAX_AGE_DEFAULT` of the current app: None (the
        default: clients revalidate with conditional requests), an int, or a
        :class:`~datetime.timedelta`. Override it to vary by file.

        :param filename: the file's path (unused by default).
        """
        ctx = _cv_app.get(None)
        if ctx is None:
            raise RuntimeError(
                "get_send_file_max_age() reads the current app's config; call it"
                " inside an application context (from a view)."
            )
        value = ctx.app.config["SEND_FILE_MAX_AGE_DEFAULT"]
        if value is None:
            return None
        if isinstance(value, timedelta):
            return int(value.total_seconds())
        return t.cast(int, value)

    def send_static_file(self, filename: str) -> Response:
        """Serve ``filename`` from :attr:`static_folder` (the static route's view).

        :raises RuntimeError: if no static folder is set.
        :raises NotFound: if the path leaves the folder or is not a file.
        """
        folder = self.static_folder
        if folder is None:
            raise RuntimeError(
                f"{self!r} has no static folder, so it cannot serve static files;"
                " pass static_folder= when creating it."
            )
        # Called here rather than by send_file, so that a blueprint's override
        # applies to its own static files.
        max_age = self.get_send_file_max_age(filename)
        kwargs = _send_file_kwargs("send_static_file", {"max_age": max_age})
        request = kwargs.pop("request")
        return t.cast(
            "Response", _files.send_from_directory(folder, filename, request, **kwargs)
        )

    @functools.cached_property
    def jinja_loader(self) -> BaseLoader | None:
        """Return a file system loader for :attr:`template_folder`, if set."""
        if self.template_folder is None:
            return None
        # PERF: Jinja2 costs about 100 ms to import; ``import erlen`` must not
        # pay for it, so it is imported when templates are first needed.
        from jinja2 import FileSystemLoader

        return FileSystemLoader(os.path.join(self.root_path, self.template_folder))

    def open_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = None
    ) -> t.IO[t.Any]:
        """Open a file relative to :attr:`root_path` for reading.

        :param resource: the path relative to :attr:`root_path`.
        :param mode: ``"r"``, ``"rt"`` or ``"rb"``; resources are read-only.
        :param encoding: the text encoding; ignored in binary mode.
        :raises ValueError: for any other mode.
        """
        if mode not in _RESOURCE_READ_MODES:
            raise ValueError(
                f"Resources can only be opened for reading, but mode {mode!r}"
                " was given. Use 'r', 'rt' or 'rb'."
            )
        path = os.path.join(self.root_path, resource)
        if mode == "rb":
            return open(path, mode)
        return open(path, mode, encoding=encoding)

    # -- routes ----------------------------------------------------------

    def _method_route(
        self, method: str, rule: str, options: dict[str, t.Any]
    ) -> t.Callable[[T_route], T_route]:
        if "methods" in options:
            raise TypeError(
                f"The '{method.lower()}' shortcut sets methods=[{method!r}] itself"
                f" and does not accept a 'methods' argument (got"
                f" {options['methods']!r}). Use the 'route' decorator to pass"
                " 'methods'."
            )
        return self.route(rule, methods=[method], **options)

    @setupmethod
    def get(self, rule: str, **options: t.Any) -> t.Callable[[T_route], T_route]:
        """Return a decorator registering a ``GET`` route; see :meth:`route`."""
        return self._method_route("GET", rule, options)

    @setupmethod
    def post(self, rule: str, **options: t.Any) -> t.Callable[[T_route], T_route]:
        """Return a decorator registering a ``POST`` route; see :meth:`route`."""
        return self._method_route("POST", rule, options)

    @setupmethod
    def put(self, rule: str, **options: t.Any) -> t.Callable[[T_route], T_route]:
        """Return a decorator registering a ``PUT`` route; see :meth:`route`."""
        return self._method_route("PUT", rule, options)

    @setupmethod
    def delete(self, rule: str, **options: t.Any) -> t.Callable[[T_route], T_route]:
        """Return a decorator registering a ``DELETE`` route; see :meth:`route`."""
        return self._method_route("DELETE", rule, options)

    @setupmethod
    def patch(self, rule: str, **options: t.Any) -> t.Callable[[T_route], T_route]:
        """Return a decorator registering a ``PATCH`` route; see :meth:`route`."""
        return self._method_route("PATCH", rule, options)

    @setupmethod
    def route(self, rule: str, **options: t.Any) -> t.Callable[[T_route], T_route]:
        """Return a decorator registering the function for a URL rule.

        The endpoint defaults to the function's name; ``methods`` defaults to
        ``["GET"]``. Other options go to :meth:`add_url_rule` and the rule.

        .. note:: Flask compatibility: Flask pops ``endpoint`` from the shared
           options when the decorator runs, so a decorator applied twice
           loses it the second time; erlen reads it once, up front.
        """
        endpoint = options.pop("endpoint", None)

        def decorator(f: T_route) -> T_route:
            self.add_url_rule(rule, endpoint, f, **options)
            return f

        return decorator

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: RouteCallable | None = None,
        provide_automatic_options: bool | None = None,
        **options: t.Any,
    ) -> None:
        """Register a URL rule and, optionally, its view function.

        :param rule: the URL rule string.
        :param endpoint: the endpoint name; defaults to ``view_func.__name__``.
        :param view_func: the function that handles the endpoint.
        :param provide_automatic_options: answer ``OPTIONS`` automatically.
        :param options: further :class:`~erlen.routing.Rule` options.
        """
        raise NotImplementedError

    @setupmethod
    def websocket(
        self, rule: str, **options: t.Any
    ) -> t.Callable[[T_websocket], T_websocket]:
        """Return a decorator registering an ``async def`` view for a WebSocket rule.

        The view runs for each WebSocket connection to ``rule`` (under
        ASGI), with ``erlen.websocket`` the connection; see
        :meth:`add_websocket`. Options are those of :meth:`route`, but for
        ``methods``.

        .. versionadded:: 0.1 erlen's (Quart's API); Flask has no WebSockets.
        """
        endpoint = options.pop("endpoint", None)

        def decorator(f: T_websocket) -> T_websocket:
            self.add_websocket(rule, endpoint, f, **options)
            return f

        return decorator

    @setupmethod
    def add_websocket(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: t.Callable[..., t.Coroutine[t.Any, t.Any, t.Any]] | None = None,
        **options: t.Any,
    ) -> None:
        """Register ``view_func`` (an ``async def`` view) for a WebSocket rule.

        :raise TypeError: ``view_func`` is not a coroutine function, or
            ``methods`` is given (a WebSocket handshake is a ``GET``).
        """
        if view_func is not None and not _iscoroutinefunction(view_func):
            raise TypeError(
                f"A websocket view must be an 'async def' function, but"
                f" {getattr(view_func, '__name__', view_func)!r} is not a"
                " coroutine function; define it with 'async def'."
            )
        if "methods" in options:
            raise TypeError(
                "A WebSocket rule takes no 'methods' (the handshake is a GET);"
                f" got methods={options['methods']!r}."
            )
        self.add_url_rule(
            rule,
            endpoint,
            view_func,
            provide_automatic_options=False,
            methods=("GET",),
            websocket=True,
            **options,
        )

    @setupmethod
    def endpoint(self, endpoint: str) -> t.Callable[[F], F]:
        """Return a decorator registering the function as ``endpoint``'s view."""

        def decorator(f: F) -> F:
            self.view_functions[endpoint] = f
            return f

        return decorator

    # -- request hooks ---------------------------------------------------

    @setupmethod
    def before_request(self, f: T_before_request) -> T_before_request:
        """Register ``f`` to run before each request this object handles.

        A non-``None`` return value is used as the response and stops the
        request there.
        """
        self.before_request_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def after_request(self, f: T_after_request) -> T_after_request:
        """Register ``f(response) -> response`` to run after each request."""
        self.after_request_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def teardown_request(self, f: T_teardown) -> T_teardown:
        """Register ``f(exc)`` to run when the request context is popped."""
        self.teardown_request_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def context_processor(
        self, f: T_template_context_processor
    ) -> T_template_context_processor:
        """Register ``f() -> dict`` adding variables to rendered templates."""
        self.template_context_processors[None].append(f)
        return f

    @setupmethod
    def url_value_preprocessor(
        self, f: T_url_value_preprocessor
    ) -> T_url_value_preprocessor:
        """Register ``f(endpoint, values)`` to edit matched URL values in place."""
        self.url_value_preprocessors[None].append(f)
        return f

    @setupmethod
    def url_defaults(self, f: T_url_defaults) -> T_url_defaults:
        """Register ``f(endpoint, values)`` to fill in values when building URLs."""
        self.url_default_functions[None].append(f)
        return f

    # -- error handlers --------------------------------------------------

    @setupmethod
    def errorhandler(
        self, code_or_exception: type[Exception] | int
    ) -> t.Callable[[T_error_handler], T_error_handler]:
        """Return a decorator registering an error handler.

        :param code_or_exception: an HTTP error status code, or an exception
            class (HTTP or not).
        """

        def decorator(f: T_error_handler) -> T_error_handler:
            self.register_error_handler(code_or_exception, f)
            return f

        return decorator

    @setupmethod
    def register_error_handler(
        self, code_or_exception: type[Exception] | int, f: ErrorHandlerCallable
    ) -> None:
        """Register ``f`` as the handler for a status code or exception class."""
        exc_class, code = self._get_exc_class_and_code(code_or_exception)
        self.error_handler_spec[None][code][exc_class] = f

    @staticmethod
    def _get_exc_class_and_code(
        exc_class_or_code: type[Exception] | int,
    ) -> tuple[type[Exception], int | None]:
        """Return the exception class and its status code (``None`` if not HTTP).

        :raises ValueError: for an unknown status code or a class that is not
            an :class:`Exception` subclass.
        :raises TypeError: for an exception instance or any other object.
        """
        exc_class: t.Any
        if isinstance(exc_class_or_code, int):
            try:
                exc_class = default_exceptions[exc_class_or_code]
            except KeyError:
                raise ValueError(
                    f"'{exc_class_or_code}' is not a recognized HTTP error code."
                    " Use a subclass of HTTPException with that code instead."
                ) from None
        else:
            exc_class = exc_class_or_code

        if isinstance(exc_class, BaseException):
            raise TypeError(
                f"{exc_class!r} is an instance, not a class. Handlers can only be"
                " registered for Exception classes or HTTP error codes."
            )
        if not isinstance(exc_class, type):
            raise TypeError(
                f"Error handlers are registered for an Exception class or an HTTP"
                f" error code, but got {type(exc_class).__name__} ({exc_class!r})."
            )
        if not issubclass(exc_class, Exception):
            raise ValueError(
                f"'{exc_class.__name__}' is not a subclass of Exception. Handlers"
                " can only be registered for Exception classes or HTTP error codes."
            )
        if issubclass(exc_class, HTTPException):
            return exc_class, exc_class.code
        return exc_class, None


def _endpoint_from_view_func(view_func: RouteCallable | None) -> str:
    """Return the default endpoint for ``view_func``: its ``__name__``.

    :raises AssertionError: if there is no view function (Flask's error type).
    """
    if view_func is None:
        raise AssertionError(
            "expected view func if endpoint is not provided. Pass 'endpoint='"
            " or 'view_func=' to add_url_rule."
        )
    return view_func.__name__


def _send_file_kwargs(func: str, kwargs: dict[str, t.Any]) -> dict[str, t.Any]:
    """Add the current app's and request's settings to send_file's arguments.

    Shared by :meth:`Scaffold.send_static_file` and ``erlen.helpers``.
    """
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(
            f"{func}() needs a request context (it answers the request's"
            " conditional and range headers); call it from a view."
        )
    app = ctx.app
    if kwargs.get("max_age") is None:
        # Called with the file's path once it is known, as Flask does.
        kwargs["max_age"] = app.get_send_file_max_age
    kwargs["request"] = ctx.request
    kwargs["use_x_sendfile"] = app.config["USE_X_SENDFILE"]
    kwargs["response_class"] = app.response_class
    kwargs["_root_path"] = app.root_path
    return kwargs


def get_root_path(import_name: str) -> str:
    """Return the directory of a package, or the directory holding a module.

    Fall back to the current working directory when the module cannot be
    found (an unloaded or interactive ``__main__``, say).

    :raises RuntimeError: when the module is found but has no file, as for a
        namespace package or a module from a file-less import hook; pass
        ``root_path`` explicitly then.
    """
    mod = sys.modules.get(import_name)
    file: str | None = getattr(mod, "__file__", None) if mod is not None else None
    if file is not None:
        return os.path.dirname(os.path.abspath(file))

    try:
        spec = importlib.util.find_spec(import_name)
    except (ImportError, ValueError):
        # ValueError: ``__main__`` without a spec, or an invalid name.
        spec = None
    loader = spec.loader if spec is not None else None
    if loader is None:
        return os.getcwd()

    filepath: str | None
    get_filename = getattr(loader, "get_filename", None)
    if get_filename is not None:
        filepath = get_filename(import_name)
    else:
        importlib.import_module(import_name)
        filepath = getattr(sys.modules[import_name], "__file__", None)
        if filepath is None:
            raise RuntimeError(
                f"No root path can be found for the module {import_name!r}: it has"
                " no file name, because it is a namespace package or it came from"
                " an import hook that gives none. Pass 'root_path=' explicitly."
            )
    return os.path.dirname(os.path.abspath(filepath))


def _find_package_path(import_name: str) -> str:
    """Return the ``sys.path`` entry that ``import_name``'s top package is in."""
    root_name = import_name.partition(".")[0]
    try:
        root_spec = importlib.util.find_spec(root_name)
    except (ImportError, ValueError):
        root_spec = None
    if root_spec is None:
        return os.getcwd()

    locations = root_spec.submodule_search_locations
    if not locations:
        # A plain module: its directory is the path entry.
        return os.path.dirname(t.cast(str, root_spec.origin))
    if root_spec.origin is not None and root_spec.origin != "namespace":
        # A regular package: origin is .../pkg/__init__.py.
        return os.path.dirname(os.path.dirname(root_spec.origin))

    # A namespace package spans several directories; pick the one holding
    # the requested submodule when it can be told, else the first.
    search_location = locations[0]
    try:
        spec = importlib.util.find_spec(import_name)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        import pathlib  # PERF: imported on first use (import time)

        package_path = pathlib.Path(os.path.commonpath(spec.submodule_search_locations))
        for location in locations:
            if package_path.is_relative_to(location):
                search_location = location
                break
    return os.path.dirname(search_location)


def _is_relative_to(path: str, base: str) -> bool:
    """Return ``PurePath(path).is_relative_to(base)``.

    PERF: POSIX paths are compared with os.path, as pathlib costs ~1.5 ms to
    import (import time) and every app calls this once. Both drop empty and
    ``.`` components and keep ``..``; a ``//`` root (which pathlib keeps
    apart from ``/``) and Windows paths go to pathlib.
    """
    if os.name == "nt" or path.startswith("//") or base.startswith("//"):
        import pathlib

        return pathlib.PurePath(path).is_relative_to(base)
    try:
        return os.path.commonpath([path, base]) == os.path.commonpath([base])
    except ValueError:  # an absolute and a relative path
        return False


def find_package(import_name: str) -> tuple[str | None, str]:
    """Return the install prefix of a package and the path it imports from.

    The prefix is ``sys.prefix`` or a virtualenv's root for installed
    packages, ``None`` otherwise; an uninstalled package is assumed to be
    imported from its own directory (or the working directory).
    """
    package_path = _find_package_path(import_name)
    py_prefix = os.path.abspath(sys.prefix)
    if _is_relative_to(package_path, py_prefix):
        return py_prefix, package_path

    site_parent, site_folder = os.path.split(package_path)
    if site_folder.lower() == "site-packages":
        parent, folder = os.path.split(site_parent)
        if folder.lower() == "lib":
            # Windows: prefix/Lib/site-packages
            return parent, package_path
        if os.path.basename(parent).lower() == "lib":
            # POSIX: prefix/lib/pythonX.Y/site-packages
            return os.path.dirname(parent), package_path
        return site_parent, package_path
    return None, package_path
