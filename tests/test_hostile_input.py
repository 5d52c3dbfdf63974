"""What an attacker, or a broken program, sends: every file and body past a limit or malformed is
refused with a 4xx naming the field and the reason, and the database stays exactly as it was."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from chaindb.api import tables
from chaindb.errors import DomainError
from tests.conftest import count_rows

TABLES = ("enterprise", "project", "supply_link", "change_log")


def _workbook(*rows: list[object]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    data = io.BytesIO()
    workbook.save(data)
    return data.getvalue()


def _rewrite(xlsx: bytes, changes: dict[str, bytes]) -> bytes:
    """The workbook with some of its zip parts replaced (or added)."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename not in changes:
                target.writestr(item, source.read(item.filename))
        for name, data in changes.items():
            target.writestr(name, data)
    return out.getvalue()


def _import(api, data: bytes, name: str, resource: str = "enterprises"):
    return api.post(
        f"/api/v1/{resource}/import",
        data={"file": (io.BytesIO(data), name)},
        headers={"Content-Type": "multipart/form-data"},
    )


def _refused(response, status: int, field: str, *words: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    error = response.json["error"]
    assert [d["field"] for d in error["details"]] == [field], error
    for word in words:
        assert word in error["message"], error["message"]


SHEET = "xl/worksheets/sheet1.xml"
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _sheet(dimension: str, rows: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}>'
        f'<dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>'
    ).encode()


def _row(number: int, *cells: tuple[str, str]) -> str:
    inner = "".join(
        f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>' for ref, value in cells
    )
    return f'<row r="{number}">{inner}</row>'


# --- XLSX ---------------------------------------------------------------------------------------


def test_a_sheet_claiming_a_million_rows_and_columns_reads_the_rows_it_has(api, conn):
    """The sheet's declared size is ignored (openpyxl would pad every row to 16,384 cells)."""
    xlsx = _rewrite(
        _workbook(["x"]),
        {
            SHEET: _sheet(
                "A1:XFD1048576",
                _row(1, ("A1", "注册中文名称"), ("B1", "企业规模"))
                + _row(2, ("A2", "敌意测试甲有限公司"), ("B2", "小型")),
            )
        },
    )
    response = _import(api, xlsx, "claims.xlsx")
    assert response.status_code == 200, response.json
    assert response.json["create"] == 1


def test_a_cell_past_the_last_column_allowed_is_refused(api, conn):
    before = count_rows(conn, *TABLES)
    xlsx = _rewrite(
        _workbook(["x"]),
        {
            SHEET: _sheet(
                "A1:B2",
                _row(1, ("A1", "注册中文名称"), ("XFD1", "far away"))
                + _row(2, ("A2", "敌意测试乙有限公司")),
            )
        },
    )
    _refused(_import(api, xlsx, "wide.xlsx"), 422, "file", "line 1", "200")
    assert count_rows(conn, *TABLES) == before


def test_a_workbook_that_unpacks_to_gigabytes_is_refused_before_it_is_read(api, conn):
    before = count_rows(conn, *TABLES)
    size = tables.MAX_XLSX_STRINGS_BYTES
    bomb = b"<sst " + NS.encode() + b">" + b" " * (size + 1) + b"</sst>"
    xlsx = _rewrite(_workbook(["注册中文名称"], ["甲"]), {"xl/sharedStrings.xml": bomb})
    assert len(xlsx) < 1024 * 1024  # a small file
    _refused(_import(api, xlsx, "bomb.xlsx"), 422, "file", f"{size // 1024 // 1024} MB")
    styles = b" " * (tables.MAX_XLSX_PART_BYTES + 1)
    xlsx = _rewrite(_workbook(["注册中文名称"], ["甲"]), {"xl/styles.xml": styles})
    _refused(_import(api, xlsx, "styles.xlsx"), 422, "file", "4 MB")
    assert count_rows(conn, *TABLES) == before


def test_a_sheet_with_entity_declarations_is_refused(api, conn):
    """The billion laughs: entities that expand to gigabytes (defusedxml refuses any DTD)."""
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        f'<worksheet {NS}><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol3;</t>'
        "</is></c></row></sheetData></worksheet>"
    ).encode()
    before = count_rows(conn, *TABLES)
    xlsx = _rewrite(_workbook(["x"]), {SHEET: laughs})
    _refused(_import(api, xlsx, "laughs.xlsx"), 400, "file", "XLSX")
    assert count_rows(conn, *TABLES) == before


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04 not really a zip",
        _rewrite(_workbook(["x"]), {SHEET: b"<worksheet><sheetData><row"}),  # broken XML
        b"PK" + bytes(range(256)) * 4,
    ],
    ids=["not-a-zip", "broken-sheet-xml", "garbage"],
)
def test_a_file_that_is_not_a_workbook_is_refused(api, conn, data):
    before = count_rows(conn, *TABLES)
    _refused(_import(api, data, "broken.xlsx"), 400, "file", "XLSX")
    assert count_rows(conn, *TABLES) == before


