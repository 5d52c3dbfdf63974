from __future__ import annotations

from sqlalchemy import text


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


def test_home_page_shows_live_counts(client, conn):
    conn.execute(
        text(
            "INSERT INTO district (code, is_official_code, name_zh, kind) VALUES "
            "('370102', true, '历下区', 'district'), ('370103', true, '市中区', 'district')"
        )
    )
    page = client.get("/?lang=en").get_data(as_text=True)
    assert "Planning units: districts, counties and functional zones" in page
    row = page.split("<code>district</code>")[1].split("</tr>")[0]
    assert '<td class="num">2</td>' in row


def test_home_page_speaks_chinese_by_default(client):
    page = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert "区县（功能区）" in page
    assert 'lang="zh-CN"' in page


def test_unknown_page_is_a_404_page_not_a_500(client):
    response = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "<h1>404</h1>" in response.get_data(as_text=True)


def test_unknown_api_path_is_a_json_404(api):
    response = api.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
