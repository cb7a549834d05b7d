"""Domain events partners may subscribe to, published through the transactional outbox.

`publish` adds the event to the caller's transaction; the outbox handler for
`TOPIC` (the partner webhooks fan-out) turns it into deliveries for the
partners entitled to it (their own vendors' orders and listings; campaigns
for everyone).
"""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from marketplace.kernel import outbox
from marketplace.kernel.clock import now

TOPIC = "partner.event"
TYPES = ("order.created", "order.paid", "order.cancelled", "order.refunded", "listing.updated",
         "campaign.started", "campaign.ended",
         "return.requested", "return.approved", "return.rejected", "return.in_transit", "return.received",
         "return.refunded", "return.replaced", "return.closed", "return.escalated",
         "dispute.opened", "dispute.proposal", "dispute.accepted", "dispute.declined", "dispute.facilitated",
         "dispute.decided", "dispute.closed",
         "review.published", "customs.data_ready")


def _envelope(event_type: str, data: dict[str, Any], vendor_ids: list[int] | None, created_at: str) -> dict:
    if event_type not in TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    event_id = f"evt_{uuid.uuid4().hex}"
    return {"id": event_id, "type": event_type, "created_at": created_at, "data": data, "vendor_ids": vendor_ids}


def publish(session: Session, event_type: str, data: dict[str, Any], vendor_ids: list[int] | None = None) -> str:
    """Record an event; `vendor_ids` limits it to partners those vendors authorized (None: every partner)."""
    envelope = _envelope(event_type, data, vendor_ids, now().isoformat())
    outbox.record(session, TOPIC, envelope["id"], envelope)
    return envelope["id"]


def publish_many(session: Session, event_type: str, items: list[tuple[dict[str, Any], list[int] | None]]) -> list[str]:
    """`publish` for many events of one type (bulk writes): one outbox row carries them all, each keeping
    its own id; [(data, vendor_ids)] -> their ids."""
    if not items:
        return []
    created_at = now().isoformat()
    envelopes = [_envelope(event_type, data, vendor_ids, created_at) for data, vendor_ids in items]
    if len(envelopes) == 1:
        outbox.record(session, TOPIC, envelopes[0]["id"], envelopes[0])
    else:
        outbox.record(session, TOPIC, envelopes[0]["id"], {"events": envelopes})
    return [e["id"] for e in envelopes]


def unpack(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events in outbox payloads (one each, or a batch from `publish_many`)."""
    return [event for payload in payloads for event in (payload["events"] if "events" in payload else [payload])]
