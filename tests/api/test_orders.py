"""Orders after checkout through the HTTP API: reading, cancelling, paying (manual provider), reservations
that expire, vendor fulfilment, refunds and the vendors' payout ledger."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from marketplace.kernel import clock
from tests.api.test_checkout import (
    ORDERS,
    PAYOUTS,
    VENDOR_ORDERS,
    Market,
    buy,
    confirm_payment,
    dec,
)
from tests.api.test_products import assert_problem


@pytest.fixture
def market(make, client) -> Market:
    return Market(make, client)


def get_order(client, user: dict, order_id: int) -> dict:
    response = client.get(f"{ORDERS}/{order_id}", headers=user["headers"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def part_of(order: dict, vendor: dict) -> dict:
    return next(part for part in order["vendor_orders"] if part["vendor_id"] == vendor["id"])


def ship(client, vendor: dict, vendor_order_id: int, carrier: str = "Correios", tracking: str = "BR123456789CN"):
    return client.post(f"{VENDOR_ORDERS}/{vendor_order_id}/ship", json={"carrier": carrier, "tracking_number": tracking},
                       headers=vendor["owner"]["headers"])


def deliver(client, vendor: dict, vendor_order_id: int):
    return client.post(f"{VENDOR_ORDERS}/{vendor_order_id}/deliver", headers=vendor["owner"]["headers"])


def refund(client, admin: dict, order_id: int, **body):
    return client.post(f"{ORDERS}/{order_id}/refunds", json=body, headers=admin["headers"])


def payouts(client, vendor: dict) -> dict:
    response = client.get(PAYOUTS, headers=vendor["owner"]["headers"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def balance(ledger: dict, currency: str) -> Decimal:
    return sum((dec(b) for b in ledger["balances"] if b["currency"] == currency), Decimal(0))


@pytest.fixture
def paid_order(market, client) -> dict:
    """A paid order in reais: 2 Pu'er cakes (CN vendor) and a pashmina shawl (IN vendor)."""
    order = buy(client, market.shopper, [(market.tea, 2), (market.shawl, 1)], currency="BRL")
    return confirm_payment(client, market.shopper, order["id"])


# -- reading orders -------------------------------------------------------------------

def test_a_shopper_lists_their_own_orders_newest_first(market, make, client):
    first = buy(client, market.shopper, [(market.tea, 1)])
    second = buy(client, market.shopper, [(market.shawl, 1)])
    other = make.user("shopper")
    buy(client, other, [(market.tea, 1)])

    response = client.get(ORDERS, headers=market.shopper["headers"])
    page = response.get_json()
    assert page["total"] == 2 and [o["id"] for o in page["items"]] == [second["id"], first["id"]]
    assert page["items"][0]["lines"][0]["product_id"] == market.shawl["id"]


def test_a_shopper_reads_one_of_their_orders(market, client):
    order = buy(client, market.shopper, [(market.tea, 2), (market.shawl, 1)])
    shown = get_order(client, market.shopper, order["id"])
    assert shown == order


def test_another_shoppers_order_is_not_found(market, make, client):
    order = buy(client, market.shopper, [(market.tea, 1)])
    intruder = make.user("shopper")
    assert_problem(client.get(f"{ORDERS}/{order['id']}", headers=intruder["headers"]), 404, "order_not_found")
    assert_problem(client.post(f"{ORDERS}/{order['id']}/cancel", headers=intruder["headers"]), 404, "order_not_found")
    assert_problem(client.post(f"{ORDERS}/{order['id']}/payment/confirm", headers=intruder["headers"]),
                   404, "order_not_found")
    assert get_order(client, market.shopper, order["id"])["status"] == "awaiting_payment"
    assert_problem(client.get(f"{ORDERS}/999999", headers=market.shopper["headers"]), 404, "order_not_found")


def test_an_admin_can_read_any_order(market, client):
    order = buy(client, market.shopper, [(market.tea, 1)])
    assert get_order(client, market.admin, order["id"])["id"] == order["id"]


