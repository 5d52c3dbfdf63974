"""What the speed of the two everyday writes relies on (issue 16): a supply link made through
the chain-master workflow and a project moved between stages each reach the database in one
statement, which holds every rule (tests/test_api_supply.py and tests/test_api_projects.py
show the rules refuse what they refused before). Statements are counted at the driver."""

from __future__ import annotations

import re
from datetime import date

import psycopg
import pytest
from sqlalchemy import text

from tests import factories_sql as f
from tests.conftest import count_rows
from tests.test_api_supply import error_fields, link, place  # noqa: F401  (a fixture)


@pytest.fixture
def statements(monkeypatch):
    """Every statement the request sends through psycopg, in order."""
    sent: list[str] = []
    execute = psycopg.Cursor.execute

    def counted(self, query, params=None, **kwargs):
        sent.append(query if isinstance(query, str) else query.as_string(self))
        return execute(self, query, params, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counted)
    return sent


def _touching(sent: list[str], *tables: str) -> list[str]:
    """The statements that name one of `tables` (or a function of that name)."""
    names = re.compile(r"\b(" + "|".join(tables) + r")\b")
    return [s for s in sent if names.search(s)]


def test_a_link_is_one_statement_with_its_supplier_role(api, conn, place, statements):  # noqa: F811
    statements.clear()
    response = link(api, place, place.local1_uscc, product="座椅", since="2025-03-01")
    assert response.status_code == 201, response.get_json()
    writes = _touching(statements, "supply_link", "chain_role", "enterprise")
    assert len(writes) == 1, writes
    role = conn.execute(
        text("SELECT source, since FROM chain_role WHERE enterprise_id = :e AND role = 'supplier'"),
        {"e": place.local1},
    ).one()
    assert role == (f"supply link {response.get_json()['id']}", date(2025, 3, 1))


def test_a_refused_link_is_worded_from_the_database(api, conn, place, statements):  # noqa: F811
    before = count_rows(conn, "supply_link", "chain_role")
    statements.clear()
    response = api.post(
        f"/api/v1/chain-masters/{place.other_uscc}/suppliers",
        {"chain": place.code, "supplier": place.local1_uscc},
    )
    assert response.status_code == 422 and error_fields(response) == {"chain"}
    message = response.get_json()["error"]["message"]
    assert "示例非链主" in message and place.code in message and "today" in message
    assert len(_touching(statements, "supply_link")) == 1
    assert count_rows(conn, "supply_link", "chain_role") == before


def test_a_proposed_twin_is_named(api, conn, place):  # noqa: F811
    first = link(api, place, place.local1_uscc, product="座椅", status="proposed")
    assert first.status_code == 201
    again = link(api, place, place.local1_uscc, product="座椅")
    assert again.status_code == 409 and error_fields(again) == {"supplier"}
    message = again.get_json()["error"]["message"]
    assert "proposed link" in message and str(first.get_json()["id"]) in message


def test_an_unknown_segment_and_a_merged_supplier(api, conn, place):  # noqa: F811
    response = link(api, place, place.local1_uscc, segment_id=10**12)
    assert response.status_code == 422 and error_fields(response) == {"segment_id"}
    assert "no segment with id" in response.get_json()["error"]["message"]
    # A supplier merged into another is found by its old credit code, as find_enterprise does.
    conn.execute(
        text(
            "INSERT INTO enterprise_merge (merged_id, merged_uscc, merged_name_zh, into_id, "
            "actor) VALUES (:gone, :uscc, '已合并的配套企业', :kept, 'test')"
        ),
        {"gone": 10**11, "uscc": f.valid_uscc(999_999_002), "kept": place.local2},
    )
    moved = link(api, place, f.valid_uscc(999_999_002))
    assert moved.status_code == 201 and moved.get_json()["supplier_id"] == place.local2


def test_a_link_outside_the_unit_is_a_403_naming_the_chain(client, conn, offices):
    """The district office of d1 links suppliers located in d1, or in chains it is in charge
    of (none): a supplier in d2 for a chain master of c2 is refused by the row-level policy."""
    master = f.chain_master(conn, offices.ids["c2"])
    before = count_rows(conn, "supply_link", "chain_role")
    response = client.post(
        f"/api/v1/chain-masters/{master}/suppliers",
        json={"chain": offices.ids["c2"], "supplier": offices.ids["e_d2"]},
        headers=offices.headers("d1-editor"),
    )
    assert response.status_code == 403 and error_fields(response) == {"chain"}
    assert "own chains only" in response.get_json()["error"]["message"]
    assert count_rows(conn, "supply_link", "chain_role") == before
    # A supplier located in d1 is the district office's to link.
    inside = client.post(
        f"/api/v1/chain-masters/{master}/suppliers",
        json={"chain": offices.ids["c2"], "supplier": offices.ids["e_d1"]},
        headers=offices.headers("d1-editor"),
    )
    assert inside.status_code == 201, inside.get_json()


def test_a_stage_move_is_one_statement(api, conn, statements):
    project = f.project(conn, f.chain(conn), f.district(conn), stage="negotiating")
    statements.clear()
    response = api.post(
        f"/api/v1/projects/{project}/stage", {"stage": "signed", "date": "2026-01-05"}
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["signed_on"] == "2026-01-05"
    assert len(_touching(statements, "project", "project_stage_event", "move_project_stage")) == 1
    event = conn.execute(
        text(
            "SELECT from_stage, to_stage, occurred_on FROM project_stage_event "
            "WHERE project_id = :p ORDER BY id DESC LIMIT 1"
        ),
        {"p": project},
    ).one()
    assert event == ("negotiating", "signed", date(2026, 1, 5))
    # The settings the stage trigger read are empty again for the next write.
    assert conn.execute(text("SELECT current_setting('chaindb.stage_date', true)")).scalar() == ""


def test_a_stage_move_of_an_unknown_or_unreachable_project(api, conn, offices):
    move = {"stage": "signed", "date": "2026-01-05"}
    assert api.post("/api/v1/projects/999999999/stage", move).status_code == 404
    assert api.post("/api/v1/projects/x/stage", move).status_code == 404
    # Another unit's project is not there for the district office, as for a read.
    other = offices.ids["p_c2_d2"]
    response = api.client.post(
        f"/api/v1/projects/{other}/stage", json=move, headers=offices.headers("d1-editor")
    )
    assert response.status_code == 404, response.get_json()
    stage = conn.execute(text("SELECT stage FROM project WHERE id = :p"), {"p": other})
    assert stage.scalar_one() != "signed"


def test_the_command_line_starts_without_the_web_stack():
    """`chaindb --help` (and every command until it runs) imports neither Flask nor SQLAlchemy
    nor the report catalog: the CLI's floor is the interpreter and click."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from chaindb.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in ('flask', 'sqlalchemy', 'alembic', 'chaindb.app',\n"
        "                           'chaindb.reports.catalog') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    # The lazy commands are listed, with their help.
    assert re.search(r"\n  report +Print a report", done.stdout), done.stdout
    assert re.search(r"\n  cluster +A three-node PostgreSQL cluster", done.stdout), done.stdout
    assert "HEAVY []" in done.stdout, done.stdout
