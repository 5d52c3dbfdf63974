"""Time `chaindb seed synthetic` against a plain COPY of the same rows; peak memory per scale.

    .venv/bin/python bench/load.py --scales 0.1,1 [--keep [NAME]]

Uses DATABASE_URL's server (else the embedded one). For each scale:

1. A fresh database chaindb_load_<scale>_loader: `chaindb db upgrade`, `chaindb seed reference`,
   then `chaindb seed synthetic --scale S --quiet`, a child process measured on its own: wall
   time (Python start-up and imports included), the load time and the report-refresh time it
   prints, its CPU time and ITS peak resident set size (os.wait4 on its pid; the server's memory
   is not included).
2. Rows loaded: the rows of each table beyond the starting state (id above the table's largest
   id after the reference seed). "written" rows are those the loader sends (chain_segment,
   enterprise, designation, chain_role, supply_link, project); "by triggers" are those the
   database's triggers add (project_stage_event, change_log). rows/s counts both.
3. The baseline: those written rows, dumped untimed (every column but generated ones, ids
   included) into files in COPY's text format (as the loader sends), then COPY'd into a second
   fresh database at the same starting state (chaindb_load_<scale>_copy), table by table in
   foreign-key order, in one transaction of one connection, with every trigger firing as for
   the loader (the triggers write project_stage_event and change_log; those rows are not
   copied). The session sets what the
   loader sets: synchronous_commit off, chaindb.actor, chaindb.stage_note and chaindb.stage_date ('unknown') once, and
   chaindb.stage_reason around each run of projects whose stage event carries a reason (dropped
   projects): one COPY per run, in id order, so that the stage events come out identical. The
   identity sequences are then set past the copied ids. The COPY time covers all of that and the
   commit. Both databases must end with the same rows per table (counts, and a checksum of the
   loaded rows and stage events without the stamps of the time of the load: created_at,
   updated_at, and occurred_on, which falls on the day of the load for projects not signed).

ratio = the loader's load time / the COPY time (target: at most 1.3). The report refresh and the
whole command's wall time are separate columns. The loader's load time ends with an ANALYZE of
the tables it loads; the ANALYZE column is that ANALYZE run in the COPY database after the COPY,
for comparison (not in the COPY time). Memory ratio = peak RSS at the largest scale /
at the smallest (target: at most 1.2); the Python floor is the peak RSS of `chaindb --help`
(interpreter, imports). The databases are dropped afterwards unless --keep; --keep NAME keeps
only the loader's database of the last scale, renamed NAME (which must not exist), e.g.
chaindb_bench for bench/api_load.py.

Importable: run(scales, keep_as=NAME) returns one dict of figures per scale; markdown(results)
formats them.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from chaindb.config import Settings
from chaindb.database import resolve_url, with_database
from chaindb.embedded import drop_database, ensure_database
from seeds.synthetic import ACTOR, SOURCE

BIN = Path(sys.executable).parent
CHAINDB = str(BIN / "chaindb")

# Rows the database's triggers write: not copied by the baseline (its triggers write them;
# project_approved is the copy of the approved projects).
TRIGGER_WRITTEN = ("project_stage_event", "change_log", "project_approved")
# Written by the report refresh after the load, not by the load (the *_stale tables are the kept
# reports' queues of what changed: the copy's triggers fill them, the loader's refresh empties
# them).
NOT_LOADED = (
    "report_refresh",
    "alembic_version",
    "supplier_tier_stale",
    "chain_overview_stale",
    "chain_master_supply_stale",
)
STAGE_TABLE = "project"  # its stage-event trigger reads chaindb.stage_reason
# Checksummed beside the copied tables. A stage event's date may be the day of the load.
COMPARED = ("project_stage_event",)
UNCOMPARED = ("created_at", "updated_at", "occurred_on")  # stamps of the time of the load
LOAD_LINE = re.compile(r"^seed synthetic: .* in ([0-9.]+) s$", re.M)
REFRESH_LINE = re.compile(r"^reports refreshed in ([0-9.]+) s$", re.M)
MIB = 1024  # ru_maxrss is in KiB on Linux


def run(
    scales: Iterable[float],
    *,
    keep: bool = False,
    keep_as: str | None = None,
    log: Callable[[str], None] | None = None,
    copy: bool = True,
) -> list[dict[str, Any]]:
    """Measure each scale (see the module docstring); one dict of figures per scale. Without
    `copy`, the loader alone (no COPY baseline, no ratio): for the largest scales."""
    say = log or (lambda line: print(line, file=sys.stderr, flush=True))
    scales = list(scales)
    admin = with_database(resolve_url(Settings.from_env()), "postgres")
    floor = measure([CHAINDB, "--help"], os.environ)["peak_rss_mib"]
    say(f"python floor (chaindb --help): {floor:.0f} MiB")
    results = []
    for i, scale in enumerate(scales):
        tag = f"{scale:g}".replace(".", "_").replace("-", "_")
        loader_db, copy_db = f"chaindb_load_{tag}_loader", f"chaindb_load_{tag}_copy"
        try:
            figures = _one_scale(admin, scale, loader_db, copy_db, say, copy=copy)
            if keep_as and i == len(scales) - 1:
                _rename(admin, loader_db, keep_as)
                say(f"kept the loader's database as {keep_as}")
        finally:
            if not keep:
                for name in (loader_db, copy_db):
                    drop_database(admin, name)
        figures["floor_rss_mib"] = floor
        results.append(figures)
    smallest = min(results, key=lambda r: r["scale"])["peak_rss_mib"]
    for figures in results:
        figures["rss_ratio"] = figures["peak_rss_mib"] / smallest
    return results


def _one_scale(
    admin: str,
    scale: float,
    loader_db: str,
    copy_db: str,
    say: Callable[[str], None],
    *,
    copy: bool = True,
) -> dict[str, Any]:
    loader_url = _fresh(admin, loader_db)
    start = _max_ids(loader_url)

    say(f"scale {scale:g}: chaindb seed synthetic into {loader_db}")
    child = measure(
        [CHAINDB, "seed", "synthetic", "--scale", f"{scale:g}", "--quiet"],
        {**os.environ, "DATABASE_URL": loader_url},
    )
    if child["returncode"] != 0:
        raise RuntimeError(f"chaindb seed synthetic failed:\n{child['stdout']}{child['stderr']}")
    load_s = _seconds(LOAD_LINE, child["stdout"])
    refresh_s = _seconds(REFRESH_LINE, child["stdout"])
    loaded = _new_rows(loader_url, start)
    written = {t: n for t, n in loaded.items() if t not in TRIGGER_WRITTEN and n}
    by_triggers = {t: n for t, n in loaded.items() if t in TRIGGER_WRITTEN}
    rows_written, rows_by_triggers = sum(written.values()), sum(by_triggers.values())
    rows = rows_written + rows_by_triggers

    figures = {
        "scale": scale,
        "load_s": load_s,
        "refresh_s": refresh_s,
        "wall_s": child["wall_s"],
        "loader_cpu_s": child["cpu_s"],
        "peak_rss_mib": child["peak_rss_mib"],
        "rows_written": rows_written,
        "rows_by_triggers": rows_by_triggers,
        "rows": rows,
        "rows_per_s": rows / load_s,
        "tables": loaded,
    }
    if not copy:
        say(
            f"scale {scale:g}: load {load_s:.1f} s, refresh {refresh_s:.1f} s, wall "
            f"{child['wall_s']:.1f} s, peak RSS {child['peak_rss_mib']:.0f} MiB (no COPY run)"
        )
        return figures
    with tempfile.TemporaryDirectory(prefix="chaindb_load_") as tmp:
        say(f"scale {scale:g}: dumping {rows_written:,} rows, COPY into {copy_db}")
        files = _dump(loader_url, start, list(written), Path(tmp))
        copy_url = _fresh(admin, copy_db)
        if _max_ids(copy_url) != start:
            raise RuntimeError("the two databases do not start from the same state")
        copy_s, copy_tables_s = _copy(copy_url, files)
        analyze_s = _analyze(copy_url, list(written) + list(COMPARED))
    _verify(loader_url, copy_url, start, list(written))

    figures.update(
        copy_s=copy_s,
        copy_rows_per_s=rows / copy_s,
        copy_tables_s=copy_tables_s,
        analyze_s=analyze_s,
        ratio=load_s / copy_s,
    )
    say(
        f"scale {scale:g}: load {load_s:.1f} s, refresh {refresh_s:.1f} s, wall "
        f"{child['wall_s']:.1f} s, COPY {copy_s:.1f} s, ratio {figures['ratio']:.2f}, "
        f"peak RSS {child['peak_rss_mib']:.0f} MiB"
    )
    return figures


# --- the child process --------------------------------------------------------------------------


def measure(argv: Sequence[str], env: dict[str, str] | os._Environ[str]) -> dict[str, Any]:
    """Run argv; its exit code, output, wall and CPU seconds and its own peak RSS (MiB).

    The peak comes from GNU time (/usr/bin/time -f %M) where there is one: a child forked from
    this process starts out as large as it is (Linux keeps the size before exec in ru_maxrss),
    so wait4's figure is at least this process's own RSS; GNU time is a small process, and so
    is the child it forks."""
    gnu_time = Path("/usr/bin/time")
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as peak:
        if gnu_time.exists():
            argv = [str(gnu_time), "-q", "-f", "%M", "-o", peak.name, *argv]
        started = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=err)
        assert proc.stdout is not None
        out = proc.stdout.read()
        proc.stdout.close()
        # Reap it ourselves: wait4 gives this child's own rusage (RUSAGE_CHILDREN would
        # include every earlier child).
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read()
        measured = peak.read().strip().splitlines() if gnu_time.exists() else []
    peak_kib = int(measured[-1]) if measured and measured[-1].isdigit() else usage.ru_maxrss
    return {
        "returncode": proc.returncode,
        "stdout": out.decode(errors="replace"),
        "stderr": stderr.decode(errors="replace"),
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mib": peak_kib / MIB,
    }


def _seconds(pattern: re.Pattern[str], output: str) -> float:
    found = pattern.search(output)
    if found is None:
        raise RuntimeError(f"no {pattern.pattern!r} in the output:\n{output}")
    return float(found.group(1))


# --- databases ----------------------------------------------------------------------------------


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _fresh(admin: str, name: str) -> str:
    """A new database `name` (dropped first if left over), migrated and reference-seeded."""
    drop_database(admin, name)
    ensure_database(admin, name)
    url = with_database(admin, name)
    env = {**os.environ, "DATABASE_URL": url}
    for step in (["db", "upgrade"], ["seed", "reference"]):
        done = subprocess.run([CHAINDB, *step], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"chaindb {' '.join(step)} failed:\n{done.stdout}{done.stderr}")
    return _libpq(url)


def _rename(admin: str, name: str, new_name: str) -> None:
    with psycopg.connect(_libpq(admin), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (new_name,)).fetchone():
            raise RuntimeError(f"database {new_name} exists: not replaced")
        conn.execute(
            sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                sql.Identifier(name), sql.Identifier(new_name)
            )
        )


def _tables(conn: psycopg.Connection) -> list[str]:
    """The public tables that have an id column."""
    return [
        name
        for (name,) in conn.execute(
            "SELECT c.table_name FROM information_schema.columns c "
            "JOIN information_schema.tables t USING (table_schema, table_name) "
            "WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' "
            "AND c.column_name = 'id' ORDER BY c.table_name"
        )
        if name not in NOT_LOADED
    ]


def _scalar(conn: psycopg.Connection, query: sql.Composed, params: Sequence[Any] = ()) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def _max_ids(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {
            table: int(
                _scalar(
                    conn,
                    sql.SQL("SELECT coalesce(max(id), 0) FROM {}").format(sql.Identifier(table)),
                )
            )
            for table in _tables(conn)
        }


def _new_rows(url: str, start: dict[str, int]) -> dict[str, int]:
    """Rows per table beyond the starting state."""
    with psycopg.connect(url) as conn:
        return {
            table: int(
                _scalar(
                    conn,
                    sql.SQL("SELECT count(*) FROM {} WHERE id > %s").format(sql.Identifier(table)),
                    (start[table],),
                )
            )
            for table in start
        }


def _fk_order(conn: psycopg.Connection, tables: list[str]) -> list[str]:
    """tables, each after the tables it refers to (self-references aside)."""
    deps: dict[str, set[str]] = {t: set() for t in tables}
    for child, parent in conn.execute(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint "
        "WHERE contype = 'f' AND connamespace = 'public'::regnamespace"
    ):
        if child in deps and parent in deps and child != parent:
            deps[child].add(parent)
    ordered: list[str] = []
    while deps:
        ready = sorted(t for t, d in deps.items() if not d - set(ordered))
        if not ready:
            raise RuntimeError(f"foreign-key cycle among {sorted(deps)}")
        ordered += ready
        for t in ready:
            del deps[t]
    return ordered


def _columns(conn: psycopg.Connection, table: str) -> list[str]:
    """Every column but generated ones, identity columns included (COPY writes them as given)."""
    return [
        name
        for (name,) in conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = %s AND is_generated = 'NEVER' "
            "ORDER BY ordinal_position",
            (table,),
        )
    ]


# A file of rows for COPY: (table, columns, stage reason or None, path, rows).
Dump = tuple[str, list[str], str | None, Path, int]


def _dump(url: str, start: dict[str, int], tables: list[str], folder: Path) -> list[Dump]:
    """The loaded rows of `tables` into files, in foreign-key order; projects in runs of ids
    whose stage event carries the same reason (the setting the trigger reads)."""
    files: list[Dump] = []
    with psycopg.connect(url) as conn:
        for table in _fk_order(conn, tables):
            columns = _columns(conn, table)
            ranges: list[tuple[int, int | None, str | None]] = (
                list(_reason_runs(conn, start[table]))
                if table == STAGE_TABLE
                else [(start[table] + 1, None, None)]
            )
            for k, (lo, hi, reason) in enumerate(ranges):
                path = folder / f"{table}.{k}.copy"
                query = sql.SQL(
                    "COPY (SELECT {} FROM {} WHERE id >= {} AND id <= {} ORDER BY id) TO STDOUT"
                ).format(
                    sql.SQL(", ").join(map(sql.Identifier, columns)),
                    sql.Identifier(table),
                    sql.Literal(lo),
                    sql.Literal(hi if hi is not None else 2**63 - 1),
                )
                with path.open("wb") as out, conn.cursor() as cur:
                    with cur.copy(query) as copy:
                        for data in copy:
                            out.write(data)
                    rows = cur.rowcount
                files.append((table, columns, reason, path, rows))
    return files


def _reason_runs(conn: psycopg.Connection, after: int) -> list[tuple[int, int, str | None]]:
    """Runs of consecutive project ids (beyond `after`) whose first stage event has the same
    reason: (first id, last id, reason)."""
    runs: list[tuple[int, int, str | None]] = []
    for project_id, reason in conn.execute(
        "SELECT p.id, e.reason FROM project p "
        "LEFT JOIN LATERAL (SELECT reason FROM project_stage_event e "
        "                   WHERE e.project_id = p.id ORDER BY e.id LIMIT 1) e ON true "
        "WHERE p.id > %s ORDER BY p.id",
        (after,),
    ):
        if runs and runs[-1][2] == reason:
            runs[-1] = (runs[-1][0], project_id, reason)
        else:
            runs.append((project_id, project_id, reason))
    return runs


def _copy(url: str, files: list[Dump]) -> tuple[float, dict[str, float]]:
    """COPY the files in one transaction; the seconds it took, commit included, and those of
    each table's COPY statements."""
    per_table: dict[str, float] = {}
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("SET LOCAL synchronous_commit = off")
            cur.execute("SELECT set_config('chaindb.actor', %s, true)", (ACTOR,))
            cur.execute("SELECT set_config('chaindb.stage_note', %s, true)", (SOURCE,))
            cur.execute("SELECT set_config('chaindb.stage_date', 'unknown', true)")
            reason: str | None = None
            for table, columns, file_reason, path, _rows in files:
                if table == STAGE_TABLE and file_reason != reason:
                    cur.execute(
                        "SELECT set_config('chaindb.stage_reason', %s, true)", (file_reason or "",)
                    )
                    reason = file_reason
                query = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
                )
                began = time.perf_counter()
                with path.open("rb") as f, cur.copy(query) as copy:
                    while data := f.read(1 << 20):
                        copy.write(data)
                per_table[table] = per_table.get(table, 0.0) + time.perf_counter() - began
            for table in dict.fromkeys(t for t, *_ in files):
                cur.execute(
                    sql.SQL(
                        "SELECT setval(pg_get_serial_sequence({t}, 'id'), max(id)) FROM {i}"
                    ).format(t=sql.Literal(table), i=sql.Identifier(table))
                )
        return time.perf_counter() - started, per_table


