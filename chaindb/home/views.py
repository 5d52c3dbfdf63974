from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, text

from chaindb.db import db
from chaindb.models import TABLES

bp = Blueprint("home", __name__)

TABLE_LABELS = {
    "district": _l("Planning units: districts, counties and functional zones"),
    "chain": _l("Industrial chains"),
    "chain_segment": _l("Segments of the chain maps"),
    "enterprise": _l("Enterprises"),
    "designation": _l("Quality designations of enterprises"),
    "chain_role": _l("Roles of enterprises in chains (chain masters, backbones, suppliers)"),
    "supply_link": _l("Supply links from suppliers to chain masters"),
    "project": _l("Investment projects"),
    "project_stage_event": _l("Stage history of projects"),
    "target": _l("Targets and actual values"),
}


@bp.get("/")
def index() -> str:
    # One round trip for every table's count.
    row = db.session.execute(
        select(
            *(
                select(func.count()).select_from(model).scalar_subquery().label(model.__tablename__)
                for model in TABLES
            )
        )
    ).one()
    counts = [(model.__tablename__, getattr(row, model.__tablename__)) for model in TABLES]
    return render_template("home.html", counts=counts, table_labels=TABLE_LABELS)


def register(app) -> None:
    app.register_blueprint(bp)


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
