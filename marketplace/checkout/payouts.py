"""Vendor payouts: crediting paid vendor orders to approved vendors' accounts, and the vendor's ledger."""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.checkout import calculations
from marketplace.checkout.models import Order, PayoutEntry, VendorOrder
from marketplace.checkout.payments import provider
from marketplace.checkout.payments.base import PaymentError
from marketplace.kernel.money import Money
from marketplace.kernel.pagination import paginate
from vendors.models import Vendor
from vendors.services import caller_vendor, payouts_allowed_clause

log = logging.getLogger(__name__)


def transfer_payouts(session: Session, order: Order | None = None) -> int:
    """Send pending credits to approved vendors with a reviewed Stripe Connect account (idempotent per vendor
    order). A vendor back in review, suspended or rejected is held: its credits wait, nothing is sent; so is the
    credit of a vendor order on hold (`payout_held`, e.g. while a dispute about it is open)."""
    query = (select(PayoutEntry, Vendor).join(Vendor, Vendor.id == PayoutEntry.vendor_id)
             .join(VendorOrder, VendorOrder.id == PayoutEntry.vendor_order_id)
             .where(PayoutEntry.status == "pending", PayoutEntry.kind == "credit", payouts_allowed_clause(),
                    VendorOrder.payout_held.is_(False)))
    if order is not None:
        query = query.where(PayoutEntry.vendor_order_id.in_([v.id for v in order.vendor_orders]))
    done = 0
    for entry, vendor in session.execute(query).all():
        try:
            state = provider().transfer(destination=vendor.stripe_account_id,
                                        amount=Money(entry.amount, entry.currency),
                                        idempotency_key=f"payout-{entry.vendor_order_id}",
                                        metadata={"vendor_order_id": str(entry.vendor_order_id)})
        except PaymentError as error:
            log.warning("payout %s not transferred yet: %s", entry.id, error)
            continue
        if state.provider_ref is None:  # the provider moves no money (manual): it stays to be paid by hand
            continue
        entry.status, entry.transfer_ref = "transferred", state.provider_ref
        session.commit()
        done += 1
    return done


def payouts_of(session: Session, user: User, page: int, per_page: int) -> dict[str, Any]:
    """A page of the caller's payout ledger (newest first) and its balance per currency."""
    vendor = caller_vendor(session, user)
    result = paginate(session, select(PayoutEntry).where(PayoutEntry.vendor_id == vendor.id)
                      .order_by(PayoutEntry.id.desc()), page, per_page)
    entries = session.execute(select(PayoutEntry.amount, PayoutEntry.currency)
                              .where(PayoutEntry.vendor_id == vendor.id)).all()
    return {**result, "balances": calculations.balances(entries)}
