"""Vendor onboarding: sign-up, tax-ID check, MSME classification, review."""
from __future__ import annotations

from datetime import date
from typing import Any, Callable

import phonenumbers
from babel.numbers import get_territory_currencies
from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.kernel import outbox
from marketplace.accounts.models import Role, User
from marketplace.kernel.extensions import db
from marketplace.kernel.errors import Conflict, ErrorCode, Forbidden, Invalid, NotFound
from marketplace.kernel.money import Money
from marketplace.kernel.pagination import paginate
from marketplace.rates import services as rates
from vendors import disclosures, msme, tax_ids
from vendors.errors import VendorErrorCode
from vendors.models import Vendor, VendorStatus, VendorStatusChange
from vendors.topics import SEARCH_VENDOR_TOPIC

#: How many days after delivery a vendor accepts returns (default 14); returns ask it here or in disclosures.
return_window_days = disclosures.return_window_days

#: action -> (statuses it may start from, status it leads to, whether a reason is required)
TRANSITIONS: dict[str, tuple[tuple[VendorStatus, ...], VendorStatus, bool]] = {
    "approve": ((VendorStatus.PENDING_REVIEW, VendorStatus.SUSPENDED), VendorStatus.APPROVED, False),
    "reject": ((VendorStatus.PENDING_REVIEW,), VendorStatus.REJECTED, True),
    "suspend": ((VendorStatus.APPROVED,), VendorStatus.SUSPENDED, True),
}
#: The vendor's identity: changing any of these (or proposing another payout account) sends an approved
#: vendor back to review.
REVIEWED_FIELDS = ("legal_name", "tax_id", "country")
#: What search documents and campaign eligibility show of a vendor.
SHOWN_IN_SEARCH = ("display_name", "msme_class")
#: What campaign eligibility reads of a vendor (a change re-checks its enrollments).
ELIGIBILITY_FIELDS = ("country", "msme_class")

EligibilityListener = Callable[[Session, Vendor], None]
#: `app.extensions` key of the listeners called inside the vendor's own transaction when its country or MSME
#: class changes. Campaigns sit above vendors, so the app registers theirs here instead of vendors importing them.
ELIGIBILITY_LISTENERS = "vendors.eligibility_listeners"



def caller_vendor(session: Session, user: User, detail: str | None = None, lock: bool = False) -> Vendor:
    """The vendor the caller owns; 403 `no_vendor_profile` (with `detail` when given) if there is none.
    `lock` takes a shared row lock, so the vendor's status cannot change under the caller's transaction."""
    query = select(Vendor).where(Vendor.owner_id == user.id)
    vendor = session.scalar(query.with_for_update(read=True) if lock else query)
    if vendor is None:
        raise Forbidden(VendorErrorCode.NO_VENDOR_PROFILE, detail or _("Create your vendor profile first."))
    return vendor

def on_eligibility_change(app: Flask, listener: EligibilityListener) -> None:
    listeners = app.extensions.setdefault(ELIGIBILITY_LISTENERS, [])
    if listener not in listeners:
        listeners.append(listener)


def payouts_allowed(vendor: Vendor) -> bool:
    """Money may be sent to the vendor: it is approved (not back in review, suspended or rejected) and has
    a reviewed payout account."""
    return vendor.status == VendorStatus.APPROVED and vendor.stripe_account_id is not None


def payouts_allowed_clause() -> ColumnElement[bool]:
    """`payouts_allowed` as a SQL condition on `vendors`, for queries that pick whom to pay."""
    return and_(Vendor.status == VendorStatus.APPROVED, Vendor.stripe_account_id.is_not(None))


def country_currency(country: str) -> str:
    currencies = get_territory_currencies(country, date.today())
    return currencies[0] if currencies else current_app.config["BASE_CURRENCY"]


def check_country(country: str) -> None:
    if country not in current_app.config["ELIGIBLE_COUNTRIES"]:
        raise Invalid(VendorErrorCode.COUNTRY_NOT_ELIGIBLE,
                      _("Vendors from %(country)s cannot onboard; eligible countries: %(list)s.",
                        country=country, list=", ".join(current_app.config["ELIGIBLE_COUNTRIES"])),
                      field="country")


def check_tax_id(country: str, value: str) -> tax_ids.TaxId:
    try:
        return tax_ids.validate_tax_id(country, value)
    except tax_ids.InvalidTaxId as error:
        raise Invalid(VendorErrorCode.INVALID_TAX_ID, error.message, field="tax_id") from None


