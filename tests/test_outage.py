"""The database away (a restart, a failover, a network loss): every request that needs it is
answered 503 with Retry-After, in the error's usual shape; none is a 500."""

from __future__ import annotations

import pytest

from chaindb import create_app
from chaindb.config import Settings

# Nothing listens on port 1 of the loopback: every connection is refused at once.
AWAY = "postgresql+psycopg://postgres@127.0.0.1:1/chaindb?connect_timeout=1"


@pytest.fixture(scope="module")
def away():
    settings = Settings(
        token_cache_seconds=0,
        env="test",
        database_url=AWAY,
        secret_key="t" * 40,
        reports_listen=False,
    )
    app = create_app({"TESTING": True, "SQLALCHEMY_URL": AWAY}, settings=settings)
    return app.test_client()


def test_the_api_answers_503_with_retry_after(away):
    response = away.get("/api/v1/chains", headers={"Authorization": "Bearer cdb_x"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.get_json()["error"]["code"] == "unavailable"


def test_a_page_answers_503_with_retry_after(away):
    page = away.get("/login")
    token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1]
    response = away.post(
        "/login",
        data={"username": "someone", "password": "x" * 12, "csrf_token": token.split('"')[0]},
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "数据库" in response.get_data(as_text=True)


def test_the_health_check_says_not_ready(away):
    assert away.get("/healthz").status_code == 200  # the process lives
    assert away.get("/readyz").status_code == 503
