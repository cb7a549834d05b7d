"""StripeProvider: the real `stripe` SDK, run against tests/stripe_fake.FakeStripe.

What is checked is what goes over the wire (amount in Stripe's minor units,
lower-case currency, the Idempotency-Key header, metadata as metadata[key])
and what comes back (statuses, amounts, errors), plus the pure amount
conversion and webhook signature checks. No Flask, no database.

Expected Stripe amounts are written out or worked out on integers here, never
with the module's own tables.
"""
from __future__ import annotations

import json
import re
import time
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.checkout.payments.base import (
    InvalidSignature,
    PaymentError,
    PaymentState,
    RefundState,
    TransferState,
    UnsupportedCurrency,
)
from marketplace.checkout.payments.stripe_provider import (
    STRIPE_CURRENCIES,
    AmountPrecisionError,
    StripeProvider,
    from_stripe_amount,
    stripe_supports,
    to_stripe_amount,
)
from marketplace.kernel.money import Money, known_currencies, minor_units
from tests.stripe_fake import FakeStripe, sign_webhook

KEY = "sk_test_buybrics"
WHSEC = "whsec_test_secret"

MARKETPLACE = ("BRL", "RUB", "INR", "CNY", "ZAR", "EGP", "ETB", "IRR", "AED", "IDR", "USD", "EUR")
STRIPE_OK = tuple(c for c in MARKETPLACE if c != "IRR")
#: Stripe's documented exceptions to "two decimals", written out independently of the module.
ZERO = ("BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
        "XAF", "XOF", "XPF")
THREE = ("BHD", "JOD", "KWD", "OMR", "TND")


def stripe_digits(code: str) -> int:
    return 0 if code in ZERO else 3 if code in THREE else 2


def stripe_step(code: str) -> int:
    return 10 if code in THREE else 100 if code == "ISK" else 1


@pytest.fixture
def fake():
    with FakeStripe(api_key=KEY) as server:
        yield server


@pytest.fixture
def provider(fake):
    return StripeProvider(KEY, WHSEC, api_base=fake.url, max_network_retries=0)


def pay(provider, amount="12.34", currency="BRL", key="order-1", **metadata):
    return provider.create_payment(amount=Money(Decimal(amount), currency), idempotency_key=key,
                                   metadata=metadata or {"order_id": "42"})


# --- the project rule --------------------------------------------------------

def test_only_the_stripe_provider_imports_stripe():
    root = Path(__file__).resolve().parents[2] / "marketplace"
    importers = sorted(
        str(path.relative_to(root)) for path in root.rglob("*.py")
        if re.search(r"^\s*(import stripe\b|from stripe\b)", path.read_text(encoding="utf-8"), re.MULTILINE)
    )
    assert importers == ["checkout/payments/stripe_provider.py"]


# --- minor units ---------------------------------------------------------------

@pytest.mark.parametrize("code", STRIPE_OK)
def test_marketplace_currencies_are_two_decimal_at_stripe(code):
    assert stripe_supports(code) and stripe_supports(code.lower())
    assert to_stripe_amount(Money(Decimal("12.34"), code)) == 1234
    assert to_stripe_amount(Money(Decimal("0.01"), code)) == 1
    assert to_stripe_amount(Money(Decimal("1000000"), code)) == 100_000_000
    assert from_stripe_amount(1234, code.lower()) == Money(Decimal("12.34"), code)
    assert from_stripe_amount(1, code) == Money(Decimal("0.01"), code)


def test_idr_is_two_decimal_at_stripe_as_in_cldr():
    assert minor_units("IDR") == 2
    assert to_stripe_amount(Money(Decimal("15000"), "IDR")) == 1_500_000
    assert from_stripe_amount(1_500_050, "idr") == Money(Decimal("15000.50"), "IDR")


def test_irr_is_refused_both_ways():
    assert not stripe_supports("IRR")
    with pytest.raises(UnsupportedCurrency) as info:
        to_stripe_amount(Money(Decimal("100000"), "IRR"))
    assert info.value.code == "unsupported_currency" and not info.value.retryable
    with pytest.raises(UnsupportedCurrency):
        from_stripe_amount(100000, "irr")


