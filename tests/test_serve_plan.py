"""`chaindb run` fits its workers' connection pools to the database server: one worker per core
on a large host would otherwise ask PostgreSQL's default 100 connections for more than it has."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import psycopg
import pytest

from chaindb.config import PROJECT_ROOT, ConfigError, Settings
from chaindb.embedded import _libpq
from chaindb.serve import SPARE_CONNECTIONS, connection_budget, plan


def test_a_worker_per_core_on_a_large_host_is_capped_to_the_server():
    # 32 cores, one thread each: 32 workers of 2 pools of (2 + 1) and the refresher's one.
    chosen = plan(32, 1, budget=90)
    assert chosen.per_worker == 7
    assert chosen.workers == 12
    assert chosen.asked == 32
    assert chosen.most <= 90


def test_workers_that_fit_are_left_alone():
    chosen = plan(2, 1, budget=90)
    assert (chosen.workers, chosen.pool_size, chosen.max_overflow) == (2, 2, 1)
    assert plan(64, 1, budget=None).workers == 64  # the server could not be asked


def test_the_pools_follow_the_threads_unless_set():
    assert (plan(1, 4, None).pool_size, plan(1, 4, None).max_overflow) == (5, 4)
    chosen = plan(8, 1, budget=50, pool_size=5, max_overflow=10)  # the library defaults
    assert chosen.per_worker == 31
    assert chosen.workers == 1


def test_no_worker_fits_a_budget_below_one_worker():
    with pytest.raises(ConfigError, match="CHAINDB_THREADS"):
        plan(1, 8, budget=10)


@pytest.mark.parametrize("workers", [1, 3, 16, 64, 256])
@pytest.mark.parametrize("threads", [1, 2, 4])
@pytest.mark.parametrize("budget", [12, 40, 90, 490])
def test_what_serves_never_exceeds_the_budget(workers, threads, budget):
    try:
        chosen = plan(workers, threads, budget)
    except ConfigError:
        assert plan(1, threads, None).per_worker > budget
        return
    assert 1 <= chosen.workers <= workers
    assert chosen.most <= budget
    # and no fewer workers than fit
    assert chosen.workers == workers or (chosen.workers + 1) * chosen.per_worker > budget


def test_the_budget_is_what_the_server_allows_less_the_spare(database_url, monkeypatch):
    monkeypatch.delenv("CHAINDB_DB_CONNECTIONS", raising=False)
    with psycopg.connect(_libpq(database_url)) as conn:
        most = int(conn.execute("SHOW max_connections").fetchone()[0])
        reserved = int(conn.execute("SHOW superuser_reserved_connections").fetchone()[0])
        if conn.info.server_version >= 160000:
            reserved += int(conn.execute("SHOW reserved_connections").fetchone()[0])
    assert connection_budget(database_url) == most - reserved - SPARE_CONNECTIONS


def test_a_budget_given_wins_and_a_bad_one_is_refused(monkeypatch):
    monkeypatch.setenv("CHAINDB_DB_CONNECTIONS", "40")
    assert connection_budget("postgresql://nobody@127.0.0.1:1/none") == 40
    for bad in ("forty", "0", "-3"):
        monkeypatch.setenv("CHAINDB_DB_CONNECTIONS", bad)
        with pytest.raises(ConfigError, match="CHAINDB_DB_CONNECTIONS"):
            connection_budget(None)


def test_an_unreachable_server_leaves_the_workers_uncapped(monkeypatch):
    monkeypatch.delenv("CHAINDB_DB_CONNECTIONS", raising=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once closed
    assert connection_budget(f"postgresql://nobody@127.0.0.1:{port}/none") is None


def test_the_pool_sizes_are_read_and_checked():
    settings = Settings.from_env({"CHAINDB_DB_POOL_SIZE": "2", "CHAINDB_DB_MAX_OVERFLOW": "0"})
    assert (settings.db_pool_size, settings.db_max_overflow) == (2, 0)
    with pytest.raises(ConfigError, match="CHAINDB_DB_MAX_OVERFLOW"):
        Settings.from_env({"CHAINDB_DB_MAX_OVERFLOW": "-1"})
    with pytest.raises(ConfigError, match="CHAINDB_DB_POOL_SIZE"):
        Settings.from_env({"CHAINDB_DB_POOL_SIZE": "0"})


@pytest.mark.slow
def test_chaindb_run_serves_with_the_workers_that_fit(database_url, tmp_path):
    """Asked for 20 workers with room for 21 connections, it serves with 3 (7 each), says so,
    and answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CHAINDB_ENV": "test",
        "CHAINDB_SECRET_KEY": secrets.token_urlsafe(48),
        "CHAINDB_DATA_DIR": str(tmp_path),
        "CHAINDB_REPORTS_LISTEN": "false",
        "CHAINDB_DB_CONNECTIONS": "21",
    }
    for name in ("CHAINDB_DB_POOL_SIZE", "CHAINDB_DB_MAX_OVERFLOW", "CHAINDB_THREADS"):
        env.pop(name, None)
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from chaindb.cli import main; main()", "run", "--host",
             "127.0.0.1", "--port", str(port), "--workers", "20"],
            cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as got:
                    assert got.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None, log.read_text()
                time.sleep(0.2)
        text = log.read_text()
        assert "serving with 3 workers, not 20" in text, text
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
