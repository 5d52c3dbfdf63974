"""The projects API: adding a project, moving it between stages, its history, its list."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, text

from tests import factories_sql as f
from tests.conftest import count_rows

URL = "/api/v1/projects"


@pytest.fixture
def world(conn: Connection) -> dict[str, Any]:
    """A chain with a segment and a chain master, a district, an investor; by id and by key."""
    n = f.next_number()
    chain_id = f.chain(conn, code=f"proj-chain-{n}")
    other_chain_id = f.chain(conn)
    district_id = f.district(conn)
    investor_id = f.enterprise(conn)
    master_id = f.chain_master(conn, chain_id)
    other_master_id = f.chain_master(conn, other_chain_id)

    def code(table: str, column: str, row_id: int) -> str:
        return conn.execute(
            text(f"SELECT {column} FROM {table} WHERE id = :id"), {"id": row_id}
        ).scalar_one()

    return {
        "chain_id": chain_id,
        "chain": code("chain", "code", chain_id),
        "other_chain_id": other_chain_id,
        "segment_id": f.segment(conn, chain_id),
        "other_segment_id": f.segment(conn, other_chain_id),
        "district_id": district_id,
        "district": code("district", "code", district_id),
        "investor_id": investor_id,
        "investor": code("enterprise", "uscc", investor_id),
        "master_id": master_id,
        "master": code("enterprise", "uscc", master_id),
        "other_master": code("enterprise", "uscc", other_master_id),
    }


def body(world: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A valid creation body by natural keys; fields override or (None) remove."""
    made = {
        "name": "测试新能源电池项目",
        "chain_id": world["chain"],
        "district_id": world["district"],
        "investor_id": world["investor"],
    }
    made.update(fields)
    return {k: v for k, v in made.items() if v is not None}


def create(api, world: dict[str, Any], **fields: Any) -> dict[str, Any]:
    response = api.post(URL, body(world, **fields))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def events(api, project_id: int) -> list[dict[str, Any]]:
    response = api.get(f"{URL}/{project_id}/stage-events")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def fields_of(response) -> set[str]:
    return {d["field"] for d in response.get_json()["error"]["details"]}


def move(api, project_id: int, stage: str, on: str, **extra: Any):
    return api.post(f"{URL}/{project_id}/stage", {"stage": stage, "date": on, **extra})


# --- adding a project ----------------------------------------------------------------------------


def test_add_a_project_by_natural_keys(api, world):
    response = api.post(
        URL,
        body(
            world,
            segment_id=world["segment_id"],
            chain_master_id=world["master"],
            channel="chain_master",
            agreed_investment_cny_100m="12.5",
            funds_arrived_cny_100m=3,
            is_key=True,
            responsible_unit="市投资促进局",
            stage_note="由链主推荐",
        ),
    )
    assert response.status_code == 201, response.get_json()
    project = response.get_json()
    assert response.headers["Location"].endswith(f"{URL}/{project['id']}")
    assert response.headers["ETag"]
    assert project["chain_id"] == world["chain_id"]
    assert project["district_id"] == world["district_id"]
    assert project["investor_id"] == world["investor_id"]
    assert project["chain_master_id"] == world["master_id"]
    assert project["stage"] == "lead" and project["kind"] == "new"
    assert project["agreed_investment_cny_100m"] == "12.5000"
    history = events(api, project["id"])
    assert len(history) == 1
    assert history[0]["from_stage"] is None and history[0]["to_stage"] == "lead"
    assert history[0]["actor"] == "test-editor"
    assert history[0]["note"] == "由链主推荐" and history[0]["reason"] is None
    assert api.get(f"{URL}/{project['id']}").get_json()["name"] == "测试新能源电池项目"


def test_add_a_project_by_ids_with_an_investor_name(api, world):
    project = create(
        api,
        world,
        chain_id=world["chain_id"],
        district_id=world["district_id"],
        investor_id=None,
        investor_name="某外资集团",
    )
    assert project["investor_id"] is None and project["investor_name"] == "某外资集团"


