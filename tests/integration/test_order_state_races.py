"""Money and order states under real concurrency, on SQLite (the embedded default) and on PostgreSQL.

Every thread uses its own `app.test_client()`: each request gets its own app context, SQLAlchemy session and
database connection, as under a multi-process server. SQLite serialises writers (`BEGIN IMMEDIATE`),
PostgreSQL locks the order row; either way the loser of a race gets a 4xx with a stable code, never a 200
that did nothing, and money, stock and the vendors' ledger stay consistent.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from marketplace.kernel import clock
from marketplace.checkout import fulfilment
from marketplace.kernel.extensions import db
from tests.api.test_checkout import (
    ADDRESS,
    CHECKOUT,
    ORDERS,
    VENDOR_ORDERS,
    Market,
    add_to_cart,
    buy,
    checkout_body,
    confirm_payment,
    dec,
    new_key,
    orders_of,
    post_checkout,
)
from tests.api.test_orders import get_order, part_of, payouts
from tests.api.test_products import assert_problem
from tests.integration.test_checkout_concurrency import fire, wait_for_lock_waiters
from tests.integration.test_stripe_checkout import deliver_event, intent_of
from tests.integration.test_stripe_checkout import fake, stripe_app  # noqa: F401 (fixtures)


@pytest.fixture
def engine(app):
    """The test database's engine (no app context is held open: requests made from the test's own thread
    would share it, and its `g`)."""
    with app.app_context():
        return db.engine


@pytest.fixture
def market(make, client) -> Market:
    return Market(make, client)


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def hold_order(conn, order_id: int) -> None:
    """Take what a concurrent state change of the order must wait for: its row lock on PostgreSQL, the
    database's write lock on SQLite (this connection's transaction begins with BEGIN IMMEDIATE)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT id FROM orders WHERE id = :id FOR UPDATE"), {"id": order_id})
    else:
        conn.execute(text("SELECT id FROM orders WHERE id = :id"), {"id": order_id})


def wait_until_blocked(engine, count: int, timeout: float = 10.0) -> None:
    """PostgreSQL: until `count` sessions wait for a lock. SQLite cannot tell; a request that has not reached
    the lock yet when it is released sees the same committed state, so a short pause is enough."""
    if engine.dialect.name != "postgresql":
        time.sleep(0.5)
        return
    wait_for_lock_waiters(engine, count, timeout)


#: A domestic sale for the Indian vendor: no import duties, so the order's total is exactly its goods.
MUMBAI = {**ADDRESS, "city": "Mumbai", "region": "MH", "postal_code": "400001", "country": "IN"}


def inr_order(market, client, shopper, amount: str = "2000.00", quantity: int = 1, stock: int = 10):
    """An order of `quantity` units of an INR product at `amount` each, checked out in INR to Mumbai."""
    product = market.product(market.shawl_vendor, sku=f"KANI-{new_key()}",
                             price={"amount": amount, "currency": "INR"}, stock=stock)
    add_to_cart(client, shopper, product["id"], quantity)
    response = post_checkout(client, shopper, checkout_body("INR", shipping_address=MUMBAI))
    assert response.status_code == 201, response.get_json()
    return product, response.get_json()["order"]


def state_of(problem: dict) -> str:
    return problem["current_status"]


def refund_call(market, order_id: int, **body):
    return ("POST", f"{ORDERS}/{order_id}/refunds", {"json": body, "headers": market.admin["headers"]})


# -- refunds ---------------------------------------------------------------------------------------------------

