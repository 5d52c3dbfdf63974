"""A resource of the JSON API: list, read, create, update, replace and delete one table.

Each domain declares its resource (model, schemas, references, filters, ordering) in its api.py;
this module turns the declaration into routes with one behaviour everywhere: filters with
lookups, ordering, offset or keyset pagination, natural keys for references, ETags and If-Match,
bulk creation, and errors in the one shape of chaindb.errors.
"""

import base64
import binascii
import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal
from urllib.parse import urlencode

import orjson
from flask import Response, request, url_for
from flask_babel import gettext
from flask_openapi3 import Tag
from pydantic import BaseModel, Field, RootModel, TypeAdapter, ValidationError, create_model
from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from chaindb.api import transfer
from chaindb.api.blueprint import APIBlueprint
from chaindb.api.schemas import CachedSchema, Page, PathId, parse_body, partial
from chaindb.changes.models import Change
from chaindb.changes.schemas import ChangeRead
from chaindb.db import Base, core_connection, db, fetch_prebuilt, is_id, run_sql
from chaindb.errors import (
    CONFIRMATIONS,
    N_,
    BadRequest,
    Conflict,
    DomainError,
    ErrorBody,
    Invalid,
    Message,
    NotFound,
    PreconditionFailed,
    from_database_error,
    from_validation_error,
)

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
RESERVED = {"limit", "offset", "ordering", "q", "cursor", "format", "layout", "lang", "dry_run"}
LOOKUPS = ("not_in", "in", "not", "gte", "lte", "gt", "lt", "contains", "isnull")
HISTORY = TypeAdapter(list[ChangeRead])
ERRORS = {400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody,
          412: ErrorBody, 415: ErrorBody, 422: ErrorBody}  # fmt: skip

# The messages that name what a resource holds, one whole sentence per kind of record so that a
# translation never glues a noun into a sentence: resource singular -> (no such record, a record
# that cannot be deleted because rows refer to it).
RECORD_MESSAGES = {
    "chain": (N_("no chain %(key)r"), N_("chain %(id)s is still referenced by %(referrers)s")),
    "segment": (N_("no segment %(key)r"), N_("segment %(id)s is still referenced by %(referrers)s")),
    "chain_role": (N_("no chain role %(key)r"),
                   N_("chain role %(id)s is still referenced by %(referrers)s")),
    "district": (N_("no district %(key)r"), N_("district %(id)s is still referenced by %(referrers)s")),
    "enterprise": (N_("no enterprise %(key)r"),
                   N_("enterprise %(id)s is still referenced by %(referrers)s")),
    "designation": (N_("no designation %(key)r"),
                    N_("designation %(id)s is still referenced by %(referrers)s")),
    "project": (N_("no project %(key)r"), N_("project %(id)s is still referenced by %(referrers)s")),
    "supply_link": (N_("no supply link %(key)r"),
                    N_("supply link %(id)s is still referenced by %(referrers)s")),
    "target": (N_("no target %(key)r"), N_("target %(id)s is still referenced by %(referrers)s")),
    "change": (N_("no change %(key)r"), N_("change %(id)s is still referenced by %(referrers)s")),
    "user": (N_("no user %(key)r"), N_("user %(id)s is still referenced by %(referrers)s")),
}  # fmt: skip
# Any other resource: its name (data) inside a generic sentence.
GENERIC_RECORD_MESSAGES = (
    N_("no %(what)s %(key)r"),
    N_("%(what)s %(id)s is still referenced by %(referrers)s"),
)
# A reference to a row that does not exist, by what the reference names: (by natural key, by id).
REF_MESSAGES = {
    "chain": (N_("no chain with %(key)s %(value)r"), N_("no chain with id %(value)s")),
    "district": (N_("no district with %(key)s %(value)r"), N_("no district with id %(value)s")),
    "planning unit": (N_("no planning unit with %(key)s %(value)r"),
                      N_("no planning unit with id %(value)s")),
    "enterprise": (N_("no enterprise with %(key)s %(value)r"), N_("no enterprise with id %(value)s")),
    "supplier": (N_("no supplier with %(key)s %(value)r"), N_("no supplier with id %(value)s")),
    "buyer": (N_("no buyer with %(key)s %(value)r"), N_("no buyer with id %(value)s")),
}  # fmt: skip
GENERIC_REF_MESSAGES = (
    N_("no %(what)s with %(key)s %(value)r"),
    N_("no %(what)s with id %(value)s"),
)


