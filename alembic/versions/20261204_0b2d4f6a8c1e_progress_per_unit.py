"""Progress per unit: targets for an office (the city bureau, a chain office, a district
office), in a chain or all of them, with their actuals measured by the approved projects, and
each chain's revenue entered by its chain office.

- target.unit_id and scope unit (an office's target; with chain_id, in that chain); the
  metrics projects_started (开工项目数), funds_arrived (到位资金) and foreign_capital_used
  (实际使用外资, in usd_10k 万美元) beside projects_signed and investment_signed.
- chain_revenue: a chain's revenue per year (产业链营收), written by the city bureau and the
  chain's office (row-level security), read by everyone.
- report_target_progress: the actual is the one entered, else what the data measures (the
  approved projects; the chains' revenue, summed over the iconic chains for the city's goal of
  the 13 chains), else the latest earlier one; new columns at the end: unit_id, unit_code,
  unit_name_zh, actual_source, reported_value, chains_reporting.
- report_lead_conversion: leads converted into projects per unit and source.

Revision ID: 0b2d4f6a8c1e
Revises: f1c3e5a7b9d2
Create Date: 2026-12-04 11:06:55.556330+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from chaindb.migrations import grant_select_like_reports, released

revision: str = "0b2d4f6a8c1e"
down_revision: str | Sequence[str] | None = "f1c3e5a7b9d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALL = "(SELECT scope_all())"
CHAINS = "CAST((SELECT scope_chains()) AS bigint[])"

# name -> (before, after)
CHECKS = {
    "scope": ("scope IN ('city', 'chain', 'district')",
              "scope IN ('city', 'chain', 'district', 'unit')"),
    "metric": (
        "metric IN ('industrial_revenue', 'iconic_chains_revenue', 'chain_revenue', "
        "'industrial_profit', 'projects_signed', 'investment_signed')",
        "metric IN ('industrial_revenue', 'iconic_chains_revenue', 'chain_revenue', "
        "'industrial_profit', 'projects_signed', 'investment_signed', 'projects_started', "
        "'funds_arrived', 'foreign_capital_used')",
    ),
    "unit": ("unit IN ('cny_100m', 'count', 'percent')",
             "unit IN ('cny_100m', 'usd_10k', 'count', 'percent')"),
    "scope_matches_keys": (
        "(scope = 'city' AND chain_id IS NULL AND district_id IS NULL) "
        "OR (scope = 'chain' AND chain_id IS NOT NULL AND district_id IS NULL) "
        "OR (scope = 'district' AND district_id IS NOT NULL AND chain_id IS NULL)",
        "(scope = 'city' AND chain_id IS NULL AND district_id IS NULL AND unit_id IS NULL) "
        "OR (scope = 'chain' AND chain_id IS NOT NULL AND district_id IS NULL "
        "AND unit_id IS NULL) "
        "OR (scope = 'district' AND district_id IS NOT NULL AND chain_id IS NULL "
        "AND unit_id IS NULL) "
        "OR (scope = 'unit' AND unit_id IS NOT NULL AND district_id IS NULL)",
    ),
}  # fmt: skip

POLICIES = [
    ("chain_revenue_read", "SELECT", "true", None),
    (
        "chain_revenue_write",
        "ALL",
        f"({ALL} OR chain_id = ANY ({CHAINS}))",
        f"({ALL} OR chain_id = ANY ({CHAINS}))",
    ),
]

NEW_VIEW = "report_lead_conversion"
VIEW_SQL = {
    "report_target_progress": """
