"""The ``erlen`` command: app discovery, ``run``, ``routes``, ``shell``, plugins."""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import re
import sys
import typing as t
from functools import update_wrapper
from operator import itemgetter
from types import FunctionType
from types import ModuleType

import click
from click.core import ParameterSource
from click.testing import CliRunner
from click.testing import Result

from .globals import _cv_app
from .helpers import get_debug_flag
from .helpers import get_load_dotenv

# PERF: ast, code, platform and traceback are imported on first use (import
# time): ``erlen --help`` and ``erlen run`` need none of them. ``inspect`` is
# not needed at all: inspect.isfunction(x) is isinstance(x, FunctionType).

if t.TYPE_CHECKING:  # pragma: no cover
    import ast
    import ssl

    from .app import Flask

F = t.TypeVar("F", bound=t.Callable[..., t.Any])

# "module:name", where a ":" followed by a path separator is a Windows drive.
_split_app_re = re.compile(r":(?![\\/])")


class NoAppException(click.UsageError):
    """Raised when the app to run cannot be found or loaded."""


def _flask_class() -> type[Flask]:
    """Return :class:`erlen.Flask`, imported when an app is first looked for."""
    # NOTE: deferred: the app imports this module for its ``cli`` group.
    from .app import Flask

    return Flask


def find_best_app(module: ModuleType) -> Flask:
    """Return the app of ``module``, looking where Flask looks.

    In order: an app named ``app`` or ``application``; the only app in the
    module; the result of a ``create_app`` or ``make_app`` factory called
    without arguments.

    :raise NoAppException: when none of these gives an app, naming what
        was tried.
    """
    flask = _flask_class()
    for name in ("app", "application"):
        app = getattr(module, name, None)
        if isinstance(app, flask):
            return app
    matches = [v for v in module.__dict__.values() if isinstance(v, flask)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise NoAppException(
            f"Found {len(matches)} erlen apps in module {module.__name__!r}."
            f" Use '{module.__name__}:name' to say which one to load."
        )
    for name in ("create_app", "make_app"):
        factory = getattr(module, name, None)
        if not isinstance(factory, FunctionType):
            continue
        try:
            app = factory()
        except TypeError as e:
            if not _called_with_wrong_args(factory):
                raise
            raise NoAppException(
                f"Found the factory {name!r} in module {module.__name__!r}, but"
                " it cannot be called without arguments. Use"
                f" '{module.__name__}:{name}(args)' to pass them."
            ) from e
        if isinstance(app, flask):
            return app
    raise NoAppException(
        f"Could not find an erlen app or factory in module {module.__name__!r}:"
        " tried the names 'app' and 'application', a single app instance, and"
        " the factories 'create_app' and 'make_app'."
        f" Use '{module.__name__}:name' to name one."
    )


def _called_with_wrong_args(f: t.Callable[..., t.Any]) -> bool:
    """Return whether the ``TypeError`` being handled comes from calling ``f``.

    ``False`` means that ``f`` was entered and the error was raised inside it.
    """
    tb = sys.exc_info()[2]
    try:
        while tb is not None:
            if tb.tb_frame.f_code is f.__code__:
                return False
            tb = tb.tb_next
        return True
    finally:
        # Break the frame <-> traceback reference cycle.
        del tb


def _literal(node: ast.expr, app_name: str) -> t.Any:
    """Return the literal value of an argument node of ``app_name``."""
    import ast

    try:
        return ast.literal_eval(node)
    except ValueError:
        raise NoAppException(
            f"Failed to parse the arguments of {app_name!r} as literal values;"
            " only strings, numbers, tuples, lists, dicts, sets, booleans and"
            " None can be passed to a factory."
        ) from None


def find_app_by_string(module: ModuleType, app_name: str) -> Flask:
    """Return the app that ``app_name`` names in ``module``.

    ``app_name`` is an attribute name (``app``) or a call of a factory with
    literal arguments (``create_app("dev", debug=True)``), parsed with
    :mod:`ast`, never evaluated.
    """
    import ast

    flask = _flask_class()
    try:
        expr = ast.parse(app_name.strip(), mode="eval").body
    except SyntaxError:
        raise NoAppException(
            f"Failed to parse {app_name!r} as an attribute name or a function"
            " call; expected 'name' or 'factory(args)'."
        ) from None
    args: list[t.Any] = []
    kwargs: dict[str, t.Any] = {}
    if isinstance(expr, ast.Name):
        name = expr.id
    elif isinstance(expr, ast.Call):
        if not isinstance(expr.func, ast.Name):
            raise NoAppException(
                f"The factory in {app_name!r} must be a simple name, such as"
                " 'create_app(...)'."
            )
        name = expr.func.id
        args = [_literal(arg, app_name) for arg in expr.args]
        kwargs = {
            kw.arg: _literal(kw.value, app_name)
            for kw in expr.keywords
            if kw.arg is not None
        }
    else:
        raise NoAppException(
            f"Failed to parse {app_name!r} as an attribute name or a function"
            " call; expected 'name' or 'factory(args)'."
        )
    try:
        attr = getattr(module, name)
    except AttributeError as e:
        raise NoAppException(
            f"Module {module.__name__!r} has no attribute {name!r}."
        ) from e
    if isinstance(attr, FunctionType):
        try:
            app = attr(*args, **kwargs)
        except TypeError as e:
            if not _called_with_wrong_args(attr):
                raise
            raise NoAppException(
                f"The factory {app_name!r} in module {module.__name__!r} could"
                " not be called with the given arguments."
            ) from e
    else:
        app = attr
    if isinstance(app, flask):
        return app
    raise NoAppException(
        f"'{module.__name__}:{app_name}' gave a {type(app).__name__}, not an"
        " erlen app (an instance of erlen.Flask)."
    )


def prepare_import(path: str) -> str:
    """Return the module name for a file path or dotted name, fixing ``sys.path``.

    The directory above the outermost package (the first directory without
    an ``__init__.py``) is put first on :data:`sys.path`.

    :raise NoAppException: when a different module of the same name (a
        standard library module, say) is already imported, so importing
        would silently return that one instead.
    """
    path = os.path.realpath(path)
    stem, ext = os.path.splitext(path)
    if ext == ".py":
        path = stem
    if os.path.basename(path) == "__init__":
        path = os.path.dirname(path)
    parts: list[str] = []
    while True:
        path, name = os.path.split(path)
        parts.append(name)
        if not os.path.exists(os.path.join(path, "__init__.py")):
            break
    if sys.path[0] != path:
        sys.path.insert(0, path)
    top = parts[-1]
    loaded = sys.modules.get(top)
    expected = os.path.join(path, top)
    if loaded is not None and (
        os.path.isfile(expected + ".py") or os.path.isdir(expected)
    ):
        places = [getattr(loaded, "__file__", None), *getattr(loaded, "__path__", ())]
        if not any(_is_place_of(place, expected) for place in places):
            raise NoAppException(
                f"Cannot import {top!r} from {path!r}: another module with that"
                f" name is already loaded ({loaded!r}). Rename your file or"
                " package so that it does not shadow it."
            )
    return ".".join(reversed(parts))


def _is_place_of(place: str | None, expected: str) -> bool:
    """Return whether a module's file or path entry ``place`` is ``expected[.py]``."""
    if place is None:
        return False
    place = os.path.realpath(place)
    return place in (expected, expected + ".py") or place.startswith(expected + os.sep)


@t.overload
def locate_app(
    module_name: str, app_name: str | None, raise_if_not_found: t.Literal[True] = True
) -> Flask: ...


@t.overload
def locate_app(
    module_name: str, app_name: str | None, raise_if_not_found: bool = ...
) -> Flask | None: ...


def locate_app(
    module_name: str, app_name: str | None, raise_if_not_found: bool = True
) -> Flask | None:
    """Import ``module_name`` and return its app (see :func:`find_best_app`).

    Only a missing module itself is reported as "could not import" (or gives
    ``None`` when ``raise_if_not_found`` is false); an :exc:`ImportError`
    raised while the module runs is reported with its full traceback.
    """
    try:
        importlib.import_module(module_name)
    except ImportError as e:
        missing = getattr(e, "name", None)
        if isinstance(e, ModuleNotFoundError) and (
            module_name == missing or module_name.startswith(f"{missing}.")
        ):
            if not raise_if_not_found:
                return None
            raise NoAppException(
                f"Could not import {module_name!r}: no such module on the"
                " Python path. Check the '--app' value and the current"
                " directory."
            ) from None
        import traceback

        raise NoAppException(
            f"While importing {module_name!r}, an ImportError was raised:"
            f"\n\n{traceback.format_exc()}"
        ) from None
    module = sys.modules[module_name]
    if app_name is None:
        return find_best_app(module)
    return find_app_by_string(module, app_name)


def get_version(ctx: click.Context, param: click.Parameter, value: t.Any) -> None:
    """Print the Python and erlen versions and exit (the ``--version`` callback)."""
    if not value or ctx.resilient_parsing:
        return
    import platform

    click.echo(
        f"Python {platform.python_version()}\n"
        f"erlen {importlib.metadata.version('erlen')}",
        color=ctx.color,
    )
    ctx.exit()


class _Option(click.Option):
    """An option read from ``ERLEN_*`` variables, falling back to ``FLASK_*``."""

    def resolve_envvar_value(self, ctx: click.Context) -> str | None:
        """Return the option's environment value, trying the Flask name last."""
        rv = super().resolve_envvar_value(ctx)
        prefix = ctx.auto_envvar_prefix
        if rv is None and prefix and prefix.startswith("ERLEN") and self.name:
            rv = os.environ.get(f"FLASK{prefix[5:]}_{self.name.upper()}") or None
        return rv


version_option = _Option(
    ["--version"],
    help="Show the erlen version.",
    expose_value=False,
    callback=get_version,
    is_flag=True,
    is_eager=True,
)


class ScriptInfo:
    """What a command needs to load the app: where it is and how to make it.

    :class:`ErlenGroup` creates one per invocation as the click context's
    ``obj``; custom scripts may create their own.

    :param app_import_path: the ``--app`` value (``module:name``).
    :param create_app: a function returning the app, used instead.
    :param set_debug_flag: set ``app.debug`` from ``ERLEN_DEBUG``/``FLASK_DEBUG``.
    :param load_dotenv_defaults: whether ``.env`` and ``.flaskenv`` are loaded.
    """

    def __init__(
        self,
        app_import_path: str | None = None,
        create_app: t.Callable[..., Flask] | None = None,
        set_debug_flag: bool = True,
        load_dotenv_defaults: bool = True,
    ) -> None:
        #: The import path of the app, if given.
        self.app_import_path = app_import_path
        #: A function that returns the app, if given.
        self.create_app = create_app
        #: Arbitrary data for commands to share.
        self.data: dict[t.Any, t.Any] = {}
        #: Whether :meth:`load_app` sets the app's debug flag.
        self.set_debug_flag = set_debug_flag
        #: Whether the default dotenv files are to be loaded (for reference;
        #: the group does the loading).
        self.load_dotenv_defaults = get_load_dotenv(load_dotenv_defaults)
        self._loaded_app: Flask | None = None

    def load_app(self) -> Flask:
        """Return the app, loading it on the first call.

        :raise NoAppException: when no app can be found, naming what was tried.
        """
        if self._loaded_app is not None:
            return self._loaded_app
        app: Flask | None = None
        if self.create_app is not None:
            app = self.create_app()
        elif self.app_import_path:
            path, name = (
                _split_app_re.split(self.app_import_path, maxsplit=1) + [None]
            )[:2]
            app = locate_app(prepare_import(t.cast(str, path)), name)
        else:
            for filename in ("wsgi.py", "app.py"):
                # NOTE: only files of the current directory count; Flask
                # would also import an unrelated installed 'wsgi' or 'app'.
                if os.path.isfile(filename):
                    app = locate_app(prepare_import(filename), None)
                    break
        if app is None:
            raise NoAppException(
                "Could not locate an erlen app: no '--app' option, no"
                " 'ERLEN_APP' or 'FLASK_APP' environment variable, and no"
                f" app in 'wsgi.py' or 'app.py' in {os.getcwd()!r}."
                " Use 'erlen --app module:name'."
            )
        if self.set_debug_flag:
            app.debug = get_debug_flag()
        self._loaded_app = app
        return app


pass_script_info = click.make_pass_decorator(ScriptInfo, ensure=True)


def with_appcontext(f: F) -> F:
    """Run the command ``f`` inside the app's context (loading the app).

    Commands of ``app.cli`` and ``bp.cli`` (:class:`AppGroup`) get this
    without the decorator.
    """

    @click.pass_context
    def decorator(ctx: click.Context, /, *args: t.Any, **kwargs: t.Any) -> t.Any:
        if _cv_app.get(None) is None:
            app = ctx.ensure_object(ScriptInfo).load_app()
            ctx.with_resource(app.app_context())
        return ctx.invoke(f, *args, **kwargs)

    return update_wrapper(decorator, f)  # type: ignore[return-value]


class AppGroup(click.Group):
    """A click group whose commands run inside the app context.

    Pass ``with_appcontext=False`` to :meth:`command` for a command that
    does not need the app. Sub-groups are AppGroups too.
    """

    def command(  # type: ignore[override]
        self, *args: t.Any, **kwargs: t.Any
    ) -> t.Callable[[t.Callable[..., t.Any]], click.Command]:
        """Register a command, wrapped with :func:`with_appcontext` by default."""
        wrap = kwargs.pop("with_appcontext", True)

        def decorator(f: t.Callable[..., t.Any]) -> click.Command:
            if wrap:
                f = with_appcontext(f)
            return super(AppGroup, self).command(*args, **kwargs)(f)  # type: ignore[no-any-return]

        return decorator

    def group(  # type: ignore[override]
        self, *args: t.Any, **kwargs: t.Any
    ) -> t.Callable[[t.Callable[..., t.Any]], click.Group]:
        """Register a sub-group, an :class:`AppGroup` unless ``cls`` says otherwise."""
        kwargs.setdefault("cls", AppGroup)
        return super().group(*args, **kwargs)  # type: ignore[no-any-return]


def _set_app(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> str | None:
    if value is None:
        return None
    ctx.ensure_object(ScriptInfo).app_import_path = value
    return value


# Eager so that the app is known when --help lists its commands; it must
# come before --help in the parameter list.
_app_option = _Option(
    ["-A", "--app"],
    metavar="IMPORT",
    help=(
        "The erlen app or factory to load, as 'module:name'. The module may be"
        " a dotted import or a file path. The name may be left out if it is"
        " 'app', 'application', 'create_app' or 'make_app', and may be"
        " 'name(args)' to call a factory with arguments."
    ),
    is_eager=True,
    expose_value=False,
    callback=_set_app,
)


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> bool | None:
    source = ctx.get_parameter_source(param.name)
    if source in (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP):
        # Not given: leave debug mode to the environment.
        return None
    # NOTE: set in the environment, not on ScriptInfo, so that a factory
    # reading the flag during loading sees it, and so does a reloader child.
    os.environ["ERLEN_DEBUG"] = os.environ["FLASK_DEBUG"] = "1" if value else "0"
    return value


_debug_option = _Option(
    ["--debug/--no-debug"],
    help="Set debug mode.",
    expose_value=False,
    callback=_set_debug,
)


def _env_file_callback(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> str | None:
    try:
        import dotenv  # noqa: F401
    except ImportError:
        # Without a file given, still call load_dotenv to print its hint.
        if value is not None:
            raise click.BadParameter(
                "python-dotenv must be installed to load an env file;"
                " install it with 'pip install python-dotenv'.",
                ctx=ctx,
                param=param,
            ) from None
    if value is not None or ctx.obj.load_dotenv_defaults:
        load_dotenv(value, load_defaults=ctx.obj.load_dotenv_defaults)
    return value


# Eager and first, so that variables from the files feed the other options.
_env_file_option = _Option(
    ["-e", "--env-file"],
    type=click.Path(exists=True, dir_okay=False),
    help=(
        "Load environment variables from this file, taking precedence over"
        " those of '.env' and '.flaskenv'. Variables set in the environment"
        " itself take precedence over all files. Needs python-dotenv."
    ),
    is_eager=True,
    expose_value=False,
    callback=_env_file_callback,
)


class ErlenGroup(AppGroup):
    """The ``erlen`` command group; also the base of custom management scripts.

    It adds the ``--app``, ``--debug`` and ``--env-file`` options, the
    built-in ``run``, ``shell`` and ``routes`` commands, plugin commands of
    the ``erlen.commands`` and ``flask.commands`` entry-point groups, and
    the commands of the loaded app's ``app.cli``. Every option can be set
    through an ``ERLEN_*`` environment variable (``ERLEN_APP``,
    ``ERLEN_RUN_PORT``), with the ``FLASK_*`` name as a fallback.

    :param add_default_commands: add ``run``, ``shell`` and ``routes``.
    :param create_app: a function returning the app, instead of ``--app``.
    :param add_version_option: add ``--version``.
    :param load_dotenv: load ``.flaskenv`` and ``.env`` files.
    :param set_debug_flag: set the app's debug flag from the environment.

    .. note:: Flask compatibility: also available as ``FlaskGroup``.
    """

    def __init__(
        self,
        add_default_commands: bool = True,
        create_app: t.Callable[..., Flask] | None = None,
        add_version_option: bool = True,
        load_dotenv: bool = True,
        set_debug_flag: bool = True,
        **extra: t.Any,
    ) -> None:
        params: list[click.Parameter] = list(extra.pop("params", None) or ())
        # Option callbacks do the work, so a custom group callback keeps it.
        params.extend((_env_file_option, _app_option, _debug_option))
        if add_version_option:
            params.append(version_option)
        extra.setdefault("context_settings", {})
        extra["context_settings"].setdefault("auto_envvar_prefix", "ERLEN")
        super().__init__(params=params, **extra)
        self.create_app = create_app
        self.load_dotenv = load_dotenv
        self.set_debug_flag = set_debug_flag
        if add_default_commands:
            self.add_command(run_command)
            self.add_command(shell_command)
            self.add_command(routes_command)
        self._loaded_plugin_commands = False

    def _load_plugin_commands(self) -> None:
        if self._loaded_plugin_commands:
            return
        self._loaded_plugin_commands = True
        for group in ("erlen.commands", "flask.commands"):
            for ep in importlib.metadata.entry_points(group=group):
                try:
                    command = ep.load()
                except Exception as e:
                    # NOTE: one broken plugin should not take the whole
                    # command down (Flask lets the error escape).
                    click.secho(
                        f"Error: could not load the command {ep.name!r} from"
                        f" {ep.value!r} ({group}): {type(e).__name__}: {e}",
                        err=True,
                        fg="red",
                    )
                    continue
                self.add_command(command, ep.name)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """Return a built-in, plugin or app command named ``name``."""
        self._load_plugin_commands()
        # Built-in and plugin commands work even when the app fails to load.
        rv = super().get_command(ctx, name)
        if rv is not None:
            return rv
        info = ctx.ensure_object(ScriptInfo)
        try:
            app = info.load_app()
        except NoAppException as e:
            click.secho(f"Error: {e.format_message()}\n", err=True, fg="red")
            return None
        # Commands of app.cli and their parameter callbacks see the app.
        current = _cv_app.get(None)
        if current is None or current.app is not app:
            ctx.with_resource(app.app_context())
        return app.cli.get_command(ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Return the names of the built-in, plugin and app commands."""
        self._load_plugin_commands()
        rv = set(super().list_commands(ctx))
        info = ctx.ensure_object(ScriptInfo)
        try:
            rv.update(info.load_app().cli.list_commands(ctx))
        except NoAppException as e:
            click.secho(f"Error: {e.format_message()}\n", err=True, fg="red")
        except Exception:
            import traceback

            click.secho(f"{traceback.format_exc()}\n", err=True, fg="red")
        return sorted(rv)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: t.Any,
    ) -> click.Context:
        """Create the context, with a :class:`ScriptInfo` as its ``obj``."""
        # An app.run() outside a __main__ guard must not block the command.
        os.environ["ERLEN_RUN_FROM_CLI"] = "true"
        if "obj" not in extra and "obj" not in self.context_settings:
            extra["obj"] = ScriptInfo(
                create_app=self.create_app,
                set_debug_flag=self.set_debug_flag,
                load_dotenv_defaults=self.load_dotenv,
            )
        return super().make_context(info_name, args, parent=parent, **extra)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse ``args``; a bare ``--help`` reads ``--env-file``/``--app`` first."""
        if (not args and self.no_args_is_help) or (
            len(args) == 1 and args[0] in self.get_help_option_names(ctx)
        ):
            # Help exits before the eager options run; read them now so that
            # the listing includes the app's commands.
            _env_file_option.handle_parse_result(ctx, {}, [])
            _app_option.handle_parse_result(ctx, {}, [])
        try:
            return super().parse_args(ctx, args)
        except BaseException:
            # NOTE: --help and bare invocations end inside parsing, before
            # click's ``with ctx`` would close the context; close it here so
            # app contexts that listing the commands pushed are popped.
            ctx.close()
            raise


#: Flask's name for :class:`ErlenGroup`.
FlaskGroup = ErlenGroup


def load_dotenv(
    path: str | os.PathLike[str] | None = None, load_defaults: bool = True
) -> bool:
    """Load dotenv files into :data:`os.environ`; return whether a value was found.

    Precedence: variables already in the environment, then the file at
    ``path``, then ``.env``, then ``.flaskenv`` (both searched from the
    current directory upwards when ``load_defaults``). A no-op returning
    ``False`` without python-dotenv, with a hint when such files exist.
    """
    try:
        import dotenv
    except ImportError:
        if path or os.path.isfile(".env") or os.path.isfile(".flaskenv"):
            click.secho(
                " * Tip: there are .env files present. Install python-dotenv"
                " to use them.",
                fg="yellow",
                err=True,
            )
        return False
    data: dict[str, str | None] = {}
    if load_defaults:
        for default_name in (".flaskenv", ".env"):
            default_path = dotenv.find_dotenv(default_name, usecwd=True)
            if default_path:
                data |= dotenv.dotenv_values(default_path, encoding="utf-8")
    if path is not None and os.path.isfile(path):
        data |= dotenv.dotenv_values(path, encoding="utf-8")
    for key, value in data.items():
        if key not in os.environ and value is not None:
            os.environ[key] = value
    return bool(data)


def show_server_banner(debug: bool, app_import_path: str | None) -> None:
    """Print which app is served and the debug mode, once (not on reloads)."""
    from .serving import is_running_from_reloader

    if is_running_from_reloader():
        return
    if app_import_path is not None:
        click.echo(f" * Serving erlen app '{app_import_path}'")
    click.echo(f" * Debug mode: {'on' if debug else 'off'}")


def _import_object(name: str) -> t.Any:
    """Return the object ``module:attr`` or ``module.attr``, or ``None``."""
    module_name, _, attr = name.replace(":", ".").rpartition(".")
    if not module_name:
        return None
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    return getattr(module, attr, None)


class CertParamType(click.ParamType[t.Any, t.Any]):
    """The ``--cert`` type: a certificate file, ``adhoc`` or an SSLContext import."""

    name = "path"

    def __init__(self) -> None:
        self.path_type = click.Path(exists=True, dir_okay=False, resolve_path=True)

    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> t.Any:
        """Return the file's path, ``"adhoc"`` or the SSLContext object."""
        import ssl

        try:
            return self.path_type(value, param, ctx)
        except click.BadParameter:
            value = click.STRING(value, param, ctx).lower()
            if value == "adhoc":
                try:
                    import cryptography  # type: ignore[import-not-found,unused-ignore]  # noqa: F401
                except ImportError:
                    raise click.BadParameter(
                        "Ad-hoc certificates need the cryptography library;"
                        " install it with 'pip install cryptography', or pass"
                        " a certificate file and '--key'.",
                        ctx,
                        param,
                    ) from None
                return value
            obj = _import_object(value)
            if isinstance(obj, ssl.SSLContext):
                return obj
            raise


def _validate_key(ctx: click.Context, param: click.Parameter, value: t.Any) -> t.Any:
    """Check ``--key`` against ``--cert``; make a file ``cert`` a (cert, key) pair."""
    import ssl

    cert = ctx.params.get("cert")
    is_adhoc = cert == "adhoc"
    is_context = isinstance(cert, ssl.SSLContext)
    if value is not None:
        if is_adhoc:
            raise click.BadParameter(
                'When "--cert" is "adhoc", "--key" is not used.', ctx, param
            )
        if is_context:
            raise click.BadParameter(
                'When "--cert" is an SSLContext object, "--key" is not used.',
                ctx,
                param,
            )
        if not cert:
            raise click.BadParameter('"--cert" must also be specified.', ctx, param)
        ctx.params["cert"] = cert, value
    elif cert and not (is_adhoc or is_context):
        raise click.BadParameter('Required when using "--cert".', ctx, param)
    return value


class SeparatedPathType(click.Path):
    """Paths separated by :data:`os.pathsep`, each checked as a :class:`click.Path`."""

    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> t.Any:
        """Return the list of converted paths."""
        convert = super().convert
        return [convert(item, param, ctx) for item in self.split_envvar_value(value)]


def _error_app(error: BaseException) -> t.Callable[..., t.Awaitable[None]]:
    """Return an ASGI app answering 500 with the traceback of ``error``."""
    import traceback

    text = "".join(traceback.format_exception(error))
    body = (
        "erlen could not load the app; fix the error and save the file to"
        f" reload.\n\n{text}"
    ).encode()

    async def app(scope: dict[str, t.Any], receive: t.Any, send: t.Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        await send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


@click.command("run", short_help="Run a development server.")
@click.option(
    "--host", "-h", default="127.0.0.1", help="The interface to bind to.", cls=_Option
)
@click.option("--port", "-p", default=5000, help="The port to bind to.", cls=_Option)
@click.option(
    "--cert",
    type=CertParamType(),
    help="A certificate file (or 'adhoc', or an importable SSLContext) for HTTPS.",
    is_eager=True,
    cls=_Option,
)
@click.option(
    "--key",
    type=click.Path(exists=True, dir_okay=False, resolve_path=True),
    callback=_validate_key,
    expose_value=False,
    help="The key file of the '--cert' certificate file.",
    cls=_Option,
)
@click.option(
    "--reload/--no-reload",
    default=None,
    help="Restart the server when a file of the app changes. On in debug mode.",
    cls=_Option,
)
@click.option(
    "--debugger/--no-debugger",
    default=None,
    help=(
        "Answer unhandled errors with the debug error page (traceback and"
        " request, secrets masked; no console). On in debug mode."
    ),
    cls=_Option,
)
@click.option(
    "--with-threads/--without-threads",
    default=True,
    help="Accepted for compatibility; uvicorn runs sync views in a thread pool.",
    cls=_Option,
)
@click.option(
    "--extra-files",
    default=None,
    type=SeparatedPathType(),
    help=(
        "Extra files that trigger a reload on change, separated by"
        f" {os.path.pathsep!r}."
    ),
    cls=_Option,
)
@click.option(
    "--exclude-patterns",
    default=None,
    type=SeparatedPathType(),
    help=(
        "fnmatch patterns of files that never trigger a reload, separated by"
        f" {os.path.pathsep!r}."
    ),
    cls=_Option,
)
@pass_script_info
def run_command(
    info: ScriptInfo,
    host: str,
    port: int,
    reload: bool | None,
    debugger: bool | None,
    with_threads: bool,
    cert: ssl.SSLContext | tuple[str, str] | t.Literal["adhoc"] | None,
    extra_files: list[str] | None,
    exclude_patterns: list[str] | None,
) -> None:
    """Run the development server (uvicorn) on 127.0.0.1:5000.

    It is for development only: it lacks the hardening, process management
    and speed of a production server. '--debug' turns the reloader on.
    """
    from .serving import is_running_from_reloader
    from .serving import make_adhoc_ssl_files
    from .serving import run_simple

    app: t.Any
    try:
        app = info.load_app()
    except Exception as e:
        if not is_running_from_reloader():
            raise
        # A reloaded app that fails to load is shown, not fatal: the error
        # is printed and served, and the next change reloads again.
        import traceback

        traceback.print_exc()
        app = _error_app(e)
    debug = get_debug_flag()
    if reload is None:
        reload = debug
    show_server_banner(debug, info.app_import_path)
    certfile = keyfile = None
    context = None
    if isinstance(cert, tuple):
        certfile, keyfile = cert
    elif cert == "adhoc":
        certfile, keyfile = make_adhoc_ssl_files(host)
    elif cert is not None:
        context = cert
    run_simple(
        host,
        port,
        app,
        use_reloader=reload,
        extra_files=extra_files,
        exclude_patterns=exclude_patterns,
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
        ssl_context=context,
        use_debugger=debug if debugger is None else debugger,
    )


run_command.params.insert(0, _debug_option)


@click.command("shell", short_help="Run a shell in the app context.")
@with_appcontext
def shell_command() -> None:
    """Run an interactive Python shell in the app's context.

    Its namespace holds 'app', 'g' and the names of the app's shell context
    processors; PYTHONSTARTUP runs first, and tab completion works where
    readline is available.
    """
    app = _cv_app.get().app
    banner = (
        f"Python {sys.version} on {sys.platform}\n"
        f"App: {app.import_name}\n"
        f"Instance: {app.instance_path}"
    )
    namespace: dict[str, t.Any] = {}
    startup = os.environ.get("PYTHONSTARTUP")
    if startup and os.path.isfile(startup):
        with open(startup) as f:
            # NOTE: the user's own startup file, run as the Python REPL does.
            exec(compile(f.read(), startup, "exec"), namespace)  # noqa: S102
    namespace.update(app.make_shell_context())
    # site's hook sets up readline history and completion in interactive mode.
    hook = getattr(sys, "__interactivehook__", None)
    if hook is not None:
        try:
            import readline
            from rlcompleter import Completer
        except ImportError:
            pass
        else:
            # Complete names of the shell's namespace, not of erlen.__main__.
            readline.set_completer(Completer(namespace).complete)
        hook()
    import code

    code.interact(banner=banner, local=namespace)


@click.command("routes", short_help="Show the routes of the app.")
@click.option(
    "--sort",
    "-s",
    type=click.Choice(("endpoint", "methods", "domain", "rule", "match")),
    default="endpoint",
    help="Sort by this column; 'match' is the order in which routes are matched.",
    cls=_Option,
)
@click.option(
    "--all-methods", is_flag=True, help="Show HEAD and OPTIONS too.", cls=_Option
)
@with_appcontext
def routes_command(sort: str, all_methods: bool) -> None:
    """Show the routes of the app: endpoint, methods, domain and rule."""
    url_map = _cv_app.get().app.url_map
    rules = list(url_map.iter_rules())
    if not rules:
        click.echo("No routes were registered.")
        return
    ignored = set() if all_methods else {"HEAD", "OPTIONS"}
    host_matching = url_map.host_matching
    has_domain = any(rule.host if host_matching else rule.subdomain for rule in rules)
    headers = ["Endpoint", "Methods"]
    sorts = ["endpoint", "methods"]
    if has_domain:
        headers.append("Host" if host_matching else "Subdomain")
        sorts.append("domain")
    headers.append("Rule")
    sorts.append("rule")
    rows = []
    for rule in rules:
        row = [rule.endpoint, ", ".join(sorted((rule.methods or set()) - ignored))]
        if has_domain:
            row.append((rule.host if host_matching else rule.subdomain) or "")
        row.append(rule.rule)
        rows.append(row)
    if sort in sorts:
        rows.sort(key=itemgetter(sorts.index(sort)))
    rows.insert(0, headers)
    widths = [max(len(row[i]) for row in rows) for i in range(len(headers))]
    rows.insert(1, ["-" * w for w in widths])
    template = "  ".join(f"{{{i}:<{w}}}" for i, w in enumerate(widths))
    for row in rows:
        click.echo(template.format(*row))


cli = ErlenGroup(
    name="erlen",
    help="""\
A general utility script for erlen applications.

The app to load is given with the '--app' option, the 'ERLEN_APP' (or
'FLASK_APP') environment variable, or a 'wsgi.py' or 'app.py' file in
the current directory.
""",
)


class FlaskCliRunner(CliRunner):
    """A click test runner that invokes commands with the app bound.

    Returned by ``app.test_cli_runner()``.
    """

    def __init__(self, app: Flask, **kwargs: t.Any) -> None:
        self.app = app
        super().__init__(**kwargs)

    def invoke(  # type: ignore[override]
        self, cli: t.Any = None, args: t.Any = None, **kwargs: t.Any
    ) -> Result:
        """Invoke ``cli`` (default: ``app.cli``) with a ScriptInfo loading the app."""
        if cli is None:
            cli = self.app.cli
        if "obj" not in kwargs:
            kwargs["obj"] = ScriptInfo(create_app=lambda: self.app)
        return super().invoke(cli, args, **kwargs)


def main() -> None:
    """Run the ``erlen`` command."""
    cli.main()
