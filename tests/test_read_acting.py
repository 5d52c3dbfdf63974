"""A read-pool connection acts for whoever reads through it (issue 16, point 3).

Reads run in autocommit on a pool of their own, so whom a connection acts for (role, unit,
user) is set for its server session and outlives the request. The connection remembers it and
a read by the same user on the same connection saves that round trip; a read by anyone else
must act for them first, or a district office would read with the city bureau's scope.
An app with its own pools (one connection, so every request gets the same one) on a committed
database: the tests' own app shares the test's transaction and never reads in autocommit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from chaindb import create_app
from chaindb.auth.service import create_token, create_user
from chaindb.config import Settings
from chaindb.db import db, make_engine
from tests import factories_sql as f
from tests.conftest import _unit


@dataclass
class Place:
    app: object
    headers: dict[str, dict[str, str]]
    own: int  # a project of the district office's district
    other: int  # a project of another district


@pytest.fixture(scope="module")
def place(scratch_database_module) -> Iterator[Place]:
    url = scratch_database_module
    engine = make_engine(url)
    with engine.begin() as conn:
        d1, d2, chain = f.district(conn), f.district(conn), f.chain(conn)
        unit = _unit(conn, "district-acting", "district_office", district_id=d1)
        own, other = f.project(conn, chain, d1), f.project(conn, chain, d2)
    headers = {}
    with Session(engine) as session:
        for name, unit_of, role in (("city", "city", "admin"), ("district", unit, "editor")):
            user = create_user(
                session=session, username=name, role=role, password=None, unit=unit_of
            )
            token = create_token(session=session, user=user, name="tests")[1]
            headers[name] = {"Authorization": f"Bearer {token}"}
        session.commit()
    engine.dispose()
    settings = Settings(env="test", database_url=url, secret_key="s" * 40, db_pool_size=1)
    app = create_app({"TESTING": True, "SQLALCHEMY_URL": url}, settings=settings)
    try:
        yield Place(app, headers, own, other)
    finally:
        db.dispose(app)


@pytest.fixture
def acts(monkeypatch) -> list[str]:
    """The statements that make a connection act for someone, as sent."""
    sent: list[str] = []
    execute = psycopg.Cursor.execute

    def counted(self, query, params=None, **kwargs):
        sql = query if isinstance(query, str) else query.as_string(self)
        if "set_config('role'" in sql:
            sent.append(f"{sql[:20]} {params}")
        return execute(self, query, params, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counted)
    return sent


def _read(place: Place, who: str, project: int) -> int:
    client = place.app.test_client()
    return client.get(f"/api/v1/projects/{project}", headers=place.headers[who]).status_code


def test_the_same_reader_again_saves_the_round_trip(place, acts):
    assert _read(place, "city", place.other) == 200
    acts.clear()
    assert _read(place, "city", place.other) == 200
    assert _read(place, "city", place.own) == 200
    assert acts == []


def test_another_reader_on_the_same_connection_reads_with_their_own_scope(place, acts):
    # Each token known (a token's first use looks it up, acting for nobody), city acting last.
    assert _read(place, "district", place.own) == 200
    assert _read(place, "city", place.other) == 200
    acts.clear()
    for _ in range(3):
        assert _read(place, "city", place.other) == 200
        assert _read(place, "district", place.other) == 404  # not in the district's scope
        assert _read(place, "district", place.own) == 200
    assert _read(place, "city", place.own) == 200
    # Each change of reader acted once (district, city, district, city, district, city), each
    # repeat not.
    assert len(acts) == 6, "\n".join(acts)
    assert db.engine(place.app).pool.checkedout() == 0


def test_a_new_connection_acts_again(place, acts):
    assert _read(place, "district", place.own) == 200
    # The pool's connection closed (as when the server went away): the next is another.
    place.app.extensions["chaindb.db"]["read_engine"].pool.dispose()
    acts.clear()
    assert _read(place, "district", place.other) == 404
    assert _read(place, "district", place.own) == 200
    assert len(acts) == 1


def test_a_session_whose_connection_died_ends_the_request_cleanly(place):
    """A failover or restart kills a request's connection after its work: the teardown's
    rollback then fails. The teardown must not fail after the answer, and the pool stays whole
    (found by the failover test: the teardown raised in every writer whose connection died)."""
    import psycopg

    from chaindb.embedded import _libpq

    app = place.app
    url = app.config["SQLALCHEMY_URL"]
    with app.test_request_context("/api/v1/projects", method="POST"):
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()  # begins
        with psycopg.connect(_libpq(url), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    # Leaving the request ran its teardown, which closed the session without raising.
    assert db.engine(app).pool.checkedout() == 0
    with app.test_request_context("/api/v1/projects", method="POST"):
        assert db.session.execute(text("SELECT 1")).scalar_one() == 1  # a live one
