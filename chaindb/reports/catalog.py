"""The reports: one declaration per reporting view, and how their rows are read and written.

A declaration names the view, its title and description, the filters it takes, a label and a
format for every column, the default order and the chart. The pages (chaindb.reports.views) and
the `chaindb report` command (chaindb.reports.cli) read through the same functions here, so a
page, its export and the command always show the same rows.

Column names in the SQL come from these declarations only, never from a request; filter values
are always bound parameters.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import reduce
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, case, column, func, select, table
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import TableClause

from chaindb.chains.vocab import POSITION_LABELS, TIER_LABELS
from chaindb.districts.vocab import KIND_LABELS as DISTRICT_KIND_LABELS
from chaindb.enterprises.vocab import DESIGNATION_LEVEL_LABELS, DESIGNATION_TYPE_LABELS
from chaindb.projects.vocab import CAPITAL_ORIGIN_LABELS, SIZE_CLASS_LABELS, STAGE_LABELS
from chaindb.promotion.vocab import SOURCE_LABELS as LEAD_SOURCE_LABELS
from chaindb.reports import MATERIALIZED
from chaindb.targets.vocab import METRIC_LABELS, SCOPE_LABELS, UNIT_LABELS

# The rows a page shows; the export and the command give them all.
ROWS_SHOWN = 500
EXPORT_BATCH = 2000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# --- declarations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Col:
    """A column of a view: its label on the pages and how its values are shown."""

    name: str
    label: Any
    # A template filter: yi (亿元), wan (万元), percent (0..1), number (counts), day, month,
    # yes_no; None shows the value as it is (codes, names, years).
    format: str | None = None
    choices: Mapping[str, Any] | None = None  # a vocabulary's labels (a stage, a level ...)
    link: tuple[str, str] | None = None  # (endpoint, the column holding the id it takes)
    shown: bool = True  # ids are exported, not shown: the names beside them are
    enterprise: bool = False  # an enterprise id (or an array of them), shown by name
    empty: Any = None  # what an empty value means, shown in its place (e.g. "date unknown")
    # Behind the "all columns" switch on screen (exports, the command and paper keep them).
    more: bool = False
    # The view's value divided by this is what is shown: a sum in 万元 read in 亿元 (10_000).
    scale: int | None = None
    # The value is the id of a chain or a planning unit, shown by its name.
    names: str | None = None


def Text(name: str, label: Any, **kw: Any) -> Col:
    return Col(name, label, **kw)


def Count(name: str, label: Any, **kw: Any) -> Col:
    return Col(name, label, format="number", **kw)


def Yi(name: str, label: Any, **kw: Any) -> Col:
    return Col(name, label, format="yi", **kw)


def WanAsYi(name: str, label: Any, **kw: Any) -> Col:
    """A sum the view holds in 万元, read in 亿元 as a 局长 reads it (531,597 万元: 53.16 亿元)."""
    return Col(name, label, format="yi", scale=10_000, **kw)


def Region(name: str, label: Any, **kw: Any) -> Col:
    """An administrative division code (GB/T 2260), shown as its place name: 440300, 深圳市."""
    return Col(name, label, format="region", **kw)


def scaled(col: Col, value: Any) -> Any:
    """The value as shown: divided by the column's scale when it has one."""
    if col.scale and isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return Decimal(value) / col.scale
    return value


def Wan(name: str, label: Any, **kw: Any) -> Col:
    return Col(name, label, format="wan", **kw)


def Rate(name: str, label: Any, **kw: Any) -> Col:
    return Col(name, label, format="percent", **kw)


def Id(name: str, **kw: Any) -> Col:
    return Col(name, name, shown=False, **kw)


AMOUNT_FORMATS = ("yi", "wan")
NUMERIC_FORMATS = ("yi", "wan", "percent", "number")


@dataclass(frozen=True)
class Filter:
    """A filter of a report: the query-string key (and command option) and the column it tests."""

    name: str
    kind: str  # chain, district, year, master, tier or choice: how the value is asked for
    column: str
    label: Any
    op: Callable[[Any, Any], Any] = operator.eq  # column op value; tier: column <= value
    choices: Mapping[str, Any] | None = None


CHAIN = Filter("chain_id", "chain", "chain_id", _l("Chain"))
DISTRICT = Filter("district_id", "district", "district_id", _l("Planning unit"))
YEAR = Filter("year", "year", "year", _l("Year"))
MASTER = Filter("chain_master_id", "master", "chain_master_id", _l("Chain master"))
MAX_TIER = Filter("max_tier", "tier", "tier", _l("Tiers up to"), op=operator.le)
SCOPE = Filter("scope", "choice", "scope", _l("Scope"), choices=SCOPE_LABELS)
STAGE = Filter("stage", "choice", "stage", _l("Stage"), choices=STAGE_LABELS)

MAX_TIERS = 5  # the views stop at tier 5


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart of a report's filtered rows.

    kind "bar": one bar per value column, side by side; "stacked": the values stacked.
    Without `aggregate`, each row is a bar (the largest `limit` rows by the sum of the values,
    or the latest `limit` by category). With it, the values are summed per category over all
    filtered rows; "*" as a value counts rows; `split` makes one series per value of a column.
    """

    kind: str
    category: tuple[str, ...]
    values: tuple[str, ...]
    title: Any
    aggregate: bool = False
    split: str | None = None
    split_labels: Mapping[Any, Any] | None = None
    order: str = "value"  # "value": largest first; "category": in the category's order
    limit: int = 20
    # Extra conditions for the chart's rows, from the filter values (e.g. one scope only).
    where: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None
    # A bar's label from its row, when joining the category columns does not say it well.
    label: Callable[[Mapping[str, Any], Callable[[str], str]], str] | None = None


@dataclass(frozen=True)
class Cross:
    """A report shown as a cross table: one row per value of `row`, one column per value of
    `column` (each an id column and the name column beside it), the cell one of `measures`,
    with totals both ways."""

    row: tuple[str, str]
    column: tuple[str, str]
    measures: tuple[str, ...]


@dataclass(frozen=True)
class RowAction:
    """A POST form on each row of a report's table: `fields` names the form's fields and the
    row's columns they take their values from."""

    endpoint: str
    label: Any
    fields: tuple[tuple[str, str], ...]
    role: str = "editor"


