"""The approved copy of a project planned per call: project_take_approved() runs with
plan_cache_mode = force_custom_plan.

PL/pgSQL keeps a generic plan of each statement once five calls have been planned. The copy of a
project's milestones (INSERT INTO project_approved_milestone ... FROM project_milestone WHERE
project_id = NEW.id) was planned while project_milestone was nearly empty: a sequential scan.
Within one long transaction (the first import of a city's projects, the synthetic loader) no
ANALYZE invalidates that plan while project_milestone grows, so each approved project scanned
every milestone written before it: 1.1 ms a project at the 1,000th, 1.4 ms at the 6,000th, and a
load of 250,000 projects that did not finish. A custom plan per call sees the table's current
size (the planner scales its statistics by the pages it has now) and takes the primary key;
planning four statements costs tens of microseconds a call.

Revision ID: 7f3b9d1c5e28
Revises: 2a6c8e0f4b17
Create Date: 2026-12-04 17:10:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7f3b9d1c5e28"
down_revision: str | Sequence[str] | None = "2a6c8e0f4b17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER FUNCTION project_take_approved() SET plan_cache_mode = force_custom_plan")


def downgrade() -> None:
    op.execute("ALTER FUNCTION project_take_approved() RESET plan_cache_mode")
