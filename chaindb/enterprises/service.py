"""The rules of writing enterprises and designations that a column check cannot say well.

The database keeps the same rules (format and check character of the credit code, override with
a reason, local or region); here they are checked first so that the refusal names the field
and the reason in words, and the values the database cannot compute are filled in: the
normalised credit code and the pinyin initials the search reads.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from chaindb.enterprises.search import name_initials
from chaindb.enterprises.uscc import InvalidUSCC, validate_uscc
from chaindb.errors import N_, Invalid

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
