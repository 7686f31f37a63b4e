"""WSGI middleware that applies the ``X-Forwarded-*`` headers set by trusted proxies."""

from __future__ import annotations

import re
import typing as t

if t.TYPE_CHECKING:  # pragma: no cover
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

# A backslash escape inside a quoted list item; "." leaves a newline escaped,
# as Werkzeug's unquoting does.
_UNESCAPE_RE = re.compile(r"\\(.)", re.ASCII)


def _split_quoted(value: str) -> list[str] | None:
    """Split a list header that contains quotes; return None on an open quote."""
    items: list[str] = []
    start = 0
    i = 0
    n = len(value)
    while i < n:
        char = value[i]
        if char == ",":
            items.append(value[start:i])
            start = i + 1
        elif char == '"':
            # Skip to the closing quote; a backslash escapes the next char.
            i += 1
            while i < n and value[i] != '"':
                i += 2 if value[i] == "\\" else 1
            if i >= n:
                return None
        i += 1
    items.append(value[start:])
    return items


def _parse_list(value: str) -> list[str]:
    """Return the items of a comma-separated header, as Werkzeug parses them.

    Items are stripped of spaces and tabs and empty ones dropped; an item that
    is entirely one quoted string is unquoted. A value with an unclosed quote
    gives an empty list.
    """
    # PERF: proxies send plain "a, b" lists; quotes are the rare case.
    if '"' not in value:
        return [
            item for item in (part.strip(" \t") for part in value.split(",")) if item
        ]
    raw = _split_quoted(value)
    if raw is None:
        return []
    items = []
    for part in raw:
        item = part.strip(" \t")
        if len(item) >= 2 and item[0] == '"' and item[-1] == '"':
            item = _UNESCAPE_RE.sub(r"\1", item[1:-1])
        elif not item:
            continue
        items.append(item)
    return items


def _trusted_value(trusted: int, value: str | None) -> str | None:
    """Return the value the outermost trusted proxy saw, or None.

    That is the ``trusted``-th item from the right, each trusted proxy having
    appended one; None when the header is absent, trust is 0, or there are
    fewer items than trusted proxies (the header did not pass through them all).
    """
    if not trusted or not value:
        return None
    values = _parse_list(value)
    if len(values) < trusted:
        return None
    return values[-trusted]


def _strip_port(host: str) -> str:
    """Return ``host`` without a trailing ``:port`` (a bare ``[v6]`` is kept)."""
    if ":" in host and not host.endswith("]"):
        return host.rpartition(":")[0]
    return host


