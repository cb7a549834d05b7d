"""The payment provider's events: each applied exactly once, the state re-read from the provider."""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.checkout import paying, refunds
from marketplace.checkout.models import ProcessedWebhookEvent
from marketplace.checkout.payments import provider
from marketplace.checkout.payments.base import PaymentError

PAYMENT_EVENTS = ("payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled")
CHARGE_REFUNDED = "charge.refunded"
REFUND_EVENTS = ("refund.updated", "refund.failed", "charge.refund.updated")


def _first_time(session: Session, event_id: str, event_type: str) -> bool:
    """Claim an event id in the current transaction; False if it was already processed."""
    session.add(ProcessedWebhookEvent(id=event_id, provider=provider().name, type=event_type))
    try:
        session.flush()
        return True
    except IntegrityError:
        session.rollback()
        return False


def handle_webhook(session: Session, payload: bytes, signature: str | None) -> str:
    """Apply a provider event exactly once; the state is re-read from the provider, never trusted."""
    event = provider().parse_webhook(payload, signature)
    if not _first_time(session, event.id, event.type):
        return "duplicate"
    try:
        if event.type in PAYMENT_EVENTS:
            paying.apply_payment_state(session, provider().retrieve_payment(event.object_id))
        elif event.type == CHARGE_REFUNDED:
            refunds.record_provider_refunds(session, event.object_id)
        elif event.type in REFUND_EVENTS:
            refunds.settle_provider_refund(session, event.object_id)
        else:
            session.commit()
            return "ignored"
    except PaymentError:
        session.rollback()  # the event id is released: the provider retries the delivery
        raise
    session.commit()
    return "processed"
