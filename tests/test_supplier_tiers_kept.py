"""The supplier tiers kept in supplier_tier by supplier_tier_catch_up() are the tiers
supplier_tiers() computes from scratch, whatever the writes: a new link is placed, tier by tier
(no rebuild; migrations a5d8f2b6c9e1 and c8a0e2f4b6d9), a link gone takes out what hung on it
and places that again (e1b3d5f7a9c2), a changed chain-master role rebuilds that chain master."""

from __future__ import annotations

import random
from itertools import count, pairwise

import pytest
from sqlalchemy import Connection, text

from tests import factories_sql as f

ROWS = "chain_master_id, chain_id, supplier_id, tier, via_buyer_id, path"


def kept(conn: Connection) -> set[tuple]:
    return {
        (*row[:5], tuple(row[5])) for row in conn.execute(text(f"SELECT {ROWS} FROM supplier_tier"))
    }


def computed(conn: Connection) -> set[tuple]:
    """What supplier_tier_rebuild() would write: supplier_tiers(m, 5) for every live master."""
    return {
        (*row[:5], tuple(row[5]))
        for row in conn.execute(
            text(
                f"SELECT {', '.join('t.' + c for c in ROWS.split(', '))} FROM ("
                "  SELECT DISTINCT r.enterprise_id FROM chain_role AS r"
                "  WHERE r.role = 'chain_master' AND role_held_on(r, current_date)"
                ") AS m CROSS JOIN LATERAL supplier_tiers(m.enterprise_id, 5) AS t"
            )
        )
    }


def catch_up(conn: Connection) -> int:
    return conn.execute(text("SELECT supplier_tier_catch_up()")).scalar_one()


def rebuild(conn: Connection) -> None:
    conn.execute(text("SELECT supplier_tier_rebuild()"))


def xmins(conn: Connection, master: int) -> dict[int, str]:
    return dict(
        conn.execute(
            text("SELECT supplier_id, xmin::text FROM supplier_tier WHERE chain_master_id = :m"),
            {"m": master},
        ).all()
    )


@pytest.fixture
def graph(conn):
    """Two chains; a master of each that is also a supplier of the other; a leaf below each."""
    a, b = f.chain(conn), f.chain(conn)
    ma, mb = f.chain_master(conn, a), f.chain_master(conn, b)
    la, lb = f.enterprise(conn), f.enterprise(conn)
    f.supply_link(conn, la, ma, a, status="active")
    f.supply_link(conn, lb, mb, b, status="active")
    f.supply_link(conn, mb, ma, a, status="active")  # mb: tier 1 of ma, lb: tier 2 of ma
    rebuild(conn)
    return {"a": a, "b": b, "ma": ma, "mb": mb, "la": la, "lb": lb}


def test_a_new_leaf_is_placed_in_every_tree_that_holds_its_buyer_without_a_rebuild(conn, graph):
    g = graph
    before_a, before_b = xmins(conn, g["ma"]), xmins(conn, g["mb"])
    leaf = f.enterprise(conn)
    f.supply_link(conn, leaf, g["mb"], g["b"], status="active")
    assert conn.execute(
        text("SELECT link_id IS NOT NULL FROM supplier_tier_stale")
    ).scalars().all() == [True]
    assert catch_up(conn) == 0  # no chain master rebuilt
    assert kept(conn) == computed(conn)
    assert (g["mb"], g["b"], leaf, 1, g["mb"], (g["mb"], leaf)) in kept(conn)
    assert (g["ma"], g["a"], leaf, 2, g["mb"], (g["ma"], g["mb"], leaf)) in kept(conn)
    # The rows already there were not written again.
    assert {k: v for k, v in xmins(conn, g["ma"]).items() if k != leaf} == before_a
    assert {k: v for k, v in xmins(conn, g["mb"]).items() if k != leaf} == before_b


