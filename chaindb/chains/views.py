"""Pages of the chains, their segments and the roles of enterprises in them, and the chain map:
each chain's segments from upstream to downstream, who is in each, and where the gaps are."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, Flask, g, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from chaindb.chains.api import chain_roles, chains, segments
from chaindb.chains.forms import (
    ChainFilters,
    ChainForm,
    ChainRoleFilters,
    ChainRoleForm,
    SegmentFilters,
    SegmentForm,
)
from chaindb.chains.models import (
    Chain,
    ChainRole,
    ChainSegment,
    RoleKind,
    role_not_ended,
)
from chaindb.chains.queries import build_map, chain_masters
from chaindb.chains.vocab import (
    BASIS_LABELS,
    GROUP_LABELS,
    POSITION_LABELS,
    ROLE_LABELS,
    TIER_LABELS,
)
from chaindb.db import db
from chaindb.enterprises.models import Enterprise
from chaindb.enterprises.pickers import typed_enterprise_ids
from chaindb.projects.models import Project
from chaindb.supply.models import LinkStatus, SupplyLink
from chaindb.web.pages import Column, Link, Pages
from chaindb.web.pages import register as register_pages

MAP_COLUMN = "map"


# --- the chain map (its read model: chaindb.chains.queries) ----------------------------------------


def map_view(id: str):
    session = db.session
    chain = chains.get(session, id)
    chain_map = build_map(session, chain["id"])
    return render_template(
        "chains/map.html", **chain_pages.context(chain=chain, chain_map=chain_map)
    )


def _map_route(bp: Blueprint, pages: Pages) -> None:
    bp.add_url_rule("/<key:id>/map", "map", map_view)


# --- chains --------------------------------------------------------------------------------------


class ChainPages(Pages):
    """The generic pages, with a link to each chain's map in the list."""

    def cell(self, row: dict[str, Any], column: Column, labels: dict[str, dict]) -> Markup:
        if column.name == MAP_COLUMN:
            return Markup('<a href="{}">{}</a>').format(
                url_for("chains.map", id=row["id"]), _("Chain map")
            )
        return super().cell(row, column, labels)


def _chain_related(session: Session, row: dict[str, Any]) -> dict[str, Any]:
    chain_id = row["id"]
    live = role_not_ended(func.current_date())
    holders = select(func.count(distinct(ChainRole.enterprise_id))).where(
        ChainRole.chain_id == chain_id, live
    )
    counts = session.execute(
        select(
            holders.scalar_subquery().label("enterprises"),
            holders.where(ChainRole.role == RoleKind.SUPPLIER).scalar_subquery().label("suppliers"),
            select(func.count())
            .select_from(SupplyLink)
            .where(SupplyLink.chain_id == chain_id, SupplyLink.status == LinkStatus.ACTIVE)
            .scalar_subquery()
            .label("links"),
            select(func.count())
            .select_from(Project)
            .where(Project.chain_id == chain_id)
            .scalar_subquery()
            .label("projects"),
        )
    ).one()
    key_chains = session.execute(
        select(Chain.id, Chain.code, Chain.name_zh)
        .where(Chain.parent_id == chain_id)
        .order_by(Chain.sort_order, Chain.code)
    ).all()
    return {
        "counts": counts,
        "chain_map": build_map(session, chain_id),
        "masters": chain_masters(session, chain=str(chain_id)),
        "key_chains": key_chains,
    }


chain_pages = ChainPages(
    resource=chains,
    title=_l("Chains"),
    singular=_l("chain"),
    help=_l("The city's industrial chains (产业链): iconic chains (标志性) and the key chains "
            "(重点) under them. Each has a map of its segments, upstream to downstream."),
    columns=[
        Column("name_zh", _l("Name")),
        Column("code", _l("Code")),
        Column("tier", _l("Tier"), choices=TIER_LABELS),
        Column("group", _l("Group"), choices=GROUP_LABELS),
        Column("chief", _l("Chain chief (链长)")),
        Column("parent_id", _l("Iconic chain above it"), link=Link(Chain, "chains.detail")),
        Column(MAP_COLUMN, _l("Map"), sortable=False),
    ],
    detail_columns=[
        Column("name_zh", _l("Chinese name")),
        Column("name_en", _l("English name")),
        Column("code", _l("Code")),
        Column("tier", _l("Tier"), choices=TIER_LABELS),
        Column("group", _l("Group"), choices=GROUP_LABELS),
        Column("chief", _l("Chain chief (链长)")),
        Column("parent_id", _l("Iconic chain above it"), link=Link(Chain, "chains.detail")),
        Column("target_2030_cny_100m", _l("2030 target"), format="yi"),
        Column("target_2030_scope", _l("What the 2030 target measures")),
        Column("aliases", _l("Other names")),
        Column("sort_order", _l("Sort order")),
        Column("notes", _l("Notes")),
    ],
    label=lambda row: row["name_zh"],
    form=ChainForm,
    filters=ChainFilters,
    detail_template="chains/detail.html",
    related=_chain_related,
    extra_routes=[_map_route],
)  # fmt: skip


