"""The synthetic generator: the same scale gives the same rows, and the compact stores it keeps
its enterprises and projects in give back what was put in. (Loading, reloading and --replace
are tested in test_seeds.py.)"""

from __future__ import annotations

import random
from array import array

import pytest
from sqlalchemy import Engine, text

from chaindb.db import make_engine
from seeds import reference, synthetic
from seeds.runner import run

# md5 of each table's synthetic rows at scale 0.001 in a fresh database, without the stamps
# of the time of the load. They change only when the generator is meant to generate other rows
# or a table gains a column (chain_segment: basis).
ROWS_AT_0_001 = {
    "chain_segment": (224, "4f0455e1371eb2586e6fdb5867b687f9"),
    "enterprise": (500, "24efaa6f20f7a2f1a2452f81f651f615"),
    "designation": (134, "009f67f725aec9fd973db78b83f9f1a8"),
    "chain_role": (607, "b4257055ff0932fc156aa3fbd3b22d7b"),
    "supply_link": (2000, "3ee3ef57b7515da34f66a9ec0a996729"),
    "project": (100, "d005f45f4593d08a812cbc100fc3d1ab"),
}


@pytest.fixture
def reference_engine(scratch_database) -> Engine:
    url = scratch_database(migrated=True)
    engine = make_engine(url)
    run(engine, reference.load)
    yield engine
    engine.dispose()


def test_the_same_scale_gives_the_same_rows(reference_engine):
    synthetic.load(reference_engine, scale=0.001, progress=False)
    with reference_engine.connect() as conn:
        found = {
            table: tuple(
                conn.execute(
                    text(
                        # name_key and alias_keys: the database's own, from the names;
                        # lead_id: a column added since, which the generator leaves empty
                        "SELECT count(*), md5(string_agg((to_jsonb(t) - 'created_at' "
                        "- 'updated_at' - 'name_key' - 'alias_keys' - 'lead_id')::text, ',' "
                        "ORDER BY id)) "
                        f"FROM {table} t"
                    )
                ).one()
            )
            for table in ROWS_AT_0_001
        }
    assert found == ROWS_AT_0_001


def by_sorting(counts: list[int], exact: list[float], short: int) -> list[int]:
    """What the generator did before: sort every index by its remainder."""
    counts = list(counts)
    for i in sorted(range(len(exact)), key=lambda i: counts[i] - exact[i])[:short]:
        counts[i] += 1
    return counts


@pytest.mark.parametrize("seed", range(30))
def test_largest_remainders_are_those_sorting_picks_ties_included(seed):
    rng = random.Random(seed)
    n = rng.randint(1, 60)
    # Few distinct fractions, so that many remainders are equal.
    exact = [rng.randint(0, 9) + rng.choice([0.0, 0.25, 0.5, 0.75, rng.random()]) for _ in range(n)]
    ints = [int(x) for x in exact]
    short = rng.randint(0, n)
    counts = array("i", ints)
    synthetic._add_one_to_largest_remainders(counts, array("d", exact), short)
    assert list(counts) == by_sorting(ints, exact, short)


@pytest.mark.parametrize("seed", range(12))
def test_largest_remainders_of_many_spread_or_equal_keys_are_those_sorting_picks(seed):
    """Thousands of remainders, spread over the range or piled on a few values (a bucket
    holding many, the threshold's bucket the first or the last), every count of extras."""
    rng = random.Random(seed)
    n = rng.choice([1, 2, 5000])
    piled = [rng.random() for _ in range(3)]
    exact = [
        rng.randint(0, 50) + (rng.choice(piled) if seed % 3 == 0 else rng.random())
        for _ in range(n)
    ]
    if seed == 1:
        exact = [7.5] * n  # every remainder equal
    ints = [int(x) for x in exact]
    for short in {0, 1, n // 3, n // 2, n - 1, n}:
        counts = array("i", ints)
        synthetic._add_one_to_largest_remainders(counts, array("d", exact), short)
        assert list(counts) == by_sorting(ints, exact, short), (seed, short)


def test_enterprises_come_back_as_they_were_kept():
    ents = [
        synthetic.Ent(0, "large", 700_000, 0, ((0, 0),), False),
        synthetic.Ent(1, "large", 700_001, 0, ((0, 0),), True),
        synthetic.Ent(2, None, 738_000, None, (), False),
        synthetic.Ent(3, "micro", 739_000, None, ((4, 2**40), (1, 7), (12, 9)), True),
        synthetic.Ent(4, "small", 735_000, None, ((2, 31),), False),
    ]
    store = synthetic.Ents(n_masters=2)
    for ent in ents:
        store.append(ent)
    assert len(store) == len(ents)
    assert list(store) == ents
    assert store[3] == ents[3]
    with pytest.raises(ValueError, match="by serial"):
        store.append(synthetic.Ent(9, "small", 735_000, None, (), False))


def test_new_projects_come_back_as_they_were_kept():
    projects = [
        (synthetic.NewProject(0, 3, None, 5, 2**40, None, 4, False, 740_000), None),
        (
            synthetic.NewProject(1, 12, 77, 0, None, synthetic.investor_of(42), 2, True, 0),
            42,
        ),
    ]
    store = synthetic.NewProjects()
    for project, number in projects:
        store.append(project, number)
    assert len(store) == 2
    assert list(store) == [p for p, _ in projects]
    assert store[1].investor_name == "合成投资方00042有限公司"
