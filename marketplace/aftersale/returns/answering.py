"""A return after it was asked for: the vendor approves or rejects it, the shopper ships the goods back, the
vendor receives them and the return is refunded at once (from what was paid for those units) or replaced;
the shopper may withdraw it before it ships, and an operator may close one whose refund was settled otherwise.
Each change locks the return's row and starts from the state it finds there (409 otherwise)."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.aftersale.returns import rules
from marketplace.aftersale.returns.models import Resolution, Return, ReturnStatus
from marketplace.aftersale.returns.services import (
    ADMIN,
    SHOPPER,
    VENDOR,
    locked_return,
    move,
    require_status,
    return_for,
    still_refundable,
)
from marketplace.checkout import refunds


def _answered(session: Session, user: User, return_id: int, *roles: str) -> tuple[Return, str]:
    """The return, locked, for a caller acting in one of `roles` on it (404 otherwise)."""
    _ret, role = return_for(session, user, return_id, *roles)
    return locked_return(session, return_id), role


def approve(session: Session, user: User, return_id: int) -> Return:
    ret, role = _answered(session, user, return_id, VENDOR, ADMIN)
    require_status(ret, (ReturnStatus.REQUESTED,), _("Only a requested return can be approved."))
    move(session, ret, ReturnStatus.APPROVED, user, role)
    session.commit()
    return ret


def reject(session: Session, user: User, return_id: int, reason: str) -> Return:
    ret, role = _answered(session, user, return_id, VENDOR, ADMIN)
    require_status(ret, (ReturnStatus.REQUESTED,), _("Only a requested return can be rejected."))
    ret.rejection_reason = reason
    move(session, ret, ReturnStatus.REJECTED, user, role, reason)
    session.commit()
    return ret


def ship(session: Session, user: User, return_id: int, carrier: str, tracking_number: str) -> Return:
    ret, role = _answered(session, user, return_id, SHOPPER)
    require_status(ret, (ReturnStatus.APPROVED,), _("Only an approved return can be shipped back."))
    ret.carrier, ret.tracking_number = carrier, tracking_number
    move(session, ret, ReturnStatus.IN_TRANSIT, user, role)
    session.commit()
    return ret


def withdraw(session: Session, user: User, return_id: int, reason: str | None) -> Return:
    """The shopper no longer wants to return the goods (before shipping them): closed, its units released."""
    ret, role = _answered(session, user, return_id, SHOPPER)
    require_status(ret, (ReturnStatus.REQUESTED, ReturnStatus.APPROVED),
                   _("Only a return not shipped yet can be withdrawn."))
    move(session, ret, ReturnStatus.CLOSED, user, role, reason or "withdrawn by the shopper")
    session.commit()
    return ret


def close(session: Session, user: User, return_id: int, reason: str) -> Return:
    """An operator closes a received return whose refund could not be made here (settled otherwise)."""
    ret, role = _answered(session, user, return_id, ADMIN)
    require_status(ret, (ReturnStatus.RECEIVED,), _("Only a received return can be closed."))
    move(session, ret, ReturnStatus.CLOSED, user, role, reason)
    session.commit()
    return ret


def receive(session: Session, user: User, return_id: int) -> Return:
    """The goods are back: `received` is committed first, then a refund return is refunded (through the
    provider, once: the return's own provider key) and a replacement one is `replaced`. A refund the
    provider refused leaves the return `received`; receiving it again retries the refund."""
    ret, role = _answered(session, user, return_id, VENDOR, ADMIN)
    require_status(ret, (ReturnStatus.IN_TRANSIT, ReturnStatus.RECEIVED),
                   _("Only a return on its way back can be received."))
    if ret.status == ReturnStatus.IN_TRANSIT:
        move(session, ret, ReturnStatus.RECEIVED, user, role)
        session.commit()
    ret = locked_return(session, return_id)  # again: a concurrent receive may have settled it meanwhile
    require_status(ret, (ReturnStatus.RECEIVED,), _("This return was received already."))
    if ret.resolution == Resolution.REPLACEMENT:
        move(session, ret, ReturnStatus.REPLACED, user, role, "the vendor ships a replacement")
        session.commit()
        return ret
    return _refund(session, ret, user, role)


def _refund(session: Session, ret: Return, user: User, role: str) -> Return:
    amount = rules.refund_to_make(ret.refund, still_refundable(session, ret))
    ret.refunded_amount = amount.amount
    if amount.amount <= 0:  # refunded in full by other means already
        move(session, ret, ReturnStatus.CLOSED, user, role, "nothing was left to refund")
        session.commit()
        return ret
    move(session, ret, ReturnStatus.REFUNDED, user, role)
    row = refunds.refund(session, None, ret.order_id, ret.vendor_order_id, amount, f"return {ret.id}",
                         provider_key=f"return-{ret.id}-refund",  # commits the return's change with it
                         parts=rules.refund_parts(ret, amount))
    ret = locked_return(session, ret.id)
    ret.refund_id = row.id
    session.commit()
    return ret
