"""Demo reviews: the demo shopper's delivered order of two Indian products (placed, paid and delivered
through checkout's services), each line reviewed and published by the demo admin, one answered by the vendor.
Idempotent: nothing is added once the demo shopper has reviewed anything."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Product, ProductStatus
from marketplace.accounts.models import Role, User
from marketplace.aftersale.demo_orders import delivered_order
from marketplace.aftersale.reviews import services
from marketplace.aftersale.reviews.models import Review, ReviewStatus
from vendors.models import Vendor

DEMO_SHOPPER = "shopper@buybrics.example"
DEMO_VENDOR_COUNTRY = "IN"
DEMO_ADDRESS = {"name": "Ana Souza", "line1": "Rua Augusta 1500", "city": "São Paulo", "region": "SP",
                "postal_code": "01304-001", "country": "BR"}
#: (rating, title, body, locale) for each line, in product order; the first gets the vendor's reply.
DEMO_REVIEWS = (
    (5, "Exactly as described", "Well packed, arrived in nine days. I would buy from this shop again.", "en"),
    (4, "Muito bom", "Chegou bem embalado; a entrega demorou um pouco mais do que o previsto.", "pt"),
)
DEMO_REPLY = "Thank you for your order and your kind words!"


def ensure_reviews(session: Session) -> str:
    """Seed the demo reviews (once); a line for `flask seed-demo` to print."""
    shopper = session.scalar(select(User).where(User.email == DEMO_SHOPPER))
    admin = session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id))
    vendor = session.scalar(select(Vendor).where(Vendor.country == DEMO_VENDOR_COUNTRY).order_by(Vendor.id))
    if shopper is None or admin is None or vendor is None:
        return "skipped (no demo shopper, admin or vendor)"
    existing = session.scalar(select(Review.id).where(Review.author_id == shopper.id))
    if existing is not None:
        return "already seeded"
    products = list(session.scalars(select(Product).where(Product.vendor_id == vendor.id,
                                                          Product.status == ProductStatus.ACTIVE,
                                                          Product.stock > 0)
                                    .order_by(Product.id).limit(len(DEMO_REVIEWS))))
    if not products:
        return "skipped (the demo vendor has no product in stock)"
    order = delivered_order(session, shopper, [(product, 1) for product in products], address=DEMO_ADDRESS)
    owner = session.get(User, vendor.owner_id)
    lines = sorted(order.lines, key=lambda line: line.product_id)
    published = []
    for line, (rating, title, body, locale) in zip(lines, DEMO_REVIEWS):
        review = services.write_review(session, shopper, order.id, line.id,
                                       {"rating": rating, "title": title, "body": body, "locale": locale})
        review = services.moderate(session, admin, review.id, ReviewStatus.PUBLISHED, None)
        published.append(review.id)
    services.reply(session, owner, published[0], DEMO_REPLY)
    return f"{len(published)} published on order {order.id} by {DEMO_SHOPPER}, one answered by {vendor.display_name}"
