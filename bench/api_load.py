"""Load-test three API calls at 32 connections: chaindb, a hand-written endpoint, Platformatic DB
and pgbench (the database's ceiling), on the same data, one after another.

    .venv/bin/python bench/load.py --scales 1 --keep chaindb_bench   # once: data at scale 1
    .venv/bin/python bench/api_load.py [--database chaindb_bench] [--duration 15]

The calls: list 50 projects of one chain (with the total count), read one project (ids cycle
through 10,000), create a supply link (a new product each time). The systems:

- chaindb: chaindb.wsgi:app under granian as `chaindb run` serves it (chaindb/serve.py: one
  worker per core, one thread each), a bearer token of an editor, in production mode;
- baseline: bench/baseline_app.py (Flask + psycopg, no validation, no authentication) under the
  same granian settings, which measured best for it too (bench/server_ab.py);
- Platformatic DB (bench/peers.py): its automatic REST API over the same schema, on 127.0.0.1
  only (checked);
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
CALLS = ("list 50 projects of a chain", "read one project", "create a supply link")


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
) -> list[dict[str, Any]]:
    """One row per (call, system): rps, p50_ms, p99_ms, errors."""
    fixture = peers.fixture_ids(url)
    token = make_token(url)
    common = {
        "CHAIN_ID": str(fixture["chain"]),
        "FIRST_ID": str(fixture["project"]),
        "BUYER_ID": str(fixture["buyer"]),
        "FIRST_SUPPLIER": str(fixture["supplier"]),
    }
    ours = [
        ("list_projects.lua", {"PREFIX": "/api/v1/projects"}),
        ("read_project.lua", {"PREFIX": "/api/v1/projects"}),
        ("create_link.lua",
         {"PREFIX": f"/api/v1/chain-masters/{fixture['buyer']}/suppliers", "BODY": "api"}),
    ]  # fmt: skip
    theirs = [
        ("list_projects.lua", {"PREFIX": "/projects"}),
        ("read_project.lua", {"PREFIX": "/projects"}),
        ("create_link.lua", {"PREFIX": "/links", "BODY": "baseline"}),
    ]
    plt = [
        ("platformatic_list.lua", {"TOTAL": "1"}),
        ("platformatic_read.lua", {}),
        ("platformatic_create_link.lua", {}),
    ]
    rows: list[dict[str, Any]] = []

    def wrk(system: str, call: str, base: str, script: str, env: dict[str, str]) -> None:
        env = {**common, **env}
        if warmup:
            peers.run_wrk(base, WRK / script, env, connections, threads, warmup)
        result = peers.run_wrk(base, WRK / script, env, connections, threads, duration)
        rows.append({"call": call, "system": system, **result})
        print(f"  {system:<13} {call:<28} {result['rps']:>8.0f} req/s", file=sys.stderr)

    env = server_env(url)
    for system, app, port, scripts, extra in (
        ("chaindb", "chaindb.wsgi:app", CHAINDB_PORT, ours, {"TOKEN": token}),
        ("hand-written", "bench.baseline_app:app", BASELINE_PORT, theirs, {"TOKEN": ""}),
    ):
        server = granian(app, port, env)
        try:
            wait_until_up(f"http://127.0.0.1:{port}/healthz" if system == "chaindb" else
                          f"http://127.0.0.1:{port}/projects/{fixture['project']}")  # fmt: skip
            for call, (script, script_env) in zip(CALLS, scripts, strict=True):
                wrk(system, call, f"http://127.0.0.1:{port}", script, {**script_env, **extra})
        finally:
            server.terminate()
            server.wait(timeout=30)
    if platformatic:
        peers.ensure_platformatic()
        with peers.platformatic(url, PLATFORMATIC_PORT) as base:
            for call, (script, script_env) in zip(CALLS, plt, strict=True):
                wrk("Platformatic", call, str(base), script, script_env)
    for call, (_, script, variables) in zip(CALLS, peers.pgbench_scenarios(fixture), strict=True):
        peers.run_pgbench(url, script, variables, connections, threads, warmup or 1)
        result = peers.run_pgbench(url, script, variables, connections, threads, duration)
        rows.append({"call": call, "system": "pgbench", **result})
        print(f"  {'pgbench':<13} {call:<28} {result['rps']:>8.0f} tx/s", file=sys.stderr)
    return rows


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
        for system in ("chaindb", "hand-written", "Platformatic", "pgbench"):
            row = by.get((call, system))
            if row is None:
                continue
            ratio = (
                f"{ours['rps'] / row['rps']:.2f}"
                if ours and system != "chaindb" and row["rps"]
                else ""
            )
            lines.append(
                f"| {call} | {system} | {row['rps']:,.0f} | {row['p50_ms']:.1f} | "
                f"{row['p99_ms']:.1f} | {row['errors']} | {ratio} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
