"""The reports over the API: GET /api/v1/reports and GET /api/v1/reports/{name}.

The same declarations and queries as the report pages and `chaindb report`
(chaindb.reports.catalog): a report's rows are the page's rows, all of them, paged by
limit/offset, each value as the view holds it (amounts as decimal strings, as everywhere in the
API; rates as fractions 0..1). A materialized report says when its figures are from (as_of) and
whether a refresher keeps them current (kept_current).
"""

from __future__ import annotations

from typing import Any

from flask import Response, request, url_for
from flask_openapi3 import OpenAPI, Tag
from pydantic import BaseModel, Field, TypeAdapter
from werkzeug.datastructures import MultiDict

from chaindb.api.blueprint import APIBlueprint
from chaindb.api.query import DEFAULT_LIMIT, MAX_LIMIT
from chaindb.api.routes import ERRORS
from chaindb.api.schemas import CachedSchema
from chaindb.db import db, is_id
from chaindb.errors import Invalid, NotFound
from chaindb.reports import catalog, listener
from chaindb.reports.catalog import Report
from chaindb.reports.refresh import last_refresh, replica_lag

PAGING = ("limit", "offset")


class ReportColumn(BaseModel):
    name: str
    label: str
    format: str | None = Field(
        description="yi (亿元), wan (万元), percent (a fraction 0..1), number, day, month, "
        "yes_no; null: as it is"
    )


class ReportFilter(BaseModel):
    name: str = Field(description="The query parameter")
    kind: str = Field(description="chain, district, master (ids), year, tier or choice")
    choices: list[str] | None = None


class ReportInfo(BaseModel):
    name: str
    view: str = Field(description="The reporting view an analyst reads with SQL")
    title: str
    description: str
    materialized: bool = Field(description="Answers from its last refresh (see as_of)")
    columns: list[ReportColumn]
    filters: list[ReportFilter]


class ReportList(BaseModel):
    results: list[ReportInfo]


class ReportRows(BaseModel):
    report: str
    as_of: str | None = Field(
        description="When the figures were computed (materialized reports); null: as read"
    )
    kept_current: bool | None = Field(
        description="Whether a refresher keeps a materialized report current as writes commit"
    )
    replica_lag_seconds: float | None = Field(
        None,
        description="Read from a standby (DATABASE_REPLICA_URL): how many seconds behind its "
        "leader it was; null: read from the leader",
    )
    count: int
    next: str | None
    results: list[dict[str, Any]]


class ReportPath(CachedSchema):
    name: str = Field(description="The report's name, e.g. chain-overview")


_rows = TypeAdapter(ReportRows)
_list = TypeAdapter(ReportList)


def _info(report: Report) -> dict[str, Any]:
    return {
        "name": report.name,
        "view": report.view,
        "title": str(report.title),
        "description": str(report.description),
        "materialized": report.materialized,
        "columns": [
            {"name": c.name, "label": str(c.label), "format": c.format} for c in report.columns
        ],
        "filters": [
            {
                "name": f.name,
                "kind": f.kind,
                "choices": list(f.choices) if f.choices else None,
            }
            for f in report.filters
        ],
    }


def _whole(args: MultiDict, name: str, low: int, high: int | None = None) -> int | None:
    raw = args.get(name)
    if raw is None or raw == "":
        return None
    if not is_id(raw) or int(raw) < low or (high is not None and int(raw) > high):
        if high is None:
            raise Invalid(
                "%(name)s must be a whole number of at least %(low)s",
                params={"name": name, "low": low},
                field=name,
            )
        raise Invalid(
            "%(name)s must be a whole number between %(low)s and %(high)s",
            params={"name": name, "low": low, "high": high},
            field=name,
        )
    return int(raw)


def filter_values(report: Report, args: MultiDict) -> dict[str, Any]:
    """The query string as the catalog's filter values; anything else is refused by name."""
    for name in args:
        if name not in PAGING and report.filter(name) is None:
            takes = ", ".join(f.name for f in report.filters) or "no filters"
            raise Invalid(
                "%(report)s has no filter %(name)s (it takes %(takes)s)",
                params={"report": report.name, "name": name, "takes": takes},
                field=name,
            )
    values: dict[str, Any] = {}
    for f in report.filters:
        if args.get(f.name) in (None, ""):
            continue
        if f.kind == "choice":
            assert f.choices is not None
            if args[f.name] not in f.choices:
                raise Invalid(
                    "%(name)s must be one of %(choices)s",
                    params={"name": f.name, "choices": ", ".join(f.choices)},
                    field=f.name,
                )
            values[f.name] = args[f.name]
        elif f.kind == "year":
            values[f.name] = _whole(args, f.name, 1900, 2100)
        elif f.kind == "tier":
            values[f.name] = _whole(args, f.name, 1, catalog.MAX_TIERS)
        else:
            values[f.name] = _whole(args, f.name, 1)
    return values


def report_rows(name: str, args: MultiDict) -> dict[str, Any]:
    report = catalog.find(name)
    if report is None:
        raise NotFound("no report %(key)r", params={"key": name})
    values = filter_values(report, args)
    limit = _whole(args, "limit", 1, MAX_LIMIT) or DEFAULT_LIMIT
    offset = _whole(args, "offset", 0) or 0
    session = db.report_session
    stmt = catalog.rows_query(report, values).limit(limit + 1).offset(offset)
    rows = [dict(row) for row in session.execute(stmt).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    total = catalog.count(session, report, values)
    as_of = kept = None
    if report.materialized:
        found = last_refresh(session, report.view)
        as_of = found[0].isoformat() if found else None
        kept = listener.active(db.session)  # the refresher's lock is on the leader
    next_url = None
    if more:
        params = MultiDict(args)
        params.setlist("offset", [str(offset + limit)])
        next_url = url_for(
            "report_api.read", _external=True, name=report.name, **params.to_dict(flat=False)
        )
    return {
        "report": report.name,
        "as_of": as_of,
        "kept_current": kept,
        "replica_lag_seconds": replica_lag(session) if db.replicated else None,
        "count": total,
        "next": next_url,
        "results": rows,
    }


def blueprint() -> APIBlueprint:
    bp = APIBlueprint(
        "report_api",
        __name__,
        url_prefix="/api/v1/reports",
        abp_tags=[
            Tag(
                name="reports",
                description="The reports of the report pages: chain overview, gaps, pipeline, "
                "rates, target progress ...",
            )
        ],
        abp_security=[{"bearer": []}],
        abp_responses=ERRORS,
    )

    def list_():
        reports = [_info(report) for report in catalog.REPORTS.values()]
        return Response(
            _list.dump_json(_list.validate_python({"results": reports})),
            mimetype="application/json",
        )

    def read_(path: ReportPath):
        page = report_rows(path.name, request.args)
        return Response(_rows.dump_json(_rows.validate_python(page)), mimetype="application/json")

    bp.get(
        "",
        summary="The reports, with their columns and filters",
        responses={200: ReportList},
        operation_id="list_report",
    )(list_)
    bp.get(
        "/<name>",
        summary="A report's rows (filters as query parameters; limit, offset)",
        responses={200: ReportRows},
        operation_id="read_report",
        endpoint="read",
    )(read_)
    return bp


def register(app: OpenAPI) -> None:
    app.register_api(blueprint())
