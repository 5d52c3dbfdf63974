"""The promotion work: a lead from a gap candidate or a visit, its negotiations and follow-ups,
its conversion into a project; who sees what; the rules the database keeps when the
application is not asked."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Connection, text

from chaindb.reports.refresh import refresh_reports
from tests import factories_sql as f
from tests.conftest import Offices, count_rows, refused
from tests.test_reviews import EXE, PDF

TODAY = date.today()


def _lead(client, who: Offices, user: str, **body):
    return client.post("/api/v1/leads", json=body, headers=who.headers(user))


def _user_id(conn: Connection, name: str) -> int:
    return conn.execute(
        text("SELECT id FROM app_user WHERE username = :n"), {"n": name}
    ).scalar_one()


def test_a_lead_with_the_least_input_belongs_to_the_unit_and_officer(client, offices, conn):
    ids = offices.ids
    made = _lead(
        client, offices, "d1-editor", chain_id=ids["c2"], source="referral",
        enterprise_name="深圳某电池材料公司",
    )  # fmt: skip
    assert made.status_code == 201, made.get_json()
    lead = made.get_json()
    assert lead["unit_id"] == ids["u_d1"]
    assert lead["owner_id"] == _user_id(conn, "d1-editor")
    assert lead["status"] == "new"
    assert lead["next_follow_up_on"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"source": "referral"}, "enterprise_id"),  # names no enterprise
        ({"source": "rumour", "enterprise_name": "甲"}, "source"),
        ({"source": "other", "enterprise_name": "甲", "status": "signed"}, "status"),
        ({"source": "other", "enterprise_name": "甲", "status": "dropped"}, "dropped_reason"),
        ({"source": "other", "enterprise_id": 999999999}, "enterprise_id"),
        (
            {"source": "other", "enterprise_name": "甲", "expected_investment_cny_100m": -1},
            "expected_investment_cny_100m",
        ),
    ],
)
def test_a_bad_lead_is_refused_by_field_and_nothing_is_written(client, offices, conn, body, field):
    before = count_rows(conn, "lead")
    response = _lead(client, offices, "d1-editor", chain_id=offices.ids["c2"], **body)
    assert 400 <= response.status_code < 500, response.get_json()
    error = response.get_json()["error"]
    fields = {d.get("field") for d in error.get("details") or []} | {error.get("field")}
    assert any(field in (f or "") for f in fields), error
    assert count_rows(conn, "lead") == before


def test_leads_are_seen_by_their_unit_the_city_and_their_chains_office(client, offices):
    ids = offices.ids
    in_c1 = _lead(client, offices, "d1-editor", chain_id=ids["c1"], source="fund",
                  enterprise_name="甲基金投资企业").get_json()  # fmt: skip
    in_c2 = _lead(client, offices, "d1-editor", chain_id=ids["c2"], source="fund",
                  enterprise_name="乙基金投资企业").get_json()  # fmt: skip

    def seen(user: str) -> set[int]:
        response = client.get("/api/v1/leads?limit=1000", headers=offices.headers(user))
        return {r["id"] for r in response.get_json()["results"]}

    assert {in_c1["id"], in_c2["id"]} <= seen("d1-editor")
    assert {in_c1["id"], in_c2["id"]} <= seen("city-admin")
    assert in_c1["id"] in seen("c1-editor") and in_c2["id"] not in seen("c1-editor")
    # The chain office reads the lead of its chain but does not change another unit's.
    changed = client.patch(
        f"/api/v1/leads/{in_c1['id']}", json={"notes": "抢线索"},
        headers=offices.headers("c1-editor"),
    )  # fmt: skip
    assert changed.status_code in (403, 404)
    # Nor does it open a lead in the district office's name.
    theirs = _lead(client, offices, "c1-editor", chain_id=ids["c1"], source="other",
                   enterprise_name="丙", unit_id=ids["u_d1"])  # fmt: skip
    assert theirs.status_code == 403


def test_negotiations_move_the_lead_and_its_follow_up(client, offices, conn):
    ids = offices.ids
    lead = _lead(client, offices, "d1-editor", chain_id=ids["c2"], source="referral",
                 enterprise_id=ids["e_far"]).get_json()  # fmt: skip
    first = client.post(
        "/api/v1/negotiations",
        json={"lead_id": lead["id"], "held_on": str(TODAY - timedelta(days=20)),
              "content": "初次接洽，介绍园区政策", "next_follow_up_on": str(TODAY - timedelta(days=3))},
        headers=offices.headers("d1-editor"),
    )  # fmt: skip
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["recorded_by_id"] == _user_id(conn, "d1-editor")
    row = conn.execute(
        text("SELECT status, next_follow_up_on FROM lead WHERE id = :id"), {"id": lead["id"]}
    ).one()
    assert row.status == "contacted"
    assert row.next_follow_up_on == TODAY - timedelta(days=3)
    # Overdue: in the officer's follow-ups, not in another unit's officer's.
    mine = client.get("/api/v1/follow-ups", headers=offices.headers("d1-editor")).get_json()
    item = next(i for i in mine if i["kind"] == "lead" and i["id"] == lead["id"])
    assert item["overdue"] is True
    theirs = client.get("/api/v1/follow-ups", headers=offices.headers("c1-editor")).get_json()
    assert all(i["id"] != lead["id"] for i in theirs if i["kind"] == "lead")
    unit = client.get("/api/v1/follow-ups?who=unit", headers=offices.headers("d1-admin"))
    assert any(i["id"] == lead["id"] for i in unit.get_json() if i["kind"] == "lead")
    # An older entry logged late does not move the follow-up; a newer one does.
    client.post(
        "/api/v1/negotiations",
        json={"lead_id": lead["id"], "held_on": str(TODAY - timedelta(days=30)),
              "content": "补记：展会上交换名片", "next_follow_up_on": str(TODAY - timedelta(days=29))},
        headers=offices.headers("d1-editor"),
    )  # fmt: skip
    assert conn.execute(
        text("SELECT next_follow_up_on FROM lead WHERE id = :id"), {"id": lead["id"]}
    ).scalar_one() == TODAY - timedelta(days=3)
    client.post(
        "/api/v1/negotiations",
        json={"lead_id": lead["id"], "held_on": str(TODAY), "content": "二次洽谈，对方提出用地需求",
              "next_step": "报送用地方案", "next_follow_up_on": str(TODAY + timedelta(days=14))},
        headers=offices.headers("d1-editor"),
    )  # fmt: skip
    assert conn.execute(
        text("SELECT next_follow_up_on FROM lead WHERE id = :id"), {"id": lead["id"]}
    ).scalar_one() == TODAY + timedelta(days=14)
    later = client.get("/api/v1/follow-ups", headers=offices.headers("d1-editor")).get_json()
    assert all(i["id"] != lead["id"] for i in later if i["kind"] == "lead")  # beyond a week


def test_a_negotiation_is_about_one_lead_or_one_project(client, offices, conn):
    ids = offices.ids
    before = count_rows(conn, "negotiation")
    for body in (
        {"held_on": str(TODAY), "content": "无主记录"},
        {"held_on": str(TODAY), "content": "两者", "lead_id": 1, "project_id": ids["p_c2_d1"]},
        {"held_on": str(TODAY), "content": "   ", "project_id": ids["p_c2_d1"]},
        {"held_on": str(TODAY), "content": "别人的项目", "project_id": ids["p_c2_d2"]},
        {"held_on": str(TODAY), "content": "日期倒置", "project_id": ids["p_c2_d1"],
         "next_follow_up_on": str(TODAY - timedelta(days=1))},
    ):  # fmt: skip
        response = client.post(
            "/api/v1/negotiations", json=body, headers=offices.headers("d1-editor")
        )
        assert 400 <= response.status_code < 500, (body, response.get_json())
    assert count_rows(conn, "negotiation") == before


def test_a_lead_converted_into_a_project_is_signed_and_keeps_the_link(client, offices, conn):
    ids = offices.ids
    lead = _lead(
        client,
        offices,
        "d1-editor",
        chain_id=ids["c2"],
        source="investor",
        enterprise_id=ids["e_far"],
        expected_investment_cny_100m="12",
    ).get_json()
    project = client.post(
        "/api/v1/projects",
        json={"name": "线索转化项目", "chain_id": ids["c2"], "district_id": ids["d1"],
              "investor_id": ids["e_far"], "lead_id": lead["id"], "stage": "signed",
              "signed_on": str(TODAY), "agreed_investment_cny_100m": "12"},
        headers=offices.headers("d1-editor"),
    )  # fmt: skip
    assert project.status_code == 201, project.get_json()
    assert project.get_json()["lead_id"] == lead["id"]
    status = conn.execute(text("SELECT status FROM lead WHERE id = :id"), {"id": lead["id"]})
    assert status.scalar_one() == "signed"
    # A second project of the same lead is refused; the signed lead cannot be reopened.
    again = client.post(
        "/api/v1/projects",
        json={"name": "重复转化", "chain_id": ids["c2"], "district_id": ids["d1"],
              "investor_name": "某", "lead_id": lead["id"]},
        headers=offices.headers("d1-editor"),
    )  # fmt: skip
    assert again.status_code == 409, again.get_json()
    assert again.get_json()["error"]["details"][0]["field"] == "lead_id"
    reopened = client.patch(
        f"/api/v1/leads/{lead['id']}", json={"status": "negotiating"},
        headers=offices.headers("d1-editor"),
    )  # fmt: skip
    assert reopened.status_code == 409, reopened.get_json()
    # Deleting the (draft) project puts the lead back to negotiating.
    deleted = client.delete(
        f"/api/v1/projects/{project.get_json()['id']}", headers=offices.headers("d1-editor")
    )
    assert deleted.status_code == 204, deleted.get_json()
    status = conn.execute(text("SELECT status FROM lead WHERE id = :id"), {"id": lead["id"]})
    assert status.scalar_one() == "negotiating"


def test_the_database_keeps_the_lead_rules_for_direct_sql(conn):
    chain = f.chain(conn)
    unit = conn.execute(text("SELECT id FROM unit WHERE kind = 'city'")).scalar_one()
    lead = f.insert(conn, "lead", unit_id=unit, chain_id=chain, source="other",
                    enterprise_name="直写企业")  # fmt: skip
    with refused(conn, "ck_lead_signed_by_a_project"):
        conn.execute(text("UPDATE lead SET status = 'signed' WHERE id = :id"), {"id": lead})
    with refused(conn, "ck_lead_dropped_with_a_reason"):
        conn.execute(text("UPDATE lead SET status = 'dropped' WHERE id = :id"), {"id": lead})
    with refused(conn, "ck_lead_names_its_enterprise"):
        f.insert(conn, "lead", unit_id=unit, chain_id=chain, source="other")
    # A meeting not yet held is not logged, by SQL either (it would stay the newest entry).
    with refused(conn, "negotiation_held_not_ahead"):
        f.insert(conn, "negotiation", lead_id=lead, unit_id=unit,
                 held_on=TODAY + timedelta(days=1), content="预约下周洽谈")  # fmt: skip
    dropped = f.insert(
        conn,
        "lead",
        unit_id=unit,
        chain_id=chain,
        source="other",
        enterprise_name="已放弃",
        status="dropped",
        dropped_reason="对方转投他市",
    )
    with refused(conn, "ck_project_lead_is_open"):
        f.project(conn, chain, f.district(conn), lead_id=dropped)
    # The same enterprise pursued twice by one unit for one chain: one open lead.
    enterprise = f.enterprise(conn)
    f.insert(conn, "lead", unit_id=unit, chain_id=chain, source="other", enterprise_id=enterprise)
    with refused(conn, "uq_lead_open_unit_id_enterprise_id_chain_id"):
        f.insert(conn, "lead", unit_id=unit, chain_id=chain, source="trip",
                 enterprise_id=enterprise)  # fmt: skip


def _gap_candidate(conn: Connection) -> tuple[int, int, int]:
    """A chain whose segment no local enterprise serves, and a supplier from elsewhere that
    serves it for the chain's master: (chain, segment, supplier)."""
    chain = f.chain(conn)
    segment = f.segment(conn, chain)
    master = f.chain_master(conn, chain)
    supplier = f.enterprise(conn, district_id=None, region_code="320500")
    f.supply_link(conn, supplier, master, chain, segment_id=segment, status="active",
                  product="电芯隔膜")  # fmt: skip
    refresh_reports(conn)
    return chain, segment, supplier


