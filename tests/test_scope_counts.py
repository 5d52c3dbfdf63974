"""A list's count under row-level security reads the index alone (migration f3b5d7e9a1c4).

project_in_scope tests each counted row's district_id and chain_id. With both in the index a
list filters on, the count of a chain's (or a unit's) projects is an index-only scan; without,
it visits every heap page holding one of them, a cost that grows with the chain (docs/scaling.md:
the list's p99 grew 9 times for 5 times the data). The planner is kept from the sequential and
bitmap scans that a test's few rows would favour: what is checked is that the index covers
the policy, so that the index-only scan is possible.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from tests.factories_sql import chain, district, project


@pytest.mark.parametrize("column", ["chain_id", "district_id"])
def test_a_scoped_count_reads_only_the_index(conn: Connection, column: str):
    c, d = chain(conn), district(conn)
    for _ in range(3):
        project(conn, c, d)
    unit = conn.execute(text("SELECT id FROM unit WHERE kind = 'city'")).scalar_one()
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    conn.execute(text("SET LOCAL enable_bitmapscan = off"))
    conn.execute(text("SET LOCAL ROLE chaindb_app"))
    conn.execute(text("SELECT set_config('chaindb.unit_id', :u, true)"), {"u": str(unit)})
    value = c if column == "chain_id" else d
    plan = "\n".join(
        conn.execute(
            text(f"EXPLAIN SELECT count(*) FROM project WHERE {column} = :v"), {"v": value}
        ).scalars()
    )
    # Either scope index answers alone (on a few rows the planner may take the other one,
    # filtering its whole length); neither did before f3b5d7e9a1c4.
    assert "Index Only Scan using ix_project_" in plan, plan
    assert "Heap" not in plan and "Index Scan" not in plan.replace("Index Only Scan", ""), plan
    # The policy applies (as the app's role): it is the filter the index answers.
    assert "district_id" in plan and "chain_id" in plan, plan
    assert (
        conn.execute(
            text(f"SELECT count(*) FROM project WHERE {column} = :v"), {"v": value}
        ).scalar_one()
        == 3
    )
