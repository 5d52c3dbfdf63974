"""One home per concept: "role held on a day", "not ended by a day", "local enterprise", "the
segments below a segment", "gap" and "local supply rate" each defined once, as SQL functions that
the reporting views, the triggers and the application all call.

- role_held_on(chain_role, date), role_not_ended(chain_role, date), is_local(enterprise): SQL
  functions of a row (is_local(e) may be written e.is_local); SQL-standard bodies, so that the
  planner inlines them into the query that calls them (the same plan as the expression written
  out) and their tables are bound when created, whatever the caller's search_path.
- segment_subtrees(chain): every segment with itself and each segment below it; chain_gaps(chain,
  day): the segments in which, and below which, no local enterprise holds a role held that day
  or supplies through an active link (the chain map's gaps and report_chain_gaps' rows);
  supply_totals(master): per chain, a chain master's active and proposed links, their values and
  the local supply rate by count and by value (report_chain_master_suppliers and the chain
  master's page).
- holds_chain_master_role(), supplier_tier_rebuild() and supplier_tiers() call role_held_on;
  the reporting views that counted roles held today, local enterprises, gaps or the local supply
  rate are created again calling the functions (same columns, same rows).

The SQL is copied here as it is at this revision (chaindb/reports/sql/ holds the current
version). Downgrade restores the previous views and functions.

Revision ID: 8d4f6a2c1e73
Revises: 3e7a9c1d5b20
Create Date: 2026-12-04 06:00:00.000000+00:00
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "8d4f6a2c1e73"
down_revision: str | Sequence[str] | None = "3e7a9c1d5b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# pg_advisory_xact_lock's key for keeping supplier_tier (as in b81f3c6e2d47).
LOCK_KEY = 0x51A7_2E0C_9D3B_4F16

# In creation order (a function after those it calls), with their argument types.
CONCEPTS = {
    "role_held_on(chain_role, date)": """
CREATE FUNCTION role_held_on(r chain_role, day date) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (r.since IS NULL OR r.since <= day) AND (r.until IS NULL OR r.until >= day)
""",
    "role_not_ended(chain_role, date)": """
CREATE FUNCTION role_not_ended(r chain_role, day date) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN r.until IS NULL OR r.until >= day
""",
    "is_local(enterprise)": """
CREATE FUNCTION is_local(e enterprise) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN e.district_id IS NOT NULL
""",
    "segment_subtrees(bigint)": """
