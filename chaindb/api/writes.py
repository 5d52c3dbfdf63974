"""Writing a resource: references by natural key, validation, create (one or many, all or none),
update, replace and delete, each within the resource's scope. One job of a resource, written as a
mixin of it; a domain overrides prepare() (and its own rules in its service), not these."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from chaindb.api import transfer
from chaindb.api.schemas import parse_body
from chaindb.db import Base, is_id
from chaindb.errors import (
    N_,
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    Message,
    from_database_error,
)

# The sentences a resource says of its records, one whole sentence per kind of record so that a
# translation never glues a noun into a sentence; each resource declares its own (messages=,
# ref_messages=) and these say it of any other, with its name (data) inside.
GENERIC_RECORD_MESSAGES = (
    N_("no %(what)s %(key)r"),
    N_("%(what)s %(id)s is still referenced by %(referrers)s"),
)
GENERIC_REF_MESSAGES = (
    N_("no %(what)s with %(key)s %(value)r"),
    N_("no %(what)s with id %(value)s"),
)
OUT_OF_SCOPE = N_("the record would lie outside the records you may change")

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
    # (no row with that key, no row with that id) when the reference names the target otherwise
    # than its resource does (a supplier is an enterprise); else the target resource's own.
    messages: tuple[str, str] | None = None


class Writes:
    """The write path of a resource."""

    def prepare(
        self, session: Session, values: dict[str, Any], current: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The values to write, from the validated and resolved ones (a domain adds what it
        derives, or refuses what its rules refuse); `current` is the record an update changes."""
        values.pop("confirm", None)  # a resource with warnings to confirm reads it in its own
        if self.check:
            self.check(session, values if current is None else {**current, **values}, current)
        return values

    def within_scope(self, session: Session, record_id: int) -> None:
        """Refuse a write that leaves its record outside the request's scope."""
        scope, values, _ = self.scoped(write=True)
        if not scope:
            return
        inside = session.scalar(
            select(self.table.c.id).where(self.table.c.id == record_id, *scope), values
        )
        if inside is None:
            raise self.out_of_scope()

    def out_of_scope(self) -> Forbidden:
        """The refusal of a write outside the request's scope, in the scope's words."""
        scope = self.write_scope()
        message = scope.message if scope is not None and scope.message is not None else None
        return Forbidden(message or OUT_OF_SCOPE, field="id")

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
        by_key, by_id = self.ref_messages_of(ref)
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

    def ref_messages_of(self, ref: Ref) -> tuple[str, str]:
        """What a reference that names no row says: the Ref's own, else the target's."""
        if ref.messages is not None:
            return ref.messages
        for resource in self.registry.values():
            if resource.table is ref.target.__table__ and resource.ref_messages is not None:
                return resource.ref_messages
        return GENERIC_REF_MESSAGES

    def validate(self, schema: type[BaseModel], body: Any) -> dict[str, Any]:
        if isinstance(body, dict):
            body = {k: v for k, v in body.items() if k not in self.read_only_fields}
        return parse_body(schema, body, exclude_unset=schema is self.update)

    def insert_row(self, session: Session, values: dict[str, Any]) -> dict[str, Any]:
        """Write a new record of the prepared values (a domain may write through its service)."""
        return self._write(session, insert(self.table).values(values).returning(*self.columns))

    def update_row(
        self, session: Session, current: dict[str, Any], values: dict[str, Any]
    ) -> dict[str, Any]:
        """Change the record `current` by the prepared values."""
        stmt = (
            update(self.table)
            .where(self.table.c.id == current["id"])
            .values(values)
            .returning(*self.columns)
        )
        return self._write(session, stmt)

    def create_one(self, session: Session, body: Any) -> dict[str, Any]:
        values = self.resolve(session, self.validate(self.create, body))
        row = self.insert_row(session, self.prepare(session, values, None))
        self.within_scope(session, row["id"])
        return row

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
        values = self.prepare(session, self.resolve(session, self.validate(schema, body)), current)
        if not values:
            return current
        row = self.update_row(session, current, values)
        self.within_scope(session, row["id"])
        return row

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
                    self.messages[1],
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
            error = from_database_error(exc)
            if isinstance(error, Forbidden):  # the database's row-level security
                raise self.out_of_scope() from None
            raise error from None

    def import_match(self, session: Session, body: dict[str, Any]) -> int | None:
        """The record an imported row updates, or None to create one."""
        return transfer.match_by_key(self, session, body)