@dataclass(frozen=True)
class Report:
    name: str  # the address: /reports/<name>, `chaindb report <name>`
    view: str
    title: Any
    description: Any
    columns: tuple[Col, ...]
    filters: tuple[Filter, ...] = ()
    order_by: tuple[str, ...] = ()  # column names; "-name" for descending
    chart: Chart | None = None
    note: Any = None
    cross: Cross | None = None
    # A button on each row that acts on it (POST): the endpoint, its label, and the form's
    # fields taken from the row's columns, e.g. a gap candidate that becomes a lead.
    row_action: RowAction | None = None
    by_name: dict[str, Col] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {c.name: c for c in self.columns})

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def shown(self) -> list[Col]:
        return [c for c in self.columns if c.shown]

    @property
    def has_more(self) -> bool:
        return any(c.more for c in self.shown)

    @property
    def materialized(self) -> bool:
        """Its view answers from its last refresh (chaindb.reports.refresh), not live."""
        return self.view in MATERIALIZED

    def filter(self, name: str) -> Filter | None:
        return next((f for f in self.filters if f.name == name), None)


def _target_label(row: Mapping[str, Any], show: Callable[[str], str]) -> str:
    where = row.get("chain_name_zh") or row.get("district_name_zh") or show("scope")
    return f"{row.get('year')} · {where} · {show('metric')}"


def _designation_scope(values: Mapping[str, Any]) -> Mapping[str, Any]:
    """The chart counts one scope: summing the city's, the chains' and the units' rows would
    count an enterprise up to three times."""
    if values.get("scope"):
        return {}
    if values.get("chain_id") is not None:
        return {"scope": "chain"}
    if values.get("district_id") is not None:
        return {"scope": "district"}
    return {"scope": "city"}


CHAIN_LINK = ("chains.detail", "chain_id")
LOCAL_LABELS = {True: _l("local"), False: _l("non-local")}

# Where a target's actual comes from (report_target_progress.actual_source).
ACTUAL_SOURCE_LABELS = {
    "entered": _l("entered"),
    "projects": _l("approved projects"),
    "chain_revenue": _l("chains' revenue"),
    "earlier": _l("an earlier year's"),
}


