"""The chain overview and the chain masters' suppliers kept in chain_overview and
chain_master_supply (migration e3f5a7c9b1d2) are the figures the materialized views they replace
computed from scratch, whatever the writes; a catch-up computes only what the writes queued."""

from __future__ import annotations

import random
from itertools import count

import pytest
from sqlalchemy import Connection, text

from chaindb.migrations import released
from tests import factories_sql as f

# The definitions these views had as materialized views, created beside them under another name.
BEFORE = {
    "report_chain_overview": ("4b8e2d6f1a93", "chain_id"),
    "report_chain_master_suppliers": ("8d4f6a2c1e73", "chain_master_id, chain_id"),
}


@pytest.fixture
def before(conn):
    """The materialized views as they were, as before_<view>; refreshed by compare()."""
    for view, (revision, _key) in BEFORE.items():
        create = released(revision).VIEW_SQL[view].replace(view, f"before_{view}")
        conn.exec_driver_sql(create, execution_options={"no_parameters": True})


def rows(conn: Connection, relation: str, key: str) -> list[tuple]:
    return [tuple(r) for r in conn.execute(text(f"SELECT * FROM {relation} ORDER BY {key}"))]


def compare(conn: Connection) -> None:
    """Each kept view shows what its materialized definition computes now."""
    for view, (_revision, key) in BEFORE.items():
        conn.exec_driver_sql(f"REFRESH MATERIALIZED VIEW before_{view}")
        assert rows(conn, view, key) == rows(conn, f"before_{view}", key), view


def catch_up(conn: Connection) -> tuple[int, int]:
    return (
        conn.execute(text("SELECT chain_overview_catch_up()")).scalar_one(),
        conn.execute(text("SELECT chain_master_supply_catch_up()")).scalar_one(),
    )


def rebuild(conn: Connection) -> None:
    conn.execute(text("SELECT chain_overview_rebuild(NULL)"))
    conn.execute(text("SELECT chain_master_supply_rebuild(NULL, NULL)"))


def ctids(conn: Connection, table: str, key: str) -> dict[tuple, str]:
    """Where each row lies: a row written again (even in the same transaction) lies elsewhere."""
    return {
        tuple(r[:-1]): r[-1] for r in conn.execute(text(f"SELECT {key}, ctid::text FROM {table}"))
    }


def figures(conn: Connection, view: str, where: str, **params: object) -> dict:
    return dict(conn.execute(text(f"SELECT * FROM {view} WHERE {where}"), params).mappings().one())


@pytest.fixture
def world(conn):
    """Two chains, a chain master of each, three suppliers (one outside the city), a project."""
    district = f.district(conn)
    a, b = f.chain(conn), f.chain(conn)
    ma, mb = f.chain_master(conn, a), f.chain_master(conn, b)
    local = f.enterprise(conn, district_id=district, size="small")
    other = f.enterprise(conn, district_id=district, size="large")
    outside = f.enterprise(conn, size="medium")
    f.supply_link(conn, local, ma, a, status="active", annual_value_cny_10k=100)
    f.supply_link(conn, outside, ma, a, status="active", annual_value_cny_10k=300)
    f.supply_link(conn, other, mb, b, status="active")
    f.project(conn, a, district, stage="signed", agreed_investment_cny_100m=5)
    rebuild(conn)
    return {"district": district, "a": a, "b": b, "ma": ma, "mb": mb, "local": local,
            "other": other, "outside": outside}  # fmt: skip


def test_a_link_is_counted_after_the_catch_up_of_its_chain_and_master_only(conn, world, before):
    w = world
    overview = ctids(conn, "chain_overview", "chain_id")
    supply = ctids(conn, "chain_master_supply", "chain_master_id, chain_id")
    f.supply_link(conn, w["other"], w["ma"], w["a"], status="active", annual_value_cny_10k=100)
    assert figures(conn, "report_chain_overview", "chain_id = :c", c=w["a"])["suppliers"] == 2
    assert catch_up(conn) == (1, 1)  # one chain, one chain master and chain
    compare(conn)
    a = figures(conn, "report_chain_overview", "chain_id = :c", c=w["a"])
    assert (a["suppliers"], a["local_suppliers"], a["active_supply_links"]) == (3, 2, 3)
    ma = figures(conn, "report_chain_master_suppliers", "chain_master_id = :m", m=w["ma"])
    assert (ma["suppliers"], ma["sme_suppliers"], ma["local_active_links"]) == (3, 2, 2)
    assert float(ma["local_supply_rate_by_value"]) == pytest.approx(0.4)
    # The other chain's rows, and the other master's, were not written again.
    assert {k: v for k, v in ctids(conn, "chain_overview", "chain_id").items()
            if k != (w["a"],)} == {k: v for k, v in overview.items() if k != (w["a"],)}  # fmt: skip
    after = ctids(conn, "chain_master_supply", "chain_master_id, chain_id")
    assert after[(w["mb"], w["b"])] == supply[(w["mb"], w["b"])]
    assert catch_up(conn) == (0, 0)  # the queues are empty


