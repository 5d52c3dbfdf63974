"""The materialized reports: a refresh picks up what changed and records when; the command, the
seeds and the migration that made them materialized (grants kept, downgrade restores the views)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import Connection, Engine, text

from chaindb.db import make_engine
from chaindb.migrations import alembic_config
from chaindb.reports import KEPT, MATERIALIZED, VIEWS
from chaindb.reports import cli as reports_cli
from chaindb.reports.cli import refresh_command
from chaindb.reports.reader import READER, grant_reader_on
from chaindb.reports.refresh import last_refresh, refresh_reports
from tests import factories_sql as f
from tests.conftest import migrate

BEFORE = "e41f7c2a9b63"  # the revision whose reporting views were all plain views


def recorded(conn: Connection) -> dict[str, tuple[datetime, Decimal | None]]:
    return {
        name: (at, seconds)
        for name, at, seconds in conn.execute(
            text("SELECT view_name, refreshed_at, seconds FROM report_refresh")
        )
    }


def suppliers_of(conn: Connection, master: int, chain: int) -> int | None:
    return conn.execute(
        text(
            "SELECT suppliers FROM report_chain_master_suppliers "
            "WHERE chain_master_id = :m AND chain_id = :c"
        ),
        {"m": master, "c": chain},
    ).scalar_one_or_none()


@pytest.fixture
def master(conn):
    """A chain master with one local supplier, refreshed into the reports."""
    district = f.district(conn)
    chain = f.chain(conn)
    buyer = f.enterprise(conn, district_id=district, size="large")
    f.chain_role(conn, buyer, chain, "chain_master")
    supplier = f.enterprise(conn, district_id=district, size="small")
    f.supply_link(conn, supplier, buyer, chain, annual_value_cny_10k=100, status="active")
    refresh_reports(conn)
    return {"district": district, "chain": chain, "buyer": buyer, "supplier": supplier}


def test_a_refresh_picks_up_a_new_supply_link_and_records_when(conn, master):
    m, c = master["buyer"], master["chain"]
    assert suppliers_of(conn, m, c) == 1
    before = recorded(conn)
    assert set(before) == set(MATERIALIZED)

    newcomer = f.enterprise(conn, region_code="320500")
    f.supply_link(conn, newcomer, m, c, annual_value_cny_10k=50, status="active")
    assert suppliers_of(conn, m, c) == 1  # as of the last refresh
    tiers = "SELECT count(*) FROM report_supplier_tiers WHERE chain_master_id = :m"
    assert conn.execute(text(tiers), {"m": m}).scalar_one() == 1

    took = refresh_reports(conn)
    assert list(took) == list(MATERIALIZED)
    assert all(seconds >= 0 for seconds in took.values())
    assert suppliers_of(conn, m, c) == 2
    assert conn.execute(text(tiers), {"m": m}).scalar_one() == 2
    (overview,) = conn.execute(
        text("SELECT suppliers, nonlocal_suppliers FROM report_chain_overview WHERE chain_id = :c"),
        {"c": c},
    ).all()
    assert tuple(overview) == (2, 1)

    after = recorded(conn)
    for view in MATERIALIZED:
        at, seconds = after[view]
        assert at > before[view][0], view  # clock time of this refresh, not of the transaction
        assert seconds is not None and seconds >= 0
    assert last_refresh_of(conn, "report_chain_overview") == after["report_chain_overview"]


def last_refresh_of(conn: Connection, view: str):
    from sqlalchemy.orm import Session

    with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
        return last_refresh(session, view)


def test_one_view_at_a_time_and_only_materialized_ones(conn, master):
    before = recorded(conn)
    took = refresh_reports(conn, views=["report_supplier_tiers"])
    assert list(took) == ["report_supplier_tiers"]
    after = recorded(conn)
    assert after["report_chain_overview"] == before["report_chain_overview"]
    assert after["report_supplier_tiers"] != before["report_supplier_tiers"]
    with pytest.raises(ValueError, match="report_target_progress"):
        refresh_reports(conn, views=["report_target_progress"])
    assert refresh_reports(conn, views=[]) == {}


def test_gap_candidates_refresh_after_the_gaps_they_read(conn, master):
    """report_gap_candidates reads the materialized report_chain_gaps: refreshing it alone
    refreshes the gaps first, and a full refresh does them in that order."""
    assert list(MATERIALIZED).index("report_chain_gaps") < list(MATERIALIZED).index(
        "report_gap_candidates"
    )
    chain = master["chain"]
    segment = f.segment(conn, chain)
    buyer = master["buyer"]
    outsider = f.enterprise(conn, region_code="320500")
    f.supply_link(conn, outsider, buyer, chain, segment_id=segment, status="active")
    gaps = "SELECT count(*) FROM report_chain_gaps WHERE segment_id = :s"
    candidates = "SELECT supplier_id FROM report_gap_candidates WHERE segment_id = :s"
    assert conn.execute(text(gaps), {"s": segment}).scalar_one() == 0  # as of the last refresh

    before = recorded(conn)
    took = refresh_reports(conn, views=["report_gap_candidates"])
    assert list(took) == ["report_chain_gaps", "report_gap_candidates"]
    assert conn.execute(text(gaps), {"s": segment}).scalar_one() == 1
    assert conn.execute(text(candidates), {"s": segment}).scalars().all() == [outsider]
    after = recorded(conn)
    assert after["report_chain_overview"] == before["report_chain_overview"]

    # Without the views it reads, only the one asked for.
    took = refresh_reports(conn, views=["report_gap_candidates"], reads=False)
    assert list(took) == ["report_gap_candidates"]


def test_a_view_never_populated_is_refreshed_plainly(conn, master):
    conn.execute(text("REFRESH MATERIALIZED VIEW report_chain_gaps WITH NO DATA"))
    refresh_reports(conn)  # CONCURRENTLY would be refused on an unpopulated view
    populated = conn.execute(
        text("SELECT relispopulated FROM pg_class WHERE oid = 'report_chain_gaps'::regclass")
    ).scalar_one()
    assert populated
    refresh_reports(conn, concurrently=False)
    assert suppliers_of(conn, master["buyer"], master["chain"]) == 1


def test_only_the_materialized_views_are_materialized(conn):
    kinds = dict(
        conn.execute(
            text("SELECT relname, relkind FROM pg_class WHERE relname = ANY(:views)"),
            {"views": VIEWS},
        ).all()
    )
    assert {v for v, kind in kinds.items() if kind == "m"} == set(MATERIALIZED) - set(KEPT)
    assert len(kinds) == len(VIEWS)
    # Each has the unique index a concurrent refresh needs; a kept view's table its key.
    for view in MATERIALIZED:
        view = KEPT[view][0] if view in KEPT else view
        assert conn.execute(
            text(
                "SELECT count(*) FROM pg_index WHERE indrelid = CAST(:v AS regclass) "
                "AND indisunique AND indpred IS NULL"
            ),
            {"v": view},
        ).scalar_one(), view


def test_the_command_refreshes_each_view_and_commits(scratch_database, monkeypatch):
    url = scratch_database(migrated=True)
    engine = make_engine(url)
    monkeypatch.setattr(reports_cli, "_engine", lambda: engine)
    try:
        result = CliRunner().invoke(refresh_command, [])
        assert result.exit_code == 0, result.output
        for view in MATERIALIZED:
            assert f"{view} refreshed in" in result.output
        result = CliRunner().invoke(refresh_command, ["--view", "report_chain_overview"])
        assert result.exit_code == 0, result.output
        assert result.output.count("refreshed in") == 1
        with engine.connect() as conn:
            timed = conn.execute(
                text("SELECT count(*) FROM report_refresh WHERE seconds IS NOT NULL")
            ).scalar_one()
        assert timed == len(MATERIALIZED)
        result = CliRunner().invoke(refresh_command, ["--view", "report_gap_candidates"])
        assert result.exit_code == 0, result.output
        refreshed = [line.split()[0] for line in result.output.splitlines()]
        assert refreshed == ["report_chain_gaps", "report_gap_candidates"]
        bad = CliRunner().invoke(refresh_command, ["--view", "report_target_progress"])
        assert bad.exit_code == 2
    finally:
        engine.dispose()


def test_a_seed_run_that_changes_rows_refreshes_the_reports(scratch_database):
    from seeds import reference
    from seeds.runner import run

    url = scratch_database(migrated=True)
    engine = make_engine(url)
    try:
        run(engine, reference.load)
        with engine.connect() as conn:
            chains = conn.execute(text("SELECT count(*) FROM report_chain_overview")).scalar_one()
            first = recorded(conn)
        assert chains == 13  # the iconic chains, in the same transaction as the seed
        assert all(seconds is not None for _, seconds in first.values())
        run(engine, reference.load)  # nothing changed: nothing to refresh
        with engine.connect() as conn:
            assert recorded(conn) == first
    finally:
        engine.dispose()


def _state(engine: Engine) -> dict[str, tuple]:
    """Each reporting view's kind, definition and whether the reader may read it; the jit
    setting of the database."""
    with engine.connect() as conn:
        views = {
            view: tuple(
                conn.execute(
                    text(
                        "SELECT c.relkind, pg_get_viewdef(c.oid), "
                        "has_table_privilege(:role, c.oid, 'SELECT') "
                        "FROM pg_class AS c WHERE c.oid = to_regclass(:v)"
                    ),
                    {"v": view, "role": READER},
                ).one_or_none()
                or ()  # not there at this revision (report_project_milestones came later, and
                # report_monthly_progress)
            )
            for view in VIEWS
        }
        views["jit"] = tuple(
            conn.execute(
                text(
                    "SELECT s.setconfig FROM pg_db_role_setting AS s "
                    "JOIN pg_database AS d ON d.oid = s.setdatabase "
                    "WHERE d.datname = current_database() AND s.setrole = 0"
                )
            ).scalars()
        )
    return views


def _alembic(url: str, action: str, revision: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = conn
        cfg.attributes["configure_logger"] = False
        getattr(command, action)(cfg, revision)
    engine.dispose()


def test_the_migration_keeps_grants_and_its_downgrade_restores_the_views(scratch_database):
    url = scratch_database()
    migrate(url, BEFORE)
    engine = make_engine(url)
    try:
        grant_reader_on(engine, password=None)
        before = _state(engine)
        older = [v for v in VIEWS if before[v]]
        assert set(VIEWS) - set(older) == {
            "report_project_milestones",
            "report_monthly_progress",
            "report_project_classes",
            "report_project_multiplier",
            "report_district_specialisation",
            "report_lead_conversion",
        }
        assert {kind for kind, _, _ in (before[v] for v in older)} == {"v"}
        assert all(readable for _, _, readable in (before[v] for v in older))

        _alembic(url, "upgrade", "head")
        upgraded = _state(engine)
        for view in VIEWS:
            kind, _, readable = upgraded[view]
            assert kind == ("m" if view in set(MATERIALIZED) - set(KEPT) else "v"), view
            assert readable, view  # chaindb_reader's grant carried over
        assert upgraded["jit"] == (["jit=off"],)

        _alembic(url, "downgrade", BEFORE)
        assert _state(engine) == before
    finally:
        engine.dispose()


# --- the supplier tiers, kept chain master by chain master ---------------------------------------


def tiers_of(conn: Connection, master: int) -> dict[int, int]:
    """supplier id -> tier, of the chain master's rows in report_supplier_tiers."""
    return dict(
        conn.execute(
            text("SELECT supplier_id, tier FROM report_supplier_tiers WHERE chain_master_id = :m"),
            {"m": master},
        ).all()
    )


