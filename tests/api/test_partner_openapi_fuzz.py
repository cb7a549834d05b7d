"""Schemathesis fuzzes the partner API's operations with a real partner key (the general fuzz test calls
them with a user token, which only reaches the 401s).

Any 5xx, or a response that breaks the documented schema, status codes or content type, fails.
"""
from __future__ import annotations

import pytest
import schemathesis

from marketplace.accounts.models import Role
from tests.api.fuzz_support import CHECKS, api_schema, fuzz_settings  # noqa: F401 - api_schema: the fixture used below
from tests.api.test_partner_listings import LISTINGS, listing


@pytest.fixture
def callers(make, client):
    """A partner key with every scope, authorized by a vendor that has a synced listing and a webhook."""
    make.rates()
    vendor_owner = make.user(Role.VENDOR)
    vendor = make.vendor("IN", owner=vendor_owner)
    partner = make.partner(vendors=[vendor])
    response = client.put(LISTINGS, json={"listings": [listing(vendor, "FUZZ-1")]}, headers=partner["headers"])
    assert response.status_code == 200
    response = client.post("/api/v1/partner/webhooks", headers=partner["headers"],
                           json={"url": "https://erp.example.com/hooks", "events": ["listing.updated"]})
    assert response.status_code == 201
    return {"partner": partner["headers"], "vendor": vendor_owner["headers"]}


schema = schemathesis.pytest.from_fixture("api_schema").include(path_regex=r"^/api/v1/(partner/|vendors/\{vendor_id\}/partners)")


@schema.parametrize()
@fuzz_settings(max_examples=25)
def test_partner_api_conforms_to_its_openapi_schema(case, callers):
    headers = callers["vendor"] if "/vendors/" in case.operation.path else callers["partner"]
    case.call_and_validate(headers=headers, checks=CHECKS)
