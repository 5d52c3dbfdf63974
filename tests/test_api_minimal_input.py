"""Every resource of the API with the least a client sends, and a read sent back as it is.

Blank is blank: an optional field omitted, null or empty text is stored as NULL (a field that
cannot be NULL takes its default); a record read from the API may be sent back (POST as a copy,
PUT as is), its read-only fields (id, times, derived columns) ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Connection, text

from chaindb.api.resource import Resource
from chaindb.api.schemas import free_text
from tests import factories_sql as f

Make = Callable[[Connection], dict[str, Any]]


def _code(conn: Connection, table: str, column: str, row_id: int) -> Any:
    sql = text(f"SELECT {column} FROM {table} WHERE id = :id")  # the tests' own names
    return conn.execute(sql, {"id": row_id}).scalar_one()


def _city(conn: Connection) -> int:
    return conn.execute(text("SELECT id FROM unit WHERE kind = 'city'")).scalar_one()


def _link_world(conn: Connection) -> dict[str, Any]:
    chain_id = f.chain(conn)
    return {
        "supplier_id": _code(conn, "enterprise", "uscc", f.enterprise(conn)),
        "buyer_id": _code(conn, "enterprise", "uscc", f.chain_master(conn, chain_id)),
        "chain_id": _code(conn, "chain", "code", chain_id),
    }


# resource -> (table, the least a client sends, the optional fields that stay NULL, a change that
# makes a copy of a read a new record, or a function of the connection that makes one)
CASES: dict[str, tuple[str, Make, tuple[str, ...], Any]] = {
    "districts": ("district",
        lambda conn: {"code": "ZONE-API", "is_official_code": False, "name_zh": "接口功能区",
                      "kind": "zone"},
        ("name_en", "notes"), {"code": "ZONE-API2", "name_zh": "接口功能区二"}),
    "chains": ("chain",
        lambda conn: {"code": "api-chain", "name_zh": "接口产业链", "tier": "iconic"},
        ("name_en", "group", "chief", "target_2030_cny_100m", "parent_id", "notes"),
        {"code": "api-chain-2", "name_zh": "接口产业链二"}),
    "segments": ("chain_segment",
        lambda conn: {"chain_id": f.chain(conn), "code": "api.seg", "name_zh": "接口环节",
                      "position": "upstream"},
        ("name_en", "parent_id", "description"), {"code": "api.seg2"}),
    "chain-roles": ("chain_role",
        lambda conn: {"enterprise_id": f.enterprise(conn), "chain_id": f.chain(conn),
                      "role": "backbone", "since": "2020-01-01", "until": "2020-12-31"},
        ("segment_id", "source", "notes"), {"since": "2022-01-01", "until": "2022-12-31"}),
    "enterprises": ("enterprise",
        lambda conn: {"name_zh": "接口最小企业"},
        ("uscc", "uscc_override_reason", "name_en", "short_name", "district_id", "region_code",
         "size", "ownership", "founded_on", "notes"),
        {"name_zh": "济南鑫源新材料科技有限公司"}),
    "designations": ("designation",
        lambda conn: {"enterprise_id": f.enterprise(conn), "type": "gazelle", "level": "city",
                      "year": 2024},
        ("valid_until", "issuer", "notes"), {"year": 2025}),
    "leading-chains": ("leading_chain",
        lambda conn: {"district_id": f.district(conn), "chain_id": f.chain(conn)},
        ("since", "until", "source", "notes"), {"notes": "副本"}),
    "investor-attributes": ("investor_attribute",
        lambda conn: {"enterprise_id": f.enterprise(conn), "attribute": "listed", "year": 2024},
        ("list_rank", "source", "notes"), {"year": 2025}),
    "supply-links": ("supply_link", _link_world,
        ("segment_id", "product", "annual_value_cny_10k", "since", "until", "reported_by",
         "verified_at", "notes"),
        {"product": "副本产品"}),
    "projects": ("project",
        lambda conn: {"name": "接口最小项目", "chain_id": f.chain(conn),
                      "district_id": f.district(conn), "investor_name": "接口投资方"},
        ("segment_id", "investor_id", "chain_master_id", "parent_id", "channel",
         "agreed_investment_cny_100m", "funds_arrived_cny_100m", "signed_on", "agreed_start_on",
         "construction_started_on", "production_started_on", "capacity_reached_on",
         "dropped_on", "responsible_unit", "responsible_person", "source", "notes"),
        {"name": "接口最小项目（二期）"}),
    "units": ("unit",
        lambda conn: {"code": "unit-api", "kind": "district_office", "name_zh": "接口招商部门",
                      "parent_id": "city", "district_id": f.district(conn)},
        ("name_en", "notes", "reader_role"),
        # A planning unit has one office: the copy is another unit's.
        lambda conn: {"code": "unit-api2", "name_zh": "接口招商部门二",
                      "district_id": f.district(conn)}),
    "leads": ("lead",
        lambda conn: {"chain_id": f.chain(conn), "source": "referral",
                      "enterprise_name": "接口线索企业"},
        ("enterprise_id", "region", "industry", "segment_id", "district_id", "source_detail",
         "trip_id", "next_follow_up_on", "dropped_reason", "expected_investment_cny_100m",
         "contact_name", "contact_phone", "notes"),
        {"enterprise_name": "接口线索企业二"}),
    "negotiations": ("negotiation",
        lambda conn: {"project_id": f.project(conn, f.chain(conn), f.district(conn)),
                      "held_on": "2026-01-05", "content": "接口洽谈"},
        ("lead_id", "place", "our_participants", "their_participants", "outcome", "next_step",
         "next_follow_up_on"),
        {"content": "接口洽谈（副本）"}),
    "trips": ("trip", lambda conn: {"title": "接口招商之旅", "starts_on": "2026-03-01"},
        ("destination", "leader", "participants", "notes"), {"title": "接口招商之旅（二）"}),
    "trip-visits": ("trip_visit",
        lambda conn: {"trip_id": f.insert(conn, "trip", unit_id=_city(conn), title="接口推介会",
                                          starts_on="2026-03-01", ends_on="2026-03-01"),
                      "enterprise_name": "接口拜访企业"},
        ("enterprise_id", "visited_on", "lead_id", "notes"), {"notes": "副本"}),
    "chain-revenues": ("chain_revenue",
        lambda conn: {"chain_id": f.chain(conn), "year": 2025, "revenue_cny_100m": "1200"},
        ("source", "notes"), {"year": 2026}),
    "targets": ("target",
        lambda conn: {"scope": "city", "year": 2031, "metric": "industrial_revenue",
                      "unit": "cny_100m", "target_value": 12000},
        ("actual_value", "chain_id", "district_id", "unit_id", "source", "notes"),
        {"year": 2032}),
}  # fmt: skip


def test_every_resource_with_writes_has_a_case():
    writable = {
        name for name, r in Resource.registry.items() if r.import_key or r.name != "changes"
    }
    assert writable - {"users", "changes"} <= set(CASES)


def _row(conn: Connection, table: str, record_id: int) -> dict[str, Any]:
    sql = text(f"SELECT * FROM {table} WHERE id = :id")
    return dict(conn.execute(sql, {"id": record_id}).mappings().one())


@pytest.mark.parametrize("resource", CASES)
def test_the_least_a_client_sends_stores_null(api, conn, resource):
    table, make, optional, _ = CASES[resource]
    response = api.post(f"/api/v1/{resource}", make(conn))
    assert response.status_code == 201, response.json
    row = _row(conn, table, response.json["id"])
    assert {k: row[k] for k in optional} == dict.fromkeys(optional)


@pytest.mark.parametrize("resource", CASES)
def test_optional_fields_given_as_null_or_empty_text_are_null(api, conn, resource):
    table, make, optional, _ = CASES[resource]
    resource_ = Resource.registry[resource]
    body = make(conn)
    fields = resource_.create.model_fields
    texts = free_text(resource_.create)
    for n, name in enumerate(name for name in fields if name not in body):
        # null anywhere; empty text where the field takes any text (the document says which)
        body[name] = "" if name in texts and n % 2 else None
    response = api.post(f"/api/v1/{resource}", body)
    assert response.status_code == 201, response.json
    row = _row(conn, table, response.json["id"])
    assert {k: row[k] for k in optional} == dict.fromkeys(optional)


@pytest.mark.parametrize("resource", CASES)
def test_a_record_read_is_sent_back_as_it_is(api, conn, resource):
    table, make, _, copy_changes = CASES[resource]
    created = api.post(f"/api/v1/{resource}", make(conn))
    assert created.status_code == 201, created.json
    url = f"/api/v1/{resource}/{created.json['id']}"
    read = api.get(url).json
    before = _row(conn, table, read["id"])

    put = api.put(url, read)  # every field of the read, read-only ones included
    assert put.status_code == 200, put.json
    assert put.json == read | {"updated_at": put.json["updated_at"]}
    after = _row(conn, table, read["id"])
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }

    patch = api.patch(url, read)
    assert patch.status_code == 200, patch.json

    if callable(copy_changes):
        copy_changes = copy_changes(conn)
    copy = api.post(f"/api/v1/{resource}", read | copy_changes)
    assert copy.status_code == 201, copy.json
    assert copy.json["id"] != read["id"]


def test_a_patch_leaving_a_field_that_cannot_be_null_empty_keeps_it(api, conn):
    chain_id = f.chain(conn, sort_order=7)
    response = api.patch(f"/api/v1/chains/{chain_id}", {"sort_order": None, "name_en": ""})
    assert response.status_code == 200, response.json
    row = _row(conn, "chain", chain_id)
    assert (row["sort_order"], row["name_en"]) == (7, None)


def test_a_required_field_left_empty_is_refused_as_required(api, conn):
    response = api.post("/api/v1/enterprises", {"name_zh": "  "})
    assert response.status_code == 422
    assert [d["field"] for d in response.json["error"]["details"]] == ["name_zh"]
