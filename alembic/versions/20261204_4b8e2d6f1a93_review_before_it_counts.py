"""Review before it counts: what units report is reviewed (submitted, approved or returned with
an opinion) before it enters the city's figures, with evidence files attached to a project's
stages.

- project.review_status: draft (已保存), submitted (审核中), approved (审核通过), returned (退回).
  The projects that exist are approved (they were entered under the rules before review); a new
  one starts as a draft.
- project_review: the history (append-only). Inserting a row is how a review happens: its
  trigger project_review_apply() checks the move (submit: draft or returned -> submitted;
  withdraw: submitted -> draft; approve, return: submitted -> approved, returned), that a return
  carries an opinion, that the acting unit may make it (approve and return: the city bureau, or
  the chain office of the project's chain where unit.reviews_chain_projects; submit and withdraw:
  a unit whose scope holds the project, as row-level security says), and moves the project.
- project_review_guard() on project, for the application (chaindb_app): a project is created as
  a draft; review_status changes only by a review; a submitted project cannot change (its unit
  withdraws it first); an approved project that changes becomes a draft again; a project that is
  submitted or approved is deleted only by the city bureau. The owner (seeds, a DBA) may set the
  status itself.
- project_approved, project_approved_milestone: the project and its milestones as last approved,
  written by project_take_approved() (SECURITY DEFINER: the application cannot write them)
  whenever a project is left approved. The reports count these.
- project_evidence: PDF, JPEG or PNG files (at most 10 MiB, content checked against the type,
  size and SHA-256 computed by the database) attached to a project and a stage; read by whoever
  reads the project, added and removed by its unit while it is not submitted.
- reviews_project(chain_id): the acting unit reviews the chain's projects.
- The reports that count projects (report_chain_overview, report_district_chain_matrix,
  report_project_milestones, report_project_pipeline, report_project_rates) count the approved
  figures, with the reported ones beside where they say so; report_monthly_progress and
  monthly_progress(): 招商引资工作进度.

The view SQL is copied here as it is at this revision (chaindb/reports/sql/ holds the current
version).

Revision ID: 4b8e2d6f1a93
Revises: c7e1d9a3f5b8
Create Date: 2026-12-04 09:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from chaindb.migrations import released

revision: str = "4b8e2d6f1a93"
down_revision: str | Sequence[str] | None = "c7e1d9a3f5b8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "chaindb_app"
ALL = "(SELECT scope_all())"
DISTRICT = "(SELECT scope_district())"
CHAINS = "CAST((SELECT scope_chains()) AS bigint[])"
PROJECT_IN_SCOPE = f"({ALL} OR district_id = {DISTRICT} OR chain_id = ANY ({CHAINS}))"
OF_A_PROJECT_IN_SCOPE = "EXISTS (SELECT 1 FROM project AS p WHERE p.id = project_id)"

FUNCTIONS = {
    "reviews_project(bigint)": """
CREATE FUNCTION reviews_project(chain_id bigint) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
RETURN scope_all() OR EXISTS (
    SELECT 1 FROM unit AS u
    WHERE u.id = acting_unit()
      AND u.kind = 'chain_office'
      AND u.reviews_chain_projects
      AND reviews_project.chain_id = ANY (scope_chains())
)
""",
    "project_review_guard()": f"""
CREATE FUNCTION project_review_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- The owner (seeds, migrations, a DBA) is trusted with the status; the application is not.
  IF current_user <> '{APP_ROLE}' THEN
    RETURN COALESCE(NEW, OLD);
  END IF;
  IF TG_OP = 'INSERT' THEN
    IF NEW.review_status <> 'draft' THEN
      RAISE EXCEPTION USING ERRCODE = 'check_violation', CONSTRAINT = 'project_review_by_review',
        MESSAGE = 'project: a new project is a draft; its review status changes by review';
    END IF;
    RETURN NEW;
  END IF;
  IF TG_OP = 'DELETE' THEN
    IF OLD.review_status IN ('submitted', 'approved') AND NOT scope_all() THEN
      RAISE EXCEPTION USING ERRCODE = 'check_violation', CONSTRAINT = 'project_reviewed_kept',
        MESSAGE = format('project %s is %s: only the city bureau deletes it', OLD.id,
                         OLD.review_status);
    END IF;
    RETURN OLD;
  END IF;
  -- A review (project_review_apply, one trigger deeper) moves the status.
  IF pg_trigger_depth() > 1 THEN
    RETURN NEW;
  END IF;
  IF NEW.review_status IS DISTINCT FROM OLD.review_status THEN
    RAISE EXCEPTION USING ERRCODE = 'check_violation', CONSTRAINT = 'project_review_by_review',
      MESSAGE = format('project %s: its review status changes by review', OLD.id);
  END IF;
  IF (to_jsonb(NEW) - 'updated_at') = (to_jsonb(OLD) - 'updated_at') THEN
    RETURN NEW;
  END IF;
  IF OLD.review_status = 'submitted' THEN
    RAISE EXCEPTION USING ERRCODE = 'check_violation', CONSTRAINT = 'project_submitted_locked',
      MESSAGE = format('project %s is submitted for review: it changes after the review, or '
                       'when its unit withdraws it', OLD.id);
  END IF;
  IF OLD.review_status = 'approved' THEN
    NEW.review_status := 'draft';  -- project_approved keeps counting the version approved
  END IF;
  RETURN NEW;
END
$$
""",
    "project_take_approved()": """
CREATE FUNCTION project_take_approved() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  DELETE FROM project_approved WHERE id = NEW.id;  -- its milestones go with it
  INSERT INTO project_approved
  SELECT * FROM jsonb_populate_record(
    NULL::project_approved,
    to_jsonb(NEW) || jsonb_build_object(
      'approved_at', now(),
      'approved_by', COALESCE(NULLIF(current_setting('chaindb.actor', true), ''), session_user),
      'last_stage_event_id',
      (SELECT max(e.id) FROM project_stage_event AS e WHERE e.project_id = NEW.id)
    )
  );
  INSERT INTO project_approved_milestone (project_id, stage, rank, reached_on)
  SELECT m.project_id, m.stage, m.rank, m.reached_on
  FROM project_milestone AS m
  WHERE m.project_id = NEW.id;
  RETURN NULL;
END
$$
""",
    "project_review_apply()": f"""
CREATE FUNCTION project_review_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  p record;
  target text;
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF EXISTS (SELECT 1 FROM project AS x WHERE x.id = OLD.project_id) THEN
      RAISE EXCEPTION 'the review history cannot be deleted while its project exists';
    END IF;
    RETURN OLD;  -- the project's deletion takes its history along
  END IF;
  IF TG_OP = 'UPDATE' THEN
    RAISE EXCEPTION 'the review history cannot be changed';
  END IF;
  SELECT x.id, x.review_status, x.stage, x.chain_id INTO p
    FROM project AS x WHERE x.id = NEW.project_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
      MESSAGE = format('project %s: not found in the scope of the acting unit', NEW.project_id);
  END IF;
  target := CASE
    WHEN NEW.action = 'submit' AND p.review_status IN ('draft', 'returned') THEN 'submitted'
    WHEN NEW.action = 'withdraw' AND p.review_status = 'submitted' THEN 'draft'
    WHEN NEW.action = 'approve' AND p.review_status = 'submitted' THEN 'approved'
    WHEN NEW.action = 'return' AND p.review_status = 'submitted' THEN 'returned'
  END;
  IF target IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'check_violation', CONSTRAINT = 'project_review_transition',
      MESSAGE = format('project %s is %s: it cannot be given the review action %s', p.id,
                       p.review_status, NEW.action);
  END IF;
  IF NEW.action IN ('approve', 'return') AND current_user = '{APP_ROLE}'
     AND NOT reviews_project(p.chain_id) THEN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
      MESSAGE = format('project %s: the acting unit does not review its chain''s projects', p.id);
  END IF;
  NEW.from_status := p.review_status;
  NEW.to_status := target;
  NEW.stage := p.stage;
  NEW.actor := COALESCE(NULLIF(current_setting('chaindb.actor', true), ''), session_user);
  NEW.unit_id := CASE WHEN current_user = '{APP_ROLE}' THEN acting_unit() END;
  NEW.created_at := now();
  UPDATE project SET review_status = target WHERE id = p.id;
  RETURN NEW;
