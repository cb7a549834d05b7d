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

from marketplace import outbox
from marketplace.clock import now

TOPIC = "partner.event"
TYPES = ("order.created", "order.paid", "order.cancelled", "order.refunded", "listing.updated",
         "campaign.started", "campaign.ended")


def publish(session: Session, event_type: str, data: dict[str, Any], vendor_ids: list[int] | None = None) -> str:
    """Record an event; `vendor_ids` limits it to partners those vendors authorized (None: every partner)."""
    if event_type not in TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    event_id = f"evt_{uuid.uuid4().hex}"
    outbox.record(session, TOPIC, event_id, {
        "id": event_id, "type": event_type, "created_at": now().isoformat(), "data": data,
        "vendor_ids": vendor_ids,
    })
    return event_id
