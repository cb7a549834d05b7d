"""Hostile input to the partner API gets a clear 4xx naming the field, never a 500."""
from __future__ import annotations

import base64
import json

import pytest

from tests.api.test_partner_listings import LISTINGS, listing, partner, sync, vendor  # noqa: F401 (fixtures)
from tests.api.test_products import assert_problem


def crafted(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [
    crafted({"s": 10**40, "i": 1}),
    crafted({"s": 1, "i": 10**40}),
    crafted({"s": -1, "i": 1}),
    crafted({"s": True, "i": 1}),
    crafted({"s": 1, "i": True}),
    crafted({"s": 1.5, "i": 1}),
    crafted({"s": "1", "i": 1}),
    crafted({"s": 1}),
    crafted(True),
    crafted(10**40),
    crafted([1, 2]),
    crafted(["2026-01-01T00:00:00+00:00", 10**40]),
    crafted(["2026-01-01T00:00:00+00:00", True]),
    base64.urlsafe_b64encode(b"[" * 150).decode(),
    base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    "é",
    "%%%",
])
def test_a_crafted_cursor_is_422_naming_the_cursor(client, vendor, partner, cursor):
    sync(client, partner, listing(vendor, "c1"))

    response = client.get(LISTINGS, query_string={"cursor": cursor}, headers=partner["headers"])

    assert_problem(response, 422, "invalid_cursor", field="cursor")


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                                    "0001-01-01T00:00:00+00:01"])
def test_an_updated_since_outside_utcs_range_is_422_naming_the_field(client, partner, moment):
    response = client.get(LISTINGS, query_string={"updated_since": moment}, headers=partner["headers"])

    assert_problem(response, 422, field="updated_since")


def test_the_extreme_moments_that_do_exist_in_utc_are_accepted(client, vendor, partner):
    sync(client, partner, listing(vendor, "c1"))
    earliest = client.get(LISTINGS, query_string={"updated_since": "0001-01-01T00:00:00-14:00"},
                          headers=partner["headers"])
    latest = client.get(LISTINGS, query_string={"updated_since": "9999-12-31T23:59:59+14:00"},
                        headers=partner["headers"])

    assert earliest.status_code == 200 and [i["external_id"] for i in earliest.get_json()["items"]] == ["c1"]
    assert latest.status_code == 200 and latest.get_json()["items"] == []


def test_a_cursor_the_feed_gave_out_still_works(client, vendor, partner):
    sync(client, partner, listing(vendor, "c1"), listing(vendor, "c2"))
    page = client.get(LISTINGS, query_string={"limit": 1}, headers=partner["headers"]).get_json()

    response = client.get(LISTINGS, query_string={"cursor": page["next_cursor"]}, headers=partner["headers"])

    assert response.status_code == 200
    assert [i["external_id"] for i in page["items"] + response.get_json()["items"]] == ["c1", "c2"]


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1, 10**30])
def test_attribute_integers_beyond_64_bits_are_refused_naming_the_attribute(client, vendor, partner, value):
    answer = sync(client, partner, listing(vendor, "big", attributes={"weight_grams": value}))

    [result] = answer["results"]
    assert result["status"] == "error" and result["product_id"] is None
    assert "attributes.weight_grams" in result["errors"], result["errors"]


@pytest.mark.parametrize("value", [2**63 - 1, -(2**63), 0, 12])
def test_attribute_integers_within_64_bits_stay_exact_and_a_resync_is_unchanged(client, vendor, partner, value):
    payload = listing(vendor, "exact", attributes={"weight_grams": value})
    assert sync(client, partner, payload)["results"][0]["status"] == "created"

    again = sync(client, partner, payload)
    items = client.get(LISTINGS, headers=partner["headers"]).get_json()["items"]

    assert again["results"][0]["status"] == "unchanged"
    assert items[0]["attributes"] == {"weight_grams": value}


def test_a_listing_with_control_characters_fails_alone_and_the_others_sync(client, vendor, partner):
    bad = listing(vendor, translations={"en": {"title": "Bad\u0000title", "description": ""}})
    good = listing(vendor)

    response = client.put(LISTINGS, json={"listings": [bad, good]}, headers=partner["headers"])

    assert response.status_code == 200, response.get_json()
    first, second = response.get_json()["results"]
    assert first["status"] == "error" and "translations.en.title" in first["errors"]
    assert second["status"] == "created"
