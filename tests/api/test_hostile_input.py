"""A hostile client gets a clear 4xx problem, never a 500, and nothing it sent is stored.

JSON too deep or with huge numbers (400 `invalid_json`), text with NUL or other control characters (422 naming
the field), amounts and codes that are not plain ASCII, unknown countries, contradicting filters, URLs without a
host, integers beyond 64 bits, non-JSON bodies on JSON endpoints (415), over-long chunked bodies (413), unique
conflicts (409) and timestamps that overflow when converted to UTC (422).
"""
from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from catalog.models import Product
from marketplace.accounts.models import User
from tests.api.test_checkout import ADDRESS, database, new_key
from tests.api.test_products import PRODUCTS, assert_problem, create_product, product_payload, send_json
from tests.factories import vendor_payload

SEARCH = "/api/v1/search"


class World:
    """Rates, an approved Indian vendor with one product, a shopper with it in the cart, a campaign manager,
    a vendor account without a profile yet, and a partner the vendor authorized."""

    def __init__(self, make, client) -> None:
        make.rates()
        self.make, self.client = make, client
        self.vendor = make.vendor("IN")
        self.product = create_product(client, self.vendor)
        self.shopper = make.user("shopper")
        response = client.post("/api/v1/cart/items", json={"product_id": self.product["id"]},
                               headers=self.shopper["headers"])
        assert response.status_code == 201, response.get_json()
        self.manager = make.user("campaign_manager")
        self.newcomer = make.user("vendor")
        self.partner = make.partner(vendors=[self.vendor])

    def headers(self, who: str | None) -> dict[str, str]:
        if who is None:
            return {}
        if who == "shopper-checkout":
            return {**self.shopper["headers"], "Idempotency-Key": new_key()}
        if who == "vendor":
            return self.vendor["owner"]["headers"]
        return {"shopper": self.shopper, "manager": self.manager, "newcomer": self.newcomer,
                "partner": self.partner}[who]["headers"]

    def url(self, path: str) -> str:
        return path.format(product=self.product["id"])

    def send(self, method: str, path: str, who: str | None, data: bytes | str, content_type: str = "application/json",
             **kwargs: Any):
        return self.client.open(self.url(path), method=method, data=data, content_type=content_type,
                                headers=self.headers(who), **kwargs)

    def product_count(self, app) -> int:
        with database(app) as session:
            return session.scalar(select(func.count()).select_from(Product))


@pytest.fixture
def world(make, client) -> World:
    return World(make, client)


#: Every kind of JSON endpoint: anonymous, each role, partner keys; (method, path, caller).
JSON_ENDPOINTS = [
    ("POST", "/api/v1/auth/token", None),
    ("POST", "/api/v1/auth/register", None),
    ("POST", "/api/v1/products", "vendor"),
    ("PATCH", "/api/v1/products/{product}", "vendor"),
    ("POST", "/api/v1/vendors", "newcomer"),
    ("POST", "/api/v1/cart/items", "shopper"),
    ("POST", "/api/v1/checkout", "shopper-checkout"),
    ("POST", "/api/v1/campaigns", "manager"),
    ("PUT", "/api/v1/partner/listings", "partner"),
]
ENDPOINT_IDS = [f"{method} {path}" for method, path, _who in JSON_ENDPOINTS]

HOSTILE_JSON = {
    "100000 brackets": "[" * 100_000,
    "100000 objects": '{"a":' * 100_000,
    "65 levels": "[" * 65 + "]" * 65,
    "5000-digit integer": '{"email": ' + "9" * 5000 + "}",
    "41-digit integer": '{"email": -' + "1" * 41 + "}",
    "5000-digit float": '{"email": 0.' + "1" * 5000 + "}",
    "float overflowing to infinity": '{"email": 1e999}',
    "NaN": '{"email": NaN}',
    "Infinity": '{"email": -Infinity}',
    "not UTF-8": b'{"email": "\xff\xfe"}',
}


@pytest.mark.parametrize("method,path,who", JSON_ENDPOINTS, ids=ENDPOINT_IDS)
def test_json_too_deep_or_with_huge_numbers_is_invalid_json(world, method, path, who):
    for name, body in HOSTILE_JSON.items():
        response = world.send(method, path, who, body)
        assert response.status_code == 400, (name, response.get_data(as_text=True))
        problem = assert_problem(response, 400, "invalid_json")
        assert "JSON" in problem["detail"] and problem["errors"]["body"], (name, problem)


