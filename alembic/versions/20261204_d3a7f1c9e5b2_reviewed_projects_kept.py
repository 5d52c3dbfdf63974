"""What has been reviewed stays: a unit deletes only a project that was never submitted for
review nor approved, and adds evidence only to a draft or returned project.

- project_review_guard(): the delete of a project with an approved copy (project_approved) or a
  review history is refused unless the city bureau acts. Before, a unit could edit an approved
  project (it became a draft) or withdraw a submitted one, and then delete it, taking its
  approved figures and its review history along.
- project_evidence_insert: evidence is added to a draft or returned project only (an approved
  project's evidence was added without review).

Revision ID: d3a7f1c9e5b2
Revises: 8b4d2f6e0a19
Create Date: 2026-12-04 15:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

from chaindb.migrations import released

revision: str = "d3a7f1c9e5b2"
down_revision: str | Sequence[str] | None = "8b4d2f6e0a19"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DELETE_BEFORE = "IF OLD.review_status IN ('submitted', 'approved') AND NOT scope_all() THEN"
DELETE_NOW = (
    "IF (OLD.review_status IN ('submitted', 'approved')\n"
    "       OR EXISTS (SELECT 1 FROM project_approved AS a WHERE a.id = OLD.id)\n"
    "       OR EXISTS (SELECT 1 FROM project_review AS r WHERE r.project_id = OLD.id))\n"
    "      AND NOT scope_all() THEN"
)
EVIDENCE_BEFORE = (
    "EXISTS (SELECT 1 FROM project AS p WHERE p.id = project_id AND p.review_status <> 'submitted')"
)
EVIDENCE_NOW = (
    "EXISTS (SELECT 1 FROM project AS p WHERE p.id = project_id "
    "AND p.review_status IN ('draft', 'returned'))"
)


def _guard_at_6d2f() -> str:
    """project_review_guard() as 6d2f8b4e1c57 left it."""
    later = released("6d2f8b4e1c57")
    guard = released("4b8e2d6f1a93").FUNCTIONS["project_review_guard()"]
    return guard.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1).replace(
        later.GUARD_COMPARED_BEFORE, later.GUARD_COMPARED
    )


def _evidence_policy(condition: str) -> None:
    op.execute("DROP POLICY project_evidence_insert ON project_evidence")
    op.execute(
        "CREATE POLICY project_evidence_insert ON project_evidence FOR INSERT "
        f"WITH CHECK ({condition})"
    )


def upgrade() -> None:
    guard = _guard_at_6d2f()
    assert DELETE_BEFORE in guard
    op.execute(guard.replace(DELETE_BEFORE, DELETE_NOW))
    _evidence_policy(EVIDENCE_NOW)


def downgrade() -> None:
    op.execute(_guard_at_6d2f())
    _evidence_policy(EVIDENCE_BEFORE)
