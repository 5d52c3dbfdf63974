"""The generic pages, through the districts: list, filters, create, edit, delete, import, export."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import text

from tests.conftest import count_rows

LIXIA = {"code": "370102", "is_official_code": "y", "name_zh": "历下区", "kind": "district"}


def _add(conn, code="370102", name="历下区", kind="district"):
    return conn.execute(
        text(
            "INSERT INTO district (code, is_official_code, name_zh, kind) "
            "VALUES (:code, :official, :name, :kind) RETURNING id"
        ),
        {"code": code, "official": kind != "zone", "name": name, "kind": kind},
    ).scalar_one()


def test_create_shows_the_new_record(web, conn):
    response = web.post("/districts/new", LIXIA)
    assert response.status_code == 302, response.get_data(as_text=True)
    page = web.text(response.location)
    assert "历下区" in page
    assert "370102" in page
    assert (
        conn.execute(text("SELECT actor FROM change_log WHERE table_name = 'district'")).scalar()
        == "web-editor"
    )


def test_a_refused_form_comes_back_with_what_was_typed_and_the_reason(web, conn):
    _add(conn)
    before = count_rows(conn, "district")
    response = web.post("/districts/new", {**LIXIA, "name_zh": "另一个名字"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'value="另一个名字"' in page
    assert 'class="field-error"' in page
    assert count_rows(conn, "district") == before


def test_required_fields_are_named(web, conn):
    response = web.post("/districts/new", {"code": "", "name_zh": "", "kind": "district"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.count('class="field-error"') >= 2


def test_list_filters_sorts_and_counts(web, conn):
    _add(conn)
    _add(conn, "GXQ", "高新区", "zone")
    page = web.text("/districts?kind=zone")
    assert "高新区" in page and "历下区" not in page
    page = web.text("/districts?ordering=-code")
    assert page.index("历下区") < page.index("高新区") or page.index("GXQ") < page.index("370102")
    assert "2" in web.text("/districts").split('class="count"')[1][:40]


def test_a_bad_filter_is_explained_not_a_500(web):
    response = web.get("/districts?sort_order=abc")
    assert response.status_code == 422
    assert "sort_order" in response.get_data(as_text=True)


def test_edit_and_the_lost_update_guard(web, conn):
    district = _add(conn)
    form = web.text(f"/districts/{district}/edit")
    version = form.split('name="version" type="hidden" value="')[1].split('"')[0]
    changed = {**LIXIA, "name_en": "Lixia District", "version": version}
    response = web.post(f"/districts/{district}/edit", changed)
    assert response.status_code == 302
    # The same old version again: someone changed it in between.
    response = web.post(f"/districts/{district}/edit", {**changed, "name_en": "Other"})
    assert response.status_code == 412
    assert conn.execute(text("SELECT name_en FROM district")).scalar() == "Lixia District"


def test_delete_asks_first_and_refuses_while_referenced(web, conn):
    district = _add(conn)
    assert '<form method="post">' in web.text(f"/districts/{district}/delete")
    conn.execute(
        text("INSERT INTO enterprise (name_zh, district_id) VALUES ('某企业', :d)"), {"d": district}
    )
    page = web.text(f"/districts/{district}/delete")
    assert "enterprise" in page
    response = web.post(f"/districts/{district}/delete")
    assert response.status_code == 409
    conn.execute(text("DELETE FROM enterprise"))
    response = web.post(f"/districts/{district}/delete")
    assert response.status_code == 302
    assert count_rows(conn, "district") == {"district": 0}


def test_import_checks_then_confirms(web, conn, tmp_path, app):
    app.config["SETTINGS"] = app.config["SETTINGS"].__class__(
        **{**app.config["SETTINGS"].__dict__, "data_dir": tmp_path}
    )
    csv = "code,is_official_code,name_zh,kind\n370102,true,历下区,district\nGXQ,false,高新区,zone\n"
    response = web.post(
        "/districts/import",
        {"file": (io.BytesIO(csv.encode()), "d.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert count_rows(conn, "district") == {"district": 0}
    token = page.split('name="upload" type="hidden" value="')[1].split('"')[0]
    response = web.post("/districts/import", {"upload": token})
    assert response.status_code == 302
    assert count_rows(conn, "district") == {"district": 2}


def test_import_with_a_bad_row_writes_nothing_and_says_which(web, conn, tmp_path, app):
    app.config["SETTINGS"] = app.config["SETTINGS"].__class__(
        **{**app.config["SETTINGS"].__dict__, "data_dir": tmp_path}
    )
    csv = (
        "code,is_official_code,name_zh,kind\n370102,true,历下区,district\nGXQ,false,高新区,planet\n"
    )
    response = web.post(
        "/districts/import",
        {"file": (io.BytesIO(csv.encode()), "d.csv")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert 'class="error"' in page
    assert "类型" in page  # the field by its label
    assert 'name="upload"' not in page
    assert count_rows(conn, "district") == {"district": 0}


def test_export_of_the_filtered_list_opens(web, conn):
    _add(conn)
    _add(conn, "GXQ", "高新区", "zone")
    response = web.get("/districts/export?format=xlsx&kind=zone")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = next(n for n, row in enumerate(rows) if row[0] == "编号")  # under the title
    assert len(rows) == header + 2
    assert "高新区" in rows[header + 1] and "功能区" in rows[header + 1]  # the kind by its name
    raw = web.get("/districts/export?format=xlsx&kind=zone&layout=raw")
    rows = list(load_workbook(io.BytesIO(raw.data)).active.iter_rows(values_only=True))
    assert len(rows) == 2 and "高新区" in rows[1] and "zone" in rows[1]