def test_a_value_changes_the_master_only_and_a_proposed_link_nothing(conn, world, before):
    w = world
    conn.execute(
        text("UPDATE supply_link SET annual_value_cny_10k = 50 WHERE supplier_id = :s"),
        {"s": w["outside"]},
    )
    assert catch_up(conn) == (0, 1)  # no figure of the chain's overview counts values
    compare(conn)
    f.supply_link(conn, w["other"], w["ma"], w["a"], status="proposed")
    assert catch_up(conn) == (0, 0)  # a proposed link counts in neither
    conn.execute(
        text("UPDATE supply_link SET verified = false WHERE buyer_id = :m"), {"m": w["ma"]}
    )
    assert catch_up(conn) == (0, 0)  # nor does what is not counted


def test_an_enterprise_moving_into_the_city_changes_its_buyers_figures(conn, world, before):
    w = world
    conn.execute(
        text("UPDATE enterprise SET district_id = :d WHERE id = :e"),
        {"d": w["district"], "e": w["outside"]},
    )
    assert catch_up(conn) == (1, 1)
    compare(conn)
    assert (
        figures(conn, "report_chain_overview", "chain_id = :c", c=w["a"])["nonlocal_suppliers"] == 0
    )
    # A new name changes no figure and queues nothing; a new size changes the SMEs only.
    conn.execute(text("UPDATE enterprise SET name_zh = name_zh || '新' WHERE id = :e"),
                 {"e": w["outside"]})  # fmt: skip
    assert catch_up(conn) == (0, 0)
    conn.execute(text("UPDATE enterprise SET size = 'large' WHERE id = :e"), {"e": w["local"]})
    assert catch_up(conn) == (0, 1)
    compare(conn)
    # The names are read live.
    name = conn.execute(text("SELECT name_zh FROM enterprise WHERE id = :e"), {"e": w["ma"]})
    assert (
        figures(conn, "report_chain_master_suppliers", "chain_master_id = :m", m=w["ma"])[
            "chain_master_name_zh"
        ]
        == name.scalar_one()
    )


def test_roles_and_projects_are_caught_up_and_a_new_chain_shows_zeros(conn, world, before):
    w = world
    f.chain_role(conn, w["local"], w["a"], "backbone")
    ended = f.chain_master(conn, w["a"], since="2020-01-01", until="2021-01-01")
    project = f.project(conn, w["b"], w["district"], stage="lead", agreed_investment_cny_100m=2)
    conn.execute(text("UPDATE project SET stage = 'negotiating' WHERE id = :p"), {"p": project})
    catch_up(conn)
    compare(conn)
    # A master whose role ended has no row; ending a live one takes its row away.
    assert not conn.execute(
        text("SELECT 1 FROM chain_master_supply WHERE chain_master_id = :m"), {"m": ended}
    ).first()
    conn.execute(text("DELETE FROM supply_link WHERE buyer_id = :m"), {"m": w["mb"]})
    conn.execute(
        text("UPDATE chain_role SET since = '2020-01-01', until = '2021-01-01' "
             "WHERE enterprise_id = :m AND role = 'chain_master'"),
        {"m": w["mb"]},
    )  # fmt: skip
    catch_up(conn)
    compare(conn)
    assert not conn.execute(
        text("SELECT 1 FROM chain_master_supply WHERE chain_master_id = :m"), {"m": w["mb"]}
    ).first()
    new = f.chain(conn)  # not kept yet: the view shows it with zeros
    shown = figures(conn, "report_chain_overview", "chain_id = :c", c=new)
    assert shown["projects"] == 0 and shown["agreed_investment_cny_100m"] == 0
    compare(conn)


