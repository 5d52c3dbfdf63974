from __future__ import annotations

from sqlalchemy import text

from tests import factories_sql as factories


def test_healthz_answers_without_a_database_call(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_reports_the_schema_at_head(client):
    from chaindb.migrations import head_revision

    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "revision": head_revision()}


def test_readyz_is_unavailable_when_the_schema_is_behind(client, conn):
    conn.execute(text("UPDATE alembic_version SET version_num = 'behind'"))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"


def test_home_page_needs_a_signed_in_user(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_home_page_shows_live_counts(web, conn):
    factories.district(conn)
    factories.district(conn)
    page = web.text("/?lang=en")
    assert "Overview" in page
    card = page.split('class="card" href="/districts"')[1].split("</a>")[0]
    assert '<span class="figure">2</span>' in card
    assert "planning units" in card


def test_home_page_speaks_chinese_by_default(web):
    page = web.text("/")
    assert 'lang="zh-Hans"' in page
    assert "概览" in page


def test_unknown_page_is_a_404_page_not_a_500(web):
    response = web.get("/no-such-page?lang=en", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "<h1>Not found</h1>" in response.get_data(as_text=True)


def test_unknown_api_path_is_a_json_404(api):
    response = api.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
