"""erlen: Flask's API on a small, fast, WSGI-and-ASGI engine."""

from __future__ import annotations

__version__ = "0.1.0.dev0"
