"""Which database chaindb talks to: DATABASE_URL, else the embedded server."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from chaindb.config import Settings, normalize_database_url
from chaindb.embedded import ensure_database, server_url

EMBEDDED_DATABASE = "chaindb"


def resolve_url(settings: Settings) -> str:
    """The SQLAlchemy URL to use, starting the embedded server when none is configured."""
    if settings.database_url:
        return settings.database_url
    admin = normalize_database_url(server_url(settings.data_dir))
    ensure_database(admin, EMBEDDED_DATABASE)
    return normalize_database_url(server_url(settings.data_dir, EMBEDDED_DATABASE))


def with_database(url: str, name: str) -> str:
    """The same server URL, pointing at another database."""
    return make_url(url).set(database=name).render_as_string(hide_password=False)
