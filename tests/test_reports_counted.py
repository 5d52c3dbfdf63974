"""Figures counted as the offices count them (DOMAIN.md, Metrics): one definition of a stage
reached (report_project_milestones), unknown dates kept unknown, every target measured."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, text

from chaindb.reports.refresh import refresh_reports
from tests import factories_sql as f

# A year no other test's projects use: the rates and the pipeline are read for it alone.
YEAR = 1998


def rows(conn: Connection, sql: str, **params: Any) -> list[dict[str, Any]]:
    if "report_project_pipeline" in sql or "report_project_rates" in sql:
        # Materialized: refreshed here in the test's transaction, as the refresher would.
        refresh_reports(conn, views=["report_project_pipeline", "report_project_rates"])
    return [dict(r) for r in conn.execute(text(sql), params).mappings()]


def stage_days(conn: Connection, project_id: int) -> list[tuple[str | None, str, date | None]]:
    return [
        (r["from_stage"], r["to_stage"], r["occurred_on"])
        for r in rows(
            conn,
            "SELECT from_stage, to_stage, occurred_on FROM project_stage_event "
            "WHERE project_id = :id ORDER BY id",
            id=project_id,
        )
    ]


@pytest.fixture
def place(conn: Connection) -> dict[str, int]:
    return {"chain": f.chain(conn), "district": f.district(conn)}


def milestones(conn: Connection, project_id: int) -> dict[str, date | None]:
    return {
        r["stage"]: r["reached_on"]
        for r in rows(
            conn,
            "SELECT stage, reached_on FROM report_project_milestones WHERE project_id = :id",
            id=project_id,
        )
    }


def test_a_project_that_went_from_signed_to_production_without_a_start_date_has_started(
    conn, place
):
    """BYD's Jinan base: signed 2021-08, first car 2022-11-30, no 开工日期 recorded."""
    byd = f.project(
        conn,
        place["chain"],
        place["district"],
        stage="signed",
        signed_on=date(YEAR, 8, 1),
    )
    conn.execute(
        text(
            "UPDATE project SET stage = 'in_production', production_started_on = :day "
            "WHERE id = :id"
        ),
        {"day": date(YEAR, 11, 30), "id": byd},
    )
    assert milestones(conn, byd) == {
        "signed": date(YEAR, 8, 1),
        "under_construction": None,  # passed, on a day nobody recorded
        "in_production": date(YEAR, 11, 30),
    }
    (august,) = rows(
        conn, "SELECT * FROM report_project_rates WHERE month = :m", m=date(YEAR, 8, 1)
    )
    assert august["signed_projects"] == 1
    assert august["started_projects"] == 1
    assert august["start_rate"] == 1
    assert august["started_date_unknown"] == 1


def test_a_project_created_at_a_later_stage_passed_the_earlier_milestones(conn, place):
    at_capacity = f.project(
        conn,
        place["chain"],
        place["district"],
        stage="at_capacity",
        capacity_reached_on=date(YEAR, 3, 1),
    )
    assert milestones(conn, at_capacity) == {
        "signed": None,
        "under_construction": None,
        "in_production": None,
        "at_capacity": date(YEAR, 3, 1),
    }
    # Lead and negotiation are working states, counted only where recorded.
    lead = f.project(conn, place["chain"], place["district"], stage="lead")
    assert milestones(conn, lead) == {"lead": date.today()}


def test_a_dropped_project_keeps_the_milestones_it_reached(conn, place):
    project = f.project(
        conn,
        place["chain"],
        place["district"],
        stage="under_construction",
        signed_on=date(YEAR, 1, 5),
        construction_started_on=date(YEAR, 2, 1),
    )
    conn.execute(text("SELECT set_config('chaindb.stage_reason', '资金链断裂', true)"))
    conn.execute(
        text("UPDATE project SET stage = 'dropped', dropped_on = :day WHERE id = :id"),
        {"day": date(YEAR, 6, 1), "id": project},
    )
    assert milestones(conn, project) == {
        "signed": date(YEAR, 1, 5),
        "under_construction": date(YEAR, 2, 1),
        "dropped": date(YEAR, 6, 1),
    }


def test_unknown_stage_days_stay_unknown(conn, place):
    # Created at a dated stage without its date: the day it got there is not known.
    unknown = f.project(conn, place["chain"], place["district"], stage="in_production")
    assert stage_days(conn, unknown) == [(None, "in_production", None)]
    # A load that does not know its days says so: no day, not the day of the load.
    conn.execute(text("SELECT set_config('chaindb.stage_date', 'unknown', true)"))
    loaded = f.project(conn, place["chain"], place["district"], stage="negotiating")
    conn.execute(text("UPDATE project SET stage = 'signed' WHERE id = :id"), {"id": loaded})
    dated = f.project(
        conn, place["chain"], place["district"], stage="signed", signed_on=date(YEAR, 4, 2)
    )
    conn.execute(text("SELECT set_config('chaindb.stage_date', '', true)"))
    assert stage_days(conn, loaded) == [
        (None, "negotiating", None),
        ("negotiating", "signed", None),
    ]
    assert stage_days(conn, dated) == [(None, "signed", date(YEAR, 4, 2))]
    # A lead typed in, or a move made now, is dated today.
    lead = f.project(conn, place["chain"], place["district"], stage="lead")
    conn.execute(text("UPDATE project SET stage = 'negotiating' WHERE id = :id"), {"id": lead})
    assert stage_days(conn, lead) == [
        (None, "lead", date.today()),
        ("lead", "negotiating", date.today()),
    ]