REPORTS: dict[str, Report] = {
    r.name: r
    for r in (
        Report(
            name="chain-overview",
            view="report_chain_overview",
            title=_l("Chain overview"),
            description=_l(
                "Per chain: its enterprises, chain masters, backbone enterprises and suppliers "
                "(local and non-local), its projects by stage, the agreed investment by stage "
                "and the funds arrived."
            ),
            columns=(
                Id("chain_id"),
                Id("chain_code"),
                Text("chain_name_zh", _l("Chain"), link=CHAIN_LINK),
                Text("chain_tier", _l("Tier"), choices=TIER_LABELS, more=True),
                Count("enterprises", _l("Enterprises")),
                Count("chain_masters", _l("Chain masters")),
                Count("backbones", _l("Backbone enterprises"), more=True),
                Count("suppliers", _l("Suppliers")),
                Count("local_suppliers", _l("Local suppliers")),
                Count("nonlocal_suppliers", _l("Non-local suppliers"), more=True),
                Count("active_supply_links", _l("Active supply links"), more=True),
                Count("projects", _l("Projects (not dropped)")),
                Count("projects_lead", _l("Leads"), more=True),
                Count("projects_negotiating", _l("Negotiating"), more=True),
                Count("projects_signed", _l("Signed"), more=True),
                Count("projects_under_construction", _l("Under construction"), more=True),
                Count("projects_in_production", _l("In production"), more=True),
                Count("projects_at_capacity", _l("At capacity"), more=True),
                Count("projects_dropped", _l("Dropped"), more=True),
                Yi("agreed_investment_cny_100m", _l("Agreed investment")),
                Yi("agreed_lead_cny_100m", _l("Agreed: leads"), more=True),
                Yi("agreed_negotiating_cny_100m", _l("Agreed: negotiating"), more=True),
                Yi("agreed_signed_cny_100m", _l("Agreed: signed"), more=True),
                Yi(
                    "agreed_under_construction_cny_100m",
                    _l("Agreed: under construction"),
                    more=True,
                ),
                Yi("agreed_in_production_cny_100m", _l("Agreed: in production"), more=True),
                Yi("agreed_at_capacity_cny_100m", _l("Agreed: at capacity"), more=True),
                Yi("funds_arrived_cny_100m", _l("Funds arrived")),
                Count("projects_reported", _l("Projects reported (reviewed or not)")),
                Yi("agreed_investment_reported_cny_100m", _l("Agreed: reported"), more=True),
            ),
            filters=(CHAIN,),
            order_by=("@chain",),
            chart=Chart(
                kind="stacked",
                category=("chain_name_zh",),
                values=(
                    "agreed_lead_cny_100m",
                    "agreed_negotiating_cny_100m",
                    "agreed_signed_cny_100m",
                    "agreed_under_construction_cny_100m",
                    "agreed_in_production_cny_100m",
                    "agreed_at_capacity_cny_100m",
                ),
                title=_l("Agreed investment by stage (亿元)"),
            ),
            note=_l("Amounts leave dropped projects out; the dropped column counts them."),
        ),
        Report(
            name="chain-master-suppliers",
            view="report_chain_master_suppliers",
            title=_l("Chain masters and their suppliers"),
            description=_l(
                "Per chain master (链主) and chain: its suppliers, local and non-local, the SMEs "
                "among them, and the local supply rate (本地配套率) by annual value and by number "
                "of active links."
            ),
            columns=(
                Id("chain_master_id"),
                Text(
                    "chain_master_name_zh",
                    _l("Chain master"),
                    link=("supply.master", "chain_master_id"),
                ),
                Id("chain_id"),
                Id("chain_code"),
                Text("chain_name_zh", _l("Chain"), link=CHAIN_LINK),
                Count("suppliers", _l("Suppliers")),
                Count("local_suppliers", _l("Local suppliers")),
                Count("nonlocal_suppliers", _l("Non-local suppliers"), more=True),
                Count("sme_suppliers", _l("SME suppliers"), more=True),
                Count("active_links", _l("Active links"), more=True),
                Count("local_active_links", _l("Local active links"), more=True),
                Count("links_with_value", _l("Links with a known value"), more=True),
                WanAsYi("value_cny_10k", _l("Annual value")),
                WanAsYi("local_value_cny_10k", _l("Local annual value"), more=True),
                Rate("local_supply_rate_by_value", _l("Local supply rate by value")),
                Rate("local_supply_rate_by_count", _l("Local supply rate by count")),
            ),
            filters=(CHAIN, MASTER),
            order_by=("@chain", "-suppliers", "chain_master_name_zh"),
            chart=Chart(
                kind="stacked",
                category=("chain_master_name_zh", "chain_name_zh"),
                values=("local_suppliers", "nonlocal_suppliers"),
                title=_l("Local and non-local suppliers per chain master"),
            ),
            note=_l(
                "Active links only. The rate by value counts the links whose annual value is "
                "known; it is empty when none is."
            ),
        ),
        Report(
            name="chain-gaps",
            view="report_chain_gaps",
            title=_l("Chain gaps"),
            description=_l(
                "The segments of each chain map with no active local enterprise (补链 targets), "
                "with the non-local suppliers that serve them elsewhere."
            ),
            columns=(
                Id("chain_id"),
                Id("chain_code"),
                Text("chain_name_zh", _l("Chain"), link=CHAIN_LINK),
                Id("segment_id"),
                Text("segment_code", _l("Segment code"), more=True),
                Text("segment_name_zh", _l("Segment"), link=("segments.detail", "segment_id")),
                Text("position", _l("Position"), choices=POSITION_LABELS),
                Id("parent_id"),
                Text("depth", _l("Depth"), more=True),
                Count("nonlocal_suppliers", _l("Non-local suppliers")),
                WanAsYi("nonlocal_value_cny_10k", _l("Their annual value")),
            ),
            filters=(CHAIN,),
            order_by=("@chain", "depth", "segment_code"),
            chart=Chart(
                kind="bar",
                category=("segment_name_zh", "chain_name_zh"),
                values=("nonlocal_suppliers",),
                title=_l("Gaps served by the most non-local suppliers"),
            ),
            note=_l(
                "Depth 0 is a top segment of the map; a parent is served when a segment below it is."
            ),
        ),
        Report(
            name="gap-candidates",
            view="report_gap_candidates",
            title=_l("Gap candidates (补链 recruitment list)"),
            description=_l(
                "For each chain gap, the non-local suppliers that serve it through active links: "
                "the enterprises to recruit."
            ),
            columns=(
                Col("chain_id", _l("Chain"), names="chain", link=CHAIN_LINK),
                Id("chain_code"),
                Id("segment_id"),
                Text("segment_name_zh", _l("Segment"), link=("segments.detail", "segment_id")),
                Id("supplier_id"),
                Text(
                    "supplier_name_zh", _l("Supplier"), link=("enterprises.detail", "supplier_id")
                ),
                Text("supplier_uscc", _l("Credit code"), more=True),
                Region("supplier_region_code", _l("Located in")),
                Count("chain_masters_supplied", _l("Chain masters supplied")),
                Text("products", _l("Products")),
                Wan("value_cny_10k", _l("Annual value")),
            ),
            filters=(CHAIN,),
            order_by=(
                "@chain",
                "segment_name_zh",
                "-chain_masters_supplied",
                "supplier_name_zh",
            ),
            row_action=RowAction(
                "leads.from_gap",
                _l("Pursue as a lead"),
                (("segment_id", "segment_id"), ("supplier_id", "supplier_id")),
            ),
        ),
        Report(
            name="supplier-tiers",
            view="report_supplier_tiers",
            title=_l("Supplier tiers"),
            description=_l(
                "For each chain master and chain, the enterprises upstream of it through active "
                "supply links: tier 1 supplies the chain master, tier 2 supplies a tier-1 "
                "supplier, and so on (up to tier 5; each enterprise at its lowest tier)."
            ),
            columns=(
                Id("chain_master_id"),
                Text(
                    "chain_master_name_zh",
                    _l("Chain master"),
                    link=("supply.master", "chain_master_id"),
                ),
                Col("chain_id", _l("Chain"), names="chain", link=CHAIN_LINK),
                Id("chain_code"),
                Text("tier", _l("Tier")),
                Id("supplier_id"),
                Text(
                    "supplier_name_zh", _l("Supplier"), link=("enterprises.detail", "supplier_id")
                ),
                Col("supplier_local", _l("Local"), format="yes_no"),
                Col("via_buyer_id", _l("Supplies"), enterprise=True),
                Col("path", _l("Path from the chain master"), enterprise=True),
            ),
            filters=(CHAIN, MASTER, MAX_TIER),
            order_by=("chain_master_name_zh", "@chain", "tier", "supplier_name_zh"),
            chart=Chart(
                kind="stacked",
                category=("tier",),
                values=("*",),
                aggregate=True,
                split="supplier_local",
                split_labels=LOCAL_LABELS,
                order="category",
                title=_l("Suppliers per tier (1 = supplies the chain master), local and non-local"),
            ),
        ),
        Report(
            name="district-chain-matrix",
            view="report_district_chain_matrix",
            title=_l("Planning units × chains"),
            description=_l(
                "Every planning unit against every chain: the unit's enterprises in the chain, "
                "its projects, their agreed investment and the funds arrived."
            ),
            columns=(
                Id("district_id"),
                Text("district_code", _l("Unit code"), more=True),
                Text(
                    "district_name_zh",
                    _l("Planning unit"),
                    link=("districts.detail", "district_id"),
                ),
                Text("district_kind", _l("Kind"), choices=DISTRICT_KIND_LABELS, more=True),
                Id("chain_id"),
                Id("chain_code"),
                Text("chain_name_zh", _l("Chain"), link=CHAIN_LINK),
                Count("enterprises", _l("Enterprises")),
                Count("projects", _l("Projects (not dropped)")),
                Yi("agreed_investment_cny_100m", _l("Agreed investment")),
                Yi("funds_arrived_cny_100m", _l("Funds arrived")),
                Count("projects_reported", _l("Projects reported (reviewed or not)")),
                Yi("agreed_investment_reported_cny_100m", _l("Agreed: reported"), more=True),
            ),
            filters=(CHAIN, DISTRICT),
            order_by=("district_code", "@chain"),
            cross=Cross(
                row=("district_id", "district_name_zh"),
                column=("chain_id", "chain_name_zh"),
                measures=(
                    "projects",
                    "agreed_investment_cny_100m",
                    "funds_arrived_cny_100m",
                    "enterprises",
                ),
            ),
            chart=Chart(
                kind="bar",
                category=("district_name_zh",),
                values=("agreed_investment_cny_100m", "funds_arrived_cny_100m"),
                aggregate=True,
                title=_l("Agreed investment and funds arrived per planning unit (亿元)"),
            ),
        ),
        Report(
            name="project-milestones",
            view="report_project_milestones",
            title=_l("Project milestones"),
            description=_l(
                "Each project with the stages it has reached and the day it reached each. A "
                "project that reached a later stage has passed the earlier milestones (签约, 开工, "
                "投产, 达产), with or without their dates: the dates nobody recorded say so."
            ),
            columns=(
                Id("project_id"),
                Text("project_name", _l("Project"), link=("projects.detail", "project_id")),
                Col("chain_id", _l("Chain"), names="chain", link=CHAIN_LINK),
                Col(
                    "district_id",
                    _l("Planning unit"),
                    names="district",
                    link=("districts.detail", "district_id"),
                ),
                Text("stage", _l("Stage"), choices=STAGE_LABELS),
                Id("rank"),
                Col("reached_on", _l("Reached on"), format="day", empty=_l("date unknown")),
                Yi("agreed_investment_cny_100m", _l("Agreed investment")),
            ),
            filters=(CHAIN, DISTRICT, STAGE),
            order_by=("project_name", "project_id", "rank", "stage"),
        ),
        Report(
            name="project-pipeline",
            view="report_project_pipeline",
            title=_l("Project pipeline"),
            description=_l(
                "Per month and stage: the projects that reached the stage that month and their "
                "agreed investment (current amounts). A project that passed a stage on a day "
                "nobody recorded counts under \u201cdate unknown\u201d, never on an invented day."
            ),
            columns=(
                Col("month", _l("Month"), format="month", empty=_l("date unknown")),
                Id("year"),
                Text("stage", _l("Stage"), choices=STAGE_LABELS),
                Count("projects", _l("Projects")),
                Yi("agreed_investment_cny_100m", _l("Agreed investment")),
                Count("projects_reported", _l("Projects reported (reviewed or not)")),
                Yi("agreed_investment_reported_cny_100m", _l("Agreed: reported"), more=True),
            ),
            filters=(YEAR, STAGE),
            order_by=("-month", "stage"),
            chart=Chart(
                kind="stacked",
                category=("month",),
                values=("projects",),
                aggregate=True,
                split="stage",
                order="category",
                limit=24,
                title=_l("Projects entering each stage, per month"),
            ),
        ),
        Report(
            name="project-rates",
            view="report_project_rates",
            title=_l("Start, funds arrival and fulfilment rates"),
            description=_l(
                "Per month of signing: the start rate (开工率), the funds arrival rate (资金到位率); "
                "per month of the agreed start: the fulfilment rate (履约率)."
            ),
            columns=(
                Col("month", _l("Month"), format="month", empty=_l("date unknown")),
                Id("year"),
                Count("signed_projects", _l("Signed projects")),
                Count("started_projects", _l("Started")),
                Count("started_date_unknown", _l("Of which start date unknown")),
                Rate("start_rate", _l("Start rate")),
                Yi("agreed_investment_cny_100m", _l("Agreed investment")),
                Yi("funds_arrived_cny_100m", _l("Funds arrived")),
                Rate("funds_arrival_rate", _l("Funds arrival rate")),
                Count("due_projects", _l("Due to start")),
                Count("fulfilled_projects", _l("Started on time")),
                Rate("fulfilment_rate", _l("Fulfilment rate")),
                Count("signed_projects_reported", _l("Signed: reported (reviewed or not)")),
                Count("started_projects_reported", _l("Started: reported"), more=True),
                Rate("start_rate_reported", _l("Start rate: reported"), more=True),
            ),
            filters=(YEAR,),
            order_by=("-month",),
            chart=Chart(
                kind="bar",
                category=("month",),
                values=("start_rate", "funds_arrival_rate", "fulfilment_rate"),
                order="category",
                limit=12,
                title=_l("Rates per month"),
            ),
            note=_l(
                "A project that reached a later stage (投产, 达产) counts as started even without "
                "a recorded start date; the column beside says how many such dates are missing. "
                "A rate is empty when there is nothing to divide by."
            ),
        ),
        Report(
            name="target-progress",
            view="report_target_progress",
            title=_l("Target progress"),
            description=_l(
                "Every target the data holds, for the city, a chain or a planning unit (the "
                "chains' 2030 targets too), against its actual: the year's own, or else the "
                "latest one known (the year and metric beside it say which)."
            ),
            columns=(
                Id("target_id"),
                Text("scope", _l("Scope"), choices=SCOPE_LABELS),
                Id("chain_id"),
                Id("chain_code"),
                Text("chain_name_zh", _l("Chain"), link=CHAIN_LINK),
                Id("district_id"),
                Id("district_code"),
                Text(
                    "district_name_zh",
                    _l("Planning unit"),
                    link=("districts.detail", "district_id"),
                ),
                Text("year", _l("Year")),
                Text("metric", _l("Metric"), choices=METRIC_LABELS),
                Text("unit", _l("Unit"), choices=UNIT_LABELS, more=True),
                Count("target_value", _l("Target")),
                Count("actual_value", _l("Actual")),
                Rate("progress", _l("Progress")),
                Count("remaining_value", _l("Remaining")),
                Text("actual_year", _l("Actual of year")),
                Text("actual_metric", _l("Actual of metric"), choices=METRIC_LABELS, more=True),
                Id("origin"),
                Id("unit_id"),
                Id("unit_code"),
                Text("unit_name_zh", _l("Office"), link=("units.detail", "unit_id")),
                Text("actual_source", _l("Measured by"), choices=ACTUAL_SOURCE_LABELS),
                Count("reported_value", _l("Reported, not yet approved included"), more=True),
                Count("chains_reporting", _l("Iconic chains reporting"), more=True),
            ),
            filters=(CHAIN, DISTRICT, YEAR, SCOPE),
            order_by=("-year", "scope", "@chain", "district_code", "metric"),
            chart=Chart(
                kind="bar",
                category=("chain_name_zh", "district_name_zh", "scope", "metric", "year"),
                values=("progress",),
                label=_target_label,
                title=_l("Progress against target"),
            ),
        ),
        Report(
            name="designations",
            view="report_designations",
            title=_l("Quality designations"),
            description=_l(
                "The quality ladder (innovative SME → specialised SME → little giant, and the "
                "others): enterprises holding a valid designation, for the city, per chain and "
                "per planning unit."
            ),
            columns=(
                Text("scope", _l("Scope"), choices=SCOPE_LABELS),
                Col("chain_id", _l("Chain"), names="chain", link=CHAIN_LINK),
                Id("chain_code"),
                Col(
                    "district_id",
                    _l("Planning unit"),
                    names="district",
                    link=("districts.detail", "district_id"),
                ),
                Id("district_code"),
                Text("designation_type", _l("Designation"), choices=DESIGNATION_TYPE_LABELS),
                Text("level", _l("Level"), choices=DESIGNATION_LEVEL_LABELS),
                Count("enterprises", _l("Enterprises")),
            ),
            filters=(CHAIN, DISTRICT, SCOPE),
            order_by=("scope", "@chain", "district_code", "designation_type", "level"),
            chart=Chart(
                kind="stacked",
                category=("designation_type",),
                values=("enterprises",),
                aggregate=True,
                split="level",
                order="category",
                where=_designation_scope,
                title=_l("Enterprises per designation and level"),
            ),
            note=_l(
                "A chain's row counts the enterprises with a live role in the chain; a unit's "
                "row the enterprises registered in it; the city's row all of them."
            ),
        ),
        Report(
            name="monthly-progress-all",
            view="report_monthly_progress",
            title=_l("Monthly progress, every month (招商引资工作进度)"),
            description=_l(
                "Per month of this year and the last, and per planning unit: the approved "
                "projects signed, started and producing in the month and in the year to date, "
                "with their agreed investment and funds arrived. The monthly report, with a "
                "threshold and the office workbook, is at Reports → Monthly progress."
            ),
            columns=(
                Col("month", _l("Month"), format="month"),
                Col(
                    "district_id",
                    _l("Planning unit"),
                    names="district",
                    link=("districts.detail", "district_id"),
                ),
                Id("district_code"),
                Id("district_name_zh"),
                Id("unit_id"),
                Text("unit_name_zh", _l("Office")),
                Count("signed_month", _l("Signed in the month")),
                Yi("signed_month_agreed_cny_100m", _l("Signed in the month: agreed")),
                Yi("signed_month_arrived_cny_100m", _l("Signed in the month: arrived"), more=True),
                Count("signed_ytd", _l("Signed in the year")),
                Yi("signed_ytd_agreed_cny_100m", _l("Signed in the year: agreed")),
                Yi("signed_ytd_arrived_cny_100m", _l("Signed in the year: arrived"), more=True),
                Count("started_month", _l("Started in the month")),
                Yi("started_month_agreed_cny_100m", _l("Started in the month: agreed"), more=True),
                Yi(
                    "started_month_arrived_cny_100m", _l("Started in the month: arrived"), more=True
                ),
                Count("started_ytd", _l("Started in the year")),
                Yi("started_ytd_agreed_cny_100m", _l("Started in the year: agreed"), more=True),
                Yi("started_ytd_arrived_cny_100m", _l("Started in the year: arrived"), more=True),
                Count("producing_month", _l("Producing since the month")),
                Yi(
                    "producing_month_agreed_cny_100m",
                    _l("Producing since the month: agreed"),
                    more=True,
                ),
                Yi(
                    "producing_month_arrived_cny_100m",
                    _l("Producing since the month: arrived"),
                    more=True,
                ),
                Count("producing_ytd", _l("Producing since the year began")),
                Yi("producing_ytd_agreed_cny_100m", _l("Producing in the year: agreed"), more=True),
                Yi(
                    "producing_ytd_arrived_cny_100m",
                    _l("Producing in the year: arrived"),
                    more=True,
                ),
            ),
            filters=(DISTRICT,),
            order_by=("-month", "district_code"),
        ),
        Report(
            name="project-classes",
            view="report_project_classes",
            title=_l("Projects by size class and capital origin (招大引强)"),
            description=_l(
                "Per chain and planning unit: the approved projects that are not dropped, by "
                "size class (亿元以上, 10亿, 50亿, 百亿级) and by where the capital comes from, "
                "with their agreed, first-phase and fixed-asset investment, funds arrived and "
                "foreign capital used."
            ),
            columns=(
                Id("chain_id"),
                Id("chain_code"),
                Text("chain_name_zh", _l("Chain"), link=CHAIN_LINK),
                Col(
                    "district_id",
                    _l("Planning unit"),
                    names="district",
                    link=("districts.detail", "district_id"),
                ),
                Id("district_code"),
                Id("district_name_zh"),
                Text(
                    "size_class",
                    _l("Size class"),
                    choices=SIZE_CLASS_LABELS,
                    empty=_l("below 1 亿元 or unknown"),
                ),
                Text(
                    "capital_origin",
                    _l("Capital origin"),
                    choices=CAPITAL_ORIGIN_LABELS,
                    empty=_l("not recorded"),
                ),
                Count("projects", _l("Projects")),
                Yi("agreed_investment_cny_100m", _l("Agreed investment")),
                Yi("first_phase_investment_cny_100m", _l("First phase"), more=True),
                Yi("fixed_asset_investment_cny_100m", _l("Fixed-asset investment"), more=True),
                Yi("funds_arrived_cny_100m", _l("Funds arrived")),
                Col(
                    "foreign_capital_usd_10k", _l("Foreign capital used (万美元)"), format="number"
                ),
                Count("projects_reported", _l("Projects reported (reviewed or not)")),
                Count("projects_fortune_global_500", _l("Of which 世界500强"), more=True),
                Count("projects_china_500", _l("Of which 中国500强"), more=True),
                Count("projects_private_500", _l("Of which 民营500强"), more=True),
                Count("projects_central_soe", _l("Of which 央企"), more=True),
                Count("projects_listed", _l("Of which 上市公司"), more=True),
            ),
            filters=(CHAIN, DISTRICT),
            order_by=("@chain", "district_code", "size_class", "capital_origin"),
            chart=Chart(
                kind="bar",
                category=("size_class",),
                values=("projects",),
                aggregate=True,
                title=_l("Approved projects per size class"),
            ),
        ),
        Report(
            name="project-multiplier",
            view="report_project_multiplier",
            title=_l("Multiplier of chain-master projects (带动配套)"),
            description=_l(
                "Each approved project that serves a chain master: the suppliers whose active "
                "links to that chain master began after the project was signed, the local ones "
                "apart, and their annual value."
            ),
            columns=(
                Id("project_id"),
                Text("project_name", _l("Project"), link=("projects.detail", "project_id")),
                Id("chain_id"),
                Id("chain_code"),
                Text("chain_name_zh", _l("Chain"), link=CHAIN_LINK),
                Col(
                    "district_id",
                    _l("Planning unit"),
                    names="district",
                    link=("districts.detail", "district_id"),
                ),
                Id("chain_master_id"),
                Text(
                    "chain_master_name_zh",
                    _l("Chain master"),
                    link=("supply.master", "chain_master_id"),
                ),
                Col("signed_on", _l("Signed on"), format="day"),
                Count("local_suppliers", _l("Local suppliers since")),
                Count("local_links", _l("Their links"), more=True),
                Col("local_value_cny_10k", _l("Their annual value"), format="wan"),
                Count("suppliers", _l("All suppliers since")),
                Col("value_cny_10k", _l("Annual value, all"), format="wan", more=True),
            ),
            filters=(CHAIN, DISTRICT),
            order_by=("-local_suppliers", "project_name"),
        ),
        Report(
            name="district-specialisation",
            view="report_district_specialisation",
            title=_l("Leading chains of the planning units (一区一主业)"),
            description=_l(
                "Per planning unit and chain: whether the unit leads on the chain today, its "
                "approved projects in it, the projects landing outside the unit's leading chains, "
                "and how many units lead on the same chain (overlap)."
            ),
            columns=(
                Col(
                    "district_id",
                    _l("Planning unit"),
                    names="district",
                    link=("districts.detail", "district_id"),
                ),
                Id("district_code"),
                Id("district_name_zh"),
                Id("chain_id"),
                Id("chain_code"),
                Text("chain_name_zh", _l("Chain"), link=CHAIN_LINK),
                Col("is_leading", _l("Leading chain"), format="yes_no"),
                Count("projects", _l("Projects")),
                Yi("agreed_investment_cny_100m", _l("Agreed investment")),
                Col("outside_leading_chains", _l("Outside its leading chains"), format="yes_no"),
                Count("units_leading_chain", _l("Units leading on the chain")),
                Count("enterprises", _l("Enterprises")),
                Count("active_supply_links", _l("Active supply links"), more=True),
                Count("units_with_projects", _l("Units with projects in it"), more=True),
            ),
            filters=(CHAIN, DISTRICT),
            order_by=("district_code", "@chain"),
        ),
        Report(
            name="lead-conversion",
            view="report_lead_conversion",
            title=_l("Leads converted into projects"),
            description=_l(
                "Per unit and source of the leads (招商线索): how many were opened, are still "
                "worked, were signed as projects or dropped; the share signed, the follow-ups "
                "overdue, and the approved projects signed from them. The row without a source "
                "is the unit's total."
            ),
            columns=(
                Id("unit_id"),
                Id("unit_code"),
                Text("unit_name_zh", _l("Unit"), link=("units.detail", "unit_id")),
                Text("source", _l("Source"), choices=LEAD_SOURCE_LABELS),
                Count("leads", _l("Investment leads")),
                Count("open_leads", _l("Being worked")),
                Count("signed", _l("Signed")),
                Count("dropped", _l("Dropped")),
                Rate("conversion_rate", _l("Share signed")),
                Rate("closed_conversion_rate", _l("Share of decided won"), more=True),
                Count("overdue_follow_ups", _l("Follow-ups overdue")),
                Count("projects_approved", _l("Projects approved"), more=True),
                Yi("agreed_investment_cny_100m", _l("Their agreed investment")),
            ),
            order_by=("unit_code", "source"),
        ),
    )
}


