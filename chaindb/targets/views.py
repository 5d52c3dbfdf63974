"""Pages of the targets: each year's target and actual value of a metric, and the progress."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, Flask, current_app, g, render_template, request
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select, text

from chaindb.access import acting_scope
from chaindb.chains.models import Chain
from chaindb.db import db, today
from chaindb.districts.models import District
from chaindb.reports.catalog import ACTUAL_SOURCE_LABELS
from chaindb.targets.api import chain_revenues, resource
from chaindb.targets.forms import (
    ChainRevenueFilters,
    ChainRevenueForm,
    TargetFilters,
    TargetForm,
)
from chaindb.targets.vocab import METRIC_LABELS, SCOPE_LABELS, UNIT_LABELS
from chaindb.units.models import Unit as Office
from chaindb.web import FILTERS
from chaindb.web.pages import Column, Link, Pages
from chaindb.web.pages import register as register_pages

VALUES = ("target_value", "actual_value")


def progress(row: dict[str, Any]) -> Decimal | None:
    """Actual ÷ target, when both are known and the target is not zero."""
    target, actual = row.get("target_value"), row.get("actual_value")
    if target is None or actual is None or target == 0:
        return None
    return Decimal(actual) / Decimal(target)


def show_value(value: Any, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "cny_100m":
        return FILTERS["yi"](value)
    number = FILTERS["number"](Decimal(value).normalize())
    if unit == "usd_10k":
        return f"{number} {UNIT_LABELS['usd_10k']}"
    return f"{number}%" if unit == "percent" else number


def _scope_names() -> tuple[dict[int, str], dict[int, str], dict[int, str]]:
    """Names of every chain, planning unit and office (small tables), read once per request."""
    if "target_scope_names" not in g:
        session = db.session
        g.target_scope_names = (
            dict(session.execute(select(Chain.id, Chain.name_zh)).all()),
            dict(session.execute(select(District.id, District.name_zh)).all()),
            dict(session.execute(select(Office.id, Office.name_zh)).all()),
        )
    return g.target_scope_names


def scope_name(row: dict[str, Any]) -> str:
    chains, districts, offices = _scope_names()
    if row.get("unit_id") is not None:
        office = offices.get(row["unit_id"], f"#{row['unit_id']}")
        if row.get("chain_id") is not None:
            return f"{office} · {chains.get(row['chain_id'], '#' + str(row['chain_id']))}"
        return office
    if row.get("chain_id") is not None:
        return chains.get(row["chain_id"], f"#{row['chain_id']}")
    if row.get("district_id") is not None:
        return districts.get(row["district_id"], f"#{row['district_id']}")
    return str(_l("the city"))


def label(row: dict[str, Any]) -> str:
    """e.g. "2025 · 汽车 · industrial revenue"."""
    metric = METRIC_LABELS.get(row["metric"], row["metric"])
    return f"{row['year']} · {scope_name(row)} · {metric}"


class TargetPages(Pages):
    """Values in their row's unit; progress as a share of the target, with a bar."""

    def cell(self, row: dict[str, Any], column: Column, labels: dict[str, dict]) -> Markup:
        if column.name in VALUES:
            return escape(show_value(row.get(column.name), row.get("unit") or ""))
        if column.name == "progress":
            share = progress(row)
            if share is None:
                return Markup("<span class='muted'>—</span>")
            shown = FILTERS["percent"](share)
            bar = min(max(share, Decimal(0)), Decimal(1))
            return Markup('<progress max="1" value="{}">{}</progress> {}').format(bar, shown, shown)
        value = row.get(column.name)
        link = column.link
        if (
            link is not None
            and value is not None
            and link.endpoint not in current_app.view_functions
        ):
            return escape(labels.get(column.name, {}).get(value, f"#{value}"))  # no page to link
        return super().cell(row, column, labels)


COLUMNS = [
    Column("name", _l("Target"), sortable=False),
    Column("year", _l("Year")),
    Column("scope", _l("For"), choices=SCOPE_LABELS),
    Column("chain_id", _l("Chain"), link=Link(Chain, "chains.detail")),
    Column("district_id", _l("Planning unit"), link=Link(District, "districts.detail")),
    Column("unit_id", _l("Office"), link=Link(Office, "units.detail")),
    Column("metric", _l("Metric"), choices=METRIC_LABELS),
    Column("target_value", _l("Target value"), format="number"),
    Column("actual_value", _l("Actual value"), format="number"),
    Column("progress", _l("Progress"), sortable=False),
]