def test_a_vendor_cannot_read_shopper_orders(market, client):
    order = buy(client, market.shopper, [(market.tea, 1)])
    assert_problem(client.get(f"{ORDERS}/{order['id']}", headers=market.tea_vendor["owner"]["headers"]), 403)
    assert_problem(client.get(ORDERS), 401)


# -- paying (manual provider) -----------------------------------------------------------

def test_confirming_a_manual_payment_pays_the_order_and_keeps_the_stock_sold(market, client):
    order = buy(client, market.shopper, [(market.tea, 2), (market.shawl, 1)])
    paid = confirm_payment(client, market.shopper, order["id"])

    assert paid["status"] == "paid" and paid["paid_at"] is not None
    assert paid["payment"]["status"] == "succeeded"
    assert {part["status"] for part in paid["vendor_orders"]} == {"paid"}
    assert paid["total"] == order["total"] and paid["lines"] == order["lines"]
    assert market.stock(market.tea) == 8 and market.stock(market.shawl) == 2


def test_a_paid_order_cannot_be_confirmed_again(market, client, paid_order):
    response = client.post(f"{ORDERS}/{paid_order['id']}/payment/confirm", headers=market.shopper["headers"])
    assert_problem(response, 409, "invalid_order_state")
    ledger = payouts(client, market.tea_vendor)
    assert len(ledger["items"]) == 1  # credited once


def test_a_cancelled_order_cannot_be_paid(market, client):
    order = buy(client, market.shopper, [(market.tea, 1)])
    client.post(f"{ORDERS}/{order['id']}/cancel", headers=market.shopper["headers"])
    response = client.post(f"{ORDERS}/{order['id']}/payment/confirm", headers=market.shopper["headers"])
    assert_problem(response, 409, "invalid_order_state")
    assert market.stock(market.tea) == 10


def test_manual_confirmation_does_not_exist_with_the_stripe_provider(market, client, app, monkeypatch):
    order = buy(client, market.shopper, [(market.tea, 1)])
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER", "stripe")
    response = client.post(f"{ORDERS}/{order['id']}/payment/confirm", headers=market.shopper["headers"])
    assert_problem(response, 404)
    monkeypatch.undo()
    assert get_order(client, market.shopper, order["id"])["status"] == "awaiting_payment"


# -- cancelling and reservations ------------------------------------------------------------

def test_cancelling_an_unpaid_order_returns_its_stock(market, client):
    order = buy(client, market.shopper, [(market.tea, 4), (market.shawl, 3)])
    assert market.stock(market.tea) == 6 and market.stock(market.shawl) == 0

    response = client.post(f"{ORDERS}/{order['id']}/cancel", headers=market.shopper["headers"])
    assert response.status_code == 200, response.get_json()
    cancelled = response.get_json()
    assert cancelled["status"] == "cancelled" and cancelled["cancelled_at"] is not None
    assert {part["status"] for part in cancelled["vendor_orders"]} == {"cancelled"}
    assert cancelled["payment"]["status"] == "canceled"
    assert market.stock(market.tea) == 10 and market.stock(market.shawl) == 3


def test_a_cancelled_order_cannot_be_cancelled_twice(market, client):
    order = buy(client, market.shopper, [(market.tea, 4)])
    client.post(f"{ORDERS}/{order['id']}/cancel", headers=market.shopper["headers"])
    assert_problem(client.post(f"{ORDERS}/{order['id']}/cancel", headers=market.shopper["headers"]),
                   409, "invalid_order_state")
    assert market.stock(market.tea) == 10  # returned once


def test_a_paid_order_cannot_be_cancelled(market, client, paid_order):
    response = client.post(f"{ORDERS}/{paid_order['id']}/cancel", headers=market.shopper["headers"])
    body = assert_problem(response, 409, "invalid_order_state")
    assert body["current_status"] == "paid"
    assert get_order(client, market.shopper, paid_order["id"])["status"] == "paid"
    assert market.stock(market.tea) == 8


