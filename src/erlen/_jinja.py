"""The Jinja2 classes of erlen's templating: the app's environment and its loader."""

from __future__ import annotations

import typing as t
from collections import ChainMap

from jinja2 import BaseLoader
from jinja2 import Environment as BaseEnvironment
from jinja2 import Template as BaseTemplate
from jinja2 import TemplateNotFound
from jinja2.runtime import Context
from jinja2.runtime import new_context

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import Flask
    from .scaffold import Scaffold

# NOTE: this is the only module of erlen that imports Jinja2 at module level.
# erlen.templating resolves ``Environment`` and ``DispatchingJinjaLoader``
# from here on first use, so that ``import erlen`` never loads Jinja2.

#: What ``BaseLoader.get_source`` returns: source, file name, up-to-date check.
_Source = tuple[str, str | None, t.Callable[[], bool] | None]


class Template(BaseTemplate):
    """A Jinja template whose contexts are built without walking a ``ChainMap``.

    Jinja keeps a template's globals as ``ChainMap(template_globals,
    env.globals)`` and copies it into every new context with
    ``dict(globals, **vars)``. ``dict()`` of a ``ChainMap`` reads each key
    through Python-level ``keys()``/``__getitem__``, and each name that is
    not in the (usually empty) template map raises and catches a
    ``KeyError``: about 5,000 machine instructions per global name, for
    the dozen globals of a Flask environment, on every render.
    """

    def new_context(
        self,
        vars: dict[str, t.Any] | None = None,
        shared: bool = False,
        locals: t.Mapping[str, t.Any] | None = None,
    ) -> Context:
        """Create the context of one render, as :meth:`jinja2.Template.new_context`."""
        globals = self.globals
        # PERF: when the globals are the plain ChainMap of plain dicts that
        # Environment.make_globals builds, flatten them with dict.update
        # (last map first, so the first map wins and the key order is
        # ChainMap's own): the same names, values and order as dict() of
        # the ChainMap. The flat dict also serves Context's set(globals),
        # the only other use of ``globals``. Anything else (a replaced map,
        # a dict subclass with __missing__) takes Jinja's own path.
        if not shared and type(globals) is ChainMap:
            maps = globals.maps
            flat: dict[str, t.Any] = {}
            for mapping in reversed(maps):
                if type(mapping) is not dict:
                    break
                flat.update(mapping)
            else:
                return new_context(
                    self.environment, self.name, self.blocks, vars, False, flat, locals
                )
        return super().new_context(vars, shared, locals)


class Environment(BaseEnvironment):
    """A Jinja environment that belongs to an app.

    Unless a ``loader`` option is given, it loads templates through
    ``app.create_global_jinja_loader()``: the app's template folder first,
    then each blueprint's folder.

    :param app: the application this environment renders for.
    :param options: passed to :class:`jinja2.Environment`.
    """

    #: Templates are :class:`Template`, a :class:`jinja2.Template` whose
    #: contexts are cheaper to build.
    template_class = Template

    def __init__(self, app: Flask, **options: t.Any) -> None:
        if "loader" not in options:
            options["loader"] = app.create_global_jinja_loader()
        super().__init__(**options)
        #: The application this environment renders for.
        self.app = app


class DispatchingJinjaLoader(BaseLoader):
    """A loader that asks the app's loader, then each blueprint's, in order.

    The first loader that has the template wins, so the app's
    ``templates`` folder overrides blueprint templates of the same name,
    and earlier-registered blueprints override later ones. With
    ``EXPLAIN_TEMPLATE_LOADING`` every loader is asked and the attempts
    are logged on ``app.logger`` at INFO level.

    :param app: the application whose loaders are dispatched to.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app

    def get_source(self, environment: BaseEnvironment, template: str) -> _Source:
        """Return the first loader's ``(source, filename, uptodate)`` for ``template``.

        :raise jinja2.TemplateNotFound: if no loader has it.
        """
        if self.app.config["EXPLAIN_TEMPLATE_LOADING"]:
            return self._get_source_explained(environment, template)
        for _owner, loader in self._iter_loaders():
            try:
                return loader.get_source(environment, template)
            except TemplateNotFound:
                continue
        raise TemplateNotFound(template)

    def _get_source_explained(
        self, environment: BaseEnvironment, template: str
    ) -> _Source:
        attempts: list[tuple[BaseLoader, Scaffold, _Source | None]] = []
        found: _Source | None = None
        for owner, loader in self._iter_loaders():
            try:
                rv: _Source | None = loader.get_source(environment, template)
            except TemplateNotFound:
                rv = None
            if found is None:
                found = rv
            attempts.append((loader, owner, rv))

        from .debughelpers import explain_template_loading_attempts

        explain_template_loading_attempts(self.app, template, attempts)
        if found is None:
            raise TemplateNotFound(template)
        return found

    def _iter_loaders(self) -> t.Iterator[tuple[Scaffold, BaseLoader]]:
        app = self.app
        loader = app.jinja_loader
        if loader is not None:
            yield app, loader
        for blueprint in app.iter_blueprints():
            loader = blueprint.jinja_loader
            if loader is not None:
                yield blueprint, loader

    def list_templates(self) -> list[str]:
        """Return the names of all templates the loaders know, without repeats."""
        names: set[str] = set()
        for _owner, loader in self._iter_loaders():
            names.update(loader.list_templates())
        return list(names)