@pytest.mark.parametrize("method,path,who", JSON_ENDPOINTS, ids=ENDPOINT_IDS)
def test_json_nested_64_levels_is_still_parsed(world, method, path, who):
    """The limit refuses abuse, not ordinary documents: 64 levels parse (the schema then refuses the shape)."""
    response = world.send(method, path, who, "[" * 64 + "]" * 64)
    assert response.status_code == 422, response.get_data(as_text=True)


def test_a_40_digit_integer_parses_and_the_field_refuses_it(world):
    response = world.send("POST", "/api/v1/cart/items", "shopper", '{"product_id": ' + "9" * 40 + "}")
    assert_problem(response, 422, "validation_error", "product_id")


OTHER_CONTENT = [
    ("text/plain", '{"email": "a@example.com"}'),
    ("application/x-www-form-urlencoded", "email=a%40example.com&password=x"),
    ("multipart/form-data; boundary=x", '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--\r\n'),
    ("", '{"email": "a@example.com"}'),
]


@pytest.mark.parametrize("method,path,who", JSON_ENDPOINTS, ids=ENDPOINT_IDS)
def test_a_json_endpoint_refuses_another_content_type(world, method, path, who):
    for content_type, body in OTHER_CONTENT:
        response = world.send(method, path, who, body, content_type=content_type)
        assert response.status_code == 415, (content_type, response.get_data(as_text=True))
        assert_problem(response, 415, "unsupported_media_type")


def test_a_json_endpoint_without_a_body_still_answers_which_fields_are_missing(world):
    response = world.client.post("/api/v1/auth/token")
    assert_problem(response, 422, "validation_error", "email")


#: What gunicorn (and Werkzeug's own server) tell the app about a chunked body they de-chunk.
TERMINATED = {"wsgi.input_terminated": True}


@pytest.mark.parametrize("method,path,who", JSON_ENDPOINTS, ids=ENDPOINT_IDS)
def test_an_over_long_chunked_body_is_refused(world, app, method, path, who):
    limit = app.config["PARTNER_SYNC_MAX_BYTES" if "/partner/" in path else "MAX_CONTENT_LENGTH"]
    body = b'{"email": "' + b"a" * (limit + 10) + b'"}'
    response = world.client.open(world.url(path), method=method, input_stream=io.BytesIO(body),
                                 environ_overrides=TERMINATED,
                                 headers={**world.headers(who), "Content-Type": "application/json",
                                          "Transfer-Encoding": "chunked"})
    assert_problem(response, 413, "payload_too_large")


