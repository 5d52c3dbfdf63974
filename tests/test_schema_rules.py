"""Every database rule, attacked with plain SQL as an analyst would write it.

Each refusal names the constraint (or the trigger's CONSTRAINT) that must be its reason, and
next to it the database must accept what the rule allows, so that no test passes merely
because everything is refused.
"""

from __future__ import annotations

import random

import pytest
from sqlalchemy import Connection

from chaindb.enterprises.uscc import InvalidUSCC, validate_uscc, with_check_character
from chaindb.models import TABLES
from tests.conftest import refused, run_sql
from tests.factories_sql import (
    chain,
    chain_master,
    chain_role,
    district,
    enterprise,
    insert,
    key_chain,
    project,
    segment,
    supply_link,
    target,
    valid_uscc,
    zone,
)

TABLE_NAMES = [model.__tablename__ for model in TABLES]


def scalar(conn: Connection, sql: str, **params: object) -> object:
    return run_sql(conn, sql, **params).scalar_one()


# --- district ------------------------------------------------------------------------------


def test_district_official_code_is_six_digits(conn):
    district(conn, code="370102", name_zh="历下区")
    for code in ("37010", "3701022", "37010A"):
        with refused(conn, "ck_district_code_format"):
            run_sql(
                conn,
                "INSERT INTO district (code, is_official_code, name_zh, kind) "
                "VALUES (:code, true, '某区', 'district')",
                code=code,
            )


def test_district_local_zone_code_is_upper_case(conn):
    zone(conn, code="QBQ", name_zh="起步区")
    zone(conn, code="HT-ZONE2", name_zh="高新区")
    # lower case, a leading digit, a single character: all refused for a local code
    for code in ("qbq", "Qbq", "1QB", "Q", "123456"):
        with refused(conn, "ck_district_code_format"):
            run_sql(
                conn,
                "INSERT INTO district (code, is_official_code, name_zh, kind) "
                "VALUES (:code, false, '某功能区', 'zone')",
                code=code,
            )


def test_district_and_county_need_an_official_code(conn):
    for kind in ("district", "county"):
        with refused(conn, "ck_district_division_has_official_code"):
            run_sql(
                conn,
                "INSERT INTO district (code, is_official_code, name_zh, kind) "
                "VALUES ('LOCAL', false, '某区县', :kind)",
                kind=kind,
            )
    # a county with an official code, and a zone with one, are fine
    district(conn, code="370124", name_zh="平阴县", kind="county")
    zone(conn, code="370171", is_official_code=True, name_zh="高新技术产业开发区")


def test_district_code_and_name_are_unique(conn):
    district(conn, code="370102", name_zh="历下区")
    with refused(conn, "uq_district_code"):
        district(conn, code="370102", name_zh="另一个区")
    with refused(conn, "uq_district_name_zh"):
        district(conn, code="370103", name_zh="历下区")
    district(conn, code="370103", name_zh="市中区")


def test_district_kind_vocabulary_and_blank_name(conn):
    with refused(conn, "ck_district_kind"):
        district(conn, kind="province")
    with refused(conn, "ck_district_name_zh_not_blank"):
        district(conn, name_zh="   ")
    district(conn, kind="county")


# --- chain ---------------------------------------------------------------------------------


def test_chain_tier_and_group_vocabularies(conn):
    with refused(conn, "ck_chain_tier"):
        chain(conn, tier="major")
    with refused(conn, "ck_chain_group"):
        chain(conn, group="other")
    for group in ("advantage", "characteristic", "emerging", None):
        chain(conn, group=group)
    chain(conn, tier="key")


def test_chain_code_format_and_uniqueness(conn):
    chain(conn, code="automotive", name_zh="汽车")
    with refused(conn, "ck_chain_code_format"):
        chain(conn, code="Automotive")
    with refused(conn, "uq_chain_code"):
        chain(conn, code="automotive")
    with refused(conn, "uq_chain_name_zh"):
        chain(conn, name_zh="汽车")


def test_only_a_key_chain_may_have_a_parent(conn):
    iconic = chain(conn)
    key_chain(conn, parent_id=iconic)
    with refused(conn, "ck_chain_only_key_chain_has_parent"):
        run_sql(
            conn,
            "INSERT INTO chain (code, name_zh, tier, parent_id) "
            "VALUES ('iconic-child', '标志性子链', 'iconic', :parent)",
            parent=iconic,
        )


def test_chain_parent_must_be_iconic_on_insert(conn):
    key_parent = key_chain(conn)
    with refused(conn, "chain_parent_is_iconic"):
        run_sql(
            conn,
            "INSERT INTO chain (code, name_zh, tier, parent_id) "
            "VALUES ('under-key', '挂在重点链下', 'key', :parent)",
            parent=key_parent,
        )


def test_chain_parent_must_be_iconic_on_update(conn):
    iconic = chain(conn)
    other_key = key_chain(conn)
    child = key_chain(conn, parent_id=iconic)
    with refused(conn, "chain_parent_is_iconic"):
        run_sql(conn, "UPDATE chain SET parent_id = :p WHERE id = :id", p=other_key, id=child)
    other_iconic = chain(conn)
    run_sql(conn, "UPDATE chain SET parent_id = :p WHERE id = :id", p=other_iconic, id=child)


def test_iconic_chain_with_key_children_cannot_become_key(conn):
    parent = chain(conn)
    key_chain(conn, parent_id=parent)
    with refused(conn, "chain_parent_is_iconic"):
        run_sql(conn, "UPDATE chain SET tier = 'key' WHERE id = :id", id=parent)
    childless = chain(conn)
    run_sql(conn, "UPDATE chain SET tier = 'key' WHERE id = :id", id=childless)
    assert scalar(conn, "SELECT tier FROM chain WHERE id = :id", id=childless) == "key"


def test_chain_cannot_be_its_own_parent(conn):
    own = chain(conn)
    with refused(conn, "ck_chain_not_own_parent"):
        run_sql(conn, "UPDATE chain SET tier = 'key', parent_id = id WHERE id = :id", id=own)


def test_chain_target_is_non_negative(conn):
    with refused(conn, "ck_chain_target_2030_non_negative"):
        chain(conn, target_2030_cny_100m=-1)
    chain(conn, target_2030_cny_100m=0)
    chain(conn, target_2030_cny_100m=5000)


# --- chain_segment -------------------------------------------------------------------------