@pytest.mark.parametrize(
    ("field", "value"),
    [("chain_id", "no-such-chain"), ("district_id", "999999"), ("investor_id", "91370100MA3XXXXX0X"),
     ("chain_id", 987654321), ("chain_master_id", "91370100MA3YYYYY0Y")],
)  # fmt: skip
def test_an_unknown_reference_is_a_422_naming_it(api, conn, world, field, value):
    before = count_rows(conn, "project", "project_stage_event")
    response = api.post(URL, body(world, **{field: value}))
    assert response.status_code == 422
    assert fields_of(response) == {field}
    assert count_rows(conn, "project", "project_stage_event") == before


def test_an_investor_is_required(api, conn, world):
    before = count_rows(conn, "project")
    response = api.post(URL, body(world, investor_id=None, investor_name="  "))
    assert response.status_code == 422
    assert fields_of(response) == {"investor_id"}
    assert count_rows(conn, "project") == before


@pytest.mark.parametrize("field", ["agreed_investment_cny_100m", "funds_arrived_cny_100m"])
def test_a_negative_amount_is_a_422(api, conn, world, field):
    before = count_rows(conn, "project")
    response = api.post(URL, body(world, **{field: "-1"}))
    assert response.status_code == 422
    assert fields_of(response) == {field}
    assert count_rows(conn, "project") == before


@pytest.mark.parametrize(
    ("fields", "at_fault"),
    [
        ({"signed_on": "2024-01-01"}, {"signed_on"}),  # a lead is not signed
        ({"stage": "negotiating", "construction_started_on": "2024-01-01"},
         {"construction_started_on"}),
        ({"stage": "signed"}, {"signed_on"}),  # the stage entered needs its date
        ({"stage": "under_construction", "signed_on": "2024-05-01",
          "construction_started_on": "2024-04-01"}, {"construction_started_on"}),
        ({"stage": "signed", "signed_on": "2024-05-01", "agreed_start_on": "2024-04-01"},
         {"agreed_start_on"}),
        ({"stage": "dropped", "stage_reason": "投资方撤回"}, {"dropped_on"}),
        ({"stage": "dropped", "dropped_on": "2024-05-01"}, {"stage_reason"}),
        ({"stage": "dropped", "dropped_on": "2024-01-01", "signed_on": "2024-05-01",
          "stage_reason": "撤回"}, {"dropped_on"}),
        ({"dropped_on": "2024-05-01"}, {"dropped_on"}),
        ({"stage": "finished"}, {"stage"}),
    ],
)  # fmt: skip
def test_dates_that_disagree_with_the_stage_are_refused(api, conn, world, fields, at_fault):
    before = count_rows(conn, "project", "project_stage_event")
    response = api.post(URL, body(world, **fields))
    assert response.status_code == 422, response.get_json()
    assert fields_of(response) == at_fault
    assert count_rows(conn, "project", "project_stage_event") == before


def test_a_project_entered_at_a_later_stage_dates_its_first_event(api, world):
    project = create(
        api,
        world,
        stage="under_construction",
        signed_on="2023-03-01",
        agreed_start_on="2023-06-01",
        construction_started_on="2023-07-15",
    )
    (first,) = events(api, project["id"])
    assert first["to_stage"] == "under_construction" and first["occurred_on"] == "2023-07-15"


def test_a_project_entered_as_dropped_keeps_its_reason(api, world):
    project = create(
        api, world, stage="dropped", dropped_on="2024-02-01", stage_reason="投资方战略调整"
    )
    (first,) = events(api, project["id"])
    assert first["to_stage"] == "dropped" and first["reason"] == "投资方战略调整"
    assert first["occurred_on"] == "2024-02-01"


