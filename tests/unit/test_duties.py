"""Duties and import taxes of a parcel under the destination rules (pure: no app, no database)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from marketplace.duties import rules
from marketplace.duties.calculation import DutyError, Item, Parcel, quote
from marketplace.kernel.money import Money
from marketplace.rates.conversion import Edge, RateTable

TODAY = date(2026, 11, 30)
# fixed rates for the tests: 1 USD = 5.50 BRL = 7.20 CNY; 1 USD = 90 INR
TABLE = RateTable([Edge("USD", "BRL", Decimal("5.50"), TODAY, "manual"),
                   Edge("USD", "CNY", Decimal("7.20"), TODAY, "manual"),
                   Edge("USD", "INR", Decimal("90"), TODAY, "manual")])


def parcel(country: str, *values: str, currency: str, shipping: str = "0", region: str | None = None,
           quantity: int = 1, hs_code: str = "090111") -> Parcel:
    return Parcel(country, region, tuple(Item(hs_code, Money(Decimal(v), currency), quantity) for v in values),
                  Money(Decimal(shipping), currency))


def amounts(result) -> dict[str, Decimal]:
    return {c.kind: c.amount.amount for c in result.charges}


# -- the rules as data ---------------------------------------------------------------------------------

def test_every_rule_cites_its_source_and_its_effective_date():
    for rule in rules.rules():
        assert rule.source and rule.effective_from <= TODAY
        assert rule.reference == {"id": rule.id, "effective_from": rule.effective_from.isoformat(),
                                  "source": rule.source}


def test_the_version_in_force_on_a_day_is_chosen():
    with pytest.raises(LookupError):  # nothing is coded for a day before any version
        rules.rule_for("BR", date(2024, 7, 31))
    assert rules.rule_for("BR", date(2024, 8, 1)).id == "BR-RTS-2024-08"
    assert rules.rule_for("BR", date(2025, 3, 31)).id == "BR-RTS-2024-08"
    assert rules.rule_for("br", date(2025, 4, 1)).id == "BR-RTS-2025-04"
    assert rules.rule_for("CN", TODAY).id == "CN-CBEC-2019"
    assert rules.rule_for("ZA", TODAY).id == "FALLBACK-2026"
    assert rules.rule("BR-RTS-2024-08").state_rate("BA") == Decimal("0.17")  # an order keeps its version
    assert rules.rule_for("BR", TODAY).state_rate("BA") == Decimal("0.20")


# -- Brazil ----------------------------------------------------------------------------------------------

BR = rules.rule_for("BR", TODAY)


def test_brazil_up_to_50_dollars_import_tax_20_percent_then_icms_por_dentro():
    # 220.00 BRL = 40.00 USD: 20 % import tax = 44.00; ICMS 17 % (SP) on (220 + 44) / 0.83 = 318.07 -> 54.07
    result = quote(BR, parcel("BR", "200.00", currency="BRL", shipping="20.00", region="SP"), TABLE)
    assert amounts(result) == {"import_duty": Decimal("44.00"), "icms": Decimal("54.07")}
    icms = result.charges[1]
    assert icms.base.amount == Decimal("318.07") and icms.rate == Decimal("0.17")
    assert result.total.amount == Decimal("98.07") and result.incoterm == "DDP" and result.collected


def test_brazil_above_50_dollars_60_percent_less_20_dollars_and_the_state_rate():
    # 1,100.00 BRL = 200 USD: 60 % = 660.00 less 20 USD (110.00 BRL) = 550.00; Bahia's ICMS is 20 %
    result = quote(BR, parcel("BR", "1100.00", currency="BRL", region="BA"), TABLE)
    duty, icms = result.charges
    assert duty.amount.amount == Decimal("550.00") and duty.deduction.amount == Decimal("110.00")
    assert icms.rate == Decimal("0.20") and icms.base.amount == Decimal("2062.50")  # (1100 + 550) / 0.8
    assert icms.amount.amount == Decimal("412.50")


def test_brazil_the_band_boundary_is_50_dollars_inclusive():
    at = quote(BR, parcel("BR", "50.00", currency="USD"), TABLE)
    above = quote(BR, parcel("BR", "50.01", currency="USD"), TABLE)
    assert at.charges[0].rate == Decimal("0.20") and at.charges[0].amount.amount == Decimal("10.00")
    assert above.charges[0].rate == Decimal("0.60") and above.charges[0].amount.amount == Decimal("10.01")


def test_brazil_refuses_a_parcel_above_3000_dollars():
    assert quote(BR, parcel("BR", "3000.00", currency="USD"), TABLE).charges
    with pytest.raises(DutyError) as refused:
        quote(BR, parcel("BR", "2990.00", currency="USD", shipping="10.01"), TABLE)
    assert refused.value.code == "customs_value_exceeded"


# -- China -----------------------------------------------------------------------------------------------

CN = rules.rule_for("CN", TODAY)


def test_china_within_the_limits_tariff_zero_and_vat_at_70_percent():
    # 1,000 CNY of coffee: VAT 13 % x 70 % = 9.1 % -> 91.00; no consumption tax; tariff 0
    result = quote(CN, parcel("CN", "1000.00", currency="CNY"), TABLE, Money(Decimal(0), "CNY"))
    assert amounts(result) == {"import_duty": Decimal("0.00"), "import_vat": Decimal("91.00")}
    assert result.charges[1].rate == Decimal("0.091") and result.quota_value.amount == Decimal("1000.00")


def test_china_books_take_the_9_percent_vat():
    result = quote(CN, parcel("CN", "100.00", currency="CNY", hs_code="490199"), TABLE)
    assert result.charges[1].rate == Decimal("0.063") and result.charges[1].amount.amount == Decimal("6.30")


def test_china_consumption_tax_uses_the_comprehensive_rate():
    rule = rules.DutyRule(**{**CN.__dict__, "params": {**CN.params,
                                                        "consumption_tax_rates_by_hs": {"3304": "0.15"}}})
    result = quote(rule, parcel("CN", "850.00", currency="CNY", hs_code="330499"), TABLE)
    # (0.15 + 0.13) / (1 - 0.15) x 70 % = 23.0588...%: 0.15/0.85*0.7 = 12.35 % and 0.13/0.85*0.7 = 10.71 %
    assert amounts(result) == {"import_duty": Decimal("0.00"), "consumption_tax": Decimal("105.00"),
                               "import_vat": Decimal("91.00")}


def test_china_per_transaction_limit_5000_inclusive_then_single_items_only_taxed_in_full():
    assert quote(CN, parcel("CN", "2500.00", "2500.00", currency="CNY"), TABLE).full_taxation is False
    with pytest.raises(DutyError) as refused:
        quote(CN, parcel("CN", "2500.00", "2500.01", currency="CNY"), TABLE)
    assert refused.value.code == "cbec_single_limit_exceeded"
    with pytest.raises(DutyError):
        quote(CN, parcel("CN", "6000.00", currency="CNY", quantity=2), TABLE)
    single = quote(CN, parcel("CN", "6000.00", currency="CNY"), TABLE)
    # full taxation: the estimated tariff of 10 % (600.00), VAT 13 % on 6,600 = 858.00
    assert single.full_taxation and amounts(single) == {"import_duty": Decimal("600.00"),
                                                          "import_vat": Decimal("858.00")}


def test_china_annual_limit_counts_what_the_identity_already_imported():
    used = Money(Decimal("25000.00"), "CNY")
    assert quote(CN, parcel("CN", "1000.00", currency="CNY"), TABLE, used).quota_value.amount == Decimal("1000.00")
    with pytest.raises(DutyError) as refused:
        quote(CN, parcel("CN", "1000.01", currency="CNY"), TABLE, used)
    assert refused.value.code == "cbec_annual_limit_exceeded"


def test_china_limits_compare_the_value_converted_to_rmb():
    # 694.44 USD = 4,999.97 CNY: within; 694.45 USD = 5,000.04 CNY: above, and two items -> refused
    assert quote(CN, parcel("CN", "400.00", "294.44", currency="USD"), TABLE).quota_value.amount == Decimal("4999.97")
    with pytest.raises(DutyError):
        quote(CN, parcel("CN", "400.00", "294.45", currency="USD"), TABLE)


# -- elsewhere: the estimate --------------------------------------------------------------------------

def test_elsewhere_an_estimate_above_the_de_minimis_shown_not_collected():
    za = rules.rule_for("ZA", TODAY)
    assert quote(za, parcel("ZA", "4500.00", currency="INR"), TABLE).charges == ()   # 50.00 USD
    result = quote(za, parcel("ZA", "9000.00", currency="INR"), TABLE)
    assert amounts(result) == {"duty_estimate": Decimal("900.00"), "tax_estimate": Decimal("1485.00")}
    assert result.incoterm == "DAP" and not result.collected and result.rule.estimate


# -- properties ----------------------------------------------------------------------------------------

cents = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("400.00"), places=2)


@settings(max_examples=150, deadline=None)
@given(values=st.lists(cents, min_size=1, max_size=4), shipping=st.decimals(min_value=0, max_value=50, places=2),
       country=st.sampled_from(["BR", "CN", "ZA", "IN"]), currency=st.sampled_from(["USD", "BRL", "CNY", "INR"]),
       region=st.sampled_from([None, "SP", "BA", "xx"]))
def test_a_quote_is_the_sum_of_its_rounded_parts_and_reproducible(values, shipping, country, currency, region):
    shipment = Parcel(country, region, tuple(Item("090111", Money(v, currency), 1) for v in values),
                      Money(shipping, currency))
    rule = rules.rule_for(country, TODAY)
    try:
        result = quote(rule, shipment, TABLE)
    except DutyError as refused:
        assert refused.code in ("cbec_single_limit_exceeded", "customs_value_exceeded")
        return
    assert result == quote(rule, shipment, TABLE)
    assert result.customs_value == shipment.goods + shipment.shipping
    parts = Money(Decimal(0), currency)
    for charge in result.charges:
        assert charge.amount.currency == currency and charge.amount.amount >= 0
        if charge.deduction is None:
            assert charge.amount == charge.base * charge.rate
        parts = parts + charge.amount
    assert result.total == parts


@settings(max_examples=100, deadline=None)
@given(value=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("3000.00"), places=2))
def test_brazil_import_tax_never_falls_as_the_value_grows(value):
    lower = quote(BR, parcel("BR", str(value), currency="USD"), TABLE).charges[0].amount
    higher = quote(BR, parcel("BR", str(min(value + Decimal("0.01"), Decimal("3000.00"))), currency="USD"),
                   TABLE).charges[0].amount
    assert lower <= higher
