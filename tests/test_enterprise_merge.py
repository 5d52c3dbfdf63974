"""Merging a duplicate enterprise: one transaction, every reference moved, the duplicate's keys
still leading to the enterprise kept (references, imports, seeds)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from chaindb.db import make_engine
from chaindb.enterprises.merge import merge
from seeds import demo, reference
from seeds.runner import run
from tests import factories_sql as f
from tests.conftest import count_rows
from tests.forms import filled
from tests.test_web_minimal_input import messages

ALL = ("enterprise", "chain_role", "supply_link", "project", "designation", "enterprise_merge")


def scalar(conn: Connection, sql: str, **params: Any) -> Any:
    return conn.execute(text(sql), params).scalar()


@pytest.fixture
def pair(conn: Connection) -> dict[str, Any]:
    """比亚迪济南基地 entered twice: A (kept, with a credit code) and B (the duplicate), each a
    chain master of the chain with suppliers, projects and designations."""
    chain = f.chain(conn)
    district = f.district(conn)
    a = f.enterprise(conn, name_zh="比亚迪济南基地")
    b = f.enterprise(conn, name_zh="比亚迪（济南）基地", uscc=None, short_name="济南比亚迪",
                     district_id=district, notes="重复录入")  # fmt: skip
    f.chain_role(conn, a, chain, "chain_master", since="2021-08-01")
    f.chain_role(conn, b, chain, "chain_master", since="2020-01-01")
    s1, s2 = f.enterprise(conn), f.enterprise(conn)
    only_b = f.supply_link(conn, s1, b, chain, product="电芯")
    twice_b = f.supply_link(conn, s2, b, chain, product="极耳")
    twice_a = f.supply_link(conn, s2, a, chain, product="极耳")
    between = f.supply_link(conn, b, a, chain, product="壳体")  # B supplies A: self-supply
    invested = f.project(conn, chain, district, investor_id=b, investor_name=None)
    served = f.project(conn, chain, district, chain_master_id=b)
    by_name = f.project(conn, chain, district, investor_name="比亚迪(济南)基地有限公司")
    f.insert(conn, "designation", enterprise_id=a, type="gazelle", level="city", year=2023)
    f.insert(conn, "designation", enterprise_id=b, type="gazelle", level="city", year=2023)
    moved_designation = f.insert(
        conn, "designation", enterprise_id=b, type="high_tech", level="national", year=2022
    )
    return {"chain": chain, "district": district, "a": a, "b": b, "only_b": only_b,
            "twice_b": twice_b, "twice_a": twice_a, "between": between, "invested": invested,
            "served": served, "by_name": by_name, "designation": moved_designation}  # fmt: skip


def test_a_merge_moves_every_reference_and_keeps_the_names(api, conn, pair):
    a, b = pair["a"], pair["b"]
    response = api.post(
        f"/api/v1/enterprises/{a}/merge", {"duplicate": b}, role="admin",
        headers={"X-Request-ID": "merge-test-1"},
    )  # fmt: skip
    assert response.status_code == 200, response.json
    summary = response.json
    assert (summary["into"], summary["merged"], summary["dry_run"]) == (a, b, False)
    assert summary["moved"]["supply_link"] == 1 and summary["moved"]["project"] == 3
    assert summary["dropped"] == {"chain_role": 1, "supply_link": 2, "designation": 1}

    assert scalar(conn, "SELECT count(*) FROM enterprise WHERE id = :b", b=b) == 0
    kept = conn.execute(text("SELECT * FROM enterprise WHERE id = :a"), {"a": a}).mappings().one()
    assert set(kept["aliases"]) >= {"比亚迪（济南）基地", "济南比亚迪"}
    assert kept["district_id"] == pair["district"] and "重复录入" in kept["notes"]
    assert kept["short_name"] == "济南比亚迪"
    # the roles: one chain-master role from 2020 on (the two periods joined)
    roles = conn.execute(
        text("SELECT since, until FROM chain_role WHERE enterprise_id = :a"), {"a": a}
    ).all()
    assert [(str(r.since), r.until) for r in roles] == [("2020-01-01", None)]
    links = dict(
        conn.execute(
            text("SELECT id, buyer_id FROM supply_link WHERE id = ANY(:ids)"),
            {"ids": [pair["only_b"], pair["twice_b"], pair["twice_a"], pair["between"]]},
        ).all()
    )
    assert links == {pair["only_b"]: a, pair["twice_a"]: a}
    projects = conn.execute(
        text("SELECT id, investor_id, chain_master_id, investor_name FROM project "
             "WHERE id = ANY(:ids) ORDER BY id"),
        {"ids": [pair["invested"], pair["served"], pair["by_name"]]},
    ).all()  # fmt: skip
    assert (projects[0].investor_id, projects[0].chain_master_id) == (a, None)
    assert projects[1].chain_master_id == a
    assert (projects[2].investor_id, projects[2].investor_name) == (a, None)
    assert scalar(conn, "SELECT enterprise_id FROM designation WHERE id = :d",
                  d=pair["designation"]) == a  # fmt: skip
    merge_row = conn.execute(text("SELECT * FROM enterprise_merge")).mappings().one()
    assert (merge_row["merged_id"], merge_row["into_id"], merge_row["actor"]) == (
        b, a, "test-admin")  # fmt: skip
    # one request: every write in the change log under its request id
    logged = set(
        conn.execute(
            text("SELECT DISTINCT table_name FROM change_log WHERE request_id = 'merge-test-1'")
        ).scalars()
    )
    assert logged >= {"enterprise", "chain_role", "supply_link", "project", "designation",
                      "enterprise_merge"}  # fmt: skip


def test_a_dry_run_changes_nothing(api, conn, pair):
    before = count_rows(conn, *ALL)
    response = api.post(
        f"/api/v1/enterprises/{pair['a']}/merge",
        {"duplicate": pair["b"], "dry_run": True},
        role="admin",
    )
    assert response.status_code == 200 and response.json["dry_run"] is True
    assert response.json["moved"]["project"] == 3
    assert count_rows(conn, *ALL) == before


def test_only_an_admin_merges_and_bad_requests_are_refused(api, conn, pair):
    other_code = f.enterprise(conn, name_zh="另一家有码企业")
    before = count_rows(conn, *ALL)
    url = f"/api/v1/enterprises/{pair['a']}/merge"
    assert api.post(url, {"duplicate": pair["b"]}, role="editor").status_code == 403
    itself = api.post(url, {"duplicate": pair["a"]}, role="admin")
    assert itself.status_code == 422 and itself.json["error"]["details"][0]["field"] == "duplicate"
    unknown = api.post(url, {"duplicate": 10**12}, role="admin")
    assert unknown.status_code == 422
    two_codes = api.post(url, {"duplicate": other_code}, role="admin")
    assert two_codes.status_code == 422
    assert count_rows(conn, *ALL) == before


def test_the_duplicates_keys_still_lead_to_the_enterprise_kept(api, conn, pair):
    a, b = pair["a"], pair["b"]
    b_code = f.valid_uscc()
    conn.execute(text("UPDATE enterprise SET uscc = :c WHERE id = :b"), {"c": b_code, "b": b})
    conn.execute(text("UPDATE enterprise SET uscc = NULL WHERE id = :a"), {"a": a})
    merged = api.post(f"/api/v1/enterprises/{a}/merge", {"duplicate": b}, role="admin")
    assert merged.status_code == 200, merged.json
    assert scalar(conn, "SELECT uscc FROM enterprise WHERE id = :a", a=a) == b_code
    # a reference by the old id
    link = api.post("/api/v1/supply-links",
                    {"supplier_id": f.enterprise(conn), "buyer_id": b, "chain_id": pair["chain"],
                     "product": "新产品"})  # fmt: skip
    assert link.status_code == 201, link.json
    assert link.json["buyer_id"] == a
    # an import row with the duplicate's name (no code) updates the enterprise kept
    csv = "uscc,name_zh,notes\n,比亚迪（济南）基地,导入的备注\n".encode()
    report = api.post("/api/v1/enterprises/import", data=csv,
                      headers={"Content-Type": "text/csv"})  # fmt: skip
    assert report.status_code == 200, report.json
    assert [r["action"] for r in report.json["results"]] == ["update"]
    kept = conn.execute(text("SELECT name_zh, notes FROM enterprise WHERE id = :a"), {"a": a}).one()
    assert kept == ("比亚迪济南基地", "导入的备注")


def test_the_merge_page_shows_what_moves_then_merges(web_as, conn, pair):
    admin = web_as("admin")
    detail = admin.text(f"/enterprises/{pair['a']}")
    assert f"/enterprises/{pair['a']}/merge" in detail
    preview = admin.submit(f"/enterprises/{pair['a']}/merge",
                           {"duplicate": f"比亚迪（济南）基地 #{pair['b']}"})  # fmt: skip
    assert preview.status_code == 200, messages(preview.get_data(as_text=True))
    page = preview.get_data(as_text=True)
    assert 'id="preview"' in page and "济南比亚迪" in page
    assert scalar(conn, "SELECT count(*) FROM enterprise WHERE id = :b", b=pair["b"]) == 1
    merged = admin.client.post(f"/enterprises/{pair['a']}/merge", data=filled(page, {}))
    assert merged.status_code == 302, messages(merged.get_data(as_text=True))
    assert scalar(conn, "SELECT count(*) FROM enterprise WHERE id = :b", b=pair["b"]) == 0
    assert "/merge" not in web_as("editor").text(f"/enterprises/{pair['a']}")
    assert web_as("editor").get(f"/enterprises/{pair['a']}/merge").status_code == 403


@pytest.mark.slow
def test_the_demo_seed_runs_again_after_a_merge_and_changes_nothing(scratch_database):
    url = scratch_database(migrated=True)
    engine = make_engine(url)
    try:
        run(engine, reference.load)
        run(engine, demo.load)
        with engine.begin() as conn:
            seeded = scalar(conn, "SELECT id FROM enterprise WHERE name_zh = '比亚迪济南基地'")
            clerk = f.enterprise(conn, name_zh="比亚迪汽车工业有限公司济南分公司")
            supplier = scalar(
                conn, "SELECT supplier_id FROM supply_link WHERE buyer_id = :b LIMIT 1", b=seeded
            )
            supplier_code = scalar(conn, "SELECT uscc FROM enterprise WHERE id = :s", s=supplier)
            other = f.enterprise(conn, name_zh="示例合并目标企业", uscc=None)
            with Session(bind=conn) as session:
                merge(session, keep=clerk, duplicate=seeded)  # the seed's anchor goes
                merge(session, keep=other, duplicate=supplier)  # and a fictional supplier
                session.flush()
        again = run(engine, demo.load)
        assert again.changed() == 0, again.lines()
        with engine.connect() as conn:
            assert (
                scalar(conn, "SELECT count(*) FROM enterprise WHERE name_zh = '比亚迪济南基地'")
                == 0
            )
            assert (
                scalar(conn, "SELECT uscc FROM enterprise WHERE id = :o", o=other) == supplier_code
            )
    finally:
        engine.dispose()
