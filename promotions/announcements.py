"""Campaign starts and ends, told once: the worker job re-indexes the campaign's products and publishes
the partner events (`campaign.started`, `campaign.ended`, through the kernel's event outbox)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.kernel import events
from marketplace.kernel.clock import now
from promotions import rules
from promotions.indexing import touch_products
from promotions.models import Campaign

#: The partner event types promotions publishes (declared among the kernel's `events.TYPES`).
CAMPAIGN_STARTED = "campaign.started"
CAMPAIGN_ENDED = "campaign.ended"


def announce(session: Session) -> int:
    """Worker job: when a campaign starts or ends, re-index its products and tell partners."""
    done = 0
    at = now()
    for campaign in session.scalars(select(Campaign).where(Campaign.state != "draft",
                                                           (Campaign.announced_start.is_(False))
                                                           | (Campaign.announced_end.is_(False)))):
        status = campaign.status(at)
        if status == rules.ACTIVE and not campaign.announced_start:
            campaign.announced_start = True
            touch_products(session, campaign)
            events.publish(session, CAMPAIGN_STARTED, _event_data(campaign))
            done += 1
        elif status == rules.ENDED and not campaign.announced_end:
            if campaign.announced_start:
                events.publish(session, CAMPAIGN_ENDED, _event_data(campaign))
            campaign.announced_start = campaign.announced_end = True
            touch_products(session, campaign)
            done += 1
    session.commit()
    return done


def _event_data(campaign: Campaign) -> dict[str, Any]:
    return {"id": campaign.id, "slug": campaign.slug, "name": campaign.name,
            "starts_at": campaign.starts_at.isoformat(), "ends_at": campaign.ends_at.isoformat()}
