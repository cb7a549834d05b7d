from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
from flask import current_app
from marshmallow import fields, validate

from catalog.models import ProductStatus
from catalog.rules import customs_description_problem, hs_code_problem
from marketplace.kernel.schemas import (
    BaseSchema,
    MoneyField,
    MoneySchema,
    country_code,
    url_problem,
)

ATTRIBUTE_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_ATTRIBUTES = 30
MAX_IMAGES = 10


def _locale_key(value: str) -> None:
    if value not in current_app.config["SUPPORTED_LOCALES"]:
        raise ma.ValidationError(f"Unsupported locale {value!r}; use one of "
                                 f"{', '.join(current_app.config['SUPPORTED_LOCALES'])}.")


#: Signed 64-bit: the integers an attribute may hold, kept exact through JSON storage and search.
ATTRIBUTE_INT_MIN, ATTRIBUTE_INT_MAX = -(2**63), 2**63 - 1


def _hs_code(value: str) -> None:
    if not (value.isascii() and value.isdigit()):
        raise ma.ValidationError("An HS code has exactly 6 ASCII digits, e.g. 090230.")
    problem = hs_code_problem(value)
    if problem:
        raise ma.ValidationError(problem)


def _https_url(value: str) -> None:
    problem = url_problem(value, ("https",))
    if problem:
        raise ma.ValidationError(f"Images must be https URLs with a host: {problem}")


TITLE_MAX, DESCRIPTION_MAX = 200, 5000


class TranslationSchema(BaseSchema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=TITLE_MAX))
    description = fields.String(load_default="", validate=validate.Length(max=DESCRIPTION_MAX))


def _plain_translations(value: Any) -> dict[str, dict[str, str]] | None:
    """`value` loaded, if every entry is a supported locale with a plain valid {title, description}; else None."""
    if not isinstance(value, dict):
        return None
    locales = current_app.config["SUPPORTED_LOCALES"]
    loaded = {}
    for locale, text in value.items():
        if locale not in locales or not isinstance(text, dict) or not text.keys() <= {"title", "description"}:
            return None
        title, description = text.get("title"), text.get("description", "")
        if not (isinstance(title, str) and 1 <= len(title) <= TITLE_MAX
                and isinstance(description, str) and len(description) <= DESCRIPTION_MAX):
            return None
        loaded[locale] = {"title": title, "description": description}
    return loaded


