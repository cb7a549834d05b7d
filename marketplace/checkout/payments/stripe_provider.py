"""Stripe: PaymentIntents, Refunds and Connect Transfers through the official SDK.

This is the only module in the project that imports `stripe`. It talks to
Stripe with the SDK's client object, `stripe.StripeClient`, and its v1
services (`client.v1.payment_intents.create(params, options)`), passing the
caller's idempotency key as a per-request option
(`options={"idempotency_key": ...}`). Responses are turned into plain dicts
(`StripeObject.to_dict()`) before they are read, and into the provider-neutral
states of `base.py` before they leave this module.

Amounts: Stripe wants integer amounts in *its* minor units, which are not
always CLDR's (the rule `Money` rounds to). `to_stripe_amount` and
`from_stripe_amount` convert, and refuse (`AmountPrecisionError`) rather than
round when an amount cannot be said exactly on the other side:

* zero-decimal currencies (`ZERO_DECIMAL`, e.g. JPY, KRW, UGX): whole units;
* three-decimal currencies (`THREE_DECIMAL`: BHD, JOD, KWD, OMR, TND): three
  decimals whose last digit must be 0 (Stripe's payment partners need it);
* ISK: Stripe keeps it two-decimal in the API for backwards compatibility, but
  since April 2023 only whole krónur can be charged, so the Stripe amount must
  be a multiple of 100 (CLDR also gives ISK 0 digits, so a `Money` in ISK is
  always whole);
* every other currency: two decimals. That includes currencies where CLDR
  says otherwise (IQD, LAK, ... have 0 CLDR digits, Stripe 2): a Stripe amount
  with a fraction CLDR cannot hold is refused when read back. HUF and TWD are
  charged with two decimals (Stripe's whole-unit rule for them applies to
  payouts, which this module does not make). Of the marketplace's currencies
  only IRR has different digits in CLDR (0) and it is not supported anyway.

Supported currencies: `STRIPE_CURRENCIES`, Stripe's presentment currencies
as documented (https://docs.stripe.com/currencies). IRR is not among them
(sanctions), so an IRR amount raises `UnsupportedCurrency` before any request;
the other eleven marketplace currencies are (whether a given account and
payment method can use one is Stripe's to answer, as a PaymentError).

Errors: every SDK error becomes a `PaymentError` with Stripe's error code.
`retryable` is true for network failures, rate limits (429), conflicts (409),
5xx answers and whatever Stripe marks `Stripe-Should-Retry: true`; false for
card, invalid-request, idempotency and authentication errors. The SDK itself
also retries `max_network_retries` times (with the same idempotency key) before
an error reaches us.

Webhooks: the signature is checked with the SDK's `WebhookSignature.verify_header`
(HMAC-SHA256 over "<t>.<raw body>", any of the header's v1 signatures, a
timestamp at most 300 s old; like Stripe's own libraries, a timestamp in the
future is not refused). The body is then parsed as JSON into plain dicts:
`WebhookEvent.data` is the event's `data` member ({"object": {...}, maybe
"previous_attributes"}) and `object_id` is `data.object.id`. A signed body
that is not a Stripe event is refused like a bad signature.

Error codes: Stripe's `error.code` (card_declined, resource_missing,
amount_too_large, ...), else its `error.type` (api_error for a bare 5xx,
idempotency_error), "api_connection_error" for network failures; our own
refusals use "unsupported_currency", "amount_precision", "invalid_amount",
"unexpected_status".

`max_network_retries` (keyword, default 2) is the SDK's own retry count; tests
pass 0 to see a single failure.
"""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Callable

import stripe

from marketplace.checkout.payments.base import (
    InvalidSignature,
    PaymentError,
    PaymentState,
    RefundState,
    TransferState,
    UnsupportedCurrency,
    WebhookEvent,
)
from marketplace.kernel.money import Money, check_currency, round_amount


#: Seconds a webhook's signed timestamp may be old.
WEBHOOK_TOLERANCE = 300

