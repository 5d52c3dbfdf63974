from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    FetchedValue,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from chaindb.db import Base, Timestamped, id_column, labelled, one_of


class Stage(StrEnum):
    LEAD = "lead"  # 储备
    NEGOTIATING = "negotiating"  # 在谈
    SIGNED = "signed"  # 签约
    UNDER_CONSTRUCTION = "under_construction"  # 开工
    IN_PRODUCTION = "in_production"  # 投产
    AT_CAPACITY = "at_capacity"  # 达产
    DROPPED = "dropped"  # 终止


# The forward order of the pipeline; `dropped` stands outside it. Mirrors project_stage_rank().
STAGE_ORDER = {s: i for i, s in enumerate(list(Stage)[:-1], start=1)}

# The project column holding the date each stage was reached, where the project keeps one.
STAGE_DATE_COLUMN = {
    Stage.SIGNED: "signed_on",
    Stage.UNDER_CONSTRUCTION: "construction_started_on",
    Stage.IN_PRODUCTION: "production_started_on",
    Stage.AT_CAPACITY: "capacity_reached_on",
    Stage.DROPPED: "dropped_on",
}


class ReviewStatus(StrEnum):
    """Where a project stands in the review of what units report (审核)."""

    DRAFT = "draft"  # 已保存: its unit edits it
    SUBMITTED = "submitted"  # 审核中: only the reviewer acts on it
    APPROVED = "approved"  # 审核通过: its figures count (project_approved keeps them)
    RETURNED = "returned"  # 退回: back to its unit with the reviewer's opinion


class CapitalOrigin(StrEnum):
    """Where a project's capital comes from (资金来源)."""

    LOCAL = "local"  # 本地
    PROVINCE = "province"  # 省内市外
    DOMESTIC = "domestic"  # 省外
    FOREIGN = "foreign"  # 境外


class SizeClass(StrEnum):
    """招大引强: the size class of a project by its agreed (total) investment."""

    ONE_YI = "one_yi"  # 亿元以上
    TEN_YI = "ten_yi"  # 10亿元以上
    FIFTY_YI = "fifty_yi"  # 50亿元以上
    HUNDRED_YI = "hundred_yi"  # 百亿级


# The lower bound of each size class, in 亿元 (the largest class first).
SIZE_CLASS_FLOORS = {
    SizeClass.HUNDRED_YI: 100,
    SizeClass.FIFTY_YI: 50,
    SizeClass.TEN_YI: 10,
    SizeClass.ONE_YI: 1,
}


def _size_class() -> str:
    """The size class's expression, written as PostgreSQL prints it back (so that comparing the
    models with the database finds them equal)."""
    cases = " ".join(
        f"WHEN (agreed_investment_cny_100m >= ({floor})::numeric) THEN '{size}'::text"
        for size, floor in SIZE_CLASS_FLOORS.items()
    )
    return f"CASE {cases} ELSE NULL::text END"


class ProjectKind(StrEnum):
    NEW = "new"
    EXPANSION = "expansion"  # 增资扩产 / 二期
    CAPITAL_INCREASE = "capital_increase"  # 增资


class Channel(StrEnum):
    CHAIN_MASTER = "chain_master"  # 链主招商
    BUSINESS_REFERRAL = "business_referral"  # 以商招商
    FUND = "fund"  # 基金招商
    ENTRUSTED = "entrusted"  # 委托招商
    DIRECT = "direct"  # 直接招商
    OTHER = "other"


def _dates_ordered() -> str:
    order = ["signed_on", "construction_started_on", "production_started_on", "capacity_reached_on"]
    pairs = [f"{a} <= {b}" for i, a in enumerate(order) for b in order[i + 1 :]]
    # NULL compares as unknown, which a CHECK lets through: only known dates are compared.
    return " AND ".join(f"({p})" for p in pairs)


def _date_not_ahead_of_stage(column: str, stage: Stage) -> CheckConstraint:
    return CheckConstraint(
        f"{column} IS NULL OR stage = 'dropped' OR project_stage_rank(stage) >= {STAGE_ORDER[stage]}",
        name=f"{column}_not_ahead_of_stage",
    )