def test_a_leaf_moves_up_a_tier_and_a_lower_buyer_id_becomes_its_via(conn, graph):
    g = graph
    # lb, tier 2 of ma through mb, now supplies ma directly: tier 1.
    f.supply_link(conn, g["lb"], g["ma"], g["a"], status="active")
    catch_up(conn)
    assert kept(conn) == computed(conn)
    assert (g["ma"], g["a"], g["lb"], 1, g["ma"], (g["ma"], g["lb"])) in kept(conn)
    # Two masters of chain b at tier 1 of ma (x1's id the lower): a leaf linked to x2, then to
    # x1, stays at tier 2 of ma and takes x1 as its via.
    x1, x2 = f.chain_master(conn, g["b"]), f.chain_master(conn, g["b"])
    assert x1 < x2
    f.supply_link(conn, x1, g["ma"], g["a"], status="active")
    f.supply_link(conn, x2, g["ma"], g["a"], status="active")
    catch_up(conn)
    leaf = f.enterprise(conn)
    f.supply_link(conn, leaf, x2, g["b"], status="active")
    assert catch_up(conn) == 0
    assert (g["ma"], g["a"], leaf, 2, x2, (g["ma"], x2, leaf)) in kept(conn)
    f.supply_link(conn, leaf, x1, g["b"], status="active")
    assert catch_up(conn) == 0
    assert (g["ma"], g["a"], leaf, 2, x1, (g["ma"], x1, leaf)) in kept(conn)
    assert kept(conn) == computed(conn)


def test_a_proposed_link_made_active_is_placed_and_one_ended_is_taken_out(conn, graph):
    g = graph
    leaf = f.enterprise(conn)
    link = f.supply_link(conn, leaf, g["mb"], g["b"], status="proposed")
    assert catch_up(conn) == 0
    assert leaf not in {row[2] for row in kept(conn)}
    conn.execute(text("UPDATE supply_link SET status = 'active' WHERE id = :l"), {"l": link})
    assert catch_up(conn) == 0
    assert kept(conn) == computed(conn)
    assert leaf in {row[2] for row in kept(conn)}
    conn.execute(
        text("UPDATE supply_link SET status = 'ended', until = current_date WHERE id = :l"),
        {"l": link},
    )
    assert conn.execute(
        text("SELECT enterprise_id, supplier_id, link_id FROM supplier_tier_stale")
    ).all() == [(g["mb"], leaf, None)]
    untouched = {key: ctid for key, ctid in ctids(conn).items() if key[2] != leaf}
    assert catch_up(conn) == 0  # nothing rebuilt (migration e1b3d5f7a9c2)
    assert kept(conn) == computed(conn)
    assert leaf not in {row[2] for row in kept(conn)}
    assert ctids(conn) == untouched


def test_a_link_from_a_supplier_that_buys_is_placed_with_its_suppliers_not_rebuilt(conn, graph):
    g = graph
    # la becomes a chain master of b and buys from a new enterprise: la is no leaf now.
    f.chain_role(conn, g["la"], g["b"], "chain_master")
    below = f.enterprise(conn)
    f.supply_link(conn, below, g["la"], g["b"], status="active")
    catch_up(conn)
    assert kept(conn) == computed(conn)
    # A new link from la to mb: la and its supplier are placed in mb's tiers (tier 1 and 2),
    # where they were not, and nothing is rebuilt (migration c8a0e2f4b6d9). In ma's tiers la
    # stays at tier 1 (it supplies ma), not at 2 through mb: ma's rows are left alone.
    untouched = {key: ctid for key, ctid in ctids(conn).items() if key[0] == g["ma"]}
    f.supply_link(conn, g["la"], g["mb"], g["b"], status="active")
    assert catch_up(conn) == 0
    assert kept(conn) == computed(conn)
    assert (g["mb"], g["b"], g["la"], 1, g["mb"], (g["mb"], g["la"])) in kept(conn)
    assert (g["mb"], g["b"], below, 2, g["la"], (g["mb"], g["la"], below)) in kept(conn)
    assert {key: ctid for key, ctid in ctids(conn).items() if key[0] == g["ma"]} == untouched


def test_a_chain_masters_tree_moves_up_under_another_and_stops_where_it_would_not(conn):
    """A chain of masters m0 <- m1 <- ... <- m6 (each supplies the one before) with a leaf on
    each; a link from m3 straight to m0 lifts m3's whole tree two tiers in m0's tiers and brings
    in what lay beyond tier 5; a row already higher (through a lower-id buyer) stays put."""
    chain = f.chain(conn)
    masters = [f.chain_master(conn, chain) for _ in range(7)]
    leaves = [f.enterprise(conn) for _ in masters]
    for below, above in pairwise(masters):
        f.supply_link(conn, above, below, chain, status="active")
    for master, leaf in zip(masters, leaves, strict=True):
        f.supply_link(conn, leaf, master, chain, status="active")
    rebuild(conn)
    rows = {(m, s): tier for m, _c, s, tier, _v, _p in kept(conn)}
    assert rows[(masters[0], masters[5])] == 5
    assert (masters[0], masters[6]) not in rows
    f.supply_link(conn, masters[3], masters[0], chain, status="active")
    assert catch_up(conn) == 0
    assert kept(conn) == computed(conn)
    rows = {(m, s): tier for m, _c, s, tier, _v, _p in kept(conn)}
    assert rows[(masters[0], masters[3])] == 1
    assert rows[(masters[0], masters[6])] == 4
    assert rows[(masters[0], leaves[6])] == 5
    assert rows[(masters[0], masters[1])] == 1  # untouched


