"""Checkout, orders, payments, refunds and vendor payouts.

Money rules: every line's unit price is the pricing function's answer in the
shopper's currency (rounded half up); a line total is unit x quantity, exact;
the order total is the exact sum of its lines. Each vendor's part is converted
once into the vendor's currency at the rate locked in the order; commission is
rounded half up and the net is the remainder, so net + commission = subtotal.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from catalog import services as catalog
from catalog.models import Product
from marketplace.kernel import events
from marketplace.accounts.models import Role, User
from marketplace.checkout import cart as carts
from marketplace.checkout.errors import CheckoutErrorCode
from marketplace.checkout.models import (
    CartItem,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PayoutEntry,
    ProcessedWebhookEvent,
    Refund,
    VendorOrder,
    VendorOrderStatus,
)
from marketplace.checkout.payments.base import PaymentError, PaymentProvider, PaymentState, UnsupportedCurrency
from marketplace.kernel.clock import now
from marketplace.kernel.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from marketplace.kernel.idempotency import IdempotencyRecord
from marketplace.kernel.money import Money, round_amount
from marketplace.rates import services as rates
from marketplace.rates.conversion import CrossRate
from promotions import pricing, services as promotions
from vendors.models import Vendor
from vendors.services import payouts_allowed_clause

log = logging.getLogger(__name__)

class PaymentUnavailable(DomainError):
    status = 502


def provider() -> PaymentProvider:
    return current_app.extensions["payment_provider"]


def _order_event(session: Session, order: Order, event_type: str) -> None:
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


def _rate_info(frm: str, to: str, cross: CrossRate) -> dict[str, str | None]:
    return {"from": frm, "to": to, "rate": str(cross.rate), "source": cross.source,
            "as_of": cross.as_of.isoformat() if cross.as_of else None}


# -- placing an order --------------------------------------------------------

def _release(session: Session, order: Order) -> None:
    for line in order.lines:
        if line.product_id is not None:
            catalog.change_stock(session, line.product_id, line.quantity)
            catalog.record_search_change(session, session.get(Product, line.product_id))


def _claim_line(session: Session, user: User, order: Order, entry: dict[str, Any], table,
                claimed_uses: set[int]) -> None:
    """The line's locked price: the pricing function's answer (`entry["quote"]`) with the campaign's limits
    taken for it atomically; when a limit is reached the line costs the list price."""
    quote, quantity = entry["quote"], entry["quantity"]
    entry.update(price=quote.price, list_price=quote.list_price, campaign=None)
    if quote.offer is None:
        return
    campaign = promotions.claim(session, quote.offer, user.id, order.id, quantity, quote.discount * quantity, table,
                                claimed_uses)
    if campaign is None:
        entry["price"] = quote.list_price
    else:
        campaign["discount_per_unit"] = str(quote.discount.amount)
        entry["campaign"] = campaign


def place_order(session: Session, user: User, data: dict[str, Any], record: IdempotencyRecord) -> Order:
    """One transaction: price and lock the cart, reserve stock and campaign limits, split per vendor,
    empty the cart."""
    currency = data["currency"]
    # a second checkout of the same cart at the same time (a double click with a new key) waits here, then
    # finds the cart empty: one cart makes one order
    cart = carts.cart_for(session, user, create=False, lock=True)
    items = carts.cart_items(session, cart)
    if not items:
        raise Invalid(CheckoutErrorCode.CART_EMPTY, _("Your cart is empty."), field="cart")
    products = {p.id: p for p in session.scalars(
        select(Product).where(Product.id.in_([i.product_id for i in items]))
        .options(joinedload(Product.vendor)))}
    table = rates.current_table(session)
    commission_rate = Decimal(current_app.config["PLATFORM_COMMISSION_RATE"])
    order = Order(user_id=user.id, currency=currency, email=data.get("email") or user.email,
                  shipping_address=data["shipping_address"], payment_provider=provider().name,
                  status=OrderStatus.AWAITING_PAYMENT, total_amount=Decimal(0), refunded_amount=Decimal(0),
                  reserved_until=now() + timedelta(minutes=current_app.config["RESERVATION_MINUTES"]))
    session.add(order)
    session.flush()

    # 1. price every line before taking any lock (the quote knows each line's quantity)
    priced = []
    for item in sorted(items, key=lambda i: i.product_id):
        product = products.get(item.product_id)
        if product is None or not product.is_public:
            raise Conflict(CheckoutErrorCode.PRODUCT_UNAVAILABLE,
                           _("A product in your cart is no longer available."), product_id=item.product_id)
        quote = pricing.quote_price(session, product.price, currency, table, product.id, user.id,
                                    quantity=item.quantity)
        priced.append({"product": product, "quantity": item.quantity, "quote": quote})

    # 2. reserve stock (product rows by id), then take campaign limits (campaign rows by id): every checkout
    #    and cancellation locks in this one order, so none deadlock, and the hot rows stay locked only for
    #    what is left of the transaction
    for entry in priced:
        if not catalog.change_stock(session, entry["product"].id, -entry["quantity"]):
            raise Conflict(CheckoutErrorCode.INSUFFICIENT_STOCK,
                           _("Not enough stock left for %(sku)s.", sku=entry["product"].sku),
                           product_id=entry["product"].id)
        catalog.record_search_change(session, entry["product"])
    claimed_uses: set[int] = set()
    for entry in sorted(priced, key=lambda e: (e["quote"].offer.campaign_id if e["quote"].offer else 0,
                                               e["product"].id)):
        _claim_line(session, user, order, entry, table, claimed_uses)

    # 3. lines, one vendor order per vendor, totals in the shopper's and each vendor's currency
    used_rates: dict[tuple[str, str], dict] = {}
    by_vendor: dict[int, list[OrderLine]] = defaultdict(list)
    with session.no_autoflush:  # lines join their vendor order below, before anything is written
        for entry in priced:
            product = entry["product"]
            cross = table.rate(product.price_currency, currency)
            used_rates[(product.price_currency, currency)] = _rate_info(product.price_currency, currency, cross)
            line = OrderLine(product_id=product.id, sku=product.sku, title=product.text("en")[1]["title"],
                             quantity=entry["quantity"], unit_price_amount=entry["price"].amount,
                             list_price_amount=entry["list_price"].amount,
                             line_total_amount=(entry["price"] * entry["quantity"]).amount,
                             original_price_amount=product.price_amount, original_currency=product.price_currency,
                             rate=cross.rate, rate_source=cross.source,
                             rate_as_of=cross.as_of.isoformat() if cross.as_of else None,
                             campaign=entry["campaign"],
                             campaign_id=entry["campaign"]["campaign_id"] if entry["campaign"] else None)
            order.lines.append(line)
            by_vendor[product.vendor_id].append(line)
        total = Money.zero(currency)
        for vendor_id, lines in by_vendor.items():
            vendor = products[lines[0].product_id].vendor
            subtotal = Money(sum((line.line_total_amount for line in lines), Decimal(0)), currency)
            cross = table.rate(currency, vendor.currency)
            used_rates[(currency, vendor.currency)] = _rate_info(currency, vendor.currency, cross)
            vendor_subtotal = subtotal.converted(cross.rate, vendor.currency)
            commission = vendor_subtotal * commission_rate
            vendor_order = VendorOrder(vendor_id=vendor_id, status=VendorOrderStatus.AWAITING_PAYMENT,
                                       subtotal_amount=subtotal.amount, refunded_amount=Decimal(0),
                                       vendor_currency=vendor.currency, vendor_subtotal_amount=vendor_subtotal.amount,
                                       commission_rate=commission_rate, commission_amount=commission.amount,
                                       net_amount=(vendor_subtotal - commission).amount, rate=cross.rate,
                                       rate_source=cross.source,
                                       rate_as_of=cross.as_of.isoformat() if cross.as_of else None)
            order.vendor_orders.append(vendor_order)
            vendor_order.lines.extend(lines)
            total = total + subtotal
    order.total_amount = total.amount
    order.rates = [info for info in used_rates.values() if info["from"] != info["to"]]
    for item in items:
        session.delete(item)
    session.flush()
    record.resource_id = order.id
    session.merge(record)
    _order_event(session, order, "order.created")
    session.commit()
    return order


def ensure_payment(session: Session, order: Order) -> Payment:
    """The order's payment at the provider, created once (the provider dedupes on the order's key). No lock is
    held while the provider answers (on SQLite that would be the write lock every process waits for): the order
    is locked again afterwards and the payment recorded for what it is then."""
    if order.payment is not None and order.payment.provider_ref is not None:
        return order.payment
    amount, order_id = order.total, order.id
    session.commit()  # ends the transaction that read the order; nothing was written in it
    try:
        state = provider().create_payment(amount=amount, idempotency_key=f"order-{order_id}-payment",
                                          metadata={"order_id": str(order_id)})
    except UnsupportedCurrency as error:
        _withdraw(session, order)
        raise Invalid(CheckoutErrorCode.UNSUPPORTED_PAYMENT_CURRENCY, str(error), field="currency") from None
    except PaymentError as error:
        raise PaymentUnavailable(CheckoutErrorCode.PAYMENT_PROVIDER_ERROR,
                                 _("The payment provider did not answer; retry with the same Idempotency-Key."),
                                 provider_code=error.code) from None
    order = _locked_order(session, order.id)  # a cancellation may have committed while the provider answered
    payment = order.payment or Payment(provider=provider().name, amount=order.total_amount,
                                       currency=order.currency)
    order.payment = payment
    payment.provider_ref, payment.status = state.provider_ref, state.status
    payment.client_secret, payment.failure_reason = state.client_secret, state.failure_reason
    cancelled = order.status == OrderStatus.CANCELLED
    if cancelled:  # its cancellation found no payment to cancel: this one must not be payable either
        payment.status = "canceled"
    session.add(payment)
    session.commit()
    if cancelled and state.provider_ref and order.payment_provider != "manual":
        try:
            provider().cancel_payment(state.provider_ref, f"order-{order.id}-cancel")
        except PaymentError as error:
            log.warning("order %s was cancelled; its payment could not be cancelled yet: %s", order.id, error)
    return payment


def _withdraw(session: Session, order: Order) -> None:
    """An order that can never be paid (the provider refuses its currency): cancel it, giving its stock
    back, and put its lines back in the cart, so that the 422 leaves things as they were."""
    order = _locked_order(session, order.id)
    if order.status != OrderStatus.AWAITING_PAYMENT:
        session.commit()
        return
    cancel(session, order, "the payment provider does not take this currency")
    cart = carts.cart_for(session, session.get(User, order.user_id))
    for line in order.lines:
        if line.product_id is None:
            continue
        item = next((i for i in cart.items if i.product_id == line.product_id), None)
        if item is None:
            cart.items.append(CartItem(product_id=line.product_id, quantity=line.quantity))
        else:
            item.quantity = min(carts.MAX_QUANTITY, item.quantity + line.quantity)
    session.commit()


def checkout(session: Session, user: User, data: dict[str, Any], record: IdempotencyRecord) -> Order:
    """Resumable: an attempt that died after placing the order carries on from it."""
    if record.resource_id is None:
        order = place_order(session, user, data, record)
    else:
        order = session.get(Order, record.resource_id)
    if order.status == OrderStatus.AWAITING_PAYMENT:  # not for an order that expired before the retry
        ensure_payment(session, order)
    return order


# -- reading -----------------------------------------------------------------

def _load_order(session: Session, order_id: int) -> Order | None:
    return session.get(Order, order_id, options=[joinedload(Order.vendor_orders), joinedload(Order.lines)])


def order_for(session: Session, user: User, order_id: int) -> Order:
    order = _load_order(session, order_id)
    if order is None or (order.user_id != user.id and user.role != Role.ADMIN):
        raise NotFound(CheckoutErrorCode.ORDER_NOT_FOUND, _("No such order."))
    return order


def orders_of(session: Session, user: User, page: int, per_page: int) -> tuple[list[Order], int]:
    from sqlalchemy import func

    query = select(Order).where(Order.user_id == user.id)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    items = session.scalars(query.order_by(Order.id.desc()).limit(per_page).offset((page - 1) * per_page))
    return list(items), total


def caller_vendor(session: Session, user: User) -> Vendor:
    vendor = session.scalar(select(Vendor).where(Vendor.owner_id == user.id))
    if vendor is None:
        raise Forbidden(CheckoutErrorCode.NO_VENDOR_PROFILE, _("Create your vendor profile first."))
    return vendor


def vendor_orders_of(session: Session, user: User, status: str | None, page: int,
                     per_page: int) -> tuple[list[VendorOrder], int]:
    from sqlalchemy import func

    vendor = caller_vendor(session, user)
    query = select(VendorOrder).where(VendorOrder.vendor_id == vendor.id)
    if status:
        query = query.where(VendorOrder.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    items = session.scalars(query.options(joinedload(VendorOrder.lines), joinedload(VendorOrder.order))
                            .order_by(VendorOrder.id.desc()).limit(per_page).offset((page - 1) * per_page))
    return list(items.unique()), total


def _own_vendor_order(session: Session, user: User, vendor_order_id: int, lock: bool = False) -> VendorOrder:
    vendor = caller_vendor(session, user)
    vendor_order = session.get(VendorOrder, vendor_order_id)
    if vendor_order is None or vendor_order.vendor_id != vendor.id:
        raise NotFound(CheckoutErrorCode.VENDOR_ORDER_NOT_FOUND, _("No such vendor order."))
    if lock:  # changes to any part of an order are serialised on the order's row, then read afresh
        _locked_order(session, vendor_order.order_id)
        session.refresh(vendor_order)
    return vendor_order


# -- state changes -----------------------------------------------------------

def _locked_order(session: Session, order_id: int) -> Order:
    """The order, row-locked and re-read with its vendor orders and refunds: a copy loaded earlier in this
    session (before waiting for the lock) must not let a stale status or total through, e.g. cancel an order
    a concurrent request just paid, or refund what a concurrent refund just took. Every state change of an
    order, or of one of its vendor orders, starts here and decides on what it finds, in one transaction
    (SQLite: the write lock taken by BEGIN IMMEDIATE; PostgreSQL: this row lock)."""
    order = session.scalar(select(Order).where(Order.id == order_id).with_for_update()
                           .options(selectinload(Order.vendor_orders), selectinload(Order.refunds))
                           .execution_options(populate_existing=True))
    if order is None:
        raise NotFound(CheckoutErrorCode.ORDER_NOT_FOUND, _("No such order."))
    return order


def _require_status(order: Order, allowed: tuple[str, ...], detail: str) -> None:
    """The state a change starts from, checked on the locked order: otherwise a 409 telling the state found
    (the loser of a race learns what won)."""
    if order.status not in allowed:
        raise Conflict(CheckoutErrorCode.INVALID_ORDER_STATE, detail, current_status=order.status)


def mark_paid(session: Session, order_id: int) -> Order:
    """The provider says the order is paid: pay it, once (an order already paid or cancelled is left as it
    is; a cancelled one is refunded by `apply_payment_state`)."""
    order = _locked_order(session, order_id)
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
    _order_event(session, order, "order.paid")
    session.commit()
    transfer_payouts(session, order)
    return order


def transfer_payouts(session: Session, order: Order | None = None) -> int:
    """Send pending credits to approved vendors with a reviewed Stripe Connect account (idempotent per vendor
    order). A vendor back in review, suspended or rejected is held: its credits wait, nothing is sent."""
    query = (select(PayoutEntry, Vendor).join(Vendor, Vendor.id == PayoutEntry.vendor_id)
             .where(PayoutEntry.status == "pending", PayoutEntry.kind == "credit", payouts_allowed_clause()))
    if order is not None:
        query = query.where(PayoutEntry.vendor_order_id.in_([v.id for v in order.vendor_orders]))
    done = 0
    for entry, vendor in session.execute(query).all():
        try:
            state = provider().transfer(destination=vendor.stripe_account_id,
                                        amount=Money(entry.amount, entry.currency),
                                        idempotency_key=f"payout-{entry.vendor_order_id}",
                                        metadata={"vendor_order_id": str(entry.vendor_order_id)})
        except PaymentError as error:
            log.warning("payout %s not transferred yet: %s", entry.id, error)
            continue
        if state.provider_ref is None:  # the provider moves no money (manual): it stays to be paid by hand
            continue
        entry.status, entry.transfer_ref = "transferred", state.provider_ref
        session.commit()
        done += 1
    return done


def confirm_manual_payment(session: Session, user: User, order_id: int) -> Order:
    """The shopper's own confirmation: decided on the order as it is under the lock, so a confirmation that
    loses to a cancellation, the reservation's expiry or another confirmation is a 409, never a 200."""
    order_for(session, user, order_id)  # another shopper's order is a 404
    order = _locked_order(session, order_id)
    if order.payment_provider != "manual":
        raise Conflict(CheckoutErrorCode.INVALID_ORDER_STATE, _("This order is paid through its payment provider."))
    _require_status(order, (OrderStatus.AWAITING_PAYMENT,), _("Only an order awaiting payment can be paid."))
    return _pay(session, order)


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


