"""The district picker of the pages' forms (options of a RefSelectField)."""

from __future__ import annotations

from sqlalchemy import select

from chaindb.access import acting_scope
from chaindb.db import db
from chaindb.districts.models import District


def district_options() -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(District.id, District.name_zh).order_by(District.sort_order, District.code)
    )
    return [(id_, name) for id_, name in rows]


def own_district() -> int | None:
    """The planning unit of a district office's user: the default of a new record's planning
    unit on the forms of what such an office enters (projects, enterprises); else none."""
    scope = acting_scope()
    return scope.district_id if scope is not None else None
