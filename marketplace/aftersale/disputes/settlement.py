"""How a dispute ends with money: an accepted proposal or an operator's decision closes it and executes its
refund through checkout's refunds (the payment provider, the payout-ledger reversal), once: the refund is
named at the provider by the dispute (`dispute-<id>-refund`) and made in the same transaction as the close,
on the locked dispute row, so a second attempt finds the dispute closed (409)."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.aftersale.disputes import steps
from marketplace.aftersale.disputes.models import Dispute, DisputeOutcome, DisputeStage, Party
from marketplace.aftersale.disputes.services import check_refund
from marketplace.checkout import refunds
from marketplace.checkout.models import VendorOrder
from marketplace.kernel.clock import now
from marketplace.kernel.errors import DomainError
from marketplace.kernel.money import Money


def settle(session: Session, dispute: Dispute, refund: Money | None, outcome: str, party: Party, actor: User,
           refund_actor: User | None, reason: str) -> Dispute:
    """Close the locked `dispute` and refund `refund` (None or zero: nothing) in one commit; `refund_actor` is
    who asks checkout for the refund (an operator, or None for the marketplace itself)."""
    amount = refund if refund is not None and refund.amount > 0 else None
    if amount is not None:  # a refund made since (a return, another refund) may have left less to give back
        check_refund(session, session.get(VendorOrder, dispute.vendor_order_id), amount, "refund")
    dispute.refund_amount = amount.amount if amount is not None else None
    steps.close(session, dispute, outcome, party, actor, reason)
    if amount is None:
        session.commit()
        return dispute
    try:
        row = refunds.refund(session, refund_actor, dispute.order_id, dispute.vendor_order_id, amount, reason,
                             provider_key=f"dispute-{dispute.id}-refund")  # commits the close with the refund
    except DomainError:
        session.rollback()  # nothing of the step is kept: the dispute stays where it was
        raise
    dispute = session.get(Dispute, dispute.id)
    dispute.refund_id = row.id
    session.commit()
    return dispute


def decide(session: Session, operator: User, dispute_id: int, refund: Money | None, reasons: str) -> Dispute:
    """An operator decides a facilitated dispute: a refund (executed at once) or none, with reasons;
    facilitated -> decided -> closed. Races an accepted proposal on the locked dispute row: the loser gets 409."""
    dispute = steps.locked_dispute(session, dispute_id)
    steps.require_stage(dispute, (DisputeStage.FACILITATED,),
                        _("Only a dispute an operator facilitates can be decided."))
    if refund is not None:
        check_refund(session, session.get(VendorOrder, dispute.vendor_order_id), refund, "refund", allow_zero=True)
    dispute.decision_refund_amount = refund.amount if refund is not None else None
    dispute.decision_reasons, dispute.decided_by, dispute.decided_at = reasons, operator.id, now()
    steps.record(dispute, "decided", DisputeStage.DECIDED, Party.OPERATOR, operator, reasons)
    steps.announce(session, dispute, "decided")
    reason = _("Dispute #%(id)s: decided by an operator.", id=dispute.id)
    return settle(session, dispute, refund, DisputeOutcome.DECIDED, Party.OPERATOR, operator, operator, reason)