def test_parallel_refunds_never_refund_more_than_was_paid(market, app, client, engine):
    _product, order = inr_order(market, client, market.shopper)
    confirm_payment(client, market.shopper, order["id"])
    assert dec(order["total"]) == Decimal("2000.00")

    responses = fire(app, [refund_call(market, order["id"], amount={"amount": "600.00", "currency": "INR"})
                           for _ in range(8)])

    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 3, [r.get_json() for r in responses]
    for loser in (r for r in responses if r.status_code != 201):
        assert_problem(loser, 422, "refund_exceeds_paid", field="amount")
    shown = get_order(client, market.admin, order["id"])
    assert dec(shown["refunded"]) == Decimal("1800.00") and shown["status"] == "partially_refunded"
    assert sorted(dec(r["amount"]) for r in shown["refunds"]) == [Decimal("600.00")] * 3
    assert dec(shown["vendor_orders"][0]["refunded"]) == Decimal("1800.00")
    refunded_rows = scalar(engine, "SELECT sum(amount) FROM refunds WHERE order_id = :o", o=order["id"])
    assert Decimal(str(refunded_rows)) == Decimal("1800.00")
    # the vendor is debited for exactly the three refunds: 90% of its net stays paid back
    ledger = payouts(client, market.shawl_vendor)
    debits = [dec(e["amount"]) for e in ledger["items"] if e["kind"] == "refund"]
    credit = next(dec(e["amount"]) for e in ledger["items"] if e["kind"] == "credit")
    assert len(debits) == 3
    assert abs(-sum(debits) - credit * Decimal("0.9")) <= Decimal("0.03")


def test_parallel_refunds_of_a_vendor_order_and_of_the_whole_order_share_one_limit(market, make, app, client):
    shopper = make.user("shopper")
    tea = market.product(sku=f"LONGJING-{new_key()}", price={"amount": "200.00", "currency": "INR"}, stock=10)
    stole = market.product(market.shawl_vendor, sku=f"STOLE-{new_key()}",
                           price={"amount": "1000.00", "currency": "INR"}, stock=10)
    order = confirm_payment(client, shopper, buy(client, shopper, [(tea, 1), (stole, 1)], "INR")["id"])
    total = dec(order["total"])
    stole_part = part_of(order, market.shawl_vendor)
    third = (total / 3).quantize(Decimal("0.01"))

    calls = ([refund_call(market, order["id"], amount={"amount": str(third), "currency": "INR"})] * 4
             + [refund_call(market, order["id"], vendor_order_id=stole_part["id"],
                            amount={"amount": str((dec(stole_part["total"]) / 2).quantize(Decimal("0.01"))),
                                    "currency": "INR"})] * 4)
    responses = fire(app, calls)

    for response in responses:  # a loser is told what is left, or that nothing is (the order is refunded)
        if response.status_code == 422:
            assert_problem(response, 422, "refund_exceeds_paid", field="amount")
        elif response.status_code == 409:
            assert state_of(assert_problem(response, 409, "invalid_order_state")) == "refunded"
        else:
            assert response.status_code == 201, response.get_json()
    shown = get_order(client, market.admin, order["id"])
    refunded = sum((dec(r["amount"]) for r in shown["refunds"]), Decimal(0))
    assert dec(shown["refunded"]) == refunded <= total
    assert sum(dec(p["refunded"]) for p in shown["vendor_orders"]) == refunded
    for part in shown["vendor_orders"]:
        assert dec(part["refunded"]) <= dec(part["total"])
    assert sum(r.status_code == 201 for r in responses) == len(shown["refunds"])


# -- paying and cancelling -------------------------------------------------------------------------------------

def test_a_confirmation_waiting_for_an_order_that_gets_cancelled_meanwhile_is_refused(market, app, client, engine):
    """The confirmation read the order as unpaid, then waited while a cancellation committed: it must decide on
    the state it finds under the lock, and say so, not answer 200 with a cancelled order."""
    order = buy(client, market.shopper, [(market.tea, 2)])
    with engine.connect() as canceller:
        hold_order(canceller, order["id"])
        with ThreadPoolExecutor(1) as pool:
            confirming = pool.submit(app.test_client().post, f"{ORDERS}/{order['id']}/payment/confirm",
                                     headers=market.shopper["headers"])
            wait_until_blocked(engine, 1)
            canceller.execute(text("UPDATE orders SET status = 'cancelled' WHERE id = :id"), {"id": order["id"]})
            canceller.execute(text("UPDATE vendor_orders SET status = 'cancelled' WHERE order_id = :id"),
                              {"id": order["id"]})
            canceller.commit()
            response = confirming.result(timeout=60)

    body = assert_problem(response, 409, "invalid_order_state")
    assert body["current_status"] == "cancelled"
    shown = get_order(client, market.shopper, order["id"])
    assert shown["status"] == "cancelled" and shown["paid_at"] is None
    assert {part["status"] for part in shown["vendor_orders"]} == {"cancelled"}
    assert payouts(client, market.tea_vendor)["items"] == []  # the vendor is not credited


