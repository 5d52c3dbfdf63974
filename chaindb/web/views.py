"""The pages' blueprints, and the suggestions the enterprise pickers ask for as one types."""

from __future__ import annotations

from importlib import import_module

from flask import Blueprint, Flask, jsonify, request
from sqlalchemy import case, func, select

from chaindb.db import db
from chaindb.districts.models import District
from chaindb.enterprises.models import Enterprise
from chaindb.enterprises.search import search_clause

bp = Blueprint("pick", __name__, url_prefix="/pick")

PICK_LIMIT = 12
# Domains with pages, in the order of the navigation.
DOMAINS = ("home", "auth", "chains", "enterprises", "supply", "projects", "targets", "districts",
           "changes", "reports")  # fmt: skip


@bp.get("/enterprises")
def enterprises():
    """Up to 12 enterprises matching ?q= (name, pinyin initials, credit-code prefix)."""
    q = request.args.get("q", "").strip()[:100]
    if not q:
        return jsonify(results=[])
    rows = db.session.execute(
        select(Enterprise.id, Enterprise.name_zh, Enterprise.uscc, District.name_zh)
        .outerjoin(District, District.id == Enterprise.district_id)
        .where(search_clause(q))
        .order_by(
            case((Enterprise.name_zh.startswith(q, autoescape=True), 0), else_=1),
            func.length(Enterprise.name_zh),
            Enterprise.id,
        )
        .limit(PICK_LIMIT)
    )
    return jsonify(
        results=[
            {
                "id": id_,
                "value": f"{name} #{id_}",
                "name": name,
                "uscc": uscc,
                "district": district,
            }
            for id_, name, uscc, district in rows
        ]
    )


def register_pages(app: Flask) -> None:
    app.register_blueprint(bp)
    for domain in DOMAINS:
        import_module(f"chaindb.{domain}.views").register(app)
