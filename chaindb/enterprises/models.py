from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    ColumnElement,
    Computed,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    inspect,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from chaindb.db import Base, Timestamped, id_column, one_of


class EnterpriseSize(StrEnum):
    LARGE = "large"
    MEDIUM = "medium"
    SMALL = "small"
    MICRO = "micro"


SME_SIZES = (EnterpriseSize.MEDIUM, EnterpriseSize.SMALL, EnterpriseSize.MICRO)


class Ownership(StrEnum):
    STATE = "state"  # 国有
    PRIVATE = "private"  # 民营
    FOREIGN = "foreign"  # 外资
    HMT = "hmt"  # 港澳台资
    COLLECTIVE = "collective"  # 集体
    MIXED = "mixed"  # 混合所有制
    OTHER = "other"


class DesignationType(StrEnum):
    INNOVATIVE_SME = "innovative_sme"  # 创新型中小企业
    SPECIALIZED_SME = "specialized_sme"  # 专精特新中小企业
    LITTLE_GIANT = "little_giant"  # 专精特新"小巨人"
    SINGLE_CHAMPION = "single_champion"  # 制造业单项冠军
    HIGH_TECH = "high_tech"  # 高新技术企业
    GAZELLE = "gazelle"  # 瞪羚
    UNICORN = "unicorn"  # 独角兽


class DesignationLevel(StrEnum):
    NATIONAL = "national"
    PROVINCIAL = "provincial"
    CITY = "city"


