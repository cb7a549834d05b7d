"""What the schemathesis fuzz tests share: the JSON Lines serializer, the checks, the schema fixture, the settings.

Importing this module registers the serializer, so every fuzz test sends JSON Lines bodies the same way
whichever test modules are collected.
"""
from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


@schemathesis.serializer("application/x-ndjson", "application/jsonl")
def json_lines(_context, value: Any) -> bytes:
    """Bodies for `POST /partner/listings/jobs`, whose schema is a string: the JSON Lines text.

    Text and bytes go as they are; a list (negative cases) becomes one JSON document per line."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    items = value if isinstance(value, list) else [value]
    return "\n".join(json.dumps(item, default=str) for item in items).encode()


@pytest.fixture
def api_schema(app):
    """The app's OpenAPI document, called in-process (WSGI); a fuzz module imports this fixture."""
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


def fuzz_settings(max_examples: int):
    """Bounded and repeatable: a fixed seed, no example database, no deadline."""
    return settings(max_examples=max_examples, derandomize=True, deadline=None,
                    suppress_health_check=list(HealthCheck), database=None)
