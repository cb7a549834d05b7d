"""Shapes shared by every area: base schema, money, pagination, locale."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import marshmallow as ma
from flask import current_app
from marshmallow import fields, validate

from marketplace.i18n import current_locale
from marketplace.money import MAX_AMOUNT, Money, minor_units


class BaseSchema(ma.Schema):
    """Unknown fields are rejected everywhere (no mass assignment)."""

    class Meta:
        unknown = ma.RAISE
        ordered = True


class DecimalString(fields.Decimal):
    """A decimal sent as a JSON string ("12.50"). Numbers are refused: JSON
    numbers arrive as binary floats, and money never passes through a float."""

    default_error_messages = {
        "not_string": 'Send a decimal string such as "12.50", not a JSON number.',
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("as_string", True)
        kwargs.setdefault("allow_nan", False)
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("not_string")
        return super()._deserialize(value, attr, data, **kwargs)


def supported_currency(value: str) -> None:
    if value not in current_app.config["SUPPORTED_CURRENCIES"]:
        raise ma.ValidationError(
            f"Unsupported currency {value!r}; use one of {', '.join(current_app.config['SUPPORTED_CURRENCIES'])}."
        )


def amount_problem(amount: Decimal, currency: str) -> str | None:
    """What is wrong with an amount of this currency (None: nothing)."""
    if amount < 0:
        return "Must not be negative."
    if amount >= MAX_AMOUNT:
        return "Is too large."
    places = minor_units(currency)
    if -amount.as_tuple().exponent > places and amount != amount.quantize(Decimal(1).scaleb(-places)):
        return f"{currency} amounts have at most {places} decimal places."
    return None


class MoneySchema(BaseSchema):
    amount = DecimalString(required=True, metadata={"example": "12.50"})
    currency = fields.String(required=True, validate=supported_currency, metadata={"example": "INR"})
    formatted = fields.Method("format_money", dump_only=True, metadata={"example": "₹12.50"})

    def format_money(self, money: Money) -> str:
        return money.format(current_locale())

    @ma.validates_schema
    def check_amount(self, data: dict, **kwargs: Any) -> None:
        # A money value is always whole, even inside a partial update.
        missing = {name: ["Missing data for required field."] for name in ("amount", "currency") if name not in data}
        if missing:
            raise ma.ValidationError(missing)
        problem = amount_problem(data["amount"], data["currency"])
        if problem:
            raise ma.ValidationError(problem, "amount")

    @ma.post_load
    def make_money(self, data: dict, **kwargs: Any) -> Money:
        return Money(data["amount"], data["currency"])


def _plain_money(value: Any) -> Money | None:
    """`value` loaded as MoneySchema would, if it is plainly valid ({"amount": "<decimal>", "currency"}); else None."""
    if not isinstance(value, dict) or value.keys() != {"amount", "currency"}:
        return None
    amount, currency = value["amount"], value["currency"]
    if not isinstance(amount, str) or currency not in current_app.config["SUPPORTED_CURRENCIES"]:
        return None
    try:
        number = Decimal(amount)
    except ArithmeticError:
        return None
    if not number.is_finite() or amount_problem(number, currency):
        return None
    return Money(number, currency)


class MoneyField(fields.Nested):
    """A MoneySchema value. Plainly valid ones (the bulk of a partner sync) load without the nested schema's
    machinery; anything else goes through the schema, whose messages name the problem."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(MoneySchema, **kwargs)

    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        money = _plain_money(value)
        return money if money is not None else super()._deserialize(value, attr, data, partial=partial, **kwargs)


class LocaleArgs(BaseSchema):
    locale = fields.String(metadata={"description": "Response language (en, pt, ru, hi, zh, ar, fa, id, am)."})


class PageArgs(LocaleArgs):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class PageSchema(BaseSchema):
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class ProblemSchema(ma.Schema):
    """RFC 9457 problem document, the body of every error response.

    Extension members (e.g. `current_status`) may appear beside these."""

    class Meta:
        unknown = ma.INCLUDE

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    code = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
