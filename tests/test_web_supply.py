"""The supply pages: the 关联配套企业 form, the chain masters' pages, the supply-link pages."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from chaindb.enterprises.search import name_initials
from tests import factories_sql as f
from tests.conftest import count_rows

TABLES = ("supply_link", "chain_role")


def _enterprise(conn, name: str, **columns) -> int:
    # Rows written with SQL get no pinyin initials from the application: set them as it would.
    return f.enterprise(conn, name_zh=name, name_initials=name_initials(name), **columns)


@pytest.fixture
def place(conn):
    """A chain with a local chain master, two local suppliers, one from elsewhere, a bystander."""
    district = f.district(conn, name_zh="示例区")
    chain = f.chain(conn, name_zh="示例新能源汽车链")
    master = _enterprise(conn, "示例链主汽车有限公司", district_id=district, size="large")
    f.chain_role(conn, master, chain, "chain_master", since=date(2020, 1, 1))
    return SimpleNamespace(
        district=district,
        chain=chain,
        master=master,
        pair=f"{master}:{chain}",
        local1=_enterprise(conn, "示例本地座椅有限公司", district_id=district, size="small"),
        local2=_enterprise(conn, "示例本地线束有限公司", district_id=district, size="medium"),
        remote=_enterprise(conn, "示例外地电池有限公司", region_code="310115", size="small"),
        other=_enterprise(conn, "示例非链主有限公司", district_id=district),
        segment=f.segment(conn, chain, name_zh="示例座椅环节"),
    )


def _today(conn) -> date:
    return conn.execute(text("SELECT current_date")).scalar_one()


def _form(place, supplier: str, **values) -> dict:
    return {"master": place.pair, "supplier": supplier, "status": "active", **values}


def _group(page: str, group: str) -> str:
    """The table of one group of suppliers (local, nonlocal, proposed) on a chain master's page."""
    found = re.search(
        rf'<table class="grid compact" data-group="{group}">(.*?)</table>', page, re.S
    )
    return found.group(1) if found else ""


def _rate(page: str, kind: str) -> str:
    found = re.search(rf'data-rate="{kind}">([^<]*)<', page)
    assert found, f"no {kind} rate on the page"
    return found.group(1).strip()


def _error_beside(page: str, field: str) -> bool:
    return f'id="{field}-error"' in page


# --- 关联配套企业 ----------------------------------------------------------------------------------


def test_the_form_preselects_the_chain_master_and_its_chain(web, place):
    page = web.text(f"/supply/link?buyer_id={place.master}&chain_id={place.chain}")
    assert re.search(rf'<option[^>]*selected[^>]*value="{place.pair}"', page) or re.search(
        rf'<option[^>]*value="{place.pair}"[^>]*selected', page
    )
    assert "示例新能源汽车链" in page and "示例链主汽车有限公司" in page
    # Only chain masters are offered.
    assert f'value="{place.other}:{place.chain}"' not in page


