"""The users' administration: accounts, roles, passwords and API tokens, for administrators only."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from tests.conftest import PASSWORD, Web, count_rows

NEW_USER = {"username": "zhang.wei", "display_name": "张伟", "role": "editor",
            "password": "a long enough password"}  # fmt: skip


@pytest.fixture
def admin(web_as) -> Web:
    return web_as("admin")


def _errors(page: str, field: str) -> list[str]:
    return re.findall(rf'class="field-error" id="{field}-error" role="alert">([^<]*)<', page)


def _user_id(conn, username: str) -> int:
    return conn.execute(
        text("SELECT id FROM app_user WHERE username = :u"), {"u": username}
    ).scalar_one()


def test_an_administrator_creates_a_user_who_can_then_sign_in(admin, app, conn):
    response = admin.post("/users/new", NEW_USER)
    assert response.status_code == 302, response.get_data(as_text=True)
    page = admin.text(response.location)
    assert "张伟" in page
    row = conn.execute(
        text("SELECT role, display_name, password_hash FROM app_user WHERE username = 'zhang.wei'")
    ).one()
    assert row[:2] == ("editor", "张伟")
    assert row[2].startswith("scrypt:") and "a long enough password" not in row[2]
    newcomer = Web(app.test_client())
    assert newcomer.login("zhang.wei", "a long enough password").status_code == 302
    assert newcomer.client.get("/").status_code == 200
    assert "zhang.wei" in admin.text("/users")


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_only_administrators_see_the_users_pages(web_as, web_users, conn, role):
    browser = web_as(role)
    user = _user_id(conn, "web-viewer")
    for path in ("/users", "/users/new", f"/users/{user}", f"/users/{user}/edit",
                 f"/users/{user}/password"):  # fmt: skip
        assert browser.get(path).status_code == 403, path
    before = count_rows(conn, "app_user", "api_token")
    assert browser.post("/users/new", NEW_USER).status_code == 403
    assert browser.post(f"/users/{user}/tokens", {"name": "x"}).status_code == 403
    assert count_rows(conn, "app_user", "api_token") == before
    assert 'href="/users"' not in browser.text("/")


def test_a_short_password_is_refused_beside_the_field(admin, conn):
    before = count_rows(conn, "app_user")
    response = admin.post("/users/new?lang=en", {**NEW_USER, "password": "short"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert _errors(page, "password") == ["A password needs at least 10 characters."]
    assert 'value="zhang.wei"' in page  # what was typed is kept (the password is not)
    assert "short" not in page.split('id="password"')[1].split(">")[0]
    assert count_rows(conn, "app_user") == before


def test_a_taken_or_malformed_user_name_is_refused_beside_the_field(admin, conn):
    before = count_rows(conn, "app_user")
    response = admin.post("/users/new", {**NEW_USER, "username": "WEB-editor"})
    assert response.status_code == 409
    assert _errors(response.get_data(as_text=True), "username")
    response = admin.post("/users/new", {**NEW_USER, "username": "zhang wei"})
    assert response.status_code == 422
    assert _errors(response.get_data(as_text=True), "username")
    assert count_rows(conn, "app_user") == before


def test_role_display_name_and_active_are_edited(admin, app, conn):
    user = _user_id(conn, "web-viewer")
    form = admin.text(f"/users/{user}/edit")
    version = form.split('name="version" type="hidden" value="')[1].split('"')[0]
    response = admin.post(f"/users/{user}/edit",
                          {"display_name": "李娜", "role": "editor", "version": version})  # fmt: skip
    assert response.status_code == 302
    row = conn.execute(text("SELECT role, display_name, active FROM app_user WHERE id = :id"),
                       {"id": user}).one()  # fmt: skip
    assert row == ("editor", "李娜", False)  # an unchecked box: no longer active
    assert Web(app.test_client()).login("web-viewer").status_code == 401
    # The same old version again: someone changed it in between.
    response = admin.post(f"/users/{user}/edit",
                          {"display_name": "x", "role": "viewer", "active": "y", "version": version})  # fmt: skip
    assert response.status_code == 412


def test_the_last_administrator_stays_one(admin, conn):
    me = _user_id(conn, "web-admin")
    form = admin.text(f"/users/{me}/edit")
    version = form.split('name="version" type="hidden" value="')[1].split('"')[0]
    response = admin.post(f"/users/{me}/edit",
                          {"role": "editor", "active": "y", "version": version})  # fmt: skip
    assert response.status_code == 409
    assert _errors(response.get_data(as_text=True), "role")
    assert conn.execute(text("SELECT role FROM app_user WHERE id = :id"), {"id": me}).scalar() == (
        "admin"
    )


def test_an_administrator_sets_a_password(admin, app, conn):
    user = _user_id(conn, "web-editor")
    response = admin.post(f"/users/{user}/password",
                          {"password": "another good password", "repeat": "another one"})  # fmt: skip
    assert response.status_code == 422
    assert _errors(response.get_data(as_text=True), "repeat")
    response = admin.post(f"/users/{user}/password",
                          {"password": "another good password", "repeat": "another good password"})  # fmt: skip
    assert response.status_code == 302
    browser = Web(app.test_client())
    assert browser.login("web-editor", PASSWORD).status_code == 401
    assert browser.login("web-editor", "another good password").status_code == 302


def test_an_administrator_setting_their_own_password_stays_signed_in(admin, conn):
    me = _user_id(conn, "web-admin")
    response = admin.post(f"/users/{me}/password",
                          {"password": "my new password!", "repeat": "my new password!"})  # fmt: skip
    assert response.status_code == 302
    assert admin.get("/users").status_code == 200


def test_a_token_is_shown_once_works_and_is_revoked(admin, app, conn):
    user = _user_id(conn, "web-viewer")
    response = admin.post(f"/users/{user}/tokens", {"name": "BI 报表", "expires_in_days": "30"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    token = re.search(r'<code class="token">(cdb_[^<]+)</code>', page).group(1)
    api = app.test_client()
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.get_json()["username"] == "web-viewer"
    # Never again: not on the user's page, not in the database.
    later = admin.text(f"/users/{user}")
    assert token not in later
    assert token[:12] in later and "BI 报表" in later
    stored = conn.execute(text("SELECT token_hash FROM api_token WHERE user_id = :u"), {"u": user})
    assert token not in {row[0] for row in stored}
    token_id = conn.execute(
        text("SELECT id FROM api_token WHERE user_id = :u"), {"u": user}
    ).scalar_one()
    response = admin.post(f"/users/{user}/tokens/{token_id}/revoke")
    assert response.status_code == 302
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert "/revoke" not in admin.text(f"/users/{user}")


def test_a_token_is_revoked_only_through_its_own_user(admin, conn):
    owner, other = _user_id(conn, "web-viewer"), _user_id(conn, "web-editor")
    admin.post(f"/users/{owner}/tokens", {"name": "x"})
    token_id = conn.execute(text("SELECT id FROM api_token")).scalar_one()
    assert admin.post(f"/users/{other}/tokens/{token_id}/revoke").status_code == 404
    assert conn.execute(text("SELECT revoked_at FROM api_token")).scalar() is None


def test_token_rules_are_said_beside_the_fields(admin, conn):
    user = _user_id(conn, "web-viewer")
    response = admin.post(f"/users/{user}/tokens", {"name": "x", "expires_in_days": "0"})
    assert response.status_code == 422
    assert _errors(response.get_data(as_text=True), "expires_in_days")
    conn.execute(text("UPDATE app_user SET active = false WHERE id = :id"), {"id": user})
    response = admin.post(f"/users/{user}/tokens", {"name": "x"})
    assert response.status_code == 409
    assert count_rows(conn, "api_token") == {"api_token": 0}


def test_a_display_name_is_shown_as_text(admin, conn):
    response = admin.post("/users/new", {**NEW_USER, "display_name": "<script>alert(1)</script>"})
    assert response.status_code == 302
    for path in (response.location, "/users"):
        page = admin.text(path)
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    newcomer = Web(admin.client.application.test_client())
    newcomer.login("zhang.wei", NEW_USER["password"])
    header = newcomer.text("/").split("</header>")[0]
    assert "&lt;script&gt;" in header and "<script>alert" not in header


def test_users_are_searched_and_filtered(admin):
    page = admin.text("/users?role=viewer")
    assert "web-viewer" in page and "web-editor" not in page
    page = admin.text("/users?q=edit")
    assert "web-editor" in page and "web-viewer" not in page
