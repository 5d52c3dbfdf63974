-- One row per live chain-master role: the master's suppliers and its local supply rate.
-- Materialized: as a plain view it took 640 ms at synthetic scale 1. Its rows are those of the
-- last refresh (chaindb.reports.refresh: REFRESH ... CONCURRENTLY, which needs the unique
-- index below). Dropped and created again, never replaced; created WITH DATA.
DROP MATERIALIZED VIEW IF EXISTS report_chain_master_suppliers;
CREATE MATERIALIZED VIEW report_chain_master_suppliers AS
WITH live_master AS (
    SELECT DISTINCT r.enterprise_id AS chain_master_id, r.chain_id
    FROM chain_role AS r
    WHERE r.role = 'chain_master'
      AND role_held_on(r, current_date)
),
supplier_totals AS (
    -- Per buyer and chain: the distinct suppliers of its active links.
    SELECT
        s.buyer_id,
        s.chain_id,
        count(*) AS suppliers,
        count(*) FILTER (WHERE is_local(e)) AS local_suppliers,
        count(*) FILTER (WHERE NOT is_local(e)) AS nonlocal_suppliers,
        count(*) FILTER (WHERE e.size IN ('small', 'medium', 'micro')) AS sme_suppliers
    FROM (
        SELECT DISTINCT l.buyer_id, l.chain_id, l.supplier_id
        FROM supply_link AS l
        WHERE l.status = 'active'
    ) AS s
    JOIN enterprise AS e ON e.id = s.supplier_id
    GROUP BY s.buyer_id, s.chain_id
)
SELECT
    m.chain_master_id,
    e.name_zh AS chain_master_name_zh,
    m.chain_id,
    c.code AS chain_code,
    c.name_zh AS chain_name_zh,
    COALESCE(s.suppliers, 0) AS suppliers,
    COALESCE(s.local_suppliers, 0) AS local_suppliers,
    COALESCE(s.nonlocal_suppliers, 0) AS nonlocal_suppliers,
    COALESCE(s.sme_suppliers, 0) AS sme_suppliers,
    COALESCE(t.active_links, 0) AS active_links,
    COALESCE(t.local_active_links, 0) AS local_active_links,
    COALESCE(t.links_with_value, 0) AS links_with_value,
    COALESCE(t.value_cny_10k, 0) AS value_cny_10k,
    COALESCE(t.local_value_cny_10k, 0) AS local_value_cny_10k,
    t.local_supply_rate_by_value,
    t.local_supply_rate_by_count
FROM live_master AS m
JOIN enterprise AS e ON e.id = m.chain_master_id
JOIN chain AS c ON c.id = m.chain_id
-- The one definition of the local supply rate (supply_totals()), per master and chain.
LEFT JOIN supply_totals() AS t ON t.buyer_id = m.chain_master_id AND t.chain_id = m.chain_id
LEFT JOIN supplier_totals AS s ON s.buyer_id = m.chain_master_id AND s.chain_id = m.chain_id;

CREATE UNIQUE INDEX uq_report_chain_master_suppliers_chain_master_id_chain_id
    ON report_chain_master_suppliers (chain_master_id, chain_id);
CREATE INDEX ix_report_chain_master_suppliers_chain_id ON report_chain_master_suppliers (chain_id);

COMMENT ON MATERIALIZED VIEW report_chain_master_suppliers IS
    'One row per chain master (链主) and chain where the chain_master role is live today: its '
    'suppliers through active supply links, how many are local, SMEs, and the local supply rate '
    '(本地配套率) by value and by count. Values in 万元 (10,000 CNY); rates as fractions 0..1.';
COMMENT ON COLUMN report_chain_master_suppliers.chain_master_id IS
    'The chain master enterprise (enterprise.id)';
COMMENT ON COLUMN report_chain_master_suppliers.chain_master_name_zh IS
    'Registered Chinese name of the chain master';
COMMENT ON COLUMN report_chain_master_suppliers.chain_id IS 'The chain (chain.id)';
COMMENT ON COLUMN report_chain_master_suppliers.chain_code IS 'Natural key of the chain';
COMMENT ON COLUMN report_chain_master_suppliers.chain_name_zh IS 'Chinese name of the chain';
COMMENT ON COLUMN report_chain_master_suppliers.suppliers IS
    'Distinct suppliers with an active supply link to the master in the chain';
COMMENT ON COLUMN report_chain_master_suppliers.local_suppliers IS
    'Of suppliers: those in one of the city''s planning units';
COMMENT ON COLUMN report_chain_master_suppliers.nonlocal_suppliers IS
    'Of suppliers: those outside the city';
COMMENT ON COLUMN report_chain_master_suppliers.sme_suppliers IS
    'Of suppliers: SMEs (size small, medium or micro; unknown size is not counted)';
COMMENT ON COLUMN report_chain_master_suppliers.active_links IS
    'Active supply links to the master in the chain (a supplier may have several products)';
COMMENT ON COLUMN report_chain_master_suppliers.local_active_links IS
    'Of active_links: those whose supplier is local';
COMMENT ON COLUMN report_chain_master_suppliers.links_with_value IS
    'Of active_links: those with a known annual value';
COMMENT ON COLUMN report_chain_master_suppliers.value_cny_10k IS
    'Sum of the known annual values of the active links, in 万元 (10,000 CNY); 0 when none known';
COMMENT ON COLUMN report_chain_master_suppliers.local_value_cny_10k IS
    'Sum of the known annual values of the active links with a local supplier, in 万元';
COMMENT ON COLUMN report_chain_master_suppliers.local_supply_rate_by_value IS
    'Local supply rate by value: local_value_cny_10k / value_cny_10k, a fraction 0..1; '
    'NULL when no value is known or the values sum to 0';
COMMENT ON COLUMN report_chain_master_suppliers.local_supply_rate_by_count IS
    'Local supply rate by count: local_active_links / active_links, a fraction 0..1; '
    'NULL when there is no active link';
