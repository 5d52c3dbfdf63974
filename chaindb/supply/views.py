"""Pages of supply links, of the chain masters and their suppliers, and the 关联配套企业 form."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import (
    Blueprint,
    Flask,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional

from chaindb.access import Role
from chaindb.api.schemas import lax_input, parse_body
from chaindb.chains.models import Chain, ChainRole, ChainSegment, RoleKind, role_held_on
from chaindb.chains.queries import chain_masters
from chaindb.db import SHORT_TEXT, db, is_id, today
from chaindb.districts.models import District
from chaindb.enterprises.models import Enterprise, is_local
from chaindb.enterprises.pickers import typed_enterprise_ids
from chaindb.errors import N_, DomainError, Forbidden
from chaindb.reports import multiplier
from chaindb.supply import service
from chaindb.supply.api import supply_links
from chaindb.supply.forms import (
    EndLinkForm,
    LinkSupplierForm,
    MasterFilters,
    SupplyLinkFilters,
    SupplyLinkForm,
    parse_pair,
)
from chaindb.supply.models import LinkStatus, SupplyLink
from chaindb.supply.schemas import SupplierLinkCreate
from chaindb.supply.vocab import STATUS_LABELS
from chaindb.web import may, safe_next
from chaindb.web.forms import Form
from chaindb.web.pages import Column, Link, Pages, _page_url, confirmed, show_errors
from chaindb.web.pages import register as register_pages

LINK = SupplyLink.__table__
# Enough for the largest chain master (BYD's Jinan base: some 400 suppliers in the province).
SUPPLIERS_PAGE = 100  # suppliers per page of a chain master's page


# --- supply links: the generic pages -------------------------------------------------------------


def _names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """Enterprise names by id, remembered for the request (titles name both ends of a link)."""
    known: dict[int, str] = g.setdefault("supply_enterprise_names", {})
    missing = {i for i in ids if i is not None} - known.keys()
    if missing:
        known.update(
            session.execute(
                select(Enterprise.id, Enterprise.name_zh).where(Enterprise.id.in_(missing))
            ).all()
        )
    return known


def link_label(row: dict[str, Any]) -> str:
    names = _names(db.session, (row["supplier_id"], row["buyer_id"]))
    supplier = names.get(row["supplier_id"], f"#{row['supplier_id']}")
    buyer = names.get(row["buyer_id"], f"#{row['buyer_id']}")
    return f"{supplier} → {buyer}"


class SupplyLinkPages(Pages):
    def api_args(self, args: MultiDict) -> MultiDict:
        """The supplier and buyer filters are typed text: they become lists of ids."""
        out = super().api_args(args)
        for name, column in (("supplier", "supplier_id"), ("buyer", "buyer_id")):
            text = out.pop(name, None)
            if text:
                out[f"{column}__in"] = typed_enterprise_ids(text)
        return out

    def labels(self, session: Session, rows: list[dict[str, Any]], columns):
        _names(session, {r[k] for r in rows for k in ("supplier_id", "buyer_id")})
        return super().labels(session, rows, columns)


def _related(session: Session, row: dict[str, Any]) -> dict[str, Any]:
    supplier = session.execute(
        select(Enterprise.district_id, District.name_zh)
        .outerjoin(District, District.id == Enterprise.district_id)
        .where(Enterprise.id == row["supplier_id"])
    ).one()
    end_form = EndLinkForm() if row["status"] != LinkStatus.ENDED else None
    return {
        "supplier_local": supplier.district_id is not None,
        "supplier_district": supplier.name_zh,
        "end_form": end_form,
        "master_url": url_for(
            "supply.master", id=row["buyer_id"], _anchor=f"chain-{row['chain_id']}"
        ),
    }


def _helpers() -> dict[str, Any]:
    return {"status_labels": STATUS_LABELS}


def _end_route(bp: Blueprint, pages: Pages) -> None:
    def end(id: str):
        pages._check_write()
        session = db.session
        row = pages.resource.get(session, id)
        form = EndLinkForm()
        # Where to go afterwards (the chain master's page, say): only a path on this site.
        form.next.data = safe_next(form.next.data or request.args.get("next"), "")
        status = 200
        if form.validate_on_submit():
            reason = (form.reason.data or "").strip() or None
            try:
                service.end_link(session, key=str(row["id"]), until=form.until.data, reason=reason)
            except DomainError as exc:
                session.rollback()
                show_errors(form, exc)
                status = exc.status
            else:
                session.commit()
                flash(_("Ended: %(name)s", name=pages.label(row)), "ok")
                default = url_for(f"{pages.name}.detail", id=row["id"])
                return redirect(safe_next(form.next.data, default))
        elif request.method == "POST":
            status = 422
        return render_template(
            "supply/end.html",
            **pages.context(row=row, form=form, title=pages.label(row)),
        ), status

    bp.add_url_rule("/<key:id>/end", "end", end, methods=["GET", "POST"])
    bp.context_processor(_helpers)


ENTERPRISE = Link(Enterprise, "enterprises.detail")
CHAIN = Link(Chain, "chains.detail")
SEGMENT = Link(ChainSegment, "segments.detail")

pages = SupplyLinkPages(
    resource=supply_links,
    title=_l("Supply links"),
    singular=_l("supply link"),
    help=_l(
        "Supply links (配套关系): a supplier supplies a chain master (链主) for a chain. "
        "Suppliers outside the city's planning units are recorded too: they are the targets of "
        "补链 recruitment."
    ),
    columns=[
        Column("supplier_id", _l("Supplier → chain master"), sortable=False),
        Column("chain_id", _l("Chain"), link=CHAIN),
        Column("segment_id", _l("Segment"), link=SEGMENT),
        Column("product", _l("Product")),
        Column("annual_value_cny_10k", _l("Annual value"), format="wan"),
        Column("since", _l("Since"), format="day"),
        Column("status", _l("Status"), choices=STATUS_LABELS),
        Column("verified", _l("Verified"), format="yes_no"),
    ],
    detail_columns=[
        Column("supplier_id", _l("Supplier (配套企业)"), link=ENTERPRISE),
        Column("buyer_id", _l("Chain master (链主), the buyer"), link=ENTERPRISE),
        Column("chain_id", _l("Chain"), link=CHAIN),
        Column("segment_id", _l("Segment"), link=SEGMENT),
        Column("product", _l("Product")),
        Column("annual_value_cny_10k", _l("Annual value"), format="wan"),
        Column("since", _l("Supplying since"), format="day"),
        Column("until", _l("Supplying until"), format="day"),
        Column("status", _l("Status"), choices=STATUS_LABELS),
        Column("reported_by", _l("Reported by")),
        Column("verified", _l("Verified"), format="yes_no"),
        Column("verified_at", _l("Verified at"), format="moment"),
        Column("notes", _l("Notes")),
    ],
    label=link_label,
    form=SupplyLinkForm,
    filters=SupplyLinkFilters,
    detail_template="supply/link_detail.html",
    related=_related,
    new_endpoint="supply.link",
    extra_routes=[_end_route],
)


# --- chain masters and their suppliers ------------------------------------------------------------

bp = Blueprint("supply", __name__)


bp.context_processor(_helpers)


def _supplier_counts(session: Session, buyer_ids: set[int]) -> dict[tuple[int, int], Any]:
    """(buyer, chain) -> its distinct suppliers through active links, and the local ones."""
    if not buyer_ids:
        return {}
    supplier = Enterprise.__table__.alias("supplier")
    rows = session.execute(
        select(
            LINK.c.buyer_id,
            LINK.c.chain_id,
            func.count(distinct(LINK.c.supplier_id)).label("suppliers"),
            func.count(distinct(LINK.c.supplier_id))
            .filter(is_local(supplier))
            .label("local_suppliers"),
        )
        .join(supplier, supplier.c.id == LINK.c.supplier_id)
        .where(LINK.c.status == LinkStatus.ACTIVE, LINK.c.buyer_id.in_(buyer_ids))
        .group_by(LINK.c.buyer_id, LINK.c.chain_id)
    )
    return {(r.buyer_id, r.chain_id): r for r in rows}


def _chain_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    ids = set(ids)
    if not ids:
        return {}
    return dict(session.execute(select(Chain.id, Chain.name_zh).where(Chain.id.in_(ids))).all())


@bp.get("/chain-masters")
def masters():
    session = db.session
    filters = MasterFilters(request.args, meta={"csrf": False})
    chain = request.args.get("chain", "").strip() or None
    error = None
    try:
        rows = chain_masters(session, chain=chain)
    except DomainError as exc:
        error, rows = exc, []
    buyers = {r["enterprise_id"] for r in rows}
    totals = service.supply_totals(session, buyers)
    counts = _supplier_counts(session, buyers)
    names = _chain_names(session, {r["chain_id"] for r in rows})
    for row in rows:
        key = (row["enterprise_id"], row["chain_id"])
        row["chain_name"] = names.get(row["chain_id"], row["chain_code"])
        row.update(totals.get(key, service.NO_TOTALS))
        found = counts.get(key)
        row["suppliers"] = found.suppliers if found else 0
        row["local_suppliers"] = found.local_suppliers if found else 0
    return render_template(
        "supply/masters.html",
        rows=rows,
        filters=filters,
        error=error,
        masters=len({r["enterprise_id"] for r in rows}),
        chains=len({r["chain_id"] for r in rows}),
    ), (error.status if error else 200)


class SupplierFilters(Form):
    """The chain master's page: which of its suppliers to list (GET, no CSRF token)."""

    q = StringField(_l("Search"), validators=[Optional(), Length(max=SHORT_TEXT)])
    district = SelectField(_l("Where"), validators=[Optional()])
    status = SelectField(_l("Status"), validators=[Optional()])
    chain_id = SelectField(_l("Chain"), validators=[Optional()])
    page = IntegerField(_l("Page"), validators=[Optional(), NumberRange(min=1)])


