"""The seed loaders: counts equal the facts, a second run changes nothing, a bad row changes
nothing and names its file, line and reason."""

from __future__ import annotations

import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from chaindb.db import make_engine
from chaindb.enterprises.uscc import validate_uscc
from chaindb.models import TABLES
from seeds import demo, reference
from seeds.loader import SeedError
from seeds.runner import run
from tests.conftest import migrate

# jinan-facts.md §1.1: the 13 iconic chains, their groups and 2030 targets (亿元).
ICONIC_CHAINS = {
    "汽车": ("advantage", 2100), "电子信息": ("advantage", 3000), "高端软件": ("advantage", 2200),
    "现代医药": ("advantage", 700), "高端数控机床与机器人": ("characteristic", 800),
    "专用装备": ("characteristic", 1600), "钢铁": ("characteristic", 1900),
    "先进材料": ("characteristic", 450), "食品与生物制造": ("characteristic", 930),
    "人工智能": ("emerging", 1200), "集成电路": ("emerging", 500),
    "航空航天暨低空经济": ("emerging", 800), "新能源装备": ("emerging", 1300),
}  # fmt: skip
# jinan-facts.md §2: the 10 districts and 2 counties with their NBS codes.
DIVISIONS = {
    "370102": "历下区", "370103": "市中区", "370104": "槐荫区", "370105": "天桥区",
    "370112": "历城区", "370113": "长清区", "370114": "章丘区", "370115": "济阳区",
    "370116": "莱芜区", "370117": "钢城区", "370124": "平阴县", "370126": "商河县",
}  # fmt: skip


