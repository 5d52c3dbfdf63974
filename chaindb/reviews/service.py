"""The rules of reviewing what units report, and of their evidence files.

The database keeps the same rules (project_review_apply(), project_review_guard(), the policies
and CHECKs of project_evidence); these functions say first, in the user's words, what is wrong.
Every function takes the session as keyword and never commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import puremagic
from sqlalchemy import func, insert, select, true
from sqlalchemy.orm import Session

from chaindb.access import Principal, Role
from chaindb.chains.models import Chain
from chaindb.districts.models import District
from chaindb.errors import (
    N_,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    TooLarge,
    UnsupportedMediaType,
    write_rows,
)
from chaindb.projects.models import Project, ReviewStatus, Stage
from chaindb.reviews.models import (
    EVIDENCE_MAX_BYTES,
    REVIEWER_ACTIONS,
    SIGNATURES,
    TRANSITIONS,
    EvidenceKind,
    MediaType,
    ProjectApproved,
    ProjectEvidence,
    ProjectReview,
    ReviewAction,
)
from chaindb.units.models import Unit

NOT_REVIEWER = N_(
    "%(unit)s does not review this project: the city bureau does (or the chain's office, where "
    "it reviews its chain)"
)
WRONG_STATUS = N_("the project is %(status)s: it cannot be given the action %(action)s")


# --- reviewing -----------------------------------------------------------------------------------


def may_review(principal: Principal | None, chain_id: int | None) -> bool:
    """The principal approves or returns the chain's projects (a reviewer of a reviewing unit)."""
    return (
        principal is not None
        and principal.may(Role.REVIEWER)
        and principal.scope.reviews_chain(chain_id)
    )


def actions_for(principal: Principal | None, project: dict[str, Any]) -> list[ReviewAction]:
    """The review actions the principal may take on the project now (its unit's or the
    reviewer's), in the order the page offers them."""
    if principal is None:
        return []
    status = ReviewStatus(project["review_status"])
    reviewer = may_review(principal, project["chain_id"])
    allowed = []
    for action, (sources, _target) in TRANSITIONS.items():
        if status not in sources:
            continue
        if action in REVIEWER_ACTIONS:
            if reviewer:
                allowed.append(action)
        # The reviewer decides; withdrawing is the reporting unit's (the API still lets a
        # reviewer with the project in its scope withdraw it).
        elif principal.may(Role.EDITOR) and not (reviewer and action == ReviewAction.WITHDRAW):
            allowed.append(action)
    return allowed


def review(
    *,
    session: Session,
    principal: Principal | None,
    project: dict[str, Any],
    action: ReviewAction,
    opinion: str | None,
    seen: int | None = None,
) -> dict[str, Any]:
    """Submit, withdraw, approve or return `project` (its row as read, in scope and locked): the
    review row written, the project moved by the database. `seen`: the last review step the
    person saw (0 for none); another since refuses, so that nobody approves a version they did
    not see."""
    opinion = (opinion or "").strip() or None
    if seen is not None and seen != last_review_id(session=session, project_id=project["id"]):
        raise Conflict(
            N_(
                "the project's review moved on since this page was opened (submitted again, "
                "withdrawn or reviewed): look at it again"
            ),
            field="action",
        )
    status = ReviewStatus(project["review_status"])
    sources, _target = TRANSITIONS[action]
    if status not in sources:
        raise Conflict(WRONG_STATUS, params={"status": status, "action": action}, field="action")
    if action in REVIEWER_ACTIONS:
        if principal is not None and not may_review(principal, project["chain_id"]):
            raise Forbidden(NOT_REVIEWER, params={"unit": principal.scope.name}, field="action")
    elif principal is not None and not principal.may(Role.EDITOR):
        raise Forbidden(N_("only an editor submits or withdraws a project"), field="action")
    if action == ReviewAction.RETURN and opinion is None:
        raise Invalid(
            N_("returning a project needs an opinion that says what to correct"), field="opinion"
        )
    (row,) = write_rows(
        session,
        insert(ProjectReview)
        .values(project_id=project["id"], action=action.value, opinion=opinion)
        .returning(*ProjectReview.__table__.columns),
    )
    return row


def last_review_id(*, session: Session, project_id: int) -> int:
    """The id of the project's last review step; 0 when it has none."""
    return (
        session.scalar(
            select(func.max(ProjectReview.id)).where(ProjectReview.project_id == project_id)
        )
        or 0
    )


