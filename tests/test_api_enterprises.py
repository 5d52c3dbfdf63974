"""The enterprises API: credit codes, local or not, search by Chinese, pinyin initials and code
prefix, role filters, keyset pages; designations; an enterprise's designations and roles."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from chaindb.enterprises.search import initials, name_initials
from chaindb.enterprises.uscc import with_check_character
from tests import factories_sql as f
from tests.conftest import count_rows


def code(first17: str) -> str:
    return with_check_character(first17)


def uscc(n: int | None = None) -> str:
    return f.valid_uscc(n)


def wrong_check(valid: str) -> str:
    """The same code with a check character that does not fit."""
    return valid[:17] + ("0" if valid[17] != "0" else "1")


def district_code(conn, district_id: int) -> str:
    return conn.execute(
        text("SELECT code FROM district WHERE id = :i"), {"i": district_id}
    ).scalar()


def enterprise_log(conn) -> int:
    """Entries of the change log about enterprises."""
    sql = "SELECT count(*) FROM change_log WHERE table_name = 'enterprise'"
    return conn.execute(text(sql)).scalar_one()


def create(api, **fields) -> dict:
    # Names unlike each other: two made in one test are not possible duplicates.
    body = {"name_zh": f"测试企业{uuid.uuid4().hex[:10]}有限公司", **fields}
    response = api.post("/api/v1/enterprises", body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def names(page: dict) -> list[str]:
    return [row["name_zh"] for row in page["results"]]


def error_fields(response) -> set[str]:
    return {d["field"] for d in response.get_json()["error"]["details"]}


# --- pinyin initials ------------------------------------------------------------------------------


def test_initials_read_polyphonic_characters_by_phrase_and_keep_letters_and_digits():
    assert initials("比亚迪济南基地") == "bydjnjd"
    assert initials("中国重汽集团济南卡车") == "zgzqjtjnkc"
    assert initials("重庆") == "cq"
    assert initials("长清区") == "zqq"
    assert initials("（示例）济南恒远汽车零部件有限公司001号") == "sljnhyqclbjyxgs001h"
    assert initials("BMS 采集板") == "bmscjb"
    assert initials("ＡＢＣ１２３") == "abc123"  # full-width letters and digits
    assert name_initials("比亚迪济南基地", "比亚迪", ["比亚迪", "BYD"]) == "bydjnjd byd"
    assert name_initials("…", None, []) is None


def test_synthetic_names_get_the_initials_the_service_computes():
    from seeds import synthetic

    for serial, chain in ((7, None), (123456, "汽车"), (3, "航空航天暨低空经济")):
        for suffix in synthetic.NAME_SUFFIXES:
            name, short = synthetic.enterprise_names(serial, suffix, chain)
            assert synthetic.enterprise_initials(serial, suffix, chain) == name_initials(
                name, short
            )


# --- create, read, update, delete -----------------------------------------------------------------


def test_create_read_update_replace_delete_an_enterprise(api, conn):
    district = district_code(conn, f.district(conn))
    code_ = uscc()
    created = create(
        api,
        uscc=code_.lower()[:6] + " " + code_[6:12].lower() + "-" + code_[12:],
        name_zh="比亚迪济南基地",
        short_name="比亚迪",
        district_id=district,
        size="large",
    )
    assert created["uscc"] == code_  # spaces and dashes removed, letters upper-cased
    assert created["name_initials"] == "bydjnjd byd"
    assert isinstance(created["district_id"], int)

    by_code = api.get(f"/api/v1/enterprises/{code_}")
    assert by_code.status_code == 200 and by_code.get_json()["id"] == created["id"]
    assert api.get(f"/api/v1/enterprises/{code_.lower()}").get_json()["id"] == created["id"]
    assert api.get(f"/api/v1/enterprises/{created['id']}").get_json()["uscc"] == code_

    changed = api.patch(
        f"/api/v1/enterprises/{code_}",
        {"name_zh": "中国重汽集团济南卡车", "short_name": None},
        headers={"If-Match": by_code.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["name_initials"] == "zgzqjtjnkc"
    assert changed.get_json()["district_id"] == created["district_id"]  # untouched

    replaced = api.put(
        f"/api/v1/enterprises/{created['id']}",
        {"uscc": code_, "name_zh": "济钢集团", "region_code": "370200"},
    )
    assert replaced.status_code == 200, replaced.get_json()
    body = replaced.get_json()
    assert (body["name_initials"], body["district_id"], body["size"]) == ("jgjt", None, None)

    assert api.delete(f"/api/v1/enterprises/{code_}").status_code == 204
    assert api.get(f"/api/v1/enterprises/{code_}").status_code == 404


def test_a_viewer_cannot_create(api, conn):
    before = count_rows(conn, "enterprise")
    response = api.post("/api/v1/enterprises", {"name_zh": "某企业"}, role="viewer")
    assert response.status_code == 403
    assert count_rows(conn, "enterprise") == before


def test_an_enterprise_without_a_code_is_fine(api):
    created = create(api, name_zh="某外资企业", uscc=None, region_code="440300")
    assert created["uscc"] is None and created["uscc_check_override"] is False


# --- the credit code -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (wrong_check(f.valid_uscc(990001)), "18th character should be"),
        ("9137010012345", "has 18 characters"),
        ("91370100ABCDEFGHIO", "no position holds I, O, S, V or Z"),
    ],
)
def test_an_invalid_credit_code_is_a_422_naming_uscc_and_changes_nothing(api, conn, bad, reason):
    before = count_rows(conn, "enterprise"), enterprise_log(conn)
    response = api.post("/api/v1/enterprises", {"uscc": bad, "name_zh": "某企业"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert [d["field"] for d in error["details"]] == ["uscc"]
    assert reason in error["message"]
    assert (count_rows(conn, "enterprise"), enterprise_log(conn)) == before


def test_an_invalid_code_is_refused_on_update_too(api, conn):
    created = create(api, uscc=uscc())
    response = api.patch(
        f"/api/v1/enterprises/{created['id']}", {"uscc": wrong_check(created["uscc"])}
    )
    assert response.status_code == 422 and error_fields(response) == {"uscc"}
    assert api.get(f"/api/v1/enterprises/{created['id']}").get_json()["uscc"] == created["uscc"]


def test_a_duplicate_code_is_a_409(api, conn):
    code_ = uscc()
    create(api, uscc=code_)
    before = count_rows(conn, "enterprise")
    response = api.post("/api/v1/enterprises", {"uscc": code_.lower(), "name_zh": "另一家"})
    assert response.status_code == 409
    assert error_fields(response) == {"uscc"}
    assert count_rows(conn, "enterprise") == before


def test_an_override_needs_a_reason(api, conn):
    early = wrong_check(uscc())
    before = count_rows(conn, "enterprise")
    without = api.post(
        "/api/v1/enterprises",
        {"uscc": early, "name_zh": "老企业", "uscc_check_override": True},
    )
    assert without.status_code == 422
    assert error_fields(without) == {"uscc_override_reason"}
    blank = api.post(
        "/api/v1/enterprises",
        {"uscc": early, "name_zh": "老企业", "uscc_check_override": True,
         "uscc_override_reason": "  "},
    )  # fmt: skip
    assert blank.status_code == 422
    no_code = api.post(
        "/api/v1/enterprises",
        {"name_zh": "老企业", "uscc_check_override": True, "uscc_override_reason": "x"},
    )
    assert no_code.status_code == 422 and error_fields(no_code) == {"uscc"}
    assert count_rows(conn, "enterprise") == before

    accepted = create(
        api,
        uscc=early,
        name_zh="老企业",
        uscc_check_override=True,
        uscc_override_reason="2015年早期赋码，经市场监管局核实（示例）",
    )
    assert accepted["uscc"] == early and accepted["uscc_check_override"] is True
    # Lifting the override while the code still fails the check is refused.
    lifted = api.patch(f"/api/v1/enterprises/{early}", {"uscc_check_override": False})
    assert lifted.status_code == 422 and error_fields(lifted) == {"uscc"}
    # Even with an override the format must hold.
    bad_format = api.post(
        "/api/v1/enterprises",
        {"uscc": "91370100ABCDEFGHIO", "name_zh": "某企业", "uscc_check_override": True,
         "uscc_override_reason": "x"},
    )  # fmt: skip
    assert bad_format.status_code == 422 and error_fields(bad_format) == {"uscc"}


# --- local or elsewhere ---------------------------------------------------------------------------


def test_district_and_region_together_are_a_422_naming_the_field(api, conn):
    district = district_code(conn, f.district(conn))
    before = count_rows(conn, "enterprise")
    both = api.post(
        "/api/v1/enterprises",
        {"name_zh": "某企业", "district_id": district, "region_code": "370200"},
    )
    assert both.status_code == 422
    assert error_fields(both) == {"district_id", "region_code"}
    assert count_rows(conn, "enterprise") == before

    local = create(api, district_id=district)
    moved = api.patch(f"/api/v1/enterprises/{local['id']}", {"region_code": "320500"})
    assert moved.status_code == 422 and error_fields(moved) == {"region_code"}
    really_moved = api.patch(
        f"/api/v1/enterprises/{local['id']}", {"region_code": "320500", "district_id": None}
    )
    assert really_moved.status_code == 200

    jinan = api.post("/api/v1/enterprises", {"name_zh": "某企业", "region_code": "370112"})
    assert jinan.status_code == 422 and error_fields(jinan) == {"region_code"}
    unknown = api.post("/api/v1/enterprises", {"name_zh": "某企业", "district_id": "NOPE"})
    assert unknown.status_code == 422 and error_fields(unknown) == {"district_id"}
    assert count_rows(conn, "enterprise") == {"enterprise": before["enterprise"] + 1}


# --- search --------------------------------------------------------------------------------------


@pytest.fixture
def anchors(api, conn) -> dict[str, dict]:
    district = district_code(conn, f.district(conn))
    return {
        "byd": create(
            api, name_zh="比亚迪济南基地", short_name="比亚迪", uscc=code("91370112BYD000001"),
            district_id=district,
        ),
        "sinotruk": create(
            api, name_zh="中国重汽集团济南卡车股份有限公司", short_name="济南卡车",
            aliases=["中国重汽集团济南卡车"], uscc=code("91370100JNKC00001"), district_id=district,
        ),
        "elsewhere": create(
            api, name_zh="宁德时代新能源科技股份有限公司", short_name="宁德时代",
            uscc=code("91350900CATL00001"), region_code="350900",
        ),
    }  # fmt: skip


def search(api, q: str, **more) -> list[str]:
    response = api.get("/api/v1/enterprises", query_string={"q": q, **more})
    assert response.status_code == 200, response.get_json()
    return names(response.get_json())


def test_search_by_chinese_name_short_name_and_alias(api, anchors):
    assert search(api, "比亚迪") == ["比亚迪济南基地"]
    assert search(api, "济南卡车") == ["中国重汽集团济南卡车股份有限公司"]
    assert search(api, "宁德时代") == ["宁德时代新能源科技股份有限公司"]
    assert search(api, "济南") == ["比亚迪济南基地", "中国重汽集团济南卡车股份有限公司"]
    assert search(api, "不存在的企业") == []


def test_search_by_pinyin_initials_anywhere_in_the_name(api, anchors):
    assert search(api, "byd") == ["比亚迪济南基地"]
    assert search(api, "BYD") == ["比亚迪济南基地"]
    assert search(api, "zgzq") == ["中国重汽集团济南卡车股份有限公司"]
    assert search(api, "jnkc") == ["中国重汽集团济南卡车股份有限公司"]  # mid-name
    assert search(api, "nd sd") == ["宁德时代新能源科技股份有限公司"]  # spaces ignored
    assert search(api, "xyz") == []


def test_search_by_credit_code_prefix(api, anchors):
    assert search(api, "91370112") == ["比亚迪济南基地"]
    assert search(api, "91370112byd") == ["比亚迪济南基地"]
    assert search(api, anchors["elsewhere"]["uscc"]) == ["宁德时代新能源科技股份有限公司"]
    assert search(api, "9137") == ["比亚迪济南基地", "中国重汽集团济南卡车股份有限公司"]
    # A prefix, not a substring.
    assert search(api, "370112") == []


def test_search_combines_with_filters_and_is_escaped(api, anchors):
    assert search(api, "济南", local="true", ordering="-id") == [
        "中国重汽集团济南卡车股份有限公司",
        "比亚迪济南基地",
    ]
    assert search(api, "济南", local="false") == []
    assert search(api, "济南%") == []
    assert search(api, "%") == []


# --- filters, ordering, pages -----------------------------------------------------------------


def test_filters_local_size_dates_and_more(api, conn):
    district_id = f.district(conn)
    district = district_code(conn, district_id)
    create(api, name_zh="本地甲", district_id=district, size="small", founded_on="2010-05-01")
    create(api, name_zh="本地乙", district_id=district, size="large", ownership="state")
    create(api, name_zh="外地丙", region_code="320500", size="medium", founded_on="2001-01-01")
    create(api, name_zh="外地丁", active=False)

    def listed(query: str) -> list[str]:
        response = api.get(f"/api/v1/enterprises?{query}&ordering=name_zh")
        assert response.status_code == 200, response.get_json()
        return sorted(names(response.get_json()))

    assert listed("local=true") == ["本地乙", "本地甲"]
    assert listed("local=false") == ["外地丁", "外地丙"]
    assert listed(f"district_id={district_id}") == ["本地乙", "本地甲"]
    assert listed("region_code=320500") == ["外地丙"]
    assert listed("size=large") == ["本地乙"]
    assert listed("size__in=small,medium") == ["外地丙", "本地甲"]
    assert listed("ownership=state") == ["本地乙"]
    assert listed("active=false") == ["外地丁"]
    assert listed("founded_on__gte=2005-01-01") == ["本地甲"]
    assert listed("founded_on__lte=2005-01-01") == ["外地丙"]
    assert listed("name_zh__contains=本地") == ["本地乙", "本地甲"]
    assert api.get("/api/v1/enterprises?size=huge").status_code == 422
    assert api.get("/api/v1/enterprises?local=maybe").status_code == 422


def test_ordering_by_size_goes_from_large_to_micro(api):
    for size in ("micro", "large", None, "small", "medium"):
        create(api, name_zh=f"规模{size}", size=size)
    page = api.get("/api/v1/enterprises?ordering=size").get_json()
    assert [r["size"] for r in page["results"]] == ["large", "medium", "small", "micro", None]
    page = api.get("/api/v1/enterprises?ordering=-size").get_json()
    assert [r["size"] for r in page["results"]] == ["micro", "small", "medium", "large", None]
    assert api.get("/api/v1/enterprises?ordering=notes").status_code == 422


def test_filter_by_live_roles_in_chains(api, conn):
    automotive = f.chain(conn, code="automotive-t")
    steel = f.chain(conn)
    master = create(api, name_zh="链主")
    supplier = create(api, name_zh="配套")
    former = create(api, name_zh="前配套")
    create(api, name_zh="无关")
    f.chain_role(conn, master["id"], automotive, "chain_master")
    f.chain_role(conn, supplier["id"], automotive, "supplier")
    f.chain_role(conn, supplier["id"], steel, "supplier")
    f.chain_role(conn, former["id"], automotive, "supplier", since="2020-01-01", until="2021-01-01")

    def listed(query: str) -> list[str]:
        response = api.get(f"/api/v1/enterprises?{query}")
        assert response.status_code == 200, response.get_json()
        return sorted(names(response.get_json()))

    assert listed(f"chain_id={automotive}") == ["配套", "链主"]
    assert listed("chain_id=automotive-t") == ["配套", "链主"]  # by code
    assert listed("chain_id=automotive-t&role=chain_master") == ["链主"]
    assert listed(f"chain_id={steel}&role=chain_master") == []  # one role, both conditions
    assert listed("role=supplier") == ["配套"]
    assert listed(f"chain_id__in={steel},automotive-t") == ["配套", "链主"]
    assert listed(f"chain_id=automotive-t&chain_id__not_in={steel}") == ["链主"]
    assert listed("role__not_in=supplier,chain_master") == ["前配套", "无关"]
    assert api.get("/api/v1/enterprises?role=boss").status_code == 422
    assert api.get("/api/v1/enterprises?chain_id__gte=1").status_code == 422


def test_keyset_cursor_walks_every_row_exactly_once(api):
    made = {create(api, name_zh=f"翻页{n}")["id"] for n in range(11)}
    seen: list[int] = []
    url = "/api/v1/enterprises?cursor=&limit=4&name_zh__contains=翻页"
    pages = 0
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        assert page["count"] is None
        seen.extend(row["id"] for row in page["results"])
        url = page["next"] and page["next"].replace("http://localhost", "")
        pages += 1
    assert pages == 3
    assert len(seen) == len(set(seen)) == 11 and set(seen) == made
    assert seen == sorted(seen)
    assert api.get("/api/v1/enterprises?cursor=!!!").status_code == 400


def test_offset_pages_count(api):
    for n in range(3):
        create(api, name_zh=f"计数{n}")
    page = api.get("/api/v1/enterprises?limit=2").get_json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]


# --- deleting ------------------------------------------------------------------------------------


def test_deleting_an_enterprise_with_chain_roles_is_a_409_naming_chain_role(api, conn):
    enterprise = create(api, uscc=uscc())
    f.chain_role(conn, enterprise["id"], f.chain(conn), "supplier")
    before = count_rows(conn, "enterprise", "chain_role")
    response = api.delete(f"/api/v1/enterprises/{enterprise['uscc']}")
    assert response.status_code == 409
    assert "chain_role" in error_fields(response)
    assert count_rows(conn, "enterprise", "chain_role") == before


def test_deleting_an_enterprise_takes_its_designations(api, conn):
    enterprise = create(api, uscc=uscc())
    api.post(
        "/api/v1/designations",
        {"enterprise_id": enterprise["uscc"], "type": "gazelle", "level": "city", "year": 2024},
    )
    assert api.delete(f"/api/v1/enterprises/{enterprise['id']}").status_code == 204
    assert count_rows(conn, "designation") == {"designation": 0}


# --- designations and roles of one enterprise ----------------------------------------------------


def test_designations_by_credit_code_and_nested_list(api, conn):
    enterprise = create(api, uscc=uscc(), name_zh="专精特新示例")
    other = create(api, uscc=uscc())
    for body in (
        {"type": "specialized_sme", "level": "provincial", "year": 2022,
         "valid_until": "2024-12-31", "issuer": "山东省工业和信息化厅"},
        {"type": "little_giant", "level": "national", "year": 2024},
    ):  # fmt: skip
        by_code = enterprise["uscc"].lower()  # as people write it
        response = api.post("/api/v1/designations", {"enterprise_id": by_code, **body})
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["enterprise_id"] == enterprise["id"]
    api.post(
        "/api/v1/designations",
        {"enterprise_id": other["id"], "type": "gazelle", "level": "city", "year": 2023},
    )

    nested = api.get(f"/api/v1/enterprises/{enterprise['uscc']}/designations")
    assert nested.status_code == 200
    assert [(d["type"], d["year"]) for d in nested.get_json()] == [
        ("little_giant", 2024),
        ("specialized_sme", 2022),
    ]
    assert api.get(f"/api/v1/enterprises/{other['id']}/designations").get_json()[0]["type"] == (
        "gazelle"
    )
    assert api.get("/api/v1/enterprises/999999999/designations").status_code == 404

    listed = api.get("/api/v1/designations?level=national").get_json()
    assert [d["type"] for d in listed["results"]] == ["little_giant"]
    assert api.get(f"/api/v1/designations?enterprise_id={other['id']}").get_json()["count"] == 1
    assert api.get("/api/v1/designations?year__gte=2023").get_json()["count"] == 2
    assert api.get("/api/v1/designations?valid=false").get_json()["count"] == 1  # ended 2024


def test_designation_rules(api, conn):
    enterprise = create(api, uscc=uscc())
    before = count_rows(conn, "designation")
    early_end = api.post(
        "/api/v1/designations",
        {"enterprise_id": enterprise["id"], "type": "high_tech", "level": "national",
         "year": 2024, "valid_until": "2023-12-31"},
    )  # fmt: skip
    assert early_end.status_code == 422 and error_fields(early_end) == {"valid_until"}
    bad_year = api.post(
        "/api/v1/designations",
        {"enterprise_id": enterprise["id"], "type": "high_tech", "level": "national",
         "year": 1900},
    )  # fmt: skip
    assert bad_year.status_code == 422 and error_fields(bad_year) == {"year"}
    nobody = api.post(
        "/api/v1/designations",
        {"enterprise_id": uscc(), "type": "high_tech", "level": "national", "year": 2024},
    )
    assert nobody.status_code == 422 and error_fields(nobody) == {"enterprise_id"}
    assert count_rows(conn, "designation") == before

    body = {"enterprise_id": enterprise["id"], "type": "high_tech", "level": "national",
            "year": 2024}  # fmt: skip
    assert api.post("/api/v1/designations", body).status_code == 201
    assert api.post("/api/v1/designations", body).status_code == 409
    made = api.get("/api/v1/designations").get_json()["results"][0]
    moved = api.patch(f"/api/v1/designations/{made['id']}", {"valid_until": "2020-01-01"})
    assert moved.status_code == 422 and error_fields(moved) == {"valid_until"}


def test_chain_roles_of_an_enterprise(api, conn):
    enterprise = create(api, uscc=uscc())
    chain = f.chain(conn)
    ended = f.chain_role(conn, enterprise["id"], chain, "supplier", since="2019-01-01",
                         until="2020-12-31")  # fmt: skip
    live = f.chain_role(conn, enterprise["id"], chain, "backbone", since="2021-01-01")
    response = api.get(f"/api/v1/enterprises/{enterprise['uscc']}/chain-roles")
    assert response.status_code == 200
    assert [(r["id"], r["role"]) for r in response.get_json()] == [
        (live, "backbone"),
        (ended, "supplier"),
    ]
    assert api.get(f"/api/v1/enterprises/{create(api)['id']}/chain-roles").get_json() == []


# --- history ---------------------------------------------------------------------------------------


def test_history_shows_the_insert_and_the_update_by_the_editor(api):
    enterprise = create(api, uscc=uscc(), name_zh="历史企业")
    api.patch(f"/api/v1/enterprises/{enterprise['uscc']}", {"name_zh": "比亚迪历史"})
    history = api.get(f"/api/v1/enterprises/{enterprise['uscc']}/history")
    assert history.status_code == 200
    entries = history.get_json()
    assert [e["action"] for e in entries] == ["insert", "update"]
    assert {e["actor"] for e in entries} == {"test-editor"}
    assert entries[1]["before"]["name_zh"] == "历史企业"
    assert entries[1]["after"]["name_initials"] == "bydls"


def test_the_openapi_document_lists_the_enterprise_routes(api):
    from openapi_spec_validator import validate

    document = api.get("/api/v1/openapi.json").get_json()
    validate(document)
    paths = document["paths"]
    for path in (
        "/api/v1/enterprises",
        "/api/v1/enterprises/{id}",
        "/api/v1/enterprises/{id}/designations",
        "/api/v1/enterprises/{id}/chain-roles",
        "/api/v1/designations",
    ):
        assert path in paths, path
    parameters = {p["name"] for p in paths["/api/v1/enterprises"]["get"]["parameters"]}
    assert {"q", "cursor", "local", "chain_id", "role", "founded_on__gte"} <= parameters
