"""The JSON API under /api/v1: authentication, request ids, media types, the resources."""

from __future__ import annotations

import os
import re
from typing import Any

from flask import Request, current_app, g, request
from flask_openapi3 import OpenAPI

from chaindb.api.docs import PUBLIC_PREFIXES as DOCS_PAGE
from chaindb.errors import BadRequest, Unauthorized, UnsupportedMediaType

PUBLIC_PATHS = {"/healthz", "/readyz"}
READ_METHODS = {"GET", "HEAD", "OPTIONS"}
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def init_api(app: OpenAPI) -> None:
    """The API's own hooks and pages; each domain registers its resources (create_app)."""
    app.extensions.setdefault("chaindb.api.authenticate", _nobody)
    app.before_request(_before_request)
    app.after_request(_echo_request_id)
    from chaindb.api.docs import bp as docs

    app.register_blueprint(docs)


def _before_request() -> None:
    """One hook, not three: Flask pays for each hook it calls on every request. The request and
    g are looked up once (each use of Flask's context proxies costs a lookup)."""
    req, ctx = request._get_current_object(), g._get_current_object()  # type: ignore[attr-defined]
    _assign_request_id(req, ctx)
    path = req.path
    if not path.startswith("/api/"):
        return
    if path not in PUBLIC_PATHS and not path.startswith(DOCS_PAGE):
        # Who asks, and whether they may: the auth domain's gate (chaindb.auth.gate).
        current_app.extensions["chaindb.api.authenticate"](req, ctx)
    if req.method not in READ_METHODS and req.method != "DELETE":
        _check_body(req)


def _assign_request_id(req: Request, ctx: Any) -> None:
    given = req.headers.get("X-Request-ID", "")
    ctx.request_id = given if REQUEST_ID.match(given) else new_request_id()


def new_request_id() -> str:
    """A request id of our own: 128 random bits in hex (as a UUID4's hex, without the object)."""
    return os.urandom(16).hex()


def _echo_request_id(response):
    ctx = g._get_current_object()  # type: ignore[attr-defined]
    if "request_id" in ctx:
        response.headers["X-Request-ID"] = ctx.request_id
    return response


def _nobody(req: Request, ctx: Any) -> None:
    """The gate of an app that registered none: nobody gets in."""
    raise Unauthorized("send an API token: Authorization: Bearer <token>")


# The routes that take a file (multipart/form-data, or the file as the body), by the end of
# their path: the imports, and whatever a domain adds (accept_files).
FILE_ROUTES: set[str] = {"/import"}


def accept_files(path_end: str) -> None:
    """Let the API's routes whose path ends in `path_end` take files, not only JSON."""
    FILE_ROUTES.add(path_end)


def _check_body(req: Request) -> None:
    if req.content_length == 0 or (not req.data and req.content_type is None):
        return
    if req.mimetype != "application/json" and not req.path.endswith(tuple(FILE_ROUTES)):
        raise UnsupportedMediaType(
            "send JSON (Content-Type: application/json), not %(type)s",
            params={"type": req.mimetype or "no type"},
            field="Content-Type",
        )
    if req.mimetype == "application/json" and req.get_json(silent=True) is None and req.data:
        raise BadRequest("the body is not valid JSON", field="body")
