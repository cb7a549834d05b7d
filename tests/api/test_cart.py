"""The shopper's cart through the HTTP API: lines priced in the shopper's currency, grouped by vendor,
problems flagged (never silently dropped), and only the owner may touch it."""
from __future__ import annotations

from decimal import Decimal

import pytest

from tests.api.test_checkout import CART, CART_ITEMS, Market, add_to_cart, dec
from tests.api.test_products import assert_problem


@pytest.fixture
def market(make, client) -> Market:
    return Market(make, client)


def get_cart(client, shopper: dict, currency: str | None = "BRL", **params) -> dict:
    query = {"currency": currency, **params} if currency else params
    response = client.get(CART, query_string=query, headers=shopper["headers"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def lines_of(cart: dict) -> list[dict]:
    return [line for group in cart["groups"] for line in group["lines"]]


def product_price(client, product: dict, currency: str) -> dict:
    response = client.get(f"/api/v1/products/{product['id']}", query_string={"currency": currency})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["price"]


# -- contents and prices ---------------------------------------------------------

def test_an_empty_cart_has_no_groups_and_a_zero_total(market, client):
    cart = get_cart(client, market.shopper)
    assert cart["groups"] == [] and cart["item_count"] == 0 and cart["has_problems"] is False
    assert cart["total"]["amount"] == "0.00" and cart["total"]["currency"] == "BRL"


def test_cart_lines_are_priced_in_the_shoppers_currency_and_grouped_by_vendor(market, client):
    add_to_cart(client, market.shopper, market.tea["id"], 2)
    cart = add_to_cart(client, market.shopper, market.shawl["id"], 1, currency="BRL")

    assert cart["currency"] == "BRL"
    vendors = {group["vendor"]["id"]: group for group in cart["groups"]}
    assert set(vendors) == {market.tea_vendor["id"], market.shawl_vendor["id"]}
    tea_group, shawl_group = vendors[market.tea_vendor["id"]], vendors[market.shawl_vendor["id"]]
    assert tea_group["vendor"]["country"] == "CN" and shawl_group["vendor"]["country"] == "IN"
    (tea_line,), (shawl_line,) = tea_group["lines"], shawl_group["lines"]
    assert tea_line["product_id"] == market.tea["id"] and tea_line["quantity"] == 2
    assert tea_line["title"] == "Yunnan Pu'er cake" and tea_line["problems"] == []
    # the one pricing function: the cart agrees with the product page, in reais
    assert tea_line["unit_price"] == product_price(client, market.tea, "BRL")
    assert shawl_line["unit_price"] == product_price(client, market.shawl, "BRL")
    for line in (tea_line, shawl_line):
        assert line["unit_price"]["currency"] == line["line_total"]["currency"] == "BRL"
        assert dec(line["line_total"]) == dec(line["unit_price"]) * line["quantity"]
    assert dec(tea_group["subtotal"]) == dec(tea_line["line_total"])
    assert dec(cart["total"]) == dec(tea_line["line_total"]) + dec(shawl_line["line_total"])
    assert cart["item_count"] == 3 and cart["has_problems"] is False


def test_the_same_cart_can_be_priced_in_another_currency(market, client):
    add_to_cart(client, market.shopper, market.shawl["id"], 2)
    in_rupees = get_cart(client, market.shopper, "INR")
    (line,) = lines_of(in_rupees)
    assert line["unit_price"] == {"amount": "2500.00", "currency": "INR", "formatted": "₹2,500.00"}
    assert in_rupees["total"]["amount"] == "5000.00"
    in_rubles = get_cart(client, market.shopper, "RUB")
    assert in_rubles["total"]["currency"] == "RUB"
    assert dec(in_rubles["total"]) == dec(lines_of(in_rubles)[0]["unit_price"]) * 2


def test_the_cart_is_priced_in_the_base_currency_when_none_is_asked(market, client, app):
    add_to_cart(client, market.shopper, market.tea["id"])
    cart = get_cart(client, market.shopper, currency=None)
    assert cart["currency"] == app.config["BASE_CURRENCY"] == cart["total"]["currency"]


def test_cart_titles_follow_the_requested_locale_with_the_original_as_fallback(market, client):
    tea = market.product(translations={"en": {"title": "Green tea"}, "pt": {"title": "Chá verde"}})
    add_to_cart(client, market.shopper, tea["id"])
    add_to_cart(client, market.shopper, market.shawl["id"])
    by_product = {line["product_id"]: line for line in lines_of(get_cart(client, market.shopper, locale="pt"))}
    assert by_product[tea["id"]]["title"] == "Chá verde" and by_product[tea["id"]]["locale"] == "pt"
    assert by_product[market.shawl["id"]]["title"] == "Kashmir pashmina shawl"
    assert by_product[market.shawl["id"]]["locale"] == "en"


def test_an_unsupported_cart_currency_is_refused(market, client):
    response = client.get(CART, query_string={"currency": "JPY"}, headers=market.shopper["headers"])
    assert_problem(response, 422, "validation_error", field="currency")


# -- changing the cart -------------------------------------------------------------

def test_adding_a_product_already_in_the_cart_adds_to_its_quantity(market, client):
    add_to_cart(client, market.shopper, market.tea["id"], 2)
    cart = add_to_cart(client, market.shopper, market.tea["id"], 3)
    (line,) = lines_of(cart)
    assert line["quantity"] == 5 and cart["item_count"] == 5


def test_quantity_defaults_to_one(market, client):
    response = client.post(CART_ITEMS, json={"product_id": market.tea["id"]}, headers=market.shopper["headers"])
    assert response.status_code == 201
    assert lines_of(response.get_json())[0]["quantity"] == 1


def test_patch_sets_a_lines_quantity(market, client):
    line = lines_of(add_to_cart(client, market.shopper, market.tea["id"], 4))[0]
    response = client.patch(f"{CART_ITEMS}/{line['id']}", json={"quantity": 2}, query_string={"currency": "CNY"},
                            headers=market.shopper["headers"])
    assert response.status_code == 200, response.get_json()
    (updated,) = lines_of(response.get_json())
    assert updated["quantity"] == 2 and updated["line_total"]["amount"] == "376.00"


def test_delete_removes_a_line_and_leaves_the_others(market, client):
    tea_line = lines_of(add_to_cart(client, market.shopper, market.tea["id"]))[0]
    add_to_cart(client, market.shopper, market.shawl["id"])
    response = client.delete(f"{CART_ITEMS}/{tea_line['id']}", headers=market.shopper["headers"])
    assert response.status_code == 204 and response.get_data() == b""
    assert [line["product_id"] for line in lines_of(get_cart(client, market.shopper))] == [market.shawl["id"]]
    again = client.delete(f"{CART_ITEMS}/{tea_line['id']}", headers=market.shopper["headers"])
    assert_problem(again, 404, "cart_item_not_found")


@pytest.mark.parametrize("quantity", [0, -1, 1001, "2", 1.5, None])
def test_invalid_quantities_are_refused_when_adding(market, client, quantity):
    response = client.post(CART_ITEMS, json={"product_id": market.tea["id"], "quantity": quantity},
                           headers=market.shopper["headers"])
    assert_problem(response, 422, "validation_error", field="quantity")
    assert get_cart(client, market.shopper)["groups"] == []


@pytest.mark.parametrize("quantity", [0, -3, 1001, "1"])
def test_invalid_quantities_are_refused_when_updating(market, client, quantity):
    line = lines_of(add_to_cart(client, market.shopper, market.tea["id"], 2))[0]
    response = client.patch(f"{CART_ITEMS}/{line['id']}", json={"quantity": quantity},
                            headers=market.shopper["headers"])
    assert_problem(response, 422, "validation_error", field="quantity")
    assert lines_of(get_cart(client, market.shopper))[0]["quantity"] == 2


def test_a_missing_product_id_is_a_validation_error(market, client):
    response = client.post(CART_ITEMS, json={"quantity": 1}, headers=market.shopper["headers"])
    assert_problem(response, 422, "validation_error", field="product_id")


def test_an_unknown_product_cannot_be_added(market, client):
    response = client.post(CART_ITEMS, json={"product_id": 999999, "quantity": 1}, headers=market.shopper["headers"])
    assert_problem(response, 422, "product_unavailable", field="product_id")


@pytest.mark.parametrize("status", ["draft", "archived"])
def test_a_product_that_is_not_on_sale_cannot_be_added(market, client, status):
    hidden = market.product(status=status)
    response = client.post(CART_ITEMS, json={"product_id": hidden["id"], "quantity": 1},
                           headers=market.shopper["headers"])
    assert_problem(response, 422, "product_unavailable", field="product_id")
    assert get_cart(client, market.shopper)["groups"] == []


def test_a_product_of_a_vendor_awaiting_approval_cannot_be_added(market, make, client):
    pending = make.vendor("ZA", approved=False)
    product = market.product(pending)
    response = client.post(CART_ITEMS, json={"product_id": product["id"]}, headers=market.shopper["headers"])
    assert_problem(response, 422, "product_unavailable")


# -- problems are flagged, not dropped ------------------------------------------------

def test_a_product_archived_after_it_was_added_is_flagged_unavailable_and_left_out_of_the_total(market, client):
    add_to_cart(client, market.shopper, market.tea["id"], 1)
    add_to_cart(client, market.shopper, market.shawl["id"], 1)
    response = client.delete(f"/api/v1/products/{market.tea['id']}", headers=market.tea_vendor["owner"]["headers"])
    assert response.status_code == 204

    cart = get_cart(client, market.shopper)
    by_product = {line["product_id"]: line for line in lines_of(cart)}
    assert set(by_product) == {market.tea["id"], market.shawl["id"]}  # still there
    assert by_product[market.tea["id"]]["problems"] == ["unavailable"]
    assert by_product[market.shawl["id"]]["problems"] == []
    assert cart["has_problems"] is True
    assert cart["total"] == by_product[market.shawl["id"]]["line_total"]


def test_lines_of_a_suspended_vendor_are_flagged_unavailable(market, client):
    add_to_cart(client, market.shopper, market.shawl["id"], 1)
    response = client.post(f"/api/v1/vendors/{market.shawl_vendor['id']}/suspend", json={"reason": "Unpaid fees"},
                           headers=market.admin["headers"])
    assert response.status_code == 200, response.get_json()

    cart = get_cart(client, market.shopper)
    (group,) = cart["groups"]
    assert group["lines"][0]["problems"] == ["unavailable"]
    assert cart["has_problems"] is True and Decimal(cart["total"]["amount"]) == 0
    assert Decimal(group["subtotal"]["amount"]) == 0


def test_a_quantity_beyond_the_stock_is_flagged_not_capped(market, client):
    cart = add_to_cart(client, market.shopper, market.shawl["id"], 5)  # only 3 in stock
    (line,) = lines_of(cart)
    assert line["quantity"] == 5 and line["available_stock"] == 3
    assert line["problems"] == ["insufficient_stock"]
    assert cart["has_problems"] is True

    line_id = line["id"]
    response = client.patch(f"{CART_ITEMS}/{line_id}", json={"quantity": 3}, headers=market.shopper["headers"])
    assert lines_of(response.get_json())[0]["problems"] == []
    assert response.get_json()["has_problems"] is False


# -- who may use a cart --------------------------------------------------------------

@pytest.mark.parametrize("role", ["vendor", "admin"])
def test_only_shoppers_have_a_cart(market, make, client, role):
    other = make.user(role)
    assert_problem(client.get(CART, headers=other["headers"]), 403)
    assert_problem(client.post(CART_ITEMS, json={"product_id": market.tea["id"]}, headers=other["headers"]), 403)


def test_the_cart_needs_a_signed_in_shopper(market, client):
    assert_problem(client.get(CART), 401)
    assert_problem(client.post(CART_ITEMS, json={"product_id": market.tea["id"]}), 401)


def test_another_shoppers_cart_item_is_not_found(market, make, client):
    line = lines_of(add_to_cart(client, market.shopper, market.tea["id"], 2))[0]
    intruder = make.user("shopper")
    add_to_cart(client, intruder, market.shawl["id"])

    assert_problem(client.patch(f"{CART_ITEMS}/{line['id']}", json={"quantity": 9}, headers=intruder["headers"]),
                   404, "cart_item_not_found")
    assert_problem(client.delete(f"{CART_ITEMS}/{line['id']}", headers=intruder["headers"]),
                   404, "cart_item_not_found")
    assert [(l["product_id"], l["quantity"]) for l in lines_of(get_cart(client, market.shopper))] == [
        (market.tea["id"], 2)]
    assert [l["product_id"] for l in lines_of(get_cart(client, intruder))] == [market.shawl["id"]]
