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


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    REFUNDED = "refunded"
    REPLACED = "replaced"
    CLOSED = "closed"
    #: Left unanswered past its deadline: handed over to a dispute.
    ESCALATED = "escalated"


#: Returns whose units no longer count as being returned (they may be asked for again).
RELEASED = (ReturnStatus.REJECTED, ReturnStatus.CLOSED)


class ReturnReason(StrEnum):
    NOT_AS_DESCRIBED = "not_as_described"
    DAMAGED = "damaged"
    WRONG_ITEM = "wrong_item"
    CHANGED_MIND = "changed_mind"
    DEFECTIVE = "defective"
    ARRIVED_LATE = "arrived_late"
    OTHER = "other"


class Resolution(StrEnum):
    REFUND = "refund"
    REPLACEMENT = "replacement"


class Return(db.Model):
    """A shopper's request to send back units of one vendor order, and what became of it."""

    __tablename__ = "returns"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    vendor_order_id: Mapped[int] = mapped_column(ForeignKey("vendor_orders.id", ondelete="CASCADE"), index=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True, default=ReturnStatus.REQUESTED)
    resolution: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    #: The order's currency; `refund_amount` is what the shopper paid for the returned units.
    currency: Mapped[str] = mapped_column(String(3))
    refund_amount: Mapped[Decimal] = mapped_column(ExactDecimal(20, 4))
    #: What was refunded when the return was refunded (at most what was still refundable then).
    refunded_amount: Mapped[Decimal | None] = mapped_column(ExactDecimal(20, 4))
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id"))
    dispute_id: Mapped[int | None] = mapped_column(Integer)
    carrier: Mapped[str | None] = mapped_column(String(64))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    #: A request still unanswered then escalates to a dispute.
    answer_by: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now, onupdate=now)

    lines: Mapped[list["ReturnLine"]] = relationship(back_populates="return_", order_by="ReturnLine.id",
                                                     cascade="all, delete-orphan")
    history: Mapped[list["ReturnStatusChange"]] = relationship(order_by="ReturnStatusChange.id",
                                                               cascade="all, delete-orphan")

    @property
    def refund(self) -> Money:
        return Money(self.refund_amount, self.currency)

    @property
    def refunded(self) -> Money | None:
        return Money(self.refunded_amount, self.currency) if self.refunded_amount is not None else None


class ReturnLine(db.Model):
    """Units of one order line being returned, with the unit price the shopper paid for them."""

    __tablename__ = "return_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(24), index=True)
    unit_price_amount: Mapped[Decimal] = mapped_column(ExactDecimal(20, 4))   # the order's currency, as paid
    currency: Mapped[str] = mapped_column(String(3))

    return_: Mapped[Return] = relationship(back_populates="lines")

    @property
    def unit_price(self) -> Money:
        return Money(self.unit_price_amount, self.currency)

    @property
    def total(self) -> Money:
        return self.unit_price * self.quantity


class ReturnStatusChange(db.Model):
    """The history of a return: who moved it from which state to which, when and why."""

    __tablename__ = "return_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    #: Who: a user (None for the marketplace itself, e.g. an escalation), and in which capacity.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
