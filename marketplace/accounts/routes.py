from flask import current_app, request
from flask.views import MethodView
from marketplace.kernel.openapi import Blueprint

from flask_babel import gettext as _

from marketplace.accounts import customs, services
from marketplace.accounts.auth import auth_required, current_user
from marketplace.accounts.schemas import (CustomsIdentityInSchema, CustomsIdentitySchema, RegisterSchema,
                                          RegistrationSchema, TokenRequestSchema, TokenSchema, UserSchema)
from marketplace.kernel.errors import ErrorCode, NotFound
from marketplace.kernel.extensions import client_address, db, limiter

blp = Blueprint("auth", __name__, description="Accounts and access tokens")


def _login_account_key() -> str:
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return "login-account:" + (services.normalize_email(email) if isinstance(email, str) else "-")


def _login_account_address_key() -> str:
    return f"{_login_account_key()}|{client_address()}"


def _failed(response) -> bool:
    return response.status_code == 401


@blp.route("/auth/register")
class Register(MethodView):
    decorators = [
        limiter.limit(lambda: current_app.config["REGISTER_LIMIT_PER_ADDRESS"], scope="register-address"),
    ]

    @blp.arguments(RegisterSchema)
    @blp.response(202, RegistrationSchema)
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, data):
        """Create a shopper or vendor account

        The answer is the same whether or not the e-mail address already had an account (so that it
        tells nobody which addresses are registered): sign in with `/auth/token` to use the account.
        An address that had an account keeps it unchanged.
        """
        email = services.register(db.session, data["email"], data["password"], data["role"])
        return {"status": "received", "email": email, "role": data["role"]}


@blp.route("/auth/token")
class Token(MethodView):
    # Failures are counted per (account, address): an attacker guessing from one address is stopped
    # without locking the owner out from another; the account-wide ceiling is far higher.
    decorators = [
        limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], scope="login-address"),
        limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS"],
                      key_func=_login_account_address_key, scope="login-account-address", deduct_when=_failed),
        limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], key_func=_login_account_key,
                      scope="login-account", deduct_when=_failed),
    ]

    @blp.arguments(TokenRequestSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, data):
        """Exchange e-mail and password for an access token"""
        token, expires_in = services.login(db.session, data["email"], data["password"],
                                           current_app.config["ACCESS_TOKEN_TTL"])
        return {"access_token": token, "token_type": "Bearer", "expires_in": expires_in}


@blp.route("/auth/me")
class Me(MethodView):
    @auth_required(blp)
    @blp.response(200, UserSchema)
    def get(self):
        """The account behind the access token"""
        return current_user()


def _shown(identity) -> dict:
    return {"country": identity.country, "name": customs.name_of(identity),
            "id_number_masked": identity.id_number_masked, "updated_at": identity.updated_at}


@blp.route("/me/customs-identity")
class MyCustomsIdentity(MethodView):
    @auth_required(blp)
    @blp.response(200, CustomsIdentitySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self):
        """The caller's customs identity, its number masked"""
        identity = customs.identity_of(db.session, current_user().id)
        if identity is None:
            raise NotFound(ErrorCode.NOT_FOUND, _("No customs identity is on file."))
        return _shown(identity)

    @auth_required(blp)
    @blp.arguments(CustomsIdentityInSchema)
    @blp.response(200, CustomsIdentitySchema)
    def put(self, data):
        """Declare the identity imports to China need (name and PRC resident identity number); kept sealed"""
        return _shown(customs.set_identity(db.session, current_user(), data["name"], data["id_number"]))

    @auth_required(blp)
    @blp.response(204)
    def delete(self):
        """Forget the caller's customs identity"""
        customs.remove_identity(db.session, current_user())