def test_a_short_chunked_body_is_read(world):
    body = json.dumps({"email": world.shopper["email"], "password": world.shopper["password"]}).encode()
    response = world.client.post("/api/v1/auth/token", input_stream=io.BytesIO(body), environ_overrides=TERMINATED,
                                 headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    assert response.status_code == 200, response.get_json()


def test_a_chunked_body_the_server_cannot_read_is_refused_not_ignored(world):
    """A server that does not de-chunk leaves the app no safe way to read the body: 411, not a body taken
    for empty."""
    body = json.dumps({"email": world.shopper["email"], "password": world.shopper["password"]}).encode()
    response = world.client.post("/api/v1/auth/token", input_stream=io.BytesIO(body),
                                 headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    assert_problem(response, 411, "length_required")


@pytest.mark.parametrize("path", ["/api/v1/campaigns/a%00b", "/api/v1/vendors/%1b", "/api/v1/campaigns/%C2%85"])
def test_control_characters_in_the_path_are_refused(world, path):
    assert_problem(world.client.get(path), 400, "bad_request")


def test_control_characters_in_a_header_are_refused_naming_it(world):
    headers = {**world.headers("shopper-checkout"), "Idempotency-Key": "key\x00one"}
    response = world.client.post("/api/v1/checkout", json={"currency": "BRL", "shipping_address": ADDRESS},
                                 headers=headers)
    assert_problem(response, 400, "bad_request", "Idempotency-Key")


# -- control characters -------------------------------------------------------

NUL_FIELDS = [
    ("translations", {"en": {"title": "Assam\x00tea"}}, "translations.en.title"),
    ("translations", {"en": {"title": "Assam tea", "description": "Strong\x00"}}, "translations.en.description"),
    ("translations", {"en": {"title": "Assam\ntea"}}, "translations.en.title"),
    ("translations", {"en": {"title": "Assam\x1btea"}}, "translations.en.title"),
    ("translations", {"en": {"title": "Assam\x85tea"}}, "translations.en.title"),
    ("translations", {"en": {"title": "Assam \ud800 tea"}}, "translations.en.title"),
    ("sku", "SKU\x00", "sku"),
    ("category", "tea\x00", "category"),
    ("hs_code", "090230\x00", "hs_code"),
    ("images", ["https://example.com/a.jpg", "https://example.com/\x00.jpg"], "images.1"),
    ("attributes", {"color": "red\x00"}, "attributes.color"),
    ("attributes", {"col\x00or": "red"}, "attributes"),
]


@pytest.mark.parametrize("name,value,field", NUL_FIELDS, ids=[f for *_x, f in NUL_FIELDS])
def test_control_characters_in_product_text_are_refused_naming_the_field(world, app, name, value, field):
    before = world.product_count(app)
    response = send_json(world.client, "POST", PRODUCTS, product_payload(**{name: value}),
                         world.vendor["owner"]["headers"])
    assert_problem(response, 422, "validation_error", field)
    assert world.product_count(app) == before


def test_control_characters_are_refused_on_patch_and_nothing_changes(world):
    response = send_json(world.client, "PATCH", f"{PRODUCTS}/{world.product['id']}",
                         {"translations": {"pt": {"title": "Chá\x00"}}}, world.vendor["owner"]["headers"])
    assert_problem(response, 422, "validation_error", "translations.pt.title")
    shown = world.client.get(f"{PRODUCTS}/{world.product['id']}").get_json()
    assert set(shown["translations"]) == {"en"}


def test_descriptions_keep_new_lines_and_tabs(world):
    text = "Strong malty tea.\r\n\tBest with milk."
    product = create_product(world.client, world.vendor,
                             translations={"en": {"title": "Assam tea", "description": text}})
    assert product["translations"]["en"]["description"] == text


@pytest.mark.parametrize("method,path,who,body,field", [
    ("POST", "/api/v1/auth/token", None, {"email": "a\x00@example.com", "password": "x"}, "email"),
    ("POST", "/api/v1/auth/register", None, {"email": "a@example.com", "password": "pass\x00word-long-enough",
                                             "role": "shopper"}, "password"),
    ("POST", "/api/v1/vendors", "newcomer", vendor_payload("IN", legal_name="Looms\x00 Ltd"), "legal_name"),
    ("POST", "/api/v1/vendors", "newcomer", vendor_payload("IN", description={"en": "Hand\x07made"}),
     "description.en"),
    ("POST", "/api/v1/checkout", "shopper-checkout",
     {"currency": "BRL", "shipping_address": {**ADDRESS, "city": "São\x00Paulo"}}, "shipping_address.city"),
    ("POST", "/api/v1/checkout", "shopper-checkout",
     {"currency": "BRL", "shipping_address": {**ADDRESS, "line1": "Rua A\n2"}}, "shipping_address.line1"),
], ids=["token email", "register password", "vendor legal name", "vendor description", "address city",
        "address new line"])
def test_control_characters_are_refused_in_every_schema(world, app, method, path, who, body, field):
    response = world.send(method, path, who, json.dumps(body))
    assert_problem(response, 422, "validation_error", field)
    with database(app) as session:
        assert session.scalar(select(func.count()).select_from(User).where(User.email == "a@example.com")) == 0


@pytest.mark.parametrize("params,field", [
    ({"q": "tea\x00"}, "q"),
    ({"locale": "en\x00"}, "locale"),
    ({"origin_country": ["IN", "B\x00"]}, "origin_country"),
    ({"category": "tea\x00"}, "category"),
], ids=["q", "locale", "origin_country", "category"])
def test_control_characters_in_query_strings_are_refused(world, params, field):
    response = world.client.get(SEARCH, query_string=params)
    body = assert_problem(response, 422, "validation_error")
    assert any(key == field or key.startswith(field + ".") for key in body["errors"]), body


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])  # each refused: nothing changes
@given(text=st.characters(categories=["Cc", "Cs"], exclude_characters="\n\t\r"),  # one: two surrogates may pair up
       prefix=st.text(max_size=5, alphabet=st.characters(categories=["L", "N", "Zs"])))
