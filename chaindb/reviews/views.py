"""Pages of the review: 待审核 (the projects waiting for the reviewer) and 退回 (the projects
returned to the unit, with the opinions); on a project's page, its review status, the actions
the user may take, the history, and the evidence files.

The actions go through the same service as the API (POST /api/v1/projects/{id}/review, the
evidence routes), so a page obeys exactly the rules of the API and of the database.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from chaindb.access import Role, current, require
from chaindb.db import db
from chaindb.errors import DomainError
from chaindb.projects.api import projects
from chaindb.projects.models import Stage
from chaindb.projects.vocab import STAGE_LABELS
from chaindb.reviews import service
from chaindb.reviews.api import download
from chaindb.reviews.forms import EvidenceUploadForm, ReviewForm
from chaindb.reviews.models import EVIDENCE_MAX_BYTES, EvidenceKind, ReviewAction
from chaindb.reviews.vocab import (
    ACTION_BUTTONS,
    ACTION_LABELS,
    EVIDENCE_KIND_LABELS,
    STATUS_LABELS,
)
from chaindb.web import register_nav_count
from chaindb.web.pages import show_errors

bp = Blueprint("reviews", __name__)


def panel(session: Session, row: dict[str, Any]) -> dict[str, Any]:
    """What a project's page shows of its review: the status, the actions the user may take,
    the history, the evidence files and the forms."""
    principal = current()
    return {
        "review_status_label": STATUS_LABELS.get(row["review_status"], row["review_status"]),
        "review_actions": service.actions_for(principal, row),
        "review_history": service.history(session=session, project_id=row["id"]),
        "review_seen": service.last_review_id(session=session, project_id=row["id"]),
        "last_approval": service.last_approval(session=session, project_id=row["id"]),
        "evidence": service.evidence_of(session=session, project_id=row["id"]),
        "review_form": g.get("review_form") or ReviewForm(formdata=None),
        "upload_form": g.get("upload_form") or EvidenceUploadForm(formdata=None),
        "stage_review_status": service.stage_review_status,
        "review_labels": STATUS_LABELS,
        "action_labels_review": ACTION_LABELS,
        "action_buttons": ACTION_BUTTONS,
        "evidence_kind_labels": EVIDENCE_KIND_LABELS,
        "evidence_max_mib": EVIDENCE_MAX_BYTES // (1024 * 1024),
    }


def project_routes(bp: Blueprint, pages: Any) -> None:
    """The review's routes under a project's page (the projects' pages call this with their
    blueprint and pages): an action, an upload, a download, a removal. A refused action shows
    the project's page again with the reason beside the field."""

    def give(id: str):
        require(Role.EDITOR)
        session = db.session
        project = projects.get(session, id, lock=True)
        form = ReviewForm()
        if form.validate_on_submit():
            try:
                service.review(
                    session=session,
                    principal=current(),
                    project=project,
                    action=ReviewAction(form.action.data),
                    opinion=form.opinion.data,
                    seen=int(form.seen.data) if (form.seen.data or "").isdigit() else None,
                )
            except DomainError as exc:
                session.rollback()
                show_errors(form, exc, default="opinion")
                status = exc.status
            else:
                session.commit()
                flash(
                    _(
                        "%(name)s: %(action)s",
                        name=project["name"],
                        action=ACTION_LABELS[form.action.data],
                    ),
                    "ok",
                )
                return redirect(url_for("projects.detail", id=project["id"]) + "#review")
        else:
            status = 422
        g.review_form = form
        return pages.detail_view(str(project["id"])), status

    def attach(id: str):
        require(Role.EDITOR)
        session = db.session
        project = projects.get(session, id, lock=True)
        form = EvidenceUploadForm()
        if form.validate_on_submit():
            upload = form.file.data
            with upload.stream:  # a large one is spooled to a temporary file: closed once read
                content, file_name = upload.read(), upload.filename or ""
            principal = current()
            try:
                service.attach(
                    session=session,
                    project=project,
                    file_name=file_name,
                    content=content,
                    kind=EvidenceKind(form.kind.data),
                    stage=Stage(form.stage.data) if form.stage.data else None,
                    note=form.note.data,
                    uploaded_by=principal.username if principal else "",
                )
            except DomainError as exc:
                session.rollback()
                show_errors(form, exc, default="file")
                status = exc.status
            else:
                session.commit()
                flash(_("Attached: %(name)s", name=file_name), "ok")
                return redirect(url_for("projects.detail", id=project["id"]) + "#evidence")
        else:
            status = 422
        g.upload_form = form
        return pages.detail_view(str(project["id"])), status

    def evidence_file(id: str, evidence_id: int):
        project_id = projects.find_id(db.session, id)
        return download(
            service.evidence_file(
                session=db.session, project_id=project_id, evidence_id=evidence_id
            )
        )

    def remove(id: str, evidence_id: int):
        require(Role.EDITOR)
        session = db.session
        project = projects.get(session, id, lock=True)
        try:
            service.remove(session=session, project=project, evidence_id=evidence_id)
        except DomainError as exc:
            session.rollback()
            flash(exc.localized(), "error")
        else:
            session.commit()
            flash(_("Removed the evidence file."), "ok")
        return redirect(url_for("projects.detail", id=project["id"]) + "#evidence")

    bp.add_url_rule("/<key:id>/review", "review", give, methods=["POST"])
    bp.add_url_rule("/<key:id>/evidence", "evidence_attach", attach, methods=["POST"])
    bp.add_url_rule(
        "/<key:id>/evidence/<int:evidence_id>", "evidence_file", evidence_file, methods=["GET"]
    )
    bp.add_url_rule(
        "/<key:id>/evidence/<int:evidence_id>/delete",
        "evidence_remove",
        remove,
        methods=["POST"],
    )


@bp.get("/reviews")
def index():
    """待审核 and 退回: the projects waiting for the user's review, and those returned to the
    user's unit with the opinions."""
    principal = current()
    session = db.session
    waiting = service.queue(session=session, principal=principal) if principal else []
    returned = service.returned(session=session)
    return render_template(
        "reviews/index.html",
        title=_("Review"),
        waiting=waiting,
        returned=returned,
        reviews=principal is not None
        and principal.may(Role.REVIEWER)
        and (principal.scope.everything or principal.scope.reviews_chains),
        stage_labels=STAGE_LABELS,
    )


def _nav_count() -> int | None:
    """The count beside Review in the navigation: the projects waiting for the user's review,
    else those returned to the user's unit."""
    principal = current()
    if principal is None or not principal.may(Role.EDITOR):
        return None
    session = db.session
    if principal.may(Role.REVIEWER):
        waiting = service.queue_count(session=session, principal=principal)
        if waiting or principal.scope.everything:
            return waiting
    return service.returned_count(session=session)


NAV_LABEL = _l("Review")


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    register_nav_count(app, "reviews.index", _nav_count)
