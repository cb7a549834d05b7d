"""Pure campaign rules (no database): lifecycle status, eligibility, discounts, the best offer.

Status follows the clock: whatever reads a campaign computes its status at that instant
from its stored state (draft, launched, paused, ended) and its window [starts_at, ends_at).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Callable

from marketplace.kernel.money import Money, round_amount

DRAFT, SCHEDULED, ACTIVE, PAUSED, ENDED = "draft", "scheduled", "active", "paused", "ended"
STATUSES = (DRAFT, SCHEDULED, ACTIVE, PAUSED, ENDED)


def status_at(state: str, starts_at: datetime, ends_at: datetime, at: datetime) -> str:
    """The campaign's status at instant `at` (state: draft | launched | paused | ended)."""
    if state == "draft":
        return DRAFT
    if state == "ended" or at >= ends_at:
        return ENDED
    if state == "paused":
        return PAUSED
    return SCHEDULED if at < starts_at else ACTIVE


@dataclass(frozen=True)
class Discount:
    kind: str                                   # percent | fixed
    percent: Decimal | None = None              # 0 < percent <= 100
    amounts: tuple[tuple[str, Decimal], ...] = ()   # (currency, amount), the first is the reference

    def amount_off(self, list_price: Money, convert: Callable[[Money, str], Money]) -> Money:
        """The discount on one unit priced `list_price`, rounded half up, never more than the price."""
        if self.kind == "percent":
            off = Money(round_amount(list_price.amount * self.percent / 100, list_price.currency),
                        list_price.currency)
        else:
            own = dict(self.amounts).get(list_price.currency)
            if own is not None:
                off = Money(own, list_price.currency)
            else:
                currency, amount = self.amounts[0]
                off = convert(Money(amount, currency), list_price.currency)
        return min(off, list_price)


@dataclass(frozen=True)
class Eligibility:
    origin_countries: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()        # a product qualifies if any slug of its category path is listed
    msme_classes: frozenset[str] = frozenset()
    min_price: Money | None = None

    def reasons(self, origin_country: str, category_path: list[str], msme_class: str, list_price: Money,
                convert: Callable[[Money, str], Money]) -> list[str]:
        """Why a product is not eligible, one reason per failed rule (empty: eligible)."""
        failed = []
        if self.origin_countries and origin_country not in self.origin_countries:
            failed.append(f"origin_country: {origin_country} is not among {', '.join(sorted(self.origin_countries))}")
        if self.categories and not self.categories.intersection(category_path):
            failed.append(f"category: {category_path[-1] if category_path else '-'} is not among "
                          f"{', '.join(sorted(self.categories))}")
        if self.msme_classes and msme_class not in self.msme_classes:
            failed.append(f"msme_class: {msme_class} is not among {', '.join(sorted(self.msme_classes))}")
        if self.min_price is not None and convert(list_price, self.min_price.currency) < self.min_price:
            failed.append(f"min_price: the price is below {self.min_price}")
        return failed

    def vendor_reasons(self, origin_country: str, msme_class: str) -> list[str]:
        """The failed rules that depend on the vendor alone (its country and MSME class)."""
        failed = []
        if self.origin_countries and origin_country not in self.origin_countries:
            failed.append(f"origin_country: {origin_country} is not among {', '.join(sorted(self.origin_countries))}")
        if self.msme_classes and msme_class not in self.msme_classes:
            failed.append(f"msme_class: {msme_class} is not among {', '.join(sorted(self.msme_classes))}")
        return failed


@dataclass(frozen=True)
class Offer:
    """A campaign that may discount a product, with whatever blocks it for this shopper."""

    campaign_id: int
    slug: str
    discount: Discount
    blocked: str | None = None       # budget_exhausted | stock_cap_reached | customer_limit_reached
    extra: dict = field(default_factory=dict)
    budget_left: Money | None = None  # what the campaign may still give (None: no budget)
    units_left: int | None = None     # what its stock cap still allows of this product (None: no cap)


def best_offer(list_price: Money, offers: list[Offer], convert: Callable[[Money, str], Money],
               quantity: int = 1) -> tuple[Offer | None, Money, list[Offer]]:
    """The applicable offer with the largest discount (ties: the lower campaign id) and its discount;
    also the offers that would have applied but are blocked by a limit for `quantity` units (an offer
    whose discount on them is more than its budget has left is blocked as budget_exhausted; more units
    than its stock cap has left, as stock_cap_reached)."""
    best: tuple[Offer | None, Money] = (None, Money.zero(list_price.currency))
    blocked = []
    for offer in sorted(offers, key=lambda o: o.campaign_id):
        off = offer.discount.amount_off(list_price, convert)
        if not offer.blocked and offer.units_left is not None and quantity > offer.units_left:
            offer = replace(offer, blocked="stock_cap_reached")
        if not offer.blocked and offer.budget_left is not None and \
                convert(off * quantity, offer.budget_left.currency) > offer.budget_left:
            offer = replace(offer, blocked="budget_exhausted")
        if offer.blocked:
            blocked.append(offer)
            continue
        if off > best[1]:
            best = (offer, off)
    return best[0], best[1], blocked