def queued(conn: Connection) -> list[int]:
    return sorted(conn.execute(text("SELECT enterprise_id FROM supplier_tier_stale")).scalars())


def catch_up(conn: Connection) -> int:
    return conn.execute(text("SELECT supplier_tier_catch_up()")).scalar_one()


def test_a_link_write_queues_its_buyer_and_catching_up_touches_only_the_masters_it_changes(
    conn, master
):
    m, c = master["buyer"], master["chain"]
    other_chain = f.chain(conn)
    bystander = f.chain_master(conn, other_chain)
    f.supply_link(conn, f.enterprise(conn), bystander, other_chain, status="active")
    refresh_reports(conn, views=["report_supplier_tiers"])
    assert queued(conn) == []
    bystander_rows = (
        conn.execute(
            text("SELECT xmin::text FROM supplier_tier WHERE chain_master_id = :m"),
            {"m": bystander},
        )
        .scalars()
        .all()
    )

    # A supplier of the master's supplier (a chain master in a chain of its own): tier 2,
    # through the supplier.
    f.chain_role(conn, master["supplier"], other_chain, "chain_master")
    second = f.enterprise(conn)
    f.supply_link(conn, second, master["supplier"], other_chain, status="active")
    assert set(queued(conn)) == {master["supplier"]}
    assert tiers_of(conn, m) == {master["supplier"]: 1}  # not yet caught up
    # The supplier, whose role changed, is rebuilt; the new link is placed in the master's tiers.
    assert catch_up(conn) == 1
    assert tiers_of(conn, m) == {master["supplier"]: 1, second: 2}
    assert queued(conn) == []
    # The other chain master's rows were left as they were.
    assert (
        conn.execute(
            text("SELECT xmin::text FROM supplier_tier WHERE chain_master_id = :m"),
            {"m": bystander},
        )
        .scalars()
        .all()
        == bystander_rows
    )

    # What does not change the tiers queues nothing: a value, a proposed link.
    conn.execute(
        text("UPDATE supply_link SET annual_value_cny_10k = 5 WHERE buyer_id = :m"), {"m": m}
    )
    f.supply_link(conn, f.enterprise(conn), m, c, status="proposed")
    assert queued(conn) == []

    # The link ended: the supplier and what came through it are gone.
    conn.execute(
        text(
            "UPDATE supply_link SET status = 'ended', until = current_date "
            "WHERE buyer_id = :m AND supplier_id = :s"
        ),
        {"m": m, "s": master["supplier"]},
    )
    assert queued(conn) == [m]
    assert catch_up(conn) == 0  # taken out of the tiers, nothing rebuilt
    assert tiers_of(conn, m) == {}


