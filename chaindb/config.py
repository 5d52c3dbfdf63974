"""Settings read once from the environment into one typed object."""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

DEV_SECRET = "dev-only-not-secret"
ENVIRONMENTS = ("development", "test", "production")
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """The environment does not describe a runnable chaindb."""


def normalize_database_url(url: str) -> str:
    """Accept postgres:// and postgresql:// URLs and point them at the psycopg 3 driver.

    A URL naming several servers as libpq writes it (postgresql://u@h1:5432,h2:5432/db, a
    cluster's members) is rewritten with the hosts and ports in its query
    (postgresql+psycopg://u@/db?host=h1,h2&port=5432,5432), which both SQLAlchemy and libpq read;
    target_session_attrs in the query then picks the leader or a standby."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme
    if scheme not in ("postgres", "postgresql", "postgresql+psycopg2", "postgresql+psycopg"):
        raise ConfigError(
            f"DATABASE_URL must be a PostgreSQL URL (postgresql://...), got scheme {scheme!r}"
        )
    parts = parts._replace(scheme="postgresql+psycopg")
    userinfo, at, hostlist = parts.netloc.rpartition("@")
    if "," in hostlist:
        hosts, ports = zip(*(_host_and_port(item) for item in hostlist.split(",")), strict=True)
        query = [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if k not in ("host", "port")
        ]
        query = [("host", ",".join(hosts)), ("port", ",".join(ports)), *query]
        parts = parts._replace(netloc=userinfo + at, query=urlencode(query, safe=",:/[]"))
    return urlunsplit(parts)


def _host_and_port(item: str) -> tuple[str, str]:
    """'h:5433' -> ('h', '5433'); '[::1]:5433' -> ('::1', '5433'); no port -> 5432."""
    host, port = item, ""
    if item.startswith("["):
        host, _, rest = item[1:].partition("]")
        port = rest.removeprefix(":")
    elif ":" in item:
        host, _, port = item.rpartition(":")
    if not host:
        raise ConfigError(f"DATABASE_URL names a server without a host: {item!r}")
    if port and not port.isdigit():
        raise ConfigError(f"DATABASE_URL names a server with port {port!r}, not a number")
    return host, port or "5432"


def _flag(raw: str | None, *, default: bool) -> bool:
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"expected true or false, got {raw!r}")


def _amount(env: Mapping[str, str], name: str, default: str) -> Decimal:
    raw = env.get(name) or default
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not value.is_finite() or value <= 0:
        raise ConfigError(f"{name} must be a positive number, got {raw!r}")
    return value


def current_settings() -> Settings:
    """The running app's settings; outside an app (the command line, a seed), the environment's."""
    from flask import current_app, has_app_context

    if has_app_context() and "SETTINGS" in current_app.config:
        return current_app.config["SETTINGS"]
    return _environment_settings()


@functools.cache
def _environment_settings() -> Settings:
    return Settings.from_env()


def _default_data_dir() -> Path:
    return Path(os.environ.get("CHAINDB_DATA_DIR") or PROJECT_ROOT / ".chaindb")


@dataclass(frozen=True)
class Settings:
    """Everything chaindb reads from its environment; see README 'Configuration'."""

    env: str = "development"
    database_url: str | None = None
    # A standby (or a cluster's URL with target_session_attrs=prefer-standby) that the reports
    # read from: report pages and exports, the report API, `chaindb report`. None: the leader.
    database_replica_url: str | None = None
    secret_key: str = DEV_SECRET
    data_dir: Path = field(default_factory=_default_data_dir)
    host: str = "127.0.0.1"
    port: int = 5000
    # Each of an app process's two pools (reads, writes) keeps up to db_pool_size connections
    # and opens up to db_max_overflow more at a peak. `chaindb run` sizes both from its threads
    # and caps its workers so that they fit the server (chaindb.serve.plan).
    db_pool_size: int = 5
    db_max_overflow: int = 10
    log_level: str = "INFO"
    # How long a worker trusts a token it has checked; a revoked token (or a deactivated user)
    # stops working in the worker that revoked it at once, in the others within this many
    # seconds. One: a token's lookup, a primary-key read, once a second per worker at most.
    token_cache_seconds: int = 1
    # Session cookies only over HTTPS: on in production, off for http://127.0.0.1 in development.
    secure_cookies: bool = False
    # Whether the web processes keep the materialized reports current (chaindb.reports.listener:
    # one of them refreshes the reports a write made stale, within a second or so). Off where
    # something else does (`chaindb db refresh-reports --listen`) or in tests that refresh
    # themselves.
    reports_listen: bool = True
    # Amounts beyond these are saved only once confirmed (a slip between 元, 万元 and 亿元?):
    # a project's amounts in 亿元, a supply link's annual value in 万元.
    confirm_project_above_cny_100m: Decimal = Decimal(500)
    confirm_link_above_cny_10k: Decimal = Decimal(100_000)
    # A new enterprise whose name is this alike (pg_trgm similarity of the name keys, 0-1) to
    # an existing one is saved only once confirmed.
    duplicate_similarity: float = 0.6
    # The office running this chaindb, named on what it exports (导出单位), e.g. 济南市投资促进局.
    organization: str = ""

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        name = env.get("CHAINDB_ENV", "development")
        if name not in ENVIRONMENTS:
            raise ConfigError(f"CHAINDB_ENV must be one of {', '.join(ENVIRONMENTS)}, got {name!r}")
        url = env.get("DATABASE_URL") or None
        replica = env.get("DATABASE_REPLICA_URL") or None
        try:
            port = int(env.get("CHAINDB_PORT", "5000"))
            pool = int(env.get("CHAINDB_DB_POOL_SIZE", "5"))
            overflow = int(env.get("CHAINDB_DB_MAX_OVERFLOW", "10"))
            token_cache = int(env.get("CHAINDB_TOKEN_CACHE_SECONDS", "1"))
        except ValueError as exc:
            raise ConfigError(
                "CHAINDB_PORT, CHAINDB_DB_POOL_SIZE, CHAINDB_DB_MAX_OVERFLOW and "
                f"CHAINDB_TOKEN_CACHE_SECONDS must be integers: {exc}"
            ) from exc
        if pool < 1 or overflow < 0:
            raise ConfigError(
                "CHAINDB_DB_POOL_SIZE must be at least 1 and CHAINDB_DB_MAX_OVERFLOW at least 0, "
                f"got {pool} and {overflow}"
            )
        project_limit = _amount(env, "CHAINDB_CONFIRM_PROJECT_ABOVE_CNY_100M", "500")
        link_limit = _amount(env, "CHAINDB_CONFIRM_LINK_ABOVE_CNY_10K", "100000")
        similarity = _amount(env, "CHAINDB_DUPLICATE_SIMILARITY", "0.6")
        if not 0 < similarity <= 1:
            raise ConfigError(
                f"CHAINDB_DUPLICATE_SIMILARITY must be above 0 and at most 1, got {similarity}"
            )
        settings = cls(
            env=name,
            database_url=normalize_database_url(url) if url else None,
            database_replica_url=normalize_database_url(replica) if replica else None,
            secret_key=env.get("CHAINDB_SECRET_KEY") or DEV_SECRET,
            data_dir=Path(env["CHAINDB_DATA_DIR"])
            if env.get("CHAINDB_DATA_DIR")
            else _default_data_dir(),
            host=env.get("CHAINDB_HOST", "127.0.0.1"),
            port=port,
            db_pool_size=pool,
            db_max_overflow=overflow,
            token_cache_seconds=token_cache,
            log_level=env.get("CHAINDB_LOG_LEVEL", "INFO"),
            reports_listen=_flag(env.get("CHAINDB_REPORTS_LISTEN"), default=True),
            secure_cookies=_flag(env.get("CHAINDB_SECURE_COOKIES"), default=name == "production"),
            confirm_project_above_cny_100m=project_limit,
            confirm_link_above_cny_10k=link_limit,
            duplicate_similarity=float(similarity),
            organization=env.get("CHAINDB_ORGANIZATION", "").strip(),
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
