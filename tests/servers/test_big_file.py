"""A 200 MB file through gunicorn and uvicorn: bounded server memory, exact ranges.

The server imports ``app`` from this module; it serves the folder named by
``ERLEN_BIG_FILE_ROOT`` through its static route and through ``send_file``.
"""

from __future__ import annotations

import http.client
import os
import pathlib
import sys
import threading
import time
import typing as t

import pytest

import erlen

from .conftest import HOST
from .conftest import run_server
from .conftest import Server

pytestmark = pytest.mark.servers

SIZE = 200 * 1024 * 1024
TAIL = b"0123456789"
#: The most the serving process may grow while sending the file.
MAX_GROWTH = 20 * 1024 * 1024

app = erlen.Flask(
    "big_file_app", root_path=os.environ.get("ERLEN_BIG_FILE_ROOT", "/nonexistent")
)


@app.route("/")
def index() -> str:
    return "ok"


@app.route("/send")
def send() -> t.Any:
    return erlen.send_file("static/big.bin")


APP = f"{__name__}:app"

COMMANDS = {
    "gunicorn-sync": [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        HOST + ":{port}",
        "--workers",
        "1",
        "--worker-class",
        "sync",
        "--timeout",
        "120",
        APP,
    ],
    "uvicorn": [
        sys.executable,
        "-m",
        "uvicorn",
        "--host",
        HOST,
        "--port",
        "{port}",
        "--no-access-log",
        APP,
    ],
}


@pytest.fixture(scope="module")
def big_root(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    root = tmp_path_factory.mktemp("bigfile")
    (root / "static").mkdir()
    # Sparse: created instantly, reads as zeros, with a known tail.
    with open(root / "static" / "big.bin", "wb") as f:
        f.truncate(SIZE)
        f.seek(SIZE - len(TAIL))
        f.write(TAIL)
    return root


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def _worker_pid(server: Server) -> int:
    """Return the pid of the process that serves requests."""
    if server.name.startswith("gunicorn"):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            children = _children(server.proc.pid)
            if children:
                return children[0]
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn has no worker; its output:\n{server.log()}")
    return server.proc.pid


def _status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/status has no {field}")


def _download(port: int, path: str, headers: dict[str, str]) -> tuple[int, int, bytes]:
    """GET ``path``; return (status, bytes received, last 16 bytes)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=120)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        total = 0
        tail = b""
        while block := resp.read(1024 * 1024):
            total += len(block)
            tail = (tail + block)[-16:]
        return resp.status, total, tail
    finally:
        conn.close()


@pytest.fixture(scope="module", params=sorted(COMMANDS))
def big_server(
    request: pytest.FixtureRequest, big_root: pathlib.Path
) -> t.Iterator[Server]:
    name = str(request.param)
    protocol = "wsgi" if name.startswith("gunicorn") else "asgi"
    with run_server(
        name,
        COMMANDS[name],
        protocol,
        env={"ERLEN_BIG_FILE_ROOT": str(big_root)},
    ) as server:
        yield server


@pytest.mark.parametrize("path", ["/static/big.bin", "/send"])
def test_big_file_keeps_memory_flat(big_server: Server, path: str) -> None:
    pid = _worker_pid(big_server)
    # Warm up: imports and buffers that any first request allocates.
    status, total, tail = _download(big_server.port, path, {"Range": "bytes=-10"})
    assert status == 206
    before_rss = _status_kib(pid, "VmRSS") * 1024
    before_peak = _status_kib(pid, "VmHWM") * 1024
    samples: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append(_status_kib(pid, "VmRSS") * 1024)
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        status, total, tail = _download(big_server.port, path, {})
    finally:
        stop.set()
        sampler.join()
    after_peak = _status_kib(pid, "VmHWM") * 1024
    assert status == 200
    assert total == SIZE
    assert tail.endswith(TAIL)
    growth = max(max(samples, default=0) - before_rss, after_peak - before_peak)
    assert growth < MAX_GROWTH, (
        f"{big_server.name} grew by {growth / 2**20:.1f} MiB sending {path}"
    )


@pytest.mark.parametrize("path", ["/static/big.bin", "/send"])
@pytest.mark.parametrize(
    ("range_header", "expected"),
    [
        ("bytes=-10", TAIL),
        (f"bytes={SIZE - 10}-", TAIL),
        (f"bytes={SIZE - 12}-{SIZE - 9}", b"\0\x0001"),
    ],
)
def test_big_file_ranges(
    big_server: Server, path: str, range_header: str, expected: bytes
) -> None:
    reply = big_server.request("GET", path, headers={"Range": range_header})
    assert reply.status == 206
    assert reply.body == expected
    assert reply.headers["Content-Range"].endswith(f"/{SIZE}")
    assert reply.headers["Content-Length"] == str(len(expected))
