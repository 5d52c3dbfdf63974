"""Supply links (/api/v1/supply-links) and the chain-master workflow (/api/v1/chain-masters)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import Response, request
from flask_openapi3 import OpenAPI, Tag
from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection, any_, select
from sqlalchemy.orm import Session

from chaindb.api.blueprint import APIBlueprint
from chaindb.api.fast import OneStatementWrite, answer_in_front
from chaindb.api.resource import Resource, by_unit
from chaindb.api.responses import check_if_match, json_body, to_json
from chaindb.api.routes import ERRORS
from chaindb.api.schemas import parse_body
from chaindb.api.writes import Ref
from chaindb.chains.api import chain_roles
from chaindb.chains.models import Chain
from chaindb.chains.queries import chain_masters
from chaindb.db import db
from chaindb.enterprises.models import Enterprise
from chaindb.errors import N_, from_validation_error
from chaindb.supply import service
from chaindb.supply.models import LinkStatus, SupplyLink
from chaindb.supply.schemas import (
    ChainMasterCreate,
    ChainMasterList,
    ChainMasterRevoke,
    ChainMastersQuery,
    EndLink,
    EnterprisePath,
    LinkPath,
    RevokeResult,
    SupplierLinkCreate,
    SuppliersPage,
    SuppliersQuery,
    SupplyLinkCreate,
    SupplyLinkRead,
    SupplyLinkUpdate,
)


class SupplyLinkResource(Resource):
    """Every write of a link goes through the supply service (service.create_link and
    update_link), so that the resource, a bulk request and an import keep the same rules and
    record the same supplier roles as the chain-master workflow."""

    def prepare(
        self, session: Session, values: dict[str, Any], current: dict[str, Any] | None
    ) -> dict[str, Any]:
        return values  # the service checks them, warnings to confirm included

    def insert_row(self, session: Session, values: dict[str, Any]) -> dict[str, Any]:
        return service.create_link(session, values=values)[0]

    def update_row(
        self, session: Session, current: dict[str, Any], values: dict[str, Any]
    ) -> dict[str, Any]:
        return service.update_link(session, current=current, values=values)


supply_links = SupplyLinkResource(
    changes=lambda: by_unit(
        N_(
            "%(unit)s changes the supply links of its own chains only, or a district office "
            "those whose supplier is located in its planning unit"
        ),
        chains=lambda chains: SupplyLink.chain_id == any_(chains),
        district=lambda district: SupplyLink.supplier_id.in_(
            select(Enterprise.id).where(Enterprise.district_id == district)
        ),
    ),
    name="supply-links",
    messages=(
        N_("no supply link %(key)r"),
        N_("supply link %(id)s is still referenced by %(referrers)s"),
    ),
    model=SupplyLink,
    read=SupplyLinkRead,
    create=SupplyLinkCreate,
    update=SupplyLinkUpdate,
    description="Supply links (配套关系): a supplier supplies a chain master for a chain. "
    "supplier_id and buyer_id take an id or a credit code, chain_id an id or a code. "
    "To link a supplier and record its supplier role, or to end a link, see chain-masters and "
    "/supply-links/{id}/end.",
    refs=[
        Ref(
            "supplier_id",
            Enterprise,
            "uscc",
            "supplier",
            (N_("no supplier with %(key)s %(value)r"), N_("no supplier with id %(value)s")),
        ),
        Ref(
            "buyer_id",
            Enterprise,
            "uscc",
            "buyer",
            (N_("no buyer with %(key)s %(value)r"), N_("no buyer with id %(value)s")),
        ),
        Ref("chain_id", Chain, "code", "chain"),
    ],
    filters={
        "supplier_id": int,
        "buyer_id": int,
        "chain_id": int,
        "segment_id": int,
        "status": LinkStatus,
        "verified": bool,
        "product": str,
        "since": date,
        "until": date,
        "annual_value_cny_10k": Decimal,
    },
    expressions={"supplier_local": (bool, service.supplier_is_local)},
    ordering=("id", "since", "annual_value_cny_10k"),
    keyset=True,
    import_key=("supplier_id", "buyer_id", "chain_id", "product"),
    import_scope=lambda: SupplyLink.status == LinkStatus.ACTIVE,
)


def _validate(schema: type[BaseModel], data: Any) -> dict[str, Any]:
    try:
        return schema.model_validate(data).model_dump(exclude_unset=False)
    except ValidationError as exc:
        raise from_validation_error(exc) from None


def _json(model: type[BaseModel], data: Any, status: int = 200) -> Response:
    body = model.model_validate(data).model_dump_json()
    return Response(body, status=status, mimetype="application/json")


def _query(schema: type[BaseModel]) -> dict[str, Any]:
    # Query strings are text: lax validation turns "5" into 5 here, as it should.
    return _validate(schema, request.args.to_dict())


# --- /api/v1/supply-links/{id}/end ---------------------------------------------------------------


def _link_actions() -> APIBlueprint:
    bp = APIBlueprint(
        "supply_link_actions",
        __name__,
        url_prefix="/api/v1/supply-links",
        abp_tags=[Tag(name="supply-links")],
        abp_security=[{"bearer": []}],
        abp_responses=ERRORS,
    )

    def end_link(id: str, path: LinkPath = None, body: EndLink = None):  # type: ignore[assignment]
        session = db.session
        values = parse_body(EndLink, json_body() or {})
        check_if_match(supply_links.etag(service.find_link(session, id)))
        row = service.end_link(session, key=id, until=values["until"], reason=values["reason"])
        session.commit()
        return supply_links.detail_response(row)

    end_link.__delay_validate_request__ = True  # type: ignore[attr-defined]
    bp.post(
        "/<id>/end",
        summary="End a supply link: status ended, until (default today); it stays as history. "
        "409 when already ended",
        responses={200: SupplyLinkRead},
        operation_id="end_supply_link",
    )(end_link)
    return bp


# --- /api/v1/chain-masters -----------------------------------------------------------------------


def _chain_masters() -> APIBlueprint:
    bp = APIBlueprint(
        "chain_masters",
        __name__,
        url_prefix="/api/v1/chain-masters",
        abp_tags=[
            Tag(
                name="chain-masters",
                description="Chain masters (链主): designate and revoke them, link their suppliers, "
                "see their local supply rate",
            )
        ],
        abp_security=[{"bearer": []}],
        abp_responses=ERRORS,
    )

    def list_masters(query: ChainMastersQuery = None):  # type: ignore[assignment]
        args = _query(ChainMastersQuery)
        rows = chain_masters(db.session, chain=args["chain"])
        return _json(ChainMasterList, {"count": len(rows), "results": rows})

    def designate(body: ChainMasterCreate = None):  # type: ignore[assignment]
        session = db.session
        row = service.designate(session, body=parse_body(ChainMasterCreate, json_body()))
        session.commit()
        return chain_roles.detail_response(row, 201)

    def revoke(enterprise: str, path: EnterprisePath = None, body: ChainMasterRevoke = None):  # type: ignore[assignment]
        session = db.session
        values = parse_body(ChainMasterRevoke, json_body())
        result = service.revoke(
            session,
            chain_master=enterprise,
            chain=values["chain"],
            until=values["until"],
            end_links=values["end_links"],
        )
        session.commit()
        # Rows of exactly RevokeResult's columns, written as read: never validated again as
        # input (a role older than a length limit is still answered, after its commit).
        return Response(to_json(result), mimetype="application/json")

    def link_supplier(
        enterprise: str,
        path: EnterprisePath = None,  # type: ignore[assignment]
        body: SupplierLinkCreate = None,  # type: ignore[assignment]
    ):
        values = parse_body(SupplierLinkCreate, json_body())
        with db.one_statement() as connection:  # the link, its role and its log: one statement
            link = _link_supplier(connection, {"enterprise": enterprise}, values)
        return supply_links.detail_response(link, 201)

    def list_suppliers(
        enterprise: str,
        path: EnterprisePath = None,  # type: ignore[assignment]
        query: SuppliersQuery = None,  # type: ignore[assignment]
    ):
        args = _query(SuppliersQuery)
        page = service.suppliers_of(
            db.session,
            chain_master=enterprise,
            chain=args["chain"],
            limit=args["limit"],
            offset=args["offset"],
        )
        return _json(SuppliersPage, page)

    for view in (list_masters, designate, revoke, link_supplier, list_suppliers):
        view.__delay_validate_request__ = True  # type: ignore[attr-defined]  # errors in our shape
    bp.get(
        "",
        summary="The current chain masters (role holding today), optionally of one chain",
        responses={200: ChainMasterList},
        operation_id="list_chain_masters",
    )(list_masters)
    bp.post(
        "",
        summary="Designate a chain master: the chain_master role in a chain, from since "
        "(default today); 409 when it already holds one",
        responses={201: chain_roles.read},
        operation_id="designate_chain_master",
    )(designate)
    bp.post(
        "/<enterprise>/revoke",
        summary="End the chain-master role in a chain on until (default today); 409 while live "
        "supply links remain, unless end_links is true (then they end too)",
        responses={200: RevokeResult},
        operation_id="revoke_chain_master",
    )(revoke)
    bp.post(
        "/<enterprise>/suppliers",
        summary="Link a supplier to this chain master in a chain; an active link also gives the "
        "supplier the supplier role in that chain when it holds no live one",
        responses={201: SupplyLinkRead},
        operation_id="link_chain_master_supplier",
    )(link_supplier)
    bp.get(
        "/<enterprise>/suppliers",
        summary="The chain master's live suppliers, with the local supply rate per chain "
        "(by value and by count, over active links)",
        responses={200: SuppliersPage},
        operation_id="list_chain_master_suppliers",
    )(list_suppliers)
    return bp


def _link_supplier(
    connection: Connection, args: dict[str, Any], values: dict[str, Any]
) -> dict[str, Any]:
    """The workflow's link on a connection of Database.one_statement(), as the route and the
    fast path (chaindb.api.fast) make it."""
    return service.link_supplier(connection, chain_master=args["enterprise"], body=values)[0]


def register(app: OpenAPI) -> None:
    app.register_api(supply_links.blueprint())
    app.register_api(_link_actions())
    app.register_api(_chain_masters())
    answer_in_front(
        app,
        "chain_masters.link_supplier",
        OneStatementWrite(SupplierLinkCreate, _link_supplier, supply_links, status=201),
    )
