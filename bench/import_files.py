"""Time and peak memory of reading an import file: the largest ones allowed, and hostile ones.

`python bench/import_files.py` builds each file in a temporary folder, then reads it with
chaindb.api.tables.read_lines (what every import, API and page, does first) in a fresh Python
process, and prints the seconds and the process's peak resident memory above what it held
before reading (getrusage's ru_maxrss). No database: this is the part of an import that a file
alone can make expensive; the rows it yields are bounded by the limits it checks as it reads.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
WORDS = "济南比亚迪汽车有限公司动力电池配套项目签约开工投产历下区高新区"


def _text(row: int, column: int) -> str:
    start = (row * 7 + column * 3) % len(WORDS)
    return f"{WORDS[start:] + WORDS[:start]}{row}-{column}"[:24]


def _xlsx(rows: int, columns: int) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append([f"列{c}" for c in range(columns)])
    for r in range(rows):
        sheet.append([_text(r, c) for c in range(columns)])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _csv(rows: int, columns: int) -> bytes:
    lines = [",".join(f"列{c}" for c in range(columns))]
    lines += [",".join(_text(r, c) for c in range(columns)) for r in range(rows)]
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def _with_parts(parts: dict[str, bytes]) -> bytes:
    """A small workbook (saved the usual way: its text in xl/sharedStrings.xml), some parts
    replaced."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["名称", "规模"])
    saved = io.BytesIO()
    workbook.save(saved)
    base = zipfile.ZipFile(saved)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in base.infolist():
            if item.filename not in parts:
                target.writestr(item, base.read(item.filename))
        for name, data in parts.items():
            target.writestr(name, data)
    return out.getvalue()


def _claims_a_million() -> bytes:
    """A sheet that says it spans A1:XFD1048576 and has a cell in its last row."""
    sheet = (
        f'<?xml version="1.0"?><worksheet {NS}><dimension ref="A1:XFD1048576"/><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>名称</t></is></c></row>'
        '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>甲</t></is></c></row>'
        "</sheetData></worksheet>"
    ).encode()
    return _with_parts({"xl/worksheets/sheet1.xml": sheet})


def _many_strings(count: int) -> bytes:
    """A shared-strings part of one-letter strings: the most XML elements for its size."""
    body = "<si><t>x</t></si>" * count
    strings = f'<sst {NS} count="{count}" uniqueCount="{count}">{body}</sst>'.encode()
    sheet = (
        f'<?xml version="1.0"?><worksheet {NS}><sheetData>'
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
        "</sheetData></worksheet>"
    ).encode()
    return _with_parts(
        {
            "xl/sharedStrings.xml": strings,
            "xl/worksheets/sheet1.xml": sheet,
            "[Content_Types].xml": _content_types(),
        }
    )


def _empty_cells(rows: int, per_row: int) -> bytes:
    """A sheet of empty styled cells (`<c r="A1" s="1"/>`): elements no filled-cell count sees."""
    from openpyxl.utils import get_column_letter

    letters = [get_column_letter(c + 1) for c in range(per_row)]
    body = "".join(
        f'<row r="{r}">' + "".join(f'<c r="{col}{r}" s="0"/>' for col in letters) + "</row>"
        for r in range(1, rows + 1)
    )
    sheet = f'<?xml version="1.0"?><worksheet {NS}><sheetData>{body}</sheetData></worksheet>'
    return _with_parts({"xl/worksheets/sheet1.xml": sheet.encode()})


def _content_types() -> bytes:
    """The base workbook's content types, naming a shared-strings part (what Excel writes)."""
    from openpyxl import Workbook

    saved = io.BytesIO()
    Workbook().save(saved)
    types = zipfile.ZipFile(saved).read("[Content_Types].xml").decode()
    strings = (
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    )
    return types.replace("</Types>", strings + "</Types>").encode()


def _long_cell_csv() -> bytes:
    return ("名称,备注\n甲," + "长" * 140_000 + "\n").encode()


def cases() -> dict[str, Callable[[], tuple[bytes, str]]]:
    from chaindb.api import tables as t

    rows = t.MAX_ROWS
    wide = t.MAX_CELLS // t.MAX_COLUMNS
    return {
        f"XLSX {rows:,} rows x 20 columns (the row limit)": lambda: (_xlsx(rows, 20), "a.xlsx"),
        f"CSV {rows:,} rows x 20 columns": lambda: (_csv(rows, 20), "a.csv"),
        f"XLSX {wide:,} rows x {t.MAX_COLUMNS} columns (the cell limit)": lambda: (
            _xlsx(wide - 1, t.MAX_COLUMNS),
            "a.xlsx",
        ),
        "XLSX claiming A1:XFD1048576": lambda: (_claims_a_million(), "a.xlsx"),
        f"XLSX of {t.MAX_XLSX_STRINGS:,} one-letter strings": lambda: (
            _many_strings(t.MAX_XLSX_STRINGS),
            "a.xlsx",
        ),
        f"XLSX of {t.MAX_XLSX_STRINGS + 1:,} one-letter strings (refused)": lambda: (
            _many_strings(t.MAX_XLSX_STRINGS + 1),
            "a.xlsx",
        ),
        f"XLSX of {t.MAX_XLSX_CELLS:,} empty cells": lambda: (
            _empty_cells(t.MAX_XLSX_CELLS // 100, 100),
            "a.xlsx",
        ),
        f"XLSX of {t.MAX_XLSX_CELLS + 100:,} empty cells (refused)": lambda: (
            _empty_cells(t.MAX_XLSX_CELLS // 100 + 1, 100),
            "a.xlsx",
        ),
        "CSV with a 140,000-character cell (refused)": lambda: (_long_cell_csv(), "a.csv"),
    }


CHILD = """
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from chaindb.api import tables
from chaindb.errors import DomainError
data = Path(sys.argv[1]).read_bytes()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
try:
    lines = tables.read_lines(data, sys.argv[2], None)
    outcome = f"{len(lines):,} lines"
except DomainError as exc:
    outcome = f"refused: {exc.message}"
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_mb": (peak - before) / 1024, "outcome": outcome}))
"""


def measure(data: bytes, name: str, folder: Path) -> dict[str, object]:
    path = folder / name
    path.write_bytes(data)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), name, str(ROOT)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="only the cases whose name contains this")
    args = parser.parse_args()
    print("| file | size | read in | peak memory | outcome |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for label, build in cases().items():
            if args.k not in label:
                continue
            data, name = build()
            result = measure(data, name, Path(folder))
            print(
                f"| {label} | {len(data) / 1024:,.0f} KB | {result['seconds']:.2f} s "
                f"| {result['peak_mb']:,.0f} MB | {result['outcome']} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