def history(*, session: Session, project_id: int) -> list[dict[str, Any]]:
    """The project's review history, oldest first, with the acting unit's name."""
    rows = session.execute(
        select(ProjectReview, Unit.name_zh.label("unit_name"))
        .outerjoin(Unit, Unit.id == ProjectReview.unit_id)
        .where(ProjectReview.project_id == project_id)
        .order_by(ProjectReview.id)
    ).all()
    return [
        {
            **{c.name: getattr(r.ProjectReview, c.key) for c in ProjectReview.__table__.columns},
            "unit_name": r.unit_name,
        }
        for r in rows
    ]


@dataclass(frozen=True)
class Approval:
    """When the project's figures were last approved, and the last stage move it covered."""

    at: datetime
    last_stage_event_id: int | None


def last_approval(*, session: Session, project_id: int) -> Approval | None:
    """The project's last approval; None when it was never approved."""
    row = session.execute(
        select(ProjectApproved.approved_at, ProjectApproved.last_stage_event_id).where(
            ProjectApproved.id == project_id
        )
    ).first()
    return Approval(*row) if row is not None else None


def stage_review_status(event_id: int, project_status: str, approval: Approval | None) -> str:
    """A stage move's review status: approved when an approval covered it, else where the
    project stands (a move is reviewed with the project's next submission)."""
    covered = approval is not None and (approval.last_stage_event_id or 0) >= event_id
    return ReviewStatus.APPROVED.value if covered else project_status


@dataclass(frozen=True)
class Waiting:
    """A project in a review list, with the last review step (the opinion, for a returned one)."""

    id: int
    name: str
    chain_id: int
    chain_name: str
    district_id: int
    district_name: str
    stage: str
    review_status: str
    agreed_investment_cny_100m: Any
    at: datetime | None
    actor: str | None
    opinion: str | None


