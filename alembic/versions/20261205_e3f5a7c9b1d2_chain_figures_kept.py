"""The chain overview and the chain masters' suppliers kept, not refreshed whole:
report_chain_overview and report_chain_master_suppliers become views over the tables
chain_overview and chain_master_supply, which the report refresher keeps chain by chain and
chain master by chain master.

As materialized views, every burst of writes refreshed them whole: at synthetic scale 1
(1,000,000 supply links, 50,000 projects) report_chain_master_suppliers took 1.0-1.3 s and
report_chain_overview 0.5-0.8 s after each burst of links (a link written to one chain master in
one chain), the refresher's largest cost beside the link benchmark and the cause of its p99.

Statement triggers queue what a write touches:
- chain_overview_stale, the chains: a chain role, an active supply link (status, supplier or
  chain), a project or its approved copy (chain, stage, amounts) inserted, deleted or changed,
  and an enterprise that moved into or out of the city (the chains where it supplies);
- chain_master_supply_stale, the buyers and chains: an active supply link (status, buyer,
  supplier, chain or value), a chain-master role, and an enterprise whose place or size changed
  (the buyers and chains of its active links).
chain_overview_catch_up() and chain_master_supply_catch_up() take their queue and compute those
rows again (chain_overview_rows(), chain_master_supply_rows(): the definitions, in
chaindb/reports/sql/); the rebuilds compute every row (`chaindb db refresh-reports`, a new day,
a refresher taking over). Each holds a transaction-level advisory lock of its own; readers see
the previous rows until it commits. A TRUNCATE queues 0: everything. The names, codes and tiers
are joined live, and a chain not yet kept shows zeros.

Measured on chaindb_bench (synthetic scale 1): computed one by one, the largest chain 0.12 s and
the largest chain master's chain 0.085 s (psql \\timing); every chain in one pass 0.50 s, every
chain master 0.89 s (as materialized views 0.5 and 1.3 s). Under the link benchmark (wrk -t2
-c32, 30 s, refresher on) a burst's catch-up took 0.21 s (overview) and 0.18 s (chain master
suppliers), against 0.8 and 1.0 s refreshed whole; links 1,033/s against 1,112/s with the
refresher off (15 % apart before, 7 % now).

The SQL of both views is copied here as it is at this revision (chaindb/reports/sql/ holds the
current version); a downgrade restores 4b8e2d6f1a93's report_chain_overview and 8d4f6a2c1e73's
report_chain_master_suppliers (materialized, refreshed as they are created).

Revision ID: e3f5a7c9b1d2
Revises: d9e4b6a1c3f7
Create Date: 2026-12-05 18:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from chaindb.migrations import released

revision: str = "e3f5a7c9b1d2"
down_revision: str | Sequence[str] | None = "d9e4b6a1c3f7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# pg_advisory_xact_lock's keys: the first 8 bytes of sha256("chaindb.chain_overview") and of
# sha256("chaindb.chain_master_supply").
OVERVIEW_LOCK = 0x5DD0_C8C5_6663_ACA3
MASTER_LOCK = 0x60EB_F5BA_7877_6F56
VIEWS = ("report_chain_overview", "report_chain_master_suppliers")
# A catch-up computes the chains (pairs of chain master and chain) queued one by one up to this
# many, and every one in one pass beyond (measured at synthetic scale 1: the largest chain 0.12 s,
# every chain 0.50 s; the largest pair 0.085 s, every pair 0.89 s).
OVERVIEW_ONE_BY_ONE = 4
MASTER_ONE_BY_ONE = 10

FUNCTIONS = {
    "chain_overview_rebuild(bigint[])": f"""
