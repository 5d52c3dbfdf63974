"""Figures as the offices count them, kept current without a button.

- Unknown stage dates stay unknown: project_stage_event.occurred_on may be NULL. The stage
  trigger takes the day from chaindb.stage_date ('unknown' records none), else from the
  project's date for the stage; a project created at a dated stage (签约 and later) without that
  date gets NULL, not the day of the load; a move without a date is dated today (it is being
  made now); the seeds load with 'unknown'. Events created with the day they were written for
  want of a date (a project created at a dated stage without it; any stage event of the demo and
  synthetic seeds that its project's date does not confirm) become NULL.
- project_reached(project_id): the stages a project has reached, with their days when known;
  the one definition of "reached" (a project that reached a later stage has passed the earlier
  milestones). The table project_milestone keeps its rows for every project (the trigger
  project_sync_milestones, after each insert and each change of the stage or a stage date), so
  that counting them is reading a table; report_project_milestones shows them. report_project_pipeline and report_project_rates count from it: the start rate
  counts a project that went from 签约 to 投产 as started, and says how many start days are
  unknown (started_date_unknown); the pipeline puts the unknown days in a row of their own.
- report_district_chain_matrix, report_project_pipeline and report_project_rates become
  materialized views (114, 180 and 170 ms as plain views at synthetic scale 1; a unique index NULLS NOT DISTINCT each, as the unknown
  days make a NULL month), refreshed like the others.
- report_target_progress covers every target the data holds (the chains' 2030 targets too), each
  measured by its own actual or the latest earlier one (actual_year, actual_metric, origin).
- report_sources_changed(): a statement trigger on the tables the materialized reports read
  (chain, chain_segment, chain_role, district, enterprise, supply_link, project) sends NOTIFY
  chaindb_reports with the table's name at commit; chaindb.reports.listener refreshes the
  reports that read it.

The SQL is copied here as it is at this revision (chaindb/reports/sql/ holds the current
version). Downgrade restores e41f7c2a9b63's views and the stage trigger of 1cce829687d1 (events
without a day get the day of the downgrade, as NOT NULL comes back).

Revision ID: 7c21d5e8a4f0
Revises: 28df19e2bcc3
Create Date: 2026-12-03 10:00:00.000000+00:00
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "7c21d5e8a4f0"
down_revision: str | Sequence[str] | None = "28df19e2bcc3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables the materialized reporting views read: a write to one notifies the refresher.
NOTIFYING_TABLES = (
    "chain",
    "chain_segment",
    "chain_role",
    "district",
    "enterprise",
    "supply_link",
    "project",
)
# The notes the demo and synthetic seeds gave the stage events they created.
SEED_NOTES = ("演示数据录入", "合成数据（chaindb seed synthetic，仅供基准测试）")
REPLACED = (
    "report_district_chain_matrix",
    "report_project_pipeline",
    "report_project_rates",
    "report_target_progress",
)
# Plain views until now, materialized from now on (refreshed by the listener as writes commit).
NOW_MATERIALIZED = (
    "report_district_chain_matrix",
    "report_project_pipeline",
    "report_project_rates",
)

RECORD_STAGE = """
CREATE OR REPLACE FUNCTION project_record_stage() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  given text := NULLIF(current_setting('chaindb.stage_date', true), '');
  own date := CASE NEW.stage
                WHEN 'signed' THEN NEW.signed_on
                WHEN 'under_construction' THEN NEW.construction_started_on
                WHEN 'in_production' THEN NEW.production_started_on
                WHEN 'at_capacity' THEN NEW.capacity_reached_on
                WHEN 'dropped' THEN NEW.dropped_on
              END;
