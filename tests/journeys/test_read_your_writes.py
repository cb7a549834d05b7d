"""Read-your-writes on the running system: when a write has answered, every worker process shows it.

Each check first warms every worker's caches (several connections at once, so the requests land on
all of them), then writes, then reads at once from fresh connections.
"""
from __future__ import annotations

import random
import string
import time
from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.journeys.support import Client, ok, parallel, product_body, unique

DEMO_CAMPAIGN = "buy-brics-ciie"  # seed-demo's live campaign: 15 % off, no approval step


def everywhere(system, path: str, params: dict, n: int = 8) -> list[dict]:
    """`GET path` from `n` fresh connections at once (so that every worker answers some); the bodies."""
    clients = [Client(system.base_url) for _ in range(n)]
    answers = parallel([lambda c=c: c.get(path, params=params) for c in clients])
    return [ok(a) for a in answers]


@pytest.fixture(scope="module")
def partner(system):
    return system.partner(system.demo_partner_key)


def test_a_listing_synced_by_put_is_found_by_search_as_soon_as_the_put_returns(system, demo, partner):
    vendor_id = demo["vendors"]["IN"]["id"]
    for _attempt in range(4):
        word = "".join(random.choice(string.ascii_lowercase) for _ in range(10))
        everywhere(system, "/search", {"q": word})  # warm: nothing yet
        external_id = unique("ryw")
        answer = ok(partner.put("/partner/listings", json={"listings": [{
            "external_id": external_id, "vendor_id": vendor_id, "sku": external_id.upper(),
            "translations": {"en": {"title": f"{word} darjeeling tea"}}, "price": {"amount": "900.00", "currency": "INR"},
            "stock": 3, "category": "tea", "hs_code": "090230", "status": "active"}]}))
        product_id = answer["results"][0]["product_id"]
        assert answer["results"][0]["status"] == "created"
        for body in everywhere(system, "/search", {"q": word}):
            assert [item["id"] for item in body["items"]] == [product_id], body


def test_a_product_enrolled_in_a_live_campaign_is_in_its_filter_at_once_at_the_festival_price(system):
    vendor = system.login("vendor-in@buybrics.example")
    campaign = ok(system.client().get(f"/campaigns/{DEMO_CAMPAIGN}"))
    assert campaign["status"] == "active"
    product = ok(vendor.post("/products", json=product_body(price={"amount": "1234.00", "currency": "INR"})), 201)
    params = {"campaign": DEMO_CAMPAIGN, "currency": "INR", "per_page": 100}
    for body in everywhere(system, "/search", params):  # warm every worker's answer for this filter
        assert product["id"] not in [item["id"] for item in body["items"]]

    results = ok(vendor.post(f"/campaigns/{campaign['id']}/enrollments", json={"product_ids": [product["id"]]}))
    assert [r["status"] for r in results["results"]] == ["enrolled"], results

    festival = (Decimal("1234.00") * Decimal("0.85")).quantize(Decimal("0.01"), ROUND_HALF_UP)
    for body in everywhere(system, "/search", params):
        items = {item["id"]: item for item in body["items"]}
        assert product["id"] in items, "enrolled, but not under ?campaign= yet"
        assert Decimal(items[product["id"]]["price"]["amount"]) == festival
        assert items[product["id"]]["campaign"]["slug"] == DEMO_CAMPAIGN


def test_a_partners_own_change_is_in_its_feed_within_a_second(system, demo, partner):
    vendor_id = demo["vendors"]["IN"]["id"]
    external_id = unique("feed")
    listing = {"external_id": external_id, "vendor_id": vendor_id, "version": 1, "sku": external_id.upper(),
               "translations": {"en": {"title": "Nilgiri frost tea"}}, "price": {"amount": "700.00", "currency": "INR"},
               "stock": 9, "category": "tea", "hs_code": "090230", "status": "active"}
    # the partner keeps its last cursor and polls from there
    cursor = None
    while True:
        page = ok(partner.get("/partner/listings", params={"limit": 1000, **({"cursor": cursor} if cursor else {})}))
        cursor = page["next_cursor"] or cursor
        if not page["has_more"]:
            break
    for version, stock in ((1, 9), (2, 4)):
        if version == 1:
            ok(partner.put("/partner/listings", json={"listings": [listing]}))
        else:
            ok(partner.patch("/partner/listings", json={"updates": [
                {"external_id": external_id, "stock": stock, "version": version}]}))
        committed = time.monotonic()
        seen = None
        while seen is None and time.monotonic() - committed < 1.0:
            page = ok(partner.get("/partner/listings", params={"limit": 1000, **({"cursor": cursor} if cursor else {})}))
            mine = [item for item in page["items"] if item["external_id"] == external_id and item["version"] == version]
            if mine:
                seen, cursor = mine[-1], page["next_cursor"]
            else:
                time.sleep(0.1)
        assert seen is not None, f"version {version} of {external_id} not in the feed within 1 s of its commit"
        assert seen["stock"] == stock
