"""Who may do what: tokens (missing, malformed, unknown, expired, revoked, of a deactivated user),
roles, the users and tokens admin, secrets stored hashed, and the CLI's users and tokens."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.conftest import count_rows

TABLES = ("app_user", "api_token", "target", "chain", "change_log")
A_PASSWORD = "a long enough password"


def error_of(response) -> dict:
    return response.get_json()["error"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def someone(api) -> dict:
    """An editor made through the API, with a live token of its own."""
    user = api.post(
        "/api/v1/users", {"username": "someone", "role": "editor"}, role="admin"
    ).get_json()
    token = api.post(f"/api/v1/users/{user['id']}/tokens", {"name": "t"}, role="admin").get_json()
    assert api.get("/api/v1/me", role=None, headers=bearer(token["token"])).status_code == 200
    return {**user, "token": token["token"], "token_id": token["id"]}


# --- authentication ------------------------------------------------------------------------------


def test_no_token_is_401_with_www_authenticate(api):
    for path in ("/api/v1/targets", "/api/v1/changes", "/api/v1/me", "/api/v1/users"):
        response = api.get(path, role=None)
        assert response.status_code == 401, path
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="chaindb"'
        assert error_of(response)["code"] == "unauthorized"
        assert "Bearer" in error_of(response)["message"]


def test_a_malformed_authorization_is_401(api, tokens):
    viewer = tokens["viewer"]
    for header in (
        "Basic dGVzdDp0ZXN0",
        "Bearer",
        "Bearer    ",
        "bearer",
        "",
        f"Token {viewer}",
        viewer,  # the token without its scheme
        f"Bearer{viewer}",
    ):
        response = api.get("/api/v1/targets", role=None, headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_scheme_is_case_insensitive_but_the_token_is_not(api, tokens):
    ok = api.get("/api/v1/me", role=None, headers={"Authorization": f"bearer {tokens['viewer']}"})
    assert ok.status_code == 200
    wrong = api.get(
        "/api/v1/me", role=None, headers={"Authorization": f"Bearer {tokens['viewer'].upper()}"}
    )
    assert wrong.status_code == 401


def test_an_unknown_token_is_401(api):
    response = api.get("/api/v1/targets", role=None, headers=bearer("cdb_" + "x" * 43))
    assert response.status_code == 401
    assert error_of(response)["message"] == "the token is unknown, expired or revoked"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_token_is_401(api, conn, someone):
    conn.execute(
        text("UPDATE api_token SET expires_at = now() - interval '1 minute' WHERE id = :id"),
        {"id": someone["token_id"]},
    )
    response = api.get("/api/v1/me", role=None, headers=bearer(someone["token"]))
    assert response.status_code == 401
    listed = api.get(f"/api/v1/users/{someone['id']}/tokens", role="admin").get_json()
    assert [t["status"] for t in listed] == ["expired"]


def test_a_token_that_expires_later_works(api, someone):
    made = api.post(
        f"/api/v1/users/{someone['id']}/tokens", {"expires_in_days": 1}, role="admin"
    ).get_json()
    assert made["expires_at"] is not None and made["status"] == "live"
    assert api.get("/api/v1/me", role=None, headers=bearer(made["token"])).status_code == 200


def test_a_revoked_token_is_401(api, someone):
    assert api.delete(f"/api/v1/tokens/{someone['token_id']}", role="admin").status_code == 204
    assert api.get("/api/v1/me", role=None, headers=bearer(someone["token"])).status_code == 401
    # Revoking again is no error and changes nothing; the token stays listed, revoked.
    again = api.post(f"/api/v1/tokens/{someone['token_id']}/revoke", role="admin")
    assert again.status_code == 200 and again.get_json()["status"] == "revoked"
    assert api.delete(f"/api/v1/tokens/{someone['token_id']}", role="admin").status_code == 204
    listed = api.get(f"/api/v1/users/{someone['id']}/tokens", role="admin").get_json()
    assert [(t["id"], t["status"]) for t in listed] == [(someone["token_id"], "revoked")]
    assert listed[0]["revoked_at"] is not None


def test_revoking_through_post_returns_the_token(api, someone):
    response = api.post(f"/api/v1/tokens/{someone['token_id']}/revoke", role="admin")
    assert response.status_code == 200
    assert response.get_json()["status"] == "revoked"
    assert api.get("/api/v1/me", role=None, headers=bearer(someone["token"])).status_code == 401
    assert api.delete("/api/v1/tokens/999999999", role="admin").status_code == 404
    assert api.post("/api/v1/tokens/nope/revoke", role="admin").status_code == 404


def test_a_deactivated_users_token_is_401_until_reactivated(api, someone):
    off = api.patch(f"/api/v1/users/{someone['id']}", {"active": False}, role="admin")
    assert off.status_code == 200 and off.get_json()["active"] is False
    assert api.get("/api/v1/me", role=None, headers=bearer(someone["token"])).status_code == 401
    refused = api.post(f"/api/v1/users/{someone['id']}/tokens", {}, role="admin")
    assert refused.status_code == 409  # no new token for a deactivated user
    on = api.patch(f"/api/v1/users/{someone['id']}", {"active": True}, role="admin")
    assert on.status_code == 200
    assert api.get("/api/v1/me", role=None, headers=bearer(someone["token"])).status_code == 200


def test_health_and_readiness_need_no_token(client):
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json()["status"] == "ok"


# --- roles ---------------------------------------------------------------------------------------


def test_a_viewer_reads_but_cannot_write(api, conn):
    api.post(
        "/api/v1/targets",
        {
            "scope": "city",
            "year": 2025,
            "metric": "industrial_revenue",
            "unit": "cny_100m",
            "target_value": "1",
        },
    )
    [target] = api.get("/api/v1/targets").get_json()["results"]
    before = count_rows(conn, *TABLES)
    path = f"/api/v1/targets/{target['id']}"
    for response in (
        api.post("/api/v1/targets", {"scope": "city"}, role="viewer"),
        api.patch(path, {"actual_value": "2"}, role="viewer"),
        api.put(path, {"scope": "city"}, role="viewer"),
        api.delete(path, role="viewer"),
        api.post("/api/v1/chains", {"code": "x", "name_zh": "x", "tier": "key"}, role="viewer"),
    ):
        assert response.status_code == 403
        assert error_of(response)["code"] == "forbidden"
        assert "viewer" in error_of(response)["message"]
    assert count_rows(conn, *TABLES) == before
    assert api.get(path, role="viewer").status_code == 200


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_only_admins_manage_users_and_tokens(api, conn, tokens, role, someone):
    before = count_rows(conn, *TABLES)
    uid, tid = someone["id"], someone["token_id"]
    for response in (
        api.get("/api/v1/users", role=role),
        api.get(f"/api/v1/users/{uid}", role=role),
        api.get("/api/v1/users/someone", role=role),
        api.get("/api/v1/users/no-such-user", role=role),  # 403 before 404: names stay hidden
        api.post("/api/v1/users", {"username": "x2", "role": "admin"}, role=role),
        api.post("/api/v1/users", {"bogus": 1}, role=role),  # 403 before 422
        api.patch(f"/api/v1/users/{uid}", {"role": "admin"}, role=role),
        api.patch("/api/v1/users/test-editor", {"role": "admin"}, role=role),
        api.post(f"/api/v1/users/{uid}/tokens", {}, role=role),
        api.get(f"/api/v1/users/{uid}/tokens", role=role),
        api.get(f"/api/v1/tokens/{tid}", role=role),
        api.delete(f"/api/v1/tokens/{tid}", role=role),
        api.post(f"/api/v1/tokens/{tid}/revoke", role=role),
        api.get("/api/v1/users?limit=0", role=role),
    ):
        assert response.status_code == 403, response.get_json()
        assert error_of(response)["code"] == "forbidden"
    assert count_rows(conn, *TABLES) == before
    assert api.get("/api/v1/me", role=None, headers=bearer(someone["token"])).status_code == 200
    assert api.get("/api/v1/users", role="admin").status_code == 200


@pytest.mark.parametrize("role", ["admin", "editor", "viewer"])
def test_everyone_may_ask_who_they_are(api, role):
    response = api.get("/api/v1/me", role=role)
    assert response.status_code == 200
    me = response.get_json()
    assert me["username"] == f"test-{role}" and me["role"] == role and me["active"] is True
    assert "password_hash" not in me and "password" not in me


def test_refused_requests_change_nothing(api, conn, tokens, someone):
    before = count_rows(conn, *TABLES)
    city = {
        "scope": "city",
        "year": 2025,
        "metric": "industrial_revenue",
        "unit": "cny_100m",
        "target_value": "1",
    }
    refused = [
        api.post("/api/v1/targets", city, role=None),
        api.post("/api/v1/targets", city, role=None, headers={"Authorization": "Basic eDp5"}),
        api.post("/api/v1/targets", city, role=None, headers=bearer("cdb_nothing")),
        api.post("/api/v1/targets", city, role="viewer"),
        api.post("/api/v1/users", {"username": "sneaky", "role": "admin"}, role="editor"),
        api.post("/api/v1/users", {"username": "sneaky", "role": "admin"}, role=None),
        api.post(f"/api/v1/users/{someone['id']}/tokens", {}, role="editor"),
        api.delete(f"/api/v1/tokens/{someone['token_id']}", role="viewer"),
        api.patch("/api/v1/users/test-viewer", {"role": "admin"}, role="editor"),
    ]
    assert [r.status_code for r in refused] == [401, 401, 401, 403, 403, 401, 403, 403, 403]
    assert count_rows(conn, *TABLES) == before
    assert api.get("/api/v1/me", role="viewer").get_json()["role"] == "viewer"


# --- users ---------------------------------------------------------------------------------------


def test_create_read_list_and_change_users(api, conn, session):
    created = api.post(
        "/api/v1/users",
        {"username": "Wang.Li", "role": "editor", "display_name": "王力", "password": A_PASSWORD},
        role="admin",
    )
    assert created.status_code == 201, created.get_json()
    user = created.get_json()
    assert created.headers["Location"].endswith(f"/api/v1/users/{user['id']}")
    assert user["username"] == "Wang.Li" and user["role"] == "editor"
    assert user["has_password"] is True and user["active"] is True
    assert "password" not in user and "password_hash" not in user

    assert api.get("/api/v1/users/wang.li", role="admin").get_json()["id"] == user["id"]
    assert api.get(f"/api/v1/users/{user['id']}", role="admin").get_json()["username"] == "Wang.Li"
    assert api.get("/api/v1/users/nobody", role="admin").status_code == 404

    listed = api.get("/api/v1/users", role="admin").get_json()
    assert {u["username"] for u in listed["results"]} == {
        "Wang.Li",
        "test-admin",
        "test-editor",
        "test-viewer",
    }
    assert "password_hash" not in listed["results"][0]
    assert api.get("/api/v1/users?role=editor", role="admin").get_json()["count"] == 2
    assert api.get("/api/v1/users?q=王", role="admin").get_json()["count"] == 1
    assert api.get("/api/v1/users?active=false", role="admin").get_json()["count"] == 0
    newest = api.get("/api/v1/users?ordering=-id&limit=1", role="admin").get_json()["results"]
    assert [u["id"] for u in newest] == [user["id"]]

    path = f"/api/v1/users/{user['id']}"
    etag = api.get(path, role="admin").headers["ETag"]
    changed = api.patch(
        path, {"role": "viewer", "display_name": "王 力"}, role="admin", headers={"If-Match": etag}
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["role"] == "viewer" and changed.get_json()["display_name"] == "王 力"
    stale = api.patch(path, {"role": "admin"}, role="admin", headers={"If-Match": etag})
    assert stale.status_code == 412

    from chaindb.auth.service import check_password

    assert check_password(session=session, username="wang.li", password=A_PASSWORD) is not None
    new = api.patch(path, {"password": "yet another password"}, role="admin")
    assert new.status_code == 200
    assert check_password(session=session, username="wang.li", password=A_PASSWORD) is None
    assert check_password(session=session, username="wang.li", password="yet another password")
    cleared = api.patch(path, {"password": None}, role="admin").get_json()
    assert cleared["has_password"] is False
    stored = conn.execute(
        text("SELECT password_hash FROM app_user WHERE id = :id"), {"id": user["id"]}
    ).scalar_one()
    assert stored is None


def test_user_input_is_checked(api, conn):
    before = count_rows(conn, "app_user")

    def post(body):
        return api.post("/api/v1/users", body, role="admin")

    taken = post({"username": "TEST-EDITOR", "role": "editor"})
    assert taken.status_code == 409 and error_of(taken)["details"][0]["field"] == "username"
    for body, field in (
        ({"username": "a b", "role": "editor"}, "username"),
        ({"username": "x", "role": "editor"}, "username"),
        ({"username": "ok-name", "role": "root"}, "role"),
        ({"username": "ok-name", "role": "editor", "password": "short"}, "password"),
        ({"username": "ok-name", "role": "editor", "password_hash": "x"}, "password_hash"),
        ({"role": "editor"}, "username"),
    ):
        response = post(body)
        assert response.status_code == 422, body
        assert [d["field"] for d in error_of(response)["details"]] == [field], body
    assert count_rows(conn, "app_user") == before
    for body, field in (
        ({"role": None}, "role"),
        ({"active": None}, "active"),
        ({"active": "maybe"}, "active"),
        ({"username": "renamed"}, "username"),
        ({"password": "short"}, "password"),
    ):
        response = api.patch("/api/v1/users/test-viewer", body, role="admin")
        assert response.status_code == 422, body
        assert [d["field"] for d in error_of(response)["details"]] == [field], body


def test_the_last_active_admin_stays_one(api):
    for body, field in (({"role": "editor"}, "role"), ({"active": False}, "active")):
        refused = api.patch("/api/v1/users/test-admin", body, role="admin")
        assert refused.status_code == 409, refused.get_json()
        assert error_of(refused)["details"][0]["field"] == field
    assert api.get("/api/v1/me", role="admin").get_json()["role"] == "admin"
    api.post("/api/v1/users", {"username": "second-admin", "role": "admin"}, role="admin")
    demoted = api.patch("/api/v1/users/test-admin", {"role": "editor"}, role="admin")
    assert demoted.status_code == 200 and demoted.get_json()["role"] == "editor"
    assert api.get("/api/v1/users", role="admin").status_code == 403  # no longer an admin
    assert api.get("/api/v1/me", role="admin").get_json()["role"] == "editor"


# --- tokens and secrets --------------------------------------------------------------------------


def test_a_new_token_is_shown_once_and_stored_hashed(api, conn, someone):
    response = api.post(
        f"/api/v1/users/{someone['username']}/tokens",
        {"name": "reporting", "expires_in_days": 30},
        role="admin",
    )
    assert response.status_code == 201, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    made = response.get_json()
    plain = made["token"]
    assert plain.startswith("cdb_") and made["token_prefix"] == plain[:12]
    assert made["user_id"] == someone["id"] and made["name"] == "reporting"
    assert response.headers["Location"].endswith(f"/api/v1/tokens/{made['id']}")
    assert api.get("/api/v1/me", role=None, headers=bearer(plain)).get_json()["username"] == (
        "someone"
    )

    stored = (
        conn.execute(text("SELECT * FROM api_token WHERE id = :id"), {"id": made["id"]})
        .mappings()
        .one()
    )
    assert stored["token_hash"] == hashlib.sha256(plain.encode()).hexdigest()
    assert all(plain not in str(value) for value in stored.values())
    anywhere = conn.execute(
        text("SELECT count(*) FROM api_token t WHERE strpos(t::text, :p) > 0"), {"p": plain}
    ).scalar_one()
    assert anywhere == 0

    listed = api.get(f"/api/v1/users/{someone['id']}/tokens", role="admin")
    read = api.get(f"/api/v1/tokens/{made['id']}", role="admin")
    for body in (listed.get_data(as_text=True), read.get_data(as_text=True)):
        assert plain not in body and stored["token_hash"] not in body
        assert "token_hash" not in body and '"token"' not in body
    tokens = listed.get_json()
    assert [t["name"] for t in tokens] == ["t", "reporting"]
    assert set(tokens[1]) == {
        "id",
        "user_id",
        "name",
        "token_prefix",
        "expires_at",
        "revoked_at",
        "last_used_at",
        "created_at",
        "status",
    }
    assert tokens[1]["status"] == "live" and tokens[1]["expires_at"] is not None


def test_token_input_is_checked(api, conn, someone):
    before = count_rows(conn, "api_token")
    path = f"/api/v1/users/{someone['id']}/tokens"
    for body, field in (
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"expires_in_days": "soon"}, "expires_in_days"),
        ({"secret": "mine"}, "secret"),
    ):
        response = api.post(path, body, role="admin")
        assert response.status_code == 422, body
        assert [d["field"] for d in error_of(response)["details"]] == [field]
    assert api.post("/api/v1/users/nobody/tokens", {}, role="admin").status_code == 404
    assert api.get("/api/v1/users/nobody/tokens", role="admin").status_code == 404
    assert count_rows(conn, "api_token") == before
    # No body at all is a token without name or expiry.
    bare = api.post(path, role="admin")
    assert bare.status_code == 201 and bare.get_json()["expires_at"] is None


def test_passwords_are_stored_hashed(api, conn):
    api.post(
        "/api/v1/users",
        {"username": "hashed", "role": "viewer", "password": A_PASSWORD},
        role="admin",
    )
    stored = conn.execute(
        text("SELECT password_hash FROM app_user WHERE username = 'hashed'")
    ).scalar_one()
    assert stored != A_PASSWORD and A_PASSWORD not in stored
    assert stored.startswith("scrypt:")
    from werkzeug.security import check_password_hash

    assert check_password_hash(stored, A_PASSWORD)


# --- the command line ----------------------------------------------------------------------------


@pytest.mark.slow
def test_the_cli_makes_users_and_tokens_that_the_api_accepts(scratch_database):
    from chaindb import create_app
    from chaindb.auth.service import authenticate_token
    from chaindb.config import Settings
    from chaindb.db import db, make_engine

    url = scratch_database(migrated=True)
    env = {"PATH": str(Path(sys.executable).parent), "DATABASE_URL": url, "HOME": str(Path.home())}
    chaindb = str(Path(sys.executable).parent / "chaindb")

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [chaindb, *args], env=env, capture_output=True, text=True, timeout=120
        )

    made = cli(
        "user",
        "create",
        "--username",
        "cli-admin",
        "--role",
        "admin",
        "--password",
        A_PASSWORD,
        "--display-name",
        "CLI",
    )
    assert made.returncode == 0, made.stderr
    assert "user cli-admin (admin) created" in made.stdout
    again = cli(
        "user", "create", "--username", "CLI-ADMIN", "--role", "viewer", "--password", A_PASSWORD
    )
    assert again.returncode != 0 and "already exists" in again.stderr
    short = cli("user", "create", "--username", "x-short", "--role", "viewer", "--password", "a")
    assert short.returncode != 0 and "at least" in short.stderr
    issued = cli("token", "create", "--user", "cli-admin", "--name", "ci", "--expires-in-days", "7")
    assert issued.returncode == 0, issued.stderr
    plain = issued.stdout.strip().splitlines()[-1]
    assert plain.startswith("cdb_") and "for cli-admin" in issued.stderr
    assert cli("token", "create", "--user", "nobody").returncode != 0

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            principal = authenticate_token(session=session, plain=plain)
            assert principal is not None
            assert (principal.username, principal.role) == ("cli-admin", "admin")
            assert authenticate_token(session=session, plain=plain + "x") is None
            stored = session.execute(
                text(
                    "SELECT u.password_hash, t.token_hash, t.expires_at FROM app_user u "
                    "JOIN api_token t ON t.user_id = u.id"
                )
            ).one()
            assert stored.password_hash != A_PASSWORD and stored.password_hash.startswith("scrypt")
            assert stored.token_hash == hashlib.sha256(plain.encode()).hexdigest()
            assert stored.expires_at is not None

        # The same token against an app on that database: it works, and its writes are signed.
        settings = Settings(env="test", database_url=url, secret_key="t" * 40)
        app = create_app({"TESTING": True}, settings=settings)
        try:
            client = app.test_client()
            me = client.get("/api/v1/me", headers=bearer(plain))
            assert me.status_code == 200 and me.get_json()["display_name"] == "CLI"
            created = client.post(
                "/api/v1/users",
                json={"username": "made-by-api", "role": "viewer"},
                headers={**bearer(plain), "X-Request-ID": "cli-test-1"},
            )
            assert created.status_code == 201, created.get_json()
        finally:
            db.dispose(app)
        with engine.connect() as conn:
            actors = conn.execute(
                text("SELECT table_name, actor, request_id FROM change_log ORDER BY id")
            ).all()
        assert [tuple(a) for a in actors] == [
            ("app_user", "postgres", None),  # the CLI writes as the database user
            ("api_token", "postgres", None),
            ("app_user", "cli-admin", "cli-test-1"),
        ]
    finally:
        engine.dispose()


def test_a_token_cache_trusts_a_checked_token_for_a_while_and_forgets_on_user_changes(conn, tokens):
    from chaindb import create_app
    from chaindb.config import Settings

    settings = Settings(
        env="test",
        database_url="postgresql+psycopg://unused/none",
        secret_key="t" * 40,
        token_cache_seconds=60,
    )
    app = create_app({"TESTING": True, "ENGINE": conn}, settings=settings)
    client = app.test_client()
    viewer = {"Authorization": f"Bearer {tokens['viewer']}"}
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    assert client.get("/api/v1/chains", headers=viewer).status_code == 200
    # Revoked behind the app's back: this worker still trusts the token for a while ...
    conn.execute(
        text("UPDATE api_token SET revoked_at = now() WHERE token_prefix = :p"),
        {"p": tokens["viewer"][:12]},
    )
    assert client.get("/api/v1/chains", headers=viewer).status_code == 200
    # ... until users or tokens change through the API, which clears the cache.
    created = client.post(
        "/api/v1/users",
        json={"username": "someone-new", "role": "viewer", "password": "long enough pw"},
        headers=admin,
    )
    assert created.status_code == 201
    assert client.get("/api/v1/chains", headers=viewer).status_code == 401
