from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    ColumnElement,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    inspect,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chaindb.db import Base, Timestamped, id_column, one_of


class ChainTier(StrEnum):
    ICONIC = "iconic"  # 标志性产业链
    KEY = "key"  # 重点产业链


class ChainGroup(StrEnum):
    ADVANTAGE = "advantage"  # 优势
    CHARACTERISTIC = "characteristic"  # 特色
    EMERGING = "emerging"  # 新兴


class SegmentPosition(StrEnum):
    UPSTREAM = "upstream"
    MIDSTREAM = "midstream"
    DOWNSTREAM = "downstream"


class SegmentBasis(StrEnum):
    GENERAL = "general"  # the industry's general structure, seeded: for the chain office to correct
    CONFIRMED = "confirmed"  # entered or checked by the chain office


class RoleKind(StrEnum):
    CHAIN_MASTER = "chain_master"  # 链主企业
    BACKBONE = "backbone"  # 龙头骨干企业
    SUPPLIER = "supplier"  # 配套企业


class Chain(Timestamped, Base):
    """An industrial chain (产业链); a key chain may sit under an iconic parent."""

    __tablename__ = "chain"
    __table_args__ = (
        one_of("tier", ChainTier, name="tier"),
        one_of('"group"', ChainGroup, name="group"),
        CheckConstraint("code ~ '^[a-z][a-z0-9-]{1,39}$'", name="code_format"),
        CheckConstraint("parent_id IS NULL OR tier = 'key'", name="only_key_chain_has_parent"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        CheckConstraint(
            "target_2030_cny_100m IS NULL OR target_2030_cny_100m >= 0",
            name="target_2030_non_negative",
        ),
        {"comment": "Industrial chains (产业链): 13 iconic (标志性) and 34 key (重点) chains"},
    )

    id: Mapped[int] = id_column()
    code: Mapped[str] = mapped_column(
        String(40), unique=True, comment="Natural key: lower-case slug, e.g. automotive"
    )
    name_zh: Mapped[str] = mapped_column(Text, unique=True, comment="Chinese name, e.g. 汽车")
    name_en: Mapped[str | None] = mapped_column(Text, comment="English name (may be unofficial)")
    tier: Mapped[str] = mapped_column(String(8), comment="iconic (标志性) or key (重点)")
    group: Mapped[str | None] = mapped_column(
        "group",
        String(16),
        comment="advantage (优势), characteristic (特色) or emerging (新兴); "
        'a reserved word in SQL: quote it as "group"',
    )
    chief: Mapped[str | None] = mapped_column(
        Text, comment="Chain chief (链长): the city leader in charge"
    )
    target_2030_cny_100m: Mapped[Decimal | None] = mapped_column(
        Numeric(14, 2), comment="2030 scale target, in 亿元 (100 million CNY)"
    )
    target_2030_scope: Mapped[str | None] = mapped_column(
        Text, comment="What the 2030 target measures when not the whole chain, e.g. 核心产业"
    )
    aliases: Mapped[list[str]] = mapped_column(
        ARRAY(Text),
        server_default=text("'{}'::text[]"),
        comment="Other names the chain is known by (e.g. 空天信息)",
    )
    parent_id: Mapped[int | None] = mapped_column(
        BigInteger,
        ForeignKey("chain.id", ondelete="RESTRICT"),
        index=True,
        comment="For a key chain: the iconic chain it belongs to (checked by trigger)",
    )
    sort_order: Mapped[int] = mapped_column(
        Integer, server_default=text("0"), comment="Display order in lists and reports"
    )
    notes: Mapped[str | None] = mapped_column(Text, comment="Free text: sources, caveats")


class ChainSegment(Timestamped, Base):
    """A segment (环节) of a chain's map: a tree per chain."""

    __tablename__ = "chain_segment"
    __table_args__ = (
        one_of("position", SegmentPosition, name="position"),
        one_of("basis", SegmentBasis, name="basis"),
        UniqueConstraint("chain_id", "code"),
        # Target of the composite foreign keys that keep a segment inside its own chain.
        UniqueConstraint("chain_id", "id"),
        ForeignKeyConstraint(
            ["chain_id", "parent_id"],
            ["chain_segment.chain_id", "chain_segment.id"],
            ondelete="RESTRICT",
            name="fk_chain_segment_parent_same_chain",
        ),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        CheckConstraint("code ~ '^[a-z0-9][a-z0-9.-]{0,39}$'", name="code_format"),
        Index("ix_chain_segment_parent_id", "parent_id"),
        {"comment": "Segments (环节) of each chain's map (产业链图谱), a tree per chain"},
    )

    id: Mapped[int] = id_column()
    chain_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("chain.id", ondelete="RESTRICT"), comment="The chain this maps"
    )
    parent_id: Mapped[int | None] = mapped_column(
        BigInteger, comment="Enclosing segment in the same chain; NULL for a top-level segment"
    )
    code: Mapped[str] = mapped_column(
        String(40), comment="Natural key within the chain, e.g. battery.cell"
    )
    name_zh: Mapped[str] = mapped_column(Text, comment="Chinese name, e.g. 动力电池")
    name_en: Mapped[str | None] = mapped_column(Text, comment="English name")
    position: Mapped[str] = mapped_column(
        String(12), comment="upstream (上游), midstream (中游) or downstream (下游)"
    )
    sort_order: Mapped[int] = mapped_column(
        Integer, server_default=text("0"), comment="Display order among siblings"
    )
    description: Mapped[str | None] = mapped_column(Text, comment="What the segment covers")
    basis: Mapped[str] = mapped_column(
        String(12),
        server_default=text("'confirmed'"),
        comment="general: from the industry's general structure, not a fact about the city, "
        "for the chain office to correct; confirmed: entered or checked by the chain office",
    )


