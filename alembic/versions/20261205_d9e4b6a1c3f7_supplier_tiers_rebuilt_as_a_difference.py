"""The supplier tiers rebuilt as a difference, and supplier_tiers() planned for its size.

At synthetic scale 1 the report refresher's catch-up after a burst of links rebuilt the largest
chain master's tiers (88,999 rows) whenever one of the links came from an enterprise that buys
too (another chain master, in the benchmark's links): 3-4 s of a core every few seconds beside
the links, the quarter of its time the refresher allows itself (SHARE) spent on that.

1. supplier_tier_rebuild() writes the difference: the rows of the chain masters rebuilt that
   supplier_tiers() no longer gives are deleted, new ones inserted, changed ones updated, and an
   unchanged row is left alone (it was deleted and inserted again: 89,000 dead rows, their index
   entries and their WAL per rebuild). It returns the rows inserted or updated. Readers see the
   previous rows until it commits, as before.
2. supplier_tiers() hashes where it sorted: the planner estimates each step of a recursive CTE
   at a few hundred rows, where the largest chain master has 10^5 to 10^6, and chose a merge join
   and a grouping over sorts that spilled to disk. With enable_mergejoin and enable_sort off for
   the function: 2.1 -> 1.4 s, same rows.

3. supplier_tier_catch_up() rebuilds, for a new link from a supplier that buys, only the chain
   masters whose tiers it changes: those where it places its supplier lower than it sits (or
   where it is not), or as low through a lower buyer id. Any other such link leaves every tier,
   via and path as they are (the kept tiers already satisfy it); before, it rebuilt every chain
   master whose tiers hold its buyer.

Measured on chaindb_bench (synthetic scale 1, psql \\timing): a rebuild of the largest chain
master after a link from another chain master 2.9-3.4 -> 1.5 s, of every chain master 6.5 ->
3.0 s; under the link benchmark (wrk -t2 -c32, 40 s) the refresher's catch-up 2.2-2.8 s ->
0.15-0.18 s a burst, the link p99 68-77 -> 56-57 ms.

The SQL of report_supplier_tiers is copied here as it is at this revision
(chaindb/reports/sql/ holds the current version); a downgrade restores c4e6a8b0d2f5's
supplier_tiers(), 8d4f6a2c1e73's supplier_tier_rebuild() and a5d8f2b6c9e1's
supplier_tier_catch_up().

Revision ID: d9e4b6a1c3f7
Revises: b7e9d1f3a5c8
Create Date: 2026-12-05 15:30:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

from chaindb.migrations import released

revision: str = "d9e4b6a1c3f7"
down_revision: str | Sequence[str] | None = "b7e9d1f3a5c8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# pg_advisory_xact_lock's key for keeping supplier_tier (b81f3c6e2d47): sha256("chaindb.supplier_tier")[:8].
LOCK_KEY = 0x51A7_2E0C_9D3B_4F16
MAX_TIER = 5
VIEW = "report_supplier_tiers"

SUPPLIER_TIER_REBUILD = f"""
CREATE OR REPLACE FUNCTION supplier_tier_rebuild(masters bigint[] DEFAULT NULL)
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
  END IF;
  -- What the tiers of those chain masters are now, beside what is kept: only the difference is
  -- written (two hashed scans of 10^5 rows cost less than writing them again).
  WITH fresh AS MATERIALIZED (
    SELECT t.chain_master_id, t.chain_id, t.supplier_id, t.tier, t.via_buyer_id, t.path
    FROM (
      SELECT DISTINCT r.enterprise_id
      FROM chain_role AS r
      WHERE r.role = 'chain_master'
        AND role_held_on(r, current_date)
        AND (masters IS NULL OR r.enterprise_id = ANY (masters))
    ) AS m
    CROSS JOIN LATERAL supplier_tiers(m.enterprise_id, 5) AS t
  ),
  kept AS MATERIALIZED (
    SELECT s.chain_master_id, s.chain_id, s.supplier_id, s.tier, s.via_buyer_id, s.path
    FROM supplier_tier AS s
    WHERE masters IS NULL OR s.chain_master_id = ANY (masters)
  ),
  diff AS MATERIALIZED (
    SELECT
      coalesce(f.chain_master_id, k.chain_master_id) AS chain_master_id,
      coalesce(f.chain_id, k.chain_id) AS chain_id,
      coalesce(f.supplier_id, k.supplier_id) AS supplier_id,
      f.tier, f.via_buyer_id, f.path,
      k.chain_master_id IS NOT NULL AS was,
      f.chain_master_id IS NOT NULL AS stays
    FROM fresh AS f
    FULL JOIN kept AS k
      ON k.chain_master_id = f.chain_master_id
     AND k.chain_id = f.chain_id
     AND k.supplier_id = f.supplier_id
    WHERE (k.tier, k.via_buyer_id, k.path) IS DISTINCT FROM (f.tier, f.via_buyer_id, f.path)
  ),
  gone AS (
    -- Rows no longer there (a chain master whose role ended keeps none).
    DELETE FROM supplier_tier AS s
    USING diff AS d
    WHERE NOT d.stays
      AND s.chain_master_id = d.chain_master_id
      AND s.chain_id = d.chain_id
      AND s.supplier_id = d.supplier_id
  ),
  changed AS (
    UPDATE supplier_tier AS s
    SET tier = d.tier, via_buyer_id = d.via_buyer_id, path = d.path
    FROM diff AS d
    WHERE d.was AND d.stays
      AND s.chain_master_id = d.chain_master_id
      AND s.chain_id = d.chain_id
      AND s.supplier_id = d.supplier_id
    RETURNING 1
  ),
  added AS (
    INSERT INTO supplier_tier (chain_master_id, chain_id, supplier_id, tier, via_buyer_id, path)
    SELECT d.chain_master_id, d.chain_id, d.supplier_id, d.tier, d.via_buyer_id, d.path
    FROM diff AS d
    WHERE NOT d.was
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM changed) + (SELECT count(*) FROM added) INTO written;
  RETURN written;
