"""A hostile client against the real server: every malformed or contradictory input gets a clear 4xx
`application/problem+json` naming what is wrong, never a 500, and nothing of it is stored.
"""
from __future__ import annotations

import base64
import json
import socket
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest

from tests.journeys.support import assert_problem, ok, product_body, unique, wait_until

DEEP = "[" * 100_000 + "]" * 100_000
HUGE_INTEGER = "9" * 5_000
ADDRESS = {"name": "Thabo Mokoena", "line1": "1 Long Street", "city": "Cape Town", "postal_code": "8001",
           "country": "ZA"}


@pytest.fixture(scope="module")
def vendor(system):
    return system.login("vendor-in@buybrics.example")


@pytest.fixture(scope="module")
def vendor_id(demo):
    return demo["vendors"]["IN"]["id"]


@pytest.fixture(scope="module")
def manager(system):
    return system.login("manager@buybrics.example")


@pytest.fixture(scope="module")
def partner(system):
    return system.partner(system.demo_partner_key)


def skus_of(vendor, vendor_id: int) -> set[str]:
    items = ok(vendor.get(f"/vendors/{vendor_id}/products", params={"per_page": 100, "status": "active"}))["items"]
    drafts = ok(vendor.get(f"/vendors/{vendor_id}/products", params={"per_page": 100, "status": "draft"}))["items"]
    return {p["sku"] for p in items + drafts}


def refused_and_not_stored(vendor, vendor_id: int, body: dict, field: str) -> None:
    response = vendor.post("/products", json=body)
    assert_problem(response, 422, field=field)
    assert body["sku"] not in skus_of(vendor, vendor_id)


# -- JSON itself -----------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [DEEP, '{"email": "a@b.example", "password": ' + HUGE_INTEGER + "}"],
                         ids=["nested-100000-deep", "5000-digit-integer"])
def test_anonymous_json_too_deep_or_with_a_huge_number_is_invalid_json(system, raw):
    response = system.client().post("/auth/token", data=raw.encode(), headers={"Content-Type": "application/json"})
    assert_problem(response, 400, "invalid_json")


def test_a_json_endpoint_given_plain_text_answers_415(system, vendor):
    response = vendor.post("/products", data=json.dumps(product_body()).encode(),
                           headers={"Content-Type": "text/plain"})
    assert_problem(response, 415)


