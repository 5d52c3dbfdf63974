"""The production HTTP server: granian serving chaindb.wsgi:app (`chaindb run`, the image).

Measured against gunicorn's sync workers (bench/server_ab.py, docs/performance.md): granian
keeps connections alive and parses HTTP in Rust, so a read costs about half the CPU it cost
under gunicorn, and a client that sends its request slowly holds no Python worker (4 such
clients starved gunicorn's 4 workers of a health check; granian answered it in 0.1 s). The
requests spend most of their time in Python, so one process per core with one thread each
measured best on 2 cores; CHAINDB_WORKERS and CHAINDB_THREADS change them (more threads let a
long import or export share a worker with short requests, at some cost to the tail).

Every worker holds its own connection pools, so the workers are capped to fit the database
server (plan): one per core on a 32-core host would otherwise ask PostgreSQL's default 100
connections for more than it has, and the last workers' requests would fail at a peak.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from chaindb.config import ConfigError

log = logging.getLogger(__name__)

# Connections left to others on the server: the reports' refresher (`chaindb db refresh-reports
# --listen`), migrations, a backup, a person with psql.
SPARE_CONNECTIONS = 10


def settings(workers: int | None = None, threads: int | None = None) -> tuple[int, int]:
    """Worker processes and threads per worker: the arguments, else CHAINDB_WORKERS and
    CHAINDB_THREADS, else one per core and one."""
    workers = workers or int(os.environ.get("CHAINDB_WORKERS") or os.cpu_count() or 1)
    threads = threads or int(os.environ.get("CHAINDB_THREADS") or 1)
    return max(1, workers), max(1, threads)


@dataclass(frozen=True)
class Plan:
    """How many workers serve, and the pools each keeps (chaindb.db: one for reads, one for
    writes, each pool_size connections kept and up to max_overflow more at a peak), within
    budget: the connections the app may hold on the leader (None: unknown, not capped)."""

    workers: int
    threads: int
    pool_size: int
    max_overflow: int
    budget: int | None
    asked: int

    @property
    def per_worker(self) -> int:
        """The most connections one worker opens: both pools full, and the report
        refresher's own connection (chaindb.reports.listener)."""
        return 2 * (self.pool_size + self.max_overflow) + 1

    @property
    def most(self) -> int:
        return self.workers * self.per_worker


def plan(
    workers: int,
    threads: int,
    budget: int | None,
    *,
    pool_size: int | None = None,
    max_overflow: int | None = None,
) -> Plan:
    """The workers asked for, fewer if their pools would exceed the budget.

    A worker serves `threads` requests at once, each mostly holding one connection of each
    pool: the pools keep that many and one more for the work beside the requests (pool_size =
    threads + 1: a connection opened anew costs milliseconds) and may open as many again at a
    peak (max_overflow = threads), unless CHAINDB_DB_POOL_SIZE and CHAINDB_DB_MAX_OVERFLOW say
    otherwise."""
    pool_size = pool_size if pool_size is not None else threads + 1
    max_overflow = max_overflow if max_overflow is not None else threads
    chosen = Plan(workers, threads, pool_size, max_overflow, budget, asked=workers)
    if budget is None or chosen.most <= budget:
        return chosen
    fits = budget // chosen.per_worker
    if fits < 1:
        raise ConfigError(
            f"one worker may open {chosen.per_worker} database connections (two pools of "
            f"{pool_size} + {max_overflow}, and the report refresher), more than the "
            f"{budget} allowed (CHAINDB_DB_CONNECTIONS, or the server's max_connections less "
            f"{SPARE_CONNECTIONS} spare): lower CHAINDB_THREADS, CHAINDB_DB_POOL_SIZE or "
            "CHAINDB_DB_MAX_OVERFLOW, or raise max_connections"
        )
    return Plan(fits, threads, pool_size, max_overflow, budget, asked=workers)


def connection_budget(url: str | None) -> int | None:
    """The connections this app may hold on the leader: CHAINDB_DB_CONNECTIONS, else what the
    server allows ordinary roles (max_connections less the reserved ones) less
    SPARE_CONNECTIONS. None when the server cannot be asked (not capped, said in the log).
    Several app hosts on one server each need CHAINDB_DB_CONNECTIONS (their share), or a
    pooler in front (docs/operations.md)."""
    given = os.environ.get("CHAINDB_DB_CONNECTIONS")
    if given:
        try:
            budget = int(given)
        except ValueError:
            raise ConfigError(f"CHAINDB_DB_CONNECTIONS must be an integer, got {given!r}") from None
        if budget < 1:
            raise ConfigError(f"CHAINDB_DB_CONNECTIONS must be at least 1, got {budget}")
        return budget
    if not url:
        return None
    import psycopg

    from chaindb.embedded import _libpq

    try:
        with psycopg.connect(_libpq(url), connect_timeout=5, autocommit=True) as conn:
            row = conn.execute(
                "SELECT current_setting('max_connections')::int"
                " - current_setting('superuser_reserved_connections')::int"
                " - coalesce(current_setting('reserved_connections', true)::int, 0)"
            ).fetchone()
    except psycopg.Error as exc:
        log.warning("could not ask the database for max_connections (%s): workers not capped", exc)
        return None
    return max(1, row[0] - SPARE_CONNECTIONS)


def _int_env(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value else None


def serve(*, host: str, port: int, workers: int | None = None, threads: int | None = None) -> None:
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    workers, threads = settings(workers, threads)
    chosen = plan(
        workers,
        threads,
        connection_budget(os.environ.get("DATABASE_URL")),
        pool_size=_int_env("CHAINDB_DB_POOL_SIZE"),
        max_overflow=_int_env("CHAINDB_DB_MAX_OVERFLOW"),
    )
    if chosen.workers < chosen.asked:
        log.warning(
            "serving with %d workers, not %d: each may open %d database connections, and %d "
            "are allowed (CHAINDB_DB_CONNECTIONS, or the server's max_connections less %d)",
            chosen.workers, chosen.asked, chosen.per_worker, chosen.budget, SPARE_CONNECTIONS,
        )  # fmt: skip
    # The workers build their pools from these (chaindb.config.Settings).
    os.environ["CHAINDB_DB_POOL_SIZE"] = str(chosen.pool_size)
    os.environ["CHAINDB_DB_MAX_OVERFLOW"] = str(chosen.max_overflow)
    level = os.environ.get("CHAINDB_LOG_LEVEL", "info").lower()
    Granian(
        "chaindb.wsgi:app",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=chosen.workers,
        blocking_threads=threads,
        log_level=LogLevels(level) if level in LogLevels._value2member_map_ else LogLevels.info,
        log_access=os.environ.get("CHAINDB_ACCESS_LOG", "") not in ("", "0", "false"),
        respawn_failed_workers=True,
        websockets=False,
    ).serve()
