"""Excel in and out the way offices work: every list's export imports back as it is (office and
raw layouts, CSV and XLSX, Chinese and English headers); office files read names, labels and
是/否; formula-like cells never run, in any export, and come back unchanged."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import Connection, text

from tests import factories_sql as f
from tests.conftest import count_rows

IMPORTABLE = ("districts", "chains", "segments", "enterprises", "supply-links", "projects")
TABLES = ("district", "chain", "chain_segment", "enterprise", "supply_link", "project",
          "chain_role")  # fmt: skip
HOSTILE = ['=HYPERLINK("http://x")', "+86 531", "-1+1", "@SUM(A1)", "=1+1", "@A1"]
# Text that begins with a tab or a carriage return cannot be written through chaindb (it trims
# text), only by SQL: its exports are neutralised all the same.
TRIMMED = ["\tTAB", "\rCR"]


@pytest.fixture
def world(conn: Connection) -> dict[str, Any]:
    """A little of everything: references, vocabularies, yes/no, lists, amounts, dates, an
    ended link beside a live one, Chinese and formula-like text."""
    conn.execute(text("SELECT set_config('chaindb.stage_reason', '测试', true)"))
    district = f.district(conn, name_zh="交换测试区", aliases=["交换区", "JHQ"])
    chain = f.chain(conn, name_zh="交换产业链", name_en="Exchange chain", group="emerging",
                    target_2030_cny_100m=1234.5, aliases=["交换链"])  # fmt: skip
    parent = f.segment(conn, chain, name_zh="交换上游", position="upstream")
    segment = f.segment(conn, chain, name_zh="交换环节", parent_id=parent, position="midstream")
    master = f.chain_master(conn, chain)
    supplier = f.enterprise(conn, name_zh="（示例）交换配套企业有限公司", district_id=district,
                            size="small", ownership="private", founded_on="2015-06-01",
                            aliases=["交换配套", "JHPT"], notes=HOSTILE[0],
                            short_name=HOSTILE[1])  # fmt: skip
    foreign = f.enterprise(conn, name_zh="外地交换企业", region_code="320500", active=False)
    f.supply_link(conn, supplier, master, chain, segment_id=segment, product="电芯",
                  annual_value_cny_10k="1234.56", since="2020-01-01", until="2021-12-31",
                  status="ended", notes=HOSTILE[2])  # fmt: skip
    f.supply_link(conn, supplier, master, chain, segment_id=segment, product="电芯",
                  annual_value_cny_10k="99.5", since="2022-01-01", verified=True,
                  verified_at="2024-01-02T03:04:05+08:00", reported_by=HOSTILE[3])  # fmt: skip
    f.supply_link(conn, foreign, master, chain, status="proposed")
    f.project(conn, chain, district, name="交换测试项目", investor_id=supplier, investor_name=None,
              segment_id=segment, stage="signed", signed_on="2024-05-06", is_key=True,
              agreed_investment_cny_100m="12.3456", channel="fund", notes=HOSTILE[4],
              responsible_person=HOSTILE[5])  # fmt: skip
    f.project(conn, chain, district, name="交换测试项目", investor_name="另一位投资方",
              chain_master_id=master)  # the same name twice, on purpose  # fmt: skip
    return {"district": district, "chain": chain}


def _filter(resource: str, world: dict[str, Any]) -> str:
    """Narrow each list to the test's own rows (the database may hold others)."""
    return {
        "districts": "q=交换",
        "chains": "q=交换",
        "segments": f"chain_id={world['chain']}",
        "enterprises": "q=交换",
        "supply-links": f"chain_id={world['chain']}",
        "projects": f"chain_id={world['chain']}",
    }[resource]


