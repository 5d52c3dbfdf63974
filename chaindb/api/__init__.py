"""The JSON API under /api/v1: authentication, request ids, media types, the resources."""

from __future__ import annotations

import re
import uuid
from typing import Any

from flask import Request, current_app, g, request
from flask_openapi3 import OpenAPI
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from chaindb.api.docs import PUBLIC_PREFIXES as DOCS_PAGE
from chaindb.auth.models import Role
from chaindb.auth.service import Principal, TokenCache, authenticate_token, hash_token
from chaindb.db import db
from chaindb.errors import BadRequest, Forbidden, Unauthorized, UnsupportedMediaType

PUBLIC_PATHS = {"/healthz", "/readyz"}
USER_PATHS = ("/api/v1/users", "/api/v1/tokens")
READ_METHODS = {"GET", "HEAD", "OPTIONS"}
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def init_api(app: OpenAPI) -> None:
    """The API's own hooks and pages; each domain registers its resources (create_app)."""
    app.extensions["chaindb.token_cache"] = TokenCache(app.config["SETTINGS"].token_cache_seconds)
    app.before_request(_before_request)
    app.after_request(_echo_request_id)
    # A listener on the Session class serves every app; each create_app must not add another.
    if not event.contains(Session, "after_begin", _stamp_transaction):
        event.listen(Session, "after_begin", _stamp_transaction)

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
        _authenticate(req, ctx)
    if req.method not in READ_METHODS and req.method != "DELETE":
        _check_body(req)


def _assign_request_id(req: Request, ctx: Any) -> None:
    given = req.headers.get("X-Request-ID", "")
    ctx.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex


def _echo_request_id(response):
    ctx = g._get_current_object()  # type: ignore[attr-defined]
    if "request_id" in ctx:
        response.headers["X-Request-ID"] = ctx.request_id
    changed = response.status_code < 400 and request.method not in READ_METHODS
    if changed and request.path.startswith(USER_PATHS):
        # Users, roles or tokens changed: this worker forgets the tokens it trusted.
        current_app.extensions["chaindb.token_cache"].clear()
    return response


def _authenticate(req: Request, ctx: Any) -> None:
    header = req.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send an API token: Authorization: Bearer <token>")
    cache: TokenCache = current_app.extensions["chaindb.token_cache"]
    # A token checked a moment ago needs no database (nor a session) to be trusted again.
    principal = cache.get(hash_token(token.strip()))
    reads = req.method in READ_METHODS
    if principal is None:
        session = db.session
        principal = authenticate_token(session=session, plain=token.strip(), cache=cache)
        if session.info.pop("token_stamped", False):
            session.commit()  # keep the last_used_at stamp, whatever becomes of the request
        if principal is not None and not reads and session.in_transaction():
            # The lookup began this transaction before anyone knew who asks: stamp it now.
            ctx.principal = principal
            _stamp(session.connection())
    if principal is None:
        raise Unauthorized("the token is unknown, expired or revoked")
    ctx.principal = principal
    needed = Role.VIEWER if reads else Role.EDITOR
    if not principal.may(needed):
        raise Forbidden(
            "your role (%(role)s) may not %(method)s here; it needs %(needed)s",
            params={"role": principal.role, "method": req.method, "needed": needed},
        )


def require(role: Role) -> None:
    principal: Principal | None = g.get("principal")
    if principal is None or not principal.may(role):
        raise Forbidden("this needs the %(role)s role", params={"role": role})


def _check_body(req: Request) -> None:
    if req.content_length == 0 or (not req.data and req.content_type is None):
        return
    if req.mimetype != "application/json" and not req.path.endswith("/import"):
        raise UnsupportedMediaType(
            "send JSON (Content-Type: application/json), not %(type)s",
            params={"type": req.mimetype or "no type"},
            field="Content-Type",
        )
    if req.mimetype == "application/json" and req.get_json(silent=True) is None and req.data:
        raise BadRequest("the body is not valid JSON", field="body")


def _stamp_transaction(session: Session, transaction, connection) -> None:
    """Every transaction of a request tells the database's triggers who writes, and why."""
    from flask import has_request_context

    if not has_request_context() or request.method in READ_METHODS or "principal" not in g:
        return  # reads record nothing; the token lookup's transaction is stamped once known
    _stamp(connection)


def _stamp(connection) -> None:
    principal = g.get("principal")
    connection.execute(
        text(
            "SELECT set_config('chaindb.actor', :actor, true), "
            "set_config('chaindb.request_id', :request_id, true)"
        ),
        {"actor": principal.username if principal else "", "request_id": g.get("request_id", "")},
    )
