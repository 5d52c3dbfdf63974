"""Review before it counts: a district office's project is a draft, submitted, returned with an
opinion, corrected, approved; only then does it enter the reports, the KPIs and the monthly
report. The database keeps the rules when the application is not asked; evidence files are
checked by content and size."""

from __future__ import annotations

import hashlib
import io
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from chaindb.reports.refresh import refresh_reports
from tests import factories_sql as f
from tests.conftest import Offices, Web, _password_hash, count_rows
from tests.test_units_scopes import _project

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\0" * 40
# A Windows executable renamed to look like a contract.
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\0" * 48 + b"PE\0\0"


@pytest.fixture
def reviewers(offices: Offices, session: Session) -> Offices:
    """The offices, with a reviewer in the city bureau and one in the first chain's office."""
    from chaindb.auth.service import create_token, create_user

    for name, unit in (("city-reviewer", "u_city"), ("c1-reviewer", "u_c1")):
        user = create_user(
            session=session, username=name, role="reviewer", password=None,
            unit=offices.ids[unit],
        )  # fmt: skip
        user.password_hash = _password_hash()
        offices.tokens[name] = create_token(session=session, user=user, name="tests")[1]
    session.commit()
    return offices


def _review(client, who: Offices, user: str, project: int, action: str, opinion=None):
    body = {"action": action} if opinion is None else {"action": action, "opinion": opinion}
    return client.post(f"/api/v1/projects/{project}/review", json=body, headers=who.headers(user))


def _figures(conn: Connection, chain_id: int, month: date) -> dict[str, object]:
    """What the reports say of the chain and the month, refreshed now."""
    refresh_reports(conn)
    overview = conn.execute(
        text(
            "SELECT projects, projects_reported, agreed_investment_cny_100m "
            "FROM report_chain_overview WHERE chain_id = :c"
        ),
        {"c": chain_id},
    ).one()
    pipeline = conn.execute(
        text(
            "SELECT COALESCE(sum(projects), 0), COALESCE(sum(projects_reported), 0) "
            "FROM report_project_pipeline WHERE month = :m AND stage = 'signed'"
        ),
        {"m": month},
    ).one()
    milestones = conn.execute(
        text("SELECT count(*) FROM report_project_milestones WHERE chain_id = :c"),
        {"c": chain_id},
    ).scalar_one()
    matrix = conn.execute(
        text(
            "SELECT sum(projects), sum(projects_reported) FROM report_district_chain_matrix "
            "WHERE chain_id = :c"
        ),
        {"c": chain_id},
    ).one()
    rates = conn.execute(
        text(
            "SELECT COALESCE(sum(signed_projects), 0), COALESCE(sum(signed_projects_reported), 0) "
            "FROM report_project_rates WHERE month = :m"
        ),
        {"m": month},
    ).one()
    monthly = conn.execute(
        text("SELECT sum(signed_month) FROM monthly_progress(:m)"), {"m": month}
    ).scalar_one()
    return {
        "overview": tuple(overview),
        "pipeline": tuple(pipeline),
        "milestones": milestones,
        "matrix": tuple(matrix),
        "rates": tuple(rates),
        "monthly": monthly,
    }