def test_the_chain_master_must_be_one_of_the_chain(api, conn, world):
    before = count_rows(conn, "project")
    response = api.post(URL, body(world, chain_master_id=world["other_master"]))
    assert response.status_code == 422
    assert fields_of(response) == {"chain_master_id"}
    assert "not a chain master" in response.get_json()["error"]["message"]
    assert count_rows(conn, "project") == before


def test_the_segment_must_be_of_the_chain(api, world):
    response = api.post(URL, body(world, segment_id=world["other_segment_id"]))
    assert response.status_code == 422
    assert fields_of(response) == {"segment_id"}


def test_follow_ons_name_their_parent_and_new_projects_none(api, conn, world):
    parent = create(api, world)
    before = count_rows(conn, "project")
    orphan = api.post(URL, body(world, name="二期", kind="expansion"))
    assert orphan.status_code == 422 and fields_of(orphan) == {"parent_id"}
    adopted = api.post(URL, body(world, name="新项目", parent_id=parent["id"]))
    assert adopted.status_code == 422 and fields_of(adopted) == {"parent_id"}
    lost = api.post(URL, body(world, name="二期", kind="expansion", parent_id=10**12))
    assert lost.status_code == 422 and fields_of(lost) == {"parent_id"}
    assert count_rows(conn, "project") == before
    phase_two = create(api, world, name="二期", kind="expansion", parent_id=parent["id"])
    assert phase_two["parent_id"] == parent["id"]
    # Nor may a project become a follow-on of its own follow-on.
    cycle = api.patch(
        f"{URL}/{parent['id']}", {"kind": "capital_increase", "parent_id": phase_two["id"]}
    )
    assert cycle.status_code == 422 and fields_of(cycle) == {"parent_id"}


def test_several_faults_are_named_at_once(api, world):
    response = api.post(
        URL,
        body(world, investor_id=None, kind="expansion", signed_on="2024-01-01"),
    )
    assert response.status_code == 422
    assert fields_of(response) == {"investor_id", "parent_id", "signed_on"}


def test_bulk_creation_does_not_pass_one_items_reason_to_the_next(api, conn, world):
    before = count_rows(conn, "project")
    refused = api.post(
        URL,
        [
            body(world, name="甲", stage="dropped", dropped_on="2024-01-02", stage_reason="撤回"),
            body(world, name="乙", stage="dropped", dropped_on="2024-01-02"),
        ],
    )
    assert refused.status_code == 422
    assert fields_of(refused) == {"[1].stage_reason"}
    assert count_rows(conn, "project") == before
    made = api.post(
        URL,
        [
            body(world, name="甲", stage="dropped", dropped_on="2024-01-02", stage_reason="撤回"),
            body(world, name="乙"),
        ],
    )
    assert made.status_code == 201, made.get_json()
    first, second = made.get_json()
    assert events(api, first["id"])[0]["reason"] == "撤回"
    assert events(api, second["id"])[0]["reason"] is None


# --- changing a project --------------------------------------------------------------------------


def test_patch_does_not_move_the_stage(api, world):
    project = create(api, world)
    response = api.patch(f"{URL}/{project['id']}", {"stage": "signed", "signed_on": "2024-01-01"})
    assert response.status_code == 422
    assert fields_of(response) == {"stage"}
    assert "/stage" in response.get_json()["error"]["message"]
    assert api.get(f"{URL}/{project['id']}").get_json()["stage"] == "lead"
    # Sending the stage back unchanged, with other changes, is fine.
    same = api.patch(f"{URL}/{project['id']}", {"stage": "lead", "is_key": True})
    assert same.status_code == 200 and same.get_json()["is_key"] is True
    assert len(events(api, project["id"])) == 1


