from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.kernel.clock import now
from marketplace.kernel.db_types import ExactDecimal, UtcDateTime
from marketplace.kernel.extensions import db
from marketplace.kernel.money import Money
from promotions import rules


class Campaign(db.Model):
    """A festival campaign. `state` is what managers set; `status` is computed from it and the clock."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[dict] = mapped_column(JSON)
    description: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="draft", index=True)   # draft|launched|paused|ended
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime())
    discount_type: Mapped[str] = mapped_column(String(8))
    discount_percent: Mapped[Decimal | None] = mapped_column(ExactDecimal(7, 4))
    discount_amounts: Mapped[list | None] = mapped_column(JSON)   # [[currency, "amount"], ...], first = reference
    eligibility: Mapped[dict] = mapped_column(JSON, default=dict)
    budget_amount: Mapped[Decimal | None] = mapped_column(ExactDecimal(20, 4))
    budget_currency: Mapped[str | None] = mapped_column(String(3))
    budget_spent: Mapped[Decimal] = mapped_column(ExactDecimal(20, 4), default=Decimal(0))
    max_uses_per_customer: Mapped[int | None] = mapped_column(Integer)
    stock_cap: Mapped[int | None] = mapped_column(Integer)
    boost: Mapped[Decimal] = mapped_column(ExactDecimal(6, 3), default=Decimal("1.5"))
    requires_approval: Mapped[bool] = mapped_column(default=False)
    #: The index and partners were told the campaign started / ended (set by the worker job).
    announced_start: Mapped[bool] = mapped_column(default=False)
    announced_end: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now, onupdate=now)

    enrollments: Mapped[list["Enrollment"]] = relationship(back_populates="campaign", order_by="Enrollment.id")

    def status(self, at: datetime | None = None) -> str:
        return rules.status_at(self.state, self.starts_at, self.ends_at, at or now())

    @property
    def discount(self) -> rules.Discount:
        if self.discount_type == "percent":
            return rules.Discount("percent", percent=self.discount_percent)
        return rules.Discount("fixed", amounts=tuple((c, Decimal(a)) for c, a in self.discount_amounts or ()))

    @property
    def budget(self) -> Money | None:
        if self.budget_amount is None:
            return None
        return Money(self.budget_amount, self.budget_currency)

    @property
    def spent(self) -> Money | None:
        if self.budget_currency is None:
            return None
        return Money(self.budget_spent, self.budget_currency)

    def localized(self, field: dict, locale: str) -> str:
        return field.get(locale) or field.get("en") or next(iter(field.values()), "")


class Enrollment(db.Model):
    __tablename__ = "campaign_enrollments"
    __table_args__ = (UniqueConstraint("campaign_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))       # enrolled | pending_approval | rejected | withdrawn
    reason: Mapped[str | None] = mapped_column(Text)
    units_sold: Mapped[int] = mapped_column(default=0)    # units sold at the festival price (the stock cap)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)

    campaign: Mapped[Campaign] = relationship(back_populates="enrollments")


class CampaignUse(db.Model):
    """One order of one customer that got a campaign's price; numbered per customer so that two
    concurrent checkouts cannot both take the last allowed use (unique constraint)."""

    __tablename__ = "campaign_uses"
    __table_args__ = (UniqueConstraint("campaign_id", "user_id", "use_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    use_number: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