@pytest.mark.parametrize("seed", range(1, 25))
def test_kept_tiers_match_a_rebuild_after_bursts_of_links_between_chain_masters(conn, seed):
    """Only new links, many between chain masters (each with suppliers of its own), several
    in one catch-up, some to the same supplier: each is placed, nothing is rebuilt, and the
    kept tiers are what a rebuild computes."""
    rng = random.Random(seed)
    products = count()
    chains = [f.chain(conn) for _ in range(2)]
    masters: dict[int, list[int]] = {}
    for _ in range(8):
        held = rng.sample(chains, rng.choice([1, 1, 2]))
        e = f.chain_master(conn, held[0])
        for c in held[1:]:
            f.chain_role(conn, e, c, "chain_master")
        masters[e] = held
    plain = [f.enterprise(conn) for _ in range(20)]
    everyone = [*masters, *plain]
    pairs: set[tuple[int, int, int]] = set()

    def new_link(supplier_pool: list[int]) -> None:
        buyer = rng.choice(list(masters))
        supplier = rng.choice([e for e in supplier_pool if e != buyer])
        chain = rng.choice(masters[buyer])
        if (supplier, buyer, chain) not in pairs:
            pairs.add((supplier, buyer, chain))
            f.supply_link(conn, supplier, buyer, chain, status="active",
                          product=f"p{next(products)}")  # fmt: skip

    for _ in range(15):
        new_link(plain)
    rebuild(conn)
    for _round in range(10):
        for _ in range(rng.randint(1, 5)):
            new_link(list(masters) if rng.random() < 0.6 else everyone)
        assert catch_up(conn) == 0
        assert kept(conn) == computed(conn), f"seed {seed}, round {_round}"


def test_a_leaf_is_placed_down_to_tier_5_and_no_further(conn):
    chain = f.chain(conn)
    masters = [f.chain_master(conn, chain) for _ in range(6)]
    for below, above in pairwise(masters):
        f.supply_link(conn, above, below, chain, status="active")  # masters[k]: tier k of [0]
    rebuild(conn)
    fourth, fifth = f.enterprise(conn), f.enterprise(conn)
    f.supply_link(conn, fourth, masters[4], chain, status="active")
    f.supply_link(conn, fifth, masters[5], chain, status="active")
    assert catch_up(conn) == 0
    rows = {(m, s): tier for m, _c, s, tier, _v, _p in kept(conn)}
    assert rows[(masters[0], fourth)] == 5
    assert (masters[0], fifth) not in rows  # it would be tier 6
    assert rows[(masters[1], fifth)] == 5
    assert kept(conn) == computed(conn)


