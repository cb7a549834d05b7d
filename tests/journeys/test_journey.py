"""The marketplace as its users meet it, in order, over HTTP against the running system.

A vendor signs up and is reviewed, lists products, joins a live festival campaign; shoppers find them
by text, by campaign and at the festival price; a partner ERP the vendor authorized syncs listings
(PUT, PATCH, DELETE and a JSON Lines job the worker runs) and sees them in search and in its feed; a
shopper buys from two vendors at once; each partner hears, through signed webhooks, only about the
vendors that authorized it; the order is paid, the vendor credited, part of it refunded, and the
campaign's report shows it all.

The steps share what they create through the module's `journey` object; a step whose prerequisites
an earlier step could not create is skipped, naming what it needs. Each step asserts what its users
see, so a failing step says which part of the journey broke.
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest

from tests.journeys.support import assert_problem, dec, ok, verify_signature, wait_until

WORD = "kesarwala"  # a made-up word only this journey's products carry
SLUG = "journey-diwali"
VENDOR_EMAIL = "owner@zafran-journey.example"
VENDOR_PASSWORD = "saffron-fields-2026"
SHOPPER_EMAIL = "ana@journey-shopper.example"
SHOPPER_PASSWORD = "cerrado-sunrise-77"
ADDRESS = {"name": "Ana Souza", "line1": "Rua Augusta 1500", "city": "São Paulo", "postal_code": "01304-001",
           "country": "BR"}
#: How long the worker may take to run a job or send a webhook (it polls every second).
WORKER_WAIT = 20


@pytest.fixture(scope="module")
def journey(system, demo):
    return SimpleNamespace(system=system, demo=demo)


def needs(journey, *names: str) -> None:
    missing = [name for name in names if getattr(journey, name, None) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} from an earlier step")


def search(client, **params) -> dict:
    return ok(client.get("/search", params={"currency": "INR", "per_page": 100, **params}))


def hits(client, **params) -> dict[int, dict]:
    return {item["id"]: item for item in search(client, **params)["items"]}


def feed(partner) -> dict[str, dict]:
    """The partner's whole delta feed, by external_id (the latest state of each)."""
    items, cursor = {}, None
    for _page in range(20):
        body = ok(partner.get("/partner/listings", params={"limit": 1000, **({"cursor": cursor} if cursor else {})}))
        items.update({item["external_id"]: item for item in body["items"]})
        cursor = body["next_cursor"]
        if not body["has_more"]:
            break
    return items


def listing(external_id: str, vendor_id: int, title: str, amount: str, **overrides) -> dict:
    body = {"external_id": external_id, "vendor_id": vendor_id, "version": 1, "sku": external_id.upper(),
            "translations": {"en": {"title": title, "description": f"{title}, synced from the ERP."}},
            "price": {"amount": amount, "currency": "INR"}, "stock": 30, "category": "spices",
            "hs_code": "091020", "status": "active", "weight_g": 100}
    body.update(overrides)
    return body


# -- 1. onboarding ---------------------------------------------------------------------------------

def test_01_a_new_vendor_signs_up_applies_and_is_approved_by_an_admin(journey):
    system = journey.system
    vendor = system.register(VENDOR_EMAIL, VENDOR_PASSWORD, "vendor")
    profile = ok(vendor.post("/vendors", json={
        "legal_name": "Zafran Journey Crafts LLP", "display_name": "Zafran Journey", "country": "IN",
        "tax_id": "JRNFA4242Z", "contact_email": VENDOR_EMAIL, "phone": "+91 98765 43210", "sector": "manufacturing",
        "employees": 12, "annual_turnover": {"amount": "5000000.00", "currency": "INR"},
        "investment": {"amount": "1000000.00", "currency": "INR"},
        "address": {"line1": "7 Zaina Kadal", "city": "Srinagar", "postal_code": "190002", "country": "IN"},
        "customer_care": {"email": VENDOR_EMAIL}, "grievance_officer": {"name": "Irfan Bhat", "email": VENDOR_EMAIL},
    }), 201)
    assert profile["status"] == "pending_review" and profile["msme_class"] == "micro"

    admin = system.login("admin@buybrics.example")
    queue = ok(admin.get("/vendors", params={"status": "pending_review"}))["items"]
    assert profile["id"] in [v["id"] for v in queue]
    approved = ok(admin.post(f"/vendors/{profile['id']}/approve", json={"reason": "Documents checked"}))
    assert approved["status"] == "approved"
    history = ok(vendor.get(f"/vendors/{profile['id']}/history"))["items"]
    assert [(h["from_status"], h["to_status"]) for h in history] == [(None, "pending_review"),
                                                                      ("pending_review", "approved")]
    # where it ships and at what price: Brazil and the rest of the BRICS, standard or express by weight
    shipping = ok(vendor.put("/vendor/shipping-profile", json={"zones": [{"countries": ["BR", "CN", "RU", "ZA"], "rates": [
        {"service": "standard", "price": {"amount": "500.00", "currency": "INR"}, "min_days": 9, "max_days": 20},
        {"service": "express", "base": {"amount": "900.00", "currency": "INR"},
         "per_kg": {"amount": "300.00", "currency": "INR"}, "min_days": 4, "max_days": 7}]}]}))
    assert shipping["vendor_id"] == profile["id"] and len(shipping["zones"][0]["rates"]) == 2
    journey.vendor, journey.vendor_id = vendor, profile["id"]


