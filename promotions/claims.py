"""A campaign's limits at checkout: a sold line takes its share of the stock cap, the budget and the
customer's uses (`claim`), and an order that will never be paid gives them back (`release`)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.kernel.money import Money
from marketplace.rates.conversion import RateTable
from promotions import pricing, rules
from promotions.indexing import touch_products
from promotions.models import Campaign, CampaignUse, Enrollment


def claim(session: Session, offer: rules.Offer, user_id: int, order_id: int, quantity: int,
          discount_total: Money, table: RateTable, claimed_uses: set[int]) -> dict[str, Any] | None:
    """Take this line's share of the campaign's limits atomically, or None when a limit is reached
    (the line then costs the list price). Runs inside the checkout transaction."""
    campaign = session.scalar(select(Campaign).where(Campaign.id == offer.campaign_id).with_for_update()
                              .execution_options(populate_existing=True))  # the locked row, not a stale copy
    if campaign is None or campaign.status() != rules.ACTIVE:
        return None
    savepoint = session.begin_nested()
    try:
        if campaign.stock_cap is not None:
            taken = session.execute(update(Enrollment).where(
                Enrollment.id == offer.extra["enrollment_id"],
                Enrollment.units_sold + quantity <= campaign.stock_cap,
            ).values(units_sold=Enrollment.units_sold + quantity)).rowcount
            if not taken:
                savepoint.rollback()
                return None
        else:
            session.execute(update(Enrollment).where(Enrollment.id == offer.extra["enrollment_id"])
                            .values(units_sold=Enrollment.units_sold + quantity))
        charge = None
        if campaign.budget_amount is not None:
            charge = table.convert(discount_total, campaign.budget_currency)
            spent = campaign.budget_spent
            if spent + charge.amount > campaign.budget_amount:
                savepoint.rollback()
                return None
            # compare-and-set: exact decimals on every database, and no lost update between checkouts
            moved = session.execute(update(Campaign).where(Campaign.id == campaign.id,
                                                           Campaign.budget_spent == spent)
                                    .values(budget_spent=spent + charge.amount)).rowcount
            if not moved:
                savepoint.rollback()
                return None
            if spent + charge.amount >= campaign.budget_amount:  # the festival price ends for all its products
                touch_products(session, campaign)
        if campaign.max_uses_per_customer and campaign.id not in claimed_uses:
            # the lowest free number in 1..limit: a use given back by a cancelled order is taken again,
            # and two checkouts racing for the last one collide on the unique constraint
            taken = set(session.scalars(select(CampaignUse.use_number).where(
                CampaignUse.campaign_id == campaign.id, CampaignUse.user_id == user_id)))
            free = sorted(set(range(1, campaign.max_uses_per_customer + 1)) - taken)
            if len(taken) >= campaign.max_uses_per_customer or not free:
                savepoint.rollback()
                return None
            session.add(CampaignUse(campaign_id=campaign.id, user_id=user_id, order_id=order_id,
                                    use_number=free[0]))
            session.flush()
            claimed_uses.add(campaign.id)
            pricing.claimed_uses(session).add((campaign.id, user_id))
        savepoint.commit()
    except IntegrityError:  # a concurrent checkout took the same use number
        savepoint.rollback()
        return None
    return {"campaign_id": campaign.id, "slug": campaign.slug,
            "name": campaign.localized(campaign.name, "en"), "ends_at": campaign.ends_at.isoformat(),
            "enrollment_id": offer.extra["enrollment_id"],
            "budget_charge": str(charge.amount) if charge else None,
            "budget_currency": campaign.budget_currency if charge else None}


def release(session: Session, order_id: int, lines: list[tuple[dict, int]]) -> None:
    """An order that will never be paid gives back its stock-cap units, budget and uses."""
    for campaign_info, quantity in lines:
        campaign = session.scalar(select(Campaign).where(Campaign.id == campaign_info["campaign_id"])
                                  .with_for_update().execution_options(populate_existing=True))
        session.execute(update(Enrollment).where(Enrollment.id == campaign_info["enrollment_id"])
                        .values(units_sold=Enrollment.units_sold - quantity))
        # (the line's own product is indexed again by checkout and cancellation: its stock changes)
        if campaign is None:
            continue
        if campaign_info.get("budget_charge"):
            exhausted = campaign.budget_amount is not None and campaign.budget_spent >= campaign.budget_amount
            campaign.budget_spent = max(Decimal(0), campaign.budget_spent - Decimal(campaign_info["budget_charge"]))
            if exhausted:
                touch_products(session, campaign)
    session.execute(delete(CampaignUse).where(CampaignUse.order_id == order_id))
