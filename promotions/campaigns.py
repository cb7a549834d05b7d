"""A campaign's lifecycle: who manages campaigns, finding them, creating and changing them, moving them
through launch, pause, resume and end, and listing them with their status at this instant."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from catalog.models import Category
from marketplace.accounts.models import Role, User
from marketplace.kernel.clock import now
from marketplace.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from marketplace.kernel.pagination import paginate
from promotions import rules
from promotions.announcements import announce
from promotions.errors import PromotionErrorCode
from promotions.indexing import touch_products
from promotions.models import Campaign

MANAGERS = (Role.CAMPAIGN_MANAGER, Role.ADMIN)
#: What may still change once a campaign is live (launched, scheduled, active or paused).
LIVE_SAFE_FIELDS = {"name", "description", "ends_at", "budget", "boost", "max_uses_per_customer"}


def require_manager(user: User) -> None:
    if user.role not in MANAGERS:
        raise Forbidden(PromotionErrorCode.NOT_A_MANAGER, _("Only campaign managers and admins manage campaigns."))


def find(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(PromotionErrorCode.CAMPAIGN_NOT_FOUND, _("No such campaign."))
    return campaign


def locked(session: Session, campaign_id: int) -> Campaign:
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
    require_manager(user)
    _check_slug_free(session, data["slug"])
    _check_categories(session, data)
    campaign = Campaign(state="draft", budget_spent=Decimal(0), created_by=user.id, description={},
                        eligibility={}, boost=Decimal("1.5"))
    _apply(campaign, data)
    session.add(campaign)
    _commit_unique_slug(session)
    return campaign


def update_campaign(session: Session, user: User, campaign_id: int, data: dict[str, Any]) -> Campaign:
    require_manager(user)
    campaign = locked(session, campaign_id)
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
    touch_products(session, campaign)
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
    require_manager(user)
    campaign = locked(session, campaign_id)
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
    touch_products(session, campaign)
    session.commit()
    announce(session)
    return campaign


def status_clause(status: str, at: datetime) -> ColumnElement[bool]:
    """`rules.status_at(...) == status` as a SQL condition on `campaigns`, for listings filtered by status."""
    running = Campaign.ends_at > at
    if status == rules.DRAFT:
        return Campaign.state == "draft"
    if status == rules.ENDED:
        return and_(Campaign.state != "draft", or_(Campaign.state == "ended", Campaign.ends_at <= at))
    if status == rules.PAUSED:
        return and_(Campaign.state == "paused", running)
    if status == rules.SCHEDULED:
        return and_(Campaign.state == "launched", running, Campaign.starts_at > at)
    if status == rules.ACTIVE:
        return and_(Campaign.state == "launched", running, Campaign.starts_at <= at)
    return false()


def list_campaigns(session: Session, viewer: User | None, status: str | None, page: int,
                   per_page: int) -> dict[str, Any]:
    """A page of campaigns (`{items, total, page, per_page}`), the latest start first; drafts only for managers."""
    query = select(Campaign).order_by(Campaign.starts_at.desc(), Campaign.id)
    if viewer is None or viewer.role not in MANAGERS:
        query = query.where(Campaign.state != "draft")
    if status:
        query = query.where(status_clause(status, now()))
    return paginate(session, query, page, per_page)