def test_a_gap_candidate_becomes_the_units_lead_once(client, offices, conn):
    chain, segment, supplier = _gap_candidate(conn)
    body = {"segment_id": segment, "supplier_id": supplier}
    first = client.post(
        "/api/v1/leads-from-gap-candidates", json=body, headers=offices.headers("d1-editor")
    )
    assert first.status_code == 201, first.get_json()
    lead = first.get_json()
    assert (lead["chain_id"], lead["segment_id"], lead["enterprise_id"]) == (
        chain, segment, supplier,
    )  # fmt: skip
    assert lead["source"] == "gap_candidate" and lead["unit_id"] == offices.ids["u_d1"]
    again = client.post(
        "/api/v1/leads-from-gap-candidates", json=body, headers=offices.headers("d1-editor")
    )
    assert again.status_code == 200 and again.get_json()["id"] == lead["id"]
    # Another unit pursues it on its own.
    city = client.post(
        "/api/v1/leads-from-gap-candidates", json=body, headers=offices.headers("city-admin")
    )
    assert city.status_code == 201 and city.get_json()["id"] != lead["id"]
    # Not a gap candidate: 404 naming the supplier.
    before = count_rows(conn, "lead")
    wrong = client.post(
        "/api/v1/leads-from-gap-candidates",
        json={"segment_id": segment, "supplier_id": offices.ids["e_d1"]},
        headers=offices.headers("d1-editor"),
    )
    assert wrong.status_code == 404
    assert count_rows(conn, "lead") == before


