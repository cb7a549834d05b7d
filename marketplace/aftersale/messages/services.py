"""The thread of a vendor order: who may read and write it, posting (contact details masked), and the
system messages returns and disputes post into it."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role, User
from marketplace.aftersale.messages.errors import MessageErrorCode
from marketplace.aftersale.messages.masking import mask_contacts
from marketplace.aftersale.messages.models import AuthorRole, OrderMessage
from marketplace.aftersale.messages.rendering import render_event
from marketplace.checkout.models import Order, VendorOrder
from marketplace.kernel.errors import NotFound
from marketplace.kernel.pagination import paginate
from vendors.models import Vendor

#: `?order=` values of a thread's listing: oldest first (the default, as a conversation reads) or newest first.
ORDERS = ("oldest", "newest")


def _role_in_thread(session: Session, user: User, vendor_order: VendorOrder) -> AuthorRole | None:
    """What the caller is in this thread, or None when it is not theirs to read."""
    if user.role == Role.ADMIN:
        return AuthorRole.OPERATOR
    if user.role == Role.SHOPPER and session.get(Order, vendor_order.order_id).user_id == user.id:
        return AuthorRole.SHOPPER
    if user.role == Role.VENDOR:
        vendor = session.get(Vendor, vendor_order.vendor_id)
        if vendor is not None and vendor.owner_id == user.id:
            return AuthorRole.VENDOR
    return None


def thread_of(session: Session, user: User, vendor_order_id: int) -> tuple[VendorOrder, AuthorRole]:
    """The vendor order and the caller's part in its thread; 404 for anyone else (nobody learns that
    another party's order exists)."""
    vendor_order = session.get(VendorOrder, vendor_order_id)
    role = _role_in_thread(session, user, vendor_order) if vendor_order is not None else None
    if role is None:
        raise NotFound(MessageErrorCode.THREAD_NOT_FOUND, _("No such vendor order."))
    return vendor_order, role


def contact_regions(session: Session, vendor_order: VendorOrder) -> list[str | None]:
    """The countries whose national phone formats are masked in this thread: the vendor's and the
    shopper's shipping country."""
    vendor = session.get(Vendor, vendor_order.vendor_id)
    order = session.get(Order, vendor_order.order_id)
    shipping = (order.shipping_address or {}).get("country") if order is not None else None
    return [code for code in (vendor.country if vendor else None, shipping) if code] or [None]


def post_message(session: Session, user: User, vendor_order_id: int, body: str, locale: str) -> OrderMessage:
    """A person's message: its e-mail addresses and phone numbers are masked before it is stored."""
    vendor_order, role = thread_of(session, user, vendor_order_id)
    message = OrderMessage(vendor_order_id=vendor_order.id, author_id=user.id, author_role=role,
                           body=mask_contacts(body, contact_regions(session, vendor_order)), locale=locale)
    session.add(message)
    session.commit()
    return message


def post_event(session: Session, vendor_order_id: int, event: str, params: dict[str, str] | None = None) -> None:
    """A system message in the vendor order's thread (e.g. event="return.requested", params={"return_id": "7"});
    added to the session, not committed (the caller commits with its own change)."""
    session.add(OrderMessage(vendor_order_id=vendor_order_id, author_id=None, author_role=AuthorRole.SYSTEM,
                             event=event, params={str(k): str(v) for k, v in (params or {}).items()}))


def messages_of(session: Session, user: User, vendor_order_id: int, order: str, page: int, per_page: int,
                locale: str) -> dict[str, Any]:
    """A page of the thread, oldest first (`order="oldest"`) or newest first; system messages are rendered in
    `locale` (the reader's)."""
    vendor_order, _role = thread_of(session, user, vendor_order_id)
    query = select(OrderMessage).where(OrderMessage.vendor_order_id == vendor_order.id)
    query = query.order_by(OrderMessage.id.desc() if order == "newest" else OrderMessage.id)
    result = paginate(session, query, page, per_page)
    result["items"] = [view(message, locale) for message in result["items"]]
    return result


def view(message: OrderMessage, locale: str) -> dict[str, Any]:
    """What a reader sees of a message: a system message's sentence is made now, in the reader's language."""
    system = message.author_role == AuthorRole.SYSTEM
    return {"id": message.id, "vendor_order_id": message.vendor_order_id, "author_role": message.author_role,
            "created_at": message.created_at,
            "body": render_event(message.event or "", message.params or {}) if system else message.body,
            "locale": locale if system else message.locale, "event": message.event,
            "params": message.params if system else None}
