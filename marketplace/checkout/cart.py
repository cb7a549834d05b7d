"""The shopper's cart: one per account, priced live in the asked currency."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from catalog.models import Product
from marketplace.accounts.models import User
from marketplace.checkout.errors import CheckoutErrorCode
from marketplace.checkout.models import Cart, CartItem
from marketplace.kernel.errors import Invalid, NotFound
from marketplace.kernel.money import Money
from marketplace.rates import services as rates
from promotions import pricing

MAX_QUANTITY = 1000
MAX_LINES = 100


def cart_for(session: Session, user: User, create: bool = True, lock: bool = False) -> Cart | None:
    """The shopper's cart; `lock` holds its row to the end of the transaction: every change of the cart's
    lines and the checkout take it (PostgreSQL; on SQLite the write lock serialises them), so an add is never
    lost and a checkout never sells a line that is being changed. A cart created by a concurrent request
    meanwhile is the one used."""
    query = select(Cart).where(Cart.user_id == user.id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    cart = session.scalar(query)
    if cart is None and create:
        try:
            with session.begin_nested():
                cart = Cart(user_id=user.id)
                session.add(cart)
        except IntegrityError:
            cart = session.scalar(query.execution_options(populate_existing=True))
    return cart


def _item(session: Session, user: User, item_id: int) -> CartItem:
    """One of the shopper's lines, read under the cart's lock (a checkout may have just taken it)."""
    cart = cart_for(session, user, create=False, lock=True)
    item = session.get(CartItem, item_id, populate_existing=True) if cart is not None else None
    if item is None or item.cart_id != cart.id:
        raise NotFound(CheckoutErrorCode.CART_ITEM_NOT_FOUND, _("No such item in your cart."))
    return item


def add_item(session: Session, user: User, product_id: int, quantity: int) -> CartItem:
    product = session.get(Product, product_id)
    if product is None or not product.is_public:
        raise Invalid(CheckoutErrorCode.PRODUCT_UNAVAILABLE, _("This product is not available."), field="product_id")
    cart = cart_for(session, user, lock=True)
    item = next((i for i in cart.items if i.product_id == product_id), None)
    if item is None:
        if len(cart.items) >= MAX_LINES:
            raise Invalid(CheckoutErrorCode.PRODUCT_UNAVAILABLE,
                          _("A cart holds at most %(n)d different products.", n=MAX_LINES), field="product_id")
        item = CartItem(cart=cart, product_id=product_id, quantity=0)
        session.add(item)
    item.quantity = min(MAX_QUANTITY, item.quantity + quantity)
    session.commit()
    return item


def update_item(session: Session, user: User, item_id: int, quantity: int) -> CartItem:
    item = _item(session, user, item_id)
    item.quantity = quantity
    session.commit()
    return item


def remove_item(session: Session, user: User, item_id: int) -> None:
    session.delete(_item(session, user, item_id))
    session.commit()


def cart_items(session: Session, cart: Cart | None) -> list[CartItem]:
    if cart is None:
        return []
    return list(session.scalars(select(CartItem).where(CartItem.cart_id == cart.id)
                                .options(joinedload(CartItem.cart)).order_by(CartItem.id)))


def view(session: Session, user: User, currency: str, locale: str) -> dict[str, Any]:
    """Lines priced in `currency`, grouped by vendor; problems are flagged, never dropped."""
    cart = cart_for(session, user, create=False)
    items = cart_items(session, cart)
    products = {p.id: p for p in session.scalars(
        select(Product).where(Product.id.in_([i.product_id for i in items]))
        .options(joinedload(Product.vendor), joinedload(Product.category)))} if items else {}
    table = rates.current_table(session)
    groups: dict[int, dict[str, Any]] = {}
    total = Money.zero(currency)
    problems = 0
    for item in items:
        product = products[item.product_id]
        quote = pricing.quote_price(session, product.price, currency, table, product.id, user.id, locale,
                                    quantity=item.quantity)
        issues = []
        if not product.is_public:
            issues.append("unavailable")
        elif item.quantity > product.stock:
            issues.append("insufficient_stock")
        notes = [f"campaign_{quote.blocked}"] if quote.blocked else []
        line_total = quote.price * item.quantity
        locale_served, text = product.text(locale)
        group = groups.setdefault(product.vendor_id, {
            "vendor": {"id": product.vendor.id, "display_name": product.vendor.display_name,
                       "country": product.vendor.country},
            "lines": [], "subtotal": Money.zero(currency)})
        group["lines"].append({
            "id": item.id, "product_id": product.id, "sku": product.sku, "title": text["title"],
            "locale": locale_served, "quantity": item.quantity, "available_stock": product.stock,
            "unit_price": quote.price, "list_price": quote.list_price, "line_total": line_total,
            "campaign": quote.campaign, "problems": issues, "notes": notes,
        })
        if not issues:
            group["subtotal"] = group["subtotal"] + line_total
            total = total + line_total
        problems += bool(issues)
    return {"currency": currency, "groups": list(groups.values()), "total": total,
            "item_count": sum(i.quantity for i in items), "has_problems": problems > 0}