@pytest.mark.parametrize("code,amount,expected", [
    ("JPY", "500", 500), ("KRW", "15000", 15000), ("VND", "1", 1), ("CLP", "990", 990),
    ("UGX", "3700", 3700), ("XOF", "655", 655),
])
def test_zero_decimal_currencies_use_whole_units(code, amount, expected):
    money = Money(Decimal(amount), code)  # a test-only Money: the marketplace never prices in these
    assert to_stripe_amount(money) == expected
    assert from_stripe_amount(expected, code.lower()) == money


def test_three_decimal_currencies_need_a_final_zero():
    assert to_stripe_amount(Money(Decimal("5.120"), "KWD")) == 5120
    assert from_stripe_amount(5120, "kwd") == Money(Decimal("5.12"), "KWD")
    with pytest.raises(AmountPrecisionError) as info:
        to_stripe_amount(Money(Decimal("5.124"), "KWD"))  # Stripe would need 5120 or 5130: we never pick
    assert info.value.code == "amount_precision" and not info.value.retryable
    assert isinstance(info.value, PaymentError)


def test_isk_is_two_decimal_at_stripe_but_whole_kronur_only():
    assert to_stripe_amount(Money(Decimal("5"), "ISK")) == 500
    assert from_stripe_amount(500, "isk") == Money(Decimal("5"), "ISK")
    with pytest.raises(AmountPrecisionError):
        from_stripe_amount(550, "isk")  # 5.50 ISK: CLDR (and Stripe since 2023) has no fractional krónur


def test_cldr_zero_but_stripe_two_decimal_refuses_a_fraction_on_the_way_back():
    assert minor_units("LAK") == 0
    assert to_stripe_amount(Money(Decimal("1"), "LAK")) == 100
    assert from_stripe_amount(100, "lak") == Money(Decimal("1"), "LAK")
    with pytest.raises(AmountPrecisionError):
        from_stripe_amount(150, "lak")  # Money would round 1.50 LAK to 2


def test_negative_amounts_convert_exactly():
    assert to_stripe_amount(Money(Decimal("-12.34"), "USD")) == -1234
    assert from_stripe_amount(-1234, "usd") == Money(Decimal("-12.34"), "USD")


@pytest.mark.parametrize("bad", [12.5, True, "1234", Decimal("1234")])
def test_stripe_amounts_are_integers(bad):
    with pytest.raises(TypeError):
        from_stripe_amount(bad, "usd")


def test_to_stripe_amount_takes_money_only():
    with pytest.raises(TypeError):
        to_stripe_amount(Decimal("1.00"))


BABEL_KNOWN_STRIPE = sorted(STRIPE_CURRENCIES & known_currencies())


@settings(max_examples=300, deadline=None)
@given(code=st.sampled_from(BABEL_KNOWN_STRIPE + list(MARKETPLACE)),
       cldr_minor=st.integers(min_value=-10**12, max_value=10**12))
def test_money_to_stripe_is_exact_or_refused(code, cldr_minor):
    """Any Money (k CLDR minor units) converts to exactly k * 10**(e - d), or is refused -- never rounded."""
    d = minor_units(code)
    money = Money(Decimal(cldr_minor).scaleb(-d), code)
    if code == "IRR":
        with pytest.raises(UnsupportedCurrency):
            to_stripe_amount(money)
        return
    e = stripe_digits(code)
    if e >= d:
        exact = cldr_minor * 10 ** (e - d)
    else:
        exact = cldr_minor // 10 ** (d - e) if cldr_minor % 10 ** (d - e) == 0 else None
    if exact is None or exact % stripe_step(code):
        with pytest.raises(AmountPrecisionError):
            to_stripe_amount(money)
    else:
        assert to_stripe_amount(money) == exact
        assert from_stripe_amount(exact, code.lower()) == money


@settings(max_examples=300, deadline=None)
@given(code=st.sampled_from(STRIPE_OK + ("JPY", "KWD", "ISK", "BHD", "KRW")),
       units=st.integers(min_value=-10**12, max_value=10**12))
