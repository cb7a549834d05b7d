"""Vendors' products in a campaign: eligibility, enrolling, a manager's decision, withdrawing, the re-check
when a vendor's profile changes, and who sees which enrollments."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from catalog.models import Product
from marketplace.accounts.models import User
from marketplace.kernel.clock import now
from marketplace.kernel.errors import Conflict, Forbidden, NotFound
from marketplace.kernel.money import Money
from marketplace.rates.conversion import NoRate, RateTable
from promotions import rules
from promotions.campaigns import MANAGERS, find, locked, require_manager
from promotions.errors import PromotionErrorCode
from promotions.indexing import mark_changed, touch_product
from promotions.models import Campaign, Enrollment
from vendors.models import Vendor


def _eligibility(campaign: Campaign) -> rules.Eligibility:
    data = campaign.eligibility or {}
    min_price = data.get("min_price")
    return rules.Eligibility(
        origin_countries=frozenset(data.get("origin_countries") or ()),
        categories=frozenset(data.get("categories") or ()),
        msme_classes=frozenset(data.get("msme_classes") or ()),
        min_price=Money(Decimal(min_price["amount"]), min_price["currency"]) if min_price else None,
    )


def _converter(table: RateTable):
    def convert(money: Money, currency: str) -> Money:
        return table.convert(money, currency)

    return convert


def enroll(session: Session, user: User, campaign_id: int, product_ids: list[int],
           table: RateTable) -> list[dict[str, Any]]:
    # Locks in the order every writer takes them (vendor, campaign, enrollments): a profile change racing
    # this enrollment is seen whole, and so is an `end` or `pause` of the campaign.
    vendor = session.scalar(select(Vendor).where(Vendor.owner_id == user.id).with_for_update(read=True)
                            .execution_options(populate_existing=True))
    campaign = locked(session, campaign_id)
    if campaign.state == "draft" and user.role not in MANAGERS:
        raise NotFound(PromotionErrorCode.CAMPAIGN_NOT_FOUND, _("No such campaign."))
    if campaign.status() == rules.ENDED:
        raise Conflict(PromotionErrorCode.INVALID_TRANSITION, _("This campaign has ended."))
    if vendor is None:
        raise Forbidden(PromotionErrorCode.NOT_PRODUCT_OWNER, _("Only vendors enroll their products."))
    products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(product_ids))
                                                 .options(joinedload(Product.category), joinedload(Product.vendor)))}
    foreign = [pid for pid in product_ids if pid in products and products[pid].vendor_id != vendor.id]
    missing = [pid for pid in product_ids if pid not in products]
    if foreign or missing:
        raise Forbidden(PromotionErrorCode.NOT_PRODUCT_OWNER,
                        _("You can enroll only your own products."), product_ids=sorted(foreign + missing))
    rules_ = _eligibility(campaign)
    existing = {e.product_id: e for e in session.scalars(select(Enrollment).where(
        Enrollment.campaign_id == campaign.id, Enrollment.product_id.in_(product_ids)))}
    results = []
    for product_id in dict.fromkeys(product_ids):
        product = products[product_id]
        try:
            reasons = rules_.reasons(product.origin_country, product.category.path, vendor.msme_class, product.price,
                                     _converter(table))
        except NoRate:
            reasons = ["min_price: no exchange rate to compare the price"]
        enrollment = existing.get(product_id)
        if enrollment is not None and enrollment.status in ("enrolled", "pending_approval"):
            results.append({"product_id": product_id, "status": enrollment.status, "enrollment_id": enrollment.id,
                            "reason": None})
            continue
        status = "rejected" if reasons else ("pending_approval" if campaign.requires_approval else "enrolled")
        if enrollment is None:
            enrollment = Enrollment(campaign_id=campaign.id, product_id=product_id, vendor_id=vendor.id,
                                    units_sold=0)
            session.add(enrollment)
        enrollment.status, enrollment.reason = status, "; ".join(reasons) or None
        session.flush()
        if status == "enrolled":
            touch_product(session, product)
        results.append({"product_id": product_id, "status": status, "enrollment_id": enrollment.id,
                        "reason": enrollment.reason})
    mark_changed(campaign)
    session.commit()
    return results


def _own_enrollment(session: Session, campaign_id: int, enrollment_id: int) -> Enrollment:
    """The enrollment row, locked and re-read: two decisions racing, the second sees the first's status.
    Its campaign is locked first, the order checkout and vendor re-checks take them in."""
    locked(session, campaign_id)
    enrollment = session.scalar(select(Enrollment).where(Enrollment.id == enrollment_id).with_for_update()
                                .execution_options(populate_existing=True))
    if enrollment is None or enrollment.campaign_id != campaign_id:
        raise NotFound(PromotionErrorCode.ENROLLMENT_NOT_FOUND, _("No such enrollment."))
    return enrollment


def decide(session: Session, user: User, campaign_id: int, enrollment_id: int, approve: bool,
           reason: str | None) -> Enrollment:
    require_manager(user)
    enrollment = _own_enrollment(session, campaign_id, enrollment_id)
    if enrollment.status != "pending_approval":
        raise Conflict(PromotionErrorCode.INVALID_TRANSITION, _("Only a pending enrollment can be decided."),
                       current_status=enrollment.status)
    enrollment.status = "enrolled" if approve else "rejected"
    enrollment.reason = reason if not approve else None
    enrollment.decided_by, enrollment.decided_at = user.id, now()
    mark_changed(enrollment.campaign)
    if approve:
        touch_product(session, session.get(Product, enrollment.product_id))
    session.commit()
    return enrollment


def withdraw(session: Session, user: User, campaign_id: int, enrollment_id: int) -> Enrollment:
    enrollment = _own_enrollment(session, campaign_id, enrollment_id)
    vendor = session.scalar(select(Vendor).where(Vendor.owner_id == user.id))
    if vendor is None or enrollment.vendor_id != vendor.id:
        raise NotFound(PromotionErrorCode.ENROLLMENT_NOT_FOUND, _("No such enrollment."))
    if now() >= enrollment.campaign.starts_at and enrollment.campaign.state != "draft":
        raise Conflict(PromotionErrorCode.INVALID_TRANSITION, _("Enrollments can be withdrawn only before the start."))
    if enrollment.status not in ("enrolled", "pending_approval"):
        raise Conflict(PromotionErrorCode.INVALID_TRANSITION,
                       _("Only an enrolled or pending product can be withdrawn."), current_status=enrollment.status)
    enrollment.status = "withdrawn"
    mark_changed(enrollment.campaign)
    touch_product(session, session.get(Product, enrollment.product_id))
    session.commit()
    return enrollment


def recheck_vendor(session: Session, vendor: Vendor) -> list[Enrollment]:
    """The vendor's country or MSME class changed: its products that no longer meet a campaign's rules leave
    it (status `removed`, the failed rule as the reason), in the vendor's own transaction, so the festival
    price, the search campaign filter and carts follow at once."""
    active = ("enrolled", "pending_approval")
    campaign_ids = set(session.scalars(select(Enrollment.campaign_id).where(
        Enrollment.vendor_id == vendor.id, Enrollment.status.in_(active))))
    if not campaign_ids:
        return []
    # campaigns before enrollments, by id: the order checkout takes them in (no deadlock with a sale)
    campaigns = session.scalars(select(Campaign).where(Campaign.id.in_(campaign_ids), Campaign.state != "ended")
                                .order_by(Campaign.id).with_for_update().execution_options(populate_existing=True))
    by_id = {c.id: c for c in campaigns if c.status() != rules.ENDED}
    if not by_id:
        return []
    enrollments = list(session.scalars(
        select(Enrollment).where(Enrollment.vendor_id == vendor.id, Enrollment.campaign_id.in_(by_id),
                                 Enrollment.status.in_(active))
        .order_by(Enrollment.id).with_for_update().execution_options(populate_existing=True)))
    removed = []
    for enrollment in enrollments:
        campaign = by_id[enrollment.campaign_id]
        # the origin rule reads the product's own origin country (a vendor may sell goods made elsewhere)
        reasons = _eligibility(campaign).vendor_reasons(session.get(Product, enrollment.product_id).origin_country,
                                                        vendor.msme_class)
        if not reasons:
            continue
        was_enrolled = enrollment.status == "enrolled"
        enrollment.status = "removed"
        enrollment.reason = "; ".join(reasons) + " (the vendor's profile changed)"
        enrollment.decided_by, enrollment.decided_at = None, now()
        mark_changed(campaign)   # a new pricing version: prices everywhere drop the offer
        if was_enrolled:
            touch_product(session, session.get(Product, enrollment.product_id))
        removed.append(enrollment)
    return removed


def enrollments_for(session: Session, user: User, campaign_id: int) -> list[Enrollment]:
    campaign = find(session, campaign_id)
    query = select(Enrollment).where(Enrollment.campaign_id == campaign.id).order_by(Enrollment.id)
    if user.role not in MANAGERS:
        vendor = session.scalar(select(Vendor).where(Vendor.owner_id == user.id))
        query = query.where(Enrollment.vendor_id == (vendor.id if vendor else -1))
    return list(session.scalars(query))
