"""The change log: what a write through the API leaves in it, and GET /api/v1/changes."""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy import text

from tests.conftest import count_rows

BASE = "/api/v1/changes"


def logged(conn, request_id: str) -> list[dict]:
    """The change rows of one request, straight from the table."""
    return [
        dict(r)
        for r in conn.execute(
            text("SELECT * FROM change_log WHERE request_id = :r ORDER BY id"), {"r": request_id}
        ).mappings()
    ]


def page(api, role: str = "viewer", **params) -> dict:
    response = api.get(f"{BASE}?{urlencode(params)}", role=role)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_write_leaves_exactly_its_changes_with_actor_and_request_id(api, conn):
    created = api.post(
        "/api/v1/chains",
        {"code": "hydrogen", "name_zh": "氢能", "tier": "key"},
        headers={"X-Request-ID": "chg-create-1"},
    )
    assert created.status_code == 201
    assert created.headers["X-Request-ID"] == "chg-create-1"
    chain_id = created.get_json()["id"]
    [insert] = logged(conn, "chg-create-1")
    assert insert["table_name"] == "chain" and insert["record_id"] == chain_id
    assert insert["action"] == "insert" and insert["before"] is None
    assert insert["after"]["code"] == "hydrogen" and insert["after"]["name_zh"] == "氢能"
    assert insert["actor"] == "test-editor"
    # The API shows the same row.
    shown = page(api, request_id="chg-create-1")["results"]
    assert [c["id"] for c in shown] == [insert["id"]]
    assert shown[0]["after"] == insert["after"] and shown[0]["actor"] == "test-editor"

    changed = api.patch(
        "/api/v1/chains/hydrogen", {"chief": "某副市长"}, headers={"X-Request-ID": "chg-update-1"}
    )
    assert changed.status_code == 200
    [update] = logged(conn, "chg-update-1")
    assert update["action"] == "update" and update["record_id"] == chain_id
    assert update["before"]["chief"] is None and update["after"]["chief"] == "某副市长"
    assert {k for k in update["after"] if update["after"][k] != update["before"][k]} <= {
        "chief",
        "updated_at",
    }
    assert update["actor"] == "test-editor"

    # A write that changes nothing leaves nothing; a refused one neither.
    same = api.patch(
        "/api/v1/chains/hydrogen", {"chief": "某副市长"}, headers={"X-Request-ID": "chg-same-1"}
    )
    assert same.status_code == 200 and logged(conn, "chg-same-1") == []
    refused = api.post(
        "/api/v1/chains",
        {"code": "hydrogen", "name_zh": "又一个", "tier": "key"},
        headers={"X-Request-ID": "chg-refused-1"},
    )
    assert refused.status_code == 409 and logged(conn, "chg-refused-1") == []

    deleted = api.delete("/api/v1/chains/hydrogen", headers={"X-Request-ID": "chg-delete-1"})
    assert deleted.status_code == 204
    [delete] = logged(conn, "chg-delete-1")
    assert delete["action"] == "delete" and delete["after"] is None
    assert delete["before"]["code"] == "hydrogen" and delete["before"]["chief"] == "某副市长"
    assert delete["actor"] == "test-editor"

    history = page(api, table_name="chain", record_id=chain_id)["results"]
    assert [c["action"] for c in history] == ["delete", "update", "insert"]  # newest first


def test_a_bulk_write_is_one_request_and_one_transaction(api, conn):
    response = api.post(
        "/api/v1/chains",
        [{"code": f"bulk-{n}", "name_zh": f"链{n}", "tier": "key"} for n in range(3)],
        role="admin",
        headers={"X-Request-ID": "chg-bulk-1"},
    )
    assert response.status_code == 201
    rows = logged(conn, "chg-bulk-1")
    assert [(r["action"], r["after"]["code"]) for r in rows] == [
        ("insert", "bulk-0"),
        ("insert", "bulk-1"),
        ("insert", "bulk-2"),
    ]
    assert {r["actor"] for r in rows} == {"test-admin"}
    assert len({r["transaction_id"] for r in rows}) == 1


