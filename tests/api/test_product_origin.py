"""A product's own origin country: the vendor's by default, any BRICS member when the vendor says so (the API,
partner listings); shown on product pages, search items and order lines (frozen at checkout), and read by
campaign eligibility."""
from __future__ import annotations

import pytest

from catalog.models import Product
from marketplace.kernel.extensions import db
from tests.api.test_campaigns import Festival
from tests.api.test_checkout import buy
from tests.api.test_partner_listings import listing, sync
from tests.api.test_products import PRODUCTS, assert_problem, create_product

SEARCH = "/api/v1/search"


@pytest.fixture
def vendor(make):
    make.rates()
    return make.vendor("ZA", display_name="Cape Rooibos")


def page(client, product: dict, viewer: dict | None = None) -> dict:
    response = client.get(f"{PRODUCTS}/{product['id']}", headers=(viewer or {}).get("headers"))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def search(client, **params) -> dict:
    response = client.get(SEARCH, query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def bag(client, vendor: dict, **overrides) -> dict:
    return create_product(client, vendor, translations={"en": {"title": "Leather weekend bag"}},
                          price={"amount": "1800.00", "currency": "ZAR"}, category="bags", hs_code="420221",
                          **overrides)


def test_a_product_is_made_where_its_vendor_is_unless_it_says_otherwise(client, vendor):
    local = bag(client, vendor, sku="BAG-ZA")
    ethiopian = bag(client, vendor, sku="BAG-ET", origin_country="ET")

    assert local["origin_country"] == "ZA" and ethiopian["origin_country"] == "ET"
    shown = page(client, ethiopian)
    assert shown["origin_country"] == "ET" and shown["vendor"]["country"] == "ZA"
    assert page(client, local)["origin_country"] == "ZA"


def test_search_items_facets_and_filters_use_the_products_origin(client, vendor):
    local = bag(client, vendor, sku="BAG-ZA")
    ethiopian = bag(client, vendor, sku="BAG-ET", origin_country="ET")

    found = search(client, q="leather")
    origins = {item["id"]: item["origin_country"] for item in found["items"]}
    assert origins == {local["id"]: "ZA", ethiopian["id"]: "ET"}
    assert all(item["vendor"]["country"] == "ZA" for item in found["items"])
    assert {f["value"]: f["count"] for f in found["facets"]["origin_country"]} == {"ZA": 1, "ET": 1}
    assert [item["id"] for item in search(client, q="leather", origin_country="ET")["items"]] == [ethiopian["id"]]


def test_the_vendor_changes_a_products_origin_and_search_follows(client, vendor):
    product = bag(client, vendor, sku="BAG-1")
    response = client.patch(f"{PRODUCTS}/{product['id']}", json={"origin_country": "IN"},
                            headers=vendor["owner"]["headers"])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["origin_country"] == "IN" and response.get_json()["version"] == product["version"] + 1
    assert [item["id"] for item in search(client, origin_country="IN")["items"]] == [product["id"]]
    assert search(client, origin_country="ZA")["items"] == []
    # a change of something else keeps it
    client.patch(f"{PRODUCTS}/{product['id']}", json={"stock": 3}, headers=vendor["owner"]["headers"])
    assert page(client, product)["origin_country"] == "IN"


@pytest.mark.parametrize("origin, code", [
    ("FR", "country_not_eligible"), ("US", "country_not_eligible"),
    ("XX", "validation_error"), ("za", "validation_error"), ("ZAF", "validation_error"), (7, "validation_error"),
])
def test_only_brics_members_are_origins(client, vendor, origin, code):
    response = client.post(PRODUCTS, json={
        "sku": "BAG-X", "translations": {"en": {"title": "Bag"}}, "price": {"amount": "10.00", "currency": "ZAR"},
        "stock": 1, "category": "bags", "hs_code": "420221", "origin_country": origin},
        headers=vendor["owner"]["headers"])
    assert_problem(response, 422, code, "origin_country")
    product = bag(client, vendor, sku="BAG-Y")
    response = client.patch(f"{PRODUCTS}/{product['id']}", json={"origin_country": origin},
                            headers=vendor["owner"]["headers"])
    assert_problem(response, 422, code, "origin_country")
    assert page(client, product)["origin_country"] == "ZA"


def test_an_order_line_keeps_the_origin_it_was_sold_with(client, make, vendor):
    product = bag(client, vendor, sku="BAG-ET", origin_country="ET")
    shopper = make.user("shopper")
    order = buy(client, shopper, [(product, 1)], currency="ZAR")
    assert order["lines"][0]["origin_country"] == "ET"

    client.patch(f"{PRODUCTS}/{product['id']}", json={"origin_country": "BR"}, headers=vendor["owner"]["headers"])
    again = client.get(f"/api/v1/orders/{order['id']}", headers=shopper["headers"]).get_json()
    assert again["lines"][0]["origin_country"] == "ET"
    assert page(client, product)["origin_country"] == "BR"


def test_campaign_eligibility_reads_the_products_origin_not_the_vendors(make, client, app):
    festival = Festival(make, client, app)
    made_in_ethiopia = create_product(client, festival.cn, sku="COFFEE-ET", origin_country="ET",
                                      translations={"en": {"title": "Yirgacheffe coffee"}}, category="coffee",
                                      hs_code="090121", price={"amount": "90.00", "currency": "CNY"})
    campaign = festival.create(eligibility={"origin_countries": ["ET"], "categories": [], "msme_classes": []})
    festival.act(campaign, "launch")

    ethiopian, chinese = festival.enroll(campaign, festival.cn, made_in_ethiopia, festival.tea)
    assert ethiopian["status"] == "enrolled", ethiopian
    assert chinese["status"] == "rejected" and "origin_country" in chinese["reason"]


def test_partner_listings_name_an_origin_or_get_the_vendors(app, make, client, vendor):
    partner = make.partner(vendors=[vendor])
    answer = sync(client, partner,
                  listing(vendor, "EXT-ET", sku="BAG-ET", origin_country="ET"),
                  listing(vendor, "EXT-ZA", sku="BAG-ZA"),
                  listing(vendor, "EXT-FR", sku="BAG-FR", origin_country="FR"),
                  listing(vendor, "EXT-XX", sku="BAG-XX", origin_country="XX"))
    ethiopian, local, french, bad = answer["results"]
    assert ethiopian["status"] == "created" and local["status"] == "created"
    assert french["status"] == "error" and "origin_country" in french["errors"]
    assert bad["status"] == "error" and "origin_country" in bad["errors"]
    with app.app_context():
        assert db.session.get(Product, ethiopian["product_id"]).origin_country == "ET"
        assert db.session.get(Product, local["product_id"]).origin_country == "ZA"
        db.session.remove()

    # the same listing again is unchanged; a new origin alone is a change
    assert sync(client, partner, listing(vendor, "EXT-ET", sku="BAG-ET", origin_country="ET"))["results"][0][
        "status"] == "unchanged"
    moved = sync(client, partner, listing(vendor, "EXT-ET", sku="BAG-ET", origin_country="IN"))["results"][0]
    assert moved["status"] == "updated"
    assert [item["id"] for item in search(client, origin_country="IN")["items"]] == [ethiopian["product_id"]]
