"""The promotion API: leads, negotiation entries (with their files), trips and events with their
visits, the follow-ups that fall due, and a gap candidate turned into a lead.

/api/v1/leads, /negotiations, /trips and /trip-visits are Resources like the others; row-level
security says which unit sees and writes which rows. A lead becomes a project by
POST /api/v1/projects with its lead_id (the project keeps the link, and signs the lead).

POST /api/v1/leads-from-gap-candidates  {"segment_id", "supplier_id"}: the unit's open lead for
                                        it, created when there is none (201) or found (200)
GET  /api/v1/follow-ups?who=me|unit     the follow-ups due within a week, overdue first
GET  /api/v1/negotiations/{id}/files    a negotiation entry's files (without their content)
POST /api/v1/negotiations/{id}/files    multipart/form-data: file
GET  /api/v1/negotiations/{id}/files/{fid}
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from datetime import date
from typing import Any, Literal

from flask import request
from flask_openapi3 import OpenAPI, Tag
from pydantic import BaseModel, Field, TypeAdapter
from sqlalchemy.orm import Session

from chaindb.access import current
from chaindb.api import accept_files
from chaindb.api.blueprint import APIBlueprint
from chaindb.api.resource import Resource
from chaindb.api.responses import json_body, typed_json
from chaindb.api.routes import ERRORS
from chaindb.api.schemas import PathId, parse_body
from chaindb.api.writes import Ref
from chaindb.chains.models import Chain
from chaindb.db import db
from chaindb.districts.models import District
from chaindb.enterprises.models import Enterprise
from chaindb.errors import N_, BadRequest, Forbidden, Invalid
from chaindb.promotion import service
from chaindb.promotion.models import (
    Lead,
    LeadSource,
    LeadStatus,
    Negotiation,
    Trip,
    TripKind,
    TripVisit,
)
from chaindb.promotion.schemas import (
    FromGapCandidate,
    LeadCreate,
    LeadRead,
    NegotiationCreate,
    NegotiationRead,
    TripCreate,
    TripRead,
    TripVisitCreate,
    TripVisitRead,
)
from chaindb.reviews.api import download
from chaindb.units.models import Unit


class LeadResource(Resource):
    def prepare(
        self, session: Session, values: dict[str, Any], current: dict[str, Any] | None
    ) -> dict[str, Any]:
        if current is None and values.get("unit_id") is None:
            values.pop("unit_id", None)  # the database's default: the acting unit
        # On a create, check_lead fills in the owner (the caller) in `values` itself.
        service.check_lead(session, values if current is None else {**current, **values}, current)
        return values


class NegotiationResource(Resource):
    def prepare(
        self, session: Session, values: dict[str, Any], current: dict[str, Any] | None
    ) -> dict[str, Any]:
        merged = values if current is None else {**current, **values}
        service.check_negotiation(session, merged, current)
        if current is None:
            values["recorded_by_id"] = merged.get("recorded_by_id")
        return values


class TripResource(Resource):
    def prepare(
        self, session: Session, values: dict[str, Any], current: dict[str, Any] | None
    ) -> dict[str, Any]:
        if current is None and values.get("ends_on") is None:
            values["ends_on"] = values["starts_on"]
        if current is not None and "ends_on" in values and values["ends_on"] is None:
            values["ends_on"] = values.get("starts_on") or current["starts_on"]
        return values


class TripVisitResource(Resource):
    def prepare(
        self, session: Session, values: dict[str, Any], current: dict[str, Any] | None
    ) -> dict[str, Any]:
        if current is None:
            return service.prepare_visit(session, values)
        values.pop("chain_id", None)
        values.pop("next_follow_up_on", None)
        return values


def _lead_search(q: str):
    from sqlalchemy import or_, select

    return or_(
        Lead.enterprise_name.icontains(q, autoescape=True),
        Lead.enterprise_id.in_(
            select(Enterprise.id).where(Enterprise.name_zh.icontains(q, autoescape=True))
        ),
    )


leads = LeadResource(
    name="leads",
    messages=(N_("no lead %(key)r"), N_("lead %(id)s is still referenced by %(referrers)s")),
    model=Lead,
    read=LeadRead,
    create=LeadCreate,
    description="Leads (招商线索): the enterprises a unit pursues for a chain, with an owner, a "
    "source, a status and the next follow-up date. A lead becomes a project by POST /projects "
    "with its lead_id; POST /leads-from-gap-candidates opens one from the 补链 list",
    refs=[
        Ref("chain_id", Chain, "code", "chain"),
        Ref("district_id", District, "code", "district"),
        Ref("enterprise_id", Enterprise, "uscc", "enterprise"),
        Ref("unit_id", Unit, "code", "unit"),
    ],
    filters={
        "unit_id": int,
        "owner_id": int,
        "chain_id": int,
        "segment_id": int,
        "district_id": int,
        "enterprise_id": int,
        "trip_id": int,
        "source": LeadSource,
        "status": LeadStatus,
        "next_follow_up_on": date,
    },
    ordering=("id", "next_follow_up_on", "status", "chain_id", "created_at", "updated_at"),
    default_ordering=("-id",),
    search=_lead_search,
)

negotiations = NegotiationResource(
    name="negotiations",
    messages=(
        N_("no negotiation entry %(key)r"),
        N_("negotiation entry %(id)s is still referenced by %(referrers)s"),
    ),
    model=Negotiation,
    read=NegotiationRead,
    create=NegotiationCreate,
    description="The negotiation log (洽谈记录): each contact with a lead's or a project's "
    "enterprise. The newest entry on a lead sets its next follow-up date",
    filters={
        "lead_id": int,
        "project_id": int,
        "unit_id": int,
        "recorded_by_id": int,
        "held_on": date,
        "next_follow_up_on": date,
    },
    ordering=("id", "held_on", "next_follow_up_on"),
    default_ordering=("-held_on", "-id"),
)

trips = TripResource(
    name="trips",
    messages=(N_("no trip %(key)r"), N_("trip %(id)s is still referenced by %(referrers)s")),
    model=Trip,
    read=TripRead,
    create=TripCreate,
    description="Promotion trips and events (外出招商, 招商推介会); the enterprises visited are "
    "at /trip-visits",
    filters={"unit_id": int, "kind": TripKind, "starts_on": date, "ends_on": date},
    ordering=("id", "starts_on", "ends_on"),
    default_ordering=("-starts_on", "-id"),
    search=lambda q: Trip.title.icontains(q, autoescape=True),
)

trip_visits = TripVisitResource(
    name="trip-visits",
    messages=(
        N_("no visit %(key)r"),
        N_("visit %(id)s is still referenced by %(referrers)s"),
    ),
    model=TripVisit,
    read=TripVisitRead,
    create=TripVisitCreate,
    description="The enterprises visited on a trip or met at an event. A visit that names a "
    "chain opens a lead there (or moves the unit's open one)",
    refs=[
        Ref("enterprise_id", Enterprise, "uscc", "enterprise"),
        Ref("chain_id", Chain, "code", "chain"),
    ],
    filters={"trip_id": int, "enterprise_id": int, "lead_id": int},
    ordering=("id", "trip_id", "visited_on"),
    default_ordering=("trip_id", "visited_on", "id"),
)


class FollowUpRead(BaseModel):
    kind: Literal["lead", "project"] = Field(description="A lead's or a project's follow-up")
    id: int = Field(description="The lead's or the project's id")
    name: str = Field(description="The enterprise (a lead) or the project")
    chain_id: int | None = None
    due_on: dt.date = Field(description="When it falls due")
    overdue: bool = Field(description="Due before today")
    unit_id: int | None = Field(None, description="The unit whose it is")
    person_id: int | None = Field(None, description="The officer who follows it up")
    person: str | None = None
    status: str = Field(description="The lead's status, or the project's stage")
    next_step: str | None = Field(None, description="The next step the newest entry names")


class FollowUpQuery(BaseModel):
    # Text, checked by the route: a wrong value gets the API's error shape.
    who: str = Field("me", description="me: the caller's own follow-ups; unit: the caller's unit's")
    until: str | None = Field(
        None, description="Due on or before this day, YYYY-MM-DD (default: in a week)"
    )


class NegotiationFilePath(BaseModel):
    id: str = Field(description="The negotiation entry's id")
    file_id: int = Field(description="The file's id")


class NegotiationFileRead(BaseModel):
    id: int
    negotiation_id: int
    file_name: str
    media_type: str
    size_bytes: int
    sha256: str
    uploaded_by: str
    created_at: dt.datetime


FOLLOW_UPS = TypeAdapter(list[FollowUpRead])
FILES = TypeAdapter(list[NegotiationFileRead])
ONE_FILE = TypeAdapter(NegotiationFileRead)


def _blueprint() -> APIBlueprint:
    bp = APIBlueprint(
        "promotion_api",
        __name__,
        url_prefix="/api/v1",
        abp_tags=[Tag(name="promotion", description="Leads, negotiations, trips, follow-ups")],
        abp_security=[{"bearer": []}],
        abp_responses=dict(ERRORS),
    )

    def from_gap(body: FromGapCandidate = None):  # type: ignore[assignment]
        given = FromGapCandidate(**parse_body(FromGapCandidate, json_body()))
        session = db.session
        row, created = service.from_gap_candidate(
            session=session, segment_id=given.segment_id, supplier_id=given.supplier_id
        )
        session.commit()
        response = leads.detail_response(row)
        if created:
            response.status_code = 201
        response.headers["Location"] = f"/api/v1/leads/{row['id']}"
        return response

    from_gap.__delay_validate_request__ = True  # type: ignore[attr-defined]
    bp.post(
        "/leads-from-gap-candidates",
        summary="Turn a gap candidate (补链招商名单) into a lead of the caller's unit",
        description="The unit's open lead for the supplier in the gap segment's chain: created "
        "(201, source gap_candidate, owned by the caller) or, when it exists, returned (200).",
        responses={200: LeadRead, 201: LeadRead},
        operation_id="lead_from_gap_candidate",
    )(from_gap)

    @bp.get(
        "/follow-ups",
        summary="The follow-ups due within a week, overdue first",
        description="Open leads by their next follow-up date, and live projects by their newest "
        "negotiation entry's; the caller's own (leads they own, entries they logged) or their "
        "unit's.",
        responses={200: None},
        operation_id="list_follow_ups",
    )
    def follow_ups(query: FollowUpQuery):
        principal = current()
        if principal is None:
            raise Forbidden(N_("sign in first"))
        if query.who not in ("me", "unit"):
            raise Invalid(
                "who: %(value)r is not one of me, unit", params={"value": query.who}, field="who"
            )
        until = None
        if query.until:
            try:
                until = date.fromisoformat(query.until)
            except ValueError:
                raise Invalid(
                    "until: %(value)r is not a day (YYYY-MM-DD)",
                    params={"value": query.until},
                    field="until",
                ) from None
        session = db.session
        items = service.follow_ups(
            session=session, principal=principal, mine=query.who == "me", until=until
        )
        day = session.info.get("today")
        return typed_json(
            FOLLOW_UPS,
            [{**asdict(i), "overdue": day is not None and i.due_on < day} for i in items],
        )

    @bp.get(
        "/negotiations/<id>/files",
        summary="A negotiation entry's files (without their content)",
        responses={200: None},
        operation_id="list_negotiation_files",
    )
    def files(path: PathId):
        session = db.session
        entry = negotiations.get(session, path.id)
        return typed_json(
            FILES,
            service.files_of(session=session, negotiation_ids=[entry["id"]]).get(entry["id"], []),
        )

    def attach(id: str, path: PathId = None):  # type: ignore[assignment]
        upload = request.files.get("file")
        if upload is None:
            raise BadRequest(
                N_("send the file as multipart/form-data in a field named 'file'"), field="file"
            )
        with upload.stream:
            content, file_name = upload.read(), upload.filename or ""
        session = db.session
        entry = negotiations.get(session, id)
        principal = current()
        row = service.attach_file(
            session=session,
            negotiation_id=entry["id"],
            file_name=file_name,
            content=content,
            uploaded_by=principal.username if principal else "",
        )
        session.commit()
        response = typed_json(ONE_FILE, row, status=201)
        response.headers["Location"] = f"/api/v1/negotiations/{entry['id']}/files/{row['id']}"
        return response

    attach.__delay_validate_request__ = True  # type: ignore[attr-defined]
    bp.post(
        "/negotiations/<id>/files",
        summary="Keep a file with a negotiation entry (PDF, JPEG or PNG, at most 10 MiB)",
        description="multipart/form-data with the file in the field `file`; its type is found "
        "from its content. By the unit that logged the entry.",
        responses={201: NegotiationFileRead},
        operation_id="attach_negotiation_file",
    )(attach)

    @bp.get(
        "/negotiations/<id>/files/<int:file_id>",
        summary="Download a negotiation entry's file",
        responses={200: None},
        operation_id="get_negotiation_file",
    )
    def file(path: NegotiationFilePath):
        session = db.session
        entry = negotiations.get(session, path.id)
        return download(
            service.negotiation_file(
                session=session, negotiation_id=entry["id"], file_id=path.file_id
            )
        )

    return bp


def register(app: OpenAPI) -> None:
    accept_files("/files")
    app.register_api(_blueprint())
    for resource in (leads, negotiations, trips, trip_visits):
        app.register_api(resource.blueprint())
