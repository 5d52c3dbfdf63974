"""A list's query string: filters with lookups (field__gte=…), a search, the ordering and the
paging parameters, and the model that documents them in the OpenAPI document. One job of a
resource (chaindb.api.resource), written as a mixin of it."""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError, create_model
from sqlalchemy import BigInteger, ColumnElement, Integer, SmallInteger, bindparam
from werkzeug.datastructures import MultiDict

from chaindb.api.schemas import FIELDS_HELP, CachedSchema
from chaindb.db import is_id
from chaindb.errors import BadRequest, Invalid, from_validation_error

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
RESERVED = {
    "limit",
    "offset",
    "ordering",
    "q",
    "cursor",
    "format",
    "layout",
    "lang",
    "dry_run",
    "fields",
}
LOOKUPS = ("not_in", "in", "not", "gte", "lte", "gt", "lt", "contains", "isnull")


class Later:
    """A filter clause made only when asked for (Filters.clauses)."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[], ColumnElement]) -> None:
        self.make = make


@dataclass
class Filters:
    """Filter clauses whose values are named bound parameters (f0, f1, ...), those values, and
    the shape: what the SQL's text depends on besides the code (filters, lookups, searches).

    The query string is read and its values checked at once, but a clause is an expression
    made only when `clauses` is first read: a list whose SQL was compiled before (its shape
    seen) needs only the values, and making the expressions was a tenth of its Python."""

    pending: list[ColumnElement | Later] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    shape: list[tuple[str, Any]] = field(default_factory=list)
    _made: list[ColumnElement] | None = field(default=None, repr=False)

    @property
    def clauses(self) -> list[ColumnElement]:
        if self._made is None:
            self._made = [c.make() if isinstance(c, Later) else c for c in self.pending]
        return self._made

    def key(self, param: str, value: Any) -> str:
        """The name of the parameter that carries `value` of the query parameter `param`."""
        key = f"f{len(self.values)}"
        self.values[key] = value
        self.shape.append((param, key))
        return key


class QueryParsing:
    """The query string of a list, read against the resource's declared filters, expressions,
    search and ordering."""

    filter_types: dict[str, Any]
    expressions: dict[str, tuple[Any, Callable[[], ColumnElement]]]
    ordering: Any
    default_ordering: Any
    search: Callable[[str], ColumnElement] | None
    keyset: bool
    exports: bool

    def _query_model(self) -> type[BaseModel]:
        """A model of every accepted query parameter: it documents them in the OpenAPI document."""
        fields: dict[str, Any] = {
            "limit": (int | None, Field(None, ge=1, le=MAX_LIMIT, description=f"Page size (default {DEFAULT_LIMIT})")),
            "offset": (int | None, Field(None, ge=0, description="Rows to skip")),
            "ordering": (str | None, Field(None, description="Comma-separated fields, - for descending: " + ", ".join(self.ordering))),
        }  # fmt: skip
        fields["fields"] = (str | None, Field(None, description=FIELDS_HELP))
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
                found.pending.append(self._clause(param, name, lookup, raw, found))
        search = args.get("q")
        if search and self.search is not None:
            found.pending.append(Later(functools.partial(self.search, search)))
            found.shape.append(("q", search))  # its values are inside its SQL
        return found

    def _clause(self, param: str, name: str, lookup: str, raw: str, found: Filters) -> Later:
        typ = self.filter_types[name]
        column = self._column(name)
        try:
            if lookup in ("in", "not_in"):
                values = [
                    fits(column, parse_value(typ, v.strip(), param), param)
                    for v in raw.split(",")
                    if v.strip()
                ]
                found.shape.append((param, len(values)))
                if lookup == "in":
                    return Later(lambda: column.in_(values))
                return Later(lambda: column.not_in(values))
            if lookup == "isnull":
                flag = adapter(bool).validate_python(raw)
                found.shape.append((param, flag))
                return Later(lambda: column.is_(None) if flag else column.is_not(None))
            if lookup == "contains":
                if typ is not str:
                    raise Invalid("contains works on text fields only", prefix=param, field=param)
                escaped = raw.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                pattern = f"%{escaped}%"
                key = found.key(param, pattern)
                return Later(lambda: column.ilike(bindparam(key, pattern)))
            value = fits(column, parse_value(typ, raw, param), param)
        except ValidationError as exc:
            raise from_validation_error(exc, prefix=param) from None
        if lookup in ("gte", "lte", "gt", "lt") and typ not in (
            int,
            float,
            Decimal,
            date,
            datetime,
        ):
            raise Invalid(
                "%(lookup)s works on numbers and dates only",
                params={"lookup": lookup},
                prefix=param,
                field=param,
            )
        key = found.key(param, value)

        def make() -> ColumnElement:
            bound = bindparam(key, value)
            if lookup == "not":
                return column.is_distinct_from(bound)
            return {
                "gte": column.__ge__,
                "lte": column.__le__,
                "gt": column.__gt__,
                "lt": column.__lt__,
            }.get(lookup, column.__eq__)(bound)

        return Later(make)

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


def fits(column: Any, value: Any, param: str) -> Any:
    """The value, refused (a 422 naming the filter) when it is a whole number beyond what the
    column's integer type holds: the database would refuse it, and inside a streamed export
    that refusal would come after the 200 had gone out."""
    if not isinstance(value, int) or isinstance(value, bool):
        return value
    kind = getattr(column, "type", None)
    if isinstance(kind, SmallInteger):
        limit = 2**15 - 1
    elif isinstance(kind, BigInteger) or not isinstance(kind, Integer):
        limit = 2**63 - 1
    else:
        limit = 2**31 - 1
    if not -limit - 1 <= value <= limit:
        raise Invalid(
            "%(value)s is out of range: at most %(limit)s",
            params={"value": value, "limit": limit},
            prefix=param,
            field=param,
        )
    return value


@functools.cache
def adapter(typ: Any) -> TypeAdapter:
    """One TypeAdapter per type: building one costs more than the validation it does."""
    return TypeAdapter(typ)


def int_param(args: MultiDict, name: str, default: int, low: int, high: int | None) -> int:
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


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
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