END
$$
""",
}

COMMENTS = {
    "reviews_project(bigint)": "The acting unit reviews (approves or returns) the projects of "
    "the chain: the city bureau, or the chain's office where unit.reviews_chain_projects",
    "project_review_guard()": "Before a write to project by the application (chaindb_app): a "
    "new project is a draft; review_status changes only by review (project_review); a submitted "
    "project does not change; an approved project that changes becomes a draft (project_approved "
    "keeps the version approved); a submitted or approved project is deleted only by the city "
    "bureau",
    "project_take_approved()": "After a write that leaves a project approved: copies it and its "
    "milestones into project_approved and project_approved_milestone (the figures the reports "
    "count)",
    "project_review_apply()": "Before a project_review row is inserted: checks the move and the "
    "acting unit's right to make it, completes the row (statuses, stage, actor, unit, time) and "
    "moves project.review_status",
}

TRIGGERS = [
    "CREATE TRIGGER project_review_guard BEFORE INSERT OR UPDATE OR DELETE ON project "
    "FOR EACH ROW EXECUTE FUNCTION project_review_guard()",
    # After project_sync_milestones_* (triggers fire in name order): the milestones are current.
    "CREATE TRIGGER project_take_approved AFTER INSERT OR UPDATE ON project FOR EACH ROW "
    "WHEN (NEW.review_status = 'approved') EXECUTE FUNCTION project_take_approved()",
    "CREATE TRIGGER project_review_apply BEFORE INSERT OR UPDATE OR DELETE ON project_review "
    "FOR EACH ROW EXECUTE FUNCTION project_review_apply()",
]

# table -> [(policy, command, USING, WITH CHECK)]
POLICIES: dict[str, list[tuple[str, str, str | None, str | None]]] = {
    "project_review": [
        ("project_review_read", "SELECT", OF_A_PROJECT_IN_SCOPE, None),
        ("project_review_insert", "INSERT", None, OF_A_PROJECT_IN_SCOPE),
    ],
    # The approved figures of the projects in scope, by where they were approved to land.
    "project_approved": [("project_approved_read", "SELECT", PROJECT_IN_SCOPE, None)],
    "project_approved_milestone": [
        (
            "project_approved_milestone_read",
            "SELECT",
            "EXISTS (SELECT 1 FROM project_approved AS a WHERE a.id = project_id)",
            None,
        )
    ],
    "project_evidence": [
        ("project_evidence_read", "SELECT", OF_A_PROJECT_IN_SCOPE, None),
        (
            "project_evidence_insert",
            "INSERT",
            None,
            "EXISTS (SELECT 1 FROM project AS p WHERE p.id = project_id "
            "AND p.review_status <> 'submitted')",
        ),
        (
            "project_evidence_delete",
            "DELETE",
            "EXISTS (SELECT 1 FROM project AS p WHERE p.id = project_id "
            "AND p.review_status IN ('draft', 'returned'))",
            None,
        ),
    ],
}

GRANTS = [
    # Written by the approval trigger only; a review is an insert; evidence is added or removed.
    f"REVOKE INSERT, UPDATE, DELETE ON project_approved, project_approved_milestone FROM {APP_ROLE}",
    f"REVOKE UPDATE, DELETE ON project_review FROM {APP_ROLE}",
    f"REVOKE UPDATE ON project_evidence FROM {APP_ROLE}",
]

# The views that count projects, as at this revision; VIEW_SQL is filled below.
VIEW_SQL = {
    "report_chain_overview": """
-- One row per chain: its enterprises, suppliers, projects by stage and amounts.
-- Materialized: as a plain view it took 350 ms at synthetic scale 1. Its rows are those of the
-- last refresh (chaindb.reports.refresh: REFRESH ... CONCURRENTLY, which needs the unique
-- index below). Dropped and created again, never replaced; created WITH DATA.
DROP MATERIALIZED VIEW IF EXISTS report_chain_overview;
CREATE MATERIALIZED VIEW report_chain_overview AS
WITH live_role AS (
    SELECT r.chain_id, r.enterprise_id, r.role
    FROM chain_role AS r
    WHERE role_held_on(r, current_date)
),
role_counts AS (
    SELECT
        chain_id,
        count(DISTINCT enterprise_id) AS enterprises,
        count(DISTINCT enterprise_id) FILTER (WHERE role = 'chain_master') AS chain_masters,
        count(DISTINCT enterprise_id) FILTER (WHERE role = 'backbone') AS backbones
    FROM live_role
    GROUP BY chain_id
),
supplier_links AS (
    -- One row per chain and supplier of active links (counting suppliers is then a count).
    SELECT
        l.chain_id,
        l.supplier_id,
        count(*) AS links
    FROM supply_link AS l
    WHERE l.status = 'active'
    GROUP BY l.chain_id, l.supplier_id
),
link_counts AS (
    SELECT
        s.chain_id,
        count(*) AS suppliers,
        count(*) FILTER (WHERE is_local(e)) AS local_suppliers,
        count(*) FILTER (WHERE NOT is_local(e)) AS nonlocal_suppliers,
        sum(s.links)::bigint AS active_supply_links
    FROM supplier_links AS s
    JOIN enterprise AS e ON e.id = s.supplier_id
    GROUP BY s.chain_id
),
project_counts AS (
    SELECT
        chain_id,
        count(*) FILTER (WHERE stage <> 'dropped') AS projects,
        count(*) FILTER (WHERE stage = 'lead') AS projects_lead,
        count(*) FILTER (WHERE stage = 'negotiating') AS projects_negotiating,
        count(*) FILTER (WHERE stage = 'signed') AS projects_signed,
        count(*) FILTER (WHERE stage = 'under_construction') AS projects_under_construction,
        count(*) FILTER (WHERE stage = 'in_production') AS projects_in_production,
        count(*) FILTER (WHERE stage = 'at_capacity') AS projects_at_capacity,
        count(*) FILTER (WHERE stage = 'dropped') AS projects_dropped,
        sum(agreed_investment_cny_100m) FILTER (WHERE stage <> 'dropped') AS agreed_investment,
        sum(agreed_investment_cny_100m) FILTER (WHERE stage = 'lead') AS agreed_lead,
        sum(agreed_investment_cny_100m) FILTER (WHERE stage = 'negotiating') AS agreed_negotiating,
        sum(agreed_investment_cny_100m) FILTER (WHERE stage = 'signed') AS agreed_signed,
        sum(agreed_investment_cny_100m)
            FILTER (WHERE stage = 'under_construction') AS agreed_under_construction,
        sum(agreed_investment_cny_100m)
            FILTER (WHERE stage = 'in_production') AS agreed_in_production,
        sum(agreed_investment_cny_100m) FILTER (WHERE stage = 'at_capacity') AS agreed_at_capacity,
        sum(funds_arrived_cny_100m) FILTER (WHERE stage <> 'dropped') AS funds_arrived
    FROM project_approved
    GROUP BY chain_id
),
reported_counts AS (
    -- What the units report, reviewed or not (project): beside the approved figures.
    SELECT
        chain_id,
        count(*) AS projects,
        sum(agreed_investment_cny_100m) AS agreed_investment
    FROM project
    WHERE stage <> 'dropped'
    GROUP BY chain_id
)
SELECT
    c.id AS chain_id,
    c.code AS chain_code,
    c.name_zh AS chain_name_zh,
    c.tier AS chain_tier,
    COALESCE(r.enterprises, 0) AS enterprises,
    COALESCE(r.chain_masters, 0) AS chain_masters,
    COALESCE(r.backbones, 0) AS backbones,
    COALESCE(l.suppliers, 0) AS suppliers,
    COALESCE(l.local_suppliers, 0) AS local_suppliers,
    COALESCE(l.nonlocal_suppliers, 0) AS nonlocal_suppliers,
    COALESCE(l.active_supply_links, 0) AS active_supply_links,
    COALESCE(p.projects, 0) AS projects,
    COALESCE(p.projects_lead, 0) AS projects_lead,
    COALESCE(p.projects_negotiating, 0) AS projects_negotiating,
    COALESCE(p.projects_signed, 0) AS projects_signed,
    COALESCE(p.projects_under_construction, 0) AS projects_under_construction,
    COALESCE(p.projects_in_production, 0) AS projects_in_production,
    COALESCE(p.projects_at_capacity, 0) AS projects_at_capacity,
    COALESCE(p.projects_dropped, 0) AS projects_dropped,
    COALESCE(p.agreed_investment, 0) AS agreed_investment_cny_100m,
    COALESCE(p.agreed_lead, 0) AS agreed_lead_cny_100m,
    COALESCE(p.agreed_negotiating, 0) AS agreed_negotiating_cny_100m,
    COALESCE(p.agreed_signed, 0) AS agreed_signed_cny_100m,
    COALESCE(p.agreed_under_construction, 0) AS agreed_under_construction_cny_100m,
    COALESCE(p.agreed_in_production, 0) AS agreed_in_production_cny_100m,
    COALESCE(p.agreed_at_capacity, 0) AS agreed_at_capacity_cny_100m,
    COALESCE(p.funds_arrived, 0) AS funds_arrived_cny_100m,
    COALESCE(rp.projects, 0) AS projects_reported,
    COALESCE(rp.agreed_investment, 0) AS agreed_investment_reported_cny_100m
