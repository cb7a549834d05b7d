"""Webhook deliveries: the outbox fan-out of events into deliveries, and the signed sender.

`fan_out` is the outbox handler for `marketplace.kernel.events.TOPIC`: each event
becomes one delivery row per matching webhook, in the transaction that marks
the event processed. `send_due` (a worker job) POSTs due deliveries, signed with
the webhook's secret (`marketplace.partners.webhooks.sign`).

A failure (network error, timeout, non-2xx) is retried with exponential
backoff (1, 2, 4, ... minutes, capped at an hour; 10 attempts over about
four hours by default) with the same body and event id; every attempt is kept.

`_post` resolves the host again for every attempt, refuses a disallowed address
(`marketplace.partners.destinations`) and connects to a vetted address itself.
Redirects are never followed.
"""
from __future__ import annotations

import json
import logging
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import SplitResult, urlsplit

import requests
from flask import current_app
from requests.adapters import HTTPAdapter
from sqlalchemy import func, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from urllib3.exceptions import ConnectTimeoutError

from marketplace.kernel import events
from marketplace.kernel.clock import now
from marketplace.kernel.outbox import OutboxEvent
from marketplace.partners.destinations import DEFAULT_PORTS, Destinations, IPAddress, RefusedDestination
from marketplace.partners.models import (
    DeliveryStatus,
    PartnerApiKey,
    PartnerListing,
    PartnerVendorGrant,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)
from marketplace.partners.topics import EVENT_SCOPES, LISTING_UPDATED
from marketplace.partners.webhooks import decrypt_secret, sign

log = logging.getLogger(__name__)


# -- fan-out (outbox handler) ------------------------------------------------

def _active_scopes(session: Session, partner_ids: set[int]) -> dict[int, set[str]]:
    """partner -> the scopes its active (not revoked) keys hold together; partners without one are absent."""
    scopes: dict[int, set[str]] = {}
    if partner_ids:
        for partner_id, key_scopes in session.execute(
                select(PartnerApiKey.partner_id, PartnerApiKey.scopes)
                .where(PartnerApiKey.partner_id.in_(partner_ids), PartnerApiKey.revoked_at.is_(None))):
            scopes.setdefault(partner_id, set()).update(key_scopes or ())
    return scopes


def _granted(session: Session, partner_ids: set[int], vendor_ids: set[int]) -> dict[int, set[int]]:
    """partner -> which of `vendor_ids` authorize it now."""
    granted: dict[int, set[int]] = {}
    if partner_ids and vendor_ids:
        for partner_id, vendor_id in session.execute(
                select(PartnerVendorGrant.partner_id, PartnerVendorGrant.vendor_id)
                .where(PartnerVendorGrant.partner_id.in_(partner_ids), PartnerVendorGrant.vendor_id.in_(vendor_ids))):
            granted.setdefault(partner_id, set()).add(vendor_id)
    return granted


def _entitled(event_type: str, scopes: set[str] | None) -> bool:
    """A partner hears an event only while it has an active key, one holding the event's scope if it needs one."""
    if not scopes:
        return False
    required = EVENT_SCOPES.get(event_type)
    return required is None or required.value in scopes


def _sum(amounts: list[Any]) -> str:
    return str(sum((Decimal(str(amount)) for amount in amounts), Decimal(0)))


def partner_view(event_type: str, data: dict[str, Any], visible: set[int] | None) -> dict[str, Any]:
    """The event's data as one partner may see it: only the parts of the vendors in `visible` (None: all).

    An order event lists only those vendors' vendor orders (and lines, when it carries them), and its
    `total` and `refunded` become their sums; an order-wide amount that cannot be split per vendor is left
    out rather than shown."""
    if visible is None or not event_type.startswith("order."):
        return data
    view = dict(data)
    for name in ("vendor_orders", "lines"):
        if isinstance(data.get(name), list):
            view[name] = [item for item in data[name] if isinstance(item, dict) and item.get("vendor_id") in visible]
    vendor_orders = data.get("vendor_orders") if isinstance(data.get("vendor_orders"), list) else []
    if len(view.get("vendor_orders", [])) == len(vendor_orders) and "lines" not in data:
        return view  # the partner sees every vendor of the order: the order-wide amounts are its own
    mine = view.get("vendor_orders", [])
    if "total" in data:
        view["total"] = _sum([vo.get("subtotal", 0) for vo in mine])
    if "refunded" in data:
        if all("refunded" in vo for vo in mine):
            view["refunded"] = _sum([vo["refunded"] for vo in mine])
        else:
            del view["refunded"]
    return view


