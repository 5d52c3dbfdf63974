"""Text length limits (chaindb.db.text_limit): one policy, kept by the database, the API's
schemas and the forms alike.

A 100,000-character project name or a 30 MB note used to be stored. Now every text column a
person writes holds at most 200 characters (names, persons, units ...) or 10,000 (notes,
descriptions, sources, reasons), and every writer is refused past it: an API client with a 422
naming the field and the limit, a clerk with the message beside the field, an analyst's INSERT
by the CHECK.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import ARRAY, CheckConstraint, Connection, Engine, Text, text
from sqlalchemy.exc import DBAPIError

from chaindb.api.resource import Resource
from chaindb.auth.schemas import TokenCreate, UserCreate, UserUpdate
from chaindb.db import LONG_TEXT, SHORT_TEXT, make_engine, text_limit
from chaindb.errors import from_database_error
from chaindb.models import UNLIMITED_TEXT, Base
from chaindb.projects.schemas import ProjectCreate, StageMove
from chaindb.supply.schemas import ChainMasterCreate, EndLink, SupplierLinkCreate
from tests import factories_sql as f
from tests.conftest import count_rows, migrate, refused, run_sql
from tests.test_web_minimal_input import messages

PROJECTS = "/api/v1/projects"


def limited_columns() -> dict[tuple[str, str], int]:
    """(table, column) -> its limit, for every text (or text array) column not listed as
    unlimited."""
    found = {}
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            is_text = isinstance(column.type, Text) or (
                isinstance(column.type, ARRAY) and isinstance(column.type.item_type, Text)
            )
            if is_text and f"{table.name}.{column.name}" not in UNLIMITED_TEXT:
                found[(table.name, column.name)] = text_limit(column.name)
    return found


# --- the policy -----------------------------------------------------------------------------------


def test_the_policy():
    assert (SHORT_TEXT, LONG_TEXT) == (200, 10000)
    for name in ("name", "name_zh", "investor_name", "responsible_person", "product", "q",
                 "aliases", "chief", "issuer"):  # fmt: skip
        assert text_limit(name) == SHORT_TEXT, name
    for name in ("notes", "note", "description", "source", "reason", "stage_note",
                 "stage_reason", "uscc_override_reason"):  # fmt: skip
        assert text_limit(name) == LONG_TEXT, name


def test_every_text_column_is_limited_or_listed_with_its_reason():
    texts = set()
    for table in Base.metadata.sorted_tables:
        checks = {
            str(c.name): str(c.sqltext) for c in table.constraints if isinstance(c, CheckConstraint)
        }
        for column in table.columns:
            key = f"{table.name}.{column.name}"
            name = f"ck_{table.name}_{column.name}_length"
            if isinstance(column.type, Text):
                texts.add(key)
                expected = f"char_length({column.name}) <= {text_limit(column.name)}"
            elif isinstance(column.type, ARRAY) and isinstance(column.type.item_type, Text):
                texts.add(key)
                expected = f"text_items_within({column.name}, {text_limit(column.name)})"
            else:
                assert name not in checks, key
                continue
            if key in UNLIMITED_TEXT:
                assert name not in checks, key
                assert UNLIMITED_TEXT[key].strip(), key
            else:
                assert checks.get(name) == expected, key
    assert set(UNLIMITED_TEXT) <= texts, "a listed column that is no text column"


def test_the_migrations_made_the_same_limits_and_validated_them(conn):
    rows = run_sql(
        conn,
        "SELECT conrelid::regclass::text AS tbl, conname, convalidated, "
        "pg_get_constraintdef(oid) AS definition FROM pg_constraint "
        "WHERE contype = 'c' AND conname LIKE 'ck\\_%\\_length'",
    ).mappings()
    made = {(r["tbl"], r["conname"]): r for r in rows}
    expected = {(t, f"ck_{t}_{c}_length"): limit for (t, c), limit in limited_columns().items()}
    assert set(made) == set(expected)
    for key, limit in expected.items():
        assert made[key]["convalidated"], key
        assert f"{limit})" in made[key]["definition"], (key, made[key]["definition"])


def _schema_cases() -> list[tuple[type[BaseModel], str, dict[str, str]]]:
    """(writable schema, its table, field -> column where the names differ) of every resource
    (made with the app), and of the other routes that write text."""
    cases: list[tuple[type[BaseModel], str, dict[str, str]]] = []
    for resource in Resource.registry.values():
        if resource.table.name == "change_log":
            continue  # read-only
        cases += [(resource.create, resource.table.name, {})]
        cases += [(resource.update, resource.table.name, {})]  # type: ignore[list-item]
    cases += [
        (ProjectCreate, "project_stage_event", {"stage_reason": "reason", "stage_note": "note"}),
        (StageMove, "project_stage_event", {}),
        (EndLink, "supply_link", {"reason": "notes"}),
        (SupplierLinkCreate, "supply_link", {}),
        (ChainMasterCreate, "chain_role", {}),
        (UserCreate, "app_user", {}),
        (UserUpdate, "app_user", {}),
        (TokenCreate, "api_token", {}),
    ]
    return cases


def _max_length(node: dict[str, Any]) -> int | None:
    for option in node.get("anyOf", [node]):
        if option.get("type") == "string":
            return option.get("maxLength")
        if option.get("type") == "array":
            return option.get("items", {}).get("maxLength")
    return None


def test_every_writable_schema_says_the_limit_of_its_column(app):
    limits = limited_columns()
    checked = 0
    for schema, table, renamed in _schema_cases():
        properties = schema.model_json_schema()["properties"]
        for field, node in properties.items():
            column = renamed.get(field, field)
            if (table, column) not in limits:
                continue
            assert _max_length(node) == limits[(table, column)], (schema.__name__, field, node)
            checked += 1
    assert checked > 60


def test_the_openapi_document_shows_the_limits(api):
    document = api.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    project = schemas["ProjectCreate"]["properties"]
    assert _max_length(project["name"]) == 200
    assert _max_length(project["notes"]) == 10000
    assert _max_length(schemas["ProjectUpdate"]["properties"]["name"]) == 200
    assert _max_length(schemas["ChainCreate"]["properties"]["aliases"]) == 200


# --- the API --------------------------------------------------------------------------------------


def _project(conn: Connection, **fields: Any) -> dict[str, Any]:
    body = {
        "name": "长度测试项目",
        "chain_id": f.chain(conn),
        "district_id": f.district(conn),
        "investor_name": "长度测试投资方",
    }
    return {**body, **fields}


def _refused(response, field: str, limit: int) -> None:
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "invalid"
    said = f"at most {limit} characters"
    assert any(
        d["field"] == field and d["message"].removeprefix(f"{field}: ") == said
        for d in error["details"]
    ), error


def test_a_name_one_character_too_long_is_refused_naming_the_field_and_the_limit(api, conn):
    body = _project(conn, name="项" * 201)
    before = count_rows(conn, "project", "project_stage_event")
    _refused(api.post(PROJECTS, body), "name", 200)
    assert count_rows(conn, "project", "project_stage_event") == before


@pytest.mark.parametrize("size", [10001, 1_000_000], ids=["10001", "1MB"])
def test_notes_too_long_are_refused(api, conn, size):
    body = _project(conn, notes="注" * size)
    before = count_rows(conn, "project")
    _refused(api.post(PROJECTS, body), "notes", 10000)
    assert count_rows(conn, "project") == before


def test_values_exactly_at_the_limit_are_accepted(api, conn):
    body = _project(conn, name="汽" * 200, notes="注" * 10000, stage_reason="因" * 10000,
                    responsible_person="张" * 200)  # fmt: skip
    response = api.post(PROJECTS, body)
    assert response.status_code == 201, response.get_json()
    row = run_sql(
        conn, "SELECT char_length(name), char_length(notes) FROM project WHERE id = :id",
        id=response.get_json()["id"],
    ).one()  # fmt: skip
    assert tuple(row) == (200, 10000)


def test_a_patch_and_a_stage_move_keep_the_limits(api, conn):
    created = api.post(PROJECTS, _project(conn)).get_json()
    url = f"{PROJECTS}/{created['id']}"
    _refused(api.patch(url, {"responsible_unit": "单" * 201}), "responsible_unit", 200)
    _refused(api.post(f"{url}/stage", {"stage": "negotiating", "date": "2025-01-02",
                                       "note": "记" * 10001}), "note", 10000)  # fmt: skip
    assert api.patch(url, {"responsible_unit": "单" * 200}).status_code == 200


def test_each_alias_is_limited(api, conn):
    body = {"code": "len-chain", "name_zh": "长度产业链", "tier": "iconic",
            "aliases": ["短名", "长" * 201]}  # fmt: skip
    _refused(api.post("/api/v1/chains", body), "aliases.1", 200)
    body["aliases"] = ["短名", "长" * 200]
    assert api.post("/api/v1/chains", body).status_code == 201


def test_a_database_refusal_says_the_field_and_the_limit(api, conn):
    """Ending a link appends the reason to its notes: the API cannot know the sum is too long,
    the database's CHECK refuses it, and the answer says so as the schemas would."""
    chain_id = f.chain(conn)
    link = f.supply_link(conn, f.enterprise(conn), f.chain_master(conn, chain_id), chain_id,
                         notes="旧" * 9990)  # fmt: skip
    response = api.post(f"/api/v1/supply-links/{link}/end", {"reason": "停止供货"})
    _refused(response, "notes", 10000)
    assert response.get_json()["error"]["message"] == "notes: at most 10000 characters"
    status = run_sql(conn, "SELECT status FROM supply_link WHERE id = :id", id=link).scalar_one()
    assert status == "active"


