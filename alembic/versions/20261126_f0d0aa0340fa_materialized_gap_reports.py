"""Materialized gap reports: report_chain_gaps and report_gap_candidates become materialized
views, refreshed like the three of 3a0bd0a8377d.

Same names, columns and comments; a unique index each, which REFRESH ... CONCURRENTLY needs
(report_chain_gaps: segment_id; report_gap_candidates: segment_id, supplier_id), and an index on
chain_id, the column the report pages filter on. report_gap_candidates reads report_chain_gaps:
it is dropped first, created after, and refreshed after it (chaindb.reports.MATERIALIZED's
order). report_refresh records both from now on.

bench/report_views.py --with-gaps at synthetic scale 1 (a busy chain's enterprises made
non-local: 19 gaps, 22,152 candidates), median warm, before -> after this revision:
report_chain_gaps 366 -> 0.1 ms, report_gap_candidates 775 -> 36 ms (one chain's first 100: 492
-> 3.3 ms); a concurrent refresh takes 0.4 and 0.7-0.8 s (10 ms without gaps). docs/reporting.md
"Speed" has every figure.

The SQL is copied here as it is at this revision (chaindb/reports/sql/ holds the current
version). The grants on the two views (chaindb_reader's, and any other) carry over to the
materialized views, and back on downgrade, which restores the plain views as 3a0bd0a8377d left
them (report_chain_gaps as e41f7c2a9b63 created it, report_gap_candidates as 3a0bd0a8377d
replaced it), loading those migrations' SQL.

Revision ID: f0d0aa0340fa
Revises: 3a0bd0a8377d
Create Date: 2026-11-26 18:00:00.000000+00:00
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "f0d0aa0340fa"
down_revision: str | Sequence[str] | None = "3a0bd0a8377d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The views that become materialized, in creation (and refresh) order: report_gap_candidates
# reads report_chain_gaps.
MATERIALIZED = ("report_chain_gaps", "report_gap_candidates")

# View name -> the SQL that creates it, its indexes and comments, in creation order. Each drops
# the materialized view first (a no-op here: the plain view is dropped before).
VIEW_SQL: dict[str, str] = {
    "report_chain_gaps": """
-- One row per chain segment with no active local enterprise in it or below it: the 补链 targets.
-- Materialized: as a plain view it took 366 ms at synthetic scale 1 once a busy chain had gaps.
-- Its rows are those of the last refresh (chaindb.reports.refresh: REFRESH ... CONCURRENTLY,
-- which needs the unique index below). The materialized view report_gap_candidates reads it: it
-- is refreshed after this one, and dropped before it. Dropped and created again, never
-- replaced; created WITH DATA.
DROP MATERIALIZED VIEW IF EXISTS report_chain_gaps;
CREATE MATERIALIZED VIEW report_chain_gaps AS
WITH RECURSIVE subtree (top_id, chain_id, segment_id, seen) AS (
    -- Every segment with itself and every segment below it.
    SELECT s.id, s.chain_id, s.id, ARRAY[s.id]
    FROM chain_segment AS s
    UNION ALL
    SELECT t.top_id, s.chain_id, s.id, t.seen || s.id
    FROM subtree AS t
    JOIN chain_segment AS s ON s.parent_id = t.segment_id
    WHERE s.id <> ALL (t.seen)
),
level (segment_id, depth, seen) AS (
    SELECT s.id, 0, ARRAY[s.id]
    FROM chain_segment AS s
    WHERE s.parent_id IS NULL
    UNION ALL
    SELECT s.id, v.depth + 1, v.seen || s.id
    FROM level AS v
    JOIN chain_segment AS s ON s.parent_id = v.segment_id
    WHERE s.id <> ALL (v.seen)
),
served_itself AS (
    -- A local enterprise holds a live role in the segment or supplies in it through an active link.
    SELECT s.id AS segment_id
    FROM chain_segment AS s
    WHERE EXISTS (
            SELECT 1
            FROM chain_role AS r
            JOIN enterprise AS e ON e.id = r.enterprise_id
            WHERE r.segment_id = s.id
              AND e.district_id IS NOT NULL
              AND (r.since IS NULL OR r.since <= current_date)
              AND (r.until IS NULL OR r.until >= current_date)
        )
       OR EXISTS (
            SELECT 1
            FROM supply_link AS l
            JOIN enterprise AS e ON e.id = l.supplier_id
            WHERE l.chain_id = s.chain_id
              AND l.segment_id = s.id
              AND l.status = 'active'
              AND e.district_id IS NOT NULL
        )
),
gap AS (
    SELECT s.id AS segment_id
    FROM chain_segment AS s
    WHERE NOT EXISTS (
        SELECT 1
        FROM subtree AS t
        JOIN served_itself AS d ON d.segment_id = t.segment_id
        WHERE t.top_id = s.id
    )
),
nonlocal_supply AS (
    SELECT
        g.segment_id,
        count(DISTINCT l.supplier_id) AS suppliers,
        sum(l.annual_value_cny_10k) AS value_cny_10k
    FROM gap AS g
    JOIN subtree AS t ON t.top_id = g.segment_id
    JOIN supply_link AS l ON l.chain_id = t.chain_id AND l.segment_id = t.segment_id
    JOIN enterprise AS e ON e.id = l.supplier_id
    WHERE l.status = 'active'
      AND e.district_id IS NULL
    GROUP BY g.segment_id
)
SELECT
    s.chain_id,
    c.code AS chain_code,
    c.name_zh AS chain_name_zh,
    s.id AS segment_id,
    s.code AS segment_code,
    s.name_zh AS segment_name_zh,
    s.position,
    s.parent_id,
    v.depth,
    COALESCE(n.suppliers, 0) AS nonlocal_suppliers,
    COALESCE(n.value_cny_10k, 0) AS nonlocal_value_cny_10k