def test_segment_parent_in_another_chain_is_refused(conn):
    chain_a, chain_b = chain(conn), chain(conn)
    parent_in_b = segment(conn, chain_b)
    with refused(conn, "fk_chain_segment_parent_same_chain"):
        segment(conn, chain_a, parent_id=parent_in_b)
    parent_in_a = segment(conn, chain_a)
    child = segment(conn, chain_a, parent_id=parent_in_a)
    with refused(conn, "fk_chain_segment_parent_same_chain"):
        run_sql(
            conn, "UPDATE chain_segment SET parent_id = :p WHERE id = :id", p=parent_in_b, id=child
        )


def test_segment_cycle_is_refused(conn):
    chain_id = chain(conn)
    a = segment(conn, chain_id)
    b = segment(conn, chain_id, parent_id=a)
    with refused(conn, "chain_segment_no_cycle"):
        run_sql(conn, "UPDATE chain_segment SET parent_id = :b WHERE id = :a", a=a, b=b)
    c = segment(conn, chain_id, parent_id=b)
    with refused(conn, "chain_segment_no_cycle"):
        run_sql(conn, "UPDATE chain_segment SET parent_id = :c WHERE id = :a", a=a, c=c)
    with refused(conn, "chain_segment_no_cycle"):
        run_sql(conn, "UPDATE chain_segment SET parent_id = id WHERE id = :a", a=a)
    # moving a subtree elsewhere, without a cycle, is fine
    d = segment(conn, chain_id)
    run_sql(conn, "UPDATE chain_segment SET parent_id = :d WHERE id = :a", a=a, d=d)


def test_segment_code_is_unique_per_chain(conn):
    chain_a, chain_b = chain(conn), chain(conn)
    segment(conn, chain_a, code="battery.cell")
    with refused(conn, "uq_chain_segment_chain_id_code"):
        segment(conn, chain_a, code="battery.cell")
    segment(conn, chain_b, code="battery.cell")


def test_segment_position_vocabulary(conn):
    chain_id = chain(conn)
    with refused(conn, "ck_chain_segment_position"):
        segment(conn, chain_id, position="sidestream")
    for position in ("upstream", "midstream", "downstream"):
        segment(conn, chain_id, position=position)


# --- enterprise ----------------------------------------------------------------------------


def insert_enterprise_sql(conn: Connection, **columns: object) -> None:
    names = ", ".join(["name_zh", *columns])
    values = ", ".join(["'测试企业'", *(f":{c}" for c in columns)])
    run_sql(conn, f"INSERT INTO enterprise ({names}) VALUES ({values})", **columns)


def test_uscc_check_digit(conn):
    with refused(conn, "ck_enterprise_uscc_check_digit"):
        insert_enterprise_sql(conn, uscc="914403001922038217")
    insert_enterprise_sql(conn, uscc="914403001922038216")


def test_uscc_override_with_reason_accepts_a_genuine_failing_code(conn):
    code = "91350100M0001TGQXM"
    assert scalar(conn, "SELECT uscc_check_digit_ok(:c)", c=code) is False
    with refused(conn, "ck_enterprise_uscc_check_digit"):
        insert_enterprise_sql(conn, uscc=code)
    insert_enterprise_sql(
        conn,
        uscc=code,
        uscc_check_override=True,
        uscc_override_reason="Early code issued before GB 32100; confirmed by the registry",
    )


def test_uscc_override_with_a_blank_reason_is_refused(conn):
    with refused(conn, "ck_enterprise_uscc_override_has_reason"):
        insert_enterprise_sql(
            conn, uscc="91350100M0001TGQXM", uscc_check_override=True, uscc_override_reason="  "
        )
    # an override without a code to override
    with refused(conn, "ck_enterprise_uscc_override_has_reason"):
        insert_enterprise_sql(conn, uscc=None, uscc_check_override=True, uscc_override_reason="x")


def test_uscc_override_without_any_reason_is_refused(conn):
    with refused(conn, "ck_enterprise_uscc_override_has_reason"):
        insert_enterprise_sql(conn, uscc="91350100M0001TGQXM", uscc_check_override=True)


@pytest.mark.parametrize(
    ("label", "position", "character"),
    [
        ("lower case", 10, "a"),
        ("I", 10, "I"),
        ("O", 10, "O"),
        ("S", 10, "S"),
        ("V", 10, "V"),
        ("Z", 10, "Z"),
        ("letter among the six digits", 4, "A"),
        ("I in the first two", 0, "I"),
    ],
)
def test_uscc_format(conn, label, position, character):
    good = valid_uscc()
    bad = good[:position] + character + good[position + 1 :]
    # Without an override, the malformed code is refused (the check digit fails as well)...
    with refused(conn):
        insert_enterprise_sql(conn, uscc=bad)
    # ...and even an override cannot let it in: the format rule holds alone.
    with refused(conn, "ck_enterprise_uscc_format"):
        insert_enterprise_sql(
            conn, uscc=bad, uscc_check_override=True, uscc_override_reason="test " + label
        )
    insert_enterprise_sql(conn, uscc=good)


def test_uscc_wrong_length(conn):
    good = valid_uscc()
    with refused(conn, "ck_enterprise_uscc_format"):
        insert_enterprise_sql(
            conn, uscc=good[:17], uscc_check_override=True, uscc_override_reason="too short"
        )
    # 19 characters do not fit varchar(18): refused by the column type itself
    with refused(conn):
        insert_enterprise_sql(conn, uscc=good + "1")
    # letters are allowed in the first two positions (e.g. Y: other registration authorities)
    insert_enterprise_sql(conn, uscc=with_check_character("Y1370100MA3C00001"))


def test_uscc_unique_but_null_may_repeat(conn):
    code = valid_uscc()
    enterprise(conn, uscc=code)
    with refused(conn, "uq_enterprise_uscc"):
        enterprise(conn, uscc=code)
    enterprise(conn, uscc=None)
    enterprise(conn, uscc=None)
    assert scalar(conn, "SELECT count(*) FROM enterprise WHERE uscc IS NULL") >= 2


def test_enterprise_is_local_or_has_a_region(conn):
    district_id = district(conn)
    with refused(conn, "ck_enterprise_local_or_region"):
        enterprise(conn, district_id=district_id, region_code="440300")
    enterprise(conn, district_id=district_id)
    enterprise(conn, region_code="440300")
    enterprise(conn, district_id=None, region_code=None)


def test_enterprise_region_code(conn):
    with refused(conn, "ck_enterprise_region_code_not_local"):
        enterprise(conn, region_code="370102")
    with refused(conn, "ck_enterprise_region_code_format"):
        enterprise(conn, region_code="44030A")
    with refused(conn, "ck_enterprise_region_code_format"):
        enterprise(conn, region_code="44030")
    enterprise(conn, region_code="370202")  # Qingdao: same province, another city


