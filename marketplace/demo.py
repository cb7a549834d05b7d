"""`flask seed-demo`: idempotent demo data for the embedded default.

Demo accounts (documented in README.md):
    admin@buybrics.example     demo-admin-pass     admin
    manager@buybrics.example   demo-manager-pass   campaign_manager
    shopper@buybrics.example   demo-shopper-pass   shopper
    vendor-br@buybrics.example demo-vendor-pass    vendor (one per founding member: br, ru, in, cn, za)
"""
from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from marketplace.kernel import outbox
from marketplace.kernel.clock import now
from marketplace.accounts import customs, services as accounts
from marketplace.accounts.models import CustomsIdentity, Role, User
from marketplace.aftersale.disputes.demo import ensure_demo_dispute
from marketplace.aftersale.messages.demo import seed_disclosures_and_origins
from marketplace.aftersale.returns.demo import ensure_demo_return
from marketplace.aftersale.reviews.demo import ensure_reviews
from marketplace.kernel.extensions import db
from marketplace.kernel.money import Money
from marketplace.partners.keys import ensure_demo_partner
from marketplace.rates import feeds
from marketplace.rates import services as rates
from catalog import services as catalog
from catalog.models import Product
from promotions import announcements, campaigns, enrollment
from promotions.models import Campaign
from vendors import demo as vendor_demo, services as vendors, shipping as vendor_shipping
from vendors.models import ShippingProfile, Vendor, VendorStatus

RATE_SNAPSHOTS = (("ecb", "ecb-eurofxref-daily.xml"), ("cbr", "cbr-XML_daily.xml"), ("manual", "manual.json"))

STAFF = (
    ("admin@buybrics.example", "demo-admin-pass", Role.ADMIN),
    ("manager@buybrics.example", "demo-manager-pass", Role.CAMPAIGN_MANAGER),
    ("shopper@buybrics.example", "demo-shopper-pass", Role.SHOPPER),
)
VENDOR_PASSWORD = "demo-vendor-pass"
PRODUCTS_FILE = Path(__file__).resolve().parent / "demo_data" / "products.json"

VENDORS = (
    {"country": "BR", "legal_name": "Café Serra Azul Ltda", "display_name": "Café Serra Azul", "tax_id": "11222333000181",
     "phone": "+55 35 99876-5432", "sector": "agriculture", "employees": 8, "turnover": ("290000.00", "BRL"),
     "description": {"pt": "Cafés especiais do sul de Minas Gerais.", "en": "Speciality coffee from southern Minas Gerais."}},
    {"country": "RU", "legal_name": "ООО «Павловопосадские узоры»", "display_name": "Pavlovo Posad Shawls",
     "tax_id": "1234567894", "phone": "+7 496 432-11-22", "sector": "manufacturing", "employees": 40,
     "turnover": ("300000000.00", "RUB"),
     "description": {"ru": "Платки с традиционным набивным рисунком.", "en": "Traditional printed wool shawls."}},
    {"country": "IN", "legal_name": "Kashmir Loom Crafts LLP", "display_name": "Kashmir Loom", "tax_id": "27AAPFU0939F1ZV",
     "phone": "+91 94190 12345", "sector": "manufacturing", "employees": 15, "turnover": ("45000000.00", "INR"),
     "investment": ("8000000.00", "INR"),
     "description": {"hi": "हाथ से बुनी पश्मीना शॉल।", "en": "Hand-woven pashmina shawls."}},
    {"country": "CN", "legal_name": "云南普洱茶业有限公司", "display_name": "Yunnan Pu'er Tea", "tax_id": "91110000600037341L",
     "phone": "+86 871 6512 3456", "sector": "agriculture", "employees": 25, "turnover": ("4000000.00", "CNY"),
     "description": {"zh": "云南古树普洱茶饼。", "en": "Aged Pu'er tea cakes from Yunnan."}},
    {"country": "ZA", "legal_name": "Cape Rooibos Co-operative (Pty) Ltd", "display_name": "Cape Rooibos",
     "tax_id": "0001339050", "phone": "+27 21 555 0199", "sector": "agriculture", "employees": 30,
     "turnover": ("12000000.00", "ZAR"),
     "description": {"en": "Organic rooibos from the Cederberg."}},
)