-- Actual against target, per scope (city, chain, planning unit, office), year and metric: every
-- target the data holds (the target table's, and the chains' 2030 targets kept on the chain).
-- The actual is, in this order: the one entered on the target row; what the data measures
-- itself (the approved projects for 签约, 开工, 到位资金 and 实际使用外资; the chains' entered
-- revenue for a chain's revenue and, summed over the iconic chains, for the city's goal of the
-- 13 chains); else the latest earlier actual of the same scope, place and unit.
CREATE OR REPLACE VIEW report_target_progress AS
WITH goal AS (
    SELECT
        t.id AS target_id, t.scope, t.chain_id, t.district_id, t.year, t.metric, t.unit,
        t.target_value, t.actual_value, 'target'::text AS origin, t.unit_id
    FROM target AS t
    WHERE t.target_value IS NOT NULL
    UNION ALL
    -- A chain's 2030 scale target (chain.target_2030_cny_100m), unless the target table holds
    -- that chain's 2030 revenue target itself.
    SELECT
        NULL, 'chain'::character varying(8), c.id, NULL, 2030::smallint,
        'chain_revenue'::character varying(32), 'cny_100m'::character varying(10),
        c.target_2030_cny_100m::numeric(16, 4), NULL::numeric(16, 4), 'chain', NULL::bigint
    FROM chain AS c
    WHERE c.target_2030_cny_100m IS NOT NULL
      AND NOT EXISTS (
            SELECT 1
            FROM target AS t
            WHERE t.scope = 'chain' AND t.chain_id = c.id AND t.year = 2030
              AND t.metric = 'chain_revenue' AND t.target_value IS NOT NULL
        )
),
placed AS (
    -- Which projects a goal counts: those of its chains (a chain and the key chains under it)
    -- and of its planning unit; NULL: any. An office counts what it answers for (the city
    -- bureau everything, a chain office its chains, a district office its planning unit),
    -- within the goal's chain when it names one.
    SELECT
        g.*,
        CASE
            WHEN g.chain_id IS NOT NULL THEN ARRAY(
                SELECT c.id FROM chain AS c WHERE c.id = g.chain_id OR c.parent_id = g.chain_id)
            WHEN u.kind = 'chain_office' THEN ARRAY(
                SELECT c.id FROM chain AS c WHERE c.id = u.chain_id OR c.parent_id = u.chain_id)
        END AS chain_ids,
        CASE
            WHEN g.scope = 'district' THEN g.district_id
            WHEN u.kind = 'district_office' THEN u.district_id
        END AS in_district
    FROM goal AS g
    LEFT JOIN unit AS u ON u.id = g.unit_id
),
tally AS MATERIALIZED (
    -- The projects' figures per chain, planning unit and year, approved (project_approved) and
    -- as reported (project), dropped ones left out, in the years of the goals: each goal sums
    -- the few rows of its chains and planning unit.
    SELECT
        s.approved, s.chain_id, s.district_id, s.year,
        count(*) FILTER (WHERE s.signed) AS signed,
        COALESCE(sum(s.agreed_investment_cny_100m) FILTER (WHERE s.signed), 0) AS agreed,
        COALESCE(sum(s.funds_arrived_cny_100m) FILTER (WHERE s.signed), 0) AS arrived,
        COALESCE(sum(s.foreign_capital_usd_10k) FILTER (WHERE s.signed), 0) AS foreign_capital,
        count(*) FILTER (WHERE NOT s.signed) AS started
    FROM (
        SELECT true AS approved, a.chain_id, a.district_id, true AS signed,
               extract(year FROM a.signed_on)::integer AS year, a.agreed_investment_cny_100m,
               a.funds_arrived_cny_100m, a.foreign_capital_usd_10k
        FROM project_approved AS a
        WHERE a.stage <> 'dropped' AND a.signed_on IS NOT NULL
        UNION ALL
        SELECT true, a.chain_id, a.district_id, false,
               extract(year FROM a.construction_started_on)::integer, NULL, NULL, NULL
        FROM project_approved AS a
        WHERE a.stage <> 'dropped' AND a.construction_started_on IS NOT NULL
        UNION ALL
        SELECT false, r.chain_id, r.district_id, true,
               extract(year FROM r.signed_on)::integer, r.agreed_investment_cny_100m,
               r.funds_arrived_cny_100m, r.foreign_capital_usd_10k
        FROM project AS r
        WHERE r.stage <> 'dropped' AND r.signed_on IS NOT NULL
        UNION ALL
        SELECT false, r.chain_id, r.district_id, false,
               extract(year FROM r.construction_started_on)::integer, NULL, NULL, NULL
        FROM project AS r
        WHERE r.stage <> 'dropped' AND r.construction_started_on IS NOT NULL
    ) AS s
    WHERE s.year IN (SELECT g.year FROM goal AS g)
    GROUP BY s.approved, s.chain_id, s.district_id, s.year
),
counted AS (
    -- What the data measures itself, approved and as reported; NULL where it measures nothing.
    SELECT
        p.*,
        CASE
            WHEN p.metric IN ('projects_signed', 'investment_signed', 'projects_started',
                              'funds_arrived', 'foreign_capital_used')
                THEN m.approved
            WHEN p.metric = 'chain_revenue' AND p.scope = 'chain'
                THEN (SELECT r.revenue_cny_100m FROM chain_revenue AS r
                      WHERE r.chain_id = p.chain_id AND r.year = p.year)
            -- The 13 chains' revenue is their sum once every iconic chain has entered it.
            WHEN p.metric = 'iconic_chains_revenue' AND p.scope = 'city'
                THEN (SELECT CASE WHEN count(*) = (SELECT count(*) FROM chain AS i
                                                   WHERE i.tier = 'iconic')
                                  THEN sum(r.revenue_cny_100m) END
                      FROM chain_revenue AS r JOIN chain AS c ON c.id = r.chain_id
                      WHERE c.tier = 'iconic' AND r.year = p.year)
        END AS measured_value,
        CASE
            WHEN p.metric IN ('projects_signed', 'investment_signed', 'projects_started',
                              'funds_arrived', 'foreign_capital_used')
                THEN m.reported
            WHEN p.metric = 'iconic_chains_revenue' AND p.scope = 'city'
                THEN (SELECT sum(r.revenue_cny_100m) FROM chain_revenue AS r
                      JOIN chain AS c ON c.id = r.chain_id
                      WHERE c.tier = 'iconic' AND r.year = p.year)
        END AS reported_value,
        CASE
            WHEN p.metric = 'iconic_chains_revenue' AND p.scope = 'city'
                THEN (SELECT count(*) FROM chain_revenue AS r JOIN chain AS c ON c.id = r.chain_id
                      WHERE c.tier = 'iconic' AND r.year = p.year)
        END AS chains_reporting
    FROM placed AS p
    LEFT JOIN LATERAL (
        SELECT
            CASE p.metric
                WHEN 'projects_signed' THEN COALESCE(sum(t.signed) FILTER (WHERE t.approved), 0)
                WHEN 'investment_signed' THEN COALESCE(sum(t.agreed) FILTER (WHERE t.approved), 0)
                WHEN 'projects_started' THEN COALESCE(sum(t.started) FILTER (WHERE t.approved), 0)
                WHEN 'funds_arrived' THEN COALESCE(sum(t.arrived) FILTER (WHERE t.approved), 0)
                WHEN 'foreign_capital_used'
                    THEN COALESCE(sum(t.foreign_capital) FILTER (WHERE t.approved), 0)
            END AS approved,
            CASE p.metric
                WHEN 'projects_signed' THEN COALESCE(sum(t.signed) FILTER (WHERE NOT t.approved), 0)
                WHEN 'investment_signed'
                    THEN COALESCE(sum(t.agreed) FILTER (WHERE NOT t.approved), 0)
                WHEN 'projects_started'
                    THEN COALESCE(sum(t.started) FILTER (WHERE NOT t.approved), 0)
                WHEN 'funds_arrived' THEN COALESCE(sum(t.arrived) FILTER (WHERE NOT t.approved), 0)
                WHEN 'foreign_capital_used'
                    THEN COALESCE(sum(t.foreign_capital) FILTER (WHERE NOT t.approved), 0)
            END AS reported
        FROM tally AS t
        WHERE p.metric IN ('projects_signed', 'investment_signed', 'projects_started',
                           'funds_arrived', 'foreign_capital_used')
          AND t.year = p.year
          AND (p.chain_ids IS NULL OR t.chain_id = ANY (p.chain_ids))
          AND (p.in_district IS NULL OR t.district_id = p.in_district)
    ) AS m ON true
),
measured AS (
    -- Each goal with the actual it is measured by: its own when entered, else what the data
    -- measures, else the latest earlier actual of the same scope and place in the same unit, of
    -- the same metric or, for a revenue target, of any revenue metric (the city's 2025 goal for
    -- the 13 chains against the industrial revenue of 2024).
    SELECT
        k.*,
        a.actual_value AS latest_value,
        a.year AS latest_year,
        a.metric AS latest_metric
    FROM counted AS k
    LEFT JOIN LATERAL (
        SELECT t.actual_value, t.year, t.metric
        FROM target AS t
        WHERE k.actual_value IS NULL
          AND k.measured_value IS NULL
          AND t.actual_value IS NOT NULL
          AND t.scope = k.scope
          AND t.chain_id IS NOT DISTINCT FROM k.chain_id
          AND t.district_id IS NOT DISTINCT FROM k.district_id
          AND t.unit_id IS NOT DISTINCT FROM k.unit_id
          AND t.unit = k.unit
          AND t.year <= k.year
          AND (t.metric = k.metric
               OR (k.metric IN ('industrial_revenue', 'iconic_chains_revenue', 'chain_revenue')
                   AND t.metric IN ('industrial_revenue', 'iconic_chains_revenue',
                                    'chain_revenue')))
        ORDER BY t.year DESC, (t.metric = k.metric) DESC, t.id
        LIMIT 1
    ) AS a ON true
),
valued AS (
    SELECT
        m.*,
        COALESCE(m.actual_value, m.measured_value, m.latest_value)::numeric(16, 4) AS value,
        CASE
            WHEN m.actual_value IS NOT NULL THEN 'entered'
            WHEN m.measured_value IS NOT NULL AND m.metric LIKE '%revenue' THEN 'chain_revenue'
            WHEN m.measured_value IS NOT NULL THEN 'projects'
            WHEN m.latest_value IS NOT NULL THEN 'earlier'
        END AS actual_source
    FROM measured AS m
)
SELECT
    v.target_id,
    v.scope,
    v.chain_id,
    c.code AS chain_code,
    c.name_zh AS chain_name_zh,
    v.district_id,
    d.code AS district_code,
    d.name_zh AS district_name_zh,
    v.year,
    v.metric,
    v.unit,
    v.target_value,
    v.value AS actual_value,
    v.value / NULLIF(v.target_value, 0) AS progress,
    v.target_value - v.value AS remaining_value,
    CASE WHEN v.actual_source = 'earlier' THEN v.latest_year
         WHEN v.value IS NOT NULL THEN v.year END AS actual_year,
    CAST(CASE WHEN v.actual_source = 'earlier' THEN v.latest_metric
              WHEN v.value IS NOT NULL THEN v.metric END AS character varying(32))
        AS actual_metric,
    v.origin,
    v.unit_id,
    u.code AS unit_code,
    u.name_zh AS unit_name_zh,
    v.actual_source,
    v.reported_value,
    v.chains_reporting::integer AS chains_reporting