def test_enterprise_size_and_ownership_vocabularies(conn):
    with refused(conn, "ck_enterprise_size"):
        enterprise(conn, size="huge")
    with refused(conn, "ck_enterprise_ownership"):
        enterprise(conn, ownership="public")
    for size in ("large", "medium", "small", "micro", None):
        enterprise(conn, size=size)
    for ownership in ("state", "private", "foreign", "hmt", "collective", "mixed", "other"):
        enterprise(conn, ownership=ownership)


def test_enterprise_name_not_blank(conn):
    with refused(conn, "ck_enterprise_name_zh_not_blank"):
        enterprise(conn, name_zh=" ")


def test_python_validator_and_sql_function_agree(conn):
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    rng = random.Random(32100)
    valid = []
    for _ in range(200):
        head = "".join(rng.choice(alphabet) for _ in range(2))
        region = "".join(rng.choice("0123456789") for _ in range(6))
        body = "".join(rng.choice(alphabet) for _ in range(9))
        valid.append(with_check_character(head + region + body))
    altered = [code[:17] + rng.choice(alphabet.replace(code[17], "")) for code in valid]
    codes = valid + altered
    rows = run_sql(
        conn,
        "SELECT code, uscc_check_digit_ok(code) FROM unnest(CAST(:codes AS text[])) AS code",
        codes=codes,
    ).all()
    in_sql = dict(rows)

    def python_ok(code: str) -> bool:
        try:
            validate_uscc(code)
        except InvalidUSCC:
            return False
        return True

    assert len(in_sql) == len(codes) == 400
    disagreements = [c for c in codes if python_ok(c) != in_sql[c]]
    assert disagreements == []
    assert all(in_sql[c] for c in valid)
    assert not any(in_sql[c] for c in altered)


# --- designation ---------------------------------------------------------------------------


def designation(conn: Connection, enterprise_id: int, **columns: object) -> int:
    row: dict[str, object] = {
        "enterprise_id": enterprise_id,
        "type": "specialized_sme",
        "level": "provincial",
        "year": 2023,
    }
    row.update(columns)
    return insert(conn, "designation", **row)


def test_designation_is_unique_per_enterprise_type_level_year(conn):
    e = enterprise(conn)
    designation(conn, e)
    with refused(conn, "uq_designation_enterprise_id_type_level_year"):
        designation(conn, e)
    designation(conn, e, year=2024)
    designation(conn, e, level="national")
    designation(conn, e, type="little_giant")
    designation(conn, enterprise(conn))


def test_designation_year_range(conn):
    e = enterprise(conn)
    for year in (1979, 2101):
        with refused(conn, "ck_designation_year_range"):
            designation(conn, e, year=year)
    designation(conn, e, year=1980)
    designation(conn, e, year=2100)


def test_designation_valid_until_not_before_its_year(conn):
    e = enterprise(conn)
    with refused(conn, "ck_designation_valid_after_year"):
        designation(conn, e, year=2021, valid_until="2020-12-31")
    designation(conn, e, year=2021, valid_until="2021-01-01")


def test_designation_vocabularies(conn):
    e = enterprise(conn)
    with refused(conn, "ck_designation_type"):
        designation(conn, e, type="star")
    with refused(conn, "ck_designation_level"):
        designation(conn, e, level="district")


def test_deleting_an_enterprise_deletes_its_designations(conn):
    e = enterprise(conn)
    designation(conn, e, year=2022)
    designation(conn, e, year=2023)
    run_sql(conn, "DELETE FROM enterprise WHERE id = :e", e=e)
    assert scalar(conn, "SELECT count(*) FROM designation WHERE enterprise_id = :e", e=e) == 0


# --- chain_role ----------------------------------------------------------------------------


def test_chain_role_periods_of_the_same_role_cannot_overlap(conn):
    e, c = enterprise(conn), chain(conn)
    chain_role(conn, e, c, since="2019-01-01", until="2020-12-31")
    with refused(conn, "ex_chain_role_no_overlap"):
        chain_role(conn, e, c, since="2020-06-01")
    with refused(conn, "ex_chain_role_no_overlap"):  # both ends are inclusive
        chain_role(conn, e, c, since="2020-12-31")
    with refused(conn, "ex_chain_role_no_overlap"):  # unknown since = since ever
        chain_role(conn, e, c, until="2019-06-30")
    # adjacent and later periods are fine
    chain_role(conn, e, c, since="2021-01-01", until="2022-12-31")
    chain_role(conn, e, c, since="2024-01-01")


def test_chain_role_overlap_allowed_for_other_roles_segments_chains(conn):
    e, c = enterprise(conn), chain(conn)
    chain_role(conn, e, c)
    with refused(conn, "ex_chain_role_no_overlap"):
        chain_role(conn, e, c)
    chain_role(conn, e, c, role="backbone")
    chain_role(conn, e, c, segment_id=segment(conn, c))
    chain_role(conn, e, chain(conn))
    chain_role(conn, enterprise(conn), c)


def test_chain_role_until_before_since_is_refused(conn):
    e, c = enterprise(conn), chain(conn)
    with refused(conn, "ck_chain_role_period_order"):
        chain_role(conn, e, c, since="2021-01-01", until="2020-12-31")
    chain_role(conn, e, c, since="2021-01-01", until="2021-01-01")


def test_chain_role_segment_of_another_chain_is_refused(conn):
    e, c, other = enterprise(conn), chain(conn), chain(conn)
    with refused(conn, "fk_chain_role_segment_same_chain"):
        chain_role(conn, e, c, segment_id=segment(conn, other))
    chain_role(conn, e, c, segment_id=segment(conn, c))


def test_chain_role_vocabulary(conn):
    with refused(conn, "ck_chain_role_role"):
        chain_role(conn, enterprise(conn), chain(conn), role="leader")


# --- supply_link ---------------------------------------------------------------------------


@pytest.fixture
def market(conn):
    """A chain with a current chain master and a supplier: (chain, buyer, supplier)."""
    c = chain(conn)
    return c, chain_master(conn, c, since="2020-01-01"), enterprise(conn)


def test_supply_link_supplier_is_not_buyer(conn, market):
    c, buyer, supplier = market
    with refused(conn, "ck_supply_link_not_self_supply"):
        supply_link(conn, buyer, buyer, c)
    supply_link(conn, supplier, buyer, c)


