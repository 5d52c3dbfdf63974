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
