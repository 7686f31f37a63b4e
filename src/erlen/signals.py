"""The signals erlen sends, with Flask's names, in a private blinker namespace.

PERF: the signals are created on first access to any of them (PEP 562, import
time): blinker, and the ``inspect`` module it imports, cost ~6 ms, and an app
that never connects a receiver never needs them. Until then
:data:`_loaded` is false, and since no signal object exists yet no receiver
can be connected either: senders check ``signals._loaded`` first and skip
the send (see :func:`receivers_of`).
"""

from __future__ import annotations

import threading
import typing as t

if t.TYPE_CHECKING:  # pragma: no cover
    from blinker import NamedSignal
    from blinker import Namespace

    _signals: Namespace
    #: Sent after a template is rendered: ``(app, template=, context=)``.
    template_rendered: NamedSignal
    #: Sent before a template is rendered: ``(app, template=, context=)``.
    before_render_template: NamedSignal
    #: Sent when request handling starts, before any before-request hook: ``(app)``.
    request_started: NamedSignal
    #: Sent when the response is ready to be sent: ``(app, response=)``.
    request_finished: NamedSignal
    #: Sent when the request context is torn down: ``(app, exc=)``.
    request_tearing_down: NamedSignal
    #: Sent when an unhandled exception escapes a view: ``(app, exception=)``.
    got_request_exception: NamedSignal
    #: Sent when the application context is torn down: ``(app, exc=)``.
    appcontext_tearing_down: NamedSignal
    #: Sent when an application context is pushed: ``(app)``.
    appcontext_pushed: NamedSignal
    #: Sent when an application context is popped: ``(app)``.
    appcontext_popped: NamedSignal
    #: Sent when a message is flashed: ``(app, message=, category=)``.
    message_flashed: NamedSignal

#: Attribute name -> signal name (Flask's names, so receivers that look
#: signals up by name keep working).
_NAMES = {
    "template_rendered": "template-rendered",
    "before_render_template": "before-render-template",
    "request_started": "request-started",
    "request_finished": "request-finished",
    "request_tearing_down": "request-tearing-down",
    "got_request_exception": "got-request-exception",
    "appcontext_tearing_down": "appcontext-tearing-down",
    "appcontext_pushed": "appcontext-pushed",
    "appcontext_popped": "appcontext-popped",
    "message_flashed": "message-flashed",
}
# The signals the request pipeline sends itself, between the push and the pop
# of the contexts (got_request_exception is sent from handle_exception, which
# every path calls).
_REQUEST_SIGNALS = (
    "request_started",
    "request_finished",
    "request_tearing_down",
    "appcontext_pushed",
    "appcontext_popped",
    "appcontext_tearing_down",
)

#: Whether the signals exist (some code has looked one up, e.g. to connect).
_loaded = False
#: Whether one of the signals a request sends on its own (_REQUEST_SIGNALS)
#: has a receiver. PERF: the lean request path (see erlen.ctx.push_lean)
#: skips those sending steps while none has; an app (or a
#: test suite) that only imports a signal, or connected and disconnected
#: again, keeps that path. Set by _recount when a receiver is connected or
#: disconnected; a weakly held receiver that is garbage collected leaves it
#: set, which only costs the lean path.
_live = False
_load_lock = threading.Lock()


def _load() -> None:
    global _loaded, _signals
    with _load_lock:
        # NOTE: another thread may have loaded them while this one waited; a
        # second namespace would lose the receivers connected to the first.
        if _loaded:
            return
        from blinker import Namespace

        # NOTE: only erlen's own signals live here; extensions make their own
        # Namespace.
        namespace = Namespace()
        module = globals()
        for attr, name in _NAMES.items():
            module[attr] = namespace.signal(name)
        for attr in _REQUEST_SIGNALS:
            signal = module[attr]
            signal.receiver_connected.connect(_recount, weak=False)
            signal.receiver_disconnected.connect(_recount, weak=False)
        _signals = namespace
        _loaded = True


def _recount(_signal: t.Any, **kwargs: t.Any) -> None:
    global _live
    module = globals()
    _live = any(module[attr].receivers for attr in _REQUEST_SIGNALS)


def __getattr__(name: str) -> t.Any:
    if name not in _NAMES and name != "_signals":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    _load()
    return globals()[name]


def __dir__() -> list[str]:
    return sorted({*globals(), *_NAMES, "_signals"})


def receivers_of(name: str) -> NamedSignal | None:
    """Return the signal called ``name`` (attribute name) if it has receivers.

    ``None`` means there is nothing to send to, without loading blinker.
    """
    if not _loaded:
        return None
    signal: NamedSignal = globals()[name]
    return signal if signal.receivers else None
