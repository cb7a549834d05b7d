"""Products carry customs data: weight, packed dimensions and a plain customs description."""
from __future__ import annotations

import pytest

from tests.api.test_products import PRODUCTS, assert_problem, create_product, product_payload, send_json


def test_a_product_carries_weight_dimensions_and_a_customs_description(client, make):
    make.rates()
    vendor = make.vendor("CN")
    product = create_product(client, vendor, weight_g=380, status="active",
                             dimensions={"length_mm": 200, "width_mm": 200, "height_mm": 30},
                             customs={"description": "Pu'er tea, compressed cake"})
    assert product["weight_g"] == 380 and product["customs"] == {"description": "Pu'er tea, compressed cake"}
    assert product["dimensions"] == {"length_mm": 200, "width_mm": 200, "height_mm": 30}
    shown = client.get(f"{PRODUCTS}/{product['id']}").get_json()  # the shopper's product page
    assert shown["weight_g"] == 380 and shown["customs"]["description"] == "Pu'er tea, compressed cake"

    changed = send_json(client, "PATCH", f"{PRODUCTS}/{product['id']}", {"weight_g": 400, "dimensions": None},
                        vendor["owner"]["headers"])
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert body["weight_g"] == 400 and body["dimensions"] is None and body["customs"]["description"]


def test_a_product_without_customs_data_shows_none(client, make):
    make.rates()
    vendor = make.vendor("IN")
    payload = {k: v for k, v in product_payload().items() if k != "weight_g"}
    response = send_json(client, "POST", PRODUCTS, payload, vendor["owner"]["headers"])
    assert response.status_code == 201, response.get_json()
    product = response.get_json()
    assert product["weight_g"] is None and product["dimensions"] is None and product["customs"] is None


@pytest.mark.parametrize("description", ["gift", "Goods", " SAMPLE ", "parts", "Miscellaneous", "x"])
def test_a_vague_customs_description_is_refused(client, make, description):
    vendor = make.vendor("IN")
    response = send_json(client, "POST", PRODUCTS, {**product_payload(), "customs": {"description": description}},
                         vendor["owner"]["headers"])
    assert_problem(response, 422, field="customs.description")


@pytest.mark.parametrize("change, field", [
    ({"weight_g": 0}, "weight_g"), ({"weight_g": "heavy"}, "weight_g"), ({"weight_g": 1.5}, "weight_g"),
    ({"dimensions": {"length_mm": 10, "width_mm": 10}}, "dimensions.height_mm"),
    ({"dimensions": {"length_mm": 10, "width_mm": 10, "height_mm": 0}}, "dimensions.height_mm"),
    ({"customs": {"description": "tea", "value": 3}}, "customs.value"),
])
def test_customs_data_is_checked_field_by_field(client, make, change, field):
    vendor = make.vendor("IN")
    response = send_json(client, "POST", PRODUCTS, {**product_payload(), **change}, vendor["owner"]["headers"])
    assert_problem(response, 422, field=field)

