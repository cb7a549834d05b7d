"""Money: a Decimal amount with an ISO 4217 currency.

The rule, used everywhere money is made or converted: amounts are rounded
half up (`ROUND_HALF_UP`) to the currency's minor units as Babel/CLDR gives
them. A `Money` is always rounded; intermediate arithmetic (a conversion, a
discount) is done on plain Decimals and rounded once when a `Money` is made.
No floats: constructing from a float is a TypeError.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import MAX_EMAX, MIN_EMIN, ROUND_HALF_UP, Context, Decimal, InvalidOperation
from functools import lru_cache

from babel.numbers import format_currency, get_currency_precision, list_currencies

ROUNDING = ROUND_HALF_UP
#: Working precision for conversions and other intermediate arithmetic.
CONTEXT = Context(prec=34, rounding=ROUNDING)
#: Largest amount we accept from outside (about a quadrillion major units).
MAX_AMOUNT = Decimal("1e15")


#: The only way an amount is written from outside: ASCII digits, an optional minus sign and decimal
#: point, nothing else (no spaces, underscores, exponents, "+", other scripts' digits, NaN or Infinity).
PLAIN_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
#: Longest plain decimal accepted from outside (digits, sign and point).
MAX_DECIMAL_LENGTH = 40


class CurrencyError(ValueError):
    pass


def parse_plain_decimal(text: object) -> Decimal | None:
    """`text` as a Decimal if it is a plain decimal string ("12.50", "-3", "0.005"), else None.

    Python's Decimal() also takes "1_0", " 1", "1e2", "١٠" and "NaN"; amounts from outside never do."""
    if not isinstance(text, str) or len(text) > MAX_DECIMAL_LENGTH or not PLAIN_DECIMAL.fullmatch(text):
        return None
    return Decimal(text)


@lru_cache(maxsize=None)
def known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def check_currency(code: str) -> str:
    if not isinstance(code, str) or code.upper() not in known_currencies() or len(code) != 3:
        raise CurrencyError(f"{code!r} is not an ISO 4217 currency code")
    return code.upper()


@lru_cache(maxsize=None)
def minor_units(currency: str) -> int:
    """Digits after the decimal point for `currency` (CLDR data via Babel)."""
    return get_currency_precision(check_currency(currency))


@lru_cache(maxsize=None)
def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def to_decimal(value: Decimal | int | str) -> Decimal:
    if isinstance(value, float) or isinstance(value, bool):
        raise TypeError("money amounts are never floats; pass a Decimal, int or decimal string")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number") from None
    if not amount.is_finite():
        raise ValueError("amount must be a finite number")
    return amount


def exact_product(a: Decimal, b: Decimal) -> Decimal:
    """a * b without any rounding, so that `Money` rounds a product once, not twice.

    (Rounding to 34 digits first could turn 0.00499...9 into 0.005 and then into 0.01.)
    A product has at most as many digits as its two factors together.
    """
    digits = len(a.as_tuple().digits) + len(b.as_tuple().digits)
    return Context(prec=digits, rounding=ROUNDING, Emax=MAX_EMAX, Emin=MIN_EMIN).multiply(a, b)


def round_amount(amount: Decimal, currency: str) -> Decimal:
    """The one rounding rule: half up to the currency's minor units."""
    try:
        rounded = amount.quantize(quantum(currency), rounding=ROUNDING, context=CONTEXT)
    except InvalidOperation:
        raise ValueError(f"amount {amount} is too large for {currency}") from None
    return rounded.copy_abs() if rounded.is_zero() else rounded  # no "-0.00"


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        currency = check_currency(self.currency)
        amount = round_amount(to_decimal(self.amount), currency)
        object.__setattr__(self, "currency", currency)
        object.__setattr__(self, "amount", amount)

    @classmethod
    def zero(cls, currency: str) -> "Money":
        return cls(Decimal(0), currency)

    def _same(self, other: "Money") -> None:
        if not isinstance(other, Money):
            raise TypeError("can only combine Money with Money")
        if other.currency != self.currency:
            raise CurrencyError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(CONTEXT.add(self.amount, other.amount), self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(CONTEXT.subtract(self.amount, other.amount), self.currency)

    def __neg__(self) -> "Money":
        return Money(self.amount.copy_negate(), self.currency)  # exact; unary minus would round to 28 digits

    def __mul__(self, factor: Decimal | int) -> "Money":
        return Money(exact_product(self.amount, to_decimal(factor)), self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: "Money") -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: "Money") -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: "Money") -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: "Money") -> bool:
        self._same(other)
        return self.amount >= other.amount

    def converted(self, rate: Decimal, currency: str) -> "Money":
        """This amount in `currency`, given `rate` units of `currency` per unit of ours."""
        return Money(exact_product(self.amount, to_decimal(rate)), currency)

    @property
    def minor_amount(self) -> int:
        """Integer minor units (CLDR exponent). Payment adapters apply their own rules on top."""
        return int(self.amount.scaleb(minor_units(self.currency), CONTEXT))

    def format(self, locale: str) -> str:
        return formatted(self.amount, self.currency, locale)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


@lru_cache(maxsize=16384)
def formatted(amount: Decimal, currency: str, locale: str) -> str:
    """An amount as `locale` writes it in `currency` (Babel/CLDR). A pure function of its arguments, so each
    process remembers its recent answers: a page of prices formats the same few amounts over and over, and
    Babel's pattern formatting costs more than the rest of a price's rendering."""
    return format_currency(amount, currency, locale=locale)


def sum_money(items: list[Money], currency: str) -> Money:
    total = Money.zero(currency)
    for item in items:
        total = total + item
    return total
