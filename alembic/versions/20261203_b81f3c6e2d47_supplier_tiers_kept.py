"""Supplier tiers kept, not refreshed: report_supplier_tiers becomes a view over the table
supplier_tier, which the report refresher keeps chain master by chain master.

As a materialized view its refresh took 6.9 s at synthetic scale 1 (65 chain masters, 317,566
rows): a supply link written waited that long for its figures. Now a statement trigger on
supply_link (an active link inserted, deleted, or changed in status, buyer, supplier or chain)
and on chain_role (a chain-master role changed) queues the buyer or role holder in
supplier_tier_stale; supplier_tier_catch_up() takes the queue and rebuilds only the chain masters
whose tiers hold a queued enterprise (or are one), from supplier_tiers(master, 5);
supplier_tier_rebuild() rebuilds them all (`chaindb db refresh-reports`, a new day, a refresher
taking over). Both hold a transaction-level advisory lock, so that they never interleave; readers
see the previous rows until a rebuild commits. A TRUNCATE of either table queues 0: everything.

Revision ID: b81f3c6e2d47
Revises: 4e2b9c7d1a55
Create Date: 2026-12-03 17:30:00.000000+00:00
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "b81f3c6e2d47"
down_revision: str | Sequence[str] | None = "4e2b9c7d1a55"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# pg_advisory_xact_lock's key for keeping supplier_tier: sha256("chaindb.supplier_tier")[:8].
LOCK_KEY = 0x51A7_2E0C_9D3B_4F16

FUNCTIONS = [
    f"""
