"""Paper and phone, in a real Chromium: a report printed to PDF (page.pdf, as the print dialog
does) keeps every column and the last row, on A4 landscape, without the navigation, filters or
buttons, with page numbers and the time it was printed; a project prints as a document; at 390
px no page is wider than the screen and the menu folds."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.browser.test_workflows import chain_id, enterprise_id

pytestmark = pytest.mark.browser

A4_SHORT, A4_LONG = 595, 842  # points
PHONE = {"width": 390, "height": 844}


def _pdf(page: Page) -> tuple[str, list[tuple[float, float]]]:
    """The page printed: its text (without white space, which wrapping moves about) and the
    size of each sheet in points."""
    reader = PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True)))
    text = "".join(sheet.extract_text() or "" for sheet in reader.pages)
    sizes = [(float(s.mediabox.width), float(s.mediabox.height)) for s in reader.pages]
    return re.sub(r"\s+", "", text), sizes


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_wide_report_prints_every_column_and_the_last_row(signed_in_page, lang):
    page = signed_in_page("viewer", lang=lang)
    page.goto("/reports/chain-overview")
    table = page.locator("table.grid").first
    # A header wraps inside its narrow column on paper, and a PDF's text runs line by line
    # across the columns: each word of a header must be there (a Chinese header is one word).
    headers = [h.split() for h in table.locator("thead th").all_inner_texts()]
    assert len(headers) >= 20
    last_row = [
        _squeezed(c) for c in table.locator("tbody tr").last.locator("td").all_inner_texts()
    ]
    nav = "".join(_squeezed(t) for t in page.locator("nav.main-nav a").all_inner_texts())
    filter_button = _squeezed(page.locator("form.filters button").first.inner_text())

    text, sizes = _pdf(page)
    missing = [h for h in headers if not all(word in text for word in h)]
    assert not missing, f"headers not on paper: {missing}"
    assert all(cell in text for cell in last_row if cell), last_row
    # A4 landscape, every sheet.
    assert all(round(w) == A4_LONG and round(h) == A4_SHORT for w, h in sizes), sizes
    # The document alone: no menu, no filters, no buttons.
    assert nav and nav not in text
    assert filter_button not in text
    for button in ("ExportCSV", "导出CSV", "Signout", "退出"):
        assert button not in text
    # Page numbers and the time it was printed.
    assert f"1/{len(sizes)}" in text
    assert ("printed" in text) or ("打印于" in text)
    # When the figures are from.
    assert ("Figuresasof" in text) or ("数据截至" in text)


def test_a_project_prints_as_a_document(signed_in_page, live_server):
    page = signed_in_page("viewer", lang="zh")
    project = live_server.scalar(
        "SELECT id FROM project WHERE name = '比亚迪新能源乘用车及零部件产业园'"
    )
    page.goto(f"/projects/{project}")
    title = _squeezed(page.locator("h1").inner_text())
    text, sizes = _pdf(page)
    assert title in text
    assert "阶段历史" in text
    assert all(round(w) == A4_SHORT and round(h) == A4_LONG for w, h in sizes), sizes
    assert "退出" not in text and "编辑" not in text
    assert "1/" in text and "打印于" in text


def _pages(live_server) -> list[str]:
    byd = enterprise_id(live_server, "比亚迪济南基地")
    automotive = chain_id(live_server, "automotive")
    project = live_server.scalar("SELECT min(id) FROM project")
    district = live_server.scalar("SELECT id FROM district WHERE code = '370112'")
    # The demo's lead with negotiations, and its trip (the promotion work's pages).
    lead = live_server.scalar("SELECT min(lead_id) FROM negotiation WHERE lead_id IS NOT NULL")
    trip = live_server.scalar("SELECT min(id) FROM trip")
    reports = [
        f"/reports/{name}"
        for name in (
            "chain-overview",
            "chain-master-suppliers",
            "chain-gaps",
            "gap-candidates",
            "supplier-tiers",
            "district-chain-matrix",
            "project-pipeline",
            "project-rates",
            "target-progress",
            "designations",
            "lead-conversion",
        )
    ]
    return [
        "/",
        "/projects",
        f"/projects/{project}",
        "/projects/add",
        "/enterprises",
        f"/enterprises/{byd}",
        "/chains",
        f"/chains/{automotive}",
        f"/chains/{automotive}/map",
        "/chain-masters",
        f"/chain-masters/{byd}",
        "/supply/link",
        "/supply-links",
        "/districts",
        f"/districts/{district}",
        "/targets",
        "/changes",
        "/reports",
        "/reports/monthly-progress",
        "/reviews",
        "/leads",
        f"/leads/{lead}",
        f"/projects/add?lead={lead}",
        "/trips",
        f"/trips/{trip}",
        "/follow-ups?who=unit",
        "/progress",
        "/chain-revenues",
        *reports,
    ]


def test_no_page_scrolls_sideways_on_a_phone(signed_in_page, live_server):
    page = signed_in_page("editor", lang="zh")
    page.set_viewport_size(PHONE)
    wider = {}
    for path in _pages(live_server):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wider[path] = width
    assert not wider, f"wider than the screen (390 px): {wider}"


def test_on_a_phone_the_menu_folds_and_tables_scroll_in_their_box(signed_in_page):
    page = signed_in_page("editor", lang="zh")
    page.set_viewport_size(PHONE)
    page.goto("/projects")
    toggle = page.locator("button.nav-toggle")
    expect(toggle).to_be_visible()
    expect(page.locator("nav.main-nav")).to_be_hidden()
    toggle.click()
    expect(page.locator("nav.main-nav")).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    # A project's name stays on one line: the table scrolls, its cells are not squeezed.
    cell = page.locator("table.grid tbody tr").first.locator("td").first
    box = cell.bounding_box()
    line = page.evaluate(
        "e => parseFloat(getComputedStyle(e).lineHeight) || 20", cell.element_handle()
    )
    assert box is not None and box["height"] < 2.5 * line
    table = page.locator("table.grid").first
    assert table.evaluate("t => t.scrollWidth >= t.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # A wide screen shows the menu and no toggle.
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(toggle).to_be_hidden()
    expect(page.locator("nav.main-nav")).to_be_visible()
