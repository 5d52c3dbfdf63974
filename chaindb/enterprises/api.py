"""Enterprises (addressed by id or credit code), their designations and chain roles.

Enterprises are the big table: lists page by keyset cursor (?cursor=), search reads Chinese,
pinyin initials and credit-code prefixes (?q=, see search.py), and ?chain_id= / ?role= find the
enterprises holding a role in a chain.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import Response
from flask_openapi3 import OpenAPI, Tag
from pydantic import Field, RootModel, TypeAdapter, create_model
from sqlalchemy import ColumnElement, any_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from chaindb.access import Role, require
from chaindb.api.blueprint import APIBlueprint
from chaindb.api.resource import Resource, by_unit
from chaindb.api.responses import json_body
from chaindb.api.routes import ERRORS
from chaindb.api.schemas import PathId, parse_body
from chaindb.api.writes import Ref, follow_moves
from chaindb.chains.models import Chain, ChainRole, RoleKind, role_not_ended
from chaindb.chains.schemas import ChainRoleRead
from chaindb.db import db, is_id
from chaindb.districts.api import PLANNING_UNIT
from chaindb.districts.models import District
from chaindb.enterprises.merge import merge, merged_into, merged_name_into
from chaindb.enterprises.models import (
    Designation,
    DesignationLevel,
    DesignationType,
    Enterprise,
    EnterpriseSize,
    InvestorAttribute,
    InvestorAttributeKind,
    Ownership,
    is_local,
)
from chaindb.enterprises.schemas import (
    DesignationCreate,
    DesignationRead,
    EnterpriseCreate,
    EnterpriseRead,
    InvestorAttributeCreate,
    InvestorAttributeRead,
    MergeRequest,
    MergeResult,
)
from chaindb.enterprises.search import search_clause
from chaindb.enterprises.service import check_designation, check_duplicates, prepare_enterprise
from chaindb.enterprises.uscc import normalize
from chaindb.errors import N_, Invalid, NotFound

USCC_KEY = re.compile(r"^[0-9A-Za-z]{18}$")
# Filters on the enterprise's roles (one EXISTS on chain_role, so that chain_id and role given
# together mean one role in that chain), with the lookups they take.
ROLE_FILTERS = ("chain_id", "role")
ROLE_LOOKUPS = ("", "in", "not_in")
SIZE_RANK = {size.value: rank for rank, size in enumerate(EnterpriseSize, start=1)}


class EnterpriseResource(Resource):
    """The shared resource, plus: credit codes normalised and checked, name initials computed
    on every write (create, bulk, update, replace, import), role filters, and ordering by size
    from large to micro rather than alphabetically."""

    # --- reading ---

    def import_match(self, session: Session, body: dict[str, Any]) -> int | None:
        """By credit code; a row without one by its name among the enterprises without one.
        A row naming a merged duplicate (its credit code, or a name that is now an alias)
        updates the enterprise it became part of, keeping that one's name."""
        code = body.get("uscc")
        if code:
            condition = Enterprise.uscc == normalize(str(code))
        else:
            condition = (Enterprise.name_zh == body.get("name_zh")) & Enterprise.uscc.is_(None)
        scope, params = self.scoped()[:2]
        found = (
            session.execute(select(Enterprise.id).where(condition, *scope).limit(2), params)
            .scalars()
            .all()
        )
        if len(found) > 1:
            raise Invalid(
                "%(count)s enterprises without a credit code are named %(name)r",
                params={"count": len(found), "name": body.get("name_zh")},
                field="name_zh",
            )
        if found:
            return found[0]
        moved = merged_into(session, normalize(str(code))) if code else None
        if moved is None and not code and body.get("name_zh"):
            moved = session.scalar(
                select(Enterprise.id)
                .where(literal(body["name_zh"]) == any_(Enterprise.aliases))
                .order_by(Enterprise.id)
                .limit(1)
            ) or merged_name_into(session, body["name_zh"])
        if moved is not None:
            _as_alias_of(session, moved, body)
        return moved

    def key_lookups(self, key: str) -> list[tuple[str, Any]]:
        if USCC_KEY.match(key.strip()):
            key = key.strip().upper()
        return super().key_lookups(key)

    def _query_model(self) -> type:
        base = super()._query_model()
        live = "a role that has not ended"
        return create_model(
            base.__name__,
            __base__=base,
            chain_id=(str | None, Field(None, description=f"Holds {live} in this chain (id or code)")),
            chain_id__in=(str | None, Field(None, description=f"Holds {live} in one of these chains (ids or codes, comma-separated)")),
            chain_id__not_in=(str | None, Field(None, description=f"Holds no {live} in these chains")),
            role=(RoleKind | None, Field(None, description=f"Holds {live} of this kind (in chain_id when given: the same role)")),
            role__in=(str | None, Field(None, description=f"Holds {live} of one of these kinds (comma-separated)")),
            role__not_in=(str | None, Field(None, description=f"Holds no {live} of these kinds")),
        )  # fmt: skip

    def where(self, args: MultiDict) -> list[ColumnElement]:
        own, roles = MultiDict(), MultiDict()
        for param, value in args.items(multi=True):
            (roles if param.partition("__")[0] in ROLE_FILTERS else own).add(param, value)
        clauses = super().where(own)
        if roles:
            clauses.extend(_role_clauses(roles))
        return clauses

    def order_column(self, name: str) -> ColumnElement:
        # Sizes sort large to micro, not alphabetically.
        return _size_rank() if name == "size" else super().order_column(name)

    # --- writing ---

    def prepare(
        self, session: Session, values: dict[str, Any], current: dict[str, Any] | None
    ) -> dict[str, Any]:
        confirmed = set(values.pop("confirm", None) or ())
        values = prepare_enterprise(values, current)
        check_duplicates(session, values, current, confirmed)
        return values


