"""A project created writes its milestones from its own row: project_sync_milestones() no longer
calls project_reached() on INSERT.

At synthetic scale 1 the milestone trigger added 0.13-0.19 ms to a 0.41 ms project INSERT (a
PL/pgSQL loop of 3,000; +11% to +32% per committed single-row INSERT in
bench/report_freshness.py). A project just created has one stage event, the one
project_record_stage_on_insert has just written (triggers fire in name order), so what
project_reached() would compute follows from the row and that event's day alone: the stage it
was created at (from that day, else the project's date for it), the dated stages its dates show
it has passed, and lead or negotiation only when created there. An UPDATE still recomputes from
the whole history through project_reached(), the one definition.

Revision ID: c5d1e8f2a937
Revises: b81f3c6e2d47
Create Date: 2026-12-03 17:45:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c5d1e8f2a937"
down_revision: str | Sequence[str] | None = "b81f3c6e2d47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SYNC_MILESTONES = """
CREATE OR REPLACE FUNCTION project_sync_milestones() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  first_on date;
  furthest integer;
BEGIN
  -- After the stage trigger (names fire in order: project_record_stage_* first), so that the
  -- history holds the move just made.
  IF TG_OP = 'UPDATE' THEN
    DELETE FROM project_milestone WHERE project_id = NEW.id;
    INSERT INTO project_milestone (project_id, stage, rank, reached_on)
    SELECT NEW.id, r.stage, r.rank, r.reached_on FROM project_reached(NEW.id) AS r;
    RETURN NULL;
  END IF;
  -- Created: the history is the one event just recorded. What project_reached() would say,
  -- from the row and that event's day.
  SELECT e.occurred_on INTO first_on
    FROM project_stage_event AS e
   WHERE e.project_id = NEW.id AND e.to_stage = NEW.stage;
  furthest := GREATEST(
    project_stage_rank(NEW.stage),
    CASE
      WHEN NEW.capacity_reached_on IS NOT NULL THEN 6
      WHEN NEW.production_started_on IS NOT NULL THEN 5
      WHEN NEW.construction_started_on IS NOT NULL THEN 4
      WHEN NEW.signed_on IS NOT NULL THEN 3
    END
  );
  INSERT INTO project_milestone (project_id, stage, rank, reached_on)
  SELECT NEW.id, m.stage, m.rank,
         COALESCE(CASE WHEN m.stage = NEW.stage THEN first_on END, m.own)
    FROM (VALUES
      ('lead', 1, NULL::date, NEW.stage = 'lead'),
      ('negotiating', 2, NULL::date, NEW.stage = 'negotiating'),
      ('signed', 3, NEW.signed_on, furthest >= 3),
      ('under_construction', 4, NEW.construction_started_on, furthest >= 4),
      ('in_production', 5, NEW.production_started_on, furthest >= 5),
      ('at_capacity', 6, NEW.capacity_reached_on, furthest >= 6),
      ('dropped', NULL, NEW.dropped_on, NEW.stage = 'dropped')
    ) AS m (stage, rank, own, reached)
   WHERE m.reached;
  RETURN NULL;
END
$$
"""

PREVIOUS = """
CREATE OR REPLACE FUNCTION project_sync_milestones() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- After the stage trigger (names fire in order: project_record_stage_* first), so that the
  -- history holds the move just made.
  IF TG_OP = 'UPDATE' THEN
    DELETE FROM project_milestone WHERE project_id = NEW.id;
  END IF;
  INSERT INTO project_milestone (project_id, stage, rank, reached_on)
  SELECT NEW.id, r.stage, r.rank, r.reached_on FROM project_reached(NEW.id) AS r;
  RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.execute(SYNC_MILESTONES)


def downgrade() -> None:
    op.execute(PREVIOUS)
