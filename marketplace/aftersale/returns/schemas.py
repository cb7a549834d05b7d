from __future__ import annotations

from marshmallow import fields, validate

from marketplace.aftersale.returns.labels import REASON_LABELS, RESOLUTION_LABELS, STATUS_LABELS, label
from marketplace.aftersale.returns.models import Resolution, ReturnReason, ReturnStatus
from marketplace.kernel.schemas import BaseSchema, MoneySchema, PageArgs, PageSchema

ID = validate.Range(min=1, max=2**31 - 1)


class ReturnLineRequestSchema(BaseSchema):
    order_line_id = fields.Integer(required=True, strict=True, validate=ID)
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=1000))
    reason = fields.String(required=True, validate=validate.OneOf([r.value for r in ReturnReason]))


class ReturnRequestSchema(BaseSchema):
    vendor_order_id = fields.Integer(required=True, strict=True, validate=ID)
    lines = fields.List(fields.Nested(ReturnLineRequestSchema), required=True,
                        validate=validate.Length(min=1, max=100))
    resolution = fields.String(required=True, validate=validate.OneOf([r.value for r in Resolution]))
    comment = fields.String(validate=validate.Length(max=2000))


class RejectSchema(BaseSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class WithdrawSchema(BaseSchema):
    reason = fields.String(validate=validate.Length(max=1000))


class ReturnShipSchema(BaseSchema):
    carrier = fields.String(required=True, validate=validate.Length(min=1, max=64))
    tracking_number = fields.String(required=True, validate=validate.Length(min=1, max=64))


class ReturnLineSchema(BaseSchema):
    order_line_id = fields.Integer()
    quantity = fields.Integer()
    reason = fields.String()
    reason_label = fields.Function(lambda line: label(REASON_LABELS, line.reason))
    unit_price = fields.Nested(MoneySchema, metadata={"description": "What was paid per unit (order currency)."})
    total = fields.Nested(MoneySchema)


class ReturnStatusChangeSchema(BaseSchema):
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    status_label = fields.Function(lambda change: label(STATUS_LABELS, change.to_status))
    actor_id = fields.Integer(allow_none=True)
    actor_role = fields.String(metadata={"description": "shopper, vendor, admin or system."})
    reason = fields.String(allow_none=True)
    created_at = fields.DateTime()


class ReturnSchema(BaseSchema):
    id = fields.Integer()
    order_id = fields.Integer()
    vendor_order_id = fields.Integer()
    vendor_id = fields.Integer()
    status = fields.String()
    status_label = fields.Function(lambda ret: label(STATUS_LABELS, ret.status))
    resolution = fields.String()
    resolution_label = fields.Function(lambda ret: label(RESOLUTION_LABELS, ret.resolution))
    comment = fields.String(allow_none=True)
    refund = fields.Nested(MoneySchema, metadata={
        "description": "What was paid for the returned units (order currency); shipping share 0."})
    refunded = fields.Nested(MoneySchema, allow_none=True, metadata={"description": "What was refunded."})
    refund_id = fields.Integer(allow_none=True)
    dispute_id = fields.Integer(allow_none=True)
    carrier = fields.String(allow_none=True)
    tracking_number = fields.String(allow_none=True)
    rejection_reason = fields.String(allow_none=True)
    answer_by = fields.DateTime(metadata={"description": "A request unanswered by then escalates to a dispute."})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    lines = fields.List(fields.Nested(ReturnLineSchema))
    history = fields.List(fields.Nested(ReturnStatusChangeSchema))


class ReturnArgs(PageArgs):
    status = fields.String(validate=validate.OneOf([s.value for s in ReturnStatus]))


class ReturnPageSchema(PageSchema):
    items = fields.List(fields.Nested(ReturnSchema), required=True)
