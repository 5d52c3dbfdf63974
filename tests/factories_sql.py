"""Plain-SQL helpers that insert one row and return its id, as an analyst would.

Every helper fills the columns a row needs with unique, valid values; keyword arguments name
further columns (or override the defaults). Nothing here goes through the ORM.
"""

from __future__ import annotations

import itertools

from sqlalchemy import Connection, text

from chaindb.enterprises.uscc import with_check_character

_numbers = itertools.count(1)


def next_number() -> int:
    """A number not used before in this test run (for codes and names that must be unique)."""
    return next(_numbers)


def valid_uscc(n: int | None = None) -> str:
    """A well-formed unified social credit code with the right check character."""
    n = next_number() if n is None else n
    return with_check_character(f"91370100{n:09d}")


def insert(conn: Connection, table: str, **columns: object) -> int:
    """INSERT INTO table (columns) VALUES (...) RETURNING id."""
    names = ", ".join(f'"{name}"' for name in columns)
    values = ", ".join(f":{name}" for name in columns)
    sql = f"INSERT INTO {table} ({names}) VALUES ({values}) RETURNING id"
    return conn.execute(text(sql), columns).scalar_one()


def district(conn: Connection, **columns: object) -> int:
    n = next_number()
    row: dict[str, object] = {
        "code": f"{100000 + n}",
        "is_official_code": True,
        "name_zh": f"测试区{n}",
        "kind": "district",
    }
    row.update(columns)
    return insert(conn, "district", **row)


def zone(conn: Connection, **columns: object) -> int:
    n = next_number()
    row: dict[str, object] = {
        "code": f"ZONE-{n}",
        "is_official_code": False,
        "name_zh": f"测试功能区{n}",
        "kind": "zone",
    }
    row.update(columns)
    return insert(conn, "district", **row)


def chain(conn: Connection, **columns: object) -> int:
    n = next_number()
    row: dict[str, object] = {"code": f"chain-{n}", "name_zh": f"测试产业链{n}", "tier": "iconic"}
    row.update(columns)
    return insert(conn, "chain", **row)


def key_chain(conn: Connection, parent_id: int | None = None, **columns: object) -> int:
    return chain(conn, tier="key", parent_id=parent_id, **columns)


def segment(conn: Connection, chain_id: int, **columns: object) -> int:
    n = next_number()
    row: dict[str, object] = {
        "chain_id": chain_id,
        "code": f"seg-{n}",
        "name_zh": f"环节{n}",
        "position": "midstream",
    }
    row.update(columns)
    return insert(conn, "chain_segment", **row)


def enterprise(conn: Connection, **columns: object) -> int:
    n = next_number()
    row: dict[str, object] = {"uscc": valid_uscc(n), "name_zh": f"测试企业{n}有限公司"}
    row.update(columns)
    return insert(conn, "enterprise", **row)


def chain_role(
    conn: Connection,
    enterprise_id: int,
    chain_id: int,
    role: str = "chain_master",
    **columns: object,
) -> int:
    row: dict[str, object] = {"enterprise_id": enterprise_id, "chain_id": chain_id, "role": role}
    row.update(columns)
    return insert(conn, "chain_role", **row)


def chain_master(conn: Connection, chain_id: int, **role_columns: object) -> int:
    """A new enterprise holding the chain_master role in the chain; returns the enterprise id."""
    enterprise_id = enterprise(conn)
    chain_role(conn, enterprise_id, chain_id, "chain_master", **role_columns)
    return enterprise_id


def supply_link(
    conn: Connection, supplier_id: int, buyer_id: int, chain_id: int, **columns: object
) -> int:
    row: dict[str, object] = {
        "supplier_id": supplier_id,
        "buyer_id": buyer_id,
        "chain_id": chain_id,
    }
    row.update(columns)
    return insert(conn, "supply_link", **row)


def project(conn: Connection, chain_id: int, district_id: int, **columns: object) -> int:
    n = next_number()
    row: dict[str, object] = {
        "name": f"测试项目{n}",
        "chain_id": chain_id,
        "district_id": district_id,
        "investor_name": f"投资方{n}",
        # Reviewed and approved, as the projects entered before review were: it counts.
        "review_status": "approved",
    }
    row.update(columns)
    return insert(conn, "project", **row)


def target(conn: Connection, **columns: object) -> int:
    row: dict[str, object] = {
        "scope": "city",
        "year": 2025,
        "metric": "industrial_revenue",
        "unit": "cny_100m",
        "target_value": 1000,
    }
    row.update(columns)
    return insert(conn, "target", **row)
