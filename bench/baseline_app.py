"""The yardstick for bench/api_load.py: the same three queries, hand-written on psycopg.

No framework, no validation, no authentication, no change-log context: what a request costs
at the least. Served by gunicorn exactly like chaindb (`gunicorn bench.baseline_app:app`).
"""

from __future__ import annotations

import json
import os
import re
from datetime import date, datetime
from decimal import Decimal

import psycopg

PROJECT_COLUMNS = (
    "id, name, chain_id, segment_id, district_id, investor_id, investor_name, chain_master_id, kind, "
    "parent_id, channel, agreed_investment_cny_100m, funds_arrived_cny_100m, stage, signed_on, "
    "agreed_start_on, construction_started_on, production_started_on, capacity_reached_on, "
    "dropped_on, is_key, responsible_unit, responsible_person, source, notes, created_at, updated_at"
)
LINK_COLUMNS = (
    "id, supplier_id, buyer_id, chain_id, segment_id, product, annual_value_cny_10k, since, until, "
    "status, reported_by, verified, verified_at, notes, created_at, updated_at"
)
_conn: psycopg.Connection | None = None


def conn() -> psycopg.Connection:
    global _conn
    if _conn is None or _conn.closed:
        url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        _conn = psycopg.connect(url, autocommit=True)
    return _conn


def default(value: object) -> object:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value))


def respond(start_response, status: str, body: object) -> list[bytes]:
    data = json.dumps(body, default=default, ensure_ascii=False).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def rows(cursor: psycopg.Cursor) -> list[dict]:
    names = [d.name for d in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def app(environ, start_response):
    path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
    query = dict(p.split("=", 1) for p in environ.get("QUERY_STRING", "").split("&") if "=" in p)
    c = conn()
    if method == "GET" and path == "/projects":
        chain_id, limit = int(query["chain_id"]), int(query.get("limit", 50))
        count = c.execute(
            "SELECT count(*) FROM project WHERE chain_id = %s", (chain_id,)
        ).fetchone()[0]
        cur = c.execute(
            f"SELECT {PROJECT_COLUMNS} FROM project WHERE chain_id = %s ORDER BY id LIMIT %s",
            (chain_id, limit),
        )
        return respond(start_response, "200 OK", {"count": count, "results": rows(cur)})
    if method == "GET" and (m := re.fullmatch(r"/projects/(\d+)", path)):
        cur = c.execute(f"SELECT {PROJECT_COLUMNS} FROM project WHERE id = %s", (int(m.group(1)),))
        found = rows(cur)
        return respond(
            start_response, "200 OK" if found else "404 Not Found", found[0] if found else {}
        )
    if method == "POST" and path == "/links":
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(size))
        cur = c.execute(
            f"INSERT INTO supply_link (supplier_id, buyer_id, chain_id, product, annual_value_cny_10k, since) "
            f"VALUES (%s, %s, %s, %s, %s, %s) RETURNING {LINK_COLUMNS}",
            (
                body["supplier"],
                body["buyer"],
                body["chain"],
                body["product"],
                body.get("annual_value_cny_10k"),
                body.get("since"),
            ),
        )
        return respond(start_response, "201 Created", rows(cur)[0])
    return respond(start_response, "404 Not Found", {})
