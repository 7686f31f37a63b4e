"""Run the ``erlen`` command: ``python -m erlen``."""

from __future__ import annotations

from .cli import main

main()
