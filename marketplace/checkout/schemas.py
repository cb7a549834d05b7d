from __future__ import annotations

from marshmallow import fields, validate

from catalog.schemas import CampaignRefSchema, VendorRefSchema
from marketplace.checkout.models import VendorOrderStatus
from marketplace.kernel.schemas import (
    BaseSchema,
    LocaleArgs,
    MoneySchema,
    PageArgs,
    PageSchema,
    country_code,
    supported_currency,
)


class CartItemCreateSchema(BaseSchema):
    product_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    quantity = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=1000))


class CartItemUpdateSchema(BaseSchema):
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=1000))


class CurrencyArgs(LocaleArgs):
    currency = fields.String(validate=supported_currency,
                             metadata={"description": "Currency to price the cart in (default: the base currency)."})


class CartLineSchema(BaseSchema):
    id = fields.Integer()
    product_id = fields.Integer()
    sku = fields.String()
    title = fields.String()
    locale = fields.String()
    quantity = fields.Integer()
    available_stock = fields.Integer()
    unit_price = fields.Nested(MoneySchema)
    list_price = fields.Nested(MoneySchema)
    line_total = fields.Nested(MoneySchema)
    campaign = fields.Nested(CampaignRefSchema, allow_none=True)
    problems = fields.List(fields.String(), metadata={"description": "unavailable, insufficient_stock, ..."})
    notes = fields.List(fields.String(), metadata={
        "description": "Why the festival price does not apply: campaign_budget_exhausted, campaign_stock_cap_reached, "
                       "campaign_customer_limit_reached."})


class CartGroupSchema(BaseSchema):
    vendor = fields.Nested(VendorRefSchema)
    lines = fields.List(fields.Nested(CartLineSchema))
    subtotal = fields.Nested(MoneySchema)


class CartSchema(BaseSchema):
    currency = fields.String()
    groups = fields.List(fields.Nested(CartGroupSchema))
    total = fields.Nested(MoneySchema, metadata={"description": "Lines without problems only."})
    item_count = fields.Integer()
    has_problems = fields.Boolean()