def test_a_project_counts_only_once_approved_after_return_and_correction(client, reviewers, conn):
    ids, month = reviewers.ids, date.today().replace(day=1)
    chain = f.chain(conn)
    created = client.post(
        "/api/v1/projects",
        json=_project(
            reviewers, "c2", "d1", chain_id=chain, stage="signed", signed_on=str(date.today()),
            agreed_investment_cny_100m=8,
        ),
        headers=reviewers.headers("d1-editor"),
    )  # fmt: skip
    assert created.status_code == 201, created.get_json()
    project = created.get_json()["id"]
    assert created.get_json()["review_status"] == "draft"
    before = _figures(conn, chain, month)
    assert before["overview"] == (0, 1, 0)  # reported beside, not counted
    assert before["milestones"] == 0

    # Submitted: locked for its unit, not yet counted.
    assert _review(client, reviewers, "d1-editor", project, "submit").status_code == 200
    locked = client.patch(
        f"/api/v1/projects/{project}", json={"notes": "x"}, headers=reviewers.headers("d1-editor")
    )
    assert locked.status_code == 409
    assert locked.get_json()["error"]["details"][0]["field"] == "review_status"
    # The district office does not review; a return needs an opinion.
    assert _review(client, reviewers, "d1-editor", project, "approve").status_code == 403
    no_opinion = _review(client, reviewers, "city-reviewer", project, "return", "  ")
    assert no_opinion.status_code == 422
    assert no_opinion.get_json()["error"]["details"][0]["field"] == "opinion"
    returned = _review(client, reviewers, "city-reviewer", project, "return", "请补充签约合同")
    assert returned.status_code == 200
    assert returned.get_json()["review_status"] == "returned"
    # The unit sees it in its 退回 list with the opinion; corrects it and submits again.
    back = client.get(
        "/api/v1/reviews?status=returned", headers=reviewers.headers("d1-editor")
    ).get_json()
    assert [(r["id"], r["opinion"]) for r in back] == [(project, "请补充签约合同")]
    fixed = client.patch(
        f"/api/v1/projects/{project}",
        json={"agreed_investment_cny_100m": 9},
        headers=reviewers.headers("d1-editor"),
    )
    assert fixed.status_code == 200, fixed.get_json()
    assert _review(client, reviewers, "d1-editor", project, "submit").status_code == 200
    waiting = client.get(
        "/api/v1/reviews?status=submitted", headers=reviewers.headers("city-reviewer")
    ).get_json()
    assert project in [r["id"] for r in waiting]
    assert _figures(conn, chain, month)["overview"] == (0, 1, 0)

    approved = _review(client, reviewers, "city-reviewer", project, "approve", "同意")
    assert approved.get_json()["review_status"] == "approved"
    after = _figures(conn, chain, month)
    assert after["overview"] == (1, 1, Decimal("9.0000"))
    assert after["pipeline"][0] == before["pipeline"][0] + 1
    assert after["milestones"] == 1
    assert (before["matrix"], after["matrix"]) == ((0, 1), (1, 1))
    assert after["rates"][0] == before["rates"][0] + 1
    assert after["rates"][1] == before["rates"][1]  # reported all along
    assert after["monthly"] == before["monthly"] + 1
    history = client.get(
        f"/api/v1/projects/{project}/reviews", headers=reviewers.headers("d1-editor")
    ).get_json()
    assert [(h["action"], h["from_status"], h["to_status"]) for h in history] == [
        ("submit", "draft", "submitted"),
        ("return", "submitted", "returned"),
        ("submit", "returned", "submitted"),
        ("approve", "submitted", "approved"),
    ]
    assert history[1]["opinion"] == "请补充签约合同"
    assert history[1]["actor"] == "city-reviewer"
    assert history[1]["unit_id"] == ids["u_city"]


def test_an_approved_project_changed_counts_as_approved_until_approved_again(
    client, reviewers, conn
):
    ids = reviewers.ids
    chain = f.chain(conn)
    project = f.project(conn, chain, ids["d1"], agreed_investment_cny_100m=5)
    month = date.today().replace(day=1)
    assert _figures(conn, chain, month)["overview"] == (1, 1, Decimal("5.0000"))
    changed = client.patch(
        f"/api/v1/projects/{project}",
        json={"agreed_investment_cny_100m": 50},
        headers=reviewers.headers("d1-editor"),
    )
    assert changed.status_code == 200
    assert changed.get_json()["review_status"] == "draft"
    # The city's totals keep the approved 5 亿元 until the 50 is reviewed.
    overview = conn.execute(
        text(
            "SELECT agreed_investment_cny_100m, agreed_investment_reported_cny_100m "
            "FROM report_chain_overview WHERE chain_id = :c"
        ),
        {"c": chain},
    )
    refresh_reports(conn)
    overview = conn.execute(
        text(
            "SELECT agreed_investment_cny_100m, agreed_investment_reported_cny_100m "
            "FROM report_chain_overview WHERE chain_id = :c"
        ),
        {"c": chain},
    ).one()
    assert tuple(overview) == (Decimal("5.0000"), Decimal("50.0000"))
    _review(client, reviewers, "d1-editor", project, "submit")
    _review(client, reviewers, "city-reviewer", project, "approve")
    refresh_reports(conn)
    assert conn.execute(
        text("SELECT agreed_investment_cny_100m FROM report_chain_overview WHERE chain_id = :c"),
        {"c": chain},
    ).scalar_one() == Decimal("50.0000")


