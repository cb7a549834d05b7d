"""The shapes the storefront serves: a product as the shopper sees it, pages of them, search and its
facets, campaign product pages, the category tree, suggestions. (The product write shapes stay with
catalog in `catalog.schemas`, with the vendor and campaign references checkout also shows.)"""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from catalog.models import ProductStatus
from catalog.rules import SORTS
from catalog.schemas import CampaignRefSchema, CustomsSchema, DimensionsSchema, TranslationSchema, VendorRefSchema
from marketplace.kernel.schemas import (
    BaseSchema,
    DecimalString,
    LocaleArgs,
    MoneySchema,
    PageArgs,
    PageSchema,
    country_code,
    supported_currency,
)


class CategoryRefSchema(BaseSchema):
    slug = fields.String()
    name = fields.String()
    path = fields.List(fields.String())


class RatingSchema(BaseSchema):
    average = fields.String(allow_none=True, metadata={"description": "The published reviews' average, one decimal "
                                                                      "(half up), e.g. \"4.5\"; null when none."})
    count = fields.Integer(metadata={"description": "How many published reviews."})


class ProductSchema(BaseSchema):
    """A product as the shopper sees it, localized and priced in the asked currency."""

    id = fields.Integer()
    sku = fields.String()
    locale = fields.String(metadata={"description": "The locale title and description are in."})
    title = fields.String()
    description = fields.String()
    original_locale = fields.String()
    translations = fields.Dict(keys=fields.String(), values=fields.Nested(TranslationSchema))
    price = fields.Nested(MoneySchema)
    list_price = fields.Nested(MoneySchema)
    original_price = fields.Nested(MoneySchema)
    campaign = fields.Nested(CampaignRefSchema, allow_none=True)
    rating = fields.Nested(RatingSchema)
    vendor = fields.Nested(VendorRefSchema)
    origin_country = fields.String()
    category = fields.Nested(CategoryRefSchema)
    hs_code = fields.String()
    weight_g = fields.Integer(allow_none=True, metadata={"description": "Shipping weight in grams."})
    dimensions = fields.Nested(DimensionsSchema, allow_none=True)
    customs = fields.Nested(CustomsSchema, allow_none=True)
    attributes = fields.Dict(keys=fields.String())
    images = fields.List(fields.String())
    stock = fields.Integer()
    in_stock = fields.Boolean()
    status = fields.String()
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ProductPageSchema(PageSchema):
    items = fields.List(fields.Nested(ProductSchema), required=True)


SLUG_PATTERN = validate.Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", error="A slug: lower-case letters, digits, dashes.")


class SearchArgs(PageArgs):
    q = fields.String(load_default="", validate=validate.Length(max=200))
    currency = fields.String(validate=supported_currency)
    origin_country = fields.List(fields.String(validate=country_code), validate=validate.Length(max=10))
    category = fields.String(validate=[validate.Length(max=64), SLUG_PATTERN])
    vendor = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    price_min = DecimalString(validate=validate.Range(min=0, max=10**12))
    price_max = DecimalString(validate=validate.Range(min=0, max=10**12))
    in_stock = fields.Boolean()
    campaign = fields.String(validate=[validate.Length(max=64), SLUG_PATTERN])
    sort = fields.String(load_default="relevance", validate=validate.OneOf(SORTS))

    @ma.validates_schema
    def price_range(self, data: dict[str, Any], **kwargs: Any) -> None:
        low, high = data.get("price_min"), data.get("price_max")
        if low is not None and high is not None and low > high:
            message = "price_min must not be above price_max."
            raise ma.ValidationError({"price_min": [message], "price_max": [message]})


class FacetSchema(BaseSchema):
    value = fields.Raw(required=True)
    label = fields.String()
    count = fields.Integer(required=True)


class PriceFacetSchema(BaseSchema):
    from_ = DecimalString(data_key="from", attribute="from", allow_none=True)
    to = DecimalString(allow_none=True)
    currency = fields.String()
    count = fields.Integer(required=True)


class FacetsSchema(BaseSchema):
    origin_country = fields.List(fields.Nested(FacetSchema))
    category = fields.List(fields.Nested(FacetSchema))
    vendor = fields.List(fields.Nested(FacetSchema))
    price = fields.List(fields.Nested(PriceFacetSchema))


class SearchResultSchema(ProductPageSchema):
    facets = fields.Nested(FacetsSchema, required=True)

class ViewArgs(LocaleArgs):
    currency = fields.String(validate=supported_currency,
                             metadata={"description": "Currency to show prices in (default: the base currency)."})


class VendorProductsArgs(PageArgs):
    currency = fields.String(validate=supported_currency)
    status = fields.String(validate=validate.OneOf([s.value for s in ProductStatus]),
                           metadata={"description": "Owner and admins only; the public sees active products."})


class CategorySchema(BaseSchema):
    slug = fields.String()
    name = fields.String()
    parent = fields.String(allow_none=True)
    children = fields.List(fields.Nested(lambda: CategorySchema()))


class CategoryTreeSchema(BaseSchema):
    items = fields.List(fields.Nested(CategorySchema), required=True)


class SuggestArgs(LocaleArgs):
    q = fields.String(required=True, validate=validate.Length(min=1, max=100))
    limit = fields.Integer(load_default=8, validate=validate.Range(min=1, max=20))


class SuggestSchema(BaseSchema):
    suggestions = fields.List(fields.String(), required=True)


class CampaignProductsArgs(SearchArgs):
    """Search's arguments for one campaign's products (the campaign is in the path)."""

    class Meta(SearchArgs.Meta):
        exclude = ("campaign",)
