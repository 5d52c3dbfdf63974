"""`chaindb db backup` and `chaindb db restore` (issue 17, point 4): a backup restores into an
empty database with every row, the restore refuses a database that is not empty and a backup of
a schema newer than the code, and nothing is written when it refuses."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from chaindb.backup import restore
from chaindb.cli import main
from chaindb.db import make_engine
from chaindb.embedded import _libpq
from chaindb.migrations import head_revision
from tests import factories_sql as f

pytestmark = pytest.mark.slow

TABLES = ("chain", "district", "enterprise", "chain_role", "supply_link", "project", "change_log")


def _counts(url: str) -> dict[str, int]:
    with psycopg.connect(_libpq(url)) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def _cli(url: str, *args: str):
    return CliRunner().invoke(main, ["db", *args], env={"DATABASE_URL": url})


@pytest.fixture
def source(scratch_database) -> str:
    url = scratch_database(migrated=True)
    engine = make_engine(url)
    with engine.begin() as conn:
        d, c = f.district(conn), f.chain(conn)
        master = f.chain_master(conn, c)
        for _ in range(3):
            f.supply_link(conn, f.enterprise(conn, district_id=d), master, c)
        f.project(conn, c, d, stage="signed", signed_on="2025-03-01")
    engine.dispose()
    return url


def test_a_backup_restores_into_an_empty_database(source, scratch_database, tmp_path):
    made = _cli(source, "backup", str(tmp_path))
    assert made.exit_code == 0, made.output
    dumps = list(tmp_path.glob("chaindb-*.dump"))
    assert len(dumps) == 1 and dumps[0].name.endswith(f"-{head_revision()}.dump")

    target = scratch_database()  # empty: no schema
    done = _cli(target, "restore", str(dumps[0]))
    assert done.exit_code == 0, done.output
    assert _counts(target) == _counts(source)
    assert _counts(target)["supply_link"] == 3
    # The app's role acts in it as before: row-level security and grants came along.
    with psycopg.connect(_libpq(target)) as conn:
        conn.execute("SET ROLE chaindb_app")
        assert conn.execute("SELECT count(*) FROM chain").fetchone()[0] >= 1

    # Again into the same database: refused, nothing changed.
    again = _cli(target, "restore", str(dumps[0]))
    assert again.exit_code == 1 and "is not empty" in again.output
    assert _counts(target) == _counts(source)


def test_a_backup_of_a_newer_schema_is_refused(source, scratch_database, tmp_path):
    with psycopg.connect(_libpq(source), autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'f00dfeedbeef'")
    made = _cli(source, "backup", str(tmp_path / "newer.dump"))
    assert made.exit_code == 0, made.output
    target = scratch_database()
    refused = _cli(target, "restore", str(tmp_path / "newer.dump"))
    assert refused.exit_code == 1
    assert "f00dfeedbeef" in refused.output and "newer chaindb" in refused.output
    with psycopg.connect(_libpq(target)) as conn:
        assert conn.execute("SELECT to_regclass('public.chain')").fetchone()[0] is None


def test_what_is_not_a_backup_is_refused(scratch_database, tmp_path):
    target = scratch_database()
    junk = tmp_path / "junk.dump"
    junk.write_text("not a dump")
    with pytest.raises(Exception, match="not a chaindb backup"):
        restore(target, junk)
    missing = _cli(target, "restore", str(Path(tmp_path / "absent.dump")))
    assert missing.exit_code != 0


# The schema before the one that made every dump restorable by pg_restore alone: a backup taken
# before an upgrade (docs/operations.md, "Upgrades") is of such an older schema.
OLDER = "7f3b9d1c5e28"


def test_a_backup_of_an_older_schema_restores_and_upgrades(scratch_database, tmp_path):
    from tests.conftest import migrate

    source = scratch_database()
    migrate(source.replace("postgresql://", "postgresql+psycopg://", 1), OLDER)
    engine = make_engine(source)
    with engine.begin() as conn:
        d, c = f.district(conn), f.chain(conn)
        master = f.chain_master(conn, c)
        f.supply_link(conn, f.enterprise(conn, district_id=d, aliases=["老别名"]), master, c)
    engine.dispose()
    made = _cli(source, "backup", str(tmp_path))
    assert made.exit_code == 0, made.output
    (dump,) = tmp_path.glob(f"chaindb-*-{OLDER}.dump")

    target = scratch_database()
    done = _cli(target, "restore", str(dump))
    assert done.exit_code == 0, done.output
    assert f"schema version {OLDER}" in done.output
    assert _counts(target) == _counts(source)
    upgraded = _cli(target, "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    with psycopg.connect(_libpq(target)) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == (
            head_revision()
        )
        # The generated keys came through the restore and the upgrade.
        keys = conn.execute("SELECT alias_keys FROM enterprise WHERE '老别名' = ANY(aliases)")
        assert keys.fetchone()[0]


def test_a_truncated_backup_restores_nothing(source, scratch_database, tmp_path):
    made = _cli(source, "backup", str(tmp_path / "whole.dump"))
    assert made.exit_code == 0, made.output
    whole = (tmp_path / "whole.dump").read_bytes()
    cut = tmp_path / "cut.dump"
    cut.write_bytes(whole[: len(whole) * 3 // 4])  # the table of contents is whole, data is not
    target = scratch_database()
    refused = _cli(target, "restore", str(cut))
    assert refused.exit_code == 1
    assert "not a chaindb backup" in refused.output or "nothing was restored" in refused.output
    with psycopg.connect(_libpq(target)) as conn:
        assert conn.execute("SELECT to_regclass('public.chain')").fetchone()[0] is None


def test_a_dump_that_breaks_off_mid_restore_commits_nothing(scratch_database, tmp_path):
    """pg_restore fails after psql has run part of the script: psql is stopped before it reaches
    the end of its input (where --single-transaction commits)."""
    from chaindb.backup import BackupError, _replay, server_major, tool

    target = scratch_database()
    real = Path(tool("pg_restore", server_major(target)))
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "psql").symlink_to(real.with_name("psql"))
    fake = folder / "pg_restore"
    fake.write_text(
        "#!/bin/sh\necho 'CREATE TABLE broken_off (id int);'\n"
        "echo 'pg_restore: error: could not read from input file' >&2\nexit 1\n"
    )
    fake.chmod(0o755)
    with pytest.raises(BackupError, match=r"nothing was restored.*could not read"):
        _replay(str(fake), tmp_path / "any.dump", target)
    with psycopg.connect(_libpq(target)) as conn:
        assert conn.execute("SELECT to_regclass('public.broken_off')").fetchone()[0] is None


def test_a_database_with_functions_of_its_own_is_not_empty(source, scratch_database, tmp_path):
    """A function already in public could capture a name the restore's script calls."""
    made = _cli(source, "backup", str(tmp_path / "b.dump"))
    assert made.exit_code == 0, made.output
    target = scratch_database()
    with psycopg.connect(_libpq(target), autocommit=True) as conn:
        conn.execute("CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE sql AS 'SELECT $1'")
    refused = _cli(target, "restore", str(tmp_path / "b.dump"))
    assert refused.exit_code == 1 and "is not empty" in refused.output


