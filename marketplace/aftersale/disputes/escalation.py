"""The deadlines at work: the worker job that moves overdue disputes in negotiation to an operator
(facilitated) and flags every overdue one for the operator queue. A vendor's message in the vendor order's
thread since the dispute opened counts as its acknowledgement."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.aftersale.disputes import steps
from marketplace.aftersale.disputes.models import OPEN_STAGES, Dispute, DisputeStage, Party
from marketplace.aftersale.disputes.services import overdue_clause
from marketplace.aftersale.messages.models import AuthorRole, OrderMessage
from marketplace.kernel.clock import now

BATCH = 200


def acknowledge_from_threads(session: Session) -> int:
    """Open disputes not acknowledged yet whose vendor wrote in the vendor order's thread since they opened:
    acknowledged at that message's time. Returns how many."""
    first_answer = (select(func.min(OrderMessage.created_at))
                    .where(OrderMessage.vendor_order_id == Dispute.vendor_order_id,
                           OrderMessage.author_role == AuthorRole.VENDOR,
                           OrderMessage.created_at >= Dispute.created_at)
                    .scalar_subquery())
    answered = session.execute(select(Dispute.id, first_answer).where(
        Dispute.stage.in_(OPEN_STAGES), Dispute.acknowledged_at.is_(None), first_answer.is_not(None))
        .order_by(Dispute.id).limit(BATCH)).all()
    for dispute_id, answered_at in answered:
        dispute = steps.locked_dispute(session, dispute_id)
        if dispute.acknowledged_at is None:
            dispute.acknowledged_at = answered_at
        session.commit()
    return len(answered)


def escalate_overdue(session: Session) -> int:
    """Worker job `escalate-disputes`: vendors' answers in the threads acknowledge their disputes; overdue
    disputes in negotiation go to an operator (facilitated), every overdue dispute is flagged (`overdue_at`).
    Returns how many disputes changed (0 when nothing is due)."""
    done = acknowledge_from_threads(session)
    moment = now()
    due = session.scalars(select(Dispute.id).where(
        overdue_clause(moment), (Dispute.stage == DisputeStage.NEGOTIATION) | Dispute.overdue_at.is_(None))
        .order_by(Dispute.resolve_by).limit(BATCH)).all()
    for dispute_id in due:
        dispute = steps.locked_dispute(session, dispute_id)
        if not dispute.is_overdue(moment) or (dispute.stage != DisputeStage.NEGOTIATION and dispute.overdue_at):
            session.commit()  # acknowledged meanwhile, or already handled by a concurrent pass
            continue
        if dispute.stage == DisputeStage.NEGOTIATION:
            why = (_("Not resolved by %(at)s (%(rule)s).", at=dispute.resolve_by.isoformat(), rule=dispute.rule_id)
                   if dispute.resolve_by < moment else
                   _("Not acknowledged by %(at)s (%(rule)s).", at=dispute.acknowledge_by.isoformat(),
                     rule=dispute.rule_id))
            steps.record(dispute, "escalated", DisputeStage.FACILITATED, Party.SYSTEM, None, why)
            steps.announce(session, dispute, "facilitated")
        dispute.overdue_at = dispute.overdue_at or moment
        session.commit()
        done += 1
    return done
