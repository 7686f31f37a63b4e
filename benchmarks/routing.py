"""Save the router benchmark (``benchmarks.bench_routing``) for the report.

``python -m benchmarks routing [--quick]`` runs the same measurement as
``python -m benchmarks.bench_routing`` (the last of N static or dynamic
routes, N = 10/100/1000, erlen against Werkzeug, Falcon and Bottle) and
writes ``benchmarks/results/routing.json``.
"""

from __future__ import annotations

import argparse
import json
import sys

from benchmarks import bench_routing
from benchmarks import common as c
from benchmarks.inprocess import machine_meta


def main(argv: list[str] | None = None) -> int:
    """Run the router benchmark; print and save the results."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks routing")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output")
    args = parser.parse_args(argv)
    rounds, number = (5, 2_000) if args.quick else (15, 10_000)
    results: dict[str, dict[str, dict[str, float]]] = {}
    for kind in ("static", "dynamic"):
        for n in bench_routing.SIZES:
            res = bench_routing.bench_routing_match(n, kind, rounds, number)
            results.setdefault(kind, {})[str(n)] = res
            print(
                f"{kind} N={n}: "
                + ", ".join(f"{k} {v:.2f} µs" for k, v in res.items()),
                file=sys.stderr,
            )
    meta = machine_meta()
    meta.update(kind="routing", rounds=rounds, number=number, quick=args.quick)
    data = {"meta": meta, "routers": list(bench_routing.ROUTERS), "results": results}
    c.RESULTS.mkdir(exist_ok=True)
    out = args.output or str(c.RESULTS / "routing.json")
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1)
        fh.write("\n")
    print(table(data))
    print(f"\nresults written to {out}")
    return 0


def table(data: dict) -> str:
    """Return the Markdown table: µs per match of the last route."""
    routers = data["routers"]
    lines = [
        "| routes | N | " + " | ".join(routers) + " |",
        "|---|---:|" + "---:|" * len(routers),
    ]
    for kind, per_n in data["results"].items():
        for n, res in per_n.items():
            lines.append(
                f"| {kind} | {n} | "
                + " | ".join(f"{res[r]:.2f}" for r in routers)
                + " |"
            )
    return "\n".join(lines)
