"""A streamed export gives its connection back: Flask tears the app context down when the view
returns and again when the stream ends; the session the stream reads from is closed at the
second, not the first (which left the stream to open a connection nobody closed: one leaked
per CSV export, until the pool ran dry under schemathesis)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from chaindb import create_app
from chaindb.auth.service import create_token, create_user
from chaindb.config import Settings
from chaindb.db import db, make_engine
from tests import factories_sql as f


@pytest.mark.slow
def test_csv_exports_return_their_connections(scratch_database):
    url = scratch_database(migrated=True)
    engine = make_engine(url)
    with Session(engine) as session:
        admin = create_user(session=session, username="exporter", role="admin", password=None)
        token = create_token(session=session, user=admin, name="tests")[1]
        session.commit()
    with engine.begin() as conn:
        name = conn.execute(
            text("SELECT name_zh FROM district WHERE id = :d"), {"d": f.district(conn)}
        ).scalar_one()
    engine.dispose()
    settings = Settings(env="test", database_url=url, secret_key="s" * 40)
    app = create_app({"TESTING": True, "SQLALCHEMY_URL": url}, settings=settings)
    pool = db.engine(app).pool
    headers = {"Authorization": f"Bearer {token}"}
    try:
        client = app.test_client()
        for _ in range(20):  # more than the pool and its overflow hold
            response = client.get("/api/v1/districts?format=csv", headers=headers)
            assert response.status_code == 200 and name in response.get_data(as_text=True)
            assert pool.checkedout() == 0
        # A client that goes away before reading: the server closes the body, which ends it.
        unread = client.get("/api/v1/districts?format=csv", headers=headers, buffered=False)
        unread.close()
        assert pool.checkedout() == 0
    finally:
        db.dispose(app)


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
def test_a_filter_beyond_its_column_is_a_422_before_anything_streams(api, fmt):
    """Found by schemathesis: trip_id__gt=9223372036854775808 on a CSV export was refused by
    the database inside the stream, after the 200 had gone out."""
    for query in ("trip_id__gt=9223372036854775808", "trip_id__in=1,-9223372036854775809"):
        response = api.get(f"/api/v1/trip-visits?format={fmt}&{query}")
        assert response.status_code == 422, response.data[:200]
        field = query.split("=")[0]
        assert response.get_json()["error"]["details"][0]["field"] == field
    assert (
        api.get(f"/api/v1/trip-visits?format={fmt}&trip_id__gt=9223372036854775807").status_code
        == 200
    )
