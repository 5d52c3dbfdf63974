"""A supply link leaving the supplier tiers cuts and places again only the rows it held up.

An active link that ended, was deleted, turned proposed, or moved (another buyer, supplier or
chain) rebuilt every chain master whose tiers hold its buyer: on the database `make bench`
leaves (synthetic scale 1) the largest chain master's tiers, 88,999 rows, 1.7-2.4 s of the
refresher for one link turned proposed, 8.6 s from the write to the report in
bench/report_freshness.py.

1. supplier_tier_stale.supplier_id: the trigger queues such a link as its buyer (enterprise_id)
   and its supplier; a link moved while active is queued as gone (its old buyer and supplier)
   and, where still active, as a new link (its id). A queued enterprise with neither is now
   only a changed chain-master role.
2. supplier_tier_unplace(buyers, suppliers, new_links, skip, rebuild_above): a row's tier is
   its distance from the chain master, its via the lowest-id buyer one tier up, its path its
   via's path and itself. A link gone can change only the rows that hung on it: those whose via
   was its buyer and which no active link to that buyer holds now (in the row's chain, at tier
   1), and below them every row whose via is one of those (the subtree of the via tree). Every
   other row keeps its tier (its path is all there; removing links lengthens no path that is
   left), its via (a buyer one tier up can only have left) and its path. The rows cut are
   deleted and placed again tier by tier from the highest of them: one takes tier k where it has
   an active link to a row at tier k - 1 (or, at tier 1, to the chain master in the row's chain,
   its role live), as its via the lowest-id such buyer; what reaches no tier up to 5 stays out.
   The new links of the same catch-up are left to supplier_tier_place(): through one, a row cut
   could come back higher than it was, and the suppliers it now brings within tier 5 would not
   be followed. A chain master with more than 1,000 rows cut and more than a sixth of its rows
   is rebuilt instead (the 64 links of chain masters to 61 deleted at once, 79,407 of its 88,431
   rows cut: 10.2-11.2 s placed again, 6.1 s rebuilt, of which 1.1 s finding the rows and most
   of the rest deleting them, as before this change). A row that comes back higher than it
   was can only have done so through a link committed since the queue was taken (each
   statement sees what has committed by then): its chain masters are rebuilt.
3. supplier_tier_catch_up(): a changed role rebuilds that chain master only (its tiers are the
   only ones its roles shape; every chain master whose tiers held it was rebuilt too, when the
   queue could not tell a role from a link); links gone are cut and placed again
   (supplier_tier_unplace), then the new links placed (supplier_tier_place), which starts from
   tiers that are no lower than the final ones and consistent with every link but the new
   ones: all it needs.

tests/test_supplier_tiers_kept.py checks the result against supplier_tiers() on random graphs
with links added, ended, deleted, moved and made chain masters.

The queue is caught up under the old rules before the trigger changes (an enterprise queued by
the old trigger may be a link's buyer), and under the new ones before a downgrade drops the
column, supply_link and chain_role locked against writes meanwhile. The downgrade restores
c8a0e2f4b6d9's catch-up and a5d8f2b6c9e1's trigger function. The SQL of report_supplier_tiers
is copied here as it is at this revision (its comment on how the tiers are kept changed); a
downgrade restores d9e4b6a1c3f7's.

Revision ID: e1b3d5f7a9c2
Revises: c8a0e2f4b6d9
Create Date: 2026-12-05 23:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from chaindb.migrations import released

revision: str = "e1b3d5f7a9c2"
down_revision: str | Sequence[str] | None = "c8a0e2f4b6d9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# pg_advisory_xact_lock's key for keeping supplier_tier (b81f3c6e2d47): sha256("chaindb.supplier_tier")[:8].
LOCK_KEY = 0x51A7_2E0C_9D3B_4F16
MAX_TIER = 5
# supplier_tier_unplace(): a chain master with more rows cut than this (and more than a sixth of
# its rows) is rebuilt rather than placed again row by row.
REBUILD_ABOVE = 1000

VIEW = "report_supplier_tiers"
VIEW_SQL = {
    VIEW: """
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
-- refresh). A write to a supply link or a chain-master role is queued (supplier_tier_stale);
-- supplier_tier_catch_up() places a new link (supplier_tier_place), takes out and places again
-- what a link gone held up (supplier_tier_unplace), and rebuilds a chain master whose role
-- changed; supplier_tier_rebuild() rebuilds all of them. The names and where each enterprise sits
-- are read live.
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

