from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from chaindb.db import Base, Timestamped, id_column, one_of


class Scope(StrEnum):
    CITY = "city"
    CHAIN = "chain"
    DISTRICT = "district"  # a planning unit
    UNIT = "unit"  # an office (the city bureau, a chain office, a district office), in a chain


class Metric(StrEnum):
    INDUSTRIAL_REVENUE = "industrial_revenue"  # 规上工业营收
    ICONIC_CHAINS_REVENUE = "iconic_chains_revenue"  # 13 条标志性产业链营收
    CHAIN_REVENUE = "chain_revenue"  # 产业链营收
    INDUSTRIAL_PROFIT = "industrial_profit"  # 规上工业利润
    PROJECTS_SIGNED = "projects_signed"  # 签约项目数
    INVESTMENT_SIGNED = "investment_signed"  # 签约投资额
    PROJECTS_STARTED = "projects_started"  # 开工项目数
    FUNDS_ARRIVED = "funds_arrived"  # 到位资金
    FOREIGN_CAPITAL_USED = "foreign_capital_used"  # 实际使用外资


# The metrics whose actual the approved projects give (report_target_progress counts them).
MEASURED_BY_PROJECTS = frozenset(
    {
        Metric.PROJECTS_SIGNED,
        Metric.INVESTMENT_SIGNED,
        Metric.PROJECTS_STARTED,
        Metric.FUNDS_ARRIVED,
        Metric.FOREIGN_CAPITAL_USED,
    }
)


class Unit(StrEnum):
    CNY_100M = "cny_100m"  # 亿元
    USD_10K = "usd_10k"  # 万美元
    COUNT = "count"
    PERCENT = "percent"


class Target(Timestamped, Base):
    """A metric's target and actual value for a scope (city, chain or planning unit) and year."""

    __tablename__ = "target"
    __table_args__ = (
        one_of("scope", Scope, name="scope"),
        one_of("metric", Metric, name="metric"),
        one_of("unit", Unit, name="unit"),
        CheckConstraint(
            "(scope = 'city' AND chain_id IS NULL AND district_id IS NULL AND unit_id IS NULL) "
            "OR (scope = 'chain' AND chain_id IS NOT NULL AND district_id IS NULL "
            "AND unit_id IS NULL) "
            "OR (scope = 'district' AND district_id IS NOT NULL AND chain_id IS NULL "
            "AND unit_id IS NULL) "
            "OR (scope = 'unit' AND unit_id IS NOT NULL AND district_id IS NULL)",
            name="scope_matches_keys",
        ),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
        CheckConstraint("target_value IS NOT NULL OR actual_value IS NOT NULL", name="has_a_value"),
        Index(
            "uq_target_scope_year_metric",
            "scope",
            "chain_id",
            "district_id",
            "unit_id",
            "year",
            "metric",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
        Index("ix_target_unit_id", "unit_id"),
        Index("ix_target_chain_id", "chain_id"),
        Index("ix_target_district_id", "district_id"),
        {
            "comment": "Targets and actual values of metrics by scope (city, chain, planning unit) "
            "and year; unit per row"
        },
    )

    id: Mapped[int] = id_column()
    scope: Mapped[str] = mapped_column(
        String(8), comment="city, chain, district (a planning unit) or unit (an office)"
    )
    chain_id: Mapped[int | None] = mapped_column(
        BigInteger,
        ForeignKey("chain.id", ondelete="RESTRICT"),
        comment="The chain, for scope chain",
    )
    district_id: Mapped[int | None] = mapped_column(
        BigInteger,
        ForeignKey("district.id", ondelete="RESTRICT"),
        comment="The planning unit, for scope district",
    )
    unit_id: Mapped[int | None] = mapped_column(
        BigInteger,
        ForeignKey("unit.id", ondelete="RESTRICT"),
        comment="The office, for scope unit (with chain_id: its target in that chain)",
    )
    year: Mapped[int] = mapped_column(SmallInteger, comment="Calendar year")
    metric: Mapped[str] = mapped_column(
        String(32),
        comment="industrial_revenue (规上工业营收), iconic_chains_revenue, chain_revenue, "
        "industrial_profit, projects_signed, investment_signed, projects_started (开工项目数), "
        "funds_arrived (到位资金) or foreign_capital_used (实际使用外资)",
    )
    unit: Mapped[str] = mapped_column(
        String(10),
        comment="Unit of both values: cny_100m (亿元), usd_10k (万美元), count or percent",
    )
    target_value: Mapped[Decimal | None] = mapped_column(
        Numeric(16, 4), comment="Target for the year, in unit"
    )
    actual_value: Mapped[Decimal | None] = mapped_column(
        Numeric(16, 4), comment="Actual value for the year, in unit"
    )
    source: Mapped[str | None] = mapped_column(Text, comment="Where the figures come from")
    notes: Mapped[str | None] = mapped_column(Text, comment="Free text")


class ChainRevenue(Timestamped, Base):
    """A chain's revenue in a year (产业链营收), entered by its chain office."""

    __tablename__ = "chain_revenue"
    __table_args__ = (
        UniqueConstraint("chain_id", "year"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
        CheckConstraint("revenue_cny_100m >= 0", name="revenue_non_negative"),
        {
            "comment": "Each chain's revenue per year (产业链营收), entered by its chain office: "
            "the actual of its revenue targets and, summed over the iconic chains, of the "
            "city's goal for the 13 chains (1.1万亿 in 2025)"
        },
    )

    id: Mapped[int] = id_column()
    chain_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("chain.id", ondelete="RESTRICT"), comment="The chain"
    )
    year: Mapped[int] = mapped_column(SmallInteger, comment="Calendar year")
    revenue_cny_100m: Mapped[Decimal] = mapped_column(
        Numeric(14, 4), comment="Revenue of the chain's enterprises in the year, in 亿元"
    )
    source: Mapped[str | None] = mapped_column(Text, comment="Where the figure comes from")
    notes: Mapped[str | None] = mapped_column(Text, comment="Free text")
