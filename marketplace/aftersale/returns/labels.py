"""Reasons and states of a return as the reader's language names them."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from marketplace.aftersale.returns.models import Resolution, ReturnReason, ReturnStatus

REASON_LABELS = {
    ReturnReason.NOT_AS_DESCRIBED: _l("Not as described"),
    ReturnReason.DAMAGED: _l("Arrived damaged"),
    ReturnReason.WRONG_ITEM: _l("Wrong item sent"),
    ReturnReason.CHANGED_MIND: _l("Changed my mind"),
    ReturnReason.DEFECTIVE: _l("Defective"),
    ReturnReason.ARRIVED_LATE: _l("Arrived too late"),
    ReturnReason.OTHER: _l("Other reason"),
}

STATUS_LABELS = {
    ReturnStatus.REQUESTED: _l("Return requested"),
    ReturnStatus.APPROVED: _l("Return approved"),
    ReturnStatus.REJECTED: _l("Return rejected"),
    ReturnStatus.IN_TRANSIT: _l("On its way back"),
    ReturnStatus.RECEIVED: _l("Received by the vendor"),
    ReturnStatus.REFUNDED: _l("Refunded"),
    ReturnStatus.REPLACED: _l("Replacement on its way"),
    ReturnStatus.CLOSED: _l("Closed"),
    ReturnStatus.ESCALATED: _l("Escalated to a dispute"),
}

RESOLUTION_LABELS = {
    Resolution.REFUND: _l("Refund"),
    Resolution.REPLACEMENT: _l("Replacement"),
}


def label(labels: dict, value: str | None) -> str | None:
    return str(labels[value]) if value in labels else value