def test_cancel_and_confirm_racing_leave_each_order_either_paid_or_cancelled(market, make, app, client, engine):
    product = market.product(sku=f"TIEGUANYIN-{new_key()}", stock=50)
    placed = []
    for _ in range(6):
        shopper = make.user("shopper")
        placed.append((shopper, buy(client, shopper, [(product, 2)])))
    calls = []
    for shopper, order in placed:
        calls.append(("POST", f"{ORDERS}/{order['id']}/cancel", {"headers": shopper["headers"]}))
        calls.append(("POST", f"{ORDERS}/{order['id']}/payment/confirm", {"headers": shopper["headers"]}))

    responses = fire(app, calls)

    paid = 0
    for index, (shopper, order) in enumerate(placed):
        cancel, confirm = responses[2 * index], responses[2 * index + 1]
        assert sorted([cancel.status_code, confirm.status_code]) == [200, 409], (cancel.get_json(),
                                                                                confirm.get_json())
        loser = cancel if cancel.status_code == 409 else confirm
        winner = confirm if loser is cancel else cancel
        body = assert_problem(loser, 409, "invalid_order_state")
        shown = get_order(client, shopper, order["id"])
        assert shown["status"] == winner.get_json()["status"] == body["current_status"]
        if confirm is winner:
            paid += 1
            assert shown["status"] == "paid" and shown["cancelled_at"] is None
        else:
            assert shown["status"] == "cancelled" and shown["paid_at"] is None
        assert {part["status"] for part in shown["vendor_orders"]} == {shown["status"]}
    assert market.stock(product) == 50 - 2 * paid  # only the cancelled orders gave their stock back
    credits = scalar(engine, "SELECT count(*) FROM payout_entries WHERE kind = 'credit'")
    assert credits == paid  # one credit per paid order (one vendor each), none for a cancelled one


def test_the_worker_expiring_orders_while_they_are_confirmed(market, make, app, client, engine):
    """Reservations run out while shoppers confirm: each order ends paid (confirm 200, the worker leaves it)
    or expired (confirm 409), never both."""
    start = clock.now()
    clock.freeze(start)
    product = market.product(sku=f"JASMINE-{new_key()}", stock=50)
    placed = []
    for _ in range(6):
        shopper = make.user("shopper")
        placed.append((shopper, buy(client, shopper, [(product, 3)])))
    clock.freeze(start + timedelta(minutes=app.config["RESERVATION_MINUTES"] + 1))

    def expire():
        with app.app_context():
            try:
                return fulfilment.expire_reservations(db.session)
            finally:
                db.session.remove()

    calls = [("POST", f"{ORDERS}/{order['id']}/payment/confirm", {"headers": shopper["headers"]})
             for shopper, order in placed]
    results = fire(app, [expire, *calls])
    responses = results[1:]

    paid = 0
    for (shopper, order), response in zip(placed, responses):
        shown = get_order(client, shopper, order["id"])
        if response.status_code == 200:
            paid += 1
            assert shown["status"] == "paid" and shown["cancelled_at"] is None
        else:
            body = assert_problem(response, 409, "invalid_order_state")
            assert body["current_status"] == "cancelled"
            assert shown["status"] == "cancelled" and shown["failure_reason"] == "reservation expired"
    assert results[0] == len(placed) - paid
    assert market.stock(product) == 50 - 3 * paid
    assert scalar(engine, "SELECT count(*) FROM payout_entries WHERE kind = 'credit'") == paid