# --- SQL ------------------------------------------------------------------------------------------


def test_an_analyst_cannot_insert_or_update_past_the_limit(conn):
    chain_id, district_id = f.chain(conn), f.district(conn)
    with refused(conn, "ck_project_name_length"):
        f.project(conn, chain_id, district_id, name="项" * 201)
    project_id = f.project(conn, chain_id, district_id, name="项" * 200)
    with refused(conn, "ck_project_notes_length"):
        run_sql(
            conn, "UPDATE project SET notes = repeat('注', 10001) WHERE id = :id", id=project_id
        )
    with refused(conn, "ck_enterprise_aliases_length"):
        f.enterprise(conn, aliases=["简称", "长" * 201])
    with refused(conn, "ck_project_stage_event_reason_length"):
        run_sql(conn, "SELECT set_config('chaindb.stage_reason', repeat('因', 10001), true)")
        run_sql(conn, "UPDATE project SET stage = 'dropped', dropped_on = current_date "
                      "WHERE id = :id", id=project_id)  # fmt: skip
    f.enterprise(conn, aliases=["长" * 200], notes="注" * 10000)


def test_the_refusal_of_a_check_reads_as_the_field_and_its_limit(conn):
    savepoint = conn.begin_nested()
    with pytest.raises(DBAPIError) as caught:
        f.district(conn, name_en="x" * 201)
    savepoint.rollback()
    error = from_database_error(caught.value)
    assert (error.status, error.message) == (422, "name_en: at most 200 characters")
    assert error.details == [{"field": "name_en", "message": "name_en: at most 200 characters"}]


