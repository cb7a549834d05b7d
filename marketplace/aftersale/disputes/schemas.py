from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from marketplace.aftersale.disputes.models import (
    Dispute,
    DisputeOutcome,
    DisputeStage,
    DisputeType,
    Party,
    ProposalStatus,
)
from marketplace.kernel.clock import now
from marketplace.kernel.schemas import BaseSchema, MoneyField, MoneySchema, PageArgs, PageSchema, Paragraphs

STAGE_LABELS = {DisputeStage.NEGOTIATION: _l("Negotiation"), DisputeStage.FACILITATED: _l("Facilitated settlement"),
                DisputeStage.DECIDED: _l("Decided"), DisputeStage.CLOSED: _l("Closed")}
TYPE_LABELS = {DisputeType.NOT_RECEIVED: _l("Item not received"),
               DisputeType.NOT_AS_DESCRIBED: _l("Item not as described"), DisputeType.DAMAGED: _l("Item damaged"),
               DisputeType.REFUND_NOT_RECEIVED: _l("Refund not received"), DisputeType.OTHER: _l("Other problem")}
OUTCOME_LABELS = {DisputeOutcome.SETTLED: _l("Settled between the parties"),
                  DisputeOutcome.DECIDED: _l("Decided by an operator"),
                  DisputeOutcome.WITHDRAWN: _l("Withdrawn by the shopper")}
PROPOSAL_LABELS = {ProposalStatus.OPEN: _l("Awaiting an answer"), ProposalStatus.ACCEPTED: _l("Accepted"),
                   ProposalStatus.DECLINED: _l("Declined"), ProposalStatus.SUPERSEDED: _l("Superseded")}
#: `?status=` of the listing: a stage, or `open` (every stage before closed).
STATUS_FILTERS = [s.value for s in DisputeStage] + ["open"]


def _label(labels: dict, value: str | None) -> str | None:
    return str(labels[value]) if value in labels else value


class DisputeCreateSchema(BaseSchema):
    vendor_order_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    type = fields.String(required=True, validate=validate.OneOf([t.value for t in DisputeType]))
    claim = MoneyField(required=True, metadata={"description": "What the shopper asks back, in the order's "
                                                               "currency; at most what is still refundable."})
    description = Paragraphs(required=True, validate=validate.Length(min=1, max=4000))


class DisputeProposalCreateSchema(BaseSchema):
    refund = MoneyField(required=True, metadata={"description": "The refund offered (zero: none), in the order's "
                                                                "currency."})
    note = Paragraphs(validate=validate.Length(min=1, max=2000))


class DisputeReasonSchema(BaseSchema):
    reason = Paragraphs(validate=validate.Length(min=1, max=2000))


class DisputeDecisionCreateSchema(BaseSchema):
    refund = MoneyField(required=True, allow_none=True,
                        metadata={"description": "The refund decided, in the order's currency; null: none."})
    reasons = Paragraphs(required=True, validate=validate.Length(min=1, max=4000))


class DisputeArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(STATUS_FILTERS),
                           metadata={"description": "A stage, or open (every stage before closed)."})
    overdue = fields.Boolean(metadata={"description": "true: only disputes past a deadline; false: only within."})


class DisputeRuleSchema(BaseSchema):
    id = fields.String()
    source = fields.String()
    effective_from = fields.String()


class DisputeProposalSchema(BaseSchema):
    id = fields.Integer()
    party = fields.String(metadata={"enum": [Party.SHOPPER.value, Party.VENDOR.value]})
    refund = fields.Nested(MoneySchema)
    note = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": [s.value for s in ProposalStatus]})
    status_label = fields.Function(lambda p: _label(PROPOSAL_LABELS, p.status))
    created_at = fields.DateTime()
    answered_at = fields.DateTime(allow_none=True)


class DisputeEventSchema(BaseSchema):
    action = fields.String()
    from_stage = fields.String(allow_none=True)
    to_stage = fields.String()
    party = fields.String(metadata={"enum": [p.value for p in Party]})
    actor_id = fields.Integer(allow_none=True)
    proposal_id = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)
    at = fields.DateTime()


class DisputeDecisionSchema(BaseSchema):
    refund = fields.Nested(MoneySchema, allow_none=True)
    reasons = fields.String()
    decided_by = fields.Integer()
    decided_at = fields.DateTime()


class DisputeSchema(BaseSchema):
    id = fields.Integer()
    order_id = fields.Integer()
    vendor_order_id = fields.Integer()
    vendor_id = fields.Integer()
    user_id = fields.Integer()
    return_id = fields.Integer(allow_none=True)
    type = fields.String(metadata={"enum": [t.value for t in DisputeType]})
    type_label = fields.Function(lambda d: _label(TYPE_LABELS, d.type))
    stage = fields.String(metadata={"enum": [s.value for s in DisputeStage]})
    stage_label = fields.Function(lambda d: _label(STAGE_LABELS, d.stage))
    outcome = fields.String(allow_none=True, metadata={"enum": [o.value for o in DisputeOutcome]})
    outcome_label = fields.Function(lambda d: _label(OUTCOME_LABELS, d.outcome), allow_none=True)
    claim = fields.Nested(MoneySchema)
    description = fields.String()
    refund = fields.Nested(MoneySchema, allow_none=True, metadata={"description": "What was refunded on closing."})
    refund_id = fields.Integer(allow_none=True)
    destination_country = fields.String()
    rule = fields.Nested(DisputeRuleSchema)
    acknowledge_by = fields.DateTime()
    resolve_by = fields.DateTime()
    acknowledged_at = fields.DateTime(allow_none=True)
    overdue = fields.Method("is_overdue", metadata={"description": "Open and past a deadline."})
    overdue_at = fields.DateTime(allow_none=True, metadata={"description": "When the worker flagged it overdue."})
    decision = fields.Nested(DisputeDecisionSchema, allow_none=True)
    proposals = fields.List(fields.Nested(DisputeProposalSchema))
    history = fields.List(fields.Nested(DisputeEventSchema))
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)

    def is_overdue(self, dispute: Dispute) -> bool:
        return dispute.is_overdue(now())


class DisputePageSchema(PageSchema):
    items = fields.List(fields.Nested(DisputeSchema), required=True)