def _as_alias_of(session: Session, enterprise_id: int, body: dict[str, Any]) -> None:
    """A row that names an enterprise by a former name or code: it keeps its own name and code,
    and the row's name joins its aliases."""
    row = session.execute(
        select(Enterprise.name_zh, Enterprise.uscc, Enterprise.aliases).where(
            Enterprise.id == enterprise_id
        )
    ).one()
    names = [*row.aliases]
    for name in (body.get("name_zh"), *(body.get("aliases") or ())):
        if name and name != row.name_zh and name not in names:
            names.append(name)
    body.update(name_zh=row.name_zh, uscc=row.uscc, aliases=names)


def _size_rank() -> ColumnElement:
    return case(SIZE_RANK, value=Enterprise.size)


def _role_clauses(args: MultiDict) -> list[ColumnElement]:
    """?chain_id=automotive&role=chain_master: one live role matching every condition given;
    __not_in: no live role in those chains (or of those kinds)."""
    live = role_not_ended(func.current_date())
    wanted: list[ColumnElement] = []
    unwanted: list[ColumnElement] = []
    for param, raw in args.items(multi=True):
        name, _, lookup = param.partition("__")
        if lookup not in ROLE_LOOKUPS:
            raise Invalid(
                "%(param)s: %(name)s takes %(name)s=, %(name)s__in= or %(name)s__not_in=",
                params={"param": param, "name": name},
                field=param,
            )
        items = [v.strip() for v in raw.split(",") if v.strip()] if lookup else [raw.strip()]
        if not items:
            raise Invalid("%(param)s: give a value", params={"param": param}, field=param)
        if name == "chain_id":
            ids = [int(v) for v in items if is_id(v)]
            codes = [v for v in items if not is_id(v)]
            condition = or_(
                ChainRole.chain_id.in_(ids),
                ChainRole.chain_id.in_(select(Chain.id).where(Chain.code.in_(codes))),
            )
        else:
            try:
                kinds = [RoleKind(v).value for v in items]
            except ValueError:
                raise Invalid(
                    "%(param)s: a role is one of %(roles)s",
                    params={"param": param, "roles": ", ".join(RoleKind)},
                    field=param,
                ) from None
            condition = ChainRole.role.in_(kinds)
        (unwanted if lookup == "not_in" else wanted).append(condition)
    mine = [ChainRole.enterprise_id == Enterprise.id, live]
    clauses: list[ColumnElement] = []
    if wanted:
        clauses.append(exists().where(*mine, *wanted))
    clauses.extend(~exists().where(*mine, condition) for condition in unwanted)
    return clauses