# Where a key that names no row any more leads, per table: a merged enterprise's id or credit
# code leads to the enterprise it was merged into. Registered by the domain that moves rows.
MOVED: dict[str, Callable[[Session, Any], int | None]] = {}


def follow_moves(model: type[Base], lookup: Callable[[Session, Any], int | None]) -> None:
    """References to `model` by a key that names no row are looked up in `lookup` too."""
    MOVED[model.__tablename__] = lookup


@dataclass(frozen=True)
class Ref:
    """A foreign key written by id or by the natural key of the row it points at."""

    field: str  # the column on this table, e.g. chain_id
    target: type[Base]
    key: str  # the natural key column of the target, e.g. code
    what: str  # how to name it in messages, e.g. chain


@dataclass
class Filters:
    """Filter clauses whose values are named bound parameters (f0, f1, ...), those values, and
    the shape: what the SQL's text depends on besides the code (filters, lookups, searches)."""

    clauses: list[ColumnElement] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    shape: list[tuple[str, Any]] = field(default_factory=list)

    def bind(self, param: str, value: Any) -> Any:
        key = f"f{len(self.values)}"
        self.values[key] = value
        self.shape.append((param, key))
        return bindparam(key, value)


@dataclass
class Resource:
    name: str  # URL segment, e.g. projects
    model: type[Base]
    read: type[BaseModel]
    create: type[BaseModel]
    description: str
    refs: Sequence[Ref] = ()
    filters: dict[str, Any] = field(default_factory=dict)  # name -> type (column of that name)
    expressions: dict[str, tuple[Any, Callable[[], ColumnElement]]] = field(default_factory=dict)
    ordering: Sequence[str] = ("id",)
    default_ordering: Sequence[str] = ("id",)
    search: Callable[[str], ColumnElement] | None = None
    key: str | None = None  # natural key column for /name/{key}
    key_matches: Callable[[str], bool] | None = None
    keyset: bool = False
    # Business rules that a column check cannot say: (session, values, current row or None).
    check: Callable[[Session, dict[str, Any], Any], None] | None = None
    update: type[BaseModel] | None = None
    # Natural key an import matches existing rows by; None = no import for this resource.
    import_key: Sequence[str] | None = None
    import_scope: Callable[[], ColumnElement] | None = None  # e.g. only live links match
    exports: bool = True  # its list answers ?format=csv|xlsx too

    # Every resource made, by its URL segment (for tests that check all of them alike).
    registry: ClassVar[dict[str, "Resource"]] = {}

    def __post_init__(self) -> None:
        Resource.registry[self.name] = self
        self.table = self.model.__table__
        self.singular = self.name.rstrip("s").replace("-", "_")
        if self.update is None:
            self.update = partial(
                self.create, f"{self.create.__name__.removesuffix('Create')}Update"
            )
        self.columns = [
            self.table.c[name] for name in self.read.model_fields if name in self.table.c
        ]
        self.page = create_model(
            f"{self.read.__name__.removesuffix('Read')}Page",
            __base__=Page[self.read],  # type: ignore[name-defined]
        )
        # ?format=csv or xlsx answers the same list as a file.
        self.page.model_config = {
            **self.page.model_config,
            "openapi_extra": {
                "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    transfer.XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
                }
            },
        }
        self.page_adapter = TypeAdapter(self.page)
        self.list_adapter = TypeAdapter(list[self.read])  # type: ignore[name-defined]
        self.filter_types = {
            **self.filters,
            **{name: typ for name, (typ, _) in self.expressions.items()},
        }
        self.query_model = self._query_model()
        # What a read holds that no write takes (id, times, derived columns): a record read
        # from the API may be sent back as it is, and these are ignored.
        self.read_only_fields = frozenset(self.read.model_fields) - frozenset(
            self.create.model_fields
        )

    # --- the query string -------------------------------------------------------------------

    def _query_model(self) -> type[BaseModel]:
        """A model of every accepted query parameter: it documents them in the OpenAPI document."""
        fields: dict[str, Any] = {
            "limit": (int | None, Field(None, ge=1, le=MAX_LIMIT, description=f"Page size (default {DEFAULT_LIMIT})")),
            "offset": (int | None, Field(None, ge=0, description="Rows to skip")),
            "ordering": (str | None, Field(None, description="Comma-separated fields, - for descending: " + ", ".join(self.ordering))),
        }  # fmt: skip
        if self.exports:
            fields["format"] = (Literal["json", "csv", "xlsx"] | None, Field(None, description="json (default), or the whole filtered list as csv or xlsx, streamed"))  # fmt: skip
            fields["layout"] = (Literal["raw", "office"] | None, Field(None, description="With csv or xlsx: raw (default: field names, codes, ids) or office (labels with units, names, a title; lang=zh or en)"))  # fmt: skip
        if self.search is not None:
            fields["q"] = (str | None, Field(None, description="Search names (and codes)"))
        if self.keyset:
            fields["cursor"] = (
                str | None,
                Field(
                    None,
                    description="Keyset pagination: empty for the first page, then the cursor of 'next'",
                ),
            )
        for name, typ in self.filter_types.items():
            fields[name] = (typ | None, Field(None, description=f"{name} equals"))
            for lookup in ("in", "not_in"):
                fields[f"{name}__{lookup}"] = (
                    str | None,
                    Field(
                        None,
                        description=f"{name} {'in' if lookup == 'in' else 'not in'} (comma-separated)",
                    ),
                )
            fields[f"{name}__not"] = (typ | None, Field(None, description=f"{name} differs"))
            fields[f"{name}__isnull"] = (
                bool | None,
                Field(None, description=f"{name} is (not) empty"),
            )
            if typ in (int, float, Decimal, date, datetime):
                for lookup in ("gte", "lte", "gt", "lt"):
                    fields[f"{name}__{lookup}"] = (
                        typ | None,
                        Field(None, description=f"{name} {lookup}"),
                    )
            if typ is str:
                fields[f"{name}__contains"] = (
                    str | None,
                    Field(None, description=f"{name} contains (case-insensitive)"),
                )
        name = f"{self.read.__name__.removesuffix('Read')}Query"
        return create_model(name, __base__=CachedSchema, **fields)

    def _column(self, name: str) -> ColumnElement:
        if name in self.expressions:
            return self.expressions[name][1]()
        return self.table.c[name]

    def where(self, args: MultiDict) -> list[ColumnElement]:
        return self.filter_clauses(args).clauses

    def filter_clauses(self, args: MultiDict) -> Filters:
        """The query string's filters as clauses whose values are named bound parameters, with
        the shape of the SQL they make (which filters and lookups, not their values)."""
        found = Filters()
        for param in args:
            if param in RESERVED:
                continue
            name, _, lookup = param.partition("__")
            if lookup and lookup not in LOOKUPS:
                name, lookup = param, ""
            if name not in self.filter_types:
                raise Invalid("unknown filter %(param)r", params={"param": param}, field=param)
            for raw in args.getlist(param):
                found.clauses.append(self._clause(param, name, lookup, raw, found))
        search = args.get("q")
        if search and self.search is not None:
            found.clauses.append(self.search(search))
            found.shape.append(("q", search))  # its values are inside its SQL
        return found

    def _clause(
        self, param: str, name: str, lookup: str, raw: str, found: Filters
    ) -> ColumnElement:
        typ = self.filter_types[name]
        column = self._column(name)
        try:
            if lookup in ("in", "not_in"):
                values = [parse_value(typ, v.strip(), param) for v in raw.split(",") if v.strip()]
                found.shape.append((param, len(values)))
                return column.in_(values) if lookup == "in" else column.not_in(values)
            if lookup == "isnull":
                flag = adapter(bool).validate_python(raw)
                found.shape.append((param, flag))
                return column.is_(None) if flag else column.is_not(None)
            if lookup == "contains":
                if typ is not str:
                    raise Invalid("contains works on text fields only", prefix=param, field=param)
                escaped = raw.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                return column.ilike(found.bind(param, f"%{escaped}%"))
            value = parse_value(typ, raw, param)
        except ValidationError as exc:
            raise from_validation_error(exc, prefix=param) from None
        if lookup == "not":
            return column.is_distinct_from(found.bind(param, value))
        if lookup in ("gte", "lte", "gt", "lt"):
            if typ not in (int, float, Decimal, date, datetime):
                raise Invalid(
                    "%(lookup)s works on numbers and dates only",
                    params={"lookup": lookup},
                    prefix=param,
                    field=param,
                )
            bound = found.bind(param, value)
            return {
                "gte": column >= bound,
                "lte": column <= bound,
                "gt": column > bound,
                "lt": column < bound,
            }[lookup]
        return column == found.bind(param, value)

    def order_column(self, name: str) -> ColumnElement:
        """What ordering by `name` sorts on (a subclass may rank a vocabulary, say)."""
        return self._column(name)

    def order_by(self, raw: str | None) -> list[ColumnElement]:
        names = (
            [p.strip() for p in raw.split(",") if p.strip()] if raw else list(self.default_ordering)
        )
        order: list[ColumnElement] = []
        for name in names:
            bare = name.lstrip("-")
            if bare not in self.ordering:
                raise Invalid(
                    "cannot order by %(name)r; choose from %(choices)s",
                    params={"name": bare, "choices": ", ".join(self.ordering)},
                    field="ordering",
                )
            column = self.order_column(bare)
            order.append(
                column.desc().nulls_last() if name.startswith("-") else column.asc().nulls_last()
            )
        if "id" not in [n.lstrip("-") for n in names]:
            order.append(self.table.c.id.asc())  # a stable order for pagination
        return order

    # --- reading -----------------------------------------------------------------------------

    def select(self) -> Select:
        return select(*self.columns)

    def list_page(self, session: Session | Connection, args: MultiDict) -> dict[str, Any]:
        """A page of rows as dicts, with its count and the links to the pages around it."""
        limit = _int_param(args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        # A subclass's own where() may put values anywhere: its SQL is never reused.
        reusable = type(self).where is Resource.where
        found = self.filter_clauses(args) if reusable else Filters(self.where(args))
        if self.keyset and "cursor" in args:
            return self._keyset_page(session, args, found.clauses, limit)
        offset = _int_param(args, "offset", 0, 0, None)
        connection = core_connection(session)
        ordering = args.get("ordering")
        plan = self._list_plan(connection, found, ordering) if reusable else None
        if plan is not None:
            # The SQL of this shape of request was compiled before: only the values are new.
            count_sql, count_params, page_sql, page_params = plan
            values = {**found.values, "page_limit": limit, "page_offset": offset}
            count = run_sql(connection, count_sql, {**count_params, **values}, dicts=False)[0][0]
            rows = run_sql(connection, page_sql, {**page_params, **values})
        else:
            # On the Core connection: the ORM's execution layer adds nothing to a SELECT.
            count = connection.scalar(self._count(found.clauses))
            page = self._page(found.clauses, ordering)
            rows = as_dicts(connection.execute(page, {"page_limit": limit, "page_offset": offset}))
        return {**self._links(args, count, offset, limit), "results": rows}

    def _count(self, clauses: list[ColumnElement]) -> Select:
        return select(func.count()).select_from(self.table).where(*clauses)

    def _page(self, clauses: list[ColumnElement], ordering: str | None) -> Select:
        return (
            self.select()
            .where(*clauses)
            .order_by(*self.order_by(ordering))
            .limit(bindparam("page_limit", type_=Integer))
            .offset(bindparam("page_offset", type_=Integer))
        )

    def _list_plan(
        self, connection: Connection, found: Filters, ordering: str | None
    ) -> tuple[str, dict, str, dict] | None:
        """The compiled SQL of a list of this shape (count, page) and the constants the code put
        in it, compiled once; None when the SQL holds a list of values (IN), which it cannot be
        reused for."""
        key = (connection.dialect.name, tuple(found.shape), ordering)
        plans = self.__dict__.setdefault("_list_plans", {})
        if key in plans:
            return plans[key]
        plan = None
        count = self._count(found.clauses).compile(dialect=connection.dialect)
        page = self._page(found.clauses, ordering).compile(dialect=connection.dialect)
        if "POSTCOMPILE" not in count.string + page.string:
            ours = {*found.values, "page_limit", "page_offset"}
            plan = (
                count.string,
                {k: v for k, v in count.params.items() if k not in ours},
                page.string,
                {k: v for k, v in page.params.items() if k not in ours},
            )
        if len(plans) >= 512:  # shapes are few; a flood of searches must not grow it forever
            plans.clear()
        plans[key] = plan
        return plan

    @staticmethod
    def _links(args: MultiDict, count: int | None, offset: int, limit: int) -> dict[str, Any]:
        return {
            "count": count,
            "next": _page_url(args, offset=offset + limit)
            if offset + limit < (count or 0)
            else None,
            "previous": _page_url(args, offset=max(offset - limit, 0)) if offset > 0 else None,
        }

    def _keyset_page(
        self, session: Session | Connection, args: MultiDict, clauses: list, limit: int
    ) -> dict[str, Any]:
        if args.get("ordering"):
            raise Invalid("keyset pagination orders by id; leave out ordering", field="ordering")
        after = _decode_cursor(args.get("cursor") or "")
        if after is not None:
            clauses = [*clauses, self.table.c.id > after]
        rows = as_dicts(
            core_connection(session).execute(
                self.select().where(*clauses).order_by(self.table.c.id).limit(limit + 1)
            )
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return {
            "count": None,
            "next": _page_url(args, cursor=_encode_cursor(rows[-1]["id"])) if more else None,
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

    def _lookup_statement(self, lookup: str, kind: str) -> Select:
        """Built once per resource: a request then skips building and keying the statement."""
        cache = self.__dict__.setdefault("_lookup_statements", {})
        stmt = cache.get((lookup, kind))
        if stmt is None:
            base = select(self.table.c.id) if kind == "id" else self.select()
            stmt = base.where(self.lookup_clause(lookup))
            if kind == "lock":
                stmt = stmt.with_for_update()
            cache[(lookup, kind)] = stmt
        return stmt

    def find_id(self, session: Session, key: str) -> int:
        """The id of the row named by `key`: its natural key where that applies, else its id."""
        for lookup, value in self.key_lookups(key):
            found = session.scalar(self._lookup_statement(lookup, "id"), {"value": value})
            if found is not None:
                return found
        raise self.not_found(key)

    def get(self, session: Session, key: str, *, lock: bool = False) -> dict[str, Any]:
        """The row named by `key`, in one query when the key names it at the first try."""
        for lookup, value in self.key_lookups(key):
            if lock:
                stmt = self._lookup_statement(lookup, "lock")
                row = session.execute(stmt, {"value": value}).mappings().first()
                if row is not None:
                    return dict(row)
            else:
                rows = fetch_prebuilt(
                    session, self._lookup_statement(lookup, "row"), {"value": value}
                )
                if rows:
                    return rows[0]
        raise self.not_found(key)

    # --- exchange: the columns as people read them (declared by the pages) ----------------------

    sheet_title: Any = None  # the plural, as people name the list (a lazy translation)
    _sheet_columns: Sequence[Any] = ()

    def sheet_columns(self) -> list[Any]:
        """The columns of the office layout (chaindb.api.exchange.SheetColumn), id first."""
        return list(self._sheet_columns)

    def _messages(self) -> tuple[str, str]:
        return RECORD_MESSAGES.get(self.singular, GENERIC_RECORD_MESSAGES)

    def not_found(self, key: str) -> NotFound:
        """No record named `key` (e.g. "no chain 'X9'")."""
        return NotFound(
            self._messages()[0], params={"what": self.singular.replace("_", " "), "key": key}
        )

    # --- writing -----------------------------------------------------------------------------

    def resolve(self, session: Session, values: dict[str, Any]) -> dict[str, Any]:
        """Replace each reference given by natural key with its id; refuse unknown ones.

        Within an import (session.info["resolved"], a dict), what was found for a value is
        remembered: a file names the same chain or chain master on many rows."""
        known: dict | None = session.info.get("resolved")
        for ref in self.refs:
            value = values.get(ref.field)
            if value is None:
                continue
            if known is not None and (ref.target, ref.key, value) in known:
                values[ref.field] = known[(ref.target, ref.key, value)]
                continue
            values[ref.field] = self._resolve_one(session, ref, value)
            if known is not None:
                known[(ref.target, ref.key, value)] = values[ref.field]
        return values

    def _resolve_one(self, session: Session, ref: Ref, value: Any) -> int:
        table = ref.target.__table__
        by_key, by_id = REF_MESSAGES.get(ref.what, GENERIC_REF_MESSAGES)
        if isinstance(value, str):
            found = session.scalar(select(table.c.id).where(table.c[ref.key] == value))
            missing = by_key
            if found is None and is_id(value):
                # A spreadsheet cell holds the id of an exported row as text.
                found = session.scalar(select(table.c.id).where(table.c.id == int(value)))
        else:
            found = session.scalar(select(table.c.id).where(table.c.id == value))
            missing = by_id
        if found is None and table.name in MOVED:
            found = MOVED[table.name](session, value)
        if found is None:
            raise Invalid(
                missing,
                params={"what": ref.what, "key": ref.key, "value": value},
                prefix=ref.field,
                field=ref.field,
            )
        return found

    def validate(self, schema: type[BaseModel], body: Any) -> dict[str, Any]:
        if isinstance(body, dict):
            body = {k: v for k, v in body.items() if k not in self.read_only_fields}
        return parse_body(schema, body, exclude_unset=schema is self.update)

    def create_one(self, session: Session, body: Any) -> dict[str, Any]:
        values = self.resolve(session, self.validate(self.create, body))
        values.pop("confirm", None)  # a resource with warnings to confirm reads it first
        if self.check:
            self.check(session, values, None)
        return self._write(session, insert(self.table).values(values).returning(*self.columns))

    def create_many(self, session: Session, items: list[Any]) -> list[dict[str, Any]]:
        """All or none; an error names the item by its index, e.g. [3].chain_id."""
        rows = []
        for index, item in enumerate(items):
            try:
                rows.append(self.create_one(session, item))
            except DomainError as exc:
                raise exc.at(f"[{index}]") from None
        return rows

    def update_one(self, session: Session, key: str, body: Any, *, replace: bool) -> dict[str, Any]:
        current = self.get(session, key, lock=True)
        self.check_if_match(current)
        schema = self.create if replace else self.update
        values = self.resolve(session, self.validate(schema, body))
        values.pop("confirm", None)
        if self.check:
            self.check(session, {**current, **values}, current)
        if not values:
            return current
        stmt = (
            update(self.table)
            .where(self.table.c.id == current["id"])
            .values(values)
            .returning(*self.columns)
        )
        return self._write(session, stmt)

    def delete_one(self, session: Session, key: str) -> None:
        current = self.get(session, key, lock=True)
        self.check_if_match(current)
        savepoint = session.begin_nested()
        try:
            session.execute(delete(self.table).where(self.table.c.id == current["id"]))
            savepoint.commit()
        except IntegrityError as exc:
            savepoint.rollback()
            referrers = self.referrers(session, current["id"])
            if referrers:
                names = ", ".join(f"{n} {t}" for t, n in referrers.items())
                # Marked outside the Conflict(...): the extraction does not look inside its call.
                refer = N_("%(count)s rows refer to it")
                raise Conflict(
                    self._messages()[1],
                    params={
                        "what": self.singular.replace("_", " "),
                        "id": current["id"],
                        "referrers": names,
                    },
                    details=[
                        {"field": t, "message": Message(refer, {"count": n})}
                        for t, n in referrers.items()
                    ],
                ) from None
            raise from_database_error(exc) from None

    def referrers(self, session: Session, record_id: int) -> dict[str, int]:
        """table -> how many of its rows point at this record (through any foreign key)."""
        found: dict[str, int] = {}
        for table in Base.metadata.sorted_tables:
            for fk in table.foreign_keys:
                if (fk.ondelete or "").upper() == "CASCADE":
                    continue  # goes with the record, does not hold it
                if fk.column.table is self.table and fk.column.name == "id":
                    n = session.scalar(
                        select(func.count()).select_from(table).where(fk.parent == record_id)
                    )
                    if n:
                        found[table.name] = found.get(table.name, 0) + n
        return found

    def _write(self, session: Session, stmt: Any) -> dict[str, Any]:
        # No savepoint: a refused write ends the request, and its transaction with it (an
        # import wraps each row in a savepoint of its own).
        try:
            return dict(session.execute(stmt).mappings().one())
        except DBAPIError as exc:
            raise from_database_error(exc) from None

    def import_match(self, session: Session, body: dict[str, Any]) -> int | None:
        """The record an imported row updates, or None to create one."""
        return transfer.match_by_key(self, session, body)

    # --- responses ---------------------------------------------------------------------------

    def dump(self, row: dict[str, Any]) -> bytes:
        return to_json(row)

    def etag(self, row: dict[str, Any]) -> str:
        return etag_of(self.dump(row))

    def check_if_match(self, row: dict[str, Any]) -> None:
        check_if_match(self.etag(row))

    def detail_response(self, row: dict[str, Any], status: int = 200) -> Response:
        body = self.dump(row)
        response = Response(body, status=status, mimetype="application/json")
        response.headers["ETag"] = etag_of(body)
        if status == 201:
            response.headers["Location"] = url_for(f"{self.singular}.read", id=row["id"])
        return response

    # --- routes ------------------------------------------------------------------------------

    def blueprint(self) -> APIBlueprint:
        bp = APIBlueprint(
            self.singular,
            __name__,
            url_prefix=f"/api/v1/{self.name}",
            abp_tags=[Tag(name=self.name, description=self.description)],
            abp_security=[{"bearer": []}],
            abp_responses=ERRORS,
        )
        resource = self
        query_model, create_model_, update_model, read_model = (
            self.query_model,
            self.create,
            self.update,
            self.read,
        )
        what = self.singular.replace("_", " ")
        # A POST to a collection takes one item, or a list of them created all or none.
        create_body = RootModel[create_model_ | list[create_model_]]  # type: ignore[valid-type]
        create_body.__name__ = f"{create_model_.__name__}OrList"
        created = RootModel[read_model | list[read_model]]  # type: ignore[valid-type]
        created.__name__ = f"{read_model.__name__}OrList"

        def list_(query: query_model = None):  # type: ignore[valid-type]
            if request.args.get("format", "json") not in ("json", "csv", "xlsx"):
                raise Invalid("format must be json, csv or xlsx", field="format")
            if request.args.get("layout", "raw") not in ("raw", "office"):
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

        def read_(path: PathId):
            response = resource.detail_response(resource.get(db.reader, path.id))
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
            record_id = resource.find_id(db.session, path.id)
            rows = db.session.execute(
                select(Change)
                .where(Change.table_name == resource.table.name, Change.record_id == record_id)
                .order_by(Change.id)
            ).scalars()
            return Response(
                HISTORY.dump_json(HISTORY.validate_python(list(rows))), mimetype="application/json"
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

        for view in (list_, create_, patch_, put_):
            view.__delay_validate_request__ = True  # type: ignore[attr-defined]  # validated here, errors in our shape
        read_page = self.page
        bp.get(
            "",
            summary=f"List {self.name}",
            responses={200: read_page},
            operation_id=f"list_{self.singular}",
        )(list_)
        bp.post(
            "",
            summary=f"Create a {what} (or a JSON list of them, all or none)",
            responses={201: created},
            operation_id=f"create_{self.singular}",
        )(create_)
        bp.get(
            "/<key:id>",
            summary=f"Read a {what}",
            responses={200: read_model, 304: None},
            operation_id=f"read_{self.singular}",
            endpoint="read",
        )(read_)
        bp.patch(
            "/<key:id>",
            summary=f"Change some fields of a {what}",
            responses={200: read_model},
            operation_id=f"update_{self.singular}",
        )(patch_)
        bp.put(
            "/<key:id>",
            summary=f"Replace a {what}",
            responses={200: read_model},
            operation_id=f"replace_{self.singular}",
        )(put_)
        if self.import_key:
            bp.post(
                "/import",
                summary=f"Import {self.name} from CSV or XLSX (?dry_run=1 reports without writing); "
                f"rows match existing ones by {', '.join(self.import_key)}; all rows or none",
                responses={200: None, 422: None},
                operation_id=f"import_{self.singular}",
            )(import_)
        bp.get(
            "/<key:id>/history",
            summary=f"Every change of a {what}: action, values before and after, actor, request id",
            responses={200: None},
            operation_id=f"history_{self.singular}",
        )(history_)
        bp.delete(
            "/<key:id>",
            summary=f"Delete a {what} (409 while something refers to it)",
            responses={204: None},
            operation_id=f"delete_{self.singular}",
        )(delete_)
        return bp


# --- helpers -------------------------------------------------------------------------------------


def to_json(value: Any) -> bytes:
    """Rows as the API's JSON, straight from the database's values.

    The rows hold exactly the read model's columns, already of its types, so they are written
    without validating them again (which cost more than the query on a page of 50); decimals
    as strings and times in UTC with a Z, as pydantic writes them. (Column names such as
    "group" arrive as str subclasses, hence NON_STR_KEYS.)
    """
    return orjson.dumps(
        value, default=_json_default, option=orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):  # a database row
        return dict(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def parse_value(typ: Any, raw: str, param: str) -> Any:
    """A query-string value as `typ`; dates only in ISO form (pydantic would take 0 as 1970)."""
    if typ is date or typ is datetime:
        try:
            return typ.fromisoformat(raw)
        except ValueError:
            raise Invalid(
                "%(value)r is not an ISO date (YYYY-MM-DD)",
                params={"value": raw},
                prefix=param,
                field=param,
            ) from None
    return adapter(typ).validate_python(raw)


@functools.cache
def adapter(typ: Any) -> TypeAdapter:
    """One TypeAdapter per type: building one costs more than the validation it does."""
    return TypeAdapter(typ)


def as_dicts(result: Any) -> list[dict[str, Any]]:
    """A result's rows as plain dicts (written as JSON without a conversion per row)."""
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.all()]


def json_body() -> Any:
    """The request's JSON (checked for media type and syntax by the API's before_request)."""
    return request.get_json(silent=True)


def etag_of(body: bytes) -> str:
    """A strong ETag from the representation itself: any change of any field changes it."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def check_if_match(current: str) -> None:
    if (
        request.if_match
        and not request.if_match.star_tag
        and not request.if_match.contains(current.strip('"'))
    ):
        raise PreconditionFailed(
            "the record changed since you read it (If-Match does not match its ETag); read it again",
            field="If-Match",
        )


def _int_param(args: MultiDict, name: str, default: int, low: int, high: int | None) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid("%(name)s must be an integer", params={"name": name}, field=name) from None
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


def _page_url(args: MultiDict, **changes: Any) -> str:
    """This request's URL with some query parameters changed (the link to another page). Put
    together from its parts: request.base_url re-encodes the whole URL, slowly."""
    params = MultiDict(args)
    for key, value in changes.items():
        params.setlist(key, [str(value)])
    base = f"{request.scheme}://{request.host}{request.root_path}{request.path}"
    return f"{base}?{urlencode(list(params.items(multi=True)))}"


def _encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int | None:
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        if kind == "id" and is_id(value):
            return int(value)
    except (binascii.Error, ValueError):  # not base64, not ASCII, not UTF-8
        pass
    raise BadRequest("cursor is not one this API gave out", field="cursor")
