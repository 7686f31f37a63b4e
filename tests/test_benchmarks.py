"""The benchmark suite measures, and refuses to time a wrong answer."""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import sys
import typing as t

import pytest
from benchmarks import common as c
from benchmarks import e2e
from benchmarks import inprocess
from benchmarks import instructions
from benchmarks import report
from benchmarks.apps import Framework
from benchmarks.apps import FRAMEWORKS
from benchmarks.apps import select
from benchmarks.apps.bare import build_asgi
from benchmarks.apps.bare import build_wsgi

HELLO = c.ENDPOINTS["hello"]
JSON = c.ENDPOINTS["json"]


def _variant(name: str, protocol: str, builder: object) -> Framework:
    floor = f"bare-{protocol}"
    return Framework(name, protocol, "", "", floor, "test app", builder=builder)


def _wrong_body_wsgi() -> object:
    """Answer like the bare app, but with a different greeting."""
    good = build_wsgi()

    def app(environ: dict, start_response: object) -> list[bytes]:
        body = b"".join(good(environ, start_response))
        return [body.replace(b"World", b"Moon")]

    return app


def _no_hook_wsgi() -> object:
    """Answer the right body but drop the after-request hook's header."""
    good = build_wsgi()

    def app(environ: dict, start_response: t.Any) -> list[bytes]:
        def strip(status: str, headers: list, exc_info: object = None) -> object:
            headers = [(n, v) for n, v in headers if n.lower() != c.HOOK_HEADER]
            return start_response(status, headers, exc_info)

        return good(environ, strip)

    return app


def _wrong_status_asgi() -> object:
    """Answer every request with a 500."""
    good = build_asgi()

    async def app(scope: dict, receive: object, send: object) -> None:
        if scope["type"] != "http":
            await good(scope, receive, send)
            return

        async def send_500(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "status": 500}
            await send(message)

        await good(scope, receive, send_500)

    return app


def _flaky_wsgi() -> object:
    """Answer correctly for the self-check, then wrongly once timed."""
    good = build_wsgi()
    calls = [0]

    def app(environ: dict, start_response: object) -> list[bytes]:
        calls[0] += 1
        body = b"".join(good(environ, start_response))
        return [body if calls[0] <= 2 else body.upper()]

    return app


def _wrong_when_counted_wsgi() -> object:
    """Answer correctly for the checks and the warm-up, then wrongly.

    With ``warmup=2`` the worker makes 5 requests besides the counted ones:
    the native run passes, and only valgrind's run with counted requests
    sees a wrong answer.
    """
    good = build_wsgi()
    calls = [0]

    def app(environ: dict, start_response: object) -> list[bytes]:
        calls[0] += 1
        body = b"".join(good(environ, start_response))
        return [body if calls[0] <= 5 else body.upper()]

    return app


