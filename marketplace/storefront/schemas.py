"""The shapes the storefront serves that only it uses: how a product or a vendor's products are viewed,
the category tree, search suggestions. (The product view and search result shapes, which campaign pages
share, and the product write shapes stay with catalog in `catalog.schemas`.)"""
from __future__ import annotations

from marshmallow import fields, validate

from catalog.models import ProductStatus
from marketplace.kernel.schemas import BaseSchema, LocaleArgs, PageArgs, supported_currency


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