def find(name: str) -> Report | None:
    """A report by its name, its view's name or the name with underscores."""
    key = name.strip().lower().removeprefix("report_").replace("_", "-")
    return REPORTS.get(key)


# --- reading ----------------------------------------------------------------------------------


_relations: dict[str, TableClause] = {}


def relation(report: Report) -> TableClause:
    """The view as a table of its declared columns (one object per view: every clause of a
    query must name the same one)."""
    if report.view not in _relations:
        _relations[report.view] = table(report.view, *(column(c.name) for c in report.columns))
    return _relations[report.view]


def conditions(report: Report, values: Mapping[str, Any]) -> list[ColumnElement[bool]]:
    """The WHERE of the filters given a value (None: not filtered); values are bound."""
    view = relation(report)
    found = []
    for f in report.filters:
        value = values.get(f.name)
        if value is not None and value != "":
            found.append(f.op(view.c[f.column], value))
    return found


# The chains' official sequence (chain.sort_order: the order of the facts), for "@chain".
_CHAIN = table("chain", column("id"), column("sort_order"))


def _ordered(view: TableClause, report: Report, name: str) -> ColumnElement[Any]:
    descending = name.startswith("-")
    if name.lstrip("-") == "@chain":
        expr_: ColumnElement[Any] = (
            select(_CHAIN.c.sort_order).where(_CHAIN.c.id == view.c.chain_id).scalar_subquery()
        )
        return expr_.desc().nulls_last() if descending else expr_.asc().nulls_last()
    col = report.by_name[name.lstrip("-")]
    expr: ColumnElement[Any] = view.c[col.name]
    if col.choices:
        # A vocabulary sorts in its own order (lead before signed), not alphabetically.
        expr = case({value: n for n, value in enumerate(col.choices)}, value=expr, else_=99)
    return expr.desc().nulls_last() if descending else expr.asc().nulls_last()


