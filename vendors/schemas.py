from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app
from marshmallow import fields, validate

from marketplace.kernel.i18n import country_name, current_locale
from marketplace.kernel.schemas import BaseSchema, MoneySchema, PageArgs, PageSchema
from vendors.models import Vendor, VendorStatus
from vendors.msme import SECTORS


def _locale_key(value: str) -> None:
    if value not in current_app.config["SUPPORTED_LOCALES"]:
        raise ma.ValidationError(f"Unsupported locale {value!r}.")


class VendorCreateSchema(BaseSchema):
    legal_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    country = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z]{2}$", error="Use an ISO 3166 alpha-2 code."),
                            metadata={"example": "IN"})
    tax_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    contact_email = fields.Email(required=True, validate=validate.Length(max=254))
    phone = fields.String(required=True, validate=validate.Length(min=3, max=32), metadata={"example": "+91 98765 43210"})
    sector = fields.String(required=True, validate=validate.OneOf(SECTORS))
    employees = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=10_000_000))
    annual_turnover = fields.Nested(MoneySchema, required=True)
    investment = fields.Nested(MoneySchema, allow_none=True,
                               metadata={"description": "Plant, machinery and equipment (India's Udyam rule needs it)."})
    description = fields.Dict(keys=fields.String(validate=_locale_key), values=fields.String(validate=validate.Length(max=5000)),
                              metadata={"description": "Locale -> text."})
    stripe_account_id = fields.String(allow_none=True, validate=validate.Regexp(
        r"^acct_[A-Za-z0-9]{1,60}$", error="A Stripe Connect account id looks like acct_1Abc..."),
        metadata={"description": "Stripe Connect account that receives payouts (optional)."})

    @ma.post_load
    def normalize(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if "country" in data:
            data["country"] = data["country"].upper()
        return data


class VendorUpdateSchema(VendorCreateSchema):
    """Every field optional; only the fields sent change."""


class StatusChangeSchema(BaseSchema):
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    reason = fields.String(allow_none=True)
    actor_id = fields.Integer(allow_none=True)
    at = fields.DateTime()


class VendorSchema(BaseSchema):
    """Public fields always; the private ones only for the owner and admins."""

    id = fields.Integer()
    display_name = fields.String()
    legal_name = fields.String()
    country = fields.String()
    country_name = fields.Method("get_country_name")
    sector = fields.String()
    msme_class = fields.String()
    msme_rule = fields.String()
    msme_subtype = fields.String(allow_none=True)
    currency = fields.String()
    description = fields.Dict(keys=fields.String(), values=fields.String())
    status = fields.String()
    created_at = fields.DateTime()
    # private
    tax_id = fields.String()
    tax_id_type = fields.String()
    contact_email = fields.String()
    phone = fields.String()
    employees = fields.Integer()
    annual_turnover = fields.Nested(MoneySchema)
    investment = fields.Nested(MoneySchema, allow_none=True)
    status_reason = fields.String(allow_none=True)
    stripe_account_id = fields.String(allow_none=True, metadata={
        "description": "The reviewed payout account (payouts go here only while the vendor is approved)."})
    pending_stripe_account_id = fields.String(allow_none=True, metadata={
        "description": "A new payout account waiting for review; it replaces stripe_account_id on approval."})
    updated_at = fields.DateTime()
    history = fields.List(fields.Nested(StatusChangeSchema))

    def get_country_name(self, obj: Any) -> str:
        country = obj["country"] if isinstance(obj, dict) else obj.country
        return country_name(country, current_locale())


PUBLIC_FIELDS = ("id", "display_name", "legal_name", "country", "sector", "msme_class", "msme_rule",
                 "msme_subtype", "currency", "description", "status", "created_at")


def vendor_view(vendor: Vendor, private: bool) -> Vendor | dict[str, Any]:
    """What a caller may see: the whole vendor, or only its public fields."""
    return vendor if private else {name: getattr(vendor, name) for name in PUBLIC_FIELDS}


class VendorPageSchema(PageSchema):
    items = fields.List(fields.Nested(VendorSchema), required=True)


class VendorQueueArgs(PageArgs):
    status = fields.String(validate=validate.OneOf([s.value for s in VendorStatus]))


class ReasonSchema(BaseSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class OptionalReasonSchema(BaseSchema):
    reason = fields.String(validate=validate.Length(max=2000))


class HistorySchema(BaseSchema):
    items = fields.List(fields.Nested(StatusChangeSchema), required=True)


