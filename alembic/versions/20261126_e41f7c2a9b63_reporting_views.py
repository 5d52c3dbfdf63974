"""Reporting views for analysts and BI tools: report_chain_overview,
report_chain_master_suppliers, report_chain_gaps, report_gap_candidates, report_supplier_tiers
(with the function supplier_tiers), report_district_chain_matrix, report_project_pipeline,
report_project_rates, report_target_progress and report_designations, each column commented.

The SQL is copied here as it is at this revision (chaindb/reports/sql/ holds the current
version): a later change to a view is a new migration with the new text.

Revision ID: e41f7c2a9b63
Revises: 5b1e7f3a9c20
Create Date: 2026-11-26 14:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e41f7c2a9b63"
down_revision: str | Sequence[str] | None = "5b1e7f3a9c20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# View name -> the SQL that creates it and its comments, in creation order.
VIEW_SQL: dict[str, str] = {
    "report_chain_overview": """
-- One row per chain: its enterprises, suppliers, projects by stage and amounts.
CREATE OR REPLACE VIEW report_chain_overview AS
WITH live_role AS (
    SELECT r.chain_id, r.enterprise_id, r.role
    FROM chain_role AS r
    WHERE (r.since IS NULL OR r.since <= current_date)
      AND (r.until IS NULL OR r.until >= current_date)
),
role_counts AS (
    SELECT
        chain_id,
        count(DISTINCT enterprise_id) AS enterprises,
        count(DISTINCT enterprise_id) FILTER (WHERE role = 'chain_master') AS chain_masters,
        count(DISTINCT enterprise_id) FILTER (WHERE role = 'backbone') AS backbones
    FROM live_role
    GROUP BY chain_id
),
supplier_links AS (
    -- One row per chain and supplier of active links (counting suppliers is then a count).
    SELECT
        l.chain_id,
        l.supplier_id,
        count(*) AS links
    FROM supply_link AS l
    WHERE l.status = 'active'
    GROUP BY l.chain_id, l.supplier_id
),
link_counts AS (
    SELECT
        s.chain_id,
        count(*) AS suppliers,
        count(*) FILTER (WHERE e.district_id IS NOT NULL) AS local_suppliers,
        count(*) FILTER (WHERE e.district_id IS NULL) AS nonlocal_suppliers,
        sum(s.links)::bigint AS active_supply_links
    FROM supplier_links AS s
    JOIN enterprise AS e ON e.id = s.supplier_id
    GROUP BY s.chain_id
),
project_counts AS (
    SELECT
        chain_id,
        count(*) FILTER (WHERE stage <> 'dropped') AS projects,
        count(*) FILTER (WHERE stage = 'lead') AS projects_lead,
        count(*) FILTER (WHERE stage = 'negotiating') AS projects_negotiating,
        count(*) FILTER (WHERE stage = 'signed') AS projects_signed,
        count(*) FILTER (WHERE stage = 'under_construction') AS projects_under_construction,
        count(*) FILTER (WHERE stage = 'in_production') AS projects_in_production,
        count(*) FILTER (WHERE stage = 'at_capacity') AS projects_at_capacity,
        count(*) FILTER (WHERE stage = 'dropped') AS projects_dropped,
        sum(agreed_investment_cny_100m) FILTER (WHERE stage <> 'dropped') AS agreed_investment,
        sum(agreed_investment_cny_100m) FILTER (WHERE stage = 'lead') AS agreed_lead,
        sum(agreed_investment_cny_100m) FILTER (WHERE stage = 'negotiating') AS agreed_negotiating,
        sum(agreed_investment_cny_100m) FILTER (WHERE stage = 'signed') AS agreed_signed,
        sum(agreed_investment_cny_100m)
            FILTER (WHERE stage = 'under_construction') AS agreed_under_construction,
        sum(agreed_investment_cny_100m)
            FILTER (WHERE stage = 'in_production') AS agreed_in_production,
        sum(agreed_investment_cny_100m) FILTER (WHERE stage = 'at_capacity') AS agreed_at_capacity,
        sum(funds_arrived_cny_100m) FILTER (WHERE stage <> 'dropped') AS funds_arrived
    FROM project
    GROUP BY chain_id
)
SELECT
    c.id AS chain_id,
    c.code AS chain_code,
    c.name_zh AS chain_name_zh,
    c.tier AS chain_tier,
    COALESCE(r.enterprises, 0) AS enterprises,
    COALESCE(r.chain_masters, 0) AS chain_masters,
    COALESCE(r.backbones, 0) AS backbones,
    COALESCE(l.suppliers, 0) AS suppliers,
    COALESCE(l.local_suppliers, 0) AS local_suppliers,
    COALESCE(l.nonlocal_suppliers, 0) AS nonlocal_suppliers,
    COALESCE(l.active_supply_links, 0) AS active_supply_links,
    COALESCE(p.projects, 0) AS projects,
    COALESCE(p.projects_lead, 0) AS projects_lead,
    COALESCE(p.projects_negotiating, 0) AS projects_negotiating,
    COALESCE(p.projects_signed, 0) AS projects_signed,
    COALESCE(p.projects_under_construction, 0) AS projects_under_construction,
    COALESCE(p.projects_in_production, 0) AS projects_in_production,
    COALESCE(p.projects_at_capacity, 0) AS projects_at_capacity,
    COALESCE(p.projects_dropped, 0) AS projects_dropped,
    COALESCE(p.agreed_investment, 0) AS agreed_investment_cny_100m,
    COALESCE(p.agreed_lead, 0) AS agreed_lead_cny_100m,
    COALESCE(p.agreed_negotiating, 0) AS agreed_negotiating_cny_100m,
    COALESCE(p.agreed_signed, 0) AS agreed_signed_cny_100m,
    COALESCE(p.agreed_under_construction, 0) AS agreed_under_construction_cny_100m,
    COALESCE(p.agreed_in_production, 0) AS agreed_in_production_cny_100m,
    COALESCE(p.agreed_at_capacity, 0) AS agreed_at_capacity_cny_100m,
    COALESCE(p.funds_arrived, 0) AS funds_arrived_cny_100m
