"""Money: Decimal + ISO 4217, one rounding rule (half up to Babel's minor units), no floats.

The expected values here never come from `decimal.quantize`: they are worked
out on integers (the amount's coefficient and exponent) or on `Fraction`s, so
a test cannot agree with the code just because both use the same library call.
"ROUND_HALF_UP" is Python's meaning: ties go away from zero (-2.5 -> -3).
"""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from babel.numbers import get_currency_precision
from hypothesis import example, given, settings
from hypothesis import strategies as st

from config import Config
from marketplace.kernel.money import (
    CurrencyError,
    Money,
    check_currency,
    minor_units,
    round_amount,
    sum_money,
    to_decimal,
)

SUPPORTED = ("BRL", "RUB", "INR", "CNY", "ZAR", "EGP", "ETB", "IRR", "AED", "IDR", "USD", "EUR")
#: CLDR minor units of the supported currencies (IRR is 0 in CLDR, though ISO 4217 says 2).
CLDR_DIGITS = {code: 2 for code in SUPPORTED} | {"IRR": 0}
#: Outside the supported list, to exercise 0 and 3 places too.
EXTRA = ("JPY", "KWD", "BHD")

currencies = st.sampled_from(SUPPORTED + EXTRA)
supported = st.sampled_from(SUPPORTED)

def _decimal(sign: int, coefficient: int, adjusted: int) -> Decimal:
    """sign, significant digits and adjusted exponent (value in [10**adjusted, 10**(adjusted + 1)))."""
    digits = tuple(int(d) for d in str(coefficient))
    return Decimal((sign, digits, adjusted - (len(digits) - 1)))


def amounts(below_exponent: int = 31):
    """Decimals of every shape Money accepts: up to 30 significant digits, magnitude below 10**below_exponent
    (1e31 keeps the rounded amount within the 34-digit working precision)."""
    return st.builds(
        _decimal,
        st.integers(0, 1),
        st.one_of(st.integers(0, 10**6), st.integers(0, 10**30 - 1)),
        st.integers(-15, below_exponent - 1),
    )


#: Exchange rates / factors: positive, 1e-15 .. 1e15, up to 45 significant digits (more than the 34-digit context).
rates = st.builds(_decimal, st.just(0), st.one_of(st.integers(1, 10**6), st.integers(1, 10**45)), st.integers(-15, 14))


def half_up_minor(value: Fraction | Decimal, places: int) -> int:
    """round half away from zero of value * 10**places, on integers only."""
    scaled = Fraction(value) * 10**places
    magnitude = abs(scaled)
    whole, rest = divmod(magnitude.numerator, magnitude.denominator)
    if 2 * rest >= magnitude.denominator:
        whole += 1
    return -whole if scaled < 0 else whole


def as_money_text(minor: int, places: int) -> str:
    """The canonical text of an amount of `minor` minor units ("-12.50", "0.00", "1235")."""
    sign = "-" if minor < 0 else ""
    digits = str(abs(minor)).rjust(places + 1, "0")
    return sign + (digits[:-places] + "." + digits[-places:] if places else digits)


# --------------------------------------------------------------------------- minor units


def test_minor_units_of_supported_currencies_come_from_cldr():
    assert set(Config.SUPPORTED_CURRENCIES) == set(SUPPORTED)
    for code in SUPPORTED:
        assert minor_units(code) == get_currency_precision(code) == CLDR_DIGITS[code], code


def test_irr_has_no_minor_units():
    assert minor_units("IRR") == 0
    money = Money("1465000.5", "IRR")
    assert money.amount == Decimal("1465001")
    assert str(money) == "1465001 IRR"
    assert money.minor_amount == 1465001
    assert Money("0.49", "IRR").amount == 0
    assert Money("0.5", "IRR").amount == 1


def test_other_exponents():
    assert (minor_units("JPY"), minor_units("KWD")) == (0, 3)
    assert str(Money("1.0005", "KWD")) == "1.001 KWD"
    assert str(Money("99.5", "JPY")) == "100 JPY"


# --------------------------------------------------------------------------- rounding


@pytest.mark.parametrize(
    "raw, currency, text",
    [
        ("0.005", "USD", "0.01"),
        ("0.004999999999", "USD", "0.00"),
        ("2.675", "EUR", "2.68"),  # the classic float trap: 2.675 is 2.67499999... as a double
        ("1.125", "BRL", "1.13"),  # half up, not half even (which would give 1.12)
        ("1.135", "BRL", "1.14"),
        ("-1.125", "BRL", "-1.13"),  # ties go away from zero
        ("-0.004", "INR", "0.00"),  # no negative zero
        ("2.5", "IRR", "3"),
        ("3.5", "IRR", "4"),
        ("-2.5", "IRR", "-3"),
        ("12", "CNY", "12.00"),
        ("1E+3", "ZAR", "1000.00"),
        ("  7.10 ", "AED", "7.10"),
    ],
)
def test_rounding_examples(raw, currency, text):
    money = Money(raw, currency)
    assert str(money.amount) == text
    assert str(round_amount(Decimal(raw), currency)) == text


