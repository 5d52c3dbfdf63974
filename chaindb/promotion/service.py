"""The rules of the promotion work: leads from gap candidates and visits, the owner of a lead,
the follow-ups that fall due, each lead's and project's timeline, and negotiation files.

What the database holds itself (migration 20261204_f1c3e5a7b9d2): a lead is signed only by a
project naming it; the newest negotiation entry sets a lead's next follow-up date; row-level
security says which unit sees and writes what. Services take the session and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    and_,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from chaindb import access
from chaindb.access import Principal
from chaindb.auth.models import User
from chaindb.chains.models import Chain, ChainSegment
from chaindb.db import today
from chaindb.enterprises.models import Enterprise
from chaindb.errors import N_, Conflict, Forbidden, Invalid, NotFound, TooLarge, write_rows
from chaindb.projects.models import Project, Stage
from chaindb.promotion.models import (
    OPEN_STATUSES,
    Lead,
    LeadSource,
    LeadStatus,
    Negotiation,
    NegotiationFile,
    Trip,
    TripKind,
)
from chaindb.reviews.models import EVIDENCE_MAX_BYTES
from chaindb.reviews.service import clean_file_name, media_type_of

# How far ahead a follow-up counts as coming up (the "my follow-ups" page).
DUE_SOON_DAYS = 7


# --- leads --------------------------------------------------------------------------------------


def check_lead(session: Session, values: dict[str, Any], current: dict[str, Any] | None) -> None:
    """A lead's rules beyond its columns' checks: its owner works for its unit; signed only by
    conversion (the database says so too, in other words)."""
    principal = access.current()
    unit_given = values.get("unit_id")
    if (
        principal is not None
        and not principal.scope.everything
        and unit_given is not None
        and unit_given != principal.scope.unit_id
    ):
        raise Forbidden(
            N_("%(unit)s pursues leads of its own; the city bureau assigns them to a unit"),
            params={"unit": principal.scope.name},
            field="unit_id",
        )
    own_unit = unit_given is None or (
        principal is not None and unit_given == principal.scope.unit_id
    )
    if current is None and values.get("owner_id") is None and principal is not None and own_unit:
        # The officer who opens a lead for their own unit owns it; one the city bureau opens
        # for another unit waits for that unit to name its officer.
        values["owner_id"] = principal.user_id
    status = values.get("status")
    if status == LeadStatus.SIGNED and (current is None or current["status"] != "signed"):
        raise Invalid(
            N_("status: a lead is signed by converting it into a project (the project names "
               "the lead)"),
            field="status",
        )  # fmt: skip
    owner = values.get("owner_id")
    if owner is not None:
        unit = values.get("unit_id") or (current or {}).get("unit_id")
        if unit is None and principal is not None:
            unit = principal.scope.unit_id
        owner_unit = session.scalar(select(User.unit_id).where(User.id == owner))
        if owner_unit is None:
            raise Invalid(N_("owner_id: no user %(id)s"), params={"id": owner}, field="owner_id")
        if unit is not None and owner_unit != unit:
            raise Invalid(
                N_("owner_id: the officer in charge works for the lead's unit"),
                field="owner_id",
            )


def from_gap_candidate(
    *, session: Session, segment_id: int, supplier_id: int
) -> tuple[dict[str, Any], bool]:
    """The acting unit's open lead for a gap candidate (the supplier, for the gap segment's
    chain): the one it already has, else a new one (source gap_candidate). (row, created)."""
    found = (
        session.execute(
            text(
                "SELECT chain_id, segment_id, supplier_id, supplier_name_zh, products "
                "FROM report_gap_candidates WHERE segment_id = :s AND supplier_id = :e"
            ),
            {"s": segment_id, "e": supplier_id},
        )
        .mappings()
        .first()
    )
    if found is None:
        raise NotFound(
            N_("no gap candidate: enterprise %(supplier)s for segment %(segment)s (the 补链 list "
               "may have changed since it was shown)"),
            params={"supplier": supplier_id, "segment": segment_id},
            field="supplier_id",
        )  # fmt: skip
    principal = access.current()
    unit_id = principal.scope.unit_id if principal is not None else None
    existing = _open_lead(
        session, unit_id=unit_id, enterprise_id=supplier_id, chain_id=found["chain_id"]
    )
    if existing is not None:
        return lead_row(session, existing), False
    values: dict[str, Any] = {
        "enterprise_id": supplier_id,
        "chain_id": found["chain_id"],
        "segment_id": found["segment_id"],
        "source": LeadSource.GAP_CANDIDATE.value,
        # What the supplier makes for the chain's masters: the start of the list, a line.
        "source_detail": _line(found["products"]),
    }
    check_lead(session, values, None)
    (row,) = write_rows(session, insert(Lead).values(values).returning(Lead.id))
    return lead_row(session, row["id"]), True


def _line(text_: str | None, limit: int = 200) -> str | None:
    if not text_ or len(text_) <= limit:
        return text_
    return text_[: limit - 1] + "…"


def _open_lead(
    session: Session, *, unit_id: int | None, enterprise_id: int | None, chain_id: int
) -> int | None:
    """The unit's open lead for the enterprise in the chain (uq_lead_open_… allows one)."""
    if unit_id is None or enterprise_id is None:
        return None
    return session.scalar(
        select(Lead.id).where(
            Lead.unit_id == unit_id,
            Lead.enterprise_id == enterprise_id,
            Lead.chain_id == chain_id,
            Lead.status.in_(OPEN_STATUSES),
        )
    )


