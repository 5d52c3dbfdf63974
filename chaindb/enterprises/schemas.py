from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, StrictBool, StrictInt

from chaindb.api.schemas import Confirmable, IdOrKey, LongText, ReadSchema, Schema, ShortText
from chaindb.enterprises.models import (
    DesignationLevel,
    DesignationType,
    EnterpriseSize,
    InvestorAttributeKind,
    Ownership,
)


def _date_as_written(value: Any) -> Any:
    """A date is written YYYY-MM-DD: pydantic would otherwise read 0 as 1970-01-01."""
    if not isinstance(value, (str, date)):
        raise ValueError("a date is written as text, YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_date_as_written)]


class EnterpriseFields(Schema):
    uscc: str | None = Field(
        None,
        description="Unified social credit code (统一社会信用代码, 18 characters, GB 32100-2015); "
        "spaces and dashes are removed and letters upper-cased. Empty when not registered or "
        "not known",
        examples=["91370112DEM000001U"],
    )
    uscc_check_override: StrictBool = Field(
        False,
        description="Accept a genuine early code that fails the check character; needs "
        "uscc_override_reason",
    )
    uscc_override_reason: LongText | None = Field(
        None, description="Why the check-character override was granted, and by whom"
    )
    name_zh: ShortText = Field(
        min_length=1, description="Registered Chinese name, e.g. 比亚迪济南基地"
    )
    name_en: ShortText | None = None
    short_name: ShortText | None = Field(None, description="Short name (简称), e.g. 比亚迪")
    aliases: list[ShortText] = Field(default_factory=list, description="Former and other names")
    region_code: str | None = Field(
        None,
        pattern=r"^[0-9]{6}$",
        description="For a non-local enterprise: the 6-digit GB/T 2260 code of where it is "
        "(never 3701xx: a local enterprise gives district_id instead)",
    )
    size: EnterpriseSize | None = Field(None, description="large, medium, small or micro")
    ownership: Ownership | None = None
    founded_on: Day | None = Field(None, description="Date of establishment")
    active: StrictBool = Field(True, description="False once deregistered or closed")
    notes: LongText | None = None


class EnterpriseCreate(EnterpriseFields, Confirmable):
    district_id: IdOrKey | None = Field(
        None,
        description="The planning unit it sits in (id or district code, e.g. 370112); empty = "
        "not local",
    )


class EnterpriseRead(ReadSchema, EnterpriseFields):
    district_id: int | None
    name_initials: str | None = Field(
        None, description="Pinyin initials of the names, as searched by q (read-only)"
    )


class DesignationFields(Schema):
    type: DesignationType = Field(
        description="innovative_sme (创新型中小企业), specialized_sme (专精特新), little_giant "
        "(小巨人), single_champion (单项冠军), high_tech (高新技术企业), gazelle (瞪羚), "
        "unicorn (独角兽)"
    )
    level: DesignationLevel = Field(description="national, provincial or city")
    year: StrictInt = Field(ge=1980, le=2100, description="Year granted")
    valid_until: Day | None = Field(
        None, description="Last day it is valid (not before 1 January of year); empty if open"
    )
    issuer: ShortText | None = Field(None, description="Granting authority")
    notes: LongText | None = None


class DesignationCreate(DesignationFields):
    enterprise_id: IdOrKey = Field(description="The enterprise (id or credit code)")


class DesignationRead(ReadSchema, DesignationFields):
    enterprise_id: int


class InvestorAttributeFields(Schema):
    attribute: InvestorAttributeKind = Field(
        description="fortune_global_500 (世界500强), china_500 (中国企业500强), private_500 "
        "(民营企业500强), central_soe (央企) or listed (上市公司)"
    )
    year: StrictInt = Field(
        ge=1980, le=2100, description="The year of the list (央企, 上市公司: the year it was so)"
    )
    list_rank: StrictInt | None = Field(None, ge=1, description="Its place on the list, if known")
    source: LongText | None = Field(None, description="Where the fact comes from")
    notes: LongText | None = None


class InvestorAttributeCreate(InvestorAttributeFields):
    enterprise_id: IdOrKey = Field(description="The enterprise (id or credit code)")


class InvestorAttributeRead(ReadSchema, InvestorAttributeFields):
    enterprise_id: int


class MergeRequest(Schema):
    duplicate: IdOrKey = Field(
        description="The duplicate enterprise (id or credit code), merged into the one in the path"
    )
    dry_run: StrictBool = Field(False, description="Report what would move, change nothing")


class MergeResult(BaseModel):
    dry_run: bool
    into: int = Field(description="The enterprise kept")
    merged: int = Field(description="The duplicate's id (its row is gone)")
    merged_name_zh: str
    merged_uscc: str | None
    aliases_added: list[str] = Field(
        description="The duplicate's names, now the kept one's aliases"
    )
    moved: dict[str, int] = Field(
        description="Rows that now refer to the kept enterprise, by table"
    )
    dropped: dict[str, int] = Field(
        description="Rows dropped as the same fact twice (a link between the two, a live link or "
        "a designation the kept one has) or joined into one period (roles), by table"
    )
    filled: list[str] = Field(
        description="Fields the kept enterprise lacked, taken from the duplicate"
    )
