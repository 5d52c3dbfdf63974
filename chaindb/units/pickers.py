"""The office picker of the pages' forms (options of a RefSelectField)."""

from __future__ import annotations

from sqlalchemy import select

from chaindb.db import db
from chaindb.units.models import Unit


def unit_options() -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(Unit.id, Unit.name_zh).order_by(Unit.sort_order, Unit.kind, Unit.id)
    )
    return [(id_, name) for id_, name in rows]
