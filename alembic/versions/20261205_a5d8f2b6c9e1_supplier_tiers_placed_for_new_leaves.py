"""A new supply link from a supplier that supplies nobody is placed in the tiers, not rebuilt.

supplier_tier_catch_up() rebuilt every chain master whose tiers hold the buyer of a new link:
88,000 rows (3 s of a core) for the largest chain master at synthetic scale 1 after each burst
of links to it, while those links were being made (bench/RESULTS.md: links at 0.31x the
hand-written app, the refresher's rebuilds beside them). Most new links are an SME's first
link to a chain master, and such a supplier has no suppliers of its own: linking it changes
no row of the tiers but its own. Its place follows from its buyer's rows alone (supplier_tiers()
walks breadth first, so a leaf sits one tier above the lowest-tier buyer that holds it; via the
lowest buyer id among those; its path is that buyer's path and itself).

1. supplier_tier_stale.link_id: the trigger queues a link inserted active, or made active, by
   its id (enterprise_id still holds its buyer, so that an older catch-up can read the queue).
2. supplier_tier_catch_up(): a queued link still active whose supplier is the buyer of no
   active link is placed by one INSERT ... ON CONFLICT DO UPDATE: for each row of the tiers that
   holds its buyer below tier 5 (and for its buyer's own tiers in the link's chain, where the
   buyer's chain_master role is live), a row one tier up, kept where it is lower (or as low
   through a lower buyer id) than the row already there. Every other queued change rebuilds as
   before, and the chain masters rebuilt take no placement (the rebuild read the links).

Why that is the same as a rebuild: a leaf supplies nobody, so no row's tier, buyer or path goes
through it. Its buyer is not a leaf (it buys from the leaf), so another leaf's placement leaves
its buyer's rows alone; any other change that could move them (a link to or from a non-leaf, a
link ended, a role) rebuilds every chain master whose tiers hold its buyer, which holds every
chain master whose tiers could change. tests/test_supplier_tiers_kept.py checks it against
supplier_tiers() on random graphs.

A downgrade restores b81f3c6e2d47's catch-up and trigger function and drops the column (the
queue's rows keep their buyers, which the older catch-up rebuilds).

Revision ID: a5d8f2b6c9e1
Revises: c4e6a8b0d2f5
Create Date: 2026-12-05 08:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from chaindb.migrations import released

revision: str = "a5d8f2b6c9e1"
down_revision: str | Sequence[str] | None = "c4e6a8b0d2f5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# pg_advisory_xact_lock's key for keeping supplier_tier (b81f3c6e2d47): sha256("chaindb.supplier_tier")[:8].
LOCK_KEY = 0x51A7_2E0C_9D3B_4F16
MAX_TIER = 5

FUNCTIONS = {
    "supplier_tier_catch_up()": f"""
