"""The pages of chains, segments and chain roles, and the chain map."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, text

from tests import factories_sql as f
from tests.conftest import count_rows


def _version(web, path: str) -> str:
    page = web.text(path)
    return page.split('name="version" type="hidden" value="')[1].split('"')[0]


def _today(conn):
    return conn.execute(text("SELECT current_date")).scalar_one()


def _between(page: str, start: str, end: str | None = None) -> str:
    """The part of the page from `start` to `end` (or to its end)."""
    assert start in page, start
    rest = page.split(start, 1)[1]
    return rest.split(end, 1)[0] if end else rest


def _item(page: str, name: str) -> str:
    """The list item that names `name` (as the page shows it)."""
    found = re.search(r"<li>(?:(?!</li>).)*?" + re.escape(name) + r".*?</li>", page, re.S)
    assert found, name
    return found.group(0)


# --- the chain map -------------------------------------------------------------------------------


@pytest.fixture
def mapped(conn):
    """A chain with a segment per position, a sub-segment, and enterprises in some of them."""
    district = f.district(conn)
    chain = f.chain(conn, name_zh="测试汽车链")
    up = f.segment(conn, chain, name_zh="上游材料环节", position="upstream")
    mid = f.segment(conn, chain, name_zh="中游制造环节", position="midstream")
    sub = f.segment(conn, chain, name_zh="中游子环节", position="midstream", parent_id=mid)
    down = f.segment(conn, chain, name_zh="下游应用环节", position="downstream")
    master = f.enterprise(conn, name_zh="链主整车公司", district_id=district)
    f.chain_role(conn, master, chain, "chain_master", segment_id=mid)
    outsider = f.enterprise(conn, name_zh="<script>alert('x')</script>外地公司")
    f.chain_role(conn, outsider, chain, "supplier", segment_id=up)
    # A local enterprise whose role in the upstream segment has ended: no longer in it.
    former = f.enterprise(conn, name_zh="已退出本地公司", district_id=district)
    f.chain_role(
        conn, former, chain, "supplier", segment_id=up, since="2020-01-01", until="2021-01-01"
    )
    # A local supplier in the downstream segment through a supply link alone.
    local = f.enterprise(conn, name_zh="本地配套公司", district_id=district)
    f.supply_link(conn, local, master, chain, segment_id=down)
    return {"chain": chain, "up": up, "mid": mid, "sub": sub, "down": down,
            "master": master, "outsider": outsider, "local": local}  # fmt: skip


def test_the_map_puts_segments_in_their_columns_and_subsegments_under_their_parent(web, mapped):
    page = web.text(f"/chains/{mapped['chain']}/map")
    upstream = _between(page, 'data-position="upstream"', 'data-position="midstream"')
    midstream = _between(page, 'data-position="midstream"', 'data-position="downstream"')
    downstream = _between(page, 'data-position="downstream"', "</main>")
    assert "上游材料环节" in upstream and "中游制造环节" not in upstream
    assert "中游制造环节" in midstream and "下游应用环节" not in midstream
    assert "下游应用环节" in downstream and "上游材料环节" not in downstream
    parent = _between(midstream, f'id="segment-{mapped["mid"]}"')
    assert 'class="children"' in parent
    assert parent.index('class="children"') < parent.index(f'id="segment-{mapped["sub"]}"')


def test_the_map_marks_chain_masters_non_local_enterprises_and_gaps(web, mapped):
    page = web.text(f"/chains/{mapped['chain']}/map")
    master = _item(page, "链主整车公司")
    assert 'class="badge master"' in master
    assert "nonlocal" not in master
    assert f'href="/enterprises/{mapped["master"]}"' in master
    outsider = _item(page, "外地公司")
    assert 'class="badge nonlocal"' in outsider and "badge master" not in outsider
    assert "已退出本地公司" not in page  # its role has ended
    # Only a non-local enterprise upstream, none in the sub-segment: gaps.
    assert f'class="segment gap" id="segment-{mapped["up"]}"' in page
    assert f'class="segment gap" id="segment-{mapped["sub"]}"' in page
    # A local chain master in the midstream segment, a local supplier (by its link) downstream.
    assert f'class="segment" id="segment-{mapped["mid"]}"' in page
    assert f'class="segment" id="segment-{mapped["down"]}"' in page
    assert "本地配套公司" in _between(page, f'id="segment-{mapped["down"]}"')
    assert page.count('class="segment gap"') == 2
    assert page.count('<span class="badge gap">') == 2 + 1  # and one in the legend


def test_a_parent_segment_with_a_local_enterprise_below_it_is_no_gap(web, conn):
    chain = f.chain(conn)
    parent = f.segment(conn, chain, position="upstream")
    child = f.segment(conn, chain, position="upstream", parent_id=parent)
    local = f.enterprise(conn, district_id=f.district(conn))
    f.chain_role(conn, local, chain, "backbone", segment_id=child)
    page = web.text(f"/chains/{chain}/map")
    assert f'class="segment" id="segment-{parent}"' in page
    assert f'class="segment" id="segment-{child}"' in page


def test_the_map_shows_names_as_text(web, mapped):
    page = web.text(f"/chains/{mapped['chain']}/map")
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;外地公司" in page
    assert "<script>alert" not in page


def test_the_map_takes_as_many_queries_for_a_big_chain_as_for_a_small_one(web, conn, mapped):
    big = f.chain(conn)
    district = f.district(conn)
    for n in range(12):
        segment = f.segment(conn, big, position=("upstream", "midstream", "downstream")[n % 3])
        f.chain_role(conn, f.enterprise(conn, district_id=district), big, "supplier",
                     segment_id=segment)  # fmt: skip
    statements: list[str] = []

    def count(*args):
        statements.append(args[2])

    event.listen(conn, "before_cursor_execute", count)
    try:
        web.text(f"/chains/{mapped['chain']}/map")
        small = len(statements)
        statements.clear()
        web.text(f"/chains/{big}/map")
    finally:
        event.remove(conn, "before_cursor_execute", count)
    assert len(statements) == small


def test_a_long_member_list_is_folded_to_its_count_with_the_chain_master_in_sight(web, conn):
    """A segment with many enterprises shows the chain master and a count that opens to the
    list; a short list stays open."""
    chain = f.chain(conn)
    district = f.district(conn)
    busy = f.segment(conn, chain, name_zh="热闹环节", position="upstream")
    quiet = f.segment(conn, chain, name_zh="安静环节", position="upstream")
    master = f.enterprise(conn, name_zh="热闹链主", district_id=district)
    f.chain_role(conn, master, chain, "chain_master", segment_id=busy)
    for n in range(11):
        f.supply_link(conn, f.enterprise(conn, name_zh=f"配套{n:02d}号",
                                         district_id=district if n < 7 else None),
                      master, chain, segment_id=busy)  # fmt: skip
    f.chain_role(conn, f.enterprise(conn, name_zh="唯一成员"), chain, "supplier", segment_id=quiet)
    page = web.text(f"/chains/{chain}/map")
    box = _between(page, f'id="segment-{busy}"', f'id="segment-{quiet}"')
    assert 'data-members="12"' in box
    anchors, folded = box.split('<details class="members">', 1)
    assert "热闹链主" in anchors and "配套00号" not in anchors
    assert "12 家企业，本地 8 家" in folded  # the master and 7 local suppliers
    assert folded.count("配套") == 7  # 8 shown (the master first), "and 4 more" links to the rest
    assert f'href="/segments/{busy}"' in folded
    quiet_box = _between(page, f'id="segment-{quiet}"')
    assert "唯一成员" in quiet_box.split("</div>", 1)[0]
    assert "<details" not in quiet_box.split("</div>", 1)[0]


def test_the_positions_are_as_wide_as_their_top_level_segments_need(web, conn):
    chain = f.chain(conn)
    for n in range(5):
        f.segment(conn, chain, position="upstream", sort_order=n)
    f.segment(conn, chain, position="midstream")
    page = web.text(f"/chains/{chain}/map")
    assert 'class="position weight-5" data-position="upstream"' in page
    assert 'class="position weight-1" data-position="midstream"' in page
    assert 'class="position weight-1" data-position="downstream"' in page  # none: still a column


def test_a_map_from_the_general_structure_says_so_until_the_office_confirms_it(web, conn):
    chain = f.chain(conn)
    general = f.segment(conn, chain, name_zh="通用环节", position="upstream", basis="general")
    checked = f.segment(conn, chain, name_zh="核定环节", position="upstream")
    page = web.text(f"/chains/{chain}/map")
    assert "本图谱有 1 个环节依据该行业的一般结构" in page
    assert f'href="/segments?chain_id={chain}&amp;basis=general"' in page
    assert f'class="segment gap general" id="segment-{general}"' in page
    assert f'class="segment gap" id="segment-{checked}"' in page
    listed = web.text(f"/segments?chain_id={chain}&basis=general")
    assert "通用环节" in listed and "核定环节" not in listed
    # The office confirms it through the form; the notice is gone.
    form = web.text(f"/segments/{general}/edit")
    assert '<option selected value="general">' in form
    data = {"chain_id": str(chain), "code": "checked", "name_zh": "通用环节（已核定）",
            "position": "upstream", "basis": "confirmed", "version": _version(web, f"/segments/{general}/edit")}  # fmt: skip
    response = web.post(f"/segments/{general}/edit", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert (
        conn.execute(
            text("SELECT basis FROM chain_segment WHERE id = :id"), {"id": general}
        ).scalar_one()
        == "confirmed"
    )
    page = web.text(f"/chains/{chain}/map")
    assert "一般结构" not in page.split('id="legend-heading"')[0]


def test_an_unknown_chain_has_no_map(web):
    assert web.get("/chains/no-such-chain/map").status_code == 404


# --- chains --------------------------------------------------------------------------------------


def test_the_chain_list_filters_and_links_to_each_map(web, conn):
    iconic = f.chain(conn, name_zh="标志性测试链")
    f.key_chain(conn, parent_id=iconic, name_zh="重点测试链")
    page = web.text("/chains?tier=key")
    assert "重点测试链" in page and "标志性测试链" in page  # the second as the parent column
    assert page.count("/map") == 1
    page = web.text("/chains?tier=iconic")
    assert "重点测试链" not in page
    assert f'href="/chains/{iconic}/map"' in page
    assert "标志性测试链" in web.text("/chains?q=标志性")


def test_the_chain_page_shows_its_segments_masters_counts_and_map(web, conn, mapped):
    chain = mapped["chain"]
    f.project(conn, chain, f.district(conn))
    page = web.text(f"/chains/{chain}")
    assert f'href="/chains/{chain}/map"' in page
    for name in ("上游材料环节", "中游制造环节", "中游子环节", "下游应用环节", "链主整车公司"):
        assert name in page
    assert page.index("上游材料环节") < page.index("中游制造环节") < page.index("下游应用环节")
    assert f"/projects?chain_id={chain}" in page
    assert f"/enterprises?chain_id={chain}" in page
    projects = _between(page, f"/projects?chain_id={chain}", "</a>")
    assert '<span class="figure">1</span>' in projects
    suppliers = _between(page, f"/enterprises?chain_id={chain}&amp;role=supplier", "</a>")
    assert '<span class="figure">1</span>' in suppliers  # the outsider's live role
    assert f"/chain-roles/new?chain_id={chain}&amp;role=chain_master" in page


CHAIN = {"code": "test-auto", "name_zh": "测试汽车", "tier": "iconic", "sort_order": "3"}


def test_a_chain_is_created_with_its_other_names(web, conn):
    response = web.post(
        "/chains/new", {**CHAIN, "aliases": "汽车产业、新能源汽车", "group": "advantage"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    row = conn.execute(text('SELECT name_zh, aliases, "group" FROM chain')).one()
    assert row == ("测试汽车", ["汽车产业", "新能源汽车"], "advantage")
    assert "测试汽车" in web.text(response.location)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": "Not A Slug"}, "code"),
        ({"name_zh": ""}, "name_zh"),
        ({"target_2030_cny_100m": "-5"}, "target_2030_cny_100m"),
    ],
)
def test_a_refused_chain_names_the_field_and_keeps_what_was_typed(web, conn, changes, field):
    before = count_rows(conn, "chain")
    response = web.post("/chains/new", {**CHAIN, "chief": "某副市长", **changes})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    assert 'value="某副市长"' in page
    assert count_rows(conn, "chain") == before


def test_a_chain_code_is_unique(web, conn):
    f.chain(conn, code="test-auto")
    before = count_rows(conn, "chain")
    response = web.post("/chains/new", CHAIN)
    assert response.status_code == 409
    assert 'id="code-error"' in response.get_data(as_text=True)
    assert count_rows(conn, "chain") == before


def test_only_a_key_chain_sits_under_an_iconic_one(web, conn):
    parent = f.chain(conn)
    before = count_rows(conn, "chain")
    response = web.post("/chains/new", {**CHAIN, "parent_id": str(parent)})
    assert response.status_code == 422
    assert 'id="parent_id-error"' in response.get_data(as_text=True)
    assert count_rows(conn, "chain") == before
    response = web.post("/chains/new", {**CHAIN, "tier": "key", "parent_id": str(parent)})
    assert response.status_code == 302
    assert (
        conn.execute(text("SELECT parent_id FROM chain WHERE code = 'test-auto'")).scalar()
        == parent
    )


def test_a_chain_is_edited_and_deleted_when_nothing_refers_to_it(web, conn):
    chain = f.chain(conn, code="test-auto", name_zh="旧名")
    version = _version(web, f"/chains/{chain}/edit")
    response = web.post(f"/chains/{chain}/edit", {**CHAIN, "name_zh": "新名", "version": version})
    assert response.status_code == 302
    assert conn.execute(text("SELECT name_zh FROM chain")).scalar() == "新名"
    segment = f.segment(conn, chain)
    assert web.post(f"/chains/{chain}/delete").status_code == 409
    conn.execute(text("DELETE FROM chain_segment WHERE id = :id"), {"id": segment})
    assert web.post("/chains/test-auto/delete").status_code == 302
    assert count_rows(conn, "chain") == {"chain": 0}


# --- segments ------------------------------------------------------------------------------------


def test_a_segment_is_created_under_a_parent_of_its_chain(web, conn):
    chain = f.chain(conn)
    parent = f.segment(conn, chain, position="upstream")
    form = web.text(f"/segments/new?chain_id={chain}&parent_id={parent}")
    assert f'<option selected value="{chain}">' in form
    assert 'data-segments-of="chain_id"' in form
    data = {"chain_id": str(chain), "parent_id": str(parent), "code": "battery.cell",
            "name_zh": "电芯", "position": "upstream", "sort_order": "2"}  # fmt: skip
    response = web.post("/segments/new", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    row = conn.execute(
        text(
            "SELECT chain_id, parent_id, position, sort_order FROM chain_segment WHERE code = 'battery.cell'"
        )
    ).one()
    assert row == (chain, parent, "upstream", 2)
    assert "电芯" in web.text(f"/chains/{chain}/map")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": "Bad Code"}, "code"),
        ({"chain_id": ""}, "chain_id"),
        ({"position": "sideways"}, "position"),
        ({"parent_id": "OTHER"}, "parent_id"),  # a segment of another chain
    ],
)
def test_a_refused_segment_names_the_field(web, conn, changes, field):
    chain = f.chain(conn)
    other = f.segment(conn, f.chain(conn))
    if changes.get("parent_id") == "OTHER":
        changes = {"parent_id": str(other)}
    before = count_rows(conn, "chain_segment")
    data = {"chain_id": str(chain), "code": "cell", "name_zh": "电芯环节", "position": "upstream",
            "sort_order": "0", **changes}  # fmt: skip
    response = web.post("/segments/new", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    assert 'value="电芯环节"' in page
    assert count_rows(conn, "chain_segment") == before


def test_segments_are_listed_by_chain_and_position(web, conn):
    chain = f.chain(conn)
    f.segment(conn, chain, name_zh="甲链上游", position="upstream")
    f.segment(conn, chain, name_zh="甲链下游", position="downstream")
    f.segment(conn, f.chain(conn), name_zh="乙链上游", position="upstream")
    page = web.text(f"/segments?chain_id={chain}&position=upstream")
    assert "甲链上游" in page
    assert "甲链下游" not in page and "乙链上游" not in page


def test_a_segment_page_lists_its_enterprises_and_sub_segments(web, mapped):
    page = web.text(f"/segments/{mapped['mid']}")
    assert "链主整车公司" in page and "中游子环节" in page
    assert 'class="badge master"' in page
    assert f"/chains/{mapped['chain']}/map#segment-{mapped['mid']}" in page
    page = web.text(f"/segments/{mapped['up']}")
    assert '<span class="badge gap">' in page


def test_a_segment_is_edited_and_refused_deletion_while_in_use(web, conn):
    chain = f.chain(conn)
    segment = f.segment(conn, chain, code="cell", name_zh="电芯")
    data = {"chain_id": str(chain), "code": "cell", "name_zh": "动力电芯", "position": "downstream",
            "sort_order": "0", "version": _version(web, f"/segments/{segment}/edit")}  # fmt: skip
    assert web.post(f"/segments/{segment}/edit", data).status_code == 302
    assert conn.execute(text("SELECT name_zh, position FROM chain_segment")).one() == (
        "动力电芯",
        "downstream",
    )
    f.chain_role(conn, f.enterprise(conn), chain, "supplier", segment_id=segment)
    assert web.post(f"/segments/{segment}/delete").status_code == 409
    assert count_rows(conn, "chain_segment") == {"chain_segment": 1}


# --- chain roles ---------------------------------------------------------------------------------


@pytest.fixture
def role_setup(conn):
    chain = f.chain(conn, name_zh="测试角色链")
    segment = f.segment(conn, chain)
    enterprise = f.enterprise(conn, name_zh="角色测试公司")
    return {"chain": chain, "segment": segment, "enterprise": enterprise}


def _role_form(setup, **changes):
    return {"enterprise_id": f"角色测试公司 #{setup['enterprise']}", "chain_id": str(setup["chain"]),
            "segment_id": str(setup["segment"]), "role": "supplier", "since": "2024-01-01",
            "source": "链长办", **changes}  # fmt: skip


def test_a_chain_role_is_created_from_the_picked_enterprise(web, conn, role_setup):
    response = web.post("/chain-roles/new", _role_form(role_setup, enterprise_id="角色测试公司"))
    assert response.status_code == 302, response.get_data(as_text=True)
    row = conn.execute(
        text("SELECT enterprise_id, chain_id, segment_id, role, since::text FROM chain_role")
    ).one()
    assert row == (role_setup["enterprise"], role_setup["chain"], role_setup["segment"],
                   "supplier", "2024-01-01")  # fmt: skip
    page = web.text(response.location)
    assert "角色测试公司" in page and "测试角色链" in page


def test_an_overlapping_role_is_refused_beside_since(web, conn, role_setup):
    f.chain_role(conn, role_setup["enterprise"], role_setup["chain"], "supplier",
                 segment_id=role_setup["segment"], since="2023-01-01")  # fmt: skip
    before = count_rows(conn, "chain_role")
    response = web.post("/chain-roles/new", _role_form(role_setup))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'id="since-error"' in page
    assert 'value="链长办"' in page
    assert count_rows(conn, "chain_role") == before


@pytest.mark.parametrize(
    ("changes", "field", "status"),
    [
        ({"enterprise_id": "没有这家公司"}, "enterprise_id", 422),
        ({"segment_id": "OTHER"}, "segment_id", 422),  # a segment of another chain
        ({"until": "2023-01-01"}, "until", 422),  # before since
        ({"since": "not a day"}, "since", 422),
        ({"role": ""}, "role", 422),
    ],
)
def test_a_refused_chain_role_names_the_field(web, conn, role_setup, changes, field, status):
    if changes.get("segment_id") == "OTHER":
        changes = {"segment_id": str(f.segment(conn, f.chain(conn)))}
    before = count_rows(conn, "chain_role")
    response = web.post("/chain-roles/new", _role_form(role_setup, **changes))
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    assert count_rows(conn, "chain_role") == before


def test_a_chain_master_with_live_links_keeps_its_role(web, conn):
    chain = f.chain(conn)
    master = f.enterprise(conn, name_zh="有配套的链主")
    role = f.chain_role(conn, master, chain, "chain_master")
    f.supply_link(conn, f.enterprise(conn), master, chain)
    yesterday = conn.execute(text("SELECT current_date - 1")).scalar_one()
    data = {"enterprise_id": f"有配套的链主 #{master}", "chain_id": str(chain),
            "role": "chain_master", "until": yesterday.isoformat(),
            "version": _version(web, f"/chain-roles/{role}/edit")}  # fmt: skip
    response = web.post(f"/chain-roles/{role}/edit", data)
    assert response.status_code == 409
    assert 'id="until-error"' in response.get_data(as_text=True)
    assert conn.execute(text("SELECT until FROM chain_role")).scalar() is None
    response = web.post(f"/chain-roles/{role}/delete")
    assert response.status_code == 409
    assert count_rows(conn, "chain_role") == {"chain_role": 1}


def test_a_chain_role_is_edited_and_deleted(web, conn, role_setup):
    role = f.chain_role(conn, role_setup["enterprise"], role_setup["chain"], "backbone")
    data = _role_form(role_setup, role="backbone", until="2025-06-30",
                      version=_version(web, f"/chain-roles/{role}/edit"))  # fmt: skip
    assert web.post(f"/chain-roles/{role}/edit", data).status_code == 302
    assert conn.execute(text("SELECT until::text, segment_id FROM chain_role")).one() == (
        "2025-06-30",
        role_setup["segment"],
    )
    assert web.post(f"/chain-roles/{role}/delete").status_code == 302
    assert count_rows(conn, "chain_role") == {"chain_role": 0}


def test_chain_roles_are_listed_by_chain_role_and_typed_enterprise(web, conn, role_setup):
    f.chain_role(conn, role_setup["enterprise"], role_setup["chain"], "supplier")
    other = f.enterprise(conn, name_zh="另一家公司")
    f.chain_role(conn, other, role_setup["chain"], "backbone")
    f.chain_role(conn, role_setup["enterprise"], f.chain(conn, name_zh="别的链"), "supplier")

    def rows(path: str) -> str:
        return _between(web.text(path), "<tbody>", "</tbody>")

    found = rows(f"/chain-roles?chain_id={role_setup['chain']}&role=supplier")
    assert "角色测试公司" in found and "另一家公司" not in found and "别的链" not in found
    found = rows("/chain-roles?enterprise_id=角色测试")  # part of a name
    assert "角色测试公司" in found and "别的链" in found and "另一家公司" not in found
    found = rows(f"/chain-roles?enterprise_id=另一家公司+%23{other}")  # picked
    assert "另一家公司" in found and "角色测试公司" not in found
    found = rows("/chain-roles?enterprise_id=没有这家公司")
    assert "角色测试公司" not in found and "另一家公司" not in found


def test_the_new_role_form_can_come_prepared_for_a_chain_master(web, conn, role_setup):
    page = web.text(f"/chain-roles/new?chain_id={role_setup['chain']}&role=chain_master")
    assert f'<option selected value="{role_setup["chain"]}">' in page
    assert '<option selected value="chain_master">' in page


# --- roles ---------------------------------------------------------------------------------------


def test_a_viewer_reads_but_cannot_change(web_as, conn, mapped):
    viewer = web_as("viewer")
    chain, segment = mapped["chain"], mapped["mid"]
    role = conn.execute(text("SELECT id FROM chain_role WHERE role = 'chain_master'")).scalar()
    for path in (f"/chains/{chain}/map", "/chains", f"/chains/{chain}", "/segments",
                 f"/segments/{segment}", "/chain-roles", f"/chain-roles/{role}"):  # fmt: skip
        page = viewer.text(path)
        for write in ("/new", "/edit", "/delete", "/import"):
            assert write not in page, (path, write)
    before = count_rows(conn, "chain", "chain_segment", "chain_role")
    for path, data in (
        ("/chains/new", CHAIN),
        (f"/chains/{chain}/edit", CHAIN),
        (f"/chains/{chain}/delete", {}),
        (
            "/segments/new",
            {"chain_id": str(chain), "code": "x", "name_zh": "x", "position": "upstream"},
        ),
        (f"/segments/{segment}/delete", {}),
        (f"/chain-roles/{role}/delete", {}),
    ):
        assert viewer.post(path, data).status_code == 403, path
    assert viewer.get("/chains/new").status_code == 403
    assert count_rows(conn, "chain", "chain_segment", "chain_role") == before
