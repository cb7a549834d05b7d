"""Refunds: asked for here by an admin (the whole order or one vendor's part) or made at the provider, booked
once the provider says they succeeded, on the order, its vendor orders and the vendors' payout ledger."""
from __future__ import annotations

import logging
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.checkout import calculations, order_events, orders
from marketplace.checkout.errors import CheckoutErrorCode, PaymentUnavailable
from marketplace.checkout.models import Order, OrderStatus, Payment, PayoutEntry, Refund, VendorOrder, VendorOrderStatus
from marketplace.checkout.payments import provider
from marketplace.checkout.payments.base import PaymentError
from marketplace.kernel.errors import Conflict, Invalid
from marketplace.kernel.money import Money

log = logging.getLogger(__name__)

REFUNDABLE = (OrderStatus.PAID, OrderStatus.COMPLETED, OrderStatus.PARTIALLY_REFUNDED)


def _share_of(vendor_order: VendorOrder) -> calculations.VendorShare:
    return calculations.VendorShare(subtotal=vendor_order.subtotal_amount, refunded=vendor_order.refunded_amount,
                                    rate=vendor_order.rate, commission_rate=vendor_order.commission_rate,
                                    net=vendor_order.net, shipping=vendor_order.shipping_amount or Decimal(0),
                                    paid=vendor_order.paid_amount)


def refund(session: Session, admin: User | None, order_id: int, vendor_order_id: int | None, amount: Money | None,
           reason: str | None, *, provider_key: str | None = None, parts: dict[str, Decimal] | None = None) -> Refund:
    """Refund through the provider; never more than was paid (for the order, or for one vendor's part).
    `admin` is who asked (None for the marketplace itself, e.g. an accepted dispute proposal); `provider_key`
    names the refund at the provider when the caller's own record must refund once (a return, a decision),
    else the refund row's id does. Commits, with whatever the caller left pending in the session."""
    order = orders.locked_order(session, order_id)
    if order.status not in REFUNDABLE:
        raise Conflict(CheckoutErrorCode.INVALID_ORDER_STATE, _("Only a paid order can be refunded."),
                       current_status=order.status)
    vendor_order = None
    pending = [r for r in order.refunds if r.status == "pending"]  # not booked yet, but no longer refundable
    if vendor_order_id is not None:
        vendor_order = next((v for v in order.vendor_orders if v.id == vendor_order_id), None)
        if vendor_order is None:
            raise Invalid(CheckoutErrorCode.VENDOR_ORDER_NOT_FOUND, _("That vendor order is not part of this order."),
                          field="vendor_order_id")
        refundable = calculations.refundable(
            vendor_order.paid_amount, vendor_order.refunded_amount,
            (r.amount for r in pending if r.vendor_order_id in (None, vendor_order.id)))
    else:
        refundable = calculations.refundable(order.total_amount, order.refunded_amount, (r.amount for r in pending))
    if amount is not None and amount.currency != order.currency:
        raise Invalid(CheckoutErrorCode.REFUND_EXCEEDS_PAID, _("Refunds are in the order's currency (%(c)s).",
                                                               c=order.currency), field="amount.currency")
    value = amount.amount if amount is not None else refundable
    if value <= 0 or value > refundable:
        raise Invalid(CheckoutErrorCode.REFUND_EXCEEDS_PAID,
                      _("At most %(max)s %(c)s can still be refunded.", max=refundable, c=order.currency),
                      field="amount")
    targets = [vendor_order] if vendor_order is not None else list(order.vendor_orders)
    if parts is None:  # pro rata to what was paid for goods, shipping, and duties and taxes
        parts = calculations.refund_parts(value, sum((v.subtotal_amount for v in targets), Decimal(0)),
                                          sum((v.shipping_amount or Decimal(0) for v in targets), Decimal(0)),
                                          sum((v.duties_amount or Decimal(0) for v in targets), Decimal(0)),
                                          order.currency)
    row = Refund(order_id=order.id, vendor_order_id=vendor_order.id if vendor_order else None, amount=value,
                 currency=order.currency, status="pending", reason=reason,
                 created_by=admin.id if admin is not None else None,
                 parts={name: str(part) for name, part in parts.items()})
    session.add(row)
    session.flush()
    try:
        state = provider().refund(provider_ref=order.payment.provider_ref, amount=Money(value, order.currency),
                                  idempotency_key=provider_key or f"refund-{row.id}", metadata={"order_id": str(order.id)})
    except PaymentError as error:
        session.rollback()
        raise PaymentUnavailable(CheckoutErrorCode.PAYMENT_PROVIDER_ERROR,
                                 _("The payment provider refused or did not answer the refund."),
                                 provider_code=error.code) from None
    row.provider_ref = state.provider_ref
    _settle(session, order, row, state.status)
    session.commit()
    return row


