-- One row per chain: its enterprises, suppliers, projects by stage and amounts.
-- Kept: its figures are the table chain_overview, which the report refresher keeps chain by chain
-- (as a materialized view its refresh took 0.5 s at synthetic scale 1, after every burst of
-- writes). A write to a chain role, a supply link, a project or its approved copy, or to where a
-- supplier sits queues its chains (chain_overview_stale); chain_overview_catch_up() computes the
-- chains queued again from chain_overview_rows(), chain_overview_rebuild() every chain. The chain's
-- code, name and tier are read live, and a chain not yet kept shows zeros.
CREATE OR REPLACE FUNCTION chain_overview_rows(one_chain bigint DEFAULT NULL)
RETURNS SETOF chain_overview
LANGUAGE plpgsql
STABLE
SET search_path = public, pg_temp
AS $function$
BEGIN
  -- Planned for the chain given (EXECUTE): for one chain its rows are found by index, for
  -- every chain ($1 NULL) each table is read once.
  RETURN QUERY EXECUTE $query$
    WITH live_role AS (
        SELECT r.chain_id, r.enterprise_id, r.role
        FROM chain_role AS r
        WHERE role_held_on(r, current_date)
          AND ($1 IS NULL OR r.chain_id = $1)
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
          AND ($1 IS NULL OR l.chain_id = $1)
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
        -- As approved (project_approved), so nothing unreviewed enters the totals.
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
            sum(agreed_investment_cny_100m)
                FILTER (WHERE stage = 'negotiating') AS agreed_negotiating,
            sum(agreed_investment_cny_100m) FILTER (WHERE stage = 'signed') AS agreed_signed,
            sum(agreed_investment_cny_100m)
                FILTER (WHERE stage = 'under_construction') AS agreed_under_construction,
            sum(agreed_investment_cny_100m)
                FILTER (WHERE stage = 'in_production') AS agreed_in_production,
            sum(agreed_investment_cny_100m)
                FILTER (WHERE stage = 'at_capacity') AS agreed_at_capacity,
            sum(funds_arrived_cny_100m) FILTER (WHERE stage <> 'dropped') AS funds_arrived
        FROM project_approved
        WHERE ($1 IS NULL OR chain_id = $1)
        GROUP BY chain_id
    ),
    reported_counts AS (
        -- What the units report, reviewed or not (project): beside the approved figures.
        SELECT
            chain_id,
            count(*) AS projects,
            sum(agreed_investment_cny_100m) AS agreed_investment
        FROM project
        WHERE stage <> 'dropped'
          AND ($1 IS NULL OR chain_id = $1)
        GROUP BY chain_id
    )
    SELECT
        c.id,
        COALESCE(r.enterprises, 0),
        COALESCE(r.chain_masters, 0),
        COALESCE(r.backbones, 0),
        COALESCE(l.suppliers, 0),
        COALESCE(l.local_suppliers, 0),
        COALESCE(l.nonlocal_suppliers, 0),
        COALESCE(l.active_supply_links, 0),
        COALESCE(p.projects, 0),
        COALESCE(p.projects_lead, 0),
        COALESCE(p.projects_negotiating, 0),
        COALESCE(p.projects_signed, 0),
        COALESCE(p.projects_under_construction, 0),
        COALESCE(p.projects_in_production, 0),
        COALESCE(p.projects_at_capacity, 0),
        COALESCE(p.projects_dropped, 0),
        COALESCE(p.agreed_investment, 0),
        COALESCE(p.agreed_lead, 0),
        COALESCE(p.agreed_negotiating, 0),
        COALESCE(p.agreed_signed, 0),
        COALESCE(p.agreed_under_construction, 0),
        COALESCE(p.agreed_in_production, 0),
        COALESCE(p.agreed_at_capacity, 0),
        COALESCE(p.funds_arrived, 0),
        COALESCE(rp.projects, 0),
        COALESCE(rp.agreed_investment, 0)
    FROM chain AS c
    LEFT JOIN role_counts AS r ON r.chain_id = c.id
    LEFT JOIN link_counts AS l ON l.chain_id = c.id
    LEFT JOIN project_counts AS p ON p.chain_id = c.id
    LEFT JOIN reported_counts AS rp ON rp.chain_id = c.id
    WHERE ($1 IS NULL OR c.id = $1)
  $query$ USING one_chain;
