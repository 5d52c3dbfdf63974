from __future__ import annotations

from pydantic import Field

from chaindb.api.schemas import IdOrKey, LongText, ReadSchema, Schema, ShortText
from chaindb.units.models import UnitKind


class UnitCreate(Schema):
    code: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]{1,39}$",
        description="Lower-case letters, digits and dashes, e.g. chain-automotive, district-370102",
    )
    kind: UnitKind = Field(description="city, chain_office or district_office")
    name_zh: ShortText = Field(min_length=1, description="Chinese name")
    name_en: ShortText | None = None
    parent_id: IdOrKey | None = Field(
        None, description="The office it reports to, by id or code (the city bureau: city)"
    )
    chain_id: IdOrKey | None = Field(
        None, description="A chain office's chain (an iconic chain), by id or code"
    )
    district_id: IdOrKey | None = Field(
        None, description="A district office's planning unit, by id or code"
    )
    reviews_chain_projects: bool = Field(
        False,
        description="A chain office that reviews (approves or returns) its chains' projects, "
        "beside the city bureau",
    )
    sort_order: int = 0
    notes: LongText | None = None


class UnitRead(ReadSchema):
    code: str
    kind: UnitKind
    name_zh: str
    name_en: str | None
    parent_id: int | None
    chain_id: int | None
    district_id: int | None
    reader_role: str | None = Field(
        description="The database login role of the unit's analysts (chaindb db grant-reader)"
    )
    reviews_chain_projects: bool
    sort_order: int
    notes: str | None
