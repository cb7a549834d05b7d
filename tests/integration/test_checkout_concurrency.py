"""Checkout under real concurrency (PostgreSQL only): stock never oversells, duplicate requests make one
order, and racing state changes (pay vs cancel, two deliveries) end in a consistent state.

Every thread uses its own `app.test_client()`; each request gets its own app context, hence its own
SQLAlchemy session and database connection, as under a multi-threaded server.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from marketplace.kernel.extensions import db

from tests.api.test_checkout import (
    CHECKOUT,
    ORDERS,
    VENDOR_ORDERS,
    Market,
    add_to_cart,
    buy,
    checkout_body,
    confirm_payment,
    new_key,
    orders_of,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(app):
    """The test database's engine; PostgreSQL only. (No app context is held open: requests made from the
    test's own thread would share it, and its `g`.)"""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent transactions and row locks (set TEST_DATABASE_URL); "
                    "SQLite serialises every write, so there is no race to test")
    return engine


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


@pytest.fixture
def market(engine, make, client) -> Market:
    return Market(make, client)


def fire(app, calls, workers: int | None = None):
    """Run `calls` ([(method, url, kwargs)] or callables) at the same moment from as many threads; returns
    their results (responses) in order."""
    barrier = threading.Barrier(len(calls))

    def one(call):
        client = app.test_client()
        barrier.wait()
        if callable(call):
            return call()
        method, url, kwargs = call
        return client.open(url, method=method, **kwargs)

    with ThreadPoolExecutor(max_workers=workers or len(calls)) as pool:
        return list(pool.map(one, calls))


def wait_for_lock_waiters(engine, count: int, timeout: float = 10.0) -> None:
    """Block until `count` other sessions are waiting for a row lock."""
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                        "AND datname = current_database()")).scalar()
            if waiting >= count:
                return
            time.sleep(0.02)
    raise AssertionError(f"{count} request(s) never waited for the lock")


def checkout_call(shopper: dict, key: str | None = None, body: dict | None = None):
    return ("POST", CHECKOUT, {"json": body or checkout_body(),
                               "headers": {**shopper["headers"], "Idempotency-Key": key or new_key()}})


def test_concurrent_checkouts_never_sell_more_units_than_the_stock(market, make, app, client, engine):
    scarce = market.product(sku="DA-HONG-PAO", price={"amount": "980.00", "currency": "CNY"}, stock=5)
    shoppers = [make.user("shopper") for _ in range(20)]
    for shopper in shoppers:
        add_to_cart(client, shopper, scarce["id"], 1)

    responses = fire(app, [checkout_call(shopper) for shopper in shoppers])

    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 5 and statuses.count(409) == 15, statuses
    assert {r.get_json()["code"] for r in responses if r.status_code == 409} == {"insufficient_stock"}
    assert market.stock(scarce) == 0
    sold = scalar(engine, "SELECT coalesce(sum(quantity), 0) FROM order_lines WHERE product_id = :p", p=scarce["id"])
    assert sold == 5
    winners = [r.get_json()["order"] for r in responses if r.status_code == 201]
    assert len({order["id"] for order in winners}) == 5
    # the losers keep their carts, flagged
    loser = next(s for s, r in zip(shoppers, responses) if r.status_code == 409)
    cart = client.get("/api/v1/cart", headers=loser["headers"]).get_json()
    assert cart["groups"][0]["lines"][0]["problems"] == ["insufficient_stock"]


def test_concurrent_checkouts_of_the_same_products_in_any_order_do_not_deadlock(market, make, app, client):
    """Carts holding the same two products, added in opposite orders: stock is reserved in a fixed order."""
    first = market.product(sku="OOLONG", stock=100)
    second = market.product(market.shawl_vendor, sku="STOLE", price={"amount": "900.00", "currency": "INR"},
                            stock=100)
    shoppers = [make.user("shopper") for _ in range(16)]
    for index, shopper in enumerate(shoppers):
        pair = (first, second) if index % 2 else (second, first)
        for product in pair:
            add_to_cart(client, shopper, product["id"], 2)

    responses = fire(app, [checkout_call(shopper) for shopper in shoppers])

    assert [r.status_code for r in responses] == [201] * 16, [r.get_json() for r in responses if r.status_code != 201]
    assert market.stock(first) == market.stock(second) == 100 - 32