FROM chain AS c
LEFT JOIN role_counts AS r ON r.chain_id = c.id
LEFT JOIN link_counts AS l ON l.chain_id = c.id
LEFT JOIN project_counts AS p ON p.chain_id = c.id
LEFT JOIN reported_counts AS rp ON rp.chain_id = c.id;

CREATE UNIQUE INDEX uq_report_chain_overview_chain_id ON report_chain_overview (chain_id);

COMMENT ON MATERIALIZED VIEW report_chain_overview IS
    'One row per industrial chain (产业链): its enterprises, chain masters, suppliers (local and '
    'non-local), projects and agreed investment by stage, funds arrived. Roles count when live '
    'today; links when active; projects and amounts leave out dropped projects unless the column '
    'names the stage dropped. Projects count as approved (project_approved: the figures last '
    'approved by the review), so nothing unreviewed enters the totals; projects_reported and '
    'agreed_investment_reported_cny_100m beside them count what the units report, reviewed or '
    'not. Amounts in 亿元 (100 million CNY); 0 where nothing.';
COMMENT ON COLUMN report_chain_overview.chain_id IS 'The chain (chain.id)';
COMMENT ON COLUMN report_chain_overview.chain_code IS 'Natural key of the chain, e.g. automotive';
COMMENT ON COLUMN report_chain_overview.chain_name_zh IS 'Chinese name of the chain';
COMMENT ON COLUMN report_chain_overview.chain_tier IS 'iconic (标志性) or key (重点)';
COMMENT ON COLUMN report_chain_overview.enterprises IS
    'Distinct enterprises holding a role (chain master, backbone or supplier) in the chain live '
    'today';
COMMENT ON COLUMN report_chain_overview.chain_masters IS
    'Distinct enterprises holding a live chain_master role (链主) in the chain';
COMMENT ON COLUMN report_chain_overview.backbones IS
    'Distinct enterprises holding a live backbone role (龙头骨干) in the chain';
COMMENT ON COLUMN report_chain_overview.suppliers IS
    'Distinct supplier enterprises of active supply links in the chain';
COMMENT ON COLUMN report_chain_overview.local_suppliers IS
    'Of suppliers: those in one of the city''s planning units (enterprise.district_id set)';
COMMENT ON COLUMN report_chain_overview.nonlocal_suppliers IS
    'Of suppliers: those outside the city (enterprise.district_id NULL): 补链 targets';
COMMENT ON COLUMN report_chain_overview.active_supply_links IS
    'Supply links of the chain with status active';
COMMENT ON COLUMN report_chain_overview.projects IS
    'Investment projects of the chain, all stages but dropped, as approved';
COMMENT ON COLUMN report_chain_overview.projects_reported IS
    'Investment projects of the chain, all stages but dropped, as the units report them '
    '(approved or not: drafts, submitted, returned)';
COMMENT ON COLUMN report_chain_overview.agreed_investment_reported_cny_100m IS
    'Agreed investment (协议投资) of projects_reported, in 亿元';
COMMENT ON COLUMN report_chain_overview.projects_lead IS 'Projects at stage lead (储备)';
COMMENT ON COLUMN report_chain_overview.projects_negotiating IS
    'Projects at stage negotiating (在谈)';
COMMENT ON COLUMN report_chain_overview.projects_signed IS 'Projects at stage signed (签约)';
COMMENT ON COLUMN report_chain_overview.projects_under_construction IS
    'Projects at stage under_construction (开工)';
COMMENT ON COLUMN report_chain_overview.projects_in_production IS
    'Projects at stage in_production (投产)';
COMMENT ON COLUMN report_chain_overview.projects_at_capacity IS
    'Projects at stage at_capacity (达产)';
COMMENT ON COLUMN report_chain_overview.projects_dropped IS
    'Projects at stage dropped (终止); not in projects';
COMMENT ON COLUMN report_chain_overview.agreed_investment_cny_100m IS
    'Agreed investment (协议投资) of the projects not dropped, in 亿元 (100 million CNY)';
COMMENT ON COLUMN report_chain_overview.agreed_lead_cny_100m IS
    'Agreed investment of the projects at stage lead, in 亿元';
COMMENT ON COLUMN report_chain_overview.agreed_negotiating_cny_100m IS
    'Agreed investment of the projects at stage negotiating, in 亿元';
COMMENT ON COLUMN report_chain_overview.agreed_signed_cny_100m IS
    'Agreed investment of the projects at stage signed, in 亿元';
COMMENT ON COLUMN report_chain_overview.agreed_under_construction_cny_100m IS
    'Agreed investment of the projects at stage under_construction, in 亿元';
COMMENT ON COLUMN report_chain_overview.agreed_in_production_cny_100m IS
    'Agreed investment of the projects at stage in_production, in 亿元';
COMMENT ON COLUMN report_chain_overview.agreed_at_capacity_cny_100m IS
    'Agreed investment of the projects at stage at_capacity, in 亿元';
COMMENT ON COLUMN report_chain_overview.funds_arrived_cny_100m IS
    'Funds arrived to date (到位资金) of the projects not dropped, in 亿元 (100 million CNY)';
""",
    "report_district_chain_matrix": """
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
""",
    "report_project_milestones": """
-- One row per approved project and stage it has reached, with the day it got there when that is
-- known: the one definition of "reached" that the pipeline and the rates count from. The rows are
-- kept in the table project_milestone by a trigger on project (project_reached() computes them)
-- and copied, with the project, into project_approved_milestone when the project is approved:
-- reading them costs no more than reading a table.
CREATE OR REPLACE VIEW report_project_milestones AS
SELECT
    m.project_id,
    p.name AS project_name,
    p.chain_id,
    p.district_id,
    m.stage,
    m.rank,
    m.reached_on,
    p.agreed_investment_cny_100m
FROM project_approved_milestone AS m
JOIN project_approved AS p ON p.id = m.project_id;

COMMENT ON VIEW report_project_milestones IS
    'The stages each approved project had reached when last approved (one row per project and '
    'stage: project_approved_milestone; what units report, reviewed or not, is in '
    'project_milestone), with the day it got there when known: the one definition the pipeline (report_project_pipeline) and the rates '
    '(report_project_rates) count from. A project that reached a later stage has passed the '
    'earlier milestones (签约, 开工, 投产, 达产) even when their dates were never recorded; lead '
    'and negotiation count only where the stage history records them. A stage''s day is that '
    'of the first move into it (a project counts once per stage), else the project''s date for '
    'it (signed_on ...); NULL when neither knows: unknown dates stay unknown.';
COMMENT ON COLUMN report_project_milestones.project_id IS 'The project (project.id)';
COMMENT ON COLUMN report_project_milestones.chain_id IS 'The project''s chain';
COMMENT ON COLUMN report_project_milestones.district_id IS 'The project''s planning unit';
COMMENT ON COLUMN report_project_milestones.stage IS
    'The stage reached: lead (储备), negotiating (在谈), signed (签约), under_construction (开工), '
    'in_production (投产), at_capacity (达产) or dropped (终止)';
