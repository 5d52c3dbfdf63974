-- Every planning unit by every chain: enterprises, projects and amounts; zeros where nothing.
-- Materialized: as a plain view it took 114 ms at synthetic scale 1 (394 ms under load). Its rows
-- are those of the last refresh, which follows a write within seconds (chaindb.reports.listener).
-- Dropped and created again, never replaced; created WITH DATA.
DROP MATERIALIZED VIEW IF EXISTS report_district_chain_matrix;
CREATE MATERIALIZED VIEW report_district_chain_matrix AS
WITH role_counts AS (
    SELECT
        e.district_id,
        r.chain_id,
        count(DISTINCT r.enterprise_id) AS enterprises
    FROM chain_role AS r
    JOIN enterprise AS e ON e.id = r.enterprise_id
    WHERE is_local(e)
      AND role_held_on(r, current_date)
    GROUP BY e.district_id, r.chain_id
),
project_counts AS (
    SELECT
        district_id,
        chain_id,
        count(*) AS projects,
        sum(agreed_investment_cny_100m) AS agreed_investment,
        sum(funds_arrived_cny_100m) AS funds_arrived
    FROM project_approved
    WHERE stage <> 'dropped'
    GROUP BY district_id, chain_id
),
reported_counts AS (
    -- What the units report, reviewed or not (project): beside the approved figures.
    SELECT
        district_id,
        chain_id,
        count(*) AS projects,
        sum(agreed_investment_cny_100m) AS agreed_investment
    FROM project
    WHERE stage <> 'dropped'
    GROUP BY district_id, chain_id
)
SELECT
    d.id AS district_id,
    d.code AS district_code,
    d.name_zh AS district_name_zh,
    d.kind AS district_kind,
    c.id AS chain_id,
    c.code AS chain_code,
    c.name_zh AS chain_name_zh,
    COALESCE(r.enterprises, 0) AS enterprises,
    COALESCE(p.projects, 0) AS projects,
    COALESCE(p.agreed_investment, 0) AS agreed_investment_cny_100m,
    COALESCE(p.funds_arrived, 0) AS funds_arrived_cny_100m,
    COALESCE(rp.projects, 0) AS projects_reported,
    COALESCE(rp.agreed_investment, 0) AS agreed_investment_reported_cny_100m
FROM district AS d
CROSS JOIN chain AS c
LEFT JOIN role_counts AS r ON r.district_id = d.id AND r.chain_id = c.id
LEFT JOIN project_counts AS p ON p.district_id = d.id AND p.chain_id = c.id
LEFT JOIN reported_counts AS rp ON rp.district_id = d.id AND rp.chain_id = c.id;

CREATE UNIQUE INDEX uq_report_district_chain_matrix_district_id_chain_id
    ON report_district_chain_matrix (district_id, chain_id);
CREATE INDEX ix_report_district_chain_matrix_chain_id ON report_district_chain_matrix (chain_id);

COMMENT ON MATERIALIZED VIEW report_district_chain_matrix IS
    'Every planning unit (区县(功能区)) by every chain, zeros where nothing: the unit''s '
    'enterprises with a role in the chain live today, and the projects landing in the unit for '
    'the chain (dropped ones left out) as approved (project_approved), with what the units '
    'report beside (projects_reported, reviewed or not). Amounts in 亿元 (100 million CNY).';
COMMENT ON COLUMN report_district_chain_matrix.district_id IS 'The planning unit (district.id)';
COMMENT ON COLUMN report_district_chain_matrix.district_code IS
    'Natural key of the unit: the 6-digit official code, or a local code for a functional zone';
COMMENT ON COLUMN report_district_chain_matrix.district_name_zh IS 'Chinese name of the unit';
COMMENT ON COLUMN report_district_chain_matrix.district_kind IS
    'district (区), county (县) or zone (功能区)';
COMMENT ON COLUMN report_district_chain_matrix.chain_id IS 'The chain (chain.id)';
COMMENT ON COLUMN report_district_chain_matrix.chain_code IS 'Natural key of the chain';
COMMENT ON COLUMN report_district_chain_matrix.chain_name_zh IS 'Chinese name of the chain';
COMMENT ON COLUMN report_district_chain_matrix.enterprises IS
    'Distinct enterprises of the unit holding a role (any kind) in the chain live today';
COMMENT ON COLUMN report_district_chain_matrix.projects IS
    'Projects of the chain landing in the unit, all stages but dropped, as approved';
COMMENT ON COLUMN report_district_chain_matrix.projects_reported IS
    'Projects of the chain landing in the unit, all stages but dropped, as the units report '
    'them (approved or not)';
COMMENT ON COLUMN report_district_chain_matrix.agreed_investment_reported_cny_100m IS
    'Agreed investment (协议投资) of projects_reported, in 亿元';
COMMENT ON COLUMN report_district_chain_matrix.agreed_investment_cny_100m IS
    'Agreed investment (协议投资) of those projects, in 亿元 (100 million CNY)';
COMMENT ON COLUMN report_district_chain_matrix.funds_arrived_cny_100m IS
    'Funds arrived to date (到位资金) of those projects, in 亿元 (100 million CNY)';
