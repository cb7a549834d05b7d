"""The money of an order (marketplace.checkout.calculations), without a database."""
from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from marketplace.checkout import calculations
from marketplace.checkout.calculations import VendorShare
from marketplace.kernel.money import Money

D = Decimal


def test_a_line_total_is_the_unit_price_times_the_quantity_exactly():
    assert calculations.line_total(Money(D("19.99"), "BRL"), 3) == Money(D("59.97"), "BRL")


def test_lines_are_grouped_per_vendor_in_the_order_first_seen():
    groups = calculations.group_by([(7, "tea"), (3, "shawl"), (7, "cup")])
    assert list(groups) == [7, 3]
    assert groups == {7: ["tea", "cup"], 3: ["shawl"]}


def test_a_vendor_subtotal_and_the_order_total_are_exact_sums():
    lines = [Money(D("0.10"), "USD"), Money(D("0.20"), "USD"), Money(D("99.70"), "USD")]
    assert calculations.subtotal(lines, "USD") == Money(D("100.00"), "USD")
    assert calculations.order_total([Money(D("100.00"), "USD"), Money(D("0.01"), "USD")], "USD").amount == D("100.01")
    assert calculations.subtotal([], "INR") == Money.zero("INR")


def test_commission_is_rounded_half_up_and_the_net_is_the_remainder():
    split = calculations.vendor_split(Money(D("10.05"), "BRL"), D("1"), "BRL", D("0.1"))
    assert split.commission == Money(D("1.01"), "BRL")      # 1.005 rounds half up
    assert split.net == Money(D("9.04"), "BRL")
    assert split.net + split.commission == split.vendor_subtotal


def test_a_vendor_part_is_converted_once_at_the_locked_rate():
    split = calculations.vendor_split(Money(D("100.00"), "BRL"), D("1.2345"), "CNY", D("0.1"))
    assert split.subtotal == Money(D("100.00"), "BRL")
    assert split.vendor_subtotal == Money(D("123.45"), "CNY")
    assert split.commission == Money(D("12.35"), "CNY")     # 12.345 half up
    assert split.net == Money(D("111.10"), "CNY")


def test_a_currency_without_minor_units_rounds_to_whole_units():
    split = calculations.vendor_split(Money(D("1005"), "JPY"), D("1"), "JPY", D("0.1"))
    assert split.commission == Money(D("101"), "JPY") and split.net == Money(D("904"), "JPY")


@given(st.decimals(min_value=0, max_value=10**7, places=2), st.decimals(min_value=D("0.0001"), max_value=100,
                                                                          places=4),
       st.decimals(min_value=0, max_value=1, places=4))
def test_net_plus_commission_is_always_the_vendor_subtotal(amount, rate, commission_rate):
    split = calculations.vendor_split(Money(amount, "USD"), rate, "INR", commission_rate)
    assert split.net + split.commission == split.vendor_subtotal
    assert split.commission.amount >= 0


def test_refundable_is_what_was_paid_less_refunded_and_pending_never_negative():
    assert calculations.refundable(D("100"), D("30"), [D("20"), D("5")]) == D("45")
    assert calculations.refundable(D("100"), D("90"), [D("20")]) == D("0")


def test_a_refund_is_shared_pro_rata_to_what_each_part_can_still_refund():
    assert calculations.refund_shares([D("30.00"), D("10.00")], D("20.00"), "USD") == [D("15.00"), D("5.00")]


def test_rounding_leftovers_of_a_refund_go_to_a_part_with_room():
    shares = calculations.refund_shares([D("1.00"), D("1.00"), D("1.00")], D("1.00"), "USD")
    assert shares == [D("0.34"), D("0.33"), D("0.33")]   # the first part with room takes the cent
    assert sum(shares) == D("1.00")


def test_no_part_gets_more_than_its_room():
    assert calculations.refund_shares([D("0"), D("5.00")], D("5.00"), "EUR") == [D("0"), D("5.00")]
    assert calculations.refund_shares([D("0"), D("0")], D("5.00"), "EUR") == [D("0"), D("0")]


@given(st.lists(st.decimals(min_value=0, max_value=10**6, places=2), min_size=1, max_size=6), st.data())
def test_refund_shares_sum_to_the_amount_and_stay_within_each_room(rooms, data):
    total_room = sum(rooms, D(0))
    amount = data.draw(st.decimals(min_value=0, max_value=total_room, places=2))
    shares = calculations.refund_shares(rooms, amount, "USD")
    assert len(shares) == len(rooms)
    assert all(D(0) <= share <= room for share, room in zip(shares, rooms))
    assert sum(shares, D(0)) == (amount if total_room > 0 else D(0))


def _part(refunded: str = "0") -> VendorShare:
    # 100.00 BRL at 2 CNY per BRL = 200.00 CNY, 10% commission: 20.00, net 180.00
    return VendorShare(subtotal=D("100.00"), refunded=D(refunded), rate=D("2"), commission_rate=D("0.1"),
                       net=Money(D("180.00"), "CNY"))


