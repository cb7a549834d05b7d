"""Checkout through the HTTP API: orders split per vendor, locked prices and rates, idempotency keys.

The helpers at the top are shared with the cart, orders, concurrency and Stripe tests.
"""
from __future__ import annotations

import itertools
import json
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from marketplace.kernel import clock, idempotency
from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.checkout import placing
from marketplace.kernel.extensions import db as _db
from marketplace.kernel.idempotency import IdempotencyRecord
from marketplace.kernel.money import minor_units
from marketplace.rates import services as rates_services
from tests.api.test_products import assert_problem, create_product

CART = "/api/v1/cart"
CART_ITEMS = "/api/v1/cart/items"
CHECKOUT = "/api/v1/checkout"
ORDERS = "/api/v1/orders"
VENDOR_ORDERS = "/api/v1/vendor/orders"
PAYOUTS = "/api/v1/vendor/payouts"

ADDRESS = {"name": "Ana Souza", "line1": "Rua Augusta 1500", "line2": "apto 42", "city": "São Paulo",
           "region": "SP", "postal_code": "01304-001", "country": "BR"}

_keys = itertools.count(1)


# -- helpers (also used by the cart, orders, concurrency and Stripe tests) ----

def new_key() -> str:
    return f"checkout-key-{next(_keys)}"


def checkout_body(currency: str = "BRL", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"currency": currency, "shipping_address": dict(ADDRESS)}
    body.update(overrides)
    return body


