from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from chaindb.db import Base, Timestamped, id_column, one_of


class DistrictKind(StrEnum):
    DISTRICT = "district"  # 区
    COUNTY = "county"  # 县
    ZONE = "zone"  # 功能区


class District(Timestamped, Base):
    """A planning unit (区县(功能区)): a district, a county or a functional zone."""

    __tablename__ = "district"
    __table_args__ = (
        one_of("kind", DistrictKind, name="kind"),
        # An official code is the 6-digit NBS/GB-T 2260 code; zones without one get a local code
        # such as 'QBQ' that can never be mistaken for an official one.
        CheckConstraint(
            "(is_official_code AND code ~ '^[0-9]{6}$') "
            "OR (NOT is_official_code AND code ~ '^[A-Z][A-Z0-9-]{1,15}$')",
            name="code_format",
        ),
        CheckConstraint("kind = 'zone' OR is_official_code", name="division_has_official_code"),
        CheckConstraint("btrim(name_zh) <> ''", name="name_zh_not_blank"),
        {
            "comment": "Planning units (区县(功能区)) of the city: the 10 districts, 2 counties "
            "and functional zones"
        },
    )

    id: Mapped[int] = id_column()
    code: Mapped[str] = mapped_column(
        String(16),
        unique=True,
        comment="Natural key: the 6-digit NBS statistical division code (e.g. 370102), or a "
        "local upper-case code for a functional zone without an official one",
    )
    is_official_code: Mapped[bool] = mapped_column(
        Boolean, comment="True when code is an official NBS / GB/T 2260 code"
    )
    name_zh: Mapped[str] = mapped_column(Text, unique=True, comment="Chinese name, e.g. 历下区")
    name_en: Mapped[str | None] = mapped_column(Text, comment="English name (may be unofficial)")
    kind: Mapped[str] = mapped_column(
        String(16), comment="district (区), county (县) or zone (功能区)"
    )
    aliases: Mapped[list[str]] = mapped_column(
        ARRAY(Text),
        server_default=text("'{}'::text[]"),
        comment="Other names and legacy or unofficial codes (e.g. 370181 for 章丘区); "
        "never used as keys",
    )
    sort_order: Mapped[int] = mapped_column(
        Integer, server_default=text("0"), comment="Display order in lists and reports"
    )
    notes: Mapped[str | None] = mapped_column(Text, comment="Free text: sources, caveats")


class LeadingChain(Timestamped, Base):
    """A chain a planning unit leads on (主导产业, 一区一主业), for a period."""

    __tablename__ = "leading_chain"
    __table_args__ = (
        UniqueConstraint("district_id", "chain_id", "since"),
        CheckConstraint("until IS NULL OR since IS NULL OR until >= since", name="period_order"),
        {
            "comment": "The leading chains (主导产业) of each planning unit, with their period: a "
            "project in another chain is flagged (not refused), and units are compared by them "
            "(一区一主业); set by the city bureau"
        },
    )

    id: Mapped[int] = id_column()
    district_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("district.id", ondelete="CASCADE"),
        index=True,
        comment="The planning unit",
    )
    chain_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("chain.id", ondelete="CASCADE"),
        index=True,
        comment="The chain it leads on (a key chain under an iconic one counts with it)",
    )
    since: Mapped[date | None] = mapped_column(Date, comment="First day, when known")
    until: Mapped[date | None] = mapped_column(Date, comment="Last day; NULL while it lasts")
    source: Mapped[str | None] = mapped_column(Text, comment="Where the designation comes from")
    notes: Mapped[str | None] = mapped_column(Text, comment="Free text")