def test_a_gap_candidate_becomes_a_lead_from_the_report_page(web_as, conn):
    chain, segment, supplier = _gap_candidate(conn)
    web = web_as("editor")
    page = web.text(f"/reports/gap-candidates?chain_id={chain}")
    assert "leads/from-gap-candidate" in page
    response = web.post(
        "/leads/from-gap-candidate", {"segment_id": segment, "supplier_id": supplier}
    )
    assert response.status_code == 302
    lead_id = conn.execute(
        text("SELECT id FROM lead WHERE enterprise_id = :e AND source = 'gap_candidate'"),
        {"e": supplier},
    ).scalar_one()
    assert response.headers["Location"].endswith(f"/leads/{lead_id}")


def test_a_visit_opens_a_lead_or_moves_the_units_one(client, offices, conn):
    ids = offices.ids
    trip = client.post(
        "/api/v1/trips",
        json={"title": "长三角新能源招商之旅", "starts_on": str(TODAY), "destination": "上海、苏州"},
        headers=offices.headers("d1-editor"),
    )  # fmt: skip
    assert trip.status_code == 201, trip.get_json()
    assert trip.get_json()["ends_on"] == str(TODAY)
    visit = client.post(
        "/api/v1/trip-visits",
        json={"trip_id": trip.get_json()["id"], "enterprise_id": ids["e_far"],
              "chain_id": ids["c2"], "next_follow_up_on": str(TODAY + timedelta(days=2))},
        headers=offices.headers("d1-editor"),
    )  # fmt: skip
    assert visit.status_code == 201, visit.get_json()
    lead_id = visit.get_json()["lead_id"]
    lead = conn.execute(text("SELECT * FROM lead WHERE id = :id"), {"id": lead_id}).one()
    assert (lead.source, lead.status, lead.trip_id) == ("trip", "contacted", trip.get_json()["id"])
    assert lead.unit_id == ids["u_d1"]
    second = client.post(
        "/api/v1/trip-visits",
        json={"trip_id": trip.get_json()["id"], "enterprise_id": ids["e_far"],
              "chain_id": ids["c2"], "next_follow_up_on": str(TODAY + timedelta(days=5))},
        headers=offices.headers("d1-editor"),
    )  # fmt: skip
    assert second.get_json()["lead_id"] == lead_id
    assert conn.execute(
        text("SELECT next_follow_up_on FROM lead WHERE id = :id"), {"id": lead_id}
    ).scalar_one() == TODAY + timedelta(days=5)
    # Another unit's trip is not there for the chain office.
    other = client.get(
        f"/api/v1/trips/{trip.get_json()['id']}", headers=offices.headers("c1-editor")
    )
    assert other.status_code == 404