def rows_query(report: Report, values: Mapping[str, Any]) -> Select:
    view = relation(report)
    return (
        select(*view.c)
        .where(*conditions(report, values))
        .order_by(*(_ordered(view, report, name) for name in report.order_by))
    )


def read(
    session: Session, report: Report, values: Mapping[str, Any], limit: int | None = ROWS_SHOWN
) -> list[dict[str, Any]]:
    stmt = rows_query(report, values)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [dict(row) for row in session.execute(stmt).mappings()]


def count(session: Session, report: Report, values: Mapping[str, Any]) -> int:
    view = relation(report)
    stmt = select(func.count()).select_from(view).where(*conditions(report, values))
    return session.execute(stmt).scalar_one()


def stream(session: Session, report: Report, values: Mapping[str, Any]) -> Iterator[tuple]:
    """Every filtered row, in batches through a server-side cursor: never all in memory."""
    stmt = rows_query(report, values).execution_options(yield_per=EXPORT_BATCH)
    for partition in session.execute(stmt).partitions():
        yield from (tuple(row) for row in partition)


@dataclass
class ChartData:
    """What a chart draws: categories (label values) and, per series, one value per category."""

    chart: Chart
    categories: list[dict[str, Any]]  # the category columns' values of each bar
    series: list[tuple[Any, list[Any]]]  # (series key: a value column or a split value, values)


