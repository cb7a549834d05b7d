"""Duties and import taxes of one parcel (one vendor order to one destination) under a destination rule.

Pure functions over plain values: no Flask, no database. Money is `Money` in the order's currency; limits
written in another currency (RMB, US dollars) are compared after converting the parcel's customs value with
the stored rates (`RateTable`), and amounts written in another currency (Brazil's US$ 20 deduction) are
converted into the order's currency. One rounding rule, the money rule: each charge's base and amount are
rounded half up to the currency's minor units, and a quote's total is the sum of its rounded charges.

The customs value is what the shopper pays for the goods (campaign discounts applied) plus the parcel's
shipping; nothing is insured, so insurance adds nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

from marketplace.duties.rules import DutyRule
from marketplace.kernel.money import CONTEXT, Money, sum_money
from marketplace.rates.conversion import RateTable

__all__ = ["Item", "Parcel", "Charge", "DutyQuote", "DutyError", "quote"]

ONE = Decimal(1)


@dataclass(frozen=True)
class Item:
    hs_code: str        # six digits
    value: Money        # what the shopper pays for the line, in the order's currency
    quantity: int


@dataclass(frozen=True)
class Parcel:
    country: str                 # destination, ISO 3166-1 alpha-2
    region: str | None           # e.g. Brazil's state (UF code) for its ICMS rate
    items: tuple[Item, ...]
    shipping: Money

    @property
    def currency(self) -> str:
        return self.shipping.currency

    @property
    def goods(self) -> Money:
        return sum_money([item.value for item in self.items], self.currency)

    @property
    def customs_value(self) -> Money:
        return self.goods + self.shipping

    @property
    def units(self) -> int:
        return sum(item.quantity for item in self.items)


@dataclass(frozen=True)
class Charge:
    kind: str                       # import_duty, import_vat, consumption_tax, icms, duty_estimate, tax_estimate
    base: Money
    rate: Decimal
    amount: Money
    deduction: Money | None = None  # Brazil's import tax deduction, already taken off `amount`


@dataclass(frozen=True)
class DutyQuote:
    rule: DutyRule
    charges: tuple[Charge, ...]
    customs_value: Money
    quota_value: Money | None = None   # China: what the parcel counts towards the buyer's annual limit (RMB)
    full_taxation: bool = False        # China: a single item above the per-transaction limit

    @property
    def incoterm(self) -> str:
        return self.rule.incoterm

    @property
    def collected(self) -> bool:
        return self.rule.collected

    @property
    def total(self) -> Money:
        return sum_money([charge.amount for charge in self.charges], self.customs_value.currency)


class DutyError(ValueError):
    """A parcel the destination's rule refuses (code, the request field it is about, details)."""

    def __init__(self, code: str, message: str, field: str = "shipping_address.country", **extra: object) -> None:
        super().__init__(message)
        self.code, self.message, self.field, self.extra = code, message, field, extra


def _charge(kind: str, base: Money, rate: Decimal, deduction: Money | None = None) -> Charge:
    amount = base * rate
    if deduction is not None:
        amount = amount - deduction if amount > deduction else Money.zero(base.currency)
    return Charge(kind, base, rate, amount, deduction)


def _ratio(numerator: Decimal, denominator: Decimal) -> Decimal:
    with localcontext(CONTEXT):
        return numerator / denominator


def quote(rule: DutyRule, parcel: Parcel, table: RateTable, annual_used: Money | None = None) -> DutyQuote:
    """The duties and taxes of `parcel` under `rule`; raises DutyError when the rule refuses the parcel.
    `annual_used`: China only, what the buyer's identity has already imported this year (RMB)."""
    if not parcel.items:
        raise ValueError("a parcel has at least one item")
    if rule.kind == "cn_cbec":
        return _china(rule, parcel, table, annual_used)
    if rule.kind == "br_rts":
        return _brazil(rule, parcel, table)
    return _flat(rule, parcel, table)


# -- China: cross-border e-commerce retail imports ----------------------------------------------------

