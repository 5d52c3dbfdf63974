"""Pages of the chains, their segments and the roles of enterprises in them, and the chain map:
each chain's segments from upstream to downstream, who is in each, and where the gaps are."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, g, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import distinct, func, literal, select, union_all
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from chaindb.chains.api import chain_roles, chains, segments
from chaindb.chains.forms import (
    BASIS_LABELS,
    GROUP_LABELS,
    POSITION_LABELS,
    ROLE_LABELS,
    TIER_LABELS,
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
    SegmentBasis,
    SegmentPosition,
    role_held_on,
    role_not_ended,
)
from chaindb.db import db
from chaindb.enterprises.models import Enterprise
from chaindb.enterprises.pickers import typed_enterprise_ids
from chaindb.projects.models import Project
from chaindb.supply import service as supply
from chaindb.supply.models import LinkStatus, SupplyLink
from chaindb.web.pages import Column, Link, Pages
from chaindb.web.pages import register as register_pages

MAP_COLUMN = "map"
# Enterprises named in one segment's box on the map, once its list is opened; the segment's page
# lists them all. A longer list than MAP_MEMBERS_OPEN is folded to its count, and the chain
# masters and backbone enterprises of the segment stay in sight.
MAP_MEMBERS_SHOWN = 8  # per segment; "and N more" links to the segment
MAP_MEMBERS_OPEN = 3
POSITIONS = [p.value for p in SegmentPosition]
POSITION_HEADINGS = {
    "upstream": _l("Upstream (上游)"),
    "midstream": _l("Midstream (中游)"),
    "downstream": _l("Downstream (下游)"),
}


# --- the chain map -------------------------------------------------------------------------------


@dataclass
class Member:
    """An enterprise in a segment: an active role there, or an active supply link there."""

    id: int
    name: str
    local: bool
    master: bool = False  # holds the chain-master role in the chain today
    kinds: set[str] = field(default_factory=set)  # its roles there; "supplier" for a link too

    @property
    def backbone(self) -> bool:
        return RoleKind.BACKBONE in self.kinds


@dataclass
class Node:
    id: int
    code: str
    name_zh: str
    name_en: str | None
    position: str
    parent_id: int | None
    basis: str = SegmentBasis.CONFIRMED.value
    children: list[Node] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    has_local: bool = False  # a local enterprise in it or in one of its sub-segments

    @property
    def gap(self) -> bool:
        return not self.has_local

    @property
    def general(self) -> bool:
        return self.basis == SegmentBasis.GENERAL

    @property
    def folded(self) -> bool:
        """Whether the box shows its members as a count that opens to the list."""
        return len(self.members) > MAP_MEMBERS_OPEN

    @property
    def anchors(self) -> list[Member]:
        """The members kept in sight on a folded box: chain masters and backbone enterprises."""
        return [m for m in self.members if m.master or m.backbone][:MAP_MEMBERS_SHOWN]

    @property
    def local_members(self) -> int:
        return sum(1 for m in self.members if m.local)

    @property
    def shown(self) -> list[Member]:
        return self.members[:MAP_MEMBERS_SHOWN]

    @property
    def hidden(self) -> int:
        return max(0, len(self.members) - MAP_MEMBERS_SHOWN)


@dataclass
class ChainMap:
    columns: list[tuple[str, Any, list[Node]]]  # (position, heading, top-level segments)
    nodes: dict[int, Node]
    masters: list[Member]

    @property
    def gaps(self) -> int:
        return sum(1 for node in self.nodes.values() if node.gap)

    @property
    def general(self) -> int:
        """How many segments still follow the industry's general structure, unchecked."""
        return sum(1 for node in self.nodes.values() if node.general)

    @property
    def enterprises(self) -> int:
        return len({m.id for node in self.nodes.values() for m in node.members})

    @property
    def local_enterprises(self) -> int:
        return len({m.id for node in self.nodes.values() for m in node.members if m.local})


