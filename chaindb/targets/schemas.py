from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from chaindb.api.schemas import IdOrKey, LongText, ReadSchema, Schema
from chaindb.targets.models import Metric, Scope, Unit

# numeric(16, 4) in the database
VALUE = {"max_digits": 16, "decimal_places": 4}


class TargetFields(Schema):
    scope: Scope = Field(
        description="city (no chain, no district), chain (chain_id), district (district_id) or "
        "unit (an office: unit_id, and chain_id for its target in one chain)"
    )
    year: int = Field(ge=2000, le=2100, description="Calendar year")
    metric: Metric
    unit: Unit = Field(
        description="Unit of both values: cny_100m (亿元), usd_10k (万美元), count or percent"
    )
    target_value: Decimal | None = Field(None, **VALUE, description="Target for the year, in unit")
    actual_value: Decimal | None = Field(
        None, **VALUE, description="Actual value for the year, in unit"
    )
    source: LongText | None = Field(None, description="Where the figures come from")
    notes: LongText | None = None


class TargetCreate(TargetFields):
    """A target and/or actual value; at least one of the two values is needed."""

    chain_id: IdOrKey | None = Field(None, description="For scope chain: the chain (id or code)")
    district_id: IdOrKey | None = Field(
        None, description="For scope district: the planning unit (id or code)"
    )
    unit_id: IdOrKey | None = Field(None, description="For scope unit: the office (id or code)")


class TargetRead(ReadSchema, TargetFields):
    chain_id: int | None
    district_id: int | None
    unit_id: int | None = None


class ChainRevenueFields(Schema):
    year: int = Field(ge=2000, le=2100, description="Calendar year")
    revenue_cny_100m: Decimal = Field(
        ge=0, max_digits=14, decimal_places=4, description="The chain's revenue in the year, 亿元"
    )
    source: LongText | None = Field(None, description="Where the figure comes from")
    notes: LongText | None = None


class ChainRevenueCreate(ChainRevenueFields):
    chain_id: IdOrKey = Field(description="The chain (id or code)")


class ChainRevenueRead(ReadSchema, ChainRevenueFields):
    chain_id: int
