"""Products through the HTTP API: listing, validation, localized and converted views, visibility, PATCH.

Search-side effects of catalog writes are covered in tests/api/test_search.py;
here a search is only used where visibility is the point.
"""
from __future__ import annotations

import itertools
import json
from decimal import Decimal
from typing import Any

import pytest

from marketplace.kernel.money import Money
from marketplace.rates.services import load_table

PRODUCTS = "/api/v1/products"
CATEGORIES = "/api/v1/categories"
SEARCH = "/api/v1/search"
PROBLEM = "application/problem+json"

_serial = itertools.count(1)


# -- helpers (also used by the search and outbox tests) -----------------------

def product_payload(**overrides: Any) -> dict[str, Any]:
    """A valid, active product (Assam tea priced in INR) with `overrides` applied on top."""
    payload: dict[str, Any] = {
        "sku": f"SKU-{next(_serial)}",
        "translations": {"en": {"title": "Assam black tea", "description": "Strong malty tea from Assam."}},
        "price": {"amount": "650.00", "currency": "INR"},
        "stock": 40,
        "category": "tea",
        "hs_code": "090230",
        "status": "active",
        "weight_g": 500,
    }
    payload.update(overrides)
    return payload


def send_json(client, method: str, url: str, payload: Any, headers: dict | None = None, **kwargs: Any):
    """Send `payload` as JSON with its keys in the order given (the test client's `json=` sorts them,
    and the order of `translations` matters: the first locale is the original)."""
    return client.open(url, method=method, data=json.dumps(payload), content_type="application/json",
                       headers=headers, **kwargs)