# -- 2. products -----------------------------------------------------------------------------------

def test_02_the_vendor_lists_products_that_search_finds_at_once(journey):
    needs(journey, "vendor")
    vendor = journey.vendor
    saffron = ok(vendor.post("/products", json={
        "sku": "ZJ-SAFFRON-1", "translations": {"en": {"title": f"{WORD.capitalize()} saffron threads",
                                                        "description": "Kashmiri mongra saffron, 2 g."}},
        "price": {"amount": "1000.00", "currency": "INR"}, "stock": 50, "category": "spices", "hs_code": "091020",
        "status": "active", "weight_g": 60, "customs": {"description": "Saffron threads, dried"}}), 201)
    stole = ok(vendor.post("/products", json={
        "sku": "ZJ-STOLE-1", "translations": {"en": {"title": f"{WORD.capitalize()} pashmina stole"}},
        "price": {"amount": "2000.00", "currency": "INR"}, "stock": 20, "category": "shawls-scarves",
        "hs_code": "621410", "status": "active", "weight_g": 300}), 201)
    journey.saffron, journey.stole = saffron, stole

    found = hits(journey.system.client(), q=WORD)
    assert {saffron["id"], stole["id"]} <= set(found), found
    assert found[saffron["id"]]["price"]["amount"] == "1000.00" and found[saffron["id"]]["campaign"] is None
    assert found[stole["id"]]["vendor"]["id"] == journey.vendor_id


# -- 3. campaign enrollment ------------------------------------------------------------------------

def test_03_the_saffron_joins_a_live_festival_and_shows_its_festival_price_at_once(journey):
    needs(journey, "saffron")
    system, manager = journey.system, journey.system.login("manager@buybrics.example")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    campaign = ok(manager.post("/campaigns", json={
        "slug": SLUG, "name": {"en": "Journey Diwali", "hi": "जर्नी दिवाली"},
        "description": {"en": "Festival prices on Indian MSME products."},
        "starts_at": (now - timedelta(minutes=2)).isoformat(), "ends_at": (now + timedelta(days=1)).isoformat(),
        "discount": {"type": "percent", "value": "20"},
        "eligibility": {"origin_countries": ["IN"], "categories": [], "msme_classes": ["micro", "small", "medium"]},
        "requires_approval": True,
    }), 201)
    assert campaign["status"] == "draft"
    assert ok(manager.post(f"/campaigns/{campaign['id']}/launch"))["status"] == "active"
    journey.campaign = campaign

    results = ok(journey.vendor.post(f"/campaigns/{campaign['id']}/enrollments",
                                     json={"product_ids": [journey.saffron["id"]]}))["results"]
    assert [r["status"] for r in results] == ["pending_approval"]
    decided = ok(manager.post(f"/campaigns/{campaign['id']}/enrollments/{results[0]['enrollment_id']}/approve",
                              json={}))
    assert decided["status"] == "enrolled"

    shopper = system.client()
    # the campaign filter and the festival price, as soon as the approval has answered
    in_campaign = hits(shopper, campaign=SLUG)
    assert list(in_campaign) == [journey.saffron["id"]], in_campaign
    item = in_campaign[journey.saffron["id"]]
    assert item["price"]["amount"] == "800.00" and item["list_price"]["amount"] == "1000.00"
    assert item["campaign"]["slug"] == SLUG
    # text search shows the same festival price; the stole is not in the campaign
    found = hits(shopper, q=WORD)
    assert found[journey.saffron["id"]]["price"]["amount"] == "800.00"
    assert found[journey.stole["id"]]["price"]["amount"] == "2000.00" and found[journey.stole["id"]]["campaign"] is None
    # price filters see the festival price too
    assert journey.saffron["id"] in hits(shopper, q=WORD, price_max="850")
    assert journey.saffron["id"] not in hits(shopper, q=WORD, price_min="900", price_max="1500")
    # the campaign's own product list and the product page agree
    listed = ok(shopper.get(f"/campaigns/{SLUG}/products", params={"currency": "INR"}))["items"]
    assert [p["id"] for p in listed] == [journey.saffron["id"]]
    page = ok(shopper.get(f"/products/{journey.saffron['id']}", params={"currency": "INR"}))
    assert page["price"]["amount"] == "800.00" and page["campaign"]["slug"] == SLUG


