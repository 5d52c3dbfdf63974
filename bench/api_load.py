"""Load-test three API calls under gunicorn, beside a minimal hand-written psycopg endpoint.

    .venv/bin/python bench/synthetic_load.py --scale 1 --keep     # once: chaindb_bench at scale 1
    .venv/bin/python bench/api_load.py [--connections 32] [--duration 15] [--workers 4]

Needs wrk (apt-get install wrk). Both servers run under gunicorn with the same worker count on
127.0.0.1; wrk drives each scenario at the given connections. Prints req/s and p99 for chaindb
and the baseline (bench/baseline_app.py), and their ratio. Only loopback traffic.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from chaindb.auth.service import create_token, create_user
from chaindb.config import Settings, normalize_database_url
from chaindb.database import resolve_url, with_database
from chaindb.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WRK = ROOT / "bench" / "wrk"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="chaindb_bench")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=15, help="seconds per scenario")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")

    url = with_database(resolve_url(Settings.from_env()), args.database)
    fixture = prepare(url)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CHAINDB_ENV": "production",
        "CHAINDB_SECRET_KEY": secrets.token_urlsafe(48),
        "CHAINDB_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    servers = [
        serve("chaindb.wsgi:app", 8101, args.workers, env),
        serve("bench.baseline_app:app", 8102, args.workers, env),
    ]
    try:
        wait_until_up("http://127.0.0.1:8101/healthz")
        wait_until_up(f"http://127.0.0.1:8102/projects/{fixture['project']}")
        scenarios = [
            ("list 50 projects of one chain", "list_projects.lua",
             {"PREFIX": "/api/v1/projects"}, {"PREFIX": "/projects"}),
            ("read one project", "read_project.lua",
             {"PREFIX": "/api/v1/projects"}, {"PREFIX": "/projects"}),
            ("create a supply link", "create_link.lua",
             {"PREFIX": f"/api/v1/chain-masters/{fixture['buyer']}/suppliers", "BODY": "api"},
             {"PREFIX": "/links", "BODY": "baseline"}),
        ]  # fmt: skip
        common = {
            "CHAIN_ID": str(fixture["chain"]),
            "FIRST_ID": str(fixture["project"]),
            "BUYER_ID": str(fixture["buyer"]),
            "FIRST_SUPPLIER": str(fixture["supplier"]),
        }
        print(
            f"gunicorn {args.workers} sync workers each; wrk -t{args.threads} -c{args.connections} -d{args.duration}s"
        )
        print(
            f"{'scenario':<32} {'chaindb req/s':>14} {'p99':>9} {'baseline req/s':>15} {'p99':>9} {'ratio':>6}"
        )
        for name, script, ours, theirs in scenarios:
            mine = run_wrk(8101, script, {**common, **ours, "TOKEN": fixture["token"]}, args)
            base = run_wrk(8102, script, {**common, **theirs, "TOKEN": ""}, args)
            ratio = mine["rps"] / base["rps"] if base["rps"] else float("nan")
            print(
                f"{name:<32} {mine['rps']:>14.0f} {mine['p99']:>9} {base['rps']:>15.0f} {base['p99']:>9} {ratio:>6.2f}"
                + (
                    f"  (non-2xx: chaindb {mine['errors']}, baseline {base['errors']})"
                    if mine["errors"] or base["errors"]
                    else ""
                )
            )
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)


def prepare(url: str) -> dict:
    """A token, and ids the scenarios use: a chain with projects, a chain master, suppliers."""
    engine = make_engine(normalize_database_url(url))
    with Session(engine) as session:
        name = f"bench-{secrets.token_hex(3)}"
        user = create_user(session=session, username=name, role="editor", password=None)
        _, token = create_token(session=session, user=user, name="bench/api_load.py")
        row = session.execute(
            text(
                "SELECT r.chain_id, r.enterprise_id FROM chain_role r "
                "WHERE r.role = 'chain_master' AND r.until IS NULL "
                "ORDER BY (SELECT count(*) FROM project p WHERE p.chain_id = r.chain_id) DESC LIMIT 1"
            )
        ).one()
        project = session.scalar(
            text("SELECT min(id) FROM project WHERE chain_id = :c"), {"c": row[0]}
        )
        supplier = session.scalar(
            text("SELECT min(id) FROM enterprise WHERE id <> :b AND uscc LIKE '91______XYN%'"),
            {"b": row[1]},
        )
        session.commit()
    engine.dispose()
    if project is None:
        sys.exit(
            "no projects: load synthetic data first (bench/synthetic_load.py --scale 1 --keep)"
        )
    return {
        "token": token,
        "chain": row[0],
        "buyer": row[1],
        "project": project,
        "supplier": supplier,
    }


def serve(app: str, port: int, workers: int, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [BIN / "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--log-level", "warning", app],
        env=env, cwd=ROOT,
    )  # fmt: skip


def wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def run_wrk(port: int, script: str, env: dict, args: argparse.Namespace) -> dict:
    result = subprocess.run(
        ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency",
         "-s", str(WRK / script), f"http://127.0.0.1:{port}"],
        env={**os.environ, **env}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    out = result.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"\s99%\s+(\S+)", out).group(1)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"rps": rps, "p99": p99, "errors": int(errors.group(1)) if errors else 0}


if __name__ == "__main__":
    main()
