"""RateTable: direct, inverse and cross rates through the stored quotes (pure, no database)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.kernel.money import Money, minor_units
from marketplace.rates.conversion import CrossRate, Edge, NoRate, RateTable

D20, D21, D22 = date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22)
#: The working context of conversion.py, spelled out independently.
C34 = Context(prec=34, rounding=ROUND_HALF_UP)


def ecb(quote: str, rate: str, as_of: date = D20) -> Edge:
    return Edge("EUR", quote, Decimal(rate), as_of, "ecb")


def cbr(base: str, rate: str, as_of: date = D21) -> Edge:
    return Edge(base, "RUB", Decimal(rate), as_of, "cbr")


def manual(base: str, quote: str, rate: str, as_of: date = D20) -> Edge:
    return Edge(base, quote, Decimal(rate), as_of, "manual")


# --------------------------------------------------------------------------- direct, inverse, cross


def test_direct_rate():
    table = RateTable([ecb("USD", "1.1552")])
    cross = table.rate("EUR", "USD")
    assert cross == CrossRate(Decimal("1.1552"), D20, ("ecb",))
    assert cross.source == "ecb"


def test_inverse_rate_is_one_over_the_quote_at_34_digits():
    cross = RateTable([ecb("USD", "1.1552")]).rate("USD", "EUR")
    assert cross.rate == Decimal("0.8656509695290858725761772853185596")  # 1/1.1552, 34 significant digits
    assert cross.rate == C34.divide(Decimal(1), Decimal("1.1552"))
    assert cross.as_of == D20 and cross.source == "ecb"


def test_inverse_of_an_exact_quote_is_exact():
    table = RateTable([manual("USD", "AED", "3.6725"), ecb("USD", "1.25")])
    assert table.rate("EUR", "USD").rate * table.rate("USD", "EUR").rate == 1
    assert table.rate("USD", "EUR").rate == Decimal("0.8")


def test_cross_rate_through_a_third_currency_exact():
    # EUR -> USD 1.25 and EUR -> BRL 6.25: one USD is 6.25 / 1.25 = 5 BRL, exactly.
    table = RateTable([ecb("USD", "1.25"), ecb("BRL", "6.25")])
    assert table.rate("USD", "BRL").rate == Decimal(5)
    assert table.rate("BRL", "USD").rate == Decimal("0.2")
    assert table.rate("USD", "BRL").sources == ("ecb", "ecb")
    assert table.rate("USD", "BRL").source == "ecb"


def test_cross_rate_through_rub_like_the_cbr_feed():
    # CBR: 1 USD = 80 RUB, 1 CNY = 11.25 RUB  =>  1 USD = 80 / 11.25 = 7.111... CNY (34 digits, half up)
    table = RateTable([cbr("USD", "80"), cbr("CNY", "11.25")])
    assert table.rate("USD", "CNY").rate == Decimal("7.111111111111111111111111111111111")
    assert table.rate("CNY", "USD").rate == Decimal("0.140625")
    # 100 INR at 0.90122 RUB each, in CNY: 90.122 / 11.25 = 8.0108444... -> 8.01
    table = RateTable([cbr("INR", "0.90122"), cbr("CNY", "11.25")])
    assert table.convert(Money("100", "INR"), "CNY") == Money("8.01", "CNY")


def test_cross_rate_mixing_sources_names_them_all():
    # EUR -> USD (ecb), USD -> IRR (manual): two feeds on one path.
    table = RateTable([ecb("USD", "1.1552"), manual("USD", "IRR", "1465000", D21)])
    cross = table.rate("EUR", "IRR")
    assert cross.rate == Decimal("1692368.0000")
    assert cross.sources == ("ecb", "manual")
    assert cross.source == "ecb+manual"
    assert cross.as_of == D20  # the older of the two quotes
    assert table.convert(Money("10", "EUR"), "IRR") == Money("16923680", "IRR")


def test_three_hops_and_rounding_happens_once_in_money():
    # IDR -> EUR -> USD -> AED: a chain of three quotes, then one rounding to fils.
    table = RateTable([ecb("IDR", "19289.53"), ecb("USD", "1.1552"), manual("USD", "AED", "3.6725")])
    cross = table.rate("IDR", "AED")
    expected = C34.multiply(C34.multiply(C34.divide(Decimal(1), Decimal("19289.53")), Decimal("1.1552")),
                            Decimal("3.6725"))
    assert cross.rate == expected
    assert cross.sources == ("ecb", "ecb", "manual")
    money = table.convert(Money("1000000", "IDR"), "AED")
    assert money == Money("219.94", "AED")  # 1e6 / 19289.53 * 1.1552 * 3.6725 = 219.9375...


def test_identity():
    table = RateTable([])
    cross = table.rate("USD", "USD")
    assert cross == CrossRate(Decimal(1), None, ())
    assert cross.source == "identity"
    assert table.convert(Money("12.34", "USD"), "USD") == Money("12.34", "USD")


# --------------------------------------------------------------------------- which quote is used


def test_newest_quote_for_a_pair_wins():
    table = RateTable([ecb("USD", "1.10", D20), ecb("USD", "1.20", D22), ecb("USD", "1.15", D21)])
    assert table.rate("EUR", "USD") == CrossRate(Decimal("1.20"), D22, ("ecb",))


def test_newest_quote_wins_whatever_its_direction():
    # A manual USD -> EUR newer than the ECB's EUR -> USD replaces it (a pair is unordered).
    table = RateTable([ecb("USD", "1.1552", D20), manual("USD", "EUR", "0.8", D21)])
    assert table.rate("EUR", "USD").rate == Decimal("1.25")
    assert table.rate("EUR", "USD").source == "manual"
    # ...and an older manual quote loses to a newer feed.
    table = RateTable([manual("USD", "EUR", "0.8", D20), ecb("USD", "1.1552", D21)])
    assert table.rate("EUR", "USD").rate == Decimal("1.1552")


def test_same_day_tie_goes_to_manual_then_ecb_then_cbr():
    same_day = [Edge("USD", "RUB", Decimal("80"), D21, "cbr"), Edge("USD", "RUB", Decimal("81"), D21, "ecb"),
                Edge("RUB", "USD", Decimal("0.0125"), D21, "manual")]
    for edges in (same_day, list(reversed(same_day))):
        assert RateTable(edges).rate("USD", "RUB").source == "manual"
        assert RateTable(edges).rate("USD", "RUB").rate == Decimal(80)
    assert RateTable(same_day[:2]).rate("USD", "RUB").rate == Decimal(81)


def test_fewest_hops_win_over_a_longer_route():
    # USD -> CNY directly (manual) beats USD -> RUB -> CNY (cbr), even though the cbr quotes are newer.
    table = RateTable([cbr("USD", "80", D22), cbr("CNY", "11.25", D22), manual("USD", "CNY", "7.1", D20)])
    assert table.rate("USD", "CNY") == CrossRate(Decimal("7.1"), D20, ("manual",))


def test_bad_edges_are_ignored():
    table = RateTable([Edge("USD", "USD", Decimal(2), D20, "manual"), Edge("USD", "RUB", Decimal(0), D20, "manual"),
                       Edge("USD", "BRL", Decimal(-5), D20, "manual")])
    for to in ("RUB", "BRL"):
        with pytest.raises(NoRate):
            table.rate("USD", to)


def test_a_newer_non_positive_quote_does_not_hide_a_good_one():
    table = RateTable([ecb("USD", "1.1552", D20), ecb("USD", "0", D22)])
    assert table.rate("EUR", "USD").rate == Decimal("1.1552")


# --------------------------------------------------------------------------- no rate


def test_unknown_pair_raises_no_rate():
    table = RateTable([ecb("USD", "1.1552"), cbr("CNY", "11.25")])  # {EUR, USD} and {CNY, RUB}: not connected
    with pytest.raises(NoRate) as info:
        table.rate("USD", "CNY")
    assert (info.value.frm, info.value.to) == ("USD", "CNY")
    assert "USD" in str(info.value) and "CNY" in str(info.value)
    with pytest.raises(NoRate):
        table.rate("USD", "ETB")  # never quoted at all
    with pytest.raises(NoRate):
        table.rate("ETB", "USD")
    with pytest.raises(NoRate):
        table.convert(Money(1, "USD"), "CNY")
    with pytest.raises(NoRate):
        RateTable([]).rate("EUR", "USD")
    assert issubclass(NoRate, LookupError)


# --------------------------------------------------------------------------- properties

CODES = ("BRL", "RUB", "INR", "CNY", "ZAR", "EGP", "ETB", "IRR", "AED", "IDR", "USD", "EUR", "KWD")

#: 1 unit of one currency in another: 1e-4 .. 1e4, up to 12 significant digits (like the feeds).
rate_values = st.builds(
    lambda coefficient, exponent: Decimal(coefficient).scaleb(exponent - len(str(coefficient)) + 1),
    st.integers(1, 10**12 - 1),
    st.integers(-4, 3),
)
dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2026, 12, 31))
sources = st.sampled_from(["ecb", "cbr", "manual"])


@st.composite
def trees(draw):
    """A random tree of quotes over 2..6 currencies, so that every path is unique and checkable by hand.

    Returns (codes, edges, tree); tree maps each currency but the root to
    (parent, exact rate parent -> child as a Fraction, date). Quotes are stored in
    either direction, and some pairs also get an older, different quote (which must lose).
    """
    codes = draw(st.lists(st.sampled_from(CODES), min_size=2, max_size=6, unique=True))
    edges: list[Edge] = []
    tree: dict[str, tuple[str, Fraction, date]] = {}
    for index, code in enumerate(codes[1:], start=1):
        parent = codes[draw(st.integers(0, index - 1))]
        rate, as_of, source = draw(rate_values), draw(dates), draw(sources)
        if draw(st.booleans()):
            edges.append(Edge(parent, code, rate, as_of, source))
            tree[code] = (parent, Fraction(rate), as_of)
        else:  # quoted the other way round, as a feed with the other base would
            edges.append(Edge(code, parent, rate, as_of, source))
            tree[code] = (parent, 1 / Fraction(rate), as_of)
        if draw(st.booleans()):
            older = as_of - timedelta(days=draw(st.integers(1, 400)))
            edges.append(Edge(*draw(st.permutations([code, parent])), draw(rate_values), older, draw(sources)))
    return codes, draw(st.permutations(edges)), tree


def _path_to_root(tree, code):
    path = []
    while code in tree:
        parent, rate, as_of = tree[code]
        path.append((parent, code, rate, as_of))
        code = parent
    return path


def _expected(tree, frm: str, to: str) -> tuple[Fraction, date, int]:
    """Exact rate frm -> to, the oldest date and the number of quotes on the unique tree path."""
    up_from, up_to = _path_to_root(tree, frm), _path_to_root(tree, to)
    while up_from and up_to and up_from[-1] == up_to[-1]:  # drop the part both share
        up_from.pop()
        up_to.pop()
    rate = Fraction(1)
    for _parent, _child, parent_to_child, _d in up_from:  # climbing child -> parent
        rate /= parent_to_child
    for _parent, _child, parent_to_child, _d in up_to:  # descending parent -> child
        rate *= parent_to_child
    steps = up_from + up_to
    return rate, min(d for *_x, d in steps), len(steps)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), graph=trees())
def test_tree_rates_and_as_of_match_an_exact_computation(data, graph):
    codes, edges, tree = graph
    table = RateTable(edges)
    frm, to = data.draw(st.lists(st.sampled_from(codes), min_size=2, max_size=2, unique=True))
    exact, oldest, hops = _expected(tree, frm, to)
    cross = table.rate(frm, to)
    # each hop rounds to 34 significant digits; a path here has at most 10 hops
    assert abs(Fraction(cross.rate) - exact) <= exact * Fraction(1, 10**31)
    assert cross.as_of == oldest  # as_of is the oldest quote on the path
    assert len(cross.sources) == hops


@settings(max_examples=300, deadline=None)
@given(data=st.data(), graph=trees())
def test_round_trip_returns_within_the_rounding_of_both_legs(data, graph):
    """A -> B -> A loses at most half a minor unit of B (worth rate(B, A) in A) plus half a minor unit of A.

    So when B's minor unit is worth no more than A's (USD -> RUB -> USD, EUR -> USD -> EUR ...),
    the round trip is within one minor unit of A. (Not in general: 1000 IRR -> USD -> IRR is 0 IRR,
    because the whole amount is below a US cent.)
    """
    codes, edges, _tree = graph
    table = RateTable(edges)
    a, b = data.draw(st.lists(st.sampled_from(codes), min_size=2, max_size=2, unique=True))
    places = minor_units(a)
    amount = Money(Decimal(data.draw(st.integers(-10**9, 10**9))).scaleb(-places), a)
    there = table.convert(amount, b)
    back = table.convert(there, a)
    q_a, q_b = Fraction(1, 10**places), Fraction(1, 10**minor_units(b))
    b_to_a = Fraction(table.rate(b, a).rate)
    error = abs(Fraction(back.amount) - Fraction(amount.amount))
    slack = Fraction(1, 10**20) * (1 + abs(Fraction(amount.amount)))  # the 34-digit rates themselves
    assert error <= q_b * b_to_a / 2 + q_a / 2 + slack
    if q_b * b_to_a <= q_a:
        assert error <= q_a


@settings(max_examples=200, deadline=None)
@given(data=st.data(), graph=trees())
def test_rate_and_its_inverse_multiply_to_one(data, graph):
    codes, edges, _tree = graph
    table = RateTable(edges)
    a, b = data.draw(st.lists(st.sampled_from(codes), min_size=2, max_size=2, unique=True))
    product = Fraction(table.rate(a, b).rate) * Fraction(table.rate(b, a).rate)
    assert abs(product - 1) <= Fraction(1, 10**30)
    assert table.rate(a, b).as_of == table.rate(b, a).as_of


@given(rate=rate_values, amount=st.integers(0, 10**12))
def test_direct_conversion_is_money_converted(rate, amount):
    table = RateTable([Edge("USD", "INR", rate, D20, "manual")])
    money = Money(Decimal(amount).scaleb(-2), "USD")
    assert table.convert(money, "INR") == money.converted(rate, "INR")
