from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.kernel.clock import now
from marketplace.kernel.db_types import UtcDateTime
from marketplace.kernel.extensions import db


class Role(StrEnum):
    SHOPPER = "shopper"
    VENDOR = "vendor"
    CAMPAIGN_MANAGER = "campaign_manager"
    ADMIN = "admin"


STAFF_ROLES = (Role.ADMIN, Role.CAMPAIGN_MANAGER)


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)

    def has_role(self, *roles: str) -> bool:
        return self.role in roles


class AccessToken(db.Model):
    """Opaque bearer tokens; only the SHA-256 of the token is stored."""

    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class CustomsIdentity(db.Model):
    """The identity a shopper declares for imports that need one (China's cross-border retail imports: the
    buyer's name and resident identity number, which must match the payer). Personal data: both are sealed
    (`marketplace.kernel.sealing`); the number is found again by its keyed digest (the annual limit is
    counted per identity, whichever account uses it) and shown masked."""

    __tablename__ = "customs_identities"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    country: Mapped[str] = mapped_column(String(2))
    name_sealed: Mapped[str] = mapped_column(Text())
    id_number_sealed: Mapped[str] = mapped_column(Text())
    id_number_digest: Mapped[str] = mapped_column(String(64), index=True)
    id_number_masked: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now, onupdate=now)
