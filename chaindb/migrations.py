"""Running Alembic from chaindb: locating alembic.ini, and the revision the code expects."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

from chaindb.config import PROJECT_ROOT, ConfigError


def alembic_ini() -> Path:
    """CHAINDB_ALEMBIC_INI, else alembic.ini beside the source tree (a checkout), else the copy
    an installed wheel carries (chaindb/_alembic/, setup.py). Never the working directory's: it
    may belong to another project."""
    candidates = [
        Path(os.environ["CHAINDB_ALEMBIC_INI"]) if os.environ.get("CHAINDB_ALEMBIC_INI") else None,
        PROJECT_ROOT / "alembic.ini",
        Path(__file__).resolve().parent / "_alembic" / "alembic.ini",
    ]
    for path in candidates:
        if path is not None and path.is_file():
            return path
    raise ConfigError("alembic.ini not found; set CHAINDB_ALEMBIC_INI to its path")


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(alembic_ini()))
    if url:
        # ConfigParser interpolation would read '%' in a password as a directive.
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@cache
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


# --- helpers for a migration's upgrade() and downgrade() ------------------------------------------


def released(revision_id: str):
    """A released migration's module, for the SQL it ran (which is never copied: it must not
    change), e.g. the view a downgrade creates again."""
    revision = ScriptDirectory.from_config(alembic_config()).get_revision(revision_id)
    assert revision is not None, revision_id
    return revision.module


def grant_select_like_reports(view: str) -> None:
    """Whoever reads the reports (PUBLIC, the reader roles) reads `view` too: the SELECT grants
    of report_chain_overview, given on a view a migration creates."""
    from alembic import op

    op.execute(
        f"""
        DO $$
        DECLARE
          grantee text;
        BEGIN
          FOR grantee IN
            SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                                 ELSE quote_ident(pg_get_userbyid(a.grantee)) END
            FROM pg_class AS c CROSS JOIN LATERAL aclexplode(c.relacl) AS a
            WHERE c.oid = 'report_chain_overview'::regclass
              AND a.grantee <> c.relowner AND a.privilege_type = 'SELECT'
          LOOP
            EXECUTE format('GRANT SELECT ON {view} TO %s', grantee);
          END LOOP;
        END
        $$
        """
    )


# The tables that are not audited, and why (tests/test_schema_rules.py holds every other table to
# the audit: its updated_at kept by the database, each insert, update and delete in the change log).
NOT_AUDITED = {
    "alembic_version": "Alembic's own bookkeeping",
    "change_log": "the log itself (append-only)",
    "login_attempt": "a log of sign-in attempts, written once and never changed",
    "user_session": "the sign-ins to the pages, ended by signing out: a log, not records",
    "report_refresh": "when each report was refreshed: the refresher's bookkeeping",
    "project_milestone": "derived from project and its stage history (both audited) by a trigger",
    "supplier_tier": "derived from supply links and chain roles (both audited) by the refresher",
    "supplier_tier_stale": "the refresher's queue of work",
    "chain_overview": "derived from chain roles, supply links and projects (all audited) by the "
    "refresher",
    "chain_overview_stale": "the refresher's queue of work",
    "chain_master_supply": "derived from supply links and chain roles (both audited) by the "
    "refresher",
    "chain_master_supply_stale": "the refresher's queue of work",
    "project_review": "a history itself (append-only): who acted, when, with what opinion; the "
    "review status it moves is audited on project",
    "project_approved": "a copy of an audited project row, written by the approval trigger",
    "project_approved_milestone": "a copy of project_milestone, written by the approval trigger",
    "project_evidence": "files with their uploader and time (insert and delete only); their "
    "content would fill the change log",
    "negotiation_file": "files with their uploader and time (insert and delete only), as "
    "project_evidence",
}


def audit_statements(table: str, generated: tuple[str, ...] = ()) -> list[str]:
    """The triggers of an audited table: updated_at set on every real change (set_updated_at),
    and every insert, update and delete written to the change log (record_change).

    A table with generated columns (`generated`, their names) cannot have a BEFORE trigger
    whose WHEN compares whole rows (PostgreSQL refuses it: a restore from a dump failed):
    set_updated_at_if_changed(those columns) compares the rows without them instead (migration
    b2d4f6a8c0e3 and later)."""
    if generated:
        names = ", ".join(f"'{name}'" for name in generated)
        updated_at = (
            f"CREATE TRIGGER {table}_set_updated_at BEFORE UPDATE ON {table} FOR EACH ROW "
            f"EXECUTE FUNCTION set_updated_at_if_changed({names})"
        )
    else:
        updated_at = (
            f"CREATE TRIGGER {table}_set_updated_at BEFORE UPDATE ON {table} FOR EACH ROW "
            "WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION set_updated_at()"
        )
    return [
        updated_at,
        f"CREATE TRIGGER {table}_record_insert_delete AFTER INSERT OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION record_change()",
        f"CREATE TRIGGER {table}_record_update AFTER UPDATE ON {table} FOR EACH ROW "
        "WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION record_change()",
    ]


def audit(table: str) -> None:
    """In a migration's upgrade(), after creating `table` (with created_at and updated_at, as
    chaindb.db's Timestamped declares them): make it an audited table."""
    from alembic import op

    for statement in audit_statements(table):
        op.execute(statement)


def unaudit(table: str) -> None:
    """In a migration's downgrade(), before dropping `table`: its audit triggers go."""
    from alembic import op

    for trigger in ("set_updated_at", "record_insert_delete", "record_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_{trigger} ON {table}")


def audit_new_tables(upgrade_ops) -> None:
    """For `alembic revision --autogenerate` (alembic/env.py): after each table the revision
    creates, its audit triggers, written out as statements (a migration keeps what it did even
    when this module changes), unless NOT_AUDITED says why not. So a new table is audited by
    being declared, and tests/test_schema_rules.py finds one that is not."""
    from alembic.operations import ops

    audited = []
    for op_ in upgrade_ops.ops:
        audited.append(op_)
        if isinstance(op_, ops.CreateTableOp) and op_.table_name not in NOT_AUDITED:
            audited.extend(ops.ExecuteSQLOp(sql) for sql in audit_statements(op_.table_name))
    upgrade_ops.ops[:] = audited
