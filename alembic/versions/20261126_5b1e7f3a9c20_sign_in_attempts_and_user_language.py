"""Sign-in for the web pages: login_attempt (every password sign-in attempt, the basis of the
rate limit and of an audit of sign-ins) and app_user.locale (the language each user chose).

login_attempt is itself a log: it is not recorded in change_log.

Revision ID: 5b1e7f3a9c20
Revises: c6f4b310db58
Create Date: 2026-11-26 11:40:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b1e7f3a9c20"
down_revision: str | Sequence[str] | None = "c6f4b310db58"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "app_user",
        sa.Column(
            "locale",
            sa.String(length=8),
            nullable=True,
            comment="Language of the web pages the user chose: zh or en; NULL = the browser's",
        ),
    )
    op.create_check_constraint(op.f("ck_app_user_locale"), "app_user", "locale IN ('zh', 'en')")
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False, comment="Surrogate key"),
        sa.Column("username", sa.Text(), nullable=False, comment="The name typed, lower-cased (it may name no user)"),
        sa.Column("remote_addr", sa.Text(), nullable=True, comment="Client address the attempt came from"),
        sa.Column("succeeded", sa.Boolean(), nullable=False, comment="True when the password was right and the sign-in allowed"),
        sa.Column("attempted_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False, comment="When the attempt was made"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempt")),
        comment="Every password sign-in attempt to the web pages: the rate limit counts the recent failures",
    )  # fmt: skip
    op.create_index(
        "ix_login_attempt_username_attempted_at",
        "login_attempt",
        ["username", "attempted_at"],
    )
    op.create_index(
        "ix_login_attempt_remote_addr_attempted_at",
        "login_attempt",
        ["remote_addr", "attempted_at"],
    )


def downgrade() -> None:
    op.drop_table("login_attempt")
    op.drop_constraint(op.f("ck_app_user_locale"), "app_user", type_="check")
    op.drop_column("app_user", "locale")
