"""Users and their API tokens (admins only), and GET /api/v1/me (everyone).

A user is addressed by id or username. A token is shown in full once, in the answer that creates
it; lists show its prefix, name, expiry and status, never the token or its hash. Revoking keeps
the token's row (and its history): DELETE /tokens/{id} and POST /tokens/{id}/revoke both revoke.
Users are deactivated (PATCH active=false), not deleted, and the last active admin stays one.
"""

from typing import Any

from flask import Response, g, request, url_for
from flask_openapi3 import OpenAPI, Tag
from pydantic import BaseModel, TypeAdapter
from sqlalchemy import BigInteger, ColumnElement, Select, bindparam, case, func, or_, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from chaindb import access
from chaindb.access import Role, require
from chaindb.api.blueprint import APIBlueprint
from chaindb.api.resource import Resource, Scope
from chaindb.api.responses import json_body
from chaindb.api.routes import ERRORS
from chaindb.api.schemas import FieldsQuery, PathId, parse_body
from chaindb.auth.models import ApiToken, User
from chaindb.auth.schemas import (
    TokenCreate,
    TokenCreated,
    TokenRead,
    UserCreate,
    UserRead,
    UserUpdate,
)
from chaindb.auth.service import create_token, create_user, revoke_token
from chaindb.db import db, is_id
from chaindb.errors import N_, Conflict, Invalid, Message, NotFound, Unauthorized
from chaindb.units.models import Unit
from chaindb.units.service import find_unit

TOKEN_LIST = TypeAdapter(list[TokenRead])
NO_STORE = {"Cache-Control": "no-store"}


class Users(Resource):
    """The users table as a resource: for its list (filters, ordering, pages) and its reads."""

    def select(self) -> Select:
        unit = select(Unit.name_zh).where(Unit.id == User.unit_id).scalar_subquery()
        code = select(Unit.code).where(Unit.id == User.unit_id).scalar_subquery()
        return (
            super()
            .select()
            .add_columns(
                User.password_hash.is_not(None).label("has_password"),
                unit.label("unit_name"),
                code.label("unit"),
            )
        )

    def scope(self) -> Scope | None:
        """The city bureau's administrators manage every user; another unit's, its own."""
        principal = access.current()
        if principal is None or principal.scope.everything:
            return None
        return Scope(
            "unit",
            User.unit_id == bindparam("scope_unit", type_=BigInteger),
            {"scope_unit": principal.scope.unit_id},
            Message(N_("%(unit)s manages its own users only"), {"unit": principal.scope.name}),
        )

    def by_id(self, session: Session, user_id: int) -> dict[str, Any]:
        return dict(session.execute(self.select().where(User.id == user_id)).mappings().one())

    def key_lookups(self, key: str) -> list[tuple[str, Any]]:
        """By username (regardless of case), else by id."""
        lookups: list[tuple[str, Any]] = [("username", key.lower())]
        if is_id(key):
            lookups.append(("id", int(key)))
        return lookups

    def lookup_clause(self, lookup: str) -> ColumnElement:
        if lookup == "username":
            return func.lower(User.username) == bindparam("value")
        return super().lookup_clause(lookup)


users = Users(
    name="users",
    messages=(N_("no user %(key)r"), N_("user %(id)s is still referenced by %(referrers)s")),
    model=User,
    read=UserRead,
    create=UserCreate,
    update=UserUpdate,
    description="Users and their API tokens (admins only)",
    filters={"username": str, "display_name": str, "role": Role, "active": bool},
    ordering=("id", "username", "role", "active", "created_at"),
    default_ordering=("username",),
    search=lambda q: or_(User.username.ilike(f"%{q}%"), User.display_name.ilike(f"%{q}%")),
    exports=False,
)

TOKEN_STATUS = case(
    (ApiToken.revoked_at.is_not(None), "revoked"),
    (ApiToken.expires_at.is_not(None) & (ApiToken.expires_at <= func.now()), "expired"),
    else_="live",
).label("status")


def _tokens() -> Select:
    return select(
        ApiToken.id,
        ApiToken.user_id,
        ApiToken.name,
        ApiToken.token_prefix,
        ApiToken.expires_at,
        ApiToken.revoked_at,
        ApiToken.last_used_at,
        ApiToken.created_at,
        TOKEN_STATUS,
    )


