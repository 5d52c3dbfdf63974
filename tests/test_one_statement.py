"""The two everyday writes in one round trip, on an app with its own pools (issue 16).

A supply link made through the chain-master workflow and a stage move each take a connection of
the autocommit pool (Database.one_statement) and send the acting settings and their one
statement together (psycopg's pipeline), which the server runs as one transaction. The tests'
shared app is bound to one transaction and runs the same statement in a savepoint
(tests/test_one_round_trip.py, tests/test_api_supply.py hold the rules); this module runs them
as production does: committed, on a pool of one connection, so that each request reuses the
connection the one before it left.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import psycopg
import pytest
from sqlalchemy import Engine, text

from chaindb import create_app
from chaindb.config import Settings
from chaindb.db import ACT, db, make_engine, run_sql
from tests import factories_sql as f
from tests.conftest import _unit, bearer_tokens


@dataclass
class Place:
    app: object
    engine: Engine
    headers: dict[str, dict[str, str]]
    ids: dict[str, int]


@pytest.fixture(scope="module")
def place(scratch_database_module) -> Iterator[Place]:
    scratch = scratch_database_module
    engine = make_engine(scratch)
    with engine.begin() as conn:
        d1, d2 = f.district(conn), f.district(conn)
        c1, c2 = f.chain(conn), f.chain(conn)
        district_office = _unit(conn, "one-district", "district_office", district_id=d1)
        ids = {
            "d1": d1,
            "c1": c1,
            "c2": c2,
            "master": f.chain_master(conn, c1),
            "master2": f.chain_master(conn, c2),
            "in_d1": f.enterprise(conn, district_id=d1),
            "in_d2": f.enterprise(conn, district_id=d2),
            "project": f.project(conn, c1, d1, stage="negotiating"),
        }
    headers = bearer_tokens(
        engine, [("city", "city", "editor"), ("district", district_office, "editor")]
    )
    settings = Settings(env="test", database_url=scratch, secret_key="s" * 40, db_pool_size=1)
    app = create_app({"TESTING": True, "SQLALCHEMY_URL": scratch}, settings=settings)
    try:
        yield Place(app, engine, headers, ids)
    finally:
        db.dispose(app)
        engine.dispose()


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, bool, bool]]:
    """Each statement psycopg sends through a cursor: (its text, in a pipeline, autocommit)."""
    seen: list[tuple[str, bool, bool]] = []
    execute = psycopg.Cursor.execute

    def counted(self, query, params=None, **kwargs):
        sql = query if isinstance(query, str) else query.as_string(self)
        connection = self.connection
        seen.append((sql, connection._pipeline is not None, connection.autocommit))
        return execute(self, query, params, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counted)
    return seen


def _piped(sent: list[tuple[str, bool, bool]]) -> list[str]:
    """The statements sent in a pipeline on an autocommit connection: ACT, or the table or
    function the statement writes."""
    named = ("supply_link", "move_project_stage")
    return [
        ACT if sql == ACT else next((n for n in named if n in sql), sql)
        for sql, in_pipeline, autocommit in sent
        if in_pipeline and autocommit
    ]


def _link(place: Place, who: str, supplier: int, chain: str = "c1", master: str = "master", **body):
    return place.app.test_client().post(
        f"/api/v1/chain-masters/{place.ids[master]}/suppliers",
        json={"chain": place.ids[chain], "supplier": supplier, **body},
        headers=place.headers[who],
    )


def _count(place: Place, sql: str, **params: object) -> int:
    with place.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def test_a_link_is_the_acting_settings_and_its_statement_in_one_pipeline(place, sent):
    response = _link(place, "city", place.ids["in_d1"], product="座椅", since="2026-02-01")
    assert response.status_code == 201, response.get_json()
    link = response.get_json()
    # The settings and the insert, in one pipeline on an autocommit connection: no BEGIN, no
    # COMMIT (the server commits at the pipeline's one Sync). (Before them, the token was read.)
    assert _piped(sent) == [ACT, "supply_link"]
    assert sum("INSERT INTO supply_link" in sql for sql, _, _ in sent) == 1
    # Committed, with the role it gives and the change log of the request that made it.
    with place.engine.connect() as conn:
        logged = conn.execute(
            text(
                "SELECT actor, request_id FROM change_log "
                "WHERE table_name = 'supply_link' AND record_id = :id"
            ),
            {"id": link["id"]},
        ).one()
        role = conn.execute(
            text(
                "SELECT source, since FROM chain_role "
                "WHERE enterprise_id = :e AND chain_id = :c AND role = 'supplier'"
            ),
            {"e": place.ids["in_d1"], "c": place.ids["c1"]},
        ).one()
    assert logged == ("city", response.headers["X-Request-ID"])
    assert role == (f"supply link {link['id']}", date(2026, 2, 1))


def test_a_refused_link_writes_nothing_and_leaves_the_connection_whole(place):
    first = _link(place, "city", place.ids["in_d2"], product="线束")
    assert first.status_code == 201, first.get_json()
    before = _count(place, "SELECT count(*) FROM supply_link")
    logged = _count(place, "SELECT count(*) FROM change_log")
    twin = _link(place, "city", place.ids["in_d2"], product="线束")
    assert twin.status_code == 409, twin.get_json()
    assert "already has an active link" in twin.get_json()["error"]["message"]
    unknown = _link(place, "city", 10**12)
    assert unknown.status_code == 422 and unknown.get_json()["error"]["details"][0]["field"] == (
        "supplier"
    )
    assert _count(place, "SELECT count(*) FROM supply_link") == before
    assert _count(place, "SELECT count(*) FROM change_log") == logged
    # The one connection of the pool serves the next link as it should.
    again = _link(place, "city", place.ids["in_d2"], product="线束二")
    assert again.status_code == 201, again.get_json()


def test_each_request_acts_for_its_own_unit_on_the_shared_connection(place):
    """The pool has one connection: the city bureau's link, then the district office's, then
    the city's again. The district office links a supplier located in its district, is refused
    (403, by the row-level policy) one located elsewhere in a chain it is not in charge of, and
    the city bureau's next link is not refused as the district's was."""
    city = _link(place, "city", place.ids["in_d2"], chain="c2", master="master2", product="甲")
    assert city.status_code == 201, city.get_json()
    own = _link(place, "district", place.ids["in_d1"], chain="c2", master="master2", product="乙")
    assert own.status_code == 201, own.get_json()
    before = _count(place, "SELECT count(*) FROM supply_link")
    outside = _link(place, "district", place.ids["in_d2"], chain="c2", master="master2")
    assert outside.status_code == 403, outside.get_json()
    assert _count(place, "SELECT count(*) FROM supply_link") == before
    after = _link(place, "city", place.ids["in_d2"], chain="c2", master="master2", product="丙")
    assert after.status_code == 201, after.get_json()
    with place.engine.connect() as conn:
        actors = conn.execute(
            text(
                "SELECT record_id, actor FROM change_log WHERE table_name = 'supply_link' "
                "AND record_id IN (:a, :b, :c)"
            ),
            {"a": city.get_json()["id"], "b": own.get_json()["id"], "c": after.get_json()["id"]},
        ).all()
    assert sorted(actors) == sorted(
        [
            (city.get_json()["id"], "city"),
            (own.get_json()["id"], "district"),
            (after.get_json()["id"], "city"),
        ]
    )


def test_a_stage_move_is_one_pipeline_and_refused_moves_change_nothing(place, sent):
    client = place.app.test_client()
    project = place.ids["project"]
    moved = client.post(
        f"/api/v1/projects/{project}/stage",
        json={"stage": "signed", "date": "2026-03-02"},
        headers=place.headers["city"],
    )
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["stage"] == "signed"
    assert _piped(sent) == [ACT, "move_project_stage"]
    # Back without a reason: refused, nothing moved; with one: moved, and recorded as such.
    back = {"stage": "negotiating", "date": "2026-03-03"}
    events = "SELECT count(*) FROM project_stage_event WHERE project_id = :p"
    before = _count(place, events, p=project)
    refused = client.post(
        f"/api/v1/projects/{project}/stage", json=back, headers=place.headers["city"]
    )
    assert refused.status_code == 422, refused.get_json()
    assert _count(place, events, p=project) == before
    done = client.post(
        f"/api/v1/projects/{project}/stage",
        json={**back, "reason": "对方暂缓"},
        headers=place.headers["city"],
    )
    assert done.status_code == 200, done.get_json()
    with place.engine.connect() as conn:
        last = conn.execute(
            text(
                "SELECT to_stage, reason, actor FROM project_stage_event WHERE project_id = :p "
                "ORDER BY id DESC LIMIT 1"
            ),
            {"p": project},
        ).one()
    assert last == ("negotiating", "对方暂缓", "city")


def test_a_one_statement_connection_runs_one_statement(place):
    with place.app.test_request_context("/api/v1/x", method="POST"):
        with db.one_statement() as connection:
            assert run_sql(connection, "SELECT 1 AS one", {}) == [{"one": 1}]
            with pytest.raises(RuntimeError, match="one statement"):
                run_sql(connection, "SELECT 2 AS two", {})
        with db.one_statement() as connection, pytest.raises(RuntimeError, match="one statement"):
            connection.execute(text("SELECT 1"))
        # Back in the pool, the connection is an ordinary one again.
        with db.one_statement() as connection:
            pass
        with place.app.extensions["chaindb.db"]["read_engine"].connect() as connection:
            assert connection.execute(text("SELECT 3")).scalar_one() == 3
            assert run_sql(connection, "SELECT 4 AS four", {}) == [{"four": 4}]
