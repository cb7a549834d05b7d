"""Webhooks out: subscriptions, the outbox fan-out into deliveries, and the signed sender.

`fan_out` is the outbox handler for `marketplace.kernel.events.TOPIC`: each event
becomes one delivery row per matching webhook, in the transaction that marks
the event processed. `send_due` (a worker job) POSTs due deliveries:

    X-BuyBRICS-Timestamp: <unix seconds>
    X-BuyBRICS-Signature: v1=<hex HMAC-SHA256 of "{timestamp}.{raw body}" with the webhook's secret>

A failure (network error, timeout, non-2xx) is retried with exponential
backoff (1, 2, 4, ... minutes, capped at an hour; 10 attempts over about
four hours by default) with the same body and event id; every attempt is kept.

Webhook URLs must not turn our servers against our own network (SSRF): see
`Destinations`. `check_url` refuses, at registration, a host that is or resolves
to a disallowed address; since DNS answers can change later (DNS rebinding),
`_post` resolves the host again for every attempt, refuses (a failed attempt,
retried like any other) if any address is disallowed, and connects to a vetted
address itself, so no second lookup happens between the check and the connect.
Redirects are never followed.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import SplitResult, urlsplit

import requests
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import gettext as _
from requests.adapters import HTTPAdapter
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload
from urllib3.exceptions import ConnectTimeoutError

from marketplace.kernel import events
from marketplace.kernel.clock import now
from marketplace.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from marketplace.kernel.outbox import OutboxEvent
from marketplace.partners.auth import PartnerPrincipal
from marketplace.partners.errors import PartnerErrorCode
from marketplace.partners.models import (
    DeliveryStatus,
    PartnerApiKey,
    PartnerListing,
    PartnerVendorGrant,
    Scope,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)

log = logging.getLogger(__name__)

MAX_WEBHOOKS_PER_PARTNER = 20
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
DEFAULT_PORTS = {"http": 80, "https": 443}
#: Which key scope a subscription to each event needs.
EVENT_SCOPES = {"order.created": Scope.ORDERS_READ, "order.paid": Scope.ORDERS_READ,
                "order.cancelled": Scope.ORDERS_READ, "order.refunded": Scope.ORDERS_READ,
                "listing.updated": Scope.LISTINGS_READ, "campaign.started": None, "campaign.ended": None}


# -- secrets at rest ---------------------------------------------------------

@lru_cache(maxsize=8)
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"buybrics partner webhook secrets v1").derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(secret: str) -> str:
    return _fernet(current_app.config["SECRET_KEY"]).encrypt(secret.encode()).decode()


def decrypt_secret(ciphertext: str) -> str:
    return _fernet(current_app.config["SECRET_KEY"]).decrypt(ciphertext.encode()).decode()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={mac}"


# -- subscriptions -----------------------------------------------------------

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedDestination(Exception):
    """A host that is, or resolves to, an address webhooks must not reach."""

    def __init__(self, host: str, address: IPAddress, kind: str) -> None:
        what = f"{host} is" if host == str(address) else f"{host} resolves to {address},"
        super().__init__(f"{what} a {kind} address; webhooks only reach public addresses")
        self.address = address


@dataclass(frozen=True)
class Destinations:
    """Which addresses our servers may POST webhooks to: public unicast ones, and loopback outside production.

    `PARTNER_WEBHOOK_ALLOW_PRIVATE` (on-premise installs) also lets through private, unique-local, carrier-grade
    NAT and reserved ones. Link-local (cloud metadata at 169.254.169.254 lives there), multicast and unspecified
    addresses (0.0.0.0 reaches this very host) are never allowed.
    """

    allow_loopback: bool
    allow_private: bool

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Destinations:
        return cls(allow_loopback=config.get("ENV_NAME") != "production",
                   allow_private=bool(config.get("PARTNER_WEBHOOK_ALLOW_PRIVATE")))

    def refusal(self, address: IPAddress) -> str | None:
        """What kind of address this is if webhooks may not reach it; None if they may."""
        if isinstance(address, ipaddress.IPv6Address):  # an IPv4 address carried in IPv6 is judged as itself
            address = address.ipv4_mapped or address.sixtofour or address
        if address.is_loopback:
            return None if self.allow_loopback else "loopback"
        if address.is_unspecified:
            return "unspecified"
        if address.is_multicast:
            return "multicast"
        if address.is_link_local:
            return "link-local"
        if self.allow_private:
            return None
        if address.is_private:
            return "private"
        # `is_global` is False for carrier-grade NAT (100.64.0.0/10), which is not `is_private`
        if address.is_reserved or not address.is_global or getattr(address, "is_site_local", False):
            return "reserved"
        return None

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Every address a connection to `host` could use, once all are allowed; else RefusedDestination.

        Raises socket.gaierror (an OSError) when the name does not resolve, and ValueError when it cannot be a
        host name at all (a label over 63 characters, a NUL byte).
        """
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:  # a name; getaddrinfo also reads the numeric forms ip_address rejects (10.1, 0x7f000001)
            infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
            addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
        for address in addresses:
            kind = self.refusal(address)
            if kind:
                raise RefusedDestination(host, address, kind)
        return addresses