def test_supply_link_buyer_must_be_chain_master_on_insert(conn, market):
    c, buyer, supplier = market
    not_a_master = enterprise(conn)
    with refused(conn, "supply_link_buyer_is_chain_master"):
        run_sql(
            conn,
            "INSERT INTO supply_link (supplier_id, buyer_id, chain_id) VALUES (:s, :b, :c)",
            s=supplier,
            b=not_a_master,
            c=c,
        )
    # a backbone role, or a chain-master role in another chain, is not enough
    chain_role(conn, not_a_master, c, role="backbone")
    chain_role(conn, not_a_master, chain(conn), role="chain_master")
    with refused(conn, "supply_link_buyer_is_chain_master"):
        supply_link(conn, supplier, not_a_master, c)
    with refused(conn, "supply_link_buyer_is_chain_master"):
        supply_link(conn, supplier, not_a_master, c, status="proposed")
    supply_link(conn, supplier, buyer, c)


def test_supply_link_buyer_must_be_chain_master_on_update(conn, market):
    c, buyer, supplier = market
    link = supply_link(conn, supplier, buyer, c)
    not_a_master = enterprise(conn)
    with refused(conn, "supply_link_buyer_is_chain_master"):
        run_sql(
            conn, "UPDATE supply_link SET buyer_id = :b WHERE id = :id", b=not_a_master, id=link
        )
    other_chain = chain(conn)
    with refused(conn, "supply_link_buyer_is_chain_master"):
        run_sql(conn, "UPDATE supply_link SET chain_id = :c WHERE id = :id", c=other_chain, id=link)
    # to another chain master, or to a chain where the buyer is a master: fine
    other_master = chain_master(conn, c)
    run_sql(conn, "UPDATE supply_link SET buyer_id = :b WHERE id = :id", b=other_master, id=link)
    chain_role(conn, other_master, other_chain)
    run_sql(conn, "UPDATE supply_link SET chain_id = :c WHERE id = :id", c=other_chain, id=link)


def test_supply_link_former_chain_master(conn):
    c, supplier = chain(conn), enterprise(conn)
    former = chain_master(conn, c, since="2015-01-01", until="2020-12-31")
    with refused(conn, "supply_link_buyer_is_chain_master"):
        supply_link(conn, supplier, former, c, status="active")
    with refused(conn, "supply_link_buyer_is_chain_master"):
        supply_link(conn, supplier, former, c, status="proposed")
    # the record of a link from when it was a master is fine
    link = supply_link(
        conn, supplier, former, c, status="ended", since="2016-01-01", until="2019-12-31"
    )
    # but that link cannot be brought back to life
    with refused(conn, "supply_link_buyer_is_chain_master"):
        run_sql(
            conn, "UPDATE supply_link SET status = 'active', until = NULL WHERE id = :id", id=link
        )


def test_supply_link_role_ending_today_still_holds(conn):
    c, supplier = chain(conn), enterprise(conn)
    buyer = enterprise(conn)
    run_sql(
        conn,
        "INSERT INTO chain_role (enterprise_id, chain_id, role, until) "
        "VALUES (:e, :c, 'chain_master', current_date)",
        e=buyer,
        c=c,
    )
    supply_link(conn, supplier, buyer, c)


def test_supply_link_buyer_whose_role_has_not_started(conn):
    c, supplier = chain(conn), enterprise(conn)
    future = enterprise(conn)
    run_sql(
        conn,
        "INSERT INTO chain_role (enterprise_id, chain_id, role, since) "
        "VALUES (:e, :c, 'chain_master', current_date + 365)",
        e=future,
        c=c,
    )
    with refused(conn, "supply_link_buyer_is_chain_master"):
        supply_link(conn, supplier, future, c)


def test_supply_link_one_live_link_per_supplier_buyer_chain_product(conn, market):
    c, buyer, supplier = market
    supply_link(conn, supplier, buyer, c, product="电芯")
    with refused(conn, "uq_supply_link_live"):
        supply_link(conn, supplier, buyer, c, product="电芯")
    supply_link(conn, supplier, buyer, c, product="电池包")
    # another supplier is fine; a proposal of a link that is live is the same link twice
    supply_link(conn, enterprise(conn), buyer, c, product="电芯")
    with refused(conn, "uq_supply_link_live"):
        supply_link(conn, supplier, buyer, c, product="电芯", status="proposed")
    supply_link(conn, supplier, buyer, c, product="齿轮", status="proposed")
    with refused(conn, "uq_supply_link_live"):
        supply_link(conn, supplier, buyer, c, product="齿轮", status="proposed")


def test_supply_link_missing_product_counts_as_one_product(conn, market):
    c, buyer, supplier = market
    supply_link(conn, supplier, buyer, c)
    with refused(conn, "uq_supply_link_live"):
        supply_link(conn, supplier, buyer, c, product=None)
    supply_link(conn, supplier, buyer, c, product="电芯")


def test_supply_link_second_active_link_once_the_first_ended(conn, market):
    c, buyer, supplier = market
    first = supply_link(conn, supplier, buyer, c, product="电芯", since="2021-01-01")
    with refused(conn, "uq_supply_link_live"):
        supply_link(conn, supplier, buyer, c, product="电芯")
    run_sql(
        conn,
        "UPDATE supply_link SET status = 'ended', until = '2023-12-31' WHERE id = :id",
        id=first,
    )
    supply_link(conn, supplier, buyer, c, product="电芯", since="2024-06-01")


def test_supply_link_value_status_period_product(conn, market):
    c, buyer, supplier = market
    with refused(conn, "ck_supply_link_annual_value_non_negative"):
        supply_link(conn, supplier, buyer, c, annual_value_cny_10k=-0.01)
    with refused(conn, "ck_supply_link_ended_has_until"):
        supply_link(conn, supplier, buyer, c, status="ended")
    with refused(conn, "ck_supply_link_status"):
        supply_link(conn, supplier, buyer, c, status="paused")
    with refused(conn, "ck_supply_link_period_order"):
        supply_link(conn, supplier, buyer, c, since="2024-01-02", until="2024-01-01")
    with refused(conn, "ck_supply_link_product_not_blank"):
        supply_link(conn, supplier, buyer, c, product=" ")
    with refused(conn, "ck_supply_link_verified_has_time"):
        supply_link(conn, supplier, buyer, c, verified=True)
    supply_link(
        conn,
        supplier,
        buyer,
        c,
        annual_value_cny_10k=0,
        status="ended",
        since="2024-01-01",
        until="2024-01-01",
        verified=True,
        verified_at="2024-02-01T10:00:00+08:00",
    )


def test_supply_link_segment_of_another_chain_is_refused(conn, market):
    c, buyer, supplier = market
    with refused(conn, "fk_supply_link_segment_same_chain"):
        supply_link(conn, supplier, buyer, c, segment_id=segment(conn, chain(conn)))
    supply_link(conn, supplier, buyer, c, segment_id=segment(conn, c))


