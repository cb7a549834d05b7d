"""Requests that race, fired at once from a thread pool at the real server (several gunicorn workers,
each with several threads): whichever way they interleave, money and stock stay right, one request
wins each race, and every loser is told so with a 409 (or the 422 that explains why it is refused)
and a stable `code`, never a 200 that did nothing and never a 500.
"""
from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from tests.journeys.support import (
    Client,
    assert_problem,
    dec,
    ok,
    parallel,
    product_body,
    unique,
)

ADDRESS = {"name": "Priya Nair", "line1": "12 MG Road", "city": "Bengaluru", "postal_code": "560001",
           "country": "IN"}


@pytest.fixture(scope="module")
def vendor_in(system):
    return system.login("vendor-in@buybrics.example")


def new_product(vendor: Client, amount: str, stock: int = 100, **overrides) -> dict:
    return ok(vendor.post("/products", json=product_body(price={"amount": amount, "currency": "INR"}, stock=stock,
                                                         **overrides)), 201)


def buy(shopper: Client, product: dict, quantity: int = 1, key: str | None = None) -> dict:
    ok(shopper.post("/cart/items", json={"product_id": product["id"], "quantity": quantity}), 201)
    result = ok(shopper.post("/checkout", json={"currency": "INR", "shipping_address": ADDRESS},
                             headers={"Idempotency-Key": key or unique("key")}), 201)
    return result["order"]


def stock_of(vendor: Client, product: dict) -> int:
    return ok(vendor.get(f"/products/{product['id']}"))["stock"]


def ledger_of(vendor: Client, vendor_order_id: int) -> list[dict]:
    entries = ok(vendor.get("/vendor/payouts", params={"per_page": 100}))["items"]
    return [e for e in entries if e["vendor_order_id"] == vendor_order_id]


def losers_are_refused(responses: list[requests.Response], statuses: tuple[int, ...] = (409,)) -> None:
    for response in responses:
        assert response.status_code < 500, f"{response.status_code} {response.text[:500]}"
        assert_problem(response, statuses)


def test_eight_parallel_refunds_of_600_on_a_2000_inr_order_never_refund_more_than_was_paid(system, vendor_in):
    admin = system.login("admin@buybrics.example")
    shopper = system.new_shopper()
    order = buy(shopper, new_product(vendor_in, "2000.00"))
    ok(shopper.post(f"/orders/{order['id']}/payment/confirm"))
    vendor_order = order["vendor_orders"][0]
    # a domestic order: 2,000.00 of goods and the vendor's domestic shipping, no duties
    assert order["goods"]["amount"] == "2000.00" and order["duties_and_taxes"]["amount"] == "0.00"
    paid = dec(order["total"])
    assert paid == Decimal("2000.00") + dec(order["shipping"]) and paid < Decimal("2400.00")

    answers = parallel([lambda: admin.post(f"/orders/{order['id']}/refunds",
                                           json={"amount": {"amount": "600.00", "currency": "INR"},
                                                 "reason": "Race"})] * 8)

    won = [r for r in answers if r.status_code == 201]
    assert 1 <= len(won) <= 3, [(r.status_code, r.text[:200]) for r in answers]
    losers_are_refused([r for r in answers if r.status_code != 201], (409, 422))
    after = ok(shopper.get(f"/orders/{order['id']}"))
    refunded = dec(after["refunded"])
    assert refunded == Decimal("600.00") * len(won) <= paid, after
    assert sorted(r["id"] for r in after["refunds"]) == sorted(r.json()["id"] for r in won)
    assert sum(dec(r["amount"]) for r in after["refunds"]) == refunded
    assert after["status"] == "partially_refunded"
    # the vendor was debited once per refund that happened, no more
    entries = ledger_of(vendor_in, vendor_order["id"])
    assert len([e for e in entries if e["kind"] == "credit"]) == 1
    assert len([e for e in entries if e["kind"] == "refund"]) == len(won), entries
    net = dec(vendor_order["net"])
    # (pro rata to what was paid: the goods' share less commission, and the shipping's share)
    assert abs(sum(dec(e["amount"]) for e in entries) - (net - net * Decimal(600 * len(won)) / paid)) <= Decimal("0.02")
    # and what is left can still be refunded, exactly
    left = paid - refunded
    assert_problem(admin.post(f"/orders/{order['id']}/refunds",
                              json={"amount": {"amount": str(left + Decimal("0.01")), "currency": "INR"}}), 422)
    ok(admin.post(f"/orders/{order['id']}/refunds", json={"amount": {"amount": str(left), "currency": "INR"}}), 201)
    final = ok(shopper.get(f"/orders/{order['id']}"))
    assert final["status"] == "refunded" and final["refunded"] == order["total"]


