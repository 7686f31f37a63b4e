"""An app with custom commands and a blueprint's commands."""

from __future__ import annotations

import click

from erlen import Blueprint
from erlen import current_app
from erlen import Flask

app = Flask("cliapp_commands")
bp = Blueprint("tools", __name__)


@app.cli.command("hello")
@click.option("--name", default="world")
def hello(name: str) -> None:
    click.echo(f"hello {name} from {current_app.name}")


@bp.cli.command("sync")
def sync() -> None:
    click.echo(f"synced {current_app.name}")


app.register_blueprint(bp)
