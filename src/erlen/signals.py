"""The signals erlen sends, with Flask's names, in a private blinker namespace."""

from __future__ import annotations

from blinker import Namespace

# NOTE: only erlen's own signals live here; extensions make their own
# Namespace. The signal names are Flask's, so receivers that look signals up
# by name keep working.
_signals = Namespace()

#: Sent after a template is rendered: ``(app, template=, context=)``.
template_rendered = _signals.signal("template-rendered")
#: Sent before a template is rendered: ``(app, template=, context=)``.
before_render_template = _signals.signal("before-render-template")
#: Sent when request handling starts, before any before-request hook: ``(app)``.
request_started = _signals.signal("request-started")
#: Sent when the response is ready to be sent: ``(app, response=)``.
request_finished = _signals.signal("request-finished")
#: Sent when the request context is torn down: ``(app, exc=)``.
request_tearing_down = _signals.signal("request-tearing-down")
#: Sent when an unhandled exception escapes a view: ``(app, exception=)``.
got_request_exception = _signals.signal("got-request-exception")
#: Sent when the application context is torn down: ``(app, exc=)``.
appcontext_tearing_down = _signals.signal("appcontext-tearing-down")
#: Sent when an application context is pushed: ``(app)``.
appcontext_pushed = _signals.signal("appcontext-pushed")
#: Sent when an application context is popped: ``(app)``.
appcontext_popped = _signals.signal("appcontext-popped")
#: Sent when a message is flashed: ``(app, message=, category=)``.
message_flashed = _signals.signal("message-flashed")
