"""System messages as sentences: a small table event -> translatable message, filled with the event's params
at read time in the reader's language (gettext), so the same stored event reads in every locale."""
from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

EVENT_MESSAGES = {
    "return.requested": _l("Return #%(return_id)s was requested."),
    "return.approved": _l("Return #%(return_id)s was approved by the vendor."),
    "return.rejected": _l("Return #%(return_id)s was rejected by the vendor."),
    "return.in_transit": _l("The goods of return #%(return_id)s are on their way back to the vendor."),
    "return.received": _l("The vendor received the goods of return #%(return_id)s."),
    "return.refunded": _l("Return #%(return_id)s was refunded."),
    "return.replaced": _l("A replacement was sent for return #%(return_id)s."),
    "return.closed": _l("Return #%(return_id)s was closed."),
    "return.escalated": _l("Return #%(return_id)s went unanswered and was escalated to a dispute."),
    "dispute.opened": _l("Dispute #%(dispute_id)s was opened."),
    "dispute.proposal": _l("A proposal was made in dispute #%(dispute_id)s."),
    "dispute.accepted": _l("A proposal in dispute #%(dispute_id)s was accepted."),
    "dispute.declined": _l("A proposal in dispute #%(dispute_id)s was declined."),
    "dispute.facilitated": _l("An operator joined dispute #%(dispute_id)s to help resolve it."),
    "dispute.decided": _l("An operator decided dispute #%(dispute_id)s."),
    "dispute.closed": _l("Dispute #%(dispute_id)s was closed."),
}


class _Params(dict):
    """The event's params; one a message names but the event lacks reads as empty, never an error."""

    def __missing__(self, key: str) -> str:
        return ""


def render_event(event: str, params: Mapping[str, str]) -> str:
    """The sentence for `event` in the current locale; an event not in the table reads as a generic one."""
    message = EVENT_MESSAGES.get(event)
    if message is None:
        return _("Something happened on this order (%(event)s).", event=event or "?")
    return str(message) % _Params(params)