# --- the pages ------------------------------------------------------------------------------------


def test_the_form_inputs_carry_maxlength(web):
    page = web.text("/projects/add")
    assert 'maxlength="200" name="name"' in page
    assert 'maxlength="10000" name="notes"' in page
    assert 'maxlength="220" name="investor_id"' in page  # a name, or one picked: "name #id"
    account = web.text("/account/password")
    assert re.search(r'<input id="new" maxlength="200" minlength="\d+" name="new"', account)
    assert 'name="current" required type="password"' in account  # a password keeps its rules


def test_a_name_too_long_is_shown_beside_the_field_and_nothing_is_saved(web, conn):
    typed = {"name": "项" * 201, "chain_id": str(f.chain(conn)),
             "district_id": str(f.district(conn)), "investor_id": "某投资方"}  # fmt: skip
    before = count_rows(conn, "project")
    response = web.submit("/projects/add", typed)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    shown = messages(page)
    assert len(shown) == 2 and shown[0].startswith("name: ") and "200" in shown[0], shown
    assert "项" * 201 in page  # what was typed comes back
    assert count_rows(conn, "project") == before


def test_an_alias_too_long_is_shown_beside_the_aliases(web, conn):
    typed = {"code": "len-web", "name_zh": "长度网页产业链", "tier": "iconic",
             "aliases": "短名、" + "长" * 201}  # fmt: skip
    before = count_rows(conn, "chain")
    response = web.submit("/chains/new", typed)
    assert response.status_code == 422
    shown = messages(response.get_data(as_text=True))
    assert any(s.startswith("aliases: ") and "200" in s for s in shown), shown
    assert count_rows(conn, "chain") == before


