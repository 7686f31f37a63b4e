"""The debug error page: a WSGI and ASGI middleware that shows unhandled exceptions."""

from __future__ import annotations

import functools
import linecache
import logging
import os
import re
import sysconfig
import traceback
import typing as t
from urllib.parse import unquote_plus

from markupsafe import escape

from .asgi import mark_coroutine_function
from .datastructures import MIMEAccept
from .http import parse_accept_header

if t.TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Awaitable
    from collections.abc import Callable
    from collections.abc import Iterable
    from collections.abc import Iterator
    from types import TracebackType

    Receive = Callable[[], Awaitable[dict[str, t.Any]]]
    Send = Callable[[dict[str, t.Any]], Awaitable[None]]
    ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]

__all__ = ["DebuggedApplication"]

_logger = logging.getLogger("erlen.debug")

#: What a masked value is shown as.
MASK = "••••••"

# APPSEC: header and query parameter names whose values are credentials.
# Matching is by substring, so "X-Api-Key", "X-Auth-Token", "Set-Cookie"
# and "Proxy-Authorization" are all caught; masking too much only hides a
# little debugging information, masking too little leaks a secret into a
# page that may be screenshotted, pasted into an issue or cached.
_SECRET_NAME_RE = re.compile(
    r"token|secret|key|passw|pwd|auth|cookie|session|credential|csrf|xsrf"
    r"|signature|private",
    re.IGNORECASE,
)

_CAUSE = "The above exception was the direct cause of the following exception:"
_CONTEXT = "During handling of the above exception, another exception occurred:"

#: At most this many exceptions of a chain (newest kept) are shown.
MAX_CHAIN = 16
#: At most this many frames per exception: the first and last ones.
MAX_FRAMES = 100
_HEAD_FRAMES = 20
#: An exception message is cut after this many characters.
MAX_MESSAGE = 20_000

_STATUS = "500 INTERNAL SERVER ERROR"


def _is_secret_name(name: str) -> bool:
    """Return whether a header or query parameter called ``name`` holds a secret."""
    return _SECRET_NAME_RE.search(name) is not None