def cancel(session: Session, order: Order, reason: str) -> Order:
    """Cancel a locked order (from `_locked_order`) that is still awaiting payment, giving back its stock."""
    _require_status(order, (OrderStatus.AWAITING_PAYMENT,), _("Only an order awaiting payment can be cancelled."))
    if _paid_at_provider(order):  # never cancel (and resell the stock of) an order the shopper has paid
        mark_paid(session, order.id)
        raise Conflict(CheckoutErrorCode.INVALID_ORDER_STATE, _("This order has been paid."),
                       current_status=OrderStatus.PAID)
    order.status, order.cancelled_at, order.failure_reason = OrderStatus.CANCELLED, now(), reason
    for vendor_order in order.vendor_orders:
        vendor_order.status = VendorOrderStatus.CANCELLED
    _release(session, order)
    promotions.release(session, order.id, [(line.campaign, line.quantity) for line in order.lines if line.campaign])
    if order.payment is not None:
        order.payment.status = "canceled"
    _order_event(session, order, "order.cancelled")
    session.commit()
    if order.payment is not None and order.payment.provider_ref and order.payment_provider != "manual":
        try:
            provider().cancel_payment(order.payment.provider_ref, f"order-{order.id}-cancel")
        except PaymentError as error:
            log.warning("order %s cancelled; its payment could not be cancelled yet: %s", order.id, error)
    return order