def test_an_unpaid_orders_reservation_expires_and_returns_the_stock(market, client, runner, app):
    start = clock.now()
    clock.freeze(start)
    order = buy(client, market.shopper, [(market.tea, 3), (market.shawl, 2)])
    reserved_until = datetime.fromisoformat(order["reserved_until"])
    assert reserved_until == start + timedelta(minutes=app.config["RESERVATION_MINUTES"])

    clock.freeze(start + timedelta(minutes=29))
    runner.invoke(args=["worker", "--once"])
    assert get_order(client, market.shopper, order["id"])["status"] == "awaiting_payment"
    assert market.stock(market.tea) == 7

    clock.freeze(start + timedelta(minutes=31))
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    expired = get_order(client, market.shopper, order["id"])
    assert expired["status"] == "cancelled" and expired["failure_reason"] == "reservation expired"
    assert market.stock(market.tea) == 10 and market.stock(market.shawl) == 3
    # an expired order can no longer be paid
    assert_problem(client.post(f"{ORDERS}/{order['id']}/payment/confirm", headers=market.shopper["headers"]),
                   409, "invalid_order_state")


def test_the_reservation_time_is_configurable(market, client, app, monkeypatch):
    monkeypatch.setitem(app.config, "RESERVATION_MINUTES", 5)
    start = clock.now()
    clock.freeze(start)
    order = buy(client, market.shopper, [(market.tea, 1)])
    assert datetime.fromisoformat(order["reserved_until"]) == start + timedelta(minutes=5)


def test_a_paid_order_keeps_its_stock_after_the_reservation_time(market, client, runner):
    start = clock.now()
    clock.freeze(start)
    order = buy(client, market.shopper, [(market.tea, 3)])
    confirm_payment(client, market.shopper, order["id"])
    clock.freeze(start + timedelta(minutes=45))
    runner.invoke(args=["worker", "--once"])
    assert get_order(client, market.shopper, order["id"])["status"] == "paid"
    assert market.stock(market.tea) == 7


# -- vendor orders: listing and fulfilment -----------------------------------------------------

def test_a_vendor_sees_only_its_own_vendor_orders(market, client, paid_order):
    response = client.get(VENDOR_ORDERS, headers=market.tea_vendor["owner"]["headers"])
    assert response.status_code == 200, response.get_json()
    page = response.get_json()
    assert page["total"] == 1
    (mine,) = page["items"]
    assert mine["vendor_id"] == market.tea_vendor["id"] and mine["order_id"] == paid_order["id"]
    assert [line["product_id"] for line in mine["lines"]] == [market.tea["id"]]
    assert mine["vendor_subtotal"]["currency"] == "CNY"
    shawl_page = client.get(VENDOR_ORDERS, headers=market.shawl_vendor["owner"]["headers"]).get_json()
    assert [v["vendor_id"] for v in shawl_page["items"]] == [market.shawl_vendor["id"]]
    assert [line["product_id"] for line in shawl_page["items"][0]["lines"]] == [market.shawl["id"]]


def test_vendor_orders_can_be_filtered_by_status(market, client, paid_order):
    buy(client, market.shopper, [(market.tea, 1)])  # a second, unpaid one
    headers = market.tea_vendor["owner"]["headers"]
    everything = client.get(VENDOR_ORDERS, headers=headers).get_json()
    assert everything["total"] == 2
    paid = client.get(VENDOR_ORDERS, query_string={"status": "paid"}, headers=headers).get_json()
    assert [v["order_id"] for v in paid["items"]] == [paid_order["id"]]
    assert_problem(client.get(VENDOR_ORDERS, query_string={"status": "lost"}, headers=headers), 422,
                   field="status")


def test_vendor_orders_are_for_vendors_only(market, make, client):
    assert_problem(client.get(VENDOR_ORDERS, headers=market.shopper["headers"]), 403)
    no_profile = make.user("vendor")
    assert_problem(client.get(VENDOR_ORDERS, headers=no_profile["headers"]), 403, "no_vendor_profile")