CREATE FUNCTION segment_subtrees(in_chain bigint DEFAULT NULL)
RETURNS TABLE (chain_id bigint, top_id bigint, segment_id bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
WITH RECURSIVE subtree (chain_id, top_id, segment_id, seen) AS (
    SELECT s.chain_id, s.id, s.id, ARRAY[s.id]
    FROM chain_segment AS s
    WHERE in_chain IS NULL OR s.chain_id = in_chain
    UNION ALL
    SELECT s.chain_id, t.top_id, s.id, t.seen || s.id
    FROM subtree AS t
    JOIN chain_segment AS s ON s.parent_id = t.segment_id
    WHERE s.id <> ALL (t.seen)
)
SELECT subtree.chain_id, subtree.top_id, subtree.segment_id
FROM subtree;
END
""",
    "chain_gaps(bigint, date)": """
CREATE FUNCTION chain_gaps(in_chain bigint DEFAULT NULL, on_day date DEFAULT current_date)
RETURNS TABLE (chain_id bigint, segment_id bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
WITH served (segment_id) AS (
    SELECT s.id
    FROM chain_segment AS s
    WHERE (in_chain IS NULL OR s.chain_id = in_chain)
      AND (
            -- A local enterprise holds a role with the segment that day ...
            EXISTS (
                SELECT 1
                FROM chain_role AS r
                JOIN enterprise AS e ON e.id = r.enterprise_id
                WHERE r.segment_id = s.id
                  AND role_held_on(r, on_day)
                  AND is_local(e)
            )
            -- ... or supplies in it through an active link.
            OR EXISTS (
                SELECT 1
                FROM supply_link AS l
                JOIN enterprise AS e ON e.id = l.supplier_id
                WHERE l.chain_id = s.chain_id
                  AND l.segment_id = s.id
                  AND l.status = 'active'
                  AND is_local(e)
            )
          )
)
SELECT s.chain_id, s.id
FROM chain_segment AS s
WHERE (in_chain IS NULL OR s.chain_id = in_chain)
  AND NOT EXISTS (
        SELECT 1
        FROM segment_subtrees(in_chain) AS t
        JOIN served AS d ON d.segment_id = t.segment_id
        WHERE t.top_id = s.id
      );
END
""",
    "supply_totals(bigint)": """
CREATE FUNCTION supply_totals(master bigint DEFAULT NULL)
RETURNS TABLE (
    buyer_id bigint,
    chain_id bigint,
    active_links bigint,
    local_active_links bigint,
    links_with_value bigint,
    value_cny_10k numeric,
    local_value_cny_10k numeric,
    local_supply_rate_by_value numeric,
    local_supply_rate_by_count numeric,
    proposed_links bigint
)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
SELECT
    l.buyer_id,
    l.chain_id,
    count(*) FILTER (WHERE l.status = 'active'),
    count(*) FILTER (WHERE l.status = 'active' AND is_local(e)),
    count(l.annual_value_cny_10k) FILTER (WHERE l.status = 'active'),
    COALESCE(sum(l.annual_value_cny_10k) FILTER (WHERE l.status = 'active'), 0),
    COALESCE(sum(l.annual_value_cny_10k) FILTER (WHERE l.status = 'active' AND is_local(e)), 0),
    COALESCE(sum(l.annual_value_cny_10k) FILTER (WHERE l.status = 'active' AND is_local(e)), 0)
        / NULLIF(sum(l.annual_value_cny_10k) FILTER (WHERE l.status = 'active'), 0),
    count(*) FILTER (WHERE l.status = 'active' AND is_local(e))::numeric
        / NULLIF(count(*) FILTER (WHERE l.status = 'active'), 0),
    count(*) FILTER (WHERE l.status = 'proposed')
FROM supply_link AS l
JOIN enterprise AS e ON e.id = l.supplier_id
WHERE (master IS NULL OR l.buyer_id = master)
  AND l.status IN ('active', 'proposed')
GROUP BY l.buyer_id, l.chain_id;
END
""",
}

COMMENTS = {
    "role_held_on(chain_role, date)": "The role holds on that day: begun by then (or begun on a "
    "day not known) and not ended before it. The one definition of a role held",
    "role_not_ended(chain_role, date)": "The role has not ended by that day: it holds, or begins "
    "later (the lists that plan ahead count it)",
    "is_local(enterprise)": "The enterprise is local: it is located in one of the city's planning "
    "units (district_id set). The one definition of local; e.is_local works too",
    "segment_subtrees(bigint)": "Every segment of the chain (NULL: of every chain) with itself and "
    "each segment below it, as (chain_id, top_id, segment_id)",
    "chain_gaps(bigint, date)": "The gaps (缺链环节) of the chain (NULL: of every chain) on that "
    "day (default today): the segments in which and below which no local enterprise holds a role "
    "held that day or supplies through an active link. The one definition of a gap",
    "supply_totals(bigint)": "Per buyer (the chain master; NULL: every buyer) and chain, the "
    "live supply links (active and proposed): their counts, their known values in 万元, and the "
    "local supply rate (本地配套率) by value "
    "and by count over the active ones (NULL when nothing to divide by). The one definition of "
    "the local supply rate",
}

HOLDS_CHAIN_MASTER_ROLE = """
CREATE OR REPLACE FUNCTION holds_chain_master_role(enterprise bigint, in_chain bigint, on_day date)
RETURNS boolean LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
  RETURN EXISTS (
    SELECT 1 FROM chain_role r
    WHERE r.enterprise_id = enterprise AND r.chain_id = in_chain AND r.role = 'chain_master'
      AND (on_day IS NULL OR role_held_on(r, on_day))
  );
END
$$
"""

SUPPLIER_TIER_REBUILD = f"""
CREATE OR REPLACE FUNCTION supplier_tier_rebuild(masters bigint[] DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
DECLARE
  written integer;
BEGIN
  PERFORM pg_advisory_xact_lock({LOCK_KEY});
  IF masters IS NULL THEN
    DELETE FROM supplier_tier_stale;
    DELETE FROM supplier_tier;
  ELSE
    DELETE FROM supplier_tier WHERE chain_master_id = ANY (masters);
  END IF;
  INSERT INTO supplier_tier (chain_master_id, chain_id, supplier_id, tier, via_buyer_id, path)
  SELECT t.chain_master_id, t.chain_id, t.supplier_id, t.tier, t.via_buyer_id, t.path
  FROM (
    SELECT DISTINCT r.enterprise_id
    FROM chain_role AS r
    WHERE r.role = 'chain_master'
      AND role_held_on(r, current_date)
      AND (masters IS NULL OR r.enterprise_id = ANY (masters))
  ) AS m
  CROSS JOIN LATERAL supplier_tiers(m.enterprise_id, 5) AS t;
  GET DIAGNOSTICS written = ROW_COUNT;
  RETURN written;
END
$$
"""

# The views created again, in creation order (a view after those it reads).
VIEW_SQL = {
    "report_chain_overview": """
-- One row per chain: its enterprises, suppliers, projects by stage and amounts.
-- Materialized: as a plain view it took 350 ms at synthetic scale 1. Its rows are those of the
-- last refresh (chaindb.reports.refresh: REFRESH ... CONCURRENTLY, which needs the unique
-- index below). Dropped and created again, never replaced; created WITH DATA.
DROP MATERIALIZED VIEW IF EXISTS report_chain_overview;
CREATE MATERIALIZED VIEW report_chain_overview AS
WITH live_role AS (
    SELECT r.chain_id, r.enterprise_id, r.role
    FROM chain_role AS r
    WHERE role_held_on(r, current_date)
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
        count(*) FILTER (WHERE is_local(e)) AS local_suppliers,
        count(*) FILTER (WHERE NOT is_local(e)) AS nonlocal_suppliers,
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

CREATE UNIQUE INDEX uq_report_chain_overview_chain_id ON report_chain_overview (chain_id);

COMMENT ON MATERIALIZED VIEW report_chain_overview IS
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
""",
    "report_chain_gaps": """
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
-- Its tables by name whatever the caller's search_path: REFRESH MATERIALIZED VIEW runs it with
-- search_path pg_catalog, pg_temp from PostgreSQL 17 on.
SET search_path = public, pg_temp
AS $$
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
-- refresh). A write to a supply link or a chain-master role queues its enterprise
-- (supplier_tier_stale); supplier_tier_catch_up() rebuilds the chain masters whose tiers hold it,
-- supplier_tier_rebuild() all of them. The names and where each enterprise sits are read live.
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
    "report_district_chain_matrix": """
-- Every planning unit by every chain: enterprises, projects and amounts; zeros where nothing.
-- Materialized: as a plain view it took 114 ms at synthetic scale 1 (394 ms under load). Its rows
-- are those of the last refresh, which follows a write within seconds (chaindb.reports.listener).
-- Dropped and created again, never replaced; created WITH DATA.
DROP MATERIALIZED VIEW IF EXISTS report_district_chain_matrix;
CREATE MATERIALIZED VIEW report_district_chain_matrix AS
WITH role_counts AS (
    SELECT
        e.district_id,
        r.chain_id,
        count(DISTINCT r.enterprise_id) AS enterprises
    FROM chain_role AS r
    JOIN enterprise AS e ON e.id = r.enterprise_id
    WHERE is_local(e)
      AND role_held_on(r, current_date)
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

CREATE UNIQUE INDEX uq_report_district_chain_matrix_district_id_chain_id
    ON report_district_chain_matrix (district_id, chain_id);
CREATE INDEX ix_report_district_chain_matrix_chain_id ON report_district_chain_matrix (chain_id);

COMMENT ON MATERIALIZED VIEW report_district_chain_matrix IS
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
chain_member AS (
    -- The chains of the designated enterprises (a role live today), one row per pair.
    SELECT DISTINCT r.enterprise_id, r.chain_id
    FROM chain_role AS r
    WHERE r.enterprise_id IN (SELECT v.enterprise_id FROM valid_designation AS v)
      AND role_held_on(r, current_date)
)
SELECT
    'city'::text AS scope,
    NULL::bigint AS chain_id,
    NULL::character varying(40) AS chain_code,
    NULL::bigint AS district_id,
    NULL::character varying(16) AS district_code,
    v.type AS designation_type,
    v.level,
    count(*) AS enterprises
FROM valid_designation AS v
JOIN enterprise AS e ON e.id = v.enterprise_id
WHERE is_local(e)
GROUP BY v.type, v.level
UNION ALL
SELECT
    'chain'::text,
    m.chain_id,
    c.code,
    NULL::bigint,
    NULL::character varying(16),
    v.type,
    v.level,
    count(*)
FROM valid_designation AS v
JOIN chain_member AS m ON m.enterprise_id = v.enterprise_id
JOIN chain AS c ON c.id = m.chain_id
GROUP BY m.chain_id, c.code, v.type, v.level
UNION ALL
SELECT
    'district'::text,
    NULL::bigint,
    NULL::character varying(40),
    e.district_id,
    dist.code,
    v.type,
    v.level,
    count(*)
FROM valid_designation AS v
JOIN enterprise AS e ON e.id = v.enterprise_id
JOIN district AS dist ON dist.id = e.district_id
GROUP BY e.district_id, dist.code, v.type, v.level;

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
MATERIALIZED = (
    "report_chain_overview",
    "report_chain_master_suppliers",
    "report_chain_gaps",
    "report_gap_candidates",
    "report_district_chain_matrix",
)
# The migrations that last created each view before this one, newest first.
EARLIER = ("7c21d5e8a4f0", "b81f3c6e2d47", "f0d0aa0340fa", "3a0bd0a8377d", "e41f7c2a9b63")


def _released(revision_id: str):
    """A released migration's module, for its SQL (never copied: it must not change)."""
    (path,) = Path(__file__).parent.glob(f"*_{revision_id}_*.py")
    spec = importlib.util.spec_from_file_location(f"_chaindb_revision_{revision_id}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _drop_views() -> None:
    """Drop the views of VIEW_SQL, readers first (the supplier tiers' view is a plain view)."""
    for name in reversed(VIEW_SQL):
        kind = "MATERIALIZED VIEW" if name in MATERIALIZED else "VIEW"
        op.execute(f"DROP {kind} IF EXISTS {name}")


def _refreshed_now() -> None:
    listed = ", ".join(repr(name) for name in MATERIALIZED)
    op.execute(
        "INSERT INTO report_refresh (view_name, refreshed_at) "
        f"SELECT unnest(ARRAY[{listed}]), now() "
        "ON CONFLICT (view_name) DO UPDATE SET refreshed_at = EXCLUDED.refreshed_at, seconds = NULL"
    )


def upgrade() -> None:
    for signature, create in CONCEPTS.items():
        op.execute(create)
        comment = COMMENTS[signature].replace("'", "''")
        op.execute(f"COMMENT ON FUNCTION {signature} IS '{comment}'")
    op.execute(HOLDS_CHAIN_MASTER_ROLE)
    gap = _released("f0d0aa0340fa")
    gap._keep_grants(list(VIEW_SQL))
    _drop_views()
    for name in VIEW_SQL:
        op.execute(VIEW_SQL[name])  # report_supplier_tiers' creates supplier_tiers() again
    op.execute(SUPPLIER_TIER_REBUILD)
    gap._grant_again()
    for name in MATERIALIZED:
        op.execute(f"ANALYZE {name}")
    # Created WITH DATA just now: the figures are as of this migration.
    _refreshed_now()


def downgrade() -> None:
    modules = [_released(revision_id) for revision_id in EARLIER]
    gap = _released("f0d0aa0340fa")
    gap._keep_grants(list(VIEW_SQL))
    _drop_views()
    for name in VIEW_SQL:
        (previous,) = [m.VIEW_SQL[name] for m in modules if name in m.VIEW_SQL][:1]
        op.execute(previous)
    gap._grant_again()
    (rebuild,) = [
        f
        for f in _released("b81f3c6e2d47").FUNCTIONS
        if "CREATE FUNCTION supplier_tier_rebuild(" in f
    ]
    op.execute(rebuild.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    (holds,) = [
        f
        for f in _released("1cce829687d1").FUNCTIONS
        if "CREATE FUNCTION holds_chain_master_role(" in f
    ]
    op.execute(holds.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    for signature in reversed(CONCEPTS):
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    _refreshed_now()
