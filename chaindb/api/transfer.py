"""Export any list as CSV or XLSX (streamed), and import CSV or XLSX rows all-or-none.

An export's header row holds the API's field names; a file exported from a list imports back
unchanged. Rows match existing records by the resource's import key (a natural key), so
importing the same file twice creates once and then updates.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

from flask import Response, request, stream_with_context
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from chaindb.api.schemas import lax_input
from chaindb.errors import BadRequest, DomainError, Invalid, UnsupportedMediaType

if TYPE_CHECKING:
    from chaindb.api.resource import Resource

EXPORT_BATCH = 2000
MAX_IMPORT_ROWS = 50_000
CSV_TYPES = {"text/csv", "application/csv", "text/plain"}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def cell(value: Any) -> Any:
    """A value as a spreadsheet cell: ISO dates, exact decimals, lists joined by |."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (list, tuple)):
        return "|".join(str(v) for v in value)
    return value


def export(
    resource: Resource, session: Session, fmt: str, args: MultiDict | None = None
) -> Response:
    """The rows the filters in `args` (default: the query string) select, as CSV or XLSX."""
    if fmt not in ("csv", "xlsx"):
        raise Invalid("format must be csv or xlsx", field="format")
    args = request.args if args is None else args
    stmt = (
        resource.select()
        .where(*resource.where(args))
        .order_by(*resource.order_by(args.get("ordering")))
        .execution_options(yield_per=EXPORT_BATCH)
    )
    names = [c.name for c in resource.columns]
    filename = f"{resource.name}.{fmt}"
    disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}

    def rows() -> Iterator[list[Any]]:
        # A server-side cursor: a million rows pass through in batches, never all in memory.
        for partition in session.execute(stmt).partitions():
            for row in partition:
                yield [cell(v) for v in row]

    if fmt == "csv":

        def generate() -> Iterator[str]:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(names)
            for n, row in enumerate(rows(), start=1):
                writer.writerow(row)
                if n % 500 == 0:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue()

        # The BOM lets spreadsheet programs read the UTF-8 Chinese correctly.
        body = stream_with_context(_prefix("\ufeff", generate()))
        return Response(body, mimetype="text/csv", headers=disposition)

    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(resource.name[:31])
    sheet.append(names)
    for row in rows():
        sheet.append(row)
    spool = tempfile.TemporaryFile()  # noqa: SIM115  (closed by chunks() once sent)
    workbook.save(spool)
    spool.seek(0)

    def chunks() -> Iterator[bytes]:
        with spool:
            while chunk := spool.read(64 * 1024):
                yield chunk

    return Response(chunks(), mimetype=XLSX_TYPE, headers=disposition)


