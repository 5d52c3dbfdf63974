"""The overview, the targets pages and the change log page."""

from __future__ import annotations

import re

from sqlalchemy import event, text

from tests import factories_sql as f
from tests.conftest import count_rows


def _card(page: str, href: str) -> str:
    """The figure of the card that links to href."""
    card = page.split(f'class="card" href="{href}"')[1].split("</a>")[0]
    return re.search(r'class="figure">([^<]*)<', card).group(1)


def _bar_row(page: str, href: str) -> str:
    return page.split(f'<a href="{href}">')[1].split('<div class="bar-row">')[0]


def _world(conn):
    """Two chains, a chain master with three suppliers (one link ended), five projects."""
    car, drug = f.chain(conn, name_zh="汽车"), f.chain(conn, name_zh="生物医药")
    lixia = f.district(conn)
    f.district(conn)
    master = f.chain_master(conn, car)
    f.chain_master(conn, drug, until="2020-12-31")  # no longer a chain master
    suppliers = [f.enterprise(conn) for _ in range(3)]
    for supplier in suppliers[:2]:
        f.supply_link(conn, supplier, master, car, status="active")
    f.supply_link(conn, suppliers[0], master, car, status="active", product="座椅")
    f.supply_link(conn, suppliers[2], master, car, status="ended", until="2024-01-01")
    f.project(conn, car, lixia, agreed_investment_cny_100m=12.5)
    f.project(conn, car, lixia, agreed_investment_cny_100m=30, stage="negotiating")
    f.project(conn, car, lixia, agreed_investment_cny_100m=7.5, stage="negotiating")
    f.project(conn, drug, lixia, agreed_investment_cny_100m=5)
    conn.execute(text("SELECT set_config('chaindb.stage_reason', '投资方撤资', true)"))
    f.project(conn, drug, lixia, agreed_investment_cny_100m=100, stage="dropped",
              dropped_on="2025-03-01")  # fmt: skip
    conn.execute(text("SELECT set_config('chaindb.stage_reason', '', true)"))
    return car, drug


def test_the_overview_counts_what_chaindb_holds(web, conn):
    _world(conn)
    page = web.text("/?lang=en")
    assert _card(page, "/districts") == "2"
    assert _card(page, "/chains") == "2"
    assert _card(page, "/projects?review_status=approved") == "5"
    assert _card(page, "/enterprises") == "5"  # two chain masters and three suppliers
    assert _card(page, "/chain-masters") == "1"  # the other one's role has ended
    suppliers = page.split('class="card" href="/supply-links?status=active"')
    assert len(suppliers) == 3  # suppliers and links both open the active links
    assert 'class="figure">2</span> <span class="what">suppliers' in page
    assert 'class="figure">3</span> <span class="what">active supply links' in page


def test_projects_by_stage_and_investment_by_chain(web, conn):
    car, drug = _world(conn)
    page = web.text("/?lang=en")
    negotiating = _bar_row(page, "/projects?stage=negotiating")
    assert "2 projects" in negotiating and "37.50 亿元" in negotiating
    dropped = _bar_row(page, "/projects?stage=dropped")
    assert "1 project" in dropped and "100.00 亿元" in dropped
    assert "0 projects" in _bar_row(page, "/projects?stage=at_capacity")
    by_chain = page.split("Agreed investment by chain")[1]
    # The dropped project's 100 亿元 do not count: 汽车 (50) comes before 生物医药 (5).
    assert by_chain.index("汽车") < by_chain.index("生物医药")
    assert "50.00 亿元" in _bar_row(by_chain, f"/projects?chain_id={car}")
    drug_row = _bar_row(by_chain, f"/projects?chain_id={drug}")
    assert "5.00 亿元" in drug_row and "1 project" in drug_row


def test_bars_are_drawn_without_inline_styles(web, conn):
    _world(conn)
    page = web.text("/")
    assert 'style="' not in page  # the Content-Security-Policy forbids them
    assert '<rect x="0" y="0" height="14" width="100.0%"' in page


def test_the_overview_reads_its_figures_in_few_queries(web, conn):
    _world(conn)
    statements: list[str] = []

    def count(conn_, cursor, statement, *args):
        if not statement.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    event.listen(conn, "before_cursor_execute", count)
    try:
        web.text("/")
    finally:
        event.remove(conn, "before_cursor_execute", count)
    # The user and their unit's scope; the cards, the stages, the chains; the recent changes
    # and their records ... and the city's goal against its latest actual; the counts beside
    # Review (an editor's returned projects) and Follow-ups (those due) in the navigation.
    assert len(statements) == 10, statements