def test_cancel_racing_payment_confirmation_has_exactly_one_winner(system, vendor_in):
    product = new_product(vendor_in, "700.00", stock=10)
    for _round in range(4):
        shopper = system.new_shopper()
        order = buy(shopper, product)
        stock_before_race = stock_of(vendor_in, product)
        cancel, confirm = parallel([lambda: shopper.post(f"/orders/{order['id']}/cancel"),
                                    lambda: shopper.post(f"/orders/{order['id']}/payment/confirm")])
        statuses = sorted([cancel.status_code, confirm.status_code])
        assert statuses == [200, 409], (cancel.status_code, cancel.text[:300], confirm.status_code,
                                        confirm.text[:300])
        losers_are_refused([r for r in (cancel, confirm) if r.status_code == 409])
        final = ok(shopper.get(f"/orders/{order['id']}"))
        credits = [e for e in ledger_of(vendor_in, order["vendor_orders"][0]["id"]) if e["kind"] == "credit"]
        if cancel.status_code == 200:
            assert final["status"] == "cancelled" and final["paid_at"] is None, final
            assert {vo["status"] for vo in final["vendor_orders"]} == {"cancelled"}
            assert stock_of(vendor_in, product) == stock_before_race + 1  # the unit came back
            assert credits == []
        else:
            assert final["status"] == "paid" and final["cancelled_at"] is None, final
            assert {vo["status"] for vo in final["vendor_orders"]} == {"paid"}
            assert stock_of(vendor_in, product) == stock_before_race  # sold: stays taken
            assert len(credits) == 1


def test_four_checkouts_of_one_cart_with_four_keys_make_one_order(system, vendor_in):
    shopper = system.new_shopper()
    product = new_product(vendor_in, "300.00", stock=10)
    ok(shopper.post("/cart/items", json={"product_id": product["id"], "quantity": 2}), 201)
    body = {"currency": "INR", "shipping_address": ADDRESS}

    answers = parallel([lambda key=key: shopper.post("/checkout", json=body, headers={"Idempotency-Key": key})
                        for key in (unique("double-click") for _ in range(4))])

    placed = [r for r in answers if r.status_code == 201]
    assert len(placed) == 1, [(r.status_code, r.text[:200]) for r in answers]
    losers_are_refused([r for r in answers if r.status_code != 201], (409, 422))
    orders = ok(shopper.get("/orders"))["items"]
    assert [o["id"] for o in orders] == [placed[0].json()["order"]["id"]]
    assert stock_of(vendor_in, product) == 8