# -- 4. partners -----------------------------------------------------------------------------------

def test_04_the_vendor_authorizes_its_erp_and_both_partners_subscribe_to_webhooks(journey):
    needs(journey, "vendor")
    system, demo = journey.system, journey.demo
    other = system.partner(system.other_partner_key)
    grant = ok(journey.vendor.post(f"/vendors/{journey.vendor_id}/partners",
                                   json={"partner_id": demo["other_partner"]["id"]}), 201)
    assert grant["vendor_id"] == journey.vendor_id
    events = ["order.created", "order.paid", "order.refunded", "listing.updated"]
    hook = ok(other.post("/partner/webhooks", json={"url": system.receiver.url("/other"), "events": events}), 201)
    demo_hook = ok(system.partner(system.demo_partner_key).post(
        "/partner/webhooks", json={"url": system.receiver.url("/demo"), "events": events[:3]}), 201)
    assert hook["secret"] and demo_hook["secret"]
    journey.other, journey.other_secret, journey.demo_secret = other, hook["secret"], demo_hook["secret"]


def test_05_listings_synced_by_put_patch_and_delete_are_in_search_when_each_call_returns(journey):
    needs(journey, "other")
    other, shopper, vid = journey.other, journey.system.client(), journey.vendor_id
    seen = {}  # what search showed right after each call answered (asserted once every call has been made)
    answer = ok(other.put("/partner/listings", json={"listings": [
        listing("jr-1", vid, f"{WORD.capitalize()} chai masala", "450.00"),
        listing("jr-2", vid, f"{WORD.capitalize()} cardamom pods", "300.00"),
    ]}))
    assert [r["status"] for r in answer["results"]] == ["created", "created"], answer
    journey.synced = synced = {r["external_id"]: r["product_id"] for r in answer["results"]}
    seen["after PUT"] = hits(shopper, q=WORD)

    # the same content again changes nothing
    again = ok(other.put("/partner/listings", json={"listings": [
        listing("jr-1", vid, f"{WORD.capitalize()} chai masala", "450.00")]}))
    assert [r["status"] for r in again["results"]] == ["unchanged"]

    patched = ok(other.patch("/partner/listings", json={"updates": [
        {"external_id": "jr-1", "price": {"amount": "399.00", "currency": "INR"}, "stock": 25, "version": 2}]}))
    assert [r["status"] for r in patched["results"]] == ["updated"]
    seen["after PATCH"] = hits(shopper, q=WORD)

    assert other.delete("/partner/listings/jr-2").status_code == 204
    seen["after DELETE"] = hits(shopper, q=WORD)

    assert {synced["jr-1"], synced["jr-2"]} <= set(seen["after PUT"]), "PUT answered; search does not show it"
    assert seen["after PUT"][synced["jr-1"]]["price"]["amount"] == "450.00"
    assert synced["jr-1"] in seen["after PATCH"], "PATCH answered; search lost the listing"
    assert seen["after PATCH"][synced["jr-1"]]["price"]["amount"] == "399.00", "PATCH answered; search has the old price"
    assert synced["jr-2"] not in seen["after DELETE"], "DELETE answered; search still shows the listing"