class Project(Timestamped, Base):
    """An investment project (招商项目) moving from lead to production."""

    __tablename__ = "project"
    __table_args__ = (
        one_of("stage", Stage, name="stage"),
        one_of("kind", ProjectKind, name="kind"),
        one_of("channel", Channel, name="channel"),
        one_of("review_status", ReviewStatus, name="review_status"),
        one_of("capital_origin", CapitalOrigin, name="capital_origin"),
        CheckConstraint(
            "foreign_capital_usd_10k IS NULL OR capital_origin = 'foreign'",
            name="foreign_capital_only_from_abroad",
        ),
        CheckConstraint(
            "foreign_capital_usd_10k IS NULL OR foreign_capital_usd_10k >= 0",
            name="foreign_capital_non_negative",
        ),
        CheckConstraint(
            "first_phase_investment_cny_100m IS NULL OR first_phase_investment_cny_100m >= 0",
            name="first_phase_investment_non_negative",
        ),
        CheckConstraint(
            "fixed_asset_investment_cny_100m IS NULL OR fixed_asset_investment_cny_100m >= 0",
            name="fixed_asset_investment_non_negative",
        ),
        # NULL compares as unknown, which a CHECK lets through: only known amounts are compared.
        CheckConstraint(
            "first_phase_investment_cny_100m <= agreed_investment_cny_100m",
            name="first_phase_within_total",
        ),
        CheckConstraint(
            "fixed_asset_investment_cny_100m <= agreed_investment_cny_100m",
            name="fixed_asset_within_total",
        ),
        CheckConstraint("btrim(name) <> ''", name="name_not_blank"),
        CheckConstraint("(kind = 'new') = (parent_id IS NULL)", name="follow_on_has_parent"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        CheckConstraint(
            "investor_id IS NOT NULL OR COALESCE(btrim(investor_name), '') <> ''",
            name="has_investor",
        ),
        CheckConstraint(
            "agreed_investment_cny_100m IS NULL OR agreed_investment_cny_100m >= 0",
            name="agreed_investment_non_negative",
        ),
        CheckConstraint(
            "funds_arrived_cny_100m IS NULL OR funds_arrived_cny_100m >= 0",
            name="funds_arrived_non_negative",
        ),
        CheckConstraint(_dates_ordered(), name="stage_dates_ordered"),
        CheckConstraint(
            "agreed_start_on IS NULL OR signed_on IS NULL OR agreed_start_on >= signed_on",
            name="agreed_start_after_signing",
        ),
        CheckConstraint("(stage = 'dropped') = (dropped_on IS NOT NULL)", name="dropped_has_date"),
        _date_not_ahead_of_stage("signed_on", Stage.SIGNED),
        _date_not_ahead_of_stage("construction_started_on", Stage.UNDER_CONSTRUCTION),
        _date_not_ahead_of_stage("production_started_on", Stage.IN_PRODUCTION),
        _date_not_ahead_of_stage("capacity_reached_on", Stage.AT_CAPACITY),
        ForeignKeyConstraint(
            ["chain_id", "segment_id"],
            ["chain_segment.chain_id", "chain_segment.id"],
            ondelete="RESTRICT",
            name="fk_project_segment_same_chain",
        ),
        # Each carries the other scope column: row-level security reads both (project_in_scope),
        # so a list's count of a chain's or a unit's projects comes from the index alone.
        Index("ix_project_chain_id_stage", "chain_id", "stage", postgresql_include=["district_id"]),
        Index(
            "ix_project_district_id_stage", "district_id", "stage", postgresql_include=["chain_id"]
        ),
        Index("ix_project_segment_id", "segment_id"),
        Index(
            "ix_project_review_status",
            "review_status",
            postgresql_where="review_status IN ('submitted', 'returned')",
        ),
        {
            "comment": "Investment projects (招商项目). Amounts in 亿元. Every stage change is recorded "
            "in project_stage_event by trigger"
        },
    )

    id: Mapped[int] = id_column()
    name: Mapped[str] = mapped_column(Text, comment="Project name, as the offices write it")
    chain_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("chain.id", ondelete="RESTRICT"), comment="The chain it strengthens"
    )
    segment_id: Mapped[int | None] = mapped_column(
        BigInteger, comment="The segment of that chain, when known"
    )
    district_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("district.id", ondelete="RESTRICT"),
        comment="Planning unit where it lands",
    )
    investor_id: Mapped[int | None] = mapped_column(
        BigInteger,
        ForeignKey("enterprise.id", ondelete="RESTRICT"),
        index=True,
        comment="Investing enterprise, when registered in chaindb",
    )
    investor_name: Mapped[str | None] = mapped_column(
        Text, comment="Investor's name when it is not (yet) an enterprise in chaindb"
    )
    chain_master_id: Mapped[int | None] = mapped_column(
        BigInteger,
        ForeignKey("enterprise.id", ondelete="RESTRICT"),
        index=True,
        comment="The chain master the project serves (链主招商), checked by trigger",
    )
    kind: Mapped[str] = mapped_column(
        String(20),
        server_default=text("'new'"),
        comment="new, expansion or capital_increase; a follow-on names its parent and counts "
        "only the increment",
    )
    parent_id: Mapped[int | None] = mapped_column(
        BigInteger,
        ForeignKey("project.id", ondelete="RESTRICT"),
        index=True,
        comment="For an expansion or capital increase: the original project",
    )
    channel: Mapped[str | None] = mapped_column(
        String(20),
        comment="Attraction channel: chain_master (链主招商), business_referral (以商招商), "
        "fund (基金招商), entrusted (委托招商), direct or other",
    )
    agreed_investment_cny_100m: Mapped[Decimal | None] = mapped_column(
        Numeric(14, 4), comment="Agreed investment (协议投资), in 亿元 (100 million CNY)"
    )
    funds_arrived_cny_100m: Mapped[Decimal | None] = mapped_column(
        Numeric(14, 4), comment="Funds arrived to date (到位资金), in 亿元 (100 million CNY)"
    )
    stage: Mapped[str] = mapped_column(
        String(20),
        server_default=text("'lead'"),
        comment="lead (储备), negotiating (在谈), signed (签约), under_construction (开工), "
        "in_production (投产), at_capacity (达产) or dropped (终止)",
    )
    signed_on: Mapped[date | None] = mapped_column(Date, comment="Date signed (签约)")
    agreed_start_on: Mapped[date | None] = mapped_column(
        Date, comment="Construction start date agreed at signing (for the fulfilment rate)"
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
    is_key: Mapped[bool] = mapped_column(
        Boolean, server_default=text("false"), comment="City key project (市级重点项目)"
    )
    responsible_unit: Mapped[str | None] = mapped_column(
        Text, **labelled(_l("Responsible unit"), "Responsible unit")
    )
    responsible_person: Mapped[str | None] = mapped_column(
        Text, **labelled(_l("Responsible person"), "Responsible person")
    )
    contact_phone: Mapped[str | None] = mapped_column(
        Text,
        **labelled(
            _l("Contact phone"),
            "Phone of the project's contact (the investor's or the responsible person's), as "
            "the offices write it",
        ),
    )
    source: Mapped[str | None] = mapped_column(
        Text, **labelled(_l("Source of the facts"), "Where the facts come from")
    )
    notes: Mapped[str | None] = mapped_column(Text, **labelled(_l("Notes"), "Free text"))
    capital_origin: Mapped[str | None] = mapped_column(
        String(16),
        **labelled(
            _l("Capital origin"),
            "Where the capital comes from (资金来源): local (本地), province (省内市外, elsewhere in "
            "Shandong), domestic (省外, elsewhere in China) or foreign (境外)",
        ),
    )
    foreign_capital_usd_10k: Mapped[Decimal | None] = mapped_column(
        Numeric(14, 4),
        **labelled(
            _l("Foreign capital actually used (万美元)"),
            "Foreign capital actually used (实际使用外资), in 万美元 (10,000 USD); only for "
            "capital from abroad",
        ),
    )
    first_phase_investment_cny_100m: Mapped[Decimal | None] = mapped_column(
        Numeric(14, 4),
        **labelled(
            _l("First-phase investment (亿元)"),
            "First-phase investment (一期投资), in 亿元; at most the agreed (total) investment",
        ),
    )
    fixed_asset_investment_cny_100m: Mapped[Decimal | None] = mapped_column(
        Numeric(14, 4),
        **labelled(
            _l("Fixed-asset investment (亿元)"),
            "Fixed-asset investment (固定资产投资), in 亿元; at most the agreed (total) investment",
        ),
    )
    size_class: Mapped[str | None] = mapped_column(
        String(16),
        Computed(_size_class(), persisted=True),
        **labelled(
            _l("Size class"),
            "The size class (招大引强) by the agreed (total) investment, computed by the database: "
            "one_yi (亿元以上), ten_yi (10亿元以上), fifty_yi (50亿元以上) or hundred_yi (百亿级); "
            "NULL below 1 亿元 or when the amount is unknown",
        ),
    )
    review_status: Mapped[str] = mapped_column(
        String(16),
        server_default=text("'draft'"),
        # Changed by the database (a review, an edit of an approved project): read back after
        # every write.
        server_onupdate=FetchedValue(),
        comment="draft (已保存), submitted (审核中), approved (审核通过) or returned (退回): "
        "changed only by a review (project_review); an approved project that its unit edits "
        "becomes a draft again, while project_approved keeps the figures last approved",
    )
    lead_id: Mapped[int | None] = mapped_column(
        BigInteger,
        ForeignKey("lead.id", ondelete="RESTRICT"),
        unique=True,
        **labelled(
            _l("From lead"),
            "The lead (招商线索) it was converted from: the lead is signed by it, and counts in "
            "the conversion rates of its unit and source",
        ),
    )


class ProjectStageEvent(Timestamped, Base):
    """One move of a project between stages; written only by the project trigger."""

    __tablename__ = "project_stage_event"
    __table_args__ = (
        one_of("to_stage", Stage, name="to_stage"),
        one_of("from_stage", Stage, name="from_stage"),
        CheckConstraint("from_stage IS DISTINCT FROM to_stage", name="is_a_move"),
        CheckConstraint(
            # COALESCE throughout: a NULL would make the CHECK unknown, which lets the row in.
            "COALESCE(btrim(reason), '') <> '' OR NOT (to_stage = 'dropped' "
            "OR COALESCE(from_stage = 'dropped', false) "
            "OR COALESCE(project_stage_rank(to_stage) < project_stage_rank(from_stage), false))",
            name="backward_or_drop_has_reason",
        ),
        CheckConstraint("btrim(actor) <> ''", name="actor_not_blank"),
        Index("ix_project_stage_event_project_id_occurred_on", "project_id", "occurred_on"),
        {
            "comment": "Stage history of projects: every change of project.stage, with date, reason "
            "and actor (append-only)"
        },
    )

    id: Mapped[int] = id_column()
    project_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("project.id", ondelete="CASCADE"), comment="The project moved"
    )
    from_stage: Mapped[str | None] = mapped_column(
        String(20), comment="Stage before the move; NULL when the project was created"
    )
    to_stage: Mapped[str] = mapped_column(String(20), comment="Stage after the move")
    occurred_on: Mapped[date | None] = mapped_column(
        Date,
        comment="Date the move happened; NULL when not known (a project recorded at a stage it "
        "reached on a day nobody recorded)",
    )
    reason: Mapped[str | None] = mapped_column(
        Text, comment="Why; required when moving backwards, dropping or reviving"
    )
    note: Mapped[str | None] = mapped_column(Text, comment="Free text")
    actor: Mapped[str] = mapped_column(
        Text, comment="Who made the move (the chaindb user, else the database user)"
    )


class ProjectMilestone(Base):
    """A stage a project has reached, with the day when known; kept by a trigger on project."""

    __tablename__ = "project_milestone"
    __table_args__ = (
        one_of("stage", Stage, name="stage"),
        Index("ix_project_milestone_stage_reached_on", "stage", "reached_on"),
        {
            "comment": "The stages each project has reached, with the day it got there when "
            "known (one row per project and stage). Derived: kept by the trigger "
            "project_sync_milestones from the project and its stage history (project_reached()); "
            "read it through report_project_milestones"
        },
    )

    project_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("project.id", ondelete="CASCADE"),
        primary_key=True,
        comment="The project",
    )
    stage: Mapped[str] = mapped_column(String(20), primary_key=True, comment="The stage reached")
    rank: Mapped[int | None] = mapped_column(
        Integer, comment="Position of the stage (lead = 1 .. at_capacity = 6); NULL for dropped"
    )
    reached_on: Mapped[date | None] = mapped_column(
        Date,
        comment="The day it first got there: that of the first stage event into it, else the "
        "project's date for the stage; NULL when unknown",
    )