def lead_row(session: Session, lead_id: int) -> dict[str, Any]:
    row = session.execute(select(Lead.__table__).where(Lead.id == lead_id)).mappings().first()
    if row is None:
        raise NotFound(N_("no lead %(key)r"), params={"key": str(lead_id)}, field="id")
    return dict(row)


def lead_name(session: Session, lead: dict[str, Any]) -> str:
    """The enterprise's name as the lead names it."""
    if lead.get("enterprise_id") is not None:
        name = session.scalar(
            select(Enterprise.name_zh).where(Enterprise.id == lead["enterprise_id"])
        )
        if name:
            return name
    return lead.get("enterprise_name") or f"#{lead['id']}"


def check_convertible(session: Session, lead_id: int) -> None:
    """A project may name the lead: it is the acting unit's (the city bureau: any) and open.
    The database says the same (project_lead_of_the_unit, lead_follows_project)."""
    principal = access.current()
    lead = session.execute(select(Lead.unit_id, Lead.status).where(Lead.id == lead_id)).first()
    if lead is None:
        raise Invalid(N_("lead_id: no lead %(id)s"), params={"id": lead_id}, field="lead_id")
    if (
        principal is not None
        and not principal.scope.everything
        and lead.unit_id != principal.scope.unit_id
    ):
        raise Forbidden(
            N_("the lead is another unit's: only its unit converts it into a project"),
            field="lead_id",
        )
    if lead.status not in OPEN_STATUSES:
        raise Conflict(
            N_("only an open lead (new, contacted or negotiating) becomes a project"),
            field="lead_id",
        )


def project_defaults(session: Session, lead: dict[str, Any]) -> dict[str, Any]:
    """What the project a lead becomes starts with (the add form, filled in)."""
    if lead["status"] not in OPEN_STATUSES:
        raise Invalid(
            N_("only an open lead (new, contacted or negotiating) becomes a project"),
            field="lead_id",
        )
    name = lead_name(session, lead)
    chain = session.scalar(select(Chain.name_zh).where(Chain.id == lead["chain_id"]))
    scope = access.acting_scope()
    district = lead.get("district_id") or (scope.district_id if scope is not None else None)
    return {
        "lead_id": lead["id"],
        "name": f"{name}{chain or ''}项目",
        "chain_id": lead["chain_id"],
        "segment_id": lead.get("segment_id"),
        "district_id": district,
        "investor_id": lead.get("enterprise_id"),
        "investor_name": None if lead.get("enterprise_id") else lead.get("enterprise_name"),
        "agreed_investment_cny_100m": lead.get("expected_investment_cny_100m"),
        "stage": Stage.SIGNED.value,
        "signed_on": today(session),
        "channel": CHANNEL_OF_SOURCE.get(lead["source"]),
    }


# The attraction channel (project.channel) a lead's source means, where one does.
CHANNEL_OF_SOURCE = {
    "investor": "business_referral",  # 以商招商
    "fund": "fund",  # 基金招商
    "gap_candidate": "chain_master",  # 补链: the chain masters' suppliers
}


