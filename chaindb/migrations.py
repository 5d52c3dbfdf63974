"""Running Alembic from chaindb: locating alembic.ini, and the revision the code expects."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

from chaindb.config import PROJECT_ROOT, ConfigError


def alembic_ini() -> Path:
    """alembic.ini beside the source tree, else in the working directory (the container)."""
    candidates = [
        Path(os.environ["CHAINDB_ALEMBIC_INI"]) if os.environ.get("CHAINDB_ALEMBIC_INI") else None,
        PROJECT_ROOT / "alembic.ini",
        Path.cwd() / "alembic.ini",
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
