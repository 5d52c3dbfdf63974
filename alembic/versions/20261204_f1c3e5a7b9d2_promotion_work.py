"""The promotion work that produces projects: leads (招商线索), the negotiation log (洽谈记录)
with its files, and promotion trips and events (外出招商, 招商推介会) with the enterprises visited.

- lead: an enterprise (in chaindb or only a name, region and industry) a unit pursues for a
  chain (and segment), with an owner, a source, a status (new, contacted, negotiating, signed,
  dropped with a reason) and the next follow-up date; one open lead per unit, enterprise and
  chain.
- project.lead_id: the lead a project was converted from. lead_follows_project() (SECURITY
  DEFINER, on project): a project that names a lead signs it (an open lead only), and a lead
  whose project is deleted or unnamed goes back to negotiating. lead_guard() (on lead): a lead
  is signed only by a project naming it, and stays signed while one does.
- negotiation: a contact with a lead's or a project's enterprise; negotiation_moves_lead()
  (SECURITY DEFINER): the newest entry on a lead sets its next follow-up date, and a new lead
  becomes contacted. negotiation_file: its files (as project_evidence: PDF, JPEG, PNG).
- trip, trip_visit: trips and events, and the enterprises visited, each with the lead it opened
  or moved.
- Row-level security: a lead is read by its unit, the city bureau, its chain's office and its
  planning unit's office, and written by its unit and the city bureau; a negotiation is read by
  whoever reads its lead or project (or logged it) and written by the unit that logged it; trips
  by their unit and the city bureau.

Revision ID: f1c3e5a7b9d2
Revises: d3a7f1c9e5b2
Create Date: 2026-12-04 10:56:56.465527+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f1c3e5a7b9d2"
down_revision: str | Sequence[str] | None = "d3a7f1c9e5b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "chaindb_app"
ALL = "(SELECT scope_all())"
UNIT = "(SELECT acting_unit())"
DISTRICT = "(SELECT scope_district())"
CHAINS = "CAST((SELECT scope_chains()) AS bigint[])"
OPEN = "('new', 'contacted', 'negotiating')"

FUNCTIONS = {
    "lead_guard()": """
CREATE FUNCTION lead_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  signed_by bigint := (SELECT p.id FROM project AS p WHERE p.lead_id = NEW.id);
BEGIN
  IF NEW.status = 'signed' AND signed_by IS NULL THEN
    RAISE EXCEPTION 'a lead is signed by converting it into a project'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_lead_signed_by_a_project',
            TABLE = 'lead', COLUMN = 'status';
  END IF;
  IF NEW.status <> 'signed' AND signed_by IS NOT NULL THEN
    RAISE EXCEPTION 'lead % is signed by project %: it stays signed while the project names it',
      NEW.id, signed_by
      USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_lead_stays_signed',
            TABLE = 'lead', COLUMN = 'status';
  END IF;
  RETURN NEW;
END
$$
""",
    "lead_follows_project()": f"""
CREATE FUNCTION lead_follows_project() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  old_lead bigint := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN OLD.lead_id END;
  new_lead bigint := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN NEW.lead_id END;
  status text;
BEGIN
  IF old_lead IS NOT DISTINCT FROM new_lead THEN
    RETURN NULL;
  END IF;
  IF old_lead IS NOT NULL THEN
    -- Back to negotiating; or, when the unit has meanwhile opened another lead for the same
    -- enterprise and chain, dropped in its favour.
    UPDATE lead AS l
    SET status = CASE WHEN other.id IS NULL THEN 'negotiating' ELSE 'dropped' END,
        dropped_reason = CASE WHEN other.id IS NULL THEN l.dropped_reason
                              ELSE 'its project was removed; lead ' || other.id || ' is open' END
    FROM lead AS me
    LEFT JOIN lead AS other
      ON other.id <> me.id AND other.unit_id = me.unit_id AND other.chain_id = me.chain_id
     AND other.enterprise_id = me.enterprise_id AND other.status IN {OPEN}
    WHERE l.id = old_lead AND me.id = old_lead AND l.status = 'signed';
  END IF;
  IF new_lead IS NOT NULL THEN
    SELECT l.status INTO status FROM lead AS l WHERE l.id = new_lead FOR UPDATE;
    IF status NOT IN {OPEN} THEN
      RAISE EXCEPTION 'lead % is %: only an open lead (new, contacted, negotiating) becomes a '
        'project', new_lead, status
        USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_project_lead_is_open',
              TABLE = 'project', COLUMN = 'lead_id';
    END IF;
    UPDATE lead SET status = 'signed', next_follow_up_on = NULL WHERE id = new_lead;
  END IF;
  RETURN NULL;
END
$$
""",
    "negotiation_moves_lead()": f"""