FROM valued AS v
LEFT JOIN chain AS c ON c.id = v.chain_id
LEFT JOIN district AS d ON d.id = v.district_id
LEFT JOIN unit AS u ON u.id = v.unit_id;

COMMENT ON VIEW report_target_progress IS
    'Target progress: one row per target (scope, year, metric) the data holds: the target '
    'table''s rows that have a target value, and the chains'' 2030 scale targets '
    '(chain.target_2030_cny_100m). Each with the actual it is measured by, the share reached and '
    'what remains: the actual entered on the target row; else what the data measures (the '
    'approved projects for projects_signed, investment_signed, projects_started, funds_arrived '
    'and foreign_capital_used; chain_revenue for a chain''s revenue and, summed over the iconic '
    'chains once all have entered it, for the city''s iconic_chains_revenue); else the latest '
    'earlier actual of the same '
    'scope, place and unit (actual_source, actual_year and actual_metric say which). Both '
    'values are in the row''s unit.';
COMMENT ON COLUMN report_target_progress.target_id IS
    'The target row (target.id); NULL for a chain''s 2030 target kept on the chain';
COMMENT ON COLUMN report_target_progress.scope IS
    'city, chain, district (a planning unit) or unit (an office, with chain_id: in that chain)';
COMMENT ON COLUMN report_target_progress.chain_id IS
    'The chain, for scope chain (or an office''s target in a chain); else NULL';
