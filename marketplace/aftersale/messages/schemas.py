from __future__ import annotations

from marshmallow import fields, validate

from marketplace.aftersale.messages.models import AuthorRole
from marketplace.aftersale.messages.services import ORDERS
from marketplace.kernel.schemas import BaseSchema, PageArgs, PageSchema, Paragraphs, supported_locale

MAX_BODY = 4000


class MessageCreateSchema(BaseSchema):
    body = Paragraphs(required=True, validate=validate.Length(min=1, max=MAX_BODY),
                      metadata={"description": "1 to 4000 characters; e-mail addresses and phone numbers are "
                                               "masked when stored."})
    locale = fields.String(required=True, validate=supported_locale,
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
