from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.kernel.clock import now
from marketplace.kernel.db_types import ExactDecimal, UtcDateTime
from marketplace.kernel.extensions import db
from marketplace.kernel.money import Money


class VendorStatus(StrEnum):
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class Vendor(db.Model):
    __tablename__ = "vendors"
    __table_args__ = (UniqueConstraint("country", "tax_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(120))
    country: Mapped[str] = mapped_column(String(2), index=True)
    tax_id: Mapped[str] = mapped_column(String(32))
    tax_id_type: Mapped[str] = mapped_column(String(24))
    contact_email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(20))
    sector: Mapped[str] = mapped_column(String(24))
    employees: Mapped[int]
    turnover_amount: Mapped[Decimal] = mapped_column(ExactDecimal(20, 4))
    turnover_currency: Mapped[str] = mapped_column(String(3))
    investment_amount: Mapped[Decimal | None] = mapped_column(ExactDecimal(20, 4))
    investment_currency: Mapped[str | None] = mapped_column(String(3))
    description: Mapped[dict] = mapped_column(JSON, default=dict)
    currency: Mapped[str] = mapped_column(String(3))
    msme_class: Mapped[str] = mapped_column(String(8))
    msme_rule: Mapped[str] = mapped_column(String(32))
    msme_subtype: Mapped[str | None] = mapped_column(String(16))
    #: Stripe Connect account that receives this vendor's payouts (optional).
    stripe_account_id: Mapped[str | None] = mapped_column(String(64))
    #: A changed payout account waiting for review; it replaces `stripe_account_id` only on approval.
    pending_stripe_account_id: Mapped[str | None] = mapped_column(String(64))
    #: Seller disclosures (vendors/disclosures.py): shown publicly, required before approval.
    address: Mapped[dict | None] = mapped_column(JSON)
    customer_care: Mapped[dict | None] = mapped_column(JSON)
    grievance_officer: Mapped[dict | None] = mapped_column(JSON)
    return_policy: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True, default=VendorStatus.PENDING_REVIEW)
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now, onupdate=now)

    history: Mapped[list["VendorStatusChange"]] = relationship(
        back_populates="vendor", order_by="VendorStatusChange.id", cascade="all, delete-orphan"
    )

    @property
    def annual_turnover(self) -> Money:
        return Money(self.turnover_amount, self.turnover_currency)

    @annual_turnover.setter
    def annual_turnover(self, money: Money) -> None:
        self.turnover_amount, self.turnover_currency = money.amount, money.currency

    @property
    def investment(self) -> Money | None:
        if self.investment_amount is None or self.investment_currency is None:
            return None
        return Money(self.investment_amount, self.investment_currency)

    @investment.setter
    def investment(self, money: Money | None) -> None:
        self.investment_amount = money.amount if money else None
        self.investment_currency = money.currency if money else None

    @property
    def is_public(self) -> bool:
        return self.status == VendorStatus.APPROVED


class VendorStatusChange(db.Model):
    """The review trail: every status transition, who made it and why."""

    __tablename__ = "vendor_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)

    vendor: Mapped[Vendor] = relationship(back_populates="history")


class ShippingProfile(db.Model):
    """Where a vendor ships and at what price: zones of destination countries, each with its services' rates
    (kept as the vendor sent them, amounts as decimal strings in the vendor's currency; `vendors.shipping`
    reads them)."""

    __tablename__ = "vendor_shipping_profiles"

    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), primary_key=True)
    zones: Mapped[list] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now, onupdate=now)
