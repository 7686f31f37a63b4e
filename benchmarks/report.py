"""Regenerate docs/performance.md and its chart from the saved results.

``python -m benchmarks report`` reads ``benchmarks/results/{inprocess,e2e,
startup,routing,instructions,instructions-live}.json`` (written by the other
subcommands) and writes
``docs/performance.md`` and ``docs/performance-inprocess.png`` (a bar chart
of per-endpoint cost relative to the bare callable; needs matplotlib, from
the ``bench`` extra). A missing result file leaves its section out.
"""

from __future__ import annotations

import argparse
import json
import math
import pathlib
import sys
import typing as t

from benchmarks import common as c
from benchmarks import e2e
from benchmarks import inprocess
from benchmarks import instructions
from benchmarks import routing
from benchmarks import startup

CHART = "performance-inprocess.png"

WSGI = ("bare-wsgi", "flask", "bottle", "falcon-wsgi", "erlen-wsgi")
ASGI = (
    "bare-asgi",
    "falcon-asgi",
    "starlette",
    "starlette-sync",
    "quart",
    "erlen-asgi-sync",
    "erlen-asgi-async",
)

#: The layer variants (benchmarks/apps/layers.py), cumulative, in order:
#: counted only when named (``--only``), reported with what each one adds.
LAYERS = ("layer-contexts", "layer-contexts-g", "layer-response")

#: (erlen variant, the frameworks it is compared with head to head).
#: Bar colours: erlen in reds, the others in their own hues.
COLOURS = {
    "flask": "#4c72b0",
    "bottle": "#dd8452",
    "falcon-wsgi": "#55a868",
    "falcon-asgi": "#55a868",
    "starlette": "#8172b3",
    "starlette-sync": "#b4a7d6",
    "quart": "#937860",
    "erlen-wsgi": "#c44e52",
    "erlen-asgi-sync": "#f0a0a0",
    "erlen-asgi-async": "#c44e52",
}

HEAD_TO_HEAD = (
    ("erlen-wsgi", ("flask", "falcon-wsgi", "bottle")),
    ("erlen-asgi-async", ("starlette", "falcon-asgi", "quart")),
    ("erlen-asgi-sync", ("starlette-sync",)),
)


def _load(name: str, folder: pathlib.Path = c.RESULTS) -> dict[str, t.Any] | None:
    path = folder / f"{name}.json"
    if not path.exists():
        return None
    with open(path, encoding="utf-8") as fh:
        return t.cast(dict[str, t.Any], json.load(fh))


def inprocess_table(data: dict[str, t.Any], names: t.Sequence[str]) -> str:
    """Return one protocol's table: µs per request (ratio to the floor)."""
    return inprocess.ratio_table(
        data,
        names,
        ratio="{:.2f}x",
        missing="n/a",
        geomean_label="**geomean vs bare**",
    )


def head_to_head(data: dict[str, t.Any]) -> str:
    """Return erlen's time as a multiple of each rival's, per endpoint."""
    pairs = [
        (mine, other)
        for mine, others in HEAD_TO_HEAD
        for other in others
        if mine in data["medians"] and other in data["medians"]
    ]
    if not pairs:
        return ""
    eps = data["meta"]["endpoints"]
    lines = [
        "| endpoint | " + " | ".join(f"{m} / {o}" for m, o in pairs) + " |",
        "|---|" + "---:|" * len(pairs),
    ]
    columns: list[list[float]] = [[] for _ in pairs]
    for ep in eps:
        cells = []
        for i, (mine, other) in enumerate(pairs):
            a = data["medians"][mine].get(ep)
            b = data["medians"][other].get(ep)
            if a is None or b is None:
                cells.append("n/a")
                continue
            columns[i].append(a / b)
            cells.append(f"{a / b:.2f}")
        lines.append(f"| {ep} | " + " | ".join(cells) + " |")
    lines.append(
        "| **geomean** | "
        + " | ".join(f"**{inprocess.geomean(col):.2f}**" for col in columns)
        + " |"
    )
    return "\n".join(lines)


