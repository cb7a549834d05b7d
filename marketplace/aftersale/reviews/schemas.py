from __future__ import annotations

from marshmallow import fields, validate

from marketplace.aftersale.reviews.models import ReviewStatus
from marketplace.aftersale.reviews.services import BODY_MAX, REASON_MAX, REPLY_MAX, TITLE_MAX
from marketplace.kernel.schemas import BaseSchema, PageArgs, PageSchema, Paragraphs, supported_locale

MASKED = "E-mail addresses and phone numbers are masked when stored."


class ReviewCreateSchema(BaseSchema):
    rating = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5))
    title = fields.String(validate=validate.Length(min=1, max=TITLE_MAX),
                          metadata={"description": f"Up to {TITLE_MAX} characters, one line. {MASKED}"})
    body = Paragraphs(validate=validate.Length(min=1, max=BODY_MAX),
                      metadata={"description": f"Up to {BODY_MAX} characters. {MASKED}"})
    locale = fields.String(required=True, validate=supported_locale,
                           metadata={"description": "The language the review is written in."})


class ReviewRejectSchema(BaseSchema):
    reason = Paragraphs(required=True, validate=validate.Length(min=1, max=REASON_MAX))


class ReviewPublishSchema(BaseSchema):
    reason = Paragraphs(validate=validate.Length(min=1, max=REASON_MAX))


class ReviewReplyCreateSchema(BaseSchema):
    body = Paragraphs(required=True, validate=validate.Length(min=1, max=REPLY_MAX),
                      metadata={"description": f"Up to {REPLY_MAX} characters. {MASKED}"})


class ReviewReportCreateSchema(BaseSchema):
    reason = Paragraphs(required=True, validate=validate.Length(min=1, max=REASON_MAX))


class ReviewReplySchema(BaseSchema):
    body = fields.String(attribute="reply_body")
    created_at = fields.DateTime(attribute="replied_at")


class ReviewSchema(BaseSchema):
    id = fields.Integer()
    product_id = fields.Integer(allow_none=True)
    vendor_id = fields.Integer()
    rating = fields.Integer()
    title = fields.String(allow_none=True)
    body = fields.String(allow_none=True)
    locale = fields.String()
    reviewer = fields.String(attribute="reviewer_name",
                             metadata={"description": "The reviewer's initials, e.g. \"A. S.\"."})
    verified_purchase = fields.Function(lambda review: True)
    status = fields.String(metadata={"enum": [s.value for s in ReviewStatus]})
    reply = fields.Method("_reply", allow_none=True)
    created_at = fields.DateTime()
    published_at = fields.DateTime(allow_none=True)

    def _reply(self, review) -> dict | None:
        return ReviewReplySchema().dump(review) if review.reply_body is not None else None


class ReviewPageSchema(PageSchema):
    items = fields.List(fields.Nested(ReviewSchema), required=True)


class QueuedReviewSchema(ReviewSchema):
    order_id = fields.Integer()
    order_line_id = fields.Integer()
    report_count = fields.Integer()


class ReviewQueuePageSchema(PageSchema):
    items = fields.List(fields.Nested(QueuedReviewSchema), required=True)


class ReviewQueueArgs(PageArgs):
    status = fields.String(validate=validate.OneOf([s.value for s in ReviewStatus]),
                           metadata={"description": "pending (the moderation queue), published or rejected."})


class ReviewTransitionSchema(BaseSchema):
    actor_id = fields.Integer(allow_none=True)
    from_status = fields.String(data_key="from", allow_none=True)
    to_status = fields.String(data_key="to")
    reason = fields.String(allow_none=True)
    created_at = fields.DateTime(data_key="at")


class ReviewHistorySchema(BaseSchema):
    items = fields.List(fields.Nested(ReviewTransitionSchema), required=True)


class ReviewReportSchema(BaseSchema):
    id = fields.Integer()
    review_id = fields.Integer()
    reason = fields.String()
    created_at = fields.DateTime()


class VendorRatingRecordSchema(BaseSchema):
    average = fields.String(allow_none=True, metadata={"description": "One decimal, e.g. \"4.5\"; null: none."})
    count = fields.Integer()


class OnTimeShippingSchema(BaseSchema):
    rate = fields.String(allow_none=True, metadata={"description": "Share shipped on time, e.g. \"0.83\"."})
    window_days = fields.Integer()
    on_time = fields.Integer()
    due = fields.Integer()


class VendorDisputeRecordSchema(BaseSchema):
    rate = fields.String(allow_none=True, metadata={"description": "Disputes per delivered vendor order."})
    disputes = fields.Integer()
    delivered_orders = fields.Integer()


class VendorAnswerTimeSchema(BaseSchema):
    median_hours = fields.String(allow_none=True)
    answered = fields.Integer()
    unanswered = fields.Integer()


class VendorRecordSchema(BaseSchema):
    vendor_id = fields.Integer()
    rating = fields.Nested(VendorRatingRecordSchema)
    on_time_shipping = fields.Nested(OnTimeShippingSchema)
    disputes = fields.Nested(VendorDisputeRecordSchema)
    answer_time = fields.Nested(VendorAnswerTimeSchema)
