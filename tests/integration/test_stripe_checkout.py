"""Checkout with PAYMENT_PROVIDER=stripe against FakeStripe (a fake Stripe HTTP server on loopback, driven
through the real `stripe` SDK): PaymentIntents, signed webhooks applied once and never trusted, refunds and
Connect payouts.

The session's app is switched to Stripe for each test (its provider swapped for a StripeProvider pointed at
the fake, PAYMENT_PROVIDER set), and switched back afterwards.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

from marketplace.kernel import clock
from marketplace.checkout import fulfilment
from marketplace.checkout.models import PayoutEntry
from marketplace.checkout.payments.stripe_provider import StripeProvider
from marketplace.kernel.money import Money
from tests.api.test_checkout import (
    CART,
    ORDERS,
    PAYOUTS,
    Market,
    add_to_cart,
    buy,
    checkout_body,
    database,
    dec,
    new_key,
    orders_of,
    post_checkout,
)
from tests.api.test_products import assert_problem
from tests.stripe_fake import FakeStripe, sign_webhook

SECRET_KEY = "sk_test_buybrics"
WEBHOOK_SECRET = "whsec_buybrics_test"
WEBHOOK = "/api/v1/payments/stripe/webhook"


@pytest.fixture
def fake():
    with FakeStripe(api_key=SECRET_KEY) as server:
        yield server


@pytest.fixture
def stripe_app(app, fake, monkeypatch):
    """The app taking payments through Stripe (the fake); restored to the manual provider afterwards."""
    provider = StripeProvider(SECRET_KEY, WEBHOOK_SECRET, api_base=fake.url, timeout=5.0, max_network_retries=0)
    monkeypatch.setitem(app.extensions, "payment_provider", provider)
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER", "stripe")
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    return app


@pytest.fixture
def market(stripe_app, make, client) -> Market:
    return Market(make, client)


def deliver_event(client, fake: FakeStripe, type_: str, obj: str, *, event_id: str | None = None,
                  secret: str = WEBHOOK_SECRET, timestamp: int | None = None):
    payload = fake.event(type_, obj, event_id=event_id)
    return client.post(WEBHOOK, data=payload, content_type="application/json",
                       headers={"Stripe-Signature": sign_webhook(payload, secret, timestamp)})


def get_order(client, shopper: dict, order_id: int) -> dict:
    response = client.get(f"{ORDERS}/{order_id}", headers=shopper["headers"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def intent_of(fake: FakeStripe, order_id: int) -> str:
    (pi_id,) = [pi["id"] for pi in fake.payment_intents.values() if pi["metadata"].get("order_id") == str(order_id)]
    return pi_id


def stripe_checkout(client, fake, shopper, items, currency="BRL") -> tuple[dict, str]:
    order = buy(client, shopper, items, currency)
    return order, intent_of(fake, order["id"])


def pay(client, fake, order_id: int) -> dict:
    """The customer pays and Stripe tells us so."""
    pi_id = intent_of(fake, order_id)
    fake.succeed(pi_id)
    response = deliver_event(client, fake, "payment_intent.succeeded", pi_id)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# -- creating the payment -------------------------------------------------------------

def test_checkout_creates_one_payment_intent_in_minor_units_and_returns_its_client_secret(market, client, fake):
    add_to_cart(client, market.shopper, market.tea["id"], 2)
    add_to_cart(client, market.shopper, market.shawl["id"], 1)
    response = post_checkout(client, market.shopper, checkout_body("BRL"))

    assert response.status_code == 201, response.get_json()
    order, payment = response.get_json()["order"], response.get_json()["payment"]
    assert order["payment_provider"] == "stripe" and payment["provider"] == "stripe"
    assert payment["status"] == "requires_payment" and payment["amount"] == order["total"]
    (created,) = fake.requests_to("POST", "/v1/payment_intents")
    assert created.params["amount"] == str(int(dec(order["total"]) * 100))
    assert created.params["currency"] == "brl"
    assert created.params["metadata[order_id]"] == str(order["id"])
    assert created.idempotency_key == f"order-{order['id']}-payment"
    pi = fake.payment_intents[intent_of(fake, order["id"])]
    assert payment["client_secret"] == pi["client_secret"] and payment["client_secret"].startswith(pi["id"])


def test_amounts_in_a_currency_without_minor_units_go_to_stripe_unscaled(market, client, fake):
    """IDR: CLDR and Stripe both use two decimals for the rupiah; the amount is multiplied by 100."""
    order = buy(client, market.shopper, [(market.shawl, 1)], currency="IDR")
    created = fake.last("POST", "/v1/payment_intents")
    assert created.params["currency"] == "idr"
    assert Decimal(created.params["amount"]) == dec(order["total"]) * 100


def test_a_replayed_checkout_makes_no_second_payment_intent(market, client, fake):
    add_to_cart(client, market.shopper, market.tea["id"])
    key = new_key()
    first = post_checkout(client, market.shopper, checkout_body(), key)
    again = post_checkout(client, market.shopper, checkout_body(), key)
    assert first.status_code == again.status_code == 201 and again.get_data() == first.get_data()
    assert len(fake.requests_to("POST", "/v1/payment_intents")) == 1


def test_a_checkout_that_crashed_after_stripe_answered_reuses_the_same_payment_intent(
        market, client, fake, stripe_app, monkeypatch):
    provider = stripe_app.extensions["payment_provider"]
    real_create = provider.create_payment
    answers = []

    def create_then_crash(**kwargs):
        answers.append(real_create(**kwargs))
        if len(answers) == 1:
            raise RuntimeError("the process died before saving Stripe's answer")
        return answers[-1]

    monkeypatch.setattr(provider, "create_payment", create_then_crash)
    start = clock.now()
    clock.freeze(start)
    add_to_cart(client, market.shopper, market.tea["id"])
    key = new_key()
    try:
        assert post_checkout(client, market.shopper, checkout_body(), key).status_code == 500
    except RuntimeError:
        pass
    clock.freeze(start + timedelta(seconds=61))
    resumed = post_checkout(client, market.shopper, checkout_body(), key)

    assert resumed.status_code == 201, resumed.get_json()
    assert len(fake.payment_intents) == 1  # Stripe saw the same idempotency key twice
    assert answers[0].provider_ref == answers[1].provider_ref
    assert resumed.get_json()["payment"]["client_secret"] == answers[0].client_secret
    assert len(orders_of(client, market.shopper)) == 1


def test_when_stripe_is_down_checkout_answers_502_and_a_retry_with_the_same_key_resumes(market, client, fake):
    add_to_cart(client, market.shopper, market.tea["id"], 2)
    fake.fail_next(503)
    key = new_key()
    failed = post_checkout(client, market.shopper, checkout_body(), key)
    body = assert_problem(failed, 502, "payment_provider_error")
    (placed,) = orders_of(client, market.shopper)
    assert placed["payment"] is None and market.stock(market.tea) == 8

    retry = post_checkout(client, market.shopper, checkout_body(), key)  # at once: the key was given up
    assert retry.status_code == 201, retry.get_json()
    assert retry.get_json()["order"]["id"] == placed["id"]
    assert len(fake.payment_intents) == 1 and market.stock(market.tea) == 8
    assert body["provider_code"] is None or isinstance(body["provider_code"], str)


def test_a_currency_stripe_cannot_take_is_refused_and_leaves_no_order_behind(market, client, fake):
    """IRR is a marketplace currency Stripe does not support: 422, nothing reserved, the cart intact."""
    add_to_cart(client, market.shopper, market.tea["id"], 2)
    response = post_checkout(client, market.shopper, checkout_body("IRR"))

    assert_problem(response, 422, "unsupported_payment_currency", field="currency")
    assert fake.requests_to("POST", "/v1/payment_intents") == []
    assert market.stock(market.tea) == 10
    (withdrawn,) = orders_of(client, market.shopper)  # recorded, but cancelled at once
    assert withdrawn["status"] == "cancelled" and withdrawn["payment"] is None
    cart = client.get(CART, headers=market.shopper["headers"]).get_json()
    assert cart["item_count"] == 2
    # the shopper can pay in another currency right away
    assert post_checkout(client, market.shopper, checkout_body("BRL")).status_code == 201


def test_manual_confirmation_does_not_exist_with_stripe(market, client, fake):
    order, _pi = stripe_checkout(client, fake, market.shopper, [(market.tea, 1)])
    assert_problem(client.post(f"{ORDERS}/{order['id']}/payment/confirm", headers=market.shopper["headers"]), 404)
    assert get_order(client, market.shopper, order["id"])["status"] == "awaiting_payment"


# -- webhooks ------------------------------------------------------------------------------

def test_a_signed_payment_succeeded_event_pays_the_order(market, client, fake):
    order, pi_id = stripe_checkout(client, fake, market.shopper, [(market.tea, 2), (market.shawl, 1)])
    fake.succeed(pi_id)
    response = deliver_event(client, fake, "payment_intent.succeeded", pi_id)

    assert response.status_code == 200 and response.get_json() == {"result": "processed"}
    paid = get_order(client, market.shopper, order["id"])
    assert paid["status"] == "paid" and paid["payment"]["status"] == "succeeded"
    assert {p["status"] for p in paid["vendor_orders"]} == {"paid"}
    assert market.stock(market.tea) == 8 and market.stock(market.shawl) == 2
    assert fake.last("GET", f"/v1/payment_intents/{pi_id}")  # the state was read back from Stripe


@pytest.mark.parametrize("how", ["wrong secret", "tampered body", "no header", "stale timestamp"])
def test_a_webhook_without_a_valid_fresh_signature_is_refused_and_changes_nothing(market, client, fake, how):
    order, pi_id = stripe_checkout(client, fake, market.shopper, [(market.tea, 1)])
    fake.succeed(pi_id)
    payload = fake.event("payment_intent.succeeded", pi_id, event_id="evt_forged")
    headers = {"Stripe-Signature": sign_webhook(payload, WEBHOOK_SECRET)}
    if how == "wrong secret":
        headers = {"Stripe-Signature": sign_webhook(payload, "whsec_someone_else")}
    elif how == "tampered body":
        payload = payload.replace(b'"livemode": false', b'"livemode": true')
    elif how == "no header":
        headers = {}
    elif how == "stale timestamp":
        headers = {"Stripe-Signature": sign_webhook(payload, WEBHOOK_SECRET, int(time.time()) - 3600)}

    response = client.post(WEBHOOK, data=payload, content_type="application/json", headers=headers)

    assert_problem(response, 400, "invalid_webhook_signature")
    assert get_order(client, market.shopper, order["id"])["status"] == "awaiting_payment"
    assert fake.requests_to("GET", f"/v1/payment_intents/{pi_id}") == []
    # the event id was not used up: the genuine delivery still applies
    genuine = deliver_event(client, fake, "payment_intent.succeeded", pi_id, event_id="evt_forged")
    assert genuine.get_json() == {"result": "processed"}


def test_the_same_event_delivered_twice_is_applied_once(market, client, fake):
    order, pi_id = stripe_checkout(client, fake, market.shopper, [(market.tea, 1)])
    fake.succeed(pi_id)
    first = deliver_event(client, fake, "payment_intent.succeeded", pi_id, event_id="evt_once")
    second = deliver_event(client, fake, "payment_intent.succeeded", pi_id, event_id="evt_once")
    assert first.get_json() == {"result": "processed"} and second.get_json() == {"result": "duplicate"}
    ledger = client.get(PAYOUTS, headers=market.tea_vendor["owner"]["headers"]).get_json()
    assert [e["kind"] for e in ledger["items"]] == ["credit"]


def test_two_different_success_events_for_one_payment_credit_the_vendor_once(market, client, fake):
    order, pi_id = stripe_checkout(client, fake, market.shopper, [(market.tea, 1)])
    fake.succeed(pi_id)
    deliver_event(client, fake, "payment_intent.succeeded", pi_id)
    charge_event = deliver_event(client, fake, "payment_intent.succeeded", pi_id)  # another event id
    assert charge_event.status_code == 200
    ledger = client.get(PAYOUTS, headers=market.tea_vendor["owner"]["headers"]).get_json()
    assert [e["kind"] for e in ledger["items"]] == ["credit"]


def test_the_same_event_delivered_concurrently_is_applied_once(market, client, fake, stripe_app):
    with database(stripe_app) as session:
        dialect = session.get_bind().dialect.name
    if dialect != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent transactions (set TEST_DATABASE_URL)")
    order, pi_id = stripe_checkout(client, fake, market.shopper, [(market.tea, 1), (market.shawl, 1)])
    fake.succeed(pi_id)
    payload = fake.event("payment_intent.succeeded", pi_id, event_id="evt_concurrent")
    signature = sign_webhook(payload, WEBHOOK_SECRET)

    def deliver(_):
        return stripe_app.test_client().post(WEBHOOK, data=payload, content_type="application/json",
                                             headers={"Stripe-Signature": signature})

    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(deliver, range(6)))

    assert all(r.status_code == 200 for r in responses), [r.get_json() for r in responses]
    results = sorted(r.get_json()["result"] for r in responses)
    assert results == ["duplicate"] * 5 + ["processed"]
    ledger = client.get(PAYOUTS, headers=market.tea_vendor["owner"]["headers"]).get_json()
    assert [e["kind"] for e in ledger["items"]] == ["credit"]
    assert get_order(client, market.shopper, order["id"])["status"] == "paid"


def test_a_failure_event_arriving_after_success_does_not_unpay_the_order(market, client, fake):
    """Events carry the object as it was; the PaymentIntent is re-read, so order of delivery does not matter."""
    order, pi_id = stripe_checkout(client, fake, market.shopper, [(market.tea, 1)])
    fake.fail(pi_id)
    failed_event = fake.event("payment_intent.payment_failed", pi_id)  # sent at the time of the failure
    fake.succeed(pi_id)  # the customer retried with another card
    assert deliver_event(client, fake, "payment_intent.succeeded", pi_id).status_code == 200

    late = client.post(WEBHOOK, data=failed_event, content_type="application/json",
                       headers={"Stripe-Signature": sign_webhook(failed_event, WEBHOOK_SECRET)})

    assert late.status_code == 200
    shown = get_order(client, market.shopper, order["id"])
    assert shown["status"] == "paid" and shown["payment"]["status"] == "succeeded"
    assert shown["failure_reason"] is None


def test_a_success_arriving_as_a_stale_failure_event_still_pays_the_order(market, client, fake):
    order, pi_id = stripe_checkout(client, fake, market.shopper, [(market.tea, 1)])
    fake.fail(pi_id)
    failed_event = fake.event("payment_intent.payment_failed", pi_id)
    fake.succeed(pi_id)  # the success event is still on its way; the failure event comes first
    response = client.post(WEBHOOK, data=failed_event, content_type="application/json",
                           headers={"Stripe-Signature": sign_webhook(failed_event, WEBHOOK_SECRET)})
    assert response.status_code == 200
    assert get_order(client, market.shopper, order["id"])["status"] == "paid"


def test_a_failed_payment_keeps_the_order_awaiting_payment_with_the_reason(market, client, fake):
    order, pi_id = stripe_checkout(client, fake, market.shopper, [(market.tea, 1)])
    fake.fail(pi_id, "Your card has insufficient funds.", code="card_declined", decline_code="insufficient_funds")
    assert deliver_event(client, fake, "payment_intent.payment_failed", pi_id).status_code == 200
    shown = get_order(client, market.shopper, order["id"])
    assert shown["status"] == "awaiting_payment"
    assert shown["payment"]["status"] == "requires_payment"
    assert shown["payment"]["failure_reason"] == "Your card has insufficient funds."
    assert market.stock(market.tea) == 9  # still reserved while the shopper retries


def test_events_of_other_types_are_acknowledged_and_ignored(market, client, fake):
    order, pi_id = stripe_checkout(client, fake, market.shopper, [(market.tea, 1)])
    response = deliver_event(client, fake, "payment_intent.created", pi_id)
    assert response.status_code == 200 and response.get_json() == {"result": "ignored"}
    assert get_order(client, market.shopper, order["id"])["status"] == "awaiting_payment"


def test_the_webhook_does_not_exist_with_the_manual_provider(market, client, fake, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER", "manual")
    payload = b'{"id": "evt_1", "type": "payment_intent.succeeded"}'
    response = client.post(WEBHOOK, data=payload, content_type="application/json",
                           headers={"Stripe-Signature": sign_webhook(payload, WEBHOOK_SECRET)})
    assert_problem(response, 404)


def test_an_order_paid_at_stripe_whose_webhook_is_late_does_not_expire(market, client, fake, runner):
    """The reservation runs out while the success event is still on its way: Stripe is asked first."""
    start = clock.now()
    clock.freeze(start)
    order, pi_id = stripe_checkout(client, fake, market.shopper, [(market.tea, 2)])
    fake.succeed(pi_id)
    clock.freeze(start + timedelta(minutes=31))

    result = runner.invoke(args=["worker", "--once"])

    assert result.exit_code == 0, result.output
    shown = get_order(client, market.shopper, order["id"])
    assert shown["status"] == "paid" and market.stock(market.tea) == 8
    assert fake.payment_intents[pi_id]["status"] == "succeeded"
    assert deliver_event(client, fake, "payment_intent.succeeded", pi_id).status_code == 200  # the late event
    ledger = client.get(PAYOUTS, headers=market.tea_vendor["owner"]["headers"]).get_json()
    assert [e["kind"] for e in ledger["items"]] == ["credit"]


def test_an_unpaid_stripe_order_expires_and_its_payment_intent_is_cancelled(market, client, fake, runner):
    start = clock.now()
    clock.freeze(start)
    order, pi_id = stripe_checkout(client, fake, market.shopper, [(market.tea, 2)])
    clock.freeze(start + timedelta(minutes=31))
    runner.invoke(args=["worker", "--once"])
    assert get_order(client, market.shopper, order["id"])["status"] == "cancelled"
    assert fake.payment_intents[pi_id]["status"] == "canceled" and market.stock(market.tea) == 10


def test_a_shopper_cannot_cancel_an_order_already_paid_at_stripe(market, client, fake):
    order, pi_id = stripe_checkout(client, fake, market.shopper, [(market.tea, 1)])
    fake.succeed(pi_id)  # paid on the payment page; the webhook has not arrived
    response = client.post(f"{ORDERS}/{order['id']}/cancel", headers=market.shopper["headers"])
    body = assert_problem(response, 409, "invalid_order_state")
    assert body["current_status"] == "paid"
    assert get_order(client, market.shopper, order["id"])["status"] == "paid"
    assert market.stock(market.tea) == 9


def test_when_stripe_cannot_be_asked_an_expired_order_waits_for_the_next_pass(market, client, fake, runner):
    start = clock.now()
    clock.freeze(start)
    order, pi_id = stripe_checkout(client, fake, market.shopper, [(market.tea, 2)])
    clock.freeze(start + timedelta(minutes=31))
    fake.fail_next(503)  # the PaymentIntent cannot be read back: nothing is decided
    runner.invoke(args=["worker", "--once"])
    assert get_order(client, market.shopper, order["id"])["status"] == "awaiting_payment"
    runner.invoke(args=["worker", "--once"])
    assert get_order(client, market.shopper, order["id"])["status"] == "cancelled"


# -- cancelling and refunds --------------------------------------------------------------------

def test_cancelling_an_unpaid_order_cancels_its_payment_intent(market, client, fake):
    order, pi_id = stripe_checkout(client, fake, market.shopper, [(market.tea, 3)])
    response = client.post(f"{ORDERS}/{order['id']}/cancel", headers=market.shopper["headers"])
    assert response.status_code == 200, response.get_json()
    assert fake.payment_intents[pi_id]["status"] == "canceled"
    assert fake.last("POST", f"/v1/payment_intents/{pi_id}/cancel").idempotency_key == f"order-{order['id']}-cancel"
    assert market.stock(market.tea) == 10


def test_a_payment_that_succeeds_after_the_order_was_cancelled_is_refunded_in_full_once(market, client, fake,
                                                                                         monkeypatch):
    order, pi_id = stripe_checkout(client, fake, market.shopper, [(market.tea, 2), (market.shawl, 1)])
    fake.succeed(pi_id)  # the shopper pays at the very moment the order is cancelled:
    monkeypatch.setattr(fulfilment, "_paid_at_provider", lambda _order: False)  # Stripe's answer was stale
    response = client.post(f"{ORDERS}/{order['id']}/cancel", headers=market.shopper["headers"])
    assert response.status_code == 200, response.get_json()
    assert market.stock(market.tea) == 10  # the stock went back to sale

    assert deliver_event(client, fake, "payment_intent.succeeded", pi_id).status_code == 200

    sent = fake.last("POST", "/v1/refunds")
    assert sent.params["payment_intent"] == pi_id and sent.idempotency_key == f"order-{order['id']}-late-payment"
    assert sent.params["amount"] == str(int(dec(order["total"]) * 100))
    shown = get_order(client, market.shopper, order["id"])
    assert shown["status"] == "cancelled" and shown["refunded"] == order["total"]
    assert [r["status"] for r in shown["refunds"]] == ["succeeded"]
    # a second success event (another id) and Stripe's own charge.refunded change nothing more
    assert deliver_event(client, fake, "payment_intent.succeeded", pi_id).status_code == 200
    charge_id = fake.payment_intents[pi_id]["latest_charge"]
    assert deliver_event(client, fake, "charge.refunded", charge_id).status_code == 200
    assert len(fake.requests_to("POST", "/v1/refunds")) == 1
    again = get_order(client, market.shopper, order["id"])
    assert again["refunded"] == order["total"] and len(again["refunds"]) == 1 and again["status"] == "cancelled"


def test_an_admin_refund_goes_through_stripe_in_minor_units(market, client, fake):
    order, pi_id = stripe_checkout(client, fake, market.shopper, [(market.tea, 2), (market.shawl, 1)])
    pay(client, fake, order["id"])
    shawl_part = next(p for p in order["vendor_orders"] if p["vendor_id"] == market.shawl_vendor["id"])

    response = client.post(f"{ORDERS}/{order['id']}/refunds", json={"vendor_order_id": shawl_part["id"]},
                           headers=market.admin["headers"])

    assert response.status_code == 201, response.get_json()
    sent = fake.last("POST", "/v1/refunds")
    assert sent.params["payment_intent"] == pi_id
    assert sent.params["amount"] == str(int(dec(shawl_part["total"]) * 100))
    (refund,) = fake.refunds.values()
    assert response.get_json()["status"] == "succeeded"
    assert get_order(client, market.shopper, order["id"])["status"] == "partially_refunded"
    # Stripe then announces the refund; it is recognised, not booked twice
    charge_id = fake.payment_intents[pi_id]["latest_charge"]
    assert deliver_event(client, fake, "charge.refunded", charge_id).status_code == 200
    shown = get_order(client, market.shopper, order["id"])
    assert shown["refunded"] == shawl_part["total"] and len(shown["refunds"]) == 1
    assert refund["id"]


def test_a_refund_stripe_refuses_is_not_recorded(market, client, fake):
    order, _pi = stripe_checkout(client, fake, market.shopper, [(market.tea, 1)])
    pay(client, fake, order["id"])
    fake.fail_next(400, code="charge_disputed", message="This charge is disputed.")
    response = client.post(f"{ORDERS}/{order['id']}/refunds", json={}, headers=market.admin["headers"])
    assert_problem(response, 502, "payment_provider_error")
    shown = get_order(client, market.shopper, order["id"])
    assert shown["status"] == "paid" and shown["refunds"] == [] and dec(shown["refunded"]) == 0


def test_a_refund_made_in_the_stripe_dashboard_is_recorded_from_charge_refunded(market, client, fake, stripe_app):
    order, pi_id = stripe_checkout(client, fake, market.shopper, [(market.tea, 2), (market.shawl, 1)])
    pay(client, fake, order["id"])
    provider = stripe_app.extensions["payment_provider"]
    provider.refund(provider_ref=pi_id, amount=Money("50.00", "BRL"), idempotency_key="dashboard-1", metadata={})
    charge_id = fake.payment_intents[pi_id]["latest_charge"]

    response = deliver_event(client, fake, "charge.refunded", charge_id)

    assert response.status_code == 200 and response.get_json() == {"result": "processed"}
    shown = get_order(client, market.shopper, order["id"])
    assert shown["status"] == "partially_refunded" and shown["refunded"]["amount"] == "50.00"
    (refund,) = shown["refunds"]
    assert refund["amount"]["amount"] == "50.00" and refund["status"] == "succeeded"
    ledger = client.get(PAYOUTS, headers=market.tea_vendor["owner"]["headers"]).get_json()
    assert any(e["kind"] == "refund" and dec(e["amount"]) < 0 for e in ledger["items"])
    # the rest, refunded at Stripe too, and announced twice
    provider.refund(provider_ref=pi_id, amount=Money(str(dec(order["total"]) - 50), "BRL"),
                    idempotency_key="dashboard-2", metadata={})
    deliver_event(client, fake, "charge.refunded", charge_id)
    deliver_event(client, fake, "charge.refunded", charge_id)
    shown = get_order(client, market.shopper, order["id"])
    assert shown["status"] == "refunded" and shown["refunded"] == shown["total"] and len(shown["refunds"]) == 2


def test_a_pending_refund_is_booked_only_when_stripe_says_it_succeeded(market, client, fake):
    order, _pi = stripe_checkout(client, fake, market.shopper, [(market.tea, 2), (market.shawl, 1)])
    pay(client, fake, order["id"])
    fake.refund_status = "pending"
    response = client.post(f"{ORDERS}/{order['id']}/refunds", json={"amount": {"amount": "50.00", "currency": "BRL"}},
                           headers=market.admin["headers"])
    assert response.status_code == 201 and response.get_json()["status"] == "pending"
    shown = get_order(client, market.shopper, order["id"])
    assert shown["status"] == "paid" and dec(shown["refunded"]) == 0             # nothing booked yet
    ledger = client.get(PAYOUTS, headers=market.tea_vendor["owner"]["headers"]).get_json()
    assert not any(e["kind"] == "refund" for e in ledger["items"])
    # what is pending can not be refunded a second time
    too_much = client.post(f"{ORDERS}/{order['id']}/refunds", json={}, headers=market.admin["headers"])
    assert too_much.status_code == 201 and dec(too_much.get_json()["amount"]) == dec(order["total"]) - 50
    over = client.post(f"{ORDERS}/{order['id']}/refunds", json={"amount": {"amount": "0.01", "currency": "BRL"}},
                       headers=market.admin["headers"])
    assert_problem(over, 422, "refund_exceeds_paid")

    refund_id = next(r["id"] for r in fake.refunds.values() if r["amount"] == 5000)
    fake.set_refund_status(refund_id, "succeeded")
    assert deliver_event(client, fake, "refund.updated", refund_id).status_code == 200
    assert deliver_event(client, fake, "charge.refund.updated", refund_id).status_code == 200  # said twice: once

    shown = get_order(client, market.shopper, order["id"])
    assert shown["status"] == "partially_refunded" and shown["refunded"]["amount"] == "50.00"
    assert sorted(r["status"] for r in shown["refunds"]) == ["pending", "succeeded"]
    ledger = client.get(PAYOUTS, headers=market.tea_vendor["owner"]["headers"]).get_json()
    assert any(e["kind"] == "refund" and dec(e["amount"]) < 0 for e in ledger["items"])


def test_a_pending_refund_that_fails_books_nothing_and_frees_the_amount(market, client, fake):
    order, _pi = stripe_checkout(client, fake, market.shopper, [(market.tea, 1)])
    pay(client, fake, order["id"])
    fake.refund_status = "pending"
    response = client.post(f"{ORDERS}/{order['id']}/refunds", json={}, headers=market.admin["headers"])
    assert response.status_code == 201 and response.get_json()["status"] == "pending"
    (refund_id,) = fake.refunds

    fake.set_refund_status(refund_id, "failed", "expired_or_canceled_card")
    assert deliver_event(client, fake, "refund.failed", refund_id).status_code == 200

    shown = get_order(client, market.shopper, order["id"])
    assert shown["status"] == "paid" and dec(shown["refunded"]) == 0
    assert [r["status"] for r in shown["refunds"]] == ["failed"]
    fake.refund_status = "succeeded"                                              # the admin tries again
    again = client.post(f"{ORDERS}/{order['id']}/refunds", json={}, headers=market.admin["headers"])
    assert again.status_code == 201 and again.get_json()["status"] == "succeeded"
    assert get_order(client, market.shopper, order["id"])["status"] == "refunded"


# -- payouts to connected accounts ----------------------------------------------------------------

def connect(client, vendor: dict, account: str, admin: dict) -> None:
    """The vendor sets its connected account; an admin reviews it (payouts go to reviewed accounts only)."""
    response = client.patch(f"/api/v1/vendors/{vendor['id']}", json={"stripe_account_id": account},
                            headers=vendor["owner"]["headers"])
    assert response.status_code == 200, response.get_json()
    response = client.post(f"/api/v1/vendors/{vendor['id']}/approve", json={}, headers=admin["headers"])
    assert response.status_code == 200, response.get_json()


def test_a_paid_vendor_order_is_transferred_to_the_vendors_connected_account_once(market, client, fake, runner):
    connect(client, market.shawl_vendor, "acct_123", admin=market.admin)
    order, _pi = stripe_checkout(client, fake, market.shopper, [(market.tea, 1), (market.shawl, 1)], "INR")
    pay(client, fake, order["id"])
    shawl_part = next(p for p in order["vendor_orders"] if p["vendor_id"] == market.shawl_vendor["id"])

    (transfer,) = fake.requests_to("POST", "/v1/transfers")
    assert transfer.params["destination"] == "acct_123"
    assert transfer.params["currency"] == "inr"
    assert transfer.params["amount"] == str(int(dec(shawl_part["net"]) * 100))
    assert transfer.idempotency_key == f"payout-{shawl_part['id']}"
    ledger = client.get(PAYOUTS, headers=market.shawl_vendor["owner"]["headers"]).get_json()
    (entry,) = ledger["items"]
    assert entry["status"] == "transferred" and entry["transfer_ref"] == next(iter(fake.transfers))
    # the vendor without a connected account waits
    tea_ledger = client.get(PAYOUTS, headers=market.tea_vendor["owner"]["headers"]).get_json()
    assert [e["status"] for e in tea_ledger["items"]] == ["pending"]

    runner.invoke(args=["worker", "--once"])
    assert len(fake.transfers) == 1


def test_a_payout_that_failed_is_transferred_later_by_the_worker_with_the_same_key(market, client, fake, runner):
    order, _pi = stripe_checkout(client, fake, market.shopper, [(market.shawl, 1)], "INR")
    pay(client, fake, order["id"])
    connect(client, market.shawl_vendor, "acct_456", admin=market.admin)  # connected after the sale
    fake.fail_next(500)
    runner.invoke(args=["worker", "--once"])
    ledger = client.get(PAYOUTS, headers=market.shawl_vendor["owner"]["headers"]).get_json()
    assert [e["status"] for e in ledger["items"]] == ["pending"] and fake.transfers == {}

    runner.invoke(args=["worker", "--once"])
    ledger = client.get(PAYOUTS, headers=market.shawl_vendor["owner"]["headers"]).get_json()
    assert [e["status"] for e in ledger["items"]] == ["transferred"]
    assert len(fake.transfers) == 1
    keys = {r.idempotency_key for r in fake.requests_to("POST", "/v1/transfers")}
    assert keys == {f"payout-{order['vendor_orders'][0]['id']}"}


def test_payouts_are_held_while_the_vendor_is_back_in_review(market, client, fake, runner):
    connect(client, market.shawl_vendor, "acct_321", admin=market.admin)
    renamed = client.patch(f"/api/v1/vendors/{market.shawl_vendor['id']}", json={"legal_name": "Other Looms Pvt Ltd"},
                           headers=market.shawl_vendor["owner"]["headers"])
    assert renamed.status_code == 200 and renamed.get_json()["status"] == "pending_review"
    client.post(f"/api/v1/vendors/{market.shawl_vendor['id']}/approve", json={}, headers=market.admin["headers"])
    order, _pi = stripe_checkout(client, fake, market.shopper, [(market.shawl, 1)], "INR")
    pay(client, fake, order["id"])
    assert len(fake.transfers) == 1                                      # approved again: paid out at once
    order2, _pi = stripe_checkout(client, fake, market.shopper, [(market.shawl, 1)], "INR")
    client.patch(f"/api/v1/vendors/{market.shawl_vendor['id']}", json={"legal_name": "Third Name Pvt Ltd"},
                 headers=market.shawl_vendor["owner"]["headers"])         # back in review before the payment lands
    pay(client, fake, order2["id"])
    runner.invoke(args=["worker", "--once"])
    ledger = client.get(PAYOUTS, headers=market.shawl_vendor["owner"]["headers"]).get_json()
    assert sorted(e["status"] for e in ledger["items"]) == ["pending", "transferred"]
    assert len(fake.transfers) == 1                                      # held while in review

    client.post(f"/api/v1/vendors/{market.shawl_vendor['id']}/approve", json={}, headers=market.admin["headers"])
    runner.invoke(args=["worker", "--once"])
    ledger = client.get(PAYOUTS, headers=market.shawl_vendor["owner"]["headers"]).get_json()
    assert [e["status"] for e in ledger["items"]] == ["transferred", "transferred"]
    assert len(fake.transfers) == 2


def test_a_transfer_whose_answer_was_lost_is_not_paid_twice(market, client, fake, runner, stripe_app):
    connect(client, market.shawl_vendor, "acct_789", admin=market.admin)
    order, _pi = stripe_checkout(client, fake, market.shopper, [(market.shawl, 1)], "INR")
    pay(client, fake, order["id"])
    assert len(fake.transfers) == 1
    with database(stripe_app) as session:  # as if the process died before recording the transfer
        session.execute(update(PayoutEntry).values(status="pending", transfer_ref=None))
        session.commit()

    runner.invoke(args=["worker", "--once"])

    assert len(fake.transfers) == 1  # Stripe replayed the first answer for the same idempotency key
    assert len(fake.requests_to("POST", "/v1/transfers")) == 2
    ledger = client.get(PAYOUTS, headers=market.shawl_vendor["owner"]["headers"]).get_json()
    assert [(e["status"], e["transfer_ref"]) for e in ledger["items"]] == [("transferred", next(iter(fake.transfers)))]
