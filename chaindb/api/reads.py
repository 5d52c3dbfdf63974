"""Reading a resource: a page of a list (offset or keyset), one record by its key, the rows an
export streams. Every read passes through the resource's scope (chaindb.api.resource.Scope).
One job of a resource, written as a mixin of it.

Two ways to run a read, for one reason: a statement whose SQL is the same from request to request
(a list of one shape of filters, a read by key) is compiled once and run by psycopg straight
(chaindb.db.run_sql, fetch_prebuilt), which costs less than SQLAlchemy's execution for a page of
50; a statement whose SQL changes with the values (a filter with IN) runs through SQLAlchemy.
Both return the same rows (tests/test_api_reads.py compares them for every resource).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlencode

from flask import request
from sqlalchemy import ColumnElement, Connection, Integer, Select, bindparam, func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from chaindb.api.query import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Filters,
    QueryParsing,
    decode_cursor,
    encode_cursor,
    int_param,
)
from chaindb.changelog import Change
from chaindb.db import core_connection, fetch_prebuilt, is_id, run_sql
from chaindb.errors import Invalid

# A list's compiled SQL is kept per shape of request; a flood of searches must not grow it forever.
MAX_PLANS = 512


class Reads:
    """The read path of a resource."""

    def select(self, fields: tuple[str, ...] | None = None) -> Select:
        """The read model's columns, or only those of a sparse fieldset (`fields`)."""
        if fields is None:
            return select(*self.columns)
        return select(*(c for c in self.columns if c.name in fields))

    def wanted_fields(self, args: MultiDict) -> tuple[str, ...] | None:
        """The sparse fieldset of ?fields=id,name,stage (as JSON:API and DRF clients know it):
        the read model's fields named, in its order, id always among them; None without it
        (the whole record). Unknown names are refused, naming them and the known ones."""
        raw = args.get("fields")
        if raw is None:
            return None
        names = [n.strip() for n in raw.split(",") if n.strip()]
        known = self.read.model_fields
        unknown = [n for n in names if n not in known]
        if unknown or not names:
            raise Invalid(
                "%(unknown)s: not a field of %(what)s; fields takes some of %(known)s, "
                "comma-separated",
                params={
                    "unknown": ", ".join(unknown) or "(nothing)",
                    "what": self.singular.replace("_", " "),
                    "known": ", ".join(known),
                },
                field="fields",
            )
        return tuple(n for n in known if n == "id" or n in names)

    def sparse(self, row: dict[str, Any], fields: tuple[str, ...] | None) -> dict[str, Any]:
        """The row with only the fields asked for (all without a fieldset)."""
        if fields is None:
            return row
        return {name: row[name] for name in fields if name in row}

    def _narrowed(self) -> bool:
        """Whether select(fields) narrows the SQL itself: a resource that selects more than its
        table's columns (its own select()) is narrowed row by row instead."""
        return type(self).select is Reads.select

    def scoped(self, *, write: bool = False) -> tuple[list[ColumnElement], dict[str, Any], str]:
        """The scope of this request as (clauses, their values, its name): no clause when the
        request may see (or with `write`, change) every row."""
        scope = self.write_scope() if write else self.scope()
        if scope is None:
            return [], {}, ""
        return [scope.clause], dict(scope.values), scope.name

    def list_page(self, session: Session | Connection, args: MultiDict) -> dict[str, Any]:
        """A page of rows as dicts, with its count and the links to the pages around it."""
        limit = int_param(args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        fields = self.wanted_fields(args)
        page = self._list_page(session, args, limit, fields if self._narrowed() else None)
        if fields is not None and not self._narrowed():
            page["results"] = [self.sparse(row, fields) for row in page["results"]]
        return page

    def _list_page(
        self,
        session: Session | Connection,
        args: MultiDict,
        limit: int,
        fields: tuple[str, ...] | None,
    ) -> dict[str, Any]:
        # A subclass's own where() may put values anywhere: its SQL is never reused.
        reusable = type(self).where is QueryParsing.where
        found = self.filter_clauses(args) if reusable else Filters(self.where(args))
        scope, scope_values, scope_name = self.scoped()
        found.pending[:0] = scope
        if self.keyset and "cursor" in args:
            return self._keyset_page(session, args, found.clauses, scope_values, limit, fields)
        offset = int_param(args, "offset", 0, 0, None)
        connection = core_connection(session)
        ordering = args.get("ordering")
        plan = (
            self._list_plan(connection, found, ordering, scope_name, scope_values, fields)
            if reusable
            else None
        )
        paging = {"page_limit": limit, "page_offset": offset}
        if plan is not None:
            # The SQL of this shape of request was compiled before: only the values are new.
            count_sql, count_params, page_sql, page_params = plan
            values = {**found.values, **scope_values, **paging}
            count = run_sql(connection, count_sql, {**count_params, **values}, dicts=False)[0][0]
            rows = run_sql(connection, page_sql, {**page_params, **values})
        else:
            # On the Core connection: the ORM's execution layer adds nothing to a SELECT.
            count = connection.scalar(self._count(found.clauses), scope_values)
            page = self._page(found.clauses, ordering, fields)
            rows = as_dicts(connection.execute(page, {**scope_values, **paging}))
        return {**self._links(args, count, offset, limit), "results": rows}

    def rows_statement(self, args: MultiDict) -> tuple[Select, dict[str, Any]]:
        """Every row the filters in `args` select, in their order (an export), and the values of
        its scope."""
        scope, scope_values, _ = self.scoped()
        stmt = (
            self.select()
            .where(*scope, *self.where(args))
            .order_by(*self.order_by(args.get("ordering")))
        )
        return stmt, scope_values

    def _count(self, clauses: list[ColumnElement]) -> Select:
        return select(func.count()).select_from(self.table).where(*clauses)

    def _page(
        self,
        clauses: list[ColumnElement],
        ordering: str | None,
        fields: tuple[str, ...] | None = None,
    ) -> Select:
        return (
            (self.select(fields) if fields is not None else self.select())
            .where(*clauses)
            .order_by(*self.order_by(ordering))
            .limit(bindparam("page_limit", type_=Integer))
            .offset(bindparam("page_offset", type_=Integer))
        )

    def _list_plan(
        self,
        connection: Connection,
        found: Filters,
        ordering: str | None,
        scope_name: str,
        scope_values: dict[str, Any],
        fields: tuple[str, ...] | None = None,
    ) -> tuple[str, dict, str, dict] | None:
        """The compiled SQL of a list of this shape (count, page) and the constants the code put
        in it, compiled once; None when the SQL holds a list of values (IN), which it cannot be
        reused for. The scope's values are parameters: one plan serves every office."""
        key = (connection.dialect.name, scope_name, tuple(found.shape), ordering, fields)
        plans = self.__dict__.setdefault("_list_plans", {})
        if key in plans:
            return plans[key]
        plan = None
        count = self._count(found.clauses).compile(dialect=connection.dialect)
        page = self._page(found.clauses, ordering, fields).compile(dialect=connection.dialect)
        if "POSTCOMPILE" not in count.string + page.string:
            ours = {*found.values, *scope_values, "page_limit", "page_offset"}
            plan = (
                count.string,
                {k: v for k, v in count.params.items() if k not in ours},
                page.string,
                {k: v for k, v in page.params.items() if k not in ours},
            )
        if len(plans) >= MAX_PLANS:
            plans.clear()
        plans[key] = plan
        return plan

    def list_plans(self) -> int:
        """How many list plans are kept (tests check that scopes share them)."""
        return len(self.__dict__.get("_list_plans", {}))

    @staticmethod
    def _links(args: MultiDict, count: int | None, offset: int, limit: int) -> dict[str, Any]:
        return {
            "count": count,
            "next": page_url(args, offset=offset + limit)
            if offset + limit < (count or 0)
            else None,
            "previous": page_url(args, offset=max(offset - limit, 0)) if offset > 0 else None,
        }

    def _keyset_page(
        self,
        session: Session | Connection,
        args: MultiDict,
        clauses: list,
        scope_values: dict[str, Any],
        limit: int,
        fields: tuple[str, ...] | None = None,
    ) -> dict[str, Any]:
        if args.get("ordering"):
            raise Invalid("keyset pagination orders by id; leave out ordering", field="ordering")
        after = decode_cursor(args.get("cursor") or "")
        if after is not None:
            clauses = [*clauses, self.table.c.id > after]
        rows = as_dicts(
            core_connection(session).execute(
                (self.select(fields) if fields is not None else self.select())
                .where(*clauses)
                .order_by(self.table.c.id)
                .limit(limit + 1),
                scope_values,
            )
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return {
            "count": None,
            "next": page_url(args, cursor=encode_cursor(rows[-1]["id"])) if more else None,
            "previous": None,
            "results": rows,
        }

    def key_lookups(self, key: str) -> list[tuple[str, Any]]:
        """How `key` in a URL may name a row, tried in order: (lookup, value) pairs, the natural
        key first, then the id. Each lookup is a prebuilt statement (see lookup_clause)."""
        lookups: list[tuple[str, Any]] = []
        if self.key is not None and (self.key_matches is None or self.key_matches(key)):
            lookups.append(("key", key))
        if is_id(key):
            lookups.append(("id", int(key)))
        return lookups

    def lookup_clause(self, lookup: str) -> ColumnElement:
        """The condition of a lookup, on the bound parameter "value"."""
        column = self.table.c.id if lookup == "id" else self.table.c[self.key]  # type: ignore[index]
        return column == bindparam("value")

    def _lookup_statement(self, lookup: str, kind: str) -> tuple[Select, dict[str, Any]]:
        """Built once per resource and scope: a request then skips building and keying the
        statement. With the scope's values."""
        # A row locked is a row to change: the write scope (as the database's policies for
        # UPDATE say too), the others the read scope.
        scope, scope_values, scope_name = self.scoped(write=kind == "lock")
        cache = self.__dict__.setdefault("_lookup_statements", {})
        stmt = cache.get((lookup, kind, scope_name))
        if stmt is None:
            base = select(self.table.c.id) if kind == "id" else self.select()
            stmt = base.where(self.lookup_clause(lookup), *scope)
            if kind == "lock":
                stmt = stmt.with_for_update()
            cache[(lookup, kind, scope_name)] = stmt
        return stmt, scope_values

    def find_id(self, session: Session, key: str) -> int:
        """The id of the row named by `key`: its natural key where that applies, else its id."""
        for lookup, value in self.key_lookups(key):
            stmt, params = self._lookup_statement(lookup, "id")
            found = session.scalar(stmt, {**params, "value": value})
            if found is not None:
                return found
        raise self.not_found(key)

    def get(self, session: Session, key: str, *, lock: bool = False) -> dict[str, Any]:
        """The row named by `key`, in one query when the key names it at the first try."""
        for lookup, value in self.key_lookups(key):
            if lock:
                stmt, params = self._lookup_statement(lookup, "lock")
                row = session.execute(stmt, {**params, "value": value}).mappings().first()
                if row is not None:
                    return dict(row)
                stmt, params = self._lookup_statement(lookup, "id")
                if session.scalar(stmt, {**params, "value": value}) is not None:
                    # It may be read, not changed: say why, not that it is not there.
                    raise self.out_of_scope()
            else:
                stmt, params = self._lookup_statement(lookup, "row")
                rows = fetch_prebuilt(session, stmt, {**params, "value": value})
                if rows:
                    return rows[0]
        raise self.not_found(key)

    def history(self, session: Session, key: str) -> list[Change]:
        """Every change of the record named by `key`, oldest first (from the change log)."""
        return self.changes_of(session, self.find_id(session, key))

    def changes_of(
        self,
        session: Session,
        record_id: int,
        *,
        newest_first: bool = False,
        limit: int | None = None,
    ) -> list[Change]:
        """The change log's rows of a record found already (its page shows the last 20)."""
        order = Change.id.desc() if newest_first else Change.id
        stmt = (
            select(Change)
            .where(Change.table_name == self.table.name, Change.record_id == record_id)
            .order_by(order)
            .limit(limit)
        )
        return list(session.execute(stmt).scalars())


def as_dicts(result: Any) -> list[dict[str, Any]]:
    """A result's rows as plain dicts (written as JSON without a conversion per row)."""
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.all()]


def page_url(args: MultiDict, **changes: Any) -> str:
    """This request's URL with some query parameters changed (the link to another page). Put
    together from its parts: request.base_url re-encodes the whole URL, slowly."""
    params = MultiDict(args)
    for key, value in changes.items():
        params.setlist(key, [str(value)])
    base = _page_base.get() or f"{request.scheme}://{request.host}{request.root_path}{request.path}"
    return f"{base}?{urlencode(list(params.items(multi=True)))}"


# The URL of a list answered outside Flask's request (chaindb.api.fast), made of the same parts.
_page_base: ContextVar[str | None] = ContextVar("chaindb_page_base", default=None)


@contextmanager
def listing_at(base: str) -> Iterator[None]:
    """page_url's base inside the block: scheme://host/root/path of a request that Flask's
    request object does not hold (chaindb.api.fast)."""
    token = _page_base.set(base)
    try:
        yield
    finally:
        _page_base.reset(token)
