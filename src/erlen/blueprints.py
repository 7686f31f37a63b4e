"""Blueprints: groups of routes and hooks replayed onto an app when registered."""

from __future__ import annotations

import functools
import os
import typing as t
from collections import defaultdict

from .scaffold import _endpoint_from_view_func
from .scaffold import _sentinel
from .scaffold import AppOrBlueprintKey
from .scaffold import RouteCallable
from .scaffold import Scaffold
from .scaffold import setupmethod
from .scaffold import T_after_request
from .scaffold import T_before_request
from .scaffold import T_error_handler
from .scaffold import T_teardown
from .scaffold import T_template_context_processor
from .scaffold import T_url_defaults
from .scaffold import T_url_value_preprocessor
from .scaffold import TemplateFilterCallable
from .scaffold import TemplateGlobalCallable
from .scaffold import TemplateTestCallable

if t.TYPE_CHECKING:  # pragma: no cover
    import click

    App = t.Any

DeferredSetupFunction = t.Callable[["BlueprintSetupState"], None]
T_template_filter = t.TypeVar("T_template_filter", bound=TemplateFilterCallable)
T_template_global = t.TypeVar("T_template_global", bound=TemplateGlobalCallable)
T_template_test = t.TypeVar("T_template_test", bound=TemplateTestCallable)


class BlueprintSetupState:
    """What a blueprint's deferred functions see while it is being registered.

    :param blueprint: the blueprint being registered.
    :param app: the application it is registered on.
    :param options: the keyword arguments given to ``register_blueprint``.
    :param first_registration: whether this blueprint object is registered on
        this app for the first time.
    """

    def __init__(
        self,
        blueprint: Blueprint,
        app: App,
        options: t.Any,
        first_registration: bool,
    ) -> None:
        #: The application the blueprint is registered on.
        self.app = app
        #: The blueprint being registered.
        self.blueprint = blueprint
        #: The options passed to ``register_blueprint``.
        self.options = options
        #: ``False`` when the same blueprint object was registered before
        #: (under another name); used by :meth:`Blueprint.record_once`.
        self.first_registration = first_registration

        subdomain = options.get("subdomain")
        #: The subdomain the blueprint's routes match, or ``None``.
        self.subdomain: str | None = (
            blueprint.subdomain if subdomain is None else subdomain
        )
        url_prefix = options.get("url_prefix")
        #: The prefix joined to every rule of the blueprint, or ``None``.
        self.url_prefix: str | None = (
            blueprint.url_prefix if url_prefix is None else url_prefix
        )
        #: The blueprint's own (undotted) registration name.
        self.name: str = options.get("name", blueprint.name)
        #: The dotted name of the parent blueprints, or ``""``.
        self.name_prefix: str = options.get("name_prefix", "")
        #: Default values added to every rule of the blueprint.
        self.url_defaults: dict[str, t.Any] = dict(blueprint.url_values_defaults)
        self.url_defaults.update(options.get("url_defaults", ()))

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: RouteCallable | None = None,
        **options: t.Any,
    ) -> None:
        """Register a rule on the app, with the blueprint's prefixes applied.

        The URL prefix is joined to ``rule`` with exactly one slash, the
        subdomain becomes the default ``subdomain=``, the blueprint's URL
        defaults are merged under the rule's own, and the endpoint is
        prefixed with the dotted blueprint name.
        """
        url_prefix = self.url_prefix
        if url_prefix is not None:
            if rule:
                rule = f"{url_prefix.rstrip('/')}/{rule.lstrip('/')}"
            else:
                rule = url_prefix
        options.setdefault("subdomain", self.subdomain)
        if endpoint is None:
            endpoint = _endpoint_from_view_func(view_func)
        defaults = self.url_defaults
        if "defaults" in options:
            defaults = dict(defaults, **options.pop("defaults"))
        self.app.add_url_rule(
            rule,
            f"{self.name_prefix}.{self.name}.{endpoint}".lstrip("."),
            view_func,
            defaults=defaults,
            **options,
        )


@functools.cache
def _cli_group_class() -> type[click.Group]:
    """Return the click group class used for ``Blueprint.cli``: AppGroup."""
    # PERF: click costs about 30 ms to import; it is loaded only when a
    # blueprint's ``cli`` is first touched.
    from .cli import AppGroup

    return AppGroup


