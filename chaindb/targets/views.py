"""Pages of the targets: each year's target and actual value of a metric, and the progress."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Flask, current_app, g
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select

from chaindb.chains.models import Chain
from chaindb.db import db
from chaindb.districts.models import District
from chaindb.targets.api import resource
from chaindb.targets.forms import TargetFilters, TargetForm
from chaindb.targets.vocab import METRIC_LABELS, SCOPE_LABELS, UNIT_LABELS
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
    return f"{number}%" if unit == "percent" else number


def _scope_names() -> tuple[dict[int, str], dict[int, str]]:
    """Names of every chain and planning unit (small tables), read once per request."""
    if "target_scope_names" not in g:
        session = db.session
        g.target_scope_names = (
            dict(session.execute(select(Chain.id, Chain.name_zh)).all()),
            dict(session.execute(select(District.id, District.name_zh)).all()),
        )
    return g.target_scope_names


def scope_name(row: dict[str, Any]) -> str:
    chains, districts = _scope_names()
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


def register(app: Flask) -> None:
    register_pages(app, pages)
