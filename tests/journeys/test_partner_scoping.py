"""Partners hear only what they may, on the running system: a partner whose keys are all revoked
hears nothing more, while a partner that still holds a key keeps hearing about the same order."""
from __future__ import annotations

import time

from tests.journeys.support import ok, product_body, unique, verify_signature, wait_until

ADDRESS = {"name": "Lerato Dlamini", "line1": "5 Bree Street", "city": "Cape Town", "postal_code": "8001",
           "country": "ZA"}


def test_a_partner_whose_keys_are_all_revoked_receives_no_more_events(system, demo):
    created = system.flask("partners", "create", "--name", unique("Revoked ERP"))
    key = created.strip().splitlines()[-1].strip()
    revoked = system.partner(key)
    revoked_id = ok(revoked.get("/partner/me"))["id"]
    za = demo["vendors"]["ZA"]["id"]
    owner = system.login("vendor-za@buybrics.example")
    ok(owner.post(f"/vendors/{za}/partners", json={"partner_id": revoked_id}), 201)
    events = ["order.created", "order.paid"]
    gone_path, kept_path = f"/{unique('revoked')}", f"/{unique('kept')}"
    ok(revoked.post("/partner/webhooks", json={"url": system.receiver.url(gone_path), "events": events}), 201)
    kept = ok(system.partner(system.demo_partner_key).post(
        "/partner/webhooks", json={"url": system.receiver.url(kept_path), "events": events}), 201)

    system.flask("partners", "keys", "revoke", "--prefix", key[:12])
    assert revoked.get("/partner/me").status_code == 401

    product = ok(owner.post("/products", json=product_body(price={"amount": "95.00", "currency": "ZAR"})), 201)
    shopper = system.new_shopper()
    ok(shopper.post("/cart/items", json={"product_id": product["id"], "quantity": 1}), 201)
    order = ok(shopper.post("/checkout", json={"currency": "ZAR", "shipping_address": ADDRESS},
                            headers={"Idempotency-Key": unique("scoping")}), 201)["order"]

    heard = wait_until(lambda: [d for d in system.receiver.received(kept_path, "order.created")
                                if d.data.get("order_id") == order["id"]], 20, 0.3,
                       "the partner holding a key hears of the order")
    assert verify_signature(kept["secret"], heard[0].headers, heard[0].body)
    time.sleep(2)  # the worker's next passes, for anything queued for the revoked partner
    assert system.receiver.received(gone_path) == [], [d.event for d in system.receiver.received(gone_path)]
