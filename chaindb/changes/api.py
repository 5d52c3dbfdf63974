"""The change log, read-only: GET /api/v1/changes (newest first) and GET /api/v1/changes/{id}.

Filters work as on every resource (table_name=..., actor__in=..., occurred_at__gte=...); pages
go by id rather than by offset, so that a log that grows while it is read neither repeats nor
skips a row: `before=<id>` pages back from the newest (the default), `after=<id>` reads forward
from a change you already have (oldest first), which is how a client follows the log.

The writes of users and tokens (tables app_user, api_token) are shown to admins only, as the
users they describe are.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from flask import Response, g, request, url_for
from flask_openapi3 import OpenAPI, Tag
from pydantic import Field, create_model
from werkzeug.datastructures import MultiDict

from chaindb.access import Role
from chaindb.api.blueprint import APIBlueprint
from chaindb.api.query import DEFAULT_LIMIT, MAX_LIMIT
from chaindb.api.resource import Resource
from chaindb.api.routes import ERRORS
from chaindb.api.schemas import CachedSchema, PathId
from chaindb.changelog import Change, ChangeRead
from chaindb.db import db, is_id
from chaindb.errors import N_, Invalid, NotFound

ADMIN_ONLY_TABLES = ("app_user", "api_token")
PAGING = ("before", "after", "limit")
NOT_HERE = {
    "offset": "the change log pages by id: use before=<id> (or after=<id>), not offset",
    "ordering": "the change log is newest first; use after=<id> to read it oldest first",
    "cursor": "the change log pages by id: use before=<id> (or after=<id>)",
    "fields": "the change log answers whole entries; leave out fields",
    "q": "the change log has no search; filter by table_name, record_id, actor, request_id ...",
}


class ChangeAction(StrEnum):
    INSERT = "insert"
    UPDATE = "update"
    DELETE = "delete"


# Used for its filters (the same lookups as everywhere) and its page schema; it has no routes
# of its own: the change log is written by the database's triggers only.
log = Resource(
    name="changes",
    messages=(N_("no change %(key)r"), N_("change %(id)s is still referenced by %(referrers)s")),
    model=Change,
    read=ChangeRead,
    create=ChangeRead,
    description="The change log: every insert, update and delete, with the values before and "
    "after, the actor and the request id",
    filters={
        "table_name": str,
        "record_id": int,
        "action": ChangeAction,
        "actor": str,
        "request_id": str,
        "occurred_at": datetime,
        "transaction_id": int,
    },
    exports=False,
)


def _query_model() -> type[CachedSchema]:
    fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in log.query_model.model_fields.items()
        if name not in NOT_HERE
    }
    fields["before"] = (
        int | None,
        Field(None, ge=1, description="Newest first (the default): changes with an id below this"),
    )
    fields["after"] = (
        int | None,
        Field(None, ge=0, description="Oldest first: changes with an id above this one"),
    )
    return create_model("ChangeQuery", __base__=CachedSchema, **fields)


ChangeQuery = _query_model()


def _id_param(args: MultiDict, name: str, low: int, high: int | None = None) -> int | None:
    raw = args.get(name)
    if raw is None or raw == "":
        return None
    if not is_id(raw):
        raise Invalid("%(name)s must be a whole number", params={"name": name}, field=name)
    value = int(raw)
    if high is not None and not low <= value <= high:
        raise Invalid(
            "%(name)s must be between %(low)s and %(high)s",
            params={"name": name, "low": low, "high": high},
            field=name,
        )
    if value < low:
        raise Invalid(
            "%(name)s must be at least %(low)s", params={"name": name, "low": low}, field=name
        )
    return value


def _visible() -> list[Any]:
    principal = g.get("principal")
    if principal is not None and principal.may(Role.ADMIN):
        return []
    return [Change.table_name.not_in(ADMIN_ONLY_TABLES)]


def list_changes(args: MultiDict) -> dict[str, Any]:
    for name, message in NOT_HERE.items():
        if name in args:
            raise Invalid(message, field=name)
    limit = _id_param(args, "limit", 1, MAX_LIMIT) or DEFAULT_LIMIT
    before = _id_param(args, "before", 1)
    after = _id_param(args, "after", 0)
    if before is not None and after is not None:
        raise Invalid("give before or after, not both", field="after")
    filters = MultiDict([(k, v) for k, v in args.items(multi=True) if k not in PAGING])
    clauses = [*log.where(filters), *_visible()]
    if after is not None:
        clauses.append(Change.id > after)
        order = Change.id.asc()
    else:
        if before is not None:
            clauses.append(Change.id < before)
        order = Change.id.desc()
    rows = list(
        db.session.execute(log.select().where(*clauses).order_by(order).limit(limit + 1)).mappings()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    next_url = None
    if more:
        params = MultiDict(args)
        params.setlist("after" if after is not None else "before", [str(rows[-1]["id"])])
        next_url = url_for(request.endpoint, _external=True, **params.to_dict(flat=False))  # type: ignore[arg-type]
    return {"count": None, "next": next_url, "previous": None, "results": rows}


def blueprint() -> APIBlueprint:
    bp = APIBlueprint(
        "change",
        __name__,
        url_prefix="/api/v1/changes",
        abp_tags=[Tag(name="changes", description=log.description)],
        abp_security=[{"bearer": []}],
        abp_responses=ERRORS,
    )

    def list_(query: ChangeQuery = None):  # type: ignore[valid-type]
        page = list_changes(request.args)
        return Response(
            log.page_adapter.dump_json(log.page_adapter.validate_python(page)),
            mimetype="application/json",
        )

    def read_(path: PathId):
        raw = path.id
        row = None
        if is_id(raw):
            row = (
                db.session.execute(log.select().where(Change.id == int(raw), *_visible()))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound("no change %(key)r", params={"key": raw})
        return Response(log.dump(dict(row)), mimetype="application/json")

    list_.__delay_validate_request__ = True  # type: ignore[attr-defined]  # errors in our shape
    bp.get(
        "",
        summary="The change log, newest first; before=<id> pages back, after=<id> reads forward",
        responses={200: log.page},
        operation_id="list_change",
    )(list_)
    bp.get(
        "/<id>",
        summary="One change",
        responses={200: ChangeRead},
        operation_id="read_change",
        endpoint="read",
    )(read_)
    return bp


def register(app: OpenAPI) -> None:
    app.register_api(blueprint())