class Enterprise(Timestamped, Base):
    """A legal entity: local (it sits in a planning unit) or elsewhere."""

    __tablename__ = "enterprise"
    __table_args__ = (
        one_of("size", EnterpriseSize, name="size"),
        one_of("ownership", Ownership, name="ownership"),
        CheckConstraint("btrim(name_zh) <> ''", name="name_zh_not_blank"),
        # GB 32100-2015: format always; the check digit unless an override is recorded.
        CheckConstraint(
            "uscc ~ '^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$'",
            name="uscc_format",
        ),
        CheckConstraint(
            "uscc IS NULL OR uscc_check_override OR uscc_check_digit_ok(uscc)",
            name="uscc_check_digit",
        ),
        CheckConstraint(
            "NOT uscc_check_override OR (uscc IS NOT NULL AND COALESCE(btrim(uscc_override_reason), '') <> '')",
            name="uscc_override_has_reason",
        ),
        # Local enterprises carry their planning unit; others may carry the region they are in.
        CheckConstraint("district_id IS NULL OR region_code IS NULL", name="local_or_region"),
        CheckConstraint("region_code ~ '^[0-9]{6}$'", name="region_code_format"),
        CheckConstraint("region_code NOT LIKE '3701%'", name="region_code_not_local"),
        # Search (chaindb.enterprises.search): initials anywhere in the names, codes by prefix.
        Index(
            "ix_enterprise_name_initials_trgm",
            "name_initials",
            postgresql_using="gin",
            postgresql_ops={"name_initials": "gin_trgm_ops"},
        ),
        Index("ix_enterprise_uscc_pattern", "uscc", postgresql_ops={"uscc": "varchar_pattern_ops"}),
        # Possible duplicates (chaindb.enterprises.service.possible_duplicates): names alike.
        Index(
            "ix_enterprise_name_key_trgm",
            "name_key",
            postgresql_using="gin",
            postgresql_ops={"name_key": "gin_trgm_ops"},
        ),
        Index("ix_enterprise_alias_keys", "alias_keys", postgresql_using="gin"),
        {"comment": "Enterprises: chain masters, backbones, suppliers and investors, local or not"},
    )

    id: Mapped[int] = id_column()
    uscc: Mapped[str | None] = mapped_column(
        String(18),
        unique=True,
        comment="Unified social credit code (统一社会信用代码, GB 32100-2015, 18 characters); "
        "NULL when not registered or not known",
    )
    uscc_check_override: Mapped[bool] = mapped_column(
        Boolean,
        server_default=text("false"),
        comment="True for a genuine early code that fails the check digit (recorded override)",
    )
    uscc_override_reason: Mapped[str | None] = mapped_column(
        Text, comment="Why the check-digit override was granted, and by whom"
    )
    name_zh: Mapped[str] = mapped_column(Text, index=True, comment="Registered Chinese name")
    name_en: Mapped[str | None] = mapped_column(Text, comment="English name")
    short_name: Mapped[str | None] = mapped_column(Text, comment="Short name (简称), e.g. 比亚迪")
    aliases: Mapped[list[str]] = mapped_column(
        ARRAY(Text),
        server_default=text("'{}'::text[]"),
        comment="Former and other names",
    )
    name_key: Mapped[str | None] = mapped_column(
        Text,
        Computed("enterprise_name_key(name_zh)", persisted=True),
        comment="name_zh compared as people mean it (enterprise_name_key: full/half width, case, "
        "spaces, brackets and 有限公司/股份有限公司/集团 ignored), for finding duplicates",
    )
    alias_keys: Mapped[list[str]] = mapped_column(
        ARRAY(Text),
        Computed("enterprise_name_keys(array_append(aliases, short_name))", persisted=True),
        comment="The aliases and the short name compared as name_key compares the name",
    )
    name_initials: Mapped[str | None] = mapped_column(
        Text,
        comment="Pinyin initials of name_zh, short_name and aliases, lower-case, one word per "
        "name (e.g. 'bydjnjd byd'), for search; kept by the application, not the database",
    )
    district_id: Mapped[int | None] = mapped_column(
        BigInteger,
        ForeignKey("district.id", ondelete="RESTRICT"),
        index=True,
        comment="Planning unit the enterprise sits in; NULL = not local",
    )
    region_code: Mapped[str | None] = mapped_column(
        String(6),
        comment="For a non-local enterprise: the 6-digit GB/T 2260 code of where it is",
    )
    size: Mapped[str | None] = mapped_column(
        String(8), comment="large, medium, small or micro (大/中/小/微); NULL when unknown"
    )
    ownership: Mapped[str | None] = mapped_column(
        String(12),
        comment="state, private, foreign, hmt (港澳台), collective, mixed or other",
    )
    founded_on: Mapped[date | None] = mapped_column(Date, comment="Date of establishment")
    active: Mapped[bool] = mapped_column(
        Boolean, server_default=text("true"), comment="False once deregistered or closed"
    )
    notes: Mapped[str | None] = mapped_column(Text, comment="Free text: sources, caveats")


class Designation(Timestamped, Base):
    """A rung of the quality ladder (专精特新, 小巨人, 瞪羚 ...) held by an enterprise."""

    __tablename__ = "designation"
    __table_args__ = (
        one_of("type", DesignationType, name="type"),
        one_of("level", DesignationLevel, name="level"),
        UniqueConstraint("enterprise_id", "type", "level", "year"),
        CheckConstraint("year BETWEEN 1980 AND 2100", name="year_range"),
        CheckConstraint(
            "valid_until IS NULL OR valid_until >= make_date(year, 1, 1)",
            name="valid_after_year",
        ),
        {"comment": "Quality designations of enterprises (优质企业梯度), with level and validity"},
    )

    id: Mapped[int] = id_column()
    enterprise_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("enterprise.id", ondelete="CASCADE"),
        index=True,
        comment="The designated enterprise",
    )
    type: Mapped[str] = mapped_column(
        String(20),
        comment="innovative_sme, specialized_sme, little_giant, single_champion, high_tech, "
        "gazelle or unicorn",
    )
    level: Mapped[str] = mapped_column(
        String(12), comment="national, provincial or city: the level that granted it"
    )
    year: Mapped[int] = mapped_column(SmallInteger, comment="Year granted")
    valid_until: Mapped[date | None] = mapped_column(
        Date, comment="Last day it is valid; NULL when open-ended or unknown"
    )
    issuer: Mapped[str | None] = mapped_column(Text, comment="Granting authority")
    notes: Mapped[str | None] = mapped_column(Text, comment="Free text")


