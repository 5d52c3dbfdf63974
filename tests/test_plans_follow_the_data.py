"""Trigger statements keep their speed while a table grows inside one transaction.

PL/pgSQL caches a generic plan of each statement after five calls. A plan made while a table was
nearly empty (a sequential scan) stays for the whole transaction: no ANALYZE can invalidate it
while the rows are uncommitted. The first import of a city's projects, or the synthetic loader,
then slows with every row it writes. These tests grow the table inside the test's transaction and
read the plan the trigger really runs (auto_explain, reported to this session as a NOTICE).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, text

from tests.factories_sql import chain, district, project


def _notices(conn: Connection) -> Iterator[list[str]]:
    raw = conn.connection.driver_connection
    seen: list[str] = []

    def keep(diagnostic) -> None:
        seen.append(diagnostic.message_primary or "")

    raw.add_notice_handler(keep)
    try:
        yield seen
    finally:
        raw.remove_notice_handler(keep)


@pytest.fixture
def plans(conn: Connection) -> Iterator[list[str]]:
    """The plans of the statements run from here on, nested ones included (auto_explain)."""
    conn.execute(text("LOAD 'auto_explain'"))
    yield from _notices(conn)
    for setting in (
        "auto_explain.log_min_duration",
        "auto_explain.log_nested_statements",
        "auto_explain.log_level",
    ):
        conn.execute(text(f"RESET {setting}"))


def _explain_from_now(conn: Connection) -> None:
    conn.execute(text("SET LOCAL client_min_messages = notice"))
    conn.execute(text("SET LOCAL auto_explain.log_level = notice"))
    conn.execute(text("SET LOCAL auto_explain.log_nested_statements = on"))
    conn.execute(text("SET LOCAL auto_explain.log_min_duration = 0"))


def test_the_approved_copy_reads_milestones_by_key_as_the_table_grows(conn, plans):
    c, d = chain(conn), district(conn)
    # Thousands of approved projects in this transaction, each with its milestones: the trigger
    # that copies an approved project's milestones has long been planned when the last come.
    conn.execute(
        text(
            "INSERT INTO project (name, chain_id, district_id, investor_name, stage, signed_on, "
            "review_status) "
            "SELECT '增长项目' || n, :c, :d, '投资方' || n, 'signed', DATE '2024-05-01', "
            "'approved' FROM generate_series(1, 3000) AS n"
        ),
        {"c": c, "d": d},
    )
    _explain_from_now(conn)
    project(conn, c, d, stage="signed", signed_on="2024-06-01")
    copy = [plan for plan in plans if "INSERT INTO project_approved_milestone" in plan]
    assert copy, f"no plan of the milestone copy among {len(plans)} plans"
    assert "Seq Scan on project_milestone" not in copy[-1], copy[-1]
    assert "project_milestone" in copy[-1]
