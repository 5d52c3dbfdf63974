"""Pages of the planning units: districts, counties and functional zones."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chaindb.chains.models import Chain
from chaindb.districts.api import leading_chains, resource
from chaindb.districts.forms import (
    DistrictFilters,
    DistrictForm,
    LeadingChainFilters,
    LeadingChainForm,
)
from chaindb.districts.models import District
from chaindb.districts.vocab import KIND_LABELS
from chaindb.enterprises.models import Enterprise
from chaindb.projects.models import Project
from chaindb.web.pages import Column, Link, Pages
from chaindb.web.pages import register as register_pages


def _related(session: Session, row: dict[str, Any]) -> dict[str, Any]:
    enterprises = session.scalar(
        select(func.count()).select_from(Enterprise).where(Enterprise.district_id == row["id"])
    )
    projects = session.scalar(
        select(func.count()).select_from(Project).where(Project.district_id == row["id"])
    )
    return {"enterprise_count": enterprises, "project_count": projects}


pages = Pages(
    resource=resource,
    title=_l("Districts"),
    singular=_l("planning unit"),
    help=_l("Planning units: the districts and counties of the city and its functional zones."),
    columns=[
        Column("name_zh", _l("Name")),
        Column("code", _l("Code")),
        Column("kind", _l("Kind"), choices=KIND_LABELS),
        Column("name_en", _l("English name")),
        Column("sort_order", _l("Sort order")),
    ],
    detail_columns=[
        Column("name_zh", _l("Name")),
        Column("name_en", _l("English name")),
        Column("code", _l("Code")),
        Column("is_official_code", _l("Official code")),
        Column("kind", _l("Kind"), choices=KIND_LABELS),
        Column("aliases", _l("Other names")),
        Column("sort_order", _l("Sort order")),
        Column("notes", _l("Notes")),
    ],
    label=lambda row: row["name_zh"],
    form=DistrictForm,
    filters=DistrictFilters,
    detail_template="districts/detail.html",
    related=_related,
)


leading_chain_pages = Pages(
    resource=leading_chains,
    title=_l("Leading chains"),
    singular=_l("leading chain"),
    help=_l(
        "The leading chains (主导产业) of each planning unit, with their period: 一区一主业. A "
        "project in another chain is flagged on its page and in review, not refused."
    ),
    columns=[
        Column("district_id", _l("Planning unit"), link=Link(District, "districts.detail")),
        Column("chain_id", _l("Chain"), link=Link(Chain, "chains.detail")),
        Column("since", _l("Since"), format="day"),
        Column("until", _l("Until"), format="day"),
    ],
    detail_columns=[
        Column("district_id", _l("Planning unit"), link=Link(District, "districts.detail")),
        Column("chain_id", _l("Chain"), link=Link(Chain, "chains.detail")),
        Column("since", _l("Since"), format="day"),
        Column("until", _l("Until"), format="day"),
        Column("source", _l("Source")),
        Column("notes", _l("Notes")),
    ],
    label=lambda row: f"#{row['id']}",
    form=LeadingChainForm,
    filters=LeadingChainFilters,
)


def register(app: Flask) -> None:
    register_pages(app, pages, leading_chain_pages)
