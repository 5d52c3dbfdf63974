"""One CRUD case run for every resource of the API (as NetBox runs its API test case for every
model): create with only the required fields, read (ETag, 304), list, export, change (If-Match),
history, refusals that name the field, delete.

It runs on an app as production runs it: pools of its own on a database of its own, so the
reads (autocommit pool), the writes (session) and the streamed exports (a transaction of their
own) are separate connections, and every write commits. A new resource needs a sample here, or a
reason in ELSEWHERE; test_every_resource_is_covered says so.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from chaindb import create_app
from chaindb.api.resource import Resource
from chaindb.config import Settings
from chaindb.db import db, make_engine
from chaindb.enterprises.uscc import with_check_character

# Resources whose routes are their own, tested where they are defined.
ELSEWHERE = {
    "changes": "read-only: the change log (tests/test_api_changes.py)",
    "users": "its own routes, tokens and passwords (tests/test_api_auth.py)",
}


class Client:
    """The app's test client with an admin's token."""

    def __init__(self, app: Any, token: str) -> None:
        self.client = app.test_client()
        self.auth = {"Authorization": f"Bearer {token}"}

    def __getattr__(self, method: str) -> Callable[..., Any]:
        call = getattr(self.client, method)

        def send(path: str, headers: dict | None = None, **kw: Any) -> Any:
            return call(path, headers={**self.auth, **(headers or {})}, **kw)

        return send

    def made(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.post(path, json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()


@pytest.fixture(scope="module")
def production(scratch_database_module: str) -> Iterator[Client]:
    """An app with its own pools on a migrated database of its own, and an admin's token."""
    from chaindb.auth.service import create_token, create_user

    url = scratch_database_module
    engine = make_engine(url)
    with Session(engine) as session:
        user = create_user(session=session, username="crud-admin", role="admin", password=None)
        token = create_token(session=session, user=user, name="crud")[1]
        session.commit()
    engine.dispose()
    settings = Settings(
        token_cache_seconds=0,
        env="test",
        database_url=url,
        secret_key="t" * 40,
        reports_listen=False,
    )
    app = create_app({"TESTING": True, "SQLALCHEMY_URL": url}, settings=settings)
    try:
        yield Client(app, token)
    finally:
        db.dispose(app)


def _n() -> str:
    return uuid.uuid4().hex[:6]


def _uscc() -> str:
    digits = "".join(str(int(c, 16) % 10) for c in uuid.uuid4().hex[:7])
    return with_check_character(f"913701{digits}MA0X")


def _district(api: Client) -> dict[str, Any]:
    code = str(100000 + int(uuid.uuid4().int % 800000))
    body = {"code": code, "is_official_code": True, "name_zh": f"测试区{_n()}", "kind": "district"}
    return api.made("/api/v1/districts", body)


def _chain(api: Client) -> dict[str, Any]:
    return api.made(
        "/api/v1/chains", {"code": f"crud-{_n()}", "name_zh": f"测试链{_n()}", "tier": "key"}
    )


def _enterprise(api: Client) -> dict[str, Any]:
    return api.made("/api/v1/enterprises", {"name_zh": f"测试企业{_n()}有限公司", "uscc": _uscc()})


def _chain_master(api: Client) -> dict[str, Any]:
    """A chain and its chain master, as a supply link names them."""
    chain, master = _chain(api), _enterprise(api)
    role = {"role": "chain_master", "enterprise_id": master["uscc"], "chain_id": chain["code"]}
    api.made("/api/v1/chain-roles", role)
    return {"buyer_id": master["uscc"], "chain_id": chain["code"]}


