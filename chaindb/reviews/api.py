"""The review API: a project's review (submit, withdraw, approve, return) and its history, the
review lists (待审核, 退回), and the evidence files of a project's stages.

POST /api/v1/projects/{id}/review          {"action": "submit" | "withdraw" | "approve" | "return",
                                            "opinion": "..."}
GET  /api/v1/projects/{id}/reviews         the history, oldest first
GET  /api/v1/reviews?status=submitted      the projects waiting for the caller's review
GET  /api/v1/reviews?status=returned       the projects returned to the caller's unit
GET  /api/v1/projects/{id}/evidence        the evidence files (without content)
POST /api/v1/projects/{id}/evidence        multipart/form-data: file, kind, stage, note
GET  /api/v1/projects/{id}/evidence/{eid}  the file itself
DELETE /api/v1/projects/{id}/evidence/{eid}
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response, request
from flask_openapi3 import OpenAPI, Tag
from pydantic import BaseModel, Field, TypeAdapter

from chaindb.access import current
from chaindb.api import accept_files
from chaindb.api.blueprint import APIBlueprint
from chaindb.api.responses import json_body, typed_json
from chaindb.api.routes import ERRORS
from chaindb.api.schemas import LongText, PathId, parse_body
from chaindb.db import db
from chaindb.errors import N_, BadRequest, Invalid
from chaindb.projects.api import projects
from chaindb.projects.models import Stage
from chaindb.projects.schemas import ProjectRead
from chaindb.reviews import service
from chaindb.reviews.models import EvidenceKind
from chaindb.reviews.schemas import EvidenceRead, ReviewGiven, ReviewRead, WaitingRead

REVIEWS = TypeAdapter(list[ReviewRead])
WAITING = TypeAdapter(list[WaitingRead])
EVIDENCE = TypeAdapter(list[EvidenceRead])
ONE_EVIDENCE = TypeAdapter(EvidenceRead)


class EvidencePath(BaseModel):
    id: str = Field(description="The project's id")
    evidence_id: int = Field(description="The evidence file's id")


class ReviewListQuery(BaseModel):
    status: str = Field(
        "submitted",
        description="submitted: the projects waiting for the caller's review (待审核); returned: "
        "the projects returned to the caller's unit, with the opinions (退回)",
    )


class EvidenceForm(BaseModel):
    file: Any = Field(description="The file: PDF, JPEG or PNG, at most 10 MiB")
    kind: EvidenceKind = Field(
        EvidenceKind.OTHER,
        description="contract (合同), licence (营业执照), permit (施工许可), photo (照片), "
        "production (投产证明) or other",
    )
    stage: Stage | None = Field(None, description="The stage it is evidence of")
    note: LongText | None = None


def _form_choice(name: str, vocabulary: type, default: Any) -> Any:
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return default
    try:
        return vocabulary(raw)
    except ValueError:
        raise Invalid(
            "%(name)s: %(value)r is not one of %(allowed)s",
            params={"name": name, "value": raw, "allowed": ", ".join(vocabulary)},
            field=name,
        ) from None


def download(row: dict[str, Any]) -> Response:
    """An evidence file as a download: its own type, never rendered in place (a PDF that
    carries script stays a file), with its checksum."""
    name = row["file_name"]
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    response = Response(row["content"], mimetype=row["media_type"])
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Digest"] = f"sha-256={row['sha256']}"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _blueprint() -> APIBlueprint:
    bp = APIBlueprint(
        "reviews_api",
        __name__,
        url_prefix="/api/v1",
        abp_tags=[Tag(name="reviews", description="Review before it counts (审核), evidence")],
        abp_security=[{"bearer": []}],
        abp_responses=dict(ERRORS),
    )

    def give(id: str, path: PathId = None, body: ReviewGiven = None):  # type: ignore[assignment]
        given = ReviewGiven(**parse_body(ReviewGiven, json_body()))
        session = db.session
        project = projects.get(session, id, lock=True)
        projects.check_if_match(project)
        service.review(
            session=session,
            principal=current(),
            project=project,
            action=given.action,
            opinion=given.opinion,
        )
        row = projects.get(session, str(project["id"]))
        session.commit()
        return projects.detail_response(row)

    give.__delay_validate_request__ = True  # type: ignore[attr-defined]
    bp.post(
        "/projects/<id>/review",
        summary="Review a project: submit, withdraw, approve or return (with an opinion)",
        description="The project's unit submits a draft or returned project and may withdraw it "
        "while it waits; the reviewer (the city bureau, or the chain's office where it reviews "
        "its chain) approves it, which makes its figures count in every report, or returns it "
        "with an opinion. A submitted project cannot be edited. Honours If-Match.",
        responses={200: ProjectRead},
        operation_id="review_project",
    )(give)

    @bp.get(
        "/projects/<id>/reviews",
        summary="A project's review history, oldest first",
        responses={200: None},
        operation_id="list_project_reviews",
    )
    def reviews(path: PathId):
        project_id = projects.find_id(db.session, path.id)
        return typed_json(REVIEWS, service.history(session=db.session, project_id=project_id))

    @bp.get(
        "/reviews",
        summary="The review lists: waiting for the caller's review (待审核), or returned (退回)",
        responses={200: None},
        operation_id="list_reviews",
    )
    def waiting(query: ReviewListQuery):
        principal = current()
        if query.status == "submitted":
            rows = service.queue(session=db.session, principal=principal) if principal else []
        elif query.status == "returned":
            rows = service.returned(session=db.session)
        else:
            raise Invalid(
                "status: %(value)r is not one of submitted, returned",
                params={"value": query.status},
                field="status",
            )
        return typed_json(WAITING, [vars(r) for r in rows])

    @bp.get(
        "/projects/<id>/evidence",
        summary="A project's evidence files (without their content)",
        responses={200: None},
        operation_id="list_project_evidence",
    )
    def evidence(path: PathId):
        project_id = projects.find_id(db.session, path.id)
        return typed_json(EVIDENCE, service.evidence_of(session=db.session, project_id=project_id))

    def attach(id: str, path: PathId = None, form: EvidenceForm = None):  # type: ignore[assignment]
        upload = request.files.get("file")
        if upload is None:
            raise BadRequest(
                N_("send the file as multipart/form-data in a field named 'file'"), field="file"
            )
        with upload.stream:  # a large one is spooled to a temporary file: closed once read
            content, file_name = upload.read(), upload.filename or ""
        session = db.session
        project = projects.get(session, id, lock=True)
        principal = current()
        row = service.attach(
            session=session,
            project=project,
            file_name=file_name,
            content=content,
            kind=_form_choice("kind", EvidenceKind, EvidenceKind.OTHER),
            stage=_form_choice("stage", Stage, None),
            note=request.form.get("note"),
            uploaded_by=principal.username if principal else "",
        )
        session.commit()
        response = typed_json(ONE_EVIDENCE, row, status=201)
        response.headers["Location"] = f"/api/v1/projects/{project['id']}/evidence/{row['id']}"
        return response

    attach.__delay_validate_request__ = True  # type: ignore[attr-defined]
    bp.post(
        "/projects/<id>/evidence",
        summary="Attach an evidence file to a project (PDF, JPEG or PNG, at most 10 MiB)",
        description="multipart/form-data with the file in the field `file`; its type is found "
        "from its content (a renamed executable is refused with 415), its size and SHA-256 are "
        "computed by the database. Not while the project is submitted for review.",
        responses={201: EvidenceRead},
        operation_id="attach_project_evidence",
    )(attach)

    @bp.get(
        "/projects/<id>/evidence/<int:evidence_id>",
        summary="Download an evidence file",
        responses={200: None},
        operation_id="get_project_evidence",
    )
    def evidence_file(path: EvidencePath):
        project_id = projects.find_id(db.session, path.id)
        return download(
            service.evidence_file(
                session=db.session, project_id=project_id, evidence_id=path.evidence_id
            )
        )

    @bp.delete(
        "/projects/<id>/evidence/<int:evidence_id>",
        summary="Remove an evidence file (from a draft or returned project)",
        responses={204: None},
        operation_id="delete_project_evidence",
    )
    def remove(path: EvidencePath):
        session = db.session
        project = projects.get(session, path.id, lock=True)
        service.remove(session=session, project=project, evidence_id=path.evidence_id)
        session.commit()
        return Response(status=204)

    return bp


def register(app: OpenAPI) -> None:
    accept_files("/evidence")
    app.register_api(_blueprint())