def _china(rule: DutyRule, parcel: Parcel, table: RateTable, annual_used: Money | None) -> DutyQuote:
    currency = rule.params["currency"]
    value = parcel.customs_value
    in_rmb = table.convert(value, currency)
    single, annual = Money(rule.decimal("single_limit"), currency), Money(rule.decimal("annual_limit"), currency)
    used = annual_used if annual_used is not None else Money.zero(currency)
    full = in_rmb > single
    if full and parcel.units != 1:
        raise DutyError("cbec_single_limit_exceeded",
                        f"A cross-border retail import to China is limited to {single} per order; this one is "
                        f"{in_rmb}. Split the order, or buy a single item on its own.",
                        limit=str(single.amount), value=str(in_rmb.amount), currency=currency)
    if used + in_rmb > annual:
        raise DutyError("cbec_annual_limit_exceeded",
                        f"This order would take the buyer's cross-border retail imports this year to "
                        f"{used + in_rmb}, above the annual limit of {annual}.",
                        limit=str(annual.amount), used=str(used.amount), value=str(in_rmb.amount), currency=currency)
    share = ONE if full else rule.decimal("tax_share")
    tariff_rate = rule.decimal("general_tariff_rate") if full else rule.decimal("tariff_rate")
    charges: list[Charge] = []
    bases = _item_bases(parcel)
    duty_by_item = [base * tariff_rate for base in bases]  # (tariff 0, or one single item: adds up to the charge)
    charges.append(_charge("import_duty", value, tariff_rate))
    # VAT and consumption tax are due on the value plus the duty, grossed up by the consumption tax
    # ("composite" price); items with different rates are summed per (kind, rate)
    grouped: dict[tuple[str, Decimal], Money] = {}
    for item, base, duty in zip(parcel.items, bases, duty_by_item):
        consumption = rule.rate_by_hs("consumption_tax_rates_by_hs", item.hs_code, Decimal(0))
        vat = rule.rate_by_hs("vat_rates_by_hs", item.hs_code, rule.decimal("vat_rate"))
        gross_up = _ratio(share, ONE - consumption)
        for kind, rate in (("consumption_tax", consumption), ("import_vat", vat)):
            if rate:
                key = (kind, CONTEXT.multiply(rate, gross_up))
                grouped[key] = grouped.get(key, Money.zero(value.currency)) + base + duty
    for (kind, rate), base in sorted(grouped.items(), key=lambda entry: (entry[0][0] != "consumption_tax", entry[0][1])):
        charges.append(_charge(kind, base, rate))
    return DutyQuote(rule, tuple(charges), value, quota_value=in_rmb, full_taxation=full)


def _item_bases(parcel: Parcel) -> list[Money]:
    """Each item's customs value: its price plus its share of the shipping, by value (the last item takes
    what rounding leaves, so the shares add up to the parcel's customs value exactly)."""
    goods, currency = parcel.goods, parcel.currency
    bases, given = [], Money.zero(currency)
    for index, item in enumerate(parcel.items):
        if index == len(parcel.items) - 1:
            share = parcel.shipping - given
        elif goods.amount:
            share = parcel.shipping * _ratio(item.value.amount, goods.amount)
        else:
            share = Money.zero(currency)
        given = given + share
        bases.append(item.value + share)
    return bases


# -- Brazil: simplified taxation regime (Remessa Conforme) --------------------------------------------

def _brazil(rule: DutyRule, parcel: Parcel, table: RateTable) -> DutyQuote:
    threshold_currency = rule.params["threshold_currency"]
    value = parcel.customs_value
    in_usd = table.convert(value, threshold_currency)
    ceiling = Money(rule.decimal("max_value"), threshold_currency)
    if in_usd > ceiling:
        raise DutyError("customs_value_exceeded",
                        f"Brazil's simplified import regime takes parcels up to {ceiling}; this one is {in_usd}.",
                        limit=str(ceiling.amount), value=str(in_usd.amount), currency=threshold_currency)
    band = next(b for b in rule.bands() if in_usd.amount <= b.up_to)
    deduction = table.convert(Money(band.deduction, threshold_currency), value.currency) if band.deduction else None
    import_tax = _charge("import_duty", value, band.rate, deduction)
    icms_rate = rule.state_rate(parcel.region)
    # "por dentro": the ICMS is part of its own base, base = (value + import tax) / (1 - rate)
    icms_base = Money(_ratio((value + import_tax.amount).amount, ONE - icms_rate), value.currency)
    return DutyQuote(rule, (import_tax, _charge("icms", icms_base, icms_rate)), value)


# -- Elsewhere: the documented estimate -----------------------------------------------------------------

def _flat(rule: DutyRule, parcel: Parcel, table: RateTable) -> DutyQuote:
    value = parcel.customs_value
    de_minimis = Money(rule.decimal("de_minimis"), rule.params["threshold_currency"])
    if table.convert(value, de_minimis.currency) <= de_minimis:
        return DutyQuote(rule, (), value)
    duty = _charge("duty_estimate", value, rule.decimal("duty_rate"))
    tax = _charge("tax_estimate", value + duty.amount, rule.decimal("tax_rate"))
    return DutyQuote(rule, (duty, tax), value)
