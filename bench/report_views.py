"""Time each reporting view warm on synthetic data; print median, p95 and the indexes used.

    .venv/bin/python bench/load.py --scales 1 --keep chaindb_bench   # once: data at scale 1
    .venv/bin/python bench/report_views.py \
        --database-url postgresql://postgres@127.0.0.1:5432/chaindb_bench [--markdown FILE]

For each view: `SELECT * FROM <view>` and, where a report page filters, the filtered query it
runs (one chain, one chain master, one planning unit, the latest year). Each query runs --warmup
times untimed, then --runs times timed, planned afresh each time with its values (client wall
time: execute and fetch every row). A filtered query then runs again as a prepared statement, as
a pooled connection runs it once psycopg (or a JDBC driver) prepares it: after five executions
the server may switch to a generic plan, blind to the values; the median of those later runs is
the "prepared" figure. One EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) per query (and one of the
generic plan) gives the server's time, the JIT compilation time, the indexes used and the tables
read whole; for supplier_tiers(), whose body EXPLAIN does not show, auto_explain adds the plans
of its statements when the session may LOAD it (a superuser).

The synthetic data has no chain gap: --with-gaps also times the two gap views inside a
transaction, rolled back, in which every enterprise of the busiest chain is made non-local. When
the gap views are materialized, that transaction refreshes them (report_chain_gaps first: the
other reads it) after the change, so that they hold the gaps; the refresh is timed and printed
too, and rolled back with the rest.

Only a database on 127.0.0.1 holding synthetic rows (`chaindb seed synthetic`). Every statement
is bounded by --statement-timeout, each query's timed runs by --case-budget, the whole run by
--time-budget. --search-path 'trial, public' times candidate rewrites created under the same
names in a schema of their own; --refresh times REFRESH MATERIALIZED VIEW CONCURRENTLY of the
views that are materialized (chaindb.reports.MATERIALIZED: a query on one of them reads its last
refresh, so refresh them first: `chaindb db refresh-reports`).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from seeds.synthetic import USCC_LIKE

# The views in dependency order; a view missing from the database is reported and skipped.
VIEWS = [
    "report_chain_overview",
    "report_chain_master_suppliers",
    "report_chain_gaps",
    "report_gap_candidates",
    "report_supplier_tiers",
    "report_district_chain_matrix",
    "report_project_pipeline",
    "report_project_rates",
    "report_target_progress",
    "report_designations",
]

# The filtered queries the report pages run. %(chain)s is the chain with the most active supply
# links, %(master)s its largest chain master, %(district)s the planning unit with the most
# projects, %(year)s the latest year with signings.
FILTERED = {
    "report_chain_overview": ["SELECT * FROM report_chain_overview WHERE chain_id = %(chain)s"],
    "report_chain_master_suppliers": [
        "SELECT * FROM report_chain_master_suppliers WHERE chain_id = %(chain)s",
        "SELECT * FROM report_chain_master_suppliers WHERE chain_master_id = %(master)s",
    ],
    "report_chain_gaps": ["SELECT * FROM report_chain_gaps WHERE chain_id = %(chain)s"],
    "report_gap_candidates": [
        "SELECT * FROM report_gap_candidates WHERE chain_id = %(chain)s "
        "ORDER BY chain_masters_supplied DESC, value_cny_10k DESC NULLS LAST LIMIT 100"
    ],
    "report_supplier_tiers": [
        # The report page unfiltered: its first 500 rows in the page's order.
        "SELECT * FROM report_supplier_tiers "
        "ORDER BY chain_master_name_zh, chain_code, tier, supplier_name_zh LIMIT 500",
        "SELECT * FROM report_supplier_tiers WHERE chain_id = %(chain)s "
        "ORDER BY chain_master_name_zh, chain_code, tier, supplier_name_zh LIMIT 500",
        "SELECT * FROM report_supplier_tiers WHERE chain_master_id = %(master)s "
        "AND chain_id = %(chain)s AND tier <= 3",
        "SELECT * FROM supplier_tiers(%(master)s, 3) WHERE chain_id = %(chain)s",
    ],
    "report_district_chain_matrix": [
        "SELECT * FROM report_district_chain_matrix WHERE district_id = %(district)s"
    ],
    "report_project_pipeline": ["SELECT * FROM report_project_pipeline WHERE year = %(year)s"],
    "report_project_rates": [
        "SELECT * FROM report_project_rates "
        "WHERE month >= date_trunc('month', current_date) - interval '11 months'"
    ],
    "report_target_progress": ["SELECT * FROM report_target_progress WHERE year = %(year)s"],
    "report_designations": [
        "SELECT * FROM report_designations WHERE scope = 'chain' AND chain_id = %(chain)s"
    ],
}

GAP_VIEWS = ("report_chain_gaps", "report_gap_candidates")

INDEX_NODES = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
GENERIC_AFTER = 6  # executions of a prepared statement before the server may go generic


@dataclass
class Plan:
    server_ms: float = math.nan
    planning_ms: float = math.nan
    jit_ms: float = 0.0
    buffers: str = ""
    indexes: list[str] = field(default_factory=list)
    seq_scans: list[str] = field(default_factory=list)


@dataclass
class Result:
    view: str
    query: str
    label: str
    kind: str = ""
    rows: int = 0
    times_ms: list[float] = field(default_factory=list)
    prepared_ms: list[float] = field(default_factory=list)
    plan: Plan | None = None
    generic: Plan | None = None
    refresh_ms: float | None = None
    error: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms) if self.times_ms else math.nan

    @property
    def p95(self) -> float:
        return nearest_rank(self.times_ms, 0.95)

    @property
    def prepared(self) -> float:
        return statistics.median(self.prepared_ms) if self.prepared_ms else math.nan

    @property
    def worst(self) -> float:
        return max(self.median, self.prepared) if self.prepared_ms else self.median


def nearest_rank(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--runs", type=int, default=20, help="timed runs per query")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs first")
    parser.add_argument(
        "--limit-ms",
        type=float,
        default=100.0,
        help="flag a median (or prepared median) above this",
    )
    parser.add_argument("--statement-timeout", type=float, default=30.0, help="seconds")
    parser.add_argument("--case-budget", type=float, default=20.0, help="seconds per query")
    parser.add_argument("--time-budget", type=float, default=900.0, help="seconds in all")
    parser.add_argument(
        "--jit",
        choices=["default", "on", "off"],
        default="default",
        help="the session's jit setting (default: the server's)",
    )
    parser.add_argument("--search-path", help="e.g. 'trial, public' to time rewrites")
    parser.add_argument(
        "--refresh", action="store_true", help="time REFRESH ... CONCURRENTLY of each MV"
    )
    parser.add_argument(
        "--with-gaps", action="store_true", help="also time the gap views with a gapped chain"
    )
    parser.add_argument("--only", action="append", help="only this view (repeatable)")
    parser.add_argument("--no-filtered", action="store_true", help="only SELECT * per view")
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown here")
    parser.add_argument("--json", type=Path, help="also write each query's figures as JSON here")
    args = parser.parse_args()
    deadline = time.monotonic() + args.time_budget

    conninfo = check_url(args.database_url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.prepare_threshold = None
        conn.execute(f"SET statement_timeout = {int(args.statement_timeout * 1000)}")
        conn.execute("SET application_name = 'bench/report_views.py'")
        if args.jit != "default":
            conn.execute(f"SET jit = {args.jit}")
        if args.search_path:
            conn.execute("SELECT set_config('search_path', %s, false)", (args.search_path,))
        synthetic = conn.execute(
            "SELECT count(*) FROM enterprise WHERE uscc LIKE %s", (USCC_LIKE,)
        ).fetchone()[0]
        if not synthetic:
            sys.exit(
                "no synthetic data here: load it first (chaindb seed synthetic --scale 1, or "
                "bench/load.py --scales 1 --keep chaindb_bench)"
            )
        params = fixture(conn)
        scale = describe(conn)
        views = [v for v in VIEWS if not args.only or v in args.only]
        results = [
            run(conn, view, query, params, args, deadline)
            for view in views
            for query in queries_of(view, args)
        ]
        if args.with_gaps:
            results += with_gaps(conn, views, params, args, deadline)

    print()
    print(summary(results, args.limit_ms))
    print()
    print(scale)
    print(settings_line(params, args))
    slow = [r for r in results if not r.error and r.worst > args.limit_ms]
    failed = [r for r in results if r.error]
    print(f"over {args.limit_ms:.0f} ms: {len(slow)}; failed, missing or skipped: {len(failed)}")
    if args.markdown:
        args.markdown.write_text(markdown(results, scale, params, args), encoding="utf-8")
        print(f"wrote {args.markdown}")
    if args.json:
        figures = [
            {"view": r.view, "label": r.label, "kind": r.kind, "rows": r.rows,
             "median_ms": None if r.error or math.isnan(r.median) else r.median,
             "worst_ms": None if r.error or math.isnan(r.worst) else r.worst, "error": r.error}
            for r in results
        ]  # fmt: skip
        args.json.write_text(json.dumps(figures, allow_nan=False, default=str), encoding="utf-8")


def check_url(url: str | None) -> str:
    """A libpq conninfo for url, refusing anything but a server on 127.0.0.1."""
    if not url:
        sys.exit("give --database-url or set DATABASE_URL")
    parsed = make_url(url)
    if parsed.host != "127.0.0.1":
        sys.exit(f"refusing to run against host {parsed.host!r}: 127.0.0.1 only")
    if not parsed.database or parsed.database == "postgres":
        sys.exit("name the database holding the synthetic data in the URL")
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def fixture(conn: psycopg.Connection) -> dict:
    """Ids the filtered queries use: the busiest chain, master, planning unit and year."""
    chain, master = conn.execute(
        "SELECT chain_id, buyer_id FROM supply_link WHERE status = 'active' "
        "GROUP BY chain_id, buyer_id ORDER BY count(*) DESC, buyer_id LIMIT 1"
    ).fetchone()
    district = conn.execute(
        "SELECT district_id FROM project GROUP BY district_id ORDER BY count(*) DESC, "
        "district_id LIMIT 1"
    ).fetchone()[0]
    year = conn.execute(
        "SELECT COALESCE(extract(year FROM max(signed_on))::int, extract(year FROM "
        "current_date)::int) FROM project WHERE signed_on <= current_date"
    ).fetchone()[0]
    return {"chain": chain, "master": master, "district": district, "year": year}


def describe(conn: psycopg.Connection) -> str:
    row = conn.execute(
        "SELECT (SELECT count(*) FROM enterprise), (SELECT count(*) FROM supply_link), "
        "(SELECT count(*) FROM project), current_setting('server_version'), "
        "current_setting('shared_buffers'), current_setting('work_mem'), "
        "(SELECT reset_val FROM pg_settings WHERE name = 'jit')"
    ).fetchone()
    return (
        f"{row[0]:,} enterprises, {row[1]:,} supply links, {row[2]:,} projects; PostgreSQL "
        f"{row[3].split()[0]}, shared_buffers {row[4]}, work_mem {row[5]}, jit {row[6]} by "
        "default (server and database settings)"
    )


def settings_line(params: dict, args: argparse.Namespace) -> str:
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"fixture: chain {params['chain']}, chain master {params['master']}, district "
        f"{params['district']}, year {params['year']}. {args.warmup} warm-up + up to "
        f"{args.runs} timed runs per query (client wall time, every row fetched); session jit "
        f"{args.jit}" + (f", search_path {args.search_path}" if args.search_path else "") + f"; "
        f"load average {load} on {os.cpu_count()} CPUs"
    )


def queries_of(view: str, args: argparse.Namespace) -> list[str]:
    return [f"SELECT * FROM {view}"] + ([] if args.no_filtered else FILTERED.get(view, []))


def label_of(query: str, params: dict) -> str:
    text = query.removeprefix("SELECT * FROM ")
    return PLACEHOLDER.sub(lambda m: str(params[m.group(1)]), text)


def relation_kind(conn: psycopg.Connection, name: str) -> str:
    """view, materialized (with its schema when not public) or missing, on the search path."""
    row = conn.execute(
        "SELECT c.relkind, n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.oid = to_regclass(%s)",
        (name,),
    ).fetchone()
    if row is None:
        return "missing"
    kind = {"v": "view", "m": "materialized"}.get(row[0], "table")
    return kind if row[1] == "public" else f"{kind} ({row[1]})"


def run(
    conn: psycopg.Connection,
    view: str,
    query: str,
    params: dict,
    args: argparse.Namespace,
    deadline: float,
    suffix: str = "",
) -> Result:
    result = Result(view=view, query=query, label=label_of(query, params) + suffix)
    result.kind = "function" if "supplier_tiers(" in query else relation_kind(conn, view)
    if result.kind == "missing":
        result.error = "not in the database"
    elif time.monotonic() > deadline:
        result.error = "skipped: --time-budget spent"
    else:
        try:
            measure(conn, result, params, args)
            if args.refresh and result.kind.startswith("materialized") and query.endswith(view):
                t0 = time.perf_counter()
                conn.execute(f"REFRESH MATERIALIZED VIEW CONCURRENTLY {view}")
                result.refresh_ms = (time.perf_counter() - t0) * 1000
        except psycopg.Error as error:
            result.error = str(error).strip().splitlines()[0]
    print(detail(result, args.limit_ms), flush=True)
    return result


def measure(conn: psycopg.Connection, result: Result, params: dict, args) -> None:
    query = result.query
    for _ in range(args.warmup):
        conn.execute(query, params).fetchall()
    started = time.perf_counter()
    for _ in range(args.runs):
        t0 = time.perf_counter()
        rows = conn.execute(query, params).fetchall()
        result.times_ms.append((time.perf_counter() - t0) * 1000)
        result.rows = len(rows)
        if time.perf_counter() - started > args.case_budget and len(result.times_ms) >= 3:
            break
    result.plan = explain(conn, "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query, params)
    if result.kind == "function":
        inside_function(conn, result, params)
    if PLACEHOLDER.search(query):
        prepared(conn, result, params, args)
        result.generic = explain_generic(conn, query, params)


def prepared(conn: psycopg.Connection, result: Result, params: dict, args) -> None:
    """Run the query as a prepared statement past the point where the server may go generic."""
    conn.prepare_threshold = 0
    try:
        started = time.perf_counter()
        for n in range(GENERIC_AFTER + max(args.runs // 2, 5)):
            t0 = time.perf_counter()
            conn.execute(result.query, params).fetchall()
            if n >= GENERIC_AFTER:
                result.prepared_ms.append((time.perf_counter() - t0) * 1000)
            if time.perf_counter() - started > args.case_budget and len(result.prepared_ms) >= 3:
                break
    finally:
        conn.prepare_threshold = None


def explain(conn: psycopg.Connection, statement: str, params: dict | None = None) -> Plan:
    document = conn.execute(statement, params).fetchone()[0]
    if isinstance(document, str):
        document = json.loads(document)
    return read_plan(document[0])


def inside_function(conn: psycopg.Connection, result: Result, params: dict) -> None:
    """A function that is not inlined shows as one Function Scan: its own statements' plans come
    from auto_explain (log_nested_statements), sent to this session as LOG messages. Needs a
    superuser (LOAD); without one the plan stays as EXPLAIN shows it."""
    messages: list[str] = []

    def keep(diagnostic: psycopg.errors.Diagnostic) -> None:
        messages.append(diagnostic.message_primary or "")

    settings = {
        "auto_explain.log_min_duration": "0",
        "auto_explain.log_analyze": "on",
        "auto_explain.log_buffers": "on",
        "auto_explain.log_nested_statements": "on",
        "auto_explain.log_format": "json",
        "client_min_messages": "log",
    }
    conn.add_notice_handler(keep)
    try:
        conn.execute("LOAD 'auto_explain'")
        for name, value in settings.items():
            conn.execute("SELECT set_config(%s, %s, false)", (name, value))
        conn.execute(result.query, params).fetchall()
    except psycopg.Error:
        return
    finally:
        conn.execute("SET client_min_messages = notice")
        conn.execute("SET auto_explain.log_min_duration = -1")
        conn.remove_notice_handler(keep)
    for message in messages:
        if "plan:" not in message:
            continue
        nested = read_plan(json.loads(message.split("plan:", 1)[1]))
        if nested.indexes or nested.seq_scans:
            result.plan.indexes += [i for i in nested.indexes if i not in result.plan.indexes]
            result.plan.seq_scans += [s for s in nested.seq_scans if s not in result.plan.seq_scans]


def explain_generic(conn: psycopg.Connection, query: str, params: dict) -> Plan:
    """The plan the server uses once it goes generic (PostgreSQL 15 has no GENERIC_PLAN)."""
    names: list[str] = []

    def number(match: re.Match) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    conn.execute("PREPARE bench_generic AS " + PLACEHOLDER.sub(number, query))
    try:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        values = ", ".join(str(int(params[name])) for name in names)
        return explain(
            conn, f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE bench_generic({values})"
        )
    finally:
        conn.execute("RESET plan_cache_mode")
        conn.execute("DEALLOCATE bench_generic")


def read_plan(document: dict) -> Plan:
    top = document["Plan"]
    plan = Plan(
        server_ms=document.get("Execution Time", math.nan),
        planning_ms=document.get("Planning Time", math.nan),
        jit_ms=document.get("JIT", {}).get("Timing", {}).get("Total", 0.0),
    )
    temp = top.get("Temp Written Blocks", 0)
    plan.buffers = (
        f"hit {top.get('Shared Hit Blocks', 0):,} read {top.get('Shared Read Blocks', 0):,}"
        + (f" temp {temp:,}" if temp else "")
    )
    indexes: dict[str, None] = {}
    seqs: dict[str, int] = {}
    for node in walk(top):
        if node["Node Type"] in INDEX_NODES:
            indexes[node["Index Name"]] = None
        elif node["Node Type"] == "Seq Scan":
            name = node["Relation Name"]
            seqs[name] = max(seqs.get(name, 0), node.get("Actual Loops", 1))
    plan.indexes = list(indexes)
    plan.seq_scans = [f"{n}×{loops}" if loops > 1 else n for n, loops in seqs.items()]
    return plan


def walk(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from walk(child)


SETUP_TIMEOUT_S = 300  # the with-gaps set-up (not measured)


def with_gaps(conn: psycopg.Connection, views: list[str], params: dict, args, deadline: float):
    """The gap views again, in a transaction rolled back, with the busiest chain all non-local."""
    chosen = [v for v in views if v in GAP_VIEWS]
    if not chosen:
        return []
    results = []
    conn.autocommit = False
    try:
        # Setting the gaps up is not measured: it may take longer than a report may (at scale
        # 5 the UPDATE's triggers run for every enterprise of the chain). Bounded all the same.
        conn.execute(f"SET LOCAL statement_timeout = {SETUP_TIMEOUT_S * 1000}")
        try:
            made = conn.execute(
                "UPDATE enterprise SET district_id = NULL WHERE district_id IS NOT NULL AND ("
                "id IN (SELECT supplier_id FROM supply_link WHERE chain_id = %(chain)s) OR "
                "id IN (SELECT enterprise_id FROM chain_role WHERE chain_id = %(chain)s))",
                params,
            ).rowcount
        except psycopg.errors.QueryCanceled:
            print(
                f"with gaps: skipped: making chain {params['chain']}'s enterprises non-local "
                f"took more than {SETUP_TIMEOUT_S} s"
            )
            return []
        conn.execute(f"SET LOCAL statement_timeout = {int(args.statement_timeout * 1000)}")
        conn.execute("ANALYZE enterprise")
        print(f"with gaps: chain {params['chain']}'s {made:,} local enterprises made non-local")
        # A materialized gap view holds the rows of its last refresh: refresh it here, in this
        # transaction, to see the gaps (every gap view, in GAP_VIEWS' order: one reads the other).
        refreshed: dict[str, float] = {}
        for view in GAP_VIEWS:
            if relation_kind(conn, view).startswith("materialized"):
                t0 = time.perf_counter()
                conn.execute(f"REFRESH MATERIALIZED VIEW CONCURRENTLY {view}")
                refreshed[view] = (time.perf_counter() - t0) * 1000
                conn.execute(f"ANALYZE {view}")
                print(f"with gaps: {view} refreshed concurrently in {refreshed[view]:.0f} ms")
        suffix = " [gapped]"
        for view in chosen:
            for query in queries_of(view, args):
                result = run(conn, view, query, params, args, deadline, suffix)
                if query.endswith(view) and view in refreshed:
                    result.refresh_ms = refreshed[view]
                results.append(result)
    finally:
        conn.rollback()
        conn.autocommit = True
    return results


def ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def detail(result: Result, limit_ms: float) -> str:
    if result.error:
        return f"{result.label}\n    {result.kind}: {result.error}"
    plan = result.plan
    flag = "  OVER" if result.worst > limit_ms else ""
    lines = [
        f"{result.label}{flag}",
        f"    {result.kind}, {result.rows:,} rows; median {ms(result.median)} ms, p95 "
        f"{ms(result.p95)} ms ({len(result.times_ms)} runs)"
        + (f"; prepared {ms(result.prepared)} ms" if result.prepared_ms else "")
        + (f"; refresh concurrently {result.refresh_ms:.0f} ms" if result.refresh_ms else ""),
        f"    plan: server {ms(plan.server_ms)} ms, planning {ms(plan.planning_ms)} ms, jit "
        f"{plan.jit_ms:.0f} ms, {plan.buffers}",
        f"    indexes: {', '.join(plan.indexes) or '-'}; seq scans: "
        f"{', '.join(plan.seq_scans) or '-'}",
    ]
    if result.generic:
        g = result.generic
        lines.append(
            f"    generic plan: server {ms(g.server_ms)} ms, jit {g.jit_ms:.0f} ms; indexes: "
            f"{', '.join(g.indexes) or '-'}; seq scans: {', '.join(g.seq_scans) or '-'}"
        )
    return "\n".join(lines)


def summary(results: list[Result], limit_ms: float) -> str:
    width = max(len(r.label) for r in results)
    out = [f"{'query':<{width}} {'kind':<22} {'rows':>9} {'median':>8} {'p95':>8} {'prepared':>8}"]
    for r in results:
        if r.error:
            out.append(f"{r.label:<{width}} {r.kind:<22} {r.error}")
            continue
        flag = "  OVER" if r.worst > limit_ms else ""
        out.append(
            f"{r.label:<{width}} {r.kind:<22} {r.rows:>9,} {ms(r.median):>8} {ms(r.p95):>8} "
            f"{ms(r.prepared):>8}{flag}"
        )
    return "\n".join(out) + "\n(milliseconds)"


def markdown(results: list[Result], scale: str, params: dict, args) -> str:
    out = [
        f"Synthetic data: {scale}. {settings_line(params, args)}. Median and p95 of the "
        "runs planned with their values; prepared: median once the server may use a generic "
        "plan; server, planning and JIT time and the indexes from `EXPLAIN (ANALYZE, BUFFERS)`.",
        "",
        "| query | kind | rows | median ms | p95 ms | prepared ms | server ms | jit ms "
        "| indexes used | read whole |",
        "|---|---|--:|--:|--:|--:|--:|--:|---|---|",
    ]
    for r in results:
        label = r.label.replace("|", "\\|")
        if r.error:
            out.append(f"| `{label}` | {r.kind} | | | | | | | {r.error} | |")
            continue
        kind = r.kind + (f", refresh {r.refresh_ms:.0f} ms" if r.refresh_ms else "")
        median = f"**{ms(r.median)}**" if r.median > args.limit_ms else ms(r.median)
        prep = f"**{ms(r.prepared)}**" if r.prepared > args.limit_ms else ms(r.prepared)
        out.append(
            f"| `{label}` | {kind} | {r.rows:,} | {median} | {ms(r.p95)} | {prep} | "
            f"{ms(r.plan.server_ms)} | {r.plan.jit_ms:.0f} | {', '.join(r.plan.indexes) or '-'} "
            f"| {', '.join(r.plan.seq_scans) or '-'} |"
        )
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