def _token(session: Session, raw: str, *, lock: bool = False) -> dict[str, Any]:
    row = None
    if is_id(raw):
        stmt = _tokens().where(ApiToken.id == int(raw))
        row = (
            session.execute(stmt.with_for_update(of=ApiToken) if lock else stmt).mappings().first()
        )
    if row is None:
        raise NotFound("no token %(key)r", params={"key": raw})
    return dict(row)


def _validate(schema: type[BaseModel], body: Any, **dump: Any) -> dict[str, Any]:
    return parse_body(schema, body, **dump)


def _json(adapter_or_model: Any, value: Any, status: int = 200, **headers: str) -> Response:
    if isinstance(adapter_or_model, TypeAdapter):
        body = adapter_or_model.dump_json(adapter_or_model.validate_python(value))
    else:
        body = adapter_or_model.model_validate(value).model_dump_json().encode()
    return Response(body, status=status, mimetype="application/json", headers=headers)


# --- the rules ---------------------------------------------------------------------------------


def create_in_scope(session: Session, values: dict[str, Any]) -> User:
    """A user of the unit named (the administrator's own when none is), which must be one the
    administrator manages."""
    principal = access.current()
    unit = values.pop("unit", None)
    if unit is None:
        unit = principal.scope.unit_id if principal is not None else "city"
    user = create_user(session=session, unit=unit, **values)
    users.within_scope(session, user.id)
    return user


def update_user(session: Session, key: str, changes: dict[str, Any]) -> dict[str, Any]:
    for name in ("role", "active"):
        if name in changes and changes[name] is None:
            raise Invalid("%(name)s cannot be empty", params={"name": name}, field=name)
    admins: list[int] = []
    if "role" in changes or "active" in changes:
        # Lock the active admins first, always in one order, so that two admins demoting each
        # other at once neither leave no admin nor deadlock.
        admins = list(
            session.scalars(
                select(User.id)
                .where(User.role == Role.ADMIN, User.active.is_(True))
                .order_by(User.id)
                .with_for_update()
            )
        )
    current = users.get(session, key, lock=True)
    users.check_if_match(current)
    demoted = changes.get("role", current["role"]) != Role.ADMIN
    deactivated = changes.get("active", current["active"]) is False
    if current["id"] in admins and (demoted or deactivated) and set(admins) == {current["id"]}:
        raise Conflict(
            "this is the last active admin; make another user admin first",
            field="role" if demoted else "active",
        )
    user = session.get(User, current["id"])
    assert user is not None
    for name in ("role", "active", "display_name"):
        if name in changes:
            setattr(user, name, changes[name])
    if changes.get("unit") is not None:
        user.unit_id = find_unit(session, changes["unit"]).id
    if "password" in changes:
        password = changes["password"]
        user.password_hash = generate_password_hash(password) if password else None
    session.flush()
    users.within_scope(session, current["id"])  # an administrator moves users among its own
    return users.by_id(session, current["id"])


def revoke(session: Session, raw: str) -> dict[str, Any]:
    """Revoke a token; revoking a revoked token changes nothing (and is no error)."""
    token = _token(session, raw, lock=True)
    if token["revoked_at"] is None:
        revoke_token(session=session, token_id=token["id"])
    return _token(session, raw)


# --- routes ------------------------------------------------------------------------------------


