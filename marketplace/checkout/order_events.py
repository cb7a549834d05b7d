"""The events checkout publishes through the outbox: partners follow their vendors' orders by them."""
from __future__ import annotations

from sqlalchemy.orm import Session

from marketplace.checkout.models import Order
from marketplace.kernel import events

ORDER_CREATED = "order.created"
ORDER_PAID = "order.paid"
ORDER_CANCELLED = "order.cancelled"
ORDER_REFUNDED = "order.refunded"


def publish(session: Session, order: Order, event_type: str) -> None:
    """Partners follow their vendors' orders through signed webhooks (via the outbox)."""
    session.flush()
    events.publish(session, event_type, {
        "order_id": order.id, "status": order.status, "currency": order.currency,
        "total": str(order.total_amount), "refunded": str(order.refunded_amount),
        "vendor_orders": [{"id": v.id, "vendor_id": v.vendor_id, "status": v.status,
                           "subtotal": str(v.subtotal_amount), "refunded": str(v.refunded_amount),
                           "vendor_currency": v.vendor_currency,
                           "net": str(v.net_amount)} for v in order.vendor_orders],
    }, vendor_ids=sorted({v.vendor_id for v in order.vendor_orders}))