# --- the migration on a database holding longer text -------------------------------------------


def test_the_migration_keeps_longer_rows_and_says_so(scratch_database, caplog):
    url = scratch_database()
    migrate(url, "9bd16414f159")
    engine = make_engine(url)
    try:
        _longer_rows_kept(url, engine, caplog)
    finally:
        engine.dispose()


def _constraints_validated(engine: Engine) -> dict[str, bool]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT conname, convalidated FROM pg_constraint "
                "WHERE contype = 'c' AND conname LIKE 'ck\\_%\\_length'"
            )
        )
        return {name: valid for name, valid in rows}


def _longer_rows_kept(url: str, engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    zone = (
        "INSERT INTO district (code, is_official_code, name_zh, kind, notes) "
        "VALUES (:code, false, :name, 'zone', repeat('注', :size))"
    )
    with engine.begin() as connection:
        connection.execute(text(zone), {"code": "QBQ", "name": "起步区", "size": 12000})
    with caplog.at_level(logging.WARNING):
        migrate(url, "28df19e2bcc3")
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and "ck_district_notes_length" in warned[0], warned
    assert "1 rows of district have a longer notes" in warned[0]

    found = _constraints_validated(engine)
    assert found.pop("ck_district_notes_length") is False
    assert found and all(found.values())
    with engine.begin() as connection, pytest.raises(DBAPIError):  # a new row is refused
        connection.execute(text(zone), {"code": "QBR", "name": "另一区", "size": 10001})

    migrate(url, "9bd16414f159", action="downgrade")
    assert _constraints_validated(engine) == {}


def test_a_chains_map_reads_its_segments_even_one_older_than_a_limit(api, conn):
    """GET /chains/{id}/segments writes the rows as they are: a description stored before the
    limit (its CHECK left NOT VALID by the migration) is read, not refused as input would be."""
    chain_id = f.chain(conn)
    top = f.segment(conn, chain_id, code="top", sort_order=1)
    f.segment(conn, chain_id, code="top.child", parent_id=top)
    run_sql(conn, "ALTER TABLE chain_segment DROP CONSTRAINT ck_chain_segment_description_length")
    run_sql(
        conn,
        "UPDATE chain_segment SET description = repeat('述', :n) WHERE id = :id",
        n=LONG_TEXT + 1,
        id=top,
    )
    response = api.get(f"/api/v1/chains/{chain_id}/segments")
    assert response.status_code == 200
    segments = response.get_json()
    assert [s["code"] for s in segments] == ["top", "top.child"]
    assert segments[1]["parent_id"] == top and segments[0]["parent_id"] is None
    assert len(segments[0]["description"]) == LONG_TEXT + 1
    assert set(segments[0]) >= {"id", "chain_id", "name_zh", "position", "created_at"}


def test_revoking_a_chain_master_answers_with_a_role_older_than_a_limit(api, conn):
    """The revoke's answer is the ended roles as stored: one with notes from before the limit
    is answered (not a 500 after the commit)."""
    chain_id = f.chain(conn)
    master = f.chain_master(conn, chain_id, since="2021-01-01")
    run_sql(conn, "ALTER TABLE chain_role DROP CONSTRAINT ck_chain_role_notes_length")
    run_sql(
        conn,
        "UPDATE chain_role SET notes = repeat('注', :n) WHERE enterprise_id = :id",
        n=LONG_TEXT + 1,
        id=master,
    )
    response = api.post(
        f"/api/v1/chain-masters/{master}/revoke", {"chain": chain_id, "until": "2024-12-31"}
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["ended_link_ids"] == []
    [role] = body["roles"]
    assert role["until"] == "2024-12-31" and role["since"] == "2021-01-01"
    assert role["role"] == "chain_master" and len(role["notes"]) == LONG_TEXT + 1
