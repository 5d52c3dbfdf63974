"""Load-test four API calls at 32 connections: chaindb, a hand-written endpoint, Platformatic DB
and pgbench (the database's ceiling), on the same data, one after another.

    .venv/bin/python bench/load.py --scales 1 --keep chaindb_bench   # once: data at scale 1
    .venv/bin/python bench/api_load.py [--database chaindb_bench] [--duration 15]

The calls: list 50 projects of one chain (with the total count), read one project (ids cycle
through 10,000), create a supply link (a new product each time), move a project's stage (4,000
projects made for it, each moved to signed and back to negotiating in turn; reset to
negotiating before each run). The systems:

- chaindb: chaindb.wsgi:app under granian as `chaindb run` serves it (chaindb/serve.py: one
  worker per core, one thread each), a bearer token of an editor, in production mode;
- chaindb, no refresher: the link again, chaindb started with CHAINDB_REPORTS_LISTEN=off, so
  that no process of it keeps the reports current behind the links (what that costs them);
- baseline: bench/baseline_app.py (Flask + psycopg, no validation, no authentication) under the
  same granian settings, which measured best for it too (bench/server_ab.py);
- Platformatic DB (bench/peers.py): its automatic REST API over the same schema, on 127.0.0.1
  only (checked), at its best: the read is run first with each pool size of PLATFORMATIC_POOLS
  (5 s each) and the best one serves every call (logging already at warn, one process: its
  default). Not for the stage move: its automatic API cannot hand the move's date and reason to
  the stage-history trigger, so a move back is refused there;
- pgbench: the SQL chaindb runs for each call (bench/pgbench/*.sql), no HTTP at all.

wrk drives the HTTP servers (-t2 -c32 by default); each scenario runs once for --warmup seconds
unmeasured, then --duration seconds measured. Prints a table of req/s, p50, p99 and the ratios
(chaindb / baseline, chaindb / Platformatic, chaindb / pgbench). Only loopback traffic. Needs wrk
(apt-get install wrk), pgbench and Node.js 20 (for Platformatic; --no-platformatic skips it).
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import peers  # noqa: E402

BIN = Path(sys.executable).parent
WRK = ROOT / "bench" / "wrk"
CHAINDB_PORT, BASELINE_PORT, PLATFORMATIC_PORT = 8101, 8102, 8103
CALLS = (
    "list 50 projects of a chain",
    "read one project",
    "create a supply link",
    "move a project's stage",
)
# "chaindb, no refresher": the links again with the report refresher off in chaindb's processes
# (CHAINDB_REPORTS_LISTEN=off), to show what keeping the reports current costs the writes.
QUIET_CHAINDB = "chaindb, no refresher"
SYSTEMS = ("chaindb", QUIET_CHAINDB, "hand-written", "Platformatic", "pgbench")
PLATFORMATIC_POOLS = (10, 20, 32)
STAGE_PROJECTS, STAGE_PREFIX = 4000, "bench-moves-"
SETTLE = 2.0  # seconds for the requests a run left in flight to end (its p99 is under 0.5 s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="chaindb_bench")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=15, help="measured seconds per run")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured seconds first")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--no-platformatic", action="store_true")
    args = parser.parse_args()
    rows = run(
        database_url(args.database),
        connections=args.connections,
        duration=args.duration,
        warmup=args.warmup,
        threads=args.threads,
        platformatic=not args.no_platformatic,
    )
    print(markdown(rows))


def database_url(name: str) -> str:
    """DATABASE_URL's server (else the local one on 127.0.0.1:5432), database `name`."""
    base = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    from chaindb.config import normalize_database_url
    from chaindb.database import with_database

    return with_database(normalize_database_url(base), name)


