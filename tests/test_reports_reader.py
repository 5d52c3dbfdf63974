"""chaindb_reader reads the views and the base tables, not the secrets, and writes nothing.

The role is cluster-wide: every test run grants it on its own database, idempotently, and
leaves it in place for the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, make_url, text

from chaindb.reports import VIEWS
from chaindb.reports import reader as reader_module
from chaindb.reports.reader import (
    READER,
    SECRET_TABLES,
    grant_reader,
    grant_reader_on,
    reader_url,
)

WRITES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


@pytest.fixture(scope="module")
def granted(engine) -> None:
    # Committed: another connection (the reader's) must see the grants. Twice: idempotent.
    grant_reader_on(engine, password=None)
    grant_reader_on(engine, password=None)


@pytest.fixture
def reader(granted, database_url) -> Iterator[psycopg.Connection]:
    url = make_url(database_url).set(drivername="postgresql", username=READER, password=None)
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as connection:
        yield connection


def refused(reader: psycopg.Connection, statement: str) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        reader.execute(statement)


def test_the_reader_reads_the_views_the_tables_and_the_tiers(reader):
    assert reader.execute("SELECT current_user").fetchone() == (READER,)
    for view in VIEWS:
        reader.execute(f"SELECT * FROM {view} LIMIT 1").fetchall()
    for table in ("enterprise", "supply_link", "project", "project_stage_event", "change_log"):
        reader.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert reader.execute("SELECT * FROM supplier_tiers(1, 2)").fetchall() == []


@pytest.mark.parametrize("table", SECRET_TABLES)
def test_the_reader_cannot_read_the_secrets(reader, table):
    refused(reader, f"SELECT count(*) FROM {table}")


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO district (code, is_official_code, name_zh, kind) "
        "VALUES ('ZZ-READER', false, '读者区', 'zone')",
        "UPDATE enterprise SET notes = 'x'",
        "DELETE FROM supply_link",
        "TRUNCATE chain_role",
        "UPDATE app_user SET role = 'admin'",
        "INSERT INTO api_token (user_id, token_prefix, token_hash) VALUES (1, 'x', 'y')",
        "CREATE TABLE public.reader_was_here (id int)",
        "CREATE VIEW public.reader_view AS SELECT 1 AS one",
        "CREATE OR REPLACE VIEW report_target_progress AS SELECT 1 AS target_id",
        "DROP MATERIALIZED VIEW report_chain_gaps",
        "REFRESH MATERIALIZED VIEW report_chain_gaps",
        "COMMENT ON MATERIALIZED VIEW report_chain_gaps IS 'mine'",
        "DROP VIEW report_chain_overview",
        # The kept reports' tables and queues: written by the refresher only.
        "DELETE FROM chain_overview",
        "UPDATE chain_master_supply SET suppliers = 0",
        "INSERT INTO chain_overview_stale (chain_id) VALUES (0)",
        "SELECT chain_overview_rebuild(NULL)",
        "SELECT chain_master_supply_catch_up()",
        "SELECT supplier_tier_place(ARRAY[1])",
    ],
)
def test_the_reader_writes_nothing(reader, statement):
    refused(reader, statement)


def test_the_reader_holds_no_write_privilege_anywhere(granted, conn):
    writable = conn.execute(
        text(
            "SELECT c.relname, p.privilege FROM pg_class AS c "
            "CROSS JOIN unnest(CAST(:privileges AS text[])) AS p (privilege) "
            "WHERE c.relnamespace = CAST('public' AS regnamespace) "
            "AND c.relkind IN ('r', 'v', 'm', 'p') "
            "AND has_table_privilege(:role, c.oid, p.privilege)"
        ),
        {"role": READER, "privileges": list(WRITES)},
    ).all()
    assert writable == []
    assert not conn.execute(
        text("SELECT has_schema_privilege(:role, 'public', 'CREATE')"), {"role": READER}
    ).scalar_one()
    owned = conn.execute(
        text(
            "SELECT count(*) FROM pg_class WHERE relowner = "
            "(SELECT oid FROM pg_roles WHERE rolname = :role)"
        ),
        {"role": READER},
    ).scalar_one()
    assert owned == 0
    role = conn.execute(
        text(
            "SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, "
            "shobj_description(oid, 'pg_authid') AS comment FROM pg_roles WHERE rolname = :role"
        ),
        {"role": READER},
    ).one()
    assert tuple(role)[:5] == (True, False, False, False, False)
    assert all(table in role.comment for table in SECRET_TABLES)


def _can_read(conn: Connection, table: str) -> bool:
    return conn.execute(
        text("SELECT has_table_privilege(:role, CAST(:t AS regclass), 'SELECT')"),
        {"role": READER, "t": table},
    ).scalar_one()


def test_a_table_added_later_stays_closed_until_granted_again(granted, conn):
    conn.execute(text("CREATE TABLE later_secret (id int)"))  # rolled back with the test
    assert not _can_read(conn, "later_secret")
    grant_reader(conn, password=None)
    assert _can_read(conn, "later_secret")
    assert not any(_can_read(conn, table) for table in SECRET_TABLES)


def test_a_password_is_set_only_when_given(granted, conn):
    # Inside the test's transaction: the role's password is back as it was at the end.
    def password() -> str | None:
        return conn.execute(
            text("SELECT rolpassword FROM pg_authid WHERE rolname = :role"), {"role": READER}
        ).scalar_one()

    before = password()
    grant_reader(conn, password=None)
    assert password() == before
    grant_reader(conn, password="it's 100% secret")
    after = password()
    assert after is not None and after != before
    assert "secret" not in after  # stored hashed (SCRAM), never as typed


def test_the_command_grants_and_says_how_to_connect(granted, engine, monkeypatch):
    monkeypatch.setattr(reader_module, "engine_from_env", lambda: engine)
    monkeypatch.setattr(engine, "dispose", lambda: None)  # the session's engine lives on
    result = CliRunner().invoke(reader_module.grant_reader_command, [])
    assert result.exit_code == 0, result.output
    assert f"{READER}@" in result.output
    assert engine.url.database in result.output
    # What it prints connects, as the reader, to this database: over TCP (DATABASE_URL) or
    # over the embedded server's Unix socket.
    printed = re.search(r"psql '([^']+)'", result.output)
    assert printed, result.output
    with psycopg.connect(printed.group(1)) as connection:
        assert connection.execute("SELECT current_user, current_database()").fetchone() == (
            READER,
            engine.url.database,
        )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql+psycopg://owner:s3cret@db.example:5433/chaindb?sslmode=require",
            f"postgresql://{READER}@db.example:5433/chaindb?sslmode=require",
        ),
        (
            "postgresql+psycopg://postgres@127.0.0.1/chaindb",
            f"postgresql://{READER}@127.0.0.1/chaindb",
        ),
        (
            "postgresql+psycopg://postgres@[::1]:5432/chaindb",
            f"postgresql://{READER}@[::1]:5432/chaindb",
        ),
        (
            # The embedded server: no host, a socket folder, an empty password.
            "postgresql+psycopg://postgres:@/chaindb?host=/srv/my%20app/.chaindb/pgdata",
            f"postgresql://{READER}@/chaindb?host=/srv/my%20app/.chaindb/pgdata",
        ),
        (
            "postgresql+psycopg:///chaindb?host=/run/pg&user=owner&password=s3cret",
            f"postgresql://{READER}@/chaindb?host=/run/pg",
        ),
    ],
)
def test_the_printed_url_names_the_reader_the_server_and_no_password(url, expected):
    assert reader_url(url) == expected