COMMENT ON COLUMN report_target_progress.chain_code IS 'Natural key of the chain';
COMMENT ON COLUMN report_target_progress.chain_name_zh IS 'Chinese name of the chain';
COMMENT ON COLUMN report_target_progress.district_id IS
    'The planning unit, for scope district; else NULL';
COMMENT ON COLUMN report_target_progress.district_code IS
    'Natural key of the planning unit, for scope district';
COMMENT ON COLUMN report_target_progress.district_name_zh IS
    'Chinese name of the planning unit, for scope district';
COMMENT ON COLUMN report_target_progress.year IS 'Calendar year';
COMMENT ON COLUMN report_target_progress.metric IS
    'industrial_revenue (规上工业营收), iconic_chains_revenue, chain_revenue, industrial_profit, '
    'projects_signed (签约项目数), investment_signed (签约额), projects_started (开工项目数), '
    'funds_arrived (到位资金) or foreign_capital_used (实际使用外资)';
COMMENT ON COLUMN report_target_progress.unit IS
    'Unit of target_value, actual_value, remaining_value and reported_value: cny_100m (亿元), '
    'usd_10k (万美元), count or percent';
COMMENT ON COLUMN report_target_progress.target_value IS 'Target for the year, in unit';
COMMENT ON COLUMN report_target_progress.actual_value IS
    'The actual the target is measured by, in unit (actual_source says where it comes from); '
    'NULL when none is known. From the approved projects (not dropped) of the scope: '
    'projects_signed counts those signed in the year, investment_signed sums their agreed '
    'investment, funds_arrived their funds arrived to date, foreign_capital_used their foreign '
    'capital; projects_started counts those whose construction started in the year';
