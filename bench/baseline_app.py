"""The yardstick for bench/api_load.py: the same four calls, hand-written on Flask + psycopg.

What the issue calls "a minimal hand-written Flask + psycopg endpoint": Flask routing and
request parsing, one psycopg connection per worker thread (autocommit, psycopg's automatic
prepared statements), the JSON written by orjson as chaindb writes it, and nothing else: no
validation, no authentication, no change-log context, no ETag. Served by granian exactly like
chaindb (bench/api_load.py), which measured best for it too (bench/server_ab.py).
"""

from __future__ import annotations

import os
import threading
from decimal import Decimal

import orjson
import psycopg
from flask import Flask, Response, request
from psycopg.rows import dict_row

# Every column of a project, as chaindb returns them (and Platformatic does): the yardstick
# answers with the same record, not one a quarter smaller.
PROJECT_COLUMNS = (
    "id, name, chain_id, segment_id, district_id, investor_id, investor_name, chain_master_id, kind, "
    "parent_id, lead_id, channel, agreed_investment_cny_100m, funds_arrived_cny_100m, "
    "capital_origin, foreign_capital_usd_10k, first_phase_investment_cny_100m, "
    "fixed_asset_investment_cny_100m, stage, signed_on, agreed_start_on, construction_started_on, "
    "production_started_on, capacity_reached_on, dropped_on, is_key, responsible_unit, "
    "responsible_person, contact_phone, source, notes, size_class, review_status, created_at, "
    "updated_at"
)
LINK_COLUMNS = (
    "id, supplier_id, buyer_id, chain_id, segment_id, product, annual_value_cny_10k, since, until, "
    "status, reported_by, verified, verified_at, notes, created_at, updated_at"
)

app = Flask(__name__)
_local = threading.local()


def conn() -> psycopg.Connection:
    connection = getattr(_local, "conn", None)
    if connection is None or connection.closed:
        url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        connection = psycopg.connect(url, autocommit=True, row_factory=dict_row)
        _local.conn = connection
    return connection


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value))


def respond(body: object, status: int = 200) -> Response:
    data = orjson.dumps(body, default=_default, option=orjson.OPT_UTC_Z)
    return Response(data, status=status, mimetype="application/json")


@app.get("/projects")
def list_projects() -> Response:
    chain_id, limit = int(request.args["chain_id"]), int(request.args.get("limit", 50))
    c = conn()
    count = c.execute("SELECT count(*) AS n FROM project WHERE chain_id = %s", (chain_id,))
    total = count.fetchone()["n"]
    rows = c.execute(
        f"SELECT {PROJECT_COLUMNS} FROM project WHERE chain_id = %s ORDER BY id LIMIT %s",
        (chain_id, limit),
    ).fetchall()
    return respond({"count": total, "results": rows})


@app.get("/projects/<int:project_id>")
def read_project(project_id: int) -> Response:
    row = conn().execute(f"SELECT {PROJECT_COLUMNS} FROM project WHERE id = %s", (project_id,))
    found = row.fetchone()
    return respond(found, 200) if found else respond({}, 404)


@app.post("/links")
def create_link() -> Response:
    body = request.get_json()
    with conn().transaction():
        row = (
            conn()
            .execute(
                "INSERT INTO supply_link (supplier_id, buyer_id, chain_id, product, "
                "annual_value_cny_10k, since) VALUES (%s, %s, %s, %s, %s, %s) "
                f"RETURNING {LINK_COLUMNS}",
                (
                    body["supplier"],
                    body["buyer"],
                    body["chain"],
                    body["product"],
                    body.get("annual_value_cny_10k"),
                    body.get("since"),
                ),
            )
            .fetchone()
        )
    return respond(row, 201)


@app.post("/projects/<int:project_id>/stage")
def move_stage(project_id: int) -> Response:
    """The move as a minimal endpoint writes it: the stage, its date column (signed_on, the
    one the benchmark moves to, kept once set; emptied on the way back), the move's date and
    reason for the stage-history trigger. No rule is checked."""
    body = request.get_json()
    with conn().transaction():
        conn().execute(
            "SELECT set_config('chaindb.stage_date', %s, true), "
            "set_config('chaindb.stage_reason', %s, true)",
            (body["date"], body.get("reason") or ""),
        )
        row = (
            conn()
            .execute(
                "UPDATE project SET stage = %(stage)s, dropped_on = NULL, signed_on = CASE "
                "WHEN %(signed)s THEN coalesce(signed_on, %(on)s::date) END "
                f"WHERE id = %(id)s RETURNING {PROJECT_COLUMNS}",
                {
                    "stage": body["stage"],
                    "signed": body["stage"] == "signed",
                    "on": body["date"],
                    "id": project_id,
                },
            )
            .fetchone()
        )
    return respond(row, 200) if row else respond({}, 404)


@app.get("/healthz")
def healthz() -> Response:
    """What chaindb's health check answers without the database (the scripts' first request)."""
    return respond({"status": "ok"})
