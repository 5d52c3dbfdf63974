"""The enterprise and designation pages: credit-code rules in the form, the detail page with
everything that refers to an enterprise, search, escaping and role limits."""

from __future__ import annotations

import io
import re

from sqlalchemy import text
from stdnum.cn.uscc import calc_check_digit

from tests import factories_sql as f
from tests.conftest import count_rows

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
SCRIPT = "<script>alert(1)</script>"


def good_code(n: int | None = None) -> str:
    first17 = f"91370112MA{f.next_number() if n is None else n:07d}"
    return first17 + calc_check_digit(first17)


def bad_code() -> str:
    code = good_code()
    wrong = next(c for c in ALPHABET if c != code[17])
    return code[:17] + wrong


def form(**values: str) -> dict[str, str]:
    return {"name_zh": "济南示例精密机械有限公司", "active": "y", **values}


def row(conn, uscc: str):
    return (
        conn.execute(text("SELECT * FROM enterprise WHERE uscc = :u"), {"u": uscc}).mappings().one()
    )


def error_of(page: str, field: str) -> str:
    """The message shown beside `field` ('' when there is none)."""
    found = re.search(rf'id="{field}-error" role="alert">([^<]*)<', page)
    return found.group(1) if found else ""


# --- create and the credit-code rules ------------------------------------------------------------


