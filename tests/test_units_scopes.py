"""Many offices: what a district office and a chain office may see and change, refused alike by
the API (403 naming the unit), by the pages and by PostgreSQL itself (row-level security) when
the application is not asked at all."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import ProgrammingError

from tests.conftest import PASSWORD, Offices, Web, count_rows


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.get_json()
    return {row["id"] for row in response.get_json()["results"]}


def _project(offices: Offices, chain: str, district: str, **more: Any) -> dict[str, Any]:
    return {
        "name": f"范围测试项目 {chain} {district}",
        "chain_id": offices.ids[chain],
        "district_id": offices.ids[district],
        "investor_name": "测试投资方",
        **more,
    }


# --- a district office -----------------------------------------------------------------------


def test_a_district_office_sees_and_changes_its_own_projects_only(client, offices, conn):
    ids, as_d1 = offices.ids, offices.headers("d1-editor")
    mine = {ids[f"p_{c}_d1"] for c in ("c1", "c1k", "c2")}
    listed = _ids(client.get("/api/v1/projects?limit=1000", headers=as_d1))
    assert listed == mine
    # Another unit's project is not there for it, by key, by change or by delete.
    theirs = ids["p_c1_d2"]
    assert client.get(f"/api/v1/projects/{theirs}", headers=as_d1).status_code == 404
    patch = client.patch(f"/api/v1/projects/{theirs}", json={"notes": "x"}, headers=as_d1)
    assert patch.status_code == 404
    assert client.delete(f"/api/v1/projects/{theirs}", headers=as_d1).status_code == 404
    # Its own: created, changed; not moved out of its unit, not created in another.
    created = client.post("/api/v1/projects", json=_project(offices, "c2", "d1"), headers=as_d1)
    assert created.status_code == 201, created.get_json()
    before = count_rows(conn, "project")
    refused = client.post("/api/v1/projects", json=_project(offices, "c2", "d2"), headers=as_d1)
    assert refused.status_code == 403
    assert "district-test-1办公室" in refused.get_json()["error"]["message"]
    moved = client.patch(
        f"/api/v1/projects/{ids['p_c2_d1']}", json={"district_id": ids["d2"]}, headers=as_d1
    )
    assert moved.status_code == 403
    assert count_rows(conn, "project") == before
    district = conn.execute(
        text("SELECT district_id FROM project WHERE id = :id"), {"id": ids["p_c2_d1"]}
    ).scalar_one()
    assert district == ids["d1"]


def test_a_district_office_reads_every_enterprise_and_changes_its_own(client, offices, conn):
    ids, as_d1 = offices.ids, offices.headers("d1-editor")
    for enterprise in ("e_d1", "e_d2", "e_far"):
        response = client.get(f"/api/v1/enterprises/{ids[enterprise]}", headers=as_d1)
        assert response.status_code == 200
    own = client.patch(f"/api/v1/enterprises/{ids['e_d1']}", json={"notes": "ours"}, headers=as_d1)
    assert own.status_code == 200, own.get_json()
    # Read but not changed: 403 with the reason, not "not found".
    other = client.patch(
        f"/api/v1/enterprises/{ids['e_d2']}", json={"notes": "theirs"}, headers=as_d1
    )
    assert other.status_code == 403
    assert "district-test-1办公室" in other.get_json()["error"]["message"]
    before = count_rows(conn, "enterprise")
    made = client.post(
        "/api/v1/enterprises",
        json={"name_zh": "范围测试企业甲", "district_id": ids["d2"]},
        headers=as_d1,
    )
    assert made.status_code == 403
    assert count_rows(conn, "enterprise") == before


def test_a_district_office_changes_nothing_of_the_city_s_own(client, offices):
    as_d1 = offices.headers("d1-editor")
    chain = client.post(
        "/api/v1/chains", json={"code": "scope-x", "name_zh": "范围链", "tier": "key"},
        headers=as_d1,
    )  # fmt: skip
    assert chain.status_code == 403
    assert (
        "只有" in chain.get_json()["error"]["message"]
        or "city bureau" in chain.get_json()["error"]["message"]
    )
    segment = client.post(
        "/api/v1/segments",
        json={"chain_id": offices.ids["c1"], "code": "x.1", "name_zh": "环节",
              "position": "upstream"},
        headers=as_d1,
    )  # fmt: skip
    assert segment.status_code == 403


# --- a chain office --------------------------------------------------------------------------


def test_a_chain_office_works_on_its_chains_across_districts(client, offices, conn):
    ids, as_c1 = offices.ids, offices.headers("c1-editor")
    listed = _ids(client.get("/api/v1/projects?limit=1000", headers=as_c1))
    assert listed == {ids[f"p_{c}_{d}"] for c in ("c1", "c1k") for d in ("d1", "d2")}
    made = client.post("/api/v1/projects", json=_project(offices, "c1k", "d2"), headers=as_c1)
    assert made.status_code == 201, made.get_json()
    assert (
        client.post(
            "/api/v1/projects", json=_project(offices, "c2", "d1"), headers=as_c1
        ).status_code
        == 403
    )
    segment = {"code": "scope.1", "name_zh": "范围环节", "position": "upstream"}
    ok = client.post("/api/v1/segments", json={**segment, "chain_id": ids["c1"]}, headers=as_c1)
    assert ok.status_code == 201, ok.get_json()
    other = client.post("/api/v1/segments", json={**segment, "chain_id": ids["c2"]}, headers=as_c1)
    assert other.status_code == 403
    assert "chain-test-1办公室" in other.get_json()["error"]["message"]
    # Enterprises located elsewhere are the ones it recruits; local ones are their district's.
    far = client.patch(
        f"/api/v1/enterprises/{ids['e_far']}", json={"notes": "recruited"}, headers=as_c1
    )
    assert far.status_code == 200
    local = client.patch(f"/api/v1/enterprises/{ids['e_d1']}", json={"notes": "no"}, headers=as_c1)
    assert local.status_code == 403


def test_a_chain_office_designates_the_masters_of_its_own_chains_only(client, offices):
    ids, as_c1 = offices.ids, offices.headers("c1-editor")
    ok = client.post(
        "/api/v1/chain-masters",
        json={"enterprise": str(ids["e_d1"]), "chain": str(ids["c1"])},
        headers=as_c1,
    )
    assert ok.status_code == 201, ok.get_json()
    refused = client.post(
        "/api/v1/chain-masters",
        json={"enterprise": str(ids["e_d1"]), "chain": str(ids["c2"])},
        headers=as_c1,
    )
    assert refused.status_code == 403
    assert "chain-test-1办公室" in refused.get_json()["error"]["message"]


# --- the pages -------------------------------------------------------------------------------


def test_the_pages_keep_the_same_scope(app, offices):
    browser = Web(app.test_client())
    assert browser.login("d1-editor", PASSWORD).status_code == 302
    page = browser.text("/projects")
    ids = offices.ids
    assert f'href="/projects/{ids["p_c1_d1"]}"' in page
    assert f'href="/projects/{ids["p_c1_d2"]}"' not in page
    assert browser.get(f"/projects/{ids['p_c1_d2']}").status_code == 404
    # A new project is the office's own unit's unless the clerk picks another.
    assert f'<option selected value="{ids["d1"]}">' in browser.text("/projects/add")
    assert f'<option selected value="{ids["d1"]}">' in browser.text("/enterprises/new")
    enterprise = browser.get(f"/enterprises/{ids['e_d2']}/edit")
    assert enterprise.status_code in (200, 403)
    response = browser.post(
        f"/enterprises/{ids['e_d2']}/edit", {"name_zh": "改名企业", "version": ""}
    )
    assert response.status_code == 403


# --- PostgreSQL itself -----------------------------------------------------------------------


def _act(conn: Connection, unit: int | None) -> None:
    conn.execute(
        text(
            "SELECT set_config('role', 'chaindb_app', true), "
            "set_config('chaindb.unit_id', :unit, true)"
        ),
        {"unit": "" if unit is None else str(unit)},
    )


def test_the_database_refuses_what_the_application_would(conn, offices):
    ids = offices.ids
    savepoint = conn.begin_nested()
    _act(conn, ids["u_d1"])
    visible = set(conn.execute(text("SELECT id FROM project")).scalars())
    assert visible == {ids[f"p_{c}_d1"] for c in ("c1", "c1k", "c2")}
    # Rows out of scope are not there to change (UPDATE and DELETE touch none) ...
    assert conn.execute(text("UPDATE project SET notes = 'x' WHERE id = :id"),
                        {"id": ids["p_c1_d2"]}).rowcount == 0  # fmt: skip
    assert conn.execute(text("UPDATE enterprise SET notes = 'x' WHERE id = :id"),
                        {"id": ids["e_d2"]}).rowcount == 0  # fmt: skip
    # ... and a row written out of scope is refused.
    with pytest.raises(ProgrammingError, match="row-level security"):
        conn.execute(
            text("UPDATE project SET district_id = :d2 WHERE id = :id"),
            {"d2": ids["d2"], "id": ids["p_c1_d1"]},
        )
    savepoint.rollback()
    savepoint = conn.begin_nested()
    _act(conn, None)  # acting for no unit: no project, nothing written
    assert conn.execute(text("SELECT count(*) FROM project")).scalar_one() == 0
    assert conn.execute(text("SELECT count(*) FROM enterprise")).scalar_one() > 0
    with pytest.raises(ProgrammingError, match="row-level security"):
        conn.execute(text("INSERT INTO chain (code, name_zh, tier) VALUES ('rls-x', '链', 'key')"))
    savepoint.rollback()
    conn.execute(text("SELECT set_config('role', 'none', true)"))


# --- the users of a unit ---------------------------------------------------------------------


def test_a_unit_admin_manages_its_own_users(client, offices, conn):
    as_admin = offices.headers("d1-admin")
    listed = client.get("/api/v1/users?limit=100", headers=as_admin).get_json()["results"]
    assert {u["username"] for u in listed} == {"d1-editor", "d1-admin"}
    made = client.post(
        "/api/v1/users", json={"username": "d1-viewer", "role": "viewer"}, headers=as_admin
    )
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["unit_id"] == offices.ids["u_d1"]
    elsewhere = client.post(
        "/api/v1/users",
        json={"username": "city-viewer", "role": "viewer", "unit": "city"},
        headers=as_admin,
    )
    assert elsewhere.status_code == 403
    assert (
        conn.execute(
            text("SELECT count(*) FROM app_user WHERE username = 'city-viewer'")
        ).scalar_one()
        == 0
    )


def test_a_unit_s_analysts_read_what_the_unit_may_read(conn, offices):
    """chaindb db grant-reader --unit CODE: a login role of the unit's analysts, whose plain
    SQL sees the unit's projects only (and every enterprise, chain map and report)."""
    from chaindb.reports.reader import grant_reader

    ids = offices.ids
    role = grant_reader(conn, password=None, unit="district-test-1")
    assert role == "chaindb_reader_district_test_1"
    assert (
        conn.execute(
            text("SELECT reader_role FROM unit WHERE id = :id"), {"id": ids["u_d1"]}
        ).scalar_one()
        == role
    )
    savepoint = conn.begin_nested()
    conn.execute(text(f"SET LOCAL ROLE {role}"))
    visible = set(conn.execute(text("SELECT id FROM project")).scalars())
    assert visible == {ids[f"p_{c}_d1"] for c in ("c1", "c1k", "c2")}
    assert ids["e_d2"] in set(conn.execute(text("SELECT id FROM enterprise")).scalars())
    # It cannot pose as the application, nor as another unit.
    conn.execute(text("SELECT set_config('chaindb.unit_id', :u, true)"), {"u": str(ids["u_c1"])})
    assert set(conn.execute(text("SELECT id FROM project")).scalars()) == visible
    with pytest.raises(ProgrammingError, match="permission denied"):
        conn.execute(text("UPDATE enterprise SET notes = 'x' WHERE id = :id"), {"id": ids["e_d1"]})
    savepoint.rollback()  # and the role with it


