from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.kernel.clock import now
from marketplace.kernel.db_types import UtcDateTime
from marketplace.kernel.extensions import db


class AuthorRole(StrEnum):
    SHOPPER = "shopper"
    VENDOR = "vendor"
    OPERATOR = "operator"
    SYSTEM = "system"


class OrderMessage(db.Model):
    """One message in a vendor order's thread. People's messages keep their (masked) `body` and `locale`;
    system messages keep an `event` and its `params`, rendered in the reader's language when read."""

    __tablename__ = "order_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_order_id: Mapped[int] = mapped_column(ForeignKey("vendor_orders.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author_role: Mapped[str] = mapped_column(String(16))
    body: Mapped[str | None] = mapped_column(Text)
    locale: Mapped[str | None] = mapped_column(String(8))
    event: Mapped[str | None] = mapped_column(String(64))
    params: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
