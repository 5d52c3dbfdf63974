"""The behaviour every resource shares, shown on chains and districts."""

from __future__ import annotations

from sqlalchemy import text

from tests.conftest import count_rows


def test_a_list_needs_a_token(api):
    response = api.get("/api/v1/chains", role=None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_a_viewer_reads_but_cannot_write(api, conn):
    assert api.get("/api/v1/chains").status_code == 200
    before = count_rows(conn, "chain")
    response = api.post(
        "/api/v1/chains", {"code": "x-chain", "name_zh": "某链", "tier": "key"}, role="viewer"
    )
    assert response.status_code == 403
    assert count_rows(conn, "chain") == before


def test_create_read_update_delete_a_chain(api):
    created = api.post("/api/v1/chains", {"code": "hydrogen", "name_zh": "氢能", "tier": "key"})
    assert created.status_code == 201, created.get_json()
    location = created.headers["Location"]
    assert location.endswith(f"/api/v1/chains/{created.get_json()['id']}")
    by_code = api.get("/api/v1/chains/hydrogen")
    assert by_code.get_json()["name_zh"] == "氢能"
    etag = by_code.headers["ETag"]
    changed = api.patch(
        "/api/v1/chains/hydrogen", {"chief": "某副市长"}, headers={"If-Match": etag}
    )
    assert changed.status_code == 200 and changed.get_json()["chief"] == "某副市长"
    stale = api.patch("/api/v1/chains/hydrogen", {"chief": "别人"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert api.get("/api/v1/chains/hydrogen").get_json()["chief"] == "某副市长"
    assert api.delete("/api/v1/chains/hydrogen").status_code == 204
    assert api.get("/api/v1/chains/hydrogen").status_code == 404


def test_malformed_json_is_a_400_and_changes_nothing(api, conn):
    before = count_rows(conn, "chain")
    response = api.post(
        "/api/v1/chains", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["details"][0]["field"] == "body"
    assert count_rows(conn, "chain") == before


def test_wrong_media_type_is_a_415(api):
    response = api.post("/api/v1/chains", data="code=x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415


def test_wrong_types_name_each_field(api):
    response = api.post(
        "/api/v1/chains", {"code": "ok-code", "name_zh": 5, "tier": "keyx", "bogus": 1}
    )
    assert response.status_code == 422
    fields = {d["field"] for d in response.get_json()["error"]["details"]}
    assert fields == {"name_zh", "tier", "bogus"}


def test_an_unknown_reference_is_a_422_naming_it(api, conn):
    before = count_rows(conn, "chain")
    response = api.post(
        "/api/v1/chains", {"code": "h2", "name_zh": "氢", "tier": "key", "parent_id": "nope"}
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == [
        {"field": "parent_id", "message": "parent_id: no chain with code 'nope'"}
    ]
    assert count_rows(conn, "chain") == before


def test_a_duplicate_is_a_409(api):
    assert (
        api.post("/api/v1/chains", {"code": "dup", "name_zh": "重复", "tier": "key"}).status_code
        == 201
    )
    response = api.post("/api/v1/chains", {"code": "dup", "name_zh": "重复二", "tier": "key"})
    assert response.status_code == 409
    assert response.get_json()["error"]["details"][0]["field"] == "code"


def test_bulk_create_is_all_or_none(api, conn):
    before = count_rows(conn, "chain")
    response = api.post(
        "/api/v1/chains",
        [
            {"code": "aa", "name_zh": "甲", "tier": "key"},
            {"code": "bb", "name_zh": "乙", "tier": "bad"},
        ],
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["details"][0]["field"] == "[1].tier"
    assert count_rows(conn, "chain") == before
    ok = api.post(
        "/api/v1/chains",
        [
            {"code": "aa", "name_zh": "甲", "tier": "key"},
            {"code": "bb", "name_zh": "乙", "tier": "key"},
        ],
    )
    assert ok.status_code == 201 and len(ok.get_json()) == 2


def test_deleting_a_referenced_record_is_a_409_naming_the_referrers(api):
    parent = api.post(
        "/api/v1/chains", {"code": "parent", "name_zh": "父", "tier": "iconic"}
    ).get_json()
    api.post(
        "/api/v1/chains", {"code": "child", "name_zh": "子", "tier": "key", "parent_id": "parent"}
    )
    response = api.delete(f"/api/v1/chains/{parent['id']}")
    assert response.status_code == 409
    assert response.get_json()["error"]["details"] == [
        {"field": "chain", "message": "1 rows refer to it"}
    ]


def test_lists_filter_order_and_paginate(api):
    for n in range(5):
        api.post(
            "/api/v1/chains", {"code": f"c{n}", "name_zh": f"链{n}", "tier": "key", "sort_order": n}
        )
    page = api.get("/api/v1/chains?tier=key&ordering=-sort_order&limit=2").get_json()
    assert page["count"] == 5
    assert [c["code"] for c in page["results"]] == ["c4", "c3"]
    second = api.get(page["next"].replace("http://localhost", "")).get_json()
    assert [c["code"] for c in second["results"]] == ["c2", "c1"]
    assert api.get("/api/v1/chains?code__in=c1,c3").get_json()["count"] == 2
    assert api.get("/api/v1/chains?tier=key&code__not=c1").get_json()["count"] == 4
    assert api.get("/api/v1/chains?name_zh__contains=链").get_json()["count"] == 5


def test_bad_list_parameters_are_422(api):
    assert api.get("/api/v1/chains?limit=0").status_code == 422
    assert api.get("/api/v1/chains?limit=1001").status_code == 422
    assert api.get("/api/v1/chains?ordering=bogus").status_code == 422
    assert api.get("/api/v1/chains?nope=1").status_code == 422
    assert api.get("/api/v1/chains?tier=bogus").status_code == 422


def test_request_id_is_echoed_or_made(api):
    assert (
        api.get("/api/v1/chains", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"]
        == "abc-123"
    )
    assert len(api.get("/api/v1/chains").headers["X-Request-ID"]) == 32


def test_districts_are_addressed_by_code(api):
    api.post(
        "/api/v1/districts",
        {"code": "370102", "is_official_code": True, "name_zh": "历下区", "kind": "district"},
    )
    assert api.get("/api/v1/districts/370102").get_json()["name_zh"] == "历下区"


def test_the_openapi_document_is_valid(api):
    from openapi_spec_validator import validate

    response = api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    validate(response.get_json())


def test_a_list_page_costs_the_same_queries_whatever_its_length(api, conn):
    from sqlalchemy import event

    for n in range(60):
        api.post("/api/v1/chains", {"code": f"q{n}", "name_zh": f"查询链{n}", "tier": "key"})
    statements: list[str] = []

    def count(conn_, cursor, statement, *args):
        statements.append(statement)

    api.get("/api/v1/chains?limit=1")  # the token's first use stamps last_used_at: not a list cost
    event.listen(conn, "before_cursor_execute", count)
    try:
        costs = {}
        for limit in (1, 10, 60):
            statements.clear()
            page = api.get(f"/api/v1/chains?tier=key&limit={limit}").get_json()
            assert len(page["results"]) == limit
            costs[limit] = len(statements)
    finally:
        event.remove(conn, "before_cursor_execute", count)
    assert costs[1] == costs[10] == costs[60], costs


def test_the_docs_page_is_served_offline_and_the_document_needs_a_token(api):
    import re

    page = api.get("/api/v1/docs", role=None)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html  # nothing fetched from elsewhere
    for asset in re.findall(r'(?:src|href)="(/[^"]+\.(?:js|css))"', html):
        response = api.get(asset, role=None)
        response.close()  # static files are streamed
        assert response.status_code == 200, asset
    assert api.get("/api/v1/openapi.json", role=None).status_code == 401


def test_a_write_tells_the_database_its_actor_once_however_many_apps_exist(api, conn):
    from sqlalchemy import event

    from chaindb import create_app

    create_app(
        {"TESTING": True, "ENGINE": conn}, settings=api.client.application.config["SETTINGS"]
    )
    api.get("/api/v1/chains?limit=1")  # the token's first use is not part of the count
    statements: list[str] = []

    def record(conn_, cursor, statement, *args):
        statements.append(statement)

    import importlib

    module = importlib.import_module("chaindb.db")
    run_sql = module.run_sql

    def record_driver(connection, sql, params, **kwargs):  # what skips SQLAlchemy's events
        statements.append(sql)
        return run_sql(connection, sql, params, **kwargs)

    event.listen(conn, "before_cursor_execute", record)
    module.run_sql = record_driver
    try:
        assert (
            api.post(
                "/api/v1/chains", {"code": "once", "name_zh": "一次", "tier": "key"}
            ).status_code
            == 201
        )
    finally:
        event.remove(conn, "before_cursor_execute", record)
        module.run_sql = run_sql
    # Once per transaction, however many apps: when the token is looked up (its principal not
    # yet known), and again once it is (the tests cache no token).
    assert sum("chaindb.actor" in s for s in statements) == 2, statements
    actor = conn.execute(
        text(
            "SELECT actor FROM change_log WHERE table_name = 'chain' AND action = 'insert' "
            "AND after ->> 'code' = 'once'"
        )
    ).scalar_one()
    assert actor == "test-editor"


def test_a_segment_says_whether_it_is_the_general_structure_or_confirmed(api, conn):
    """A segment entered through the API is the office's (confirmed) unless it says general; a
    basis outside the two is refused, naming the field; the list filters on it."""
    api.post("/api/v1/chains", {"code": "basis-chain", "name_zh": "依据链", "tier": "key"})
    typed = api.post("/api/v1/segments", {"chain_id": "basis-chain", "code": "a", "name_zh": "甲",
                                          "position": "upstream"})  # fmt: skip
    assert typed.status_code == 201, typed.get_json()
    assert typed.get_json()["basis"] == "confirmed"
    general = api.post("/api/v1/segments", {"chain_id": "basis-chain", "code": "b", "name_zh": "乙",
                                            "position": "upstream", "basis": "general"})  # fmt: skip
    assert general.get_json()["basis"] == "general"
    before = count_rows(conn, "chain_segment")
    refused = api.post("/api/v1/segments", {"chain_id": "basis-chain", "code": "c",
                                            "name_zh": "丙", "position": "upstream",
                                            "basis": "guessed"})  # fmt: skip
    assert refused.status_code == 422
    assert [d["field"] for d in refused.get_json()["error"]["details"]] == ["basis"]
    assert count_rows(conn, "chain_segment") == before
    listed = api.get("/api/v1/segments?basis=general").get_json()
    assert [row["code"] for row in listed["results"]] == ["b"]
