"""How current the reports are, and what keeping them current costs the writes.

    .venv/bin/python bench/load.py --scales 1 --keep chaindb_bench   # once: data at scale 1
    .venv/bin/python bench/report_freshness.py \
        --database-url postgresql://postgres@127.0.0.1:5432/chaindb_bench

1. Lag. A refresher (chaindb.reports.listener.Refresher) runs in a thread of this process and
   takes the lock (no other refresher may run on the database: it would take the writes' work).
   For each kind of write, --lag-runs times: one committed transaction (a supply link's annual
   value changed, a supply link's status turned between active and proposed, a project's agreed
   investment changed, a project created), then the time from
   its COMMIT until the refresher has committed the refresh of every view the write made stale
   (its on_refresh callback); and the seconds each view's refresh took.
2. Write cost. --writes single-row transactions of each kind, each committed, on one connection:
   with the reporting triggers (the NOTIFY trigger of the table; for links also
   supply_link_tiers_* and supply_link_chain_figures_*, for projects project_sync_milestones_*
   and project_chain_figures_*) enabled, then disabled, alternating in rounds of --round writes so
   that drift hits both alike; no refresher runs. Median and p95 milliseconds per write
   (client wall time, COMMIT included) and the added share.
3. The same link writes while the refresher keeps the reports after them (after each burst it
   refreshes the materialized views the burst made stale and catches up the kept ones): what
   that takes from the writes on this machine's cores.

Every write is reverted afterwards (values restored, created projects deleted). Only a
database on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time

import psycopg
from sqlalchemy.engine import make_url

from chaindb.db import make_engine
from chaindb.reports.listener import Refresher, affected

PROJECT_TRIGGERS = (
    "project_reports_changed",
    "project_sync_milestones_on_insert",
    "project_sync_milestones_on_update",
    # The kept chain overview's queue (migration e3f5a7c9b1d2).
    "project_chain_figures_on_insert",
    "project_chain_figures_on_update",
    "project_chain_figures_on_delete",
)
LINK_TRIGGERS = (
    "supply_link_reports_changed",
    "supply_link_tiers_on_insert",
    "supply_link_tiers_on_update",
    "supply_link_tiers_on_delete",
    # The kept chain overview's and chain masters' queues (migration e3f5a7c9b1d2).
    "supply_link_chain_figures_on_insert",
    "supply_link_chain_figures_on_update",
    "supply_link_chain_figures_on_delete",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--lag-runs", type=int, default=5)
    parser.add_argument("--writes", type=int, default=600, help="writes per kind and setting")
    parser.add_argument("--round", type=int, default=50)
    args = parser.parse_args()
    url = make_url(args.database_url)
    if url.host not in ("127.0.0.1", "localhost", None):
        sys.exit("only a database on 127.0.0.1")
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    engine = make_engine(url.set(drivername="postgresql+psycopg"))
    with psycopg.connect(conninfo, autocommit=True) as conn:
        fixture = _fixture(conn)
        print(_describe(conn))
        print()
        lag(engine, conn, fixture, args.lag_runs)
        print()
        costs(conn, fixture, args.writes, args.round)
        print()
        under_refresh(engine, conn, fixture, args.writes, args.round)
    engine.dispose()


def _describe(conn: psycopg.Connection) -> str:
    counts = conn.execute(
        "SELECT (SELECT count(*) FROM enterprise), (SELECT count(*) FROM supply_link), "
        "(SELECT count(*) FROM project), (SELECT count(*) FROM project_milestone)"
    ).fetchone()
    version = conn.execute("SHOW server_version").fetchone()[0]
    return (
        f"PostgreSQL {version}; {counts[0]:,} enterprises, {counts[1]:,} supply links, "
        f"{counts[2]:,} projects, {counts[3]:,} milestones; {os.cpu_count()} CPUs"
    )


def _fixture(conn: psycopg.Connection) -> dict:
    links = [
        row[0]
        for row in conn.execute(
            "SELECT id FROM supply_link WHERE status = 'active' ORDER BY id LIMIT 5000"
        )
    ]
    projects = [
        row[0]
        for row in conn.execute(
            "SELECT id FROM project WHERE stage <> 'dropped' ORDER BY id LIMIT 5000"
        )
    ]
    chain, district = conn.execute(
        "SELECT (SELECT id FROM chain ORDER BY id LIMIT 1), (SELECT id FROM district ORDER BY id "
        "LIMIT 1)"
    ).fetchone()
    return {"links": links, "projects": projects, "chain": chain, "district": district}


# --- the writes ---------------------------------------------------------------------------------

WRITES = {
    "link value": ("supply_link", LINK_TRIGGERS),
    # Active <-> proposed: the supplier joins or leaves its chain master's tiers.
    "link status": ("supply_link", LINK_TRIGGERS),
    "project amount": ("project", PROJECT_TRIGGERS),
    "project created": ("project", PROJECT_TRIGGERS),
}


def write(conn: psycopg.Connection, kind: str, fixture: dict, made: list[int]) -> None:
    """One committed transaction of `kind` (conn in autocommit: each statement commits)."""
    if kind == "link value":
        conn.execute(
            "UPDATE supply_link SET annual_value_cny_10k = COALESCE(annual_value_cny_10k, 0) + 1 "
            "WHERE id = %s",
            (random.choice(fixture["links"]),),
        )
    elif kind == "link status":
        conn.execute(
            "UPDATE supply_link SET status = CASE status WHEN 'active' THEN 'proposed' "
            "ELSE 'active' END WHERE id = %s",
            (random.choice(fixture["links"]),),
        )
    elif kind == "project amount":
        conn.execute(
            "UPDATE project SET agreed_investment_cny_100m = "
            "COALESCE(agreed_investment_cny_100m, 0) + 1 WHERE id = %s",
            (random.choice(fixture["projects"]),),
        )
    else:
        made.append(
            conn.execute(
                "INSERT INTO project (name, chain_id, district_id, kind, stage, signed_on, "
                "investor_name, agreed_investment_cny_100m) VALUES (%s, %s, %s, 'new', 'signed', "
                "current_date, '基准测试投资方', 1) RETURNING id",
                (
                    f"基准测试项目 {len(made)} {time.time_ns()}",
                    fixture["chain"],
                    fixture["district"],
                ),
            ).fetchone()[0]
        )


def revert(conn: psycopg.Connection, counts: dict[str, int], made: list[int]) -> None:
    """Undo the bench's writes: the increments cannot be told apart, so the totals are put back
    by subtracting what was added per row (recorded in `counts` by id)."""
    for key, added in counts.items():
        table, _, id_ = key.partition(":")
        if table == "status":  # toggled: an odd count is one toggle away from where it was
            if added % 2:
                write(conn, "link status", {"links": [int(id_)]}, made)
            continue
        column = "annual_value_cny_10k" if table == "supply_link" else "agreed_investment_cny_100m"
        conn.execute(f"UPDATE {table} SET {column} = {column} - %s WHERE id = %s", (added, id_))
    if made:
        conn.execute("DELETE FROM project WHERE id = ANY(%s)", (made,))
        made.clear()


class Recorder:
    """Counts the increments per row so that they can be reverted."""

    def __init__(self, conn: psycopg.Connection, fixture: dict) -> None:
        self.conn = conn
        self.fixture = fixture
        self.added: dict[str, int] = {}
        self.made: list[int] = []

    def write(self, kind: str) -> None:
        if kind == "project created":
            write(self.conn, kind, self.fixture, self.made)
            return
        pool = "links" if kind.startswith("link") else "projects"
        table = {"link value": "supply_link", "link status": "status"}.get(kind, "project")
        id_ = random.choice(self.fixture[pool])
        one = {**self.fixture, pool: [id_]}
        write(self.conn, kind, one, self.made)
        key = f"{table}:{id_}"
        self.added[key] = self.added.get(key, 0) + 1

    def revert(self) -> None:
        revert(self.conn, self.added, self.made)
        self.added.clear()


# --- 1. lag --------------------------------------------------------------------------------------


def lag(engine, conn: psycopg.Connection, fixture: dict, runs: int) -> None:
    done = threading.Event()
    cycles: list[tuple[float, list[str], dict[str, float]]] = []

    def refreshed(views: list[str], took: dict[str, float]) -> None:
        cycles.append((time.monotonic(), views, took))
        done.set()

    refresher = Refresher(engine, on_refresh=refreshed)
    thread = threading.Thread(target=refresher.run, daemon=True)
    thread.start()
    if not refresher.holding.wait(30):
        sys.exit("another refresher holds the lock: stop it first")
    started = time.monotonic()
    done.wait(600)  # the full refresh on taking the lock
    print(f"full refresh on taking the lock: {time.monotonic() - started:.1f} s")
    for view, seconds in cycles[-1][2].items():
        print(f"  {view:32} {seconds:6.2f} s")
    recorder = Recorder(conn, fixture)
    print()
    print("| write | views refreshed | lag median s | lag max s | refresh s (median) |")
    print("|---|---|--:|--:|---|")
    try:
        for kind, (table, _) in WRITES.items():
            lags, took_all = [], []
            for _ in range(runs):
                time.sleep(1.5)  # let the previous burst end
                done.clear()
                before = len(cycles)
                recorder.write(kind)
                committed = time.monotonic()
                while len(cycles) == before:
                    if not done.wait(60):
                        sys.exit("no refresh within 60 s")
                    done.clear()
                end, views, took = cycles[-1]
                lags.append(end - committed)
                took_all.append(took)
            views = affected([table])
            medians = ", ".join(
                f"{v.removeprefix('report_')} {statistics.median(t[v] for t in took_all):.2f}"
                for v in views
            )
            print(
                f"| {kind} | {len(views)} | {statistics.median(lags):.2f} | {max(lags):.2f} "
                f"| {medians} |"
            )
    finally:
        refresher.stop()
        thread.join(30)
        recorder.revert()


# --- 2. cost -------------------------------------------------------------------------------------


def _set_triggers(conn: psycopg.Connection, table: str, names: tuple[str, ...], on: bool) -> None:
    how = "ENABLE" if on else "DISABLE"
    for name in names:
        conn.execute(f"ALTER TABLE {table} {how} TRIGGER {name}")


def _timed(recorder: Recorder, kind: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        recorder.write(kind)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def costs(conn: psycopg.Connection, fixture: dict, writes: int, round_: int) -> None:
    print("| write | with triggers: median ms | p95 ms | without: median ms | p95 ms | added |")
    print("|---|--:|--:|--:|--:|--:|")
    recorder = Recorder(conn, fixture)
    try:
        for kind, (table, triggers) in WRITES.items():
            with_, without = [], []
            _timed(recorder, kind, round_)  # warm-up
            for _ in range(max(1, writes // round_)):
                _set_triggers(conn, table, triggers, False)
                without += _timed(recorder, kind, round_)
                _set_triggers(conn, table, triggers, True)
                with_ += _timed(recorder, kind, round_)
            a, b = statistics.median(with_), statistics.median(without)
            print(
                f"| {kind} | {a:.3f} | {_p95(with_):.3f} | {b:.3f} | {_p95(without):.3f} "
                f"| {(a - b) / b * 100:+.1f}% |"
            )
    finally:
        for table, triggers in {t: tr for t, tr in WRITES.values()}.items():
            _set_triggers(conn, table, triggers, True)
        recorder.revert()


# --- 3. while refreshing -------------------------------------------------------------------------


def under_refresh(engine, conn: psycopg.Connection, fixture: dict, writes: int, round_) -> None:
    recorder = Recorder(conn, fixture)
    quiet = _timed(recorder, "link value", writes)
    refresher = Refresher(engine)
    thread = threading.Thread(target=refresher.run, daemon=True)
    thread.start()
    refresher.holding.wait(30)
    while refresher.refreshes < 1:
        time.sleep(0.1)
    try:
        busy = _timed(recorder, "link value", writes)
    finally:
        refresher.stop()
        thread.join(60)
        recorder.revert()
    a, b = statistics.median(busy), statistics.median(quiet)
    print(
        f"link value writes while the refresher refreshes: median {a:.3f} ms, p95 "
        f"{_p95(busy):.3f} ms; with no refresher: median {b:.3f} ms, p95 {_p95(quiet):.3f} ms "
        f"({(a - b) / b * 100:+.1f}%); {refresher.refreshes - 1} refresh cycles "
        "meanwhile"
    )


if __name__ == "__main__":
    main()