def test_what_was_reviewed_stays_and_a_stale_page_approves_nothing(client, reviewers, conn, app):
    ids = reviewers.ids
    as_d1 = reviewers.headers("d1-editor")
    approved = f.project(conn, ids["c2"], ids["d1"])
    # Edited (now a draft), it still has approved figures: its unit cannot delete it.
    edited = client.patch(f"/api/v1/projects/{approved}", json={"notes": "改"}, headers=as_d1)
    assert edited.get_json()["review_status"] == "draft"
    kept = client.delete(f"/api/v1/projects/{approved}", headers=as_d1)
    assert kept.status_code == 409
    # Submitted then withdrawn: its review history keeps it too.
    reported = f.project(conn, ids["c2"], ids["d1"], review_status="draft")
    _review(client, reviewers, "d1-editor", reported, "submit")
    _review(client, reviewers, "d1-editor", reported, "withdraw")
    assert client.delete(f"/api/v1/projects/{reported}", headers=as_d1).status_code == 409
    # A draft never reported is its unit's to delete.
    fresh = f.project(conn, ids["c2"], ids["d1"], review_status="draft")
    assert client.delete(f"/api/v1/projects/{fresh}", headers=as_d1).status_code == 204
    # Evidence goes with a draft or a returned project, never onto an approved one.
    onto_approved = f.project(conn, ids["c2"], ids["d1"])
    late = _upload(client, reviewers, "d1-editor", onto_approved, "合同.pdf", PDF)
    assert late.status_code == 409
    # The reviewer's page was opened before the unit withdrew, changed and submitted again.
    city = _signed_in(app, "city-reviewer")
    _review(client, reviewers, "d1-editor", reported, "submit")
    page = city.text(f"/projects/{reported}")
    seen = page.split('name="seen" value="')[1].split('"')[0]
    _review(client, reviewers, "d1-editor", reported, "withdraw")
    _review(client, reviewers, "d1-editor", reported, "submit")
    stale = city.post(f"/projects/{reported}/review", {"action": "approve", "seen": seen})
    assert stale.status_code == 409
    status = conn.execute(
        text("SELECT review_status FROM project WHERE id = :id"), {"id": reported}
    ).scalar_one()
    assert status == "submitted"


def test_a_chain_office_reviews_its_chain_only_where_the_setting_says(client, reviewers, conn):
    ids = reviewers.ids
    project = f.project(conn, ids["c1"], ids["d2"], review_status="submitted")
    refused = _review(client, reviewers, "c1-reviewer", project, "approve")
    assert refused.status_code == 403
    assert "chain-test-1办公室" in refused.get_json()["error"]["message"]
    conn.execute(
        text("UPDATE unit SET reviews_chain_projects = true WHERE id = :u"), {"u": ids["u_c1"]}
    )
    assert _review(client, reviewers, "c1-reviewer", project, "approve").status_code == 200
    other = f.project(conn, ids["c2"], ids["d2"], review_status="submitted")
    # Another chain's project is outside its scope altogether.
    assert _review(client, reviewers, "c1-reviewer", other, "approve").status_code == 404


def _as_unit(conn: Connection, unit: int) -> None:
    conn.execute(
        text(
            "SELECT set_config('role', 'chaindb_app', true), "
            "set_config('chaindb.unit_id', :unit, true), set_config('chaindb.actor', 'sql', true)"
        ),
        {"unit": str(unit)},
    )


def _refused(conn: Connection, sql: str, params: dict, match: str) -> None:
    savepoint = conn.begin_nested()
    with pytest.raises(DBAPIError, match=match):
        conn.execute(text(sql), params)
    savepoint.rollback()