FROM chain AS c
LEFT JOIN role_counts AS r ON r.chain_id = c.id
LEFT JOIN link_counts AS l ON l.chain_id = c.id
LEFT JOIN project_counts AS p ON p.chain_id = c.id;

COMMENT ON VIEW report_chain_overview IS
    'One row per industrial chain (产业链): its enterprises, chain masters, suppliers (local and '
    'non-local), projects and agreed investment by stage, funds arrived. Roles count when live '
    'today; links when active; projects and amounts leave out dropped projects unless the column '
    'names the stage dropped. Amounts in 亿元 (100 million CNY); 0 where nothing.';
COMMENT ON COLUMN report_chain_overview.chain_id IS 'The chain (chain.id)';
COMMENT ON COLUMN report_chain_overview.chain_code IS 'Natural key of the chain, e.g. automotive';
COMMENT ON COLUMN report_chain_overview.chain_name_zh IS 'Chinese name of the chain';
COMMENT ON COLUMN report_chain_overview.chain_tier IS 'iconic (标志性) or key (重点)';
COMMENT ON COLUMN report_chain_overview.enterprises IS
    'Distinct enterprises holding a role (chain master, backbone or supplier) in the chain live '
    'today';
COMMENT ON COLUMN report_chain_overview.chain_masters IS
    'Distinct enterprises holding a live chain_master role (链主) in the chain';
COMMENT ON COLUMN report_chain_overview.backbones IS
    'Distinct enterprises holding a live backbone role (龙头骨干) in the chain';
COMMENT ON COLUMN report_chain_overview.suppliers IS
    'Distinct supplier enterprises of active supply links in the chain';
COMMENT ON COLUMN report_chain_overview.local_suppliers IS
    'Of suppliers: those in one of the city''s planning units (enterprise.district_id set)';
COMMENT ON COLUMN report_chain_overview.nonlocal_suppliers IS
    'Of suppliers: those outside the city (enterprise.district_id NULL): 补链 targets';
COMMENT ON COLUMN report_chain_overview.active_supply_links IS
    'Supply links of the chain with status active';
COMMENT ON COLUMN report_chain_overview.projects IS
    'Investment projects of the chain, all stages but dropped';
COMMENT ON COLUMN report_chain_overview.projects_lead IS 'Projects at stage lead (储备)';
COMMENT ON COLUMN report_chain_overview.projects_negotiating IS
    'Projects at stage negotiating (在谈)';
