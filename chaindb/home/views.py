"""The overview: what chaindb holds, where the projects stand, and what changed lately."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select, text

from chaindb.chains.models import Chain, ChainRole, role_held_on
from chaindb.changelog import Change
from chaindb.changes.api import ADMIN_ONLY_TABLES
from chaindb.changes.views import TABLE_LABELS, record_links, record_name
from chaindb.db import db
from chaindb.districts.models import District
from chaindb.enterprises.models import Enterprise
from chaindb.projects.models import Project, Stage
from chaindb.projects.vocab import STAGE_LABELS
from chaindb.reviews.models import ProjectApproved
from chaindb.supply.models import SupplyLink
from chaindb.targets.vocab import METRIC_LABELS
from chaindb.web import href, may

bp = Blueprint("home", __name__)

RECENT_CHANGES = 15


def _counted(figures: str) -> Any:
    """The projects the figures count: as approved (the default; project_approved), or as the
    units report them, reviewed or not (project)."""
    return Project if figures == "reported" else ProjectApproved


def _counts() -> dict[str, int]:
    """Every figure of the cards in one round trip: projects as approved, and as reported."""
    today = func.current_date()
    active = SupplyLink.status == "active"

    def count(expr: Any, *where: Any) -> Any:
        return select(expr).where(*where).scalar_subquery()

    row = db.session.execute(
        select(
            count(func.count(Enterprise.id)).label("enterprises"),
            count(
                func.count(ChainRole.enterprise_id.distinct()),
                ChainRole.role == "chain_master",
                role_held_on(today),
            ).label("chain_masters"),
            count(func.count(SupplyLink.supplier_id.distinct()), active).label("suppliers"),
            count(func.count(SupplyLink.id), active).label("supply_links"),
            count(func.count(ProjectApproved.id)).label("projects"),
            count(func.count(Project.id)).label("projects_reported"),
            count(func.count(Chain.id)).label("chains"),
            count(func.count(District.id)).label("districts"),
        )
    ).one()
    return dict(row._mapping)


def _cards(counts: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {"key": "enterprises", "figure": counts["enterprises"], "what": _l("enterprises"),
         "href": href("enterprises.list")},
        {"key": "chain_masters", "figure": counts["chain_masters"], "what": _l("chain masters (链主)"),
         "href": href("supply.masters")},
        {"key": "suppliers", "figure": counts["suppliers"], "what": _l("suppliers in active supply links"),
         "href": href("supply_links.list", status="active")},
        {"key": "supply_links", "figure": counts["supply_links"], "what": _l("active supply links"),
         "href": href("supply_links.list", status="active")},
        {"key": "projects", "figure": counts["projects"], "what": _l("approved projects"),
         "href": href("projects.list", review_status="approved"),
         "beside": counts["projects_reported"], "beside_what": _l("reported, reviewed or not")},
        {"key": "chains", "figure": counts["chains"], "what": _l("chains"), "href": href("chains.list")},
        {"key": "districts", "figure": counts["districts"], "what": _l("planning units"),
         "href": href("districts.list")},
    ]  # fmt: skip


def _by_stage(figures: str) -> list[dict[str, Any]]:
    model = _counted(figures)
    found = {
        stage: (n, amount)
        for stage, n, amount in db.session.execute(
            select(model.stage, func.count(), func.sum(model.agreed_investment_cny_100m))
            .group_by(model.stage)
        )
    }  # fmt: skip
    rows = [
        {
            "stage": stage.value,
            "label": STAGE_LABELS.get(stage.value, stage.value),
            "count": found.get(stage.value, (0, None))[0],
            "investment": found.get(stage.value, (0, None))[1],
            "href": href("projects.list", stage=stage.value),
        }
        for stage in Stage
    ]
    return _scaled(rows, "count")


def _by_chain(figures: str) -> list[dict[str, Any]]:
    """Agreed investment and projects per chain, dropped projects left out, largest first."""
    model = _counted(figures)
    investment = func.coalesce(func.sum(model.agreed_investment_cny_100m), 0)
    result = db.session.execute(
        select(Chain.id, Chain.name_zh, func.count(model.id), investment)
        .join(model, and_(model.chain_id == Chain.id, model.stage != "dropped"))
        .group_by(Chain.id, Chain.name_zh)
        .order_by(investment.desc(), func.count(model.id).desc(), Chain.sort_order, Chain.id)
    )
    rows = [
        {
            "chain_id": chain_id,
            "name": name,
            "count": n,
            "investment": amount,
            "href": href("projects.list", chain_id=chain_id),
        }
        for chain_id, name, n, amount in result
    ]
    return _scaled(rows, "investment")


def _scaled(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Each row's bar length: its share of the largest value, in percent."""
    top = max((row[key] or 0 for row in rows), default=0)
    for row in rows:
        row["bar"] = round(float(row[key] or 0) * 100 / float(top), 1) if top else 0
    return rows


def _goal() -> dict[str, Any] | None:
    """The city's goal with the nearest year still to come (else the latest), against its
    actual (report_target_progress: the year's own, or the latest one known)."""
    row = (
        db.session.execute(
            text(
                "SELECT year, metric, unit, target_value, actual_value, actual_year, "
                "actual_metric, progress, chains_reporting, reported_value, "
                "(SELECT count(*) FROM chain "
                "WHERE tier = 'iconic') AS iconic_chains FROM report_target_progress "
                "WHERE scope = 'city' "
                "ORDER BY year < extract(year FROM current_date) - 1, "
                "abs(year - extract(year FROM current_date)), metric LIMIT 1"
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    goal = dict(row)
    goal["metric_label"] = METRIC_LABELS.get(row["metric"], row["metric"])
    goal["actual_metric_label"] = METRIC_LABELS.get(row["actual_metric"], row["actual_metric"])
    goal["href"] = href("progress.progress_page", year=row["year"])
    goal["bar"] = min(100.0, round(float(row["progress"] or 0) * 100, 1))
    return goal


def _recent_changes() -> list[Change]:
    stmt = select(Change).order_by(Change.id.desc()).limit(RECENT_CHANGES)
    if not may("admin"):
        stmt = stmt.where(Change.table_name.not_in(ADMIN_ONLY_TABLES))
    return list(db.session.scalars(stmt))


@bp.get("/")
def index() -> str:
    changes = _recent_changes()
    figures = "reported" if request.args.get("figures") == "reported" else "approved"
    return render_template(
        "home.html",
        cards=_cards(_counts()),
        goal=_goal(),
        figures=figures,
        stages=_by_stage(figures),
        chains=_by_chain(figures),
        changes=changes,
        links=record_links(changes),
        table_labels=TABLE_LABELS,
        record_name=record_name,
    )


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    from chaindb.migrations import head_revision

    try:
        current = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as exc:  # the database is down or has no schema: not ready
        current_app.logger.warning("readyz: %s", exc)
        return jsonify(status="unavailable", reason="database not reachable or not migrated"), 503
    head = head_revision()
    if current != head:
        return jsonify(
            status="unavailable", reason=f"schema at {current}, code expects {head}"
        ), 503
    return jsonify(status="ok", revision=current)


def register(app) -> None:
    app.register_blueprint(bp)
