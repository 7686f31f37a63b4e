"""An app named ``app``."""

from __future__ import annotations

from erlen import Flask

app = Flask("cliapp_simple")


@app.route("/")
def index() -> str:
    return "simple"
