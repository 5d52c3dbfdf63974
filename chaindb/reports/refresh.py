"""Refreshing the materialized reporting views (`chaindb db refresh-reports`, chaindb.reports.cli).

The views in chaindb.reports.MATERIALIZED answer from their last refresh. A refresh recomputes
one with REFRESH MATERIALIZED VIEW CONCURRENTLY: readers keep reading the previous rows meanwhile
and never wait (a plain REFRESH, used only while a view has never been populated, would lock
them out until it commits). Each refresh is recorded in report_refresh: when it began (the figures
are the data as of then) and how long it took; the report pages show it.

Who refreshes: the refresher (chaindb.reports.listener) as writes commit, in a web process or
`chaindb db refresh-reports --listen` (the compose stack's `reports` service); `chaindb db
refresh-reports` by hand; a seed run that changed rows (seeds.runner). REFRESH needs the owner of the views (the user that runs
the migrations); two refreshes of one view run one after the other.

report_chain_overview, report_chain_master_suppliers and report_supplier_tiers are kept otherwise
(chaindb.reports.KEPT): each a view over a table (chain_overview, chain_master_supply,
supplier_tier) which a refresh rebuilds (its *_rebuild() function, in one transaction: readers
keep the previous rows until it commits) and the refresher, after writes, only catches up with
(its *_catch_up() function: the chains, chain masters and tiers the writes touched, queued by
triggers).

report_gap_candidates reads the materialized view report_chain_gaps: the views refresh in
MATERIALIZED's order, and refreshing report_gap_candidates alone refreshes report_chain_gaps
first (chaindb.reports.READS), so that the candidates are those of today's gaps.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from chaindb.reports import KEPT, MATERIALIZED, READS
from chaindb.reports.models import ReportRefresh


def refresh_order(views: Iterable[str] | None = None, *, reads: bool = True) -> list[str]:
    """The materialized views to refresh for `views` (default all of them), in MATERIALIZED's
    order (a view after those it reads); with `reads`, also the materialized views they read."""
    if views is None:
        return list(MATERIALIZED)
    wanted = set(views)
    unknown = wanted - set(MATERIALIZED)
    if unknown:
        raise ValueError(f"not a materialized reporting view: {', '.join(sorted(unknown))}")
    while reads:
        more = {read for view in wanted for read in READS.get(view, ())} - wanted
        if not more:
            break
        wanted |= more
    return [view for view in MATERIALIZED if view in wanted]


def refresh_reports(
    connection: Connection,
    *,
    concurrently: bool = True,
    views: Iterable[str] | None = None,
    reads: bool = True,
    catch_up: bool = False,
) -> dict[str, float]:
    """Refresh the materialized reporting views (`views`, default all of them; with `reads`,
    also the materialized views they read) in dependency order and record each in
    report_refresh; the seconds each took, in that order. The caller commits.

    CONCURRENTLY unless `concurrently` is false or the view has never been populated (a
    concurrent refresh needs rows to compare with). A kept view (KEPT) is rebuilt; with
    `catch_up`, only what the writes queued since its last refresh touched.
    """
    chosen = refresh_order(views, reads=reads)
    took: dict[str, float] = {}
    for view in chosen:
        if view in KEPT:
            _table, rebuild, catch_up_with = KEPT[view]
            began = connection.execute(text("SELECT clock_timestamp()")).scalar_one()
            started = time.perf_counter()
            connection.execute(text(f"SELECT {catch_up_with if catch_up else rebuild}"))
            took[view] = time.perf_counter() - started
            _record(connection, view, began, took[view])
            continue
        found = connection.execute(
            text(
                "SELECT c.relispopulated, clock_timestamp() FROM pg_class AS c "
                "WHERE c.oid = to_regclass(:view) AND c.relkind = 'm'"
            ),
            {"view": view},
        ).one_or_none()
        if found is None:
            raise LookupError(f"{view} is not a materialized view here: migrate the database")
        populated, began = found
        how = "CONCURRENTLY " if concurrently and populated else ""
        started = time.perf_counter()
        connection.exec_driver_sql(f"REFRESH MATERIALIZED VIEW {how}{view}")
        took[view] = time.perf_counter() - started
        _record(connection, view, began, took[view])
    return took


def _record(connection: Connection, view: str, began: datetime, took: float) -> None:
    seconds = Decimal(f"{took:.3f}")
    record = insert(ReportRefresh).values(view_name=view, refreshed_at=began, seconds=seconds)
    connection.execute(
        record.on_conflict_do_update(
            index_elements=[ReportRefresh.view_name],
            set_={"refreshed_at": began, "seconds": seconds},
        )
    )


REPLICA_LAG = text(
    "SELECT CASE WHEN pg_is_in_recovery() THEN CASE "
    "WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0 "
    "ELSE greatest(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END END"
)


def replica_lag(session: Session) -> float | None:
    """How far behind its leader the server that `session` reads is, in seconds (0: it has
    applied all it received); None on the leader itself."""
    lag = session.execute(REPLICA_LAG).scalar()
    return None if lag is None else float(lag)


def last_refresh(session: Session, view: str) -> tuple[datetime, Decimal | None] | None:
    """When the view was last refreshed and how long it took; None when not recorded."""
    row = session.execute(
        select(ReportRefresh.refreshed_at, ReportRefresh.seconds).where(
            ReportRefresh.view_name == view
        )
    ).one_or_none()
    return None if row is None else (row.refreshed_at, row.seconds)
