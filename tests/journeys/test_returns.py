"""A return over the real server: a shopper, a vendor and an operator take it from request to refund, and the
races that must let exactly one through (two returns for the same units, two receipts of the same goods)."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from tests.journeys.support import assert_problem, dec, ok, parallel, product_body, unique, verify_signature, \
    wait_until

ADDRESS = {"name": "Li Wei", "line1": "88 Century Avenue", "city": "Shanghai", "postal_code": "200120",
           "country": "CN"}
VENDOR_EMAIL = "vendor-za@buybrics.example"
WORKER_WAIT = 20


def _delivered_order(system, demo, shopper, quantity: int) -> tuple[dict, dict]:
    """A new rooibos product of the South African demo vendor, bought by `shopper` (paid, then delivered)."""
    vendor = system.login(VENDOR_EMAIL)
    product = ok(vendor.post("/products", json=product_body(
        sku=unique("ROOIBOS"), translations={"en": {"title": "Cederberg rooibos, 250 g"}},
        price={"amount": "95.00", "currency": "ZAR"}, stock=20)), 201)
    ok(shopper.post("/cart/items", json={"product_id": product["id"], "quantity": quantity}), 201)
    # an import to China: the buyer declares the identity customs counts its imports under (the payer's name)
    ok(shopper.put("/me/customs-identity", json={"name": ADDRESS["name"], "id_number": "310104198803150011"}))
    order = ok(shopper.post("/checkout", json={"currency": "CNY", "shipping_address": ADDRESS},
                            headers={"Idempotency-Key": unique("return-checkout")}), 201)["order"]
    ok(shopper.post(f"/orders/{order['id']}/payment/confirm"))
    (part,) = order["vendor_orders"]
    assert part["vendor_id"] == demo["vendors"]["ZA"]["id"]
    ok(vendor.post(f"/vendor/orders/{part['id']}/ship", json={"carrier": "BRICS Post", "tracking_number": "BP1"}))
    ok(vendor.post(f"/vendor/orders/{part['id']}/deliver"))
    return ok(shopper.get(f"/orders/{order['id']}")), vendor


def _ask(shopper, order: dict, quantity: int, key: str | None = None):
    (line,) = order["lines"]
    return shopper.post(f"/orders/{order['id']}/returns",
                        json={"vendor_order_id": line["vendor_order_id"], "resolution": "refund",
                              "lines": [{"order_line_id": line["id"], "quantity": quantity, "reason": "damaged"}],
                              "comment": "The tins arrived crushed"},
                        headers={"Idempotency-Key": key or unique("return")})


def _subscribe(system, key: str, path: str) -> str:
    events = ["return.requested", "return.refunded"]
    return ok(system.partner(key).post("/partner/webhooks", json={"url": system.receiver.url(path),
                                                                 "events": events}), 201)["secret"]


def test_a_shopper_vendor_and_operator_take_a_return_from_request_to_refund(system, demo):
    # the demo partner is authorized by the South African vendor; the other partner is not
    heard, unheard = f"/{unique('returns')}", f"/{unique('returns')}"
    # the other partner must not be authorized by the vendor (another journey may have granted it access)
    za = demo["vendors"]["ZA"]["id"]
    revoked = system.login(VENDOR_EMAIL).delete(f"/vendors/{za}/partners/{demo['other_partner']['id']}")
    assert revoked.status_code in (204, 404), revoked.text
    secret = _subscribe(system, system.demo_partner_key, heard)
    _subscribe(system, system.other_partner_key, unheard)
    shopper = system.new_shopper()
    order, vendor = _delivered_order(system, demo, shopper, 3)
    (line,) = order["lines"]
    ret = ok(_ask(shopper, order, 2), 201)
    # the two units as paid, and China's import VAT collected on them at checkout (pro rata to the goods)
    (part,) = order["vendor_orders"]
    goods = dec(line["unit_price"]) * 2
    owed = (goods + goods * dec(part["duties_collected"]) / dec(part["subtotal"])).quantize(Decimal("0.01"),
                                                                                           ROUND_HALF_UP)
    assert dec(part["duties_collected"]) > 0 and part["incoterm"] == "DDP"
    assert ret["status"] == "requested" and dec(ret["refund"]) == owed
    assert ret["refund"]["currency"] == "CNY"

    assert ret["id"] in [r["id"] for r in ok(vendor.get("/vendor/returns", params={"status": "requested"}))["items"]]
    assert ok(vendor.post(f"/returns/{ret['id']}/approve"))["status"] == "approved"
    shipped = ok(shopper.post(f"/returns/{ret['id']}/ship", json={"carrier": "China Post",
                                                                  "tracking_number": "RR987654321CN"}))
    assert shipped["status"] == "in_transit"
    done = ok(vendor.post(f"/returns/{ret['id']}/receive"))
    assert done["status"] == "refunded" and done["refunded"] == ret["refund"]
    assert [h["to_status"] for h in done["history"]] == ["requested", "approved", "in_transit", "received",
                                                         "refunded"]

    admin = system.login("admin@buybrics.example")
    seen = ok(admin.get(f"/returns/{ret['id']}"))
    assert seen["status"] == "refunded" and seen["refund_id"] == done["refund_id"]
    for viewer in (shopper, admin):
        shown = ok(viewer.get(f"/orders/{order['id']}"))
        assert shown["refunded"] == ret["refund"] and shown["status"] == "partially_refunded"
        assert [r["id"] for r in shown["refunds"]] == [done["refund_id"]]
    ledger = ok(vendor.get("/vendor/payouts", params={"per_page": 100}))["items"]
    assert any(e["kind"] == "refund" and e["reference"] == f"refund-{done['refund_id']}"
               and e["amount"]["currency"] == "ZAR" and dec(e["amount"]) < 0 for e in ledger)
    # someone else's shopper account sees nothing of it
    assert_problem(system.new_shopper().get(f"/returns/{ret['id']}"), 404, "return_not_found")

    # the vendor's partner hears of it, signed, without the shopper's details; a partner it never authorized
    # hears nothing
    def deliveries():
        got = [d for d in system.receiver.received(heard) if d.data.get("return_id") == ret["id"]]
        return got if {d.type for d in got} == {"return.requested", "return.refunded"} else None

    for delivery in wait_until(deliveries, WORKER_WAIT, 0.3, "return events at the vendor's partner"):
        assert verify_signature(secret, delivery.headers, delivery.body)
        assert delivery.data["vendor_order_id"] == line["vendor_order_id"]
        assert "Li Wei" not in delivery.body.decode() and "@" not in delivery.body.decode()
    assert system.receiver.received(unheard) == []


def test_two_returns_for_the_same_units_at_once_let_one_through(system, demo):
    shopper = system.new_shopper()
    order, _vendor = _delivered_order(system, demo, shopper, 2)
    responses = parallel([lambda: _ask(shopper, order, 2), lambda: _ask(shopper, order, 2),
                          lambda: _ask(shopper, order, 2)])
    assert sorted(r.status_code for r in responses)[0] == 201, [r.text for r in responses]
    assert [r.status_code for r in responses].count(201) == 1, [r.text for r in responses]
    for response in responses:
        if response.status_code != 201:
            assert_problem(response, (409, 422))
    assert ok(shopper.get("/returns"))["total"] == 1


def test_two_receipts_of_the_same_goods_refund_once(system, demo):
    shopper = system.new_shopper()
    order, vendor = _delivered_order(system, demo, shopper, 1)
    ret = ok(_ask(shopper, order, 1), 201)
    ok(vendor.post(f"/returns/{ret['id']}/approve"))
    ok(shopper.post(f"/returns/{ret['id']}/ship", json={"carrier": "China Post", "tracking_number": "RR1CN"}))
    responses = parallel([lambda: vendor.post(f"/returns/{ret['id']}/receive") for _ in range(3)])
    assert sorted(r.status_code for r in responses) == [200, 409, 409], [r.text for r in responses]
    shown = ok(shopper.get(f"/orders/{order['id']}"))
    assert len(shown["refunds"]) == 1 and shown["refunded"] == ret["refund"]
    # every unit back: the goods and their duties, not the shipping (the parcel was carried)
    assert dec(shown["refunded"]) == dec(order["total"]) - dec(order["shipping"])
    assert shown["status"] == "partially_refunded"
    assert Decimal(0) < dec(shown["refunded"])
