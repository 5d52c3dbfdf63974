"""The production HTTP server: granian serving chaindb.wsgi:app (`chaindb run`, the image).

Measured against gunicorn's sync workers (bench/server_ab.py, docs/performance.md): granian
keeps connections alive and parses HTTP in Rust, so a read costs about half the CPU it cost
under gunicorn, and a client that sends its request slowly holds no Python worker (4 such
clients starved gunicorn's 4 workers of a health check; granian answered it in 0.1 s). The
requests spend most of their time in Python, so one process per core with one thread each
measured best on 2 cores; CHAINDB_WORKERS and CHAINDB_THREADS change them (more threads let a
long import or export share a worker with short requests, at some cost to the tail).
"""

from __future__ import annotations

import os


def settings(workers: int | None = None, threads: int | None = None) -> tuple[int, int]:
    """Worker processes and threads per worker: the arguments, else CHAINDB_WORKERS and
    CHAINDB_THREADS, else one per core and one."""
    workers = workers or int(os.environ.get("CHAINDB_WORKERS") or os.cpu_count() or 1)
    threads = threads or int(os.environ.get("CHAINDB_THREADS") or 1)
    return max(1, workers), max(1, threads)


def serve(*, host: str, port: int, workers: int | None = None, threads: int | None = None) -> None:
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    workers, threads = settings(workers, threads)
    level = os.environ.get("CHAINDB_LOG_LEVEL", "info").lower()
    Granian(
        "chaindb.wsgi:app",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        log_level=LogLevels(level) if level in LogLevels._value2member_map_ else LogLevels.info,
        log_access=os.environ.get("CHAINDB_ACCESS_LOG", "") not in ("", "0", "false"),
        respawn_failed_workers=True,
        websockets=False,
    ).serve()