def test_secrets_never_enter_the_log(api, conn):
    password = "correct horse battery staple"
    made = api.post(
        "/api/v1/users",
        {"username": "secretive", "role": "editor", "password": password},
        role="admin",
        headers={"X-Request-ID": "chg-user-1"},
    )
    assert made.status_code == 201, made.get_json()
    user_id = made.get_json()["id"]
    token = api.post(
        f"/api/v1/users/{user_id}/tokens",
        {"name": "ci"},
        role="admin",
        headers={"X-Request-ID": "chg-token-1"},
    )
    assert token.status_code == 201
    plain = token.get_json()["token"]
    new_password = "another long password"
    changed = api.patch(
        f"/api/v1/users/{user_id}",
        {"password": new_password},
        role="admin",
        headers={"X-Request-ID": "chg-password-1"},
    )
    assert changed.status_code == 200
    revoked = api.post(f"/api/v1/tokens/{token.get_json()['id']}/revoke", role="admin")
    assert revoked.status_code == 200
    # The writes are logged ...
    [user_insert] = logged(conn, "chg-user-1")
    assert user_insert["table_name"] == "app_user"
    assert user_insert["after"]["username"] == "secretive"
    [token_insert] = logged(conn, "chg-token-1")
    assert token_insert["table_name"] == "api_token"
    assert token_insert["after"]["token_prefix"] == plain[:12]
    [password_change] = logged(conn, "chg-password-1")
    assert password_change["action"] == "update"
    # ... but no secret, hashed or not, is anywhere in them.
    secrets = [
        password,
        new_password,
        plain,
        *conn.execute(text("SELECT password_hash FROM app_user WHERE password_hash IS NOT NULL"))
        .scalars()
        .all(),
        *conn.execute(text("SELECT token_hash FROM api_token")).scalars().all(),
    ]
    assert len(secrets) >= 3 + 1 + 4  # the user's hash, the tokens of the fixture and the new one
    for column in ("before", "after"):
        keys = conn.execute(
            text(
                f"SELECT count(*) FROM change_log WHERE {column} ? 'password_hash' "
                f"OR {column} ? 'token_hash'"
            )
        ).scalar_one()
        assert keys == 0
    for secret in secrets:
        found = conn.execute(
            text(
                "SELECT count(*) FROM change_log "
                "WHERE strpos(coalesce(before::text, '') || coalesce(after::text, ''), :s) > 0"
            ),
            {"s": secret},
        ).scalar_one()
        assert found == 0, "a secret is in the change log"
    listed = api.get(f"{BASE}?table_name__in=app_user,api_token&limit=1000", role="admin")
    assert listed.status_code == 200 and len(listed.get_json()["results"]) >= 4
    body = listed.get_data(as_text=True)
    assert "password_hash" not in body and "token_hash" not in body
    assert not any(secret in body for secret in secrets)


def test_users_and_tokens_changes_are_for_admins_only(api, conn):
    made = api.post(
        "/api/v1/users", {"username": "someone", "role": "viewer"}, role="admin"
    ).get_json()
    admin_view = page(api, role="admin", table_name="app_user", record_id=made["id"])["results"]
    assert len(admin_view) == 1
    for role in ("viewer", "editor"):
        assert page(api, role=role, table_name="app_user")["results"] == []
        assert page(api, role=role, table_name__in="api_token,app_user")["results"] == []
        assert api.get(f"{BASE}/{admin_view[0]['id']}", role=role).status_code == 404
    assert api.get(f"{BASE}/{admin_view[0]['id']}", role="admin").get_json() == admin_view[0]