@pytest.mark.parametrize("seed", range(1, 25))
def test_kept_tiers_match_a_rebuild_after_random_writes(conn, seed):
    rng = random.Random(seed)
    products = count()
    chains = [f.chain(conn) for _ in range(3)]
    masters: dict[int, set[int]] = {}  # enterprise -> chains where it is a chain master
    for _ in range(7):
        held = set(rng.sample(chains, rng.choice([1, 1, 2])))
        e = f.chain_master(conn, next(iter(held)))
        for c in held - {next(iter(held))}:
            f.chain_role(conn, e, c, "chain_master")
        masters[e] = held
    plain = [f.enterprise(conn) for _ in range(25)]
    everyone = [*masters, *plain]

    def new_link(status: str = "active") -> int | None:
        buyer = rng.choice(list(masters))
        supplier = rng.choice([e for e in everyone if e != buyer])
        chain = rng.choice(sorted(masters[buyer]))
        return f.supply_link(
            conn, supplier, buyer, chain, status=status, product=f"p{next(products)}"
        )

    links = [new_link() for _ in range(30)]
    rebuild(conn)
    assert kept(conn) == computed(conn)

    for _round in range(8):
        for _ in range(rng.randint(1, 6)):
            op = rng.random()
            if op < 0.55:
                links.append(new_link())
            elif op < 0.65:
                link = new_link("proposed")
                conn.execute(
                    text("UPDATE supply_link SET status = 'active' WHERE id = :l"), {"l": link}
                )
                links.append(link)
            elif op < 0.75 and links:
                link = links.pop(rng.randrange(len(links)))
                conn.execute(
                    text(
                        "UPDATE supply_link SET status = 'ended', until = current_date "
                        "WHERE id = :l"
                    ),
                    {"l": link},
                )
            elif op < 0.85 and links:
                conn.execute(
                    text("DELETE FROM supply_link WHERE id = :l"),
                    {"l": links.pop(rng.randrange(len(links)))},
                )
            elif op < 0.88 and links:
                # An active link moved to another chain master of its chain.
                link = rng.choice(links)
                chain = conn.execute(
                    text("SELECT chain_id FROM supply_link WHERE id = :l AND status = 'active'"),
                    {"l": link},
                ).scalar()
                buyers = [m for m, held in masters.items() if chain in held]
                if chain is not None and buyers:
                    conn.execute(
                        text(
                            "UPDATE supply_link SET buyer_id = :b WHERE id = :l "
                            "AND supplier_id <> :b"
                        ),
                        {"b": rng.choice(buyers), "l": link},
                    )
            elif op < 0.93:
                # A plain enterprise made a chain master (its tiers appear).
                e = rng.choice(plain)
                c = rng.choice(chains)
                if c not in masters.get(e, set()):
                    f.chain_role(conn, e, c, "chain_master")
                    masters.setdefault(e, set()).add(c)
            else:
                # In one catch-up: a new enterprise linked as a leaf, then made a chain master
                # with a supplier of its own (no leaf any more when caught up).
                leaf = f.enterprise(conn)
                plain.append(leaf)
                everyone.append(leaf)
                buyer = rng.choice(list(masters))
                links.append(
                    f.supply_link(conn, leaf, buyer, rng.choice(sorted(masters[buyer])),
                                  status="active", product=f"p{next(products)}")
                )  # fmt: skip
                f.chain_role(conn, leaf, chains[0], "chain_master")
                masters[leaf] = {chains[0]}
                links.append(
                    f.supply_link(conn, rng.choice(plain[:-1]), leaf, chains[0],
                                  status="active", product=f"p{next(products)}")
                )  # fmt: skip
        catch_up(conn)
        assert kept(conn) == computed(conn), f"seed {seed}, round {_round}"


def ctids(conn: Connection) -> dict[tuple[int, int, int], str]:
    """Where each row of supplier_tier lies: a row written again (even in the same
    transaction) lies elsewhere."""
    return dict(
        ((m, c, s), ctid)
        for m, c, s, ctid in conn.execute(
            text("SELECT chain_master_id, chain_id, supplier_id, ctid::text FROM supplier_tier")
        )
    )


def test_a_rebuild_writes_only_the_difference(conn, graph):
    """supplier_tier_rebuild() leaves a row that has not changed where it is, and returns the
    rows it inserted or updated (migration d9e4b6a1c3f7)."""
    g = graph

    def rebuild_of(masters: list[int] | None) -> int:
        return conn.execute(
            text("SELECT supplier_tier_rebuild(CAST(:m AS bigint[]))"), {"m": masters}
        ).scalar_one()

    before = ctids(conn)
    assert rebuild_of(None) == 0
    assert rebuild_of([g["ma"], g["mb"]]) == 0
    assert ctids(conn) == before

    # A new supplier of mb (tier 1 of ma): a row added to each tree, at tier 1 and 2.
    new = f.enterprise(conn)
    f.supply_link(conn, new, g["mb"], g["b"], status="active")
    assert rebuild_of([g["ma"], g["mb"]]) == 2
    after = ctids(conn)
    assert {key: ctid for key, ctid in after.items() if key in before} == before
    assert set(after) - set(before) == {(g["ma"], g["a"], new), (g["mb"], g["b"], new)}
    assert kept(conn) == computed(conn)

    # la's link to ma ended: its row deleted, nothing written.
    conn.execute(
        text(
            "UPDATE supply_link SET status = 'ended', until = current_date WHERE supplier_id = :s"
        ),
        {"s": g["la"]},
    )
    assert rebuild_of([g["ma"]]) == 0
    assert (g["ma"], g["a"], g["la"]) not in ctids(conn)
    assert kept(conn) == computed(conn)

    # lb linked to ma too: its row in ma's tree changes, no other.
    f.supply_link(conn, g["lb"], g["ma"], g["a"], status="active")
    assert rebuild_of([g["ma"]]) == 1  # lb: tier 2 via mb -> tier 1 via ma
    assert kept(conn) == computed(conn)


