"""Project fields of the trade: capital origin, foreign capital in 万美元 (only from abroad), the
first phase and the fixed-asset part of the investment (each at most the total), and the size
class the database derives from the agreed investment; in the API, the forms, the export and
import, and report_project_classes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text

from tests import factories_sql as f
from tests.conftest import refused


@pytest.fixture
def place(conn):
    return {"chain": f.chain(conn), "district": f.district(conn)}


def _body(place, **more):
    return {
        "name": "外资测试项目",
        "chain_id": place["chain"],
        "district_id": place["district"],
        "investor_name": "某外资企业",
        **more,
    }


@pytest.mark.parametrize(
    ("amount", "size_class"),
    [(None, None), ("0.99", None), ("1", "one_yi"), ("9.9999", "one_yi"), ("10", "ten_yi"),
     ("49.5", "ten_yi"), ("50", "fifty_yi"), ("99.99", "fifty_yi"), ("100", "hundred_yi"),
     ("1500", "hundred_yi")],
)  # fmt: skip
def test_the_size_class_follows_the_agreed_investment(api, place, amount, size_class):
    body = _body(place, agreed_investment_cny_100m=amount, confirm=["large_amount"])
    made = api.post("/api/v1/projects", body)
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["size_class"] == size_class


def test_the_trade_fields_are_kept_and_checked_per_field(api, place, conn):
    made = api.post(
        "/api/v1/projects",
        _body(
            place, agreed_investment_cny_100m=20, first_phase_investment_cny_100m=8,
            fixed_asset_investment_cny_100m=15, capital_origin="foreign",
            foreign_capital_usd_10k=3000,
        ),
    )  # fmt: skip
    assert made.status_code == 201, made.get_json()
    row = made.get_json()
    assert (row["capital_origin"], row["foreign_capital_usd_10k"], row["size_class"]) == (
        "foreign", "3000.0000", "ten_yi"
    )  # fmt: skip
    before = conn.execute(text("SELECT count(*) FROM project")).scalar_one()
    wrong = api.post(
        "/api/v1/projects",
        _body(
            place, agreed_investment_cny_100m=5, first_phase_investment_cny_100m=6,
            fixed_asset_investment_cny_100m=7, capital_origin="local",
            foreign_capital_usd_10k=10,
        ),
    )  # fmt: skip
    assert wrong.status_code == 422
    fields = {d["field"] for d in wrong.get_json()["error"]["details"]}
    assert fields == {
        "first_phase_investment_cny_100m",
        "fixed_asset_investment_cny_100m",
        "foreign_capital_usd_10k",
    }
    assert conn.execute(text("SELECT count(*) FROM project")).scalar_one() == before
    # A change that lowers the total below the first phase is refused too.
    lowered = api.patch(f"/api/v1/projects/{row['id']}", {"agreed_investment_cny_100m": 7})
    assert lowered.status_code == 422
    assert lowered.get_json()["error"]["details"][0]["field"] == "first_phase_investment_cny_100m"
    bad_origin = api.post("/api/v1/projects", _body(place, capital_origin="mars"))
    assert bad_origin.status_code == 422


def test_the_database_keeps_the_rules_itself(conn, place):
    project = f.project(conn, place["chain"], place["district"], agreed_investment_cny_100m=10)
    update = "UPDATE project SET {} WHERE id = :id"
    with refused(conn, "ck_project_first_phase_within_total"):
        conn.execute(text(update.format("first_phase_investment_cny_100m = 11")), {"id": project})
    with refused(conn, "ck_project_fixed_asset_within_total"):
        conn.execute(text(update.format("fixed_asset_investment_cny_100m = 11")), {"id": project})
    with refused(conn, "ck_project_foreign_capital_only_from_abroad"):
        conn.execute(
            text(update.format("capital_origin = 'domestic', foreign_capital_usd_10k = 1")),
            {"id": project},
        )
    with refused(conn):
        conn.execute(text(update.format("size_class = 'one_yi'")), {"id": project})


def test_the_classes_report_counts_approved_projects(conn, place):
    chain, district = place["chain"], place["district"]
    f.project(conn, chain, district, agreed_investment_cny_100m=120, capital_origin="foreign",
              foreign_capital_usd_10k=500, first_phase_investment_cny_100m=40)  # fmt: skip
    f.project(conn, chain, district, agreed_investment_cny_100m=150, capital_origin="foreign")
    f.project(conn, chain, district, agreed_investment_cny_100m=12, capital_origin="local")
    f.project(conn, chain, district, agreed_investment_cny_100m=200, capital_origin="foreign",
              review_status="submitted")  # fmt: skip
    rows = {
        (r.size_class, r.capital_origin): r
        for r in conn.execute(
            text("SELECT * FROM report_project_classes WHERE chain_id = :c"), {"c": chain}
        )
    }
    big = rows[("hundred_yi", "foreign")]
    assert (big.projects, big.agreed_investment_cny_100m, big.projects_reported) == (
        2, Decimal("270.0000"), 3
    )  # fmt: skip
    assert big.foreign_capital_usd_10k == Decimal("500.0000")
    assert big.first_phase_investment_cny_100m == Decimal("40.0000")
    assert rows[("ten_yi", "local")].projects == 1


def test_the_add_form_takes_the_trade_fields(web, conn, place):
    page = web.text("/projects/add")
    assert 'name="capital_origin"' in page and 'name="foreign_capital_usd_10k"' in page
    response = web.submit(
        "/projects/add",
        {
            "name": "表单外资项目", "chain_id": str(place["chain"]),
            "district_id": str(place["district"]), "investor_id": "某港资企业",
            "agreed_investment_cny_100m": "12", "first_phase_investment_cny_100m": "20",
            "capital_origin": "local", "foreign_capital_usd_10k": "100",
        },
    )  # fmt: skip
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert body.count('class="field has-error"') >= 2
    fixed = web.submit(
        "/projects/add",
        {
            "name": "表单外资项目", "chain_id": str(place["chain"]),
            "district_id": str(place["district"]), "investor_id": "某港资企业",
            "agreed_investment_cny_100m": "12", "first_phase_investment_cny_100m": "5",
            "capital_origin": "foreign", "foreign_capital_usd_10k": "100",
        },
    )  # fmt: skip
    assert fixed.status_code == 302, fixed.get_data(as_text=True)[:2000]
    stored = conn.execute(
        text(
            "SELECT capital_origin, foreign_capital_usd_10k, size_class FROM project "
            "WHERE name = '表单外资项目'"
        )
    ).one()
    assert tuple(stored) == ("foreign", Decimal("100.0000"), "ten_yi")


def test_a_write_that_changes_nothing_changes_no_review_status(api, conn, place):
    """A BEFORE trigger sees the generated size_class as NULL: the review guard must not take
    that for a change (a submitted project's export imports back unchanged; an approved
    project written with its own values stays approved)."""
    chain, district = place["chain"], place["district"]
    submitted = f.project(conn, chain, district, review_status="submitted",
                          agreed_investment_cny_100m=6.5, first_phase_investment_cny_100m=3.5,
                          capital_origin="domestic")  # fmt: skip
    approved = f.project(conn, chain, district, agreed_investment_cny_100m=20)
    exported = api.get(f"/api/v1/projects?format=csv&chain_id={chain}", role="editor")
    assert exported.status_code == 200
    back = api.client.post(
        "/api/v1/projects/import",
        data=exported.data,
        headers={**api.headers("editor"), "Content-Type": "text/csv"},
    ).get_json()
    assert {r["action"] for r in back["results"]} == {"unchanged"}, back
    conn.execute(
        text(
            "SELECT set_config('role', 'chaindb_app', true), set_config('chaindb.unit_id', "
            "(SELECT id FROM unit WHERE kind = 'city')::text, true)"
        )
    )
    written = conn.execute(
        text("UPDATE project SET notes = notes WHERE id IN (:a, :b)"),
        {"a": submitted, "b": approved},
    )
    assert written.rowcount == 2
    conn.execute(text("SELECT set_config('role', 'none', true)"))
    statuses = dict(
        conn.execute(
            text("SELECT id, review_status FROM project WHERE id IN (:a, :b)"),
            {"a": submitted, "b": approved},
        ).all()
    )
    assert statuses == {submitted: "submitted", approved: "approved"}


# --- investor attributes ---------------------------------------------------------------------


def test_investor_attributes_count_in_the_classes_and_show_on_the_pages(api, conn, place, web):
    chain, district = place["chain"], place["district"]
    investor = f.enterprise(conn, name_zh="某世界五百强集团")
    made = api.post(
        "/api/v1/investor-attributes",
        {"enterprise_id": investor, "attribute": "fortune_global_500", "year": 2025,
         "list_rank": 120},
    )  # fmt: skip
    assert made.status_code == 201, made.get_json()
    again = api.post(
        "/api/v1/investor-attributes",
        {"enterprise_id": investor, "attribute": "fortune_global_500", "year": 2025},
    )
    assert again.status_code == 409
    api.post("/api/v1/investor-attributes",
             {"enterprise_id": investor, "attribute": "listed", "year": 2020})  # fmt: skip
    project = f.project(conn, chain, district, investor_id=investor, investor_name=None,
                        agreed_investment_cny_100m=30)  # fmt: skip
    f.project(conn, chain, district, agreed_investment_cny_100m=12)
    row = conn.execute(
        text(
            "SELECT projects, projects_fortune_global_500, projects_listed, projects_china_500 "
            "FROM report_project_classes WHERE chain_id = :c AND size_class = 'ten_yi'"
        ),
        {"c": chain},
    ).one()
    assert tuple(row) == (2, 1, 1, 0)
    page = web.text(f"/projects/{project}?lang=en")
    assert "Fortune Global 500" in page and "2025" in page
    enterprise_page = web.text(f"/enterprises/{investor}?lang=en")
    assert 'id="investor-attributes"' in enterprise_page
    assert "listed company" in enterprise_page


def test_a_merge_moves_investor_attributes_and_drops_the_same_fact_twice(conn, session):
    from chaindb.enterprises.merge import merge

    keep = f.enterprise(conn, name_zh="某上市集团")
    duplicate = f.enterprise(conn, name_zh="某上市集团（重复录入）", uscc=None)
    for enterprise, attribute in ((keep, "listed"), (duplicate, "listed"),
                                  (duplicate, "central_soe")):  # fmt: skip
        f.insert(conn, "investor_attribute", enterprise_id=enterprise, attribute=attribute,
                 year=2024)  # fmt: skip
    summary = merge(session, keep=keep, duplicate=duplicate)
    assert summary["dropped"]["investor_attribute"] == 1
    assert summary["moved"]["investor_attribute"] == 1
    held = conn.execute(
        text("SELECT attribute FROM investor_attribute WHERE enterprise_id = :e ORDER BY 1"),
        {"e": keep},
    ).scalars()
    assert list(held) == ["central_soe", "listed"]


def test_projects_are_filtered_by_size_class_and_capital_origin(api, conn, place, web):
    chain, district = place["chain"], place["district"]
    big = f.project(conn, chain, district, agreed_investment_cny_100m=150, capital_origin="foreign")
    f.project(conn, chain, district, agreed_investment_cny_100m=15, capital_origin="local")
    listed = api.get(f"/api/v1/projects?chain_id={chain}&size_class=hundred_yi").get_json()
    assert [r["id"] for r in listed["results"]] == [big]
    listed = api.get(f"/api/v1/projects?chain_id={chain}&capital_origin=foreign").get_json()
    assert [r["id"] for r in listed["results"]] == [big]
    assert api.get("/api/v1/projects?size_class=huge").status_code == 422
    page = web.text(f"/projects?chain_id={chain}&size_class=hundred_yi")
    assert f'href="/projects/{big}"' in page


# --- the multiplier (带动配套) ---------------------------------------------------------------


def test_the_multiplier_counts_the_local_suppliers_linked_after_the_signing(conn, place, web):
    from datetime import date

    chain, district = place["chain"], place["district"]
    master = f.chain_master(conn, chain)
    signed = date(2024, 6, 1)
    project = f.project(conn, chain, district, chain_master_id=master, stage="signed",
                        signed_on=signed)  # fmt: skip
    links = [
        # (local?, since, status, value 万元)
        (True, date(2024, 6, 1), "active", 500),  # the day of the signing: counts
        (True, date(2025, 1, 1), "active", None),  # value unknown: counted, not summed
        (True, date(2023, 1, 1), "active", 900),  # before the signing
        (True, None, "active", 100),  # start unknown
        (True, date(2025, 3, 1), "ended", 300),  # no longer supplying
        (False, date(2025, 2, 1), "active", 700),  # not local
    ]
    for local, since, status, value in links:
        supplier = f.enterprise(conn, district_id=district if local else None)
        extra = {"until": date(2025, 12, 31)} if status == "ended" else {}
        f.supply_link(conn, supplier, master, chain, since=since, status=status,
                      annual_value_cny_10k=value, **extra)  # fmt: skip
    counted = [
        link for link in links
        if link[2] == "active" and link[1] is not None and link[1] >= signed
    ]  # fmt: skip
    local = [link for link in counted if link[0]]
    row = conn.execute(
        text("SELECT * FROM report_project_multiplier WHERE project_id = :p"), {"p": project}
    ).one()
    assert row.local_suppliers == len(local) == 2
    assert row.local_value_cny_10k == sum(v or 0 for *_, v in local) == 500
    assert row.suppliers == len(counted) == 3
    assert row.value_cny_10k == 1200
    # Not approved (a draft): not counted.
    draft = f.project(conn, chain, district, chain_master_id=master, stage="signed",
                      signed_on=signed, review_status="draft")  # fmt: skip
    assert (
        conn.execute(
            text("SELECT count(*) FROM report_project_multiplier WHERE project_id = :p"),
            {"p": draft},
        ).scalar_one()
        == 0
    )
    # On the project's page and the chain master's.
    page = web.text(f"/projects/{project}?lang=en")
    assert 'class="multiplier"' in page and "2 local suppliers" in page
    master_page = web.text(f"/chain-masters/{master}?lang=en")
    assert 'id="multiplier"' in master_page and f'href="/projects/{project}"' in master_page


# --- district specialisation (一区一主业) ------------------------------------------------------


def test_a_project_outside_its_unit_s_leading_chains_is_flagged_not_refused(api, conn, web):
    from datetime import date

    lixia, other = f.district(conn), f.district(conn)
    iconic, elsewhere = f.chain(conn, name_zh="领先产业链"), f.chain(conn, name_zh="别的产业链")
    key = f.key_chain(conn, parent_id=iconic)
    made = api.post("/api/v1/leading-chains",
                    {"district_id": lixia, "chain_id": iconic, "since": "2024-01-01"},
                    role="admin")  # fmt: skip
    assert made.status_code == 201, made.get_json()
    f.insert(conn, "leading_chain", district_id=other, chain_id=iconic)
    f.insert(
        conn, "leading_chain", district_id=lixia, chain_id=elsewhere, until=date(2020, 12, 31)
    )  # fmt: skip  (ended: not a leading chain today)
    inside = f.project(conn, key, lixia)  # a key chain counts with its iconic parent
    outside = f.project(conn, elsewhere, lixia, agreed_investment_cny_100m=8)
    unflagged = f.project(conn, elsewhere, f.district(conn))  # a unit without leading chains

    def leads(district: int, chain: int) -> bool:
        return conn.execute(
            text("SELECT leads_chain(:d, :c, current_date)"), {"d": district, "c": chain}
        ).scalar_one()

    assert (leads(lixia, iconic), leads(lixia, key), leads(lixia, elsewhere)) == (
        True, True, False
    )  # fmt: skip
    assert 'class="flag outside-leading"' in web.text(f"/projects/{outside}?lang=en")
    assert "领先产业链" in web.text(f"/projects/{outside}?lang=en")
    for project in (inside, unflagged):
        assert "outside-leading" not in web.text(f"/projects/{project}")
    rows = {
        (r.district_id, r.chain_id): r
        for r in conn.execute(text("SELECT * FROM report_district_specialisation"))
    }
    assert rows[(lixia, iconic)].is_leading and rows[(lixia, iconic)].units_leading_chain == 2
    flagged = rows[(lixia, elsewhere)]
    assert (flagged.is_leading, flagged.projects, flagged.outside_leading_chains) == (
        False, 1, True
    )  # fmt: skip
    assert flagged.units_with_projects == 2  # lixia's and the unit without leading chains
    assert flagged.agreed_investment_cny_100m == 8