def _analyze(url: str, tables: list[str]) -> float:
    """ANALYZE what the loader analyzes at the end of its load time (not part of the COPY time)."""
    with psycopg.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute(sql.SQL("ANALYZE {}").format(sql.SQL(", ").join(map(sql.Identifier, tables))))
        return time.perf_counter() - started


def _verify(loader_url: str, copy_url: str, start: dict[str, int], copied: list[str]) -> None:
    """The same rows per table in both databases; the same content in the loaded tables."""
    figures = []
    for url in (loader_url, copy_url):
        with psycopg.connect(url) as conn:
            counts = {
                t: _scalar(conn, sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t)))
                for t in _tables(conn)
            }
            sums = {
                t: _scalar(
                    conn,
                    sql.SQL(
                        "SELECT sum(hashtext((to_jsonb(t) - %s::text[])::text)) "
                        "FROM {} t WHERE id > %s"
                    ).format(sql.Identifier(t)),
                    (list(UNCOMPARED), start[t]),
                )
                for t in [*copied, *COMPARED]
            }
            figures.append((counts, sums))
    (counts_a, sums_a), (counts_b, sums_b) = figures
    if counts_a != counts_b:
        diff = {
            t: (counts_a.get(t), counts_b.get(t))
            for t in counts_a
            if counts_a[t] != counts_b.get(t)
        }
        raise RuntimeError(f"row counts differ (loader, copy): {diff}")
    if sums_a != sums_b:
        differ = [t for t in sums_a if sums_a[t] != sums_b[t]]
        raise RuntimeError(f"the copied rows differ from the loaded ones in {differ}")


