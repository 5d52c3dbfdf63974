"""Pages of the investment projects: the list, a project's page with its stage history and the
stage move, 新增项目 (the add form), edit, delete, import and export.

Writes go through the API's resource (`projects.create_one`, `update_one`) and the stage move
through the same service as POST /api/v1/projects/{id}/stage, so a page obeys exactly the rules
of the API and the stage history records every move.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask import (
    Blueprint,
    Flask,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import case, func, select, text
from sqlalchemy.orm import Session

from chaindb.chains.models import Chain, ChainSegment
from chaindb.db import db, is_id
from chaindb.districts.models import District
from chaindb.enterprises.models import Enterprise
from chaindb.enterprises.views import investor_attributes_of
from chaindb.errors import DomainError
from chaindb.projects.api import projects
from chaindb.projects.forms import (
    ADD_GROUPS,
    ProjectAddForm,
    ProjectEditForm,
    ProjectFilters,
    StageForm,
)
from chaindb.projects.models import Project, ProjectKind, Stage
from chaindb.projects.service import move_stage, stage_events
from chaindb.projects.vocab import (
    CAPITAL_ORIGIN_LABELS,
    CHANNEL_LABELS,
    KIND_LABELS,
    SIZE_CLASS_LABELS,
    STAGE_LABELS,
)
from chaindb.promotion import service as promotion
from chaindb.promotion.views import negotiation_panel
from chaindb.reports import multiplier
from chaindb.reviews.views import panel as review_panel
from chaindb.reviews.views import project_routes as review_routes
from chaindb.reviews.vocab import STATUS_LABELS
from chaindb.web import url_with
from chaindb.web.pages import Column, Link, Pages, show_errors
from chaindb.web.pages import register as register_pages

PICK_LIMIT = 12


def investor_body(body: dict[str, Any]) -> dict[str, Any]:
    """The investor field holds an enterprise's id, or the name of an investor not in chaindb."""
    investor = body.get("investor_id")
    if isinstance(investor, str):
        body["investor_id"], body["investor_name"] = None, investor
    else:
        body["investor_name"] = None
    return body


class ProjectPages(Pages):
    """The generic pages, with the investor written as id or name and 新增项目 as the new page."""

    def write(self, session: Session, form: FlaskForm, action: Callable[[dict], dict]) -> dict:
        return super().write(session, form, lambda body: action(investor_body(body)))

    def new_view(self):
        return redirect(url_with(url_for("projects.add"), request.args), code=307)


def _outside_leading_chains(session: Session, row: dict[str, Any]) -> list[str] | None:
    """一区一主业: the leading chains of the project's planning unit today when the project's
    chain is not one of them (flagged, not refused); None when it is, or the unit has none."""
    outside = session.scalar(
        text(
            "SELECT has_leading_chains(:d, current_date) AND NOT leads_chain(:d, :c, current_date)"
        ),
        {"d": row["district_id"], "c": row["chain_id"]},
    )
    if not outside:
        return None
    return list(
        session.scalars(
            text(
                "SELECT c.name_zh FROM chain AS c WHERE leads_chain(:d, c.id, current_date) "
                "AND c.parent_id IS NULL ORDER BY c.sort_order, c.id"
            ),
            {"d": row["district_id"]},
        )
    )


def _related(session: Session, row: dict[str, Any]) -> dict[str, Any]:
    follow_ons = session.execute(
        select(
            Project.id,
            Project.name,
            Project.kind,
            Project.stage,
            Project.agreed_investment_cny_100m,
        )
        .where(Project.parent_id == row["id"])
        .order_by(Project.id)
    ).all()
    agreed, arrived = row["agreed_investment_cny_100m"], row["funds_arrived_cny_100m"]
    form = g.get("stage_form") or StageForm(formdata=None)
    return {
        **review_panel(session, row),
        **negotiation_panel(session, project_id=row["id"]),
        "investor_attributes": investor_attributes_of(session, row["investor_id"]),
        "outside_leading": _outside_leading_chains(session, row),
        "multiplier": (
            multiplier.of_project(session, row["id"]) if row["chain_master_id"] else None
        ),
        "events": stage_events(session=session, project_id=row["id"]),
        "stage_form": form.for_stage(row["stage"]),
        "follow_ons": follow_ons,
        "arrival_rate": arrived / agreed if agreed and arrived is not None else None,
        "stage_labels": STAGE_LABELS,
        "kind_labels": KIND_LABELS,
    }


