"""Partner listing sync throughput: `PUT /api/v1/partner/listings` (1000 per request) against a raw
SQLAlchemy Core insert of the same rows, on SQLite and PostgreSQL, in the same run.

    python -m bench.partner_sync [--count 10000] [--batch 1000] [--rounds 3] [--backends sqlite,postgresql]

Each backend runs in its own process on a scratch database (a temporary SQLite
file; a throwaway PostgreSQL database created beside POSTGRES_ADMIN_URL and
dropped afterwards), migrated with Alembic, with approved vendors and a partner.

- api: every listing goes through the whole stack in process (WSGI test client:
  routing, the partner key, the rate limiter, marshmallow validation of each
  listing, catalog rules, content hashes, per-item results) and writes a product,
  its link row, a search outbox event and a `listing.updated` event in one
  transaction per request. Outbox delivery is left to the worker
  (OUTBOX_DRAIN_INLINE=0, as with Elasticsearch in production), so the search
  engine's indexing time is not counted here. Request bodies are serialized
  before the clock starts.
- raw: the same product rows and link rows inserted with Core `insert()`
  executemany (batched, RETURNING id with the unique (vendor_id, sku) for the
  links), one transaction per batch of the same size, no validation, no outbox.

Rounds are interleaved (raw, api, raw, api, ...) and the best round of each
is shown, so that other load on the machine does not favour either. Prints
rows/s for both, and the api/raw ratio (target: at least 0.25). Also prints
the rate of a second, identical sync (every listing `unchanged`).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = os.environ.get("POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def listings(vendor_id: int, count: int, tag: str) -> list[dict]:
    return [{
        "external_id": f"{tag}-{i}", "vendor_id": vendor_id, "version": 1, "sku": f"{tag}-SKU-{i}",
        "translations": {"en": {"title": f"Assam black tea, lot {i}",
                                "description": "Strong malty tea from Assam, second flush, whole leaf."},
                         "hi": {"title": f"असम काली चाय {i}"}},
        "price": {"amount": f"{100 + i % 900}.50", "currency": "INR"}, "stock": i % 500, "category": "tea",
        "hs_code": "090230", "attributes": {"grade": "FTGFOP", "organic": i % 2 == 0}, "images": [],
        "status": "active",
    } for i in range(count)]


def setup(app):
    """Rates, two approved vendors (one per path, so SKUs never collide) and a partner they authorized."""
    from marketplace.accounts import services as accounts
    from marketplace.kernel.extensions import db
    from marketplace.kernel.money import Money
    from marketplace.partners import keys as partners
    from marketplace.partners.models import PartnerVendorGrant
    from marketplace.rates import feeds
    from marketplace.rates import services as rates
    from vendors import demo as vendor_demo, services as vendors

    with app.app_context():
        for source, name in (("ecb", "ecb-eurofxref-daily.xml"), ("cbr", "cbr-XML_daily.xml"),
                             ("manual", "manual.json")):
            rates.store_quotes(db.session, feeds.parse(source, feeds.snapshot_path(name).read_bytes()))
        admin = accounts.create_user(db.session, "bench-admin@example.com", "bench-admin-pass-1", "admin")
        vendor_ids = []
        for n, (tax_id, name) in enumerate((("27AAPFU0939F1ZV", "Kashmir Loom"), ("BCDFA0042Z", "Bench Two"))):
            owner = accounts.create_user(db.session, f"bench-vendor-{n}@example.com", "bench-vendor-pass-1", "vendor")
            vendor = vendors.create_vendor(db.session, owner, {
                "legal_name": f"{name} LLP", "display_name": name, "country": "IN", "tax_id": tax_id,
                "contact_email": owner.email, "phone": "+91 94190 12345", "sector": "manufacturing",
                "employees": 15, "annual_turnover": Money(Decimal("45000000.00"), "INR"),
                "investment": Money(Decimal("8000000.00"), "INR"), "description": {"en": "Bench vendor"},
                **vendor_demo.demo_disclosures("IN", "+91 94190 12345")})
            vendors.change_status(db.session, admin, vendor.id, "approve", "bench")
            vendor_ids.append(vendor.id)
        partner, key = partners.create_partner(db.session, "Bench partner")
        db.session.add(PartnerVendorGrant(partner_id=partner.id, vendor_id=vendor_ids[0]))
        db.session.commit()
        partner_id = partner.id
        db.session.remove()
    return key, partner_id, vendor_ids


def raw_insert(app, items: list[dict], partner_id: int, batch: int) -> float:
    from sqlalchemy import insert

    from catalog.models import Category, Product
    from marketplace.kernel.clock import now
    from marketplace.kernel.extensions import db
    from marketplace.kernel.money import Money
    from marketplace.partners.models import PartnerListing
    from marketplace.partners.content import content_hash, listing_content

    with app.app_context():
        category_id = db.session.query(Category.id).filter(Category.slug == "tea").scalar()
        db.session.remove()
        engine = db.engine
        started = time.perf_counter()
        for start in range(0, len(items), batch):
            chunk = items[start:start + batch]
            stamp = now()
            rows = [{"vendor_id": it["vendor_id"], "sku": it["sku"], "translations": it["translations"],
                     "original_locale": "en", "price_amount": Decimal(it["price"]["amount"]),
                     "price_currency": it["price"]["currency"], "stock": it["stock"], "category_id": category_id,
                     "hs_code": it["hs_code"], "attributes": it["attributes"], "images": it["images"],
                     "status": it["status"], "version": 1, "created_at": stamp, "updated_at": stamp}
                    for it in chunk]
            with engine.begin() as conn:
                table = Product.__table__
                found = {(v, sku): i for i, v, sku in conn.execute(
                    insert(table).returning(table.c.id, table.c.vendor_id, table.c.sku), rows)}
                ids = [found[(r["vendor_id"], r["sku"])] for r in rows]
                conn.execute(insert(PartnerListing.__table__), [
                    {"partner_id": partner_id, "external_id": it["external_id"], "product_id": product_id,
                     "vendor_id": it["vendor_id"], "version": 1, "created_at": stamp, "updated_at": stamp,
                     "content_hash": content_hash(listing_content({**it, "price": Money(Decimal(it["price"]["amount"]),
                                                                                          it["price"]["currency"])}))}
                    for it, product_id in zip(chunk, ids)])
        return time.perf_counter() - started


def through_api(client, key: str, items: list[dict], batch: int, expect: str) -> float:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    bodies = [json.dumps({"listings": items[s:s + batch]}).encode() for s in range(0, len(items), batch)]
    started = time.perf_counter()
    for body in bodies:
        response = client.put("/api/v1/partner/listings", data=body, headers=headers)
        summary = response.get_json()["summary"] if response.status_code == 200 else response.get_json()
        if response.status_code != 200 or summary[expect] != body.count(b'"external_id"'):
            raise SystemExit(f"unexpected answer: {response.status_code} {summary}")
    return time.perf_counter() - started


def run_backend(backend: str, count: int, batch: int, rounds: int, gc_freeze: bool = True) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from config import Config, database_url
    from marketplace.app import create_app, freeze_startup_heap

    scratch = Path(tempfile.mkdtemp(prefix="bench-partner-"))
    admin_url, name = None, None
    if backend == "sqlite":
        url = f"sqlite:///{scratch / 'bench.db'}"
    else:
        admin_url = database_url(POSTGRES_ADMIN_URL)
        name = f"bench_partner_{uuid.uuid4().hex[:8]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        app = create_app(Config, {"SQLALCHEMY_DATABASE_URI": url, "SEARCH_INDEX_DIR": str(scratch / "search"),
                                  "OUTBOX_DRAIN_INLINE": False, "PARTNER_RATE_LIMIT": "1000000 per minute"})
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
        key, partner_id, (api_vendor, raw_vendor) = setup(app)
        if gc_freeze:
            freeze_startup_heap()  # as wsgi.py does once the app is built
        client = app.test_client()
        through_api(client, key, listings(api_vendor, batch, "WARM"), batch, "created")  # warm-up: imports, caches
        raw_rates, api_rates, same_rates = [], [], []
        for n in range(rounds):  # interleaved, so that load on the machine hits both alike; best of each
            raw_rates.append(count / raw_insert(app, listings(raw_vendor, count, f"RAW{n}"), partner_id, batch))
            items = listings(api_vendor, count, f"API{n}")
            api_rates.append(count / through_api(client, key, items, batch, "created"))
            same_rates.append(count / through_api(client, key, items, batch, "unchanged"))
        raw_rate, api_rate, same_rate = max(raw_rates), max(api_rates), max(same_rates)
        ratio = api_rate / raw_rate
        print(f"{backend:<10} raw Core insert (products + links)   {raw_rate:>9,.0f} rows/s")
        print(f"{backend:<10} PUT /partner/listings (created)      {api_rate:>9,.0f} rows/s   ratio {ratio:.2f}x "
              f"({'meets' if ratio >= 0.25 else 'below'} the 0.25x target)")
        print(f"{backend:<10} PUT /partner/listings (unchanged)    {same_rate:>9,.0f} rows/s", flush=True)
        with app.app_context():
            from marketplace.kernel.extensions import db

            db.engine.dispose()
    finally:
        if name:
            admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the best of each is shown")
    parser.add_argument("--no-gc-freeze", dest="gc_freeze", action="store_false",
                        help="leave the start-up heap to the cyclic collector (wsgi.py freezes it)")
    parser.add_argument("--only", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only:
        run_backend(args.only, args.count, args.batch, args.rounds, args.gc_freeze)
        return
    print(f"partner sync: {args.count} listings x {args.rounds} rounds, {args.batch} per request "
          f"(outbox delivery left to the worker){'' if args.gc_freeze else ', start-up heap not frozen'}; "
          "best round of each")
    for backend in args.backends.split(","):
        # one process per backend: the app factory binds process-wide extensions
        subprocess.run([sys.executable, "-m", "bench.partner_sync", "--only", backend, "--count", str(args.count),
                        "--batch", str(args.batch), "--rounds", str(args.rounds)]
                       + ([] if args.gc_freeze else ["--no-gc-freeze"]), cwd=ROOT, check=True,
                       env={**os.environ, "APP_ENV": "development"})


if __name__ == "__main__":
    main()