CREATE FUNCTION chain_overview_rebuild(chains bigint[] DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
DECLARE
  one bigint;
  written integer := 0;
  n integer;
BEGIN
  PERFORM pg_advisory_xact_lock({OVERVIEW_LOCK});
  IF chains IS NULL THEN
    DELETE FROM chain_overview_stale;
    DELETE FROM chain_overview;
    INSERT INTO chain_overview SELECT * FROM chain_overview_rows(NULL);
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
  END IF;
  DELETE FROM chain_overview WHERE chain_id = ANY (chains);
  FOREACH one IN ARRAY chains LOOP
    INSERT INTO chain_overview SELECT * FROM chain_overview_rows(one);
    GET DIAGNOSTICS n = ROW_COUNT;
    written := written + n;
  END LOOP;
  RETURN written;
END
$$
""",
    "chain_overview_catch_up()": f"""
CREATE FUNCTION chain_overview_catch_up()
RETURNS integer
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
DECLARE
  chains bigint[];
BEGIN
  PERFORM pg_advisory_xact_lock({OVERVIEW_LOCK});
  WITH taken AS (DELETE FROM chain_overview_stale RETURNING chain_id)
  SELECT array_agg(DISTINCT chain_id) INTO chains FROM taken;
  IF chains IS NULL THEN
    RETURN 0;
  END IF;
  -- Beyond a few chains, reading each table once costs less than finding each chain's rows.
  IF 0 = ANY (chains) OR cardinality(chains) > {OVERVIEW_ONE_BY_ONE} THEN
    PERFORM chain_overview_rebuild(NULL);
    RETURN -1;
  END IF;
  PERFORM chain_overview_rebuild(chains);
  RETURN cardinality(chains);
END
$$
""",
    "chain_master_supply_rebuild(bigint[], bigint[])": f"""
CREATE FUNCTION chain_master_supply_rebuild(
  masters bigint[] DEFAULT NULL, chains bigint[] DEFAULT NULL
)
RETURNS integer
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
DECLARE
  written integer := 0;
  n integer;
BEGIN
  PERFORM pg_advisory_xact_lock({MASTER_LOCK});
  IF masters IS NULL THEN
    DELETE FROM chain_master_supply_stale;
    DELETE FROM chain_master_supply;
    INSERT INTO chain_master_supply SELECT * FROM chain_master_supply_rows(NULL, NULL);
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
  END IF;
  DELETE FROM chain_master_supply AS k
  USING unnest(masters, chains) AS w (chain_master_id, chain_id)
  WHERE k.chain_master_id = w.chain_master_id AND k.chain_id = w.chain_id;
  FOR i IN 1 .. cardinality(masters) LOOP
    INSERT INTO chain_master_supply
    SELECT * FROM chain_master_supply_rows(masters[i], chains[i]);
    GET DIAGNOSTICS n = ROW_COUNT;
    written := written + n;
  END LOOP;
  RETURN written;
END
$$
""",
    "chain_master_supply_catch_up()": f"""
CREATE FUNCTION chain_master_supply_catch_up()
RETURNS integer
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
DECLARE
  everything boolean;
  masters bigint[];
  chains bigint[];
BEGIN
  PERFORM pg_advisory_xact_lock({MASTER_LOCK});
  WITH taken AS (
    DELETE FROM chain_master_supply_stale RETURNING chain_master_id, chain_id
  ),
  pairs AS (SELECT DISTINCT chain_master_id, chain_id FROM taken)
  SELECT
    bool_or(p.chain_master_id = 0),
    array_agg(p.chain_master_id) FILTER (WHERE k.chain_master_id IS NOT NULL OR r.held),
    array_agg(p.chain_id) FILTER (WHERE k.chain_master_id IS NOT NULL OR r.held)
  INTO everything, masters, chains
  FROM pairs AS p
  -- Only the pairs kept now or holding a chain-master role (at any time) have rows to write.
  LEFT JOIN chain_master_supply AS k
    ON k.chain_master_id = p.chain_master_id AND k.chain_id = p.chain_id
  CROSS JOIN LATERAL (
    SELECT EXISTS (
      SELECT 1 FROM chain_role AS c
      WHERE c.enterprise_id = p.chain_master_id
        AND c.chain_id = p.chain_id
        AND c.role = 'chain_master'
    ) AS held
  ) AS r;
  IF everything IS NULL THEN
    RETURN 0;
  END IF;
  -- Beyond a few pairs, reading each table once costs less than finding each pair's links.
  IF everything OR cardinality(masters) > {MASTER_ONE_BY_ONE} THEN
    PERFORM chain_master_supply_rebuild(NULL, NULL);
    RETURN -1;
  END IF;
  IF masters IS NULL THEN
    RETURN 0;
  END IF;
  PERFORM chain_master_supply_rebuild(masters, chains);
  RETURN cardinality(masters);
END
$$
""",
    "chain_figures_queue_links()": """
CREATE FUNCTION chain_figures_queue_links()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    INSERT INTO chain_overview_stale (chain_id) VALUES (0);
    INSERT INTO chain_master_supply_stale (chain_master_id, chain_id) VALUES (0, 0);
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO chain_overview_stale (chain_id)
    SELECT DISTINCT n.chain_id FROM new_rows AS n WHERE n.status = 'active';
    INSERT INTO chain_master_supply_stale (chain_master_id, chain_id)
    SELECT DISTINCT n.buyer_id, n.chain_id FROM new_rows AS n WHERE n.status = 'active';
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO chain_overview_stale (chain_id)
    SELECT DISTINCT o.chain_id FROM old_rows AS o WHERE o.status = 'active';
    INSERT INTO chain_master_supply_stale (chain_master_id, chain_id)
    SELECT DISTINCT o.buyer_id, o.chain_id FROM old_rows AS o WHERE o.status = 'active';
  ELSE
    INSERT INTO chain_overview_stale (chain_id)
    SELECT DISTINCT x.chain_id
    FROM old_rows AS o
    JOIN new_rows AS n ON n.id = o.id
    CROSS JOIN LATERAL (VALUES (o.chain_id), (n.chain_id)) AS x (chain_id)
    WHERE (o.status = 'active' OR n.status = 'active')
      AND (o.status, o.supplier_id, o.chain_id)
          IS DISTINCT FROM (n.status, n.supplier_id, n.chain_id);
    INSERT INTO chain_master_supply_stale (chain_master_id, chain_id)
    SELECT DISTINCT x.buyer_id, x.chain_id
    FROM old_rows AS o
    JOIN new_rows AS n ON n.id = o.id
    CROSS JOIN LATERAL (VALUES (o.buyer_id, o.chain_id), (n.buyer_id, n.chain_id))
        AS x (buyer_id, chain_id)
    WHERE (o.status = 'active' OR n.status = 'active')
      AND (o.status, o.buyer_id, o.supplier_id, o.chain_id, o.annual_value_cny_10k)
          IS DISTINCT FROM (n.status, n.buyer_id, n.supplier_id, n.chain_id, n.annual_value_cny_10k);
  END IF;
  RETURN NULL;
END
$$
""",
    "chain_figures_queue_roles()": """
CREATE FUNCTION chain_figures_queue_roles()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    INSERT INTO chain_overview_stale (chain_id) VALUES (0);
    INSERT INTO chain_master_supply_stale (chain_master_id, chain_id) VALUES (0, 0);
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO chain_overview_stale (chain_id) SELECT DISTINCT n.chain_id FROM new_rows AS n;
    INSERT INTO chain_master_supply_stale (chain_master_id, chain_id)
    SELECT DISTINCT n.enterprise_id, n.chain_id FROM new_rows AS n WHERE n.role = 'chain_master';
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO chain_overview_stale (chain_id) SELECT DISTINCT o.chain_id FROM old_rows AS o;
    INSERT INTO chain_master_supply_stale (chain_master_id, chain_id)
    SELECT DISTINCT o.enterprise_id, o.chain_id FROM old_rows AS o WHERE o.role = 'chain_master';
  ELSE
    INSERT INTO chain_overview_stale (chain_id)
    SELECT DISTINCT x.chain_id
    FROM old_rows AS o
    JOIN new_rows AS n ON n.id = o.id
    CROSS JOIN LATERAL (VALUES (o.chain_id), (n.chain_id)) AS x (chain_id)
    WHERE (o.role, o.enterprise_id, o.chain_id, o.since, o.until)
          IS DISTINCT FROM (n.role, n.enterprise_id, n.chain_id, n.since, n.until);
    INSERT INTO chain_master_supply_stale (chain_master_id, chain_id)
    SELECT DISTINCT x.enterprise_id, x.chain_id
    FROM old_rows AS o
    JOIN new_rows AS n ON n.id = o.id
    CROSS JOIN LATERAL (VALUES (o.enterprise_id, o.chain_id), (n.enterprise_id, n.chain_id))
        AS x (enterprise_id, chain_id)
    WHERE (o.role = 'chain_master' OR n.role = 'chain_master')
      AND (o.role, o.enterprise_id, o.chain_id, o.since, o.until)
          IS DISTINCT FROM (n.role, n.enterprise_id, n.chain_id, n.since, n.until);
  END IF;
  RETURN NULL;
END
$$
""",
    "chain_figures_queue_enterprises()": """
CREATE FUNCTION chain_figures_queue_enterprises()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
DECLARE
  moved bigint[];
  changed bigint[];
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    INSERT INTO chain_overview_stale (chain_id) VALUES (0);
    INSERT INTO chain_master_supply_stale (chain_master_id, chain_id) VALUES (0, 0);
    RETURN NULL;
  END IF;
  -- An UPDATE: where an enterprise sits (local or not) counts in both, its size in the second.
  SELECT
    array_agg(n.id) FILTER (WHERE (o.district_id IS NULL) <> (n.district_id IS NULL)),
    array_agg(n.id) FILTER (
      WHERE (o.district_id IS NULL) <> (n.district_id IS NULL) OR o.size IS DISTINCT FROM n.size
    )
  INTO moved, changed
  FROM old_rows AS o
  JOIN new_rows AS n ON n.id = o.id;
  IF changed IS NULL THEN
    RETURN NULL;
  END IF;
  INSERT INTO chain_overview_stale (chain_id)
  SELECT DISTINCT l.chain_id
  FROM supply_link AS l
  WHERE l.supplier_id = ANY (moved) AND l.status = 'active';
  INSERT INTO chain_master_supply_stale (chain_master_id, chain_id)
  SELECT DISTINCT l.buyer_id, l.chain_id
  FROM supply_link AS l
  WHERE l.supplier_id = ANY (changed) AND l.status = 'active';
  RETURN NULL;
END
$$
""",
    "chain_figures_queue_projects()": """
CREATE FUNCTION chain_figures_queue_projects()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    INSERT INTO chain_overview_stale (chain_id) VALUES (0);
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO chain_overview_stale (chain_id) SELECT DISTINCT n.chain_id FROM new_rows AS n;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO chain_overview_stale (chain_id) SELECT DISTINCT o.chain_id FROM old_rows AS o;
  ELSE
    INSERT INTO chain_overview_stale (chain_id)
    SELECT DISTINCT x.chain_id
    FROM old_rows AS o
    JOIN new_rows AS n ON n.id = o.id
    CROSS JOIN LATERAL (VALUES (o.chain_id), (n.chain_id)) AS x (chain_id)
    WHERE (o.chain_id, o.stage, o.agreed_investment_cny_100m, o.funds_arrived_cny_100m)
          IS DISTINCT FROM
          (n.chain_id, n.stage, n.agreed_investment_cny_100m, n.funds_arrived_cny_100m);
  END IF;
  RETURN NULL;
END
$$
""",
}
COMMENTS = {
    "chain_overview_rebuild(bigint[])": "Compute chain_overview again for the chains `chains` "
    "(every chain when NULL, emptying the queue) from chain_overview_rows(); the rows written",
    "chain_overview_catch_up()": "Take the queue chain_overview_stale and compute the chains it "
    "names again; how many (-1: all, after a TRUNCATE)",
    "chain_master_supply_rebuild(bigint[], bigint[])": "Compute chain_master_supply again for the "
    "pairs (masters[i], chains[i]) (every chain master when NULL, emptying the queue) from "
    "chain_master_supply_rows(); the rows written",
    "chain_master_supply_catch_up()": "Take the queue chain_master_supply_stale and compute the "
    "pairs it names again; how many (-1: all, after a TRUNCATE)",
    "chain_figures_queue_links()": "Queue the chains, and the buyers with their chains, of the "
    "active supply links a statement inserted, deleted or changed",
    "chain_figures_queue_roles()": "Queue the chains of the chain roles a statement inserted, "
    "deleted or changed, and the holders with their chains of the chain-master ones",
    "chain_figures_queue_enterprises()": "Queue the chains, and the buyers with their chains, of "
    "the active supply links of the enterprises a statement moved into or out of the city (or, "
    "for the buyers, whose size it changed)",
    "chain_figures_queue_projects()": "Queue the chains of the projects (or approved copies) a "
    "statement inserted, deleted or changed in chain, stage or amounts",
}
# Table -> (its queueing function, the events it queues on).
TRIGGERS = {
    "supply_link": ("chain_figures_queue_links", ("insert", "update", "delete", "truncate")),
    "chain_role": ("chain_figures_queue_roles", ("insert", "update", "delete", "truncate")),
    "enterprise": ("chain_figures_queue_enterprises", ("update", "truncate")),
    "project": ("chain_figures_queue_projects", ("insert", "update", "delete", "truncate")),
    "project_approved": (
        "chain_figures_queue_projects",
        ("insert", "update", "delete", "truncate"),
    ),
}
TRANSITION = {
    "insert": "REFERENCING NEW TABLE AS new_rows ",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows ",
    "delete": "REFERENCING OLD TABLE AS old_rows ",
    "truncate": "",
}

VIEW_SQL: dict[str, str] = {
    "report_chain_overview": """
-- One row per chain: its enterprises, suppliers, projects by stage and amounts.
-- Kept: its figures are the table chain_overview, which the report refresher keeps chain by chain
-- (as a materialized view its refresh took 0.5 s at synthetic scale 1, after every burst of
-- writes). A write to a chain role, a supply link, a project or its approved copy, or to where a
-- supplier sits queues its chains (chain_overview_stale); chain_overview_catch_up() computes the
-- chains queued again from chain_overview_rows(), chain_overview_rebuild() every chain. The chain's
-- code, name and tier are read live, and a chain not yet kept shows zeros.
CREATE OR REPLACE FUNCTION chain_overview_rows(one_chain bigint DEFAULT NULL)
RETURNS SETOF chain_overview
LANGUAGE plpgsql
STABLE
SET search_path = public, pg_temp
AS $function$
BEGIN
  -- Planned for the chain given (EXECUTE): for one chain its rows are found by index, for
  -- every chain ($1 NULL) each table is read once.
  RETURN QUERY EXECUTE $query$
    WITH live_role AS (
        SELECT r.chain_id, r.enterprise_id, r.role
        FROM chain_role AS r
        WHERE role_held_on(r, current_date)
          AND ($1 IS NULL OR r.chain_id = $1)
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
          AND ($1 IS NULL OR l.chain_id = $1)
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
        -- As approved (project_approved), so nothing unreviewed enters the totals.
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
            sum(agreed_investment_cny_100m)
                FILTER (WHERE stage = 'negotiating') AS agreed_negotiating,
            sum(agreed_investment_cny_100m) FILTER (WHERE stage = 'signed') AS agreed_signed,
            sum(agreed_investment_cny_100m)
                FILTER (WHERE stage = 'under_construction') AS agreed_under_construction,
            sum(agreed_investment_cny_100m)
                FILTER (WHERE stage = 'in_production') AS agreed_in_production,
            sum(agreed_investment_cny_100m)
                FILTER (WHERE stage = 'at_capacity') AS agreed_at_capacity,
            sum(funds_arrived_cny_100m) FILTER (WHERE stage <> 'dropped') AS funds_arrived
        FROM project_approved
        WHERE ($1 IS NULL OR chain_id = $1)
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
          AND ($1 IS NULL OR chain_id = $1)
        GROUP BY chain_id
    )
    SELECT
        c.id,
        COALESCE(r.enterprises, 0),
        COALESCE(r.chain_masters, 0),
        COALESCE(r.backbones, 0),
        COALESCE(l.suppliers, 0),
        COALESCE(l.local_suppliers, 0),
        COALESCE(l.nonlocal_suppliers, 0),
        COALESCE(l.active_supply_links, 0),
        COALESCE(p.projects, 0),
        COALESCE(p.projects_lead, 0),
        COALESCE(p.projects_negotiating, 0),
        COALESCE(p.projects_signed, 0),
        COALESCE(p.projects_under_construction, 0),
        COALESCE(p.projects_in_production, 0),
        COALESCE(p.projects_at_capacity, 0),
        COALESCE(p.projects_dropped, 0),
        COALESCE(p.agreed_investment, 0),
        COALESCE(p.agreed_lead, 0),
        COALESCE(p.agreed_negotiating, 0),
        COALESCE(p.agreed_signed, 0),
        COALESCE(p.agreed_under_construction, 0),
        COALESCE(p.agreed_in_production, 0),
        COALESCE(p.agreed_at_capacity, 0),
        COALESCE(p.funds_arrived, 0),
        COALESCE(rp.projects, 0),
        COALESCE(rp.agreed_investment, 0)
    FROM chain AS c
    LEFT JOIN role_counts AS r ON r.chain_id = c.id
    LEFT JOIN link_counts AS l ON l.chain_id = c.id
    LEFT JOIN project_counts AS p ON p.chain_id = c.id
    LEFT JOIN reported_counts AS rp ON rp.chain_id = c.id
    WHERE ($1 IS NULL OR c.id = $1)
  $query$ USING one_chain;
END
$function$;

COMMENT ON FUNCTION chain_overview_rows(bigint) IS
    'The figures of report_chain_overview for the chain `one_chain` (NULL: every chain), '
    'computed from the data now (chain_overview keeps them): one row per chain that exists';

CREATE OR REPLACE VIEW report_chain_overview AS
SELECT
    c.id AS chain_id,
    c.code AS chain_code,
    c.name_zh AS chain_name_zh,
    c.tier AS chain_tier,
    COALESCE(k.enterprises, 0) AS enterprises,
    COALESCE(k.chain_masters, 0) AS chain_masters,
    COALESCE(k.backbones, 0) AS backbones,
    COALESCE(k.suppliers, 0) AS suppliers,
    COALESCE(k.local_suppliers, 0) AS local_suppliers,
    COALESCE(k.nonlocal_suppliers, 0) AS nonlocal_suppliers,
    COALESCE(k.active_supply_links, 0) AS active_supply_links,
    COALESCE(k.projects, 0) AS projects,
    COALESCE(k.projects_lead, 0) AS projects_lead,
    COALESCE(k.projects_negotiating, 0) AS projects_negotiating,
    COALESCE(k.projects_signed, 0) AS projects_signed,
    COALESCE(k.projects_under_construction, 0) AS projects_under_construction,
    COALESCE(k.projects_in_production, 0) AS projects_in_production,
    COALESCE(k.projects_at_capacity, 0) AS projects_at_capacity,
    COALESCE(k.projects_dropped, 0) AS projects_dropped,
    COALESCE(k.agreed_investment_cny_100m, 0) AS agreed_investment_cny_100m,
    COALESCE(k.agreed_lead_cny_100m, 0) AS agreed_lead_cny_100m,
    COALESCE(k.agreed_negotiating_cny_100m, 0) AS agreed_negotiating_cny_100m,
    COALESCE(k.agreed_signed_cny_100m, 0) AS agreed_signed_cny_100m,
    COALESCE(k.agreed_under_construction_cny_100m, 0) AS agreed_under_construction_cny_100m,
    COALESCE(k.agreed_in_production_cny_100m, 0) AS agreed_in_production_cny_100m,
    COALESCE(k.agreed_at_capacity_cny_100m, 0) AS agreed_at_capacity_cny_100m,
    COALESCE(k.funds_arrived_cny_100m, 0) AS funds_arrived_cny_100m,
    COALESCE(k.projects_reported, 0) AS projects_reported,
    COALESCE(k.agreed_investment_reported_cny_100m, 0) AS agreed_investment_reported_cny_100m
FROM chain AS c
LEFT JOIN chain_overview AS k ON k.chain_id = c.id;

COMMENT ON VIEW report_chain_overview IS
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
    "report_chain_master_suppliers": """
-- One row per live chain-master role: the master's suppliers and its local supply rate.
-- Kept: its figures are the table chain_master_supply, which the report refresher keeps master by
-- master and chain by chain (as a materialized view its refresh took 1.3 s at synthetic scale 1,
-- after every burst of links). A write to a supply link, a chain-master role, or to where a
-- supplier sits or its size queues the chain masters and chains it touches
-- (chain_master_supply_stale); chain_master_supply_catch_up() computes those again from
-- chain_master_supply_rows(), chain_master_supply_rebuild() every one. The names are read live.
CREATE OR REPLACE FUNCTION chain_master_supply_rows(
    master bigint DEFAULT NULL,
    one_chain bigint DEFAULT NULL
)
RETURNS SETOF chain_master_supply
LANGUAGE plpgsql
STABLE
SET search_path = public, pg_temp
AS $function$
BEGIN
  -- Planned for the master and chain given (EXECUTE): for one, its links are found by index;
  -- for every one ($1 and $2 NULL) each table is read once.
  RETURN QUERY EXECUTE $query$
    WITH live_master AS (
        SELECT DISTINCT r.enterprise_id AS chain_master_id, r.chain_id
        FROM chain_role AS r
        WHERE r.role = 'chain_master'
          AND role_held_on(r, current_date)
          AND ($1 IS NULL OR r.enterprise_id = $1)
          AND ($2 IS NULL OR r.chain_id = $2)
    ),
    supplier_totals AS (
        -- Per buyer and chain: the distinct suppliers of its active links.
        SELECT
            s.buyer_id,
            s.chain_id,
            count(*) AS suppliers,
            count(*) FILTER (WHERE is_local(e)) AS local_suppliers,
            count(*) FILTER (WHERE NOT is_local(e)) AS nonlocal_suppliers,
            count(*) FILTER (WHERE e.size IN ('small', 'medium', 'micro')) AS sme_suppliers
        FROM (
            SELECT DISTINCT l.buyer_id, l.chain_id, l.supplier_id
            FROM supply_link AS l
            WHERE l.status = 'active'
              AND ($1 IS NULL OR l.buyer_id = $1)
              AND ($2 IS NULL OR l.chain_id = $2)
        ) AS s
        JOIN enterprise AS e ON e.id = s.supplier_id
        GROUP BY s.buyer_id, s.chain_id
    )
    SELECT
        m.chain_master_id,
        m.chain_id,
        COALESCE(s.suppliers, 0),
        COALESCE(s.local_suppliers, 0),
        COALESCE(s.nonlocal_suppliers, 0),
        COALESCE(s.sme_suppliers, 0),
        COALESCE(t.active_links, 0),
        COALESCE(t.local_active_links, 0),
        COALESCE(t.links_with_value, 0),
        COALESCE(t.value_cny_10k, 0),
        COALESCE(t.local_value_cny_10k, 0),
        t.local_supply_rate_by_value,
        t.local_supply_rate_by_count
    FROM live_master AS m
    -- The one definition of the local supply rate (supply_totals()), per master and chain.
    LEFT JOIN (
        SELECT x.*
        FROM supply_totals($1) AS x
        WHERE ($2 IS NULL OR x.chain_id = $2)
    ) AS t ON t.buyer_id = m.chain_master_id AND t.chain_id = m.chain_id
    LEFT JOIN supplier_totals AS s ON s.buyer_id = m.chain_master_id AND s.chain_id = m.chain_id
  $query$ USING master, one_chain;
END
$function$;

COMMENT ON FUNCTION chain_master_supply_rows(bigint, bigint) IS
    'The figures of report_chain_master_suppliers for the chain master `master` in the chain '
    '`one_chain` (NULL: every one), where its chain_master role is live today, computed from the '
    'data now (chain_master_supply keeps them)';

CREATE OR REPLACE VIEW report_chain_master_suppliers AS
SELECT
    k.chain_master_id,
    e.name_zh AS chain_master_name_zh,
    k.chain_id,
    c.code AS chain_code,
    c.name_zh AS chain_name_zh,
    k.suppliers,
    k.local_suppliers,
    k.nonlocal_suppliers,
    k.sme_suppliers,
    k.active_links,
    k.local_active_links,
    k.links_with_value,
    k.value_cny_10k,
    k.local_value_cny_10k,
    k.local_supply_rate_by_value,
    k.local_supply_rate_by_count
FROM chain_master_supply AS k
JOIN enterprise AS e ON e.id = k.chain_master_id
JOIN chain AS c ON c.id = k.chain_id;

COMMENT ON VIEW report_chain_master_suppliers IS
    'One row per chain master (链主) and chain where the chain_master role is live today: its '
    'suppliers through active supply links, how many are local, SMEs, and the local supply rate '
    '(本地配套率) by value and by count. Values in 万元 (10,000 CNY); rates as fractions 0..1.';
COMMENT ON COLUMN report_chain_master_suppliers.chain_master_id IS
    'The chain master enterprise (enterprise.id)';
COMMENT ON COLUMN report_chain_master_suppliers.chain_master_name_zh IS
    'Registered Chinese name of the chain master';
COMMENT ON COLUMN report_chain_master_suppliers.chain_id IS 'The chain (chain.id)';
COMMENT ON COLUMN report_chain_master_suppliers.chain_code IS 'Natural key of the chain';
COMMENT ON COLUMN report_chain_master_suppliers.chain_name_zh IS 'Chinese name of the chain';
COMMENT ON COLUMN report_chain_master_suppliers.suppliers IS
    'Distinct suppliers with an active supply link to the master in the chain';
COMMENT ON COLUMN report_chain_master_suppliers.local_suppliers IS
    'Of suppliers: those in one of the city''s planning units';
COMMENT ON COLUMN report_chain_master_suppliers.nonlocal_suppliers IS
    'Of suppliers: those outside the city';
COMMENT ON COLUMN report_chain_master_suppliers.sme_suppliers IS
    'Of suppliers: SMEs (size small, medium or micro; unknown size is not counted)';
COMMENT ON COLUMN report_chain_master_suppliers.active_links IS
    'Active supply links to the master in the chain (a supplier may have several products)';
COMMENT ON COLUMN report_chain_master_suppliers.local_active_links IS
    'Of active_links: those whose supplier is local';
COMMENT ON COLUMN report_chain_master_suppliers.links_with_value IS
    'Of active_links: those with a known annual value';
COMMENT ON COLUMN report_chain_master_suppliers.value_cny_10k IS
    'Sum of the known annual values of the active links, in 万元 (10,000 CNY); 0 when none known';
COMMENT ON COLUMN report_chain_master_suppliers.local_value_cny_10k IS
    'Sum of the known annual values of the active links with a local supplier, in 万元';
COMMENT ON COLUMN report_chain_master_suppliers.local_supply_rate_by_value IS
    'Local supply rate by value: local_value_cny_10k / value_cny_10k, a fraction 0..1; '
    'NULL when no value is known or the values sum to 0';
COMMENT ON COLUMN report_chain_master_suppliers.local_supply_rate_by_count IS
    'Local supply rate by count: local_active_links / active_links, a fraction 0..1; '
    'NULL when there is no active link';
""",
}