# --- segments ------------------------------------------------------------------------------------


def _segment_related(session: Session, row: dict[str, Any]) -> dict[str, Any]:
    chain_map = build_map(session, row["chain_id"])
    return {"node": chain_map.nodes[row["id"]], "chain_map": chain_map}


segment_pages = Pages(
    resource=segments,
    title=_l("Segments"),
    singular=_l("segment"),
    help=_l("The segments (环节) of the chain maps, upstream (上游), midstream (中游) or "
            "downstream (下游); a segment may have sub-segments."),
    columns=[
        Column("name_zh", _l("Name")),
        Column("code", _l("Code")),
        Column("chain_id", _l("Chain"), link=Link(Chain, "chains.detail")),
        Column("parent_id", _l("Parent segment"), link=Link(ChainSegment, "segments.detail")),
        Column("position", _l("Position"), choices=POSITION_LABELS),
        Column("basis", _l("Basis"), choices=BASIS_LABELS),
        Column("sort_order", _l("Sort order")),
    ],
    detail_columns=[
        Column("name_zh", _l("Chinese name")),
        Column("name_en", _l("English name")),
        Column("code", _l("Code")),
        Column("chain_id", _l("Chain"), link=Link(Chain, "chains.detail")),
        Column("parent_id", _l("Parent segment"), link=Link(ChainSegment, "segments.detail")),
        Column("position", _l("Position"), choices=POSITION_LABELS),
        Column("sort_order", _l("Sort order")),
        Column("description", _l("What the segment covers")),
        Column("basis", _l("Basis"), choices=BASIS_LABELS),
    ],
    label=lambda row: row["name_zh"],
    form=SegmentForm,
    filters=SegmentFilters,
    detail_template="chains/segment_detail.html",
    related=_segment_related,
)  # fmt: skip


# --- chain roles ---------------------------------------------------------------------------------


class ChainRolePages(Pages):
    """The generic pages; a role is named by its enterprise, and the list's enterprise filter
    takes what the picker gives (a name, pinyin initials, a credit code or "name #id")."""

    def labels(self, session: Session, rows: list[dict[str, Any]], columns: Sequence[Column]):
        found = super().labels(session, rows, columns)
        names = g.setdefault("chain_role_names", {})
        for name in ("enterprise_id", "chain_id"):
            names.update({(name, key): label for key, label in found.get(name, {}).items()})
        return found

    def api_args(self, args: MultiDict) -> MultiDict:
        out = super().api_args(args)
        typed = out.poplist("enterprise_id")
        if typed:
            out["enterprise_id__in"] = typed_enterprise_ids(typed[0])
        return out


def _name_of(model: type, column: str, key: int) -> str:
    names = g.setdefault("chain_role_names", {})
    if (column, key) not in names:
        label = db.session.scalar(select(model.name_zh).where(model.id == key))
        names[(column, key)] = label or f"#{key}"
    return names[(column, key)]


def _role_label(row: dict[str, Any]) -> str:
    return _(
        "%(enterprise)s: %(role)s in %(chain)s",
        enterprise=_name_of(Enterprise, "enterprise_id", row["enterprise_id"]),
        role=ROLE_LABELS.get(row["role"], row["role"]),
        chain=_name_of(Chain, "chain_id", row["chain_id"]),
    )


role_pages = ChainRolePages(
    resource=chain_roles,
    title=_l("Chain roles"),
    singular=_l("chain role"),
    help=_l("The roles of enterprises in chains, with their period: chain master (链主), "
            "backbone enterprise (龙头骨干) or supplier (配套)."),
    columns=[
        Column("enterprise_id", _l("Chain role"), link=Link(Enterprise, "enterprises.detail")),
        Column("chain_id", _l("Chain"), link=Link(Chain, "chains.detail")),
        Column("segment_id", _l("Segment"), link=Link(ChainSegment, "segments.detail")),
        Column("role", _l("Role"), choices=ROLE_LABELS),
        Column("since", _l("Since"), format="day"),
        Column("until", _l("Until"), format="day"),
    ],
    detail_columns=[
        Column("enterprise_id", _l("Enterprise"), link=Link(Enterprise, "enterprises.detail")),
        Column("chain_id", _l("Chain"), link=Link(Chain, "chains.detail")),
        Column("segment_id", _l("Segment"), link=Link(ChainSegment, "segments.detail")),
        Column("role", _l("Role"), choices=ROLE_LABELS),
        Column("since", _l("Since"), format="day"),
        Column("until", _l("Until"), format="day"),
        Column("source", _l("Source")),
        Column("notes", _l("Notes")),
    ],
    label=_role_label,
    form=ChainRoleForm,
    filters=ChainRoleFilters,
)  # fmt: skip


def register(app: Flask) -> None:
    register_pages(app, chain_pages, segment_pages, role_pages)
