"""The whole benchmark suite in one run, written to bench/RESULTS.md: `make bench`.

For each synthetic scale (0.1, 1 and 5 by default: 10,000 to 500,000 enterprises, 100,000 to
5,000,000 supply links), one after another:

1. Load: `chaindb seed synthetic` into a fresh database (bench/load.py), against a plain COPY
   of the same rows at the scales of --copy-scales (0.1 and 1; at 5 the COPY would double an
   already long load and its disk); then VACUUM (ANALYZE), as a DBA would after a bulk load.
2. Reports: every reporting view warm, and the supplier tiers three levels down from the
   largest chain master (bench/report_views.py), on the data as loaded.
3. API: wrk at 32 connections (bench/api_load.py). At scale 1 (the issue's targets) against
   chaindb, the hand-written Flask + psycopg endpoint, Platformatic DB at its best pool size and
   pgbench; at the other scales chaindb alone, to see how its figures change as the data grows.
   Its writes add links and stage moves, hence last.

The scale-1 database is kept as chaindb_bench (bench/api_load.py and the others use it); the
others are dropped. Only 127.0.0.1: DATABASE_URL's server when set, else the local one on
127.0.0.1:5432. About 45 minutes on 2 cores (each step is bounded: fixed durations, statement
timeouts, a time budget for the reports). The machine it ran on heads the results.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import api_load, load  # noqa: E402

BENCH_DATABASE = "chaindb_bench"
RESULTS = ROOT / "bench" / "RESULTS.md"
TARGET_SCALE = 1.0
REPORT_MS, REPORT_GROWTH = 100.0, 5.0  # each view warm at scale 1; at most 5 x that at scale 5
# (call, peer) -> the least chaindb / peer ratio of req/s (issue 16's targets), and p99 ceilings.
RATIO_TARGETS = {
    ("read one project", "Platformatic"): 1.0,
    ("read one project", "hand-written"): 0.9,
    ("list 50 projects of a chain", "Platformatic"): 1.5,
    ("list 50 projects of a chain", "hand-written"): 1.0,
    ("create a supply link", "Platformatic"): 0.5,
    ("create a supply link", "hand-written"): 0.6,
    ("move a project's stage", "hand-written"): 0.5,
}
P99_TARGETS_MS = {
    "read one project": 25.0,
    "list 50 projects of a chain": 50.0,
    "create a supply link": 50.0,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="0.1,1,5")
    parser.add_argument("--copy-scales", default="0.1,1", help="scales with the COPY baseline")
    parser.add_argument("--duration", type=int, default=15, help="seconds per API run")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    started = time.monotonic()
    check_tools()
    scales = [float(s) for s in args.scales.split(",")]
    copied = {float(s) for s in args.copy_scales.split(",") if s.strip()}
    machine = describe_machine(None)

    runs: list[dict[str, Any]] = []
    for scale in scales:
        runs.append(one_scale(scale, copy=scale in copied, duration=args.duration))
    smallest = min(runs, key=lambda r: r["scale"])["load"]["peak_rss_mib"]
    for run in runs:
        run["load"]["rss_ratio"] = run["load"]["peak_rss_mib"] / smallest
    machine = describe_machine(api_load.database_url(BENCH_DATABASE))

    minutes = (time.monotonic() - started) / 60
    text = results_markdown(machine, runs, minutes)
    args.output.write_text(text, encoding="utf-8")
    say(f"wrote {args.output} ({minutes:.0f} min)")
    print(summary(runs))


def one_scale(scale: float, *, copy: bool, duration: int) -> dict[str, Any]:
    """Load, reports and API at one scale; the figures. The database is kept (as
    chaindb_bench) at the target scale only."""
    name = BENCH_DATABASE if scale == TARGET_SCALE else f"chaindb_bench_{scale:g}".replace(".", "_")
    say(f"== scale {scale:g}: load")
    drop_database(name)
    figures = load.run([scale], keep_as=name, copy=copy)[0]
    url = api_load.database_url(name)
    try:
        prepare(url)
        size = database_size(url)
        say(f"== scale {scale:g}: reports")
        with tempfile.TemporaryDirectory() as folder:
            table, found = Path(folder) / "reports.md", Path(folder) / "reports.json"
            subprocess.run(
                [sys.executable, ROOT / "bench" / "report_views.py", "--database-url", url,
                 "--markdown", table, "--json", found, "--with-gaps", "--time-budget", "600"],
                check=True, cwd=ROOT,
            )  # fmt: skip
            reports, report_figures = (
                table.read_text(encoding="utf-8"),
                json.loads(found.read_text()),
            )
        say(f"== scale {scale:g}: API")
        systems = api_load.SYSTEMS if scale == TARGET_SCALE else ("chaindb",)
        api = api_load.run(url, duration=duration, systems=systems)
    finally:
        if scale != TARGET_SCALE:
            drop_database(name)
    return {
        "scale": scale,
        "load": figures,
        "size_mib": size,
        "reports": reports,
        "report_figures": report_figures,
        "api": api,
    }


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def check_tools() -> None:
    """wrk, pgbench and Node.js must be there; wrk (and GNU time) are installed from Debian's
    packages when missing and this runs as root (the setup of these machines)."""
    if shutil.which("wrk") is None and os.geteuid() == 0 and shutil.which("apt-get"):
        say("installing wrk (apt-get install wrk)")
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True)
    if not Path("/usr/bin/time").exists() and os.geteuid() == 0 and shutil.which("apt-get"):
        say("installing GNU time for the loader's peak memory (apt-get install time)")
        subprocess.run(["apt-get", "install", "-y", "-q", "time"], check=True)
    missing = [tool for tool in ("wrk", "pgbench", "node", "npm") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"missing: {', '.join(missing)} (apt-get install wrk postgresql-client nodejs)")


def drop_database(name: str) -> None:
    from chaindb.database import with_database
    from chaindb.embedded import drop_database as drop

    drop(with_database(api_load.database_url(name), "postgres"), name)


def database_size(url: str) -> float:
    """The database's size on disk, MiB."""
    import psycopg

    from chaindb.config import normalize_database_url

    conninfo = normalize_database_url(url).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        found = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    return found / 1024 / 1024