def _triggers() -> list[tuple[str, str, str, str]]:
    """(trigger, table, event, function) of each queueing trigger."""
    return [
        (f"{table}_chain_figures_on_{event}", table, event, function)
        for table, (function, events) in TRIGGERS.items()
        for event in events
    ]


def upgrade() -> None:
    gap = released("f0d0aa0340fa")
    gap._keep_grants(list(VIEWS))
    for view in VIEWS:
        op.execute(f"DROP MATERIALIZED VIEW {view}")
    op.create_table(
        "chain_overview",
        sa.Column("chain_id", sa.BigInteger(), nullable=False, comment='The chain (chain.id)'),
        sa.Column("enterprises", sa.BigInteger(), nullable=False, comment='Distinct enterprises holding a role live today'),
        sa.Column("chain_masters", sa.BigInteger(), nullable=False, comment='Of enterprises: those holding a live chain_master role'),
        sa.Column("backbones", sa.BigInteger(), nullable=False, comment='Of enterprises: those holding a live backbone role'),
        sa.Column("suppliers", sa.BigInteger(), nullable=False, comment='Distinct suppliers of active supply links'),
        sa.Column("local_suppliers", sa.BigInteger(), nullable=False, comment='Of suppliers: the local ones'),
        sa.Column("nonlocal_suppliers", sa.BigInteger(), nullable=False, comment='Of suppliers: those outside the city'),
        sa.Column("active_supply_links", sa.BigInteger(), nullable=False, comment='Active supply links'),
        sa.Column("projects", sa.BigInteger(), nullable=False, comment='Approved projects not dropped'),
        sa.Column("projects_lead", sa.BigInteger(), nullable=False, comment='Approved projects at stage lead'),
        sa.Column("projects_negotiating", sa.BigInteger(), nullable=False, comment='Approved projects at stage negotiating'),
        sa.Column("projects_signed", sa.BigInteger(), nullable=False, comment='Approved projects at stage signed'),
        sa.Column("projects_under_construction", sa.BigInteger(), nullable=False, comment='Approved projects at stage under_construction'),
        sa.Column("projects_in_production", sa.BigInteger(), nullable=False, comment='Approved projects at stage in_production'),
        sa.Column("projects_at_capacity", sa.BigInteger(), nullable=False, comment='Approved projects at stage at_capacity'),
        sa.Column("projects_dropped", sa.BigInteger(), nullable=False, comment='Approved projects at stage dropped'),
        sa.Column("agreed_investment_cny_100m", sa.Numeric(), nullable=False, comment='Agreed investment of the approved projects not dropped, in 亿元'),
        sa.Column("agreed_lead_cny_100m", sa.Numeric(), nullable=False, comment='Of it: at stage lead'),
        sa.Column("agreed_negotiating_cny_100m", sa.Numeric(), nullable=False, comment='Of it: at stage negotiating'),
        sa.Column("agreed_signed_cny_100m", sa.Numeric(), nullable=False, comment='Of it: at stage signed'),
        sa.Column("agreed_under_construction_cny_100m", sa.Numeric(), nullable=False, comment='Of it: at stage under_construction'),
        sa.Column("agreed_in_production_cny_100m", sa.Numeric(), nullable=False, comment='Of it: at stage in_production'),
        sa.Column("agreed_at_capacity_cny_100m", sa.Numeric(), nullable=False, comment='Of it: at stage at_capacity'),
        sa.Column("funds_arrived_cny_100m", sa.Numeric(), nullable=False, comment='Funds arrived of the approved projects not dropped, in 亿元'),
        sa.Column("projects_reported", sa.BigInteger(), nullable=False, comment='Projects not dropped as the units report them, approved or not'),
        sa.Column("agreed_investment_reported_cny_100m", sa.Numeric(), nullable=False, comment='Agreed investment of projects_reported, in 亿元'),
        sa.PrimaryKeyConstraint("chain_id", name=op.f("pk_chain_overview")),
        comment='Derived: the figures of report_chain_overview for each chain (chain_overview_rows()). Kept by chain_overview_rebuild() and chain_overview_catch_up(), which the report refresher calls; read it through report_chain_overview',
    )  # fmt: skip
    op.create_table(
        "chain_overview_stale",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False, comment='Surrogate key'),
        sa.Column("chain_id", sa.BigInteger(), nullable=False, comment='The chain (chain.id; no foreign key)'),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_overview_stale")),
        comment='Queue of the chains whose roles, active supply links (or where their suppliers sit) or projects changed: chain_overview_catch_up() computes them again; 0 stands for every chain (a TRUNCATE)',
    )  # fmt: skip
    op.create_table(
        "chain_master_supply",
        sa.Column("chain_master_id", sa.BigInteger(), nullable=False, comment='The chain master (enterprise.id)'),
        sa.Column("chain_id", sa.BigInteger(), nullable=False, comment='The chain of its role (chain.id)'),
        sa.Column("suppliers", sa.BigInteger(), nullable=False, comment="Distinct suppliers of the master's active links in the chain"),
        sa.Column("local_suppliers", sa.BigInteger(), nullable=False, comment='Of suppliers: the local ones'),
        sa.Column("nonlocal_suppliers", sa.BigInteger(), nullable=False, comment='Of suppliers: those outside the city'),
        sa.Column("sme_suppliers", sa.BigInteger(), nullable=False, comment='Of suppliers: SMEs (small, medium or micro)'),
        sa.Column("active_links", sa.BigInteger(), nullable=False, comment='Active supply links to the master in the chain'),
        sa.Column("local_active_links", sa.BigInteger(), nullable=False, comment='Of active_links: those with a local supplier'),
        sa.Column("links_with_value", sa.BigInteger(), nullable=False, comment='Of active_links: those with a known annual value'),
        sa.Column("value_cny_10k", sa.Numeric(), nullable=False, comment='Sum of the known annual values, in 万元'),
        sa.Column("local_value_cny_10k", sa.Numeric(), nullable=False, comment='Of it: the links with a local supplier, in 万元'),
        sa.Column("local_supply_rate_by_value", sa.Numeric(), nullable=True, comment='The local supply rate by value, from supply_totals()'),
        sa.Column("local_supply_rate_by_count", sa.Numeric(), nullable=True, comment='The local supply rate by count, from supply_totals()'),
        sa.PrimaryKeyConstraint("chain_master_id", "chain_id", name=op.f("pk_chain_master_supply")),
        comment='Derived: the figures of report_chain_master_suppliers for each chain master and chain where its chain_master role is live (chain_master_supply_rows()). Kept by chain_master_supply_rebuild() and chain_master_supply_catch_up(), which the report refresher calls; read it through report_chain_master_suppliers',
    )  # fmt: skip
    op.create_index("ix_chain_master_supply_chain_id", "chain_master_supply", ["chain_id"])
    op.create_table(
        "chain_master_supply_stale",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False, comment='Surrogate key'),
        sa.Column("chain_master_id", sa.BigInteger(), nullable=False, comment='The buyer or role holder (enterprise.id; no foreign key)'),
        sa.Column("chain_id", sa.BigInteger(), nullable=False, comment='The chain (chain.id; no foreign key)'),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_master_supply_stale")),
        comment="Queue of the buyers and chains whose active supply links (or their suppliers' place or size) or chain-master roles changed: chain_master_supply_catch_up() computes those of live chain masters again; 0 stands for every one (a TRUNCATE)",
    )  # fmt: skip
    for create in FUNCTIONS.values():
        op.execute(create)
    for signature, comment in COMMENTS.items():
        op.execute(f"COMMENT ON FUNCTION {signature} IS '{comment}'")
    for trigger, table, event, function in _triggers():
        op.execute(
            f"CREATE TRIGGER {trigger} AFTER {event.upper()} ON {table} {TRANSITION[event]}"
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    for view in VIEWS:
        op.execute(VIEW_SQL[view])
    gap._grant_again()
    op.execute("SELECT chain_overview_rebuild(NULL)")
    op.execute("SELECT chain_master_supply_rebuild(NULL, NULL)")
    op.execute("ANALYZE chain_overview")
    op.execute("ANALYZE chain_master_supply")
    op.execute(
        "INSERT INTO report_refresh (view_name, refreshed_at) "
        "SELECT unnest(ARRAY['report_chain_overview', 'report_chain_master_suppliers']), now() "
        "ON CONFLICT (view_name) DO UPDATE SET refreshed_at = EXCLUDED.refreshed_at, seconds = NULL"
    )


def downgrade() -> None:
    gap = released("f0d0aa0340fa")
    gap._keep_grants(list(VIEWS))
    for view in VIEWS:
        op.execute(f"DROP VIEW {view}")
    for trigger, table, _event, _function in _triggers():
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    for signature in (
        *FUNCTIONS,
        "chain_overview_rows(bigint)",
        "chain_master_supply_rows(bigint, bigint)",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    for table in (
        "chain_master_supply_stale",
        "chain_master_supply",
        "chain_overview_stale",
        "chain_overview",
    ):
        op.drop_table(table)
    op.execute(released("4b8e2d6f1a93").VIEW_SQL["report_chain_overview"])
    op.execute(released("8d4f6a2c1e73").VIEW_SQL["report_chain_master_suppliers"])
    gap._grant_again()