@settings(max_examples=500)
@given(amount=amounts(), currency=currencies)
@example(amount=Decimal("-0.001"), currency="USD")
@example(amount=Decimal("0.5"), currency="IRR")
@example(amount=Decimal("99999999999999999999999999999.995"), currency="USD")
def test_rounding_is_half_up_to_minor_units(amount, currency):
    places = get_currency_precision(currency)
    expected = half_up_minor(amount, places)
    money = Money(amount, currency)
    assert money.minor_amount == expected
    assert money.amount == Fraction(expected, 10**places)
    assert str(money.amount) == as_money_text(expected, places)  # exponent is exactly -places, no "-0"
    assert money.currency == currency


@given(amount=amounts(), currency=currencies)
def test_rounding_is_idempotent(amount, currency):
    once = Money(amount, currency)
    twice = Money(once.amount, currency)
    assert twice == once
    assert str(twice.amount) == str(once.amount)
    assert round_amount(once.amount, currency) == once.amount


@given(amount=amounts(), currency=currencies)
def test_equal_values_are_equal_money(amount, currency):
    money = Money(amount, currency)
    padded = Decimal(f"{money.amount:f}" + ("" if minor_units(currency) else ".") + "000")
    assert Money(padded, currency) == money
    assert hash(Money(padded, currency)) == hash(money)


# --------------------------------------------------------------------------- arithmetic


@settings(max_examples=300)
@given(a=amounts(), b=amounts(), currency=currencies)
@example(a=Decimal("1e30"), b=Decimal("0.01"), currency="USD")
@example(a=Decimal("100000000000000000000000000.01"), b=Decimal(0), currency="BRL")  # -x at 29 digits
def test_addition_and_subtraction_are_exact(a, b, currency):
    x, y = Money(a, currency), Money(b, currency)
    places = minor_units(currency)
    total = x + y
    assert total.minor_amount == x.minor_amount + y.minor_amount
    assert str(total.amount) == as_money_text(x.minor_amount + y.minor_amount, places)
    assert (x - y).minor_amount == x.minor_amount - y.minor_amount
    assert (total - y) == x
    assert (-x).minor_amount == -x.minor_amount


@given(items=st.lists(amounts(25), max_size=20), currency=currencies)
def test_sum_money_is_exact(items, currency):
    monies = [Money(a, currency) for a in items]
    total = sum_money(monies, currency)
    assert total.minor_amount == sum(m.minor_amount for m in monies)
    assert sum_money([], currency) == Money.zero(currency)


@settings(max_examples=500)
@given(amount=amounts(15), rate=rates, frm=currencies, to=currencies)
# A product whose 35th+ digits decide the rounding: rounding it to 34 digits first
# (0.00499..9 -> 0.005) and then to cents would give 0.01 instead of 0.00.
@example(amount=Decimal(1), rate=Decimal("0.004" + "9" * 40), frm="USD", to="USD")
@example(amount=Decimal("1.01"), rate=Decimal("0.00495049504950495049504950495049504950495"), frm="EUR", to="USD")
def test_conversion_is_round_half_up_of_amount_times_rate(amount, rate, frm, to):
    money = Money(amount, frm)
    converted = money.converted(rate, to)
    places = minor_units(to)
    expected = half_up_minor(Fraction(money.amount) * Fraction(rate), places)
    assert converted.currency == to
    assert converted.minor_amount == expected
    assert str(converted.amount) == as_money_text(expected, places)


@settings(max_examples=300)
@given(amount=amounts(15), factor=st.one_of(rates, st.integers(-1000, 1000)),
       currency=currencies)
@example(amount=Decimal(1), factor=Decimal("0.004" + "9" * 40), currency="USD")
def test_multiplication_rounds_once(amount, factor, currency):
    money = Money(amount, currency)
    expected = half_up_minor(Fraction(money.amount) * Fraction(factor), minor_units(currency))
    assert (money * factor).minor_amount == expected
    assert (factor * money).minor_amount == expected


def test_conversion_examples():
    assert Money("100", "USD").converted(Decimal("79.9517"), "RUB") == Money("7995.17", "RUB")
    assert Money("10", "USD").converted(Decimal("1465000"), "IRR") == Money("14650000", "IRR")
    assert str(Money("1", "IRR").converted(Decimal("0.0000006825938566552901023890784982935154"), "USD")) == "0.00 USD"
    assert str(Money("19.99", "EUR").converted(Decimal("6.1525"), "BRL")) == "122.99 BRL"  # 122.988475
    assert str(Money("0.10", "EUR").converted(Decimal("0.125"), "USD")) == "0.01 USD"  # 0.0125 -> half up


