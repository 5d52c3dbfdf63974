"""Merging a duplicate enterprise into the one kept: one transaction, every reference moved.

The duplicate's roles, supply links (as supplier and as chain master), projects (as investor, as
the chain master served, and those naming it by name only), designations and earlier merges
move to the enterprise kept; its names become the kept one's aliases, and the kept one takes
the values it lacked (credit code, planning unit, size ...). What would become the same fact
twice is dropped: a link between the two (now self-supply), a live link or a designation the
kept one already has. A role the kept one already holds for an overlapping period is joined into
one period. The duplicate's row is then deleted, and enterprise_merge keeps its id, credit code
and name, so that they still lead to the enterprise kept (imports, seeds, references). Every
write goes through the change log like any other.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from chaindb.db import is_id
from chaindb.enterprises.search import name_initials
from chaindb.errors import N_, Conflict, Invalid, NotFound, from_database_error

# Filled in when the enterprise kept has no value of its own.
FILLED = ("uscc", "name_en", "short_name", "size", "ownership", "founded_on")


def merge(session: Session, *, keep: int, duplicate: int) -> dict[str, Any]:
    """Merge `duplicate` into `keep` (both enterprise ids); what moved, as a summary."""
    if keep == duplicate:
        raise Invalid(N_("an enterprise cannot be merged into itself"), field="duplicate")
    rows = {
        row["id"]: dict(row)
        for row in session.execute(
            text("SELECT * FROM enterprise WHERE id IN (:a, :b) ORDER BY id FOR UPDATE"),
            {"a": keep, "b": duplicate},
        ).mappings()
    }
    if keep not in rows:
        raise NotFound(N_("no enterprise %(key)r"), params={"key": keep})
    if duplicate not in rows:
        raise Invalid(
            N_("no enterprise with id %(value)s"), params={"value": duplicate}, field="duplicate"
        )
    kept, dup = rows[keep], rows[duplicate]
    if kept["uscc"] and dup["uscc"] and kept["uscc"] != dup["uscc"]:
        raise Invalid(
            N_(
                "%(kept)s and %(duplicate)s have different credit codes: they are two registered "
                "enterprises. If one code is wrong, correct it first"
            ),
            params={"kept": kept["name_zh"], "duplicate": dup["name_zh"]},
            field="duplicate",
        )
    try:
        summary = _move(session, kept, dup)
    except DBAPIError as exc:
        raise from_database_error(exc) from None
    return summary


def _run(session: Session, sql: str, **params: Any) -> int:
    return session.execute(text(sql), params).rowcount


def _move(session: Session, kept: dict[str, Any], dup: dict[str, Any]) -> dict[str, Any]:
    a, b = kept["id"], dup["id"]
    moved: dict[str, int] = {}
    dropped: dict[str, int] = {}

    # Roles first: the kept enterprise must hold the chain-master roles before the links and
    # projects that need them move. A role it holds for an overlapping period is joined.
    joined = 0
    for role in session.execute(
        text("SELECT * FROM chain_role WHERE enterprise_id = :b ORDER BY id"), {"b": b}
    ).mappings():
        overlapping = session.execute(
            text(
                "SELECT id, since, until FROM chain_role WHERE enterprise_id = :a "
                "AND chain_id = :chain AND role = :role "
                "AND COALESCE(segment_id, 0) = COALESCE(CAST(:segment AS bigint), 0) "
                "AND daterange(since, until, '[]') "
                "&& daterange(CAST(:since AS date), CAST(:until AS date), '[]')"
            ),
            {"a": a, "chain": role["chain_id"], "role": role["role"],
             "segment": role["segment_id"], "since": role["since"], "until": role["until"]},
        ).mappings().all()  # fmt: skip
        if len(overlapping) > 1:
            raise Conflict(
                N_(
                    "the roles of the two enterprises in one chain overlap in a way that cannot "
                    "be joined into one period; adjust them first"
                ),
                field="duplicate",
            )
        if overlapping:
            mine = overlapping[0]
            _run(
                session,
                # The union of the two periods (an open end stays open).
                "UPDATE chain_role SET "
                "since = CASE WHEN since IS NULL OR CAST(:since AS date) IS NULL THEN NULL "
                "ELSE LEAST(since, CAST(:since AS date)) END, "
                "until = CASE WHEN until IS NULL OR CAST(:until AS date) IS NULL THEN NULL "
                "ELSE GREATEST(until, CAST(:until AS date)) END WHERE id = :id",
                since=role["since"],
                until=role["until"],
                id=mine["id"],
            )
            joined += 1
        else:
            _run(
                session,
                "INSERT INTO chain_role (enterprise_id, chain_id, segment_id, role, since, until, "
                "source, notes) SELECT :a, chain_id, segment_id, role, since, until, source, "
                "notes FROM chain_role WHERE id = :id",
                a=a,
                id=role["id"],
            )
            moved["chain_role"] = moved.get("chain_role", 0) + 1
    if joined:
        dropped["chain_role"] = joined

    # Links: one between the two would become self-supply; a live one the kept enterprise
    # already has (same other party, chain and product) would be the same link twice.
    dropped["supply_link"] = _run(
        session,
        "DELETE FROM supply_link WHERE (supplier_id = :a AND buyer_id = :b) "
        "OR (supplier_id = :b AND buyer_id = :a)",
        a=a,
        b=b,
    ) + _run(
        session,
        "DELETE FROM supply_link AS l USING supply_link AS mine "
        "WHERE l.status <> 'ended' AND mine.status <> 'ended' "
        "AND l.chain_id = mine.chain_id AND l.product IS NOT DISTINCT FROM mine.product "
        "AND ((l.supplier_id = :b AND mine.supplier_id = :a AND l.buyer_id = mine.buyer_id) "
        "  OR (l.buyer_id = :b AND mine.buyer_id = :a AND l.supplier_id = mine.supplier_id))",
        a=a,
        b=b,
    )
    moved["supply_link"] = _run(
        session, "UPDATE supply_link SET supplier_id = :a WHERE supplier_id = :b", a=a, b=b
    ) + _run(session, "UPDATE supply_link SET buyer_id = :a WHERE buyer_id = :b", a=a, b=b)

    # Projects: by id, and those that name either enterprise as their investor by name only.
    moved["project"] = (
        _run(session, "UPDATE project SET investor_id = :a WHERE investor_id = :b", a=a, b=b)
        + _run(
            session, "UPDATE project SET chain_master_id = :a WHERE chain_master_id = :b", a=a, b=b
        )
        + _run(
            session,
            "UPDATE project SET investor_id = :a, investor_name = NULL "
            "WHERE investor_id IS NULL AND enterprise_name_key(investor_name) = ANY("
            "  SELECT unnest(array_prepend(name_key, alias_keys)) FROM enterprise WHERE id IN (:a, :b))",
            a=a,
            b=b,
        )
    )

    dropped["designation"] = _run(
        session,
        "DELETE FROM designation AS d USING designation AS mine "
        "WHERE d.enterprise_id = :b AND mine.enterprise_id = :a AND (d.type, d.level, d.year) "
        "= (mine.type, mine.level, mine.year)",
        a=a,
        b=b,
    )
    moved["designation"] = _run(
        session, "UPDATE designation SET enterprise_id = :a WHERE enterprise_id = :b", a=a, b=b
    )
    dropped["investor_attribute"] = _run(
        session,
        "DELETE FROM investor_attribute AS d USING investor_attribute AS mine "
        "WHERE d.enterprise_id = :b AND mine.enterprise_id = :a AND (d.attribute, d.year) "
        "= (mine.attribute, mine.year)",
        a=a,
        b=b,
    )
    moved["investor_attribute"] = _run(
        session,
        "UPDATE investor_attribute SET enterprise_id = :a WHERE enterprise_id = :b",
        a=a,
        b=b,
    )
    # The promotion work follows the enterprise: its leads and the visits to it. Where a unit
    # pursued both for the same chain, the duplicate's open lead is dropped, naming the other.
    # Its negotiations and visits go to the lead kept, so the officers' record stays whole.
    dropped["lead"] = _run(
        session,
        "WITH pair AS (SELECT d.id AS dup, mine.id AS kept FROM lead AS d JOIN lead AS mine "
        "ON d.unit_id = mine.unit_id AND d.chain_id = mine.chain_id "
        "WHERE d.enterprise_id = :b AND mine.enterprise_id = :a "
        "AND d.status IN ('new', 'contacted', 'negotiating') "
        "AND mine.status IN ('new', 'contacted', 'negotiating')), "
        "talks AS (UPDATE negotiation AS n SET lead_id = pair.kept FROM pair "
        "WHERE n.lead_id = pair.dup), "
        "visits AS (UPDATE trip_visit AS v SET lead_id = pair.kept FROM pair "
        "WHERE v.lead_id = pair.dup) "
        "UPDATE lead AS d SET status = 'dropped', next_follow_up_on = NULL, dropped_reason = "
        "'duplicate of lead ' || pair.kept || ' (the enterprises were merged)' FROM pair "
        "WHERE d.id = pair.dup",
        a=a,
        b=b,
    )
    moved["lead"] = _run(
        session, "UPDATE lead SET enterprise_id = :a WHERE enterprise_id = :b", a=a, b=b
    )
    moved["trip_visit"] = _run(
        session, "UPDATE trip_visit SET enterprise_id = :a WHERE enterprise_id = :b", a=a, b=b
    )
    moved["enterprise_merge"] = _run(
        session, "UPDATE enterprise_merge SET into_id = :a WHERE into_id = :b", a=a, b=b
    )
    # The duplicate's roles go last: nothing leans on them any more.
    _run(session, "DELETE FROM chain_role WHERE enterprise_id = :b", b=b)

    aliases = _aliases(kept, dup)
    changes: dict[str, Any] = {"aliases": aliases}
    for column in FILLED:
        if kept[column] is None and dup[column] is not None:
            changes[column] = dup[column]
    if kept["district_id"] is None and kept["region_code"] is None:
        changes["district_id"], changes["region_code"] = dup["district_id"], dup["region_code"]
    if dup["notes"]:
        note = f"[{dup['name_zh']}] {dup['notes']}"
        changes["notes"] = f"{kept['notes']}\n{note}" if kept["notes"] else note
    if dup["uscc"] and "uscc" in changes:
        changes["uscc_check_override"] = dup["uscc_check_override"]
        changes["uscc_override_reason"] = dup["uscc_override_reason"]
    after = {**kept, **changes}
    changes["name_initials"] = name_initials(after["name_zh"], after["short_name"], aliases)

    summary = {
        "into": a,
        "merged": b,
        "merged_name_zh": dup["name_zh"],
        "merged_uscc": dup["uscc"],
        "aliases_added": [n for n in aliases if n not in (kept["aliases"] or [])],
        "moved": {k: v for k, v in moved.items() if v},
        "dropped": {k: v for k, v in dropped.items() if v},
        "filled": sorted(k for k in changes if k in (*FILLED, "district_id") and changes[k]),
    }
    _run(
        session,
        "INSERT INTO enterprise_merge (merged_id, merged_uscc, merged_name_zh, into_id, moved, "
        "actor) VALUES (:b, :uscc, :name, :a, CAST(:moved AS jsonb), "
        "COALESCE(NULLIF(current_setting('chaindb.actor', true), ''), session_user))",
        b=b,
        uscc=dup["uscc"],
        name=dup["name_zh"],
        a=a,
        moved=orjson.dumps(summary).decode(),
    )
    _run(session, "DELETE FROM enterprise WHERE id = :b", b=b)  # frees its credit code
    assignments = ", ".join(f'"{column}" = :{column}' for column in changes)
    _run(session, f"UPDATE enterprise SET {assignments} WHERE id = :id", id=a, **changes)
    return summary


def _aliases(kept: dict[str, Any], dup: dict[str, Any]) -> list[str]:
    """The kept enterprise's aliases with every name of the duplicate added (not its own)."""
    own = {kept["name_zh"]}
    names = [*(kept["aliases"] or [])]
    for name in (dup["name_zh"], dup["short_name"], dup["name_en"], *(dup["aliases"] or [])):
        if name and name not in own and name not in names:
            names.append(name)
    return names


def merged_into(session: Session | Connection, key: int | str) -> int | None:
    """The enterprise a merged one became part of, by the merged one's id or credit code."""
    if isinstance(key, int) or (isinstance(key, str) and is_id(key) and len(key) < 18):
        condition, value = "merged_id = :v", int(key)
    else:
        condition, value = "merged_uscc = :v", str(key).strip().upper()
    return session.execute(
        text(f"SELECT into_id FROM enterprise_merge WHERE {condition} ORDER BY id DESC LIMIT 1"),
        {"v": value},
    ).scalar()


def merged_name_into(session: Session | Connection, name: str) -> int | None:
    """The enterprise a merged one named `name` became part of."""
    return session.execute(
        text(
            "SELECT into_id FROM enterprise_merge WHERE merged_name_zh = :name "
            "ORDER BY id DESC LIMIT 1"
        ),
        {"name": name},
    ).scalar()
