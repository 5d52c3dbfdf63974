"""The rules of adding a project and moving it between stages.

The database keeps the same rules (CHECKs and triggers); these functions say first, and per
field, what is wrong, so that a client sees "signed_on: the project has not been signed" rather
than a refused constraint. Every function takes the session as keyword and never commits.

Every change of project.stage is recorded into project_stage_event by a trigger, which reads the
move's date, reason and note from transaction-local settings; `stage_settings` sets them for one
write and empties them afterwards, so that a later write in the same transaction (a bulk create,
or tests sharing one transaction) never inherits them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from psycopg import errors as pg
from sqlalchemy import Connection, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from chaindb.amounts import confirm_amounts
from chaindb.chains.models import Chain
from chaindb.chains.service import holds_chain_master, segment_fault
from chaindb.config import current_settings
from chaindb.db import core_connection, run_sql
from chaindb.enterprises.models import Enterprise
from chaindb.errors import (
    CONFIRM_POSSIBLE_DUPLICATE,
    N_,
    Conflict,
    DomainError,
    Invalid,
    Message,
    NotFound,
    PossibleDuplicate,
    Shown,
    from_database_error,
    refusal_particulars,
)
from chaindb.projects.models import (
    STAGE_DATE_COLUMN,
    STAGE_ORDER,
    CapitalOrigin,
    Project,
    ProjectKind,
    ProjectStageEvent,
    Stage,
)

# The dated stages of the pipeline in order, with their columns.
PIPELINE_DATES = [
    (stage, STAGE_DATE_COLUMN[stage]) for stage in STAGE_ORDER if stage in STAGE_DATE_COLUMN
]
DATE_COLUMNS = [column for _, column in PIPELINE_DATES]
STAGE_SETTINGS = ("chaindb.stage_date", "chaindb.stage_reason", "chaindb.stage_note")
# Columns that may never be empty: a PATCH sending null for one is refused by name.
REQUIRED = ("name", "chain_id", "district_id", "kind", "stage", "is_key")
# A follow-on project without its parent, per kind (whole sentences, for the translations).
MISSING_PARENT = {
    ProjectKind.EXPANSION: N_("an expansion names the original project it adds to (parent_id)"),
    ProjectKind.CAPITAL_INCREASE: N_(
        "a capital increase names the original project it adds to (parent_id)"
    ),
}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def clean_text(value: str | None) -> str | None:
    return None if _blank(value) else value.strip()  # type: ignore[union-attr]


@contextmanager
def stage_settings(
    session: Session, *, on: date | None, reason: str | None, note: str | None
) -> Iterator[None]:
    """Tell the stage trigger the date, reason and note of the write inside the block. A write
    refused inside it fails its transaction (or savepoint), whose rollback takes the settings
    back too: they are reset only after a write that went through."""
    values = (on.isoformat() if on else "", reason or "", note or "")
    _set(session, values)
    yield
    _set(session, ("", "", ""))


def _set(session: Session, values: tuple[str, str, str]) -> None:
    session.execute(
        text(
            "SELECT set_config(:k1, :v1, true), set_config(:k2, :v2, true), "
            "set_config(:k3, :v3, true)"
        ),
        {
            "k1": STAGE_SETTINGS[0],
            "v1": values[0],
            "k2": STAGE_SETTINGS[1],
            "v2": values[1],
            "k3": STAGE_SETTINGS[2],
            "v3": values[2],
        },
    )


def needs_reason(from_stage: str | None, to_stage: str) -> bool:
    """Moving backwards, dropping or reviving needs a reason (as the stage-history CHECK says)."""
    if to_stage == Stage.DROPPED or from_stage == Stage.DROPPED:
        return True
    return from_stage is not None and STAGE_ORDER[Stage(to_stage)] < STAGE_ORDER[Stage(from_stage)]


# --- a project's values --------------------------------------------------------------------------


def check_project(
    session: Session,
    values: dict[str, Any],
    current: dict[str, Any] | None,
    *,
    stage_reason: str | None = None,
    confirmed: set[str] | frozenset[str] = frozenset(),
) -> None:
    """Refuse values that break a project rule; every fault at once, each naming its field.
    Then the warnings a person may confirm (`confirmed`): amounts far beyond the usual, a
    project that looks like one already recorded.

    `values` are the project's values after the write (for an update, the current row with the
    changes applied; references already resolved to ids); `current` is the row before, or None
    when creating.
    """
    problems: list[dict[str, Any]] = []

    def fault(field: str, message: str, **params: Any) -> None:
        """`message` is a template (marked with N_), said as "field: message"."""
        problems.append({"field": field, "message": Message(message, params, prefix=field)})

    for name in REQUIRED:
        if name in values and values[name] is None:
            fault(name, N_("cannot be empty"))
    if problems:
        raise _invalid(problems)

    if values.get("investor_id") is None and _blank(values.get("investor_name")):
        fault(
            "investor_id", N_("name the investor: investor_id (id or credit code) or investor_name")
        )
    _check_segment(session, values, fault)
    _check_chain_master(session, values, fault)
    _check_parent(session, values, current, fault)
    _check_stage_dates(values, current, fault)
    _check_investment_parts(values, fault)
    if current is None and values["stage"] == Stage.DROPPED and _blank(stage_reason):
        fault("stage_reason", N_("a project entered as dropped needs the reason it was dropped"))
    if problems:
        raise _invalid(problems)

    confirm_amounts(
        {name: values.get(name) for name in AMOUNTS},
        limit=current_settings().confirm_project_above_cny_100m,
        unit="亿元",
        confirmed=confirmed,
        unchanged=current,
    )
    if CONFIRM_POSSIBLE_DUPLICATE not in confirmed:
        _check_duplicates(session, values, current)


AMOUNTS = (
    "agreed_investment_cny_100m",
    "funds_arrived_cny_100m",
    "first_phase_investment_cny_100m",
    "fixed_asset_investment_cny_100m",
)
# Parts of the agreed (total) investment: never more than it (the CHECKs *_within_total).
PARTS_OF_TOTAL = {
    "first_phase_investment_cny_100m": N_("the first phase cannot exceed the total investment "
                                          "(agreed investment, %(total)s 亿元)"),
    "fixed_asset_investment_cny_100m": N_("the fixed-asset investment cannot exceed the total "
                                          "investment (agreed investment, %(total)s 亿元)"),
}  # fmt: skip


def _check_investment_parts(values: dict[str, Any], fault) -> None:
    total = values.get("agreed_investment_cny_100m")
    for name, message in PARTS_OF_TOTAL.items():
        part = values.get(name)
        if part is not None and total is not None and part > total:
            fault(name, message, total=total)
    if values.get("foreign_capital_usd_10k") is not None and values.get("capital_origin") != (
        CapitalOrigin.FOREIGN
    ):
        fault(
            "foreign_capital_usd_10k",
            N_("foreign capital (实际使用外资) is recorded only for capital from abroad (境外): "
               "set the capital origin to foreign"),
        )  # fmt: skip


# The same project: the same name (case, width and spaces aside), planning unit and investor
# (the same enterprise, or the same name written as the investor) as one that is not dropped.
SAME_PROJECT = text(
    r"""
    SELECT p.id, p.name, p.stage, p.signed_on, d.name_zh AS district,
           coalesce(e.name_zh, p.investor_name) AS investor
    FROM project AS p
    JOIN district AS d ON d.id = p.district_id
    LEFT JOIN enterprise AS e ON e.id = p.investor_id
    WHERE p.district_id = :district_id
      AND p.stage <> 'dropped'
      AND p.id IS DISTINCT FROM :self
      AND regexp_replace(lower(normalize(p.name, NFKC)), '\s', '', 'g')
          = regexp_replace(lower(normalize(:name, NFKC)), '\s', '', 'g')
      AND (p.investor_id = :investor_id
           OR enterprise_name_key(coalesce(e.name_zh, p.investor_name))
              = enterprise_name_key(coalesce(
                  (SELECT name_zh FROM enterprise WHERE id = :investor_id), :investor_name))
           OR e.alias_keys @> ARRAY[enterprise_name_key(:investor_name)])
    ORDER BY p.id
    LIMIT 5
    """
)


def _check_duplicates(
    session: Session, values: dict[str, Any], current: dict[str, Any] | None
) -> None:
    keys = ("name", "district_id", "investor_id", "investor_name")
    if current is not None and all(values.get(k) == current.get(k) for k in keys):
        return  # nothing that makes it the same project changed
    found = session.execute(
        SAME_PROJECT,
        {
            "name": values["name"],
            "district_id": values["district_id"],
            "investor_id": values.get("investor_id"),
            "investor_name": values.get("investor_name"),
            "self": current["id"] if current else None,
        },
    ).mappings()
    candidates = [dict(row) for row in found]
    if candidates:
        raise PossibleDuplicate(
            N_(
                "a project with this name, planning unit and investor is already recorded "
                "(%(projects)s); if this is another project, confirm to save it"
            ),
            params={"projects": "、".join(f"{c['name']} #{c['id']}" for c in candidates)},
            field="name",
            candidates=candidates,
            of="projects",
        )


def _invalid(problems: list[dict[str, Any]]) -> Invalid:
    if len(problems) == 1:
        return Invalid(problems[0]["message"], details=problems)
    fields = ", ".join(dict.fromkeys(p["field"] for p in problems))
    return Invalid("invalid values: %(fields)s", params={"fields": fields}, details=problems)


def _check_segment(session: Session, values: dict[str, Any], fault) -> None:
    segment_id = values.get("segment_id")
    found = segment_fault(session, segment_id, values["chain_id"])
    if found == "no_segment":
        fault("segment_id", N_("no segment with id %(id)s"), id=segment_id)
    elif found == "other_chain":
        fault("segment_id", N_("the segment belongs to another chain than the project's"))


def _check_chain_master(session: Session, values: dict[str, Any], fault) -> None:
    master = values.get("chain_master_id")
    if master is None:
        return
    # The same function the database trigger asks: the role held in the chain at any time.
    if not holds_chain_master(session, master, values["chain_id"], None):
        chain = session.execute(
            select(Chain.code, Chain.name_zh).where(Chain.id == values["chain_id"])
        ).one()
        name = session.scalar(select(Enterprise.name_zh).where(Enterprise.id == master))
        fault(
            "chain_master_id",
            N_(
                "%(name)s (enterprise %(id)s) is not a chain master (链主) of chain %(chain)s; "
                "record its chain-master role in that chain first (/api/v1/chain-roles)"
            ),
            name=name,
            id=master,
            chain=Shown(chain.code, chain.name_zh),
        )


def _check_parent(
    session: Session, values: dict[str, Any], current: dict[str, Any] | None, fault
) -> None:
    kind, parent_id = values["kind"], values.get("parent_id")
    if kind == ProjectKind.NEW:
        if parent_id is not None:
            fault(
                "parent_id",
                N_(
                    "a new project has no parent; an expansion or capital increase names the "
                    "original project (set kind)"
                ),
            )
        return
    if parent_id is None:
        fault(
            "parent_id",
            MISSING_PARENT.get(
                kind, N_("an %(kind)s names the original project it adds to (parent_id)")
            ),
            kind=kind.replace("_", " "),
        )
        return
    if not session.scalar(select(func.count()).where(Project.id == parent_id)):
        fault("parent_id", N_("no project with id %(id)s"), id=parent_id)
        return
    if current is None:
        return
    # A parent must not be the project itself or lie below it.
    seen: set[int] = set()
    ancestor: int | None = parent_id
    while ancestor is not None and ancestor not in seen:
        if ancestor == current["id"]:
            fault(
                "parent_id", N_("the parent cannot be the project itself or one of its follow-ons")
            )
            return
        seen.add(ancestor)
        ancestor = session.scalar(select(Project.parent_id).where(Project.id == ancestor))


def _check_stage_dates(values: dict[str, Any], current: dict[str, Any] | None, fault) -> None:
    stage = Stage(values["stage"])
    rank = STAGE_ORDER.get(stage)  # None when dropped
    for reached, column in PIPELINE_DATES:
        if values.get(column) is not None and rank is not None and rank < STAGE_ORDER[reached]:
            fault(
                column,
                N_(
                    "the project is at stage %(stage)s: it has not reached %(reached)s, so it has "
                    "no %(column)s yet"
                ),
                stage=stage,
                reached=reached,
                column=column,
            )
    if stage == Stage.DROPPED and values.get("dropped_on") is None:
        fault("dropped_on", N_("a dropped project needs the date it was dropped"))
    if stage != Stage.DROPPED and values.get("dropped_on") is not None:
        fault("dropped_on", N_("the project is at stage %(stage)s, not dropped"), stage=stage)
    # The date of the stage the project is at: required when it is entered, kept afterwards.
    own = STAGE_DATE_COLUMN.get(stage)
    if (
        own is not None
        and own != "dropped_on"
        and values.get(own) is None
        and (current is None or current.get(own) is not None)
    ):
        fault(own, N_("the project is at stage %(stage)s: give the date it got there"), stage=stage)
    known = [(column, values[column]) for column in DATE_COLUMNS if values.get(column)]
    for i, (earlier, first) in enumerate(known):
        for later, second in known[i + 1 :]:
            if second < first:
                fault(
                    later,
                    N_("%(day)s is before %(earlier)s (%(earlier_day)s); stages come in order"),
                    day=second,
                    earlier=earlier,
                    earlier_day=first,
                )
    dropped_on = values.get("dropped_on")
    if dropped_on is not None:
        for column, day in known:
            if day > dropped_on:
                fault(
                    "dropped_on",
                    N_("%(dropped_on)s is before %(column)s (%(day)s)"),
                    dropped_on=dropped_on,
                    column=column,
                    day=day,
                )
    signed_on, agreed_start = values.get("signed_on"), values.get("agreed_start_on")
    if signed_on and agreed_start and agreed_start < signed_on:
        fault(
            "agreed_start_on",
            N_("%(agreed_start_on)s is before the signing (%(signed_on)s)"),
            agreed_start_on=agreed_start,
            signed_on=signed_on,
        )


# --- moving between stages -----------------------------------------------------------------------


def move_stage(
    *,
    session: Session | Connection,
    project_id: int,
    stage: Stage,
    on: date,
    reason: str | None = None,
    note: str | None = None,
    missing: Callable[[], DomainError] | None = None,
    outside: Callable[[], DomainError] | None = None,
) -> dict[str, Any]:
    """Move the project to `stage` on day `on`, in one call of the database's
    move_project_stage(), which holds the rules of a move and returns the project after it.

    Forward: the stage's date column becomes `on`. Backwards or reviving: the date columns of the
    stages above the new one are emptied (the database refuses dates ahead of the stage), while
    the new stage keeps the date it was first reached on, if it has one: a project counts once,
    at its first signing. The move itself, with `on`, reason and note, goes to the history, where
    the emptied dates also stay (in the earlier moves). Dropping keeps every date and sets
    dropped_on. Moving to the stage it is at, moving backwards, dropping or reviving without a
    reason, and a day before the stage it leaves was reached (or before its last move) are
    refused. `missing` and `outside` word a project that is not there, or that the acting unit
    may read but not move.
    """
    reason, note = clean_text(reason), clean_text(note)
    params = {"id": project_id, "stage": str(stage), "on": on, "reason": reason, "note": note}
    try:
        # Straight on psycopg: SQLAlchemy's execution of the text cost more than the call.
        (row,) = run_sql(core_connection(session), MOVE_SQL, params)
        return row
    except DBAPIError as exc:
        raise _move_refused(exc, project_id, missing, outside) from None


MOVE_SQL = "SELECT * FROM move_project_stage(%(id)s, %(stage)s, %(on)s, %(reason)s, %(note)s)"


def _move_refused(
    exc: DBAPIError,
    project_id: int,
    missing: Callable[[], DomainError] | None,
    outside: Callable[[], DomainError] | None,
) -> DomainError:
    """The database's refusal of a move, worded for the client."""
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None) or ""
    said = refusal_particulars(exc)
    if isinstance(orig, pg.NoDataFound):
        return (
            missing()
            if missing
            else NotFound("no project %(key)r", params={"key": str(project_id)})
        )
    if isinstance(orig, pg.InsufficientPrivilege) and outside is not None:
        return outside()
    if constraint == "project_move_changes_stage":
        return Conflict(
            "the project is already at stage %(stage)s",
            params={"stage": said["stage"]},
            field="stage",
        )
    if constraint == "project_move_has_reason":
        if said["to_stage"] == Stage.DROPPED:
            return Invalid("dropping a project needs a reason", field="reason")
        if said["from_stage"] == Stage.DROPPED:
            return Invalid("reviving a dropped project needs a reason", field="reason")
        return Invalid(
            "moving a project back from %(from_stage)s to %(to_stage)s needs a reason",
            params=said,
            field="reason",
        )
    if constraint == "project_move_not_before_last":
        params = {"on": date.fromisoformat(said["on"]), "floor": date.fromisoformat(said["floor"])}
        if said["column"] is None:
            return Invalid(
                "%(on)s is before the project's last move (%(floor)s); a move cannot predate the "
                "stage it leaves",
                params=params,
                field="date",
            )
        return Invalid(
            "%(on)s is before %(column)s (%(floor)s); a move cannot predate the stage it leaves",
            params={**params, "column": said["column"]},
            field="date",
        )
    return from_database_error(exc)


def stage_events(*, session: Session, project_id: int) -> list[ProjectStageEvent]:
    """The project's stage history, in the order it happened (oldest first)."""
    return list(
        session.scalars(
            select(ProjectStageEvent)
            .where(ProjectStageEvent.project_id == project_id)
            .order_by(ProjectStageEvent.id)
        )
    )
