"""Generate N multilingual products for the demo vendors (run seed-demo first).

    python -m bench.generate --count 100000

Rows go straight into the products table (SQLAlchemy Core, batches of 5000);
the search index is then rebuilt with `flask search reindex`.
"""
from __future__ import annotations

import argparse
import random
from datetime import timedelta
from decimal import Decimal

import click
from sqlalchemy import insert, select

from bench.catalog_words import ADJECTIVES, COUNTRY_LOCALE, MATERIALS, NOUN_CATEGORY, NOUNS
from catalog.models import Category, Product
from marketplace.app import create_app
from marketplace.kernel.clock import now
from marketplace.kernel.extensions import db
from vendors.models import Vendor, VendorStatus

PRICE_RANGE = {"BRL": (20, 2000), "RUB": (300, 60000), "INR": (200, 90000), "CNY": (30, 3000), "ZAR": (50, 8000)}
LOCALES = list(ADJECTIVES)


def title(rng: random.Random, locale: str, noun: int) -> str:
    return f"{rng.choice(ADJECTIVES[locale])} {rng.choice(MATERIALS[locale])} {NOUNS[locale][noun]}"


def product_rows(count: int, vendors: list[Vendor], categories: dict[str, int], seed: int = 7):
    rng = random.Random(seed)
    start = now() - timedelta(days=365)
    for index in range(count):
        vendor = vendors[index % len(vendors)]
        first = COUNTRY_LOCALE.get(vendor.country, "en")
        locales = [first] + (["en"] if first != "en" else []) + ([rng.choice(LOCALES)] if rng.random() < 0.3 else [])
        noun = rng.randrange(len(NOUNS["en"]))
        translations = {}
        for locale in dict.fromkeys(locales):
            words = [title(rng, locale, noun) for _ in range(3)]
            translations[locale] = {"title": words[0], "description": ", ".join(words[1:])}
        low, high = PRICE_RANGE.get(vendor.currency, (10, 1000))
        category, hs_code = NOUN_CATEGORY[noun]
        yield {
            "vendor_id": vendor.id, "sku": f"BENCH-{index:07d}", "translations": translations,
            "original_locale": first, "price_amount": Decimal(rng.randrange(low * 100, high * 100)) / 100,
            "price_currency": vendor.currency, "stock": 0 if rng.random() < 0.1 else rng.randrange(1, 500),
            "category_id": categories[category], "hs_code": hs_code, "attributes": {"weight_g": rng.randrange(50, 5000)},
            "images": [], "status": "active", "version": 1,
            "created_at": start + timedelta(minutes=index), "updated_at": start + timedelta(minutes=index),
        }


def generate(count: int, batch: int = 5000) -> int:
    vendors = list(db.session.scalars(select(Vendor).where(Vendor.status == VendorStatus.APPROVED).order_by(Vendor.id)))
    if not vendors:
        raise SystemExit("no approved vendors: run `flask --app wsgi seed-demo` first")
    categories = dict(db.session.execute(select(Category.slug, Category.id)).all())
    rows: list[dict] = []
    with click.progressbar(length=count, label=f"Generating {count} products") as bar:
        for row in product_rows(count, vendors, categories):
            rows.append(row)
            if len(rows) >= batch:
                db.session.execute(insert(Product), rows)
                db.session.commit()
                bar.update(len(rows))
                rows.clear()
        if rows:
            db.session.execute(insert(Product), rows)
            db.session.commit()
            bar.update(len(rows))
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()
    with create_app().app_context():
        generate(args.count)


if __name__ == "__main__":
    main()