END
$$
"""
SUPPLIER_TIER_CATCH_UP = f"""
CREATE OR REPLACE FUNCTION supplier_tier_catch_up()
RETURNS integer
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
DECLARE
  changed bigint[];
  fresh bigint[];
  joined bigint[];
  leaves bigint[];
  moved bigint[];
  masters bigint[];
BEGIN
  PERFORM pg_advisory_xact_lock({LOCK_KEY});
  WITH taken AS (DELETE FROM supplier_tier_stale RETURNING enterprise_id, link_id)
  SELECT array_agg(DISTINCT enterprise_id) FILTER (WHERE link_id IS NULL),
         array_agg(DISTINCT link_id) FILTER (WHERE link_id IS NOT NULL)
  INTO changed, fresh
  FROM taken;
  IF changed IS NULL AND fresh IS NULL THEN
    RETURN 0;
  END IF;
  IF 0 = ANY (changed) THEN
    PERFORM supplier_tier_rebuild(NULL);
    RETURN -1;
  END IF;
  -- The new links still active: those from a leaf (the buyer of no active link) are placed
  -- below; the others rebuild the chain masters whose tiers they can change (below). (A new
  -- link ended or deleted since was queued again by its buyer.)
  SELECT array_agg(l.id) FILTER (WHERE l.leaf), array_agg(l.id) FILTER (WHERE NOT l.leaf)
  INTO leaves, joined
  FROM (
    SELECT s.id, s.buyer_id,
           NOT EXISTS (
             SELECT 1 FROM supply_link AS u WHERE u.buyer_id = s.supplier_id AND u.status = 'active'
           ) AS leaf
    FROM supply_link AS s
    WHERE s.id = ANY (fresh) AND s.status = 'active'
  ) AS l;
  IF joined IS NOT NULL THEN
    -- A new link from a supplier that buys changes a chain master's tiers in a chain only if
    -- it places its supplier lower than it sits (or where it is not), or as low through a
    -- lower buyer id: one tier above its buyer, which sits in those tiers at tier t (or is that
    -- chain master, in the chain of the link: t = 0). Otherwise every tier stays (each still
    -- one above some buyer's, none lower: the kept tiers satisfy the new link too), every via
    -- and so every path. Only those chain masters are rebuilt, not every one whose tiers hold
    -- the buyer (a chain master linked to another that already supplies it changes nothing).
    SELECT array_agg(DISTINCT tree.chain_master_id) INTO moved
    FROM supply_link AS l
    CROSS JOIN LATERAL (
      SELECT t.chain_master_id, t.chain_id, t.tier
      FROM supplier_tier AS t
      WHERE t.supplier_id = l.buyer_id AND t.tier < {MAX_TIER}
        AND t.chain_master_id <> l.supplier_id
      UNION ALL
      SELECT l.buyer_id, l.chain_id, 0
      WHERE holds_chain_master_role(l.buyer_id, l.chain_id, current_date)
    ) AS tree
    WHERE l.id = ANY (joined)
      AND NOT EXISTS (
        SELECT 1
        FROM supplier_tier AS s
        WHERE s.chain_master_id = tree.chain_master_id
          AND s.chain_id = tree.chain_id
          AND s.supplier_id = l.supplier_id
          AND (s.tier <= tree.tier
               OR (s.tier = tree.tier + 1 AND s.via_buyer_id <= l.buyer_id))
      );
  END IF;
  IF cardinality(changed) > 0 OR moved IS NOT NULL THEN
    -- The chain masters among the enterprises changed (now or until now), those whose tiers
    -- hold one of them, and those a new link moves.
    SELECT array_agg(DISTINCT x.id) INTO masters
    FROM (
      SELECT unnest(changed) AS id
      UNION
      SELECT t.chain_master_id FROM supplier_tier AS t WHERE t.supplier_id = ANY (changed)
      UNION
      SELECT unnest(moved)
    ) AS x;
    PERFORM supplier_tier_rebuild(masters);
  END IF;
  IF leaves IS NOT NULL THEN
    WITH placed AS (
      SELECT l.supplier_id, l.buyer_id, l.chain_id
      FROM supply_link AS l
      WHERE l.id = ANY (leaves)
    ),
    candidate AS (
      -- One tier above each row that holds its buyer (a link of any chain)...
      SELECT t.chain_master_id, t.chain_id, p.supplier_id, t.tier + 1 AS tier,
             p.buyer_id AS via_buyer_id, t.path || p.supplier_id AS path
      FROM placed AS p
      JOIN supplier_tier AS t ON t.supplier_id = p.buyer_id
      WHERE t.tier < {MAX_TIER} AND t.chain_master_id <> p.supplier_id
      UNION ALL
      -- ... and tier 1 of its buyer, in the link's chain, where the buyer is a chain master.
      SELECT p.buyer_id, p.chain_id, p.supplier_id, 1, p.buyer_id,
             ARRAY[p.buyer_id, p.supplier_id]
      FROM placed AS p
      WHERE p.supplier_id <> p.buyer_id
        AND holds_chain_master_role(p.buyer_id, p.chain_id, current_date)
    )
    INSERT INTO supplier_tier (chain_master_id, chain_id, supplier_id, tier, via_buyer_id, path)
    SELECT DISTINCT ON (c.chain_master_id, c.chain_id, c.supplier_id)
           c.chain_master_id, c.chain_id, c.supplier_id, c.tier, c.via_buyer_id, c.path
    FROM candidate AS c
    WHERE masters IS NULL OR c.chain_master_id <> ALL (masters)
    ORDER BY c.chain_master_id, c.chain_id, c.supplier_id, c.tier, c.via_buyer_id
    ON CONFLICT (chain_master_id, chain_id, supplier_id) DO UPDATE
    SET tier = excluded.tier, via_buyer_id = excluded.via_buyer_id, path = excluded.path
    WHERE (excluded.tier, excluded.via_buyer_id)
          < (supplier_tier.tier, supplier_tier.via_buyer_id);
  END IF;
  RETURN coalesce(cardinality(masters), 0);
END
$$
"""
CATCH_UP_COMMENT = (
    "Take the queue supplier_tier_stale: place each new active link from a supplier that buys "
    "from nobody (a row a tier above each row that holds its buyer, and at tier 1 of its buyer "
    "where that is a chain master in the chain of the link); rebuild the chain masters whose "
    "tiers another new link places its supplier lower in (or as low through a lower buyer id), "
    "and those named by the other changes or whose tiers hold an enterprise they name; how "
    "many were rebuilt (-1: all, after a TRUNCATE)"
)
REBUILD_COMMENT = (
    "Rebuild supplier_tier for the chain masters `masters` (all of them when NULL, emptying the "
    "queue) from supplier_tiers(m, 5) of the ones whose chain_master role is live today, writing "
    "only the difference (rows gone deleted, new ones inserted, changed ones updated); the rows "
    "inserted or updated"
)
VIEW_SQL = {
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
-- A chain master with tens of thousands of suppliers is hashed in memory.
SET work_mem = '64MB'
-- The planner sees a few hundred rows in each step (a recursive CTE's estimate) where a large
-- chain master has 10^5 to 10^6: it chose to sort them for a merge join and a grouping, spilling
-- to disk. Hashing instead: 2.1 -> 1.4 s for the largest chain master at synthetic scale 1.
SET enable_mergejoin = off
SET enable_sort = off
AS $$
-- Linear in the links it follows: each wave is one index scan for all of its buyers, less the
-- enterprises seen before in one set operation, and the buyer one tier down is found by a
-- join. (Each wave used to test every candidate against an array of all those seen, and the
-- buyer one tier down the same way: quadratic, 50 s for a chain master with 43,000 direct
-- suppliers at synthetic scale 1, then 3 s.)
WITH RECURSIVE root AS (
    -- The chains in which the master holds a chain_master role live today.
    SELECT DISTINCT r.chain_id
    FROM chain_role AS r
    WHERE r.enterprise_id = supplier_tiers.master_id
      AND r.role = 'chain_master'
      AND role_held_on(r, current_date)
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
    SELECT w.chain_id, w.tier + 1, next_tier.suppliers, w.seen || next_tier.suppliers
    FROM wave AS w
    CROSS JOIN LATERAL (
        -- Tier n+1: the suppliers of active links (any chain) to an enterprise of tier n, less
        -- those seen before (EXCEPT: one hashed or sorted pass, not a scan of seen per row).
        SELECT array_agg(n.supplier_id) AS suppliers
        FROM (
            SELECT l.supplier_id
            FROM supply_link AS l
            WHERE l.buyer_id = ANY (w.frontier)
              AND l.status = 'active'
            EXCEPT
            SELECT unnest(w.seen)
        ) AS n
    ) AS next_tier
    WHERE w.tier < supplier_tiers.max_tier
      AND next_tier.suppliers IS NOT NULL
),
placed AS MATERIALIZED (
    -- Each enterprise once per chain, at its lowest tier (the wave that first reached it).
    SELECT w.chain_id, w.tier, s.supplier_id
    FROM wave AS w
    CROSS JOIN LATERAL unnest(w.frontier) AS s (supplier_id)
),
buyers AS MATERIALIZED (
    -- The buyers of the enterprises beyond tier 1 (joined to the tiers below by hash).
    SELECT p.chain_id, p.tier, p.supplier_id, l.buyer_id
    FROM placed AS p
    JOIN supply_link AS l ON l.supplier_id = p.supplier_id AND l.status = 'active'
    WHERE p.tier > 1
),
via (chain_id, tier, supplier_id, via_buyer_id) AS MATERIALIZED (
    -- The buyer it supplies one tier down (the lowest id among several).
    SELECT p.chain_id, p.tier, p.supplier_id, supplier_tiers.master_id
    FROM placed AS p
    WHERE p.tier = 1
    UNION ALL
    SELECT b.chain_id, b.tier, b.supplier_id, min(b.buyer_id)
    FROM buyers AS b
    JOIN placed AS below
        ON below.chain_id = b.chain_id
       AND below.supplier_id = b.buyer_id
       AND below.tier = b.tier - 1
    GROUP BY b.chain_id, b.tier, b.supplier_id
),
chained (chain_id, tier, supplier_id, via_buyer_id, path) AS (
    -- The path from the master, following via_buyer_id (a tree: one buyer per enterprise).
    SELECT
        v.chain_id,
        v.tier,
        v.supplier_id,
        v.via_buyer_id,
        ARRAY[supplier_tiers.master_id, v.supplier_id]
    FROM via AS v
    WHERE v.tier = 1
    UNION ALL
    SELECT
        v.chain_id,
        v.tier,
        v.supplier_id,
        v.via_buyer_id,
        c.path || v.supplier_id
    FROM chained AS c
    JOIN via AS v
        ON v.chain_id = c.chain_id
       AND v.tier = c.tier + 1
       AND v.via_buyer_id = c.supplier_id
)
SELECT
    m.id AS chain_master_id,
    m.name_zh AS chain_master_name_zh,
    k.chain_id,
    c.code AS chain_code,
    k.tier,
    k.supplier_id,
    e.name_zh AS supplier_name_zh,
    is_local(e) AS supplier_local,
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
    is_local(e) AS supplier_local,
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


def upgrade() -> None:
    op.execute(VIEW_SQL[VIEW])
    op.execute(SUPPLIER_TIER_REBUILD)
    op.execute(f"COMMENT ON FUNCTION supplier_tier_rebuild(bigint[]) IS '{REBUILD_COMMENT}'")
    op.execute(SUPPLIER_TIER_CATCH_UP)
    op.execute(f"COMMENT ON FUNCTION supplier_tier_catch_up() IS '{CATCH_UP_COMMENT}'")


def downgrade() -> None:
    # CREATE OR REPLACE keeps the functions' grants.
    op.execute(released("c4e6a8b0d2f5").VIEW_SQL[VIEW])
    op.execute(released("8d4f6a2c1e73").SUPPLIER_TIER_REBUILD)
    kept = released("b81f3c6e2d47")
    op.execute(next(c for c in kept.COMMENTS if "FUNCTION supplier_tier_rebuild(" in c))
    placed = released("a5d8f2b6c9e1")
    op.execute(placed.FUNCTIONS["supplier_tier_catch_up()"])
    comment = placed.COMMENTS["supplier_tier_catch_up()"]
    op.execute(f"COMMENT ON FUNCTION supplier_tier_catch_up() IS '{comment}'")
