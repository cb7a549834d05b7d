"""Shapes shared by every area: base schema, money, pagination, locale, and the rules every input meets.

Every schema derives from `BaseSchema`, which refuses, before any field loads:
- text holding control characters (C0, C1, DEL) or lone surrogates, naming the exact path
  (`translations.en.title`, `images.1`); new lines, tabs and carriage returns are allowed only in
  multi-line fields (`MULTILINE_FIELDS`: descriptions, reasons);
- codes (`CODE_FIELDS`: currency, country, HS code, tax ID, locale, SKU) that are not ASCII;
- timestamps that cannot be converted to UTC (`0001-01-01T00:00:00+14:00`), in any DateTime field.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import marshmallow as ma
from flask import current_app
from marshmallow import fields, validate
from webargs.multidictproxy import MultiDictProxy

from marketplace.kernel.i18n import current_locale, is_country_code
from marketplace.kernel.money import MAX_AMOUNT, MAX_DECIMAL_LENGTH, Money, minor_units, parse_plain_decimal

#: Fields whose text may span lines: new lines, tabs and carriage returns are allowed in them (and in
#: anything below them, e.g. `description.en`; a return's `comment`).
MULTILINE_FIELDS = frozenset({"description", "reason", "comment"})
#: Fields holding codes, which are ASCII only ("١٢٣٤٥٦" is not an HS code), wherever they appear.
CODE_FIELDS = frozenset({"currency", "country", "origin_country", "origin_countries", "hs_code", "tax_id",
                         "locale", "original_locale", "sku", "external_id"})
#: Maps whose keys the sender names freely (a product's `attributes`): a key there is never a code field.
FREE_FORM_FIELDS = frozenset({"attributes"})
SINGLE_LINE_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
MULTI_LINE_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
#: At most this many problems are reported for one input.
MAX_TEXT_PROBLEMS = 20
#: Set while an outer BaseSchema.load runs: its input's text was checked as a whole already.
_text_checked: ContextVar[bool] = ContextVar("text_checked", default=False)


def _character_problem(text: str, multiline: bool) -> str | None:
    found = (MULTI_LINE_FORBIDDEN if multiline else SINGLE_LINE_FORBIDDEN).search(text)
    if found is None:
        return None
    return f"Must not contain control characters (found U+{ord(found.group()):04X})."


def _entries(value: Any) -> list[tuple[Any, Any]] | None:
    """(key, item) pairs of a mapping (every value of a query string's repeated key), or None."""
    if isinstance(value, MultiDictProxy):
        value = value.data
    if hasattr(value, "lists"):  # a MultiDict: a key repeated in the query string is a list
        return [(key, items[0] if len(items) == 1 else items) for key, items in value.lists()]
    if isinstance(value, Mapping):
        return list(value.items())
    return None


def _plainly_clean(data: Any, skip: frozenset[str] = frozenset()) -> bool:
    """True when `data` (plain JSON: dicts, lists, scalars) certainly holds no bad text: the strings are
    gathered in one walk (no paths) and searched at once. False means "look closer", not "bad": anything
    else (a query string's MultiDict, a code-named key inside `attributes`) goes through the full walk."""
    single: list[str] = []
    multi: list[str] = []
    codes: list[str] = []
    if skip and type(data) is dict:
        single.extend(key for key in data if type(key) is str)
        data = {key: item for key, item in data.items() if key not in skip}
    stack: list[tuple[Any, bool, bool]] = [(data, False, False)]
    while stack:
        value, multiline, code = stack.pop()
        kind = type(value)
        if kind is str:
            (multi if multiline else single).append(value)
            if code:
                codes.append(value)
        elif kind is dict:
            for key, item in value.items():
                if type(key) is not str:
                    return False
                single.append(key)
                stack.append((item, multiline or key in MULTILINE_FIELDS, key in CODE_FIELDS))
        elif kind is list:
            stack.extend((item, multiline, code) for item in value)
        elif not (value is None or kind in (int, float, bool)):
            return False
    return (SINGLE_LINE_FORBIDDEN.search("".join(single)) is None
            and MULTI_LINE_FORBIDDEN.search("".join(multi)) is None and "".join(codes).isascii())


def text_problems(data: Any, skip: frozenset[str] = frozenset()) -> dict[str, list[str]]:
    """{"path.to.field": [message]} for every string in `data` (keys included) holding a character no
    text of ours may hold, and every code (CODE_FIELDS) that is not ASCII. Walks without recursion. The
    values of the top-level keys in `skip` are left alone (their items are checked one by one later)."""
    if _plainly_clean(data, skip):
        return {}
    problems: dict[str, list[str]] = {}
    stack: list[tuple[tuple[str, ...], Any, bool, bool]] = [((), data, False, False)]
    while stack and len(problems) < MAX_TEXT_PROBLEMS:
        path, value, multiline, code = stack.pop()
        if isinstance(value, str):
            problem = _character_problem(value, multiline)
            if problem is None and code and not value.isascii():
                problem = "Codes are ASCII letters and digits only."
            if problem:
                problems[".".join(path) or "body"] = [problem]
            continue
        entries = _entries(value)
        if entries is not None:
            for key, item in entries:
                key = str(key)
                if _character_problem(key, False):
                    problems[".".join(path) or "body"] = ["Names must not contain control characters."]
                    continue
                if not path and key in skip:
                    continue
                is_code = key in CODE_FIELDS and not FREE_FORM_FIELDS.intersection(path)
                stack.append(((*path, key), item, multiline or key in MULTILINE_FIELDS, is_code))
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                stack.append(((*path, str(index)), item, multiline, code))
    return problems


def utc_convertible(value: Any) -> None:
    """A timestamp with an offset must exist in UTC too (0001-01-01T00:00:00+14:00 does not)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        try:
            value.astimezone(timezone.utc)
        except (OverflowError, ValueError):
            raise ma.ValidationError("Out of range once converted to UTC.") from None


class BaseSchema(ma.Schema):
    """Unknown fields are rejected everywhere (no mass assignment); text and codes are checked before any
    field loads (see the module's docstring); timestamps must convert to UTC."""

    class Meta:
        unknown = ma.RAISE
        ordered = True

    @property
    def _checked_later(self) -> frozenset[str]:
        """Keys of fields whose items are loaded (and checked) one by one later (`checked_later = True`)."""
        return frozenset(field.data_key or name for name, field in self.load_fields.items()
                         if getattr(field, "checked_later", False))

    def load(self, data, *, many=None, partial=None, unknown=None):
        """The outermost load checks the text of its whole input once, before any field loads; the loads of
        nested schemas inside it skip the check (their input was part of what it checked)."""
        if _text_checked.get():
            return super().load(data, many=many, partial=partial, unknown=unknown)
        problems = text_problems(data, self._checked_later)
        if problems:
            raise ma.ValidationError(problems)
        token = _text_checked.set(True)
        try:
            return super().load(data, many=many, partial=partial, unknown=unknown)
        finally:
            _text_checked.reset(token)

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        super().on_bind_field(field_name, field_obj)
        if isinstance(field_obj, fields.DateTime) and utc_convertible not in field_obj.validators:
            field_obj.validators.append(utc_convertible)


class UtcDateTime(fields.AwareDateTime):
    """An ISO 8601 timestamp with an offset, given back in UTC; one that overflows in UTC is refused (422).
    (Every BaseSchema already refuses the overflow in any DateTime field; this one also converts.)"""

    default_error_messages = {"out_of_range": "Out of range once converted to UTC."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("format", "iso")
        kwargs.setdefault("default_timezone", None)
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(timezone.utc)
        except (OverflowError, ValueError):
            raise self.make_error("out_of_range") from None


class DecimalString(fields.Decimal):
    """A decimal sent as a JSON string ("12.50"). Numbers are refused: JSON
    numbers arrive as binary floats, and money never passes through a float.
    Only plain ASCII decimals: no spaces, underscores, exponents, "+" or other scripts' digits."""

    default_error_messages = {
        "not_string": 'Send a decimal string such as "12.50", not a JSON number.',
        "not_plain": f'Send a plain decimal string such as "12.50": ASCII digits, an optional "-" and ".", '
                     f'at most {MAX_DECIMAL_LENGTH} characters.',
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("as_string", True)
        kwargs.setdefault("allow_nan", False)
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("not_string")
        if parse_plain_decimal(value) is None:
            raise self.make_error("not_plain")
        return super()._deserialize(value, attr, data, **kwargs)


def country_code(value: str) -> None:
    """Validator: an assigned ISO 3166-1 alpha-2 country code, upper case (not ZZ, EU, UN, XK, 001...)."""
    if not is_country_code(value):
        raise ma.ValidationError("Use an ISO 3166-1 alpha-2 country code, upper case (e.g. BR).")


_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def url_problem(value: str, schemes: tuple[str, ...] = ("https",), max_length: int = 2048) -> str | None:
    """What is wrong with `value` as a web address (None: nothing): one of `schemes`, a host (a DNS name
    in ASCII/punycode or an IP address), a valid port, no user name or password, no spaces or controls."""
    wanted = " or ".join(schemes)
    if not isinstance(value, str) or len(value) > max_length or not value.isascii() \
            or any(c.isspace() or not c.isprintable() for c in value):
        return f"Use an {wanted} URL (ASCII, no spaces, at most {max_length} characters)."
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return f"Use a well-formed {wanted} URL."
    if parts.scheme.lower() not in schemes or not value.lower().startswith(parts.scheme.lower() + "://"):
        return f"Use an {wanted} URL."
    if parts.username is not None or parts.password is not None:
        return "A URL must not hold a user name or password."
    host = parts.hostname
    if not host:
        return "A URL needs a host."
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    labels = host.removesuffix(".").split(".")
    if len(host) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        return "A URL needs a valid host name."
    return None


def https_url(value: str) -> None:
    """Validator: an https URL with a host."""
    problem = url_problem(value)
    if problem:
        raise ma.ValidationError(problem)


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


def supported_locale(value: str) -> None:
    """One of the locales the marketplace serves (a message's or a review's language)."""
    supported = current_app.config["SUPPORTED_LOCALES"]
    if value not in supported:
        raise ma.ValidationError(f"Unsupported locale {value!r}; use one of {', '.join(supported)}.")


class Paragraphs(fields.String):
    """Text that may span lines (new lines, tabs) but holds no other control character, and is not blank
    (a message, a review, a dispute's description)."""

    #: checked here rather than by the base schema's single-line rule
    checked_later = True

    def _deserialize(self, value: Any, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        found = MULTI_LINE_FORBIDDEN.search(text)
        if found is not None:
            raise ma.ValidationError(f"Must not contain control characters (found U+{ord(found.group()):04X}).")
        if not text.strip():
            raise ma.ValidationError("Write something.")
        return text


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
    if currency not in current_app.config["SUPPORTED_CURRENCIES"]:
        return None
    number = parse_plain_decimal(amount)
    if number is None or amount_problem(number, currency):
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