class InvestorAttributeKind(StrEnum):
    """What an investor is known as, which 招大引强 counts (with the year of the list)."""

    FORTUNE_GLOBAL_500 = "fortune_global_500"  # 世界500强
    CHINA_500 = "china_500"  # 中国企业500强
    PRIVATE_500 = "private_500"  # 中国民营企业500强
    CENTRAL_SOE = "central_soe"  # 央企
    LISTED = "listed"  # 上市公司


class InvestorAttribute(Timestamped, Base):
    """An investor's attribute for a year: on the 世界500强 list of 2025, a listed company ..."""

    __tablename__ = "investor_attribute"
    __table_args__ = (
        one_of("attribute", InvestorAttributeKind, name="attribute"),
        UniqueConstraint("enterprise_id", "attribute", "year"),
        CheckConstraint("year BETWEEN 1980 AND 2100", name="year_range"),
        CheckConstraint("list_rank IS NULL OR list_rank >= 1", name="list_rank_positive"),
        {
            "comment": "Investor attributes of enterprises (世界500强, 中国500强, 民营500强, 央企, "
            "上市公司), each for a year: what 招大引强 counts a project's investor by"
        },
    )

    id: Mapped[int] = id_column()
    enterprise_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("enterprise.id", ondelete="CASCADE"),
        index=True,
        comment="The enterprise (the investor, or its group)",
    )
    attribute: Mapped[str] = mapped_column(
        String(20),
        comment="fortune_global_500 (世界500强), china_500 (中国企业500强), private_500 (中国民营"
        "企业500强), central_soe (央企) or listed (上市公司)",
    )
    year: Mapped[int] = mapped_column(
        SmallInteger, comment="The year of the list (for 央企 and 上市公司: the year it was so)"
    )
    list_rank: Mapped[int | None] = mapped_column(
        Integer, comment="Its place on the list that year, when known"
    )
    source: Mapped[str | None] = mapped_column(Text, comment="Where the fact comes from")
    notes: Mapped[str | None] = mapped_column(Text, comment="Free text")


class EnterpriseMerge(Timestamped, Base):
    """A duplicate enterprise merged into another: what it was, so its keys still lead there."""

    __tablename__ = "enterprise_merge"
    __table_args__ = (
        Index("ix_enterprise_merge_merged_uscc", "merged_uscc"),
        {
            "comment": "Duplicates merged into another enterprise (the merged row is gone): its "
            "id, credit code and names lead to the enterprise it became part of"
        },
    )

    id: Mapped[int] = id_column()
    merged_id: Mapped[int] = mapped_column(
        BigInteger, unique=True, comment="The id the duplicate had (no longer a row)"
    )
    merged_uscc: Mapped[str | None] = mapped_column(
        String(18), comment="The duplicate's credit code, when it had one"
    )
    merged_name_zh: Mapped[str] = mapped_column(Text, comment="The duplicate's registered name")
    into_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("enterprise.id", ondelete="CASCADE"),
        index=True,
        comment="The enterprise it was merged into (followed on when that one is merged too)",
    )
    moved: Mapped[dict] = mapped_column(
        JSONB,
        server_default=text("'{}'::jsonb"),
        comment="What moved to into_id, per table, and what was dropped as a duplicate of its own",
    )
    actor: Mapped[str | None] = mapped_column(Text, comment="Who merged (the chaindb user)")


# --- local: defined once (in the database) ----------------------------------------------------


def is_local(enterprise: Any = Enterprise) -> ColumnElement[bool]:
    """The enterprise is local (located in one of the city's planning units): the database's
    is_local(enterprise), which the reporting views call too. `enterprise` is Enterprise or an
    alias or table of it."""
    return func.is_local(inspect(enterprise).selectable.table_valued(), type_=Boolean)
