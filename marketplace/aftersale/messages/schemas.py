from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app
from marshmallow import fields, validate

from marketplace.aftersale.messages.models import AuthorRole
from marketplace.aftersale.messages.services import ORDERS
from marketplace.kernel.schemas import MULTI_LINE_FORBIDDEN, BaseSchema, PageArgs, PageSchema

MAX_BODY = 4000


def _supported_locale(value: str) -> None:
    supported = current_app.config["SUPPORTED_LOCALES"]
    if value not in supported:
        raise ma.ValidationError(f"Unsupported locale {value!r}; use one of {', '.join(supported)}.")


class MessageBody(fields.String):
    """A message's text: it may span lines (new lines, tabs), but holds no other control character."""

    #: checked here rather than by the base schema's single-line rule (a message has paragraphs)
    checked_later = True

    def _deserialize(self, value: Any, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        found = MULTI_LINE_FORBIDDEN.search(text)
        if found is not None:
            raise ma.ValidationError(f"Must not contain control characters (found U+{ord(found.group()):04X}).")
        if not text.strip():
            raise ma.ValidationError("Write something.")
        return text


class MessageCreateSchema(BaseSchema):
    body = MessageBody(required=True, validate=validate.Length(min=1, max=MAX_BODY),
                       metadata={"description": "1 to 4000 characters; e-mail addresses and phone numbers are "
                                                "masked when stored."})
    locale = fields.String(required=True, validate=_supported_locale,
                           metadata={"description": "The language the message is written in."})


class MessageArgs(PageArgs):
    order = fields.String(load_default="oldest", validate=validate.OneOf(ORDERS),
                          metadata={"description": "oldest (default: the conversation as it happened) or newest "
                                                   "first."})


class MessageSchema(BaseSchema):
    id = fields.Integer()
    vendor_order_id = fields.Integer()
    author_role = fields.String(metadata={"enum": [r.value for r in AuthorRole]})
    created_at = fields.DateTime()
    body = fields.String(metadata={"description": "As stored (contact details masked); a system message's "
                                                  "sentence in the reader's language."})
    locale = fields.String(metadata={"description": "The message's language (for a system message: the "
                                                    "reader's)."})
    event = fields.String(allow_none=True, metadata={"description": "A system message's event, e.g. "
                                                                    "return.requested."})
    params = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True)


class MessagePageSchema(PageSchema):
    items = fields.List(fields.Nested(MessageSchema), required=True)