def end(conn: Connection, link: int) -> None:
    conn.execute(
        text("UPDATE supply_link SET status = 'ended', until = current_date WHERE id = :l"),
        {"l": link},
    )


def test_a_link_gone_takes_out_what_hung_on_it_and_places_it_again(conn):
    """Masters m0 <- m1 <- ... <- m5 in one chain (each supplies the one before), a leaf on each.
    Ending m1 -> m0 takes m1's subtree out of m0's tiers; nothing of it comes back (m1 supplies
    only m0), so it is gone from m0's tiers; the rows of every other chain master stay where
    they lie."""
    chain = f.chain(conn)
    masters = [f.chain_master(conn, chain) for _ in range(6)]
    leaves = [f.enterprise(conn) for _ in masters]
    links = {}
    for below, above in pairwise(masters):
        links[above, below] = f.supply_link(conn, above, below, chain, status="active")
    for master, leaf in zip(masters, leaves, strict=True):
        f.supply_link(conn, leaf, master, chain, status="active")
    rebuild(conn)
    others = {key: ctid for key, ctid in ctids(conn).items() if key[0] != masters[0]}

    end(conn, links[masters[1], masters[0]])
    assert conn.execute(
        text("SELECT enterprise_id, supplier_id, link_id FROM supplier_tier_stale")
    ).all() == [(masters[0], masters[1], None)]
    assert catch_up(conn) == 0
    assert kept(conn) == computed(conn)
    rows = {(m, s) for m, _c, s, *_ in kept(conn)}
    assert {(masters[0], e) for e in [*masters[1:], *leaves[1:]]}.isdisjoint(rows)
    assert (masters[0], leaves[0]) in rows
    assert {key: ctid for key, ctid in ctids(conn).items() if key[0] != masters[0]} == others


def test_what_a_link_gone_held_up_comes_back_through_another_buyer(conn):
    """m2's tree hangs under m1 at tier 2 of m0; m2 also supplies x, another chain master that
    supplies m0, whose id is higher than m1's. Ending m2 -> m1 puts m2 back at tier 2 through x, and
    its leaf at tier 3 with the new path; a leaf's link to m1 in a second chain ended while its
    link in the first stays leaves the leaf where it was."""
    chain, other = f.chain(conn), f.chain(conn)
    m0, m1 = f.chain_master(conn, chain), f.chain_master(conn, chain)
    f.chain_role(conn, m1, other, "chain_master")
    x = f.chain_master(conn, chain)
    m2 = f.chain_master(conn, chain)
    leaf, twice = f.enterprise(conn), f.enterprise(conn)
    f.supply_link(conn, m1, m0, chain, status="active")
    f.supply_link(conn, x, m0, chain, status="active")
    gone = f.supply_link(conn, m2, m1, chain, status="active")
    f.supply_link(conn, m2, x, chain, status="active")
    f.supply_link(conn, leaf, m2, chain, status="active")
    f.supply_link(conn, twice, m1, chain, status="active")
    second = f.supply_link(conn, twice, m1, other, status="active")
    rebuild(conn)
    assert m1 < x
    assert (m0, chain, m2, 2, m1, (m0, m1, m2)) in kept(conn)

    before = ctids(conn)
    end(conn, second)
    assert catch_up(conn) == 0
    assert kept(conn) == computed(conn)
    # twice: in m1's tiers of `other` it was tier 1 through that link (gone); in m0's tiers it
    # sits at tier 2 through m1 by the link of `chain`, which stays.
    assert (m1, other, twice) not in ctids(conn)
    assert {k: v for k, v in ctids(conn).items() if k != (m1, other, twice)} == {
        k: v for k, v in before.items() if k != (m1, other, twice)
    }

    end(conn, gone)
    assert catch_up(conn) == 0
    assert kept(conn) == computed(conn)
    assert (m0, chain, m2, 2, x, (m0, x, m2)) in kept(conn)
    assert (m0, chain, leaf, 3, m2, (m0, x, m2, leaf)) in kept(conn)