def test_06_a_json_lines_job_runs_in_the_worker_and_its_listings_reach_search(journey):
    needs(journey, "synced")
    system, other, vid = journey.system, journey.other, journey.vendor_id
    lines = [
        listing("jr-3", vid, f"{WORD.capitalize()} turmeric powder", "250.00"),
        listing("jr-4", vid, f"{WORD.capitalize()} cumin seeds", "180.00"),
        listing("jr-5", journey.demo["vendors"]["CN"]["id"], f"{WORD.capitalize()} not ours", "10.00"),
    ]
    body = "\n".join(json.dumps(line) for line in lines) + "\n"
    job = ok(other.post("/partner/listings/jobs", data=body.encode(),
                        headers={"Content-Type": "application/x-ndjson"}), 202)
    assert job["total"] == 3

    def finished():
        state = ok(other.get(f"/partner/listings/jobs/{job['id']}", params={"per_page": 10}))
        return state if state["status"] == "completed" else None

    done = wait_until(finished, WORKER_WAIT, 0.3, "the worker completes the job")
    assert done["counts"]["created"] == 2 and done["counts"]["error"] == 1, done
    by_line = {r["line"]: r for r in done["results"]}
    assert by_line[3]["status"] == "error" and by_line[3]["code"] == "vendor_not_authorized"
    journey.synced.update({r["external_id"]: r["product_id"] for r in done["results"] if r["status"] == "created"})
    # the worker delivers the job's index updates in the same pass, right after the job's last chunk
    wanted = {journey.synced["jr-3"], journey.synced["jr-4"]}
    wait_until(lambda: wanted <= set(hits(system.client(), q=WORD)), 3, 0.2, "the job's listings in search")


def test_07_the_partners_feed_shows_every_synced_listing_as_the_marketplace_holds_it(journey):
    needs(journey, "synced")
    wanted = {"jr-1", "jr-2", "jr-3", "jr-4"}

    def as_synced(items: dict[str, dict]) -> bool:
        return (wanted <= set(items) and items["jr-1"]["version"] == 2 and items["jr-2"]["status"] == "archived"
                and items["jr-4"]["status"] == "active")

    # every change is seconds old by now: the feed shows them all (a short wait covers a slow poll only)
    deadline, items = time.monotonic() + 1.5, feed(journey.other)
    while not as_synced(items) and time.monotonic() < deadline:
        time.sleep(0.2)
        items = feed(journey.other)
    assert wanted <= set(items), sorted(items)
    assert items["jr-1"]["price"] == {"amount": "399.00", "currency": "INR"} and items["jr-1"]["stock"] == 25
    assert items["jr-1"]["version"] == 2
    assert items["jr-2"]["status"] == "archived", items["jr-2"]
    assert items["jr-3"]["status"] == "active" and items["jr-3"]["product_id"] == journey.synced["jr-3"]
    # another partner's feed never shows them
    assert not wanted & set(feed(journey.system.partner(journey.system.demo_partner_key)))


def test_08_listing_updates_reach_the_partner_as_signed_webhooks(journey):
    needs(journey, "synced", "other_secret")
    receiver = journey.system.receiver
    mine = set(journey.synced.values())
    deliveries = wait_until(lambda: [d for d in receiver.received("/other", "listing.updated")
                                     if d.data.get("product_id") in mine], WORKER_WAIT, 0.3,
                            "listing.updated deliveries for the synced listings")
    for delivery in deliveries:
        assert verify_signature(journey.other_secret, delivery.headers, delivery.body), delivery.headers
        assert delivery.data["vendor_id"] == journey.vendor_id
    assert {d.data["product_id"] for d in deliveries} >= {journey.synced["jr-1"], journey.synced["jr-3"]}
    # the demo partner, which this vendor never authorized, hears nothing of them
    assert not [d for d in receiver.deliveries if d.path == "/demo" and d.data.get("product_id") in mine]


# -- 5. a two-vendor checkout, webhooks, payment, payout, refund, report ---------------------------

