"""In-process benchmark: every app called directly as a WSGI or ASGI callable.

WSGI: a prebuilt environ is copied per request, the body is a fresh
``BytesIO``, the response iterable is consumed and closed. ASGI: one event
loop reused for the whole run (lifespan started once per app, as a server
does), a minimal ``receive`` that hands over the body and then reports a
disconnect only once the response is complete, a ``send`` that collects
the messages, and a per-request copy of the lifespan state as uvicorn does.

Self-checking: before it is timed, and again after, every (framework,
endpoint) answer is verified (status, the hooks' header, body; see
``common.Endpoint.verify``); inside the timed loop each answer's status and
exact body bytes are compared with the verified ones. A wrong answer is a
reported failure, never a number.

Timing: ``gc.collect()`` before every round; rounds are interleaved (each
round times every endpoint of every framework once, the frameworks in a
rotated order); a sample is the mean over a batch calibrated to a fixed
duration; the result is the median of the samples, in µs per request.
"""

from __future__ import annotations

import asyncio
import gc
import io
import json
import math
import platform
import statistics
import sys
import time
import typing as t
from dataclasses import dataclass
from dataclasses import field

from benchmarks import common as c
from benchmarks.apps import Framework

#: (interleaved rounds, seconds per sample) of a full and a quick run.
FULL = (20, 0.040)
QUICK = (7, 0.008)
#: The smallest batch: a sample is never a single request.
MIN_BATCH = 5


class BenchmarkFailure(Exception):
    """A framework gave a wrong answer, or failed to build or run."""


# --- WSGI ----------------------------------------------------------------------


def _wsgi_write(data: bytes) -> None:
    raise BenchmarkFailure("the benchmark's start_response has no write() support")


class WSGICase:
    """One endpoint of one WSGI app."""

    def __init__(self, app: t.Any, ep: c.Endpoint) -> None:
        self.app = app
        self.ep = ep
        self.environ = c.wsgi_environ(ep)
        self.expected_status = ""
        self.expected_body = b""

    def call(self) -> tuple[int, dict[str, str], bytes]:
        """Make one request; return status code, headers, body."""
        captured: list[t.Any] = [None, None]

        def start_response(
            status: str, headers: t.Any, exc_info: t.Any = None
        ) -> t.Any:
            captured[0], captured[1] = status, headers
            return _wsgi_write

        env = self.environ.copy()
        env["wsgi.input"] = io.BytesIO(self.ep.body)
        it = self.app(env, start_response)
        try:
            out = b"".join(it)
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()
        if captured[0] is None:
            raise BenchmarkFailure(f"{self.ep.name}: start_response was never called")
        return int(captured[0][:3]), c.header_dict(captured[1]), out

    def verify(self) -> None:
        """Check one full answer and remember its status line and body."""
        status, headers, body = self.call()
        self.ep.verify(status, headers, body)
        self.expected_status = str(status)
        self.expected_body = body

    def batch(self, n: int) -> float:
        """Return the seconds taken by ``n`` checked requests."""
        app, body, expected_body = self.app, self.ep.body, self.expected_body
        expected_status = self.expected_status
        copy = self.environ.copy
        bytes_io = io.BytesIO
        join = b"".join
        captured: list[t.Any] = [None]

        def start_response(
            status: str, headers: t.Any, exc_info: t.Any = None
        ) -> t.Any:
            captured[0] = status
            return _wsgi_write

        start = time.perf_counter()
        for _ in range(n):
            env = copy()
            env["wsgi.input"] = bytes_io(body)
            it = app(env, start_response)
            try:
                out = join(it)
            finally:
                close = getattr(it, "close", None)
                if close is not None:
                    close()
            if out != expected_body or captured[0][:3] != expected_status:
                raise BenchmarkFailure(
                    f"{self.ep.name}: answer changed while timed:"
                    f" {captured[0]!r} {out[:200]!r}"
                )
        return time.perf_counter() - start


