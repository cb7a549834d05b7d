"""Concurrent edits of one product apply one after another: each bumps the version once, none is lost."""
from __future__ import annotations

from sqlalchemy import text

from marketplace.kernel.extensions import db
from tests.api.test_products import PRODUCTS, create_product
from tests.integration.test_checkout_concurrency import fire


def test_concurrent_edits_of_one_product_each_bump_its_version(app, make, client):
    make.rates()
    vendor = make.vendor()
    product = create_product(client, vendor)
    headers = vendor["owner"]["headers"]
    edits = [("PATCH", f"{PRODUCTS}/{product['id']}", {"json": {"stock": 10 + n}, "headers": headers})
             for n in range(6)]

    answers = fire(app, edits)

    assert [a.status_code for a in answers] == [200] * 6
    with app.app_context():
        version = db.session.execute(text("SELECT version FROM products WHERE id = :id"),
                                     {"id": product["id"]}).scalar()
    assert version == product["version"] + 6
