"""The migrations build the schema, remove it, build it again, and agree with the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Text, inspect, text

from chaindb.db import make_engine
from chaindb.migrations import alembic_config
from chaindb.models import Base
from tests.conftest import migrate

TABLES = {table.name for table in Base.metadata.sorted_tables}


def _tables_and_functions(url: str) -> tuple[set[str], int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        functions = conn.execute(
            text("SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace")
        ).scalar_one()
    engine.dispose()
    return tables, functions


def test_there_is_one_head():
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


def test_upgrade_downgrade_upgrade_on_an_empty_database(scratch_database):
    url = scratch_database()
    migrate(url)
    tables, functions = _tables_and_functions(url)
    assert tables >= TABLES
    assert functions > 0

    migrate(url, "base", action="downgrade")
    tables, functions = _tables_and_functions(url)
    assert tables == {"alembic_version"}
    assert functions == 0  # our functions and btree_gist's are gone

    migrate(url)
    tables, _ = _tables_and_functions(url)
    assert tables >= TABLES


def test_models_and_migrations_agree(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_autogenerate_audits_a_new_table_unless_told_why_not():
    """`alembic revision --autogenerate` writes a new table's audit triggers after it."""
    from alembic.operations import ops

    from chaindb.migrations import audit_new_tables, audit_statements

    upgrade = ops.UpgradeOps(
        ops=[
            ops.CreateTableOp("visit", []),
            ops.CreateTableOp("report_refresh", []),  # NOT_AUDITED says why
            ops.AddColumnOp("chain", Column("notes2", Text())),
        ]
    )
    audit_new_tables(upgrade)
    kinds = [type(op).__name__ for op in upgrade.ops]
    assert kinds == ["CreateTableOp"] + ["ExecuteSQLOp"] * 3 + ["CreateTableOp", "AddColumnOp"]
    assert [op.sqltext for op in upgrade.ops[1:4]] == audit_statements("visit")
