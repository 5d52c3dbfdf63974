"""The read-only role for analysts and BI tools: `chaindb db grant-reader`.

`chaindb_reader` logs in and reads the reporting views (report_*), the function supplier_tiers
and the base tables, except the tables that hold secrets or sign-in traces: app_user (password
hashes), api_token (token hashes) and login_attempt (who tried to sign in, from where). It owns
nothing and is granted nothing that writes.

The grants name the tables that exist when it runs; nothing is granted ahead of time (no
ALTER DEFAULT PRIVILEGES), so a table a later migration adds, secret or not, stays closed to the
reader until grant-reader runs again. Run it after every migration; it is idempotent, and
without --password it leaves an existing password as it is.

Run it as a user that may create roles (CREATEROLE) and owns the database and its tables (the
user that runs the migrations, or a superuser). The role is cluster-wide; the grants are per
database.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import click
from sqlalchemy import URL, Connection, Engine, make_url, text
from sqlalchemy.exc import DBAPIError

READER = "chaindb_reader"

# Never readable by the reader: password hashes, token hashes, sign-in attempts.
SECRET_TABLES = ("app_user", "api_token", "login_attempt", "user_session")

# Functions the reader may call, with their argument types.
READER_FUNCTIONS = (
    "supplier_tiers(bigint, integer)",
    # The one definition of each concept the views count by (docs/reporting.md).
    "role_held_on(chain_role, date)",
    "role_not_ended(chain_role, date)",
    "is_local(enterprise)",
    "segment_subtrees(bigint)",
    "chain_gaps(bigint, date)",
    "supply_totals(bigint)",
    # 招商引资工作进度 for any month and threshold (report_monthly_progress is this year's).
    "monthly_progress(date, numeric, boolean)",
    # 一区一主业: whether a planning unit leads on a chain on a day.
    "leads_chain(bigint, bigint, date)",
    "has_leading_chains(bigint, date)",
)

ROLE_COMMENT = (
    "chaindb read-only login for analysts and BI tools: reads the report_* views, "
    "supplier_tiers(), the functions defining what the views count (role_held_on, is_local, "
    "chain_gaps, supply_totals ...) and the base tables, except app_user, api_token, login_attempt "
    "and user_session (secrets and sign-in traces); writes nothing; a unit's role sees what its "
    "unit may see. Tables added later stay closed until `chaindb db grant-reader` "
    "runs again."
)


class UnknownUnit(Exception):
    """grant-reader --unit names no unit."""


class UnsafeReaderRole(Exception):
    """chaindb_reader exists with powers beyond reading: grant-reader will not vouch for it."""


# Attributes that would let the role do more than read.
POWERS = ("rolsuper", "rolcreaterole", "rolcreatedb", "rolreplication", "rolbypassrls")


def grant_reader(connection: Connection, *, password: str | None, unit: str | None = None) -> str:
    """Create (if missing) the login role of `unit`'s analysts (chaindb_reader, the city
    bureau's, when None) and grant it read access, on the connection's database; it reads what
    the unit may read (row-level security: unit.reader_role names it). The caller commits.
    Idempotent. Returns the role's name."""
    role_name = reader_role(connection, unit)
    role = connection.execute(
        text(f"SELECT rolcanlogin, {', '.join(POWERS)} FROM pg_roles WHERE rolname = :role"),
        {"role": role_name},
    ).one_or_none()
    if role is None:
        # Two runs at once (a test run per process) may both try: the loser finds it made.
        connection.execute(
            text(
                f"""
                DO $$
                BEGIN
                  CREATE ROLE {role_name} LOGIN;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN
                  NULL;
                END
                $$
                """
            )
        )
    else:
        powers = [name for name in POWERS if getattr(role, name)]
        if powers:
            raise UnsafeReaderRole(
                f"role {role_name} exists with {', '.join(powers)}: it would not be read-only; "
                "remove those attributes (ALTER ROLE) or drop the role first"
            )
        if not role.rolcanlogin:
            connection.execute(text(f"ALTER ROLE {role_name} LOGIN"))
    memberships = connection.execute(
        text(
            "SELECT g.rolname FROM pg_auth_members AS m "
            "JOIN pg_roles AS g ON g.oid = m.roleid "
            "JOIN pg_roles AS r ON r.oid = m.member "
            "WHERE r.rolname = :role ORDER BY 1"
        ),
        {"role": role_name},
    ).scalars()
    inherited = list(memberships)
    if inherited:
        raise UnsafeReaderRole(
            f"role {role_name} is a member of {', '.join(inherited)} and would inherit its "
            "privileges: revoke that membership first"
        )
    if password is not None:
        _set_password(connection, password, role_name)
    if _role_comment(connection, role_name) != ROLE_COMMENT:
        # Only when it differs: the comment is cluster-wide, and test runs share the role.
        comment = connection.execute(
            text(
                "SELECT format('COMMENT ON ROLE %I IS %L', CAST(:role AS text), CAST(:comment AS text))"
            ),
            {"role": role_name, "comment": ROLE_COMMENT},
        ).scalar_one()
        connection.exec_driver_sql(comment, execution_options={"no_parameters": True})
    connection.execute(
        text(
            f"""
            DO $$
            BEGIN
              EXECUTE format('GRANT CONNECT ON DATABASE %I TO {role_name}', current_database());
            END
            $$
            """
        )
    )
    connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {role_name}"))
    # Every table and view of the schema, then the secret ones taken back (in one transaction,
    # so that no other session ever sees them granted).
    connection.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role_name}"))
    for table in SECRET_TABLES:
        if _exists(connection, table):
            connection.execute(text(f"REVOKE ALL ON TABLE {table} FROM {role_name}"))
    for function in READER_FUNCTIONS:
        if _exists(connection, function, kind="regprocedure"):
            connection.execute(text(f"GRANT EXECUTE ON FUNCTION {function} TO {role_name}"))
    if _exists(connection, "unit"):  # not in a database migrated before units
        connection.execute(
            text(
                "UPDATE unit SET reader_role = :role "
                "WHERE code = :unit AND reader_role IS DISTINCT FROM :role"
            ),
            {"role": role_name, "unit": unit or "city"},
        )

    return role_name


