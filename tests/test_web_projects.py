"""The project pages: 新增项目, the stage move and its history, the list, roles and escaping."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import Connection, text

from tests import factories_sql as f
from tests.conftest import count_rows

TABLES = ("project", "project_stage_event")


@pytest.fixture
def world(conn: Connection) -> dict[str, Any]:
    chain_id = f.chain(conn)
    other_chain_id = f.chain(conn)
    investor_id = f.enterprise(conn, name_zh="济南测试投资有限公司")
    return {
        "chain_id": chain_id,
        "other_chain_id": other_chain_id,
        "segment_id": f.segment(conn, chain_id),
        "other_segment_id": f.segment(conn, other_chain_id),
        "district_id": f.district(conn),
        "investor_id": investor_id,
        "master_id": f.chain_master(conn, chain_id),
        "other_master_id": f.chain_master(conn, other_chain_id),
    }


def form(world: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A valid 新增项目 form as a browser sends it; fields override."""
    data = {
        "name": "测试新能源电池项目",
        "chain_id": str(world["chain_id"]),
        "segment_id": str(world["segment_id"]),
        "district_id": str(world["district_id"]),
        "investor_id": f"济南测试投资有限公司 #{world['investor_id']}",
        "chain_master_id": str(world["master_id"]),
        "kind": "new",
        "parent_id": "",
        "channel": "chain_master",
        "agreed_investment_cny_100m": "12.5",
        "funds_arrived_cny_100m": "3",
        "is_key": "y",
        "stage": "signed",
        "signed_on": "2025-03-01",
        "agreed_start_on": "2025-06-01",
        "construction_started_on": "",
        "production_started_on": "",
        "capacity_reached_on": "",
        "dropped_on": "",
        "stage_reason": "",
        "stage_note": "签约仪式",
        "responsible_unit": "测试区投资促进局",
        "responsible_person": "",
        "source": "",
        "notes": "",
    }
    data.update(fields)
    return data


def project_row(conn: Connection, project_id: int) -> dict[str, Any]:
    return dict(
        conn.execute(text("SELECT * FROM project WHERE id = :id"), {"id": project_id})
        .mappings()
        .one()
    )


def events(conn: Connection, project_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        text("SELECT * FROM project_stage_event WHERE project_id = :id ORDER BY id"),
        {"id": project_id},
    ).mappings()
    return [dict(r) for r in rows]


def created_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.location.rstrip("/").rsplit("/", 1)[1])


def error_of(page: str, field: str) -> str:
    """The message shown beside a field ('' when there is none)."""
    marker = f'id="{field}-error" role="alert">'
    if marker not in page:
        return ""
    return page.split(marker, 1)[1].split("</span>", 1)[0]


# --- 新增项目 ------------------------------------------------------------------------------------


def test_add_with_an_existing_investor_records_the_first_stage(web, conn, world):
    response = web.post("/projects/add", form(world))
    project_id = created_id(response)
    row = project_row(conn, project_id)
    assert row["investor_id"] == world["investor_id"]
    assert row["investor_name"] is None
    assert row["chain_master_id"] == world["master_id"]
    assert row["stage"] == "signed"
    assert row["signed_on"] == date(2025, 3, 1)
    assert str(row["agreed_investment_cny_100m"]) == "12.5000"
    assert row["is_key"] is True
    (first,) = events(conn, project_id)
    assert first["from_stage"] is None
    assert first["to_stage"] == "signed"
    assert first["occurred_on"] == date(2025, 3, 1)
    assert first["note"] == "签约仪式"
    assert first["actor"] == "web-editor"
    page = web.text(response.location)
    assert "测试新能源电池项目" in page
    assert "济南测试投资有限公司" in page


def test_add_with_a_new_investor_keeps_its_name(web, conn, world):
    response = web.post(
        "/projects/add",
        form(world, investor_id="虚构新能源投资（香港）有限公司", stage="lead", signed_on=""),
    )
    project_id = created_id(response)
    row = project_row(conn, project_id)
    assert row["investor_id"] is None
    assert row["investor_name"] == "虚构新能源投资（香港）有限公司"
    assert [e["to_stage"] for e in events(conn, project_id)] == ["lead"]
    assert "虚构新能源投资（香港）有限公司" in web.text(f"/projects/{project_id}")


