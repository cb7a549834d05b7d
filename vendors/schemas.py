from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app
from marshmallow import fields, validate

from marketplace.kernel.i18n import country_name, current_locale
from marketplace.kernel.schemas import BaseSchema, MoneySchema, PageArgs, PageSchema, country_code
from vendors import disclosures
from vendors.models import Vendor, VendorStatus
from vendors.msme import SECTORS


def _locale_key(value: str) -> None:
    if value not in current_app.config["SUPPORTED_LOCALES"]:
        raise ma.ValidationError(f"Unsupported locale {value!r}.")


def _phone(**kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(min=3, max=32), metadata={"example": "+91 98765 43210"}, **kwargs)


class WholePart(fields.Nested):
    """A disclosure is replaced whole when sent, so its required fields stay required in a PATCH (a partial
    load of the vendor is not a partial load of the part)."""

    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        return super()._deserialize(value, attr, data, partial=False, **kwargs)


class VendorAddressSchema(BaseSchema):
    """The seller's geographic address (India's E-Commerce Rules 2020, rule 5(3)(a))."""

    line1 = fields.String(required=True, validate=validate.Length(min=1, max=200))
    line2 = fields.String(validate=validate.Length(max=200))
    city = fields.String(required=True, validate=validate.Length(min=1, max=100))
    region = fields.String(validate=validate.Length(max=100))
    postal_code = fields.String(required=True, validate=[
        validate.Length(min=2, max=16),
        validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9 -]*$", error="Letters, digits, spaces and hyphens only.")])
    country = fields.String(required=True, validate=country_code, metadata={"example": "IN"})


class CustomerCareSchema(BaseSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    phone = _phone()


class GrievanceOfficerSchema(BaseSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True, validate=validate.Length(max=254))
    phone = _phone()


class ReturnPolicySchema(BaseSchema):
    window_days = fields.Integer(load_default=disclosures.DEFAULT_RETURN_WINDOW_DAYS, strict=True,
                                 validate=validate.Range(min=1, max=365),
                                 metadata={"description": "Days after delivery a return may be asked for."})
    conditions = fields.Dict(keys=fields.String(validate=_locale_key),
                             values=fields.String(validate=validate.Length(min=1, max=2000)),
                             metadata={"description": "Locale -> the conditions of a return, in words."})


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
    # seller disclosures: public, required before approval; each part is replaced whole when sent
    address = WholePart(VendorAddressSchema)
    customer_care = WholePart(CustomerCareSchema)
    grievance_officer = WholePart(GrievanceOfficerSchema)
    return_policy = WholePart(ReturnPolicySchema)

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
    address = fields.Nested(VendorAddressSchema, allow_none=True)
    customer_care = fields.Nested(CustomerCareSchema, allow_none=True)
    grievance_officer = fields.Nested(GrievanceOfficerSchema, allow_none=True)
    return_policy = fields.Method("get_return_policy", metadata={
        "description": "{window_days, conditions}; 14 days and no conditions unless the vendor states otherwise."})
    # private
    disclosures_missing = fields.Method("get_disclosures_missing", metadata={
        "description": "The disclosures still to complete before the vendor can be approved."})
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

    def get_return_policy(self, obj: Any) -> dict[str, Any]:
        return obj["return_policy"] if isinstance(obj, dict) else disclosures.return_policy(obj)

    def get_disclosures_missing(self, obj: Any) -> list[str]:
        if isinstance(obj, dict):  # the public view: not shown
            return obj.get("disclosures_missing", ma.missing)
        return disclosures.missing_disclosures(obj)

    def get_country_name(self, obj: Any) -> str:
        country = obj["country"] if isinstance(obj, dict) else obj.country
        return country_name(country, current_locale())


PUBLIC_FIELDS = ("id", "display_name", "legal_name", "country", "sector", "msme_class", "msme_rule",
                 "msme_subtype", "currency", "description", "status", "created_at", "address", "customer_care",
                 "grievance_officer")


def vendor_view(vendor: Vendor, private: bool) -> Vendor | dict[str, Any]:
    """What a caller may see: the whole vendor, or only its public fields (with its seller disclosures)."""
    if private:
        return vendor
    return {**{name: getattr(vendor, name) for name in PUBLIC_FIELDS},
            "return_policy": disclosures.return_policy(vendor)}


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




SERVICE_NAME = validate.Regexp(r"^[a-z][a-z0-9_]{0,31}$", error="A lower-case name such as standard or express.")


class ShippingRateSchema(BaseSchema):
    service = fields.String(required=True, validate=SERVICE_NAME, metadata={"example": "standard"})
    price = fields.Nested(MoneySchema, metadata={"description": "A flat price per parcel (or base + per_kg)."})
    base = fields.Nested(MoneySchema, metadata={"description": "With per_kg: the parcel's fixed part."})
    per_kg = fields.Nested(MoneySchema, metadata={"description": "With base: the price per kilogram of the parcel."})
    min_days = fields.Integer(required=True, validate=validate.Range(min=0, max=120))
    max_days = fields.Integer(required=True, validate=validate.Range(min=0, max=120))
    free_above = fields.Nested(MoneySchema, metadata={"description": "Free when the goods reach this value."})


class ShippingZoneSchema(BaseSchema):
    countries = fields.List(fields.String(validate=country_code), required=True,
                            validate=validate.Length(min=1, max=60))
    rates = fields.List(fields.Nested(ShippingRateSchema), required=True, validate=validate.Length(min=1, max=6))


class ShippingProfileInSchema(BaseSchema):
    zones = fields.List(fields.Nested(ShippingZoneSchema), required=True, validate=validate.Length(min=1, max=20))


class ShippingProfileSchema(ShippingProfileInSchema):
    vendor_id = fields.Integer(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
