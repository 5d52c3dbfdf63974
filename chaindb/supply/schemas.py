"""Schemas of supply links (配套关系) and of the chain-master workflow."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chaindb.api.schemas import Confirmable, IdOrKey, LongText, ReadSchema, Schema, ShortText
from chaindb.chains.schemas import ChainRoleRead
from chaindb.supply.models import LinkStatus

Value10k = Decimal | None


def _verified_now(data: Any) -> Any:
    """verified: true without verified_at means "verified now" (the database wants the time)."""
    if isinstance(data, dict) and data.get("verified") is True and not data.get("verified_at"):
        return {**data, "verified_at": datetime.now().astimezone().isoformat()}
    return data


class SupplyLinkFields(Schema):
    segment_id: int | None = Field(None, description="A segment of the link's chain, when known")
    product: ShortText | None = Field(
        None, min_length=1, description="What is supplied, when known"
    )
    annual_value_cny_10k: Value10k = Field(
        None, ge=0, max_digits=16, decimal_places=2, description="Annual supply value, 万元"
    )
    since: date | None = Field(None, description="First day of supply, when known")
    until: date | None = Field(None, description="Last day of supply; required once ended")
    status: LinkStatus = Field(
        LinkStatus.ACTIVE, description="proposed (matched, not yet supplying), active or ended"
    )
    reported_by: ShortText | None = Field(
        None, description="Who reported the link (office, survey, enterprise)"
    )
    verified: bool = Field(False, description="True once verified; sets verified_at if not given")
    verified_at: datetime | None = Field(None, description="When it was verified")
    notes: LongText | None = None

    @model_validator(mode="before")
    @classmethod
    def verified_now(cls, data: Any) -> Any:
        return _verified_now(data)


class SupplyLinkCreate(SupplyLinkFields, Confirmable):
    supplier_id: IdOrKey = Field(description="The supplying enterprise (id or credit code)")
    buyer_id: IdOrKey = Field(description="The chain master supplied (id or credit code)")
    chain_id: IdOrKey = Field(description="The chain (id or code)")


class SupplyLinkUpdate(Confirmable):
    """Partial update of a supply link: every field optional."""

    supplier_id: IdOrKey | None = None
    buyer_id: IdOrKey | None = None
    chain_id: IdOrKey | None = None
    segment_id: int | None = None
    product: ShortText | None = Field(None, min_length=1)
    annual_value_cny_10k: Value10k = Field(None, ge=0, max_digits=16, decimal_places=2)
    since: date | None = None
    until: date | None = None
    status: LinkStatus | None = None
    reported_by: ShortText | None = None
    verified: bool | None = None
    verified_at: datetime | None = None
    notes: LongText | None = None

    @model_validator(mode="before")
    @classmethod
    def verified_now(cls, data: Any) -> Any:
        return _verified_now(data)


SupplyLinkUpdate.__partial_of__ = SupplyLinkCreate  # type: ignore[attr-defined]


class SupplyLinkRead(ReadSchema):
    supplier_id: int
    buyer_id: int
    chain_id: int
    segment_id: int | None
    product: str | None
    annual_value_cny_10k: Decimal | None
    since: date | None
    until: date | None
    status: LinkStatus
    reported_by: str | None
    verified: bool
    verified_at: datetime | None
    notes: str | None


# --- the chain-master workflow ------------------------------------------------------------------


class EnterprisePath(BaseModel):
    enterprise: str = Field(description="The enterprise's id or credit code")


class LinkPath(BaseModel):
    id: str = Field(description="The supply link's id")


class SupplierLinkCreate(SupplyLinkFields, Confirmable):
    """Link a supplier to the chain master named in the path."""

    chain: IdOrKey = Field(description="The chain (id or code)")
    supplier: IdOrKey = Field(description="The supplying enterprise (id or credit code)")


class SuppliersQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chain: str | None = Field(None, description="Only this chain (id or code); all when empty")
    limit: int = Field(500, ge=1, le=1000, description="Most suppliers listed (default 500)")
    offset: int = Field(0, ge=0, description="Suppliers to skip")


class SupplierRow(BaseModel):
    link_id: int
    chain_id: int
    chain_code: str
    supplier_id: int
    supplier_uscc: str | None
    supplier_name_zh: str
    supplier_short_name: str | None
    supplier_local: bool = Field(description="True when the supplier sits in a planning unit")
    supplier_district_id: int | None
    segment_id: int | None
    product: str | None
    annual_value_cny_10k: Decimal | None
    since: date | None
    until: date | None
    status: LinkStatus
    verified: bool


class SupplySummary(BaseModel):
    """The local supply rate of the chain master in one chain (DOMAIN.md), over active links."""

    chain_id: int
    chain_code: str
    active_links: int
    local_active_links: int
    local_rate_by_count: float | None = Field(description="Local ÷ all active links; null if none")
    links_with_value: int = Field(description="Active links whose annual value is known")
    value_cny_10k: Decimal = Field(description="Annual value of active links with a known value")
    local_value_cny_10k: Decimal
    local_rate_by_value: float | None = Field(
        description="Local ÷ all known annual value; null when no value is known"
    )
    proposed_links: int = Field(description="Matched but not yet supplying (not in the rates)")


class EnterpriseBrief(BaseModel):
    id: int
    uscc: str | None
    name_zh: str
    local: bool


class SuppliersPage(BaseModel):
    chain_master: EnterpriseBrief
    summary: list[SupplySummary] = Field(description="One per chain listed")
    count: int = Field(description="Live links (active and proposed) in the chains listed")
    suppliers: list[SupplierRow]


class EndLink(Schema):
    until: date | None = Field(None, description="Last day of supply; today when empty")
    reason: LongText | None = Field(None, min_length=1, description="Why it ended (kept in notes)")


class ChainMasterCreate(Schema):
    enterprise: IdOrKey = Field(description="The enterprise (id or credit code)")
    chain: IdOrKey = Field(description="The chain (id or code)")
    since: date | None = Field(None, description="First day of the role; today when empty")
    segment_id: int | None = Field(None, description="A segment of the chain, when specific")
    source: LongText | None = None
    notes: LongText | None = None


class ChainMasterRevoke(Schema):
    chain: IdOrKey = Field(description="The chain (id or code)")
    until: date | None = Field(None, description="Last day of the role; today when empty")
    end_links: bool = Field(
        False, description="End the live supply links first (with the same until)"
    )


class ChainMasterRow(BaseModel):
    role_id: int
    enterprise_id: int
    uscc: str | None
    name_zh: str
    short_name: str | None
    local: bool
    chain_id: int
    chain_code: str
    segment_id: int | None
    since: date | None
    until: date | None
    active_links: int


class ChainMastersQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chain: str | None = Field(None, description="Only this chain (id or code)")


class ChainMasterList(BaseModel):
    count: int
    results: list[ChainMasterRow]


class RevokeResult(BaseModel):
    roles: list[ChainRoleRead] = Field(description="The chain-master roles now ended")
    ended_link_ids: list[int] = Field(description="Supply links ended with the role")
