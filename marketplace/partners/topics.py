"""The partner events by name (the kernel's `events.TYPES`) and the key scope a partner needs to hear each.

Partners publish `listing.updated`; checkout publishes the `order.*` events and promotions the
`campaign.*` ones, all on the kernel's one outbox topic (`marketplace.kernel.events.TOPIC`).
"""
from __future__ import annotations

from marketplace.partners.models import Scope

LISTING_UPDATED = "listing.updated"

#: Which key scope a subscription to each event needs (None: any active key).
EVENT_SCOPES = {"order.created": Scope.ORDERS_READ, "order.paid": Scope.ORDERS_READ,
                "customs.data_ready": Scope.ORDERS_READ,
                "order.cancelled": Scope.ORDERS_READ, "order.refunded": Scope.ORDERS_READ,
                LISTING_UPDATED: Scope.LISTINGS_READ, "campaign.started": None, "campaign.ended": None,
                "return.requested": Scope.ORDERS_READ, "return.approved": Scope.ORDERS_READ,
                "return.rejected": Scope.ORDERS_READ, "return.in_transit": Scope.ORDERS_READ,
                "return.received": Scope.ORDERS_READ, "return.refunded": Scope.ORDERS_READ,
                "return.replaced": Scope.ORDERS_READ, "return.closed": Scope.ORDERS_READ,
                "return.escalated": Scope.ORDERS_READ,
                "dispute.opened": Scope.ORDERS_READ, "dispute.proposal": Scope.ORDERS_READ,
                "dispute.accepted": Scope.ORDERS_READ, "dispute.declined": Scope.ORDERS_READ,
                "dispute.facilitated": Scope.ORDERS_READ, "dispute.decided": Scope.ORDERS_READ,
                "dispute.closed": Scope.ORDERS_READ,
                "review.published": Scope.LISTINGS_READ}
