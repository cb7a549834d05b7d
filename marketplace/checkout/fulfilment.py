"""An order after it was placed: cancelled (by the shopper, or when its reservation expires) giving back its
stock and campaign limits, or, once paid, shipped and delivered by each vendor."""
from __future__ import annotations

import logging

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import services as catalog
from catalog.models import Product
from marketplace.accounts.models import User
from marketplace.checkout import order_events, orders, paying
from marketplace.checkout.errors import CheckoutErrorCode, PaymentUnavailable
from marketplace.checkout.models import Order, OrderStatus, VendorOrder, VendorOrderStatus
from marketplace.checkout.payments import provider
from marketplace.checkout.payments.base import PaymentError
from marketplace.kernel.clock import now
from marketplace.kernel.errors import Conflict, DomainError
from promotions import claims

log = logging.getLogger(__name__)


def _paid_at_provider(order: Order) -> bool:
    """Whether the provider has the money although no success event was applied yet (it may be on its way)."""
    if order.payment is None or not order.payment.provider_ref or order.payment_provider == "manual":
        return False
    try:
        return provider().retrieve_payment(order.payment.provider_ref).status == "succeeded"
    except PaymentError as error:
        raise PaymentUnavailable(CheckoutErrorCode.PAYMENT_PROVIDER_ERROR,
                                 _("The payment provider did not answer; try again shortly."),
                                 provider_code=error.code) from None


def _release_stock(session: Session, order: Order) -> None:
    for line in order.lines:
        if line.product_id is not None:
            catalog.change_stock(session, line.product_id, line.quantity)
            catalog.record_search_change(session, session.get(Product, line.product_id))


def cancel(session: Session, order: Order, reason: str) -> Order:
    """Cancel a locked order (from `orders.locked_order`) that is still awaiting payment, giving back its
    stock and campaign limits."""
    orders.require_status(order, (OrderStatus.AWAITING_PAYMENT,),
                          _("Only an order awaiting payment can be cancelled."))
    if _paid_at_provider(order):  # never cancel (and resell the stock of) an order the shopper has paid
        paying.mark_paid(session, order.id)
        raise Conflict(CheckoutErrorCode.INVALID_ORDER_STATE, _("This order has been paid."),
                       current_status=OrderStatus.PAID)
    order.status, order.cancelled_at, order.failure_reason = OrderStatus.CANCELLED, now(), reason
    for vendor_order in order.vendor_orders:
        vendor_order.status = VendorOrderStatus.CANCELLED
    _release_stock(session, order)
    claims.release(session, order.id, [(line.campaign, line.quantity) for line in order.lines if line.campaign])
    if order.payment is not None:
        order.payment.status = "canceled"
    order_events.publish(session, order, order_events.ORDER_CANCELLED)
    session.commit()
    if order.payment is not None and order.payment.provider_ref and order.payment_provider != "manual":
        try:
            provider().cancel_payment(order.payment.provider_ref, f"order-{order.id}-cancel")
        except PaymentError as error:
            log.warning("order %s cancelled; its payment could not be cancelled yet: %s", order.id, error)
    return order


def cancel_by_shopper(session: Session, user: User, order_id: int) -> Order:
    orders.order_for(session, user, order_id)
    return cancel(session, orders.locked_order(session, order_id), "cancelled by the shopper")


def expire_reservations(session: Session) -> int:
    """Worker job: unpaid orders past their reservation give their stock back."""
    expired = session.scalars(select(Order.id).where(Order.status == OrderStatus.AWAITING_PAYMENT,
                                                     Order.reserved_until < now()).limit(500)).all()
    done = 0
    for order_id in expired:
        order = orders.locked_order(session, order_id)
        if order.status == OrderStatus.AWAITING_PAYMENT and order.reserved_until < now():
            try:
                cancel(session, order, "reservation expired")
            except DomainError as error:  # paid after all, or the provider cannot say yet (next pass)
                session.rollback()
                log.info("order %s not expired: %s", order_id, error)
                continue
            done += 1
        else:
            session.commit()
    return done  # what changed: `worker --once` repeats until a pass does nothing


def ship(session: Session, user: User, vendor_order_id: int, carrier: str, tracking_number: str) -> VendorOrder:
    vendor_order = orders.own_vendor_order(session, user, vendor_order_id, lock=True)
    if vendor_order.status != VendorOrderStatus.PAID:
        raise Conflict(CheckoutErrorCode.INVALID_ORDER_STATE, _("Only a paid vendor order can be shipped."),
                       current_status=vendor_order.status)
    vendor_order.status, vendor_order.shipped_at = VendorOrderStatus.SHIPPED, now()
    vendor_order.carrier, vendor_order.tracking_number = carrier, tracking_number
    session.commit()
    return vendor_order


def deliver(session: Session, user: User, vendor_order_id: int) -> VendorOrder:
    vendor_order = orders.own_vendor_order(session, user, vendor_order_id, lock=True)
    if vendor_order.status != VendorOrderStatus.SHIPPED:
        raise Conflict(CheckoutErrorCode.INVALID_ORDER_STATE, _("Only a shipped vendor order can be delivered."),
                       current_status=vendor_order.status)
    vendor_order.status, vendor_order.delivered_at = VendorOrderStatus.DELIVERED, now()
    order = vendor_order.order
    if order.status == OrderStatus.PAID and all(
        v.status in (VendorOrderStatus.DELIVERED, VendorOrderStatus.REFUNDED) for v in order.vendor_orders
    ):
        order.status = OrderStatus.COMPLETED
    session.commit()
    return vendor_order