def _import_page(web, resource: str, data: bytes, name: str) -> str:
    page = web.text(f"/{resource}/import")
    from tests.conftest import CSRF

    token = next(g for g in CSRF.search(page).groups() if g)
    response = web.client.post(
        f"/{resource}/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)[-3000:]
    page = response.get_data(as_text=True)
    assert "built-in method" not in page  # the summary's counts, not a dict's methods
    return page


def _outcomes(page: str) -> list[str]:
    import re

    return re.findall(r'<tr class="(\w+)"><td class="num">', page)


@pytest.mark.parametrize("resource", IMPORTABLE)
@pytest.mark.parametrize(("fmt", "layout", "lang"), [
    ("xlsx", "office", "zh"), ("csv", "office", "zh"), ("xlsx", "office", "en"),
    ("csv", "office", "en"), ("xlsx", "raw", "zh"), ("csv", "raw", "zh"),
])  # fmt: skip
def test_an_export_imports_back_unchanged(web, conn, world, resource, fmt, layout, lang):
    web.post("/language", {"lang": lang})
    url = f"/{resource}/export?format={fmt}&{_filter(resource, world)}"
    if layout == "raw":
        url += "&layout=raw"
    exported = web.get(url)
    assert exported.status_code == 200
    before = count_rows(conn, *TABLES)
    page = _import_page(web, resource, exported.get_data(), f"export.{fmt}")
    outcomes = _outcomes(page)
    assert outcomes and set(outcomes) == {"unchanged"}, (outcomes, page[-2000:])
    assert count_rows(conn, *TABLES) == before


@pytest.mark.parametrize("resource", IMPORTABLE)
def test_the_apis_raw_export_imports_back_unchanged(api, conn, world, resource):
    for fmt in ("csv", "xlsx"):
        exported = api.get(f"/api/v1/{resource}?format={fmt}&{_filter(resource, world)}")
        assert exported.status_code == 200
        report = api.post(
            f"/api/v1/{resource}/import?dry_run=1",
            data={"file": (io.BytesIO(exported.get_data()), f"x.{fmt}")},
            headers={"Content-Type": "multipart/form-data"},
        ).json
        assert report["rows"] > 0 and report["unchanged"] == report["rows"], report


def _office_sheet(web, url: str):
    return load_workbook(io.BytesIO(web.get(url).get_data())).worksheets[0]


def test_the_office_xlsx_is_ready_to_forward(web, world):
    sheet = _office_sheet(web, f"/projects/export?format=xlsx&chain_id={world['chain']}")
    assert sheet.title == "项目"
    assert sheet["A1"].value == "项目" and sheet["A1"].font.b
    facts = sheet["A2"].value
    assert "筛选：产业链=交换产业链" in facts and "导出人：web-editor" in facts
    assert "导出时间" in facts
    assert sheet.freeze_panes == "A5"
    header = [c.value for c in sheet[4]]
    assert header[:3] == ["编号", "项目", "阶段"]
    assert "协议投资（亿元）" in header and "产业链" in header
    assert all(sheet.column_dimensions[c].width >= 8 for c in "ABCDE")
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=5)]
    ours = next(r for r in rows if r[header.index("投资方")] == "（示例）交换配套企业有限公司")
    assert ours[header.index("阶段")] == "签约"
    assert ours[header.index("产业链")] == "交换产业链"
    assert ours[header.index("区县（功能区）")] == "交换测试区"
    assert ours[header.index("市级重点项目")] == "是"
    assert ours[header.index("招商方式")] == "基金招商"
    assert float(ours[header.index("协议投资（亿元）")]) == pytest.approx(12.3456)


def test_the_english_office_export_speaks_english(web, world):
    web.post("/language", {"lang": "en"})
    sheet = _office_sheet(web, "/enterprises/export?format=xlsx&q=交换")
    assert sheet.title == "Enterprises"
    header = [c.value for c in sheet[4]]
    assert "Registered Chinese name" in header and "Active" in header
    values = [[c.value for c in r] for r in sheet.iter_rows(min_row=5)]
    assert {r[header.index("Active")] for r in values} == {"yes", "no"}


def test_formula_like_text_never_runs_and_comes_back_unchanged(web, api, conn, world):
    raw = web.get("/enterprises/export?format=csv&layout=raw&q=交换").get_data().decode("utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(raw)) for c in row]
    assert "'" + HOSTILE[0] in cells and "'" + HOSTILE[1] in cells
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
    office = web.get(f"/supply-links/export?format=csv&chain_id={world['chain']}")
    text_ = office.get_data().decode("utf-8-sig")
    assert "'" + HOSTILE[2] in text_ and "'" + HOSTILE[3] in text_
    sheet = _office_sheet(web, "/enterprises/export?format=xlsx&q=交换")
    formula_like = [c for row in sheet.iter_rows() for c in row if c.value in HOSTILE]
    assert formula_like and all(c.data_type == "s" and c.quotePrefix for c in formula_like)
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)
    # text written by SQL that begins with a tab or a carriage return
    f.enterprise(conn, name_zh="交换制表符企业", notes=TRIMMED[0], short_name=TRIMMED[1])
    trimmed = web.get("/enterprises/export?format=csv&layout=raw&q=制表符").get_data()
    cells = [c for row in csv.reader(io.StringIO(trimmed.decode("utf-8-sig"))) for c in row]
    assert "'" + TRIMMED[0] in cells and "'" + TRIMMED[1] in cells
    # the report exports too
    f.enterprise(conn, name_zh=HOSTILE[0] + "企业")
    report = web.get("/reports/chain-master-suppliers/export?format=csv").get_data()
    assert b"\n=" not in report and b",=" not in report
    # and the cells come back as they were
    page = _import_page(web, "enterprises", raw.encode("utf-8-sig"), "e.csv")
    assert set(_outcomes(page)) == {"unchanged"}


