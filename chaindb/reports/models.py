from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Index, Numeric, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from chaindb.db import Base, id_column


class ReportRefresh(Base):
    """The last refresh of each materialized reporting view (not in change_log: it is a log
    itself, rewritten by every refresh)."""

    __tablename__ = "report_refresh"
    __table_args__ = (
        CheckConstraint("seconds IS NULL OR seconds >= 0", name="seconds_non_negative"),
        {
            "comment": "When each materialized reporting view was last refreshed (one row per "
            "view): its rows are the figures as of then. Written by chaindb.reports.refresh"
        },
    )

    view_name: Mapped[str] = mapped_column(
        Text, primary_key=True, comment="The materialized view, e.g. report_chain_overview"
    )
    refreshed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True),
        server_default=func.now(),
        comment="When its last refresh (or its creation) began: its rows are the data as of then",
    )
    seconds: Mapped[Decimal | None] = mapped_column(
        Numeric,
        comment="How long that refresh took, in seconds; NULL when not measured (created by a "
        "migration)",
    )


class ChainOverview(Base):
    """The figures of report_chain_overview, one row per chain: kept by the report refresher
    (chain_overview_catch_up(), chain_overview_rebuild()), never written by hand."""

    __tablename__ = "chain_overview"
    __table_args__ = (
        {
            "comment": "Derived: the figures of report_chain_overview for each chain "
            "(chain_overview_rows()). Kept by chain_overview_rebuild() and "
            "chain_overview_catch_up(), which the report refresher calls; read it through "
            "report_chain_overview"
        },
    )

    chain_id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, comment="The chain (chain.id)"
    )
    enterprises: Mapped[int] = mapped_column(
        BigInteger, comment="Distinct enterprises holding a role live today"
    )
    chain_masters: Mapped[int] = mapped_column(
        BigInteger, comment="Of enterprises: those holding a live chain_master role"
    )
    backbones: Mapped[int] = mapped_column(
        BigInteger, comment="Of enterprises: those holding a live backbone role"
    )
    suppliers: Mapped[int] = mapped_column(
        BigInteger, comment="Distinct suppliers of active supply links"
    )
    local_suppliers: Mapped[int] = mapped_column(BigInteger, comment="Of suppliers: the local ones")
    nonlocal_suppliers: Mapped[int] = mapped_column(
        BigInteger, comment="Of suppliers: those outside the city"
    )
    active_supply_links: Mapped[int] = mapped_column(BigInteger, comment="Active supply links")
    projects: Mapped[int] = mapped_column(BigInteger, comment="Approved projects not dropped")
    projects_lead: Mapped[int] = mapped_column(
        BigInteger, comment="Approved projects at stage lead"
    )
    projects_negotiating: Mapped[int] = mapped_column(
        BigInteger, comment="Approved projects at stage negotiating"
    )
    projects_signed: Mapped[int] = mapped_column(
        BigInteger, comment="Approved projects at stage signed"
    )
    projects_under_construction: Mapped[int] = mapped_column(
        BigInteger, comment="Approved projects at stage under_construction"
    )
    projects_in_production: Mapped[int] = mapped_column(
        BigInteger, comment="Approved projects at stage in_production"
    )
    projects_at_capacity: Mapped[int] = mapped_column(
        BigInteger, comment="Approved projects at stage at_capacity"
    )
    projects_dropped: Mapped[int] = mapped_column(
        BigInteger, comment="Approved projects at stage dropped"
    )
    agreed_investment_cny_100m: Mapped[Decimal] = mapped_column(
        Numeric, comment="Agreed investment of the approved projects not dropped, in 亿元"
    )
    agreed_lead_cny_100m: Mapped[Decimal] = mapped_column(Numeric, comment="Of it: at stage lead")
    agreed_negotiating_cny_100m: Mapped[Decimal] = mapped_column(
        Numeric, comment="Of it: at stage negotiating"
    )
    agreed_signed_cny_100m: Mapped[Decimal] = mapped_column(
        Numeric, comment="Of it: at stage signed"
    )
    agreed_under_construction_cny_100m: Mapped[Decimal] = mapped_column(
        Numeric, comment="Of it: at stage under_construction"
    )
    agreed_in_production_cny_100m: Mapped[Decimal] = mapped_column(
        Numeric, comment="Of it: at stage in_production"
    )
    agreed_at_capacity_cny_100m: Mapped[Decimal] = mapped_column(
        Numeric, comment="Of it: at stage at_capacity"
    )
    funds_arrived_cny_100m: Mapped[Decimal] = mapped_column(
        Numeric, comment="Funds arrived of the approved projects not dropped, in 亿元"
    )
    projects_reported: Mapped[int] = mapped_column(
        BigInteger, comment="Projects not dropped as the units report them, approved or not"
    )
    agreed_investment_reported_cny_100m: Mapped[Decimal] = mapped_column(
        Numeric, comment="Agreed investment of projects_reported, in 亿元"
    )


