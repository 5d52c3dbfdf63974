"""report_district_specialisation compares the units by their enterprises and supply links too,
and counts the units with projects in each chain; its column leading becomes is_leading (leading
is a reserved word in SQL: an analyst had to quote it).

Revision ID: 8b4d2f6e0a19
Revises: 5c1e9a7d3f42
Create Date: 2026-12-04 14:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

from chaindb.migrations import grant_select_like_reports, released

revision: str = "8b4d2f6e0a19"
down_revision: str | Sequence[str] | None = "5c1e9a7d3f42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEW = "report_district_specialisation"
VIEW_SQL = {
    VIEW: """
-- 一区一主业: per planning unit and chain, whether the unit leads on the chain today (its 主导产业,
-- leads_chain()), its approved projects in the chain, and how many units lead on the same chain
-- (overlap: 同质化), with its enterprises and supply links in the chain. A row where the unit
-- leads on the chain or has a project, an enterprise or a link in it. Computed when read.
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
enterprises AS (
    -- The unit's enterprises holding a role in the chain today.
    SELECT e.district_id, r.chain_id, count(DISTINCT r.enterprise_id) AS enterprises
    FROM chain_role AS r
    JOIN enterprise AS e ON e.id = r.enterprise_id
    WHERE is_local(e)
      AND role_held_on(r, current_date)
    GROUP BY e.district_id, r.chain_id
),
links AS (
    -- Active supply links of the chain whose supplier is in the unit.
    SELECT e.district_id, l.chain_id, count(*) AS links
    FROM supply_link AS l
    JOIN enterprise AS e ON e.id = l.supplier_id
    WHERE l.status = 'active' AND is_local(e)
    GROUP BY e.district_id, l.chain_id
),
pairs AS (
    SELECT
        d.id AS district_id,
        c.id AS chain_id,
        leads_chain(d.id, c.id, current_date) AS is_leading,
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
    x.is_leading,
    COALESCE(p.projects, 0) AS projects,
    COALESCE(p.agreed_investment, 0) AS agreed_investment_cny_100m,
    x.has_leading AND NOT x.is_leading AND p.projects IS NOT NULL AS outside_leading_chains,
    count(*) FILTER (WHERE x.is_leading) OVER (PARTITION BY x.chain_id) AS units_leading_chain,
    COALESCE(en.enterprises, 0) AS enterprises,
    COALESCE(li.links, 0) AS active_supply_links,
    count(*) FILTER (WHERE p.projects IS NOT NULL) OVER (PARTITION BY x.chain_id)
        AS units_with_projects
FROM pairs AS x
JOIN district AS d ON d.id = x.district_id
JOIN chain AS c ON c.id = x.chain_id
LEFT JOIN projects AS p ON p.district_id = x.district_id AND p.chain_id = x.chain_id
LEFT JOIN enterprises AS en ON en.district_id = x.district_id AND en.chain_id = x.chain_id
LEFT JOIN links AS li ON li.district_id = x.district_id AND li.chain_id = x.chain_id
WHERE x.is_leading OR p.projects IS NOT NULL OR en.enterprises IS NOT NULL
   OR li.links IS NOT NULL;

COMMENT ON VIEW report_district_specialisation IS
    '一区一主业 (district specialisation): one row per planning unit and chain where the unit leads '
    'on the chain today (leading_chain, leads_chain()) or has an approved project not dropped, an '
    'enterprise with a live role or a supplier in an active link in it; outside_leading_chains flags projects of a unit that has leading chains landing in '
    'another chain; units_leading_chain counts the units leading on the same chain (overlap, '
    '同质化). Amounts in 亿元.';
COMMENT ON COLUMN report_district_specialisation.district_id IS 'The planning unit';
COMMENT ON COLUMN report_district_specialisation.district_code IS 'Natural key of the planning unit';
COMMENT ON COLUMN report_district_specialisation.district_name_zh IS 'Chinese name of the planning unit';
COMMENT ON COLUMN report_district_specialisation.chain_id IS 'The chain';
COMMENT ON COLUMN report_district_specialisation.chain_code IS 'Natural key of the chain';
COMMENT ON COLUMN report_district_specialisation.chain_name_zh IS 'Chinese name of the chain';
COMMENT ON COLUMN report_district_specialisation.is_leading IS
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
COMMENT ON COLUMN report_district_specialisation.enterprises IS
    'The unit''s enterprises holding a role in the chain today';
COMMENT ON COLUMN report_district_specialisation.active_supply_links IS
    'Active supply links of the chain whose supplier is located in the unit';
COMMENT ON COLUMN report_district_specialisation.units_with_projects IS
    'How many units have approved projects in this chain (overlap in what they attract)';
""",
}


def upgrade() -> None:
    # Renamed in place (the grants stay); the new columns come after the existing ones.
    op.execute(f'ALTER VIEW {VIEW} RENAME COLUMN "leading" TO is_leading')
    op.execute(VIEW_SQL[VIEW])


def downgrade() -> None:
    op.execute(f'ALTER VIEW {VIEW} RENAME COLUMN is_leading TO "leading"')
    # The columns added here cannot be dropped by CREATE OR REPLACE: drop the view and create the
    # previous one, granted again as the other reports are.
    op.execute(f"DROP VIEW {VIEW}")
    op.execute(released("5c1e9a7d3f42").VIEW_SQL[VIEW])
    grant_select_like_reports(VIEW)