@functools.cache
def _library_prefixes() -> tuple[str, ...]:
    """Return the directories of the interpreter's and installed packages' code."""
    paths = sysconfig.get_paths()
    prefixes = {
        os.path.dirname(os.path.abspath(__file__)),
        *(paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")),
    }
    return tuple(sorted(os.path.join(os.path.realpath(p), "") for p in prefixes))


def _is_library_file(filename: str) -> bool:
    """Return whether ``filename`` belongs to Python, erlen or a dependency."""
    if filename.startswith("<"):
        return True
    path = os.path.realpath(filename)
    return path.startswith(_library_prefixes()) or "site-packages" in path


class _Frame(t.NamedTuple):
    filename: str
    lineno: int | None
    name: str
    #: ``(line number, source line)`` around the frame's line.
    source: tuple[tuple[int, str], ...]
    library: bool


class _Section(t.NamedTuple):
    #: How this exception relates to the one shown before it, if at all.
    intro: str | None
    #: ``"Type: message"`` (several lines for a SyntaxError or with notes).
    summary: str
    frames: tuple[_Frame, ...]
    #: Frames left out in the middle of a very deep traceback.
    omitted: int


def _summary(exc: BaseException) -> str:
    text = "".join(traceback.format_exception_only(type(exc), exc)).rstrip("\n")
    if len(text) > MAX_MESSAGE:
        text = f"{text[:MAX_MESSAGE]}… ({len(text) - MAX_MESSAGE} more characters)"
    return text


def _frames(
    tb: TracebackType | None, context_lines: int
) -> tuple[tuple[_Frame, ...], int]:
    # extract_tb registers each frame's module loader with linecache, so
    # getlines() finds the source of zip-imported modules too. Locals are
    # never captured: they may hold passwords and keys.
    summaries = traceback.extract_tb(tb)
    omitted = 0
    if len(summaries) > MAX_FRAMES:
        omitted = len(summaries) - MAX_FRAMES
        tail = MAX_FRAMES - _HEAD_FRAMES
        summaries = traceback.StackSummary.from_list(
            [*summaries[:_HEAD_FRAMES], *summaries[-tail:]]
        )
    frames = []
    for summary in summaries:
        lineno = summary.lineno
        source: tuple[tuple[int, str], ...] = ()
        lines = linecache.getlines(summary.filename)
        if lineno is not None and 0 < lineno <= len(lines):
            first = max(lineno - context_lines, 1)
            last = min(lineno + context_lines, len(lines))
            source = tuple(
                (number, lines[number - 1].rstrip("\r\n"))
                for number in range(first, last + 1)
            )
        frames.append(
            _Frame(
                summary.filename,
                lineno,
                summary.name,
                source,
                _is_library_file(summary.filename),
            )
        )
    return tuple(frames), omitted


def _sections(exc: BaseException, context_lines: int) -> list[_Section]:
    """Return the exception's chain, oldest first, as Python prints it."""
    sections: list[_Section] = []
    seen: set[int] = set()

    def walk(e: BaseException, intro: str | None) -> None:
        seen.add(id(e))
        if len(seen) < MAX_CHAIN:
            cause = e.__cause__
            context = e.__context__
            if cause is not None and id(cause) not in seen:
                walk(cause, intro)
                intro = _CAUSE
            elif (
                cause is None
                and context is not None
                and not e.__suppress_context__
                and id(context) not in seen
            ):
                walk(context, intro)
                intro = _CONTEXT
        frames, omitted = _frames(e.__traceback__, context_lines)
        sections.append(_Section(intro, _summary(e), frames, omitted))
        if isinstance(e, BaseExceptionGroup):
            count = len(e.exceptions)
            for number, sub in enumerate(e.exceptions, 1):
                if id(sub) not in seen and len(seen) < MAX_CHAIN:
                    walk(
                        sub,
                        f"Sub-exception {number} of {count} of the exception"
                        " group above:",
                    )

    walk(exc, None)
    return sections


class _RequestInfo(t.NamedTuple):
    method: str
    path: str
    query_string: str
    headers: list[tuple[str, str]]


def _from_wsgi_text(value: str) -> str:
    """Return a WSGI "bytes as latin-1" string decoded as UTF-8 for display."""
    return value.encode("latin-1", "replace").decode("utf-8", "replace")


def _wsgi_request(environ: dict[str, t.Any]) -> _RequestInfo:
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key
        else:
            continue
        headers.append((name.replace("_", "-").title(), str(value)))
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    return _RequestInfo(
        str(environ.get("REQUEST_METHOD", "GET")),
        _from_wsgi_text(path),
        _from_wsgi_text(environ.get("QUERY_STRING", "")),
        headers,
    )


def _asgi_request(scope: dict[str, t.Any]) -> _RequestInfo:
    headers = [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, value in scope.get("headers", ())
    ]
    return _RequestInfo(
        str(scope.get("method", "GET")),
        scope.get("root_path", "") + scope.get("path", ""),
        scope.get("query_string", b"").decode("latin-1"),
        headers,
    )


def _masked_headers(
    headers: Iterable[tuple[str, str]], show_secrets: bool
) -> list[tuple[str, str]]:
    if show_secrets:
        return list(headers)
    return [(name, MASK if _is_secret_name(name) else value) for name, value in headers]


def _masked_query(query: str, show_secrets: bool) -> str:
    """Return ``query`` with the values of secret-looking parameters masked."""
    if show_secrets or not query:
        return query
    parts = []
    for part in query.split("&"):
        name, sep, _ = part.partition("=")
        if sep and _is_secret_name(unquote_plus(name)):
            part = f"{name}={MASK}"
        parts.append(part)
    return "&".join(parts)


def _wants_html(accept: str | None) -> bool:
    """Return whether the client prefers HTML: it names it, above plain text.

    A client sending ``*/*`` (curl, fetch(), HTTP libraries) or no Accept
    header at all gets plain text, which reads well in a terminal or log.
    """
    if not accept:
        return False
    parsed = parse_accept_header(accept, MIMEAccept)
    html = max(
        (
            quality
            for value, quality in parsed
            if value.lower() in ("text/html", "application/xhtml+xml")
        ),
        default=0,
    )
    return html > 0 and html >= parsed.quality("text/plain")


_CSS = """\
body{margin:0;font:15px/1.45 system-ui,sans-serif;color:#1d1d1f;background:#f6f6f4}
header{padding:1.2em 2em;background:#8b1a1a;color:#fff}
header h1{margin:0;font-size:1.35em;white-space:pre-wrap;word-break:break-word}
header p{margin:.4em 0 0;opacity:.85;font-size:.9em}
main{padding:1em 2em 3em;max-width:72em}
h2{font-size:1.1em;margin:1.6em 0 .5em}
.intro{margin:1.6em 0 .4em;font-style:italic;color:#555}
.summary{margin:.3em 0 .8em;padding:.5em .8em;background:#fff2f2;
border-left:4px solid #8b1a1a;white-space:pre-wrap;word-break:break-word;
font:600 14px/1.4 ui-monospace,monospace}
.frame{margin:.6em 0;background:#fff;border:1px solid #ddd;border-radius:4px}
.frame.lib{color:#555;background:#fbfbfa}
.frame.lib summary{cursor:pointer;border-bottom:0}
.frame.lib[open] summary{border-bottom:1px solid #eee}
.where{padding:.35em .8em;border-bottom:1px solid #eee;font-size:.9em}
.where code{font-weight:600}
pre{margin:0;padding:.4em 0;overflow-x:auto;font:13px/1.45 ui-monospace,monospace}
pre span{display:block;padding:0 .8em;white-space:pre}
pre span.line{background:#ffe8a8}
.omitted{color:#555;font-style:italic}
table{border-collapse:collapse;font:13px/1.4 ui-monospace,monospace}
td,th{padding:.2em .8em .2em 0;text-align:left;vertical-align:top;
word-break:break-all}
th{white-space:nowrap;font-weight:600}
footer{margin-top:2em;color:#555;font-size:.85em}"""


def _html_frame(frame: _Frame) -> str:
    """Return one frame as HTML; a library frame's source is folded away.

    ``<details>`` folds without any script, so the app's own frames stand
    out among the framework's and the standard library's.
    """
    lineno = "?" if frame.lineno is None else str(frame.lineno)
    where = (
        f"File <code>{escape(frame.filename)}</code>,"
        f" line {lineno}, in <code>{escape(frame.name)}</code>"
    )
    if frame.source:
        width = len(str(frame.source[-1][0]))
        lines = "".join(
            f"<span{' class=line' if number == frame.lineno else ''}>"
            f"{number:>{width}}  {escape(text)}</span>"
            for number, text in frame.source
        )
        code = f"<pre>{lines}</pre>"
    else:
        code = '<pre><span class="omitted">(source not available)</span></pre>'
    if frame.library:
        return (
            f'<details class="frame lib"><summary class="where">{where}</summary>'
            f"{code}</details>"
        )
    return f'<div class="frame"><div class="where">{where}</div>{code}</div>'


def _html_page(sections: list[_Section], request: _RequestInfo) -> str:
    last = sections[-1].summary
    body = []
    for section in sections:
        if section.intro is not None:
            body.append(f'<p class="intro">{escape(section.intro)}</p>')
        body.append('<p class="intro">Traceback (most recent call last):</p>')
        for index, frame in enumerate(section.frames):
            if section.omitted and index == _HEAD_FRAMES:
                body.append(f'<p class="omitted">… {section.omitted} more frames …</p>')
            body.append(_html_frame(frame))
        body.append(f'<div class="summary">{escape(section.summary)}</div>')
    query = f"?{request.query_string}" if request.query_string else ""
    rows = "".join(
        f"<tr><th>{escape(name)}</th><td>{escape(value)}</td></tr>"
        for name, value in request.headers
    )
    title = last.splitlines()[-1] if last else "Error"
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)} // erlen debug page</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<header><h1>{escape(last)}</h1>"
        f"<p>{escape(request.method)} {escape(request.path)}{escape(query)}"
        " raised an unhandled exception.</p></header><main>"
        f"{''.join(body)}"
        "<h2>Request</h2>"
        f"<table><tr><th>Method</th><td>{escape(request.method)}</td></tr>"
        f"<tr><th>Path</th><td>{escape(request.path)}</td></tr>"
        f"<tr><th>Query string</th><td>{escape(request.query_string)}</td></tr>"
        "</table><h2>Headers</h2>"
        f"<table>{rows}</table>"
        "<footer>This page is shown because debug mode is on. Never run an"
        " app in debug mode in production. Secret header values are masked;"
        " local variables are not shown.</footer>"
        "</main></body></html>\n"
    )


