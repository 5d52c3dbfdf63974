"""Users, API tokens and the change log: every write to a recorded table lands in change_log,
written by a trigger that reads the actor and request id the application sets per transaction.

Revision ID: 0633a4c6b4d6
Revises: 1cce829687d1
Create Date: 2026-11-26 09:08:21.391456+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0633a4c6b4d6"
down_revision: str | Sequence[str] | None = "1cce829687d1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables whose every write is recorded (all but change_log itself).
RECORDED_TABLES = [
    "district",
    "chain",
    "chain_segment",
    "enterprise",
    "designation",
    "chain_role",
    "supply_link",
    "project",
    "project_stage_event",
    "target",
    "app_user",
    "api_token",
]

RECORD_CHANGE = """
CREATE FUNCTION record_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  before_row jsonb;
  after_row jsonb;
BEGIN
  -- Secrets never enter the log, not even hashed.
  IF TG_OP <> 'INSERT' THEN
    before_row := to_jsonb(OLD) - 'password_hash' - 'token_hash';
  END IF;
  IF TG_OP <> 'DELETE' THEN
    after_row := to_jsonb(NEW) - 'password_hash' - 'token_hash';
  END IF;
  IF TG_OP = 'UPDATE' THEN
    -- A token's last_used_at stamp alone is bookkeeping, not a change worth a log entry.
    IF to_jsonb(OLD) - 'updated_at' - 'last_used_at' = to_jsonb(NEW) - 'updated_at' - 'last_used_at' THEN
      RETURN NULL;
    END IF;
    -- A new password or token hash is logged as the fact of a change, never the value.
    IF to_jsonb(OLD) -> 'password_hash' IS DISTINCT FROM to_jsonb(NEW) -> 'password_hash' THEN
      after_row := after_row || '{"password_changed": true}'::jsonb;
    END IF;
  END IF;
  INSERT INTO change_log (table_name, record_id, action, before, after, actor, request_id)
  VALUES (
    TG_TABLE_NAME,
    COALESCE(NEW.id, OLD.id),
    lower(TG_OP),
    before_row,
    after_row,
    COALESCE(NULLIF(current_setting('chaindb.actor', true), ''), session_user),
    NULLIF(current_setting('chaindb.request_id', true), '')
  );
  RETURN NULL;