def add_to_cart(client, shopper: dict, product_id: int, quantity: int = 1, currency: str | None = None) -> dict:
    response = client.post(CART_ITEMS, json={"product_id": product_id, "quantity": quantity},
                           query_string={"currency": currency} if currency else None, headers=shopper["headers"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def post_checkout(client, shopper: dict, body: dict | None = None, key: str | None = None):
    headers = dict(shopper["headers"])
    if key is not False:
        headers["Idempotency-Key"] = key or new_key()
    return client.post(CHECKOUT, json=body if body is not None else checkout_body(), headers=headers)


def buy(client, shopper: dict, items: list[tuple[dict, int]], currency: str = "BRL", key: str | None = None) -> dict:
    """Put `items` ([(product, quantity)]) in `shopper`'s cart and check out; returns the order (asserts 201)."""
    for product, quantity in items:
        add_to_cart(client, shopper, product["id"], quantity)
    response = post_checkout(client, shopper, checkout_body(currency), key=key)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["order"]


def confirm_payment(client, shopper: dict, order_id: int) -> dict:
    response = client.post(f"{ORDERS}/{order_id}/payment/confirm", headers=shopper["headers"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def stock_of(client, product_id: int, viewer: dict) -> int:
    """The product's stock as its vendor or an admin sees it (also for archived products)."""
    response = client.get(f"/api/v1/products/{product_id}", headers=viewer["headers"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()["stock"]


@contextmanager
def database(app):
    """A session for direct database work in a test, in its own app context (closed before any request:
    a test client request inside an active app context would share its `g` and session)."""
    with app.app_context():
        try:
            yield _db.session
        finally:
            _db.session.remove()


def dec(money: dict) -> Decimal:
    return Decimal(money["amount"])


class Market:
    """Two vendors (Yunnan tea in CNY, a Kashmir shawl in INR), rates loaded, a shopper in São Paulo."""

    def __init__(self, make, client) -> None:
        make.rates()
        self.make, self.client = make, client
        self.tea_vendor = make.vendor("CN")
        self.shawl_vendor = make.vendor("IN")
        self.tea = create_product(client, self.tea_vendor, sku="PUER-2019",
                                  translations={"en": {"title": "Yunnan Pu'er cake"}},
                                  price={"amount": "188.00", "currency": "CNY"}, stock=10)
        self.shawl = create_product(client, self.shawl_vendor, sku="PASHMINA-1",
                                    translations={"en": {"title": "Kashmir pashmina shawl"}},
                                    price={"amount": "2500.00", "currency": "INR"}, stock=3, category="shawls-scarves",
                                    hs_code="621410")
        self.shopper = make.user("shopper")
        self.admin = make.user("admin")

    def product(self, vendor: dict | None = None, **overrides: Any) -> dict:
        return create_product(self.client, vendor or self.tea_vendor, **overrides)

    def stock(self, product: dict) -> int:
        return stock_of(self.client, product["id"], self.admin)


@pytest.fixture
def market(make, client) -> Market:
    return Market(make, client)


def orders_of(client, shopper: dict) -> list[dict]:
    response = client.get(ORDERS, headers=shopper["headers"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def rate_used(order: dict, frm: str, to: str) -> dict:
    (info,) = [r for r in order["rates"] if r["from"] == frm and r["to"] == to]
    return info


# -- placing an order ------------------------------------------------------------

def test_checkout_turns_the_cart_into_an_order_split_per_vendor(market, client):
    cart = add_to_cart(client, market.shopper, market.tea["id"], 2)
    cart = add_to_cart(client, market.shopper, market.shawl["id"], 1, currency="BRL")
    cart_prices = {line["product_id"]: line["unit_price"] for g in cart["groups"] for line in g["lines"]}

    response = post_checkout(client, market.shopper, checkout_body("BRL", email="ana@example.com"))

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"order", "payment"}
    order, payment = body["order"], body["payment"]
    assert order["status"] == "awaiting_payment" and order["currency"] == "BRL"
    assert order["email"] == "ana@example.com" and order["shipping_address"] == ADDRESS
    assert order["payment_provider"] == "manual"
    assert payment == order["payment"]
    assert payment["status"] == "requires_payment" and payment["amount"] == order["total"]
    # every line's price is locked in, as the cart showed it
    lines = {line["product_id"]: line for line in order["lines"]}
    assert lines[market.tea["id"]]["unit_price"] == cart_prices[market.tea["id"]]
    assert lines[market.shawl["id"]]["unit_price"] == cart_prices[market.shawl["id"]]
    assert lines[market.tea["id"]]["original_price"]["amount"] == "188.00"
    assert lines[market.tea["id"]]["original_price"]["currency"] == "CNY"
    assert lines[market.tea["id"]]["sku"] == "PUER-2019" and lines[market.tea["id"]]["title"] == "Yunnan Pu'er cake"
    assert dec(order["goods"]) == sum(dec(line["line_total"]) for line in order["lines"])
    # São Paulo pays Brazil's import tax and ICMS at checkout (DDP) on each vendor's parcel; shipping is free
    assert dec(order["total"]) == dec(order["goods"]) + dec(order["shipping"]) + dec(order["duties_and_taxes"])
    assert dec(order["duties_and_taxes"]) > 0 and dec(order["shipping"]) == 0
    # one vendor order per vendor, in the vendor's currency
    parts = {part["vendor_id"]: part for part in order["vendor_orders"]}
    assert set(parts) == {market.tea_vendor["id"], market.shawl_vendor["id"]}
    tea_part, shawl_part = parts[market.tea_vendor["id"]], parts[market.shawl_vendor["id"]]
    assert tea_part["vendor_subtotal"]["currency"] == tea_part["net"]["currency"] == "CNY"
    assert shawl_part["vendor_subtotal"]["currency"] == shawl_part["commission"]["currency"] == "INR"
    assert tea_part["subtotal"] == lines[market.tea["id"]]["line_total"]
    assert lines[market.tea["id"]]["vendor_order_id"] == tea_part["id"]
    for part in (tea_part, shawl_part):
        assert part["status"] == "awaiting_payment" and Decimal(part["commission_rate"]) == Decimal("0.08")
        assert dec(part["net"]) + dec(part["commission"]) == dec(part["vendor_subtotal"])
        assert dec(part["commission"]) == (dec(part["vendor_subtotal"]) * Decimal("0.08")).quantize(
            Decimal("0.01"), ROUND_HALF_UP)
    assert dec(tea_part["total"]) + dec(shawl_part["total"]) == dec(order["total"])
    for part in (tea_part, shawl_part):
        assert part["incoterm"] == "DDP" and [c["kind"] for c in part["duties_and_taxes"]] == ["import_duty", "icms"]
        assert dec(part["total"]) == dec(part["subtotal"]) + dec(part["shipping"]) + dec(part["duties_collected"])


def test_the_order_records_the_rates_it_used_with_source_and_date(market, client):
    order = buy(client, market.shopper, [(market.tea, 1), (market.shawl, 1)], currency="BRL")
    pairs = {(r["from"], r["to"]) for r in order["rates"]}
    assert pairs == {("CNY", "BRL"), ("INR", "BRL"), ("BRL", "CNY"), ("BRL", "INR")}
    for info in order["rates"]:
        assert Decimal(info["rate"]) > 0 and info["source"] in {"ecb", "cbr", "manual", "ecb+cbr", "cbr+ecb"}
        assert date.fromisoformat(info["as_of"]) <= date.today()
    tea_line = next(line for line in order["lines"] if line["product_id"] == market.tea["id"])
    cny_brl = rate_used(order, "CNY", "BRL")
    assert Decimal(tea_line["rate"]) == pytest.approx(Decimal(cny_brl["rate"]), rel=Decimal("1e-15"))
    assert (tea_line["rate_source"], tea_line["rate_as_of"]) == (cny_brl["source"], cny_brl["as_of"])
    expected_unit = (Decimal("188.00") * Decimal(cny_brl["rate"])).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert dec(tea_line["unit_price"]) == expected_unit
    tea_part = next(p for p in order["vendor_orders"] if p["vendor_id"] == market.tea_vendor["id"])
    brl_cny = rate_used(order, "BRL", "CNY")
    assert (tea_part["rate_source"], tea_part["rate_as_of"]) == (brl_cny["source"], brl_cny["as_of"])
    assert dec(tea_part["vendor_subtotal"]) == (dec(tea_part["subtotal"]) * Decimal(brl_cny["rate"])).quantize(
        Decimal("0.01"), ROUND_HALF_UP)


def test_an_order_in_the_vendors_own_currency_records_no_conversion(market, client):
    order = buy(client, market.shopper, [(market.shawl, 2)], currency="INR")
    assert order["rates"] == []
    (part,) = order["vendor_orders"]
    assert part["vendor_subtotal"] == {"amount": "5000.00", "currency": "INR", "formatted": "₹5,000.00"}
    assert part["commission"]["amount"] == "400.00" and part["net"]["amount"] == "4600.00"
    assert order["lines"][0]["rate_source"] == "identity"


def test_checkout_reserves_the_stock_and_empties_the_cart(market, client):
    add_to_cart(client, market.shopper, market.tea["id"], 4)
    add_to_cart(client, market.shopper, market.shawl["id"], 3)
    assert post_checkout(client, market.shopper).status_code == 201
    assert market.stock(market.tea) == 6 and market.stock(market.shawl) == 0
    cart = client.get(CART, headers=market.shopper["headers"]).get_json()
    assert cart["groups"] == [] and cart["item_count"] == 0


def test_the_order_email_defaults_to_the_shoppers_account(market, client):
    order = buy(client, market.shopper, [(market.tea, 1)])
    assert order["email"] == market.shopper["email"]


def test_the_commission_rate_is_configurable(market, client, app, monkeypatch):
    monkeypatch.setitem(app.config, "PLATFORM_COMMISSION_RATE", "0.125")  # restored after the test
    order = buy(client, market.shopper, [(market.shawl, 1)], currency="INR")
    (part,) = order["vendor_orders"]
    assert Decimal(part["commission_rate"]) == Decimal("0.125")
    assert part["commission"]["amount"] == "312.50" and part["net"]["amount"] == "2187.50"


def test_changing_rates_after_checkout_does_not_change_the_order(market, client, app):
    order = buy(client, market.shopper, [(market.tea, 1), (market.shawl, 1)], currency="BRL")
    before = client.get(f"{ORDERS}/{order['id']}", headers=market.shopper["headers"]).get_json()

    today = date.today()
    with database(app) as session:
        for base, quote, rate in (("CNY", "BRL", "2.5"), ("INR", "BRL", "0.5"), ("BRL", "CNY", "0.4"),
                                  ("BRL", "INR", "2")):
            rates_services.set_manual(session, base, quote, rate, as_of=today)
    rates_services.forget_table()
    add_to_cart(client, market.shopper, market.tea["id"])
    cart = client.get(CART, query_string={"currency": "BRL"}, headers=market.shopper["headers"]).get_json()
    assert cart["total"]["amount"] == "470.00"  # 188 CNY at the new rate: the new rates are in use

    after = client.get(f"{ORDERS}/{order['id']}", headers=market.shopper["headers"]).get_json()
    assert after == before
    assert after["total"] == order["total"] and after["rates"] == order["rates"]


# -- refused checkouts ---------------------------------------------------------------

def test_checkout_needs_an_idempotency_key(market, client):
    add_to_cart(client, market.shopper, market.tea["id"])
    response = post_checkout(client, market.shopper, key=False)
    assert_problem(response, 400, "idempotency_key_missing", field="Idempotency-Key")
    assert orders_of(client, market.shopper) == []
    assert market.stock(market.tea) == 10


def test_a_blank_idempotency_key_counts_as_missing(market, client):
    add_to_cart(client, market.shopper, market.tea["id"])
    response = post_checkout(client, market.shopper, key="   ")
    assert_problem(response, 400, "idempotency_key_missing")


@pytest.mark.parametrize("currency", ["JPY", "XXX", "brl", ""])
def test_checkout_in_an_unsupported_currency_is_refused(market, client, currency):
    add_to_cart(client, market.shopper, market.tea["id"])
    response = post_checkout(client, market.shopper, checkout_body(currency))
    assert_problem(response, 422, "validation_error", field="currency")
    assert orders_of(client, market.shopper) == [] and market.stock(market.tea) == 10


@pytest.mark.parametrize("change, field", [
    ({"postal_code": None}, "shipping_address.postal_code"),
    ({"name": ""}, "shipping_address.name"),
    ({"country": "Brazil"}, "shipping_address.country"),
    ({"country": "br"}, "shipping_address.country"),
    ({"line1": "x" * 201}, "shipping_address.line1"),
])
def test_checkout_validates_the_shipping_address(market, client, change, field):
    add_to_cart(client, market.shopper, market.tea["id"])
    address = {k: v for k, v in {**ADDRESS, **change}.items() if v is not None}
    response = post_checkout(client, market.shopper, checkout_body(shipping_address=address))
    assert_problem(response, 422, "validation_error", field=field)
    assert orders_of(client, market.shopper) == []


def test_checkout_needs_a_shipping_address_and_a_valid_email(market, client):
    add_to_cart(client, market.shopper, market.tea["id"])
    response = post_checkout(client, market.shopper, {"currency": "BRL"})
    assert_problem(response, 422, "validation_error", field="shipping_address")
    response = post_checkout(client, market.shopper, checkout_body(email="not-an-email"))
    assert_problem(response, 422, "validation_error", field="email")


def test_checkout_of_an_empty_cart_is_refused(market, client):
    response = post_checkout(client, market.shopper)
    assert_problem(response, 422, "cart_empty")
    assert orders_of(client, market.shopper) == []


def test_checkout_beyond_the_stock_is_refused_and_reserves_nothing(market, client):
    add_to_cart(client, market.shopper, market.tea["id"], 2)
    add_to_cart(client, market.shopper, market.shawl["id"], 4)  # only 3
    response = post_checkout(client, market.shopper)
    body = assert_problem(response, 409, "insufficient_stock")
    assert body["product_id"] == market.shawl["id"]
    assert market.stock(market.tea) == 10 and market.stock(market.shawl) == 3  # the tea's reservation rolled back
    assert orders_of(client, market.shopper) == []
    cart = client.get(CART, headers=market.shopper["headers"]).get_json()
    assert cart["item_count"] == 6  # the cart is left for the shopper to fix


def test_checkout_with_a_product_taken_off_sale_is_refused(market, client):
    add_to_cart(client, market.shopper, market.tea["id"], 1)
    add_to_cart(client, market.shopper, market.shawl["id"], 1)
    client.delete(f"/api/v1/products/{market.shawl['id']}", headers=market.shawl_vendor["owner"]["headers"])
    body = assert_problem(post_checkout(client, market.shopper), 409, "product_unavailable")
    assert body["product_id"] == market.shawl["id"]
    assert market.stock(market.tea) == 10 and orders_of(client, market.shopper) == []


@pytest.mark.parametrize("role", ["vendor", "admin"])
def test_only_shoppers_check_out(market, make, client, role):
    other = make.user(role)
    response = client.post(CHECKOUT, json=checkout_body(), headers={**other["headers"], "Idempotency-Key": "k"})
    assert_problem(response, 403)


# -- idempotency keys ----------------------------------------------------------------

def test_the_same_key_and_body_replay_the_same_response_byte_for_byte(market, client):
    add_to_cart(client, market.shopper, market.tea["id"], 2)
    key, body = new_key(), checkout_body("BRL")
    first = post_checkout(client, market.shopper, body, key)
    assert first.status_code == 201
    add_to_cart(client, market.shopper, market.shawl["id"], 1)  # a changed cart does not matter to a replay

    again = post_checkout(client, market.shopper, body, key)
    assert again.status_code == 201
    assert again.get_data() == first.get_data()
    assert len(orders_of(client, market.shopper)) == 1
    assert market.stock(market.tea) == 8 and market.stock(market.shawl) == 3


def test_a_replay_does_not_depend_on_the_order_of_the_bodys_keys(market, client):
    add_to_cart(client, market.shopper, market.tea["id"])
    key = new_key()
    headers = {**market.shopper["headers"], "Idempotency-Key": key, "Content-Type": "application/json"}
    first = client.post(CHECKOUT, data=json.dumps(checkout_body()), headers=headers)
    reordered = dict(reversed(list(checkout_body().items())))
    again = client.post(CHECKOUT, data=json.dumps(reordered), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_data() == first.get_data()


def test_the_same_key_with_another_body_is_refused(market, client):
    add_to_cart(client, market.shopper, market.tea["id"])
    key = new_key()
    assert post_checkout(client, market.shopper, checkout_body("BRL"), key).status_code == 201
    add_to_cart(client, market.shopper, market.tea["id"])
    response = post_checkout(client, market.shopper, checkout_body("INR"), key)
    assert_problem(response, 422, "idempotency_key_reused", field="Idempotency-Key")
    assert len(orders_of(client, market.shopper)) == 1 and market.stock(market.tea) == 9


def test_keys_belong_to_one_shopper(market, make, client):
    other = make.user("shopper")
    add_to_cart(client, market.shopper, market.tea["id"])
    add_to_cart(client, other, market.tea["id"], 2)
    key = "shared-key"
    mine = post_checkout(client, market.shopper, checkout_body(), key).get_json()["order"]
    theirs = post_checkout(client, other, checkout_body(), key)
    assert theirs.status_code == 201
    assert theirs.get_json()["order"]["id"] != mine["id"]
    assert market.stock(market.tea) == 7


def test_a_refused_checkout_is_replayed_as_the_same_problem(market, client):
    add_to_cart(client, market.shopper, market.shawl["id"], 5)
    key = new_key()
    first = post_checkout(client, market.shopper, checkout_body(), key)
    assert_problem(first, 409, "insufficient_stock")
    again = post_checkout(client, market.shopper, checkout_body(), key)
    assert_problem(again, 409, "insufficient_stock")
    assert again.get_json() == first.get_json()


def test_a_request_still_in_progress_with_the_same_key_conflicts(market, client, app):
    add_to_cart(client, market.shopper, market.tea["id"])
    key, body = new_key(), checkout_body()
    moment = clock.now()
    with database(app) as session:  # the first request claimed the key and is still running
        session.add(IdempotencyRecord(scope=f"user:{market.shopper['id']}", key=key,
                                      request_hash=idempotency.fingerprint(body), status="in_progress",
                                      locked_until=moment + timedelta(seconds=30),
                                      expires_at=moment + timedelta(hours=48)))
        session.commit()

    response = post_checkout(client, market.shopper, body, key)
    assert_problem(response, 409, "idempotency_key_in_progress")
    assert response.headers["Retry-After"]
    assert orders_of(client, market.shopper) == [] and market.stock(market.tea) == 10
    # another body with that key is still a misuse of the key, not a conflict
    assert_problem(post_checkout(client, market.shopper, checkout_body("INR"), key), 422, "idempotency_key_reused")


def test_a_checkout_that_crashed_after_placing_its_order_resumes_it_with_the_same_key(market, client, monkeypatch):
    start = clock.now()
    clock.freeze(start)
    add_to_cart(client, market.shopper, market.tea["id"], 2)
    add_to_cart(client, market.shopper, market.shawl["id"], 1)
    real_ensure_payment = placing.ensure_payment
    calls = []

    def crash_once(session, order):
        calls.append(order.id)
        if len(calls) == 1:
            raise RuntimeError("the worker died between placing the order and starting its payment")
        return real_ensure_payment(session, order)

    monkeypatch.setattr(placing, "ensure_payment", crash_once)
    key, body = new_key(), checkout_body()
    try:
        crashed = post_checkout(client, market.shopper, body, key)
        assert crashed.status_code == 500
    except RuntimeError:  # propagated by the test client
        pass
    (placed,) = orders_of(client, market.shopper)
    assert placed["status"] == "awaiting_payment" and placed["payment"] is None
    assert market.stock(market.tea) == 8 and market.stock(market.shawl) == 2

    # within the lock the first attempt might still be running
    assert_problem(post_checkout(client, market.shopper, body, key), 409, "idempotency_key_in_progress")

    clock.freeze(start + timedelta(seconds=61))
    resumed = post_checkout(client, market.shopper, body, key)
    assert resumed.status_code == 201, resumed.get_json()
    order = resumed.get_json()["order"]
    assert order["id"] == placed["id"] and calls == [placed["id"], placed["id"]]
    assert order["payment"]["status"] == "requires_payment" and resumed.get_json()["payment"] == order["payment"]
    assert len(orders_of(client, market.shopper)) == 1
    assert market.stock(market.tea) == 8 and market.stock(market.shawl) == 2  # reserved once
    assert post_checkout(client, market.shopper, body, key).get_data() == resumed.get_data()


def test_a_checkout_resumed_after_its_reservation_expired_returns_the_cancelled_order_unpaid(
        market, client, runner, monkeypatch):
    start = clock.now()
    clock.freeze(start)
    add_to_cart(client, market.shopper, market.tea["id"], 2)

    def crash(session, order):
        raise RuntimeError("the worker died between placing the order and starting its payment")

    monkeypatch.setattr(placing, "ensure_payment", crash)
    key = new_key()
    try:
        post_checkout(client, market.shopper, checkout_body(), key)
    except RuntimeError:
        pass
    monkeypatch.undo()
    clock.freeze(start + timedelta(minutes=31))
    runner.invoke(args=["worker", "--once"])  # the reservation expired meanwhile

    resumed = post_checkout(client, market.shopper, checkout_body(), key)

    assert resumed.status_code == 201, resumed.get_json()
    order = resumed.get_json()["order"]
    assert order["status"] == "cancelled" and order["payment"] is None  # no payment for a cancelled order
    assert market.stock(market.tea) == 10


def test_idempotency_keys_are_kept_at_least_a_day(market, client, app, monkeypatch):
    monkeypatch.setitem(app.config, "IDEMPOTENCY_TTL_HOURS", 1)  # a misconfiguration cannot go below 24 h
    add_to_cart(client, market.shopper, market.tea["id"])
    key, body = new_key(), checkout_body()
    first = post_checkout(client, market.shopper, body, key)
    with database(app) as session:
        record = session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == key))
        assert record.status == "completed" and record.response_status == 201
        assert record.expires_at - record.created_at >= timedelta(hours=24)

        clock.freeze(record.created_at + timedelta(hours=23, minutes=59))
        assert idempotency.sweep(session) == 0
        user = session.get(User, market.shopper["id"])
        token, _ttl = accounts.issue_token(session, user, timedelta(hours=1))  # the first token has expired
        session.commit()
    again = client.post(CHECKOUT, json=body, headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})
    assert again.status_code == 201 and again.get_data() == first.get_data()


# -- money: totals are exact -------------------------------------------------------

PRICE_CURRENCIES = ("CNY", "INR", "RUB", "BRL", "USD", "IRR", "ZAR")
SHOPPER_CURRENCIES = ("BRL", "RUB", "INR", "CNY", "ZAR", "EGP", "ETB", "IRR", "AED", "IDR", "USD", "EUR")


def test_order_totals_are_exactly_the_sum_of_their_lines(make, client, app):
    """Property: for any prices, quantities and currencies, the order total is the exact sum of its lines,
    each line is unit price x quantity, each vendor part sums its lines, and net + commission = subtotal."""
    make.rates()
    vendors = [make.vendor(country) for country in ("CN", "IN", "ZA")]
    line = st.tuples(st.integers(0, len(vendors) - 1), st.sampled_from(PRICE_CURRENCIES),
                     st.integers(1, 50_000_000), st.integers(1, 40))

    @settings(max_examples=25, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(currency=st.sampled_from(SHOPPER_CURRENCIES), lines=st.lists(line, min_size=1, max_size=4),
           commission=st.sampled_from(["0.08", "0.15", "0.0333"]))
    def check(currency, lines, commission):
        app.config["PLATFORM_COMMISSION_RATE"] = commission
        shopper = make.user("shopper")
        for vendor_index, price_currency, minor, quantity in lines:
            amount = str(minor) if price_currency == "IRR" else f"{Decimal(minor) / 100:.2f}"
            product = create_product(client, vendors[vendor_index], price={"amount": amount,
                                                                             "currency": price_currency},
                                     stock=quantity)
            add_to_cart(client, shopper, product["id"], quantity)
        # to Moscow: no coded duty rule, so the duties are an estimate paid on delivery (not in the total), and
        # no value limit stops the large carts this property tries
        moscow = {**ADDRESS, "city": "Moscow", "region": "Moscow", "postal_code": "101000", "country": "RU"}
        response = post_checkout(client, shopper, checkout_body(currency, shipping_address=moscow))
        assert response.status_code == 201, response.get_json()
        order = response.get_json()["order"]
        places = Decimal(1).scaleb(-minor_units(currency))
        assert dec(order["total"]) == sum((dec(l["line_total"]) for l in order["lines"]), Decimal(0))
        for order_line in order["lines"]:
            assert dec(order_line["line_total"]) == dec(order_line["unit_price"]) * order_line["quantity"]
            assert dec(order_line["unit_price"]) == dec(order_line["unit_price"]).quantize(places)
        assert sum((dec(p["subtotal"]) for p in order["vendor_orders"]), Decimal(0)) == dec(order["total"])
        for part in order["vendor_orders"]:
            mine = [l for l in order["lines"] if l["vendor_order_id"] == part["id"]]
            assert dec(part["subtotal"]) == sum((dec(l["line_total"]) for l in mine), Decimal(0))
            vendor_places = Decimal(1).scaleb(-minor_units(part["vendor_subtotal"]["currency"]))
            assert dec(part["commission"]) == (dec(part["vendor_subtotal"]) * Decimal(commission)).quantize(
                vendor_places, ROUND_HALF_UP)
            assert dec(part["net"]) + dec(part["commission"]) == dec(part["vendor_subtotal"])
        assert dec(order["payment"]["amount"]) == dec(order["total"])

    original = app.config["PLATFORM_COMMISSION_RATE"]
    try:
        check()
    finally:
        app.config["PLATFORM_COMMISSION_RATE"] = original
