"""Reads by id answered in front of Flask (chaindb.api.fast) answer exactly as Flask does.

Each request is sent twice, through Flask (API_FAST_READS off) and through the fast path, and
the answers compared header by header; the fast path must have answered the requests it is
for, and left every other one to Flask (out of scope, unknown, a token not trusted a moment
ago, a query string, HEAD, a hook it does not know). An app with its own pools on a committed
database, and a token cache (the tests' shared app has none, so it never takes the fast path).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from sqlalchemy.exc import TimeoutError as TimeoutError_

from chaindb import create_app
from chaindb.api.fast import FastReads
from chaindb.api.resource import Resource
from chaindb.config import Settings
from chaindb.db import db, make_engine
from tests import factories_sql as f
from tests.conftest import _unit, bearer_tokens


@dataclass
class Place:
    app: object
    headers: dict[str, dict[str, str]]
    ids: dict[str, int]


@pytest.fixture(scope="module")
def place(scratch_database_module) -> Iterator[Place]:
    url = scratch_database_module
    engine = make_engine(url)
    with engine.begin() as conn:
        d1, d2 = f.district(conn), f.district(conn)
        c1, c2 = f.chain(conn), f.chain(conn)
        district_office = _unit(conn, "fast-district", "district_office", district_id=d1)
        chain_office = _unit(conn, "fast-chain", "chain_office", chain_id=c1)
        ids = {
            "own": f.project(
                conn,
                c2,
                d1,
                agreed_investment_cny_100m="12.50",
                stage="signed",
                signed_on="2026-03-01",
            ),
            "chain": f.project(conn, c1, d2),
            "other": f.project(conn, c2, d2, notes='引号 " 和 <b>标签</b>'),
            "enterprise": f.enterprise(conn),
        }
        ids["link"] = f.supply_link(
            conn, supplier_id=ids["enterprise"], buyer_id=f.chain_master(conn, c1), chain_id=c1
        )
    headers = bearer_tokens(
        engine,
        [
            ("city", "city", "viewer"),
            ("district", district_office, "editor"),
            ("chain", chain_office, "editor"),
            ("admin", "city", "admin"),
        ],
    )
    engine.dispose()
    settings = Settings(
        env="test", database_url=url, secret_key="s" * 40, db_pool_size=1, token_cache_seconds=600
    )
    app = create_app({"TESTING": True, "SQLALCHEMY_URL": url}, settings=settings)
    try:
        yield Place(app, headers, ids)
    finally:
        db.dispose(app)


def _fast(app) -> FastReads:
    return app.wsgi_app


def _both(place: Place, path: str, who: str | None, *, method="GET", **headers: str):
    """The answer through Flask, then through the fast path (each token trusted a moment
    ago: its first use went through the gate), and whether the fast path answered it."""
    app = place.app
    client = app.test_client()
    sent = {**(place.headers[who] if who else {}), **headers}
    app.config["API_FAST_READS"] = False
    try:
        client.get("/api/v1/chains", headers=place.headers.get(who, {}))  # the gate trusts it
        by_flask = client.open(path, method=method, headers=sent)
    finally:
        app.config["API_FAST_READS"] = True
    before = _fast(app).served
    by_fast = client.open(path, method=method, headers=sent)
    return by_flask, by_fast, _fast(app).served > before


def _same(by_flask, by_fast, *, request_id_given: bool = False) -> None:
    assert by_fast.status_code == by_flask.status_code
    assert by_fast.get_data() == by_flask.get_data()
    flask_headers, fast_headers = dict(by_flask.headers), dict(by_fast.headers)
    if not request_id_given:  # each made its own; both of the same form
        for found in (flask_headers, fast_headers):
            assert len(found.pop("X-Request-ID")) == 32
    assert fast_headers == flask_headers


def test_the_fast_path_serves_the_plain_resources_and_no_other():
    app = create_app({"TESTING": True, "SQLALCHEMY_URL": "postgresql+psycopg://unused/none"})
    routes = {resource.name for resource in _fast(app).routes.values()}
    assert {"projects", "enterprises", "supply-links", "chains", "targets"} <= routes
    # The users' and tokens' routes run an admin check of their own: through Flask.
    assert not routes & {"users", "tokens"}
    db.dispose(app)


def test_a_read_by_id_is_answered_as_flask_answers_it(place):
    for who, project in (("city", "other"), ("district", "own"), ("chain", "chain")):
        by_flask, by_fast, fast = _both(place, f"/api/v1/projects/{place.ids[project]}", who)
        assert by_flask.status_code == 200, by_flask.get_json()
        assert fast, (who, project)
        _same(by_flask, by_fast)
    body = by_fast.get_json()
    assert body["id"] == place.ids["chain"]
    by_flask, by_fast, fast = _both(place, f"/api/v1/projects/{place.ids['own']}", "city")
    assert fast and by_fast.get_json()["agreed_investment_cny_100m"] == "12.5000"
    _same(by_flask, by_fast)
    for path in (
        f"/api/v1/enterprises/{place.ids['enterprise']}",
        f"/api/v1/supply-links/{place.ids['link']}",
    ):
        by_flask, by_fast, fast = _both(place, path, "city")
        assert fast and by_flask.status_code == 200
        _same(by_flask, by_fast)


def test_the_request_id_and_if_none_match(place):
    path = f"/api/v1/projects/{place.ids['other']}"
    by_flask, by_fast, fast = _both(place, path, "city", **{"X-Request-ID": "abc-1.2_3"})
    assert fast and by_fast.headers["X-Request-ID"] == "abc-1.2_3"
    _same(by_flask, by_fast, request_id_given=True)
    tag = by_fast.headers["ETag"]
    by_flask, by_fast, fast = _both(place, path, "city", **{"If-None-Match": f'W/"x", {tag}'})
    assert fast and by_fast.status_code == 304 and by_fast.get_data() == b""
    _same(by_flask, by_fast)
    by_flask, by_fast, fast = _both(place, path, "city", **{"If-None-Match": '"other"'})
    assert fast and by_fast.status_code == 200
    _same(by_flask, by_fast)
    # A request id that is not one of ours is replaced, as Flask replaces it.
    by_flask, by_fast, fast = _both(place, path, "city", **{"X-Request-ID": "bad id!"})
    assert fast
    _same(by_flask, by_fast)


def test_what_it_cannot_answer_goes_to_flask(place):
    ids = place.ids
    cases = [
        # Out of the unit's scope, or not there: Flask says so in the API's words.
        (f"/api/v1/projects/{ids['other']}", "district", {}, 404),
        (f"/api/v1/projects/{ids['own']}", "chain", {}, 404),
        ("/api/v1/projects/999999999", "city", {}, 404),
        # A query string, a key that is not an id, a path of another shape.
        (f"/api/v1/projects/{ids['own']}?fields=id,name", "city", {}, 200),
        (f"/api/v1/projects/{ids['own']}?lang=en", "city", {}, 200),
        ("/api/v1/projects/12x", "city", {}, 404),
        (f"/api/v1/projects/{ids['own']}/", "city", {}, 404),
        (f"/api/v1/projects/{ids['own']}/history", "city", {}, 200),
        # No token, another scheme, a token never seen: the gate answers.
        (f"/api/v1/projects/{ids['own']}", None, {}, 401),
        (f"/api/v1/projects/{ids['own']}", None, {"Authorization": "Basic eDp5"}, 401),
        (f"/api/v1/projects/{ids['own']}", None, {"Authorization": "Bearer cdb_nope"}, 401),
        # Users and tokens: an admin's routes, with a hook of their own.
        ("/api/v1/users/1", "city", {}, 403),
    ]
    for path, who, extra, status in cases:
        by_flask, by_fast, fast = _both(place, path, who, **extra)
        assert by_flask.status_code == status, (path, by_flask.get_json())
        assert not fast, path
        _same(by_flask, by_fast)
    by_flask, by_fast, fast = _both(place, f"/api/v1/projects/{ids['own']}", "city", method="HEAD")
    assert not fast and by_fast.status_code == 200


def test_a_revoked_token_stops_at_the_gate_once_the_worker_forgets_it(place):
    app, client = place.app, place.app.test_client()
    admin = place.headers["admin"]
    user = client.post(
        "/api/v1/users", json={"username": f"short-{uuid.uuid4().hex[:6]}", "role": "viewer"},
        headers=admin,
    ).get_json()  # fmt: skip
    made = client.post(
        f"/api/v1/users/{user['id']}/tokens", json={"name": "short"}, headers=admin
    ).get_json()
    mine = {"Authorization": f"Bearer {made['token']}"}
    path = f"/api/v1/projects/{place.ids['other']}"
    assert client.get(path, headers=mine).status_code == 200  # through the gate: now trusted
    served = _fast(app).served
    assert client.get(path, headers=mine).status_code == 200
    assert _fast(app).served == served + 1
    # Revoked through the API: this worker forgets every token it trusted (as for Flask).
    assert client.delete(f"/api/v1/tokens/{made['id']}", headers=admin).status_code == 204
    refused = client.get(path, headers=mine)
    assert refused.status_code == 401 and _fast(app).served == served + 1


def test_the_database_s_policies_hold_on_the_fast_path(place, monkeypatch):
    """Even were the resource's own scope lost, the connection acts for the district office's
    unit, and row-level security hides the other planning unit's project."""
    projects = Resource.registry["projects"]
    monkeypatch.setattr(type(projects), "scope", lambda self: None)
    app, client = place.app, place.app.test_client()
    client.get("/api/v1/chains", headers=place.headers["district"])
    before = _fast(app).served
    found = client.get(f"/api/v1/projects/{place.ids['other']}", headers=place.headers["district"])
    assert found.status_code == 404
    assert client.get(
        f"/api/v1/projects/{place.ids['own']}", headers=place.headers["district"]
    ).status_code == 200  # fmt: skip
    assert _fast(app).served == before + 1  # the own project; the other one fell to Flask


