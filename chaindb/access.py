"""Who may do what: the roles, the principal a request acts for, and the checks the API and the
pages make of it. Shared machinery (chaindb.api, chaindb.web) and every domain ask here; the
auth domain decides who the principal is (a bearer token, a signed-in user) and sets it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum

from flask import g, has_app_context

from chaindb.errors import Forbidden


class Role(StrEnum):
    """A user's role in their unit."""

    ADMIN = "admin"  # manages the unit's users (the city bureau's: every user), and reviews
    REVIEWER = "reviewer"  # approves or returns what units report, and writes
    EDITOR = "editor"  # reads and writes the data in the unit's scope
    VIEWER = "viewer"  # reads


ROLE_RANK = {Role.VIEWER: 1, Role.EDITOR: 2, Role.REVIEWER: 3, Role.ADMIN: 4}


class UnitKind(StrEnum):
    CITY = "city"  # 市投资促进局: sees and changes everything
    CHAIN_OFFICE = "chain_office"  # 链长办: an iconic chain and its key chains
    DISTRICT_OFFICE = "district_office"  # 区县/功能区招商部门: one planning unit


@dataclass(frozen=True)
class Scope:
    """What a unit answers for: the city bureau everything; a chain office its chains (an
    iconic chain and the key chains under it); a district office its planning unit. The
    database holds the same rule (row-level security, acting_unit() and scope_*())."""

    unit_id: int | None
    code: str
    name: str
    kind: UnitKind
    district_id: int | None = None
    chain_ids: frozenset[int] = frozenset()
    # A chain office that reviews its chains' projects (unit.reviews_chain_projects).
    reviews_chains: bool = False

    @property
    def everything(self) -> bool:
        return self.kind == UnitKind.CITY

    def reviews_chain(self, chain_id: int | None) -> bool:
        """The unit reviews what is reported for the chain: the city bureau, or the chain's
        office where it reviews (as the database's reviews_project() says)."""
        return self.everything or (self.reviews_chains and self.covers_chain(chain_id))

    def covers_chain(self, chain_id: int | None) -> bool:
        """The unit answers for the chain: the city bureau, or the chain's office."""
        return self.everything or (chain_id is not None and chain_id in self.chain_ids)

    def covers_district(self, district_id: int | None) -> bool:
        """The unit answers for the planning unit: the city bureau, or the unit's office."""
        return self.everything or (district_id is not None and district_id == self.district_id)


# No unit: nothing in scope (a principal from before units, in a test, acts as nobody's).
NO_SCOPE = Scope(unit_id=None, code="", name="", kind=UnitKind.DISTRICT_OFFICE)


@dataclass(frozen=True)
class Principal:
    """Who a request acts for, and for which unit."""

    user_id: int
    username: str
    role: Role
    scope: Scope = NO_SCOPE

    def may(self, needed: Role) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[needed]


def current() -> Principal | None:
    """The request's principal; None outside a request (a command, a thread of its own)."""
    answering = _answering.get()
    if answering is not None:
        return answering
    return g.get("principal") if has_app_context() else None


# The principal of a request answered outside Flask (chaindb.api.fast), while it is answered.
_answering: ContextVar[Principal | None] = ContextVar("chaindb_answering", default=None)


@contextmanager
def answering_for(principal: Principal) -> Iterator[None]:
    """While the block runs, current() is `principal`: a request answered without Flask's
    contexts (chaindb.api.fast) draws its scope as Flask's would."""
    token = _answering.set(principal)
    try:
        yield
    finally:
        _answering.reset(token)


def acting_scope() -> Scope | None:
    """The scope the request acts in; None outside a request (the CLI acts as the owner)."""
    principal = current()
    return principal.scope if principal is not None else None


def require_scope(allowed: bool, message: str, **params: object) -> None:
    """Refuse (403) what the acting unit does not answer for; `message` may name %(unit)s."""
    scope = acting_scope()
    if scope is not None and not allowed:
        raise Forbidden(message, params={"unit": scope.name, **params})


def may(role: str) -> bool:
    """Whether the request's principal has `role` (or a higher one)."""
    principal = current()
    return principal is not None and principal.may(Role(role))


def require(role: Role) -> None:
    principal = current()
    if principal is None or not principal.may(role):
        raise Forbidden("this needs the %(role)s role", params={"role": role})