def test_concurrent_partner_syncs_of_the_same_listings_make_each_product_once(system, demo):
    partner = system.partner(system.demo_partner_key)
    vendor_id = demo["vendors"]["IN"]["id"]
    word = "vaikuntham"
    ids = [unique("race") for _ in range(10)]
    listings = [{"external_id": eid, "vendor_id": vendor_id, "version": 1, "sku": eid.upper(),
                 "translations": {"en": {"title": f"{word.capitalize()} tea {n}"}},
                 "price": {"amount": "500.00", "currency": "INR"}, "stock": 10, "category": "tea",
                 "hs_code": "090230", "status": "active", "weight_g": 250} for n, eid in enumerate(ids)]

    answers = parallel([lambda: partner.put("/partner/listings", json={"listings": listings})] * 6)

    for answer in answers:
        assert answer.status_code in (200, 409), f"{answer.status_code} {answer.text[:500]}"
        if answer.status_code == 409:
            assert_problem(answer, 409)
    bodies = [a.json() for a in answers if a.status_code == 200]
    assert bodies
    for eid in ids:
        results = [r for body in bodies for r in body["results"] if r["external_id"] == eid]
        assert [r["status"] for r in results].count("created") == 1, results  # exactly one request made it
        # a request that lost the race for an item says so for that item, with a stable code
        assert all(r["status"] in ("created", "unchanged") or (r["status"] == "error" and r.get("code"))
                   for r in results), results
        assert len({r["product_id"] for r in results if r["product_id"] is not None}) == 1, results

    # then racing PATCHes of one listing with versions 2..7: the highest version wins, whatever the order
    patches = parallel([lambda v=v: partner.patch("/partner/listings", json={"updates": [
        {"external_id": ids[0], "stock": 100 + v, "version": v}]}) for v in range(2, 8)])
    for answer in patches:
        assert answer.status_code in (200, 409), f"{answer.status_code} {answer.text[:500]}"
        if answer.status_code == 200:
            assert answer.json()["results"][0]["status"] in ("updated", "stale"), answer.json()

    # one product per listing, wherever a user looks
    vendor_in = system.login("vendor-in@buybrics.example")
    products = ok(vendor_in.get(f"/vendors/{vendor_id}/products", params={"per_page": 100}))["items"]
    skus = [p["sku"] for p in products if p["sku"] in {eid.upper() for eid in ids}]
    assert sorted(skus) == sorted(eid.upper() for eid in ids)
    found = ok(system.client().get("/search", params={"q": word, "per_page": 100}))["items"]
    assert sorted(p["sku"] for p in found) == sorted(eid.upper() for eid in ids)
    feed, cursor = [], None
    while True:
        page = ok(partner.get("/partner/listings", params={"limit": 1000, **({"cursor": cursor} if cursor else {})}))
        feed += page["items"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    latest = {}
    for item in feed:
        if item["external_id"] in ids:
            latest[item["external_id"]] = item
    assert set(latest) == set(ids)
    assert len({item["product_id"] for item in latest.values()}) == len(ids)
    assert (latest[ids[0]]["version"], latest[ids[0]]["stock"]) == (7, 107)


def test_failed_logins_are_counted_once_across_workers_and_never_lock_the_owner_out_elsewhere(system):
    email, password = f"{unique('owner')}@journey.example", "the-owners-real-passphrase"
    system.register(email, password, "shopper")
    # the attacker opens several connections at once (so that its attempts land on every worker) and
    # sends its failures over them in turn
    attacker = [Client(system.base_url, address=address) for address in [Client(system.base_url).address] * 6]
    parallel([lambda c=c: c.get("/ping") for c in attacker])
    statuses = []
    for n in range(10):
        response = attacker[n % len(attacker)].post("/auth/token", json={"email": email, "password": f"guess-{n}"})
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert_problem(response, 429)
    assert statuses == [401] * 5 + [429] * 5, statuses

    # the owner, from another address, still signs in with the right password
    owner = system.client()
    assert owner.address != attacker[0].address
    token = ok(owner.post("/auth/token", json={"email": email, "password": password}))
    assert token["access_token"]


def test_sign_ups_from_one_address_are_limited_and_never_tell_which_addresses_exist(system):
    client = system.client()
    taken = "shopper@buybrics.example"
    first_new = client.post("/auth/register", json={"email": f"{unique('new')}@journey.example",
                                                    "password": "another-long-passphrase", "role": "shopper"})
    first_taken = client.post("/auth/register", json={"email": taken, "password": "another-long-passphrase",
                                                      "role": "shopper"})
    assert first_new.status_code == first_taken.status_code, (first_new.text, first_taken.text)
    assert set(first_new.json()) == set(first_taken.json())
    statuses = [first_new.status_code, first_taken.status_code]
    for _ in range(48):
        response = client.post("/auth/register", json={"email": f"{unique('bulk')}@journey.example",
                                                       "password": "another-long-passphrase", "role": "shopper"})
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert_problem(response, 429)
            break
    assert statuses[-1] == 429, statuses
