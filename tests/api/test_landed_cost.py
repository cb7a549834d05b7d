"""Landed cost through the API: the cart's shipping options to a country, and POST /api/v1/checkout/quote with
goods, shipping and the destination's duties and import taxes per vendor."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.api.test_checkout import ADDRESS, CART, add_to_cart, dec
from tests.api.test_customs_identity_and_shipping import IDENTITY, PROFILE, VALID_RIC
from tests.api.test_products import assert_problem, create_product, product_payload, send_json

QUOTE = "/api/v1/checkout/quote"
CENT = Decimal("0.01")


def money(amount: str, currency: str) -> dict:
    return {"amount": amount, "currency": currency}


def r(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


class Shop:
    """A shawl weaver in India (ships to Brazil, China and South Africa; standard 900 INR flat, express 1,200 INR
    + 400 INR per kg) and a tea house in China (ships to Brazil only), rates loaded."""

    def __init__(self, make, client) -> None:
        make.rates()
        self.client = client
        self.weaver = make.vendor("IN", shipping=False)
        self.tea_house = make.vendor("CN", shipping=False)
        self.shawl = create_product(client, self.weaver, sku="SHAWL-1", price=money("2500.00", "INR"), stock=40,
                                    category="shawls-scarves", hs_code="621410", weight_g=350,
                                    customs={"description": "Wool shawl, hand-woven"})
        self.tea = create_product(client, self.tea_house, sku="PUER-1", price=money("188.00", "CNY"), stock=20,
                                  weight_g=380, customs={"description": "Pu'er tea, compressed cake"})
        self.set_profile(self.weaver, [{"countries": ["BR", "CN", "ZA", "IN"], "rates": [
            {"service": "standard", "price": money("900.00", "INR"), "min_days": 8, "max_days": 15},
            {"service": "express", "base": money("1200.00", "INR"), "per_kg": money("400.00", "INR"),
             "min_days": 3, "max_days": 5}]}])
        self.set_profile(self.tea_house, [{"countries": ["BR"], "rates": [
            {"service": "standard", "price": money("60.00", "CNY"), "min_days": 10, "max_days": 20}]}])
        self.shopper = make.user("shopper")

    def set_profile(self, vendor: dict, zones: list) -> None:
        response = self.client.put(PROFILE, json={"zones": zones}, headers=vendor["owner"]["headers"])
        assert response.status_code == 200, response.get_json()

    def quote(self, currency: str = "INR", address: dict | None = None, **extra):
        return self.client.post(QUOTE, json={"currency": currency, "shipping_address": address or ADDRESS, **extra},
                                headers=self.shopper["headers"])


@pytest.fixture
def shop(make, client) -> Shop:
    return Shop(make, client)


def part_of(body: dict, vendor: dict) -> dict:
    return next(p for p in body["vendor_orders"] if p["vendor_id"] == vendor["id"])


def test_sao_paulo_pays_20_percent_import_tax_then_icms_por_dentro(shop, client):
    add_to_cart(client, shop.shopper, shop.shawl["id"], 1)
    response = shop.quote("INR")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    part = part_of(body, shop.weaver)
    # 2,500 INR of goods + 900 INR shipping = 3,400 INR customs value (about 40 US dollars: the 20 % band)
    assert dec(part["goods"]) == Decimal("2500.00") and dec(part["shipping"]) == Decimal("900.00")
    assert part["shipping_service"] == "standard" and part["delivery"] == {"min_days": 8, "max_days": 15}
    duty, icms = part["duties_and_taxes"]
    assert duty["kind"] == "import_duty" and Decimal(duty["rate"]) == Decimal("0.20")
    assert dec(duty["base"]) == Decimal("3400.00") and dec(duty["amount"]) == Decimal("680.00")
    base = r((Decimal("3400.00") + Decimal("680.00")) / (1 - Decimal("0.17")))
    assert icms["kind"] == "icms" and Decimal(icms["rate"]) == Decimal("0.17") and dec(icms["base"]) == base
    assert dec(icms["amount"]) == r(base * Decimal("0.17"))
    assert icms["rule"]["id"] == "BR-RTS-2025-04" and "Portaria MF" in icms["rule"]["source"]
    assert part["incoterm"] == "DDP" and dec(part["duties_collected"]) == dec(duty["amount"]) + dec(icms["amount"])
    assert dec(part["total"]) == Decimal("3400.00") + dec(part["duties_collected"])
    assert dec(body["total"]) == dec(part["total"]) and body["total"]["formatted"]


def test_bahia_takes_its_20_percent_icms(shop, client):
    add_to_cart(client, shop.shopper, shop.shawl["id"], 1)
    body = shop.quote("INR", {**ADDRESS, "city": "Salvador", "region": "BA"}).get_json()
    icms = part_of(body, shop.weaver)["duties_and_taxes"][1]
    assert Decimal(icms["rate"]) == Decimal("0.20") and dec(icms["base"]) == r(Decimal("4080.00") / Decimal("0.8"))


def test_above_50_dollars_the_import_tax_is_60_percent_less_20_dollars(shop, client):
    add_to_cart(client, shop.shopper, shop.shawl["id"], 2)
    part = part_of(shop.quote("INR").get_json(), shop.weaver)
    duty = part["duties_and_taxes"][0]
    assert Decimal(duty["rate"]) == Decimal("0.60") and dec(duty["base"]) == Decimal("5900.00")
    deduction = dec(duty["deduction"])  # 20 US dollars in rupees, at the stored rates
    assert Decimal("1000") < deduction < Decimal("2500") and duty["deduction"]["currency"] == "INR"
    assert dec(duty["amount"]) == Decimal("3540.00") - deduction


def test_a_two_vendor_cart_is_quoted_per_vendor_in_the_shoppers_currency(shop, client):
    add_to_cart(client, shop.shopper, shop.shawl["id"], 1)
    add_to_cart(client, shop.shopper, shop.tea["id"], 2)
    body = shop.quote("BRL").get_json()
    assert body["currency"] == "BRL" and len(body["vendor_orders"]) == 2
    for part in body["vendor_orders"]:
        assert {part[k]["currency"] for k in ("goods", "shipping", "duties_collected", "total")} == {"BRL"}
        charges = sum((dec(c["amount"]) for c in part["duties_and_taxes"]), Decimal(0))
        assert dec(part["duties_collected"]) == charges > 0
        assert dec(part["total"]) == dec(part["goods"]) + dec(part["shipping"]) + charges
    assert dec(body["total"]) == sum(dec(p["total"]) for p in body["vendor_orders"])


def test_express_is_priced_by_weight_and_a_chosen_service_is_kept(shop, client):
    add_to_cart(client, shop.shopper, shop.shawl["id"], 2)  # 700 g
    part = part_of(shop.quote("INR", shipping={str(shop.weaver["id"]): "express"}).get_json(), shop.weaver)
    assert part["shipping_service"] == "express" and dec(part["shipping"]) == Decimal("1480.00")  # 1200 + 0.7 x 400
    assert [o["service"] for o in part["shipping_options"]] == ["standard", "express"]


def test_shipping_the_shopper_cannot_get_is_refused_naming_the_vendor(shop, client):
    add_to_cart(client, shop.shopper, shop.tea["id"], 1)
    cape_town = {**ADDRESS, "city": "Cape Town", "region": "WC", "postal_code": "8001", "country": "ZA"}
    assert_problem(shop.quote("ZAR", cape_town), 422, "shipping_unavailable", field=f"shipping.{shop.tea_house['id']}")
    assert_problem(shop.quote("BRL", shipping={str(shop.tea_house["id"]): "teleport"}), 422,
                   "unknown_shipping_service", field=f"shipping.{shop.tea_house['id']}")
    assert_problem(shop.quote("BRL", shipping={"999999": "standard"}), 422, "unknown_shipping_service",
                   field="shipping.999999")


def test_a_product_without_a_weight_cannot_be_quoted(shop, client):
    payload = {k: v for k, v in product_payload(sku="NO-WEIGHT", price=money("100.00", "INR")).items()
               if k != "weight_g"}
    response = send_json(client, "POST", "/api/v1/products", payload, shop.weaver["owner"]["headers"])
    assert response.status_code == 201, response.get_json()
    plain = response.get_json()
    add_to_cart(client, shop.shopper, plain["id"], 1)
    assert_problem(shop.quote("INR"), 422, "weight_required", field="cart")


def test_elsewhere_the_duties_are_an_estimate_shown_not_charged(shop, client):
    add_to_cart(client, shop.shopper, shop.shawl["id"], 3)  # 7,500 INR + 900: above the 50-dollar de minimis
    cape_town = {**ADDRESS, "city": "Cape Town", "region": "WC", "postal_code": "8001", "country": "ZA"}
    part = part_of(shop.quote("INR", cape_town).get_json(), shop.weaver)
    assert part["incoterm"] == "DAP" and dec(part["duties_collected"]) == 0
    assert [c["kind"] for c in part["duties_and_taxes"]] == ["duty_estimate", "tax_estimate"]
    assert dec(part["duties_estimate"]) == sum(dec(c["amount"]) for c in part["duties_and_taxes"]) > 0
    assert dec(part["total"]) == Decimal("8400.00")  # goods and shipping only


def test_a_domestic_sale_pays_no_import_duties(shop, client):
    add_to_cart(client, shop.shopper, shop.shawl["id"], 1)
    mumbai = {**ADDRESS, "city": "Mumbai", "region": "MH", "postal_code": "400001", "country": "IN"}
    part = part_of(shop.quote("INR", mumbai).get_json(), shop.weaver)
    assert part["duties_and_taxes"] == [] and part["incoterm"] is None and dec(part["total"]) == Decimal("3400.00")


def test_china_needs_the_buyers_identity_matching_the_payer_and_applies_70_percent_vat(shop, client):
    add_to_cart(client, shop.shopper, shop.shawl["id"], 1)
    shanghai = {"name": "Zhang Wei", "line1": "1 Nanjing Road", "city": "Shanghai", "region": "SH",
                "postal_code": "200001", "country": "CN"}
    assert_problem(shop.quote("CNY", shanghai), 422, "customs_identity_required", field="customs_identity")
    client.put(IDENTITY, json={"name": "Li Na", "id_number": VALID_RIC}, headers=shop.shopper["headers"])
    assert_problem(shop.quote("CNY", shanghai), 422, "customs_identity_mismatch", field="shipping_address.name")
    client.put(IDENTITY, json={"name": "ZHANG  wei", "id_number": VALID_RIC}, headers=shop.shopper["headers"])
    response = shop.quote("CNY", shanghai)
    assert response.status_code == 200, response.get_json()
    part = part_of(response.get_json(), shop.weaver)
    duty, vat = part["duties_and_taxes"]
    assert duty["kind"] == "import_duty" and dec(duty["amount"]) == 0
    assert vat["kind"] == "import_vat" and Decimal(vat["rate"]) == Decimal("0.091")
    assert dec(vat["amount"]) == r(dec(part["customs_value"]) * Decimal("0.091"))
    assert part["incoterm"] == "DDP" and dec(part["total"]) == dec(part["customs_value"]) + dec(vat["amount"])


def test_china_refuses_an_order_above_5000_rmb_unless_it_is_one_single_item(shop, client):
    client.put(IDENTITY, json={"name": "Zhang Wei", "id_number": VALID_RIC}, headers=shop.shopper["headers"])
    shanghai = {"name": "Zhang Wei", "line1": "1 Nanjing Road", "city": "Shanghai", "postal_code": "200001",
                "country": "CN"}
    add_to_cart(client, shop.shopper, shop.shawl["id"], 30)  # 75,000 INR: about 6,000 RMB
    problem = assert_problem(shop.quote("CNY", shanghai), 422, "cbec_single_limit_exceeded")
    assert problem["vendor_id"] == shop.weaver["id"]

    # one single item above the limit passes, taxed in full as general trade
    carpet = create_product(client, shop.weaver, sku="CARPET-1", price=money("90000.00", "INR"), stock=1,
                            hs_code="570110", weight_g=9000, customs={"description": "Hand-knotted wool carpet"})
    client.delete(f"{CART}/items/{client.get(CART, headers=shop.shopper['headers']).get_json()['groups'][0]['lines'][0]['id']}",
                  headers=shop.shopper["headers"])
    add_to_cart(client, shop.shopper, carpet["id"], 1)
    part = part_of(shop.quote("CNY", shanghai).get_json(), shop.weaver)
    duty, vat = part["duties_and_taxes"]
    assert Decimal(duty["rate"]) == Decimal("0.10") and Decimal(vat["rate"]) == Decimal("0.13")
    assert dec(vat["base"]) == dec(part["customs_value"]) + dec(duty["amount"])


def test_the_cart_shows_each_vendors_shipping_options_to_a_country(shop, client):
    add_to_cart(client, shop.shopper, shop.shawl["id"], 1)
    add_to_cart(client, shop.shopper, shop.tea["id"], 1)
    plain = client.get(CART, headers=shop.shopper["headers"]).get_json()
    assert "shipping" not in plain["groups"][0]  # only when asked for a country
    body = client.get(CART, query_string={"currency": "INR", "country": "CN"}, headers=shop.shopper["headers"]).get_json()
    groups = {g["vendor"]["id"]: g for g in body["groups"]}
    weaver, tea_house = groups[shop.weaver["id"]], groups[shop.tea_house["id"]]
    assert weaver["shipping"]["service"] == "standard" and dec(weaver["shipping"]["price"]) == Decimal("900.00")
    assert [o["service"] for o in weaver["shipping_options"]] == ["standard", "express"]
    assert tea_house["shipping"] is None and tea_house["shipping_problems"] == ["does_not_ship_to_country"]
    assert body["has_problems"] is True and body["shipping_country"] == "CN"
    bad = client.get(CART, query_string={"country": "XX"}, headers=shop.shopper["headers"])
    assert bad.status_code == 422


def test_an_empty_cart_or_bad_body_is_refused(shop, client):
    assert_problem(shop.quote("INR"), 422, "cart_empty", field="cart")
    add_to_cart(client, shop.shopper, shop.shawl["id"], 1)
    assert_problem(shop.quote("INR", incoterm="DDP"), 422, field="incoterm")
    assert_problem(shop.quote("INR", shipping={"abc": "standard"}), 422)
    assert client.post(QUOTE, json={"currency": "INR", "shipping_address": ADDRESS}).status_code == 401


def test_an_order_to_china_counts_towards_the_buyers_annual_quota_across_orders(shop, client, make, app):
    from tests.api.test_checkout import post_checkout, checkout_body
    shanghai = {"name": "Zhang Wei", "line1": "1 Nanjing Road", "city": "Shanghai", "postal_code": "200001",
                "country": "CN"}
    assert_problem(client.get("/api/v1/me/cbec-quota", headers=shop.shopper["headers"]), 422,
                   "customs_identity_required")
    client.put(IDENTITY, json={"name": "Zhang Wei", "id_number": VALID_RIC}, headers=shop.shopper["headers"])
    before = client.get("/api/v1/me/cbec-quota", headers=shop.shopper["headers"]).get_json()
    assert dec(before["limit"]) == Decimal("26000") and dec(before["used"]) == 0 and before["limit"]["currency"] == "CNY"
    add_to_cart(client, shop.shopper, shop.shawl["id"], 2)
    quoted = shop.quote("CNY", shanghai).get_json()
    placed = post_checkout(client, shop.shopper, checkout_body("CNY", shipping_address=shanghai))
    assert placed.status_code == 201, placed.get_json()
    order = placed.get_json()["order"]
    assert order["total"] == quoted["total"]
    part = part_of(order, shop.weaver)
    after = client.get("/api/v1/me/cbec-quota", headers=shop.shopper["headers"]).get_json()
    assert dec(after["used"]) == dec(part["customs_value"]) and dec(after["remaining"]) == 26000 - dec(part["customs_value"])

    # another account with the same identity shares the limit; a single carpet above what is left is refused
    other = make.user("shopper")
    client.put(IDENTITY, json={"name": "Zhang Wei", "id_number": VALID_RIC}, headers=other["headers"])
    assert client.get("/api/v1/me/cbec-quota", headers=other["headers"]).get_json()["used"] == after["used"]
    carpet = create_product(client, shop.weaver, sku="CARPET-2", price=money("330000.00", "INR"), stock=1,
                            hs_code="570110", weight_g=9000, customs={"description": "Hand-knotted wool carpet"})
    add_to_cart(client, other, carpet["id"], 1)
    refused = client.post(QUOTE, json={"currency": "CNY", "shipping_address": shanghai}, headers=other["headers"])
    assert_problem(refused, 422, "cbec_annual_limit_exceeded")
