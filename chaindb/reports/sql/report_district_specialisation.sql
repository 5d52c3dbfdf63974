-- 一区一主业: per planning unit and chain, whether the unit leads on the chain today (its 主导产业,
-- leads_chain()), its approved projects in the chain, and how many units lead on the same chain
-- (overlap: 同质化). A row where the unit leads on the chain or has a project in it. Computed when
-- read.
CREATE OR REPLACE VIEW report_district_specialisation AS
WITH projects AS (
    SELECT
        p.district_id,
        p.chain_id,
        count(*) AS projects,
        COALESCE(sum(p.agreed_investment_cny_100m), 0) AS agreed_investment
    FROM project_approved AS p
    WHERE p.stage <> 'dropped'
    GROUP BY p.district_id, p.chain_id
),
pairs AS (
    SELECT
        d.id AS district_id,
        c.id AS chain_id,
        leads_chain(d.id, c.id, current_date) AS leading,
        has_leading_chains(d.id, current_date) AS has_leading
    FROM district AS d
    CROSS JOIN chain AS c
)
SELECT
    x.district_id,
    d.code AS district_code,
    d.name_zh AS district_name_zh,
    x.chain_id,
    c.code AS chain_code,
    c.name_zh AS chain_name_zh,
    x.leading,
    COALESCE(p.projects, 0) AS projects,
    COALESCE(p.agreed_investment, 0) AS agreed_investment_cny_100m,
    x.has_leading AND NOT x.leading AND p.projects IS NOT NULL AS outside_leading_chains,
    count(*) FILTER (WHERE x.leading) OVER (PARTITION BY x.chain_id) AS units_leading_chain
FROM pairs AS x
JOIN district AS d ON d.id = x.district_id
JOIN chain AS c ON c.id = x.chain_id
LEFT JOIN projects AS p ON p.district_id = x.district_id AND p.chain_id = x.chain_id
WHERE x.leading OR p.projects IS NOT NULL;

COMMENT ON VIEW report_district_specialisation IS
    '一区一主业 (district specialisation): one row per planning unit and chain where the unit leads '
    'on the chain today (leading_chain, leads_chain()) or has an approved project not dropped in '
    'it; outside_leading_chains flags projects of a unit that has leading chains landing in '
    'another chain; units_leading_chain counts the units leading on the same chain (overlap, '
    '同质化). Amounts in 亿元.';
COMMENT ON COLUMN report_district_specialisation.district_id IS 'The planning unit';
COMMENT ON COLUMN report_district_specialisation.district_code IS 'Natural key of the planning unit';
COMMENT ON COLUMN report_district_specialisation.district_name_zh IS 'Chinese name of the planning unit';
COMMENT ON COLUMN report_district_specialisation.chain_id IS 'The chain';
COMMENT ON COLUMN report_district_specialisation.chain_code IS 'Natural key of the chain';
COMMENT ON COLUMN report_district_specialisation.chain_name_zh IS 'Chinese name of the chain';
COMMENT ON COLUMN report_district_specialisation.leading IS
    'The unit leads on the chain today (a key chain counts with its iconic parent)';
COMMENT ON COLUMN report_district_specialisation.projects IS
    'Approved projects of the chain landing in the unit, not dropped';
COMMENT ON COLUMN report_district_specialisation.agreed_investment_cny_100m IS
    'Their agreed investment, in 亿元';
COMMENT ON COLUMN report_district_specialisation.outside_leading_chains IS
    'The unit has leading chains, this is not one of them, and it has projects in it (flagged, '
    'not refused)';
COMMENT ON COLUMN report_district_specialisation.units_leading_chain IS
    'How many planning units lead on this chain today: more than one is overlap (同质化)';
