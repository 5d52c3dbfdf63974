"""Sign-in, sign-out, the gate, CSRF, roles, language, and the safety of redirects."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import PASSWORD, Web


def test_every_page_but_sign_in_and_health_needs_a_signed_in_user(client):
    for path in ("/", "/districts", "/districts/new", "/no-such-page"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.location.startswith("/login?next="), response.location
    assert client.get("/healthz").status_code == 200
    assert client.get("/login").status_code == 200


def test_sign_in_returns_to_the_page_asked_for(app, web_users):
    browser = Web(app.test_client())
    token = browser.token()
    response = browser.client.post(
        "/login",
        data={"username": "WEB-editor", "password": PASSWORD, "next": "/districts?kind=zone",
              "csrf_token": token},
    )  # fmt: skip
    assert response.status_code == 302
    assert response.location == "/districts?kind=zone"
    assert browser.text("/districts").count("<h1>") == 1


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)",
     "http:/evil.example", "\x00/x"],
)  # fmt: skip
def test_sign_in_never_redirects_off_the_site(app, web_users, target):
    browser = Web(app.test_client())
    response = browser.client.post(
        "/login",
        data={"username": "web-editor", "password": PASSWORD, "next": target,
              "csrf_token": browser.token()},
    )  # fmt: skip
    if "\x00" in target:  # refused before anything else: no text of ours holds NUL
        assert response.status_code == 400
        return
    assert response.status_code == 302
    assert response.location == "/"


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(app, web_users, conn):
    browser = Web(app.test_client())
    wrong = browser.login("web-editor", "not the password")
    nobody = browser.login("nobody-at-all", "not the password")
    assert wrong.status_code == nobody.status_code == 401
    assert "Wrong user name or password." in wrong.get_data(as_text=True) or "用户名或密码" in (
        wrong.get_data(as_text=True)
    )
    assert browser.client.get("/").status_code == 302
    recorded = conn.execute(text("SELECT username, succeeded FROM login_attempt ORDER BY id")).all()
    assert recorded == [("web-editor", False), ("nobody-at-all", False)]


def _age_failures(conn, seconds: float) -> None:
    """As if the recorded attempts were made `seconds` earlier (the backoff counts from the
    last failure)."""
    conn.execute(
        text("UPDATE login_attempt SET attempted_at = attempted_at - make_interval(secs => :s)"),
        {"s": seconds},
    )


def test_sign_in_attempts_back_off_per_name_without_locking_the_owner_out(app, web_users, conn):
    browser = Web(app.test_client())
    for _ in range(5):
        assert browser.login("web-editor", "wrong password!").status_code == 401
    # Past five failures, an attempt must wait after the last one: even the right password.
    response = browser.login("web-editor")
    assert response.status_code == 429
    assert browser.client.get("/").status_code == 302
    failures = conn.execute(text("SELECT count(*) FROM login_attempt")).scalar_one()
    assert failures == 5  # a refused attempt is not another failure
    # Another user is not held up by someone guessing the editor's password.
    assert browser.login("web-viewer").status_code == 302
    # The wait doubles with each failure, but the owner waits seconds, not the whole window.
    other = Web(app.test_client())
    _age_failures(conn, 1.5)
    assert other.login("web-editor", "wrong again!").status_code == 401
    assert other.login("web-editor").status_code == 429  # 2 s after the sixth failure
    _age_failures(conn, 2.5)
    assert other.login("web-editor").status_code == 302


def test_forms_without_the_csrf_token_are_refused(app, web_users, conn):
    client = app.test_client()
    response = client.post("/login", data={"username": "web-editor", "password": PASSWORD})
    assert response.status_code == 400
    assert conn.execute(text("SELECT count(*) FROM login_attempt")).scalar() == 0
    browser = Web(app.test_client())
    browser.login("web-editor")
    before = conn.execute(text("SELECT count(*) FROM district")).scalar()
    response = browser.client.post(
        "/districts/new",
        data={"code": "370102", "name_zh": "历下区", "kind": "district"},
    )
    assert response.status_code == 400
    assert conn.execute(text("SELECT count(*) FROM district")).scalar() == before


def test_the_session_cookie_is_http_only_and_same_site(app, web_users):
    browser = Web(app.test_client())
    response = browser.login("web-editor")
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if "chaindb_session" in h)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_secure_cookies_in_production():
    from chaindb.config import Settings

    settings = Settings.from_env(
        {
            "CHAINDB_ENV": "production",
            "CHAINDB_SECRET_KEY": "s" * 40,
            "DATABASE_URL": "postgresql://x/y",
        }
    )
    assert settings.secure_cookies is True
    assert Settings.from_env({}).secure_cookies is False


def test_sign_out_ends_the_session(web):
    assert web.client.get("/").status_code == 200
    response = web.post("/logout")
    assert response.status_code == 302
    assert web.client.get("/").status_code == 302


def test_signing_out_ends_the_session_on_the_server_a_copied_cookie_too(app, web, conn):
    """The session cookie is signed, not secret: one copied before signing out (a shared
    computer, a stolen cookie) must not work after it."""
    cookie = web.client.get_cookie("chaindb_session")
    assert cookie is not None
    copy = app.test_client()
    copy.set_cookie("chaindb_session", cookie.value)
    assert copy.get("/").status_code == 200  # the copy works while the session lasts
    assert web.post("/logout").status_code == 302
    assert copy.get("/").status_code == 302  # and not after: the server ended the session
    ended = conn.execute(
        text("SELECT count(*) FROM user_session WHERE ended_at IS NOT NULL")
    ).scalar_one()
    assert ended == 1


def test_a_changed_password_signs_out_other_sessions(app, web_users, conn):
    first, second = Web(app.test_client()), Web(app.test_client())
    first.login("web-editor")
    second.login("web-editor")
    response = first.post(
        "/account/password",
        data={"current": PASSWORD, "new": "a brand new password", "repeat": "a brand new password"},
    )
    assert response.status_code == 302
    assert first.client.get("/").status_code == 200
    assert second.client.get("/").status_code == 302


def test_a_deactivated_user_is_signed_out(web, conn):
    conn.execute(text("UPDATE app_user SET active = false WHERE username = 'web-editor'"))
    assert web.client.get("/").status_code == 302


def test_a_viewer_may_look_but_not_change(web_as, conn):
    viewer = web_as("viewer")
    assert viewer.client.get("/districts").status_code == 200
    page = viewer.text("/districts")
    assert "/districts/new" not in page
    response = viewer.post(
        "/districts/new", {"code": "370102", "name_zh": "历下区", "kind": "district"}
    )
    assert response.status_code == 403
    assert conn.execute(text("SELECT count(*) FROM district")).scalar() == 0


def test_chinese_by_default_and_english_kept_on_the_account(web_as, conn):
    editor = web_as("editor")
    page = editor.text("/districts")
    assert 'lang="zh-Hans"' in page
    response = editor.post("/language", {"lang": "en", "next": "/districts"})
    assert response.status_code == 302
    assert response.location == "/districts"
    assert 'lang="en"' in editor.text("/districts")
    assert (
        conn.execute(text("SELECT locale FROM app_user WHERE username = 'web-editor'")).scalar()
        == "en"
    )
    # A new session of the same user (another browser: no cookie) keeps the choice.
    elsewhere = web_as("editor")
    elsewhere.client.delete_cookie("lang")
    assert 'lang="en"' in elsewhere.text("/districts")


def test_error_pages_use_the_site_layout(web):
    response = web.client.get("/districts/999999")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert 'class="main-nav"' in page
    assert 'action="/logout"' in page
    assert "<h1>" in page and "Traceback" not in page


def test_pages_are_not_cached_and_not_framed(web):
    response = web.client.get("/districts")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
