"""Leading chains (主导产业, 一区一主业) of the planning units, with a period; the functions that say
whether a unit leads on a chain on a day, and the view that compares the units.

- leading_chain: audited; everyone reads it; the city bureau writes it.
- leads_chain(district_id, chain_id, day): the unit leads on the chain that day (a key chain
  counts with its iconic parent); has_leading_chains(district_id, day): it leads on any.
- report_district_specialisation: per unit and chain, leading or not, the approved projects, the
  flag of projects outside the unit's leading chains, and how many units lead on the chain.

Revision ID: 5c1e9a7d3f42
Revises: 2e8b6d4a9c31
Create Date: 2026-12-04 13:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from chaindb.migrations import grant_select_like_reports

revision: str = "5c1e9a7d3f42"
down_revision: str | Sequence[str] | None = "2e8b6d4a9c31"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALL = "(SELECT scope_all())"
# A period covering `day`, unknown ends open.
COVERS = "(l.since IS NULL OR l.since <= day) AND (l.until IS NULL OR l.until >= day)"
FUNCTIONS = {
    "leads_chain(bigint, bigint, date)": f"""
CREATE FUNCTION leads_chain(district_id bigint, chain_id bigint, day date) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
RETURN EXISTS (
    SELECT 1
    FROM leading_chain AS l
    JOIN chain AS c ON c.id = leads_chain.chain_id
    WHERE l.district_id = leads_chain.district_id
      AND (l.chain_id = c.id OR l.chain_id = c.parent_id)
      AND {COVERS}
)
""",
    "has_leading_chains(bigint, date)": f"""
CREATE FUNCTION has_leading_chains(district_id bigint, day date) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
RETURN EXISTS (
    SELECT 1 FROM leading_chain AS l
    WHERE l.district_id = has_leading_chains.district_id AND {COVERS}
)
""",
}
COMMENTS = {
    "leads_chain(bigint, bigint, date)": "The planning unit leads on the chain (主导产业) on the "
    "day: a leading_chain row for the chain, or for the iconic chain a key chain sits under, "
    "whose period covers the day",
    "has_leading_chains(bigint, date)": "The planning unit has any leading chain on the day (a "
    "project elsewhere is then flagged)",
}
VIEW = "report_district_specialisation"
VIEW_SQL = {
    VIEW: """
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
""",
}


def upgrade() -> None:
    op.create_table(
        "leading_chain",
        sa.Column(
            "id",
            sa.BigInteger(),
            sa.Identity(always=False),
            nullable=False,
            comment="Surrogate key",
        ),
        sa.Column("district_id", sa.BigInteger(), nullable=False, comment="The planning unit"),
        sa.Column(
            "chain_id",
            sa.BigInteger(),
            nullable=False,
            comment="The chain it leads on (a key chain under an iconic one counts with it)",
        ),
        sa.Column("since", sa.Date(), nullable=True, comment="First day, when known"),
        sa.Column("until", sa.Date(), nullable=True, comment="Last day; NULL while it lasts"),
        sa.Column("source", sa.Text(), nullable=True, comment="Where the designation comes from"),
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
            "char_length(notes) <= 10000", name=op.f("ck_leading_chain_notes_length")
        ),
        sa.CheckConstraint(
            "char_length(source) <= 10000", name=op.f("ck_leading_chain_source_length")
        ),
        sa.CheckConstraint(
            "until IS NULL OR since IS NULL OR until >= since",
            name=op.f("ck_leading_chain_period_order"),
        ),
        sa.ForeignKeyConstraint(
            ["chain_id"],
            ["chain.id"],
            name=op.f("fk_leading_chain_chain_id_chain"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["district.id"],
            name=op.f("fk_leading_chain_district_id_district"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leading_chain")),
        sa.UniqueConstraint(
            "district_id",
            "chain_id",
            "since",
            name=op.f("uq_leading_chain_district_id_chain_id_since"),
        ),
        comment="The leading chains (主导产业) of each planning unit, with their period: a project in another chain is flagged (not refused), and units are compared by them (一区一主业); set by the city bureau",
    )
    op.execute(
        "CREATE TRIGGER leading_chain_set_updated_at BEFORE UPDATE ON leading_chain FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION set_updated_at()"
    )
    op.execute(
        "CREATE TRIGGER leading_chain_record_insert_delete AFTER INSERT OR DELETE ON leading_chain FOR EACH ROW EXECUTE FUNCTION record_change()"
    )
    op.execute(
        "CREATE TRIGGER leading_chain_record_update AFTER UPDATE ON leading_chain FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION record_change()"
    )
    op.create_index(op.f("ix_leading_chain_chain_id"), "leading_chain", ["chain_id"], unique=False)
    op.create_index(
        op.f("ix_leading_chain_district_id"), "leading_chain", ["district_id"], unique=False
    )
    op.execute("ALTER TABLE leading_chain ENABLE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY leading_chain_read ON leading_chain FOR SELECT USING (true)")
    op.execute(
        f"CREATE POLICY leading_chain_write ON leading_chain FOR ALL USING ({ALL}) WITH CHECK ({ALL})"
    )
    for signature, create in FUNCTIONS.items():
        op.execute(create)
        comment = COMMENTS[signature].replace("'", "''")
        op.execute(f"COMMENT ON FUNCTION {signature} IS '{comment}'")
    op.execute(VIEW_SQL[VIEW])
    grant_select_like_reports(VIEW)


def downgrade() -> None:
    op.execute(f"DROP VIEW IF EXISTS {VIEW}")
    for signature in reversed(FUNCTIONS):
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    op.drop_index(op.f("ix_leading_chain_district_id"), table_name="leading_chain")
    op.drop_index(op.f("ix_leading_chain_chain_id"), table_name="leading_chain")
    op.drop_table("leading_chain")
