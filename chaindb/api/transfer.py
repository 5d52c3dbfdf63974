"""Export any list as CSV or XLSX (streamed), and import CSV or XLSX rows all-or-none.

An export comes in two layouts: raw, for machines (the API's field names, codes and ids, the
API's default), and office, for people (the columns' labels with their units, names instead of
codes and ids, a title with the filters used; see chaindb.api.sheets and chaindb.api.exchange).
Either imports back as it is: rows match existing records by id when the file has one (an
export does), else by the resource's import key (a natural key), so importing the same file
twice creates once and then finds every row unchanged.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

from flask import Response, request
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from chaindb.api import exchange, sheets, tables
from chaindb.api.schemas import lax_input
from chaindb.db import db, is_id
from chaindb.errors import N_, BadRequest, DomainError, Invalid

if TYPE_CHECKING:
    from chaindb.api.resource import Resource

EXPORT_BATCH = 2000
XLSX_TYPE = tables.XLSX_TYPE
# Read-only columns of every record: an import ignores them (the id matches the record).
ALWAYS_READ_ONLY = ("created_at", "updated_at")


def cell(value: Any) -> Any:
    """A value as a spreadsheet cell: ISO dates, exact decimals, lists joined by |."""
    return sheets.plain(value.value if isinstance(value, Enum) else value)


def exported_at() -> str:
    """导出时间: now, in the reader's language and the server's time zone."""
    from flask_babel import format_datetime, gettext

    return gettext("Exported at %(time)s", time=format_datetime(datetime.now(), "yyyy-MM-dd HH:mm"))


@dataclass
class Office:
    """What the office layout of an export says above its header."""

    title: str
    sheet_name: str
    facts: Sequence[str] = ()
    yes: str = "是"
    no: str = "否"


def export(
    resource: Resource,
    session: Session,
    fmt: str,
    args: MultiDict | None = None,
    *,
    office: Office | None = None,
) -> Response:
    """The rows the filters in `args` (default: the query string) select, as CSV or XLSX; in the
    office layout when `office` says what to put above it (and the resource has its columns)."""
    if fmt not in ("csv", "xlsx"):
        raise Invalid("format must be csv or xlsx", field="format")
    args = request.args if args is None else args
    stmt, params = resource.rows_statement(args)
    stmt = stmt.execution_options(yield_per=EXPORT_BATCH)
    columns = [c for c in resource.sheet_columns() if not c.read_only] if office else []
    disposition = {"Content-Disposition": f'attachment; filename="{resource.name}.{fmt}"'}

    def records() -> Iterator[Mapping[str, Any]]:
        # A server-side cursor: a million rows pass through in batches, never all in memory.
        for partition in session.execute(stmt, params).mappings().partitions():
            yield from partition

    if columns:
        assert office is not None
        header: list[Any] = [c.header() for c in columns]

        def rows() -> Iterator[Sequence[Any]]:
            return exchange.office_rows(session, columns, records(), yes=office.yes, no=office.no)

        layout = sheets.Layout(
            office.title, office.sheet_name, office.facts, [c.sheet_format() for c in columns]
        )
    else:
        header = [c.name for c in resource.columns]

        def rows() -> Iterator[Sequence[Any]]:
            for record in records():
                yield [cell(v) if not isinstance(v, (Decimal, int)) else v for v in record.values()]

        layout = None

    if fmt == "csv":
        body = db.stream(sheets.csv_chunks(header, rows()))
        return Response(body, mimetype="text/csv", headers=disposition)

    spool = tempfile.TemporaryFile()  # noqa: SIM115  (closed by chunks() once sent)
    try:
        sheets.write_xlsx(spool, header, rows(), layout=layout, name=resource.name)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)

    def chunks() -> Iterator[bytes]:
        with spool:
            while chunk := spool.read(64 * 1024):
                yield chunk

    return Response(chunks(), mimetype=XLSX_TYPE, headers=disposition)


# --- import -------------------------------------------------------------------------------------


def upload_lines() -> tables.Lines:
    """The uploaded file's lines (the body, or a form field named file)."""
    upload = request.files.get("file")
    if upload is not None:
        data, name, mimetype = upload.read(), upload.filename or "", upload.mimetype
    elif request.files or request.mimetype == "multipart/form-data":
        # A form without that field, or one werkzeug could not read (it reads broken ones as
        # empty): no boundary, a part never closed.
        raise BadRequest("send the file in a form field named 'file'", field="file")
    else:
        data, name, mimetype = request.get_data(), "", request.mimetype
    return tables.read_lines(data, name, mimetype, uploaded=upload is not None)