class AddressSchema(BaseSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    line1 = fields.String(required=True, validate=validate.Length(min=1, max=200))
    line2 = fields.String(validate=validate.Length(max=200))
    city = fields.String(required=True, validate=validate.Length(min=1, max=100))
    region = fields.String(validate=validate.Length(max=100))
    postal_code = fields.String(required=True, validate=validate.Length(min=1, max=20))
    country = fields.String(required=True, validate=country_code)


class CheckoutSchema(BaseSchema):
    currency = fields.String(required=True, validate=supported_currency)
    shipping_address = fields.Nested(AddressSchema, required=True)
    email = fields.Email(validate=validate.Length(max=254))
    shipping = fields.Dict(keys=fields.String(validate=validate.Regexp(r"^[1-9][0-9]{0,9}$")),
                           values=fields.String(validate=validate.Length(min=1, max=32)),
                           validate=validate.Length(max=50),
                           metadata={"description": "Vendor id -> shipping service (default: the cheapest)."})


class RateUsedSchema(BaseSchema):
    from_ = fields.String(data_key="from", attribute="from")
    to = fields.String()
    rate = fields.String()
    source = fields.String()
    as_of = fields.String(allow_none=True)


class LineCampaignSchema(BaseSchema):
    slug = fields.String()
    name = fields.String()
    ends_at = fields.String()
    discount_per_unit = fields.String(metadata={"description": "In the order's currency."})


class OrderLineSchema(BaseSchema):
    id = fields.Integer()
    vendor_order_id = fields.Integer()
    product_id = fields.Integer(allow_none=True)
    sku = fields.String()
    title = fields.String()
    quantity = fields.Integer()
    unit_price = fields.Nested(MoneySchema)
    list_price = fields.Nested(MoneySchema)
    line_total = fields.Nested(MoneySchema)
    original_price = fields.Nested(MoneySchema)
    rate = fields.String(metadata={"description": "Original currency -> order currency."})
    rate_source = fields.String()
    rate_as_of = fields.String(allow_none=True)
    campaign = fields.Nested(LineCampaignSchema, allow_none=True)
    origin_country = fields.String(allow_none=True, metadata={"description": "Where the goods were made, as at "
                                                                             "checkout."})


class RuleRefSchema(BaseSchema):
    id = fields.String()
    effective_from = fields.String()
    source = fields.String()


class DutyChargeSchema(BaseSchema):
    kind = fields.String(metadata={"description": "import_duty, import_vat, consumption_tax, icms, duty_estimate, "
                                                  "tax_estimate"})
    base = fields.Nested(MoneySchema)
    rate = fields.Decimal(as_string=True)
    deduction = fields.Nested(MoneySchema, allow_none=True)
    amount = fields.Nested(MoneySchema)
    rule = fields.Nested(RuleRefSchema)


class DeliveryEstimateSchema(BaseSchema):
    min_days = fields.Integer()
    max_days = fields.Integer()


class VendorOrderSchema(BaseSchema):
    id = fields.Integer()
    order_id = fields.Integer()
    vendor_id = fields.Integer()
    status = fields.String()
    subtotal = fields.Nested(MoneySchema, metadata={"description": "In the shopper's currency."})
    refunded = fields.Nested(MoneySchema)
    vendor_subtotal = fields.Nested(MoneySchema, metadata={"description": "In the vendor's currency."})
    commission_rate = fields.String()
    commission = fields.Nested(MoneySchema)
    net = fields.Nested(MoneySchema, metadata={
        "description": "What the vendor is paid: subtotal - commission + shipping (in the vendor's currency)."})
    rate = fields.String(metadata={"description": "Order currency -> vendor currency."})
    rate_source = fields.String()
    rate_as_of = fields.String(allow_none=True)
    carrier = fields.String(allow_none=True)
    tracking_number = fields.String(allow_none=True)
    shipped_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    shipping_service = fields.String(allow_none=True)
    shipping = fields.Nested(MoneySchema, metadata={"description": "What the shopper paid for shipping."})
    delivery = fields.Nested(DeliveryEstimateSchema, allow_none=True)
    customs_value = fields.Nested(MoneySchema, allow_none=True)
    duties_and_taxes = fields.List(fields.Nested(DutyChargeSchema))
    incoterm = fields.String(allow_none=True, metadata={
        "description": "DDP: duties collected at checkout; DAP: an estimate paid on delivery; null: domestic."})
    duties_collected = fields.Nested(MoneySchema)
    duties_estimate = fields.Nested(MoneySchema, allow_none=True)
    total = fields.Nested(MoneySchema, metadata={"description": "subtotal + shipping + duties collected."})
    lines = fields.List(fields.Nested(OrderLineSchema))


class VendorOrderSummarySchema(VendorOrderSchema):
    class Meta(BaseSchema.Meta):
        exclude = ("lines",)


class PaymentSchema(BaseSchema):
    provider = fields.String()
    status = fields.String()
    amount = fields.Nested(MoneySchema, attribute="money")
    client_secret = fields.String(allow_none=True, metadata={"description": "For Stripe.js / mobile SDKs."})
    failure_reason = fields.String(allow_none=True)


class RefundPartsSchema(BaseSchema):
    goods = fields.Nested(MoneySchema)
    shipping = fields.Nested(MoneySchema)
    duties_and_taxes = fields.Nested(MoneySchema)


class RefundSchema(BaseSchema):
    id = fields.Integer()
    order_id = fields.Integer()
    vendor_order_id = fields.Integer(allow_none=True)
    amount = fields.Nested(MoneySchema, attribute="money")
    parts = fields.Nested(RefundPartsSchema, attribute="shown_parts", allow_none=True, metadata={
        "description": "What the refund gives back of goods, shipping, and duties and taxes."})
    status = fields.String()
    reason = fields.String(allow_none=True)
    created_at = fields.DateTime()


class OrderSchema(BaseSchema):
    id = fields.Integer()
    status = fields.String()
    currency = fields.String()
    goods = fields.Nested(MoneySchema, metadata={"description": "The lines' total."})
    shipping = fields.Nested(MoneySchema)
    duties_and_taxes = fields.Nested(MoneySchema, metadata={"description": "Collected at checkout (DDP)."})
    total = fields.Nested(MoneySchema, metadata={"description": "goods + shipping + duties and taxes."})
    refunded = fields.Nested(MoneySchema)
    email = fields.String(allow_none=True)
    shipping_address = fields.Nested(AddressSchema)
    rates = fields.List(fields.Nested(RateUsedSchema))
    payment_provider = fields.String()
    failure_reason = fields.String(allow_none=True)
    reserved_until = fields.DateTime()
    created_at = fields.DateTime()
    paid_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    lines = fields.List(fields.Nested(OrderLineSchema))
    vendor_orders = fields.List(fields.Nested(VendorOrderSummarySchema))
    payment = fields.Nested(PaymentSchema, allow_none=True)
    refunds = fields.List(fields.Nested(RefundSchema))


class CheckoutResultSchema(BaseSchema):
    order = fields.Nested(OrderSchema)
    payment = fields.Nested(PaymentSchema)


class OrderPageSchema(PageSchema):
    items = fields.List(fields.Nested(OrderSchema), required=True)


class VendorOrderArgs(PageArgs):
    status = fields.String(validate=validate.OneOf([s.value for s in VendorOrderStatus]))


class VendorOrderPageSchema(PageSchema):
    items = fields.List(fields.Nested(VendorOrderSchema), required=True)


class ShipSchema(BaseSchema):
    carrier = fields.String(required=True, validate=validate.Length(min=1, max=64))
    tracking_number = fields.String(required=True, validate=validate.Length(min=1, max=64))


class RefundRequestSchema(BaseSchema):
    vendor_order_id = fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    amount = fields.Nested(MoneySchema, metadata={"description": "Default: all that is left to refund."})
    reason = fields.String(validate=validate.Length(max=500))


class PayoutEntrySchema(BaseSchema):
    id = fields.Integer()
    vendor_order_id = fields.Integer()
    kind = fields.String()
    reference = fields.String()
    amount = fields.Nested(MoneySchema, attribute="money")
    status = fields.String()
    transfer_ref = fields.String(allow_none=True)
    created_at = fields.DateTime()


class PayoutPageSchema(PageSchema):
    items = fields.List(fields.Nested(PayoutEntrySchema), required=True)
    balances = fields.List(fields.Nested(MoneySchema), required=True)


class WebhookAckSchema(BaseSchema):
    result = fields.String(required=True)


# -- landed cost ----------------------------------------------------------------

class CartArgs(CurrencyArgs):
    country = fields.String(validate=country_code, metadata={
        "description": "Show each vendor's shipping options to this country (the shipping address's)."})


class ShippingOptionSchema(BaseSchema):
    service = fields.String()
    price = fields.Nested(MoneySchema)
    min_days = fields.Integer()
    max_days = fields.Integer()
    free = fields.Boolean(metadata={"description": "The vendor's free-shipping threshold was reached."})


class CartGroupShippingSchema(CartGroupSchema):
    shipping_options = fields.List(fields.Nested(ShippingOptionSchema))
    shipping = fields.Nested(ShippingOptionSchema, allow_none=True, metadata={
        "description": "The option checkout takes unless told otherwise: the cheapest."})
    shipping_problems = fields.List(fields.String(), metadata={
        "description": "does_not_ship_to_country, weight_missing"})


class CartWithShippingSchema(CartSchema):
    groups = fields.List(fields.Nested(CartGroupShippingSchema))
    shipping_country = fields.String()


class QuoteRequestSchema(CheckoutSchema):
    """The checkout's body: the quote is what checkout would charge for it."""


class VendorQuoteSchema(BaseSchema):
    vendor_id = fields.Integer()
    vendor = fields.Nested(VendorRefSchema)
    goods = fields.Nested(MoneySchema)
    shipping = fields.Nested(MoneySchema)
    shipping_service = fields.String()
    delivery = fields.Nested(DeliveryEstimateSchema)
    shipping_options = fields.List(fields.Nested(ShippingOptionSchema))
    customs_value = fields.Nested(MoneySchema, allow_none=True)
    duties_and_taxes = fields.List(fields.Nested(DutyChargeSchema))
    incoterm = fields.String(allow_none=True, metadata={
        "description": "DDP: collected now (in the total); DAP: an estimate paid on delivery; null: domestic."})
    duties_collected = fields.Nested(MoneySchema)
    duties_estimate = fields.Nested(MoneySchema, allow_none=True)
    total = fields.Nested(MoneySchema, metadata={"description": "goods + shipping + duties collected (DDP)."})


class QuoteSchema(BaseSchema):
    currency = fields.String()
    shipping_country = fields.String()
    vendor_orders = fields.List(fields.Nested(VendorQuoteSchema))
    total = fields.Nested(MoneySchema)


# -- customs declaration --------------------------------------------------------

class DeclarationArgs(BaseSchema):
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "pdf"]),
                           metadata={"description": "json (default) or pdf, the printable form."})