# --- visits -------------------------------------------------------------------------------------


def prepare_visit(session: Session, values: dict[str, Any]) -> dict[str, Any]:
    """A visit that names a chain opens a lead for the enterprise there (sourced from the trip
    or event), or moves the unit's open lead for it: its next follow-up date, new to contacted."""
    chain_id = values.pop("chain_id", None)
    follow_up = values.pop("next_follow_up_on", None)
    if values.get("lead_id") is not None:
        lead = (
            session.execute(select(Lead.__table__).where(Lead.id == values["lead_id"]))
            .mappings()
            .first()
        )
        trip_unit = session.scalar(select(Trip.unit_id).where(Trip.id == values["trip_id"]))
        if lead is None or lead["unit_id"] != trip_unit:
            raise Invalid(
                N_("lead_id: no lead %(id)s of the unit whose trip it is"),
                params={"id": values["lead_id"]},
                field="lead_id",
            )
        _move_lead(session, dict(lead), follow_up)
        return values
    if chain_id is None:
        if follow_up is not None:
            raise Invalid(
                N_("next_follow_up_on: a follow-up date goes with a lead: name the chain "
                   "(chain_id) or the lead (lead_id)"),
                field="next_follow_up_on",
            )  # fmt: skip
        return values
    trip = session.execute(
        select(Trip.kind, Trip.title, Trip.unit_id).where(Trip.id == values["trip_id"])
    ).first()
    if trip is None:
        raise Invalid(
            N_("trip_id: no trip %(id)s"), params={"id": values["trip_id"]}, field="trip_id"
        )
    existing = _open_lead(
        session, unit_id=trip.unit_id, enterprise_id=values.get("enterprise_id"), chain_id=chain_id
    )
    if existing is not None:
        _move_lead(session, lead_row(session, existing), follow_up)
        values["lead_id"] = existing
        return values
    lead: dict[str, Any] = {
        "unit_id": trip.unit_id,
        "enterprise_id": values.get("enterprise_id"),
        "enterprise_name": None if values.get("enterprise_id") else values.get("enterprise_name"),
        "chain_id": chain_id,
        "source": LeadSource.EVENT.value if trip.kind == TripKind.EVENT else LeadSource.TRIP.value,
        "source_detail": trip.title,
        "trip_id": values["trip_id"],
        "status": LeadStatus.CONTACTED.value,
        "next_follow_up_on": follow_up,
    }
    check_lead(session, lead, None)
    (row,) = write_rows(session, insert(Lead).values(lead).returning(Lead.id))
    values["lead_id"] = row["id"]
    return values


def _move_lead(session: Session, lead: dict[str, Any], follow_up: date | None) -> None:
    if lead["status"] not in OPEN_STATUSES:
        return  # a signed or dropped lead keeps what it says
    changes: dict[str, Any] = {}
    if lead["status"] == LeadStatus.NEW:
        changes["status"] = LeadStatus.CONTACTED.value
    if follow_up is not None:
        changes["next_follow_up_on"] = follow_up
    if changes:
        write_rows(
            session,
            Lead.__table__.update().where(Lead.id == lead["id"]).values(changes).returning(Lead.id),
        )


# --- negotiations -------------------------------------------------------------------------------


def check_negotiation(
    session: Session, values: dict[str, Any], current: dict[str, Any] | None
) -> None:
    principal = access.current()
    if current is None and principal is not None and values.get("recorded_by_id") is None:
        values["recorded_by_id"] = principal.user_id
    held_on = values.get("held_on")
    if held_on is not None and held_on > today(session):
        raise Invalid(
            N_("held_on: a negotiation is logged once it has taken place (not %(day)s)"),
            params={"day": held_on.isoformat()},
            field="held_on",
        )
    lead_id, project_id = values.get("lead_id"), values.get("project_id")
    if (lead_id is None) == (project_id is None):
        raise Invalid(
            N_("a negotiation entry is about one lead (lead_id) or one project (project_id)"),
            field="lead_id",
        )
    if lead_id is not None and session.scalar(select(Lead.id).where(Lead.id == lead_id)) is None:
        raise Invalid(N_("lead_id: no lead %(id)s"), params={"id": lead_id}, field="lead_id")
    if (
        project_id is not None
        and session.scalar(select(Project.id).where(Project.id == project_id)) is None
    ):
        raise Invalid(
            N_("project_id: no project %(id)s"), params={"id": project_id}, field="project_id"
        )