SUPPLIER_TIER_UNPLACE = f"""
CREATE OR REPLACE FUNCTION supplier_tier_unplace(
  buyers bigint[],
  suppliers bigint[],
  new_links bigint[] DEFAULT NULL,
  skip bigint[] DEFAULT NULL,
  rebuild_above integer DEFAULT {REBUILD_ABOVE}
)
RETURNS integer
LANGUAGE plpgsql
SET search_path = public, pg_temp
-- Index lookups for a few rows at a time, as in supplier_tier_place().
SET enable_hashjoin = off
SET enable_mergejoin = off
AS $$
DECLARE
  -- The rows found at the last step, and all the rows cut: (chain master, chain, supplier).
  at_masters bigint[];
  at_chains bigint[];
  at_suppliers bigint[];
  cut_masters bigint[] := '{{}}';
  cut_chains bigint[] := '{{}}';
  cut_suppliers bigint[] := '{{}}';
  top integer;
  left_out integer;
  placed integer;
  written integer := 0;
  whole bigint[];
  cut_tiers integer[];
  higher bigint[];
  rose bigint[] := '{{}}';
BEGIN
  PERFORM pg_advisory_xact_lock({LOCK_KEY});
  skip := coalesce(skip, '{{}}');
  new_links := coalesce(new_links, '{{}}');
  -- The rows that hung on a gone link: their via is its buyer, and no active link from them to
  -- that buyer is left (in the row's chain, for tier 1: the chain master's own suppliers).
  SELECT coalesce(array_agg(t.chain_master_id), '{{}}'),
         coalesce(array_agg(t.chain_id), '{{}}'),
         coalesce(array_agg(t.supplier_id), '{{}}')
  INTO at_masters, at_chains, at_suppliers
  FROM (
    SELECT DISTINCT g.buyer_id, g.supplier_id
    FROM unnest(buyers, suppliers) AS g (buyer_id, supplier_id)
  ) AS g
  JOIN supplier_tier AS t ON t.supplier_id = g.supplier_id AND t.via_buyer_id = g.buyer_id
  WHERE t.chain_master_id <> ALL (skip)
    AND NOT EXISTS (
      SELECT 1
      FROM supply_link AS l
      WHERE l.supplier_id = g.supplier_id
        AND l.buyer_id = g.buyer_id
        AND l.status = 'active'
        AND (t.tier > 1 OR l.chain_id = t.chain_id)
    );
  -- And below them, step by step, every row whose via is a row cut (a tree: each row once).
  WHILE cardinality(at_masters) > 0 LOOP
    cut_masters := cut_masters || at_masters;
    cut_chains := cut_chains || at_chains;
    cut_suppliers := cut_suppliers || at_suppliers;
    SELECT coalesce(array_agg(t.chain_master_id), '{{}}'),
           coalesce(array_agg(t.chain_id), '{{}}'),
           coalesce(array_agg(t.supplier_id), '{{}}')
    INTO at_masters, at_chains, at_suppliers
    FROM (
      SELECT DISTINCT a.chain_master_id, a.chain_id, a.supplier_id AS buyer_id, l.supplier_id
      FROM unnest(at_masters, at_chains, at_suppliers) AS a (chain_master_id, chain_id, supplier_id)
      JOIN supply_link AS l ON l.buyer_id = a.supplier_id AND l.status = 'active'
    ) AS x
    JOIN supplier_tier AS t
      ON t.chain_master_id = x.chain_master_id
     AND t.chain_id = x.chain_id
     AND t.supplier_id = x.supplier_id
     AND t.via_buyer_id = x.buyer_id;
  END LOOP;
  -- A chain master with more than `rebuild_above` rows cut, and more than a sixth of its rows,
  -- is rebuilt instead: a rebuild reads its whole tree in a few hashed passes (1.5 s for 88,000
  -- rows at synthetic scale 1), where placing a row again probes its links at every tier (75-140
  -- us a row cut).
  SELECT array_agg(x.chain_master_id) INTO whole
  FROM (
    SELECT a.chain_master_id, count(*) AS cut
    FROM unnest(cut_masters) AS a (chain_master_id)
    GROUP BY a.chain_master_id
  ) AS x
  WHERE x.cut > rebuild_above
    AND x.cut * 6 > (
      SELECT count(*) FROM supplier_tier AS t WHERE t.chain_master_id = x.chain_master_id
    );
  IF whole IS NOT NULL THEN
    PERFORM supplier_tier_rebuild(whole);
    SELECT coalesce(array_agg(a.chain_master_id), '{{}}'),
           coalesce(array_agg(a.chain_id), '{{}}'),
           coalesce(array_agg(a.supplier_id), '{{}}')
    INTO cut_masters, cut_chains, cut_suppliers
    FROM unnest(cut_masters, cut_chains, cut_suppliers) AS a (chain_master_id, chain_id, supplier_id)
    WHERE a.chain_master_id <> ALL (whole);
  END IF;
  IF cardinality(cut_masters) = 0 THEN
    RETURN 0;
  END IF;
  WITH cut AS (
    DELETE FROM supplier_tier AS t
    USING unnest(cut_masters, cut_chains, cut_suppliers) AS a (chain_master_id, chain_id, supplier_id)
    WHERE t.chain_master_id = a.chain_master_id
      AND t.chain_id = a.chain_id
      AND t.supplier_id = a.supplier_id
    RETURNING t.chain_master_id, t.chain_id, t.supplier_id, t.tier
  )
  SELECT array_agg(chain_master_id), array_agg(chain_id), array_agg(supplier_id),
         array_agg(tier), min(tier), count(*)
  INTO cut_masters, cut_chains, cut_suppliers, cut_tiers, top, left_out
  FROM cut;
  -- Placed again from the top: at tier k, a row cut and not yet placed that supplies a row at
  -- tier k - 1 (every row left, and those placed again at k - 1, are final by then), by a link
  -- that is not new: each row cut comes back no higher than it was, and every other row stays
  -- consistent with the links that are not new, from which supplier_tier_place() starts. (A
  -- row placed higher through a new link would leave its suppliers where they were, below the
  -- tier it now allows: nothing would follow them.)
  FOR k IN top .. {MAX_TIER} LOOP
    EXIT WHEN left_out = 0;
    WITH candidate AS (
      SELECT a.chain_master_id, a.chain_id, a.supplier_id, min(l.buyer_id) AS via_buyer_id,
             min(a.tier) AS was
      FROM unnest(cut_masters, cut_chains, cut_suppliers, cut_tiers)
           AS a (chain_master_id, chain_id, supplier_id, tier)
      JOIN supply_link AS l
        ON l.supplier_id = a.supplier_id AND l.status = 'active' AND l.id <> ALL (new_links)
      WHERE NOT EXISTS (
          SELECT 1
          FROM supplier_tier AS t
          WHERE t.chain_master_id = a.chain_master_id
            AND t.chain_id = a.chain_id
            AND t.supplier_id = a.supplier_id
        )
        AND CASE
          WHEN k = 1 THEN l.buyer_id = a.chain_master_id AND l.chain_id = a.chain_id
          -- The buyer's tier by the primary key (with "AND tier = k - 1" inside, the planner
          -- took the index on (chain master, chain, tier): every row of the tier a probe).
          ELSE (
            SELECT b.tier
            FROM supplier_tier AS b
            WHERE b.chain_master_id = a.chain_master_id
              AND b.chain_id = a.chain_id
              AND b.supplier_id = l.buyer_id
          ) = k - 1
        END
      GROUP BY a.chain_master_id, a.chain_id, a.supplier_id
    ),
    again AS (
      INSERT INTO supplier_tier (chain_master_id, chain_id, supplier_id, tier, via_buyer_id, path)
      SELECT c.chain_master_id, c.chain_id, c.supplier_id, k, c.via_buyer_id,
             CASE WHEN k = 1 THEN ARRAY[c.chain_master_id]
                  ELSE (SELECT b.path
                        FROM supplier_tier AS b
                        WHERE b.chain_master_id = c.chain_master_id
                          AND b.chain_id = c.chain_id
                          AND b.supplier_id = c.via_buyer_id) END
             || c.supplier_id
      FROM candidate AS c
      WHERE k > 1 OR holds_chain_master_role(c.chain_master_id, c.chain_id, current_date)
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM again),
           (SELECT array_agg(DISTINCT c.chain_master_id) FROM candidate AS c WHERE c.was > k)
    INTO placed, higher;
    written := written + placed;
    left_out := left_out - placed;
    rose := rose || coalesce(higher, '{{}}');
  END LOOP;
  IF cardinality(rose) > 0 THEN
    -- A row came back higher than it was: through a link committed since the queue was taken
    -- (each statement here sees what has committed by then; the new links the queue named are
    -- left out above). Its suppliers outside the rows cut would not be followed, nor would that
    -- link's own placement later follow them (it finds the row in place): its chain masters are
    -- rebuilt, from every link there is now.
    PERFORM supplier_tier_rebuild(ARRAY(SELECT DISTINCT unnest(rose)));
  END IF;
  RETURN written;
END
$$
"""
UNPLACE_COMMENT = (
    "Take out of supplier_tier what the gone active links (buyers[i], suppliers[i]) held up, "
    "for every chain master but those in `skip` (rebuilt instead): the rows whose via was such "
    "a buyer with no active link to it left, and the rows below them in the via tree; then "
    "place them again tier by tier from the highest (the tier below the lowest-id buyer among "
    "the rows a tier up), down to tier 5, by the active links but `new_links` (which "
    "supplier_tier_place() places next); a chain master with more than `rebuild_above` rows "
    "cut, and more than a sixth of its rows, is rebuilt instead. The rows placed again (not "
    "those rebuilt)"
)

