"""Targets per office and chain with their progress: the actuals the approved projects give
(签约, 开工, 到位资金, 实际使用外资), each chain's revenue entered by its office, the city's goal
for the 13 chains summed from them, against values computed here."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from tests import factories_sql as f
from tests.conftest import Offices, count_rows

YEAR = date.today().year
IN_YEAR = date(YEAR, 1, 15)
LAST_YEAR = date(YEAR - 1, 6, 1)


def _progress(conn: Connection, target_id: int) -> dict[str, Any]:
    return dict(
        conn.execute(
            text("SELECT * FROM report_target_progress WHERE target_id = :t"), {"t": target_id}
        )
        .mappings()
        .one()
    )


def _target(conn: Connection, **columns: object) -> int:
    return f.target(conn, year=YEAR, **columns)


def test_an_offices_targets_are_measured_by_its_approved_projects(conn, offices: Offices):
    ids = offices.ids
    d1, c2 = ids["d1"], ids["c2"]
    # Approved in d1 (the district office's planning unit): two signed this year, one last
    # year, one dropped; one started this year; a draft signed this year is only reported.
    f.project(conn, c2, d1, stage="signed", signed_on=IN_YEAR, agreed_investment_cny_100m=10,
              funds_arrived_cny_100m=2)  # fmt: skip
    f.project(conn, c2, d1, stage="under_construction", signed_on=IN_YEAR,
              construction_started_on=IN_YEAR, agreed_investment_cny_100m=30,
              funds_arrived_cny_100m=5, capital_origin="foreign",
              foreign_capital_usd_10k=800)  # fmt: skip
    f.project(conn, c2, d1, stage="signed", signed_on=LAST_YEAR, agreed_investment_cny_100m=99)
    conn.execute(text("SELECT set_config('chaindb.stage_reason', '对方撤资', true)"))
    f.project(conn, c2, d1, stage="dropped", signed_on=IN_YEAR, dropped_on=IN_YEAR,
              agreed_investment_cny_100m=50)  # fmt: skip
    conn.execute(text("SELECT set_config('chaindb.stage_reason', '', true)"))
    f.project(conn, c2, d1, stage="signed", signed_on=IN_YEAR, agreed_investment_cny_100m=7,
              review_status="draft")  # fmt: skip
    # Elsewhere: not the office's.
    f.project(conn, c2, ids["d2"], stage="signed", signed_on=IN_YEAR, agreed_investment_cny_100m=40)

    office = {"scope": "unit", "unit_id": ids["u_d1"]}
    signed = _target(conn, **office, metric="projects_signed", unit="count", target_value=4)
    amount = _target(conn, **office, metric="investment_signed", target_value=80)
    started = _target(conn, **office, metric="projects_started", unit="count", target_value=2)
    arrived = _target(conn, **office, metric="funds_arrived", target_value=10)
    foreign = _target(conn, **office, metric="foreign_capital_used", unit="usd_10k",
                      target_value=1000)  # fmt: skip

    # The fixture's own projects in d1 are approved but never signed: they count nowhere.
    row = _progress(conn, signed)
    assert (row["actual_value"], row["actual_source"]) == (2, "projects")
    assert row["progress"] == Decimal("0.5")
    assert row["remaining_value"] == 2
    assert row["reported_value"] == 3  # the draft too
    assert (row["unit_id"], row["unit_code"]) == (ids["u_d1"], "district-test-1")
    assert _progress(conn, amount)["actual_value"] == 40
    assert _progress(conn, amount)["progress"] == Decimal("0.5")
    assert _progress(conn, started)["actual_value"] == 1
    assert _progress(conn, arrived)["actual_value"] == 7
    assert _progress(conn, foreign)["actual_value"] == 800
    assert _progress(conn, foreign)["progress"] == Decimal("0.8")


def test_a_chain_offices_target_counts_its_chains_and_a_target_in_one_chain_that_chain(
    conn, offices: Offices
):
    ids = offices.ids
    # c1 and the key chain under it belong to the chain office; c2 not.
    for chain in ("c1", "c1k", "c2"):
        f.project(conn, ids[chain], ids["d2"], stage="signed", signed_on=IN_YEAR)
    whole = _target(conn, scope="unit", unit_id=ids["u_c1"], metric="projects_signed",
                    unit="count", target_value=10)  # fmt: skip
    in_key = _target(conn, scope="unit", unit_id=ids["u_c1"], chain_id=ids["c1k"],
                     metric="projects_signed", unit="count", target_value=10)  # fmt: skip
    city = _target(conn, scope="unit", unit_id=ids["u_city"], metric="projects_signed",
                   unit="count", target_value=10)  # fmt: skip
    assert _progress(conn, whole)["actual_value"] == 2
    assert _progress(conn, in_key)["actual_value"] == 1
    signed_in_year = conn.execute(
        text(
            "SELECT count(*) FROM project_approved WHERE stage <> 'dropped' AND "
            "extract(year FROM signed_on) = :y"
        ),
        {"y": YEAR},
    ).scalar_one()
    assert _progress(conn, city)["actual_value"] == signed_in_year


def test_an_entered_actual_wins_over_the_measured_one(conn, offices: Offices):
    ids = offices.ids
    f.project(conn, ids["c2"], ids["d1"], stage="signed", signed_on=IN_YEAR)
    target = _target(conn, scope="district", district_id=ids["d1"], metric="projects_signed",
                     unit="count", target_value=5, actual_value=4)  # fmt: skip
    row = _progress(conn, target)
    assert (row["actual_value"], row["actual_source"]) == (4, "entered")


def test_chain_offices_enter_their_revenue_and_the_citys_goal_sums_the_iconic_chains(
    client, conn, offices: Offices
):
    ids = offices.ids
    as_c1 = offices.headers("c1-editor")
    before = count_rows(conn, "chain_revenue")
    theirs = client.post(
        "/api/v1/chain-revenues",
        json={"chain_id": ids["c2"], "year": YEAR, "revenue_cny_100m": "900"},
        headers=as_c1,
    )
    assert theirs.status_code == 403, theirs.get_json()
    assert count_rows(conn, "chain_revenue") == before
    own = client.post(
        "/api/v1/chain-revenues",
        json={"chain_id": ids["c1"], "year": YEAR, "revenue_cny_100m": "1200.5"},
        headers=as_c1,
    )
    assert own.status_code == 201, own.get_json()
    again = client.post(
        "/api/v1/chain-revenues",
        json={"chain_id": ids["c1"], "year": YEAR, "revenue_cny_100m": "1"},
        headers=as_c1,
    )
    assert again.status_code == 409
    negative = client.post(
        "/api/v1/chain-revenues",
        json={"chain_id": ids["c1k"], "year": YEAR, "revenue_cny_100m": "-5"},
        headers=as_c1,
    )
    assert negative.status_code == 422
    # The city bureau enters c2's.
    city = client.post(
        "/api/v1/chain-revenues",
        json={"chain_id": ids["c2"], "year": YEAR, "revenue_cny_100m": "799.5"},
        headers=offices.headers("city-admin"),
    )
    assert city.status_code == 201, city.get_json()

    chain_goal = _target(conn, scope="chain", chain_id=ids["c1"], metric="chain_revenue",
                         target_value=2401)  # fmt: skip
    row = _progress(conn, chain_goal)
    assert (row["actual_value"], row["actual_source"]) == (Decimal("1200.5"), "chain_revenue")
    assert row["progress"] == Decimal("0.5")

    goal = _target(conn, metric="iconic_chains_revenue", target_value=11000)
    # Not yet every iconic chain (one more has entered nothing): the sum so far is reported,
    # not counted.
    f.chain(conn)
    iconic = conn.execute(text("SELECT id FROM chain WHERE tier = 'iconic'")).scalars().all()
    row = _progress(conn, goal)
    assert row["actual_source"] != "chain_revenue"
    assert row["reported_value"] >= Decimal("2000")
    for chain in iconic:
        conn.execute(
            text(
                "INSERT INTO chain_revenue (chain_id, year, revenue_cny_100m) "
                "VALUES (:c, :y, 1) ON CONFLICT (chain_id, year) DO NOTHING"
            ),
            {"c": chain, "y": YEAR},
        )
    iconic = conn.execute(
        text(
            "SELECT COALESCE(sum(r.revenue_cny_100m), 0), count(*) FROM chain_revenue AS r "
            "JOIN chain AS c ON c.id = r.chain_id WHERE c.tier = 'iconic' AND r.year = :y"
        ),
        {"y": YEAR},
    ).one()
    row = _progress(conn, goal)
    assert iconic[0] >= Decimal("2000")  # c1 and c2 are iconic
    assert row["actual_value"] == iconic[0]
    assert row["chains_reporting"] == iconic[1]
    assert row["actual_source"] == "chain_revenue"


def test_a_target_names_what_its_scope_needs(api, conn, offices: Offices):
    ids = offices.ids
    before = count_rows(conn, "target")
    for body, field in (
        ({"scope": "unit"}, "unit_id"),
        ({"scope": "unit", "unit_id": ids["u_d1"], "district_id": ids["d1"]}, "district_id"),
        ({"scope": "city", "unit_id": ids["u_d1"]}, "unit_id"),
    ):
        response = api.post(
            "/api/v1/targets",
            {**body, "year": YEAR, "metric": "projects_started", "unit": "count",
             "target_value": 3},
            role="admin",
        )  # fmt: skip
        assert response.status_code == 422, response.get_json()
        assert field in {d["field"] for d in response.get_json()["error"]["details"]}
    assert count_rows(conn, "target") == before
    made = api.post(
        "/api/v1/targets",
        {"scope": "unit", "unit_id": "district-test-1", "chain_id": ids["c2"], "year": YEAR,
         "metric": "foreign_capital_used", "unit": "usd_10k", "target_value": 500},
        role="admin",
    )  # fmt: skip
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["unit_id"] == ids["u_d1"]


def test_the_progress_page_shows_the_offices_own_targets_first(web_as, conn, offices: Offices):
    ids = offices.ids
    f.project(conn, ids["c2"], ids["d1"], stage="signed", signed_on=IN_YEAR)
    _target(conn, scope="unit", unit_id=ids["u_d1"], metric="projects_signed", unit="count",
            target_value=4)  # fmt: skip
    page = web_as("viewer").text(f"/progress?year={YEAR}")
    assert 'id="progress-unit"' in page
    assert "district-test-1办公室" in page
    assert "25%" in page or "25.0%" in page
