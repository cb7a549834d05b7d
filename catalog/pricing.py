"""The one pricing function: what a product costs a shopper, in a currency, at an instant.

list price -> converted to the shopper's currency (stored rates, cross rates)
-> the best applicable active campaign (one per product; the larger discount)
-> rounded half up to the currency's minor units. The product page, search,
cart, checkout and orders all price through here, so they always agree.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from marketplace.kernel.money import Money
from marketplace.rates.conversion import RateTable
from promotions import rules


@dataclass(frozen=True)
class PriceQuote:
    price: Money             # what the shopper pays per unit
    list_price: Money        # the list price in the shopper's currency, before any discount
    original_price: Money    # the list price as the vendor set it
    campaign: dict | None = None          # {"slug", "name", "ends_at"} when a discount applies
    offer: rules.Offer | None = None      # the campaign offer applied (for checkout's limits)
    discount: Money | None = None         # per unit
    blocked: str | None = None            # why a festival price does not apply (a limit was reached)


def pricing_version(session, at: datetime) -> tuple:
    """What, besides list prices and rates, could change a price at `at`: the campaigns."""
    from promotions.services import pricing_version as campaigns_version

    return campaigns_version(session, at)


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