#: Currencies Stripe takes in whole units.
ZERO_DECIMAL = frozenset({
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
})
#: Currencies Stripe takes in thousandths, the last digit always 0.
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})
#: Stripe amounts in these currencies must be multiples of this many Stripe minor units.
AMOUNT_STEP = {code: 10 for code in THREE_DECIMAL} | {"ISK": 100}

#: Stripe's presentment currencies (https://docs.stripe.com/currencies#presentment-currencies).
STRIPE_CURRENCIES = ZERO_DECIMAL | THREE_DECIMAL | frozenset({
    "USD", "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BMD", "BND", "BOB", "BRL", "BSD", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CNY", "COP",
    "CRC", "CVE", "CZK", "DKK", "DOP", "DZD", "EGP", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GIP",
    "GMD", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "ISK", "JMD", "KES", "KGS",
    "KHR", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL", "MKD", "MMK", "MNT", "MOP",
    "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB", "SAR", "SBD", "SCR", "SEK", "SGD", "SHP",
    "SLE", "SOS", "SRD", "STD", "SZL", "THB", "TJS", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UYU",
    "UZS", "WST", "XCD", "YER", "ZAR", "ZMW",
})

#: PaymentIntent status -> PaymentState.status.
_STATUS = {
    "requires_payment_method": "requires_payment",
    "requires_confirmation": "requires_payment",
    "requires_action": "requires_payment",
    "processing": "processing",
    # Authorised, not yet captured: no money received yet (we create automatic-capture intents).
    "requires_capture": "processing",
    "succeeded": "succeeded",
    "canceled": "canceled",
}
#: Refund status -> RefundState.status.
_REFUND_STATUS = {
    "pending": "pending",
    "requires_action": "pending",
    "succeeded": "succeeded",
    "failed": "failed",
    "canceled": "failed",
}


class AmountPrecisionError(PaymentError):
    """The amount cannot be said exactly in Stripe's minor units (or back in CLDR's); never rounded."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False, code="amount_precision")


def stripe_supports(currency: str) -> bool:
    """Whether Stripe accepts payments in `currency` (ISO 4217, any case)."""
    return isinstance(currency, str) and currency.upper() in STRIPE_CURRENCIES


def stripe_exponent(currency: str) -> int:
    """Decimal places of Stripe's minor unit for `currency` (0, 2 or 3); UnsupportedCurrency if Stripe has none."""
    code = _supported(currency)
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def _supported(currency: str) -> str:
    code = check_currency(currency)
    if code not in STRIPE_CURRENCIES:
        raise UnsupportedCurrency(f"Stripe does not support payments in {code}", code="unsupported_currency")
    return code


def _shift(value: Decimal, places: int) -> Decimal:
    """value * 10**places, exactly (only the exponent changes; no context, no rounding)."""
    sign, digits, exponent = value.as_tuple()
    return Decimal((sign, digits, exponent + places))


def to_stripe_amount(money: Money) -> int:
    """`money` as the integer `amount` Stripe expects for its currency.

    Raises UnsupportedCurrency for a currency Stripe does not take, and
    AmountPrecisionError when the amount has more decimals than Stripe allows
    (or breaks a currency's step, e.g. a KWD amount not in whole 0.010, ISK
    with a fraction); never rounds.
    """
    if not isinstance(money, Money):
        raise TypeError("to_stripe_amount takes a Money")
    code = _supported(money.currency)
    scaled = _shift(money.amount, stripe_exponent(code))
    if scaled != scaled.to_integral_value():
        raise AmountPrecisionError(f"{money} has more decimals than Stripe takes for {code}")
    minor = int(scaled)
    step = AMOUNT_STEP.get(code, 1)
    if minor % step:
        raise AmountPrecisionError(f"{money} is not a multiple of {_shift(Decimal(step), -stripe_exponent(code))} "
                                   f"{code}, as Stripe requires")
    return minor