def test_the_database_keeps_the_review_rules_when_the_application_is_not_asked(conn, reviewers):
    ids = reviewers.ids
    draft = f.project(conn, ids["c2"], ids["d1"], review_status="draft")
    submitted = f.project(conn, ids["c2"], ids["d1"], review_status="submitted")
    outer = conn.begin_nested()
    _as_unit(conn, ids["u_d1"])
    _refused(conn, "UPDATE project SET review_status = 'approved' WHERE id = :id",
             {"id": draft}, "its review status changes by review")  # fmt: skip
    _refused(conn, "UPDATE project SET notes = 'x' WHERE id = :id", {"id": submitted},
             "submitted for review")  # fmt: skip
    _refused(conn, "INSERT INTO project_review (project_id, action) VALUES (:id, 'approve')",
             {"id": submitted}, "does not review")  # fmt: skip
    _refused(conn, "INSERT INTO project_review (project_id, action) VALUES (:id, 'approve')",
             {"id": draft}, "cannot be given the review action approve")  # fmt: skip
    _refused(conn, "UPDATE project_approved SET agreed_investment_cny_100m = 1", {},
             "permission denied")  # fmt: skip
    _refused(conn, "DELETE FROM project WHERE id = :id", {"id": submitted},
             "only the city bureau deletes it")  # fmt: skip
    # Its own draft it submits, in plain SQL too.
    conn.execute(
        text("INSERT INTO project_review (project_id, action) VALUES (:id, 'submit')"),
        {"id": draft},
    )
    outer.rollback()
    outer = conn.begin_nested()
    _as_unit(conn, ids["u_city"])
    _refused(conn, "INSERT INTO project_review (project_id, action) VALUES (:id, 'return')",
             {"id": submitted}, "return_has_opinion")  # fmt: skip
    conn.execute(
        text("INSERT INTO project_review (project_id, action) VALUES (:id, 'approve')"),
        {"id": submitted},
    )
    _refused(conn, "UPDATE project_review SET opinion = 'later' WHERE project_id = :id",
             {"id": submitted}, "permission denied")  # fmt: skip
    outer.rollback()
    approved = conn.execute(
        text("SELECT review_status FROM project WHERE id = :id"), {"id": submitted}
    ).scalar_one()
    assert approved == "submitted"  # all undone with the savepoint


# --- evidence ------------------------------------------------------------------------------------