# resource -> (the required fields of a new record, made with what it refers to; a change)
SAMPLES: dict[str, Callable[[Client], tuple[dict[str, Any], dict[str, Any]]]] = {
    "districts": lambda api: (
        {
            "code": str(100000 + int(uuid.uuid4().int % 800000)),
            "is_official_code": True,
            "name_zh": f"新区{_n()}",
            "kind": "district",
        },
        {"name_zh": f"改名区{_n()}"},
    ),
    "chains": lambda api: (
        {"code": f"new-{_n()}", "name_zh": f"新链{_n()}", "tier": "key"},
        {"name_zh": f"改名链{_n()}"},
    ),
    "segments": lambda api: (
        {
            "code": f"seg-{_n()}",
            "name_zh": "环节",
            "position": "upstream",
            "chain_id": _chain(api)["code"],
        },
        {"name_zh": "改名环节"},
    ),
    "chain-roles": lambda api: (
        {
            "role": "backbone",
            "enterprise_id": _enterprise(api)["uscc"],
            "chain_id": _chain(api)["code"],
        },
        {"notes": "核实"},
    ),
    "enterprises": lambda api: ({"name_zh": f"新企业{_n()}有限公司"}, {"notes": "核实"}),
    "designations": lambda api: (
        {
            "type": "specialized_sme",
            "level": "provincial",
            "year": 2024,
            "enterprise_id": _enterprise(api)["uscc"],
        },
        {"year": 2025},
    ),
    "leading-chains": lambda api: (
        {
            "district_id": _district(api)["code"],
            "chain_id": _chain(api)["code"],
            "since": "2024-01-01",
        },
        {"notes": "核实"},
    ),
    "investor-attributes": lambda api: (
        {
            "attribute": "fortune_global_500",
            "year": 2025,
            "enterprise_id": _enterprise(api)["uscc"],
        },
        {"list_rank": 42},
    ),
    "supply-links": lambda api: (
        {"supplier_id": _enterprise(api)["uscc"], **_chain_master(api)},
        {"notes": "核实"},
    ),
    "projects": lambda api: (
        {
            "name": f"新项目{_n()}",
            "chain_id": _chain(api)["code"],
            "district_id": _district(api)["code"],
            "investor_name": "某投资方",
        },
        {"name": f"改名项目{_n()}"},
    ),
    "targets": lambda api: (
        {
            "scope": "city",
            "year": 2000 + int(uuid.uuid4().int % 100),
            "metric": "projects_signed",
            "unit": "count",
            "target_value": "10",
        },
        {"notes": "核实"},
    ),
    "leads": lambda api: (
        {"chain_id": _chain(api)["code"], "source": "referral", "enterprise_name": "线索企业"},
        {"status": "contacted", "next_follow_up_on": "2026-12-31"},
    ),
    "negotiations": lambda api: (
        {
            "lead_id": api.made(
                "/api/v1/leads",
                {"chain_id": _chain(api)["code"], "source": "fund", "enterprise_name": "洽谈企业"},
            )["id"],
            "held_on": "2026-11-20",
            "content": "初次洽谈",
        },
        {"outcome": "对方有意向"},
    ),
    "trips": lambda api: (
        {"title": f"招商之旅{_n()}", "starts_on": "2026-10-12"},
        {"ends_on": "2026-10-15"},
    ),
    "trip-visits": lambda api: (
        {
            "trip_id": api.made("/api/v1/trips", {"title": "推介会", "starts_on": "2026-09-01"})[
                "id"
            ],
            "enterprise_name": "拜访企业",
        },
        {"notes": "交换名片"},
    ),
    "chain-revenues": lambda api: (
        {"chain_id": _chain(api)["code"], "year": 2025, "revenue_cny_100m": "1234.5"},
        {"source": "链长办报送"},
    ),
    "units": lambda api: (
        {
            "code": f"unit-{_n()}",
            "kind": "district_office",
            "name_zh": f"新区招商部门{_n()}",
            "parent_id": "city",
            "district_id": _district(api)["code"],
        },
        {"name_en": "renamed office"},
    ),
}
GENERIC = sorted(SAMPLES)


def test_every_resource_is_covered(production: Client):
    assert set(Resource.registry) == set(SAMPLES) | set(ELSEWHERE)


@pytest.mark.parametrize("name", GENERIC)
def test_create_read_list_export_change_delete(production: Client, name: str):
    api, url = production, f"/api/v1/{name}"
    body, change = SAMPLES[name](api)

    created = api.post(url, json=body)
    assert created.status_code == 201, created.get_json()
    record = created.get_json()
    location = created.headers["Location"]
    assert location.endswith(f"{url}/{record['id']}")

    read = api.get(location)
    assert read.status_code == 200 and read.get_json() == record
    tag = read.headers["ETag"]
    assert api.get(location, headers={"If-None-Match": tag}).status_code == 304

    listed = api.get(f"{url}?limit=1000&ordering=-id").get_json()
    assert record["id"] in {r["id"] for r in listed["results"]}

    exported = api.get(f"{url}?format=csv&ordering=-id")
    assert exported.status_code == 200, exported.get_data(as_text=True)[:300]
    rows = csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff")))
    assert str(record["id"]) in {r["id"] for r in rows}

    stale = api.patch(location, json=change, headers={"If-Match": '"not-its-etag"'})
    assert stale.status_code == 412
    assert api.get(location).get_json() == record
    changed = api.patch(location, json=change, headers={"If-Match": tag})
    assert changed.status_code == 200, changed.get_json()
    after = changed.get_json()
    assert {k: str(after[k]) for k in change} == {k: str(v) for k, v in change.items()}
    assert changed.headers["ETag"] != tag

    history = api.get(f"{location}/history").get_json()
    assert [h["action"] for h in history] == ["insert", "update"]
    assert history[0]["actor"] == "crud-admin"

    assert api.delete(location).status_code == 204
    assert api.get(location).status_code == 404
    assert api.delete(location).status_code == 404


@pytest.mark.parametrize("name", GENERIC)
def test_refusals_name_the_field_and_write_nothing(production: Client, name: str):
    api, url = production, f"/api/v1/{name}"
    body, _ = SAMPLES[name](api)
    count = api.get(f"{url}?limit=1").get_json()["count"]

    missing = next(iter(Resource.registry[name].create.model_json_schema()["required"]))
    without = {k: v for k, v in body.items() if k != missing}
    refused = api.post(url, json=without)
    assert refused.status_code == 422, refused.get_json()
    assert missing in {d["field"] for d in refused.get_json()["error"]["details"]}

    wrong_type = api.post(url, json={**body, missing: {"a": "dict"}})
    assert wrong_type.status_code == 422
    assert missing in {d["field"] for d in wrong_type.get_json()["error"]["details"]}

    malformed = api.post(url, data=b"{not json", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400

    bulk = api.post(url, json=[body, without])  # all or none
    assert bulk.status_code == 422
    assert any(d["field"].startswith("[1]") for d in bulk.get_json()["error"]["details"])

    assert api.get(f"{url}?limit=1").get_json()["count"] == count