COMMENT ON COLUMN report_project_milestones.rank IS
    'Position of the stage in the pipeline (lead = 1 .. at_capacity = 6); NULL for dropped';
COMMENT ON COLUMN report_project_milestones.reached_on IS
    'The day the project first reached the stage: that of the first stage event into it, else '
    'the project''s date for it; NULL when unknown';
COMMENT ON COLUMN report_project_milestones.agreed_investment_cny_100m IS
    'Agreed investment (协议投资) of the project as recorded today, in 亿元';
COMMENT ON COLUMN report_project_milestones.project_name IS 'The project''s name';
""",
    "report_project_pipeline": """
-- Per month and stage: the approved projects reaching the stage that month
-- (report_project_milestones), and beside them the reported ones (approved or not); a row with
-- no month for the projects whose day of reaching it is unknown.
-- Materialized: as a plain view it took 180 ms at synthetic scale 1 (88,835 milestones). Its rows
-- are those of the last refresh, which follows a write to project within seconds
-- (chaindb.reports.listener). Dropped and created again, never replaced; created WITH DATA.
DROP MATERIALIZED VIEW IF EXISTS report_project_pipeline;
CREATE MATERIALIZED VIEW report_project_pipeline AS
WITH reached AS (
    -- Approved (project_approved_milestone) and reported (project_milestone), side by side.
    SELECT
        date_trunc('month', m.reached_on)::date AS month,
        m.stage,
        count(*) AS projects,
        COALESCE(sum(p.agreed_investment_cny_100m), 0) AS agreed,
        0 AS projects_reported,
        0 AS agreed_reported
    FROM project_approved_milestone AS m
    JOIN project_approved AS p ON p.id = m.project_id
    GROUP BY date_trunc('month', m.reached_on)::date, m.stage
    UNION ALL
    SELECT
        date_trunc('month', m.reached_on)::date,
        m.stage,
        0,
        0,
        count(*),
        COALESCE(sum(p.agreed_investment_cny_100m), 0)
    FROM project_milestone AS m
    JOIN project AS p ON p.id = m.project_id
    GROUP BY date_trunc('month', m.reached_on)::date, m.stage
)
SELECT
    r.month,
    extract(year FROM r.month)::integer AS year,
    r.stage,
    sum(r.projects)::bigint AS projects,
    sum(r.agreed) AS agreed_investment_cny_100m,
    sum(r.projects_reported)::bigint AS projects_reported,
    sum(r.agreed_reported) AS agreed_investment_reported_cny_100m
FROM reached AS r
GROUP BY r.month, r.stage;

-- NULLS NOT DISTINCT (PostgreSQL 15): one "date unknown" row per stage, as REFRESH ...
-- CONCURRENTLY needs every row told apart.
CREATE UNIQUE INDEX uq_report_project_pipeline_month_stage
    ON report_project_pipeline (month, stage) NULLS NOT DISTINCT;
CREATE INDEX ix_report_project_pipeline_year ON report_project_pipeline (year);

COMMENT ON MATERIALIZED VIEW report_project_pipeline IS
    'The project pipeline per month and stage, from report_project_milestones: the approved '
    'projects that reached the stage that month (as last approved), and beside them '
    '(projects_reported) those the units report, reviewed or not. A project counts once per stage, in the month it first '
    'reached it (a move back and forth does not count it again); a project that passed a '
    'milestone without a recorded day counts in the row whose month is NULL (date unknown), '
    'never on an invented day. Amounts in 亿元.';
COMMENT ON COLUMN report_project_pipeline.month IS 'First day of the month; NULL for the projects whose day is unknown';
COMMENT ON COLUMN report_project_pipeline.year IS 'Calendar year of the month; NULL when the day is unknown';
COMMENT ON COLUMN report_project_pipeline.stage IS
    'The stage entered: lead (储备), negotiating (在谈), signed (签约), under_construction (开工), '
    'in_production (投产), at_capacity (达产) or dropped (终止)';
COMMENT ON COLUMN report_project_pipeline.projects IS
    'Distinct approved projects that reached the stage in the month (or on an unknown day)';
COMMENT ON COLUMN report_project_pipeline.projects_reported IS
    'Distinct projects that reached the stage in the month as the units report them (approved '
    'or not)';
COMMENT ON COLUMN report_project_pipeline.agreed_investment_reported_cny_100m IS
    'Agreed investment (协议投资) of projects_reported, as recorded today, in 亿元';
COMMENT ON COLUMN report_project_pipeline.agreed_investment_cny_100m IS
    'Agreed investment (协议投资) of those projects as last approved, in 亿元 (100 million CNY); '
    'a flow: projects dropped since are included';
""",
    "report_project_rates": """
-- Per month: start rate and funds arrival rate of the approved projects signed that month,
-- fulfilment rate of those due to start that month (and, beside them, the signed and started
-- projects as the units report them, reviewed or not); a row with no month for the projects signed on
-- an unknown day. "Signed" and "started" are the milestones of report_project_milestones.
-- Materialized: as a plain view it took 170 ms at synthetic scale 1. Its rows are those of the
-- last refresh, which follows a write to project within seconds, and each new day (the due
-- projects are those due by today). Dropped and created again, never replaced; created WITH
-- DATA.
DROP MATERIALIZED VIEW IF EXISTS report_project_rates;
CREATE MATERIALIZED VIEW report_project_rates AS
WITH milestone AS (
    -- Approved (as last approved) and reported (approved or not), told apart by approved.
    SELECT true AS approved, m.project_id, m.stage, m.reached_on
    FROM project_approved_milestone AS m
    WHERE m.stage IN ('signed', 'under_construction')
    UNION ALL
    SELECT false, m.project_id, m.stage, m.reached_on
    FROM project_milestone AS m
    WHERE m.stage IN ('signed', 'under_construction')
),
counted AS (
    SELECT true AS approved, p.id, p.stage, p.agreed_investment_cny_100m,
           p.funds_arrived_cny_100m, p.agreed_start_on
    FROM project_approved AS p
    UNION ALL
    SELECT false, p.id, p.stage, p.agreed_investment_cny_100m, p.funds_arrived_cny_100m,
           p.agreed_start_on
    FROM project AS p
),
reach AS (
    SELECT
        m.approved,
        m.project_id,
        min(m.reached_on) FILTER (WHERE m.stage = 'signed') AS signed_on,
        bool_or(m.stage = 'under_construction') AS started,
        min(m.reached_on) FILTER (WHERE m.stage = 'under_construction') AS started_on
    FROM milestone AS m
    GROUP BY m.approved, m.project_id
    HAVING bool_or(m.stage = 'signed')
),
signed AS (
    SELECT
        r.approved,
        date_trunc('month', r.signed_on)::date AS month,
        count(*) AS signed_projects,
        count(*) FILTER (WHERE r.started) AS started_projects,
        count(*) FILTER (WHERE r.started AND r.started_on IS NULL) AS started_date_unknown,
        sum(p.agreed_investment_cny_100m) FILTER (WHERE p.stage <> 'dropped') AS agreed_investment,
        sum(p.funds_arrived_cny_100m) FILTER (WHERE p.stage <> 'dropped') AS funds_arrived
    FROM reach AS r
    JOIN counted AS p ON p.approved = r.approved AND p.id = r.project_id
    GROUP BY r.approved, date_trunc('month', r.signed_on)::date
),
due AS (
    SELECT
        r.approved,
        date_trunc('month', p.agreed_start_on)::date AS month,
        count(*) AS due_projects,
        count(*) FILTER (WHERE r.started_on <= p.agreed_start_on) AS fulfilled_projects
    FROM reach AS r
    JOIN counted AS p ON p.approved = r.approved AND p.id = r.project_id
    WHERE p.agreed_start_on <= current_date
    GROUP BY r.approved, date_trunc('month', p.agreed_start_on)::date
),
month_totals AS (
    SELECT
        COALESCE(s.approved, d.approved) AS approved,
        COALESCE(s.month, d.month) AS month,
        COALESCE(s.signed_projects, 0) AS signed_projects,
        COALESCE(s.started_projects, 0) AS started_projects,
        COALESCE(s.started_date_unknown, 0) AS started_date_unknown,
        COALESCE(s.agreed_investment, 0) AS agreed_investment,
        COALESCE(s.funds_arrived, 0) AS funds_arrived,
        COALESCE(d.due_projects, 0) AS due_projects,
        COALESCE(d.fulfilled_projects, 0) AS fulfilled_projects
    FROM signed AS s
    FULL JOIN due AS d ON d.approved = s.approved AND d.month = s.month
),
per_month AS (
    SELECT
        t.month,
        COALESCE(sum(t.signed_projects) FILTER (WHERE t.approved), 0) AS signed_projects,
        COALESCE(sum(t.started_projects) FILTER (WHERE t.approved), 0) AS started_projects,
        COALESCE(sum(t.started_date_unknown) FILTER (WHERE t.approved), 0)
            AS started_date_unknown,
        COALESCE(sum(t.agreed_investment) FILTER (WHERE t.approved), 0) AS agreed_investment,
        COALESCE(sum(t.funds_arrived) FILTER (WHERE t.approved), 0) AS funds_arrived,
        COALESCE(sum(t.due_projects) FILTER (WHERE t.approved), 0) AS due_projects,
        COALESCE(sum(t.fulfilled_projects) FILTER (WHERE t.approved), 0) AS fulfilled_projects,
        COALESCE(sum(t.signed_projects) FILTER (WHERE NOT t.approved), 0)
            AS signed_projects_reported,
        COALESCE(sum(t.started_projects) FILTER (WHERE NOT t.approved), 0)
            AS started_projects_reported
    FROM month_totals AS t
    GROUP BY t.month
)
SELECT
    t.month,
    extract(year FROM t.month)::integer AS year,
    t.signed_projects::bigint AS signed_projects,
    t.started_projects::bigint AS started_projects,
    t.started_date_unknown::bigint AS started_date_unknown,
    t.started_projects::numeric / NULLIF(t.signed_projects, 0) AS start_rate,
    t.agreed_investment AS agreed_investment_cny_100m,
    t.funds_arrived AS funds_arrived_cny_100m,
    t.funds_arrived / NULLIF(t.agreed_investment, 0) AS funds_arrival_rate,
    t.due_projects::bigint AS due_projects,
    t.fulfilled_projects::bigint AS fulfilled_projects,
    t.fulfilled_projects::numeric / NULLIF(t.due_projects, 0) AS fulfilment_rate,
    t.signed_projects_reported::bigint AS signed_projects_reported,
    t.started_projects_reported::bigint AS started_projects_reported,
    t.started_projects_reported::numeric / NULLIF(t.signed_projects_reported, 0)
        AS start_rate_reported