CREATE FUNCTION negotiation_moves_lead() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF NEW.lead_id IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM negotiation AS n
       WHERE n.lead_id = NEW.lead_id AND n.id <> NEW.id
         AND (n.held_on, n.id) > (NEW.held_on, NEW.id)) THEN
    -- Only the own unit of the lead (or the city bureau) moves it; an entry without a date keeps
    -- the one the lead has.
    UPDATE lead
    SET next_follow_up_on = COALESCE(NEW.next_follow_up_on, lead.next_follow_up_on),
        status = CASE WHEN lead.status = 'new' THEN 'contacted' ELSE lead.status END
    WHERE id = NEW.lead_id AND lead.status IN {OPEN}
      AND (lead.unit_id = NEW.unit_id
           OR EXISTS (SELECT 1 FROM unit AS u WHERE u.id = NEW.unit_id AND u.kind = 'city'));
  END IF;
  RETURN NULL;
END
$$
""",
    "project_lead_of_the_unit()": f"""
CREATE FUNCTION project_lead_of_the_unit() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  before_lead bigint := CASE WHEN TG_OP = 'UPDATE' THEN OLD.lead_id END;
BEGIN
  -- The application converts only a lead of the acting unit (the city bureau: any); the
  -- owner (seeds, a DBA) is not asked. Runs with the rights of the caller, as row-level security.
  IF current_user = '{APP_ROLE}' AND NEW.lead_id IS NOT NULL
     AND NEW.lead_id IS DISTINCT FROM before_lead
     AND NOT EXISTS (
       SELECT 1 FROM lead AS l
       WHERE l.id = NEW.lead_id AND ((SELECT scope_all()) OR l.unit_id = acting_unit())) THEN
    RAISE EXCEPTION 'lead % belongs to another unit: only its unit converts it', NEW.lead_id
      USING ERRCODE = 'check_violation', CONSTRAINT = 'project_lead_of_the_unit',
            TABLE = 'project', COLUMN = 'lead_id';
  END IF;
  RETURN NEW;
END
$$
""",
    "project_keeps_negotiations()": """
CREATE FUNCTION project_keeps_negotiations() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  -- A deleted project converted from a lead leaves its negotiations to the lead.
  IF OLD.lead_id IS NOT NULL THEN
    UPDATE negotiation SET lead_id = OLD.lead_id, project_id = NULL WHERE project_id = OLD.id;
  END IF;
  RETURN OLD;
