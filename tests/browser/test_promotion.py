"""The promotion work in a real browser: a district office's officer turns a gap candidate into a
lead, logs two negotiations, finds the follow-up in "my follow-ups" when it falls due, converts
the lead into a project, and the office's progress page moves (reported at once, counted once
the city bureau approves)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_review import review
from tests.browser.test_workflows import submit

pytestmark = pytest.mark.browser

OFFICE = "district-370112"  # 历城区招商部门, with the demo's targets for this year


def log_negotiation(page: Page, held_on: date, content: str, follow_up: date) -> None:
    form = page.locator("section#negotiations form.record-form")
    form.locator("#held_on").fill(held_on.isoformat())
    form.locator("#content").fill(content)
    form.locator("#their_participants").fill("王某（投资总监）")
    form.locator("#next_follow_up_on").fill(follow_up.isoformat())
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.locator("p.flash")).to_contain_text("洽谈记录已保存")


def progress_cells(page: Page, unit_id: int) -> tuple[str, str]:
    """The office's projects_signed row on the progress page: (actual, reported)."""
    page.goto("/progress")
    row = page.locator(f"tr[data-unit='{unit_id}'][data-metric='projects_signed']")
    return row.locator("td.actual").inner_text(), row.locator("td.reported").inner_text()


def number(text: str) -> int:
    return int(re.search(r"\d+", text.replace(",", "")).group())


def test_a_gap_candidate_becomes_a_lead_then_a_project_that_moves_the_offices_progress(
    signed_in_page, live_server
):
    today = date.today()
    officer = signed_in_page("editor", lang="zh", unit=OFFICE)
    unit_id = live_server.scalar("SELECT id FROM unit WHERE code = :c", c=OFFICE)
    automotive = live_server.scalar("SELECT id FROM chain WHERE code = 'automotive'")
    actual_before, reported_before = progress_cells(officer, unit_id)

    # The 补链 list: the first candidate the office does not pursue yet becomes its lead.
    officer.goto(f"/reports/gap-candidates?chain_id={automotive}")
    row = officer.locator("table.grid tbody tr").filter(has=officer.locator("td.row-action"))
    first = row.first
    supplier = first.locator("a[href^='/enterprises/']").inner_text()
    first.locator("td.row-action button").click()
    expect(officer).to_have_url(re.compile(r"/leads/\d+$"))
    lead = int(officer.url.rsplit("/", 1)[1])
    expect(officer.locator("h1")).to_contain_text(supplier)
    expect(officer.locator("p.flash")).to_contain_text("新线索")

    # Two negotiations; the second sets the follow-up for today.
    log_negotiation(
        officer, today - timedelta(days=10), "首次电话接洽，介绍配套需求", today - timedelta(days=5)
    )
    log_negotiation(officer, today - timedelta(days=2), "赴企业洽谈，对方同意考察", today)
    expect(officer.locator("section#negotiations li.negotiation")).to_have_count(2)
    expect(officer.locator("#due")).to_be_visible()

    # Due today: in "my follow-ups", with the count beside 跟进 in the navigation.
    officer.goto("/")
    expect(officer.locator("nav.main-nav a[href='/follow-ups'] .badge")).to_have_text("1")
    officer.goto("/follow-ups")
    due = officer.locator(f"section#today tr[data-kind='lead'][data-id='{lead}']")
    expect(due).to_contain_text(supplier)
    due.get_by_role("link", name=supplier).click()
    expect(officer).to_have_url(re.compile(rf"/leads/{lead}$"))

    # Converted into a project: the form comes filled in from the lead.
    with officer.expect_navigation():
        officer.locator("#convert").click()
    expect(officer.locator("#from-lead")).to_be_visible()
    expect(officer.locator("#chain_id")).to_have_value(str(automotive))
    expect(officer.locator("#stage")).to_have_value("signed")
    officer.locator("#agreed_investment_cny_100m").fill("8")
    submit(officer)
    expect(officer).to_have_url(re.compile(r"/projects/\d+$"))
    project = int(officer.url.rsplit("/", 1)[1])
    assert live_server.scalar("SELECT lead_id FROM project WHERE id = :p", p=project) == lead
    assert live_server.scalar("SELECT status FROM lead WHERE id = :l", l=lead) == "signed"
    # The lead's negotiations show on the project's page; the lead is off the follow-ups.
    expect(officer.locator("section#negotiations li.negotiation")).to_have_count(2)
    officer.goto("/follow-ups")
    expect(officer.locator(f"tr[data-kind='lead'][data-id='{lead}']")).to_have_count(0)

    # The progress page moves: reported at once, counted when approved.
    actual, reported = progress_cells(officer, unit_id)
    assert number(reported) == number(reported_before) + 1
    assert number(actual) == number(actual_before)
    officer.goto(f"/projects/{project}")
    review(officer, "submit")
    city = signed_in_page("reviewer", lang="zh")
    city.goto(f"/projects/{project}")
    review(city, "approve")
    actual, _ = progress_cells(officer, unit_id)
    assert number(actual) == number(actual_before) + 1