def _upload(client, who: Offices, user, project, name, content, **form):
    """A multipart upload, encoded here in memory (the test client's own encoder spools a large
    body to a temporary file that it does not close)."""
    from io import BytesIO

    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    boundary, body = encode_multipart(
        {**form, "file": FileStorage(BytesIO(content), filename=name)}
    )
    return client.post(
        f"/api/v1/projects/{project}/evidence",
        data=body,
        headers=who.headers(user),
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def test_evidence_is_checked_by_content_and_size_and_read_by_whoever_reads_the_project(
    client, reviewers, conn
):
    ids = reviewers.ids
    project = f.project(conn, ids["c2"], ids["d1"], review_status="draft")
    made = _upload(client, reviewers, "d1-editor", project, "签约合同.pdf", PDF,
                   kind="contract", stage="signed")  # fmt: skip
    assert made.status_code == 201, made.get_json()
    row = made.get_json()
    assert row["media_type"] == "application/pdf"
    assert row["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert row["size_bytes"] == len(PDF)
    # A name with control characters and a folder: kept printable, downloadable.
    odd = _upload(client, reviewers, "d1-editor", project, "scans/扫描/合同\t\x1b[31m\x7f.pdf", PDF)
    assert odd.status_code == 201, odd.get_json()
    assert odd.get_json()["file_name"] == "合同[31m.pdf"
    fetched = client.get(f"/api/v1/projects/{project}/evidence/{odd.get_json()['id']}",
                         headers=reviewers.headers("d1-editor"))  # fmt: skip
    assert fetched.status_code == 200
    assert fetched.headers["Content-Disposition"].endswith("%E5%90%88%E5%90%8C%5B31m.pdf")
    # A PNG named .jpg is a PNG.
    png = _upload(client, reviewers, "d1-editor", project, "现场.jpg", PNG, kind="photo")
    assert png.get_json()["media_type"] == "image/png"
    before = count_rows(conn, "project_evidence")
    renamed = _upload(client, reviewers, "d1-editor", project, "合同.pdf", EXE, kind="contract")
    assert renamed.status_code == 415
    assert renamed.get_json()["error"]["details"][0]["field"] == "file"
    too_big = _upload(client, reviewers, "d1-editor", project, "大.pdf",
                      PDF + b"\0" * (10 * 1024 * 1024))  # fmt: skip
    assert too_big.status_code == 413
    assert count_rows(conn, "project_evidence") == before
    # The same bytes come back, as an attachment, to whoever reads the project.
    for user in ("d1-editor", "city-reviewer"):
        got = client.get(f"/api/v1/projects/{project}/evidence/{row['id']}",
                         headers=reviewers.headers(user))  # fmt: skip
        assert got.status_code == 200
        assert got.data == PDF
        assert got.headers["Content-Disposition"].startswith("attachment;")
        assert got.headers["X-Content-Type-Options"] == "nosniff"
    # Not to another district's office, which does not read the project.
    hidden = client.get(f"/api/v1/projects/{project}/evidence/{row['id']}",
                        headers=reviewers.headers("c1-editor"))  # fmt: skip
    assert hidden.status_code == 404
    # Submitted: the evidence is what is reviewed.
    _review(client, reviewers, "d1-editor", project, "submit")
    late = _upload(client, reviewers, "d1-editor", project, "补充.pdf", PDF)
    assert late.status_code == 409
    kept = client.delete(f"/api/v1/projects/{project}/evidence/{row['id']}",
                         headers=reviewers.headers("d1-editor"))  # fmt: skip
    assert kept.status_code == 409
    listed = client.get(f"/api/v1/projects/{project}/evidence",
                        headers=reviewers.headers("city-reviewer")).get_json()  # fmt: skip
    assert {e["file_name"] for e in listed} == {"签约合同.pdf", "现场.jpg", "合同[31m.pdf"}


def test_evidence_refused_by_the_database_itself(conn, reviewers):
    ids = reviewers.ids
    project = f.project(conn, ids["c2"], ids["d1"], review_status="draft")
    sql = (
        "INSERT INTO project_evidence (project_id, kind, file_name, media_type, content, "
        "uploaded_by) VALUES (:p, 'contract', 'x.pdf', 'application/pdf', :c, 'sql')"
    )
    _refused(conn, sql, {"p": project, "c": EXE}, "content_matches_type")
    big = PDF + b"\0" * (10 * 1024 * 1024)
    _refused(conn, sql, {"p": project, "c": big}, "size_within_limit")


# --- the monthly report ----------------------------------------------------------------------


def test_the_monthly_report_counts_approved_projects_above_the_threshold(conn, reviewers):
    ids = reviewers.ids
    chain = ids["c2"]
    this_month = date.today().replace(day=1)
    year = this_month.year
    early = date(year, 1, 1)
    rows = [
        # (district, agreed, arrived, signed, started, review)
        ("d1", 8, 2, this_month, None, "approved"),
        ("d1", 3, 1, this_month, None, "approved"),
        ("d1", 20, 5, early, this_month, "approved"),
        ("d1", 50, 10, this_month, None, "submitted"),  # not yet counted
        ("d2", 6, 0, early, None, "approved"),
        ("d1", 7, 1, date(year - 1, 12, 1), None, "approved"),  # last year
    ]
    for district, agreed, arrived, signed, started, review in rows:
        f.project(
            conn, chain, ids[district], agreed_investment_cny_100m=agreed,
            funds_arrived_cny_100m=arrived, signed_on=signed, construction_started_on=started,
            stage="under_construction" if started else "signed", review_status=review,
        )  # fmt: skip

    def expected(district: str, threshold: float, in_month: bool, stage: str):
        picked = [
            r for r in rows
            if r[0] == district and r[5] == "approved" and r[1] >= threshold
            and (when := (r[3] if stage == "signed" else r[4])) is not None
            and when.year == year and when <= this_month.replace(day=28)
            and (not in_month or when >= this_month)
        ]  # fmt: skip
        return len(picked), sum(r[1] for r in picked), sum(r[2] for r in picked)

    for threshold in (0, 5):
        got = {
            r.district_id: r
            for r in conn.execute(
                text("SELECT * FROM monthly_progress(:m, :t)"), {"m": this_month, "t": threshold}
            )
        }
        for district in ("d1", "d2"):
            r = got[ids[district]]
            assert (r.signed_month, r.signed_month_agreed_cny_100m,
                    r.signed_month_arrived_cny_100m) == expected(district, threshold, True, "signed")  # fmt: skip
            assert (r.signed_ytd, r.signed_ytd_agreed_cny_100m,
                    r.signed_ytd_arrived_cny_100m) == expected(district, threshold, False, "signed")  # fmt: skip
            assert (r.started_month, r.started_month_agreed_cny_100m) == expected(
                district, threshold, True, "started"
            )[:2]
    view = conn.execute(
        text(
            "SELECT signed_ytd FROM report_monthly_progress WHERE month = :m AND district_id = :d"
        ),
        {"m": this_month, "d": ids["d1"]},
    ).scalar_one()
    assert view == expected("d1", 0, False, "signed")[0]


# --- the pages -----------------------------------------------------------------------------------


def _signed_in(app, user: str) -> Web:
    browser = Web(app.test_client())
    assert browser.login(user).status_code == 302
    return browser


def test_the_pages_submit_return_with_an_opinion_and_approve(app, reviewers, conn):
    ids = reviewers.ids
    project = f.project(conn, ids["c2"], ids["d1"], review_status="draft", name="页面审核项目")
    district, city = _signed_in(app, "d1-editor"), _signed_in(app, "city-reviewer")
    page = district.text(f"/projects/{project}")
    assert 'value="submit"' in page and 'value="approve"' not in page
    assert district.post(f"/projects/{project}/review", {"action": "submit"}).status_code == 302

    def approved_card(browser: Web) -> str:
        page = browser.text("/?lang=en")
        card = page.split('href="/projects?review_status=approved"')[1].split("</a>")[0]
        return card.split('class="figure">')[1].split("<")[0]

    counted = approved_card(city)
    # The reviewer's navigation counts it; the 待审核 list shows it.
    home = city.text("/")
    assert 'href="/reviews"' in home and 'class="badge"' in home
    assert "页面审核项目" in city.text("/reviews")
    page = city.text(f"/projects/{project}")
    assert 'value="approve"' in page and 'value="return"' in page
    # No opinion: the form says so beside the field, and nothing changed.
    refused = city.post(f"/projects/{project}/review", {"action": "return", "opinion": ""})
    assert refused.status_code == 422
    assert "opinion" in refused.get_data(as_text=True).lower() or "意见" in refused.get_data(
        as_text=True
    )
    status = "SELECT review_status FROM project WHERE id = :id"
    assert conn.execute(text(status), {"id": project}).scalar_one() == "submitted"
    returned = city.post(
        f"/projects/{project}/review", {"action": "return", "opinion": "<b>缺少合同</b>"}
    )
    assert returned.status_code == 302
    listed = district.text("/reviews")
    assert "&lt;b&gt;缺少合同&lt;/b&gt;" in listed  # escaped, never markup
    assert district.post(f"/projects/{project}/review", {"action": "submit"}).status_code == 302
    assert city.post(f"/projects/{project}/review", {"action": "approve"}).status_code == 302
    assert conn.execute(text(status), {"id": project}).scalar_one() == "approved"
    assert int(approved_card(city).replace(",", "")) == int(counted.replace(",", "")) + 1
    # A district editor may not approve even by posting the form by hand, nor touch another
    # unit's project (not found in its scope), nor attach evidence to it.
    other = f.project(conn, ids["c2"], ids["d1"], review_status="submitted")
    forged = district.post(f"/projects/{other}/review", {"action": "approve"})
    assert forged.status_code == 403
    theirs = f.project(conn, ids["c2"], ids["d2"], review_status="draft")
    assert district.post(f"/projects/{theirs}/review", {"action": "submit"}).status_code == 404
    assert district.post(f"/projects/{theirs}/evidence", {}).status_code == 404
    assert (
        conn.execute(text(status), {"id": theirs}).scalar_one(),
        conn.execute(text(status), {"id": other}).scalar_one(),
    ) == ("draft", "submitted")


def test_the_monthly_report_page_and_its_workbook(app, reviewers, conn):
    from openpyxl import load_workbook

    ids = reviewers.ids
    month = date.today().replace(day=1)
    f.project(conn, ids["c2"], ids["d1"], stage="signed", signed_on=month,
              agreed_investment_cny_100m=12, funds_arrived_cny_100m=3)  # fmt: skip
    f.project(conn, ids["c2"], ids["d1"], stage="signed", signed_on=month,
              agreed_investment_cny_100m=2)  # fmt: skip
    city = _signed_in(app, "city-reviewer")
    page = city.text(f"/reports/monthly-progress?month={month:%Y-%m}&threshold=5")
    assert f'data-district="{ids["d1"]}"' in page
    book = city.get(f"/reports/monthly-progress?month={month:%Y-%m}&threshold=5&format=xlsx")
    assert book.status_code == 200
    sheet = load_workbook(io.BytesIO(book.data)).active
    assert sheet["A1"].value == f"招商引资工作进度表（{month.year}年{month.month}月）"
    assert sheet["A2"].value == "填报单位：市投资促进局"
    assert sheet["E2"].value == f"报送日期：{date.today().isoformat()}"
    assert (sheet["B3"].value, sheet["B4"].value, sheet["B5"].value) == (
        "签约",
        "本月",
        "项目数（个）",
    )
    rows = {r[0]: r for r in sheet.iter_rows(min_row=6, values_only=True)}
    unit = conn.execute(
        text("SELECT name_zh FROM unit WHERE id = :u"), {"u": ids["u_d1"]}
    ).scalar_one()
    assert rows[unit][1:4] == (1, 12.0, 3.0)  # the 2 亿元 project is below the threshold
    # A district office reports its own unit only.
    district = _signed_in(app, "d1-editor")
    own = district.text(f"/reports/monthly-progress?month={month:%Y-%m}")
    assert f'data-district="{ids["d1"]}"' in own
    assert f'data-district="{ids["d2"]}"' not in own
    for threshold in ("-1", "sNaN", "NaN", "Infinity", "abc"):
        bad = city.get(f"/reports/monthly-progress?threshold={threshold}")
        assert bad.status_code == 422, threshold
    assert city.get("/reports/monthly-progress?month=2026-13").status_code == 422


def test_a_stage_move_is_reviewed_with_the_project(client, reviewers, conn):
    ids = reviewers.ids
    project = f.project(conn, ids["c2"], ids["d1"], stage="signed", signed_on=date(2026, 1, 5))
    as_d1 = reviewers.headers("d1-editor")

    def events() -> list[tuple[str, str]]:
        got = client.get(f"/api/v1/projects/{project}/stage-events", headers=as_d1).get_json()
        return [(e["to_stage"], e["review_status"]) for e in got]

    def approved_stages() -> set[str]:
        return set(
            conn.execute(
                text("SELECT stage FROM report_project_milestones WHERE project_id = :p"),
                {"p": project},
            ).scalars()
        )

    assert events() == [("signed", "approved")]
    moved = client.post(
        f"/api/v1/projects/{project}/stage",
        json={"stage": "under_construction", "date": "2026-03-01"},
        headers=as_d1,
    )
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["review_status"] == "draft"
    assert events() == [("signed", "approved"), ("under_construction", "draft")]
    assert "under_construction" not in approved_stages()  # not before it is reviewed
    _review(client, reviewers, "d1-editor", project, "submit")
    assert events()[-1] == ("under_construction", "submitted")
    locked = client.post(
        f"/api/v1/projects/{project}/stage",
        json={"stage": "in_production", "date": "2026-04-01"},
        headers=as_d1,
    )
    assert locked.status_code == 409
    history = _review(client, reviewers, "city-reviewer", project, "approve")
    assert history.status_code == 200
    assert events()[-1] == ("under_construction", "approved")
    assert "under_construction" in approved_stages()
    reviewed = client.get(f"/api/v1/projects/{project}/reviews", headers=as_d1).get_json()
    assert reviewed[-1]["stage"] == "under_construction"
