"""Figures are current within seconds, with no button: the refresher (chaindb.reports.listener).

These tests commit (a NOTIFY is delivered at commit), so they use a database of their own,
migrated and loaded with the reference and demo seeds.
"""

from __future__ import annotations

import importlib.util
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from chaindb import create_app
from chaindb.config import PROJECT_ROOT, Settings
from chaindb.db import make_engine
from chaindb.reports import KEPT, MATERIALIZED, NOTIFYING_TABLES, SOURCES, listener
from chaindb.reports.listener import Refresher, affected
from tests.conftest import PASSWORD, Web, migrated_database

WITHIN = 5.0  # seconds: the bound from a committed write to every figure


@pytest.fixture(scope="module")
def seeded(admin_url: str) -> Iterator[str]:
    import uuid

    from chaindb.embedded import drop_database

    name = f"chaindb_scratch_{uuid.uuid4().hex[:10]}"
    url = migrated_database(admin_url, name, seeded=True)
    try:
        yield url
    finally:
        drop_database(admin_url, name)


@pytest.fixture
def engine_of(seeded: str) -> Iterator[Engine]:
    engine = make_engine(seeded)
    yield engine
    engine.dispose()


@pytest.fixture
def refresher(engine_of: Engine) -> Iterator[Refresher]:
    """A refresher thread on the seeded database, holding the lock."""
    running = Refresher(engine_of)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    assert running.holding.wait(10), "the refresher did not take the lock"
    # It refreshes everything once on taking over; let that pass.
    deadline = time.monotonic() + 10
    while running.refreshes < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    yield running
    running.stop()
    thread.join(15)
    assert not thread.is_alive()


def eventually(read: Callable[[], Any], expected: Any, within: float = WITHIN) -> float:
    """Seconds until read() returns expected; fails after `within` seconds."""
    started = time.monotonic()
    while True:
        got = read()
        if got == expected:
            return time.monotonic() - started
        if time.monotonic() - started > within:
            pytest.fail(f"after {within} s: {got!r}, expected {expected!r}")
        time.sleep(0.05)


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


# --- what notifies and what is refreshed -----------------------------------------------------------


def _migration(revision: str):
    (path,) = (PROJECT_ROOT / "alembic" / "versions").glob(f"*_{revision}_*.py")
    spec = importlib.util.spec_from_file_location(f"_revision_{revision}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_table_a_materialized_report_reads_notifies_the_refresher(engine_of):
    assert set(SOURCES) == set(MATERIALIZED)
    # The tables given a trigger by the migrations: 7c21d5e8a4f0's, and designation since
    # e8a2c4f6b1d3 (report_designations materialized).
    given = {*_migration("7c21d5e8a4f0").NOTIFYING_TABLES, "designation"}
    assert given == set(NOTIFYING_TABLES)
    with engine_of.connect() as conn:
        triggers = set(
            conn.execute(
                text(
                    "SELECT tgrelid::regclass::text FROM pg_trigger "
                    "WHERE tgname LIKE '%\\_reports\\_changed' AND NOT tgisinternal"
                )
            ).scalars()
        )
    assert triggers == set(NOTIFYING_TABLES)


WRITTEN_WITH_PROJECT = ("project_milestone", "project_approved", "project_approved_milestone")


def test_the_tables_each_view_reads_are_named(engine_of):
    """SOURCES holds every table a materialized view reads (from PostgreSQL's own record)."""
    with engine_of.connect() as conn:
        for view in MATERIALIZED:
            read = set(
                conn.execute(
                    text(
                        "SELECT DISTINCT d.refobjid::regclass::text FROM pg_depend AS d "
                        "JOIN pg_rewrite AS r ON r.oid = d.objid "
                        "JOIN pg_class AS c ON c.oid = d.refobjid "
                        "WHERE r.ev_class = to_regclass(:view) AND d.refobjid <> r.ev_class "
                        "AND c.relkind = 'r'"
                    ),
                    {"view": view},
                ).scalars()
            )
            # supplier_tiers() reads through a function, whose tables pg_depend does not list;
            # project_milestone and the approved copies are written by project's triggers only
            # (a write to project).
            read = {"project" if t in WRITTEN_WITH_PROJECT else t for t in read}
            if view in KEPT:  # its table is kept from SOURCES; the names are joined live
                assert KEPT[view][0] in read
                read -= {KEPT[view][0], "enterprise", "chain"}
            assert read <= set(SOURCES[view]), (view, read - set(SOURCES[view]))


def test_a_write_refreshes_the_views_that_read_its_table_and_those_reading_them():
    assert affected(["project"]) == [
        "report_chain_overview",
        "report_district_chain_matrix",
        "report_project_pipeline",
        "report_project_rates",
    ]
    assert affected(["district"]) == ["report_district_chain_matrix", "report_designations"]
    assert affected(["supply_link"]) == list(MATERIALIZED[:5])  # not the project reports
    assert affected(["chain_segment"]) == ["report_chain_gaps", "report_gap_candidates"]
    assert affected(["designation"]) == ["report_designations"]
    assert affected(["target"]) == []
    assert affected([]) == []


# --- the refresher -------------------------------------------------------------------------------


def test_a_committed_sql_write_shows_in_the_view_within_seconds(engine_of, refresher):
    before = scalar(
        engine_of, "SELECT projects FROM report_chain_overview WHERE chain_code = 'automotive'"
    )
    with engine_of.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO project (name, chain_id, district_id, kind, stage, investor_name, "
                "review_status) "
                "SELECT 'an analyst''s project', c.id, d.id, 'new', 'lead', '某投资方', 'approved' "
                "FROM chain AS c, district AS d WHERE c.code = 'automotive' AND d.code = '370102'"
            )
        )
    lag = eventually(
        lambda: scalar(
            engine_of,
            "SELECT projects FROM report_chain_overview WHERE chain_code = 'automotive'",
        ),
        before + 1,
    )
    assert lag < WITHIN