class ChainRole(Timestamped, Base):
    """The role an enterprise holds in a chain (chain master, backbone, supplier) for a period."""

    __tablename__ = "chain_role"
    __table_args__ = (
        one_of("role", RoleKind, name="role"),
        ForeignKeyConstraint(
            ["chain_id", "segment_id"],
            ["chain_segment.chain_id", "chain_segment.id"],
            ondelete="RESTRICT",
            name="fk_chain_role_segment_same_chain",
        ),
        CheckConstraint("until IS NULL OR since IS NULL OR until >= since", name="period_order"),
        # One role of a kind per enterprise, chain and segment at any moment.
        ExcludeConstraint(
            ("enterprise_id", "="),
            ("chain_id", "="),
            ("role", "="),
            (text("COALESCE(segment_id, 0)"), "="),
            (text("daterange(since, until, '[]')"), "&&"),
            name="ex_chain_role_no_overlap",
            using="gist",
        ),
        Index("ix_chain_role_chain_id_role", "chain_id", "role"),
        Index("ix_chain_role_segment_id", "segment_id"),
        {
            "comment": "Roles of enterprises in chains: chain_master (链主), backbone (龙头骨干), "
            "supplier (配套), with their period"
        },
    )

    id: Mapped[int] = id_column()
    enterprise_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("enterprise.id", ondelete="RESTRICT"),
        index=True,
        comment="The enterprise holding the role",
    )
    chain_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("chain.id", ondelete="RESTRICT"), comment="The chain"
    )
    segment_id: Mapped[int | None] = mapped_column(
        BigInteger, comment="The segment of that chain, when the role is specific to one"
    )
    role: Mapped[str] = mapped_column(
        String(16), comment="chain_master (链主), backbone (龙头骨干) or supplier (配套)"
    )
    since: Mapped[date | None] = mapped_column(
        Date, comment="First day the role holds; NULL when not known"
    )
    until: Mapped[date | None] = mapped_column(
        Date, comment="Last day the role holds; NULL while it still holds"
    )
    source: Mapped[str | None] = mapped_column(Text, comment="Where the fact comes from")
    notes: Mapped[str | None] = mapped_column(Text, comment="Free text")


# --- when a role holds: the two meanings, each defined once (in the database) ---------------------


def role_held_on(day: Any, role: Any = ChainRole) -> ColumnElement[bool]:
    """The role holds on `day` (a date or a SQL date expression): the database's
    role_held_on(chain_role, date) (begun by then, or begun on a day not known, and not ended
    before it), which the reporting views and triggers call too. `role` is ChainRole or an alias
    or table of it."""
    return func.role_held_on(_row(role), day, type_=Boolean)


def role_not_ended(day: Any, role: Any = ChainRole) -> ColumnElement[bool]:
    """The role has not ended by `day`: the database's role_not_ended(chain_role, date) (it
    holds, or begins later: a role designated from next month is live for the lists that plan
    ahead)."""
    return func.role_not_ended(_row(role), day, type_=Boolean)


def _row(role: Any) -> Any:
    """The whole row of `role` (ChainRole, an aliased class, a table or an alias of it), as the
    argument of a function of a chain_role."""
    return inspect(role).selectable.table_valued()
