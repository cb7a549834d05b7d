"""The partner API's shapes. A listing is the catalog's product shape plus external_id, vendor_id, version."""
from __future__ import annotations

from datetime import UTC
from typing import Any

import marshmallow as ma
from marshmallow import fields, utils, validate

from catalog.schemas import ProductCreateSchema, TranslationSchema
from marketplace.kernel.events import TYPES as EVENT_TYPES
from marketplace.kernel.schemas import BaseSchema, MoneyField

MAX_LISTINGS_PER_REQUEST = 1000
MAX_FEED_PAGE = 1000
RESULT_STATUSES = ("created", "updated", "unchanged", "stale", "error")
ID_RANGE = validate.Range(min=1, max=2**31 - 1)


def _external_id(**kwargs: Any) -> fields.String:
    return fields.String(validate=[validate.Length(min=1, max=128),
                                   validate.Regexp(r"^[^\x00-\x1f\x7f]+$", error="No control characters.")],
                         metadata={"description": "The partner's own identifier, unique per partner."}, **kwargs)


def _version(**kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=2**63 - 1),
                          metadata={"description": "The partner's version of this listing; a lower one than "
                                                   "stored is `stale` and changes nothing."}, **kwargs)


class ItemList(fields.List):
    """A list whose items are validated one by one later (one bad item never rejects the others).

    Loading only checks the list itself (and its length); the OpenAPI document
    still shows the item schema. Their text too is checked item by item (`BaseSchema.load`)."""

    checked_later = True

    def _deserialize(self, value, attr, data, **kwargs):
        if not utils.is_collection(value):
            raise self.make_error("invalid")
        return list(value)


class ListingSchema(ProductCreateSchema):
    """One listing: the product shape (as `POST /api/v1/products`) plus the partner's keys."""

    external_id = _external_id(required=True)
    vendor_id = fields.Integer(required=True, strict=True, validate=ID_RANGE)
    version = _version()


class ListingSyncSchema(BaseSchema):
    listings = ItemList(fields.Nested(ListingSchema), required=True,
                        validate=validate.Length(min=1, max=MAX_LISTINGS_PER_REQUEST),
                        metadata={"description": f"At most {MAX_LISTINGS_PER_REQUEST}; each is validated on "
                                                 "its own."})


class ListingUpdateSchema(BaseSchema):
    external_id = _external_id(required=True)
    stock = fields.Integer(strict=True, validate=validate.Range(min=0, max=1_000_000_000))
    price = MoneyField()
    version = _version()

    @ma.validates_schema
    def something_changes(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "stock" not in data and "price" not in data:
            raise ma.ValidationError("Send stock, price or both.", "body")


class ListingUpdatesSchema(BaseSchema):
    updates = ItemList(fields.Nested(ListingUpdateSchema), required=True,
                       validate=validate.Length(min=1, max=MAX_LISTINGS_PER_REQUEST))


class ListingResultSchema(BaseSchema):
    external_id = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(RESULT_STATUSES)})
    product_id = fields.Integer(allow_none=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), allow_none=True,
                         metadata={"description": "For `error`: field -> messages (as a 422's `errors`)."})
    code = fields.String(metadata={"description": "For `error`: a stable error code."})


class SummarySchema(BaseSchema):
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    stale = fields.Integer()
    error = fields.Integer()


class SyncResultSchema(BaseSchema):
    results = fields.List(fields.Nested(ListingResultSchema), required=True)
    summary = fields.Nested(SummarySchema, required=True)