END
$$
"""

CHANGE_LOG_APPEND_ONLY = """
CREATE FUNCTION change_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the change log cannot be changed or emptied'
    USING ERRCODE = 'check_violation', CONSTRAINT = 'change_log_append_only',
          TABLE = 'change_log';
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column(
            "id",
            sa.BigInteger(),
            sa.Identity(always=False),
            nullable=False,
            comment="Surrogate key",
        ),
        sa.Column(
            "username",
            sa.String(length=64),
            nullable=False,
            comment="Sign-in name, unique regardless of case",
        ),
        sa.Column("display_name", sa.Text(), nullable=True, comment="Name shown in the app"),
        sa.Column(
            "role",
            sa.String(length=8),
            nullable=False,
            comment="admin (manages users), editor (writes) or viewer (reads)",
        ),
        sa.Column(
            "password_hash",
            sa.Text(),
            nullable=True,
            comment="Password hash (werkzeug scrypt); NULL = cannot sign in with a password",
        ),
        sa.Column(
            "active",
            sa.Boolean(),
            server_default=sa.text("true"),
            nullable=False,
            comment="False = may no longer sign in or use tokens",
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
            comment="When the row was inserted (set by the database)",
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
            comment="When the row last changed (set by the database trigger set_updated_at)",
        ),
        sa.CheckConstraint("role IN ('admin', 'editor', 'viewer')", name=op.f("ck_app_user_role")),
        sa.CheckConstraint(
            "username ~ '^[A-Za-z0-9_.@-]{2,64}$'", name=op.f("ck_app_user_username_format")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        comment="Users of chaindb, with their role; passwords are stored hashed only",
    )
    op.create_index(
        "uq_app_user_username_lower",
        "app_user",
        [sa.literal_column("lower(username)")],
        unique=True,
    )
    op.create_table(
        "change_log",
        sa.Column(
            "id",
            sa.BigInteger(),
            sa.Identity(always=False),
            nullable=False,
            comment="Surrogate key",
        ),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
            comment="When the write happened",
        ),
        sa.Column("table_name", sa.String(length=63), nullable=False, comment="The table written"),
        sa.Column("record_id", sa.BigInteger(), nullable=False, comment="id of the row written"),
        sa.Column(
            "action", sa.String(length=6), nullable=False, comment="insert, update or delete"
        ),
        sa.Column(
            "before",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="The row before (update, delete); secrets left out",
        ),
        sa.Column(
            "after",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="The row after (insert, update); secrets left out",
        ),
        sa.Column(
            "actor",
            sa.Text(),
            nullable=False,
            comment="The chaindb user (setting chaindb.actor), else the database user",
        ),
        sa.Column(
            "request_id",
            sa.Text(),
            nullable=True,
            comment="The API request (X-Request-ID) that made the write, when there was one",
        ),
        sa.Column(
            "transaction_id",
            sa.BigInteger(),
            server_default=sa.text("txid_current()"),
            nullable=False,
            comment="Database transaction id: writes of one request share it",
        ),
        sa.CheckConstraint(
            "action IN ('insert', 'update', 'delete')", name=op.f("ck_change_log_action")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_log")),
        comment="Every insert, update and delete of the recorded tables, with the values before and after, the actor and the request id (written by trigger record_change)",
    )
    op.create_index("ix_change_log_occurred_at", "change_log", ["occurred_at"], unique=False)
    op.create_index("ix_change_log_request_id", "change_log", ["request_id"], unique=False)
    op.create_index(
        "ix_change_log_table_name_record_id",
        "change_log",
        ["table_name", "record_id"],
        unique=False,
    )
    op.create_table(
        "api_token",
        sa.Column(
            "id",
            sa.BigInteger(),
            sa.Identity(always=False),
            nullable=False,
            comment="Surrogate key",
        ),
        sa.Column(
            "user_id", sa.BigInteger(), nullable=False, comment="The user the token acts for"
        ),
        sa.Column("name", sa.Text(), nullable=True, comment="What the token is for"),
        sa.Column(
            "token_prefix",
            sa.String(length=12),
            nullable=False,
            comment="First characters of the token, to recognise it in lists",
        ),
        sa.Column(
            "token_hash", sa.String(length=64), nullable=False, comment="SHA-256 of the token, hex"
        ),
        sa.Column(
            "expires_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="When the token stops working; NULL = never",
        ),
        sa.Column(
            "revoked_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="When the token was revoked",
        ),
        sa.Column(
            "last_used_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="Last time the token authenticated a request",
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
            comment="When the row was inserted (set by the database)",
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
            comment="When the row last changed (set by the database trigger set_updated_at)",
        ),
        sa.CheckConstraint(
            "token_hash ~ '^[0-9a-f]{64}$'", name=op.f("ck_api_token_token_hash_format")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_api_token_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
        comment="API tokens (Authorization: Bearer ...): stored as SHA-256 hashes, may expire",
    )
    op.create_index(op.f("ix_api_token_user_id"), "api_token", ["user_id"], unique=False)
    for table in ("app_user", "api_token"):
        op.execute(
            f"CREATE TRIGGER {table}_set_updated_at BEFORE UPDATE ON {table} FOR EACH ROW "
            f"WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION set_updated_at()"
        )
    op.execute(RECORD_CHANGE)
    op.execute(
        "COMMENT ON FUNCTION record_change() IS 'Writes a change_log row for every insert, "
        "update (that changes something) and delete of the table it is attached to'"
    )
    for table in RECORDED_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_record_insert_delete AFTER INSERT OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION record_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_record_update AFTER UPDATE ON {table} FOR EACH ROW "
            f"WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION record_change()"
        )
    op.execute(CHANGE_LOG_APPEND_ONLY)
    op.execute(
        "CREATE TRIGGER change_log_append_only BEFORE UPDATE OR DELETE ON change_log "
        "FOR EACH ROW EXECUTE FUNCTION change_log_append_only()"
    )
    op.execute(
        "CREATE TRIGGER change_log_no_truncate BEFORE TRUNCATE ON change_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION change_log_append_only()"
    )


def downgrade() -> None:
    for table in RECORDED_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_record_insert_delete ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_record_update ON {table}")
    op.drop_index(op.f("ix_api_token_user_id"), table_name="api_token")
    op.drop_table("api_token")
    op.drop_index("ix_change_log_table_name_record_id", table_name="change_log")
    op.drop_index("ix_change_log_request_id", table_name="change_log")
    op.drop_index("ix_change_log_occurred_at", table_name="change_log")
    op.drop_table("change_log")
    op.drop_index("uq_app_user_username_lower", table_name="app_user")
    op.drop_table("app_user")
    op.execute("DROP FUNCTION IF EXISTS change_log_append_only()")
    op.execute("DROP FUNCTION IF EXISTS record_change()")
