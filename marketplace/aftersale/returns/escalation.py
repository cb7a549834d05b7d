"""A return request the vendor leaves unanswered past its deadline (`RETURN_ANSWER_DAYS`) escalates to a
dispute on its own: the worker opens one for the shopper, claiming what the return would refund, and the
return becomes `escalated`, pointing at it."""
from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.aftersale.disputes.services import open_dispute
from marketplace.aftersale.returns.models import Return, ReturnReason, ReturnStatus
from marketplace.aftersale.returns.services import SYSTEM, locked_return, move, still_refundable
from marketplace.kernel.clock import now
from marketplace.kernel.errors import DomainError
from marketplace.kernel.money import Money

log = logging.getLogger(__name__)

#: The dispute type a return's first reason leads to.
DISPUTE_TYPES = {ReturnReason.NOT_AS_DESCRIBED: "not_as_described", ReturnReason.WRONG_ITEM: "not_as_described",
                 ReturnReason.DAMAGED: "damaged", ReturnReason.DEFECTIVE: "damaged"}
BATCH = 100


def escalate_overdue(session: Session) -> int:
    """Worker job: escalate requested returns past their answer deadline; returns how many it escalated."""
    due = list(session.scalars(select(Return.id).where(Return.status == ReturnStatus.REQUESTED,
                                                       Return.answer_by < now())
                               .order_by(Return.answer_by).limit(BATCH)))
    session.commit()
    done = 0
    for return_id in due:
        if _escalate(session, return_id):
            done += 1
    return done


def _escalate(session: Session, return_id: int) -> bool:
    ret = locked_return(session, return_id)
    if ret.status != ReturnStatus.REQUESTED or ret.answer_by >= now():  # answered meanwhile
        session.commit()
        return False
    reason = "the vendor did not answer in time"
    claim = Money(min(ret.refund_amount, still_refundable(session, ret)), ret.currency)
    kind = DISPUTE_TYPES.get(ret.lines[0].reason, "other") if ret.lines else "other"
    description = f"Return {ret.id} was not answered by the vendor before {ret.answer_by.isoformat()}."
    if ret.comment:
        description += f"\n{ret.comment}"
    try:
        with session.begin_nested():
            dispute = open_dispute(session, vendor_order_id=ret.vendor_order_id, user_id=ret.user_id, type=kind,
                                   claim=claim, description=description, return_id=ret.id)
            session.flush()
        ret.dispute_id = dispute.id
    except (DomainError, IntegrityError) as error:  # e.g. a dispute is open on that vendor order already
        code = error.code if isinstance(error, DomainError) else "dispute_already_open"
        log.warning("return %s: no dispute opened on escalation: %s", ret.id, code)
        reason = f"{reason}; no dispute opened ({code})"
    move(session, ret, ReturnStatus.ESCALATED, None, SYSTEM, reason)
    session.commit()
    return True
