"""The small interface checkout uses to take money; one implementation per provider.

Amounts cross this boundary as `Money`; only a provider that needs integer
minor units (Stripe) converts, inside its own module.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from marketplace.kernel.money import Money


class PaymentError(Exception):
    """The provider refused or could not be reached; `retryable` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool = False, code: str | None = None) -> None:
        super().__init__(message)
        self.retryable, self.code = retryable, code


class UnsupportedCurrency(PaymentError):
    pass


class InvalidSignature(Exception):
    """A webhook whose signature does not verify (or is too old)."""


@dataclass(frozen=True)
class PaymentState:
    provider_ref: str | None     # e.g. the PaymentIntent id
    status: str                  # requires_payment | processing | succeeded | failed | canceled
    client_secret: str | None = None
    amount_received: Money | None = None
    failure_reason: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RefundState:
    provider_ref: str | None
    status: str                  # pending | succeeded | failed
    amount: Money | None = None


@dataclass(frozen=True)
class TransferState:
    provider_ref: str | None


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str
    object_id: str | None        # the PaymentIntent / Charge id the event is about
    data: dict[str, Any]


class PaymentProvider(Protocol):
    name: str

    def create_payment(self, *, amount: Money, idempotency_key: str, metadata: dict[str, str]) -> PaymentState:
        """Start collecting `amount`; the same idempotency key never creates a second payment."""

    def retrieve_payment(self, provider_ref: str) -> PaymentState:
        """The payment's current state, read from the provider (never trusted from a webhook body)."""

    def cancel_payment(self, provider_ref: str, idempotency_key: str) -> PaymentState: ...

    def refund(self, *, provider_ref: str, amount: Money, idempotency_key: str,
               metadata: dict[str, str]) -> RefundState: ...

    def retrieve_refund(self, provider_ref: str) -> RefundState:
        """A refund's current state, read from the provider (a pending refund settles later)."""

    def refunds_for_charge(self, charge_id: str) -> tuple[str | None, list[RefundState]]:
        """(PaymentIntent id, the charge's refunds) for a charge.refunded event."""

    def transfer(self, *, destination: str, amount: Money, idempotency_key: str,
                 metadata: dict[str, str]) -> TransferState:
        """Pay a connected account (Stripe Connect)."""

    def parse_webhook(self, payload: bytes, signature_header: str | None) -> WebhookEvent:
        """Verify the signature on the raw body and parse the event; raises InvalidSignature."""
