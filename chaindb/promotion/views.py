"""Pages of the promotion work: leads (with their timeline, a negotiation form, and the way into
a project), trips and events (with the enterprises visited), "my follow-ups", and the gap
candidate that becomes a lead in one click.

Every write goes through the API's resources and the promotion service, so a page obeys the
rules of the API and of the database (row-level security says which unit sees what).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session

from chaindb.access import Role, acting_scope, current, may, require
from chaindb.api.schemas import lax_input
from chaindb.auth.models import User
from chaindb.chains.models import Chain, ChainSegment
from chaindb.db import db, today
from chaindb.districts.models import District
from chaindb.enterprises.models import Enterprise
from chaindb.errors import DomainError
from chaindb.projects.models import Project
from chaindb.promotion import service
from chaindb.promotion.api import leads, negotiations, trip_visits, trips
from chaindb.promotion.forms import (
    FromGapForm,
    LeadFilters,
    LeadForm,
    NegotiationForm,
    TripFilters,
    TripForm,
    VisitForm,
)
from chaindb.promotion.models import Trip
from chaindb.promotion.vocab import SOURCE_LABELS, STATUS_LABELS, TRIP_KIND_LABELS
from chaindb.reviews.api import download
from chaindb.units.models import Unit
from chaindb.web import register_nav_count
from chaindb.web.pages import Column, Link, Pages, form_body, show_errors
from chaindb.web.pages import register as register_pages

bp = Blueprint("promotion", __name__)


def enterprise_body(body: dict[str, Any]) -> dict[str, Any]:
    """The enterprise field holds an enterprise's id, or the name of one not in chaindb."""
    enterprise = body.get("enterprise_id")
    if isinstance(enterprise, str):
        body["enterprise_id"], body["enterprise_name"] = None, enterprise
    else:
        body["enterprise_name"] = None
    return body


class EnterprisePages(Pages):
    def write(self, session: Session, form: FlaskForm, action: Callable[[dict], dict]) -> dict:
        return super().write(session, form, lambda body: action(enterprise_body(body)))


def lead_label(row: dict[str, Any]) -> str:
    return service.lead_name(db.session, row)


def negotiation_panel(
    session: Session, *, lead_id: int | None = None, project_id: int | None = None
) -> dict[str, Any]:
    """What a lead's or a project's page shows of the negotiations: the timeline, and the form
    to log one (with the date of today)."""
    form = g.get("negotiation_form") or NegotiationForm(
        formdata=None, data={"held_on": today(session)}
    )
    form.lead_id.data, form.project_id.data = lead_id, project_id
    return {
        "negotiations": service.negotiations_of(
            session=session, lead_id=lead_id, project_id=project_id
        ),
        "negotiation_form": form,
    }


def _lead_related(session: Session, row: dict[str, Any]) -> dict[str, Any]:
    project = session.execute(
        select(Project.id, Project.name, Project.stage, Project.review_status).where(
            Project.lead_id == row["id"]
        )
    ).first()
    scope = acting_scope()
    is_open = row["status"] in service.OPEN_STATUSES
    own = scope is None or scope.everything or scope.unit_id == row["unit_id"]
    return {
        # Another unit's lead (of its chain or planning unit) is read, not changed.
        **({} if own else {"can_write": False, "can_delete": False}),
        **negotiation_panel(session, lead_id=row["id"]),
        "visits": service.visits_of(session=session, lead_id=row["id"]),
        "project": project,
        "is_open": is_open,
        # Only the lead's unit (or the city bureau) converts it, as the database says.
        "may_convert": is_open and may(Role.EDITOR) and own,
        "today": today(session),
    }


def _lead_routes(bp: Blueprint, pages: Pages) -> None:
    def from_gap():
        """A gap candidate of the 补链 list becomes the unit's lead (or finds the one it is)."""
        pages._check_write()
        form = FromGapForm()
        if not form.validate_on_submit():
            abort(400)
        session = db.session
        try:
            row, created = service.from_gap_candidate(
                session=session,
                segment_id=form.segment_id.data,
                supplier_id=form.supplier_id.data,
            )
        except DomainError as exc:
            session.rollback()
            flash(exc.localized(), "error")
            return redirect(url_for("reports.show", name="gap-candidates"))
        session.commit()
        name = lead_label(row)
        if created:
            flash(_("New lead: %(name)s. Log the first contact below.", name=name), "ok")
        else:
            flash(_("Your unit already pursues %(name)s: here is the lead.", name=name), "ok")
        return redirect(url_for("leads.detail", id=row["id"]))

    def convert(id: str):
        pages._check_write()
        session = db.session
        row = leads.get(session, id)
        try:
            service.check_convertible(session, row["id"])
        except DomainError as exc:
            flash(exc.localized(), "error")
            return redirect(url_for("leads.detail", id=row["id"]))
        return redirect(url_for("projects.add", lead=row["id"]))

    bp.add_url_rule("/from-gap-candidate", "from_gap", from_gap, methods=["POST"])
    bp.add_url_rule("/<key:id>/convert", "convert", convert)