def test_a_vendor_ships_and_delivers_its_part_and_the_order_completes_when_all_parts_are_delivered(
        market, client, paid_order):
    tea_part, shawl_part = part_of(paid_order, market.tea_vendor), part_of(paid_order, market.shawl_vendor)

    response = ship(client, market.tea_vendor, tea_part["id"], "China Post", "LX123456789CN")
    assert response.status_code == 200, response.get_json()
    shipped = response.get_json()
    assert shipped["status"] == "shipped" and shipped["carrier"] == "China Post"
    assert shipped["tracking_number"] == "LX123456789CN" and shipped["shipped_at"] is not None

    delivered = deliver(client, market.tea_vendor, tea_part["id"]).get_json()
    assert delivered["status"] == "delivered" and delivered["delivered_at"] is not None
    assert get_order(client, market.shopper, paid_order["id"])["status"] == "paid"  # the shawl is on its way

    assert ship(client, market.shawl_vendor, shawl_part["id"]).status_code == 200
    assert deliver(client, market.shawl_vendor, shawl_part["id"]).status_code == 200
    order = get_order(client, market.shopper, paid_order["id"])
    assert order["status"] == "completed"
    assert {(p["status"], p["carrier"]) for p in order["vendor_orders"]} == {
        ("delivered", "China Post"), ("delivered", "Correios")}


def test_an_unpaid_vendor_order_cannot_be_shipped(market, client):
    order = buy(client, market.shopper, [(market.tea, 1)])
    body = assert_problem(ship(client, market.tea_vendor, order["vendor_orders"][0]["id"]), 409, "invalid_order_state")
    assert body["current_status"] == "awaiting_payment"


def test_a_vendor_order_must_be_shipped_before_it_is_delivered_and_only_once(market, client, paid_order):
    tea_part = part_of(paid_order, market.tea_vendor)
    assert_problem(deliver(client, market.tea_vendor, tea_part["id"]), 409, "invalid_order_state")
    assert ship(client, market.tea_vendor, tea_part["id"]).status_code == 200
    assert_problem(ship(client, market.tea_vendor, tea_part["id"]), 409, "invalid_order_state")
    assert deliver(client, market.tea_vendor, tea_part["id"]).status_code == 200
    assert_problem(deliver(client, market.tea_vendor, tea_part["id"]), 409, "invalid_order_state")


def test_another_vendors_order_cannot_be_shipped_or_delivered(market, client, paid_order):
    shawl_part = part_of(paid_order, market.shawl_vendor)
    assert_problem(ship(client, market.tea_vendor, shawl_part["id"]), 404, "vendor_order_not_found")
    assert ship(client, market.shawl_vendor, shawl_part["id"]).status_code == 200
    assert_problem(deliver(client, market.tea_vendor, shawl_part["id"]), 404, "vendor_order_not_found")
    assert_problem(ship(client, market.tea_vendor, 999999), 404, "vendor_order_not_found")


def test_shipping_needs_a_carrier_and_a_tracking_number(market, client, paid_order):
    tea_part = part_of(paid_order, market.tea_vendor)
    response = client.post(f"{VENDOR_ORDERS}/{tea_part['id']}/ship", json={"carrier": "China Post"},
                           headers=market.tea_vendor["owner"]["headers"])
    assert_problem(response, 422, "validation_error", field="tracking_number")
    assert_problem(client.post(f"{VENDOR_ORDERS}/{tea_part['id']}/ship",
                               json={"carrier": "", "tracking_number": "X1"},
                               headers=market.tea_vendor["owner"]["headers"]), 422, field="carrier")


def test_a_shopper_cannot_ship(market, client, paid_order):
    tea_part = part_of(paid_order, market.tea_vendor)
    response = client.post(f"{VENDOR_ORDERS}/{tea_part['id']}/ship", json={"carrier": "c", "tracking_number": "t"},
                           headers=market.shopper["headers"])
    assert_problem(response, 403)


