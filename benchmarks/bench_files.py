"""Benchmark: templates and static files, erlen against Flask, in-process WSGI.

Run as ``python -m benchmarks.bench_files [--quick]``. The same app is built
on Flask and on erlen: ``GET /page`` renders a template file (a 20-item
loop, autoescaped) and ``GET /static/site.css`` serves a 16 KiB static file,
plus the conditional request a browser sends next (``If-None-Match`` → 304).
Every timed request checks its status and body. Rounds are interleaved and
the median per framework is reported in µs per request, with the ratio of
erlen's time to Flask's.
"""

from __future__ import annotations

import argparse
import gc
import io
import pathlib
import platform
import statistics
import sys
import tempfile
import time
import typing as t

import flask

import erlen

TEMPLATE = """<!doctype html>
<title>{{ title }}</title>
<ul>
{% for item in items %}  <li class="{{ loop.cycle('odd', 'even') }}">{{ item }}</li>
{% endfor %}</ul>
"""
ITEMS = [f"item <{i}> & more" for i in range(20)]
CSS = ("body { margin: 0 auto; max-width: 40em; }\n" * 400)[: 16 * 1024].encode()


def build(module: t.Any, root: pathlib.Path) -> t.Any:
    app = module.Flask("bench_files", root_path=str(root))

    @app.route("/page")
    def page() -> t.Any:
        return module.render_template("page.html", title="Bench", items=ITEMS)

    return app


def make_root() -> pathlib.Path:
    root = pathlib.Path(tempfile.mkdtemp(prefix="erlen-bench-files-"))
    (root / "templates").mkdir()
    (root / "templates" / "page.html").write_text(TEMPLATE)
    (root / "static").mkdir()
    (root / "static" / "site.css").write_bytes(CSS)
    return root


def environ(path: str, headers: dict[str, str] | None = None) -> dict[str, t.Any]:
    env: dict[str, t.Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "localhost",
        "HTTP_ACCEPT": "text/html,*/*;q=0.8",
        "HTTP_USER_AGENT": "bench",
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in (headers or {}).items():
        env["HTTP_" + name.upper().replace("-", "_")] = value
    return env


def call(app: t.Any, env: dict[str, t.Any]) -> tuple[str, dict[str, str], bytes]:
    seen: list[t.Any] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc: t.Any = None
    ) -> t.Any:
        seen[:] = [status, dict(headers)]
        return None

    e = dict(env)
    e["wsgi.input"] = io.BytesIO()
    it = app(e, start_response)
    try:
        body = b"".join(it)
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            close()
    return seen[0], seen[1], body


def cases(app: t.Any) -> dict[str, tuple[dict[str, t.Any], str, bytes | None]]:
    status, headers, body = call(app, environ("/static/site.css"))
    assert status.startswith("200"), status
    assert body == CSS
    etag = headers["ETag"]
    _, _, page = call(app, environ("/page"))
    assert b"item &lt;19&gt; &amp; more" in page, page[:200]
    return {
        "template": (environ("/page"), "200", page),
        "static": (environ("/static/site.css"), "200", CSS),
        "static-304": (
            environ("/static/site.css", {"If-None-Match": etag}),
            "304",
            b"",
        ),
    }


def time_case(
    app: t.Any, env: dict[str, t.Any], status: str, body: bytes | None, n: int
) -> float:
    gc.collect()
    start = time.perf_counter()
    for _ in range(n):
        got_status, _, got_body = call(app, env)
        if not got_status.startswith(status) or got_body != body:
            raise AssertionError(f"wrong answer: {got_status} {got_body[:80]!r}")
    return (time.perf_counter() - start) / n * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    args = parser.parse_args(argv)
    rounds, n = (5, 300) if args.quick else (15, 1000)
    root = make_root()
    apps = {"flask": build(flask, root), "erlen": build(erlen, root)}
    table = {name: cases(app) for name, app in apps.items()}
    samples: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        for case in table["flask"]:
            for name, app in apps.items():
                env, status, body = table[name][case]
                samples.setdefault((case, name), []).append(
                    time_case(app, env, status, body, n)
                )
    print(
        f"Python {platform.python_version()}; median of {rounds} interleaved"
        f" rounds of {n} requests; µs per request (in-process WSGI)."
    )
    print()
    print("| endpoint | flask | erlen | erlen / flask |")
    print("|---|---:|---:|---:|")
    for case in table["flask"]:
        f = statistics.median(samples[(case, "flask")])
        e = statistics.median(samples[(case, "erlen")])
        print(f"| {case} | {f:.1f} | {e:.1f} | {e / f:.2f}x |")


if __name__ == "__main__":
    main()