FROM gap AS g
JOIN chain_segment AS s ON s.id = g.segment_id
JOIN chain AS c ON c.id = s.chain_id
JOIN level AS v ON v.segment_id = s.id
LEFT JOIN nonlocal_supply AS n ON n.segment_id = s.id;

-- One row per segment: gap and chain_segment have one row per segment, level at most one (a
-- segment has one parent, so one path from its top), nonlocal_supply is grouped by segment.
CREATE UNIQUE INDEX uq_report_chain_gaps_segment_id ON report_chain_gaps (segment_id);
CREATE INDEX ix_report_chain_gaps_chain_id ON report_chain_gaps (chain_id);

COMMENT ON MATERIALIZED VIEW report_chain_gaps IS
    'Chain gaps (缺链环节): one row per segment of a chain map with no active local enterprise. '
    'A segment is served when a local enterprise holds a role live today with that segment, or '
    'supplies through an active link with that segment; a segment is served when it or any '
    'segment below it is (the chain map''s rule). Values in 万元 (10,000 CNY).';
COMMENT ON COLUMN report_chain_gaps.chain_id IS 'The chain (chain.id)';
COMMENT ON COLUMN report_chain_gaps.chain_code IS 'Natural key of the chain';
COMMENT ON COLUMN report_chain_gaps.chain_name_zh IS 'Chinese name of the chain';
COMMENT ON COLUMN report_chain_gaps.segment_id IS 'The segment with the gap (chain_segment.id)';
COMMENT ON COLUMN report_chain_gaps.segment_code IS 'Natural key of the segment within its chain';
COMMENT ON COLUMN report_chain_gaps.segment_name_zh IS 'Chinese name of the segment';
COMMENT ON COLUMN report_chain_gaps.position IS
    'upstream (上游), midstream (中游) or downstream (下游)';
COMMENT ON COLUMN report_chain_gaps.parent_id IS
    'The enclosing segment; NULL for a top-level segment';
COMMENT ON COLUMN report_chain_gaps.depth IS
    'Depth in the chain map: 0 for a top-level segment, 1 below it, and so on';
COMMENT ON COLUMN report_chain_gaps.nonlocal_suppliers IS
    'Distinct non-local suppliers with an active link in the segment or a segment below it: '
    'the candidates to recruit (see report_gap_candidates)';
COMMENT ON COLUMN report_chain_gaps.nonlocal_value_cny_10k IS
    'Sum of the known annual values of those active links, in 万元 (10,000 CNY); 0 when none known';
""",
    "report_gap_candidates": """
