"""The app a real server imports: ``benchmarks.apps.served:app``.

The variant is named by the ``ERLEN_BENCH_APP`` environment variable (a key
of ``benchmarks.apps.FRAMEWORKS``), so one module path serves them all.
"""

from __future__ import annotations

import os

from benchmarks.apps import FRAMEWORKS

_NAME = os.environ.get("ERLEN_BENCH_APP", "")
if _NAME not in FRAMEWORKS:
    raise RuntimeError(
        f"ERLEN_BENCH_APP={_NAME!r} names no benchmarked app;"
        f" set it to one of {', '.join(FRAMEWORKS)}"
    )

app = FRAMEWORKS[_NAME].build()