LEAD_COLUMNS = [
    Column("enterprise_id", _l("Enterprise"), link=Link(Enterprise, "enterprises.detail")),
    Column("enterprise_name", _l("Enterprise (not in chaindb)")),
    Column("chain_id", _l("Chain"), link=Link(Chain, "chains.detail")),
    Column("status", _l("Status"), choices=STATUS_LABELS),
    Column("source", _l("Source"), choices=SOURCE_LABELS),
    Column("next_follow_up_on", _l("Next follow-up"), format="day"),
    Column("unit_id", _l("Unit"), link=Link(Unit, "units.detail")),
    Column("owner_id", _l("Officer"), link=Link(User, "users.detail", "username")),
]

lead_pages = EnterprisePages(
    resource=leads,
    title=_l("Investment leads"),
    singular=_l("investment lead"),
    help=_l(
        "The enterprises your unit pursues (招商线索): each with its chain, where it came from, "
        "its status and the next follow-up. Log every contact on the lead's page; convert it "
        "into a project when it signs."
    ),
    columns=LEAD_COLUMNS,
    detail_columns=[
        *LEAD_COLUMNS,
        Column("region", _l("Located in")),
        Column("industry", _l("Industry")),
        Column("segment_id", _l("Segment"), link=Link(ChainSegment, "segments.detail")),
        Column("district_id", _l("Would land in"), link=Link(District, "districts.detail")),
        Column("source_detail", _l("Source detail")),
        Column("trip_id", _l("Trip or event"), link=Link(Trip, "trips.detail", "title")),
        Column("expected_investment_cny_100m", _l("Investment hoped for"), format="yi"),
        Column("contact_name", _l("Their contact")),
        Column("contact_phone", _l("Contact phone")),
        Column("dropped_reason", _l("Why dropped")),
        Column("notes", _l("Notes")),
        Column("created_at", _l("Entered"), format="moment"),
    ],
    label=lead_label,
    form=LeadForm,
    filters=LeadFilters,
    detail_template="promotion/lead.html",
    related=_lead_related,
    extra_routes=[_lead_routes],
)


# --- negotiations -------------------------------------------------------------------------------


def _back_to(body: dict[str, Any]) -> str:
    if body.get("lead_id"):
        return url_for("leads.detail", id=body["lead_id"])
    if body.get("project_id"):
        return url_for("projects.detail", id=body["project_id"])
    return url_for("promotion.follow_ups")


@bp.post("/negotiations/log")
def log():
    """Log a negotiation entry from a lead's or a project's page (the API's create)."""
    require(Role.EDITOR)
    form = NegotiationForm()
    session = db.session
    body = form_body(form) if form.is_submitted() else {}
    target = {"lead_id": form.lead_id.data, "project_id": form.project_id.data}
    if form.validate_on_submit():
        try:
            with lax_input():
                negotiations.create_one(session, body)
        except DomainError as exc:
            session.rollback()
            show_errors(form, exc)
        else:
            session.commit()
            flash(_("Negotiation logged."), "ok")
            return redirect(_back_to(target) + "#negotiations")
    if target["lead_id"]:
        flash(_("The negotiation was not logged: see the form."), "error")
        g.negotiation_form = form
        return lead_pages.detail_view(str(target["lead_id"])), 422
    if target["project_id"]:
        # The project's page is the projects domain's: the refusal is said on it.
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        flash(_("The negotiation was not logged: see the form."), "error")
        return redirect(_back_to(target) + "#log")
    abort(400)


@bp.post("/negotiations/<int:id>/files")
def attach(id: int):
    require(Role.EDITOR)
    form = FlaskForm()
    session = db.session
    entry = negotiations.get(session, str(id))
    if not form.validate_on_submit():
        abort(400)
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise DomainError(_("Choose a file to attach."))
        with upload.stream:
            content, name = upload.read(), upload.filename or ""
        principal = current()
        service.attach_file(
            session=session,
            negotiation_id=entry["id"],
            file_name=name,
            content=content,
            uploaded_by=principal.username if principal else "",
        )
    except DomainError as exc:
        session.rollback()
        flash(exc.localized(), "error")
    else:
        session.commit()
        flash(_("File attached."), "ok")
    return redirect(_back_to(entry) + "#negotiations")


