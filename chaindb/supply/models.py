from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
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

from chaindb.db import Base, Timestamped, id_column, one_of


class LinkStatus(StrEnum):
    PROPOSED = "proposed"  # matched (匹配清单), not yet supplying
    ACTIVE = "active"
    ENDED = "ended"


class SupplyLink(Timestamped, Base):
    """A supplier enterprise supplying a chain master, for a chain (配套关系)."""

    __tablename__ = "supply_link"
    __table_args__ = (
        one_of("status", LinkStatus, name="status"),
        CheckConstraint("supplier_id <> buyer_id", name="not_self_supply"),
        CheckConstraint(
            "annual_value_cny_10k IS NULL OR annual_value_cny_10k >= 0",
            name="annual_value_non_negative",
        ),
        CheckConstraint("until IS NULL OR since IS NULL OR until >= since", name="period_order"),
        CheckConstraint("status <> 'ended' OR until IS NOT NULL", name="ended_has_until"),
        CheckConstraint("product IS NULL OR btrim(product) <> ''", name="product_not_blank"),
        CheckConstraint("NOT verified OR verified_at IS NOT NULL", name="verified_has_time"),
        ForeignKeyConstraint(
            ["chain_id", "segment_id"],
            ["chain_segment.chain_id", "chain_segment.id"],
            ondelete="RESTRICT",
            name="fk_supply_link_segment_same_chain",
        ),
        # The same supplier, buyer, chain and product is one live link (active or proposed),
        # not two (a missing product counts as one product).
        Index(
            "uq_supply_link_live",
            "supplier_id",
            "buyer_id",
            "chain_id",
            "product",
            unique=True,
            postgresql_where=text("status <> 'ended'"),
            postgresql_nulls_not_distinct=True,
        ),
        Index("ix_supply_link_buyer_id_chain_id", "buyer_id", "chain_id"),
        Index("ix_supply_link_chain_id_segment_id", "chain_id", "segment_id"),
        # A chain's suppliers of active links, from the index alone (the kept
        # report_chain_overview, migration f6b8d0a2c4e7).
        Index(
            "ix_supply_link_active_chain_id_supplier_id",
            "chain_id",
            "supplier_id",
            postgresql_where=text("status = 'active'"),
        ),
        # Each tier's suppliers from the index alone (supplier_tiers, report_supplier_tiers).
        Index(
            "ix_supply_link_active_buyer_id_chain_id_supplier_id",
            "buyer_id",
            "chain_id",
            "supplier_id",
            postgresql_where=text("status = 'active'"),
        ),
        {
            "comment": "Supply links (配套关系): supplier -> chain master, for a chain. The buyer must "
            "hold the chain_master role in that chain (trigger supply_link_check_buyer)"
        },
    )

    id: Mapped[int] = id_column()
    supplier_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("enterprise.id", ondelete="RESTRICT"),
        index=True,
        comment="The supplying enterprise (配套企业)",
    )
    buyer_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("enterprise.id", ondelete="RESTRICT"),
        comment="The chain master supplied (链主)",
    )
    chain_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("chain.id", ondelete="RESTRICT"), comment="The chain of the link"
    )
    segment_id: Mapped[int | None] = mapped_column(
        BigInteger, comment="The segment of that chain the supply belongs to, when known"
    )
    product: Mapped[str | None] = mapped_column(Text, comment="What is supplied, when known")
    annual_value_cny_10k: Mapped[Decimal | None] = mapped_column(
        Numeric(16, 2), comment="Annual supply value, in 万元 (10,000 CNY); NULL when unknown"
    )
    since: Mapped[date | None] = mapped_column(Date, comment="First day of supply, when known")
    until: Mapped[date | None] = mapped_column(
        Date, comment="Last day of supply; set when the link ends"
    )
    status: Mapped[str] = mapped_column(
        String(10),
        server_default=text("'active'"),
        comment="proposed (matched, not yet supplying), active or ended",
    )
    reported_by: Mapped[str | None] = mapped_column(
        Text, comment="Who reported the link (office, survey, enterprise)"
    )
    verified: Mapped[bool] = mapped_column(
        Boolean, server_default=text("false"), comment="True once the link has been verified"
    )
    verified_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="When it was verified"
    )
    notes: Mapped[str | None] = mapped_column(Text, comment="Free text")


class SupplierTier(Base):
    """An enterprise upstream of a chain master, at its tier: the rows of report_supplier_tiers,
    kept by the report refresher (chaindb.reports.listener), never written by hand."""

    __tablename__ = "supplier_tier"
    __table_args__ = (
        Index(
            "ix_supplier_tier_chain_master_id_chain_id_tier", "chain_master_id", "chain_id", "tier"
        ),
        Index("ix_supplier_tier_chain_id", "chain_id"),
        Index("ix_supplier_tier_supplier_id", "supplier_id"),
        {
            "comment": "Derived: for each chain master and chain where its chain_master role is "
            "live, every enterprise upstream of it through active supply links, down to tier 5 "
            "(supplier_tiers()). Kept by supplier_tier_rebuild() and supplier_tier_catch_up(), "
            "which the report refresher calls; read it through report_supplier_tiers"
        },
    )

    chain_master_id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, comment="The chain master at the root (enterprise.id)"
    )
    chain_id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, comment="The chain of the master's role (chain.id)"
    )
    supplier_id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, comment="The upstream enterprise (enterprise.id)"
    )
    tier: Mapped[int] = mapped_column(Integer, comment="1 = supplies the master directly, ...")
    via_buyer_id: Mapped[int] = mapped_column(
        BigInteger, comment="The enterprise one tier down that it supplies on the path"
    )
    path: Mapped[list[int]] = mapped_column(
        ARRAY(BigInteger), comment="Enterprise ids from the master to this enterprise"
    )


class SupplierTierStale(Base):
    """What changed the supplier tiers since supplier_tier was last caught up: a chain-master
    role (its holder), a link made active (its id), an active link gone (its buyer and
    supplier). Written by triggers on supply_link and chain_role, consumed by
    supplier_tier_catch_up()."""

    __tablename__ = "supplier_tier_stale"
    __table_args__ = (
        CheckConstraint("link_id IS NULL OR supplier_id IS NULL", name="link_or_supplier"),
        {
            "comment": "Queue of what changed the supplier tiers since supplier_tier_catch_up() "
            "last ran: a chain-master role (its holder), a link made active (link_id), an "
            "active link gone (supplier_id and its buyer); 0 stands for every enterprise (a "
            "TRUNCATE)"
        },
    )

    id: Mapped[int] = id_column()
    enterprise_id: Mapped[int] = mapped_column(
        BigInteger,
        comment="The buyer of the link made active or gone, or the holder of the changed role",
    )
    link_id: Mapped[int | None] = mapped_column(
        BigInteger,
        comment="A supply link inserted active, made active or moved while active "
        "(supply_link.id; no foreign key: it may be gone when the queue is read), placed by "
        "supplier_tier_place(); NULL for any other change",
    )
    supplier_id: Mapped[int | None] = mapped_column(
        BigInteger,
        comment="For an active supply link gone (deleted, ended, turned proposed, moved): its "
        "supplier, enterprise_id its buyer; NULL for any other change",
    )
