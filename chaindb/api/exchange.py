"""A table as offices exchange it: labelled columns, names for references, words for codes.

A resource's columns as people read them (`SheetColumn`: the label, its unit, the vocabulary of
a code, the table a reference names a row of) are declared by the pages that show them and
handed to the resource, so that its export can be written for people (名称, 是/否, 历城区) and its
import can read such a file back, whatever language its headers are in:

- headers: the API's field names, or the columns' labels in Chinese or English, with or without
  their unit (协议投资（亿元）), spaces, case and bracket widths aside;
- values: yes/no as true/false/是/否/1/0, a vocabulary's code or its label in either language, a
  reference by id, natural key (code, credit code) or name, amounts with thousands separators,
  dates as 2024-03-01, 2024/3/1 or 2024年3月1日, lists separated by | or 、.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, or_, select
from sqlalchemy.orm import Session

from chaindb.api.sheets import from_cell
from chaindb.db import Base
from chaindb.errors import N_, Invalid

UNIT_OF_FORMAT = {"yi": "亿元", "wan": "万元"}
SHEET_FORMAT = {"yi": "yi", "wan": "wan", "percent": "percent", "number": "number"}
TRUE = {"true", "t", "yes", "y", "1", "是", "对", "√", "✓", "✔"}
FALSE = {"false", "f", "no", "n", "0", "否", "不是", "×", "✗", "✘"}
LIST_SEPARATORS = re.compile(r"\s*[|、;；]\s*")
LOOSE_DATE = re.compile(r"^(\d{4})\s*[/.年-]\s*(\d{1,2})\s*[/.月-]\s*(\d{1,2})\s*日?$")
THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?:\D|$))")
BATCH = 2000


@dataclass(frozen=True)
class SheetColumn:
    """A column of a resource as people read it."""

    name: str  # the API's field
    label: Any  # its label (a lazy translation)
    unit: str | None = None  # 亿元, 万元: shown in the header, numbers in that unit
    format: str | None = None  # yi, wan, day, moment, yes_no, number, percent
    choices: Mapping[str, Any] | None = None  # a vocabulary: code -> label
    ref: type[Base] | None = None  # a reference, shown by the name of the row it names
    ref_label: str = "name_zh"
    ref_key: str | None = None  # the natural key of the row named (a code, a credit code)
    within: str | None = None  # the reference is named within the row this column names
    synonyms: tuple[Any, ...] = ()  # other labels people give it (a form's label)
    read_only: bool = False  # shown, never written: an import ignores it

    def header(self) -> str:
        """The label in the current language, with its unit: 协议投资（亿元）."""
        label = str(self.label)
        return f"{label}（{self.unit}）" if self.unit and self.unit not in label else label

    def sheet_format(self) -> str | None:
        return SHEET_FORMAT.get(self.format or "")


def header_key(text: str) -> str:
    """A header as compared: widths, case, spaces and the kind of brackets aside."""
    text = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return re.sub(r"\s+", "", text)


def _without_unit(key: str) -> str:
    return re.sub(r"\((亿元|万元|元|%|个)\)$", "", key)


# --- writing --------------------------------------------------------------------------------------


def office_rows(
    session: Session | Connection,
    columns: Sequence[SheetColumn],
    rows: Iterable[Mapping[str, Any]],
    *,
    yes: str,
    no: str,
) -> Iterator[list[Any]]:
    """The rows as people read them: names for references, labels for codes, yes/no in words."""
    batch: list[Mapping[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield from _office_batch(session, columns, batch, yes, no)
            batch = []
    if batch:
        yield from _office_batch(session, columns, batch, yes, no)


def _office_batch(session, columns, batch, yes: str, no: str) -> Iterator[list[Any]]:
    names: dict[str, dict[Any, str]] = {}
    for col in columns:
        if col.ref is None:
            continue
        ids = {row.get(col.name) for row in batch} - {None}
        table = col.ref.__table__
        names[col.name] = (
            dict(
                session.execute(
                    select(table.c.id, table.c[col.ref_label]).where(table.c.id.in_(sorted(ids)))
                ).all()
            )
            if ids
            else {}
        )
    for row in batch:
        out = []
        for col in columns:
            value = row.get(col.name)
            if value is None:
                out.append(None)
            elif col.ref is not None:
                out.append(names[col.name].get(value, value))
            elif col.choices is not None:
                key = getattr(value, "value", value)
                out.append(str(col.choices.get(key, key)))
            elif isinstance(value, bool):
                out.append(yes if value else no)
            else:
                out.append(value)
        yield out


# --- reading --------------------------------------------------------------------------------------


@dataclass
class Reading:
    """How an imported table's header maps to the resource's fields."""

    fields: dict[int, str]  # column position -> field
    columns: dict[str, SheetColumn]  # field -> its column, where the pages declared one
    ignored: list[str]  # headers of read-only columns, ignored
    unknown: list[str]


def known_headers(
    columns: Sequence[SheetColumn], writable: Iterable[str], read_only: Iterable[str]
) -> dict[str, str | None]:
    """header key -> field (None: read-only, ignored) for every way a header may be written."""
    from flask_babel import force_locale

    found: dict[str, str | None] = {}
    for name in read_only:
        found[header_key(name)] = None
    for name in writable:
        found[header_key(name)] = name
    for col in columns:
        field = (
            col.name if not col.read_only and (col.name in writable or col.name == "id") else None
        )
        for locale in ("zh", "en"):
            with force_locale(locale):
                texts = [str(col.label), col.header(), *(str(s) for s in col.synonyms)]
            for text in texts:
                key = header_key(text)
                found.setdefault(key, field)
                found.setdefault(_without_unit(key), field)
    return found


def find_header(
    lines: Sequence[tuple[int, list[str]]], known: Mapping[str, str | None], *, look: int = 10
) -> int:
    """The position in `lines` of the header: among the first lines, the one naming the most
    known columns, mostly known names (an office export has a title and its filters above)."""
    best, best_hits = 0, 0
    for index, (_, cells) in enumerate(lines[:look]):
        filled = [c for c in cells if str(c).strip()]
        hits = sum(1 for c in filled if _lookup(known, c) is not _MISSING)
        if hits > best_hits and hits * 2 >= len(filled):
            best, best_hits = index, hits
    return best


_MISSING = object()


def _lookup(known: Mapping[str, str | None], text: str) -> Any:
    key = header_key(text)
    if key in known:
        return known[key]
    bare = _without_unit(key)
    return known.get(bare, _MISSING)


def read_header(
    header: Sequence[str],
    columns: Sequence[SheetColumn],
    writable: Iterable[str],
    read_only: Iterable[str],
) -> Reading:
    known = known_headers(columns, list(writable), list(read_only))
    reading = Reading(fields={}, columns={c.name: c for c in columns}, ignored=[], unknown=[])
    for position, text in enumerate(header):
        if not str(text).strip():
            continue
        field = _lookup(known, text)
        if field is _MISSING:
            reading.unknown.append(str(text))
        elif field is None:
            reading.ignored.append(str(text))
        elif field in reading.fields.values():
            raise Invalid(
                N_("two columns are the same field (%(field)s): keep one of them"),
                params={"field": text},
                field="file",
            )
        else:
            reading.fields[position] = field
    return reading


def cell_value(
    session: Session,
    col: SheetColumn | None,
    text: str,
    *,
    kind: str,
    row: Mapping[str, Any],
    names: dict[Any, Any] | None = None,
) -> Any:
    """One imported cell as the API takes it. `kind` is the field's type as the schema says
    (bool, list, date, number or text); `row` the row's values read so far (for a reference
    named within another)."""
    text = from_cell(text.strip())
    if col is not None and col.choices is not None:
        return _choice(col, text)
    if col is not None and col.ref is not None:
        if names is None:
            return _reference(session, col, text, row)
        key = (col.name, text, row.get(col.within) if col.within else None)
        if key not in names:
            names[key] = _reference(session, col, text, row)
        return names[key]
    if kind == "list":
        return [v for v in LIST_SEPARATORS.split(text) if v]
    if kind not in ("bool", "date", "number"):
        return text
    text = unicodedata.normalize("NFKC", text)  # full-width digits and letters
    if kind == "bool":
        lowered = text.lower()
        if lowered in TRUE:
            return True
        if lowered in FALSE:
            return False
        return text  # refused by the schema, naming the field
    if kind == "date":
        loose = LOOSE_DATE.match(text)
        return f"{loose[1]}-{int(loose[2]):02d}-{int(loose[3]):02d}" if loose else text
    text = THOUSANDS.sub("", text)
    unit = col.unit if col is not None else None
    if unit and text.endswith(unit):
        text = text[: -len(unit)].strip()
    return text


def _choice(col: SheetColumn, text: str) -> str:
    from flask_babel import force_locale

    if text in (col.choices or {}):
        return text
    wanted = header_key(text)
    for code, label in (col.choices or {}).items():
        for locale in ("zh", "en"):
            with force_locale(locale):
                if header_key(str(label)) == wanted:
                    return code
    return text  # refused by the schema, naming the field and the choices


def _reference(session: Session, col: SheetColumn, text: str, row: Mapping[str, Any]) -> Any:
    """A reference by name when one row has that name; else as written (an id or a natural
    key, which the resource resolves, or refuses naming the field)."""
    assert col.ref is not None
    table = col.ref.__table__
    names = [table.c[col.ref_label] == text]
    if "name_en" in table.c and col.ref_label != "name_en":
        names.append(table.c.name_en == text)
    if col.ref_key is not None:
        names.append(table.c[col.ref_key] == text)
    conditions = [or_(*names)]
    if col.within and row.get(col.within) is not None:
        within_id = row[col.within]
        if isinstance(within_id, int) or str(within_id).isdigit():
            conditions.append(table.c[col.within] == int(within_id))
    found = session.execute(select(table.c.id).where(*conditions).limit(2)).scalars().all()
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise Invalid(
            N_("several records are named %(name)r: give the id or the code instead"),
            params={"name": text},
            prefix=col.name,
            field=col.name,
        )
    return text