FROM per_month AS t;

CREATE UNIQUE INDEX uq_report_project_rates_month
    ON report_project_rates (month) NULLS NOT DISTINCT;

COMMENT ON MATERIALIZED VIEW report_project_rates IS
    'Project rates per month, of the approved projects (as last approved): start rate (开工率) '
    'and funds arrival rate (资金到位率) of the projects signed in the month, fulfilment rate (履约率) of the signed projects '
    'whose agreed start date falls in the month and has come (agreed_start_on <= today). A row '
    'for every month with a signing or a due project. Counts include projects dropped since; '
    'amounts leave them out. Amounts in 亿元; rates as fractions 0..1, NULL when the '
    'denominator is 0. Signed and started are the milestones of report_project_milestones: a '
    'project that reached a later stage has passed them; the projects signed on an unknown day '
    'are in the row whose month is NULL.';
COMMENT ON COLUMN report_project_rates.month IS 'First day of the month; NULL for the projects signed on an unknown day';
COMMENT ON COLUMN report_project_rates.year IS 'Calendar year of the month';
COMMENT ON COLUMN report_project_rates.signed_projects IS
    'Projects that reached 签约 in the month, including those dropped since';
COMMENT ON COLUMN report_project_rates.started_projects IS
    'Of signed_projects: those that have started construction (reached 开工, or a later stage, '
    'with or without a recorded day)';
COMMENT ON COLUMN report_project_rates.start_rate IS
    'Start rate (开工率): started_projects / signed_projects, a fraction 0..1; NULL when none signed';
COMMENT ON COLUMN report_project_rates.agreed_investment_cny_100m IS
    'Agreed investment (协议投资) of the projects signed in the month and not dropped, in 亿元';
COMMENT ON COLUMN report_project_rates.funds_arrived_cny_100m IS
    'Funds arrived to date (到位资金) of the projects signed in the month and not dropped, in 亿元';
COMMENT ON COLUMN report_project_rates.funds_arrival_rate IS
    'Funds arrival rate (资金到位率): funds_arrived_cny_100m / agreed_investment_cny_100m, a '
    'fraction (above 1 when more arrived than agreed); NULL when the agreed investment is 0';
COMMENT ON COLUMN report_project_rates.due_projects IS
    'Signed projects whose agreed construction start (agreed_start_on) falls in the month and is '
    'today or earlier, including those dropped since';
COMMENT ON COLUMN report_project_rates.fulfilled_projects IS
    'Of due_projects: those that started construction on or before the agreed date (a start on '
    'an unknown day is not counted)';
COMMENT ON COLUMN report_project_rates.fulfilment_rate IS
    'Fulfilment rate (履约率): fulfilled_projects / due_projects, a fraction 0..1; NULL when none due';
COMMENT ON COLUMN report_project_rates.signed_projects_reported IS
    'Projects that reached 签约 in the month as the units report them (approved or not)';
COMMENT ON COLUMN report_project_rates.started_projects_reported IS
    'Of signed_projects_reported: those that have started construction';
COMMENT ON COLUMN report_project_rates.start_rate_reported IS
    'Start rate of the reported projects: started_projects_reported / signed_projects_reported; '
    'NULL when none signed';
COMMENT ON COLUMN report_project_rates.started_date_unknown IS
    'Of started_projects: those whose day of starting construction (开工日期) is unknown (they '
    'passed 开工 without it being recorded)';
""",
    "report_monthly_progress": """
