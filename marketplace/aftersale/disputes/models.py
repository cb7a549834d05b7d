from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.kernel.clock import now
from marketplace.kernel.db_types import ExactDecimal, UtcDateTime
from marketplace.kernel.extensions import db
from marketplace.kernel.money import Money


class DisputeStage(StrEnum):
    NEGOTIATION = "negotiation"
    FACILITATED = "facilitated"
    DECIDED = "decided"
    CLOSED = "closed"


#: Stages in which a dispute is still open (it holds the vendor order's payout).
OPEN_STAGES = (DisputeStage.NEGOTIATION, DisputeStage.FACILITATED, DisputeStage.DECIDED)
#: Stages in which the parties may still settle between themselves.
SETTLING_STAGES = (DisputeStage.NEGOTIATION, DisputeStage.FACILITATED)


class DisputeType(StrEnum):
    NOT_RECEIVED = "not_received"
    NOT_AS_DESCRIBED = "not_as_described"
    DAMAGED = "damaged"
    REFUND_NOT_RECEIVED = "refund_not_received"
    OTHER = "other"


class DisputeOutcome(StrEnum):
    SETTLED = "settled"          # a proposal was accepted
    DECIDED = "decided"          # an operator decided
    WITHDRAWN = "withdrawn"      # the shopper withdrew


class Party(StrEnum):
    SHOPPER = "shopper"
    VENDOR = "vendor"
    OPERATOR = "operator"
    SYSTEM = "system"


class ProposalStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    SUPERSEDED = "superseded"    # its author proposed again, or the dispute ended first


class Dispute(db.Model):
    """A shopper's complaint about one vendor order, from negotiation to closing."""

    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    vendor_order_id: Mapped[int] = mapped_column(ForeignKey("vendor_orders.id"), index=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)           # the shopper
    #: The vendor order while the dispute is open, None once closed: unique, so one open dispute per vendor order.
    open_vendor_order_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    #: The return this dispute grew out of (a return left unanswered), if any.
    return_id: Mapped[int | None] = mapped_column(Integer, index=True)
    type: Mapped[str] = mapped_column(String(24))
    stage: Mapped[str] = mapped_column(String(16), index=True, default=DisputeStage.NEGOTIATION)
    outcome: Mapped[str | None] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))                                   # the order's
    claim_amount: Mapped[Decimal] = mapped_column(ExactDecimal(20, 4))
    description: Mapped[str] = mapped_column(Text)
    destination_country: Mapped[str] = mapped_column(String(2))
    rule_id: Mapped[str] = mapped_column(String(32))
    rule_source: Mapped[str] = mapped_column(Text)
    rule_effective_from: Mapped[str] = mapped_column(String(10))
    acknowledge_by: Mapped[datetime] = mapped_column(UtcDateTime())
    resolve_by: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: When the worker found it past a deadline (the operator queue's flag).
    overdue_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decision_refund_amount: Mapped[Decimal | None] = mapped_column(ExactDecimal(20, 4))
    decision_reasons: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: What was refunded when it closed (order currency), and checkout's refund row.
    refund_amount: Mapped[Decimal | None] = mapped_column(ExactDecimal(20, 4))
    refund_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now, onupdate=now)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    proposals: Mapped[list["DisputeProposal"]] = relationship(
        back_populates="dispute", order_by="DisputeProposal.id", cascade="all, delete-orphan")
    history: Mapped[list["DisputeEvent"]] = relationship(
        back_populates="dispute", order_by="DisputeEvent.id", cascade="all, delete-orphan")

    @property
    def claim(self) -> Money:
        return Money(self.claim_amount, self.currency)

    @property
    def refund(self) -> Money | None:
        return Money(self.refund_amount, self.currency) if self.refund_amount is not None else None

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES

    def is_overdue(self, moment: datetime) -> bool:
        """Open and past a deadline: not acknowledged in time, or not resolved in time."""
        return self.is_open and (self.resolve_by < moment
                                 or (self.acknowledged_at is None and self.acknowledge_by < moment))

    @property
    def rule(self) -> dict[str, str]:
        return {"id": self.rule_id, "source": self.rule_source, "effective_from": self.rule_effective_from}

    @property
    def decision(self) -> dict | None:
        if self.decided_at is None:
            return None
        refund = (Money(self.decision_refund_amount, self.currency)
                  if self.decision_refund_amount is not None else None)
        return {"refund": refund, "reasons": self.decision_reasons, "decided_by": self.decided_by,
                "decided_at": self.decided_at}


class DisputeProposal(db.Model):
    """A party's offer to settle: a refund (possibly none) and a note; the other party accepts or declines."""

    __tablename__ = "dispute_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id", ondelete="CASCADE"), index=True)
    party: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    refund_amount: Mapped[Decimal] = mapped_column(ExactDecimal(20, 4))
    currency: Mapped[str] = mapped_column(String(3))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=ProposalStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    dispute: Mapped[Dispute] = relationship(back_populates="proposals")

    @property
    def refund(self) -> Money:
        return Money(self.refund_amount, self.currency)


class DisputeEvent(db.Model):
    """The dispute's history: every step (stage transitions and the parties' acts), who, when, from, to, why."""

    __tablename__ = "dispute_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(24))
    from_stage: Mapped[str | None] = mapped_column(String(16))
    to_stage: Mapped[str] = mapped_column(String(16))
    party: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    proposal_id: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)

    dispute: Mapped[Dispute] = relationship(back_populates="history")
