"""Odd input gets a 4xx, never a 500: digits that are not ASCII, query keys that are url_for's
own, NUL bytes, signalling NaN, a forged upload token; limits on the own-password page."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests import factories_sql as f
from tests.conftest import PASSWORD, Web


@pytest.mark.parametrize(
    "path",
    [
        "/districts/²", "/districts/²/edit", "/users/²", "/districts?page=²",
        "/changes?before=²", "/projects/add?parent_id=²", "/pick/projects?q=²",
        "/designations/new?enterprise_id=²", "/designations?enterprise_id=²",
        "/segments/new?chain_id=²", "/chain-roles/new?enterprise_id=²",
        "/enterprises?chain_id=²", "/supply/link?buyer_id=²",
        "/districts?format=xlsx", "/districts?endpoint=x", "/districts?_scheme=https",
        "/districts?_external=1&_scheme=javascript", "/changes?before=5&_scheme=https",
        "/projects/new?endpoint=x", "/users?endpoint=x",
        "/districts?name_zh=a%00", "/pick/enterprises?q=a%00", "/chain-masters?chain=a%00",
        "/changes?actor=a%00", "/supply-links?supplier=a%00",
    ],
)  # fmt: skip
def test_odd_urls_are_answered_without_a_server_error(web_as, path):
    admin = web_as("admin")
    response = admin.get(path)
    assert response.status_code < 500, (path, response.status_code)
    assert "javascript:" not in (response.location or "")


def test_the_api_refuses_a_non_ascii_id_with_a_404(api):
    assert api.get("/api/v1/districts/²").status_code == 404


def test_nul_bytes_in_forms_and_json_are_refused(app, web, conn):
    response = web.post(
        "/districts/new", {"code": "370102", "name_zh": "历\x00下区", "kind": "district"}
    )
    assert response.status_code == 400
    client = Web(app.test_client())
    response = client.client.post(
        "/login", data={"username": "a\x00", "password": "x", "csrf_token": client.token()}
    )
    assert response.status_code == 400
    assert conn.execute(text("SELECT count(*) FROM district")).scalar() == 0


def test_nul_bytes_in_api_json_are_a_422(api, conn):
    response = api.post(
        "/api/v1/districts",
        {"code": "370102", "is_official_code": True, "name_zh": "历\u0000下区", "kind": "district"},
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert conn.execute(text("SELECT count(*) FROM district")).scalar() == 0


@pytest.mark.parametrize("value", ["sNaN", "NaN", "Infinity", "-inf"])
def test_amounts_must_be_finite(web, conn, value):
    chain = f.chain(conn)
    district = f.district(conn)
    response = web.post(
        "/projects/add",
        {"name": "测试项目", "chain_id": chain, "district_id": district, "kind": "new",
         "stage": "lead", "investor_id": "某投资方", "agreed_investment_cny_100m": value},
    )  # fmt: skip
    assert response.status_code == 422
    assert 'id="agreed_investment_cny_100m-error"' in response.get_data(as_text=True)
    assert conn.execute(text("SELECT count(*) FROM project")).scalar() == 0


@pytest.mark.parametrize("value", ["NaN", "Infinity"])
def test_the_api_refuses_amounts_that_are_not_numbers(api, conn, value):
    chain = f.chain(conn)
    district = f.district(conn)
    response = api.post(
        "/api/v1/projects",
        {"name": "测试项目", "chain_id": chain, "district_id": district, "kind": "new",
         "stage": "lead", "investor_name": "某投资方", "agreed_investment_cny_100m": value},
    )  # fmt: skip
    assert response.status_code == 422, response.get_data(as_text=True)


def test_a_forged_upload_token_is_refused_plainly(web):
    response = web.post("/districts/import", {"upload": "x" * 300})
    assert response.status_code == 422


def test_the_own_password_page_counts_wrong_passwords(web, conn):
    for _ in range(5):
        response = web.post(
            "/account/password",
            {"current": "wrong password", "new": "another password", "repeat": "another password"},
        )
        assert response.status_code in (401, 422)
    response = web.post(
        "/account/password",
        {"current": PASSWORD, "new": "another password", "repeat": "another password"},
    )
    assert response.status_code == 429
    failures = conn.execute(
        text("SELECT count(*) FROM login_attempt WHERE NOT succeeded AND username = 'web-editor'")
    ).scalar()
    assert failures == 5


def test_exports_and_suggestions_are_not_cached(web):
    assert web.get("/districts/export?format=csv").headers["Cache-Control"] == "no-store"
    assert web.get("/pick/enterprises?q=x").headers["Cache-Control"] == "no-store"


def test_uploads_have_a_size_limit(app):
    assert 0 < app.config["MAX_CONTENT_LENGTH"] <= 64 * 1024 * 1024


def test_list_exports_stream_on_an_engine_too(engine):
    """In production a GET reads in autocommit, where no server-side cursor can be declared:
    the exports of the pages and of the API read in a transaction of their own."""
    from chaindb import create_app
    from chaindb.config import Settings
    from chaindb.districts.views import pages

    settings = Settings(
        env="test", database_url="postgresql+psycopg://unused/none", secret_key="t" * 40
    )
    app = create_app({"TESTING": True, "ENGINE": engine}, settings=settings)
    for fmt in ("csv", "xlsx"):
        with app.test_request_context(f"/districts/export?format={fmt}&layout=raw"):
            body = pages.export_view().get_data()
        assert body.startswith("\ufeffcode,".encode() if fmt == "csv" else b"PK"), body[:40]
