"""Two people submitting the same edit form at the same moment: one saves, the other is told.

Each opened the form on the same version of the record; the page compares that version with the
record it has locked, so the second submit waits for the first and then sees the change.
"""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from chaindb import create_app
from chaindb.auth.service import create_user
from chaindb.config import Settings
from chaindb.db import db, make_engine
from tests import factories_sql as make
from tests.conftest import CSRF, PASSWORD
from tests.forms import filled

TRIALS = 6


@pytest.mark.slow
def test_two_simultaneous_submits_of_one_version_save_once(scratch_database):
    url = scratch_database(migrated=True)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            chain_id = make.chain(conn)
            with Session(bind=conn) as session:
                for name in ("clerk-a", "clerk-b"):
                    create_user(session=session, username=name, role="editor", password=PASSWORD)
                session.flush()
        settings = Settings(env="test", database_url=url, secret_key="t" * 40)
        app = create_app({"TESTING": True}, settings=settings)
        try:
            _race(app, engine, chain_id)
        finally:
            db.dispose(app)
    finally:
        engine.dispose()


def _race(app, engine, chain_id: int) -> None:
    clients = []
    for name in ("clerk-a", "clerk-b"):
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = next(g for g in CSRF.search(page).groups() if g)
        signed = client.post(
            "/login", data={"username": name, "password": PASSWORD, "csrf_token": token}
        )
        assert signed.status_code == 302
        clients.append(client)

    for trial in range(TRIALS):
        path = f"/chains/{chain_id}/edit"
        forms = []
        for n, client in enumerate(clients):
            page = client.get(path).get_data(as_text=True)
            forms.append(filled(page, {"chief": f"链长{trial}-{n}"}))
        statuses = _submit_together(clients, path, forms)
        assert sorted(statuses) == [302, 412], (trial, statuses)
        with engine.connect() as conn:
            chief = conn.execute(
                text("SELECT chief FROM chain WHERE id = :id"), {"id": chain_id}
            ).scalar_one()
        winner = statuses.index(302)
        assert chief == f"链长{trial}-{winner}"
    refused = clients[0].post(path, data=forms[0])  # an old version, sent again
    assert refused.status_code == 412
    assert re.search("刷新|Reload", refused.get_data(as_text=True))


def _submit_together(clients, path: str, forms: list[dict[str, str]]) -> list[int]:
    """Both forms sent at the same moment; their statuses."""
    barrier = threading.Barrier(len(clients))
    statuses = [0] * len(clients)

    def submit(n: int) -> None:
        barrier.wait()
        statuses[n] = clients[n].post(path, data=forms[n]).status_code

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return statuses