def test_09_a_shopper_buys_from_two_vendors_in_one_checkout_at_the_festival_price(journey):
    needs(journey, "saffron", "campaign")
    system = journey.system
    shopper = system.register(SHOPPER_EMAIL, SHOPPER_PASSWORD, "shopper")
    cn = journey.demo["vendors"]["CN"]
    tea = ok(shopper.get(f"/vendors/{cn['id']}/products", params={"per_page": 1}))["items"][0]
    ok(shopper.post("/cart/items", json={"product_id": journey.saffron["id"], "quantity": 1}), 201)
    ok(shopper.post("/cart/items", json={"product_id": tea["id"], "quantity": 1}), 201)
    # the landed cost first: goods, shipping and Brazil's import tax and ICMS per vendor
    quote = ok(shopper.post("/checkout/quote", json={"currency": "INR", "shipping_address": ADDRESS}))
    result = ok(shopper.post("/checkout", json={"currency": "INR", "shipping_address": ADDRESS},
                             headers={"Idempotency-Key": "journey-checkout-1"}), 201)
    order = result["order"]
    assert order["total"] == quote["total"]  # checkout charges exactly what the quote said
    for part in quote["vendor_orders"]:
        placed = next(vo for vo in order["vendor_orders"] if vo["vendor_id"] == part["vendor_id"])
        assert placed["total"] == part["total"] and placed["shipping"] == part["shipping"]
        assert [c["amount"] for c in placed["duties_and_taxes"]] == [c["amount"] for c in part["duties_and_taxes"]]
        assert placed["incoterm"] == part["incoterm"] == "DDP"
    assert order["status"] == "awaiting_payment", order
    assert {vo["vendor_id"] for vo in order["vendor_orders"]} == {journey.vendor_id, cn["id"]}
    saffron_line = next(line for line in order["lines"] if line["product_id"] == journey.saffron["id"])
    assert (saffron_line["unit_price"]["amount"], saffron_line["unit_price"]["currency"]) == ("800.00", "INR")
    assert saffron_line["campaign"]["slug"] == SLUG
    assert dec(order["goods"]) == sum(dec(line["line_total"]) for line in order["lines"])
    assert dec(order["total"]) == dec(order["goods"]) + dec(order["shipping"]) + dec(order["duties_and_taxes"])
    assert ok(shopper.get("/cart", params={"currency": "INR"}))["groups"] == []
    journey.shopper, journey.order, journey.cn_id = shopper, order, cn["id"]
    journey.vendor_order = next(vo for vo in order["vendor_orders"] if vo["vendor_id"] == journey.vendor_id)
    journey.cn_vendor_order = next(vo for vo in order["vendor_orders"] if vo["vendor_id"] == cn["id"])


def _vendor_ids_in(value) -> set[int]:
    """Every `vendor_id` anywhere in an event's data."""
    found: set[int] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "vendor_id" and isinstance(item, int):
                found.add(item)
            found |= _vendor_ids_in(item)
    elif isinstance(value, list):
        for item in value:
            found |= _vendor_ids_in(item)
    return found


def _order_deliveries(receiver, path: str, event_type: str, order_id: int):
    return wait_until(lambda: [d for d in receiver.received(path, event_type) if d.data.get("order_id") == order_id],
                      WORKER_WAIT, 0.3, f"{event_type} for order {order_id} at {path}")


def test_10_each_partner_hears_of_the_order_only_for_the_vendors_that_authorized_it(journey):
    needs(journey, "order", "other_secret")
    receiver, order = journey.system.receiver, journey.order
    for path, secret, vendor_id, vendor_order in (
            ("/other", journey.other_secret, journey.vendor_id, journey.vendor_order),
            ("/demo", journey.demo_secret, journey.cn_id, journey.cn_vendor_order)):
        deliveries = _order_deliveries(receiver, path, "order.created", order["id"])
        for delivery in deliveries:
            assert verify_signature(secret, delivery.headers, delivery.body), (path, delivery.headers)
            vendor_orders = delivery.data["vendor_orders"]
            assert [vo["id"] for vo in vendor_orders] == [vendor_order["id"]], (path, delivery.data)
            assert _vendor_ids_in(delivery.data) == {vendor_id}, (path, delivery.data)
        assert len({d.event["id"] for d in deliveries}) == 1  # one event (retries would carry the same id)


def test_11_the_shopper_pays_and_the_partner_hears_of_it(journey):
    needs(journey, "order")
    paid = ok(journey.shopper.post(f"/orders/{journey.order['id']}/payment/confirm"))
    assert paid["status"] == "paid" and paid["paid_at"]
    assert {vo["status"] for vo in paid["vendor_orders"]} == {"paid"}
    journey.paid = paid
    if getattr(journey, "other_secret", None):
        deliveries = _order_deliveries(journey.system.receiver, "/other", "order.paid", paid["id"])
        assert all(verify_signature(journey.other_secret, d.headers, d.body) for d in deliveries)
        assert _vendor_ids_in(deliveries[0].data) == {journey.vendor_id}


