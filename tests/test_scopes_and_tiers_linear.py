"""Migration c4e6a8b0d2f5: the scope functions in PL/pgSQL, supplier_tiers() linear.

The scope functions now look their tables up when they run (PL/pgSQL), not when they were
created: they name them with their schema, so a caller's own table called unit (a temporary one
comes first on the search_path) cannot widen what it sees. supplier_tiers() was rewritten for
speed; it must give the rows the breadth-first walk its comment describes, which a reference
walk in Python checks on random graphs with cycles.
"""

from __future__ import annotations

import random
from collections import deque

import pytest
from sqlalchemy import Connection, text

from tests import factories_sql as f
from tests.conftest import _unit


def _act(conn: Connection, unit_id: int) -> None:
    conn.execute(text("SET LOCAL ROLE chaindb_app"))
    conn.execute(text("SELECT set_config('chaindb.unit_id', :u, true)"), {"u": str(unit_id)})


def test_a_temporary_table_named_unit_does_not_widen_the_scope(conn: Connection):
    district = f.district(conn)
    unit = _unit(conn, "district-temp-unit", "district_office", district_id=district)
    district_office = conn.execute(
        text("SELECT id, district_id FROM unit WHERE id = :u"), {"u": unit}
    ).one()
    _act(conn, district_office.id)
    scopes = "SELECT scope_all(), scope_district(), scope_chains(), acting_unit()"
    before = conn.execute(text(scopes)).one()
    assert before == (False, district_office.district_id, None, district_office.id)
    # The app's role may make temporary tables; pg_temp is searched before public.
    conn.execute(
        text(
            "CREATE TEMPORARY TABLE unit (id bigint, kind text, district_id bigint, "
            "chain_id bigint, reader_role text) ON COMMIT DROP"
        )
    )
    conn.execute(
        text("INSERT INTO unit VALUES (:u, 'city', NULL, NULL, NULL)"), {"u": district_office.id}
    )
    assert conn.execute(text("SELECT count(*) FROM unit WHERE kind = 'city'")).scalar_one() == 1
    assert conn.execute(text(scopes)).one() == before


def test_each_scope_as_before_for_each_kind_of_unit(conn: Connection):
    iconic = f.chain(conn)
    f.key_chain(conn, parent_id=iconic)
    _unit(conn, "district-scope-1", "district_office", district_id=f.district(conn))
    _unit(conn, "chain-scope-1", "chain_office", chain_id=iconic)
    units = conn.execute(text("SELECT id, kind, district_id, chain_id FROM unit ORDER BY id")).all()
    kinds = {u.kind for u in units}
    assert {"city", "district_office", "chain_office"} <= kinds
    chains = conn.execute(text("SELECT id, parent_id FROM chain")).all()
    for unit in units:
        conn.execute(text("SAVEPOINT acting"))
        _act(conn, unit.id)
        found = conn.execute(
            text("SELECT scope_all(), scope_district(), scope_chains(), acting_unit()")
        ).one()
        conn.execute(text("ROLLBACK TO SAVEPOINT acting"))
        own = sorted(c.id for c in chains if unit.chain_id in (c.id, c.parent_id))
        assert found == (
            unit.kind == "city",
            unit.district_id,
            own if unit.chain_id is not None else None,
            unit.id,
        ), unit


def _reference_tiers(
    master: int, chain_links: set[tuple[int, int]], links: set[tuple[int, int]], max_tier: int
) -> dict[int, tuple[int, int, list[int]]]:
    """supplier -> (tier, via buyer, path), walked breadth first: tier 1 from the master's links
    in its chain, beyond from links of any chain; the lowest tier; the lowest buyer id one tier
    down; never the master."""
    suppliers_of: dict[int, set[int]] = {}
    for supplier, buyer in links:
        suppliers_of.setdefault(buyer, set()).add(supplier)
    tier = {s: 1 for s, b in chain_links if b == master}
    queue = deque(sorted(tier))
    while queue:
        buyer = queue.popleft()
        if tier[buyer] >= max_tier:
            continue
        for supplier in sorted(suppliers_of.get(buyer, ())):
            if supplier != master and supplier not in tier:
                tier[supplier] = tier[buyer] + 1
                queue.append(supplier)
    placed: dict[int, tuple[int, int, list[int]]] = {}
    for supplier in sorted(tier, key=lambda s: tier[s]):
        if tier[supplier] == 1:
            placed[supplier] = (1, master, [master, supplier])
            continue
        via = min(
            b for s, b in links if s == supplier and b in tier and tier[b] == tier[supplier] - 1
        )
        placed[supplier] = (tier[supplier], via, [*placed[via][2], supplier])
    return placed


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_supplier_tiers_is_the_breadth_first_walk(conn: Connection, seed: int):
    rng = random.Random(seed)
    home, other = f.chain(conn), f.chain(conn)
    # Every enterprise holds the chain-master role in both chains, so any may be a buyer.
    nodes = []
    for _ in range(24):
        e = f.enterprise(conn)
        f.chain_role(conn, e, home)
        f.chain_role(conn, e, other)
        nodes.append(e)
    links: set[tuple[int, int]] = set()
    home_links: set[tuple[int, int]] = set()
    while len(links) < 70:
        supplier, buyer = rng.sample(nodes, 2)
        if (supplier, buyer) in links:
            continue
        chain = home if rng.random() < 0.6 else other
        f.supply_link(conn, supplier, buyer, chain)
        links.add((supplier, buyer))
        if chain == home:
            home_links.add((supplier, buyer))
    # An ended link leads nowhere.
    ended_supplier, ended_buyer = next(
        (s, b) for s in nodes for b in nodes if s != b and (s, b) not in links
    )
    f.supply_link(conn, ended_supplier, ended_buyer, home, status="ended", until="2020-01-01")
    for master in rng.sample(nodes, 3):
        for max_tier in (1, 3, 5):
            rows = conn.execute(
                text(
                    "SELECT supplier_id, tier, via_buyer_id, path FROM supplier_tiers(:m, :t) "
                    "WHERE chain_id = :c"
                ),
                {"m": master, "t": max_tier, "c": home},
            ).all()
            found = {r.supplier_id: (r.tier, r.via_buyer_id, list(r.path)) for r in rows}
            assert len(found) == len(rows)
            assert found == _reference_tiers(master, home_links, links, max_tier), (
                master,
                max_tier,
            )
