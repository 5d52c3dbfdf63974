"""The district picker of the pages' forms (options of a RefSelectField)."""

from __future__ import annotations

from sqlalchemy import select

from chaindb.db import db
from chaindb.districts.models import District


def district_options() -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(District.id, District.name_zh).order_by(District.sort_order, District.code)
    )
    return [(id_, name) for id_, name in rows]
