"""Partner API keys: generation, hashing, and the `Authorization: Bearer <key>` check for routes.

A key reads `bbp_<id>_<secret>`: `bbp_<id>` is a non-secret prefix (shown in
listings and logs, used to find the key row), the secret part is 40 random
letters and digits (~238 bits). Only the SHA-256 of the whole key is stored;
a fast hash is right for keys this random (no password-style stretching
needed), and the comparison is constant-time.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps

from flask import current_app, g, request
from flask_babel import gettext as _
from sqlalchemy import or_, select, update
from sqlalchemy.exc import OperationalError

from marketplace.kernel.clock import now
from marketplace.kernel.errors import PROBLEM_MEDIA_TYPE, Forbidden, Unauthorized
from marketplace.kernel.extensions import client_address, db
from marketplace.partners.errors import PartnerErrorCode
from marketplace.partners.models import Partner, PartnerApiKey
from marketplace.kernel.schemas import ProblemSchema

KEY_PATTERN = re.compile(r"^(bbp_[a-z0-9]{8})_[A-Za-z0-9]{20,128}$")
PARTNER_SECURITY = [{"partnerKey": []}]
SECURITY_SCHEME = {"type": "http", "scheme": "bearer", "bearerFormat": "bbp_<id>_<secret>",
                   "description": "Partner API key (`flask partners create` / `flask partners keys create`)."}
_ID_ALPHABET = string.ascii_lowercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits
#: `last_used_at` is written at most this often per key (not on every request).
LAST_USED_RESOLUTION = timedelta(seconds=60)


def generate_key() -> tuple[str, str]:
    """A new (prefix, key)."""
    prefix = "bbp_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))
    return prefix, f"{prefix}_{''.join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))}"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class PartnerPrincipal:
    """Who is calling: plain values, safe across the rollbacks a request may do."""

    partner_id: int
    name: str
    key_id: int
    scopes: tuple[str, ...]

    @property
    def idempotency_scope(self) -> str:
        return f"partner:{self.partner_id}"


def _unauthorized(detail: str) -> Unauthorized:
    return Unauthorized(PartnerErrorCode.INVALID_API_KEY, detail, headers={"WWW-Authenticate": "Bearer"})


def _bearer() -> str:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized(_("Use an 'Authorization: Bearer <partner API key>' header."))
    return token.strip()


def principal_for_key(key: str) -> PartnerPrincipal | None:
    """The active key matching `key` (its use recorded), or None (unknown, malformed or revoked)."""
    match = KEY_PATTERN.match(key)
    digest = hash_key(key)
    if match is None:
        return None
    # On its own short connection: the request's transaction has not begun yet, so that on SQLite (where a
    # writing request's transaction holds the one write lock from its start) `record_use` can still write.
    with db.engine.connect() as connection:
        row = connection.execute(
            select(PartnerApiKey.id, PartnerApiKey.key_hash, PartnerApiKey.scopes, PartnerApiKey.revoked_at,
                   Partner.id, Partner.name, PartnerApiKey.last_used_at)
            .join(Partner, Partner.id == PartnerApiKey.partner_id)
            .where(PartnerApiKey.prefix == match.group(1))
        ).first()
    if row is None or not hmac.compare_digest(row[1], digest) or row[3] is not None:
        return None
    record_use(row[0], row[6])
    return PartnerPrincipal(partner_id=row[4], name=row[5], key_id=row[0], scopes=tuple(row[2] or ()))


def record_use(key_id: int, last_used_at: datetime | None) -> None:
    """Set the key's `last_used_at`, at most once per LAST_USED_RESOLUTION.

    Most requests find a recent value (read with the key) and write nothing. The
    write runs on its own connection and commits at once, so it never touches
    the request's session; the condition makes concurrent requests write once.
    It is bookkeeping: a lock timeout is logged, never turned into a failed request.
    """
    moment = now()
    cutoff = moment - LAST_USED_RESOLUTION
    if last_used_at is not None and last_used_at >= cutoff:
        return
    if db.engine.dialect.name == "sqlite" and db.session().in_transaction():
        return  # this request may hold SQLite's write lock already: waiting for it would wait for ourselves
    try:
        with db.engine.begin() as connection:
            connection.execute(update(PartnerApiKey)
                               .where(PartnerApiKey.id == key_id,
                                      or_(PartnerApiKey.last_used_at.is_(None), PartnerApiKey.last_used_at < cutoff))
                               .values(last_used_at=moment))
    except OperationalError as error:
        current_app.logger.warning("could not record the use of partner API key %s: %s", key_id, error)


def current_partner() -> PartnerPrincipal:
    """The calling partner (401 for a missing, unknown or revoked key); cached for the request."""
    if "partner" not in g:
        principal = principal_for_key(_bearer())
        if principal is None:
            raise _unauthorized(_("Unknown or revoked API key."))
        g.partner = principal
    return g.partner


def require_scope(scope: str | None) -> PartnerPrincipal:
    principal = current_partner()
    if scope is not None and scope not in principal.scopes:
        raise Forbidden(PartnerErrorCode.INSUFFICIENT_SCOPE,
                        _("This API key lacks the %(scope)s scope.", scope=scope), required_scope=scope)
    return principal


def rate_limit_key() -> str:
    """Flask-Limiter key: the partner behind the key; the client address for requests without a valid key."""
    try:
        return f"partner:{current_partner().partner_id}"
    except Unauthorized:
        return f"partner-anonymous:{client_address()}"


def problem_response(blp, status: int, description: str) -> Callable:
    """Document an error response (a problem document) with its own description."""
    return blp.alt_response(status, schema=ProblemSchema, content_type=PROBLEM_MEDIA_TYPE, description=description)


def partner_required(blp, scope: str | None = None) -> Callable:
    """Decorator: the caller must hold a valid partner key (with `scope`, if given); documented in OpenAPI."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            require_scope(scope)
            return view(*args, **kwargs)

        documented = blp.doc(security=PARTNER_SECURITY)(wrapper)
        documented = problem_response(blp, 401, "Missing, unknown or revoked API key")(documented)
        documented = problem_response(blp, 429, "Over the partner's rate limit (see Retry-After)")(documented)
        if scope:
            documented = problem_response(blp, 403, f"The key lacks the `{scope}` scope")(documented)
        return documented

    return decorator