COMMENT ON COLUMN report_target_progress.progress IS
    'actual_value / target_value, a fraction (1 = target met); NULL when either is NULL or the '
    'target is 0';
COMMENT ON COLUMN report_target_progress.remaining_value IS
    'target_value - actual_value, in unit (negative when exceeded); NULL when either is NULL';
COMMENT ON COLUMN report_target_progress.actual_year IS
    'The year of actual_value: the target''s year, or an earlier one when the actual is an '
    'earlier year''s (actual_source earlier)';
COMMENT ON COLUMN report_target_progress.actual_metric IS
    'The metric of actual_value: the target''s, or another revenue metric (e.g. the industrial '
    'revenue measuring the 13 chains'' goal)';
COMMENT ON COLUMN report_target_progress.origin IS
    'Where the target is kept: target (the target table) or chain (chain.target_2030_cny_100m)';
COMMENT ON COLUMN report_target_progress.unit_id IS
    'The office (unit.id), for scope unit; else NULL. It counts the projects it answers for: the '
    'city bureau all, a chain office its chains'', a district office its planning unit''s';
COMMENT ON COLUMN report_target_progress.unit_code IS 'Natural key of the office, for scope unit';
COMMENT ON COLUMN report_target_progress.unit_name_zh IS 'Chinese name of the office';
COMMENT ON COLUMN report_target_progress.actual_source IS
    'Where actual_value comes from: entered (the target row), projects (the approved projects), '
    'chain_revenue (the chains'' entered revenue), earlier (an earlier year''s actual); NULL: none';
