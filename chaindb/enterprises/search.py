"""Finding enterprises the way the offices type: Chinese, pinyin initials or a credit code.

`q` is read by its shape:

- with Chinese characters: a substring of the registered name, the short name or an alias
  (比亚迪 finds 比亚迪济南基地);
- otherwise: a substring of the pinyin initials of those names (byd, jnjd), or the beginning of a
  credit code (91370112).

The initials live in enterprise.name_initials, kept by the application (service.py, the seeds):
the database has no pinyin dictionary. They are the lower-case first letters of each Chinese
character (pypinyin, which reads polyphonic characters by phrase: 重汽 zq, 重庆 cq, 长清区 zqq),
with letters and digits kept and everything else dropped (（示例） -> sl, BMS 采集板 -> bmscjb), one
word per name: 'bydjnjd byd' for 比亚迪济南基地 with short name 比亚迪.

Initials are matched anywhere, not only at the start, because registered names begin with a
place or a mark (山东, 济南, （示例）): a trigram GIN index (pg_trgm) serves those substring
searches; a text_pattern_ops btree would serve prefixes only.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from functools import lru_cache

from pypinyin import Style, lazy_pinyin
from sqlalchemy import ColumnElement, Connection, bindparam, false, func, or_, select, update

from chaindb.enterprises.models import Enterprise

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
NOT_KEPT = re.compile(r"[^a-z0-9]+")
USCC_PREFIX = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{1,18}$")


@lru_cache(maxsize=4096)
def initials(text: str | None) -> str:
    """比亚迪济南基地 -> bydjnjd; letters and digits kept lower-cased, the rest dropped."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    letters = "".join(lazy_pinyin(text, style=Style.FIRST_LETTER, errors="default"))
    return NOT_KEPT.sub("", letters.lower())


def name_initials(
    name_zh: str | None, short_name: str | None = None, aliases: Iterable[str] | None = None
) -> str | None:
    """The value of enterprise.name_initials: one word per distinct name, space-separated."""
    words: list[str] = []
    for name in (name_zh, short_name, *(aliases or ())):
        word = initials(name)
        if word and word not in words:
            words.append(word)
    return " ".join(words) or None


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_clause(q: str) -> ColumnElement[bool]:
    """The WHERE clause of ?q= on the enterprise table."""
    q = unicodedata.normalize("NFKC", q).strip()
    if CJK.search(q):
        pattern = f"%{_like_escape(q)}%"
        return or_(
            Enterprise.name_zh.like(pattern),
            Enterprise.short_name.like(pattern),
            func.array_to_string(Enterprise.aliases, "\x1f").like(pattern),
        )
    clauses: list[ColumnElement[bool]] = []
    letters = initials(q)
    if letters:
        clauses.append(Enterprise.name_initials.like(f"%{letters}%"))
    code = re.sub(r"[\s-]+", "", q).upper()
    if USCC_PREFIX.match(code):
        clauses.append(Enterprise.uscc.like(f"{code}%"))
    return or_(*clauses) if clauses else false()


# --- keeping the column filled ----------------------------------------------------------------


def _stale(conn: Connection, only_missing: bool, batch: int) -> Iterator[list[dict]]:
    table = Enterprise.__table__
    last = 0
    while True:
        stmt = (
            select(table.c.id, table.c.name_zh, table.c.short_name, table.c.aliases,
                   table.c.name_initials)
            .where(table.c.id > last)
            .order_by(table.c.id)
            .limit(batch)
        )  # fmt: skip
        if only_missing:
            stmt = stmt.where(table.c.name_initials.is_(None))
        rows = conn.execute(stmt).all()
        if not rows:
            return
        last = rows[-1].id
        yield [
            {"row_id": r.id, "value": value}
            for r in rows
            if (value := name_initials(r.name_zh, r.short_name, r.aliases)) != r.name_initials
        ]


def refresh_name_initials(
    conn: Connection, *, only_missing: bool = False, batch: int = 5000
) -> int:
    """Recompute enterprise.name_initials where it differs (e.g. rows written by plain SQL);
    the number of rows changed. Rows already right are not touched (no change log entries)."""

    table = Enterprise.__table__
    stmt = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(name_initials=bindparam("value"))
    )
    changed = 0
    for params in _stale(conn, only_missing, batch):
        if params:
            conn.execute(stmt, params)
            changed += len(params)
    return changed