def _supplier_filters(session: Session, chain_ids: Iterable[int]) -> SupplierFilters:
    form = SupplierFilters(request.args, meta={"csrf": False})
    any_ = SelectChoice("", _("— any —"))
    units = session.execute(select(District.id, District.name_zh).order_by(District.code)).all()
    form.district.choices = [
        any_,
        SelectChoice("local", _("local (any planning unit)")),
        SelectChoice("elsewhere", _("from elsewhere (non-local)")),
        *(SelectChoice(str(i), name) for i, name in units),
    ]
    form.status.choices = [
        any_,
        SelectChoice(LinkStatus.ACTIVE.value, _("active")),
        SelectChoice(LinkStatus.PROPOSED.value, _("proposed")),
    ]
    names = _chain_names(session, set(chain_ids))
    form.chain_id.choices = [any_, *(SelectChoice(str(i), n) for i, n in names.items())]
    return form


@bp.get("/chain-masters/<key:id>")
def master(id: str):
    session = db.session
    everything = service.suppliers_of(session, chain_master=id, chain=None, limit=0, offset=0)
    form = _supplier_filters(session, (s["chain_id"] for s in everything["summary"]))
    valid = form.validate()
    page_no = (form.page.data or 1) if valid else 1
    only = None
    if valid:
        district = form.district.data or None
        only = service.SupplierFilter(
            q=form.q.data or None,
            district=int(district) if district and district.isdigit() else district,
            status=form.status.data or None,
            chain_id=int(form.chain_id.data) if form.chain_id.data else None,
        )
    data = service.suppliers_of(
        session,
        chain_master=id,
        chain=None,
        limit=SUPPLIERS_PAGE if valid else 0,
        offset=(page_no - 1) * SUPPLIERS_PAGE,
        only=only,
    )
    buyer = data["chain_master"]
    day = today(session)
    roles = {
        r.chain_id: r
        for r in session.execute(
            select(ChainRole.chain_id, ChainRole.since, ChainRole.until).where(
                ChainRole.enterprise_id == buyer["id"],
                ChainRole.role == RoleKind.CHAIN_MASTER,
                role_held_on(day),
            )
        )
    }
    suppliers = data["suppliers"]
    names = _chain_names(session, {s["chain_id"] for s in data["summary"]})
    segment_ids = {s["segment_id"] for s in suppliers} - {None}
    segments = dict(
        session.execute(
            select(ChainSegment.id, ChainSegment.name_zh).where(ChainSegment.id.in_(segment_ids))
        ).all()
    )
    district_ids = {s["supplier_district_id"] for s in suppliers} - {None}
    districts = dict(
        session.execute(
            select(District.id, District.name_zh).where(District.id.in_(district_ids))
        ).all()
    )
    buyer_district = session.execute(
        select(District.name_zh)
        .join(Enterprise, Enterprise.district_id == District.id)
        .where(Enterprise.id == buyer["id"])
    ).scalar()
    chains = []
    for summary in data["summary"]:
        mine = [s for s in suppliers if s["chain_id"] == summary["chain_id"]]
        active = [s for s in mine if s["status"] == LinkStatus.ACTIVE]
        chains.append(
            {
                **summary,
                "name": names.get(summary["chain_id"], summary["chain_code"]),
                "role": roles.get(summary["chain_id"]),
                "local": [s for s in active if s["supplier_local"]],
                "nonlocal": [s for s in active if not s["supplier_local"]],
                "proposed": [s for s in mine if s["status"] == LinkStatus.PROPOSED],
            }
        )
    filtered = bool(only and (only.q or only.district or only.status or only.chain_id))
    return render_template(
        "supply/master.html",
        multiplier=multiplier.of_chain_master(session, buyer["id"]),
        buyer=buyer,
        buyer_district=buyer_district,
        chains=chains,
        segments=segments,
        districts=districts,
        count=data["count"],
        shown=len(suppliers),
        title=buyer["name_zh"],
        form=form,
        filtered=filtered,
        page_no=page_no,
        pages_total=max(1, -(-data["count"] // SUPPLIERS_PAGE)),
        size=SUPPLIERS_PAGE,
        page_url=_page_url,
    ), (200 if valid else 422)


# --- 关联配套企业: link a supplier ------------------------------------------------------------------


def _master_choices(session: Session) -> list[SelectChoice]:
    """Today's chain masters, one option per chain: "chain (code) · master".

    The chain comes first so that the segment select can follow it (chaindb.js).
    """
    rows = chain_masters(session, chain=None)
    names = _chain_names(session, {r["chain_id"] for r in rows})
    seen: dict[str, str] = {}
    for r in rows:
        value = f"{r['enterprise_id']}:{r['chain_id']}"
        chain = names.get(r["chain_id"], r["chain_code"])
        seen.setdefault(value, f"{chain} ({r['chain_code']}) · {r['name_zh']}")
    return [SelectChoice("", _("— choose —")), *(SelectChoice(v, t) for v, t in seen.items())]


def _pair_label(session: Session, buyer_id: int, chain_id: int) -> str:
    name = session.scalar(select(Enterprise.name_zh).where(Enterprise.id == buyer_id))
    chain = session.execute(
        select(Chain.name_zh, Chain.code).where(Chain.id == chain_id)
    ).one_or_none()
    chain_text = f"{chain.name_zh} ({chain.code})" if chain else f"#{chain_id}"
    return f"{chain_text} · {name or f'#{buyer_id}'}"


def _preselect(choices: list[SelectChoice]) -> str | None:
    buyer = request.args.get("buyer_id", "").strip()
    chain = request.args.get("chain_id", "").strip()
    if not is_id(buyer):
        return None
    if is_id(chain):
        return f"{int(buyer)}:{int(chain)}"
    return next((c.value for c in choices if c.value.startswith(f"{int(buyer)}:")), None)


@bp.route("/supply/link", methods=["GET", "POST"])
def link():
    if not may(Role.EDITOR):
        raise Forbidden(N_("Changing this needs the %(role)s role."), params={"role": "editor"})
    session = db.session
    form = LinkSupplierForm()
    form.master.choices = _master_choices(session)
    if request.method == "GET":
        form.master.data = _preselect(form.master.choices)
    status = 200
    if form.validate_on_submit():
        buyer_id, chain_id = form.master.pair  # type: ignore[misc]
        body = {
            "chain": chain_id,
            "supplier": form.supplier.api_value(),
            "segment_id": form.segment_id.data,
            "product": (form.product.data or "").strip() or None,
            "annual_value_cny_10k": form.annual_value_cny_10k.data,
            "since": form.since.data,
            "status": form.status.data,
            "reported_by": (form.reported_by.data or "").strip() or None,
            "verified": form.verified.data,
            "notes": (form.notes.data or "").strip() or None,
            "confirm": confirmed(),
        }
        try:
            with lax_input():
                values = parse_body(SupplierLinkCreate, body)
            row, _role = service.link_supplier(session, chain_master=str(buyer_id), body=values)
        except DomainError as exc:
            session.rollback()
            # The workflow blames the buyer's and the chain's faults on "chain": here, `master`.
            show_errors(form, exc.renamed({"chain": "master"}))
            status = exc.status
        else:
            session.commit()
            supplier = _names(session, [row["supplier_id"]])[row["supplier_id"]]
            flash(
                _(
                    "Linked %(supplier)s as a supplier of %(master)s.",
                    supplier=supplier,
                    master=_names(session, [buyer_id])[buyer_id],
                ),
                "ok",
            )
            # The chain master's page, found to the supplier just linked (among its hundreds).
            return redirect(
                url_for("supply.master", id=buyer_id, q=supplier, _anchor=f"chain-{chain_id}")
            )
    elif request.method == "POST":
        status = 422
    pair = parse_pair(form.master.data)
    if pair and not any(c.value == form.master.data for c in form.master.choices):
        # Keep what was chosen (a chain master since revoked, say) beside its refusal.
        form.master.choices.append(SelectChoice(form.master.data, _pair_label(session, *pair)))
    return render_template("supply/link.html", form=form, title=_("Link a supplier")), status


def register(app: Flask) -> None:
    register_pages(app, pages)
    app.register_blueprint(bp)