BEGIN
  -- The service passes date, reason, note and actor as transaction-local settings
  -- (set_config('chaindb.stage_date', ..., true)). Without a date there: the project's date for
  -- the stage; else none when chaindb.stage_date is 'unknown' (a load of facts whose dates are
  -- not known) or the project is created at a dated stage (the day it got there is not known);
  -- else today (a lead created, or a move being made now).
  INSERT INTO project_stage_event
    (project_id, from_stage, to_stage, occurred_on, reason, note, actor)
  VALUES (
    NEW.id,
    CASE WHEN TG_OP = 'UPDATE' THEN OLD.stage END,
    NEW.stage,
    CASE
      WHEN given <> 'unknown' THEN given::date
      WHEN own IS NOT NULL THEN own
      WHEN given = 'unknown' THEN NULL
      WHEN TG_OP = 'INSERT' AND NEW.stage NOT IN ('lead', 'negotiating') THEN NULL
      ELSE current_date
    END,
    NULLIF(current_setting('chaindb.stage_reason', true), ''),
    NULLIF(current_setting('chaindb.stage_note', true), ''),
    COALESCE(NULLIF(current_setting('chaindb.actor', true), ''), session_user)
  );
  RETURN NULL;
END
$$
"""

NOTIFY = """
CREATE FUNCTION report_sources_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Delivered at commit, once per transaction and table however many statements wrote it.
  PERFORM pg_notify('chaindb_reports', TG_TABLE_NAME);
  RETURN NULL;
END
$$
"""

REACHED = """
CREATE FUNCTION project_reached(project_id bigint)
RETURNS TABLE (stage character varying(20), rank integer, reached_on date)
LANGUAGE plpgsql
STABLE
SET search_path = public, pg_temp
AS $$
-- PL/pgSQL, not SQL: its statements' plans are kept between calls, which the trigger on every
-- project write needs (bench/report_freshness.py).
DECLARE
  p record;
  h record;
  furthest integer;
BEGIN
  SELECT x.stage, x.signed_on, x.construction_started_on, x.production_started_on,
         x.capacity_reached_on, x.dropped_on
    INTO p
    FROM project AS x
   WHERE x.id = project_reached.project_id;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  -- What the stage history says: the furthest stage reached and the first day of each stage.
  SELECT max(project_stage_rank(e.to_stage)) AS furthest,
         bool_or(e.to_stage = 'lead') AS lead,
         bool_or(e.to_stage = 'negotiating') AS negotiating,
         bool_or(e.to_stage = 'dropped') AS dropped,
         min(e.occurred_on) FILTER (WHERE e.to_stage = 'lead') AS lead_on,
         min(e.occurred_on) FILTER (WHERE e.to_stage = 'negotiating') AS negotiating_on,
         min(e.occurred_on) FILTER (WHERE e.to_stage = 'signed') AS signed_on,
         min(e.occurred_on) FILTER (WHERE e.to_stage = 'under_construction') AS started_on,
         min(e.occurred_on) FILTER (WHERE e.to_stage = 'in_production') AS production_on,
         min(e.occurred_on) FILTER (WHERE e.to_stage = 'at_capacity') AS capacity_on,
         min(e.occurred_on) FILTER (WHERE e.to_stage = 'dropped') AS dropped_on
    INTO h
    FROM project_stage_event AS e
   WHERE e.project_id = project_reached.project_id;
  -- A project that reached a later stage has passed the earlier ones.
  furthest := GREATEST(
    project_stage_rank(p.stage),
    h.furthest,
    CASE
      WHEN p.capacity_reached_on IS NOT NULL THEN 6
      WHEN p.production_started_on IS NOT NULL THEN 5
      WHEN p.construction_started_on IS NOT NULL THEN 4
      WHEN p.signed_on IS NOT NULL THEN 3
    END
  );
  -- Lead and negotiation are working states, not milestones: counted where recorded. A stage's
  -- day is that of the first move into it (a project counts once per stage, when it first got
  -- there), else the project's date for it; NULL when neither knows.
  IF COALESCE(h.lead, false) THEN
    stage := 'lead'; rank := 1; reached_on := h.lead_on; RETURN NEXT;
  END IF;
  IF COALESCE(h.negotiating, false) THEN
    stage := 'negotiating'; rank := 2; reached_on := h.negotiating_on; RETURN NEXT;
  END IF;
  IF furthest >= 3 THEN
    stage := 'signed'; rank := 3; reached_on := COALESCE(h.signed_on, p.signed_on); RETURN NEXT;
  END IF;
  IF furthest >= 4 THEN
    stage := 'under_construction'; rank := 4;
    reached_on := COALESCE(h.started_on, p.construction_started_on); RETURN NEXT;
  END IF;
  IF furthest >= 5 THEN
    stage := 'in_production'; rank := 5;
    reached_on := COALESCE(h.production_on, p.production_started_on); RETURN NEXT;
  END IF;
  IF furthest >= 6 THEN
    stage := 'at_capacity'; rank := 6;
    reached_on := COALESCE(h.capacity_on, p.capacity_reached_on); RETURN NEXT;
  END IF;
  IF p.stage = 'dropped' OR COALESCE(h.dropped, false) THEN
    stage := 'dropped'; rank := NULL; reached_on := COALESCE(h.dropped_on, p.dropped_on);
    RETURN NEXT;
  END IF;
