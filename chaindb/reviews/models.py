"""The review of what units report (审核): its history, the figures last approved, and the
evidence attached to a project's stages (佐证材料).

The rules live in PostgreSQL (migration 20261205_4b8e2d6f1a93): a review row is inserted, and
its trigger checks the move (submit, withdraw, approve, return), the acting unit's right to make
it, and moves project.review_status; an approved project's figures are copied into
project_approved (and its milestones into project_approved_milestone), which the reports count.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from chaindb.db import Base, id_column, one_of
from chaindb.projects.models import ReviewStatus, Stage

__all__ = [
    "EVIDENCE_MAX_BYTES",
    "EvidenceKind",
    "MediaType",
    "ProjectApproved",
    "ProjectApprovedMilestone",
    "ProjectEvidence",
    "ProjectReview",
    "ReviewAction",
    "ReviewStatus",
]


class ReviewAction(StrEnum):
    SUBMIT = "submit"  # 提交: draft or returned -> submitted (the project's unit)
    WITHDRAW = "withdraw"  # 撤回: submitted -> draft (the project's unit, before the review)
    APPROVE = "approve"  # 审核通过: submitted -> approved (the reviewer)
    RETURN = "return"  # 退回: submitted -> returned, with an opinion (the reviewer)


# What each action moves a project from, and to. The trigger project_review_apply() holds the
# same table.
TRANSITIONS: dict[ReviewAction, tuple[frozenset[ReviewStatus], ReviewStatus]] = {
    ReviewAction.SUBMIT: (
        frozenset({ReviewStatus.DRAFT, ReviewStatus.RETURNED}),
        ReviewStatus.SUBMITTED,
    ),
    ReviewAction.WITHDRAW: (frozenset({ReviewStatus.SUBMITTED}), ReviewStatus.DRAFT),
    ReviewAction.APPROVE: (frozenset({ReviewStatus.SUBMITTED}), ReviewStatus.APPROVED),
    ReviewAction.RETURN: (frozenset({ReviewStatus.SUBMITTED}), ReviewStatus.RETURNED),
}
# The actions of the reviewer; the others are the project's unit's.
REVIEWER_ACTIONS = frozenset({ReviewAction.APPROVE, ReviewAction.RETURN})


class ProjectReview(Base):
    """One step of a project's review; inserted by the application, completed and applied by
    the trigger project_review_apply (append-only)."""

    __tablename__ = "project_review"
    __table_args__ = (
        one_of("action", ReviewAction, name="action"),
        one_of("from_status", ReviewStatus, name="from_status"),
        one_of("to_status", ReviewStatus, name="to_status"),
        one_of("stage", Stage, name="stage"),
        CheckConstraint(
            "action <> 'return' OR COALESCE(btrim(opinion), '') <> ''",
            name="return_has_opinion",
        ),
        Index("ix_project_review_project_id_id", "project_id", "id"),
        {
            "comment": "The review history of projects (审核记录): each submission, withdrawal, "
            "approval and return, with the reviewer's opinion, the stage the project reported, "
            "who and when (append-only; inserting a row applies it to project.review_status)"
        },
    )

    id: Mapped[int] = id_column()
    project_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("project.id", ondelete="CASCADE"), comment="The project reviewed"
    )
    action: Mapped[str] = mapped_column(
        String(16),
        comment="submit (提交), withdraw (撤回), approve (审核通过) or return (退回)",
    )
    opinion: Mapped[str | None] = mapped_column(
        Text, comment="The reviewer's opinion (审核意见); required when returning"
    )
    from_status: Mapped[str] = mapped_column(
        String(16), comment="The project's review status before (set by the trigger)"
    )
    to_status: Mapped[str] = mapped_column(
        String(16), comment="The project's review status after (set by the trigger)"
    )
    stage: Mapped[str] = mapped_column(
        String(20), comment="The stage the project stood at, as reported (set by the trigger)"
    )
    actor: Mapped[str] = mapped_column(
        Text, comment="Who acted (the chaindb user, else the database user; set by the trigger)"
    )
    unit_id: Mapped[int | None] = mapped_column(
        BigInteger,
        ForeignKey("unit.id", ondelete="RESTRICT"),
        index=True,
        comment="The unit acted for (set by the trigger); NULL when the database owner acted",
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), comment="When it happened"
    )


class ProjectApproved(Base):
    """The figures of a project as last approved: what every report counts."""

    __tablename__ = "project_approved"
    __table_args__ = (
        Index("ix_project_approved_chain_id_stage", "chain_id", "stage"),
        Index("ix_project_approved_district_id_stage", "district_id", "stage"),
        {
            "comment": "The approved figures (审核通过) of each project: a copy of the project "
            "row as it stood when last approved, written by the trigger project_take_approved "
            "(never by the application). The reports count these, so that nothing unreviewed "
            "enters the city's totals; project holds what units report. Amounts in 亿元"
        },
    )

    id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("project.id", ondelete="CASCADE"),
        primary_key=True,
        comment="The project (project.id)",
    )
    name: Mapped[str] = mapped_column(Text, comment="Project name, as approved")
    chain_id: Mapped[int] = mapped_column(BigInteger, comment="The chain, as approved")
    segment_id: Mapped[int | None] = mapped_column(BigInteger, comment="The segment, as approved")
    district_id: Mapped[int] = mapped_column(BigInteger, comment="The planning unit, as approved")
    investor_id: Mapped[int | None] = mapped_column(
        BigInteger, comment="The investing enterprise, as approved"
    )
    investor_name: Mapped[str | None] = mapped_column(
        Text, comment="The investor's name, as approved"
    )
    chain_master_id: Mapped[int | None] = mapped_column(
        BigInteger, comment="The chain master served, as approved"
    )
    kind: Mapped[str] = mapped_column(String(20), comment="new, expansion or capital_increase")
    parent_id: Mapped[int | None] = mapped_column(
        BigInteger, comment="The original project of a follow-on"
    )
    channel: Mapped[str | None] = mapped_column(String(20), comment="Attraction channel")
    agreed_investment_cny_100m: Mapped[Decimal | None] = mapped_column(
        Numeric(14, 4), comment="Agreed investment (协议投资) as approved, in 亿元"
    )
    funds_arrived_cny_100m: Mapped[Decimal | None] = mapped_column(
        Numeric(14, 4), comment="Funds arrived (到位资金) as approved, in 亿元"
    )
    stage: Mapped[str] = mapped_column(String(20), comment="The stage, as approved")
    signed_on: Mapped[date | None] = mapped_column(Date, comment="Date signed (签约)")
    agreed_start_on: Mapped[date | None] = mapped_column(
        Date, comment="Construction start date agreed at signing"
    )
    construction_started_on: Mapped[date | None] = mapped_column(
        Date, comment="Date construction started (开工)"
    )
    production_started_on: Mapped[date | None] = mapped_column(
        Date, comment="Date production started (投产)"
    )
    capacity_reached_on: Mapped[date | None] = mapped_column(
        Date, comment="Date full capacity reached (达产)"
    )
    dropped_on: Mapped[date | None] = mapped_column(Date, comment="Date dropped (终止)")
    is_key: Mapped[bool] = mapped_column(Boolean, comment="City key project (市级重点项目)")
    capital_origin: Mapped[str | None] = mapped_column(
        String(16), comment="Capital origin (资金来源): local, province, domestic or foreign"
    )
    foreign_capital_usd_10k: Mapped[Decimal | None] = mapped_column(
        Numeric(14, 4), comment="Foreign capital actually used (实际使用外资), in 万美元"
    )
    first_phase_investment_cny_100m: Mapped[Decimal | None] = mapped_column(
        Numeric(14, 4), comment="First-phase investment (一期投资), in 亿元"
    )
    fixed_asset_investment_cny_100m: Mapped[Decimal | None] = mapped_column(
        Numeric(14, 4), comment="Fixed-asset investment (固定资产投资), in 亿元"
    )
    size_class: Mapped[str | None] = mapped_column(
        String(16), comment="Size class (one_yi, ten_yi, fifty_yi, hundred_yi), as approved"
    )
    approved_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), comment="When it was approved"
    )
    last_stage_event_id: Mapped[int | None] = mapped_column(
        BigInteger,
        comment="The last stage move (project_stage_event.id) the approval covered: the moves "
        "after it wait for the next review",
    )
    approved_by: Mapped[str] = mapped_column(
        Text, comment="Who approved it (the chaindb user, else the database user)"
    )


class ProjectApprovedMilestone(Base):
    """A stage an approved project had reached when it was approved."""

    __tablename__ = "project_approved_milestone"
    __table_args__ = (
        one_of("stage", Stage, name="stage"),
        Index("ix_project_approved_milestone_stage_reached_on", "stage", "reached_on"),
        {
            "comment": "The milestones (project_milestone) of each project as last approved: "
            "the stages it had reached and their days, copied with project_approved by the "
            "trigger project_take_approved"
        },
    )

    project_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("project_approved.id", ondelete="CASCADE"),
        primary_key=True,
        comment="The project",
    )
    stage: Mapped[str] = mapped_column(String(20), primary_key=True, comment="The stage reached")
    rank: Mapped[int | None] = mapped_column(
        Integer, comment="Position of the stage (lead = 1 .. at_capacity = 6); NULL for dropped"
    )
    reached_on: Mapped[date | None] = mapped_column(
        Date, comment="The day it first got there; NULL when unknown"
    )
    # The project's, as approved: row-level security reads them on the row itself (a lookup of
    # the project per milestone made the monthly report ten times slower for a unit).
    chain_id: Mapped[int] = mapped_column(BigInteger, comment="The project's chain, as approved")
    district_id: Mapped[int] = mapped_column(
        BigInteger, comment="The project's planning unit, as approved"
    )


class EvidenceKind(StrEnum):
    CONTRACT = "contract"  # 合同 (签约)
    LICENCE = "licence"  # 营业执照 (注册)
    PERMIT = "permit"  # 施工许可 (开工)
    PHOTO = "photo"  # 现场照片
    PRODUCTION = "production"  # 投产证明
    OTHER = "other"


class MediaType(StrEnum):
    PDF = "application/pdf"
    JPEG = "image/jpeg"
    PNG = "image/png"


# The largest evidence file, in bytes (a scanned contract of some 40 pages at 150 dpi).
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024

# What each kind of file begins with; the database checks the content against its type.
SIGNATURES = {
    MediaType.PDF: "255044462d",  # %PDF-
    MediaType.JPEG: "ffd8ff",
    MediaType.PNG: "89504e470d0a1a0a",
}


def content_matches_type() -> str:
    """The CHECK that a file's first bytes are those of its declared media type."""
    cases = " ".join(
        f"WHEN '{media}' THEN substring(content FROM 1 FOR {len(magic) // 2}) "
        f"= decode('{magic}', 'hex')"
        for media, magic in SIGNATURES.items()
    )
    return f"CASE media_type {cases} ELSE false END"


