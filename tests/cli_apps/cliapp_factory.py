"""A ``create_app`` factory that takes arguments with defaults."""

from __future__ import annotations

from erlen import Flask


def create_app(name: str = "default", *, debug: bool = False) -> Flask:
    app = Flask(f"cliapp_factory_{name}")
    app.config["FACTORY_DEBUG"] = debug
    return app