COMMENT ON COLUMN report_chain_overview.projects_signed IS 'Projects at stage signed (签约)';
COMMENT ON COLUMN report_chain_overview.projects_under_construction IS
    'Projects at stage under_construction (开工)';
COMMENT ON COLUMN report_chain_overview.projects_in_production IS
    'Projects at stage in_production (投产)';
COMMENT ON COLUMN report_chain_overview.projects_at_capacity IS
    'Projects at stage at_capacity (达产)';
COMMENT ON COLUMN report_chain_overview.projects_dropped IS
    'Projects at stage dropped (终止); not in projects';
COMMENT ON COLUMN report_chain_overview.agreed_investment_cny_100m IS
    'Agreed investment (协议投资) of the projects not dropped, in 亿元 (100 million CNY)';
COMMENT ON COLUMN report_chain_overview.agreed_lead_cny_100m IS
    'Agreed investment of the projects at stage lead, in 亿元';
COMMENT ON COLUMN report_chain_overview.agreed_negotiating_cny_100m IS
    'Agreed investment of the projects at stage negotiating, in 亿元';
COMMENT ON COLUMN report_chain_overview.agreed_signed_cny_100m IS
    'Agreed investment of the projects at stage signed, in 亿元';
COMMENT ON COLUMN report_chain_overview.agreed_under_construction_cny_100m IS
    'Agreed investment of the projects at stage under_construction, in 亿元';
COMMENT ON COLUMN report_chain_overview.agreed_in_production_cny_100m IS
    'Agreed investment of the projects at stage in_production, in 亿元';
COMMENT ON COLUMN report_chain_overview.agreed_at_capacity_cny_100m IS
    'Agreed investment of the projects at stage at_capacity, in 亿元';
COMMENT ON COLUMN report_chain_overview.funds_arrived_cny_100m IS
    'Funds arrived to date (到位资金) of the projects not dropped, in 亿元 (100 million CNY)';
""",
    "report_chain_master_suppliers": """
