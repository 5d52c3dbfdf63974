"""The two workflows of the offices, in a real browser, in Chinese and in English:

- 新增项目: add a project (the enterprise picker for the investor), see its page, move its stage;
- 关联配套企业: link a supplier to a chain master, see it on the chain master's page with the
  local supply rate, then on the chain map in its segment.

And what a form does with bad values: the messages beside the fields, the typed values kept.
Every test makes names of its own: the server's database lives for the whole run.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

LANGS = pytest.mark.parametrize("lang", ["zh", "en"])
HTML_LANG = {"zh": "zh-Hans", "en": "en"}
# An empty segment of the demo automotive map (no supplier in the seeds) per language, so that
# each run of the supplier workflow sees a chain gap close.
EMPTY_SEGMENT = {"zh": "services.recycling", "en": "services.charging"}
RATE = re.compile(r"(\d+(?:\.\d+)?)%")


# --- reading the seeded database ------------------------------------------------------------------


def enterprise_id(live_server, name: str) -> int:
    found = live_server.scalar("SELECT id FROM enterprise WHERE name_zh = :n", n=name)
    assert found is not None, f"no enterprise {name!r}: is the demo seed loaded?"
    return found


def chain_id(live_server, code: str) -> int:
    return live_server.scalar("SELECT id FROM chain WHERE code = :c", c=code)


def segment_id(live_server, chain: str, code: str) -> int:
    return live_server.scalar(
        "SELECT s.id FROM chain_segment s JOIN chain c ON c.id = s.chain_id "
        "WHERE c.code = :chain AND s.code = :code",
        chain=chain,
        code=code,
    )


def district_id(live_server, code: str) -> int:
    return live_server.scalar("SELECT id FROM district WHERE code = :c", c=code)


# --- driving the pages ---------------------------------------------------------------------------


def pick_enterprise(page: Page, field: str, typed: str, name: str) -> str:
    """Types into an enterprise picker and picks `name` among the suggestions that appear.

    Chromium shows a datalist's suggestions in its own widget, out of reach of the page; picking
    one puts its value ("name #id") in the box, which is what this does.
    """
    box = page.locator(f"#{field}")
    box.fill("")
    box.press_sequentially(typed, delay=20)
    suggestion = page.locator(f"#{field}-suggestions option[value^='{name} #']")
    expect(suggestion).to_have_count(1)
    value = suggestion.get_attribute("value")
    assert value and re.fullmatch(rf"{re.escape(name)} #\d+", value), value
    box.fill(value)
    return value


def submit(
    page: Page, form_selector: str = "main form.record-form", *, timeout: float | None = None
) -> None:
    """Submit the form and wait for the page it leads to (`timeout` ms, else Playwright's)."""
    with page.expect_navigation(timeout=timeout):
        page.locator(form_selector).locator("button[type=submit]").click(timeout=timeout)


def field_error(page: Page, field: str):
    """The message beside a field (the macro names it <field id>-error)."""
    return page.locator(f"#{field}-error")


def rate_shown(section, kind: str) -> float:
    text = section.locator(f"[data-rate={kind}]").inner_text()
    found = RATE.search(text)
    assert found, f"no percentage in {text!r}"
    return float(found[1])


# --- 新增项目: add a project and move its stage ------------------------------------------------------


@LANGS
def test_add_a_project_then_move_its_stage(signed_in_page, live_server, lang):
    page = signed_in_page("editor", lang=lang)
    name = live_server.unique(f"浏览器测试项目-{lang}")
    investor = enterprise_id(live_server, "弗迪电池济南基地")
    byd = enterprise_id(live_server, "比亚迪济南基地")
    automotive = chain_id(live_server, "automotive")

    page.goto("/projects/add")
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
    page.locator("#name").fill(name)
    page.locator("#chain_id").select_option(str(automotive))
    page.locator("#segment_id").select_option(
        str(segment_id(live_server, "automotive", "battery.cell"))
    )
    page.locator("#district_id").select_option(str(district_id(live_server, "370112")))
    # The investor by its pinyin initials (弗迪电池济南基地: fddcjnjd), picked from the suggestions.
    pick_enterprise(page, "investor_id", "fddc", "弗迪电池济南基地")
    page.locator("#chain_master_id").select_option(str(byd))
    page.locator("#kind").select_option("new")
    page.locator("#channel").select_option("chain_master")
    page.locator("#is_key").check()
    page.locator("#agreed_investment_cny_100m").fill("12.5")
    page.locator("#funds_arrived_cny_100m").fill("3")
    page.locator("#stage").select_option("signed")
    # The stage's name as this page's language writes it, for the timeline below.
    signed = page.locator("#stage option[value=signed]").inner_text().strip()
    page.locator("#signed_on").fill("2025-03-01")
    page.locator("#agreed_start_on").fill("2025-06-01")
    page.locator("#responsible_person").fill("测试员")
    submit(page)

    expect(page).to_have_url(re.compile(r"/projects/\d+$"))
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
    expect(page.locator("h1")).to_contain_text(name)
    expect(page.locator("p.flash")).to_contain_text(name)
    record = page.locator("dl.record")
    expect(record).to_contain_text("弗迪电池济南基地")
    expect(record).to_contain_text("比亚迪济南基地")
    expect(record).to_contain_text("12.50")
    expect(record).to_contain_text("3.00")
    timeline = page.locator("ol.timeline > li")
    expect(timeline).to_have_count(1)
    expect(timeline.first).to_contain_text(signed)

    project = page.url.rsplit("/", 1)[1]
    stored = live_server.scalar(
        "SELECT json_build_object('investor', investor_id, 'master', chain_master_id, "
        "'stage', stage, 'signed', signed_on::text, 'amount', agreed_investment_cny_100m::text, "
        "'key', is_key, 'name', name) FROM project WHERE id = :id",
        id=int(project),
    )
    assert stored == {
        "investor": investor, "master": byd, "stage": "signed", "signed": "2025-03-01",
        "amount": "12.5000", "key": True, "name": name,
    }  # fmt: skip

    # Move it on: the move-stage form on the project's page.
    move = page.locator(f"form[action*='/projects/{project}/stage']")
    move.locator("select[name=stage]").select_option("under_construction")
    started = move.locator("option[value=under_construction]").inner_text().strip()
    move.locator("input[name=date]").fill("2025-07-01")
    move.locator("input[name=note]").fill("奠基仪式")
    submit(page, f"form[action*='/projects/{project}/stage']")

    expect(page).to_have_url(re.compile(rf"/projects/{project}(#.*)?$"))
    expect(page.locator("p.flash")).to_be_visible()
    expect(timeline).to_have_count(2)
    expect(timeline.last).to_contain_text(f"{signed} → {started}")
    expect(timeline.last).to_contain_text("奠基仪式")
    assert live_server.scalar("SELECT stage FROM project WHERE id = :id", id=int(project)) == (
        "under_construction"
    )
    assert (
        live_server.scalar(
            "SELECT construction_started_on::text FROM project WHERE id = :id", id=int(project)
        )
        == "2025-07-01"
    )


@LANGS
def test_the_add_project_form_shows_bad_values_beside_the_fields_and_keeps_them(
    signed_in_page, live_server, lang
):
    page = signed_in_page("editor", lang=lang)
    before = live_server.scalar("SELECT count(*) FROM project")
    notes = live_server.unique("备注")

    page.goto("/projects/add")
    page.locator("#chain_id").select_option(str(chain_id(live_server, "automotive")))
    page.locator("#district_id").select_option(str(district_id(live_server, "370112")))
    page.locator("#investor_id").fill("一家尚未入库的投资方")  # a new investor, kept by name
    page.locator("#agreed_investment_cny_100m").fill("-5")
    page.locator("#notes").fill(notes)
    submit(page)

    expect(page).to_have_url(re.compile(r"/projects/add$"))
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
    expect(page.locator(".form-errors")).to_be_visible()
    expect(field_error(page, "name")).to_be_visible()
    expect(page.locator("#name")).to_have_attribute("aria-invalid", "true")
    # What was typed is still there.
    expect(page.locator("#investor_id")).to_have_value("一家尚未入库的投资方")
    expect(page.locator("#agreed_investment_cny_100m")).to_have_value("-5")
    expect(page.locator("#notes")).to_have_value(notes)
    expect(page.locator("#chain_id")).to_have_value(str(chain_id(live_server, "automotive")))

    # With a name, the negative amount is what is refused, beside its field.
    name = live_server.unique("负数金额项目")
    page.locator("#name").fill(name)
    submit(page)
    expect(page).to_have_url(re.compile(r"/projects/add$"))
    expect(field_error(page, "agreed_investment_cny_100m")).to_be_visible()
    expect(field_error(page, "name")).to_have_count(0)
    expect(page.locator("#name")).to_have_value(name)
    expect(page.locator("#agreed_investment_cny_100m")).to_have_value("-5")
    expect(page.locator("#notes")).to_have_value(notes)
    if lang == "en":
        expect(field_error(page, "agreed_investment_cny_100m")).to_contain_text(re.compile(r"\w"))
    assert live_server.scalar("SELECT count(*) FROM project") == before


# --- 关联配套企业: link a supplier, see it with the local supply rate and on the map -------------------


@LANGS
def test_link_a_supplier_then_see_it_on_the_masters_page_and_the_chain_map(
    signed_in_page, live_server, lang
):
    page = signed_in_page("editor", lang=lang)
    byd = enterprise_id(live_server, "比亚迪济南基地")
    automotive = chain_id(live_server, "automotive")
    segment_code = EMPTY_SEGMENT[lang]
    segment = segment_id(live_server, "automotive", segment_code)
    product = live_server.unique(f"测试配套件-{lang}")

    # The segment is a gap of the map before the link.
    page.goto(f"/chains/{automotive}/map")
    box = page.locator(f"#segment-{segment}")
    expect(box).to_have_class(re.compile(r"\bgap\b"))
    expect(box).not_to_contain_text("江龙汽车零部件")

    page.goto("/supply/link")
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
    page.locator("#master").select_option(f"{byd}:{automotive}")
    # The supplier by part of its name, picked from the suggestions.
    pick_enterprise(page, "supplier", "江龙", "江龙汽车零部件")
    page.locator("#segment_id").select_option(str(segment))
    page.locator("#product").fill(product)
    page.locator("#annual_value_cny_10k").fill("1234.5")
    page.locator("#since").fill("2025-02-01")
    page.locator("#status").select_option("active")
    submit(page)

    # The chain master's page, at the chain's section.
    # The chain master's page, found to the supplier just linked.
    expect(page).to_have_url(re.compile(rf"/chain-masters/{byd}\?q=[^#]+(#chain-{automotive})?$"))
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
    expect(page.locator("p.flash")).to_contain_text("江龙汽车零部件")
    section = page.locator(f"section#chain-{automotive}")
    row = section.locator("table[data-group=local] tbody tr", has_text=product)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("江龙汽车零部件")
    expect(row).to_contain_text("1,234.50")

    # The local supply rate shown is the one the database's links give (DOMAIN.md).
    by_value, by_count = (
        live_server.scalar(
            f"SELECT {expression} FROM supply_link l JOIN enterprise e ON e.id = l.supplier_id "
            "WHERE l.buyer_id = :b AND l.chain_id = :c AND l.status = 'active'",
            b=byd,
            c=automotive,
        )
        for expression in (
            "100.0 * sum(l.annual_value_cny_10k) FILTER (WHERE e.district_id IS NOT NULL) "
            "/ sum(l.annual_value_cny_10k)",
            "100.0 * count(*) FILTER (WHERE e.district_id IS NOT NULL) / count(*)",
        )
    )
    assert rate_shown(section, "value") == pytest.approx(float(by_value), abs=0.051)
    assert rate_shown(section, "count") == pytest.approx(float(by_count), abs=0.051)

    # The chain map: the supplier in its segment, which is no longer a gap.
    page.goto(f"/chains/{automotive}/map")
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
    box = page.locator(f"#segment-{segment}")
    expect(box).to_have_attribute("data-segment", segment_code)
    expect(box.locator("ul.enterprise-list").first).to_contain_text("江龙汽车零部件")
    expect(box).not_to_have_class(re.compile(r"\bgap\b"))


@LANGS
def test_the_link_form_refuses_a_chain_master_supplying_itself_and_keeps_the_values(
    signed_in_page, live_server, lang
):
    page = signed_in_page("editor", lang=lang)
    byd = enterprise_id(live_server, "比亚迪济南基地")
    automotive = chain_id(live_server, "automotive")
    before = live_server.scalar("SELECT count(*) FROM supply_link")
    product = live_server.unique("自供产品")

    # Preselected from the chain master's page link (?buyer_id=&chain_id=).
    page.goto(f"/supply/link?buyer_id={byd}&chain_id={automotive}")
    expect(page.locator("#master")).to_have_value(f"{byd}:{automotive}")
    page.locator("#supplier").fill("比亚迪济南基地")  # the exact name, typed
    page.locator("#product").fill(product)
    page.locator("#annual_value_cny_10k").fill("-10")
    submit(page)

    expect(page).to_have_url(re.compile(r"/supply/link(\?.*)?$"))
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
    expect(field_error(page, "annual_value_cny_10k")).to_be_visible()
    expect(page.locator("#annual_value_cny_10k")).to_have_value("-10")
    expect(page.locator("#supplier")).to_have_value("比亚迪济南基地")
    expect(page.locator("#product")).to_have_value(product)
    expect(page.locator("#master")).to_have_value(f"{byd}:{automotive}")

    # A value that passes: now the supplier, equal to the chain master, is refused beside it.
    page.locator("#annual_value_cny_10k").fill("10")
    submit(page)
    expect(field_error(page, "supplier")).to_be_visible()
    expect(page.locator("#supplier")).to_have_attribute("aria-invalid", "true")
    expect(field_error(page, "annual_value_cny_10k")).to_have_count(0)
    expect(page.locator("#supplier")).to_have_value("比亚迪济南基地")
    expect(page.locator("#product")).to_have_value(product)
    expect(page.locator("#annual_value_cny_10k")).to_have_value(re.compile(r"^10(\.00)?$"))
    if lang == "en":
        expect(field_error(page, "supplier")).to_contain_text(re.compile(r"itself", re.I))
    assert live_server.scalar("SELECT count(*) FROM supply_link") == before


def test_a_viewer_sees_the_pages_without_their_forms(signed_in_page, live_server):
    page = signed_in_page("viewer")
    byd = enterprise_id(live_server, "比亚迪济南基地")
    project = live_server.scalar("SELECT min(id) FROM project")

    response = page.goto(f"/projects/{project}")
    assert response is not None and response.status == 200
    expect(page.locator("ol.timeline > li").first).to_be_visible()
    expect(page.locator("form[action*='/stage']")).to_have_count(0)

    page.goto(f"/chain-masters/{byd}")
    expect(page.locator("section[id^=chain-]").first).to_be_visible()
    expect(page.locator("a[href^='/supply/link']")).to_have_count(0)

    for path in ("/supply/link", "/projects/add"):
        response = page.goto(path)
        assert response is not None and response.status == 403, (path, response)