def from_stripe_amount(amount: int, currency: str) -> Money:
    """The `Money` for a Stripe `amount` in `currency` (Stripe's lower-case code is fine).

    Raises AmountPrecisionError if the amount has a fraction finer than the
    currency's CLDR minor units (which `Money` would round away).
    """
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"a Stripe amount is an integer, not {type(amount).__name__}")
    code = _supported(currency)
    value = _shift(Decimal(amount), -stripe_exponent(code))
    if round_amount(value, code) != value:
        raise AmountPrecisionError(f"Stripe amount {amount} {code} ({value}) has a fraction {code} cannot hold")
    return Money(value, code)


def _positive(amount: Money) -> int:
    minor = to_stripe_amount(amount)
    if minor <= 0:
        raise PaymentError(f"amount must be positive, not {amount}", code="invalid_amount")
    return minor


def _stripe_currency(amount: Money) -> str:
    return amount.currency.lower()


def _metadata(metadata: dict[str, str] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (metadata or {}).items()}


def _error_code(err: stripe.StripeError) -> str | None:
    if err.code:
        return err.code
    body = err.json_body if isinstance(err.json_body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    return error.get("code") or error.get("type")


def _translate(err: stripe.StripeError) -> PaymentError:
    """An SDK error as a PaymentError, retryable only where trying again can help."""
    status = err.http_status
    should_retry = next((str(v).lower() for k, v in (err.headers or {}).items()
                         if k.lower() == "stripe-should-retry"), None)
    if isinstance(err, stripe.APIConnectionError):
        retryable = True
    elif isinstance(err, stripe.RateLimitError):
        retryable = True
    elif isinstance(err, (stripe.CardError, stripe.InvalidRequestError, stripe.IdempotencyError,
                          stripe.AuthenticationError, stripe.PermissionError)):
        retryable = False
    else:  # APIError and anything else: a 5xx or a 409 conflict may pass
        retryable = status is None or status >= 500 or status == 409
    if should_retry == "true":
        retryable = True
    elif should_retry == "false" and not isinstance(err, stripe.APIConnectionError):
        retryable = False
    code = _error_code(err)
    if isinstance(err, stripe.APIConnectionError):
        code = code or "api_connection_error"
    message = err.user_message or str(err)
    return PaymentError(f"Stripe: {message}", retryable=retryable, code=code)


class StripeProvider:
    name = "stripe"

    def __init__(self, secret_key: str, webhook_secret: str, api_base: str | None = None,
                 timeout: float = 10.0, *, max_network_retries: int = 2) -> None:
        if not secret_key:
            raise ValueError("StripeProvider needs a secret key")
        self._webhook_secret = webhook_secret
        # Point every base address at `api_base` (a test fake, a proxy), so nothing leaks to api.stripe.com.
        bases = {"api": api_base, "connect": api_base, "files": api_base} if api_base else None
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses=bases,
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(timeout=timeout),
        )

    # -- calls ------------------------------------------------------------

    @staticmethod
    def _call(fn: Callable[[], Any]) -> dict[str, Any]:
        try:
            result = fn()
        except stripe.StripeError as err:
            raise _translate(err) from err
        return result.to_dict()

    def _state(self, pi: dict[str, Any]) -> PaymentState:
        status = _STATUS.get(pi.get("status"))
        if status is None:
            raise PaymentError(f"Stripe: PaymentIntent {pi.get('id')} has an unknown status {pi.get('status')!r}",
                               code="unexpected_status")
        failure = None
        error = pi.get("last_payment_error")
        if status == "requires_payment" and error:
            failure = error.get("message") or error.get("code") or "payment failed"
        received = pi.get("amount_received")
        return PaymentState(
            provider_ref=pi["id"],
            status=status,
            client_secret=pi.get("client_secret"),
            amount_received=from_stripe_amount(received, pi["currency"]) if received is not None else None,
            failure_reason=failure,
            metadata=dict(pi.get("metadata") or {}),
        )

    @staticmethod
    def _refund_state(refund: dict[str, Any]) -> RefundState:
        return RefundState(
            provider_ref=refund["id"],
            status=_REFUND_STATUS.get(refund.get("status"), "pending"),
            amount=from_stripe_amount(refund["amount"], refund["currency"]),
        )

    # -- PaymentProvider ---------------------------------------------------

    def create_payment(self, *, amount: Money, idempotency_key: str, metadata: dict[str, str]) -> PaymentState:
        params = {
            "amount": _positive(amount),
            "currency": _stripe_currency(amount),
            "automatic_payment_methods": {"enabled": True},
            "metadata": _metadata(metadata),
        }
        pi = self._call(lambda: self._client.v1.payment_intents.create(
            params, options={"idempotency_key": idempotency_key}))
        return self._state(pi)

    def retrieve_payment(self, provider_ref: str) -> PaymentState:
        return self._state(self._call(lambda: self._client.v1.payment_intents.retrieve(provider_ref)))

    def cancel_payment(self, provider_ref: str, idempotency_key: str) -> PaymentState:
        """Cancel the PaymentIntent and return its state.

        If Stripe refuses because the intent can no longer be canceled
        (already canceled, or succeeded meanwhile), its current state is
        returned instead of an error: callers must look at `status`.
        """
        try:
            pi = self._call(lambda: self._client.v1.payment_intents.cancel(
                provider_ref, options={"idempotency_key": idempotency_key}))
        except PaymentError as err:
            if err.code != "payment_intent_unexpected_state":
                raise
            return self.retrieve_payment(provider_ref)
        return self._state(pi)

    def refund(self, *, provider_ref: str, amount: Money, idempotency_key: str,
               metadata: dict[str, str]) -> RefundState:
        params = {
            "payment_intent": provider_ref,
            "amount": _positive(amount),
            "metadata": _metadata(metadata),
        }
        refund = self._call(lambda: self._client.v1.refunds.create(
            params, options={"idempotency_key": idempotency_key}))
        return self._refund_state(refund)

    def retrieve_refund(self, provider_ref: str) -> RefundState:
        return self._refund_state(self._call(lambda: self._client.v1.refunds.retrieve(provider_ref)))

    def refunds_for_charge(self, charge_id: str) -> tuple[str | None, list[RefundState]]:
        """The charge's PaymentIntent id and all its refunds (newest first, every page)."""
        charge = self._call(lambda: self._client.v1.charges.retrieve(charge_id))
        payment_intent = charge.get("payment_intent")
        if isinstance(payment_intent, dict):
            payment_intent = payment_intent.get("id")

        def all_refunds() -> Any:
            return list(self._client.v1.refunds.list({"charge": charge_id, "limit": 100}).auto_paging_iter())

        try:
            refunds = [r.to_dict() for r in all_refunds()]
        except stripe.StripeError as err:
            raise _translate(err) from err
        return payment_intent, [self._refund_state(r) for r in refunds]

    def transfer(self, *, destination: str, amount: Money, idempotency_key: str,
                 metadata: dict[str, str]) -> TransferState:
        params = {
            "amount": _positive(amount),
            "currency": _stripe_currency(amount),
            "destination": destination,
            "metadata": _metadata(metadata),
        }
        transfer = self._call(lambda: self._client.v1.transfers.create(
            params, options={"idempotency_key": idempotency_key}))
        return TransferState(provider_ref=transfer["id"])

    def parse_webhook(self, payload: bytes, signature_header: str | None) -> WebhookEvent:
        try:
            stripe.WebhookSignature.verify_header(payload, signature_header, self._webhook_secret,
                                                  WEBHOOK_TOLERANCE)
        except stripe.SignatureVerificationError as err:
            raise InvalidSignature(err.user_message or "invalid Stripe signature") from None
        except (UnicodeDecodeError, ValueError):
            raise InvalidSignature("webhook body is not UTF-8") from None
        try:
            event = json.loads(payload)
        except ValueError:
            raise InvalidSignature("signed webhook body is not JSON") from None
        if not (isinstance(event, dict) and isinstance(event.get("id"), str) and isinstance(event.get("type"), str)):
            raise InvalidSignature("signed webhook body is not a Stripe event")
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        obj = data.get("object") if isinstance(data.get("object"), dict) else {}
        object_id = obj.get("id") if isinstance(obj.get("id"), str) else None
        return WebhookEvent(id=event["id"], type=event["type"], object_id=object_id, data=data)
