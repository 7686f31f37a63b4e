"""End-to-end benchmark: real servers on 127.0.0.1 loaded with wrk.

``python -m benchmarks e2e [--quick]``. Serves the plain-text, JSON and
path-parameter endpoints from gunicorn (sync worker), granian (WSGI and
ASGI) and uvicorn, one worker each, every app variant in its own server
process on a free loopback port. Each server is checked first (every
endpoint's answer verified over HTTP, as in-process), warmed up, then
loaded with ``wrk`` for a few seconds per sample; samples are interleaved
(each round loads every endpoint of every server once, in a rotated order)
and the median requests/s is reported with the ratio to the bare callable
under the same server, and any non-2xx answers or socket errors.

Servers are started and stopped by the script (SIGTERM, then SIGKILL of the
process group it created), each step bounded in time. uvicorn runs with its
pure-Python stack (``--http h11 --loop asyncio``) since neither httptools
nor uvloop is a dependency.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
from dataclasses import dataclass

from benchmarks import common as c
from benchmarks.inprocess import machine_meta

HOST = "127.0.0.1"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0

WSGI_APPS = ("bare-wsgi", "flask", "bottle", "falcon-wsgi", "erlen-wsgi")
ASGI_APPS = (
    "bare-asgi",
    "falcon-asgi",
    "starlette",
    "quart",
    "erlen-asgi-sync",
    "erlen-asgi-async",
)


def _py(*args: str) -> list[str]:
    return [sys.executable, "-m", *args]


_TARGET = "benchmarks.apps.served:app"

#: server -> (protocol, command with a {port} placeholder).
SERVERS: dict[str, tuple[str, list[str]]] = {
    "gunicorn": (
        "wsgi",
        _py(
            "gunicorn",
            "--bind",
            HOST + ":{port}",
            "--workers",
            "1",
            "--worker-class",
            "sync",
            "--log-level",
            "warning",
            _TARGET,
        ),
    ),
    "granian-wsgi": (
        "wsgi",
        _py(
            "granian",
            "--interface",
            "wsgi",
            "--host",
            HOST,
            "--port",
            "{port}",
            "--workers",
            "1",
            "--log-level",
            "warning",
            _TARGET,
        ),
    ),
    "granian-asgi": (
        "asgi",
        _py(
            "granian",
            "--interface",
            "asgi",
            "--host",
            HOST,
            "--port",
            "{port}",
            "--workers",
            "1",
            "--log-level",
            "warning",
            _TARGET,
        ),
    ),
    "uvicorn": (
        "asgi",
        _py(
            "uvicorn",
            "--host",
            HOST,
            "--port",
            "{port}",
            "--workers",
            "1",
            "--interface",
            "asgi3",
            "--http",
            "h11",
            "--loop",
            "asyncio",
            "--no-access-log",
            "--log-level",
            "warning",
            _TARGET,
        ),
    ),
}


class E2EFailure(Exception):
    """A server did not start, answered wrongly, or wrk failed."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """One app variant under one server, on its own port."""

    server: str
    app: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: str

    @property
    def key(self) -> str:
        return f"{self.server}/{self.app}"

    def log_tail(self) -> str:
        try:
            with open(self.log_path, "rb") as fh:
                return fh.read()[-2000:].decode(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop the server's process group: SIGTERM, then SIGKILL.

        :param timeout: how long the server may take to exit after SIGTERM.
        """
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(STOP_TIMEOUT)


def _on_cpus(cpus: set[int] | None) -> t.Callable[[], None] | None:
    """Return a ``preexec_fn`` confining a child (and its children) to ``cpus``."""
    if cpus is None:
        return None

    def confine() -> None:
        os.sched_setaffinity(0, cpus)

    return confine


def pinned_cpus() -> tuple[set[int], set[int]] | None:
    """Return the server's CPUs and wrk's for ``--pin`` (None with fewer than two).

    The server gets the first CPU this process may use, wrk the others.
    """
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        return None
    return {allowed[0]}, set(allowed[1:])


def start(
    server: str,
    app: str,
    log_dir: str,
    cpus: set[int] | None = None,
    *,
    prefix: t.Sequence[str] = (),
    env: t.Mapping[str, str] | None = None,
) -> Server:
    """Start ``app`` under ``server`` on a free loopback port (not yet ready).

    :param prefix: a command the server runs under (``valgrind ...``).
    :param env: extra environment variables for the server.
    """
    port = _free_port()
    cmd = [*prefix] + [part.replace("{port}", str(port)) for part in SERVERS[server][1]]
    # The checkout's own src/ first: a worktree's servers must load its erlen,
    # not the editable install's.
    full_env = dict(
        os.environ,
        ERLEN_BENCH_APP=app,
        PYTHONPATH=os.pathsep.join([str(c.ROOT / "src"), str(c.ROOT)]),
    )
    full_env.update(env or {})
    log_path = os.path.join(log_dir, f"{server}-{app}.log")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=str(c.ROOT),
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_on_cpus(cpus),
        )
    return Server(server, app, port, proc, log_path)


