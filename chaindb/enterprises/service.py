"""The rules of writing enterprises and designations that a column check cannot say well.

The database keeps the same rules (format and check character of the credit code, override with
a reason, local or region); here they are checked first so that the refusal names the field
and the reason in words, and the values the database cannot compute are filled in: the
normalised credit code and the pinyin initials the search reads.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from chaindb.config import current_settings
from chaindb.db import is_id
from chaindb.enterprises.merge import merged_into
from chaindb.enterprises.models import Enterprise
from chaindb.enterprises.search import name_initials
from chaindb.enterprises.uscc import InvalidUSCC, normalize, validate_uscc
from chaindb.errors import (
    CONFIRM_POSSIBLE_DUPLICATE,
    N_,
    DomainError,
    Invalid,
    Message,
    NotFound,
    PossibleDuplicate,
    Shown,
)

NAME_FIELDS = ("name_zh", "short_name", "aliases")


def prepare_enterprise(values: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
    """The values to write for a create (current None) or an update of `current`.

    `values` are the request's (references already resolved); the result adds the normalised
    credit code and name_initials, and raises Invalid naming the field at fault.
    """
    values = dict(values)
    merged = {**(current or {}), **values}

    # The credit code: normalised, and checked unless an override with a reason is recorded.
    code = merged.get("uscc")
    if isinstance(code, str) and not code.strip():
        code = None
        if "uscc" in values:
            values["uscc"] = None
    override = bool(merged.get("uscc_check_override"))
    if code is not None:
        try:
            normalised = validate_uscc(code, override=override)
        except InvalidUSCC as exc:
            if exc.check_failed:
                raise Invalid(
                    "%(reason)s; a genuine early code may be accepted with uscc_check_override "
                    "and uscc_override_reason",
                    params={"reason": exc.message},
                    prefix="uscc",
                    field="uscc",
                ) from None
            raise Invalid(exc.message, prefix="uscc", field="uscc") from None
        if "uscc" in values:
            values["uscc"] = normalised
    if override:
        if code is None:
            raise Invalid(
                "an override needs the credit code it accepts",
                prefix="uscc_check_override",
                field="uscc",
            )
        if not (merged.get("uscc_override_reason") or "").strip():
            raise Invalid(
                "accepting a code that fails the check needs a reason (why, and who granted it)",
                prefix="uscc_override_reason",
                field="uscc_override_reason",
            )

    # Local (a planning unit) or elsewhere (a region code), never both.
    region = merged.get("region_code")
    if region is not None and region.startswith("3701"):
        raise Invalid(
            "%(region)s is in Jinan; a local enterprise gives district_id (its planning unit) "
            "instead",
            params={"region": region},
            prefix="region_code",
            field="region_code",
        )
    if merged.get("district_id") is not None and region is not None:
        given = [f for f in ("district_id", "region_code") if values.get(f) is not None]
        message = N_(
            "an enterprise is either local (district_id) or elsewhere (region_code), not both; "
            "leave the other one empty"
        )
        raise Invalid(
            message,
            details=[{"field": f, "message": message} for f in given or ["region_code"]],
        )

    # The initials the search reads, whenever a name changes (or were never filled).
    initials = name_initials(merged.get("name_zh"), merged.get("short_name"), merged.get("aliases"))
    if current is None or initials != current.get("name_initials"):
        values["name_initials"] = initials
    return values


def check_designation(
    _session: Session, values: dict[str, Any], _current: dict[str, Any] | None
) -> None:
    """A designation is valid from its year on: valid_until cannot fall before it."""
    year, valid_until = values.get("year"), values.get("valid_until")
    if year is not None and valid_until is not None and valid_until < date(year, 1, 1):
        raise Invalid(
            "%(valid_until)s is before the year it was granted (%(year)s)",
            params={"valid_until": valid_until.isoformat(), "year": year},
            prefix="valid_until",
            field="valid_until",
        )


# --- possible duplicates --------------------------------------------------------------------------

MAX_CANDIDATES = 5
# Enterprises whose name key equals the new one's, is one of their aliases' keys, or is alike
# (pg_trgm similarity above the threshold, set for the transaction). Two enterprises with
# different credit codes are two registered enterprises, however alike their names.
DUPLICATES = text(
    """
    SELECT e.id, e.name_zh, e.uscc, e.district_id, d.name_zh AS district,
           round(similarity(e.name_key, k.key)::numeric, 2) AS similarity
    FROM (SELECT enterprise_name_key(:name) AS key) AS k
    JOIN enterprise AS e
      ON e.name_key % k.key OR e.name_key = k.key OR e.alias_keys @> ARRAY[k.key]
    LEFT JOIN district AS d ON d.id = e.district_id
    WHERE e.id IS DISTINCT FROM :self
      AND (e.uscc IS NULL OR CAST(:uscc AS text) IS NULL)
    ORDER BY (e.name_key = k.key OR e.alias_keys @> ARRAY[k.key]) DESC,
             similarity(e.name_key, k.key) DESC, e.id
    LIMIT :limit
    """
)


def possible_duplicates(
    session: Session, *, name: str, uscc: str | None, exclude: int | None = None
) -> list[dict[str, Any]]:
    """The enterprises a new one named `name` may duplicate, likest first."""
    threshold = current_settings().duplicate_similarity
    session.execute(
        text("SELECT set_config('pg_trgm.similarity_threshold', :t, true)"), {"t": str(threshold)}
    )
    rows = session.execute(
        DUPLICATES, {"name": name, "uscc": uscc, "self": exclude, "limit": MAX_CANDIDATES}
    ).mappings()
    return [{**row, "similarity": float(row["similarity"] or 0)} for row in rows]


def check_duplicates(
    session: Session,
    values: dict[str, Any],
    current: dict[str, Any] | None,
    confirmed: set[str],
) -> None:
    """Refuse (409 possible_duplicate) a new enterprise, or a new name, that looks like
    existing enterprises, unless the person confirmed it is another one."""
    if CONFIRM_POSSIBLE_DUPLICATE in confirmed:
        return
    name = values.get("name_zh")
    if not name or (current is not None and name == current.get("name_zh")):
        return
    uscc = values.get("uscc", current.get("uscc") if current else None)
    found = possible_duplicates(
        session, name=name, uscc=uscc, exclude=current["id"] if current else None
    )
    if found:
        raise PossibleDuplicate(
            N_(
                "%(name)s looks like %(count)s enterprise(s) already recorded (%(names)s); if it "
                "is another enterprise, confirm to save it"
            ),
            params={
                "name": name,
                "count": len(found),
                "names": "、".join(c["name_zh"] for c in found),
            },
            field="name_zh",
            candidates=found,
            of="enterprises",
        )


# --- finding an enterprise, naming it in a message ------------------------------------------------


def _is_enterprise_id(text: str) -> bool:
    """Digits that fit a bigint and cannot be a (18-character) credit code."""
    return is_id(text) and len(text) < 18


def find_enterprise(session: Session, key: int | str, *, field: str | None = None) -> Any:
    """The enterprise named by id or credit code (spaces, dashes and case forgiven).

    With `field` an unknown one is a 422 naming that field; without, a 404 (the path names it).
    """
    cols = (Enterprise.id, Enterprise.uscc, Enterprise.name_zh, Enterprise.district_id)
    row = None
    if isinstance(key, int):
        row = session.execute(select(*cols).where(Enterprise.id == key)).one_or_none()
    else:
        code = normalize(key)
        if len(code) == 18:  # a credit code has 18 characters; an id never does
            row = session.execute(select(*cols).where(Enterprise.uscc == code)).one_or_none()
        if row is None and _is_enterprise_id(code):
            row = session.execute(select(*cols).where(Enterprise.id == int(code))).one_or_none()
    if row is None:
        moved = merged_into(session, key)  # a duplicate merged into another enterprise
        if moved is not None:
            row = session.execute(select(*cols).where(Enterprise.id == moved)).one_or_none()
    if row is not None:
        return row
    raise unknown_enterprise(key, field=field)


def enterprise_key(key: int | str, *, field: str | None = None) -> str:
    """The key as the database's enterprise_of_key(key) takes it (an id, or a normalized credit
    code), or find_enterprise's error for a key that can name no enterprise at all."""
    if isinstance(key, int):
        return str(key)
    code = normalize(key)
    if len(code) != 18 and not _is_enterprise_id(code):
        raise unknown_enterprise(key, field=field)
    return code