-- 招商引资工作进度: per planning unit, for a month and the year to date, the approved projects
-- that were signed, started construction and started production, with their agreed investment
-- and funds arrived, above a threshold. monthly_progress() is the one definition; the view is
-- that function for every month of this year and the last, with no threshold.
CREATE OR REPLACE FUNCTION monthly_progress(
    month date,
    min_investment_cny_100m numeric DEFAULT 0,
    approved boolean DEFAULT true
)
RETURNS TABLE (
    district_id bigint,
    district_code character varying,
    district_name_zh text,
    unit_id bigint,
    unit_name_zh text,
    signed_month bigint,
    signed_month_agreed_cny_100m numeric,
    signed_month_arrived_cny_100m numeric,
    signed_ytd bigint,
    signed_ytd_agreed_cny_100m numeric,
    signed_ytd_arrived_cny_100m numeric,
    started_month bigint,
    started_month_agreed_cny_100m numeric,
    started_month_arrived_cny_100m numeric,
    started_ytd bigint,
    started_ytd_agreed_cny_100m numeric,
    started_ytd_arrived_cny_100m numeric,
    producing_month bigint,
    producing_month_agreed_cny_100m numeric,
    producing_month_arrived_cny_100m numeric,
    producing_ytd bigint,
    producing_ytd_agreed_cny_100m numeric,
    producing_ytd_arrived_cny_100m numeric
)
LANGUAGE sql STABLE
AS $$
WITH period AS (
    SELECT
        date_trunc('year', monthly_progress.month)::date AS year_first,
        date_trunc('month', monthly_progress.month)::date AS month_first,
        (date_trunc('month', monthly_progress.month) + interval '1 month')::date AS after
),
reached AS (
    -- The approved milestones (as last approved), or those the units report.
    SELECT m.stage, m.reached_on, p.district_id, p.agreed_investment_cny_100m,
           p.funds_arrived_cny_100m
    FROM project_approved_milestone AS m
    JOIN project_approved AS p ON p.id = m.project_id
    WHERE monthly_progress.approved
    UNION ALL
    SELECT m.stage, m.reached_on, p.district_id, p.agreed_investment_cny_100m,
           p.funds_arrived_cny_100m
    FROM project_milestone AS m
    JOIN project AS p ON p.id = m.project_id
    WHERE NOT monthly_progress.approved
),
hit AS (
    SELECT
        r.district_id,
        r.stage,
        r.reached_on >= period.month_first AS in_month,
        COALESCE(r.agreed_investment_cny_100m, 0) AS agreed,
        COALESCE(r.funds_arrived_cny_100m, 0) AS arrived
    FROM reached AS r
    CROSS JOIN period
    WHERE r.stage IN ('signed', 'under_construction', 'in_production')
      AND r.reached_on >= period.year_first
      AND r.reached_on < period.after
      AND COALESCE(r.agreed_investment_cny_100m, 0)
          >= COALESCE(monthly_progress.min_investment_cny_100m, 0)
)
SELECT
    d.id,
    d.code,
    d.name_zh,
    u.id,
    u.name_zh,
    count(*) FILTER (WHERE h.stage = 'signed' AND h.in_month),
    COALESCE(sum(h.agreed) FILTER (WHERE h.stage = 'signed' AND h.in_month), 0),
    COALESCE(sum(h.arrived) FILTER (WHERE h.stage = 'signed' AND h.in_month), 0),
    count(*) FILTER (WHERE h.stage = 'signed'),
    COALESCE(sum(h.agreed) FILTER (WHERE h.stage = 'signed'), 0),
    COALESCE(sum(h.arrived) FILTER (WHERE h.stage = 'signed'), 0),
    count(*) FILTER (WHERE h.stage = 'under_construction' AND h.in_month),
    COALESCE(sum(h.agreed) FILTER (WHERE h.stage = 'under_construction' AND h.in_month), 0),
    COALESCE(sum(h.arrived) FILTER (WHERE h.stage = 'under_construction' AND h.in_month), 0),
    count(*) FILTER (WHERE h.stage = 'under_construction'),
    COALESCE(sum(h.agreed) FILTER (WHERE h.stage = 'under_construction'), 0),
    COALESCE(sum(h.arrived) FILTER (WHERE h.stage = 'under_construction'), 0),
    count(*) FILTER (WHERE h.stage = 'in_production' AND h.in_month),
    COALESCE(sum(h.agreed) FILTER (WHERE h.stage = 'in_production' AND h.in_month), 0),
    COALESCE(sum(h.arrived) FILTER (WHERE h.stage = 'in_production' AND h.in_month), 0),
    count(*) FILTER (WHERE h.stage = 'in_production'),
    COALESCE(sum(h.agreed) FILTER (WHERE h.stage = 'in_production'), 0),
    COALESCE(sum(h.arrived) FILTER (WHERE h.stage = 'in_production'), 0)
FROM district AS d
LEFT JOIN unit AS u ON u.district_id = d.id
LEFT JOIN hit AS h ON h.district_id = d.id
GROUP BY d.id, d.code, d.name_zh, u.id, u.name_zh
$$;

COMMENT ON FUNCTION monthly_progress(date, numeric, boolean) IS
    '招商引资工作进度: one row per planning unit (with its district office) for the month of '
    '`month`: the projects that reached 签约 (signed), 开工 (started construction) and 投产 '
    '(started production) in that month and from the first of its year to its end (ytd), with '
    'their agreed investment and funds arrived in 亿元. Only projects whose agreed investment is '
    'at least min_investment_cny_100m (亿元; 0 counts those of unknown amount too). approved '
    '(the default) counts the figures as last approved (project_approved); false counts what the '
    'units report, reviewed or not. A stage counts in the month it was reached; a stage reached '
    'on an unknown day is in no month.';

DROP VIEW IF EXISTS report_monthly_progress;
CREATE VIEW report_monthly_progress AS
SELECT
    m.month::date AS month,
    f.*
FROM generate_series(
    date_trunc('year', current_date) - interval '1 year',
    date_trunc('month', current_date),
    interval '1 month'
) AS m (month)
CROSS JOIN LATERAL monthly_progress(m.month::date) AS f;

COMMENT ON VIEW report_monthly_progress IS
    '招商引资工作进度 (the monthly progress report): for each month of this year and the last, one '
    'row per planning unit: the approved projects signed (签约), started (开工) and producing '
    '(投产) in the month and in the year to date, with agreed investment and funds arrived in 亿元. '
    'Every project counts, whatever its amount; for a threshold (e.g. 5 亿元) or another period call '
    'monthly_progress(month, min_investment_cny_100m).';
COMMENT ON COLUMN report_monthly_progress.month IS 'First day of the month reported';
COMMENT ON COLUMN report_monthly_progress.district_id IS 'The planning unit (district.id)';
COMMENT ON COLUMN report_monthly_progress.district_code IS 'Natural key of the planning unit';
COMMENT ON COLUMN report_monthly_progress.district_name_zh IS 'Chinese name of the planning unit';
COMMENT ON COLUMN report_monthly_progress.unit_id IS 'The planning unit''s office (unit.id), if any';
COMMENT ON COLUMN report_monthly_progress.unit_name_zh IS 'Chinese name of that office (填报单位)';
COMMENT ON COLUMN report_monthly_progress.signed_month IS 'Approved projects signed (签约) in the month';
COMMENT ON COLUMN report_monthly_progress.signed_month_agreed_cny_100m IS
    'Their agreed investment (协议投资), in 亿元';
COMMENT ON COLUMN report_monthly_progress.signed_month_arrived_cny_100m IS
    'Their funds arrived to date (到位资金), in 亿元';
COMMENT ON COLUMN report_monthly_progress.signed_ytd IS
    'Approved projects signed from the first of the year to the end of the month';
COMMENT ON COLUMN report_monthly_progress.signed_ytd_agreed_cny_100m IS
    'Their agreed investment, in 亿元';
COMMENT ON COLUMN report_monthly_progress.signed_ytd_arrived_cny_100m IS
    'Their funds arrived to date, in 亿元';
COMMENT ON COLUMN report_monthly_progress.started_month IS
    'Approved projects that started construction (开工) in the month';
COMMENT ON COLUMN report_monthly_progress.started_month_agreed_cny_100m IS
    'Their agreed investment, in 亿元';
COMMENT ON COLUMN report_monthly_progress.started_month_arrived_cny_100m IS
    'Their funds arrived to date, in 亿元';
COMMENT ON COLUMN report_monthly_progress.started_ytd IS
    'Approved projects that started construction in the year to date';
COMMENT ON COLUMN report_monthly_progress.started_ytd_agreed_cny_100m IS
    'Their agreed investment, in 亿元';
COMMENT ON COLUMN report_monthly_progress.started_ytd_arrived_cny_100m IS
    'Their funds arrived to date, in 亿元';
COMMENT ON COLUMN report_monthly_progress.producing_month IS
    'Approved projects that started production (投产) in the month';
COMMENT ON COLUMN report_monthly_progress.producing_month_agreed_cny_100m IS
    'Their agreed investment, in 亿元';
COMMENT ON COLUMN report_monthly_progress.producing_month_arrived_cny_100m IS
    'Their funds arrived to date, in 亿元';
COMMENT ON COLUMN report_monthly_progress.producing_ytd IS
    'Approved projects that started production in the year to date';
COMMENT ON COLUMN report_monthly_progress.producing_ytd_agreed_cny_100m IS
    'Their agreed investment, in 亿元';
COMMENT ON COLUMN report_monthly_progress.producing_ytd_arrived_cny_100m IS
    'Their funds arrived to date, in 亿元';
