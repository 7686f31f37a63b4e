"""Type aliases for views, hooks and handlers, as ``flask.typing`` has them."""

from __future__ import annotations

import collections.abc as cabc
import typing as t

if t.TYPE_CHECKING:  # pragma: no cover
    from _typeshed.wsgi import WSGIApplication

    from .datastructures import Headers
    from .sansio.response import Response

#: What a view may return as the body.
ResponseValue: t.TypeAlias = (
    "Response | str | bytes | list[t.Any] | t.Mapping[str, t.Any]"
    " | t.Iterator[str] | t.Iterator[bytes]"
    " | cabc.AsyncIterable[str] | cabc.AsyncIterable[bytes]"
)
#: One header value: a string, or several.
HeaderValue: t.TypeAlias = "str | list[str] | tuple[str, ...]"
#: Headers given with a return value.
HeadersValue: t.TypeAlias = (
    "Headers | t.Mapping[str, HeaderValue] | t.Sequence[tuple[str, HeaderValue]]"
)
#: Everything a view may return, tuples and WSGI apps included.
ResponseReturnValue: t.TypeAlias = (
    "ResponseValue | tuple[ResponseValue, HeadersValue]"
    " | tuple[ResponseValue, int] | tuple[ResponseValue, int, HeadersValue]"
    " | WSGIApplication"
)
#: A response class (bound TypeVar for after_request functions).
ResponseClass = t.TypeVar("ResponseClass", bound="Response")
#: ``None`` for the app, or a blueprint's dotted name.
AppOrBlueprintKey: t.TypeAlias = "str | None"

AfterRequestCallable: t.TypeAlias = (
    "t.Callable[[ResponseClass], ResponseClass]"
    " | t.Callable[[ResponseClass], t.Awaitable[ResponseClass]]"
)
BeforeRequestCallable: t.TypeAlias = (
    "t.Callable[[], ResponseReturnValue | None]"
    " | t.Callable[[], t.Awaitable[ResponseReturnValue | None]]"
)
ShellContextProcessorCallable: t.TypeAlias = "t.Callable[[], dict[str, t.Any]]"
TeardownCallable: t.TypeAlias = (
    "t.Callable[[BaseException | None], None]"
    " | t.Callable[[BaseException | None], t.Awaitable[None]]"
)
TemplateContextProcessorCallable: t.TypeAlias = (
    "t.Callable[[], dict[str, t.Any]] | t.Callable[[], t.Awaitable[dict[str, t.Any]]]"
)
TemplateFilterCallable: t.TypeAlias = "t.Callable[..., t.Any]"
TemplateGlobalCallable: t.TypeAlias = "t.Callable[..., t.Any]"
TemplateTestCallable: t.TypeAlias = "t.Callable[..., bool]"
URLDefaultCallable: t.TypeAlias = "t.Callable[[str, dict[str, t.Any]], None]"
URLValuePreprocessorCallable: t.TypeAlias = (
    "t.Callable[[str | None, dict[str, t.Any] | None], None]"
)
ErrorHandlerCallable: t.TypeAlias = (
    "t.Callable[[t.Any], ResponseReturnValue]"
    " | t.Callable[[t.Any], t.Awaitable[ResponseReturnValue]]"
)
RouteCallable: t.TypeAlias = (
    "t.Callable[..., ResponseReturnValue]"
    " | t.Callable[..., t.Awaitable[ResponseReturnValue]]"
)