def chart_data(session: Session, report: Report, values: Mapping[str, Any]) -> ChartData | None:
    chart = report.chart
    if chart is None:
        return None
    view = relation(report)
    where = conditions(report, values)
    for name, value in (chart.where(values) if chart.where else {}).items():
        where.append(view.c[name] == value)
    cats = [view.c[name] for name in chart.category]
    if not chart.aggregate:
        total = reduce(operator.add, [func.coalesce(view.c[v], 0) for v in chart.values])
        if chart.order == "value":
            order = [total.desc(), *cats]
        else:
            order = [_ordered(view, report, "-" + name) for name in chart.category]
        stmt = select(*cats, *(view.c[v] for v in chart.values)).where(*where)
        rows = session.execute(stmt.order_by(*order).limit(chart.limit)).mappings().all()
        if chart.order == "category":
            rows = list(reversed(rows))
        categories = [{name: row[name] for name in chart.category} for row in rows]
        series = [(v, [row[v] for row in rows]) for v in chart.values]
        return ChartData(chart, categories, series)

    measures = [
        (func.count() if v == "*" else func.sum(view.c[v])).label(f"v{n}")
        for n, v in enumerate(chart.values)
    ]
    keys = [*cats, view.c[chart.split]] if chart.split else cats
    stmt = select(*keys, *measures).where(*where).group_by(*keys)
    grouped = session.execute(stmt).all()
    width = len(chart.category)
    by_category: dict[tuple, dict[Any, Any]] = {}
    splits: list[Any] = []
    for row in grouped:
        key = tuple(row[:width])
        cell = by_category.setdefault(key, {})
        if chart.split:
            split = row[width]
            if split not in splits:
                splits.append(split)
            cell[split] = row[width + 1]
        else:
            for n, v in enumerate(chart.values):
                cell[v] = row[width + n]
    series_keys = _split_order(report, chart, splits) if chart.split else list(chart.values)

    def total(key: tuple) -> Decimal:
        return sum((Decimal(str(v or 0)) for v in by_category[key].values()), Decimal(0))

    if chart.order == "value":
        chosen = sorted(by_category, key=lambda k: (-total(k), _sort_key(k)))[: chart.limit]
    else:
        chosen = sorted(by_category, key=lambda k: _category_key(report, chart, k))
        chosen = chosen[-chart.limit :]
    categories = [dict(zip(chart.category, key, strict=True)) for key in chosen]
    series = [(s, [by_category[key].get(s) for key in chosen]) for s in series_keys]
    return ChartData(chart, categories, series)