def fan_out(session: Session, outbox_events: list[OutboxEvent]) -> None:
    """One delivery per (event, matching webhook), each body built for its partner.

    A partner hears an event only while it has an active key holding the event's scope (`EVENT_SCOPES`) and,
    for a vendor's event (`vendor_ids` not None), only while one of those vendors authorizes it; it then sees
    only those vendors' parts (`partner_view`). A `listing.updated` carries the receiving partner's own
    external_id. Each delivery records the vendors it carries, checked again before every attempt."""
    webhooks = session.execute(select(Webhook.id, Webhook.partner_id, Webhook.events)).all()
    if not webhooks:
        return
    payloads = events.unpack([e.payload for e in outbox_events])
    partner_ids = {partner_id for _id, partner_id, _events in webhooks}
    scopes = _active_scopes(session, partner_ids)
    vendor_ids = {v for p in payloads for v in (p.get("vendor_ids") or ())}
    granted = _granted(session, set(scopes), vendor_ids)
    product_ids = {p["data"].get("product_id") for p in payloads
                   if p.get("type") == LISTING_UPDATED and isinstance(p.get("data"), dict)}
    external_ids: dict[tuple[int, int], str] = {}
    product_ids.discard(None)
    if product_ids:
        for partner_id, product_id, external_id in session.execute(
                select(PartnerListing.partner_id, PartnerListing.product_id, PartnerListing.external_id)
                .where(PartnerListing.product_id.in_(product_ids))):
            external_ids[(partner_id, product_id)] = external_id
    rows = []
    stamp = now()
    for payload in payloads:
        event_type, targets = payload.get("type"), payload.get("vendor_ids")
        for webhook_id, partner_id, subscribed in webhooks:
            if event_type not in (subscribed or ()) or not _entitled(event_type, scopes.get(partner_id)):
                continue
            visible = None
            if targets is not None:
                visible = set(targets) & granted.get(partner_id, set())
                if not visible:
                    continue
            data = partner_view(event_type, payload.get("data") or {}, visible)
            if event_type == LISTING_UPDATED:
                external_id = external_ids.get((partner_id, data.get("product_id")))
                data = {**data, "external_id": external_id} if external_id else data
            body = {"id": payload["id"], "type": event_type, "created_at": payload["created_at"], "data": data}
            rows.append({"webhook_id": webhook_id, "partner_id": partner_id, "event_id": payload["id"],
                         "event_type": event_type, "status": DeliveryStatus.PENDING.value, "attempts": 0,
                         "vendor_ids": None if visible is None else sorted(visible),
                         "body": json.dumps(body, separators=(",", ":"), ensure_ascii=False),
                         "next_attempt_at": stamp, "created_at": stamp})
    if rows:
        session.execute(insert(WebhookDelivery), rows)


def _carried_vendors(delivery: WebhookDelivery) -> set[int] | None:
    """The vendors whose data a delivery carries (None: none, e.g. a campaign); read from the body for
    deliveries queued before they were recorded."""
    if delivery.vendor_ids is not None:
        return set(delivery.vendor_ids)
    if EVENT_SCOPES.get(delivery.event_type) is None:
        return None
    data = (json.loads(delivery.body) or {}).get("data") or {}
    found = {data.get("vendor_id")} | {vo.get("vendor_id") for vo in data.get("vendor_orders") or ()
                                       if isinstance(vo, dict)}
    found.discard(None)
    return found


def withheld_reason(session: Session, delivery: WebhookDelivery) -> str | None:
    """Why a queued delivery may no longer be sent (its partner lost the key scope or a vendor's grant
    since it was queued), or None when it may."""
    if not _entitled(delivery.event_type, _active_scopes(session, {delivery.partner_id}).get(delivery.partner_id)):
        return "withheld: the partner no longer has an active API key allowed to receive this event"
    vendors = _carried_vendors(delivery)
    if vendors is not None and vendors - _granted(session, {delivery.partner_id}, vendors).get(delivery.partner_id,
                                                                                             set()):
        return "withheld: a vendor this event is about no longer authorizes the partner"
    return None


# -- sending (worker job) ----------------------------------------------------

def backoff(attempts: int) -> timedelta:
    """Delay after the `attempts`-th failure: 1, 2, 4, ... minutes, capped (an hour by default)."""
    base = current_app.config.get("PARTNER_WEBHOOK_BACKOFF_SECONDS", 60)
    cap = current_app.config.get("PARTNER_WEBHOOK_BACKOFF_CAP_SECONDS", 3600)
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def _claim(session: Session, batch: int, lease: timedelta) -> list[int]:
    """Take due deliveries for a while (a lease), so that concurrent workers never send the same one twice."""
    moment = now()
    query = (select(WebhookDelivery).where(WebhookDelivery.status == DeliveryStatus.PENDING,
                                           WebhookDelivery.next_attempt_at <= moment)
             .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(batch))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    deliveries = list(session.scalars(query))
    for delivery in deliveries:
        delivery.next_attempt_at = moment + lease
    ids = [d.id for d in deliveries]
    session.commit()
    return ids


class _ServerNameAdapter(HTTPAdapter):
    """https to an IP address while TLS (SNI and the certificate check) still uses the URL's host name."""

    def __init__(self, server_hostname: str) -> None:
        self.server_hostname = server_hostname  # before super().__init__(), which builds the pool manager
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, server_hostname=self.server_hostname, **kwargs)