def test_a_password_never_reaches_the_command_line(source, scratch_database, tmp_path, monkeypatch):
    """pg_dump, pg_restore and psql get the password of DATABASE_URL in a password file only
    this user reads (PGPASSFILE, gone afterwards), not in --dbname, which every user of the
    machine sees in ps."""
    import os
    import stat
    import subprocess
    import tempfile

    from sqlalchemy.engine import make_url

    import chaindb.backup

    secret = "pa:ss\\word-7f3a"
    seen: list[tuple[list[str], str | None, int | None]] = []

    def watched(real):
        def call(argv, *args, **kwargs):
            passfile = (kwargs.get("env") or {}).get("PGPASSFILE")
            if passfile:
                mode = stat.S_IMODE(os.stat(passfile).st_mode)
                seen.append((list(argv), Path(passfile).read_text(encoding="utf-8"), mode))
            else:
                seen.append((list(argv), None, None))
            return real(argv, *args, **kwargs)

        return call

    monkeypatch.setattr(chaindb.backup.subprocess, "run", watched(subprocess.run))
    monkeypatch.setattr(chaindb.backup.subprocess, "Popen", watched(subprocess.Popen))

    def with_secret(url: str) -> str:
        return make_url(url).set(password=secret).render_as_string(hide_password=False)

    made = _cli(with_secret(source), "backup", str(tmp_path))
    assert made.exit_code == 0, made.output
    target = scratch_database()
    done = _cli(with_secret(target), "restore", str(next(tmp_path.glob("chaindb-*.dump"))))
    assert done.exit_code == 0, done.output
    assert _counts(target) == _counts(source)

    connecting = [entry for entry in seen if any(a.startswith("--dbname=") for a in entry[0])]
    assert {Path(argv[0]).name for argv, _, _ in connecting} >= {"pg_dump", "pg_restore"}
    for argv, _, _ in seen:
        assert not any(secret in a or "pa%3Ass" in a for a in argv), argv
    for _argv, passfile, mode in connecting:
        assert passfile == "*:*:*:*:pa\\:ss\\\\word-7f3a\n"
        assert mode == 0o600
    assert not list(Path(tempfile.gettempdir()).glob("chaindb-pgpass-*"))
