from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from chaindb.access import UnitKind
from chaindb.db import Base, Timestamped, id_column, one_of

__all__ = ["Unit", "UnitKind"]


class Unit(Timestamped, Base):
    """An office that uses chaindb: the city bureau, a chain office, a district office."""

    __tablename__ = "unit"
    __table_args__ = (
        one_of("kind", UnitKind, name="kind"),
        CheckConstraint("code ~ '^[a-z0-9][a-z0-9-]{1,39}$'", name="code_format"),
        CheckConstraint("btrim(name_zh) <> ''", name="name_zh_not_blank"),
        # What each kind answers for, and that every office but the city bureau reports to one.
        CheckConstraint(
            "(kind = 'city' AND chain_id IS NULL AND district_id IS NULL AND parent_id IS NULL) "
            "OR (kind = 'chain_office' AND chain_id IS NOT NULL AND district_id IS NULL "
            "AND parent_id IS NOT NULL) "
            "OR (kind = 'district_office' AND district_id IS NOT NULL AND chain_id IS NULL "
            "AND parent_id IS NOT NULL)",
            name="kind_matches_its_charge",
        ),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        CheckConstraint("reader_role ~ '^[a-z_][a-z0-9_]{0,62}$'", name="reader_role_format"),
        CheckConstraint(
            "NOT reviews_chain_projects OR kind = 'chain_office'",
            name="only_chain_offices_review_their_chains",
        ),
        Index(
            "uq_unit_one_city",
            text("(kind = 'city')"),
            unique=True,
            postgresql_where="kind = 'city'",
        ),
        {
            "comment": "The offices that use chaindb (units): the city bureau (市投资促进局), a "
            "chain office (链长办) per iconic chain, an investment office per planning unit; each "
            "user belongs to one, and its scope is what its users may see and change"
        },
    )

    id: Mapped[int] = id_column()
    code: Mapped[str] = mapped_column(
        String(40),
        unique=True,
        comment="Natural key: lower-case letters, digits and dashes, e.g. city, "
        "chain-automotive, district-370102",
    )
    kind: Mapped[str] = mapped_column(
        String(16),
        comment="city (the city bureau), chain_office (链长办) or district_office (a planning "
        "unit's investment office)",
    )
    name_zh: Mapped[str] = mapped_column(Text, unique=True, comment="Chinese name")
    name_en: Mapped[str | None] = mapped_column(Text, comment="English name")
    parent_id: Mapped[int | None] = mapped_column(
        BigInteger,
        ForeignKey("unit.id", ondelete="RESTRICT"),
        index=True,
        comment="The office it reports to (the city bureau); NULL for the city bureau",
    )
    chain_id: Mapped[int | None] = mapped_column(
        BigInteger,
        ForeignKey("chain.id", ondelete="RESTRICT"),
        unique=True,
        comment="A chain office's chain (an iconic chain; its key chains are in its charge too)",
    )
    district_id: Mapped[int | None] = mapped_column(
        BigInteger,
        ForeignKey("district.id", ondelete="RESTRICT"),
        unique=True,
        comment="A district office's planning unit",
    )
    reader_role: Mapped[str | None] = mapped_column(
        String(63),
        unique=True,
        comment="The database login role of the unit's analysts (chaindb db grant-reader --unit "
        "CODE): it reads what the unit may read",
    )
    sort_order: Mapped[int] = mapped_column(
        Integer, server_default=text("0"), comment="Display order in lists"
    )
    reviews_chain_projects: Mapped[bool] = mapped_column(
        Boolean,
        server_default=text("false"),
        comment="A chain office that reviews (approves or returns) the projects of its chains, "
        "beside the city bureau; set by the city bureau",
    )
    notes: Mapped[str | None] = mapped_column(Text, comment="Free text")