def test_many_chains_or_a_truncate_are_computed_in_one_pass(conn, world, before):
    w = world
    chains = [f.chain(conn) for _ in range(5)]
    for chain in chains:
        f.chain_role(conn, w["ma"], chain)
        f.supply_link(conn, w["local"], w["ma"], chain, status="active")
    assert catch_up(conn) == (-1, 5)  # more than 4 chains: all of them at once
    compare(conn)
    masters = [f.chain_master(conn, w["a"]) for _ in range(11)]
    for master in masters:
        f.supply_link(conn, w["local"], master, w["a"], status="active")
    assert catch_up(conn) == (1, -1)  # more than 10 pairs: every one at once
    compare(conn)
    conn.execute(text("INSERT INTO chain_overview_stale (chain_id) VALUES (0)"))
    assert catch_up(conn) == (-1, 0)


@pytest.mark.parametrize("seed", range(1, 9))
def test_kept_figures_match_the_definitions_after_random_writes(conn, before, seed):
    rng = random.Random(seed)
    products = count()
    district = f.district(conn)
    chains = [f.chain(conn) for _ in range(3)]
    masters = {f.chain_master(conn, c): c for c in chains for _ in range(2)}
    plain = [
        f.enterprise(conn, district_id=rng.choice([district, None]),
                     size=rng.choice(["small", "medium", "micro", "large", None]))
        for _ in range(15)
    ]  # fmt: skip
    projects: list[int] = []
    links: list[int] = []
    # Moves back and drops need a reason (the stage-event trigger reads it).
    conn.execute(text("SELECT set_config('chaindb.stage_reason', 'a test', true)"))

    def new_link(status: str = "active") -> int:
        buyer = rng.choice(list(masters))
        chain = masters[buyer]
        supplier = rng.choice([e for e in plain if e != buyer])
        return f.supply_link(
            conn, supplier, buyer, chain, status=status, product=f"p{next(products)}",
            annual_value_cny_10k=rng.choice([None, 10, 25.5]),
        )  # fmt: skip

    rebuild(conn)
    for _round in range(6):
        for _ in range(rng.randint(1, 8)):
            op = rng.random()
            if op < 0.35:
                links.append(new_link(rng.choice(["active", "active", "proposed"])))
            elif op < 0.45 and links:
                conn.execute(
                    text("UPDATE supply_link SET status = 'ended', until = current_date "
                         "WHERE id = :l"), {"l": rng.choice(links)})  # fmt: skip
            elif op < 0.5 and links:
                conn.execute(text("DELETE FROM supply_link WHERE id = :l"),
                             {"l": links.pop(rng.randrange(len(links)))})  # fmt: skip
            elif op < 0.55 and links:
                conn.execute(text("UPDATE supply_link SET annual_value_cny_10k = 99 "
                                  "WHERE id = :l"), {"l": rng.choice(links)})  # fmt: skip
            elif op < 0.65:
                conn.execute(
                    text("UPDATE enterprise SET district_id = :d, size = :s WHERE id = :e"),
                    {"d": rng.choice([district, None]), "e": rng.choice(plain),
                     "s": rng.choice(["small", "large", None])},
                )  # fmt: skip
            elif op < 0.72:
                e, c = rng.choice(plain), rng.choice(chains)
                role = rng.choice(["chain_master", "backbone", "supplier"])
                if not conn.execute(
                    text("SELECT 1 FROM chain_role WHERE enterprise_id = :e AND chain_id = :c "
                         "AND role = :r"), {"e": e, "c": c, "r": role}).first():  # fmt: skip
                    f.chain_role(conn, e, c, role)
            elif op < 0.87:
                stage = rng.choice(["lead", "signed", "dropped"])
                projects.append(
                    f.project(conn, rng.choice(chains), district, stage=stage,
                              dropped_on="2026-01-02" if stage == "dropped" else None,
                              agreed_investment_cny_100m=rng.choice([None, 1, 3.25]))
                )  # fmt: skip
            elif projects:
                conn.execute(
                    text(
                        "UPDATE project SET stage = CAST(:s AS varchar), chain_id = :c, dropped_on = "
                        "CASE WHEN CAST(:s AS varchar) = 'dropped' THEN current_date END "
                        "WHERE id = :p"
                    ),
                    {"s": rng.choice(["negotiating", "dropped"]), "c": rng.choice(chains),
                     "p": rng.choice(projects)},
                )  # fmt: skip
        catch_up(conn)
        compare(conn)
