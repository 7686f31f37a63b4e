"""Run a snippet of Python in a fresh interpreter (import-time tests)."""

from __future__ import annotations

import subprocess
import sys


def run_python(code: str) -> str:
    """Run ``code`` in a new interpreter, assert it succeeded, return its stdout."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()
