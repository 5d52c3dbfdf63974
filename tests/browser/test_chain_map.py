"""The chain map in a real Chromium, on the demo data: it reads as one picture on a laptop's
screen (the three positions side by side, long member lists folded to counts that open), with
BYD, the chain master, under 整车制造 → 乘用车; every iconic chain has a map, marked as the
industry's general structure."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_workflows import chain_id, enterprise_id

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}


def segment_id(live_server, chain: str, code: str) -> int:
    return live_server.scalar(
        "SELECT s.id FROM chain_segment s JOIN chain c ON c.id = s.chain_id "
        "WHERE c.code = :c AND s.code = :s",
        c=chain,
        s=code,
    )


def test_the_automotive_map_is_one_picture_with_byd_under_passenger_vehicles(
    signed_in_page, live_server
):
    page = signed_in_page("viewer", lang="zh")
    page.set_viewport_size(LAPTOP)
    automotive = chain_id(live_server, "automotive")
    byd = enterprise_id(live_server, "比亚迪济南基地")
    page.goto(f"/chains/{automotive}/map")

    # Upstream, midstream and downstream side by side, left to right.
    boxes = [page.locator(f'section[data-position="{p}"]').bounding_box()
             for p in ("upstream", "midstream", "downstream")]  # fmt: skip
    assert boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"]
    assert abs(boxes[0]["y"] - boxes[2]["y"]) < 1
    # The five upstream segments sit side by side too, and the whole map fits about two screens
    # (it was 5,600 px with every supplier listed).
    tops = page.locator('section[data-position="upstream"] .segments > .segment').evaluate_all(
        "boxes => boxes.map(b => b.getBoundingClientRect().top)"
    )
    assert len(tops) == 5 and len({round(t) for t in tops}) <= 2, tops
    height = page.locator(".chain-map").bounding_box()["height"]
    assert height < 2 * LAPTOP["height"], height

    # BYD in sight in 乘用车, under 整车制造.
    passenger = page.locator(
        f"#segment-{segment_id(live_server, 'automotive', 'vehicles.passenger')}"
    )
    vehicles = page.locator(f"#segment-{segment_id(live_server, 'automotive', 'vehicles')}")
    expect(
        vehicles.locator(".children").locator(f"#{passenger.get_attribute('id')}")
    ).to_have_count(1)
    expect(passenger.locator(f'a[href="/enterprises/{byd}"]').first).to_be_visible()

    # A long list is a count that opens: hidden first, shown after a click.
    folded = page.locator(".segment details.members").first
    member = folded.locator("ul.enterprise-list li").first
    expect(member).to_be_hidden()
    folded.locator("summary").click()
    expect(member).to_be_visible()
    # Nothing sticks out sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_iconic_chain_has_a_map_marked_as_the_general_structure(
    signed_in_page, live_server, lang
):
    page = signed_in_page("viewer", lang=lang)
    chains = live_server.rows(
        "SELECT id, code FROM chain WHERE tier = 'iconic' ORDER BY sort_order"
    )
    assert len(chains) == 13
    # Every chain in Chinese, the offices' language; in English the words change, not the maps.
    for chain, code in chains if lang == "zh" else chains[:3]:
        page.goto(f"/chains/{chain}/map")
        for position in ("upstream", "midstream", "downstream"):
            section = page.locator(f'section[data-position="{position}"]')
            assert section.locator(".segment").count() >= 1, (code, position)
        expect(page.locator("p.general-notice")).to_be_visible()
        expect(page.locator(".segment.general").first).to_be_visible()
        # The chain's masters are placed in a segment of the map.
        masters = live_server.scalar(
            "SELECT count(*) FROM chain_role WHERE chain_id = :c AND role = 'chain_master' "
            "AND segment_id IS NULL",
            c=chain,
        )
        assert masters == 0, code