def admin_blueprint() -> APIBlueprint:
    bp = APIBlueprint(
        "user",  # so that Resource.detail_response finds user.read for Location
        __name__,
        url_prefix="/api/v1",
        abp_tags=[Tag(name="users", description=users.description)],
        abp_security=[{"bearer": []}],
        abp_responses=ERRORS,
    )
    bp.before_request(lambda: require(Role.ADMIN))  # after authentication, before any view

    user_query, user_page = users.query_model, users.sparse_page
    sparse_page = TypeAdapter(users.sparse_page)

    def list_users(query: user_query = None):  # type: ignore[valid-type]
        page = users.list_page(db.session, request.args)
        if "fields" not in request.args:
            return _json(users.page_adapter, page)
        # Only the fields asked for: those left out are not written as null.
        body = sparse_page.dump_json(sparse_page.validate_python(page), exclude_unset=True)
        return Response(body, mimetype="application/json")

    def create_user_(body: UserCreate = None):
        values = _validate(UserCreate, json_body())
        session = db.session
        user = create_in_scope(session, values)
        row = users.by_id(session, user.id)
        session.commit()
        return users.detail_response(row, 201)

    def read_user(path: PathId, query: FieldsQuery = None):  # type: ignore[assignment]
        fields = users.wanted_fields(request.args)
        return users.detail_response(users.sparse(users.get(db.session, path.id), fields))

    def update_user_(id: str, path: PathId = None, body: UserUpdate = None):
        changes = _validate(UserUpdate, json_body(), exclude_unset=True)
        row = update_user(db.session, id, changes)
        db.session.commit()
        return users.detail_response(row)

    def create_token_(id: str, path: PathId = None, body: TokenCreate = None):
        values = _validate(TokenCreate, json_body() or {})
        session = db.session
        user = session.get(User, users.find_id(session, id))
        assert user is not None
        if not user.active:
            raise Conflict(
                "user %(username)s is deactivated; activate it first",
                params={"username": user.username},
                field="user_id",
            )
        token, plain = create_token(session=session, user=user, **values)
        row = {**_token(session, str(token.id)), "token": plain}
        session.commit()
        location = url_for("user.read_token", id=token.id)
        return _json(TokenCreated, row, 201, Location=location, **NO_STORE)

    def list_tokens(path: PathId):
        session = db.session
        user_id = users.find_id(session, path.id)
        rows = session.execute(
            _tokens().where(ApiToken.user_id == user_id).order_by(ApiToken.id)
        ).mappings()
        return _json(TOKEN_LIST, list(rows))

    def read_token(path: PathId):
        return _json(TokenRead, _token(db.session, path.id))

    def revoke_token_(path: PathId):
        row = revoke(db.session, path.id)
        db.session.commit()
        return _json(TokenRead, row)

    def delete_token(path: PathId):
        revoke(db.session, path.id)
        db.session.commit()
        return Response(status=204)

    for view in (list_users, create_user_, update_user_, create_token_):
        view.__delay_validate_request__ = True  # type: ignore[attr-defined]  # errors in our shape

    bp.get("/users", summary="List users", responses={200: user_page}, operation_id="list_user")(
        list_users
    )
    bp.post(
        "/users",
        summary="Create a user (the password, if any, is stored hashed)",
        responses={201: UserRead},
        operation_id="create_user",
    )(create_user_)
    bp.get(
        "/users/<id>",
        summary="Read a user (by id or username)",
        responses={200: users.read_or_sparse},
        operation_id="read_user",
        endpoint="read",
    )(read_user)
    bp.patch(
        "/users/<id>",
        summary="Change a user's role, display name, active flag or password",
        responses={200: UserRead},
        operation_id="update_user",
    )(update_user_)
    bp.post(
        "/users/<id>/tokens",
        summary="Create an API token for the user; the answer shows the token, this once only",
        responses={201: TokenCreated},
        operation_id="create_token",
    )(create_token_)
    bp.get(
        "/users/<id>/tokens",
        summary="The user's tokens: prefix, name, expiry, status; never the token",
        responses={200: None},
        operation_id="list_user_tokens",
    )(list_tokens)
    bp.get(
        "/tokens/<id>",
        summary="Read a token (never the token itself)",
        responses={200: TokenRead},
        operation_id="read_token",
        endpoint="read_token",
    )(read_token)
    bp.post(
        "/tokens/<id>/revoke",
        summary="Revoke a token (no error if it already is)",
        responses={200: TokenRead},
        operation_id="revoke_token",
    )(revoke_token_)
    bp.delete(
        "/tokens/<id>",
        summary="Revoke a token (its row stays, marked revoked)",
        responses={204: None},
        operation_id="delete_token",
    )(delete_token)
    return bp


def me_blueprint() -> APIBlueprint:
    bp = APIBlueprint(
        "me",
        __name__,
        url_prefix="/api/v1/me",
        abp_tags=[Tag(name="users")],
        abp_security=[{"bearer": []}],
        abp_responses=ERRORS,
    )

    @bp.get("", summary="Who you are", responses={200: UserRead}, operation_id="read_me")
    def me():
        principal = g.get("principal")
        if principal is None:  # the API's authentication runs first; this is a safeguard
            raise Unauthorized("send an API token: Authorization: Bearer <token>")
        return users.detail_response(users.by_id(db.session, principal.user_id))

    return bp


def register(app: OpenAPI) -> None:
    app.register_api(admin_blueprint())
    app.register_api(me_blueprint())
