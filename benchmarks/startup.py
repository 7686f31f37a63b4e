"""Start-up and memory: import time, app creation, first request, peak RSS.

``python -m benchmarks startup [--quick]``. Each measurement runs in a fresh
interpreter (``python -m benchmarks.startup --worker NAME``), N times, and
the median is reported:

- *import*: ``time.perf_counter()`` around what a user's first line costs:
  importing the framework's module *and* getting its app class from it
  (``from erlen import Flask``, ``from flask import Flask``, ``from
  starlette.applications import Starlette``, ...; see :data:`IMPORTS`). The
  attribute access matters: a package that loads its names lazily (PEP 562)
  must not look fast just because ``import erlen`` alone defers the work.
  It is the first thing the worker does, so no shared dependency (Jinja2,
  ...) was imported before;
- *create*: building the benchmark app (the eleven endpoints plus 201
  ``/api/v<i>/items/<int:id>`` routes, hooks, template folder);
- *first request*: the first ``GET /`` (lazy router compilation and other
  first-request set-up included), checked like every benchmark answer;
- *peak RSS*: ``VmHWM`` from ``/proc/self/status`` after that request.

Bytecode: every worker runs with bytecode caching on, in a private cache
(``PYTHONPYCACHEPREFIX``, so the source tree stays clean), and a first
round of workers that is not counted fills it. Otherwise, with
``PYTHONDONTWRITEBYTECODE`` set (as in the dev environment), erlen's sources
would be compiled again in every worker while the installed frameworks load
their ``.pyc`` files: half of erlen's "import time" was the compiler.
Installed packages get compiled bytecode too, so this is what users see.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t

#: variant -> ``module:attribute``, the app class a user imports first
#: (``from module import attribute``); "" for the bare callables.
IMPORTS = {
    "bare-wsgi": "",
    "flask": "flask:Flask",
    "bottle": "bottle:Bottle",
    "falcon-wsgi": "falcon:App",
    "erlen-wsgi": "erlen:Flask",
    "bare-asgi": "",
    "falcon-asgi": "falcon.asgi:App",
    "starlette": "starlette.applications:Starlette",
    "quart": "quart:Quart",
    "erlen-asgi-sync": "erlen:Flask",
}

#: Where the workers keep their bytecode (see the module docstring).
PYCACHE = os.path.join(tempfile.gettempdir(), "erlen-benchmarks-pycache")


def _worker_env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPYCACHEPREFIX=PYCACHE)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _vmhwm_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def worker(name: str) -> dict[str, t.Any]:
    """Measure one variant in this (fresh) interpreter."""
    import importlib

    module, _, attribute = IMPORTS[name].partition(":")
    start = time.perf_counter()
    if module:
        getattr(importlib.import_module(module), attribute)
    imported = time.perf_counter()

    from benchmarks import common as c
    from benchmarks import inprocess
    from benchmarks.apps import FRAMEWORKS

    fw = FRAMEWORKS[name]
    ep = c.ENDPOINTS["hello"]
    ready = time.perf_counter()
    app = fw.build()
    built = time.perf_counter()
    if fw.protocol == "wsgi":
        inprocess.WSGICase(app, ep).verify()
        first = time.perf_counter()
    else:
        import asyncio

        loop = asyncio.new_event_loop()
        wrapped = inprocess.ASGIApp(app, loop)
        inprocess.ASGICase(wrapped, ep).verify()
        first = time.perf_counter()
        wrapped.close()
        loop.close()
    return {
        "import_ms": (imported - start) * 1000,
        "create_ms": (built - ready) * 1000,
        "first_request_ms": (first - built) * 1000,
        "peak_rss_mib": _vmhwm_kib() / 1024,
    }


def _baseline_rss() -> float:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "for l in open('/proc/self/status'):\n"
            "    if l.startswith('VmHWM:'): print(int(l.split()[1]))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return int(out.stdout) / 1024


def run(names: list[str], repeat: int, log: t.Callable[[str], None]) -> dict:
    """Run ``repeat`` fresh workers per variant, interleaved; return medians."""
    from benchmarks import common as c
    from benchmarks.inprocess import machine_meta

    samples: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    failures: dict[str, str] = {}
    env = _worker_env()
    # Round 0 fills the bytecode cache and is not counted.
    for r in range(repeat + 1):
        for name in names:
            if name in failures:
                continue
            proc = subprocess.run(
                [sys.executable, "-m", "benchmarks.startup", "--worker", name],
                capture_output=True,
                text=True,
                cwd=str(c.ROOT),
                env=env,
                timeout=120,
                check=False,
            )
            if proc.returncode != 0:
                failures[name] = proc.stderr[-2000:]
                log(f"FAIL {name}: {proc.stderr[-500:]}")
                continue
            if r:
                samples[name].append(json.loads(proc.stdout))
        log(f"round {r}/{repeat} done" + (" (warm-up, not counted)" if not r else ""))
    medians = {
        name: {key: statistics.median(s[key] for s in values) for key in values[0]}
        for name, values in samples.items()
        if values
    }
    meta = machine_meta()
    meta.update(
        kind="startup",
        repeat=repeat,
        baseline_rss_mib=_baseline_rss(),
        bytecode="cached (PYTHONPYCACHEPREFIX, warm-up round)",
    )
    return {"meta": meta, "imports": IMPORTS, "medians": medians, "failures": failures}


def table(data: dict[str, t.Any]) -> str:
    """Return the Markdown table of the start-up results."""
    lines = [
        "| app | import (module:class) | import time | create app (210 routes)"
        " | first request"
        " | peak RSS |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, m in data["medians"].items():
        lines.append(
            f"| {name} | `{data['imports'][name] or '-'}` | {m['import_ms']:.1f} ms"
            f" | {m['create_ms']:.1f} ms | {m['first_request_ms']:.1f} ms"
            f" | {m['peak_rss_mib']:.1f} MiB |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the start-up benchmark (or one worker); print and save the results."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks startup")
    parser.add_argument("--quick", action="store_true", help="5 runs, not 15")
    parser.add_argument("--repeat", type=int)
    parser.add_argument("--only", help="comma-separated variants")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--output")
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker)))
        return 0
    from benchmarks import common as c

    names = list(IMPORTS)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in IMPORTS]
        if unknown:
            parser.error(f"unknown variant(s) {unknown}; known: {list(IMPORTS)}")
    repeat = args.repeat or (5 if args.quick else 15)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    data = run(names, repeat, log)
    data["meta"]["quick"] = args.quick
    c.RESULTS.mkdir(exist_ok=True)
    out = args.output or str(c.RESULTS / "startup.json")
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1)
        fh.write("\n")
    base = data["meta"]["baseline_rss_mib"]
    print(
        f"median of {repeat} fresh interpreters;"
        f" bare `python` peak RSS {base:.1f} MiB\n"
    )
    print(table(data))
    med = data["medians"]
    if "erlen-wsgi" in med and "flask" in med:
        ratio = med["erlen-wsgi"]["import_ms"] / med["flask"]["import_ms"]
        print(f"\nfrom erlen import Flask / from flask import Flask = {ratio:.2f}")
    print(f"\nresults written to {out}")
    return 1 if data["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