def test_patch_changes_fields_under_the_same_rules(api, world):
    project = create(api, world, stage="signed", signed_on="2024-03-01")
    url = f"{URL}/{project['id']}"
    fixed = api.patch(url, {"signed_on": "2024-02-28", "agreed_investment_cny_100m": 8})
    assert fixed.status_code == 200 and fixed.get_json()["signed_on"] == "2024-02-28"
    assert api.patch(url, {"construction_started_on": "2024-04-01"}).status_code == 422
    assert fields_of(api.patch(url, {"signed_on": None})) == {"signed_on"}
    assert fields_of(api.patch(url, {"name": None})) == {"name"}
    assert fields_of(api.patch(url, {"stage_reason": "x"})) == {"stage_reason"}
    assert fields_of(api.patch(url, {"chain_master_id": world["other_master"]})) == {
        "chain_master_id"
    }
    # Moving to another chain: the chain master and segment must follow.
    with_master = api.patch(url, {"chain_master_id": world["master"]})
    assert with_master.status_code == 200
    moved = api.patch(url, {"chain_id": world["other_chain_id"]})
    assert moved.status_code == 422 and fields_of(moved) == {"chain_master_id"}


def test_put_keeps_the_stage_rule(api, world):
    project = create(api, world, stage="signed", signed_on="2024-03-01")
    url = f"{URL}/{project['id']}"
    replaced = api.put(url, body(world, name="改名", stage="signed", signed_on="2024-03-01"))
    assert replaced.status_code == 200, replaced.get_json()
    assert replaced.get_json()["name"] == "改名"
    assert fields_of(api.put(url, body(world, name="改名"))) == {"stage"}


# --- moving between stages -----------------------------------------------------------------------


def test_move_forward_records_the_date_and_the_actor(api, world):
    project = create(api, world)
    negotiating = move(api, project["id"], "negotiating", "2024-01-10", note="首次洽谈")
    assert negotiating.status_code == 200, negotiating.get_json()
    signed = move(api, project["id"], "signed", "2024-03-01")
    assert signed.status_code == 200
    assert signed.get_json()["stage"] == "signed" and signed.get_json()["signed_on"] == "2024-03-01"
    assert signed.headers["ETag"]
    started = move(api, project["id"], "under_construction", "2024-06-18")
    assert started.get_json()["construction_started_on"] == "2024-06-18"
    history = events(api, project["id"])
    assert [(e["from_stage"], e["to_stage"]) for e in history] == [
        (None, "lead"),
        ("lead", "negotiating"),
        ("negotiating", "signed"),
        ("signed", "under_construction"),
    ]
    assert history[1]["note"] == "首次洽谈" and history[1]["occurred_on"] == "2024-01-10"
    assert history[2]["occurred_on"] == "2024-03-01"
    assert {e["actor"] for e in history} == {"test-editor"}
    assert all(e["reason"] is None for e in history)


def test_a_move_cannot_predate_the_stage_it_leaves(api, conn, world):
    project = create(api, world, stage="signed", signed_on="2024-03-01")
    before = count_rows(conn, "project_stage_event")["project_stage_event"]
    response = move(api, project["id"], "under_construction", "2024-02-01")
    assert response.status_code == 422 and fields_of(response) == {"date"}
    negotiated = create(api, world, name="另一个")
    assert move(api, negotiated["id"], "negotiating", "2024-05-01").status_code == 200
    early = move(api, negotiated["id"], "signed", "2024-04-30")
    assert early.status_code == 422 and fields_of(early) == {"date"}
    # Only the second project's creation and its one move were recorded.
    assert count_rows(conn, "project_stage_event")["project_stage_event"] == before + 2


def test_the_same_stage_is_not_a_move(api, world):
    project = create(api, world)
    response = move(api, project["id"], "lead", "2024-01-01")
    assert response.status_code == 409 and fields_of(response) == {"stage"}


