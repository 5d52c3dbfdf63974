-- The 补链 recruitment list: per gap segment, the non-local suppliers serving it elsewhere.
-- Materialized: as a plain view it took 775 ms at synthetic scale 1 once a busy chain had gaps
-- (one chain's first 100: 492 ms). Its rows are those of the last refresh (chaindb.reports.refresh:
-- REFRESH ... CONCURRENTLY, which needs the unique index below). It reads the materialized view
-- report_chain_gaps: refresh that one first. Dropped and created again, never replaced; created
-- WITH DATA.
DROP MATERIALIZED VIEW IF EXISTS report_gap_candidates;
CREATE MATERIALIZED VIEW report_gap_candidates AS
WITH candidate_link AS (
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
    JOIN segment_subtrees() AS t ON t.top_id = g.segment_id
    JOIN supply_link AS l ON l.chain_id = g.chain_id AND l.segment_id = t.segment_id
    JOIN enterprise AS e ON e.id = l.supplier_id
    WHERE l.status = 'active'
      AND NOT is_local(e)
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