def _chunked_post(base_url: str, path: str, total: int, chunk: int = 64 * 1024) -> tuple[int, dict, bytes]:
    """POST `total` bytes of a JSON string with Transfer-Encoding: chunked (no Content-Length); the answer's
    status, headers and body. The server may answer and close before reading it all."""
    parts = urlsplit(base_url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    try:
        sock.sendall((f"POST /api/v1{path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
                      "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode())
        payload = b'{"email": "' + b"a" * (total - 20) + b'", "password": "x"}'
        try:
            for start in range(0, len(payload), chunk):
                piece = payload[start:start + chunk]
                sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered early: read what it said
        received = b""
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            received += data
    finally:
        sock.close()
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines and lines[0].startswith("HTTP/"), received[:500]
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if headers.get("transfer-encoding", "").lower() == "chunked":
        decoded, rest = b"", body
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0] or b"0", 16)
            if size == 0:
                break
            decoded, rest = decoded + rest[:size], rest[size + 2:]
        body = decoded
    return int(lines[0].split()[1]), headers, body


def test_an_over_long_chunked_body_is_refused_with_413(system):
    status, headers, body = _chunked_post(system.base_url, "/auth/token", total=3 * 1024 * 1024)
    assert status == 413, (status, body[:500])
    assert headers.get("content-type", "").startswith("application/problem+json"), headers
    assert json.loads(body)["status"] == 413


# -- text and codes --------------------------------------------------------------------------------

def test_nul_bytes_in_a_product_title_are_refused_naming_the_field(vendor, vendor_id):
    body = product_body(translations={"en": {"title": "Assam\x00 tea", "description": "Strong."}})
    refused_and_not_stored(vendor, vendor_id, body, "translations")


@pytest.mark.parametrize("amount", ["1_0.00", "١٠", " 1.00", "1e2"])
def test_amounts_are_plain_ascii_decimal_strings(vendor, vendor_id, amount):
    refused_and_not_stored(vendor, vendor_id, product_body(price={"amount": amount, "currency": "INR"}), "price")


def test_an_hs_code_in_other_digits_is_refused(vendor, vendor_id):
    refused_and_not_stored(vendor, vendor_id, product_body(hs_code="١٢٣٤٥٦"), "hs_code")


def test_an_image_url_without_a_host_is_refused(vendor, vendor_id):
    refused_and_not_stored(vendor, vendor_id, product_body(images=["https://"]), "images")


def test_an_attribute_integer_beyond_64_bits_is_refused_or_kept_exact(system, vendor, vendor_id):
    body = product_body(attributes={"grains": 2 ** 70})
    response = vendor.post("/products", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    if response.status_code == 422:
        assert_problem(response, 422, field="attributes")
        assert body["sku"] not in skus_of(vendor, vendor_id)
        return
    product = ok(response, 201)
    assert product["attributes"]["grains"] == 2 ** 70 and isinstance(product["attributes"]["grains"], int)
    stored = system.client().get(f"/products/{product['id']}").json()
    assert stored["attributes"]["grains"] == 2 ** 70 and isinstance(stored["attributes"]["grains"], int)


# -- checkout, search, campaigns -------------------------------------------------------------------

def test_a_shipping_country_that_does_not_exist_is_refused(system, vendor):
    shopper = system.new_shopper()
    product = ok(vendor.post("/products", json=product_body()), 201)
    ok(shopper.post("/cart/items", json={"product_id": product["id"], "quantity": 1}), 201)
    response = shopper.post("/checkout", json={"currency": "ZAR", "shipping_address": {**ADDRESS, "country": "ZZ"}},
                            headers={"Idempotency-Key": unique("zz")})
    assert_problem(response, 422, field="shipping_address")
    assert ok(shopper.get("/orders"))["items"] == []


def test_a_price_range_whose_minimum_is_above_its_maximum_is_refused(system):
    response = system.client().get("/search", params={"q": "tea", "price_min": "500", "price_max": "100"})
    assert_problem(response, 422)


def _campaign_body(**overrides) -> dict:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    body = {"slug": unique("hostile"), "name": {"en": "Hostile fest"},
            "starts_at": (now + timedelta(days=1)).isoformat(), "ends_at": (now + timedelta(days=2)).isoformat(),
            "discount": {"type": "percent", "value": "10"},
            "eligibility": {"origin_countries": [], "categories": [], "msme_classes": []}}
    body.update(overrides)
    return body


def _campaign_slugs(manager) -> set[str]:
    return {c["slug"] for c in ok(manager.get("/campaigns", params={"per_page": 100}))["items"]}


@pytest.mark.parametrize("eligibility", [
    {"origin_countries": [], "categories": ["teapots-on-the-moon"], "msme_classes": []},
    {"origin_countries": ["ZZ"], "categories": [], "msme_classes": []},
], ids=["unknown-category", "unknown-country"])
def test_campaign_eligibility_naming_what_does_not_exist_is_refused(manager, eligibility):
    body = _campaign_body(eligibility=eligibility)
    assert_problem(manager.post("/campaigns", json=body), 422, field="eligibility")
    assert body["slug"] not in _campaign_slugs(manager)


def test_a_campaign_slug_changed_to_a_taken_one_is_a_conflict(manager):
    first = ok(manager.post("/campaigns", json=_campaign_body()), 201)
    second = ok(manager.post("/campaigns", json=_campaign_body()), 201)
    assert_problem(manager.patch(f"/campaigns/{second['id']}", json={"slug": first["slug"]}), 409)
    assert ok(manager.get(f"/campaigns/{second['slug']}"))["id"] == second["id"]
    assert ok(manager.get(f"/campaigns/{first['slug']}"))["id"] == first["id"]


# -- the partner feed ------------------------------------------------------------------------------

def _replace_scalars(value, replacement):
    """The cursor's decoded JSON with every integer in it replaced."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return replacement
    if isinstance(value, list):
        return [_replace_scalars(v, replacement) for v in value]
    if isinstance(value, dict):
        return {k: _replace_scalars(v, replacement) for k, v in value.items()}
    return value


def _encode(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize("replacement", [10 ** 40, True], ids=["huge-integer", "true"])
def test_a_tampered_feed_cursor_is_refused(partner, vendor_id, replacement):
    external_id = unique("cursor")
    ok(partner.put("/partner/listings", json={"listings": [{
        "external_id": external_id, "vendor_id": vendor_id, **product_body(sku=external_id.upper())}]}))
    cursor = ok(partner.get("/partner/listings", params={"limit": 1}))["next_cursor"]
    assert cursor, "the demo partner's feed gives out a cursor"
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        pytest.skip("the cursor is not base64 JSON: nothing to tamper with in this way")
    tampered = _encode(_replace_scalars(decoded, replacement))
    assert tampered != cursor
    assert_problem(partner.get("/partner/listings", params={"cursor": tampered}), 422, field="cursor")


def test_an_updated_since_that_overflows_in_utc_is_refused(partner):
    response = partner.get("/partner/listings", params={"updated_since": "0001-01-01T00:00:00+14:00"})
    assert_problem(response, 422, field="updated_since")


# -- worker jobs -----------------------------------------------------------------------------------

def test_a_job_line_nested_100000_deep_fails_alone_and_never_blocks_another_partners_job(system, demo, partner):
    vendor_id = demo["vendors"]["IN"]["id"]
    za = demo["vendors"]["ZA"]["id"]
    other = system.partner(system.other_partner_key)
    za_owner = system.login("vendor-za@buybrics.example")
    grant = za_owner.post(f"/vendors/{za}/partners", json={"partner_id": demo["other_partner"]["id"]})
    assert grant.status_code in (200, 201), grant.text

    def line(external_id: str, vid: int) -> str:
        return json.dumps({"external_id": external_id, "vendor_id": vid, "sku": external_id.upper(),
                           "translations": {"en": {"title": f"Job listing {external_id}"}},
                           "price": {"amount": "120.00", "currency": "INR" if vid == vendor_id else "ZAR"},
                           "stock": 5, "category": "tea", "hs_code": "090230", "status": "active"})

    hostile = "\n".join([line(unique("deep-a"), vendor_id), DEEP, line(unique("deep-b"), vendor_id)]) + "\n"
    job = ok(partner.post("/partner/listings/jobs", data=hostile.encode(),
                          headers={"Content-Type": "application/x-ndjson"}), 202)
    time.sleep(0.5)  # the hostile job is queued first
    innocent = ok(other.post("/partner/listings/jobs", data=(line(unique("calm"), za) + "\n").encode(),
                             headers={"Content-Type": "application/x-ndjson"}), 202)

    def completed(client, job_id):
        def check():
            state = ok(client.get(f"/partner/listings/jobs/{job_id}", params={"per_page": 10}))
            return state if state["status"] == "completed" else None
        return check

    calm = wait_until(completed(other, innocent["id"]), 25, 0.3, "the other partner's job completes")
    assert calm["counts"]["created"] == 1, calm
    done = wait_until(completed(partner, job["id"]), 25, 0.3, "the job with the hostile line completes")
    by_line = {r["line"]: r for r in done["results"]}
    assert by_line[2]["status"] == "error" and by_line[2]["code"] == "invalid_line", by_line
    assert by_line[1]["status"] == "created" and by_line[3]["status"] == "created", by_line


@pytest.mark.parametrize("value", [2 ** 63 - 1, 2 ** 70], ids=["64-bit", "beyond-64-bit"])
def test_an_identical_re_sync_of_a_listing_with_a_big_integer_attribute_is_unchanged(partner, vendor_id, value):
    external_id = unique("bigint")
    listing = {"external_id": external_id, "vendor_id": vendor_id,
               **product_body(sku=external_id.upper(), attributes={"grains": value})}
    body = json.dumps({"listings": [listing]}).encode()
    first = ok(partner.put("/partner/listings", data=body, headers={"Content-Type": "application/json"}))["results"][0]
    if first["status"] == "error":  # refused, naming the attribute: fine, and nothing was stored
        assert any(key.startswith("attributes") for key in first["errors"]), first
        return
    assert first["status"] == "created", first
    again = ok(partner.put("/partner/listings", data=body, headers={"Content-Type": "application/json"}))["results"][0]
    assert again["status"] == "unchanged", again
