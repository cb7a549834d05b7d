"""Partners and their API keys (created and revoked from the CLI), and the demo partner."""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.kernel.clock import now
from marketplace.kernel.errors import Invalid, NotFound
from marketplace.partners.auth import generate_key, hash_key
from marketplace.partners.errors import PartnerErrorCode
from marketplace.partners.models import ALL_SCOPES, Partner, PartnerApiKey, PartnerVendorGrant


def parse_scopes(values: Iterable[str] | None) -> list[str]:
    """Scopes from CLI values (repeated and/or comma-separated); all four when none are given."""
    scopes: list[str] = []
    for value in values or ():
        for item in value.replace(",", " ").split():
            if item not in ALL_SCOPES:
                raise Invalid("validation_error",
                              f"Unknown scope {item!r}; use {', '.join(ALL_SCOPES)}.", field="scopes")
            if item not in scopes:
                scopes.append(item)
    return scopes or list(ALL_SCOPES)


def create_partner(session: Session, name: str, scopes: Iterable[str] | None = None) -> tuple[Partner, str]:
    """A partner and its first key (returned in clear once; only its hash is kept)."""
    name = name.strip()
    if not name or len(name) > 120:
        raise Invalid("validation_error", "A partner name has 1 to 120 characters.", field="name")
    partner = Partner(name=name)
    session.add(partner)
    session.flush()
    _key, key = _add_key(session, partner.id, parse_scopes(scopes))
    session.commit()
    return partner, key


def _add_key(session: Session, partner_id: int, scopes: list[str]) -> tuple[PartnerApiKey, str]:
    while True:
        prefix, key = generate_key()
        if not session.scalar(select(PartnerApiKey.id).where(PartnerApiKey.prefix == prefix)):
            break
    row = PartnerApiKey(partner_id=partner_id, prefix=prefix, key_hash=hash_key(key), scopes=scopes)
    session.add(row)
    session.flush()
    return row, key


def create_key(session: Session, partner_id: int, scopes: Iterable[str] | None = None) -> tuple[PartnerApiKey, str]:
    if session.get(Partner, partner_id) is None:
        raise NotFound(PartnerErrorCode.PARTNER_NOT_FOUND, f"No partner with id {partner_id}.", field="partner")
    row, key = _add_key(session, partner_id, parse_scopes(scopes))
    session.commit()
    return row, key


def revoke_key(session: Session, key_id: int | None = None, prefix: str | None = None) -> PartnerApiKey:
    query = select(PartnerApiKey)
    query = query.where(PartnerApiKey.id == key_id) if key_id is not None else query.where(PartnerApiKey.prefix == prefix)
    row = session.scalar(query)
    if row is None:
        raise NotFound(PartnerErrorCode.KEY_NOT_FOUND, "No such API key.", field="key_id" if key_id else "prefix")
    if row.revoked_at is None:
        row.revoked_at = now()
    session.commit()
    return row


def list_partners(session: Session) -> list[tuple[Partner, int]]:
    active = (select(func.count()).select_from(PartnerApiKey)
              .where(PartnerApiKey.partner_id == Partner.id, PartnerApiKey.revoked_at.is_(None))
              .scalar_subquery())
    return [(p, n) for p, n in session.execute(select(Partner, active).order_by(Partner.id))]


def list_keys(session: Session, partner_id: int) -> list[PartnerApiKey]:
    return list(session.scalars(select(PartnerApiKey).where(PartnerApiKey.partner_id == partner_id)
                                .order_by(PartnerApiKey.id)))


DEMO_PARTNER_NAME = "Demo Partner"


def demo_key(secret_key: str) -> tuple[str, str]:
    """The demo partner's (prefix, key), derived from SECRET_KEY: the same on every seed-demo run."""
    def derive(label: str) -> str:
        return hmac.new(secret_key.encode(), f"buybrics-demo-partner:{label}".encode(), hashlib.sha256).hexdigest()

    prefix = "bbp_" + derive("id")[:8]
    return prefix, f"{prefix}_{derive('secret')[:40]}"


def ensure_demo_partner(session: Session, vendor_ids: Iterable[int]) -> tuple[Partner, str]:
    """The demo partner with its key (active, all scopes) and grants from `vendor_ids`; safe to run again."""
    prefix, key = demo_key(current_app.config["SECRET_KEY"])
    row = session.scalar(select(PartnerApiKey).where(PartnerApiKey.prefix == prefix))
    if row is None:
        partner = Partner(name=DEMO_PARTNER_NAME)
        session.add(partner)
        session.flush()
        row = PartnerApiKey(partner_id=partner.id, prefix=prefix, key_hash=hash_key(key), scopes=list(ALL_SCOPES))
        session.add(row)
    else:
        partner = session.get(Partner, row.partner_id)
        row.revoked_at, row.key_hash, row.scopes = None, hash_key(key), list(ALL_SCOPES)
    granted = set(session.scalars(select(PartnerVendorGrant.vendor_id)
                                  .where(PartnerVendorGrant.partner_id == partner.id)))
    for vendor_id in vendor_ids:
        if vendor_id not in granted:
            session.add(PartnerVendorGrant(partner_id=partner.id, vendor_id=vendor_id))
    session.commit()
    return partner, key
