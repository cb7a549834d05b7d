"""Finding returns (each reader sees only its own), a return locked for a state change, and the one way a
return changes state: checked against the state it starts from, kept in its history, posted into the vendor
order's message thread and announced to the vendor's partners."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from marketplace.accounts.models import Role, User
from marketplace.aftersale.messages import services as messages
from marketplace.aftersale.returns.errors import ReturnErrorCode
from marketplace.aftersale.returns.models import Return, ReturnStatusChange
from marketplace.checkout import calculations, orders
from marketplace.kernel import events
from marketplace.kernel.errors import Conflict, NotFound
from marketplace.kernel.pagination import paginate
from vendors.models import Vendor
from vendors.services import caller_vendor

#: Who moved a return: the shopper, the vendor, an operator, or the marketplace itself (an escalation).
SHOPPER, VENDOR, ADMIN, SYSTEM = "shopper", "vendor", "admin", "system"


def _not_found() -> NotFound:
    return NotFound(ReturnErrorCode.RETURN_NOT_FOUND, _("No such return."))


def role_on(session: Session, user: User, ret: Return) -> str | None:
    """In which capacity `user` may see `ret`: its shopper, its vendor's owner, an operator; None: not at all."""
    if user.role == Role.ADMIN:
        return ADMIN
    if ret.user_id == user.id:
        return SHOPPER
    if user.role == Role.VENDOR:
        vendor = session.get(Vendor, ret.vendor_id)
        if vendor is not None and vendor.owner_id == user.id:
            return VENDOR
    return None


def return_for(session: Session, user: User, return_id: int, *roles: str) -> tuple[Return, str]:
    """The return and the caller's capacity on it; 404 for anyone who may not see it, or (with `roles`) may
    not act on it in one of those capacities."""
    ret = session.get(Return, return_id, options=[selectinload(Return.lines), selectinload(Return.history)])
    role = role_on(session, user, ret) if ret is not None else None
    if role is None or (roles and role not in roles):
        raise _not_found()
    return ret, role


def locked_return(session: Session, return_id: int) -> Return:
    """The return row-locked and read afresh (SQLite: the write lock BEGIN IMMEDIATE took): every change of a
    return decides on what it finds here, so two concurrent changes never both start from the same state."""
    ret = session.scalar(select(Return).where(Return.id == return_id).with_for_update()
                         .execution_options(populate_existing=True))
    if ret is None:
        raise _not_found()
    return ret


def require_status(ret: Return, allowed: tuple[str, ...], detail: str) -> None:
    if ret.status not in allowed:
        raise Conflict(ReturnErrorCode.INVALID_RETURN_STATE, detail, current_status=ret.status)


def still_refundable(session: Session, ret: Return) -> Decimal:
    """What can still be refunded of the return's vendor order (refunds awaiting the provider count as made),
    read under the order's row lock, which the refund itself takes next."""
    order = orders.locked_order(session, ret.order_id)
    vendor_order = next(v for v in order.vendor_orders if v.id == ret.vendor_order_id)
    pending = (r.amount for r in order.refunds
               if r.status == "pending" and r.vendor_order_id in (None, vendor_order.id))
    return calculations.refundable(vendor_order.paid_amount, vendor_order.refunded_amount, pending)


def event_payload(ret: Return) -> dict[str, Any]:
    """What partners hear of a return (no personal data)."""
    return {"return_id": ret.id, "order_id": ret.order_id, "vendor_order_id": ret.vendor_order_id,
            "status": ret.status, "resolution": ret.resolution,
            "refund": {"amount": str(ret.refund.amount), "currency": ret.currency},
            "lines": [{"order_line_id": line.order_line_id, "quantity": line.quantity, "reason": line.reason}
                      for line in ret.lines]}


def move(session: Session, ret: Return, to_status: str, actor: User | None, role: str,
         reason: str | None = None, *, new: bool = False) -> None:
    """Record a state change (the caller checked the state it starts from; `new`: the return was just made)
    in the history, the vendor order's thread and the partners' events; the caller commits."""
    from_status = None if new else ret.status
    ret.status = to_status
    ret.history.append(ReturnStatusChange(from_status=from_status, to_status=to_status,
                                          actor_id=actor.id if actor is not None else None, actor_role=role,
                                          reason=reason))
    session.flush()
    messages.post_event(session, ret.vendor_order_id, f"return.{to_status}", {"return_id": str(ret.id)})
    events.publish(session, f"return.{to_status}", event_payload(ret), vendor_ids=[ret.vendor_id])


def returns_of(session: Session, user: User, status: str | None, page: int, per_page: int) -> dict[str, Any]:
    """A page of the caller's own returns, newest first."""
    query = select(Return).where(Return.user_id == user.id)
    return _page(session, query, status, page, per_page)


def vendor_returns_of(session: Session, user: User, status: str | None, page: int, per_page: int) -> dict[str, Any]:
    """A page of the returns of the caller's vendor (never another vendor's), newest first."""
    vendor = caller_vendor(session, user)
    return _page(session, select(Return).where(Return.vendor_id == vendor.id), status, page, per_page)


def _page(session: Session, query, status: str | None, page: int, per_page: int) -> dict[str, Any]:
    if status:
        query = query.where(Return.status == status)
    return paginate(session, query.options(selectinload(Return.lines), selectinload(Return.history))
                    .order_by(Return.id.desc()), page, per_page)