def test_any_control_character_in_a_title_is_refused(world, text, prefix):
    response = send_json(world.client, "PATCH", f"{PRODUCTS}/{world.product['id']}",
                         {"translations": {"en": {"title": prefix + text}}}, world.vendor["owner"]["headers"])
    assert_problem(response, 422, "validation_error", "translations.en.title")


# -- amounts and codes --------------------------------------------------------

BAD_AMOUNTS = ["1_0.00", "١٠", " 1.00", "1.00 ", "1e2", "+1.00", "1.", ".5", "0x10", "Infinity", "NaN", "１０",
               "1" * 41, "0." + "0" * 5000 + "1"]


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_amounts_are_plain_ascii_decimals(world, app, amount):
    before = world.product_count(app)
    response = send_json(world.client, "POST", PRODUCTS,
                         product_payload(price={"amount": amount, "currency": "INR"}), world.vendor["owner"]["headers"])
    assert_problem(response, 422, "validation_error", "price.amount")
    assert world.product_count(app) == before


@pytest.mark.parametrize("amount", ["1_0.00", "١٠", " 1.00", "1e2"])
def test_amounts_are_plain_ascii_decimals_in_a_partner_sync(world, amount):
    listing = {**product_payload(price={"amount": amount, "currency": "INR"}), "external_id": "x-1",
               "vendor_id": world.vendor["id"]}
    response = world.client.put("/api/v1/partner/listings", json={"listings": [listing]},
                                headers=world.partner["headers"])
    assert response.status_code == 200, response.get_json()
    result = response.get_json()["results"][0]
    assert result["status"] == "error" and "price.amount" in result["errors"], result


@pytest.mark.parametrize("param,value", [("price_min", "1e2"), ("price_max", "١٠"), ("price_min", " 1")])
def test_search_price_filters_are_plain_decimals(world, param, value):
    assert_problem(world.client.get(SEARCH, query_string={param: value}), 422, "validation_error", param)


@pytest.mark.parametrize("hs_code", ["١٢٣٤٥٦", "０９０２３０", "09023O", " 090230"])
def test_hs_codes_are_ascii_digits(world, hs_code):
    response = send_json(world.client, "POST", PRODUCTS, product_payload(hs_code=hs_code),
                         world.vendor["owner"]["headers"])
    assert_problem(response, 422, "validation_error", "hs_code")


@pytest.mark.parametrize("field,value", [("currency", "ＩＮＲ"), ("tax_id", "١٢٣٤٥٦٧٨٩٠")])
def test_codes_are_ascii(world, field, value):
    body = vendor_payload("IN", **{field: value}) if field == "tax_id" else None
    if body is not None:
        response = world.send("POST", "/api/v1/vendors", "newcomer", json.dumps(body))
        assert_problem(response, 422, "validation_error", field)
    else:
        response = world.client.get(SEARCH, query_string={field: value})
        assert_problem(response, 422, "validation_error", field)


# -- countries ----------------------------------------------------------------

@pytest.mark.parametrize("country", ["ZZ", "EU", "UN", "QO", "EZ", "XK", "AA", "001", "br", "ＢＲ", "B"])
def test_the_shipping_country_is_a_real_iso_country(world, country):
    body = {"currency": "BRL", "shipping_address": {**ADDRESS, "country": country}}
    response = world.send("POST", "/api/v1/checkout", "shopper-checkout", json.dumps(body))
    assert_problem(response, 422, "validation_error", "shipping_address.country")


@pytest.mark.parametrize("country", ["ZZ", "EU", "XK"])
def test_search_by_origin_country_takes_real_iso_countries(world, country):
    response = world.client.get(SEARCH, query_string={"origin_country": country})
    body = assert_problem(response, 422, "validation_error")
    assert any(key.startswith("origin_country") for key in body["errors"]), body


def test_a_real_country_still_ships(world):
    body = {"currency": "BRL", "shipping_address": {**ADDRESS, "country": "AQ"}}  # Antarctica is ISO 3166-1
    response = world.send("POST", "/api/v1/checkout", "shopper-checkout", json.dumps(body))
    assert response.status_code == 201, response.get_json()


# -- filters, URLs, attributes ------------------------------------------------

def test_price_min_above_price_max_is_refused(world):
    response = world.client.get(SEARCH, query_string={"price_min": "100", "price_max": "10"})
    body = assert_problem(response, 422, "validation_error")
    assert {"price_min", "price_max"} & set(body["errors"]), body


def test_price_min_equal_to_price_max_is_a_valid_filter(world):
    assert world.client.get(SEARCH, query_string={"price_min": "10", "price_max": "10"}).status_code == 200