def cancel_by_shopper(session: Session, user: User, order_id: int) -> Order:
    order_for(session, user, order_id)
    return cancel(session, _locked_order(session, order_id), "cancelled by the shopper")


def expire_reservations(session: Session) -> int:
    """Worker job: unpaid orders past their reservation give their stock back."""
    expired = session.scalars(select(Order.id).where(Order.status == OrderStatus.AWAITING_PAYMENT,
                                                     Order.reserved_until < now()).limit(500)).all()
    done = 0
    for order_id in expired:
        order = _locked_order(session, order_id)
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
    vendor_order = _own_vendor_order(session, user, vendor_order_id, lock=True)
    if vendor_order.status != VendorOrderStatus.PAID:
        raise Conflict(CheckoutErrorCode.INVALID_ORDER_STATE, _("Only a paid vendor order can be shipped."),
                       current_status=vendor_order.status)
    vendor_order.status, vendor_order.shipped_at = VendorOrderStatus.SHIPPED, now()
    vendor_order.carrier, vendor_order.tracking_number = carrier, tracking_number
    session.commit()
    return vendor_order


def deliver(session: Session, user: User, vendor_order_id: int) -> VendorOrder:
    vendor_order = _own_vendor_order(session, user, vendor_order_id, lock=True)
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


# -- refunds -----------------------------------------------------------------

