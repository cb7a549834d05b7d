"""Festival campaigns: lifecycle, enrollment, the offers pricing uses, limits at checkout, results."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from catalog.models import Category, Product
from marketplace.kernel import events
from marketplace.accounts.models import Role, User
from marketplace.kernel.clock import now
from marketplace.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from marketplace.kernel.money import Money
from marketplace.rates.conversion import NoRate, RateTable
from promotions import claims, rules
from promotions.indexing import mark_changed as _changed
from promotions.indexing import touch_product as _touch_product
from promotions.indexing import touch_products as _touch_products
from promotions.report import campaign_sales
from promotions.errors import PromotionErrorCode
from promotions.models import Campaign, Enrollment
from vendors.models import Vendor

MANAGERS = (Role.CAMPAIGN_MANAGER, Role.ADMIN)
#: What may still change once a campaign is live (launched, scheduled, active or paused).
LIVE_SAFE_FIELDS = {"name", "description", "ends_at", "budget", "boost", "max_uses_per_customer"}


def _require_manager(user: User) -> None:
    if user.role not in MANAGERS:
        raise Forbidden(PromotionErrorCode.NOT_A_MANAGER, _("Only campaign managers and admins manage campaigns."))


def find(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(PromotionErrorCode.CAMPAIGN_NOT_FOUND, _("No such campaign."))
    return campaign


def _locked(session: Session, campaign_id: int) -> Campaign:
    """The campaign row, locked (PostgreSQL; SQLite's write transactions are serialized) and re-read: the
    status checked by the caller is the one its change commits over."""
    campaign = session.scalar(select(Campaign).where(Campaign.id == campaign_id).with_for_update()
                              .execution_options(populate_existing=True))
    if campaign is None:
        raise NotFound(PromotionErrorCode.CAMPAIGN_NOT_FOUND, _("No such campaign."))
    return campaign


def find_public(session: Session, slug: str, viewer: User | None = None) -> Campaign:
    campaign = session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None or (campaign.state == "draft" and (viewer is None or viewer.role not in MANAGERS)):
        raise NotFound(PromotionErrorCode.CAMPAIGN_NOT_FOUND, _("No such campaign."))
    return campaign


def _apply(campaign: Campaign, data: dict[str, Any]) -> None:
    for name in ("slug", "name", "description", "starts_at", "ends_at", "max_uses_per_customer", "stock_cap",
                 "requires_approval"):
        if name in data:
            setattr(campaign, name, data[name])
    if "boost" in data:
        campaign.boost = data["boost"]
    if "discount" in data:
        discount = data["discount"]
        campaign.discount_type = discount["type"]
        campaign.discount_percent = discount.get("value")
        campaign.discount_amounts = ([[c, str(a)] for c, a in discount["amounts"].items()]
                                     if discount["type"] == "fixed" else None)
    if "eligibility" in data:
        rules_ = dict(data["eligibility"])
        if rules_.get("min_price") is not None:
            price = rules_["min_price"]
            rules_["min_price"] = {"amount": str(price.amount), "currency": price.currency}
        campaign.eligibility = rules_
    if "budget" in data:
        budget = data["budget"]
        if budget is not None and campaign.budget_currency not in (None, budget.currency) and campaign.budget_spent:
            raise Invalid(PromotionErrorCode.UNSAFE_CHANGE, _("A budget already spent keeps its currency."),
                          field="budget.currency")
        if budget is not None and budget.amount < campaign.budget_spent:
            raise Invalid(PromotionErrorCode.UNSAFE_CHANGE, _("The budget cannot go below what was already given."),
                          field="budget")
        campaign.budget_amount = budget.amount if budget else None
        campaign.budget_currency = budget.currency if budget else None
    if campaign.ends_at <= campaign.starts_at:
        raise Invalid(PromotionErrorCode.INVALID_WINDOW, _("A campaign must end after it starts."), field="ends_at")


def _slug_taken() -> Conflict:
    return Conflict(PromotionErrorCode.SLUG_TAKEN, _("A campaign with this slug exists."), field="slug")


def _check_slug_free(session: Session, slug: str, campaign_id: int | None = None) -> None:
    query = select(func.count()).select_from(Campaign).where(Campaign.slug == slug)
    if campaign_id is not None:
        query = query.where(Campaign.id != campaign_id)
    if session.scalar(query):
        raise _slug_taken()


def _check_categories(session: Session, data: dict[str, Any]) -> None:
    """Eligibility may name only categories of the catalog's tree."""
    wanted = set((data.get("eligibility") or {}).get("categories") or ())
    if not wanted:
        return
    unknown = sorted(wanted - set(session.scalars(select(Category.slug).where(Category.slug.in_(wanted)))))
    if unknown:
        raise Invalid(PromotionErrorCode.UNKNOWN_CATEGORY,
                      _("Unknown categories: %(slugs)s.", slugs=", ".join(unknown)), field="eligibility.categories")


def _commit_unique_slug(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError:  # a concurrent request took the slug between the check and the commit
        session.rollback()
        raise _slug_taken() from None


def create(session: Session, user: User, data: dict[str, Any]) -> Campaign:
    _require_manager(user)
    _check_slug_free(session, data["slug"])
    _check_categories(session, data)
    campaign = Campaign(state="draft", budget_spent=Decimal(0), created_by=user.id, description={},
                        eligibility={}, boost=Decimal("1.5"))
    _apply(campaign, data)
    session.add(campaign)
    _commit_unique_slug(session)
    return campaign


def update_campaign(session: Session, user: User, campaign_id: int, data: dict[str, Any]) -> Campaign:
    _require_manager(user)
    campaign = _locked(session, campaign_id)
    status = campaign.status()
    if status == rules.ENDED:
        raise Conflict(PromotionErrorCode.UNSAFE_CHANGE, _("An ended campaign cannot change."))
    if status != rules.DRAFT:
        unsafe = sorted(set(data) - LIVE_SAFE_FIELDS)
        if unsafe:
            raise Invalid(PromotionErrorCode.UNSAFE_CHANGE,
                          _("A live campaign can change only %(fields)s.", fields=", ".join(sorted(LIVE_SAFE_FIELDS))),
                          errors={name: [_("Cannot change while the campaign is live.")] for name in unsafe})
        if "ends_at" in data and data["ends_at"] <= now():
            raise Invalid(PromotionErrorCode.UNSAFE_CHANGE, _("Use POST .../end to end a campaign now."),
                          field="ends_at")
    if "slug" in data:
        _check_slug_free(session, data["slug"], campaign.id)
    _check_categories(session, data)
    _apply(campaign, data)
    _touch_products(session, campaign)
    _commit_unique_slug(session)
    return campaign


TRANSITIONS = {
    # action: (allowed statuses now, new state)
    "launch": ((rules.DRAFT,), "launched"),
    "pause": ((rules.SCHEDULED, rules.ACTIVE), "paused"),
    "resume": ((rules.PAUSED,), "launched"),
    "end": ((rules.SCHEDULED, rules.ACTIVE, rules.PAUSED), "ended"),
}


def transition(session: Session, user: User, campaign_id: int, action: str) -> Campaign:
    _require_manager(user)
    campaign = _locked(session, campaign_id)
    allowed, state = TRANSITIONS[action]
    status = campaign.status()
    if status not in allowed:
        raise Conflict(PromotionErrorCode.INVALID_TRANSITION,
                       _("A campaign that is %(status)s cannot %(action)s.", status=status, action=action),
                       current_status=status)
    if action == "launch" and campaign.ends_at <= now():
        raise Conflict(PromotionErrorCode.INVALID_WINDOW, _("This campaign's window is already over."))
    campaign.state = state
    if action == "end" and campaign.ends_at > now():
        campaign.ends_at = now()
    _touch_products(session, campaign)
    session.commit()
    announce(session)
    return campaign


def list_campaigns(session: Session, viewer: User | None, status: str | None, page: int,
                   per_page: int) -> tuple[list[Campaign], int]:
    query = select(Campaign).order_by(Campaign.starts_at.desc(), Campaign.id)
    if viewer is None or viewer.role not in MANAGERS:
        query = query.where(Campaign.state != "draft")
    campaigns = list(session.scalars(query))
    at = now()
    if status:
        campaigns = [c for c in campaigns if c.status(at) == status]
    return campaigns[(page - 1) * per_page: page * per_page], len(campaigns)


# -- enrollment --------------------------------------------------------------

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
    campaign = _locked(session, campaign_id)
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
            reasons = rules_.reasons(vendor.country, product.category.path, vendor.msme_class, product.price,
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
            _touch_product(session, product)
        results.append({"product_id": product_id, "status": status, "enrollment_id": enrollment.id,
                        "reason": enrollment.reason})
    _changed(campaign)
    session.commit()
    return results


def _own_enrollment(session: Session, campaign_id: int, enrollment_id: int) -> Enrollment:
    """The enrollment row, locked and re-read: two decisions racing, the second sees the first's status.
    Its campaign is locked first, the order checkout and vendor re-checks take them in."""
    _locked(session, campaign_id)
    enrollment = session.scalar(select(Enrollment).where(Enrollment.id == enrollment_id).with_for_update()
                                .execution_options(populate_existing=True))
    if enrollment is None or enrollment.campaign_id != campaign_id:
        raise NotFound(PromotionErrorCode.ENROLLMENT_NOT_FOUND, _("No such enrollment."))
    return enrollment


def decide(session: Session, user: User, campaign_id: int, enrollment_id: int, approve: bool,
           reason: str | None) -> Enrollment:
    _require_manager(user)
    enrollment = _own_enrollment(session, campaign_id, enrollment_id)
    if enrollment.status != "pending_approval":
        raise Conflict(PromotionErrorCode.INVALID_TRANSITION, _("Only a pending enrollment can be decided."),
                       current_status=enrollment.status)
    enrollment.status = "enrolled" if approve else "rejected"
    enrollment.reason = reason if not approve else None
    enrollment.decided_by, enrollment.decided_at = user.id, now()
    _changed(enrollment.campaign)
    if approve:
        _touch_product(session, session.get(Product, enrollment.product_id))
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
    _changed(enrollment.campaign)
    _touch_product(session, session.get(Product, enrollment.product_id))
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
    locked = session.scalars(select(Campaign).where(Campaign.id.in_(campaign_ids), Campaign.state != "ended")
                             .order_by(Campaign.id).with_for_update().execution_options(populate_existing=True))
    by_id = {c.id: c for c in locked if c.status() != rules.ENDED}
    if not by_id:
        return []
    enrollments = list(session.scalars(
        select(Enrollment).where(Enrollment.vendor_id == vendor.id, Enrollment.campaign_id.in_(by_id),
                                 Enrollment.status.in_(active))
        .order_by(Enrollment.id).with_for_update().execution_options(populate_existing=True)))
    removed = []
    for enrollment in enrollments:
        campaign = by_id[enrollment.campaign_id]
        reasons = _eligibility(campaign).vendor_reasons(vendor.country, vendor.msme_class)
        if not reasons:
            continue
        was_enrolled = enrollment.status == "enrolled"
        enrollment.status = "removed"
        enrollment.reason = "; ".join(reasons) + " (the vendor's profile changed)"
        enrollment.decided_by, enrollment.decided_at = None, now()
        _changed(campaign)   # a new pricing version: prices everywhere drop the offer
        if was_enrolled:
            _touch_product(session, session.get(Product, enrollment.product_id))
        removed.append(enrollment)
    return removed


def enrollments_for(session: Session, user: User, campaign_id: int) -> list[Enrollment]:
    campaign = find(session, campaign_id)
    query = select(Enrollment).where(Enrollment.campaign_id == campaign.id).order_by(Enrollment.id)
    if user.role not in MANAGERS:
        vendor = session.scalar(select(Vendor).where(Vendor.owner_id == user.id))
        query = query.where(Enrollment.vendor_id == (vendor.id if vendor else -1))
    return list(session.scalars(query))


# -- limits at checkout: promotions/claims.py (kept here until every caller imports it from there) ----

claim = claims.claim
release = claims.release


# -- search index and partners learn about starts and ends ----------------------

def announce(session: Session) -> int:
    """Worker job: when a campaign starts or ends, re-index its products and tell partners."""
    done = 0
    at = now()
    for campaign in session.scalars(select(Campaign).where(Campaign.state != "draft",
                                                           (Campaign.announced_start.is_(False))
                                                           | (Campaign.announced_end.is_(False)))):
        status = campaign.status(at)
        if status == rules.ACTIVE and not campaign.announced_start:
            campaign.announced_start = True
            _touch_products(session, campaign)
            events.publish(session, "campaign.started", _event_data(campaign))
            done += 1
        elif status == rules.ENDED and not campaign.announced_end:
            if campaign.announced_start:
                events.publish(session, "campaign.ended", _event_data(campaign))
            campaign.announced_start = campaign.announced_end = True
            _touch_products(session, campaign)
            done += 1
    session.commit()
    return done


def _event_data(campaign: Campaign) -> dict[str, Any]:
    return {"id": campaign.id, "slug": campaign.slug, "name": campaign.name,
            "starts_at": campaign.starts_at.isoformat(), "ends_at": campaign.ends_at.isoformat()}


# -- results -----------------------------------------------------------------

def report(session: Session, user: User, campaign_id: int, currency: str, table: RateTable) -> dict[str, Any]:
    """Orders, units, GMV, discount given and refunds: per currency and in `currency`, by country and vendor.

    `gmv` is what paid orders charged for the campaign's lines; `refunded` is the part of it given back
    (a vendor order's refunds spread over its lines pro rata, rounded half up), `net_gmv` the rest."""
    _require_manager(user)
    campaign = find(session, campaign_id)
    sales = campaign_sales(session, campaign.id)
    vendors = {v.id: v for v in session.scalars(select(Vendor).where(Vendor.id.in_({s.vendor_id for s in sales})))}
    zero = Money.zero(currency)

    def bucket(**keys: Any) -> dict[str, Any]:
        money = Money.zero(keys.get("currency", currency))
        return {**keys, "orders": set(), "units": 0, "gmv": money, "discount": money, "refunded": money,
                "net_gmv": money}

    totals = bucket()
    per_currency: dict[str, dict[str, Any]] = {}
    by_country: dict[str, dict[str, Any]] = {}
    by_vendor: dict[int, dict[str, Any]] = {}
    msme_gmv = zero
    for sale in sales:
        vendor = vendors[sale.vendor_id]
        vendor_id, vendor_name, country, msme_class = vendor.id, vendor.display_name, vendor.country, vendor.msme_class
        order_id, quantity, order_currency = sale.order_id, sale.quantity, sale.gmv.currency
        amounts = {"gmv": sale.gmv, "discount": sale.discount, "refunded": sale.refunded,
                   "net_gmv": sale.gmv - sale.refunded}
        converted = {name: table.convert(value, currency) for name, value in amounts.items()}
        slot = per_currency.setdefault(order_currency, bucket(currency=order_currency))
        for target in (totals, slot,
                       by_country.setdefault(country, bucket(origin_country=country)),
                       by_vendor.setdefault(vendor_id, bucket(vendor_id=vendor_id, vendor=vendor_name,
                                                              origin_country=country, msme_class=msme_class))):
            target["orders"].add(order_id)
            target["units"] += quantity
            for name, value in (amounts if target is slot else converted).items():
                target[name] = target[name] + value
        if msme_class in ("micro", "small", "medium"):
            msme_gmv = msme_gmv + converted["gmv"]

    def finish(bucket: dict[str, Any]) -> dict[str, Any]:
        return {**bucket, "orders": len(bucket["orders"])}

    share = (msme_gmv.amount / totals["gmv"].amount).quantize(Decimal("0.0001")) if totals["gmv"].amount else None
    return {
        "campaign": {"id": campaign.id, "slug": campaign.slug, "status": campaign.status()},
        "currency": currency,
        "totals": finish(totals),
        "per_currency": [finish(b) for b in per_currency.values()],
        "by_origin_country": sorted((finish(b) for b in by_country.values()), key=lambda b: -b["gmv"].amount),
        "by_vendor": sorted((finish(b) for b in by_vendor.values()), key=lambda b: -b["gmv"].amount),
        "msme_share": share,
        "budget": campaign.budget, "budget_spent": campaign.spent,
    }


def report_csv(data: dict[str, Any]) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "key", "orders", "units", "gmv", "discount", "currency", "refunded", "net_gmv"])

    def write(section: str, key: str, row: dict[str, Any], row_currency: str) -> None:
        writer.writerow([section, key, row["orders"], row["units"], row["gmv"].amount, row["discount"].amount,
                         row_currency, row["refunded"].amount, row["net_gmv"].amount])

    write("total", "", data["totals"], data["currency"])
    for row in data["per_currency"]:
        write("currency", row["currency"], row, row["currency"])
    for row in data["by_origin_country"]:
        write("origin_country", row["origin_country"], row, data["currency"])
    for row in data["by_vendor"]:
        write("vendor", f"{row['vendor_id']} {row['vendor']}", row, data["currency"])
    writer.writerow(["msme_share", "", "", "", data["msme_share"] if data["msme_share"] is not None else "", "", "",
                     "", ""])
    return out.getvalue()


def report_currency(requested: str | None) -> str:
    return requested or current_app.config["BASE_CURRENCY"]

