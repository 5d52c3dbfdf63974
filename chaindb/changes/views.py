"""The change log page: every write, newest first, with what changed from what to what."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from flask import Blueprint, Flask, current_app, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import literal, select, union_all
from werkzeug.datastructures import MultiDict
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import NumberRange, Optional

from chaindb.changes.api import ADMIN_ONLY_TABLES, list_changes
from chaindb.db import Base, db, is_id
from chaindb.errors import DomainError
from chaindb.web import ACTION_LABELS, may, url_with
from chaindb.web.forms import Form, choices_of

bp = Blueprint("changes", __name__, url_prefix="/changes")

PAGE_SIZE = 50
# Bookkeeping columns that every write touches: they say nothing about what changed.
QUIET_FIELDS = {"id", "created_at", "updated_at"}
VALUE_CHARS = 120

TABLE_LABELS = {
    "district": _l("Planning unit"),
    "chain": _l("Chain"),
    "chain_segment": _l("Segment"),
    "enterprise": _l("Enterprise"),
    "designation": _l("Designation"),
    "chain_role": _l("Role in a chain"),
    "supply_link": _l("Supply link"),
    "project": _l("Project"),
    "project_stage_event": _l("Stage change of a project"),
    "target": _l("Target"),
    "app_user": _l("User"),
    "api_token": _l("API token"),
}

# table -> (the page showing its record, that page's table, the column naming that page's row)
RECORD_PAGES = {
    "district": ("districts.detail", "district", "id"),
    "chain": ("chains.detail", "chain", "id"),
    "chain_segment": ("segments.detail", "chain_segment", "id"),
    "enterprise": ("enterprises.detail", "enterprise", "id"),
    "designation": ("designations.detail", "designation", "id"),
    "chain_role": ("chain_roles.detail", "chain_role", "id"),
    "supply_link": ("supply_links.detail", "supply_link", "id"),
    "project": ("projects.detail", "project", "id"),
    "project_stage_event": ("projects.detail", "project", "project_id"),
    "target": ("targets.detail", "target", "id"),
    "app_user": ("users.detail", "app_user", "id"),
    "api_token": ("users.detail", "app_user", "user_id"),
}
# What a row is called, in the order tried.
NAME_FIELDS = ("name_zh", "name", "username", "title", "code", "product")


def visible_tables() -> dict[str, Any]:
    """The tables whose changes the reader may see: users and tokens for admins only."""
    if may("admin"):
        return TABLE_LABELS
    return {k: v for k, v in TABLE_LABELS.items() if k not in ADMIN_ONLY_TABLES}


def record_links(changes: Iterable[Any]) -> dict[int, str]:
    """change id -> the page of the record it wrote, for the records that still exist.

    Whether they exist is asked in one query for all of them.
    """
    wanted: dict[int, tuple[str, str, int]] = {}
    for change in changes:
        page = RECORD_PAGES.get(_get(change, "table_name"))
        if page is None or page[0] not in current_app.view_functions:
            continue
        endpoint, table, column = page
        row = _get(change, "after") or _get(change, "before") or {}
        record_id = _get(change, "record_id") if column == "id" else row.get(column)
        if isinstance(record_id, int):
            wanted[_get(change, "id")] = (endpoint, table, record_id)
    if not wanted:
        return {}
    by_table: dict[str, set[int]] = {}
    for _, table, record_id in wanted.values():
        by_table.setdefault(table, set()).add(record_id)
    queries = [
        select(literal(table).label("t"), Base.metadata.tables[table].c.id).where(
            Base.metadata.tables[table].c.id.in_(ids)
        )
        for table, ids in by_table.items()
    ]
    query = queries[0] if len(queries) == 1 else union_all(*queries)
    found = {(table, record_id) for table, record_id in db.session.execute(query)}
    return {
        change_id: url_for(endpoint, id=record_id)
        for change_id, (endpoint, table, record_id) in wanted.items()
        if (table, record_id) in found
    }


def record_name(change: Any) -> str:
    """What the written row is called, from its own values (no query): its name, else #id."""
    row = _get(change, "after") or _get(change, "before") or {}
    for name in NAME_FIELDS:
        value = row.get(name)
        if value not in (None, ""):
            return str(value)
    return f"#{_get(change, 'record_id')}"