def run(
    url: str,
    *,
    connections: int = 32,
    duration: int = 15,
    warmup: int = 3,
    threads: int = 2,
    platformatic: bool = True,
    systems: tuple[str, ...] = SYSTEMS,
) -> list[dict[str, Any]]:
    """One row per (call, system): rps, p50_ms, p99_ms, errors (Platformatic's also pool)."""
    fixture = peers.fixture_ids(url)
    token = make_token(url)
    first_stage, day = stage_projects(url, fixture)
    common = {
        "CHAIN_ID": str(fixture["chain"]),
        "FIRST_ID": str(fixture["project"]),
        "BUYER_ID": str(fixture["buyer"]),
        "FIRST_SUPPLIER": str(fixture["supplier"]),
        "FIRST_STAGE_ID": str(first_stage),
        "STAGE_COUNT": str(STAGE_PROJECTS // threads),
        "DAY": day,
    }
    ours = [
        ("list_projects.lua", {"PREFIX": "/api/v1/projects"}),
        ("read_project.lua", {"PREFIX": "/api/v1/projects"}),
        ("create_link.lua",
         {"PREFIX": f"/api/v1/chain-masters/{fixture['buyer']}/suppliers", "BODY": "api"}),
        ("move_stage.lua", {"PREFIX": "/api/v1/projects"}),
    ]  # fmt: skip
    theirs = [
        ("list_projects.lua", {"PREFIX": "/projects"}),
        ("read_project.lua", {"PREFIX": "/projects"}),
        ("create_link.lua", {"PREFIX": "/links", "BODY": "baseline"}),
        ("move_stage.lua", {"PREFIX": "/projects"}),
    ]
    plt = [
        ("platformatic_list.lua", {"TOTAL": "1"}),
        ("platformatic_read.lua", {}),
        ("platformatic_create_link.lua", {}),
    ]
    rows: list[dict[str, Any]] = []

    def wrk(system: str, call: str, base: str, script: str, env: dict[str, str]) -> None:
        env = {**common, **env}
        staged = script == "move_stage.lua"
        if warmup:
            if staged:
                reset_stage_projects(url)
            peers.run_wrk(base, WRK / script, env, connections, threads, warmup)
        if staged:
            # wrk stops with requests in flight, which the server still answers: moves that
            # would commit after the reset and be refused in the run (409, already there).
            time.sleep(SETTLE)
            reset_stage_projects(url)
        result = peers.run_wrk(base, WRK / script, env, connections, threads, duration)
        rows.append({"call": call, "system": system, **result})
        print(f"  {system:<13} {call:<28} {result['rps']:>8.0f} req/s", file=sys.stderr)

    env = server_env(url)
    links_only = [None, None, ours[2], None]
    for system, app, port, scripts, extra in (
        ("chaindb", "chaindb.wsgi:app", CHAINDB_PORT, ours, {"TOKEN": token}),
        (QUIET_CHAINDB, "chaindb.wsgi:app", CHAINDB_PORT, links_only, {"TOKEN": token}),
        ("hand-written", "bench.baseline_app:app", BASELINE_PORT, theirs, {"TOKEN": ""}),
    ):
        if system not in systems:
            continue
        wait_quiet(url)
        quiet = {"CHAINDB_REPORTS_LISTEN": "off"} if system == QUIET_CHAINDB else {}
        server = granian(app, port, {**env, **quiet})
        try:
            wait_until_up(f"http://127.0.0.1:{port}/projects/{fixture['project']}"
                          if system == "hand-written" else
                          f"http://127.0.0.1:{port}/healthz")  # fmt: skip
            if system == "chaindb":
                wait_refresher(url)
            for call, chosen in zip(CALLS, scripts, strict=True):
                if chosen is None:
                    continue
                script, script_env = chosen
                wrk(system, call, f"http://127.0.0.1:{port}", script, {**script_env, **extra})
        finally:
            server.terminate()
            server.wait(timeout=30)
    if platformatic and "Platformatic" in systems:
        wait_quiet(url)
        peers.ensure_platformatic()
        pool = best_platformatic_pool(url, {**common, **plt[1][1]}, connections, threads)
        with peers.platformatic(url, PLATFORMATIC_PORT, pool_size=pool) as base:
            for call, (script, script_env) in zip(CALLS, plt, strict=False):
                wrk("Platformatic", call, str(base), script, script_env)
                rows[-1]["pool"] = pool
    if "pgbench" in systems:
        wait_quiet(url)
        scenarios = [
            *peers.pgbench_scenarios(fixture),
            ("move a project's stage", ROOT / "bench" / "pgbench" / "move_stage.sql",
             {"first_stage": first_stage, "per_client": STAGE_PROJECTS // connections}),
        ]  # fmt: skip
        for call, (_, script, variables) in zip(CALLS, scenarios, strict=True):
            staged = script.name == "move_stage.sql"
            if staged:
                reset_stage_projects(url)
            peers.run_pgbench(url, script, variables, connections, threads, warmup or 1)
            if staged:
                reset_stage_projects(url)
            result = peers.run_pgbench(url, script, variables, connections, threads, duration)
            rows.append({"call": call, "system": "pgbench", **result})
            print(f"  {'pgbench':<13} {call:<28} {result['rps']:>8.0f} tx/s", file=sys.stderr)
    return rows


def wait_quiet(url: str, timeout: float = 600) -> None:
    """Wait until nothing runs in the database (chaindb's report refresher rebuilding the
    supplier tiers after its links, say), then VACUUM (ANALYZE) the project table, which the
    stage moves before leave full of dead rows: no system is measured beside another's leftover
    work or on the table another's writes left behind."""
    import psycopg

    from chaindb.config import normalize_database_url

    conninfo = normalize_database_url(url).replace("postgresql+psycopg://", "postgresql://")
    deadline, quiet = time.monotonic() + timeout, 0
    with psycopg.connect(conninfo, autocommit=True) as conn:
        while quiet < 2 and time.monotonic() < deadline:
            busy = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state = 'active' AND pid <> pg_backend_pid()"
            ).fetchone()[0]
            quiet = 0 if busy else quiet + 1
            if busy and quiet == 0:
                print(f"  waiting for {busy} running statement(s) to end", file=sys.stderr)
            time.sleep(1)
        conn.execute("VACUUM (ANALYZE) project")


def wait_refresher(url: str, timeout: float = 60) -> None:
    """Wait until one of chaindb's processes holds the report refresher's lock, then until its
    refresh on taking over (every materialized report) has ended: the first call is not
    measured beside it."""
    from chaindb.db import make_engine
    from chaindb.reports.listener import active

    engine = make_engine(url)
    try:
        deadline = time.monotonic() + timeout
        with engine.connect() as conn:
            while not active(conn):
                if time.monotonic() > deadline:
                    print("  no report refresher took over (CHAINDB_REPORTS_LISTEN=off?)",
                          file=sys.stderr)  # fmt: skip
                    return
                time.sleep(0.5)
    finally:
        engine.dispose()
    wait_quiet(url)


def best_platformatic_pool(url: str, env: dict[str, str], connections: int, threads: int) -> int:
    """The pool size of PLATFORMATIC_POOLS under which Platformatic reads fastest (5 s each,
    after a 2 s warm-up): its best configuration, so that the comparison is fair to it."""
    best, best_rps = PLATFORMATIC_POOLS[0], -1.0
    for pool in PLATFORMATIC_POOLS:
        with peers.platformatic(url, PLATFORMATIC_PORT, pool_size=pool) as base:
            script = WRK / "platformatic_read.lua"
            peers.run_wrk(str(base), script, env, connections, threads, 2)
            rps = peers.run_wrk(str(base), script, env, connections, threads, 5)["rps"]
        print(f"  Platformatic pool {pool:>3}: {rps:,.0f} reads/s", file=sys.stderr)
        if rps > best_rps:
            best, best_rps = pool, rps
    return best


def stage_projects(url: str, fixture: dict[str, int]) -> tuple[int, str]:
    """The first id of STAGE_PROJECTS consecutive projects made for the stage moves (made once,
    named bench-moves-N, drafts of the chain with the fewest projects: not the listed chain,
    whose index the moves would bloat for the systems measured after), and the database's
    today."""
    import psycopg

    from chaindb.config import normalize_database_url

    conninfo = normalize_database_url(url).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as conn:
        first = conn.execute(
            "SELECT min(id) FROM project WHERE name LIKE %s", (STAGE_PREFIX + "%",)
        ).fetchone()[0]
        if first is None:
            district = conn.execute("SELECT min(id) FROM district").fetchone()[0]
            chain = conn.execute(
                "SELECT c.id FROM chain c WHERE c.id <> %s ORDER BY "
                "(SELECT count(*) FROM project p WHERE p.chain_id = c.id), c.id LIMIT 1",
                (fixture["chain"],),
            ).fetchone()[0]
            first = conn.execute(
                "INSERT INTO project (name, chain_id, district_id, investor_name, kind, stage, "
                "is_key, review_status) "
                "SELECT %s || g, %s, %s, 'bench', 'new', 'negotiating', false, 'draft' "
                "FROM generate_series(1, %s) AS g RETURNING id",
                (STAGE_PREFIX, chain, district, STAGE_PROJECTS),
            ).fetchone()[0]
        day = conn.execute("SELECT current_date::text").fetchone()[0]
    return first, day


def reset_stage_projects(url: str) -> None:
    """Every stage project back at negotiating (a move back: with a reason), none signed."""
    import psycopg

    from chaindb.config import normalize_database_url

    conninfo = normalize_database_url(url).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as conn:
        conn.execute(
            "SELECT set_config('chaindb.stage_reason', 'bench reset', true), "
            "set_config('chaindb.actor', 'bench', true)"
        )
        conn.execute(
            "UPDATE project SET stage = 'negotiating', signed_on = NULL, "
            "construction_started_on = NULL, production_started_on = NULL, "
            "capacity_reached_on = NULL, dropped_on = NULL "
            "WHERE name LIKE %s AND stage <> 'negotiating'",
            (STAGE_PREFIX + "%",),
        )


def make_token(url: str) -> str:
    """A new editor and a token for it (what a client of the API holds)."""
    from sqlalchemy.orm import Session

    from chaindb.auth.service import create_token, create_user
    from chaindb.db import make_engine

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            name = f"bench-{secrets.token_hex(3)}"
            user = create_user(session=session, username=name, role="editor", password=None)
            _, token = create_token(session=session, user=user, name="bench/api_load.py")
            session.commit()
    finally:
        engine.dispose()
    return token


def server_env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "CHAINDB_ENV": "production",
        "CHAINDB_SECRET_KEY": secrets.token_urlsafe(48),
        "CHAINDB_LOG_LEVEL": "WARNING",
        "CHAINDB_HOST": "127.0.0.1",
        "PYTHONPATH": str(ROOT),
    }


def granian(app: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    """granian with chaindb's serving settings (chaindb/serve.py), bound to loopback."""
    from chaindb.serve import settings

    workers, threads = settings()
    return subprocess.Popen(
        [BIN / "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--blocking-threads", str(threads), "--no-ws",
         "--log-level", "warning", app],
        env=env, cwd=ROOT,
    )  # fmt: skip


def wait_until_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def markdown(rows: list[dict[str, Any]]) -> str:
    """The table: per call and system, req/s, p50, p99, errors, and chaindb's ratio to each."""
    by = {(r["call"], r["system"]): r for r in rows}
    lines = [
        "| call | system | req/s | p50 ms | p99 ms | errors | chaindb ÷ this |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for call in CALLS:
        ours = by.get((call, "chaindb"))
        for system in SYSTEMS:
            row = by.get((call, system))
            if row is None:
                continue
            ratio = (
                f"{ours['rps'] / row['rps']:.2f}"
                if ours and system != "chaindb" and row["rps"]
                else ""
            )
            name = f"{system} (pool {row['pool']})" if "pool" in row else system
            lines.append(
                f"| {call} | {name} | {row['rps']:,.0f} | {row['p50_ms']:.1f} | "
                f"{row['p99_ms']:.1f} | {row['errors']} | {ratio} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