class UtcAwareDateTime(fields.AwareDateTime):
    """An ISO 8601 moment with an offset that also exists in UTC (0001-01-01T00:00:00+14:00 does not)."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ma.ValidationError("This moment is outside the range of dates in UTC.") from None


class FeedArgs(BaseSchema):
    updated_since = UtcAwareDateTime(default_timezone=None,
                                     metadata={"description": "Only listings changed at or after this "
                                                              "moment (ISO 8601 with offset)."})
    cursor = fields.String(validate=validate.Length(max=200),
                           metadata={"description": "`next_cursor` from the previous page."})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_FEED_PAGE))


class FeedPriceSchema(BaseSchema):
    amount = fields.String()
    currency = fields.String()


class FeedItemSchema(BaseSchema):
    external_id = fields.String()
    product_id = fields.Integer()
    version = fields.Integer(allow_none=True, metadata={"description": "The partner's version."})
    updated_at = fields.DateTime()
    vendor_id = fields.Integer()
    sku = fields.String()
    translations = fields.Dict(keys=fields.String(), values=fields.Nested(TranslationSchema))
    original_locale = fields.String()
    price = fields.Nested(FeedPriceSchema)
    stock = fields.Integer()
    category = fields.String()
    hs_code = fields.String()
    attributes = fields.Dict(keys=fields.String())
    images = fields.List(fields.String())
    status = fields.String()
    product_version = fields.Integer(metadata={"description": "The marketplace's version of the product."})


class FeedSchema(BaseSchema):
    items = fields.List(fields.Nested(FeedItemSchema), required=True)
    next_cursor = fields.String(allow_none=True, metadata={
        "description": "Resume after the last item (also to poll for later changes); null when the page is "
                       "empty and no cursor was given."})
    has_more = fields.Boolean(metadata={"description": "More items were waiting when this page was read."})


class JobSchema(BaseSchema):
    id = fields.Integer()
    status = fields.String(metadata={"enum": ["pending", "running", "completed", "failed"]})
    error = fields.String(allow_none=True, metadata={"description": "Why a `failed` job stopped."})
    total = fields.Integer()
    processed = fields.Integer()
    counts = fields.Nested(SummarySchema)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)


class JobLineSchema(ListingResultSchema):
    line = fields.Integer()


class JobDetailSchema(JobSchema):
    results = fields.List(fields.Nested(JobLineSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    results_total = fields.Integer()


class JobArgs(BaseSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    status = fields.String(validate=validate.OneOf(RESULT_STATUSES),
                           metadata={"description": "Only lines with this result (e.g. `error`)."})


class PageArgs(BaseSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class JobPageSchema(BaseSchema):
    items = fields.List(fields.Nested(JobSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class PartnerMeSchema(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    scopes = fields.List(fields.String())


class GrantCreateSchema(BaseSchema):
    partner_id = fields.Integer(required=True, strict=True, validate=ID_RANGE)


class GrantSchema(BaseSchema):
    partner_id = fields.Integer()
    partner_name = fields.String()
    vendor_id = fields.Integer()
    created_at = fields.DateTime()


class GrantListSchema(BaseSchema):
    items = fields.List(fields.Nested(GrantSchema))


class WebhookCreateSchema(BaseSchema):
    url = fields.String(required=True, validate=validate.Length(min=1, max=2048),
                        metadata={"example": "https://erp.example.com/hooks/buybrics"})
    events = fields.List(fields.String(validate=validate.OneOf(EVENT_TYPES)), required=True,
                         validate=validate.Length(min=1, max=len(EVENT_TYPES)))


class WebhookSchema(BaseSchema):
    id = fields.Integer()
    url = fields.String()
    events = fields.List(fields.String())
    created_at = fields.DateTime()


class WebhookCreatedSchema(WebhookSchema):
    secret = fields.String(metadata={"description": "The signing secret; shown only in this answer."})


class WebhookPageSchema(BaseSchema):
    items = fields.List(fields.Nested(WebhookSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class AttemptSchema(BaseSchema):
    number = fields.Integer()
    attempted_at = fields.DateTime()
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    duration_ms = fields.Integer()


class DeliverySchema(BaseSchema):
    id = fields.Integer()
    webhook_id = fields.Integer()
    event_id = fields.String()
    event_type = fields.String()
    status = fields.String(metadata={"enum": ["pending", "delivered", "failed"]})
    attempt_count = fields.Integer(attribute="attempts", metadata={
        "description": "Attempts in the current schedule (a redelivery starts a new one)."})
    next_attempt_at = fields.DateTime(allow_none=True)
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    attempts = fields.List(fields.Nested(AttemptSchema), attribute="log")


class DeliveryArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(["pending", "delivered", "failed"]))


class DeliveryPageSchema(BaseSchema):
    items = fields.List(fields.Nested(DeliverySchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
