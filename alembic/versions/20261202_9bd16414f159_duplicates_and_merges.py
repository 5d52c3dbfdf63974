"""Duplicates and merges: enterprise names compared as people mean them (enterprise_name_key,
enterprise.name_key and alias_keys, trigram and GIN indexes), one live supply link per supplier,
chain master, chain and product (proposed ones included), and enterprise_merge, the record of a
duplicate merged into another enterprise.

Revision ID: 9bd16414f159
Revises: f0d0aa0340fa
Create Date: 2026-12-02 18:40:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "9bd16414f159"
down_revision: str | Sequence[str] | None = "f0d0aa0340fa"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# NFKC folds full-width letters, digits and brackets into their half-width forms; then case,
# the legal-form words, spaces and punctuation (brackets included) are dropped.
NAME_KEY = r"""
CREATE FUNCTION enterprise_name_key(name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT nullif(
    regexp_replace(
      regexp_replace(
        lower(normalize(name, NFKC)),
        '股份有限公司|有限责任公司|有限公司|股份公司|集团|公司', '', 'g'),
      '[[:space:][:punct:]【】《》「」『』〔〕〈〉、。·・]', '', 'g'),
    '')
$$
"""
NAME_KEYS = """
CREATE FUNCTION enterprise_name_keys(names text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT key ORDER BY key) FILTER (WHERE key IS NOT NULL), '{}')
  FROM unnest(names) AS name, enterprise_name_key(name) AS key
$$
"""


def upgrade() -> None:
    op.execute(NAME_KEY)
    op.execute(
        "COMMENT ON FUNCTION enterprise_name_key(text) IS 'An enterprise name as people mean "
        "it, for finding duplicates: full/half width, case, spaces, punctuation and brackets, "
        "有限公司/有限责任公司/股份有限公司/股份公司/集团/公司 ignored'"
    )
    op.execute(NAME_KEYS)
    op.execute(
        "COMMENT ON FUNCTION enterprise_name_keys(text[]) IS 'enterprise_name_key of each "
        "name, without NULLs or repeats'"
    )
    op.add_column(
        "enterprise",
        sa.Column(
            "name_key",
            sa.Text(),
            sa.Computed("enterprise_name_key(name_zh)", persisted=True),
            nullable=True,
            comment="name_zh compared as people mean it (enterprise_name_key: full/half width, "
            "case, spaces, brackets and 有限公司/股份有限公司/集团 ignored), for finding duplicates",
        ),
    )
    op.add_column(
        "enterprise",
        sa.Column(
            "alias_keys",
            postgresql.ARRAY(sa.Text()),
            sa.Computed("enterprise_name_keys(array_append(aliases, short_name))", persisted=True),
            nullable=True,
            comment="The aliases and the short name compared as name_key compares the name",
        ),
    )
    op.create_index(
        "ix_enterprise_name_key_trgm",
        "enterprise",
        ["name_key"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"name_key": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_enterprise_alias_keys", "enterprise", ["alias_keys"], postgresql_using="gin"
    )

    # One live link: a proposal for a link that is already live (active, or proposed before)
    # is the same fact twice. Such proposals are removed (the change log keeps them).
    op.execute(
        """
        DELETE FROM supply_link AS l
        USING supply_link AS kept
        WHERE l.status = 'proposed'
          AND kept.status <> 'ended'
          AND kept.id <> l.id
          AND (kept.status = 'active' OR kept.id < l.id)
          AND (kept.supplier_id, kept.buyer_id, kept.chain_id)
              = (l.supplier_id, l.buyer_id, l.chain_id)
          AND kept.product IS NOT DISTINCT FROM l.product
        """
    )
    op.drop_index("uq_supply_link_active", table_name="supply_link")
    op.create_index(
        "uq_supply_link_live",
        "supply_link",
        ["supplier_id", "buyer_id", "chain_id", "product"],
        unique=True,
        postgresql_where=sa.text("status <> 'ended'"),
        postgresql_nulls_not_distinct=True,
    )

    op.create_table(
        "enterprise_merge",
        sa.Column(
            "id",
            sa.BigInteger(),
            sa.Identity(always=False),
            nullable=False,
            comment="Surrogate key",
        ),
        sa.Column(
            "merged_id",
            sa.BigInteger(),
            nullable=False,
            comment="The id the duplicate had (no longer a row)",
        ),
        sa.Column(
            "merged_uscc",
            sa.String(length=18),
            nullable=True,
            comment="The duplicate's credit code, when it had one",
        ),
        sa.Column(
            "merged_name_zh", sa.Text(), nullable=False, comment="The duplicate's registered name"
        ),
        sa.Column(
            "into_id",
            sa.BigInteger(),
            nullable=False,
            comment="The enterprise it was merged into (followed on when that one is merged too)",
        ),
        sa.Column(
            "moved",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
            comment="What moved to into_id, per table, and what was dropped as a duplicate of "
            "its own",
        ),
        sa.Column("actor", sa.Text(), nullable=True, comment="Who merged (the chaindb user)"),
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
        sa.ForeignKeyConstraint(
            ["into_id"],
            ["enterprise.id"],
            name=op.f("fk_enterprise_merge_into_id_enterprise"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_merge")),
        sa.UniqueConstraint("merged_id", name=op.f("uq_enterprise_merge_merged_id")),
        comment="Duplicates merged into another enterprise (the merged row is gone): its id, "
        "credit code and names lead to the enterprise it became part of",
    )
    op.create_index(
        op.f("ix_enterprise_merge_into_id"), "enterprise_merge", ["into_id"], unique=False
    )
    op.create_index(
        "ix_enterprise_merge_merged_uscc", "enterprise_merge", ["merged_uscc"], unique=False
    )
    op.execute(
        "CREATE TRIGGER enterprise_merge_set_updated_at BEFORE UPDATE ON enterprise_merge "
        "FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION set_updated_at()"
    )
    op.execute(
        "CREATE TRIGGER enterprise_merge_record_insert_delete AFTER INSERT OR DELETE ON "
        "enterprise_merge FOR EACH ROW EXECUTE FUNCTION record_change()"
    )
    op.execute(
        "CREATE TRIGGER enterprise_merge_record_update AFTER UPDATE ON enterprise_merge "
        "FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION record_change()"
    )


def downgrade() -> None:
    op.drop_index("ix_enterprise_merge_merged_uscc", table_name="enterprise_merge")
    op.drop_index(op.f("ix_enterprise_merge_into_id"), table_name="enterprise_merge")
    op.drop_table("enterprise_merge")
    op.drop_index("uq_supply_link_live", table_name="supply_link")
    op.create_index(
        "uq_supply_link_active",
        "supply_link",
        ["supplier_id", "buyer_id", "chain_id", "product"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
        postgresql_nulls_not_distinct=True,
    )
    op.drop_index("ix_enterprise_alias_keys", table_name="enterprise")
    op.drop_index("ix_enterprise_name_key_trgm", table_name="enterprise")
    op.drop_column("enterprise", "alias_keys")
    op.drop_column("enterprise", "name_key")
    op.execute("DROP FUNCTION enterprise_name_keys(text[])")
    op.execute("DROP FUNCTION enterprise_name_key(text)")