# --- follow-ups ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowUp:
    kind: str  # lead or project
    id: int  # the lead's or the project's
    name: str
    chain_id: int | None
    due_on: date
    unit_id: int | None
    person_id: int | None
    person: str | None
    status: str
    next_step: str | None

    def overdue(self, day: date) -> bool:
        return self.due_on < day


def _lead_follow_ups():
    return (
        select(
            literal("lead").label("kind"),
            Lead.id.label("id"),
            func.coalesce(Enterprise.name_zh, Lead.enterprise_name).label("name"),
            Lead.chain_id.label("chain_id"),
            Lead.next_follow_up_on.label("due_on"),
            Lead.unit_id.label("unit_id"),
            Lead.owner_id.label("person_id"),
            Lead.status.label("status"),
            select(Negotiation.next_step)
            .where(Negotiation.lead_id == Lead.id)
            .order_by(Negotiation.held_on.desc(), Negotiation.id.desc())
            .limit(1)
            .scalar_subquery()
            .label("next_step"),
        )
        .select_from(Lead.__table__.outerjoin(Enterprise, Enterprise.id == Lead.enterprise_id))
        .where(Lead.status.in_(OPEN_STATUSES), Lead.next_follow_up_on.is_not(None))
    )


def _project_follow_ups():
    """A live project's newest negotiation entry, when it names a follow-up date."""
    newer = aliased(Negotiation)
    return (
        select(
            literal("project").label("kind"),
            Project.id.label("id"),
            Project.name.label("name"),
            Project.chain_id.label("chain_id"),
            Negotiation.next_follow_up_on.label("due_on"),
            Negotiation.unit_id.label("unit_id"),
            Negotiation.recorded_by_id.label("person_id"),
            Project.stage.label("status"),
            Negotiation.next_step.label("next_step"),
        )
        .select_from(Negotiation.__table__.join(Project, Project.id == Negotiation.project_id))
        .where(
            Negotiation.next_follow_up_on.is_not(None),
            Project.stage != Stage.DROPPED,
            ~exists().where(
                newer.project_id == Negotiation.project_id,
                tuple_(newer.held_on, newer.id) > tuple_(Negotiation.held_on, Negotiation.id),
            ),
        )
    )


def follow_ups(
    *,
    session: Session,
    principal: Principal,
    mine: bool = True,
    until: date | None = None,
    limit: int = 500,
) -> list[FollowUp]:
    """The follow-ups due by `until` (default: a week from today), overdue first: the
    principal's own (the leads they own, the project entries they logged), or their unit's."""
    day = today(session)
    until = until or day + timedelta(days=DUE_SOON_DAYS)
    both = union_all(_lead_follow_ups(), _project_follow_ups()).subquery()
    # Mine: the principal's; the unit's: its unit's, and for the city bureau every unit's.
    if mine:
        who = both.c.person_id == principal.user_id
    elif principal.scope.everything:
        who = true()
    else:
        who = both.c.unit_id == principal.scope.unit_id
    rows = session.execute(
        select(both, User.display_name, User.username)
        .outerjoin(User, User.id == both.c.person_id)
        .where(who, both.c.due_on <= until)
        .order_by(both.c.due_on, both.c.kind, both.c.id)
        .limit(limit)
    ).mappings()
    return [
        FollowUp(
            kind=r["kind"],
            id=r["id"],
            name=r["name"] or f"#{r['id']}",
            chain_id=r["chain_id"],
            due_on=r["due_on"],
            unit_id=r["unit_id"],
            person_id=r["person_id"],
            person=r["display_name"] or r["username"],
            status=r["status"],
            next_step=r["next_step"],
        )
        for r in rows
    ]


def due_count(*, session: Session, principal: Principal) -> int:
    """The principal's follow-ups due today or overdue (the count in the navigation): one
    query, the day the database's."""
    both = union_all(_lead_follow_ups(), _project_follow_ups()).subquery()
    return (
        session.scalar(
            select(func.count()).where(
                both.c.person_id == principal.user_id, both.c.due_on <= func.current_date()
            )
        )
        or 0
    )


