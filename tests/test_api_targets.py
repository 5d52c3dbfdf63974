"""Targets through the API: scopes with their chain or planning unit by natural key, the scope
rules said per field, duplicates, filters."""

from __future__ import annotations

import pytest

from tests.conftest import count_rows

BASE = "/api/v1/targets"


@pytest.fixture
def places(api) -> dict[str, int]:
    """A chain (automotive) and a planning unit (370102), by their ids."""
    chain = api.post("/api/v1/chains", {"code": "automotive", "name_zh": "汽车", "tier": "key"})
    district = api.post(
        "/api/v1/districts",
        {"code": "370102", "is_official_code": True, "name_zh": "历下区", "kind": "district"},
    )
    assert chain.status_code == district.status_code == 201
    return {"chain": chain.get_json()["id"], "district": district.get_json()["id"]}


def target(**fields) -> dict:
    return {
        "scope": "city",
        "year": 2025,
        "metric": "industrial_revenue",
        "unit": "cny_100m",
        "target_value": "11000",
        **fields,
    }


def fields_of(response) -> list[str]:
    return [d["field"] for d in response.get_json()["error"]["details"]]


def test_create_read_update_delete_with_natural_keys(api, places):
    created = api.post(
        BASE,
        target(scope="chain", chain_id="automotive", metric="chain_revenue", target_value="1500.5"),
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["chain_id"] == places["chain"] and body["district_id"] is None
    assert body["scope"] == "chain" and body["year"] == 2025
    assert float(body["target_value"]) == 1500.5 and body["actual_value"] is None
    assert created.headers["Location"].endswith(f"{BASE}/{body['id']}")

    path = f"{BASE}/{body['id']}"
    read = api.get(path)
    assert read.status_code == 200 and read.get_json() == body
    changed = api.patch(
        path,
        {"actual_value": "1234.5678", "source": "某统计公报"},
        headers={"If-Match": read.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["actual_value"] == "1234.5678"
    assert changed.get_json()["source"] == "某统计公报"

    by_id = api.put(
        path,
        target(
            scope="district",
            district_id=places["district"],
            metric="industrial_profit",
            target_value=None,
            actual_value="12.3",
        ),
    )
    assert by_id.status_code == 200, by_id.get_json()
    replaced = by_id.get_json()
    assert replaced["scope"] == "district" and replaced["district_id"] == places["district"]
    assert replaced["chain_id"] is None and replaced["target_value"] is None
    assert replaced["source"] is None  # PUT replaces: what is not given is gone

    history = api.get(f"{path}/history").get_json()
    assert [h["action"] for h in history] == ["insert", "update", "update"]
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404


def test_a_planning_unit_by_code_and_the_city(api, places):
    district = api.post(
        BASE, target(scope="district", district_id="370102", actual_value="800", target_value=None)
    )
    assert district.status_code == 201, district.get_json()
    assert district.get_json()["district_id"] == places["district"]
    city = api.post(BASE, target(year=2024, target_value=None, actual_value="10189.4"))
    assert city.status_code == 201, city.get_json()
    assert city.get_json()["chain_id"] is None and city.get_json()["district_id"] is None


@pytest.mark.parametrize(
    ("fields", "at_fault"),
    [
        ({"scope": "city", "chain_id": "automotive"}, ["chain_id"]),
        ({"scope": "city", "district_id": "370102"}, ["district_id"]),
        ({"scope": "chain"}, ["chain_id"]),
        ({"scope": "chain", "chain_id": "automotive", "district_id": "370102"}, ["district_id"]),
        ({"scope": "district"}, ["district_id"]),
        ({"scope": "district", "chain_id": "automotive"}, ["chain_id", "district_id"]),
        ({"target_value": None}, ["target_value"]),
    ],
)
def test_scope_and_keys_must_agree(api, conn, places, fields, at_fault):
    before = count_rows(conn, "target", "change_log")
    response = api.post(BASE, target(**fields))
    assert response.status_code == 422, response.get_json()
    assert sorted(fields_of(response)) == at_fault
    assert response.get_json()["error"]["code"] == "invalid"
    assert count_rows(conn, "target", "change_log") == before


def test_a_change_of_scope_must_bring_its_keys(api, places):
    made = api.post(BASE, target(scope="chain", chain_id="automotive")).get_json()
    path = f"{BASE}/{made['id']}"
    refused = api.patch(path, {"scope": "city"})
    assert refused.status_code == 422
    assert fields_of(refused) == ["chain_id"]
    assert "leave chain_id empty" in refused.get_json()["error"]["message"]
    assert api.get(path).get_json()["scope"] == "chain"
    moved = api.patch(path, {"scope": "district", "chain_id": None, "district_id": "370102"})
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["district_id"] == places["district"]
    emptied = api.patch(path, {"target_value": None})
    assert emptied.status_code == 422 and fields_of(emptied) == ["target_value"]


def test_unknown_references_and_bad_values_are_422(api, conn, places):
    before = count_rows(conn, "target")
    unknown = api.post(BASE, target(scope="chain", chain_id="no-such-chain"))
    assert unknown.status_code == 422
    assert unknown.get_json()["error"]["details"] == [
        {"field": "chain_id", "message": "chain_id: no chain with code 'no-such-chain'"}
    ]
    unknown_id = api.post(BASE, target(scope="district", district_id=999999))
    assert unknown_id.status_code == 422 and fields_of(unknown_id) == ["district_id"]
    bad = api.post(
        BASE,
        target(year=1999, metric="gdp", unit="yuan", target_value="1.00001", actual_value="x"),
    )
    assert bad.status_code == 422
    assert set(fields_of(bad)) == {"year", "metric", "unit", "target_value", "actual_value"}
    assert count_rows(conn, "target") == before


def test_duplicates_are_409(api, conn, places):
    assert api.post(BASE, target(scope="chain", chain_id="automotive")).status_code == 201
    again = api.post(BASE, target(scope="chain", chain_id=places["chain"], target_value="1"))
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "conflict"
    assert again.get_json()["error"]["message"] == (
        "a value for this scope, year and metric already exists"
    )
    # The city has no keys: two city rows for one year and metric are still duplicates.
    assert api.post(BASE, target()).status_code == 201
    assert api.post(BASE, target(target_value="2")).status_code == 409
    # Another year, metric or scope is no duplicate.
    assert api.post(BASE, target(year=2026)).status_code == 201
    assert api.post(BASE, target(scope="district", district_id="370102")).status_code == 201
    # A bulk request with a duplicate inside is refused whole.
    before = count_rows(conn, "target")
    bulk = api.post(BASE, [target(year=2030), target(year=2030)])
    assert bulk.status_code == 409
    assert fields_of(bulk) == ["[1].metric"]
    assert count_rows(conn, "target") == before


def test_a_viewer_cannot_write_targets(api, conn, places):
    before = count_rows(conn, "target")
    assert api.post(BASE, target(), role="viewer").status_code == 403
    assert count_rows(conn, "target") == before


def test_filters_and_ordering(api, places):
    rows = [
        target(year=2023, actual_value="9000", target_value=None),
        target(year=2024, actual_value="10189.4", target_value=None),
        target(year=2025),
        target(year=2024, metric="industrial_profit", actual_value="429.1", target_value=None),
        target(scope="chain", chain_id="automotive", metric="chain_revenue", year=2025),
        target(scope="chain", chain_id="automotive", metric="chain_revenue", year=2024),
        target(
            scope="district",
            district_id="370102",
            metric="projects_signed",
            unit="count",
            target_value="40",
            year=2025,
        ),
    ]
    made = api.post(BASE, rows)
    assert made.status_code == 201, made.get_json()

    def years(query: str) -> list[tuple]:
        page = api.get(f"{BASE}?{query}").get_json()
        assert "results" in page, page
        return [(r["scope"], r["year"], r["metric"]) for r in page["results"]]

    assert api.get(BASE).get_json()["count"] == 7
    assert len(years("scope=city")) == 4
    assert years(f"chain_id={places['chain']}&ordering=year") == [
        ("chain", 2024, "chain_revenue"),
        ("chain", 2025, "chain_revenue"),
    ]
    assert years("chain=automotive&ordering=-year") == [
        ("chain", 2025, "chain_revenue"),
        ("chain", 2024, "chain_revenue"),
    ]
    assert years(f"district_id={places['district']}") == [("district", 2025, "projects_signed")]
    assert years("district=370102") == [("district", 2025, "projects_signed")]
    assert years("scope=city&year__gte=2024&year__lte=2024&ordering=metric") == [
        ("city", 2024, "industrial_profit"),
        ("city", 2024, "industrial_revenue"),
    ]
    assert len(years("metric=industrial_revenue")) == 3
    assert len(years("metric__in=chain_revenue,projects_signed")) == 3
    assert len(years("actual_value__isnull=false")) == 3
    assert years("actual_value__gte=10000") == [("city", 2024, "industrial_revenue")]
    assert years("scope=city&ordering=-year,metric&limit=2") == [
        ("city", 2025, "industrial_revenue"),
        ("city", 2024, "industrial_profit"),
    ]
    # The default order: year, then scope, then metric.
    assert years("year=2024") == [
        ("chain", 2024, "chain_revenue"),
        ("city", 2024, "industrial_profit"),
        ("city", 2024, "industrial_revenue"),
    ]
    for bad in ("scope=county", "year=soon", "ordering=source", "chain_code=x", "metric=gdp"):
        assert api.get(f"{BASE}?{bad}").status_code == 422, bad
