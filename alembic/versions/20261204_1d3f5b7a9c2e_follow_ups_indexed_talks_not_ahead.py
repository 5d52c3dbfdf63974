"""An officer's follow-ups indexed, and a negotiation logged only once it has taken place.

- ix_lead_owner_id_next_follow_up_on: the open leads of an officer by due date, for the count
  beside Follow-ups on every page an editor opens (bench/promotion_reads.py: 8-12 ms with 1,058
  open leads for one officer, most of it a BitmapAnd of two indexes).
- negotiation_held_not_ahead(): an entry dated after today is refused, for the analyst's SQL
  too (the service said so already): the newest entry moves its lead's follow-up, and one dated
  ahead would stay the newest.

Revision ID: 1d3f5b7a9c2e
Revises: 0b2d4f6a8c1e
Create Date: 2026-12-04 12:56:46.834406+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "1d3f5b7a9c2e"
down_revision: str | Sequence[str] | None = "0b2d4f6a8c1e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status IN ('new', 'contacted', 'negotiating')"

FUNCTION = """
CREATE FUNCTION negotiation_held_not_ahead() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  IF NEW.held_on > current_date THEN
    RAISE EXCEPTION 'a negotiation is logged once it has taken place (not %)', NEW.held_on
      USING ERRCODE = 'check_violation', CONSTRAINT = 'negotiation_held_not_ahead',
            TABLE = 'negotiation', COLUMN = 'held_on';
  END IF;
  RETURN NEW;
END
$$
"""
COMMENT = (
    "A negotiation entry is dated on or before the day it is logged: the newest entry moves "
    "the follow-up of its lead"
)
TRIGGER = (
    "CREATE TRIGGER negotiation_held_not_ahead BEFORE INSERT OR UPDATE OF held_on "
    "ON negotiation FOR EACH ROW EXECUTE FUNCTION negotiation_held_not_ahead()"
)


def upgrade() -> None:
    op.create_index(
        "ix_lead_owner_id_next_follow_up_on",
        "lead",
        ["owner_id", "next_follow_up_on"],
        unique=False,
        postgresql_where=OPEN,
    )
    op.execute(FUNCTION)
    op.execute(f"COMMENT ON FUNCTION negotiation_held_not_ahead() IS '{COMMENT}'")
    op.execute(TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS negotiation_held_not_ahead ON negotiation")
    op.execute("DROP FUNCTION IF EXISTS negotiation_held_not_ahead()")
    op.drop_index("ix_lead_owner_id_next_follow_up_on", table_name="lead", postgresql_where=OPEN)
