"""Reference data: confirmed facts only (jinan-facts.md): planning units, the 13 iconic chains,
the 2024 actual and 2025 target figures."""

from __future__ import annotations

from sqlalchemy import Connection

from chaindb.models import Chain, District, Target
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