COLUMNS = [
    Column("name", _l("Project")),
    Column("chain_id", _l("Chain"), link=Link(Chain, "chains.detail")),
    Column("district_id", _l("Planning unit"), link=Link(District, "districts.detail")),
    Column("stage", _l("Stage"), choices=STAGE_LABELS),
    Column("review_status", _l("Review"), choices=STATUS_LABELS),
    Column("agreed_investment_cny_100m", _l("Agreed investment"), format="yi"),
    Column("signed_on", _l("Signed on"), format="day"),
]

DETAIL_COLUMNS = [
    Column("name", _l("Project")),
    Column("stage", _l("Stage"), choices=STAGE_LABELS),
    Column("review_status", _l("Review"), choices=STATUS_LABELS),
    Column("kind", _l("Kind"), choices=KIND_LABELS),
    Column("parent_id", _l("Original project"), link=Link(Project, "projects.detail", "name")),
    Column("chain_id", _l("Chain"), link=Link(Chain, "chains.detail")),
    Column("segment_id", _l("Segment"), link=Link(ChainSegment, "segments.detail")),
    Column("district_id", _l("Planning unit"), link=Link(District, "districts.detail")),
    Column("investor_id", _l("Investor"), link=Link(Enterprise, "enterprises.detail")),
    Column("investor_name", _l("Investor (not in chaindb)")),
    Column("chain_master_id", _l("Chain master served"), link=Link(Enterprise, "supply.master")),
    Column("channel", _l("Attraction channel"), choices=CHANNEL_LABELS),
    Column("is_key", _l("City key project"), format="yes_no"),
    Column("agreed_investment_cny_100m", _l("Agreed investment"), format="yi"),
    Column("funds_arrived_cny_100m", _l("Funds arrived"), format="yi"),
    Column("first_phase_investment_cny_100m", format="yi"),
    Column("fixed_asset_investment_cny_100m", format="yi"),
    Column("size_class", choices=SIZE_CLASS_LABELS),
    Column("capital_origin", choices=CAPITAL_ORIGIN_LABELS),
    Column("foreign_capital_usd_10k", format="number"),
    Column("signed_on", _l("Signed on"), format="day"),
    Column("agreed_start_on", _l("Agreed construction start"), format="day"),
    Column("construction_started_on", _l("Construction started on"), format="day"),
    Column("production_started_on", _l("Production started on"), format="day"),
    Column("capacity_reached_on", _l("Full capacity reached on"), format="day"),
    Column("dropped_on", _l("Dropped on"), format="day"),
    Column("responsible_unit"),
    Column("responsible_person"),
    Column("contact_phone"),
    Column("source"),
    Column("notes"),
    Column("created_at", _l("Entered"), format="moment"),
    Column("updated_at", _l("Last changed"), format="moment"),
]


# --- 新增项目 -------------------------------------------------------------------------------------


def _lead_of_add() -> dict[str, Any] | None:
    """The lead being converted into the new project (?lead= on the page, lead_id once sent)."""
    raw = request.args.get("lead", "") or request.form.get("lead_id", "")
    if not is_id(raw):
        return None
    try:
        return promotion.lead_row(db.session, int(raw))
    except DomainError:
        return None


def _add_defaults() -> dict[str, Any]:
    """A follow-on started from its original's page: ?parent_id= fills in what they share; a
    lead converted from its page: ?lead= fills in what the lead knows."""
    lead = _lead_of_add()
    if lead is not None:
        return promotion.project_defaults(db.session, lead)
    raw = request.args.get("parent_id", "")
    if not is_id(raw):
        return {}
    parent = db.session.execute(select(Project).where(Project.id == int(raw))).scalar()
    if parent is None:
        return {}
    return {
        "parent_id": parent.id,
        "kind": ProjectKind.EXPANSION.value,
        "chain_id": parent.chain_id,
        "segment_id": parent.segment_id,
        "district_id": parent.district_id,
        "investor_id": parent.investor_id,
        "investor_name": parent.investor_name,
        "chain_master_id": parent.chain_master_id,
        "channel": parent.channel,
        "is_key": parent.is_key,
    }


