"""The API's fast read paths give exactly what the general ones give, for every resource.

A list is written as JSON by PostgreSQL (Resource.list_json) and a read by key runs on psycopg
directly (fetch_prebuilt); the pages and the CLI read rows as dicts through SQLAlchemy. Here both
run over the demo data plus rows chosen to be awkward: times with and without microseconds, a
session time zone other than UTC, decimals, arrays, JSON, quotes, control characters, emoji.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from werkzeug.datastructures import MultiDict

from chaindb.api.resource import Resource, to_json
from chaindb.db import db
from seeds import demo, reference
from seeds.loader import Report


@pytest.fixture
def data(conn):
    conn.exec_driver_sql("SELECT set_config('chaindb.actor', 'test', true)")
    reference.load(conn, Report())
    demo.load(conn, Report())
    # Awkward values: a whole-second time, text that JSON must escape, an emoji, small decimals.
    # (Triggers off meanwhile: they would stamp the times with now().)
    conn.execute(text("SET LOCAL session_replication_role = replica"))
    conn.execute(
        text(
            "UPDATE project SET created_at = '2026-01-01 08:00:00+00', notes = :notes, "
            "agreed_investment_cny_100m = 0.0001 WHERE id = (SELECT min(id) FROM project)"
        ),
        {"notes": 'quote " back \\ tab \t line \n bell \x07 \U0001f600 </script> \u2028'},
    )
    conn.execute(text("UPDATE enterprise SET updated_at = '1999-12-31 23:59:59.5+00'"))
    conn.execute(text("SET LOCAL session_replication_role = origin"))
    return conn


def _python_rows(resource: Resource, session, args: MultiDict) -> list:
    return json.loads(to_json(resource.list_page(session, args)["results"]))


def _json_rows(resource: Resource, session, args: MultiDict) -> list:
    return json.loads(resource.list_json(session, args))["results"]


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai"])
def test_lists_written_by_postgresql_equal_those_written_in_python(app, data, zone):
    data.execute(text(f"SET LOCAL TimeZone = '{zone}'"))
    checked = 0
    with app.test_request_context("/api/v1/x"):
        session = db.session
        for name, resource in sorted(Resource.registry.items()):
            args = MultiDict({"limit": "1000"})
            python_rows = _python_rows(resource, session, args)
            assert _json_rows(resource, session, args) == python_rows, name
            checked += bool(python_rows)
    assert checked >= 8  # the demo data fills most tables


def test_the_page_envelope_is_the_same_both_ways(app, data):
    projects = Resource.registry["projects"]
    args = MultiDict({"limit": "2", "offset": "2", "ordering": "-stage,name"})
    with app.test_request_context("/api/v1/projects?limit=2&offset=2&ordering=-stage,name"):
        page = json.loads(to_json(projects.list_page(db.session, args)))
        fast = json.loads(projects.list_json(db.session, args))
    assert fast == page and len(fast["results"]) == 2 and fast["next"] and fast["previous"]


def test_an_awkward_row_survives_the_trip_byte_for_byte_in_meaning(api, data):
    row = data.execute(text("SELECT id, notes FROM project ORDER BY id LIMIT 1")).one()
    listed = api.get("/api/v1/projects?limit=1&ordering=id").get_json()["results"][0]
    read = api.get(f"/api/v1/projects/{row.id}").get_json()
    assert listed == read
    assert listed["notes"] == row.notes and "😀" in listed["notes"]
    assert listed["created_at"] == "2026-01-01T08:00:00Z"
    assert listed["agreed_investment_cny_100m"] == "0.0001"


def test_reads_by_key_equal_the_general_query_for_every_resource(app, data):
    with app.test_request_context("/api/v1/x"):
        session = db.session
        for name, resource in sorted(Resource.registry.items()):
            first = session.execute(resource.select().order_by(resource.table.c.id).limit(1))
            row = first.mappings().first()
            if row is None:
                continue
            fast = resource.get(session, str(row["id"]))
            assert to_json(fast) == to_json(dict(row)), name
            locked = resource.get(session, str(row["id"]), lock=True)
            assert to_json(locked) == to_json(fast), name