@pytest.mark.parametrize(
    ("fields", "field", "kept"),
    [
        ({"name": ""}, "name", 'value="12.5"'),
        ({"segment_id": "other"}, "segment_id", 'value="测试新能源电池项目"'),
        ({"agreed_investment_cny_100m": "-2"}, "agreed_investment_cny_100m", 'value="-2"'),
        ({"funds_arrived_cny_100m": "lots"}, "funds_arrived_cny_100m", 'value="lots"'),
        ({"stage": "negotiating"}, "signed_on", 'value="2025-03-01"'),
        ({"investor_id": ""}, "investor_id", 'value="测试新能源电池项目"'),
        ({"chain_master_id": "other"}, "chain_master_id", 'value="12.5"'),
        ({"kind": "expansion"}, "parent_id", 'value="测试新能源电池项目"'),
    ],
)
def test_a_refused_project_comes_back_with_the_reason_beside_the_field(
    web, conn, world, fields, field, kept
):
    if fields.get("segment_id") == "other":
        fields = {"segment_id": str(world["other_segment_id"])}
    if fields.get("chain_master_id") == "other":
        fields = {"chain_master_id": str(world["other_master_id"])}
    before = count_rows(conn, *TABLES)
    response = web.post("/projects/add", form(world, **fields))
    assert 400 <= response.status_code < 500
    page = response.get_data(as_text=True)
    assert error_of(page, field), page
    assert kept in page
    assert count_rows(conn, *TABLES) == before


def test_the_chain_master_select_names_master_and_chain(web, conn, world):
    master = conn.execute(
        text("SELECT name_zh FROM enterprise WHERE id = :id"), {"id": world["master_id"]}
    ).scalar_one()
    chain = conn.execute(
        text("SELECT name_zh FROM chain WHERE id = :id"), {"id": world["chain_id"]}
    ).scalar_one()
    page = web.text("/projects/add")
    assert f'<option value="{world["master_id"]}">{master} · {chain}</option>' in page
    assert 'data-segments-of="chain_id"' in page


def test_a_follow_on_names_its_original(web, conn, world):
    parent = created_id(web.post("/projects/add", form(world)))
    page = web.text(f"/projects/add?parent_id={parent}")
    assert f"测试新能源电池项目 #{parent}" in page
    response = web.post(
        "/projects/add",
        form(
            world,
            name="测试新能源电池项目二期",
            kind="expansion",
            parent_id=f"测试新能源电池项目 #{parent}",
            stage="lead",
            signed_on="",
        ),
    )
    child = created_id(response)
    assert project_row(conn, child)["parent_id"] == parent
    assert "测试新能源电池项目二期" in web.text(f"/projects/{parent}")


def test_the_generic_new_page_leads_to_the_add_form(web):
    response = web.get("/projects/new")
    assert response.status_code == 307
    assert response.location.endswith("/projects/add")


# --- the stage move ------------------------------------------------------------------------------