def refund(session: Session, admin: User, order_id: int, vendor_order_id: int | None, amount: Money | None,
           reason: str | None) -> Refund:
    """Refund through the provider; never more than was paid (for the order, or for one vendor's part)."""
    order = _locked_order(session, order_id)
    if order.status not in (OrderStatus.PAID, OrderStatus.COMPLETED, OrderStatus.PARTIALLY_REFUNDED):
        raise Conflict(CheckoutErrorCode.INVALID_ORDER_STATE, _("Only a paid order can be refunded."),
                       current_status=order.status)
    vendor_order = None
    pending = [r for r in order.refunds if r.status == "pending"]  # not booked yet, but no longer refundable
    if vendor_order_id is not None:
        vendor_order = next((v for v in order.vendor_orders if v.id == vendor_order_id), None)
        if vendor_order is None:
            raise Invalid(CheckoutErrorCode.VENDOR_ORDER_NOT_FOUND, _("That vendor order is not part of this order."),
                          field="vendor_order_id")
        refundable = vendor_order.subtotal_amount - vendor_order.refunded_amount - sum(
            (r.amount for r in pending if r.vendor_order_id in (None, vendor_order.id)), Decimal(0))
    else:
        refundable = order.total_amount - order.refunded_amount - sum((r.amount for r in pending), Decimal(0))
    refundable = max(refundable, Decimal(0))
    if amount is not None and amount.currency != order.currency:
        raise Invalid(CheckoutErrorCode.REFUND_EXCEEDS_PAID, _("Refunds are in the order's currency (%(c)s).",
                                                               c=order.currency), field="amount.currency")
    value = amount.amount if amount is not None else refundable
    if value <= 0 or value > refundable:
        raise Invalid(CheckoutErrorCode.REFUND_EXCEEDS_PAID,
                      _("At most %(max)s %(c)s can still be refunded.", max=refundable, c=order.currency),
                      field="amount")
    row = Refund(order_id=order.id, vendor_order_id=vendor_order.id if vendor_order else None, amount=value,
                 currency=order.currency, status="pending", reason=reason, created_by=admin.id)
    session.add(row)
    session.flush()
    try:
        state = provider().refund(provider_ref=order.payment.provider_ref, amount=Money(value, order.currency),
                                  idempotency_key=f"refund-{row.id}", metadata={"order_id": str(order.id)})
    except PaymentError as error:
        session.rollback()
        raise PaymentUnavailable(CheckoutErrorCode.PAYMENT_PROVIDER_ERROR,
                                 _("The payment provider refused or did not answer the refund."),
                                 provider_code=error.code) from None
    row.provider_ref = state.provider_ref
    _settle_refund(session, order, row, state.status)
    session.commit()
    return row