END
$$
"""

SYNC_MILESTONES = """
CREATE FUNCTION project_sync_milestones() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- After the stage trigger (names fire in order: project_record_stage_* first), so that the
  -- history holds the move just made.
  IF TG_OP = 'UPDATE' THEN
    DELETE FROM project_milestone WHERE project_id = NEW.id;
  END IF;
  INSERT INTO project_milestone (project_id, stage, rank, reached_on)
  SELECT NEW.id, r.stage, r.rank, r.reached_on FROM project_reached(NEW.id) AS r;
  RETURN NULL;
END
$$
"""

# project columns whose change can change a project's milestones.
MILESTONE_COLUMNS = (
    "stage",
    "signed_on",
    "construction_started_on",
    "production_started_on",
    "capacity_reached_on",
    "dropped_on",
)

VIEW_SQL: dict[str, str] = {
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
    WHERE e.district_id IS NOT NULL
      AND (r.since IS NULL OR r.since <= current_date)
      AND (r.until IS NULL OR r.until >= current_date)
    GROUP BY e.district_id, r.chain_id
),
project_counts AS (
    SELECT
        district_id,
        chain_id,
        count(*) AS projects,
        sum(agreed_investment_cny_100m) AS agreed_investment,
        sum(funds_arrived_cny_100m) AS funds_arrived
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
    COALESCE(p.funds_arrived, 0) AS funds_arrived_cny_100m
FROM district AS d
CROSS JOIN chain AS c
LEFT JOIN role_counts AS r ON r.district_id = d.id AND r.chain_id = c.id
LEFT JOIN project_counts AS p ON p.district_id = d.id AND p.chain_id = c.id;

CREATE UNIQUE INDEX uq_report_district_chain_matrix_district_id_chain_id
    ON report_district_chain_matrix (district_id, chain_id);
CREATE INDEX ix_report_district_chain_matrix_chain_id ON report_district_chain_matrix (chain_id);

COMMENT ON MATERIALIZED VIEW report_district_chain_matrix IS
    'Every planning unit (区县(功能区)) by every chain, zeros where nothing: the unit''s '
    'enterprises with a role in the chain live today, and the projects landing in the unit for '
    'the chain (dropped ones left out). Amounts in 亿元 (100 million CNY).';
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
    'Projects of the chain landing in the unit, all stages but dropped';
COMMENT ON COLUMN report_district_chain_matrix.agreed_investment_cny_100m IS
    'Agreed investment (协议投资) of those projects, in 亿元 (100 million CNY)';
COMMENT ON COLUMN report_district_chain_matrix.funds_arrived_cny_100m IS
    'Funds arrived to date (到位资金) of those projects, in 亿元 (100 million CNY)';
""",
    "report_project_milestones": """
-- One row per project and stage it has reached, with the day it got there when that is known:
-- the one definition of "reached" that the pipeline and the rates count from. The rows are kept
-- in the table project_milestone by a trigger on project (project_reached() computes them), so
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
FROM project_milestone AS m
JOIN project AS p ON p.id = m.project_id;

COMMENT ON VIEW report_project_milestones IS
    'The stages each project has reached (one row per project and stage), with the day it got '
    'there when known: the one definition the pipeline (report_project_pipeline) and the rates '
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
-- Per month and stage: the projects reaching the stage that month (report_project_milestones);
-- a row with no month for the projects whose day of reaching it is unknown.
-- Materialized: as a plain view it took 180 ms at synthetic scale 1 (88,835 milestones). Its rows
-- are those of the last refresh, which follows a write to project within seconds
-- (chaindb.reports.listener). Dropped and created again, never replaced; created WITH DATA.
DROP MATERIALIZED VIEW IF EXISTS report_project_pipeline;
CREATE MATERIALIZED VIEW report_project_pipeline AS
SELECT
    date_trunc('month', m.reached_on)::date AS month,
    extract(year FROM m.reached_on)::integer AS year,
    m.stage,
    count(*) AS projects,
    COALESCE(sum(p.agreed_investment_cny_100m), 0) AS agreed_investment_cny_100m
FROM project_milestone AS m
JOIN project AS p ON p.id = m.project_id
GROUP BY
    date_trunc('month', m.reached_on)::date,
    extract(year FROM m.reached_on)::integer,
    m.stage;

-- NULLS NOT DISTINCT (PostgreSQL 15): one "date unknown" row per stage, as REFRESH ...
-- CONCURRENTLY needs every row told apart.
CREATE UNIQUE INDEX uq_report_project_pipeline_month_stage
    ON report_project_pipeline (month, stage) NULLS NOT DISTINCT;
CREATE INDEX ix_report_project_pipeline_year ON report_project_pipeline (year);

COMMENT ON MATERIALIZED VIEW report_project_pipeline IS
    'The project pipeline per month and stage, from report_project_milestones: the projects '
    'that reached the stage that month. A project counts once per stage, in the month it first '
    'reached it (a move back and forth does not count it again); a project that passed a '
    'milestone without a recorded day counts in the row whose month is NULL (date unknown), '
    'never on an invented day. Amounts in 亿元.';
COMMENT ON COLUMN report_project_pipeline.month IS 'First day of the month; NULL for the projects whose day is unknown';
COMMENT ON COLUMN report_project_pipeline.year IS 'Calendar year of the month; NULL when the day is unknown';
COMMENT ON COLUMN report_project_pipeline.stage IS
    'The stage entered: lead (储备), negotiating (在谈), signed (签约), under_construction (开工), '
    'in_production (投产), at_capacity (达产) or dropped (终止)';
COMMENT ON COLUMN report_project_pipeline.projects IS
    'Distinct projects that reached the stage in the month (or on an unknown day)';
COMMENT ON COLUMN report_project_pipeline.agreed_investment_cny_100m IS
    'Agreed investment (协议投资) of those projects as recorded today, in 亿元 (100 million CNY); '
    'a flow: projects dropped since are included';
""",
    "report_project_rates": """
-- Per month: start rate and funds arrival rate of the projects signed that month, fulfilment
-- rate of the projects due to start that month; a row with no month for the projects signed on
-- an unknown day. "Signed" and "started" are the milestones of report_project_milestones.
-- Materialized: as a plain view it took 170 ms at synthetic scale 1. Its rows are those of the
-- last refresh, which follows a write to project within seconds, and each new day (the due
-- projects are those due by today). Dropped and created again, never replaced; created WITH
-- DATA.
DROP MATERIALIZED VIEW IF EXISTS report_project_rates;
CREATE MATERIALIZED VIEW report_project_rates AS
WITH reach AS (
    SELECT
        m.project_id,
        min(m.reached_on) FILTER (WHERE m.stage = 'signed') AS signed_on,
        bool_or(m.stage = 'under_construction') AS started,
        min(m.reached_on) FILTER (WHERE m.stage = 'under_construction') AS started_on
    FROM project_milestone AS m
    WHERE m.stage IN ('signed', 'under_construction')
    GROUP BY m.project_id
    HAVING bool_or(m.stage = 'signed')
),
signed AS (
    SELECT
        date_trunc('month', r.signed_on)::date AS month,
        count(*) AS signed_projects,
        count(*) FILTER (WHERE r.started) AS started_projects,
        count(*) FILTER (WHERE r.started AND r.started_on IS NULL) AS started_date_unknown,
        sum(p.agreed_investment_cny_100m) FILTER (WHERE p.stage <> 'dropped') AS agreed_investment,
        sum(p.funds_arrived_cny_100m) FILTER (WHERE p.stage <> 'dropped') AS funds_arrived
    FROM reach AS r
    JOIN project AS p ON p.id = r.project_id
    GROUP BY date_trunc('month', r.signed_on)::date
),
due AS (
    SELECT
        date_trunc('month', p.agreed_start_on)::date AS month,
        count(*) AS due_projects,
        count(*) FILTER (WHERE r.started_on <= p.agreed_start_on) AS fulfilled_projects
    FROM reach AS r
    JOIN project AS p ON p.id = r.project_id
    WHERE p.agreed_start_on <= current_date
    GROUP BY date_trunc('month', p.agreed_start_on)::date
),
month_totals AS (
    SELECT
        COALESCE(s.month, d.month) AS month,
        COALESCE(s.signed_projects, 0) AS signed_projects,
        COALESCE(s.started_projects, 0) AS started_projects,
        COALESCE(s.started_date_unknown, 0) AS started_date_unknown,
        COALESCE(s.agreed_investment, 0) AS agreed_investment,
        COALESCE(s.funds_arrived, 0) AS funds_arrived,
        COALESCE(d.due_projects, 0) AS due_projects,
        COALESCE(d.fulfilled_projects, 0) AS fulfilled_projects
    FROM signed AS s
    FULL JOIN due AS d ON d.month = s.month
)
SELECT
    t.month,
    extract(year FROM t.month)::integer AS year,
    t.signed_projects,
    t.started_projects,
    t.started_date_unknown,
    t.started_projects::numeric / NULLIF(t.signed_projects, 0) AS start_rate,
    t.agreed_investment AS agreed_investment_cny_100m,
    t.funds_arrived AS funds_arrived_cny_100m,
    t.funds_arrived / NULLIF(t.agreed_investment, 0) AS funds_arrival_rate,
    t.due_projects,
    t.fulfilled_projects,
    t.fulfilled_projects::numeric / NULLIF(t.due_projects, 0) AS fulfilment_rate
FROM month_totals AS t;

CREATE UNIQUE INDEX uq_report_project_rates_month
    ON report_project_rates (month) NULLS NOT DISTINCT;

COMMENT ON MATERIALIZED VIEW report_project_rates IS
    'Project rates per month: start rate (开工率) and funds arrival rate (资金到位率) of the '
    'projects signed in the month, fulfilment rate (履约率) of the signed projects '
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
COMMENT ON COLUMN report_project_rates.started_date_unknown IS
    'Of started_projects: those whose day of starting construction (开工日期) is unknown (they '
    'passed 开工 without it being recorded)';
""",
    "report_target_progress": """
-- Actual against target, per scope (city, chain, planning unit), year and metric: every target
-- the data holds (the target table's, and the chains' 2030 targets kept on the chain itself).
CREATE OR REPLACE VIEW report_target_progress AS
WITH goal AS (
    SELECT
        t.id AS target_id, t.scope, t.chain_id, t.district_id, t.year, t.metric, t.unit,
        t.target_value, t.actual_value, 'target'::text AS origin
    FROM target AS t
    WHERE t.target_value IS NOT NULL
    UNION ALL
    -- A chain's 2030 scale target (chain.target_2030_cny_100m), unless the target table holds
    -- that chain's 2030 revenue target itself.
    SELECT
        NULL, 'chain'::character varying(8), c.id, NULL, 2030::smallint,
        'chain_revenue'::character varying(32), 'cny_100m'::character varying(10),
        c.target_2030_cny_100m::numeric(16, 4), NULL::numeric(16, 4), 'chain'
    FROM chain AS c
    WHERE c.target_2030_cny_100m IS NOT NULL
      AND NOT EXISTS (
            SELECT 1
            FROM target AS t
            WHERE t.scope = 'chain' AND t.chain_id = c.id AND t.year = 2030
              AND t.metric = 'chain_revenue' AND t.target_value IS NOT NULL
        )
),
measured AS (
    -- Each goal with the actual it is measured by: its own when known, else the latest earlier
    -- actual of the same scope and place in the same unit, of the same metric or, for a
    -- revenue target, of any revenue metric (the city's 2025 goal for the 13 chains against the
    -- industrial revenue of 2024).
    SELECT
        g.*,
        a.actual_value AS latest_value,
        a.year AS latest_year,
        a.metric AS latest_metric
    FROM goal AS g
    LEFT JOIN LATERAL (
        SELECT t.actual_value, t.year, t.metric
        FROM target AS t
        WHERE g.actual_value IS NULL
          AND t.actual_value IS NOT NULL
          AND t.scope = g.scope
          AND t.chain_id IS NOT DISTINCT FROM g.chain_id
          AND t.district_id IS NOT DISTINCT FROM g.district_id
          AND t.unit = g.unit
          AND t.year <= g.year
          AND (t.metric = g.metric
               OR (g.metric IN ('industrial_revenue', 'iconic_chains_revenue', 'chain_revenue')
                   AND t.metric IN ('industrial_revenue', 'iconic_chains_revenue',
                                    'chain_revenue')))
        ORDER BY t.year DESC, (t.metric = g.metric) DESC, t.id
        LIMIT 1
    ) AS a ON true
)
SELECT
    m.target_id,
    m.scope,
    m.chain_id,
    c.code AS chain_code,
    c.name_zh AS chain_name_zh,
    m.district_id,
    d.code AS district_code,
    d.name_zh AS district_name_zh,
    m.year,
    m.metric,
    m.unit,
    m.target_value,
    COALESCE(m.actual_value, m.latest_value) AS actual_value,
    COALESCE(m.actual_value, m.latest_value) / NULLIF(m.target_value, 0) AS progress,
    m.target_value - COALESCE(m.actual_value, m.latest_value) AS remaining_value,
    CASE WHEN m.actual_value IS NOT NULL THEN m.year ELSE m.latest_year END AS actual_year,
    CASE WHEN m.actual_value IS NOT NULL THEN m.metric ELSE m.latest_metric END AS actual_metric,
    m.origin
FROM measured AS m
LEFT JOIN chain AS c ON c.id = m.chain_id
LEFT JOIN district AS d ON d.id = m.district_id;

COMMENT ON VIEW report_target_progress IS
    'Target progress: one row per target (scope, year, metric) the data holds: the target '
    'table''s rows that have a target value, and the chains'' 2030 scale targets '
    '(chain.target_2030_cny_100m). Each with the actual it is measured by (its own, else the '
    'latest earlier actual of the same scope, place and unit: the same metric or, for revenue, '
    'any revenue metric; actual_year and actual_metric say which), the share reached and what '
    'remains. Both values are in the row''s unit.';
COMMENT ON COLUMN report_target_progress.target_id IS
    'The target row (target.id); NULL for a chain''s 2030 target kept on the chain';
COMMENT ON COLUMN report_target_progress.scope IS 'city, chain or district (a planning unit)';
COMMENT ON COLUMN report_target_progress.chain_id IS 'The chain, for scope chain; else NULL';
COMMENT ON COLUMN report_target_progress.chain_code IS 'Natural key of the chain, for scope chain';
COMMENT ON COLUMN report_target_progress.chain_name_zh IS
    'Chinese name of the chain, for scope chain';
COMMENT ON COLUMN report_target_progress.district_id IS
    'The planning unit, for scope district; else NULL';
COMMENT ON COLUMN report_target_progress.district_code IS
    'Natural key of the planning unit, for scope district';
COMMENT ON COLUMN report_target_progress.district_name_zh IS
    'Chinese name of the planning unit, for scope district';
COMMENT ON COLUMN report_target_progress.year IS 'Calendar year';
COMMENT ON COLUMN report_target_progress.metric IS
    'industrial_revenue (规上工业营收), iconic_chains_revenue, chain_revenue, industrial_profit, '
    'projects_signed or investment_signed';
COMMENT ON COLUMN report_target_progress.unit IS
    'Unit of target_value, actual_value and remaining_value: cny_100m (亿元), count or percent';
COMMENT ON COLUMN report_target_progress.target_value IS 'Target for the year, in unit';
COMMENT ON COLUMN report_target_progress.actual_value IS
    'The actual the target is measured by, in unit: the year''s own, else the latest earlier '
    'one (actual_year, actual_metric); NULL when none is known';
COMMENT ON COLUMN report_target_progress.progress IS
    'actual_value / target_value, a fraction (1 = target met); NULL when either is NULL or the '
    'target is 0';
COMMENT ON COLUMN report_target_progress.remaining_value IS
    'target_value - actual_value, in unit (negative when exceeded); NULL when either is NULL';
COMMENT ON COLUMN report_target_progress.actual_year IS
    'The year of actual_value: the target''s year, or an earlier one when the target''s own '
    'actual is not yet known';
COMMENT ON COLUMN report_target_progress.actual_metric IS
    'The metric of actual_value: the target''s, or another revenue metric (e.g. the industrial '
    'revenue measuring the 13 chains'' goal)';
COMMENT ON COLUMN report_target_progress.origin IS
    'Where the target is kept: target (the target table) or chain (chain.target_2030_cny_100m)';
""",
}


