"""Writing spreadsheets: CSV and XLSX that are safe to open, and the office layout people forward.

Every export, of a list or of a report, goes through here, so that every one of them is safe to
open: a text cell beginning with = + - @, a tab or a carriage return is neutralised (the OWASP
rule for CSV injection): in CSV it is written with a leading apostrophe, in XLSX as a text cell
marked with Excel's own quote prefix, never as a formula. An import takes such cells back
unchanged (`from_cell`).

The office layout (`write_xlsx` with a title) is what a person downloads and forwards upward: a
title row, the filters and who exported it when, a frozen header row with the columns' labels
(units included), sensible column widths, and a sheet named in the reader's language. The raw
layout (no title) is for machines: one header row of field names.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from typing import IO, Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters a sheet name cannot hold.
SHEET_NAME_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})
# Rows read ahead to size the columns (a streamed export cannot look at them all first).
WIDTH_SAMPLE = 200
MAX_WIDTH = 60
NUMBER_FORMATS = {
    "yi": "#,##0.00##",  # 亿元, up to 4 decimals
    "wan": "#,##0.00",  # 万元
    "number": "#,##0",
    "percent": "0.0%",
    "decimal": "#,##0.####",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}


def csv_safe(value: Any) -> Any:
    """A CSV cell that a spreadsheet program will not run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def from_cell(text: str) -> str:
    """An imported cell as it was before csv_safe."""
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_START:
        return text[1:]
    return text


def csv_chunks(
    header: Sequence[Any], rows: Iterable[Sequence[Any]], *, bom: bool = True
) -> Iterator[str]:
    """CSV text in chunks of 500 rows, the header first; the BOM lets spreadsheet programs
    read the UTF-8 Chinese. The rows hold text or numbers (see plain())."""
    buffer = io.StringIO()
    if bom:
        buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([csv_safe(str(h)) for h in header])
    for n, row in enumerate(rows, start=1):
        writer.writerow([csv_safe(plain(v)) for v in row])
        if n % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def plain(value: Any) -> Any:
    """A value as CSV text: ISO dates, exact decimals, lists joined by |."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (list, tuple)):
        return "|".join(str(v) for v in value)
    return value


@dataclass
class Layout:
    """The office layout of a sheet: what the title rows say, and how each column is shown."""

    title: str
    sheet_name: str
    facts: Sequence[str] = ()  # the filters, who exported it, when
    formats: Sequence[str | None] = field(default_factory=list)  # per column, see NUMBER_FORMATS


def sheet_name(text: str) -> str:
    """A valid XLSX sheet name (at most 31 characters, none of []:*?/\\)."""
    name = str(text).translate(SHEET_NAME_FORBIDDEN).strip().strip("'") or "Sheet1"
    return name[:31]


def display_width(text: str) -> int:
    """Columns a text takes on screen: Chinese characters are two wide."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def write_xlsx(
    target: IO[bytes] | str,
    header: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    layout: Layout | None = None,
    name: str = "Sheet1",
) -> None:
    """An XLSX of `rows`, streamed (write-only): the office layout when given, else one header
    row (the raw layout). Numbers stay numbers and dates dates; text is never a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name(layout.sheet_name if layout else name))
    rows = iter(rows)
    sample = list(islice(rows, WIDTH_SAMPLE))
    formats = list(layout.formats) if layout else []
    formats += [None] * (len(header) - len(formats))

    def cell(value: Any, number_format: str | None = None, **style: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone().replace(tzinfo=None)
        if isinstance(value, (list, tuple)):
            value = "、".join(str(v) for v in value) if layout else plain(value)
        made = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            made.data_type = "s"  # never a formula, whatever it begins with
            if value.startswith(FORMULA_START):
                made.quotePrefix = True
        if number_format and not isinstance(value, str):
            made.number_format = number_format
        elif isinstance(value, datetime):
            made.number_format = NUMBER_FORMATS["datetime"]
        elif isinstance(value, date):
            made.number_format = NUMBER_FORMATS["date"]
        for key, setting in style.items():
            setattr(made, key, setting)
        return made

    widths = [display_width(str(h)) for h in header]
    for row in sample:
        for n, value in enumerate(row[: len(widths)]):
            widths[n] = max(widths[n], display_width(_shown(value, formats[n])))
    for n, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(n)].width = min(MAX_WIDTH, max(8, width + 2))

    header_row = 1
    if layout is not None:
        header_row = 3 + (1 if layout.facts else 0)
        sheet.freeze_panes = f"A{header_row + 1}"
        sheet.append([cell(layout.title, font=Font(bold=True, size=14))])
        if layout.facts:
            sheet.append([cell("；".join(layout.facts), font=Font(color="555555"))])
        sheet.append([])
    else:
        sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="EEEEEE")
    wrap = Alignment(wrap_text=True, vertical="top")
    sheet.append([cell(str(h), font=bold, fill=fill, alignment=wrap) for h in header])
    number_formats = [NUMBER_FORMATS.get(f) if f else None for f in formats]
    for row in _chain(sample, rows):
        sheet.append([cell(v, number_formats[n]) for n, v in enumerate(row)])
    workbook.save(target)


def _chain(first: list, rest: Iterator) -> Iterator:
    yield from first
    yield from rest


def _shown(value: Any, number_format: str | None) -> str:
    """A value as wide as the sheet shows it (for the column's width)."""
    if value is None:
        return ""
    if isinstance(value, Decimal) and number_format in ("yi", "wan"):
        return f"{value:,.2f}"
    if isinstance(value, datetime):
        return "yyyy-mm-dd hh:mm"  # as wide as the cell shows any time
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value)
    return str(value)