def test_net_refunded_takes_back_the_vendor_net_share_in_the_vendor_currency():
    assert calculations.net_refunded(_part(), D("10.00"), "BRL") == Money(D("18.00"), "CNY")
    assert calculations.net_refunded(_part(), D("0"), "BRL") == Money.zero("CNY")


def test_a_part_refunded_in_full_takes_back_exactly_the_net():
    part = VendorShare(subtotal=D("33.33"), refunded=D("0"), rate=D("1.337"), commission_rate=D("0.125"),
                       net=Money(D("38.99"), "INR"))
    assert calculations.net_refunded(part, D("33.33"), "BRL") == Money(D("38.99"), "INR")


def test_refund_debits_of_a_part_refunded_in_steps_add_up_to_its_net():
    part, debits = _part(), []
    for share in (D("33.33"), D("33.33"), D("33.34")):
        debits.append(calculations.refund_debit(part, share, "BRL"))
        part = VendorShare(subtotal=part.subtotal, refunded=part.refunded + share, rate=part.rate,
                           commission_rate=part.commission_rate, net=part.net)
    assert sum((d.amount for d in debits), D(0)) == D("180.00")


def test_the_room_of_a_part_is_what_is_left_of_it():
    assert _part("40.00").room == D("60.00")
    assert _part("120.00").room == D("0")


def test_a_ledger_balance_is_the_signed_sum_per_currency_sorted_by_code():
    entries = [(D("180.00"), "CNY"), (D("50.00"), "BRL"), (D("-18.00"), "CNY"), (D("-50.00"), "BRL")]
    assert calculations.balances(entries) == [Money(D("0"), "BRL"), Money(D("162.00"), "CNY")]
    assert calculations.balances([]) == []


# -- landed cost: shipping to the vendor, duties to the marketplace ------------------------------------------

def _landed(refunded: str = "0") -> VendorShare:
    # goods 100.00 BRL + shipping 20.00 + duties 30.00 = 150.00 paid; at 2 CNY per BRL, 10% commission on goods:
    # goods 200.00 CNY less 20.00 commission, plus shipping 40.00 CNY = net 220.00 CNY
    return VendorShare(subtotal=D("100.00"), refunded=D(refunded), rate=D("2"), commission_rate=D("0.1"),
                       net=Money(D("220.00"), "CNY"), shipping=D("20.00"), paid=D("150.00"))


def test_the_vendor_is_paid_its_shipping_whole_and_commission_only_on_goods():
    split = calculations.vendor_split(Money(D("100.00"), "BRL"), D("2"), "CNY", D("0.1"), Money(D("20.00"), "BRL"))
    assert split.vendor_subtotal == Money(D("200.00"), "CNY") and split.commission == Money(D("20.00"), "CNY")
    assert split.vendor_shipping == Money(D("40.00"), "CNY") and split.net == Money(D("220.00"), "CNY")


def test_a_part_that_paid_shipping_and_duties_has_all_of_it_as_room():
    assert _landed().room == D("150.00") and _landed("149.99").room == D("0.01")


def test_a_refund_of_a_landed_part_gives_back_the_vendors_share_pro_rata():
    # 75.00 of 150.00 paid: half the goods (100.00 CNY less 10.00 commission) and half the shipping (20.00 CNY);
    # the duties' half is the marketplace's
    assert calculations.net_refunded(_landed(), D("75.00"), "BRL") == Money(D("110.00"), "CNY")
    assert calculations.net_refunded(_landed(), D("150.00"), "BRL") == Money(D("220.00"), "CNY")


@given(st.lists(st.decimals(min_value=D("0.01"), max_value=D("50.00"), places=2), min_size=1, max_size=5))
def test_refund_debits_of_a_landed_part_add_up_to_its_net_once_refunded_in_full(steps):
    part, debits, left = _landed(), [], D("150.00")
    for step in steps:
        share = min(step, left)
        debits.append(calculations.refund_debit(part, share, "BRL"))
        left -= share
        part = VendorShare(subtotal=part.subtotal, refunded=part.refunded + share, rate=part.rate,
                           commission_rate=part.commission_rate, net=part.net, shipping=part.shipping,
                           paid=part.paid)
    debits.append(calculations.refund_debit(part, left, "BRL"))  # the rest
    assert sum((d.amount for d in debits), D(0)) == D("220.00")
    assert all(d.amount >= 0 for d in debits)


def test_a_refund_is_split_into_goods_shipping_and_duties_pro_rata_adding_up_to_the_amount():
    assert calculations.refund_parts(D("75.00"), D("100.00"), D("20.00"), D("30.00"), "BRL") == {
        "goods": D("50.00"), "shipping": D("10.00"), "duties_and_taxes": D("15.00")}
    parts = calculations.refund_parts(D("10.00"), D("33.33"), D("3.33"), D("3.34"), "USD")
    assert sum(parts.values()) == D("10.00") and all(p >= 0 for p in parts.values())
    assert calculations.refund_parts(D("5.00"), D("5.00"), D("0"), D("0"), "USD")["goods"] == D("5.00")
