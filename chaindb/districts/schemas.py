from __future__ import annotations

import datetime as dt

from pydantic import Field

from chaindb.api.schemas import IdOrKey, LongText, ReadSchema, Schema, ShortText
from chaindb.districts.models import DistrictKind


class DistrictCreate(Schema):
    code: str = Field(
        min_length=2,
        max_length=16,
        description="6-digit NBS code, or a local upper-case code for a zone",
    )
    is_official_code: bool = Field(description="True when code is an official NBS / GB/T 2260 code")
    name_zh: ShortText = Field(min_length=1, description="Chinese name")
    name_en: ShortText | None = None
    kind: DistrictKind
    aliases: list[ShortText] = Field(
        default_factory=list, description="Other names and legacy codes"
    )
    sort_order: int = 0
    notes: LongText | None = None


class DistrictRead(ReadSchema, DistrictCreate):
    pass


class LeadingChainFields(Schema):
    since: dt.date | None = Field(None, description="First day, when known")
    until: dt.date | None = Field(None, description="Last day; empty while it lasts")
    source: LongText | None = Field(None, description="Where the designation comes from")
    notes: LongText | None = None


class LeadingChainCreate(LeadingChainFields):
    district_id: IdOrKey = Field(description="The planning unit (id or code)")
    chain_id: IdOrKey = Field(description="The chain (id or code)")


class LeadingChainRead(ReadSchema, LeadingChainFields):
    district_id: int
    chain_id: int
