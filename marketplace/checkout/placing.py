"""Placing an order: the cart priced and locked in, stock and campaign limits reserved, one vendor order per
vendor, then the payment started at the provider (resumable with the same Idempotency-Key)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from catalog import services as catalog
from catalog.models import Product
from marketplace.accounts.models import User
from marketplace.checkout import calculations, fulfilment, landed, order_events, orders
from marketplace.checkout import cart as carts
from marketplace.checkout.errors import CheckoutErrorCode, PaymentUnavailable
from marketplace.checkout.models import CartItem, Order, OrderLine, OrderStatus, Payment, VendorOrder, VendorOrderStatus
from marketplace.checkout.payments import provider
from marketplace.checkout.payments.base import PaymentError, UnsupportedCurrency
from marketplace.kernel.clock import now
from marketplace.kernel.errors import Conflict, Invalid
from marketplace.kernel.idempotency import IdempotencyRecord
from marketplace.kernel.money import Money
from marketplace.rates import services as rates
from marketplace.rates.conversion import CrossRate, RateTable
from promotions import claims, pricing

log = logging.getLogger(__name__)


@dataclass
class _Line:
    """A cart line on its way to becoming an order line: its quote, then the price its campaign's limits
    allowed."""

    product: Product
    quantity: int
    quote: pricing.PriceQuote
    price: Money | None = None
    campaign: dict | None = None


def _rate_info(frm: str, to: str, cross: CrossRate) -> dict[str, str | None]:
    return {"from": frm, "to": to, "rate": str(cross.rate), "source": cross.source,
            "as_of": cross.as_of.isoformat() if cross.as_of else None}


def _claim(session: Session, user: User, order: Order, line: _Line, table: RateTable,
           claimed_uses: set[int]) -> None:
    """The line's locked price: the offer pricing chose (`line.quote.offer`), with the campaign's limits taken
    for it atomically; when a limit is reached the line costs the list price."""
    quote = line.quote
    line.price, line.campaign = quote.price, None
    if quote.offer is None:
        return
    campaign = claims.claim(session, quote.offer, user.id, order.id, line.quantity, quote.discount * line.quantity,
                            table, claimed_uses)
    if campaign is None:
        line.price = quote.list_price
    else:
        campaign["discount_per_unit"] = str(quote.discount.amount)
        line.campaign = campaign


def _price(session: Session, user: User, items: list[CartItem], products: dict[int, Product], currency: str,
           table: RateTable) -> list[_Line]:
    """Every line priced before any lock is taken (the quote knows each line's quantity)."""
    lines = []
    for item in sorted(items, key=lambda i: i.product_id):
        product = products.get(item.product_id)
        if product is None or not product.is_public:
            raise Conflict(CheckoutErrorCode.PRODUCT_UNAVAILABLE,
                           _("A product in your cart is no longer available."), product_id=item.product_id)
        quote = pricing.quote_price(session, product.price, currency, table, product.id, user.id,
                                    quantity=item.quantity)
        lines.append(_Line(product=product, quantity=item.quantity, quote=quote))
    return lines


def _landed(session: Session, user: User, data: dict[str, Any], lines: list[_Line], table: RateTable) -> landed.LandedCost:
    """Shipping and duties of each vendor's parcel at the lines' prices (what the quote would say now); the
    buyer's customs identity, when the destination needs one, stays locked until the commit."""
    by_vendor = calculations.group_by((line.product.vendor_id, line) for line in lines)
    parts = [landed.Goods(group[0].product.vendor, [(line.product, line.quantity,
                                                     calculations.line_total(line.price, line.quantity))
                                                    for line in group]) for group in by_vendor.values()]
    return landed.cost(session, user, data["shipping_address"], parts, data["currency"], table, data.get("shipping"),
                       lock_identity=True)


def _split(order: Order, lines: list[_Line], table: RateTable, commission_rate: Decimal,
           cost: landed.LandedCost) -> None:
    """Order lines, one vendor order per vendor with its landed cost frozen (shipping, duties and the rule
    they follow), totals in the shopper's and each vendor's currency."""
    currency = order.currency
    used_rates: dict[tuple[str, str], dict] = {}
    order_lines = []
    for line in lines:  # (sorted by product: the lines' ids follow that order)
        product = line.product
        cross = table.rate(product.price_currency, currency)
        used_rates[(product.price_currency, currency)] = _rate_info(product.price_currency, currency, cross)
        order_lines.append(OrderLine(
            product_id=product.id, sku=product.sku, title=product.text("en")[1]["title"], quantity=line.quantity,
            unit_price_amount=line.price.amount, list_price_amount=line.quote.list_price.amount,
            line_total_amount=calculations.line_total(line.price, line.quantity).amount,
            original_price_amount=product.price_amount, original_currency=product.price_currency,
            rate=cross.rate, rate_source=cross.source, rate_as_of=cross.as_of.isoformat() if cross.as_of else None,
            campaign=line.campaign, campaign_id=line.campaign["campaign_id"] if line.campaign else None,
            origin_country=product.origin_country, hs_code=product.hs_code,
            customs_description=product.customs_description, weight_g=product.weight_g))
        order.lines.append(order_lines[-1])
    by_vendor = calculations.group_by((line.product.vendor_id, (line, order_line))
                                      for line, order_line in zip(lines, order_lines))
    parcels = {parcel.vendor.id: parcel for parcel in cost.parcels}
    totals = []
    for vendor_id, pairs in by_vendor.items():
        vendor = pairs[0][0].product.vendor
        parcel = parcels[vendor_id]
        subtotal = calculations.subtotal(
            (calculations.line_total(line.price, line.quantity) for line, _order_line in pairs), currency)
        cross = table.rate(currency, vendor.currency)
        used_rates[(currency, vendor.currency)] = _rate_info(currency, vendor.currency, cross)
        split = calculations.vendor_split(subtotal, cross.rate, vendor.currency, commission_rate, parcel.shipping)
        duty = parcel.duty
        vendor_order = VendorOrder(
            vendor_id=vendor_id, status=VendorOrderStatus.AWAITING_PAYMENT, subtotal_amount=split.subtotal.amount,
            refunded_amount=Decimal(0), vendor_currency=vendor.currency,
            vendor_subtotal_amount=split.vendor_subtotal.amount, commission_rate=commission_rate,
            commission_amount=split.commission.amount, net_amount=split.net.amount, rate=cross.rate,
            rate_source=cross.source, rate_as_of=cross.as_of.isoformat() if cross.as_of else None,
            shipping_service=parcel.option["service"], shipping_amount=parcel.shipping.amount,
            vendor_shipping_amount=split.vendor_shipping.amount, delivery_min_days=parcel.option["min_days"],
            delivery_max_days=parcel.option["max_days"], duties=landed.charges_of(duty),
            duties_amount=parcel.collected.amount,
            duties_estimate_amount=duty.total.amount if duty is not None and not duty.collected else None,
            customs_value_amount=duty.customs_value.amount if duty is not None else None,
            incoterm=duty.incoterm if duty is not None else None,
            duty_rule=duty.rule.reference if duty is not None else None,
            cbec_quota_amount=duty.quota_value.amount if duty is not None and duty.quota_value else None,
            customs_identity_digest=cost.identity_digest if duty is not None and duty.quota_value else None)
        order.vendor_orders.append(vendor_order)
        vendor_order.lines.extend(order_line for _line, order_line in pairs)
        totals.append(parcel.total)
    order.total_amount = calculations.order_total(totals, currency).amount
    order.rates = [info for info in used_rates.values() if info["from"] != info["to"]]


def _sold_out(product: Product) -> Conflict:
    return Conflict(CheckoutErrorCode.INSUFFICIENT_STOCK, _("Not enough stock left for %(sku)s.", sku=product.sku),
                    product_id=product.id)


def _check_stock(lines: list[_Line]) -> None:
    """A line whose product had too few units when the cart was read fails at once, before any lock or write
    (the reservation stays the atomic check: this one only spares a sold-out flash sale the work)."""
    for line in lines:
        if line.product.stock < line.quantity:
            raise _sold_out(line.product)


def _take_stock(session: Session, lines: list[_Line]) -> None:
    """The hot rows: stock taken atomically, product rows by id (every checkout and cancellation locks product
    rows, then campaign rows, in this one order, so none deadlock)."""
    for line in lines:
        if not catalog.change_stock(session, line.product.id, -line.quantity):
            raise _sold_out(line.product)


def _claim_all(session: Session, user: User, order: Order, lines: list[_Line], table: RateTable) -> None:
    """Campaign limits (campaign rows by id), after the stock."""
    claimed_uses: set[int] = set()
    for line in sorted(lines, key=lambda e: (e.quote.offer.campaign_id if e.quote.offer else 0, e.product.id)):
        _claim(session, user, order, line, table, claimed_uses)


class _LimitReached(Exception):
    """A campaign limit ran out between pricing the cart and claiming it: the line's price changes."""


def _new_order(session: Session, user: User, data: dict[str, Any]) -> Order:
    """The order, its lines and vendor orders still empty (known empty: filling them reads nothing)."""
    order = Order(user_id=user.id, currency=data["currency"], email=data.get("email") or user.email,
                  shipping_address=data["shipping_address"], payment_provider=provider().name,
                  status=OrderStatus.AWAITING_PAYMENT, total_amount=Decimal(0), refunded_amount=Decimal(0),
                  reserved_until=now() + timedelta(minutes=current_app.config["RESERVATION_MINUTES"]),
                  lines=[], vendor_orders=[])
    session.add(order)
    return order


def _place(session: Session, user: User, data: dict[str, Any], record: IdempotencyRecord,
           optimistic: bool) -> Order:
    """`optimistic`: everything is written at the quoted prices first, and the hot rows (stock, then campaign
    limits) are locked last, just before the commit; a campaign limit that ran out meanwhile raises
    _LimitReached (the caller rolls back and places the order the careful way). Otherwise the limits are
    claimed first and the order written at the prices they allowed."""
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
    lines = _price(session, user, items, products, currency, table)
    _check_stock(lines)
    order = _new_order(session, user, data)
    if not optimistic:
        session.flush()  # (the order's id: campaign uses name it)
        _take_stock(session, lines)
        _claim_all(session, user, order, lines, table)
    else:
        for line in lines:
            line.price = line.quote.price
    cost = _landed(session, user, data, lines, table)
    with session.no_autoflush:  # lines join their vendor order before anything is written
        _split(order, lines, table, commission_rate, cost)
    for item in items:
        session.delete(item)
    for line in lines:
        catalog.record_search_change(session, line.product)
    order_events.publish(session, order, order_events.ORDER_CREATED)  # (flushes: the order is written whole)
    record.resource_id = order.id
    session.merge(record)
    if optimistic:
        _take_stock(session, lines)
        _claim_all(session, user, order, lines, table)
        for line, order_line in zip(lines, order.lines):
            if line.price != line.quote.price:
                raise _LimitReached()
            if line.campaign is not None:
                order_line.campaign, order_line.campaign_id = line.campaign, line.campaign["campaign_id"]
    session.commit()
    return order


def place_order(session: Session, user: User, data: dict[str, Any], record: IdempotencyRecord) -> Order:
    """One transaction, one commit: price and validate the cart, write the order, its vendor orders and its
    event, then reserve stock and campaign limits last (the rows every checkout of a hot product waits for
    stay locked only for those few statements and the commit), and empty the cart. When a campaign limit
    ran out after the cart was priced, it is placed again with the limits claimed first."""
    try:
        return _place(session, user, data, record, optimistic=True)
    except _LimitReached:
        session.rollback()
    return _place(session, user, data, record, optimistic=False)


def ensure_payment(session: Session, order: Order) -> Payment:
    """The order's payment at the provider, created once (the provider dedupes on the order's key). No lock is
    held while the provider answers (on SQLite that would be the write lock every process waits for): the order
    is locked again afterwards and the payment recorded for what it is then."""
    if order.payment is not None and order.payment.provider_ref is not None:
        return order.payment
    amount, order_id = order.total, order.id
    session.commit()  # ends the transaction that read the order; nothing was written in it
    return _start_payment(session, order_id, amount)


def _start_payment(session: Session, order_id: int, amount: Money) -> Payment:
    """The provider asked, then the payment recorded on the locked order, left for the caller's commit (the
    checkout's answer is stored in the same transaction); a payment for an order cancelled meanwhile is
    committed at once, then cancelled at the provider."""
    try:
        state = provider().create_payment(amount=amount, idempotency_key=f"order-{order_id}-payment",
                                          metadata={"order_id": str(order_id)})
    except UnsupportedCurrency as error:
        _withdraw(session, order_id)
        raise Invalid(CheckoutErrorCode.UNSUPPORTED_PAYMENT_CURRENCY, str(error), field="currency") from None
    except PaymentError as error:
        raise PaymentUnavailable(CheckoutErrorCode.PAYMENT_PROVIDER_ERROR,
                                 _("The payment provider did not answer; retry with the same Idempotency-Key."),
                                 provider_code=error.code) from None
    order = orders.locked_order(session, order_id)  # a cancellation may have committed while the provider answered
    payment = order.payment or Payment(provider=provider().name, amount=order.total_amount,
                                       currency=order.currency)
    order.payment = payment
    payment.provider_ref, payment.status = state.provider_ref, state.status
    payment.client_secret, payment.failure_reason = state.client_secret, state.failure_reason
    cancelled = order.status == OrderStatus.CANCELLED
    if cancelled:  # its cancellation found no payment to cancel: this one must not be payable either
        payment.status = "canceled"
    session.add(payment)
    session.flush()
    if cancelled:
        session.commit()
        if state.provider_ref and order.payment_provider != "manual":
            try:
                provider().cancel_payment(state.provider_ref, f"order-{order.id}-cancel")
            except PaymentError as error:
                log.warning("order %s was cancelled; its payment could not be cancelled yet: %s", order.id, error)
    return payment


def _withdraw(session: Session, order_id: int) -> None:
    """An order that can never be paid (the provider refuses its currency): cancel it, giving its stock
    back, and put its lines back in the cart, so that the 422 leaves things as they were."""
    order = orders.locked_order(session, order_id)
    if order.status != OrderStatus.AWAITING_PAYMENT:
        session.commit()
        return
    fulfilment.cancel(session, order, "the payment provider does not take this currency")
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
    """Resumable: an attempt that died after placing the order carries on from it. The payment is recorded in
    the transaction that stores the answer (the caller's commit)."""
    if record.resource_id is None:
        order = place_order(session, user, data, record)
    else:
        order = session.get(Order, record.resource_id)
    if order.status == OrderStatus.AWAITING_PAYMENT:  # not for an order that expired before the retry
        ensure_payment(session, order)
    return order
