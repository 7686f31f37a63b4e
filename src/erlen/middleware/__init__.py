"""WSGI middleware with the names Flask apps import from Werkzeug."""

from __future__ import annotations

from .dispatcher import DispatcherMiddleware as DispatcherMiddleware
from .proxy_fix import ProxyFix as ProxyFix
from .shared_data import SharedDataMiddleware as SharedDataMiddleware
