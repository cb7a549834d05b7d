"""The rules of a return as pure functions over plain values (no session, no ORM objects).

The refund of a return is what the shopper paid for the returned units: each order line froze its paid unit
price (a festival price included) in the order's currency at checkout, and the refund is the sum of paid unit
price x units returned, rounded once to the currency's minor units (half up, the money rule). It is never
derived again from today's prices or exchange rates. Duties and import taxes collected at checkout (DDP) go
back with the goods they were paid on: the vendor order's collected duties times the share of its goods value
returned, rounded once with the goods. Shipping is not refunded with returned units (`SHIPPING_SHARE`, zero:
the parcel was carried). What is refunded is at most what is still refundable of the vendor order (an earlier
refund may have taken part of it).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from marketplace.kernel.money import Money, exact_product, round_amount

#: Share of the order's shipping refunded with returned units: none, the parcel was carried.
SHIPPING_SHARE = Decimal(0)


@dataclass(frozen=True)
class ReturnedUnits:
    """Units of one order line being returned, at the unit price paid for them (the order's currency)."""

    unit_price: Decimal
    quantity: int


def refund_for(units: Iterable[ReturnedUnits], currency: str, shipping_share: Decimal = SHIPPING_SHARE,
               goods: Decimal | None = None, duties: Decimal = Decimal(0)) -> Money:
    """What the shopper paid for these units, in the order's currency: the exact sum of unit price x quantity,
    plus the duties collected on them (`duties` collected on the vendor order's `goods`, pro rata) and the
    shipping share (zero), rounded once."""
    returned = sum((exact_product(u.unit_price, Decimal(u.quantity)) for u in units), Decimal(0))
    duty_share = returned * duties / goods if duties and goods else Decimal(0)
    return Money(round_amount(returned + duty_share + shipping_share, currency), currency)


def refund_to_make(owed: Money, refundable: Decimal) -> Money:
    """The refund actually made: what is owed, but never more than is still refundable of the vendor order."""
    return Money(max(min(owed.amount, refundable), Decimal(0)), owed.currency)


def units_returnable(bought: int, claimed: int) -> int:
    """Units of a line that may still be returned: bought, less those in returns still under way or done."""
    return max(bought - claimed, 0)


def window_closes(delivered_at: datetime, window_days: int) -> datetime:
    """The last moment a return may be asked for: `window_days` after delivery (that moment included)."""
    return delivered_at + timedelta(days=window_days)


def within_window(delivered_at: datetime, window_days: int, moment: datetime) -> bool:
    return moment <= window_closes(delivered_at, window_days)


def answer_deadline(requested_at: datetime, answer_days: float) -> datetime:
    """When a request the vendor has not answered escalates to a dispute."""
    return requested_at + timedelta(days=answer_days)


def refund_parts(ret, amount: Money) -> dict[str, Decimal]:
    """A return's refund is its units as paid and the duties collected on them, never shipping: the duties'
    part is what the refund holds beyond the goods (the goods' part capped at the refund)."""
    goods = min(sum((exact_product(line.unit_price_amount, Decimal(line.quantity)) for line in ret.lines),
                    Decimal(0)), amount.amount)
    return {"goods": goods, "shipping": Decimal(0), "duties_and_taxes": amount.amount - goods}
