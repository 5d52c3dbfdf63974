"""One rule for one act: a supply link made any way (the 关联配套企业 workflow, the resource, a
bulk request, an import, the pages) leaves the same rows behind, supplier role included."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Connection, text

from tests import factories_sql as f


def _world(conn: Connection) -> dict[str, Any]:
    chain = f.chain(conn)
    segment = f.segment(conn, chain)
    master = f.chain_master(conn, chain)
    supplier = f.enterprise(conn, name_zh=f"一规配套企业{f.next_number()}有限公司")
    code = conn.execute(text("SELECT uscc FROM enterprise WHERE id = :s"), {"s": supplier})
    return {"chain": chain, "segment": segment, "master": master, "supplier": supplier,
            "supplier_uscc": code.scalar_one()}  # fmt: skip


def _resource_body(w: dict[str, Any]) -> dict[str, Any]:
    return {"supplier_id": w["supplier"], "buyer_id": w["master"], "chain_id": w["chain"],
            "segment_id": w["segment"], "product": "轴承", "annual_value_cny_10k": "120.5",
            "since": "2025-03-01"}  # fmt: skip


def by_workflow(api, web, w):
    return api.post(
        f"/api/v1/chain-masters/{w['master']}/suppliers",
        {"chain": w["chain"], "supplier": w["supplier"], "segment_id": w["segment"],
         "product": "轴承", "annual_value_cny_10k": "120.5", "since": "2025-03-01"},
    ).status_code  # fmt: skip


def by_resource(api, web, w):
    return api.post("/api/v1/supply-links", _resource_body(w)).status_code


def by_bulk(api, web, w):
    return api.post("/api/v1/supply-links", [_resource_body(w)]).status_code


def by_import(api, web, w):
    body = _resource_body(w)
    csv = ",".join(body) + "\n" + ",".join(str(v) for v in body.values()) + "\n"
    response = api.post(
        "/api/v1/supply-links/import", data=csv.encode(), headers={"Content-Type": "text/csv"}
    )
    return 201 if response.status_code == 200 and response.json["create"] == 1 else response


def by_link_page(api, web, w):
    response = web.submit(
        "/supply/link",
        {"master": f"{w['master']}:{w['chain']}", "supplier": w["supplier_uscc"],
         "segment_id": str(w["segment"]), "product": "轴承", "annual_value_cny_10k": "120.5",
         "since": "2025-03-01"},
    )  # fmt: skip
    return 201 if response.status_code == 302 else response.status_code


WAYS: dict[str, Callable] = {
    "workflow": by_workflow,
    "resource": by_resource,
    "bulk": by_bulk,
    "import": by_import,
    "link page": by_link_page,
}


def _state(conn: Connection, w: dict[str, Any]) -> dict[str, Any]:
    link = conn.execute(
        text("SELECT buyer_id, chain_id, segment_id, product, annual_value_cny_10k, since, "
             "until, status, verified FROM supply_link WHERE supplier_id = :s"),
        {"s": w["supplier"]},
    ).mappings().one()  # fmt: skip
    roles = conn.execute(
        text("SELECT chain_id, segment_id, role, since, until FROM chain_role "
             "WHERE enterprise_id = :s"),
        {"s": w["supplier"]},
    ).mappings().all()  # fmt: skip
    relative = {"buyer": link["buyer_id"] == w["master"], "chain": link["chain_id"] == w["chain"],
                "segment": link["segment_id"] == w["segment"]}  # fmt: skip
    plain = {k: v for k, v in link.items() if k not in ("buyer_id", "chain_id", "segment_id")}
    role_shape = [
        {**{k: v for k, v in r.items() if k not in ("chain_id", "segment_id")},
         "same_chain": r["chain_id"] == w["chain"], "same_segment": r["segment_id"] == w["segment"]}
        for r in roles
    ]  # fmt: skip
    return {"link": plain, "relative": relative, "roles": role_shape}


@pytest.mark.parametrize("way", WAYS)
def test_every_way_leaves_the_same_rows(api, web, conn, way):
    reference = _world(conn)
    assert by_workflow(api, web, reference) == 201
    expected = _state(conn, reference)
    assert expected["roles"] and expected["roles"][0]["role"] == "supplier"

    world = _world(conn)
    assert WAYS[way](api, web, world) == 201
    assert _state(conn, world) == expected


def test_activating_a_proposed_link_gives_the_supplier_its_role(api, conn):
    w = _world(conn)
    proposed = api.post("/api/v1/supply-links", _resource_body(w) | {"status": "proposed"})
    assert proposed.status_code == 201
    roles = "SELECT count(*) FROM chain_role WHERE enterprise_id = :s AND role = 'supplier'"
    assert conn.execute(text(roles), {"s": w["supplier"]}).scalar() == 0
    active = api.patch(f"/api/v1/supply-links/{proposed.json['id']}", {"status": "active"})
    assert active.status_code == 200, active.json
    assert conn.execute(text(roles), {"s": w["supplier"]}).scalar() == 1