def test_a_rolled_back_write_refreshes_nothing(engine_of, refresher):
    done = refresher.refreshes
    with engine_of.connect() as conn:
        conn.execute(text("UPDATE chain SET notes = notes WHERE code = 'automotive'"))
        conn.rollback()
    time.sleep(1.5)  # longer than the refresher's gathering of a burst
    assert refresher.refreshes == done


def test_only_one_refresher_works_and_another_takes_over(engine_of, refresher):
    second = Refresher(engine_of, standby_poll=0.2)
    thread = threading.Thread(target=second.run, daemon=True)
    thread.start()
    try:
        time.sleep(1.0)
        assert not second.holding.is_set(), "two refreshers hold the lock"
        refresher.stop()  # its connection closes, and with it the lock
        assert second.holding.wait(15), "the waiting refresher did not take over"
        with Session(engine_of) as session:
            assert listener.active(session)
    finally:
        second.stop()
        thread.join(15)
    assert not thread.is_alive()
    with Session(engine_of) as session:
        assert not listener.active(session)


# --- the page, the API and the view, as a person writes -------------------------------------------


@pytest.fixture
def served(seeded: str) -> Iterator[Any]:
    settings = Settings(
        token_cache_seconds=0,
        env="test",
        database_url=seeded,
        secret_key="t" * 40,
        reports_listen=False,
    )
    app = create_app({"TESTING": True, "SQLALCHEMY_URL": seeded}, settings=settings)
    yield app
    from chaindb.db import db

    db.dispose(app)


def _user_with_token(engine: Engine, role: str) -> tuple[str, str]:
    import secrets

    from chaindb.auth.service import create_token, create_user

    username = f"fresh-{role}-{secrets.token_hex(3)}"
    with Session(engine) as session:
        user = create_user(session=session, username=username, role=role, password=PASSWORD)
        token = create_token(session=session, user=user, name="freshness")[1]
        session.commit()
    return username, token