def test_a_zip_without_a_sheet_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(DomainError) as refused:
        tables.read_lines(out.getvalue(), "x.xlsx", None)
    assert refused.value.status == 400 and refused.value.details[0]["field"] == "file"


@pytest.mark.parametrize("chunk", [7, 64, 1024 * 1024])
def test_an_xlsxs_elements_are_counted_exactly_before_it_is_parsed(monkeypatch, chunk):
    """Counted through the unpacked bytes a chunk at a time: a tag cut by a chunk's end counts
    once (the chunk sizes here cut tags everywhere)."""
    monkeypatch.setattr(tables, "_CHUNK", chunk)
    monkeypatch.setattr(tables, "_OVERLAP", 16)
    rows = "".join(
        f'<x:row r="{r}">' + "".join(f'<x:c r="{c}{r}" s="1"/>' for c in "ABCDE") + "</x:row>"
        for r in range(1, 41)
    )  # 200 cells, with a namespace prefix as some programs write them
    sheet = (
        '<?xml version="1.0"?><x:worksheet xmlns:x="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main"><x:sheetData>{rows}</x:sheetData></x:worksheet>'
    ).encode()
    xlsx = _rewrite(_workbook(["x"]), {SHEET: sheet})
    monkeypatch.setattr(tables, "MAX_XLSX_CELLS", 200)
    assert tables.read_lines(xlsx, "a.xlsx", None) == []  # 200 empty cells: allowed, nothing read
    monkeypatch.setattr(tables, "MAX_XLSX_CELLS", 199)
    with pytest.raises(DomainError) as refused:
        tables.read_lines(xlsx, "a.xlsx", None)
    assert refused.value.message.startswith("the workbook holds more than 199 cells")
    monkeypatch.setattr(tables, "MAX_XLSX_CELLS", 1000)
    monkeypatch.setattr(tables, "MAX_XLSX_ROW_CELLS", 4)
    with pytest.raises(DomainError) as refused:
        tables.read_lines(xlsx, "a.xlsx", None)
    assert "a row of more than 4 cells" in refused.value.message


def test_more_shared_texts_than_cells_are_refused_before_they_are_parsed(api, conn, monkeypatch):
    monkeypatch.setattr(tables, "MAX_XLSX_STRINGS", 3)
    xlsx = _workbook(["注册中文名称"], ["甲"], ["乙"], ["丙"])  # four different texts
    if "xl/sharedStrings.xml" not in zipfile.ZipFile(io.BytesIO(xlsx)).namelist():
        strings = "".join(f"<si><t>{t}</t></si>" for t in "甲乙丙丁")
        xlsx = _rewrite(xlsx, {"xl/sharedStrings.xml": f"<sst {NS}>{strings}</sst>".encode()})
    _refused(_import(api, xlsx, "texts.xlsx"), 422, "file", "more than 3 different texts")


def test_rows_and_cells_are_counted_as_the_file_is_read(monkeypatch):
    """The limits stop the reading at the first line past them (not after the whole file)."""
    read: list[int] = []
    monkeypatch.setattr(tables, "MAX_ROWS", 3)
    monkeypatch.setattr(tables, "MAX_LINES_ABOVE", 1)

    def lines():
        for number in range(1, 1_000_000):
            read.append(number)
            yield number, ["a", "b"]

    with pytest.raises(DomainError) as refused:
        tables._collect(lines())
    assert "at most 3 rows" in refused.value.message
    assert len(read) == 5  # four kept, the fifth refused

    monkeypatch.setattr(tables, "MAX_ROWS", 1_000_000)
    monkeypatch.setattr(tables, "MAX_CELLS", 10)
    read.clear()
    with pytest.raises(DomainError) as refused:
        tables._collect(lines())
    assert "10 cells" in refused.value.message
    assert len(read) == 6


def test_blank_rows_and_trailing_blank_cells_are_not_counted():
    csv = "注册中文名称,企业规模,,,\n,,,,\n甲,小型,,,\n\n".encode()
    assert tables.read_lines(csv, "a.csv", None) == [
        (1, ["注册中文名称", "企业规模"]),
        (3, ["甲", "小型"]),
    ]