@dataclass
class Plan:
    """An import read: which column is which field, and the rows as API bodies."""

    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # read-only columns, ignored


def import_rows(
    resource: Resource,
    session: Session,
    *,
    dry_run: bool,
    lines: tables.Lines | None = None,
    confirm: Sequence[str] = (),
) -> tuple[int, dict[str, Any]]:
    """Apply every row, or none: the status and the per-row report.

    `confirm` confirms the warnings of every row (large amounts, possible duplicates), as a
    row's own confirm column does for that row."""
    lines = lines if lines is not None else upload_lines()
    session.info["resolved"] = {}  # references found once per import (Resource.resolve)
    try:
        with lax_input():  # cells are text
            plan = read_plan(resource, session, lines)
            if confirm and "confirm" in resource.create.model_fields:
                for _, body in plan.rows:
                    body["confirm"] = sorted({*body.get("confirm", ()), *confirm})
            status, summary = _apply(resource, session, plan.rows, dry_run=dry_run)
    finally:
        session.info.pop("resolved", None)
    if plan.ignored:
        summary["ignored_columns"] = plan.ignored
    return status, summary


def read_plan(resource: Resource, session: Session, lines: tables.Lines) -> Plan:
    """The header found (under an office export's title rows), each column's field, and every
    row as the body the API takes: names, labels and yes/no read back into ids and codes."""
    columns = resource.sheet_columns()
    writable = [*resource.create.model_fields, "id"]
    read_only = [*resource.read_only_fields, *ALWAYS_READ_ONLY]
    known = exchange.known_headers(columns, writable, read_only)
    start = exchange.find_header(lines, known)
    header = lines[start][1] if lines else []
    body_lines = lines[start + 1 :]
    if len(body_lines) > tables.MAX_ROWS:  # tables counted the lines, title lines included
        limit = f"{tables.MAX_ROWS:,}"
        raise Invalid("at most %(rows)s rows per import", params={"rows": limit}, field="file")
    reading = exchange.read_header(header, columns, writable, read_only)
    if reading.unknown:
        raise Invalid(
            "unknown columns: %(columns)s", params={"columns": ", ".join(reading.unknown)},
            field="file",
        )  # fmt: skip
    present = set(reading.fields.values())
    required = [
        k for k in resource.import_key or () if resource.create.model_fields[k].is_required()
    ]
    missing = [k for k in required if k not in present]
    if missing and "id" not in present:
        names = {c.name: c.header() for c in columns}
        raise Invalid(
            "missing key columns: %(columns)s",
            params={"columns": ", ".join(names.get(k, k) for k in missing)},
            field="file",
        )
    kinds = {name: _kind(resource, name) for name in present}
    names: dict[Any, Any] = {}  # references by name, looked up once
    plan = Plan(ignored=reading.ignored)
    for number, cells in body_lines:
        body: dict[str, Any] = {}
        try:
            if len(cells) > len(header):  # tables.read_lines drops trailing empty cells
                raise Invalid(
                    N_("%(values)s values for %(columns)s columns"),
                    params={"values": len(cells), "columns": len(header)},
                    field="file",
                )
            for position, name in reading.fields.items():
                raw = cells[position] if position < len(cells) else ""
                if not str(raw).strip():
                    continue  # an empty cell: the field's default (NULL, or an empty list)
                body[name] = exchange.cell_value(
                    session,
                    reading.columns.get(name),
                    str(raw),
                    kind=kinds[name],
                    row=body,
                    names=names,
                )
        except DomainError as exc:
            body = {"__error__": exc}
        plan.rows.append((number, body))
    return plan


def _kind(resource: Resource, name: str) -> str:
    """What a field holds, as a cell is read: bool, list, date, number or text."""
    if name == "id":
        return "number"
    annotation = str(resource.create.model_fields[name].annotation)
    for kind, marks in (
        ("list", ("list[",)),
        ("bool", ("bool",)),
        ("date", ("date",)),
        ("number", ("Decimal", "int", "float")),
    ):
        if any(mark in annotation for mark in marks):
            return kind
    return "text"