def _settle(session: Session, order: Order, row: Refund, status: str) -> None:
    """Book a refund once the provider says it succeeded; one still pending is held (it counts against what
    can be refunded) until the provider's event settles it; a failed one is kept as failed, booking nothing."""
    if row.status != "pending" or status == "pending":
        return
    row.status = "succeeded" if status == "succeeded" else "failed"
    if order.status == OrderStatus.CANCELLED:  # a late payment's refund, counted when it was asked for
        if row.status == "failed":
            order.refunded_amount -= row.amount
            log.error("order %s: the refund of its late payment failed at the provider; refund it by hand",
                      order.id)
        return
    if row.status == "succeeded":
        _book(session, order, row)


def _book(session: Session, order: Order, refund_row: Refund) -> None:
    """Book a refund: order and vendor-order totals, states, and the vendors' payout ledger."""
    order.refunded_amount += refund_row.amount
    targets = ([v for v in order.vendor_orders if v.id == refund_row.vendor_order_id]
               if refund_row.vendor_order_id else list(order.vendor_orders))
    parts = [_share_of(v) for v in targets]
    shares = calculations.refund_shares([part.room for part in parts], refund_row.amount, order.currency)
    for vendor_order, part, share in zip(targets, parts, shares):
        if share <= 0:
            continue
        debit = calculations.refund_debit(part, share, order.currency)
        vendor_order.refunded_amount += share
        if vendor_order.refunded_amount >= vendor_order.paid_amount:
            vendor_order.status = VendorOrderStatus.REFUNDED
        session.add(PayoutEntry(vendor_id=vendor_order.vendor_id, vendor_order_id=vendor_order.id, kind="refund",
                                reference=f"refund-{refund_row.id}", amount=-debit.amount,
                                currency=vendor_order.vendor_currency, status="pending"))
    order.status = (OrderStatus.REFUNDED if order.refunded_amount >= order.total_amount
                    else OrderStatus.PARTIALLY_REFUNDED)
    order_events.publish(session, order, order_events.ORDER_REFUNDED)


def record_provider_refunds(session: Session, charge_id: str) -> None:
    """The provider's word on a charge's refunds: settles ours, and books those made at the provider."""
    intent_id, refunds = provider().refunds_for_charge(charge_id)
    payment = session.scalar(select(Payment).where(Payment.provider_ref == intent_id))
    if payment is None:
        session.commit()
        return
    order = orders.locked_order(session, payment.order_id)
    known = {r.provider_ref: r for r in session.scalars(select(Refund).where(Refund.order_id == order.id))}
    for state in refunds:
        if state.provider_ref in known:
            _settle(session, order, known[state.provider_ref], state.status)
            continue
        if state.status != "succeeded" or state.amount is None:
            continue
        room = order.total_amount - order.refunded_amount
        row = Refund(order_id=order.id, amount=min(state.amount.amount, room), currency=order.currency,
                     status=state.status, provider_ref=state.provider_ref, reason="refunded at the provider")
        session.add(row)
        session.flush()
        _book(session, order, row)
    session.commit()


def settle_provider_refund(session: Session, refund_ref: str | None) -> None:
    """A refund made here that was pending: book it if it succeeded, drop it if it failed."""
    row = session.scalar(select(Refund).where(Refund.provider_ref == refund_ref)) if refund_ref else None
    if row is None or row.status != "pending":
        session.commit()
        return
    state = provider().retrieve_refund(refund_ref)
    order = orders.locked_order(session, row.order_id)
    row = session.scalar(select(Refund).where(Refund.id == row.id).execution_options(populate_existing=True))
    _settle(session, order, row, state.status)
    session.commit()
