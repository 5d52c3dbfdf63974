"""Every new supply link placed in the supplier tiers tier by tier: no rebuild for a new link.

supplier_tier_catch_up() placed a new link from a supplier that supplies nobody (a leaf,
migration a5d8f2b6c9e1) but rebuilt every chain master whose tiers a new link from a supplier
that buys moves (d9e4b6a1c3f7). On a fresh database at synthetic scale 1 the link benchmark's
first link from each chain master is such a link, into the largest chain master's tiers: a
rebuild of up to 89,000 rows, 1.5-3.5 s of a core per burst, beside the links.

A new link only lowers tiers: each enterprise's tier is its distance from the chain master,
which a new edge can only shorten. supplier_tier_place(links, skip) takes the tiers from the
top down. At tier k + 1 the candidates are the suppliers (active links, any chain) of the
enterprises whose rows changed at tier k, and the suppliers of the new links whose buyer sits
at tier k (the chain master at "tier 0", in the chain of the link where its chain_master role
is live). Each candidate that does not already sit higher takes tier k + 1, as its via the
lowest id among its buyers at tier k (read from the kept rows, final down to tier k by then),
and its via's path and itself; it is written where that differs from its row, and only the
rows written are followed to the next tier. Down to tier 5.

Why nothing else changes: an enterprise's row changes only if its tier falls (its new shortest
path ends in a new link or passes through a row that changed), or its via changes (a buyer
newly at the tier above it: a changed row, or the buyer of a new link), or its via's path
changes (a changed row): in each case it is a candidate. A chain master's kept tiers are those
of every link but the new ones, since every other change (a link ended, deleted, moved to
another buyer; a role) still rebuilds the chain masters whose tiers hold its enterprises, and
those rebuilt take no placement (their rebuild read every link). tests/test_supplier_tiers_kept.py
checks the result against supplier_tiers() on random graphs with bursts of links between chain
masters.

Measured on chaindb_bench (synthetic scale 1, psql \\timing, in a transaction rolled back): a
link from a chain master to the benchmark's chain master (4,914 suppliers placed a tier below)
150-210 -> 70-106 ms; 64 of them in one catch-up 1.54 -> 1.33 s; 5,000 new links at once 0.29 s
(a rebuild of that chain master: 94 s). Under the link benchmark (wrk -t2 -c32, 40 s) the
refresher's time on the tiers 0.38 -> 0.11 s a catch-up.

A downgrade restores d9e4b6a1c3f7's catch-up and drops supplier_tier_place().

Revision ID: c8a0e2f4b6d9
Revises: f6b8d0a2c4e7
Create Date: 2026-12-05 21:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

from chaindb.migrations import released

revision: str = "c8a0e2f4b6d9"
down_revision: str | Sequence[str] | None = "f6b8d0a2c4e7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# pg_advisory_xact_lock's key for keeping supplier_tier (b81f3c6e2d47): sha256("chaindb.supplier_tier")[:8].
LOCK_KEY = 0x51A7_2E0C_9D3B_4F16
MAX_TIER = 5

SUPPLIER_TIER_PLACE = f"""
CREATE OR REPLACE FUNCTION supplier_tier_place(links bigint[], skip bigint[] DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path = public, pg_temp
-- The planner takes a supplier's count of buyers, or a buyer's of suppliers, for the average
-- (a chain master's tens of thousands), and hashed or merged the whole of supplier_tier or of
-- the active links for a few thousand candidates: 200 ms a tier where index lookups take 5.
SET enable_hashjoin = off
SET enable_mergejoin = off
AS $$
DECLARE
  -- The rows written at tier k: (chain master, chain, supplier), as three arrays.
  moved_masters bigint[] := '{{}}';
  moved_chains bigint[] := '{{}}';
  moved_suppliers bigint[] := '{{}}';
  written integer := 0;
BEGIN
  PERFORM pg_advisory_xact_lock({LOCK_KEY});
  skip := coalesce(skip, '{{}}');
  FOR k IN 0 .. {MAX_TIER - 1} LOOP
    EXIT WHEN k > 0 AND cardinality(moved_masters) = 0 AND NOT EXISTS (
      -- No row changed at tier k and no new link's buyer at tier k or deeper: done.
      SELECT 1
      FROM supply_link AS l
      CROSS JOIN LATERAL (
        SELECT 1 FROM supplier_tier AS t WHERE t.supplier_id = l.buyer_id AND t.tier >= k LIMIT 1
      ) AS t
      WHERE l.id = ANY (links) AND l.status = 'active'
    );
    WITH fresh AS (
      SELECT l.supplier_id, l.buyer_id, l.chain_id
      FROM supply_link AS l
      WHERE l.id = ANY (links) AND l.status = 'active'
    ),
    edge AS (
      -- The candidates and their buyers at tier k that could change them: the suppliers of
      -- the rows written at tier k...
      SELECT m.chain_master_id, m.chain_id, l.supplier_id, m.supplier_id AS buyer_id
      FROM unnest(moved_masters, moved_chains, moved_suppliers)
           AS m (chain_master_id, chain_id, supplier_id)
      JOIN supply_link AS l ON l.buyer_id = m.supplier_id AND l.status = 'active'
      UNION ALL
      -- ... of the new links whose buyer sits at tier k (any chain)...
      SELECT t.chain_master_id, t.chain_id, n.supplier_id, n.buyer_id
      FROM fresh AS n
      CROSS JOIN LATERAL (
        -- Each buyer's rows by the index, whatever the estimates (OFFSET 0: not flattened
        -- into a join the planner may turn around; it did, 32 s for 5,000 new links).
        SELECT t.chain_master_id, t.chain_id
        FROM supplier_tier AS t
        WHERE t.supplier_id = n.buyer_id AND t.tier = k
        OFFSET 0
      ) AS t
      WHERE k > 0
      UNION ALL
      -- ... and of those to a chain master, in the chain of its live role (tier 1).
      SELECT n.buyer_id, n.chain_id, n.supplier_id, n.buyer_id
      FROM fresh AS n
      WHERE k = 0 AND holds_chain_master_role(n.buyer_id, n.chain_id, current_date)
    ),
    candidate AS (
      SELECT e.chain_master_id, e.chain_id, e.supplier_id, min(e.buyer_id) AS buyer_id
      FROM edge AS e
      WHERE e.supplier_id <> e.chain_master_id AND e.chain_master_id <> ALL (skip)
      GROUP BY e.chain_master_id, e.chain_id, e.supplier_id
    ),
    placed AS (
      -- Where each candidate belongs at tier k + 1, unless it sits higher already: via the
      -- lowest id among its buyers at tier k, and after that buyer on its path. Those buyers
      -- are the ones above, and where it sat at tier k + 1 already, its via (still at tier k:
      -- had that moved higher, so would it have, a tier earlier); any other buyer at tier k
      -- would have been its via before.
      SELECT c.chain_master_id, c.chain_id, c.supplier_id, v.via_buyer_id,
             CASE WHEN k = 0 THEN ARRAY[c.chain_master_id] ELSE b.path END
             || c.supplier_id AS path,
             r.tier, r.via_buyer_id AS was_via, r.path AS was_path
      FROM candidate AS c
      LEFT JOIN supplier_tier AS r
        ON r.chain_master_id = c.chain_master_id
       AND r.chain_id = c.chain_id
       AND r.supplier_id = c.supplier_id
      CROSS JOIN LATERAL (
        SELECT CASE WHEN r.tier = k + 1 THEN least(r.via_buyer_id, c.buyer_id)
                    ELSE c.buyer_id END AS via_buyer_id
      ) AS v
      LEFT JOIN supplier_tier AS b
        ON b.chain_master_id = c.chain_master_id
       AND b.chain_id = c.chain_id
       AND b.supplier_id = v.via_buyer_id
      WHERE r.tier IS NULL OR r.tier > k
    ),
    written_here AS (
      INSERT INTO supplier_tier AS s
        (chain_master_id, chain_id, supplier_id, tier, via_buyer_id, path)
      SELECT p.chain_master_id, p.chain_id, p.supplier_id, k + 1, p.via_buyer_id, p.path
      FROM placed AS p
      WHERE (p.tier, p.was_via, p.was_path) IS DISTINCT FROM (k + 1, p.via_buyer_id, p.path)
      ON CONFLICT (chain_master_id, chain_id, supplier_id) DO UPDATE
      SET tier = excluded.tier, via_buyer_id = excluded.via_buyer_id, path = excluded.path
      RETURNING s.chain_master_id, s.chain_id, s.supplier_id
    )
    SELECT coalesce(array_agg(w.chain_master_id), '{{}}'),
           coalesce(array_agg(w.chain_id), '{{}}'),
           coalesce(array_agg(w.supplier_id), '{{}}')
    INTO moved_masters, moved_chains, moved_suppliers
    FROM written_here AS w;
    written := written + cardinality(moved_masters);
  END LOOP;
  RETURN written;
END
$$
"""
PLACE_COMMENT = (
    "Place the new active supply links `links` in supplier_tier, tier by tier from the top, "
    "for every chain master but those in `skip` (rebuilt instead): a new link only lowers "
    "tiers, so only the suppliers of a row written at the tier above, or of a new link, can "
    "move; each takes the tier below its lowest-id buyer one tier up, and that buyer''s path. "
    "The rows written"
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
  IF changed IS NOT NULL THEN
    -- A link ended, deleted or moved, or a role changed: the chain masters among the
    -- enterprises changed (now or until now), and those whose tiers hold one of them, are
    -- rebuilt (their rebuild reads the new links too).
    SELECT array_agg(DISTINCT x.id) INTO masters
    FROM (
      SELECT unnest(changed) AS id
      UNION
      SELECT t.chain_master_id FROM supplier_tier AS t WHERE t.supplier_id = ANY (changed)
    ) AS x;
    PERFORM supplier_tier_rebuild(masters);
  END IF;
  IF fresh IS NOT NULL THEN
    -- The new links (inserted active or made active; one ended or deleted since was queued
    -- again by its buyer) are placed in the other chain masters' tiers.
    PERFORM supplier_tier_place(fresh, masters);
  END IF;
  RETURN coalesce(cardinality(masters), 0);
END
$$
"""
CATCH_UP_COMMENT = (
    "Take the queue supplier_tier_stale: rebuild the chain masters named by a change other than "
    "a new link, and those whose tiers hold an enterprise it names; place the new active links "
    "in every other chain master''s tiers (supplier_tier_place); how many were rebuilt (-1: "
    "all, after a TRUNCATE)"
)


def upgrade() -> None:
    op.execute(SUPPLIER_TIER_PLACE)
    op.execute(f"COMMENT ON FUNCTION supplier_tier_place(bigint[], bigint[]) IS '{PLACE_COMMENT}'")
    op.execute(SUPPLIER_TIER_CATCH_UP)
    op.execute(f"COMMENT ON FUNCTION supplier_tier_catch_up() IS '{CATCH_UP_COMMENT}'")


def downgrade() -> None:
    # CREATE OR REPLACE keeps the function's grants.
    before = released("d9e4b6a1c3f7")
    op.execute(before.SUPPLIER_TIER_CATCH_UP)
    op.execute(f"COMMENT ON FUNCTION supplier_tier_catch_up() IS '{before.CATCH_UP_COMMENT}'")
    op.execute("DROP FUNCTION supplier_tier_place(bigint[], bigint[])")