def test_12_the_vendor_is_credited_its_net_in_its_payout_ledger(journey):
    needs(journey, "paid")
    ledger = ok(journey.vendor.get("/vendor/payouts"))
    credits = [e for e in ledger["items"] if e["vendor_order_id"] == journey.vendor_order["id"] and e["kind"] == "credit"]
    assert len(credits) == 1, ledger
    net = journey.vendor_order["net"]
    assert credits[0]["amount"]["amount"] == net["amount"] and credits[0]["amount"]["currency"] == net["currency"]
    assert [(b["amount"], b["currency"]) for b in ledger["balances"]] == [(net["amount"], net["currency"])]
    # the other vendor's credit is its own business
    assert all(e["vendor_order_id"] != journey.cn_vendor_order["id"] for e in ledger["items"])


def test_12_the_vendor_prints_the_customs_declaration_of_what_it_ships(journey):
    needs(journey, "paid")
    path = f"/vendor/orders/{journey.vendor_order['id']}/customs"
    form = ok(journey.vendor.get(path))
    assert form["form"] == "CN22" and form["incoterm"] == "DDP" and form["category"] == "sale_of_goods"
    assert form["recipient"]["country"] == "BR" and form["sender"]["name"] == "Zafran Journey"
    (item,) = form["items"]
    assert (item["description"], item["hs_code"], item["net_weight_g"], item["origin_country"]) == (
        "Saffron threads, dried", "091020", 60, "IN")
    printed = journey.vendor.get(path, params={"format": "pdf"})
    assert printed.status_code == 200 and printed.headers["Content-Type"] == "application/pdf"
    assert printed.content.startswith(b"%PDF")
    other = journey.system.login(journey.demo["vendors"]["CN"]["contact_email"])
    assert other.get(path).status_code == 404  # another vendor's parcel


def test_13_an_admin_refunds_the_saffron_and_the_ledger_and_the_partner_follow(journey):
    needs(journey, "paid")
    system = journey.system
    admin = system.login("admin@buybrics.example")
    refund = ok(admin.post(f"/orders/{journey.order['id']}/refunds",
                           json={"vendor_order_id": journey.vendor_order["id"], "reason": "Damaged in transit"}), 201)
    # all that was paid for the saffron's part: its 800.00 of goods, its shipping and the duties collected on it
    assert refund["amount"] == journey.vendor_order["total"] and journey.vendor_order["subtotal"]["amount"] == "800.00"
    assert dec(refund["amount"]) > dec(journey.vendor_order["subtotal"])
    order = ok(journey.shopper.get(f"/orders/{journey.order['id']}"))
    assert order["status"] == "partially_refunded" and order["refunded"] == journey.vendor_order["total"]
    statuses = {vo["vendor_id"]: vo["status"] for vo in order["vendor_orders"]}
    assert statuses == {journey.vendor_id: "refunded", journey.cn_id: "paid"}
    ledger = ok(journey.vendor.get("/vendor/payouts"))
    kinds = sorted(e["kind"] for e in ledger["items"] if e["vendor_order_id"] == journey.vendor_order["id"])
    assert kinds == ["credit", "refund"]
    assert all(dec(b) == 0 for b in ledger["balances"]), ledger["balances"]
    # a second full refund of the same part is refused, with a problem the admin can read
    assert_problem(admin.post(f"/orders/{journey.order['id']}/refunds",
                              json={"vendor_order_id": journey.vendor_order["id"]}), (409, 422))
    journey.refunded = order
    if getattr(journey, "other_secret", None):
        deliveries = _order_deliveries(system.receiver, "/other", "order.refunded", order["id"])
        assert all(verify_signature(journey.other_secret, d.headers, d.body) for d in deliveries)
        assert _vendor_ids_in(deliveries[0].data) == {journey.vendor_id}


def test_14_the_campaign_report_shows_the_sale_its_discount_and_the_refund(journey):
    needs(journey, "refunded", "campaign")
    manager = journey.system.login("manager@buybrics.example")
    report = ok(manager.get(f"/campaigns/{journey.campaign['id']}/report", params={"currency": "INR"}))
    totals = report["totals"]
    assert totals["orders"] == 1 and totals["units"] == 1, report
    assert (dec(totals["gmv"]), dec(totals["discount"]), dec(totals["refunded"]), dec(totals["net_gmv"])) == (
        Decimal("800.00"), Decimal("200.00"), Decimal("800.00"), Decimal("0.00"))
    assert [row["vendor_id"] for row in report["by_vendor"]] == [journey.vendor_id]
    assert [row["origin_country"] for row in report["by_origin_country"]] == ["IN"]
    assert Decimal(report["msme_share"]) == 1
    csv = manager.get(f"/campaigns/{journey.campaign['id']}/report", params={"currency": "INR", "format": "csv"})
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv") and "Zafran" in csv.text
