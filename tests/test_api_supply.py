"""Supply links and the chain-master workflow: link, end, designate, revoke, local supply rate."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from tests import factories_sql as f
from tests.conftest import count_rows

TABLES = ("supply_link", "chain_role")


def _uscc(conn, enterprise_id: int) -> str:
    return conn.execute(
        text("SELECT uscc FROM enterprise WHERE id = :id"), {"id": enterprise_id}
    ).scalar_one()


def _today(conn) -> date:
    return conn.execute(text("SELECT current_date")).scalar_one()


@pytest.fixture
def place(conn):
    """A chain with a local chain master, two local SMEs, one SME from elsewhere, a bystander."""
    district = f.district(conn)
    chain = f.chain(conn)
    code = conn.execute(text("SELECT code FROM chain WHERE id = :id"), {"id": chain}).scalar_one()
    master = f.enterprise(conn, district_id=district, size="large", name_zh="示例链主有限公司")
    f.chain_role(conn, master, chain, "chain_master", since=date(2020, 1, 1))
    local1 = f.enterprise(conn, district_id=district, size="small", name_zh="示例本地配套一")
    local2 = f.enterprise(conn, district_id=district, size="medium", name_zh="示例本地配套二")
    remote = f.enterprise(conn, region_code="310115", size="small", name_zh="示例外地配套")
    other = f.enterprise(conn, district_id=district, name_zh="示例非链主")
    segment = f.segment(conn, chain)
    other_chain = f.chain(conn)
    foreign_segment = f.segment(conn, other_chain)
    ns = SimpleNamespace(
        chain=chain,
        code=code,
        master=master,
        local1=local1,
        local2=local2,
        remote=remote,
        other=other,
        segment=segment,
        foreign_segment=foreign_segment,
    )
    for name in ("master", "local1", "local2", "remote", "other"):
        setattr(ns, f"{name}_uscc", _uscc(conn, getattr(ns, name)))
    return ns


def link(api, place, supplier: str, **body):
    return api.post(
        f"/api/v1/chain-masters/{place.master_uscc}/suppliers",
        {"chain": place.code, "supplier": supplier, **body},
    )


def error_fields(response) -> set[str]:
    return {d["field"] for d in response.get_json()["error"]["details"]}


# --- linking -------------------------------------------------------------------------------------


def test_link_by_credit_codes_then_listed_with_the_local_rate(api, conn, place):
    first = link(api, place, place.local1_uscc, product="座椅", annual_value_cny_10k=300)
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert first.headers["Location"].endswith(f"/api/v1/supply-links/{body['id']}")
    assert (body["supplier_id"], body["buyer_id"], body["chain_id"]) == (
        place.local1,
        place.master,
        place.chain,
    )
    assert body["status"] == "active"
    assert link(api, place, place.remote_uscc, annual_value_cny_10k=100).status_code == 201
    assert link(api, place, str(place.local2), segment_id=place.segment).status_code == 201
    assert link(api, place, place.remote_uscc, product="线束", status="proposed").status_code == 201

    page = api.get(f"/api/v1/chain-masters/{place.master_uscc}/suppliers?chain={place.code}")
    assert page.status_code == 200, page.get_json()
    data = page.get_json()
    assert data["chain_master"]["id"] == place.master
    assert data["count"] == 4
    by_name = {s["supplier_name_zh"]: s for s in data["suppliers"] if s["status"] == "active"}
    assert by_name["示例本地配套一"]["supplier_local"] is True
    assert by_name["示例外地配套"]["supplier_local"] is False
    assert Decimal(by_name["示例本地配套一"]["annual_value_cny_10k"]) == 300
    assert [s["status"] for s in data["suppliers"]][-1] == "proposed"
    [summary] = data["summary"]
    assert summary["chain_code"] == place.code
    assert (summary["active_links"], summary["local_active_links"]) == (3, 2)
    assert summary["local_rate_by_count"] == pytest.approx(2 / 3, abs=1e-4)
    assert summary["links_with_value"] == 2
    assert Decimal(summary["value_cny_10k"]) == 400
    assert Decimal(summary["local_value_cny_10k"]) == 300
    assert summary["local_rate_by_value"] == 0.75
    assert summary["proposed_links"] == 1
    # Without ?chain: every chain it is master of (here one), by id as well as by credit code.
    assert api.get(f"/api/v1/chain-masters/{place.master}/suppliers").get_json()["count"] == 4


def test_linking_records_the_supplier_role_once(api, conn, place):
    def roles(enterprise):
        return conn.execute(
            text(
                "SELECT segment_id, since, until, source FROM chain_role "
                "WHERE enterprise_id = :e AND chain_id = :c AND role = 'supplier'"
            ),
            {"e": enterprise, "c": place.chain},
        ).all()

    created = link(api, place, place.local1_uscc, product="座椅", segment_id=place.segment,
                   since="2024-03-01")  # fmt: skip
    assert created.status_code == 201
    [role] = roles(place.local1)
    assert role.segment_id == place.segment and role.since == date(2024, 3, 1)
    assert role.until is None and role.source == f"supply link {created.get_json()['id']}"
    assert link(api, place, place.local1_uscc, product="门板").status_code == 201
    assert len(roles(place.local1)) == 1  # already a supplier there
    # A proposed link is a match, not a supplier yet.
    assert link(api, place, place.local2_uscc, status="proposed").status_code == 201
    assert roles(place.local2) == []
    # Ending links leaves the role: the chain map says who supplies the chain, not one link.
    api.post(f"/api/v1/supply-links/{created.get_json()['id']}/end", {})
    assert len(roles(place.local1)) == 1 and roles(place.local1)[0].until is None


def test_a_new_supplier_role_starts_after_an_ended_one(api, conn, place):
    f.chain_role(conn, place.local1, place.chain, "supplier", since=date(2019, 1, 1),
                 until=date(2024, 6, 30))  # fmt: skip
    assert link(api, place, place.local1_uscc, since="2024-01-01").status_code == 201
    since = conn.execute(
        text("SELECT max(since) FROM chain_role WHERE enterprise_id = :e AND role = 'supplier'"),
        {"e": place.local1},
    ).scalar_one()
    assert since == date(2024, 7, 1)


def test_buyer_not_a_chain_master_is_a_422_and_changes_nothing(api, conn, place):
    before = count_rows(conn, *TABLES)
    response = api.post(
        f"/api/v1/chain-masters/{place.other_uscc}/suppliers",
        {"chain": place.code, "supplier": place.local1_uscc},
    )
    assert response.status_code == 422
    assert error_fields(response) == {"chain"}
    assert "is not a chain master of chain" in response.get_json()["error"]["message"]
    assert count_rows(conn, *TABLES) == before


def test_a_former_chain_master_cannot_take_new_links(api, conn, place):
    yesterday = _today(conn) - timedelta(days=1)
    former = f.chain_master(conn, place.chain, since=date(2020, 1, 1), until=yesterday)
    response = api.post(
        f"/api/v1/chain-masters/{former}/suppliers",
        {"chain": place.chain, "supplier": place.local1},
    )
    assert response.status_code == 422 and error_fields(response) == {"chain"}


def test_self_supply_is_a_422(api, conn, place):
    before = count_rows(conn, *TABLES)
    response = link(api, place, place.master_uscc)
    assert response.status_code == 422
    assert error_fields(response) == {"supplier"}
    assert "cannot supply itself" in response.get_json()["error"]["message"]
    assert count_rows(conn, *TABLES) == before


def test_a_duplicate_active_link_is_a_409_and_changes_nothing(api, conn, place):
    first = link(api, place, place.local1_uscc, product="座椅")
    assert first.status_code == 201
    before = count_rows(conn, *TABLES)
    again = link(api, place, place.local1_uscc, product="座椅", annual_value_cny_10k=5)
    assert again.status_code == 409
    assert error_fields(again) == {"supplier"}
    message = again.get_json()["error"]["message"]
    assert "already has an active link" in message and str(first.get_json()["id"]) in message
    assert count_rows(conn, *TABLES) == before
    # Another product of the same pair is another link; no product counts as one product.
    assert link(api, place, place.local1_uscc, product="门板").status_code == 201
    assert link(api, place, place.local1_uscc).status_code == 201
    assert link(api, place, place.local1_uscc).status_code == 409


def test_the_database_is_the_last_guard_against_duplicates(api, conn, place):
    """Were the trigger's twin check passed (a race: both see no twin), the unique index still
    refuses, as a 409 naming the supplier. Triggers off (replica mode) stand for the race."""
    link(api, place, place.local1_uscc, product="座椅")
    conn.execute(text("SET LOCAL session_replication_role = replica"))
    response = link(api, place, place.local1_uscc, product="座椅")
    conn.execute(text("SET LOCAL session_replication_role = origin"))
    assert response.status_code == 409
    assert error_fields(response) == {"supplier"}
    assert "already exists" in response.get_json()["error"]["message"]


def test_unknown_or_malformed_enterprises_are_named(api, conn, place):
    before = count_rows(conn, *TABLES)
    unknown = f.valid_uscc(999_999_001)
    response = link(api, place, unknown)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == [
        {"field": "supplier", "message": f"supplier: no enterprise with credit code {unknown!r}"}
    ]
    malformed = link(api, place, "91370100ABC")
    assert malformed.status_code == 422 and error_fields(malformed) == {"supplier"}
    assert "nor a valid credit code" in malformed.get_json()["error"]["message"]
    bad_check = link(api, place, unknown[:17] + ("0" if unknown[17] != "0" else "1"))
    assert bad_check.status_code == 422
    assert "check" in bad_check.get_json()["error"]["message"]
    assert link(api, place, 10**12).status_code == 422
    # The chain master is the path: an unknown or malformed one is not found.
    missing = api.post(
        "/api/v1/chain-masters/NOT-A-CODE/suppliers", {"chain": place.code, "supplier": 1}
    )
    assert missing.status_code == 404
    assert "nor a valid credit code" in missing.get_json()["error"]["message"]
    assert api.get("/api/v1/chain-masters/²/suppliers").status_code == 404
    assert api.post("/api/v1/supply-links/²/end", {}).status_code == 404
    assert link(api, place, place.local1_uscc, chain="²").status_code == 422
    unknown_chain = link(api, place, place.local1_uscc, chain="no-such-chain")
    assert unknown_chain.status_code == 422 and error_fields(unknown_chain) == {"chain"}
    assert count_rows(conn, *TABLES) == before


def test_lower_case_and_spaced_credit_codes_are_found(api, place):
    spaced = place.local1_uscc[:9] + " " + place.local1_uscc[9:].lower()
    assert link(api, place, spaced).status_code == 201


def test_segment_must_belong_to_the_chain(api, conn, place):
    response = link(api, place, place.local1_uscc, segment_id=place.foreign_segment)
    assert response.status_code == 422 and error_fields(response) == {"segment_id"}


def test_bad_body_values_are_422_naming_fields(api, place):
    response = link(api, place, place.local1_uscc, annual_value_cny_10k=-1, bogus=1, product="")
    assert response.status_code == 422
    # In JSON an empty product is refused (it takes null for none); a form's empty box is none.
    assert error_fields(response) == {"annual_value_cny_10k", "bogus", "product"}
    ended = link(api, place, place.local1_uscc, status="ended")
    assert ended.status_code == 422 and error_fields(ended) == {"until"}


def test_verified_sets_verified_at(api, place):
    body = link(api, place, place.local1_uscc, verified=True, reported_by="链长办").get_json()
    assert body["verified"] is True and body["verified_at"] is not None


# --- ending --------------------------------------------------------------------------------------


def test_end_a_link_then_link_again(api, conn, place):
    created = link(api, place, place.local1_uscc, product="座椅", since="2023-01-01").get_json()
    ended = api.post(
        f"/api/v1/supply-links/{created['id']}/end", {"until": "2024-12-31", "reason": "转产"}
    )
    assert ended.status_code == 200, ended.get_json()
    assert ended.get_json()["status"] == "ended" and ended.get_json()["until"] == "2024-12-31"
    assert "转产" in ended.get_json()["notes"]
    again = api.post(f"/api/v1/supply-links/{created['id']}/end", {})
    assert again.status_code == 409
    assert "already ended" in again.get_json()["error"]["message"]
    relinked = link(api, place, place.local1_uscc, product="座椅")
    assert relinked.status_code == 201
    history = api.get(f"/api/v1/supply-links?status=ended&supplier_id={place.local1}").get_json()
    assert [r["id"] for r in history["results"]] == [created["id"]]
    live = api.get(f"/api/v1/chain-masters/{place.master}/suppliers").get_json()
    assert [s["link_id"] for s in live["suppliers"]] == [relinked.get_json()["id"]]


def test_end_defaults_to_today_and_refuses_bad_days(api, conn, place):
    created = link(api, place, place.local1_uscc, since="2023-06-01").get_json()
    url = f"/api/v1/supply-links/{created['id']}/end"
    future = api.post(url, {"until": str(_today(conn) + timedelta(days=3))})
    assert future.status_code == 422 and error_fields(future) == {"until"}
    early = api.post(url, {"until": "2023-01-01"})
    assert early.status_code == 422 and error_fields(early) == {"until"}
    assert api.post("/api/v1/supply-links/999999999/end", {}).status_code == 404
    ended = api.post(url)  # no body at all
    assert ended.status_code == 200
    assert ended.get_json()["until"] == str(_today(conn))


def test_history_of_a_link_shows_insert_and_update_by_the_editor(api, place):
    created = link(api, place, place.local1_uscc).get_json()
    api.post(f"/api/v1/supply-links/{created['id']}/end", {})
    history = api.get(f"/api/v1/supply-links/{created['id']}/history").get_json()
    assert [(h["action"], h["actor"]) for h in history] == [
        ("insert", "test-editor"),
        ("update", "test-editor"),
    ]
    assert history[1]["before"]["status"] == "active"
    assert history[1]["after"]["status"] == "ended"


# --- designating and revoking chain masters ------------------------------------------------------


def test_designate_list_and_revoke_a_chain_master(api, conn, place):
    newcomer = f.enterprise(conn, name_zh="示例新链主")
    created = api.post(
        "/api/v1/chain-masters",
        {"enterprise": _uscc(conn, newcomer), "chain": place.code, "since": "2021-05-01"},
    )
    assert created.status_code == 201, created.get_json()
    role = created.get_json()
    assert role["role"] == "chain_master" and role["enterprise_id"] == newcomer
    assert created.headers["Location"].endswith(f"/api/v1/chain-roles/{role['id']}")
    twice = api.post("/api/v1/chain-masters", {"enterprise": newcomer, "chain": place.chain})
    assert twice.status_code == 409 and error_fields(twice) == {"enterprise"}
    assert "already holds the chain-master role" in twice.get_json()["error"]["message"]

    listed = api.get(f"/api/v1/chain-masters?chain={place.code}").get_json()
    assert {r["enterprise_id"] for r in listed["results"]} == {place.master, newcomer}
    assert listed["count"] == 2
    assert all(r["chain_code"] == place.code for r in listed["results"])

    yesterday = _today(conn) - timedelta(days=1)
    revoked = api.post(
        f"/api/v1/chain-masters/{newcomer}/revoke", {"chain": place.code, "until": str(yesterday)}
    )
    assert revoked.status_code == 200, revoked.get_json()
    assert revoked.get_json()["roles"][0]["until"] == str(yesterday)
    assert revoked.get_json()["ended_link_ids"] == []
    listed = api.get(f"/api/v1/chain-masters?chain={place.code}").get_json()
    assert {r["enterprise_id"] for r in listed["results"]} == {place.master}
    again = api.post(f"/api/v1/chain-masters/{newcomer}/revoke", {"chain": place.code})
    assert again.status_code == 409 and error_fields(again) == {"chain"}
    # Revoked yesterday: no new links; designated again from today: links again.
    refused = api.post(
        f"/api/v1/chain-masters/{newcomer}/suppliers",
        {"chain": place.code, "supplier": place.local1},
    )
    assert refused.status_code == 422
    assert api.post("/api/v1/chain-masters", {"enterprise": newcomer, "chain": place.code}).status_code == 201  # fmt: skip


def test_designate_refuses_unknown_things(api, place):
    unknown = api.post("/api/v1/chain-masters", {"enterprise": 10**12, "chain": place.code})
    assert unknown.status_code == 422 and error_fields(unknown) == {"enterprise"}
    no_chain = api.post("/api/v1/chain-masters", {"enterprise": place.other, "chain": "nope-x"})
    assert no_chain.status_code == 422 and error_fields(no_chain) == {"chain"}
    foreign = api.post(
        "/api/v1/chain-masters",
        {"enterprise": place.other, "chain": place.code, "segment_id": place.foreign_segment},
    )
    assert foreign.status_code == 422 and error_fields(foreign) == {"segment_id"}


def test_revoke_with_live_links_is_a_409_unless_they_end_too(api, conn, place):
    first = link(api, place, place.local1_uscc).get_json()
    second = link(api, place, place.remote_uscc, status="proposed").get_json()
    done = link(api, place, place.local2_uscc).get_json()
    api.post(f"/api/v1/supply-links/{done['id']}/end", {"until": "2024-01-31"})
    before = count_rows(conn, *TABLES)
    state = "SELECT status, until FROM supply_link WHERE buyer_id = :b ORDER BY id"
    links_before = conn.execute(text(state), {"b": place.master}).all()
    yesterday = _today(conn) - timedelta(days=1)
    url = f"/api/v1/chain-masters/{place.master_uscc}/revoke"

    refused = api.post(url, {"chain": place.code, "until": str(yesterday)})
    assert refused.status_code == 409
    assert error_fields(refused) == {"end_links"}
    assert "2 live supply links" in refused.get_json()["error"]["message"]
    assert count_rows(conn, *TABLES) == before
    assert conn.execute(text(state), {"b": place.master}).all() == links_before
    assert api.get(f"/api/v1/chain-masters?chain={place.code}").get_json()["count"] == 1

    revoked = api.post(url, {"chain": place.code, "until": str(yesterday), "end_links": True})
    assert revoked.status_code == 200, revoked.get_json()
    assert sorted(revoked.get_json()["ended_link_ids"]) == sorted([first["id"], second["id"]])
    rows = conn.execute(text(state), {"b": place.master}).all()
    assert [r.status for r in rows] == ["ended"] * 3
    assert [r.until for r in rows] == [yesterday, yesterday, date(2024, 1, 31)]
    assert api.get(f"/api/v1/chain-masters?chain={place.code}").get_json()["count"] == 0
    ended = api.get(f"/api/v1/supply-links?buyer_id={place.master}&status=ended").get_json()
    assert ended["count"] == 3  # the links stay, as history
    gone = api.get(f"/api/v1/chain-masters/{place.master}/suppliers")
    assert gone.status_code == 404


def test_revoke_refuses_bad_days(api, conn, place):
    url = f"/api/v1/chain-masters/{place.master}/revoke"
    future = api.post(url, {"chain": place.code, "until": str(_today(conn) + timedelta(days=5))})
    assert future.status_code == 422 and error_fields(future) == {"until"}
    early = api.post(url, {"chain": place.code, "until": "2019-12-31"})
    assert early.status_code == 422 and error_fields(early) == {"until"}
    assert api.post("/api/v1/chain-masters/999999999/revoke", {"chain": place.code}).status_code == 404  # fmt: skip


def test_viewers_cannot_write(api, conn, place):
    created = link(api, place, place.local1_uscc).get_json()
    before = count_rows(conn, *TABLES)
    for path, body in [
        (f"/api/v1/chain-masters/{place.master}/suppliers", {"chain": place.code, "supplier": place.local2}),
        ("/api/v1/chain-masters", {"enterprise": place.other, "chain": place.code}),
        (f"/api/v1/chain-masters/{place.master}/revoke", {"chain": place.code, "end_links": True}),
        (f"/api/v1/supply-links/{created['id']}/end", {}),
        ("/api/v1/supply-links", {"supplier_id": place.local2, "buyer_id": place.master, "chain_id": place.chain}),
    ]:  # fmt: skip
        response = api.post(path, body, role="viewer")
        assert response.status_code == 403, path
    assert count_rows(conn, *TABLES) == before
    assert api.get(f"/api/v1/chain-masters/{place.master}/suppliers").status_code == 200
    assert api.get("/api/v1/chain-masters").status_code == 200


# --- the supply-links resource -------------------------------------------------------------------


def test_create_a_link_through_the_resource_by_natural_keys(api, conn, place):
    created = api.post(
        "/api/v1/supply-links",
        {"supplier_id": place.local1_uscc, "buyer_id": place.master_uscc, "chain_id": place.code,
         "product": "电芯"},
    )  # fmt: skip
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["supplier_id"] == place.local1
    not_master = api.post(
        "/api/v1/supply-links",
        {"supplier_id": place.local1, "buyer_id": place.other, "chain_id": place.chain},
    )
    assert not_master.status_code == 422 and error_fields(not_master) == {"buyer_id"}
    duplicate = api.post(
        "/api/v1/supply-links",
        {"supplier_id": place.local1, "buyer_id": place.master, "chain_id": place.chain,
         "product": "电芯"},
    )  # fmt: skip
    assert duplicate.status_code == 409 and error_fields(duplicate) == {"supplier_id"}
    unknown = api.post(
        "/api/v1/supply-links",
        {"supplier_id": f.valid_uscc(999_999_002), "buyer_id": place.master, "chain_id": place.chain},
    )  # fmt: skip
    assert unknown.status_code == 422 and error_fields(unknown) == {"supplier_id"}


def test_reactivating_an_ended_link_beside_an_active_twin_is_a_409(api, place):
    old = link(api, place, place.local1_uscc, product="座椅").get_json()
    api.post(f"/api/v1/supply-links/{old['id']}/end", {})
    link(api, place, place.local1_uscc, product="座椅")
    response = api.patch(f"/api/v1/supply-links/{old['id']}", {"status": "active", "until": None})
    assert response.status_code == 409 and error_fields(response) == {"supplier_id"}
    # Changing something else of the ended link is fine.
    fixed = api.patch(f"/api/v1/supply-links/{old['id']}", {"annual_value_cny_10k": 12.5})
    assert fixed.status_code == 200 and Decimal(fixed.get_json()["annual_value_cny_10k"]) == 12.5


def test_filters_ordering_and_keyset_pagination(api, conn, place):
    f.supply_link(conn, place.local1, place.master, place.chain, product="座椅总成",
                  annual_value_cny_10k=500, since=date(2022, 1, 1), verified=False)  # fmt: skip
    f.supply_link(conn, place.local2, place.master, place.chain, product="电池包",
                  annual_value_cny_10k=50, since=date(2023, 1, 1), segment_id=place.segment)  # fmt: skip
    f.supply_link(conn, place.remote, place.master, place.chain, product="座椅面料",
                  annual_value_cny_10k=200, since=date(2024, 1, 1))  # fmt: skip
    f.supply_link(conn, place.remote, place.master, place.chain, status="ended",
                  since=date(2020, 1, 1), until=date(2021, 1, 1))  # fmt: skip
    base = f"/api/v1/supply-links?buyer_id={place.master}"

    def ids(query: str) -> list[int]:
        response = api.get(base + query)
        assert response.status_code == 200, response.get_json()
        return [r["supplier_id"] for r in response.get_json()["results"]]

    assert sorted(ids("&supplier_local=true")) == sorted([place.local1, place.local2])
    assert ids("&supplier_local=false&status=active") == [place.remote]
    assert sorted(ids("&product__contains=座椅")) == sorted([place.local1, place.remote])
    assert ids("&annual_value_cny_10k__gte=100&annual_value_cny_10k__lte=300") == [place.remote]
    assert ids("&since__gte=2023-01-01&since__lte=2023-12-31") == [place.local2]
    assert ids("&until__lte=2021-06-30") == [place.remote]
    assert ids(f"&segment_id={place.segment}") == [place.local2]
    assert ids(f"&chain_id={place.chain}&status=active&ordering=-annual_value_cny_10k") == [
        place.local1, place.remote, place.local2]  # fmt: skip
    assert ids("&status=active&ordering=since") == [place.local1, place.local2, place.remote]
    assert ids("&verified=true") == []
    assert api.get(base + "&supplier_local=maybe").status_code == 422
    assert api.get(base + "&ordering=product").status_code == 422

    seen: list[int] = []
    url = base + "&limit=3&cursor="
    pages = 0
    while url:
        page = api.get(url.replace("http://localhost", "")).get_json()
        assert page["count"] is None
        seen += [r["id"] for r in page["results"]]
        url = page["next"]
        pages += 1
    assert pages == 2 and len(seen) == 4 and seen == sorted(seen)
    assert api.get(base + "&cursor=bogus!").status_code == 400


def test_suppliers_of_an_enterprise_that_is_no_chain_master_is_a_404(api, place):
    response = api.get(f"/api/v1/chain-masters/{place.other}/suppliers")
    assert response.status_code == 404
    assert "is not a chain master" in response.get_json()["error"]["message"]
    assert api.get(f"/api/v1/chain-masters/{place.master}/suppliers?bogus=1").status_code == 422
    empty = api.get(f"/api/v1/chain-masters/{place.master}/suppliers?chain={place.code}")
    summary = empty.get_json()["summary"][0]
    assert summary["active_links"] == 0 and summary["local_rate_by_value"] is None
