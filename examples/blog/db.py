"""The SQLite connection, one per app context, and the ``init-db`` command."""

import os
import sqlite3

import click

from erlen import current_app
from erlen import g


def get_db():
    """Return this app context's database connection, opening it on first use."""
    if "db" not in g:
        # NOTE: under ASGI the steps of one request may run on different
        # worker threads (when some view is async). They never run at the
        # same time, and the connection lives for one app context only, so
        # SQLite's same-thread check can go.
        g.db = sqlite3.connect(current_app.config["DATABASE"], check_same_thread=False)
        # Rows behave like dicts in templates: post["title"].
        g.db.row_factory = sqlite3.Row
        # SQLite leaves foreign keys unchecked unless asked, per connection.
        g.db.execute("PRAGMA foreign_keys = ON")
    return g.db


def close_db(exc=None):
    """Close the connection, if this app context opened one."""
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_db():
    """Create empty tables, dropping any that exist."""
    db = get_db()
    with current_app.open_resource("schema.sql") as f:
        db.executescript(f.read().decode("utf-8"))


def init_db_command():
    """Drop all data and create empty tables."""
    init_db()
    click.echo(f"Initialized the database at {current_app.config['DATABASE']}.")


def init_app(app):
    """Register the database teardown and the ``init-db`` command on ``app``.

    A database file that does not exist yet is created, so the first
    ``erlen --app examples/blog run`` works without ``init-db``.
    """
    app.teardown_appcontext(close_db)
    app.cli.command("init-db")(init_db_command)
    if not os.path.exists(app.config["DATABASE"]):
        with app.app_context():
            init_db()