# --- CSV ----------------------------------------------------------------------------------------


def test_a_csv_cell_longer_than_the_csv_module_reads_is_a_422_naming_the_line(api, conn):
    before = count_rows(conn, *TABLES)
    data = ("注册中文名称,备注\n甲,短\n乙," + "长" * 140_000 + "\n").encode()
    _refused(_import(api, data, "long.csv"), 422, "file", "line 3", "32,767")
    assert count_rows(conn, *TABLES) == before


def test_a_csv_cell_longer_than_excel_holds_is_refused(api, conn):
    data = ("注册中文名称,备注\n乙," + "长" * 40_000 + "\n").encode()
    _refused(_import(api, data, "long.csv"), 422, "file", "line 2")


def test_a_nul_in_a_csv_is_refused_by_its_line(api, conn):
    data = "注册中文名称\n甲\n乙\x00丙\n".encode()
    _refused(_import(api, data, "nul.csv"), 422, "file", "line 3")


def test_a_csv_saved_by_chinese_excel_in_gbk_imports(api, conn):
    data = "注册中文名称,企业规模\n敌意测试丙有限公司,小型\n".encode("gbk")
    response = _import(api, data, "gbk.csv")
    assert response.status_code == 200, response.json
    assert response.json["create"] == 1


def test_binary_garbage_as_a_csv_is_refused(api, conn):
    _refused(_import(api, b"\xff\xfe\x00\xd8" * 100, "x.csv"), 400, "file", "UTF-8")


def test_a_row_with_more_values_than_columns_is_refused_by_its_line(api, conn):
    before = count_rows(conn, *TABLES)
    data = "注册中文名称\n甲,多余\n".encode()
    response = _import(api, data, "extra.csv")
    assert response.status_code == 422
    assert any(
        r["line"] == 2 and "2 values for 1 columns" in str(r) for r in response.json["results"]
    ), response.json
    assert count_rows(conn, *TABLES) == before


# --- JSON and multipart -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 10_000 + b"]" * 10_000,
        b'{"name_zh": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001,
        b'{"name_zh": "\\ud800"}',
        b'{"name_zh": "x", "registered_capital_cny_10k": NaN}',
        b'{"name_zh": "x"',
    ],
    ids=["nested-array", "nested-object", "lone-surrogate", "nan", "truncated"],
)
def test_malformed_json_is_a_400_and_changes_nothing(api, conn, body):
    before = count_rows(conn, *TABLES)
    response = api.post(
        "/api/v1/enterprises", data=body, headers={"Content-Type": "application/json"}
    )
    _refused(response, 400, "body", "JSON")
    assert count_rows(conn, *TABLES) == before


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("multipart/form-data; boundary=xyz", b"--xyz\r\nContent-Disposition: form-data\r\n"),
        ("multipart/form-data", b"--xyz\r\n\r\n"),  # no boundary
        (
            "multipart/form-data; boundary=xyz",
            b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
            b"name_zh\r\n",  # never closed
        ),
    ],
    ids=["no-end", "no-boundary", "unclosed-file"],
)
# werkzeug leaves the spooled file of a part never closed to the garbage collector.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_broken_multipart_upload_is_a_4xx(api, conn, content_type, body):
    before = count_rows(conn, *TABLES)
    response = api.post(
        "/api/v1/enterprises/import", data=body, headers={"Content-Type": content_type}
    )
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:300]
    error = response.json["error"]
    assert error["details"] == [
        {"field": "file", "message": "send the file in a form field named 'file'"}
    ]
    assert count_rows(conn, *TABLES) == before


def test_the_import_page_shows_a_hostile_files_refusal_on_the_page(web, conn):
    from tests.conftest import CSRF

    before = count_rows(conn, *TABLES)
    page = web.text("/enterprises/import")
    token = next(g for g in CSRF.search(page).groups() if g)
    bomb = b"<sst " + NS.encode() + b">" + b" " * (tables.MAX_XLSX_STRINGS_BYTES + 1) + b"</sst>"
    xlsx = _rewrite(_workbook(["注册中文名称"], ["甲"]), {"xl/sharedStrings.xml": bomb})
    response = web.client.post(
        "/enterprises/import",
        data={"csrf_token": token, "file": (io.BytesIO(xlsx), "bomb.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "64 MB" in response.get_data(as_text=True)
    assert count_rows(conn, *TABLES) == before
