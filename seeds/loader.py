"""What every loader shares: reading CSV rows with their line numbers, and idempotent upserts."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, and_, insert, select, update
from sqlalchemy.exc import DBAPIError

from chaindb.enterprises.uscc import InvalidUSCC, validate_uscc

SEEDS_DIR = Path(__file__).resolve().parent


class SeedError(Exception):
    """A bad row: names the file, the line and the reason. The run is rolled back."""

    def __init__(self, path: Path | str, line: int, reason: str) -> None:
        self.path = Path(path)
        self.line = line
        self.reason = reason
        super().__init__(f"{self.path.name}, line {line}: {reason}")


@dataclass
class Report:
    """What a run did, per table: created, updated, unchanged."""

    counts: dict[str, Counter] = field(default_factory=dict)

    def add(self, table: str, outcome: str) -> None:
        self.counts.setdefault(table, Counter())[outcome] += 1

    def changed(self) -> int:
        return sum(c["created"] + c["updated"] for c in self.counts.values())

    def lines(self) -> list[str]:
        return [
            f"{table:<20} created {c['created']:>6}  updated {c['updated']:>6}  "
            f"unchanged {c['unchanged']:>6}"
            for table, c in self.counts.items()
        ]


# --- parsing ------------------------------------------------------------------------------------


def text(value: str) -> str | None:
    value = value.strip()
    return value or None


def required(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("is required")
    return value


def integer(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an integer") from None


def decimal(value: str) -> Decimal | None:
    value = value.strip()
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return number


def day(value: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def boolean(value: str) -> bool | None:
    value = value.strip().lower()
    if not value:
        return None
    if value in ("true", "t", "yes", "1"):
        return True
    if value in ("false", "f", "no", "0"):
        return False
    raise ValueError(f"{value!r} is not true or false")


def listing(value: str) -> list[str]:
    """A '|'-separated list."""
    return [item.strip() for item in value.split("|") if item.strip()]


def uscc(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    try:
        return validate_uscc(value)
    except InvalidUSCC as exc:
        raise ValueError(str(exc)) from None


Parser = Callable[[str], Any]


@dataclass(frozen=True)
class Row:
    path: Path
    line: int
    values: dict[str, Any]

    def error(self, reason: str) -> SeedError:
        return SeedError(self.path, self.line, reason)


def read_csv(path: Path, columns: Mapping[str, Parser]) -> Iterator[Row]:
    """Rows of a UTF-8 CSV parsed column by column; a bad value names its line and column."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [name for name in columns if name not in header]
        if missing:
            raise SeedError(path, 1, f"missing columns: {', '.join(missing)}")
        unknown = [name for name in header if name not in columns]
        if unknown:
            raise SeedError(path, 1, f"unknown columns: {', '.join(unknown)}")
        for record in reader:
            line = reader.line_num
            if None in record:
                raise SeedError(path, line, "more values than columns")
            parsed = {}
            for name, parse in columns.items():
                raw = record[name]
                if raw is None:
                    raise SeedError(
                        path, line, f"{name}: missing value (fewer values than columns)"
                    )
                try:
                    parsed[name] = parse(raw)
                except ValueError as exc:
                    raise SeedError(path, line, f"{name}: {exc}") from None
            yield Row(path, line, parsed)


# --- writing ------------------------------------------------------------------------------------


def upsert(
    conn: Connection,
    table: Table,
    key: Mapping[str, Any],
    values: Mapping[str, Any],
    *,
    report: Report,
    row: Row | None = None,
) -> int:
    """Insert the row found by `key`, or update the columns of `values` that differ; its id.

    Nothing is written when nothing differs, so a second run changes nothing (not even
    updated_at).
    """
    try:
        condition = and_(
            *(table.c[k].is_(None) if v is None else table.c[k] == v for k, v in key.items())
        )
        found = conn.execute(
            select(table.c.id, *(table.c[c] for c in values)).where(condition)
        ).all()
        if len(found) > 1:
            raise (row.error if row else RuntimeError)(
                f"{table.name}: {len(found)} rows match {dict(key)}; the key must be unique"
            )
        if not found:
            new_id = conn.execute(
                insert(table).values({**key, **values}).returning(table.c.id)
            ).scalar_one()
            report.add(table.name, "created")
            return new_id
        current = found[0]._mapping
        changes = {c: v for c, v in values.items() if current[c] != v}
        if changes:
            conn.execute(update(table).where(table.c.id == current["id"]).values(changes))
            report.add(table.name, "updated")
        else:
            report.add(table.name, "unchanged")
        return current["id"]
    except DBAPIError as exc:
        if row is None:
            raise
        raise row.error(database_reason(exc)) from None


def database_reason(exc: DBAPIError) -> str:
    """The database's own sentence and the constraint, without SQL or parameters."""
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    message = (getattr(diag, "message_primary", None) or str(orig)).strip()
    constraint = getattr(diag, "constraint_name", None)
    return f"{message} (constraint {constraint})" if constraint else message


class Lookup:
    """Natural key -> id, for the references a CSV makes (district code, chain code ...)."""

    def __init__(self, conn: Connection, table: Table, key: str, what: str) -> None:
        self.conn, self.table, self.key, self.what = conn, table, key, what
        self._cache: dict[Any, int] = {}

    def __call__(self, value: Any, row: Row, column: str) -> int | None:
        if value is None:
            return None
        if value not in self._cache:
            # The first row with that key: a record entered twice on purpose (a project of
            # the same name, confirmed) does not stop the seed.
            found = self.conn.execute(
                select(self.table.c.id)
                .where(self.table.c[self.key] == value)
                .order_by(self.table.c.id)
                .limit(1)
            ).scalar()
            if found is None:
                raise row.error(f"{column}: no {self.what} with {self.key} {value!r}")
            self._cache[value] = found
        return self._cache[value]
