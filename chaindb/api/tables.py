"""Reading an uploaded table (CSV or XLSX) into text lines, within limits checked as it is read.

Every limit is checked while the file is read, never after it is all in memory: a hostile or
broken file stops at the first line past a limit, with the limit named. An XLSX is a zip of XML
parts; its parts' unpacked sizes are checked before any is parsed (a small file can unpack to
gigabytes), the sheet is parsed as a stream (openpyxl's read-only mode, its declared size
ignored: a sheet can claim a million columns it does not have), and the XML parser refuses
entity declarations (defusedxml, which openpyxl uses when it is installed).

A CSV is UTF-8 (with or without the BOM Excel writes) or, failing that, GB18030: what Excel on
a Chinese Windows saves as "CSV (逗号分隔)".
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator

from chaindb.api import sheets
from chaindb.errors import N_, BadRequest, Invalid, Message, UnsupportedMediaType

# One import holds at most this many rows (its header and an office export's title lines aside):
# as many as one worker applies well within two minutes (a browser's or a proxy's patience):
# 45-54 s on 2 cores (bench/import_rows.py). 10,000 took 84-92 s: the per-row cost grows with the
# rows already in.
MAX_ROWS = 5_000
# Lines read before the header is found: an office export has a title and its filters above it.
MAX_LINES_ABOVE = 10
MAX_COLUMNS = 200
MAX_CELLS = 500_000  # filled cells read (each line up to its last filled cell)
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell
# An XLSX, before openpyxl parses any of it. Its parsing costs a Python object per XML element,
# so the elements are counted first (a stream through the unpacked bytes, stopping at a limit):
# cells of the sheets, filled or not; cells of one row (no sheet holds more columns); strings.
MAX_XLSX_CELLS = 2 * MAX_CELLS
MAX_XLSX_ROW_CELLS = 16_384
MAX_XLSX_STRINGS = MAX_CELLS  # each shared string is some cell's
MAX_XLSX_SHEET_BYTES = 256 * 1024 * 1024  # the worksheets, unpacked
MAX_XLSX_STRINGS_BYTES = 64 * 1024 * 1024  # the shared strings, unpacked
MAX_XLSX_PART_BYTES = 4 * 1024 * 1024  # any other part parsed: styles, workbook, relations
MAX_XLSX_PARTS = 1000

CSV_TYPES = {"text/csv", "application/csv", "text/plain"}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Lines = list[tuple[int, list[str]]]


def read_lines(data: bytes, name: str, mimetype: str | None, *, uploaded: bool = True) -> Lines:
    """Every non-blank line of a CSV or XLSX file as text cells, with its line number.

    `uploaded` says the file came in a form field (whose type browsers guess from the name);
    a raw body must say what it is."""
    if not data:
        raise BadRequest("the upload is empty", field="file")
    lower = name.lower()
    if lower.endswith(".xlsx") or mimetype == XLSX_TYPE or data[:2] == b"PK":
        return _collect(_xlsx_lines(data))
    if mimetype and mimetype not in CSV_TYPES and not lower.endswith(".csv") and not uploaded:
        raise UnsupportedMediaType(
            "import CSV (text/csv) or XLSX, not %(mimetype)s",
            params={"mimetype": mimetype},
            field="Content-Type",
        )
    return _collect(_csv_lines(_decode(data)))


def _collect(lines: Iterable[tuple[int, list[str]]]) -> Lines:
    """The non-blank lines, refused at the first one past a limit."""
    kept: Lines = []
    cells = 0
    for number, values in lines:
        if len(values) > MAX_COLUMNS and any(v.strip() for v in values[MAX_COLUMNS:]):
            raise Invalid(
                N_("line %(line)s: more than %(columns)s columns"),
                params={"line": number, "columns": MAX_COLUMNS},
                field="file",
            )
        values = values[:MAX_COLUMNS]
        while values and not values[-1].strip():
            values.pop()  # trailing empty cells (Excel pads rows to the widest one)
        if not values:
            continue
        for value in values:
            if len(value) > MAX_CELL_CHARS:
                raise Invalid(
                    N_("line %(line)s: a cell holds more than %(chars)s characters"),
                    params={"line": number, "chars": f"{MAX_CELL_CHARS:,}"},
                    field="file",
                )
            if "\x00" in value:
                raise Invalid(
                    N_("line %(line)s: a cell holds a NUL (0x00) character"),
                    params={"line": number},
                    field="file",
                )
        cells += len(values)
        if len(kept) >= MAX_ROWS + MAX_LINES_ABOVE:
            raise Invalid(
                "at most %(rows)s rows per import", params={"rows": f"{MAX_ROWS:,}"}, field="file"
            )
        if cells > MAX_CELLS:
            raise Invalid(
                N_("at most %(cells)s cells per import (rows times columns)"),
                params={"cells": f"{MAX_CELLS:,}"},
                field="file",
            )
        kept.append((number, values))
    return kept


# --- CSV ----------------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise BadRequest(
            N_("the CSV is neither UTF-8 nor GB18030 (GBK) text; save it as CSV UTF-8"),
            field="file",
        ) from None


def _csv_lines(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error:
            # The only errors the default dialect raises: a field past the csv module's limit
            # (131,072 characters), which no cell of ours may hold anyway, and a NUL byte.
            raise Invalid(
                N_("line %(line)s: a cell holds more than %(chars)s characters"),
                params={"line": reader.line_num, "chars": f"{MAX_CELL_CHARS:,}"},
                field="file",
            ) from None
        yield reader.line_num, values


# --- XLSX ---------------------------------------------------------------------------------------


def _xlsx_lines(data: bytes) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    unreadable = BadRequest("the file is not a readable XLSX workbook", field="file")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_parts(archive)
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (Invalid, BadRequest):
        raise
    except Exception:  # zipfile, XML and openpyxl raise many kinds for a file that is not one
        raise unreadable from None
    try:
        if not workbook.worksheets:
            raise unreadable
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # read the rows there are, not the size the file claims
        rows = sheet.iter_rows(values_only=True)  # each row as wide as its last cell
        number = 0
        while True:
            try:
                values = next(rows)
            except StopIteration:
                return
            except Exception:  # a broken sheet part: bad XML, a bad number or date
                raise unreadable from None
            number += 1
            if values.count(None) != len(values):  # rows the sheet skips come as Nones
                yield number, [_text(v) for v in values]
    finally:
        workbook.close()


def _check_parts(archive: zipfile.ZipFile) -> None:
    """Refuse a workbook past its limits before any part of it is parsed."""
    parts = archive.infolist()
    if len(parts) > MAX_XLSX_PARTS:
        raise BadRequest("the file is not a readable XLSX workbook", field="file")
    sheets = [p for p in parts if p.filename.startswith("xl/worksheets/")]
    strings = [p for p in parts if p.filename == "xl/sharedStrings.xml"]
    parsed = [p for p in parts if p.filename.endswith((".xml", ".rels"))]
    # zipfile never unpacks past a part's declared size, so checking the sizes declared holds.
    if sum(p.file_size for p in sheets) > MAX_XLSX_SHEET_BYTES:
        _too_big(MAX_XLSX_SHEET_BYTES)
    if any(p.file_size > MAX_XLSX_STRINGS_BYTES for p in strings):
        _too_big(MAX_XLSX_STRINGS_BYTES)
    if any(p.file_size > MAX_XLSX_PART_BYTES for p in parsed if p not in sheets + strings):
        _too_big(MAX_XLSX_PART_BYTES)
    cells = 0
    for part in sheets:
        cells = _count_cells(archive, part, cells)
    for part in strings:
        if _count(archive, part, _STRING, MAX_XLSX_STRINGS) > MAX_XLSX_STRINGS:
            _too_many(N_("more than %(count)s different texts"), MAX_XLSX_STRINGS)


# An element's start: <c ...>, <x:c/>, <row ...>, <si> (any namespace prefix).
_CELL_OR_ROW = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(c|row)[\s/>]")
_STRING = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")
_OVERLAP = 128  # longer than any start tag matched, up to its name
_CHUNK = 1024 * 1024


def _starts(archive: zipfile.ZipFile, part: zipfile.ZipInfo, tag: re.Pattern[bytes]):
    """The names of the matching elements of a part, in order, unpacked a chunk at a time."""
    tail = b""
    with archive.open(part) as stream:
        while True:
            chunk = stream.read(_CHUNK)
            data = tail + chunk
            # A match starting in the last bytes may continue in the next chunk: left for it.
            cut = len(data) if not chunk else max(len(data) - _OVERLAP, 0)
            for match in tag.finditer(data, 0, len(data)):
                if match.start() >= cut:
                    break
                yield match.group(1) if match.groups() else b""
            if not chunk:
                return
            tail = data[cut:]


def _count(archive: zipfile.ZipFile, part: zipfile.ZipInfo, tag: re.Pattern[bytes], limit: int):
    count = 0
    for _ in _starts(archive, part, tag):
        count += 1
        if count > limit:
            break
    return count


def _count_cells(archive: zipfile.ZipFile, part: zipfile.ZipInfo, cells: int) -> int:
    in_row = 0
    for name in _starts(archive, part, _CELL_OR_ROW):
        if name == b"row":
            in_row = 0
            continue
        cells += 1
        in_row += 1
        if in_row > MAX_XLSX_ROW_CELLS:
            _too_many(N_("a row of more than %(count)s cells"), MAX_XLSX_ROW_CELLS)
        if cells > MAX_XLSX_CELLS:
            _too_many(N_("more than %(count)s cells"), MAX_XLSX_CELLS)
    return cells


def _too_many(what: str, count: int) -> None:
    raise Invalid(
        N_("the workbook holds %(what)s; split it into smaller files"),
        params={"what": Message(what, {"count": f"{count:,}"})},
        field="file",
    )


def _too_big(limit: int) -> None:
    raise Invalid(
        N_("the workbook unpacks to more than %(size)s MB; split it into smaller files"),
        params={"size": limit // (1024 * 1024)},
        field="file",
    )


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return str(sheets.plain(value))
