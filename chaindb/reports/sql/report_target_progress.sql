-- Actual against target, per scope (city, chain, planning unit), year and metric: every target
-- the data holds (the target table's, and the chains' 2030 targets kept on the chain itself).
CREATE OR REPLACE VIEW report_target_progress AS
WITH goal AS (
    SELECT
        t.id AS target_id, t.scope, t.chain_id, t.district_id, t.year, t.metric, t.unit,
        t.target_value, t.actual_value, 'target'::text AS origin
    FROM target AS t
    WHERE t.target_value IS NOT NULL
    UNION ALL
    -- A chain's 2030 scale target (chain.target_2030_cny_100m), unless the target table holds
    -- that chain's 2030 revenue target itself.
    SELECT
        NULL, 'chain'::character varying(8), c.id, NULL, 2030::smallint,
        'chain_revenue'::character varying(32), 'cny_100m'::character varying(10),
        c.target_2030_cny_100m::numeric(16, 4), NULL::numeric(16, 4), 'chain'
    FROM chain AS c
    WHERE c.target_2030_cny_100m IS NOT NULL
      AND NOT EXISTS (
            SELECT 1
            FROM target AS t
            WHERE t.scope = 'chain' AND t.chain_id = c.id AND t.year = 2030
              AND t.metric = 'chain_revenue' AND t.target_value IS NOT NULL
        )
),
measured AS (
    -- Each goal with the actual it is measured by: its own when known, else the latest earlier
    -- actual of the same scope and place in the same unit, of the same metric or, for a
    -- revenue target, of any revenue metric (the city's 2025 goal for the 13 chains against the
    -- industrial revenue of 2024).
    SELECT
        g.*,
        a.actual_value AS latest_value,
        a.year AS latest_year,
        a.metric AS latest_metric
    FROM goal AS g
    LEFT JOIN LATERAL (
        SELECT t.actual_value, t.year, t.metric
        FROM target AS t
        WHERE g.actual_value IS NULL
          AND t.actual_value IS NOT NULL
          AND t.scope = g.scope
          AND t.chain_id IS NOT DISTINCT FROM g.chain_id
          AND t.district_id IS NOT DISTINCT FROM g.district_id
          AND t.unit = g.unit
          AND t.year <= g.year
          AND (t.metric = g.metric
               OR (g.metric IN ('industrial_revenue', 'iconic_chains_revenue', 'chain_revenue')
                   AND t.metric IN ('industrial_revenue', 'iconic_chains_revenue',
                                    'chain_revenue')))
        ORDER BY t.year DESC, (t.metric = g.metric) DESC, t.id
        LIMIT 1
    ) AS a ON true
)
SELECT
    m.target_id,
    m.scope,
    m.chain_id,
    c.code AS chain_code,
    c.name_zh AS chain_name_zh,
    m.district_id,
    d.code AS district_code,
    d.name_zh AS district_name_zh,
    m.year,
    m.metric,
    m.unit,
    m.target_value,
    COALESCE(m.actual_value, m.latest_value) AS actual_value,
    COALESCE(m.actual_value, m.latest_value) / NULLIF(m.target_value, 0) AS progress,
    m.target_value - COALESCE(m.actual_value, m.latest_value) AS remaining_value,
    CASE WHEN m.actual_value IS NOT NULL THEN m.year ELSE m.latest_year END AS actual_year,
    CASE WHEN m.actual_value IS NOT NULL THEN m.metric ELSE m.latest_metric END AS actual_metric,
    m.origin
FROM measured AS m
LEFT JOIN chain AS c ON c.id = m.chain_id
LEFT JOIN district AS d ON d.id = m.district_id;

COMMENT ON VIEW report_target_progress IS
    'Target progress: one row per target (scope, year, metric) the data holds: the target '
    'table''s rows that have a target value, and the chains'' 2030 scale targets '
    '(chain.target_2030_cny_100m). Each with the actual it is measured by (its own, else the '
    'latest earlier actual of the same scope, place and unit: the same metric or, for revenue, '
    'any revenue metric; actual_year and actual_metric say which), the share reached and what '
    'remains. Both values are in the row''s unit.';
COMMENT ON COLUMN report_target_progress.target_id IS
    'The target row (target.id); NULL for a chain''s 2030 target kept on the chain';
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
    'The actual the target is measured by, in unit: the year''s own, else the latest earlier '
    'one (actual_year, actual_metric); NULL when none is known';
COMMENT ON COLUMN report_target_progress.progress IS
    'actual_value / target_value, a fraction (1 = target met); NULL when either is NULL or the '
    'target is 0';
COMMENT ON COLUMN report_target_progress.remaining_value IS
    'target_value - actual_value, in unit (negative when exceeded); NULL when either is NULL';
COMMENT ON COLUMN report_target_progress.actual_year IS
    'The year of actual_value: the target''s year, or an earlier one when the target''s own '
    'actual is not yet known';
COMMENT ON COLUMN report_target_progress.actual_metric IS
    'The metric of actual_value: the target''s, or another revenue metric (e.g. the industrial '
    'revenue measuring the 13 chains'' goal)';
COMMENT ON COLUMN report_target_progress.origin IS
    'Where the target is kept: target (the target table) or chain (chain.target_2030_cny_100m)';