-- The 补链 recruitment list: per gap segment, the non-local suppliers serving it elsewhere.
-- Materialized: as a plain view it took 775 ms at synthetic scale 1 once a busy chain had gaps
-- (one chain's first 100: 492 ms). Its rows are those of the last refresh (chaindb.reports.refresh:
-- REFRESH ... CONCURRENTLY, which needs the unique index below). It reads the materialized view
-- report_chain_gaps: refresh that one first. Dropped and created again, never replaced; created
-- WITH DATA.
DROP MATERIALIZED VIEW IF EXISTS report_gap_candidates;
CREATE MATERIALIZED VIEW report_gap_candidates AS
WITH RECURSIVE subtree (top_id, chain_id, segment_id, seen) AS (
    -- Every segment with itself and every segment below it.
    SELECT s.id, s.chain_id, s.id, ARRAY[s.id]
    FROM chain_segment AS s
    UNION ALL
    SELECT t.top_id, s.chain_id, s.id, t.seen || s.id
    FROM subtree AS t
    JOIN chain_segment AS s ON s.parent_id = t.segment_id
    WHERE s.id <> ALL (t.seen)
),
candidate_link AS (
    SELECT
        g.chain_id,
        g.chain_code,
        g.segment_id,
        g.segment_name_zh,
        l.supplier_id,
        l.buyer_id,
        l.product,
        l.annual_value_cny_10k
    FROM report_chain_gaps AS g
    JOIN subtree AS t ON t.top_id = g.segment_id
    JOIN supply_link AS l ON l.chain_id = g.chain_id AND l.segment_id = t.segment_id
    JOIN enterprise AS e ON e.id = l.supplier_id
    WHERE l.status = 'active'
      AND e.district_id IS NULL
)
SELECT
    k.chain_id,
    k.chain_code,
    k.segment_id,
    k.segment_name_zh,
    k.supplier_id,
    e.name_zh AS supplier_name_zh,
    e.uscc AS supplier_uscc,
    e.region_code AS supplier_region_code,
    count(DISTINCT k.buyer_id) AS chain_masters_supplied,
    string_agg(DISTINCT k.product, '、' ORDER BY k.product) AS products,
    COALESCE(sum(k.annual_value_cny_10k), 0) AS value_cny_10k
FROM candidate_link AS k
JOIN enterprise AS e ON e.id = k.supplier_id
GROUP BY
    k.chain_id,
    k.chain_code,
    k.segment_id,
    k.segment_name_zh,
    k.supplier_id,
    e.name_zh,
    e.uscc,
    e.region_code;

-- One row per gap segment and supplier: the GROUP BY's other keys follow from these two (a
-- segment has one chain, code and name; a supplier one name, uscc and region).
CREATE UNIQUE INDEX uq_report_gap_candidates_segment_id_supplier_id
    ON report_gap_candidates (segment_id, supplier_id);
CREATE INDEX ix_report_gap_candidates_chain_id ON report_gap_candidates (chain_id);

COMMENT ON MATERIALIZED VIEW report_gap_candidates IS
    'The 补链 recruitment list: one row per chain gap (see report_chain_gaps) and non-local '
    'supplier with an active link in that segment or a segment below it. Values in 万元.';
COMMENT ON COLUMN report_gap_candidates.chain_id IS 'The chain (chain.id)';
COMMENT ON COLUMN report_gap_candidates.chain_code IS 'Natural key of the chain';
COMMENT ON COLUMN report_gap_candidates.segment_id IS 'The gap segment (chain_segment.id)';
COMMENT ON COLUMN report_gap_candidates.segment_name_zh IS 'Chinese name of the gap segment';
COMMENT ON COLUMN report_gap_candidates.supplier_id IS
    'The non-local supplier, a candidate to recruit (enterprise.id)';
COMMENT ON COLUMN report_gap_candidates.supplier_name_zh IS
    'Registered Chinese name of the supplier';
COMMENT ON COLUMN report_gap_candidates.supplier_uscc IS
    'Unified social credit code (统一社会信用代码) of the supplier; NULL when not known';
COMMENT ON COLUMN report_gap_candidates.supplier_region_code IS
    '6-digit GB/T 2260 code of where the supplier is; NULL when not known';
COMMENT ON COLUMN report_gap_candidates.chain_masters_supplied IS
    'Distinct chain masters (buyers) the supplier supplies through those active links';
COMMENT ON COLUMN report_gap_candidates.products IS
    'The distinct products of those links, joined with 、; NULL when no product is recorded';
