-- 招商引资工作进度: per planning unit, for a month and the year to date, the approved projects
-- that were signed, started construction and started production, with their agreed investment
-- and funds arrived, above a threshold. monthly_progress() is the one definition; the view is
-- that function for every month of this year and the last, with no threshold.
CREATE OR REPLACE FUNCTION monthly_progress(
    month date,
    min_investment_cny_100m numeric DEFAULT 0,
    approved boolean DEFAULT true
)
RETURNS TABLE (
    district_id bigint,
    district_code character varying,
    district_name_zh text,
    unit_id bigint,
    unit_name_zh text,
    signed_month bigint,
    signed_month_agreed_cny_100m numeric,
    signed_month_arrived_cny_100m numeric,
    signed_ytd bigint,
    signed_ytd_agreed_cny_100m numeric,
    signed_ytd_arrived_cny_100m numeric,
    started_month bigint,
    started_month_agreed_cny_100m numeric,
    started_month_arrived_cny_100m numeric,
    started_ytd bigint,
    started_ytd_agreed_cny_100m numeric,
    started_ytd_arrived_cny_100m numeric,
    producing_month bigint,
    producing_month_agreed_cny_100m numeric,
    producing_month_arrived_cny_100m numeric,
    producing_ytd bigint,
    producing_ytd_agreed_cny_100m numeric,
    producing_ytd_arrived_cny_100m numeric
)
LANGUAGE sql STABLE
AS $$
WITH period AS (
    SELECT
        date_trunc('year', monthly_progress.month)::date AS year_first,
        date_trunc('month', monthly_progress.month)::date AS month_first,
        (date_trunc('month', monthly_progress.month) + interval '1 month')::date AS after
),
reached AS (
    -- The approved milestones (as last approved), or those the units report.
    SELECT m.stage, m.reached_on, p.district_id, p.agreed_investment_cny_100m,
           p.funds_arrived_cny_100m
    FROM project_approved_milestone AS m
    JOIN project_approved AS p ON p.id = m.project_id
    WHERE monthly_progress.approved
    UNION ALL
    SELECT m.stage, m.reached_on, p.district_id, p.agreed_investment_cny_100m,
           p.funds_arrived_cny_100m
    FROM project_milestone AS m
    JOIN project AS p ON p.id = m.project_id
    WHERE NOT monthly_progress.approved
),
hit AS (
    SELECT
        r.district_id,
        r.stage,
        r.reached_on >= period.month_first AS in_month,
        COALESCE(r.agreed_investment_cny_100m, 0) AS agreed,
        COALESCE(r.funds_arrived_cny_100m, 0) AS arrived
    FROM reached AS r
    CROSS JOIN period
    WHERE r.stage IN ('signed', 'under_construction', 'in_production')
      AND r.reached_on >= period.year_first
      AND r.reached_on < period.after
      AND COALESCE(r.agreed_investment_cny_100m, 0)
          >= COALESCE(monthly_progress.min_investment_cny_100m, 0)
)
SELECT
    d.id,
    d.code,
    d.name_zh,
    u.id,
    u.name_zh,
    count(*) FILTER (WHERE h.stage = 'signed' AND h.in_month),
    COALESCE(sum(h.agreed) FILTER (WHERE h.stage = 'signed' AND h.in_month), 0),
    COALESCE(sum(h.arrived) FILTER (WHERE h.stage = 'signed' AND h.in_month), 0),
    count(*) FILTER (WHERE h.stage = 'signed'),
    COALESCE(sum(h.agreed) FILTER (WHERE h.stage = 'signed'), 0),
    COALESCE(sum(h.arrived) FILTER (WHERE h.stage = 'signed'), 0),
    count(*) FILTER (WHERE h.stage = 'under_construction' AND h.in_month),
    COALESCE(sum(h.agreed) FILTER (WHERE h.stage = 'under_construction' AND h.in_month), 0),
    COALESCE(sum(h.arrived) FILTER (WHERE h.stage = 'under_construction' AND h.in_month), 0),
    count(*) FILTER (WHERE h.stage = 'under_construction'),
    COALESCE(sum(h.agreed) FILTER (WHERE h.stage = 'under_construction'), 0),
    COALESCE(sum(h.arrived) FILTER (WHERE h.stage = 'under_construction'), 0),
    count(*) FILTER (WHERE h.stage = 'in_production' AND h.in_month),
    COALESCE(sum(h.agreed) FILTER (WHERE h.stage = 'in_production' AND h.in_month), 0),
    COALESCE(sum(h.arrived) FILTER (WHERE h.stage = 'in_production' AND h.in_month), 0),
    count(*) FILTER (WHERE h.stage = 'in_production'),
    COALESCE(sum(h.agreed) FILTER (WHERE h.stage = 'in_production'), 0),
    COALESCE(sum(h.arrived) FILTER (WHERE h.stage = 'in_production'), 0)
