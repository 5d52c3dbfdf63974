"""Messages a clerk understands: no internal field names, ids or codes on the pages, every
message in the page's language (chaindb's own, WTForms' and pydantic's alike)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from sqlalchemy import Connection

from tests import factories_sql as f
from tests.conftest import CSRF
from tests.test_web_minimal_input import messages

INTERNAL = re.compile(r"\b[a-z]+_[a-z_]+\b|\bid\b|\(id |/api/|\d+）|\d+\)")
LATIN_WORDS = re.compile(r"[A-Za-z]{4,}")


@pytest.fixture
def place(conn: Connection) -> dict[str, Any]:
    chain = f.chain(conn, code="msg-chain", name_zh="消息测试链")
    other = f.chain(conn, code="msg-other", name_zh="另一条链")
    return {
        "chain": chain,
        "foreign_segment": f.segment(conn, other),
        "master": f.chain_master(conn, chain),
        "supplier": f.enterprise(conn, name_zh="消息测试配套企业有限公司"),
    }


def refusals(web, lang: str, place: dict[str, Any]) -> list[str]:
    """The messages of several refused forms, in one language."""
    web.post("/language", {"lang": lang})
    shown: list[str] = []
    master = f"{place['master']}:{place['chain']}"
    link = {"master": master, "supplier": "消息测试配套企业有限公司"}
    shown += messages(web.submit("/supply/link", link | {
        "segment_id": str(place["foreign_segment"])}).get_data(as_text=True))  # fmt: skip
    assert web.submit("/supply/link", link).status_code == 302
    shown += messages(web.submit("/supply/link", link).get_data(as_text=True))  # a second one
    shown += messages(web.submit("/enterprises/new", {
        "name_zh": "消息测试外地企业", "region_code": "370112"}).get_data(as_text=True))  # fmt: skip
    shown += messages(web.submit("/targets/new", {
        "scope": "city", "year": "2030", "metric": "industrial_revenue", "unit": "cny_100m",
        "chain_id": str(place["chain"]), "target_value": "1"}).get_data(as_text=True))  # fmt: skip
    shown += messages(web.submit("/targets/new", {
        "scope": "city", "year": "2031", "metric": "industrial_revenue",
        "unit": "cny_100m"}).get_data(as_text=True))  # fmt: skip
    shown += messages(web.submit("/chains/new", {}).get_data(as_text=True))
    shown += messages(web.submit("/projects/add", {"name": "x", "agreed_investment_cny_100m": "abc"})
                      .get_data(as_text=True))  # fmt: skip
    page = web.text("/enterprises/import")
    token = next(g for g in CSRF.search(page).groups() if g)
    upload = "注册中文名称,有效,成立日期\n消息导入企业,也许,2024-13-40\n".encode()
    report = web.client.post(
        "/enterprises/import",
        data={"csrf_token": token, "file": (io.BytesIO(upload), "e.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    shown += re.findall(r'<span class="column-name">([^<]*)</span>: ([^<]*)<br>', report)
    # messages() puts the field's HTML id first ("segment_id: ..."): the text shown follows it
    return [
        m.split(": ", 1)[1]
        if isinstance(m, str) and ": " in m
        else m[1]
        if not isinstance(m, str)
        else m
        for m in shown
    ]


def test_the_chinese_pages_say_it_in_chinese_without_internal_names(web, place):
    shown = refusals(web, "zh", place)
    assert len(shown) >= 10, shown
    leaking = [m for m in shown if INTERNAL.search(m) or "msg-chain" in m]
    assert leaking == []
    english = [m for m in shown if LATIN_WORDS.search(m)]
    assert english == []
    joined = "\n".join(shown)
    assert "消息测试链" in joined  # the chain by its name, not its code
    assert "消息测试配套企业有限公司" in joined


def test_the_english_pages_say_it_in_english_without_internal_names(web, place):
    shown = refusals(web, "en", place)
    assert len(shown) >= 10, shown
    leaking = [m for m in shown if INTERNAL.search(m) or "msg-chain" in m]
    assert leaking == []
    chinese_only = [m for m in shown if not LATIN_WORDS.search(m)]
    assert chinese_only == []


def test_wtforms_speaks_the_language_of_each_request(web, app, web_users):
    from tests.conftest import Web

    other = Web(app.test_client())
    assert other.login(web_users["admin"]).status_code == 302
    other.post("/language", {"lang": "en"})
    web.post("/language", {"lang": "zh"})
    for _ in range(2):  # alternately, in one process
        zh = messages(web.submit("/chains/new", {}).get_data(as_text=True))
        en = messages(other.submit("/chains/new", {}).get_data(as_text=True))
        assert any("必填" in m for m in zh) and not any("required" in m for m in zh)
        assert any("required" in m for m in en) and not any("必填" in m for m in en)