def test_users_move_between_units_only_where_their_administrator_manages_both(
    client, offices, conn
):
    def unit_of(name: str) -> int:
        return conn.execute(
            text("SELECT unit_id FROM app_user WHERE username = :n"), {"n": name}
        ).scalar_one()

    refused = client.patch(
        "/api/v1/users/d1-editor", json={"unit": "city"}, headers=offices.headers("d1-admin")
    )
    assert refused.status_code == 403
    assert unit_of("d1-editor") == offices.ids["u_d1"]
    moved = client.patch(
        "/api/v1/users/d1-editor",
        json={"unit": "chain-test-1"},
        headers=offices.headers("city-admin"),
    )
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["unit_id"] == offices.ids["u_c1"] == unit_of("d1-editor")


# --- as production runs: the app's own pools, reads in autocommit --------------------------------


@pytest.fixture(scope="module")
def pooled(scratch_database_module: str):
    """An app with its own pools (an autocommit read pool, a write pool) on a database of its
    own, as production runs, not bound to a test's transaction."""
    from chaindb import create_app
    from chaindb.config import Settings
    from chaindb.db import Database

    url = scratch_database_module
    settings = Settings(env="test", database_url=url, secret_key="t" * 40, reports_listen=False)
    app = create_app({"TESTING": True, "SQLALCHEMY_URL": url}, settings=settings)
    yield app
    Database.dispose(app)


