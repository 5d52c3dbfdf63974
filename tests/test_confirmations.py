"""Warnings a person confirms: an amount far beyond the usual (a slip between 万元 and 亿元?) and a
record that looks like one already recorded. Refused with what to confirm; saved once confirmed;
the database exactly as it was in between."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, text

from tests import factories_sql as f
from tests.conftest import count_rows
from tests.test_web_minimal_input import messages

PROJECTS = "/api/v1/projects"


@pytest.fixture
def place(conn: Connection) -> dict[str, Any]:
    chain_id = f.chain(conn)
    return {
        "chain_id": chain_id,
        "district_id": f.district(conn),
        "master_id": f.chain_master(conn, chain_id),
        "supplier_id": f.enterprise(conn, name_zh="确认测试配套企业有限公司"),
    }


def project_body(place: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"name": "确认测试项目", "chain_id": place["chain_id"],
            "district_id": place["district_id"], "investor_name": "确认测试投资方", **fields}  # fmt: skip


# --- amounts ---------------------------------------------------------------------------------


def test_a_project_amount_beyond_the_range_needs_a_confirmation(api, conn, place):
    before = count_rows(conn, "project", "project_stage_event")
    refused = api.post(PROJECTS, project_body(place, agreed_investment_cny_100m=100000))
    assert refused.status_code == 422
    error = refused.json["error"]
    assert (error["code"], error["confirm"]) == ("confirm_required", "large_amount")
    assert [d["field"] for d in error["details"]] == ["agreed_investment_cny_100m"]
    assert "10 trillion yuan" in error["message"] and "1 billion yuan" in error["message"]
    assert count_rows(conn, "project", "project_stage_event") == before

    saved = api.post(
        PROJECTS, project_body(place, agreed_investment_cny_100m=100000, confirm=["large_amount"])
    )
    assert saved.status_code == 201, saved.json
    assert saved.json["agreed_investment_cny_100m"] == "100000.0000"
    assert "confirm" not in saved.json


def test_the_threshold_is_inclusive_and_each_amount_is_named(api, place):
    at_limit = api.post(PROJECTS, project_body(place, agreed_investment_cny_100m=500))
    assert at_limit.status_code == 201, at_limit.json
    both = api.post(
        PROJECTS,
        project_body(place, name="两项都大", agreed_investment_cny_100m="500.01",
                     funds_arrived_cny_100m=20000),
    )  # fmt: skip
    assert both.status_code == 422
    assert {d["field"] for d in both.json["error"]["details"]} == {
        "agreed_investment_cny_100m",
        "funds_arrived_cny_100m",
    }


def test_an_amount_confirmed_once_is_not_asked_again(api, place):
    created = api.post(
        PROJECTS, project_body(place, agreed_investment_cny_100m=800, confirm=["large_amount"])
    ).json
    url = f"{PROJECTS}/{created['id']}"
    assert api.patch(url, {"notes": "更新备注"}).status_code == 200
    assert api.put(url, created | {"notes": "再次更新"}).status_code == 200
    changed = api.patch(url, {"agreed_investment_cny_100m": 900})
    assert changed.status_code == 422 and changed.json["error"]["code"] == "confirm_required"


def test_a_link_value_beyond_the_range_needs_a_confirmation_every_way(api, conn, place):
    before = count_rows(conn, "supply_link", "chain_role")
    workflow = api.post(
        f"/api/v1/chain-masters/{place['master_id']}/suppliers",
        {"chain": place["chain_id"], "supplier": place["supplier_id"],
         "annual_value_cny_10k": 500000},
    )  # fmt: skip
    assert workflow.status_code == 422
    assert workflow.json["error"]["confirm"] == "large_amount"
    assert "5 billion yuan" in workflow.json["error"]["message"]
    resource = api.post(
        "/api/v1/supply-links",
        {"supplier_id": place["supplier_id"], "buyer_id": place["master_id"],
         "chain_id": place["chain_id"], "annual_value_cny_10k": 500000},
    )  # fmt: skip
    assert resource.status_code == 422 and resource.json["error"]["code"] == "confirm_required"
    assert count_rows(conn, "supply_link", "chain_role") == before
    confirmed = api.post(
        "/api/v1/supply-links",
        {"supplier_id": place["supplier_id"], "buyer_id": place["master_id"],
         "chain_id": place["chain_id"], "annual_value_cny_10k": 500000,
         "confirm": ["large_amount"]},
    )  # fmt: skip
    assert confirmed.status_code == 201, confirmed.json


def test_the_add_project_page_shows_the_amount_in_words_and_a_box_to_confirm(web, conn, place):
    typed = {"name": "页面大额项目", "chain_id": str(place["chain_id"]),
             "district_id": str(place["district_id"]), "investor_id": "某投资方",
             "agreed_investment_cny_100m": "100000"}  # fmt: skip
    refused = web.submit("/projects/add", typed)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    (beside,) = [m for m in messages(page) if m.startswith("agreed_investment_cny_100m")]
    assert "10 万亿元" in beside and "10 亿元" in beside
    assert 'name="confirm" value="large_amount"' in page
    assert (
        conn.execute(text("SELECT count(*) FROM project WHERE name = '页面大额项目'")).scalar() == 0
    )
    data = _resubmit(page, typed, confirm="large_amount")
    saved = web.client.post("/projects/add", data=data)
    assert saved.status_code == 302, messages(saved.get_data(as_text=True))


def test_the_english_page_says_it_in_english(web, conn, place):
    web.client.get("/?lang=en")
    typed = {"master": f"{place['master_id']}:{place['chain_id']}",
             "supplier": "确认测试配套企业有限公司", "annual_value_cny_10k": "500,000"}  # fmt: skip
    refused = web.submit("/supply/link?lang=en", typed)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "5 billion yuan" in page and "500,000" not in messages(page)[0]
    saved = web.client.post("/supply/link?lang=en", data=_resubmit(page, typed, "large_amount"))
    assert saved.status_code == 302, messages(saved.get_data(as_text=True))
    value = conn.execute(
        text("SELECT annual_value_cny_10k FROM supply_link WHERE supplier_id = :s"),
        {"s": place["supplier_id"]},
    ).scalar_one()
    assert value == 500000


def _resubmit(page: str, typed: dict[str, str], confirm: str) -> dict[str, Any]:
    """The refused form sent again as the browser shows it, with the confirm box ticked."""
    from tests.forms import filled

    data = filled(page, {k: v for k, v in typed.items()})
    data["confirm"] = confirm
    return data


# --- possible duplicates --------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "比亚迪（济南）基地有限公司",  # brackets and the legal form
        "比亚迪济南基地 ",  # a space
        "ＢＹＤ济南基地",  # full-width letters, as an alias below
        "比亚迪济南基地股份有限公司",
        "比亚迪济南基",  # alike (trigrams)
    ],
)
def test_an_enterprise_like_an_existing_one_needs_a_confirmation(api, conn, typed):
    existing = f.enterprise(conn, name_zh="比亚迪济南基地", uscc=None, aliases=["BYD济南基地"])
    before = count_rows(conn, "enterprise")
    refused = api.post("/api/v1/enterprises", {"name_zh": typed})
    assert refused.status_code == 409, refused.json
    error = refused.json["error"]
    assert (error["code"], error["confirm"], error["candidates_of"]) == (
        "possible_duplicate", "possible_duplicate", "enterprises")  # fmt: skip
    assert error["candidates"][0]["id"] == existing
    assert error["details"][0]["field"] == "name_zh"
    assert count_rows(conn, "enterprise") == before
    saved = api.post("/api/v1/enterprises", {"name_zh": typed, "confirm": ["possible_duplicate"]})
    assert saved.status_code == 201


def test_two_credit_codes_are_two_enterprises_however_alike_the_names(api, conn):
    f.enterprise(conn, name_zh="济南华宇精密机械有限公司")
    other = api.post(
        "/api/v1/enterprises", {"name_zh": "济南华宇精密机械有限公司", "uscc": f.valid_uscc()}
    )
    assert other.status_code == 201, other.json
    unlike = api.post("/api/v1/enterprises", {"name_zh": "济南鑫达新材料有限公司"})
    assert unlike.status_code == 201, unlike.json


def test_renaming_into_a_duplicate_is_asked_too(api, conn):
    f.enterprise(conn, name_zh="中国重汽集团济南卡车股份有限公司", uscc=None)
    mine = f.enterprise(conn, name_zh="某待改名企业", uscc=None)
    renamed = api.patch(f"/api/v1/enterprises/{mine}", {"name_zh": "中国重汽济南卡车"})
    assert renamed.status_code == 409
    assert api.patch(f"/api/v1/enterprises/{mine}", {"notes": "不改名"}).status_code == 200


def test_a_project_like_a_live_one_needs_a_confirmation(api, conn, place):
    investor = f.enterprise(conn, name_zh="重复项目投资方有限公司")
    first = api.post(PROJECTS, project_body(place, name="重复 项目", investor_id=investor,
                                            investor_name=None))  # fmt: skip
    assert first.status_code == 201
    same = project_body(place, name="重复项目", investor_name="重复项目投资方")  # by its name
    refused = api.post(PROJECTS, same)
    assert refused.status_code == 409
    error = refused.json["error"]
    assert error["code"] == "possible_duplicate" and error["candidates_of"] == "projects"
    assert [c["id"] for c in error["candidates"]] == [first.json["id"]]
    elsewhere = project_body(place, name="重复项目", district_id=f.district(conn))
    assert api.post(PROJECTS, elsewhere).status_code == 201
    assert api.post(PROJECTS, same | {"confirm": ["possible_duplicate"]}).status_code == 201


def test_a_dropped_project_is_no_duplicate(api, conn, place):
    conn.execute(text("SELECT set_config('chaindb.stage_reason', '投资方撤回', true)"))
    f.project(conn, place["chain_id"], place["district_id"], name="已终止项目",
              investor_name="某投资方", stage="dropped", dropped_on="2024-01-01")  # fmt: skip
    body = project_body(place, name="已终止项目", investor_name="某投资方")
    assert api.post(PROJECTS, body).status_code == 201


def test_the_enterprise_page_lists_the_look_alikes_and_saves_once_ticked(web, conn):
    existing = f.enterprise(conn, name_zh="济南泉城精密机械有限公司", uscc=None)
    refused = web.submit("/enterprises/new", {"name_zh": "济南泉城精密机械（有限公司）"})
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert f'href="/enterprises/{existing}"' in page
    assert 'name="confirm" value="possible_duplicate"' in page
    data = _resubmit(page, {"name_zh": "济南泉城精密机械（有限公司）"}, "possible_duplicate")
    saved = web.client.post("/enterprises/new", data=data)
    assert saved.status_code == 302, messages(saved.get_data(as_text=True))
