"""Errors that explain common mistakes, raised in debug mode."""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:  # pragma: no cover
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
