"""Pages of enterprises (with everything that refers to them) and of their designations."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, aliased
from werkzeug.datastructures import MultiDict

from chaindb.access import Role
from chaindb.chains.models import Chain, ChainRole, ChainSegment, RoleKind, role_not_ended
from chaindb.chains.vocab import ROLE_LABELS
from chaindb.db import db
from chaindb.districts.models import District
from chaindb.enterprises.api import designations, enterprises, investor_attributes
from chaindb.enterprises.forms import (
    DesignationFilters,
    DesignationForm,
    EnterpriseFilters,
    EnterpriseForm,
    InvestorAttributeFilters,
    InvestorAttributeForm,
    MergeForm,
)
from chaindb.enterprises.merge import merge
from chaindb.enterprises.models import Designation, Enterprise, InvestorAttribute, is_local
from chaindb.enterprises.pickers import typed_enterprise_ids
from chaindb.enterprises.vocab import (
    DESIGNATION_LEVEL_LABELS,
    DESIGNATION_TYPE_LABELS,
    INVESTOR_ATTRIBUTE_LABELS,
    OWNERSHIP_LABELS,
    SIZE_LABELS,
)
from chaindb.errors import N_, DomainError, Forbidden, Invalid
from chaindb.projects.models import Project
from chaindb.projects.vocab import STAGE_LABELS
from chaindb.supply.models import SupplyLink
from chaindb.supply.vocab import STATUS_LABELS as LINK_STATUS_LABELS
from chaindb.web import may
from chaindb.web.pages import Column, Link, Pages, show_errors
from chaindb.web.pages import register as register_pages

# An enterprise's page lists this many of each kind of related record, then links to the rest.
RELATED_LIMIT = 200
STATUS_ORDER = {"active": 0, "proposed": 1, "ended": 2}


def _count(session: Session, model: type, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _roles(session: Session, enterprise_id: int) -> list[dict[str, Any]]:
    live = role_not_ended(func.current_date())
    rows = session.execute(
        select(
            ChainRole.id,
            ChainRole.role,
            ChainRole.chain_id,
            Chain.name_zh.label("chain"),
            ChainRole.segment_id,
            ChainSegment.name_zh.label("segment"),
            ChainRole.since,
            ChainRole.until,
            ChainRole.source,
            live.label("live"),
        )
        .join(Chain, Chain.id == ChainRole.chain_id)
        .outerjoin(ChainSegment, ChainSegment.id == ChainRole.segment_id)
        .where(ChainRole.enterprise_id == enterprise_id)
        .order_by(
            ~live, Chain.sort_order, Chain.id, ChainRole.role, ChainRole.since.nulls_first(),
            ChainRole.id,
        )
        .limit(RELATED_LIMIT)
    ).mappings()  # fmt: skip
    return [dict(r) for r in rows]


def _designations(session: Session, enterprise_id: int) -> list[dict[str, Any]]:
    valid = or_(Designation.valid_until.is_(None), Designation.valid_until >= func.current_date())
    rows = session.execute(
        select(
            Designation.id,
            Designation.type,
            Designation.level,
            Designation.year,
            Designation.valid_until,
            Designation.issuer,
            valid.label("valid"),
        )
        .where(Designation.enterprise_id == enterprise_id)
        .order_by(Designation.year.desc(), Designation.type, Designation.level, Designation.id)
        .limit(RELATED_LIMIT)
    ).mappings()
    return [dict(r) for r in rows]


def _links(session: Session, enterprise_id: int, *, as_supplier: bool) -> list[dict[str, Any]]:
    """The supply links of an enterprise: to its buyers (as supplier) or from its suppliers."""
    other = aliased(Enterprise)
    mine, theirs = (
        (SupplyLink.supplier_id, SupplyLink.buyer_id)
        if as_supplier
        else (SupplyLink.buyer_id, SupplyLink.supplier_id)
    )
    status_rank = case(STATUS_ORDER, value=SupplyLink.status, else_=9)
    rows = session.execute(
        select(
            SupplyLink.id,
            theirs.label("other_id"),
            other.name_zh.label("other"),
            other.district_id.label("other_district_id"),
            District.name_zh.label("other_district"),
            other.region_code.label("other_region"),
            SupplyLink.chain_id,
            Chain.name_zh.label("chain"),
            SupplyLink.segment_id,
            ChainSegment.name_zh.label("segment"),
            SupplyLink.product,
            SupplyLink.annual_value_cny_10k,
            SupplyLink.status,
            SupplyLink.since,
            SupplyLink.until,
            SupplyLink.verified,
        )
        .join(other, other.id == theirs)
        .outerjoin(District, District.id == other.district_id)
        .join(Chain, Chain.id == SupplyLink.chain_id)
        .outerjoin(ChainSegment, ChainSegment.id == SupplyLink.segment_id)
        .where(mine == enterprise_id)
        .order_by(
            status_rank, Chain.sort_order, Chain.id, other.name_zh, SupplyLink.product,
            SupplyLink.id,
        )
        .limit(RELATED_LIMIT)
    ).mappings()  # fmt: skip
    return [dict(r) for r in rows]


def _projects(session: Session, column: Any, enterprise_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(
            Project.id,
            Project.name,
            Project.chain_id,
            Chain.name_zh.label("chain"),
            Project.district_id,
            District.name_zh.label("district"),
            Project.stage,
            Project.kind,
            Project.agreed_investment_cny_100m,
            Project.funds_arrived_cny_100m,
            Project.signed_on,
            Project.is_key,
        )
        .join(Chain, Chain.id == Project.chain_id)
        .join(District, District.id == Project.district_id)
        .where(column == enterprise_id)
        .order_by(Project.signed_on.desc().nulls_last(), Project.id.desc())
        .limit(RELATED_LIMIT)
    ).mappings()
    return [dict(r) for r in rows]


def _related(session: Session, row: dict[str, Any]) -> dict[str, Any]:
    eid = row["id"]
    roles = _roles(session, eid)
    supplier = aliased(Enterprise)
    active, local = session.execute(
        select(func.count(), func.count().filter(is_local(supplier)))
        .select_from(SupplyLink)
        .join(supplier, supplier.id == SupplyLink.supplier_id)
        .where(SupplyLink.buyer_id == eid, SupplyLink.status == "active")
    ).one()
    return {
        "roles": roles,
        "role_count": _count(session, ChainRole, ChainRole.enterprise_id == eid),
        # The chains it is a chain master of today (the supplier form preselects a single one).
        "master_chains": sorted(
            {r["chain_id"] for r in roles if r["live"] and r["role"] == RoleKind.CHAIN_MASTER}
        ),
        "designations": _designations(session, eid),
        "investor_attributes": investor_attributes_of(session, eid),
        "designation_count": _count(session, Designation, Designation.enterprise_id == eid),
        "buyers": _links(session, eid, as_supplier=True),
        "buyer_count": _count(session, SupplyLink, SupplyLink.supplier_id == eid),
        "suppliers": _links(session, eid, as_supplier=False),
        "supplier_count": _count(session, SupplyLink, SupplyLink.buyer_id == eid),
        "active_suppliers": active,
        "local_suppliers": local,
        "invested": _projects(session, Project.investor_id, eid),
        "invested_count": _count(session, Project, Project.investor_id == eid),
        "served": _projects(session, Project.chain_master_id, eid),
        "served_count": _count(session, Project, Project.chain_master_id == eid),
        "chain_role_labels": ROLE_LABELS,
        "type_labels": DESIGNATION_TYPE_LABELS,
        "level_labels": DESIGNATION_LEVEL_LABELS,
        "status_labels": LINK_STATUS_LABELS,
        "stage_labels": STAGE_LABELS,
    }


class DesignationPages(Pages):
    """The designation list takes the enterprise as typed (?enterprise=) as well as by id."""

    def api_args(self, args: MultiDict) -> MultiDict:
        out = super().api_args(args)
        typed = out.pop("enterprise", None)
        if typed:
            out["enterprise_id__in"] = typed_enterprise_ids(typed)
        return out


def _designation_label(row: dict[str, Any]) -> str:
    kind = DESIGNATION_TYPE_LABELS.get(row["type"], row["type"])
    level = DESIGNATION_LEVEL_LABELS.get(row["level"], row["level"])
    return f"{kind} · {level} · {row['year']}"


def _merge_route(bp: Blueprint, pages: Pages) -> None:
    def merge_view(id: str):
        """合并重复企业 (admins): pick the duplicate, see what would move, then merge."""
        if not may(Role.ADMIN):
            raise Forbidden(
                N_("Changing this needs the %(role)s role."), params={"role": Role.ADMIN}
            )
        session = db.session
        row = enterprises.get(session, id)
        form = MergeForm()
        preview, status = None, 200
        if form.validate_on_submit():
            duplicate = form.duplicate.api_value()
            try:
                if not isinstance(duplicate, int):
                    raise Invalid(N_("Pick the duplicate from the suggestions."), field="duplicate")
                final = form.checked.data == f"{row['id']}:{duplicate}"
                savepoint = None if final else session.begin_nested()
                summary = merge(session, keep=row["id"], duplicate=duplicate)
                if savepoint is not None:
                    savepoint.rollback()
            except DomainError as exc:
                session.rollback()
                show_errors(form, exc)
                status = exc.status
            else:
                if final:
                    session.commit()
                    flash(
                        _(
                            "Merged %(duplicate)s into %(name)s.",
                            duplicate=summary["merged_name_zh"],
                            name=row["name_zh"],
                        ),
                        "ok",
                    )
                    return redirect(url_for("enterprises.detail", id=row["id"]))
                preview = summary
                form.checked.data = f"{row['id']}:{duplicate}"
        elif request.method == "POST":
            status = 422
        return render_template(
            "enterprises/merge.html",
            **pages.context(
                row=row,
                form=form,
                preview=preview,
                table_labels=MERGE_TABLE_LABELS,
                title=_("Merge a duplicate into %(name)s", name=row["name_zh"]),
            ),
        ), status

    bp.add_url_rule("/<key:id>/merge", "merge", merge_view, methods=["GET", "POST"])


MERGE_TABLE_LABELS = {
    "chain_role": _l("roles in chains"),
    "supply_link": _l("supply links"),
    "project": _l("projects"),
    "designation": _l("designations"),
    "enterprise_merge": _l("earlier merges"),
}


enterprise_pages = Pages(
    resource=enterprises,
    title=_l("Enterprises"),
    singular=_l("enterprise"),
    help=_l(
        "Chain masters, backbones, suppliers and investors, local or not. Search by Chinese "
        "name, pinyin initials (e.g. byd) or the beginning of the credit code."
    ),
    columns=[
        Column("name_zh", _l("Name")),
        Column("uscc", _l("Credit code")),
        Column(
            "district_id",
            _l("Planning unit"),
            link=Link(District, "districts.detail"),
            sortable=False,
        ),
        Column("region_code", _l("Region code"), sortable=False),
        Column("size", _l("Size"), choices=SIZE_LABELS),
        Column("ownership", _l("Ownership"), choices=OWNERSHIP_LABELS),
        Column("founded_on", _l("Founded on"), format="day"),
        Column("active", _l("Active"), format="yes_no"),
    ],
    detail_columns=[
        Column("name_zh", _l("Registered Chinese name")),
        Column("short_name", _l("Short name")),
        Column("name_en", _l("English name")),
        Column("aliases", _l("Other names")),
        Column("name_initials", _l("Pinyin initials (searched)")),
        Column("uscc", _l("Credit code")),
        Column("uscc_check_override", _l("Check-character override"), format="yes_no"),
        Column("uscc_override_reason", _l("Reason for the override")),
        Column("district_id", _l("Planning unit"), link=Link(District, "districts.detail")),
        Column("region_code", _l("Region code")),
        Column("size", _l("Size"), choices=SIZE_LABELS),
        Column("ownership", _l("Ownership"), choices=OWNERSHIP_LABELS),
        Column("founded_on", _l("Founded on"), format="day"),
        Column("active", _l("Active"), format="yes_no"),
        Column("notes", _l("Notes")),
    ],
    label=lambda row: row["name_zh"],
    form=EnterpriseForm,
    filters=EnterpriseFilters,
    detail_template="enterprises/detail.html",
    related=_related,
    extra_routes=[_merge_route],
)

designation_pages = DesignationPages(
    resource=designations,
    title=_l("Designations"),
    singular=_l("designation"),
    help=_l(
        "Quality designations of enterprises (优质企业梯度): the 专精特新 ladder, single champions, "
        "high-tech enterprises, gazelles and unicorns, with their level and validity."
    ),
    columns=[
        Column("type", _l("Designation"), choices=DESIGNATION_TYPE_LABELS),
        Column(
            "enterprise_id",
            _l("Enterprise"),
            link=Link(Enterprise, "enterprises.detail"),
            sortable=False,
        ),
        Column("level", _l("Level"), choices=DESIGNATION_LEVEL_LABELS),
        Column("year", _l("Year granted")),
        Column("valid_until", _l("Valid until"), format="day"),
        Column("issuer", _l("Granting authority"), sortable=False),
    ],
    detail_columns=[
        Column("enterprise_id", _l("Enterprise"), link=Link(Enterprise, "enterprises.detail")),
        Column("type", _l("Designation"), choices=DESIGNATION_TYPE_LABELS),
        Column("level", _l("Level"), choices=DESIGNATION_LEVEL_LABELS),
        Column("year", _l("Year granted")),
        Column("valid_until", _l("Valid until"), format="day"),
        Column("issuer", _l("Granting authority")),
        Column("notes", _l("Notes")),
    ],
    label=_designation_label,
    form=DesignationForm,
    filters=DesignationFilters,
)


def _investor_attribute_label(row: dict[str, Any]) -> str:
    kind = INVESTOR_ATTRIBUTE_LABELS.get(row["attribute"], row["attribute"])
    return f"{kind} · {row['year']}"


investor_attribute_pages = DesignationPages(
    resource=investor_attributes,
    title=_l("Investor attributes"),
    singular=_l("investor attribute"),
    help=_l(
        "What an investor is known as, for a year: 世界500强, 中国企业500强, 民营企业500强, 央企, "
        "上市公司. 招大引强 counts a project's investor by them."
    ),
    columns=[
        Column("attribute", _l("Attribute"), choices=INVESTOR_ATTRIBUTE_LABELS),
        Column(
            "enterprise_id",
            _l("Enterprise"),
            link=Link(Enterprise, "enterprises.detail"),
            sortable=False,
        ),
        Column("year", _l("Year of the list")),
        Column("list_rank", _l("Place on the list")),
    ],
    detail_columns=[
        Column("enterprise_id", _l("Enterprise"), link=Link(Enterprise, "enterprises.detail")),
        Column("attribute", _l("Attribute"), choices=INVESTOR_ATTRIBUTE_LABELS),
        Column("year", _l("Year of the list")),
        Column("list_rank", _l("Place on the list")),
        Column("source", _l("Source")),
        Column("notes", _l("Notes")),
    ],
    label=_investor_attribute_label,
    form=InvestorAttributeForm,
    filters=InvestorAttributeFilters,
)


def investor_attributes_of(session: Session, enterprise_id: int | None) -> list[dict[str, Any]]:
    """The enterprise's investor attributes, the latest year of each first."""
    if enterprise_id is None:
        return []
    rows = session.execute(
        select(
            InvestorAttribute.id,
            InvestorAttribute.attribute,
            InvestorAttribute.year,
            InvestorAttribute.list_rank,
        )
        .where(InvestorAttribute.enterprise_id == enterprise_id)
        .order_by(InvestorAttribute.year.desc(), InvestorAttribute.attribute)
        .limit(RELATED_LIMIT)
    ).mappings()
    return [
        {**row, "label": INVESTOR_ATTRIBUTE_LABELS.get(row["attribute"], row["attribute"])}
        for row in rows
    ]


def register(app: Flask) -> None:
    register_pages(app, enterprise_pages, designation_pages, investor_attribute_pages)