def _post_to(parts: SplitResult, host: str, port: int, address: IPAddress, body: bytes, headers: dict[str, str],
             timeout: float) -> requests.Response:
    """POST to `address`, a vetted address of `host`: connecting to it directly leaves no second DNS lookup that
    could answer differently. The Host header and TLS keep the URL's own host name."""
    name = f"[{host}]" if ":" in host else host
    pinned = f"[{address}]" if address.version == 6 else str(address)
    headers = {**headers, "Host": name if port == DEFAULT_PORTS[parts.scheme] else f"{name}:{port}"}
    with requests.Session() as http:
        if parts.scheme == "https":
            http.mount("https://", _ServerNameAdapter(host))
        return http.post(parts._replace(netloc=f"{pinned}:{port}").geturl(), data=body, headers=headers,
                         timeout=timeout, allow_redirects=False)


def _never_connected(error: requests.RequestException) -> bool:
    """The connection itself failed (refused, unreachable, connect timeout): nothing was sent."""
    return isinstance(getattr(error.args[0] if error.args else None, "reason", None), ConnectTimeoutError)


def _post(url: str, secret: str, body: bytes, event_id: str, timeout: float,
          destinations: Destinations) -> tuple[int | None, str | None]:
    try:
        parts = urlsplit(url)
        host, port = (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS[parts.scheme]
    except (ValueError, KeyError):
        return None, f"not an http(s) URL: {url}"[:1000]
    try:
        addresses = destinations.resolve(host, port)
    except RefusedDestination as refused:
        return None, f"refused: {refused}"
    except (OSError, ValueError) as error:
        return None, f"cannot resolve {host}: {error}"[:1000]
    timestamp = int(time.time())
    headers = {"Content-Type": "application/json", "User-Agent": "BuyBRICS-Webhooks/1",
               "X-BuyBRICS-Event-Id": event_id, "X-BuyBRICS-Timestamp": str(timestamp),
               "X-BuyBRICS-Signature": sign(secret, timestamp, body)}
    error = None
    for address in addresses:  # in the resolver's order; the next one only when no connection could be made
        try:
            response = _post_to(parts, host, port, address, body, headers, timeout)
        except requests.RequestException as failure:
            error = (f"timeout after {timeout:g} s" if isinstance(failure, requests.Timeout)
                     else f"{type(failure).__name__}: {failure}"[:1000])
            if _never_connected(failure):
                continue
            return None, error
        if 200 <= response.status_code < 300:
            return response.status_code, None
        return response.status_code, f"HTTP {response.status_code}"
    return None, error


def send_due(session: Session, batch: int = 50) -> int:
    """Worker job: send the deliveries that are due; returns how many attempts were made."""
    config = current_app.config
    timeout = float(config.get("PARTNER_WEBHOOK_TIMEOUT_SECONDS", 5))
    max_attempts = int(config.get("PARTNER_WEBHOOK_MAX_ATTEMPTS", 10))
    destinations = Destinations.from_config(config)
    ids = _claim(session, batch, timedelta(seconds=timeout * 2 + 60))
    secrets_by_webhook: dict[int, str] = {}
    for delivery_id in ids:
        delivery = session.get(WebhookDelivery, delivery_id)
        webhook = session.get(Webhook, delivery.webhook_id) if delivery else None
        if delivery is None or webhook is None:  # the webhook was deleted meanwhile
            session.rollback()
            continue
        reason = withheld_reason(session, delivery)
        if reason is not None:  # entitlement is checked at send time too: nothing goes out after a revocation
            delivery.status, delivery.last_error = DeliveryStatus.FAILED, reason
            session.commit()
            continue
        if webhook.id not in secrets_by_webhook:
            secrets_by_webhook[webhook.id] = decrypt_secret(webhook.secret_ciphertext)
        url, event_id, body = webhook.url, delivery.event_id, delivery.body.encode()
        session.commit()  # no transaction stays open while the network call runs
        started = time.monotonic()
        status_code, error = _post(url, secrets_by_webhook[webhook.id], body, event_id, timeout,
                                   destinations)
        duration_ms = int((time.monotonic() - started) * 1000)
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            session.rollback()
            continue
        moment = now()
        delivery.attempts += 1
        number = 1 + session.scalar(select(func.count()).select_from(WebhookAttempt)
                                    .where(WebhookAttempt.delivery_id == delivery_id))
        session.add(WebhookAttempt(delivery_id=delivery_id, number=number, attempted_at=moment,
                                   status_code=status_code, error=error, duration_ms=duration_ms))
        delivery.last_status_code, delivery.last_error = status_code, error
        if error is None:
            delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, moment
        elif delivery.attempts >= max_attempts:
            delivery.status = DeliveryStatus.FAILED
            log.warning("webhook delivery %s failed for good after %s attempts: %s", delivery_id,
                        delivery.attempts, error)
        else:
            delivery.next_attempt_at = moment + backoff(delivery.attempts)
        try:
            session.commit()
        except SQLAlchemyError:  # deleted with its webhook while we were sending
            session.rollback()
    return len(ids)
