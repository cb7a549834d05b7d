"""An order gets paid: the provider's word (its events, re-read), or the shopper's own confirmation with the
manual provider; a payment that arrives after the order was cancelled goes back in full."""
from __future__ import annotations

import logging

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.checkout import declarations, order_events, orders, payouts
from marketplace.checkout.errors import CheckoutErrorCode
from marketplace.checkout.models import Order, OrderStatus, Payment, PayoutEntry, Refund, VendorOrderStatus
from marketplace.checkout.payments import provider
from marketplace.checkout.payments.base import PaymentError, PaymentState
from marketplace.kernel.clock import now
from marketplace.kernel.errors import Conflict
from marketplace.kernel.money import Money

log = logging.getLogger(__name__)


def mark_paid(session: Session, order_id: int) -> Order:
    """The provider says the order is paid: pay it, once (an order already paid or cancelled is left as it
    is; a cancelled one is refunded by `apply_payment_state`)."""
    order = orders.locked_order(session, order_id)
    if order.status != OrderStatus.AWAITING_PAYMENT:
        session.commit()
        return order
    return _pay(session, order)


def _pay(session: Session, order: Order) -> Order:
    """Reservations become sales; each vendor's net amount is credited to its payout ledger. `order` is
    locked and awaiting payment."""
    order.status, order.paid_at = OrderStatus.PAID, now()
    if order.payment is not None:
        order.payment.status = "succeeded"
    for vendor_order in order.vendor_orders:
        vendor_order.status = VendorOrderStatus.PAID
        session.add(PayoutEntry(vendor_id=vendor_order.vendor_id, vendor_order_id=vendor_order.id, kind="credit",
                                reference=f"order-{order.id}", amount=vendor_order.net_amount,
                                currency=vendor_order.vendor_currency, status="pending"))
    order_events.publish(session, order, order_events.ORDER_PAID)
    declarations.publish_ready(session, order)
    session.commit()
    payouts.transfer_payouts(session, order)
    return order


def confirm_manual_payment(session: Session, user: User, order_id: int) -> Order:
    """The shopper's own confirmation: decided on the order as it is under the lock, so a confirmation that
    loses to a cancellation, the reservation's expiry or another confirmation is a 409, never a 200."""
    orders.order_for(session, user, order_id)  # another shopper's order is a 404
    order = orders.locked_order(session, order_id)
    if order.payment_provider != "manual":
        raise Conflict(CheckoutErrorCode.INVALID_ORDER_STATE, _("This order is paid through its payment provider."))
    orders.require_status(order, (OrderStatus.AWAITING_PAYMENT,), _("Only an order awaiting payment can be paid."))
    return _pay(session, order)


def apply_payment_state(session: Session, state: PaymentState) -> Order | None:
    """The payment's state as the provider reports it: paid, failed (the order keeps waiting) or, for an
    order cancelled meanwhile, paid too late (refunded)."""
    payment = session.scalar(select(Payment).where(Payment.provider_ref == state.provider_ref))
    if payment is None:
        return None
    if state.status == "succeeded":
        order = orders.locked_order(session, payment.order_id)
        if order.status == OrderStatus.CANCELLED:
            return _refund_late_payment(session, order)
        return mark_paid(session, payment.order_id)
    order = orders.locked_order(session, payment.order_id)
    if order.status == OrderStatus.AWAITING_PAYMENT:
        payment.status, payment.failure_reason = state.status, state.failure_reason
        order.failure_reason = state.failure_reason
    session.commit()
    return order


def _refund_late_payment(session: Session, order: Order) -> Order:
    """A payment that succeeded after its order was cancelled (the shopper paid while the order expired, or
    the provider's cancel came too late): the stock is released, so the whole amount goes back, once (one
    provider idempotency key per order; a later success event finds it refunded). The order stays cancelled."""
    amount = order.total_amount - order.refunded_amount
    if amount <= 0:
        session.commit()
        return order
    row = Refund(order_id=order.id, amount=amount, currency=order.currency, status="pending",
                 reason="paid after the order was cancelled")
    session.add(row)
    session.flush()
    try:
        state = provider().refund(provider_ref=order.payment.provider_ref, amount=Money(amount, order.currency),
                                  idempotency_key=f"order-{order.id}-late-payment",
                                  metadata={"order_id": str(order.id)})
    except PaymentError:
        session.rollback()  # nothing booked; the provider redelivers the event and this runs again
        raise
    row.provider_ref, row.status = state.provider_ref, state.status
    order.refunded_amount += amount
    order.payment.status = "refunded"
    log.warning("order %s was paid after it was cancelled; %s %s refunded", order.id, amount, order.currency)
    order_events.publish(session, order, order_events.ORDER_REFUNDED)
    session.commit()
    return order
