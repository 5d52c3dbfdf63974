"""Figures the offices can trust, in a real browser against `chaindb run` (its report refresher
on, as the README's start runs it): a write shows on every page that counts it within
5 seconds, with no refresh button pressed."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_workflows import chain_id, enterprise_id, pick_enterprise, submit

pytestmark = pytest.mark.browser

WITHIN = 5.0


def _number(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text))


def _table_cell(page: Page, header: str) -> int:
    """The number in the column headed `header` of the report table's only row."""
    table = page.locator("table.grid").first
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    column = headers.index(header)
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(1)
    return _number(rows.first.locator("td").nth(column).inner_text())


def _until(page: Page, path: str, read, expected, deadline: float) -> None:
    """Open `path` until read(page) == expected; fail once the deadline has passed."""
    while True:
        page.goto(path)
        got = read(page)
        if got == expected:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"{path}: {got!r} after {WITHIN} s, expected {expected!r}")
        time.sleep(0.25)


def test_a_new_supplier_shows_on_every_page_within_5_seconds(signed_in_page, live_server):
    page = signed_in_page("editor", lang="en")
    byd = enterprise_id(live_server, "比亚迪济南基地")
    automotive = chain_id(live_server, "automotive")
    report = f"/reports/chain-master-suppliers?chain_master_id={byd}&chain_id={automotive}"

    def home_suppliers(p: Page) -> int:
        return _number(p.locator("[data-figure=suppliers] .figure").inner_text())

    def report_suppliers(p: Page) -> int:
        return _table_cell(p, "Suppliers")

    page.goto("/")
    suppliers_before = home_suppliers(page)
    page.goto(report)
    expect(page.locator("#freshness")).to_contain_text("kept current")
    expect(page.locator("form[action*='/refresh']")).to_have_count(0)
    report_before = report_suppliers(page)

    supplier = live_server.unique("时效配套企业")
    page.goto("/enterprises/new")
    page.locator("#name_zh").fill(supplier)
    page.locator("#district_id").select_option(
        str(live_server.scalar("SELECT id FROM district WHERE code = '370112'"))
    )
    submit(page)
    expect(page).to_have_url(re.compile(r"/enterprises/\d+$"))
    page.goto("/supply/link")
    page.locator("#master").select_option(f"{byd}:{automotive}")
    pick_enterprise(page, "supplier", supplier[:8], supplier)
    submit(page)
    expect(page.locator("p.flash")).to_contain_text(supplier)
    deadline = time.monotonic() + WITHIN

    # The chain master's page lists it at once (it reads the links themselves), found to it.
    expect(page).to_have_url(re.compile(r"\?q="))
    expect(page.locator("main table")).to_contain_text(supplier)
    _until(page, "/", home_suppliers, suppliers_before + 1, deadline)
    _until(page, report, report_suppliers, report_before + 1, deadline)
    page.goto(f"/chain-masters/{byd}?q={supplier}")
    expect(page.locator("main table")).to_contain_text(supplier)
    assert time.monotonic() <= deadline


def test_the_home_page_shows_the_goal_against_the_latest_actual(signed_in_page):
    page = signed_in_page("viewer", lang="zh")
    page.goto("/")
    goal = page.locator("section.goal")
    expect(goal).to_contain_text("1.1 万亿元")
    expect(goal).to_contain_text("2025 年目标")
    expect(goal).to_contain_text("92.6%")
    expect(goal).to_contain_text("2024 年")
