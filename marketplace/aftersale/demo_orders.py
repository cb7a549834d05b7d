"""Delivered orders for demo data: placed, paid and delivered through checkout's own services, exactly as a
shopper and the vendors would through the API (prices, rates, stock, campaigns and the payout ledger are all
checkout's). Paying confirms on the manual provider (the default), so seeding needs PAYMENT_PROVIDER=manual."""
from __future__ import annotations

import uuid

from flask import current_app
from sqlalchemy.orm import Session

from catalog.models import Product
from marketplace.accounts.models import User
from marketplace.checkout import cart as carts
from marketplace.checkout import fulfilment, paying, placing
from marketplace.checkout.models import Order
from marketplace.kernel import idempotency
from vendors.models import Vendor

DEMO_ADDRESS = {"name": "Li Wei", "line1": "88 Century Avenue", "city": "Shanghai", "postal_code": "200120",
                "country": "CN"}
DEMO_CARRIER = "BRICS Post"


def delivered_order(session: Session, shopper: User, items: list[tuple[Product, int]], *,
                    currency: str | None = None, address: dict | None = None) -> Order:
    """An order of `items` ([(product, quantity)]) by `shopper` in `currency` (default: the base currency),
    paid on the manual provider, then shipped and delivered by each of its vendors. Whatever the shopper
    had in the cart stays there (it is set aside while the order is placed)."""
    kept = [(item.product_id, item.quantity) for item in carts.cart_items(session, carts.cart_for(session, shopper))]
    for product_id, _quantity in kept:
        cart = carts.cart_for(session, shopper, create=False, lock=True)
        item = next(i for i in cart.items if i.product_id == product_id)
        carts.remove_item(session, shopper, item.id)
    for product, quantity in items:
        carts.add_item(session, shopper, product.id, quantity)
    body = {"currency": currency or current_app.config["BASE_CURRENCY"],
            "shipping_address": dict(address or DEMO_ADDRESS)}

    def place(record: idempotency.IdempotencyRecord) -> tuple[int, dict]:
        order = placing.checkout(session, shopper, body, record)
        return 201, {"order_id": order.id}

    _status, answer = idempotency.run(session, f"user:{shopper.id}", f"demo-order-{uuid.uuid4().hex}", body, place)
    order_id = answer["order_id"]
    paying.confirm_manual_payment(session, shopper, order_id)
    order = session.get(Order, order_id)
    for vendor_order_id, vendor_id in [(v.id, v.vendor_id) for v in order.vendor_orders]:
        owner = session.get(User, session.get(Vendor, vendor_id).owner_id)
        fulfilment.ship(session, owner, vendor_order_id, DEMO_CARRIER, f"BP{order_id:06d}{vendor_order_id:04d}")
        fulfilment.deliver(session, owner, vendor_order_id)
    for product_id, quantity in kept:
        carts.add_item(session, shopper, product_id, quantity)
    session.expire_all()
    return session.get(Order, order_id)