# -- payouts ---------------------------------------------------------------------------------

def test_paying_an_order_credits_each_vendors_net_to_its_payout_ledger_in_its_currency(market, client, paid_order):
    for vendor, currency in ((market.tea_vendor, "CNY"), (market.shawl_vendor, "INR")):
        part = part_of(paid_order, vendor)
        ledger = payouts(client, vendor)
        (entry,) = ledger["items"]
        assert entry["kind"] == "credit" and entry["vendor_order_id"] == part["id"]
        assert entry["amount"] == part["net"] and entry["amount"]["currency"] == currency
        assert entry["status"] == "pending"
        assert ledger["balances"] == [part["net"]]


def test_an_unpaid_order_credits_nothing(market, client):
    buy(client, market.shopper, [(market.tea, 1)])
    ledger = payouts(client, market.tea_vendor)
    assert ledger["items"] == [] and ledger["balances"] == [] and ledger["total"] == 0


def test_a_vendor_sees_only_its_own_payout_entries(market, make, client, paid_order):
    other = make.vendor("ZA")
    assert payouts(client, other)["items"] == []
    assert all(e["vendor_order_id"] == part_of(paid_order, market.tea_vendor)["id"]
               for e in payouts(client, market.tea_vendor)["items"])
    assert_problem(client.get(PAYOUTS, headers=market.shopper["headers"]), 403)


def test_the_manual_provider_never_marks_a_payout_transferred(market, client):
    """Even for a vendor with a Stripe account: manual payouts are settled by hand, nothing was sent."""
    response = client.patch(f"/api/v1/vendors/{market.tea_vendor['id']}", json={"stripe_account_id": "acct_123"},
                            headers=market.tea_vendor["owner"]["headers"])
    assert response.status_code == 200, response.get_json()
    approved = client.post(f"/api/v1/vendors/{market.tea_vendor['id']}/approve", json={},
                           headers=market.admin["headers"])           # a new payout account is reviewed first
    assert approved.status_code == 200, approved.get_json()
    confirm_payment(client, market.shopper, buy(client, market.shopper, [(market.tea, 1)])["id"])
    (entry,) = payouts(client, market.tea_vendor)["items"]
    assert entry["status"] == "pending" and entry["transfer_ref"] is None


def test_payouts_add_up_over_several_orders(market, make, client):
    first = confirm_payment(client, market.shopper, buy(client, market.shopper, [(market.shawl, 1)], "INR")["id"])
    other = make.user("shopper")
    second = confirm_payment(client, other, buy(client, other, [(market.shawl, 2)], "BRL")["id"])
    ledger = payouts(client, market.shawl_vendor)
    assert ledger["total"] == 2
    expected = dec(first["vendor_orders"][0]["net"]) + dec(second["vendor_orders"][0]["net"])
    assert balance(ledger, "INR") == expected


# -- refunds -----------------------------------------------------------------------------------

def test_refunding_a_whole_order_refunds_everything_and_debits_each_vendor(market, client, paid_order):
    response = refund(client, market.admin, paid_order["id"], reason="Parcel lost")
    assert response.status_code == 201, response.get_json()
    row = response.get_json()
    assert row["amount"] == paid_order["total"] and row["status"] == "succeeded" and row["vendor_order_id"] is None

    order = get_order(client, market.shopper, paid_order["id"])
    assert order["status"] == "refunded" and order["refunded"] == order["total"]
    assert {p["status"] for p in order["vendor_orders"]} == {"refunded"}
    assert [r["id"] for r in order["refunds"]] == [row["id"]]
    for vendor, currency in ((market.tea_vendor, "CNY"), (market.shawl_vendor, "INR")):
        ledger = payouts(client, vendor)
        kinds = {e["kind"]: e for e in ledger["items"]}
        assert set(kinds) == {"credit", "refund"}
        assert dec(kinds["refund"]["amount"]) < 0 and kinds["refund"]["amount"]["currency"] == currency
        assert balance(ledger, currency) == 0  # a full refund takes back exactly the net credited