def test_the_list_filters_and_pages_by_id(api, conn):
    for n in range(5):
        made = api.post(
            "/api/v1/chains",
            {"code": f"page-{n}", "name_zh": f"链{n}", "tier": "key"},
            headers={"X-Request-ID": f"chg-page-{n}"},
        )
        assert made.status_code == 201
    api.patch("/api/v1/chains/page-0", {"chief": "甲"}, role="admin")
    everything = page(api, table_name="chain", limit=1000)
    assert everything["count"] is None and everything["next"] is None
    ids = [c["id"] for c in everything["results"]]
    assert len(ids) == 6 and ids == sorted(ids, reverse=True)  # newest first

    first = page(api, table_name="chain", limit=4)
    assert [c["id"] for c in first["results"]] == ids[:4]
    assert first["next"] and "before=" in first["next"]
    second = api.get(first["next"].replace("http://localhost", "")).get_json()
    assert [c["id"] for c in second["results"]] == ids[4:] and second["next"] is None

    forward = page(api, table_name="chain", after=ids[-1], limit=3)  # oldest first
    assert [c["id"] for c in forward["results"]] == list(reversed(ids))[1:4]
    rest = api.get(forward["next"].replace("http://localhost", "")).get_json()
    assert [c["id"] for c in rest["results"]] == list(reversed(ids))[4:]
    assert page(api, table_name="chain", after=ids[0])["results"] == []

    assert [c["action"] for c in page(api, table_name="chain", action="update")["results"]] == [
        "update"
    ]
    assert len(page(api, table_name="chain", action="insert")["results"]) == 5
    assert len(page(api, actor="test-editor", table_name="chain")["results"]) == 5
    assert len(page(api, actor="test-admin", table_name="chain")["results"]) == 1
    assert len(page(api, actor__contains="TEST-", table_name="chain")["results"]) == 6
    assert len(page(api, request_id__in="chg-page-1,chg-page-3")["results"]) == 2
    record = everything["results"][-1]
    assert [
        c["id"] for c in page(api, record_id=record["record_id"], table_name="chain")["results"]
    ] == [ids[0], ids[-1]]
    tx = record["transaction_id"]
    assert all(c["transaction_id"] == tx for c in page(api, transaction_id=tx)["results"])
    assert page(api, transaction_id=tx + 1_000_000)["results"] == []

    middle = next(c for c in everything["results"] if c["request_id"] == "chg-page-2")
    since = page(api, table_name="chain", occurred_at__gte=middle["occurred_at"])["results"]
    assert [c["id"] for c in since] == [i for i in ids if i >= middle["id"]]
    until = page(api, table_name="chain", occurred_at__lte=middle["occurred_at"])["results"]
    assert [c["id"] for c in until] == [i for i in ids if i <= middle["id"]]


def test_bad_list_parameters_are_422(api):
    for query in (
        "before=abc",
        "after=-1",
        "before=0",
        "before=5&after=2",
        "limit=0",
        "limit=1001",
        "offset=10",
        "ordering=id",
        "cursor=abc",
        "q=chain",
        "action=upsert",
        "record_id=x",
        "occurred_at__gte=yesterday",
        "nope=1",
    ):
        response = api.get(f"{BASE}?{query}")
        assert response.status_code == 422, (query, response.get_json())
        assert response.get_json()["error"]["details"], query
    assert api.get(f"{BASE}/abc").status_code == 404
    assert api.get(f"{BASE}/999999999").status_code == 404


def test_the_log_is_read_only_and_needs_a_token(api, conn):
    before = count_rows(conn, "change_log")
    assert api.get(BASE, role=None).status_code == 401
    assert api.post(BASE, {"table_name": "chain"}, role="viewer").status_code == 403
    for method in (api.post, api.put, api.patch):
        path = BASE if method is api.post else f"{BASE}/1"
        response = method(path, {"table_name": "chain"}, role="admin")
        assert response.status_code == 405, response.get_json()
        assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert api.delete(f"{BASE}/1", role="admin").status_code == 405
    assert count_rows(conn, "change_log") == before
