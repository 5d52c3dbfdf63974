from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import Field

from chaindb.api.schemas import IdOrKey, LongText, ReadSchema, Schema, ShortText
from chaindb.chains.models import ChainGroup, ChainTier, RoleKind, SegmentBasis, SegmentPosition


class ChainFields(Schema):
    code: str = Field(
        pattern=r"^[a-z][a-z0-9-]{1,39}$", description="Lower-case slug, e.g. automotive"
    )
    name_zh: ShortText = Field(min_length=1, description="Chinese name, e.g. 汽车")
    name_en: ShortText | None = None
    tier: ChainTier
    group: ChainGroup | None = None
    chief: ShortText | None = Field(None, description="Chain chief (链长)")
    target_2030_cny_100m: Decimal | None = Field(
        None, ge=0, max_digits=14, decimal_places=2, description="2030 target, 亿元"
    )
    target_2030_scope: ShortText | None = None
    aliases: list[ShortText] = Field(default_factory=list)
    sort_order: int = 0
    notes: LongText | None = None


class ChainCreate(ChainFields):
    parent_id: IdOrKey | None = Field(
        None, description="For a key chain: its iconic chain (id or code)"
    )


class ChainRead(ReadSchema, ChainFields):
    parent_id: int | None


class SegmentFields(Schema):
    code: str = Field(
        pattern=r"^[a-z0-9][a-z0-9.-]{0,39}$",
        description="Unique within the chain, e.g. battery.cell",
    )
    name_zh: ShortText = Field(min_length=1)
    name_en: ShortText | None = None
    position: SegmentPosition
    sort_order: int = 0
    description: LongText | None = None
    basis: SegmentBasis = Field(
        SegmentBasis.CONFIRMED,
        description="general: from the industry's general structure (seeded, not a fact about "
        "the city); confirmed: entered or checked by the chain office",
    )


class SegmentCreate(SegmentFields):
    chain_id: IdOrKey = Field(description="The chain (id or code)")
    parent_id: int | None = Field(None, description="The enclosing segment of the same chain")


class SegmentRead(ReadSchema, SegmentFields):
    chain_id: int
    parent_id: int | None


class ChainRoleFields(Schema):
    role: RoleKind
    segment_id: int | None = Field(None, description="A segment of the same chain")
    since: date | None = Field(None, description="First day the role holds")
    until: date | None = Field(None, description="Last day; empty while it holds")
    source: LongText | None = None
    notes: LongText | None = None


class ChainRoleCreate(ChainRoleFields):
    enterprise_id: IdOrKey = Field(description="The enterprise (id or credit code)")
    chain_id: IdOrKey = Field(description="The chain (id or code)")


class ChainRoleRead(ReadSchema, ChainRoleFields):
    enterprise_id: int
    chain_id: int