def test_revoking_chain_master_with_live_links_is_refused(conn, market):
    c, buyer, supplier = market
    role = scalar(conn, "SELECT id FROM chain_role WHERE enterprise_id = :b", b=buyer)
    link = supply_link(conn, supplier, buyer, c)
    proposed = supply_link(conn, enterprise(conn), buyer, c, status="proposed")
    with refused(conn, "chain_role_master_has_live_links"):
        run_sql(conn, "DELETE FROM chain_role WHERE id = :id", id=role)
    with refused(conn, "chain_role_master_has_live_links"):
        run_sql(conn, "UPDATE chain_role SET until = current_date - 1 WHERE id = :id", id=role)
    with refused(conn, "chain_role_master_has_live_links"):
        run_sql(conn, "UPDATE chain_role SET role = 'backbone' WHERE id = :id", id=role)
    # ending today keeps the role for today: accepted
    run_sql(conn, "UPDATE chain_role SET until = current_date WHERE id = :id", id=role)
    run_sql(conn, "UPDATE chain_role SET until = NULL WHERE id = :id", id=role)
    # once the links have ended, the role may end ...
    run_sql(
        conn,
        "UPDATE supply_link SET status = 'ended', until = current_date - 1 WHERE id IN (:a, :b)",
        a=link,
        b=proposed,
    )
    run_sql(conn, "UPDATE chain_role SET until = current_date - 1 WHERE id = :id", id=role)
    # ... or go altogether
    run_sql(conn, "DELETE FROM chain_role WHERE id = :id", id=role)
    assert scalar(conn, "SELECT count(*) FROM chain_role WHERE enterprise_id = :b", b=buyer) == 0


def test_deleting_the_role_of_a_chain_master_that_projects_serve_is_refused(conn, market):
    c, buyer, _ = market
    role = scalar(conn, "SELECT id FROM chain_role WHERE enterprise_id = :b", b=buyer)
    project(conn, c, district(conn), chain_master_id=buyer)
    with refused(conn, "chain_role_master_has_projects"):
        run_sql(conn, "DELETE FROM chain_role WHERE id = :id", id=role)
    # ending the role keeps the record the projects rely on: accepted
    run_sql(conn, "UPDATE chain_role SET until = current_date - 1 WHERE id = :id", id=role)


def test_revoking_one_of_two_chain_master_roles_is_allowed(conn, market):
    c, buyer, supplier = market
    segment_role = chain_role(conn, buyer, c, segment_id=segment(conn, c))
    supply_link(conn, supplier, buyer, c)
    # the enterprise stays a chain master through its other role
    run_sql(conn, "DELETE FROM chain_role WHERE id = :id", id=segment_role)


# --- project -------------------------------------------------------------------------------


@pytest.fixture
def place(conn):
    """A chain and a district to put projects in: (chain, district)."""
    return chain(conn), district(conn)


def test_project_amounts_are_non_negative(conn, place):
    c, d = place
    with refused(conn, "ck_project_agreed_investment_non_negative"):
        project(conn, c, d, agreed_investment_cny_100m=-1)
    with refused(conn, "ck_project_funds_arrived_non_negative"):
        project(conn, c, d, funds_arrived_cny_100m=-0.0001)
    project(conn, c, d, agreed_investment_cny_100m=0, funds_arrived_cny_100m=0)
    project(conn, c, d, agreed_investment_cny_100m=120.5, funds_arrived_cny_100m=30)


def test_project_dates_are_in_order(conn, place):
    c, d = place
    with refused(conn, "ck_project_stage_dates_ordered"):
        run_sql(
            conn,
            "INSERT INTO project (name, chain_id, district_id, investor_name, stage, signed_on, "
            "construction_started_on) VALUES ('倒序项目', :c, :d, '某投资方', "
            "'under_construction', '2024-05-01', '2024-04-01')",
            c=c,
            d=d,
        )
    with refused(conn, "ck_project_stage_dates_ordered"):
        project(
            conn,
            c,
            d,
            stage="at_capacity",
            production_started_on="2025-01-01",
            capacity_reached_on="2024-12-31",
        )
    with refused(conn, "ck_project_agreed_start_after_signing"):
        project(conn, c, d, stage="signed", signed_on="2024-05-01", agreed_start_on="2024-04-30")
    project(
        conn,
        c,
        d,
        stage="at_capacity",
        signed_on="2024-01-01",
        agreed_start_on="2024-03-01",
        construction_started_on="2024-03-01",
        production_started_on="2025-01-01",
        capacity_reached_on="2025-01-01",
    )


def test_project_date_cannot_run_ahead_of_its_stage(conn, place):
    c, d = place
    with refused(conn, "ck_project_production_started_on_not_ahead_of_stage"):
        project(conn, c, d, stage="signed", production_started_on="2024-06-01")
    with refused(conn, "ck_project_signed_on_not_ahead_of_stage"):
        project(conn, c, d, stage="negotiating", signed_on="2024-06-01")
    with refused(conn, "ck_project_construction_started_on_not_ahead_of_stage"):
        project(conn, c, d, stage="signed", construction_started_on="2024-06-01")
    with refused(conn, "ck_project_capacity_reached_on_not_ahead_of_stage"):
        project(conn, c, d, stage="in_production", capacity_reached_on="2024-06-01")
    p = project(conn, c, d, stage="signed", signed_on="2024-06-01")
    with refused(conn, "ck_project_production_started_on_not_ahead_of_stage"):
        run_sql(conn, "UPDATE project SET production_started_on = '2025-01-01' WHERE id = :p", p=p)
    project(conn, c, d, stage="in_production", production_started_on="2024-06-01")
    # a dropped project keeps the dates it reached (recording it dropped needs a reason)
    run_sql(conn, "SELECT set_config('chaindb.stage_reason', '投资方撤资', true)")
    project(
        conn,
        c,
        d,
        stage="dropped",
        dropped_on="2025-01-01",
        production_started_on="2024-06-01",
    )


def test_project_follow_on_has_a_parent_and_a_new_one_has_none(conn, place):
    c, d = place
    original = project(conn, c, d)
    with refused(conn, "ck_project_follow_on_has_parent"):
        project(conn, c, d, kind="expansion")
    with refused(conn, "ck_project_follow_on_has_parent"):
        project(conn, c, d, kind="capital_increase")
    with refused(conn, "ck_project_follow_on_has_parent"):
        project(conn, c, d, kind="new", parent_id=original)
    with refused(conn, "ck_project_kind"):
        project(conn, c, d, kind="merger", parent_id=original)
    project(conn, c, d, kind="expansion", parent_id=original)
    project(conn, c, d, kind="capital_increase", parent_id=original)
    with refused(conn, "ck_project_not_own_parent"):
        run_sql(
            conn, "UPDATE project SET kind = 'expansion', parent_id = id WHERE id = :p", p=original
        )


