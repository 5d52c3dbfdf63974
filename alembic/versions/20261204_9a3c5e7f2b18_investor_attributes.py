"""Investor attributes (世界500强, 中国企业500强, 民营企业500强, 央企, 上市公司) on enterprises, each
for a year, and the projects of such investors counted in report_project_classes.

- investor_attribute: audited; everyone reads it; a unit writes those of the enterprises it
  answers for (as designations: a district office its planning unit's, a chain office those
  located elsewhere; the city bureau all).
- report_project_classes gains projects_fortune_global_500, projects_china_500,
  projects_private_500, projects_central_soe and projects_listed (same rows, columns added at
  the end).

Revision ID: 9a3c5e7f2b18
Revises: 6d2f8b4e1c57
Create Date: 2026-12-04 11:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from chaindb.migrations import grant_select_like_reports, released

revision: str = "9a3c5e7f2b18"
down_revision: str | Sequence[str] | None = "6d2f8b4e1c57"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALL = "(SELECT scope_all())"
DISTRICT = "(SELECT scope_district())"
CHAINS = "CAST((SELECT scope_chains()) AS bigint[])"
WRITABLE = (
    "EXISTS (SELECT 1 FROM enterprise AS e WHERE e.id = enterprise_id AND "
    f"({ALL} OR e.district_id = {DISTRICT} OR (e.district_id IS NULL AND {CHAINS} IS NOT NULL)))"
)
VIEW = "report_project_classes"
VIEW_SQL = {
    VIEW: """
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
""",
}


def upgrade() -> None:
    op.create_table(
        "investor_attribute",
        sa.Column(
            "id",
            sa.BigInteger(),
            sa.Identity(always=False),
            nullable=False,
            comment="Surrogate key",
        ),
        sa.Column(
            "enterprise_id",
            sa.BigInteger(),
            nullable=False,
            comment="The enterprise (the investor, or its group)",
        ),
        sa.Column(
            "attribute",
            sa.String(length=20),
            nullable=False,
            comment="fortune_global_500 (世界500强), china_500 (中国企业500强), private_500 (中国民营企业500强), central_soe (央企) or listed (上市公司)",
        ),
        sa.Column(
            "year",
            sa.SmallInteger(),
            nullable=False,
            comment="The year of the list (for 央企 and 上市公司: the year it was so)",
        ),
        sa.Column(
            "list_rank",
            sa.Integer(),
            nullable=True,
            comment="Its place on the list that year, when known",
        ),
        sa.Column("source", sa.Text(), nullable=True, comment="Where the fact comes from"),
        sa.Column("notes", sa.Text(), nullable=True, comment="Free text"),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
            comment="When the row was inserted (set by the database)",
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
            comment="When the row last changed (set by the database trigger set_updated_at)",
        ),
        sa.CheckConstraint(
            "attribute IN ('fortune_global_500', 'china_500', 'private_500', 'central_soe', 'listed')",
            name=op.f("ck_investor_attribute_attribute"),
        ),
        sa.CheckConstraint(
            "char_length(notes) <= 10000", name=op.f("ck_investor_attribute_notes_length")
        ),
        sa.CheckConstraint(
            "char_length(source) <= 10000", name=op.f("ck_investor_attribute_source_length")
        ),
        sa.CheckConstraint(
            "list_rank IS NULL OR list_rank >= 1",
            name=op.f("ck_investor_attribute_list_rank_positive"),
        ),
        sa.CheckConstraint(
            "year BETWEEN 1980 AND 2100", name=op.f("ck_investor_attribute_year_range")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_investor_attribute_enterprise_id_enterprise"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_investor_attribute")),
        sa.UniqueConstraint(
            "enterprise_id",
            "attribute",
            "year",
            name=op.f("uq_investor_attribute_enterprise_id_attribute_year"),
        ),
        comment="Investor attributes of enterprises (世界500强, 中国500强, 民营500强, 央企, 上市公司), each for a year: what 招大引强 counts a project's investor by",
    )
    op.execute(
        "CREATE TRIGGER investor_attribute_set_updated_at BEFORE UPDATE ON investor_attribute FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION set_updated_at()"
    )
    op.execute(
        "CREATE TRIGGER investor_attribute_record_insert_delete AFTER INSERT OR DELETE ON investor_attribute FOR EACH ROW EXECUTE FUNCTION record_change()"
    )
    op.execute(
        "CREATE TRIGGER investor_attribute_record_update AFTER UPDATE ON investor_attribute FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION record_change()"
    )
    op.create_index(
        op.f("ix_investor_attribute_enterprise_id"),
        "investor_attribute",
        ["enterprise_id"],
        unique=False,
    )
    op.execute("ALTER TABLE investor_attribute ENABLE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY investor_attribute_read ON investor_attribute FOR SELECT USING (true)"
    )
    op.execute(
        "CREATE POLICY investor_attribute_write ON investor_attribute FOR ALL "
        f"USING ({WRITABLE}) WITH CHECK ({WRITABLE})"
    )
    op.execute(VIEW_SQL[VIEW])


def downgrade() -> None:
    previous = released("6d2f8b4e1c57").VIEW_SQL[VIEW]
    op.execute(f"DROP VIEW {VIEW}")
    op.execute(previous)
    grant_select_like_reports(VIEW)
    op.drop_index(op.f("ix_investor_attribute_enterprise_id"), table_name="investor_attribute")
    op.drop_table("investor_attribute")
