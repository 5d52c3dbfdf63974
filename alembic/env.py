"""Alembic environment: chaindb's metadata, its URL, and one shared connection in tests."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection, pool

from chaindb.config import Settings
from chaindb.database import resolve_url
from chaindb.db import make_engine
from chaindb.migrations import audit_new_tables
from chaindb.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def include_object(obj, name, type_, reflected, compare_to):
    # Reporting views are migration objects of their own (replaceable objects), not models.
    return not (type_ == "table" and reflected and compare_to is None and name.startswith("v_"))


def process_revision_directives(context, revision, directives):
    # `alembic revision --autogenerate` with nothing to do writes no empty file.
    if getattr(config.cmd_opts, "autogenerate", False):
        script = directives[0]
        if script.upgrade_ops.is_empty():
            directives[:] = []
            print("No changes in the schema: no migration written.")
            return
        # A new table gets its audit triggers (updated_at, the change log) with it.
        audit_new_tables(script.upgrade_ops)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        process_revision_directives=process_revision_directives,
        compare_type=True,
        compare_server_default=True,
        transaction_per_migration=False,
    )


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url") or resolve_url(Settings.from_env()),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    shared = config.attributes.get("connection")
    if shared is not None:
        # Tests and the CLI hand in a connection: migrate inside its transaction.
        _configure(shared)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url") or resolve_url(Settings.from_env())
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
