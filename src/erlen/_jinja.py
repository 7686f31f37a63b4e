"""The Jinja2 classes of erlen's templating: the app's environment and its loader."""

from __future__ import annotations

import typing as t

from jinja2 import BaseLoader
from jinja2 import Environment as BaseEnvironment
from jinja2 import TemplateNotFound

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import Flask
    from .scaffold import Scaffold

# NOTE: this is the only module of erlen that imports Jinja2 at module level.
# erlen.templating resolves ``Environment`` and ``DispatchingJinjaLoader``
# from here on first use, so that ``import erlen`` never loads Jinja2.

#: What ``BaseLoader.get_source`` returns: source, file name, up-to-date check.
_Source = tuple[str, str | None, t.Callable[[], bool] | None]


class Environment(BaseEnvironment):
    """A Jinja environment that belongs to an app.

    Unless a ``loader`` option is given, it loads templates through
    ``app.create_global_jinja_loader()``: the app's template folder first,
    then each blueprint's folder.

    :param app: the application this environment renders for.
    :param options: passed to :class:`jinja2.Environment`.
    """

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