@pytest.fixture
def seeded_engine(scratch_database) -> Engine:
    url = scratch_database(migrated=True)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table, timestamps included: 'changes nothing' means this is equal."""
    with engine.connect() as conn:
        return {
            model.__tablename__: [
                tuple(r)
                for r in conn.execute(text(f"SELECT * FROM {model.__tablename__} ORDER BY id"))
            ]
            for model in TABLES
        }


def counts(engine: Engine) -> dict[str, int]:
    return {table: len(rows) for table, rows in snapshot(engine).items()}


def test_reference_matches_the_facts(seeded_engine):
    run(seeded_engine, reference.load)
    with seeded_engine.connect() as conn:
        chains = conn.execute(
            text('SELECT name_zh, "group", target_2030_cny_100m, tier FROM chain')
        ).all()
        divisions = conn.execute(
            text("SELECT code, name_zh FROM district WHERE kind IN ('district', 'county')")
        ).all()
        zones = dict(
            conn.execute(text("SELECT code, name_zh FROM district WHERE kind = 'zone'")).all()
        )
        figures = conn.execute(
            text(
                "SELECT year, metric, target_value, actual_value FROM target ORDER BY year, metric"
            )
        ).all()
    assert {name: (group, int(target)) for name, group, target, _ in chains} == ICONIC_CHAINS
    assert {tier for *_, tier in chains} == {"iconic"}
    assert dict(divisions) == DIVISIONS
    assert zones["370176"] == "济南高新技术产业开发区"
    assert zones["QBQ"] == "济南新旧动能转换起步区"
    assert (2024, "industrial_revenue", None, Decimal("10189.4")) in figures
    assert (2025, "iconic_chains_revenue", Decimal("11000"), None) in figures


def test_reference_and_demo_twice_change_nothing(seeded_engine):
    first = [run(seeded_engine, reference.load), run(seeded_engine, demo.load)]
    assert all(report.changed() > 0 for report in first)
    after_first = snapshot(seeded_engine)

    second = [run(seeded_engine, reference.load), run(seeded_engine, demo.load)]
    assert [report.changed() for report in second] == [0, 0]
    assert snapshot(seeded_engine) == after_first


def test_demo_builds_the_automotive_chain_around_byd(seeded_engine):
    run(seeded_engine, reference.load)
    run(seeded_engine, demo.load)
    with seeded_engine.connect() as conn:
        byd_suppliers = conn.execute(
            text(
                "SELECT count(DISTINCT l.supplier_id) FROM supply_link l "
                "JOIN enterprise b ON b.id = l.buyer_id WHERE b.name_zh = '比亚迪济南基地'"
            )
        ).scalar_one()
        fictional = conn.execute(
            text("SELECT uscc, name_zh, name_en FROM enterprise WHERE uscc IS NOT NULL")
        ).all()
        segments = conn.execute(
            text(
                "SELECT position, count(*) FROM chain_segment s JOIN chain c ON c.id = s.chain_id "
                "WHERE c.code = 'automotive' GROUP BY position"
            )
        ).all()
        masters = (
            conn.execute(
                text(
                    "SELECT e.name_zh FROM chain_role r JOIN enterprise e ON e.id = r.enterprise_id "
                    "WHERE r.role = 'chain_master'"
                )
            )
            .scalars()
            .all()
        )
        byd_history = conn.execute(
            text(
                "SELECT from_stage, to_stage, occurred_on::text FROM project_stage_event e "
                "JOIN project p ON p.id = e.project_id "
                "WHERE p.name = '比亚迪新能源乘用车及零部件产业园' ORDER BY e.id"
            )
        ).all()
    assert byd_suppliers == 400  # 近400 supporting enterprises, as the real figure
    assert len(fictional) == 430
    for uscc, name_zh, name_en in fictional:  # visibly fictional, valid check digit
        assert "DEM" in uscc and validate_uscc(uscc) == uscc
        assert name_zh.startswith("（示例）") and name_en.startswith("[Demo]")
    assert dict(segments).keys() == {"upstream", "midstream", "downstream"}
    assert {"比亚迪济南基地", "中国重汽集团济南卡车", "济钢集团"} <= set(masters)
    assert byd_history == [
        (None, "signed", "2021-08-01"),
        ("signed", "in_production", "2022-11-30"),
    ]


def test_the_demo_dates_only_what_its_sources_date(seeded_engine):
    """No stage of a demo project is dated to the day the seed ran: 弗迪电池, 吉利 and 江龙 are
    in production on days the sources do not give."""
    run(seeded_engine, reference.load)
    run(seeded_engine, demo.load)
    with seeded_engine.connect() as conn:
        today = conn.execute(
            text("SELECT count(*) FROM project_stage_event WHERE occurred_on = current_date")
        ).scalar_one()
        unknown = dict(
            conn.execute(
                text(
                    "SELECT p.name, e.occurred_on FROM project_stage_event e "
                    "JOIN project p ON p.id = e.project_id WHERE e.to_stage = 'in_production'"
                )
            ).all()
        )
        entered_this_month = conn.execute(
            text(
                "SELECT count(*) FROM report_project_pipeline "
                "WHERE month = date_trunc('month', current_date)::date"
            )
        ).scalar_one()
    assert today == 0
    assert unknown["弗迪动力电池项目（一二期）"] is None
    assert unknown["吉利智慧新能源整车项目"] is None
    assert unknown["江龙汽车零部件项目"] is None
    assert entered_this_month == 0


def test_demo_needs_the_reference_seed(seeded_engine):
    with pytest.raises(SeedError, match="seed reference"):
        run(seeded_engine, demo.load)
    assert set(counts(seeded_engine).values()) == {0}


@pytest.fixture
def reference_copy(tmp_path, monkeypatch) -> Path:
    copy = tmp_path / "reference"
    shutil.copytree(reference.DIR, copy)
    monkeypatch.setattr(reference, "DIR", copy)
    return copy


def _replace_line(path: Path, line: int, old: str, new: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("".join(lines), encoding="utf-8")


def test_a_row_the_database_refuses_stops_the_run_and_changes_nothing(
    seeded_engine, reference_copy
):
    # Line 5 of chains.csv is 现代医药; its group becomes one the database does not know.
    _replace_line(reference_copy / "chains.csv", 5, ",advantage,", ",bogus,")
    with pytest.raises(SeedError) as caught:
        run(seeded_engine, reference.load)
    error = caught.value
    assert (error.path.name, error.line) == ("chains.csv", 5)
    assert "ck_chain_group" in error.reason
    # districts.csv was loaded before chains.csv in the same run, and is rolled back too.
    assert set(counts(seeded_engine).values()) == {0}


def test_a_row_with_an_extra_value_is_refused(seeded_engine, reference_copy):
    _replace_line(reference_copy / "targets.csv", 3, "429.1", "429,1")
    with pytest.raises(SeedError, match=r"targets.csv, line 3: more values than columns"):
        run(seeded_engine, reference.load)
    assert set(counts(seeded_engine).values()) == {0}


def test_a_malformed_value_names_its_column(seeded_engine, reference_copy):
    _replace_line(reference_copy / "targets.csv", 3, "429.1", "429.1万")
    with pytest.raises(SeedError) as caught:
        run(seeded_engine, reference.load)
    assert str(caught.value).startswith("targets.csv, line 3: actual_value:")
    assert set(counts(seeded_engine).values()) == {0}


def test_an_unknown_reference_names_the_missing_key(seeded_engine, reference_copy):
    _replace_line(reference_copy / "targets.csv", 2, "city,,,", "chain,no-such-chain,,")
    with pytest.raises(
        SeedError, match=r"targets.csv, line 2: chain: no chain with code 'no-such-chain'"
    ):
        run(seeded_engine, reference.load)
    assert set(counts(seeded_engine).values()) == {0}


def test_a_fixed_file_loads_after_a_failed_run(seeded_engine, reference_copy):
    chains = reference_copy / "chains.csv"
    original = chains.read_text(encoding="utf-8")
    _replace_line(chains, 5, ",advantage,", ",bogus,")
    with pytest.raises(SeedError):
        run(seeded_engine, reference.load)
    chains.write_text(original, encoding="utf-8")
    run(seeded_engine, reference.load)
    assert counts(seeded_engine)["chain"] == 13


def test_the_cli_migrates_seeds_and_reports(scratch_database):
    url = scratch_database()
    env = {"PATH": str(Path(sys.executable).parent), "DATABASE_URL": url, "HOME": str(Path.home())}
    chaindb = str(Path(sys.executable).parent / "chaindb")
    for args in (
        ["db", "upgrade"],
        ["seed", "reference"],
        ["seed", "reference"],
        ["db", "current"],
    ):
        result = subprocess.run(
            [chaindb, *args], env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
    assert "seed reference: 0 rows changed" not in result.stdout  # last call was db current
    assert "(head)" in result.stdout


def test_synthetic_loads_once_per_scale_and_refuses_another_without_replace(seeded_engine):
    from seeds import synthetic

    run(seeded_engine, reference.load)
    summary = synthetic.load(seeded_engine, scale=0.001, progress=False)
    assert summary.startswith("loaded scale 0.001")
    loaded = counts(seeded_engine)
    assert loaded["enterprise"] == synthetic.MIN_ENTERPRISES
    assert loaded["supply_link"] == synthetic.MIN_LINKS
    assert loaded["project"] == loaded["project_stage_event"] == synthetic.MIN_PROJECTS
    with seeded_engine.connect() as conn:
        bad_codes = conn.execute(
            text("SELECT count(*) FROM enterprise WHERE NOT uscc_check_digit_ok(uscc)")
        ).scalar_one()
    assert bad_codes == 0

    before = snapshot(seeded_engine)
    assert "nothing changed" in synthetic.load(seeded_engine, scale=0.001, progress=False)
    assert snapshot(seeded_engine) == before

    with pytest.raises(synthetic.SyntheticError, match="--replace"):
        synthetic.load(seeded_engine, scale=0.003, progress=False)
    assert snapshot(seeded_engine) == before

    synthetic.load(seeded_engine, scale=0.003, replace=True, progress=False)
    assert counts(seeded_engine)["supply_link"] == 3_000


def test_synthetic_needs_the_reference_seed(seeded_engine):
    from seeds import synthetic

    with pytest.raises(synthetic.SyntheticError, match="seed reference"):
        synthetic.load(seeded_engine, scale=0.001, progress=False)


def test_the_demo_places_the_chain_masters_in_their_segments(seeded_engine):
    """The chain map shows BYD under 整车制造 → 乘用车, 中国重汽 under 商用车."""
    run(seeded_engine, reference.load)
    run(seeded_engine, demo.load)
    with seeded_engine.connect() as conn:
        placed = dict(
            conn.execute(
                text(
                    "SELECT e.name_zh, s.code FROM chain_role r "
                    "JOIN enterprise e ON e.id = r.enterprise_id "
                    "LEFT JOIN chain_segment s ON s.id = r.segment_id "
                    "WHERE r.role = 'chain_master' AND r.chain_id = "
                    "(SELECT id FROM chain WHERE code = 'automotive')"
                )
            ).all()
        )
    assert placed["比亚迪济南基地"] == "vehicles.passenger"
    assert placed["中国重汽集团济南卡车"] == "vehicles.commercial"


def test_the_demo_gives_every_iconic_chain_a_map_of_the_general_structure(seeded_engine):
    """Each of the 13 iconic chains: upstream, midstream and downstream segments with children,
    every one marked as the industry's general structure; every demo chain master and project
    placed in a segment of its chain."""
    run(seeded_engine, reference.load)
    run(seeded_engine, demo.load)
    with seeded_engine.connect() as conn:
        maps = conn.execute(
            text(
                "SELECT c.name_zh, array_agg(DISTINCT s.position), count(s.id), "
                "count(s.parent_id), bool_and(s.basis = 'general') "
                "FROM chain c LEFT JOIN chain_segment s ON s.chain_id = c.id "
                "WHERE c.tier = 'iconic' GROUP BY c.name_zh"
            )
        ).all()
        unplaced = conn.execute(
            text(
                "SELECT e.name_zh, c.code FROM chain_role r JOIN enterprise e ON e.id = r.enterprise_id "
                "JOIN chain c ON c.id = r.chain_id WHERE r.segment_id IS NULL "
                "UNION ALL SELECT p.name, c.code FROM project p JOIN chain c ON c.id = p.chain_id "
                "WHERE p.segment_id IS NULL"
            )
        ).all()
    assert {name for name, *_ in maps} == set(ICONIC_CHAINS)
    for name, positions, segments, children, general in maps:
        assert sorted(positions) == ["downstream", "midstream", "upstream"], name
        assert segments >= 10 and children >= segments // 2, (name, segments, children)
        assert general, name
    assert unplaced == []


def test_a_segment_the_office_confirmed_is_left_alone_by_a_later_seed(seeded_engine):
    run(seeded_engine, reference.load)
    run(seeded_engine, demo.load)
    with seeded_engine.begin() as conn:
        # Corrected and confirmed by the chain office; another confirmed as it stands.
        conn.execute(
            text(
                "UPDATE chain_segment SET name_zh = '乘用车（含新能源）', basis = 'confirmed' "
                "WHERE code = 'vehicles.passenger'"
            )
        )
        conn.execute(
            text("UPDATE chain_segment SET basis = 'confirmed' WHERE code = 'parts.tires'")
        )
    assert run(seeded_engine, demo.load).changed() == 0
    with seeded_engine.connect() as conn:
        rows = dict(
            (code, (name, basis))
            for code, name, basis in conn.execute(
                text(
                    "SELECT code, name_zh, basis FROM chain_segment "
                    "WHERE code IN ('vehicles.passenger', 'parts.tires')"
                )
            )
        )
    assert rows == {
        "vehicles.passenger": ("乘用车（含新能源）", "confirmed"),
        "parts.tires": ("轮胎", "confirmed"),
    }


def test_the_basis_migration_marks_general_what_the_seed_wrote_last(scratch_database):
    """Segments from before chain_segment.basis: general when the seed loader wrote them last,
    confirmed when an office edited them after it."""
    url = scratch_database()
    migrate(url, "7c21d5e8a4f0")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT set_config('chaindb.actor', 'chaindb seed', true)"))
            chain = conn.execute(
                text(
                    "INSERT INTO chain (code, name_zh, tier) VALUES ('mig', '迁移链', 'key') RETURNING id"
                )
            ).scalar_one()
            for code in ("seeded", "edited"):
                conn.execute(
                    text(
                        "INSERT INTO chain_segment (chain_id, code, name_zh, position) "
                        "VALUES (:c, :code, :name, 'upstream')"
                    ),
                    {"c": chain, "code": code, "name": f"{code}环节"},
                )
        with engine.begin() as conn:
            conn.execute(text("SELECT set_config('chaindb.actor', 'editor-wang', true)"))
            conn.execute(text("UPDATE chain_segment SET name_zh = '改过' WHERE code = 'edited'"))
        migrate(url, "4e2b9c7d1a55")
        with engine.connect() as conn:
            basis = dict(conn.execute(text("SELECT code, basis FROM chain_segment")).all())
        assert basis == {"seeded": "general", "edited": "confirmed"}
        migrate(url, "7c21d5e8a4f0", action="downgrade")
    finally:
        engine.dispose()
