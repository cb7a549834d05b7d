"""A vendor's public record: what shoppers may weigh before buying.

- `rating`: the average (one decimal, half up) and count of the vendor's published reviews.
- `on_time_shipping`: the share of the vendor's paid orders shipped within `ON_TIME_DAYS` (3) days of payment
  (the order's `paid_at` to the vendor order's `shipped_at`). An order counts once it is due: shipped, or
  still unshipped (and not cancelled or refunded) past the window, which counts as late.
- `disputes`: disputes opened about the vendor's orders (any stage) per delivered vendor order.
- `answer_time`: the median hours from the shopper's first message in a vendor order's thread to the vendor's
  first message after it (threads the vendor has not answered yet are counted apart, as `unanswered`).

Rates are decimal strings with two decimals (half up), null when nothing counts yet.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from statistics import median
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.aftersale.disputes.models import Dispute
from marketplace.aftersale.messages.models import AuthorRole, OrderMessage
from marketplace.aftersale.reviews.models import Review, ReviewStatus
from marketplace.aftersale.reviews.services import rating_summary
from marketplace.checkout.models import Order, VendorOrder, VendorOrderStatus
from marketplace.kernel.clock import now
from vendors.services import get_vendor

#: Days after payment within which a shipment counts as on time.
ON_TIME_DAYS = 3
TWO_DECIMALS = Decimal("0.01")


def _share(part: int, whole: int) -> str | None:
    if not whole:
        return None
    return str((Decimal(part) / Decimal(whole)).quantize(TWO_DECIMALS, rounding=ROUND_HALF_UP))


def _rating(session: Session, vendor_id: int) -> dict[str, Any]:
    total, count = session.execute(select(func.coalesce(func.sum(Review.rating), 0), func.count(Review.id))
                                   .where(Review.vendor_id == vendor_id,
                                          Review.status == ReviewStatus.PUBLISHED)).one()
    average = rating_summary(int(total), int(count))
    return {"average": str(average) if average is not None else None, "count": int(count)}


def _on_time(session: Session, vendor_id: int) -> dict[str, Any]:
    window = timedelta(days=ON_TIME_DAYS)
    rows = session.execute(select(Order.paid_at, VendorOrder.shipped_at, VendorOrder.status)
                           .join(Order, Order.id == VendorOrder.order_id)
                           .where(VendorOrder.vendor_id == vendor_id, Order.paid_at.is_not(None))).all()
    due = on_time = 0
    moment = now()
    for paid_at, shipped_at, status in rows:
        if shipped_at is not None:
            due += 1
            on_time += shipped_at - paid_at <= window
        elif status == VendorOrderStatus.PAID and moment - paid_at > window:
            due += 1
    return {"rate": _share(on_time, due), "window_days": ON_TIME_DAYS, "on_time": on_time, "due": due}


def _disputes(session: Session, vendor_id: int) -> dict[str, Any]:
    delivered = session.scalar(select(func.count()).select_from(VendorOrder)
                               .where(VendorOrder.vendor_id == vendor_id, VendorOrder.delivered_at.is_not(None)))
    disputes = session.scalar(select(func.count()).select_from(Dispute).where(Dispute.vendor_id == vendor_id))
    return {"rate": _share(disputes, delivered), "disputes": disputes, "delivered_orders": delivered}


def _answer_time(session: Session, vendor_id: int) -> dict[str, Any]:
    rows = session.execute(select(OrderMessage.vendor_order_id, OrderMessage.author_role, OrderMessage.created_at)
                           .join(VendorOrder, VendorOrder.id == OrderMessage.vendor_order_id)
                           .where(VendorOrder.vendor_id == vendor_id,
                                  OrderMessage.author_role.in_((AuthorRole.SHOPPER, AuthorRole.VENDOR)))
                           .order_by(OrderMessage.vendor_order_id, OrderMessage.created_at, OrderMessage.id)).all()
    asked: dict[int, Any] = {}
    answered: dict[int, float] = {}
    for thread, role, created_at in rows:
        if role == AuthorRole.SHOPPER:
            asked.setdefault(thread, created_at)
        elif thread in asked and thread not in answered:
            answered[thread] = (created_at - asked[thread]).total_seconds() / 3600
    hours = median(answered.values()) if answered else None
    return {"median_hours": str(Decimal(repr(hours)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
            if hours is not None else None,
            "answered": len(answered), "unanswered": len(set(asked) - set(answered))}


def vendor_record(session: Session, vendor_id: int, viewer: User | None) -> dict[str, Any]:
    """The public record of a public vendor (its owner and admins see an unapproved one's too)."""
    vendor, _private = get_vendor(session, vendor_id, viewer)
    return {"vendor_id": vendor.id, "rating": _rating(session, vendor.id),
            "on_time_shipping": _on_time(session, vendor.id), "disputes": _disputes(session, vendor.id),
            "answer_time": _answer_time(session, vendor.id)}