""",
}
MATERIALIZED = (
    "report_chain_overview",
    "report_district_chain_matrix",
    "report_project_pipeline",
    "report_project_rates",
)
NEW_VIEW = "report_monthly_progress"


def _drop_views() -> None:
    """Drop the views of VIEW_SQL, readers first."""
    for name in reversed(VIEW_SQL):
        kind = "MATERIALIZED VIEW" if name in MATERIALIZED else "VIEW"
        op.execute(f"DROP {kind} IF EXISTS {name}")


def _refreshed_now() -> None:
    listed = ", ".join(repr(name) for name in MATERIALIZED)
    op.execute(
        "INSERT INTO report_refresh (view_name, refreshed_at) "
        f"SELECT unnest(ARRAY[{listed}]), now() "
        "ON CONFLICT (view_name) DO UPDATE SET refreshed_at = EXCLUDED.refreshed_at, seconds = NULL"
    )


def upgrade() -> None:
    op.create_table(
        "project_approved",
        sa.Column("id", sa.BigInteger(), nullable=False, comment="The project (project.id)"),
        sa.Column("name", sa.Text(), nullable=False, comment="Project name, as approved"),
        sa.Column("chain_id", sa.BigInteger(), nullable=False, comment="The chain, as approved"),
        sa.Column("segment_id", sa.BigInteger(), nullable=True, comment="The segment, as approved"),
        sa.Column(
            "district_id", sa.BigInteger(), nullable=False, comment="The planning unit, as approved"
        ),
        sa.Column(
            "investor_id",
            sa.BigInteger(),
            nullable=True,
            comment="The investing enterprise, as approved",
        ),
        sa.Column(
            "investor_name", sa.Text(), nullable=True, comment="The investor's name, as approved"
        ),
        sa.Column(
            "chain_master_id",
            sa.BigInteger(),
            nullable=True,
            comment="The chain master served, as approved",
        ),
        sa.Column(
            "kind",
            sa.String(length=20),
            nullable=False,
            comment="new, expansion or capital_increase",
        ),
        sa.Column(
            "parent_id",
            sa.BigInteger(),
            nullable=True,
            comment="The original project of a follow-on",
        ),
        sa.Column("channel", sa.String(length=20), nullable=True, comment="Attraction channel"),
        sa.Column(
            "agreed_investment_cny_100m",
            sa.Numeric(precision=14, scale=4),
            nullable=True,
            comment="Agreed investment (协议投资) as approved, in 亿元",
        ),
        sa.Column(
            "funds_arrived_cny_100m",
            sa.Numeric(precision=14, scale=4),
            nullable=True,
            comment="Funds arrived (到位资金) as approved, in 亿元",
        ),
        sa.Column("stage", sa.String(length=20), nullable=False, comment="The stage, as approved"),
        sa.Column("signed_on", sa.Date(), nullable=True, comment="Date signed (签约)"),
        sa.Column(
            "agreed_start_on",
            sa.Date(),
            nullable=True,
            comment="Construction start date agreed at signing",
        ),
        sa.Column(
            "construction_started_on",
            sa.Date(),
            nullable=True,
            comment="Date construction started (开工)",
        ),
        sa.Column(
            "production_started_on",
            sa.Date(),
            nullable=True,
            comment="Date production started (投产)",
        ),
        sa.Column(
            "capacity_reached_on",
            sa.Date(),
            nullable=True,
            comment="Date full capacity reached (达产)",
        ),
        sa.Column("dropped_on", sa.Date(), nullable=True, comment="Date dropped (终止)"),
        sa.Column(
            "is_key", sa.Boolean(), nullable=False, comment="City key project (市级重点项目)"
        ),
        sa.Column(
            "approved_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
            comment="When it was approved",
        ),
        sa.Column(
            "approved_by",
            sa.Text(),
            nullable=False,
            comment="Who approved it (the chaindb user, else the database user)",
        ),
        sa.Column(
            "last_stage_event_id",
            sa.BigInteger(),
            nullable=True,
            comment="The last stage move (project_stage_event.id) the approval covered: the "
            "moves after it wait for the next review",
        ),
        sa.ForeignKeyConstraint(
            ["id"], ["project.id"], name=op.f("fk_project_approved_id_project"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_approved")),
        comment="The approved figures (审核通过) of each project: a copy of the project row as it stood when last approved, written by the trigger project_take_approved (never by the application). The reports count these, so that nothing unreviewed enters the city's totals; project holds what units report. Amounts in 亿元",
    )
    op.create_index(
        "ix_project_approved_chain_id_stage",
        "project_approved",
        ["chain_id", "stage"],
        unique=False,
    )
    op.create_index(
        "ix_project_approved_district_id_stage",
        "project_approved",
        ["district_id", "stage"],
        unique=False,
    )
    op.create_table(
        "project_evidence",
        sa.Column(
            "id",
            sa.BigInteger(),
            sa.Identity(always=False),
            nullable=False,
            comment="Surrogate key",
        ),
        sa.Column("project_id", sa.BigInteger(), nullable=False, comment="The project"),
        sa.Column(
            "stage",
            sa.String(length=20),
            nullable=True,
            comment="The stage it is evidence of (signed, under_construction ...), if one",
        ),
        sa.Column(
            "kind",
            sa.String(length=16),
            nullable=False,
            comment="contract (合同), licence (营业执照), permit (施工许可), photo (照片), production (投产证明) or other",
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
        sa.Column("note", sa.Text(), nullable=True, comment="Free text"),
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
            name=op.f("ck_project_evidence_content_matches_type"),
        ),
        sa.CheckConstraint(
            "btrim(file_name) <> ''", name=op.f("ck_project_evidence_file_name_not_blank")
        ),
        sa.CheckConstraint(
            "kind IN ('contract', 'licence', 'permit', 'photo', 'production', 'other')",
            name=op.f("ck_project_evidence_kind"),
        ),
        sa.CheckConstraint(
            "media_type IN ('application/pdf', 'image/jpeg', 'image/png')",
            name=op.f("ck_project_evidence_media_type"),
        ),
        sa.CheckConstraint(
            "stage IN ('lead', 'negotiating', 'signed', 'under_construction', 'in_production', 'at_capacity', 'dropped')",
            name=op.f("ck_project_evidence_stage"),
        ),
        sa.CheckConstraint(
            "char_length(file_name) <= 200", name=op.f("ck_project_evidence_file_name_length")
        ),
        sa.CheckConstraint(
            "char_length(note) <= 10000", name=op.f("ck_project_evidence_note_length")
        ),
        sa.CheckConstraint(
            "octet_length(content) BETWEEN 1 AND 10485760",
            name=op.f("ck_project_evidence_size_within_limit"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_project_evidence_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_evidence")),
        comment="Evidence files (佐证材料) of projects: a contract for 签约, a business licence, a construction permit or photos for 开工, proof of production; PDF, JPEG or PNG, checked by content, with size and SHA-256 computed by the database",
    )
    op.create_index(
        "ix_project_evidence_project_id_stage",
        "project_evidence",
        ["project_id", "stage"],
        unique=False,
    )
    op.create_table(
        "project_review",
        sa.Column(
            "id",
            sa.BigInteger(),
            sa.Identity(always=False),
            nullable=False,
            comment="Surrogate key",
        ),
        sa.Column("project_id", sa.BigInteger(), nullable=False, comment="The project reviewed"),
        sa.Column(
            "action",
            sa.String(length=16),
            nullable=False,
            comment="submit (提交), withdraw (撤回), approve (审核通过) or return (退回)",
        ),
        sa.Column(
            "opinion",
            sa.Text(),
            nullable=True,
            comment="The reviewer's opinion (审核意见); required when returning",
        ),
        sa.Column(
            "from_status",
            sa.String(length=16),
            nullable=False,
            comment="The project's review status before (set by the trigger)",
        ),
        sa.Column(
            "to_status",
            sa.String(length=16),
            nullable=False,
            comment="The project's review status after (set by the trigger)",
        ),
        sa.Column(
            "stage",
            sa.String(length=20),
            nullable=False,
            comment="The stage the project stood at, as reported (set by the trigger)",
        ),
        sa.Column(
            "actor",
            sa.Text(),
            nullable=False,
            comment="Who acted (the chaindb user, else the database user; set by the trigger)",
        ),
        sa.Column(
            "unit_id",
            sa.BigInteger(),
            nullable=True,
            comment="The unit acted for (set by the trigger); NULL when the database owner acted",
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
            comment="When it happened",
        ),
        sa.CheckConstraint(
            "action <> 'return' OR COALESCE(btrim(opinion), '') <> ''",
            name=op.f("ck_project_review_return_has_opinion"),
        ),
        sa.CheckConstraint(
            "action IN ('submit', 'withdraw', 'approve', 'return')",
            name=op.f("ck_project_review_action"),
        ),
        sa.CheckConstraint(
            "from_status IN ('draft', 'submitted', 'approved', 'returned')",
            name=op.f("ck_project_review_from_status"),
        ),
        sa.CheckConstraint(
            "stage IN ('lead', 'negotiating', 'signed', 'under_construction', 'in_production', 'at_capacity', 'dropped')",
            name=op.f("ck_project_review_stage"),
        ),
        sa.CheckConstraint(
            "to_status IN ('draft', 'submitted', 'approved', 'returned')",
            name=op.f("ck_project_review_to_status"),
        ),
        sa.CheckConstraint(
            "char_length(opinion) <= 10000", name=op.f("ck_project_review_opinion_length")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_project_review_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
            name=op.f("fk_project_review_unit_id_unit"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_review")),
        comment="The review history of projects (审核记录): each submission, withdrawal, approval and return, with the reviewer's opinion, the stage the project reported, who and when (append-only; inserting a row applies it to project.review_status)",
    )
    op.create_index(
        "ix_project_review_project_id_id", "project_review", ["project_id", "id"], unique=False
    )
    op.create_index(op.f("ix_project_review_unit_id"), "project_review", ["unit_id"], unique=False)
    op.create_table(
        "project_approved_milestone",
        sa.Column("project_id", sa.BigInteger(), nullable=False, comment="The project"),
        sa.Column("stage", sa.String(length=20), nullable=False, comment="The stage reached"),
        sa.Column(
            "rank",
            sa.Integer(),
            nullable=True,
            comment="Position of the stage (lead = 1 .. at_capacity = 6); NULL for dropped",
        ),
        sa.Column(
            "reached_on",
            sa.Date(),
            nullable=True,
            comment="The day it first got there; NULL when unknown",
        ),
        sa.CheckConstraint(
            "stage IN ('lead', 'negotiating', 'signed', 'under_construction', 'in_production', 'at_capacity', 'dropped')",
            name=op.f("ck_project_approved_milestone_stage"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project_approved.id"],
            name=op.f("fk_project_approved_milestone_project_id_project_approved"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "stage", name=op.f("pk_project_approved_milestone")),
        comment="The milestones (project_milestone) of each project as last approved: the stages it had reached and their days, copied with project_approved by the trigger project_take_approved",
    )
    op.create_index(
        "ix_project_approved_milestone_stage_reached_on",
        "project_approved_milestone",
        ["stage", "reached_on"],
        unique=False,
    )
    op.add_column(
        "project",
        sa.Column(
            "review_status",
            sa.String(length=16),
            # The projects that exist were entered before review: approved. No table rewrite,
            # no trigger fired; new projects are drafts (the default set just below).
            server_default=sa.text("'approved'"),
            nullable=False,
            comment="draft (已保存), submitted (审核中), approved (审核通过) or returned (退回): changed only by a review (project_review); an approved project that its unit edits becomes a draft again, while project_approved keeps the figures last approved",
        ),
    )
    op.alter_column("project", "review_status", server_default=sa.text("'draft'"))
    op.create_check_constraint(
        op.f("ck_project_review_status"),
        "project",
        "review_status IN ('draft', 'submitted', 'approved', 'returned')",
    )
    op.create_index(
        "ix_project_review_status",
        "project",
        ["review_status"],
        unique=False,
        postgresql_where="review_status IN ('submitted', 'returned')",
    )
    op.add_column(
        "unit",
        sa.Column(
            "reviews_chain_projects",
            sa.Boolean(),
            server_default=sa.text("false"),
            nullable=False,
            comment="A chain office that reviews (approves or returns) the projects of its chains, beside the city bureau; set by the city bureau",
        ),
    )
    op.create_check_constraint(
        op.f("ck_unit_only_chain_offices_review_their_chains"),
        "unit",
        "NOT reviews_chain_projects OR kind = 'chain_office'",
    )

    for signature, create in FUNCTIONS.items():
        op.execute(create)
        comment = COMMENTS[signature].replace("'", "''")
        op.execute(f"COMMENT ON FUNCTION {signature} IS '{comment}'")
    for trigger in TRIGGERS:
        op.execute(trigger)
    # The projects as they stand are their approved figures.
    op.execute(
        "INSERT INTO project_approved SELECT a.* FROM project AS p CROSS JOIN LATERAL "
        "jsonb_populate_record(NULL::project_approved, to_jsonb(p) || jsonb_build_object("
        "'approved_at', now(), 'approved_by', 'migration 4b8e2d6f1a93', 'last_stage_event_id', "
        "(SELECT max(e.id) FROM project_stage_event AS e WHERE e.project_id = p.id))) AS a"
    )
    op.execute(
        "INSERT INTO project_approved_milestone (project_id, stage, rank, reached_on) "
        "SELECT project_id, stage, rank, reached_on FROM project_milestone"
    )
    for statement in GRANTS:
        op.execute(statement)
    for table, policies in POLICIES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        for name, command, using, check in policies:
            clauses = f"FOR {command}"
            if using is not None:
                clauses += f" USING ({using})"
            if check is not None:
                clauses += f" WITH CHECK ({check})"
            op.execute(f"CREATE POLICY {name} ON {table} {clauses}")

    gap = released("f0d0aa0340fa")
    gap._keep_grants([name for name in VIEW_SQL if name != NEW_VIEW])
    _drop_views()
    for name in VIEW_SQL:
        op.execute(VIEW_SQL[name])
    # Whoever reads the reports (the reader roles) reads the new one too.
    op.execute(
        f"""
        DO $$
        DECLARE
          grantee text;
        BEGIN
          FOR grantee IN
            SELECT DISTINCT CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END
            FROM pg_temp.report_grants AS g LEFT JOIN pg_roles AS r ON r.oid = g.grantee
            WHERE g.privilege_type = 'SELECT'
          LOOP
            EXECUTE format('GRANT SELECT ON {NEW_VIEW} TO %s', grantee);
            EXECUTE format(
              'GRANT EXECUTE ON FUNCTION monthly_progress(date, numeric, boolean) TO %s', grantee
            );
          END LOOP;
        END
        $$
        """
    )
    gap._grant_again()
    for name in MATERIALIZED:
        op.execute(f"ANALYZE {name}")
    _refreshed_now()


def downgrade() -> None:
    gap = released("f0d0aa0340fa")
    gap._keep_grants([name for name in VIEW_SQL if name != NEW_VIEW])
    _drop_views()
    op.execute("DROP FUNCTION IF EXISTS monthly_progress(date, numeric, boolean)")
    previous = released("8d4f6a2c1e73").VIEW_SQL
    earlier = released("7c21d5e8a4f0").VIEW_SQL
    for name in VIEW_SQL:
        if name != NEW_VIEW:
            op.execute(previous.get(name) or earlier[name])
    gap._grant_again()
    for trigger in ("project_review_guard ON project", "project_take_approved ON project"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for signature in reversed(FUNCTIONS):
        if signature != "project_review_apply()":
            op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    op.drop_constraint(op.f("ck_unit_only_chain_offices_review_their_chains"), "unit")
    op.drop_constraint(op.f("ck_project_review_status"), "project")
    op.drop_column("unit", "reviews_chain_projects")
    op.drop_index(
        "ix_project_approved_milestone_stage_reached_on", table_name="project_approved_milestone"
    )
    op.drop_table("project_approved_milestone")
    op.drop_index(op.f("ix_project_review_unit_id"), table_name="project_review")
    op.drop_index("ix_project_review_project_id_id", table_name="project_review")
    op.drop_table("project_review")
    op.execute("DROP FUNCTION IF EXISTS project_review_apply()")
    op.drop_index("ix_project_evidence_project_id_stage", table_name="project_evidence")
    op.drop_table("project_evidence")
    op.drop_index("ix_project_approved_district_id_stage", table_name="project_approved")
    op.drop_index("ix_project_approved_chain_id_stage", table_name="project_approved")
    op.drop_table("project_approved")
    op.drop_index(
        "ix_project_review_status",
        table_name="project",
        postgresql_where="review_status IN ('submitted', 'returned')",
    )
    op.drop_column("project", "review_status")