def test_moving_back_needs_a_reason_and_keeps_the_first_signing(api, conn, world):
    project = create(
        api, world, stage="under_construction", signed_on="2024-03-01",
        construction_started_on="2024-05-01",
    )  # fmt: skip
    url = f"{URL}/{project['id']}"
    before = api.get(url).get_json()
    counted = count_rows(conn, "project_stage_event")
    for reason in (None, "  "):
        refused = move(api, project["id"], "signed", "2024-06-01", reason=reason)
        assert refused.status_code == 422 and fields_of(refused) == {"reason"}
    assert api.get(url).get_json() == before
    assert count_rows(conn, "project_stage_event") == counted

    back = move(api, project["id"], "signed", "2024-06-01", reason="环评未通过，停工")
    assert back.status_code == 200, back.get_json()
    row = back.get_json()
    assert row["stage"] == "signed"
    assert row["construction_started_on"] is None  # a date ahead of the stage goes
    assert row["signed_on"] == "2024-03-01"  # the first signing stays: it counts once
    last = events(api, project["id"])[-1]
    assert (last["from_stage"], last["to_stage"]) == ("under_construction", "signed")
    assert last["reason"] == "环评未通过，停工" and last["occurred_on"] == "2024-06-01"
    # The emptied date is still in the history.
    assert events(api, project["id"])[0]["occurred_on"] == "2024-05-01"
    again = move(api, project["id"], "under_construction", "2024-09-01")
    assert again.get_json()["construction_started_on"] == "2024-09-01"


def test_moving_back_before_signing_empties_the_signing(api, world):
    project = create(api, world, stage="signed", signed_on="2024-03-01")
    back = move(api, project["id"], "negotiating", "2024-04-01", reason="协议作废，重新谈判")
    assert back.status_code == 200
    assert back.get_json()["signed_on"] is None and back.get_json()["stage"] == "negotiating"


def test_drop_needs_a_reason_and_revive_too(api, conn, world):
    project = create(api, world, stage="signed", signed_on="2024-03-01")
    counted = count_rows(conn, "project_stage_event")
    refused = move(api, project["id"], "dropped", "2024-04-01")
    assert refused.status_code == 422 and fields_of(refused) == {"reason"}
    assert count_rows(conn, "project_stage_event") == counted

    dropped = move(api, project["id"], "dropped", "2024-04-01", reason="投资方资金链断裂")
    assert dropped.status_code == 200
    assert dropped.get_json()["dropped_on"] == "2024-04-01"
    assert dropped.get_json()["signed_on"] == "2024-03-01"

    assert fields_of(move(api, project["id"], "signed", "2024-08-01")) == {"reason"}
    assert fields_of(move(api, project["id"], "signed", "2024-03-15", reason="x")) == {"date"}
    revived = move(api, project["id"], "signed", "2024-08-01", reason="引入新股东后恢复")
    assert revived.status_code == 200, revived.get_json()
    row = revived.get_json()
    assert row["stage"] == "signed" and row["dropped_on"] is None
    assert row["signed_on"] == "2024-03-01"
    history = events(api, project["id"])
    assert [(e["from_stage"], e["to_stage"], e["reason"]) for e in history[-2:]] == [
        ("signed", "dropped", "投资方资金链断裂"),
        ("dropped", "signed", "引入新股东后恢复"),
    ]


def test_reviving_to_a_stage_never_reached_dates_it(api, world):
    project = create(api, world, stage="dropped", dropped_on="2024-01-05", stage_reason="搁置")
    revived = move(api, project["id"], "signed", "2024-02-01", reason="重新启动并签约")
    assert revived.status_code == 200
    assert revived.get_json()["signed_on"] == "2024-02-01"


def test_a_stale_if_match_on_a_move_is_a_412(api, conn, world):
    project = create(api, world)
    url = f"{URL}/{project['id']}"
    etag = api.get(url).headers["ETag"]
    assert api.patch(url, {"notes": "有人先改了"}).status_code == 200
    counted = count_rows(conn, "project_stage_event")
    stale = api.post(
        f"{url}/stage", {"stage": "negotiating", "date": "2024-01-01"}, headers={"If-Match": etag}
    )
    assert stale.status_code == 412
    assert api.get(url).get_json()["stage"] == "lead"
    assert count_rows(conn, "project_stage_event") == counted
    fresh = api.get(url).headers["ETag"]
    ok = api.post(
        f"{url}/stage", {"stage": "negotiating", "date": "2024-01-01"}, headers={"If-Match": fresh}
    )
    assert ok.status_code == 200


