"""Instructions per request, counted by valgrind: the same number on every run.

``python -m benchmarks instructions [--only ...] [--endpoints ...]`` (in-process)
or ``python -m benchmarks instructions --live [--servers uvicorn,gunicorn]``.
Timings on a shared machine flip between frameworks that are close; a
count of the CPU instructions executed does not: in-process, the same
checkout gives the same count to a few instructions per request, and two
checkouts of the same code agree within about 0.3% (memory layout).

In-process (the default): each (app variant, endpoint) runs in a worker
interpreter (``python -m benchmarks.instructions --worker ...``) under
``valgrind --tool=cachegrind --cache-sim=no`` (about half the run time of
callgrind, whose call graph is not needed here), with ``PYTHONHASHSEED=0``.
The worker drives the app with the in-process suite's own cases
(``inprocess.WSGICase`` / ``ASGICase``): the answer is verified twice,
then W warm-up requests and N counted requests are made, each answer
compared with the verified one, then verified again; any wrong answer
fails the run. It runs twice, with N counted requests and with none;
instructions per request = (I refs with N - I refs without) / N, so the
interpreter's start-up, the imports and the app's creation cancel out. A
native (not counted) run of the worker first checks the answers fast and
fills the bytecode cache (a private ``PYTHONPYCACHEPREFIX``), so that both
counted runs load the same ``.pyc`` files instead of one compiling them.
The worker's environment is fixed (nothing inherited), padded to a fixed
size, and it imports the checkout through a symbolic link of fixed length:
the size of the environment and the length of the checkout's path move
the counts otherwise (see :data:`ARG_ENV_BYTES`, :func:`checkout_link`).

Live (``--live``): the real server (uvicorn with h11 and asyncio, gunicorn's
sync worker; ``e2e.py``'s command lines) runs under ``valgrind
--tool=cachegrind --cache-sim=yes --branch-sim=yes`` and is loaded by
``wrk -t1 -c16`` twice, in two fresh server processes: for ``--warm``
seconds and for ``--warm`` + ``--seconds``. The per-request cost is the
difference of valgrind's totals (instructions, I1 and D1 misses, branch
mispredicts) divided by the difference of wrk's request counts. Both runs
start the server, open the same connections and leave about one request
per connection in flight when wrk stops (served, not counted by wrk), so
all of that cancels and what is left is the steady-state cost of a
request, server included. Under valgrind the server is about 50x slower:
it is given minutes to start, and about 1,500 requests are counted in 10 s.
A live count is not exact (the event loop's batching and its timers
depend on timing): repeated runs agree within about 1%. The
simulated caches are valgrind's model of this machine's, not measured
hardware events; use them to compare variants, not as absolute truths.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import hashlib
import importlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import typing as t

from benchmarks import common as c
from benchmarks import e2e
from benchmarks import inprocess
from benchmarks.apps import Framework
from benchmarks.apps import select
from benchmarks.startup import PYCACHE

#: The endpoints counted unless ``--endpoints`` says otherwise.
DEFAULT_ENDPOINTS = ("hello", "json", "params")
#: Counted requests and warm-up requests per in-process worker.
REQUESTS = 1000
WARMUP = 50
#: The bytes of the worker's arguments and environment strings, padded to
#: this size. They sit at the top of the initial stack, so their size sets
#: the alignment of everything on the stack below, and with it the work of
#: memcpy and friends: a checkout's longer path, or a bigger environment,
#: moved a count by up to 0.6%. Padded, every checkout and shell count alike.
ARG_ENV_BYTES = 4096
#: Seconds one worker may take under valgrind.
WORKER_TIMEOUT = 600.0

INPROCESS_TOOL = [
    "valgrind",
    "--tool=cachegrind",
    "--cache-sim=no",
    "--cachegrind-out-file=/dev/null",
]
LIVE_TOOL = [
    "valgrind",
    "--tool=cachegrind",
    "--cache-sim=yes",
    "--branch-sim=yes",
    "--cachegrind-out-file=/dev/null",
]
#: Live mode: seconds of load of the short run, and added for the long one.
LIVE_WARM = 2.0
LIVE_SECONDS = 10.0
#: A server under valgrind starts and stops slowly.
LIVE_START_TIMEOUT = 300.0
LIVE_STOP_TIMEOUT = 120.0
LIVE_SERVERS = ("uvicorn", "gunicorn")

#: valgrind's summary lines -> our metric names. ``I1 misses`` and ``D1
#: misses`` are read and written misses together; ``mispredicts`` are of
#: conditional and indirect branches.
_SUMMARY = {
    "I refs": "instructions",
    "I1 misses": "i1_misses",
    "LLi misses": "lli_misses",
    "D refs": "data_refs",
    "D1 misses": "d1_misses",
    "LLd misses": "lld_misses",
    "LL misses": "ll_misses",
    "Branches": "branches",
    "Mispredicts": "mispredicts",
}
_SUMMARY_LINE = re.compile(r"^==\d+== (\S+(?: +\S+)?) *: +([\d,]+)", re.MULTILINE)
#: The live table's columns: metric, heading.
LIVE_COLUMNS = (
    ("instructions", "instructions"),
    ("i1_misses", "I1 misses"),
    ("d1_misses", "D1 misses"),
    ("mispredicts", "branch mispredicts"),
)


class InstructionsFailure(Exception):
    """valgrind or wrk is missing, a worker failed, or its output is unreadable."""


def parse_summary(text: str) -> dict[str, int]:
    """Return the totals of valgrind's cachegrind summary (on its stderr or log).

    Keys are the values of :data:`_SUMMARY` present in ``text``; the first
    process's summary wins if there are several.
    """
    out: dict[str, int] = {}
    for label, value in _SUMMARY_LINE.findall(text):
        name = _SUMMARY.get(" ".join(label.split()))
        if name is not None and name not in out:
            out[name] = int(value.replace(",", ""))
    return out


def require_tools(live: bool) -> None:
    """Raise :class:`InstructionsFailure` naming the missing tool and its package."""
    needed = ["valgrind"] + (["wrk"] if live else [])
    for tool in needed:
        if shutil.which(tool) is None:
            raise InstructionsFailure(
                f"{tool} is not installed, and instruction counts need it:"
                f" `apt-get install -y {tool}` (Debian) and run again"
            )


def _version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    lines = (out.stdout or out.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


def _meta(**extra: t.Any) -> dict[str, t.Any]:
    meta = inprocess.machine_meta()
    meta.update(
        kind="instructions",
        valgrind=_version(["valgrind", "--version"]),
        git=_version(["git", "-C", str(c.ROOT), "describe", "--always", "--dirty"]),
        pythonhashseed=0,
    )
    meta.update(extra)
    return meta


# --- in-process ------------------------------------------------------------------


def builder_path(fw: Framework) -> str:
    """Return ``module:attribute`` of the factory a worker calls to build ``fw``.

    :raise ValueError: if the variant's builder is not importable by name
        (a lambda or a function defined inside another).
    """
    if fw.builder is None:
        return f"benchmarks.apps.{fw.module}:{fw.factory}"
    module = getattr(fw.builder, "__module__", None)
    qualname = getattr(fw.builder, "__qualname__", "")
    if not module or not qualname or "<" in qualname:
        raise ValueError(
            f"the builder of {fw.name!r} ({fw.builder!r}) must be a module-level"
            " function: the worker imports it by name"
        )
    return f"{module}:{qualname}"


def _import_factory(path: str) -> t.Callable[[], t.Any]:
    module, _, attribute = path.partition(":")
    obj: t.Any = importlib.import_module(module)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return t.cast(t.Callable[[], t.Any], obj)


def _drive(case: t.Any, warmup: int, requests: int) -> None:
    # verify() checks the whole answer (status, hook header, body); batch()
    # compares each answer with the verified one. The only difference between
    # the two counted runs is ``requests``.
    case.verify()
    case.verify()
    case.batch(warmup)
    case.batch(requests)
    case.verify()


def worker(
    builder: str, protocol: str, endpoint: str, warmup: int, requests: int
) -> None:
    """Build the app, then make the checked warm-up and counted requests.

    Runs in the interpreter that valgrind counts; raises on a wrong answer.
    """
    app = _import_factory(builder)()
    ep = c.ENDPOINTS[endpoint]
    if protocol == "wsgi":
        _drive(inprocess.WSGICase(app, ep), warmup, requests)
        return
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        wrapped = inprocess.ASGIApp(app, loop)
        _drive(inprocess.ASGICase(wrapped, ep), warmup, requests)
        wrapped.close()
    finally:
        loop.close()
        asyncio.set_event_loop(None)


def checkout_link() -> pathlib.Path:
    """Return a path of fixed length that is a symbolic link to this checkout.

    Workers import the checkout through it, since the length of the
    checkout's path moves the counts: every module's file name, and so the
    heap's layout, grows with it. Two checkouts at /work/wt-instr and at a
    path 35 characters longer differed by 0.7% on the bare callable
    without the link, and by 0.1-0.2% with it (what is left is the
    resolved path that benchmarks.common keeps).
    """
    digest = hashlib.sha256(os.fsencode(c.ROOT)).hexdigest()[:16]
    link = pathlib.Path(tempfile.gettempdir()) / f"erlen-instructions-{digest}"
    if not link.is_symlink():
        with contextlib.suppress(FileExistsError):  # another run made it
            link.symlink_to(c.ROOT, target_is_directory=True)
    if link.resolve() != c.ROOT:
        raise InstructionsFailure(f"{link} does not point to {c.ROOT}: remove it")
    return link


def _worker_env(argv: t.Sequence[str], root: pathlib.Path) -> dict[str, str]:
    """Return the worker's environment: fixed, and padded to :data:`ARG_ENV_BYTES`.

    Nothing is inherited from the caller's environment, whose size would
    otherwise move the counts (see :data:`ARG_ENV_BYTES`).
    """
    env = {
        "PATH": os.defpath,
        "LC_ALL": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONPYCACHEPREFIX": PYCACHE,
        # The checkout's own src/ first, as e2e.start does.
        "PYTHONPATH": os.pathsep.join([str(root / "src"), str(root)]),
    }
    used = sum(len(os.fsencode(a)) + 1 for a in argv) + sum(
        len(os.fsencode(k)) + len(os.fsencode(v)) + 2 for k, v in env.items()
    )
    pad = ARG_ENV_BYTES - used - len("ERLEN_PAD=") - 1
    if pad < 0:
        raise InstructionsFailure(
            f"the worker's command line and environment take {used} bytes, more"
            f" than ARG_ENV_BYTES ({ARG_ENV_BYTES}): raise it"
        )
    env["ERLEN_PAD"] = "x" * pad
    return env


def _worker_error(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if not re.match(r"==\d+==", ln)]
    for line in lines:
        if line.startswith("FAIL: "):
            return line[len("FAIL: ") :]
    return "\n".join(lines[-15:]) or "the worker failed without a message"


def _run_worker(
    builder: str,
    protocol: str,
    endpoint: str,
    warmup: int,
    requests: int,
    tool: t.Sequence[str] = (),
) -> str:
    """Run one worker (under ``tool`` if given); return its stderr."""
    argv = [
        sys.executable,
        "-m",
        "benchmarks.instructions",
        "--worker",
        builder,
        "--protocol",
        protocol,
        "--endpoint",
        endpoint,
        "--warmup",
        str(warmup),
        "--requests",
        str(requests),
    ]
    # The environment has no PATH of the caller's: find valgrind with it.
    cmd = [shutil.which(tool[0]) or tool[0], *tool[1:], *argv] if tool else argv
    try:
        proc = subprocess.run(
            cmd,
            # Not the checkout: python -m puts the working directory first
            # on sys.path, and os.getcwd() resolves the link.
            cwd="/",
            env=_worker_env(argv, checkout_link()),
            capture_output=True,
            text=True,
            timeout=WORKER_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise InstructionsFailure(
            f"the worker took more than {WORKER_TIMEOUT:g}s: {' '.join(cmd)}"
        ) from None
    if proc.returncode != 0:
        raise InstructionsFailure(_worker_error(proc.stderr))
    return proc.stderr


def count_pair(
    fw: Framework, endpoint: str, warmup: int, requests: int
) -> tuple[int, int]:
    """Return valgrind's instruction totals without and with the counted requests.

    :raise InstructionsFailure: on a wrong answer or an unreadable summary.
    """
    builder = builder_path(fw)
    # Natively first: a wrong answer fails fast, and the bytecode cache is
    # filled for both counted runs.
    _run_worker(builder, fw.protocol, endpoint, warmup, 0)
    totals = []
    for n in (0, requests):
        stderr = _run_worker(builder, fw.protocol, endpoint, warmup, n, INPROCESS_TOOL)
        summary = parse_summary(stderr)
        if "instructions" not in summary:
            raise InstructionsFailure(f"no valgrind summary in: {stderr[-1000:]}")
        totals.append(summary["instructions"])
    return totals[0], totals[1]


def run_inprocess(
    frameworks: list[Framework],
    endpoints: list[str],
    *,
    requests: int = REQUESTS,
    warmup: int = WARMUP,
    jobs: int = 2,
    log: t.Callable[[str], None] = print,
) -> dict[str, t.Any]:
    """Count the instructions per request of every (framework, endpoint).

    :param jobs: workers run at once (the counts do not depend on it).
    :return: JSON data: ``counts`` (framework -> endpoint -> instructions per
        request), ``totals`` (the two runs' totals), ``failures``.
    """
    require_tools(live=False)
    data: dict[str, t.Any] = {
        "meta": _meta(
            mode="in-process",
            tool=" ".join(INPROCESS_TOOL),
            requests=requests,
            warmup=warmup,
            endpoints=list(endpoints),
        ),
        "frameworks": {
            fw.name: {
                "protocol": fw.protocol,
                "floor": fw.floor,
                "description": fw.description,
            }
            for fw in frameworks
        },
        "counts": {},
        "totals": {},
        "failures": {},
    }
    pairs = [(fw, ep) for fw in frameworks for ep in endpoints]
    totals: dict[tuple[str, str], tuple[int, int]] = {}
    with concurrent.futures.ThreadPoolExecutor(max(1, jobs)) as pool:
        futures = {
            pool.submit(count_pair, fw, ep, warmup, requests): (fw, ep)
            for fw, ep in pairs
        }
        for future in concurrent.futures.as_completed(futures):
            fw, ep = futures[future]
            try:
                totals[fw.name, ep] = a, b = future.result()
            except (InstructionsFailure, ValueError) as exc:
                data["failures"].setdefault(fw.name, {})[ep] = str(exc)
                log(f"FAIL {fw.name} {ep}: {exc}")
                continue
            log(f"{fw.name} {ep}: {(b - a) / requests:,.0f} instructions/request")
    # In report order, whatever order the workers finished in.
    for fw, ep in pairs:
        if (fw.name, ep) in totals:
            a, b = totals[fw.name, ep]
            data["totals"].setdefault(fw.name, {})[ep] = [a, b]
            data["counts"].setdefault(fw.name, {})[ep] = round((b - a) / requests, 1)
    return data


def ratios(data: dict[str, t.Any], name: str) -> dict[str, float]:
    """Return a variant's instructions per request as a multiple of its floor's."""
    return inprocess.ratios(data, name, "counts")


def inprocess_table(
    data: dict[str, t.Any], names: t.Sequence[str] | None = None
) -> str:
    """Return a Markdown table: instructions per request (ratio to the floor)."""
    return inprocess.ratio_table(
        data, names, key="counts", number="{:,.0f}", ratio="{:.2f}x"
    )


# --- live ------------------------------------------------------------------------


def _process_summaries(log_dir: pathlib.Path) -> dict[int, dict[str, int]]:
    """Return the cachegrind summary of every process valgrind logged (by pid)."""
    out = {}
    for path in log_dir.glob("valgrind-*.log"):
        summary = parse_summary(path.read_text(errors="replace"))
        if "instructions" in summary:
            out[int(path.stem.rsplit("-", 1)[1])] = summary
    return out


def live_once(
    server: str, app: str, ep: c.Endpoint, seconds: float, connections: int
) -> dict[str, t.Any]:
    """Serve ``app`` under valgrind, load it for ``seconds``; return the totals.

    :return: wrk's sample (``requests``...) and ``summary``, the cachegrind
        totals of the process that served the requests (gunicorn's worker,
        not its master).
    :raise e2e.E2EFailure: if the server fails, answers wrongly or errs.
    :raise InstructionsFailure: if valgrind's summary is missing.
    """
    with tempfile.TemporaryDirectory(prefix="erlen-instructions-") as tmp:
        log_dir = pathlib.Path(tmp)
        prefix = [*LIVE_TOOL, f"--log-file={log_dir / 'valgrind-%p.log'}"]
        srv = e2e.start(server, app, tmp, prefix=prefix, env={"PYTHONHASHSEED": "0"})
        try:
            e2e.wait_ready(srv, timeout=LIVE_START_TIMEOUT)
            ep.verify(*e2e.request(srv.port, ep))
            sample = e2e.wrk(srv.port, ep, seconds, connections)
        finally:
            srv.stop(timeout=LIVE_STOP_TIMEOUT)
        if sample["non2xx"] or sample["socket_errors"]:
            raise e2e.E2EFailure(
                f"{srv.key} {ep.name}: {sample['non2xx']} non-2xx answers and"
                f" {sample['socket_errors']} socket errors under wrk"
            )
        if not sample.get("requests"):
            raise e2e.E2EFailure(f"{srv.key} {ep.name}: wrk reported no requests")
        summaries = _process_summaries(log_dir)
        # gunicorn: the master forks the worker that serves; skip the master.
        served = {pid: s for pid, s in summaries.items() if pid != srv.proc.pid}
        if not served and srv.proc.pid in summaries:
            served = summaries
        if len(served) != 1:
            raise InstructionsFailure(
                f"{srv.key}: expected one serving process under valgrind, found"
                f" summaries for pids {sorted(summaries)} (master {srv.proc.pid}):"
                f"\n{srv.log_tail()}"
            )
        (summary,) = served.values()
        return {**sample, "summary": summary}


def run_live(
    servers: list[str],
    apps: set[str] | None,
    endpoints: list[str],
    *,
    warm: float = LIVE_WARM,
    seconds: float = LIVE_SECONDS,
    connections: int = 16,
    log: t.Callable[[str], None] = print,
) -> dict[str, t.Any]:
    """Count the per-request cost of each app under each server (see module doc).

    :param apps: app variants (their server's bare floor is added); None: all.
    :return: JSON data: ``counts`` (``server/app`` -> endpoint -> metric ->
        per request), ``runs`` (both runs' requests and totals), ``failures``.
    """
    require_tools(live=True)
    data: dict[str, t.Any] = {
        "meta": _meta(
            mode="live",
            tool=" ".join(LIVE_TOOL),
            warm_seconds=warm,
            seconds=seconds,
            connections=connections,
            wrk_threads=1,
            wrk=e2e._wrk_version(),
            endpoints=list(endpoints),
        ),
        "servers": {s: e2e.SERVERS[s][0] for s in servers},
        "counts": {},
        "runs": {},
        "failures": {},
    }
    for server in servers:
        protocol = e2e.SERVERS[server][0]
        names = e2e.WSGI_APPS if protocol == "wsgi" else e2e.ASGI_APPS
        for app in names:
            if apps is not None and app not in apps and not app.startswith("bare-"):
                continue
            key = f"{server}/{app}"
            for name in endpoints:
                ep = c.ENDPOINTS[name]
                try:
                    short = live_once(server, app, ep, warm, connections)
                    long = live_once(server, app, ep, warm + seconds, connections)
                    n = long["requests"] - short["requests"]
                    if n <= 0:
                        raise InstructionsFailure(
                            f"the long run served no more requests ({long['requests']})"
                            f" than the short one ({short['requests']})"
                        )
                except (e2e.E2EFailure, InstructionsFailure) as exc:
                    data["failures"].setdefault(key, {})[name] = str(exc)
                    log(f"FAIL {key} {name}: {exc}")
                    continue
                per = {
                    metric: (long["summary"][metric] - short["summary"][metric]) / n
                    for metric in long["summary"]
                    if metric in short["summary"]
                }
                data["counts"].setdefault(key, {})[name] = {
                    **{k: round(v, 1) for k, v in per.items()},
                    "requests": n,
                }
                data["runs"].setdefault(key, {})[name] = [short, long]
                log(
                    f"{key} {name}: {per['instructions']:,.0f} instructions/request"
                    f" over {n} requests"
                )
    return data


def live_table(data: dict[str, t.Any]) -> str:
    """Return a Markdown table of the live per-request costs."""
    lines = [
        "| server | app | endpoint | "
        + " | ".join(head for _, head in LIVE_COLUMNS)
        + " | vs bare (instructions) | requests counted |",
        "|---|---|---|" + "---:|" * (len(LIVE_COLUMNS) + 2),
    ]
    keys = list(data["counts"]) + [
        k for k in data["failures"] if k not in data["counts"]
    ]
    for key in keys:
        server, app = key.split("/", 1)
        floor = e2e.floor_of(key)
        for ep in data["meta"]["endpoints"]:
            got = data["counts"].get(key, {}).get(ep)
            if got is None:
                if ep in data["failures"].get(key, {}):
                    lines.append(
                        f"| {server} | {app} | {ep} | "
                        + "FAIL | " * (len(LIVE_COLUMNS) + 2)
                    )
                continue
            cells = [f"{got[m]:,.0f}" for m, _ in LIVE_COLUMNS]
            base = data["counts"].get(floor, {}).get(ep)
            ratio = (
                ""
                if key == floor or base is None
                else f"{got['instructions'] / base['instructions']:.2f}x"
            )
            lines.append(
                f"| {server} | {app} | {ep} | "
                + " | ".join(cells)
                + f" | {ratio} | {got['requests']} |"
            )
    return "\n".join(lines)


# --- command line ----------------------------------------------------------------


def _endpoints(
    parser: argparse.ArgumentParser, names: str | None, default: t.Sequence[str]
) -> list[str]:
    wanted = (
        [e.strip() for e in names.split(",") if e.strip()] if names else list(default)
    )
    unknown = [e for e in wanted if e not in c.ENDPOINTS]
    if unknown:
        parser.error(
            f"unknown endpoint(s) {', '.join(unknown)}; known: {', '.join(c.ENDPOINTS)}"
        )
    return wanted


def main(argv: list[str] | None = None) -> int:
    """Count instructions per request; print the table; save the JSON results."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks instructions",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument("--live", action="store_true", help="real servers + wrk")
    parser.add_argument("--only", help="comma-separated app variants (floors added)")
    parser.add_argument(
        "--endpoints",
        help="comma-separated endpoints (default: hello,json,params; live: hello)",
    )
    parser.add_argument(
        "-n", "--requests", type=int, default=REQUESTS, help="counted requests"
    )
    parser.add_argument("--warmup", type=int, default=WARMUP, help="warm-up requests")
    parser.add_argument("--jobs", type=int, default=2, help="workers run at once")
    parser.add_argument(
        "--servers", help="live: comma-separated, of " + ",".join(LIVE_SERVERS)
    )
    parser.add_argument(
        "--warm", type=float, default=LIVE_WARM, help="live: seconds of the short run"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=LIVE_SECONDS,
        help="live: seconds the long run adds",
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--output", help="where to write the JSON results")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--protocol", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        try:
            worker(
                args.worker, args.protocol, args.endpoint, args.warmup, args.requests
            )
        except Exception as exc:
            print(f"FAIL: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        return 0

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    try:
        if args.live:
            servers = list(LIVE_SERVERS)
            if args.servers:
                servers = [s.strip() for s in args.servers.split(",") if s.strip()]
                unknown = [s for s in servers if s not in LIVE_SERVERS]
                if unknown:
                    parser.error(
                        f"unknown server(s) {unknown}; known: {list(LIVE_SERVERS)}"
                    )
            apps = None
            if args.only:
                apps = {a.strip() for a in args.only.split(",") if a.strip()}
                unknown = sorted(apps - set(e2e.WSGI_APPS) - set(e2e.ASGI_APPS))
                if unknown:
                    parser.error(f"unknown app variant(s) {unknown}")
            data = run_live(
                servers,
                apps,
                _endpoints(parser, args.endpoints, ("hello",)),
                warm=args.warm,
                seconds=args.seconds,
                connections=args.connections,
                log=log,
            )
        else:
            data = run_inprocess(
                select(args.only),
                _endpoints(parser, args.endpoints, DEFAULT_ENDPOINTS),
                requests=args.requests,
                warmup=args.warmup,
                jobs=args.jobs,
                log=log,
            )
    except InstructionsFailure as exc:
        print(exc, file=sys.stderr)
        return 2
    c.RESULTS.mkdir(exist_ok=True)
    default = "instructions-live.json" if args.live else "instructions.json"
    out = args.output or str(c.RESULTS / default)
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1)
        fh.write("\n")
    meta = data["meta"]
    print(
        f"{meta['valgrind']} ({meta['tool']}), Python {meta['python']}, {meta['git']}"
    )
    if args.live:
        print(
            f"wrk -t1 -c{args.connections}: runs of {args.warm:g} s and"
            f" {args.warm + args.seconds:g} s; per request\n"
        )
        print(live_table(data))
    else:
        print(
            f"{args.warmup} warm-up + {args.requests} counted requests;"
            " instructions per request (ratio to the bare callable of the same"
            " protocol)\n"
        )
        print(inprocess_table(data))
    if data["failures"]:
        print("\nFailures:")
        for name, fails in data["failures"].items():
            for ep, msg in fails.items():
                print(f"- {name} {ep}: {msg}")
    print(f"\nresults written to {out}")
    return 1 if data["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
