"""Review use cases: a buyer reviews a delivered order line once (a verified purchase); operators publish or
reject (publishing and un-publishing recompute the product's rating in the same transaction); the product's
vendor replies once; anyone logged in reports a review once; everyone reads the published ones."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from catalog import services as catalog
from marketplace.accounts.models import Role, User
from marketplace.aftersale.messages.masking import mask_contacts
from marketplace.aftersale.reviews.errors import ReviewErrorCode
from marketplace.aftersale.reviews.models import Review, ReviewReport, ReviewStatus, ReviewTransition
from marketplace.checkout.models import Order, OrderLine, VendorOrder
from marketplace.kernel import events
from marketplace.kernel.clock import now
from marketplace.kernel.errors import Conflict, Forbidden, NotFound
from marketplace.kernel.pagination import paginate
from vendors.models import Vendor

REVIEW_PUBLISHED = "review.published"
TITLE_MAX, BODY_MAX, REPLY_MAX, REASON_MAX = 120, 5000, 2000, 1000
#: The moderation steps: target state -> the states it may start from.
MODERATION = {ReviewStatus.PUBLISHED: (ReviewStatus.PENDING, ReviewStatus.REJECTED),
              ReviewStatus.REJECTED: (ReviewStatus.PENDING, ReviewStatus.PUBLISHED)}
ONE_DECIMAL = Decimal("0.1")


# -- shown names and text ----------------------------------------------------

def initials(name: str | None) -> str:
    """"Ana Maria Souza" -> "A. S.": the first letters of the first and last words of the shipping address's
    name; never an e-mail address ("—" when the order names nobody)."""
    words = [w for w in (name or "").split() if "@" not in w]
    words = [w for w in " ".join(words).replace(".", " ").split() if w[0].isalnum()]
    if not words:
        return "—"
    picked = words if len(words) == 1 else [words[0], words[-1]]
    return " ".join(f"{w[0].upper()}." for w in picked)


def _masked(text: str | None, regions: list[str | None], limit: int) -> str | None:
    """`text` as it may be published: e-mail addresses and phone numbers masked (the message threads' rule)."""
    if text is None:
        return None
    return mask_contacts(text, regions)[:limit]


def rating_summary(total: int, count: int) -> Decimal | None:
    """The average of `count` ratings summing to `total`, rounded half up to one decimal (None for none)."""
    if not count:
        return None
    return (Decimal(total) / Decimal(count)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


# -- finding -----------------------------------------------------------------

def _not_found() -> NotFound:
    return NotFound(ReviewErrorCode.REVIEW_NOT_FOUND, _("No such review."))


def _vendor_owner_id(session: Session, review: Review) -> int | None:
    return session.scalar(select(Vendor.owner_id).where(Vendor.id == review.vendor_id))


def may_see_unpublished(session: Session, review: Review, viewer: User | None) -> bool:
    """The author, the product's vendor and admins see a review before (or after) it is published."""
    if viewer is None:
        return False
    return (viewer.role == Role.ADMIN or viewer.id == review.author_id
            or viewer.id == _vendor_owner_id(session, review))


def get_review(session: Session, review_id: int, viewer: User | None) -> Review:
    """A published review for anyone; a pending or rejected one for its author, the vendor and admins."""
    review = session.get(Review, review_id)
    if review is None or (review.status != ReviewStatus.PUBLISHED and not may_see_unpublished(session, review, viewer)):
        raise _not_found()
    return review


def history(session: Session, review_id: int, viewer: User | None) -> list[ReviewTransition]:
    review = session.get(Review, review_id)
    if review is None or not may_see_unpublished(session, review, viewer):
        raise _not_found()
    return list(review.history)


def _locked_review(session: Session, review_id: int) -> Review:
    """The review row-locked and read afresh (PostgreSQL; SQLite's writers hold the write lock already)."""
    review = session.scalar(select(Review).where(Review.id == review_id).with_for_update()
                            .execution_options(populate_existing=True))
    if review is None:
        raise _not_found()
    return review


# -- writing a review --------------------------------------------------------

def write_review(session: Session, user: User, order_id: int, line_id: int, data: dict[str, Any]) -> Review:
    """The buyer's review of a line of their order, once its vendor order is delivered; one per line: the
    database's unique constraint decides between two at once (the loser gets 409 `already_reviewed`)."""
    line = session.get(OrderLine, line_id)
    order = session.get(Order, order_id)
    if line is None or order is None or line.order_id != order.id or order.user_id != user.id:
        raise NotFound(ReviewErrorCode.ORDER_LINE_NOT_FOUND, _("No such order line."))
    vendor_order = session.get(VendorOrder, line.vendor_order_id)
    if vendor_order.delivered_at is None:
        raise Conflict(ReviewErrorCode.NOT_DELIVERED, _("A line can be reviewed once it has been delivered."),
                       current_status=vendor_order.status)
    if session.scalar(select(Review.id).where(Review.order_line_id == line.id)) is not None:
        raise _already_reviewed()
    vendor = session.get(Vendor, vendor_order.vendor_id)
    regions = [vendor.country, (order.shipping_address or {}).get("country")]
    review = Review(order_id=order.id, order_line_id=line.id, product_id=line.product_id, vendor_id=vendor.id,
                    author_id=user.id, reviewer_name=initials((order.shipping_address or {}).get("name")),
                    rating=data["rating"], title=_masked(data.get("title"), regions, TITLE_MAX),
                    body=_masked(data.get("body"), regions, BODY_MAX), locale=data["locale"],
                    status=ReviewStatus.PENDING)
    review.history.append(ReviewTransition(actor_id=user.id, from_status=None, to_status=ReviewStatus.PENDING))
    session.add(review)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise _already_reviewed() from None
    return review


def _already_reviewed() -> Conflict:
    return Conflict(ReviewErrorCode.ALREADY_REVIEWED, _("This line has been reviewed already."))


# -- moderation --------------------------------------------------------------

def _recompute_rating(session: Session, product_id: int | None) -> None:
    """The product's published rating, counted after its row is locked (two moderations of its reviews at
    once count one after the other)."""
    if product_id is None:
        return
    catalog.find_product(session, product_id, lock=True)
    total, count = session.execute(select(func.coalesce(func.sum(Review.rating), 0), func.count(Review.id))
                                   .where(Review.product_id == product_id,
                                          Review.status == ReviewStatus.PUBLISHED)).one()
    catalog.set_rating(session, product_id, rating_summary(int(total), int(count)), int(count))


def review_event(review: Review) -> dict[str, Any]:
    """`review.published` for the vendor's partners: the review as published (no personal data)."""
    return {"review_id": review.id, "product_id": review.product_id, "vendor_id": review.vendor_id,
            "order_line_id": review.order_line_id, "rating": review.rating, "title": review.title,
            "body": review.body, "locale": review.locale,
            "published_at": review.published_at.isoformat() if review.published_at else None}


def moderate(session: Session, admin: User, review_id: int, to_status: str, reason: str | None) -> Review:
    """Publish or reject (or un-publish) a review, from the states `MODERATION` allows (409 with the state
    found otherwise), kept in its history; the product's rating and the partner event in the same commit."""
    review = _locked_review(session, review_id)
    if review.status not in MODERATION[to_status]:
        raise Conflict(ReviewErrorCode.INVALID_REVIEW_STATE,
                       _("This review cannot become %(status)s from its current state.", status=to_status),
                       current_status=review.status)
    was_published = review.status == ReviewStatus.PUBLISHED
    review.history.append(ReviewTransition(actor_id=admin.id, from_status=review.status, to_status=to_status,
                                           reason=reason))
    review.status = to_status
    if to_status == ReviewStatus.PUBLISHED:
        review.published_at = now()
    session.flush()
    if was_published or to_status == ReviewStatus.PUBLISHED:
        _recompute_rating(session, review.product_id)
    if to_status == ReviewStatus.PUBLISHED:
        events.publish(session, REVIEW_PUBLISHED, review_event(review), vendor_ids=[review.vendor_id])
    session.commit()
    return review


def queue(session: Session, status: str | None, page: int, per_page: int) -> dict[str, Any]:
    """Reviews for operators, oldest first (a queue), with how often each was reported."""
    query = select(Review)
    if status:
        query = query.where(Review.status == status)
    result = paginate(session, query.order_by(Review.created_at, Review.id), page, per_page)
    ids = [review.id for review in result["items"]]
    counts = dict(session.execute(select(ReviewReport.review_id, func.count()).where(ReviewReport.review_id.in_(ids))
                                  .group_by(ReviewReport.review_id)).all()) if ids else {}
    for review in result["items"]:
        review.report_count = counts.get(review.id, 0)
    return result


# -- the vendor's reply, reports ---------------------------------------------

def reply(session: Session, user: User, review_id: int, body: str) -> Review:
    """The product's vendor answers once (a second reply, also one racing the first, is 409)."""
    review = get_review(session, review_id, user)
    if user.id != _vendor_owner_id(session, review):
        raise Forbidden(ReviewErrorCode.NOT_REVIEW_VENDOR, _("Only the product's vendor may reply."))
    if review.status == ReviewStatus.REJECTED:
        raise Conflict(ReviewErrorCode.INVALID_REVIEW_STATE, _("A rejected review cannot be answered."),
                       current_status=review.status)
    order = session.get(Order, review.order_id)
    vendor = session.get(Vendor, review.vendor_id)
    text = _masked(body, [vendor.country, (order.shipping_address or {}).get("country")], REPLY_MAX)
    answered = session.execute(update(Review).where(Review.id == review.id, Review.reply_body.is_(None))
                               .values(reply_body=text, replied_at=now(), replied_by=user.id))
    if answered.rowcount != 1:
        session.rollback()
        raise Conflict(ReviewErrorCode.ALREADY_REPLIED, _("This review has been answered already."))
    session.commit()
    session.refresh(review)
    return review


def report(session: Session, user: User, review_id: int, reason: str) -> ReviewReport:
    """Anyone logged in who can see the review reports it, once."""
    get_review(session, review_id, user)
    if session.scalar(select(ReviewReport.id).where(ReviewReport.review_id == review_id,
                                                    ReviewReport.user_id == user.id)) is not None:
        raise _already_reported()
    entry = ReviewReport(review_id=review_id, user_id=user.id, reason=reason)
    session.add(entry)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise _already_reported() from None
    return entry


def _already_reported() -> Conflict:
    return Conflict(ReviewErrorCode.ALREADY_REPORTED, _("You have reported this review already."))


# -- reading -----------------------------------------------------------------

def product_reviews(session: Session, product_id: int, page: int, per_page: int) -> dict[str, Any]:
    """A public product's published reviews, newest first."""
    catalog.get_product(session, product_id, None)
    query = (select(Review).where(Review.product_id == product_id, Review.status == ReviewStatus.PUBLISHED)
             .order_by(Review.published_at.desc(), Review.id.desc()))
    return paginate(session, query, page, per_page)
