"""Schemathesis fuzzes the partner API's operations with a real partner key (the general fuzz test calls
them with a user token, which only reaches the 401s).

Any 5xx, or a response that breaks the documented schema, status codes or content type, fails.
"""
from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from marketplace.accounts.models import Role
from tests.api.test_openapi_fuzz import CHECKS
from tests.api.test_partner_listings import LISTINGS, listing


@schemathesis.serializer("application/x-ndjson", "application/jsonl")
def json_lines(_ctx, value) -> bytes:
    """Bodies for `POST /partner/listings/jobs` (its schema is a string: the JSON Lines text).

    Registered on import, so it also serves the general fuzz test whenever both modules are collected."""
    if isinstance(value, bytes):
        return value
    return value.encode() if isinstance(value, str) else json.dumps(value).encode()


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


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
@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_partner_api_conforms_to_its_openapi_schema(case, callers):
    headers = callers["vendor"] if "/vendors/" in case.operation.path else callers["partner"]
    case.call_and_validate(headers=headers, checks=CHECKS)
