"""enterprise_of_key() and chain_of_key() in PL/pgSQL: their plans are kept, not made per call.

Both were SQL functions with SET search_path, which PostgreSQL never inlines: each call in a
statement planned its queries anew (three lookups for an enterprise). The chain-master workflow
names three keys in its one statement (2a6c8e0f4b17), and the planning cost more than the rest
of the insert: pgbench of that statement, 32 clients on 2 cores, synthetic scale 1: 764
links/s, 986 with the ids written in; with these functions 977. PL/pgSQL keeps each query's
plan for the session, and stops at the first lookup that finds.

Same answers: an enterprise by credit code (18 characters), else by id (1 to 17 digits), else
the enterprise a merge made of it (the latest merge of that id or credit code); a chain by id
(digits only) or else by code; NULL when nothing is found, or for NULL. Still STABLE, still as
the caller (row-level security reads every enterprise and chain). The downgrade restores
2a6c8e0f4b17's SQL functions.

Revision ID: b7e9d1f3a5c8
Revises: a5d8f2b6c9e1
Create Date: 2026-12-05 12:30:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

from chaindb.migrations import released

revision: str = "b7e9d1f3a5c8"
down_revision: str | Sequence[str] | None = "a5d8f2b6c9e1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYS = """
CREATE OR REPLACE FUNCTION enterprise_of_key(key text) RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
DECLARE
  as_id bigint := CASE WHEN key ~ '^[0-9]{1,17}$' THEN key::bigint END;
  found bigint;
BEGIN
  IF length(key) = 18 THEN
    SELECT e.id INTO found FROM enterprise e WHERE e.uscc = key;
    IF found IS NOT NULL THEN
      RETURN found;
    END IF;
  END IF;
  IF as_id IS NOT NULL THEN
    SELECT e.id INTO found FROM enterprise e WHERE e.id = as_id;
    IF found IS NOT NULL THEN
      RETURN found;
    END IF;
  END IF;
  SELECT m.into_id INTO found FROM enterprise_merge m
   WHERE m.merged_id = as_id OR m.merged_uscc = key
   ORDER BY m.id DESC LIMIT 1;
  RETURN found;
END
$$;
CREATE OR REPLACE FUNCTION chain_of_key(key text) RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
DECLARE
  found bigint;
BEGIN
  IF key ~ '^[0-9]{1,17}$' THEN
    SELECT c.id INTO found FROM chain c WHERE c.id = key::bigint;
  ELSE
    SELECT c.id INTO found FROM chain c WHERE c.code = key;
  END IF;
  RETURN found;
END
$$;
"""


def upgrade() -> None:
    op.execute(KEYS)


def downgrade() -> None:
    # CREATE OR REPLACE keeps the functions' grants (the SQL text created them afresh).
    op.execute(
        released("2a6c8e0f4b17").KEYS.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
    )
