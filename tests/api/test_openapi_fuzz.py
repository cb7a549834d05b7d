"""Schemathesis fuzzes every operation in /api/openapi.json.

Any 5xx, or a response that breaks the documented schema, status codes or
content type, fails the test. Examples are bounded and derandomized (a fixed
seed), so a run is repeatable. Each new endpoint is fuzzed by this test as
soon as it is in the spec.
"""
from __future__ import annotations

import pytest
import schemathesis

from marketplace.accounts.models import Role
from tests.api.fuzz_support import CHECKS, api_schema, fuzz_settings  # noqa: F401 - api_schema: the fixture used below


@pytest.fixture
def callers(make, client):
    """Tokens for the roles that can reach each operation, and some data to find."""
    make.rates()
    vendor_owner = make.user(Role.VENDOR)
    make.vendor("IN", owner=vendor_owner)
    response = client.post("/api/v1/products", headers=vendor_owner["headers"], json={
        "sku": "FUZZ-1", "translations": {"en": {"title": "Leather bag"}}, "price": {"amount": "10.00", "currency": "INR"},
        "stock": 50, "category": "bags", "hs_code": "420221", "status": "active"})
    assert response.status_code == 201
    shopper = make.user(Role.SHOPPER)
    client.post("/api/v1/cart/items", headers=shopper["headers"], json={"product_id": response.get_json()["id"]})
    return {
        Role.ADMIN: make.user(Role.ADMIN)["headers"],
        Role.VENDOR: vendor_owner["headers"],
        Role.SHOPPER: shopper["headers"],
        Role.CAMPAIGN_MANAGER: make.user(Role.CAMPAIGN_MANAGER)["headers"],
    }


#: (method, path prefix) -> the role that may call it; anything else is called as an admin.
ROLE_BY_OPERATION = [
    ("POST", "/api/v1/vendors/{vendor_id}/approve", Role.ADMIN),
    ("POST", "/api/v1/vendors/{vendor_id}/reject", Role.ADMIN),
    ("POST", "/api/v1/vendors/{vendor_id}/suspend", Role.ADMIN),
    ("POST", "/api/v1/orders/{order_id}/refunds", Role.ADMIN),
    ("POST", "/api/v1/vendors", Role.VENDOR),
    ("PATCH", "/api/v1/vendors", Role.VENDOR),
    ("POST", "/api/v1/products", Role.VENDOR),
    ("PATCH", "/api/v1/products", Role.VENDOR),
    ("DELETE", "/api/v1/products", Role.VENDOR),
    ("*", "/api/v1/vendor/", Role.VENDOR),
    ("*", "/api/v1/cart", Role.SHOPPER),
    ("*", "/api/v1/checkout", Role.SHOPPER),
    ("*", "/api/v1/orders", Role.SHOPPER),
    ("POST", "/api/v1/campaigns/{campaign_id}/enrollments", Role.VENDOR),
    ("DELETE", "/api/v1/campaigns/{campaign_id}/enrollments", Role.VENDOR),
    ("*", "/api/v1/campaigns", Role.CAMPAIGN_MANAGER),
]


def headers_for(case, callers) -> dict:
    method = case.method.upper()
    for wanted, prefix, role in ROLE_BY_OPERATION:
        if wanted in ("*", method) and case.operation.path.startswith(prefix):
            return callers[role]
    return callers[Role.ADMIN]


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@fuzz_settings(max_examples=30)
def test_api_conforms_to_its_openapi_schema(case, callers):
    case.call_and_validate(headers=headers_for(case, callers), checks=CHECKS)