def _geo(data: dict[str, t.Any] | None, name: str) -> float:
    if data is None or name not in data["medians"]:
        return math.nan
    return inprocess.geomean(inprocess.ratios(data, name).values())


def _fmt(value: float, spec: str = ".2f") -> str:
    return "n/a" if math.isnan(value) else format(value, spec)


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "**not met**")


def targets(
    inp: dict[str, t.Any] | None,
    e2e_data: dict[str, t.Any] | None,
    st: dict[str, t.Any] | None,
    rt: dict[str, t.Any] | None,
) -> str:
    """Return the issue's performance budget against this run's numbers."""
    rows: list[tuple[str, str, bool | None]] = []
    g = _geo(inp, "erlen-wsgi")
    rows.append(
        (
            "in-process WSGI geomean <= 3.5x bare",
            f"{_fmt(g)}x (Falcon {_fmt(_geo(inp, 'falcon-wsgi'))}x,"
            f" Bottle {_fmt(_geo(inp, 'bottle'))}x, Flask {_fmt(_geo(inp, 'flask'))}x)",
            None if math.isnan(g) else g <= 3.5,
        )
    )
    if inp is not None and {"erlen-wsgi", "falcon-wsgi"} <= set(inp["medians"]):
        mine, falcon = inp["medians"]["erlen-wsgi"], inp["medians"]["falcon-wsgi"]
        worst = max(
            ((mine[e] / falcon[e], e) for e in mine if e in falcon), default=None
        )
        if worst is not None:
            rows.append(
                (
                    "no endpoint slower than Falcon's by > 10% (WSGI)",
                    f"worst: {worst[1]} at {worst[0]:.2f}x Falcon",
                    worst[0] <= 1.10,
                )
            )
    g = _geo(inp, "erlen-asgi-async")
    rows.append(
        (
            "in-process ASGI (async views) geomean <= 3.0x bare",
            f"{_fmt(g)}x (Falcon-ASGI {_fmt(_geo(inp, 'falcon-asgi'))}x,"
            f" Starlette {_fmt(_geo(inp, 'starlette'))}x,"
            f" Quart {_fmt(_geo(inp, 'quart'))}x)",
            None if math.isnan(g) else g <= 3.0,
        )
    )
    a, b = _geo(inp, "erlen-asgi-sync"), _geo(inp, "starlette-sync")
    rows.append(
        (
            "ASGI sync views no slower than Starlette sync endpoints",
            f"{_fmt(a)}x vs {_fmt(b)}x (geomean vs bare)",
            None if math.isnan(a) or math.isnan(b) else a <= b,
        )
    )
    rows.extend(_e2e_targets(e2e_data))
    if rt is not None:
        dyn = rt["results"].get("dynamic", {})
        if "10" in dyn and "1000" in dyn:
            r = dyn["1000"]["erlen"] / dyn["10"]["erlen"]
            rows.append(
                ("routing: 1 of 1,000 within 1.5x of 1 of 10", f"{r:.2f}x", r <= 1.5)
            )
    if st is not None and {"erlen-wsgi", "flask"} <= set(st["medians"]):
        r = (
            st["medians"]["erlen-wsgi"]["import_ms"]
            / st["medians"]["flask"]["import_ms"]
        )
        rows.append(
            (
                "`from erlen import Flask` <= 1/3 of `from flask import Flask`",
                f"{r:.2f}x",
                r <= 1 / 3,
            )
        )
    lines = ["| target (issue 6) | measured | |", "|---|---|---|"]
    lines += [f"| {what} | {got} | {_verdict(ok)} |" for what, got, ok in rows]
    return "\n".join(lines)