def reader_role(connection: Connection, unit: str | None) -> str:
    """The login role of a unit's analysts: chaindb_reader for the city bureau, else
    chaindb_reader_<unit code> (dashes as underscores). An unknown unit is an error."""
    if unit is None or unit == "city":
        return READER
    found = connection.execute(text("SELECT kind FROM unit WHERE code = :code"), {"code": unit})
    if found.scalar_one_or_none() is None:
        raise UnknownUnit(f"no unit {unit!r}: see the units page, or SELECT code FROM unit")
    return f"{READER}_{unit.replace('-', '_')}"


def grant_reader_on(engine: Engine, *, password: str | None, unit: str | None = None) -> str:
    """grant_reader in a transaction of its own, committed."""
    with engine.begin() as connection:
        return grant_reader(connection, password=password, unit=unit)


def _set_password(connection: Connection, password: str, role: str) -> None:
    # A role's password cannot be a bound parameter: the server quotes it (format's %L), and
    # the statement goes to the driver as it is, with no parameter markers to interpret.
    statement = connection.execute(
        text(
            "SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', CAST(:role AS text), CAST(:pw AS text))"
        ),
        {"role": role, "pw": password},
    ).scalar_one()
    connection.exec_driver_sql(statement, execution_options={"no_parameters": True})


def _role_comment(connection: Connection, role: str) -> str | None:
    return connection.execute(
        text("SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = :role"),
        {"role": role},
    ).scalar_one_or_none()


def _exists(connection: Connection, name: str, *, kind: str = "regclass") -> bool:
    found = connection.execute(text(f"SELECT to_{kind}(:name)"), {"name": name}).scalar_one()
    return found is not None


def reader_url(url: URL | str, role: str = READER) -> str:
    """A libpq URL (for psql or a BI tool) to the same database as chaindb_reader, no password.

    A server reached over a Unix socket (the embedded one) has no host in its URL but a `host`
    parameter naming the socket's folder: it is kept, written as a plain path, as libpq reads
    it (`postgresql://chaindb_reader@/chaindb?host=/path/to/pgdata`). Other parameters (sslmode,
    ...) are kept; a password or user given as a parameter is not.
    """
    url = make_url(url)
    netloc = quote(role, safe="") + "@"
    if url.host:
        netloc += f"[{url.host}]" if ":" in url.host else url.host
    if url.port:
        netloc += f":{url.port}"
    params = [
        f"{quote(key, safe='')}={quote(value, safe='/')}"
        for key, values in url.query.items()
        if key not in ("user", "password")
        for value in (values if isinstance(values, tuple) else (values,))
    ]
    query = "?" + "&".join(params) if params else ""
    return f"postgresql://{netloc}/{quote(url.database or '', safe='')}{query}"


def _socket_folder(url: URL) -> str | None:
    """The folder of the Unix socket the URL connects through, if it names no TCP host."""
    host = url.query.get("host")
    if isinstance(host, tuple):
        host = host[0] if host else None
    if url.host or not host or not host.startswith("/"):
        return None
    return host


def engine_from_env() -> Engine:
    """The engine of the database the environment names (a command's)."""
    from chaindb.config import ConfigError, Settings
    from chaindb.database import resolve_url
    from chaindb.db import make_engine

    try:
        return make_engine(resolve_url(Settings.from_env()))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@click.command(
    "grant-reader",
    help=f"Create or refresh the read-only login role {READER} (analysts, BI tools): it reads "
    "the report_* views and the base tables except app_user, api_token, login_attempt and "
    "user_session. "
    "Run it again after every migration.",
)
@click.option(
    "--password",
    default=None,
    help="Set the role's password ('-' to be asked for it). Left out: an existing password is "
    "kept; a new role has none (it can sign in only where the server trusts it).",
)
@click.option(
    "--unit",
    default=None,
    help="A unit's code (e.g. district-370102): the role chaindb_reader_<code> reads what that "
    "unit may read (its projects; every chain map, enterprise and report). Left out: "
    "chaindb_reader, the city bureau's, reads everything.",
)
def grant_reader_command(password: str | None, unit: str | None) -> None:
    if password == "-":
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    engine = engine_from_env()
    try:
        role = grant_reader_on(engine, password=password, unit=unit)
    except (DBAPIError, UnsafeReaderRole, UnknownUnit) as exc:
        message = str(getattr(exc, "orig", None) or exc).strip()
        raise click.ClickException(f"grant-reader: {message}") from None
    finally:
        engine.dispose()
    click.echo(f"{role} can read {engine.url.database}: psql '{reader_url(engine.url, role)}'")
    socket = _socket_folder(engine.url)
    if socket is not None:
        note = f"over the Unix socket in {socket}, from this machine"
        if (Path(socket) / "PG_VERSION").is_file():  # a data folder: chaindb's own PostgreSQL
            note += ", while a chaindb command (chaindb run) keeps its PostgreSQL running"
        click.echo(f"({note})")
