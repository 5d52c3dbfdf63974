"""The whole benchmark suite in one run, written to bench/RESULTS.md: `make bench`.

1. Load: `chaindb seed synthetic` at scale 0.1 and 1 against a plain COPY of the same rows
   (bench/load.py); the scale-1 database is kept as chaindb_bench for the rest.
2. Reports: every reporting view warm at scale 1, and the supplier tiers three levels down from
   the largest chain master (bench/report_views.py), on the data as loaded.
3. API: wrk at 32 connections against chaindb, the hand-written Flask + psycopg endpoint,
   Platformatic DB and pgbench (bench/api_load.py); its create runs add links, hence last.

Only 127.0.0.1: DATABASE_URL's server when set, else the local one on 127.0.0.1:5432. About 20
minutes on 2 cores (each step is bounded: fixed durations, statement timeouts, a time budget for
the reports). The machine it ran on heads the results.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import api_load, load  # noqa: E402

BENCH_DATABASE = "chaindb_bench"
RESULTS = ROOT / "bench" / "RESULTS.md"
TARGETS_MS = {"api_p99": 50.0, "report": 100.0, "tiers": 50.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="0.1,1")
    parser.add_argument("--duration", type=int, default=15, help="seconds per API run")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--skip-load", action="store_true", help=f"reuse {BENCH_DATABASE}")
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    started = time.monotonic()
    check_tools()
    url = api_load.database_url(BENCH_DATABASE)
    machine = describe_machine(url if args.skip_load else None)

    if args.skip_load:
        loads: list[dict[str, Any]] = []
    else:
        say("== load")
        drop_bench_database()
        scales = [float(s) for s in args.scales.split(",")]
        loads = load.run(scales, keep_as=BENCH_DATABASE)
    prepare(url)
    machine = describe_machine(url)

    say("== reports")
    with tempfile.TemporaryDirectory() as folder:
        table = Path(folder) / "reports.md"
        subprocess.run(
            [sys.executable, ROOT / "bench" / "report_views.py", "--database-url", url,
             "--markdown", table, "--with-gaps", "--time-budget", "600"],
            check=True, cwd=ROOT,
        )  # fmt: skip
        reports = table.read_text(encoding="utf-8")

    # After the reports: the API's runs add links (about 150,000), which the reports would read.
    say("== API")
    api = api_load.run(url, duration=args.duration)

    minutes = (time.monotonic() - started) / 60
    text = results_markdown(machine, loads, api, reports, minutes)
    args.output.write_text(text, encoding="utf-8")
    say(f"wrote {args.output} ({minutes:.0f} min)")
    print(summary(loads, api))


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def check_tools() -> None:
    """wrk, pgbench and Node.js must be there; wrk is installed from Debian's packages when it
    is missing and this runs as root (the setup of these machines)."""
    if shutil.which("wrk") is None and os.geteuid() == 0 and shutil.which("apt-get"):
        say("installing wrk (apt-get install wrk)")
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True)
    missing = [tool for tool in ("wrk", "pgbench", "node", "npm") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"missing: {', '.join(missing)} (apt-get install wrk postgresql-client nodejs)")


def drop_bench_database() -> None:
    from chaindb.database import with_database
    from chaindb.embedded import drop_database

    drop_database(with_database(api_load.database_url(BENCH_DATABASE), "postgres"), BENCH_DATABASE)


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
        "gunicorn": "gunicorn.conf.py: "
        + first([str(Path(sys.executable).parent / "gunicorn"), "--version"]),
    }


def results_markdown(
    machine: dict[str, str],
    loads: list[dict[str, Any]],
    api: list[dict[str, Any]],
    reports: str,
    minutes: float,
) -> str:
    lines = [
        "# chaindb benchmark results",
        "",
        f"Written by `make bench` (bench/run.py) in {minutes:.0f} minutes. Every figure below "
        "comes from that one run; only loopback traffic. How each is measured: the docstrings "
        "of bench/load.py, bench/api_load.py and bench/report_views.py.",
        "",
        "## Machine",
        "",
        *[f"- {key}: {value}" for key, value in machine.items()],
        "",
        "## Targets",
        "",
        summary(loads, api),
        "",
        "## Load: `chaindb seed synthetic` against plain COPY",
        "",
        load.markdown(loads) if loads else "(skipped: --skip-load)",
        "",
        "## API at 32 connections (wrk -t2 -c32, 15 s after a 3 s warm-up)",
        "",
        api_load.markdown(api),
        "",
        "## Reports at scale 1 (warm; the supplier tiers rows are the three-level figures)",
        "",
        reports.strip(),
        "",
    ]
    return "\n".join(lines)


def summary(loads: list[dict[str, Any]], api: list[dict[str, Any]]) -> str:
    """Each target of the issue, the figure measured, and met or missed (by how much)."""
    by = {(r["call"], r["system"]): r for r in api}
    rows = ["| target | measured | met |", "|---|---|---|"]

    def verdict(ok: bool, miss: str) -> str:
        return "yes" if ok else f"no ({miss})"

    for call in api_load.CALLS[:2]:
        ours = by.get((call, "chaindb"))
        if not ours:
            continue
        for peer, floor in (("hand-written", 0.8), ("Platformatic", 1.0)):
            theirs = by.get((call, peer))
            if not theirs or not theirs["rps"]:
                continue
            ratio = ours["rps"] / theirs["rps"]
            rows.append(
                f"| {call}: req/s ≥ {floor} × {peer} | {ratio:.2f} × "
                f"({ours['rps']:,.0f} vs {theirs['rps']:,.0f}) | "
                f"{verdict(ratio >= floor, f'{(floor - ratio) / floor:.0%} short')} |"
            )
        p99 = ours["p99_ms"]
        rows.append(
            f"| {call}: p99 ≤ 50 ms | {p99:.1f} ms | "
            f"{verdict(p99 <= TARGETS_MS['api_p99'], f'{p99 - 50:.1f} ms over')} |"
        )
    for figures in loads:
        ratio = figures["ratio"]
        rows.append(
            f"| load at scale {figures['scale']:g}: ≤ 1.3 × COPY | {ratio:.2f} × | "
            f"{verdict(ratio <= 1.3, f'{ratio - 1.3:.2f} over')} |"
        )
    if len(loads) > 1:
        largest = max(loads, key=lambda r: r["scale"])
        ratio = largest["rss_ratio"]
        rows.append(
            f"| peak memory at scale {largest['scale']:g} ≤ 1.2 × scale "
            f"{min(r['scale'] for r in loads):g} | {ratio:.2f} × | "
            f"{verdict(ratio <= 1.2, f'{ratio - 1.2:.2f} over')} |"
        )
    rows.append(
        "| each report ≤ 100 ms at scale 1; supplier tiers ≤ 50 ms | see Reports below "
        "(flagged there when over) | |"
    )
    return "\n".join(rows)


if __name__ == "__main__":
    main()