# --- ASGI ----------------------------------------------------------------------


class _Exchange:
    """The receive/send pair of one ASGI request."""

    __slots__ = ("body", "sent_body", "status", "headers", "chunks", "done", "waiter")

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.sent_body = False
        self.status = 0
        self.headers: t.Any = ()
        self.chunks: list[bytes] = []
        self.done = False
        self.waiter: asyncio.Future[None] | None = None

    async def receive(self) -> dict[str, t.Any]:
        if not self.sent_body:
            self.sent_body = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        # NOTE: as a server does, a second receive() waits until the response
        # is complete (or the client goes away) before reporting a disconnect.
        if not self.done:
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, t.Any]) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = message["status"]
            self.headers = message.get("headers", ())
        elif kind == "http.response.body":
            self.chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                self.done = True
                if self.waiter is not None and not self.waiter.done():
                    self.waiter.set_result(None)


class ASGIApp:
    """An ASGI app with its lifespan started on the shared loop."""

    def __init__(self, app: t.Any, loop: asyncio.AbstractEventLoop) -> None:
        self.app = app
        self.loop = loop
        self.state: dict[str, t.Any] = {}
        self._queue: asyncio.Queue[dict[str, t.Any]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._sent: asyncio.Queue[dict[str, t.Any]] | None = None
        loop.run_until_complete(self._startup())

    async def _startup(self) -> None:
        self._queue, self._sent = asyncio.Queue(), asyncio.Queue()
        scope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": self.state,
        }
        self._task = asyncio.ensure_future(
            self.app(scope, self._queue.get, self._sent.put)
        )
        await self._queue.put({"type": "lifespan.startup"})
        got = asyncio.ensure_future(self._sent.get())
        await asyncio.wait({got, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if not got.done():
            # The app ended the lifespan scope without answering (or raised):
            # servers take that as "lifespan not supported" and go on.
            got.cancel()
            if not self._task.cancelled():
                self._task.exception()  # retrieved: no "never retrieved" log
            self._task = None
            return
        message = got.result()
        if message["type"] != "lifespan.startup.complete":
            raise BenchmarkFailure(f"lifespan startup failed: {message!r}")

    def close(self) -> None:
        """Run the lifespan shutdown."""
        task, queue = self._task, self._queue
        if task is None or task.done() or queue is None:
            return

        async def shutdown() -> None:
            await queue.put({"type": "lifespan.shutdown"})
            await asyncio.wait({task}, timeout=5)
            if not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=5)

        self.loop.run_until_complete(shutdown())


class ASGICase:
    """One endpoint of one ASGI app."""

    def __init__(self, app: ASGIApp, ep: c.Endpoint) -> None:
        self.app = app
        self.ep = ep
        self.scope = c.asgi_scope(ep)
        self.expected_status = 0
        self.expected_body = b""

    async def _call(self) -> _Exchange:
        scope = self.scope.copy()
        scope["state"] = self.app.state.copy()
        ex = _Exchange(self.ep.body)
        await self.app.app(scope, ex.receive, ex.send)
        return ex

    def call(self) -> tuple[int, dict[str, str], bytes]:
        """Make one request; return status code, headers, body."""
        ex = self.app.loop.run_until_complete(self._call())
        if not ex.status:
            raise BenchmarkFailure(f"{self.ep.name}: no http.response.start was sent")
        if not ex.done:
            raise BenchmarkFailure(f"{self.ep.name}: the response body never ended")
        return ex.status, c.header_dict(ex.headers), b"".join(ex.chunks)

    def verify(self) -> None:
        """Check one full answer and remember its status and body."""
        status, headers, body = self.call()
        self.ep.verify(status, headers, body)
        self.expected_status = status
        self.expected_body = body

    async def _batch(self, n: int) -> float:
        app, scope, state = self.app.app, self.scope, self.app.state
        body, expected_body = self.ep.body, self.expected_body
        expected_status = self.expected_status
        exchange = _Exchange
        join = b"".join
        start = time.perf_counter()
        for _ in range(n):
            s = scope.copy()
            s["state"] = state.copy()
            ex = exchange(body)
            await app(s, ex.receive, ex.send)
            if ex.status != expected_status or join(ex.chunks) != expected_body:
                raise BenchmarkFailure(
                    f"{self.ep.name}: answer changed while timed:"
                    f" {ex.status!r} {join(ex.chunks)[:200]!r}"
                )
        return time.perf_counter() - start

    def batch(self, n: int) -> float:
        """Return the seconds taken by ``n`` checked requests."""
        return self.app.loop.run_until_complete(self._batch(n))


# --- the run -------------------------------------------------------------------


@dataclass
class Results:
    """Medians (µs per request) and failures of one in-process run."""

    meta: dict[str, t.Any]
    #: framework -> endpoint -> median µs per request.
    medians: dict[str, dict[str, float]] = field(default_factory=dict)
    #: framework -> endpoint -> every sample (µs per request).
    samples: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    #: framework -> endpoint (or "*") -> error message.
    failures: dict[str, dict[str, str]] = field(default_factory=dict)
    #: framework -> protocol / floor / description.
    frameworks: dict[str, dict[str, str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, t.Any]:
        """Return the results as plain JSON data."""
        return {
            "meta": self.meta,
            "frameworks": self.frameworks,
            "medians": self.medians,
            "samples": self.samples,
            "failures": self.failures,
        }


def machine_meta() -> dict[str, t.Any]:
    """Return what a result page must state about where it was measured."""
    import os

    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "platform": platform.platform(terse=True),
        "nproc": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "versions": package_versions(),
    }


def package_versions() -> dict[str, str]:
    """Return the installed versions of the benchmarked packages."""
    from importlib import metadata

    names = (
        "erlen flask werkzeug bottle falcon starlette quart jinja2 python-multipart"
        " gunicorn granian uvicorn"
    ).split()
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _build_cases(
    frameworks: list[Framework],
    endpoints: list[c.Endpoint],
    loop: asyncio.AbstractEventLoop,
    results: Results,
    log: t.Callable[[str], None],
) -> tuple[dict[tuple[str, str], t.Any], list[ASGIApp]]:
    cases: dict[tuple[str, str], t.Any] = {}
    asgi_apps: list[ASGIApp] = []
    for fw in frameworks:
        results.frameworks[fw.name] = {
            "protocol": fw.protocol,
            "floor": fw.floor,
            "description": fw.description,
        }
        try:
            app = fw.build()
            if fw.protocol == "asgi":
                wrapped = ASGIApp(app, loop)
                asgi_apps.append(wrapped)
        except Exception as exc:
            results.failures.setdefault(fw.name, {})["*"] = f"build failed: {exc!r}"
            log(f"FAIL {fw.name}: build failed: {exc!r}")
            continue
        for ep in endpoints:
            case = WSGICase(app, ep) if fw.protocol == "wsgi" else ASGICase(wrapped, ep)
            try:
                case.verify()
                case.verify()  # twice: state left by the first call must not matter
            except Exception as exc:
                msg = f"{type(exc).__name__}: {exc}"
                results.failures.setdefault(fw.name, {})[ep.name] = msg
                log(f"FAIL {fw.name} {ep.name}: {msg}")
                continue
            cases[fw.name, ep.name] = case
    return cases, asgi_apps


def _calibrate(case: t.Any, seconds: float) -> int:
    """Return a batch size whose run takes about ``seconds``.

    Two passes: grow the batch until it takes a quarter of ``seconds``, then
    time the estimated size once more and re-estimate, so that one slow
    first call (a lazy set-up, a GC pause) cannot leave a tiny batch.
    """
    n = 1
    took = case.batch(n)
    while took < seconds / 4 and n < 1_000_000:
        n *= 4
        took = case.batch(n)
    estimate = max(MIN_BATCH, math.ceil(n * seconds / max(took, 1e-9)))
    took = case.batch(estimate)
    return max(MIN_BATCH, math.ceil(estimate * seconds / max(took, 1e-9)))


def run(
    frameworks: list[Framework],
    endpoints: list[c.Endpoint],
    *,
    rounds: int,
    seconds: float,
    log: t.Callable[[str], None] = print,
) -> Results:
    """Verify, then time every endpoint of every framework; return the results.

    :param rounds: interleaved rounds; the median over them is reported.
    :param seconds: the duration of one sample (one batch of requests).
    """
    results = Results(meta=machine_meta())
    results.meta.update(
        kind="in-process",
        rounds=rounds,
        sample_seconds=seconds,
        endpoints=[ep.name for ep in endpoints],
        timer="time.perf_counter (wall clock)",
    )
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        cases, asgi_apps = _build_cases(frameworks, endpoints, loop, results, log)
        sizes = {}
        for key, case in cases.items():
            try:
                sizes[key] = _calibrate(case, seconds)
            except Exception as exc:
                results.failures.setdefault(key[0], {})[key[1]] = repr(exc)
                log(f"FAIL {key[0]} {key[1]}: {exc!r}")
        results.meta["batch_sizes"] = {f"{f}/{e}": n for (f, e), n in sizes.items()}
        names = [fw.name for fw in frameworks]
        samples: dict[tuple[str, str], list[float]] = {key: [] for key in sizes}
        for r in range(rounds):
            gc.collect()
            order = names[r % len(names) :] + names[: r % len(names)]
            for ep in endpoints:
                for name in order:
                    key = (name, ep.name)
                    if key not in sizes:
                        continue
                    n = sizes[key]
                    try:
                        samples[key].append(cases[key].batch(n) / n * 1e6)
                    except Exception as exc:
                        results.failures.setdefault(name, {})[ep.name] = repr(exc)
                        log(f"FAIL {name} {ep.name}: {exc!r}")
                        del sizes[key]
            log(f"round {r + 1}/{rounds} done")
        for key, case in cases.items():
            if key not in sizes:
                continue
            try:
                case.verify()
            except Exception as exc:
                results.failures.setdefault(key[0], {})[key[1]] = repr(exc)
                log(f"FAIL {key[0]} {key[1]} after timing: {exc!r}")
                continue
            values = samples[key]
            results.samples.setdefault(key[0], {})[key[1]] = [
                round(v, 4) for v in values
            ]
            results.medians.setdefault(key[0], {})[key[1]] = statistics.median(values)
        for wrapped in asgi_apps:
            wrapped.close()
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    return results


# --- summaries -------------------------------------------------------------------


def geomean(values: t.Iterable[float]) -> float:
    """Return the geometric mean of positive values (nan if there are none)."""
    vals = list(values)
    if not vals:
        return math.nan
    return math.exp(sum(math.log(v) for v in vals) / len(vals))


def ratios(
    results: dict[str, t.Any], name: str, key: str = "medians"
) -> dict[str, float]:
    """Return a variant's per-endpoint cost as a multiple of its floor's.

    :param key: the results' field of per-variant, per-endpoint numbers
        (``"counts"`` for the instruction counts).
    """
    floor = results["frameworks"][name]["floor"]
    mine = results[key].get(name, {})
    base = results[key].get(floor, {})
    return {ep: v / base[ep] for ep, v in mine.items() if base.get(ep)}


def ratio_table(
    results: dict[str, t.Any],
    names: t.Sequence[str] | None = None,
    *,
    key: str = "medians",
    number: str = "{:.1f}",
    ratio: str = "{:.1f}x",
    missing: str = "",
    geomean_label: str = "geomean vs floor",
) -> str:
    """Return a Markdown table: each variant's number per endpoint (ratio to the floor).

    One table for every suite's results (timings, instruction counts): the
    variants in ``names`` (all when None) that the results hold, a cell
    ``FAIL`` where a variant failed and ``missing`` where it has no number,
    and a last row with each variant's geometric mean ratio.
    """
    endpoints = results["meta"]["endpoints"]
    names = [n for n in (names or results["frameworks"]) if n in results["frameworks"]]
    lines = [
        "| endpoint | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for ep in endpoints:
        cells = []
        for name in names:
            value = results[key].get(name, {}).get(ep)
            if value is None:
                failed = results["failures"].get(name, {})
                cells.append("FAIL" if ep in failed or "*" in failed else missing)
                continue
            r = ratios(results, name, key).get(ep)
            is_floor = name == results["frameworks"][name]["floor"]
            cells.append(
                number.format(value)
                if is_floor or r is None
                else f"{number.format(value)} ({ratio.format(r)})"
            )
        lines.append(f"| {ep} | " + " | ".join(cells) + " |")
    cells = []
    for name in names:
        rs = ratios(results, name, key)
        mark = "" if len(rs) == len(endpoints) else " (partial)"
        cells.append(f"**{geomean(rs.values()):.2f}x**{mark}" if rs else "")
    lines.append(f"| {geomean_label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def table(results: dict[str, t.Any]) -> str:
    """Return a Markdown table: µs per request and the ratio to the floor."""
    return ratio_table(results)


def main(argv: list[str] | None = None) -> int:
    """Run the in-process suite; print the table; save the JSON results."""
    import argparse

    from benchmarks.apps import select

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="a short run (< 1 min)")
    parser.add_argument("--only", help="comma-separated frameworks (floors added)")
    parser.add_argument("--endpoints", help="comma-separated endpoints")
    parser.add_argument("--rounds", type=int, help="interleaved rounds")
    parser.add_argument("--seconds", type=float, help="duration of one sample")
    parser.add_argument("--output", help="where to write the JSON results")
    args = parser.parse_args(argv)

    frameworks = select(args.only)
    if args.endpoints:
        wanted = [e.strip() for e in args.endpoints.split(",") if e.strip()]
        unknown = [e for e in wanted if e not in c.ENDPOINTS]
        if unknown:
            parser.error(
                f"unknown endpoint(s) {', '.join(unknown)};"
                f" known: {', '.join(c.ENDPOINTS)}"
            )
        endpoints = [c.ENDPOINTS[e] for e in wanted]
    else:
        endpoints = list(c.ENDPOINTS.values())
    rounds, seconds = QUICK if args.quick else FULL
    rounds = args.rounds or rounds
    seconds = args.seconds or seconds
    quiet = not sys.stderr.isatty()

    def log(msg: str) -> None:
        if not quiet or msg.startswith("FAIL"):
            print(msg, file=sys.stderr, flush=True)

    res = run(frameworks, endpoints, rounds=rounds, seconds=seconds, log=log)
    res.meta["quick"] = args.quick
    data = res.to_json()
    if args.output:
        out = args.output
    else:
        c.RESULTS.mkdir(exist_ok=True)
        partial = args.quick or args.only or args.endpoints
        out = str(
            c.RESULTS / ("inprocess-partial.json" if partial else "inprocess.json")
        )
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1)
        fh.write("\n")
    print(
        f"Python {res.meta['python']}, {res.meta['nproc']} CPUs, {rounds} rounds"
        f" of {seconds * 1000:.0f} ms samples; µs per request (ratio to the bare"
        f" callable of the same protocol)\n"
    )
    print(table(data))
    if res.failures:
        print("\nFailures:")
        for name, fails in res.failures.items():
            for ep, msg in fails.items():
                print(f"- {name} {ep}: {msg}")
    print(f"\nresults written to {out}")
    return 1 if res.failures else 0