COMMENT ON COLUMN report_gap_candidates.value_cny_10k IS
    'Sum of the known annual values of those active links, in 万元 (10,000 CNY); 0 when none known';
""",
}


def _keep_grants(names: Sequence[str]) -> None:
    """Note the privileges others hold on the relations `names` (before they are dropped)."""
    listed = ", ".join(f"to_regclass('{name}')" for name in names)
    op.execute("DROP TABLE IF EXISTS pg_temp.report_grants")
    op.execute(
        f"""
        CREATE TEMPORARY TABLE report_grants ON COMMIT DROP AS
        SELECT c.relname::text AS relation, a.grantee, a.privilege_type, a.is_grantable
        FROM pg_class AS c
        CROSS JOIN LATERAL aclexplode(c.relacl) AS a
        WHERE c.oid IN ({listed})
          AND a.grantee <> c.relowner
        """
    )


def _grant_again() -> None:
    """Grant the privileges noted by _keep_grants on the relations of the same names."""
    op.execute(
        """
        DO $$
        DECLARE
          g record;
        BEGIN
          FOR g IN SELECT * FROM pg_temp.report_grants LOOP
            EXECUTE format(
              'GRANT %s ON %I TO %s%s',
              g.privilege_type,
              g.relation,
              CASE WHEN g.grantee = 0 THEN 'PUBLIC'
                   ELSE quote_ident(pg_get_userbyid(g.grantee)) END,
              CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END
            );
          END LOOP;
        END
        $$
        """
    )
    op.execute("DROP TABLE pg_temp.report_grants")


# report_refresh's comment named the first three materialized views; now it names none.
REFRESH_COMMENT_BEFORE = "When each materialized reporting view (report_chain_overview, report_chain_master_suppliers, report_supplier_tiers) was last refreshed: its rows are the figures as of then. Written by chaindb.reports.refresh"
REFRESH_COMMENT = "When each materialized reporting view was last refreshed (one row per view): its rows are the figures as of then. Written by chaindb.reports.refresh"


def upgrade() -> None:
    op.create_table_comment(
        "report_refresh", REFRESH_COMMENT, existing_comment=REFRESH_COMMENT_BEFORE
    )
    _keep_grants(MATERIALIZED)
    # Readers first: report_gap_candidates reads report_chain_gaps; no other view reads either.
    for name in reversed(MATERIALIZED):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    for name in MATERIALIZED:
        op.execute(VIEW_SQL[name])
    _grant_again()
    for name in MATERIALIZED:
        op.execute(f"ANALYZE {name}")
    # Created WITH DATA just now: the figures are as of this migration.
    op.execute(
        "INSERT INTO report_refresh (view_name, refreshed_at) "
        f"SELECT unnest(ARRAY[{', '.join(repr(name) for name in MATERIALIZED)}]), now() "
        "ON CONFLICT (view_name) DO UPDATE SET refreshed_at = EXCLUDED.refreshed_at, seconds = NULL"
    )


def _released(revision_id: str):
    """A released migration's module, for its SQL (never copied: it must not change)."""
    (path,) = Path(__file__).parent.glob(f"*_{revision_id}_*.py")
    spec = importlib.util.spec_from_file_location(f"_chaindb_revision_{revision_id}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def downgrade() -> None:
    # The definitions 3a0bd0a8377d left: report_gap_candidates its own, report_chain_gaps
    # e41f7c2a9b63's (3a0bd0a8377d did not change it).
    previous = {
        "report_chain_gaps": _released("e41f7c2a9b63").VIEW_SQL["report_chain_gaps"],
        "report_gap_candidates": _released("3a0bd0a8377d").VIEW_SQL["report_gap_candidates"],
    }
    _keep_grants(MATERIALIZED)
    for name in reversed(MATERIALIZED):
        op.execute(f"DROP MATERIALIZED VIEW IF EXISTS {name}")
    for name in MATERIALIZED:
        op.execute(previous[name])
    _grant_again()
    listed = ", ".join(repr(name) for name in MATERIALIZED)
    op.execute(f"DELETE FROM report_refresh WHERE view_name IN ({listed})")
    op.create_table_comment(
        "report_refresh", REFRESH_COMMENT_BEFORE, existing_comment=REFRESH_COMMENT
    )
