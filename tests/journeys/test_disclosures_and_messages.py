"""Consumer protection on the running system: the demo vendors' seller disclosures are public, a product made
in another BRICS member says so up to the order line, and a vendor order's thread carries the demo shopper's
and the vendor's messages (contact details masked) while outsiders get 404."""
from __future__ import annotations

from tests.journeys.support import assert_problem, ok, parallel, product_body, unique

ADDRESS = {"name": "Ana Souza", "line1": "Rua Augusta 1500", "city": "São Paulo", "postal_code": "01304-001",
           "country": "BR"}


def test_every_demo_vendors_disclosures_are_public(system, demo):
    anonymous = system.client()
    for country, vendor in demo["vendors"].items():
        shown = ok(anonymous.get(f"/vendors/{vendor['id']}"))
        assert shown["address"]["country"] == country and shown["address"]["line1"] and shown["address"]["postal_code"]
        assert shown["customer_care"]["email"].endswith("@buybrics.example")
        assert shown["customer_care"]["phone"].startswith("+")          # E.164
        assert shown["grievance_officer"]["name"] and shown["grievance_officer"]["email"]
        assert 1 <= shown["return_policy"]["window_days"] <= 365 and shown["return_policy"]["conditions"]["en"]
        assert "tax_id" not in shown and "disclosures_missing" not in shown
    owner = system.login("vendor-za@buybrics.example")
    assert ok(owner.get(f"/vendors/{demo['vendors']['ZA']['id']}"))["disclosures_missing"] == []


def _order_from(system, shopper, product: dict) -> dict:
    for group in ok(shopper.get("/cart"))["groups"]:   # whatever earlier journeys left in the demo cart
        for line in group["lines"]:
            ok(shopper.delete(f"/cart/items/{line['id']}"), 204)
    ok(shopper.post("/cart/items", json={"product_id": product["id"], "quantity": 1}), 201)
    return ok(shopper.post("/checkout", json={"currency": "BRL", "shipping_address": ADDRESS},
                           headers={"Idempotency-Key": unique("thread")}), 201)["order"]


def test_the_demo_shopper_and_vendor_talk_in_their_thread_and_nobody_else_can(system, demo):
    vendor = system.login("vendor-za@buybrics.example")
    product = ok(vendor.post("/products", json=product_body(
        translations={"en": {"title": "Leather weekend bag"}}, category="bags", hs_code="420221",
        price={"amount": "1800.00", "currency": "ZAR"}, origin_country="ET")), 201)
    assert product["origin_country"] == "ET" and product["vendor"]["country"] == "ZA"
    shopper = system.login("shopper@buybrics.example")
    order = _order_from(system, shopper, product)
    assert [line["origin_country"] for line in order["lines"]] == ["ET"]
    (part,) = [p for p in order["vendor_orders"] if p["vendor_id"] == demo["vendors"]["ZA"]["id"]]
    thread = f"/vendor-orders/{part['id']}/messages"

    asked = ok(shopper.post(thread, json={"body": "Is it full-grain leather? Mail ana.souza@example.com or "
                                                  "call +55 11 91234-5621.", "locale": "en"}), 201)
    assert asked["body"] == "Is it full-grain leather? Mail a***@e***.com or call +55 ** *****-**21."
    assert asked["author_role"] == "shopper"
    answered = ok(vendor.post(thread, json={"body": "Yes. WhatsApp 021 555 0199 if you like.", "locale": "en"}), 201)
    assert answered["body"] == "Yes. WhatsApp *** *** **99 if you like." and answered["author_role"] == "vendor"

    for reader in (shopper, vendor, system.login("admin@buybrics.example")):
        page = ok(reader.get(thread))
        assert [(m["author_role"], m["body"]) for m in page["items"]] == [
            ("shopper", asked["body"]), ("vendor", answered["body"])]
    assert [m["author_role"] for m in ok(shopper.get(thread, params={"order": "newest"}))["items"]] == [
        "vendor", "shopper"]

    for outsider in (system.new_shopper(), system.login("vendor-in@buybrics.example")):
        assert_problem(outsider.get(thread), 404, "message_thread_not_found")
        assert_problem(outsider.post(thread, json={"body": "let me in", "locale": "en"}), 404)
    assert_problem(shopper.post(thread, json={"body": "", "locale": "en"}), 422, field="body")
    assert_problem(system.client().get(thread), 401)

    # both sides writing at once: every message is kept, once
    sent = parallel([lambda i=i, who=who: who.post(thread, json={"body": f"note {i}", "locale": "pt"})
                     for i, who in enumerate([shopper, vendor] * 4)])
    assert [r.status_code for r in sent] == [201] * 8
    bodies = sorted(m["body"] for m in ok(vendor.get(thread, params={"per_page": 100}))["items"])
    assert bodies == sorted([asked["body"], answered["body"]] + [f"note {i}" for i in range(8)])
