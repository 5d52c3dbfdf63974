"""Enterprise name initials for search: enterprise.name_initials (pinyin initials of the names,
kept by the application), a trigram GIN index on it (pg_trgm) for initials anywhere in a name,
and a pattern btree on uscc for credit-code prefixes. Existing rows are filled here.

Revision ID: c6f4b310db58
Revises: 0633a4c6b4d6
Create Date: 2026-11-26 09:15:06.446236+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c6f4b310db58"
down_revision: str | Sequence[str] | None = "0633a4c6b4d6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.add_column(
        "enterprise",
        sa.Column(
            "name_initials",
            sa.Text(),
            nullable=True,
            comment="Pinyin initials of name_zh, short_name and aliases, lower-case, one word per "
            "name (e.g. 'bydjnjd byd'), for search; kept by the application, not the database",
        ),
    )
    # The initials need a pinyin dictionary, which only the application has: existing rows are
    # filled with the application's own function before the index is built. A derived column
    # filled in is not a change of the enterprise: neither the change log nor updated_at see it.
    from chaindb.enterprises.search import refresh_name_initials

    quiet = ("enterprise_record_update", "enterprise_set_updated_at")
    for trigger in quiet:
        op.execute(f"ALTER TABLE enterprise DISABLE TRIGGER {trigger}")
    refresh_name_initials(op.get_bind(), only_missing=True)
    for trigger in quiet:
        op.execute(f"ALTER TABLE enterprise ENABLE TRIGGER {trigger}")
    op.create_index(
        "ix_enterprise_name_initials_trgm",
        "enterprise",
        ["name_initials"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"name_initials": "gin_trgm_ops"},
    )
    # The unique index on uscc cannot serve LIKE 'prefix%' unless the collation is "C".
    op.create_index(
        "ix_enterprise_uscc_pattern",
        "enterprise",
        ["uscc"],
        unique=False,
        postgresql_ops={"uscc": "varchar_pattern_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_enterprise_uscc_pattern", table_name="enterprise")
    op.drop_index("ix_enterprise_name_initials_trgm", table_name="enterprise")
    op.drop_column("enterprise", "name_initials")
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