# --- timelines ----------------------------------------------------------------------------------

NEGOTIATION_COLUMNS = list(Negotiation.__table__.columns)


def negotiations_of(
    *, session: Session, lead_id: int | None = None, project_id: int | None = None
) -> list[dict[str, Any]]:
    """The negotiation entries of a lead, or of a project and the lead it came from, newest
    first, each with its files (without content) and who logged it."""
    if project_id is not None:
        came_from = session.scalar(select(Project.lead_id).where(Project.id == project_id))
        where = or_(
            Negotiation.project_id == project_id,
            and_(came_from is not None, Negotiation.lead_id == came_from),
        )
    else:
        where = Negotiation.lead_id == lead_id
    rows = [
        dict(r)
        for r in session.execute(
            select(
                *NEGOTIATION_COLUMNS,
                func.coalesce(User.display_name, User.username).label("recorded_by"),
            )
            .outerjoin(User, User.id == Negotiation.recorded_by_id)
            .where(where)
            .order_by(Negotiation.held_on.desc(), Negotiation.id.desc())
        ).mappings()
    ]
    files = files_of(session=session, negotiation_ids=[r["id"] for r in rows])
    for row in rows:
        row["files"] = files.get(row["id"], [])
    return rows


def visits_of(*, session: Session, lead_id: int) -> list[dict[str, Any]]:
    """The trip and event visits that opened or moved the lead, newest first."""
    return [
        dict(r)
        for r in session.execute(
            text(
                "SELECT v.id, v.visited_on, v.notes, t.id AS trip_id, t.title, t.kind, "
                "t.starts_on, t.destination FROM trip_visit AS v JOIN trip AS t ON t.id = "
                "v.trip_id WHERE v.lead_id = :lead ORDER BY COALESCE(v.visited_on, t.starts_on) "
                "DESC, v.id DESC"
            ),
            {"lead": lead_id},
        ).mappings()
    ]


def segment_name(session: Session, segment_id: int | None) -> str | None:
    if segment_id is None:
        return None
    return session.scalar(select(ChainSegment.name_zh).where(ChainSegment.id == segment_id))


# --- negotiation files --------------------------------------------------------------------------

FILE_COLUMNS = [c for c in NegotiationFile.__table__.columns if c.name != "content"]


def files_of(*, session: Session, negotiation_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    if not negotiation_ids:
        return found
    for r in session.execute(
        select(*FILE_COLUMNS)
        .where(NegotiationFile.negotiation_id.in_(negotiation_ids))
        .order_by(NegotiationFile.id)
    ).mappings():
        found.setdefault(r["negotiation_id"], []).append(dict(r))
    return found


def attach_file(
    *, session: Session, negotiation_id: int, file_name: str, content: bytes, uploaded_by: str
) -> dict[str, Any]:
    """Keep a file with a negotiation entry the acting unit logged (checked by size and
    content, as evidence is)."""
    if len(content) > EVIDENCE_MAX_BYTES:
        raise TooLarge(
            N_("the file is larger than %(mib)s MiB"),
            params={"mib": EVIDENCE_MAX_BYTES // (1024 * 1024)},
            field="file",
        )
    media = media_type_of(content)
    try:
        (row,) = write_rows(
            session,
            insert(NegotiationFile)
            .values(
                negotiation_id=negotiation_id,
                file_name=clean_file_name(file_name, default="file"),
                media_type=media.value,
                content=content,
                uploaded_by=uploaded_by,
            )
            .returning(*FILE_COLUMNS),
        )
    except Forbidden:
        raise Forbidden(
            N_("files are kept with a negotiation entry by the unit that logged it"), field="file"
        ) from None
    return row


def negotiation_file(*, session: Session, negotiation_id: int, file_id: int) -> dict[str, Any]:
    row = (
        session.execute(
            select(*FILE_COLUMNS, NegotiationFile.content).where(
                NegotiationFile.negotiation_id == negotiation_id, NegotiationFile.id == file_id
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(
            N_("negotiation entry %(negotiation)s has no file %(id)s"),
            params={"negotiation": negotiation_id, "id": file_id},
            field="id",
        )
    return dict(row)
