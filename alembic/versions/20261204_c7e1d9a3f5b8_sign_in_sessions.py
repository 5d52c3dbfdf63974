"""Sign-in sessions kept on the server: signing out ends one (a copied cookie stops working).

Revision ID: c7e1d9a3f5b8
Revises: a3c9e5f1b7d2
Create Date: 2026-12-04 09:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c7e1d9a3f5b8"
down_revision: str | Sequence[str] | None = "a3c9e5f1b7d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_session",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False, comment="Surrogate key"),
        sa.Column("user_id", sa.BigInteger(), nullable=False, comment="The user signed in"),
        sa.Column("token_hash", sa.String(64), nullable=False,
                  comment="SHA-256 of the session's token, hex"),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False, comment="When the user signed in"),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True,
                  comment="When the user signed out; NULL while it lasts"),
        sa.CheckConstraint("token_hash ~ '^[0-9a-f]{64}$'",
                           name=op.f("ck_user_session_token_hash_format")),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ondelete="CASCADE",
                                name=op.f("fk_user_session_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_session_token_hash")),
        comment="Sign-ins to the web pages: the session cookie holds a token whose SHA-256 is "
        "here; signing out ends the row, and a cookie whose row ended no longer works",
    )  # fmt: skip
    op.create_index("ix_user_session_user_id", "user_session", ["user_id"])
    # The reader roles read no secrets: grant-reader revokes it from them when run again.


def downgrade() -> None:
    op.drop_table("user_session")
