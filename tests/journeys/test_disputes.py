"""A dispute from start to refund over HTTP against the running system: a shopper in Soweto buys from a demo vendor,
the order is paid and delivered; the shopper opens a dispute, the vendor proposes, the shopper declines and
asks an operator in; the operator decides a refund, which the payment provider makes once and the shopper
sees on the order. Strangers see nothing of it; the race between an accepted proposal and a decision
(two gunicorn workers) executes one refund."""
from __future__ import annotations

from decimal import Decimal

from tests.journeys.support import assert_problem, dec, ok, parallel, unique

ADDRESS = {"name": "Thandi Nkosi", "line1": "14 Vilakazi Street", "city": "Soweto", "postal_code": "1804",
           "country": "ZA"}


def delivered_order(system, demo, shopper) -> tuple[dict, dict, object]:
    """An order of one new product of the demo Indian vendor, paid (manual provider) and delivered; gives the
    order, its vendor order and the vendor's client."""
    vendor = system.login(demo["vendors"]["IN"]["contact_email"])
    sku = unique("ODR").upper()[:40]
    product = ok(vendor.post("/products", json={
        "sku": sku, "translations": {"en": {"title": f"Block-printed cotton quilt {sku}"}},
        "price": {"amount": "4000.00", "currency": "INR"}, "stock": 5, "category": "handicrafts-home",
        "hs_code": "940490", "status": "active", "weight_g": 1800}), 201)
    ok(shopper.post("/cart/items", json={"product_id": product["id"], "quantity": 1}), 201)
    order = ok(shopper.post("/checkout", json={"currency": "ZAR", "shipping_address": ADDRESS},
                            headers={"Idempotency-Key": unique("checkout")}), 201)["order"]
    ok(shopper.post(f"/orders/{order['id']}/payment/confirm"))
    (part,) = order["vendor_orders"]
    ok(vendor.post(f"/vendor/orders/{part['id']}/ship", json={"carrier": "BRICS Post", "tracking_number": "BP42"}))
    ok(vendor.post(f"/vendor/orders/{part['id']}/deliver"))
    return order, part, vendor


def test_a_dispute_from_negotiation_through_an_operators_decision_to_a_refund_on_the_order(system, demo):
    shopper = system.new_shopper()
    admin = system.login("admin@buybrics.example")
    order, part, vendor = delivered_order(system, demo, shopper)
    claim = {"amount": part["subtotal"]["amount"], "currency": "ZAR"}

    body = {"vendor_order_id": part["id"], "type": "not_as_described", "claim": claim,
            "description": "The quilt is machine printed, not block printed."}
    key = {"Idempotency-Key": unique("dispute")}
    dispute = ok(shopper.post("/disputes", json=body, headers=key), 201)
    assert ok(shopper.post("/disputes", json=body, headers=key), 201)["id"] == dispute["id"]  # a retry
    assert dispute["stage"] == "negotiation" and dispute["rule"]["id"] == "DEFAULT-ODR-2026"
    assert dispute["acknowledge_by"] < dispute["resolve_by"]
    assert_problem(shopper.post("/disputes", json=body, headers={"Idempotency-Key": unique("dispute")}), 409,
                   "dispute_already_open")
    stranger = system.new_shopper()
    assert_problem(stranger.get(f"/disputes/{dispute['id']}"), 404, "dispute_not_found")
    assert dispute["id"] in [d["id"] for d in ok(vendor.get("/disputes", params={"status": "open"}))["items"]]

    half = str((dec(part["subtotal"]) / 2).quantize(Decimal("0.01")))
    offer = ok(vendor.post(f"/disputes/{dispute['id']}/proposals",
                           json={"refund": {"amount": half, "currency": "ZAR"}, "note": "Half back."}), 201)
    assert offer["acknowledged_at"] is not None
    proposal_id = offer["proposals"][-1]["id"]
    declined = ok(shopper.post(f"/disputes/{dispute['id']}/proposals/{proposal_id}/decline",
                               json={"reason": "I want all of it back."}))
    assert declined["proposals"][-1]["status"] == "declined"
    escalated = ok(shopper.post(f"/disputes/{dispute['id']}/escalate", json={"reason": "We cannot agree."}))
    assert escalated["stage"] == "facilitated"
    assert dispute["id"] in [d["id"] for d in ok(admin.get("/disputes", params={"status": "facilitated",
                                                                              "per_page": 100}))["items"]]

    decided = ok(admin.post(f"/disputes/{dispute['id']}/decision",
                            json={"refund": claim, "reasons": "The listing promised block printing."}))
    assert decided["stage"] == "closed" and decided["outcome"] == "decided"
    assert [h["action"] for h in decided["history"]] == ["opened", "proposal", "declined", "escalated", "decided",
                                                          "closed"]

    shown = ok(shopper.get(f"/orders/{order['id']}"))
    assert shown["status"] in ("refunded", "partially_refunded") and dec(shown["refunded"]) == dec(claim)
    (refund,) = shown["refunds"]
    assert refund["vendor_order_id"] == part["id"] and refund["status"] == "succeeded"
    assert dec(refund["amount"]) == dec(claim)
    assert_problem(admin.post(f"/disputes/{dispute['id']}/decision", json={"refund": None, "reasons": "Again."}),
                   409, "invalid_dispute_stage")
    thread = ok(shopper.get(f"/vendor-orders/{part['id']}/messages"))["items"]
    assert f"Dispute #{dispute['id']} was closed." in [m["body"] for m in thread]


def test_a_decision_racing_an_accepted_proposal_refunds_once(system, demo):
    shopper = system.new_shopper()
    admin = system.login("admin@buybrics.example")
    order, part, vendor = delivered_order(system, demo, shopper)
    dispute = ok(shopper.post("/disputes", headers={"Idempotency-Key": unique("dispute")}, json={
        "vendor_order_id": part["id"], "type": "damaged", "claim": {"amount": "100.00", "currency": "ZAR"},
        "description": "A corner is torn."}), 201)
    ok(vendor.post(f"/disputes/{dispute['id']}/escalate", json={}))
    offer = ok(vendor.post(f"/disputes/{dispute['id']}/proposals",
                           json={"refund": {"amount": "60.00", "currency": "ZAR"}}), 201)
    proposal_id = offer["proposals"][-1]["id"]

    accept, decide = parallel([
        lambda: shopper.post(f"/disputes/{dispute['id']}/proposals/{proposal_id}/accept", json={}),
        lambda: admin.post(f"/disputes/{dispute['id']}/decision",
                           json={"refund": {"amount": "90.00", "currency": "ZAR"}, "reasons": "Torn on arrival."}),
    ])

    assert sorted([accept.status_code, decide.status_code]) == [200, 409], (accept.text, decide.text)
    loser = accept if accept.status_code == 409 else decide
    assert loser.json()["current_stage"] == "closed"
    winner = (decide if loser is accept else accept).json()
    shown = ok(shopper.get(f"/orders/{order['id']}"))
    (refund,) = shown["refunds"]
    assert refund["amount"] == winner["refund"] and shown["refunded"] == winner["refund"]