def prepare(url: str) -> None:
    """VACUUM (ANALYZE) after the bulk load, as a DBA (or autovacuum, later) would: fresh
    statistics, and a visibility map so that counts can read the index only."""
    import psycopg

    from chaindb.config import normalize_database_url

    conninfo = normalize_database_url(url).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        started = time.monotonic()
        conn.execute("VACUUM (ANALYZE)")
        say(f"VACUUM (ANALYZE) in {time.monotonic() - started:.1f} s")


def describe_machine(url: str | None) -> dict[str, str]:
    def first(cmd: list[str]) -> str:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        except OSError:
            return "not found"
        return (
            (out.stdout or out.stderr).strip().splitlines()[0] if out.stdout or out.stderr else ""
        )

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    server = ""
    if url:
        import psycopg

        from chaindb.config import normalize_database_url

        conninfo = normalize_database_url(url).replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(conninfo) as conn:
            server = conn.execute(
                "SELECT current_setting('server_version') || ', shared_buffers ' || "
                "current_setting('shared_buffers') || ', work_mem ' || current_setting('work_mem')"
                " || ', max_connections ' || current_setting('max_connections')"
            ).fetchone()[0]
    commit = first(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = first(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"])
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "cpu": f"{cpu}, {os.cpu_count()} logical CPUs",
        "memory": f"{mem_kib / 1024 / 1024:.1f} GiB",
        "kernel": platform.platform(),
        "python": platform.python_version(),
        "postgresql": server or "(not read)",
        "node": first(["node", "--version"]),
        "wrk": first(["wrk", "--version"]).split(" [")[0],
        "pgbench": first(["pgbench", "--version"]),
        "granian": first([str(Path(sys.executable).parent / "granian"), "--version"])
        + " (chaindb and the hand-written app; chaindb/serve.py settings)",
    }


def results_markdown(machine: dict[str, str], runs: list[dict[str, Any]], minutes: float) -> str:
    target = next((r for r in runs if r["scale"] == TARGET_SCALE), runs[-1])
    lines = [
        "# chaindb benchmark results",
        "",
        f"Written by `make bench` (bench/run.py) in {minutes:.0f} minutes. Every figure below "
        "comes from that one run; only loopback traffic. How each is measured: the docstrings "
        "of bench/run.py, bench/load.py, bench/api_load.py and bench/report_views.py.",
        "",
        "## Machine",
        "",
        *[f"- {key}: {value}" for key, value in machine.items()],
        "",
        f"## Targets (synthetic scale {TARGET_SCALE:g})",
        "",
        summary(runs),
        "",
        "Where a target is missed, where the time goes and what was tried: "
        'docs/performance.md, "Where the targets stand" (written from the run that made this '
        "file) and the sections it points to.",
        "",
        "## As the data grows",
        "",
        growth(runs),
        "",
        "## Load: `chaindb seed synthetic` against plain COPY",
        "",
        load.markdown([r["load"] for r in runs]),
        "",
        f"## API at 32 connections, scale {TARGET_SCALE:g} (wrk -t2 -c32, 15 s after a 3 s "
        "warm-up)",
        "",
        api_load.markdown(target["api"]),
        "",
    ]
    for run in runs:
        lines += [
            f"## Reports at scale {run['scale']:g} (warm; the supplier tiers rows are the "
            "three-level figures)",
            "",
            run["reports"].strip(),
            "",
        ]
    return "\n".join(lines)


def summary(runs: list[dict[str, Any]]) -> str:
    """Each target of the issue, the figure measured, and met or missed (by how much)."""
    target = next((r for r in runs if r["scale"] == TARGET_SCALE), None)
    rows = ["| target | measured | met |", "|---|---|---|"]

    def verdict(ok: bool, miss: str) -> str:
        return "yes" if ok else f"no ({miss})"

    if target is not None:
        by = {(r["call"], r["system"]): r for r in target["api"]}
        for call in api_load.CALLS:
            ours = by.get((call, "chaindb"))
            if not ours:
                continue
            for (for_call, peer), floor in RATIO_TARGETS.items():
                theirs = by.get((call, peer))
                if for_call != call or not theirs or not theirs["rps"]:
                    continue
                ratio = ours["rps"] / theirs["rps"]
                rows.append(
                    f"| {call}: req/s ≥ {floor} × {peer} | {ratio:.2f} × "
                    f"({ours['rps']:,.0f} vs {theirs['rps']:,.0f}) | "
                    f"{verdict(ratio >= floor, f'{(floor - ratio) / floor:.0%} short')} |"
                )
            if call in P99_TARGETS_MS:
                p99, ceiling = ours["p99_ms"], P99_TARGETS_MS[call]
                rows.append(
                    f"| {call}: p99 ≤ {ceiling:g} ms | {p99:.1f} ms | "
                    f"{verdict(p99 <= ceiling, f'{p99 - ceiling:.1f} ms over')} |"
                )
        over = [
            f"`{f['label']}` {f['worst_ms']:.0f} ms"
            for f in target["report_figures"]
            if f["worst_ms"] is not None and f["worst_ms"] > REPORT_MS
        ]
        rows.append(
            f"| every report view ≤ {REPORT_MS:g} ms warm at scale {TARGET_SCALE:g} | "
            f"{len(over)} of {len(target['report_figures'])} queries over | "
            f"{verdict(not over, '; '.join(over))} |"
        )
    large = max(runs, key=lambda r: r["scale"])
    if target is not None and large is not target:
        ceiling = REPORT_MS * REPORT_GROWTH
        over = [
            f"`{f['label']}` {f['worst_ms']:.0f} ms"
            for f in large["report_figures"]
            if f["worst_ms"] is not None and f["worst_ms"] > ceiling
        ]
        rows.append(
            f"| every report view ≤ {ceiling:g} ms at scale {large['scale']:g} | "
            f"{len(over)} of {len(large['report_figures'])} queries over | "
            f"{verdict(not over, '; '.join(over))} |"
        )
    for run in runs:
        ratio = run["load"].get("ratio")
        if ratio is not None:
            rows.append(
                f"| load at scale {run['scale']:g}: ≤ 1.3 × COPY | {ratio:.2f} × | "
                f"{verdict(ratio <= 1.3, f'{ratio - 1.3:.2f} over')} |"
            )
    if len(runs) > 1:
        ratio = large["load"]["rss_ratio"]
        smallest = min(r["scale"] for r in runs)
        rows.append(
            f"| peak memory of the load at scale {large['scale']:g} ≤ 1.2 × scale "
            f"{smallest:g} | {ratio:.2f} × | {verdict(ratio <= 1.2, f'{ratio - 1.2:.2f} over')} |"
        )
    return "\n".join(rows)


def growth(runs: list[dict[str, Any]]) -> str:
    """Each figure at each scale, and how it changes from one scale to the next beside how the
    data changes (the supply links): a time that grows faster than the data is flagged."""
    runs = sorted(runs, key=lambda r: r["scale"])
    if len(runs) < 2:
        return "(one scale only)"
    head = " | ".join(f"scale {r['scale']:g}" for r in runs)
    steps = [f"{b['scale']:g} ÷ {a['scale']:g}" for a, b in pairwise(runs)]
    lines = [
        f"| figure | {head} | {' | '.join(steps)} |",
        "|---|" + "---:|" * (len(runs) + len(steps)),
    ]
    data = [r["load"]["tables"].get("supply_link", 0) for r in runs]

    def row(name: str, values: list[float | None], fmt: str, *, cost: bool) -> None:
        cells = [("-" if v is None else format(v, fmt)) for v in values]
        ratios = []
        for i in range(len(values) - 1):
            a, b = values[i], values[i + 1]
            if a is None or b is None or not a:
                ratios.append("-")
                continue
            ratio = b / a
            grew = data[i + 1] / data[i] if data[i] else math.nan
            faster = cost and ratio > grew * 1.1
            ratios.append(f"**{ratio:.1f} ×**" if faster else f"{ratio:.1f} ×")
        lines.append(f"| {name} | {' | '.join(cells)} | {' | '.join(ratios)} |")

    for table in ("enterprise", "supply_link", "project"):
        row(f"{table} rows loaded", [r["load"]["tables"].get(table) for r in runs], ",", cost=False)
    row("database size, MiB", [r["size_mib"] for r in runs], ",.0f", cost=False)
    row("load, s", [r["load"]["load_s"] for r in runs], ".1f", cost=True)
    row(
        "report refresh after the load, s", [r["load"]["refresh_s"] for r in runs], ".1f", cost=True
    )
    row("loader peak RSS, MiB", [r["load"]["peak_rss_mib"] for r in runs], ".0f", cost=True)
    for call in api_load.CALLS:
        found = [
            next((a for a in r["api"] if a["call"] == call and a["system"] == "chaindb"), None)
            for r in runs
        ]
        row(f"API {call}: req/s", [a and a["rps"] for a in found], ",.0f", cost=False)
        row(f"API {call}: p99 ms", [a and a["p99_ms"] for a in found], ".1f", cost=True)
    labels = [f["label"] for f in runs[-1]["report_figures"]]
    for label in labels:
        values = []
        for r in runs:
            match = next((f for f in r["report_figures"] if f["label"] == label), None)
            values.append(match["median_ms"] if match else None)
        row(f"`{label}` median ms", values, ".1f", cost=True)
    lines += [
        "",
        "A ratio in bold: the figure grew more than 1.1 × as much as the supply links did "
        "between those scales (a cost growing faster than the data).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
