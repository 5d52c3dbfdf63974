"""The reporting views against figures worked out in the test from the rows it inserts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Connection, text

from chaindb.migrations import alembic_config
from chaindb.reports import KEPT, MATERIALIZED, VIEWS, sql
from chaindb.reports.refresh import refresh_reports
from tests import factories_sql as f

# The column contract, in order (docs/reporting.md and the report pages rely on it).
CONTRACT = {
    "report_chain_overview": [
        "chain_id", "chain_code", "chain_name_zh", "chain_tier", "enterprises", "chain_masters",
        "backbones", "suppliers", "local_suppliers", "nonlocal_suppliers", "active_supply_links",
        "projects", "projects_lead", "projects_negotiating", "projects_signed",
        "projects_under_construction", "projects_in_production", "projects_at_capacity",
        "projects_dropped", "agreed_investment_cny_100m", "agreed_lead_cny_100m",
        "agreed_negotiating_cny_100m", "agreed_signed_cny_100m",
        "agreed_under_construction_cny_100m", "agreed_in_production_cny_100m",
        "agreed_at_capacity_cny_100m", "funds_arrived_cny_100m", "projects_reported",
        "agreed_investment_reported_cny_100m",
    ],
    "report_chain_master_suppliers": [
        "chain_master_id", "chain_master_name_zh", "chain_id", "chain_code", "chain_name_zh",
        "suppliers", "local_suppliers", "nonlocal_suppliers", "sme_suppliers", "active_links",
        "local_active_links", "links_with_value", "value_cny_10k", "local_value_cny_10k",
        "local_supply_rate_by_value", "local_supply_rate_by_count",
    ],
    "report_chain_gaps": [
        "chain_id", "chain_code", "chain_name_zh", "segment_id", "segment_code",
        "segment_name_zh", "position", "parent_id", "depth", "nonlocal_suppliers",
        "nonlocal_value_cny_10k",
    ],
    "report_gap_candidates": [
        "chain_id", "chain_code", "segment_id", "segment_name_zh", "supplier_id",
        "supplier_name_zh", "supplier_uscc", "supplier_region_code", "chain_masters_supplied",
        "products", "value_cny_10k",
    ],
    "report_supplier_tiers": [
        "chain_master_id", "chain_master_name_zh", "chain_id", "chain_code", "tier",
        "supplier_id", "supplier_name_zh", "supplier_local", "via_buyer_id", "path",
    ],
    "report_district_chain_matrix": [
        "district_id", "district_code", "district_name_zh", "district_kind", "chain_id",
        "chain_code", "chain_name_zh", "enterprises", "projects", "agreed_investment_cny_100m",
        "funds_arrived_cny_100m", "projects_reported", "agreed_investment_reported_cny_100m",
    ],
    "report_project_milestones": [
        "project_id", "project_name", "chain_id", "district_id", "stage", "rank", "reached_on",
        "agreed_investment_cny_100m",
    ],
    "report_project_pipeline": [
        "month", "year", "stage", "projects", "agreed_investment_cny_100m",
        "projects_reported", "agreed_investment_reported_cny_100m",
    ],
    "report_project_rates": [
        "month", "year", "signed_projects", "started_projects", "started_date_unknown",
        "start_rate", "agreed_investment_cny_100m", "funds_arrived_cny_100m",
        "funds_arrival_rate", "due_projects", "fulfilled_projects", "fulfilment_rate",
        "signed_projects_reported", "started_projects_reported", "start_rate_reported",
    ],
    "report_target_progress": [
        "target_id", "scope", "chain_id", "chain_code", "chain_name_zh", "district_id",
        "district_code", "district_name_zh", "year", "metric", "unit", "target_value",
        "actual_value", "progress", "remaining_value", "actual_year", "actual_metric", "origin",
        "unit_id", "unit_code", "unit_name_zh", "actual_source", "reported_value",
        "chains_reporting",
    ],
    "report_designations": [
        "scope", "chain_id", "chain_code", "district_id", "district_code", "designation_type",
        "level", "enterprises",
    ],
    "report_monthly_progress": [
        "month", "district_id", "district_code", "district_name_zh", "unit_id", "unit_name_zh",
        *(
            f"{stage}_{period}{measure}"
            for stage in ("signed", "started", "producing")
            for period in ("month", "ytd")
            for measure in ("", "_agreed_cny_100m", "_arrived_cny_100m")
        ),
    ],
    "report_project_classes": [
        "chain_id", "chain_code", "chain_name_zh", "district_id", "district_code",
        "district_name_zh", "size_class", "capital_origin", "projects",
        "agreed_investment_cny_100m", "first_phase_investment_cny_100m",
        "fixed_asset_investment_cny_100m", "funds_arrived_cny_100m", "foreign_capital_usd_10k",
        "projects_reported", "projects_fortune_global_500", "projects_china_500",
        "projects_private_500", "projects_central_soe", "projects_listed",
    ],
    "report_project_multiplier": [
        "project_id", "project_name", "chain_id", "chain_code", "chain_name_zh", "district_id",
        "chain_master_id", "chain_master_name_zh", "signed_on", "local_suppliers", "local_links",
        "local_value_cny_10k", "suppliers", "value_cny_10k",
    ],
    "report_district_specialisation": [
        "district_id", "district_code", "district_name_zh", "chain_id", "chain_code",
        "chain_name_zh", "is_leading", "projects", "agreed_investment_cny_100m",
        "outside_leading_chains", "units_leading_chain", "enterprises", "active_supply_links",
        "units_with_projects",
    ],
    "report_lead_conversion": [
        "unit_id", "unit_code", "unit_name_zh", "source", "leads", "open_leads", "signed",
        "dropped", "conversion_rate", "closed_conversion_rate", "overdue_follow_ups",
        "projects_approved", "agreed_investment_cny_100m",
    ],
}  # fmt: skip

PAST = date(2020, 6, 30)  # a role or designation that ended then is not live today


def rows(conn: Connection, sql_text: str, **params: object) -> list[dict]:
    return [dict(r) for r in conn.execute(text(sql_text), params).mappings()]


def ratio(numerator, denominator) -> Decimal | None:
    return None if not denominator else Decimal(numerator) / Decimal(denominator)


def close(actual, expected) -> bool:
    if expected is None or actual is None:
        return actual is expected
    return abs(Decimal(actual) - Decimal(expected)) < Decimal("1e-12")


# --- the hand-made data set --------------------------------------------------------------------


@dataclass
class Link:
    supplier: str
    buyer: str
    chain: str
    segment: str | None
    product: str | None
    value: int | None
    status: str = "active"


@dataclass
class World:
    ids: dict[str, int] = field(default_factory=dict)  # name -> id (chains, segments, ...)
    local: dict[str, bool] = field(default_factory=dict)  # enterprise -> local
    size: dict[str, str | None] = field(default_factory=dict)
    district: dict[str, str | None] = field(default_factory=dict)
    parent: dict[str, str | None] = field(default_factory=dict)  # segment -> parent segment
    segment_chain: dict[str, str] = field(default_factory=dict)
    live_roles: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)

    def name(self, id_: int, among) -> str:
        """The name of an id among names of one kind (ids of different tables may be equal)."""
        return next(n for n in among if self.ids[n] == id_)

    def id_set(self, among) -> set[int]:
        return {self.ids[n] for n in among}

    def active(self) -> list[Link]:
        return [link for link in self.links if link.status == "active"]

    def below(self, segment: str) -> set[str]:
        """The segment and every segment under it."""
        found = {segment}
        while True:
            more = {s for s, p in self.parent.items() if p in found} - found
            if not more:
                return found
            found |= more


ENTERPRISES = {
    # name: (district or None, size)
    "M1": ("D1", "large"),  # chain master of C1
    "M2": (None, "large"),  # non-local chain master of C1
    "M3": ("D1", "large"),  # former chain master of C1 (role ended)
    "M4": ("D1", "large"),  # chain master of C2 without suppliers
    "L1": ("D1", "small"),  # local supplier of M1; chain master of C2 (tier 2 comes through it)
    "L2": ("D2", "medium"),  # local backbone of C1 in segment mid
    "L3": ("D1", "small"),  # local, its link to M1 has ended
    "L4": ("D1", "micro"),  # local, its supplier role has ended
    "L5": ("D2", None),  # local supplier of M1, size unknown
    "L6": ("D2", "small"),  # local, its link to M1 is only proposed
    "F": ("D1", "small"),  # local, its role starts next year
    "N1": (None, "large"),  # non-local suppliers
    "N2": (None, "medium"),
    "N3": (None, "small"),
    "Q": ("D1", "small"),  # supplies L1 and K1 in C2: tier 2 of M1
    "K1": ("D2", "large"),  # chain masters of C2 supplying each other: K5 -> K4 -> ... -> K1
    "K2": (None, "large"),
    "K3": (None, "large"),
    "K4": (None, "large"),
    "K5": (None, "large"),
}

CHAINS = ("C1", "C2", "C3")
DISTRICTS = ("D1", "D2", "Z")

SEGMENTS = {
    # name: (chain, parent, position)
    "up": ("C1", None, "upstream"),
    "up.a": ("C1", "up", "upstream"),
    "up.b": ("C1", "up", "upstream"),
    "mid": ("C1", None, "midstream"),
    "down": ("C1", None, "downstream"),
    "down.x": ("C1", "down", "downstream"),
    "down.x.1": ("C1", "down.x", "downstream"),
    "t1": ("C2", None, "upstream"),
}

LINKS = [
    Link("L1", "M1", "C1", "up.a", "A1", 200),
    Link("L1", "M1", "C1", "up.a", "A2", None),
    Link("N1", "M1", "C1", "up.b", "B1", 100),
    Link("N1", "M1", "C1", "down.x.1", "P1", 50),
    Link("N2", "M1", "C1", "down.x", "P2", None),
    Link("L5", "M1", "C1", None, "C1", 300),
    Link("L3", "M1", "C1", "down.x", "E1", 40, status="ended"),
    Link("L6", "M1", "C1", "down", "R1", 60, status="proposed"),
    Link("N2", "M2", "C1", "down.x.1", "P3", 30),
    Link("N3", "M2", "C1", "down", None, 7),
    # C2: a web of chain masters, with cycles and a chain longer than the depth cap.
    Link("K1", "L1", "C2", None, "K1a", 10),
    Link("Q", "L1", "C2", None, "Qa", 10),
    Link("Q", "K1", "C2", None, "Qb", 10),
    Link("L1", "K1", "C2", None, "L1b", 10),
    Link("M1", "K1", "C2", None, "M1b", 10),
    Link("N1", "K1", "C2", None, "N1b", 10),
    Link("K2", "K1", "C2", None, "K2a", 10),
    Link("K3", "K2", "C2", None, "K3a", 10),
    Link("K4", "K3", "C2", None, "K4a", 10),
    Link("K5", "K4", "C2", None, "K5a", 10),
]


def _set_stage_context(conn: Connection, on: date | None, reason: str | None = None) -> None:
    conn.execute(
        text(
            "SELECT set_config('chaindb.stage_date', :on, true), "
            "set_config('chaindb.stage_reason', :reason, true)"
        ),
        {"on": on.isoformat() if on else "", "reason": reason or ""},
    )


def new_project(conn: Connection, chain_id: int, district_id: int, on: date | None, **columns):
    # A project created dropped needs a reason, like any drop.
    _set_stage_context(conn, on, "test" if columns.get("stage") == "dropped" else None)
    project_id = f.project(conn, chain_id, district_id, **columns)
    _set_stage_context(conn, None)
    return project_id


def move(conn: Connection, project_id: int, stage: str, on: date, reason=None, **dates):
    _set_stage_context(conn, on, reason)
    sets = ", ".join(f"{column} = :{column}" for column in ["stage", *dates])
    conn.execute(
        text(f"UPDATE project SET {sets} WHERE id = :id"),
        {"stage": stage, "id": project_id, **dates},
    )
    _set_stage_context(conn, None)


@pytest.fixture
def world(conn: Connection) -> World:
    w = World()
    today = conn.execute(text("SELECT current_date")).scalar_one()
    for name in ("D1", "D2"):
        w.ids[name] = f.district(conn)
    w.ids["Z"] = f.zone(conn)  # a functional zone with nothing in it
    w.ids["C1"] = f.chain(conn)
    w.ids["C2"] = f.key_chain(conn, parent_id=w.ids["C1"])
    w.ids["C3"] = f.chain(conn)  # the projects of the pipeline and rates tests
    for name, (chain, parent, position) in SEGMENTS.items():
        w.ids[name] = f.segment(
            conn,
            w.ids[chain],
            code=f"{name}-{f.next_number()}",
            parent_id=w.ids[parent] if parent else None,
            position=position,
        )
        w.parent[name], w.segment_chain[name] = parent, chain
    for name, (district, size) in ENTERPRISES.items():
        w.ids[name] = f.enterprise(
            conn,
            district_id=w.ids[district] if district else None,
            region_code=None if district else "440300",
            size=size,
        )
        w.local[name], w.size[name], w.district[name] = district is not None, size, district

    def role(who, chain, kind, segment=None, since=None, until=None):
        f.chain_role(
            conn,
            w.ids[who],
            w.ids[chain],
            kind,
            segment_id=w.ids[segment] if segment else None,
            since=since,
            until=until,
        )
        live = (since is None or since <= today) and (until is None or until >= today)
        if live:
            w.live_roles.append((who, chain, kind, segment))

    role("M1", "C1", "chain_master", since=date(2020, 1, 1))
    role("M2", "C1", "chain_master")
    role("M3", "C1", "chain_master", since=date(2015, 1, 1), until=PAST)
    role("L1", "C1", "supplier", "up.a")
    role("L2", "C1", "backbone", "mid")
    role("L4", "C1", "supplier", "down.x", until=PAST)
    role("F", "C1", "supplier", "down", since=today + timedelta(days=400))
    for master in ("M4", "L1", "K1", "K2", "K3", "K4"):
        role(master, "C2", "chain_master")

    for link in LINKS:
        f.supply_link(
            conn,
            w.ids[link.supplier],
            w.ids[link.buyer],
            w.ids[link.chain],
            segment_id=w.ids[link.segment] if link.segment else None,
            product=link.product,
            annual_value_cny_10k=link.value,
            status=link.status,
            until=PAST if link.status == "ended" else None,
        )
        w.links.append(link)
    # The materialized views answer from their last refresh: this one, in the test's transaction.
    refresh_reports(conn)
    return w


# --- the contract and the comments -------------------------------------------------------------


def test_each_view_has_the_columns_of_the_contract_in_order(conn):
    assert list(CONTRACT) == VIEWS
    for view, columns in CONTRACT.items():
        found = conn.execute(text(f"SELECT * FROM {view} LIMIT 0")).keys()
        assert list(found) == columns, view


def test_every_view_column_and_function_has_a_comment(conn):
    for view in VIEWS:
        assert conn.execute(
            text("SELECT obj_description(CAST(:v AS regclass), 'pg_class')"), {"v": view}
        ).scalar_one(), view
        uncommented = conn.execute(
            text(
                "SELECT a.attname FROM pg_attribute AS a "
                "WHERE a.attrelid = CAST(:v AS regclass) AND a.attnum > 0 "
                "AND NOT a.attisdropped "
                "AND COALESCE(btrim(col_description(a.attrelid, a.attnum)), '') = ''"
            ),
            {"v": view},
        ).scalars()
        assert list(uncommented) == [], view
    assert conn.execute(
        text("SELECT obj_description(CAST('supplier_tiers(bigint, integer)' AS regprocedure))")
    ).scalar_one()


def test_the_sql_files_are_what_the_migrations_made(conn):
    """Editing a .sql file needs a new migration carrying the new text."""

    def definitions() -> dict[str, tuple]:
        return {
            view: (
                conn.execute(
                    text(
                        "SELECT c.relkind, obj_description(c.oid, 'pg_class') FROM pg_class AS c "
                        "WHERE c.oid = CAST(:v AS regclass)"
                    ),
                    {"v": view},
                ).one(),
                conn.execute(
                    text("SELECT pg_get_viewdef(CAST(:v AS regclass))"), {"v": view}
                ).scalar_one(),
                tuple(
                    conn.execute(
                        text(
                            "SELECT indexname, indexdef FROM pg_indexes "
                            "WHERE schemaname = 'public' AND tablename = :v ORDER BY indexname"
                        ),
                        {"v": view},
                    ).all()
                ),
                tuple(
                    conn.execute(
                        text(
                            "SELECT a.attname, col_description(a.attrelid, a.attnum) "
                            "FROM pg_attribute AS a WHERE a.attrelid = CAST(:v AS regclass) "
                            "AND a.attnum > 0 ORDER BY a.attnum"
                        ),
                        {"v": view},
                    ).all()
                ),
            )
            for view in VIEWS
        }

    function = "SELECT pg_get_functiondef(CAST('supplier_tiers(bigint, integer)' AS regprocedure))"
    migrated, migrated_function = definitions(), conn.execute(text(function)).scalar_one()
    savepoint = conn.begin_nested()
    # Each materialized view's file drops it first: readers before the views they read.
    for view in reversed(MATERIALIZED):
        conn.exec_driver_sql(f"DROP {'VIEW' if view in KEPT else 'MATERIALIZED VIEW'} {view}")
    for view in VIEWS:
        conn.exec_driver_sql(sql(view), execution_options={"no_parameters": True})
    current, current_function = definitions(), conn.execute(text(function)).scalar_one()
    savepoint.rollback()
    assert current == migrated
    assert current_function == migrated_function
    kinds = {view: kind for view, ((kind, _), *_) in migrated.items()}
    assert {view for view, kind in kinds.items() if kind == "m"} == set(MATERIALIZED) - set(KEPT)
    assert {kind for view, kind in kinds.items() if kind != "m"} == {"v"}


def test_the_newest_migration_of_each_view_carries_its_file():
    """The text a migration creates a view with is the .sql file's, in the newest migration
    that creates it (older migrations keep the text of their time)."""
    from alembic.script import ScriptDirectory

    newest: dict[str, str] = {}
    for script in ScriptDirectory.from_config(alembic_config()).walk_revisions():  # head first
        for view, statements in getattr(script.module, "VIEW_SQL", {}).items():
            newest.setdefault(view, statements)
    assert set(newest) == set(VIEWS)
    for view in VIEWS:
        assert newest[view].strip() == sql(view).strip(), view


# --- chains, chain masters, gaps ---------------------------------------------------------------


def test_chain_overview(conn, world):
    w = world
    projects = {
        # stage: (agreed, funds, district)
        "lead": (Decimal("1.5"), None, "D1"),
        "negotiating": (Decimal("2"), None, "D2"),
        "signed": (Decimal("10"), Decimal("3"), "D1"),
        "under_construction": (Decimal("20"), Decimal("5"), "D1"),
        "dropped": (Decimal("100"), Decimal("1"), "D1"),
    }
    dates = {
        "signed": {"signed_on": date(2021, 3, 1)},
        "under_construction": {
            "signed_on": date(2021, 1, 1),
            "construction_started_on": date(2021, 6, 1),
        },
        "dropped": {"dropped_on": date(2021, 9, 1)},
    }
    for stage, (agreed, funds, district) in projects.items():
        new_project(
            conn,
            w.ids["C1"],
            w.ids[district],
            None,
            stage=stage,
            agreed_investment_cny_100m=agreed,
            funds_arrived_cny_100m=funds,
            **dates.get(stage, {}),
        )
    refresh_reports(conn)

    (row,) = rows(conn, "SELECT * FROM report_chain_overview WHERE chain_id = :c", c=w.ids["C1"])
    c1_roles = [r for r in w.live_roles if r[1] == "C1"]
    c1_links = [link for link in w.active() if link.chain == "C1"]
    suppliers = {link.supplier for link in c1_links}
    not_dropped = {s: v for s, v in projects.items() if s != "dropped"}
    expected = {
        "chain_tier": "iconic",
        "enterprises": len({r[0] for r in c1_roles}),  # M1, M2, L1, L2
        "chain_masters": len({r[0] for r in c1_roles if r[2] == "chain_master"}),
        "backbones": 1,
        "suppliers": len(suppliers),  # L1, N1, N2, L5, N3
        "local_suppliers": len({s for s in suppliers if w.local[s]}),
        "nonlocal_suppliers": len({s for s in suppliers if not w.local[s]}),
        "active_supply_links": len(c1_links),
        "projects": 4,
        "projects_lead": 1,
        "projects_negotiating": 1,
        "projects_signed": 1,
        "projects_under_construction": 1,
        "projects_in_production": 0,
        "projects_at_capacity": 0,
        "projects_dropped": 1,
        "agreed_investment_cny_100m": sum(a for a, _, _ in not_dropped.values()),
        "agreed_lead_cny_100m": Decimal("1.5"),
        "agreed_negotiating_cny_100m": Decimal("2"),
        "agreed_signed_cny_100m": Decimal("10"),
        "agreed_under_construction_cny_100m": Decimal("20"),
        "agreed_in_production_cny_100m": 0,
        "agreed_at_capacity_cny_100m": 0,
        "funds_arrived_cny_100m": Decimal("8"),
    }
    assert (expected["enterprises"], expected["chain_masters"], expected["suppliers"]) == (4, 2, 5)
    assert {k: row[k] for k in expected} == expected

    (empty,) = rows(conn, "SELECT * FROM report_chain_overview WHERE chain_id = :c", c=w.ids["C3"])
    assert empty["enterprises"] == empty["projects"] == empty["agreed_investment_cny_100m"] == 0


def test_chain_master_suppliers_and_the_local_supply_rate(conn, world):
    w = world
    found = {
        (w.name(r["chain_master_id"], ENTERPRISES), w.name(r["chain_id"], CHAINS)): r
        for r in rows(conn, "SELECT * FROM report_chain_master_suppliers")
        if r["chain_master_id"] in w.id_set(ENTERPRISES)
    }
    # One row per live chain-master role: not M3, whose role ended.
    assert set(found) == {
        ("M1", "C1"),
        ("M2", "C1"),
        *((m, "C2") for m in ("M4", "L1", "K1", "K2", "K3", "K4")),
    }

    # M1 by hand: active links L1 A1 200 (local), L1 A2 ?, N1 B1 100, N1 P1 50, N2 P2 ?,
    # L5 C1 300 (local). By value: (200 + 300) / (200 + 100 + 50 + 300); by count: 3 / 6.
    m1 = found["M1", "C1"]
    assert m1["suppliers"] == 4  # L1, N1, N2, L5
    assert m1["local_suppliers"] == 2
    assert m1["nonlocal_suppliers"] == 2
    assert m1["sme_suppliers"] == 2  # L1 small, N2 medium (N1 large, L5 unknown)
    assert m1["active_links"] == 6
    assert m1["local_active_links"] == 3
    assert m1["links_with_value"] == 4
    assert m1["value_cny_10k"] == 650
    assert m1["local_value_cny_10k"] == 500
    assert close(m1["local_supply_rate_by_value"], Decimal(500) / Decimal(650))
    assert close(m1["local_supply_rate_by_count"], Decimal("0.5"))
    assert m1["chain_master_name_zh"].startswith("测试企业")

    # The same figures from the rows inserted, for every master.
    for (master, chain), row in found.items():
        mine = [x for x in w.active() if x.buyer == master and x.chain == chain]
        suppliers = {x.supplier for x in mine}
        valued = [x for x in mine if x.value is not None]
        local_value = sum(x.value for x in valued if w.local[x.supplier])
        value = sum(x.value for x in valued)
        assert row["suppliers"] == len(suppliers)
        assert row["local_suppliers"] == len({s for s in suppliers if w.local[s]})
        assert row["sme_suppliers"] == len(
            {s for s in suppliers if w.size[s] in ("small", "medium", "micro")}
        )
        assert row["active_links"] == len(mine)
        assert row["value_cny_10k"] == value
        assert close(row["local_supply_rate_by_value"], ratio(local_value, value))
        assert close(
            row["local_supply_rate_by_count"],
            ratio(sum(w.local[x.supplier] for x in mine), len(mine)),
        )

    assert found["M2", "C1"]["local_supply_rate_by_value"] == 0
    m4 = found["M4", "C2"]
    assert (m4["active_links"], m4["value_cny_10k"]) == (0, 0)
    assert m4["local_supply_rate_by_value"] is None
    assert m4["local_supply_rate_by_count"] is None


def _expected_gaps(w: World) -> dict[str, set[str]]:
    """Gap segment -> the segments it covers (itself and those below)."""
    present = {seg for who, _, _, seg in w.live_roles if seg and w.local[who]}
    present |= {x.segment for x in w.active() if x.segment and w.local[x.supplier]}
    return {s: w.below(s) for s in SEGMENTS if not (w.below(s) & present)}


def test_chain_gaps(conn, world):
    w = world
    gaps = _expected_gaps(w)
    assert set(gaps) == {"up.b", "down", "down.x", "down.x.1", "t1"}
    found = {
        w.name(r["segment_id"], SEGMENTS): r
        for r in rows(conn, "SELECT * FROM report_chain_gaps")
        if r["segment_id"] in w.id_set(SEGMENTS)
    }
    assert set(found) == set(gaps)
    depth = {"up.b": 1, "down": 0, "down.x": 1, "down.x.1": 2, "t1": 0}
    for segment, covered in gaps.items():
        links = [x for x in w.active() if x.segment in covered and not w.local[x.supplier]]
        row = found[segment]
        assert row["chain_id"] == w.ids[w.segment_chain[segment]]
        assert row["depth"] == depth[segment]
        parent = w.parent[segment]
        assert row["parent_id"] == (w.ids[parent] if parent else None)
        assert row["nonlocal_suppliers"] == len({x.supplier for x in links}), segment
        assert row["nonlocal_value_cny_10k"] == sum(x.value or 0 for x in links), segment
    # By hand: down covers N1 P1 50, N2 P2 ?, N2 P3 30, N3 7.
    assert (found["down"]["nonlocal_suppliers"], found["down"]["nonlocal_value_cny_10k"]) == (3, 87)
    assert found["t1"]["nonlocal_suppliers"] == 0


def test_gap_candidates(conn, world):
    w = world
    found = {
        (w.name(r["segment_id"], SEGMENTS), w.name(r["supplier_id"], ENTERPRISES)): r
        for r in rows(conn, "SELECT * FROM report_gap_candidates")
        if r["segment_id"] in w.id_set(SEGMENTS)
    }
    expected = {}
    for segment, covered in _expected_gaps(w).items():
        by_supplier = defaultdict(list)
        for x in w.active():
            if x.segment in covered and not w.local[x.supplier]:
                by_supplier[x.supplier].append(x)
        for supplier, links in by_supplier.items():
            products = sorted({x.product for x in links if x.product})
            expected[segment, supplier] = {
                "chain_masters_supplied": len({x.buyer for x in links}),
                "products": "、".join(products) or None,
                "value_cny_10k": sum(x.value or 0 for x in links),
            }
    assert set(found) == set(expected)
    for key, figures in expected.items():
        assert {k: found[key][k] for k in figures} == figures, key
    n2 = found["down", "N2"]
    assert (n2["chain_masters_supplied"], n2["products"]) == (2, "P2、P3")
    assert n2["supplier_region_code"] == "440300"
    assert n2["supplier_uscc"] and n2["supplier_name_zh"]


# --- one home per concept: the functions the views, the triggers and the application call --------


def test_chain_gaps_is_the_one_definition_of_a_gap(conn, world):
    w = world
    today = conn.execute(text("SELECT current_date")).scalar_one()

    def gaps(chain: str | None, day=None) -> set[str]:
        found = rows(
            conn,
            "SELECT chain_id, segment_id FROM chain_gaps(:chain, COALESCE(:day, current_date))",
            chain=w.ids[chain] if chain else None,
            day=day,
        )
        return {
            w.name(r["segment_id"], SEGMENTS)
            for r in found
            if r["segment_id"] in w.id_set(SEGMENTS)
        }

    assert gaps("C1") == {"up.b", "down", "down.x", "down.x.1"}
    assert gaps("C2") == {"t1"}
    assert (
        gaps(None)
        == set(_expected_gaps(w))
        == {
            w.name(r["segment_id"], SEGMENTS)
            for r in rows(conn, "SELECT segment_id FROM report_chain_gaps")
            if r["segment_id"] in w.id_set(SEGMENTS)
        }
    )
    # The day counts: F (local) holds a role in "down" from today + 400 days, which serves
    # "down" (not the segments below it); on the day L4's role in "down.x" ended, it served
    # "down.x" and so "down" too.
    assert gaps("C1", today + timedelta(days=400)) == {"up.b", "down.x", "down.x.1"}
    assert gaps("C1", PAST) == {"up.b", "down.x.1"}


def test_supply_totals_is_the_one_definition_of_the_local_supply_rate(conn, world):
    w = world
    report = {
        (r["chain_master_id"], r["chain_id"]): r
        for r in rows(conn, "SELECT * FROM report_chain_master_suppliers")
    }
    m1 = rows(conn, "SELECT * FROM supply_totals(:m)", m=w.ids["M1"])
    assert [r["chain_id"] for r in m1] == [w.ids["C1"]]
    (m1,) = m1
    assert m1["buyer_id"] == w.ids["M1"]
    assert (m1["active_links"], m1["local_active_links"], m1["proposed_links"]) == (6, 3, 1)
    assert (m1["value_cny_10k"], m1["local_value_cny_10k"]) == (650, 500)
    assert close(m1["local_supply_rate_by_value"], Decimal(500) / Decimal(650))
    assert close(m1["local_supply_rate_by_count"], Decimal("0.5"))
    # Every buyer at once is each buyer alone, and the report's figures for the chain masters.
    every = rows(conn, "SELECT * FROM supply_totals()")
    for row in every:
        (alone,) = [
            r
            for r in rows(conn, "SELECT * FROM supply_totals(:m)", m=row["buyer_id"])
            if r["chain_id"] == row["chain_id"]
        ]
        assert alone == row
        shown = report.get((row["buyer_id"], row["chain_id"]))
        if shown is not None:
            for column in (
                "active_links",
                "local_active_links",
                "links_with_value",
                "value_cny_10k",
                "local_value_cny_10k",
                "local_supply_rate_by_value",
                "local_supply_rate_by_count",
            ):
                assert shown[column] == row[column], column


def test_role_held_on_and_is_local_are_the_one_definitions(conn, world):
    w = world
    today = conn.execute(text("SELECT current_date")).scalar_one()
    held = {
        (w.name(r["enterprise_id"], ENTERPRISES), r["role"]): (r["today"], r["later"], r["ended"])
        for r in rows(
            conn,
            "SELECT r.enterprise_id, r.role, role_held_on(r, current_date) AS today, "
            "role_held_on(r, :later) AS later, role_not_ended(r, current_date) AS ended "
            "FROM chain_role AS r WHERE r.chain_id = :c",
            c=w.ids["C1"],
            later=today + timedelta(days=400),
        )
    }
    assert held["M1", "chain_master"] == (True, True, True)  # since 2020, open
    assert held["M2", "chain_master"] == (True, True, True)  # no days known
    assert held["M3", "chain_master"] == (False, False, False)  # ended
    assert held["F", "supplier"] == (False, True, True)  # begins in 400 days: not ended
    local = {
        w.name(r["id"], ENTERPRISES): r["local"]
        for r in rows(conn, "SELECT e.id, e.is_local AS local FROM enterprise AS e")
        if r["id"] in w.id_set(ENTERPRISES)
    }
    assert local == w.local


@pytest.mark.parametrize(
    ("query", "written_out"),
    [
        (
            "SELECT count(*) FROM chain_role AS r WHERE role_held_on(r, current_date)",
            "since",
        ),
        ("SELECT count(*) FROM enterprise AS e WHERE is_local(e)", "district_id IS NOT NULL"),
        # The buyer's links picked in the scan (by the index on buyer_id where the table is
        # large enough), not every buyer's grouped first.
        ("SELECT * FROM supply_totals(1)", "l.buyer_id = '1'::bigint"),
    ],
)
def test_the_concept_functions_are_inlined_into_the_query(conn, query, written_out):
    """The planner writes the function out in the query that calls it: the same plan (and
    indexes) as the expression written by hand, no call per row."""
    plan = "\n".join(conn.exec_driver_sql(f"EXPLAIN (VERBOSE) {query}").scalars())
    assert written_out in plan
    for name in ("role_held_on", "is_local", "supply_totals"):
        assert name not in plan


# --- supplier tiers ----------------------------------------------------------------------------


def _tiers(conn, w: World, sql_text: str, **params) -> dict[str, tuple[int, str, list[str]]]:
    """supplier -> (tier, via buyer, path) as names, asserting each supplier comes once."""
    found = rows(conn, sql_text, **params)
    names = [w.name(r["supplier_id"], ENTERPRISES) for r in found]
    assert len(names) == len(set(names)), names
    return {
        w.name(r["supplier_id"], ENTERPRISES): (
            r["tier"],
            w.name(r["via_buyer_id"], ENTERPRISES),
            [w.name(i, ENTERPRISES) for i in r["path"]],
        )
        for r in found
    }


def test_supplier_tiers_lowest_tier_without_the_master_and_capped_at_five(conn, world):
    w = world
    found = _tiers(
        conn,
        w,
        "SELECT * FROM report_supplier_tiers WHERE chain_master_id = :m AND chain_id = :c",
        m=w.ids["M1"],
        c=w.ids["C1"],
    )
    assert found == {
        "L1": (1, "M1", ["M1", "L1"]),
        "N1": (1, "M1", ["M1", "N1"]),  # also supplies K1 (tier 3): stays at tier 1
        "N2": (1, "M1", ["M1", "N2"]),
        "L5": (1, "M1", ["M1", "L5"]),
        "K1": (2, "L1", ["M1", "L1", "K1"]),
        "Q": (2, "L1", ["M1", "L1", "Q"]),  # supplies L1 and K1: the lower tier
        "K2": (3, "K1", ["M1", "L1", "K1", "K2"]),  # M1 and L1 supply K1 too: never again
        "K3": (4, "K2", ["M1", "L1", "K1", "K2", "K3"]),
        "K4": (5, "K3", ["M1", "L1", "K1", "K2", "K3", "K4"]),
        # K5 supplies K4: tier 6, beyond the cap.
    }
    (row,) = rows(
        conn,
        "SELECT * FROM report_supplier_tiers WHERE chain_master_id = :m AND supplier_id = :s",
        m=w.ids["M1"],
        s=w.ids["L1"],
    )
    assert row["supplier_local"] is True
    assert row["chain_code"] and row["chain_master_name_zh"]


def test_supplier_tiers_stop_on_cycles(conn, world):
    w = world
    # From L1 in C2 the links run in circles: K1 -> L1 -> K1, M1 -> K1 while L1 -> M1 ...
    found = _tiers(
        conn,
        w,
        "SELECT * FROM report_supplier_tiers WHERE chain_master_id = :m",
        m=w.ids["L1"],
    )
    assert "L1" not in found
    assert {name: tier for name, (tier, _, _) in found.items()} == {
        "K1": 1,
        "Q": 1,
        "M1": 2,
        "N1": 2,
        "K2": 2,
        "N2": 3,  # M1's suppliers (in chain C1: tiers beyond the first follow any chain)
        "L5": 3,
        "K3": 3,
        "K4": 4,
        "K5": 5,
    }
    # With no cap worth the name, the walk still ends, each enterprise once.
    deep = _tiers(conn, w, "SELECT * FROM supplier_tiers(:m, 1000)", m=w.ids["L1"])
    assert deep == found


def test_the_function_is_the_view_for_one_master(conn, world):
    w = world
    view = rows(
        conn,
        "SELECT * FROM report_supplier_tiers WHERE chain_master_id = :m "
        "ORDER BY chain_id, tier, supplier_id",
        m=w.ids["M1"],
    )
    function = rows(
        conn,
        "SELECT * FROM supplier_tiers(:m, 5) ORDER BY chain_id, tier, supplier_id",
        m=w.ids["M1"],
    )
    assert view == function
    assert len(view) == 9
    default = rows(conn, "SELECT * FROM supplier_tiers(:m)", m=w.ids["M1"])
    assert sorted(r["tier"] for r in default) == [1, 1, 1, 1, 2, 2, 3]
    # Not a live chain master: nothing.
    assert rows(conn, "SELECT * FROM supplier_tiers(:m)", m=w.ids["M3"]) == []


# --- planning units, projects, targets, designations -------------------------------------------


def test_district_chain_matrix(conn, world):
    w = world
    new_project(conn, w.ids["C1"], w.ids["D1"], None, agreed_investment_cny_100m=Decimal("1.5"))
    new_project(
        conn,
        w.ids["C1"],
        w.ids["D1"],
        None,
        stage="signed",
        signed_on=date(2021, 3, 1),
        agreed_investment_cny_100m=Decimal("10"),
        funds_arrived_cny_100m=Decimal("3"),
    )
    new_project(
        conn,
        w.ids["C1"],
        w.ids["D1"],
        None,
        stage="dropped",
        dropped_on=date(2021, 9, 1),
        agreed_investment_cny_100m=Decimal("100"),
        funds_arrived_cny_100m=Decimal("1"),
    )
    new_project(conn, w.ids["C1"], w.ids["D2"], None, agreed_investment_cny_100m=Decimal("2"))

    refresh_reports(conn, views=["report_district_chain_matrix"])
    found = {
        (w.name(r["district_id"], DISTRICTS), w.name(r["chain_id"], CHAINS)): r
        for r in rows(conn, "SELECT * FROM report_district_chain_matrix")
        if r["district_id"] in w.id_set(DISTRICTS) and r["chain_id"] in w.id_set(CHAINS)
    }
    # The cross join: every unit by every chain, zeros where nothing.
    assert set(found) == {(d, c) for d in ("D1", "D2", "Z") for c in ("C1", "C2", "C3")}
    for (district, chain), row in found.items():
        members = {who for who, c, _, _ in w.live_roles if c == chain}
        assert row["enterprises"] == len({m for m in members if w.district[m] == district})
    d1c1 = found["D1", "C1"]
    assert d1c1["enterprises"] == 2  # M1 and L1 (M3 and L4 no longer, F not yet)
    assert (d1c1["projects"], d1c1["agreed_investment_cny_100m"]) == (2, Decimal("11.5"))
    assert d1c1["funds_arrived_cny_100m"] == 3
    assert d1c1["district_kind"] == "district"
    assert (found["D2", "C1"]["projects"], found["D2", "C1"]["enterprises"]) == (1, 1)
    assert found["D1", "C2"]["enterprises"] == 2  # L1 and M4
    zone = found["Z", "C3"]
    assert (zone["district_kind"], zone["enterprises"], zone["projects"]) == ("zone", 0, 0)
    assert zone["agreed_investment_cny_100m"] == zone["funds_arrived_cny_100m"] == 0


def test_project_pipeline_counts_each_project_once_per_stage(conn, world):
    w = world
    chain, district = w.ids["C3"], w.ids["D2"]
    x = new_project(conn, chain, district, date(2018, 1, 10), agreed_investment_cny_100m=10)
    y = new_project(conn, chain, district, date(2018, 1, 20), agreed_investment_cny_100m=5)
    move(conn, x, "negotiating", date(2018, 2, 5))
    move(conn, x, "signed", date(2018, 3, 1), signed_on=date(2018, 3, 1))
    new_project(
        conn,
        chain,
        district,
        date(2018, 3, 10),
        stage="signed",
        signed_on=date(2018, 3, 10),
        agreed_investment_cny_100m=7,
    )
    move(conn, y, "negotiating", date(2018, 3, 15))
    move(conn, x, "negotiating", date(2018, 3, 20), reason="terms reopened", signed_on=None)
    move(
        conn,
        y,
        "dropped",
        date(2018, 3, 25),
        reason="investor withdrew",
        dropped_on=date(2018, 3, 25),
    )
    move(conn, x, "signed", date(2018, 4, 2), signed_on=date(2018, 4, 2))
    refresh_reports(conn, views=["report_project_pipeline"])

    found = {
        (r["month"], r["stage"]): (r["projects"], r["agreed_investment_cny_100m"])
        for r in rows(conn, "SELECT * FROM report_project_pipeline WHERE year = 2018")
    }
    assert found == {
        (date(2018, 1, 1), "lead"): (2, 15),  # x, y
        (date(2018, 2, 1), "negotiating"): (1, 10),  # x
        (date(2018, 3, 1), "signed"): (2, 17),  # x (first signing), z
        (date(2018, 3, 1), "negotiating"): (1, 5),  # y; x came back to it, not counted again
        (date(2018, 3, 1), "dropped"): (1, 5),  # y: its amount stays in the flow
        # April: x signed again, but it counted at its first signing.
    }


def test_project_rates(conn, world):
    w = world
    today = conn.execute(text("SELECT current_date")).scalar_one()
    chain, district = w.ids["C3"], w.ids["D1"]
    projects = [
        # stage, signed, agreed start, construction started, agreed, funds, more dates
        ("under_construction", date(2019, 5, 10), date(2019, 7, 1), date(2019, 6, 20), 10, 4, {}),
        (
            "in_production",
            date(2019, 5, 20),
            date(2019, 7, 15),
            date(2019, 8, 1),  # late: not fulfilled
            6,
            6,
            {"production_started_on": date(2019, 12, 1)},
        ),
        ("dropped", date(2019, 5, 25), date(2019, 9, 1), None, 100, 50, {"dropped_on": PAST}),
        ("signed", date(2019, 6, 3), date(2019, 7, 20), None, 5, None, {}),
        ("signed", date(2019, 6, 10), today + timedelta(days=30), None, 3, 1, {}),  # not due
        ("negotiating", None, date(2019, 7, 5), None, 9, None, {}),  # not signed: not due
    ]
    for stage, signed, agreed_start, started, agreed, funds, more in projects:
        new_project(
            conn,
            chain,
            district,
            None,
            stage=stage,
            signed_on=signed,
            agreed_start_on=agreed_start,
            construction_started_on=started,
            agreed_investment_cny_100m=agreed,
            funds_arrived_cny_100m=funds,
            **more,
        )
    refresh_reports(conn, views=["report_project_rates"])
    found = {
        r["month"]: r for r in rows(conn, "SELECT * FROM report_project_rates WHERE year = 2019")
    }
    assert set(found) == {date(2019, 5, 1), date(2019, 6, 1), date(2019, 7, 1), date(2019, 9, 1)}

    def month_of(day):
        return day.replace(day=1) if day else None

    for month, row in found.items():
        signed = [p for p in projects if month_of(p[1]) == month]
        kept = [p for p in signed if p[0] != "dropped"]
        due = [p for p in projects if p[1] and p[2] <= today and month_of(p[2]) == month]
        started = [p for p in signed if p[3] is not None]
        fulfilled = [p for p in due if p[3] is not None and p[3] <= p[2]]
        agreed = sum(p[4] for p in kept)
        funds = sum(p[5] or 0 for p in kept)
        assert row["year"] == 2019
        assert row["signed_projects"] == len(signed)
        assert row["started_projects"] == len(started)
        assert close(row["start_rate"], ratio(len(started), len(signed)))
        assert row["agreed_investment_cny_100m"] == agreed
        assert row["funds_arrived_cny_100m"] == funds
        assert close(row["funds_arrival_rate"], ratio(funds, agreed))
        assert row["due_projects"] == len(due)
        assert row["fulfilled_projects"] == len(fulfilled)
        assert close(row["fulfilment_rate"], ratio(len(fulfilled), len(due)))
    # By hand: May signs three (two started; the dropped one's amounts left out), July has
    # three due of which one started on time.
    may, july = found[date(2019, 5, 1)], found[date(2019, 7, 1)]
    assert close(may["start_rate"], Decimal(2) / 3)
    assert close(may["funds_arrival_rate"], Decimal(10) / 16)
    assert may["fulfilment_rate"] is None
    assert (july["signed_projects"], july["start_rate"], july["funds_arrival_rate"]) == (
        0,
        None,
        None,
    )
    assert close(july["fulfilment_rate"], Decimal(1) / 3)


def test_target_progress(conn, world):
    w = world
    city = f.target(conn, year=2025, target_value=Decimal("11000"), actual_value=Decimal("10189.4"))
    chain = f.target(
        conn,
        scope="chain",
        chain_id=w.ids["C1"],
        metric="chain_revenue",
        target_value=None,
        actual_value=5,
    )
    unit = f.target(
        conn,
        scope="district",
        district_id=w.ids["D2"],
        metric="projects_signed",
        unit="count",
        target_value=0,
        actual_value=3,
    )
    everything = rows(conn, "SELECT * FROM report_target_progress")
    found = {r["target_id"]: r for r in everything if r["target_id"] in (city, chain, unit)}
    assert close(found[city]["progress"], Decimal("10189.4") / Decimal("11000"))
    assert found[city]["remaining_value"] == Decimal("810.6")
    assert found[city]["chain_id"] is found[city]["district_id"] is None
    # An actual without a target is no target (it measures a later target of its scope).
    assert chain not in found
    assert found[unit]["progress"] is None  # target 0
    assert found[unit]["remaining_value"] == -3
    assert (found[unit]["district_id"], found[unit]["unit"]) == (w.ids["D2"], "count")


def test_designation_ladder_per_scope(conn, world):
    w = world
    designations = [
        # enterprise, type, level, year, valid until
        ("L1", "specialized_sme", "provincial", 2021, None),
        ("L1", "innovative_sme", "city", 2018, PAST),  # expired
        ("L2", "specialized_sme", "provincial", 2022, date(2099, 12, 31)),
        ("N1", "little_giant", "national", 2021, None),  # non-local, no role: nowhere
        ("M2", "high_tech", "national", 2021, None),  # non-local chain master: its chain only
        ("M1", "specialized_sme", "provincial", 2021, None),
        ("M1", "specialized_sme", "provincial", 2022, None),  # renewed: still one enterprise
        ("Q", "innovative_sme", "city", 2023, None),  # local, no role
    ]
    for who, type_, level, year, until in designations:
        f.insert(
            conn,
            "designation",
            enterprise_id=w.ids[who],
            type=type_,
            level=level,
            year=year,
            valid_until=until,
        )
    valid = {(who, t, lv) for who, t, lv, _, until in designations if until is None or until > PAST}
    expected: dict[tuple, set[str]] = defaultdict(set)
    for who, type_, level in valid:
        if w.local[who]:
            expected["city", None, type_, level].add(who)
            expected["district", w.district[who], type_, level].add(who)
        for member, chain, _, _ in w.live_roles:
            if member == who:
                expected["chain", chain, type_, level].add(who)

    refresh_reports(conn, views=["report_designations"])  # materialized
    found = {}
    for r in rows(conn, "SELECT * FROM report_designations"):
        if r["scope"] == "chain":
            key = w.name(r["chain_id"], CHAINS)
        elif r["scope"] == "district":
            key = w.name(r["district_id"], DISTRICTS)
        else:
            key = None
        found[r["scope"], key, r["designation_type"], r["level"]] = r
    assert {k: r["enterprises"] for k, r in found.items()} == {
        k: len(v) for k, v in expected.items()
    }
    # By hand: the city's provincial specialised SMEs are L1, L2 and M1; C1 has them too.
    assert found["city", None, "specialized_sme", "provincial"]["enterprises"] == 3
    assert found["chain", "C1", "specialized_sme", "provincial"]["enterprises"] == 3
    assert found["chain", "C1", "high_tech", "national"]["enterprises"] == 1
    assert found["district", "D1", "specialized_sme", "provincial"]["enterprises"] == 2
    c1 = found["chain", "C1", "high_tech", "national"]
    assert (c1["chain_code"], c1["district_id"], c1["district_code"]) == (
        conn.execute(text("SELECT code FROM chain WHERE id = :c"), {"c": w.ids["C1"]}).scalar(),
        None,
        None,
    )
