"""The money of an order, as pure functions over plain values (no session, no ORM objects).

Every line's unit price is the pricing function's answer in the shopper's currency (rounded half up); a
line total is unit x quantity, exact; the order total is the exact sum of its lines. Each vendor's part is
converted once into the vendor's currency at the rate locked in the order; commission is rounded half up
and the net is the remainder, so net + commission = the vendor's subtotal. Refunds are spread over vendor
orders pro rata to what each can still give back, never more than that, to the last minor unit.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from marketplace.kernel.money import Money, round_amount, sum_money

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


@dataclass(frozen=True)
class VendorSplit:
    """One vendor's part of an order: its subtotal in the shopper's currency, then in the vendor's, and
    how that divides between the platform's commission and the vendor's net; the shipping the shopper pays
    goes to the vendor whole (no commission on it)."""

    subtotal: Money          # shopper's currency
    vendor_subtotal: Money   # vendor's currency
    commission: Money
    net: Money               # vendor_subtotal - commission + vendor_shipping
    vendor_shipping: Money   # vendor's currency


@dataclass(frozen=True)
class VendorShare:
    """What a refund needs to know of one vendor order (amounts in the shopper's currency but `net`):
    `subtotal` is its goods, `paid` what the shopper paid for it (goods + shipping + duties collected)."""

    subtotal: Decimal
    refunded: Decimal
    rate: Decimal            # shopper -> vendor currency, locked at checkout
    commission_rate: Decimal
    net: Money               # vendor's currency
    shipping: Decimal = Decimal(0)
    paid: Decimal | None = None

    @property
    def total(self) -> Decimal:
        return self.paid if self.paid is not None else self.subtotal

    @property
    def room(self) -> Decimal:
        """What can still be refunded of this vendor's part."""
        return max(self.total - self.refunded, Decimal(0))


def line_total(unit_price: Money, quantity: int) -> Money:
    return unit_price * quantity


def group_by(pairs: Iterable[tuple[K, T]]) -> dict[K, list[T]]:
    """`(key, item)` pairs grouped by key, keys and items in the order first seen (one vendor order per
    vendor, in the order the cart's lines name them)."""
    groups: dict[K, list[T]] = {}
    for key, item in pairs:
        groups.setdefault(key, []).append(item)
    return groups


def subtotal(line_totals: Iterable[Money], currency: str) -> Money:
    """The exact sum of a vendor's line totals (no rounding: each is already in minor units)."""
    return sum_money(list(line_totals), currency)


def vendor_split(subtotal_: Money, rate: Decimal, vendor_currency: str, commission_rate: Decimal,
                 shipping: Money | None = None) -> VendorSplit:
    """Convert a vendor's subtotal once at `rate`; commission rounded half up, the net is the remainder plus
    the shipping (converted the same way, no commission on it)."""
    vendor_subtotal = subtotal_.converted(rate, vendor_currency)
    commission = vendor_subtotal * commission_rate
    vendor_shipping = (shipping.converted(rate, vendor_currency) if shipping is not None
                       else Money.zero(vendor_currency))
    return VendorSplit(subtotal=subtotal_, vendor_subtotal=vendor_subtotal, commission=commission,
                       net=vendor_subtotal - commission + vendor_shipping, vendor_shipping=vendor_shipping)


def order_total(subtotals: Iterable[Money], currency: str) -> Money:
    return sum_money(list(subtotals), currency)


def balances(entries: Iterable[tuple[Decimal, str]]) -> list[Money]:
    """A payout ledger's balance per currency (signed `(amount, currency)` entries), by currency code."""
    totals: dict[str, Decimal] = {}
    for amount, currency in entries:
        totals[currency] = totals.get(currency, Decimal(0)) + amount
    return [Money(amount, currency) for currency, amount in sorted(totals.items())]


def refundable(total: Decimal, refunded: Decimal, pending: Iterable[Decimal]) -> Decimal:
    """What can still be refunded: what was paid, less what was refunded and what is pending; never below 0."""
    return max(total - refunded - sum(pending, Decimal(0)), Decimal(0))


def refund_shares(rooms: list[Decimal], amount: Decimal, currency: str) -> list[Decimal]:
    """Split `amount` over parts that can each still refund `rooms[i]`, pro rata to those rooms and never
    more than a room; rounding leftovers go, in order, to whoever still has room."""
    total_room = sum(rooms, Decimal(0))
    shares, remaining = [Decimal(0)] * len(rooms), amount
    if total_room <= 0:
        return shares
    for index, room in enumerate(rooms):
        share = min(room, remaining, round_amount(amount * room / total_room, currency))
        shares[index], remaining = share, remaining - share
    for index, room in enumerate(rooms):
        extra = min(room - shares[index], remaining)
        if extra > 0:
            shares[index], remaining = shares[index] + extra, remaining - extra
    return shares


def net_refunded(part: VendorShare, refunded: Decimal, order_currency: str) -> Money:
    """The vendor's net (vendor currency) that `refunded` (order currency) of its part takes back; all of it
    when the part is refunded in full, so the vendor's ledger then nets to exactly zero. A part that also
    paid shipping and duties gives back pro rata: the goods' share less its commission, and the shipping's
    share whole (the duties' share is the marketplace's, which collected them)."""
    if refunded >= part.total:
        return part.net
    if part.total == part.subtotal:  # goods only
        gross = Money(refunded, order_currency).converted(part.rate, part.net.currency)
        return gross - gross * part.commission_rate
    goods = Money(refunded * part.subtotal / part.total, order_currency).converted(part.rate, part.net.currency)
    shipping = Money(refunded * part.shipping / part.total, order_currency).converted(part.rate, part.net.currency)
    return goods - goods * part.commission_rate + shipping


def refund_debit(part: VendorShare, share: Decimal, order_currency: str) -> Money:
    """What refunding `share` more of a vendor's part takes off the vendor's net (the ledger's debit)."""
    before = net_refunded(part, part.refunded, order_currency)
    return net_refunded(part, part.refunded + share, order_currency) - before


def refund_parts(amount: Decimal, goods: Decimal, shipping: Decimal, duties: Decimal,
                 currency: str) -> dict[str, Decimal]:
    """How much of a refund of `amount` is goods, shipping, and duties and taxes: pro rata to what was paid for
    each (shipping and duties rounded half up, the goods take the rest, so the parts add up to the amount)."""
    paid = goods + shipping + duties
    if paid <= 0:
        return {"goods": amount, "shipping": Decimal(0), "duties_and_taxes": Decimal(0)}
    shipping_part = min(round_amount(amount * shipping / paid, currency), shipping)
    duties_part = min(round_amount(amount * duties / paid, currency), duties)
    return {"goods": amount - shipping_part - duties_part, "shipping": shipping_part, "duties_and_taxes": duties_part}