def _sort_key(key: tuple) -> tuple:
    return tuple((v is None, str(v)) for v in key)


def _category_key(report: Report, chart: Chart, key: tuple) -> tuple:
    out = []
    for name, value in zip(chart.category, key, strict=True):
        choices = report.by_name[name].choices
        if choices:
            out.append((value is None, list(choices).index(value) if value in choices else 99, ""))
        else:
            out.append((value is None, 0, value if value is not None else ""))
    return tuple(out)


def _split_order(report: Report, chart: Chart, splits: list[Any]) -> list[Any]:
    assert chart.split is not None
    known = list(chart.split_labels or report.by_name[chart.split].choices or [])
    return sorted(
        splits, key=lambda s: (s not in known, known.index(s) if s in known else 0, str(s))
    )


def enterprise_ids(report: Report, rows: Iterable[Mapping[str, Any]]) -> set[int]:
    """The enterprise ids the rows show by name (a buyer, a path)."""
    found: set[int] = set()
    for col in report.columns:
        if not col.enterprise:
            continue
        for row in rows:
            value = row.get(col.name)
            if isinstance(value, (list, tuple)):
                found.update(v for v in value if v is not None)
            elif value is not None:
                found.add(value)
    return found


def enterprise_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    enterprise = table("enterprise", column("id"), column("name_zh"))
    stmt = select(enterprise.c.id, enterprise.c.name_zh).where(enterprise.c.id.in_(sorted(ids)))
    return {id_: name for id_, name in session.execute(stmt)}


