"""The parties' own steps: proposals and their answers, asking an operator in (escalation), withdrawing.
An accepted proposal executes its refund through the payment provider, once, and closes the dispute."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.aftersale.disputes import settlement, steps
from marketplace.aftersale.disputes.errors import DisputeErrorCode
from marketplace.aftersale.disputes.models import (
    SETTLING_STAGES,
    Dispute,
    DisputeOutcome,
    DisputeProposal,
    DisputeStage,
    Party,
    ProposalStatus,
)
from marketplace.aftersale.disputes.services import check_refund, dispute_for
from marketplace.checkout.models import VendorOrder
from marketplace.kernel.clock import now
from marketplace.kernel.errors import Conflict, Forbidden, NotFound
from marketplace.kernel.money import Money

PARTIES = (Party.SHOPPER, Party.VENDOR)


def _as_party(session: Session, user: User, dispute_id: int, allowed: tuple[Party, ...]) -> tuple[Dispute, Party]:
    """The dispute locked for a change by one of its parties (404 for strangers, 403 for the wrong party)."""
    _dispute, party = dispute_for(session, user, dispute_id)
    if party not in allowed:
        raise Forbidden(DisputeErrorCode.NOT_A_PARTY, _("Only a party to the dispute may do this."))
    return steps.locked_dispute(session, dispute_id), party


def propose(session: Session, user: User, dispute_id: int, refund: Money, note: str | None) -> Dispute:
    """A party offers to settle for `refund` (zero: no refund); the party's earlier open offer is superseded."""
    dispute, party = _as_party(session, user, dispute_id, PARTIES)
    steps.require_stage(dispute, SETTLING_STAGES, _("Proposals can only be made while the dispute is being settled."))
    check_refund(session, session.get(VendorOrder, dispute.vendor_order_id), refund, "refund", allow_zero=True)
    for earlier in dispute.proposals:
        if earlier.party == party and earlier.status == ProposalStatus.OPEN:
            earlier.status = ProposalStatus.SUPERSEDED
    proposal = DisputeProposal(party=party, author_id=user.id, refund_amount=refund.amount, currency=refund.currency,
                               note=note, status=ProposalStatus.OPEN, created_at=now())
    dispute.proposals.append(proposal)
    session.flush()
    steps.acknowledge(dispute, party)
    steps.record(dispute, "proposal", dispute.stage, party, user, note, proposal_id=proposal.id)
    steps.announce(session, dispute, "proposal")
    session.commit()
    return dispute


def _open_proposal_of_other(dispute: Dispute, proposal_id: int, party: Party) -> DisputeProposal:
    proposal = next((p for p in dispute.proposals if p.id == proposal_id), None)
    if proposal is None:
        raise NotFound(DisputeErrorCode.PROPOSAL_NOT_FOUND, _("No such proposal in this dispute."))
    if proposal.party == party:
        raise Forbidden(DisputeErrorCode.OWN_PROPOSAL, _("Only the other party can answer a proposal."))
    steps.require_stage(dispute, SETTLING_STAGES, _("This dispute is no longer being settled."))
    if proposal.status != ProposalStatus.OPEN:
        raise Conflict(DisputeErrorCode.INVALID_PROPOSAL_STATE, _("This proposal was already answered."),
                       current_status=proposal.status, current_stage=dispute.stage)
    return proposal


def accept(session: Session, user: User, dispute_id: int, proposal_id: int) -> Dispute:
    """The other party accepts: the agreed refund is made through the payment provider (once) and the
    dispute closes, settled. Races a decision on the locked dispute row: the loser gets 409."""
    dispute, party = _as_party(session, user, dispute_id, PARTIES)
    proposal = _open_proposal_of_other(dispute, proposal_id, party)
    proposal.status, proposal.answered_by, proposal.answered_at = ProposalStatus.ACCEPTED, user.id, now()
    steps.acknowledge(dispute, party)
    steps.record(dispute, "accepted", dispute.stage, party, user, None, proposal_id=proposal.id)
    steps.announce(session, dispute, "accepted")
    reason = _("Dispute #%(id)s: proposal #%(pid)s accepted.", id=dispute.id, pid=proposal.id)
    return settlement.settle(session, dispute, proposal.refund, DisputeOutcome.SETTLED, party, user, None, reason)


def decline(session: Session, user: User, dispute_id: int, proposal_id: int, reason: str | None) -> Dispute:
    dispute, party = _as_party(session, user, dispute_id, PARTIES)
    proposal = _open_proposal_of_other(dispute, proposal_id, party)
    proposal.status, proposal.answered_by, proposal.answered_at = ProposalStatus.DECLINED, user.id, now()
    steps.acknowledge(dispute, party)
    steps.record(dispute, "declined", dispute.stage, party, user, reason, proposal_id=proposal.id)
    steps.announce(session, dispute, "declined")
    session.commit()
    return dispute


def escalate(session: Session, user: User, dispute_id: int, reason: str | None) -> Dispute:
    """Either party asks an operator in: negotiation -> facilitated."""
    dispute, party = _as_party(session, user, dispute_id, (*PARTIES, Party.OPERATOR))
    steps.require_stage(dispute, (DisputeStage.NEGOTIATION,), _("Only a dispute in negotiation can be escalated."))
    steps.acknowledge(dispute, party)
    steps.record(dispute, "escalated", DisputeStage.FACILITATED, party, user, reason)
    steps.announce(session, dispute, "facilitated")
    session.commit()
    return dispute


def withdraw(session: Session, user: User, dispute_id: int, reason: str | None) -> Dispute:
    """The shopper withdraws the complaint: the dispute closes without a refund."""
    dispute, _party = _as_party(session, user, dispute_id, (Party.SHOPPER,))
    steps.require_stage(dispute, SETTLING_STAGES, _("Only an open dispute can be withdrawn."))
    steps.close(session, dispute, DisputeOutcome.WITHDRAWN, Party.SHOPPER, user, reason, action="withdrawn")
    session.commit()
    return dispute
