"""The two one-statement writes answered in front of Flask (chaindb.api.fast, OneStatementWrite)
answer as Flask does, and leave to Flask every request they do not make.

A supply link through the chain-master workflow and a stage move, each sent through Flask (the
fast path off) and through the fast path, on an app with its own pools and a token cache, on a
committed database: the answers compared header by header (a link's id, ETag and Location
differ by the row, so those are compared in form); the refusals, the other media types, bodies
and roles answered by Flask, with the body as it came.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from chaindb import create_app
from chaindb.api.fast import FastReads
from chaindb.api.responses import etag_of
from chaindb.config import Settings
from chaindb.db import db, make_engine
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
        chain_office = _unit(conn, "fw-chain", "chain_office", chain_id=c1)
        ids = {
            "c1": c1,
            "c2": c2,
            "master": f.chain_master(conn, c1),
            "master2": f.chain_master(conn, c2),
            "supplier": f.enterprise(conn, district_id=d1),
            "elsewhere": f.enterprise(conn, district_id=d2),
        }
        ids["projects"] = [f.project(conn, c1, d1, stage="negotiating") for _ in range(4)]
    headers = bearer_tokens(
        engine,
        [
            ("city", "city", "editor"),
            ("chain", chain_office, "editor"),
            ("viewer", "city", "viewer"),
        ],
    )
    settings = Settings(
        env="test",
        database_url=scratch,
        secret_key="s" * 40,
        db_pool_size=1,
        token_cache_seconds=600,
        confirm_link_above_cny_10k=Decimal(1000),
    )
    app = create_app({"TESTING": True, "SQLALCHEMY_URL": scratch}, settings=settings)
    client = app.test_client()
    for who in headers:  # each token trusted once by the gate: the fast path takes no other
        assert client.get("/api/v1/chains", headers=headers[who]).status_code == 200
    try:
        yield Place(app, engine, headers, ids)
    finally:
        db.dispose(app)
        engine.dispose()


def _fast(app) -> FastReads:
    return app.wsgi_app


def _post(place: Place, path: str, who: str | None, *, fast: bool, json=None, **kwargs):
    """The answer through the fast path (or Flask), and whether the fast path made it."""
    app = place.app
    headers = {**(place.headers[who] if who else {}), **kwargs.pop("headers", {})}
    app.config["API_FAST_READS"] = fast
    try:
        before = _fast(app).served
        response = app.test_client().post(path, json=json, headers=headers, **kwargs)
        return response, _fast(app).served > before
    finally:
        app.config["API_FAST_READS"] = True


def _link_path(place: Place, master: str = "master") -> str:
    return f"/api/v1/chain-masters/{place.ids[master]}/suppliers"


def _same_form(by_flask, by_fast) -> None:
    """The same answer but for what the new row makes its own (id, times, ETag, Location)."""
    assert by_fast.status_code == by_flask.status_code
    assert list(by_fast.headers.keys()) == list(by_flask.headers.keys())
    for name in ("Content-Type",):
        assert by_fast.headers[name] == by_flask.headers[name]
    for response in (by_flask, by_fast):
        assert response.headers["ETag"] == etag_of(response.get_data())
        assert int(response.headers["Content-Length"]) == len(response.get_data())
    flask_body, fast_body = by_flask.get_json(), by_fast.get_json()
    assert list(fast_body) == list(flask_body)
    mine = {"id", "created_at", "updated_at", "product"}
    assert {k: v for k, v in fast_body.items() if k not in mine} == {
        k: v for k, v in flask_body.items() if k not in mine
    }


def test_a_link_is_made_in_front_of_flask_as_flask_makes_it(place):
    body = {"chain": place.ids["c1"], "supplier": place.ids["supplier"], "since": "2026-01-02"}
    by_flask, fast = _post(place, _link_path(place), "city", fast=False,
                           json={**body, "product": "甲"})  # fmt: skip
    assert by_flask.status_code == 201 and not fast, by_flask.get_json()
    by_fast, fast = _post(
        place,
        _link_path(place),
        "city",
        fast=True,
        json={**body, "product": "乙", "annual_value_cny_10k": ""},  # blank is no value
        headers={"X-Request-ID": "link-1"},
    )
    assert fast and by_fast.status_code == 201, by_fast.get_json()
    _same_form(by_flask, by_fast)
    link = by_fast.get_json()
    assert link["product"] == "乙" and link["annual_value_cny_10k"] is None
    assert by_flask.headers["Location"] == f"/api/v1/supply-links/{by_flask.get_json()['id']}"
    assert by_fast.headers["Location"] == f"/api/v1/supply-links/{link['id']}"
    assert by_fast.headers["X-Request-ID"] == "link-1"
    assert re.fullmatch(r"[0-9a-f]{32}", by_flask.headers["X-Request-ID"])
    with place.engine.connect() as conn:
        logged = conn.execute(
            text(
                "SELECT actor, request_id FROM change_log "
                "WHERE table_name = 'supply_link' AND record_id = :id"
            ),
            {"id": link["id"]},
        ).one()
    assert logged == ("city", "link-1")
    # The record reads back as it was answered.
    read = place.app.test_client().get(by_fast.headers["Location"], headers=place.headers["city"])
    assert read.get_json() == link and read.headers["ETag"] == by_fast.headers["ETag"]


def _count_links(place: Place) -> int:
    with place.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM supply_link")).scalar_one()


def test_what_the_fast_path_does_not_make_is_answered_by_flask(place):
    """Each case, sent through Flask and then through the fast path: the same answer, made by
    Flask both times, and nothing written."""
    path = _link_path(place)
    base = {"chain": place.ids["c1"], "supplier": place.ids["supplier"], "product": "丙"}
    made, fast = _post(place, path, "city", fast=True, json=base)
    assert made.status_code == 201 and fast
    cases = [
        # The twin of the link just made: the database refuses it, Flask words it.
        ("city", {"json": base}, 409),
        # A value above the app's own limit to confirm (1,000 万元 here), not confirmed.
        ("city", {"json": {**base, "product": "丁", "annual_value_cny_10k": 5000}}, 422),
        # Unknown names, wrong types, a missing field, a supplier that cannot be one.
        ("city", {"json": {**base, "product": "戊", "supplier": 10**12}}, 422),
        ("city", {"json": {**base, "product": "戊", "supplier": "91370100MA3C4XYZ9X"}}, 422),
        ("city", {"json": {**base, "product": "戊", "chain": "no-such-chain"}}, 422),
        ("city", {"json": {**base, "product": ["戊"]}}, 422),
        ("city", {"json": {"chain": place.ids["c1"]}}, 422),
        ("city", {"json": {**base, "product": "戊", "supplier": place.ids["master"]}}, 422),
        # Not JSON, JSON of another shape, another media type, no body.
        ("city", {"data": b'{"chain": ', "content_type": "application/json"}, 400),
        ("city", {"data": b"[1, 2]", "content_type": "application/json"}, 422),
        ("city", {"data": b"chain=1", "content_type": "application/x-www-form-urlencoded"}, 415),
        ("city", {}, 422),
        # A viewer may not write; no token; a chain office outside its chains.
        ("viewer", {"json": {**base, "product": "己"}}, 403),
        (None, {"json": {**base, "product": "己"}}, 401),
        ("chain", {"json": {**base, "product": "己", "chain": place.ids["c2"]}}, 422),
    ]
    for who, kwargs, status in cases:
        before = _count_links(place)
        by_flask, fast = _post(place, path, who, fast=False, **kwargs)
        assert by_flask.status_code == status, (who, kwargs, by_flask.get_json())
        by_fast, fast = _post(place, path, who, fast=True, **kwargs)
        assert not fast, (who, kwargs)
        assert by_fast.status_code == status and by_fast.get_json() == by_flask.get_json()
        assert _count_links(place) == before, (who, kwargs)
    # A chain office outside its chains is refused by the row-level policy (the chain master
    # of c2 buys in c2, which is not the office's).
    outside, fast = _post(
        place,
        _link_path(place, "master2"),
        "chain",
        fast=True,
        json={"chain": place.ids["c2"], "supplier": place.ids["elsewhere"], "product": "庚"},
    )
    assert outside.status_code == 403 and not fast, outside.get_json()
    # Confirmed, the large value is made in front of Flask.
    confirmed, fast = _post(
        place,
        path,
        "city",
        fast=True,
        json={**base, "product": "丁", "annual_value_cny_10k": 5000,
              "confirm": ["large_amount"]},
    )  # fmt: skip
    assert confirmed.status_code == 201 and fast, confirmed.get_json()
    # The Chinese of a refusal, as the client asked for it.
    twin, fast = _post(place, path, "city", fast=True, json=base,
                       headers={"Accept-Language": "zh-CN"})  # fmt: skip
    assert twin.status_code == 409 and not fast
    assert re.search(r"[\u4e00-\u9fff]", twin.get_json()["error"]["message"])


def test_a_stage_move_is_made_in_front_of_flask_as_flask_makes_it(place):
    first, second, third, _ = place.ids["projects"]
    move = {"stage": "signed", "date": "2026-02-03"}
    by_flask, fast = _post(place, f"/api/v1/projects/{first}/stage", "city", fast=False,
                           json=move)  # fmt: skip
    assert by_flask.status_code == 200 and not fast, by_flask.get_json()
    by_fast, fast = _post(place, f"/api/v1/projects/{second}/stage", "city", fast=True,
                          json=move)  # fmt: skip
    assert by_fast.status_code == 200 and fast, by_fast.get_json()
    assert list(by_fast.headers.keys()) == list(by_flask.headers.keys())
    assert by_fast.headers["ETag"] == etag_of(by_fast.get_data())
    flask_body, fast_body = by_flask.get_json(), by_fast.get_json()
    assert list(fast_body) == list(flask_body)
    assert fast_body["stage"] == "signed" and fast_body["signed_on"] == "2026-02-03"
    read = place.app.test_client().get(f"/api/v1/projects/{second}", headers=place.headers["city"])
    assert read.get_json() == fast_body and read.headers["ETag"] == by_fast.headers["ETag"]
    # Refused moves, If-Match, a project not there: Flask, and the same answer both ways.
    cases = [
        (second, {"json": move}, 409),  # already signed
        (second, {"json": {"stage": "negotiating", "date": "2026-02-04"}}, 422),  # no reason
        (third, {"json": move, "headers": {"If-Match": '"nope"'}}, 412),
        (999_999_999, {"json": move}, 404),
        (third, {"json": {"stage": "nowhere", "date": "2026-02-04"}}, 422),
    ]
    for project, kwargs, status in cases:
        for fast_on in (False, True):
            response, fast = _post(place, f"/api/v1/projects/{project}/stage", "city",
                                   fast=fast_on, **kwargs)  # fmt: skip
            assert response.status_code == status and not fast, (project, kwargs)
    # With a matching If-Match the move is made, by Flask (it reads the project first).
    tag = (
        place.app.test_client()
        .get(f"/api/v1/projects/{third}", headers=place.headers["city"])
        .headers["ETag"]
    )
    matched, fast = _post(place, f"/api/v1/projects/{third}/stage", "city", fast=True,
                          json=move, headers={"If-Match": tag})  # fmt: skip
    assert matched.status_code == 200 and not fast, matched.get_json()
    # The viewer may not move.
    refused, fast = _post(place, f"/api/v1/projects/{third}/stage", "viewer", fast=True,
                          json={"stage": "under_construction", "date": "2026-02-05"})  # fmt: skip
    assert refused.status_code == 403 and not fast


def test_a_link_after_the_database_dropped_every_connection(place):
    """The server ended every connection of the app (a restart, a failover): the next link is
    made once, on a new connection, and answered 201."""
    with place.engine.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        conn.commit()
    body = {"chain": place.ids["c1"], "supplier": place.ids["supplier"], "product": "重启之后"}
    response, _ = _post(place, _link_path(place), "city", fast=True, json=body)
    assert response.status_code == 201, response.get_json()
    with place.engine.connect() as conn:
        made = conn.execute(
            text("SELECT count(*) FROM supply_link WHERE product = '重启之后'")
        ).scalar_one()
    assert made == 1
