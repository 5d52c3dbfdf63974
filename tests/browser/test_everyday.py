"""What a clerk does every day, in a real browser, in Chinese and in English:

- both workflows with only the required fields (an empty amount is no amount, never 0);
- an amount far beyond the usual, shown in words, saved once confirmed;
- every list with an import: the file its export button downloads, uploaded again, is found
  unchanged row for row.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_workflows import (
    HTML_LANG,
    LANGS,
    chain_id,
    district_id,
    enterprise_id,
    field_error,
    pick_enterprise,
    submit,
)

pytestmark = pytest.mark.browser


@LANGS
def test_add_a_project_with_only_the_required_fields(signed_in_page, live_server, lang):
    page = signed_in_page("editor", lang=lang)
    name = live_server.unique(f"最少输入项目-{lang}")
    page.goto("/projects/add")
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
    for required in ("name", "chain_id", "district_id", "investor_id"):
        expect(
            page.locator(
                f"label[for={required}] + .required, label[for={required}] ~ .required"
            ).first
        ).to_be_visible()
    page.locator("#name").fill(name)
    page.locator("#chain_id").select_option(str(chain_id(live_server, "automotive")))
    page.locator("#district_id").select_option(str(district_id(live_server, "370112")))
    page.locator("#investor_id").fill("一家新的投资方有限公司")
    submit(page)

    expect(page).to_have_url(re.compile(r"/projects/\d+$"))
    expect(page.locator("h1")).to_contain_text(name)
    project = int(page.url.rsplit("/", 1)[1])
    stored = live_server.scalar(
        "SELECT json_build_object('agreed', agreed_investment_cny_100m, 'arrived', "
        "funds_arrived_cny_100m, 'stage', stage, 'investor', investor_name) "
        "FROM project WHERE id = :id",
        id=project,
    )
    assert stored == {"agreed": None, "arrived": None, "stage": "lead",
                      "investor": "一家新的投资方有限公司"}  # fmt: skip
    expect(page.locator("main")).not_to_contain_text("0.0%")


@LANGS
def test_link_a_supplier_with_only_the_required_fields(signed_in_page, live_server, lang):
    page = signed_in_page("editor", lang=lang)
    byd = enterprise_id(live_server, "比亚迪济南基地")
    automotive = chain_id(live_server, "automotive")
    # A supplier of its own, entered the way a clerk would, so that each run links a new one.
    supplier = live_server.unique(f"最少输入配套企业{lang}")
    page.goto("/enterprises/new")
    page.locator("#name_zh").fill(supplier)
    submit(page)
    expect(page).to_have_url(re.compile(r"/enterprises/\d+$"))
    supplier_id = int(page.url.rsplit("/", 1)[1])
    page.goto("/supply/link")
    page.locator("#master").select_option(f"{byd}:{automotive}")
    pick_enterprise(page, "supplier", supplier[:8], supplier)
    submit(page)

    # The chain master's page, found to the supplier just linked.
    expect(page).to_have_url(re.compile(rf"/chain-masters/{byd}\?q=[^#]+(#chain-{automotive})?$"))
    expect(page.locator("p.flash")).to_contain_text(supplier)
    value = live_server.scalar(
        "SELECT annual_value_cny_10k IS NULL AND product IS NULL AND since IS NULL "
        "FROM supply_link WHERE supplier_id = :s AND buyer_id = :b ORDER BY id DESC LIMIT 1",
        s=supplier_id,
        b=byd,
    )
    assert value is True


@LANGS
def test_a_large_amount_is_shown_in_words_and_saved_once_confirmed(
    signed_in_page, live_server, lang
):
    page = signed_in_page("editor", lang=lang)
    name = live_server.unique(f"大额确认项目-{lang}")
    page.goto("/projects/add")
    page.locator("#name").fill(name)
    page.locator("#chain_id").select_option(str(chain_id(live_server, "automotive")))
    page.locator("#district_id").select_option(str(district_id(live_server, "370112")))
    page.locator("#investor_id").fill("某大额投资方")
    page.locator("#agreed_investment_cny_100m").fill("100000")
    submit(page)

    expect(page).to_have_url(re.compile(r"/projects/add$"))
    words = {"zh": ("10 万亿元", "10 亿元"), "en": ("10 trillion yuan", "1 billion yuan")}[lang]
    for text in words:
        expect(field_error(page, "agreed_investment_cny_100m")).to_contain_text(text)
    assert live_server.scalar("SELECT count(*) FROM project WHERE name = :n", n=name) == 0
    expect(page.locator("#agreed_investment_cny_100m")).to_have_value("100000")
    page.locator("input[name=confirm][value=large_amount]").check()
    submit(page)
    expect(page).to_have_url(re.compile(r"/projects/\d+$"))
    assert (
        live_server.scalar(
            "SELECT agreed_investment_cny_100m::text FROM project WHERE name = :n", n=name
        )
        == "100000.0000"
    )


LISTS = ["districts", "chains", "segments", "enterprises", "supply-links", "projects"]


@pytest.mark.parametrize("resource", LISTS)
@pytest.mark.parametrize("button", ["xlsx", "csv"])
def test_the_downloaded_export_imports_back_unchanged(
    signed_in_page, live_server, resource, button, tmp_path
):
    lang = "zh" if button == "xlsx" else "en"
    page = signed_in_page("editor", lang=lang)
    page.goto(f"/{resource}")
    link = page.locator(f"a.button[href*='/{resource}/export?format={button}']").first
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)

    page.goto(f"/{resource}/import")
    page.locator("input[type=file]").set_input_files(str(saved))
    # Every row of the export is checked: the supply links' took 12 s once on a busy 2-core CI.
    submit(page, "main form.record-form", timeout=60_000)
    rows = page.locator("table.import-report tbody tr")
    expect(rows.first).to_be_visible()
    outcomes = set(rows.evaluate_all("rows => rows.map(r => r.className)"))
    assert outcomes == {"unchanged"}, (resource, outcomes, _summary(page))


def _summary(page: Page) -> str:
    return page.locator("p.summary").inner_text()
