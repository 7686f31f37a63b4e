"""Errors that explain common mistakes, raised in debug mode."""

from __future__ import annotations

import typing as t

from .globals import _cv_request

if t.TYPE_CHECKING:  # pragma: no cover
    from jinja2 import BaseLoader

    from .app import Flask
    from .scaffold import Scaffold
    from .wrappers import Request


class UnexpectedUnicodeError(AssertionError, UnicodeError):
    """Raised where erlen expected bytes and got text, to point at the mistake."""


class DebugFilesKeyError(KeyError, AssertionError):
    """Raised in debug mode for ``request.files[key]`` on a non-multipart form."""

    def __init__(self, request: Request, key: str) -> None:
        form_matches = request.form.getlist(key)
        buf = [
            f"You tried to access the file {key!r} in the request.files"
            " dictionary but it does not exist. The mimetype for the request"
            f" is {request.mimetype!r} instead of 'multipart/form-data' which"
            " means that no file contents were transmitted. To fix this error"
            ' you should provide enctype="multipart/form-data" in your form.'
        ]
        if form_matches:
            names = ", ".join(repr(x) for x in form_matches)
            buf.append(
                "\n\nThe browser instead transmitted some file names. This was"
                f" submitted: {names}"
            )
        self.msg = "".join(buf)

    def __str__(self) -> str:
        return self.msg


class FormDataRoutingRedirect(AssertionError):
    """Raised in debug mode when a routing redirect would drop a request's form data.

    A 301/302-style redirect makes browsers repeat the request as GET
    without its body; the usual cause is a URL missing its trailing slash.
    """

    def __init__(self, request: Request) -> None:
        exc = request.routing_exception
        new_url = getattr(exc, "new_url", "?")
        buf = [
            f"A request was sent to '{request.url}', but routing issued a"
            f" redirect to the canonical URL '{new_url}'."
        ]
        if f"{request.base_url}/" == new_url.partition("?")[0]:
            buf.append(
                " The URL was defined with a trailing slash. erlen redirects to"
                " the URL with a trailing slash if it was accessed without one."
            )
        buf.append(
            " Send requests to the canonical URL, or use 307 or 308 for"
            " routing redirects. Otherwise, browsers will drop form data.\n\n"
            "This exception is only raised in debug mode."
        )
        super().__init__("".join(buf))


def attach_enctype_error_multidict(request: Request) -> None:
    """Make ``request.files[key]`` raise :class:`DebugFilesKeyError` when missing."""
    oldcls = request.files.__class__

    class NewClass(oldcls):  # type: ignore[valid-type, misc]
        def __getitem__(self, key: str) -> t.Any:
            try:
                return super().__getitem__(key)
            except KeyError as e:
                if key not in request.form:
                    raise
                raise DebugFilesKeyError(request, key).with_traceback(
                    e.__traceback__
                ) from None

    NewClass.__name__ = oldcls.__name__
    NewClass.__module__ = oldcls.__module__
    request.files.__class__ = NewClass


def _describe_loader(loader: BaseLoader) -> t.Iterator[str]:
    """Yield lines naming a loader's class and its public, printable settings."""
    cls = type(loader)
    yield f"class: {cls.__module__}.{cls.__name__}"
    for key, value in sorted(vars(loader).items()):
        if key.startswith("_"):
            continue
        if isinstance(value, (tuple, list)):
            # A loader's search path: list it only if it is all text.
            if all(isinstance(item, str) for item in value):
                yield f"{key}:"
                for item in value:
                    yield f"  - {item}"
        elif isinstance(value, (str, int, float, bool)):
            yield f"{key}: {value!r}"


def explain_template_loading_attempts(
    app: Flask,
    template: str,
    attempts: list[tuple[BaseLoader, Scaffold, tuple[str, str | None, t.Any] | None]],
) -> None:
    """Log, at INFO on ``app.logger``, which loaders were asked for ``template``.

    Used by the app's template loader when ``EXPLAIN_TEMPLATE_LOADING`` is
    on. ``attempts`` holds ``(loader, owner, result)`` for each loader in
    the order asked; ``result`` is ``None`` when it did not have the template.
    """
    lines = [f"Looking up template {template!r}:"]
    found = 0
    for number, (loader, owner, result) in enumerate(attempts, 1):
        if owner is app:
            where = f"the application {app.import_name!r}"
        else:
            where = f"blueprint {owner.name!r} ({owner.import_name})"
        lines.append(f"{number:5}: asked the loader of {where}")
        lines.extend(f"       {line}" for line in _describe_loader(loader))
        if result is None:
            lines.append("       -> not found")
        else:
            found += 1
            lines.append(f"       -> found ({result[1] or '<string>'!r})")

    suspicious = found != 1
    if found == 0:
        lines.append("Error: no loader has this template.")
    elif found > 1:
        lines.append(
            "Warning: more than one loader has this template; the first one"
            " listed is used."
        )
    req_ctx = _cv_request.get(None)
    blueprint = req_ctx.request.blueprint if req_ctx is not None else None
    if suspicious and blueprint is not None:
        lines.append(
            f"  The lookup came from an endpoint of the blueprint {blueprint!r}."
            " A blueprint's templates share one namespace with the app's and"
            " other blueprints'; put them in a subfolder named after the"
            " blueprint to keep them apart."
        )
    if found == 0:
        lines.append(
            "  Check that the template is in the app's template folder or in"
            " a registered blueprint's template_folder."
        )
    app.logger.info("\n".join(lines))