def _settle_refund(session: Session, order: Order, row: Refund, status: str) -> None:
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
        _apply_refund(session, order, row)


def _refund_shares(order: Order, targets: list[VendorOrder], amount: Decimal) -> list[Decimal]:
    """Split `amount` over `targets` pro rata to what each can still refund; never more than that."""
    rooms = [max(v.subtotal_amount - v.refunded_amount, Decimal(0)) for v in targets]
    total_room = sum(rooms, Decimal(0))
    shares, remaining = [Decimal(0)] * len(targets), amount
    if total_room <= 0:
        return shares
    for index, room in enumerate(rooms):
        share = min(room, remaining, round_amount(amount * room / total_room, order.currency))
        shares[index], remaining = share, remaining - share
    for index, room in enumerate(rooms):  # rounding leftovers go to whoever still has room
        extra = min(room - shares[index], remaining)
        if extra > 0:
            shares[index], remaining = shares[index] + extra, remaining - extra
    return shares


def _net_refunded(vendor_order: VendorOrder, refunded: Decimal) -> Money:
    """The vendor's net (vendor currency) that `refunded` (order currency) of its part takes back;
    all of it when the part is refunded in full, so the ledger then nets to exactly zero."""
    if refunded >= vendor_order.subtotal_amount:
        return vendor_order.net
    gross = Money(refunded, vendor_order.order.currency).converted(vendor_order.rate, vendor_order.vendor_currency)
    return gross - gross * vendor_order.commission_rate