@pytest.mark.parametrize(
    "failure",
    [
        psycopg.OperationalError("server closed the connection unexpectedly"),
        TimeoutError_("QueuePool limit of size 1 overflow 0 reached"),
    ],
)
def test_a_failure_on_the_fast_path_is_answered_by_flask(place, monkeypatch, failure):
    def broken(*args, **kwargs):
        raise failure

    monkeypatch.setattr(type(db), "read_pooled", staticmethod(broken))
    by_flask, by_fast, fast = _both(place, f"/api/v1/projects/{place.ids['other']}", "city")
    assert not fast and by_fast.status_code == 200
    _same(by_flask, by_fast)


def test_an_unknown_hook_keeps_the_fast_path_off(place):
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_URL": place.app.config["SQLALCHEMY_URL"]},
        settings=place.app.config["SETTINGS"],
    )
    try:
        assert _fast(app).routes
        app.before_request(lambda: None)  # a hook that might answer, or refuse, a read
        assert FastReads(app, Resource.registry.values()).routes == {}
    finally:
        db.dispose(app)


def test_the_pool_gets_its_connections_back(place):
    app = place.app
    for _ in range(5):
        _both(place, f"/api/v1/projects/{place.ids['other']}", "city")
    assert app.extensions["chaindb.db"]["read_engine"].pool.checkedout() == 0