def test_a_table_of_ones_own_with_chinese_headers_and_words(api, conn, world):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["名录（自制）"])  # a title row of one's own
    sheet.append([])
    sheet.append(
        [
            "注册中文名称",
            "区县(功能区)",
            "企业规模",
            "有效",
            "成立日期",
            "别名",
            "拼音首字母（可检索）",
        ]
    )
    sheet.append(
        [
            "泉城精工机械有限公司",
            "交换测试区",
            "小型",
            "是",
            "2020/3/1",
            "甲企业、自制甲",
            "zzbgqyj",
        ]
    )
    sheet.append(["鑫达新材料科技有限公司", "", "微型", "0", "2021年12月31日", "", ""])
    sheet.append(["华宇电子信息有限公司", "", "", "FALSE", "", "", ""])
    data = io.BytesIO()
    workbook.save(data)
    report = api.post(
        "/api/v1/enterprises/import",
        data={"file": (io.BytesIO(data.getvalue()), "mine.xlsx")},
        headers={"Content-Type": "multipart/form-data"},
    )
    assert report.status_code == 200, report.json["results"]
    assert report.json["create"] == 3 and report.json["ignored_columns"] == ["拼音首字母（可检索）"]
    rows = conn.execute(text(
        "SELECT name_zh, district_id, size, active, founded_on::text, aliases FROM enterprise "
        "WHERE name_zh IN ('泉城精工机械有限公司', '鑫达新材料科技有限公司', '华宇电子信息有限公司')"
    )).all()  # fmt: skip
    assert sorted(tuple(r) for r in rows) == sorted([
        ("华宇电子信息有限公司", None, None, False, None, []),
        ("鑫达新材料科技有限公司", None, "micro", False, "2021-12-31", []),
        ("泉城精工机械有限公司", world["district"], "small", True, "2020-03-01", ["甲企业", "自制甲"]),
    ])  # fmt: skip


def test_an_unknown_column_is_refused_by_its_name(api, conn):
    before = count_rows(conn, "enterprise")
    response = api.post(
        "/api/v1/enterprises/import",
        data="注册中文名称,规模大小\n某企业,小型\n".encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 422
    assert "规模大小" in response.json["error"]["message"]
    assert count_rows(conn, "enterprise") == before


def test_an_ended_link_is_matched_not_duplicated(api, conn, world):
    exported = api.get(f"/api/v1/supply-links?format=csv&chain_id={world['chain']}")
    before = count_rows(conn, "supply_link")
    report = api.post(
        "/api/v1/supply-links/import", data=exported.get_data(),
        headers={"Content-Type": "text/csv"},
    ).json  # fmt: skip
    assert report["create"] == 0 and report["unchanged"] == report["rows"] == 3
    assert count_rows(conn, "supply_link") == before


def test_an_import_row_with_a_large_amount_waits_for_a_confirmation(api, web, conn, world):
    csv_ = (
        "项目名称,产业链,区县（功能区）,投资方（未录入链库）,协议投资（亿元）\n"
        "大额导入项目,交换产业链,交换测试区,某投资方,100000\n"
    )
    refused = api.post("/api/v1/projects/import", data=csv_.encode(),
                       headers={"Content-Type": "text/csv"})  # fmt: skip
    assert refused.status_code == 422
    row = refused.json["results"][0]
    assert (row["code"], row["confirm"]) == ("confirm_required", "large_amount")
    confirmed = api.post("/api/v1/projects/import?confirm=large_amount", data=csv_.encode(),
                         headers={"Content-Type": "text/csv"})  # fmt: skip
    assert confirmed.status_code == 200, confirmed.json
    page = _import_page(
        web, "projects", csv_.replace("大额导入项目", "大额导入项目二").encode(), "p.csv"
    )
    assert 'name="confirm" value="large_amount"' in page and "10 万亿元" in page
