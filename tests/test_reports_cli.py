"""`chaindb report NAME`: an aligned table, CSV and XLSX from the same queries as the pages."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import text

from chaindb.reports import catalog
from chaindb.reports.cli import display_width, report_command
from chaindb.reports.refresh import refresh_reports
from tests import factories_sql as f


@pytest.fixture
def world(conn):
    district = f.district(conn, code="370199", name_zh="命令测试区")
    auto = f.chain(conn, code="cli-auto", name_zh="命令汽车链")
    chem = f.chain(conn, code="cli-chem", name_zh="命令化工链")
    master = f.enterprise(conn, name_zh="命令链主有限公司", district_id=district, size="large")
    f.chain_role(conn, master, auto, "chain_master")
    local = f.enterprise(conn, name_zh="命令本地配套有限公司", district_id=district, size="small")
    remote = f.enterprise(conn, name_zh="命令外地配套有限公司", region_code="320500")
    f.supply_link(conn, local, master, auto, annual_value_cny_10k=300, status="active")
    f.supply_link(conn, remote, master, auto, annual_value_cny_10k=100, status="active")
    f.project(conn, auto, district, agreed_investment_cny_100m=Decimal("12.5"))
    f.project(conn, chem, district, agreed_investment_cny_100m=Decimal("3"))
    refresh_reports(conn)  # the materialized reports, as of now (in the test's transaction)
    return {"district": district, "auto": auto, "chem": chem, "master": master}


@pytest.fixture
def command(conn):
    """The `report` command reading through the test's connection (its data is rolled back)."""
    return report_command(lambda: conn)


@pytest.fixture
def run(command):
    def invoke(*args: str):
        return CliRunner().invoke(command, list(args), catch_exceptions=False)

    return invoke


def test_help_lists_the_reports():
    result = CliRunner().invoke(report_command(lambda: None), ["--help"])
    assert result.exit_code == 0
    for report in catalog.REPORTS.values():
        assert report.name in result.output
        assert report.view in result.output


def test_the_table_is_aligned_with_chinese_names(run, world):
    result = run("chain-master-suppliers", "--chain", "cli-auto")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:2] == ["chain_master_id", "chain_master_name_zh"]
    row = next(line for line in lines if "命令链主有限公司" in line)
    # 300 of 400 万元 local; one link of two.
    assert "75.0%" in row and "50.0%" in row and "0.0400" in row  # 400 万元 in 亿元
    assert lines[-1] == "(1 row)"
    # Every line of the table has the width of the rule under the header (CJK counts twice).
    rule = display_width(lines[1])
    assert all(display_width(line) <= rule for line in lines[:-1])
    assert display_width(row) == rule  # the last column is right-aligned: the row is full


def test_the_district_and_year_filters(run, world):
    result = run("district-chain-matrix", "--district", "370199", "--chain", "cli-chem")
    assert result.exit_code == 0, result.output
    body = result.output.splitlines()[2:-1]
    assert len(body) == 1 and "命令化工链" in body[0] and "3.00" in body[0]
    result = run("project-rates", "--year", "1999")
    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == "(0 rows)"


def test_csv_to_standard_output_holds_the_filtered_rows(run, world, conn):
    result = run("district-chain-matrix", "--format", "csv", "--chain", "cli-auto")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    report = catalog.REPORTS["district-chain-matrix"]
    assert rows[0] == report.names  # no BOM on a pipe
    units = conn.execute(text("SELECT count(*) FROM district")).scalar_one()
    assert len(rows) - 1 == units
    assert {r[report.names.index("chain_code")] for r in rows[1:]} == {"cli-auto"}
    ours = next(r for r in rows[1:] if r[report.names.index("district_code")] == "370199")
    assert Decimal(ours[report.names.index("agreed_investment_cny_100m")]) == Decimal("12.5")


def test_csv_and_xlsx_files_read_back(run, world, tmp_path):
    report = catalog.REPORTS["chain-overview"]
    target = tmp_path / "overview.csv"
    result = run("report_chain_overview", "--format", "csv", "--output", str(target))
    assert result.exit_code == 0, result.output
    data = target.read_bytes()
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == report.names
    codes = [r[report.names.index("chain_code")] for r in rows[1:]]
    assert "cli-auto" in codes and "cli-chem" in codes

    target = tmp_path / "overview.xlsx"
    result = run(
        "chain-overview", "--format", "xlsx", "--output", str(target), "--chain", "cli-auto"
    )
    assert result.exit_code == 0, result.output
    workbook = load_workbook(target, read_only=True)
    got = [list(r) for r in workbook.active.iter_rows(values_only=True)]
    workbook.close()  # read-only workbooks keep their file open until closed
    assert got[0] == report.names
    assert len(got) == 2
    row = dict(zip(report.names, got[1], strict=True))
    assert row["chain_code"] == "cli-auto"
    assert row["suppliers"] == 2 and row["local_suppliers"] == 1
    assert Decimal(str(row["agreed_investment_cny_100m"])) == Decimal("12.5")


def test_further_filters(run, world):
    result = run("supplier-tiers", "--filter", f"chain_master_id={world['master']}",
                 "--filter", "max_tier=1")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "命令本地配套有限公司" in result.output and "命令外地配套有限公司" in result.output
    assert result.output.splitlines()[-1] == "(2 rows)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-report"], "no-such-report"),
        (["chain-overview", "--chain", "no-such-chain"], "no chain has the code"),
        (["chain-overview", "--year", "2025"], "has no --year filter"),
        (["project-rates", "--district", "370199"], "has no --district filter"),
        (["chain-overview", "--format", "xlsx"], "needs --output"),
        (["supplier-tiers", "--filter", "max_tier=9"], "between 1 and 5"),
        (["supplier-tiers", "--filter", "colour=red"], "takes chain_master_id, max_tier"),
        (["designations", "--filter", "scope=planet"], "scope is one of"),
    ],
)
def test_bad_arguments_are_explained(command, world, args, message):
    result = CliRunner().invoke(command, args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_every_report_prints(run, world):
    for name in catalog.REPORTS:
        result = run(name)
        assert result.exit_code == 0, (name, result.output)
        assert result.output.splitlines()[0].startswith(catalog.REPORTS[name].names[0])
