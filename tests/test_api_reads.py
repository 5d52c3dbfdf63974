"""The API's fast read path gives exactly what the general one gives, for every resource.

A read by key runs its prebuilt statement on psycopg directly (fetch_prebuilt), a list through
SQLAlchemy; both are written by to_json. Here over the demo data plus rows chosen to be awkward:
times with and without microseconds, a session time zone other than UTC, decimals, arrays, JSON,
quotes, control characters, emoji.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date

import pytest
from flask import g
from sqlalchemy import Connection, Engine, text
from werkzeug.datastructures import MultiDict

from chaindb.access import Principal, Role, Scope, UnitKind
from chaindb.api.reads import as_dicts
from chaindb.api.resource import Resource
from chaindb.api.responses import to_json
from chaindb.db import db, make_engine
from chaindb.errors import Invalid
from tests.conftest import migrated_database


@pytest.fixture(scope="module")
def seeded_engine(admin_url: str) -> Iterator[Engine]:
    """A database of this module's with the reference and demo seeds (a copy of the seeded
    template: loading them into each test's transaction took 3.5 s a test)."""
    from chaindb.embedded import drop_database

    name = f"chaindb_scratch_{uuid.uuid4().hex[:10]}"
    engine = make_engine(migrated_database(admin_url, name, seeded=True))
    yield engine
    engine.dispose()
    drop_database(admin_url, name)


@pytest.fixture
def conn(seeded_engine: Engine) -> Iterator[Connection]:
    """As tests/conftest.py's, on the seeded database: the app, the session and the tokens of
    these tests are bound to it, and everything is rolled back when the test ends."""
    with seeded_engine.connect() as connection:
        outer = connection.begin()
        yield connection
        outer.rollback()


def city_principal(conn) -> Principal:
    city = conn.execute(text("SELECT id FROM unit WHERE kind = 'city'")).scalar_one()
    scope = Scope(unit_id=city, code="city", name="", kind=UnitKind.CITY)
    return Principal(user_id=0, username="test", role=Role.ADMIN, scope=scope)


@pytest.fixture
def data(conn):
    conn.exec_driver_sql("SELECT set_config('chaindb.actor', 'test', true)")
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


def test_an_awkward_row_survives_the_trip_byte_for_byte_in_meaning(api, data):
    row = data.execute(text("SELECT id, notes FROM project ORDER BY id LIMIT 1")).one()
    listed = api.get("/api/v1/projects?limit=1&ordering=id").get_json()["results"][0]
    read = api.get(f"/api/v1/projects/{row.id}").get_json()
    assert listed == read
    assert listed["notes"] == row.notes and "😀" in listed["notes"]
    assert listed["created_at"] == "2026-01-01T08:00:00Z"
    assert listed["agreed_investment_cny_100m"] == "0.0001"


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai"])
def test_reads_by_key_equal_the_general_query_for_every_resource(app, data, zone):
    data.execute(text(f"SET LOCAL TimeZone = '{zone}'"))
    with app.test_request_context("/api/v1/x"):
        g.principal = city_principal(data)  # a read to lock is a read to write: in its scope
        session = db.session
        for name, resource in sorted(Resource.registry.items()):
            first = session.execute(resource.select().order_by(resource.table.c.id).limit(1))
            row = first.mappings().first()
            if row is None:
                continue
            fast = resource.get(session, str(row["id"]))
            assert to_json(fast) == to_json(dict(row)), name
            if name == "changes":
                continue  # the change log is append-only: nobody locks a row of it to write
            locked = resource.get(session, str(row["id"]), lock=True)
            assert to_json(locked) == to_json(fast), name


LIST_ARGS = [
    {"limit": "1000"},
    {"limit": "3", "offset": "1", "ordering": "-id"},
    {"limit": "5", "id__gte": "1", "id__not": "2"},
]


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai"])
def test_lists_run_from_compiled_sql_equal_sqlalchemy_s(app, data, zone):
    """A list's SQL is compiled once per shape and rerun on psycopg with new values."""
    data.execute(text(f"SET LOCAL TimeZone = '{zone}'"))
    checked = 0
    with app.test_request_context("/api/v1/x"):
        for name, resource in sorted(Resource.registry.items()):
            for raw in LIST_ARGS:
                args = MultiDict(raw)
                if "id__gte" in raw and "id" not in resource.filter_types:
                    continue
                for _ in range(2):  # compiles, then reuses
                    page = resource.list_page(data, args)
                found = resource.filter_clauses(args) if "id" in resource.filter_types else None
                clauses = found.clauses if found else resource.where(args)
                expected = as_dicts(
                    data.execute(
                        resource._page(clauses, raw.get("ordering")),
                        {"page_limit": int(raw["limit"]), "page_offset": int(raw.get("offset", 0))},
                    )
                )
                assert to_json(page["results"]) == to_json(expected), (name, raw)
                checked += bool(expected)
    assert checked >= 8