def test_linking_a_supplier_records_link_and_role_and_shows_it_in_its_group(web, conn, place):
    response = web.post(
        "/supply/link",
        _form(
            place,
            "示例本地座椅有限公司",
            product="座椅",
            annual_value_cny_10k="300",
            since="2024-03-01",
            segment_id=str(place.segment),
            reported_by="链长办",
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.location.startswith(f"/chain-masters/{place.master}")
    link = (
        conn.execute(
            text(
                "SELECT supplier_id, buyer_id, chain_id, segment_id, product, "
                "annual_value_cny_10k, since, status, reported_by FROM supply_link"
            )
        )
        .mappings()
        .one()
    )
    assert dict(link) == {
        "supplier_id": place.local1,
        "buyer_id": place.master,
        "chain_id": place.chain,
        "segment_id": place.segment,
        "product": "座椅",
        "annual_value_cny_10k": Decimal("300.00"),
        "since": date(2024, 3, 1),
        "status": "active",
        "reported_by": "链长办",
    }
    role = conn.execute(
        text(
            "SELECT chain_id, since FROM chain_role WHERE enterprise_id = :e AND role = 'supplier'"
        ),
        {"e": place.local1},
    ).one()
    assert tuple(role) == (place.chain, date(2024, 3, 1))

    # A supplier from elsewhere, picked from the suggestions ("name #id"), and one more local
    # supplier typed by its credit code, with no value known.
    remote = web.post(
        "/supply/link",
        _form(place, f"示例外地电池有限公司 #{place.remote}", annual_value_cny_10k="100"),
    )
    assert remote.status_code == 302, remote.get_data(as_text=True)
    uscc = conn.execute(
        text("SELECT uscc FROM enterprise WHERE id = :id"), {"id": place.local2}
    ).scalar_one()
    assert web.post("/supply/link", _form(place, uscc)).status_code == 302

    # The page lands found to the supplier just linked; the whole list is the page unfiltered.
    assert "q=" in response.location
    page = web.text(response.location.split("?")[0])
    local, nonlocal_ = _group(page, "local"), _group(page, "nonlocal")
    assert "示例本地座椅有限公司" in local and "示例本地线束有限公司" in local
    assert "示例外地电池有限公司" in nonlocal_
    assert "示例外地电池有限公司" not in local and "示例本地座椅有限公司" not in nonlocal_
    assert "座椅" in local and "示例座椅环节" in local
    # By hand: local value 300 of 400 known; 2 of 3 active links are local.
    assert _rate(page, "value") == f"{300 / 400 * 100:.1f}%"
    assert _rate(page, "count") == f"{2 / 3 * 100:.1f}%"
    # The list of chain masters says the same.
    listing = web.text("/chain-masters")
    assert "示例链主汽车有限公司" in listing
    assert _rate(listing, "value") == "75.0%"
    assert _rate(listing, "count") == "66.7%"


@pytest.mark.parametrize(
    ("case", "status", "field"),
    [
        ("self", 422, "supplier"),
        ("duplicate", 409, "supplier"),
        ("not_master", 422, "master"),
        ("unknown", 422, "supplier"),
        ("negative", 422, "annual_value_cny_10k"),
    ],
)
def test_refusals_land_beside_their_field_and_write_nothing(web, conn, place, case, status, field):
    if case == "duplicate":
        f.supply_link(conn, place.local1, place.master, place.chain, product="座椅")
    values = {
        "self": _form(place, "示例链主汽车有限公司", product="座椅"),
        "duplicate": _form(place, "示例本地座椅有限公司", product="座椅"),
        "not_master": {**_form(place, "示例本地座椅有限公司", product="座椅"),
                       "master": f"{place.other}:{place.chain}"},
        "unknown": _form(place, "不存在的示例企业", product="座椅"),
        "negative": _form(place, "示例本地座椅有限公司", product="座椅", annual_value_cny_10k="-5"),
    }[case]  # fmt: skip
    before = count_rows(conn, *TABLES)
    response = web.post("/supply/link", values)
    assert response.status_code == status, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    assert _error_beside(page, field), page
    assert page.count('class="field-error"') == 1
    # What was typed comes back.
    assert f'value="{values["supplier"]}"' in page
    assert 'value="座椅"' in page
    if case == "negative":
        assert 'value="-5"' in page
    if case == "not_master":
        # The chosen pair stays chosen, though it is no chain master's.
        assert re.search(rf'<option[^>]*value="{place.other}:{place.chain}"', page)
        assert "示例非链主有限公司" in page
    assert count_rows(conn, *TABLES) == before


def test_a_proposed_link_is_listed_apart_and_gives_no_role(web, conn, place):
    response = web.post("/supply/link", _form(place, "示例外地电池有限公司", status="proposed"))
    assert response.status_code == 302
    page = web.text(response.location)
    assert "示例外地电池有限公司" in _group(page, "proposed")
    assert "示例外地电池有限公司" not in _group(page, "nonlocal")
    roles = conn.execute(text("SELECT count(*) FROM chain_role WHERE role = 'supplier'")).scalar()
    assert roles == 0


# --- ending a link --------------------------------------------------------------------------------


def test_end_a_link_from_the_chain_masters_page(web, conn, place):
    link = f.supply_link(
        conn, place.local1, place.master, place.chain, since=date(2024, 1, 1), product="座椅"
    )
    master_page = web.text(f"/chain-masters/{place.master}")
    assert f"/supply-links/{link}/end?next=" in master_page
    form = web.text(f"/supply-links/{link}/end?next=/chain-masters/{place.master}")
    assert 'name="until"' in form and 'name="reason"' in form
    today = _today(conn)
    response = web.post(
        f"/supply-links/{link}/end",
        {
            "until": today.isoformat(),
            "reason": "示例停产",
            "next": f"/chain-masters/{place.master}",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.location == f"/chain-masters/{place.master}"
    row = conn.execute(
        text("SELECT status, until, notes FROM supply_link WHERE id = :id"), {"id": link}
    ).one()
    assert (row.status, row.until) == ("ended", today)
    assert "示例停产" in row.notes
    page = web.text(response.location)
    assert "示例本地座椅有限公司" not in _group(page, "local")
    # Ending it again is refused, and says why.
    again = web.post(f"/supply-links/{link}/end", {"until": today.isoformat()})
    assert again.status_code == 409
    assert 'class="form-errors"' in again.get_data(as_text=True)


def test_an_end_in_the_future_is_refused_beside_the_date(web, conn, place):
    link = f.supply_link(conn, place.local1, place.master, place.chain, since=date(2024, 1, 1))
    response = web.post(f"/supply-links/{link}/end", {"until": "2999-01-01", "reason": "示例"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert _error_beside(page, "until")
    assert 'value="示例"' in page
    status = conn.execute(text("SELECT status FROM supply_link WHERE id = :id"), {"id": link})
    assert status.scalar_one() == "active"


def test_the_end_page_sends_back_only_within_the_site(web, conn, place):
    link = f.supply_link(conn, place.local1, place.master, place.chain, since=date(2024, 1, 1))
    page = web.text(f"/supply-links/{link}/end?next=javascript:alert(1)")
    assert 'href="javascript:' not in page and 'value="javascript:' not in page
    response = web.post(f"/supply-links/{link}/end", {"next": "https://example.com/"})
    assert response.status_code == 302
    assert response.location == f"/supply-links/{link}"


# --- the supply-link pages ------------------------------------------------------------------------


def test_list_filters_by_typed_supplier_chain_and_status_sorts_and_counts(web, conn, place):
    f.supply_link(conn, place.local1, place.master, place.chain, annual_value_cny_10k=300)
    f.supply_link(conn, place.remote, place.master, place.chain, annual_value_cny_10k=100)
    f.supply_link(
        conn, place.local2, place.master, place.chain, status="ended", until=date(2024, 1, 1)
    )
    page = web.text("/supply-links")
    assert "3" in page.split('class="count"')[1][:40]
    # Pinyin initials of 示例外地电池 (slwddc), a credit code, or a picked "name #id".
    page = web.text("/supply-links?supplier=slwddc")
    assert "示例外地电池有限公司" in page and "示例本地座椅有限公司" not in page
    page = web.text(f"/supply-links?supplier=示例本地座椅有限公司+%23{place.local1}")
    assert "示例本地座椅有限公司" in page and "示例外地电池有限公司" not in page
    page = web.text("/supply-links?supplier=没有这家示例")
    assert "示例本地座椅有限公司" not in page and "示例外地电池有限公司" not in page
    page = web.text(f"/supply-links?buyer=sllzqc&chain_id={place.chain}&status=ended")
    assert "示例本地线束有限公司" in page and "示例本地座椅有限公司" not in page
    page = web.text("/supply-links?supplier_local=false")
    assert "示例外地电池有限公司" in page and "示例本地座椅有限公司" not in page
    page = web.text("/supply-links?ordering=-annual_value_cny_10k&status=active")
    assert page.index("示例本地座椅有限公司") < page.index("示例外地电池有限公司")
    page = web.text("/supply-links?ordering=annual_value_cny_10k&status=active")
    assert page.index("示例外地电池有限公司") < page.index("示例本地座椅有限公司")


def test_export_of_the_filtered_list(web, conn, place):
    f.supply_link(conn, place.local1, place.master, place.chain, annual_value_cny_10k=300)
    f.supply_link(conn, place.remote, place.master, place.chain)
    response = web.get("/supply-links/export?format=xlsx&supplier=slwddc")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    header = next(n for n, row in enumerate(rows) if row[0] == "编号")  # under the title
    assert len(rows) == header + 2
    assert "示例外地电池有限公司" in rows[header + 1]  # the supplier by its name
    raw = web.get("/supply-links/export?format=xlsx&supplier=slwddc&layout=raw")
    rows = list(load_workbook(io.BytesIO(raw.data)).active.iter_rows(values_only=True))
    assert len(rows) == 2 and place.remote in rows[1]


def test_import_page_opens_for_editors(web):
    assert 'type="file"' in web.text("/supply-links/import")


def test_detail_shows_both_ends_value_and_source(web, conn, place):
    link = f.supply_link(
        conn,
        place.remote,
        place.master,
        place.chain,
        segment_id=place.segment,
        product="电芯",
        annual_value_cny_10k=Decimal("1234.5"),
        since=date(2023, 5, 1),
        reported_by="示例调查",
    )
    page = web.text(f"/supply-links/{link}")
    for shown in ("示例外地电池有限公司", "示例链主汽车有限公司", "示例新能源汽车链", "示例座椅环节",
                  "电芯", "1,234.50", "示例调查", "badge nonlocal"):  # fmt: skip
        assert shown in page, shown
    assert f'action="/supply-links/{link}/end"' in page
    assert f"/chain-masters/{place.master}" in page


def test_edit_keeps_the_verification_time(web, conn, place):
    link = f.supply_link(
        conn,
        place.local1,
        place.master,
        place.chain,
        verified=True,
        verified_at="2024-02-03 04:05:06+00",
    )
    form = web.text(f"/supply-links/{link}/edit")
    version = form.split('name="version" type="hidden" value="')[1].split('"')[0]
    verified_at = form.split('name="verified_at" type="hidden" value="')[1].split('"')[0]
    response = web.post(
        f"/supply-links/{link}/edit",
        {
            "version": version,
            "supplier_id": f"示例本地座椅有限公司 #{place.local1}",
            "buyer_id": f"示例链主汽车有限公司 #{place.master}",
            "chain_id": str(place.chain),
            "product": "新座椅",
            "status": "active",
            "verified": "y",
            "verified_at": verified_at,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    row = conn.execute(
        text("SELECT product, verified, verified_at FROM supply_link WHERE id = :id"), {"id": link}
    ).one()
    assert row.product == "新座椅" and row.verified
    assert row.verified_at.isoformat().startswith("2024-02-03T04:05:06")


def test_the_generic_new_page_also_records_the_supplier_role(web, conn, place):
    response = web.post(
        "/supply-links/new",
        {
            "supplier_id": "示例本地座椅有限公司",
            "buyer_id": "示例链主汽车有限公司",
            "chain_id": str(place.chain),
            "status": "active",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert count_rows(conn, *TABLES) == {"supply_link": 1, "chain_role": 2}
    # The list's "new" button leads to the 关联配套企业 form.
    assert 'href="/supply/link"' in web.text("/supply-links")


def test_delete_asks_first(web, conn, place):
    link = f.supply_link(conn, place.local1, place.master, place.chain)
    assert '<form method="post">' in web.text(f"/supply-links/{link}/delete")
    assert web.post(f"/supply-links/{link}/delete").status_code == 302
    assert count_rows(conn, "supply_link") == {"supply_link": 0}


# --- chain masters -------------------------------------------------------------------------------


def test_chain_masters_filter_by_chain(web, conn, place):
    other_chain = f.chain(conn, name_zh="示例生物医药链")
    f.chain_role(conn, place.other, other_chain, "chain_master", since=date(2021, 1, 1))
    page = web.text("/chain-masters")
    assert "示例链主汽车有限公司" in page and "示例非链主有限公司" in page
    page = web.text(f"/chain-masters?chain={other_chain}")
    assert "示例非链主有限公司" in page and "示例链主汽车有限公司" not in page
    assert f"/supply/link?buyer_id={place.other}&amp;chain_id={other_chain}" in page


def test_a_chain_masters_page_by_credit_code_and_404_for_others(web, conn, place):
    uscc = conn.execute(
        text("SELECT uscc FROM enterprise WHERE id = :id"), {"id": place.master}
    ).scalar_one()
    page = web.text(f"/chain-masters/{uscc}")
    assert "示例链主汽车有限公司" in page
    assert f"/supply/link?buyer_id={place.master}&amp;chain_id={place.chain}" in page
    assert web.get(f"/chain-masters/{place.other}").status_code == 404


# --- roles and escaping ---------------------------------------------------------------------------


def test_viewer_sees_no_write_buttons_and_may_not_post(web_as, conn, place):
    link = f.supply_link(conn, place.local1, place.master, place.chain)
    viewer = web_as("viewer")
    master_page = viewer.text(f"/chain-masters/{place.master}")
    assert "示例本地座椅有限公司" in master_page
    assert "/supply/link" not in master_page and "/end" not in master_page
    assert "/supply/link" not in viewer.text("/chain-masters")
    detail = viewer.text(f"/supply-links/{link}")
    assert "/end" not in detail and "/edit" not in detail and "/delete" not in detail
    listing = viewer.text("/supply-links")
    assert "/supply/link" not in listing and "/import" not in listing
    before = count_rows(conn, *TABLES)
    assert viewer.get("/supply/link").status_code == 403
    assert viewer.post("/supply/link", _form(place, "示例本地线束有限公司")).status_code == 403
    assert viewer.post(f"/supply-links/{link}/end", {}).status_code == 403
    assert viewer.get(f"/supply-links/{link}/end").status_code == 403
    assert count_rows(conn, *TABLES) == before
    status = conn.execute(text("SELECT status FROM supply_link WHERE id = :id"), {"id": link})
    assert status.scalar_one() == "active"


def test_a_supplier_name_with_markup_shows_as_text(web, conn, place):
    evil = f.enterprise(conn, name_zh="<script>alert(1)</script>", district_id=place.district)
    link = f.supply_link(conn, evil, place.master, place.chain, product="<b>x</b>")
    for path in (f"/chain-masters/{place.master}", f"/supply-links/{link}", "/supply-links",
                 f"/supply-links/{link}/end"):  # fmt: skip
        page = web.text(path)
        assert "<script>alert(1)</script>" not in page, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path
    assert "<b>x</b>" not in web.text(f"/chain-masters/{place.master}")


def test_the_picker_finds_a_supplier_by_pinyin_initials(web, place):
    response = web.get("/pick/enterprises?q=slbdzy")
    assert response.status_code == 200
    found = {r["id"]: r for r in response.get_json()["results"]}
    assert place.local1 in found
    assert found[place.local1]["value"] == f"示例本地座椅有限公司 #{place.local1}"
    # What the picker gives is what the form takes.
    response = web.post("/supply/link", _form(place, found[place.local1]["value"]))
    assert response.status_code == 302


# --- a chain master with hundreds of suppliers: search, filters, pages ----------------------------


def test_a_chain_masters_suppliers_are_searched_filtered_and_paged(web, conn, place, monkeypatch):
    from chaindb.supply import views

    f.supply_link(conn, place.local1, place.master, place.chain, product="座椅骨架",
                  annual_value_cny_10k=300, status="active")  # fmt: skip
    f.supply_link(conn, place.local2, place.master, place.chain, product="高压线束",
                  annual_value_cny_10k=200, status="active")  # fmt: skip
    f.supply_link(conn, place.remote, place.master, place.chain, product="电芯",
                  annual_value_cny_10k=100, status="proposed")  # fmt: skip
    url = f"/chain-masters/{place.master}"

    def listed(page: str) -> set[str]:
        names = {"示例本地座椅有限公司", "示例本地线束有限公司", "示例外地电池有限公司"}
        tables = "".join(_group(page, g) for g in ("local", "nonlocal", "proposed"))
        return {n for n in names if n in tables}

    assert len(listed(web.text(url))) == 3
    assert listed(web.text(f"{url}?q=线束")) == {"示例本地线束有限公司"}
    assert listed(web.text(f"{url}?q=BDZY")) == {"示例本地座椅有限公司"}  # pinyin initials
    assert listed(web.text(f"{url}?q=座椅骨架")) == {"示例本地座椅有限公司"}  # the product
    assert listed(web.text(f"{url}?q=%25")) == set()  # a % is a letter, not a wildcard
    assert listed(web.text(f"{url}?district=elsewhere")) == {"示例外地电池有限公司"}
    assert listed(web.text(f"{url}?district={place.district}")) == {
        "示例本地座椅有限公司",
        "示例本地线束有限公司",
    }
    assert listed(web.text(f"{url}?status=proposed")) == {"示例外地电池有限公司"}
    # The rates count every link whatever the filters list.
    assert _rate(web.text(f"{url}?q=线束"), "count") == _rate(web.text(url), "count")
    # Pages of a chosen size, in the usual order (chain, active first, value).
    monkeypatch.setattr(views, "SUPPLIERS_PAGE", 2)
    first, second = web.text(url), web.text(f"{url}?page=2")
    assert listed(first) == {"示例本地座椅有限公司", "示例本地线束有限公司"}
    assert listed(second) == {"示例外地电池有限公司"}
    assert 'rel="next"' in first and 'rel="prev"' in second
    # A bad filter is named, and nothing is listed.
    for bad in ("status=ended", "district=nowhere", "page=0", "chain_id=abc"):
        response = web.get(f"{url}?{bad}")
        assert response.status_code == 422, bad
        assert "field-error" in response.get_data(as_text=True), bad
