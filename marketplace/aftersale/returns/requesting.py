"""A shopper asks to return units of a delivered vendor order: within the vendor's return window, never more
units than were bought and are not already being (or were) returned. The units are counted under the order's
row lock, so two concurrent requests for the same units cannot both be accepted."""
from __future__ import annotations

from decimal import Decimal

from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.aftersale.returns import rules
from marketplace.aftersale.returns.errors import ReturnErrorCode
from marketplace.aftersale.returns.models import RELEASED, Return, ReturnLine, ReturnStatus
from marketplace.aftersale.returns.services import SHOPPER, move
from marketplace.checkout import orders
from marketplace.checkout.models import Order, OrderLine, VendorOrder, VendorOrderStatus
from marketplace.kernel.clock import now
from marketplace.kernel.errors import Conflict, Invalid, NotFound
from marketplace.kernel.idempotency import IdempotencyRecord
from vendors import services as vendor_services
from vendors.models import Vendor


def claimed_units(session: Session, order_line_ids: list[int]) -> dict[int, int]:
    """Units of each line in returns still under way or done (rejected and closed ones release theirs)."""
    rows = session.execute(select(ReturnLine.order_line_id, func.sum(ReturnLine.quantity))
                           .join(Return, Return.id == ReturnLine.return_id)
                           .where(ReturnLine.order_line_id.in_(order_line_ids),
                                  Return.status.not_in([s.value for s in RELEASED]))
                           .group_by(ReturnLine.order_line_id))
    return {line_id: int(units) for line_id, units in rows}


def _returnable_vendor_order(session: Session, order: Order, vendor_order_id: int) -> VendorOrder:
    vendor_order = next((v for v in order.vendor_orders if v.id == vendor_order_id), None)
    if vendor_order is None:
        raise Invalid(ReturnErrorCode.VENDOR_ORDER_NOT_FOUND, _("That vendor order is not part of this order."),
                      field="vendor_order_id")
    if vendor_order.status != VendorOrderStatus.DELIVERED or vendor_order.delivered_at is None:
        raise Conflict(ReturnErrorCode.NOT_DELIVERED, _("Only delivered goods can be returned."),
                       field="vendor_order_id", current_status=vendor_order.status)
    days = vendor_services.return_window_days(session.get(Vendor, vendor_order.vendor_id))
    if not rules.within_window(vendor_order.delivered_at, days, now()):
        raise Invalid(ReturnErrorCode.RETURN_WINDOW_CLOSED,
                      _("The return window of %(days)d days after delivery has closed.", days=days),
                      field="vendor_order_id",
                      window_closed_at=rules.window_closes(vendor_order.delivered_at, days).isoformat())
    return vendor_order


def _checked_lines(session: Session, vendor_order: VendorOrder, wanted: list[dict[str, Any]]) -> list[OrderLine]:
    """The order lines the request names, in its order; every problem is reported by its field."""
    lines = {line.id: line for line in session.scalars(select(OrderLine)
                                                       .where(OrderLine.vendor_order_id == vendor_order.id))}
    claimed = claimed_units(session, list(lines))
    problems: dict[str, list[str]] = {}
    code = None
    seen: set[int] = set()
    found = []
    for index, item in enumerate(wanted):
        line = lines.get(item["order_line_id"])
        if line is None:
            code = code or ReturnErrorCode.LINE_NOT_IN_VENDOR_ORDER
            problems[f"lines.{index}.order_line_id"] = [_("This line is not part of that vendor order.")]
            continue
        if line.id in seen:
            code = code or ReturnErrorCode.DUPLICATE_LINE
            problems[f"lines.{index}.order_line_id"] = [_("Each line may appear once.")]
            continue
        seen.add(line.id)
        left = rules.units_returnable(line.quantity, claimed.get(line.id, 0))
        if item["quantity"] > left:
            code = code or ReturnErrorCode.TOO_MANY_UNITS
            problems[f"lines.{index}.quantity"] = [
                _("At most %(n)d units of this line can be returned.", n=left)]
            continue
        found.append(line)
    if problems:
        detail = next(iter(problems.values()))[0]
        raise Invalid(code, detail, errors=problems)
    return found


def request_return(session: Session, user: User, order_id: int, data: dict[str, Any],
                   record: IdempotencyRecord) -> Return:
    """Resumable (an attempt that died after making the return gives it back): one commit."""
    if record.resource_id is not None:
        existing = session.get(Return, record.resource_id)
        if existing is not None:
            return existing
    order = session.get(Order, order_id)
    if order is None or order.user_id != user.id:
        raise NotFound(ReturnErrorCode.ORDER_NOT_FOUND, _("No such order."))
    order = orders.locked_order(session, order_id)  # serialises requests counting this order's units
    vendor_order = _returnable_vendor_order(session, order, data["vendor_order_id"])
    lines = _checked_lines(session, vendor_order, data["lines"])
    moment = now()
    ret = Return(order_id=order.id, vendor_order_id=vendor_order.id, vendor_id=vendor_order.vendor_id,
                 user_id=user.id, status=ReturnStatus.REQUESTED, resolution=data["resolution"],
                 comment=data.get("comment"), currency=order.currency, created_at=moment,
                 answer_by=rules.answer_deadline(moment, current_app.config["RETURN_ANSWER_DAYS"]),
                 refund_amount=0, lines=[], history=[])
    for line, item in zip(lines, data["lines"]):
        ret.lines.append(ReturnLine(order_line_id=line.id, quantity=item["quantity"], reason=item["reason"],
                                    unit_price_amount=line.unit_price_amount, currency=order.currency))
    ret.refund_amount = rules.refund_for(
        [rules.ReturnedUnits(line.unit_price_amount, line.quantity) for line in ret.lines], order.currency,
        goods=vendor_order.subtotal_amount, duties=vendor_order.duties_amount or Decimal(0)).amount
    session.add(ret)
    session.flush()
    move(session, ret, ReturnStatus.REQUESTED, user, SHOPPER, data.get("comment"), new=True)
    record.resource_id = ret.id
    session.merge(record)
    session.commit()
    return ret
