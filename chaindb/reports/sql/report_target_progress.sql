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