@pytest.mark.parametrize("url", ["https://", "https:///a.jpg", "https://:443/a.jpg", "https://user@/a.jpg",
                                 "http://example.com/a.jpg", "ftp://example.com/a.jpg", "https://exa mple.com/a.jpg",
                                 "https://example.com:99999/a.jpg", "https://[::1/a.jpg", "https//example.com/a.jpg"])
def test_image_urls_need_https_and_a_host(world, url):
    response = send_json(world.client, "POST", PRODUCTS, product_payload(images=[url]),
                         world.vendor["owner"]["headers"])
    assert_problem(response, 422, "validation_error", "images.0")


def test_a_plain_image_url_is_kept(world):
    url = "https://cdn.example.com/tea/assam.jpg?w=400"
    assert create_product(world.client, world.vendor, images=[url])["images"] == [url]


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 2**64, 10**30])
def test_attribute_integers_beyond_64_bits_are_refused(world, app, value):
    before = world.product_count(app)
    response = world.send("POST", PRODUCTS, "vendor",
                          json.dumps(product_payload(attributes={"weight_g": value})))
    assert_problem(response, 422, "validation_error", "attributes.weight_g")
    assert world.product_count(app) == before


@pytest.mark.parametrize("value", [2**63 - 1, -(2**63), 0, True])
def test_attribute_integers_within_64_bits_stay_exact(world, value):
    product = create_product(world.client, world.vendor, attributes={"weight_g": value})
    assert product["attributes"]["weight_g"] == value and type(product["attributes"]["weight_g"]) is type(value)
    shown = world.client.get(f"{PRODUCTS}/{product['id']}").get_json()
    assert shown["attributes"]["weight_g"] == value and type(shown["attributes"]["weight_g"]) is type(value)


@pytest.mark.parametrize("value", [1.5, 0.1, 1e300])
def test_attribute_floats_are_refused_naming_the_attribute(world, value):
    response = world.send("POST", PRODUCTS, "vendor", json.dumps(product_payload(attributes={"ratio": value})))
    assert_problem(response, 422, "validation_error", "attributes.ratio")


# -- conflicts and timestamps -------------------------------------------------

def test_a_unique_violation_no_service_anticipated_is_a_409_conflict(app, world):
    """The last resort: an IntegrityError from a unique constraint answers 409 `conflict`, after a rollback."""
    from sqlalchemy.exc import IntegrityError

    from marketplace.kernel.extensions import db

    with app.test_request_context("/api/v1/anything", method="POST"):
        db.session.add(User(email=world.shopper["email"], password_hash="x", role="shopper"))
        with pytest.raises(IntegrityError) as caught:
            db.session.flush()
        response = app.handle_user_exception(caught.value)
        assert response.status_code == 409 and response.mimetype == "application/problem+json"
        assert response.get_json()["code"] == "conflict"
        assert db.session.scalar(select(func.count()).select_from(User)) >= 1  # the session works again
        db.session.remove()


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_timestamps_that_overflow_in_utc_are_refused_naming_the_field(world, moment):
    body = {"slug": "overflow-fest", "name": {"en": "Overflow"}, "starts_at": moment,
            "ends_at": "9999-12-31T00:00:00+00:00" if moment.startswith("0001") else "2030-01-01T00:00:00+00:00",
            "discount": {"type": "percent", "value": "10"}}
    if moment.startswith("9999"):
        body["starts_at"], body["ends_at"] = "2030-01-01T00:00:00+00:00", moment
    response = world.send("POST", "/api/v1/campaigns", "manager", json.dumps(body))
    field = "starts_at" if moment.startswith("0001") else "ends_at"
    assert_problem(response, 422, "validation_error", field)


def test_the_partner_feed_refuses_an_updated_since_that_overflows(world):
    response = world.client.get("/api/v1/partner/listings", query_string={"updated_since": "0001-01-01T00:00:00+14:00"},
                                headers=world.partner["headers"])
    assert_problem(response, 422, "validation_error", "updated_since")


def test_the_openapi_document_lists_the_answers_a_json_body_may_get(client):
    spec = client.get("/api/openapi.json").get_json()
    for method, path in (("post", "/api/v1/auth/token"), ("post", "/api/v1/products"), ("put", "/api/v1/partner/listings")):
        assert {"400", "413", "415", "422"} <= set(spec["paths"][path][method]["responses"]), path
