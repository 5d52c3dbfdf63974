"""A project's contact phone.

Revision ID: 3e7a9c1d5b20
Revises: c5d1e8f2a937
Create Date: 2026-12-04 03:30:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3e7a9c1d5b20"
down_revision: str | Sequence[str] | None = "c5d1e8f2a937"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "project",
        sa.Column(
            "contact_phone",
            sa.Text(),
            nullable=True,
            comment="Phone of the project's contact (the investor's or the responsible "
            "person's), as the offices write it",
        ),
    )
    op.create_check_constraint(
        op.f("ck_project_contact_phone_length"), "project", "char_length(contact_phone) <= 200"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_project_contact_phone_length"), "project", type_="check")
    op.drop_column("project", "contact_phone")