def test_project_investor_blank_name_without_id_is_refused(conn, place):
    c, d = place
    with refused(conn, "ck_project_has_investor"):
        project(conn, c, d, investor_id=None, investor_name="   ")
    project(conn, c, d, investor_id=enterprise(conn), investor_name=None)
    project(conn, c, d, investor_id=None, investor_name="某外地集团")


def test_project_without_any_investor_is_refused(conn, place):
    c, d = place
    with refused(conn, "ck_project_has_investor"):
        run_sql(
            conn,
            "INSERT INTO project (name, chain_id, district_id) VALUES ('无投资方项目', :c, :d)",
            c=c,
            d=d,
        )


def test_project_chain_master_must_hold_the_role(conn, place):
    c, d = place
    not_a_master = enterprise(conn)
    with refused(conn, "project_chain_master_holds_role"):
        project(conn, c, d, chain_master_id=not_a_master, channel="chain_master")
    master_elsewhere = chain_master(conn, chain(conn))
    with refused(conn, "project_chain_master_holds_role"):
        project(conn, c, d, chain_master_id=master_elsewhere)
    master = chain_master(conn, c)
    p = project(conn, c, d, chain_master_id=master, channel="chain_master")
    with refused(conn, "project_chain_master_holds_role"):
        run_sql(conn, "UPDATE project SET chain_master_id = :m WHERE id = :p", m=not_a_master, p=p)
    with refused(conn, "project_chain_master_holds_role"):
        run_sql(conn, "UPDATE project SET chain_id = :c WHERE id = :p", c=chain(conn), p=p)
    # a former chain master still counts (the project may date from its time)
    former = chain_master(conn, c, since="2015-01-01", until="2018-12-31")
    project(conn, c, d, chain_master_id=former)


def test_project_dropped_needs_a_date(conn, place):
    c, d = place
    with refused(conn, "ck_project_dropped_has_date"):
        project(conn, c, d, stage="dropped")
    with refused(conn, "ck_project_dropped_has_date"):
        project(conn, c, d, stage="lead", dropped_on="2024-01-01")
    run_sql(conn, "SELECT set_config('chaindb.stage_reason', '投资方撤回', true)")
    project(conn, c, d, stage="dropped", dropped_on="2024-01-01")


def test_project_vocabularies_and_segment(conn, place):
    c, d = place
    with refused(conn, "ck_project_stage"):
        project(conn, c, d, stage="started")
    with refused(conn, "ck_project_channel"):
        project(conn, c, d, channel="lottery")
    with refused(conn, "ck_project_name_not_blank"):
        project(conn, c, d, name=" ")
    with refused(conn, "fk_project_segment_same_chain"):
        project(conn, c, d, segment_id=segment(conn, chain(conn)))
    project(conn, c, d, segment_id=segment(conn, c))
    for stage in ("lead", "negotiating"):
        project(conn, c, d, stage=stage)


# --- project stage history -----------------------------------------------------------------


def events(conn: Connection, project_id: int) -> list[tuple]:
    return run_sql(
        conn,
        "SELECT from_stage, to_stage, occurred_on::text, reason, note, actor "
        "FROM project_stage_event WHERE project_id = :p ORDER BY id",
        p=project_id,
    ).all()


def set_stage(conn: Connection, project_id: int, stage: str, **dates: object) -> None:
    sets = ", ".join(["stage = :stage", *(f"{col} = :{col}" for col in dates)])
    run_sql(conn, f"UPDATE project SET {sets} WHERE id = :p", p=project_id, stage=stage, **dates)


def setting(conn: Connection, name: str, value: str) -> None:
    run_sql(conn, "SELECT set_config(:name, :value, true)", name=f"chaindb.{name}", value=value)


def test_inserting_a_project_records_its_first_stage(conn, place):
    c, d = place
    user = scalar(conn, "SELECT session_user")
    today = str(scalar(conn, "SELECT current_date"))
    p = project(conn, c, d)
    assert events(conn, p) == [(None, "lead", today, None, None, user)]
    signed = project(conn, c, d, stage="signed", signed_on="2024-03-15")
    assert events(conn, signed) == [(None, "signed", "2024-03-15", None, None, user)]


def test_changing_the_stage_records_a_move(conn, place):
    c, d = place
    user = scalar(conn, "SELECT session_user")
    p = project(conn, c, d)
    set_stage(conn, p, "negotiating")
    set_stage(conn, p, "signed", signed_on="2024-05-20")
    # an update that leaves the stage alone records nothing
    run_sql(conn, "UPDATE project SET notes = '补充说明' WHERE id = :p", p=p)
    run_sql(conn, "UPDATE project SET stage = stage WHERE id = :p", p=p)
    moves = [(e[0], e[1], e[5]) for e in events(conn, p)]
    assert moves == [
        (None, "lead", user),
        ("lead", "negotiating", user),
        ("negotiating", "signed", user),
    ]
    assert events(conn, p)[2][2] == "2024-05-20"


def test_stage_move_carries_actor_reason_note_and_date(conn, place):
    c, d = place
    p = project(conn, c, d)
    setting(conn, "actor", "alice")
    setting(conn, "stage_reason", "双方达成投资意向")
    setting(conn, "stage_note", "第二轮洽谈")
    setting(conn, "stage_date", "2024-02-29")
    set_stage(conn, p, "negotiating")
    assert events(conn, p)[-1] == (
        "lead",
        "negotiating",
        "2024-02-29",
        "双方达成投资意向",
        "第二轮洽谈",
        "alice",
    )


def test_moving_backwards_with_a_reason_is_accepted(conn, place):
    c, d = place
    p = project(conn, c, d, stage="signed", signed_on="2024-01-10")
    setting(conn, "stage_reason", "协议被撤销，重新谈判")
    set_stage(conn, p, "negotiating", signed_on=None)
    assert events(conn, p)[-1][:2] == ("signed", "negotiating")
    assert events(conn, p)[-1][3] == "协议被撤销，重新谈判"


def test_moving_backwards_with_a_blank_reason_is_refused(conn, place):
    c, d = place
    p = project(conn, c, d, stage="signed", signed_on="2024-01-10")
    setting(conn, "stage_reason", "   ")
    with refused(conn, "ck_project_stage_event_backward_or_drop_has_reason"):
        set_stage(conn, p, "negotiating", signed_on=None)
    with refused(conn, "ck_project_stage_event_backward_or_drop_has_reason"):
        set_stage(conn, p, "dropped", dropped_on="2024-02-01")
    # a forward move needs no reason, blank or not
    set_stage(conn, p, "under_construction", construction_started_on="2024-03-01")