def _run_benchmarks(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``python -m benchmarks ARGS`` from the checkout; return the process."""
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args],
        cwd=str(c.ROOT),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_quick_run_produces_numbers(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "quick.json"
    proc = _run_benchmarks(
        "--quick",
        "--only",
        "erlen-wsgi",
        "--endpoints",
        "hello,json",
        "--rounds",
        "2",
        "--seconds",
        "0.002",
        "--output",
        str(out),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text())
    assert set(data["medians"]) == {"bare-wsgi", "erlen-wsgi"}
    for name in ("bare-wsgi", "erlen-wsgi"):
        assert set(data["medians"][name]) == {"hello", "json"}
        assert all(us > 0 for us in data["medians"][name].values())
        assert all(len(s) == 2 for s in data["samples"][name].values())
    assert data["failures"] == {}
    assert data["meta"]["rounds"] == 2
    assert data["meta"]["python"]
    assert "| hello |" in proc.stdout
    assert "geomean vs floor" in proc.stdout
    assert inprocess.ratios(data, "erlen-wsgi")["hello"] > 0


@pytest.mark.parametrize(
    ("builder", "protocol", "message"),
    [
        (_wrong_body_wsgi, "wsgi", "expected body"),
        (_no_hook_wsgi, "wsgi", "after-request hook"),
        (_wrong_status_asgi, "asgi", "expected status 200, got 500"),
    ],
)
def test_wrong_answer_is_reported_not_timed(
    builder: object, protocol: str, message: str
) -> None:
    broken = _variant("broken", protocol, builder)
    floor = FRAMEWORKS[f"bare-{protocol}"]
    logged: list[str] = []
    res = inprocess.run(
        [floor, broken], [HELLO, JSON], rounds=1, seconds=0.001, log=logged.append
    )
    assert message in res.failures["broken"]["hello"]
    assert "broken" not in res.medians
    # The correct floor is still measured.
    assert set(res.medians[floor.name]) == {"hello", "json"}
    assert any(line.startswith("FAIL broken hello") for line in logged)


def test_answer_changing_while_timed_is_reported() -> None:
    broken = _variant("flaky", "wsgi", _flaky_wsgi)
    res = inprocess.run([broken], [HELLO], rounds=1, seconds=0.001, log=lambda m: None)
    assert "answer changed while timed" in res.failures["flaky"]["hello"]
    assert "flaky" not in res.medians


def test_self_check_raises_on_wrong_answer() -> None:
    case = inprocess.WSGICase(_wrong_body_wsgi(), HELLO)
    with pytest.raises(c.CheckFailed, match="expected body b'Hello, World!'"):
        case.verify()
    inprocess.WSGICase(build_wsgi(), HELLO).verify()  # the bare app is right


def test_build_failure_is_reported() -> None:
    def boom() -> object:
        raise ImportError("no such framework")

    res = inprocess.run(
        [_variant("gone", "wsgi", boom)], [HELLO], rounds=1, seconds=0.001, log=print
    )
    assert "no such framework" in res.failures["gone"]["*"]


def test_every_endpoint_of_the_floors_passes_its_check() -> None:
    # The floors are what every ratio is divided by: they must be right too.
    res = inprocess.run(
        select("bare-wsgi,bare-asgi"),
        list(c.ENDPOINTS.values()),
        rounds=1,
        seconds=0.0005,
        log=lambda m: None,
    )
    assert res.failures == {}
    assert set(res.medians["bare-asgi"]) == set(c.ENDPOINTS)


def test_select_adds_floors_and_rejects_unknown_names() -> None:
    assert [fw.name for fw in select("erlen-asgi-async")] == [
        "bare-asgi",
        "erlen-asgi-async",
    ]
    with pytest.raises(SystemExit, match="unknown framework"):
        select("nope")


LAYERS = ("layer-contexts", "layer-contexts-g", "layer-response")


@pytest.mark.parametrize("name", LAYERS)
def test_layer_variants_answer_as_the_bare_callable(name: str) -> None:
    # Every endpoint, the whole answer: the same status, headers (by name)
    # and body as the bare callable's, and stable over a batch.
    app = FRAMEWORKS[name].build()
    bare = build_wsgi()
    for ep in c.ENDPOINTS.values():
        case = inprocess.WSGICase(app, ep)
        case.verify()
        assert case.call() == inprocess.WSGICase(bare, ep).call(), ep.name
        case.batch(3)


def test_layer_variants_push_the_lean_way_and_clean_up() -> None:
    from benchmarks.apps import layers

    import erlen
    import erlen.ctx

    app = layers._erlen_app()
    assert app._erlen_lean
    ctx = erlen.ctx.push_lean(app, c.wsgi_environ(HELLO))
    try:
        assert ctx._cv_tokens
    finally:
        erlen.ctx.pop_lean(ctx, None)
    for name in LAYERS:
        inprocess.WSGICase(FRAMEWORKS[name].build(), HELLO).verify()
        # Popped: no context is left behind for the next request.
        assert not erlen.has_request_context()
        assert not erlen.has_app_context()


def test_layer_variants_are_opt_in() -> None:
    default = [fw.name for fw in select(None)]
    assert not any(n.startswith("layer-") for n in default)
    assert "erlen-wsgi" in default
    assert [fw.name for fw in FRAMEWORKS.values() if not fw.default] == list(LAYERS)
    assert report.LAYERS == LAYERS
    assert [fw.name for fw in select("layer-response,layer-contexts")] == [
        "bare-wsgi",
        "layer-contexts",
        "layer-response",
    ]
    # Not served end to end (nor counted live) either.
    assert not set(LAYERS) & set(e2e.WSGI_APPS + e2e.ASGI_APPS)
    assert instructions.builder_path(FRAMEWORKS["layer-contexts-g"]) == (
        "benchmarks.apps.layers:build_contexts_g"
    )


def test_report_renders_tables_and_targets(tmp_path: pathlib.Path) -> None:
    data = inprocess.run(
        select("erlen-wsgi"), [HELLO, JSON], rounds=1, seconds=0.001, log=print
    ).to_json()
    md = report.render(data, None, None, None, chart_written=False)
    assert "| **geomean vs bare** |" in md
    assert "in-process WSGI geomean <= 3.5x bare" in md
    assert "erlen-wsgi" in md
    png = tmp_path / "chart.png"
    assert report.chart(data, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_parse_wrk_output() -> None:
    text = """Running 2s test @ http://127.0.0.1:8000/
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   612.50us  100.00us   2.00ms   90.00%
    Req/Sec    26.00k     1.00k   27.00k    80.00%
  52000 requests in 2.00s, 7.00MB read
  Socket errors: connect 0, read 3, write 0, timeout 1
  Non-2xx or 3xx responses: 5
Requests/sec:  25990.12
Transfer/sec:      3.50MB
"""
    got = e2e.parse_wrk(text)
    assert got == {
        "rps": 25990.12,
        "requests": 52000,
        "non2xx": 5,
        "socket_errors": 4,
        "latency_ms": pytest.approx(0.6125),
    }
    with pytest.raises(e2e.E2EFailure, match="no Requests/sec"):
        e2e.parse_wrk("wrk: connection refused")


def test_bench_files_checks_every_answer() -> None:
    import flask
    from benchmarks import bench_files

    import erlen

    root = bench_files.make_root()
    for module in (flask, erlen):
        app = bench_files.build(module, root)
        table = bench_files.cases(app)
        assert set(table) == {"template", "static", "static-304"}
        env, status, body = table["static"]
        assert bench_files.time_case(app, env, status, body, 3) > 0
        # A wrong expected answer is caught inside the timed loop.
        with pytest.raises(AssertionError, match="wrong answer"):
            bench_files.time_case(app, env, status, b"not the file", 1)


# --- instruction counts (valgrind) ------------------------------------------------


def _require_valgrind() -> None:
    # Not a skip: on CI a missing valgrind must fail, as a missing redis-server.
    if shutil.which("valgrind") is None:
        pytest.fail(
            "valgrind is not installed, and the instruction-count tests need it."
            " Install Debian's package: apt-get install valgrind (.ci/run does this)."
        )


def test_instructions_counts_bare_below_erlen(tmp_path: pathlib.Path) -> None:
    _require_valgrind()
    out = tmp_path / "instructions.json"
    proc = _run_benchmarks(
        "instructions",
        "--only",
        "erlen-wsgi",
        "--endpoints",
        "hello",
        "-n",
        "20",
        "--warmup",
        "5",
        "--output",
        str(out),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text())
    counts = data["counts"]
    assert set(counts) == {"bare-wsgi", "erlen-wsgi"}
    assert 0 < counts["bare-wsgi"]["hello"] < counts["erlen-wsgi"]["hello"]
    a, b = data["totals"]["erlen-wsgi"]["hello"]
    assert counts["erlen-wsgi"]["hello"] == pytest.approx((b - a) / 20, abs=0.1)
    assert data["failures"] == {}
    meta = data["meta"]
    assert meta["requests"] == 20
    assert meta["warmup"] == 5
    assert meta["valgrind"].startswith("valgrind-")
    assert meta["git"]
    assert meta["python"]
    assert "| hello | " in proc.stdout
    assert instructions.ratios(data, "erlen-wsgi")["hello"] > 1


@pytest.mark.parametrize(
    ("builder", "message"),
    [
        (_wrong_body_wsgi, "expected body"),
        (_flaky_wsgi, "answer changed while timed"),
        (_wrong_when_counted_wsgi, "answer changed while timed"),
    ],
)
def test_instructions_wrong_answer_fails_the_run(builder: object, message: str) -> None:
    _require_valgrind()
    broken = _variant("broken", "wsgi", builder)
    logged: list[str] = []
    data = instructions.run_inprocess(
        [broken], ["hello"], requests=5, warmup=2, log=logged.append
    )
    assert message in data["failures"]["broken"]["hello"]
    assert data["counts"] == {}
    assert any(line.startswith("FAIL broken hello") for line in logged)


def test_instructions_need_an_importable_builder() -> None:
    nested = _variant("nested", "wsgi", lambda: build_wsgi())
    with pytest.raises(ValueError, match="module-level function"):
        instructions.builder_path(nested)
    assert instructions.builder_path(FRAMEWORKS["erlen-wsgi"]) == (
        "benchmarks.apps.flask_like:build_erlen"
    )


def test_instructions_missing_tool_names_its_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path, capsys: t.Any
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(instructions.InstructionsFailure, match="apt-get install"):
        instructions.require_tools(live=False)
    assert instructions.main(["--only", "bare-wsgi", "--output", "unused"]) == 2
    assert "valgrind is not installed" in capsys.readouterr().err
    (tmp_path / "valgrind").write_text("#!/bin/sh\n")
    (tmp_path / "valgrind").chmod(0o755)
    with pytest.raises(instructions.InstructionsFailure, match="wrk is not installed"):
        instructions.require_tools(live=True)


_CACHEGRIND_SUMMARY = """\
==4242== Cachegrind, a cache and branch-prediction profiler
==4242==
==4242== I   refs:      1,389,984,297
==4242== I1  misses:       12,345,678
==4242== LLi misses:           40,000
==4242== I1  miss rate:          0.89%
==4242==
==4242== D   refs:        600,000,000  (400,000,000 rd   + 200,000,000 wr)
==4242== D1  misses:        9,000,000  (  7,000,000 rd   +   2,000,000 wr)
==4242== LL misses:           100,000  (     60,000 rd   +      40,000 wr)
==4242==
==4242== Branches:        200,000,000  (180,000,000 cond +  20,000,000 ind)
==4242== Mispredicts:      15,000,000  ( 14,000,000 cond +   1,000,000 ind)
==4242== Mispred rate:            7.5% (        7.8%     +         5.0%   )
"""


def test_parse_cachegrind_summary() -> None:
    got = instructions.parse_summary(_CACHEGRIND_SUMMARY)
    assert got == {
        "instructions": 1_389_984_297,
        "i1_misses": 12_345_678,
        "lli_misses": 40_000,
        "data_refs": 600_000_000,
        "d1_misses": 9_000_000,
        "ll_misses": 100_000,
        "branches": 200_000_000,
        "mispredicts": 15_000_000,
    }
    assert instructions.parse_summary("no valgrind here") == {}


def _live_data() -> dict[str, t.Any]:
    def cell(n: float) -> dict[str, float]:
        return {
            "instructions": n,
            "i1_misses": n / 50,
            "d1_misses": n / 60,
            "mispredicts": n / 40,
            "requests": 900,
        }

    return {
        "meta": {
            **inprocess.machine_meta(),
            "valgrind": "valgrind-3.19.0",
            "git": "abc1234",
            "tool": "valgrind --tool=cachegrind",
            "wrk": "wrk 4.1.0",
            "connections": 16,
            "warm_seconds": 2.0,
            "seconds": 10.0,
            "endpoints": ["hello"],
        },
        "servers": {"uvicorn": "asgi"},
        "counts": {
            "uvicorn/bare-asgi": {"hello": cell(550_000.0)},
            "uvicorn/erlen-asgi-async": {"hello": cell(660_000.0)},
        },
        "failures": {"uvicorn/starlette": {"hello": "did not answer"}},
    }


def test_instructions_tables_and_report_section() -> None:
    live = _live_data()
    table = instructions.live_table(live)
    assert "| uvicorn | bare-asgi | hello | 550,000 | 11,000 |" in table
    assert "| uvicorn | erlen-asgi-async | hello | 660,000 |" in table
    assert "| 1.20x | 900 |" in table
    assert "| uvicorn | starlette | hello | FAIL |" in table
    ins = {
        "meta": {
            **inprocess.machine_meta(),
            "valgrind": "valgrind-3.19.0",
            "git": "abc1234",
            "tool": "valgrind --tool=cachegrind --cache-sim=no",
            "requests": 1000,
            "warmup": 50,
            "endpoints": ["hello", "json"],
        },
        "frameworks": {
            name: {"protocol": fw.protocol, "floor": fw.floor, "description": ""}
            for name, fw in FRAMEWORKS.items()
            if name in ("bare-wsgi", "erlen-wsgi", "flask")
        },
        "counts": {
            "bare-wsgi": {"hello": 12_000.0, "json": 12_000.0},
            "erlen-wsgi": {"hello": 69_000.0, "json": 84_000.0},
            "flask": {"hello": 370_000.0},
        },
        "failures": {"flask": {"json": "expected JSON"}},
    }
    md = report.render(None, None, None, None, False, ins, live)
    assert "## Instructions per request" in md
    assert "| hello | 12,000 | 370,000 (30.83x) | 69,000 (5.75x) |" in md
    assert "| json | 12,000 | FAIL | 84,000 (7.00x) |" in md
    assert "**6.34x**" in md
    assert "(partial)" in md
    assert "- flask json: expected JSON" in md
    assert "### Under a real server" in md
    assert "- uvicorn/starlette hello: did not answer" in md
    assert "## Instructions per request" not in report.render(
        None, None, None, None, False
    )
    assert "layer by layer" not in md


def test_instructions_report_lists_layers_with_increments() -> None:
    names = ("bare-wsgi", "falcon-wsgi", "erlen-wsgi", *LAYERS)
    ins = {
        "meta": {
            **inprocess.machine_meta(),
            "valgrind": "valgrind-3.19.0",
            "git": "abc1234",
            "tool": "valgrind --tool=cachegrind --cache-sim=no",
            "requests": 1000,
            "warmup": 50,
            "endpoints": ["hello", "json"],
        },
        "frameworks": {
            name: {
                "protocol": "wsgi",
                "floor": "bare-wsgi",
                "description": FRAMEWORKS[name].description,
            }
            for name in names
        },
        "counts": {
            "bare-wsgi": {"hello": 12_000.0, "json": 12_500.0},
            "falcon-wsgi": {"hello": 43_000.0, "json": 50_000.0},
            "erlen-wsgi": {"hello": 68_000.0, "json": 80_000.0},
            "layer-contexts": {"hello": 40_000.0, "json": 41_000.0},
            "layer-contexts-g": {"hello": 42_000.0},
            "layer-response": {"hello": 41_500.0, "json": 55_000.0},
        },
        "failures": {"layer-contexts-g": {"json": "expected JSON"}},
    }
    md = report.render(None, None, None, None, False, ins)
    assert "#### What Flask's objects cost, layer by layer (WSGI)" in md
    assert f"- `layer-response`: {FRAMEWORKS['layer-response'].description}" in md
    assert (
        "| endpoint | bare-wsgi | layer-contexts | layer-contexts-g | layer-response"
        " | falcon-wsgi overhead | erlen-wsgi overhead |"
    ) in md
    assert (
        "| hello | 12,000 | 40,000 (+28,000) | 42,000 (+2,000) | 41,500 (-500)"
        " | 31,000 | 56,000 |"
    ) in md
    # After a failed layer, the next one's increment is unknown.
    assert (
        "| json | 12,500 | 41,000 (+28,500) | FAIL | 55,000 | 37,500 | 67,500 |" in md
    )
    # The WSGI table of the section is unchanged by them.
    wsgi_table = md.split("#### WSGI")[1].split("####")[0]
    assert "layer-" not in wsgi_table
