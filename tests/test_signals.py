from __future__ import annotations

import blinker
import flask.signals
import pytest

from erlen import signals

NAMES = [
    "template_rendered",
    "before_render_template",
    "request_started",
    "request_finished",
    "request_tearing_down",
    "got_request_exception",
    "appcontext_tearing_down",
    "appcontext_pushed",
    "appcontext_popped",
    "message_flashed",
]


@pytest.mark.parametrize("name", NAMES)
def test_signal_names_match_flask(name):
    ours = getattr(signals, name)
    theirs = getattr(flask.signals, name)
    assert isinstance(ours, blinker.NamedSignal)
    assert ours.name == theirs.name == name.replace("_", "-")
    assert signals._signals[ours.name] is ours
    assert ours is not theirs


def test_namespace_holds_exactly_the_ten_signals():
    assert isinstance(signals._signals, blinker.Namespace)
    assert sorted(signals._signals) == sorted(n.replace("_", "-") for n in NAMES)
    assert signals._signals is not blinker.default_namespace


def test_connect_send_and_disconnect():
    sender = object()
    other = object()
    calls = []

    def receiver(app, **extra):
        calls.append((app, extra))
        return "handled"

    signal = signals.message_flashed
    assert not signal.receivers
    signal.connect(receiver, sender)
    try:
        assert signal.has_receivers_for(sender)
        assert not signal.has_receivers_for(other)
        assert list(signal.receivers_for(sender)) == [receiver]
        result = signal.send(sender, message="hi", category="info")
        assert result == [(receiver, "handled")]
        assert signal.send(other, message="ignored", category="x") == []
        assert calls == [(sender, {"message": "hi", "category": "info"})]
    finally:
        signal.disconnect(receiver)
    assert not signal.receivers
    signal.send(sender, message="after", category="x")
    assert len(calls) == 1


def test_connected_to_receives_from_any_sender():
    seen = []

    def receiver(app, **extra):
        seen.append((app, extra))

    with signals.request_finished.connected_to(receiver):
        signals.request_finished.send("app1", response="r1")
        signals.request_started.send("app1")
    signals.request_finished.send("app2", response="r2")
    assert seen == [("app1", {"response": "r1"})]


def test_receivers_are_weak_by_default():
    seen = []

    def receiver(app):
        seen.append(app)

    signals.appcontext_pushed.connect(receiver)
    assert signals.appcontext_pushed.send("app1") == [(receiver, None)]
    del receiver
    assert not signals.appcontext_pushed.receivers
    assert signals.appcontext_pushed.send("app2") == []
    assert seen == ["app1"]
