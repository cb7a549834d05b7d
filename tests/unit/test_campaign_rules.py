"""The campaign rule engine as pure functions (promotions/rules.py): no database, no clock, no app.

- status_at: the status at any instant from the stored state and the window [starts_at, ends_at);
- Discount.amount_off: percent discounts rounded half up to the currency's minor units, fixed amounts
  in the price's currency or converted from the first one, never more than the price;
- Eligibility.reasons: one reason per failed rule, each naming its rule;
- best_offer: the largest applicable discount, blocked offers set aside.

Expected amounts are worked out on integers (minor units), never with the code's own quantize call.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from marketplace.kernel.money import Money, minor_units
from promotions.rules import (
    ACTIVE,
    DRAFT,
    ENDED,
    PAUSED,
    SCHEDULED,
    Discount,
    Eligibility,
    Offer,
    best_offer,
    status_at,
)

CURRENCIES = ("CNY", "INR", "BRL", "RUB", "USD", "IRR", "JPY", "KWD")   # 2, 0 and 3 minor units

#: Units of the key currency per unit of USD: a small, fixed rate table for the converter.
PER_USD = {"USD": Decimal(1), "CNY": Decimal("7.1234"), "INR": Decimal("83.4567"), "BRL": Decimal("5.0123"),
           "RUB": Decimal("92.5"), "IRR": Decimal("42075"), "JPY": Decimal("151.37"), "KWD": Decimal("0.3071")}


def convert(money: Money, currency: str) -> Money:
    """A pure converter through USD (what RateTable.convert does with stored quotes)."""
    return money.converted(PER_USD[currency] / PER_USD[money.currency], currency)


def money_of(minor: int, currency: str) -> Money:
    return Money(Decimal(minor).scaleb(-minor_units(currency)), currency)


def minor(money: Money) -> int:
    value = money.amount.scaleb(minor_units(money.currency))
    assert value == value.to_integral_value()
    return int(value)


currencies = st.sampled_from(CURRENCIES)
#: Prices below MAX_AMOUNT (1e15 major units), as minor units.
minor_amounts = st.integers(min_value=0, max_value=10**15 - 1)
#: 0 < percent <= 100 with at most 4 decimal places, as ten-thousandths of a percent.
percent_units = st.integers(min_value=1, max_value=100 * 10**4)
aware = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                     timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=8)),
                                                timezone(timedelta(hours=-3)), timezone(timedelta(hours=5, minutes=30))]))


def percent(units: int) -> Decimal:
    return Decimal(units).scaleb(-4)


def half_up_percent_of(minor_price: int, units: int) -> int:
    """round_half_up(minor_price * units / 1e6) on integers (units are ten-thousandths of a percent)."""
    denominator = 100 * 10**4
    return (2 * minor_price * units + denominator) // (2 * denominator)


# -- status_at --------------------------------------------------------------------

START = datetime(2025, 11, 11, tzinfo=timezone(timedelta(hours=8)))       # Double 11, midnight in Beijing
END = START + timedelta(days=1)


@pytest.mark.parametrize("state, at, expected", [
    ("launched", START - timedelta(microseconds=1), SCHEDULED),
    ("launched", START, ACTIVE),                                          # the window includes its start
    ("launched", END - timedelta(microseconds=1), ACTIVE),
    ("launched", END, ENDED),                                             # ... and excludes its end
    ("paused", START - timedelta(days=3), PAUSED),
    ("paused", START + timedelta(hours=1), PAUSED),
    ("paused", END, ENDED),                                               # a paused campaign still ends
    ("ended", START - timedelta(days=3), ENDED),                          # ended early, even before its start
    ("ended", START + timedelta(hours=1), ENDED),
    ("draft", START + timedelta(hours=1), DRAFT),                         # never launched: a draft, whenever
    ("draft", END + timedelta(days=400), DRAFT),
])
def test_status_at_the_edges_of_the_window(state, at, expected):
    assert status_at(state, START, END, at) == expected


def test_the_window_compares_instants_not_wall_clocks():
    utc_start = START.astimezone(timezone.utc)                             # 2025-11-10 16:00 UTC
    assert status_at("launched", START, END, utc_start) == ACTIVE
    assert status_at("launched", START, END, datetime(2025, 11, 10, 23, 0, tzinfo=timezone.utc)) == ACTIVE
    assert status_at("launched", START, END, datetime(2025, 11, 10, 15, 59, tzinfo=timezone.utc)) == SCHEDULED


@given(start=aware, length=st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=60)),
       at=aware)
def test_a_launched_campaign_is_scheduled_then_active_then_ended(start, length, at):
    end = start + length
    expected = SCHEDULED if at < start else ACTIVE if at < end else ENDED
    assert status_at("launched", start, end, at) == expected


@given(start=aware, length=st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=60)),
       at=aware)
def test_paused_ended_and_draft_states_at_any_instant(start, length, at):
    end = start + length
    assert status_at("draft", start, end, at) == DRAFT
    assert status_at("ended", start, end, at) == ENDED
    assert status_at("paused", start, end, at) == (ENDED if at >= end else PAUSED)


@given(start=aware, length=st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=60)),
       a=aware, b=aware, state=st.sampled_from(["launched", "paused"]))
def test_the_status_never_goes_back_as_time_passes(start, length, a, b, state):
    order = {SCHEDULED: 0, PAUSED: 0, ACTIVE: 1, ENDED: 2}
    earlier, later = min(a, b), max(a, b)
    assert order[status_at(state, start, start + length, earlier)] <= order[status_at(state, start, start + length, later)]


# -- percent discounts: rounded half up to minor units ----------------------------------

@pytest.mark.parametrize("price, currency, value, expected_off", [
    ("0.05", "CNY", "50", "0.03"),          # 0.025 -> 0.03 (half up, not half even)
    ("0.15", "CNY", "50", "0.08"),          # 0.075 -> 0.08
    ("0.25", "CNY", "50", "0.13"),          # 0.125 -> 0.13 (half even would give 0.12)
    ("199.99", "INR", "15", "30.00"),       # 29.9985 -> 30.00
    ("199.97", "INR", "15", "30.00"),       # 29.9955 -> 30.00
    ("199.93", "INR", "15", "29.99"),       # 29.9895 -> 29.99
    ("5", "IRR", "50", "3"),                # no minor units: 2.5 -> 3
    ("125000", "IRR", "12.5", "15625"),
    ("0.005", "KWD", "50", "0.003"),        # three minor units: 0.0025 -> 0.003
    ("200.00", "CNY", "15", "30.00"),
    ("200.00", "CNY", "100", "200.00"),     # everything off: free, not negative
    ("0.01", "CNY", "0.0001", "0.00"),      # a discount too small to show is none
])
def test_percent_discounts_round_half_up_to_minor_units(price, currency, value, expected_off):
    off = Discount("percent", percent=Decimal(value)).amount_off(Money(Decimal(price), currency), convert)
    assert off == Money(Decimal(expected_off), currency)


@given(minor_price=minor_amounts, units=percent_units, currency=currencies)
@example(minor_price=5, units=50 * 10**4, currency="CNY")
@example(minor_price=10**15 - 1, units=99_9999, currency="CNY")
def test_a_percent_discount_is_the_exact_share_rounded_half_up(minor_price, units, currency):
    price = money_of(minor_price, currency)
    off = Discount("percent", percent=percent(units)).amount_off(price, convert)
    assert off.currency == currency
    assert minor(off) == half_up_percent_of(minor_price, units)


@given(minor_price=minor_amounts, units=percent_units, currency=currencies)
def test_a_percent_discount_never_exceeds_the_price_nor_goes_below_zero(minor_price, units, currency):
    price = money_of(minor_price, currency)
    off = Discount("percent", percent=percent(units)).amount_off(price, convert)
    assert Money.zero(currency) <= off <= price
    assert Money.zero(currency) <= price - off


@given(minor_price=minor_amounts, small=percent_units, large=percent_units, currency=currencies)
def test_a_larger_percent_never_gives_a_smaller_discount(minor_price, small, large, currency):
    small, large = min(small, large), max(small, large)
    price = money_of(minor_price, currency)
    assert (Discount("percent", percent=percent(small)).amount_off(price, convert)
            <= Discount("percent", percent=percent(large)).amount_off(price, convert))


# -- fixed discounts: the price's currency, else converted from the first ------------------

def test_a_fixed_discount_uses_the_prices_own_currency_amount():
    discount = Discount("fixed", amounts=(("CNY", Decimal("20.00")), ("INR", Decimal("250.00"))))
    assert discount.amount_off(Money(Decimal("2500.00"), "INR"), convert) == Money(Decimal("250.00"), "INR")
    assert discount.amount_off(Money(Decimal("200.00"), "CNY"), convert) == Money(Decimal("20.00"), "CNY")


def test_a_currency_without_its_own_amount_is_converted_from_the_first_not_another():
    calls = []

    def recording(money: Money, currency: str) -> Money:
        calls.append((money, currency))
        return convert(money, currency)

    discount = Discount("fixed", amounts=(("CNY", Decimal("20.00")), ("INR", Decimal("250.00"))))
    off = discount.amount_off(Money(Decimal("100.00"), "BRL"), recording)
    assert calls == [(Money(Decimal("20.00"), "CNY"), "BRL")]
    assert off == convert(Money(Decimal("20.00"), "CNY"), "BRL")
    # 20 CNY in BRL through USD: 20 / 7.1234 * 5.0123 = 14.0728... -> 14.07
    assert off == Money(Decimal("14.07"), "BRL")


def test_a_converted_fixed_amount_is_rounded_half_up_in_the_target_currency():
    discount = Discount("fixed", amounts=(("USD", Decimal("1.00")),))
    assert discount.amount_off(Money(Decimal("100000"), "IRR"), convert) == Money(Decimal("42075"), "IRR")
    # 1 USD = 0.3071 KWD (three places); 0.5 USD = 0.15355 -> 0.154
    half = Discount("fixed", amounts=(("USD", Decimal("0.50")),))
    assert half.amount_off(Money(Decimal("10.000"), "KWD"), convert) == Money(Decimal("0.154"), "KWD")


@given(first=currencies, target=currencies, amount=st.integers(min_value=1, max_value=10**9),
       minor_price=minor_amounts)
def test_a_fixed_discount_is_the_converted_first_amount_capped_at_the_price(first, target, amount, minor_price):
    assume(first != target)
    reference = money_of(amount, first)
    discount = Discount("fixed", amounts=((first, reference.amount),))
    price = money_of(minor_price, target)
    off = discount.amount_off(price, convert)
    assert off == min(convert(reference, target), price)
    assert Money.zero(target) <= price - off


@given(currency=currencies, amount=st.integers(min_value=1, max_value=10**12), minor_price=minor_amounts)
def test_a_fixed_discount_in_the_prices_currency_is_taken_as_is_up_to_the_price(currency, amount, minor_price):
    own = money_of(amount, currency)
    discount = Discount("fixed", amounts=(("USD" if currency != "USD" else "CNY", Decimal("1.00")),
                                          (currency, own.amount)))
    price = money_of(minor_price, currency)
    assert discount.amount_off(price, convert) == min(own, price)


# -- eligibility --------------------------------------------------------------------------------

SHAWL = dict(origin_country="IN", category_path=["textiles-apparel", "shawls-scarves"], msme_class="micro",
             list_price=Money(Decimal("2500.00"), "INR"))


def reasons(rules: Eligibility, **overrides) -> list[str]:
    product = {**SHAWL, **overrides}
    return rules.reasons(product["origin_country"], product["category_path"], product["msme_class"],
                         product["list_price"], convert)


def rule_names(failed: list[str]) -> list[str]:
    return [reason.split(":")[0] for reason in failed]


def test_no_rules_means_every_product_is_eligible():
    assert reasons(Eligibility()) == []


@pytest.mark.parametrize("rules, rule", [
    (Eligibility(origin_countries=frozenset({"CN", "BR"})), "origin_country"),
    (Eligibility(categories=frozenset({"tea", "coffee"})), "category"),
    (Eligibility(msme_classes=frozenset({"large"})), "msme_class"),
    (Eligibility(min_price=Money(Decimal("2500.01"), "INR")), "min_price"),
])
def test_each_failed_rule_gives_one_reason_naming_it(rules, rule):
    (reason,) = reasons(rules)
    assert reason.startswith(f"{rule}: ")


def test_reasons_say_what_was_found_and_what_is_allowed():
    (country,) = reasons(Eligibility(origin_countries=frozenset({"CN", "BR"})))
    assert country == "origin_country: IN is not among BR, CN"
    (category,) = reasons(Eligibility(categories=frozenset({"tea"})))
    assert category == "category: shawls-scarves is not among tea"


def test_every_failed_rule_is_listed_in_a_fixed_order():
    rules = Eligibility(origin_countries=frozenset({"CN"}), categories=frozenset({"tea"}),
                        msme_classes=frozenset({"large"}), min_price=Money(Decimal("1000.00"), "CNY"))
    assert rule_names(reasons(rules)) == ["origin_country", "category", "msme_class", "min_price"]


def test_a_product_qualifies_through_any_category_of_its_path():
    assert reasons(Eligibility(categories=frozenset({"textiles-apparel"}))) == []     # the parent
    assert reasons(Eligibility(categories=frozenset({"shawls-scarves", "tea"}))) == []
    assert rule_names(reasons(Eligibility(categories=frozenset({"textiles"})))) == ["category"]   # no prefix match


def test_the_minimum_price_includes_its_bound_and_compares_in_its_own_currency():
    in_rupees = SHAWL["list_price"]
    at_bound = convert(in_rupees, "CNY")
    assert reasons(Eligibility(min_price=at_bound)) == []
    assert rule_names(reasons(Eligibility(min_price=at_bound + Money(Decimal("0.01"), "CNY")))) == ["min_price"]
    assert reasons(Eligibility(min_price=Money(Decimal("2500.00"), "INR"))) == []


@given(country=st.sampled_from(["BR", "RU", "IN", "CN", "ZA"]),
       allowed=st.frozensets(st.sampled_from(["BR", "RU", "IN", "CN", "ZA"])),
       msme=st.sampled_from(["micro", "small", "medium", "large"]),
       classes=st.frozensets(st.sampled_from(["micro", "small", "medium", "large"])),
       path=st.lists(st.sampled_from(["food-beverages", "tea", "textiles-apparel", "shawls-scarves"]),
                     min_size=1, max_size=2, unique=True),
       categories=st.frozensets(st.sampled_from(["food-beverages", "tea", "textiles-apparel", "coffee"])),
       price=st.integers(min_value=0, max_value=10**7), minimum=st.none() | st.integers(min_value=0, max_value=10**7))
def test_a_product_is_eligible_exactly_when_every_rule_holds(country, allowed, msme, classes, path, categories,
                                                             price, minimum):
    rules = Eligibility(origin_countries=allowed, categories=categories, msme_classes=classes,
                        min_price=money_of(minimum, "CNY") if minimum is not None else None)
    failed = rule_names(rules.reasons(country, path, msme, money_of(price, "CNY"), convert))
    expected = [name for name, holds in (
        ("origin_country", not allowed or country in allowed),
        ("category", not categories or bool(categories & set(path))),
        ("msme_class", not classes or msme in classes),
        ("min_price", minimum is None or price >= minimum),
    ) if not holds]
    assert failed == expected


# -- the best offer ---------------------------------------------------------------------------

def offer(campaign_id: int, value: str | None = None, amounts=None, blocked: str | None = None,
          budget_left: Money | None = None) -> Offer:
    discount = (Discount("percent", percent=Decimal(value)) if value is not None
                else Discount("fixed", amounts=tuple((c, Decimal(a)) for c, a in amounts)))
    return Offer(campaign_id=campaign_id, slug=f"campaign-{campaign_id}", discount=discount, blocked=blocked,
                 budget_left=budget_left)


TEA = Money(Decimal("200.00"), "CNY")


def test_no_offers_means_no_discount():
    assert best_offer(TEA, [], convert) == (None, Money.zero("CNY"), [])


def test_the_larger_discount_wins_whichever_kind_it_is():
    ten_percent, fifty_yuan = offer(1, "10"), offer(2, amounts=[("CNY", "50.00")])
    chosen, off, blocked = best_offer(TEA, [ten_percent, fifty_yuan], convert)
    assert chosen is fifty_yuan and off == Money(Decimal("50.00"), "CNY") and blocked == []
    chosen, off, _ = best_offer(Money(Decimal("2000.00"), "CNY"), [fifty_yuan, ten_percent], convert)
    assert chosen is ten_percent and off == Money(Decimal("200.00"), "CNY")


def test_equal_discounts_go_to_the_older_campaign():
    chosen, _off, _ = best_offer(TEA, [offer(7, "15"), offer(3, amounts=[("CNY", "30.00")]), offer(5, "15")],
                                 convert)
    assert chosen.campaign_id == 3


def test_a_blocked_offer_is_set_aside_and_reported():
    big = offer(1, "50", blocked="stock_cap_reached")
    small = offer(2, "10")
    chosen, off, blocked = best_offer(TEA, [big, small], convert)
    assert chosen is small and off == Money(Decimal("20.00"), "CNY") and blocked == [big]
    chosen, off, blocked = best_offer(TEA, [big], convert)
    assert chosen is None and off == Money.zero("CNY") and [b.blocked for b in blocked] == ["stock_cap_reached"]


def test_an_offer_whose_budget_cannot_cover_this_discount_is_blocked_as_budget_exhausted():
    covered = offer(1, "15", budget_left=Money(Decimal("30.00"), "CNY"))               # exactly enough
    chosen, off, blocked = best_offer(TEA, [covered], convert)
    assert chosen is covered and off == Money(Decimal("30.00"), "CNY") and blocked == []
    short = offer(1, "15", budget_left=Money(Decimal("29.99"), "CNY"))
    chosen, off, blocked = best_offer(TEA, [short], convert)
    assert chosen is None and [b.blocked for b in blocked] == ["budget_exhausted"]
    # the budget is compared in its own currency
    in_usd = convert(Money(Decimal("30.00"), "CNY"), "USD")
    assert best_offer(TEA, [offer(1, "15", budget_left=in_usd)], convert)[0] is not None
    assert best_offer(TEA, [offer(1, "15", budget_left=in_usd - Money(Decimal("0.01"), "USD"))], convert)[0] is None


@given(minor_price=st.integers(min_value=0, max_value=10**9), currency=currencies,
       specs=st.lists(st.tuples(percent_units, st.booleans()), max_size=6))
def test_best_offer_picks_the_maximum_unblocked_discount(minor_price, currency, specs):
    price = money_of(minor_price, currency)
    offers = [offer(i + 1, str(percent(units)), blocked="stock_cap_reached" if is_blocked else None)
              for i, (units, is_blocked) in enumerate(specs)]
    chosen, off, blocked = best_offer(price, offers, convert)
    open_offs = [o.discount.amount_off(price, convert) for o in offers if not o.blocked]
    expected = max(open_offs, default=Money.zero(currency))
    assert off == expected and off <= price
    assert [b.campaign_id for b in blocked] == [o.campaign_id for o in offers if o.blocked]
    if chosen is None:
        assert expected == Money.zero(currency)
    else:
        assert not chosen.blocked and chosen.discount.amount_off(price, convert) == off
        # the first (lowest campaign id) among equals
        assert chosen.campaign_id == min(o.campaign_id for o in offers
                                         if not o.blocked and o.discount.amount_off(price, convert) == off)
