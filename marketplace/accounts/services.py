"""Accounts use cases: register, issue tokens, resolve a bearer token."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from marketplace.accounts.errors import AccountErrorCode
from marketplace.kernel.clock import now
from marketplace.accounts.models import AccessToken, Role, User
from marketplace.kernel.errors import Conflict, Invalid, Unauthorized

MIN_PASSWORD_LENGTH = 10
# Spent on unknown e-mails so that both failure paths cost the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def hash_password(password: str) -> str:
    """scrypt (werkzeug's default work factor in production; a lighter one only under TestingConfig)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def normalize_email(email: str) -> str:
    return email.strip().lower()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password_strength(email: str, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(AccountErrorCode.WEAK_PASSWORD,
                      _("Passwords need at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), field="password")
    if password.strip().lower() == normalize_email(email):
        raise Invalid(AccountErrorCode.WEAK_PASSWORD, _("The password must not be the e-mail address."),
                      field="password")


def create_user(session: Session, email: str, password: str, role: str) -> User:
    email = normalize_email(email)
    check_password_strength(email, password)
    if session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise Conflict(AccountErrorCode.EMAIL_TAKEN, _("An account with this e-mail already exists."), field="email")
    user = User(email=email, password_hash=hash_password(password), role=str(Role(role)))
    session.add(user)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(AccountErrorCode.EMAIL_TAKEN, _("An account with this e-mail already exists."),
                       field="email") from None
    return user


def register(session: Session, email: str, password: str, role: str) -> str:
    """Self-service sign-up (shoppers and vendors only); gives the normalized e-mail address.

    An address that already has an account keeps it unchanged, and the caller is answered exactly as
    for a new one (same status, same body, the same password hashing work), so that sign-up does not
    tell who has an account here. Only rule violations (role, weak password) are refused.
    """
    if role not in (Role.SHOPPER, Role.VENDOR):
        raise Invalid(AccountErrorCode.ROLE_NOT_ALLOWED, _("Sign-up is for shoppers and vendors."), field="role")
    email = normalize_email(email)
    check_password_strength(email, password)
    password_hash = hash_password(password)
    if session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        return email
    session.add(User(email=email, password_hash=password_hash, role=str(Role(role))))
    try:
        session.commit()
    except IntegrityError:  # the same address signed up at the same moment: it has its account
        session.rollback()
    return email


def authenticate(session: Session, email: str, password: str) -> User:
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None or not user.is_active:
        check_password_hash(_DUMMY_HASH, password)
        raise Unauthorized(AccountErrorCode.INVALID_CREDENTIALS, _("Wrong e-mail or password."))
    if not check_password_hash(user.password_hash, password):
        raise Unauthorized(AccountErrorCode.INVALID_CREDENTIALS, _("Wrong e-mail or password."))
    return user


def issue_token(session: Session, user: User, ttl: timedelta) -> tuple[str, int]:
    token = secrets.token_urlsafe(32)
    issued = now()
    session.add(AccessToken(user_id=user.id, token_hash=hash_token(token), created_at=issued, expires_at=issued + ttl))
    session.execute(delete(AccessToken).where(AccessToken.user_id == user.id, AccessToken.expires_at < issued))
    session.commit()
    return token, int(ttl.total_seconds())


def login(session: Session, email: str, password: str, ttl: timedelta) -> tuple[str, int]:
    return issue_token(session, authenticate(session, email, password), ttl)


#: RFC 6750 section 3: a 401 for a bad bearer token carries this challenge.
INVALID_TOKEN_CHALLENGE = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


def user_for_token(session: Session, token: str) -> User:
    row = session.execute(
        select(User, AccessToken.expires_at)
        .join(AccessToken, AccessToken.user_id == User.id)
        .where(AccessToken.token_hash == hash_token(token))
    ).first()
    if row is None:
        raise Unauthorized(AccountErrorCode.INVALID_TOKEN, _("The access token is unknown or revoked."),
                           headers=INVALID_TOKEN_CHALLENGE)
    user, expires_at = row
    if expires_at <= now() or not user.is_active:
        raise Unauthorized(AccountErrorCode.INVALID_TOKEN, _("The access token has expired."),
                           headers=INVALID_TOKEN_CHALLENGE)
    return user
