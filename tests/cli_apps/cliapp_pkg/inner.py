"""A module inside a package, holding a single app under another name."""

from __future__ import annotations

from erlen import Flask

inner_app = Flask("cliapp_pkg.inner")
