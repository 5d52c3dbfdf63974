"""The pages of one resource: list, detail, create, edit, delete, import and export.

Each domain declares its pages in its views.py (columns, filters, form, related records); this
module turns the declaration into routes that behave the same everywhere and that write through
the API's Resource, so a form obeys exactly the rules the JSON API does.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField
from wtforms.fields.core import UnboundField

from chaindb.access import Role
from chaindb.api import tables, transfer
from chaindb.api.exchange import UNIT_OF_FORMAT, SheetColumn
from chaindb.api.resource import Resource
from chaindb.api.schemas import lax_input
from chaindb.db import Base, db, label_of
from chaindb.errors import (
    CONFIRMATIONS,
    FIELD_LABELS,
    N_,
    TABLE_LABELS,
    DomainError,
    Forbidden,
    Invalid,
    PreconditionFailed,
)
from chaindb.web import FILTERS, may, url_with
from chaindb.web.forms import Form, RecordForm

PAGE_SIZE = 25
PAGE_SIZES = (25, 50, 100)
NOT_FILTERS = {"page", "per_page", "format", "lang"}
UPLOAD_MAX_AGE = 24 * 3600
UPLOAD_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")  # secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Link:
    """A reference shown by the name of the row it points at, linked to that row's page."""

    model: type[Base]
    endpoint: str  # e.g. "enterprises.detail"
    label: str = "name_zh"


@dataclass(frozen=True)
class Column:
    name: str
    label: Any = None  # None: the label of the model's column (chaindb.db.labelled)
    format: str | None = None  # a template filter: yi, wan, day, moment, number, yes_no
    link: Link | None = None
    choices: dict[str, Any] | None = None  # a vocabulary's labels
    sortable: bool = True