def _listing(session: Session, where: Sequence[Any], limit: int | None) -> list[Waiting]:
    last = (
        select(
            ProjectReview.project_id,
            ProjectReview.created_at,
            ProjectReview.actor,
            ProjectReview.opinion,
        )
        .where(ProjectReview.project_id == Project.id)
        .order_by(ProjectReview.id.desc())
        .limit(1)
        .lateral("last_review")
    )
    stmt = (
        select(
            Project.id,
            Project.name,
            Project.chain_id,
            Chain.name_zh,
            Project.district_id,
            District.name_zh,
            Project.stage,
            Project.review_status,
            Project.agreed_investment_cny_100m,
            last.c.created_at,
            last.c.actor,
            last.c.opinion,
        )
        .join(Chain, Chain.id == Project.chain_id)
        .join(District, District.id == Project.district_id)
        .outerjoin(last, true())
        .where(*where)
        .order_by(last.c.created_at.asc().nulls_last(), Project.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [Waiting(*row) for row in session.execute(stmt)]


def _reviewable(principal: Principal) -> list[Any]:
    scope = principal.scope
    if scope.everything:
        return []
    if scope.reviews_chains and scope.chain_ids:
        return [Project.chain_id.in_(sorted(scope.chain_ids))]
    return [func.false()]


def queue(*, session: Session, principal: Principal, limit: int | None = None) -> list[Waiting]:
    """待审核: the submitted projects the principal's unit reviews, longest waiting first."""
    if not principal.may(Role.REVIEWER):
        return []
    where = [Project.review_status == ReviewStatus.SUBMITTED.value, *_reviewable(principal)]
    return _listing(session, where, limit)


def queue_count(*, session: Session, principal: Principal) -> int:
    """How many projects wait for the principal's review (the count in the navigation)."""
    if not principal.may(Role.REVIEWER) or not (
        principal.scope.everything or principal.scope.reviews_chains
    ):
        return 0
    where = [Project.review_status == ReviewStatus.SUBMITTED.value, *_reviewable(principal)]
    return session.scalar(select(func.count()).select_from(Project).where(*where)) or 0


def returned_count(*, session: Session) -> int:
    """How many projects in the unit's scope are returned (row-level security says which)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Project)
            .where(Project.review_status == ReviewStatus.RETURNED.value)
        )
        or 0
    )


def returned(*, session: Session, limit: int | None = None) -> list[Waiting]:
    """退回: the returned projects in the unit's scope (row-level security says which), with
    the reviewer's opinion, oldest return first."""
    return _listing(session, [Project.review_status == ReviewStatus.RETURNED.value], limit)


# --- evidence ------------------------------------------------------------------------------------

EVIDENCE_COLUMNS = [c for c in ProjectEvidence.__table__.columns if c.name != "content"]


def media_type_of(content: bytes) -> MediaType:
    """What the file is, from its content: a PDF, a JPEG or a PNG, else a 415 (a renamed
    executable, a Word file, a text)."""
    if not content:
        raise Invalid(N_("the file is empty"), field="file")
    try:
        found = {m.mime_type for m in puremagic.magic_string(content)}
    except puremagic.PureError:
        found = set()
    for media, magic in SIGNATURES.items():
        if media.value in found and content.startswith(bytes.fromhex(magic)):
            return media
    raise UnsupportedMediaType(
        N_("the file is not a PDF, JPEG or PNG (its content says what it is, not its name)"),
        field="file",
    )


def clean_file_name(file_name: str | None, *, default: str) -> str:
    """A file's name as shown and sent back in Content-Disposition: no folders, no control
    characters (a line break in a header would break the download), at most 200 characters
    with its extension kept."""
    base = (file_name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in base if ch.isprintable()).strip() or default
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        keep_ext = dot and len(ext) <= 16
        name = (stem[: 200 - len(ext) - 1] + dot + ext) if keep_ext else name[:200]
    return name


def attach(
    *,
    session: Session,
    project: dict[str, Any],
    file_name: str,
    content: bytes,
    kind: EvidenceKind,
    stage: Stage | None,
    note: str | None,
    uploaded_by: str,
) -> dict[str, Any]:
    """Attach an evidence file to the project (in scope, locked): checked by size and content."""
    if project["review_status"] not in (ReviewStatus.DRAFT, ReviewStatus.RETURNED):
        raise Conflict(
            N_("the project is %(status)s: evidence is added to a draft or a returned project, "
               "and reviewed with it"),
            params={"status": project["review_status"]},
            field="file",
        )  # fmt: skip
    if len(content) > EVIDENCE_MAX_BYTES:
        raise TooLarge(
            N_("the file is larger than %(mib)s MiB"),
            params={"mib": EVIDENCE_MAX_BYTES // (1024 * 1024)},
            field="file",
        )
    media = media_type_of(content)
    name = clean_file_name(file_name, default="evidence")
    (row,) = write_rows(
        session,
        insert(ProjectEvidence)
        .values(
            project_id=project["id"],
            stage=stage.value if stage else None,
            kind=kind.value,
            file_name=name,
            media_type=media.value,
            content=content,
            note=(note or "").strip() or None,
            uploaded_by=uploaded_by,
        )
        .returning(*EVIDENCE_COLUMNS),
    )
    return row


def evidence_of(*, session: Session, project_id: int) -> list[dict[str, Any]]:
    """The project's evidence files (without their content), by stage, oldest first."""
    return [
        dict(r)
        for r in session.execute(
            select(*EVIDENCE_COLUMNS)
            .where(ProjectEvidence.project_id == project_id)
            .order_by(
                func.project_stage_rank(ProjectEvidence.stage).nulls_first(), ProjectEvidence.id
            )
        ).mappings()
    ]


def evidence_file(*, session: Session, project_id: int, evidence_id: int) -> dict[str, Any]:
    """One evidence file with its content; a 404 when the project holds no such file."""
    row = (
        session.execute(
            select(*EVIDENCE_COLUMNS, ProjectEvidence.content).where(
                ProjectEvidence.project_id == project_id, ProjectEvidence.id == evidence_id
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(
            N_("project %(project)s has no evidence file %(id)s"),
            params={"project": project_id, "id": evidence_id},
            field="id",
        )
    return dict(row)


def remove(*, session: Session, project: dict[str, Any], evidence_id: int) -> None:
    """Remove an evidence file from a draft or returned project."""
    evidence_file(session=session, project_id=project["id"], evidence_id=evidence_id)
    if project["review_status"] not in (ReviewStatus.DRAFT, ReviewStatus.RETURNED):
        raise Conflict(
            N_("the project is %(status)s: its evidence is kept as reviewed"),
            params={"status": project["review_status"]},
            field="id",
        )
    session.execute(
        ProjectEvidence.__table__.delete().where(
            ProjectEvidence.project_id == project["id"], ProjectEvidence.id == evidence_id
        )
    )
