"""The projects API: the resource, and the stage workflow (move, history).

/api/v1/projects is a Resource like the others, with the project rules of service.check_project
before every write. Its stage is set once, on creation; afterwards it moves only through
POST /api/v1/projects/{id}/stage, so that every move carries its date and, when it goes
backwards, drops or revives, its reason. GET /api/v1/projects/{id}/stage-events is the history.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from flask import Response, request
from flask_openapi3 import OpenAPI, Tag
from pydantic import TypeAdapter
from sqlalchemy import ColumnElement, Connection, any_, func, or_, select
from sqlalchemy.orm import Session

from chaindb.api.blueprint import APIBlueprint
from chaindb.api.fast import OneStatementWrite, answer_in_front
from chaindb.api.resource import Resource, by_unit
from chaindb.api.responses import json_body
from chaindb.api.routes import ERRORS
from chaindb.api.schemas import PathId, parse_body
from chaindb.api.writes import Ref
from chaindb.chains.models import Chain
from chaindb.db import db, is_id
from chaindb.districts.models import District
from chaindb.enterprises.models import Enterprise
from chaindb.errors import N_, Invalid
from chaindb.projects.models import (
    CapitalOrigin,
    Channel,
    Project,
    ProjectKind,
    ReviewStatus,
    SizeClass,
    Stage,
)
from chaindb.projects.schemas import (
    ProjectCreate,
    ProjectRead,
    ProjectUpdate,
    StageEventRead,
    StageMove,
)
from chaindb.projects.service import (
    check_project,
    clean_text,
    move_stage,
    stage_events,
    stage_settings,
)
from chaindb.promotion.service import check_convertible
from chaindb.reviews.service import last_approval, stage_review_status

CREATE_ONLY = ("stage_reason", "stage_note")
STAGE_ENDPOINT = "POST /api/v1/projects/{id}/stage"


class ProjectResource(Resource):
    """A Resource whose writes pass the project rules, and whose stage is not written by PATCH."""

    # Orderings that are not the column itself: stage in pipeline order (dropped last).
    sort_keys: ClassVar[dict[str, Callable[[], ColumnElement]]] = {
        "stage": lambda: func.project_stage_rank(Project.stage)
    }

    def prepare(
        self, session: Session, values: dict[str, Any], current: dict[str, Any] | None
    ) -> dict[str, Any]:
        confirmed = set(values.pop("confirm", None) or ())
        lead = values.get("lead_id")
        if lead is not None and (current is None or current.get("lead_id") != lead):
            check_convertible(session, lead)
        if current is None:
            # The reason and note of the first stage go with the insert (insert_row).
            reason = clean_text(values.pop("stage_reason", None))
            note = clean_text(values.pop("stage_note", None))
            check_project(session, values, None, stage_reason=reason, confirmed=confirmed)
            return {**values, "stage_reason": reason, "stage_note": note}
        for name in CREATE_ONLY:
            if values.pop(name, None) is not None:
                raise Invalid(
                    "%(name)s: only for a new project; a stage move carries its reason and note "
                    "(%(endpoint)s)",
                    params={"name": name, "endpoint": STAGE_ENDPOINT},
                    field=name,
                )
        if "stage" in values:
            if values["stage"] is not None and values["stage"] != current["stage"]:
                raise Invalid(
                    "stage: the project is %(stage)s; its stage moves only through "
                    "%(endpoint)s, which records the date and reason",
                    params={"stage": current["stage"], "endpoint": STAGE_ENDPOINT},
                    field="stage",
                )
            if values["stage"] is not None:
                del values["stage"]
        check_project(session, {**current, **values}, current, confirmed=confirmed)
        return values

    def insert_row(self, session: Session, values: dict[str, Any]) -> dict[str, Any]:
        reason, note = values.pop("stage_reason"), values.pop("stage_note")
        with stage_settings(session, on=None, reason=reason, note=note):
            return super().insert_row(session, values)

    def order_by(self, raw: str | None) -> list[ColumnElement]:
        order = super().order_by(raw)  # validates the names
        names = (
            [p.strip() for p in raw.split(",") if p.strip()] if raw else list(self.default_ordering)
        )
        for index, name in enumerate(names):
            bare = name.lstrip("-")
            if bare in self.sort_keys:
                key = self.sort_keys[bare]()
                order[index] = (
                    key.desc().nulls_last() if name.startswith("-") else key.asc().nulls_last()
                )
        return order


def _search(q: str) -> ColumnElement:
    return or_(
        Project.name.icontains(q, autoescape=True),
        Project.investor_name.icontains(q, autoescape=True),
    )


projects = ProjectResource(
    # A project is its planning unit's office's and its chain's office's; the city bureau's.
    sees=lambda: by_unit(
        N_("%(unit)s sees and changes the projects of its own planning unit or chains only"),
        district=lambda district: Project.district_id == district,
        chains=lambda chains: Project.chain_id == any_(chains),
    ),
    name="projects",
    messages=(N_("no project %(key)r"), N_("project %(id)s is still referenced by %(referrers)s")),
    model=Project,
    read=ProjectRead,
    create=ProjectCreate,
    update=ProjectUpdate,
    description="Investment projects (招商项目), amounts in 亿元. The stage is set on creation "
    "and then moved with POST /projects/{id}/stage; its history is at /projects/{id}/stage-events",
    refs=[
        Ref("chain_id", Chain, "code", "chain"),
        Ref("district_id", District, "code", "district"),
        Ref("investor_id", Enterprise, "uscc", "enterprise"),
        Ref("chain_master_id", Enterprise, "uscc", "enterprise"),
    ],
    filters={
        "chain_id": int,
        "segment_id": int,
        "district_id": int,
        "investor_id": int,
        "chain_master_id": int,
        "kind": ProjectKind,
        "parent_id": int,
        "lead_id": int,
        "channel": Channel,
        "stage": Stage,
        "review_status": ReviewStatus,
        "capital_origin": CapitalOrigin,
        "size_class": SizeClass,
        "is_key": bool,
        "name": str,
        "investor_name": str,
        "signed_on": date,
        "agreed_start_on": date,
        "construction_started_on": date,
        "production_started_on": date,
        "capacity_reached_on": date,
        "dropped_on": date,
        "agreed_investment_cny_100m": Decimal,
        "funds_arrived_cny_100m": Decimal,
    },
    expressions={
        # By natural key, e.g. ?chain=automotive&district=370102
        "chain": (
            str,
            lambda: select(Chain.code).where(Chain.id == Project.chain_id).scalar_subquery(),
        ),
        "district": (
            str,
            lambda: (
                select(District.code).where(District.id == Project.district_id).scalar_subquery()
            ),
        ),
    },
    ordering=(
        "id",
        "name",
        "stage",
        "signed_on",
        "agreed_start_on",
        "construction_started_on",
        "production_started_on",
        "capacity_reached_on",
        "dropped_on",
        "agreed_investment_cny_100m",
        "funds_arrived_cny_100m",
        "chain_id",
        "district_id",
        "created_at",
        "updated_at",
    ),
    search=_search,
    keyset=True,
    import_key=("name",),
)

EVENTS = TypeAdapter(list[StageEventRead])
RESPONSES: dict[Any, Any] = dict(ERRORS)


def _stage_blueprint() -> APIBlueprint:
    bp = APIBlueprint(
        "project_stage",
        __name__,
        url_prefix="/api/v1/projects",
        abp_tags=[Tag(name="projects")],
        abp_security=[{"bearer": []}],
        abp_responses=RESPONSES,
    )

    def move(id: str, path: PathId = None, body: StageMove = None):  # type: ignore[assignment]
        # Validated here rather than by flask-openapi3, so that errors take the API's shape.
        values = parse_body(StageMove, json_body())
        if request.if_match:  # the ETag is of the record as read: read it first, then move
            if not is_id(id):
                raise projects.not_found(id)
            session = db.session
            projects.check_if_match(projects.get(session, id, lock=True))
            row = _move(session, {"id": id}, values)
            session.commit()
        else:
            with db.one_statement() as connection:  # the move and its history: one statement
                row = _move(connection, {"id": id}, values)
        return projects.detail_response(row)

    move.__delay_validate_request__ = True  # type: ignore[attr-defined]
    bp.post(
        "/<id>/stage",
        summary="Move a project to another stage (backwards, dropping or reviving needs a reason)",
        description="Sets the stage's date column to `date` (unless the project keeps one from "
        "reaching that stage before), empties the dates of stages above the new one, and records "
        "the move with its date, reason, note and actor in the stage history. Honours If-Match.",
        responses={200: ProjectRead},
        operation_id="move_project_stage",
    )(move)

    @bp.get(
        "/<id>/stage-events",
        summary="A project's stage history, oldest first",
        responses={200: None},
        operation_id="list_project_stage_events",
    )
    def events(path: PathId):
        session = db.session
        project_id = projects.find_id(session, path.id)
        status = session.scalar(select(Project.review_status).where(Project.id == project_id))
        approval = last_approval(session=session, project_id=project_id)
        rows = [
            {
                **StageEventRead.model_validate(event).model_dump(),
                "review_status": stage_review_status(event.id, status or "", approval),
            }
            for event in stage_events(session=session, project_id=project_id)
        ]
        return Response(EVENTS.dump_json(EVENTS.validate_python(rows)), mimetype="application/json")

    return bp


def _move(
    session: Session | Connection, args: dict[str, Any], values: dict[str, Any]
) -> dict[str, Any]:
    """The stage move of the project args["id"] (the body's values, as parse_body(StageMove)
    gives them), as the route and the fast path (chaindb.api.fast) make it; the project as the
    API answers it."""
    key = args["id"]
    if not is_id(key):
        raise projects.not_found(key)
    given = StageMove(**values)
    row = move_stage(
        session=session,
        project_id=int(key),
        stage=given.stage,
        on=given.date,
        reason=given.reason,
        note=given.note,
        missing=lambda: projects.not_found(key),
        outside=projects.out_of_scope,
    )
    return {c.name: row[c.name] for c in projects.columns}


def register(app: OpenAPI) -> None:
    app.register_api(projects.blueprint())
    app.register_api(_stage_blueprint())
    # With If-Match the project is read first (two statements): Flask answers it.
    answer_in_front(
        app,
        "project_stage.move",
        OneStatementWrite(StageMove, _move, projects, to_flask=("HTTP_IF_MATCH",)),
    )
