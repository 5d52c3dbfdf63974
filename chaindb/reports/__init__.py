"""The reporting views: their SQL, one readable file per view in sql/.

The files are the current version. A migration copies the text it creates, so that a released
migration never changes; a change to a view is a new migration with the new text. The views in
MATERIALIZED are materialized views: their files drop and create them, with their indexes.
"""

from __future__ import annotations

from importlib.resources import files

# In creation order: a view comes after the views it reads (report_gap_candidates reads
# report_chain_gaps; the pipeline and the rates read report_project_milestones);
# report_supplier_tiers.sql also creates the function supplier_tiers, report_monthly_progress.sql
# the function monthly_progress.
VIEWS = [
    "report_chain_overview",
    "report_chain_master_suppliers",
    "report_chain_gaps",
    "report_gap_candidates",
    "report_supplier_tiers",
    "report_district_chain_matrix",
    "report_project_milestones",
    "report_project_pipeline",
    "report_project_rates",
    "report_target_progress",
    "report_designations",
    "report_monthly_progress",
    "report_project_classes",
    "report_project_multiplier",
    "report_district_specialisation",
    "report_lead_conversion",
]

# The views that answer from stored rows, in VIEWS' order, which is also their refresh order (a
# view after the materialized views it reads): they answer from their last refresh
# (chaindb.reports.refresh, `chaindb db refresh-reports`); the others compute on every query.
# Each is a materialized view, except those in KEPT.
MATERIALIZED = (
    "report_chain_overview",
    "report_chain_master_suppliers",
    "report_chain_gaps",
    "report_gap_candidates",
    "report_supplier_tiers",
    "report_district_chain_matrix",
    "report_project_pipeline",
    "report_project_rates",
    "report_designations",
)

# A view over a table that chaindb keeps -> (that table, the function that rebuilds it all, the
# function that catches up with the writes queued since). The refresher catches up after writes
# (the chains, chain masters touched) instead of recomputing every row; a full refresh rebuilds.
KEPT = {
    # Chain by chain, and chain master by chain master (migration e3f5a7c9b1d2).
    "report_chain_overview": (
        "chain_overview",
        "chain_overview_rebuild(NULL)",
        "chain_overview_catch_up()",
    ),
    "report_chain_master_suppliers": (
        "chain_master_supply",
        "chain_master_supply_rebuild(NULL, NULL)",
        "chain_master_supply_catch_up()",
    ),
    "report_supplier_tiers": (
        "supplier_tier",
        "supplier_tier_rebuild(NULL)",
        "supplier_tier_catch_up()",
    ),
}

# Materialized view -> the materialized views it reads: refreshing it refreshes them first.
READS = {"report_gap_candidates": ("report_chain_gaps",)}

# Materialized view -> the tables it reads: a write to one makes it stale. Each of these tables
# notifies the refresher when written (chaindb.reports.listener; the trigger
# <table>_reports_changed).
SOURCES = {
    "report_chain_overview": ("chain", "chain_role", "enterprise", "project", "supply_link"),
    "report_chain_master_suppliers": ("chain", "chain_role", "enterprise", "supply_link"),
    "report_chain_gaps": ("chain", "chain_role", "chain_segment", "enterprise", "supply_link"),
    "report_gap_candidates": ("chain_segment", "enterprise", "supply_link"),
    # Its table holds ids only (names are joined live): links and chain-master roles change it.
    "report_supplier_tiers": ("chain_role", "supply_link"),
    "report_district_chain_matrix": ("chain", "chain_role", "district", "enterprise", "project"),
    # project_milestone and project_stage_event are written by project's triggers only.
    "report_project_pipeline": ("project",),
    "report_project_rates": ("project",),
    "report_designations": ("chain", "chain_role", "designation", "district", "enterprise"),
}
NOTIFYING_TABLES = tuple(sorted({table for tables in SOURCES.values() for table in tables}))


def sql(name: str) -> str:
    """The SQL that creates (or replaces) the view `name`, with its comments (and, for a
    materialized view, drops it first and creates its indexes)."""
    if name not in VIEWS:
        raise KeyError(f"no reporting view named {name!r}")
    return files(__name__).joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")