def _e2e_targets(data: dict[str, t.Any] | None) -> list[tuple[str, str, bool | None]]:
    if data is None:
        return []
    med = data["medians"]

    def geo_ratio(key: str) -> float:
        base = med.get(e2e.floor_of(key), {})
        mine = med.get(key, {})
        return inprocess.geomean(mine[e] / base[e] for e in mine if e in base)

    rows: list[tuple[str, str, bool | None]] = []
    key = "granian-wsgi/erlen-wsgi"
    if key in med:
        r = geo_ratio(key)
        rows.append(
            (
                "e2e granian WSGI >= 0.8x bare req/s",
                f"{r:.2f}x (Falcon {geo_ratio('granian-wsgi/falcon-wsgi'):.2f}x,"
                f" Flask {geo_ratio('granian-wsgi/flask'):.2f}x)",
                r >= 0.8,
            )
        )
    for variant in ("erlen-asgi-async", "erlen-asgi-sync"):
        key = f"uvicorn/{variant}"
        if key in med and "uvicorn/starlette" in med:
            r, s = geo_ratio(key), geo_ratio("uvicorn/starlette")
            rows.append(
                (
                    f"e2e uvicorn ({variant}) >= Starlette req/s",
                    f"{r:.2f}x vs Starlette {s:.2f}x of bare",
                    r >= s,
                )
            )
    return rows


def chart(data: dict[str, t.Any], path: pathlib.Path) -> bool:
    """Draw per-endpoint cost relative to the bare callable (False: no matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    eps = data["meta"]["endpoints"]
    panels = [
        ("WSGI (ratio to bare-wsgi)", [n for n in WSGI[1:] if n in data["medians"]]),
        ("ASGI (ratio to bare-asgi)", [n for n in ASGI[1:] if n in data["medians"]]),
    ]
    panels = [p for p in panels if p[1]]
    fig, axes = plt.subplots(len(panels), 1, figsize=(12, 4.2 * len(panels)))
    if len(panels) == 1:
        axes = [axes]
    for ax, (title, names) in zip(axes, panels, strict=True):
        width = 0.8 / len(names)
        for i, name in enumerate(names):
            rs = inprocess.ratios(data, name)
            xs = [j + (i - (len(names) - 1) / 2) * width for j in range(len(eps))]
            ys = [rs.get(ep, math.nan) for ep in eps]
            geo = inprocess.geomean(v for v in ys if not math.isnan(v))
            ax.bar(
                xs,
                ys,
                width,
                label=f"{name} (geomean {geo:.1f}x)",
                color=COLOURS.get(name),
            )
        ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
        ax.set_yscale("log")
        ax.set_xticks(range(len(eps)), eps, rotation=20)
        ax.set_ylabel("x bare callable (log)")
        ax.set_title(title)
        ax.legend(fontsize=8, ncol=2)
        ax.grid(axis="y", which="both", alpha=0.3)
    meta = data["meta"]
    fig.suptitle(
        f"erlen in-process benchmark: Python {meta['python']}, {meta['nproc']} CPUs,"
        f" {meta['date'][:10]}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=90, metadata={"Software": None})
    plt.close(fig)
    return True


def _meta_line(meta: dict[str, t.Any]) -> str:
    return (
        f"Python {meta['python']} ({meta['implementation']}), {meta['platform']},"
        f" {meta['nproc']} CPUs, {meta['date']}"
    )


_ENDPOINT_NOTES = {
    "form": "10 urlencoded fields",
    "upload": "multipart: one 64 KiB file and 2 fields",
    "echo-json": "JSON parsed and sent back",
    "template": "Jinja2, a 20-item loop, autoescaped",
    "cookie": "read one cookie, set one",
    "route-200": "matched after 200 other dynamic routes",
    "missing": "404",
}


def endpoint_list() -> str:
    """Return the Markdown list of the benchmarked requests."""
    lines = []
    for ep in c.ENDPOINTS.values():
        url = ep.path + (f"?{ep.query}" if ep.query else "")
        size = f", {len(ep.body):,} bytes" if ep.body else ""
        note = _ENDPOINT_NOTES.get(ep.name, "")
        extra = f" ({note}{size})" if note or size else ""
        lines.append(f"- `{ep.name}`: `{ep.method} {url}`{extra}")
    return "\n".join(lines)


_HOOKS_NOTE = """\
Every app serves the same endpoints with the same answers, and has one
before-request and one after-request hook on all of them (the before hook
stores a value in per-request state; the after hook copies it into an
`X-Hook` header, which the self-check requires):

- Flask, erlen, Quart: `before_request` / `after_request` (async functions
  for Quart and erlen-asgi-async, whose views are all `async def`);