def test_recent_changes_link_to_the_records(web, conn):
    district = f.district(conn, name_zh="历城区")
    conn.execute(text("SELECT set_config('chaindb.actor', 'someone-else', true)"))
    chain = f.chain(conn)
    f.target(conn, scope="chain", chain_id=chain)
    conn.execute(text("DELETE FROM target"))
    page = web.text("/?lang=en")
    recent = page.split("Recent changes")[1]
    assert f'<a href="/districts/{district}">历城区</a>' in recent
    assert f'href="/chains/{chain}"' in recent
    assert "someone-else" in recent
    assert "deleted" in recent
    assert "/targets/" not in recent  # a deleted record has no page to link to
    # Users and tokens are the administrators' business.
    assert "web-admin" not in recent
    assert "/changes" in recent


def test_an_administrator_sees_the_changes_of_users(web_as):
    page = web_as("admin").text("/?lang=en").split("Recent changes")[1]
    assert "web-viewer" in page
    assert "/users/" in page


def test_the_workflows_are_offered_to_editors_only(web, web_as):
    page = web.text("/")
    assert 'href="/projects/add"' in page
    assert 'href="/supply/link"' in page
    viewer = web_as("viewer").text("/")
    assert 'href="/projects/add"' not in viewer
    assert 'href="/supply/link"' not in viewer


def test_the_overview_escapes_names(web, conn):
    chain = f.chain(conn, name_zh="<script>alert(1)</script>")
    f.project(conn, chain, f.district(conn), agreed_investment_cny_100m=1)
    page = web.text("/")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- targets -------------------------------------------------------------------------------------

CITY = {"scope": "city", "year": "2025", "metric": "industrial_revenue", "unit": "cny_100m",
        "target_value": "11000", "actual_value": "10189.4", "source": "统计公报"}  # fmt: skip


def _errors(page: str, field: str) -> list[str]:
    """The messages shown beside a field."""
    return re.findall(rf'class="field-error" id="{field}-error" role="alert">([^<]*)<', page)


def test_a_target_is_created_and_shows_its_progress(web, conn):
    response = web.post("/targets/new", CITY)
    assert response.status_code == 302, response.get_data(as_text=True)
    page = web.text(response.location + "?lang=en")
    assert "10,189.40 亿元" in page
    assert "92.6%" in page  # 10189.4 / 11000
    assert '<progress max="1" value="' in page
    row = conn.execute(text("SELECT scope, chain_id, target_value FROM target")).one()
    assert row == ("city", None, 11000)