def test_a_link_moved_while_active_is_queued_gone_and_new(conn, graph):
    g = graph
    leaf = f.enterprise(conn)
    link = f.supply_link(conn, leaf, g["mb"], g["b"], status="active")
    catch_up(conn)
    conn.execute(
        text("UPDATE supply_link SET buyer_id = :b, chain_id = :c WHERE id = :l"),
        {"b": g["ma"], "c": g["a"], "l": link},
    )
    assert sorted(
        conn.execute(
            text("SELECT enterprise_id, supplier_id, link_id FROM supplier_tier_stale")
        ).all(),
        key=str,
    ) == sorted([(g["mb"], leaf, None), (g["ma"], None, link)], key=str)
    assert catch_up(conn) == 0
    assert kept(conn) == computed(conn)
    assert (g["mb"], g["b"], leaf) not in ctids(conn)
    assert (g["ma"], g["a"], leaf, 1, g["ma"], (g["ma"], leaf)) in kept(conn)


def test_a_changed_role_rebuilds_only_its_holder(conn, graph):
    """mb made a chain master of chain a too: mb is rebuilt, not ma, whose tiers hold mb (its
    tiers do not depend on mb's roles)."""
    g = graph
    others = {key: ctid for key, ctid in ctids(conn).items() if key[0] != g["mb"]}
    f.chain_role(conn, g["mb"], g["a"], "chain_master")
    leaf = f.enterprise(conn)
    f.supply_link(conn, leaf, g["mb"], g["a"], status="active")
    assert catch_up(conn) == 1
    assert kept(conn) == computed(conn)
    assert (g["mb"], g["a"], leaf, 1, g["mb"], (g["mb"], leaf)) in kept(conn)
    # ma's rows where they lay, beside the new leaf's row (tier 2, through mb).
    assert {key: ctid for key, ctid in ctids(conn).items() if key[0] != g["mb"]} == {
        **others,
        (g["ma"], g["a"], leaf): ctids(conn)[g["ma"], g["a"], leaf],
    }


@pytest.mark.parametrize("seed", range(1, 25))
def test_kept_tiers_match_a_rebuild_after_links_between_chain_masters_come_and_go(conn, seed):
    """Links between chain masters (each with suppliers of its own) added, ended, deleted,
    turned proposed, moved to another buyer or chain, several in one catch-up: nothing is
    rebuilt, and the kept tiers are what a rebuild computes."""
    rng = random.Random(seed)
    products = count()
    chains = [f.chain(conn) for _ in range(2)]
    masters: dict[int, list[int]] = {}
    for _ in range(8):
        held = rng.sample(chains, rng.choice([1, 1, 2]))
        e = f.chain_master(conn, held[0])
        for c in held[1:]:
            f.chain_role(conn, e, c, "chain_master")
        masters[e] = held
    plain = [f.enterprise(conn) for _ in range(20)]
    everyone = [*masters, *plain]
    live: list[int] = []

    def new_link(supplier_pool: list[int], status: str = "active") -> None:
        buyer = rng.choice(list(masters))
        supplier = rng.choice([e for e in supplier_pool if e != buyer])
        chain = rng.choice(masters[buyer])
        live.append(
            f.supply_link(conn, supplier, buyer, chain, status=status,
                          product=f"p{next(products)}")
        )  # fmt: skip

    for _ in range(25):
        new_link(plain if rng.random() < 0.5 else everyone)
    rebuild(conn)
    for _round in range(12):
        for _ in range(rng.randint(1, 6)):
            op = rng.random()
            if op < 0.35 or not live:
                new_link(list(masters) if rng.random() < 0.6 else everyone)
            elif op < 0.5:
                end(conn, live.pop(rng.randrange(len(live))))
            elif op < 0.6:
                conn.execute(
                    text("DELETE FROM supply_link WHERE id = :l"),
                    {"l": live.pop(rng.randrange(len(live)))},
                )
            elif op < 0.75:
                # Turned proposed, and perhaps back in the same catch-up.
                link = rng.choice(live)
                conn.execute(
                    text("UPDATE supply_link SET status = 'proposed' WHERE id = :l"), {"l": link}
                )
                if rng.random() < 0.3:
                    conn.execute(
                        text("UPDATE supply_link SET status = 'active' WHERE id = :l"),
                        {"l": link},
                    )
            elif op < 0.85:
                # Made active again, if it was turned proposed.
                conn.execute(
                    text("UPDATE supply_link SET status = 'active' WHERE id = :l"),
                    {"l": rng.choice(live)},
                )
            elif op < 0.9:
                # Another supplier, the same buyer and chain.
                link = rng.choice(live)
                conn.execute(
                    text(
                        "UPDATE supply_link SET supplier_id = :s WHERE id = :l AND :s <> buyer_id "
                        "AND NOT EXISTS (SELECT 1 FROM supply_link AS o WHERE o.id <> :l "
                        "AND o.status <> 'ended' AND (o.supplier_id, o.buyer_id, o.chain_id, "
                        "o.product) = (SELECT :s, buyer_id, chain_id, product FROM supply_link "
                        "WHERE id = :l))"
                    ),
                    {"s": rng.choice(everyone), "l": link},
                )
            else:
                # Moved to another chain master, in one of its chains.
                link = rng.choice(live)
                supplier = conn.execute(
                    text("SELECT supplier_id FROM supply_link WHERE id = :l"), {"l": link}
                ).scalar_one()
                buyer = rng.choice([m for m in masters if m != supplier])
                conn.execute(
                    text(
                        "UPDATE supply_link SET buyer_id = :b, chain_id = :c WHERE id = :l "
                        "AND NOT EXISTS (SELECT 1 FROM supply_link AS o WHERE o.id <> :l "
                        "AND o.status <> 'ended' AND (o.supplier_id, o.buyer_id, o.chain_id, "
                        "o.product) = (:s, :b, :c, (SELECT product FROM supply_link WHERE id = :l)))"
                    ),
                    {"b": buyer, "c": rng.choice(masters[buyer]), "l": link, "s": supplier},
                )
        assert catch_up(conn) == 0
        assert kept(conn) == computed(conn), f"seed {seed}, round {_round}"