def test_parallel_confirmations_pay_once_and_the_others_are_told(market, app, client, engine):
    order = buy(client, market.shopper, [(market.tea, 1), (market.shawl, 1)])

    responses = fire(app, [("POST", f"{ORDERS}/{order['id']}/payment/confirm",
                            {"headers": market.shopper["headers"]})] * 4)

    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409], [r.get_json() for r in responses]
    for loser in (r for r in responses if r.status_code == 409):
        assert assert_problem(loser, 409, "invalid_order_state")["current_status"] == "paid"
    assert scalar(engine, "SELECT count(*) FROM payout_entries WHERE kind = 'credit'") == 2  # one per vendor


# -- shipping ---------------------------------------------------------------------------------------------------

def test_parallel_shipments_of_one_vendor_order_ship_it_once(market, app, client):
    order = confirm_payment(client, market.shopper, buy(client, market.shopper, [(market.tea, 1)])["id"])
    part = part_of(order, market.tea_vendor)
    calls = [("POST", f"{VENDOR_ORDERS}/{part['id']}/ship",
              {"json": {"carrier": "China Post", "tracking_number": f"CP{index}"},
               "headers": market.tea_vendor["owner"]["headers"]}) for index in range(4)]

    responses = fire(app, calls)

    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409], [r.get_json() for r in responses]
    winner = next(r for r in responses if r.status_code == 200).get_json()
    for loser in (r for r in responses if r.status_code == 409):
        assert assert_problem(loser, 409, "invalid_order_state")["current_status"] == "shipped"
    shown = part_of(get_order(client, market.shopper, order["id"]), market.tea_vendor)
    assert shown["status"] == "shipped" and shown["tracking_number"] == winner["tracking_number"]


def test_a_full_refund_racing_a_shipment(market, app, client):
    """Refunding a vendor order in full while its vendor ships it: either it ships first (and the refund still
    goes through, the goods being returned by hand) or it is refunded first and can no longer be shipped."""
    order = confirm_payment(client, market.shopper, buy(client, market.shopper, [(market.tea, 1)])["id"])
    part = part_of(order, market.tea_vendor)
    shipping, refunding = fire(app, [
        ("POST", f"{VENDOR_ORDERS}/{part['id']}/ship",
         {"json": {"carrier": "China Post", "tracking_number": "CP1"}, "headers": market.tea_vendor["owner"]["headers"]}),
        refund_call(market, order["id"], vendor_order_id=part["id"]),
    ])

    assert refunding.status_code == 201, refunding.get_json()
    shown = get_order(client, market.shopper, order["id"])
    assert shown["status"] == "refunded" and dec(shown["refunded"]) == dec(order["total"])
    if shipping.status_code != 200:
        assert assert_problem(shipping, 409, "invalid_order_state")["current_status"] == "refunded"
        assert part_of(shown, market.tea_vendor)["shipped_at"] is None


# -- one cart, one order ----------------------------------------------------------------------------------------

def test_parallel_checkouts_of_one_cart_with_new_keys_make_one_order(market, app, client):
    add_to_cart(client, market.shopper, market.tea["id"], 3)
    add_to_cart(client, market.shopper, market.shawl["id"], 1)

    responses = fire(app, [("POST", CHECKOUT, {"json": checkout_body(),
                                              "headers": {**market.shopper["headers"], "Idempotency-Key": new_key()}})
                           for _ in range(4)])

    assert sorted(r.status_code for r in responses) == [201, 422, 422, 422], [r.get_json() for r in responses]
    for loser in (r for r in responses if r.status_code != 201):
        assert_problem(loser, 422, "cart_empty", field="cart")
    assert len(orders_of(client, market.shopper)) == 1
    assert market.stock(market.tea) == 7 and market.stock(market.shawl) == 2
    cart = client.get("/api/v1/cart", headers=market.shopper["headers"]).get_json()
    assert cart["groups"] == [] and cart["item_count"] == 0


