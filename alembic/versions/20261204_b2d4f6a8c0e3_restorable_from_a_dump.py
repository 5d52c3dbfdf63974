"""Restorable from a dump: two things a restore could not create again.

1. enterprise_name_keys() gets a SQL-standard body (RETURN ...), bound to enterprise_name_key()
   when it is created instead of looked up by name when it runs.
2. updated_at on enterprise and project is set by set_updated_at_if_changed(generated columns),
   not by a BEFORE trigger WHEN (OLD.* IS DISTINCT FROM NEW.*).

pg_restore runs with an empty search_path. The generated column enterprise.name_key_set calls
enterprise_name_keys(), whose body, kept as text, named enterprise_name_key() without its
schema: CREATE TABLE enterprise failed in the restore ("function enterprise_name_key(text) does
not exist"), and with it every backup. A SQL-standard body is parsed once, its references held
as dependencies (pg_dump orders them), and it is still inlined.

PostgreSQL refuses a BEFORE trigger whose WHEN compares whole rows of a table with generated
columns (they are not computed yet). The triggers were made before enterprise.name_key and
project.size_class existed, so they stood, but a restore makes the table first: CREATE TRIGGER
failed. The new function compares the rows without their generated columns (named as the
trigger's arguments): an update that changes nothing still keeps updated_at.

Revision ID: b2d4f6a8c0e3
Revises: 7f3b9d1c5e28
Create Date: 2026-12-04 18:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

from chaindb.migrations import audit_statements

revision: str = "b2d4f6a8c0e3"
down_revision: str | Sequence[str] | None = "7f3b9d1c5e28"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGNATURE = "enterprise_name_keys(names text[]) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE"
QUERY = """
  SELECT coalesce(array_agg(DISTINCT key ORDER BY key) FILTER (WHERE key IS NOT NULL), '{}')
  FROM unnest(names) AS name, enterprise_name_key(name) AS key
"""


SET_UPDATED_AT_IF_CHANGED = """
CREATE FUNCTION set_updated_at_if_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- TG_ARGV: the generated columns, not computed yet in a BEFORE trigger.
  IF to_jsonb(OLD) - TG_ARGV IS NOT DISTINCT FROM to_jsonb(NEW) - TG_ARGV THEN
    RETURN NEW;
  END IF;
  NEW.created_at := OLD.created_at;
  NEW.updated_at := now();
  RETURN NEW;
END
$$
"""

# table -> its generated columns
GENERATED = {"enterprise": ("name_key", "alias_keys"), "project": ("size_class",)}


def upgrade() -> None:
    op.execute(f"CREATE OR REPLACE FUNCTION {SIGNATURE}\nRETURN ({QUERY})")
    op.execute(SET_UPDATED_AT_IF_CHANGED)
    op.execute(
        "COMMENT ON FUNCTION set_updated_at_if_changed() IS 'BEFORE UPDATE: updated_at := "
        "now() (created_at kept) when a column other than the generated ones named as the "
        "arguments changed.'"
    )
    for table, columns in GENERATED.items():
        op.execute(f"DROP TRIGGER {table}_set_updated_at ON {table}")
        op.execute(audit_statements(table, generated=columns)[0])


def downgrade() -> None:
    # The triggers of before cannot be made again (PostgreSQL refuses their WHEN now that the
    # tables have generated columns): set_updated_at() without it, on every update.
    for table in GENERATED:
        op.execute(f"DROP TRIGGER {table}_set_updated_at ON {table}")
        op.execute(
            f"CREATE TRIGGER {table}_set_updated_at BEFORE UPDATE ON {table} FOR EACH ROW "
            "EXECUTE FUNCTION set_updated_at()"
        )
    op.execute("DROP FUNCTION set_updated_at_if_changed()")
    op.execute(f"CREATE OR REPLACE FUNCTION {SIGNATURE}\nAS $$\n{QUERY}$$")