def _apply_refund(session: Session, order: Order, refund_row: Refund) -> None:
    """Book a refund: order and vendor-order totals, states, and the vendors' payout ledger."""
    order.refunded_amount += refund_row.amount
    targets = ([v for v in order.vendor_orders if v.id == refund_row.vendor_order_id]
               if refund_row.vendor_order_id else list(order.vendor_orders))
    for vendor_order, share in zip(targets, _refund_shares(order, targets, refund_row.amount)):
        if share <= 0:
            continue
        before = _net_refunded(vendor_order, vendor_order.refunded_amount)
        vendor_order.refunded_amount += share
        if vendor_order.refunded_amount >= vendor_order.subtotal_amount:
            vendor_order.status = VendorOrderStatus.REFUNDED
        debit = _net_refunded(vendor_order, vendor_order.refunded_amount) - before
        session.add(PayoutEntry(vendor_id=vendor_order.vendor_id, vendor_order_id=vendor_order.id, kind="refund",
                                reference=f"refund-{refund_row.id}", amount=-debit.amount,
                                currency=vendor_order.vendor_currency, status="pending"))
    order.status = (OrderStatus.REFUNDED if order.refunded_amount >= order.total_amount
                    else OrderStatus.PARTIALLY_REFUNDED)
    _order_event(session, order, "order.refunded")


