"""The rules of the chain map and its roles: whether a segment is one of a chain's (the database
says it too, by the composite foreign keys *_segment_same_chain; this is the one place the
application asks, so that each caller can say it in its own words first), finding a chain,
whether an enterprise is a chain master, and designating and ending the chain-master role.

Every function takes the session as a keyword and never commits: the caller does. Ending a
chain master's role while it still buys through live supply links is the supply links' business
(chaindb.supply.service.revoke ends them first, then the role here)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from chaindb.access import acting_scope, require_scope
from chaindb.chains.models import (
    Chain,
    ChainRole,
    ChainSegment,
    RoleKind,
    role_not_ended,
)
from chaindb.chains.schemas import ChainRoleRead
from chaindb.db import is_id, today
from chaindb.errors import N_, Conflict, Invalid, Message, Shown, write_rows

ROLE = ChainRole.__table__
ROLE_COLUMNS = [ROLE.c[name] for name in ChainRoleRead.model_fields]

SegmentFault = Literal["no_segment", "other_chain"]


def segment_fault(
    session: Session, segment_id: int | None, chain_id: int | None
) -> SegmentFault | None:
    """Why `segment_id` cannot be a segment of chain `chain_id`: there is no such segment, or it
    is another chain's; None when it can (or when no segment is named)."""
    if segment_id is None:
        return None
    found = session.scalar(select(ChainSegment.chain_id).where(ChainSegment.id == segment_id))
    if found is None:
        return "no_segment"
    return "other_chain" if found != chain_id else None


# --- chains and chain masters -------------------------------------------------------------------


def find_chain(session: Session, key: int | str, *, field: str = "chain") -> Any:
    cols = (Chain.id, Chain.code, Chain.name_zh)
    if isinstance(key, str) and not _is_chain_id(key.strip()):
        row = session.execute(select(*cols).where(Chain.code == key.strip())).one_or_none()
        reason = N_("no chain with code %(value)r")
    else:
        row = session.execute(select(*cols).where(Chain.id == int(str(key).strip()))).one_or_none()
        reason = N_("no chain with id %(value)s")
    if row is None:
        raise Invalid(reason, params={"value": key}, prefix=field, field=field)
    return row


def chain_key(key: int | str) -> str:
    """The key as the database's chain_of_key(key) takes it: an id, or a code."""
    return str(key).strip()


def unknown_chain(key: int | str, *, field: str = "chain") -> Invalid:
    """find_chain's error for a key that names no chain."""
    if isinstance(key, str) and not _is_chain_id(key.strip()):
        reason = N_("no chain with code %(value)r")
    else:
        reason = N_("no chain with id %(value)s")
    return Invalid(reason, params={"value": key}, prefix=field, field=field)


def _is_chain_id(text: str) -> bool:
    """Digits that fit a bigint (and cannot be an 18-character credit code)."""
    return is_id(text) and len(text) < 18


def chain_label(session: Session, chain_id: int) -> Message:
    """How a message names a chain: by its code in the API, by its name on the pages."""
    row = session.execute(select(Chain.code, Chain.name_zh).where(Chain.id == chain_id)).first()
    return chain_shown(chain_id, row.code if row else None, row.name_zh if row else None)


def chain_shown(chain_id: Any, code: str | None, name: str | None) -> Message:
    """chain_label from what is known already (the database's chain_label_json())."""
    return Shown(code, name) if code else Shown(chain_id, chain_id)


def holds_chain_master(
    session: Session, enterprise_id: int, chain_id: int, day: date | None
) -> bool:
    """The database's own definition (holds_chain_master_role): on that day, or ever if None."""
    return bool(session.scalar(select(func.holds_chain_master_role(enterprise_id, chain_id, day))))


# --- designating and ending the chain-master role -------------------------------------------------


