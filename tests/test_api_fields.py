"""Sparse fieldsets (?fields=id,name,stage, as JSON:API and DRF clients know them): a list and a
read answer only the fields asked for, id always among them; the SQL selects only those; the
whole record stays the default; unknown names are a 422 naming them."""

from __future__ import annotations

import psycopg
import pytest

from tests import factories_sql as f


@pytest.fixture
def projects(conn):
    chain, district = f.chain(conn), f.district(conn)
    ids = [f.project(conn, chain, district, stage="negotiating") for _ in range(3)]
    return {"chain": chain, "ids": ids}


def test_a_list_answers_only_the_fields_asked_for(api, projects):
    chain = projects["chain"]
    page = api.get(f"/api/v1/projects?chain_id={chain}&fields=name,stage").get_json()
    assert page["count"] == 3
    assert [set(row) for row in page["results"]] == [{"id", "name", "stage"}] * 3
    whole = api.get(f"/api/v1/projects?chain_id={chain}").get_json()
    assert len(whole["results"][0]) > 10  # the whole record stays the default
    for sparse, full in zip(page["results"], whole["results"], strict=True):
        assert sparse == {k: full[k] for k in ("id", "name", "stage")}
    # Spaces and a trailing comma are forgiven; ordering by a field not asked for still orders.
    ordered = api.get(f"/api/v1/projects?chain_id={chain}&fields= name ,&ordering=-id")
    assert [r["id"] for r in ordered.get_json()["results"]] == sorted(projects["ids"])[::-1]


def test_keyset_pages_with_fields(api, projects):
    first = api.get(f"/api/v1/projects?chain_id={projects['chain']}&cursor=&limit=2&fields=name")
    body = first.get_json()
    assert [set(r) for r in body["results"]] == [{"id", "name"}] * 2 and body["next"]
    rest = api.client.get(body["next"], headers=api.headers("viewer")).get_json()
    assert [set(r) for r in rest["results"]] == [{"id", "name"}]


def test_a_read_with_fields_has_its_own_etag(api, projects):
    project = projects["ids"][0]
    sparse = api.get(f"/api/v1/projects/{project}?fields=stage")
    assert sparse.status_code == 200 and set(sparse.get_json()) == {"id", "stage"}
    whole = api.get(f"/api/v1/projects/{project}")
    assert sparse.headers["ETag"] != whole.headers["ETag"]
    again = api.get(
        f"/api/v1/projects/{project}?fields=stage",
        headers={"If-None-Match": sparse.headers["ETag"]},
    )
    assert again.status_code == 304


@pytest.mark.parametrize("fields", ["bogus", "name,bogus", "", ",", "password_hash"])
def test_unknown_fields_are_a_422_naming_them(api, projects, fields):
    for url in (f"/api/v1/projects?fields={fields}", f"/api/v1/projects/{projects['ids'][0]}?fields={fields}"):  # fmt: skip
        response = api.get(url)
        assert response.status_code == 422, url
        error = response.get_json()["error"]
        assert error["details"][0]["field"] == "fields"
        assert "stage" in error["message"]  # the known fields are listed


def test_the_sql_selects_only_the_fields(api, projects, monkeypatch):
    sent: list[str] = []
    execute = psycopg.Cursor.execute

    def counted(self, query, params=None, **kwargs):
        sent.append(query if isinstance(query, str) else query.as_string(self))
        return execute(self, query, params, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counted)
    assert api.get(f"/api/v1/projects?chain_id={projects['chain']}&fields=name").status_code == 200
    page = [s for s in sent if s.lstrip().startswith("SELECT") and "LIMIT" in s]
    assert page and all("agreed_investment_cny_100m" not in s for s in page), page


def test_a_resource_with_its_own_select_answers_fields_too(api):
    users = api.get("/api/v1/users?fields=username", role="admin")
    assert users.status_code == 200
    assert users.get_json()["results"] and all(
        set(row) == {"id", "username"} for row in users.get_json()["results"]
    )