# -- a payment started while the order is cancelled --------------------------------------------------------------

@pytest.fixture
def stripe_market(stripe_app, make, client) -> Market:
    return Market(make, client)


def test_an_order_cancelled_while_its_payment_is_being_created_cannot_be_paid(stripe_market, fake, app, client,
                                                                              engine):
    """The cancellation commits while the provider is still creating the order's PaymentIntent: the intent
    that arrives afterwards is cancelled too, so the shopper is never asked to pay a cancelled order."""
    market = stripe_market
    add_to_cart(client, market.shopper, market.tea["id"], 2)
    fake.delay_next(1.5)  # the PaymentIntent's creation is slow
    with ThreadPoolExecutor(1) as pool:
        checking_out = pool.submit(app.test_client().post, CHECKOUT, json=checkout_body(),
                                   headers={**market.shopper["headers"], "Idempotency-Key": new_key()})
        deadline = time.monotonic() + 10
        # cancel once the provider is creating the intent (the order is committed by then); cancelling as soon
        # as the order row shows would, on a slow machine, beat the checkout to the provider
        while not fake.requests_to("POST", "/v1/payment_intents"):
            assert time.monotonic() < deadline, "the payment was never started"
            time.sleep(0.02)
        order_id = scalar(engine, "SELECT max(id) FROM orders")
        cancelled = app.test_client().post(f"{ORDERS}/{order_id}/cancel", headers=market.shopper["headers"])
        placed = checking_out.result(timeout=60)

    assert placed.status_code == 201 and cancelled.status_code == 200, (placed.get_json(), cancelled.get_json())
    shown = get_order(client, market.shopper, order_id)
    assert shown["status"] == "cancelled" and shown["payment"]["status"] == "canceled"
    (intent,) = fake.payment_intents.values()
    assert intent["status"] == "canceled"
    assert market.stock(market.tea) == 10



def test_a_cancellation_racing_the_payment_success_event_leaves_the_order_paid(stripe_market, fake, app, client,
                                                                               engine):
    """The shopper paid at Stripe and cancels as the success event arrives: whichever runs first, the order is
    paid once, its stock stays sold, nothing is refunded and the cancellation is told why (409)."""
    market = stripe_market
    order = buy(client, market.shopper, [(market.tea, 2), (market.shawl, 1)])
    pi_id = intent_of(fake, order["id"])
    fake.succeed(pi_id)

    cancelling, notified = fire(app, [
        ("POST", f"{ORDERS}/{order['id']}/cancel", {"headers": market.shopper["headers"]}),
        lambda: deliver_event(app.test_client(), fake, "payment_intent.succeeded", pi_id),
    ])

    assert notified.status_code == 200, notified.get_json()
    assert state_of(assert_problem(cancelling, 409, "invalid_order_state")) == "paid"
    shown = get_order(client, market.shopper, order["id"])
    assert shown["status"] == "paid" and shown["refunds"] == [] and fake.requests_to("POST", "/v1/refunds") == []
    assert market.stock(market.tea) == 8 and market.stock(market.shawl) == 2
    assert scalar(engine, "SELECT count(*) FROM payout_entries WHERE kind = 'credit'") == 2


def test_a_late_payment_announced_several_times_at_once_is_refunded_once(stripe_market, fake, app, client,
                                                                         monkeypatch):
    market = stripe_market
    order = buy(client, market.shopper, [(market.tea, 2), (market.shawl, 1)])
    pi_id = intent_of(fake, order["id"])
    fake.succeed(pi_id)  # paid at the very moment the order is cancelled (Stripe's answer to the cancel was stale)
    monkeypatch.setattr(fulfilment, "_paid_at_provider", lambda _order: False)
    assert client.post(f"{ORDERS}/{order['id']}/cancel", headers=market.shopper["headers"]).status_code == 200

    responses = fire(app, [lambda: deliver_event(app.test_client(), fake, "payment_intent.succeeded", pi_id)
                           for _ in range(4)])

    assert [r.status_code for r in responses] == [200] * 4, [r.get_json() for r in responses]
    assert len(fake.requests_to("POST", "/v1/refunds")) == 1
    shown = get_order(client, market.shopper, order["id"])
    assert shown["status"] == "cancelled" and shown["refunded"] == shown["total"]
    assert len(shown["refunds"]) == 1
    assert market.stock(market.tea) == 10 and market.stock(market.shawl) == 3  # given back once, not sold



