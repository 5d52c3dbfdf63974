"""Initial schema: planning units, chains and their maps, enterprises, roles, supply links,
projects with stage history, targets; with the functions and triggers that keep their rules.

Revision ID: 1cce829687d1
Revises:
Create Date: 2026-11-26 08:55:04.979999+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "1cce829687d1"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The rules that a CHECK cannot express live in these functions and triggers, so that plain SQL
# (an analyst's INSERT) is refused exactly as the API is. Each refusal raises check_violation with
# a CONSTRAINT name, which chaindb.errors turns into a message.

FUNCTIONS = [
    """
    CREATE FUNCTION uscc_check_digit_ok(code text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
      SELECT code ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'
         AND substr('0123456789ABCDEFGHJKLMNPQRTUWXY',
                    (31 - (SELECT sum((strpos('0123456789ABCDEFGHJKLMNPQRTUWXY',
                                              substr(code, i, 1)) - 1)
                                      * (ARRAY[1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8,
                                               24, 10, 30, 28])[i])
                           FROM generate_series(1, 17) AS i)::int % 31) % 31 + 1,
                    1) = substr(code, 18, 1)
    $$
    """,
    """
    COMMENT ON FUNCTION uscc_check_digit_ok(text) IS
      'True when the 18th character of a unified social credit code is the GB 32100-2015 check '
      'character of the first 17'
    """,
    """
    CREATE FUNCTION project_stage_rank(stage text) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
      SELECT CASE stage
        WHEN 'lead' THEN 1 WHEN 'negotiating' THEN 2 WHEN 'signed' THEN 3
        WHEN 'under_construction' THEN 4 WHEN 'in_production' THEN 5 WHEN 'at_capacity' THEN 6
      END
    $$
    """,
    """
    COMMENT ON FUNCTION project_stage_rank(text) IS
      'Position of a project stage in the pipeline (lead = 1 .. at_capacity = 6); NULL for dropped'
    """,
    """
    CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.created_at := OLD.created_at;
      NEW.updated_at := now();
      RETURN NEW;
    END
    $$
    """,
    """
    CREATE FUNCTION chain_check_parent() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.parent_id IS NOT NULL
         AND EXISTS (SELECT 1 FROM chain WHERE id = NEW.parent_id AND tier <> 'iconic') THEN
        RAISE EXCEPTION 'chain %: the parent of a key chain must be an iconic chain', NEW.code
          USING ERRCODE = 'check_violation', CONSTRAINT = 'chain_parent_is_iconic',
                TABLE = 'chain', COLUMN = 'parent_id';
      END IF;
      IF TG_OP = 'UPDATE' AND NEW.tier <> 'iconic'
         AND EXISTS (SELECT 1 FROM chain WHERE parent_id = NEW.id) THEN
        RAISE EXCEPTION 'chain %: key chains sit under it, so it must stay iconic', NEW.code
          USING ERRCODE = 'check_violation', CONSTRAINT = 'chain_parent_is_iconic',
                TABLE = 'chain', COLUMN = 'tier';
      END IF;
      RETURN NEW;
    END
    $$
    """,
    """
    CREATE FUNCTION chain_segment_check_cycle() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.parent_id IS NOT NULL AND EXISTS (
        WITH RECURSIVE up(id, parent_id) AS (
          SELECT s.id, s.parent_id FROM chain_segment s WHERE s.id = NEW.parent_id
          UNION
          SELECT s.id, s.parent_id FROM chain_segment s JOIN up ON s.id = up.parent_id
        )
        SELECT 1 FROM up WHERE up.id = NEW.id
      ) THEN
        RAISE EXCEPTION 'chain segment %: its parent lies below it (a cycle)', NEW.code
          USING ERRCODE = 'check_violation', CONSTRAINT = 'chain_segment_no_cycle',
                TABLE = 'chain_segment', COLUMN = 'parent_id';
      END IF;
      RETURN NEW;
    END
    $$
    """,
    """
    CREATE FUNCTION holds_chain_master_role(enterprise bigint, in_chain bigint, on_day date)
    RETURNS boolean LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
    BEGIN
      RETURN EXISTS (
        SELECT 1 FROM chain_role r
        WHERE r.enterprise_id = enterprise AND r.chain_id = in_chain AND r.role = 'chain_master'
          AND (on_day IS NULL
               OR ((r.since IS NULL OR r.since <= on_day) AND (r.until IS NULL OR r.until >= on_day)))
      );
    END
    $$
    """,
    """
    COMMENT ON FUNCTION holds_chain_master_role(bigint, bigint, date) IS
      'True when the enterprise holds the chain_master role in the chain on that day '
      '(NULL day: at any time)'
    """,
    """
    CREATE FUNCTION supply_link_check_buyer() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      -- A live link needs a buyer who is a chain master now; an ended one, a buyer who was.
      IF NOT holds_chain_master_role(NEW.buyer_id, NEW.chain_id,
                                     CASE WHEN NEW.status = 'ended' THEN NULL
                                          ELSE current_date END) THEN
        RAISE EXCEPTION 'supply link: buyer % is not a chain master of chain %',
                        NEW.buyer_id, NEW.chain_id
          USING ERRCODE = 'check_violation', CONSTRAINT = 'supply_link_buyer_is_chain_master',
                TABLE = 'supply_link', COLUMN = 'buyer_id';
      END IF;
      RETURN NEW;
    END
    $$
    """,
    """
    CREATE FUNCTION chain_role_keep_master_with_links() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF OLD.role = 'chain_master'
         AND NOT holds_chain_master_role(OLD.enterprise_id, OLD.chain_id, current_date)
         AND EXISTS (SELECT 1 FROM supply_link l
                     WHERE l.buyer_id = OLD.enterprise_id AND l.chain_id = OLD.chain_id
                       AND l.status <> 'ended') THEN
        RAISE EXCEPTION 'chain role: enterprise % still has live supply links in chain %; '
                        'end them before revoking its chain-master role',
                        OLD.enterprise_id, OLD.chain_id
          USING ERRCODE = 'check_violation', CONSTRAINT = 'chain_role_master_has_live_links',
                TABLE = 'chain_role';
      END IF;
      IF OLD.role = 'chain_master'
         AND NOT holds_chain_master_role(OLD.enterprise_id, OLD.chain_id, NULL)
         AND EXISTS (SELECT 1 FROM project p
                     WHERE p.chain_master_id = OLD.enterprise_id AND p.chain_id = OLD.chain_id) THEN
        RAISE EXCEPTION 'chain role: projects in chain % name enterprise % as the chain master '
                        'they serve; end the role (set until) instead of deleting it',
                        OLD.chain_id, OLD.enterprise_id
          USING ERRCODE = 'check_violation', CONSTRAINT = 'chain_role_master_has_projects',
                TABLE = 'chain_role';
      END IF;
      RETURN NULL;
    END
    $$
    """,
    """
    CREATE FUNCTION project_check_chain_master() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.chain_master_id IS NOT NULL
         AND NOT holds_chain_master_role(NEW.chain_master_id, NEW.chain_id, NULL) THEN
        RAISE EXCEPTION 'project %: enterprise % is not a chain master of its chain',
                        NEW.name, NEW.chain_master_id
          USING ERRCODE = 'check_violation', CONSTRAINT = 'project_chain_master_holds_role',
                TABLE = 'project', COLUMN = 'chain_master_id';
      END IF;
      RETURN NEW;
    END
    $$
    """,
    """
    CREATE FUNCTION project_record_stage() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      -- The service passes date, reason, note and actor as transaction-local settings
      -- (set_config('chaindb.stage_reason', ..., true)); plain SQL gets the defaults.
      INSERT INTO project_stage_event
        (project_id, from_stage, to_stage, occurred_on, reason, note, actor)
      VALUES (
        NEW.id,
        CASE WHEN TG_OP = 'UPDATE' THEN OLD.stage END,
        NEW.stage,
        COALESCE(NULLIF(current_setting('chaindb.stage_date', true), '')::date,
                 CASE NEW.stage
                   WHEN 'signed' THEN NEW.signed_on
                   WHEN 'under_construction' THEN NEW.construction_started_on
                   WHEN 'in_production' THEN NEW.production_started_on
                   WHEN 'at_capacity' THEN NEW.capacity_reached_on
                   WHEN 'dropped' THEN NEW.dropped_on
                 END,
                 current_date),
        NULLIF(current_setting('chaindb.stage_reason', true), ''),
        NULLIF(current_setting('chaindb.stage_note', true), ''),
        COALESCE(NULLIF(current_setting('chaindb.actor', true), ''), session_user)
      );
      RETURN NULL;
    END
    $$
    """,
    """
    CREATE FUNCTION project_stage_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' AND pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'stage events are recorded by changing project.stage, not inserted'
          USING ERRCODE = 'check_violation', CONSTRAINT = 'project_stage_event_append_only',
                TABLE = 'project_stage_event';
      ELSIF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'stage history cannot be changed'
          USING ERRCODE = 'check_violation', CONSTRAINT = 'project_stage_event_append_only',
                TABLE = 'project_stage_event';
      ELSIF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM project WHERE id = OLD.project_id) THEN
        -- Only the cascade from deleting the project itself may remove its history.
        RAISE EXCEPTION 'stage history cannot be deleted while its project exists'
          USING ERRCODE = 'check_violation', CONSTRAINT = 'project_stage_event_append_only',
                TABLE = 'project_stage_event';
      END IF;
      IF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION 'stage history cannot be truncated'
          USING ERRCODE = 'check_violation', CONSTRAINT = 'project_stage_event_append_only',
                TABLE = 'project_stage_event';
      END IF;
      RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END
    $$
    """,
]

FUNCTION_NAMES = [
    "uscc_check_digit_ok(text)",
    "project_stage_rank(text)",
    "set_updated_at()",
    "chain_check_parent()",
    "chain_segment_check_cycle()",
    "holds_chain_master_role(bigint, bigint, date)",
    "supply_link_check_buyer()",
    "chain_role_keep_master_with_links()",
    "project_check_chain_master()",
    "project_record_stage()",
    "project_stage_event_append_only()",
]

TIMESTAMPED_TABLES = [
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
]

TRIGGERS = [
    *(
        f"CREATE TRIGGER {table}_set_updated_at BEFORE UPDATE ON {table} FOR EACH ROW "
        f"WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION set_updated_at()"
        for table in TIMESTAMPED_TABLES
    ),
    "CREATE TRIGGER chain_check_parent BEFORE INSERT OR UPDATE OF parent_id, tier ON chain "
    "FOR EACH ROW EXECUTE FUNCTION chain_check_parent()",
    "CREATE TRIGGER chain_segment_check_cycle BEFORE INSERT OR UPDATE OF parent_id "
    "ON chain_segment FOR EACH ROW EXECUTE FUNCTION chain_segment_check_cycle()",
    "CREATE TRIGGER supply_link_check_buyer BEFORE INSERT OR UPDATE OF buyer_id, chain_id, status "
    "ON supply_link FOR EACH ROW EXECUTE FUNCTION supply_link_check_buyer()",
    "CREATE TRIGGER chain_role_keep_master_with_links AFTER UPDATE OR DELETE ON chain_role "
    "FOR EACH ROW EXECUTE FUNCTION chain_role_keep_master_with_links()",
    "CREATE TRIGGER project_check_chain_master BEFORE INSERT OR UPDATE OF chain_master_id, chain_id "
    "ON project FOR EACH ROW EXECUTE FUNCTION project_check_chain_master()",
    "CREATE TRIGGER project_record_stage_on_insert AFTER INSERT ON project "
    "FOR EACH ROW EXECUTE FUNCTION project_record_stage()",
    "CREATE TRIGGER project_record_stage_on_update AFTER UPDATE OF stage ON project FOR EACH ROW "
    "WHEN (OLD.stage IS DISTINCT FROM NEW.stage) EXECUTE FUNCTION project_record_stage()",
    "CREATE TRIGGER project_stage_event_append_only BEFORE INSERT OR UPDATE OR DELETE "
    "ON project_stage_event FOR EACH ROW EXECUTE FUNCTION project_stage_event_append_only()",
    "CREATE TRIGGER project_stage_event_no_truncate BEFORE TRUNCATE ON project_stage_event "
    "FOR EACH STATEMENT EXECUTE FUNCTION project_stage_event_append_only()",
]


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for statement in FUNCTIONS:
        op.execute(statement)
    op.create_table(
        "chain",
        sa.Column(
            "id",
            sa.BigInteger(),
            sa.Identity(always=False),
            nullable=False,
            comment="Surrogate key",
        ),
        sa.Column(
            "code",
            sa.String(length=40),
            nullable=False,
            comment="Natural key: lower-case slug, e.g. automotive",
        ),
        sa.Column("name_zh", sa.Text(), nullable=False, comment="Chinese name, e.g. 汽车"),
        sa.Column("name_en", sa.Text(), nullable=True, comment="English name (may be unofficial)"),
        sa.Column(
            "tier", sa.String(length=8), nullable=False, comment="iconic (标志性) or key (重点)"
        ),
        sa.Column(
            "group",
            sa.String(length=16),
            nullable=True,
            comment='advantage (优势), characteristic (特色) or emerging (新兴); a reserved word in SQL: quote it as "group"',
        ),
        sa.Column(
            "chief",
            sa.Text(),
            nullable=True,
            comment="Chain chief (链长): the city leader in charge",
        ),
        sa.Column(
            "target_2030_cny_100m",
            sa.Numeric(precision=14, scale=2),
            nullable=True,
            comment="2030 scale target, in 亿元 (100 million CNY)",
        ),
        sa.Column(
            "target_2030_scope",
            sa.Text(),
            nullable=True,
            comment="What the 2030 target measures when not the whole chain, e.g. 核心产业",
        ),
        sa.Column(
            "aliases",
            sa.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
            comment="Other names the chain is known by (e.g. 空天信息)",
        ),
        sa.Column(
            "parent_id",
            sa.BigInteger(),
            nullable=True,
            comment="For a key chain: the iconic chain it belongs to (checked by trigger)",
        ),
        sa.Column(
            "sort_order",
            sa.Integer(),
            server_default=sa.text("0"),
            nullable=False,
            comment="Display order in lists and reports",
        ),
        sa.Column("notes", sa.Text(), nullable=True, comment="Free text: sources, caveats"),
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
        sa.CheckConstraint("code ~ '^[a-z][a-z0-9-]{1,39}$'", name=op.f("ck_chain_code_format")),
        sa.CheckConstraint(
            "parent_id IS NULL OR tier = 'key'", name=op.f("ck_chain_only_key_chain_has_parent")
        ),
        sa.CheckConstraint("tier IN ('iconic', 'key')", name=op.f("ck_chain_tier")),
        sa.CheckConstraint(
            "\"group\" IN ('advantage', 'characteristic', 'emerging')", name=op.f("ck_chain_group")
        ),
        sa.CheckConstraint(
            "parent_id IS NULL OR parent_id <> id", name=op.f("ck_chain_not_own_parent")
        ),
        sa.CheckConstraint(
            "target_2030_cny_100m IS NULL OR target_2030_cny_100m >= 0",
            name=op.f("ck_chain_target_2030_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["chain.id"], name=op.f("fk_chain_parent_id_chain"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain")),
        sa.UniqueConstraint("code", name=op.f("uq_chain_code")),
        sa.UniqueConstraint("name_zh", name=op.f("uq_chain_name_zh")),
        comment="Industrial chains (产业链): 13 iconic (标志性) and 34 key (重点) chains",
    )
    op.create_index(op.f("ix_chain_parent_id"), "chain", ["parent_id"], unique=False)
    op.create_table(
        "district",
        sa.Column(
            "id",
            sa.BigInteger(),
            sa.Identity(always=False),
            nullable=False,
            comment="Surrogate key",
        ),
        sa.Column(
            "code",
            sa.String(length=16),
            nullable=False,
            comment="Natural key: the 6-digit NBS statistical division code (e.g. 370102), or a local upper-case code for a functional zone without an official one",
        ),
        sa.Column(
            "is_official_code",
            sa.Boolean(),
            nullable=False,
            comment="True when code is an official NBS / GB/T 2260 code",
        ),
        sa.Column("name_zh", sa.Text(), nullable=False, comment="Chinese name, e.g. 历下区"),
        sa.Column("name_en", sa.Text(), nullable=True, comment="English name (may be unofficial)"),
        sa.Column(
            "kind",
            sa.String(length=16),
            nullable=False,
            comment="district (区), county (县) or zone (功能区)",
        ),
        sa.Column(
            "aliases",
            sa.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
            comment="Other names and legacy or unofficial codes (e.g. 370181 for 章丘区); never used as keys",
        ),
        sa.Column(
            "sort_order",
            sa.Integer(),
            server_default=sa.text("0"),
            nullable=False,
            comment="Display order in lists and reports",
        ),
        sa.Column("notes", sa.Text(), nullable=True, comment="Free text: sources, caveats"),
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
            "(is_official_code AND code ~ '^[0-9]{6}$') OR (NOT is_official_code AND code ~ '^[A-Z][A-Z0-9-]{1,15}$')",
            name=op.f("ck_district_code_format"),
        ),
        sa.CheckConstraint("btrim(name_zh) <> ''", name=op.f("ck_district_name_zh_not_blank")),
        sa.CheckConstraint(
            "kind = 'zone' OR is_official_code", name=op.f("ck_district_division_has_official_code")
        ),
        sa.CheckConstraint("kind IN ('district', 'county', 'zone')", name=op.f("ck_district_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_district")),
        sa.UniqueConstraint("code", name=op.f("uq_district_code")),
        sa.UniqueConstraint("name_zh", name=op.f("uq_district_name_zh")),
        comment="Planning units (区县(功能区)) of the city: the 10 districts, 2 counties and functional zones",
    )
    op.create_table(
        "chain_segment",
        sa.Column(
            "id",
            sa.BigInteger(),
            sa.Identity(always=False),
            nullable=False,
            comment="Surrogate key",
        ),
        sa.Column("chain_id", sa.BigInteger(), nullable=False, comment="The chain this maps"),
        sa.Column(
            "parent_id",
            sa.BigInteger(),
            nullable=True,
            comment="Enclosing segment in the same chain; NULL for a top-level segment",
        ),
        sa.Column(
            "code",
            sa.String(length=40),
            nullable=False,
            comment="Natural key within the chain, e.g. battery.cell",
        ),
        sa.Column("name_zh", sa.Text(), nullable=False, comment="Chinese name, e.g. 动力电池"),
        sa.Column("name_en", sa.Text(), nullable=True, comment="English name"),
        sa.Column(
            "position",
            sa.String(length=12),
            nullable=False,
            comment="upstream (上游), midstream (中游) or downstream (下游)",
        ),
        sa.Column(
            "sort_order",
            sa.Integer(),
            server_default=sa.text("0"),
            nullable=False,
            comment="Display order among siblings",
        ),
        sa.Column("description", sa.Text(), nullable=True, comment="What the segment covers"),
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
            "code ~ '^[a-z0-9][a-z0-9.-]{0,39}$'", name=op.f("ck_chain_segment_code_format")
        ),
        sa.CheckConstraint(
            "position IN ('upstream', 'midstream', 'downstream')",
            name=op.f("ck_chain_segment_position"),
        ),
        sa.CheckConstraint(
            "parent_id IS NULL OR parent_id <> id", name=op.f("ck_chain_segment_not_own_parent")
        ),
        sa.ForeignKeyConstraint(
            ["chain_id", "parent_id"],
            ["chain_segment.chain_id", "chain_segment.id"],
            name="fk_chain_segment_parent_same_chain",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["chain_id"],
            ["chain.id"],
            name=op.f("fk_chain_segment_chain_id_chain"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_segment")),
        sa.UniqueConstraint("chain_id", "code", name=op.f("uq_chain_segment_chain_id_code")),
        sa.UniqueConstraint("chain_id", "id", name=op.f("uq_chain_segment_chain_id_id")),
        comment="Segments (环节) of each chain's map (产业链图谱), a tree per chain",
    )
    op.create_index("ix_chain_segment_parent_id", "chain_segment", ["parent_id"], unique=False)
    op.create_table(
        "enterprise",
        sa.Column(
            "id",
            sa.BigInteger(),
            sa.Identity(always=False),
            nullable=False,
            comment="Surrogate key",
        ),
        sa.Column(
            "uscc",
            sa.String(length=18),
            nullable=True,
            comment="Unified social credit code (统一社会信用代码, GB 32100-2015, 18 characters); NULL when not registered or not known",
        ),
        sa.Column(
            "uscc_check_override",
            sa.Boolean(),
            server_default=sa.text("false"),
            nullable=False,
            comment="True for a genuine early code that fails the check digit (recorded override)",
        ),
        sa.Column(
            "uscc_override_reason",
            sa.Text(),
            nullable=True,
            comment="Why the check-digit override was granted, and by whom",
        ),
        sa.Column("name_zh", sa.Text(), nullable=False, comment="Registered Chinese name"),
        sa.Column("name_en", sa.Text(), nullable=True, comment="English name"),
        sa.Column("short_name", sa.Text(), nullable=True, comment="Short name (简称), e.g. 比亚迪"),
        sa.Column(
            "aliases",
            sa.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
            comment="Former and other names",
        ),
        sa.Column(
            "district_id",
            sa.BigInteger(),
            nullable=True,
            comment="Planning unit the enterprise sits in; NULL = not local",
        ),
        sa.Column(
            "region_code",
            sa.String(length=6),
            nullable=True,
            comment="For a non-local enterprise: the 6-digit GB/T 2260 code of where it is",
        ),
        sa.Column(
            "size",
            sa.String(length=8),
            nullable=True,
            comment="large, medium, small or micro (大/中/小/微); NULL when unknown",
        ),
        sa.Column(
            "ownership",
            sa.String(length=12),
            nullable=True,
            comment="state, private, foreign, hmt (港澳台), collective, mixed or other",
        ),
        sa.Column("founded_on", sa.Date(), nullable=True, comment="Date of establishment"),
        sa.Column(
            "active",
            sa.Boolean(),
            server_default=sa.text("true"),
            nullable=False,
            comment="False once deregistered or closed",
        ),
        sa.Column("notes", sa.Text(), nullable=True, comment="Free text: sources, caveats"),
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
            "NOT uscc_check_override OR (uscc IS NOT NULL AND COALESCE(btrim(uscc_override_reason), '') <> '')",
            name=op.f("ck_enterprise_uscc_override_has_reason"),
        ),
        sa.CheckConstraint("btrim(name_zh) <> ''", name=op.f("ck_enterprise_name_zh_not_blank")),
        sa.CheckConstraint(
            "ownership IN ('state', 'private', 'foreign', 'hmt', 'collective', 'mixed', 'other')",
            name=op.f("ck_enterprise_ownership"),
        ),
        sa.CheckConstraint(
            "region_code NOT LIKE '3701%%'", name=op.f("ck_enterprise_region_code_not_local")
        ),
        sa.CheckConstraint(
            "region_code ~ '^[0-9]{6}$'", name=op.f("ck_enterprise_region_code_format")
        ),
        sa.CheckConstraint(
            "size IN ('large', 'medium', 'small', 'micro')", name=op.f("ck_enterprise_size")
        ),
        sa.CheckConstraint(
            "uscc ~ '^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$'",
            name=op.f("ck_enterprise_uscc_format"),
        ),
        sa.CheckConstraint(
            "district_id IS NULL OR region_code IS NULL", name=op.f("ck_enterprise_local_or_region")
        ),
        sa.CheckConstraint(
            "uscc IS NULL OR uscc_check_override OR uscc_check_digit_ok(uscc)",
            name=op.f("ck_enterprise_uscc_check_digit"),
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["district.id"],
            name=op.f("fk_enterprise_district_id_district"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise")),
        sa.UniqueConstraint("uscc", name=op.f("uq_enterprise_uscc")),
        comment="Enterprises: chain masters, backbones, suppliers and investors, local or not",
    )
    op.create_index(op.f("ix_enterprise_district_id"), "enterprise", ["district_id"], unique=False)
    op.create_index(op.f("ix_enterprise_name_zh"), "enterprise", ["name_zh"], unique=False)
    op.create_table(
        "target",
        sa.Column(
            "id",
            sa.BigInteger(),
            sa.Identity(always=False),
            nullable=False,
            comment="Surrogate key",
        ),
        sa.Column("scope", sa.String(length=8), nullable=False, comment="city, chain or district"),
        sa.Column("chain_id", sa.BigInteger(), nullable=True, comment="The chain, for scope chain"),
        sa.Column(
            "district_id",
            sa.BigInteger(),
            nullable=True,
            comment="The planning unit, for scope district",
        ),
        sa.Column("year", sa.SmallInteger(), nullable=False, comment="Calendar year"),
        sa.Column(
            "metric",
            sa.String(length=32),
            nullable=False,
            comment="industrial_revenue (规上工业营收), iconic_chains_revenue, chain_revenue, industrial_profit, projects_signed or investment_signed",
        ),
        sa.Column(
            "unit",
            sa.String(length=10),
            nullable=False,
            comment="Unit of both values: cny_100m (亿元), count or percent",
        ),
        sa.Column(
            "target_value",
            sa.Numeric(precision=16, scale=4),
            nullable=True,
            comment="Target for the year, in unit",
        ),
        sa.Column(
            "actual_value",
            sa.Numeric(precision=16, scale=4),
            nullable=True,
            comment="Actual value for the year, in unit",
        ),
        sa.Column("source", sa.Text(), nullable=True, comment="Where the figures come from"),
        sa.Column("notes", sa.Text(), nullable=True, comment="Free text"),
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
            "(scope = 'city' AND chain_id IS NULL AND district_id IS NULL) OR (scope = 'chain' AND chain_id IS NOT NULL AND district_id IS NULL) OR (scope = 'district' AND district_id IS NOT NULL AND chain_id IS NULL)",
            name=op.f("ck_target_scope_matches_keys"),
        ),
        sa.CheckConstraint(
            "metric IN ('industrial_revenue', 'iconic_chains_revenue', 'chain_revenue', 'industrial_profit', 'projects_signed', 'investment_signed')",
            name=op.f("ck_target_metric"),
        ),
        sa.CheckConstraint("scope IN ('city', 'chain', 'district')", name=op.f("ck_target_scope")),
        sa.CheckConstraint("unit IN ('cny_100m', 'count', 'percent')", name=op.f("ck_target_unit")),
        sa.CheckConstraint(
            "target_value IS NOT NULL OR actual_value IS NOT NULL",
            name=op.f("ck_target_has_a_value"),
        ),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name=op.f("ck_target_year_range")),
        sa.ForeignKeyConstraint(
            ["chain_id"], ["chain.id"], name=op.f("fk_target_chain_id_chain"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["district.id"],
            name=op.f("fk_target_district_id_district"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_target")),
        comment="Targets and actual values of metrics by scope (city, chain, planning unit) and year; unit per row",
    )
    op.create_index("ix_target_chain_id", "target", ["chain_id"], unique=False)
    op.create_index("ix_target_district_id", "target", ["district_id"], unique=False)
    op.create_index(
        "uq_target_scope_year_metric",
        "target",
        ["scope", "chain_id", "district_id", "year", "metric"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    op.create_table(
        "chain_role",
        sa.Column(
            "id",
            sa.BigInteger(),
            sa.Identity(always=False),
            nullable=False,
            comment="Surrogate key",
        ),
        sa.Column(
            "enterprise_id",
            sa.BigInteger(),
            nullable=False,
            comment="The enterprise holding the role",
        ),
        sa.Column("chain_id", sa.BigInteger(), nullable=False, comment="The chain"),
        sa.Column(
            "segment_id",
            sa.BigInteger(),
            nullable=True,
            comment="The segment of that chain, when the role is specific to one",
        ),
        sa.Column(
            "role",
            sa.String(length=16),
            nullable=False,
            comment="chain_master (链主), backbone (龙头骨干) or supplier (配套)",
        ),
        sa.Column(
            "since",
            sa.Date(),
            nullable=True,
            comment="First day the role holds; NULL when not known",
        ),
        sa.Column(
            "until",
            sa.Date(),
            nullable=True,
            comment="Last day the role holds; NULL while it still holds",
        ),
        sa.Column("source", sa.Text(), nullable=True, comment="Where the fact comes from"),
        sa.Column("notes", sa.Text(), nullable=True, comment="Free text"),
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
        postgresql.ExcludeConstraint(
            (sa.column("enterprise_id"), "="),
            (sa.column("chain_id"), "="),
            (sa.column("role"), "="),
            (sa.text("COALESCE(segment_id, 0)"), "="),
            (sa.text("daterange(since, until, '[]')"), "&&"),
            using="gist",
            name="ex_chain_role_no_overlap",
        ),
        sa.CheckConstraint(
            "role IN ('chain_master', 'backbone', 'supplier')", name=op.f("ck_chain_role_role")
        ),
        sa.CheckConstraint(
            "until IS NULL OR since IS NULL OR until >= since",
            name=op.f("ck_chain_role_period_order"),
        ),
        sa.ForeignKeyConstraint(
            ["chain_id", "segment_id"],
            ["chain_segment.chain_id", "chain_segment.id"],
            name="fk_chain_role_segment_same_chain",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["chain_id"],
            ["chain.id"],
            name=op.f("fk_chain_role_chain_id_chain"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_chain_role_enterprise_id_enterprise"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_role")),
        comment="Roles of enterprises in chains: chain_master (链主), backbone (龙头骨干), supplier (配套), with their period",
    )
    op.create_index("ix_chain_role_chain_id_role", "chain_role", ["chain_id", "role"], unique=False)
    op.create_index(
        op.f("ix_chain_role_enterprise_id"), "chain_role", ["enterprise_id"], unique=False
    )
    op.create_index("ix_chain_role_segment_id", "chain_role", ["segment_id"], unique=False)
    op.create_table(
        "designation",
        sa.Column(
            "id",
            sa.BigInteger(),
            sa.Identity(always=False),
            nullable=False,
            comment="Surrogate key",
        ),
        sa.Column(
            "enterprise_id", sa.BigInteger(), nullable=False, comment="The designated enterprise"
        ),
        sa.Column(
            "type",
            sa.String(length=20),
            nullable=False,
            comment="innovative_sme, specialized_sme, little_giant, single_champion, high_tech, gazelle or unicorn",
        ),
        sa.Column(
            "level",
            sa.String(length=12),
            nullable=False,
            comment="national, provincial or city: the level that granted it",
        ),
        sa.Column("year", sa.SmallInteger(), nullable=False, comment="Year granted"),
        sa.Column(
            "valid_until",
            sa.Date(),
            nullable=True,
            comment="Last day it is valid; NULL when open-ended or unknown",
        ),
        sa.Column("issuer", sa.Text(), nullable=True, comment="Granting authority"),
        sa.Column("notes", sa.Text(), nullable=True, comment="Free text"),
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
            "level IN ('national', 'provincial', 'city')", name=op.f("ck_designation_level")
        ),
        sa.CheckConstraint(
            "type IN ('innovative_sme', 'specialized_sme', 'little_giant', 'single_champion', 'high_tech', 'gazelle', 'unicorn')",
            name=op.f("ck_designation_type"),
        ),
        sa.CheckConstraint(
            "valid_until IS NULL OR valid_until >= make_date(year, 1, 1)",
            name=op.f("ck_designation_valid_after_year"),
        ),
        sa.CheckConstraint("year BETWEEN 1980 AND 2100", name=op.f("ck_designation_year_range")),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_designation_enterprise_id_enterprise"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_designation")),
        sa.UniqueConstraint(
            "enterprise_id",
            "type",
            "level",
            "year",
            name=op.f("uq_designation_enterprise_id_type_level_year"),
        ),
        comment="Quality designations of enterprises (优质企业梯度), with level and validity",
    )
    op.create_index(
        op.f("ix_designation_enterprise_id"), "designation", ["enterprise_id"], unique=False
    )
    op.create_table(
        "project",
        sa.Column(
            "id",
            sa.BigInteger(),
            sa.Identity(always=False),
            nullable=False,
            comment="Surrogate key",
        ),
        sa.Column(
            "name", sa.Text(), nullable=False, comment="Project name, as the offices write it"
        ),
        sa.Column("chain_id", sa.BigInteger(), nullable=False, comment="The chain it strengthens"),
        sa.Column(
            "segment_id",
            sa.BigInteger(),
            nullable=True,
            comment="The segment of that chain, when known",
        ),
        sa.Column(
            "district_id", sa.BigInteger(), nullable=False, comment="Planning unit where it lands"
        ),
        sa.Column(
            "investor_id",
            sa.BigInteger(),
            nullable=True,
            comment="Investing enterprise, when registered in chaindb",
        ),
        sa.Column(
            "investor_name",
            sa.Text(),
            nullable=True,
            comment="Investor's name when it is not (yet) an enterprise in chaindb",
        ),
        sa.Column(
            "chain_master_id",
            sa.BigInteger(),
            nullable=True,
            comment="The chain master the project serves (链主招商), checked by trigger",
        ),
        sa.Column(
            "kind",
            sa.String(length=20),
            server_default=sa.text("'new'"),
            nullable=False,
            comment="new, expansion or capital_increase; a follow-on names its parent and counts only the increment",
        ),
        sa.Column(
            "parent_id",
            sa.BigInteger(),
            nullable=True,
            comment="For an expansion or capital increase: the original project",
        ),
        sa.Column(
            "channel",
            sa.String(length=20),
            nullable=True,
            comment="Attraction channel: chain_master (链主招商), business_referral (以商招商), fund (基金招商), entrusted (委托招商), direct or other",
        ),
        sa.Column(
            "agreed_investment_cny_100m",
            sa.Numeric(precision=14, scale=4),
            nullable=True,
            comment="Agreed investment (协议投资), in 亿元 (100 million CNY)",
        ),
        sa.Column(
            "funds_arrived_cny_100m",
            sa.Numeric(precision=14, scale=4),
            nullable=True,
            comment="Funds arrived to date (到位资金), in 亿元 (100 million CNY)",
        ),
        sa.Column(
            "stage",
            sa.String(length=20),
            server_default=sa.text("'lead'"),
            nullable=False,
            comment="lead (储备), negotiating (在谈), signed (签约), under_construction (开工), in_production (投产), at_capacity (达产) or dropped (终止)",
        ),
        sa.Column("signed_on", sa.Date(), nullable=True, comment="Date signed (签约)"),
        sa.Column(
            "agreed_start_on",
            sa.Date(),
            nullable=True,
            comment="Construction start date agreed at signing (for the fulfilment rate)",
        ),
        sa.Column(
            "construction_started_on",
            sa.Date(),
            nullable=True,
            comment="Date construction started (开工)",
        ),
        sa.Column(
            "production_started_on",
            sa.Date(),
            nullable=True,
            comment="Date production started (投产)",
        ),
        sa.Column(
            "capacity_reached_on",
            sa.Date(),
            nullable=True,
            comment="Date full capacity reached (达产)",
        ),
        sa.Column("dropped_on", sa.Date(), nullable=True, comment="Date dropped (终止)"),
        sa.Column(
            "is_key",
            sa.Boolean(),
            server_default=sa.text("false"),
            nullable=False,
            comment="City key project (市级重点项目)",
        ),
        sa.Column("responsible_unit", sa.Text(), nullable=True, comment="Responsible unit"),
        sa.Column("responsible_person", sa.Text(), nullable=True, comment="Responsible person"),
        sa.Column("source", sa.Text(), nullable=True, comment="Where the facts come from"),
        sa.Column("notes", sa.Text(), nullable=True, comment="Free text"),
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
            "(kind = 'new') = (parent_id IS NULL)", name=op.f("ck_project_follow_on_has_parent")
        ),
        sa.CheckConstraint(
            "(stage = 'dropped') = (dropped_on IS NOT NULL)",
            name=op.f("ck_project_dropped_has_date"),
        ),
        sa.CheckConstraint("btrim(name) <> ''", name=op.f("ck_project_name_not_blank")),
        sa.CheckConstraint(
            "capacity_reached_on IS NULL OR stage = 'dropped' OR project_stage_rank(stage) >= 6",
            name=op.f("ck_project_capacity_reached_on_not_ahead_of_stage"),
        ),
        sa.CheckConstraint(
            "channel IN ('chain_master', 'business_referral', 'fund', 'entrusted', 'direct', 'other')",
            name=op.f("ck_project_channel"),
        ),
        sa.CheckConstraint(
            "construction_started_on IS NULL OR stage = 'dropped' OR project_stage_rank(stage) >= 4",
            name=op.f("ck_project_construction_started_on_not_ahead_of_stage"),
        ),
        sa.CheckConstraint(
            "investor_id IS NOT NULL OR COALESCE(btrim(investor_name), '') <> ''",
            name=op.f("ck_project_has_investor"),
        ),
        sa.CheckConstraint(
            "kind IN ('new', 'expansion', 'capital_increase')", name=op.f("ck_project_kind")
        ),
        sa.CheckConstraint(
            "production_started_on IS NULL OR stage = 'dropped' OR project_stage_rank(stage) >= 5",
            name=op.f("ck_project_production_started_on_not_ahead_of_stage"),
        ),
        sa.CheckConstraint(
            "signed_on IS NULL OR stage = 'dropped' OR project_stage_rank(stage) >= 3",
            name=op.f("ck_project_signed_on_not_ahead_of_stage"),
        ),
        sa.CheckConstraint(
            "stage IN ('lead', 'negotiating', 'signed', 'under_construction', 'in_production', 'at_capacity', 'dropped')",
            name=op.f("ck_project_stage"),
        ),
        sa.CheckConstraint(
            "(signed_on <= construction_started_on) AND (signed_on <= production_started_on) AND (signed_on <= capacity_reached_on) AND (construction_started_on <= production_started_on) AND (construction_started_on <= capacity_reached_on) AND (production_started_on <= capacity_reached_on)",
            name=op.f("ck_project_stage_dates_ordered"),
        ),
        sa.CheckConstraint(
            "agreed_investment_cny_100m IS NULL OR agreed_investment_cny_100m >= 0",
            name=op.f("ck_project_agreed_investment_non_negative"),
        ),
        sa.CheckConstraint(
            "agreed_start_on IS NULL OR signed_on IS NULL OR agreed_start_on >= signed_on",
            name=op.f("ck_project_agreed_start_after_signing"),
        ),
        sa.CheckConstraint(
            "funds_arrived_cny_100m IS NULL OR funds_arrived_cny_100m >= 0",
            name=op.f("ck_project_funds_arrived_non_negative"),
        ),
        sa.CheckConstraint(
            "parent_id IS NULL OR parent_id <> id", name=op.f("ck_project_not_own_parent")
        ),
        sa.ForeignKeyConstraint(
            ["chain_id", "segment_id"],
            ["chain_segment.chain_id", "chain_segment.id"],
            name="fk_project_segment_same_chain",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["chain_id"], ["chain.id"], name=op.f("fk_project_chain_id_chain"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["chain_master_id"],
            ["enterprise.id"],
            name=op.f("fk_project_chain_master_id_enterprise"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["district.id"],
            name=op.f("fk_project_district_id_district"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["investor_id"],
            ["enterprise.id"],
            name=op.f("fk_project_investor_id_enterprise"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["project.id"],
            name=op.f("fk_project_parent_id_project"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project")),
        comment="Investment projects (招商项目). Amounts in 亿元. Every stage change is recorded in project_stage_event by trigger",
    )
    op.create_index("ix_project_chain_id_stage", "project", ["chain_id", "stage"], unique=False)
    op.create_index(
        op.f("ix_project_chain_master_id"), "project", ["chain_master_id"], unique=False
    )
    op.create_index(
        "ix_project_district_id_stage", "project", ["district_id", "stage"], unique=False
    )
    op.create_index(op.f("ix_project_investor_id"), "project", ["investor_id"], unique=False)
    op.create_index(op.f("ix_project_parent_id"), "project", ["parent_id"], unique=False)
    op.create_index("ix_project_segment_id", "project", ["segment_id"], unique=False)
    op.create_table(
        "supply_link",
        sa.Column(
            "id",
            sa.BigInteger(),
            sa.Identity(always=False),
            nullable=False,
            comment="Surrogate key",
        ),
        sa.Column(
            "supplier_id",
            sa.BigInteger(),
            nullable=False,
            comment="The supplying enterprise (配套企业)",
        ),
        sa.Column(
            "buyer_id", sa.BigInteger(), nullable=False, comment="The chain master supplied (链主)"
        ),
        sa.Column("chain_id", sa.BigInteger(), nullable=False, comment="The chain of the link"),
        sa.Column(
            "segment_id",
            sa.BigInteger(),
            nullable=True,
            comment="The segment of that chain the supply belongs to, when known",
        ),
        sa.Column("product", sa.Text(), nullable=True, comment="What is supplied, when known"),
        sa.Column(
            "annual_value_cny_10k",
            sa.Numeric(precision=16, scale=2),
            nullable=True,
            comment="Annual supply value, in 万元 (10,000 CNY); NULL when unknown",
        ),
        sa.Column("since", sa.Date(), nullable=True, comment="First day of supply, when known"),
        sa.Column(
            "until", sa.Date(), nullable=True, comment="Last day of supply; set when the link ends"
        ),
        sa.Column(
            "status",
            sa.String(length=10),
            server_default=sa.text("'active'"),
            nullable=False,
            comment="proposed (matched, not yet supplying), active or ended",
        ),
        sa.Column(
            "reported_by",
            sa.Text(),
            nullable=True,
            comment="Who reported the link (office, survey, enterprise)",
        ),
        sa.Column(
            "verified",
            sa.Boolean(),
            server_default=sa.text("false"),
            nullable=False,
            comment="True once the link has been verified",
        ),
        sa.Column(
            "verified_at", sa.DateTime(timezone=True), nullable=True, comment="When it was verified"
        ),
        sa.Column("notes", sa.Text(), nullable=True, comment="Free text"),
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
            "product IS NULL OR btrim(product) <> ''", name=op.f("ck_supply_link_product_not_blank")
        ),
        sa.CheckConstraint(
            "status <> 'ended' OR until IS NOT NULL", name=op.f("ck_supply_link_ended_has_until")
        ),
        sa.CheckConstraint(
            "status IN ('proposed', 'active', 'ended')", name=op.f("ck_supply_link_status")
        ),
        sa.CheckConstraint(
            "NOT verified OR verified_at IS NOT NULL", name=op.f("ck_supply_link_verified_has_time")
        ),
        sa.CheckConstraint(
            "annual_value_cny_10k IS NULL OR annual_value_cny_10k >= 0",
            name=op.f("ck_supply_link_annual_value_non_negative"),
        ),
        sa.CheckConstraint("supplier_id <> buyer_id", name=op.f("ck_supply_link_not_self_supply")),
        sa.CheckConstraint(
            "until IS NULL OR since IS NULL OR until >= since",
            name=op.f("ck_supply_link_period_order"),
        ),
        sa.ForeignKeyConstraint(
            ["buyer_id"],
            ["enterprise.id"],
            name=op.f("fk_supply_link_buyer_id_enterprise"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["chain_id", "segment_id"],
            ["chain_segment.chain_id", "chain_segment.id"],
            name="fk_supply_link_segment_same_chain",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["chain_id"],
            ["chain.id"],
            name=op.f("fk_supply_link_chain_id_chain"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["enterprise.id"],
            name=op.f("fk_supply_link_supplier_id_enterprise"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_link")),
        comment="Supply links (配套关系): supplier -> chain master, for a chain. The buyer must hold the chain_master role in that chain (trigger supply_link_check_buyer)",
    )
    op.create_index(
        "ix_supply_link_buyer_id_chain_id", "supply_link", ["buyer_id", "chain_id"], unique=False
    )
    op.create_index(
        "ix_supply_link_chain_id_segment_id",
        "supply_link",
        ["chain_id", "segment_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_supply_link_supplier_id"), "supply_link", ["supplier_id"], unique=False
    )
    op.create_index(
        "uq_supply_link_active",
        "supply_link",
        ["supplier_id", "buyer_id", "chain_id", "product"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
        postgresql_nulls_not_distinct=True,
    )
    op.create_table(
        "project_stage_event",
        sa.Column(
            "id",
            sa.BigInteger(),
            sa.Identity(always=False),
            nullable=False,
            comment="Surrogate key",
        ),
        sa.Column("project_id", sa.BigInteger(), nullable=False, comment="The project moved"),
        sa.Column(
            "from_stage",
            sa.String(length=20),
            nullable=True,
            comment="Stage before the move; NULL when the project was created",
        ),
        sa.Column("to_stage", sa.String(length=20), nullable=False, comment="Stage after the move"),
        sa.Column("occurred_on", sa.Date(), nullable=False, comment="Date the move happened"),
        sa.Column(
            "reason",
            sa.Text(),
            nullable=True,
            comment="Why; required when moving backwards, dropping or reviving",
        ),
        sa.Column("note", sa.Text(), nullable=True, comment="Free text"),
        sa.Column(
            "actor",
            sa.Text(),
            nullable=False,
            comment="Who made the move (the chaindb user, else the database user)",
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
            "btrim(actor) <> ''", name=op.f("ck_project_stage_event_actor_not_blank")
        ),
        sa.CheckConstraint(
            "COALESCE(btrim(reason), '') <> '' OR NOT (to_stage = 'dropped' OR COALESCE(from_stage = 'dropped', false) OR COALESCE(project_stage_rank(to_stage) < project_stage_rank(from_stage), false))",
            name=op.f("ck_project_stage_event_backward_or_drop_has_reason"),
        ),
        sa.CheckConstraint(
            "from_stage IN ('lead', 'negotiating', 'signed', 'under_construction', 'in_production', 'at_capacity', 'dropped')",
            name=op.f("ck_project_stage_event_from_stage"),
        ),
        sa.CheckConstraint(
            "to_stage IN ('lead', 'negotiating', 'signed', 'under_construction', 'in_production', 'at_capacity', 'dropped')",
            name=op.f("ck_project_stage_event_to_stage"),
        ),
        sa.CheckConstraint(
            "from_stage IS DISTINCT FROM to_stage", name=op.f("ck_project_stage_event_is_a_move")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_project_stage_event_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_stage_event")),
        comment="Stage history of projects: every change of project.stage, with date, reason and actor (append-only)",
    )
    op.create_index(
        "ix_project_stage_event_project_id_occurred_on",
        "project_stage_event",
        ["project_id", "occurred_on"],
        unique=False,
    )
    for statement in TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    for table in TIMESTAMPED_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_set_updated_at ON {table}")
    op.drop_index("ix_project_stage_event_project_id_occurred_on", table_name="project_stage_event")
    op.drop_table("project_stage_event")
    op.drop_index(
        "uq_supply_link_active",
        table_name="supply_link",
        postgresql_where=sa.text("status = 'active'"),
        postgresql_nulls_not_distinct=True,
    )
    op.drop_index(op.f("ix_supply_link_supplier_id"), table_name="supply_link")
    op.drop_index("ix_supply_link_chain_id_segment_id", table_name="supply_link")
    op.drop_index("ix_supply_link_buyer_id_chain_id", table_name="supply_link")
    op.drop_table("supply_link")
    op.drop_index("ix_project_segment_id", table_name="project")
    op.drop_index(op.f("ix_project_parent_id"), table_name="project")
    op.drop_index(op.f("ix_project_investor_id"), table_name="project")
    op.drop_index("ix_project_district_id_stage", table_name="project")
    op.drop_index(op.f("ix_project_chain_master_id"), table_name="project")
    op.drop_index("ix_project_chain_id_stage", table_name="project")
    op.drop_table("project")
    op.drop_index(op.f("ix_designation_enterprise_id"), table_name="designation")
    op.drop_table("designation")
    op.drop_index("ix_chain_role_segment_id", table_name="chain_role")
    op.drop_index(op.f("ix_chain_role_enterprise_id"), table_name="chain_role")
    op.drop_index("ix_chain_role_chain_id_role", table_name="chain_role")
    op.drop_table("chain_role")
    op.drop_index(
        "uq_target_scope_year_metric", table_name="target", postgresql_nulls_not_distinct=True
    )
    op.drop_index("ix_target_district_id", table_name="target")
    op.drop_index("ix_target_chain_id", table_name="target")
    op.drop_table("target")
    op.drop_index(op.f("ix_enterprise_name_zh"), table_name="enterprise")
    op.drop_index(op.f("ix_enterprise_district_id"), table_name="enterprise")
    op.drop_table("enterprise")
    op.drop_index("ix_chain_segment_parent_id", table_name="chain_segment")
    op.drop_table("chain_segment")
    op.drop_table("district")
    op.drop_index(op.f("ix_chain_parent_id"), table_name="chain")
    op.drop_table("chain")
    for name in reversed(FUNCTION_NAMES):
        op.execute(f"DROP FUNCTION IF EXISTS {name} CASCADE")
    op.execute("DROP EXTENSION IF EXISTS btree_gist")
