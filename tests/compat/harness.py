"""Run one Flask-API app on Flask and on erlen and compare what they answer."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import functools
import html
import json
import logging
import re
import typing as t
import zlib
from types import SimpleNamespace

import flask
import flask.json.provider
import flask.sessions
import flask.signals
import flask.views
import markupsafe
import pytest
import werkzeug.exceptions
import werkzeug.routing

import erlen
import erlen.exceptions
import erlen.json.provider
import erlen.routing
import erlen.sessions
import erlen.signals
import erlen.testing
import erlen.views

#: The interfaces every scenario runs erlen under.
INTERFACES = ("wsgi", "asgi")
#: The extra interfaces of scenarios written with ``fw.coro``: the same app
#: with async views and hooks on erlen, compared with Flask's sync run.
ASYNC_INTERFACES = ("async-wsgi", "async-asgi")


# -- the framework namespace handed to build(fw) ----------------------------


def _async_twin(func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    """Return an ``async def`` that awaits once, then calls ``func``."""

    @functools.wraps(func)
    async def twin(*args: t.Any, **kwargs: t.Any) -> t.Any:
        await asyncio.sleep(0)
        return func(*args, **kwargs)

    # NOTE: functools.wraps sets __wrapped__; inspect must still see a coroutine
    # function (it does: ``twin`` itself is ``async def``).
    return twin


def _identity(func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    return func


def make_fw(kind: str) -> SimpleNamespace:
    """Return the namespace a scenario's ``build(fw)`` receives.

    :param kind: ``"flask"``, ``"erlen"`` or ``"erlen-async"``.
    """
    events: list[t.Any] = []
    if kind == "flask":
        m: t.Any = flask
        ns = SimpleNamespace(
            name="flask",
            exceptions=werkzeug.exceptions,
            routing=werkzeug.routing,
            views=flask.views,
            signals=flask.signals,
            sessions=flask.sessions,
            json_provider=flask.json.provider,
        )
    else:
        m = erlen
        ns = SimpleNamespace(
            name="erlen",
            exceptions=erlen.exceptions,
            routing=erlen.routing,
            views=erlen.views,
            signals=erlen.signals,
            sessions=erlen.sessions,
            json_provider=erlen.json.provider,
        )
    for attr in (
        "Flask",
        "Blueprint",
        "Config",
        "Request",
        "Response",
        "request",
        "session",
        "g",
        "abort",
        "redirect",
        "url_for",
        "jsonify",
        "make_response",
        "after_this_request",
        "flash",
        "get_flashed_messages",
        "current_app",
        "stream_with_context",
        "copy_current_request_context",
        "has_request_context",
        "has_app_context",
        "json",
    ):
        setattr(ns, attr, getattr(m, attr))
    ns.events = events
    ns.log = events.append
    ns.aio = kind == "erlen-async"
    ns.coro = _async_twin if ns.aio else _identity
    return ns


# -- scenarios ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Req:
    """One request, sent with the client's ``open(path, method=..., **kwargs)``."""

    path: str
    method: str = "GET"
    kwargs: dict[str, t.Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Do:
    """A step outside a request: ``func(app, fw)``; its value is compared."""

    func: t.Callable[[t.Any, t.Any], t.Any]


@dataclasses.dataclass(frozen=True)
class WithClient:
    """A step using the test client: ``func(client, app, fw)``; value compared."""

    func: t.Callable[[t.Any, t.Any, t.Any], t.Any]


def R(path: str = "/", method: str = "GET", **kwargs: t.Any) -> Req:
    """Return a request step."""
    return Req(path, method, kwargs)


Step = Req | Do | WithClient


@dataclasses.dataclass(frozen=True, eq=False)
class Scenario:
    """An app written once against the Flask API, and the steps to run."""

    id: str
    build: t.Callable[[t.Any], t.Any]
    steps: tuple[Step, ...]
    #: The app uses ``fw.coro``: also run erlen with async views and hooks.
    aio: bool = False
    #: Compare the exception message raised to the client: ``"full"``, or
    #: ``"prefix"`` (the first line), or ``"type"`` (class name only).
    exc_message: str = "full"
    #: Turns Flask's results into the ones erlen documents (docs/compat.md),
    #: for deliberate differences; None means "identical".
    deviation: t.Callable[[list[t.Any]], list[t.Any]] | None = None
    #: The interfaces the deviation applies to (None: all of them).
    deviation_ifaces: tuple[str, ...] | None = None
    #: Capture ERROR log records from the app's logger and compare them.
    logs: bool = False
    #: Drive erlen with ``app.test_client(asgi=...)`` (its FlaskClient, for
    #: session_transaction and ``with client:``) instead of the plain Client.
    flask_client: bool = False


class Registry(list[Scenario]):
    """The scenarios of one test module."""

    def __call__(
        self, id: str, *steps: Step, **options: t.Any
    ) -> t.Callable[[t.Callable[[t.Any], t.Any]], t.Callable[[t.Any], t.Any]]:
        """Register the decorated ``build(fw)`` under ``id``."""

        def deco(build: t.Callable[[t.Any], t.Any]) -> t.Callable[[t.Any], t.Any]:
            if any(s.id == id for s in self):
                raise ValueError(f"duplicate scenario id {id!r}")
            self.append(Scenario(id, build, tuple(steps), **options))
            return build

        return deco

    def add(
        self, id: str, build: t.Callable[[t.Any], t.Any], *steps: Step, **options: t.Any
    ) -> None:
        """Register ``build`` under ``id`` (for generated scenarios)."""
        self(id, *steps, **options)(build)

    def params(self) -> list[t.Any]:
        """Return one pytest param per scenario and interface."""
        out = []
        for s in self:
            ifaces = INTERFACES + (ASYNC_INTERFACES if s.aio else ())
            for iface in ifaces:
                out.append(pytest.param(s, iface, id=f"{s.id}-{iface}"))
        return out


# -- normalising results -----------------------------------------------------


def _default_descriptions(module: t.Any) -> dict[str, str]:
    out = {}
    for obj in vars(module).values():
        if (
            isinstance(obj, type)
            and issubclass(obj, module.HTTPException)
            and isinstance(obj.description, str)
        ):
            # NOTE: the page escapes the description; store both spellings.
            out[obj.description] = obj.__name__
            out[str(markupsafe.escape(obj.description))] = obj.__name__
            out[html.escape(obj.description)] = obj.__name__
    return out


_WZ_DESCRIPTIONS = _default_descriptions(werkzeug.exceptions)
_ER_DESCRIPTIONS = _default_descriptions(erlen.exceptions)


_REDIRECT_PAGE = re.compile(
    r"<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n"
    r"<h1>Redirecting...</h1>\n<p>[^<]*<a href=\"(?P<href>[^\"]*)\">"
    r"(?P<text>[^<]*)</a>[^<]*\n",
)


def normalize_body(body: bytes, framework: str) -> bytes:
    """Replace a default HTTPException description with its class name.

    erlen words its default descriptions and its redirect page itself
    (docs/compat.md); a custom description is left alone and must match.
    """
    text = body.decode("utf-8", "replace")
    r = _REDIRECT_PAGE.fullmatch(text)
    if r is not None:
        # NOTE: erlen's link target is the URI-encoded location (as sent in
        # Location); Werkzeug's is the HTML-escaped raw one. Compare the text.
        return f"<redirect page: {r['text']}>".encode()
    return scrub(text, framework).encode()


def scrub(text: str, framework: str) -> str:
    """Replace every default HTTPException description in ``text`` by its class.

    erlen words its default descriptions itself (docs/compat.md), so error
    pages, messages and handler output that quote them differ in wording only.
    """
    table = _WZ_DESCRIPTIONS if framework == "flask" else _ER_DESCRIPTIONS
    for default in sorted(table, key=len, reverse=True):
        if default in text:
            text = text.replace(default, f"<default {table[default]}>")
    return text


def decode_session(value: str) -> t.Any:
    """Return the JSON payload of a signed session cookie (not its signature)."""
    payload = value.rsplit(".", 2)[0]
    compressed = payload.startswith(".")
    payload = payload.lstrip(".")
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    if compressed:
        raw = zlib.decompress(raw)
    return json.loads(raw)


_EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"


def parse_set_cookie(header: str) -> dict[str, t.Any]:
    """Return a comparable view of one ``Set-Cookie`` header."""
    parts = [p.strip() for p in header.split(";")]
    name, _, value = parts[0].partition("=")
    attrs: dict[str, t.Any] = {}
    for part in parts[1:]:
        key, sep, val = part.partition("=")
        key = key.lower()
        if key == "expires" and val != _EPOCH:
            val = "<future>"
        attrs[key] = val if sep else True
    # NOTE: a signed session cookie is compared by its payload whatever its
    # name (SESSION_COOKIE_NAME): its timestamp differs when the two runs
    # straddle a second.
    if value.count(".") >= 2:
        try:
            shown: t.Any = ("signed", decode_session(value))
        except Exception:  # pragma: no cover - a diagnosis aid only
            shown = value
    else:
        shown = value
    return {"name": name, "value": shown, "attrs": attrs}


def response_view(response: t.Any, framework: str, method: str) -> dict[str, t.Any]:
    """Return status, headers and body of a test response, normalised."""
    try:
        body = response.get_data()
    except Exception as exc:
        # NOTE: an error while streaming; erlen words messages itself.
        body = repr(exception_view(exc, "prefix", framework)).encode()
    headers = [(k.lower(), v) for k, v in response.headers.items()]
    cookies = sorted(
        (parse_set_cookie(v) for k, v in headers if k == "set-cookie"),
        key=lambda c: c["name"],
    )
    # NOTE: Werkzeug builds Allow from a set, so its order is the hash order.
    rest = sorted(
        (k, ", ".join(sorted(v.split(", "))) if k == "allow" else v)
        for k, v in headers
        if k != "set-cookie"
    )
    normalized = normalize_body(body, framework)
    code = response.status_code
    if method == "HEAD" and not body and (300 <= code < 400 or code >= 400):
        # NOTE: a HEAD error/redirect page has erlen's own wording (not sent),
        # so only the presence of Content-Length is comparable.
        rest = [(k, "<head>") if k == "content-length" else (k, v) for k, v in rest]
    elif normalized != body:
        # NOTE: the wording differs, so the length does too: check each
        # side's Content-Length against its own body instead.
        rest = [
            (k, "<len ok>" if v == str(len(body)) else f"<len {v} != {len(body)}>")
            if k == "content-length"
            else (k, v)
            for k, v in rest
        ]
    return {
        "status": response.status,
        "headers": rest,
        "cookies": cookies,
        "body": normalized,
    }


def value_view(value: t.Any) -> t.Any:
    """Return a framework-neutral view of a value a ``Do`` step returned."""
    if isinstance(value, (flask.Response, erlen.Response)):
        return ("response", value.status, value.get_data())
    if isinstance(value, dict):
        return {k: value_view(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(value_view(v) for v in value)
    if isinstance(value, type):
        return ("class", value.__name__)
    return value


def exception_view(
    exc: BaseException, mode: str, framework: str = "erlen"
) -> tuple[str, ...]:
    """Return a comparable view of an exception raised to the caller."""
    name = type(exc).__name__
    if mode == "type":
        return ("raise", name)
    message = scrub(str(exc), framework)
    if mode == "prefix":
        message = message.split("\n", 1)[0]
    return ("raise", name, message)


def event_view(value: t.Any) -> t.Any:
    """Return a framework-neutral view of something the app logged."""
    if isinstance(value, BaseException):
        return (
            "exc",
            type(value).__name__,
            str(value) if not hasattr(value, "code") else value.code,
        )
    if isinstance(value, (flask.Response, erlen.Response)):
        return ("response", value.status)
    if isinstance(value, (list, tuple)):
        return type(value)(event_view(v) for v in value)
    if isinstance(value, dict):
        return {k: event_view(v) for k, v in value.items()}
    return value


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[tuple[str, str, str | None]] = []

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        self.records.append(
            (record.levelname, record.getMessage(), type(exc).__name__ if exc else None)
        )


# -- running ------------------------------------------------------------------


def run(scenario: Scenario, kind: str, iface: str | None = None) -> list[t.Any]:
    """Build the scenario's app on ``kind`` and return the results of its steps."""
    fw = make_fw(kind)
    app = scenario.build(fw)
    framework = "flask" if kind == "flask" else "erlen"
    if framework == "flask":
        client = app.test_client()
    else:
        if scenario.flask_client:
            client = app.test_client(asgi=iface == "asgi")
        else:
            client = erlen.testing.Client(app, asgi=iface == "asgi")
    results: list[t.Any] = []
    if fw.events:
        # What the app recorded while it was set up is compared too.
        results.append({"step": "build", "events": event_view(list(fw.events))})
    capture = _Capture()
    logger = logging.getLogger(app.name)
    if scenario.logs:
        logger.addHandler(capture)
    try:
        for step in scenario.steps:
            fw.events.clear()
            if isinstance(step, (Do, WithClient)):
                try:
                    if isinstance(step, Do):
                        value = step.func(app, fw)
                    else:
                        value = step.func(client, app, fw)
                    out: t.Any = ("value", value_view(value))
                except Exception as exc:
                    out = exception_view(exc, scenario.exc_message, framework)
            else:
                try:
                    response = client.open(step.path, method=step.method, **step.kwargs)
                except Exception as exc:
                    out = exception_view(exc, scenario.exc_message, framework)
                else:
                    try:
                        out = response_view(response, framework, step.method)
                        if step.kwargs.get("follow_redirects"):
                            out["history"] = [
                                (r.status, r.headers.get("Location"))
                                for r in response.history
                            ]
                    finally:
                        response.close()
            events = event_view(list(fw.events))
            entry = {"step": _step_name(step), "out": out}
            if events:
                entry["events"] = events
            if scenario.logs:
                entry["logs"] = list(capture.records)
                capture.records.clear()
            results.append(entry)
    finally:
        logger.removeHandler(capture)
        if framework == "erlen":
            client.close()
    return results


def _step_name(step: Step) -> str:
    if isinstance(step, (Do, WithClient)):
        return f"do {step.func.__name__}"
    return f"{step.method} {step.path}"


_FLASK_CACHE: dict[str, str] = {}


def _flask_results(scenario: Scenario) -> str:
    # NOTE: Flask's answers do not depend on erlen's interface: run it once.
    key = f"{scenario.build.__module__}:{scenario.id}"
    if key not in _FLASK_CACHE:
        _FLASK_CACHE[key] = json.dumps(run(scenario, "flask"), default=repr, indent=1)
    return _FLASK_CACHE[key]


def check(scenario: Scenario, iface: str) -> None:
    """Assert that erlen under ``iface`` answers as Flask does."""
    expected = json.loads(_flask_results(scenario))
    if scenario.deviation is not None and (
        scenario.deviation_ifaces is None or iface in scenario.deviation_ifaces
    ):
        expected = scenario.deviation(expected)
    kind = "erlen-async" if iface.startswith("async-") else "erlen"
    got = json.loads(
        json.dumps(
            run(scenario, kind, iface.rpartition("-")[2]), default=repr, indent=1
        )
    )
    if got != expected:
        raise AssertionError(describe_difference(expected, got))


def describe_difference(expected: list[t.Any], got: list[t.Any]) -> str:
    """Return the steps where erlen and Flask disagree, side by side."""
    lines = []
    for i, (e, g) in enumerate(zip(expected, got, strict=False)):
        if e == g:
            continue
        lines.append(f"step {i} {e.get('step')}:")
        for key in sorted(set(e) | set(g)):
            if e.get(key) != g.get(key):
                ev, gv = e.get(key), g.get(key)
                if isinstance(ev, dict) and isinstance(gv, dict):
                    for k in sorted(set(ev) | set(gv)):
                        if ev.get(k) != gv.get(k):
                            lines.append(f"  {key}.{k}: flask={ev.get(k)!r}")
                            lines.append(f"  {key}.{k}: erlen={gv.get(k)!r}")
                else:
                    lines.append(f"  {key}: flask={ev!r}")
                    lines.append(f"  {key}: erlen={gv!r}")
    if len(expected) != len(got):
        lines.append(f"{len(expected)} steps on Flask, {len(got)} on erlen")
    return "erlen differs from Flask\n" + "\n".join(lines)


def deviate(**steps: dict[str, t.Any]) -> t.Callable[[list[t.Any]], list[t.Any]]:
    """Return a ``deviation`` that overrides parts of Flask's step results.

    Keys are ``s<index>``; values map ``out`` keys (``status``, ``body``,
    ...) to erlen's documented result. A new ``body`` also fixes the
    Content-Length header.
    """

    def apply(expected: list[t.Any]) -> list[t.Any]:
        for key, changes in steps.items():
            entry = expected[int(key[1:])]
            for k, v in changes.items():
                if k == "events":
                    entry["events"] = json.loads(json.dumps(v, default=repr))
                elif k == "body":
                    raw = v if isinstance(v, bytes) else v.encode()
                    entry["out"]["body"] = repr(raw)
                    entry["out"]["headers"] = [
                        [h, str(len(raw)) if h == "content-length" else hv]
                        for h, hv in entry["out"]["headers"]
                    ]
                elif k == "out":
                    entry["out"] = json.loads(json.dumps(v, default=repr))
                else:
                    entry["out"][k] = json.loads(json.dumps(v, default=repr))
        return expected

    return apply
