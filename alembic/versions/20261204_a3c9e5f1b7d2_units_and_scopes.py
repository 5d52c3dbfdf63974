"""Many offices: units, each user in one, and what each unit may see and change enforced by
PostgreSQL (row-level security).

- unit: the city bureau (created here: every deployment has one), a chain office per iconic
  chain, an office per planning unit (the reference seed adds those); audited.
- app_user.unit_id (the existing users join the city bureau) and the role reviewer (between
  editor and admin: reviews what units report).
- unit.reader_role: the database login role of the unit's analysts (`chaindb db grant-reader
  --unit CODE`); chaindb_reader is the city bureau's.
- The role chaindb_app (NOLOGIN, cluster-wide, created when missing): the application acts as it
  in every request (SET ROLE, with the acting unit in the setting chaindb.unit_id); it may
  read and write every table, and row-level security says which rows. The owner of the tables
  (the migrations, the seeds, the report refresher, the CLI) is not subject to it.
- acting_unit(): the unit a session acts for: chaindb.unit_id for chaindb_app, else the unit
  whose reader_role is the current user; scope_all(), scope_district(), scope_chains(): what
  that unit answers for (the city bureau: everything; a district office: its planning unit; a
  chain office: its chain and the key chains under it).
- Policies (each function called once per statement, as an InitPlan):
  everyone reads chains, segments, roles, districts, enterprises, designations, supply links,
  targets and units; projects (and their stage events and milestones) only in scope: the city
  bureau all, a district office its planning unit's, a chain office its chains'. Writes: the
  city bureau everything; a chain office its chains' segments, roles, supply links and projects,
  and enterprises that are not local; a district office its planning unit's projects and
  enterprises (and their designations), the supply links whose supplier is located in it, and
  the supplier roles of its enterprises. Chains, districts, targets, units and merges: the city
  bureau. The change log shows a project's changes to those who may read the project.

Revision ID: a3c9e5f1b7d2
Revises: 8d4f6a2c1e73
Create Date: 2026-12-04 08:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from chaindb.migrations import audit, unaudit

revision: str = "a3c9e5f1b7d2"
down_revision: str | Sequence[str] | None = "8d4f6a2c1e73"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "chaindb_app"
# The text columns of unit and their limits (chaindb.models.limit_text at this revision).
TEXT_LIMITS = {"name_zh": 200, "name_en": 200, "notes": 10_000}

ROLES_BEFORE = "role IN ('admin', 'editor', 'viewer')"
ROLES_NOW = "role IN ('admin', 'reviewer', 'editor', 'viewer')"

CREATE_APP_ROLE = f"""
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
    BEGIN
      CREATE ROLE {APP_ROLE} NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;  -- another database of the cluster created it meanwhile
    END;
  END IF;
  -- Whoever migrates (and, by the same URL, serves) may act as it; a superuser may already.
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
     AND NOT pg_has_role(current_user, '{APP_ROLE}', 'MEMBER') THEN
    EXECUTE format('GRANT {APP_ROLE} TO %I', current_user);
  END IF;
END
$$
"""

GRANTS = [
    f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}",
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}",
    f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}",
    # The tables and sequences later migrations create, by whoever runs them.
    f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE}",
    f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE}",
]
REVOKES = [
    f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
    f"REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {APP_ROLE}",
    f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM {APP_ROLE}",
    f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {APP_ROLE}",
    f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {APP_ROLE}",
    f"REVOKE USAGE ON SCHEMA public FROM {APP_ROLE}",
]

# Signature -> definition, in creation order.
FUNCTIONS = {
    "acting_unit()": f"""
CREATE FUNCTION acting_unit() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE
    WHEN current_user = '{APP_ROLE}'
        THEN CAST(NULLIF(current_setting('chaindb.unit_id', true), '') AS bigint)
    ELSE (SELECT u.id FROM unit AS u WHERE u.reader_role = current_user)
END
""",
    "scope_all()": """
CREATE FUNCTION scope_all() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
RETURN EXISTS (SELECT 1 FROM unit AS u WHERE u.id = acting_unit() AND u.kind = 'city')
""",
    "scope_district()": """
CREATE FUNCTION scope_district() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
RETURN (SELECT u.district_id FROM unit AS u WHERE u.id = acting_unit())
""",
    "scope_chains()": """
