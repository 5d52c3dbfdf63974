"""Two links made at the same moment for a new supplier of a chain master: both land.

Each link gives the supplier its role in the chain when it has none; two requests doing that at
once each inserted a role and waited on the other's (a deadlock, a 500, found by
bench/api_load.py at 32 connections). Now the second waits for the first and sees its role.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from chaindb.db import make_engine
from chaindb.errors import Conflict
from chaindb.supply import service
from tests import factories_sql as make


@pytest.mark.slow
def test_two_links_for_a_new_supplier_at_once_both_land(scratch_database):
    url = scratch_database(migrated=True)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            chain_id = make.chain(conn)
            buyer = make.chain_master(conn, chain_id)
            supplier = make.enterprise(conn)

        first, second = Session(engine), Session(engine)
        link_one, _ = service.link_supplier(
            first,
            chain_master=str(buyer),
            body={"chain": chain_id, "supplier": supplier, "product": "轴承"},
        )
        outcome: dict[str, object] = {}

        def link_again() -> None:
            try:
                outcome["link"] = service.link_supplier(
                    second,
                    chain_master=str(buyer),
                    body={"chain": chain_id, "supplier": supplier, "product": "齿轮"},
                )
                second.commit()
            except Exception as error:  # the test reports it below
                outcome["error"] = error
                second.rollback()

        thread = threading.Thread(target=link_again)
        thread.start()
        thread.join(timeout=2)
        assert thread.is_alive(), "the second link did not wait for the first one's role"
        first.commit()
        thread.join(timeout=30)
        assert not thread.is_alive()
        assert "error" not in outcome, outcome.get("error")
        link_two, role_two = outcome["link"]
        assert role_two is None  # the first link's role serves the second
        with engine.connect() as conn:
            roles = conn.execute(
                text(
                    "SELECT count(*) FROM chain_role WHERE enterprise_id = :e AND chain_id = :c "
                    "AND role = 'supplier'"
                ),
                {"e": supplier, "c": chain_id},
            ).scalar_one()
            links = conn.execute(
                text("SELECT count(*) FROM supply_link WHERE supplier_id = :e"), {"e": supplier}
            ).scalar_one()
        assert (roles, links) == (1, 2) and link_one["id"] != link_two["id"]
        first.close()
        second.close()
    finally:
        engine.dispose()


def test_a_deadlock_is_a_409_asking_to_send_again(conn):
    from chaindb.errors import from_database_error

    conn.execute(text("SAVEPOINT before_deadlock"))
    try:
        conn.execute(
            text(
                "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = 'deadlock_detected', "
                "MESSAGE = 'deadlock detected'; END $$"
            )
        )
    except Exception as error:
        refusal = from_database_error(error)  # type: ignore[arg-type]
        assert isinstance(refusal, Conflict) and refusal.status == 409
        assert "send it again" in str(refusal)
    else:
        pytest.fail("no error raised")
    finally:
        conn.execute(text("ROLLBACK TO SAVEPOINT before_deadlock"))
