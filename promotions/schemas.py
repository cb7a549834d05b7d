from __future__ import annotations

from decimal import Decimal
from typing import Any

import marshmallow as ma
from flask import current_app
from marshmallow import fields, validate

from marketplace.kernel.i18n import current_locale, is_country_code
from marketplace.kernel.money import minor_units
from marketplace.kernel.schemas import BaseSchema, DecimalString, LocaleArgs, MoneySchema, PageArgs, PageSchema, supported_currency
from promotions import rules

SLUG = validate.Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", error="Lower-case letters, digits and single dashes.")


def _locale_map(value: dict) -> None:
    unknown = [key for key in value if key not in current_app.config["SUPPORTED_LOCALES"]]
    if unknown:
        raise ma.ValidationError(f"Unsupported locales: {', '.join(unknown)}.")


class DiscountSchema(BaseSchema):
    type = fields.String(required=True, validate=validate.OneOf(["percent", "fixed"]))
    value = DecimalString(validate=validate.Range(min=0, max=100, min_inclusive=False),
                          metadata={"description": "Percent off (type percent), e.g. \"15\"."})
    amounts = fields.Dict(keys=fields.String(validate=supported_currency), values=DecimalString(),
                          validate=validate.Length(min=1, max=12),
                          metadata={"description": "Amount off per currency (type fixed); a currency without "
                                                   "its own amount is converted from the first."})

    @ma.validates_schema
    def check(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "type" not in data:  # also inside a partial update: a discount is always whole
            raise ma.ValidationError("Missing data for required field.", "type")
        if data["type"] == "percent":
            if "value" not in data:
                raise ma.ValidationError("A percent discount needs a value.", "value")
            if "amounts" in data:
                raise ma.ValidationError("A percent discount has no amounts.", "amounts")
            if data["value"] != data["value"].quantize(Decimal("0.0001")):  # the column keeps 4 places
                raise ma.ValidationError("A percentage has at most 4 decimal places.", "value")
        else:
            if not data.get("amounts"):
                raise ma.ValidationError("A fixed discount needs amounts.", "amounts")
            if "value" in data:
                raise ma.ValidationError("A fixed discount has no value.", "value")
            for currency, amount in data["amounts"].items():
                if amount <= 0 or amount >= 10**12:
                    raise ma.ValidationError(f"The {currency} amount must be positive.", "amounts")
                if amount != amount.quantize(Decimal(1).scaleb(-minor_units(currency))):
                    raise ma.ValidationError(f"{currency} amounts have at most {minor_units(currency)} "
                                             "decimal places.", "amounts")


def _known_countries(values: list[str]) -> None:
    unknown = sorted({value for value in values if not is_country_code(value)})
    if unknown:
        raise ma.ValidationError(f"Not ISO 3166 country codes: {', '.join(unknown)}.")


class EligibilitySchema(BaseSchema):
    origin_countries = fields.List(fields.String(validate=validate.Regexp(r"^[A-Z]{2}$")), load_default=list,
                                   validate=_known_countries)
    categories = fields.List(fields.String(validate=validate.Length(min=1, max=64)), load_default=list)
    msme_classes = fields.List(fields.String(validate=validate.OneOf(["micro", "small", "medium", "large"])),
                               load_default=list)
    min_price = fields.Nested(MoneySchema, allow_none=True)


class CampaignCreateSchema(BaseSchema):
    slug = fields.String(required=True, validate=[validate.Length(min=2, max=64), SLUG])
    name = fields.Dict(keys=fields.String(), values=fields.String(validate=validate.Length(min=1, max=200)),
                       required=True, validate=[validate.Length(min=1), _locale_map])
    description = fields.Dict(keys=fields.String(), values=fields.String(validate=validate.Length(max=5000)),
                              validate=_locale_map)
    starts_at = fields.AwareDateTime(required=True, format="iso")
    ends_at = fields.AwareDateTime(required=True, format="iso")
    discount = fields.Nested(DiscountSchema, required=True)
    eligibility = fields.Nested(EligibilitySchema, load_default=dict)
    budget = fields.Nested(MoneySchema, allow_none=True, metadata={"description": "Total discount it may give."})
    max_uses_per_customer = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=10**6))
    stock_cap = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=10**9),
                               metadata={"description": "Units per product sold at the festival price."})
    boost = DecimalString(validate=validate.Range(min=1, max=10), metadata={"description": "Search ranking weight."})
    requires_approval = fields.Boolean(load_default=False)

    @ma.validates_schema
    def window(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "starts_at" in data and "ends_at" in data and data["ends_at"] <= data["starts_at"]:
            raise ma.ValidationError("ends_at must be after starts_at.", "ends_at")


class CampaignUpdateSchema(CampaignCreateSchema):
    """Only the fields sent change; once live, only name, description, ends_at, budget, boost and the
    per-customer limit may change."""


class CampaignRefSchema(BaseSchema):
    slug = fields.String()
    name = fields.String()


class CampaignSchema(BaseSchema):
    id = fields.Integer()
    slug = fields.String()
    name = fields.Method("get_name")
    description = fields.Method("get_description")
    names = fields.Dict(attribute="name", keys=fields.String(), values=fields.String())
    status = fields.Method("get_status")
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    discount = fields.Method("get_discount")
    eligibility = fields.Dict()
    budget = fields.Nested(MoneySchema, allow_none=True)
    budget_spent = fields.Nested(MoneySchema, attribute="spent", allow_none=True)
    max_uses_per_customer = fields.Integer(allow_none=True)
    stock_cap = fields.Integer(allow_none=True)
    boost = fields.String()
    requires_approval = fields.Boolean()

    def get_name(self, campaign) -> str:
        return campaign.localized(campaign.name, self.context_locale())

    def get_description(self, campaign) -> str:
        return campaign.localized(campaign.description or {}, self.context_locale())

    def get_status(self, campaign) -> str:
        return campaign.status()

    def get_discount(self, campaign) -> dict:
        if campaign.discount_type == "percent":
            return {"type": "percent", "value": format(campaign.discount_percent.normalize(), "f")}  # 30, not 3E+1
        return {"type": "fixed", "amounts": {c: a for c, a in campaign.discount_amounts}}

    @staticmethod
    def context_locale() -> str:
        return current_locale()


class CampaignListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(rules.STATUSES))


