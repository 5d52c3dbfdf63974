"""Keeping the materialized reports current: one refresher, woken by the database.

A statement trigger on each table the materialized views read (report_sources_changed, see the
migration 7c21d5e8a4f0) sends `NOTIFY chaindb_reports, '<table>'` when a transaction writing it
commits: from the web app, the API, an import, a seed or an analyst's SQL alike. The refresher
LISTENs, gathers the tables named until writes pause (QUIET seconds, at most GATHER after the
first), then refreshes the views that read them (chaindb.reports.SOURCES) with REFRESH ...
CONCURRENTLY, readers never waiting; a kept view (chaindb.reports.KEPT: the chain overview, the
chain masters' suppliers, the supplier tiers) only catches up with what the writes touched. A
figure is current a fraction of a second after its write at demo size; under writes that never
pause, refreshing takes at most a quarter of the refresher's time (SHARE), so a figure that takes
seconds to refresh lags by a few times that; the refresher works in one process (no parallel
workers), so that share is of one core.
bench/report_freshness.py measures the lag and the cost at synthetic scale.

One refresher however many processes: every web process (`chaindb run`, each granian worker)
starts a thread that asks for a session-level advisory lock; the one that holds it refreshes,
the others wait to take over should its process or connection end. The holder refreshes every
view when it takes over (what changed meanwhile is not known) and when the date changes (a role
or a due date turns live at midnight); the kept views only catch up with their queues when they
were refreshed earlier that day. `chaindb db refresh-reports --listen` runs the same loop
in a process of its own.

REFRESH needs the owner of the views: run it as the user that runs the migrations.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import date

import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from chaindb.reports import KEPT, MATERIALIZED, READS, SOURCES
from chaindb.reports.refresh import refresh_order, refresh_reports

log = logging.getLogger(__name__)

CHANNEL = "chaindb_reports"
# pg_advisory_lock's key: the first 8 bytes of sha256("chaindb.reports.refresher"), signed.
LOCK_KEY = 0x3B5F_6C1D_2A49_7E08
# Writes come in bursts (a form, an import): wait for this pause, at most GATHER after the first.
QUIET = 0.25
GATHER = 1.0
# Under writes that never pause, refreshing takes at most this share of the refresher's time:
# after a refresh that took d seconds it rests d * (1 / SHARE - 1) before the next, the writes
# meanwhile queued (notifications wait on the connection, the kept views' work in their *_stale
# tables). At demo size a refresh takes milliseconds and nothing changes; at synthetic scale 1
# the tiers of the largest chain master take seconds, and refreshed after every burst of links
# they kept a core busy beside the requests (bench/RESULTS.md).
SHARE = 0.25
MAX_REST = 60.0
# How often a process without the lock asks for it again, and the idle wake-up (stop, date).
STANDBY_POLL = 2.0
IDLE_WAKE = 5.0
RETRY_AFTER = 5.0


def affected(tables: Iterable[str]) -> list[str]:
    """The materialized views to refresh after writes to `tables`, in refresh order."""
    written = set(tables)
    views = {view for view in MATERIALIZED if written & set(SOURCES[view])}
    # A view reading a stale view is stale too (report_gap_candidates reads report_chain_gaps).
    views |= {view for view, reads in READS.items() if views & set(reads)}
    return refresh_order(views) if views else []


class Refresher:
    """The refresher loop on its own connection; run() in a thread or as a command."""

    def __init__(
        self,
        engine: Engine,
        *,
        quiet: float = QUIET,
        gather: float = GATHER,
        standby_poll: float = STANDBY_POLL,
        share: float = SHARE,
        on_refresh: Callable[[list[str], dict[str, float]], None] | None = None,
    ) -> None:
        self.engine = engine
        self.quiet = quiet
        self.gather = gather
        self.standby_poll = standby_poll
        self.share = share
        self.on_refresh = on_refresh
        self.stopping = threading.Event()
        self.holding = threading.Event()  # set while this refresher holds the lock
        self.refreshes = 0
        self.rest = 0.0  # before the next gathering (rest_after the last refresh)

    def conninfo(self) -> str:
        url = make_url(self.engine.url).set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    def rest_after(self, seconds: float) -> float:
        """How long to rest after a refresh that took `seconds`, so that refreshing takes at
        most `share` of the time while writes go on (SHARE)."""
        if self.share >= 1:
            return 0.0
        return min(seconds * (1 / self.share - 1), MAX_REST)

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        """Refresh on notifications until stop(); reconnect after a lost connection."""
        while not self.stopping.is_set():
            try:
                self._serve()
            except (psycopg.Error, OSError) as exc:
                self.holding.clear()
                if self.stopping.is_set():
                    break
                log.warning("report refresher: %s; again in %s s", exc, RETRY_AFTER)
                self.stopping.wait(RETRY_AFTER)
            except Exception:  # never let the thread die silently
                self.holding.clear()
                log.exception("report refresher failed; again in %s s", RETRY_AFTER)
                self.stopping.wait(RETRY_AFTER)

    def _serve(self) -> None:
        with psycopg.connect(
            self.conninfo(), autocommit=True, application_name="chaindb report refresher"
        ) as conn:
            while not conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]:
                if self.stopping.wait(self.standby_poll):
                    return
            self.holding.set()
            conn.execute(f"LISTEN {CHANNEL}")
            log.info("report refresher: listening; refreshing every materialized report once")
            today = self._refresh(conn, list(MATERIALIZED), catch_up=self._kept_of_today(conn))
            self.rest = 0.0  # what was written while nobody refreshed is current now
            while not self.stopping.is_set():
                if self.stopping.wait(self.rest):
                    break
                tables = self._gather(conn)
                day = conn.execute("SELECT current_date").fetchone()[0]
                if day != today:
                    today = self._refresh(conn, list(MATERIALIZED))
                elif views := affected(tables):
                    today = self._refresh(conn, views, catch_up=True)
            # Let go now: closing the connection frees the lock only once the server's backend
            # has exited, after the client has moved on.
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
            self.holding.clear()

    @staticmethod
    def _kept_of_today(conn: psycopg.Connection) -> bool:
        """Whether every kept view (KEPT) was last refreshed today: then taking
        over needs only their catch-up, since the writes made meanwhile queued what they touched
        (by trigger, listened to or not). Rebuilt whole, the tiers took 3 minutes of a core at
        synthetic scale 1 on every start of every web process (bench/RESULTS.md)."""
        row = conn.execute(
            "SELECT count(*) = %s AND bool_and(refreshed_at::date = current_date) "
            "FROM report_refresh WHERE view_name = ANY(%s)",
            (len(KEPT), list(KEPT)),
        ).fetchone()
        return bool(row and row[0])

    def _gather(self, conn: psycopg.Connection) -> set[str]:
        """The tables named by the notifications of the next burst of writes: from the first
        notification until QUIET seconds pass without one (at most GATHER); empty after
        IDLE_WAKE seconds without any."""
        tables = {n.payload for n in conn.notifies(timeout=IDLE_WAKE, stop_after=1)}
        if not tables:
            return tables
        first = time.monotonic()
        while not self.stopping.is_set():
            window = min(self.quiet, self.gather - (time.monotonic() - first))
            if window <= 0:
                break
            got = {n.payload for n in conn.notifies(timeout=window)}
            if not got:
                break
            tables |= got
        return tables

    def _refresh(
        self, conn: psycopg.Connection, views: list[str], *, catch_up: bool = False
    ) -> date:
        """Refresh `views`, each in a transaction of its own (a kept one only catching up with
        the writes, with `catch_up`); the date they are current for."""
        took: dict[str, float] = {}
        started = time.monotonic()
        with self.engine.connect() as connection:
            for view in views:
                with connection.begin():
                    # One process: SHARE bounds the refresher's time, and parallel workers
                    # would multiply its cost beside the requests (2 workers: 1.3x faster
                    # for 3x the CPU, report_chain_master_suppliers at synthetic scale 1).
                    connection.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
                    took.update(
                        refresh_reports(connection, views=[view], reads=False, catch_up=catch_up)
                    )
            day = connection.execute(text("SELECT current_date")).scalar_one()
        self.refreshes += 1
        self.rest = self.rest_after(time.monotonic() - started)
        log.debug("report refresher: %s", ", ".join(f"{v} {s:.3f} s" for v, s in took.items()))
        if self.on_refresh is not None:
            self.on_refresh(views, took)
        return day


def active(session) -> bool:
    """Whether a refresher holds the lock now (in any process, on any machine)."""
    from sqlalchemy import text as sql

    held = session.execute(
        sql(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
            "AND classid = :high AND objid = :low AND objsubid = 1 AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))"
        ),
        {"high": (LOCK_KEY >> 32) & 0xFFFFFFFF, "low": LOCK_KEY & 0xFFFFFFFF},
    ).scalar_one()
    return bool(held)


# --- one refresher thread per process ------------------------------------------------------------

_lock = threading.Lock()
_running: dict[str, tuple[Refresher, threading.Thread]] = {}


def start(engine: Engine) -> Refresher:
    """Start this process's refresher thread for the database of `engine` (once per database);
    it refreshes only while it holds the lock."""
    key = engine.url.render_as_string(hide_password=False)
    with _lock:
        found = _running.get(key)
        if found is not None and found[1].is_alive():
            return found[0]
        refresher = Refresher(engine)
        thread = threading.Thread(
            target=refresher.run, name="chaindb-report-refresher", daemon=True
        )
        thread.start()
        _running[key] = (refresher, thread)
        return refresher


def stop_all(timeout: float = 10.0) -> None:
    """Stop every refresher of this process and wait for them (tests, shutdown)."""
    with _lock:
        running = list(_running.values())
        _running.clear()
    for refresher, _thread in running:
        refresher.stop()
    for _refresher, thread in running:
        thread.join(timeout)
