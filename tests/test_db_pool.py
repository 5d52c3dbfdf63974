"""The connection pool hands out live connections without a ping before every checkout."""

from __future__ import annotations

import sys
import time

import pytest
from sqlalchemy import event, text

from chaindb.db import make_engine


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _count_statements(engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda conn, cur, stmt, *rest: seen.append(stmt))
    return seen


def test_a_connection_the_server_closed_is_replaced_before_use(engine, admin_url):
    first = _backend_pid(engine)
    killer = make_engine(admin_url)
    with killer.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    killer.dispose()
    time.sleep(0.2)  # the server's farewell reaches the idle connection's socket

    # The next checkout notices without a statement of its own, and hands out a new connection.
    assert _backend_pid(engine) != first


def test_a_live_connection_is_reused_without_a_ping(engine, monkeypatch):
    first = _backend_pid(engine)
    pings = []
    monkeypatch.setattr(engine.dialect, "do_ping", lambda dbapi_connection: pings.append(1) or True)
    statements = _count_statements(engine)
    assert _backend_pid(engine) == first
    assert pings == [] and statements == ["SELECT pg_backend_pid()"]


def test_a_connection_idle_for_long_is_pinged(engine, monkeypatch):
    first = _backend_pid(engine)
    pings = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(
        engine.dialect,
        "do_ping",
        lambda dbapi_connection: pings.append(1) or real_ping(dbapi_connection),
    )
    # (the module, not the chaindb.db extension object that the package exports)
    monkeypatch.setattr(sys.modules["chaindb.db"], "PING_AFTER_IDLE_SECONDS", 0.0)
    assert _backend_pid(engine) == first
    assert pings == [1]
