-- Per month: start rate and funds arrival rate of the approved projects signed that month,
-- fulfilment rate of those due to start that month (and, beside them, the signed and started
-- projects as the units report them, reviewed or not); a row with no month for the projects signed on
-- an unknown day. "Signed" and "started" are the milestones of report_project_milestones.
-- Materialized: as a plain view it took 170 ms at synthetic scale 1. Its rows are those of the
-- last refresh, which follows a write to project within seconds, and each new day (the due
-- projects are those due by today). Dropped and created again, never replaced; created WITH
-- DATA.
DROP MATERIALIZED VIEW IF EXISTS report_project_rates;
CREATE MATERIALIZED VIEW report_project_rates AS
WITH milestone AS (
    -- Approved (as last approved) and reported (approved or not), told apart by approved.
    SELECT true AS approved, m.project_id, m.stage, m.reached_on
    FROM project_approved_milestone AS m
    WHERE m.stage IN ('signed', 'under_construction')
    UNION ALL
    SELECT false, m.project_id, m.stage, m.reached_on
    FROM project_milestone AS m
    WHERE m.stage IN ('signed', 'under_construction')
),
counted AS (
    SELECT true AS approved, p.id, p.stage, p.agreed_investment_cny_100m,
           p.funds_arrived_cny_100m, p.agreed_start_on
    FROM project_approved AS p
    UNION ALL
    SELECT false, p.id, p.stage, p.agreed_investment_cny_100m, p.funds_arrived_cny_100m,
           p.agreed_start_on
    FROM project AS p
),
reach AS (
    SELECT
        m.approved,
        m.project_id,
        min(m.reached_on) FILTER (WHERE m.stage = 'signed') AS signed_on,
        bool_or(m.stage = 'under_construction') AS started,
        min(m.reached_on) FILTER (WHERE m.stage = 'under_construction') AS started_on
    FROM milestone AS m
    GROUP BY m.approved, m.project_id
    HAVING bool_or(m.stage = 'signed')
),
signed AS (
    SELECT
        r.approved,
        date_trunc('month', r.signed_on)::date AS month,
        count(*) AS signed_projects,
        count(*) FILTER (WHERE r.started) AS started_projects,
        count(*) FILTER (WHERE r.started AND r.started_on IS NULL) AS started_date_unknown,
        sum(p.agreed_investment_cny_100m) FILTER (WHERE p.stage <> 'dropped') AS agreed_investment,
        sum(p.funds_arrived_cny_100m) FILTER (WHERE p.stage <> 'dropped') AS funds_arrived
    FROM reach AS r
    JOIN counted AS p ON p.approved = r.approved AND p.id = r.project_id
    GROUP BY r.approved, date_trunc('month', r.signed_on)::date
),
due AS (
    SELECT
        r.approved,
        date_trunc('month', p.agreed_start_on)::date AS month,
        count(*) AS due_projects,
        count(*) FILTER (WHERE r.started_on <= p.agreed_start_on) AS fulfilled_projects
    FROM reach AS r
    JOIN counted AS p ON p.approved = r.approved AND p.id = r.project_id
    WHERE p.agreed_start_on <= current_date
    GROUP BY r.approved, date_trunc('month', p.agreed_start_on)::date
),
month_totals AS (
    SELECT
        COALESCE(s.approved, d.approved) AS approved,
        COALESCE(s.month, d.month) AS month,
        COALESCE(s.signed_projects, 0) AS signed_projects,
        COALESCE(s.started_projects, 0) AS started_projects,
        COALESCE(s.started_date_unknown, 0) AS started_date_unknown,
        COALESCE(s.agreed_investment, 0) AS agreed_investment,
        COALESCE(s.funds_arrived, 0) AS funds_arrived,
        COALESCE(d.due_projects, 0) AS due_projects,
        COALESCE(d.fulfilled_projects, 0) AS fulfilled_projects
    FROM signed AS s
    FULL JOIN due AS d ON d.approved = s.approved AND d.month = s.month
),
per_month AS (
    SELECT
        t.month,
        COALESCE(sum(t.signed_projects) FILTER (WHERE t.approved), 0) AS signed_projects,
        COALESCE(sum(t.started_projects) FILTER (WHERE t.approved), 0) AS started_projects,
        COALESCE(sum(t.started_date_unknown) FILTER (WHERE t.approved), 0)
            AS started_date_unknown,
        COALESCE(sum(t.agreed_investment) FILTER (WHERE t.approved), 0) AS agreed_investment,
        COALESCE(sum(t.funds_arrived) FILTER (WHERE t.approved), 0) AS funds_arrived,
        COALESCE(sum(t.due_projects) FILTER (WHERE t.approved), 0) AS due_projects,
        COALESCE(sum(t.fulfilled_projects) FILTER (WHERE t.approved), 0) AS fulfilled_projects,
        COALESCE(sum(t.signed_projects) FILTER (WHERE NOT t.approved), 0)
            AS signed_projects_reported,
        COALESCE(sum(t.started_projects) FILTER (WHERE NOT t.approved), 0)
            AS started_projects_reported
    FROM month_totals AS t
    GROUP BY t.month
)
SELECT
    t.month,
    extract(year FROM t.month)::integer AS year,
    t.signed_projects::bigint AS signed_projects,
    t.started_projects::bigint AS started_projects,
    t.started_date_unknown::bigint AS started_date_unknown,
    t.started_projects::numeric / NULLIF(t.signed_projects, 0) AS start_rate,
    t.agreed_investment AS agreed_investment_cny_100m,
    t.funds_arrived AS funds_arrived_cny_100m,
    t.funds_arrived / NULLIF(t.agreed_investment, 0) AS funds_arrival_rate,
    t.due_projects::bigint AS due_projects,
    t.fulfilled_projects::bigint AS fulfilled_projects,
    t.fulfilled_projects::numeric / NULLIF(t.due_projects, 0) AS fulfilment_rate,
    t.signed_projects_reported::bigint AS signed_projects_reported,
    t.started_projects_reported::bigint AS started_projects_reported,
    t.started_projects_reported::numeric / NULLIF(t.signed_projects_reported, 0)
        AS start_rate_reported