SUPPLIER_TIER_CATCH_UP = f"""
CREATE OR REPLACE FUNCTION supplier_tier_catch_up()
RETURNS integer
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
DECLARE
  changed bigint[];
  fresh bigint[];
  gone_buyers bigint[];
  gone_suppliers bigint[];
BEGIN
  PERFORM pg_advisory_xact_lock({LOCK_KEY});
  WITH taken AS (
    DELETE FROM supplier_tier_stale RETURNING enterprise_id, link_id, supplier_id
  )
  SELECT array_agg(DISTINCT enterprise_id) FILTER (WHERE link_id IS NULL AND supplier_id IS NULL),
         array_agg(DISTINCT link_id) FILTER (WHERE link_id IS NOT NULL),
         array_agg(enterprise_id) FILTER (WHERE supplier_id IS NOT NULL),
         array_agg(supplier_id) FILTER (WHERE supplier_id IS NOT NULL)
  INTO changed, fresh, gone_buyers, gone_suppliers
  FROM taken;
  IF changed IS NULL AND fresh IS NULL AND gone_buyers IS NULL THEN
    RETURN 0;
  END IF;
  IF 0 = ANY (changed) THEN
    PERFORM supplier_tier_rebuild(NULL);
    RETURN -1;
  END IF;
  IF changed IS NOT NULL THEN
    -- A chain-master role changed: that chain master's tiers are rebuilt (they read every
    -- link, the new ones and those gone too).
    PERFORM supplier_tier_rebuild(changed);
  END IF;
  IF gone_buyers IS NOT NULL THEN
    -- Active links ended, deleted, turned proposed or moved: what they held up is placed again.
    PERFORM supplier_tier_unplace(gone_buyers, gone_suppliers, fresh, changed);
  END IF;
  IF fresh IS NOT NULL THEN
    -- The new links (inserted active, made active, or moved while active) are placed.
    PERFORM supplier_tier_place(fresh, changed);
  END IF;
  RETURN coalesce(cardinality(changed), 0);
END
$$
"""
CATCH_UP_COMMENT = (
    "Take the queue supplier_tier_stale: rebuild the chain masters whose role changed; take out "
    "and place again what the active links gone held up (supplier_tier_unplace); place the new "
    "active links in every other chain master''s tiers (supplier_tier_place); how many were "
    "rebuilt (-1: all, after a TRUNCATE)"
)