def test_stripe_amount_round_trips(code, units):
    amount = units * stripe_step(code)
    money = from_stripe_amount(amount, code.lower())
    assert money.currency == code
    assert to_stripe_amount(money) == amount


# --- create / retrieve / cancel ------------------------------------------------

def test_create_payment_sends_minor_units_lower_case_currency_key_and_metadata(fake, provider):
    state = pay(provider, "12.34", "BRL", key="checkout-7f3a", order_id="42", buyer="u9")
    sent = fake.last("POST", "/v1/payment_intents")
    assert sent.params == {
        "amount": "1234", "currency": "brl", "automatic_payment_methods[enabled]": "true",
        "metadata[order_id]": "42", "metadata[buyer]": "u9",
    }
    assert sent.idempotency_key == "checkout-7f3a"
    assert sent.headers["Authorization"] == f"Bearer {KEY}"
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    pi = fake.payment_intents[state.provider_ref]
    assert state == PaymentState(provider_ref=pi["id"], status="requires_payment", client_secret=pi["client_secret"],
                                 amount_received=Money(Decimal(0), "BRL"), failure_reason=None,
                                 metadata={"order_id": "42", "buyer": "u9"})
    assert state.provider_ref.startswith("pi_") and "_secret_" in state.client_secret


@pytest.mark.parametrize("code", STRIPE_OK)
def test_create_payment_in_every_supported_currency(fake, provider, code):
    pay(provider, "1999.90", code, key=f"k-{code}")
    sent = fake.last("POST", "/v1/payment_intents")
    assert (sent.params["amount"], sent.params["currency"]) == ("199990", code.lower())


def test_create_payment_in_a_zero_decimal_currency(fake, provider):
    pay(provider, "500", "JPY")
    assert fake.last("POST", "/v1/payment_intents").params["amount"] == "500"


def test_same_idempotency_key_gives_the_same_payment_intent(fake, provider):
    first = pay(provider, key="order-9")
    second = pay(provider, key="order-9")
    assert first == second
    assert len(fake.payment_intents) == 1
    assert len(fake.requests_to("POST", "/v1/payment_intents")) == 2  # Stripe answered the replay


def test_idempotency_key_reused_with_other_parameters_is_a_non_retryable_error(provider):
    pay(provider, "10.00", key="order-10")
    with pytest.raises(PaymentError) as info:
        pay(provider, "11.00", key="order-10")
    assert not info.value.retryable and info.value.code == "idempotency_error"


@pytest.mark.parametrize("amount,currency,error", [
    ("100000", "IRR", UnsupportedCurrency),
    ("5.124", "KWD", AmountPrecisionError),
    ("0", "USD", PaymentError),
    ("-1.00", "USD", PaymentError),
])
def test_refused_amounts_send_nothing(fake, provider, amount, currency, error):
    with pytest.raises(error) as info:
        pay(provider, amount, currency)
    assert not info.value.retryable
    assert fake.requests == []


@pytest.mark.parametrize("stripe_status,ours", [
    ("requires_payment_method", "requires_payment"),
    ("requires_confirmation", "requires_payment"),
    ("requires_action", "requires_payment"),
    ("processing", "processing"),
    ("requires_capture", "processing"),
    ("canceled", "canceled"),
])
def test_retrieve_maps_statuses(fake, provider, stripe_status, ours):
    ref = pay(provider).provider_ref
    fake.set_status(ref, stripe_status)
    state = provider.retrieve_payment(ref)
    assert (state.provider_ref, state.status, state.failure_reason) == (ref, ours, None)
    assert fake.last().method == "GET" and fake.last().path == f"/v1/payment_intents/{ref}"


def test_retrieve_succeeded_reports_amount_received(fake, provider):
    ref = pay(provider, "250.50", "INR").provider_ref
    fake.succeed(ref)
    state = provider.retrieve_payment(ref)
    assert state.status == "succeeded"
    assert state.amount_received == Money(Decimal("250.50"), "INR")
    assert state.metadata == {"order_id": "42"}


