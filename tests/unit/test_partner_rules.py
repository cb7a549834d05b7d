"""Pure partner rules: key format and hashing, webhook signatures, canonical listing content, feed cursors."""
from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal

import pytest

from marketplace.kernel.errors import Invalid
from marketplace.kernel.money import Money
from marketplace.partners.auth import KEY_PATTERN, generate_key, hash_key
from marketplace.partners.content import canonical_content, content_hash
from marketplace.partners.feed import decode_cursor, encode_cursor
from marketplace.partners.keys import demo_key, parse_scopes
from marketplace.partners.webhooks import sign


def content(**overrides):
    values = dict(vendor_id=1, sku="A-1", translations={"en": {"title": "Tea", "description": ""}},
                  original_locale="en", price=Money(Decimal("650.00"), "INR"), stock=4, category="tea",
                  hs_code="090230", attributes={"grade": "A", "organic": True}, images=[], status="active")
    values.update(overrides)
    return canonical_content(**values)


def test_keys_have_a_recognizable_prefix_and_enough_randomness():
    keys = [generate_key() for _ in range(200)]
    for prefix, key in keys:
        match = KEY_PATTERN.match(key)
        assert match and match.group(1) == prefix and len(prefix) == len("bbp_") + 8
        assert len(key.split("_")[2]) == 40
    assert len({key for _p, key in keys}) == 200


def test_keys_are_hashed_with_sha256():
    assert hash_key("bbp_x") == hashlib.sha256(b"bbp_x").hexdigest()


def test_the_demo_key_depends_only_on_the_secret_key():
    assert demo_key("one") == demo_key("one")
    assert demo_key("one") != demo_key("two")
    prefix, key = demo_key("one")
    assert KEY_PATTERN.match(key).group(1) == prefix


def test_signatures_are_hmac_sha256_of_timestamp_dot_body():
    body = b'{"id":"evt_1"}'
    expected = hmac.new(b"whsec_s", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("whsec_s", 1700000000, body) == f"v1={expected}"
    assert sign("whsec_s", 1700000001, body) != sign("whsec_s", 1700000000, body)


def test_content_hash_ignores_spelling_but_not_meaning():
    base = content_hash(content())
    assert content_hash(content(price=Money(Decimal("650.0000"), "INR"))) == base       # PostgreSQL's scale
    assert content_hash(content(attributes={"organic": True, "grade": "A"})) == base     # key order
    assert content_hash(content(price=Money(Decimal("650.01"), "INR"))) != base
    assert content_hash(content(attributes={"grade": "A", "organic": 1})) != base         # true is not 1
    assert content_hash(content(stock=5)) != base
    assert content_hash(content(translations={"en": {"title": "Tea", "description": "x"}})) != base
    assert content_hash(content(status="draft")) != base


def test_cursors_round_trip_and_refuse_anything_else():
    assert decode_cursor(encode_cursor(981234, 42)) == (981234, 42)
    assert decode_cursor(encode_cursor(2**63 - 1, 0)) == (2**63 - 1, 0)
    for bad in ("", "garbage", "WyJ4Il0", encode_cursor(7, 1)[:-3], encode_cursor(2**63, 1), encode_cursor(1, -1),
                encode_cursor(True, 1), encode_cursor(1, 1.0)):
        with pytest.raises(Invalid) as refused:
            decode_cursor(bad)
        assert refused.value.code == "invalid_cursor" and "cursor" in refused.value.errors


def test_scopes_default_to_all_and_accept_commas_or_repeats():
    assert parse_scopes(None) == ["listings:read", "listings:write", "orders:read", "webhooks:manage"]
    assert parse_scopes(["listings:read,orders:read", "orders:read"]) == ["listings:read", "orders:read"]
    with pytest.raises(Invalid):
        parse_scopes(["listings:delete"])
