"""The routes of a resource, generated from its declaration (chaindb.api.resource): thin, each
reads the request and hands it to the resource's jobs (query, reads, writes, transfer)."""

from typing import TYPE_CHECKING

from flask import Response, request
from flask_babel import gettext
from flask_openapi3 import Tag
from pydantic import RootModel, TypeAdapter

from chaindb.api import transfer
from chaindb.api.blueprint import APIBlueprint
from chaindb.api.responses import json_body, to_json
from chaindb.api.schemas import FieldsQuery, PathId
from chaindb.changelog import ChangeRead
from chaindb.db import db
from chaindb.errors import CONFIRMATIONS, ErrorBody, Invalid

if TYPE_CHECKING:
    from chaindb.api.resource import Resource

HISTORY = TypeAdapter(list[ChangeRead])
# A list's layouts (?layout=): rows as they are, or the sheet an office files (an export's).
LAYOUTS = ("raw", "office")
ERRORS = {400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody,
          412: ErrorBody, 415: ErrorBody, 422: ErrorBody}  # fmt: skip


def blueprint(resource: "Resource") -> APIBlueprint:
    """The routes of a resource: list (and export), create (one or many), read, update, replace,
    import, history and delete; thin, each handing the request to the resource's jobs."""
    bp = APIBlueprint(
        resource.singular,
        __name__,
        url_prefix=f"/api/v1/{resource.name}",
        abp_tags=[Tag(name=resource.name, description=resource.description)],
        abp_security=[{"bearer": []}],
        abp_responses=ERRORS,
    )
    query_model, create_model_, update_model, read_model = (
        resource.query_model,
        resource.create,
        resource.update,
        resource.read,
    )
    what = resource.singular.replace("_", " ")
    # A POST to a collection takes one item, or a list of them created all or none.
    create_body = RootModel[create_model_ | list[create_model_]]  # type: ignore[valid-type]
    create_body.__name__ = f"{create_model_.__name__}OrList"
    created = RootModel[read_model | list[read_model]]  # type: ignore[valid-type]
    created.__name__ = f"{read_model.__name__}OrList"

    def list_(query: query_model = None):  # type: ignore[valid-type]
        if request.args.get("format", "json") not in ("json", "csv", "xlsx"):
            raise Invalid("format must be json, csv or xlsx", field="format")
        if request.args.get("layout", "raw") not in LAYOUTS:
            raise Invalid("layout must be raw or office", field="layout")
        if request.args.get("format", "json") != "json":
            office = None
            if request.args.get("layout") == "office":
                office = transfer.Office(
                    title=str(resource.sheet_title or resource.name),
                    sheet_name=str(resource.sheet_title or resource.name),
                    facts=[transfer.exported_at()],
                    yes=gettext("yes"),
                    no=gettext("no"),
                )
            return transfer.export(
                resource, db.streaming_session, request.args["format"], office=office
            )
        return Response(
            to_json(resource.list_page(db.reader, request.args)), mimetype="application/json"
        )

    def create_(body: create_body = None):  # type: ignore[valid-type]
        payload = json_body()
        session = db.session
        if isinstance(payload, list):
            if not payload:
                raise Invalid("give at least one item to create", field="body")
            rows = resource.create_many(session, payload)
            session.commit()
            return Response(
                to_json(rows),
                status=201,
                mimetype="application/json",
            )
        row = resource.create_one(session, payload)
        session.commit()
        return resource.detail_response(row, 201)

    def read_(id: str, path: PathId = None, query: FieldsQuery = None):  # type: ignore[assignment]
        # The path's id is any text and the query's fields are read here (wanted_fields): a
        # validation of both by flask-openapi3 on every read checked nothing more.
        fields = resource.wanted_fields(request.args)
        row = resource.sparse(resource.get(db.reader, id), fields)
        response = resource.detail_response(row)
        tag = response.headers["ETag"]  # the representation is written (and hashed) once
        if request.if_none_match and request.if_none_match.contains(tag.strip('"')):
            return Response(status=304, headers={"ETag": tag})
        return response

    def patch_(id: str, path: PathId = None, body: update_model = None):  # type: ignore[valid-type]
        # Validated here rather than by flask-openapi3, so that errors take the API's shape.
        row = resource.update_one(db.session, id, json_body(), replace=False)
        db.session.commit()
        return resource.detail_response(row)

    def put_(id: str, path: PathId = None, body: create_model_ = None):  # type: ignore[valid-type]
        row = resource.update_one(db.session, id, json_body(), replace=True)
        db.session.commit()
        return resource.detail_response(row)

    def history_(path: PathId):
        rows = resource.history(db.session, path.id)
        return Response(
            HISTORY.dump_json(HISTORY.validate_python(rows)), mimetype="application/json"
        )

    def import_():
        confirm = [c for c in request.args.get("confirm", "").split(",") if c in CONFIRMATIONS]
        status, summary = transfer.import_rows(
            resource,
            db.session,
            dry_run=request.args.get("dry_run") in ("1", "true"),
            confirm=confirm,
        )
        if summary["committed"]:
            db.session.commit()
        for row in summary["results"]:
            row.pop("_error", None)
        return summary, status

    def delete_(path: PathId):
        resource.delete_one(db.session, path.id)
        db.session.commit()
        return Response(status=204)

    for view in (list_, create_, read_, patch_, put_):
        view.__delay_validate_request__ = True  # type: ignore[attr-defined]  # validated here, errors in our shape
    bp.get(
        "",
        summary=f"List {resource.name}",
        description="With fields=id,name,…: each result holds only those fields (and id).",
        responses={200: resource.sparse_page},
        operation_id=f"list_{resource.singular}",
    )(list_)
    bp.post(
        "",
        summary=f"Create a {what} (or a JSON list of them, all or none)",
        responses={201: created},
        operation_id=f"create_{resource.singular}",
    )(create_)
    bp.get(
        "/<key:id>",
        summary=f"Read a {what}",
        description="With fields=id,name,…: only those fields (and id).",
        responses={200: resource.read_or_sparse, 304: None},
        operation_id=f"read_{resource.singular}",
        endpoint="read",
    )(read_)
    bp.patch(
        "/<key:id>",
        summary=f"Change some fields of a {what}",
        responses={200: read_model},
        operation_id=f"update_{resource.singular}",
    )(patch_)
    bp.put(
        "/<key:id>",
        summary=f"Replace a {what}",
        responses={200: read_model},
        operation_id=f"replace_{resource.singular}",
    )(put_)
    if resource.import_key:
        bp.post(
            "/import",
            summary=f"Import {resource.name} from CSV or XLSX (?dry_run=1 reports without writing); "
            f"rows match existing ones by {', '.join(resource.import_key)}; all rows or none",
            responses={200: None, 422: None},
            operation_id=f"import_{resource.singular}",
        )(import_)
    bp.get(
        "/<key:id>/history",
        summary=f"Every change of a {what}: action, values before and after, actor, request id",
        responses={200: None},
        operation_id=f"history_{resource.singular}",
    )(history_)
    bp.delete(
        "/<key:id>",
        summary=f"Delete a {what} (409 while something refers to it)",
        responses={204: None},
        operation_id=f"delete_{resource.singular}",
    )(delete_)
    return bp