def _text_page(sections: list[_Section], request: _RequestInfo) -> str:
    out = ["Internal Server Error (erlen debug mode)", ""]
    for section in sections:
        if section.intro is not None:
            out += ["", section.intro, ""]
        out.append("Traceback (most recent call last):")
        for index, frame in enumerate(section.frames):
            if section.omitted and index == _HEAD_FRAMES:
                out.append(f"  ... {section.omitted} more frames ...")
            lineno = "?" if frame.lineno is None else frame.lineno
            out.append(f'  File "{frame.filename}", line {lineno}, in {frame.name}')
            if frame.source:
                width = len(str(frame.source[-1][0]))
                for number, text in frame.source:
                    mark = ">" if number == frame.lineno else " "
                    out.append(f"   {mark} {number:>{width}} | {text}")
        out.append(section.summary)
    query = f"?{request.query_string}" if request.query_string else ""
    out += ["", "Request:", f"  {request.method} {request.path}{query}", "Headers:"]
    out += [f"  {name}: {value}" for name, value in request.headers]
    out.append("")
    return "\n".join(out)


class DebuggedApplication:
    """Show unhandled exceptions of a debug-mode app as an error page.

    Wrap an app whose unhandled exceptions propagate (erlen's ``Flask``
    does in debug mode, as ``PROPAGATE_EXCEPTIONS`` follows ``debug``). An
    exception raised before any of the response body was sent becomes a
    ``500`` page with the traceback (source lines around each frame's line,
    chained exceptions) and the request's method, path, query string and
    headers. Browsers that ask for HTML get HTML; other clients (``*/*``,
    ``application/json``, no ``Accept``) get the same as plain text.

    The middleware serves both protocols: ``wsgi(environ, start_response)``,
    ``asgi(scope, receive, send)``, and ``__call__`` picking by the number
    of arguments (it looks like a coroutine function to ASGI servers). The
    ASGI side passes lifespan and websocket connections through.

    APPSEC: it only ever renders when the wrapped app (or the app a wrapped
    bound method or middleware's ``app`` attribute leads to) has ``debug``
    true at the time of the error; otherwise the exception propagates
    unchanged, so a forgotten wrapper never shows a traceback in
    production. Values of credential headers (``Cookie``, ``Authorization``,
    ``X-Api-Key``, any name containing ``token``, ``secret``, ``key``,
    ``password``, ...) and of such query parameters are masked; local
    variables are never shown; there is no console and nothing is
    evaluated.

    An exception after part of the body was sent cannot become a page: it
    is logged and re-raised, so the server aborts the response instead of
    ending it as if it were complete.

    :param app: the WSGI/ASGI application to wrap.
    :param show_secrets: show masked values in clear (for debugging
        authentication itself, on your own machine).

    .. note:: Flask compatibility: Werkzeug's ``DebuggedApplication`` has an
        interactive console and a PIN; this one only shows the page, and
        its ``evalex``/``pin_*`` options do not exist.
    """

    #: Source lines shown before and after each frame's line.
    context_lines = 2

    def __init__(self, app: t.Any, *, show_secrets: bool = False) -> None:
        #: The wrapped application.
        self.app = app
        #: Whether masked values are shown in clear.
        self.show_secrets = show_secrets

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.app!r}>"

    @mark_coroutine_function
    def __call__(self, *args: t.Any) -> t.Any:
        """Serve WSGI when called with two arguments, ASGI when called with three."""
        if len(args) == 3:
            return self.asgi(*args)
        return self.wsgi(*args)

    def debug_enabled(self) -> bool:
        """Return whether the wrapped app is in debug mode right now.

        The ``debug`` attribute is looked up on the app, then along bound
        methods (``app.wsgi_app``) and middleware ``app`` attributes.
        """
        app = self.app
        for _ in range(16):
            debug = getattr(app, "debug", None)
            if debug is not None:
                return debug is True
            inner = getattr(app, "__self__", None)
            if inner is None:
                inner = getattr(app, "app", None)
            if inner is None:
                return False
            app = inner
        return False

    def render(
        self, exc: BaseException, request: _RequestInfo, accept: str | None
    ) -> tuple[bytes, str]:
        """Return the page's body and content type for ``exc``."""
        sections = _sections(exc, self.context_lines)
        request = _RequestInfo(
            request.method,
            request.path,
            _masked_query(request.query_string, self.show_secrets),
            _masked_headers(request.headers, self.show_secrets),
        )
        if _wants_html(accept):
            page = _html_page(sections, request)
            content_type = "text/html; charset=utf-8"
        else:
            page = _text_page(sections, request)
            content_type = "text/plain; charset=utf-8"
        return page.encode("utf-8", "replace"), content_type

    def _answer(
        self, exc: BaseException, request: _RequestInfo, accept: str | None
    ) -> tuple[bytes, list[tuple[str, str]]]:
        _logger.error(
            "Exception on %s [%s]",
            request.path,
            request.method,
            exc_info=(type(exc), exc, exc.__traceback__),
        )
        try:
            body, content_type = self.render(exc, request, accept)
        except Exception:
            # NOTE: the page must never hide the error it is about.
            _logger.exception("The debug page could not be rendered")
            body = (
                "Internal Server Error (erlen debug mode)\n\nThe debug page could"
                f" not be rendered; the traceback of {type(exc).__name__} is in"
                " the server's log.\n"
            ).encode()
            content_type = "text/plain; charset=utf-8"
        headers = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            # APPSEC: the page has no scripts; nothing may load or frame it.
            (
                "Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            ),
            ("Referrer-Policy", "no-referrer"),
            ("Vary", "Accept"),
        ]
        return body, headers

    def _log_after_start(self, exc: BaseException, request: _RequestInfo) -> None:
        _logger.error(
            "Exception on %s [%s] after the response started; it cannot be"
            " replaced by the debug page, so the response is aborted",
            request.path,
            request.method,
            exc_info=(type(exc), exc, exc.__traceback__),
        )

    # -- WSGI -----------------------------------------------------------------

    def wsgi(
        self, environ: dict[str, t.Any], start_response: Callable[..., t.Any]
    ) -> Iterable[bytes]:
        """Serve one WSGI request, answering an unhandled exception with the page."""
        started = False

        def tracked_start_response(*args: t.Any) -> t.Any:
            nonlocal started
            started = True
            return start_response(*args)

        try:
            app_iter = self.app(environ, tracked_start_response)
        except Exception as e:
            if not self.debug_enabled():
                raise
            return [self._wsgi_error(e, environ, start_response, started)]
        # PERF: the body is re-yielded through a generator, which hides a
        # file from wsgi.file_wrapper; this middleware is for development.
        return self._wsgi_iter(app_iter, environ, start_response)

    def _wsgi_error(
        self,
        exc: BaseException,
        environ: dict[str, t.Any],
        start_response: Callable[..., t.Any],
        started: bool,
    ) -> bytes:
        body, headers = self._answer(
            exc, _wsgi_request(environ), environ.get("HTTP_ACCEPT")
        )
        if started:
            # PEP 3333: a second call must pass exc_info; the server then
            # replaces the headers it has not sent yet (or re-raises).
            start_response(_STATUS, headers, (type(exc), exc, exc.__traceback__))
        else:
            # NOTE: no exc_info on a first call, as test clients (erlen's
            # and Werkzeug's) re-raise whenever exc_info is given.
            start_response(_STATUS, headers)
        return body

    def _wsgi_iter(
        self,
        app_iter: Iterable[bytes],
        environ: dict[str, t.Any],
        start_response: Callable[..., t.Any],
    ) -> Iterator[bytes]:
        sent = False
        try:
            try:
                for chunk in app_iter:
                    # A server sends the headers with the first non-empty chunk.
                    sent = sent or bool(chunk)
                    yield chunk
            finally:
                close = getattr(app_iter, "close", None)
                if close is not None:
                    close()
        except Exception as e:
            if not self.debug_enabled():
                raise
            if sent:
                self._log_after_start(e, _wsgi_request(environ))
                raise
            yield self._wsgi_error(e, environ, start_response, True)

    # -- ASGI -----------------------------------------------------------------

    async def asgi(self, scope: dict[str, t.Any], receive: Receive, send: Send) -> None:
        """Serve one ASGI connection, answering an unhandled exception with the page."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The start message is held back until the first body message, so an
        # error before any body was sent can still become the page.
        held: list[dict[str, t.Any]] = []
        sent = False

        async def guarded_send(message: dict[str, t.Any]) -> None:
            nonlocal sent
            if not sent:
                if message["type"] == "http.response.start":
                    held[:] = [message]
                    return
                sent = True
                if held:
                    await send(held.pop())
            await send(message)

        try:
            await self.app(scope, receive, guarded_send)
        except Exception as e:
            if not self.debug_enabled():
                raise
            request = _asgi_request(scope)
            if sent:
                self._log_after_start(e, request)
                raise
            accept = None
            for name, value in scope.get("headers", ()):
                if name.lower() == b"accept":
                    accept = value.decode("latin-1")
            body, headers = self._answer(e, request, accept)
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (name.lower().encode("latin-1"), value.encode("latin-1"))
                        for name, value in headers
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        if held:
            # An app that ended without a body message: let the server see it.
            await send(held.pop())