class CampaignPageSchema(PageSchema):
    items = fields.List(fields.Nested(CampaignSchema), required=True)


class EnrollRequestSchema(BaseSchema):
    product_ids = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1)),
                              required=True, validate=validate.Length(min=1, max=500))


class EnrollResultSchema(BaseSchema):
    product_id = fields.Integer()
    status = fields.String(metadata={"description": "enrolled, pending_approval or rejected"})
    enrollment_id = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True, metadata={"description": "The rule that failed, e.g. origin_country."})


class EnrollResultsSchema(BaseSchema):
    results = fields.List(fields.Nested(EnrollResultSchema), required=True)


class EnrollmentSchema(BaseSchema):
    id = fields.Integer()
    campaign_id = fields.Integer()
    product_id = fields.Integer()
    vendor_id = fields.Integer()
    status = fields.String(metadata={"description": "enrolled, pending_approval, rejected, withdrawn, or removed "
                                                    "(the vendor's profile no longer meets the campaign's rules)"})
    reason = fields.String(allow_none=True, metadata={"description": "Why it was rejected or removed."})
    units_sold = fields.Integer()
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)


class EnrollmentListSchema(BaseSchema):
    items = fields.List(fields.Nested(EnrollmentSchema), required=True)


class DecisionSchema(BaseSchema):
    reason = fields.String(validate=validate.Length(max=500))


class ReportArgs(LocaleArgs):
    currency = fields.String(validate=supported_currency)
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class ReportRowSchema(BaseSchema):
    orders = fields.Integer()
    units = fields.Integer()
    gmv = fields.Nested(MoneySchema, metadata={"description": "What paid orders charged for the campaign's lines."})
    discount = fields.Nested(MoneySchema)
    refunded = fields.Nested(MoneySchema, metadata={
        "description": "The part of gmv refunded (a vendor order's refunds spread over its lines pro rata)."})
    net_gmv = fields.Nested(MoneySchema, metadata={"description": "gmv - refunded."})
    currency = fields.String()
    origin_country = fields.String()
    vendor_id = fields.Integer()
    vendor = fields.String()
    msme_class = fields.String()


class ReportSchema(BaseSchema):
    campaign = fields.Dict()
    currency = fields.String()
    totals = fields.Nested(ReportRowSchema)
    per_currency = fields.List(fields.Nested(ReportRowSchema))
    by_origin_country = fields.List(fields.Nested(ReportRowSchema))
    by_vendor = fields.List(fields.Nested(ReportRowSchema))
    msme_share = DecimalString(allow_none=True, metadata={"description": "Share of GMV from MSME vendors (0-1)."})
    budget = fields.Nested(MoneySchema, allow_none=True)
    budget_spent = fields.Nested(MoneySchema, allow_none=True)