- Bottle: `@app.hook("before_request")` / `@app.hook("after_request")`;
- Falcon: a middleware component's `process_request` / `process_response`
  (its closest equivalent; `async` methods under ASGI);
- Starlette: a pure ASGI middleware (state in `scope["state"]`, header added
  on `http.response.start`); `BaseHTTPMiddleware` would cost more;
- bare callables: two inline statements.

Other choices, the same for all: templates are the one Jinja2 file
`benchmarks/templates/page.html`, autoescaped, with `auto_reload=False`
(Flask's production setting); Flask, erlen and Quart use their
`render_template`, Starlette its `Jinja2Templates`, Bottle and Falcon a
shared `jinja2.Environment`. `starlette-sync` writes the endpoints as plain
functions (run in Starlette's thread pool); the ones that read the body use
`anyio.from_thread.run`, as sync Starlette code must. The bare callables
do the minimum work per endpoint (see `benchmarks/apps/bare.py`): they do not
register the 200 extra routes, and parse with the standard library
(`urllib.parse`, `json`) and python-multipart's low-level parser. Falcon's
form decoding is faster than `urllib.parse.parse_qsl`, hence its ratios
below 1 on `form`.
"""


def layers_table(ins: dict[str, t.Any]) -> str:
    """Return the layer variants' counts, what each layer adds, and the overheads.

    A layer's increment is over the previous layer counted (the bare
    callable for the first); the overheads are Falcon's and erlen's counts
    minus the bare callable's, for the variants counted.
    """
    counts = ins["counts"]
    layers = [n for n in LAYERS if n in ins["frameworks"]]
    others = [n for n in ("falcon-wsgi", "erlen-wsgi") if n in ins["frameworks"]]
    lines = [
        "| endpoint | bare-wsgi | "
        + " | ".join([*layers, *(f"{n} overhead" for n in others)])
        + " |",
        "|---|" + "---:|" * (1 + len(layers) + len(others)),
    ]
    for ep in ins["meta"]["endpoints"]:
        base = counts.get("bare-wsgi", {}).get(ep)
        cells = ["" if base is None else f"{base:,.0f}"]
        prev = base
        for name in layers:
            n = counts.get(name, {}).get(ep)
            if n is None:
                failed = ep in ins["failures"].get(name, {})
                cells.append("FAIL" if failed else "")
            elif prev is None:
                cells.append(f"{n:,.0f}")
            else:
                cells.append(f"{n:,.0f} ({n - prev:+,.0f})")
            prev = n
        for name in others:
            n = counts.get(name, {}).get(ep)
            cells.append("" if n is None or base is None else f"{n - base:,.0f}")
        lines.append(f"| {ep} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _wrk_name(version: str) -> str:
    """Return wrk's version line without its build details and copyright."""
    return version.split(" [", 1)[0]


def instructions_section(
    ins: dict[str, t.Any] | None, live: dict[str, t.Any] | None
) -> list[str]:
    """Return the lines of the "Instructions per request" section (none: no data)."""
    if ins is None and live is None:
        return []
    out = [
        "## Instructions per request",
        "",
        "CPU instructions counted by valgrind (`python -m benchmarks instructions`,"
        " `benchmarks/instructions.py`): unlike timings on this shared machine,"
        " they come out the same on every run in-process (within about 1% under"
        " a server), so they settle the comparisons that timings leave open."
        " In-process, every answer is checked as in the"
        " timed suite; under a server, the answer is checked before the load and"
        " wrk must see no error.",
        "",
    ]
    if ins is not None:
        meta = ins["meta"]
        out += [
            "### In-process",
            "",
            f"{_meta_line(meta)}; {meta['valgrind']}, erlen at {meta['git']}."
            f" `{meta['tool']}`, `PYTHONHASHSEED=0`; each cell is the instructions"
            f" of a worker making {meta['warmup']} warm-up and"
            f" {meta['requests']:,} counted requests, minus those of one making"
            f" the warm-up only, divided by {meta['requests']:,}; with the ratio"
            " to the bare callable of the same protocol.",
            "",
        ]
        for title, names in (("WSGI", WSGI), ("ASGI", ASGI)):
            if any(n in ins["frameworks"] for n in names):
                out += [
                    f"#### {title}",
                    "",
                    instructions.inprocess_table(ins, names),
                    "",
                ]
        if any(n in ins["frameworks"] for n in LAYERS):
            out += [
                "#### What Flask's objects cost, layer by layer (WSGI)",
                "",
                "The bare callable plus erlen's real code for the objects"
                " Flask's API requires per request, one layer more in each"
                " variant (`benchmarks/apps/layers.py`); each cell gives the"
                " instructions per request and, in parentheses, what the layer"
                " adds to the one before. The last columns are the whole"
                " overhead of Falcon and of erlen over the bare callable"
                " (negative where a framework's own parser beats the bare"
                " callable's urllib and python-multipart: form, upload).",
                "",
            ]
            out += [
                f"- `{n}`: {ins['frameworks'][n]['description']}"
                for n in LAYERS
                if n in ins["frameworks"]
            ]
            out += ["", layers_table(ins), ""]
        if ins["failures"]:
            out += ["Failures:", ""]
            for name, fails in ins["failures"].items():
                out += [f"- {name} {ep}: {msg}" for ep, msg in fails.items()]
            out.append("")
    if live is not None:
        meta = live["meta"]
        out += [
            "### Under a real server",
            "",
            f"{_meta_line(meta)}; {meta['valgrind']}, erlen at {meta['git']}."
            f" The server runs under `{meta['tool']}`,"
            f" loaded by {_wrk_name(meta['wrk'])}"
            f" `-t1 -c{meta['connections']}` in two fresh processes, for"
            f" {meta['warm_seconds']:g} s and for"
            f" {meta['warm_seconds'] + meta['seconds']:g} s; each cell is the"
            " difference of the two runs' totals divided by the difference of"
            " their request counts, so start-up, connections and the requests"
            " left in flight cancel out. Cache misses and mispredicts are"
            " valgrind's simulation, not hardware counters.",
            "",
            instructions.live_table(live),
            "",
        ]
        if live["failures"]:
            out += ["Failures:", ""]
            for key, fails in live["failures"].items():
                out += [f"- {key} {ep}: {msg}" for ep, msg in fails.items()]
            out.append("")
    return out


def render(
    inp: dict[str, t.Any] | None,
    e2e_data: dict[str, t.Any] | None,
    st: dict[str, t.Any] | None,
    rt: dict[str, t.Any] | None,
    chart_written: bool,
    ins: dict[str, t.Any] | None = None,
    ins_live: dict[str, t.Any] | None = None,
) -> str:
    """Return the Markdown of docs/performance.md."""
    out = [
        "# Performance",
        "",
        "Generated by `python -m benchmarks report` from the results the benchmark",
        "commands save in `benchmarks/results/`; do not edit by hand. To measure",
        "again (a full run takes about two minutes in-process and twenty minutes",
        "end to end):",
        "",
        "```sh",
        ".venv/bin/python -m benchmarks            # in-process, all frameworks",
        ".venv/bin/python -m benchmarks e2e --quick  # real servers + wrk",
        ".venv/bin/python -m benchmarks startup    # import time, creation, RSS",
        ".venv/bin/python -m benchmarks routing    # router: last of N routes",
        ".venv/bin/python -m benchmarks instructions  # valgrind counts",
        ".venv/bin/python -m benchmarks report     # this page and its chart",
        "```",
        "",
        "The machine is shared and noisy: compare ratios measured in one run,",
        "not absolute numbers across runs.",
        "",
    ]
    if any(x is not None for x in (inp, e2e_data, st, rt)):
        out += ["## Against the budget of issue 6", ""]
        out += [targets(inp, e2e_data, st, rt), ""]
    if inp is not None:
        meta = inp["meta"]
        out += [
            "## In-process",
            "",
            f"{_meta_line(meta)}. Median of {meta['rounds']} interleaved rounds;"
            f" each sample is a batch of about {meta['sample_seconds'] * 1000:.0f} ms"
            " of requests; µs per request, with the ratio to the bare callable of"
            " the same protocol. Every answer is checked before, during and after"
            " timing (`benchmarks/inprocess.py`).",
            "",
        ]
        if chart_written:
            out += [f"![per-endpoint cost relative to the bare callable]({CHART})", ""]
        out += ["### WSGI", "", inprocess_table(inp, WSGI), ""]
        out += ["### ASGI", "", inprocess_table(inp, ASGI), ""]
        h2h = head_to_head(inp)
        if h2h:
            out += [
                "### erlen against each framework",
                "",
                "erlen's time per request divided by the other framework's (below 1:"
                " erlen is faster).",
                "",
                h2h,
                "",
            ]
        if inp["failures"]:
            out += ["Failures:", ""]
            for name, fails in inp["failures"].items():
                for ep, msg in fails.items():
                    out.append(f"- {name} {ep}: {msg}")
            out.append("")
        out += ["### What every app does", "", endpoint_list(), "", _HOOKS_NOTE]
    if e2e_data is not None:
        meta = e2e_data["meta"]
        out += [
            "## End to end",
            "",
            f"{_meta_line(meta)}. {meta['wrk']}, `-t1 -c{meta['connections']}`,"
            f" {meta['rounds']} interleaved rounds of {meta['seconds']:g} s per"
            " sample; median requests/s, with the ratio to the bare callable under"
            " the same server; errors are non-2xx answers plus socket errors."
            " One worker per server, everything on 127.0.0.1 (`benchmarks/e2e.py`):"
            " gunicorn's sync worker, granian (WSGI and ASGI), uvicorn with h11 and"
            " the asyncio loop. "
            + (
                "wrk and the server share the machine's CPUs."
                if not meta.get("pinned")
                else "The servers run on CPU "
                + ", ".join(map(str, meta["pinned"]["server"]))
                + " and wrk on CPU "
                + ", ".join(map(str, meta["pinned"]["wrk"]))
                + " (`--pin`)."
            ),
            "",
            e2e.table(e2e_data),
            "",
        ]
        if e2e_data["failures"]:
            out += ["Failures:", ""]
            out += [f"- {k}: {v}" for k, v in e2e_data["failures"].items()]
            out.append("")
    if st is not None:
        meta = st["meta"]
        out += [
            "## Start-up and memory",
            "",
            f"{_meta_line(meta)}. Median of {meta['repeat']} fresh interpreters"
            " per app (`benchmarks/startup.py`): the framework's import, building"
            " the benchmark app, its first request, and the peak RSS (`VmHWM`)"
            f" after it. A bare `python` peaks at {meta['baseline_rss_mib']:.1f} MiB.",
            "",
            startup.table(st),
            "",
        ]
    if rt is not None:
        meta = rt["meta"]
        out += [
            "## Routing",
            "",
            f"{_meta_line(meta)}. µs per match of the last of N routes, median of"
            f" {meta['rounds']} interleaved rounds of {meta['number']} matches"
            " (`benchmarks/bench_routing.py`).",
            "",
            routing.table(rt),
            "",
        ]
    out += instructions_section(ins, ins_live)
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write docs/performance.md (and the chart) from the saved results."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks report")
    parser.add_argument("--output", default=str(c.DOCS / "performance.md"))
    parser.add_argument("--results", default=str(c.RESULTS), help="results folder")
    args = parser.parse_args(argv)
    folder = pathlib.Path(args.results)
    inp, e2e_data = _load("inprocess", folder), _load("e2e", folder)
    st, rt = _load("startup", folder), _load("routing", folder)
    ins, ins_live = _load("instructions", folder), _load("instructions-live", folder)
    if all(x is None for x in (inp, e2e_data, st, rt, ins, ins_live)):
        print(
            f"no results in {folder}: run `python -m benchmarks` first",
            file=sys.stderr,
        )
        return 1
    out = pathlib.Path(args.output)
    written = False
    if inp is not None:
        written = chart(inp, out.parent / CHART)
        if not written:
            print("matplotlib is not installed: no chart", file=sys.stderr)
    out.write_text(
        render(inp, e2e_data, st, rt, written, ins, ins_live), encoding="utf-8"
    )
    print(f"wrote {out}" + (f" and {out.parent / CHART}" if written else ""))
    return 0
