"""Start real WSGI/ASGI servers on loopback ports for the tests in this folder.

Every server runs as a subprocess of the test session, in its own process
group, bound to 127.0.0.1 on a free port. A fixture waits until the server
answers HTTP, and always stops it (SIGTERM, then SIGKILL of the group) even
when a test fails. Clients are stdlib only.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
APP = "tests.servers.app_under_test:app"
HOST = "127.0.0.1"

#: How long a server may take to start answering (the machine is shared).
START_TIMEOUT = 30.0
#: How long a server may take to stop after SIGTERM before it is killed.
STOP_TIMEOUT = 10.0
#: Timeout of every client socket operation.
CLIENT_TIMEOUT = 15.0


def _py(*args: str) -> list[str]:
    return [sys.executable, "-m", *args]


#: name -> (command with a {port} placeholder, protocol the app should see).
#: ``app`` is passed as the object itself everywhere: the servers that sniff
#: (uvicorn, hypercorn) decide the protocol from ``app.__call__``.
SERVERS: dict[str, tuple[list[str], str]] = {
    "gunicorn-sync": (
        _py(
            "gunicorn",
            "--bind",
            HOST + ":{port}",
            "--workers",
            "1",
            "--worker-class",
            "sync",
            "--timeout",
            "60",
            APP,
        ),
        "wsgi",
    ),
    "gunicorn-gthread": (
        _py(
            "gunicorn",
            "--bind",
            HOST + ":{port}",
            "--workers",
            "1",
            "--worker-class",
            "gthread",
            "--threads",
            "8",
            "--timeout",
            "60",
            APP,
        ),
        "wsgi",
    ),
    "uvicorn": (
        _py(
            "uvicorn",
            "--host",
            HOST,
            "--port",
            "{port}",
            "--no-access-log",
            "--lifespan",
            "on",
            APP,
        ),
        "asgi",
    ),
    "hypercorn-asgi": (
        _py("hypercorn", "--bind", HOST + ":{port}", "asgi:" + APP),
        "asgi",
    ),
    # Without the "asgi:" prefix hypercorn sniffs with inspect.iscoroutinefunction,
    # which honours erlen's marker only from Python 3.12 on; before that it
    # serves the same object through its WSGI adapter, which must work too.
    "hypercorn-auto": (
        _py("hypercorn", "--bind", HOST + ":{port}", APP),
        "asgi" if sys.version_info >= (3, 12) else "wsgi",
    ),
    "granian-asgi": (
        _py(
            "granian",
            "--interface",
            "asgi",
            "--host",
            HOST,
            "--port",
            "{port}",
            "--no-ws",
            APP,
        ),
        "asgi",
    ),
    "granian-wsgi": (
        _py(
            "granian",
            "--interface",
            "wsgi",
            "--host",
            HOST,
            "--port",
            "{port}",
            "--no-ws",
            APP,
        ),
        "wsgi",
    ),
}


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Return whether ``port`` on 127.0.0.1 can be bound."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
        return True


@dataclass
class Reply:
    """A response read by the stdlib client."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> object:
        import json

        return json.loads(self.body)


def http_request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    conn: http.client.HTTPConnection | None = None,
) -> Reply:
    """Send one request to 127.0.0.1:``port`` and read the whole response."""
    own = conn is None
    if conn is None:
        conn = http.client.HTTPConnection(HOST, port, timeout=CLIENT_TIMEOUT)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return Reply(resp.status, resp.headers, data)
    finally:
        if own:
            conn.close()


@dataclass
class Server:
    """A running server subprocess."""

    name: str
    port: int
    protocol: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        """Return what the server printed so far (for failure messages)."""
        return self.log_path.read_text(errors="replace")[-4000:]

    def request(self, method: str, path: str, **kwargs: object) -> Reply:
        """Send one request to this server on a new connection."""
        return http_request(self.port, method, path, **kwargs)  # type: ignore[arg-type]


def _wait_until_ready(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with code {server.proc.returncode} before"
                f" answering on port {server.port}; its output:\n{server.log()}"
            )
        conn = http.client.HTTPConnection(HOST, server.port, timeout=2.0)
        try:
            try:
                reply = http_request(server.port, "GET", "/", conn=conn)
            finally:
                conn.close()  # also when refused: no socket left to the GC
            if reply.status == 200:
                return
            last_error = RuntimeError(f"GET / answered {reply.status}")
        except OSError as e:
            last_error = e
        time.sleep(0.1)
    raise RuntimeError(
        f"{server.name} did not answer GET / on port {server.port} within"
        f" {START_TIMEOUT} s (last error: {last_error!r}); its output:\n{server.log()}"
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
    # The process leads its own group: sweep workers left behind (gunicorn's
    # and granian's), then reap the leader.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(STOP_TIMEOUT)


@contextlib.contextmanager
def run_server(
    name: str,
    command: list[str],
    protocol: str,
    port: int | None = None,
    cwd: Path = REPO,
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """Start ``command`` (``{port}`` filled in), wait until it answers, stop it after.

    A server that dies at start (say, the free port was taken in between) is
    retried on another port, at most three times.
    """
    attempts = 3 if port is None else 1
    with tempfile.TemporaryDirectory(prefix="erlen-server-") as tmp:
        for attempt in range(attempts):
            chosen = port if port is not None else free_port()
            log_path = Path(tmp) / f"{name.replace('/', '_')}-{attempt}.log"
            full_env = {
                **os.environ,
                "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}",
                "PYTHONUNBUFFERED": "1",
            }
            full_env.update(env or {})
            with open(log_path, "wb") as log:
                proc = subprocess.Popen(
                    [part.replace("{port}", str(chosen)) for part in command],
                    cwd=cwd,
                    env=full_env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            server = Server(name, chosen, protocol, proc, log_path)
            try:
                _wait_until_ready(server)
            except RuntimeError:
                _stop(proc)
                if attempt + 1 == attempts:
                    raise
                continue
            try:
                yield server
            finally:
                _stop(proc)
            return


@pytest.fixture(scope="session", params=sorted(SERVERS))
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """Serve ``app_under_test`` with each server in turn (one start per server)."""
    name = str(request.param)
    command, protocol = SERVERS[name]
    with run_server(name, command, protocol) as srv:
        yield srv


@pytest.fixture(scope="module")
def uvicorn_server() -> Iterator[Server]:
    """Serve ``app_under_test`` with uvicorn (ASGI)."""
    command, protocol = SERVERS["uvicorn"]
    with run_server("uvicorn", command, protocol) as srv:
        yield srv


@pytest.fixture(scope="module")
def gthread_server() -> Iterator[Server]:
    """Serve ``app_under_test`` with gunicorn's gthread worker, 8 threads."""
    command, protocol = SERVERS["gunicorn-gthread"]
    with run_server("gunicorn-gthread", command, protocol) as srv:
        yield srv
