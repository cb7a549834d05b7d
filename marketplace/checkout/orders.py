"""Finding orders: the caller's orders and vendor orders, and an order locked for a state change."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from marketplace.accounts.models import Role, User
from marketplace.checkout.errors import CheckoutErrorCode
from marketplace.checkout.models import Order, VendorOrder
from marketplace.kernel.errors import Conflict, NotFound
from marketplace.kernel.pagination import paginate
from vendors.services import caller_vendor


def _load_order(session: Session, order_id: int) -> Order | None:
    return session.get(Order, order_id, options=[joinedload(Order.vendor_orders), joinedload(Order.lines)])


def order_for(session: Session, user: User, order_id: int) -> Order:
    order = _load_order(session, order_id)
    if order is None or (order.user_id != user.id and user.role != Role.ADMIN):
        raise NotFound(CheckoutErrorCode.ORDER_NOT_FOUND, _("No such order."))
    return order


def orders_of(session: Session, user: User, page: int, per_page: int) -> dict[str, Any]:
    """A page of the caller's orders, newest first."""
    return paginate(session, select(Order).where(Order.user_id == user.id).order_by(Order.id.desc()),
                    page, per_page)


def vendor_orders_of(session: Session, user: User, status: str | None, page: int,
                     per_page: int) -> dict[str, Any]:
    """A page of the caller's vendor orders (never another vendor's), newest first."""
    vendor = caller_vendor(session, user)
    query = select(VendorOrder).where(VendorOrder.vendor_id == vendor.id)
    if status:
        query = query.where(VendorOrder.status == status)
    # the lines and the order come in one more query each (selectin): a joined eager load would multiply
    # the rows the page's LIMIT counts
    return paginate(session, query.options(selectinload(VendorOrder.lines), selectinload(VendorOrder.order))
                    .order_by(VendorOrder.id.desc()), page, per_page)


def own_vendor_order(session: Session, user: User, vendor_order_id: int, lock: bool = False) -> VendorOrder:
    """One of the caller's vendor orders (404 for another vendor's); with `lock`, its order row-locked and
    the vendor order read afresh."""
    vendor = caller_vendor(session, user)
    vendor_order = session.get(VendorOrder, vendor_order_id)
    if vendor_order is None or vendor_order.vendor_id != vendor.id:
        raise NotFound(CheckoutErrorCode.VENDOR_ORDER_NOT_FOUND, _("No such vendor order."))
    if lock:  # changes to any part of an order are serialised on the order's row, then read afresh
        locked_order(session, vendor_order.order_id)
        session.refresh(vendor_order)
    return vendor_order


def locked_order(session: Session, order_id: int) -> Order:
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


def require_status(order: Order, allowed: tuple[str, ...], detail: str) -> None:
    """The state a change starts from, checked on the locked order: otherwise a 409 telling the state found
    (the loser of a race learns what won)."""
    if order.status not in allowed:
        raise Conflict(CheckoutErrorCode.INVALID_ORDER_STATE, detail, current_status=order.status)