END
$$
""",
}

COMMENTS = {
    "lead_guard()": "A lead is signed only by a project that names it (project.lead_id), and "
    "stays signed while one does",
    "lead_follows_project()": "A project that names a lead signs it (an open lead only); a lead "
    "whose project is deleted or no longer names it goes back to negotiating",
    "negotiation_moves_lead()": "The newest negotiation entry of an open lead, logged by its "
    "unit or the city bureau, sets its next follow-up date (when it gives one), and a new lead "
    "becomes contacted",
    "project_lead_of_the_unit()": "The application converts only a lead of the acting unit into "
    "a project (the city bureau: any lead)",
    "project_keeps_negotiations()": "A deleted project converted from a lead leaves its "
    "negotiation entries to the lead",
}

TRIGGERS = [
    "CREATE TRIGGER lead_guard BEFORE INSERT OR UPDATE OF status ON lead "
    "FOR EACH ROW EXECUTE FUNCTION lead_guard()",
    "CREATE TRIGGER lead_follows_project AFTER INSERT OR UPDATE OF lead_id OR DELETE ON project "
    "FOR EACH ROW EXECUTE FUNCTION lead_follows_project()",
    "CREATE TRIGGER negotiation_moves_lead AFTER INSERT OR UPDATE OF held_on, next_follow_up_on "
    "ON negotiation FOR EACH ROW EXECUTE FUNCTION negotiation_moves_lead()",
    "CREATE TRIGGER project_lead_of_the_unit BEFORE INSERT OR UPDATE OF lead_id ON project "
    "FOR EACH ROW EXECUTE FUNCTION project_lead_of_the_unit()",
    "CREATE TRIGGER project_keeps_negotiations BEFORE DELETE ON project "
    "FOR EACH ROW EXECUTE FUNCTION project_keeps_negotiations()",
]

# The change log shows a lead's, a negotiation's and a trip's changes (and a visit's) to whoever
# may read the row, or to the unit the logged row belonged to; a project's as before.
LOGGED_UNIT = "CAST(COALESCE(after, before) ->> 'unit_id' AS bigint)"
CHANGE_LOG_READ_BEFORE = (
    f"(table_name NOT IN ('project', 'project_stage_event') OR {ALL} "
    "OR EXISTS (SELECT 1 FROM project AS p WHERE p.id = CASE table_name "
    "WHEN 'project' THEN record_id "
    "ELSE CAST(COALESCE(after, before) ->> 'project_id' AS bigint) END))"
)
CHANGE_LOG_READ = (
    "(table_name NOT IN ('project', 'project_stage_event', 'lead', 'negotiation', 'trip', "
    f"'trip_visit') OR {ALL} "
    "OR (table_name IN ('project', 'project_stage_event') AND EXISTS (SELECT 1 FROM project AS p "
    "WHERE p.id = CASE table_name WHEN 'project' THEN record_id "
    "ELSE CAST(COALESCE(after, before) ->> 'project_id' AS bigint) END)) "
    f"OR (table_name IN ('lead', 'negotiation', 'trip') AND {LOGGED_UNIT} = {UNIT}) "
    "OR (table_name = 'lead' AND EXISTS (SELECT 1 FROM lead AS l WHERE l.id = record_id)) "
    "OR (table_name = 'negotiation' AND EXISTS (SELECT 1 FROM negotiation AS n "
    "WHERE n.id = record_id)) "
    "OR (table_name = 'trip_visit' AND EXISTS (SELECT 1 FROM trip AS t "
    "WHERE t.id = CAST(COALESCE(after, before) ->> 'trip_id' AS bigint))))"
)

LEAD_WRITABLE = f"({ALL} OR unit_id = {UNIT})"
NEGOTIATION_OF_ONE_IN_SCOPE = (
    "(lead_id IS NULL OR EXISTS (SELECT 1 FROM lead AS l WHERE l.id = lead_id)) "
    "AND (project_id IS NULL OR EXISTS (SELECT 1 FROM project AS p WHERE p.id = project_id))"
)
NEGOTIATION_WRITABLE = (
    f"EXISTS (SELECT 1 FROM negotiation AS n WHERE n.id = negotiation_id "
    f"AND ({ALL} OR n.unit_id = {UNIT}))"
)

# table -> [(policy, command, USING, WITH CHECK)]; a None condition is left out.
POLICIES: dict[str, list[tuple[str, str, str | None, str | None]]] = {
    "lead": [
        (
            "lead_read",
            "SELECT",
            f"({ALL} OR unit_id = {UNIT} OR chain_id = ANY ({CHAINS}) OR district_id = {DISTRICT})",
            None,
        ),
        ("lead_insert", "INSERT", None, LEAD_WRITABLE),
        ("lead_update", "UPDATE", LEAD_WRITABLE, LEAD_WRITABLE),
        ("lead_delete", "DELETE", LEAD_WRITABLE, None),
    ],
    "negotiation": [
        (
            "negotiation_read",
            "SELECT",
            f"({ALL} OR unit_id = {UNIT} OR (lead_id IS NOT NULL AND EXISTS (SELECT 1 FROM lead "
            "AS l WHERE l.id = lead_id)) OR (project_id IS NOT NULL AND EXISTS (SELECT 1 FROM "
            "project AS p WHERE p.id = project_id)))",
            None,
        ),
        (
            "negotiation_insert",
            "INSERT",
            None,
            f"{LEAD_WRITABLE} AND {NEGOTIATION_OF_ONE_IN_SCOPE}",
        ),
        (
            "negotiation_update",
            "UPDATE",
            LEAD_WRITABLE,
            f"{LEAD_WRITABLE} AND {NEGOTIATION_OF_ONE_IN_SCOPE}",
        ),
        ("negotiation_delete", "DELETE", LEAD_WRITABLE, None),
    ],
    "negotiation_file": [
        (
            "negotiation_file_read",
            "SELECT",
            "EXISTS (SELECT 1 FROM negotiation AS n WHERE n.id = negotiation_id)",
            None,
        ),
        ("negotiation_file_insert", "INSERT", None, NEGOTIATION_WRITABLE),
        ("negotiation_file_delete", "DELETE", NEGOTIATION_WRITABLE, None),
    ],
    "trip": [("trip_in_scope", "ALL", LEAD_WRITABLE, LEAD_WRITABLE)],
    "trip_visit": [
        (
            "trip_visit_of_a_trip_in_scope",
            "ALL",
            "EXISTS (SELECT 1 FROM trip AS t WHERE t.id = trip_id)",
            "EXISTS (SELECT 1 FROM trip AS t WHERE t.id = trip_id)",
        )
    ],
}

GRANTS = [f"REVOKE UPDATE ON negotiation_file FROM {APP_ROLE}"]


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table(
        "trip",
        sa.Column(
            "id",
            sa.BigInteger(),
            sa.Identity(always=False),
            nullable=False,
            comment="Surrogate key",
        ),
        sa.Column(
            "unit_id",
            sa.BigInteger(),
            server_default=sa.text("acting_unit()"),
            nullable=False,
            comment="The unit that organised it (by default the acting unit)",
        ),
        sa.Column(
            "kind",
            sa.String(length=8),
            server_default=sa.text("'trip'"),
            nullable=False,
            comment="trip (外出招商) or event (招商推介会)",
        ),
        sa.Column("title", sa.Text(), nullable=False, comment="What it is called"),
        sa.Column("starts_on", sa.Date(), nullable=False, comment="First day"),
        sa.Column("ends_on", sa.Date(), nullable=False, comment="Last day"),
        sa.Column(
            "destination",
            sa.Text(),
            nullable=True,
            comment="Where to (cities), or the venue of an event",
        ),
        sa.Column("leader", sa.Text(), nullable=True, comment="Who led it (name and post)"),
        sa.Column("participants", sa.Text(), nullable=True, comment="Who went: names and posts"),
        sa.Column("notes", sa.Text(), nullable=True, comment="Free text: the outcome"),
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
        sa.CheckConstraint("btrim(title) <> ''", name=op.f("ck_trip_title_not_blank")),
        sa.CheckConstraint("kind IN ('trip', 'event')", name=op.f("ck_trip_kind")),
        sa.CheckConstraint(
            "char_length(destination) <= 200", name=op.f("ck_trip_destination_length")
        ),
        sa.CheckConstraint("char_length(leader) <= 200", name=op.f("ck_trip_leader_length")),
        sa.CheckConstraint("char_length(notes) <= 10000", name=op.f("ck_trip_notes_length")),
        sa.CheckConstraint(
            "char_length(participants) <= 10000", name=op.f("ck_trip_participants_length")
        ),
        sa.CheckConstraint("char_length(title) <= 200", name=op.f("ck_trip_title_length")),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_trip_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_trip_unit_id_unit"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trip")),
        comment="Promotion trips and events (外出招商, 招商推介会): dates, destination, the leader, the participants, and the enterprises visited (trip_visit); belong to the unit that organised them",
    )
    op.execute(
        "CREATE TRIGGER trip_set_updated_at BEFORE UPDATE ON trip FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION set_updated_at()"
    )
    op.execute(
        "CREATE TRIGGER trip_record_insert_delete AFTER INSERT OR DELETE ON trip FOR EACH ROW EXECUTE FUNCTION record_change()"
    )
    op.execute(
        "CREATE TRIGGER trip_record_update AFTER UPDATE ON trip FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION record_change()"
    )
    op.create_index("ix_trip_unit_id_starts_on", "trip", ["unit_id", "starts_on"], unique=False)
    op.create_table(
        "lead",
        sa.Column(
            "id",
            sa.BigInteger(),
            sa.Identity(always=False),
            nullable=False,
            comment="Surrogate key",
        ),
        sa.Column(
            "unit_id",
            sa.BigInteger(),
            server_default=sa.text("acting_unit()"),
            nullable=False,
            comment="The unit that pursues it (by default the acting unit)",
        ),
        sa.Column(
            "owner_id",
            sa.BigInteger(),
            nullable=True,
            comment="The officer in charge (a user of the unit)",
        ),
        sa.Column(
            "enterprise_id",
            sa.BigInteger(),
            nullable=True,
            comment="The enterprise, when chaindb has it",
        ),
        sa.Column(
            "enterprise_name",
            sa.Text(),
            nullable=True,
            comment="The enterprise's name, when chaindb does not have it",
        ),
        sa.Column(
            "region",
            sa.Text(),
            nullable=True,
            comment="Where the enterprise is (province, city), e.g. 广东省深圳市",
        ),
        sa.Column("industry", sa.Text(), nullable=True, comment="Its industry, in its own words"),
        sa.Column(
            "chain_id", sa.BigInteger(), nullable=False, comment="The chain it is pursued for"
        ),
        sa.Column(
            "segment_id",
            sa.BigInteger(),
            nullable=True,
            comment="The segment of that chain it would fill, when known",
        ),
        sa.Column(
            "district_id",
            sa.BigInteger(),
            nullable=True,
            comment="The planning unit it would land in, when known",
        ),
        sa.Column(
            "source",
            sa.String(length=16),
            nullable=False,
            comment="gap_candidate (补链招商名单), trip (外出招商), event (推介会), referral, investor (以商招商), fund (基金招商) or other",
        ),
        sa.Column(
            "source_detail",
            sa.Text(),
            nullable=True,
            comment="Who referred it, which investor or fund, which event",
        ),
        sa.Column(
            "trip_id", sa.BigInteger(), nullable=True, comment="The trip or event it came from"
        ),
        sa.Column(
            "status",
            sa.String(length=12),
            server_default=sa.text("'new'"),
            nullable=False,
            comment="new, contacted, negotiating, signed (a project names it) or dropped",
        ),
        sa.Column(
            "next_follow_up_on",
            sa.Date(),
            nullable=True,
            comment="When to follow it up next (a negotiation logged on it moves this)",
        ),
        sa.Column("dropped_reason", sa.Text(), nullable=True, comment="Why it was dropped"),
        sa.Column(
            "expected_investment_cny_100m",
            sa.Numeric(precision=14, scale=4),
            nullable=True,
            comment="The investment hoped for, in 亿元",
        ),
        sa.Column("contact_name", sa.Text(), nullable=True, comment="Their contact person"),
        sa.Column("contact_phone", sa.Text(), nullable=True, comment="Their contact's phone"),
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
            "enterprise_id IS NOT NULL OR COALESCE(btrim(enterprise_name), '') <> ''",
            name=op.f("ck_lead_names_its_enterprise"),
        ),
        sa.CheckConstraint(
            "source IN ('gap_candidate', 'trip', 'event', 'referral', 'investor', 'fund', 'other')",
            name=op.f("ck_lead_source"),
        ),
        sa.CheckConstraint(
            "status <> 'dropped' OR COALESCE(btrim(dropped_reason), '') <> ''",
            name=op.f("ck_lead_dropped_with_a_reason"),
        ),
        sa.CheckConstraint(
            "status IN ('new', 'contacted', 'negotiating', 'signed', 'dropped')",
            name=op.f("ck_lead_status"),
        ),
        sa.CheckConstraint(
            "char_length(contact_name) <= 200", name=op.f("ck_lead_contact_name_length")
        ),
        sa.CheckConstraint(
            "char_length(contact_phone) <= 200", name=op.f("ck_lead_contact_phone_length")
        ),
        sa.CheckConstraint(
            "char_length(dropped_reason) <= 10000", name=op.f("ck_lead_dropped_reason_length")
        ),
        sa.CheckConstraint(
            "char_length(enterprise_name) <= 200", name=op.f("ck_lead_enterprise_name_length")
        ),
        sa.CheckConstraint("char_length(industry) <= 200", name=op.f("ck_lead_industry_length")),
        sa.CheckConstraint("char_length(notes) <= 10000", name=op.f("ck_lead_notes_length")),
        sa.CheckConstraint("char_length(region) <= 200", name=op.f("ck_lead_region_length")),
        sa.CheckConstraint(
            "char_length(source_detail) <= 200", name=op.f("ck_lead_source_detail_length")
        ),
        sa.CheckConstraint(
            "expected_investment_cny_100m IS NULL OR expected_investment_cny_100m >= 0",
            name=op.f("ck_lead_expected_investment_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["chain_id", "segment_id"],
            ["chain_segment.chain_id", "chain_segment.id"],
            name="fk_lead_segment_same_chain",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["chain_id"], ["chain.id"], name=op.f("fk_lead_chain_id_chain"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["district.id"],
            name=op.f("fk_lead_district_id_district"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_lead_enterprise_id_enterprise"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["app_user.id"],
            name=op.f("fk_lead_owner_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["trip_id"], ["trip.id"], name=op.f("fk_lead_trip_id_trip"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_lead_unit_id_unit"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead")),
        comment="Leads (招商线索): the enterprises a unit pursues for a chain, with an owner, a source, a status (new, contacted, negotiating, signed as a project, dropped with a reason) and the next follow-up date; seen by its unit, the city bureau and the offices of its chain and planning unit",
    )
    op.execute(
        "CREATE TRIGGER lead_set_updated_at BEFORE UPDATE ON lead FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION set_updated_at()"
    )
    op.execute(
        "CREATE TRIGGER lead_record_insert_delete AFTER INSERT OR DELETE ON lead FOR EACH ROW EXECUTE FUNCTION record_change()"
    )
    op.execute(
        "CREATE TRIGGER lead_record_update AFTER UPDATE ON lead FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION record_change()"
    )
    op.create_index("ix_lead_chain_id", "lead", ["chain_id"], unique=False)
    op.create_index(op.f("ix_lead_district_id"), "lead", ["district_id"], unique=False)
    op.create_index("ix_lead_enterprise_id", "lead", ["enterprise_id"], unique=False)
    op.create_index(
        "ix_lead_next_follow_up_on",
        "lead",
        ["next_follow_up_on"],
        unique=False,
        postgresql_where="status IN ('new', 'contacted', 'negotiating')",
    )
    op.create_index("ix_lead_owner_id", "lead", ["owner_id"], unique=False)
    op.create_index(op.f("ix_lead_trip_id"), "lead", ["trip_id"], unique=False)
    op.create_index("ix_lead_unit_id_status", "lead", ["unit_id", "status"], unique=False)
    op.create_index(
        "uq_lead_open_unit_id_enterprise_id_chain_id",
        "lead",
        ["unit_id", "enterprise_id", "chain_id"],
        unique=True,
        postgresql_where="enterprise_id IS NOT NULL AND status IN ('new', 'contacted', 'negotiating')",
    )
    op.create_table(
        "trip_visit",
        sa.Column(
            "id",
            sa.BigInteger(),
            sa.Identity(always=False),
            nullable=False,
            comment="Surrogate key",
        ),
        sa.Column("trip_id", sa.BigInteger(), nullable=False, comment="The trip or event"),
        sa.Column(
            "enterprise_id",
            sa.BigInteger(),
            nullable=True,
            comment="The enterprise, when chaindb has it",
        ),
        sa.Column(
            "enterprise_name",
            sa.Text(),
            nullable=True,
            comment="The enterprise's name, when chaindb does not have it",
        ),
        sa.Column("visited_on", sa.Date(), nullable=True, comment="The day of the visit"),
        sa.Column(
            "lead_id", sa.BigInteger(), nullable=True, comment="The lead the visit opened or moved"
        ),
        sa.Column("notes", sa.Text(), nullable=True, comment="What was said, what came of it"),
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
            "enterprise_id IS NOT NULL OR COALESCE(btrim(enterprise_name), '') <> ''",
            name=op.f("ck_trip_visit_names_its_enterprise"),
        ),
        sa.CheckConstraint(
            "char_length(enterprise_name) <= 200", name=op.f("ck_trip_visit_enterprise_name_length")
        ),
        sa.CheckConstraint("char_length(notes) <= 10000", name=op.f("ck_trip_visit_notes_length")),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_trip_visit_enterprise_id_enterprise"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["lead.id"], name=op.f("fk_trip_visit_lead_id_lead"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["trip_id"], ["trip.id"], name=op.f("fk_trip_visit_trip_id_trip"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trip_visit")),
        comment="The enterprises visited on a trip or met at an event, each with the lead it opened or moved, if any",
    )
    op.execute(
        "CREATE TRIGGER trip_visit_set_updated_at BEFORE UPDATE ON trip_visit FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION set_updated_at()"
    )
    op.execute(
        "CREATE TRIGGER trip_visit_record_insert_delete AFTER INSERT OR DELETE ON trip_visit FOR EACH ROW EXECUTE FUNCTION record_change()"
    )
    op.execute(
        "CREATE TRIGGER trip_visit_record_update AFTER UPDATE ON trip_visit FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION record_change()"
    )
    op.create_index(
        op.f("ix_trip_visit_enterprise_id"), "trip_visit", ["enterprise_id"], unique=False
    )
    op.create_index(op.f("ix_trip_visit_lead_id"), "trip_visit", ["lead_id"], unique=False)
    op.create_index(op.f("ix_trip_visit_trip_id"), "trip_visit", ["trip_id"], unique=False)
    op.create_table(
        "negotiation",
        sa.Column(
            "id",
            sa.BigInteger(),
            sa.Identity(always=False),
            nullable=False,
            comment="Surrogate key",
        ),
        sa.Column("lead_id", sa.BigInteger(), nullable=True, comment="The lead it is about"),
        sa.Column("project_id", sa.BigInteger(), nullable=True, comment="The project it is about"),
        sa.Column(
            "unit_id",
            sa.BigInteger(),
            server_default=sa.text("acting_unit()"),
            nullable=False,
            comment="The unit that logged it (by default the acting unit)",
        ),
        sa.Column(
            "recorded_by_id",
            sa.BigInteger(),
            nullable=True,
            comment="The officer who logged it, who follows it up",
        ),
        sa.Column("held_on", sa.Date(), nullable=False, comment="The day it took place"),
        sa.Column("place", sa.Text(), nullable=True, comment="Where (a city, an office, online)"),
        sa.Column(
            "our_participants", sa.Text(), nullable=True, comment="Our side: names and posts"
        ),
        sa.Column(
            "their_participants", sa.Text(), nullable=True, comment="Their side: names with titles"
        ),
        sa.Column("content", sa.Text(), nullable=False, comment="What was discussed"),
        sa.Column("outcome", sa.Text(), nullable=True, comment="What came of it"),
        sa.Column("next_step", sa.Text(), nullable=True, comment="What is to be done next"),
        sa.Column(
            "next_follow_up_on",
            sa.Date(),
            nullable=True,
            comment="When to follow up (on a lead, its next follow-up date becomes this)",
        ),
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
        sa.CheckConstraint("btrim(content) <> ''", name=op.f("ck_negotiation_content_not_blank")),
        sa.CheckConstraint(
            "char_length(content) <= 10000", name=op.f("ck_negotiation_content_length")
        ),
        sa.CheckConstraint(
            "char_length(next_step) <= 10000", name=op.f("ck_negotiation_next_step_length")
        ),
        sa.CheckConstraint(
            "char_length(our_participants) <= 10000",
            name=op.f("ck_negotiation_our_participants_length"),
        ),
        sa.CheckConstraint(
            "char_length(outcome) <= 10000", name=op.f("ck_negotiation_outcome_length")
        ),
        sa.CheckConstraint("char_length(place) <= 200", name=op.f("ck_negotiation_place_length")),
        sa.CheckConstraint(
            "char_length(their_participants) <= 10000",
            name=op.f("ck_negotiation_their_participants_length"),
        ),
        sa.CheckConstraint(
            "next_follow_up_on IS NULL OR next_follow_up_on >= held_on",
            name=op.f("ck_negotiation_follow_up_after_meeting"),
        ),
        sa.CheckConstraint(
            "num_nonnulls(lead_id, project_id) = 1",
            name=op.f("ck_negotiation_of_a_lead_or_a_project"),
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["lead.id"], name=op.f("fk_negotiation_lead_id_lead"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_negotiation_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["app_user.id"],
            name=op.f("fk_negotiation_recorded_by_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_negotiation_unit_id_unit"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_negotiation")),
        comment="Negotiation log (洽谈记录): each contact with a lead's or a project's enterprise: when, where, who on both sides, what was said, the outcome, the next step and when to follow up; belongs to the unit that logged it",
    )
    op.execute(
        "CREATE TRIGGER negotiation_set_updated_at BEFORE UPDATE ON negotiation FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION set_updated_at()"
    )
    op.execute(
        "CREATE TRIGGER negotiation_record_insert_delete AFTER INSERT OR DELETE ON negotiation FOR EACH ROW EXECUTE FUNCTION record_change()"
    )
    op.execute(
        "CREATE TRIGGER negotiation_record_update AFTER UPDATE ON negotiation FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION record_change()"
    )
    op.create_index(
        "ix_negotiation_lead_id_held_on", "negotiation", ["lead_id", "held_on"], unique=False
    )
    op.create_index(
        "ix_negotiation_project_id_held_on", "negotiation", ["project_id", "held_on"], unique=False
    )
    op.create_index(
        op.f("ix_negotiation_recorded_by_id"), "negotiation", ["recorded_by_id"], unique=False
    )
    op.create_index("ix_negotiation_unit_id", "negotiation", ["unit_id"], unique=False)
    op.create_table(
        "negotiation_file",
        sa.Column(
            "id",
            sa.BigInteger(),
            sa.Identity(always=False),
            nullable=False,
            comment="Surrogate key",
        ),
        sa.Column(
            "negotiation_id", sa.BigInteger(), nullable=False, comment="The negotiation entry"
        ),
        sa.Column("file_name", sa.Text(), nullable=False, comment="The file's name as uploaded"),
        sa.Column(
            "media_type",
            sa.String(length=40),
            nullable=False,
            comment="application/pdf, image/jpeg or image/png: found from the content, never the name",
        ),
        sa.Column("content", sa.LargeBinary(), nullable=False, comment="The file (at most 10 MiB)"),
        sa.Column(
            "size_bytes",
            sa.Integer(),
            sa.Computed("octet_length(content)", persisted=True),
            nullable=False,
            comment="Size of the file in bytes",
        ),
        sa.Column(
            "sha256",
            sa.String(length=64),
            sa.Computed("encode(sha256(content), 'hex')", persisted=True),
            nullable=False,
            comment="SHA-256 of the file, in hex (computed by the database)",
        ),
        sa.Column(
            "uploaded_by", sa.Text(), nullable=False, comment="Who attached it (the chaindb user)"
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
            comment="When it was attached",
        ),
        sa.CheckConstraint(
            "CASE media_type WHEN 'application/pdf' THEN substring(content FROM 1 FOR 5) = decode('255044462d', 'hex') WHEN 'image/jpeg' THEN substring(content FROM 1 FOR 3) = decode('ffd8ff', 'hex') WHEN 'image/png' THEN substring(content FROM 1 FOR 8) = decode('89504e470d0a1a0a', 'hex') ELSE false END",
            name=op.f("ck_negotiation_file_content_matches_type"),
        ),
        sa.CheckConstraint(
            "btrim(file_name) <> ''", name=op.f("ck_negotiation_file_file_name_not_blank")
        ),
        sa.CheckConstraint(
            "media_type IN ('application/pdf', 'image/jpeg', 'image/png')",
            name=op.f("ck_negotiation_file_media_type"),
        ),
        sa.CheckConstraint(
            "char_length(file_name) <= 200", name=op.f("ck_negotiation_file_file_name_length")
        ),
        sa.CheckConstraint(
            "octet_length(content) BETWEEN 1 AND 10485760",
            name=op.f("ck_negotiation_file_size_within_limit"),
        ),
        sa.ForeignKeyConstraint(
            ["negotiation_id"],
            ["negotiation.id"],
            name=op.f("fk_negotiation_file_negotiation_id_negotiation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_negotiation_file")),
        comment="Files of negotiation entries (minutes, letters of intent, photos): PDF, JPEG or PNG, checked by content, with size and SHA-256 computed by the database",
    )
    op.create_index(
        op.f("ix_negotiation_file_negotiation_id"),
        "negotiation_file",
        ["negotiation_id"],
        unique=False,
    )
    op.add_column(
        "project",
        sa.Column(
            "lead_id",
            sa.BigInteger(),
            nullable=True,
            comment="The lead (招商线索) it was converted from: the lead is signed by it, and counts in the conversion rates of its unit and source",
        ),
    )
    op.create_unique_constraint(op.f("uq_project_lead_id"), "project", ["lead_id"])
    op.create_foreign_key(
        op.f("fk_project_lead_id_lead"), "project", "lead", ["lead_id"], ["id"], ondelete="RESTRICT"
    )
    # ### end Alembic commands ###
    for signature, create in FUNCTIONS.items():
        op.execute(create)
        comment = COMMENTS[signature].replace("'", "''")
        op.execute(f"COMMENT ON FUNCTION {signature} IS '{comment}'")
    for trigger in TRIGGERS:
        op.execute(trigger)
    for statement in GRANTS:
        op.execute(statement)
    op.execute("DROP POLICY change_log_read ON change_log")
    op.execute(f"CREATE POLICY change_log_read ON change_log FOR SELECT USING ({CHANGE_LOG_READ})")
    for table, policies in POLICIES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        for name, command, using, check in policies:
            clauses = f"FOR {command}"
            if using is not None:
                clauses += f" USING ({using})"
            if check is not None:
                clauses += f" WITH CHECK ({check})"
            op.execute(f"CREATE POLICY {name} ON {table} {clauses}")


def downgrade() -> None:
    op.execute("DROP POLICY change_log_read ON change_log")
    op.execute(
        f"CREATE POLICY change_log_read ON change_log FOR SELECT USING ({CHANGE_LOG_READ_BEFORE})"
    )
    for trigger in (
        "lead_follows_project",
        "project_lead_of_the_unit",
        "project_keeps_negotiations",
    ):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON project")
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_constraint(op.f("fk_project_lead_id_lead"), "project", type_="foreignkey")
    op.drop_constraint(op.f("uq_project_lead_id"), "project", type_="unique")
    op.drop_column("project", "lead_id")
    op.drop_index(op.f("ix_negotiation_file_negotiation_id"), table_name="negotiation_file")
    op.drop_table("negotiation_file")
    op.drop_index("ix_negotiation_unit_id", table_name="negotiation")
    op.drop_index(op.f("ix_negotiation_recorded_by_id"), table_name="negotiation")
    op.drop_index("ix_negotiation_project_id_held_on", table_name="negotiation")
    op.drop_index("ix_negotiation_lead_id_held_on", table_name="negotiation")
    op.drop_table("negotiation")
    op.drop_index(op.f("ix_trip_visit_trip_id"), table_name="trip_visit")
    op.drop_index(op.f("ix_trip_visit_lead_id"), table_name="trip_visit")
    op.drop_index(op.f("ix_trip_visit_enterprise_id"), table_name="trip_visit")
    op.drop_table("trip_visit")
    op.drop_index(
        "uq_lead_open_unit_id_enterprise_id_chain_id",
        table_name="lead",
        postgresql_where="enterprise_id IS NOT NULL AND status IN ('new', 'contacted', 'negotiating')",
    )
    op.drop_index("ix_lead_unit_id_status", table_name="lead")
    op.drop_index(op.f("ix_lead_trip_id"), table_name="lead")
    op.drop_index("ix_lead_owner_id", table_name="lead")
    op.drop_index(
        "ix_lead_next_follow_up_on",
        table_name="lead",
        postgresql_where="status IN ('new', 'contacted', 'negotiating')",
    )
    op.drop_index("ix_lead_enterprise_id", table_name="lead")
    op.drop_index(op.f("ix_lead_district_id"), table_name="lead")
    op.drop_index("ix_lead_chain_id", table_name="lead")
    op.drop_table("lead")
    for signature in reversed(FUNCTIONS):
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    op.drop_index("ix_trip_unit_id_starts_on", table_name="trip")
    op.drop_table("trip")
    # ### end Alembic commands ###
