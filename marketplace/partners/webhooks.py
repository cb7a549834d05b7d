"""Webhook subscriptions: a partner registers URLs for the events it wants (`topics.EVENT_SCOPES`), lists and
deletes them, pages a webhook's deliveries and queues one again. Each webhook has its own signing secret,
kept encrypted; `marketplace.partners.deliveries` turns events into deliveries and sends them signed:

    X-BuyBRICS-Timestamp: <unix seconds>
    X-BuyBRICS-Signature: v1=<hex HMAC-SHA256 of "{timestamp}.{raw body}" with the webhook's secret>

Webhook URLs only reach public addresses (`marketplace.partners.destinations`).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from marketplace.kernel import sealing
from marketplace.kernel.clock import now
from marketplace.kernel.errors import Conflict, Forbidden, NotFound
from marketplace.kernel.pagination import paginate
from marketplace.partners.auth import PartnerPrincipal
from marketplace.partners.destinations import check_url
from marketplace.partners.errors import PartnerErrorCode
from marketplace.partners.models import DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery
from marketplace.partners.topics import EVENT_SCOPES

MAX_WEBHOOKS_PER_PARTNER = 20
WEBHOOK_SECRETS = "partner webhook secrets"  # (the sealing purpose: keeps the key secrets were sealed under)


# -- secrets at rest and signatures ------------------------------------------

def encrypt_secret(secret: str) -> str:
    return sealing.seal(secret, WEBHOOK_SECRETS)


def decrypt_secret(ciphertext: str) -> str:
    return sealing.unseal(ciphertext, WEBHOOK_SECRETS)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={mac}"


# -- subscriptions -----------------------------------------------------------

def create_webhook(session: Session, partner: PartnerPrincipal, url: str, event_types: list[str]) -> tuple[Webhook, str]:
    """A subscription and its signing secret (returned once; stored encrypted)."""
    check_url(url)
    wanted = list(dict.fromkeys(event_types))
    for event_type in wanted:
        scope = EVENT_SCOPES[event_type]
        if scope is not None and scope not in partner.scopes:
            raise Forbidden(PartnerErrorCode.INSUFFICIENT_SCOPE,
                            _("Subscribing to %(event)s needs a key with the %(scope)s scope.",
                              event=event_type, scope=scope.value), field="events", required_scope=scope.value)
    count = session.scalar(select(func.count()).select_from(Webhook).where(Webhook.partner_id == partner.partner_id))
    if count >= MAX_WEBHOOKS_PER_PARTNER:
        raise Conflict(PartnerErrorCode.TOO_MANY_WEBHOOKS,
                       _("A partner has at most %(n)s webhooks.", n=MAX_WEBHOOKS_PER_PARTNER))
    secret = "whsec_" + secrets.token_urlsafe(32)
    webhook = Webhook(partner_id=partner.partner_id, url=url, events=wanted, secret_ciphertext=encrypt_secret(secret))
    session.add(webhook)
    session.commit()
    return webhook, secret


def own_webhook(session: Session, partner_id: int, webhook_id: int) -> Webhook:
    webhook = session.get(Webhook, webhook_id)
    if webhook is None or webhook.partner_id != partner_id:
        raise NotFound(PartnerErrorCode.WEBHOOK_NOT_FOUND, _("No such webhook."))
    return webhook


def webhooks_of(session: Session, partner_id: int, page: int, per_page: int) -> dict[str, Any]:
    return paginate(session, select(Webhook).where(Webhook.partner_id == partner_id).order_by(Webhook.id),
                    page, per_page)


def delete_webhook(session: Session, partner_id: int, webhook_id: int) -> None:
    webhook = own_webhook(session, partner_id, webhook_id)
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.webhook_id == webhook.id)
    session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(deliveries)))
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id))
    session.delete(webhook)
    session.commit()


def deliveries_of(session: Session, partner_id: int, webhook_id: int, status: str | None, page: int,
                  per_page: int) -> dict[str, Any]:
    webhook = own_webhook(session, partner_id, webhook_id)
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
    if status:
        query = query.where(WebhookDelivery.status == status)
    return paginate(session, query.options(selectinload(WebhookDelivery.log)).order_by(WebhookDelivery.id.desc()),
                    page, per_page)


def redeliver(session: Session, partner_id: int, webhook_id: int, delivery_id: int) -> WebhookDelivery:
    """Queue a delivery again now, with a fresh retry schedule (same event id and body)."""
    webhook = own_webhook(session, partner_id, webhook_id)
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.webhook_id != webhook.id:
        raise NotFound(PartnerErrorCode.DELIVERY_NOT_FOUND, _("No such delivery."))
    delivery.status, delivery.attempts, delivery.next_attempt_at = DeliveryStatus.PENDING, 0, now()
    session.commit()
    return delivery
