"""erlen: Flask's API on a small, fast, WSGI-and-ASGI engine."""

from __future__ import annotations

import sys
import typing as t

# The names (nearly) every app uses are imported now: loading Flask loads
# their modules anyway.
from . import json as json
from .app import Flask as Flask
from .globals import current_app as current_app
from .globals import g as g
from .globals import request as request
from .globals import session as session
from .globals import websocket as websocket
from .helpers import abort as abort
from .helpers import make_response as make_response
from .helpers import redirect as redirect
from .helpers import url_for as url_for
from .json import jsonify as jsonify
from .wrappers import Request as Request
from .wrappers import Response as Response

if t.TYPE_CHECKING:  # pragma: no cover
    # Type checkers and IDEs see every lazy name below as a plain import.
    from .blueprints import Blueprint as Blueprint
    from .config import Config as Config
    from .ctx import after_this_request as after_this_request
    from .ctx import copy_current_request_context as copy_current_request_context
    from .ctx import has_app_context as has_app_context
    from .ctx import has_request_context as has_request_context
    from .helpers import flash as flash
    from .helpers import get_flashed_messages as get_flashed_messages
    from .helpers import get_template_attribute as get_template_attribute
    from .helpers import send_file as send_file
    from .helpers import send_from_directory as send_from_directory
    from .helpers import stream_with_context as stream_with_context
    from .signals import appcontext_popped as appcontext_popped
    from .signals import appcontext_pushed as appcontext_pushed
    from .signals import appcontext_tearing_down as appcontext_tearing_down
    from .signals import before_render_template as before_render_template
    from .signals import got_request_exception as got_request_exception
    from .signals import message_flashed as message_flashed
    from .signals import request_finished as request_finished
    from .signals import request_started as request_started
    from .signals import request_tearing_down as request_tearing_down
    from .signals import template_rendered as template_rendered
    from .templating import render_template as render_template
    from .templating import render_template_string as render_template_string
    from .templating import stream_template as stream_template
    from .templating import stream_template_string as stream_template_string

__version__ = "0.1.0.dev0"

# PERF: the less common public names are loaded on first access (PEP 562,
# import time): ``from erlen import Blueprint`` imports erlen.blueprints then,
# and an app that never uses it does not pay for it. Name -> its module.
_LAZY: dict[str, str] = {
    "Blueprint": "blueprints",
    "Config": "config",
    "after_this_request": "ctx",
    "copy_current_request_context": "ctx",
    "has_app_context": "ctx",
    "has_request_context": "ctx",
    "flash": "helpers",
    "get_flashed_messages": "helpers",
    "get_template_attribute": "helpers",
    "send_file": "helpers",
    "send_from_directory": "helpers",
    "stream_with_context": "helpers",
    "appcontext_popped": "signals",
    "appcontext_pushed": "signals",
    "appcontext_tearing_down": "signals",
    "before_render_template": "signals",
    "got_request_exception": "signals",
    "message_flashed": "signals",
    "request_finished": "signals",
    "request_started": "signals",
    "request_tearing_down": "signals",
    "template_rendered": "signals",
    "render_template": "templating",
    "render_template_string": "templating",
    "stream_template": "templating",
    "stream_template_string": "templating",
}

__all__ = [
    "json",
    "Flask",
    "Request",
    "Response",
    "abort",
    "current_app",
    "g",
    "jsonify",
    "make_response",
    "redirect",
    "request",
    "session",
    "url_for",
    "websocket",
    *_LAZY,
]


def __getattr__(name: str) -> t.Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module_name}", __name__), name)
    # Later lookups find the name directly and skip this function.
    setattr(sys.modules[__name__], name, value)
    return value


def __dir__() -> list[str]:
    # NOTE: vars(), not globals(): the submodule erlen.globals shadows the builtin.
    return sorted({*vars(sys.modules[__name__]), *_LAZY})
