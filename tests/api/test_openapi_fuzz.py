"""Schemathesis fuzzes every operation in /api/openapi.json.

Any 5xx, or a response that breaks the documented schema, status codes or
content type, fails the test. Examples are bounded and derandomized (a fixed
seed), so a run is repeatable. Each new endpoint is fuzzed by this test as
soon as it is in the spec.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from marketplace.accounts.models import Role

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


@pytest.fixture
def callers(make):
    """Tokens for the roles that can reach each operation, and some data to find."""
    make.rates()
    vendor_owner = make.user(Role.VENDOR)
    make.vendor("IN", owner=vendor_owner)
    return {
        Role.ADMIN: make.user(Role.ADMIN)["headers"],
        Role.VENDOR: vendor_owner["headers"],
        Role.SHOPPER: make.user(Role.SHOPPER)["headers"],
    }


def headers_for(case, callers) -> dict:
    """Write operations as the role that owns them; reads as an admin (who sees the most)."""
    if case.method.upper() in {"POST", "PATCH"} and case.path.startswith("/api/v1/vendors") and not any(
        case.path.endswith(action) for action in ("/approve", "/reject", "/suspend")
    ):
        return callers[Role.VENDOR]
    return callers[Role.ADMIN]


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=30, derandomize=True, deadline=None,
          suppress_health_check=list(HealthCheck), database=None)
def test_api_conforms_to_its_openapi_schema(case, callers):
    case.call_and_validate(headers=headers_for(case, callers), checks=CHECKS)