def test_refunding_one_vendor_order_partially_refunds_the_order(market, client, paid_order):
    shawl_part = part_of(paid_order, market.shawl_vendor)
    response = refund(client, market.admin, paid_order["id"], vendor_order_id=shawl_part["id"])
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["amount"] == shawl_part["total"]  # what was paid for the part: goods, shipping, duties
    parts = response.get_json()["parts"]
    assert parts["goods"] == shawl_part["subtotal"] and parts["shipping"] == shawl_part["shipping"]
    assert parts["duties_and_taxes"] == shawl_part["duties_collected"]

    order = get_order(client, market.shopper, paid_order["id"])
    assert order["status"] == "partially_refunded" and order["refunded"] == shawl_part["total"]
    assert part_of(order, market.shawl_vendor)["status"] == "refunded"
    assert part_of(order, market.tea_vendor)["status"] == "paid"
    assert balance(payouts(client, market.shawl_vendor), "INR") == 0
    assert balance(payouts(client, market.tea_vendor), "CNY") == dec(part_of(order, market.tea_vendor)["net"])
    # the rest can still be refunded, and then the order is refunded
    assert refund(client, market.admin, paid_order["id"]).get_json()["amount"] == part_of(order, market.tea_vendor)[
        "total"]
    order = get_order(client, market.shopper, paid_order["id"])
    assert order["status"] == "refunded" and {p["status"] for p in order["vendor_orders"]} == {"refunded"}
    assert balance(payouts(client, market.tea_vendor), "CNY") == 0


def test_a_refund_can_never_exceed_what_was_paid(market, client, paid_order):
    total = dec(paid_order["total"])
    over = refund(client, market.admin, paid_order["id"], amount={"amount": str(total + Decimal("0.01")),
                                                                  "currency": "BRL"})
    assert_problem(over, 422, "refund_exceeds_paid", field="amount")
    assert get_order(client, market.shopper, paid_order["id"])["status"] == "paid"


def test_two_partial_refunds_then_a_third_beyond_what_is_left_is_refused(market, client, paid_order):
    total = dec(paid_order["total"])
    first, second = Decimal("100.00"), Decimal("50.00")
    assert refund(client, market.admin, paid_order["id"], amount={"amount": str(first), "currency": "BRL"}
                  ).status_code == 201
    assert get_order(client, market.shopper, paid_order["id"])["status"] == "partially_refunded"
    assert refund(client, market.admin, paid_order["id"], amount={"amount": str(second), "currency": "BRL"}
                  ).status_code == 201
    left = total - first - second
    beyond = refund(client, market.admin, paid_order["id"], amount={"amount": str(left + Decimal("0.01")),
                                                                    "currency": "BRL"})
    assert_problem(beyond, 422, "refund_exceeds_paid")
    order = get_order(client, market.shopper, paid_order["id"])
    assert dec(order["refunded"]) == first + second and order["status"] == "partially_refunded"
    assert len(order["refunds"]) == 2
    # exactly what is left is fine
    assert refund(client, market.admin, paid_order["id"], amount={"amount": str(left), "currency": "BRL"}
                  ).status_code == 201
    assert get_order(client, market.shopper, paid_order["id"])["status"] == "refunded"
    assert_problem(refund(client, market.admin, paid_order["id"]), 409, "invalid_order_state")


def test_a_vendor_order_refund_is_capped_at_that_vendors_part(market, client, paid_order):
    shawl_part = part_of(paid_order, market.shawl_vendor)
    response = refund(client, market.admin, paid_order["id"], vendor_order_id=shawl_part["id"],
                      amount={"amount": str(dec(shawl_part["total"]) + Decimal("0.01")), "currency": "BRL"})
    assert_problem(response, 422, "refund_exceeds_paid")


