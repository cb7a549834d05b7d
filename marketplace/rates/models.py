from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.kernel.clock import now
from marketplace.kernel.db_types import ExactDecimal, UtcDateTime
from marketplace.kernel.extensions import db


class FxRate(db.Model):
    """One published quote: `rate` units of `quote` for 1 unit of `base`."""

    __tablename__ = "fx_rates"
    __table_args__ = (UniqueConstraint("base", "quote", "source", "as_of"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    base: Mapped[str] = mapped_column(String(3))
    quote: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(ExactDecimal(38, 18))
    source: Mapped[str] = mapped_column(String(16))
    as_of: Mapped[date] = mapped_column(Date, index=True)
    loaded_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