def test_negotiation_files_are_checked_by_content(client, offices, conn):
    ids = offices.ids
    entry = client.post(
        "/api/v1/negotiations",
        json={"project_id": ids["p_c2_d1"], "held_on": str(TODAY), "content": "签约前谈判"},
        headers=offices.headers("d1-editor"),
    ).get_json()
    ok = client.post(
        f"/api/v1/negotiations/{entry['id']}/files",
        data={"file": (io.BytesIO(PDF), "会议纪要.pdf")},
        headers=offices.headers("d1-editor"),
        content_type="multipart/form-data",
    )
    assert ok.status_code == 201, ok.get_json()
    bad = client.post(
        f"/api/v1/negotiations/{entry['id']}/files",
        data={"file": (io.BytesIO(EXE), "纪要.pdf")},
        headers=offices.headers("d1-editor"),
        content_type="multipart/form-data",
    )
    assert bad.status_code == 415
    listed = client.get(
        f"/api/v1/negotiations/{entry['id']}/files", headers=offices.headers("d1-editor")
    ).get_json()
    assert [x["file_name"] for x in listed] == ["会议纪要.pdf"], listed
    got = client.get(
        f"/api/v1/negotiations/{entry['id']}/files/{listed[0]['id']}",
        headers=offices.headers("d1-editor"),
    )
    assert got.data == PDF
    assert got.headers["Content-Disposition"].startswith("attachment")


