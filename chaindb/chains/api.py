from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Response
from flask_openapi3 import OpenAPI, Tag
from sqlalchemy import and_, any_, func, or_, select
from sqlalchemy.orm import Session

from chaindb.api.blueprint import APIBlueprint
from chaindb.api.resource import CITY_ONLY, Resource, by_unit
from chaindb.api.responses import to_json
from chaindb.api.routes import ERRORS
from chaindb.api.schemas import PathId
from chaindb.api.writes import Ref
from chaindb.chains.models import (
    Chain,
    ChainGroup,
    ChainRole,
    ChainSegment,
    ChainTier,
    RoleKind,
    SegmentBasis,
    SegmentPosition,
)
from chaindb.chains.schemas import (
    ChainCreate,
    ChainRead,
    ChainRoleCreate,
    ChainRoleRead,
    SegmentCreate,
    SegmentRead,
)
from chaindb.chains.service import segment_fault
from chaindb.db import db, is_id
from chaindb.enterprises.models import Enterprise
from chaindb.errors import N_, Invalid


def _same_chain(column: str) -> Callable[[Session, dict[str, Any], Any], None]:
    """A check that the segment named in `column` belongs to the row's chain (the database
    says so too, less kindly)."""

    def check(session: Session, values: dict[str, Any], _current: Any) -> None:
        segment_id = values.get(column)
        fault = segment_fault(session, segment_id, values.get("chain_id"))
        if fault == "no_segment":
            raise Invalid(
                "no segment with id %(id)s", params={"id": segment_id}, prefix=column, field=column
            )
        if fault == "other_chain":
            raise Invalid("the segment belongs to another chain", prefix=column, field=column)

    return check


chains = Resource(
    name="chains",
    messages=(N_("no chain %(key)r"), N_("chain %(id)s is still referenced by %(referrers)s")),
    ref_messages=(N_("no chain with %(key)s %(value)r"), N_("no chain with id %(value)s")),
    model=Chain,
    read=ChainRead,
    create=ChainCreate,
    description="Industrial chains (产业链), addressed by id or code",
    refs=[Ref("parent_id", Chain, "code", "chain")],
    filters={"code": str, "tier": ChainTier, "group": ChainGroup, "parent_id": int, "name_zh": str, "name_en": str,
             "chief": str, "target_2030_cny_100m": float},
    ordering=("id", "code", "name_zh", "tier", "group", "sort_order", "target_2030_cny_100m"),
    default_ordering=("sort_order", "code"),
    search=lambda q: or_(Chain.name_zh.contains(q), Chain.name_en.ilike(f"%{q}%"), Chain.code == q,
                         func.array_to_string(Chain.aliases, " ").contains(q)),
    key="code",
    key_matches=lambda k: not is_id(k),
    import_key=("code",),
    changes=lambda: by_unit(CITY_ONLY),
)  # fmt: skip

segments = Resource(
    name="segments",
    messages=(N_("no segment %(key)r"), N_("segment %(id)s is still referenced by %(referrers)s")),
    model=ChainSegment,
    read=SegmentRead,
    create=SegmentCreate,
    description="Segments (环节) of the chain maps; a chain's tree is at /chains/{id}/segments",
    refs=[Ref("chain_id", Chain, "code", "chain")],
    filters={"chain_id": int, "parent_id": int, "position": SegmentPosition, "basis": SegmentBasis,
             "code": str, "name_zh": str},
    ordering=("id", "chain_id", "code", "name_zh", "position", "sort_order", "basis"),
    default_ordering=("chain_id", "sort_order", "code"),
    search=lambda q: or_(ChainSegment.name_zh.contains(q), ChainSegment.name_en.ilike(f"%{q}%"),
                         ChainSegment.code == q),
    check=_same_chain("parent_id"),
    import_key=("chain_id", "code"),
    changes=lambda: by_unit(
        N_("%(unit)s changes the maps of its own chains only (the city bureau, every map)"),
        chains=lambda chains: ChainSegment.chain_id == any_(chains),
    ),
)  # fmt: skip

chain_roles = Resource(
    name="chain-roles",
    messages=(N_("no chain role %(key)r"), N_("chain role %(id)s is still referenced by %(referrers)s")),
    model=ChainRole,
    read=ChainRoleRead,
    create=ChainRoleCreate,
    description="Roles of enterprises in chains: chain_master (链主), backbone, supplier",
    refs=[Ref("enterprise_id", Enterprise, "uscc", "enterprise"), Ref("chain_id", Chain, "code", "chain")],
    filters={"enterprise_id": int, "chain_id": int, "segment_id": int, "role": RoleKind, "since": date,
             "until": date},
    ordering=("id", "enterprise_id", "chain_id", "role", "since", "until"),
    check=_same_chain("segment_id"),
    changes=lambda: by_unit(
        N_("%(unit)s changes the roles in its own chains only; a district office records its "
           "own enterprises as suppliers"),
        chains=lambda chains: ChainRole.chain_id == any_(chains),
        district=lambda district: and_(
            ChainRole.role == RoleKind.SUPPLIER,
            ChainRole.enterprise_id.in_(
                select(Enterprise.id).where(Enterprise.district_id == district)
            ),
        ),
    ),
)  # fmt: skip


def _tree_blueprint() -> APIBlueprint:
    bp = APIBlueprint(
        "chain_map",
        __name__,
        url_prefix="/api/v1/chains",
        abp_tags=[Tag(name="chains")],
        abp_security=[{"bearer": []}],
        abp_responses=ERRORS,
    )

    @bp.get(
        "/<id>/segments",
        summary="The chain's map: its segments, parents before children",
        responses={200: None},
        operation_id="list_chain_segments",
    )
    def chain_segments(path: PathId):
        chain_id = chains.find_id(db.session, path.id)
        rows = db.session.execute(
            segments.select()
            .where(ChainSegment.chain_id == chain_id)
            .order_by(
                ChainSegment.parent_id.nulls_first(), ChainSegment.sort_order, ChainSegment.code
            )
        ).mappings()
        # The columns of SegmentRead, written as they are (not validated again as input: a row
        # older than a length limit is still read).
        return Response(to_json(list(rows)), mimetype="application/json")

    return bp


def register(app: OpenAPI) -> None:
    for resource in (chains, segments, chain_roles):
        app.register_api(resource.blueprint())
    app.register_api(_tree_blueprint())
