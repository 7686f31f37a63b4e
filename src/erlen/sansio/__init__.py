"""The sans-IO core: Request and Response built from plain values, and form parsing."""

from __future__ import annotations