CREATE OR REPLACE FUNCTION supplier_tier_catch_up()
RETURNS integer
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
DECLARE
  changed bigint[];
  fresh bigint[];
  leaves bigint[];
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
  -- below; the buyers of the others are changed as any other write's. (A new link ended or
  -- deleted since was queued again by its buyer.)
  SELECT array_agg(l.id) FILTER (WHERE l.leaf),
         coalesce(changed, '{{}}') || coalesce(array_agg(l.buyer_id) FILTER (WHERE NOT l.leaf), '{{}}')
  INTO leaves, changed
  FROM (
    SELECT s.id, s.buyer_id,
           NOT EXISTS (
             SELECT 1 FROM supply_link AS u WHERE u.buyer_id = s.supplier_id AND u.status = 'active'
           ) AS leaf
    FROM supply_link AS s
    WHERE s.id = ANY (fresh) AND s.status = 'active'
  ) AS l;
  IF cardinality(changed) > 0 THEN
    -- The chain masters among them (now or until now), and those whose tiers hold one of them.
    SELECT array_agg(DISTINCT x.id) INTO masters
    FROM (
      SELECT unnest(changed) AS id
      UNION
      SELECT t.chain_master_id FROM supplier_tier AS t WHERE t.supplier_id = ANY (changed)
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
""",
    "supplier_tier_queue_links()": """
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
    INSERT INTO supplier_tier_stale (enterprise_id)
    SELECT DISTINCT o.buyer_id FROM old_rows AS o WHERE o.status = 'active';
  ELSE
    -- Made active: a new link as far as the tiers go.
    INSERT INTO supplier_tier_stale (enterprise_id, link_id)
    SELECT n.buyer_id, n.id
    FROM old_rows AS o
    JOIN new_rows AS n ON n.id = o.id
    WHERE o.status IS DISTINCT FROM 'active' AND n.status = 'active';
    -- An active link ended or moved: its buyers before and after.
    INSERT INTO supplier_tier_stale (enterprise_id)
    SELECT DISTINCT b.buyer_id
    FROM old_rows AS o
    JOIN new_rows AS n ON n.id = o.id
    CROSS JOIN LATERAL (VALUES (o.buyer_id), (n.buyer_id)) AS b (buyer_id)
    WHERE o.status = 'active'
      AND (o.status, o.buyer_id, o.supplier_id, o.chain_id)
          IS DISTINCT FROM (n.status, n.buyer_id, n.supplier_id, n.chain_id);
  END IF;
  RETURN NULL;
END
$$
""",
}
COMMENTS = {
    "supplier_tier_catch_up()": "Take the queue supplier_tier_stale: place each new active "
    "link from a supplier that buys from nobody (a row a tier above each row that holds its "
    "buyer, and at tier 1 of its buyer where that is a chain master in the chain of the link), "
    "and rebuild the chain masters named by the rest or whose tiers hold an enterprise "
    "it names; how many were rebuilt (-1: all, after a TRUNCATE)",
    "supplier_tier_queue_links()": "Queue the supply links a statement inserted active or made "
    "active (by id, with their buyers), and the buyers of the active links it deleted or changed "
    "(status, buyer, supplier, chain)",
}
TABLE_COMMENT = (
    "Queue of the enterprises whose active supply links (as buyer) or chain-master roles "
    "changed, and of the links made active: supplier_tier_catch_up() places a link from a "
    "supplier that buys from nobody and rebuilds the chain masters whose tiers hold the rest; "
    "0 stands for every enterprise (a TRUNCATE)"
)
OLD_TABLE_COMMENT = (
    "Queue of the enterprises whose active supply links (as buyer) or chain-master roles "
    "changed: the chain masters whose tiers hold them are rebuilt by supplier_tier_catch_up(); "
    "0 stands for every enterprise (a TRUNCATE)"
)
COLUMN_COMMENT = (
    "A supply link inserted active or made active (supply_link.id; no foreign key: it may be "
    "gone when the queue is read), placed by supplier_tier_catch_up() when its supplier buys "
    "from nobody; NULL for any other change"
)


def upgrade() -> None:
    op.add_column(
        "supplier_tier_stale",
        sa.Column("link_id", sa.BigInteger(), nullable=True, comment=COLUMN_COMMENT),
    )
    op.execute(f"COMMENT ON TABLE supplier_tier_stale IS '{TABLE_COMMENT}'")
    for definition in FUNCTIONS.values():
        op.execute(definition)
    for signature, comment in COMMENTS.items():
        op.execute(f"COMMENT ON FUNCTION {signature} IS '{comment}'")


def downgrade() -> None:
    kept = released("b81f3c6e2d47")
    for definition in kept.FUNCTIONS:
        name = definition.split("FUNCTION ", 1)[1].split("(", 1)[0]
        if f"{name}()" in FUNCTIONS:
            op.execute(definition.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    for comment in kept.COMMENTS:
        if any(f"FUNCTION {signature}" in comment for signature in FUNCTIONS):
            op.execute(comment)
    op.drop_column("supplier_tier_stale", "link_id")
    op.execute(f"COMMENT ON TABLE supplier_tier_stale IS '{OLD_TABLE_COMMENT}'")