pages = TargetPages(
    resource=resource,
    title=_l("Targets"),
    singular=_l("target"),
    help=_l(
        "Each year's target and actual value of a metric, for the city, a chain or a planning "
        "unit; progress is the actual value as a share of the target."
    ),
    columns=COLUMNS,
    detail_columns=[
        Column("year", _l("Year")),
        Column("scope", _l("For"), choices=SCOPE_LABELS),
        Column("chain_id", _l("Chain"), link=Link(Chain, "chains.detail")),
        Column("district_id", _l("Planning unit"), link=Link(District, "districts.detail")),
        Column("unit_id", _l("Office"), link=Link(Office, "units.detail")),
        Column("metric", _l("Metric"), choices=METRIC_LABELS),
        Column("unit", _l("Unit"), choices=UNIT_LABELS),
        Column("target_value", _l("Target value")),
        Column("actual_value", _l("Actual value")),
        Column("progress", _l("Progress")),
        Column("source", _l("Source")),
        Column("notes", _l("Notes")),
    ],
    label=label,
    form=TargetForm,
    filters=TargetFilters,
)


chain_revenue_pages = Pages(
    resource=chain_revenues,
    title=_l("Chain revenues"),
    singular=_l("chain revenue"),
    help=_l(
        "Each chain's revenue per year (产业链营收), entered by its chain office: it measures the "
        "chain's revenue targets and, summed over the iconic chains, the city's goal for the 13 "
        "chains (1.1万亿 in 2025)."
    ),
    columns=[
        Column("chain_id", _l("Chain"), link=Link(Chain, "chains.detail")),
        Column("year", _l("Year")),
        Column("revenue_cny_100m", _l("Revenue"), format="yi"),
        Column("source", _l("Source")),
    ],
    detail_columns=[
        Column("chain_id", _l("Chain"), link=Link(Chain, "chains.detail")),
        Column("year", _l("Year")),
        Column("revenue_cny_100m", _l("Revenue"), format="yi"),
        Column("source", _l("Source")),
        Column("notes", _l("Notes")),
    ],
    label=lambda row: f"{row['year']} · {_scope_names()[0].get(row['chain_id'], '')}",
    form=ChainRevenueForm,
    filters=ChainRevenueFilters,
)


def register(app: Flask) -> None:
    register_pages(app, pages, chain_revenue_pages)
    app.register_blueprint(progress_bp)


# --- progress ------------------------------------------------------------------------------------

progress_bp = Blueprint("progress", __name__)

# The sections of the progress page: the scope, its heading.
SECTIONS = (
    ("unit", _l("By office")),
    ("chain", _l("By chain")),
    ("district", _l("By planning unit")),
    ("city", _l("The city")),
)


def _year_arg(default: int) -> int:
    raw = request.args.get("year", "")
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else default


@progress_bp.get("/progress")
def progress_page():
    """Each target of a year against its actual: by office, by chain, by planning unit and for
    the city (report_target_progress: the approved projects, the chains' revenue)."""
    session = db.session
    this_year = today(session).year
    year = _year_arg(this_year)
    rows = [
        dict(r)
        for r in session.execute(
            text(
                "SELECT scope, chain_id, chain_name_zh, district_id, district_name_zh, unit_id, "
                "unit_name_zh, metric, unit, target_value, actual_value, progress, "
                "remaining_value, actual_year, actual_metric, actual_source, reported_value, "
                "chains_reporting, target_id FROM report_target_progress WHERE year = :y "
                "ORDER BY scope, unit_name_zh NULLS LAST, chain_id NULLS FIRST, district_id, "
                "metric"
            ),
            {"y": year},
        ).mappings()
    ]
    years = list(
        session.scalars(
            text(
                "SELECT DISTINCT year FROM report_target_progress UNION SELECT :y ORDER BY 1 DESC"
            ),
            {"y": this_year},
        )
    )
    scope = acting_scope()
    mine = scope.unit_id if scope is not None else None
    for row in rows:
        row["label"] = scope_name(row)
        row["bar"] = min(max(float(row["progress"] or 0), 0.0), 1.0)
    sections = [
        (name, heading, [r for r in rows if r["scope"] == name]) for name, heading in SECTIONS
    ]
    # The acting office's own targets first.
    units = sections[0][2]
    units.sort(key=lambda r: (r["unit_id"] != mine, r["unit_name_zh"] or "", r["label"]))
    return render_template(
        "targets/progress.html",
        year=year,
        years=years,
        sections=sections,
        mine=mine,
        show_value=show_value,
        metric_labels=METRIC_LABELS,
        source_labels=ACTUAL_SOURCE_LABELS,
    )