class ProxyFix:
    """Rewrite the WSGI environ from ``X-Forwarded-*`` headers of trusted proxies.

    -   ``X-Forwarded-For`` sets ``REMOTE_ADDR``.
    -   ``X-Forwarded-Proto`` sets ``wsgi.url_scheme``.
    -   ``X-Forwarded-Host`` sets ``HTTP_HOST`` and ``SERVER_NAME``, and
        ``SERVER_PORT`` when the host has a port.
    -   ``X-Forwarded-Port`` sets ``SERVER_PORT`` and the port of ``HTTP_HOST``.
    -   ``X-Forwarded-Prefix`` sets ``SCRIPT_NAME``.

    Each argument is the number of proxies in front of the app that append to
    that header. Each proxy appends one value, so the value to use is that many
    from the right; values further left came from the client and are ignored.
    A header with fewer values than that is ignored too. APPSEC: trusting more
    values than there are proxies lets any client forge its address, scheme
    or host; 0 turns a header off.

    The environ values from before the rewrite are stored as a dict under
    ``erlen.proxy_fix.orig`` and, for code written for Werkzeug, the same dict
    under ``werkzeug.proxy_fix.orig``.

    .. code-block:: python

        # Behind one proxy (such as nginx) that sets -For, -Proto and -Host.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    :param app: The WSGI application to wrap.
    :param x_for: Number of values to trust in ``X-Forwarded-For``.
    :param x_proto: Number of values to trust in ``X-Forwarded-Proto``.
    :param x_host: Number of values to trust in ``X-Forwarded-Host``.
    :param x_port: Number of values to trust in ``X-Forwarded-Port``.
    :param x_prefix: Number of values to trust in ``X-Forwarded-Prefix``.
    :raises ValueError: If a count is negative.
    :raises TypeError: If a count is not an int.
    """

    def __init__(
        self,
        app: WSGIApplication,
        x_for: int = 1,
        x_proto: int = 1,
        x_host: int = 0,
        x_port: int = 0,
        x_prefix: int = 0,
    ) -> None:
        counts = {
            "x_for": x_for,
            "x_proto": x_proto,
            "x_host": x_host,
            "x_port": x_port,
            "x_prefix": x_prefix,
        }
        for name, count in counts.items():
            if not isinstance(count, int):
                raise TypeError(
                    f"ProxyFix({name}=...) needs an int count of trusted proxies,"
                    f" but got {count!r} ({type(count).__name__})."
                )
            if count < 0:
                raise ValueError(
                    f"ProxyFix({name}=...) needs a count of trusted proxies of 0"
                    f" or more, but got {count}; use 0 to ignore that header."
                )
        #: The wrapped WSGI application.
        self.app = app
        #: Number of trusted values in ``X-Forwarded-For``.
        self.x_for = x_for
        #: Number of trusted values in ``X-Forwarded-Proto``.
        self.x_proto = x_proto
        #: Number of trusted values in ``X-Forwarded-Host``.
        self.x_host = x_host
        #: Number of trusted values in ``X-Forwarded-Port``.
        self.x_port = x_port
        #: Number of trusted values in ``X-Forwarded-Prefix``.
        self.x_prefix = x_prefix

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> t.Iterable[bytes]:
        """Rewrite ``environ`` from the trusted headers, then call the app."""
        get = environ.get
        orig = {
            "REMOTE_ADDR": get("REMOTE_ADDR"),
            "wsgi.url_scheme": get("wsgi.url_scheme"),
            "HTTP_HOST": get("HTTP_HOST"),
            "SERVER_NAME": get("SERVER_NAME"),
            "SERVER_PORT": get("SERVER_PORT"),
            "SCRIPT_NAME": get("SCRIPT_NAME"),
        }
        environ["erlen.proxy_fix.orig"] = orig
        environ["werkzeug.proxy_fix.orig"] = orig

        # PERF: each lookup is skipped when its count is 0 (x_host, x_port and
        # x_prefix by default), so the default setup parses two headers at most.
        if self.x_for:
            remote = _trusted_value(self.x_for, get("HTTP_X_FORWARDED_FOR"))
            if remote:
                environ["REMOTE_ADDR"] = remote
        if self.x_proto:
            scheme = _trusted_value(self.x_proto, get("HTTP_X_FORWARDED_PROTO"))
            if scheme:
                environ["wsgi.url_scheme"] = scheme
        if self.x_host:
            host = _trusted_value(self.x_host, get("HTTP_X_FORWARDED_HOST"))
            if host:
                environ["HTTP_HOST"] = environ["SERVER_NAME"] = host
                # A "]" at the end is a bare IPv6 literal, not a port.
                if ":" in host and not host.endswith("]"):
                    name, _, host_port = host.rpartition(":")
                    environ["SERVER_NAME"] = name
                    environ["SERVER_PORT"] = host_port
        if self.x_port:
            port = _trusted_value(self.x_port, get("HTTP_X_FORWARDED_PORT"))
            if port:
                http_host = get("HTTP_HOST")
                if http_host:
                    environ["HTTP_HOST"] = f"{_strip_port(http_host)}:{port}"
                environ["SERVER_PORT"] = port
        if self.x_prefix:
            prefix = _trusted_value(self.x_prefix, get("HTTP_X_FORWARDED_PREFIX"))
            if prefix:
                environ["SCRIPT_NAME"] = prefix
        return self.app(environ, start_response)