def test_concurrent_duplicates_of_one_checkout_make_exactly_one_order(market, app, client):
    add_to_cart(client, market.shopper, market.tea["id"], 3)
    key = new_key()

    responses = fire(app, [checkout_call(market.shopper, key) for _ in range(8)])

    created = [r for r in responses if r.status_code == 201]
    assert created, [r.get_json() for r in responses]
    assert all(r.status_code in (201, 409) for r in responses), [r.get_json() for r in responses]
    assert all(r.get_json()["code"] == "idempotency_key_in_progress" for r in responses if r.status_code == 409)
    assert len({r.get_data() for r in created}) == 1  # every 201 is the same bytes
    assert len(orders_of(client, market.shopper)) == 1
    assert market.stock(market.tea) == 7
    # once it is done, every retry replays it
    replay = client.post(CHECKOUT, json=checkout_body(),
                         headers={**market.shopper["headers"], "Idempotency-Key": key})
    assert replay.status_code == 201 and replay.get_data() == created[0].get_data()


def test_a_cancel_waiting_for_an_order_that_gets_paid_meanwhile_is_refused(market, app, client, engine):
    """The cancel read the order as unpaid, then waited for its row lock while a payment committed:
    it must decide on the state it finds under the lock, not on what it read before."""
    order = buy(client, market.shopper, [(market.tea, 2)])
    with engine.connect() as payer:
        payer.execute(text("SELECT id FROM orders WHERE id = :id FOR UPDATE"), {"id": order["id"]})
        with ThreadPoolExecutor(1) as pool:
            cancelling = pool.submit(app.test_client().post, f"{ORDERS}/{order['id']}/cancel",
                                     headers=market.shopper["headers"])
            wait_for_lock_waiters(engine, 1)
            payer.execute(text("UPDATE orders SET status = 'paid' WHERE id = :id"), {"id": order["id"]})
            payer.execute(text("UPDATE vendor_orders SET status = 'paid' WHERE order_id = :id"), {"id": order["id"]})
            payer.commit()
            response = cancelling.result(timeout=30)

    assert response.status_code == 409, response.get_json()
    assert response.get_json()["code"] == "invalid_order_state"
    shown = client.get(f"{ORDERS}/{order['id']}", headers=market.shopper["headers"]).get_json()
    assert shown["status"] == "paid"
    assert market.stock(market.tea) == 8  # the sold units were not put back


def test_two_concurrent_payment_confirmations_pay_and_credit_once(market, app, client, engine):
    order = buy(client, market.shopper, [(market.tea, 1), (market.shawl, 1)])
    with engine.connect() as holder:
        holder.execute(text("SELECT id FROM orders WHERE id = :id FOR UPDATE"), {"id": order["id"]})
        with ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(app.test_client().post, f"{ORDERS}/{order['id']}/payment/confirm",
                                   headers=market.shopper["headers"]) for _ in range(2)]
            wait_for_lock_waiters(engine, 2)
            holder.rollback()
            responses = [f.result(timeout=30) for f in futures]

    assert sorted(r.status_code for r in responses) in ([200, 200], [200, 409]), [r.get_json() for r in responses]
    credits = scalar(engine, "SELECT count(*) FROM payout_entries WHERE kind = 'credit'")
    assert credits == 2  # one per vendor order
    assert client.get(f"{ORDERS}/{order['id']}", headers=market.shopper["headers"]).get_json()["status"] == "paid"


def test_vendors_delivering_at_the_same_moment_complete_the_order(market, make, app, client):
    """Each delivery checks whether every part is delivered; two at once must not both miss the other."""
    tea = market.product(sku="WHITE-PEONY", stock=20)
    stole = market.product(market.shawl_vendor, sku="STOLE", price={"amount": "900.00", "currency": "INR"}, stock=20)
    orders = []
    for _ in range(6):
        shopper = make.user("shopper")
        placed = buy(client, shopper, [(tea, 1), (stole, 1)], "INR")
        orders.append((shopper, confirm_payment(client, shopper, placed["id"])))
    calls = []
    for _shopper, order in orders:
        for part in order["vendor_orders"]:
            vendor = market.tea_vendor if part["vendor_id"] == market.tea_vendor["id"] else market.shawl_vendor
            response = client.post(f"{VENDOR_ORDERS}/{part['id']}/ship", json={"carrier": "DHL", "tracking_number": "1"},
                                   headers=vendor["owner"]["headers"])
            assert response.status_code == 200, response.get_json()
            calls.append(("POST", f"{VENDOR_ORDERS}/{part['id']}/deliver", {"headers": vendor["owner"]["headers"]}))

    responses = fire(app, calls)

    assert [r.status_code for r in responses] == [200] * len(calls), [r.get_json() for r in responses]
    for shopper, order in orders:
        shown = client.get(f"{ORDERS}/{order['id']}", headers=shopper["headers"]).get_json()
        assert shown["status"] == "completed", shown["vendor_orders"]