CREATE FUNCTION scope_chains() RETURNS bigint[]
LANGUAGE sql STABLE PARALLEL SAFE
RETURN (
    SELECT array_agg(c.id ORDER BY c.id)
    FROM unit AS u
    JOIN chain AS c ON c.id = u.chain_id OR c.parent_id = u.chain_id
    WHERE u.id = acting_unit()
)
""",
}

FUNCTION_COMMENTS = {
    "acting_unit()": "The unit (office) this session acts for: the setting chaindb.unit_id when "
    "the application acts (as chaindb_app), else the unit whose reader_role is the current "
    "user; NULL: none (no project is in scope, nothing may be written)",
    "scope_all()": "The acting unit is the city bureau: it sees and changes everything",
    "scope_district()": "The acting unit's planning unit (a district office's); else NULL",
    "scope_chains()": "The acting unit's chains (a chain office's iconic chain and the key chains "
    "under it); else NULL",
}

# The conditions of the policies. Each function is wrapped in a subquery: computed once per
# statement (an InitPlan), not once per row.
ALL = "(SELECT scope_all())"
DISTRICT = "(SELECT scope_district())"
CHAINS = "CAST((SELECT scope_chains()) AS bigint[])"
PROJECT_IN_SCOPE = f"({ALL} OR district_id = {DISTRICT} OR chain_id = ANY ({CHAINS}))"
ENTERPRISE_WRITABLE = (
    f"({ALL} OR district_id = {DISTRICT} OR (district_id IS NULL AND {CHAINS} IS NOT NULL))"
)
CHAIN_WRITABLE = f"({ALL} OR chain_id = ANY ({CHAINS}))"

# table -> [(policy, command, USING, WITH CHECK)]; a None condition is left out.
POLICIES: dict[str, list[tuple[str, str, str | None, str | None]]] = {
    "project": [("project_in_scope", "ALL", PROJECT_IN_SCOPE, PROJECT_IN_SCOPE)],
    "project_stage_event": [
        (
            "project_stage_event_of_a_project_in_scope",
            "ALL",
            "EXISTS (SELECT 1 FROM project AS p WHERE p.id = project_id)",
            "EXISTS (SELECT 1 FROM project AS p WHERE p.id = project_id)",
        )
    ],
    "project_milestone": [
        (
            "project_milestone_of_a_project_in_scope",
            "ALL",
            "EXISTS (SELECT 1 FROM project AS p WHERE p.id = project_id)",
            "EXISTS (SELECT 1 FROM project AS p WHERE p.id = project_id)",
        )
    ],
    "enterprise": [
        ("enterprise_read", "SELECT", "true", None),
        ("enterprise_insert", "INSERT", None, ENTERPRISE_WRITABLE),
        ("enterprise_update", "UPDATE", ENTERPRISE_WRITABLE, ENTERPRISE_WRITABLE),
        ("enterprise_delete", "DELETE", ENTERPRISE_WRITABLE, None),
    ],
    "designation": [
        ("designation_read", "SELECT", "true", None),
        (
            "designation_write",
            "ALL",
            "EXISTS (SELECT 1 FROM enterprise AS e WHERE e.id = enterprise_id AND "
            f"({ALL} OR e.district_id = {DISTRICT} OR (e.district_id IS NULL AND {CHAINS} IS NOT NULL)))",
            "EXISTS (SELECT 1 FROM enterprise AS e WHERE e.id = enterprise_id AND "
            f"({ALL} OR e.district_id = {DISTRICT} OR (e.district_id IS NULL AND {CHAINS} IS NOT NULL)))",
        ),
    ],
    "supply_link": [
        ("supply_link_read", "SELECT", "true", None),
        (
            "supply_link_write",
            "ALL",
            f"({ALL} OR chain_id = ANY ({CHAINS}) OR EXISTS (SELECT 1 FROM enterprise AS e "
            f"WHERE e.id = supplier_id AND e.district_id = {DISTRICT}))",
            f"({ALL} OR chain_id = ANY ({CHAINS}) OR EXISTS (SELECT 1 FROM enterprise AS e "
            f"WHERE e.id = supplier_id AND e.district_id = {DISTRICT}))",
        ),
    ],
    "chain_role": [
        ("chain_role_read", "SELECT", "true", None),
        (
            "chain_role_write",
            "ALL",
            # A district office records its enterprises as suppliers (a link it makes does).
            f"({ALL} OR chain_id = ANY ({CHAINS}) OR (role = 'supplier' AND EXISTS (SELECT 1 "
            f"FROM enterprise AS e WHERE e.id = enterprise_id AND e.district_id = {DISTRICT})))",
            f"({ALL} OR chain_id = ANY ({CHAINS}) OR (role = 'supplier' AND EXISTS (SELECT 1 "
            f"FROM enterprise AS e WHERE e.id = enterprise_id AND e.district_id = {DISTRICT})))",
        ),
    ],
    "chain_segment": [
        ("chain_segment_read", "SELECT", "true", None),
        ("chain_segment_write", "ALL", CHAIN_WRITABLE, CHAIN_WRITABLE),
    ],
    **{
        table: [
            (f"{table}_read", "SELECT", "true", None),
            (f"{table}_write", "ALL", ALL, ALL),
        ]
        for table in ("chain", "district", "target", "unit", "enterprise_merge")
    },
    "change_log": [
        (
            "change_log_read",
            "SELECT",
            # A project's changes (and its stage events') to whoever may read the project.
            f"(table_name NOT IN ('project', 'project_stage_event') OR {ALL} "
            "OR EXISTS (SELECT 1 FROM project AS p WHERE p.id = CASE table_name "
            "WHEN 'project' THEN record_id "
            "ELSE CAST(COALESCE(after, before) ->> 'project_id' AS bigint) END))",
            None,
        ),
        ("change_log_insert", "INSERT", None, "true"),
    ],
}


def upgrade() -> None:
    op.create_table(
        "unit",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False, comment="Surrogate key"),
        sa.Column("code", sa.String(40), nullable=False,
                  comment="Natural key: lower-case letters, digits and dashes, e.g. city, "
                  "chain-automotive, district-370102"),
        sa.Column("kind", sa.String(16), nullable=False,
                  comment="city (the city bureau), chain_office (链长办) or district_office (a "
                  "planning unit's investment office)"),
        sa.Column("name_zh", sa.Text(), nullable=False, comment="Chinese name"),
        sa.Column("name_en", sa.Text(), nullable=True, comment="English name"),
        sa.Column("parent_id", sa.BigInteger(), nullable=True,
                  comment="The office it reports to (the city bureau); NULL for the city bureau"),
        sa.Column("chain_id", sa.BigInteger(), nullable=True,
                  comment="A chain office's chain (an iconic chain; its key chains are in its "
                  "charge too)"),
        sa.Column("district_id", sa.BigInteger(), nullable=True,
                  comment="A district office's planning unit"),
        sa.Column("reader_role", sa.String(63), nullable=True,
                  comment="The database login role of the unit's analysts (chaindb db "
                  "grant-reader --unit CODE): it reads what the unit may read"),
        sa.Column("sort_order", sa.Integer(), server_default=sa.text("0"), nullable=False,
                  comment="Display order in lists"),
        sa.Column("notes", sa.Text(), nullable=True, comment="Free text"),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False, comment="When the row was inserted (set by the database)"),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False,
                  comment="When the row last changed (set by the database trigger set_updated_at)"),
        sa.CheckConstraint("kind IN ('city', 'chain_office', 'district_office')",
                           name=op.f("ck_unit_kind")),
        sa.CheckConstraint("code ~ '^[a-z0-9][a-z0-9-]{1,39}$'", name=op.f("ck_unit_code_format")),
        sa.CheckConstraint("btrim(name_zh) <> ''", name=op.f("ck_unit_name_zh_not_blank")),
        sa.CheckConstraint(
            "(kind = 'city' AND chain_id IS NULL AND district_id IS NULL AND parent_id IS NULL) "
            "OR (kind = 'chain_office' AND chain_id IS NOT NULL AND district_id IS NULL "
            "AND parent_id IS NOT NULL) "
            "OR (kind = 'district_office' AND district_id IS NOT NULL AND chain_id IS NULL "
            "AND parent_id IS NOT NULL)",
            name=op.f("ck_unit_kind_matches_its_charge"),
        ),
        sa.CheckConstraint("parent_id IS NULL OR parent_id <> id", name=op.f("ck_unit_not_own_parent")),
        sa.CheckConstraint("reader_role ~ '^[a-z_][a-z0-9_]{0,62}$'",
                           name=op.f("ck_unit_reader_role_format")),
        sa.ForeignKeyConstraint(["parent_id"], ["unit.id"], ondelete="RESTRICT",
                                name=op.f("fk_unit_parent_id_unit")),
        sa.ForeignKeyConstraint(["chain_id"], ["chain.id"], ondelete="RESTRICT",
                                name=op.f("fk_unit_chain_id_chain")),
        sa.ForeignKeyConstraint(["district_id"], ["district.id"], ondelete="RESTRICT",
                                name=op.f("fk_unit_district_id_district")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit")),
        sa.UniqueConstraint("code", name=op.f("uq_unit_code")),
        sa.UniqueConstraint("name_zh", name=op.f("uq_unit_name_zh")),
        sa.UniqueConstraint("chain_id", name=op.f("uq_unit_chain_id")),
        sa.UniqueConstraint("district_id", name=op.f("uq_unit_district_id")),
        sa.UniqueConstraint("reader_role", name=op.f("uq_unit_reader_role")),
        comment="The offices that use chaindb (units): the city bureau (市投资促进局), a chain "
        "office (链长办) per iconic chain, an investment office per planning unit; each user "
        "belongs to one, and its scope is what its users may see and change",
    )  # fmt: skip
    op.create_index("ix_unit_parent_id", "unit", ["parent_id"])
    for column, limit in TEXT_LIMITS.items():
        op.create_check_constraint(
            op.f(f"ck_unit_{column}_length"), "unit", f"char_length({column}) <= {limit}"
        )
    op.execute("CREATE UNIQUE INDEX uq_unit_one_city ON unit ((kind = 'city')) WHERE kind = 'city'")
    op.execute(
        "INSERT INTO unit (code, kind, name_zh, name_en, reader_role, notes) VALUES "
        "('city', 'city', '市投资促进局', 'City investment promotion bureau', 'chaindb_reader', "
        "'Created by the migration that brought units: every deployment has a city bureau')"
    )
    # Audited from here on: the row the schema starts with is not a change anyone made.
    audit("unit")

    op.add_column(
        "app_user",
        sa.Column(
            "unit_id",
            sa.BigInteger(),
            nullable=True,
            comment="The office the user works for: what they may see and change",
        ),
    )
    op.execute("UPDATE app_user SET unit_id = (SELECT id FROM unit WHERE kind = 'city')")
    op.alter_column("app_user", "unit_id", nullable=False)
    op.create_foreign_key(
        op.f("fk_app_user_unit_id_unit"), "app_user", "unit", ["unit_id"], ["id"],
        ondelete="RESTRICT",
    )  # fmt: skip
    op.create_index("ix_app_user_unit_id", "app_user", ["unit_id"])
    op.drop_constraint(op.f("ck_app_user_role"), "app_user", type_="check")
    op.create_check_constraint(op.f("ck_app_user_role"), "app_user", ROLES_NOW)
    op.execute(
        "COMMENT ON COLUMN app_user.role IS 'In the user''s unit: admin (manages its users; the "
        "city bureau''s, every user), reviewer (approves what units report), editor (writes) or "
        "viewer (reads)'"
    )

    for signature, create in FUNCTIONS.items():
        op.execute(create)
        comment = FUNCTION_COMMENTS[signature].replace("'", "''")
        op.execute(f"COMMENT ON FUNCTION {signature} IS '{comment}'")

    op.execute(CREATE_APP_ROLE)
    for grant in GRANTS:
        op.execute(grant)
    for table, policies in POLICIES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        for name, command, using, check in policies:
            clauses = f"FOR {command}"
            if using is not None:
                clauses += f" USING ({using})"
            if check is not None:
                clauses += f" WITH CHECK ({check})"
            op.execute(f"CREATE POLICY {name} ON {table} {clauses}")


def downgrade() -> None:
    for table, policies in POLICIES.items():
        for name, *_ in policies:
            op.execute(f"DROP POLICY IF EXISTS {name} ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    for revoke in REVOKES:
        op.execute(revoke)
    for signature in reversed(FUNCTIONS):
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    # A reviewer becomes an editor, the nearest role that existed before.
    op.execute("UPDATE app_user SET role = 'editor' WHERE role = 'reviewer'")
    op.drop_constraint(op.f("ck_app_user_role"), "app_user", type_="check")
    op.create_check_constraint(op.f("ck_app_user_role"), "app_user", ROLES_BEFORE)
    op.execute(
        "COMMENT ON COLUMN app_user.role IS 'admin (manages users), editor (writes) or viewer "
        "(reads)'"
    )
    op.drop_index("ix_app_user_unit_id", table_name="app_user")
    op.drop_constraint(op.f("fk_app_user_unit_id_unit"), "app_user", type_="foreignkey")
    op.drop_column("app_user", "unit_id")
    unaudit("unit")
    op.drop_table("unit")
