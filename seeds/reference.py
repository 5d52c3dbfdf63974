"""Reference data: confirmed facts only (jinan-facts.md): planning units, the 13 iconic chains,
the 2024 actual and 2025 target figures; and the offices (units) they imply: the city bureau
(济南市投资促进局), a chain office per iconic chain (链长制), an investment office per planning
unit. The offices' names describe them (the official name of each is not in the sources)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from chaindb.models import Chain, District, Target, Unit
from seeds.loader import (
    SEEDS_DIR,
    Lookup,
    Report,
    boolean,
    decimal,
    integer,
    listing,
    read_csv,
    required,
    text,
    upsert,
)

DIR = SEEDS_DIR / "reference"


def load(conn: Connection, report: Report) -> None:
    load_districts(conn, report)
    load_chains(conn, report)
    load_targets(conn, report)
    load_units(conn, report)


def load_districts(conn: Connection, report: Report) -> None:
    columns = {
        "code": required, "is_official_code": boolean, "name_zh": required, "name_en": text,
        "kind": required, "aliases": listing, "sort_order": integer, "notes": text,
    }  # fmt: skip
    for row in read_csv(DIR / "districts.csv", columns):
        values = dict(row.values)
        code = values.pop("code")
        upsert(conn, District.__table__, {"code": code}, values, report=report, row=row)


def load_chains(conn: Connection, report: Report) -> None:
    columns = {
        "code": required, "name_zh": required, "name_en": text, "tier": required, "group": text,
        "target_2030_cny_100m": decimal, "target_2030_scope": text, "aliases": listing,
        "sort_order": integer, "notes": text,
    }  # fmt: skip
    for row in read_csv(DIR / "chains.csv", columns):
        values = dict(row.values)
        code = values.pop("code")
        upsert(conn, Chain.__table__, {"code": code}, values, report=report, row=row)


def load_targets(conn: Connection, report: Report) -> None:
    chains = Lookup(conn, Chain.__table__, "code", "chain")
    districts = Lookup(conn, District.__table__, "code", "planning unit")
    columns = {
        "scope": required, "chain": text, "district": text, "year": integer, "metric": required,
        "unit": required, "target_value": decimal, "actual_value": decimal, "source": text,
        "notes": text,
    }  # fmt: skip
    for row in read_csv(DIR / "targets.csv", columns):
        v = row.values
        key = {
            "scope": v["scope"],
            "chain_id": chains(v["chain"], row, "chain"),
            "district_id": districts(v["district"], row, "district"),
            "year": v["year"],
            "metric": v["metric"],
        }
        values = {k: v[k] for k in ("unit", "target_value", "actual_value", "source", "notes")}
        upsert(conn, Target.__table__, key, values, report=report, row=row)


# The city bureau (the migration that brought units created it as "市投资促进局").
CITY_BUREAU = {
    "name_zh": "济南市投资促进局",
    "name_en": "Jinan Municipal Bureau of Investment Promotion",
    "notes": "jntzcjj.jinan.gov.cn (jinan-facts.md §1.2)",
}


def load_units(conn: Connection, report: Report) -> None:
    """The city bureau, then a chain office per iconic chain and an office per planning unit,
    each reporting to the city bureau; their codes follow from their chain's and unit's."""
    table = Unit.__table__
    city = upsert(conn, table, {"code": "city"}, {"kind": "city", **CITY_BUREAU}, report=report)
    chains = conn.execute(
        select(Chain.id, Chain.code, Chain.name_zh, Chain.name_en, Chain.sort_order)
        .where(Chain.tier == "iconic")
        .order_by(Chain.sort_order, Chain.code)
    )
    for chain in chains:
        upsert(
            conn,
            table,
            {"code": f"chain-{chain.code}"},
            {
                "kind": "chain_office",
                "name_zh": f"{chain.name_zh}产业链链长办公室",
                "name_en": f"{chain.name_en} chain office" if chain.name_en else None,
                "parent_id": city,
                "chain_id": chain.id,
                "sort_order": 100 + chain.sort_order,
            },
            report=report,
        )
    districts = conn.execute(
        select(
            District.id, District.code, District.name_zh, District.name_en, District.sort_order
        ).order_by(District.sort_order, District.code)
    )
    for district in districts:
        upsert(
            conn,
            table,
            {"code": f"district-{district.code.lower()}"},
            {
                "kind": "district_office",
                "name_zh": f"{district.name_zh}招商部门",
                "name_en": f"{district.name_en} investment office" if district.name_en else None,
                "parent_id": city,
                "district_id": district.id,
                "sort_order": 200 + district.sort_order,
            },
            report=report,
        )