def chain_master_rows(session: Session, chain_id: int) -> list[Member]:
    """The enterprises holding the chain-master role in the chain today."""
    rows = session.execute(
        select(Enterprise.id, Enterprise.name_zh, Enterprise.district_id.is_not(None))
        .join(ChainRole, ChainRole.enterprise_id == Enterprise.id)
        .where(
            ChainRole.chain_id == chain_id,
            ChainRole.role == RoleKind.CHAIN_MASTER,
            role_held_on(supply.today(session)),
        )
        .distinct()
        .order_by(Enterprise.name_zh, Enterprise.id)
    )
    return [Member(id_, name, local, master=True) for id_, name, local in rows]


def segment_members(
    session: Session, chain_id: int, masters: Iterable[int] = ()
) -> dict[int, list[Member]]:
    """segment id -> the enterprises in it, in one query for the whole chain: an active role
    with that segment, or an active supply link in it (its supplier). Chain masters first,
    then local enterprises, then by name."""
    day = supply.today(session)
    roles = select(
        ChainRole.segment_id.label("segment_id"),
        ChainRole.enterprise_id.label("enterprise_id"),
        ChainRole.role.label("kind"),
    ).where(ChainRole.chain_id == chain_id, ChainRole.segment_id.is_not(None), role_held_on(day))
    links = select(
        SupplyLink.segment_id,
        SupplyLink.supplier_id,
        literal(RoleKind.SUPPLIER.value),
    ).where(
        SupplyLink.chain_id == chain_id,
        SupplyLink.segment_id.is_not(None),
        SupplyLink.status == LinkStatus.ACTIVE,
    )
    inside = union_all(roles, links).subquery()
    rows = session.execute(
        select(
            inside.c.segment_id,
            inside.c.kind,
            Enterprise.id,
            Enterprise.name_zh,
            Enterprise.district_id.is_not(None),
        ).join(Enterprise, Enterprise.id == inside.c.enterprise_id)
    )
    master_ids = set(masters)
    found: dict[int, dict[int, Member]] = {}
    for segment_id, kind, enterprise_id, name, local in rows:
        members = found.setdefault(segment_id, {})
        member = members.get(enterprise_id)
        if member is None:
            member = members[enterprise_id] = Member(
                enterprise_id, name, local, master=enterprise_id in master_ids
            )
        member.kinds.add(kind)
    return {
        segment_id: sorted(members.values(), key=lambda m: (not m.master, not m.local, m.name))
        for segment_id, members in found.items()
    }


def build_map(session: Session, chain_id: int) -> ChainMap:
    """The chain's segments as trees in three columns, with their enterprises and gaps."""
    masters = chain_master_rows(session, chain_id)
    members = segment_members(session, chain_id, (m.id for m in masters))
    nodes = {
        row.id: Node(
            row.id,
            row.code,
            row.name_zh,
            row.name_en,
            row.position,
            row.parent_id,
            row.basis,
            members=members.get(row.id, []),
        )
        for row in session.execute(
            select(
                ChainSegment.id,
                ChainSegment.code,
                ChainSegment.name_zh,
                ChainSegment.name_en,
                ChainSegment.position,
                ChainSegment.parent_id,
                ChainSegment.basis,
            )
            .where(ChainSegment.chain_id == chain_id)
            .order_by(ChainSegment.sort_order, ChainSegment.code, ChainSegment.id)
        )
    }
    roots: list[Node] = []
    for node in nodes.values():
        parent = nodes.get(node.parent_id) if node.parent_id is not None else None
        (parent.children if parent is not None else roots).append(node)
    for root in roots:
        _mark_local(root)
    columns = [
        (position, POSITION_HEADINGS[position], [n for n in roots if n.position == position])
        for position in POSITIONS
    ]
    return ChainMap(columns=columns, nodes=nodes, masters=masters)


def _mark_local(node: Node) -> bool:
    # Every child is visited (no short cut): each needs its own mark.
    below = [_mark_local(child) for child in node.children]
    node.has_local = any(m.local for m in node.members) or any(below)
    return node.has_local


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
        "masters": supply.chain_masters(session, chain=str(chain_id)),
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
