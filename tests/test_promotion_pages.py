"""The pages of the promotion work, as a clerk of a district office uses them: a lead entered
with the least input, a negotiation logged on its page (and refused without content), the
follow-ups it puts in the navigation and the overdue list, the lead converted into a project
through the add form, a trip and a visit that opens a lead; and what the pages refuse or
escape. Every step is checked against the rows it wrote (or did not write)."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import Connection, text

from tests import factories_sql as f
from tests.conftest import PASSWORD, Offices, Web, count_rows
from tests.forms import page_forms, record_form
from tests.test_reviews import EXE, PDF

TODAY = date.today()
FLASH = re.compile(r'<p class="flash (\w+)" role="status">(.*?)</p>', re.S)


# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture
def english(conn: Connection, offices: Offices) -> Offices:
    """The offices, their people reading the pages in English (their account's choice)."""
    conn.execute(text("UPDATE app_user SET locale = 'en'"))
    return offices


def _signed_in(app, user: str) -> Web:
    browser = Web(app.test_client())
    assert browser.login(user, PASSWORD).status_code == 302
    return browser


def _user_id(conn: Connection, name: str) -> int:
    return conn.execute(
        text("SELECT id FROM app_user WHERE username = :n"), {"n": name}
    ).scalar_one()


def _lead(conn: Connection, lead_id: int):
    return conn.execute(text("SELECT * FROM lead WHERE id = :id"), {"id": lead_id}).one()


def _form(page: str, action: str) -> dict:
    """The page's POST form whose action starts with `action`."""
    found = [
        form
        for form in page_forms(page)
        if form["method"] == "post" and (form["action"] or "").startswith(action)
    ]
    assert found, f"no form posting to {action}"
    return found[0]


def _filled(page: str, action: str, typed: dict[str, str]) -> dict[str, str]:
    form = _form(page, action)
    unknown = set(typed) - form["names"]
    assert not unknown, f"the form has no field {sorted(unknown)}"
    return {**dict(form["fields"]), **typed}


def _flashes(page: str) -> list[tuple[str, str]]:
    return FLASH.findall(page)


def _pending_flashes(browser: Web) -> list[tuple[str, str]]:
    """The messages a redirect left for the next page, read without drawing it."""
    with browser.client.session_transaction() as s:
        return list(s.get("_flashes", []))


def _section(page: str, id: str) -> str:
    return page.split(f'<section id="{id}">', 1)[1].split("</section>", 1)[0]


def _section_of_class(page: str, cls: str) -> str:
    return page.split(f'<section class="{cls}"', 1)[1].split("</section>", 1)[0]


def _follow_ups_badge(page: str) -> str | None:
    """The count beside the navigation's Follow-ups entry (None: no count shown)."""
    entry = re.search(r'<a href="/follow-ups"[^>]*>(.*?)</a>', page, re.S)
    assert entry, "no Follow-ups entry in the navigation"
    badge = re.search(r'<span class="badge"[^>]*>(\d+)</span>', entry.group(1))
    return badge.group(1) if badge else None


def _new_lead(browser: Web, conn: Connection, typed: dict[str, str]) -> int:
    """A lead entered through /leads/new; its id, read from the redirect."""
    before = count_rows(conn, "lead")["lead"]
    response = browser.submit("/leads/new", typed)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert count_rows(conn, "lead")["lead"] == before + 1
    found = re.fullmatch(r"/leads/(\d+)", response.headers["Location"])
    assert found, response.headers["Location"]
    return int(found.group(1))


# --- 1. a lead with the least input -------------------------------------------------------------


def test_a_clerk_enters_a_lead_with_the_least_input(app, english, conn):
    ids = english.ids
    clerk = _signed_in(app, "d1-editor")
    name = "深圳未录入新材料有限公司"
    lead_id = _new_lead(
        clerk, conn, {"enterprise_id": name, "chain_id": str(ids["c2"]), "source": "referral"}
    )
    lead = _lead(conn, lead_id)
    assert (lead.enterprise_id, lead.enterprise_name) == (None, name)
    assert (lead.chain_id, lead.source, lead.status) == (ids["c2"], "referral", "new")
    assert lead.owner_id == _user_id(conn, "d1-editor")
    assert lead.unit_id == ids["u_d1"]
    assert lead.next_follow_up_on is None
    page = clerk.text(f"/leads/{lead_id}")
    assert f"<h1>{name}</h1>" in page
    assert ("ok", f"Saved: {name}") in _flashes(page)
    # Open: it may be converted, and a negotiation may be logged on it.
    assert f'href="/leads/{lead_id}/convert"' in page
    assert _form(page, "/negotiations/log")["fields"]
    assert f'href="/leads/{lead_id}"' in clerk.text("/leads")


def test_a_lead_without_its_required_fields_is_refused_on_the_form(app, english, conn):
    clerk = _signed_in(app, "d1-editor")
    before = count_rows(conn, "lead")
    response = clerk.submit("/leads/new", {"enterprise_id": "  ", "source": "referral"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.count('class="field-error"') >= 2  # the enterprise and the chain
    assert count_rows(conn, "lead") == before


def test_an_enterprise_in_chaindb_typed_by_its_name_is_linked_not_copied(app, english, conn):
    ids = english.ids
    name = conn.execute(
        text("SELECT name_zh FROM enterprise WHERE id = :e"), {"e": ids["e_far"]}
    ).scalar_one()
    clerk = _signed_in(app, "d1-editor")
    lead_id = _new_lead(
        clerk, conn, {"enterprise_id": name, "chain_id": str(ids["c2"]), "source": "investor"}
    )
    lead = _lead(conn, lead_id)
    assert (lead.enterprise_id, lead.enterprise_name) == (ids["e_far"], None)
    page = clerk.text(f"/leads/{lead_id}")
    assert f"<h1>{name}</h1>" in page
    assert f'href="/enterprises/{ids["e_far"]}"' in page
    # Its edit form shows the enterprise as picked; saved unchanged, it stays linked.
    edit = clerk.text(f"/leads/{lead_id}/edit")
    assert f'value="{name} #{ids["e_far"]}"' in edit
    saved = clerk.submit(f"/leads/{lead_id}/edit", {"notes": "对方董事长来访"})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    lead = _lead(conn, lead_id)
    assert (lead.enterprise_id, lead.enterprise_name, lead.notes) == (
        ids["e_far"],
        None,
        "对方董事长来访",
    )


def test_a_lead_dropped_on_its_edit_page_needs_the_reason(app, english, conn):
    ids = english.ids
    clerk = _signed_in(app, "d1-editor")
    lead_id = _new_lead(
        clerk,
        conn,
        {
            "enterprise_id": "放弃测试企业",
            "chain_id": str(ids["c2"]),
            "source": "other",
            "next_follow_up_on": (TODAY - timedelta(days=1)).isoformat(),
        },
    )
    assert f'data-id="{lead_id}"' in _section(clerk.text("/follow-ups"), "overdue")
    # The name typed on the lead's form is kept as it is on the edit form.
    assert 'value="放弃测试企业"' in clerk.text(f"/leads/{lead_id}/edit")
    refused = clerk.submit(f"/leads/{lead_id}/edit", {"status": "dropped"})
    assert refused.status_code == 422
    assert 'id="dropped_reason-error"' in refused.get_data(as_text=True)
    assert _lead(conn, lead_id).status == "new"
    dropped = clerk.submit(
        f"/leads/{lead_id}/edit", {"status": "dropped", "dropped_reason": "对方转投他市"}
    )
    assert dropped.status_code == 302, dropped.get_data(as_text=True)
    lead = _lead(conn, lead_id)
    assert (lead.status, lead.dropped_reason, lead.enterprise_name) == (
        "dropped",
        "对方转投他市",
        "放弃测试企业",
    )
    page = clerk.text(f"/leads/{lead_id}")
    assert f'href="/leads/{lead_id}/convert"' not in page
    assert 'action="/negotiations/log"' not in page
    assert 'id="due"' not in page
    assert f'data-id="{lead_id}"' not in clerk.text("/follow-ups")
    # Signed is not a status a person picks on the form.
    assert 'value="signed"' not in clerk.text(f"/leads/{lead_id}/edit")


# --- 2. negotiations, follow-ups and the navigation's count -------------------------------------


def test_a_negotiation_logged_on_the_lead_moves_its_follow_up(app, english, conn):
    ids = english.ids
    clerk = _signed_in(app, "d1-editor")
    lead_id = _new_lead(
        clerk,
        conn,
        {"enterprise_id": "苏州洽谈测试电池有限公司", "chain_id": str(ids["c2"]), "source": "fund"},
    )
    page = clerk.text(f"/leads/{lead_id}")
    assert _follow_ups_badge(page) is None  # nothing due yet
    form = _form(page, "/negotiations/log")
    assert dict(form["fields"])["lead_id"] == str(lead_id)
    assert dict(form["fields"])["held_on"] == TODAY.isoformat()  # today, filled in

    # Empty content: 422 on the lead's page, the error beside the field, nothing written.
    before = count_rows(conn, "negotiation")
    refused = clerk.client.post(
        "/negotiations/log",
        data=_filled(page, "/negotiations/log", {"content": "   ", "place": "招商局"}),
    )
    assert refused.status_code == 422
    shown = refused.get_data(as_text=True)
    assert "<h1>苏州洽谈测试电池有限公司</h1>" in shown
    assert 'id="content-error"' in shown
    assert ("error", "The negotiation was not logged: see the form.") in _flashes(shown)
    assert 'value="招商局"' in shown  # what was typed is kept
    assert count_rows(conn, "negotiation") == before
    assert (_lead(conn, lead_id).status, _lead(conn, lead_id).next_follow_up_on) == ("new", None)

    # A meeting ten days ago, with a follow-up three days ago: overdue.
    overdue_on = TODAY - timedelta(days=3)
    logged = clerk.client.post(
        "/negotiations/log",
        data=_filled(
            page,
            "/negotiations/log",
            {
                "held_on": (TODAY - timedelta(days=10)).isoformat(),
                "content": "初次接洽，介绍园区政策",
                "next_step": "寄送用地方案",
                "next_follow_up_on": overdue_on.isoformat(),
            },
        ),
    )
    assert logged.status_code == 302
    assert logged.headers["Location"] == f"/leads/{lead_id}#negotiations"
    assert count_rows(conn, "negotiation") == {"negotiation": before["negotiation"] + 1}
    entry = conn.execute(
        text("SELECT * FROM negotiation WHERE lead_id = :id"), {"id": lead_id}
    ).one()
    assert (entry.content, entry.project_id) == ("初次接洽，介绍园区政策", None)
    assert entry.recorded_by_id == _user_id(conn, "d1-editor")
    lead = _lead(conn, lead_id)
    assert (lead.status, lead.next_follow_up_on) == ("contacted", overdue_on)

    page = clerk.text(f"/leads/{lead_id}")
    assert ("ok", "Negotiation logged.") in _flashes(page)
    assert "初次接洽，介绍园区政策" in page
    assert '<p class="notice overdue" id="due">Follow-up overdue since' in page
    assert _follow_ups_badge(page) == "1"

    follow_ups = clerk.text("/follow-ups")
    overdue = _section(follow_ups, "overdue")
    assert f'data-kind="lead" data-id="{lead_id}"' in overdue
    assert f'href="/leads/{lead_id}"' in overdue and "寄送用地方案" in overdue
    for other in ("today", "coming"):
        assert f'data-id="{lead_id}"' not in _section(follow_ups, other)
    assert _follow_ups_badge(follow_ups) == "1"
    # Another unit's officer has nothing of it to follow up.
    other = _signed_in(app, "c1-editor")
    theirs = other.text("/follow-ups")
    assert f'data-id="{lead_id}"' not in theirs
    assert _follow_ups_badge(theirs) is None


def test_a_negotiations_dates_are_checked_beside_their_fields(app, english, conn):
    ids = english.ids
    lead_id = f.insert(conn, "lead", unit_id=ids["u_d1"], chain_id=ids["c2"], source="other",
                       enterprise_name="日期测试企业")  # fmt: skip
    clerk = _signed_in(app, "d1-editor")
    page = clerk.text(f"/leads/{lead_id}")
    before = count_rows(conn, "negotiation")
    cases = [
        # Not yet held: the API's refusal lands beside the date.
        ({"held_on": (TODAY + timedelta(days=1)).isoformat()}, "held_on"),
        # Not a date at all: the form's own.
        ({"held_on": "2025-02-30"}, "held_on"),
        ({"next_follow_up_on": "next week"}, "next_follow_up_on"),
    ]
    for typed, field in cases:
        refused = clerk.client.post(
            "/negotiations/log",
            data=_filled(page, "/negotiations/log", {"content": "日期有误", **typed}),
        )
        assert refused.status_code == 422, typed
        assert f'id="{field}-error"' in refused.get_data(as_text=True), typed
    assert count_rows(conn, "negotiation") == before
    assert _lead(conn, lead_id).status == "new"


def test_a_negotiation_logged_on_a_project_page(app, english, conn):
    ids = english.ids
    clerk = _signed_in(app, "d1-editor")
    project = ids["p_c2_d1"]
    page = clerk.text(f"/projects/{project}")
    form = _form(page, "/negotiations/log")
    assert dict(form["fields"])["project_id"] == str(project)
    assert dict(form["fields"])["lead_id"] == ""
    before = count_rows(conn, "negotiation")
    # Refused: back to the project's page, the reason flashed, nothing written.
    refused = clerk.client.post(
        "/negotiations/log", data=_filled(page, "/negotiations/log", {"content": ""})
    )
    assert refused.status_code == 302
    assert refused.headers["Location"] == f"/projects/{project}#log"
    assert any(kind == "error" for kind, _ in _pending_flashes(clerk))
    assert count_rows(conn, "negotiation") == before
    logged = clerk.client.post(
        "/negotiations/log",
        data=_filled(
            page,
            "/negotiations/log",
            {"content": "签约后首次对接", "next_follow_up_on": TODAY.isoformat()},
        ),
    )
    assert logged.status_code == 302
    assert logged.headers["Location"] == f"/projects/{project}#negotiations"
    entry = conn.execute(
        text("SELECT lead_id, content FROM negotiation WHERE project_id = :p"), {"p": project}
    ).one()
    assert tuple(entry) == (None, "签约后首次对接")
    page = clerk.text(f"/projects/{project}")
    assert "签约后首次对接" in _section_of_class(page, "negotiations")
    # Due today: the project entry the clerk logged is theirs to follow up.
    assert f'data-kind="project" data-id="{project}"' in _section(
        clerk.text("/follow-ups"), "today"
    )
    assert _follow_ups_badge(page) == "1"


# --- 3. a lead converted into a project ----------------------------------------------------------


def test_a_lead_is_converted_into_a_project_through_the_add_form(app, english, conn):
    ids = english.ids
    clerk = _signed_in(app, "d1-editor")
    name = "宁波转化测试储能有限公司"
    lead_id = _new_lead(
        clerk, conn, {"enterprise_id": name, "chain_id": str(ids["c2"]), "source": "investor"}
    )
    logged = clerk.client.post(
        "/negotiations/log",
        data=_filled(
            clerk.text(f"/leads/{lead_id}"),
            "/negotiations/log",
            {"content": "对方确认投资意向"},
        ),
    )
    assert logged.status_code == 302
    converting = clerk.get(f"/leads/{lead_id}/convert")
    assert converting.status_code == 302
    assert converting.headers["Location"] == f"/projects/add?lead={lead_id}"

    add = clerk.text(f"/projects/add?lead={lead_id}")
    assert 'id="from-lead"' in add and f'href="/leads/{lead_id}"' in add
    fields = dict(record_form(add)["fields"])
    chain_name = conn.execute(
        text("SELECT name_zh FROM chain WHERE id = :c"), {"c": ids["c2"]}
    ).scalar_one()
    assert fields["lead_id"] == str(lead_id)
    assert fields["name"] == f"{name}{chain_name}项目"
    assert fields["chain_id"] == str(ids["c2"])
    assert fields["district_id"] == str(ids["d1"])  # the office's own planning unit
    assert fields["investor_id"] == name
    assert fields["stage"] == "signed"
    assert fields["channel"] == "business_referral"  # 以商招商

    before = count_rows(conn, "project")
    saved = clerk.submit(
        f"/projects/add?lead={lead_id}",
        {"district_id": str(ids["d1"]), "signed_on": TODAY.isoformat()},
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert count_rows(conn, "project") == {"project": before["project"] + 1}
    project = conn.execute(text("SELECT * FROM project WHERE lead_id = :l"), {"l": lead_id}).one()
    assert saved.headers["Location"] == f"/projects/{project.id}"
    assert (project.name, project.chain_id, project.district_id) == (
        fields["name"],
        ids["c2"],
        ids["d1"],
    )
    assert (project.investor_id, project.investor_name) == (None, name)
    assert (project.stage, project.signed_on) == ("signed", TODAY)
    assert _lead(conn, lead_id).status == "signed"

    page = clerk.text(f"/leads/{lead_id}")
    signed = page.split('id="signed-as"', 1)[1].split("</p>", 1)[0]
    assert "Signed as the project" in signed
    assert f'href="/projects/{project.id}"' in signed
    # Signed: no more conversion, no more negotiations on the lead (they go on the project).
    assert f'href="/leads/{lead_id}/convert"' not in page
    assert 'action="/negotiations/log"' not in page
    # The project's page carries the lead's negotiations with it.
    project_page = clerk.text(f"/projects/{project.id}")
    assert "对方确认投资意向" in _section_of_class(project_page, "negotiations")

    # Converting it again is refused with the reason, and writes nothing.
    again = clerk.get(f"/projects/add?lead={lead_id}")
    assert again.status_code == 422
    assert "only an open lead" in again.get_data(as_text=True)
    assert count_rows(conn, "project") == {"project": before["project"] + 1}


def test_another_units_clerk_is_told_why_the_lead_is_not_theirs_to_convert(app, english, conn):
    ids = english.ids
    lead_id = f.insert(conn, "lead", unit_id=ids["u_d1"], chain_id=ids["c1"], source="other",
                       enterprise_name="链办可见线索")  # fmt: skip
    chain_office = _signed_in(app, "c1-editor")
    assert chain_office.get(f"/leads/{lead_id}").status_code == 200  # its chain: it reads it
    before = count_rows(conn, "project")
    refused = chain_office.submit(
        f"/projects/add?lead={lead_id}",
        {"district_id": str(ids["d1"]), "signed_on": TODAY.isoformat()},
    )
    assert refused.status_code == 403
    assert count_rows(conn, "project") == before
    assert _lead(conn, lead_id).status == "new"
    # The reason, in words, somewhere on the page.
    assert "only its unit converts it" in refused.get_data(as_text=True)


def test_only_the_leads_unit_is_offered_the_conversion(app, english, conn):
    ids = english.ids
    lead_id = f.insert(conn, "lead", unit_id=ids["u_d1"], chain_id=ids["c1"], source="other",
                       enterprise_name="转化按钮测试企业")  # fmt: skip
    convert = f'href="/leads/{lead_id}/convert"'
    assert convert in _signed_in(app, "d1-editor").text(f"/leads/{lead_id}")
    assert convert in _signed_in(app, "city-admin").text(f"/leads/{lead_id}")
    assert convert not in _signed_in(app, "c1-editor").text(f"/leads/{lead_id}")


# --- 4. trips and visits -------------------------------------------------------------------------


def test_a_trip_with_the_least_input_and_a_visit_that_opens_a_lead(app, english, conn):
    ids = english.ids
    clerk = _signed_in(app, "d1-editor")
    before = count_rows(conn, "trip", "trip_visit", "lead")
    made = clerk.submit(
        "/trips/new", {"title": "长三角新能源招商之旅", "starts_on": TODAY.isoformat()}
    )
    assert made.status_code == 302, made.get_data(as_text=True)
    found = re.fullmatch(r"/trips/(\d+)", made.headers["Location"])
    assert found, made.headers["Location"]
    trip_id = int(found.group(1))
    trip = conn.execute(text("SELECT * FROM trip WHERE id = :id"), {"id": trip_id}).one()
    assert (trip.title, trip.kind, trip.starts_on, trip.ends_on) == (
        "长三角新能源招商之旅",
        "trip",
        TODAY,
        TODAY,
    )
    assert trip.unit_id == ids["u_d1"]

    page = clerk.text(f"/trips/{trip_id}")
    visit_form = _form(page, f"/trips/{trip_id}/visits")
    assert dict(visit_form["fields"])["visited_on"] == TODAY.isoformat()
    visitee = "上海拜访测试氢能有限公司"
    visited = clerk.client.post(
        f"/trips/{trip_id}/visits",
        data=_filled(
            page,
            f"/trips/{trip_id}/visits",
            {"enterprise_id": visitee, "chain_id": str(ids["c2"]), "notes": "参观生产线"},
        ),
    )
    assert visited.status_code == 302, visited.get_data(as_text=True)
    assert visited.headers["Location"] == f"/trips/{trip_id}#visits"
    after = count_rows(conn, "trip", "trip_visit", "lead")
    assert after == {k: v + 1 for k, v in before.items()}
    visit = conn.execute(text("SELECT * FROM trip_visit WHERE trip_id = :t"), {"t": trip_id}).one()
    assert (visit.enterprise_id, visit.enterprise_name) == (None, visitee)
    lead = _lead(conn, visit.lead_id)
    assert (lead.source, lead.trip_id, lead.enterprise_name) == ("trip", trip_id, visitee)
    assert (lead.chain_id, lead.unit_id) == (ids["c2"], ids["u_d1"])

    page = clerk.text(f"/trips/{trip_id}")
    visits = _section(page, "visits")
    assert visitee in visits and "参观生产线" in visits
    assert f'href="/leads/{lead.id}"' in visits
    # The lead's page says where it came from.
    lead_page = clerk.text(f"/leads/{lead.id}")
    assert f'href="/trips/{trip_id}"' in lead_page


def test_a_visit_without_an_enterprise_is_refused_on_the_trip_page(app, english, conn):
    clerk = _signed_in(app, "d1-editor")
    trip_id = f.insert(
        conn, "trip", unit_id=english.ids["u_d1"], title="空访测试", starts_on=TODAY, ends_on=TODAY
    )
    page = clerk.text(f"/trips/{trip_id}")
    before = count_rows(conn, "trip_visit", "lead")
    refused = clerk.client.post(
        f"/trips/{trip_id}/visits",
        data=_filled(page, f"/trips/{trip_id}/visits", {"enterprise_id": ""}),
    )
    assert refused.status_code == 422
    assert 'id="enterprise_id-error"' in refused.get_data(as_text=True)
    assert count_rows(conn, "trip_visit", "lead") == before


def test_a_visit_without_a_chain_opens_no_lead(app, english, conn):
    ids = english.ids
    clerk = _signed_in(app, "d1-editor")
    trip_id = f.insert(
        conn, "trip", unit_id=ids["u_d1"], title="礼节性拜访", starts_on=TODAY, ends_on=TODAY
    )
    page = clerk.text(f"/trips/{trip_id}")
    before = count_rows(conn, "trip_visit", "lead")
    visited = clerk.client.post(
        f"/trips/{trip_id}/visits",
        data=_filled(page, f"/trips/{trip_id}/visits", {"enterprise_id": "礼节拜访企业"}),
    )
    assert visited.status_code == 302, visited.get_data(as_text=True)
    assert count_rows(conn, "trip_visit", "lead") == {
        "trip_visit": before["trip_visit"] + 1,
        "lead": before["lead"],
    }
    visit = conn.execute(
        text("SELECT lead_id, visited_on FROM trip_visit WHERE trip_id = :t"), {"t": trip_id}
    ).one()
    assert tuple(visit) == (None, TODAY)
    assert "礼节拜访企业" in _section(clerk.text(f"/trips/{trip_id}"), "visits")


# --- 5. hostile input ----------------------------------------------------------------------------


def test_from_gap_candidate_needs_the_token_and_a_real_candidate(app, english, conn):
    ids = english.ids
    clerk = _signed_in(app, "d1-editor")
    before = count_rows(conn, "lead")
    body = {"segment_id": str(ids["s_c1"]), "supplier_id": str(ids["e_far"])}
    forged = clerk.client.post("/leads/from-gap-candidate", data=body)
    assert forged.status_code == 400
    assert count_rows(conn, "lead") == before
    # With the token, but the supplier does not serve the segment: back to the list, told why.
    wrong = clerk.post("/leads/from-gap-candidate", body)
    assert wrong.status_code == 302
    assert wrong.headers["Location"].startswith("/reports/gap-candidates")
    assert [kind for kind, _ in _pending_flashes(clerk)] == ["error"]
    assert count_rows(conn, "lead") == before
    # Not ids at all.
    for junk in ({"segment_id": "x", "supplier_id": "1"}, {"segment_id": "1"}):
        assert clerk.post("/leads/from-gap-candidate", junk).status_code == 400
    assert count_rows(conn, "lead") == before


def test_a_lead_name_with_markup_is_shown_as_text(app, english, conn):
    ids = english.ids
    clerk = _signed_in(app, "d1-editor")
    name = "<script>alert(1)</script>"
    lead_id = _new_lead(
        clerk, conn, {"enterprise_id": name, "chain_id": str(ids["c2"]), "source": "other"}
    )
    assert _lead(conn, lead_id).enterprise_name == name
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for path in (f"/leads/{lead_id}", "/leads", f"/projects/add?lead={lead_id}"):
        page = clerk.text(path)
        assert escaped in page, path
        assert "<script>alert(1)" not in page, path


def test_markup_in_a_negotiation_is_shown_as_text(app, english, conn):
    ids = english.ids
    lead_id = f.insert(conn, "lead", unit_id=ids["u_d1"], chain_id=ids["c2"], source="other",
                       enterprise_name="转义测试企业",
                       owner_id=_user_id(conn, "d1-editor"))  # fmt: skip
    clerk = _signed_in(app, "d1-editor")
    hostile = '<img src=x onerror="alert(1)">'
    logged = clerk.client.post(
        "/negotiations/log",
        data=_filled(
            clerk.text(f"/leads/{lead_id}"),
            "/negotiations/log",
            {
                "content": hostile,
                "next_step": hostile,
                "their_participants": hostile,
                "next_follow_up_on": TODAY.isoformat(),
            },
        ),
    )
    assert logged.status_code == 302
    stored = conn.execute(
        text("SELECT content, next_step FROM negotiation WHERE lead_id = :l"), {"l": lead_id}
    ).one()
    assert tuple(stored) == (hostile, hostile)
    for path in (f"/leads/{lead_id}", "/follow-ups"):
        page = clerk.text(path)
        assert "&lt;img src=x onerror=" in page, path
        assert "<img src=x" not in page, path


def test_a_viewer_reads_a_lead_but_logs_nothing(app, english, web_as, conn):
    ids = english.ids
    lead_id = f.insert(conn, "lead", unit_id=ids["u_d1"], chain_id=ids["c2"], source="other",
                       enterprise_name="只读测试企业")  # fmt: skip
    f.insert(
        conn,
        "negotiation",
        unit_id=ids["u_d1"],
        lead_id=lead_id,
        held_on=TODAY,
        content="已有的洽谈",
    )
    viewer = web_as("viewer")
    page = viewer.text(f"/leads/{lead_id}?lang=en")
    assert "只读测试企业" in page and "已有的洽谈" in page
    assert "Log a negotiation" not in page
    assert 'action="/negotiations/log"' not in page
    assert 'action="/negotiations/' not in page  # no upload form either
    assert f'href="/leads/{lead_id}/convert"' not in page
    before = count_rows(conn, "negotiation", "lead")
    posted = viewer.post(
        "/negotiations/log",
        {"lead_id": str(lead_id), "held_on": TODAY.isoformat(), "content": "越权记录"},
    )
    assert posted.status_code == 403
    assert viewer.get(f"/leads/{lead_id}/convert").status_code == 403
    assert count_rows(conn, "negotiation", "lead") == before


def test_a_negotiation_on_a_lead_out_of_scope_is_not_logged(app, english, conn):
    ids = english.ids
    theirs = f.insert(conn, "lead", unit_id=ids["u_city"], chain_id=ids["c2"], source="other",
                      enterprise_name="市局线索")  # fmt: skip
    clerk = _signed_in(app, "d1-editor")
    assert clerk.get(f"/leads/{theirs}").status_code == 404
    before = count_rows(conn, "negotiation")
    response = clerk.post(
        "/negotiations/log",
        {"lead_id": str(theirs), "held_on": TODAY.isoformat(), "content": "越界记录"},
    )
    assert response.status_code == 404
    assert count_rows(conn, "negotiation") == before


def test_a_renamed_executable_is_not_attached(app, english, conn):
    ids = english.ids
    clerk = _signed_in(app, "d1-editor")
    lead_id = _new_lead(
        clerk,
        conn,
        {"enterprise_id": "附件测试企业", "chain_id": str(ids["c2"]), "source": "other"},
    )
    logged = clerk.client.post(
        "/negotiations/log",
        data=_filled(clerk.text(f"/leads/{lead_id}"), "/negotiations/log", {"content": "面谈"}),
    )
    assert logged.status_code == 302
    entry = conn.execute(
        text("SELECT id FROM negotiation WHERE lead_id = :l"), {"l": lead_id}
    ).scalar_one()
    page = clerk.text(f"/leads/{lead_id}")
    upload = _form(page, f"/negotiations/{entry}/files")
    token = dict(upload["fields"])["csrf_token"]
    before = count_rows(conn, "negotiation_file")

    def attach(content: bytes, name: str, **kw):
        return clerk.client.post(
            f"/negotiations/{entry}/files",
            data={"file": (io.BytesIO(content), name), **kw},
            content_type="multipart/form-data",
        )

    bad = attach(EXE, "合同.pdf", csrf_token=token)
    assert bad.status_code == 302
    assert bad.headers["Location"] == f"/leads/{lead_id}#negotiations"
    assert [kind for kind, _ in _pending_flashes(clerk)] == ["error"]
    assert count_rows(conn, "negotiation_file") == before
    # Without the token: refused before anything is read.
    assert attach(PDF, "纪要.pdf").status_code == 400
    assert count_rows(conn, "negotiation_file") == before
    # A real PDF is kept, listed under the entry, and downloaded as it was.
    good = attach(PDF, "纪要.pdf", csrf_token=token)
    assert good.status_code == 302
    assert count_rows(conn, "negotiation_file") == {
        "negotiation_file": before["negotiation_file"] + 1
    }
    page = clerk.text(f"/leads/{lead_id}")
    assert ("ok", "File attached.") in _flashes(page)
    link = re.search(rf'href="(/negotiations/{entry}/files/\d+)">纪要.pdf</a>', page)
    assert link, "the attached file is not listed"
    assert clerk.get(link.group(1)).data == PDF


def test_another_units_clerk_attaches_nothing_to_the_units_negotiation(app, english, conn):
    ids = english.ids
    lead_id = f.insert(conn, "lead", unit_id=ids["u_d1"], chain_id=ids["c1"], source="other",
                       enterprise_name="链办附件测试企业")  # fmt: skip
    entry = f.insert(
        conn, "negotiation", unit_id=ids["u_d1"], lead_id=lead_id, held_on=TODAY, content="区里洽谈"
    )
    chain_office = _signed_in(app, "c1-editor")
    page = chain_office.text(f"/leads/{lead_id}")
    assert "区里洽谈" in page  # its chain's lead: it reads the timeline
    before = count_rows(conn, "negotiation_file")
    response = chain_office.post(
        f"/negotiations/{entry}/files",
        {"file": (io.BytesIO(PDF), "链办纪要.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/leads/{lead_id}#negotiations"
    assert _pending_flashes(chain_office) == [
        ("error", "files are kept with a negotiation entry by the unit that logged it")
    ]
    assert count_rows(conn, "negotiation_file") == before


# --- 6. the pages in Chinese ---------------------------------------------------------------------


def test_the_promotion_pages_in_chinese(app, offices, conn):
    ids = offices.ids
    lead_id = f.insert(conn, "lead", unit_id=ids["u_d1"], chain_id=ids["c2"], source="trip",
                       enterprise_name="中文页面测试企业", status="contacted",
                       owner_id=_user_id(conn, "d1-editor"),
                       next_follow_up_on=TODAY - timedelta(days=1))  # fmt: skip
    trip_id = f.insert(
        conn, "trip", unit_id=ids["u_d1"], title="中文出访", starts_on=TODAY, ends_on=TODAY
    )
    clerk = _signed_in(app, "d1-editor")
    page = clerk.text("/follow-ups?lang=zh")
    assert '<html lang="zh-Hans">' in page
    assert "我的跟进" in page and "已逾期" in page
    assert f'data-id="{lead_id}"' in _section(page, "overdue")
    assert re.search(r'<a href="/follow-ups"[^>]*>跟进 <span class="badge"[^>]*>1</span>', page)
    # Logged on the Chinese page: the messages are Chinese too.
    lead_page = clerk.text(f"/leads/{lead_id}?lang=zh")
    assert "记录洽谈" in lead_page  # Log a negotiation
    refused = clerk.client.post(
        "/negotiations/log?lang=zh", data=_filled(lead_page, "/negotiations/log", {})
    )
    assert refused.status_code == 422
    shown = refused.get_data(as_text=True)
    assert '<html lang="zh-Hans">' in shown
    assert re.findall(r'id="content-error"[^>]*>([^<]*)<', shown) == ["必填。"]
    assert ("error", "洽谈未保存：请查看表单。") in _flashes(shown)
    logged = clerk.client.post(
        "/negotiations/log",
        data=_filled(lead_page, "/negotiations/log", {"content": "电话回访，约定面谈"}),
    )
    assert logged.status_code == 302
    assert ("ok", "洽谈记录已保存。") in _flashes(clerk.text(f"/leads/{lead_id}"))
    for path in (
        "/follow-ups?who=unit&lang=zh",
        f"/leads/{lead_id}?lang=zh",
        "/leads?lang=zh",
        "/leads/new?lang=zh",
        f"/trips/{trip_id}?lang=zh",
        "/trips?lang=zh",
        f"/projects/add?lead={lead_id}&lang=zh",
    ):
        assert '<html lang="zh-Hans">' in clerk.text(path), path


def test_another_units_lead_is_read_not_offered_for_change(app, english, conn):
    ids = english.ids
    lead_id = f.insert(conn, "lead", unit_id=ids["u_d1"], chain_id=ids["c1"], source="other",
                       enterprise_name="只读线索企业")  # fmt: skip
    page = _signed_in(app, "c1-editor").text(f"/leads/{lead_id}")
    assert "只读线索企业" in page
    assert f'href="/leads/{lead_id}/edit"' not in page
    assert f'href="/leads/{lead_id}/delete"' not in page
    own = _signed_in(app, "d1-editor").text(f"/leads/{lead_id}")
    assert f'href="/leads/{lead_id}/edit"' in own