def _released(revision_id: str):
    """A released migration's module, for its SQL (never copied: it must not change)."""
    (path,) = Path(__file__).parent.glob(f"*_{revision_id}_*.py")
    spec = importlib.util.spec_from_file_location(f"_chaindb_revision_{revision_id}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    op.execute("ALTER TABLE project_stage_event ALTER COLUMN occurred_on DROP NOT NULL")
    op.execute(
        "COMMENT ON COLUMN project_stage_event.occurred_on IS "
        "'Date the move happened; NULL when not known (a project recorded at a stage it reached "
        "on a day nobody recorded)'"
    )
    op.execute(RECORD_STAGE)
    # The days the seeds invented, made unknown (the history is append-only: its guard steps
    # aside for this one statement).
    op.execute("ALTER TABLE project_stage_event DISABLE TRIGGER project_stage_event_append_only")
    notes = ", ".join(f"'{note}'" for note in SEED_NOTES)
    op.execute(
        f"""
        UPDATE project_stage_event AS e
        SET occurred_on = NULL
        FROM project AS p
        WHERE p.id = e.project_id
          AND e.occurred_on = e.created_at::date
          AND CASE e.to_stage
                WHEN 'signed' THEN p.signed_on
                WHEN 'under_construction' THEN p.construction_started_on
                WHEN 'in_production' THEN p.production_started_on
                WHEN 'at_capacity' THEN p.capacity_reached_on
                WHEN 'dropped' THEN p.dropped_on
              END IS DISTINCT FROM e.occurred_on
          AND (
                -- created at a dated stage without its date
                (e.from_stage IS NULL AND e.to_stage NOT IN ('lead', 'negotiating'))
                -- or written by a seed, which knows no more than its sources
                OR e.note IN ({notes})
              )
        """
    )
    op.execute("ALTER TABLE project_stage_event ENABLE TRIGGER project_stage_event_append_only")

    op.create_table(
        "project_milestone",
        sa.Column(
            "project_id",
            sa.BigInteger(),
            sa.ForeignKey(
                "project.id",
                ondelete="CASCADE",
                name=op.f("fk_project_milestone_project_id_project"),
            ),
            primary_key=True,
            comment="The project",
        ),
        sa.Column("stage", sa.String(20), primary_key=True, comment="The stage reached"),
        sa.Column(
            "rank",
            sa.Integer(),
            comment="Position of the stage (lead = 1 .. at_capacity = 6); NULL for dropped",
        ),
        sa.Column(
            "reached_on",
            sa.Date(),
            comment="The day it first got there: that of the first stage event into it, else "
            "the project's date for the stage; NULL when unknown",
        ),
        sa.CheckConstraint(
            "stage IN ('lead', 'negotiating', 'signed', 'under_construction', 'in_production', "
            "'at_capacity', 'dropped')",
            name=op.f("ck_project_milestone_stage"),
        ),
        sa.PrimaryKeyConstraint("project_id", "stage", name=op.f("pk_project_milestone")),
        comment="The stages each project has reached, with the day it got there when known (one "
        "row per project and stage). Derived: kept by the trigger project_sync_milestones from "
        "the project and its stage history (project_reached()); read it through "
        "report_project_milestones",
    )
    op.create_index(
        "ix_project_milestone_stage_reached_on", "project_milestone", ["stage", "reached_on"]
    )
    op.execute(REACHED)
    op.execute(
        "COMMENT ON FUNCTION project_reached(bigint) IS 'The stages a project has reached, with "
        "the day it got there when known: the one definition of reached (a project that reached "
        "a later stage has passed the earlier milestones; lead and negotiation count where the "
        "history records them)'"
    )
    op.execute(SYNC_MILESTONES)
    op.execute(
        "CREATE TRIGGER project_sync_milestones_on_insert AFTER INSERT ON project "
        "FOR EACH ROW EXECUTE FUNCTION project_sync_milestones()"
    )
    op.execute(
        f"CREATE TRIGGER project_sync_milestones_on_update AFTER UPDATE OF "
        f"{', '.join(MILESTONE_COLUMNS)} ON project "
        "FOR EACH ROW EXECUTE FUNCTION project_sync_milestones()"
    )
    op.execute(
        "INSERT INTO project_milestone (project_id, stage, rank, reached_on) "
        "SELECT p.id, r.stage, r.rank, r.reached_on "
        "FROM project AS p CROSS JOIN LATERAL project_reached(p.id) AS r"
    )
    op.execute("ANALYZE project_milestone")

    gap = _released("f0d0aa0340fa")
    gap._keep_grants(REPLACED)
    op.execute(VIEW_SQL["report_project_milestones"])
    # The readers of the pipeline may read what it counts from.
    for relation in ("report_project_milestones", "project_milestone"):
        op.execute(
            "INSERT INTO pg_temp.report_grants "
            f"SELECT '{relation}', grantee, privilege_type, is_grantable "
            "FROM pg_temp.report_grants WHERE relation = 'report_project_pipeline'"
        )
    for name in NOW_MATERIALIZED:
        op.execute(f"DROP VIEW {name}")
    for name in REPLACED:
        op.execute(VIEW_SQL[name])
    gap._grant_again()
    for name in NOW_MATERIALIZED:
        op.execute(f"ANALYZE {name}")
    # Created WITH DATA just now: the figures are as of this migration.
    listed = ", ".join(repr(name) for name in NOW_MATERIALIZED)
    op.execute(
        "INSERT INTO report_refresh (view_name, refreshed_at) "
        f"SELECT unnest(ARRAY[{listed}]), now() "
        "ON CONFLICT (view_name) DO UPDATE SET refreshed_at = EXCLUDED.refreshed_at, seconds = NULL"
    )

    op.execute(NOTIFY)
    op.execute(
        "COMMENT ON FUNCTION report_sources_changed() IS 'NOTIFY chaindb_reports, <table>: a "
        "table the materialized reporting views read was written (chaindb.reports.listener)'"
    )
    for table in NOTIFYING_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_reports_changed "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION report_sources_changed()"
        )