QUEUE_LINKS = """
CREATE OR REPLACE FUNCTION supplier_tier_queue_links()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    INSERT INTO supplier_tier_stale (enterprise_id) VALUES (0);
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO supplier_tier_stale (enterprise_id, link_id)
    SELECT n.buyer_id, n.id FROM new_rows AS n WHERE n.status = 'active';
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO supplier_tier_stale (enterprise_id, supplier_id)
    SELECT DISTINCT o.buyer_id, o.supplier_id FROM old_rows AS o WHERE o.status = 'active';
  ELSE
    -- Made active, or moved while active: a new link as far as the tiers go.
    INSERT INTO supplier_tier_stale (enterprise_id, link_id)
    SELECT n.buyer_id, n.id
    FROM old_rows AS o
    JOIN new_rows AS n ON n.id = o.id
    WHERE n.status = 'active'
      AND (o.status, o.buyer_id, o.supplier_id, o.chain_id)
          IS DISTINCT FROM ('active', n.buyer_id, n.supplier_id, n.chain_id);
    -- An active link ended, turned proposed or moved: gone as it was.
    INSERT INTO supplier_tier_stale (enterprise_id, supplier_id)
    SELECT DISTINCT o.buyer_id, o.supplier_id
    FROM old_rows AS o
    JOIN new_rows AS n ON n.id = o.id
    WHERE o.status = 'active'
      AND (o.status, o.buyer_id, o.supplier_id, o.chain_id)
          IS DISTINCT FROM (n.status, n.buyer_id, n.supplier_id, n.chain_id);
  END IF;
  RETURN NULL;
END
$$
"""
QUEUE_LINKS_COMMENT = (
    "Queue the supply links that change the supplier tiers: a link inserted active, made "
    "active or moved while active by its buyer and id; an active link deleted, ended, turned "
    "proposed or moved by its buyer and supplier as they were; 0 for a TRUNCATE"
)

