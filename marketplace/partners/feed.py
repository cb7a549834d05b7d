"""The listing feed: a partner reads its listings as the marketplace holds them, oldest change first, by
cursor (keyset on the link's `feed_seq`), without missing a change that commits while it pages."""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.orm import Session

from catalog.models import Product
from marketplace.kernel.clock import now
from marketplace.kernel.errors import Invalid
from marketplace.partners.content import amount_text, category_slugs
from marketplace.partners.errors import PartnerErrorCode
from marketplace.partners.models import PartnerListing, PartnerVendorGrant

#: Cursors carry (feed_seq, link id); both are 64-bit signed integers in the database.
_CURSOR_MAX = 2**63 - 1


def encode_cursor(feed_seq: int, link_id: int) -> str:
    raw = json.dumps({"s": feed_seq, "i": link_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_number(value: Any) -> int:
    if type(value) is not int or not 0 <= value <= _CURSOR_MAX:  # bool is an int subclass: refused too
        raise ValueError
    return value


def decode_cursor(cursor: str) -> tuple[int, int]:
    """(feed_seq, link id) from a cursor this API gave out; 422 `invalid_cursor` (field `cursor`) for anything
    else, whatever the client crafted (huge or non-integer numbers, `true`, other JSON, bad base64)."""
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii") + b"=" * (-len(cursor) % 4))
        value = json.loads(raw)
        if not isinstance(value, dict) or set(value) != {"s", "i"}:
            raise ValueError
        return _cursor_number(value["s"]), _cursor_number(value["i"])
    except (ValueError, TypeError, RecursionError, binascii.Error, UnicodeError):
        raise Invalid(PartnerErrorCode.INVALID_CURSOR, _("This cursor is not one this API gave out."),
                      field="cursor") from None


def feed_item(link: PartnerListing, product: Product, slugs: dict[int, str]) -> dict[str, Any]:
    return {
        "external_id": link.external_id, "product_id": product.id, "version": link.version,
        "updated_at": product.updated_at, "vendor_id": product.vendor_id, "sku": product.sku,
        "translations": product.translations, "original_locale": product.original_locale,
        "price": {"amount": amount_text(product.price_amount, product.price_currency), "currency": product.price_currency},
        "stock": product.stock, "category": slugs.get(product.category_id), "hs_code": product.hs_code,
        "attributes": product.attributes or {}, "images": product.images or [], "status": product.status,
        "product_version": product.version,
    }


#: PostgreSQL: the lowest transaction id that may still commit rows into this database, from the statement's
#: snapshot: its in-progress ids (all databases of the cluster share one id space) less those that certainly
#: belong to a session of another database; none in progress -> the snapshot's xmax. An id whose session
#: cannot be seen (gone meanwhile, or hidden by privileges) counts as ours: later is always safe.
_PG_HORIZON = text("""
    WITH snap AS (SELECT pg_current_snapshot() AS s)
    SELECT COALESCE(
        (SELECT MIN(x::text::bigint) FROM snap, pg_snapshot_xip(snap.s) AS x
         WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                           WHERE a.backend_xid = x::xid
                             AND a.datid <> (SELECT oid FROM pg_database WHERE datname = current_database()))),
        (SELECT pg_snapshot_xmax(s)::text::bigint FROM snap))
""")


def _feed_horizon(session: Session):
    """A condition on `PartnerListing.feed_seq`: the rows no transaction still running can reach below.

    PostgreSQL: feed_seq is the writing transaction's id. Every transaction of this database with an id below
    the horizon (`_PG_HORIZON`) had finished when it was taken, so the rows under it are committed and
    visible to the feed's (later) snapshot, and any later commit carries an id at or above it. SQLite
    serializes writers, and each takes the next number under the write lock: whatever a reader's snapshot
    misses commits with a higher number than it sees. None: no condition needed."""
    if session.get_bind().dialect.name == "postgresql":
        return PartnerListing.feed_seq < session.scalar(_PG_HORIZON)
    return None


def listing_feed(session: Session, partner_id: int, updated_since: datetime | None, cursor: str | None,
                 limit: int, settle: timedelta = timedelta(0)) -> dict[str, Any]:
    """The partner's listings as the marketplace holds them, oldest change first (keyset on feed_seq, link id).

    Every write to a listing's product (through this API, the vendor's own edits, stock taken by checkout)
    gives its link a higher `feed_seq` in the writing transaction (see `PartnerListing`), so a row changed
    while a client pages comes again further on with its new content: nothing is skipped, and a row
    repeats only because it changed (what a delta feed should do). A change shows as soon as it has
    committed (on PostgreSQL once no transaction older than it still runs: `_feed_horizon`); `settle`
    (PARTNER_FEED_SETTLE_SECONDS, 0 by default) can hold changes back longer. Listings of vendors that
    withdrew their authorization are not shown."""
    # feed_seq as its own column: triggers set it, so a link already in the session may hold an older value
    query = (select(PartnerListing, Product, PartnerListing.feed_seq.label("seq"))
             .join(Product, Product.id == PartnerListing.product_id)
             .join(PartnerVendorGrant, and_(PartnerVendorGrant.partner_id == PartnerListing.partner_id,
                                            PartnerVendorGrant.vendor_id == PartnerListing.vendor_id))
             .where(PartnerListing.partner_id == partner_id))
    horizon = _feed_horizon(session)
    if horizon is not None:
        query = query.where(horizon)
    if settle:  # stop before the first change younger than `settle` (what comes after it waits too)
        unsettled = (select(func.min(PartnerListing.feed_seq))
                     .join(Product, Product.id == PartnerListing.product_id)
                     .where(PartnerListing.partner_id == partner_id, Product.updated_at > now() - settle)
                     .scalar_subquery())
        query = query.where(or_(unsettled.is_(None), PartnerListing.feed_seq < unsettled))
    if updated_since is not None:
        query = query.where(Product.updated_at >= updated_since)
    if cursor:
        feed_seq, link_id = decode_cursor(cursor)
        query = query.where(or_(PartnerListing.feed_seq > feed_seq,
                                and_(PartnerListing.feed_seq == feed_seq, PartnerListing.id > link_id)))
    rows = list(session.execute(query.order_by(PartnerListing.feed_seq, PartnerListing.id).limit(limit + 1)))
    has_more = len(rows) > limit
    rows = rows[:limit]
    slugs = category_slugs(session)
    items = [feed_item(link, product, slugs) for link, product, _seq in rows]
    next_cursor = encode_cursor(rows[-1].seq, rows[-1][0].id) if rows else cursor
    return {"items": items, "next_cursor": next_cursor, "has_more": has_more}
