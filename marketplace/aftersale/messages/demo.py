"""Demo data for what shoppers see of consumer protection before any after-sale flow: every demo vendor's
seller disclosures complete (a database seeded before they existed gets them too) and one demo product made
in another BRICS member than its vendor's. Idempotent: a second run changes nothing."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import services as catalog
from catalog.models import Product
from marketplace.accounts.models import User
from vendors import demo as vendor_demo, disclosures
from vendors import services as vendors
from vendors.models import Vendor

#: (vendor country, SKU, origin): Cape Rooibos sells a weekend bag of Ethiopian leather.
MADE_ELSEWHERE = ("ZA", "CR-LEATHER-BAG", "ET")


def seed_disclosures_and_origins(session: Session, vendors_by_country: dict[str, Vendor]) -> int:
    """Complete the demo vendors' missing disclosures and set the demo product's origin; how many changed."""
    changed = 0
    for country, vendor in vendors_by_country.items():
        if disclosures.missing_disclosures(vendor) and country in vendor_demo.DEMO_COUNTRIES:
            owner = session.get(User, vendor.owner_id)
            vendors.update_vendor(session, owner, vendor.id, vendor_demo.demo_disclosures(country, vendor.phone))
            changed += 1
    country, sku, origin = MADE_ELSEWHERE
    vendor = vendors_by_country.get(country)
    product = vendor and session.scalar(select(Product).where(Product.vendor_id == vendor.id, Product.sku == sku))
    if product is not None and product.origin_country != origin:
        catalog.update_product(session, session.get(User, vendor.owner_id), product.id, {"origin_country": origin})
        changed += 1
    return changed
