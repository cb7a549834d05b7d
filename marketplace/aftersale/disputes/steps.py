"""What every step of a dispute shares: the dispute row locked before a change, the starting stage checked
(409 naming the stage found), the history row, the hold on the vendor order's payout, and the step told to
the vendor's partners (outbox) and posted into the vendor order's message thread."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from marketplace.accounts.models import Role, User
from marketplace.aftersale.disputes.errors import DisputeErrorCode
from marketplace.aftersale.disputes.models import Dispute, DisputeEvent, DisputeStage, Party, ProposalStatus
from marketplace.aftersale.messages import services as messages
from marketplace.checkout import orders
from marketplace.kernel import events
from marketplace.kernel.clock import now
from marketplace.kernel.errors import Conflict, NotFound
from vendors.models import Vendor

#: The steps partners of the vendor hear (`dispute.<step>`), also posted into the vendor order's thread.
STEPS = ("opened", "proposal", "accepted", "declined", "facilitated", "decided", "closed")


def party_of(session: Session, dispute: Dispute, user: User) -> Party | None:
    """What the caller is in this dispute: the shopper who opened it, the vendor's owner, an operator
    (admin), or nothing (None: it is not theirs to see)."""
    if user.role == Role.ADMIN:
        return Party.OPERATOR
    if user.role == Role.SHOPPER and dispute.user_id == user.id:
        return Party.SHOPPER
    if user.role == Role.VENDOR:
        vendor = session.get(Vendor, dispute.vendor_id)
        if vendor is not None and vendor.owner_id == user.id:
            return Party.VENDOR
    return None


def not_found() -> NotFound:
    return NotFound(DisputeErrorCode.DISPUTE_NOT_FOUND, _("No such dispute."))


def locked_dispute(session: Session, dispute_id: int) -> Dispute:
    """The dispute row-locked and read afresh (with its proposals and history): every change of a dispute
    starts here and decides on what it finds (SQLite: the write lock of BEGIN IMMEDIATE; PostgreSQL: this
    row lock), so of two racing steps (a decision and an accepted proposal) only the first executes."""
    dispute = session.scalar(select(Dispute).where(Dispute.id == dispute_id).with_for_update()
                             .options(selectinload(Dispute.proposals), selectinload(Dispute.history))
                             .execution_options(populate_existing=True))
    if dispute is None:
        raise not_found()
    return dispute


def require_stage(dispute: Dispute, allowed: tuple[str, ...], detail: str) -> None:
    """The stage a step starts from, checked on the locked dispute: otherwise 409 with the stage found."""
    if dispute.stage not in allowed:
        raise Conflict(DisputeErrorCode.INVALID_DISPUTE_STAGE, detail, current_stage=dispute.stage,
                       current_status=dispute.stage)


def record(dispute: Dispute, action: str, to_stage: str, party: Party, actor: User | None, reason: str | None = None,
           proposal_id: int | None = None) -> None:
    """Move the dispute to `to_stage` (or keep it there) and keep the step in its history."""
    dispute.history.append(DisputeEvent(action=action, from_stage=dispute.stage, to_stage=to_stage, party=party,
                                        actor_id=actor.id if actor is not None else None, reason=reason,
                                        proposal_id=proposal_id, at=now()))
    dispute.stage = to_stage


def acknowledge(dispute: Dispute, party: Party) -> None:
    """The vendor's first act (a proposal, an answer, a message) acknowledges the complaint."""
    if party == Party.VENDOR and dispute.acknowledged_at is None:
        dispute.acknowledged_at = now()


def hold_payout(session: Session, dispute: Dispute, held: bool) -> None:
    """Hold (or release) the vendor order's payout credit. The order's row lock comes first, as for every
    change of an order or its vendor orders in checkout (a refund takes it too): rows are locked in one order
    (dispute, order, vendor order), so a dispute step and a refund never wait for each other in a circle."""
    order = orders.locked_order(session, dispute.order_id)
    vendor_order = next(v for v in order.vendor_orders if v.id == dispute.vendor_order_id)
    vendor_order.payout_held = held


def close(session: Session, dispute: Dispute, outcome: str, party: Party, actor: User | None, reason: str | None,
          action: str = "closed") -> None:
    """End the dispute: history, outcome, open proposals superseded, the vendor order's payout released."""
    record(dispute, action, DisputeStage.CLOSED, party, actor, reason)
    dispute.outcome, dispute.closed_at, dispute.open_vendor_order_id = outcome, now(), None
    for proposal in dispute.proposals:
        if proposal.status == ProposalStatus.OPEN:
            proposal.status = ProposalStatus.SUPERSEDED
    hold_payout(session, dispute, False)
    announce(session, dispute, "closed")


def announce(session: Session, dispute: Dispute, step: str) -> None:
    """Tell the vendor's partners (`dispute.<step>`, no personal data) and post the step into the thread."""
    if step not in STEPS:
        raise ValueError(f"unknown dispute step {step!r}")
    session.flush()
    events.publish(session, f"dispute.{step}", {
        "dispute_id": dispute.id, "order_id": dispute.order_id, "vendor_order_id": dispute.vendor_order_id,
        "type": dispute.type, "stage": dispute.stage, "outcome": dispute.outcome, "currency": dispute.currency,
        "claim": str(dispute.claim.amount),
        "refund": str(dispute.refund.amount) if dispute.refund is not None else None,
        "acknowledge_by": dispute.acknowledge_by.isoformat(), "resolve_by": dispute.resolve_by.isoformat(),
    }, vendor_ids=[dispute.vendor_id])
    messages.post_event(session, dispute.vendor_order_id, f"dispute.{step}", {"dispute_id": str(dispute.id)})