def test_the_pipeline_puts_unknown_days_in_a_row_of_their_own(conn, place):
    chain = place["chain"]
    f.project(conn, chain, place["district"], stage="signed", signed_on=date(YEAR, 5, 9))
    f.project(conn, chain, place["district"], stage="in_production",
              agreed_investment_cny_100m=Decimal(7))  # fmt: skip
    dated = rows(
        conn,
        "SELECT stage, projects FROM report_project_pipeline WHERE month = :m",
        m=date(YEAR, 5, 1),
    )
    assert dated == [{"stage": "signed", "projects": 1}]
    unknown = {
        r["stage"]: r
        for r in rows(conn, "SELECT * FROM report_project_pipeline WHERE month IS NULL")
    }
    # The project in production passed 签约 and 开工 on unknown days, and reached 投产 on one.
    for stage in ("signed", "under_construction", "in_production"):
        assert unknown[stage]["projects"] >= 1
        assert unknown[stage]["year"] is None
    this_month = date.today().replace(day=1)
    assert not rows(
        conn,
        "SELECT 1 FROM report_project_pipeline AS p JOIN report_project_milestones AS m "
        "ON date_trunc('month', m.reached_on)::date = p.month "
        "WHERE p.month = :m AND m.stage = 'in_production' AND m.agreed_investment_cny_100m = 7",
        m=this_month,
    ), "a project with no day was dated to this month"


def test_target_progress_covers_every_target_with_its_actual(conn):
    auto = f.chain(conn, target_2030_cny_100m=Decimal(2100))
    city_2024 = f.target(
        conn, year=2097, metric="industrial_revenue", target_value=None, actual_value=10189.4
    )
    city_goal = f.target(
        conn, year=2098, metric="iconic_chains_revenue", target_value=11000, actual_value=None
    )
    progress = {
        (r["scope"], r["chain_id"], r["year"]): r
        for r in rows(conn, "SELECT * FROM report_target_progress")
    }
    goal = progress[("city", None, 2098)]
    assert goal["target_id"] == city_goal and goal["origin"] == "target"
    assert goal["actual_value"] == Decimal("10189.4")
    assert (goal["actual_year"], goal["actual_metric"]) == (2097, "industrial_revenue")
    assert round(goal["progress"], 3) == Decimal("0.926")
    # An actual with no target is not a target: it measures the ones after it.
    assert ("city", None, 2097) not in progress
    assert city_2024 not in {r["target_id"] for r in progress.values()}
    # The chains' 2030 targets, kept on the chain.
    chain_2030 = progress[("chain", auto, 2030)]
    assert chain_2030["target_value"] == Decimal(2100) and chain_2030["origin"] == "chain"
    assert chain_2030["actual_value"] is None and chain_2030["progress"] is None
    # Entered in the target table too, the table's row is the one shown.
    entered = f.target(
        conn,
        scope="chain",
        chain_id=auto,
        year=2030,
        metric="chain_revenue",
        target_value=2200,
        actual_value=None,
    )
    again = [
        r
        for r in rows(conn, "SELECT * FROM report_target_progress WHERE chain_id = :c", c=auto)
        if r["year"] == 2030
    ]
    assert [(r["target_id"], r["target_value"]) for r in again] == [(entered, Decimal(2200))]


CREATED = [
    # (stage, dates): a project as entered, at every stage, with and without its dates
    ("lead", {}),
    ("negotiating", {}),
    ("signed", {}),
    ("signed", {"signed_on": date(2020, 5, 1)}),
    ("under_construction", {"signed_on": date(2020, 1, 1)}),
    ("under_construction", {"construction_started_on": date(2020, 6, 1)}),
    ("in_production", {"signed_on": date(2019, 1, 1), "production_started_on": date(2021, 1, 1)}),
    ("at_capacity", {"capacity_reached_on": date(2022, 1, 1)}),
    ("dropped", {"dropped_on": date(2020, 2, 1)}),
    ("dropped", {"signed_on": date(2019, 3, 1), "dropped_on": date(2020, 2, 1)}),
]


@pytest.mark.parametrize("stage_date", [None, "unknown", "2021-03-04"])
def test_a_project_created_has_the_milestones_its_whole_history_gives(conn, place, stage_date):
    """The trigger writes a new project's milestones from its row and its one stage event;
    they are what project_reached(), the one definition, computes from the history."""
    if stage_date:
        conn.execute(text("SELECT set_config('chaindb.stage_date', :d, true)"), {"d": stage_date})
    # A project entered as dropped says why.
    conn.execute(text("SELECT set_config('chaindb.stage_reason', '对方撤资', true)"))
    made = [
        f.project(conn, place["chain"], place["district"], stage=stage, **dates)
        for stage, dates in CREATED
    ]
    for project_id in made:
        written = rows(
            conn,
            "SELECT stage, rank, reached_on FROM project_milestone WHERE project_id = :id "
            "ORDER BY stage",
            id=project_id,
        )
        defined = rows(
            conn,
            "SELECT stage, rank, reached_on FROM project_reached(:id) ORDER BY stage",
            id=project_id,
        )
        assert written == defined, project_id
        assert written, project_id