def test_a_chain_master_role_given_or_ended_is_caught_up(conn, master):
    c = master["chain"]
    refresh_reports(conn, views=["report_supplier_tiers"])
    # A new chain master, its supplier linked: its tiers appear.
    newcomer = f.chain_master(conn, c)
    assert queued(conn) == [newcomer]
    f.supply_link(conn, master["supplier"], newcomer, c, status="active")
    catch_up(conn)
    assert tiers_of(conn, newcomer) == {master["supplier"]: 1}
    # Its links deleted and its role ended: its tiers go (the role may end once no live link
    # is left: chaindb.supply).
    conn.execute(text("DELETE FROM supply_link WHERE buyer_id = :m"), {"m": newcomer})
    conn.execute(
        text(
            "UPDATE chain_role SET until = current_date - 1, since = current_date - 30 "
            "WHERE enterprise_id = :m"
        ),
        {"m": newcomer},
    )
    assert queued(conn) == [newcomer, newcomer]
    assert catch_up(conn) == 1
    assert tiers_of(conn, newcomer) == {}
    assert tiers_of(conn, master["buyer"]) == {master["supplier"]: 1}


def test_a_truncate_queues_everything_and_a_refresh_empties_the_queue(conn, master):
    refresh_reports(conn, views=["report_supplier_tiers"])
    savepoint = conn.begin_nested()
    conn.execute(text("TRUNCATE supply_link"))
    assert queued(conn) == [0]
    assert catch_up(conn) == -1
    assert tiers_of(conn, master["buyer"]) == {}
    savepoint.rollback()
    f.supply_link(conn, f.enterprise(conn), master["buyer"], master["chain"], status="active")
    assert queued(conn) == [master["buyer"]]
    refresh_reports(conn, views=["report_supplier_tiers"])
    assert queued(conn) == []
    assert len(tiers_of(conn, master["buyer"])) == 2


def test_a_refresher_taking_over_rebuilds_the_tiers_only_on_a_new_day(conn):
    """Every web process's refresher refreshes all views when it takes over; the supplier tiers,
    whose writes queue what they touch, only catch up when they were refreshed today (rebuilt
    whole, they took 3 minutes of a core at synthetic scale 1 on every restart)."""
    from chaindb.reports.listener import KEPT, Refresher

    driver = conn.connection.driver_connection
    upsert = (
        "INSERT INTO report_refresh (view_name, refreshed_at) VALUES (:view, {when}) "
        "ON CONFLICT (view_name) DO UPDATE SET refreshed_at = EXCLUDED.refreshed_at"
    )
    # Every kept view refreshed now: the template database's rows may be of another day (a test
    # run just after midnight on a template built before it).
    for view in KEPT:
        conn.execute(text(upsert.format(when="now()")), {"view": view})
    assert Refresher._kept_of_today(driver) is True
    conn.execute(
        text(upsert.format(when="now() - interval '1 day'")), {"view": "report_supplier_tiers"}
    )
    assert Refresher._kept_of_today(driver) is False
    conn.execute(text("DELETE FROM report_refresh WHERE view_name = 'report_supplier_tiers'"))
    assert Refresher._kept_of_today(driver) is False