# --------------------------------------------------------------------------- floats are refused


@given(value=st.floats(allow_nan=True, allow_infinity=True), currency=supported)
def test_floats_are_refused_everywhere(value, currency):
    money = Money("12.50", currency)
    with pytest.raises(TypeError):
        Money(value, currency)
    with pytest.raises(TypeError):
        to_decimal(value)
    with pytest.raises(TypeError):
        money * value
    with pytest.raises(TypeError):
        value * money
    with pytest.raises(TypeError):
        money.converted(value, "USD")
    with pytest.raises(TypeError):
        money + value  # type: ignore[operator]
    with pytest.raises(TypeError):
        money < value  # type: ignore[operator]


def test_float_that_looks_exact_is_still_refused():
    with pytest.raises(TypeError, match="never floats"):
        Money(1.0, "USD")
    with pytest.raises(TypeError):
        Money(True, "USD")  # bool is an int subclass, not an amount


@pytest.mark.parametrize("bad", ["", "abc", "1,5", "NaN", "Infinity", "-inf", "sNaN", "1.2.3", "0x10"])
def test_non_numbers_are_refused(bad):
    with pytest.raises(ValueError):
        Money(bad, "USD")


def test_amount_beyond_working_precision_is_a_clear_value_error():
    with pytest.raises(ValueError, match="too large"):
        Money(Decimal("1e40"), "USD")
    with pytest.raises(ValueError, match="too large"):
        Money(Decimal("9" * 33), "USD") + Money(Decimal("9" * 33), "USD")


def test_ints_and_decimal_strings_are_accepted():
    assert Money(12, "USD") == Money(Decimal("12.00"), "USD") == Money("12", "USD")
    assert Money(-3, "IRR").amount == Decimal(-3)


# --------------------------------------------------------------------------- currencies


@given(a=amounts(), b=amounts(), pair=st.lists(currencies, min_size=2, max_size=2, unique=True))
def test_mixing_currencies_raises(a, b, pair):
    x, y = Money(a, pair[0]), Money(b, pair[1])
    for operation in (lambda: x + y, lambda: x - y, lambda: x < y, lambda: x <= y, lambda: x > y, lambda: x >= y,
                      lambda: sum_money([x, y], pair[0])):
        with pytest.raises(CurrencyError):
            operation()
    assert x != y


def test_comparisons_within_a_currency():
    assert Money("1.00", "USD") < Money("1.01", "USD") <= Money("1.01", "USD")
    assert not Money("2", "USD") > Money("1.999", "USD")  # 1.999 rounds to 2.00
    assert Money("2", "USD") >= Money("1.999", "USD")


@pytest.mark.parametrize("code", ["usd", "Usd"])
def test_currency_code_is_normalised(code):
    assert Money(1, code).currency == "USD"


@pytest.mark.parametrize("code", ["", "US", "USDX", "XYZ", "RUR ", None, 840, "₽"])
def test_unknown_currency_refused(code):
    with pytest.raises(CurrencyError):
        Money(1, code)
    with pytest.raises(CurrencyError):
        check_currency(code)


def test_money_is_immutable():
    money = Money("1", "USD")
    with pytest.raises(AttributeError):
        money.amount = Decimal(2)  # type: ignore[misc]


# --------------------------------------------------------------------------- minor_amount


@pytest.mark.parametrize(
    "raw, currency, minor",
    [("12.50", "USD", 1250), ("-0.01", "EUR", -1), ("1465000", "IRR", 1465000), ("0", "INR", 0),
     ("1.234", "KWD", 1234), ("99999999999999999999999999999999.99", "USD", 9999999999999999999999999999999999)],
)
def test_minor_amount(raw, currency, minor):
    money = Money(raw, currency)
    assert money.minor_amount == minor
    assert isinstance(money.minor_amount, int)


# --------------------------------------------------------------------------- formatting


def _spaces(text: str) -> str:
    return text.replace("\xa0", " ").replace("\u202f", " ")


@pytest.mark.parametrize(
    "amount, currency, locale, text",
    [
        ("1234.5", "BRL", "pt", "R$ 1.234,50"),
        ("1234.5", "BRL", "pt_BR", "R$ 1.234,50"),
        ("-1234.56", "BRL", "pt", "-R$ 1.234,56"),
        ("1234567.891", "INR", "hi", "₹12,34,567.89"),  # lakh grouping
        ("1234.5", "RUB", "ru", "1 234,50 ₽"),
        ("1234.5", "USD", "en", "$1,234.50"),
        ("0.125", "USD", "en", "$0.13"),  # rounded half up by Money, not half even by Babel
        ("1234.5", "IRR", "en", "IRR1,235"),
        ("-0.001", "USD", "en", "$0.00"),
    ],
)
def test_format(amount, currency, locale, text):
    assert _spaces(Money(amount, currency).format(locale)) == text