# --- lists ---------------------------------------------------------------------------------------


def test_the_fast_path_serves_the_generic_lists_and_no_other():
    app = create_app({"TESTING": True, "SQLALCHEMY_URL": "postgresql+psycopg://unused/none"})
    lists = set(_fast(app).lists)
    assert {"/api/v1/projects", "/api/v1/enterprises", "/api/v1/supply-links"} <= lists
    assert not lists & {"/api/v1/users", "/api/v1/tokens"}
    db.dispose(app)


def test_a_list_is_answered_as_flask_answers_it(place):
    ids = place.ids
    paths = [
        "/api/v1/projects",
        "/api/v1/projects?limit=1",
        "/api/v1/projects?limit=1&offset=1",  # both links, the page's own URL in them
        "/api/v1/projects?limit=1&offset=2&ordering=-id",
        "/api/v1/projects?fields=id,name,stage&ordering=name",
        "/api/v1/projects?stage=signed",
        "/api/v1/projects?stage__in=signed,negotiating&agreed_investment_cny_100m__gte=1",
        "/api/v1/projects?is_key=false&limit=1&ordering=-agreed_investment_cny_100m",
        "/api/v1/projects?limit=1&cursor=",  # keyset
        "/api/v1/projects?q=%E6%B5%8B%E8%AF%95",  # a search, in Chinese
        "/api/v1/projects?format=json&layout=raw",
        "/api/v1/supply-links",
        "/api/v1/enterprises?limit=2",
        "/api/v1/chains?fields=id,code",
    ]
    for who in ("city", "district", "chain"):
        for path in paths:
            by_flask, by_fast, fast = _both(place, path, who)
            assert by_flask.status_code == 200, (who, path, by_flask.get_json())
            assert fast, (who, path)
            _same(by_flask, by_fast)
    # Each office its own rows: the district office sees its project, not the other's.
    _, by_fast, _ = _both(place, "/api/v1/projects", "district")
    assert {row["id"] for row in by_fast.get_json()["results"]} == {ids["own"]}
    # The links name the host and scheme the client used.
    _, by_fast, fast = _both(place, "/api/v1/projects?limit=1", "city", Host="chaindb.example:8443")
    assert fast and by_fast.get_json()["next"].startswith(
        "http://chaindb.example:8443/api/v1/projects?"
    )