def resolve_code(session: Session, kind: str, code: str) -> int | None:
    """A chain's or planning unit's id by its code (the command takes codes, the pages ids)."""
    ref = table({"chain": "chain", "district": "district"}[kind], column("id"), column("code"))
    return session.execute(select(ref.c.id).where(ref.c.code == code)).scalar_one_or_none()


# --- writing ----------------------------------------------------------------------------------

# The unit a column's format puts in its header.
UNITS = {"yi": "亿元", "wan": "万元"}


def raw_value(value: Any) -> Any:
    """A value of the raw layout: arrays written as PostgreSQL writes them ({1,2,3})."""
    if isinstance(value, (list, tuple)):
        return "{" + ",".join(str(v) for v in value) + "}"
    return value


def raw_rows(rows: Iterable[Sequence[Any]]) -> Iterator[list[Any]]:
    for row in rows:
        yield [raw_value(v) for v in row]


def office_header(report: Report) -> list[str]:
    """The shown columns' labels, with their unit: 协议投资（亿元）."""
    header = []
    for col in report.shown:
        label = str(col.label)
        unit = UNITS.get(col.format or "")
        header.append(f"{label}（{unit}）" if unit and unit not in label else label)
    return header


def office_formats(report: Report) -> list[str | None]:
    return [c.format if c.format in NUMERIC_FORMATS else None for c in report.shown]


def office_rows(
    session: Session,
    report: Report,
    rows: Iterable[Sequence[Any]],
    *,
    text_of: Callable[[Col, Any], str],
) -> Iterator[list[Any]]:
    """The shown columns as people read them: names for enterprise ids, labels for codes, yes/no
    in words; numbers stay numbers (formatted by the sheet). `text_of` writes a value as the
    page does."""
    positions = [report.names.index(c.name) for c in report.shown]
    batch: list[Sequence[Any]] = []

    def flush() -> Iterator[list[Any]]:
        names = enterprise_names(
            session,
            enterprise_ids(report, [dict(zip(report.names, r, strict=True)) for r in batch]),
        )
        for row in batch:
            out: list[Any] = []
            for col, position in zip(report.shown, positions, strict=True):
                value = row[position]
                if value is None:
                    out.append(None)
                elif col.enterprise:
                    ids = value if isinstance(value, (list, tuple)) else [value]
                    out.append(" → ".join(names.get(i, f"#{i}") for i in ids))
                elif col.names or col.format == "region":
                    out.append(text_of(col, value))
                elif col.format in NUMERIC_FORMATS or isinstance(value, (date, datetime)):
                    out.append(scaled(col, value))
                else:
                    out.append(text_of(col, value))
            yield out

    for row in rows:
        batch.append(row)
        if len(batch) >= EXPORT_BATCH:
            yield from flush()
            batch = []
    if batch:
        yield from flush()
