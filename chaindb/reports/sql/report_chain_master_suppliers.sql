-- One row per live chain-master role: the master's suppliers and its local supply rate.
-- Kept: its figures are the table chain_master_supply, which the report refresher keeps master by
-- master and chain by chain (as a materialized view its refresh took 1.3 s at synthetic scale 1,
-- after every burst of links). A write to a supply link, a chain-master role, or to where a
-- supplier sits or its size queues the chain masters and chains it touches
-- (chain_master_supply_stale); chain_master_supply_catch_up() computes those again from
-- chain_master_supply_rows(), chain_master_supply_rebuild() every one. The names are read live.
CREATE OR REPLACE FUNCTION chain_master_supply_rows(
    master bigint DEFAULT NULL,
    one_chain bigint DEFAULT NULL
)
RETURNS SETOF chain_master_supply
LANGUAGE plpgsql
STABLE
SET search_path = public, pg_temp
AS $function$
BEGIN
  -- Planned for the master and chain given (EXECUTE): for one, its links are found by index;
  -- for every one ($1 and $2 NULL) each table is read once.
  RETURN QUERY EXECUTE $query$
    WITH live_master AS (
        SELECT DISTINCT r.enterprise_id AS chain_master_id, r.chain_id
        FROM chain_role AS r
        WHERE r.role = 'chain_master'
          AND role_held_on(r, current_date)
          AND ($1 IS NULL OR r.enterprise_id = $1)
          AND ($2 IS NULL OR r.chain_id = $2)
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
              AND ($1 IS NULL OR l.buyer_id = $1)
              AND ($2 IS NULL OR l.chain_id = $2)
        ) AS s
        JOIN enterprise AS e ON e.id = s.supplier_id
        GROUP BY s.buyer_id, s.chain_id
    )
    SELECT
        m.chain_master_id,
        m.chain_id,
        COALESCE(s.suppliers, 0),
        COALESCE(s.local_suppliers, 0),
        COALESCE(s.nonlocal_suppliers, 0),
        COALESCE(s.sme_suppliers, 0),
        COALESCE(t.active_links, 0),
        COALESCE(t.local_active_links, 0),
        COALESCE(t.links_with_value, 0),
        COALESCE(t.value_cny_10k, 0),
        COALESCE(t.local_value_cny_10k, 0),
        t.local_supply_rate_by_value,
        t.local_supply_rate_by_count
    FROM live_master AS m
    -- The one definition of the local supply rate (supply_totals()), per master and chain.
    LEFT JOIN (
        SELECT x.*
        FROM supply_totals($1) AS x
        WHERE ($2 IS NULL OR x.chain_id = $2)
    ) AS t ON t.buyer_id = m.chain_master_id AND t.chain_id = m.chain_id
    LEFT JOIN supplier_totals AS s ON s.buyer_id = m.chain_master_id AND s.chain_id = m.chain_id
  $query$ USING master, one_chain;
END
$function$;

COMMENT ON FUNCTION chain_master_supply_rows(bigint, bigint) IS
    'The figures of report_chain_master_suppliers for the chain master `master` in the chain '
    '`one_chain` (NULL: every one), where its chain_master role is live today, computed from the '
    'data now (chain_master_supply keeps them)';

CREATE OR REPLACE VIEW report_chain_master_suppliers AS
SELECT
    k.chain_master_id,
    e.name_zh AS chain_master_name_zh,
    k.chain_id,
    c.code AS chain_code,
    c.name_zh AS chain_name_zh,
    k.suppliers,
    k.local_suppliers,
    k.nonlocal_suppliers,
    k.sme_suppliers,
    k.active_links,
    k.local_active_links,
    k.links_with_value,
    k.value_cny_10k,
    k.local_value_cny_10k,
    k.local_supply_rate_by_value,
    k.local_supply_rate_by_count
FROM chain_master_supply AS k
JOIN enterprise AS e ON e.id = k.chain_master_id
JOIN chain AS c ON c.id = k.chain_id;

COMMENT ON VIEW report_chain_master_suppliers IS
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