-- One row per live chain-master role: the master's suppliers and its local supply rate.
CREATE OR REPLACE VIEW report_chain_master_suppliers AS
WITH live_master AS (
    SELECT DISTINCT r.enterprise_id AS chain_master_id, r.chain_id
    FROM chain_role AS r
    WHERE r.role = 'chain_master'
      AND (r.since IS NULL OR r.since <= current_date)
      AND (r.until IS NULL OR r.until >= current_date)
),
link_totals AS (
    -- Per buyer and chain: the active links and their known values.
    SELECT
        l.buyer_id,
        l.chain_id,
        count(*) AS active_links,
        count(*) FILTER (WHERE e.district_id IS NOT NULL) AS local_active_links,
        count(l.annual_value_cny_10k) AS links_with_value,
        sum(l.annual_value_cny_10k) AS value_cny_10k,
        sum(l.annual_value_cny_10k) FILTER (WHERE e.district_id IS NOT NULL) AS local_value_cny_10k
    FROM supply_link AS l
    JOIN enterprise AS e ON e.id = l.supplier_id
    WHERE l.status = 'active'
    GROUP BY l.buyer_id, l.chain_id
),
supplier_totals AS (
    -- Per buyer and chain: the distinct suppliers of its active links.
    SELECT
        s.buyer_id,
        s.chain_id,
        count(*) AS suppliers,
        count(*) FILTER (WHERE e.district_id IS NOT NULL) AS local_suppliers,
        count(*) FILTER (WHERE e.district_id IS NULL) AS nonlocal_suppliers,
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
    COALESCE(t.local_value_cny_10k, 0) / NULLIF(t.value_cny_10k, 0) AS local_supply_rate_by_value,
    t.local_active_links::numeric / NULLIF(t.active_links, 0) AS local_supply_rate_by_count
FROM live_master AS m
JOIN enterprise AS e ON e.id = m.chain_master_id
JOIN chain AS c ON c.id = m.chain_id
LEFT JOIN link_totals AS t ON t.buyer_id = m.chain_master_id AND t.chain_id = m.chain_id
LEFT JOIN supplier_totals AS s ON s.buyer_id = m.chain_master_id AND s.chain_id = m.chain_id;

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
""",
    "report_chain_gaps": """
-- One row per chain segment with no active local enterprise in it or below it: the 补链 targets.
CREATE OR REPLACE VIEW report_chain_gaps AS
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

COMMENT ON VIEW report_chain_gaps IS
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
CREATE OR REPLACE VIEW report_gap_candidates AS
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
    JOIN supply_link AS l ON l.chain_id = t.chain_id AND l.segment_id = t.segment_id
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

COMMENT ON VIEW report_gap_candidates IS
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
AS $$
WITH RECURSIVE root AS (
    -- The chains in which the master holds a chain_master role live today.
    SELECT DISTINCT r.chain_id
    FROM chain_role AS r
    WHERE r.enterprise_id = supplier_tiers.master_id
      AND r.role = 'chain_master'
      AND (r.since IS NULL OR r.since <= current_date)
      AND (r.until IS NULL OR r.until >= current_date)
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
    SELECT
        w.chain_id,
        w.tier + 1,
        next_tier.suppliers,
        w.seen || next_tier.suppliers
    FROM wave AS w
    CROSS JOIN LATERAL (
        -- Tier n+1: active links of any chain whose buyer is at tier n.
        SELECT array_agg(DISTINCT l.supplier_id) AS suppliers
        FROM supply_link AS l
        WHERE l.buyer_id = ANY (w.frontier)
          AND l.status = 'active'
          AND l.supplier_id <> ALL (w.seen)
    ) AS next_tier
    WHERE w.tier < supplier_tiers.max_tier
      AND next_tier.suppliers IS NOT NULL
),
placed AS (
    -- Each enterprise with the buyer it supplies one tier down (the lowest id among several).
    SELECT
        w.chain_id,
        w.tier,
        s.supplier_id,
        CASE
            WHEN w.tier = 1 THEN supplier_tiers.master_id
            ELSE (
                SELECT min(l.buyer_id)
                FROM supply_link AS l
                WHERE l.supplier_id = s.supplier_id
                  AND l.status = 'active'
                  AND l.buyer_id = ANY (below.frontier)
            )
        END AS via_buyer_id
    FROM wave AS w
    CROSS JOIN LATERAL unnest(w.frontier) AS s (supplier_id)
    LEFT JOIN wave AS below ON below.chain_id = w.chain_id AND below.tier = w.tier - 1
),
chained (chain_id, tier, supplier_id, via_buyer_id, path) AS (
    -- The path from the master, following via_buyer_id (a tree: one buyer per enterprise).
    SELECT
        p.chain_id,
        p.tier,
        p.supplier_id,
        p.via_buyer_id,
        ARRAY[supplier_tiers.master_id, p.supplier_id]
    FROM placed AS p
    WHERE p.tier = 1
    UNION ALL
    SELECT
        p.chain_id,
        p.tier,
        p.supplier_id,
        p.via_buyer_id,
        c.path || p.supplier_id
    FROM chained AS c
    JOIN placed AS p
        ON p.chain_id = c.chain_id
       AND p.tier = c.tier + 1
       AND p.via_buyer_id = c.supplier_id
)
SELECT
    m.id AS chain_master_id,
    m.name_zh AS chain_master_name_zh,
    k.chain_id,
    c.code AS chain_code,
    k.tier,
    k.supplier_id,
    e.name_zh AS supplier_name_zh,
    e.district_id IS NOT NULL AS supplier_local,
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

CREATE OR REPLACE VIEW report_supplier_tiers AS
WITH live_master AS (
    SELECT DISTINCT r.enterprise_id AS chain_master_id, r.chain_id
    FROM chain_role AS r
    WHERE r.role = 'chain_master'
      AND (r.since IS NULL OR r.since <= current_date)
      AND (r.until IS NULL OR r.until >= current_date)
)
SELECT
    m.chain_master_id,
    t.chain_master_name_zh,
    m.chain_id,
    t.chain_code,
    t.tier,
    t.supplier_id,
    t.supplier_name_zh,
    t.supplier_local,
    t.via_buyer_id,
    t.path
FROM live_master AS m
CROSS JOIN LATERAL supplier_tiers(m.chain_master_id, 5) AS t
WHERE t.chain_id = m.chain_id;

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
    "report_district_chain_matrix": """
-- Every planning unit by every chain: enterprises, projects and amounts; zeros where nothing.
CREATE OR REPLACE VIEW report_district_chain_matrix AS
WITH role_counts AS (
    SELECT
        e.district_id,
        r.chain_id,
        count(DISTINCT r.enterprise_id) AS enterprises
    FROM chain_role AS r
    JOIN enterprise AS e ON e.id = r.enterprise_id
    WHERE e.district_id IS NOT NULL
      AND (r.since IS NULL OR r.since <= current_date)
      AND (r.until IS NULL OR r.until >= current_date)
    GROUP BY e.district_id, r.chain_id
),
project_counts AS (
    SELECT
        district_id,
        chain_id,
        count(*) AS projects,
        sum(agreed_investment_cny_100m) AS agreed_investment,
        sum(funds_arrived_cny_100m) AS funds_arrived
    FROM project
    WHERE stage <> 'dropped'
    GROUP BY district_id, chain_id
)
SELECT
    d.id AS district_id,
    d.code AS district_code,
    d.name_zh AS district_name_zh,
    d.kind AS district_kind,
    c.id AS chain_id,
    c.code AS chain_code,
    c.name_zh AS chain_name_zh,
    COALESCE(r.enterprises, 0) AS enterprises,
    COALESCE(p.projects, 0) AS projects,
    COALESCE(p.agreed_investment, 0) AS agreed_investment_cny_100m,
    COALESCE(p.funds_arrived, 0) AS funds_arrived_cny_100m
FROM district AS d
CROSS JOIN chain AS c
LEFT JOIN role_counts AS r ON r.district_id = d.id AND r.chain_id = c.id
LEFT JOIN project_counts AS p ON p.district_id = d.id AND p.chain_id = c.id;

COMMENT ON VIEW report_district_chain_matrix IS
    'Every planning unit (区县(功能区)) by every chain, zeros where nothing: the unit''s '
    'enterprises with a role in the chain live today, and the projects landing in the unit for '
    'the chain (dropped ones left out). Amounts in 亿元 (100 million CNY).';
COMMENT ON COLUMN report_district_chain_matrix.district_id IS 'The planning unit (district.id)';
COMMENT ON COLUMN report_district_chain_matrix.district_code IS
    'Natural key of the unit: the 6-digit official code, or a local code for a functional zone';
COMMENT ON COLUMN report_district_chain_matrix.district_name_zh IS 'Chinese name of the unit';
COMMENT ON COLUMN report_district_chain_matrix.district_kind IS
    'district (区), county (县) or zone (功能区)';
COMMENT ON COLUMN report_district_chain_matrix.chain_id IS 'The chain (chain.id)';
COMMENT ON COLUMN report_district_chain_matrix.chain_code IS 'Natural key of the chain';
COMMENT ON COLUMN report_district_chain_matrix.chain_name_zh IS 'Chinese name of the chain';
COMMENT ON COLUMN report_district_chain_matrix.enterprises IS
    'Distinct enterprises of the unit holding a role (any kind) in the chain live today';
COMMENT ON COLUMN report_district_chain_matrix.projects IS
    'Projects of the chain landing in the unit, all stages but dropped';
COMMENT ON COLUMN report_district_chain_matrix.agreed_investment_cny_100m IS
    'Agreed investment (协议投资) of those projects, in 亿元 (100 million CNY)';
COMMENT ON COLUMN report_district_chain_matrix.funds_arrived_cny_100m IS
    'Funds arrived to date (到位资金) of those projects, in 亿元 (100 million CNY)';
""",
    "report_project_pipeline": """
-- Per month and stage: the projects entering the stage that month, from the stage history.
CREATE OR REPLACE VIEW report_project_pipeline AS
WITH first_entry AS (
    -- A project counts once per stage: in the month it first entered it.
    SELECT
        e.project_id,
        e.to_stage AS stage,
        min(e.occurred_on) AS entered_on
    FROM project_stage_event AS e
    GROUP BY e.project_id, e.to_stage
)
SELECT
    date_trunc('month', f.entered_on)::date AS month,
    extract(year FROM f.entered_on)::integer AS year,
    f.stage,
    count(*) AS projects,
    COALESCE(sum(p.agreed_investment_cny_100m), 0) AS agreed_investment_cny_100m
FROM first_entry AS f
JOIN project AS p ON p.id = f.project_id
GROUP BY
    date_trunc('month', f.entered_on)::date,
    extract(year FROM f.entered_on)::integer,
    f.stage;

COMMENT ON VIEW report_project_pipeline IS
    'The project pipeline per month and stage, from project_stage_event: the projects that '
    'entered the stage that month. A project counts once per stage, in the month it first '
    'entered it (a move back and forth does not count it again). Amounts in 亿元.';
COMMENT ON COLUMN report_project_pipeline.month IS 'First day of the month';
COMMENT ON COLUMN report_project_pipeline.year IS 'Calendar year of the month';
COMMENT ON COLUMN report_project_pipeline.stage IS
    'The stage entered: lead (储备), negotiating (在谈), signed (签约), under_construction (开工), '
    'in_production (投产), at_capacity (达产) or dropped (终止)';
COMMENT ON COLUMN report_project_pipeline.projects IS
    'Distinct projects that first entered the stage in the month';
COMMENT ON COLUMN report_project_pipeline.agreed_investment_cny_100m IS
    'Agreed investment (协议投资) of those projects as recorded today, in 亿元 (100 million CNY); '
    'a flow: projects dropped since are included';
""",
    "report_project_rates": """
-- Per month: start rate and funds arrival rate of the projects signed that month, fulfilment
-- rate of the projects due to start that month.
CREATE OR REPLACE VIEW report_project_rates AS
WITH signed AS (
    SELECT
        date_trunc('month', p.signed_on)::date AS month,
        count(*) AS signed_projects,
        count(*) FILTER (WHERE p.construction_started_on IS NOT NULL) AS started_projects,
        sum(p.agreed_investment_cny_100m) FILTER (WHERE p.stage <> 'dropped') AS agreed_investment,
        sum(p.funds_arrived_cny_100m) FILTER (WHERE p.stage <> 'dropped') AS funds_arrived
    FROM project AS p
    WHERE p.signed_on IS NOT NULL
    GROUP BY date_trunc('month', p.signed_on)::date
),
due AS (
    SELECT
        date_trunc('month', p.agreed_start_on)::date AS month,
        count(*) AS due_projects,
        count(*) FILTER (WHERE p.construction_started_on <= p.agreed_start_on) AS fulfilled_projects
    FROM project AS p
    WHERE p.signed_on IS NOT NULL
      AND p.agreed_start_on <= current_date
    GROUP BY date_trunc('month', p.agreed_start_on)::date
),
month_totals AS (
    SELECT
        COALESCE(s.month, d.month) AS month,
        COALESCE(s.signed_projects, 0) AS signed_projects,
        COALESCE(s.started_projects, 0) AS started_projects,
        COALESCE(s.agreed_investment, 0) AS agreed_investment,
        COALESCE(s.funds_arrived, 0) AS funds_arrived,
        COALESCE(d.due_projects, 0) AS due_projects,
        COALESCE(d.fulfilled_projects, 0) AS fulfilled_projects
    FROM signed AS s
    FULL JOIN due AS d ON d.month = s.month
)
SELECT
    t.month,
    extract(year FROM t.month)::integer AS year,
    t.signed_projects,
    t.started_projects,
    t.started_projects::numeric / NULLIF(t.signed_projects, 0) AS start_rate,
    t.agreed_investment AS agreed_investment_cny_100m,
    t.funds_arrived AS funds_arrived_cny_100m,
    t.funds_arrived / NULLIF(t.agreed_investment, 0) AS funds_arrival_rate,
    t.due_projects,
    t.fulfilled_projects,
    t.fulfilled_projects::numeric / NULLIF(t.due_projects, 0) AS fulfilment_rate
FROM month_totals AS t;

COMMENT ON VIEW report_project_rates IS
    'Project rates per month: start rate (开工率) and funds arrival rate (资金到位率) of the '
    'projects signed in the month (signed_on), fulfilment rate (履约率) of the signed projects '
    'whose agreed start date falls in the month and has come (agreed_start_on <= today). A row '
    'for every month with a signing or a due project. Counts include projects dropped since; '
    'amounts leave them out. Amounts in 亿元; rates as fractions 0..1, NULL when the '
    'denominator is 0.';
COMMENT ON COLUMN report_project_rates.month IS 'First day of the month';
COMMENT ON COLUMN report_project_rates.year IS 'Calendar year of the month';
COMMENT ON COLUMN report_project_rates.signed_projects IS
    'Projects signed in the month (signed_on), including those dropped since';
COMMENT ON COLUMN report_project_rates.started_projects IS
    'Of signed_projects: those whose construction has started (construction_started_on set)';
COMMENT ON COLUMN report_project_rates.start_rate IS
    'Start rate (开工率): started_projects / signed_projects, a fraction 0..1; NULL when none signed';
COMMENT ON COLUMN report_project_rates.agreed_investment_cny_100m IS
    'Agreed investment (协议投资) of the projects signed in the month and not dropped, in 亿元';
COMMENT ON COLUMN report_project_rates.funds_arrived_cny_100m IS
    'Funds arrived to date (到位资金) of the projects signed in the month and not dropped, in 亿元';
COMMENT ON COLUMN report_project_rates.funds_arrival_rate IS
    'Funds arrival rate (资金到位率): funds_arrived_cny_100m / agreed_investment_cny_100m, a '
    'fraction (above 1 when more arrived than agreed); NULL when the agreed investment is 0';
COMMENT ON COLUMN report_project_rates.due_projects IS
    'Signed projects whose agreed construction start (agreed_start_on) falls in the month and is '
    'today or earlier, including those dropped since';
COMMENT ON COLUMN report_project_rates.fulfilled_projects IS
    'Of due_projects: those that started construction on or before the agreed date';
COMMENT ON COLUMN report_project_rates.fulfilment_rate IS
    'Fulfilment rate (履约率): fulfilled_projects / due_projects, a fraction 0..1; NULL when none due';
""",
    "report_target_progress": """
-- Actual against target, per scope (city, chain, planning unit), year and metric.
CREATE OR REPLACE VIEW report_target_progress AS
SELECT
    t.id AS target_id,
    t.scope,
    t.chain_id,
    c.code AS chain_code,
    c.name_zh AS chain_name_zh,
    t.district_id,
    d.code AS district_code,
    d.name_zh AS district_name_zh,
    t.year,
    t.metric,
    t.unit,
    t.target_value,
    t.actual_value,
    t.actual_value / NULLIF(t.target_value, 0) AS progress,
    t.target_value - t.actual_value AS remaining_value
FROM target AS t
LEFT JOIN chain AS c ON c.id = t.chain_id
LEFT JOIN district AS d ON d.id = t.district_id;

COMMENT ON VIEW report_target_progress IS
    'Target progress: one row per target (scope, year, metric) with its actual value, the share '
    'reached and what remains. Both values are in the row''s unit.';
COMMENT ON COLUMN report_target_progress.target_id IS 'The target row (target.id)';
COMMENT ON COLUMN report_target_progress.scope IS 'city, chain or district (a planning unit)';
COMMENT ON COLUMN report_target_progress.chain_id IS 'The chain, for scope chain; else NULL';
COMMENT ON COLUMN report_target_progress.chain_code IS 'Natural key of the chain, for scope chain';
COMMENT ON COLUMN report_target_progress.chain_name_zh IS
    'Chinese name of the chain, for scope chain';
COMMENT ON COLUMN report_target_progress.district_id IS
    'The planning unit, for scope district; else NULL';
COMMENT ON COLUMN report_target_progress.district_code IS
    'Natural key of the planning unit, for scope district';
COMMENT ON COLUMN report_target_progress.district_name_zh IS
    'Chinese name of the planning unit, for scope district';
COMMENT ON COLUMN report_target_progress.year IS 'Calendar year';
COMMENT ON COLUMN report_target_progress.metric IS
    'industrial_revenue (规上工业营收), iconic_chains_revenue, chain_revenue, industrial_profit, '
    'projects_signed or investment_signed';
COMMENT ON COLUMN report_target_progress.unit IS
    'Unit of target_value, actual_value and remaining_value: cny_100m (亿元), count or percent';
COMMENT ON COLUMN report_target_progress.target_value IS 'Target for the year, in unit';
COMMENT ON COLUMN report_target_progress.actual_value IS
    'Actual value for the year, in unit; NULL when not yet known';
COMMENT ON COLUMN report_target_progress.progress IS
    'actual_value / target_value, a fraction (1 = target met); NULL when either is NULL or the '
    'target is 0';
COMMENT ON COLUMN report_target_progress.remaining_value IS
    'target_value - actual_value, in unit (negative when exceeded); NULL when either is NULL';
""",
    "report_designations": """
-- The quality ladder (优质企业梯度): enterprises per designation type and level, for the whole
-- city, per chain and per planning unit.
CREATE OR REPLACE VIEW report_designations AS
WITH valid_designation AS (
    SELECT DISTINCT d.enterprise_id, d.type, d.level
    FROM designation AS d
    WHERE d.valid_until IS NULL
       OR d.valid_until >= current_date
),
live_role AS (
    SELECT DISTINCT r.enterprise_id, r.chain_id
    FROM chain_role AS r
    WHERE (r.since IS NULL OR r.since <= current_date)
      AND (r.until IS NULL OR r.until >= current_date)
),
designated AS (
    -- One row per designation and chain of the enterprise (chain NULL when it has no role).
    SELECT
        v.enterprise_id,
        v.type,
        v.level,
        e.district_id IS NOT NULL AS local,
        e.district_id,
        dist.code AS district_code,
        r.chain_id,
        c.code AS chain_code
    FROM valid_designation AS v
    JOIN enterprise AS e ON e.id = v.enterprise_id
    LEFT JOIN district AS dist ON dist.id = e.district_id
    LEFT JOIN live_role AS r ON r.enterprise_id = v.enterprise_id
    LEFT JOIN chain AS c ON c.id = r.chain_id
)
SELECT
    CASE
        WHEN GROUPING(chain_id) = 0 THEN 'chain'
        WHEN GROUPING(district_id) = 0 THEN 'district'
        ELSE 'city'
    END AS scope,
    chain_id,
    chain_code,
    district_id,
    district_code,
    type AS designation_type,
    level,
    count(DISTINCT enterprise_id) AS enterprises
FROM designated
GROUP BY GROUPING SETS (
    (local, type, level),
    (chain_id, chain_code, type, level),
    (district_id, district_code, type, level)
)
HAVING (GROUPING(local) = 0 AND local)
    OR (GROUPING(chain_id) = 0 AND chain_id IS NOT NULL)
    OR (GROUPING(district_id) = 0 AND district_id IS NOT NULL);

COMMENT ON VIEW report_designations IS
    'The quality ladder (优质企业梯度: 创新型中小企业 → 专精特新 → 小巨人, and 单项冠军, 高新技术, '
    '瞪羚, 独角兽): distinct enterprises holding a designation valid today, per type and level, '
    'for the city (local enterprises), per chain (enterprises with a role live today in it, '
    'local or not) and per planning unit (its enterprises). One row per scope, key, type and '
    'level with at least one enterprise.';
COMMENT ON COLUMN report_designations.scope IS
    'city (local enterprises), chain (chain_id set) or district (district_id set)';
COMMENT ON COLUMN report_designations.chain_id IS 'The chain, for scope chain; else NULL';
COMMENT ON COLUMN report_designations.chain_code IS 'Natural key of the chain, for scope chain';
COMMENT ON COLUMN report_designations.district_id IS
    'The planning unit, for scope district; else NULL';
COMMENT ON COLUMN report_designations.district_code IS
    'Natural key of the planning unit, for scope district';
COMMENT ON COLUMN report_designations.designation_type IS
    'innovative_sme (创新型中小企业), specialized_sme (专精特新中小企业), little_giant (小巨人), '
    'single_champion (单项冠军), high_tech (高新技术企业), gazelle (瞪羚) or unicorn (独角兽)';
COMMENT ON COLUMN report_designations.level IS
    'national, provincial or city: the level that granted it';
COMMENT ON COLUMN report_designations.enterprises IS
    'Distinct enterprises of the scope holding a designation of that type and level valid today '
    '(valid_until NULL or today or later)';
""",
}

FUNCTIONS = ["supplier_tiers(bigint, integer)"]


def upgrade() -> None:
    for statements in VIEW_SQL.values():
        op.execute(statements)


def downgrade() -> None:
    for name in reversed(VIEW_SQL):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