def test_every_handle_of_a_request_acts_for_its_unit_in_autocommit_too(pooled):
    """The read pool runs in autocommit, where a SET LOCAL lasts one statement: its handles act
    for the request's unit for the whole request, the write session's for its transaction."""
    from flask import g

    from chaindb.access import Principal, Role, Scope, UnitKind
    from chaindb.db import db

    acting = "SELECT current_user, current_setting('chaindb.unit_id', true)"
    with pooled.test_request_context("/api/v1/projects", method="GET"):
        g.principal = Principal(1, "someone", Role.VIEWER, Scope(7, "x", "x", UnitKind.CITY))
        assert tuple(db.reader.execute(text(acting)).one()) == ("chaindb_app", "7")
        assert tuple(db.reader.execute(text(acting)).one()) == ("chaindb_app", "7")
        assert tuple(db.session.execute(text(acting)).one()) == ("chaindb_app", "7")
        assert tuple(db.session.execute(text(acting)).one()) == ("chaindb_app", "7")
    with pooled.test_request_context("/api/v1/projects", method="POST"):
        g.principal = Principal(1, "someone", Role.EDITOR, Scope(8, "x", "x", UnitKind.CITY))
        assert tuple(db.session.execute(text(acting)).one()) == ("chaindb_app", "8")
        assert tuple(db.session.execute(text(acting)).one()) == ("chaindb_app", "8")