def test_a_partial_refund_debits_the_vendors_payouts_pro_rata(market, client, paid_order):
    tea_part = part_of(paid_order, market.tea_vendor)
    half = (dec(tea_part["total"]) / 2).quantize(Decimal("0.01"))  # half of what was paid for the part
    response = refund(client, market.admin, paid_order["id"], vendor_order_id=tea_part["id"],
                      amount={"amount": str(half), "currency": "BRL"})
    assert response.status_code == 201
    ledger = payouts(client, market.tea_vendor)
    debit = next(e for e in ledger["items"] if e["kind"] == "refund")
    assert dec(debit["amount"]) < 0
    assert abs(-dec(debit["amount"]) - dec(tea_part["net"]) / 2) <= Decimal("0.02")
    assert part_of(get_order(client, market.shopper, paid_order["id"]), market.tea_vendor)["status"] == "paid"


def test_a_whole_order_refund_after_one_vendor_was_refunded_refunds_the_other_vendor_completely(
        market, client, paid_order):
    """What is left is refunded from the vendor orders that still have something to refund."""
    tea_part, shawl_part = part_of(paid_order, market.tea_vendor), part_of(paid_order, market.shawl_vendor)
    assert refund(client, market.admin, paid_order["id"], vendor_order_id=shawl_part["id"]).status_code == 201
    assert refund(client, market.admin, paid_order["id"]).status_code == 201

    order = get_order(client, market.shopper, paid_order["id"])
    assert order["status"] == "refunded"
    assert part_of(order, market.tea_vendor)["refunded"] == tea_part["total"]
    assert part_of(order, market.tea_vendor)["status"] == "refunded"
    assert balance(payouts(client, market.tea_vendor), "CNY") == 0
    assert balance(payouts(client, market.shawl_vendor), "INR") == 0


def test_refunds_sum_over_vendor_orders_to_the_order_refund(market, client, paid_order):
    refund(client, market.admin, paid_order["id"], amount={"amount": "123.45", "currency": "BRL"})
    refund(client, market.admin, paid_order["id"], vendor_order_id=part_of(paid_order, market.tea_vendor)["id"],
           amount={"amount": "10.00", "currency": "BRL"})
    order = get_order(client, market.shopper, paid_order["id"])
    assert sum(dec(p["refunded"]) for p in order["vendor_orders"]) == dec(order["refunded"]) == Decimal("133.45")


def test_refunds_are_in_the_orders_currency(market, client, paid_order):
    response = refund(client, market.admin, paid_order["id"], amount={"amount": "10.00", "currency": "INR"})
    assert_problem(response, 422, "refund_exceeds_paid")


def test_an_unpaid_order_cannot_be_refunded(market, client):
    order = buy(client, market.shopper, [(market.tea, 1)])
    assert_problem(refund(client, market.admin, order["id"]), 409, "invalid_order_state")


def test_a_vendor_order_of_another_order_cannot_be_refunded_through_this_one(market, make, client, paid_order):
    other = make.user("shopper")
    other_order = confirm_payment(client, other, buy(client, other, [(market.tea, 1)])["id"])
    response = refund(client, market.admin, paid_order["id"], vendor_order_id=other_order["vendor_orders"][0]["id"])
    assert_problem(response, 422, "vendor_order_not_found", field="vendor_order_id")


def test_only_admins_refund(market, client, paid_order):
    assert_problem(refund(client, market.shopper, paid_order["id"]), 403)
    assert_problem(refund(client, market.tea_vendor["owner"], paid_order["id"]), 403)
    assert get_order(client, market.shopper, paid_order["id"])["status"] == "paid"


def test_a_refund_of_a_completed_order_partially_refunds_it(market, client, paid_order):
    for vendor in (market.tea_vendor, market.shawl_vendor):
        part = part_of(paid_order, vendor)
        ship(client, vendor, part["id"])
        deliver(client, vendor, part["id"])
    assert get_order(client, market.shopper, paid_order["id"])["status"] == "completed"
    assert refund(client, market.admin, paid_order["id"], amount={"amount": "5.00", "currency": "BRL"}
                  ).status_code == 201
    assert get_order(client, market.shopper, paid_order["id"])["status"] == "partially_refunded"
