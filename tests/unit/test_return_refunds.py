"""The refund of a return and its other rules, as pure functions (no database)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from marketplace.aftersale.returns import rules
from marketplace.aftersale.returns.rules import ReturnedUnits
from marketplace.kernel.money import Money


def test_the_refund_is_the_paid_unit_price_times_the_units():
    units = [ReturnedUnits(Decimal("52.86"), 2), ReturnedUnits(Decimal("160.51"), 1)]
    assert rules.refund_for(units, "BRL") == Money(Decimal("266.23"), "BRL")


def test_the_refund_is_rounded_once_to_the_currency_minor_units_half_up():
    # a unit price kept with more places than the currency has: the sum is rounded once, not each line
    units = [ReturnedUnits(Decimal("0.005"), 1), ReturnedUnits(Decimal("0.0049"), 1)]
    assert rules.refund_for(units, "USD").amount == Decimal("0.01")
    assert rules.refund_for([ReturnedUnits(Decimal("0.125"), 1)], "USD").amount == Decimal("0.13")


def test_a_currency_without_minor_units_refunds_whole_units():
    assert rules.refund_for([ReturnedUnits(Decimal("150000"), 3)], "IRR") == Money(Decimal("450000"), "IRR")
    assert rules.refund_for([ReturnedUnits(Decimal("1200"), 2)], "IRR").amount == Decimal("2400")


def test_the_shipping_share_is_zero_until_orders_carry_shipping():
    assert rules.SHIPPING_SHARE == 0
    units = [ReturnedUnits(Decimal("10.00"), 1)]
    assert rules.refund_for(units, "CNY") == Money(Decimal("10.00"), "CNY")
    assert rules.refund_for(units, "CNY", shipping_share=Decimal("2.50")) == Money(Decimal("12.50"), "CNY")


def test_no_units_refund_nothing():
    assert rules.refund_for([], "INR") == Money.zero("INR")


def test_the_refund_made_never_exceeds_what_is_still_refundable():
    owed = Money(Decimal("100.00"), "BRL")
    assert rules.refund_to_make(owed, Decimal("250.00")) == owed
    assert rules.refund_to_make(owed, Decimal("40.00")) == Money(Decimal("40.00"), "BRL")
    assert rules.refund_to_make(owed, Decimal("0")) == Money.zero("BRL")
    assert rules.refund_to_make(owed, Decimal("-5")) == Money.zero("BRL")


def test_units_left_to_return():
    assert rules.units_returnable(3, 0) == 3
    assert rules.units_returnable(3, 2) == 1
    assert rules.units_returnable(3, 3) == 0
    assert rules.units_returnable(3, 5) == 0


def test_the_window_includes_its_last_moment():
    delivered = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
    closes = rules.window_closes(delivered, 14)
    assert closes == datetime(2026, 11, 15, 12, 0, tzinfo=timezone.utc)
    assert rules.within_window(delivered, 14, closes)
    assert not rules.within_window(delivered, 14, closes + timedelta(microseconds=1))
    assert rules.within_window(delivered, 30, closes + timedelta(days=1))


def test_the_answer_deadline():
    asked = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
    assert rules.answer_deadline(asked, 2) == asked + timedelta(days=2)
    assert rules.answer_deadline(asked, 0.5) == asked + timedelta(hours=12)