def test_retrieve_failed_attempt_gives_the_reason(fake, provider):
    ref = pay(provider).provider_ref
    fake.fail(ref, "Your card has insufficient funds.", code="card_declined", decline_code="insufficient_funds")
    state = provider.retrieve_payment(ref)
    assert state.status == "requires_payment"
    assert state.failure_reason == "Your card has insufficient funds."


def test_unknown_status_is_an_error_not_a_guess(fake, provider):
    ref = pay(provider).provider_ref
    fake.set_status(ref, "something_new")
    with pytest.raises(PaymentError) as info:
        provider.retrieve_payment(ref)
    assert info.value.code == "unexpected_status"


def test_retrieve_missing_payment_intent(provider):
    with pytest.raises(PaymentError) as info:
        provider.retrieve_payment("pi_nope")
    assert not info.value.retryable and info.value.code == "resource_missing"


def test_cancel_payment(fake, provider):
    ref = pay(provider).provider_ref
    state = provider.cancel_payment(ref, "cancel-order-1")
    sent = fake.last()
    assert (sent.method, sent.path, sent.idempotency_key) == ("POST", f"/v1/payment_intents/{ref}/cancel",
                                                              "cancel-order-1")
    assert state.status == "canceled"
    assert provider.cancel_payment(ref, "cancel-order-1").status == "canceled"  # replayed


def test_cancel_after_the_payment_succeeded_returns_the_current_state(fake, provider):
    ref = pay(provider).provider_ref
    fake.succeed(ref)
    state = provider.cancel_payment(ref, "cancel-order-1")
    assert state.status == "succeeded"
    assert fake.payment_intents[ref]["status"] == "succeeded"


# --- refunds -----------------------------------------------------------------------

def test_refund_sends_payment_intent_amount_key_and_metadata(fake, provider):
    ref = pay(provider, "100.00", "ZAR").provider_ref
    fake.succeed(ref)
    refund = provider.refund(provider_ref=ref, amount=Money(Decimal("30.05"), "ZAR"),
                             idempotency_key="refund-1", metadata={"return_id": "7"})
    sent = fake.last("POST", "/v1/refunds")
    assert sent.params == {"payment_intent": ref, "amount": "3005", "metadata[return_id]": "7"}
    assert sent.idempotency_key == "refund-1"
    assert refund == RefundState(provider_ref=refund.provider_ref, status="succeeded",
                                 amount=Money(Decimal("30.05"), "ZAR"))
    assert refund.provider_ref in fake.refunds


def test_refund_is_idempotent(fake, provider):
    ref = pay(provider).provider_ref
    fake.succeed(ref)
    args = dict(provider_ref=ref, amount=Money(Decimal("1.00"), "BRL"), idempotency_key="refund-1", metadata={})
    assert provider.refund(**args) == provider.refund(**args)
    assert len(fake.refunds) == 1


def test_pending_refund(fake, provider):
    ref = pay(provider).provider_ref
    fake.succeed(ref)
    fake.refund_status = "pending"
    refund = provider.refund(provider_ref=ref, amount=Money(Decimal("1.00"), "BRL"), idempotency_key="r", metadata={})
    assert refund.status == "pending"


def test_refund_more_than_was_paid_is_refused(fake, provider):
    ref = pay(provider, "10.00").provider_ref
    fake.succeed(ref)
    with pytest.raises(PaymentError) as info:
        provider.refund(provider_ref=ref, amount=Money(Decimal("10.01"), "BRL"), idempotency_key="r", metadata={})
    assert not info.value.retryable and info.value.code == "amount_too_large"


def test_refunds_for_charge(fake, provider):
    ref = pay(provider, "100.00").provider_ref
    charge = fake.succeed(ref)
    first = provider.refund(provider_ref=ref, amount=Money(Decimal("10.00"), "BRL"), idempotency_key="a", metadata={})
    second = provider.refund(provider_ref=ref, amount=Money(Decimal("5.50"), "BRL"), idempotency_key="b", metadata={})
    pi_id, refunds = provider.refunds_for_charge(charge)
    assert pi_id == ref
    assert refunds == [second, first]  # newest first, as Stripe lists
    listed = fake.last("GET", "/v1/refunds")
    assert listed.params["charge"] == charge
    assert fake.requests_to("GET", f"/v1/charges/{charge}")


