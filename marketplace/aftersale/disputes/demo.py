"""Demo data: a delivered order whose shopper opened a dispute, with the vendor's first proposal waiting for an
answer (safe to run again)."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Product
from marketplace.accounts.models import User
from marketplace.aftersale.demo_orders import delivered_order
from marketplace.aftersale.disputes import negotiation
from marketplace.aftersale.disputes.models import Dispute, DisputeType
from marketplace.aftersale.disputes.services import open_dispute
from marketplace.kernel.money import Money, round_amount
from vendors.models import Vendor

DEMO_DESCRIPTION = "The shawl that arrived is a blend, not the pure pashmina the listing describes."
DEMO_NOTE = "We are sorry: we offer a third of the price back, or an exchange for the pure pashmina shawl."
#: Shipped to Kochi, so India's Consumer Protection (E-Commerce) Rules 2020 set the deadlines.
DEMO_ADDRESS = {"name": "Priya Nair", "line1": "12 MG Road", "city": "Kochi", "region": "KL",
                "postal_code": "682011", "country": "IN"}


def ensure_demo_dispute(session: Session, shopper: User, vendor: Vendor) -> Dispute | None:
    """`shopper` bought `vendor`'s first product (paid in INR, delivered to Kochi) and disputes it as not as
    described, claiming half the price; the vendor proposed a third back. None if the vendor sells nothing."""
    existing = session.scalar(select(Dispute).where(Dispute.user_id == shopper.id, Dispute.vendor_id == vendor.id,
                                                    Dispute.description == DEMO_DESCRIPTION))
    if existing is not None:
        return existing
    product = session.scalar(select(Product).where(Product.vendor_id == vendor.id).order_by(Product.id).limit(1))
    if product is None:
        return None
    order = delivered_order(session, shopper, [(product, 1)], currency="INR", address=DEMO_ADDRESS)
    vendor_order = next(v for v in order.vendor_orders if v.vendor_id == vendor.id)
    claim = Money(round_amount(vendor_order.subtotal_amount / 2, order.currency), order.currency)
    dispute = open_dispute(session, vendor_order_id=vendor_order.id, user_id=shopper.id,
                           type=DisputeType.NOT_AS_DESCRIBED, claim=claim, description=DEMO_DESCRIPTION)
    session.commit()
    offer = Money(round_amount(vendor_order.subtotal_amount / Decimal(3), order.currency), order.currency)
    return negotiation.propose(session, session.get(User, vendor.owner_id), dispute.id, offer, DEMO_NOTE)