def test_moving_forward_records_the_move_with_its_date(web, conn, world):
    project_id = f.project(conn, world["chain_id"], world["district_id"])
    response = web.post(
        f"/projects/{project_id}/stage",
        {"stage": "negotiating", "date": "2025-02-01", "reason": "", "note": "首次洽谈"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    response = web.post(f"/projects/{project_id}/stage", {"stage": "signed", "date": "2025-04-10"})
    assert response.status_code == 302, response.get_data(as_text=True)
    row = project_row(conn, project_id)
    assert row["stage"] == "signed"
    assert row["signed_on"] == date(2025, 4, 10)
    moves = [(e["from_stage"], e["to_stage"], e["occurred_on"]) for e in events(conn, project_id)]
    assert moves[1:] == [
        ("lead", "negotiating", date(2025, 2, 1)),
        ("negotiating", "signed", date(2025, 4, 10)),
    ]
    assert events(conn, project_id)[1]["actor"] == "web-editor"


def test_moving_back_needs_a_reason_beside_the_reason_field(web, conn, world):
    project_id = f.project(
        conn, world["chain_id"], world["district_id"], stage="signed", signed_on=date(2025, 3, 1)
    )
    before = count_rows(conn, *TABLES)
    response = web.post(
        f"/projects/{project_id}/stage", {"stage": "negotiating", "date": "2025-05-01"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    # In the reader's language, the stages by their names, not their codes.
    assert error_of(page, "reason") == "项目从签约阶段退回在谈阶段须说明原因"
    assert 'value="2025-05-01"' in page  # what was typed stays
    assert count_rows(conn, *TABLES) == before
    assert project_row(conn, project_id)["stage"] == "signed"

    response = web.post(
        f"/projects/{project_id}/stage",
        {"stage": "negotiating", "date": "2025-05-01", "reason": "投资方调整方案，重新谈判"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    row = project_row(conn, project_id)
    assert row["stage"] == "negotiating"
    assert row["signed_on"] is None
    last = events(conn, project_id)[-1]
    assert (last["from_stage"], last["to_stage"]) == ("signed", "negotiating")
    assert last["reason"] == "投资方调整方案，重新谈判"


def test_a_move_before_the_stage_it_leaves_is_refused_beside_the_date(web, conn, world):
    project_id = f.project(
        conn, world["chain_id"], world["district_id"], stage="signed", signed_on=date(2025, 3, 1)
    )
    response = web.post(
        f"/projects/{project_id}/stage", {"stage": "under_construction", "date": "2025-01-01"}
    )
    assert response.status_code == 422
    assert error_of(response.get_data(as_text=True), "date")


def test_a_move_needs_a_stage_and_a_date(web, conn, world):
    project_id = f.project(conn, world["chain_id"], world["district_id"])
    page = web.text(f"/projects/{project_id}")
    assert '<option selected value="negotiating">' in page  # the next stage is offered
    before = count_rows(conn, *TABLES)
    response = web.post(f"/projects/{project_id}/stage", {"date": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert error_of(page, "stage") and error_of(page, "date")
    assert count_rows(conn, *TABLES) == before


def test_the_timeline_shows_every_move(web, conn, world):
    project_id = f.project(conn, world["chain_id"], world["district_id"])
    web.post(f"/projects/{project_id}/stage", {"stage": "negotiating", "date": "2025-02-01"})
    web.post(
        f"/projects/{project_id}/stage",
        {
            "stage": "dropped",
            "date": "2025-06-30",
            "reason": "投资方资金链断裂",
            "note": "已告知区里",
        },
    )
    page = web.text(f"/projects/{project_id}")
    timeline = page.split('class="timeline"', 1)[1].split("</ol>", 1)[0]
    assert timeline.count("<li>") == 3
    assert "投资方资金链断裂" in timeline
    assert "已告知区里" in timeline
    assert "web-editor" in timeline
    assert "2025" in timeline


# --- the list, roles, escaping -------------------------------------------------------------------


def test_the_list_filters_by_stage_and_counts(web, conn, world):
    f.project(conn, world["chain_id"], world["district_id"], name="储备中的项目")
    f.project(
        conn,
        world["chain_id"],
        world["district_id"],
        name="已签约的项目",
        stage="signed",
        signed_on=date(2025, 3, 1),
        agreed_investment_cny_100m=20,
    )
    page = web.text("/projects?stage=signed")
    assert "已签约的项目" in page and "储备中的项目" not in page
    assert "1" in page.split('class="count"')[1][:40]
    page = web.text(f"/projects?chain_id={world['chain_id']}&ordering=-agreed_investment_cny_100m")
    assert page.index("已签约的项目") < page.index("储备中的项目")
    assert "/projects/add" in page


def test_export_of_the_filtered_list(web, conn, world):
    f.project(conn, world["chain_id"], world["district_id"], name="储备中的项目")
    response = web.get("/projects/export?format=csv&stage=lead")
    assert response.status_code == 200
    assert "储备中的项目" in response.get_data(as_text=True)


def test_a_viewer_reads_but_cannot_add_or_move(web_as, conn, world):
    project_id = f.project(conn, world["chain_id"], world["district_id"])
    viewer = web_as("viewer")
    listing = viewer.text("/projects")
    assert "/projects/add" not in listing
    detail = viewer.text(f"/projects/{project_id}")
    assert f"/projects/{project_id}/stage" not in detail
    assert f"/projects/{project_id}/edit" not in detail
    before = count_rows(conn, *TABLES)
    assert viewer.get("/projects/add").status_code == 403
    assert viewer.post("/projects/add", form(world)).status_code == 403
    response = viewer.post(
        f"/projects/{project_id}/stage", {"stage": "negotiating", "date": "2025-02-01"}
    )
    assert response.status_code == 403
    assert count_rows(conn, *TABLES) == before


def test_a_project_name_shows_as_text(web, conn, world):
    project_id = f.project(
        conn, world["chain_id"], world["district_id"], name="<script>alert(1)</script>"
    )
    for page in (web.text("/projects"), web.text(f"/projects/{project_id}")):
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- edit and delete -----------------------------------------------------------------------------


def test_edit_changes_fields_but_not_the_stage(web, conn, world):
    project_id = created_id(web.post("/projects/add", form(world)))
    page = web.text(f"/projects/{project_id}/edit")
    assert 'name="stage"' not in page
    assert f"济南测试投资有限公司 #{world['investor_id']}" in page
    version = page.split('name="version" type="hidden" value="')[1].split('"')[0]
    edited = form(
        world, version=version, investor_id="另一家虚构投资方", funds_arrived_cny_100m="5"
    )
    for name in ("stage", "stage_reason", "stage_note"):
        edited.pop(name)
    response = web.post(f"/projects/{project_id}/edit", edited)
    assert response.status_code == 302, response.get_data(as_text=True)
    row = project_row(conn, project_id)
    assert (row["investor_id"], row["investor_name"]) == (None, "另一家虚构投资方")
    assert str(row["funds_arrived_cny_100m"]) == "5.0000"
    assert row["stage"] == "signed"
    assert "另一家虚构投资方" in web.text(f"/projects/{project_id}/edit")


def test_delete_asks_first(web, conn, world):
    project_id = f.project(conn, world["chain_id"], world["district_id"])
    assert '<form method="post">' in web.text(f"/projects/{project_id}/delete")
    response = web.post(f"/projects/{project_id}/delete")
    assert response.status_code == 302
    assert count_rows(conn, *TABLES) == {"project": 0, "project_stage_event": 0}


def test_the_original_project_picker_suggests_by_name(web, conn, world):
    project_id = f.project(conn, world["chain_id"], world["district_id"], name="济南测试电池一期")
    results = web.get("/pick/projects?q=电池").get_json()["results"]
    assert [r["value"] for r in results] == [f"济南测试电池一期 #{project_id}"]


def test_the_contact_phone_is_entered_shown_and_served(web, api, conn, world):
    """A plain field added with its label written once (chaindb.db.labelled): the form, the
    detail page, the API and the database all know it."""
    response = web.post(
        "/projects/add",
        form(world, contact_phone="0531-88886666 转 203", stage="lead", signed_on=""),
    )
    project_id = created_id(response)
    assert project_row(conn, project_id)["contact_phone"] == "0531-88886666 转 203"
    page = web.text(f"/projects/{project_id}")
    assert "联系电话" in page and "0531-88886666 转 203" in page
    assert api.get(f"/api/v1/projects/{project_id}").get_json()["contact_phone"] == (
        "0531-88886666 转 203"
    )
    edited = api.patch(f"/api/v1/projects/{project_id}", {"contact_phone": None})
    assert edited.status_code == 200 and edited.get_json()["contact_phone"] is None
    too_long = api.patch(f"/api/v1/projects/{project_id}", {"contact_phone": "1" * 201})
    assert too_long.status_code == 422
    assert too_long.get_json()["error"]["details"][0]["field"] == "contact_phone"


def test_a_labelled_field_says_its_words_everywhere(app, conn):
    """The label and comment given once in the model are the form's label, the pages' columns,
    the API's description and the database's comment."""
    from chaindb.api.resource import Resource
    from chaindb.projects.forms import ProjectAddForm
    from chaindb.projects.views import pages

    comment = conn.execute(
        text(
            "SELECT col_description('project'::regclass, attnum) FROM pg_attribute "
            "WHERE attrelid = 'project'::regclass AND attname = 'contact_phone'"
        )
    ).scalar_one()
    schema = Resource.registry["projects"].read.model_json_schema()
    assert schema["properties"]["contact_phone"]["description"] == comment
    with app.test_request_context("/?lang=zh"):
        form_ = ProjectAddForm(meta={"csrf": False})
        assert str(form_.contact_phone.label.text) == "联系电话"
        shown = {c.name: str(c.label) for c in pages.detail_columns or []}
        assert shown["contact_phone"] == "联系电话"
        exported = {c.name: str(c.header()) for c in Resource.registry["projects"].sheet_columns()}
        assert "联系电话" in exported["contact_phone"]
