"""The manual provider: bank transfer, cash on delivery, anything settled outside the app.

It needs nothing outside and keeps no state. The checkout service records
manual payments in its own tables and marks them paid through its confirm
endpoint, so for manual payments *the app's database is the source of truth*:
this provider only hands out stable references and never learns whether
money arrived.

* create_payment: reference `manual_<idempotency key>` (so the same key gives
  the same reference), status "requires_payment", no client secret.
* retrieve_payment: always "requires_payment" -- it cannot know better; a
  caller that needs the real state reads its own records.
* cancel_payment: "canceled" (nothing was started outside).
* refund: "succeeded" at once with reference `manual_refund_<idempotency key>`;
  the money itself goes back by hand.
* refunds_for_charge: (None, []) -- there are no provider charges.
* transfer: no reference (sellers are paid out outside the app).
* parse_webhook: there are no manual webhooks; every call raises InvalidSignature.
"""
from __future__ import annotations

from marketplace.checkout.payments.base import (
    InvalidSignature,
    PaymentState,
    RefundState,
    TransferState,
    WebhookEvent,
)
from marketplace.kernel.money import Money


def _check_key(idempotency_key: str) -> str:
    if not isinstance(idempotency_key, str) or not idempotency_key:
        raise ValueError("an idempotency key is required")
    return idempotency_key


class ManualProvider:
    name = "manual"

    def create_payment(self, *, amount: Money, idempotency_key: str, metadata: dict[str, str]) -> PaymentState:
        if not isinstance(amount, Money):
            raise TypeError("amount must be Money")
        return PaymentState(provider_ref=f"manual_{_check_key(idempotency_key)}", status="requires_payment",
                            client_secret=None, metadata=dict(metadata or {}))

    def retrieve_payment(self, provider_ref: str) -> PaymentState:
        """Always "requires_payment": whether a manual payment arrived is recorded by the app, not here."""
        return PaymentState(provider_ref=provider_ref, status="requires_payment", client_secret=None)

    def cancel_payment(self, provider_ref: str, idempotency_key: str) -> PaymentState:
        return PaymentState(provider_ref=provider_ref, status="canceled", client_secret=None)

    def refund(self, *, provider_ref: str, amount: Money, idempotency_key: str,
               metadata: dict[str, str]) -> RefundState:
        if not isinstance(amount, Money):
            raise TypeError("amount must be Money")
        return RefundState(provider_ref=f"manual_refund_{_check_key(idempotency_key)}", status="succeeded",
                           amount=amount)

    def retrieve_refund(self, provider_ref: str) -> RefundState:
        """Manual refunds are settled when they are made."""
        return RefundState(provider_ref=provider_ref, status="succeeded")

    def refunds_for_charge(self, charge_id: str) -> tuple[str | None, list[RefundState]]:
        return None, []

    def transfer(self, *, destination: str, amount: Money, idempotency_key: str,
                 metadata: dict[str, str]) -> TransferState:
        return TransferState(provider_ref=None)

    def parse_webhook(self, payload: bytes, signature_header: str | None) -> WebhookEvent:
        raise InvalidSignature("the manual provider has no webhooks")