def changed_fields(change: Any) -> list[tuple[str, str, str]]:
    """(field, before, after) for what the change wrote, values as short text.

    An update lists the fields whose value differs; an insert its non-empty values; a delete
    the values the row had.
    """
    before = _get(change, "before") or {}
    after = _get(change, "after") or {}
    action = _get(change, "action")
    if action == "update":
        names = [k for k in (*before, *(k for k in after if k not in before))]
        names = [k for k in names if k not in QUIET_FIELDS and before.get(k) != after.get(k)]
    else:
        row = after if action == "insert" else before
        names = [k for k, v in row.items() if k not in QUIET_FIELDS and v not in (None, "", [])]
    return [
        (
            name,
            show_value(before.get(name)) if action != "insert" else "—",
            show_value(after.get(name)) if action != "delete" else "—",
        )
        for name in names
    ]


def show_value(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return str(_l("yes")) if value else str(_l("no"))
    if isinstance(value, list):
        text = "、".join(str(v) for v in value)
    elif isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def _get(change: Any, name: str) -> Any:
    return change[name] if isinstance(change, dict) else getattr(change, name)


# --- the page ------------------------------------------------------------------------------------


def _table_choices():
    return choices_of(visible_tables(), blank=True)


class ChangeFilters(Form):
    table_name = SelectField(_l("Table"), choices=_table_choices, validators=[Optional()])
    action = SelectField(
        _l("Action"), choices=choices_of(ACTION_LABELS, blank=True), validators=[Optional()]
    )
    actor = StringField(_l("Who"), validators=[Optional()])
    record_id = IntegerField(
        _l("Record id"), validators=[Optional(), NumberRange(min=1, max=10**17)]
    )
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To"), validators=[Optional()])


def _log_args(filters: ChangeFilters) -> MultiDict:
    """The filters as the change log's query: empty fields left out."""
    args: MultiDict = MultiDict()
    if filters.table_name.data:
        args["table_name"] = filters.table_name.data
    if filters.action.data:
        args["action"] = filters.action.data
    if (filters.actor.data or "").strip():
        args["actor__contains"] = filters.actor.data.strip()
    if filters.record_id.data is not None:
        args["record_id"] = str(filters.record_id.data)
    if filters.since.data:
        args["occurred_at__gte"] = filters.since.data.isoformat()
    if filters.until.data:  # the whole of that day
        args["occurred_at__lt"] = (filters.until.data + timedelta(days=1)).isoformat()
    return args


def _id_arg(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if is_id(raw) else None


@bp.get("", endpoint="list")
def list_view():
    filters = ChangeFilters(request.args, meta={"csrf": False})
    rows: list[dict[str, Any]] = []
    error: DomainError | None = None
    newer = older = None
    before, after = _id_arg("before"), _id_arg("after")
    status = 200
    if not filters.validate():
        status = 422
    else:
        args = _log_args(filters)
        args["limit"] = str(PAGE_SIZE)
        if after is not None:
            args["after"] = str(after)  # a page back towards the newest: read forward
        elif before is not None:
            args["before"] = str(before)
        try:
            page = list_changes(args)
        except DomainError as exc:
            error, status = exc, exc.status
        else:
            rows = [dict(r) for r in page["results"]]
            more = page["next"] is not None
            if after is not None:
                rows.reverse()
                has_newer, has_older = more, True
            else:
                has_newer, has_older = before is not None, more
            if rows and has_newer:
                newer = _page_url(after=rows[0]["id"])
            if rows and has_older:
                older = _page_url(before=rows[-1]["id"])
    return render_template(
        "changes/list.html",
        filters=filters,
        rows=rows,
        error=error,
        newer=newer,
        older=older,
        newest=_page_url() if before is not None or after is not None else None,
        table_labels=TABLE_LABELS,
        links=record_links(rows),
        record_name=record_name,
        changed_fields=changed_fields,
    ), status


def _page_url(**paging: int) -> str:
    args = request.args.copy()
    args.pop("before", None)
    args.pop("after", None)
    for key, value in paging.items():
        args[key] = str(value)
    return url_with(url_for("changes.list"), args)


def register(app: Flask) -> None:
    app.register_blueprint(bp)
