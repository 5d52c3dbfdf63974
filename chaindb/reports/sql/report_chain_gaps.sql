-- One row per chain segment with no active local enterprise in it or below it: the 补链 targets.
-- Materialized: as a plain view it took 366 ms at synthetic scale 1 once a busy chain had gaps.
-- Its rows are those of the last refresh (chaindb.reports.refresh: REFRESH ... CONCURRENTLY,
-- which needs the unique index below). The materialized view report_gap_candidates reads it: it
-- is refreshed after this one, and dropped before it. Dropped and created again, never
-- replaced; created WITH DATA.
DROP MATERIALIZED VIEW IF EXISTS report_chain_gaps;
CREATE MATERIALIZED VIEW report_chain_gaps AS
WITH RECURSIVE level (segment_id, depth, seen) AS (
    SELECT s.id, 0, ARRAY[s.id]
    FROM chain_segment AS s
    WHERE s.parent_id IS NULL
    UNION ALL
    SELECT s.id, v.depth + 1, v.seen || s.id
    FROM level AS v
    JOIN chain_segment AS s ON s.parent_id = v.segment_id
    WHERE s.id <> ALL (v.seen)
),
gap AS (
    -- The one definition of a gap (chain_gaps()), today.
    SELECT g.segment_id
    FROM chain_gaps() AS g
),
nonlocal_supply AS (
    SELECT
        g.segment_id,
        count(DISTINCT l.supplier_id) AS suppliers,
        sum(l.annual_value_cny_10k) AS value_cny_10k
    FROM gap AS g
    JOIN segment_subtrees() AS t ON t.top_id = g.segment_id
    JOIN supply_link AS l ON l.chain_id = t.chain_id AND l.segment_id = t.segment_id
    JOIN enterprise AS e ON e.id = l.supplier_id
    WHERE l.status = 'active'
      AND NOT is_local(e)
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