enterprises = EnterpriseResource(
    # Everyone reads every enterprise; a district office changes those located in its planning
    # unit, a chain office those located elsewhere (the ones it recruits), the city bureau all.
    changes=lambda: by_unit(
        N_("%(unit)s changes only the enterprises it answers for: a district office those "
           "located in its planning unit, a chain office those located elsewhere"),
        district=lambda district: Enterprise.district_id == district,
        chains=lambda chains: ~is_local(),
    ),
    name="enterprises",
    messages=(N_("no enterprise %(key)r"), N_("enterprise %(id)s is still referenced by %(referrers)s")),
    ref_messages=(N_("no enterprise with %(key)s %(value)r"), N_("no enterprise with id %(value)s")),
    model=Enterprise,
    read=EnterpriseRead,
    create=EnterpriseCreate,
    description="Enterprises (企业), local or not, addressed by id or credit code (统一社会信用代码). "
    "q finds Chinese names (比亚迪), pinyin initials (byd) and credit-code prefixes (91370112); "
    "local=true|false; chain_id / role find the holders of live roles in chains. "
    "Lists page with ?cursor= (keyset) as well as ?offset=",
    refs=[Ref("district_id", District, "code", "planning unit", PLANNING_UNIT)],
    filters={"uscc": str, "name_zh": str, "name_en": str, "short_name": str, "district_id": int,
             "region_code": str, "size": EnterpriseSize, "ownership": Ownership, "active": bool,
             "founded_on": date, "uscc_check_override": bool},
    expressions={"local": (bool, is_local)},
    ordering=("id", "name_zh", "uscc", "founded_on", "size", "ownership", "district_id",
              "created_at", "updated_at"),
    default_ordering=("id",),
    search=search_clause,
    key="uscc",
    key_matches=lambda k: len(k) == 18,
    keyset=True,
    import_key=("uscc",),
)  # fmt: skip


# A merged enterprise's id and credit code lead to the enterprise it became part of.
follow_moves(Enterprise, merged_into)


class DesignationResource(Resource):
    """Designations name their enterprise by id or credit code, written as people write it."""

    def resolve(self, session: Session, values: dict[str, Any]) -> dict[str, Any]:
        given = values.get("enterprise_id")
        if isinstance(given, str):
            values["enterprise_id"] = normalize(given)
        return super().resolve(session, values)


designations = DesignationResource(
    changes=lambda: by_unit(
        N_("%(unit)s changes the designations of the enterprises it answers for only: a "
           "district office those located in its planning unit, a chain office those located "
           "elsewhere"),
        district=lambda district: Designation.enterprise_id.in_(
            select(Enterprise.id).where(Enterprise.district_id == district)
        ),
        chains=lambda chains: Designation.enterprise_id.in_(
            select(Enterprise.id).where(~is_local())
        ),
    ),
    name="designations",
    messages=(N_("no designation %(key)r"), N_("designation %(id)s is still referenced by %(referrers)s")),
    model=Designation,
    read=DesignationRead,
    create=DesignationCreate,
    description="Quality designations of enterprises (优质企业梯度: 专精特新, 小巨人, 单项冠军, "
    "高新技术企业, 瞪羚, 独角兽), with level and validity; valid=true keeps those valid today",
    refs=[Ref("enterprise_id", Enterprise, "uscc", "enterprise")],
    filters={"type": DesignationType, "level": DesignationLevel, "year": int, "enterprise_id": int,
             "valid_until": date, "issuer": str},
    expressions={"valid": (bool, lambda: or_(Designation.valid_until.is_(None),
                                              Designation.valid_until >= func.current_date()))},
    ordering=("id", "year", "type", "level", "enterprise_id", "valid_until"),
    default_ordering=("-year", "id"),
    check=check_designation,
)  # fmt: skip


investor_attributes = DesignationResource(
    changes=lambda: by_unit(
        N_("%(unit)s changes the investor attributes of the enterprises it answers for only: a "
           "district office those located in its planning unit, a chain office those located "
           "elsewhere"),
        district=lambda district: InvestorAttribute.enterprise_id.in_(
            select(Enterprise.id).where(Enterprise.district_id == district)
        ),
        chains=lambda chains: InvestorAttribute.enterprise_id.in_(
            select(Enterprise.id).where(~is_local())
        ),
    ),
    name="investor-attributes",
    messages=(N_("no investor attribute %(key)r"),
              N_("investor attribute %(id)s is still referenced by %(referrers)s")),
    model=InvestorAttribute,
    read=InvestorAttributeRead,
    create=InvestorAttributeCreate,
    description="Investor attributes of enterprises (世界500强, 中国企业500强, 民营企业500强, 央企, "
    "上市公司), each for a year: what 招大引强 counts a project's investor by",
    refs=[Ref("enterprise_id", Enterprise, "uscc", "enterprise")],
    filters={"attribute": InvestorAttributeKind, "year": int, "enterprise_id": int},
    ordering=("id", "year", "attribute", "enterprise_id", "list_rank"),
    default_ordering=("-year", "id"),
)  # fmt: skip