def test_create_with_a_valid_credit_code(web, conn):
    district = f.district(conn, name_zh="历城区")
    code = good_code()
    response = web.post(
        "/enterprises/new",
        form(
            uscc=code.lower(),
            short_name="示例精机",
            aliases="济南旧名机械厂、老厂, 另一名",
            district_id=str(district),
            size="small",
            ownership="private",
            founded_on="2015-06-01",
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    saved = row(conn, code)  # upper-cased by the rules
    assert saved["name_initials"] and saved["name_initials"].startswith("jnsljmjxyxgs")
    assert "sljj" in saved["name_initials"].split()
    assert saved["aliases"] == ["济南旧名机械厂", "老厂", "另一名"]
    assert saved["district_id"] == district and saved["size"] == "small"
    assert str(saved["founded_on"]) == "2015-06-01" and saved["active"] is True
    page = web.text(response.location)
    assert "济南示例精密机械有限公司" in page and code in page and "历城区" in page


def test_a_bad_check_digit_is_refused_beside_the_code(web, conn):
    code = bad_code()
    before = count_rows(conn, "enterprise")
    response = web.post("/enterprises/new", form(uscc=code, short_name="示例精机"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert code in error_of(page, "uscc")
    assert f'value="{code}"' in page
    assert 'value="济南示例精密机械有限公司"' in page and 'value="示例精机"' in page
    assert count_rows(conn, "enterprise") == before


def test_a_duplicate_credit_code_is_a_conflict(web, conn):
    code = good_code()
    f.enterprise(conn, uscc=code, name_zh="先到的企业")
    before = count_rows(conn, "enterprise")
    response = web.post("/enterprises/new", form(uscc=code, name_zh="后到的企业"))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert error_of(page, "uscc")
    assert 'value="后到的企业"' in page
    assert count_rows(conn, "enterprise") == before


def test_the_override_needs_a_reason_and_is_recorded(web, conn):
    code = bad_code()
    before = count_rows(conn, "enterprise")
    response = web.post("/enterprises/new", form(uscc=code, uscc_check_override="y"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert error_of(page, "uscc_override_reason")
    assert count_rows(conn, "enterprise") == before

    reason = "2015年前赋码, 市场监管局确认"
    response = web.post(
        "/enterprises/new",
        form(uscc=code, uscc_check_override="y", uscc_override_reason=reason),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    saved = row(conn, code)
    assert saved["uscc_check_override"] is True and saved["uscc_override_reason"] == reason
    assert reason in web.text(response.location)


def test_required_name_and_malformed_region(web, conn):
    before = count_rows(conn, "enterprise")
    response = web.post("/enterprises/new", form(name_zh="", region_code="32"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert error_of(page, "name_zh") and error_of(page, "region_code")
    assert count_rows(conn, "enterprise") == before


def test_local_or_elsewhere_not_both(web, conn):
    district = f.district(conn)
    before = count_rows(conn, "enterprise")
    response = web.post("/enterprises/new", form(district_id=str(district), region_code="320100"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert error_of(page, "region_code")
    assert 'value="320100"' in page
    assert count_rows(conn, "enterprise") == before


def test_edit_shows_the_names_and_recomputes_the_initials(web, conn):
    code = good_code()
    response = web.post("/enterprises/new", form(uscc=code, aliases="老厂、旧名"))
    assert response.status_code == 302
    enterprise = row(conn, code)["id"]
    page = web.text(f"/enterprises/{enterprise}/edit")
    assert 'value="老厂、旧名"' in page
    assert 'name="active" type="checkbox" value="y"' in page and "checked" in page
    version = page.split('name="version" type="hidden" value="')[1].split('"')[0]
    response = web.post(
        f"/enterprises/{enterprise}/edit",
        form(uscc=code, name_zh="青岛另名有限公司", aliases="老厂、旧名", version=version),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    saved = row(conn, code)
    assert saved["name_zh"] == "青岛另名有限公司"
    assert saved["name_initials"].split()[0] == "qdlmyxgs"
    assert saved["aliases"] == ["老厂", "旧名"]


def test_the_credit_code_opens_the_page_too(web, conn):
    code = good_code()
    f.enterprise(conn, uscc=code, name_zh="按代码打开的企业")
    assert "按代码打开的企业" in web.text(f"/enterprises/{code}")


# --- the detail page: everything that refers to the enterprise -----------------------------------


def test_the_detail_page_lists_every_related_record(web, conn):
    district = f.district(conn, name_zh="槐荫区")
    auto = f.chain(conn, name_zh="示例汽车链")
    chips = f.chain(conn, name_zh="示例芯片链")
    segment = f.segment(conn, auto, name_zh="示例动力电池环节")
    me = f.enterprise(conn, name_zh="主角企业有限公司", district_id=district)
    master = f.chain_master(conn, auto)
    conn.execute(
        text("UPDATE enterprise SET name_zh = '买方链主有限公司' WHERE id = :id"), {"id": master}
    )
    # As a supplier in the automotive chain, and as a chain master in the chips chain.
    f.chain_role(
        conn, me, auto, "supplier", segment_id=segment, since="2020-01-01", source="调研甲"
    )
    f.chain_role(conn, me, chips, "chain_master", source="认定乙")
    to_master = f.supply_link(
        conn,
        me,
        master,
        auto,
        product="示例电芯模组",
        annual_value_cny_10k=1234.5,
        segment_id=segment,
    )
    local = f.enterprise(conn, name_zh="本地配套有限公司", district_id=district)
    remote = f.enterprise(conn, name_zh="外地配套有限公司", region_code="320100")
    f.supply_link(conn, local, me, chips, product="示例晶圆")
    f.supply_link(conn, remote, me, chips, product="示例光刻胶", annual_value_cny_10k=88)
    designation = f.insert(
        conn, "designation", enterprise_id=me, type="little_giant", level="national", year=2023,
        issuer="工业和信息化部",
    )  # fmt: skip
    f.project(conn, auto, district, name="主角投资的示例项目", investor_id=me,
              agreed_investment_cny_100m=12.5)  # fmt: skip
    f.project(conn, chips, district, name="服务主角的示例项目", chain_master_id=me)

    page = web.text(f"/enterprises/{me}")
    # Roles: the chains, the segment, the sources.
    for expected in ("示例汽车链", "示例芯片链", "示例动力电池环节", "调研甲", "认定乙"):
        assert expected in page, expected
    # Designations, linked to their pages.
    assert f'href="/designations/{designation}"' in page and "工业和信息化部" in page
    # As supplier: to which chain master, what, how much.
    assert f'href="/enterprises/{master}"' in page and "买方链主有限公司" in page
    assert "示例电芯模组" in page and "1,234.50" in page
    # As chain master: its suppliers, local and not.
    for supplier in (local, remote):
        assert f'href="/enterprises/{supplier}"' in page
    assert "本地配套有限公司" in page and "外地配套有限公司" in page
    assert "示例晶圆" in page and "示例光刻胶" in page and "320100" in page
    assert page.count('class="badge nonlocal"') == 1
    # Projects as investor and as the chain master served.
    assert "主角投资的示例项目" in page and "12.50" in page
    assert "服务主角的示例项目" in page
    assert to_master  # the link exists; its page belongs to the supply pages


def test_names_are_escaped_on_list_and_detail(web, conn):
    enterprise = f.enterprise(conn, name_zh=SCRIPT, short_name=SCRIPT)
    for path in ("/enterprises", f"/enterprises/{enterprise}"):
        page = web.text(path)
        assert SCRIPT not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_search_by_pinyin_initials(web, conn):
    assert web.post("/enterprises/new", form(uscc=good_code())).status_code == 302
    assert web.post("/enterprises/new", form(name_zh=SCRIPT, uscc=good_code())).status_code == 302
    other = f.enterprise(conn, name_zh="青岛无关企业")
    conn.execute(
        text("UPDATE enterprise SET name_initials = 'qdwgqy' WHERE id = :id"), {"id": other}
    )
    page = web.text("/enterprises?q=jnsl")
    assert "济南示例精密机械有限公司" in page and "青岛无关企业" not in page
    page = web.text("/enterprises?q=scriptalert")
    assert "&lt;script&gt;" in page and "济南示例精密机械有限公司" not in page
    assert "青岛无关企业" in web.text("/enterprises?q=青岛")


def test_list_filters_by_district_size_and_role(web, conn):
    district = f.district(conn)
    chain = f.chain(conn)
    f.enterprise(conn, name_zh="大型本地企业", district_id=district, size="large")
    small = f.enterprise(conn, name_zh="小型外地企业", region_code="320100", size="small")
    f.chain_role(conn, small, chain, "supplier")
    page = web.text(f"/enterprises?district_id={district}")
    assert "大型本地企业" in page and "小型外地企业" not in page
    page = web.text("/enterprises?size__in=small")
    assert "小型外地企业" in page and "大型本地企业" not in page
    page = web.text(f"/enterprises?chain_id={chain}&role=supplier")
    assert "小型外地企业" in page and "大型本地企业" not in page
    assert "大型本地企业" not in web.text(f"/enterprises?chain_id={chain}&role=chain_master")
    page = web.text("/enterprises?local=false")
    assert "小型外地企业" in page and "大型本地企业" not in page
    page = web.text("/enterprises?ordering=size")
    assert page.index("大型本地企业") < page.index("小型外地企业")
    count = web.text("/enterprises?size__in=small").split('class="count"')[1][:40]
    assert "1" in count


def test_delete_asks_and_refuses_while_referenced(web, conn):
    chain = f.chain(conn)
    enterprise = f.enterprise(conn, name_zh="待删除企业")
    f.insert(conn, "designation", enterprise_id=enterprise, type="gazelle", level="city", year=2024)
    role = f.chain_role(conn, enterprise, chain, "supplier")
    page = web.text(f"/enterprises/{enterprise}/delete")
    assert "chain_role" in page and '<form method="post">' not in page
    response = web.post(f"/enterprises/{enterprise}/delete")
    assert response.status_code == 409
    conn.execute(text("DELETE FROM chain_role WHERE id = :id"), {"id": role})
    assert '<form method="post">' in web.text(f"/enterprises/{enterprise}/delete")
    response = web.post(f"/enterprises/{enterprise}/delete")
    assert response.status_code == 302
    assert count_rows(conn, "enterprise", "designation") == {"enterprise": 0, "designation": 0}


# --- roles ---------------------------------------------------------------------------------------


def test_a_viewer_reads_but_cannot_write(web_as, conn):
    enterprise = f.enterprise(conn, name_zh="只读企业")
    designation = f.insert(
        conn, "designation", enterprise_id=enterprise, type="high_tech", level="national", year=2022
    )
    viewer = web_as("viewer")
    page = viewer.text("/enterprises")
    assert "只读企业" in page
    assert "/enterprises/new" not in page and "/enterprises/import" not in page
    page = viewer.text(f"/enterprises/{enterprise}")
    assert f"/enterprises/{enterprise}/edit" not in page
    assert f"/enterprises/{enterprise}/delete" not in page
    assert "/designations/new" not in page
    page = viewer.text(f"/designations/{designation}")
    assert f"/designations/{designation}/edit" not in page
    before = count_rows(conn, "enterprise", "designation")
    assert viewer.post("/enterprises/new", form(uscc=good_code())).status_code == 403
    assert viewer.post(f"/enterprises/{enterprise}/delete").status_code == 403
    response = viewer.post(
        "/designations/new",
        {"enterprise_id": f"只读企业 #{enterprise}", "type": "gazelle", "level": "city",
         "year": "2024"},
    )  # fmt: skip
    assert response.status_code == 403
    assert count_rows(conn, "enterprise", "designation") == before


# --- designations --------------------------------------------------------------------------------


def designation(enterprise: str, **values: str) -> dict[str, str]:
    return {"enterprise_id": enterprise, "type": "little_giant", "level": "national",
            "year": "2023", "valid_until": "2026-12-31", "issuer": "工业和信息化部", **values}  # fmt: skip


def test_create_a_designation_naming_the_enterprise_by_credit_code(web, conn):
    code = good_code()
    enterprise = f.enterprise(conn, uscc=code, name_zh="小巨人企业")
    assert "小巨人企业 #" in web.text(f"/designations/new?enterprise_id={enterprise}")
    response = web.post("/designations/new", designation(code))
    assert response.status_code == 302, response.get_data(as_text=True)
    saved = conn.execute(text("SELECT * FROM designation")).mappings().one()
    assert saved["enterprise_id"] == enterprise and saved["type"] == "little_giant"
    assert saved["year"] == 2023 and str(saved["valid_until"]) == "2026-12-31"
    page = web.text(response.location)
    assert f'href="/enterprises/{enterprise}"' in page and "小巨人企业" in page
    # The enterprise's page lists it.
    assert f'href="{response.location}"' in web.text(f"/enterprises/{enterprise}")


def test_designation_rules_beside_their_fields(web, conn):
    enterprise = f.enterprise(conn, name_zh="规则企业")
    picked = f"规则企业 #{enterprise}"
    before = count_rows(conn, "designation")
    # Valid until before the year granted.
    response = web.post("/designations/new", designation(picked, valid_until="2020-12-31"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert error_of(page, "valid_until") and 'value="2020-12-31"' in page
    # An unknown enterprise.
    response = web.post("/designations/new", designation("不存在的企业"))
    assert response.status_code == 422
    assert error_of(response.get_data(as_text=True), "enterprise_id")
    assert count_rows(conn, "designation") == before
    # The same designation twice.
    assert web.post("/designations/new", designation(picked)).status_code == 302
    response = web.post("/designations/new", designation(picked))
    assert response.status_code == 409
    assert error_of(response.get_data(as_text=True), "enterprise_id")
    assert count_rows(conn, "designation") == {"designation": 1}


def test_designation_list_filters(web, conn):
    first = f.enterprise(conn, name_zh="甲企业")
    second = f.enterprise(conn, name_zh="乙企业")
    f.insert(conn, "designation", enterprise_id=first, type="gazelle", level="city", year=2022)
    f.insert(
        conn, "designation", enterprise_id=second, type="unicorn", level="provincial", year=2024
    )
    page = web.text("/designations?type=gazelle")
    assert "甲企业" in page and "乙企业" not in page
    page = web.text("/designations?level=provincial&year=2024")
    assert "乙企业" in page and "甲企业" not in page
    page = web.text(f"/designations?enterprise_id={second}")
    assert "乙企业 #" in page and "甲企业" not in page
    page = web.text("/designations?enterprise=甲")
    assert "甲企业" in page and "乙企业" not in page
    page = web.text(f"/designations?enterprise=乙企业+%23{second}")
    assert "乙企业" in page and "甲企业" not in page
    assert "甲企业" not in web.text("/designations?enterprise=无此企业")


def test_designation_edit_and_delete(web, conn):
    enterprise = f.enterprise(conn, name_zh="可改企业")
    item = f.insert(
        conn, "designation", enterprise_id=enterprise, type="high_tech", level="national", year=2021
    )
    page = web.text(f"/designations/{item}/edit")
    assert f'value="可改企业 #{enterprise}"' in page
    version = page.split('name="version" type="hidden" value="')[1].split('"')[0]
    response = web.post(
        f"/designations/{item}/edit",
        designation(f"可改企业 #{enterprise}", type="high_tech", year="2021",
                    valid_until="2024-12-31", version=version),
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    assert str(conn.execute(text("SELECT valid_until FROM designation")).scalar()) == "2024-12-31"
    assert 'method="post"' in web.text(f"/designations/{item}/delete")
    assert web.post(f"/designations/{item}/delete").status_code == 302
    assert count_rows(conn, "designation") == {"designation": 0}


def test_export_the_filtered_list_and_import_it_back(web, conn, app, tmp_path):
    app.config["SETTINGS"] = app.config["SETTINGS"].__class__(
        **{**app.config["SETTINGS"].__dict__, "data_dir": tmp_path}
    )
    f.enterprise(conn, name_zh="导出小企业", size="small")
    f.enterprise(conn, name_zh="不导出大企业", size="large")
    response = web.get("/enterprises/export?format=csv&size__in=small")
    assert response.status_code == 200
    exported = response.get_data(as_text=True)
    assert "导出小企业" in exported and "不导出大企业" not in exported

    code = good_code()
    csv = f"uscc,name_zh,short_name\n{code},济南导入示例有限公司,导入示例\n"
    response = web.post(
        "/enterprises/import",
        {"file": (io.BytesIO(csv.encode()), "e.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert count_rows(conn, "enterprise") == {"enterprise": 2}
    token = response.get_data(as_text=True).split('name="upload" type="hidden" value="')[1]
    response = web.post("/enterprises/import", {"upload": token.split('"')[0]})
    assert response.status_code == 302
    assert row(conn, code)["name_initials"] == "jndrslyxgs drsl"
