"""Settings read once from the environment into one typed object."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DEV_SECRET = "dev-only-not-secret"
ENVIRONMENTS = ("development", "test", "production")
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """The environment does not describe a runnable chaindb."""


def normalize_database_url(url: str) -> str:
    """Accept postgres:// and postgresql:// URLs and point them at the psycopg 3 driver."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme
    if scheme in ("postgres", "postgresql", "postgresql+psycopg2", "postgresql+psycopg"):
        return urlunsplit(parts._replace(scheme="postgresql+psycopg"))
    raise ConfigError(
        f"DATABASE_URL must be a PostgreSQL URL (postgresql://...), got scheme {scheme!r}"
    )


def _flag(raw: str | None, *, default: bool) -> bool:
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"expected true or false, got {raw!r}")


def _default_data_dir() -> Path:
    return Path(os.environ.get("CHAINDB_DATA_DIR") or PROJECT_ROOT / ".chaindb")


@dataclass(frozen=True)
class Settings:
    """Everything chaindb reads from its environment; see README 'Configuration'."""

    env: str = "development"
    database_url: str | None = None
    secret_key: str = DEV_SECRET
    data_dir: Path = field(default_factory=_default_data_dir)
    host: str = "127.0.0.1"
    port: int = 5000
    db_pool_size: int = 5
    log_level: str = "INFO"
    # How long a worker trusts a token it has checked; a revoked token stops working in the
    # worker that revoked it at once, in the others within this many seconds.
    token_cache_seconds: int = 10
    # Session cookies only over HTTPS: on in production, off for http://127.0.0.1 in development.
    secure_cookies: bool = False
    # How often the deployment refreshes the materialized reports (the pages say so); None =
    # on demand only (the refresh button, seeds, `chaindb db refresh-reports`).
    reports_refresh_minutes: int | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        name = env.get("CHAINDB_ENV", "development")
        if name not in ENVIRONMENTS:
            raise ConfigError(f"CHAINDB_ENV must be one of {', '.join(ENVIRONMENTS)}, got {name!r}")
        url = env.get("DATABASE_URL") or None
        try:
            port = int(env.get("CHAINDB_PORT", "5000"))
            pool = int(env.get("CHAINDB_DB_POOL_SIZE", "5"))
            token_cache = int(env.get("CHAINDB_TOKEN_CACHE_SECONDS", "10"))
            refresh = env.get("CHAINDB_REPORTS_REFRESH_MINUTES") or None
            refresh_minutes = int(refresh) if refresh is not None else None
        except ValueError as exc:
            raise ConfigError(
                "CHAINDB_PORT, CHAINDB_DB_POOL_SIZE, CHAINDB_TOKEN_CACHE_SECONDS and "
                "CHAINDB_REPORTS_REFRESH_MINUTES must be "
                f"integers: {exc}"
            ) from exc
        settings = cls(
            env=name,
            database_url=normalize_database_url(url) if url else None,
            secret_key=env.get("CHAINDB_SECRET_KEY") or DEV_SECRET,
            data_dir=Path(env["CHAINDB_DATA_DIR"])
            if env.get("CHAINDB_DATA_DIR")
            else _default_data_dir(),
            host=env.get("CHAINDB_HOST", "127.0.0.1"),
            port=port,
            db_pool_size=pool,
            token_cache_seconds=token_cache,
            log_level=env.get("CHAINDB_LOG_LEVEL", "INFO"),
            reports_refresh_minutes=refresh_minutes,
            secure_cookies=_flag(env.get("CHAINDB_SECURE_COOKIES"), default=name == "production"),
        )
        settings.check()
        return settings

    def check(self) -> None:
        if self.env == "production":
            if self.secret_key == DEV_SECRET or len(self.secret_key) < 32:
                raise ConfigError(
                    "CHAINDB_SECRET_KEY must be set to a random value of at least 32 characters "
                    "in production (python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
            if not self.database_url:
                raise ConfigError("DATABASE_URL must be set in production")