class DesignationList(RootModel[list[DesignationRead]]):
    """The designations of one enterprise, newest first."""


class ChainRoleList(RootModel[list[ChainRoleRead]]):
    """The roles of one enterprise in chains, live ones first."""


def _relations_blueprint() -> APIBlueprint:
    bp = APIBlueprint(
        "enterprise_relations",
        __name__,
        url_prefix="/api/v1/enterprises",
        abp_tags=[Tag(name="enterprises")],
        abp_security=[{"bearer": []}],
        abp_responses=ERRORS,
    )
    designation_list = TypeAdapter(list[DesignationRead])
    role_list = TypeAdapter(list[ChainRoleRead])

    @bp.get(
        "/<id>/designations",
        summary="The designations of an enterprise (id or credit code), newest first",
        responses={200: DesignationList},
        operation_id="list_enterprise_designations",
    )
    def enterprise_designations(path: PathId):
        enterprise_id = enterprises.find_id(db.session, path.id)
        rows = db.session.execute(
            designations.select()
            .where(Designation.enterprise_id == enterprise_id)
            .order_by(Designation.year.desc(), Designation.type, Designation.level, Designation.id)
        ).mappings()
        return Response(
            designation_list.dump_json(designation_list.validate_python(list(rows))),
            mimetype="application/json",
        )

    @bp.get(
        "/<id>/chain-roles",
        summary="The roles of an enterprise (id or credit code) in chains, live ones first",
        responses={200: ChainRoleList},
        operation_id="list_enterprise_chain_roles",
    )
    def enterprise_chain_roles(path: PathId):
        enterprise_id = enterprises.find_id(db.session, path.id)
        columns = [ChainRole.__table__.c[name] for name in ChainRoleRead.model_fields]
        ended = ChainRole.until.is_not(None) & (ChainRole.until < func.current_date())
        rows = db.session.execute(
            select(*columns)
            .where(ChainRole.enterprise_id == enterprise_id)
            .order_by(ended, ChainRole.chain_id, ChainRole.role, ChainRole.since.nulls_first(),
                      ChainRole.id)
        ).mappings()  # fmt: skip
        return Response(
            role_list.dump_json(role_list.validate_python(list(rows))),
            mimetype="application/json",
        )

    def merge_(id: str, path: PathId = None, body: MergeRequest = None):  # type: ignore[assignment]
        require(Role.ADMIN)
        session = db.session
        values = parse_body(MergeRequest, json_body())
        keep = enterprises.find_id(session, id)
        try:
            duplicate = enterprises.find_id(session, str(values["duplicate"]))
        except NotFound as exc:
            raise Invalid(exc.core, field="duplicate") from None
        savepoint = session.begin_nested() if values["dry_run"] else None
        summary = merge(session, keep=keep, duplicate=duplicate)
        if savepoint is not None:
            savepoint.rollback()
        session.commit()
        body_ = MergeResult.model_validate({**summary, "dry_run": values["dry_run"]})
        return Response(body_.model_dump_json(), mimetype="application/json")

    merge_.__delay_validate_request__ = True  # type: ignore[attr-defined]  # errors in our shape
    bp.post(
        "/<id>/merge",
        summary="Merge a duplicate enterprise into this one (admins): its roles, links, projects "
        "and designations move here, its names become aliases, it is deleted; dry_run reports",
        responses={200: MergeResult},
        operation_id="merge_enterprise",
    )(merge_)
    return bp


def register(app: OpenAPI) -> None:
    app.register_api(enterprises.blueprint())
    app.register_api(designations.blueprint())
    app.register_api(investor_attributes.blueprint())
    app.register_api(_relations_blueprint())