def test_a_new_project_shows_on_the_report_page_the_api_and_the_view_within_5_seconds(
    engine_of, refresher, served
):
    username, token = _user_with_token(engine_of, "reviewer")
    client = served.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    chain_id = scalar(engine_of, "SELECT id FROM chain WHERE code = 'automotive'")

    def api_figure(column: str = "projects") -> tuple[int, str]:
        body = client.get(f"/api/v1/reports/chain-overview?chain_id={chain_id}", headers=auth)
        assert body.status_code == 200, body.get_data(as_text=True)
        (row,) = body.get_json()["results"]
        return row[column], row["agreed_investment_cny_100m"]

    before_projects, before_amount = api_figure()
    before_reported = api_figure("projects_reported")[0]
    created = client.post(
        "/api/v1/projects",
        json={
            "name": "新能源汽车热管理系统项目（时效测试）",
            "chain_id": chain_id,
            "district_id": scalar(engine_of, "SELECT id FROM district WHERE code = '370112'"),
            "kind": "new",
            "stage": "negotiating",
            "investor_name": "某热管理企业",
            "agreed_investment_cny_100m": "12.5",
        },
        headers=auth,
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    # A draft: reported beside within seconds, counted only once approved.
    eventually(lambda: api_figure("projects_reported")[0], before_reported + 1)
    assert api_figure()[0] == before_projects
    project = created.get_json()["id"]
    for action in ("submit", "approve"):
        reviewed = client.post(
            f"/api/v1/projects/{project}/review", json={"action": action}, headers=auth
        )
        assert reviewed.status_code == 200, reviewed.get_data(as_text=True)
    written = time.monotonic()
    from decimal import Decimal

    expected_amount = Decimal(before_amount) + Decimal("12.5")
    eventually(
        lambda: (lambda p, a: (p, Decimal(a)))(*api_figure()),
        (before_projects + 1, expected_amount),
    )
    eventually(
        lambda: scalar(
            engine_of,
            "SELECT projects FROM report_chain_overview WHERE chain_code = 'automotive'",
        ),
        before_projects + 1,
        within=WITHIN - (time.monotonic() - written),
    )
    web = Web(served.test_client())
    assert web.login(username).status_code == 302
    page = web.text(f"/reports/chain-overview?chain_id={chain_id}")
    assert f"{before_projects + 1}" in re.sub(r"<[^>]+>", " ", page)
    assert time.monotonic() - written < WITHIN
    # Kept current: the page says so and offers no refresh button.
    assert "kept current" in page or "自动" in page or "保持最新" in page
    assert "/refresh" not in page
    api = client.get("/api/v1/reports/chain-overview", headers=auth).get_json()
    assert api["kept_current"] is True and api["as_of"]


def test_without_a_refresher_the_page_offers_a_refresh(engine_of, served):
    username, _ = _user_with_token(engine_of, "editor")
    web = Web(served.test_client())
    assert web.login(username).status_code == 302
    page = web.text("/reports/chain-overview")
    assert "/reports/chain-overview/refresh" in page


def test_the_reports_api_refuses_what_it_does_not_take(engine_of, served):
    _, token = _user_with_token(engine_of, "viewer")
    client = served.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/reports", headers=auth)
    assert listed.status_code == 200
    names = {r["name"] for r in listed.get_json()["results"]}
    assert {"chain-overview", "target-progress", "project-pipeline"} <= names
    for query, field in (
        ("?chain=automotive", "chain"),
        ("?chain_id=abc", "chain_id"),
        ("?chain_id=-1", "chain_id"),
        ("?limit=0", "limit"),
        ("?limit=100000", "limit"),
    ):
        answer = client.get(f"/api/v1/reports/chain-overview{query}", headers=auth)
        assert answer.status_code == 422, (query, answer.get_data(as_text=True))
        assert field in answer.get_data(as_text=True)
    assert client.get("/api/v1/reports/no-such-report", headers=auth).status_code == 404
    assert client.get("/api/v1/reports/chain-overview").status_code == 401
    paged = client.get("/api/v1/reports/chain-overview?limit=5", headers=auth).get_json()
    assert len(paged["results"]) == 5 and paged["count"] == 13 and "offset=5" in paged["next"]


def test_under_writes_that_never_pause_refreshing_takes_a_quarter_of_the_time():
    """After a refresh of d seconds the refresher rests 3d before gathering the next burst (the
    writes meanwhile wait in the queue): the tiers of a chain master with 43,000 suppliers took
    seconds, and refreshed after every burst of links they kept a core busy."""
    from chaindb.reports.listener import MAX_REST, SHARE, Refresher

    refresher = Refresher(None)  # type: ignore[arg-type]  # not run: only its pacing is asked
    assert SHARE == 0.25
    assert refresher.rest_after(0.004) == pytest.approx(0.012)  # demo size: unnoticed
    assert refresher.rest_after(3.0) == pytest.approx(9.0)
    assert refresher.rest_after(600.0) == MAX_REST
    assert Refresher(None, share=1.0).rest_after(3.0) == 0.0  # type: ignore[arg-type]


def test_the_refresher_works_in_one_process(engine_of):
    """Its share is of one core: each view is refreshed in a transaction with no parallel
    workers (two of them made a refresh 1.3x faster for 3x the CPU, beside the requests)."""
    from sqlalchemy import event

    seen: list[str] = []

    def note(conn, cursor, statement, *_):
        seen.append(statement)

    event.listen(engine_of, "begin", lambda conn: seen.append("BEGIN"))
    event.listen(engine_of, "before_cursor_execute", note)
    views = ["report_chain_overview", "report_chain_gaps", "report_supplier_tiers"]
    Refresher(engine_of)._refresh(None, views)  # type: ignore[arg-type]  # its conn is unused
    work = [
        i
        for i, statement in enumerate(seen)
        if statement.startswith("REFRESH") or "_rebuild(" in statement
    ]
    assert len(work) == len(views), seen
    for i in work:
        begun = max(j for j in range(i) if seen[j] == "BEGIN")
        assert "SET LOCAL max_parallel_workers_per_gather = 0" in seen[begun:i], seen
