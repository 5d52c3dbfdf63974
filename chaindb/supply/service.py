"""Supply links (配套关系) and the chain-master workflow: link, end, designate, revoke, report.

Every function takes the session as a keyword and never commits: the route does. The rules are
checked here first, so that a refusal names its reason in the caller's own field names; the
database's constraints and triggers stay the last guard (their refusals are translated too).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from psycopg import errors as pg
from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    String,
    bindparam,
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
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from chaindb.access import acting_scope, require_scope
from chaindb.amounts import confirm_amounts
from chaindb.chains import service as chains
from chaindb.chains.models import (
    Chain,
    ChainRole,
    RoleKind,
    role_held_on,
)
from chaindb.chains.schemas import ChainRoleRead
from chaindb.chains.service import (
    chain_key,
    chain_label,
    chain_shown,
    find_chain,
    unknown_chain,
)
from chaindb.config import current_settings
from chaindb.db import core_connection, is_id, run_sql, today
from chaindb.enterprises.models import Enterprise, is_local
from chaindb.enterprises.service import (
    enterprise_key,
    enterprise_label,
    enterprise_shown,
    find_enterprise,
    unknown_enterprise,
)
from chaindb.errors import (
    N_,
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    Message,
    NotFound,
    Shown,
    from_database_error,
    refusal_particulars,
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


# --- making and changing a link: one statement, the rules in the database ----------------------
#
# The database holds every rule of a link: its constraints, the trigger supply_link_rules() (the
# segment in the chain, the buyer a chain master, no live twin) and the row-level policy of the
# acting unit. A link is written in one statement, with the supplier role an active one gives
# (the database's give_supplier_role()); a refusal is worded here, in the caller's own field
# names, from what the database says (the DETAIL of supply_link_rules() names the enterprises,
# the chain and the twin). Only the confirmation of a large value is the service's: it is
# the client's, not a rule of the data.


def link_supplier(
    session: Session | Connection, *, chain_master: str, body: dict[str, Any]
) -> tuple[dict[str, Any], int | None]:
    """Link a supplier to the chain master `chain_master` (id or credit code) in a chain: one
    statement, the three names resolved in it (the database's enterprise_of_key() and
    chain_of_key(); a merged enterprise's old name finds the one it became part of). Nothing
    else runs on `session`: the API passes a connection of Database.one_statement()."""
    supplier, chain = body.pop("supplier"), body.pop("chain")
    keys = {
        "buyer_id": (chain_master, None),
        "chain_id": (chain, "chain"),
        "supplier_id": (supplier, "supplier"),
    }
    values = {
        **body,
        "buyer_id": ByKey("enterprise_of_key", enterprise_key(chain_master)),
        "chain_id": ByKey("chain_of_key", chain_key(chain)),
        "supplier_id": ByKey("enterprise_of_key", enterprise_key(supplier, field="supplier")),
    }
    return create_link(session, values=values, fields=WORKFLOW_FIELDS, keys=keys)


@dataclass(frozen=True)
class ByKey:
    """A column's id given by the name a client knows (an id, a credit code, a chain code),
    resolved in the statement by the database's `function` (enterprise_of_key, chain_of_key)."""

    function: str
    key: str


# The SQL of a new link per shape of values (which columns, which of them by key), compiled
# once: building and compiling the statement for every link cost more Python than the rest of
# the request (its CTE's column proxies, its cache key). Only the values change.
_INSERTS: dict[tuple[str, tuple[tuple[str, str | None], ...]], tuple[str, dict[str, Any]]] = {}
MAX_INSERT_SHAPES = 256


def _insert_sql(dialect: Any, values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The compiled SQL of a new link with `values` and the parameters to run it with."""
    shape = tuple(
        sorted((name, v.function if isinstance(v, ByKey) else None) for name, v in values.items())
    )
    compiled = _INSERTS.get((dialect.name, shape))
    if compiled is None:
        bound = {
            name: getattr(func, function)(bindparam(f"value_{name}", type_=String))
            if function
            else bindparam(f"value_{name}", type_=LINK.c[name].type)
            for name, function in shape
        }
        link = insert(LINK).values(bound).returning(*LINK_COLUMNS).cte("link")
        statement = _with_role(link).compile(dialect=dialect)
        ours = {f"value_{name}" for name, _ in shape}
        constants = {k: v for k, v in statement.params.items() if k not in ours}
        if len(_INSERTS) >= MAX_INSERT_SHAPES:
            _INSERTS.clear()
        compiled = _INSERTS[(dialect.name, shape)] = (statement.string, constants)
    sql, constants = compiled
    params = {f"value_{n}": v.key if isinstance(v, ByKey) else v for n, v in values.items()}
    return sql, {**constants, **params}


def create_link(
    session: Session | Connection,
    *,
    values: dict[str, Any],
    fields: dict[str, str] = RESOURCE_FIELDS,
    keys: dict[str, tuple[Any, str | None]] | None = None,
) -> tuple[dict[str, Any], int | None]:
    """A new link, however it comes (the workflow, the resource, a bulk request, an import), in
    one statement: the link, its change log (a trigger) and the supplier role it gives.

    `values` hold ids or ByKey (a name the database resolves to an id), and may hold the
    client's "confirm" list; `fields` names the faults in the caller's own field names; `keys`
    holds, per column given by key, the name the client gave and its field (None: the path),
    for a name that finds nothing. Returns the link and the id of the supplier role it gave (None
    when the supplier holds a live one already, or the link is not active).
    """
    values = dict(values)
    confirmed = set(values.pop("confirm", None) or ())
    _confirm_value(values, None, confirmed)
    connection = core_connection(session)
    sql, params = _insert_sql(connection.dialect, values)
    try:
        (row,) = run_sql(connection, sql, params)
    except DBAPIError as exc:
        raise _refused(exc, fields, keys) from None
    return row, row.pop("supplier_role_id")


def update_link(
    session: Session, *, current: dict[str, Any], values: dict[str, Any]
) -> dict[str, Any]:
    """Change a link (the resource's PATCH and PUT, an import): the same rules as a new one, and
    the supplier role when the link is (or becomes) active, in one statement."""
    values = dict(values)
    confirmed = set(values.pop("confirm", None) or ())
    _confirm_value({**current, **values}, current, confirmed)
    if not values:
        return current
    link = (
        update(LINK)
        .where(LINK.c.id == current["id"])
        .values(values)
        .returning(*LINK_COLUMNS)
        .cte("link")
    )
    return _write(session, link, RESOURCE_FIELDS, None)[0]


def _write(
    session: Session,
    link: Any,
    fields: dict[str, str],
    keys: dict[str, tuple[Any, str | None]] | None,
) -> tuple[dict[str, Any], int | None]:
    """Run the write `link` (a CTE RETURNING the link) with the supplier role it gives."""
    try:
        row = dict(session.execute(_with_role(link)).mappings().one())
    except DBAPIError as exc:
        raise _refused(exc, fields, keys) from None
    return row, row.pop("supplier_role_id")


def _with_role(link: Any) -> Any:
    """The link written by the CTE `link`, with the supplier role an active one gives."""
    role = case(
        (
            link.c.status == LinkStatus.ACTIVE,
            func.give_supplier_role(
                link.c.supplier_id,
                link.c.chain_id,
                link.c.segment_id,
                link.c.since,
                func.concat("supply link ", link.c.id),
            ),
        ),
    ).label("supplier_role_id")
    return select(*(link.c[c.name] for c in LINK_COLUMNS), role)


def _refused(
    exc: DBAPIError, fields: dict[str, str], keys: dict[str, tuple[Any, str | None]] | None
) -> DomainError:
    """The database's refusal of a link, worded as the caller knows it."""
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None) or ""
    column = getattr(diag, "column_name", None) or ""
    said = refusal_particulars(exc)
    if isinstance(orig, pg.NotNullViolation) and keys and column in keys:
        key, field = keys[column]
        return unknown_chain(key) if column == "chain_id" else unknown_enterprise(key, field=field)
    if constraint == "supply_link_buyer_is_chain_master" and said:
        params = {"buyer": _enterprise(said["buyer"]), "chain": _chain(said["chain"])}
        if said["live"]:
            return Invalid(
                "%(buyer)s is not a chain master of chain %(chain)s today; only a chain "
                "master (链主) can be the buyer of a supply link",
                params=params,
                field=fields["buyer"],
            )
        return Invalid(
            "%(buyer)s is not a chain master of chain %(chain)s; only a chain master (链主) "
            "can be the buyer of a supply link",
            params=params,
            field=fields["buyer"],
        )
    if constraint == "uq_supply_link_live" and said:
        return _twin(said, fields)
    if constraint == "fk_supply_link_segment_same_chain" and said:
        if not said["exists"]:
            return Invalid(
                "no segment with id %(id)s", params={"id": said["segment"]}, field=fields["segment"]
            )
        return Invalid(
            "segment %(id)s belongs to another chain than %(chain)s",
            params={"id": said["segment"], "chain": _chain(said["chain"])},
            field=fields["segment"],
        )
    if isinstance(orig, pg.InsufficientPrivilege):
        scope = acting_scope()
        return Forbidden(
            "%(unit)s links suppliers in its own chains only, or suppliers located in its "
            "planning unit",
            params={"unit": scope.name if scope else ""},
            field=fields["chain"],
        )
    error = from_database_error(exc)
    names = {column: fields[rule] for rule, column in RESOURCE_FIELDS.items()}
    return error.renamed(names)


def _twin(said: dict[str, Any], fields: dict[str, str]) -> DomainError:
    params = {
        "supplier": _enterprise(said["supplier"]),
        "link": said["link"],
        "buyer": _enterprise(said["buyer"]),
        "chain": _chain(said["chain"]),
        "product": said["product"],
    }
    if said["status"] == LinkStatus.PROPOSED:
        if said["product"] is not None:
            return Conflict(
                "%(supplier)s already has a proposed link (supply link %(link)s) to %(buyer)s "
                "in chain %(chain)s with product %(product)r; confirm or end that one",
                params=params,
                field=fields["supplier"],
            )
        return Conflict(
            "%(supplier)s already has a proposed link (supply link %(link)s) to %(buyer)s in "
            "chain %(chain)s with no product given; confirm or end that one",
            params=params,
            field=fields["supplier"],
        )
    if said["product"] is not None:
        return Conflict(
            "%(supplier)s already has an active link (supply link %(link)s) to "
            "%(buyer)s in chain %(chain)s with product %(product)r; end it or change "
            "that one",
            params=params,
            field=fields["supplier"],
        )
    return Conflict(
        "%(supplier)s already has an active link (supply link %(link)s) to %(buyer)s "
        "in chain %(chain)s with no product given; end it or change that one",
        params=params,
        field=fields["supplier"],
    )


def _enterprise(said: dict[str, Any]) -> Message:
    return enterprise_shown(said["id"], said["name"])


def _chain(said: dict[str, Any]) -> Message:
    return chain_shown(said["id"], said["code"], said["name"])


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
