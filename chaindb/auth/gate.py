"""The gates of the API and the pages: who a request acts for (a bearer token, the signed-in
user), checked once per request; chaindb.access says what they may do."""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, current_app, request

from chaindb.access import Principal, Role
from chaindb.auth.models import User
from chaindb.auth.service import TokenCache, authenticate_token, hash_token, session_user
from chaindb.db import db
from chaindb.errors import Forbidden, Unauthorized
from chaindb.units.service import scope_of

READ_METHODS = {"GET", "HEAD", "OPTIONS"}
USER_PATHS = ("/api/v1/users", "/api/v1/tokens")


def init_gates(app: Flask) -> None:
    cache = TokenCache(app.config["SETTINGS"].token_cache_seconds)
    app.extensions["chaindb.token_cache"] = cache
    # The principal of a token trusted a moment ago, without a database: the reads answered in
    # front of Flask (chaindb.api.fast) take no other.
    app.extensions["chaindb.api.cached_principal"] = lambda token: app.extensions[
        "chaindb.token_cache"
    ].get(hash_token(token))
    app.extensions["chaindb.api.authenticate"] = authenticate
    app.extensions["chaindb.web.principal"] = principal_of
    app.after_request(_forget_tokens)
    from chaindb.web import login_manager

    login_manager.user_loader(load_user)


def authenticate(req: Request, ctx: Any) -> None:
    """The API's gate: the bearer token names the principal, whose role must allow the method."""
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
    if principal is None:
        raise Unauthorized("the token is unknown, expired or revoked")
    ctx.principal = principal
    # The lookup may have opened a handle before anyone knew who asks: it acts for them now.
    db.act_now()
    needed = Role.VIEWER if reads else Role.EDITOR
    if not principal.may(needed):
        raise Forbidden(
            "your role (%(role)s) may not %(method)s here; it needs %(needed)s",
            params={"role": principal.role, "method": req.method, "needed": needed},
        )


def _forget_tokens(response):
    changed = response.status_code < 400 and request.method not in READ_METHODS
    if changed and request.path.startswith(USER_PATHS):
        # Users, roles or tokens changed: this worker forgets the tokens it trusted.
        current_app.extensions["chaindb.token_cache"].clear()
    return response


def principal_of(user: User) -> Principal:
    """The principal of the pages' signed-in user: who, their role, their unit's scope."""
    return Principal(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        scope=scope_of(db.session, user.unit_id),
    )


def load_user(value: str) -> User | None:
    """The signed-in user of the pages, from the session cookie's id (which changes with the
    password, so that a changed password signs out every other session)."""
    return session_user(db.session, value)