def test_refunds_for_charge_reads_every_page(fake, provider):
    ref = pay(provider, "500.00").provider_ref
    charge = fake.succeed(ref)
    for i in range(103):
        provider.refund(provider_ref=ref, amount=Money(Decimal("0.01"), "BRL"), idempotency_key=f"r{i}", metadata={})
    _, refunds = provider.refunds_for_charge(charge)
    assert len(refunds) == 103 and len({r.provider_ref for r in refunds}) == 103
    assert len(fake.requests_to("GET", "/v1/refunds")) == 2


def test_refunds_for_charge_without_refunds(fake, provider):
    ref = pay(provider).provider_ref
    charge = fake.succeed(ref)
    assert provider.refunds_for_charge(charge) == (ref, [])


# --- transfers -----------------------------------------------------------------------

def test_transfer(fake, provider):
    transfer = provider.transfer(destination="acct_1SellerX", amount=Money(Decimal("80.00"), "EUR"),
                                 idempotency_key="payout-3", metadata={"seller_id": "3"})
    sent = fake.last("POST", "/v1/transfers")
    assert sent.params == {"amount": "8000", "currency": "eur", "destination": "acct_1SellerX",
                           "metadata[seller_id]": "3"}
    assert sent.idempotency_key == "payout-3"
    assert transfer == TransferState(provider_ref=transfer.provider_ref)
    assert transfer.provider_ref.startswith("tr_")


def test_transfer_is_idempotent(fake, provider):
    args = dict(destination="acct_1", amount=Money(Decimal("1.00"), "USD"), idempotency_key="payout-1", metadata={})
    assert provider.transfer(**args) == provider.transfer(**args)
    assert len(fake.transfers) == 1


# --- errors ---------------------------------------------------------------------------------

def test_server_error_is_retryable(fake, provider):
    fake.fail_next(500)
    with pytest.raises(PaymentError) as info:
        pay(provider)
    assert info.value.retryable and info.value.code == "api_error"


def test_server_error_stripe_says_not_to_retry(fake, provider):
    fake.fail_next(500, should_retry=False)
    with pytest.raises(PaymentError) as info:
        pay(provider)
    assert not info.value.retryable


def test_card_declined_is_not_retryable_and_keeps_the_code(fake, provider):
    fake.fail_next(402, code="card_declined", message="Your card was declined.", decline_code="generic_decline")
    with pytest.raises(PaymentError) as info:
        pay(provider)
    assert not info.value.retryable and info.value.code == "card_declined"
    assert "Your card was declined." in str(info.value)


def test_rate_limit_is_retryable(fake, provider):
    fake.fail_next(429)
    with pytest.raises(PaymentError) as info:
        provider.retrieve_payment("pi_any")
    assert info.value.retryable and info.value.code == "rate_limit"


def test_invalid_request_is_not_retryable(fake, provider):
    fake.fail_next(400, code="parameter_invalid_integer", message="Invalid integer: x")
    with pytest.raises(PaymentError) as info:
        pay(provider)
    assert not info.value.retryable and info.value.code == "parameter_invalid_integer"


def test_connection_failure_is_retryable(fake, provider):
    fake.drop_next()
    with pytest.raises(PaymentError) as info:
        pay(provider)
    assert info.value.retryable


def test_timeout_is_retryable(fake):
    slow = StripeProvider(KEY, WHSEC, api_base=fake.url, timeout=0.2, max_network_retries=0)
    fake.delay_next(1.0)
    with pytest.raises(PaymentError) as info:
        slow.retrieve_payment("pi_any")
    assert info.value.retryable


def test_wrong_api_key_is_not_retryable(fake):
    wrong = StripeProvider("sk_test_wrong", WHSEC, api_base=fake.url, max_network_retries=0)
    with pytest.raises(PaymentError) as info:
        pay(wrong)
    assert not info.value.retryable


