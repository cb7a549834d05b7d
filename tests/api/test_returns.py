"""Returns through the HTTP API: a shopper asks to return delivered goods, the vendor answers, the goods come
back and are refunded from what was paid for them (or replaced)."""
from __future__ import annotations

from catalog.models import Product
from marketplace.accounts.models import User
from marketplace.aftersale.demo_orders import delivered_order
from tests.api.test_checkout import Market, database


def test_demo_orders_places_pays_and_delivers_an_order(make, client, app):
    market = Market(make, client)
    with database(app) as session:
        shopper = session.get(User, market.shopper["id"])
        order = delivered_order(session, shopper, [(session.get(Product, market.tea["id"]), 2),
                                                   (session.get(Product, market.shawl["id"]), 1)])
        assert order.status == "completed" and len(order.lines) == 2
        assert all(v.status == "delivered" and v.delivered_at for v in order.vendor_orders)