def _prefix(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


# --- import -------------------------------------------------------------------------------------


Table = tuple[list[str], list[tuple[int, dict[str, str]]]]


def read_upload() -> Table:
    """The uploaded table: its header and its rows with their line numbers."""
    upload = request.files.get("file")
    if upload is not None:
        data, name, mimetype = upload.read(), upload.filename or "", upload.mimetype
    elif request.files:
        raise BadRequest("send the file in a form field named 'file'", field="file")
    else:
        data, name, mimetype = request.get_data(), "", request.mimetype
    return parse_table(data, name, mimetype, uploaded=upload is not None)


def parse_table(data: bytes, name: str, mimetype: str | None, *, uploaded: bool = True) -> Table:
    """A CSV or XLSX file's header and rows, with their line numbers."""
    if not data:
        raise BadRequest("the upload is empty", field="file")
    is_xlsx = name.lower().endswith(".xlsx") or mimetype == XLSX_TYPE or data[:2] == b"PK"
    if is_xlsx:
        return _read_xlsx(data)
    if (
        mimetype
        and mimetype not in CSV_TYPES
        and not name.lower().endswith(".csv")
        and not uploaded
    ):
        raise UnsupportedMediaType(
            "import CSV (text/csv) or XLSX, not %(mimetype)s",
            params={"mimetype": mimetype},
            field="Content-Type",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("the CSV is not UTF-8 text", field="file") from None
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    rows = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            where = f"line {reader.line_num}"  # the field: a place in the file, not words
            raise Invalid(
                "line %(line)s: %(values)s values for %(columns)s columns",
                params={"line": reader.line_num, "values": len(values), "columns": len(header)},
                field=where,
            )
        rows.append((reader.line_num, dict(zip(header, values, strict=True))))
    return header, rows


def _read_xlsx(data: bytes) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises several kinds for a file that is not a workbook
        raise BadRequest("the file is not a readable XLSX workbook", field="file") from None
    sheet = workbook.worksheets[0]
    lines = sheet.iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(lines, ())]
    rows = []
    for number, values in enumerate(lines, start=2):
        if values is None or all(v is None or str(v).strip() == "" for v in values):
            continue
        record = {}
        for name, value in zip(header, values, strict=False):
            record[name] = (
                "" if value is None else cell(value) if not isinstance(value, str) else value
            )
        rows.append((number, {k: str(v) for k, v in record.items()}))
    workbook.close()
    return header, rows


def import_rows(
    resource: Resource, session: Session, *, dry_run: bool, table: Table | None = None
) -> tuple[int, dict[str, Any]]:
    """Apply every row, or none: the status and the per-row report."""
    header, rows = table if table is not None else read_upload()
    if len(rows) > MAX_IMPORT_ROWS:
        limit = f"{MAX_IMPORT_ROWS:,}"
        raise Invalid("at most %(rows)s rows per import", params={"rows": limit}, field="file")
    writable = set(resource.create.model_fields)
    unknown = [
        h for h in header if h not in writable and h not in ("id", "created_at", "updated_at")
    ]
    if unknown:
        raise Invalid(
            "unknown columns: %(columns)s", params={"columns": ", ".join(unknown)}, field="file"
        )
    missing = [k for k in resource.import_key or () if k not in header]
    if missing:
        raise Invalid(
            "missing key columns: %(columns)s", params={"columns": ", ".join(missing)}, field="file"
        )

    report: list[dict[str, Any]] = []
    with lax_input():  # cells are text
        return _apply(resource, session, rows, writable, report, dry_run=dry_run)


def _apply(
    resource: Resource,
    session: Session,
    rows: list[tuple[int, dict[str, str]]],
    writable: set[str],
    report: list[dict[str, Any]],
    *,
    dry_run: bool,
) -> tuple[int, dict[str, Any]]:
    outer = session.begin_nested()
    for line, raw in rows:
        # An empty cell takes the field's default: NULL, or e.g. an empty list of aliases.
        body = {
            k: _from_cell(resource, k, v) for k, v in raw.items() if k in writable and v.strip()
        }
        row_savepoint = session.begin_nested()
        try:
            existing = resource.import_match(session, body)
            if existing is None:
                written = resource.create_one(session, body)
                action = "create"
            else:
                written = resource.update_one(session, str(existing), body, replace=True)
                action = "update"
            row_savepoint.commit()
            report.append({"line": line, "action": action, "id": written["id"]})
        except DomainError as exc:
            row_savepoint.rollback()
            report.append(
                {
                    "line": line,
                    "action": "error",
                    "errors": exc.details or [{"field": "row", "message": exc.message}],
                }
            )
    failed = [r for r in report if r["action"] == "error"]
    if dry_run or failed:
        outer.rollback()
    else:
        outer.commit()
    summary = {
        "dry_run": dry_run,
        "committed": not dry_run and not failed,
        "rows": len(report),
        "create": sum(r["action"] == "create" for r in report),
        "update": sum(r["action"] == "update" for r in report),
        "error": len(failed),
        "results": report,
    }
    return (422 if failed and not dry_run else 200), summary


def _from_cell(resource: Resource, name: str, value: str) -> Any:
    value = value.strip()
    annotation = str(resource.create.model_fields[name].annotation)
    if "list[" in annotation:
        return [v.strip() for v in value.split("|") if v.strip()]
    # A reference stays text: resolve() tries it as a natural key (a district's 370102), then as
    # an id (what an export writes).
    return value


def match_by_key(resource: Resource, session: Session, body: dict[str, Any]) -> int | None:
    """The id of the existing record with this row's import key, if any."""
    if not resource.import_key:
        return None
    values = resource.resolve(session, {k: body.get(k) for k in resource.import_key})
    table = resource.table
    conditions = [table.c[k].is_(None) if v is None else table.c[k] == v for k, v in values.items()]
    if resource.import_scope is not None:
        conditions.append(resource.import_scope())
    found = session.execute(select(table.c.id).where(*conditions).limit(2)).scalars().all()
    if len(found) > 1:
        raise Invalid(
            "%(count)s records match this row's key (%(key)s)",
            params={"count": len(found), "key": ", ".join(resource.import_key)},
            field="row",
        )
    return found[0] if found else None
