"""Demo data: a delivered order with a return on its way back to the vendor (safe to run again)."""
from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Product
from marketplace.accounts.models import User
from marketplace.aftersale.demo_orders import delivered_order
from marketplace.aftersale.returns import answering, requesting
from marketplace.aftersale.returns.models import Resolution, Return, ReturnReason
from marketplace.kernel import idempotency
from vendors.models import Vendor

DEMO_COMMENT = "The tin was dented in transit and the seal is broken."


def ensure_demo_return(session: Session, shopper: User, vendor: Vendor) -> Return | None:
    """`shopper` bought two of `vendor`'s first product (paid in CNY, delivered), asked to return one as
    damaged, the vendor approved it and the goods are in transit back. None if the vendor sells nothing."""
    existing = session.scalar(select(Return).where(Return.user_id == shopper.id, Return.vendor_id == vendor.id,
                                                   Return.comment == DEMO_COMMENT))
    if existing is not None:
        return existing
    product = session.scalar(select(Product).where(Product.vendor_id == vendor.id).order_by(Product.id).limit(1))
    if product is None:
        return None
    order = delivered_order(session, shopper, [(product, 2)], currency="CNY")
    line = order.lines[0]
    data = {"vendor_order_id": line.vendor_order_id, "resolution": Resolution.REFUND, "comment": DEMO_COMMENT,
            "lines": [{"order_line_id": line.id, "quantity": 1, "reason": ReturnReason.DAMAGED}]}

    def ask(record: idempotency.IdempotencyRecord) -> tuple[int, dict]:
        return 201, {"return_id": requesting.request_return(session, shopper, order.id, data, record).id}

    _status, answer = idempotency.run(session, f"user:{shopper.id}", f"demo-return-{uuid.uuid4().hex}",
                                      {"order_id": order.id, "return": {**data, "lines": data["lines"]}}, ask)
    return_id = answer["return_id"]
    answering.approve(session, session.get(User, vendor.owner_id), return_id)
    return answering.ship(session, shopper, return_id, "China Post", f"RR{return_id:09d}CN")
