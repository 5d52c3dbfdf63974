"""A resource of the JSON API: list, read, create, update, replace, delete, import, export and
the history of one table.

Each domain declares its resource (model, schemas, references, filters, ordering, its messages) in
its api.py; the resource's jobs turn the declaration into one behaviour everywhere, each in a
module of its own: the query string (chaindb.api.query), the reads (chaindb.api.reads), the writes
(chaindb.api.writes), the responses (chaindb.api.responses), files in and out
(chaindb.api.transfer) and the routes (chaindb.api.routes).

A domain adapts a resource through hooks, in a subclass: prepare() the values of a write, its
messages, and scope(): which rows a request may see and change. Every read and write passes
through the scope (lists, exports, a record by key, create, update, replace, delete, bulk,
import, history), bound as parameters so that one compiled list serves every office.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, RootModel, TypeAdapter, create_model
from sqlalchemy import ARRAY, BigInteger, ColumnElement, bindparam, false
from sqlalchemy.orm import Session

from chaindb import access
from chaindb.api import routes, transfer
from chaindb.api.blueprint import APIBlueprint
from chaindb.api.query import QueryParsing
from chaindb.api.reads import Reads
from chaindb.api.responses import Responses
from chaindb.api.schemas import Page, partial, sparse_model
from chaindb.api.writes import GENERIC_RECORD_MESSAGES, Ref, Writes
from chaindb.db import Base
from chaindb.errors import N_, Message, NotFound


@dataclass(frozen=True)
class Scope:
    """Which rows of a resource a request may see and write: a condition on its table whose
    values are bound parameters named scope_… (`values`), so that its SQL, and the list plans
    compiled from it, are the same whoever asks. Requests whose scope has the same `name` share
    the SQL: the name says what the clause is, never whose values it holds."""

    name: str
    clause: ColumnElement
    values: Mapping[str, Any] = field(default_factory=dict)
    message: Any = None  # why a write outside it is refused (a Message naming the unit)


def by_unit(
    message: str,
    *,
    district: Callable[[Any], ColumnElement] | None = None,
    chains: Callable[[Any], ColumnElement] | None = None,
) -> Scope | None:
    """The request's unit as a resource's scope, as the database's row-level security draws it:
    None for the city bureau (everything) and outside a request; for a district office the
    clause `district` makes of its planning unit (a bound parameter), for a chain office the
    clause `chains` makes of its chains (a bigint[] parameter); no rows where the resource gives
    the unit's kind none. `message` (with %(unit)s) says why a write outside it is refused."""
    principal = access.current()
    if principal is None or principal.scope.everything:
        return None
    unit = principal.scope
    why = Message(message, {"unit": unit.name})
    if unit.kind == access.UnitKind.DISTRICT_OFFICE and district is not None and unit.district_id:
        parameter = bindparam("scope_district", type_=BigInteger)
        return Scope("district", district(parameter), {"scope_district": unit.district_id}, why)
    if unit.kind == access.UnitKind.CHAIN_OFFICE and chains is not None and unit.chain_ids:
        parameter = bindparam("scope_chains", type_=ARRAY(BigInteger))
        return Scope("chains", chains(parameter), {"scope_chains": sorted(unit.chain_ids)}, why)
    return Scope("nothing", false(), {}, why)


# Written by the city bureau only (chains, planning units, targets, units): its message.
CITY_ONLY = N_("only the city bureau changes these records; %(unit)s reads them")


@dataclass
class Resource(QueryParsing, Reads, Writes, Responses):
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
    # What it says of its records: (no record named %(key)r, record %(id)s is still referenced
    # by %(referrers)s), whole sentences of the domain's (chaindb.api.writes for the generic).
    messages: tuple[str, str] = GENERIC_RECORD_MESSAGES
    # What a reference to it that names no row says: (by natural key, by id); None: generic.
    ref_messages: tuple[str, str] | None = None
    # Which rows a request may see, and change (by_unit makes them of the request's unit);
    # None: every row (a write then passes the database's row-level security alone).
    sees: Callable[[], Scope | None] | None = None
    changes: Callable[[], Scope | None] | None = None

    # Every resource made, by its URL segment (for tests that check all of them alike).
    registry: ClassVar[dict[str, Resource]] = {}

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
        # As the routes document a read and a list: whole records, or with ?fields= some fields.
        sparse = sparse_model(self.read)
        base = self.read.__name__.removesuffix("Read")
        self.read_or_sparse = RootModel[self.read | sparse]  # type: ignore[name-defined]
        self.read_or_sparse.__name__ = f"{base}ReadOrFields"
        self.sparse_page = create_model(
            f"{base}PageOrFields",
            __base__=Page[self.read | sparse],  # type: ignore[name-defined]
        )
        self.sparse_page.model_config = dict(self.page.model_config)
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

    # --- hooks a domain overrides ---------------------------------------------------------------

    def scope(self) -> Scope | None:
        """The rows this request may see (and change, unless write_scope says otherwise);
        None: all of them."""
        return self.sees() if self.sees is not None else None

    def write_scope(self) -> Scope | None:
        """The rows this request may change (create, update, delete, import); None: all."""
        return self.changes() if self.changes is not None else self.scope()

    def not_found(self, key: str) -> NotFound:
        """No record named `key` (e.g. "no chain 'X9'")."""
        return NotFound(
            self.messages[0], params={"what": self.singular.replace("_", " "), "key": key}
        )

    # --- exchange: the columns as people read them (declared by the pages) ----------------------

    sheet_title: Any = None  # the plural, as people name the list (a lazy translation)
    _sheet_columns: Sequence[Any] = ()

    def sheet_columns(self) -> list[Any]:
        """The columns of the office layout (chaindb.api.exchange.SheetColumn), id first."""
        return list(self._sheet_columns)

    # --- routes ---------------------------------------------------------------------------------

    def blueprint(self) -> APIBlueprint:
        return routes.blueprint(self)
