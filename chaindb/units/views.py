"""Pages of the units (offices): who works for which, and what each answers for."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chaindb.auth.models import User
from chaindb.units.api import resource
from chaindb.units.forms import UnitFilters, UnitForm
from chaindb.units.vocab import KIND_LABELS
from chaindb.web.pages import Column, Pages
from chaindb.web.pages import register as register_pages


def _related(session: Session, row: dict[str, Any]) -> dict[str, Any]:
    users = session.scalar(select(func.count()).select_from(User).where(User.unit_id == row["id"]))
    return {"user_count": users}


pages = Pages(
    resource=resource,
    title=_l("Units"),
    singular=_l("unit"),
    help=_l(
        "The offices that use chaindb: the city bureau sees and changes everything; a chain "
        "office its chains across districts; a district office its planning unit's projects "
        "and enterprises."
    ),
    columns=[
        Column("name_zh", _l("Name")),
        Column("code", _l("Code")),
        Column("kind", _l("Kind"), choices=KIND_LABELS),
        Column("name_en", _l("English name")),
    ],
    detail_columns=[
        Column("name_zh", _l("Name")),
        Column("name_en", _l("English name")),
        Column("code", _l("Code")),
        Column("kind", _l("Kind"), choices=KIND_LABELS),
        Column("chain_id", _l("Chain")),
        Column("district_id", _l("Planning unit")),
        Column("parent_id", _l("Reports to")),
        Column("reader_role", _l("Analysts' database role")),
        Column("reviews_chain_projects", _l("Reviews its chains' projects"), format="yes_no"),
        Column("sort_order", _l("Sort order")),
        Column("notes", _l("Notes")),
    ],
    label=lambda row: row["name_zh"],
    form=UnitForm,
    filters=UnitFilters,
    related=_related,
)


def register(app: Flask) -> None:
    register_pages(app, pages)
