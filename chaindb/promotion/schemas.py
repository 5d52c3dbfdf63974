"""What the promotion API reads and writes: leads, negotiation entries, trips and their visits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import Field

from chaindb.api.schemas import IdOrKey, LongText, ReadSchema, Schema, ShortText
from chaindb.db import comment_of
from chaindb.promotion.models import (
    Lead,
    LeadSource,
    LeadStatus,
    Negotiation,
    Trip,
    TripKind,
    TripVisit,
)

Amount = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4)]


def _about(column) -> str:
    return comment_of(column)


class LeadFields(Schema):
    enterprise_name: ShortText | None = Field(None, description=_about(Lead.enterprise_name))
    region: ShortText | None = Field(None, description=_about(Lead.region))
    industry: ShortText | None = Field(None, description=_about(Lead.industry))
    segment_id: int | None = Field(None, description=_about(Lead.segment_id))
    district_id: IdOrKey | None = Field(
        None, description="The planning unit it would land in (id or code), when known"
    )
    source_detail: ShortText | None = Field(None, description=_about(Lead.source_detail))
    trip_id: int | None = Field(None, description=_about(Lead.trip_id))
    owner_id: int | None = Field(
        None, description="The officer in charge (a user id); by default whoever creates it"
    )
    next_follow_up_on: dt.date | None = Field(None, description=_about(Lead.next_follow_up_on))
    dropped_reason: LongText | None = Field(None, description=_about(Lead.dropped_reason))
    expected_investment_cny_100m: Amount | None = Field(
        None, description=_about(Lead.expected_investment_cny_100m)
    )
    contact_name: ShortText | None = Field(None, description=_about(Lead.contact_name))
    contact_phone: ShortText | None = Field(None, description=_about(Lead.contact_phone))
    notes: LongText | None = None


class LeadCreate(LeadFields):
    chain_id: IdOrKey = Field(description="The chain it is pursued for (id or code)")
    enterprise_id: IdOrKey | None = Field(
        None, description="The enterprise, when chaindb has it (id or credit code)"
    )
    source: LeadSource = Field(description=_about(Lead.source))
    status: LeadStatus = Field(
        LeadStatus.NEW,
        description="new, contacted, negotiating or dropped (with dropped_reason); a lead is "
        "signed by converting it into a project (POST /projects with lead_id)",
    )
    unit_id: IdOrKey | None = Field(
        None, description="The unit that pursues it (id or code); by default the acting unit"
    )


class LeadRead(ReadSchema, LeadFields):
    unit_id: int
    chain_id: int
    enterprise_id: int | None = None
    district_id: int | None = None
    source: LeadSource
    status: LeadStatus


class FromGapCandidate(Schema):
    """A gap candidate of the 补链 list: a segment with no local enterprise, and a supplier."""

    segment_id: int = Field(description="The gap segment")
    supplier_id: int = Field(description="The non-local supplier serving it (an enterprise id)")


class NegotiationFields(Schema):
    place: ShortText | None = Field(None, description=_about(Negotiation.place))
    our_participants: LongText | None = Field(
        None, description=_about(Negotiation.our_participants)
    )
    their_participants: LongText | None = Field(
        None, description=_about(Negotiation.their_participants)
    )
    outcome: LongText | None = Field(None, description=_about(Negotiation.outcome))
    next_step: LongText | None = Field(None, description=_about(Negotiation.next_step))
    next_follow_up_on: dt.date | None = Field(
        None, description=_about(Negotiation.next_follow_up_on)
    )


class NegotiationCreate(NegotiationFields):
    lead_id: int | None = Field(None, description="The lead it is about (or project_id)")
    project_id: int | None = Field(None, description="The project it is about (or lead_id)")
    held_on: dt.date = Field(description=_about(Negotiation.held_on))
    content: LongText = Field(description=_about(Negotiation.content))


class NegotiationRead(ReadSchema, NegotiationCreate):
    unit_id: int
    recorded_by_id: int | None = None


class TripFields(Schema):
    destination: ShortText | None = Field(None, description=_about(Trip.destination))
    leader: ShortText | None = Field(None, description=_about(Trip.leader))
    participants: LongText | None = Field(None, description=_about(Trip.participants))
    notes: LongText | None = None


class TripCreate(TripFields):
    kind: TripKind = Field(TripKind.TRIP, description=_about(Trip.kind))
    title: ShortText = Field(description=_about(Trip.title))
    starts_on: dt.date = Field(description=_about(Trip.starts_on))
    ends_on: dt.date | None = Field(None, description="Last day; by default the first")


class TripRead(ReadSchema, TripFields):
    unit_id: int
    kind: TripKind
    title: str
    starts_on: dt.date
    ends_on: dt.date


class TripVisitFields(Schema):
    enterprise_name: ShortText | None = Field(None, description=_about(TripVisit.enterprise_name))
    visited_on: dt.date | None = Field(None, description=_about(TripVisit.visited_on))
    lead_id: int | None = Field(
        None, description="The lead the visit moved (an existing one); see also chain_id"
    )
    notes: LongText | None = None


class TripVisitCreate(TripVisitFields):
    trip_id: int = Field(description="The trip or event")
    enterprise_id: IdOrKey | None = Field(
        None, description="The enterprise, when chaindb has it (id or credit code)"
    )
    chain_id: IdOrKey | None = Field(
        None,
        description="Open a lead for the enterprise in this chain (id or code), sourced from "
        "the trip or event; or, when the unit already pursues it there, move that lead",
    )
    next_follow_up_on: dt.date | None = Field(
        None, description="The lead's next follow-up date, when the visit opens or moves one"
    )


class TripVisitRead(ReadSchema, TripVisitFields):
    trip_id: int
    enterprise_id: int | None = None