def unknown_enterprise(key: int | str, *, field: str | None = None) -> DomainError:
    """The error for a key that names no enterprise: a 422 naming `field`, else a 404."""
    if isinstance(key, int):
        reason = Message(N_("no enterprise with id %(value)s"), {"value": key})
    else:
        code = normalize(key)
        if _is_enterprise_id(code):
            reason = Message(N_("no enterprise with id %(value)s"), {"value": code})
        else:
            try:
                validate_uscc(code)
                reason = Message(N_("no enterprise with credit code %(value)r"), {"value": code})
            except InvalidUSCC as exc:
                reason = Message(
                    N_("%(value)r is neither an enterprise id nor a valid credit code: %(reason)s"),
                    {"value": key, "reason": exc.message},
                )
    if field is None:
        return NotFound(reason)
    return Invalid(reason, prefix=field, field=field)


def enterprise_label(session: Session, enterprise_id: int) -> Message:
    """How a message names an enterprise (a value for its params): by its name and id in the
    API, by its name on the pages."""
    name = session.scalar(select(Enterprise.name_zh).where(Enterprise.id == enterprise_id))
    return enterprise_shown(enterprise_id, name)


def enterprise_shown(enterprise_id: Any, name: str | None) -> Message:
    """enterprise_label from what is known already (the database's enterprise_label_json())."""
    if name:
        return Shown(f"{name} (id {enterprise_id})", name)
    return Message(N_("enterprise %(id)s"), {"id": enterprise_id})
