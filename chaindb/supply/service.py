"""Supply links (配套关系) and the chain-master workflow: link, end, designate, revoke, report.

Every function takes the session as a keyword and never commits: the route does. The rules are
checked here first, so that a refusal names its reason in the caller's own field names; the
database's constraints and triggers stay the last guard (their refusals are translated too).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    column,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from chaindb.access import acting_scope, require_scope
from chaindb.amounts import confirm_amounts
from chaindb.chains import service as chains
from chaindb.chains.models import (
    Chain,
    ChainRole,
    RoleKind,
    role_held_on,
    role_not_ended,
)
from chaindb.chains.schemas import ChainRoleRead
from chaindb.chains.service import (
    chain_label,
    find_chain,
    holds_chain_master,
    lock_chain_master_role,
    segment_fault,
)
from chaindb.config import current_settings
from chaindb.db import is_id, today
from chaindb.enterprises.models import Enterprise, is_local
from chaindb.enterprises.service import enterprise_label, find_enterprise
from chaindb.errors import (
    N_,
    Conflict,
    Invalid,
    NotFound,
    Shown,
    write_rows,
)
from chaindb.supply.models import LinkStatus, SupplyLink
from chaindb.supply.schemas import SupplyLinkRead

LINK = SupplyLink.__table__
ROLE = ChainRole.__table__
LINK_COLUMNS = [LINK.c[name] for name in SupplyLinkRead.model_fields]
ROLE_COLUMNS = [ROLE.c[name] for name in ChainRoleRead.model_fields]
LIVE = (LinkStatus.ACTIVE, LinkStatus.PROPOSED)  # a live link: not ended

# Field names of the generic /supply-links resource, per rule.
RESOURCE_FIELDS = {
    "supplier": "supplier_id",
    "buyer": "buyer_id",
    "chain": "chain_id",
    "segment": "segment_id",
}
# The same rules as the chain-master workflow names them (its buyer is in the path).
WORKFLOW_FIELDS = {
    "supplier": "supplier",
    "buyer": "chain",
    "chain": "chain",
    "segment": "segment_id",
}


# The columns of the database's supply_totals(master), one row per chain.
SUPPLY_TOTALS = (
    "buyer_id",
    "chain_id",
    "active_links",
    "local_active_links",
    "links_with_value",
    "value_cny_10k",
    "local_value_cny_10k",
    "local_supply_rate_by_value",
    "local_supply_rate_by_count",
    "proposed_links",
)


def supplier_is_local() -> ColumnElement[bool]:
    """True when the link's supplier sits in one of the city's planning units (DOMAIN.md)."""
    return exists().where(Enterprise.id == SupplyLink.supplier_id, is_local())


# --- finding things by id or natural key --------------------------------------------------------


# --- finding a link ----------------------------------------------------------------------------


def find_link(session: Session, key: str, *, lock: bool = False) -> dict[str, Any]:
    if not is_id(key):
        raise NotFound("no supply link %(key)r", params={"key": key})
    stmt: Select = select(*LINK_COLUMNS).where(LINK.c.id == int(key))
    if lock:
        stmt = stmt.with_for_update()
    row = session.execute(stmt).mappings().one_or_none()
    if row is None:
        raise NotFound("no supply link %(key)r", params={"key": key})
    return dict(row)


# --- the rules of a link ------------------------------------------------------------------------


def _require_link_scope(session: Session, supplier_id: int, chain_id: int, field: str) -> None:
    """The acting unit answers for the link: its chain's office, the office of the planning
    unit its supplier is located in, or the city bureau (as the database's policy says)."""
    scope = acting_scope()
    if scope is None or scope.covers_chain(chain_id):
        return
    district = session.scalar(select(Enterprise.district_id).where(Enterprise.id == supplier_id))
    require_scope(
        scope.covers_district(district),
        N_(
            "%(unit)s links suppliers in its own chains only, or suppliers located in its "
            "planning unit; not %(supplier)s in chain %(chain)s"
        ),
        supplier=enterprise_label(session, supplier_id),
        chain=chain_label(session, chain_id),
    )


def check_link(
    session: Session,
    values: dict[str, Any],
    current: dict[str, Any] | None,
    *,
    fields: dict[str, str] = RESOURCE_FIELDS,
) -> None:
    """The rules of DOMAIN.md for one link, `values` holding ids (resolved references).

    `current` is the row before an update (None on create); `fields` names the fields to blame.
    """
    supplier_id, buyer_id, chain_id = values["supplier_id"], values["buyer_id"], values["chain_id"]
    status = values.get("status") or LinkStatus.ACTIVE
    _require_link_scope(session, supplier_id, chain_id, fields["chain"])
    if supplier_id == buyer_id:
        raise Invalid(
            "%(supplier)s cannot supply itself: the supplier and the chain master are the same "
            "enterprise",
            params={"supplier": enterprise_label(session, supplier_id)},
            field=fields["supplier"],
        )
    segment_id = values.get("segment_id")
    fault = segment_fault(session, segment_id, chain_id)
    if fault is not None:
        if fault == "no_segment":
            raise Invalid(
                "no segment with id %(id)s", params={"id": segment_id}, field=fields["segment"]
            )
        if fault == "other_chain":
            raise Invalid(
                "segment %(id)s belongs to another chain than %(chain)s",
                params={"id": segment_id, "chain": chain_label(session, chain_id)},
                field=fields["segment"],
            )
    since, until = values.get("since"), values.get("until")
    if status == LinkStatus.ENDED and until is None:
        raise Invalid("an ended link needs until (its last day of supply)", field="until")
    if since is not None and until is not None and until < since:
        raise Invalid(
            "until (%(until)s) is before since (%(since)s)",
            params={"until": until, "since": since},
            field="until",
        )
    # As the trigger does: judged when the buyer, the chain or the status changes.
    changed = current is None or any(
        values.get(k) != current.get(k) for k in ("buyer_id", "chain_id", "status")
    )
    if changed:
        live = status != LinkStatus.ENDED
        held = (
            lock_chain_master_role(session, buyer_id, chain_id)
            if live
            else holds_chain_master(session, buyer_id, chain_id, None)
        )
        if not held:
            params: dict[str, Any] = {
                "buyer": enterprise_label(session, buyer_id),
                "chain": chain_label(session, chain_id),
            }
            if live:
                raise Invalid(
                    "%(buyer)s is not a chain master of chain %(chain)s today; only a chain "
                    "master (链主) can be the buyer of a supply link",
                    params=params,
                    field=fields["buyer"],
                )
            raise Invalid(
                "%(buyer)s is not a chain master of chain %(chain)s; only a chain master (链主) "
                "can be the buyer of a supply link",
                params=params,
                field=fields["buyer"],
            )
    if status == LinkStatus.ACTIVE:
        product = values.get("product")
        same = [
            LINK.c.supplier_id == supplier_id,
            LINK.c.buyer_id == buyer_id,
            LINK.c.chain_id == chain_id,
            LINK.c.product.is_not_distinct_from(product),
            LINK.c.status == LinkStatus.ACTIVE,
        ]
        if current is not None:
            same.append(LINK.c.id != current["id"])
        duplicate = session.scalar(select(LINK.c.id).where(*same).limit(1))
        if duplicate is not None:
            params = {
                "supplier": enterprise_label(session, supplier_id),
                "link": duplicate,
                "buyer": enterprise_label(session, buyer_id),
                "chain": chain_label(session, chain_id),
                "product": product,
            }
            if product is not None:
                raise Conflict(
                    "%(supplier)s already has an active link (supply link %(link)s) to "
                    "%(buyer)s in chain %(chain)s with product %(product)r; end it or change "
                    "that one",
                    params=params,
                    field=fields["supplier"],
                )
            raise Conflict(
                "%(supplier)s already has an active link (supply link %(link)s) to %(buyer)s "
                "in chain %(chain)s with no product given; end it or change that one",
                params=params,
                field=fields["supplier"],
            )


# --- the chain-master workflow ------------------------------------------------------------------

DB_FIELDS_AS_WORKFLOW = {"supplier_id": "supplier", "buyer_id": "chain", "chain_id": "chain"}


def link_supplier(
    session: Session, *, chain_master: str, body: dict[str, Any]
) -> tuple[dict[str, Any], int | None]:
    """Link a supplier to the chain master `chain_master` (id or credit code) in a chain.

    Returns the link and the id of the supplier role created with it (None when the supplier
    already held a live one, or the link is not active).
    """
    buyer = find_enterprise(session, chain_master)
    chain = find_chain(session, body.pop("chain"), field="chain")
    supplier = find_enterprise(session, body.pop("supplier"), field="supplier")
    values = {**body, "supplier_id": supplier.id, "buyer_id": buyer.id, "chain_id": chain.id}
    return create_link(session, values=values, fields=WORKFLOW_FIELDS, names=DB_FIELDS_AS_WORKFLOW)


def create_link(
    session: Session,
    *,
    values: dict[str, Any],
    fields: dict[str, str] = RESOURCE_FIELDS,
    names: dict[str, str] | None = None,
) -> tuple[dict[str, Any], int | None]:
    """A new link, however it comes (the workflow, the resource, a bulk request, an import):
    its rules, the confirmation of a large value, and the supplier role an active link gives.

    `values` hold ids (resolved references) and may hold the client's "confirm" list; `fields`
    and `names` name the faults in the caller's own field names. Returns the link and the id of
    the supplier role created with it, if any.
    """
    values = dict(values)
    confirmed = set(values.pop("confirm", None) or ())
    check_link(session, values, None, fields=fields)
    _confirm_value(values, None, confirmed)
    link = write_rows(session, insert(LINK).values(values).returning(*LINK_COLUMNS), names=names)[0]
    return link, _role_of(session, link)


def update_link(
    session: Session, *, current: dict[str, Any], values: dict[str, Any]
) -> dict[str, Any]:
    """Change a link (the resource's PATCH and PUT, an import): the same rules as a new one, and
    the supplier role when the link is (or becomes) active."""
    values = dict(values)
    confirmed = set(values.pop("confirm", None) or ())
    check_link(session, {**current, **values}, current)
    _confirm_value({**current, **values}, current, confirmed)
    if not values:
        return current
    link = write_rows(
        session,
        update(LINK).where(LINK.c.id == current["id"]).values(values).returning(*LINK_COLUMNS),
    )[0]
    _role_of(session, link)
    return link


def _confirm_value(
    values: dict[str, Any], current: dict[str, Any] | None, confirmed: set[str]
) -> None:
    confirm_amounts(
        {"annual_value_cny_10k": values.get("annual_value_cny_10k")},
        limit=current_settings().confirm_link_above_cny_10k,
        unit="万元",
        confirmed=confirmed,
        unchanged=current,
    )


def _role_of(session: Session, link: dict[str, Any]) -> int | None:
    """An active link gives its supplier the supplier role in the chain (when it holds none)."""
    if link["status"] != LinkStatus.ACTIVE:
        return None
    return ensure_supplier_role(
        session,
        enterprise_id=link["supplier_id"],
        chain_id=link["chain_id"],
        segment_id=link["segment_id"],
        since=link["since"],
        source=f"supply link {link['id']}",
    )


def ensure_supplier_role(
    session: Session,
    *,
    enterprise_id: int,
    chain_id: int,
    segment_id: int | None,
    since: date | None,
    source: str,
) -> int | None:
    """Give the enterprise the `supplier` role in the chain unless it holds a live one (any segment).

    The new role starts on `since` (today when unknown), after any earlier supplier role of the
    enterprise in the chain, so that periods never overlap. Returns the new role's id, or None.
    """
    # One request at a time per enterprise and chain: two links made at once for a new supplier
    # would otherwise each insert its role and wait for the other's (a deadlock, found by
    # bench/api_load.py); the second now waits, then sees the first one's role.
    session.execute(
        select(
            func.pg_advisory_xact_lock(
                func.hashtextextended(f"supplier role {chain_id}", enterprise_id)
            )
        )
    )
    day = today(session)
    mine = and_(
        ChainRole.enterprise_id == enterprise_id,
        ChainRole.chain_id == chain_id,
        ChainRole.role == RoleKind.SUPPLIER,
    )
    live = session.scalar(select(ChainRole.id).where(mine, role_not_ended(day)))
    if live is not None:
        return None
    start = since or day
    last = session.scalar(select(func.max(ChainRole.until)).where(mine))
    if last is not None and start <= last:
        start = last + timedelta(days=1)
    stmt = (
        insert(ROLE)
        .values(
            enterprise_id=enterprise_id,
            chain_id=chain_id,
            segment_id=segment_id,
            role=RoleKind.SUPPLIER,
            since=start,
            source=source,
        )
        .returning(ROLE.c.id)
    )
    try:
        return write_rows(session, stmt)[0]["id"]
    except Conflict:
        # A concurrent request gave it the role first (the exclusion constraint waited for it).
        return None


def end_link(
    session: Session, *, key: str, until: date | None, reason: str | None
) -> dict[str, Any]:
    """End a live link: status ended, its last day set; it stays as history."""
    seen = find_link(session, key)
    _require_link_scope(session, seen["supplier_id"], seen["chain_id"], "chain")
    link = find_link(session, key, lock=True)
    if link["status"] == LinkStatus.ENDED:
        raise Conflict(
            "supply link %(id)s already ended on %(until)s",
            params={"id": link["id"], "until": link["until"]},
            field="status",
        )
    day = today(session)
    until = until or day
    _check_end_day(until, day, link)
    return _end_links(session, [link], until, reason)[0]


def _check_end_day(until: date, day: date, link: dict[str, Any]) -> None:
    if until > day:
        raise Invalid(
            "until (%(until)s) lies in the future; a link ends on or before today "
            "(to plan an end, set until on the active link instead)",
            params={"until": until},
            field="until",
        )
    if link["since"] is not None and until < link["since"]:
        raise Invalid(
            "until (%(until)s) is before supply link %(id)s began (%(since)s)",
            params={"until": until, "id": link["id"], "since": link["since"]},
            field="until",
        )


def _end_links(
    session: Session, links: list[dict[str, Any]], until: date, reason: str | None
) -> list[dict[str, Any]]:
    if not links:
        return []
    note = f"[ended {until}] {reason}" if reason else None
    notes = (
        case((LINK.c.notes.is_(None), literal(note)), else_=LINK.c.notes + "\n" + note)
        if note
        else LINK.c.notes
    )
    return write_rows(
        session,
        update(LINK)
        .where(LINK.c.id.in_([link["id"] for link in links]))
        .values(status=LinkStatus.ENDED, until=until, notes=notes)
        .returning(*LINK_COLUMNS),
    )


@dataclass(frozen=True)
class SupplierFilter:
    """Which of a chain master's links a reader wants: words in the supplier's name, its short
    name, its pinyin initials, its credit code or the product; its planning unit (an id,
    "local" or "elsewhere"); the link's status; the chain (an id)."""

    q: str | None = None
    district: int | str | None = None
    status: str | None = None
    chain_id: int | None = None


def suppliers_of(
    session: Session,
    *,
    chain_master: str,
    chain: str | None,
    limit: int,
    offset: int,
    only: SupplierFilter | None = None,
) -> dict[str, Any]:
    """The chain master's live links (active and proposed) with their suppliers, and per chain
    the local supply rate by value and by count over its active links (DOMAIN.md). `only`
    narrows the links listed (and counted as "count"), not the summaries."""
    buyer = find_enterprise(session, chain_master)
    chain_row = find_chain(session, chain, field="chain") if chain else None
    day = today(session)
    scope = [LINK.c.buyer_id == buyer.id, LINK.c.status.in_(LIVE)]
    role_scope = [
        ChainRole.enterprise_id == buyer.id,
        ChainRole.role == RoleKind.CHAIN_MASTER,
        role_held_on(day),
    ]
    if chain_row is not None:
        scope.append(LINK.c.chain_id == chain_row.id)
        role_scope.append(ChainRole.chain_id == chain_row.id)
    chain_ids = set(session.scalars(select(ChainRole.chain_id).where(*role_scope)))
    chain_ids |= set(session.scalars(select(LINK.c.chain_id).where(*scope).distinct()))
    if not chain_ids:
        if chain_row is not None:
            raise NotFound(
                "%(name)s (id %(id)s) is not a chain master of chain %(chain)s today and has no "
                "live supply links",
                params={
                    "name": buyer.name_zh,
                    "id": buyer.id,
                    "chain": Shown(chain_row.code, chain_row.name_zh),
                },
            )
        raise NotFound(
            "%(name)s (id %(id)s) is not a chain master today and has no live supply links",
            params={"name": buyer.name_zh, "id": buyer.id},
        )
    supplier = Enterprise.__table__.alias("supplier")
    local = is_local(supplier)
    listed = list(scope)
    if only is not None:
        if only.q and only.q.strip():
            # The words as typed: % and _ are letters here, not wildcards.
            typed = only.q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            words = f"%{typed}%"
            listed.append(
                or_(
                    supplier.c.name_zh.ilike(words, escape="\\"),
                    supplier.c.short_name.ilike(words, escape="\\"),
                    supplier.c.name_initials.ilike(words.lower(), escape="\\"),
                    supplier.c.uscc.ilike(words, escape="\\"),
                    LINK.c.product.ilike(words, escape="\\"),
                )
            )
        if only.district == "local":
            listed.append(local)
        elif only.district == "elsewhere":
            listed.append(~local)
        elif isinstance(only.district, int):
            listed.append(supplier.c.district_id == only.district)
        if only.status:
            listed.append(LINK.c.status == only.status)
        if only.chain_id is not None:
            listed.append(LINK.c.chain_id == only.chain_id)
    rows = session.execute(
        select(
            LINK.c.id.label("link_id"),
            LINK.c.chain_id,
            Chain.code.label("chain_code"),
            LINK.c.supplier_id,
            supplier.c.uscc.label("supplier_uscc"),
            supplier.c.name_zh.label("supplier_name_zh"),
            supplier.c.short_name.label("supplier_short_name"),
            local.label("supplier_local"),
            supplier.c.district_id.label("supplier_district_id"),
            LINK.c.segment_id,
            LINK.c.product,
            LINK.c.annual_value_cny_10k,
            LINK.c.since,
            LINK.c.until,
            LINK.c.status,
            LINK.c.verified,
        )
        .join(supplier, supplier.c.id == LINK.c.supplier_id)
        .join(Chain, Chain.id == LINK.c.chain_id)
        .where(*listed)
        .order_by(
            Chain.sort_order,
            Chain.code,
            (LINK.c.status == LinkStatus.ACTIVE).desc(),
            LINK.c.annual_value_cny_10k.desc().nulls_last(),
            supplier.c.name_zh,
            LINK.c.id,
        )
        .limit(limit)
        .offset(offset)
    ).mappings()
    suppliers = [dict(r) for r in rows]
    count = session.scalar(
        select(func.count())
        .select_from(LINK.join(supplier, supplier.c.id == LINK.c.supplier_id))
        .where(*listed)
    )
    return {
        "chain_master": {
            "id": buyer.id,
            "uscc": buyer.uscc,
            "name_zh": buyer.name_zh,
            "local": buyer.district_id is not None,
        },
        "summary": supply_summary(session, buyer_id=buyer.id, chain_ids=chain_ids),
        "count": count,
        "suppliers": suppliers,
    }


def supply_totals(session: Session, buyer_ids: Iterable[int]) -> dict[tuple[int, int], dict]:
    """(chain master, chain) -> its live links as the database's supply_totals() counts them:
    links, values and the local supply rate (the one definition of the rate, which
    report_chain_master_suppliers reads too), the rates also rounded to 4 places."""
    ids = sorted(set(buyer_ids))
    if not ids:
        return {}
    totals = func.supply_totals().table_valued(*(column(name) for name in SUPPLY_TOTALS))
    rows = session.execute(select(totals).where(totals.c.buyer_id.in_(ids))).mappings()
    return {
        (row["buyer_id"], row["chain_id"]): {
            **row,
            "local_rate_by_count": _rate(row["local_supply_rate_by_count"]),
            "local_rate_by_value": _rate(row["local_supply_rate_by_value"]),
        }
        for row in rows
    }


def _rate(value: Decimal | None) -> float | None:
    return None if value is None else round(float(value), 4)


# A chain master with no live link in a chain: its totals there.
NO_TOTALS = {
    **{name: 0 for name in SUPPLY_TOTALS if name not in ("buyer_id", "chain_id")},
    "value_cny_10k": Decimal(0),
    "local_value_cny_10k": Decimal(0),
    "local_supply_rate_by_value": None,
    "local_supply_rate_by_count": None,
    "local_rate_by_count": None,
    "local_rate_by_value": None,
}


def supply_summary(session: Session, *, buyer_id: int, chain_ids: set[int]) -> list[dict]:
    """Per chain of `chain_ids`: the chain master's live links and its local supply rate."""
    totals = supply_totals(session, [buyer_id])
    chains = session.execute(
        select(Chain.id, Chain.code)
        .where(Chain.id.in_(chain_ids))
        .order_by(Chain.sort_order, Chain.code)
    ).all()
    summary = []
    for chain_id, code in chains:
        row = totals.get((buyer_id, chain_id), NO_TOTALS)
        summary.append(
            {
                "chain_id": chain_id,
                "chain_code": code,
                **{name: row[name] for name in SUMMARY},
            }
        )
    return summary


# The summary's fields (the API's SupplySummary), in its order.
SUMMARY = (
    "active_links",
    "local_active_links",
    "local_rate_by_count",
    "links_with_value",
    "value_cny_10k",
    "local_value_cny_10k",
    "local_rate_by_value",
    "proposed_links",
)


# --- designating and revoking chain masters -----------------------------------------------------


def designate(session: Session, *, body: dict[str, Any]) -> dict[str, Any]:
    """Give an enterprise (id or credit code) the chain_master role in a chain (id or code), from
    `since` (today when empty): chains.service.designate, once both are found."""
    return chains.designate(
        session,
        enterprise=find_enterprise(session, body["enterprise"], field="enterprise"),
        chain=find_chain(session, body["chain"], field="chain"),
        since=body.get("since"),
        segment_id=body.get("segment_id"),
        source=body.get("source"),
        notes=body.get("notes"),
    )


def revoke(
    session: Session,
    *,
    chain_master: str,
    chain: int | str,
    until: date | None,
    end_links: bool,
) -> dict[str, Any]:
    """End the enterprise's live chain-master role(s) in the chain on `until` (today when empty):
    the chain-master workflow's end, through chains.service (the role's own rules).

    Live supply links (active or proposed) would outlive the role: refused unless `end_links`,
    which ends them first, on the same day, in the same transaction.
    """
    enterprise = find_enterprise(session, chain_master)
    chain_row = find_chain(session, chain, field="chain")
    roles, until = chains.master_roles_to_end(
        session, enterprise=enterprise, chain=chain_row, until=until
    )
    day = today(session)
    who = {
        "name": enterprise.name_zh,
        "id": enterprise.id,
        "chain": Shown(chain_row.code, chain_row.name_zh),
    }
    links = [
        dict(r)
        for r in session.execute(
            select(*LINK_COLUMNS)
            .where(
                LINK.c.buyer_id == enterprise.id,
                LINK.c.chain_id == chain_row.id,
                LINK.c.status.in_(LIVE),
            )
            .order_by(LINK.c.id)
            .with_for_update()
        ).mappings()
    ]
    if links and not end_links:
        message = (
            N_(
                "%(name)s (id %(id)s) still has %(count)s live supply link in chain %(chain)s; "
                "end them first, or send end_links: true to end them with the role"
            )
            if len(links) == 1
            else N_(
                "%(name)s (id %(id)s) still has %(count)s live supply links in chain %(chain)s; "
                "end them first, or send end_links: true to end them with the role"
            )
        )
        raise Conflict(message, params={**who, "count": len(links)}, field="end_links")
    for link in links:
        _check_end_day(until, day, link)
    ended = _end_links(
        session, links, until, f"the chain-master role of the buyer in {chain_row.code} ended"
    )
    updated = chains.end_roles(session, roles, until)
    return {
        "roles": updated,
        "ended_link_ids": [r["id"] for r in ended],
    }