FROM district AS d
LEFT JOIN unit AS u ON u.district_id = d.id
LEFT JOIN hit AS h ON h.district_id = d.id
GROUP BY d.id, d.code, d.name_zh, u.id, u.name_zh
$$;

COMMENT ON FUNCTION monthly_progress(date, numeric, boolean) IS
    '招商引资工作进度: one row per planning unit (with its district office) for the month of '
    '`month`: the projects that reached 签约 (signed), 开工 (started construction) and 投产 '
    '(started production) in that month and from the first of its year to its end (ytd), with '
    'their agreed investment and funds arrived in 亿元. Only projects whose agreed investment is '
    'at least min_investment_cny_100m (亿元; 0 counts those of unknown amount too). approved '
    '(the default) counts the figures as last approved (project_approved); false counts what the '
    'units report, reviewed or not. A stage counts in the month it was reached; a stage reached '
    'on an unknown day is in no month.';

DROP VIEW IF EXISTS report_monthly_progress;
CREATE VIEW report_monthly_progress AS
SELECT
    m.month::date AS month,
    f.*
FROM generate_series(
    date_trunc('year', current_date) - interval '1 year',
    date_trunc('month', current_date),
    interval '1 month'
) AS m (month)
CROSS JOIN LATERAL monthly_progress(m.month::date) AS f;

COMMENT ON VIEW report_monthly_progress IS
    '招商引资工作进度 (the monthly progress report): for each month of this year and the last, one '
    'row per planning unit: the approved projects signed (签约), started (开工) and producing '
    '(投产) in the month and in the year to date, with agreed investment and funds arrived in 亿元. '
    'Every project counts, whatever its amount; for a threshold (e.g. 5 亿元) or another period call '
    'monthly_progress(month, min_investment_cny_100m).';
COMMENT ON COLUMN report_monthly_progress.month IS 'First day of the month reported';
COMMENT ON COLUMN report_monthly_progress.district_id IS 'The planning unit (district.id)';
COMMENT ON COLUMN report_monthly_progress.district_code IS 'Natural key of the planning unit';
COMMENT ON COLUMN report_monthly_progress.district_name_zh IS 'Chinese name of the planning unit';
COMMENT ON COLUMN report_monthly_progress.unit_id IS 'The planning unit''s office (unit.id), if any';
COMMENT ON COLUMN report_monthly_progress.unit_name_zh IS 'Chinese name of that office (填报单位)';
COMMENT ON COLUMN report_monthly_progress.signed_month IS 'Approved projects signed (签约) in the month';
COMMENT ON COLUMN report_monthly_progress.signed_month_agreed_cny_100m IS
    'Their agreed investment (协议投资), in 亿元';
COMMENT ON COLUMN report_monthly_progress.signed_month_arrived_cny_100m IS
    'Their funds arrived to date (到位资金), in 亿元';
COMMENT ON COLUMN report_monthly_progress.signed_ytd IS
    'Approved projects signed from the first of the year to the end of the month';
COMMENT ON COLUMN report_monthly_progress.signed_ytd_agreed_cny_100m IS
    'Their agreed investment, in 亿元';
COMMENT ON COLUMN report_monthly_progress.signed_ytd_arrived_cny_100m IS
    'Their funds arrived to date, in 亿元';
COMMENT ON COLUMN report_monthly_progress.started_month IS
    'Approved projects that started construction (开工) in the month';
COMMENT ON COLUMN report_monthly_progress.started_month_agreed_cny_100m IS
    'Their agreed investment, in 亿元';
COMMENT ON COLUMN report_monthly_progress.started_month_arrived_cny_100m IS
    'Their funds arrived to date, in 亿元';
COMMENT ON COLUMN report_monthly_progress.started_ytd IS
    'Approved projects that started construction in the year to date';
COMMENT ON COLUMN report_monthly_progress.started_ytd_agreed_cny_100m IS
    'Their agreed investment, in 亿元';
COMMENT ON COLUMN report_monthly_progress.started_ytd_arrived_cny_100m IS
    'Their funds arrived to date, in 亿元';
COMMENT ON COLUMN report_monthly_progress.producing_month IS
    'Approved projects that started production (投产) in the month';
COMMENT ON COLUMN report_monthly_progress.producing_month_agreed_cny_100m IS
    'Their agreed investment, in 亿元';
COMMENT ON COLUMN report_monthly_progress.producing_month_arrived_cny_100m IS
    'Their funds arrived to date, in 亿元';
COMMENT ON COLUMN report_monthly_progress.producing_ytd IS
    'Approved projects that started production in the year to date';
COMMENT ON COLUMN report_monthly_progress.producing_ytd_agreed_cny_100m IS
    'Their agreed investment, in 亿元';
COMMENT ON COLUMN report_monthly_progress.producing_ytd_arrived_cny_100m IS
    'Their funds arrived to date, in 亿元';
