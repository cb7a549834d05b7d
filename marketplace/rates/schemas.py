from marshmallow import fields

from marketplace.kernel.schemas import BaseSchema, DecimalString


class CurrencySchema(BaseSchema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    symbol = fields.String(required=True)
    rate_to_base = DecimalString(allow_none=True, dump_only=True,
                                  metadata={"description": "Units of the base currency worth one unit of this one."})
    as_of = fields.Date(allow_none=True, metadata={"description": "Date of the oldest quote the rate rests on."})
    source = fields.String(allow_none=True, metadata={"description": "Feeds used: ecb, cbr, manual (joined by +)."})
    stale = fields.Boolean(required=True)


class CurrencyListSchema(BaseSchema):
    base = fields.String(required=True)
    currencies = fields.List(fields.Nested(CurrencySchema), required=True)