def test_moving_backwards_without_a_reason_is_refused(conn, place):
    c, d = place
    p = project(conn, c, d, stage="signed", signed_on="2024-01-10")
    with refused(conn, "ck_project_stage_event_backward_or_drop_has_reason"):
        set_stage(conn, p, "negotiating", signed_on=None)


def test_dropping_without_a_reason_is_refused(conn, place):
    c, d = place
    p = project(conn, c, d, stage="negotiating")
    with refused(conn, "ck_project_stage_event_backward_or_drop_has_reason"):
        set_stage(conn, p, "dropped", dropped_on="2024-02-01")


def test_dropping_with_a_reason_is_accepted(conn, place):
    c, d = place
    p = project(conn, c, d, stage="negotiating")
    setting(conn, "stage_reason", "投资方资金链断裂")
    set_stage(conn, p, "dropped", dropped_on="2024-02-01")
    assert events(conn, p)[-1][:4] == ("negotiating", "dropped", "2024-02-01", "投资方资金链断裂")


def test_reviving_a_dropped_project_without_a_reason_is_refused(conn, place):
    c, d = place
    setting(conn, "stage_reason", "暂停")
    p = project(conn, c, d, stage="dropped", dropped_on="2024-02-01")
    setting(conn, "stage_reason", "")
    with refused(conn, "ck_project_stage_event_backward_or_drop_has_reason"):
        set_stage(conn, p, "negotiating", dropped_on=None)


def test_reviving_a_dropped_project_with_a_reason_is_accepted(conn, place):
    c, d = place
    setting(conn, "stage_reason", "暂停")
    p = project(conn, c, d, stage="dropped", dropped_on="2024-02-01")
    setting(conn, "stage_reason", "   ")
    with refused(conn, "ck_project_stage_event_backward_or_drop_has_reason"):
        set_stage(conn, p, "negotiating", dropped_on=None)
    setting(conn, "stage_reason", "投资方重新启动")
    set_stage(conn, p, "negotiating", dropped_on=None)
    assert events(conn, p)[-1][:2] == ("dropped", "negotiating")


def test_stage_history_is_append_only(conn, place):
    c, d = place
    p = project(conn, c, d)
    event = scalar(conn, "SELECT id FROM project_stage_event WHERE project_id = :p", p=p)
    with refused(conn, "project_stage_event_append_only"):
        run_sql(
            conn,
            "INSERT INTO project_stage_event (project_id, from_stage, to_stage, occurred_on, "
            "actor) VALUES (:p, 'lead', 'signed', current_date, 'mallory')",
            p=p,
        )
    with refused(conn, "project_stage_event_append_only"):
        run_sql(conn, "UPDATE project_stage_event SET actor = 'mallory' WHERE id = :e", e=event)
    with refused(conn, "project_stage_event_append_only"):
        run_sql(conn, "DELETE FROM project_stage_event WHERE id = :e", e=event)
    with refused(conn, "project_stage_event_append_only"):
        run_sql(conn, "TRUNCATE project_stage_event")
    with refused(conn, "project_stage_event_append_only"):
        run_sql(conn, "TRUNCATE project CASCADE")
    assert len(events(conn, p)) == 1


def test_deleting_a_project_removes_its_history(conn, place):
    c, d = place
    p = project(conn, c, d)
    set_stage(conn, p, "negotiating")
    assert len(events(conn, p)) == 2
    run_sql(conn, "DELETE FROM project WHERE id = :p", p=p)
    assert events(conn, p) == []


# --- target --------------------------------------------------------------------------------


def test_target_scope_matches_its_keys(conn):
    c, d = chain(conn), district(conn)
    for scope, chain_id, district_id in [
        ("city", c, None),
        ("city", None, d),
        ("chain", None, None),
        ("chain", c, d),
        ("district", None, None),
        ("district", c, d),
        ("district", c, None),
    ]:
        with refused(conn, "ck_target_scope_matches_keys"):
            target(conn, scope=scope, chain_id=chain_id, district_id=district_id)
    target(conn, scope="city")
    target(conn, scope="chain", chain_id=c, metric="chain_revenue")
    target(conn, scope="district", district_id=d)


def test_target_is_unique_per_scope_key_year_metric(conn):
    c, d = chain(conn), district(conn)
    target(conn, scope="city", year=2025)
    with refused(conn, "uq_target_scope_year_metric"):
        target(conn, scope="city", year=2025, target_value=None, actual_value=900)
    target(conn, scope="chain", chain_id=c, year=2025, metric="chain_revenue")
    with refused(conn, "uq_target_scope_year_metric"):
        target(conn, scope="chain", chain_id=c, year=2025, metric="chain_revenue")
    target(conn, scope="district", district_id=d, year=2025)
    with refused(conn, "uq_target_scope_year_metric"):
        target(conn, scope="district", district_id=d, year=2025)
    # another year, metric, chain or district is another target
    target(conn, scope="city", year=2026)
    target(conn, scope="city", year=2025, metric="industrial_profit")
    target(conn, scope="chain", chain_id=chain(conn), year=2025, metric="chain_revenue")
    target(conn, scope="district", district_id=district(conn), year=2025)


def test_target_needs_a_value(conn):
    with refused(conn, "ck_target_has_a_value"):
        target(conn, target_value=None, actual_value=None)
    target(conn, year=2030, target_value=None, actual_value=10)
    target(conn, year=2031, target_value=10, actual_value=None)


def test_target_vocabularies_and_year(conn):
    with refused(conn, "ck_target_scope"):
        target(conn, scope="province")
    with refused(conn, "ck_target_metric"):
        target(conn, metric="gdp")
    with refused(conn, "ck_target_unit"):
        target(conn, unit="usd")
    for year in (1999, 2101):
        with refused(conn, "ck_target_year_range"):
            target(conn, year=year)
    target(conn, year=2000)
    target(conn, year=2100)


# --- timestamps ----------------------------------------------------------------------------


def test_timestamps_are_set_on_insert(conn):
    d = district(conn)
    created, updated, now = run_sql(
        conn, "SELECT created_at, updated_at, now() FROM district WHERE id = :d", d=d
    ).one()
    assert created == updated == now


LONG_AGO = "2000-01-01T00:00:00+00:00"