FROM per_month AS t;

CREATE UNIQUE INDEX uq_report_project_rates_month
    ON report_project_rates (month) NULLS NOT DISTINCT;

COMMENT ON MATERIALIZED VIEW report_project_rates IS
    'Project rates per month, of the approved projects (as last approved): start rate (开工率) '
    'and funds arrival rate (资金到位率) of the projects signed in the month, fulfilment rate (履约率) of the signed projects '
    'whose agreed start date falls in the month and has come (agreed_start_on <= today). A row '
    'for every month with a signing or a due project. Counts include projects dropped since; '
    'amounts leave them out. Amounts in 亿元; rates as fractions 0..1, NULL when the '
    'denominator is 0. Signed and started are the milestones of report_project_milestones: a '
    'project that reached a later stage has passed them; the projects signed on an unknown day '
    'are in the row whose month is NULL.';
COMMENT ON COLUMN report_project_rates.month IS 'First day of the month; NULL for the projects signed on an unknown day';
COMMENT ON COLUMN report_project_rates.year IS 'Calendar year of the month';
COMMENT ON COLUMN report_project_rates.signed_projects IS
    'Projects that reached 签约 in the month, including those dropped since';
COMMENT ON COLUMN report_project_rates.started_projects IS
    'Of signed_projects: those that have started construction (reached 开工, or a later stage, '
    'with or without a recorded day)';
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
    'Of due_projects: those that started construction on or before the agreed date (a start on '
    'an unknown day is not counted)';
COMMENT ON COLUMN report_project_rates.fulfilment_rate IS
    'Fulfilment rate (履约率): fulfilled_projects / due_projects, a fraction 0..1; NULL when none due';
COMMENT ON COLUMN report_project_rates.signed_projects_reported IS
    'Projects that reached 签约 in the month as the units report them (approved or not)';
COMMENT ON COLUMN report_project_rates.started_projects_reported IS
    'Of signed_projects_reported: those that have started construction';
COMMENT ON COLUMN report_project_rates.start_rate_reported IS
    'Start rate of the reported projects: started_projects_reported / signed_projects_reported; '
    'NULL when none signed';
COMMENT ON COLUMN report_project_rates.started_date_unknown IS
    'Of started_projects: those whose day of starting construction (开工日期) is unknown (they '
    'passed 开工 without it being recorded)';
