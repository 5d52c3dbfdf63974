"""What a unit answers for (its scope), as the requests of its users act with it; finding a unit
by id or code."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from chaindb.access import Scope, UnitKind
from chaindb.chains.models import Chain
from chaindb.db import is_id
from chaindb.errors import Invalid
from chaindb.units.models import Unit


def scope_of(session: Session, unit_id: int) -> Scope:
    """The unit's scope, as the database's scope_all(), scope_district() and scope_chains()
    compute it for a session acting for the unit (one query)."""
    chains = (
        select(func.array_agg(Chain.id))
        .where(or_(Chain.id == Unit.chain_id, Chain.parent_id == Unit.chain_id))
        .scalar_subquery()
    )
    row = session.execute(
        select(
            Unit.id,
            Unit.code,
            Unit.name_zh,
            Unit.kind,
            Unit.district_id,
            chains,
            Unit.reviews_chain_projects,
        ).where(Unit.id == unit_id)
    ).one()
    return Scope(
        unit_id=row.id,
        code=row.code,
        name=row.name_zh,
        kind=UnitKind(row.kind),
        district_id=row.district_id,
        chain_ids=frozenset(row[5] or ()),
        reviews_chains=row.reviews_chain_projects,
    )


def find_unit(session: Session, key: int | str, *, field: str = "unit") -> Any:
    """The unit named by id or code; an unknown one is a 422 naming `field`."""
    text = str(key).strip()
    clause = Unit.id == int(text) if is_id(text) else Unit.code == text
    row = session.execute(select(Unit.id, Unit.code, Unit.name_zh, Unit.kind).where(clause)).first()
    if row is None:
        raise Invalid("no unit %(key)r", params={"key": text}, field=field)
    return row