@pytest.mark.parametrize(
    ("table", "make", "change"),
    [
        ("district", district, "name_en = 'Somewhere'"),
        ("chain", chain, "chief = '某副市长'"),
        ("enterprise", enterprise, "short_name = '简称'"),
        ("target", target, "actual_value = 1"),
    ],
)
def test_update_keeps_created_at_and_moves_updated_at(conn, table, make, change):
    # Inserted with explicit times (as a loader may): an UPDATE that changes nothing keeps them.
    row = make(conn, created_at=LONG_AGO, updated_at=LONG_AGO)
    run_sql(conn, f"UPDATE {table} SET created_at = created_at WHERE id = :id", id=row)
    created, updated = run_sql(
        conn, f"SELECT created_at, updated_at FROM {table} WHERE id = :id", id=row
    ).one()
    assert (created.year, updated.year) == (2000, 2000)
    # A real change moves updated_at to now(), and created_at cannot be changed along with it.
    run_sql(
        conn,
        f"UPDATE {table} SET {change}, created_at = now(), updated_at = :t WHERE id = :id",
        t=LONG_AGO,
        id=row,
    )
    created, updated, now = run_sql(
        conn, f"SELECT created_at, updated_at, now() FROM {table} WHERE id = :id", id=row
    ).one()
    assert created.year == 2000
    assert updated == now


def test_created_at_cannot_be_changed(conn):
    d = district(conn)
    run_sql(conn, "UPDATE district SET created_at = :t WHERE id = :d", t=LONG_AGO, d=d)
    assert scalar(conn, "SELECT created_at = now() FROM district WHERE id = :d", d=d) is True


def _generated(conn: Connection, table: str) -> tuple[str, ...]:
    """The table's generated columns, in column order."""
    return tuple(
        run_sql(
            conn,
            "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) "
            "AND attgenerated <> '' AND NOT attisdropped ORDER BY attnum",
            t=table,
        ).scalars()
    )


@pytest.mark.parametrize("table", TABLE_NAMES)
def test_every_table_has_the_set_updated_at_trigger(conn, table):
    # With generated columns, set_updated_at_if_changed (a WHEN comparing whole rows is refused).
    function = "set_updated_at_if_changed" if _generated(conn, table) else "set_updated_at"
    rows = run_sql(
        conn,
        "SELECT tgname, tgtype, tgenabled FROM pg_trigger "
        "WHERE tgrelid = CAST(:t AS regclass) AND tgfoid = CAST(:f AS regproc) "
        "AND NOT tgisinternal",
        t=table,
        f=function,
    ).all()
    assert len(rows) == 1, rows
    name, tgtype, enabled = rows[0]
    assert name == f"{table}_set_updated_at"
    row_level, before, on_update = 1, 2, 16
    assert tgtype & row_level and tgtype & before and tgtype & on_update
    assert enabled == "O"


# --- comments ------------------------------------------------------------------------------


def test_the_ten_tables(conn):
    assert len(TABLE_NAMES) == 10
    tables = run_sql(conn, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").scalars()
    assert set(TABLE_NAMES) <= set(tables)


@pytest.mark.parametrize("table", TABLE_NAMES)
def test_every_table_and_column_has_a_comment(conn, table):
    comment = scalar(conn, "SELECT obj_description(CAST(:t AS regclass), 'pg_class')", t=table)
    assert comment and comment.strip(), f"table {table} has no comment"
    columns = run_sql(
        conn,
        "SELECT attname, col_description(attrelid, attnum) FROM pg_attribute "
        "WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 AND NOT attisdropped",
        t=table,
    ).all()
    assert len(columns) > 3
    missing = [name for name, text_ in columns if not (text_ and text_.strip())]
    assert missing == [], f"{table}: columns without a comment: {missing}"


# --- every table, including the next one: audited or said why not ----------------------------


def _tables(conn) -> list[str]:
    return list(
        run_sql(
            conn,
            "SELECT c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1",
        ).scalars()
    )


def _triggers(conn, table: str) -> set[str]:
    """The audit triggers on `table`, as audit_statements() writes them (name, function, timing
    and events, condition), read back from the catalog."""
    rows = run_sql(
        conn,
        "SELECT pg_get_triggerdef(oid) FROM pg_trigger "
        "WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal "
        "AND tgfoid IN ('set_updated_at'::regproc, 'set_updated_at_if_changed'::regproc, "
        "'record_change'::regproc)",
        t=table,
    ).scalars()
    return {_canonical(row) for row in rows}


def _canonical(statement: str) -> str:
    """A trigger's definition without what PostgreSQL adds or drops in reading it back (the
    schema, case, parentheses, spacing)."""
    plain = statement.replace("public.", "").lower().replace("(", " ").replace(")", " ")
    return " ".join(plain.split())


def test_every_table_is_audited_or_says_why_not(conn):
    from chaindb.migrations import NOT_AUDITED, audit_statements

    tables = _tables(conn)
    assert set(NOT_AUDITED) <= set(tables), "NOT_AUDITED names a table that is not there"
    unaudited = {}
    for table in tables:
        if table in NOT_AUDITED:
            assert not _triggers(conn, table), f"{table} is audited: take it out of NOT_AUDITED"
            continue
        expected = {_canonical(s) for s in audit_statements(table, _generated(conn, table))}
        found = _triggers(conn, table)
        if found != expected:
            unaudited[table] = sorted(expected - found)
    assert unaudited == {}, (
        "tables without their audit triggers (chaindb.migrations.audit(table) in the migration "
        "that creates them, or a reason in NOT_AUDITED): " + repr(unaudited)
    )


def test_every_table_and_column_of_the_schema_has_a_comment(conn):
    missing = []
    for table in _tables(conn):
        if table == "alembic_version":
            continue  # Alembic's own
        if not scalar(conn, "SELECT obj_description(CAST(:t AS regclass), 'pg_class')", t=table):
            missing.append(table)
        columns = run_sql(
            conn,
            "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) "
            "AND attnum > 0 AND NOT attisdropped "
            "AND coalesce(trim(col_description(attrelid, attnum)), '') = ''",
            t=table,
        ).scalars()
        missing.extend(f"{table}.{column}" for column in columns)
    assert missing == [], f"without a comment: {missing}"


def test_a_table_created_without_the_audit_is_found(conn):
    """What the two tests above catch, on a table a migration might forget."""
    from chaindb.migrations import audit_statements

    run_sql(conn, "CREATE TABLE forgotten (id bigint PRIMARY KEY, updated_at timestamptz)")
    assert _triggers(conn, "forgotten") == set()
    assert "forgotten" in _tables(conn)
    for statement in audit_statements("forgotten"):
        run_sql(conn, statement)
    assert _triggers(conn, "forgotten") == {_canonical(s) for s in audit_statements("forgotten")}
