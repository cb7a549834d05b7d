"""Order state changes through the HTTP API: each one starts from a state it checks on the order as it is when
the change gets the order's lock, and a change that cannot happen any more is a 409 problem naming the state
found (`code` invalid_order_state, `current_status`), never a 200 that did nothing.

The "meanwhile" tests change the order in another connection just before the request takes the lock, as a
concurrent request on another worker would (the race tests in tests/integration run real threads).
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from marketplace.kernel import clock
from marketplace.checkout import orders
from marketplace.kernel.extensions import db
from tests.api.test_checkout import ORDERS, Market, buy, confirm_payment, dec, post_checkout
from tests.api.test_orders import deliver, get_order, part_of, payouts, refund, ship
from tests.api.test_products import assert_problem


@pytest.fixture
def market(make, client) -> Market:
    return Market(make, client)


@pytest.fixture
def paid_order(market, client) -> dict:
    order = buy(client, market.shopper, [(market.tea, 2), (market.shawl, 1)])
    return confirm_payment(client, market.shopper, order["id"])


def confirm(client, shopper: dict, order_id: int):
    return client.post(f"{ORDERS}/{order_id}/payment/confirm", headers=shopper["headers"])


def cancel(client, shopper: dict, order_id: int):
    return client.post(f"{ORDERS}/{order_id}/cancel", headers=shopper["headers"])


def state_conflict(response, current_status: str) -> dict:
    body = assert_problem(response, 409, "invalid_order_state")
    assert body["current_status"] == current_status, body
    assert body["title"] and body["type"]
    return body


@pytest.fixture
def meanwhile(monkeypatch):
    """`meanwhile(*statements)`: the next time a request takes an order's lock, `statements` (SQL, with the
    order's id as :id) are committed by another connection first, after whatever the request read before."""

    def arrange(*statements: str) -> None:
        real = orders.locked_order
        done = []

        def changed_first(session, order_id):
            if not done:
                done.append(order_id)
                session.commit()  # what the request read so far stays read; its transaction ends here
                with db.engine.begin() as other:
                    for statement in statements:
                        other.execute(text(statement), {"id": order_id})
            return real(session, order_id)

        monkeypatch.setattr(orders, "locked_order", changed_first)

    return arrange


CANCELLED = ("UPDATE orders SET status = 'cancelled' WHERE id = :id",
             "UPDATE vendor_orders SET status = 'cancelled' WHERE order_id = :id")
PAID = ("UPDATE orders SET status = 'paid' WHERE id = :id",
        "UPDATE vendor_orders SET status = 'paid' WHERE order_id = :id")


# -- paying ------------------------------------------------------------------------------------------------------

def test_confirming_an_order_cancelled_meanwhile_is_a_409_and_pays_nothing(market, client, meanwhile):
    order = buy(client, market.shopper, [(market.tea, 2)])
    meanwhile(*CANCELLED)

    state_conflict(confirm(client, market.shopper, order["id"]), "cancelled")

    shown = get_order(client, market.shopper, order["id"])
    assert shown["status"] == "cancelled" and shown["paid_at"] is None
    assert shown["payment"]["status"] == "requires_payment"
    assert payouts(client, market.tea_vendor)["items"] == []


def test_confirming_an_order_paid_meanwhile_is_a_409_and_credits_nothing_more(market, client, meanwhile):
    order = buy(client, market.shopper, [(market.tea, 1)])
    meanwhile(*PAID)  # e.g. the provider's success event, applied by another worker

    state_conflict(confirm(client, market.shopper, order["id"]), "paid")
    assert payouts(client, market.tea_vendor)["items"] == []  # this request credited nothing


def test_confirming_an_order_whose_reservation_expired_is_a_409(market, client, runner, app):
    start = clock.now()
    clock.freeze(start)
    order = buy(client, market.shopper, [(market.tea, 3)])
    clock.freeze(start + timedelta(minutes=app.config["RESERVATION_MINUTES"] + 1))
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0

    state_conflict(confirm(client, market.shopper, order["id"]), "cancelled")
    assert market.stock(market.tea) == 10


def test_another_shoppers_order_cannot_be_confirmed_or_cancelled(market, make, client):
    order = buy(client, market.shopper, [(market.tea, 1)])
    stranger = make.user("shopper")
    assert_problem(confirm(client, stranger, order["id"]), 404, "order_not_found")
    assert_problem(cancel(client, stranger, order["id"]), 404, "order_not_found")
    assert get_order(client, market.shopper, order["id"])["status"] == "awaiting_payment"