END
$function$;

COMMENT ON FUNCTION chain_overview_rows(bigint) IS
    'The figures of report_chain_overview for the chain `one_chain` (NULL: every chain), '
    'computed from the data now (chain_overview keeps them): one row per chain that exists';

CREATE OR REPLACE VIEW report_chain_overview AS
SELECT
    c.id AS chain_id,
    c.code AS chain_code,
    c.name_zh AS chain_name_zh,
    c.tier AS chain_tier,
    COALESCE(k.enterprises, 0) AS enterprises,
    COALESCE(k.chain_masters, 0) AS chain_masters,
    COALESCE(k.backbones, 0) AS backbones,
    COALESCE(k.suppliers, 0) AS suppliers,
    COALESCE(k.local_suppliers, 0) AS local_suppliers,
    COALESCE(k.nonlocal_suppliers, 0) AS nonlocal_suppliers,
    COALESCE(k.active_supply_links, 0) AS active_supply_links,
    COALESCE(k.projects, 0) AS projects,
    COALESCE(k.projects_lead, 0) AS projects_lead,
    COALESCE(k.projects_negotiating, 0) AS projects_negotiating,
    COALESCE(k.projects_signed, 0) AS projects_signed,
    COALESCE(k.projects_under_construction, 0) AS projects_under_construction,
    COALESCE(k.projects_in_production, 0) AS projects_in_production,
    COALESCE(k.projects_at_capacity, 0) AS projects_at_capacity,
    COALESCE(k.projects_dropped, 0) AS projects_dropped,
    COALESCE(k.agreed_investment_cny_100m, 0) AS agreed_investment_cny_100m,
    COALESCE(k.agreed_lead_cny_100m, 0) AS agreed_lead_cny_100m,
    COALESCE(k.agreed_negotiating_cny_100m, 0) AS agreed_negotiating_cny_100m,
    COALESCE(k.agreed_signed_cny_100m, 0) AS agreed_signed_cny_100m,
    COALESCE(k.agreed_under_construction_cny_100m, 0) AS agreed_under_construction_cny_100m,
    COALESCE(k.agreed_in_production_cny_100m, 0) AS agreed_in_production_cny_100m,
    COALESCE(k.agreed_at_capacity_cny_100m, 0) AS agreed_at_capacity_cny_100m,
    COALESCE(k.funds_arrived_cny_100m, 0) AS funds_arrived_cny_100m,
    COALESCE(k.projects_reported, 0) AS projects_reported,
    COALESCE(k.agreed_investment_reported_cny_100m, 0) AS agreed_investment_reported_cny_100m
FROM chain AS c
LEFT JOIN chain_overview AS k ON k.chain_id = c.id;

COMMENT ON VIEW report_chain_overview IS
    'One row per industrial chain (产业链): its enterprises, chain masters, suppliers (local and '
    'non-local), projects and agreed investment by stage, funds arrived. Roles count when live '
    'today; links when active; projects and amounts leave out dropped projects unless the column '
    'names the stage dropped. Projects count as approved (project_approved: the figures last '
    'approved by the review), so nothing unreviewed enters the totals; projects_reported and '
    'agreed_investment_reported_cny_100m beside them count what the units report, reviewed or '
    'not. Amounts in 亿元 (100 million CNY); 0 where nothing.';
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
    'Investment projects of the chain, all stages but dropped, as approved';
COMMENT ON COLUMN report_chain_overview.projects_reported IS
    'Investment projects of the chain, all stages but dropped, as the units report them '
    '(approved or not: drafts, submitted, returned)';
COMMENT ON COLUMN report_chain_overview.agreed_investment_reported_cny_100m IS
    'Agreed investment (协议投资) of projects_reported, in 亿元';
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