class ProjectEvidence(Base):
    """A file attached to a project's stage as evidence (佐证材料)."""

    __tablename__ = "project_evidence"
    __table_args__ = (
        one_of("stage", Stage, name="stage"),
        one_of("kind", EvidenceKind, name="kind"),
        one_of("media_type", MediaType, name="media_type"),
        CheckConstraint(
            f"octet_length(content) BETWEEN 1 AND {EVIDENCE_MAX_BYTES}", name="size_within_limit"
        ),
        CheckConstraint(content_matches_type(), name="content_matches_type"),
        CheckConstraint("btrim(file_name) <> ''", name="file_name_not_blank"),
        Index("ix_project_evidence_project_id_stage", "project_id", "stage"),
        {
            "comment": "Evidence files (佐证材料) of projects: a contract for 签约, a business "
            "licence, a construction permit or photos for 开工, proof of production; PDF, JPEG "
            "or PNG, checked by content, with size and SHA-256 computed by the database"
        },
    )

    id: Mapped[int] = id_column()
    project_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("project.id", ondelete="CASCADE"), comment="The project"
    )
    stage: Mapped[str | None] = mapped_column(
        String(20), comment="The stage it is evidence of (signed, under_construction ...), if one"
    )
    kind: Mapped[str] = mapped_column(
        String(16),
        comment="contract (合同), licence (营业执照), permit (施工许可), photo (照片), "
        "production (投产证明) or other",
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
    note: Mapped[str | None] = mapped_column(Text, comment="Free text")
    uploaded_by: Mapped[str] = mapped_column(Text, comment="Who attached it (the chaindb user)")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), comment="When it was attached"
    )