CREATE FUNCTION supplier_tier_rebuild(masters bigint[] DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
DECLARE
  written integer;
BEGIN
  PERFORM pg_advisory_xact_lock({LOCK_KEY});
  IF masters IS NULL THEN
    DELETE FROM supplier_tier_stale;
    DELETE FROM supplier_tier;
  ELSE
    DELETE FROM supplier_tier WHERE chain_master_id = ANY (masters);
  END IF;
  INSERT INTO supplier_tier (chain_master_id, chain_id, supplier_id, tier, via_buyer_id, path)
  SELECT t.chain_master_id, t.chain_id, t.supplier_id, t.tier, t.via_buyer_id, t.path
  FROM (
    SELECT DISTINCT r.enterprise_id
    FROM chain_role AS r
    WHERE r.role = 'chain_master'
      AND (r.since IS NULL OR r.since <= current_date)
      AND (r.until IS NULL OR r.until >= current_date)
      AND (masters IS NULL OR r.enterprise_id = ANY (masters))
  ) AS m
  CROSS JOIN LATERAL supplier_tiers(m.enterprise_id, 5) AS t;
  GET DIAGNOSTICS written = ROW_COUNT;
  RETURN written;
END
$$
""",
    f"""
CREATE FUNCTION supplier_tier_catch_up()
RETURNS integer
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
DECLARE
  changed bigint[];
  masters bigint[];
BEGIN
  PERFORM pg_advisory_xact_lock({LOCK_KEY});
  WITH taken AS (DELETE FROM supplier_tier_stale RETURNING enterprise_id)
  SELECT array_agg(DISTINCT enterprise_id) INTO changed FROM taken;
  IF changed IS NULL THEN
    RETURN 0;
  END IF;
  IF 0 = ANY (changed) THEN
    PERFORM supplier_tier_rebuild(NULL);
    RETURN -1;
  END IF;
  -- The chain masters among them (now or until now), and those whose tiers hold one of them.
  SELECT array_agg(DISTINCT x.id) INTO masters
  FROM (
    SELECT unnest(changed) AS id
    UNION
    SELECT t.chain_master_id FROM supplier_tier AS t WHERE t.supplier_id = ANY (changed)
  ) AS x;
  PERFORM supplier_tier_rebuild(masters);
  RETURN cardinality(masters);
END
$$
""",
    """
CREATE FUNCTION supplier_tier_queue_links()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    INSERT INTO supplier_tier_stale (enterprise_id) VALUES (0);
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO supplier_tier_stale (enterprise_id)
    SELECT DISTINCT n.buyer_id FROM new_rows AS n WHERE n.status = 'active';
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO supplier_tier_stale (enterprise_id)
    SELECT DISTINCT o.buyer_id FROM old_rows AS o WHERE o.status = 'active';
  ELSE
    INSERT INTO supplier_tier_stale (enterprise_id)
    SELECT DISTINCT b.buyer_id
    FROM old_rows AS o
    JOIN new_rows AS n ON n.id = o.id
    CROSS JOIN LATERAL (VALUES (o.buyer_id), (n.buyer_id)) AS b (buyer_id)
    WHERE (o.status = 'active' OR n.status = 'active')
      AND (o.status, o.buyer_id, o.supplier_id, o.chain_id)
          IS DISTINCT FROM (n.status, n.buyer_id, n.supplier_id, n.chain_id);
  END IF;
  RETURN NULL;
END
$$
""",
    """
CREATE FUNCTION supplier_tier_queue_roles()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    INSERT INTO supplier_tier_stale (enterprise_id) VALUES (0);
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO supplier_tier_stale (enterprise_id)
    SELECT DISTINCT n.enterprise_id FROM new_rows AS n WHERE n.role = 'chain_master';
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO supplier_tier_stale (enterprise_id)
    SELECT DISTINCT o.enterprise_id FROM old_rows AS o WHERE o.role = 'chain_master';
  ELSE
    INSERT INTO supplier_tier_stale (enterprise_id)
    SELECT DISTINCT h.enterprise_id
    FROM old_rows AS o
    JOIN new_rows AS n ON n.id = o.id
    CROSS JOIN LATERAL (VALUES (o.enterprise_id), (n.enterprise_id)) AS h (enterprise_id)
    WHERE (o.role = 'chain_master' OR n.role = 'chain_master')
      AND (o.role, o.enterprise_id, o.chain_id, o.since, o.until)
          IS DISTINCT FROM (n.role, n.enterprise_id, n.chain_id, n.since, n.until);
  END IF;
  RETURN NULL;
END
$$
""",
]
COMMENTS = [
    "COMMENT ON FUNCTION supplier_tier_rebuild(bigint[]) IS 'Rebuild supplier_tier for the chain "
    "masters `masters` (all of them when NULL, emptying the queue): their rows deleted, those of "
    "the ones whose chain_master role is live today written again from supplier_tiers(m, 5); the "
    "rows written'",
    "COMMENT ON FUNCTION supplier_tier_catch_up() IS 'Take the queue supplier_tier_stale and "
    "rebuild the chain masters it names or whose tiers hold an enterprise it names; how many "
    "(-1: all, after a TRUNCATE)'",
    "COMMENT ON FUNCTION supplier_tier_queue_links() IS 'Queue the buyers of the active supply "
    "links a statement inserted, deleted or changed (status, buyer, supplier, chain)'",
    "COMMENT ON FUNCTION supplier_tier_queue_roles() IS 'Queue the holders of the chain-master "
    "roles a statement inserted, deleted or changed'",
]
TRIGGERS = {
    "supply_link": "supplier_tier_queue_links",
    "chain_role": "supplier_tier_queue_roles",
}

VIEW_SQL: dict[str, str] = {
    "report_supplier_tiers": """
-- Upstream suppliers of each chain master, tier by tier, through the active supply links.
CREATE OR REPLACE FUNCTION supplier_tiers(master_id bigint, max_tier integer DEFAULT 3)
RETURNS TABLE (
    chain_master_id bigint,
    chain_master_name_zh text,
    chain_id bigint,
    chain_code character varying,
    tier integer,
    supplier_id bigint,
    supplier_name_zh text,
    supplier_local boolean,
    via_buyer_id bigint,
    path bigint[]
)
LANGUAGE sql
STABLE
-- The recursion's row estimates are far too high: JIT compiling would cost more than the query.
SET jit = off
-- Its tables by name whatever the caller's search_path: REFRESH MATERIALIZED VIEW runs it with
-- search_path pg_catalog, pg_temp from PostgreSQL 17 on.
SET search_path = public, pg_temp
AS $$
WITH RECURSIVE root AS (
    -- The chains in which the master holds a chain_master role live today.
    SELECT DISTINCT r.chain_id
    FROM chain_role AS r
    WHERE r.enterprise_id = supplier_tiers.master_id
      AND r.role = 'chain_master'
      AND (r.since IS NULL OR r.since <= current_date)
      AND (r.until IS NULL OR r.until >= current_date)
),
wave (chain_id, tier, frontier, seen) AS (
    -- Breadth first: a wave holds the enterprises first reached at its tier; seen holds the
    -- master and every enterprise reached so far, so that a cycle never leads back.
    SELECT
        root.chain_id,
        1,
        first_tier.suppliers,
        first_tier.suppliers || supplier_tiers.master_id
    FROM root
    CROSS JOIN LATERAL (
        SELECT array_agg(DISTINCT l.supplier_id) AS suppliers
        FROM supply_link AS l
        WHERE l.buyer_id = supplier_tiers.master_id
          AND l.chain_id = root.chain_id
          AND l.status = 'active'
    ) AS first_tier
    WHERE first_tier.suppliers IS NOT NULL
      AND supplier_tiers.max_tier >= 1
    UNION ALL
    SELECT
        w.chain_id,
        w.tier + 1,
        next_tier.suppliers,
        w.seen || next_tier.suppliers
    FROM wave AS w
    CROSS JOIN LATERAL (
        -- Tier n+1: active links of any chain whose buyer is at tier n.
        SELECT array_agg(DISTINCT l.supplier_id) AS suppliers
        FROM supply_link AS l
        WHERE l.buyer_id = ANY (w.frontier)
          AND l.status = 'active'
          AND l.supplier_id <> ALL (w.seen)
    ) AS next_tier
    WHERE w.tier < supplier_tiers.max_tier
      AND next_tier.suppliers IS NOT NULL
),
placed AS (
    -- Each enterprise with the buyer it supplies one tier down (the lowest id among several).
    SELECT
        w.chain_id,
        w.tier,
        s.supplier_id,
        CASE
            WHEN w.tier = 1 THEN supplier_tiers.master_id
            ELSE (
                SELECT min(l.buyer_id)
                FROM supply_link AS l
                WHERE l.supplier_id = s.supplier_id
                  AND l.status = 'active'
                  AND l.buyer_id = ANY (below.frontier)
            )
        END AS via_buyer_id
    FROM wave AS w
    CROSS JOIN LATERAL unnest(w.frontier) AS s (supplier_id)
    LEFT JOIN wave AS below ON below.chain_id = w.chain_id AND below.tier = w.tier - 1
),
chained (chain_id, tier, supplier_id, via_buyer_id, path) AS (
    -- The path from the master, following via_buyer_id (a tree: one buyer per enterprise).
    SELECT
        p.chain_id,
        p.tier,
        p.supplier_id,
        p.via_buyer_id,
        ARRAY[supplier_tiers.master_id, p.supplier_id]
    FROM placed AS p
    WHERE p.tier = 1
    UNION ALL
    SELECT
        p.chain_id,
        p.tier,
        p.supplier_id,
        p.via_buyer_id,
        c.path || p.supplier_id
    FROM chained AS c
    JOIN placed AS p
        ON p.chain_id = c.chain_id
       AND p.tier = c.tier + 1
       AND p.via_buyer_id = c.supplier_id
)
SELECT
    m.id AS chain_master_id,
    m.name_zh AS chain_master_name_zh,
    k.chain_id,
    c.code AS chain_code,
    k.tier,
    k.supplier_id,
    e.name_zh AS supplier_name_zh,
    e.district_id IS NOT NULL AS supplier_local,
    k.via_buyer_id,
    k.path
FROM chained AS k
JOIN enterprise AS m ON m.id = supplier_tiers.master_id
JOIN enterprise AS e ON e.id = k.supplier_id
JOIN chain AS c ON c.id = k.chain_id
$$;

COMMENT ON FUNCTION supplier_tiers(bigint, integer) IS
    'The upstream suppliers of one chain master, in every chain where its chain_master role is '
    'live today, down to max_tier (default 3): the fast path of report_supplier_tiers, same '
    'columns. Tier 1 = suppliers of active links to the master in that chain; tier n+1 = '
    'suppliers of active links (any chain) to a tier-n enterprise. Each enterprise once per '
    'chain, at its lowest tier; never the master itself; safe on cycles.';

-- Kept: its rows are the table supplier_tier, which the report refresher keeps (as a plain view
-- over supplier_tiers() it took 2.5 s at synthetic scale 1, as a materialized view 6.9 s to
-- refresh). A write to a supply link or a chain-master role queues its enterprise
-- (supplier_tier_stale); supplier_tier_catch_up() rebuilds the chain masters whose tiers hold it,
-- supplier_tier_rebuild() all of them. The names and where each enterprise sits are read live.
CREATE OR REPLACE VIEW report_supplier_tiers AS
SELECT
    t.chain_master_id,
    m.name_zh AS chain_master_name_zh,
    t.chain_id,
    c.code AS chain_code,
    t.tier,
    t.supplier_id,
    e.name_zh AS supplier_name_zh,
    e.district_id IS NOT NULL AS supplier_local,
    t.via_buyer_id,
    t.path
FROM supplier_tier AS t
JOIN enterprise AS m ON m.id = t.chain_master_id
JOIN enterprise AS e ON e.id = t.supplier_id
JOIN chain AS c ON c.id = t.chain_id;

COMMENT ON VIEW report_supplier_tiers IS
    'For each chain master and chain where its chain_master role is live today: every enterprise '
    'upstream of it through active supply links, down to tier 5. Tier 1 = suppliers of active '
    'links to the master in that chain; tier n+1 = suppliers of active links (any chain) to a '
    'tier-n enterprise. Each enterprise appears once per master and chain, at its lowest tier; '
    'the master never; cycles are cut. For one master, supplier_tiers(master_id, max_tier) is '
    'faster.';
COMMENT ON COLUMN report_supplier_tiers.chain_master_id IS
    'The chain master at the root (enterprise.id)';
COMMENT ON COLUMN report_supplier_tiers.chain_master_name_zh IS
    'Registered Chinese name of the chain master';
COMMENT ON COLUMN report_supplier_tiers.chain_id IS
    'The chain of the master''s role and of its tier-1 links (chain.id)';
COMMENT ON COLUMN report_supplier_tiers.chain_code IS 'Natural key of the chain';
COMMENT ON COLUMN report_supplier_tiers.tier IS
    '1 = supplies the master directly, 2 = supplies a tier-1 supplier, and so on (at most 5)';
COMMENT ON COLUMN report_supplier_tiers.supplier_id IS 'The upstream enterprise (enterprise.id)';
COMMENT ON COLUMN report_supplier_tiers.supplier_name_zh IS
    'Registered Chinese name of the upstream enterprise';
COMMENT ON COLUMN report_supplier_tiers.supplier_local IS
    'True when the upstream enterprise is in one of the city''s planning units';
COMMENT ON COLUMN report_supplier_tiers.via_buyer_id IS
    'The enterprise one tier down that it supplies on the path (the master for tier 1; the '
    'lowest id when it supplies several)';
COMMENT ON COLUMN report_supplier_tiers.path IS
    'Enterprise ids from the master to this enterprise: {master, tier 1, ..., this one}';
""",
}


def _released(revision_id: str):
    """A released migration's module, for its SQL (never copied: it must not change)."""
    (path,) = Path(__file__).parent.glob(f"*_{revision_id}_*.py")
    spec = importlib.util.spec_from_file_location(f"_chaindb_revision_{revision_id}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    gap = _released("f0d0aa0340fa")
    gap._keep_grants(["report_supplier_tiers"])
    op.execute("DROP MATERIALIZED VIEW report_supplier_tiers")
    op.create_table(
        "supplier_tier",
        sa.Column("chain_master_id", sa.BigInteger(), nullable=False,
                  comment="The chain master at the root (enterprise.id)"),
        sa.Column("chain_id", sa.BigInteger(), nullable=False,
                  comment="The chain of the master's role (chain.id)"),
        sa.Column("supplier_id", sa.BigInteger(), nullable=False,
                  comment="The upstream enterprise (enterprise.id)"),
        sa.Column("tier", sa.Integer(), nullable=False,
                  comment="1 = supplies the master directly, ..."),
        sa.Column("via_buyer_id", sa.BigInteger(), nullable=False,
                  comment="The enterprise one tier down that it supplies on the path"),
        sa.Column("path", postgresql.ARRAY(sa.BigInteger()), nullable=False,
                  comment="Enterprise ids from the master to this enterprise"),
        sa.PrimaryKeyConstraint("chain_master_id", "chain_id", "supplier_id",
                                name=op.f("pk_supplier_tier")),
        comment="Derived: for each chain master and chain where its chain_master role is live, "
        "every enterprise upstream of it through active supply links, down to tier 5 "
        "(supplier_tiers()). Kept by supplier_tier_rebuild() and supplier_tier_catch_up(), which "
        "the report refresher calls; read it through report_supplier_tiers",
    )  # fmt: skip
    op.create_index(
        "ix_supplier_tier_chain_master_id_chain_id_tier",
        "supplier_tier",
        ["chain_master_id", "chain_id", "tier"],
    )
    op.create_index("ix_supplier_tier_chain_id", "supplier_tier", ["chain_id"])
    op.create_index("ix_supplier_tier_supplier_id", "supplier_tier", ["supplier_id"])
    op.create_table(
        "supplier_tier_stale",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False, comment="Surrogate key"),
        sa.Column("enterprise_id", sa.BigInteger(), nullable=False,
                  comment="The buyer of the changed links, or the holder of the changed role"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_tier_stale")),
        comment="Queue of the enterprises whose active supply links (as buyer) or chain-master "
        "roles changed: the chain masters whose tiers hold them are rebuilt by "
        "supplier_tier_catch_up(); 0 stands for every enterprise (a TRUNCATE)",
    )  # fmt: skip
    for function in FUNCTIONS:
        op.execute(function)
    for comment in COMMENTS:
        op.execute(comment)
    for table, function in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {table}_tiers_on_insert AFTER INSERT ON {table} "
            f"REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_tiers_on_update AFTER UPDATE ON {table} "
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_tiers_on_delete AFTER DELETE ON {table} "
            f"REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_tiers_on_truncate AFTER TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    op.execute(VIEW_SQL["report_supplier_tiers"])
    gap._grant_again()
    op.execute("SELECT supplier_tier_rebuild(NULL)")
    op.execute("ANALYZE supplier_tier")
    op.execute(
        "INSERT INTO report_refresh (view_name, refreshed_at) "
        "VALUES ('report_supplier_tiers', now()) "
        "ON CONFLICT (view_name) DO UPDATE SET refreshed_at = EXCLUDED.refreshed_at, seconds = NULL"
    )


def downgrade() -> None:
    gap = _released("f0d0aa0340fa")
    gap._keep_grants(["report_supplier_tiers"])
    op.execute("DROP VIEW report_supplier_tiers")
    for table in TRIGGERS:
        for event in ("insert", "update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_tiers_on_{event} ON {table}")
    for signature in (
        "supplier_tier_catch_up()",
        "supplier_tier_rebuild(bigint[])",
        "supplier_tier_queue_links()",
        "supplier_tier_queue_roles()",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    op.drop_table("supplier_tier_stale")
    op.drop_table("supplier_tier")
    op.execute(_released("3a0bd0a8377d").VIEW_SQL["report_supplier_tiers"])
    gap._grant_again()