@pytest.mark.parametrize(("rebuild_above", "placed_again"), [(1000, 2), (0, 0)])
def test_a_chain_master_with_much_of_its_tiers_cut_is_rebuilt_instead(
    conn, rebuild_above, placed_again
):
    """m2 and its leaf hang on m2 -> m1 in m0's tiers (5 rows); the link ended, both come back
    through x. Placed again row by row, or, past `rebuild_above` rows cut and a sixth of the
    tree, m0 rebuilt: the same rows either way."""
    chain = f.chain(conn)
    m0, m1, x, m2 = (f.chain_master(conn, chain) for _ in range(4))
    leaf, other = f.enterprise(conn), f.enterprise(conn)
    f.supply_link(conn, m1, m0, chain, status="active")
    f.supply_link(conn, x, m0, chain, status="active")
    gone = f.supply_link(conn, m2, m1, chain, status="active")
    f.supply_link(conn, m2, x, chain, status="active")
    f.supply_link(conn, leaf, m2, chain, status="active")
    f.supply_link(conn, other, m1, chain, status="active")
    rebuild(conn)
    end(conn, gone)
    taken = conn.execute(
        text("DELETE FROM supplier_tier_stale RETURNING enterprise_id, supplier_id, link_id")
    ).all()
    assert taken == [(m1, m2, None)]
    assert (
        conn.execute(
            text("SELECT supplier_tier_unplace(ARRAY[:b], ARRAY[:s], rebuild_above => :above)"),
            {"b": m1, "s": m2, "above": rebuild_above},
        ).scalar_one()
        == placed_again
    )
    assert kept(conn) == computed(conn)
    assert (m0, chain, leaf, 3, m2, (m0, x, m2, leaf)) in kept(conn)


def test_a_row_cut_comes_back_deeper_and_its_subtree_with_it(conn):
    """m2 hangs on m2 -> m1 at tier 2 of m0, its leaf at tier 3; m2 also supplies y, which
    supplies x, which supplies m0. Ending m2 -> m1 brings m2 back at tier 3 through y, and the
    leaf at tier 4 with the new path."""
    chain = f.chain(conn)
    m0, m1, m2, x, y = (f.chain_master(conn, chain) for _ in range(5))
    leaf = f.enterprise(conn)
    f.supply_link(conn, m1, m0, chain, status="active")
    gone = f.supply_link(conn, m2, m1, chain, status="active")
    f.supply_link(conn, leaf, m2, chain, status="active")
    f.supply_link(conn, x, m0, chain, status="active")
    f.supply_link(conn, y, x, chain, status="active")
    f.supply_link(conn, m2, y, chain, status="active")
    rebuild(conn)
    assert (m0, chain, leaf, 3, m2, (m0, m1, m2, leaf)) in kept(conn)
    end(conn, gone)
    assert catch_up(conn) == 0
    assert kept(conn) == computed(conn)
    assert (m0, chain, m2, 3, y, (m0, x, y, m2)) in kept(conn)
    assert (m0, chain, leaf, 4, m2, (m0, x, y, m2, leaf)) in kept(conn)