def _add_routes(bp: Blueprint, pages: Pages) -> None:
    def add():
        pages._check_write()
        session = db.session
        form = ProjectAddForm(data=_add_defaults()) if request.method == "GET" else ProjectAddForm()
        status = 200
        if form.validate_on_submit():
            try:
                row = pages.write(session, form, lambda body: projects.create_one(session, body))
            except DomainError as exc:
                session.rollback()
                show_errors(form, exc)
                status = exc.status
            else:
                session.commit()
                flash(_("Saved: %(name)s", name=row["name"]), "ok")
                return redirect(url_for("projects.detail", id=row["id"]))
        elif request.method == "POST":
            status = 422
        lead = _lead_of_add()
        return render_template(
            "projects/add.html",
            **pages.context(
                form=form,
                groups=ADD_GROUPS,
                title=_("New project"),
                lead=lead,
                lead_name=promotion.lead_name(session, lead) if lead else None,
            ),
        ), status

    def stage(id: str):
        """Move the project to another stage (the API's stage route, as a form)."""
        pages._check_write()
        session = db.session
        current = projects.get(session, id, lock=True)
        form = StageForm().for_stage(current["stage"])
        if form.validate_on_submit():
            try:
                move_stage(
                    session=session,
                    project_id=current["id"],
                    stage=Stage(form.stage.data),
                    on=form.date.data,
                    reason=form.reason.data,
                    note=form.note.data,
                )
            except DomainError as exc:
                session.rollback()
                show_errors(form, exc)
                status = exc.status
            else:
                session.commit()
                flash(
                    _(
                        "Moved to stage %(stage)s: %(name)s",
                        stage=STAGE_LABELS[form.stage.data],
                        name=current["name"],
                    ),
                    "ok",
                )
                return redirect(url_for("projects.detail", id=current["id"]))
        else:
            status = 422
        g.stage_form = form
        return pages.detail_view(str(current["id"])), status

    bp.add_url_rule("/add", "add", add, methods=["GET", "POST"])
    bp.add_url_rule("/<key:id>/stage", "stage", stage, methods=["POST"])


pages = ProjectPages(
    resource=projects,
    title=_l("Projects"),
    singular=_l("project"),
    help=_l(
        "Investment projects (招商项目) from lead to full capacity; amounts in 亿元. A project's "
        "stage moves on its own page, which keeps the history of every move."
    ),
    columns=COLUMNS,
    detail_columns=DETAIL_COLUMNS,
    label=lambda row: row["name"],
    form=ProjectAddForm,
    edit_form=ProjectEditForm,
    filters=ProjectFilters,
    detail_template="projects/detail.html",
    related=_related,
    new_endpoint="projects.add",
    extra_routes=[_add_routes, review_routes],
)


# --- suggestions for the original-project picker -----------------------------------------------

pick = Blueprint("project_pick", __name__, url_prefix="/pick")


@pick.get("/projects")
def pick_projects():
    """Up to 12 projects whose name contains ?q= (or whose number it is)."""
    q = request.args.get("q", "").strip()[:100]
    if not q:
        return jsonify(results=[])
    match = Project.name.icontains(q, autoescape=True)
    if is_id(q):
        match = match | (Project.id == int(q))
    rows = db.session.execute(
        select(Project.id, Project.name, District.name_zh, Project.agreed_investment_cny_100m)
        .join(District, District.id == Project.district_id)
        .where(match)
        .order_by(
            case((Project.name.startswith(q, autoescape=True), 0), else_=1),
            func.length(Project.name),
            Project.id,
        )
        .limit(PICK_LIMIT)
    )
    return jsonify(
        results=[
            {
                "id": id_,
                "value": f"{name} #{id_}",
                "name": name,
                "district": district,
                "uscc": None,
                "amount": str(amount) if isinstance(amount, Decimal) else None,
            }
            for id_, name, district, amount in rows
        ]
    )


def register(app: Flask) -> None:
    register_pages(app, pages)
    app.register_blueprint(pick)
