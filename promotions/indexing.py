"""A campaign's offers changed: pricing and search learn it.

Pricing rebuilds its offer index when `pricing_version` moves (a campaign's `updated_at` among it); search
re-indexes the products whose festival price or boost changed (through catalog's search outbox)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Product
from catalog.services import record_search_change, record_search_changes
from marketplace.kernel.clock import now
from promotions.models import Campaign, Enrollment


def mark_changed(campaign: Campaign) -> None:
    """Mark the campaign changed for `pricing_version`: its `updated_at` moves forward even when the clock
    did not (a coarse or frozen clock), so every process prices with the new offers at once."""
    stamp = now()
    if campaign.updated_at is not None and stamp <= campaign.updated_at:
        stamp = campaign.updated_at + timedelta(microseconds=1)
    campaign.updated_at = stamp


def touch_product(session: Session, product: Product | None) -> None:
    """The product is indexed again (it joined or left a campaign)."""
    if product is not None:
        record_search_change(session, product)


def touch_products(session: Session, campaign: Campaign) -> None:
    """The campaign changed and its enrolled products are indexed again (their festival price or boost changed)."""
    mark_changed(campaign)
    record_search_changes(session, list(session.scalars(select(Enrollment.product_id).where(
        Enrollment.campaign_id == campaign.id, Enrollment.status == "enrolled"))))