def downgrade() -> None:
    for table in NOTIFYING_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_reports_changed ON {table}")
    op.execute("DROP FUNCTION IF EXISTS report_sources_changed()")

    gap = _released("f0d0aa0340fa")
    previous = _released("e41f7c2a9b63").VIEW_SQL
    gap._keep_grants(REPLACED)
    for name in REPLACED:
        kind = "MATERIALIZED VIEW" if name in NOW_MATERIALIZED else "VIEW"
        op.execute(f"DROP {kind} IF EXISTS {name}")
    listed = ", ".join(repr(name) for name in NOW_MATERIALIZED)
    op.execute(f"DELETE FROM report_refresh WHERE view_name IN ({listed})")
    op.execute("DROP VIEW IF EXISTS report_project_milestones")
    for name in REPLACED:
        op.execute(previous[name])
    gap._grant_again()
    op.execute("DROP TRIGGER IF EXISTS project_sync_milestones_on_insert ON project")
    op.execute("DROP TRIGGER IF EXISTS project_sync_milestones_on_update ON project")
    op.execute("DROP FUNCTION IF EXISTS project_sync_milestones()")
    op.drop_table("project_milestone")
    op.execute("DROP FUNCTION IF EXISTS project_reached(bigint)")

    (before,) = (
        sql
        for sql in _released("1cce829687d1").FUNCTIONS
        if "CREATE FUNCTION project_record_stage()" in sql
    )
    op.execute(before.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    op.execute("ALTER TABLE project_stage_event DISABLE TRIGGER project_stage_event_append_only")
    op.execute(
        "UPDATE project_stage_event SET occurred_on = created_at::date WHERE occurred_on IS NULL"
    )
    op.execute("ALTER TABLE project_stage_event ENABLE TRIGGER project_stage_event_append_only")
    op.execute("ALTER TABLE project_stage_event ALTER COLUMN occurred_on SET NOT NULL")
    op.execute("COMMENT ON COLUMN project_stage_event.occurred_on IS 'Date the move happened'")
