"""Opening a dispute, and finding the disputes a caller may see (the operator queue, each party's own)."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from marketplace.accounts.models import Role, User
from marketplace.aftersale.disputes import deadlines, steps
from marketplace.aftersale.disputes.errors import DisputeErrorCode
from marketplace.aftersale.disputes.models import OPEN_STAGES, Dispute, DisputeEvent, DisputeStage, DisputeType, Party
from marketplace.checkout import calculations
from marketplace.checkout.models import Order, Refund, VendorOrder, VendorOrderStatus
from marketplace.kernel.clock import now
from marketplace.kernel.errors import Conflict, Invalid, NotFound, is_unique_violation
from marketplace.kernel.money import Money
from marketplace.kernel.pagination import paginate
from vendors.services import caller_vendor

#: Vendor orders a shopper may dispute: paid for, whether shipped or delivered yet or not.
DISPUTABLE = (VendorOrderStatus.PAID, VendorOrderStatus.SHIPPED, VendorOrderStatus.DELIVERED)


def refundable(session: Session, vendor_order: VendorOrder) -> Money:
    """What can still be refunded of a vendor order (order currency): its subtotal less what was refunded and
    what is pending at the provider (for it, or for the whole order)."""
    order = session.get(Order, vendor_order.order_id)
    pending = session.scalars(select(Refund.amount).where(
        Refund.order_id == order.id, Refund.status == "pending",
        or_(Refund.vendor_order_id.is_(None), Refund.vendor_order_id == vendor_order.id)))
    return Money(calculations.refundable(vendor_order.paid_amount, vendor_order.refunded_amount, pending),
                 order.currency)


def check_refund(session: Session, vendor_order: VendorOrder, amount: Money, field: str,
                 allow_zero: bool = False) -> None:
    """A refund asked for in a dispute (claim, proposal, decision): in the order's currency, above zero (or
    zero where `allow_zero`), never more than is still refundable."""
    currency = session.get(Order, vendor_order.order_id).currency
    if amount.currency != currency:
        raise Invalid(DisputeErrorCode.WRONG_CURRENCY, _("Use the order's currency (%(c)s).", c=currency),
                      field=f"{field}.currency")
    if amount.amount < 0 or (amount.amount == 0 and not allow_zero):
        raise Invalid(DisputeErrorCode.CLAIM_NOT_POSITIVE, _("The amount must be above zero."),
                      field=f"{field}.amount")
    room = refundable(session, vendor_order)
    if amount.amount > room.amount:
        raise Invalid(DisputeErrorCode.EXCEEDS_REFUNDABLE,
                      _("At most %(max)s %(c)s can still be refunded for this vendor order.", max=room.amount,
                        c=currency), field=f"{field}.amount", refundable=str(room.amount))


def open_dispute(session: Session, *, vendor_order_id: int, user_id: int, type: str, claim: Money,
                 description: str, return_id: int | None = None) -> Dispute:
    """Adds the dispute (stage negotiation, deadlines set), does not commit.

    `user_id` is the shopper who bought (404 for anyone else's vendor order); the vendor order must be paid,
    shipped or delivered (409 otherwise) and have no open dispute (409 `dispute_already_open`; a concurrent
    second one fails on the unique `open_vendor_order_id` when committed); the claim is in the order's
    currency, above zero and never more than is still refundable (422). The deadlines follow the rule of the
    shopper's shipping country (`deadline_rules.json`). The vendor order's payout is held until it closes."""
    vendor_order = session.get(VendorOrder, vendor_order_id)
    order = session.get(Order, vendor_order.order_id) if vendor_order is not None else None
    if order is None or order.user_id != user_id:
        raise NotFound(DisputeErrorCode.VENDOR_ORDER_NOT_FOUND, _("No such vendor order."), field="vendor_order_id")
    if type not in set(DisputeType):
        raise Invalid(DisputeErrorCode.INVALID_TYPE, _("Unknown dispute type."), field="type")
    if vendor_order.status not in DISPUTABLE:
        raise Conflict(DisputeErrorCode.VENDOR_ORDER_NOT_DISPUTABLE,
                       _("Only a paid, shipped or delivered vendor order can be disputed."),
                       current_status=vendor_order.status)
    if session.scalar(select(Dispute.id).where(Dispute.open_vendor_order_id == vendor_order.id)) is not None:
        raise Conflict(DisputeErrorCode.DISPUTE_ALREADY_OPEN, _("This vendor order already has an open dispute."),
                       field="vendor_order_id")
    check_refund(session, vendor_order, claim, "claim")
    opened_at = now()
    country = (order.shipping_address or {}).get("country") or ""
    rule = deadlines.rule_for(country)
    acknowledge_by, resolve_by = deadlines.deadlines(rule, opened_at)
    dispute = Dispute(order_id=order.id, vendor_order_id=vendor_order.id, vendor_id=vendor_order.vendor_id,
                      user_id=user_id, open_vendor_order_id=vendor_order.id, return_id=return_id, type=type,
                      stage=DisputeStage.NEGOTIATION, currency=order.currency, claim_amount=claim.amount,
                      description=description, destination_country=country[:2].upper(), rule_id=rule.id,
                      rule_source=rule.source, rule_effective_from=rule.effective_from,
                      acknowledge_by=acknowledge_by, resolve_by=resolve_by, created_at=opened_at,
                      updated_at=opened_at, proposals=[], history=[])
    by_return = return_id is not None
    dispute.history.append(DisputeEvent(action="opened", from_stage=None, to_stage=DisputeStage.NEGOTIATION,
                                        party=Party.SYSTEM if by_return else Party.SHOPPER,
                                        actor_id=None if by_return else user_id, at=opened_at,
                                        reason=_("Escalated from return #%(id)s.", id=return_id) if by_return else None))
    session.add(dispute)
    steps.hold_payout(session, dispute, True)
    steps.announce(session, dispute, "opened")
    return dispute


def create_dispute(session: Session, user: User, data: dict[str, Any]) -> Dispute:
    """`POST /disputes`: the shopper opens a dispute (one commit)."""
    try:
        dispute = open_dispute(session, vendor_order_id=data["vendor_order_id"], user_id=user.id,
                               type=data["type"], claim=data["claim"], description=data["description"])
        session.commit()
    except IntegrityError as error:  # a concurrent request opened one for the same vendor order first
        session.rollback()
        if not is_unique_violation(error):
            raise
        raise Conflict(DisputeErrorCode.DISPUTE_ALREADY_OPEN, _("This vendor order already has an open dispute."),
                       field="vendor_order_id") from None
    return dispute


def dispute_for(session: Session, user: User, dispute_id: int) -> tuple[Dispute, Party]:
    """A dispute the caller is a party to (or any, for an operator); 404 for anyone else."""
    dispute = session.get(Dispute, dispute_id)
    party = steps.party_of(session, dispute, user) if dispute is not None else None
    if party is None:
        raise steps.not_found()
    return dispute, party


def overdue_clause(moment):
    """`Dispute.is_overdue` as a SQL condition."""
    return and_(Dispute.stage.in_(OPEN_STAGES),
                or_(Dispute.resolve_by < moment,
                    and_(Dispute.acknowledged_at.is_(None), Dispute.acknowledge_by < moment)))


def disputes_of(session: Session, user: User, status: str | None, overdue: bool | None, page: int,
                per_page: int) -> dict[str, Any]:
    """A page of disputes, oldest deadline first: every dispute for operators (the queue), a shopper's own, a
    vendor's own. `status` is a stage, or `open` for every stage before closed; `overdue` keeps the disputes
    past a deadline (true) or within them (false)."""
    query = select(Dispute)
    if user.role == Role.ADMIN:
        pass
    elif user.role == Role.VENDOR:
        query = query.where(Dispute.vendor_id == caller_vendor(session, user).id)
    else:
        query = query.where(Dispute.user_id == user.id)
    if status == "open":
        query = query.where(Dispute.stage.in_(OPEN_STAGES))
    elif status:
        query = query.where(Dispute.stage == status)
    if overdue is not None:
        clause = overdue_clause(now())
        query = query.where(clause if overdue else ~clause)
    query = query.options(selectinload(Dispute.proposals), selectinload(Dispute.history))
    return paginate(session, query.order_by(Dispute.resolve_by, Dispute.id), page, per_page)

