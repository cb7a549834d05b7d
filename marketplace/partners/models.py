"""Partner tables: partners and their keys, vendor grants, listing links, sync jobs, webhooks."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.kernel.clock import now
from marketplace.kernel.db_types import UtcDateTime
from marketplace.kernel.extensions import db


class Scope(StrEnum):
    LISTINGS_READ = "listings:read"
    LISTINGS_WRITE = "listings:write"
    ORDERS_READ = "orders:read"
    WEBHOOKS_MANAGE = "webhooks:manage"


ALL_SCOPES = tuple(s.value for s in Scope)


class Partner(db.Model):
    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)


class PartnerApiKey(db.Model):
    """An API key: `bbp_<8-character id>_<secret>`; only the id part (`prefix`) and a SHA-256 are stored."""

    __tablename__ = "partner_api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)      # "bbp_ab12cd34", not secret
    key_hash: Mapped[str] = mapped_column(String(64))                 # hex SHA-256 of the whole key
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: When the key last authenticated a request (written at most once a minute); None if never used.
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    partner: Mapped[Partner] = relationship()


class PartnerVendorGrant(db.Model):
    """A vendor lets a partner manage its listings (and hear about its orders)."""

    __tablename__ = "partner_vendor_grants"
    __table_args__ = (UniqueConstraint("partner_id", "vendor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)

    partner: Mapped[Partner] = relationship()


class PartnerListing(db.Model):
    """The link between a partner's `external_id` and the product it manages.

    `feed_seq` orders the delta feed: the change number of the link's last change, its own creation or any
    write to its product, whichever path wrote it (partner sync, the vendor's own edits, checkout's stock).
    Database triggers (migration 5e2a1c0d9b02) set it in the writing transaction: on PostgreSQL it is the
    writing transaction's id (`pg_current_xact_id()`), on SQLite one more than the highest so far, taken
    under the write lock SQLite serializes writers with. See `services.listing_feed` for how it is read.
    """

    __tablename__ = "partner_listings"
    __table_args__ = (UniqueConstraint("partner_id", "external_id"),
                      Index("ix_partner_listings_feed", "partner_id", "feed_seq", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(128))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), index=True)
    #: The partner's own version (it increases them); None until the partner sends one.
    version: Mapped[int | None] = mapped_column(BigInteger)
    #: SHA-256 of the canonical listing content last written.
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    #: Set by triggers only (see the class docstring); never written by the application.
    feed_seq: Mapped[int] = mapped_column(BigInteger, server_default="0", index=True)


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    #: The job could not go on (its `error` says why); its lines not yet processed stay `pending`.
    FAILED = "failed"


class ListingSyncJob(db.Model):
    """A large sync uploaded as JSON Lines; `flask worker` processes it in chunks."""

    __tablename__ = "partner_sync_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.PENDING, index=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    #: Line number of the last processed line (the next chunk starts after it).
    cursor_line: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: Why a `failed` job stopped.
    error: Mapped[str | None] = mapped_column(Text)


class ListingSyncJobLine(db.Model):
    __tablename__ = "partner_sync_job_lines"
    __table_args__ = (UniqueConstraint("job_id", "line"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("partner_sync_jobs.id", ondelete="CASCADE"))
    line: Mapped[int] = mapped_column(Integer)               # 1-based line number in the uploaded body
    payload: Mapped[str] = mapped_column(Text)               # the line as sent
    status: Mapped[str] = mapped_column(String(16), default="pending")
    external_id: Mapped[str | None] = mapped_column(String(128))
    product_id: Mapped[int | None] = mapped_column(Integer)
    code: Mapped[str | None] = mapped_column(String(64))
    errors: Mapped[dict | None] = mapped_column(JSON)


class Webhook(db.Model):
    __tablename__ = "partner_webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list] = mapped_column(JSON, default=list)
    #: The signing secret, Fernet-encrypted with a key derived from SECRET_KEY (it must be readable to sign).
    secret_ciphertext: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookDelivery(db.Model):
    """One event for one webhook; the body is stored as sent, so every retry carries the same bytes."""

    __tablename__ = "partner_webhook_deliveries"
    __table_args__ = (Index("ix_partner_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("partner_webhooks.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(32))
    #: The vendors whose data the body carries (None: no vendor's, e.g. a campaign): checked again before
    #: every attempt, so nothing is sent once the partner lost one of these grants or its last key.
    vendor_ids: Mapped[list | None] = mapped_column(JSON)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    #: Attempts in the current schedule (a redelivery starts a new one); the log keeps them all.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)

    log: Mapped[list[WebhookAttempt]] = relationship(order_by="WebhookAttempt.id", passive_deletes=True,
                                                       back_populates="delivery")


class WebhookAttempt(db.Model):
    __tablename__ = "partner_webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("partner_webhook_deliveries.id", ondelete="CASCADE"),
                                             index=True)
    number: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)

    delivery: Mapped[WebhookDelivery] = relationship(back_populates="log")
