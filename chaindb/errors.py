"""Every error becomes one body, in one place: JSON for the API, a page for people.

    {"error": {"code": "...", "message": "...", "details": [{"field": "...", "message": "..."}]}}

Database refusals are translated here from their constraint names; their SQL never leaks.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any

import psycopg
from flask import Flask, Response, jsonify, render_template, request
from psycopg import errors as pg
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from werkzeug.exceptions import HTTPException, InternalServerError

from chaindb.db import text_limit

log = logging.getLogger(__name__)


class Message:
    """An English template with %(name)s placeholders, its params and an optional prefix.

    str() fills it in English (the API's face); localized() translates the template first, in
    the language of the current request (the pages' face). The prefix is data, never translated
    (a field name, or [3] of a bulk request): "prefix: message" in both faces. A Message among
    another's params is translated with it.
    """

    __slots__ = ("params", "prefix", "template")

    def __init__(
        self, template: str, params: Mapping[str, Any] | None = None, *, prefix: str = ""
    ) -> None:
        self.template = template
        self.params = dict(params or {})
        self.prefix = prefix

    def __str__(self) -> str:
        return self._prefixed(fill(self.template, self.params))

    def localized(self) -> str:
        """The pages' face: translated, without the prefix (a field name, or [3] of a bulk
        request, which the pages show by the field's place instead)."""
        return translate(self.template, self.params)

    def _prefixed(self, text: str) -> str:
        return f"{self.prefix}: {text}" if self.prefix else text

    def __repr__(self) -> str:
        return f"Message({self.template!r}, {self.params!r}, prefix={self.prefix!r})"


class Shown(Message):
    """A value with two faces: the API's (a code, "name (id 3)") and the pages' (a name)."""

    __slots__ = ("api", "page")

    def __init__(self, api: Any, page: Any) -> None:
        super().__init__("")
        self.api, self.page = api, page

    def __str__(self) -> str:
        return str(self.api)

    def localized(self) -> str:
        return str(self.page)


class DomainError(Exception):
    """A request that the rules refuse; carries the status and the fields at fault.

    `message` is a template (English, %(name)s placeholders filled from params), or a Message:
    the API answers in English (.message), the pages in the reader's language (.localized())
    from the same template. A detail's message may be a Message too; the API sees it filled.
    """

    status = 422
    code = "invalid"

    def __init__(
        self,
        message: str | Message,
        *,
        details: list[dict[str, Any]] | None = None,
        field: str | None = None,
        params: Mapping[str, Any] | None = None,
        prefix: str = "",
    ) -> None:
        if isinstance(message, Message):
            core = Message(
                message.template,
                {**message.params, **(params or {})},
                prefix=prefix or message.prefix,
            )
        else:
            core = Message(message, params, prefix=prefix)
        self.core = core
        self.template, self.params, self.prefix = core.template, core.params, core.prefix
        self.message = str(core)
        super().__init__(self.message)
        if not details and field:
            details = [{"field": field, "message": core}]
        # filled text -> the Message it came from, for localized_details()
        self._sources: dict[str, Message] = {self.message: core}
        self.details: list[dict[str, str]] = []
        for detail in details or []:
            source = detail["message"]
            text = str(source)
            if isinstance(source, Message):
                self._sources[text] = source
            self.details.append({**detail, "message": text})

    def localized(self) -> str:
        """The message in the language of the current request (for the pages)."""
        return self.core.localized()

    def localized_details(self) -> list[dict[str, str]]:
        return [{**d, "message": self._localize(d["message"])} for d in self.details]

    def _localize(self, text: str) -> str:
        source = self._sources.get(text)
        return source.localized() if source is not None else translate(text, {})

    def _copy(self, details: list[dict[str, Any]], prefix: str) -> DomainError:
        """The same message (under `prefix`), with these details (their Messages kept)."""
        sourced = [{**d, "message": self._sources.get(d["message"], d["message"])} for d in details]
        copy = type(self)(Message(self.template, self.params, prefix=prefix), details=sourced)
        copy.extra = self.extra
        return copy

    # What the error body carries besides code, message and details (a confirmation to send,
    # the records a new one may duplicate).
    extra: dict[str, Any] = {}  # noqa: RUF012  (replaced, never mutated)

    def at(self, where: str) -> DomainError:
        """The same error, its fields placed inside `where` (e.g. [3] of a bulk request).

        `where` prefixes the message as data: "[3]: message" in English and translated alike.
        """
        details = [{**d, "field": f"{where}.{d['field']}"} for d in self.details] or [
            {"field": where, "message": self.message}
        ]
        return self._copy(details, f"{where}: {self.prefix}" if self.prefix else where)

    def renamed(self, names: Mapping[str, str]) -> DomainError:
        """The same error with its detail fields renamed (e.g. a column as the caller's field)."""
        details = [{**d, "field": names.get(d["field"], d["field"])} for d in self.details]
        return self._copy(details, self.prefix)


class BadRequest(DomainError):
    status = 400
    code = "bad_request"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class PreconditionFailed(DomainError):
    status = 412
    code = "precondition_failed"


class TooLarge(DomainError):
    status = 413
    code = "too_large"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"


class Invalid(DomainError):
    status = 422
    code = "invalid"


# What a client sends in "confirm" to have a write saved despite a warning.
CONFIRM_LARGE_AMOUNT = "large_amount"
CONFIRM_POSSIBLE_DUPLICATE = "possible_duplicate"
CONFIRMATIONS = (CONFIRM_LARGE_AMOUNT, CONFIRM_POSSIBLE_DUPLICATE)


class ConfirmRequired(DomainError):
    """A value the rules let through once a person confirms it (an amount far beyond the usual:
    a slip between 万元 and 亿元?). The body names the confirmation to send."""

    status = 422
    code = "confirm_required"

    def __init__(self, message: str | Message, *, confirm: str = CONFIRM_LARGE_AMOUNT, **kw: Any):
        super().__init__(message, **kw)
        self.extra = {"confirm": confirm}


class PossibleDuplicate(DomainError):
    """A new record looks like records that exist; saved once a person confirms it is another.
    The body lists the records it resembles."""

    status = 409
    code = "possible_duplicate"

    def __init__(
        self,
        message: str | Message,
        *,
        candidates: list[dict[str, Any]] | None = None,
        of: str = "",
        **kw: Any,
    ):
        super().__init__(message, **kw)
        self.extra = {
            "confirm": CONFIRM_POSSIBLE_DUPLICATE,
            "candidates_of": of,  # the resource the candidates are records of
            "candidates": candidates or [],
        }


def N_(message: str) -> str:
    """Marks a message for the translation catalogs; it is translated where it is shown."""
    return message


def fill(template: str, params: Mapping[str, Any]) -> str:
    """The template in English, its placeholders filled (the API's text)."""
    return template % params if params else template


# Vocabulary values (a stage such as "signed", a role such as "editor") -> their label in the
# catalogs: a message names a stage by its code, the pages show the stage's name. Filled by
# the pages' vocabularies (chaindb.web.forms.vocabulary).
VALUE_LABELS: dict[str, Any] = {}
# Field (column) names and table names -> how the pages label them, for the parameters of a
# message that name a field or a table ("a chain with this code already exists" shows 代码 and
# 产业链). Filled by the pages (chaindb.web.pages).
FIELD_LABELS: dict[str, Any] = {}
TABLE_LABELS: dict[str, Any] = {}
FIELD_PARAMS = ("column", "columns", "field", "fields", "param")
TABLE_PARAMS = ("table", "what")


def _labelled(key: str, value: Any) -> Any:
    """A message parameter as the pages say it: a field, a table or a vocabulary value by its
    label."""
    if not isinstance(value, str):
        return value
    if key in FIELD_PARAMS:
        parts = [p.strip() for p in value.split(",")]
        if all(p in FIELD_LABELS for p in parts):
            return "、".join(str(FIELD_LABELS[p]) for p in parts)
        return value
    if key in TABLE_PARAMS and value in TABLE_LABELS:
        return str(TABLE_LABELS[value])
    if value in VALUE_LABELS:
        return str(VALUE_LABELS[value])
    return value


def translate(template: str, params: Mapping[str, Any]) -> str:
    """The template in the language of the current request, its placeholders filled."""
    from flask import has_request_context
    from flask_babel import gettext

    params = {k: v.localized() if isinstance(v, Message) else v for k, v in params.items()}
    if not has_request_context():
        return fill(template, params)
    params = {k: _labelled(k, v) for k, v in params.items()}
    try:
        return gettext(template, **params) if params else gettext(template)
    except (KeyError, ValueError, TypeError):  # a translation that lost or broke a placeholder
        log.warning("broken translation of %r", template)
        return fill(template, params)


# --- schemas for the OpenAPI document -----------------------------------------------------------


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail]
    confirm: str | None = Field(
        None,
        description="With confirm_required and possible_duplicate: send the request again with "
        "this value in the body's confirm list to save it anyway",
    )
    candidates_of: str | None = Field(
        None, description="With possible_duplicate: the resource the candidates belong to"
    )
    candidates: list[dict[str, Any]] | None = Field(
        None, description="With possible_duplicate: the existing records the new one resembles"
    )


class ErrorBody(BaseModel):
    """The one error shape of the API."""

    error: ErrorInfo


def error_body(
    code: str,
    message: str,
    details: list[dict[str, str]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict:
    return {"error": {"code": code, "message": message, "details": details or [], **(extra or {})}}


# --- translation ---------------------------------------------------------------------------------


# Text over its limit, said alike by the API's schemas and the database's CHECKs.
TOO_LONG = N_("at most %(max_length)s characters")

# pydantic's errors by type, as chaindb says them (and translates them); the context's values
# fill the placeholders. Another type keeps pydantic's own English.
VALIDATION_MESSAGES = {
    "missing": N_("required"),
    "extra_forbidden": N_("not a field of this record"),
    "string_type": N_("should be text"),
    "string_too_short": N_("cannot be empty"),
    "string_too_long": TOO_LONG,
    "string_pattern_mismatch": N_("not in the expected form"),
    "int_type": N_("should be a whole number"),
    "int_parsing": N_("should be a whole number"),
    "int_from_float": N_("should be a whole number"),
    "float_type": N_("should be a number"),
    "float_parsing": N_("should be a number"),
    "decimal_type": N_("should be a number"),
    "decimal_parsing": N_("should be a number"),
    "decimal_max_digits": N_("too many digits (at most %(max_digits)s)"),
    "decimal_max_places": N_("at most %(decimal_places)s decimal places"),
    "decimal_whole_digits": N_("too large a number"),
    "finite_number": N_("should be a finite number"),
    "greater_than_equal": N_("should be at least %(ge)s"),
    "greater_than": N_("should be above %(gt)s"),
    "less_than_equal": N_("should be at most %(le)s"),
    "less_than": N_("should be below %(lt)s"),
    "bool_type": N_("should be yes or no (true or false)"),
    "bool_parsing": N_("should be yes or no (true or false)"),
    "date_type": N_("should be a date (YYYY-MM-DD)"),
    "date_parsing": N_("should be a date (YYYY-MM-DD)"),
    "date_from_datetime_parsing": N_("should be a date (YYYY-MM-DD)"),
    "date_from_datetime_inexact": N_("should be a date (YYYY-MM-DD)"),
    "datetime_type": N_("should be a date and time"),
    "datetime_parsing": N_("should be a date and time"),
    "datetime_from_date_parsing": N_("should be a date and time"),
    "enum": N_("should be one of %(expected)s"),
    "literal_error": N_("should be one of %(expected)s"),
    "list_type": N_("should be a list"),
    "too_long": N_("at most %(max_length)s items"),
    "model_type": N_("should be an object of fields"),
    "dict_type": N_("should be an object of fields"),
    "json_invalid": N_("is not valid JSON"),
}


def _validation_message(err: Mapping[str, Any]) -> str | Message:
    template = VALIDATION_MESSAGES.get(err["type"])
    if template is None:
        return err["msg"]
    context = {k: str(v) for k, v in (err.get("ctx") or {}).items()}
    return Message(template, context)


def from_validation_error(exc: ValidationError, *, prefix: str = "") -> Invalid:
    """pydantic's errors as one detail per field, with its location as the field name."""
    details = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = [str(part) for part in err["loc"] if part not in ("body", "query", "path")]
        field = ".".join([p for p in (prefix, *loc) if p]) or "body"
        details.append({"field": field, "message": _validation_message(err)})
    fields = ", ".join(sorted({d["field"] for d in details}))
    return Invalid("invalid values: %(fields)s", params={"fields": fields}, details=details)


# Constraint -> (status, field, message) for refusals whose meaning the name alone does not say.
CONSTRAINT_MESSAGES: dict[str, tuple[int, str, str | Message]] = {
    "supply_link_buyer_is_chain_master": (
        422, "buyer_id", N_("the buyer does not hold the chain-master role in this chain")),
    "ck_supply_link_not_self_supply": (422, "supplier_id", N_("an enterprise cannot supply itself")),
    "uq_supply_link_live": (
        409, "supplier_id",
        N_("a live link (active or proposed) for this supplier, chain master, chain and product "
           "already exists")),
    "chain_role_master_has_live_links": (
        409, "until",
        N_("the chain master still has live supply links in this chain; end them first")),
    "chain_role_master_has_projects": (
        409, "id",
        N_("projects name this enterprise as the chain master they serve; end the role "
           "(set until) instead of deleting it")),
    "project_chain_master_holds_role": (
        422, "chain_master_id", N_("that enterprise is not a chain master of the project's chain")),
    "ck_project_stage_event_backward_or_drop_has_reason": (
        422, "reason", N_("moving a project backwards, dropping or reviving it needs a reason")),
    "ck_enterprise_uscc_check_digit": (
        422, "uscc", N_("the credit code fails the GB 32100 check digit")),
    "ck_enterprise_uscc_format": (422, "uscc", N_("not a valid credit code format")),
    "uq_enterprise_uscc": (409, "uscc", N_("an enterprise with this credit code already exists")),
    "ex_chain_role_no_overlap": (
        409, "since",
        N_("the enterprise already holds this role in this chain for an overlapping period")),
    "chain_parent_is_iconic": (422, "parent_id", N_("a key chain's parent must be an iconic chain")),
    "chain_segment_no_cycle": (
        422, "parent_id", N_("the parent lies below this segment (a cycle)")),
    "project_stage_event_append_only": (409, "id", N_("stage history cannot be changed")),
    "change_log_append_only": (409, "id", N_("the change log cannot be changed")),
    "uq_target_scope_year_metric": (
        409, "metric", N_("a value for this scope, year and metric already exists")),
    "uq_app_user_username_lower": (409, "username", N_("a user with this name already exists")),
    "ck_supply_link_ended_has_until": (
        422, "until", N_("an ended link needs its last day (until)")),
    "ck_supply_link_period_order": (422, "until", N_("until is before since")),
    "ck_supply_link_verified_has_time": (
        422, "verified_at", N_("a verified link needs verified_at")),
    "fk_supply_link_segment_same_chain": (
        422, "segment_id", N_("the segment belongs to another chain")),
    "fk_chain_role_segment_same_chain": (
        422, "segment_id", N_("the segment belongs to another chain")),
    "fk_project_segment_same_chain": (
        422, "segment_id", N_("the segment belongs to another chain")),
    "fk_chain_segment_parent_same_chain": (
        422, "parent_id", N_("the parent segment belongs to another chain")),
    "ck_chain_role_period_order": (422, "until", N_("until is before since")),
    "ck_chain_only_key_chain_has_parent": (
        422, "parent_id", N_("only a key chain sits under a parent (an iconic chain)")),
    "ck_project_stage_dates_ordered": (422, "signed_on", N_("the stage dates are out of order")),
    "ck_district_code_format": (
        422, "code",
        N_("an official code has 6 digits; a zone's local code is upper-case letters, "
           "digits and dashes")),
    "ck_project_follow_on_has_parent": (
        422, "parent_id",
        N_("an expansion or capital increase names its parent; a new project none")),
    "ck_project_has_investor": (
        422, "investor_id", N_("give the investor (investor_id or investor_name)")),
    "ck_project_dropped_has_date": (
        422, "dropped_on", N_("a dropped project needs dropped_on, and only it")),
    "project_submitted_locked": (
        409, "review_status",
        N_("the project is submitted for review: it can change after the review, or when its "
           "unit withdraws it")),
    "project_review_by_review": (
        422, "review_status",
        N_("the review status changes only by review (submit, withdraw, approve, return)")),
    "project_review_transition": (
        409, "action", N_("the project's review status does not allow this action")),
    "project_reviewed_kept": (
        409, "id",
        N_("a submitted or approved project is deleted only by the city bureau; drop it "
           "instead (a stage move with a reason)")),
    "ck_project_review_return_has_opinion": (
        422, "opinion", N_("returning a project needs an opinion that says what to correct")),
    "ck_project_evidence_content_matches_type": (
        415, "file", N_("the file is not a PDF, JPEG or PNG")),
    "ck_project_evidence_size_within_limit": (
        413, "file", N_("the file is empty or larger than 10 MiB")),
    "ck_project_first_phase_within_total": (
        422, "first_phase_investment_cny_100m",
        N_("the first phase cannot exceed the total (agreed) investment")),
    "ck_project_fixed_asset_within_total": (
        422, "fixed_asset_investment_cny_100m",
        N_("the fixed-asset investment cannot exceed the total (agreed) investment")),
    "ck_project_foreign_capital_only_from_abroad": (
        422, "foreign_capital_usd_10k",
        N_("foreign capital (实际使用外资) is recorded only for capital from abroad (境外)")),
    "ck_project_agreed_start_after_signing": (
        422, "agreed_start_on", N_("the agreed start is before signing")),
    **{
        f"ck_project_{column}_not_ahead_of_stage": (
            422, column,
            Message(N_("%(column)s is set but the project has not reached that stage"),
                    {"column": column}))
        for column in ("signed_on", "construction_started_on", "production_started_on",
                       "capacity_reached_on")
    },
    "ck_district_division_has_official_code": (
        422, "is_official_code", N_("a district or county needs its official code")),
    "ck_lead_names_its_enterprise": (
        422, "enterprise_id",
        N_("name the enterprise: one in chaindb (enterprise_id) or its name (enterprise_name)")),
    "ck_trip_visit_names_its_enterprise": (
        422, "enterprise_id",
        N_("name the enterprise: one in chaindb (enterprise_id) or its name (enterprise_name)")),
    "ck_lead_dropped_with_a_reason": (
        422, "dropped_reason", N_("a dropped lead needs the reason it was dropped")),
    "ck_lead_signed_by_a_project": (
        422, "status",
        N_("a lead is signed by converting it into a project (the project names the lead)")),
    "ck_lead_stays_signed": (
        409, "status",
        N_("the lead is signed by a project: it stays signed while the project names it")),
    "ck_project_lead_is_open": (
        409, "lead_id",
        N_("only an open lead (new, contacted or negotiating) becomes a project")),
    "uq_project_lead_id": (409, "lead_id", N_("the lead has already become a project")),
    "project_lead_of_the_unit": (
        403, "lead_id", N_("the lead is another unit's: only its unit converts it into a project")),
    "uq_lead_open_unit_id_enterprise_id_chain_id": (
        409, "enterprise_id",
        N_("the unit already pursues this enterprise for this chain (an open lead)")),
    "fk_lead_segment_same_chain": (
        422, "segment_id", N_("the segment belongs to another chain")),
    "ck_negotiation_of_a_lead_or_a_project": (
        422, "lead_id", N_("a negotiation entry is about one lead or one project")),
    "negotiation_held_not_ahead": (
        422, "held_on", N_("a negotiation is logged once it has taken place, not ahead")),
    "ck_negotiation_follow_up_after_meeting": (
        422, "next_follow_up_on", N_("the follow-up date is before the meeting")),
    "ck_trip_ends_after_start": (422, "ends_on", N_("the last day is before the first")),
    "ck_negotiation_file_content_matches_type": (
        415, "file", N_("the file is not a PDF, JPEG or PNG")),
    "ck_negotiation_file_size_within_limit": (
        413, "file", N_("the file is empty or larger than 10 MiB")),
}  # fmt: skip

_KEY_DETAIL = re.compile(r"Key \((?P<cols>[^)]*)\)=\((?P<vals>.*)\) (?P<rest>.*)")


def _columns_of(constraint: str, table: str | None) -> str | None:
    """The columns of a named unique or foreign-key constraint (or unique index) as the schema
    declares them, "a, b": the database leaves them out of its refusal's detail where the table
    has row-level security, or the user may not read the key."""
    from sqlalchemy import ForeignKeyConstraint, UniqueConstraint

    from chaindb.db import Base

    found = Base.metadata.tables.get(table or "")
    if found is None:
        return None
    for item in (*found.constraints, *found.indexes):
        if item.name != constraint:
            continue
        if isinstance(item, (UniqueConstraint, ForeignKeyConstraint)) or getattr(
            item, "unique", False
        ):
            names = [column.name for column in item.columns]
            return ", ".join(names) if names else None
    return None


def _check_field(constraint: str, table: str | None) -> str:
    """ck_project_signed_on_not_ahead_of_stage -> signed_on (the best guess at the column)."""
    name = constraint
    for prefix in ("ck_", "uq_", "fk_", "ix_"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
    if table and name.startswith(table + "_"):
        name = name[len(table) + 1 :]
    return name


def _too_long(constraint: str, table: str | None) -> Invalid | None:
    """A refusal by a text limit, ck_<table>_<column>_length (chaindb.models.limit_text), as
    the API's schemas say it: "<column>: at most N characters"."""
    if not (table and constraint.startswith(f"ck_{table}_") and constraint.endswith("_length")):
        return None
    column = constraint[len(f"ck_{table}_") : -len("_length")]
    return Invalid(
        Message(TOO_LONG, {"max_length": text_limit(column)}), prefix=column, field=column
    )


def write_rows(session: Any, stmt: Any, *, names: dict[str, str] | None = None) -> list[dict]:
    """Execute a write (RETURNING rows) in `session`: its rows as dicts, or the database's
    refusal as the API's error, its column names renamed to the caller's fields by `names`.
    No savepoint (two more round trips per write): a refused write ends the request anyway."""
    try:
        return [dict(r) for r in session.execute(stmt).mappings()]
    except DBAPIError as exc:
        error = from_database_error(exc)
        raise (error.renamed(names) if names else error) from None


def refusal_particulars(exc: DBAPIError) -> dict[str, Any]:
    """What a refusal of chaindb's own rules carries as JSON in its DETAIL (the names and ids
    its message needs: supply_link_rules(), move_project_stage()); empty for any other."""
    detail = getattr(getattr(exc.orig, "diag", None), "message_detail", None) or ""
    if not detail.startswith("{"):
        return {}
    try:
        found = json.loads(detail)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


OUTSIDE_THE_UNIT = N_("outside the scope of your unit: the database refused the change")


def from_database_error(exc: DBAPIError) -> DomainError:
    """A database refusal as the API's error; never the SQL, never the parameters."""
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None) or ""
    table = getattr(diag, "table_name", None)
    primary = getattr(diag, "message_primary", None)
    detail = getattr(diag, "message_detail", None) or ""
    if type(orig) is psycopg.DataError:  # the base class: raised by psycopg itself
        # Refused by psycopg before the database saw it: text with a NUL character (which
        # PostgreSQL text cannot hold), a number too large for its column type.
        if "NUL" in str(orig):
            return Invalid(N_("text cannot contain NUL (0x00) characters"), field="body")
        return Invalid(N_("a value cannot be stored: it is out of range"), field="body")
    if constraint in CONSTRAINT_MESSAGES:
        status, field, message = CONSTRAINT_MESSAGES[constraint]
        cls = {
            403: Forbidden,
            409: Conflict,
            413: TooLarge,
            415: UnsupportedMediaType,
            422: Invalid,
        }[status]
        return cls(message, field=field)
    if isinstance(orig, pg.UniqueViolation):
        match = _KEY_DETAIL.match(detail)
        columns = (
            match.group("cols")
            if match
            else _columns_of(constraint, table) or _check_field(constraint, table)
        )
        field = columns.split(",")[0].strip().removeprefix("lower(").rstrip(")")
        if table:
            return Conflict(
                "a %(table)s with this %(columns)s already exists",
                params={"table": table, "columns": columns},
                field=field,
            )
        return Conflict(
            "a record with this %(columns)s already exists",
            params={"columns": columns},
            field=field,
        )
    if isinstance(orig, pg.ForeignKeyViolation):
        match = _KEY_DETAIL.match(detail)
        if match and "still referenced" in match.group("rest"):
            if '"' in match.group("rest"):
                referrer = match.group("rest").split('"')[1]
                return Conflict(
                    "still referenced by %(table)s", params={"table": referrer}, field="id"
                )
            return Conflict("still referenced by another table", field="id")
        if (primary or "").startswith("update or delete on table") and table:
            # Where row-level security leaves the key out of the detail: the referencing table.
            return Conflict("still referenced by %(table)s", params={"table": table}, field="id")
        columns = match.group("cols") if match else _columns_of(constraint, table)
        field = columns.split(",")[-1].strip() if columns else "id"
        return Invalid("the referenced record does not exist", prefix=field, field=field)
    if isinstance(orig, pg.CheckViolation):
        too_long = _too_long(constraint, table)
        if too_long is not None:
            return too_long
        field = getattr(diag, "column_name", None) or _check_field(constraint, table)
        return Invalid(
            "the values break the rule %(constraint)s",
            params={"constraint": constraint},
            field=field,
        )
    if isinstance(orig, pg.NotNullViolation):
        column = getattr(diag, "column_name", None)
        if column is None:
            return Invalid("field is required", field="field")
        return Invalid("%(column)s is required", params={"column": column}, field=column)
    if isinstance(orig, (pg.DeadlockDetected, pg.SerializationFailure)):
        # Another request changed the same rows at the same moment; nothing of this one stayed.
        return Conflict(
            N_("another change to the same records happened at the same moment; send it again"),
            field="body",
        )
    if isinstance(orig, pg.InsufficientPrivilege):
        # Row-level security: the row the write would leave lies outside the acting unit's
        # scope (the application says it in its own words first, where it can).
        return Forbidden(OUTSIDE_THE_UNIT, field="id")
    if isinstance(orig, (pg.ExclusionViolation,)):
        return Conflict(
            "refused by rule %(constraint)s: overlaps an existing record",
            params={"constraint": constraint},
            field="id",
        )
    if isinstance(
        orig,
        (
            pg.NumericValueOutOfRange,
            pg.StringDataRightTruncation,
            pg.InvalidDatetimeFormat,
            pg.DatetimeFieldOverflow,
            pg.InvalidTextRepresentation,
        ),
    ):
        # The database's own words (English) are data here; only the fallback is ours.
        reason = primary.strip() if primary else Message(N_("the database refused the change"))
        return Invalid(
            "a value is out of range: %(reason)s",
            params={"reason": reason},
            field=getattr(diag, "column_name", None) or "body",
        )
    raise exc


# --- handlers ------------------------------------------------------------------------------------


def _wants_json() -> bool:
    if request.path.startswith("/api/") or request.path in ("/healthz", "/readyz"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def respond(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
    *,
    localized: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> tuple[Response, int]:
    if _wants_json():
        response = jsonify(error_body(code, message, details, extra))
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="chaindb"'
        response.headers.update(headers or {})
        return response, status
    page = render_template(
        "error.html", status=status, message=localized or message, details=details or []
    )
    return Response(page, mimetype="text/html", headers=headers), status


# How long a client waits before it tries again when the database is away (a restart, a
# failover): most come back within seconds.
RETRY_AFTER_SECONDS = 5
UNAVAILABLE = N_("The database cannot be reached at the moment. Try again in a few seconds.")


def _unreachable(exc: DBAPIError) -> bool:
    """The database went away or cannot be reached: not a refusal of the request (a broken or
    refused connection, a server shutting down or starting, too many connections)."""
    orig = exc.orig
    return exc.connection_invalidated or (
        isinstance(
            orig,
            (
                psycopg.OperationalError,
                psycopg.InterfaceError,
                pg.AdminShutdown,
                pg.CannotConnectNow,
                pg.TooManyConnections,
            ),
        )
        and not isinstance(orig, (pg.QueryCanceled, pg.LockNotAvailable, pg.DeadlockDetected))
    )


def _unavailable() -> tuple[Response, int]:
    return respond(
        503,
        "unavailable",
        UNAVAILABLE,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        localized=translate(UNAVAILABLE, {}),
    )


# What the pages say for the HTTP errors (the API keeps werkzeug's English descriptions).
HTTP_MESSAGES = {
    400: N_("The request could not be understood. Go back and try again."),
    403: N_("You may not see or change this. Ask an administrator if you need to."),
    404: N_("There is nothing here. The record may have been deleted, or the address is wrong."),
    405: N_("This page does not accept that kind of request."),
    413: N_("The upload is too large."),
}


def _oops() -> str:
    return translate(
        N_("Something went wrong on our side. Nothing was saved; the error has been logged."), {}
    )


def register_errorhandlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        if _wants_json():
            return respond(exc.status, exc.code, exc.message, exc.details, extra=exc.extra)
        return respond(
            exc.status, exc.code, exc.message, exc.localized_details(), localized=exc.localized()
        )

    @app.errorhandler(ValidationError)
    def validation_error(exc: ValidationError):
        error = from_validation_error(exc)
        return respond(error.status, error.code, error.message, error.details)

    @app.errorhandler(SQLAlchemyTimeoutError)
    def pool_exhausted(exc: SQLAlchemyTimeoutError):
        log.warning("no database connection free on %s %s: %s", request.method, request.path, exc)
        return _unavailable()

    @app.errorhandler(IntegrityError)
    @app.errorhandler(DBAPIError)
    def database_error(exc: DBAPIError):
        if _unreachable(exc):
            log.warning("database unreachable on %s %s: %s", request.method, request.path, exc.orig)
            return _unavailable()
        try:
            error = from_database_error(exc)
        except DBAPIError:
            log.exception("unexpected database error on %s %s", request.method, request.path)
            return respond(
                500, "internal_error", InternalServerError.description, localized=_oops()
            )
        return respond(error.status, error.code, error.message, error.details)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        # Keep the exception's own headers, such as Allow on a 405.
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
        return respond(
            exc.code or 500,
            code,
            exc.description or exc.name,
            headers=headers,
            localized=translate(HTTP_MESSAGES[exc.code], {}) if exc.code in HTTP_MESSAGES else None,
        )

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return respond(500, "internal_error", InternalServerError.description, localized=_oops())
