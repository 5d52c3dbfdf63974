"""What row-level security costs the API: the same three calls as bench/api_load.py (a list of
50 projects of a chain, one project, a new supply link through the chain-master workflow),
against chaindb under gunicorn with its policies (every request acting as chaindb_app for its
unit) and without them (bench/rls_off.py: the requests act as the tables' owner), in turns
(with, without, with, without) so that drift hits both alike; and the reporting views read as
chaindb_app against as the owner.

    .venv/bin/python bench/load.py --scales 1 --keep chaindb_bench   # once: data at scale 1
    .venv/bin/chaindb db upgrade                                      # with DATABASE_URL on it
    .venv/bin/python bench/rls_cost.py [--database chaindb_bench] [--rounds 2]

The API's user is an editor of the city bureau (the policies' widest case: every row passes,
the scope functions still run once per statement) or, with --unit CODE, of that unit.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import peers  # noqa: E402
from bench.api_load import (  # noqa: E402
    CALLS,
    WRK,
    database_url,
    gunicorn,
    server_env,
    wait_until_up,
)

PORT = 8111
APPS = {"with RLS": "chaindb.wsgi:app", "without": "bench.rls_off:app"}


def make_token(url: str, unit: str) -> str:
    from sqlalchemy.orm import Session

    from chaindb.auth.service import create_token, create_user
    from chaindb.db import make_engine

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            user = create_user(
                session=session,
                username=f"bench-rls-{secrets.token_hex(3)}",
                role="editor",
                password=None,
                unit=unit,
            )
            _, token = create_token(session=session, user=user, name="bench/rls_cost.py")
            session.commit()
    finally:
        engine.dispose()
    return token


def views(url: str, runs: int = 20) -> list[tuple[str, float, float]]:
    """Each reporting view read whole, as chaindb_app (city bureau) and as the owner: medians."""
    import psycopg

    from chaindb.reports import VIEWS

    found = []
    with psycopg.connect(peers._libpq_url(url), autocommit=True) as conn:
        city = conn.execute("SELECT id FROM unit WHERE kind = 'city'").fetchone()[0]
        for view in VIEWS:
            if view == "report_supplier_tiers":
                continue  # 317,566 rows: the transfer, not the policies, would be measured
            timings = {}
            for label, role in (("app", "chaindb_app"), ("owner", "none")):
                conn.execute(
                    "SELECT set_config('role', %s, false), set_config('chaindb.unit_id', %s, false)",
                    (role, str(city)),
                )
                took = []
                for _ in range(runs):
                    started = time.perf_counter()
                    conn.execute(f"SELECT * FROM {view}").fetchall()
                    took.append((time.perf_counter() - started) * 1000)
                timings[label] = statistics.median(took)
            conn.execute("SELECT set_config('role', 'none', false)")
            found.append((view, timings["app"], timings["owner"]))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="chaindb_bench")
    parser.add_argument("--unit", default="city")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    url = database_url(args.database)
    fixture = peers.fixture_ids(url)
    token = make_token(url, args.unit)
    common = {
        "CHAIN_ID": str(fixture["chain"]),
        "FIRST_ID": str(fixture["project"]),
        "BUYER_ID": str(fixture["buyer"]),
        "FIRST_SUPPLIER": str(fixture["supplier"]),
        "TOKEN": token,
    }
    scripts = [
        ("list_projects.lua", {"PREFIX": "/api/v1/projects"}),
        ("read_project.lua", {"PREFIX": "/api/v1/projects"}),
        ("create_link.lua",
         {"PREFIX": f"/api/v1/chain-masters/{fixture['buyer']}/suppliers", "BODY": "api"}),
    ]  # fmt: skip
    results: dict[tuple[str, str], list[float]] = {}
    env = server_env(url)
    for _ in range(args.rounds):
        for label, app in APPS.items():
            server = gunicorn(app, PORT, env)
            try:
                wait_until_up(f"http://127.0.0.1:{PORT}/healthz")
                for call, (script, script_env) in zip(CALLS, scripts, strict=True):
                    run_env = {**common, **script_env}
                    base = f"http://127.0.0.1:{PORT}"
                    peers.run_wrk(base, WRK / script, run_env, args.connections, 2, 2)
                    result = peers.run_wrk(
                        base, WRK / script, run_env, args.connections, 2, args.duration
                    )
                    results.setdefault((call, label), []).append(result["rps"])
                    print(f"  {label:<9} {call:<28} {result['rps']:>8.0f} req/s", file=sys.stderr)
            finally:
                server.terminate()
                server.wait(timeout=30)
    print(f"unit {args.unit}; {args.rounds} rounds of {args.duration} s, wrk -c{args.connections}")
    print(f"{'call':<28} {'with RLS':>9} {'without':>9} {'cost':>7}")
    for call in CALLS:
        with_ = statistics.mean(results[call, "with RLS"])
        without = statistics.mean(results[call, "without"])
        print(f"{call:<28} {with_:>9.0f} {without:>9.0f} {1 - with_ / without:>7.1%}")
    print(f"\n{'view':<32} {'as app':>8} {'as owner':>9}  (median ms, whole view)")
    for view, app_ms, owner_ms in views(url):
        print(f"{view:<32} {app_ms:>8.1f} {owner_ms:>9.1f}")


if __name__ == "__main__":
    main()