def test_only_the_leads_unit_converts_it_or_moves_its_follow_up(client, offices, conn):
    ids = offices.ids
    lead = _lead(client, offices, "d1-editor", chain_id=ids["c1"], source="referral",
                 enterprise_name="丁企业", next_follow_up_on=str(TODAY)).get_json()  # fmt: skip
    # The chain office reads the lead (its chain) but does not convert it...
    taken = client.post(
        "/api/v1/projects",
        json={"name": "抢来的项目", "chain_id": ids["c1"], "district_id": ids["d2"],
              "investor_name": "丁企业", "lead_id": lead["id"]},
        headers=offices.headers("c1-editor"),
    )  # fmt: skip
    assert taken.status_code == 403, taken.get_json()
    assert taken.get_json()["error"]["details"][0]["field"] == "lead_id"
    # ...nor moves its follow-up with an entry of its own.
    logged = client.post(
        "/api/v1/negotiations",
        json={"lead_id": lead["id"], "held_on": str(TODAY), "content": "链长办电话联系",
              "next_follow_up_on": str(TODAY + timedelta(days=90))},
        headers=offices.headers("c1-editor"),
    )  # fmt: skip
    assert logged.status_code == 201, logged.get_json()
    row = conn.execute(
        text("SELECT status, next_follow_up_on FROM lead WHERE id = :id"), {"id": lead["id"]}
    ).one()
    assert (row.status, row.next_follow_up_on) == ("new", TODAY)
    # A meeting that has not taken place is not logged.
    future = client.post(
        "/api/v1/negotiations",
        json={"lead_id": lead["id"], "held_on": str(TODAY + timedelta(days=1)), "content": "预约"},
        headers=offices.headers("d1-editor"),
    )
    assert future.status_code == 422
    assert future.get_json()["error"]["details"][0]["field"] == "held_on"
    # An entry without a follow-up date keeps the one the lead has.
    client.post(
        "/api/v1/negotiations",
        json={"lead_id": lead["id"], "held_on": str(TODAY), "content": "回访"},
        headers=offices.headers("d1-editor"),
    )
    row = conn.execute(
        text("SELECT status, next_follow_up_on FROM lead WHERE id = :id"), {"id": lead["id"]}
    ).one()
    assert (row.status, row.next_follow_up_on) == ("contacted", TODAY)


def test_a_units_leads_stay_out_of_other_units_change_log(client, offices):
    ids = offices.ids
    lead = _lead(client, offices, "d1-editor", chain_id=ids["c2"], source="referral",
                 enterprise_name="保密企业", contact_phone="13800000000").get_json()  # fmt: skip

    def logged(user: str) -> set[int]:
        response = client.get(
            "/api/v1/changes?table_name=lead&limit=1000", headers=offices.headers(user)
        )
        assert response.status_code == 200, response.get_json()
        return {r["record_id"] for r in response.get_json()["results"]}

    assert lead["id"] in logged("d1-editor")
    assert lead["id"] in logged("city-admin")
    assert lead["id"] not in logged("c1-editor")  # not its chain


def test_a_deleted_project_leaves_its_negotiations_to_the_lead(client, offices, conn):
    ids = offices.ids
    lead = _lead(client, offices, "d1-editor", chain_id=ids["c2"], source="fund",
                 enterprise_name="戊企业").get_json()  # fmt: skip
    project = client.post(
        "/api/v1/projects",
        json={"name": "戊企业项目", "chain_id": ids["c2"], "district_id": ids["d1"],
              "investor_name": "戊企业", "lead_id": lead["id"]},
        headers=offices.headers("d1-editor"),
    ).get_json()  # fmt: skip
    entry = client.post(
        "/api/v1/negotiations",
        json={"project_id": project["id"], "held_on": str(TODAY), "content": "签约后对接"},
        headers=offices.headers("d1-editor"),
    ).get_json()
    deleted = client.delete(
        f"/api/v1/projects/{project['id']}", headers=offices.headers("d1-editor")
    )
    assert deleted.status_code == 204, deleted.get_json()
    kept = conn.execute(
        text("SELECT lead_id, project_id FROM negotiation WHERE id = :id"), {"id": entry["id"]}
    ).one()
    assert (kept.lead_id, kept.project_id) == (lead["id"], None)