COMMENT ON COLUMN report_target_progress.reported_value IS
    'For a metric the projects measure: the same figure counting every project as reported '
    '(drafts and projects waiting for review too, as their units last saved them); for the '
    'city''s iconic_chains_revenue: the sum of the revenue the iconic chains have entered so far '
    '(the actual once every one has); else NULL';
COMMENT ON COLUMN report_target_progress.chains_reporting IS
    'For the city''s iconic_chains_revenue: how many iconic chains have entered their revenue '
    'for the year; else NULL';
""",
    NEW_VIEW: """
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
""",
}


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table(
        "chain_revenue",
        sa.Column(
            "id",
            sa.BigInteger(),
            sa.Identity(always=False),
            nullable=False,
            comment="Surrogate key",
        ),
        sa.Column("chain_id", sa.BigInteger(), nullable=False, comment="The chain"),
        sa.Column("year", sa.SmallInteger(), nullable=False, comment="Calendar year"),
        sa.Column(
            "revenue_cny_100m",
            sa.Numeric(precision=14, scale=4),
            nullable=False,
            comment="Revenue of the chain's enterprises in the year, in 亿元",
        ),
        sa.Column("source", sa.Text(), nullable=True, comment="Where the figure comes from"),
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
            "char_length(notes) <= 10000", name=op.f("ck_chain_revenue_notes_length")
        ),
        sa.CheckConstraint(
            "char_length(source) <= 10000", name=op.f("ck_chain_revenue_source_length")
        ),
        sa.CheckConstraint(
            "revenue_cny_100m >= 0", name=op.f("ck_chain_revenue_revenue_non_negative")
        ),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name=op.f("ck_chain_revenue_year_range")),
        sa.ForeignKeyConstraint(
            ["chain_id"],
            ["chain.id"],
            name=op.f("fk_chain_revenue_chain_id_chain"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_revenue")),
        sa.UniqueConstraint("chain_id", "year", name=op.f("uq_chain_revenue_chain_id_year")),
        comment="Each chain's revenue per year (产业链营收), entered by its chain office: the actual of its revenue targets and, summed over the iconic chains, of the city's goal for the 13 chains (1.1万亿 in 2025)",
    )
    op.execute(
        "CREATE TRIGGER chain_revenue_set_updated_at BEFORE UPDATE ON chain_revenue FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION set_updated_at()"
    )
    op.execute(
        "CREATE TRIGGER chain_revenue_record_insert_delete AFTER INSERT OR DELETE ON chain_revenue FOR EACH ROW EXECUTE FUNCTION record_change()"
    )
    op.execute(
        "CREATE TRIGGER chain_revenue_record_update AFTER UPDATE ON chain_revenue FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION record_change()"
    )
    op.add_column(
        "target",
        sa.Column(
            "unit_id",
            sa.BigInteger(),
            nullable=True,
            comment="The office, for scope unit (with chain_id: its target in that chain)",
        ),
    )
    op.alter_column(
        "target",
        "scope",
        existing_type=sa.VARCHAR(length=8),
        comment="city, chain, district (a planning unit) or unit (an office)",
        existing_comment="city, chain or district",
        existing_nullable=False,
    )
    op.alter_column(
        "target",
        "metric",
        existing_type=sa.VARCHAR(length=32),
        comment="industrial_revenue (规上工业营收), iconic_chains_revenue, chain_revenue, industrial_profit, projects_signed, investment_signed, projects_started (开工项目数), funds_arrived (到位资金) or foreign_capital_used (实际使用外资)",
        existing_comment="industrial_revenue (规上工业营收), iconic_chains_revenue, chain_revenue, industrial_profit, projects_signed or investment_signed",
        existing_nullable=False,
    )
    op.alter_column(
        "target",
        "unit",
        existing_type=sa.VARCHAR(length=10),
        comment="Unit of both values: cny_100m (亿元), usd_10k (万美元), count or percent",
        existing_comment="Unit of both values: cny_100m (亿元), count or percent",
        existing_nullable=False,
    )
    op.drop_index(
        op.f("uq_target_scope_year_metric"), table_name="target", postgresql_nulls_not_distinct=True
    )
    op.create_index(
        "uq_target_scope_year_metric",
        "target",
        ["scope", "chain_id", "district_id", "unit_id", "year", "metric"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    op.create_index("ix_target_unit_id", "target", ["unit_id"], unique=False)
    op.create_foreign_key(
        op.f("fk_target_unit_id_unit"), "target", "unit", ["unit_id"], ["id"], ondelete="RESTRICT"
    )
    # ### end Alembic commands ###
    for name, (_, after) in CHECKS.items():
        op.drop_constraint(op.f(f"ck_target_{name}"), "target", type_="check")
        op.create_check_constraint(op.f(f"ck_target_{name}"), "target", after)
    op.execute("ALTER TABLE chain_revenue ENABLE ROW LEVEL SECURITY")
    for name, command, using, check in POLICIES:
        clauses = f"FOR {command}"
        if using is not None:
            clauses += f" USING ({using})"
        if check is not None:
            clauses += f" WITH CHECK ({check})"
        op.execute(f"CREATE POLICY {name} ON chain_revenue {clauses}")
    for sql in VIEW_SQL.values():
        op.execute(sql)
    grant_select_like_reports(NEW_VIEW)


def downgrade() -> None:
    op.execute(f"DROP VIEW IF EXISTS {NEW_VIEW}")
    # The view as it was: dropped first (a replacement cannot lose columns), then its grants.
    gap = released("f0d0aa0340fa")
    gap._keep_grants(["report_target_progress"])
    op.execute("DROP VIEW IF EXISTS report_target_progress")
    op.execute(released("7c21d5e8a4f0").VIEW_SQL["report_target_progress"])
    gap._grant_again()
    op.execute(
        "DELETE FROM target WHERE scope = 'unit' OR metric IN ('projects_started', "
        "'funds_arrived', 'foreign_capital_used') OR unit = 'usd_10k'"
    )
    for name, (before, _) in CHECKS.items():
        op.drop_constraint(op.f(f"ck_target_{name}"), "target", type_="check")
        op.create_check_constraint(op.f(f"ck_target_{name}"), "target", before)
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_constraint(op.f("fk_target_unit_id_unit"), "target", type_="foreignkey")
    op.drop_index("ix_target_unit_id", table_name="target")
    op.drop_index(
        "uq_target_scope_year_metric", table_name="target", postgresql_nulls_not_distinct=True
    )
    op.create_index(
        op.f("uq_target_scope_year_metric"),
        "target",
        ["scope", "chain_id", "district_id", "year", "metric"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    op.alter_column(
        "target",
        "unit",
        existing_type=sa.VARCHAR(length=10),
        comment="Unit of both values: cny_100m (亿元), count or percent",
        existing_comment="Unit of both values: cny_100m (亿元), usd_10k (万美元), count or percent",
        existing_nullable=False,
    )
    op.alter_column(
        "target",
        "metric",
        existing_type=sa.VARCHAR(length=32),
        comment="industrial_revenue (规上工业营收), iconic_chains_revenue, chain_revenue, industrial_profit, projects_signed or investment_signed",
        existing_comment="industrial_revenue (规上工业营收), iconic_chains_revenue, chain_revenue, industrial_profit, projects_signed, investment_signed, projects_started (开工项目数), funds_arrived (到位资金) or foreign_capital_used (实际使用外资)",
        existing_nullable=False,
    )
    op.alter_column(
        "target",
        "scope",
        existing_type=sa.VARCHAR(length=8),
        comment="city, chain or district",
        existing_comment="city, chain, district (a planning unit) or unit (an office)",
        existing_nullable=False,
    )
    op.drop_column("target", "unit_id")
    op.drop_table("chain_revenue")
    # ### end Alembic commands ###
