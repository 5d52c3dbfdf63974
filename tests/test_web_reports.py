"""The report pages: every report renders its figures, filters narrow the rows, the exports hold
exactly the filtered rows, unknown reports and bad filters are explained, viewers may look."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from chaindb.reports import MATERIALIZED, VIEWS, catalog
from chaindb.reports.refresh import refresh_reports
from tests import factories_sql as f


@pytest.fixture
def world(conn):
    """Two chains in a planning unit; a local chain master with a local and a non-local
    supplier; a second-tier supplier; projects, a target and a designation."""
    district = f.district(conn, name_zh="报表测试区")
    other_district = f.district(conn, name_zh="报表空白区")
    auto = f.chain(conn, code="rpt-auto", name_zh="报表汽车链")
    chem = f.chain(conn, code="rpt-chem", name_zh="报表化工链")
    battery = f.segment(conn, auto, code="rpt-battery", name_zh="报表电池环节", position="upstream")
    motor = f.segment(conn, auto, code="rpt-motor", name_zh="报表电机环节", position="midstream")
    master = f.enterprise(conn, name_zh="报表链主汽车有限公司", district_id=district, size="large")
    f.chain_role(conn, master, auto, "chain_master")
    local = f.enterprise(conn, name_zh="报表本地电池有限公司", district_id=district, size="small")
    f.chain_role(conn, local, auto, "supplier", segment_id=battery)
    f.chain_role(conn, local, chem, "chain_master")
    remote = f.enterprise(conn, name_zh="报表外地电机有限公司", region_code="440300", size="medium")
    second = f.enterprise(conn, name_zh="报表二级材料有限公司", region_code="310115")
    f.supply_link(conn, local, master, auto, segment_id=battery, product="电芯",
                  annual_value_cny_10k=300, status="active")  # fmt: skip
    f.supply_link(conn, remote, master, auto, segment_id=motor, product="驱动电机",
                  annual_value_cny_10k=100, status="active")  # fmt: skip
    f.supply_link(conn, second, local, chem, product="电解液", annual_value_cny_10k=50,
                  status="active")  # fmt: skip
    signed = f.project(
        conn, auto, district, name="报表电池工厂项目", stage="signed",
        signed_on=date(2025, 3, 10), agreed_start_on=date(2025, 4, 1),
        agreed_investment_cny_100m=Decimal("12.5"), funds_arrived_cny_100m=Decimal("5"),
    )  # fmt: skip
    started = f.project(
        conn, auto, district, name="报表电机工厂项目", stage="under_construction",
        signed_on=date(2024, 11, 5), agreed_start_on=date(2024, 12, 1),
        construction_started_on=date(2024, 11, 20),
        agreed_investment_cny_100m=Decimal("30"), funds_arrived_cny_100m=Decimal("30"),
    )  # fmt: skip
    f.project(conn, chem, district, name="报表化工储备项目", stage="lead",
              agreed_investment_cny_100m=Decimal("8"))  # fmt: skip
    f.target(conn, scope="city", year=2025, metric="industrial_revenue", unit="cny_100m",
             target_value=1000, actual_value=800)  # fmt: skip
    f.target(conn, scope="city", year=2024, metric="industrial_revenue", unit="cny_100m",
             target_value=900, actual_value=950)  # fmt: skip
    f.insert(conn, "designation", enterprise_id=local, type="little_giant", level="national",
             year=2024)  # fmt: skip
    refresh_reports(conn)  # the materialized reports, as of now (in the test's transaction)
    return SimpleNamespace(
        district=district, other_district=other_district, auto=auto, chem=chem,
        battery=battery, motor=motor, master=master, local=local, remote=remote,
        second=second, signed=signed, started=started,
    )  # fmt: skip


def view_rows(conn, report, where: str = "", **params) -> list[dict]:
    sql = f"SELECT * FROM {report.view} {where}"
    return [dict(r) for r in conn.execute(text(sql), params).mappings()]


def read_csv(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith("\ufeff".encode()), "the CSV starts with a BOM"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def read_xlsx(response) -> list[list]:
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


# --- the catalog against the views ---------------------------------------------------------------


def test_every_view_has_a_report_whose_columns_are_the_views(conn):
    assert sorted(r.view for r in catalog.REPORTS.values()) == sorted(VIEWS)
    for report in catalog.REPORTS.values():
        # pg_attribute, not information_schema.columns: that leaves materialized views out.
        columns = conn.execute(
            text(
                "SELECT a.attname FROM pg_attribute AS a "
                "WHERE a.attrelid = CAST(:view AS regclass) AND a.attnum > 0 "
                "AND NOT a.attisdropped ORDER BY a.attnum"
            ),
            {"view": report.view},
        ).scalars()
        assert report.names == list(columns), report.view
        for col in report.columns:
            if col.name.endswith("_cny_100m"):
                assert col.format == "yi", col.name
            if col.name.endswith("_cny_10k"):  # in 万元, or summed and read in 亿元
                assert col.format == "wan" or (col.format, col.scale) == ("yi", 10_000)
            if "rate" in col.name or col.name == "progress":
                assert col.format == "percent", col.name
        for name in report.order_by:
            if name.lstrip("-") == "@chain":  # the chains' official order, by chain_id
                assert "chain_id" in report.by_name, report.name
                continue
            assert name.lstrip("-") in report.by_name
        for flt in report.filters:
            assert flt.column in report.by_name
        if report.chart:
            for name in (*report.chart.category, *report.chart.values):
                assert name == "*" or name in report.by_name


# --- the pages ------------------------------------------------------------------------------------


def test_the_index_lists_every_report(web):
    page = web.text("/reports")
    for report in catalog.REPORTS.values():
        assert f'href="/reports/{report.name}"' in page
        assert report.view in page


@pytest.mark.parametrize("name", list(catalog.REPORTS))
def test_every_report_renders(web, world, name):
    page = web.text(f"/reports/{name}")
    report = catalog.REPORTS[name]
    assert f"<code>{report.view}</code>" in page
    assert "<table" in page
    assert "style=" not in page  # the Content-Security-Policy forbids inline styles
    assert f"/reports/{name}/export?format=csv" in page


def _row_of(page: str, marker: str) -> str:
    """The table row (<tr>…</tr>) that contains `marker`."""
    for row in re.findall(r"<tr>.*?</tr>", page, flags=re.S):
        if marker in row:
            return row
    raise AssertionError(f"no row with {marker!r}")


def test_chain_overview_shows_the_chains_figures(web, world):
    row = _row_of(web.text(f"/reports/chain-overview?chain_id={world.auto}"), "报表汽车链")
    # Agreed investment of the two projects (12.5 + 30) and their funds (5 + 30), in 亿元.
    assert "42.50 亿元" in row
    assert "35.00 亿元" in row
    cells = re.findall(r'<td class="num">([^<]*)</td>', row)
    # The leading columns: enterprises, masters, suppliers, local, projects
    assert cells[:5] == ["2", "1", "2", "1", "2"]
    # The rest behind "All columns": backbones, non-local suppliers, links ...
    more = re.findall(r'<td class="num more">([^<]*)</td>', row)
    assert more[:3] == ["0", "1", "2"]


def test_chain_master_suppliers_shows_the_local_supply_rates(web, world):
    page = web.text("/reports/chain-master-suppliers")
    row = _row_of(page, "报表链主汽车有限公司")
    # 300 of 400 万元 from the local supplier; one link of two.
    assert "75.0%" in row and "50.0%" in row
    assert "0.04 亿元" in row  # 400 万元, read in 亿元
    assert f'href="/chain-masters/{world.master}"' in row
    # The chart: one stacked bar per chain master, with an accessible title.
    assert "<svg" in page and 'role="img"' in page
    assert '<title id="chart-chain-master-suppliers-title">' in page


def test_chain_gaps_and_their_candidates(web, world):
    gaps = web.text(f"/reports/chain-gaps?chain_id={world.auto}")
    assert "报表电机环节" in gaps  # served only from elsewhere: a gap
    assert "报表电池环节" not in gaps.split("<table")[1]  # the local battery maker serves it
    candidates = web.text(f"/reports/gap-candidates?chain_id={world.auto}")
    row = _row_of(candidates, "报表外地电机有限公司")
    assert "广东省深圳市" in row and "440300" not in row  # the place, not its code
    assert "驱动电机" in row and "100.00 万元" in row


def test_supplier_tiers_shows_the_second_tier_and_its_path(web, world):
    page = web.text(f"/reports/supplier-tiers?chain_master_id={world.master}")
    row = _row_of(page, "报表二级材料有限公司")
    assert re.search(r"<td>2</td>", row)
    # The path from the chain master, by name: master → local supplier → second tier.
    assert row.index("报表链主汽车有限公司") < row.index("报表本地电池有限公司")
    narrowed = web.text(f"/reports/supplier-tiers?chain_master_id={world.master}&max_tier=1")
    assert "报表二级材料有限公司" not in narrowed.split("<table")[1]
    assert "报表本地电池有限公司" in narrowed.split("<table")[1]


def test_district_matrix_pipeline_rates_targets_and_designations(web, world):
    matrix = web.text(f"/reports/district-chain-matrix?district_id={world.district}&layout=list")
    assert "42.50 亿元" in _row_of(matrix, "报表汽车链")
    pipeline = web.text("/reports/project-pipeline?year=2025")
    assert "2025-03" in pipeline and "2024-11" not in pipeline.split("<table")[1]
    rates = web.text("/reports/project-rates?year=2024")
    # Signed in November 2024 and started: a start rate of 100%, all funds arrived.
    assert "100.0%" in _row_of(rates, "2024-11")
    progress = web.text("/reports/target-progress?year=2025")
    assert "80.0%" in progress and "105.6%" not in progress
    designations = web.text(f"/reports/designations?district_id={world.district}")
    row = _row_of(designations.split("<table")[1], "小巨人")
    assert re.findall(r'<td class="num">([^<]*)</td>', row) == ["1"]


def test_filters_narrow_the_rows(web, world):
    everything = web.text("/reports/district-chain-matrix?layout=list")
    one = web.text(
        f"/reports/district-chain-matrix?chain_id={world.chem}&district_id={world.district}"
        "&layout=list"
    )
    table = one.split("<table")[1]
    assert table.count("<tr>") == 2  # the header and one row
    assert "报表化工链" in table and "报表汽车链" not in table
    assert "报表空白区" in everything


def test_the_page_shows_the_first_rows_and_says_how_many_there_are(web, world, conn, monkeypatch):
    monkeypatch.setattr(catalog, "ROWS_SHOWN", 3)
    total = len(view_rows(conn, catalog.REPORTS["district-chain-matrix"]))
    assert total > 3
    page = web.text("/reports/district-chain-matrix?layout=list")
    assert page.split("<tbody>")[1].count("<tr>") == 3
    assert f'data-total="{total}" data-shown="3"' in page


def test_export_csv_and_xlsx_hold_exactly_the_filtered_rows(web, world, conn):
    report = catalog.REPORTS["district-chain-matrix"]
    expected = view_rows(
        conn,
        report,
        "WHERE chain_id = :chain ORDER BY district_code, chain_code",
        chain=world.auto,
    )
    assert len(expected) >= 2  # every planning unit, this chain
    response = web.get(
        f"/reports/district-chain-matrix/export?format=csv&layout=raw&chain_id={world.auto}"
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert f'filename="{report.view}.csv"' in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0] == report.names
    assert [int(r[rows[0].index("district_id")]) for r in rows[1:]] == [
        r["district_id"] for r in expected
    ]
    assert {int(r[rows[0].index("chain_id")]) for r in rows[1:]} == {world.auto}
    ours = next(r for r in rows[1:] if int(r[0]) == world.district)
    assert Decimal(ours[report.names.index("agreed_investment_cny_100m")]) == Decimal("42.5")

    response = web.get(
        f"/reports/district-chain-matrix/export?format=xlsx&layout=raw&chain_id={world.auto}"
    )
    assert response.status_code == 200
    sheet = read_xlsx(response)
    assert list(sheet[0]) == report.names
    assert [r[0] for r in sheet[1:]] == [r["district_id"] for r in expected]
    ours = next(r for r in sheet[1:] if r[0] == world.district)
    assert Decimal(str(ours[report.names.index("agreed_investment_cny_100m")])) == Decimal("42.5")


def test_every_report_exports_as_csv_and_xlsx(web, world, conn):
    for report in catalog.REPORTS.values():
        count = len(view_rows(conn, report))
        rows = read_csv(web.get(f"/reports/{report.name}/export?format=csv&layout=raw"))
        assert rows[0] == report.names and len(rows) - 1 == count, report.name
        sheet = read_xlsx(web.get(f"/reports/{report.name}/export?format=xlsx&layout=raw"))
        assert list(sheet[0]) == report.names and len(sheet) - 1 == count, report.name


def test_supplier_tiers_exports_the_path_as_an_array(web, world):
    rows = read_csv(
        web.get(
            f"/reports/supplier-tiers/export?format=csv&layout=raw&chain_master_id={world.master}"
        )
    )
    header, body = rows[0], rows[1:]
    second = next(r for r in body if int(r[header.index("supplier_id")]) == world.second)
    assert second[header.index("path")] == f"{{{world.master},{world.local},{world.second}}}"
    assert second[header.index("supplier_local")] == "false"


def test_an_unknown_report_is_not_found(web):
    assert web.get("/reports/no-such-report").status_code == 404
    assert web.get("/reports/no-such-report/export?format=csv").status_code == 404


def test_a_bad_filter_is_explained_beside_its_field(web, world):
    response = web.get("/reports/project-rates?year=abc")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'class="field-error" id="year-error"' in page
    assert 'value="abc"' in page
    response = web.get("/reports/chain-overview?chain_id=999999999")
    assert response.status_code == 422
    assert 'id="chain_id-error"' in response.get_data(as_text=True)
    response = web.get("/reports/supplier-tiers?max_tier=9")
    assert response.status_code == 422
    assert 'id="max_tier-error"' in response.get_data(as_text=True)


def test_a_bad_export_is_refused_not_a_500(web, world):
    assert web.get("/reports/project-rates/export?format=csv&year=abc").status_code == 422
    assert web.get("/reports/project-rates/export?format=pdf").status_code == 422


def test_filters_a_report_lacks_are_ignored(web, world):
    # project-rates has no chain filter: the parameter neither filters nor breaks the page.
    assert web.get(f"/reports/project-rates?chain_id={world.auto}").status_code == 200


def test_a_viewer_may_see_and_export_reports(web_as, world):
    viewer = web_as("viewer")
    assert viewer.get("/reports").status_code == 200
    assert viewer.get("/reports/chain-overview").status_code == 200
    assert viewer.get("/reports/chain-overview/export?format=xlsx").status_code == 200


def test_signed_out_readers_are_sent_to_sign_in(client):
    response = client.get("/reports/chain-overview")
    assert response.status_code == 302
    assert "/login" in response.location


def test_names_are_escaped_in_tables_and_charts(web, conn, world):
    f.enterprise(conn, name_zh="<script>alert(1)</script>", district_id=world.district)
    nasty = f.chain(conn, code="rpt-nasty", name_zh="<b>报表</b>链")
    f.project(conn, nasty, world.district, agreed_investment_cny_100m=Decimal("99"))
    refresh_reports(conn)
    page = web.text("/reports/chain-overview")
    assert "<b>报表</b>" not in page
    assert "&lt;b&gt;报表&lt;/b&gt;链" in page


def test_the_chart_draws_bars_with_labels_and_values(web, world):
    page = web.text(f"/reports/chain-overview?chain_id={world.auto}")
    svg = page.split("<svg")[1].split("</svg>")[0]
    assert "报表汽车链" in svg
    assert "42.50 亿元" in svg  # the stacked bar's total
    assert svg.count("<rect") >= 2  # signed and under construction, stacked
    assert "<desc" in svg


def test_exports_stream_on_an_engine_too(engine):
    """In production the pages' GET session reads in autocommit, where no server-side cursor
    can be declared: the export must read in a transaction of its own."""
    from chaindb import create_app
    from chaindb.config import Settings

    settings = Settings(
        env="test", database_url="postgresql+psycopg://unused/none", secret_key="t" * 40
    )
    app = create_app({"TESTING": True, "ENGINE": engine}, settings=settings)
    if "reports.export" not in app.view_functions:
        from chaindb.reports.views import register

        register(app)
    export = app.view_functions["reports.export"]
    for fmt in ("csv", "xlsx"):
        # The view itself, past the sign-in gate: this test is about the database session.
        with app.test_request_context(f"/reports/chain-overview/export?format={fmt}&layout=raw"):
            response = export("chain-overview")
            body = response.get_data()
        assert body.startswith("\ufeffchain_id,".encode() if fmt == "csv" else b"PK")


# --- the materialized reports: as of when, and refreshing them -------------------------------------


def test_materialized_reports_say_as_of_when_and_editors_may_refresh(web, world):
    for report in catalog.REPORTS.values():
        page = web.text(f"/reports/{report.name}")
        if report.materialized:
            assert 'id="freshness"' in page and "数据截至" in page, report.name
            assert f'action="/reports/{report.name}/refresh"' in page
        else:
            assert 'id="freshness"' not in page, report.name
            assert "/refresh" not in page
    assert {r.view for r in catalog.REPORTS.values() if r.materialized} == set(MATERIALIZED)
    # The refresh keeps the page's filters.
    page = web.text(f"/reports/chain-overview?chain_id={world.auto}")
    assert f'action="/reports/chain-overview/refresh?chain_id={world.auto}"' in page


def test_the_refresh_button_shows_new_figures(web, world, conn):
    page = web.text(f"/reports/chain-overview?chain_id={world.auto}")
    assert "42.50 亿元" in _row_of(page, "报表汽车链")
    f.project(conn, world.auto, world.district, agreed_investment_cny_100m=Decimal("7.5"))
    page = web.text(f"/reports/chain-overview?chain_id={world.auto}")
    assert "42.50 亿元" in _row_of(page, "报表汽车链")  # as of the last refresh
    before = conn.execute(
        text("SELECT refreshed_at FROM report_refresh WHERE view_name = 'report_chain_overview'")
    ).scalar_one()

    response = web.post(f"/reports/chain-overview/refresh?chain_id={world.auto}")
    assert response.status_code == 302
    assert response.location.endswith(f"/reports/chain-overview?chain_id={world.auto}")
    page = web.text(response.location)
    assert "50.00 亿元" in _row_of(page, "报表汽车链")
    assert "数据已刷新" in page
    after, seconds = conn.execute(
        text(
            "SELECT refreshed_at, seconds FROM report_refresh "
            "WHERE view_name = 'report_chain_overview'"
        )
    ).one()
    assert after > before and seconds is not None


def test_refreshing_the_candidates_refreshes_the_gaps_they_read(web, world, conn):
    before = dict(conn.execute(text("SELECT view_name, refreshed_at FROM report_refresh")).all())
    response = web.post(f"/reports/gap-candidates/refresh?chain_id={world.auto}")
    assert response.status_code == 302
    after = dict(conn.execute(text("SELECT view_name, refreshed_at FROM report_refresh")).all())
    assert after["report_chain_gaps"] > before["report_chain_gaps"]
    assert after["report_gap_candidates"] > after["report_chain_gaps"]
    assert after["report_chain_overview"] == before["report_chain_overview"]


def test_without_a_refresher_the_page_says_so(web, world):
    page = web.text("/reports/supplier-tiers")
    assert "未运行刷新程序" in page and "立即刷新" in page


def test_viewers_see_the_time_but_may_not_refresh(web_as, world, conn):
    viewer = web_as("viewer")
    page = viewer.text("/reports/chain-master-suppliers")
    assert 'id="freshness"' in page
    assert "/refresh" not in page and "立即刷新" not in page
    response = viewer.post("/reports/chain-master-suppliers/refresh")
    assert response.status_code == 403
    assert (
        conn.execute(
            text(
                "SELECT seconds FROM report_refresh WHERE view_name = 'report_chain_master_suppliers'"
            )
        ).scalar_one()
        is not None
    )  # the world's refresh, not another


def test_a_refresh_needs_the_forms_token_and_a_materialized_report(web, world):
    assert web.client.post("/reports/chain-overview/refresh").status_code == 400  # no token
    assert web.post("/reports/target-progress/refresh").status_code == 404
    assert web.post("/reports/no-such-report/refresh").status_code == 404


# --- readable: the leading columns, the official order, names, the unit a reader expects ------


def test_reports_lead_with_few_columns_and_show_the_rest_on_demand(web, world):
    page = web.text("/reports/chain-overview")
    table = page.split("<table")[1]
    leading = re.findall(r'<th scope="col"(?: class="num")?>([^<]*)</th>', table)
    assert leading[0] == "产业链" and len(leading) <= 9, leading
    assert "代码" not in leading  # names, not codes
    assert 'class="num more"' in table and "all-columns" not in table
    everything = web.text("/reports/chain-overview?columns=all")
    assert 'class="grid compact all-columns"' in everything
    assert "全部列" in page and "较少列" in everything


def test_chains_come_in_their_official_order(web, world, conn):
    # The facts' sequence (sort_order), whatever the codes say: 化工 before 汽车 here.
    conn.execute(text("UPDATE chain SET sort_order = -2 WHERE id = :id"), {"id": world.chem})
    conn.execute(text("UPDATE chain SET sort_order = -1 WHERE id = :id"), {"id": world.auto})
    refresh_reports(conn)
    page = web.text("/reports/chain-overview").split("<tbody>")[1]
    assert page.index("报表化工链") < page.index("报表汽车链")


def test_the_district_chain_report_is_a_cross_table_with_totals(web, world):
    page = web.text("/reports/district-chain-matrix?measure=agreed_investment_cny_100m")
    table = page.split('<table class="grid compact cross"')[1].split("</table>")[0]
    header = table.split("</thead>")[0]
    assert "报表汽车链" in header and "报表化工链" in header and "合计" in header
    row = _row_of(table, "报表测试区")
    # 汽车 42.5 (12.5 + 30), 化工 8 (the lead), the unit's total 50.5.
    assert "42.5" in row and ">8<" in row and "50.5" in row
    footer = table.split("<tfoot>")[1]
    assert "50.5" in footer
    # Units as rows, once each; the empty unit too.
    assert table.count("报表测试区") == 1 and "报表空白区" in table
    assert "单位：亿元" in page or "亿元" in page
    projects = web.text("/reports/district-chain-matrix?measure=projects")
    assert ">2<" in _row_of(projects.split("cross")[1], "报表测试区")


def test_the_place_of_a_code_is_named(app):
    from chaindb.reports.views import place_name

    with app.app_context():
        assert place_name("440300") == "广东省深圳市"
        assert place_name("370112") == "山东省济南市历城区"
        assert place_name("999999") == "999999"  # unknown: as it is
