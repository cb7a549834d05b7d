from marshmallow import fields, validate

from marketplace.accounts.models import Role
from marketplace.kernel.schemas import BaseSchema


class RegisterSchema(BaseSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=256))
    role = fields.String(required=True, validate=validate.OneOf([Role.SHOPPER, Role.VENDOR]))


class RegistrationSchema(BaseSchema):
    """The answer to a sign-up: the same whether the address was free or already had an account."""

    status = fields.String(dump_only=True, metadata={"example": "received"})
    email = fields.Email(dump_only=True)
    role = fields.String(dump_only=True)


class UserSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    email = fields.Email(dump_only=True)
    role = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class TokenRequestSchema(BaseSchema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256))


class TokenSchema(BaseSchema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_in = fields.Integer(required=True)


class CustomsIdentityInSchema(BaseSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100),
                         metadata={"description": "As on the identity card: it must match the payer's name."})
    id_number = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=32),
                              metadata={"description": "PRC resident identity number (18 characters)."})


class CustomsIdentitySchema(BaseSchema):
    """Shown masked: the number is never given back in full."""

    country = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    id_number = fields.String(dump_only=True, attribute="id_number_masked", metadata={"example": "110*************2X"})
    updated_at = fields.DateTime(dump_only=True)
