-- 招大引强 and where the capital comes from: per chain, planning unit, size class and capital
-- origin, the approved projects that are not dropped, with their amounts (and the reported ones
-- beside). Computed when read (a GROUP BY over project_approved).
CREATE OR REPLACE VIEW report_project_classes AS
WITH counted AS (
    SELECT
        true AS approved, p.investor_id, p.chain_id, p.district_id, p.size_class, p.capital_origin,
        p.agreed_investment_cny_100m, p.first_phase_investment_cny_100m,
        p.fixed_asset_investment_cny_100m, p.funds_arrived_cny_100m, p.foreign_capital_usd_10k
    FROM project_approved AS p
    WHERE p.stage <> 'dropped'
    UNION ALL
    SELECT
        false, p.investor_id, p.chain_id, p.district_id, p.size_class, p.capital_origin,
        p.agreed_investment_cny_100m, p.first_phase_investment_cny_100m,
        p.fixed_asset_investment_cny_100m, p.funds_arrived_cny_100m, p.foreign_capital_usd_10k
    FROM project AS p
    WHERE p.stage <> 'dropped'
),
investor AS (
    -- What each investor is known as, in any year of the lists.
    SELECT
        a.enterprise_id,
        bool_or(a.attribute = 'fortune_global_500') AS fortune_global_500,
        bool_or(a.attribute = 'china_500') AS china_500,
        bool_or(a.attribute = 'private_500') AS private_500,
        bool_or(a.attribute = 'central_soe') AS central_soe,
        bool_or(a.attribute = 'listed') AS listed
    FROM investor_attribute AS a
    GROUP BY a.enterprise_id
)
SELECT
    c.chain_id,
    ch.code AS chain_code,
    ch.name_zh AS chain_name_zh,
    c.district_id,
    d.code AS district_code,
    d.name_zh AS district_name_zh,
    c.size_class,
    c.capital_origin,
    count(*) FILTER (WHERE c.approved) AS projects,
    COALESCE(sum(c.agreed_investment_cny_100m) FILTER (WHERE c.approved), 0)
        AS agreed_investment_cny_100m,
    COALESCE(sum(c.first_phase_investment_cny_100m) FILTER (WHERE c.approved), 0)
        AS first_phase_investment_cny_100m,
    COALESCE(sum(c.fixed_asset_investment_cny_100m) FILTER (WHERE c.approved), 0)
        AS fixed_asset_investment_cny_100m,
    COALESCE(sum(c.funds_arrived_cny_100m) FILTER (WHERE c.approved), 0)
        AS funds_arrived_cny_100m,
    COALESCE(sum(c.foreign_capital_usd_10k) FILTER (WHERE c.approved), 0)
        AS foreign_capital_usd_10k,
    count(*) FILTER (WHERE NOT c.approved) AS projects_reported,
    count(*) FILTER (WHERE c.approved AND i.fortune_global_500) AS projects_fortune_global_500,
    count(*) FILTER (WHERE c.approved AND i.china_500) AS projects_china_500,
    count(*) FILTER (WHERE c.approved AND i.private_500) AS projects_private_500,
    count(*) FILTER (WHERE c.approved AND i.central_soe) AS projects_central_soe,
    count(*) FILTER (WHERE c.approved AND i.listed) AS projects_listed
FROM counted AS c
LEFT JOIN investor AS i ON i.enterprise_id = c.investor_id
JOIN chain AS ch ON ch.id = c.chain_id
JOIN district AS d ON d.id = c.district_id
GROUP BY c.chain_id, ch.code, ch.name_zh, c.district_id, d.code, d.name_zh, c.size_class,
         c.capital_origin;

COMMENT ON VIEW report_project_classes IS
    '招大引强 and capital origin: one row per chain, planning unit, size class and capital origin '
    'with a project that is not dropped. The counts and amounts are the approved projects'' (as '
    'last approved); projects_reported counts what the units report, reviewed or not. Size '
    'classes from the agreed (total) investment: one_yi (亿元以上), ten_yi (10亿元以上), fifty_yi '
    '(50亿元以上), hundred_yi (百亿级), NULL below 1 亿元 or unknown. Amounts in 亿元; foreign '
    'capital in 万美元.';
COMMENT ON COLUMN report_project_classes.chain_id IS 'The chain (chain.id)';
COMMENT ON COLUMN report_project_classes.chain_code IS 'Natural key of the chain';
COMMENT ON COLUMN report_project_classes.chain_name_zh IS 'Chinese name of the chain';
COMMENT ON COLUMN report_project_classes.district_id IS 'The planning unit (district.id)';
COMMENT ON COLUMN report_project_classes.district_code IS 'Natural key of the planning unit';
COMMENT ON COLUMN report_project_classes.district_name_zh IS 'Chinese name of the planning unit';
COMMENT ON COLUMN report_project_classes.size_class IS
    'one_yi (亿元以上), ten_yi (10亿元以上), fifty_yi (50亿元以上), hundred_yi (百亿级); NULL below '
    '1 亿元 or when the agreed investment is unknown';
COMMENT ON COLUMN report_project_classes.capital_origin IS
    'local (本地), province (省内市外), domestic (省外), foreign (境外); NULL when not recorded';
COMMENT ON COLUMN report_project_classes.projects IS 'Approved projects, not dropped';
COMMENT ON COLUMN report_project_classes.agreed_investment_cny_100m IS
    'Their agreed (total) investment (协议投资), in 亿元';
COMMENT ON COLUMN report_project_classes.first_phase_investment_cny_100m IS
    'Their first-phase investment (一期投资) where recorded, in 亿元';
COMMENT ON COLUMN report_project_classes.fixed_asset_investment_cny_100m IS
    'Their fixed-asset investment (固定资产投资) where recorded, in 亿元';
COMMENT ON COLUMN report_project_classes.funds_arrived_cny_100m IS
    'Their funds arrived to date (到位资金), in 亿元';
COMMENT ON COLUMN report_project_classes.foreign_capital_usd_10k IS
    'Their foreign capital actually used (实际使用外资), in 万美元';
COMMENT ON COLUMN report_project_classes.projects_reported IS
    'Projects not dropped as the units report them, reviewed or not';
COMMENT ON COLUMN report_project_classes.projects_fortune_global_500 IS
    'Of projects: those whose investor is on the 世界500强 list (any year, investor_attribute)';
COMMENT ON COLUMN report_project_classes.projects_china_500 IS
    'Of projects: those whose investor is on the 中国企业500强 list (any year)';
COMMENT ON COLUMN report_project_classes.projects_private_500 IS
    'Of projects: those whose investor is on the 民营企业500强 list (any year)';
COMMENT ON COLUMN report_project_classes.projects_central_soe IS
    'Of projects: those whose investor is a central state-owned enterprise (央企)';
COMMENT ON COLUMN report_project_classes.projects_listed IS
    'Of projects: those whose investor is a listed company (上市公司)';
