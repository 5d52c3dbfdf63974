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