def test_a_viewer_cannot_move_a_project(api, conn, world):
    project = create(api, world)
    counted = count_rows(conn, "project_stage_event")
    response = api.post(
        f"{URL}/{project['id']}/stage", {"stage": "negotiating", "date": "2024-01-01"},
        role="viewer",
    )  # fmt: skip
    assert response.status_code == 403
    assert count_rows(conn, "project_stage_event") == counted
    assert api.get(f"{URL}/{project['id']}/stage-events", role="viewer").status_code == 200


def test_a_move_body_is_validated_in_the_api_shape(api, world):
    project = create(api, world)
    response = api.post(f"{URL}/{project['id']}/stage", {"stage": "nowhere", "extra": 1})
    assert response.status_code == 422
    assert fields_of(response) == {"stage", "date", "extra"}
    assert move(api, 10**12, "negotiating", "2024-01-01").status_code == 404
    assert api.get(f"{URL}/{10**12}/stage-events").status_code == 404


# --- the list ------------------------------------------------------------------------------------


def test_filters_ordering_search_and_keyset(api, world):
    made = [
        create(api, world, name="甲电池项目", agreed_investment_cny_100m=5),
        create(api, world, name="乙电机项目", stage="signed", signed_on="2023-06-01",
               agreed_investment_cny_100m=50),
        create(api, world, name="丙电池二期", stage="signed", signed_on="2024-06-01",
               agreed_investment_cny_100m=20, investor_id=None, investor_name="丁集团"),
        create(api, world, name="戊项目", stage="in_production", signed_on="2024-01-01",
               construction_started_on="2024-02-01", production_started_on="2024-09-01",
               agreed_investment_cny_100m=1),
    ]  # fmt: skip
    ids = [p["id"] for p in made]
    scope = f"chain_id={world['chain_id']}"

    def names(query: str) -> list[str]:
        response = api.get(f"{URL}?{scope}&{query}")
        assert response.status_code == 200, response.get_json()
        return [p["name"] for p in response.get_json()["results"]]

    assert names("stage__in=signed,in_production&ordering=name") == sorted(
        ["乙电机项目", "丙电池二期", "戊项目"]
    )
    assert set(names("signed_on__gte=2024-01-01")) == {"丙电池二期", "戊项目"}
    assert names("ordering=-agreed_investment_cny_100m") == [
        "乙电机项目", "丙电池二期", "甲电池项目", "戊项目",
    ]  # fmt: skip
    assert names("agreed_investment_cny_100m__lte=5&ordering=id") == ["甲电池项目", "戊项目"]
    assert names("ordering=-stage,id") == ["戊项目", "乙电机项目", "丙电池二期", "甲电池项目"]
    assert set(names("q=电池")) == {"甲电池项目", "丙电池二期"}
    assert names("q=丁集") == ["丙电池二期"]
    assert len(names(f"chain={world['chain']}&district={world['district']}")) == 4
    assert api.get(f"{URL}?stage=nowhere").status_code == 422

    first = api.get(f"{URL}?{scope}&cursor=&limit=3").get_json()
    assert first["count"] is None
    assert [p["id"] for p in first["results"]] == ids[:3]
    second = api.get(first["next"].replace("http://localhost", "")).get_json()
    assert [p["id"] for p in second["results"]] == ids[3:]
    assert second["next"] is None


def test_the_openapi_document_names_the_stage_routes(api):
    paths = api.get("/api/v1/openapi.json").get_json()["paths"]
    assert "post" in paths["/api/v1/projects/{id}/stage"]
    assert "get" in paths["/api/v1/projects/{id}/stage-events"]
