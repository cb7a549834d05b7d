"""The one pricing function: what a product costs a shopper, in a currency, at an instant.

list price -> converted to the shopper's currency (stored rates, cross rates)
-> the best applicable active campaign (one per product; the larger discount)
-> rounded half up to the currency's minor units. The product page, search,
cart, checkout and orders all price through here, so they always agree.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from flask import current_app, g, has_app_context
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, scoped_session

from marketplace.kernel.clock import now
from marketplace.kernel.errors import Invalid
from marketplace.kernel.money import Money
from marketplace.rates.conversion import NoRate, RateTable
from marketplace.rates.errors import RateErrorCode
from promotions import rules
from promotions.models import Campaign, CampaignUse, Enrollment


@dataclass(frozen=True)
class PriceQuote:
    price: Money             # what the shopper pays per unit
    list_price: Money        # the list price in the shopper's currency, before any discount
    original_price: Money    # the list price as the vendor set it
    campaign: dict | None = None          # {"slug", "name", "ends_at"} when a discount applies
    offer: rules.Offer | None = None      # the campaign offer applied (for checkout's limits)
    discount: Money | None = None         # per unit
    blocked: str | None = None            # why a festival price does not apply (a limit was reached)


def price_for(original: Money, currency: str, table: RateTable, offers: list[rules.Offer] | None = None,
              locale: str = "en", quantity: int = 1) -> PriceQuote:
    """The unit price of `quantity` units (a campaign whose limits cannot cover them all does not apply)."""
    list_price = table.convert(original, currency)
    if not offers:
        return PriceQuote(price=list_price, list_price=list_price, original_price=original)
    offer, off, blocked = rules.best_offer(list_price, offers, table.convert, quantity)
    if offer is None or not off.amount:
        reason = blocked[0].blocked if blocked else None
        return PriceQuote(price=list_price, list_price=list_price, original_price=original, blocked=reason)
    name = offer.extra.get("name") or {}
    campaign = {"slug": offer.slug, "name": name.get(locale) or name.get("en") or next(iter(name.values()), ""),
                "ends_at": offer.extra.get("ends_at")}
    return PriceQuote(price=list_price - off, list_price=list_price, original_price=original, campaign=campaign,
                      offer=offer, discount=off)


def quote_price(session: Session, original: Money, currency: str, table: RateTable, product_id: int | None = None,
                user_id: int | None = None, locale: str = "en", quantity: int = 1) -> PriceQuote:
    """The pricing function with the product's live campaign offers (and the shopper's limits)."""
    offers = offers_for(session, product_id, user_id) if product_id is not None else None
    try:
        return price_for(original, currency, table, offers, locale, quantity)
    except NoRate as error:
        raise Invalid(RateErrorCode.NO_RATE, _("No exchange rate converts %(frm)s to %(to)s yet.",
                                               frm=error.frm, to=error.to), field="currency") from None


# -- the campaign offer index ------------------------------------------------

@dataclass
class CampaignIndex:
    """Per product, the offers of campaigns active at `at`; built once per pricing version."""

    at: datetime
    offers: dict[int, list[rules.Offer]] = field(default_factory=dict)
    boosts: dict[int, tuple[float, list[str]]] = field(default_factory=dict)


def pricing_version(session: Session, at: datetime) -> tuple:
    """Changes whenever a campaign changes, starts or ends, or its limits move."""
    rows = session.execute(select(Campaign.id, Campaign.state, Campaign.starts_at, Campaign.ends_at,
                                  Campaign.updated_at, Campaign.budget_spent)
                           .where(Campaign.state != "draft")).all()
    campaigns = tuple((r.id, rules.status_at(r.state, r.starts_at, r.ends_at, at), str(r.updated_at),
                       str(r.budget_spent)) for r in rows)
    if not any(c[1] in (rules.ACTIVE, rules.SCHEDULED, rules.PAUSED) for c in campaigns):
        return campaigns
    units = session.execute(select(func.count(Enrollment.id), func.coalesce(func.sum(Enrollment.units_sold), 0))).one()
    return campaigns + (tuple(units),)


#: `app.extensions` key of the app's last offer index, {"latest": (pricing version, CampaignIndex)}: each
#: process (and each app in it) rebuilds it only when the version it reads from the database moved.
OFFER_INDEX = "promotions.offer_index"


def campaign_index(session: Session, at: datetime | None = None) -> CampaignIndex:
    """The offers now; fixed for the rest of the session's transaction (a request prices consistently),
    looked at again in the next one (after a commit, or in the long-running worker's next pass)."""
    at = at or now()
    if not has_app_context():
        return _build_index(session, at)
    memo = g.get("campaign_index")
    transaction = _transaction(session)
    if memo is not None and transaction is not None and memo[0] is transaction:
        return memo[1]
    version = pricing_version(session, at)
    held = current_app.extensions.setdefault(OFFER_INDEX, {})
    latest = held.get("latest")
    if latest is None or latest[0] != version:
        latest = held["latest"] = (version, _build_index(session, at))
    g.campaign_index = (transaction, latest[1])
    return latest[1]


def _transaction(session: Session | scoped_session):
    return _plain(session).get_transaction()


def _plain(session: Session | scoped_session) -> Session:
    return session() if isinstance(session, scoped_session) else session


def _build_index(session: Session, at: datetime) -> CampaignIndex:
    index = CampaignIndex(at=at)
    campaigns = [c for c in session.scalars(select(Campaign).where(Campaign.state == "launched"))
                 if c.status(at) == rules.ACTIVE]
    if not campaigns:
        return index
    by_id = {c.id: c for c in campaigns}
    enrollments = session.execute(select(Enrollment.product_id, Enrollment.campaign_id, Enrollment.units_sold,
                                         Enrollment.id)
                                  .where(Enrollment.campaign_id.in_(by_id), Enrollment.status == "enrolled")).all()
    for product_id, campaign_id, units_sold, enrollment_id in enrollments:
        campaign = by_id[campaign_id]
        blocked = None
        if campaign.budget_amount is not None and campaign.budget_spent >= campaign.budget_amount:
            blocked = "budget_exhausted"
        elif campaign.stock_cap is not None and units_sold >= campaign.stock_cap:
            blocked = "stock_cap_reached"
        index.offers.setdefault(product_id, []).append(rules.Offer(
            campaign_id=campaign.id, slug=campaign.slug, discount=campaign.discount, blocked=blocked,
            budget_left=campaign.budget - campaign.spent if campaign.budget is not None else None,
            units_left=campaign.stock_cap - units_sold if campaign.stock_cap is not None else None,
            extra={"name": campaign.name, "ends_at": campaign.ends_at, "enrollment_id": enrollment_id,
                   "max_uses": campaign.max_uses_per_customer, "boost": float(campaign.boost),
                   "min_price": (campaign.eligibility or {}).get("min_price")}))
    for product_id, offers in index.offers.items():
        live = [o for o in offers if not o.blocked]
        if live:
            index.boosts[product_id] = (max(o.extra["boost"] for o in live), sorted(o.slug for o in live))
    return index


def offers_for(session: Session, product_id: int, user_id: int | None = None) -> list[rules.Offer]:
    """The product's offers now; with a shopper, offers past their per-customer limit are blocked."""
    offers = campaign_index(session).offers.get(product_id, [])
    if user_id is None or not any(o.extra.get("max_uses") for o in offers):
        return offers
    result = []
    claimed = claimed_uses(session)
    for offer in offers:
        limit = offer.extra.get("max_uses")
        if limit and not offer.blocked and (offer.campaign_id, user_id) not in claimed \
                and uses_of(session, offer.campaign_id, user_id) >= limit:
            offer = replace(offer, blocked="customer_limit_reached")
        result.append(offer)
    return result


def claimed_uses(session: Session | scoped_session) -> set[tuple[int, int]]:
    """(campaign, customer) uses taken in the session's current transaction: the order being placed
    already holds that use, so its other lines keep the festival price."""
    info, transaction = _plain(session).info, _transaction(session)
    held = info.get("campaign_uses_claimed")
    if held is None or held[0] is not transaction:
        held = info["campaign_uses_claimed"] = (transaction, set())
    return held[1]


def uses_of(session: Session, campaign_id: int, user_id: int) -> int:
    return session.scalar(select(func.count()).select_from(CampaignUse).where(
        CampaignUse.campaign_id == campaign_id, CampaignUse.user_id == user_id))