@bp.get("/negotiations/<int:id>/files/<int:file_id>")
def file(id: int, file_id: int):
    session = db.session
    entry = negotiations.get(session, str(id))
    return download(
        service.negotiation_file(session=session, negotiation_id=entry["id"], file_id=file_id)
    )


# --- follow-ups ---------------------------------------------------------------------------------


@bp.get("/follow-ups")
def follow_ups():
    principal = current()
    if principal is None:
        abort(403)
    session = db.session
    who = "unit" if request.args.get("who") == "unit" else "me"
    items = service.follow_ups(session=session, principal=principal, mine=who == "me")
    day = today(session)
    chains = dict(session.execute(select(Chain.id, Chain.name_zh)).all())
    return render_template(
        "promotion/follow_ups.html",
        who=who,
        overdue=[i for i in items if i.due_on < day],
        due_today=[i for i in items if i.due_on == day],
        coming=[i for i in items if i.due_on > day],
        today=day,
        chains=chains,
        status_labels=STATUS_LABELS,
        soon_days=service.DUE_SOON_DAYS,
    )


def _due_count() -> int | None:
    principal = current()
    if principal is None or not principal.may(Role.EDITOR):
        return None
    return service.due_count(session=db.session, principal=principal)


# --- trips --------------------------------------------------------------------------------------


def _trip_related(session: Session, row: dict[str, Any]) -> dict[str, Any]:
    visits = [
        dict(r)
        for r in session.execute(
            select(
                trip_visits.table,
                Enterprise.name_zh.label("enterprise_name_zh"),
            )
            .outerjoin(Enterprise, Enterprise.id == trip_visits.table.c.enterprise_id)
            .where(trip_visits.table.c.trip_id == row["id"])
            .order_by(trip_visits.table.c.visited_on, trip_visits.table.c.id)
        ).mappings()
    ]
    form = g.get("visit_form") or VisitForm(formdata=None, data={"visited_on": row["starts_on"]})
    return {"visits": visits, "visit_form": form}


def _trip_routes(bp: Blueprint, pages: Pages) -> None:
    def visit(id: str):
        pages._check_write()
        session = db.session
        trip = trips.get(session, id)
        form = VisitForm()
        if form.validate_on_submit():
            body = enterprise_body(form_body(form))
            body["trip_id"] = trip["id"]
            try:
                with lax_input():
                    trip_visits.create_one(session, body)
            except DomainError as exc:
                session.rollback()
                show_errors(form, exc)
            else:
                session.commit()
                flash(_("Visit recorded."), "ok")
                return redirect(url_for("trips.detail", id=trip["id"]) + "#visits")
        g.visit_form = form
        return pages.detail_view(str(trip["id"])), 422

    bp.add_url_rule("/<key:id>/visits", "visit", visit, methods=["POST"])


trip_pages = Pages(
    resource=trips,
    title=_l("Trips and events"),
    singular=_l("trip or event"),
    help=_l(
        "Promotion trips (外出招商) and events (招商推介会): where, when, who led them, and the "
        "enterprises visited; a visit can open a lead or move one."
    ),
    columns=[
        Column("title", _l("Title")),
        Column("kind", _l("Kind"), choices=TRIP_KIND_LABELS),
        Column("starts_on", _l("First day"), format="day"),
        Column("ends_on", _l("Last day"), format="day"),
        Column("destination", _l("Destination")),
        Column("leader", _l("Led by")),
        Column("unit_id", _l("Unit"), link=Link(Unit, "units.detail")),
    ],
    detail_columns=[
        Column("kind", _l("Kind"), choices=TRIP_KIND_LABELS),
        Column("starts_on", _l("First day"), format="day"),
        Column("ends_on", _l("Last day"), format="day"),
        Column("destination", _l("Destination")),
        Column("leader", _l("Led by")),
        Column("participants", _l("Participants")),
        Column("unit_id", _l("Unit"), link=Link(Unit, "units.detail")),
        Column("notes", _l("Notes")),
    ],
    label=lambda row: row["title"],
    form=TripForm,
    filters=TripFilters,
    detail_template="promotion/trip.html",
    related=_trip_related,
    extra_routes=[_trip_routes],
)


def register(app: Flask) -> None:
    register_pages(app, lead_pages, trip_pages)
    app.register_blueprint(bp)
    register_nav_count(app, "promotion.follow_ups", _due_count)