def check_url(url: str) -> str:
    """https to a public address; plain http only to a loopback host outside production (see `Destinations`).

    A host name that does not resolve now is accepted (its DNS may be down or not set up yet): every delivery
    resolves it again and refuses a disallowed address then, so accepting it opens nothing.
    """
    bad = Invalid(PartnerErrorCode.INVALID_WEBHOOK_URL,
                  _("Webhook URLs must be https (http only to 127.0.0.1, localhost or ::1 outside production)."),
                  field="url")
    if any(c.isspace() for c in url):
        raise bad
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise bad from None
    host = (parts.hostname or "").lower()
    if not host or parts.username or parts.password or parts.fragment:
        raise bad
    production = current_app.config.get("ENV_NAME") == "production"
    loopback_http = parts.scheme == "http" and not production and (host in LOOPBACK_HOSTS or _is_loopback(host))
    if parts.scheme != "https" and not loopback_http:
        raise bad
    try:
        Destinations.from_config(current_app.config).resolve(host, parts.port or DEFAULT_PORTS[parts.scheme])
    except RefusedDestination as refused:
        raise Invalid(PartnerErrorCode.INVALID_WEBHOOK_URL,
                      _("Webhook URLs must point to public addresses; %(address)s is private, internal or reserved.",
                        address=str(refused.address)), field="url") from None
    except ValueError:
        raise bad from None
    except OSError:  # does not resolve (now): see the docstring
        pass
    return url


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
    query = select(Webhook).where(Webhook.partner_id == partner_id)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    items = list(session.scalars(query.order_by(Webhook.id).limit(per_page).offset((page - 1) * per_page)))
    return {"items": items, "total": total, "page": page, "per_page": per_page}


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
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    items = list(session.scalars(query.options(selectinload(WebhookDelivery.log))
                                 .order_by(WebhookDelivery.id.desc()).limit(per_page).offset((page - 1) * per_page)))
    return {"items": items, "total": total, "page": page, "per_page": per_page}


def redeliver(session: Session, partner_id: int, webhook_id: int, delivery_id: int) -> WebhookDelivery:
    """Queue a delivery again now, with a fresh retry schedule (same event id and body)."""
    webhook = own_webhook(session, partner_id, webhook_id)
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.webhook_id != webhook.id:
        raise NotFound(PartnerErrorCode.DELIVERY_NOT_FOUND, _("No such delivery."))
    delivery.status, delivery.attempts, delivery.next_attempt_at = DeliveryStatus.PENDING, 0, now()
    session.commit()
    return delivery


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
                   if p.get("type") == "listing.updated" and isinstance(p.get("data"), dict)}
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
            if event_type == "listing.updated":
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