def designate(
    session: Session,
    *,
    enterprise: Any,
    chain: Any,
    since: date | None = None,
    segment_id: int | None = None,
    source: str | None = None,
    notes: str | None = None,
) -> dict[str, Any]:
    """Give `enterprise` (a row with id and name_zh) the chain_master role in `chain` (a row with
    id, code and name_zh), from `since` (today when empty); refused while it holds one not
    ended by then."""
    _require_chain(chain)
    since = since or today(session)
    fault = segment_fault(session, segment_id, chain.id)
    if fault is not None:
        if fault == "no_segment":
            raise Invalid(
                "no segment with id %(id)s", params={"id": segment_id}, field="segment_id"
            )
        if fault == "other_chain":
            raise Invalid(
                "segment %(id)s belongs to another chain than %(chain)s",
                params={"id": segment_id, "chain": Shown(chain.code, chain.name_zh)},
                field="segment_id",
            )
    held = session.execute(
        select(ChainRole.id, ChainRole.since, ChainRole.until).where(
            ChainRole.enterprise_id == enterprise.id,
            ChainRole.chain_id == chain.id,
            ChainRole.role == RoleKind.CHAIN_MASTER,
            role_not_ended(since),
        )
    ).first()
    if held is not None:
        params = {
            "name": enterprise.name_zh,
            "id": enterprise.id,
            "chain": Shown(chain.code, chain.name_zh),
            "since": held.since,
            "until": held.until,
            "role": held.id,
        }
        # One whole sentence per way the period is known.
        if held.since and held.until:
            message = N_(
                "%(name)s (id %(id)s) already holds the chain-master role in chain %(chain)s "
                "(since %(since)s, until %(until)s; chain role %(role)s)"
            )
        elif held.since:
            message = N_(
                "%(name)s (id %(id)s) already holds the chain-master role in chain %(chain)s "
                "(since %(since)s; chain role %(role)s)"
            )
        elif held.until:
            message = N_(
                "%(name)s (id %(id)s) already holds the chain-master role in chain %(chain)s "
                "(with no start recorded, until %(until)s; chain role %(role)s)"
            )
        else:
            message = N_(
                "%(name)s (id %(id)s) already holds the chain-master role in chain %(chain)s "
                "(with no start recorded; chain role %(role)s)"
            )
        raise Conflict(message, params=params, field="enterprise")
    return write_rows(
        session,
        insert(ROLE)
        .values(
            enterprise_id=enterprise.id,
            chain_id=chain.id,
            segment_id=segment_id,
            role=RoleKind.CHAIN_MASTER,
            since=since,
            source=source,
            notes=notes,
        )
        .returning(*ROLE_COLUMNS),
        names={"enterprise_id": "enterprise", "chain_id": "chain"},
    )[0]


def master_roles_to_end(
    session: Session, *, enterprise: Any, chain: Any, until: date | None
) -> tuple[list[dict[str, Any]], date]:
    """The enterprise's chain-master roles in the chain not ended today, locked (FOR UPDATE),
    and the day they are to end: `until`, today when empty; refused for a day in the future,
    before a role began, or when no role is live."""
    _require_chain(chain)
    day = today(session)
    until = until or day
    if until > day:
        raise Invalid(
            "until (%(until)s) lies in the future; revoke on or before today (to plan the end "
            "of the role, set until on the chain role instead)",
            params={"until": until},
            field="until",
        )
    roles = [
        dict(r)
        for r in session.execute(
            select(*ROLE_COLUMNS)
            .where(
                ROLE.c.enterprise_id == enterprise.id,
                ROLE.c.chain_id == chain.id,
                ROLE.c.role == RoleKind.CHAIN_MASTER,
                role_not_ended(day, ROLE),
            )
            .order_by(ROLE.c.id)
            .with_for_update()
        ).mappings()
    ]
    who = {
        "name": enterprise.name_zh,
        "id": enterprise.id,
        "chain": Shown(chain.code, chain.name_zh),
    }
    if not roles:
        raise Conflict(
            "%(name)s (id %(id)s) holds no live chain-master role in chain %(chain)s",
            params=who,
            field="chain",
        )
    for role in roles:
        if role["since"] is not None and until < role["since"]:
            raise Invalid(
                "until (%(until)s) is before the role began (%(since)s)",
                params={"until": until, "since": role["since"]},
                field="until",
            )
    return roles, until


def _require_chain(chain: Any) -> None:
    scope = acting_scope()
    require_scope(
        scope is None or scope.covers_chain(chain.id),
        N_(
            "%(unit)s designates and ends the chain masters of its own chains only, not of %(chain)s"
        ),
        chain=Shown(chain.code, chain.name_zh),
    )


def end_roles(session: Session, roles: list[dict[str, Any]], until: date) -> list[dict[str, Any]]:
    """End the roles (from master_roles_to_end) on `until`; the rows as written, by id."""
    updated = write_rows(
        session,
        update(ROLE)
        .where(ROLE.c.id.in_([r["id"] for r in roles]))
        .values(until=until)
        .returning(*ROLE_COLUMNS),
        names={"id": "chain", "until": "until"},
    )
    return sorted(updated, key=lambda r: r["id"])