def test_what_a_list_leaves_to_flask(place):
    refused = [
        "/api/v1/projects?limit=0",
        "/api/v1/projects?limit=abc",
        "/api/v1/projects?nope=1",  # an unknown filter
        "/api/v1/projects?fields=nope",
        "/api/v1/projects?stage=nope",
        "/api/v1/projects?format=xml",
        "/api/v1/projects?layout=fancy",
    ]
    for path in refused:
        by_flask, by_fast, fast = _both(place, path, "city")
        assert 400 <= by_flask.status_code < 500, (path, by_flask.get_data()[:300])
        assert not fast, path
        _same(by_flask, by_fast)
    for path, who, status in (
        ("/api/v1/projects/", "city", 404),
        ("/api/v1/projects", None, 401),
        ("/api/v1/users", "city", 403),
    ):
        by_flask, by_fast, fast = _both(place, path, who)
        assert by_flask.status_code == status, (path, by_flask.get_data()[:300])
        assert not fast, path
        _same(by_flask, by_fast)
    # An export streams through Flask.
    app, client = place.app, place.app.test_client()
    before = _fast(app).served
    export = client.get("/api/v1/projects?format=csv", headers=place.headers["city"])
    assert export.status_code == 200 and export.get_data().startswith(b"\xef\xbb\xbf")
    assert _fast(app).served == before
    by_flask, by_fast, fast = _both(place, "/api/v1/projects", "city", method="HEAD")
    assert not fast and by_fast.status_code == 200


def test_a_failing_list_is_answered_by_flask_and_the_pool_is_whole(place, monkeypatch):
    projects = Resource.registry["projects"]
    real = type(projects).list_page
    calls = []

    def once_broken(self, session, args):
        calls.append(1)
        if len(calls) == 1:
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return real(self, session, args)

    monkeypatch.setattr(type(projects), "list_page", once_broken)
    app, client = place.app, place.app.test_client()
    client.get("/api/v1/chains", headers=place.headers["city"])
    before = _fast(app).served
    answer = client.get("/api/v1/projects", headers=place.headers["city"])
    assert answer.status_code == 200 and len(calls) == 2  # the fast path, then Flask
    assert _fast(app).served == before
    for _ in range(3):
        _both(place, "/api/v1/projects?limit=1", "city")
    assert app.extensions["chaindb.db"]["read_engine"].pool.checkedout() == 0
