"""Segment basis: chain_segment.basis says whether a segment comes from the industry's general
structure (general: seeded as a starting map, not a fact about the city, for the chain office to
correct) or was entered or checked by the chain office (confirmed, the default for a new row).

A segment already present is general when the change log says the seed loader wrote it last (the
actor 'chaindb seed': seeded and not edited since); any other is the office's, confirmed. A
later seed leaves a confirmed segment as the office left it.

Revision ID: 4e2b9c7d1a55
Revises: 7c21d5e8a4f0
Create Date: 2026-12-03 17:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4e2b9c7d1a55"
down_revision: str | Sequence[str] | None = "7c21d5e8a4f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "chain_segment",
        sa.Column(
            "basis",
            sa.String(length=12),
            server_default=sa.text("'confirmed'"),
            nullable=False,
            comment="general: from the industry's general structure, not a fact about the city, "
            "for the chain office to correct; confirmed: entered or checked by the chain office",
        ),
    )
    op.create_check_constraint(
        op.f("ck_chain_segment_basis"), "chain_segment", "basis IN ('general', 'confirmed')"
    )
    op.execute(
        """
        UPDATE chain_segment AS s SET basis = 'general'
        WHERE (SELECT c.actor FROM change_log AS c
               WHERE c.table_name = 'chain_segment' AND c.record_id = s.id
               ORDER BY c.id DESC LIMIT 1) = 'chaindb seed'
        """
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_chain_segment_basis"), "chain_segment", type_="check")
    op.drop_column("chain_segment", "basis")
