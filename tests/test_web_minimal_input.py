"""Every form with only its required fields: a clerk leaves the rest empty, as a browser sends it.

Each test opens the form, types only what the form marks as required, submits every field the
page offers (empty ones as ""), and checks that the record is saved with NULL, never 0, where
nothing was typed. Editing a record whose optional values are empty saves too.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import Connection, text

from tests import factories_sql as f
from tests.forms import page_forms, record_form


def row_of(conn: Connection, table: str, record_id: int) -> dict[str, Any]:
    sql = text(f"SELECT * FROM {table} WHERE id = :id")  # table names are the tests' own
    return dict(conn.execute(sql, {"id": record_id}).mappings().one())


def saved_id(response) -> int:
    assert response.status_code == 302, messages(response.get_data(as_text=True))
    return int(response.location.split("?")[0].rstrip("/").rsplit("/", 1)[1])


def messages(page: str) -> list[str]:
    """The refusals a page shows: beside the fields, and above the form."""
    beside = re.findall(r'id="([\w-]+)-error" role="alert">([^<]*)<', page)
    above = re.findall(r'class="form-errors" role="alert">(.*?)</div>', page, re.S)
    return [f"{name}: {text}" for name, text in beside] + above


def required_on_page(page: str) -> set[str]:
    return record_form(page)["required"]


def all_null(row: dict[str, Any], *names: str) -> None:
    assert {name: row[name] for name in names} == dict.fromkeys(names)


# --- create: only the required fields --------------------------------------------------------


def test_a_district_with_its_required_fields_only(web, conn):
    assert required_on_page(web.text("/districts/new")) >= {"code", "name_zh", "kind"}
    record = saved_id(
        web.submit("/districts/new", {"code": "ZONE-MIN", "name_zh": "最小功能区", "kind": "zone"})
    )
    row = row_of(conn, "district", record)
    all_null(row, "name_en", "notes")
    assert row["sort_order"] == 0


def test_a_chain_with_its_required_fields_only(web, conn):
    page = web.text("/chains/new")
    assert required_on_page(page) >= {"code", "name_zh", "tier"}
    assert "target_2030_cny_100m" not in required_on_page(page)
    record = saved_id(
        web.submit("/chains/new", {"code": "min-chain", "name_zh": "最小产业链", "tier": "iconic"})
    )
    row = row_of(conn, "chain", record)
    all_null(row, "name_en", "group", "chief", "target_2030_cny_100m", "parent_id", "notes")


def test_a_segment_with_its_required_fields_only(web, conn):
    chain_id = f.chain(conn)
    typed = {"chain_id": str(chain_id), "code": "min.seg", "name_zh": "最小环节",
             "position": "upstream"}  # fmt: skip
    assert required_on_page(web.text("/segments/new")) >= set(typed)
    row = row_of(conn, "chain_segment", saved_id(web.submit("/segments/new", typed)))
    all_null(row, "name_en", "parent_id", "description")


def test_a_chain_role_with_its_required_fields_only(web, conn):
    chain_id = f.chain(conn)
    f.enterprise(conn, name_zh="最小角色企业有限公司")
    typed = {"enterprise_id": "最小角色企业有限公司", "chain_id": str(chain_id), "role": "backbone"}
    assert required_on_page(web.text("/chain-roles/new")) >= set(typed)
    row = row_of(conn, "chain_role", saved_id(web.submit("/chain-roles/new", typed)))
    all_null(row, "segment_id", "since", "until", "source", "notes")


def test_an_enterprise_with_its_name_only(web, conn):
    assert required_on_page(web.text("/enterprises/new")) == {"name_zh"}
    row = row_of(
        conn, "enterprise", saved_id(web.submit("/enterprises/new", {"name_zh": "最小企业"}))
    )
    all_null(row, "uscc", "uscc_override_reason", "name_en", "short_name", "district_id",
             "region_code", "size", "ownership", "founded_on", "notes")  # fmt: skip
    assert row["active"] is True
    assert row["aliases"] == []


def test_a_designation_with_its_required_fields_only(web, conn):
    f.enterprise(conn, name_zh="最小称号企业有限公司")
    typed = {"enterprise_id": "最小称号企业有限公司", "type": "gazelle", "level": "city",
             "year": "2024"}  # fmt: skip
    assert required_on_page(web.text("/designations/new")) >= set(typed)
    row = row_of(conn, "designation", saved_id(web.submit("/designations/new", typed)))
    all_null(row, "valid_until", "issuer", "notes")


def test_a_target_with_its_required_fields_and_one_value(web, conn):
    typed = {"scope": "city", "year": "2031", "metric": "industrial_revenue",
             "unit": "cny_100m", "target_value": "12000"}  # fmt: skip
    assert required_on_page(web.text("/targets/new")) >= {"scope", "year", "metric", "unit"}
    row = row_of(conn, "target", saved_id(web.submit("/targets/new", typed)))
    all_null(row, "actual_value", "chain_id", "district_id", "source", "notes")
    assert row["target_value"] == 12000


def test_a_project_with_its_required_fields_only(web, conn):
    chain_id, district_id = f.chain(conn), f.district(conn)
    page = web.text("/projects/add")
    required = required_on_page(page)
    assert required >= {"name", "chain_id", "district_id", "investor_id", "kind", "stage"}
    assert not required & {"agreed_investment_cny_100m", "funds_arrived_cny_100m", "signed_on"}
    typed = {"name": "最小项目", "chain_id": str(chain_id), "district_id": str(district_id),
             "investor_id": "某新投资方有限公司"}  # fmt: skip
    row = row_of(conn, "project", saved_id(web.submit("/projects/add", typed)))
    all_null(row, "segment_id", "investor_id", "chain_master_id", "parent_id", "channel",
             "agreed_investment_cny_100m", "funds_arrived_cny_100m", "signed_on",
             "agreed_start_on", "construction_started_on", "production_started_on",
             "capacity_reached_on", "dropped_on", "responsible_unit", "responsible_person",
             "source", "notes")  # fmt: skip
    assert (row["investor_name"], row["stage"], row["kind"], row["is_key"]) == (
        "某新投资方有限公司", "lead", "new", False)  # fmt: skip


def test_a_signed_project_without_amounts_shows_no_funds_rate(web, conn):
    chain_id, district_id = f.chain(conn), f.district(conn)
    typed = {"name": "无金额签约项目", "chain_id": str(chain_id), "district_id": str(district_id),
             "investor_id": "某投资方", "stage": "signed", "signed_on": "2025-01-02"}  # fmt: skip
    record = saved_id(web.submit("/projects/add", typed))
    row = row_of(conn, "project", record)
    all_null(row, "agreed_investment_cny_100m", "funds_arrived_cny_100m")
    page = web.text(f"/projects/{record}")
    assert "0.0%" not in page and "0%" not in page


def test_a_supplier_linked_with_its_required_fields_only(web, conn):
    chain_id = f.chain(conn)
    master_id = f.chain_master(conn, chain_id)
    supplier_id = f.enterprise(conn, name_zh="最小配套企业有限公司")
    page = web.text("/supply/link")
    assert required_on_page(page) >= {"master", "supplier", "status"}
    typed = {"master": f"{master_id}:{chain_id}", "supplier": "最小配套企业有限公司"}
    response = web.submit("/supply/link", typed)
    assert response.status_code == 302, messages(response.get_data(as_text=True))
    record = conn.execute(
        text("SELECT id FROM supply_link WHERE supplier_id = :s"), {"s": supplier_id}
    ).scalar_one()
    row = row_of(conn, "supply_link", record)
    all_null(row, "segment_id", "product", "annual_value_cny_10k", "since", "until",
             "reported_by", "verified_at", "notes")  # fmt: skip
    assert (row["supplier_id"], row["buyer_id"], row["status"]) == (
        supplier_id,
        master_id,
        "active",
    )


def test_a_user_with_its_required_fields_only(web_as, conn):
    admin = web_as("admin")
    assert required_on_page(admin.text("/users/new")) >= {"username", "role"}
    record = saved_id(admin.submit("/users/new", {"username": "minimal-user"}))
    row = row_of(conn, "app_user", record)
    all_null(row, "display_name", "password_hash")
    assert row["role"] == "viewer"


# --- edit: a record whose optional values are empty saves as it is ----------------------------


@pytest.mark.parametrize(
    ("table", "path", "make"),
    [
        ("target", "/targets/{}/edit",
         lambda conn: f.target(conn, year=2025, target_value=11000, actual_value=None)),
        ("target", "/targets/{}/edit",
         lambda conn: f.target(conn, year=2024, target_value=None, actual_value=10189.4)),
        ("chain", "/chains/{}/edit", lambda conn: f.chain(conn)),
        ("project", "/projects/{}/edit",
         lambda conn: f.project(conn, f.chain(conn), f.district(conn))),
        ("enterprise", "/enterprises/{}/edit", lambda conn: f.enterprise(conn)),
        ("supply_link", "/supply-links/{}/edit", lambda conn: _link(conn)),
        ("district", "/districts/{}/edit", lambda conn: f.district(conn)),
    ],
)  # fmt: skip
def test_editing_a_record_with_empty_optional_values_saves_it_unchanged(
    web, conn, table, path, make
):
    record = make(conn)
    before = row_of(conn, table, record)
    response = web.submit(path.format(record))
    assert saved_id(response) == record
    after = row_of(conn, table, record)
    derived = {"updated_at", "name_initials"}  # name_initials: computed on every write
    changed = {k for k in before if before[k] != after[k]} - derived
    assert not changed, {k: (before[k], after[k]) for k in changed}


def _link(conn: Connection) -> int:
    chain_id = f.chain(conn)
    return f.supply_link(conn, f.enterprise(conn), f.chain_master(conn, chain_id), chain_id)


# --- the small forms ---------------------------------------------------------------------------


def test_moving_a_stage_needs_only_the_stage_and_the_date(web, conn):
    record = f.project(conn, f.chain(conn), f.district(conn))
    response = web.submit(f"/projects/{record}", {"stage": "negotiating"})
    assert response.status_code == 302, messages(response.get_data(as_text=True))
    assert row_of(conn, "project", record)["stage"] == "negotiating"


def test_ending_a_link_needs_nothing(web, conn):
    record = _link(conn)
    response = web.submit(f"/supply-links/{record}/end")
    assert response.status_code == 302, messages(response.get_data(as_text=True))
    row = row_of(conn, "supply_link", record)
    assert row["status"] == "ended" and row["until"] is not None and row["notes"] is None


def test_a_token_needs_nothing(web_as, conn, web_users):
    admin = web_as("admin")
    user_id = conn.execute(
        text("SELECT id FROM app_user WHERE username = :u"), {"u": web_users["viewer"]}
    ).scalar_one()
    page = admin.text(f"/users/{user_id}")
    forms = [fm for fm in page_forms(page)
             if (fm["action"] or "").endswith("/tokens")]  # fmt: skip
    assert forms, "no token form"
    response = admin.client.post(forms[0]["action"], data=dict(forms[0]["fields"]))
    assert response.status_code == 200, messages(response.get_data(as_text=True))
    token = conn.execute(
        text("SELECT name, expires_at FROM api_token WHERE user_id = :u"), {"u": user_id}
    ).one()
    assert (token.name, token.expires_at) == (None, None)