def load_rate_snapshots() -> int:
    count = 0
    for source, name in RATE_SNAPSHOTS:
        count += rates.store_quotes(db.session, feeds.parse(source, feeds.snapshot_path(name).read_bytes()))
    return count


def ensure_user(email: str, password: str, role: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    return user or accounts.create_user(db.session, email, password, role)


def ensure_vendor(spec: dict, admin: User) -> Vendor:
    owner = ensure_user(f"vendor-{spec['country'].lower()}@buybrics.example", VENDOR_PASSWORD, Role.VENDOR)
    vendor = db.session.scalar(select(Vendor).where(Vendor.owner_id == owner.id))
    if vendor is None:
        data = {
            "legal_name": spec["legal_name"], "display_name": spec["display_name"], "country": spec["country"],
            "tax_id": spec["tax_id"], "contact_email": owner.email, "phone": spec["phone"],
            "sector": spec["sector"], "employees": spec["employees"],
            "annual_turnover": Money(Decimal(spec["turnover"][0]), spec["turnover"][1]),
            "description": spec["description"], **vendor_demo.demo_disclosures(spec["country"], spec["phone"]),
        }
        if "investment" in spec:
            data["investment"] = Money(Decimal(spec["investment"][0]), spec["investment"][1])
        vendor = vendors.create_vendor(db.session, owner, data)
    if vendor.status != VendorStatus.APPROVED:
        vendor = vendors.change_status(db.session, admin, vendor.id, "approve", "Demo vendor")
    if db.session.get(ShippingProfile, vendor.id) is None:
        vendor_shipping.set_profile(db.session, owner, vendor_demo.demo_shipping(vendor.country, vendor.currency))
    return vendor


def ensure_products(vendors_by_country: dict[str, Vendor]) -> int:
    """The multilingual demo catalog: products from every founding member."""
    created = 0
    for spec in json.loads(PRODUCTS_FILE.read_text(encoding="utf-8")):
        vendor = vendors_by_country[spec["vendor"]]
        owner = db.session.get(User, vendor.owner_id)
        customs = {"weight_g": spec["weight_g"], "customs": {"description": spec["customs"]}}
        existing = db.session.scalar(select(Product).where(Product.vendor_id == vendor.id, Product.sku == spec["sku"]))
        if existing is not None:
            if existing.weight_g is None:  # seeded before products carried customs data
                catalog.update_product(db.session, owner, existing.id, customs)
            continue
        catalog.create_product(db.session, owner, {
            "sku": spec["sku"], "translations": spec["translations"], "category": spec["category"],
            "hs_code": spec["hs_code"], "price": Money(Decimal(spec["price"][0]), spec["price"][1]),
            "stock": spec["stock"], "attributes": spec.get("attributes", {}), "images": [], "status": "active",
            **customs,
        })
        created += 1
    return created


#: The demo shopper's customs identity (name and PRC resident identity number; a made-up but well-formed
#: number), which its orders to Shanghai need.
DEMO_CUSTOMS_IDENTITY = ("Li Wei", "310104198803150011")


def ensure_customs_identity(shopper: User) -> CustomsIdentity:
    return (customs.identity_of(db.session, shopper.id)
            or customs.set_identity(db.session, shopper, *DEMO_CUSTOMS_IDENTITY))


DEMO_CAMPAIGN = "buy-brics-ciie"


def ensure_campaign(manager: User, vendors_by_country: dict[str, Vendor]) -> Campaign:
    """A live "Buy BRICS" campaign at the China International Import Expo, with enrolled products."""
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == DEMO_CAMPAIGN))
    if campaign is None:
        start = now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
        campaign = campaigns.create(db.session, manager, {
            "slug": DEMO_CAMPAIGN,
            "name": {"en": "Buy BRICS at the China International Import Expo", "zh": "进博会 · 金砖好物节",
                     "pt": "Compre BRICS na Exposição Internacional de Importação da China",
                     "ru": "Покупай БРИКС на Китайском международном импортном ЭКСПО",
                     "hi": "चीन अंतर्राष्ट्रीय आयात एक्सपो में ब्रिक्स खरीदें"},
            "description": {"en": "Festival prices on MSME products from across the BRICS."},
            "starts_at": start, "ends_at": start + timedelta(days=30),
            "discount": {"type": "percent", "value": Decimal("15")},
            "eligibility": {"origin_countries": [], "categories": [], "msme_classes": ["micro", "small", "medium"]},
            "budget": Money(Decimal("5000.00"), "USD"), "stock_cap": 100, "max_uses_per_customer": 5,
            "boost": Decimal("2"),
        })
    if campaign.state == "draft":
        campaigns.transition(db.session, manager, campaign.id, "launch")
    table = rates.current_table(db.session)
    for vendor in vendors_by_country.values():
        owner = db.session.get(User, vendor.owner_id)
        product_ids = list(db.session.scalars(select(Product.id).where(Product.vendor_id == vendor.id)
                                              .order_by(Product.id).limit(2)))
        if product_ids:
            enrollment.enroll(db.session, owner, campaign.id, product_ids, table)
    announcements.announce(db.session)
    return campaign


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Load demo rates, accounts and approved vendors (safe to run again)."""
    click.echo(f"rates: {load_rate_snapshots()} quotes from the bundled ECB, CBR and manual snapshots")
    users = {role: ensure_user(email, password, role) for email, password, role in STAFF}
    for email, password, role in STAFF:
        click.echo(f"account: {email} / {password} ({role})")
    by_country = {}
    for spec in VENDORS:
        vendor = ensure_vendor(spec, users[Role.ADMIN])
        by_country[vendor.country] = vendor
        click.echo(f"vendor: {vendor.display_name} ({vendor.country}, {vendor.msme_class}, {vendor.status}) "
                   f"login vendor-{vendor.country.lower()}@buybrics.example / {VENDOR_PASSWORD}")
    click.echo(f"products: {ensure_products(by_country)} created")
    campaign = ensure_campaign(users[Role.CAMPAIGN_MANAGER], by_country)
    click.echo(f"campaign: {campaign.slug} ({campaign.status()}), "
               f"{sum(1 for e in campaign.enrollments if e.status == 'enrolled')} products enrolled")
    partner, partner_key = ensure_demo_partner(db.session, [v.id for v in by_country.values()])
    click.echo(f"partner: {partner.name} (id {partner.id}, authorized by every demo vendor) "
               f"API key {partner_key} (derived from SECRET_KEY: the same on every run)")
    identity = ensure_customs_identity(users[Role.SHOPPER])
    click.echo(f"customs identity: {identity.id_number_masked} for shopper@buybrics.example (imports to China)")
    demo_return = ensure_demo_return(db.session, users[Role.SHOPPER], by_country["ZA"])
    if demo_return is not None:
        click.echo(f"return: #{demo_return.id} of order {demo_return.order_id} ({demo_return.status})")
    demo_dispute = ensure_demo_dispute(db.session, users[Role.SHOPPER], by_country["IN"])
    if demo_dispute is not None:
        click.echo(f"dispute: #{demo_dispute.id} of order {demo_dispute.order_id} ({demo_dispute.stage}, "
                   f"{len(demo_dispute.proposals)} proposal)")
    click.echo(f"reviews: {ensure_reviews(db.session)}")
    click.echo(f"disclosures and origins: {seed_disclosures_and_origins(db.session, by_country)} changed")
    click.echo(f"search: {outbox.drain(db.session)} index updates delivered")