# -- provider webhooks -------------------------------------------------------

def _first_time(session: Session, event_id: str, event_type: str) -> bool:
    """Claim an event id in the current transaction; False if it was already processed."""
    session.add(ProcessedWebhookEvent(id=event_id, provider=provider().name, type=event_type))
    try:
        session.flush()
        return True
    except IntegrityError:
        session.rollback()
        return False


def apply_payment_state(session: Session, state: PaymentState) -> Order | None:
    payment = session.scalar(select(Payment).where(Payment.provider_ref == state.provider_ref))
    if payment is None:
        return None
    if state.status == "succeeded":
        order = _locked_order(session, payment.order_id)
        if order.status == OrderStatus.CANCELLED:
            return _refund_late_payment(session, order)
        return mark_paid(session, payment.order_id)
    order = _locked_order(session, payment.order_id)
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
    _order_event(session, order, "order.refunded")
    session.commit()
    return order


def handle_webhook(session: Session, payload: bytes, signature: str | None) -> str:
    """Apply a provider event exactly once; the state is re-read from the provider, never trusted."""
    event = provider().parse_webhook(payload, signature)
    if not _first_time(session, event.id, event.type):
        return "duplicate"
    try:
        if event.type in ("payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled"):
            apply_payment_state(session, provider().retrieve_payment(event.object_id))
        elif event.type == "charge.refunded":
            record_provider_refunds(session, event.object_id)
        elif event.type in ("refund.updated", "refund.failed", "charge.refund.updated"):
            settle_provider_refund(session, event.object_id)
        else:
            session.commit()
            return "ignored"
    except PaymentError:
        session.rollback()  # the event id is released: the provider retries the delivery
        raise
    session.commit()
    return "processed"


def record_provider_refunds(session: Session, charge_id: str) -> None:
    intent_id, refunds = provider().refunds_for_charge(charge_id)
    payment = session.scalar(select(Payment).where(Payment.provider_ref == intent_id))
    if payment is None:
        session.commit()
        return
    order = _locked_order(session, payment.order_id)
    known = {r.provider_ref: r for r in session.scalars(select(Refund).where(Refund.order_id == order.id))}
    for state in refunds:
        if state.provider_ref in known:
            _settle_refund(session, order, known[state.provider_ref], state.status)
            continue
        if state.status != "succeeded" or state.amount is None:
            continue
        room = order.total_amount - order.refunded_amount
        row = Refund(order_id=order.id, amount=min(state.amount.amount, room), currency=order.currency,
                     status=state.status, provider_ref=state.provider_ref, reason="refunded at the provider")
        session.add(row)
        session.flush()
        _apply_refund(session, order, row)
    session.commit()


def settle_provider_refund(session: Session, refund_ref: str | None) -> None:
    """A refund made here that was pending: book it if it succeeded, drop it if it failed."""
    row = session.scalar(select(Refund).where(Refund.provider_ref == refund_ref)) if refund_ref else None
    if row is None or row.status != "pending":
        session.commit()
        return
    state = provider().retrieve_refund(refund_ref)
    order = _locked_order(session, row.order_id)
    row = session.scalar(select(Refund).where(Refund.id == row.id).execution_options(populate_existing=True))
    _settle_refund(session, order, row, state.status)
    session.commit()


def payouts_of(session: Session, user: User, page: int, per_page: int) -> dict[str, Any]:
    from sqlalchemy import func

    vendor = caller_vendor(session, user)
    query = select(PayoutEntry).where(PayoutEntry.vendor_id == vendor.id)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    entries = list(session.scalars(query.order_by(PayoutEntry.id.desc()).limit(per_page)
                                   .offset((page - 1) * per_page)))
    balances: dict[str, Decimal] = defaultdict(Decimal)
    for amount, currency in session.execute(select(PayoutEntry.amount, PayoutEntry.currency)
                                            .where(PayoutEntry.vendor_id == vendor.id)).all():
        balances[currency] += amount
    return {"items": entries, "total": total, "page": page, "per_page": per_page,
            "balances": [Money(amount, currency) for currency, amount in sorted(balances.items())]}