def _apply(
    resource: Resource,
    session: Session,
    rows: list[tuple[int, dict[str, Any]]],
    *,
    dry_run: bool,
) -> tuple[int, dict[str, Any]]:
    report: list[dict[str, Any]] = []
    outer = session.begin_nested()
    for line, body in rows:
        row_savepoint = session.begin_nested()
        try:
            if "__error__" in body:
                raise body["__error__"]
            record_id = body.pop("id", None)
            existing = (
                _by_id(resource, session, record_id)
                if record_id is not None
                else resource.import_match(session, body)
            )
            if existing is None:
                written = resource.create_one(session, body)
                action = "create"
            else:
                written = resource.get(session, str(existing))
                if _says_nothing_new(resource, session, body, written):
                    action = "unchanged"  # nothing to check or write
                else:
                    before = written
                    written = resource.update_one(session, str(existing), body, replace=True)
                    # What the file says, against the record: derived columns (name initials,
                    # updated_at) do not make a row changed.
                    said = set(resource.create.model_fields) & set(written)
                    changed = {k for k in said if written[k] != before.get(k)}
                    action = "update" if changed else "unchanged"
            row_savepoint.commit()
            report.append({"line": line, "action": action, "id": written["id"]})
        except DomainError as exc:
            row_savepoint.rollback()
            entry: dict[str, Any] = {
                "line": line,
                "action": "error",
                "code": exc.code,
                "errors": exc.details or [{"field": "row", "message": exc.message}],
            }
            entry.update(exc.extra)
            entry["_error"] = exc  # for the pages (their language), dropped from the API's body
            report.append(entry)
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
        "unchanged": sum(r["action"] == "unchanged" for r in report),
        "error": len(failed),
        "results": report,
    }
    return (422 if failed and not dry_run else 200), summary


def _says_nothing_new(
    resource: Resource, session: Session, body: dict[str, Any], record: Mapping[str, Any]
) -> bool:
    """True when the row, read as a replacement of the record, holds exactly its values (an
    unchanged row of an export): it need not be checked or written again."""
    try:
        values = resource.resolve(session, resource.validate(resource.create, dict(body)))
    except DomainError:
        return False  # the update says why
    values.pop("confirm", None)
    fields = set(resource.create.model_fields) & set(record)
    if set(values) - fields:
        return False  # values the record does not hold as they are (a stage reason, say)
    return all(_same(values.get(name), record[name]) for name in fields)


def _same(given: Any, stored: Any) -> bool:
    """A cell's value and the record's alike; a time without a zone (an XLSX cell) is read in
    the server's zone, as the export wrote it."""
    if isinstance(given, datetime) and isinstance(stored, datetime):
        if given.tzinfo is None:
            given = given.astimezone()
        return given == stored
    return bool(given == stored)


def _by_id(resource: Resource, session: Session, value: Any) -> int:
    """The record a row's id names; an id that names none is refused (a record deleted since
    the export was made is not brought back by it)."""
    text = str(value).strip().removesuffix(".0")
    found = None
    if is_id(text):
        # Within the request's scope: a record it may not see is not here for it.
        scope, params = resource.scoped()[:2]
        table = resource.table
        found = session.scalar(select(table.c.id).where(table.c.id == int(text), *scope), params)
    if found is None:
        raise Invalid(
            N_("no record with id %(id)s here (deleted since the export?); empty the id to "
               "create it anew"),
            params={"id": text},
            field="id",
        )  # fmt: skip
    return found


def match_by_key(resource: Resource, session: Session, body: dict[str, Any]) -> int | None:
    """The id of the existing record with this row's import key, if any."""
    if not resource.import_key:
        return None
    values = resource.resolve(session, {k: body.get(k) for k in resource.import_key})
    table = resource.table
    conditions = [table.c[k].is_(None) if v is None else table.c[k] == v for k, v in values.items()]
    if resource.import_scope is not None:
        conditions.append(resource.import_scope())
    scope, params = resource.scoped()[:2]
    found = (
        session.execute(select(table.c.id).where(*conditions, *scope).limit(2), params)
        .scalars()
        .all()
    )
    if len(found) > 1:
        raise Invalid(
            "%(count)s records match this row's key (%(key)s)",
            params={"count": len(found), "key": ", ".join(resource.import_key)},
            field="row",
        )
    return found[0] if found else None
