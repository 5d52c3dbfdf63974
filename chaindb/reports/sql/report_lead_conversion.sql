-- Conversion of leads (招商线索) into projects, per unit and source: how many leads each unit
-- opened from each source, how many are still being worked, signed as a project or dropped,
-- the share signed, the follow-ups overdue, and what the projects signed from them bring.
CREATE OR REPLACE VIEW report_lead_conversion AS
WITH lead_fact AS (
    SELECT
        l.unit_id,
        l.source,
        l.status,
        l.status IN ('new', 'contacted', 'negotiating') AS is_open,
        l.status IN ('new', 'contacted', 'negotiating')
            AND l.next_follow_up_on < current_date AS is_overdue,
        p.id AS project_id,
        a.id AS approved_id,
        a.agreed_investment_cny_100m
    FROM lead AS l
    LEFT JOIN project AS p ON p.lead_id = l.id
    LEFT JOIN project_approved AS a ON a.id = p.id AND a.stage <> 'dropped'
)
SELECT
    f.unit_id,
    u.code AS unit_code,
    u.name_zh AS unit_name_zh,
    f.source,
    count(*) AS leads,
    count(*) FILTER (WHERE f.is_open) AS open_leads,
    count(*) FILTER (WHERE f.status = 'signed') AS signed,
    count(*) FILTER (WHERE f.status = 'dropped') AS dropped,
    (count(*) FILTER (WHERE f.status = 'signed'))::numeric / count(*) AS conversion_rate,
    (count(*) FILTER (WHERE f.status = 'signed'))::numeric
        / NULLIF(count(*) FILTER (WHERE NOT f.is_open), 0) AS closed_conversion_rate,
    count(*) FILTER (WHERE f.is_overdue) AS overdue_follow_ups,
    count(f.approved_id) AS projects_approved,
    COALESCE(sum(f.agreed_investment_cny_100m), 0) AS agreed_investment_cny_100m
FROM lead_fact AS f
JOIN unit AS u ON u.id = f.unit_id
GROUP BY GROUPING SETS ((f.unit_id, u.code, u.name_zh, f.source), (f.unit_id, u.code, u.name_zh));

COMMENT ON VIEW report_lead_conversion IS
    'Leads (招商线索) converted into projects: one row per unit and source, and one per unit for '
    'all its sources (source NULL). A lead is signed when a project names it (project.lead_id).';
COMMENT ON COLUMN report_lead_conversion.unit_id IS 'The unit that pursues the leads (unit.id)';
COMMENT ON COLUMN report_lead_conversion.unit_code IS 'Natural key of the unit';
COMMENT ON COLUMN report_lead_conversion.unit_name_zh IS 'Chinese name of the unit';
COMMENT ON COLUMN report_lead_conversion.source IS
    'gap_candidate (补链招商名单), trip, event, referral, investor (以商招商), fund or other; NULL: '
    'the unit''s leads of every source';
COMMENT ON COLUMN report_lead_conversion.leads IS 'Leads opened, whatever their status (count)';
COMMENT ON COLUMN report_lead_conversion.open_leads IS
    'Leads still being worked: new, contacted or negotiating (count)';
COMMENT ON COLUMN report_lead_conversion.signed IS 'Leads signed as a project (count)';
COMMENT ON COLUMN report_lead_conversion.dropped IS 'Leads dropped, with a reason (count)';
COMMENT ON COLUMN report_lead_conversion.conversion_rate IS
    'signed / leads, a fraction (0.25 = one lead in four became a project)';
COMMENT ON COLUMN report_lead_conversion.closed_conversion_rate IS
    'signed / (signed + dropped): the share of the leads decided that were won; NULL when none '
    'is decided yet';
COMMENT ON COLUMN report_lead_conversion.overdue_follow_ups IS
    'Open leads whose next follow-up date has passed (count)';
COMMENT ON COLUMN report_lead_conversion.projects_approved IS
    'Projects signed from the leads whose figures are approved, not dropped (count)';
COMMENT ON COLUMN report_lead_conversion.agreed_investment_cny_100m IS
    'Their agreed investment as approved, in 亿元';