def test_sdk_retries_with_the_same_idempotency_key(fake):
    retrying = StripeProvider(KEY, WHSEC, api_base=fake.url, max_network_retries=1)
    fake.fail_next(500)
    state = pay(retrying, key="order-retry")
    attempts = fake.requests_to("POST", "/v1/payment_intents")
    assert [a.idempotency_key for a in attempts] == ["order-retry", "order-retry"]
    assert state.status == "requires_payment" and len(fake.payment_intents) == 1


# --- webhooks ---------------------------------------------------------------------------------

def test_sign_webhook_matches_stripes_scheme():
    # t=...,v1=hex(HMAC-SHA256(secret, "<t>.<payload>")), checked against the SDK's own generator once.
    assert sign_webhook(b'{"id": "evt_1", "object": "event"}', "whsec_test", 1700000000) == (
        "t=1700000000,v1=4278dbfbe45c971d383f6bf4a8a18768ed311b236ddb92b8ac93952f8d567247")


def test_valid_webhook_parses(fake, provider):
    ref = pay(provider).provider_ref
    fake.succeed(ref)
    body = fake.event("payment_intent.succeeded", ref, event_id="evt_123")
    event = provider.parse_webhook(body, sign_webhook(body, WHSEC))
    assert (event.id, event.type, event.object_id) == ("evt_123", "payment_intent.succeeded", ref)
    assert event.data["object"]["status"] == "succeeded"
    assert event.data["object"]["amount"] == 1234


def test_charge_refunded_event_names_the_charge(fake, provider):
    ref = pay(provider).provider_ref
    charge = fake.succeed(ref)
    body = fake.event("charge.refunded", charge)
    event = provider.parse_webhook(body, sign_webhook(body, WHSEC))
    assert event.object_id == charge and event.data["object"]["payment_intent"] == ref


def _event_body() -> bytes:
    return json.dumps({"id": "evt_1", "object": "event", "type": "payment_intent.succeeded",
                       "data": {"object": {"id": "pi_1", "object": "payment_intent"}}}).encode()


def test_tampered_body_is_refused(provider):
    body = _event_body()
    header = sign_webhook(body, WHSEC)
    with pytest.raises(InvalidSignature):
        provider.parse_webhook(body.replace(b"pi_1", b"pi_2"), header)


def test_wrong_secret_is_refused(provider):
    body = _event_body()
    with pytest.raises(InvalidSignature):
        provider.parse_webhook(body, sign_webhook(body, "whsec_someone_else"))


def test_stale_timestamp_is_refused(provider):
    body = _event_body()
    with pytest.raises(InvalidSignature):
        provider.parse_webhook(body, sign_webhook(body, WHSEC, timestamp=int(time.time()) - 301))
    # inside the 300 s tolerance it passes
    assert provider.parse_webhook(body, sign_webhook(body, WHSEC, timestamp=int(time.time()) - 290)).id == "evt_1"


@pytest.mark.parametrize("header", [None, "", "garbage", "t=abc,v1=00", "t=1700000000", "v1=deadbeef"])
def test_missing_or_malformed_header_is_refused(provider, header):
    with pytest.raises(InvalidSignature):
        provider.parse_webhook(_event_body(), header)


def test_any_matching_v1_signature_passes_as_during_secret_rotation(provider):
    body = _event_body()
    t = int(time.time())
    old = sign_webhook(body, "whsec_old", t).split(",")[1]
    assert provider.parse_webhook(body, f"{sign_webhook(body, WHSEC, t)},{old}").id == "evt_1"


@pytest.mark.parametrize("body", [b"not json", b"\xff\xfe", b'{"no": "id"}', b"[1, 2]"])
def test_signed_but_not_an_event_is_refused(provider, body):
    header = f"t={int(time.time())},v1=00" if body == b"\xff\xfe" else sign_webhook(body, WHSEC)
    with pytest.raises(InvalidSignature):
        provider.parse_webhook(body, header)


def test_empty_webhook_secret_refuses_everything(fake):
    unconfigured = StripeProvider(KEY, "", api_base=fake.url)
    body = _event_body()
    with pytest.raises(InvalidSignature):
        unconfigured.parse_webhook(body, sign_webhook(body, ""))