def create_product(client, vendor: dict, **overrides: Any) -> dict[str, Any]:
    """A product created through the API by `vendor`'s owner (asserts 201)."""
    response = send_json(client, "POST", PRODUCTS, product_payload(**overrides), vendor["owner"]["headers"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def assert_problem(response, status: int, code: str | None = None, field: str | None = None) -> dict:
    """The response is an RFC 9457 problem with `status` (and `code`, and `field` named in `errors`)."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status and body["code"] and body["detail"]
    if code is not None:
        assert body["code"] == code, body
    if field is not None:
        assert field in body.get("errors", {}), body
    return body


def search_ids(client, **params: Any) -> list[int]:
    response = client.get(SEARCH, query_string=params)
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


@pytest.fixture
def vendor(make):
    make.rates()
    return make.vendor("IN")


@pytest.fixture
def admin(make):
    return make.user("admin")


# -- who may list -------------------------------------------------------------

def test_an_approved_vendor_lists_a_product_and_gets_the_shopper_view_back(client, vendor):
    response = client.post(PRODUCTS, json=product_payload(sku="TEA-1", attributes={"weight_g": 250, "organic": True,
                                                                                    "grade": "FTGFOP"},
                                                          images=["https://cdn.example.com/tea.jpg"]),
                           headers=vendor["owner"]["headers"])

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["id"] > 0 and body["sku"] == "TEA-1"
    assert body["title"] == "Assam black tea" and body["locale"] == "en" and body["original_locale"] == "en"
    assert (body["original_price"]["amount"], body["original_price"]["currency"]) == ("650.00", "INR")
    assert body["price"]["currency"] == "USD"  # the base currency unless the caller asks another
    assert body["vendor"] == {"id": vendor["id"], "display_name": vendor["display_name"], "country": "IN"}
    assert body["origin_country"] == "IN"
    assert body["category"]["slug"] == "tea" and body["category"]["name"] == "Tea"
    assert body["hs_code"] == "090230" and body["stock"] == 40 and body["in_stock"] is True
    assert body["status"] == "active" and body["version"] == 1
    assert body["attributes"] == {"weight_g": 250, "organic": True, "grade": "FTGFOP"}
    assert body["images"] == ["https://cdn.example.com/tea.jpg"]


def test_a_new_product_is_a_draft_unless_a_status_is_given(client, vendor):
    payload = product_payload()
    del payload["status"]
    response = client.post(PRODUCTS, json=payload, headers=vendor["owner"]["headers"])
    assert response.status_code == 201
    assert response.get_json()["status"] == "draft"


def test_original_locale_defaults_to_the_first_translation_given(client, vendor):
    body = create_product(client, vendor, translations={"pt": {"title": "Chá preto de Assam"},
                                                        "en": {"title": "Assam black tea"}})
    assert body["original_locale"] == "pt"
    assert set(body["translations"]) == {"pt", "en"}


def test_original_locale_may_be_named_but_must_be_one_of_the_translations(client, vendor):
    body = create_product(client, vendor, translations={"pt": {"title": "Chá"}, "en": {"title": "Tea"}},
                          original_locale="en")
    assert body["original_locale"] == "en"
    response = client.post(PRODUCTS, json=product_payload(original_locale="ru"), headers=vendor["owner"]["headers"])
    assert_problem(response, 422, field="original_locale")


def test_origin_country_defaults_to_the_vendors_country(client, make):
    make.rates()
    brazilian = make.vendor("BR")
    body = create_product(client, brazilian, price={"amount": "39.90", "currency": "BRL"})
    assert body["origin_country"] == "BR" and body["vendor"]["country"] == "BR"


def test_a_shopper_cannot_list_products(client, make):
    shopper = make.user("shopper")
    response = client.post(PRODUCTS, json=product_payload(), headers=shopper["headers"])
    assert_problem(response, 403, "forbidden")


def test_listing_needs_a_token(client):
    assert_problem(client.post(PRODUCTS, json=product_payload()), 401)


def test_a_vendor_account_without_a_vendor_profile_is_told_to_create_one(client, make):
    account = make.user("vendor")
    response = client.post(PRODUCTS, json=product_payload(), headers=account["headers"])
    assert_problem(response, 403, "no_vendor_profile")


# -- field validation ---------------------------------------------------------

def test_a_sku_is_unique_per_vendor(client, vendor):
    create_product(client, vendor, sku="DUP-1")
    response = client.post(PRODUCTS, json=product_payload(sku="DUP-1"), headers=vendor["owner"]["headers"])
    assert_problem(response, 409, "sku_taken", "sku")


def test_another_vendor_may_reuse_a_sku(client, make, vendor):
    create_product(client, vendor, sku="SHARED-1")
    other = make.vendor("CN")
    body = create_product(client, other, sku="SHARED-1", price={"amount": "268.00", "currency": "CNY"})
    assert body["sku"] == "SHARED-1" and body["vendor"]["id"] == other["id"]


def test_changing_a_sku_to_one_the_vendor_already_uses_is_a_conflict(client, vendor):
    create_product(client, vendor, sku="FIRST")
    second = create_product(client, vendor, sku="SECOND")
    response = client.patch(f"{PRODUCTS}/{second['id']}", json={"sku": "FIRST"}, headers=vendor["owner"]["headers"])
    assert_problem(response, 409, "sku_taken", "sku")


@pytest.mark.parametrize("translations, field", [
    ({}, "translations"),
    ({"fr": {"title": "Thé noir"}}, "translations.fr.key"),
    ({"en": {"description": "no title"}}, "translations.en.value.title"),
    ({"en": {"title": ""}}, "translations.en.value.title"),
    ({"en": {"title": "Tea", "subtitle": "x"}}, "translations.en.value.subtitle"),
], ids=["none", "unsupported-locale", "missing-title", "empty-title", "unknown-key"])
def test_translations_need_a_supported_locale_and_a_title(client, vendor, translations, field):
    response = client.post(PRODUCTS, json=product_payload(translations=translations),
                           headers=vendor["owner"]["headers"])
    assert_problem(response, 422, "validation_error", field)


@pytest.mark.parametrize("price, field", [
    ({"amount": 12.5, "currency": "INR"}, "price.amount"),
    ({"amount": "12.50", "currency": "GBP"}, "price.currency"),
    ({"amount": "-1.00", "currency": "INR"}, "price.amount"),
    ({"amount": "1.001", "currency": "INR"}, "price.amount"),
    ({"amount": "12.50"}, "price.currency"),
    ("12.50 INR", "price"),
], ids=["json-number", "unsupported-currency", "negative", "too-many-decimals", "no-currency", "not-an-object"])
def test_a_price_is_a_money_object_with_a_decimal_string_in_a_supported_currency(client, vendor, price, field):
    response = client.post(PRODUCTS, json=product_payload(price=price), headers=vendor["owner"]["headers"])
    assert_problem(response, 422, "validation_error", field)


@pytest.mark.parametrize("currency, amount", [("BRL", "39.90"), ("RUB", "8900.00"), ("CNY", "268.00"),
                                              ("ZAR", "89.00"), ("IRR", "1500000"), ("EUR", "12.00")])
def test_a_price_may_be_in_any_supported_currency(client, vendor, currency, amount):
    body = create_product(client, vendor, price={"amount": amount, "currency": currency})
    assert body["original_price"]["currency"] == currency
    assert Decimal(body["original_price"]["amount"]) == Decimal(amount)


@pytest.mark.parametrize("stock", [-1, 1.5, "5", None], ids=["negative", "float", "string", "null"])
def test_stock_is_a_non_negative_integer(client, vendor, stock):
    response = client.post(PRODUCTS, json=product_payload(stock=stock), headers=vendor["owner"]["headers"])
    assert_problem(response, 422, "validation_error", "stock")


def test_out_of_stock_products_may_be_listed(client, vendor):
    body = create_product(client, vendor, stock=0)
    assert body["stock"] == 0 and body["in_stock"] is False


def test_an_unknown_category_is_refused_with_its_own_code(client, vendor):
    response = client.post(PRODUCTS, json=product_payload(category="teapots"), headers=vendor["owner"]["headers"])
    assert_problem(response, 422, "unknown_category", "category")


@pytest.mark.parametrize("slug", ["food-beverages", "shawls-scarves", "jewellery", "natural-cosmetics"])
def test_any_category_of_the_tree_may_be_used_parents_included(client, vendor, slug):
    assert create_product(client, vendor, category=slug)["category"]["slug"] == slug


@pytest.mark.parametrize("hs_code", ["770000", "980000", "000000", "12345", "0902301", "09023a", "", "09 023"])
def test_an_implausible_hs_code_is_refused(client, vendor, hs_code):
    response = client.post(PRODUCTS, json=product_payload(hs_code=hs_code), headers=vendor["owner"]["headers"])
    assert_problem(response, 422, "validation_error", "hs_code")


@pytest.mark.parametrize("hs_code", ["090230", "010121", "760110", "780110", "970110"])
def test_six_digit_hs_codes_of_real_chapters_are_accepted(client, vendor, hs_code):
    assert create_product(client, vendor, hs_code=hs_code)["hs_code"] == hs_code


@pytest.mark.parametrize("attributes", [
    {"size": {"cm": 125}}, {"weight": 1.5}, {"colours": ["red"]}, {"note": None}, {"Weight": 1},
    {"x" * 41: 1}, {"note": "x" * 201},
], ids=["nested-object", "float", "list", "null", "upper-case-key", "long-key", "long-value"])
def test_attributes_are_a_flat_map_of_simple_values(client, vendor, attributes):
    response = client.post(PRODUCTS, json=product_payload(attributes=attributes), headers=vendor["owner"]["headers"])
    assert_problem(response, 422, "validation_error", "attributes")


def test_attributes_accept_strings_integers_and_booleans(client, vendor):
    attributes = {"material": "wool", "size_cm": 125, "handmade": True}
    assert create_product(client, vendor, attributes=attributes)["attributes"] == attributes


@pytest.mark.parametrize("url", ["http://cdn.example.com/a.jpg", "ftp://cdn.example.com/a.jpg", "cdn.example.com/a.jpg",
                                 "https://cdn.example.com/a b.jpg"])
def test_images_must_be_https_urls(client, vendor, url):
    response = client.post(PRODUCTS, json=product_payload(images=["https://cdn.example.com/ok.jpg", url]),
                           headers=vendor["owner"]["headers"])
    assert_problem(response, 422, "validation_error", "images.1")


def test_status_is_draft_active_or_archived(client, vendor):
    response = client.post(PRODUCTS, json=product_payload(status="published"), headers=vendor["owner"]["headers"])
    assert_problem(response, 422, "validation_error", "status")


@pytest.mark.parametrize("field", ["vendor_id", "version", "origin_country", "id"])
def test_unknown_or_read_only_fields_are_refused(client, vendor, field):
    response = client.post(PRODUCTS, json=product_payload(**{field: 1}), headers=vendor["owner"]["headers"])
    assert_problem(response, 422, "validation_error", field)


@pytest.mark.parametrize("field", ["sku", "translations", "price", "stock", "category", "hs_code"])
def test_required_fields_are_named_when_missing(client, vendor, field):
    payload = product_payload()
    del payload[field]
    response = client.post(PRODUCTS, json=payload, headers=vendor["owner"]["headers"])
    assert_problem(response, 422, "validation_error", field)


# -- categories ---------------------------------------------------------------

def test_the_category_tree_has_localized_names(client):
    response = client.get(CATEGORIES, query_string={"locale": "ru"})
    assert response.status_code == 200
    roots = {node["slug"]: node for node in response.get_json()["items"]}
    assert set(roots) == {"food-beverages", "textiles-apparel", "leather-goods", "handicrafts-home",
                          "beauty-wellness", "jewellery"}
    food = roots["food-beverages"]
    assert food["parent"] is None
    children = {child["slug"]: child for child in food["children"]}
    assert set(children) == {"coffee", "tea", "spices", "nuts-dried-fruit"}
    assert children["tea"]["name"] == "Чай" and children["tea"]["parent"] == "food-beverages"
    assert {c["slug"] for c in roots["leather-goods"]["children"]} == {"bags", "footwear"}


def test_category_names_follow_the_asked_locale(client):
    def tea_name(locale: str) -> str:
        items = client.get(CATEGORIES, query_string={"locale": locale}).get_json()["items"]
        food = next(node for node in items if node["slug"] == "food-beverages")
        return next(child["name"] for child in food["children"] if child["slug"] == "tea")

    assert tea_name("en") == "Tea"
    assert tea_name("ru") == "Чай"
    assert tea_name("zh") != tea_name("en")


# -- the product page: locale and currency --------------------------------------

def test_the_product_page_serves_the_asked_locale_else_the_original(client, vendor):
    product = create_product(client, vendor, translations={
        "hi": {"title": "असम की काली चाय", "description": "असम की चाय"},
        "en": {"title": "Assam black tea", "description": "Strong malty tea."}})

    english = client.get(f"{PRODUCTS}/{product['id']}", query_string={"locale": "en"}).get_json()
    assert (english["locale"], english["title"]) == ("en", "Assam black tea")
    assert english["description"] == "Strong malty tea."
    hindi = client.get(f"{PRODUCTS}/{product['id']}", query_string={"locale": "hi"}).get_json()
    assert (hindi["locale"], hindi["title"]) == ("hi", "असम की काली चाय")
    portuguese = client.get(f"{PRODUCTS}/{product['id']}", query_string={"locale": "pt"}).get_json()
    assert (portuguese["locale"], portuguese["title"]) == ("hi", "असम की काली चाय")  # no pt: the original


def test_the_locale_may_come_from_accept_language(client, vendor):
    product = create_product(client, vendor, translations={"en": {"title": "Tea"}, "ru": {"title": "Чай"}})
    body = client.get(f"{PRODUCTS}/{product['id']}", headers={"Accept-Language": "ru-RU,ru;q=0.9"}).get_json()
    assert body["locale"] == "ru" and body["title"] == "Чай" and body["category"]["name"] == "Чай"


def test_the_category_name_on_the_product_page_is_localized(client, vendor):
    product = create_product(client, vendor)
    body = client.get(f"{PRODUCTS}/{product['id']}", query_string={"locale": "ru"}).get_json()
    assert body["category"]["slug"] == "tea" and body["category"]["name"] == "Чай"
    assert body["category"]["path"] == ["food-beverages", "tea"]


@pytest.mark.parametrize("currency", ["USD", "EUR", "BRL", "RUB", "CNY", "IRR", "INR"])
def test_the_price_is_converted_into_the_asked_currency_through_the_stored_rates(app, client, vendor, currency):
    product = create_product(client, vendor, price={"amount": "650.00", "currency": "INR"})

    body = client.get(f"{PRODUCTS}/{product['id']}", query_string={"currency": currency}).get_json()

    with app.app_context():
        from marketplace.kernel.extensions import db

        expected = load_table(db.session).convert(Money(Decimal("650.00"), "INR"), currency)
    assert body["price"]["currency"] == currency
    assert Decimal(body["price"]["amount"]) == expected.amount
    assert body["list_price"]["currency"] == currency and Decimal(body["list_price"]["amount"]) == expected.amount
    assert body["original_price"]["currency"] == "INR" and Decimal(body["original_price"]["amount"]) == Decimal("650")


def test_a_converted_price_agrees_with_the_ecb_snapshot_cross_rate(client, vendor):
    """Independent of the rate table: 1 EUR = 102.4836 INR = 1.1552 USD (bundled ECB file, 2026-11-20);
    the Bank of Russia snapshot (a day newer) agrees to within a fraction of a percent."""
    product = create_product(client, vendor, price={"amount": "10000.00", "currency": "INR"})
    body = client.get(f"{PRODUCTS}/{product['id']}", query_string={"currency": "USD"}).get_json()
    ecb = Decimal("10000") * Decimal("1.1552") / Decimal("102.4836")
    assert abs(Decimal(body["price"]["amount"]) - ecb) / ecb < Decimal("0.01")
    assert Decimal(body["price"]["amount"]) == Decimal(body["price"]["amount"]).quantize(Decimal("0.01"))


def test_the_price_keeps_the_currencys_minor_units(client, vendor):
    product = create_product(client, vendor, price={"amount": "650.00", "currency": "INR"})
    irr = client.get(f"{PRODUCTS}/{product['id']}", query_string={"currency": "IRR"}).get_json()["price"]["amount"]
    assert "." not in irr  # IRR has no minor units
    usd = client.get(f"{PRODUCTS}/{product['id']}", query_string={"currency": "USD"}).get_json()["price"]["amount"]
    assert len(usd.split(".")[1]) == 2


@pytest.mark.parametrize("currency", ["GBP", "XYZ", "usd", ""])
def test_an_unsupported_currency_on_the_product_page_is_refused(client, vendor, currency):
    product = create_product(client, vendor)
    response = client.get(f"{PRODUCTS}/{product['id']}", query_string={"currency": currency})
    assert_problem(response, 422, "validation_error", "currency")


def test_an_unknown_product_is_404(client):
    assert_problem(client.get(f"{PRODUCTS}/999999"), 404, "product_not_found")


# -- visibility ---------------------------------------------------------------

def test_a_draft_is_hidden_from_the_public_but_visible_to_its_vendor_and_admins(client, make, vendor, admin):
    draft = create_product(client, vendor, status="draft")
    url = f"{PRODUCTS}/{draft['id']}"

    assert_problem(client.get(url), 404, "product_not_found")
    assert_problem(client.get(url, headers=make.user("shopper")["headers"]), 404, "product_not_found")
    assert_problem(client.get(url, headers=make.vendor("CN")["owner"]["headers"]), 404, "product_not_found")
    assert client.get(url, headers=vendor["owner"]["headers"]).get_json()["status"] == "draft"
    assert client.get(url, headers=admin["headers"]).get_json()["status"] == "draft"
    assert draft["id"] not in search_ids(client)


def test_an_active_product_of_an_approved_vendor_is_public(client, vendor):
    product = create_product(client, vendor)
    response = client.get(f"{PRODUCTS}/{product['id']}")
    assert response.status_code == 200 and response.get_json()["id"] == product["id"]


@pytest.mark.parametrize("action", ["pending", "rejected", "suspended"])
def test_an_unapproved_vendor_may_keep_products_but_none_is_public(client, make, admin, action):
    make.rates()
    unapproved = make.vendor("IN", approved=False)
    if action == "rejected":
        response = client.post(f"/api/v1/vendors/{unapproved['id']}/reject", json={"reason": "Tax ID unclear"},
                               headers=admin["headers"])
        assert response.status_code == 200
    elif action == "suspended":
        client.post(f"/api/v1/vendors/{unapproved['id']}/approve", json={}, headers=admin["headers"])
        response = client.post(f"/api/v1/vendors/{unapproved['id']}/suspend", json={"reason": "Complaints"},
                               headers=admin["headers"])
        assert response.status_code == 200

    draft = create_product(client, unapproved, status="draft")
    active = create_product(client, unapproved, status="active")

    for product in (draft, active):
        assert_problem(client.get(f"{PRODUCTS}/{product['id']}"), 404, "product_not_found")
        assert client.get(f"{PRODUCTS}/{product['id']}", headers=unapproved["owner"]["headers"]).status_code == 200
    assert search_ids(client) == []
    assert_problem(client.get(f"/api/v1/vendors/{unapproved['id']}/products"), 404)
    own = client.get(f"/api/v1/vendors/{unapproved['id']}/products", headers=unapproved["owner"]["headers"])
    assert {p["id"] for p in own.get_json()["items"]} == {draft["id"], active["id"]}


def test_suspending_a_vendor_hides_its_products_and_approving_again_restores_them(client, vendor, admin):
    product = create_product(client, vendor)
    url = f"{PRODUCTS}/{product['id']}"

    response = client.post(f"/api/v1/vendors/{vendor['id']}/suspend", json={"reason": "Counterfeits reported"},
                           headers=admin["headers"])
    assert response.status_code == 200
    assert_problem(client.get(url), 404, "product_not_found")
    assert client.get(url, headers=vendor["owner"]["headers"]).status_code == 200
    assert product["id"] not in search_ids(client)

    assert client.post(f"/api/v1/vendors/{vendor['id']}/approve", json={}, headers=admin["headers"]).status_code == 200
    assert client.get(url).status_code == 200
    assert search_ids(client) == [product["id"]]


def test_archiving_a_product_answers_204_and_hides_it(client, vendor, admin):
    product = create_product(client, vendor)
    url = f"{PRODUCTS}/{product['id']}"
    assert search_ids(client) == [product["id"]]

    response = client.delete(url, headers=vendor["owner"]["headers"])

    assert response.status_code == 204 and response.get_data() == b""
    assert_problem(client.get(url), 404, "product_not_found")
    assert search_ids(client) == []
    owned = client.get(url, headers=vendor["owner"]["headers"]).get_json()
    assert owned["status"] == "archived" and owned["version"] == product["version"] + 1
    assert client.get(url, headers=admin["headers"]).get_json()["status"] == "archived"


def test_archiving_twice_is_harmless(client, vendor):
    product = create_product(client, vendor)
    url = f"{PRODUCTS}/{product['id']}"
    assert client.delete(url, headers=vendor["owner"]["headers"]).status_code == 204
    assert client.delete(url, headers=vendor["owner"]["headers"]).status_code == 204
    assert client.get(url, headers=vendor["owner"]["headers"]).get_json()["version"] == product["version"] + 1


def test_an_archived_product_can_be_reactivated(client, vendor):
    product = create_product(client, vendor)
    url = f"{PRODUCTS}/{product['id']}"
    client.delete(url, headers=vendor["owner"]["headers"])
    response = client.patch(url, json={"status": "active"}, headers=vendor["owner"]["headers"])
    assert response.status_code == 200 and response.get_json()["status"] == "active"
    assert client.get(url).status_code == 200
    assert search_ids(client) == [product["id"]]


def test_another_vendor_cannot_change_or_archive_a_public_product(client, make, vendor):
    product = create_product(client, vendor)
    intruder = make.vendor("CN")
    url = f"{PRODUCTS}/{product['id']}"

    assert_problem(client.patch(url, json={"stock": 0}, headers=intruder["owner"]["headers"]), 403, "not_product_owner")
    assert_problem(client.delete(url, headers=intruder["owner"]["headers"]), 403, "not_product_owner")
    body = client.get(url).get_json()
    assert body["stock"] == 40 and body["status"] == "active" and body["version"] == 1


def test_another_vendor_gets_404_for_a_hidden_product(client, make, vendor):
    draft = create_product(client, vendor, status="draft")
    intruder = make.vendor("CN")
    url = f"{PRODUCTS}/{draft['id']}"

    assert_problem(client.patch(url, json={"stock": 0}, headers=intruder["owner"]["headers"]), 404, "product_not_found")
    assert_problem(client.delete(url, headers=intruder["owner"]["headers"]), 404, "product_not_found")
    assert client.get(url, headers=vendor["owner"]["headers"]).get_json()["stock"] == 40


def test_shoppers_and_anonymous_callers_cannot_change_products(client, make, vendor):
    product = create_product(client, vendor)
    url = f"{PRODUCTS}/{product['id']}"
    assert_problem(client.patch(url, json={"stock": 0}), 401)
    assert_problem(client.patch(url, json={"stock": 0}, headers=make.user("shopper")["headers"]), 403)
    assert_problem(client.delete(url, headers=make.user("shopper")["headers"]), 403)


# -- a vendor's products ---------------------------------------------------------

def test_the_public_sees_only_the_active_products_of_a_vendor(client, vendor):
    active = create_product(client, vendor, status="active")
    create_product(client, vendor, status="draft")
    archived = create_product(client, vendor, status="active")
    client.delete(f"{PRODUCTS}/{archived['id']}", headers=vendor["owner"]["headers"])

    body = client.get(f"/api/v1/vendors/{vendor['id']}/products").get_json()
    assert body["total"] == 1 and [p["id"] for p in body["items"]] == [active["id"]]
    filtered = client.get(f"/api/v1/vendors/{vendor['id']}/products", query_string={"status": "draft"}).get_json()
    assert [p["id"] for p in filtered["items"]] == [active["id"]]  # the filter is for owners and admins


def test_the_vendor_and_admins_see_every_product_and_may_filter_by_status(client, vendor, admin):
    active = create_product(client, vendor, status="active")
    draft = create_product(client, vendor, status="draft")
    archived = create_product(client, vendor, status="active")
    client.delete(f"{PRODUCTS}/{archived['id']}", headers=vendor["owner"]["headers"])
    url = f"/api/v1/vendors/{vendor['id']}/products"

    for headers in (vendor["owner"]["headers"], admin["headers"]):
        everything = client.get(url, headers=headers).get_json()
        assert everything["total"] == 3
        assert [p["id"] for p in everything["items"]] == [active["id"], draft["id"], archived["id"]]
        for status, expected in (("draft", draft), ("archived", archived), ("active", active)):
            body = client.get(url, query_string={"status": status}, headers=headers).get_json()
            assert body["total"] == 1 and [p["id"] for p in body["items"]] == [expected["id"]]


def test_a_vendors_products_are_paginated_localized_and_converted(client, vendor):
    ids = [create_product(client, vendor, translations={"en": {"title": f"Tea {n}"}, "ru": {"title": f"Чай {n}"}})["id"]
           for n in range(3)]
    url = f"/api/v1/vendors/{vendor['id']}/products"

    first = client.get(url, query_string={"per_page": 2, "locale": "ru", "currency": "EUR"}).get_json()
    second = client.get(url, query_string={"per_page": 2, "page": 2}).get_json()

    assert first["total"] == 3 and first["page"] == 1 and first["per_page"] == 2
    assert [p["id"] for p in first["items"]] + [p["id"] for p in second["items"]] == ids
    assert first["items"][0]["title"] == "Чай 0" and first["items"][0]["price"]["currency"] == "EUR"
    assert_problem(client.get(url, query_string={"per_page": 101}), 422, "validation_error", "per_page")
    assert_problem(client.get(url, query_string={"status": "gone"}), 422, "validation_error", "status")


def test_an_unknown_vendors_products_are_404(client):
    assert_problem(client.get("/api/v1/vendors/999999/products"), 404)


# -- PATCH ----------------------------------------------------------------------

def patch(client, vendor: dict, product: dict, **data: Any):
    return client.patch(f"{PRODUCTS}/{product['id']}", json=data, headers=vendor["owner"]["headers"])


def test_patching_translations_merges_them(client, vendor):
    product = create_product(client, vendor)
    response = patch(client, vendor, product, translations={"pt": {"title": "Chá preto de Assam"}})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body["translations"]) == {"en", "pt"}
    assert body["translations"]["en"]["title"] == "Assam black tea"
    assert body["translations"]["pt"] == {"title": "Chá preto de Assam", "description": ""}
    assert body["original_locale"] == "en"


def test_setting_a_locale_to_null_removes_that_translation(client, vendor):
    product = create_product(client, vendor, translations={"en": {"title": "Tea"}, "pt": {"title": "Chá"}})
    body = patch(client, vendor, product, translations={"pt": None}).get_json()
    assert set(body["translations"]) == {"en"}
    assert client.get(f"{PRODUCTS}/{product['id']}", query_string={"locale": "pt"}).get_json()["locale"] == "en"


def test_removing_the_original_locale_makes_a_remaining_one_original(client, vendor):
    product = create_product(client, vendor, translations={"en": {"title": "Tea"}, "pt": {"title": "Chá"}})
    body = patch(client, vendor, product, translations={"en": None}).get_json()
    assert set(body["translations"]) == {"pt"} and body["original_locale"] == "pt"


def test_removing_the_last_translation_is_refused(client, vendor):
    product = create_product(client, vendor)
    assert_problem(patch(client, vendor, product, translations={"en": None}), 422, field="translations")
    body = client.get(f"{PRODUCTS}/{product['id']}").get_json()
    assert body["translations"]["en"]["title"] == "Assam black tea" and body["version"] == 1


def test_a_patch_validates_like_a_create(client, vendor):
    product = create_product(client, vendor)
    for data, field in (({"hs_code": "770000"}, "hs_code"),
                        ({"price": {"amount": 1, "currency": "INR"}}, "price.amount"),
                        ({"stock": -1}, "stock"), ({"attributes": {"a": {"b": 1}}}, "attributes"),
                        ({"images": ["http://x.example/a.jpg"]}, "images.0"), ({"vendor_id": 2}, "vendor_id"),
                        ({"translations": {"fr": {"title": "Thé"}}}, "translations.fr.key"),
                        ({"price": {"amount": "1.00"}}, "price.currency")):
        assert_problem(patch(client, vendor, product, **data), 422, "validation_error", field)
    assert_problem(patch(client, vendor, product, category="teapots"), 422, "unknown_category", "category")
    assert client.get(f"{PRODUCTS}/{product['id']}").get_json()["version"] == 1


def test_a_patch_changes_only_the_fields_sent(client, vendor):
    product = create_product(client, vendor, attributes={"grade": "FTGFOP"})
    body = patch(client, vendor, product, stock=3, price={"amount": "700.00", "currency": "INR"},
                 category="spices", hs_code="091030").get_json()
    assert body["stock"] == 3 and body["original_price"]["amount"] == "700.00"
    assert body["category"]["slug"] == "spices" and body["hs_code"] == "091030"
    assert body["sku"] == product["sku"] and body["attributes"] == {"grade": "FTGFOP"}
    assert body["title"] == "Assam black tea"


def test_the_version_increases_on_a_change_and_not_on_a_no_op_patch(client, vendor):
    product = create_product(client, vendor, attributes={"grade": "FTGFOP"})
    assert product["version"] == 1

    assert patch(client, vendor, product, stock=39).get_json()["version"] == 2
    same = dict(stock=39, price={"amount": "650.00", "currency": "INR"}, category="tea", hs_code="090230",
                sku=product["sku"], status="active", attributes={"grade": "FTGFOP"},
                translations={"en": {"title": "Assam black tea", "description": "Strong malty tea from Assam."}})
    for data in ({}, same, {"price": {"amount": "650", "currency": "INR"}}):
        response = patch(client, vendor, product, **data)
        assert response.status_code == 200 and response.get_json()["version"] == 2, data
    assert patch(client, vendor, product, translations={"pt": {"title": "Chá"}}).get_json()["version"] == 3


def test_a_no_op_patch_leaves_updated_at_alone(client, vendor):
    product = create_product(client, vendor)
    after = patch(client, vendor, product, stock=product["stock"]).get_json()
    assert after["updated_at"] == product["updated_at"]


def test_without_exchange_rates_a_listing_is_refused_before_anything_is_stored(client, make):
    vendor = make.vendor("IN")  # no make.rates(): INR does not convert into the base currency yet
    response = send_json(client, "POST", PRODUCTS, product_payload(sku="EARLY"), vendor["owner"]["headers"])
    assert_problem(response, 422, "no_exchange_rate", "price.currency")
    listing = client.get(f"/api/v1/vendors/{vendor['id']}/products", headers=vendor["owner"]["headers"]).get_json()
    assert listing["total"] == 0

    make.rates()
    assert create_product(client, vendor, sku="EARLY")["sku"] == "EARLY"  # not "taken" by the refused attempt


def test_a_listing_in_the_base_currency_needs_no_rates(client, make):
    vendor = make.vendor("IN")
    body = create_product(client, vendor, price={"amount": "12.50", "currency": "USD"})
    assert body["price"]["amount"] == "12.50" and body["price"]["currency"] == "USD"