def test_other_writes_go_on_while_the_provider_creates_a_payment(stripe_market, fake, make, app, client):
    """No lock is held while the payment provider answers a checkout (on SQLite that would be the database's
    write lock: every other write in every process would wait for the provider)."""
    market = stripe_market
    other = make.user("shopper")
    add_to_cart(client, market.shopper, market.tea["id"], 1)
    fake.delay_next(3.0)  # the PaymentIntent's creation is slow
    with ThreadPoolExecutor(1) as pool:
        checking_out = pool.submit(app.test_client().post, CHECKOUT, json=checkout_body(),
                                   headers={**market.shopper["headers"], "Idempotency-Key": new_key()})
        deadline = time.monotonic() + 10
        while not fake.requests_to("POST", "/v1/payment_intents"):
            assert time.monotonic() < deadline, "the payment was never asked for"
            time.sleep(0.02)
        started = time.monotonic()
        added = app.test_client().post("/api/v1/cart/items", json={"product_id": market.shawl["id"], "quantity": 1},
                                       headers=other["headers"])
        waited = time.monotonic() - started
        placed = checking_out.result(timeout=60)

    assert added.status_code == 201 and placed.status_code == 201, (added.get_json(), placed.get_json())
    assert waited < 1.5, f"a cart change waited {waited:.1f} s for the provider"
    assert placed.get_json()["payment"]["client_secret"]


# -- the cart ----------------------------------------------------------------------------------------------------

def test_parallel_adds_to_a_new_shoppers_cart_keep_every_unit(market, make, app, client):
    """The first adds of a shopper without a cart create one cart; adds of one product add up."""
    shopper = make.user("shopper")
    calls = [("POST", "/api/v1/cart/items", {"json": {"product_id": product["id"], "quantity": 1},
                                            "headers": shopper["headers"]})
             for product in [market.tea] * 4 + [market.shawl] * 2]

    responses = fire(app, calls)

    assert [r.status_code for r in responses] == [201] * 6, [r.get_json() for r in responses]
    cart = client.get("/api/v1/cart", headers=shopper["headers"]).get_json()
    quantities = {line["product_id"]: line["quantity"] for group in cart["groups"] for line in group["lines"]}
    assert quantities == {market.tea["id"]: 4, market.shawl["id"]: 2}


@pytest.mark.parametrize("attempt", range(4))  # a race: several tries
def test_changing_a_cart_line_while_the_cart_is_checked_out(market, app, client, attempt):
    """The line is either changed before the checkout (which then sells the new quantity) or gone after it
    (404); never a 500."""
    cart = add_to_cart(client, market.shopper, market.tea["id"], 2)
    line_id = cart["groups"][0]["lines"][0]["id"]
    placing, changing = fire(app, [
        ("POST", CHECKOUT, {"json": checkout_body(),
                            "headers": {**market.shopper["headers"], "Idempotency-Key": new_key()}}),
        ("PATCH", f"/api/v1/cart/items/{line_id}", {"json": {"quantity": 5}, "headers": market.shopper["headers"]}),
    ])

    assert placing.status_code == 201, placing.get_json()
    (line,) = placing.get_json()["order"]["lines"]
    if changing.status_code == 200:
        assert line["quantity"] == 5
    else:
        assert_problem(changing, 404, "cart_item_not_found")
        assert line["quantity"] == 2
    assert market.stock(market.tea) == 10 - line["quantity"]