def normalize_phone(value: str, country: str, field: str = "phone") -> str:
    try:
        number = phonenumbers.parse(value, country)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise Invalid(VendorErrorCode.INVALID_PHONE,
                      _("Not a valid phone number for %(country)s; include the country code if it is foreign.",
                        country=country), field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def classify(session: Session, country: str, sector: str, employees: int, turnover: Money,
             investment: Money | None) -> msme.MsmeResult:
    """Apply the country's MSME rule, converting amounts into the rule's currency first."""
    rule = msme.rule_for(country)
    no_investment_rate: Invalid | None = None
    if rule.currency:
        turnover = rates.convert(session, turnover, rule.currency, field="annual_turnover")
        if investment is not None:
            # Only India's rule uses investment: a missing rate matters only if the rule asks for it.
            try:
                investment = rates.convert(session, investment, rule.currency, field="investment")
            except Invalid as error:
                investment, no_investment_rate = None, error
    try:
        return msme.classify(country, sector, employees, turnover.amount,
                             investment.amount if investment is not None else None)
    except msme.MsmeInputError as error:
        if error.field == "investment" and no_investment_rate is not None:
            raise no_investment_rate from None
        raise Invalid(VendorErrorCode.MSME_INPUT_MISSING, str(error), field=error.field) from None


def _ensure_tax_id_free(session: Session, country: str, tax_id: str, vendor_id: int | None = None) -> None:
    query = select(func.count()).select_from(Vendor).where(Vendor.country == country, Vendor.tax_id == tax_id)
    if vendor_id is not None:
        query = query.where(Vendor.id != vendor_id)
    if session.scalar(query):
        raise Conflict(VendorErrorCode.TAX_ID_TAKEN, _("A vendor with this tax ID is already onboarded."),
                       field="tax_id")


def _record(vendor: Vendor, to_status: VendorStatus, actor: User | None, reason: str | None) -> None:
    if vendor.id is not None and (vendor.status == VendorStatus.APPROVED) != (to_status == VendorStatus.APPROVED):
        # the vendor's products enter or leave the public catalog and search
        outbox.record(db.session, SEARCH_VENDOR_TOPIC, vendor.id)
    vendor.history.append(VendorStatusChange(from_status=vendor.status,
                                             to_status=to_status, reason=reason,
                                             actor_id=actor.id if actor else None))
    vendor.status = to_status
    vendor.status_reason = reason


def _apply_profile(session: Session, vendor: Vendor, data: dict[str, Any]) -> None:
    """Validate and set profile fields on `vendor` (new or existing)."""
    country = data.get("country", vendor.country)
    check_country(country)
    if "tax_id" in data or "country" in data:
        tax = check_tax_id(country, data.get("tax_id", vendor.tax_id))
        _ensure_tax_id_free(session, country, tax.number, vendor.id)
        vendor.tax_id, vendor.tax_id_type = tax.number, tax.type
    if "phone" in data or "country" in data:
        vendor.phone = normalize_phone(data.get("phone", vendor.phone), country)
    for name in ("legal_name", "display_name", "contact_email", "sector", "employees", "description"):
        if name in data:
            setattr(vendor, name, data[name])
    if "annual_turnover" in data:
        vendor.annual_turnover = data["annual_turnover"]
    if "investment" in data:
        vendor.investment = data["investment"]
    _apply_disclosures(vendor, data, country)
    vendor.country = country
    vendor.currency = country_currency(country)
    result = classify(session, country, vendor.sector, vendor.employees, vendor.annual_turnover, vendor.investment)
    vendor.msme_class, vendor.msme_rule, vendor.msme_subtype = result.msme_class, result.rule, result.subtype


def _apply_disclosures(vendor: Vendor, data: dict[str, Any], country: str) -> None:
    """Set the seller disclosures sent (each part replaced whole), phones normalized to E.164 with the
    address's country (else the vendor's) for national numbers."""
    address = data.get("address", vendor.address) or {}
    region = address.get("country") or country
    for part in disclosures.PARTS:
        if part not in data:
            continue
        value = dict(data[part])
        if value.get("phone"):
            value["phone"] = normalize_phone(value["phone"], region, field=f"{part}.phone")
        setattr(vendor, part, value)


def _commit(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(VendorErrorCode.TAX_ID_TAKEN, _("A vendor with this tax ID is already onboarded."),
                       field="tax_id") from None


def create_vendor(session: Session, owner: User, data: dict[str, Any]) -> Vendor:
    if session.scalar(select(func.count()).select_from(Vendor).where(Vendor.owner_id == owner.id)):
        raise Conflict(VendorErrorCode.PROFILE_EXISTS, _("This account already has a vendor profile."))
    vendor = Vendor(owner_id=owner.id, description={})
    _apply_profile(session, vendor, data)
    vendor.stripe_account_id = data.get("stripe_account_id")  # reviewed with the rest before any payout
    _record(vendor, VendorStatus.PENDING_REVIEW, owner, None)
    session.add(vendor)
    _commit(session)
    return vendor


def find_vendor(session: Session, vendor_id: int) -> Vendor:
    vendor = session.get(Vendor, vendor_id)
    if vendor is None:
        raise NotFound(VendorErrorCode.NOT_FOUND, _("No such vendor."))
    return vendor


def can_see_private(vendor: Vendor, viewer: User | None) -> bool:
    return viewer is not None and (viewer.id == vendor.owner_id or viewer.role == Role.ADMIN)


def get_vendor(session: Session, vendor_id: int, viewer: User | None) -> tuple[Vendor, bool]:
    """The vendor and whether `viewer` may see its private fields; unapproved vendors are hidden."""
    vendor = find_vendor(session, vendor_id)
    private = can_see_private(vendor, viewer)
    if not vendor.is_public and not private:
        raise NotFound(VendorErrorCode.NOT_FOUND, _("No such vendor."))
    return vendor, private


def vendor_history(session: Session, vendor_id: int, viewer: User) -> list[VendorStatusChange]:
    vendor = find_vendor(session, vendor_id)
    if not can_see_private(vendor, viewer):
        raise NotFound(VendorErrorCode.NOT_FOUND, _("No such vendor."))
    return list(vendor.history)


def _locked_vendor(session: Session, vendor_id: int) -> Vendor:
    """The vendor row, locked (PostgreSQL; SQLite's write transactions are serialized) and re-read, so a
    status checked here is still the status when this transaction commits."""
    vendor = session.scalar(select(Vendor).where(Vendor.id == vendor_id).with_for_update()
                            .execution_options(populate_existing=True))
    if vendor is None:
        raise NotFound(VendorErrorCode.NOT_FOUND, _("No such vendor."))
    return vendor


def _propose_payout_account(vendor: Vendor, account: str | None) -> bool:
    """A new payout account waits for review beside the reviewed one; True when something awaits review.
    Removing the account, or going back to the reviewed one, needs no review."""
    if account is None or account == vendor.stripe_account_id:
        if account is None:
            vendor.stripe_account_id = None
        vendor.pending_stripe_account_id = None
        return False
    changed = account != vendor.pending_stripe_account_id
    vendor.pending_stripe_account_id = account
    return changed


def update_vendor(session: Session, actor: User, vendor_id: int, data: dict[str, Any]) -> Vendor:
    vendor = _locked_vendor(session, vendor_id)
    if vendor.owner_id != actor.id:
        if vendor.is_public:
            raise Forbidden(VendorErrorCode.NOT_OWNER, _("Only the vendor's owner may change it."))
        raise NotFound(VendorErrorCode.NOT_FOUND, _("No such vendor."))
    before = {name: getattr(vendor, name) for name in REVIEWED_FIELDS}
    shown_before = [getattr(vendor, name) for name in SHOWN_IN_SEARCH]
    eligibility_before = [getattr(vendor, name) for name in ELIGIBILITY_FIELDS]
    _apply_profile(session, vendor, data)
    changed = [name for name in REVIEWED_FIELDS if getattr(vendor, name) != before[name]]
    if "stripe_account_id" in data and _propose_payout_account(vendor, data["stripe_account_id"]):
        changed.append("stripe_account_id")
    if vendor.status == VendorStatus.APPROVED and shown_before != [getattr(vendor, n) for n in SHOWN_IN_SEARCH]:
        outbox.record(session, SEARCH_VENDOR_TOPIC, vendor.id)  # products carry the vendor's name and class
    if eligibility_before != [getattr(vendor, name) for name in ELIGIBILITY_FIELDS]:
        for listener in current_app.extensions.get(ELIGIBILITY_LISTENERS, []):  # campaigns drop ineligible products
            listener(session, vendor)
    if vendor.status == VendorStatus.APPROVED and changed:
        _record(vendor, VendorStatus.PENDING_REVIEW, actor,
                f"Identity changed ({', '.join(changed)}); back to review, payouts held until approved.")
    elif vendor.status == VendorStatus.REJECTED:
        _record(vendor, VendorStatus.PENDING_REVIEW, actor, "Resubmitted after rejection.")
    _commit(session)
    return vendor


def change_status(session: Session, actor: User, vendor_id: int, action: str, reason: str | None) -> Vendor:
    if actor.role != Role.ADMIN:
        raise Forbidden(ErrorCode.FORBIDDEN, _("Only admins review vendors."))
    sources, target, needs_reason = TRANSITIONS[action]
    vendor = _locked_vendor(session, vendor_id)
    if vendor.status not in sources:
        raise Conflict(VendorErrorCode.INVALID_TRANSITION,
                       _("A vendor that is %(status)s cannot be %(action)s.", status=vendor.status,
                         action=target), current_status=vendor.status)
    if needs_reason and not (reason or "").strip():
        raise Invalid(ErrorCode.VALIDATION_ERROR, _("A reason is required."), field="reason")
    missing = disclosures.missing_disclosures(vendor)
    if target == VendorStatus.APPROVED and missing:
        raise Conflict(VendorErrorCode.DISCLOSURES_MISSING,
                       _("The vendor must complete its seller disclosures before it is approved: %(missing)s.",
                         missing=", ".join(missing)),
                       errors={name: [_("Required before approval.")] for name in missing},
                       disclosures_missing=missing, current_status=vendor.status)
    if target == VendorStatus.APPROVED and vendor.pending_stripe_account_id is not None:
        # the reviewed payout account is replaced only now
        vendor.stripe_account_id, vendor.pending_stripe_account_id = vendor.pending_stripe_account_id, None
    _record(vendor, target, actor, reason or None)
    session.commit()
    return vendor


def review_queue(session: Session, status: str | None, page: int, per_page: int) -> dict[str, Any]:
    query = select(Vendor)
    if status:
        query = query.where(Vendor.status == status)
    return paginate(session, query.order_by(Vendor.created_at, Vendor.id), page, per_page)