def request(port: int, ep: c.Endpoint) -> tuple[int, dict[str, str], bytes]:
    """Make one HTTP request for ``ep``; return status, headers, body."""
    conn = http.client.HTTPConnection(HOST, port, timeout=15)
    try:
        url = ep.path + (f"?{ep.query}" if ep.query else "")
        skip = ("host", "connection", "content-length")
        headers = {n: v for n, v in ep.headers if n not in skip}
        conn.request(ep.method, url, body=ep.body or None, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, c.header_dict(resp.getheaders()), body
    finally:
        conn.close()


def wait_ready(srv: Server, timeout: float = START_TIMEOUT) -> None:
    """Wait until the server answers; raise E2EFailure with its log if not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if srv.proc.poll() is not None:
            raise E2EFailure(f"{srv.key} exited at start:\n{srv.log_tail()}")
        try:
            request(srv.port, c.ENDPOINTS["hello"])
            return
        except OSError:
            time.sleep(0.2)
    raise E2EFailure(f"{srv.key} did not answer in {timeout:g}s:\n{srv.log_tail()}")


_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_REQUESTS = re.compile(r"(\d+) requests in ")
_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET = re.compile(
    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"
)
_LATENCY = re.compile(r"Latency\s+([\d.]+)(us|ms|s)")


def wrk(
    port: int,
    ep: c.Endpoint,
    seconds: float,
    connections: int,
    cpus: set[int] | None = None,
) -> dict:
    """Load one endpoint with wrk; return requests/s, errors and mean latency."""
    url = f"http://{HOST}:{port}{ep.path}" + (f"?{ep.query}" if ep.query else "")
    cmd = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "5s",
        "-H",
        "Accept: " + dict(ep.headers)["accept"],
        url,
    ]
    try:
        out = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            check=False,
            preexec_fn=_on_cpus(cpus),
        )
    except subprocess.TimeoutExpired:
        raise E2EFailure(f"wrk did not finish: {' '.join(cmd)}") from None
    if out.returncode != 0 or _RPS.search(out.stdout) is None:
        raise E2EFailure(f"wrk failed ({out.returncode}): {out.stdout}{out.stderr}")
    return parse_wrk(out.stdout)


def parse_wrk(text: str) -> dict[str, t.Any]:
    """Return requests/s, requests, error counts and mean latency from wrk's output."""
    m = _RPS.search(text)
    if m is None:
        raise E2EFailure(f"no Requests/sec in wrk's output: {text!r}")
    non2xx = _NON2XX.search(text)
    sock = _SOCKET.search(text)
    lat = _LATENCY.search(text)
    done = _REQUESTS.search(text)
    latency_ms = None
    if lat:
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[lat[2]]
        latency_ms = float(lat[1]) * scale
    return {
        "rps": float(m[1]),
        "requests": int(done[1]) if done else None,
        "non2xx": int(non2xx[1]) if non2xx else 0,
        "socket_errors": sum(int(x) for x in sock.groups()) if sock else 0,
        "latency_ms": latency_ms,
    }


def run(
    servers: list[str],
    *,
    rounds: int,
    seconds: float,
    connections: int,
    only: set[str] | None = None,
    log: t.Callable[[str], None] = print,
    pin: bool = False,
) -> dict[str, t.Any]:
    """Start the servers, check them, load them in interleaved rounds.

    With ``pin``, the servers run on one CPU and wrk on the others, so that
    the two do not take turns on the same core (see pinned_cpus).
    """
    cpus = pinned_cpus() if pin else None
    server_cpus, wrk_cpus = cpus if cpus is not None else (None, None)
    meta = machine_meta()
    meta.update(
        pinned=None
        if cpus is None
        else {"server": sorted(cpus[0]), "wrk": sorted(cpus[1])},
        kind="e2e",
        rounds=rounds,
        seconds=seconds,
        connections=connections,
        wrk_threads=1,
        endpoints=list(c.E2E_ENDPOINTS),
        wrk=_wrk_version(),
    )
    endpoints = [c.ENDPOINTS[e] for e in c.E2E_ENDPOINTS]
    failures: dict[str, str] = {}
    samples: dict[str, dict[str, list[dict]]] = {}
    running: list[Server] = []
    log_dir = tempfile.mkdtemp(prefix="erlen-e2e-")
    try:
        for server in servers:
            apps = WSGI_APPS if SERVERS[server][0] == "wsgi" else ASGI_APPS
            for app in apps:
                if only is None or app in only or app.startswith("bare-"):
                    running.append(start(server, app, log_dir, server_cpus))
        ready: list[Server] = []
        for srv in running:
            try:
                wait_ready(srv)
                for ep in endpoints:
                    ep.verify(*request(srv.port, ep))
                wrk(srv.port, endpoints[0], 1, connections, wrk_cpus)  # warm up
                ready.append(srv)
                log(f"ready {srv.key} on port {srv.port}")
            except Exception as exc:
                failures[srv.key] = f"{type(exc).__name__}: {exc}"
                log(f"FAIL {srv.key}: {exc}")
                srv.stop()
        for r in range(rounds):
            order = ready[r % len(ready) :] + ready[: r % len(ready)] if ready else []
            for ep in endpoints:
                for srv in order:
                    if srv.key in failures:
                        continue
                    try:
                        sample = wrk(srv.port, ep, seconds, connections, wrk_cpus)
                    except E2EFailure as exc:
                        failures[srv.key] = str(exc)
                        log(f"FAIL {srv.key}: {exc}")
                        continue
                    samples.setdefault(srv.key, {}).setdefault(ep.name, []).append(
                        sample
                    )
            log(f"round {r + 1}/{rounds} done")
    finally:
        for srv in running:
            srv.stop()
        shutil.rmtree(log_dir, ignore_errors=True)
    medians: dict[str, dict[str, float]] = {}
    errors: dict[str, dict[str, int]] = {}
    for key, per_ep in samples.items():
        for ep_name, values in per_ep.items():
            medians.setdefault(key, {})[ep_name] = statistics.median(
                v["rps"] for v in values
            )
            errors.setdefault(key, {})[ep_name] = sum(
                v["non2xx"] + v["socket_errors"] for v in values
            )
    return {
        "meta": meta,
        "servers": {s: SERVERS[s][0] for s in servers},
        "medians": medians,
        "errors": errors,
        "samples": samples,
        "failures": failures,
    }


def _wrk_version() -> str:
    try:
        out = subprocess.run(
            ["wrk", "--version"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (out.stdout or out.stderr).strip().splitlines()[0]


def floor_of(key: str) -> str:
    """Return the key of the bare callable under the same server as ``key``."""
    server = key.split("/", 1)[0]
    return f"{server}/bare-{SERVERS[server][0]}"


def table(data: dict[str, t.Any]) -> str:
    """Return a Markdown table of requests/s with the ratio to the bare app."""
    eps = data["meta"]["endpoints"]
    lines = [
        "| server | app | " + " | ".join(f"{e} req/s" for e in eps) + " | errors |",
        "|---|---|" + "---:|" * (len(eps) + 1),
    ]
    medians = data["medians"]
    keys = list(medians) + [k for k in data["failures"] if k not in medians]
    for key in sorted(keys, key=lambda k: list(SERVERS).index(k.split("/")[0])):
        server, app = key.split("/", 1)
        if key not in medians:
            lines.append(f"| {server} | {app} | " + "FAIL | " * len(eps) + " |")
            continue
        base = medians.get(floor_of(key), {})
        cells = []
        for ep in eps:
            rps = medians[key].get(ep)
            if rps is None:
                cells.append("")
            elif app.startswith("bare-") or ep not in base:
                cells.append(f"{rps:,.0f}")
            else:
                cells.append(f"{rps:,.0f} ({rps / base[ep]:.2f}x)")
        errs = sum(data["errors"].get(key, {}).values())
        lines.append(f"| {server} | {app} | " + " | ".join(cells) + f" | {errs} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the end-to-end benchmark; print the table; save the JSON results."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks e2e")
    parser.add_argument("--quick", action="store_true", help="2 rounds of 2 s")
    parser.add_argument("--servers", help="comma-separated: " + ",".join(SERVERS))
    parser.add_argument("--only", help="comma-separated app variants (bare added)")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--output")
    parser.add_argument(
        "--pin",
        action="store_true",
        help="run the servers on the first CPU and wrk on the others",
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print(
            "wrk is not installed: `apt-get install -y wrk` (Debian) and run again",
            file=sys.stderr,
        )
        return 2
    servers = list(SERVERS)
    if args.servers:
        servers = [s.strip() for s in args.servers.split(",") if s.strip()]
        unknown = [s for s in servers if s not in SERVERS]
        if unknown:
            parser.error(f"unknown server(s) {unknown}; known: {list(SERVERS)}")
    only = {a.strip() for a in args.only.split(",")} if args.only else None
    rounds, seconds = (2, 2.0) if args.quick else (3, 5.0)
    rounds = args.rounds or rounds
    seconds = args.seconds or seconds

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    data = run(
        servers,
        rounds=rounds,
        seconds=seconds,
        connections=args.connections,
        only=only,
        log=log,
        pin=args.pin,
    )
    data["meta"]["quick"] = args.quick
    c.RESULTS.mkdir(exist_ok=True)
    out = args.output or str(c.RESULTS / "e2e.json")
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1)
        fh.write("\n")
    print(
        f"wrk -t1 -c{args.connections}, {rounds} interleaved rounds of {seconds:g} s;"
        " median requests/s (ratio to the bare callable under the same server)\n"
    )
    print(table(data))
    if data["failures"]:
        print("\nFailures:")
        for key, msg in data["failures"].items():
            print(f"- {key}: {msg}")
    print(f"\nresults written to {out}")
    return 1 if data["failures"] else 0
