"""Who may do what: the roles, the principal a request acts for, and the checks the API and the
pages make of it. Shared machinery (chaindb.api, chaindb.web) and every domain ask here; the
auth domain decides who the principal is (a bearer token, a signed-in user) and sets it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from flask import g
from sqlalchemy import Connection, text

from chaindb.errors import Forbidden


class Role(StrEnum):
    ADMIN = "admin"  # manages users, and everything an editor does
    EDITOR = "editor"  # reads and writes the data
    VIEWER = "viewer"  # reads


ROLE_RANK = {Role.VIEWER: 1, Role.EDITOR: 2, Role.ADMIN: 3}


@dataclass(frozen=True)
class Principal:
    """Who a request acts for."""

    user_id: int
    username: str
    role: Role

    def may(self, needed: Role) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[needed]


def current() -> Principal | None:
    return g.get("principal")


def may(role: str) -> bool:
    """Whether the request's principal has `role` (or a higher one)."""
    principal = current()
    return principal is not None and principal.may(Role(role))


def require(role: Role) -> None:
    principal = current()
    if principal is None or not principal.may(role):
        raise Forbidden("this needs the %(role)s role", params={"role": role})


def stamp_actor(connection: Connection) -> None:
    """Tell the database's triggers who writes in this transaction, and in which request (the
    change log records both)."""
    principal = current()
    connection.execute(
        text(
            "SELECT set_config('chaindb.actor', :actor, true), "
            "set_config('chaindb.request_id', :request_id, true)"
        ),
        {"actor": principal.username if principal else "", "request_id": g.get("request_id", "")},
    )
