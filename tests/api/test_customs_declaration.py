"""The customs declaration a vendor prints for what it ships (CN22 / CN23 by value), and the advance electronic
data its partners receive when the order is paid."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from marketplace.kernel.outbox import OutboxEvent
from tests.api.test_checkout import ADDRESS, buy, confirm_payment, database
from tests.api.test_landed_cost import Shop, shop  # noqa: F401 (fixture)


def declaration(client, vendor: dict, vendor_order_id: int, **query):
    return client.get(f"/api/v1/vendor/orders/{vendor_order_id}/customs", query_string=query,
                      headers=vendor["owner"]["headers"])


def weaver_part(order: dict, shop: Shop) -> dict:
    return next(p for p in order["vendor_orders"] if p["vendor_id"] == shop.weaver["id"])


def test_a_small_parcel_gets_a_cn22_filled_from_the_order(shop, client):
    order = buy(client, shop.shopper, [(shop.shawl, 2)], currency="INR")
    part = weaver_part(order, shop)
    response = declaration(client, shop.weaver, part["id"])
    assert response.status_code == 200, response.get_json()
    form = response.get_json()
    assert form["form"] == "CN22" and form["category"] == "sale_of_goods"
    assert form["invoice_number"] == f"BB-{order['id']}-{part['id']}" and form["incoterm"] == "DDP"
    assert form["sender"]["name"] == shop.weaver["display_name"] and form["sender"]["country"] == "IN"
    assert form["recipient"]["name"] == ADDRESS["name"] and form["recipient"]["country"] == "BR"
    (item,) = form["items"]
    assert item["description"] == "Wool shawl, hand-woven" and item["quantity"] == 2
    assert item["net_weight_g"] == 700 and item["hs_code"] == "621410" and item["origin_country"] == "IN"
    assert Decimal(item["value"]["amount"]) == Decimal("5000.00") and item["value"]["currency"] == "INR"
    assert form["totals"]["net_weight_g"] == 700 and form["totals"]["value"] == item["value"]
    assert form["incomplete"] == []


def test_a_parcel_above_300_sdr_gets_a_cn23_and_prints_as_pdf(shop, client):
    order = buy(client, shop.shopper, [(shop.shawl, 20)], currency="INR")  # 50,000 INR: about 570 US dollars
    part = weaver_part(order, shop)
    assert declaration(client, shop.weaver, part["id"]).get_json()["form"] == "CN23"
    printed = declaration(client, shop.weaver, part["id"], format="pdf")
    assert printed.status_code == 200 and printed.mimetype == "application/pdf"
    assert printed.data.startswith(b"%PDF") and len(printed.data) > 800
    assert declaration(client, shop.weaver, part["id"], format="xml").status_code == 422


def test_only_the_vendor_shipping_it_sees_the_declaration(shop, client, make):
    order = buy(client, shop.shopper, [(shop.shawl, 1)], currency="INR")
    part = weaver_part(order, shop)
    assert declaration(client, shop.tea_house, part["id"]).status_code == 404
    response = client.get(f"/api/v1/vendor/orders/{part['id']}/customs", headers=shop.shopper["headers"])
    assert response.status_code == 403


def test_partners_get_the_advance_data_when_the_order_is_paid_without_the_recipient(shop, client, app):
    order = buy(client, shop.shopper, [(shop.shawl, 1)], currency="INR")

    def ready() -> list[dict]:
        with database(app) as session:
            rows = session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()
            return [row.payload for row in rows if row.payload.get("type") == "customs.data_ready"]

    assert ready() == []  # not before payment
    confirm_payment(client, shop.shopper, order["id"])
    (event,) = ready()
    assert event["vendor_ids"] == [shop.weaver["id"]]
    data = event["data"]
    assert data["order_id"] == order["id"] and data["form"] == "CN22" and data["destination_country"] == "BR"
    assert data["items"][0]["hs_code"] == "621410" and data["items"][0]["net_weight_g"] == 350
    assert ADDRESS["name"] not in str(event) and ADDRESS["line1"] not in str(event)
