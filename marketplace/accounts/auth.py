"""Bearer authentication for routes.

`auth_required(blp, *roles)` checks the token and the role and documents
both in OpenAPI; `current_user()` gives the caller inside the view;
`optional_user()` serves endpoints whose answer depends on who asks.
"""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import g, request
from flask_babel import gettext as _

from marketplace.accounts import services
from marketplace.accounts.errors import AccountErrorCode
from marketplace.accounts.models import User
from marketplace.kernel.errors import ErrorCode, Forbidden, Unauthorized
from marketplace.kernel.extensions import db

BEARER_SECURITY = [{"bearerAuth": []}]


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(AccountErrorCode.INVALID_TOKEN, _("Use an 'Authorization: Bearer <token>' header."),
                           headers={"WWW-Authenticate": "Bearer"})
    return token.strip()


def optional_user() -> User | None:
    if "user" not in g:
        token = _bearer_token()
        g.user = services.user_for_token(db.session, token) if token else None
    return g.user


def current_user() -> User:
    user = optional_user()
    if user is None:
        raise Unauthorized(ErrorCode.UNAUTHORIZED, _("This endpoint needs an access token."),
                           headers={"WWW-Authenticate": "Bearer"})
    return user


def require_role(*roles: str) -> User:
    user = current_user()
    if roles and user.role not in roles:
        raise Forbidden(ErrorCode.FORBIDDEN, _("Your account's role may not do this."))
    return user


def auth_required(blp, *roles: str) -> Callable:
    """Decorator: the caller must hold a valid token (and one of `roles`, if given)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            require_role(*roles)
            return view(*args, **kwargs)

        documented = blp.doc(security=BEARER_SECURITY)(wrapper)
        documented = blp.alt_response(401, description="Missing, unknown or expired token")(documented)
        if roles:
            documented = blp.alt_response(403, description="The caller's role may not do this")(documented)
        return documented

    return decorator