def test_a_link_committed_while_the_queue_is_caught_up_is_not_lost(conn):
    """The catch-up runs in READ COMMITTED: a link committed after it took the queue is seen by
    its later statements though the queue it took does not name it. Here such a link (s -> z)
    would bring s, cut when s1 -> b ended, back at tier 3 (it was at 4), and w, which s's new
    tier puts at 4 (it sat at 5 through u), would be left behind; its chain master is rebuilt
    instead. The race is played by taking the link's queue row away for one catch-up."""
    chain = f.chain(conn)
    m, a, b, z, r, u, s1, q, s = (f.chain_master(conn, chain) for _ in range(9))
    w = f.enterprise(conn)
    links = {
        (sup, buy): f.supply_link(conn, sup, buy, chain, status="active")
        for sup, buy in [(a, m), (b, m), (z, a), (r, z), (u, r), (s1, b), (q, s1), (s, q),
                         (w, u), (w, s)]
    }  # fmt: skip
    rebuild(conn)
    assert (m, chain, w, 5, u) in {row[:5] for row in kept(conn)}
    end(conn, links[s1, b])
    late = f.supply_link(conn, s, z, chain, status="active")
    hidden = conn.execute(
        text("DELETE FROM supplier_tier_stale WHERE link_id = :l RETURNING enterprise_id"),
        {"l": late},
    ).scalar_one()
    catch_up(conn)
    conn.execute(
        text("INSERT INTO supplier_tier_stale (enterprise_id, link_id) VALUES (:e, :l)"),
        {"e": hidden, "l": late},
    )
    catch_up(conn)
    assert kept(conn) == computed(conn)
    assert (m, chain, w, 4, s) in {row[:5] for row in kept(conn)}


def test_the_migration_takes_the_queue_under_the_rules_it_was_written_by(scratch_database):
    """Migration e1b3d5f7a9c2 changes what a queued enterprise alone means (before it: a link's
    buyer or a role's holder; after it: a role's holder only), so it catches up what the old
    trigger queued before the change, and what the new one queued before a downgrade drops
    supplier_id: either way no link gone is lost."""
    from chaindb.db import make_engine
    from tests.conftest import migrate

    url = scratch_database(migrated=True)
    engine = make_engine(url)
    try:
        migrate(url, "c8a0e2f4b6d9", action="downgrade")
        with engine.begin() as conn:
            g = _two_masters_and_a_leaf(conn)
            end(conn, g["link"])  # queued by the old trigger: mb alone
            assert conn.execute(text("SELECT enterprise_id FROM supplier_tier_stale")).all() == [
                (g["mb"],)
            ]
        migrate(url)
        with engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM supplier_tier_stale")).scalar() == 0
            assert kept(conn) == computed(conn)
            assert g["leaf"] not in {row[2] for row in kept(conn)}
            back = f.supply_link(conn, g["leaf"], g["mb"], g["b"], status="active", product="x")
            catch_up(conn)
            end(conn, back)  # queued by the new trigger: mb and the leaf
            assert conn.execute(
                text("SELECT enterprise_id, supplier_id FROM supplier_tier_stale")
            ).all() == [(g["mb"], g["leaf"])]
        migrate(url, "c8a0e2f4b6d9", action="downgrade")
        with engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM supplier_tier_stale")).scalar() == 0
            assert kept(conn) == computed(conn)
            assert g["leaf"] not in {row[2] for row in kept(conn)}
        migrate(url)
    finally:
        engine.dispose()


def _two_masters_and_a_leaf(conn: Connection) -> dict[str, int]:
    """mb supplies ma; a leaf supplies mb (tier 1 of mb, tier 2 of ma); caught up."""
    a, b = f.chain(conn), f.chain(conn)
    ma, mb = f.chain_master(conn, a), f.chain_master(conn, b)
    leaf = f.enterprise(conn)
    f.supply_link(conn, mb, ma, a, status="active")
    link = f.supply_link(conn, leaf, mb, b, status="active")
    rebuild(conn)
    assert (ma, a, leaf, 2, mb, (ma, mb, leaf)) in kept(conn)
    return {"a": a, "b": b, "ma": ma, "mb": mb, "leaf": leaf, "link": link}
