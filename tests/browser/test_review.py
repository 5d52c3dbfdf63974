"""Review before it counts, in a real browser: a district office adds a project, attaches the
contract and submits it; the city bureau returns it with an opinion; the district corrects it
and submits it again; the city approves it; it appears in the monthly report and its workbook."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_workflows import submit

pytestmark = pytest.mark.browser

DISTRICT = "370112"  # 历城区, whose office is district-370112 in the reference seed
CONTRACT = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def review(page: Page, action: str, opinion: str | None = None) -> None:
    form = page.locator("section#review form")
    if opinion is not None:
        form.locator("textarea[name=opinion]").fill(opinion)
    with page.expect_navigation():
        form.locator(f"button[name=action][value={action}]").click()
    expect(page.locator("p.flash")).to_be_visible()


def test_a_district_project_is_returned_corrected_approved_and_reported(
    signed_in_page, live_server
):
    month = date.today().replace(day=1)
    district = signed_in_page("editor", lang="zh", unit=f"district-{DISTRICT}")
    name = live_server.unique("审核流程项目")
    automotive = live_server.scalar("SELECT id FROM chain WHERE code = 'automotive'")
    district_id = live_server.scalar("SELECT id FROM district WHERE code = :c", c=DISTRICT)

    # The district office adds it: its own planning unit is filled in for it.
    district.goto("/projects/add")
    expect(district.locator("#district_id")).to_have_value(str(district_id))
    district.locator("#name").fill(name)
    district.locator("#chain_id").select_option(str(automotive))
    district.locator("#investor_id").fill("某测试投资方")
    district.locator("#stage").select_option("signed")
    district.locator("#signed_on").fill(month.isoformat())
    district.locator("#agreed_investment_cny_100m").fill("6")
    submit(district)
    expect(district).to_have_url(re.compile(r"/projects/\d+$"))
    project = int(district.url.rsplit("/", 1)[1])
    expect(district.locator("section#review .badge")).to_contain_text("已保存")

    # The contract, then the submission.
    upload = district.locator("section#evidence form")
    upload.locator("input[name=file]").set_input_files(
        {"name": "投资合同.pdf", "mimeType": "application/pdf", "buffer": CONTRACT}
    )
    upload.locator("select[name=kind]").select_option("contract")
    upload.locator("select[name=stage]").select_option("signed")
    with district.expect_navigation():
        upload.locator("button[type=submit]").click()
    expect(district.locator("section#evidence table")).to_contain_text("投资合同.pdf")
    review(district, "submit")
    expect(district.locator("section#review .badge").first).to_contain_text("审核中")
    # Submitted: the unit cannot add evidence meanwhile.
    expect(district.locator("section#evidence form")).to_have_count(0)

    # The city bureau sees it waiting, with the count in the navigation, and returns it.
    city = signed_in_page("reviewer", lang="zh")
    expect(city.locator("nav.main-nav a[href='/reviews'] .badge")).to_be_visible()
    city.goto("/reviews")
    city.locator("section#waiting").get_by_role("link", name=name).click()
    expect(city.locator("section#evidence table")).to_contain_text("投资合同.pdf")
    with city.expect_download() as got:
        city.locator("section#evidence a", has_text="投资合同.pdf").click()
    assert Path(got.value.path()).read_bytes() == CONTRACT
    review(city, "return", "请补充到位资金")
    expect(city.locator("section#review .badge").first).to_contain_text("退回")

    # The district reads the opinion in its 退回 list, corrects and submits again.
    district.goto("/reviews")
    returned = district.locator("section#returned tr", has_text=name)
    expect(returned).to_contain_text("请补充到位资金")
    returned.get_by_role("link", name=name).click()
    district.goto(f"/projects/{project}/edit")
    district.locator("#funds_arrived_cny_100m").fill("2")
    submit(district)
    review(district, "submit")

    # Before approval the monthly report does not count it; after, it does.
    def monthly_row() -> str:
        city.goto(f"/reports/monthly-progress?month={month:%Y-%m}&threshold=5")
        return city.locator(f"tr[data-district='{district_id}']").inner_text()

    before = monthly_row()
    city.goto(f"/projects/{project}")
    review(city, "approve")
    expect(city.locator("section#review .badge").first).to_contain_text("审核通过")
    after = monthly_row()
    assert before != after
    counted = re.findall(r"\d+(?:\.\d+)?", after.split("\n", 1)[-1])
    signed_before = re.findall(r"\d+(?:\.\d+)?", before.split("\n", 1)[-1])
    assert int(counted[0]) == int(signed_before[0]) + 1  # signed this month
    assert float(counted[1]) == pytest.approx(float(signed_before[1]) + 6)

    # And in the workbook the city bureau forwards.
    from openpyxl import load_workbook

    with city.expect_download() as got:
        city.get_by_role("link", name="下载报送表（XLSX）").click()
    sheet = load_workbook(io.BytesIO(Path(got.value.path()).read_bytes())).active
    city_name = live_server.scalar("SELECT name_zh FROM unit WHERE kind = 'city'")
    assert sheet["A2"].value == f"填报单位：{city_name}"
    office = live_server.scalar("SELECT name_zh FROM unit WHERE district_id = :d", d=district_id)
    row = next(r for r in sheet.iter_rows(min_row=6, values_only=True) if r[0] == office)
    assert row[1] == int(counted[0])
    assert row[2] == pytest.approx(float(counted[1]))
