"""The chain map as a read model: each chain's segments from upstream to downstream, the
enterprises in each (chain masters, backbone enterprises, suppliers through active links), and
where no local enterprise serves a segment. The map page (chains/views.py) shows it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import column, func, literal, select, union_all
from sqlalchemy.orm import Session

from chaindb.chains.models import (
    Chain,
    ChainRole,
    ChainSegment,
    RoleKind,
    SegmentBasis,
    SegmentPosition,
    role_held_on,
)
from chaindb.chains.service import find_chain
from chaindb.chains.vocab import POSITION_HEADINGS
from chaindb.db import today
from chaindb.enterprises.models import Enterprise, is_local
from chaindb.supply.models import LinkStatus, SupplyLink

# Enterprises named in one segment's box on the map, once its list is opened; the segment's page
# lists them all. A longer list than MAP_MEMBERS_OPEN is folded to its count, and the chain
# masters and backbone enterprises of the segment stay in sight.
MAP_MEMBERS_SHOWN = 8  # per segment; "and N more" links to the segment
MAP_MEMBERS_OPEN = 3
POSITIONS = [p.value for p in SegmentPosition]


# --- the map -------------------------------------------------------------------------------


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
    # No local enterprise in it or in one of its sub-segments (the database's chain_gaps()).
    gap: bool = False

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
        select(Enterprise.id, Enterprise.name_zh, is_local())
        .join(ChainRole, ChainRole.enterprise_id == Enterprise.id)
        .where(
            ChainRole.chain_id == chain_id,
            ChainRole.role == RoleKind.CHAIN_MASTER,
            role_held_on(today(session)),
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
    day = today(session)
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
            is_local(),
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
    for segment_id in session.scalars(
        select(column("segment_id")).select_from(func.chain_gaps(chain_id, today(session)))
    ):
        nodes[segment_id].gap = True
    columns = [
        (position, POSITION_HEADINGS[position], [n for n in roots if n.position == position])
        for position in POSITIONS
    ]
    return ChainMap(columns=columns, nodes=nodes, masters=masters)


# --- today's chain masters ----------------------------------------------------------------------


def chain_masters(session: Session, *, chain: str | None) -> list[dict[str, Any]]:
    """The current chain masters (role holds today), with their count of active links."""
    day = today(session)
    active_links = (
        select(func.count())
        .select_from(SupplyLink)
        .where(
            SupplyLink.buyer_id == ChainRole.enterprise_id,
            SupplyLink.chain_id == ChainRole.chain_id,
            SupplyLink.status == LinkStatus.ACTIVE,
        )
        .correlate(ChainRole)
        .scalar_subquery()
    )
    stmt = (
        select(
            ChainRole.id.label("role_id"),
            ChainRole.enterprise_id,
            Enterprise.uscc,
            Enterprise.name_zh,
            Enterprise.short_name,
            is_local().label("local"),
            ChainRole.chain_id,
            Chain.code.label("chain_code"),
            ChainRole.segment_id,
            ChainRole.since,
            ChainRole.until,
            active_links.label("active_links"),
        )
        .join(Enterprise, Enterprise.id == ChainRole.enterprise_id)
        .join(Chain, Chain.id == ChainRole.chain_id)
        .where(
            ChainRole.role == RoleKind.CHAIN_MASTER,
            role_held_on(day),
        )
        .order_by(Chain.sort_order, Chain.code, Enterprise.name_zh, ChainRole.id)
    )
    if chain:
        stmt = stmt.where(ChainRole.chain_id == find_chain(session, chain, field="chain").id)
    return [dict(r) for r in session.execute(stmt).mappings()]
