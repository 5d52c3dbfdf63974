"""The scope hook of a resource (chaindb.api.resource.Scope): every read and write passes
through it, lists, exports, a record by key, create, update, replace, delete, bulk, import and
history, and its values are parameters, so one compiled list serves every scope.

These tests give the enterprises a scope of any list of districts, read and write (the
offices' own scopes, by unit, are tested in tests/test_units_scopes.py)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import BigInteger, Connection, any_, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY

from chaindb.api.resource import Resource, Scope
from chaindb.enterprises.uscc import with_check_character
from tests import factories_sql as f
from tests.conftest import count_rows

URL = "/api/v1/enterprises"


@pytest.fixture
def scoped(conn: Connection, monkeypatch) -> dict[str, Any]:
    """Two districts, an enterprise in each; the enterprises resource scoped to the first."""
    inside, outside = f.district(conn), f.district(conn)
    resource = Resource.registry["enterprises"]
    allowed = {"ids": [inside]}
    clause = resource.table.c.district_id == any_(
        bindparam("scope_districts", type_=ARRAY(BigInteger))
    )

    def scope() -> Scope:
        # A name of its own: the SQL of a scope is cached by its name (the offices use "district").
        return Scope("test-districts", clause, {"scope_districts": allowed["ids"]})

    monkeypatch.setattr(resource, "scope", scope)
    monkeypatch.setattr(resource, "write_scope", scope)

    def code(district_id: int) -> str:
        return conn.execute(
            text("SELECT code FROM district WHERE id = :id"), {"id": district_id}
        ).scalar_one()

    return {
        "resource": resource,
        "allowed": allowed,
        "inside": inside,
        "outside": outside,
        "inside_code": code(inside),
        "outside_code": code(outside),
        "mine": f.enterprise(conn, district_id=inside),
        "theirs": f.enterprise(conn, district_id=outside),
    }


def row(conn: Connection, enterprise_id: int) -> dict[str, Any]:
    found = conn.execute(
        text("SELECT * FROM enterprise WHERE id = :id"), {"id": enterprise_id}
    ).mappings()
    return dict(found.one())


def test_a_list_holds_only_the_scope_and_shares_its_plan_with_every_scope(api, scoped):
    listed = api.get(f"{URL}?limit=1000").get_json()
    ids = {r["id"] for r in listed["results"]}
    assert scoped["mine"] in ids and scoped["theirs"] not in ids
    assert {r["district_id"] for r in listed["results"]} == {scoped["inside"]}
    assert listed["count"] == len(listed["results"])
    plans = scoped["resource"].list_plans()
    scoped["allowed"]["ids"] = [scoped["outside"]]  # another office: other values, same SQL
    other = api.get(f"{URL}?limit=1000").get_json()
    assert {r["id"] for r in other["results"]} == {scoped["theirs"]}
    assert scoped["resource"].list_plans() == plans


def test_keyset_pages_and_filters_stay_in_scope(api, scoped):
    page = api.get(f"{URL}?cursor=&limit=1000").get_json()
    assert scoped["theirs"] not in {r["id"] for r in page["results"]}
    filtered = api.get(f"{URL}?district_id={scoped['outside']}").get_json()
    assert filtered["count"] == 0 and filtered["results"] == []


def test_a_record_outside_is_not_found_to_read_change_delete_or_trace(api, conn, scoped):
    theirs, before = scoped["theirs"], row(conn, scoped["theirs"])
    assert api.get(f"{URL}/{scoped['mine']}").status_code == 200
    for response in (
        api.get(f"{URL}/{theirs}"),
        api.get(f"{URL}/{before['uscc']}"),  # by its natural key too
        api.get(f"{URL}/{theirs}/history"),
        api.patch(f"{URL}/{theirs}", {"name_zh": "改名"}),
        api.put(f"{URL}/{theirs}", {"name_zh": "改名", "district_id": scoped["inside"]}),
        api.delete(f"{URL}/{theirs}"),
    ):
        assert response.status_code == 404, response.get_json()
    assert row(conn, theirs) == before


def test_a_write_may_not_take_a_record_out_of_scope(api, conn, scoped):
    mine, before = scoped["mine"], row(conn, scoped["mine"])
    response = api.patch(f"{URL}/{mine}", {"district_id": scoped["outside"]})
    assert response.status_code == 403
    assert "outside the records you may change" in response.get_json()["error"]["message"]
    assert row(conn, mine) == before
    moved = api.patch(f"{URL}/{mine}", {"name_zh": "范围内改名有限公司"})
    assert moved.status_code == 200 and moved.get_json()["district_id"] == scoped["inside"]


def test_create_and_bulk_create_only_inside(api, conn, scoped):
    before = count_rows(conn, "enterprise")
    outside = api.post(
        URL, {"name_zh": "外区新企业有限公司", "district_id": scoped["outside_code"]}
    )
    assert outside.status_code == 403
    bulk = api.post(
        URL,
        [
            {"name_zh": "区内新企业有限公司", "district_id": scoped["inside_code"]},
            {"name_zh": "外区另一企业有限公司", "district_id": scoped["outside_code"]},
        ],
    )
    assert bulk.status_code == 403
    assert count_rows(conn, "enterprise") == before  # all or none
    inside = api.post(URL, {"name_zh": "区内新企业有限公司", "district_id": scoped["inside_code"]})
    assert inside.status_code == 201


def test_an_export_holds_only_the_scope(api, scoped):
    response = api.get(f"{URL}?format=csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    ids = {int(r["id"]) for r in rows}
    assert scoped["mine"] in ids and scoped["theirs"] not in ids


def test_an_import_cannot_reach_outside(api, conn, scoped):
    theirs = row(conn, scoped["theirs"])
    before = count_rows(conn, "enterprise")
    fresh = with_check_character(f"91370100MA{scoped['outside']:07d}"[:17])
    for text_ in (
        # the record outside, by its id and by its credit code
        f"id,name_zh\n{theirs['id']},改名有限公司\n",
        f"uscc,name_zh\n{theirs['uscc']},改名有限公司\n",
        # a new record outside
        f"uscc,name_zh,district_id\n{fresh},外区导入企业有限公司,{scoped['outside_code']}\n",
    ):
        response = api.post(
            f"{URL}/import", data=text_.encode(), headers={"Content-Type": "text/csv"}
        )
        assert response.status_code == 422, response.get_json()
        assert response.get_json()["committed"] is False
    assert row(conn, scoped["theirs"]) == theirs
    assert count_rows(conn, "enterprise") == before
