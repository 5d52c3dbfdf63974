"""Text length limits: every text column a person writes holds at most 200 characters (names,
persons, units, products; each alias of a text array) or 10,000 (notes, descriptions, sources,
reasons), as CHECK <table>_<column>_length constraints; text_items_within(text[], integer)
checks the items of an array.

Rows already longer are kept: such a constraint stays NOT VALID (it still refuses every new or
changed row that breaks it) and the upgrade logs a warning naming the table, the column and how
many rows break it. Shorten them, then ALTER TABLE <table> VALIDATE CONSTRAINT <name>.

Revision ID: 28df19e2bcc3
Revises: 9bd16414f159
Create Date: 2026-12-03 06:00:00.000000+00:00
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "28df19e2bcc3"
down_revision: str | Sequence[str] | None = "9bd16414f159"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

SHORT, LONG = 200, 10_000
# (table, column, most characters)
TEXT_LIMITS = [
    ("app_user", "display_name", SHORT),
    ("api_token", "name", SHORT),
    ("chain", "name_zh", SHORT),
    ("chain", "name_en", SHORT),
    ("chain", "chief", SHORT),
    ("chain", "target_2030_scope", SHORT),
    ("chain", "notes", LONG),
    ("chain_segment", "name_zh", SHORT),
    ("chain_segment", "name_en", SHORT),
    ("chain_segment", "description", LONG),
    ("chain_role", "source", LONG),
    ("chain_role", "notes", LONG),
    ("district", "name_zh", SHORT),
    ("district", "name_en", SHORT),
    ("district", "notes", LONG),
    ("enterprise", "uscc_override_reason", LONG),
    ("enterprise", "name_zh", SHORT),
    ("enterprise", "name_en", SHORT),
    ("enterprise", "short_name", SHORT),
    ("enterprise", "notes", LONG),
    ("designation", "issuer", SHORT),
    ("designation", "notes", LONG),
    ("project", "name", SHORT),
    ("project", "investor_name", SHORT),
    ("project", "responsible_unit", SHORT),
    ("project", "responsible_person", SHORT),
    ("project", "source", LONG),
    ("project", "notes", LONG),
    ("project_stage_event", "reason", LONG),
    ("project_stage_event", "note", LONG),
    ("supply_link", "product", SHORT),
    ("supply_link", "reported_by", SHORT),
    ("supply_link", "notes", LONG),
    ("target", "source", LONG),
    ("target", "notes", LONG),
]
# (table, text array column, most characters of each item)
ITEM_LIMITS = [
    ("chain", "aliases", SHORT),
    ("district", "aliases", SHORT),
    ("enterprise", "aliases", SHORT),
]

# A CHECK cannot hold a subquery; an IMMUTABLE function may.
ITEMS_WITHIN = """
CREATE FUNCTION text_items_within(items text[], max_length integer) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT NOT EXISTS (SELECT FROM unnest(items) AS item WHERE char_length(item) > max_length)
$$
"""


def _constraints() -> list[tuple[str, str, str, str]]:
    """(table, column, constraint name, condition) of every limit."""
    return [
        (table, column, f"ck_{table}_{column}_length", f"char_length({column}) <= {limit}")
        for table, column, limit in TEXT_LIMITS
    ] + [
        (table, column, f"ck_{table}_{column}_length", f"text_items_within({column}, {limit})")
        for table, column, limit in ITEM_LIMITS
    ]


def _validate_unless_broken(table: str, column: str, name: str, condition: str) -> None:
    if context.is_offline_mode():  # no rows to count here: the SQL decides when it runs
        op.execute(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM {table} WHERE NOT ({condition})) THEN "
            f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}; ELSE RAISE WARNING "
            f"'{name} left NOT VALID: rows of {table} have a longer {column}'; END IF; END $$"
        )
        return
    sql = sa.text(f"SELECT count(*) FROM {table} WHERE NOT ({condition})")
    broken = op.get_bind().execute(sql).scalar_one()
    if broken:
        log.warning(
            "%s left NOT VALID: %d rows of %s have a longer %s (%s); shorten them, then "
            "ALTER TABLE %s VALIDATE CONSTRAINT %s",
            name, broken, table, column, condition, table, name,
        )  # fmt: skip
    else:
        op.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}")


def upgrade() -> None:
    op.execute(ITEMS_WITHIN)
    op.execute(
        "COMMENT ON FUNCTION text_items_within(text[], integer) IS 'True when no item of the "
        "array is longer than max_length characters (the CHECKs on aliases)'"
    )
    for table, column, name, condition in _constraints():
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({condition}) NOT VALID")
        _validate_unless_broken(table, column, name, condition)


def downgrade() -> None:
    for table, _, name, _ in reversed(_constraints()):
        op.drop_constraint(op.f(name), table, type_="check")
    op.execute("DROP FUNCTION text_items_within(text[], integer)")
