"""A package whose ``__init__`` holds the app."""

from __future__ import annotations

from erlen import Flask

application = Flask("cliapp_pkg")
