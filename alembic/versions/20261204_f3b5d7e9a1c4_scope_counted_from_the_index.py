"""A list's count of a chain's (or a unit's) projects comes from the index alone.

Row-level security on project (project_in_scope) tests district_id and chain_id of every row a
query counts. ix_project_chain_id_stage held only (chain_id, stage), so counting a chain's
projects for its list visited every heap page holding one of them: at synthetic scale 1, 2,049
pages and 6.0 ms for the busiest chain (6,147 projects), growing with the chain. Each of the two
scope indexes now carries the other scope column (INCLUDE), and the count is an index-only scan:
44 pages and 1.1 ms.

The indexes are rebuilt in the migration's transaction: writes to project wait for the build
(about 0.1 s per 50,000 projects); reads go on.

Revision ID: f3b5d7e9a1c4
Revises: e8a2c4f6b1d3
Create Date: 2026-12-04 22:20:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "f3b5d7e9a1c4"
down_revision: str | Sequence[str] | None = "e8a2c4f6b1d3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_project_chain_id_stage", table_name="project")
    op.create_index(
        "ix_project_chain_id_stage",
        "project",
        ["chain_id", "stage"],
        postgresql_include=["district_id"],
    )
    op.drop_index("ix_project_district_id_stage", table_name="project")
    op.create_index(
        "ix_project_district_id_stage",
        "project",
        ["district_id", "stage"],
        postgresql_include=["chain_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_project_district_id_stage", table_name="project")
    op.create_index("ix_project_district_id_stage", "project", ["district_id", "stage"])
    op.drop_index("ix_project_chain_id_stage", table_name="project")
    op.create_index("ix_project_chain_id_stage", "project", ["chain_id", "stage"])