# -- cancelling --------------------------------------------------------------------------------------------------

def test_cancelling_an_order_paid_meanwhile_is_a_409_and_keeps_the_stock_sold(market, client, meanwhile):
    order = buy(client, market.shopper, [(market.tea, 2)])
    meanwhile(*PAID)

    state_conflict(cancel(client, market.shopper, order["id"]), "paid")

    assert get_order(client, market.shopper, order["id"])["status"] == "paid"
    assert market.stock(market.tea) == 8


def test_cancelling_an_order_cancelled_meanwhile_is_a_409_and_gives_no_stock_back_again(market, client, meanwhile):
    order = buy(client, market.shopper, [(market.tea, 2)])
    meanwhile(*CANCELLED)  # (the other cancellation's stock is not given back by this SQL)

    state_conflict(cancel(client, market.shopper, order["id"]), "cancelled")
    assert market.stock(market.tea) == 8


# -- shipping ----------------------------------------------------------------------------------------------------

def test_shipping_a_vendor_order_refunded_meanwhile_is_a_409(market, client, paid_order, meanwhile):
    tea_part = part_of(paid_order, market.tea_vendor)
    meanwhile(f"UPDATE vendor_orders SET status = 'refunded' WHERE id = {int(tea_part['id'])}")

    state_conflict(ship(client, market.tea_vendor, tea_part["id"]), "refunded")
    assert part_of(get_order(client, market.shopper, paid_order["id"]), market.tea_vendor)["shipped_at"] is None


def test_shipping_a_vendor_order_shipped_meanwhile_is_a_409_and_keeps_the_first_tracking(market, client, paid_order,
                                                                                       meanwhile):
    tea_part = part_of(paid_order, market.tea_vendor)
    meanwhile(f"UPDATE vendor_orders SET status = 'shipped', tracking_number = 'FIRST1' "
              f"WHERE id = {int(tea_part['id'])}")

    state_conflict(ship(client, market.tea_vendor, tea_part["id"], tracking="SECOND2"), "shipped")
    shown = part_of(get_order(client, market.shopper, paid_order["id"]), market.tea_vendor)
    assert shown["tracking_number"] == "FIRST1"


def test_delivering_a_vendor_order_of_a_cancelled_order_is_a_409(market, client):
    order = buy(client, market.shopper, [(market.tea, 1)])
    assert cancel(client, market.shopper, order["id"]).status_code == 200
    state_conflict(deliver(client, market.tea_vendor, order["vendor_orders"][0]["id"]), "cancelled")
    state_conflict(ship(client, market.tea_vendor, order["vendor_orders"][0]["id"]), "cancelled")


# -- refunding ---------------------------------------------------------------------------------------------------

def test_a_refund_counts_what_was_refunded_meanwhile(market, client, paid_order, meanwhile):
    total = dec(paid_order["total"])
    taken = (total - Decimal("10.00")).quantize(Decimal("0.01"))
    meanwhile(f"UPDATE orders SET refunded_amount = {taken}, status = 'partially_refunded' WHERE id = :id")

    body = assert_problem(refund(client, market.admin, paid_order["id"], amount={"amount": "20.00", "currency": "BRL"}),
                          422, "refund_exceeds_paid", field="amount")
    assert "10.00" in body["detail"]
    assert dec(get_order(client, market.shopper, paid_order["id"])["refunded"]) == taken


def test_refunding_an_order_cancelled_meanwhile_is_a_409(market, client, meanwhile):
    order = buy(client, market.shopper, [(market.tea, 1)])
    confirm_payment(client, market.shopper, order["id"])
    meanwhile(*CANCELLED)

    state_conflict(refund(client, market.admin, order["id"]), "cancelled")
    assert get_order(client, market.shopper, order["id"])["refunds"] == []


def test_a_fully_refunded_order_cannot_be_refunded_again(market, client, paid_order):
    assert refund(client, market.admin, paid_order["id"]).status_code == 201
    state_conflict(refund(client, market.admin, paid_order["id"]), "refunded")
    shown = get_order(client, market.shopper, paid_order["id"])
    assert dec(shown["refunded"]) == dec(shown["total"]) and len(shown["refunds"]) == 1


# -- one cart, one order -----------------------------------------------------------------------------------------

def test_a_second_checkout_of_the_same_cart_with_a_new_key_finds_it_empty(market, client):
    buy(client, market.shopper, [(market.tea, 2)])
    response = post_checkout(client, market.shopper)
    assert_problem(response, 422, "cart_empty", field="cart")
    assert market.stock(market.tea) == 8
