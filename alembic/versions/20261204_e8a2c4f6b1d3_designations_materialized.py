"""report_designations becomes a materialized view, refreshed like the other reports.

As a plain view every read, even of one chain's rows, worked out the whole city's quality
ladder first: 73 ms at synthetic scale 1 and 516 ms at scale 5, 7 times for 5 times the data
(bench/RESULTS.md), the report that grew fastest. Materialized (same name, columns and
comments; a unique index NULLS NOT DISTINCT, which REFRESH ... CONCURRENTLY needs), a read is
a lookup. designation now notifies the refresher when written (designation_reports_changed), as
the other tables the reports read do; the view's other sources already did.

The SQL is copied here as it is at this revision (chaindb/reports/sql/ holds the current
version). The grants on the view carry over, and back on downgrade, which restores
8d4f6a2c1e73's plain view.

Revision ID: e8a2c4f6b1d3
Revises: b2d4f6a8c0e3
Create Date: 2026-12-04 21:30:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

from chaindb.migrations import released

revision: str = "e8a2c4f6b1d3"
down_revision: str | Sequence[str] | None = "b2d4f6a8c0e3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEW = "report_designations"

VIEW_SQL = {
    VIEW: """-- The quality ladder (优质企业梯度): enterprises per designation type and level, for the whole
-- city, per chain and per planning unit.
-- Materialized: as a plain view every read, even of one chain's rows, worked out the whole
-- city's ladder first (73 ms at synthetic scale 1, 516 ms at scale 5: 7 times for 5 times the
-- data). Its rows are those of the last refresh, which follows a write to designation,
-- chain_role, enterprise, chain or district within seconds, and each new day (valid today).
-- Dropped and created again, never replaced; created WITH DATA.
DROP MATERIALIZED VIEW IF EXISTS report_designations;
CREATE MATERIALIZED VIEW report_designations AS
WITH valid_designation AS (
    SELECT DISTINCT d.enterprise_id, d.type, d.level
    FROM designation AS d
    WHERE d.valid_until IS NULL
       OR d.valid_until >= current_date
),
chain_member AS (
    -- The chains of the designated enterprises (a role live today), one row per pair.
    SELECT DISTINCT r.enterprise_id, r.chain_id
    FROM chain_role AS r
    WHERE r.enterprise_id IN (SELECT v.enterprise_id FROM valid_designation AS v)
      AND role_held_on(r, current_date)
)
SELECT
    'city'::text AS scope,
    NULL::bigint AS chain_id,
    NULL::character varying(40) AS chain_code,
    NULL::bigint AS district_id,
    NULL::character varying(16) AS district_code,
    v.type AS designation_type,
    v.level,
    count(*) AS enterprises
FROM valid_designation AS v
JOIN enterprise AS e ON e.id = v.enterprise_id
WHERE is_local(e)
GROUP BY v.type, v.level
UNION ALL
SELECT
    'chain'::text,
    m.chain_id,
    c.code,
    NULL::bigint,
    NULL::character varying(16),
    v.type,
    v.level,
    count(*)
FROM valid_designation AS v
JOIN chain_member AS m ON m.enterprise_id = v.enterprise_id
JOIN chain AS c ON c.id = m.chain_id
GROUP BY m.chain_id, c.code, v.type, v.level
UNION ALL
SELECT
    'district'::text,
    NULL::bigint,
    NULL::character varying(40),
    e.district_id,
    dist.code,
    v.type,
    v.level,
    count(*)
FROM valid_designation AS v
JOIN enterprise AS e ON e.id = v.enterprise_id
JOIN district AS dist ON dist.id = e.district_id
GROUP BY e.district_id, dist.code, v.type, v.level;

-- One row per scope, key, type and level (the keys NULL where the scope has none).
CREATE UNIQUE INDEX uq_report_designations_scope_key
    ON report_designations (scope, chain_id, district_id, designation_type, level)
    NULLS NOT DISTINCT;
CREATE INDEX ix_report_designations_chain_id ON report_designations (chain_id);
CREATE INDEX ix_report_designations_district_id ON report_designations (district_id);

COMMENT ON MATERIALIZED VIEW report_designations IS
    'The quality ladder (优质企业梯度: 创新型中小企业 → 专精特新 → 小巨人, and 单项冠军, 高新技术, '
    '瞪羚, 独角兽): distinct enterprises holding a designation valid today, per type and level, '
    'for the city (local enterprises), per chain (enterprises with a role live today in it, '
    'local or not) and per planning unit (its enterprises). One row per scope, key, type and '
    'level with at least one enterprise.';
COMMENT ON COLUMN report_designations.scope IS
    'city (local enterprises), chain (chain_id set) or district (district_id set)';
COMMENT ON COLUMN report_designations.chain_id IS 'The chain, for scope chain; else NULL';
COMMENT ON COLUMN report_designations.chain_code IS 'Natural key of the chain, for scope chain';
COMMENT ON COLUMN report_designations.district_id IS
    'The planning unit, for scope district; else NULL';
COMMENT ON COLUMN report_designations.district_code IS
    'Natural key of the planning unit, for scope district';
COMMENT ON COLUMN report_designations.designation_type IS
    'innovative_sme (创新型中小企业), specialized_sme (专精特新中小企业), little_giant (小巨人), '
    'single_champion (单项冠军), high_tech (高新技术企业), gazelle (瞪羚) or unicorn (独角兽)';
COMMENT ON COLUMN report_designations.level IS
    'national, provincial or city: the level that granted it';
COMMENT ON COLUMN report_designations.enterprises IS
    'Distinct enterprises of the scope holding a designation of that type and level valid today '
    '(valid_until NULL or today or later)';
"""
}


def upgrade() -> None:
    gap = released("f0d0aa0340fa")
    gap._keep_grants([VIEW])
    op.execute(f"DROP VIEW {VIEW}")
    op.execute(VIEW_SQL[VIEW])
    gap._grant_again()
    op.execute(f"ANALYZE {VIEW}")
    # Created WITH DATA just now: the figures are as of this migration.
    op.execute(
        "INSERT INTO report_refresh (view_name, refreshed_at) "
        f"VALUES ('{VIEW}', now()) "
        "ON CONFLICT (view_name) DO UPDATE SET refreshed_at = EXCLUDED.refreshed_at, seconds = NULL"
    )
    op.execute(
        "CREATE TRIGGER designation_reports_changed "
        "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON designation "
        "FOR EACH STATEMENT EXECUTE FUNCTION report_sources_changed()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS designation_reports_changed ON designation")
    gap = released("f0d0aa0340fa")
    gap._keep_grants([VIEW])
    op.execute(f"DROP MATERIALIZED VIEW {VIEW}")
    op.execute(f"DELETE FROM report_refresh WHERE view_name = '{VIEW}'")
    op.execute(released("8d4f6a2c1e73").VIEW_SQL[VIEW])
    gap._grant_again()