class Blueprint(Scaffold):
    """A set of routes, hooks and handlers to register on an app later.

    Decorators called on a blueprint are recorded; :meth:`register` replays
    them on the app with the URL prefix, subdomain and dotted name of that
    registration.

    :param name: the blueprint's name, prefixed to its endpoints; it may not
        be empty or contain a dot.
    :param import_name: the blueprint's package, usually ``__name__``.
    :param static_folder: a static folder relative to :attr:`root_path`;
        adds a ``<name>.static`` route when set.
    :param static_url_path: the static route's URL; defaults to the folder's
        name.
    :param template_folder: a template folder added to the app's search path
        (after the app's own).
    :param url_prefix: a path prefixed to every rule of the blueprint.
    :param subdomain: the subdomain the blueprint's rules match by default.
    :param url_defaults: default values given to every rule of the blueprint.
    :param root_path: the directory resource paths are relative to; found
        from ``import_name`` when not given.
    :param cli_group: the name of the blueprint's command group under the
        app's CLI; by default the blueprint's name, and ``None`` merges the
        commands into the app's CLI directly.
    """

    _got_registered_once = False

    def __init__(
        self,
        name: str,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        url_prefix: str | None = None,
        subdomain: str | None = None,
        url_defaults: dict[str, t.Any] | None = None,
        root_path: str | None = None,
        cli_group: str | None = _sentinel,
    ) -> None:
        if not isinstance(name, str):
            raise TypeError(
                f"A blueprint name must be a str, but got {type(name).__name__}"
                f" ({name!r})."
            )
        if not name:
            raise ValueError(
                "'name' may not be empty. Give the blueprint a name, such as"
                " Blueprint('admin', __name__)."
            )
        if "." in name:
            raise ValueError(
                f"'name' may not contain a dot '.' character, but got {name!r}."
                " Dots separate nested blueprint names; nest blueprints with"
                " register_blueprint() instead."
            )
        super().__init__(
            import_name=import_name,
            static_folder=static_folder,
            static_url_path=static_url_path,
            template_folder=template_folder,
            root_path=root_path,
        )
        self.name = name
        #: The prefix joined to the blueprint's rules, or ``None``.
        self.url_prefix = url_prefix
        #: The subdomain the blueprint's rules match, or ``None``.
        self.subdomain = subdomain
        #: Functions called with a :class:`BlueprintSetupState` at registration.
        self.deferred_functions: list[DeferredSetupFunction] = []
        #: Default values given to every rule of the blueprint.
        self.url_values_defaults: dict[str, t.Any] = (
            {} if url_defaults is None else url_defaults
        )
        #: The CLI group name; see the ``cli_group`` parameter.
        self.cli_group = cli_group
        self._blueprints: list[tuple[Blueprint, dict[str, t.Any]]] = []

    @functools.cached_property
    def cli(self) -> click.Group:
        """Return the click group for this blueprint's commands (made on first use)."""
        group = _cli_group_class()(self.name)
        return group

    def _check_setup_finished(self, f_name: str) -> None:
        if self._got_registered_once:
            raise AssertionError(
                f"The setup method '{f_name}' can no longer be called on the"
                f" blueprint '{self.name}'. It has already been registered at least"
                " once, so later changes would not be applied consistently.\n"
                "Make sure all imports, decorators, functions, etc. needed to set"
                " up the blueprint are done before registering it."
            )

    def open_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = "utf-8"
    ) -> t.IO[t.Any]:
        """Open a file relative to :attr:`root_path` for reading.

        Like the app's method, but text mode defaults to UTF-8, as in Flask.
        """
        return super().open_resource(resource, mode, encoding)

    # -- deferred setup --------------------------------------------------

    @setupmethod
    def record(self, func: DeferredSetupFunction) -> None:
        """Register ``func(state)`` to be called on each registration."""
        self.deferred_functions.append(func)

    @setupmethod
    def record_once(self, func: DeferredSetupFunction) -> None:
        """Register ``func(state)`` for the first registration on each app only."""

        def wrapper(state: BlueprintSetupState) -> None:
            if state.first_registration:
                func(state)

        self.record(functools.update_wrapper(wrapper, func))

    def make_setup_state(
        self,
        app: App,
        options: dict[str, t.Any],
        first_registration: bool = False,
    ) -> BlueprintSetupState:
        """Return the state for deferred functions; subclasses may return their own."""
        return BlueprintSetupState(self, app, options, first_registration)

    @setupmethod
    def register_blueprint(self, blueprint: Blueprint, **options: t.Any) -> None:
        """Nest ``blueprint`` under this one.

        When this blueprint is registered, the nested one is registered too,
        with a dotted name (``parent.child``) and this blueprint's URL prefix
        and subdomain combined with its own. ``options`` are those of
        ``app.register_blueprint`` (``url_prefix``, ``subdomain``,
        ``url_defaults``, ``name``, ``cli_group``).
        """
        if blueprint is self:
            raise ValueError(
                f"Cannot register the blueprint {self.name!r} on itself. Nest a"
                " different Blueprint object."
            )
        self._blueprints.append((blueprint, options))

    def register(self, app: App, options: dict[str, t.Any]) -> None:
        """Register the blueprint's routes, hooks and nested blueprints on ``app``.

        Called by ``app.register_blueprint(bp, **options)``.

        :raises ValueError: when the dotted name is already registered on the
            app, whether by this or another blueprint; pass ``name=`` to
            register under another name.
        """
        name_prefix = options.get("name_prefix", "")
        self_name = options.get("name", self.name)
        name = f"{name_prefix}.{self_name}".lstrip(".")

        blueprints = app.blueprints
        if name in blueprints:
            bp_desc = "this" if blueprints[name] is self else "a different"
            existing_at = f" '{name}'" if self_name != name else ""
            raise ValueError(
                f"The name '{self_name}' is already registered for {bp_desc}"
                f" blueprint{existing_at}. Use 'name=' to provide a unique name."
            )

        first_registration = not any(bp is self for bp in blueprints.values())
        blueprints[name] = self
        self._got_registered_once = True
        state = self.make_setup_state(app, options, first_registration)

        if self.has_static_folder:
            # NOTE: send_static_file arrives with the templates-and-files
            # milestone; until then the rule is registered without a view.
            state.add_url_rule(
                f"{self.static_url_path}/<path:filename>",
                view_func=getattr(self, "send_static_file", None),
                endpoint="static",
            )

        # The name is new here (checked above), so the registries are always
        # merged under it, even for a second registration of this object.
        self._merge_blueprint_funcs(app, name)

        for deferred in self.deferred_functions:
            deferred(state)

        self._register_cli(app, name, options)

        for blueprint, bp_options in self._blueprints:
            blueprint.register(
                app, self._nested_options(state, blueprint, bp_options, name)
            )

    def _register_cli(self, app: App, name: str, options: dict[str, t.Any]) -> None:
        # PERF: ``cli`` is created lazily; an untouched one has no commands.
        cli = self.__dict__.get("cli")
        if cli is None or not cli.commands:
            return
        group = options.get("cli_group", self.cli_group)
        if group is None:
            app.cli.commands.update(cli.commands)
            return
        cli.name = name if group is _sentinel else group
        app.cli.add_command(cli)

    @staticmethod
    def _nested_options(
        state: BlueprintSetupState,
        blueprint: Blueprint,
        bp_options: dict[str, t.Any],
        name: str,
    ) -> dict[str, t.Any]:
        """Return a nested blueprint's options, combined with its parent's."""
        bp_options = bp_options.copy()

        bp_subdomain = bp_options.get("subdomain")
        if bp_subdomain is None:
            bp_subdomain = blueprint.subdomain
        if state.subdomain is not None and bp_subdomain is not None:
            bp_options["subdomain"] = f"{bp_subdomain}.{state.subdomain}"
        elif bp_subdomain is not None:
            bp_options["subdomain"] = bp_subdomain
        elif state.subdomain is not None:
            bp_options["subdomain"] = state.subdomain

        bp_url_prefix = bp_options.get("url_prefix")
        if bp_url_prefix is None:
            bp_url_prefix = blueprint.url_prefix
        if state.url_prefix is not None and bp_url_prefix is not None:
            bp_options["url_prefix"] = (
                f"{state.url_prefix.rstrip('/')}/{bp_url_prefix.lstrip('/')}"
            )
        elif bp_url_prefix is not None:
            bp_options["url_prefix"] = bp_url_prefix
        elif state.url_prefix is not None:
            bp_options["url_prefix"] = state.url_prefix

        bp_options["name_prefix"] = name
        return bp_options

    def _merge_blueprint_funcs(self, app: App, name: str) -> None:
        """Copy this blueprint's registries into the app's under ``name``."""

        def scoped(key: AppOrBlueprintKey) -> str:
            return name if key is None else f"{name}.{key}"

        for key, spec in self.error_handler_spec.items():
            app.error_handler_spec[scoped(key)] = defaultdict(
                dict, {code: dict(handlers) for code, handlers in spec.items()}
            )

        app.view_functions.update(self.view_functions)

        for bp_registry, app_registry in (
            (self.before_request_funcs, app.before_request_funcs),
            (self.after_request_funcs, app.after_request_funcs),
            (self.teardown_request_funcs, app.teardown_request_funcs),
            (self.url_default_functions, app.url_default_functions),
            (self.url_value_preprocessors, app.url_value_preprocessors),
            (self.template_context_processors, app.template_context_processors),
        ):
            for key, funcs in bp_registry.items():
                app_registry[scoped(key)].extend(funcs)

    # -- routes ----------------------------------------------------------

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: RouteCallable | None = None,
        provide_automatic_options: bool | None = None,
        **options: t.Any,
    ) -> None:
        """Record a rule to add to the app, prefixed, at registration.

        :raises ValueError: if ``endpoint`` or the view function's name
            contains a dot, which would clash with nested blueprint names.
        """
        if endpoint and "." in endpoint:
            raise ValueError(
                f"'endpoint' may not contain a dot '.' character, but got"
                f" {endpoint!r}. The blueprint name is added as the prefix."
            )
        view_name = getattr(view_func, "__name__", None) if view_func else None
        if isinstance(view_name, str) and "." in view_name:
            raise ValueError(
                f"'view_func' name may not contain a dot '.' character, but got"
                f" {view_name!r}. Pass 'endpoint=' or rename the function."
            )
        self.record(
            lambda s: s.add_url_rule(
                rule,
                endpoint,
                view_func,
                provide_automatic_options=provide_automatic_options,
                **options,
            )
        )

    # -- app-wide registration -------------------------------------------

    @setupmethod
    def app_template_filter(
        self, name: str | None = None
    ) -> t.Callable[[T_template_filter], T_template_filter]:
        """Return a decorator registering an app-wide template filter."""

        def decorator(f: T_template_filter) -> T_template_filter:
            self.add_app_template_filter(f, name=name)
            return f

        return decorator

    @setupmethod
    def add_app_template_filter(
        self, f: TemplateFilterCallable, name: str | None = None
    ) -> None:
        """Register ``f`` as an app-wide template filter (default name: its own)."""
        self.record_once(lambda s: s.app.add_template_filter(f, name=name))

    @setupmethod
    def app_template_test(
        self, name: str | None = None
    ) -> t.Callable[[T_template_test], T_template_test]:
        """Return a decorator registering an app-wide template test."""

        def decorator(f: T_template_test) -> T_template_test:
            self.add_app_template_test(f, name=name)
            return f

        return decorator

    @setupmethod
    def add_app_template_test(
        self, f: TemplateTestCallable, name: str | None = None
    ) -> None:
        """Register ``f`` as an app-wide template test (default name: its own)."""
        self.record_once(lambda s: s.app.add_template_test(f, name=name))

    @setupmethod
    def app_template_global(
        self, name: str | None = None
    ) -> t.Callable[[T_template_global], T_template_global]:
        """Return a decorator registering an app-wide template global."""

        def decorator(f: T_template_global) -> T_template_global:
            self.add_app_template_global(f, name=name)
            return f

        return decorator

    @setupmethod
    def add_app_template_global(
        self, f: TemplateGlobalCallable, name: str | None = None
    ) -> None:
        """Register ``f`` as an app-wide template global (default name: its own)."""
        self.record_once(lambda s: s.app.add_template_global(f, name=name))

    @setupmethod
    def before_app_request(self, f: T_before_request) -> T_before_request:
        """Register ``f`` to run before every request of the app."""
        self.record_once(
            lambda s: s.app.before_request_funcs.setdefault(None, []).append(f)
        )
        return f

    @setupmethod
    def after_app_request(self, f: T_after_request) -> T_after_request:
        """Register ``f(response)`` to run after every request of the app."""
        self.record_once(
            lambda s: s.app.after_request_funcs.setdefault(None, []).append(f)
        )
        return f

    @setupmethod
    def teardown_app_request(self, f: T_teardown) -> T_teardown:
        """Register ``f(exc)`` to run at the teardown of every request of the app."""
        self.record_once(
            lambda s: s.app.teardown_request_funcs.setdefault(None, []).append(f)
        )
        return f

    @setupmethod
    def app_context_processor(
        self, f: T_template_context_processor
    ) -> T_template_context_processor:
        """Register ``f`` to add variables to every template of the app."""
        self.record_once(
            lambda s: s.app.template_context_processors.setdefault(None, []).append(f)
        )
        return f

    @setupmethod
    def app_errorhandler(
        self, code: type[Exception] | int
    ) -> t.Callable[[T_error_handler], T_error_handler]:
        """Return a decorator registering an error handler for the whole app."""
        # Fail now, not at registration, on a bad code or class.
        self._get_exc_class_and_code(code)

        def decorator(f: T_error_handler) -> T_error_handler:
            def from_blueprint(state: BlueprintSetupState) -> None:
                state.app.errorhandler(code)(f)

            self.record_once(from_blueprint)
            return f

        return decorator

    @setupmethod
    def app_url_value_preprocessor(
        self, f: T_url_value_preprocessor
    ) -> T_url_value_preprocessor:
        """Register ``f(endpoint, values)`` for every request of the app."""
        self.record_once(
            lambda s: s.app.url_value_preprocessors.setdefault(None, []).append(f)
        )
        return f

    @setupmethod
    def app_url_defaults(self, f: T_url_defaults) -> T_url_defaults:
        """Register ``f(endpoint, values)`` for every URL built in the app."""
        self.record_once(
            lambda s: s.app.url_default_functions.setdefault(None, []).append(f)
        )
        return f
