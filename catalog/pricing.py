"""The one pricing function: what a product costs a shopper, in a currency, at an instant.

list price -> converted to the shopper's currency (stored rates, cross rates)
-> rounded half up to the currency's minor units. Campaign discounts plug in
here, so the product page, search, cart, checkout and orders all agree.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from marketplace.money import Money
from marketplace.rates.conversion import RateTable


@dataclass(frozen=True)
class PriceQuote:
    price: Money             # what the shopper pays per unit
    list_price: Money        # the list price in the shopper's currency, before any discount
    original_price: Money    # the list price as the vendor set it
    campaign: dict | None = None


def pricing_version(session, at: datetime) -> tuple:
    """What, besides list prices and rates, could change a price at `at` (campaigns add to it)."""
    return ()


def price_for(original: Money, currency: str, table: RateTable, at: datetime | None = None,
              product_id: int | None = None) -> PriceQuote:
    list_price = table.convert(original, currency)
    return PriceQuote(price=list_price, list_price=list_price, original_price=original)