def test_a_list_with_a_value_the_database_refuses_is_a_4xx(api):
    response = api.get("/api/v1/projects?chain_id=99999999999999999999")
    assert 400 <= response.status_code < 500, response.get_json()
    assert "chain_id" in str(response.get_json()) or response.get_json()["error"]["message"]


def test_lists_with_value_lists_and_searches_still_filter(api, data):
    chains = data.execute(text("SELECT id FROM chain ORDER BY id LIMIT 2")).scalars().all()
    both = api.get(f"/api/v1/projects?chain_id__in={chains[0]},{chains[1]}&limit=1000").get_json()
    one = api.get(f"/api/v1/projects?chain_id={chains[0]}&limit=1000").get_json()
    assert {p["chain_id"] for p in both["results"]} <= set(chains)
    assert one["count"] <= both["count"]
    name = one["results"][0]["name"] if one["results"] else "x"
    found = api.get(f"/api/v1/projects?q={name}&limit=1000").get_json()
    assert any(p["name"] == name for p in found["results"]) or not one["results"]
    other = api.get("/api/v1/projects?q=no-such-project-anywhere").get_json()
    assert other["count"] == 0


def test_a_read_answers_304_when_the_client_holds_the_current_etag(api, data):
    project_id = data.execute(text("SELECT min(id) FROM project")).scalar_one()
    first = api.get(f"/api/v1/projects/{project_id}")
    tag = first.headers["ETag"]
    assert first.status_code == 200 and tag.startswith('"')
    same = api.get(f"/api/v1/projects/{project_id}", headers={"If-None-Match": tag})
    assert same.status_code == 304 and same.headers["ETag"] == tag and same.data == b""
    other = api.get(f"/api/v1/projects/{project_id}", headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200 and other.get_json() == first.get_json()


def test_filters_are_checked_at_once_and_made_into_sql_only_when_asked(monkeypatch):
    """filter_clauses() reads and checks every value of the query string at once (a bad one is
    a 4xx there), and makes the SQL expressions only when .clauses is read: a list whose SQL
    was compiled before runs on the values alone."""
    from chaindb.api import query
    from chaindb.projects.api import projects

    args = MultiDict(
        {
            "chain_id": "3",
            "signed_on__gte": "2026-01-01",
            "parent_id__not": "12",
            "stage__in": "signed,in_production",
            "signed_on__isnull": "true",
            "name__contains": "50%_",
        }
    )
    made = []
    real = query.Later.__init__

    def counting(self, make):
        real(self, lambda: made.append(1) or make())

    monkeypatch.setattr(query.Later, "__init__", counting)
    found = projects.filter_clauses(args)
    assert made == []
    assert found.values == {"f0": 3, "f1": date(2026, 1, 1), "f2": 12, "f3": "%50\\%\\_%"}
    sql = [str(c.compile(compile_kwargs={"literal_binds": True})) for c in found.clauses]
    assert len(made) == 6
    assert sql == [
        "project.chain_id = 3",
        "project.signed_on >= '2026-01-01'",
        "project.parent_id IS DISTINCT FROM 12",
        "project.stage IN ('signed', 'in_production')",
        "project.signed_on IS NULL",
        "lower(project.name) LIKE lower('%50\\%\\_%')",
    ]
    assert found.clauses is found.clauses  # made once

    for bad in ({"signed_on__gte": "soon"}, {"stage__gte": "signed"}, {"is_key__contains": "x"}):
        with pytest.raises(Invalid) as refused:
            projects.filter_clauses(MultiDict(bad))
        assert refused.value.details[0]["field"].startswith(next(iter(bad)))


def test_to_json_writes_quoted_column_names_decimals_and_times_as_the_api_does():
    """orjson's fast path refuses a str subclass as a key (SQLAlchemy's quoted_name, for a
    column such as "group"); to_json writes it all the same, and the same bytes as a plain key."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from sqlalchemy.sql.elements import quoted_name

    when = datetime(2026, 12, 6, 8, 30, 1, 250000, tzinfo=UTC)
    row = {"id": 1, "amount": Decimal("12.50"), "at": when, "tags": ["a"], "none": None}
    quoted = {quoted_name("group", True): "g", **row}
    plain = {"group": "g", **row}
    assert to_json(quoted) == to_json(plain)
    assert to_json(plain) == (
        b'{"group":"g","id":1,"amount":"12.50","at":"2026-12-06T08:30:01.250000Z",'
        b'"tags":["a"],"none":null}'
    )
    with pytest.raises(TypeError):  # a 500 rather than a guess
        to_json({"x": object()})
