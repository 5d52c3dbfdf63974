"""The promotion work (招商工作) that produces projects: the enterprises a unit pursues (leads,
招商线索), each contact and negotiation with them (洽谈记录) and the promotion trips and events
(外出招商, 招商推介会) with the enterprises visited.

The rules live in PostgreSQL (migration 20261204_f1c3e5a7b9d2): a lead belongs to a unit and is
seen by that unit, the city bureau, and the offices of its chain and its planning unit (row-level
security); a lead is signed only by a project that names it (project.lead_id), and goes back to
negotiating when that project is deleted; a negotiation logged on a lead moves its follow-up
date and a new lead to contacted.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from chaindb.db import Base, Timestamped, id_column, one_of
from chaindb.reviews.models import EVIDENCE_MAX_BYTES, MediaType, content_matches_type

__all__ = [
    "OPEN_STATUSES",
    "Lead",
    "LeadSource",
    "LeadStatus",
    "Negotiation",
    "NegotiationFile",
    "Trip",
    "TripKind",
    "TripVisit",
]


class LeadSource(StrEnum):
    """Where a lead comes from."""

    GAP_CANDIDATE = "gap_candidate"  # 补链招商名单
    TRIP = "trip"  # 外出招商
    EVENT = "event"  # 招商推介会
    REFERRAL = "referral"  # 推荐
    INVESTOR = "investor"  # 以商招商: an investor already here
    FUND = "fund"  # 基金招商
    OTHER = "other"


class LeadStatus(StrEnum):
    NEW = "new"  # 新线索
    CONTACTED = "contacted"  # 已接触
    NEGOTIATING = "negotiating"  # 洽谈中
    SIGNED = "signed"  # 已签约: a project names it
    DROPPED = "dropped"  # 已放弃, with the reason


# The statuses of a lead still being worked: its follow-ups fall due.
OPEN_STATUSES = (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.NEGOTIATING)
_OPEN = ", ".join(f"'{s}'" for s in OPEN_STATUSES)


class Lead(Timestamped, Base):
    """An enterprise a unit pursues for a chain (招商线索, 招商目标企业)."""

    __tablename__ = "lead"
    __table_args__ = (
        one_of("source", LeadSource, name="source"),
        one_of("status", LeadStatus, name="status"),
        CheckConstraint(
            "enterprise_id IS NOT NULL OR COALESCE(btrim(enterprise_name), '') <> ''",
            name="names_its_enterprise",
        ),
        CheckConstraint(
            "status <> 'dropped' OR COALESCE(btrim(dropped_reason), '') <> ''",
            name="dropped_with_a_reason",
        ),
        CheckConstraint(
            "expected_investment_cny_100m IS NULL OR expected_investment_cny_100m >= 0",
            name="expected_investment_non_negative",
        ),
        ForeignKeyConstraint(
            ["chain_id", "segment_id"],
            ["chain_segment.chain_id", "chain_segment.id"],
            ondelete="RESTRICT",
            name="fk_lead_segment_same_chain",
        ),
        # One open lead per unit, enterprise and chain: a second click on a gap candidate finds
        # the first.
        Index(
            "uq_lead_open_unit_id_enterprise_id_chain_id",
            "unit_id",
            "enterprise_id",
            "chain_id",
            unique=True,
            postgresql_where=f"enterprise_id IS NOT NULL AND status IN ({_OPEN})",
        ),
        Index("ix_lead_unit_id_status", "unit_id", "status"),
        Index("ix_lead_chain_id", "chain_id"),
        Index("ix_lead_enterprise_id", "enterprise_id"),
        Index("ix_lead_owner_id", "owner_id"),
        Index(
            "ix_lead_next_follow_up_on",
            "next_follow_up_on",
            postgresql_where=f"status IN ({_OPEN})",
        ),
        # An officer's open leads by due date: the count beside Follow-ups on every page.
        Index(
            "ix_lead_owner_id_next_follow_up_on",
            "owner_id",
            "next_follow_up_on",
            postgresql_where=f"status IN ({_OPEN})",
        ),
        {
            "comment": "Leads (招商线索): the enterprises a unit pursues for a chain, with an owner, "
            "a source, a status (new, contacted, negotiating, signed as a project, dropped with "
            "a reason) and the next follow-up date; seen by its unit, the city bureau and the "
            "offices of its chain and planning unit"
        },
    )

    id: Mapped[int] = id_column()
    unit_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("unit.id", ondelete="RESTRICT"),
        server_default=text("acting_unit()"),
        comment="The unit that pursues it (by default the acting unit)",
    )
    owner_id: Mapped[int | None] = mapped_column(
        BigInteger,
        ForeignKey("app_user.id", ondelete="SET NULL"),
        comment="The officer in charge (a user of the unit)",
    )
    enterprise_id: Mapped[int | None] = mapped_column(
        BigInteger,
        ForeignKey("enterprise.id", ondelete="RESTRICT"),
        comment="The enterprise, when chaindb has it",
    )
    enterprise_name: Mapped[str | None] = mapped_column(
        Text, comment="The enterprise's name, when chaindb does not have it"
    )
    region: Mapped[str | None] = mapped_column(
        Text, comment="Where the enterprise is (province, city), e.g. 广东省深圳市"
    )
    industry: Mapped[str | None] = mapped_column(Text, comment="Its industry, in its own words")
    chain_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("chain.id", ondelete="RESTRICT"),
        comment="The chain it is pursued for",
    )
    segment_id: Mapped[int | None] = mapped_column(
        BigInteger, comment="The segment of that chain it would fill, when known"
    )
    district_id: Mapped[int | None] = mapped_column(
        BigInteger,
        ForeignKey("district.id", ondelete="RESTRICT"),
        index=True,
        comment="The planning unit it would land in, when known",
    )
    source: Mapped[str] = mapped_column(
        String(16),
        comment="gap_candidate (补链招商名单), trip (外出招商), event (推介会), referral, "
        "investor (以商招商), fund (基金招商) or other",
    )
    source_detail: Mapped[str | None] = mapped_column(
        Text, comment="Who referred it, which investor or fund, which event"
    )
    trip_id: Mapped[int | None] = mapped_column(
        BigInteger,
        ForeignKey("trip.id", ondelete="SET NULL"),
        index=True,
        comment="The trip or event it came from",
    )
    status: Mapped[str] = mapped_column(
        String(12),
        server_default=text("'new'"),
        comment="new, contacted, negotiating, signed (a project names it) or dropped",
    )
    next_follow_up_on: Mapped[date | None] = mapped_column(
        Date, comment="When to follow it up next (a negotiation logged on it moves this)"
    )
    dropped_reason: Mapped[str | None] = mapped_column(Text, comment="Why it was dropped")
    expected_investment_cny_100m: Mapped[Decimal | None] = mapped_column(
        Numeric(14, 4), comment="The investment hoped for, in 亿元"
    )
    contact_name: Mapped[str | None] = mapped_column(Text, comment="Their contact person")
    contact_phone: Mapped[str | None] = mapped_column(Text, comment="Their contact's phone")
    notes: Mapped[str | None] = mapped_column(Text, comment="Free text")


class Negotiation(Timestamped, Base):
    """A contact or negotiation (洽谈记录) with a lead's or a project's enterprise."""

    __tablename__ = "negotiation"
    __table_args__ = (
        CheckConstraint("num_nonnulls(lead_id, project_id) = 1", name="of_a_lead_or_a_project"),
        CheckConstraint("btrim(content) <> ''", name="content_not_blank"),
        CheckConstraint(
            "next_follow_up_on IS NULL OR next_follow_up_on >= held_on",
            name="follow_up_after_meeting",
        ),
        Index("ix_negotiation_lead_id_held_on", "lead_id", "held_on"),
        Index("ix_negotiation_project_id_held_on", "project_id", "held_on"),
        Index("ix_negotiation_unit_id", "unit_id"),
        {
            "comment": "Negotiation log (洽谈记录): each contact with a lead's or a project's "
            "enterprise: when, where, who on both sides, what was said, the outcome, the next "
            "step and when to follow up; belongs to the unit that logged it"
        },
    )

    id: Mapped[int] = id_column()
    lead_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("lead.id", ondelete="CASCADE"), comment="The lead it is about"
    )
    project_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("project.id", ondelete="CASCADE"), comment="The project it is about"
    )
    unit_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("unit.id", ondelete="RESTRICT"),
        server_default=text("acting_unit()"),
        comment="The unit that logged it (by default the acting unit)",
    )
    recorded_by_id: Mapped[int | None] = mapped_column(
        BigInteger,
        ForeignKey("app_user.id", ondelete="SET NULL"),
        index=True,
        comment="The officer who logged it, who follows it up",
    )
    held_on: Mapped[date] = mapped_column(Date, comment="The day it took place")
    place: Mapped[str | None] = mapped_column(Text, comment="Where (a city, an office, online)")
    our_participants: Mapped[str | None] = mapped_column(Text, comment="Our side: names and posts")
    their_participants: Mapped[str | None] = mapped_column(
        Text, comment="Their side: names with titles"
    )
    content: Mapped[str] = mapped_column(Text, comment="What was discussed")
    outcome: Mapped[str | None] = mapped_column(Text, comment="What came of it")
    next_step: Mapped[str | None] = mapped_column(Text, comment="What is to be done next")
    next_follow_up_on: Mapped[date | None] = mapped_column(
        Date, comment="When to follow up (on a lead, its next follow-up date becomes this)"
    )


class NegotiationFile(Base):
    """A file kept with a negotiation entry (minutes, a letter of intent, a photo)."""

    __tablename__ = "negotiation_file"
    __table_args__ = (
        one_of("media_type", MediaType, name="media_type"),
        CheckConstraint(
            f"octet_length(content) BETWEEN 1 AND {EVIDENCE_MAX_BYTES}", name="size_within_limit"
        ),
        CheckConstraint(content_matches_type(), name="content_matches_type"),
        CheckConstraint("btrim(file_name) <> ''", name="file_name_not_blank"),
        {
            "comment": "Files of negotiation entries (minutes, letters of intent, photos): PDF, "
            "JPEG or PNG, checked by content, with size and SHA-256 computed by the database"
        },
    )

    id: Mapped[int] = id_column()
    negotiation_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("negotiation.id", ondelete="CASCADE"),
        index=True,
        comment="The negotiation entry",
    )
    file_name: Mapped[str] = mapped_column(Text, comment="The file's name as uploaded")
    media_type: Mapped[str] = mapped_column(
        String(40),
        comment="application/pdf, image/jpeg or image/png: found from the content, never the name",
    )
    content: Mapped[bytes] = mapped_column(
        LargeBinary, deferred=True, comment="The file (at most 10 MiB)"
    )
    size_bytes: Mapped[int] = mapped_column(
        Integer,
        Computed("octet_length(content)", persisted=True),
        comment="Size of the file in bytes",
    )
    sha256: Mapped[str] = mapped_column(
        String(64),
        Computed("encode(sha256(content), 'hex')", persisted=True),
        comment="SHA-256 of the file, in hex (computed by the database)",
    )
    uploaded_by: Mapped[str] = mapped_column(Text, comment="Who attached it (the chaindb user)")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), comment="When it was attached"
    )


class TripKind(StrEnum):
    TRIP = "trip"  # 外出招商
    EVENT = "event"  # 招商推介会 (here or elsewhere)


class Trip(Timestamped, Base):
    """A promotion trip or event (外出招商, 招商推介会)."""

    __tablename__ = "trip"
    __table_args__ = (
        one_of("kind", TripKind, name="kind"),
        CheckConstraint("btrim(title) <> ''", name="title_not_blank"),
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        Index("ix_trip_unit_id_starts_on", "unit_id", "starts_on"),
        {
            "comment": "Promotion trips and events (外出招商, 招商推介会): dates, destination, the "
            "leader, the participants, and the enterprises visited (trip_visit); belong to the "
            "unit that organised them"
        },
    )

    id: Mapped[int] = id_column()
    unit_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("unit.id", ondelete="RESTRICT"),
        server_default=text("acting_unit()"),
        comment="The unit that organised it (by default the acting unit)",
    )
    kind: Mapped[str] = mapped_column(
        String(8), server_default=text("'trip'"), comment="trip (外出招商) or event (招商推介会)"
    )
    title: Mapped[str] = mapped_column(Text, comment="What it is called")
    starts_on: Mapped[date] = mapped_column(Date, comment="First day")
    ends_on: Mapped[date] = mapped_column(Date, comment="Last day")
    destination: Mapped[str | None] = mapped_column(
        Text, comment="Where to (cities), or the venue of an event"
    )
    leader: Mapped[str | None] = mapped_column(Text, comment="Who led it (name and post)")
    participants: Mapped[str | None] = mapped_column(Text, comment="Who went: names and posts")
    notes: Mapped[str | None] = mapped_column(Text, comment="Free text: the outcome")


class TripVisit(Timestamped, Base):
    """An enterprise visited on a trip or met at an event; it may open or move a lead."""

    __tablename__ = "trip_visit"
    __table_args__ = (
        CheckConstraint(
            "enterprise_id IS NOT NULL OR COALESCE(btrim(enterprise_name), '') <> ''",
            name="names_its_enterprise",
        ),
        {
            "comment": "The enterprises visited on a trip or met at an event, each with the lead "
            "it opened or moved, if any"
        },
    )

    id: Mapped[int] = id_column()
    trip_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("trip.id", ondelete="CASCADE"),
        index=True,
        comment="The trip or event",
    )
    enterprise_id: Mapped[int | None] = mapped_column(
        BigInteger,
        ForeignKey("enterprise.id", ondelete="RESTRICT"),
        index=True,
        comment="The enterprise, when chaindb has it",
    )
    enterprise_name: Mapped[str | None] = mapped_column(
        Text, comment="The enterprise's name, when chaindb does not have it"
    )
    visited_on: Mapped[date | None] = mapped_column(Date, comment="The day of the visit")
    lead_id: Mapped[int | None] = mapped_column(
        BigInteger,
        ForeignKey("lead.id", ondelete="SET NULL"),
        index=True,
        comment="The lead the visit opened or moved",
    )
    notes: Mapped[str | None] = mapped_column(Text, comment="What was said, what came of it")