class ChainOverviewStale(Base):
    """A chain whose figures a write changed since chain_overview was last caught up: written by
    triggers on supply_link, chain_role, enterprise, project and project_approved, consumed by
    chain_overview_catch_up()."""

    __tablename__ = "chain_overview_stale"
    __table_args__ = (
        {
            "comment": "Queue of the chains whose roles, active supply links (or where their "
            "suppliers sit) or projects changed: chain_overview_catch_up() computes them again; "
            "0 stands for every chain (a TRUNCATE)"
        },
    )

    id: Mapped[int] = id_column()
    chain_id: Mapped[int] = mapped_column(
        BigInteger, comment="The chain (chain.id; no foreign key)"
    )


class ChainMasterSupply(Base):
    """The figures of report_chain_master_suppliers, one row per chain master and chain where its
    role is live: kept by the report refresher (chain_master_supply_catch_up(),
    chain_master_supply_rebuild()), never written by hand."""

    __tablename__ = "chain_master_supply"
    __table_args__ = (
        Index("ix_chain_master_supply_chain_id", "chain_id"),
        {
            "comment": "Derived: the figures of report_chain_master_suppliers for each chain "
            "master and chain where its chain_master role is live (chain_master_supply_rows()). "
            "Kept by chain_master_supply_rebuild() and chain_master_supply_catch_up(), which the "
            "report refresher calls; read it through report_chain_master_suppliers"
        },
    )

    chain_master_id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, comment="The chain master (enterprise.id)"
    )
    chain_id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, comment="The chain of its role (chain.id)"
    )
    suppliers: Mapped[int] = mapped_column(
        BigInteger, comment="Distinct suppliers of the master's active links in the chain"
    )
    local_suppliers: Mapped[int] = mapped_column(BigInteger, comment="Of suppliers: the local ones")
    nonlocal_suppliers: Mapped[int] = mapped_column(
        BigInteger, comment="Of suppliers: those outside the city"
    )
    sme_suppliers: Mapped[int] = mapped_column(
        BigInteger, comment="Of suppliers: SMEs (small, medium or micro)"
    )
    active_links: Mapped[int] = mapped_column(
        BigInteger, comment="Active supply links to the master in the chain"
    )
    local_active_links: Mapped[int] = mapped_column(
        BigInteger, comment="Of active_links: those with a local supplier"
    )
    links_with_value: Mapped[int] = mapped_column(
        BigInteger, comment="Of active_links: those with a known annual value"
    )
    value_cny_10k: Mapped[Decimal] = mapped_column(
        Numeric, comment="Sum of the known annual values, in 万元"
    )
    local_value_cny_10k: Mapped[Decimal] = mapped_column(
        Numeric, comment="Of it: the links with a local supplier, in 万元"
    )
    local_supply_rate_by_value: Mapped[Decimal | None] = mapped_column(
        Numeric, comment="The local supply rate by value, from supply_totals()"
    )
    local_supply_rate_by_count: Mapped[Decimal | None] = mapped_column(
        Numeric, comment="The local supply rate by count, from supply_totals()"
    )


class ChainMasterSupplyStale(Base):
    """A chain master and chain whose figures a write changed since chain_master_supply was last
    caught up: written by triggers on supply_link, chain_role and enterprise, consumed by
    chain_master_supply_catch_up()."""

    __tablename__ = "chain_master_supply_stale"
    __table_args__ = (
        {
            "comment": "Queue of the buyers and chains whose active supply links (or their "
            "suppliers' place or size) or chain-master roles changed: "
            "chain_master_supply_catch_up() computes those of live chain masters again; 0 stands "
            "for every one (a TRUNCATE)"
        },
    )

    id: Mapped[int] = id_column()
    chain_master_id: Mapped[int] = mapped_column(
        BigInteger, comment="The buyer or role holder (enterprise.id; no foreign key)"
    )
    chain_id: Mapped[int] = mapped_column(
        BigInteger, comment="The chain (chain.id; no foreign key)"
    )
