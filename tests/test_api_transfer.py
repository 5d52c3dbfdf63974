"""Export any list as CSV or XLSX; import CSV or XLSX all-or-none, matching by natural key."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook, load_workbook

from tests.conftest import count_rows
from tests.factories_sql import chain, chain_master, district, enterprise

HEADER = "code,name_zh,tier,group,target_2030_cny_100m,aliases,sort_order\n"
GOOD = HEADER + "hydrogen,氢能,key,,,氢|H2,1\nlidar,激光雷达,key,,12.5,,2\n"
BAD = HEADER + "hydrogen,氢能,key,,,,1\nlidar,激光雷达,kee,,12.5,,2\n"


def post_csv(api, text: str, *, dry_run: bool = False):
    path = "/api/v1/chains/import" + ("?dry_run=1" if dry_run else "")
    return api.post(path, data=text.encode(), headers={"Content-Type": "text/csv"})


def test_import_with_one_bad_row_commits_nothing_and_names_the_row(api, conn):
    before = count_rows(conn, "chain")
    response = post_csv(api, BAD)
    assert response.status_code == 422
    report = response.get_json()
    assert report["committed"] is False
    assert [r["action"] for r in report["results"]] == ["create", "error"]
    bad = report["results"][1]
    assert bad["line"] == 3 and bad["errors"][0]["field"] == "tier"
    assert count_rows(conn, "chain") == before


def test_fixed_import_twice_creates_once_then_updates(api, conn):
    before = count_rows(conn, "chain")["chain"]
    dry = post_csv(api, GOOD, dry_run=True).get_json()
    assert [r["action"] for r in dry["results"]] == ["create", "create"]
    assert count_rows(conn, "chain")["chain"] == before  # a dry run writes nothing

    first = post_csv(api, GOOD)
    assert first.status_code == 200 and first.get_json()["create"] == 2
    second = post_csv(api, GOOD.replace("氢能,key", "氢能产业,key")).get_json()
    assert (second["create"], second["update"], second["unchanged"]) == (0, 1, 1)
    assert count_rows(conn, "chain")["chain"] == before + 2
    assert api.get("/api/v1/chains/hydrogen").get_json()["name_zh"] == "氢能产业"
    assert api.get("/api/v1/chains/hydrogen").get_json()["aliases"] == ["氢", "H2"]


def test_xlsx_import(api):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["code", "name_zh", "tier", "sort_order"])
    sheet.append(["hydrogen", "氢能", "key", 3])
    data = io.BytesIO()
    workbook.save(data)
    response = api.post(
        "/api/v1/chains/import",
        data={"file": (io.BytesIO(data.getvalue()), "chains.xlsx")},
        headers={"Content-Type": "multipart/form-data"},
    )
    assert response.status_code == 200, response.get_json()
    assert api.get("/api/v1/chains/hydrogen").get_json()["sort_order"] == 3


def test_export_csv_honours_filters_and_reimports_unchanged(api, conn):
    post_csv(api, GOOD)
    response = api.get("/api/v1/chains?format=csv&tier=key&ordering=code")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["code"] for r in rows] == ["hydrogen", "lidar"]
    assert rows[0]["aliases"] == "氢|H2"
    # the export imports back onto the same rows, unchanged
    again = api.post(
        "/api/v1/chains/import",
        data=response.get_data(),
        headers={"Content-Type": "text/csv"},
    ).get_json()
    assert (again["create"], again["update"], again["unchanged"], again["error"]) == (0, 0, 2, 0)


def test_export_xlsx(api):
    post_csv(api, GOOD)
    response = api.get("/api/v1/chains?format=xlsx&tier=key")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:2] == ("code", "name_zh")
    assert {v[0] for v in values[1:]} == {"hydrogen", "lidar"}


def test_import_refuses_unknown_columns_and_non_csv(api):
    assert post_csv(api, "code,colour\nx,red\n").status_code == 422
    response = api.post(
        "/api/v1/chains/import", data=b"\x00\x01", headers={"Content-Type": "image/png"}
    )
    assert response.status_code in (400, 415)


def test_a_viewer_cannot_import(api):
    response = api.post(
        "/api/v1/chains/import",
        data=GOOD.encode(),
        headers={"Content-Type": "text/csv"},
        role="viewer",
    )
    assert response.status_code == 403


def _import(api, path: str, text: str):
    return api.post(path, data=text.encode(), headers={"Content-Type": "text/csv"})


def test_enterprises_import_by_credit_code_or_name_create_once_then_update(api, conn):
    from chaindb.enterprises.uscc import with_check_character

    district(conn, code="370112", name_zh="历城区")
    code = with_check_character("91370112MA0000001")
    text = (
        "uscc,name_zh,district_id,size\n"
        f"{code},（示例）济南恒远车身部件有限公司,370112,small\n"
        ",（示例）外地配套企业,,micro\n"
    )
    first = _import(api, "/api/v1/enterprises/import", text).get_json()
    assert (first["create"], first["update"], first["error"]) == (2, 0, 0), first
    second = _import(api, "/api/v1/enterprises/import", text.replace("small", "medium")).get_json()
    assert (second["create"], second["update"], second["unchanged"], second["error"]) == (
        0, 1, 1, 0), second  # fmt: skip
    assert api.get(f"/api/v1/enterprises/{code}").get_json()["size"] == "medium"
    bad = _import(api, "/api/v1/enterprises/import", text.replace(code, code[:-1] + "0"))
    assert bad.status_code == 422
    assert bad.get_json()["results"][0]["errors"][0]["field"] == "uscc"


def test_supply_links_and_projects_import_twice(api, conn):
    c = chain(conn, code="auto-x", name_zh="汽车X")
    d = district(conn, code="370113", name_zh="长清区")
    buyer = chain_master(conn, c)
    supplier = enterprise(conn, name_zh="（示例）配套")
    links = f"supplier_id,buyer_id,chain_id,product,annual_value_cny_10k\n{supplier},{buyer},auto-x,座椅,100\n"
    assert _import(api, "/api/v1/supply-links/import", links).get_json()["create"] == 1
    # The value only: the ids before it may hold ",100" too (buyer 100 became buyer 120 once).
    again = _import(
        api, "/api/v1/supply-links/import", links.replace("座椅,100", "座椅,120")
    ).get_json()
    assert (again["create"], again["update"]) == (0, 1), again["results"]
    projects = f"name,chain_id,district_id,investor_name,stage\n（示例）座椅项目,auto-x,{d},某投资方,lead\n"
    assert _import(api, "/api/v1/projects/import", projects).get_json()["create"] == 1
    again = _import(
        api, "/api/v1/projects/import", projects.replace("某投资方", "某投资方二")
    ).get_json()
    assert (again["create"], again["update"], again["error"]) == (0, 1, 0), again
