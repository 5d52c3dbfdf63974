"""The multiplier of chain-master projects (带动配套): report_project_multiplier, per approved
project serving a chain master, the suppliers whose active links to it began after the signing,
the local ones apart, with their annual value.

Revision ID: 2e8b6d4a9c31
Revises: 9a3c5e7f2b18
Create Date: 2026-12-04 12:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

from chaindb.migrations import grant_select_like_reports

revision: str = "2e8b6d4a9c31"
down_revision: str | Sequence[str] | None = "9a3c5e7f2b18"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEW = "report_project_multiplier"
VIEW_SQL = {
    VIEW: """
-- 带动配套, the multiplier of a chain-master project: for each approved project that serves a
-- chain master (project.chain_master_id) and was signed on a known day, the suppliers whose
-- active links to that chain master, in the project's chain, began on or after the signing;
-- the local ones counted apart. The one definition the pages read. Computed when read.
CREATE OR REPLACE VIEW report_project_multiplier AS
SELECT
    p.id AS project_id,
    p.name AS project_name,
    p.chain_id,
    c.code AS chain_code,
    c.name_zh AS chain_name_zh,
    p.district_id,
    p.chain_master_id,
    m.name_zh AS chain_master_name_zh,
    p.signed_on,
    count(DISTINCT l.supplier_id) FILTER (WHERE is_local(s)) AS local_suppliers,
    count(l.id) FILTER (WHERE is_local(s)) AS local_links,
    COALESCE(sum(l.annual_value_cny_10k) FILTER (WHERE is_local(s)), 0) AS local_value_cny_10k,
    count(DISTINCT l.supplier_id) AS suppliers,
    COALESCE(sum(l.annual_value_cny_10k), 0) AS value_cny_10k
FROM project_approved AS p
JOIN chain AS c ON c.id = p.chain_id
JOIN enterprise AS m ON m.id = p.chain_master_id
LEFT JOIN supply_link AS l
    ON l.buyer_id = p.chain_master_id
   AND l.chain_id = p.chain_id
   AND l.status = 'active'
   AND l.since >= p.signed_on
LEFT JOIN enterprise AS s ON s.id = l.supplier_id
WHERE p.signed_on IS NOT NULL
  AND p.stage <> 'dropped'
GROUP BY p.id, p.name, p.chain_id, c.code, c.name_zh, p.district_id, p.chain_master_id,
         m.name_zh, p.signed_on;

COMMENT ON VIEW report_project_multiplier IS
    '带动配套 (the multiplier) of chain-master projects: one row per approved project, not '
    'dropped, that serves a chain master and was signed on a known day, with the suppliers '
    'whose active links to that chain master in the project''s chain began on or after the '
    'signing (supply_link.since; a link of unknown start is not counted), the local ones '
    'apart, and their annual value in 万元.';
COMMENT ON COLUMN report_project_multiplier.project_id IS 'The project (project.id)';
COMMENT ON COLUMN report_project_multiplier.project_name IS 'The project''s name, as approved';
COMMENT ON COLUMN report_project_multiplier.chain_id IS 'The project''s chain';
COMMENT ON COLUMN report_project_multiplier.chain_code IS 'Natural key of the chain';
COMMENT ON COLUMN report_project_multiplier.chain_name_zh IS 'Chinese name of the chain';
COMMENT ON COLUMN report_project_multiplier.district_id IS 'The project''s planning unit';
COMMENT ON COLUMN report_project_multiplier.chain_master_id IS
    'The chain master the project serves (enterprise.id)';
COMMENT ON COLUMN report_project_multiplier.chain_master_name_zh IS 'The chain master''s name';
COMMENT ON COLUMN report_project_multiplier.signed_on IS 'The day the project was signed (签约)';
COMMENT ON COLUMN report_project_multiplier.local_suppliers IS
    'Local suppliers (is_local) whose active links to the chain master in the chain began on '
    'or after the signing';
COMMENT ON COLUMN report_project_multiplier.local_links IS 'Their active links';
COMMENT ON COLUMN report_project_multiplier.local_value_cny_10k IS
    'Annual value of those links where known, in 万元 (10,000 CNY)';
COMMENT ON COLUMN report_project_multiplier.suppliers IS
    'All suppliers (local or not) whose active links began on or after the signing';
COMMENT ON COLUMN report_project_multiplier.value_cny_10k IS
    'Annual value of all those links where known, in 万元';
""",
}


def upgrade() -> None:
    op.execute(VIEW_SQL[VIEW])
    grant_select_like_reports(VIEW)


def downgrade() -> None:
    op.execute(f"DROP VIEW IF EXISTS {VIEW}")
