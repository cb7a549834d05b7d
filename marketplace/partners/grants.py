"""Vendor grants: a vendor's owner lets a partner manage the vendor's listings (and hear its events)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.kernel.errors import Forbidden, Invalid, NotFound
from marketplace.partners.errors import PartnerErrorCode
from marketplace.partners.models import Partner, PartnerVendorGrant
from vendors.models import Vendor


def _owned_vendor(session: Session, user: User, vendor_id: int) -> Vendor:
    vendor = session.get(Vendor, vendor_id)
    if vendor is None:
        raise NotFound(PartnerErrorCode.VENDOR_NOT_FOUND, _("No such vendor."))
    if vendor.owner_id != user.id:
        raise Forbidden(PartnerErrorCode.NOT_VENDOR_OWNER, _("Only the vendor's owner may manage its partners."))
    return vendor


def _grant_view(grant: PartnerVendorGrant, partner: Partner) -> dict[str, Any]:
    return {"partner_id": partner.id, "partner_name": partner.name, "vendor_id": grant.vendor_id,
            "created_at": grant.created_at}


def grant_partner(session: Session, user: User, vendor_id: int, partner_id: int) -> tuple[dict[str, Any], bool]:
    """(the grant, whether it is new): the vendor lets the partner manage its listings."""
    vendor = _owned_vendor(session, user, vendor_id)
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise Invalid(PartnerErrorCode.PARTNER_NOT_FOUND, _("No partner with this id."), field="partner_id")
    grant = session.scalar(select(PartnerVendorGrant).where(PartnerVendorGrant.partner_id == partner_id,
                                                            PartnerVendorGrant.vendor_id == vendor.id))
    created = grant is None
    if created:
        grant = PartnerVendorGrant(partner_id=partner_id, vendor_id=vendor.id, granted_by=user.id)
        session.add(grant)
        try:
            session.commit()
        except IntegrityError:  # a concurrent grant of the same pair won
            session.rollback()
            grant = session.scalar(select(PartnerVendorGrant).where(PartnerVendorGrant.partner_id == partner_id,
                                                                    PartnerVendorGrant.vendor_id == vendor_id))
            created = False
    return _grant_view(grant, partner), created


def vendor_grants(session: Session, user: User, vendor_id: int) -> list[dict[str, Any]]:
    vendor = _owned_vendor(session, user, vendor_id)
    rows = session.execute(select(PartnerVendorGrant, Partner).join(Partner)
                           .where(PartnerVendorGrant.vendor_id == vendor.id).order_by(PartnerVendorGrant.id))
    return [_grant_view(grant, partner) for grant, partner in rows]


def revoke_grant(session: Session, user: User, vendor_id: int, partner_id: int) -> None:
    vendor = _owned_vendor(session, user, vendor_id)
    grant = session.scalar(select(PartnerVendorGrant).where(PartnerVendorGrant.partner_id == partner_id,
                                                            PartnerVendorGrant.vendor_id == vendor.id))
    if grant is None:
        raise NotFound(PartnerErrorCode.GRANT_NOT_FOUND, _("This partner is not authorized for this vendor."))
    session.delete(grant)
    session.commit()


def authorized_vendors(session: Session, partner_id: int, vendor_ids: Iterable[int]) -> set[int]:
    ids = set(vendor_ids)
    if not ids:
        return set()
    return set(session.scalars(select(PartnerVendorGrant.vendor_id)
                               .where(PartnerVendorGrant.partner_id == partner_id,
                                      PartnerVendorGrant.vendor_id.in_(ids))))