class Translations(fields.Dict):
    """Locale -> TranslationSchema (at least one). Maps whose entries are all plainly valid, the bulk of a
    partner sync, load without a nested schema load per entry; anything else goes through the schema,
    whose messages name each problem."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(keys=fields.String(validate=_locale_key), values=fields.Nested(TranslationSchema), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        loaded = _plain_translations(value)
        return loaded if loaded is not None else super()._deserialize(value, attr, data, **kwargs)


def attribute_problem(item: Any) -> str | None:
    """What is wrong with an attribute value (None: nothing). Integers stay exact: only signed 64-bit ones."""
    if isinstance(item, bool):
        return None
    if isinstance(item, int):
        if not ATTRIBUTE_INT_MIN <= item <= ATTRIBUTE_INT_MAX:
            return f"Integers must fit in 64 bits ({ATTRIBUTE_INT_MIN} to {ATTRIBUTE_INT_MAX})."
        return None
    if isinstance(item, str) and len(item) <= 200:
        return None
    return "Must be a string (up to 200 characters), an integer or a boolean; not a decimal number."


class Attributes(fields.Dict):
    """A flat map of simple values: strings, integers (signed 64-bit, kept exact), booleans. A problem is
    named by its attribute (`attributes.weight_g`) as well as by the map."""

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if len(result) > MAX_ATTRIBUTES:
            raise ma.ValidationError(f"At most {MAX_ATTRIBUTES} attributes.")
        errors = {}
        for key, item in result.items():
            if not ATTRIBUTE_KEY.match(key):
                raise ma.ValidationError(f"Attribute name {key!r} must be lower-case snake_case, up to 40 characters.")
            problem = attribute_problem(item)
            if problem:
                errors[key] = [problem]
        if errors:  # the map as a whole ("attributes") and each attribute ("attributes.weight_g")
            raise ma.ValidationError({"_schema": [f"Invalid attributes: {', '.join(sorted(errors))}."], **errors})
        return result


def _sku(**kwargs: Any) -> fields.String:
    return fields.String(validate=[validate.Length(min=1, max=64),
                                   validate.Regexp(r"^[A-Za-z0-9._\-/]+$", error="Letters, digits and . _ - / only.")],
                         **kwargs)


def _customs_description(value: str) -> None:
    problem = customs_description_problem(value)
    if problem:
        raise ma.ValidationError(problem)


class DimensionsSchema(BaseSchema):
    """Packed dimensions in millimetres."""

    length_mm = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5000))
    width_mm = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5000))
    height_mm = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5000))


class CustomsSchema(BaseSchema):
    description = fields.String(required=True, validate=[validate.Length(min=3, max=200), _customs_description],
                                metadata={"description": "Plain words for a customs declaration, e.g. "
                                                         "\"black tea, loose leaf\" (never \"gift\" or \"goods\").",
                                          "example": "Pu'er tea, compressed cake"})


WEIGHT_G = {"strict": True, "validate": validate.Range(min=1, max=1_000_000),
            "metadata": {"description": "Shipping weight in grams (needed to ship the product).", "example": 380}}


class ProductCreateSchema(BaseSchema):
    sku = _sku(required=True)
    translations = Translations(required=True, validate=validate.Length(min=1, max=9),
                                metadata={"description": "Locale -> {title, description}; at least one."})
    original_locale = fields.String(validate=_locale_key,
                                    metadata={"description": "Defaults to the first locale in translations."})
    price = MoneyField(required=True)
    stock = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=1_000_000_000))
    category = fields.String(required=True, validate=validate.Length(min=1, max=64), metadata={"example": "tea"})
    hs_code = fields.String(required=True, validate=_hs_code, metadata={"example": "090230"})
    attributes = Attributes(keys=fields.String(), load_default=dict)
    images = fields.List(fields.String(validate=_https_url), load_default=list,
                         validate=validate.Length(max=MAX_IMAGES))
    status = fields.String(load_default=ProductStatus.DRAFT.value,
                           validate=validate.OneOf([s.value for s in ProductStatus]))
    origin_country = fields.String(validate=country_code, metadata={
        "description": "Where the goods were made: a BRICS member's ISO code (default: the vendor's country).",
        "example": "ET"})
    weight_g = fields.Integer(**WEIGHT_G)
    dimensions = fields.Nested(DimensionsSchema)
    customs = fields.Nested(CustomsSchema)

    @ma.validates_schema
    def original_locale_is_translated(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "original_locale" in data and "translations" in data and data["original_locale"] not in data["translations"]:
            raise ma.ValidationError("original_locale must be one of the translations' locales.", "original_locale")


class ProductUpdateSchema(BaseSchema):
    """Only the fields sent change. `translations` merges: a locale set to null is removed."""

    translations = fields.Dict(keys=fields.String(validate=_locale_key),
                               values=fields.Nested(TranslationSchema, allow_none=True),
                               validate=validate.Length(min=1, max=9))
    original_locale = fields.String(validate=_locale_key)
    sku = _sku()
    price = fields.Nested(MoneySchema)
    stock = fields.Integer(strict=True, validate=validate.Range(min=0, max=1_000_000_000))
    category = fields.String(validate=validate.Length(min=1, max=64))
    hs_code = fields.String(validate=_hs_code)
    attributes = Attributes(keys=fields.String())
    images = fields.List(fields.String(validate=_https_url), validate=validate.Length(max=MAX_IMAGES))
    status = fields.String(validate=validate.OneOf([s.value for s in ProductStatus]))
    origin_country = fields.String(validate=country_code, metadata={"description": "A BRICS member's ISO code."})
    weight_g = fields.Integer(allow_none=True, **WEIGHT_G)
    dimensions = fields.Nested(DimensionsSchema, allow_none=True)
    customs = fields.Nested(CustomsSchema, allow_none=True)


class VendorRefSchema(BaseSchema):
    id = fields.Integer()
    display_name = fields.String()
    country = fields.String()


class CampaignRefSchema(BaseSchema):
    slug = fields.String()
    name = fields.String()
    ends_at = fields.DateTime()
