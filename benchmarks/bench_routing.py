"""Benchmark: cost of matching the last of N routes, erlen against other routers.

Run as ``python -m benchmarks.bench_routing [--quick]``. For N static and N
dynamic routes (N = 10, 100, 1000) it times one match of the *last* route in
erlen (``MapAdapter.match``), Werkzeug (same API), Falcon
(``CompiledRouter.find``) and Bottle (``Router.match``). Every timed call
checks its result. Rounds are interleaved (each round times every router
once, in turn) and the median per router is reported, in microseconds per
match, with the ratio to Werkzeug.
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import sys
import timeit
import typing as t

import bottle
import werkzeug.routing as wz
from falcon.routing import CompiledRouter

import erlen.routing as er

SIZES = (10, 100, 1000)
ROUTERS = ("erlen", "werkzeug", "falcon", "bottle")


class _Resource:
    def on_get(self, req: t.Any, resp: t.Any, **params: t.Any) -> None:
        """Respond to GET (never called: only the router is measured)."""


def _static(i: int) -> str:
    return f"/static{i}/page"


def _dynamic_path(i: int) -> str:
    return f"/resource{i}/42/item/hello"


def _werkzeug_like(mod: t.Any, n: int, kind: str) -> t.Callable[[], None]:
    if kind == "static":
        rules = [mod.Rule(_static(i), endpoint=f"e{i}") for i in range(n)]
        path, expected = _static(n - 1), (f"e{n - 1}", {})
    else:
        rules = [
            mod.Rule(f"/resource{i}/<int:id>/item/<slug>", endpoint=f"e{i}")
            for i in range(n)
        ]
        path, expected = (
            _dynamic_path(n - 1),
            (f"e{n - 1}", {"id": 42, "slug": "hello"}),
        )
    adapter = mod.Map(rules).bind("example.com")
    match = adapter.match

    def run() -> None:
        if match(path) != expected:
            raise AssertionError(f"{mod.__name__} matched {match(path)!r}")

    return run


def _falcon(n: int, kind: str) -> t.Callable[[], None]:
    router = CompiledRouter()
    resources = [_Resource() for _ in range(n)]
    for i, resource in enumerate(resources):
        if kind == "static":
            router.add_route(_static(i), resource)
        else:
            router.add_route(f"/resource{i}/{{id:int}}/item/{{slug}}", resource)
    if kind == "static":
        path, params = _static(n - 1), {}
    else:
        path, params = _dynamic_path(n - 1), {"id": 42, "slug": "hello"}
    last = resources[-1]
    find = router.find

    def run() -> None:
        found = find(path)
        if found is None or found[0] is not last or found[2] != params:
            raise AssertionError(f"falcon matched {found!r}")

    return run


def _bottle(n: int, kind: str) -> t.Callable[[], None]:
    router = bottle.Router()
    for i in range(n):
        if kind == "static":
            router.add(_static(i), "GET", f"e{i}")
        else:
            router.add(f"/resource{i}/<id:int>/item/<slug>", "GET", f"e{i}")
    if kind == "static":
        path, expected = _static(n - 1), (f"e{n - 1}", {})
    else:
        path, expected = (
            _dynamic_path(n - 1),
            (f"e{n - 1}", {"id": 42, "slug": "hello"}),
        )
    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET"}
    match = router.match

    def run() -> None:
        if match(environ) != expected:
            raise AssertionError(f"bottle matched {match(environ)!r}")

    return run


def _make(router: str, n: int, kind: str) -> t.Callable[[], None]:
    if router == "erlen":
        return _werkzeug_like(er, n, kind)
    if router == "werkzeug":
        return _werkzeug_like(wz, n, kind)
    if router == "falcon":
        return _falcon(n, kind)
    return _bottle(n, kind)


def bench_routing_match(
    n: int, kind: str, rounds: int, number: int
) -> dict[str, float]:
    """Return the median µs per match of the last route, per router."""
    runs = {name: _make(name, n, kind) for name in ROUTERS}
    for run in runs.values():
        run()  # warm up: compile the routers, check the result once
    samples: dict[str, list[float]] = {name: [] for name in ROUTERS}
    gc.collect()
    for _ in range(rounds):
        for name, run in runs.items():
            seconds = timeit.timeit(run, number=number)
            samples[name].append(seconds / number * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}


def main(argv: list[str] | None = None) -> int:
    """Print the Markdown comparison table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    args = parser.parse_args(argv)
    rounds, number = (5, 2_000) if args.quick else (15, 10_000)

    print(
        f"Python {platform.python_version()} on {platform.machine()};"
        f" median of {rounds} interleaved rounds of {number} matches;"
        " µs per match of the last route (ratio = Werkzeug / router)."
    )
    print()
    print("| routes | N | erlen | Werkzeug | Falcon | Bottle |")
    print("|---|---:|---:|---:|---:|---:|")
    results: dict[tuple[str, int], dict[str, float]] = {}
    for kind in ("static", "dynamic"):
        for n in SIZES:
            res = bench_routing_match(n, kind, rounds, number)
            results[kind, n] = res
            base = res["werkzeug"]
            cells = [
                f"{res[name]:.2f} ({base / res[name]:.1f}x)"
                if name != "werkzeug"
                else f"{base:.2f}"
                for name in ROUTERS
            ]
            print(f"| {kind} | {n} | " + " | ".join(cells) + " |")
    print()
    for kind in ("static", "dynamic"):
        flat = results[kind, SIZES[-1]]["erlen"] / results[kind, SIZES[0]]["erlen"]
        print(f"erlen {kind}: N={SIZES[-1]} costs {flat:.2f}x N={SIZES[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
