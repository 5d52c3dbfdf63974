-- One row per approved project and stage it has reached, with the day it got there when that is
-- known: the one definition of "reached" that the pipeline and the rates count from. The rows are
-- kept in the table project_milestone by a trigger on project (project_reached() computes them)
-- and copied, with the project, into project_approved_milestone when the project is approved:
-- reading them costs no more than reading a table.
CREATE OR REPLACE VIEW report_project_milestones AS
SELECT
    m.project_id,
    p.name AS project_name,
    p.chain_id,
    p.district_id,
    m.stage,
    m.rank,
    m.reached_on,
    p.agreed_investment_cny_100m
FROM project_approved_milestone AS m
JOIN project_approved AS p ON p.id = m.project_id;

COMMENT ON VIEW report_project_milestones IS
    'The stages each approved project had reached when last approved (one row per project and '
    'stage: project_approved_milestone; what units report, reviewed or not, is in '
    'project_milestone), with the day it got there when known: the one definition the pipeline (report_project_pipeline) and the rates '
    '(report_project_rates) count from. A project that reached a later stage has passed the '
    'earlier milestones (签约, 开工, 投产, 达产) even when their dates were never recorded; lead '
    'and negotiation count only where the stage history records them. A stage''s day is that '
    'of the first move into it (a project counts once per stage), else the project''s date for '
    'it (signed_on ...); NULL when neither knows: unknown dates stay unknown.';
COMMENT ON COLUMN report_project_milestones.project_id IS 'The project (project.id)';
COMMENT ON COLUMN report_project_milestones.chain_id IS 'The project''s chain';
COMMENT ON COLUMN report_project_milestones.district_id IS 'The project''s planning unit';
COMMENT ON COLUMN report_project_milestones.stage IS
    'The stage reached: lead (储备), negotiating (在谈), signed (签约), under_construction (开工), '
    'in_production (投产), at_capacity (达产) or dropped (终止)';
COMMENT ON COLUMN report_project_milestones.rank IS
    'Position of the stage in the pipeline (lead = 1 .. at_capacity = 6); NULL for dropped';
COMMENT ON COLUMN report_project_milestones.reached_on IS
    'The day the project first reached the stage: that of the first stage event into it, else '
    'the project''s date for it; NULL when unknown';
COMMENT ON COLUMN report_project_milestones.agreed_investment_cny_100m IS
    'Agreed investment (协议投资) of the project as recorded today, in 亿元';
COMMENT ON COLUMN report_project_milestones.project_name IS 'The project''s name';