def test_conversion_rates_per_unit_and_source(conn):
    """Four leads of a unit from a trip (one signed as an approved project, one dropped, two
    open, one of them overdue) and two referrals (one signed): the rates, against the counts."""
    unit = conn.execute(text("SELECT id FROM unit WHERE kind = 'city'")).scalar_one()
    chain, district = f.chain(conn), f.district(conn)

    def lead(source: str, **columns: object) -> int:
        return f.insert(conn, "lead", unit_id=unit, chain_id=chain, source=source,
                        enterprise_name=f"转化企业{f.next_number()}", **columns)  # fmt: skip

    signed_trip = lead("trip")
    lead("trip", status="dropped", dropped_reason="对方转投他市")
    lead("trip", status="negotiating", next_follow_up_on=TODAY - timedelta(days=1))
    lead("trip", status="contacted", next_follow_up_on=TODAY + timedelta(days=1))
    signed_referral = lead("referral")
    lead("referral")
    f.project(conn, chain, district, lead_id=signed_trip, agreed_investment_cny_100m=12)
    f.project(conn, chain, district, lead_id=signed_referral, review_status="draft")

    def row(source: str | None) -> dict:
        return dict(
            conn.execute(
                text(
                    "SELECT * FROM report_lead_conversion WHERE unit_id = :u "
                    "AND source IS NOT DISTINCT FROM :s"
                ),
                {"u": unit, "s": source},
            )
            .mappings()
            .one()
        )

    trip = row("trip")
    assert (trip["leads"], trip["open_leads"], trip["signed"], trip["dropped"]) == (4, 2, 1, 1)
    assert trip["conversion_rate"] == Decimal(1) / 4
    assert trip["closed_conversion_rate"] == Decimal(1) / 2
    assert trip["overdue_follow_ups"] == 1
    assert (trip["projects_approved"], trip["agreed_investment_cny_100m"]) == (1, 12)
    referral = row("referral")
    assert (referral["leads"], referral["signed"], referral["projects_approved"]) == (2, 1, 0)
    assert referral["closed_conversion_rate"] == 1
    total = row(None)
    assert (total["leads"], total["signed"], total["dropped"]) == (6, 2, 1)
    assert abs(total["conversion_rate"] - Decimal(2) / 6) < Decimal("1e-15")


def test_merging_enterprises_keeps_one_open_lead_and_all_the_negotiations(session, conn):
    from chaindb.enterprises.merge import merge

    unit = conn.execute(text("SELECT id FROM unit WHERE kind = 'city'")).scalar_one()
    chain = f.chain(conn)
    kept, duplicate = f.enterprise(conn), f.enterprise(conn, uscc=None)
    mine = f.insert(conn, "lead", unit_id=unit, chain_id=chain, source="trip", enterprise_id=kept)
    theirs = f.insert(conn, "lead", unit_id=unit, chain_id=chain, source="referral",
                      enterprise_id=duplicate, status="negotiating")  # fmt: skip
    talk = f.insert(conn, "negotiation", lead_id=theirs, unit_id=unit, held_on=TODAY,
                    content="与重复企业的洽谈")  # fmt: skip
    merge(session, keep=kept, duplicate=duplicate)
    leads = conn.execute(
        text("SELECT id, enterprise_id, status, dropped_reason FROM lead WHERE id IN (:a, :b)"),
        {"a": mine, "b": theirs},
    ).all()
    by_id = {row.id: row for row in leads}
    assert by_id[mine].status == "new" and by_id[mine].enterprise_id == kept
    assert by_id[theirs].status == "dropped" and by_id[theirs].enterprise_id == kept
    assert f"lead {mine}" in by_id[theirs].dropped_reason
    moved = conn.execute(text("SELECT lead_id FROM negotiation WHERE id = :t"), {"t": talk})
    assert moved.scalar_one() == mine