# --- output -------------------------------------------------------------------------------------


def markdown(results: Sequence[dict[str, Any]]) -> str:
    """A markdown table of run()'s figures, and the memory ratio and Python floor."""
    lines = [
        "| scale | load s | refresh s | wall s | loader CPU s | rows (written + by triggers) "
        "| rows/s | COPY s | COPY rows/s | ratio load/COPY | ANALYZE s | peak RSS MiB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        copied = (
            f"{r['copy_s']:.1f} | {r['copy_rows_per_s']:,.0f} | {r['ratio']:.2f} "
            f"| {r['analyze_s']:.1f}"
            if "copy_s" in r
            else "- | - | - | -"
        )
        lines.append(
            f"| {r['scale']:g} | {r['load_s']:.1f} | {r['refresh_s']:.1f} | {r['wall_s']:.1f} "
            f"| {r['loader_cpu_s']:.1f} | {r['rows']:,} ({r['rows_written']:,} + "
            f"{r['rows_by_triggers']:,}) | {r['rows_per_s']:,.0f} | {copied} "
            f"| {r['peak_rss_mib']:.0f} |"
        )
    if results:
        small = min(results, key=lambda r: r["scale"])
        large = max(results, key=lambda r: r["scale"])
        lines.append("")
        if large is not small:
            lines.append(
                f"Peak memory ratio, scale {large['scale']:g} / {small['scale']:g}: "
                f"{large['rss_ratio']:.2f}. "
            )
        lines.append(
            f"Python floor (peak RSS of `chaindb --help`): {small['floor_rss_mib']:.0f} MiB."
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="0.1,1", help="comma-separated (default 0.1,1)")
    parser.add_argument(
        "--keep",
        nargs="?",
        const=True,
        metavar="NAME",
        help="keep the databases afterwards; with NAME, only the loader's database of the last "
        "scale, renamed NAME (which must not exist)",
    )
    args = parser.parse_args()
    scales = [float(s) for s in args.scales.split(",") if s.strip()]
    keep_as = args.keep if isinstance(args.keep, str) else None
    results = run(scales, keep=args.keep is True, keep_as=keep_as)
    print(markdown(results))
    for r in results:
        tables = ", ".join(f"{t} {n:,}" for t, n in r["tables"].items() if n)
        print(f"\nscale {r['scale']:g} rows loaded: {tables}")
        tables = ", ".join(f"{t} {s:.1f} s" for t, s in r["copy_tables_s"].items())
        print(f"scale {r['scale']:g} COPY time by table (triggers included): {tables}")


if __name__ == "__main__":
    main()