class DeclarationPartySchema(BaseSchema):
    name = fields.String()
    address = fields.Dict(allow_none=True)
    country = fields.String()


class DeclarationRecipientSchema(BaseSchema):
    name = fields.String()
    line1 = fields.String()
    line2 = fields.String(allow_none=True)
    city = fields.String()
    region = fields.String(allow_none=True)
    postal_code = fields.String()
    country = fields.String()


class DeclarationItemSchema(BaseSchema):
    description = fields.String()
    quantity = fields.Integer()
    net_weight_g = fields.Integer(allow_none=True)
    value = fields.Nested(MoneySchema)
    hs_code = fields.String(allow_none=True)
    origin_country = fields.String()


class DeclarationTotalsSchema(BaseSchema):
    value = fields.Nested(MoneySchema)
    quantity = fields.Integer()
    net_weight_g = fields.Integer(allow_none=True)


class DeclarationSchema(BaseSchema):
    form = fields.String(metadata={"description": "CN22 (contents up to 300 SDR) or CN23 (above)."})
    vendor_order_id = fields.Integer()
    order_id = fields.Integer()
    invoice_number = fields.String()
    category = fields.String(metadata={"example": "sale_of_goods"})
    incoterm = fields.String(allow_none=True)
    currency = fields.String()
    sender = fields.Nested(DeclarationPartySchema)
    recipient = fields.Nested(DeclarationRecipientSchema)
    items = fields.List(fields.Nested(DeclarationItemSchema))
    totals = fields.Nested(DeclarationTotalsSchema)
    postage = fields.Nested(MoneySchema)
    incomplete = fields.List(fields.String(), metadata={
        "description": "What the products did not say at checkout (net_weight_g, description)."})


class QuotaArgs(BaseSchema):
    year = fields.Integer(validate=validate.Range(min=2019, max=2100),
                          metadata={"description": "Calendar year (default: this year)."})


class CbecQuotaSchema(BaseSchema):
    year = fields.Integer()
    limit = fields.Nested(MoneySchema)
    used = fields.Nested(MoneySchema)
    remaining = fields.Nested(MoneySchema)
    rule = fields.Nested(RuleRefSchema)