TABLE_COMMENT = (
    "Queue of what changed the supplier tiers since supplier_tier_catch_up() last ran: a "
    "chain-master role (its holder), a link made active (link_id), an active link gone "
    "(supplier_id and its buyer); 0 stands for every enterprise (a TRUNCATE)"
)
COLUMN_COMMENT = (
    "For an active supply link gone (deleted, ended, turned proposed, moved): its supplier, "
    "enterprise_id its buyer; NULL for any other change"
)
LINK_COMMENT = (
    "A supply link inserted active, made active or moved while active (supply_link.id; no "
    "foreign key: it may be gone when the queue is read), placed by supplier_tier_place(); "
    "NULL for any other change"
)
ENTERPRISE_COMMENT = "The buyer of the link made active or gone, or the holder of the changed role"


# No write to a link or a role runs the trigger functions while the queue is drained and its
# meaning changes: a writer waits for this migration's commit, then queues by the new rules.
LOCK_WRITERS = "LOCK TABLE supply_link, chain_role IN SHARE MODE"


def upgrade() -> None:
    # What the old trigger queued is taken under the old rules (an enterprise alone may be a
    # link's buyer there).
    op.execute(LOCK_WRITERS)
    op.execute("SELECT supplier_tier_catch_up()")
    op.execute(VIEW_SQL[VIEW])
    op.add_column(
        "supplier_tier_stale",
        sa.Column("supplier_id", sa.BigInteger(), nullable=True, comment=COLUMN_COMMENT),
    )
    op.create_check_constraint(
        op.f("ck_supplier_tier_stale_link_or_supplier"),
        "supplier_tier_stale",
        "link_id IS NULL OR supplier_id IS NULL",
    )
    op.execute(f"COMMENT ON TABLE supplier_tier_stale IS '{TABLE_COMMENT}'")
    op.execute(f"COMMENT ON COLUMN supplier_tier_stale.enterprise_id IS '{ENTERPRISE_COMMENT}'")
    op.execute(f"COMMENT ON COLUMN supplier_tier_stale.link_id IS '{LINK_COMMENT}'")
    op.execute(SUPPLIER_TIER_UNPLACE)
    op.execute(
        "COMMENT ON FUNCTION supplier_tier_unplace(bigint[], bigint[], bigint[], bigint[], integer) "
        f"IS '{UNPLACE_COMMENT}'"
    )
    op.execute(SUPPLIER_TIER_CATCH_UP)
    op.execute(f"COMMENT ON FUNCTION supplier_tier_catch_up() IS '{CATCH_UP_COMMENT}'")
    op.execute(QUEUE_LINKS)
    op.execute(f"COMMENT ON FUNCTION supplier_tier_queue_links() IS '{QUEUE_LINKS_COMMENT}'")


def downgrade() -> None:
    # The queue's links gone are taken under these rules before the column goes.
    op.execute(LOCK_WRITERS)
    op.execute("SELECT supplier_tier_catch_up()")
    leaves = released("a5d8f2b6c9e1")
    place = released("c8a0e2f4b6d9")
    # CREATE OR REPLACE keeps the functions' grants.
    op.execute(leaves.FUNCTIONS["supplier_tier_queue_links()"])
    op.execute(
        "COMMENT ON FUNCTION supplier_tier_queue_links() IS "
        f"'{leaves.COMMENTS['supplier_tier_queue_links()']}'"
    )
    op.execute(place.SUPPLIER_TIER_CATCH_UP)
    op.execute(f"COMMENT ON FUNCTION supplier_tier_catch_up() IS '{place.CATCH_UP_COMMENT}'")
    op.execute(
        "DROP FUNCTION supplier_tier_unplace(bigint[], bigint[], bigint[], bigint[], integer)"
    )
    op.execute(released("d9e4b6a1c3f7").VIEW_SQL[VIEW])
    op.drop_constraint("ck_supplier_tier_stale_link_or_supplier", "supplier_tier_stale")
    op.drop_column("supplier_tier_stale", "supplier_id")
    op.execute(f"COMMENT ON TABLE supplier_tier_stale IS '{leaves.TABLE_COMMENT}'")
    op.execute(f"COMMENT ON COLUMN supplier_tier_stale.link_id IS '{leaves.COLUMN_COMMENT}'")
    op.execute(
        "COMMENT ON COLUMN supplier_tier_stale.enterprise_id IS "
        "'The buyer of the changed links, or the holder of the changed role'"
    )