def test_a_chain_target_needs_its_chain_beside_the_field(web, conn):
    before = count_rows(conn, "target")
    response = web.post("/targets/new?lang=en", {**CITY, "scope": "chain"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert _errors(page, "chain_id")
    assert 'value="10189.4"' in page  # what was typed is kept
    assert count_rows(conn, "target") == before


def test_a_city_target_names_no_chain(web, conn):
    chain = f.chain(conn)
    response = web.post("/targets/new", {**CITY, "chain_id": str(chain)})
    assert response.status_code == 422
    assert _errors(response.get_data(as_text=True), "chain_id")
    assert count_rows(conn, "target") == {"target": 0}


def test_a_target_needs_a_value_and_a_year_in_range(web, conn):
    response = web.post("/targets/new", {**CITY, "target_value": "", "actual_value": ""})
    assert response.status_code == 422
    assert _errors(response.get_data(as_text=True), "target_value")
    response = web.post("/targets/new", {**CITY, "year": "1999"})
    assert response.status_code == 422
    assert _errors(response.get_data(as_text=True), "year")
    assert count_rows(conn, "target") == {"target": 0}


def test_the_same_scope_year_and_metric_twice_is_refused(web, conn):
    f.target(conn, year=2025, metric="industrial_revenue")
    response = web.post("/targets/new", CITY)
    assert response.status_code == 409
    assert _errors(response.get_data(as_text=True), "metric")
    assert count_rows(conn, "target") == {"target": 1}


def test_targets_are_listed_and_filtered(web, conn):
    car = f.chain(conn, name_zh="汽车")
    lixia = f.district(conn, name_zh="历下区")
    f.target(conn, scope="city", year=2024, target_value=10000, actual_value=10189.4)
    f.target(conn, scope="chain", chain_id=car, metric="chain_revenue", target_value=2000,
             actual_value=500)  # fmt: skip
    f.target(conn, scope="district", district_id=lixia, metric="projects_signed", unit="count",
             target_value=40, actual_value=None)  # fmt: skip
    web.post("/language", {"lang": "en"})
    page = web.text("/targets")
    assert "101.9%" in page and "25.0%" in page
    assert "2025 · 汽车 · chain revenue (产业链营收)" in page
    chain_only = web.text(f"/targets?chain_id={car}")
    assert "汽车" in chain_only and "历下区 ·" not in chain_only and "101.9%" not in chain_only
    assert "历下区" in web.text("/targets?scope=district")
    assert "101.9%" in web.text("/targets?year=2024")
    assert "101.9%" not in web.text("/targets?metric=chain_revenue")


def test_a_target_is_edited_and_deleted(web, conn):
    target = f.target(conn, target_value=1000, actual_value=None)
    form = web.text(f"/targets/{target}/edit")
    assert 'value="1000"' in form
    version = form.split('name="version" type="hidden" value="')[1].split('"')[0]
    response = web.post(f"/targets/{target}/edit", {**CITY, "year": "2025", "target_value": "1000",
                                                     "actual_value": "800", "version": version})  # fmt: skip
    assert response.status_code == 302
    assert "80.0%" in web.text(f"/targets/{target}")
    assert web.post(f"/targets/{target}/delete").status_code == 302
    assert count_rows(conn, "target") == {"target": 0}


def test_a_viewer_reads_targets_but_changes_none(web_as, conn):
    f.target(conn)
    viewer = web_as("viewer")
    page = viewer.text("/targets")
    assert "/targets/new" not in page
    assert viewer.post("/targets/new", CITY).status_code == 403
    assert count_rows(conn, "target") == {"target": 1}


# --- the change log ------------------------------------------------------------------------------


def _rows(page: str) -> list[str]:
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    return [r for r in body.split("<tr>")[1:] if "colspan" not in r]


def test_the_change_log_shows_each_field_before_and_after(web, conn):
    district = f.district(conn, name_zh="历下区")
    conn.execute(text("UPDATE district SET name_zh = '历城区' WHERE id = :id"), {"id": district})
    page = web.text(f"/changes?lang=en&table_name=district&record_id={district}")
    rows = _rows(page)
    assert len(rows) == 2
    assert "<code>name_zh</code>: 历下区 → 历城区" in rows[0]
    assert "changed" in rows[0] and "created" in rows[1]
    assert f'<a href="/districts/{district}">历城区</a>' in rows[0]
    assert "updated_at" not in rows[0]


def test_the_change_log_filters(web, conn):
    district = f.district(conn)
    conn.execute(text("DELETE FROM district WHERE id = :id"), {"id": district})
    web.post("/targets/new", CITY)  # by web-editor
    assert len(_rows(web.text("/changes?table_name=target"))) == 1
    assert len(_rows(web.text("/changes?action=delete"))) == 1
    editor = _rows(web.text("/changes?actor=web-ed"))
    assert len(editor) == 1 and "target" in editor[0]
    assert len(_rows(web.text(f"/changes?record_id={district}&table_name=district"))) == 2
    today = conn.execute(text("SELECT current_date")).scalar()
    assert len(_rows(web.text(f"/changes?since={today}&until={today}"))) == 3
    tomorrow = today.fromordinal(today.toordinal() + 1)
    assert _rows(web.text(f"/changes?since={tomorrow}")) == []
    yesterday = today.fromordinal(today.toordinal() - 1)
    assert _rows(web.text(f"/changes?until={yesterday}")) == []


def test_a_bad_change_log_filter_is_explained(web):
    response = web.get("/changes?record_id=abc&lang=en")
    assert response.status_code == 422
    assert 'id="record_id-error"' in response.get_data(as_text=True)
    # Users and tokens are not a table an editor may pick.
    assert web.get("/changes?table_name=app_user").status_code == 422


def test_the_change_log_pages_back_and_forth(web, conn):
    ids = [f.district(conn) for _ in range(60)]
    first = web.text("/changes?table_name=district")
    assert len(_rows(first)) == 50
    assert f"/districts/{ids[-1]}" in _rows(first)[0]
    older = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = web.text(older)
    assert len(_rows(second)) == 10
    assert 'rel="next"' not in second
    newer = second.split('rel="prev"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    back = web.text(newer)
    assert _rows(back) == _rows(first)


def test_a_viewer_reads_the_change_log(web_as, conn):
    f.district(conn, name_zh="<script>alert(1)</script>")
    page = web_as("viewer").text("/changes")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page
