-- Per month and stage: the approved projects reaching the stage that month
-- (report_project_milestones), and beside them the reported ones (approved or not); a row with
-- no month for the projects whose day of reaching it is unknown.
-- Materialized: as a plain view it took 180 ms at synthetic scale 1 (88,835 milestones). Its rows
-- are those of the last refresh, which follows a write to project within seconds
-- (chaindb.reports.listener). Dropped and created again, never replaced; created WITH DATA.
DROP MATERIALIZED VIEW IF EXISTS report_project_pipeline;
CREATE MATERIALIZED VIEW report_project_pipeline AS
WITH reached AS (
    -- Approved (project_approved_milestone) and reported (project_milestone), side by side.
    SELECT
        date_trunc('month', m.reached_on)::date AS month,
        m.stage,
        count(*) AS projects,
        COALESCE(sum(p.agreed_investment_cny_100m), 0) AS agreed,
        0 AS projects_reported,
        0 AS agreed_reported
    FROM project_approved_milestone AS m
    JOIN project_approved AS p ON p.id = m.project_id
    GROUP BY date_trunc('month', m.reached_on)::date, m.stage
    UNION ALL
    SELECT
        date_trunc('month', m.reached_on)::date,
        m.stage,
        0,
        0,
        count(*),
        COALESCE(sum(p.agreed_investment_cny_100m), 0)
    FROM project_milestone AS m
    JOIN project AS p ON p.id = m.project_id
    GROUP BY date_trunc('month', m.reached_on)::date, m.stage
)
SELECT
    r.month,
    extract(year FROM r.month)::integer AS year,
    r.stage,
    sum(r.projects)::bigint AS projects,
    sum(r.agreed) AS agreed_investment_cny_100m,
    sum(r.projects_reported)::bigint AS projects_reported,
    sum(r.agreed_reported) AS agreed_investment_reported_cny_100m
FROM reached AS r
GROUP BY r.month, r.stage;

-- NULLS NOT DISTINCT (PostgreSQL 15): one "date unknown" row per stage, as REFRESH ...
-- CONCURRENTLY needs every row told apart.
CREATE UNIQUE INDEX uq_report_project_pipeline_month_stage
    ON report_project_pipeline (month, stage) NULLS NOT DISTINCT;
CREATE INDEX ix_report_project_pipeline_year ON report_project_pipeline (year);

COMMENT ON MATERIALIZED VIEW report_project_pipeline IS
    'The project pipeline per month and stage, from report_project_milestones: the approved '
    'projects that reached the stage that month (as last approved), and beside them '
    '(projects_reported) those the units report, reviewed or not. A project counts once per stage, in the month it first '
    'reached it (a move back and forth does not count it again); a project that passed a '
    'milestone without a recorded day counts in the row whose month is NULL (date unknown), '
    'never on an invented day. Amounts in 亿元.';
COMMENT ON COLUMN report_project_pipeline.month IS 'First day of the month; NULL for the projects whose day is unknown';
COMMENT ON COLUMN report_project_pipeline.year IS 'Calendar year of the month; NULL when the day is unknown';
COMMENT ON COLUMN report_project_pipeline.stage IS
    'The stage entered: lead (储备), negotiating (在谈), signed (签约), under_construction (开工), '
    'in_production (投产), at_capacity (达产) or dropped (终止)';
COMMENT ON COLUMN report_project_pipeline.projects IS
    'Distinct approved projects that reached the stage in the month (or on an unknown day)';
COMMENT ON COLUMN report_project_pipeline.projects_reported IS
    'Distinct projects that reached the stage in the month as the units report them (approved '
    'or not)';
COMMENT ON COLUMN report_project_pipeline.agreed_investment_reported_cny_100m IS
    'Agreed investment (协议投资) of projects_reported, as recorded today, in 亿元';
COMMENT ON COLUMN report_project_pipeline.agreed_investment_cny_100m IS
    'Agreed investment (协议投资) of those projects as last approved, in 亿元 (100 million CNY); '
    'a flow: projects dropped since are included';