@dataclass
class Pages:
    resource: Resource
    title: Any  # the plural, as the navigation names it
    singular: Any
    columns: Sequence[Column]
    label: Callable[[dict[str, Any]], str]  # how a record is named in titles and links
    form: type[FlaskForm] | None = None  # None: read-only pages
    edit_form: type[FlaskForm] | None = None
    filters: type[FlaskForm] | None = None
    detail_columns: Sequence[Column] | None = None
    detail_template: str = "web/detail.html"
    form_template: str = "web/form.html"
    related: Callable[[Session, dict[str, Any]], dict[str, Any]] | None = None
    deletable: bool = True
    write_role: Role = Role.EDITOR
    read_role: Role = Role.VIEWER
    # The create page, when a workflow replaces the generic one (e.g. projects.add).
    new_endpoint: str | None = None
    create: Callable[[Session, dict[str, Any]], dict[str, Any]] | None = None
    name: str = ""
    help: Any = None
    extra_routes: list[Callable[[Blueprint, Pages], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.name = self.name or self.resource.name.replace("-", "_")
        self.columns = self._labelled(self.columns)
        if self.detail_columns is not None:
            self.detail_columns = self._labelled(self.detail_columns)
        if self.edit_form is None:
            self.edit_form = self.form
        # The resource's exports and imports for people read its columns as these pages show them.
        self.resource._sheet_columns = sheet_columns(self)
        self.resource.sheet_title = self.title
        # Messages that name a field or this table say them as these pages do.
        TABLE_LABELS.setdefault(self.resource.table.name, self.singular)
        for column in self.resource._sheet_columns:
            if column.name != "id":
                FIELD_LABELS.setdefault(column.name, column.label)

    def _labelled(self, columns: Sequence[Column]) -> list[Column]:
        """The columns, each unlabelled one with its model column's label."""
        table = self.resource.table
        return [
            c if c.label is not None else replace(c, label=label_of(table.c[c.name]))
            for c in columns
        ]

    # --- values ---------------------------------------------------------------------------

    def api_args(self, args: MultiDict) -> MultiDict:
        """The query string of a list page as the resource's filters (empty fields dropped)."""
        out: MultiDict = MultiDict()
        for key in args:
            if key in NOT_FILTERS:
                continue
            for value in args.getlist(key):
                if value.strip():
                    out.add(key, value.strip())
        return out

    def labels(self, session: Session, rows: list[dict[str, Any]], columns: Sequence[Column]):
        """column name -> {id: label} for the reference columns of these rows, one query each."""
        found: dict[str, dict[Any, str]] = {}
        for column in columns:
            if column.link is None:
                continue
            ids = {row.get(column.name) for row in rows} - {None}
            if not ids:
                found[column.name] = {}
                continue
            model = column.link.model
            table = model.__table__
            found[column.name] = dict(
                session.execute(
                    select(table.c.id, table.c[column.link.label]).where(table.c.id.in_(ids))
                ).all()
            )
        return found

    def cell(self, row: dict[str, Any], column: Column, labels: dict[str, dict]) -> Markup:
        value = row.get(column.name)
        if value is None or value == "" or value == []:
            return Markup("<span class='muted'>—</span>")
        if column.link is not None:
            text = labels.get(column.name, {}).get(value, f"#{value}")
            if column.link.endpoint not in current_app.view_functions:
                return escape(text)
            href = url_for(column.link.endpoint, id=value)
            return Markup('<a href="{}">{}</a>').format(href, text)
        if column.choices is not None:
            key = value.value if isinstance(value, Enum) else value
            return escape(str(column.choices.get(key, key)))
        if column.format:
            return escape(FILTERS[column.format](value))
        if isinstance(value, list):
            return escape("、".join(str(v) for v in value))
        if isinstance(value, bool):
            return escape(FILTERS["yes_no"](value))
        if isinstance(value, Decimal):
            return escape(FILTERS["number"](value))
        return escape(str(value))

    # --- routes ---------------------------------------------------------------------------

    def blueprint(self) -> Blueprint:
        bp = Blueprint(self.name, __name__, url_prefix=f"/{self.resource.name}")
        bp.add_url_rule("", "list", self.list_view)
        bp.add_url_rule("/export", "export", self.export_view)
        bp.add_url_rule("/<key:id>", "detail", self.detail_view)
        if self.form is not None:
            bp.add_url_rule("/new", "new", self.new_view, methods=["GET", "POST"])
            bp.add_url_rule("/<key:id>/edit", "edit", self.edit_view, methods=["GET", "POST"])
        if self.deletable:
            bp.add_url_rule("/<key:id>/delete", "delete", self.delete_view, methods=["GET", "POST"])
        if self.resource.import_key:
            bp.add_url_rule("/import", "import_", self.import_view, methods=["GET", "POST"])
        for add in self.extra_routes:
            add(bp, self)
        bp.before_request(self._check_read)
        return bp

    def _check_read(self) -> None:
        if not may(self.read_role):
            raise Forbidden(
                N_("This page is for the %(role)s role."), params={"role": self.read_role}
            )

    def _check_write(self) -> None:
        if not may(self.write_role):
            raise Forbidden(
                N_("Changing this needs the %(role)s role."), params={"role": self.write_role}
            )

    def context(self, **extra: Any) -> dict[str, Any]:
        return {
            "pages": self,
            "can_write": may(self.write_role) and self.form is not None,
            "can_delete": may(self.write_role) and self.deletable,
            "new_url": url_for(self.new_endpoint)
            if self.new_endpoint
            else url_for(f"{self.name}.new")
            if self.form is not None
            else None,
            **extra,
        }

    def list_view(self):
        session = db.session
        filters = self.filters(request.args, meta={"csrf": False}) if self.filters else None
        size = _int_arg("per_page", PAGE_SIZE, PAGE_SIZES)
        page_no = _int_arg("page", 1)
        args = self.api_args(request.args)
        args["limit"] = str(size)
        args["offset"] = str((page_no - 1) * size)
        error = None
        try:
            page = self.resource.list_page(session, args)
        except DomainError as exc:
            error, page = exc, {"count": 0, "results": []}
        rows = [dict(r) for r in page["results"]]
        labels = self.labels(session, rows, self.columns)
        count = page["count"] or 0
        return render_template(
            "web/list.html",
            **self.context(
                filters=filters,
                rows=rows,
                labels=labels,
                count=count,
                page_no=page_no,
                size=size,
                pages_total=max(1, -(-count // size)),
                error=error,
                ordering=request.args.get("ordering", ""),
                page_url=_page_url,
            ),
        ), (422 if error else 200)

    def export_url(self, fmt: str, layout: str = "office") -> str:
        """The export of the list as it is filtered and sorted on screen."""
        args = MultiDict(request.args)
        for key in ("page", "per_page", "format", "layout"):
            args.pop(key, None)
        args["format"] = fmt
        if layout != "office":
            args["layout"] = layout
        return url_with(url_for(f"{self.name}.export"), args)

    def export_view(self):
        """The list as filtered on screen: for people (labels, names, a title with the filters
        and who exported it when), or raw for machines (?layout=raw: field names and codes)."""
        fmt = request.args.get("format", "xlsx")
        office = None
        if request.args.get("layout") != "raw":
            office = transfer.Office(
                title=str(self.title),
                sheet_name=str(self.title),
                facts=self.export_facts(),
                yes=_("yes"),
                no=_("no"),
            )
        return transfer.export(
            self.resource, db.streaming_session, fmt, self.api_args(request.args), office=office
        )

    def export_facts(self) -> list[str]:
        """What an office export says under its title: the filters, the office, who, when."""
        form = self.filters(request.args, meta={"csrf": False}) if self.filters else None
        used = filters_used(form) if form is not None else []
        if request.args.get("q", "").strip() and (form is None or "q" not in form._fields):
            used.append(f"{_('Search')}={request.args['q'].strip()}")
        return export_facts(used)

    def detail_view(self, id: str):
        session = db.session
        row = self.resource.get(session, id)
        columns = self.detail_columns or self.columns
        labels = self.labels(session, [row], columns)
        history = self.resource.changes_of(session, row["id"], newest_first=True, limit=20)
        related = self.related(session, row) if self.related else {}
        return render_template(
            self.detail_template,
            **self.context(
                row=row,
                columns=columns,
                labels=labels,
                history=history,
                title=self.label(row),
                **related,
            ),
        )

    def write(self, session: Session, form: FlaskForm, action: Callable[[dict], dict]) -> dict:
        """Run a write with the form's values; its refusal lands beside the fields."""
        with lax_input():
            return action(form_body(form))

    def new_view(self):
        self._check_write()
        assert self.form is not None
        form = self.form()
        status = 200
        if form.validate_on_submit():
            session = db.session
            create = self.create or self.resource.create_one
            try:
                row = self.write(session, form, lambda body: create(session, body))
            except DomainError as exc:
                session.rollback()
                show_errors(form, exc)
                status = exc.status
            else:
                session.commit()
                flash(_("Saved: %(name)s", name=self.label(row)), "ok")
                return redirect(url_for(f"{self.name}.detail", id=row["id"]))
        elif request.method == "POST":
            status = 422
        return render_template(
            self.form_template,
            **self.context(form=form, title=_("New %(what)s", what=self.singular)),
        ), status

    def edit_view(self, id: str):
        self._check_write()
        assert self.edit_form is not None
        session = db.session
        # Locked on a submit: a second submit of the same version waits for this one, then
        # finds the version changed (412) instead of saving over it.
        current = self.resource.get(session, id, lock=request.method == "POST")
        if request.method == "GET":
            form = self.edit_form(data=current)
            form.version.data = self.resource.etag(current).strip('"')
        else:
            form = self.edit_form()
        status = 200
        if form.validate_on_submit():
            try:
                if form.version.data != self.resource.etag(current).strip('"'):
                    raise PreconditionFailed(
                        N_(
                            "Someone changed this record after you opened the form. "
                            "Reload the page to see their change, then edit again."
                        )
                    )
                row = self.write(
                    session,
                    form,
                    lambda body: self.resource.update_one(
                        session, str(current["id"]), body, replace=False
                    ),
                )
            except DomainError as exc:
                session.rollback()
                show_errors(form, exc)
                status = exc.status
            else:
                session.commit()
                flash(_("Saved: %(name)s", name=self.label(row)), "ok")
                return redirect(url_for(f"{self.name}.detail", id=row["id"]))
        elif request.method == "POST":
            status = 422
        return render_template(
            self.form_template,
            **self.context(
                form=form,
                row=current,
                title=_("Edit %(name)s", name=self.label(current)),
            ),
        ), status

    def delete_view(self, id: str):
        self._check_write()
        session = db.session
        row = self.resource.get(session, id)
        form = ConfirmForm()
        error = None
        if form.validate_on_submit():
            try:
                self.resource.delete_one(session, str(row["id"]))
            except DomainError as exc:
                session.rollback()
                error = exc
            else:
                session.commit()
                flash(_("Deleted: %(name)s", name=self.label(row)), "ok")
                return redirect(url_for(f"{self.name}.list"))
        referrers = self.resource.referrers(session, row["id"])
        return render_template(
            "web/delete.html",
            **self.context(
                row=row, form=form, referrers=referrers, error=error, title=self.label(row)
            ),
        ), (error.status if error else 200)

    def import_view(self):
        self._check_write()
        form = ImportForm()
        report, status = None, 200
        session = db.session
        if form.validate_on_submit():
            try:
                if form.upload.data:  # the confirmation: apply the file checked before
                    lines = _load_upload(form.upload.data)
                    dry_run = False
                else:
                    upload = form.file.data
                    if upload is None:
                        raise Invalid(N_("Choose a CSV or XLSX file."), field="file")
                    data = upload.read()
                    lines = tables.read_lines(data, upload.filename or "", upload.mimetype)
                    form.upload.data = _keep_upload(data)
                    dry_run = True
                status, report = transfer.import_rows(
                    self.resource, session, dry_run=dry_run, lines=lines, confirm=confirmed()
                )
            except DomainError as exc:
                session.rollback()
                show_errors(form, exc, default="file")
                status = exc.status
            else:
                if report["committed"]:
                    session.commit()
                    _drop_upload(form.upload.data)
                    flash(
                        _(
                            "Imported: %(create)s created, %(update)s updated, "
                            "%(unchanged)s unchanged.",
                            create=report["create"],
                            update=report["update"],
                            unchanged=report["unchanged"],
                        ),
                        "ok",
                    )
                    return redirect(url_for(f"{self.name}.list"))
                session.rollback()
                report = self.readable(report)
        elif request.method == "POST":
            status = 422
        return render_template(
            "web/import.html",
            **self.context(
                form=form,
                report=report,
                title=_("Import %(what)s", what=self.title),
                columns=[
                    c for c in self.resource.sheet_columns() if c.name != "id" and not c.read_only
                ],
                key=[self.header_of(k) for k in self.resource.import_key or ()],
            ),
        ), status

    def header_of(self, name: str) -> str:
        """A field as the page's columns name it (its field name where they do not)."""
        for col in self.resource.sheet_columns():
            if col.name == name:
                return col.header()
        return name

    def readable(self, report: dict[str, Any]) -> dict[str, Any]:
        """An import report in the reader's language, fields by their column names; which
        warnings the rows wait to have confirmed."""
        waiting: set[str] = set()
        for row in report["results"]:
            error = row.pop("_error", None)
            if error is None:
                continue
            details = error.localized_details() or [{"field": "row", "message": error.localized()}]
            row["errors"] = [
                {**d, "field": self.header_of(d["field"].split(".")[0])} for d in details
            ]
            if error.extra.get("confirm"):
                waiting.add(error.extra["confirm"])
        others = [r for r in report["results"] if r["action"] == "error" and not r.get("confirm")]
        report["waiting"] = sorted(waiting) if not others else []
        return report


# --- what an office export says about itself ----------------------------------------------------


def filters_used(form: FlaskForm) -> list[str]:
    """A filter form's fields as set, by their labels and the values' names: 规划单元=历城区."""
    used = []
    for fld in form:
        raw = request.args.get(fld.name, "").strip()
        if not raw or fld.type in ("CSRFTokenField", "HiddenField"):
            continue
        shown = raw
        for choice in getattr(fld, "iter_choices", list)():
            if str(choice[0]) == raw:
                shown = str(choice[1])
                break
        used.append(f"{fld.label.text}={shown}")
    return used


def export_facts(filters: list[str]) -> list[str]:
    """The lines under an office export's title: its filters, the office, who, when."""
    from flask_login import current_user

    facts = []
    if filters:
        facts.append(_("Filters: %(filters)s", filters="，".join(filters)))
    organization = current_app.config["SETTINGS"].organization
    if organization:
        facts.append(_("Exporting office: %(office)s", office=organization))
    who = getattr(current_user, "display_name", None) or getattr(current_user, "username", "")
    facts.append(_("Exported by: %(who)s", who=who))
    facts.append(transfer.exported_at())
    return facts


# --- the columns as exchanged -------------------------------------------------------------------


def sheet_columns(pages: Pages) -> list[SheetColumn]:
    """The resource's columns for people: the id first (so that an export imports back onto
    its records), then every written field the pages show, labelled as they label it."""
    resource = pages.resource
    readable = set(resource.read.model_fields) & set(resource.create.model_fields)
    refs = {ref.field: ref for ref in resource.refs}
    synonyms: dict[str, list[Any]] = {}
    for form in (pages.form, pages.edit_form):
        for name in dir(form or object):
            unbound = getattr(form, name, None)
            if isinstance(unbound, UnboundField) and unbound.args:  # the label comes first
                synonyms.setdefault(name, []).append(unbound.args[0])
    found = [SheetColumn("id", _l("ID"))]
    shown = [*(pages.detail_columns or ()), *pages.columns]
    for column in shown:
        if column.name not in readable and column.name not in resource.read.model_fields:
            continue
        if any(c.name == column.name for c in found):
            continue
        if column.name not in readable:  # shown, not written: known by its label, ignored
            found.append(SheetColumn(column.name, column.label, read_only=True))
            continue
        link = column.link
        ref = refs.get(column.name)
        model = link.model if link is not None else ref.target if ref is not None else None
        within = None
        if model is not None and "chain_id" in model.__table__.c and column.name != "chain_id":
            within = "chain_id" if "chain_id" in readable else None
        found.append(
            SheetColumn(
                column.name,
                column.label,
                unit=UNIT_OF_FORMAT.get(column.format or ""),
                format=column.format,
                choices=column.choices,
                ref=model,
                ref_label=link.label if link is not None else "name_zh",
                ref_key=ref.key if ref is not None else None,
                within=within,
                synonyms=tuple(synonyms.get(column.name, ())),
            )
        )
    for name in resource.read.model_fields:  # written fields the pages do not show
        if name in readable and not any(c.name == name for c in found):
            found.append(SheetColumn(name, name))
    return found


# --- forms and their values ----------------------------------------------------------------------


class ConfirmForm(Form):
    pass


class ImportForm(Form):
    file = FileField(_l("CSV or XLSX file"))
    upload = HiddenField()


def confirmed() -> list[str]:
    """The warnings the person ticked as checked (the confirm boxes of a refused form)."""
    return [v for v in dict.fromkeys(request.form.getlist("confirm")) if v in CONFIRMATIONS]


def form_body(form: FlaskForm) -> dict[str, Any]:
    """The form's values as an API body: empty text is no value; the ticked confirmations."""
    skip = {"csrf_token", "version", "submit", *getattr(form, "not_written", ())}
    body: dict[str, Any] = {}
    if confirmed():
        body["confirm"] = confirmed()
    for name, fld in form._fields.items():
        if name in skip:
            continue
        value = fld.data
        if isinstance(value, str):
            value = value.strip() or None
        if hasattr(fld, "api_value"):
            value = fld.api_value()
        body[name] = value
    return body


def show_errors(form: FlaskForm, exc: DomainError, *, default: str | None = None) -> None:
    """A refusal's messages beside the fields they name; the rest above the form."""
    general: list[str] = []
    for detail in exc.localized_details() or [{"field": "", "message": exc.localized()}]:
        name = detail["field"].split(".")[0].removesuffix("_id") if detail["field"] else ""
        target = form._fields.get(detail["field"]) or form._fields.get(name + "_id")
        target = (
            target or form._fields.get(name) or (form._fields.get(default) if default else None)
        )
        # A hidden field shows no message beside it: its refusal is said above the form.
        if (
            target is not None
            and target.name not in ("csrf_token", "version")
            and target.type != "HiddenField"
        ):
            target.errors = [*(target.errors or []), detail["message"]]
        else:
            general.append(detail["message"])
    form.form_errors = [*form.form_errors, *general]
    if exc.extra.get("confirm"):
        # A warning the person may confirm: the form offers the box to tick (and the records
        # the new one resembles).
        form.confirmation = {**exc.extra, "message": exc.localized()}


def _int_arg(name: str, default: int, allowed: Sequence[int] | None = None) -> int:
    raw = request.args.get(name, "")
    value = int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) < 7 else default
    if value < 1 or (allowed and value not in allowed):
        return default
    return value


def _page_url(**changes: Any) -> str:
    args = request.args.copy()
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = str(value)
    return url_with(request.path, args)


# --- uploads kept between the dry run and the confirmation --------------------------------------


def _upload_dir() -> Path:
    folder = Path(current_app.config["SETTINGS"].data_dir) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _keep_upload(data: bytes) -> str:
    folder = _upload_dir()
    for old in folder.iterdir():  # what was checked and never confirmed
        if old.stat().st_mtime < time.time() - UPLOAD_MAX_AGE:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(24)
    (folder / _upload_name(token)).write_bytes(data)
    return token


def _upload_name(token: str) -> str:
    from flask_login import current_user

    if not UPLOAD_TOKEN.fullmatch(token):
        raise Invalid(N_("The checked file is gone; upload it again."), field="file")
    return f"{current_user.id}-{token}"  # only its uploader can confirm it


def _load_upload(token: str) -> tables.Lines:
    path = _upload_dir() / _upload_name(token)
    if not path.exists():
        raise Invalid(N_("The checked file is gone; upload it again."), field="file")
    data = path.read_bytes()
    return tables.read_lines(data, "", None)


def _drop_upload(token: str | None) -> None:
    if token:
        (_upload_dir() / _upload_name(token)).unlink(missing_ok=True)


def register(app: Flask, *pages: Pages) -> None:
    for page in pages:
        app.register_blueprint(page.blueprint())


__all__ = [
    "Column",
    "ConfirmForm",
    "Link",
    "Pages",
    "RecordForm",
    "confirmed",
    "form_body",
    "register",
]
