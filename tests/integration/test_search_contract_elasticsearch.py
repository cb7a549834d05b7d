"""The Elasticsearch engine against a real cluster: the behaviour the catalog relies on.

Skipped unless ELASTICSEARCH_URL names a running Elasticsearch 9.x node (see
docs/elasticsearch/README.md for a local one in Docker). Each test builds the
engine directly on a unique alias and removes its indices afterwards; no
Flask app is involved.
"""
from __future__ import annotations

import os
import uuid
from typing import Any

import pytest

ELASTICSEARCH_URL = os.environ.get("ELASTICSEARCH_URL")

pytestmark = pytest.mark.skipif(
    not ELASTICSEARCH_URL,
    reason="needs a running Elasticsearch 9.x: set ELASTICSEARCH_URL (docs/elasticsearch/README.md)")

from marketplace.storefront.search.engine import FacetValue, SearchQuery  # noqa: E402


def document(product_id: int, translations: dict[str, dict[str, str]], *, version: int = 1,
             country: str = "BR", category_path: tuple[str, ...] = ("accessories", "bags"),
             price: int | None = 10_000_000, vendor_id: int = 1, created: str = "2026-11-01T12:00:00+00:00",
             **extra: Any) -> dict[str, Any]:
    doc = {
        "id": product_id, "version": version, "sku": f"SKU-{product_id}", "status": "active",
        "vendor_id": vendor_id, "vendor_name": f"Vendor {vendor_id}", "origin_country": country,
        "category": category_path[-1], "category_path": list(category_path),
        "original_locale": next(iter(translations)), "translations": translations,
        "price": {"amount": "1.00", "currency": "USD"}, "price_base_micros": price,
        "stock": 3, "in_stock": True, "hs_code": None, "attributes": {}, "images": [],
        "created_at": created, "updated_at": created, "boost": 1.0, "campaigns": [],
    }
    doc.update(extra)
    return doc


BAGS = document(1, {"pt": {"title": "Bolsas de couro", "description": "Feitas à mão em Franca."},
                    "en": {"title": "Leather bags", "description": "Handmade in Franca, Brazil."}},
                price=45_000_000, created="2026-11-01T12:00:00+00:00")
CAFE = document(2, {"pt": {"title": "Café do Cerrado", "description": "Grãos torrados em Minas Gerais."}},
                category_path=("food", "coffee"), price=12_000_000, vendor_id=2,
                created="2026-11-02T12:00:00+00:00")
SHAWL = document(3, {"hi": {"title": "पश्मीना शॉल", "description": "कश्मीर की हाथ से बुनी शॉल"},
                     "ru": {"title": "Кашемировая шаль", "description": "Ручная работа из Кашмира"}},
                 country="IN", category_path=("apparel", "shawls"), price=80_000_000, vendor_id=3,
                 created="2026-11-03T12:00:00+00:00")
ALL = (BAGS, CAFE, SHAWL)


@pytest.fixture
def engine():
    from marketplace.storefront.search.elasticsearch import ElasticsearchEngine

    alias = f"buybrics-test-{uuid.uuid4().hex[:12]}"
    engine = ElasticsearchEngine(ELASTICSEARCH_URL, alias, refresh=True)
    yield engine
    client = engine.client
    # wildcard deletes are refused by default (action.destructive_requires_name): name each index
    names = list(client.indices.get(index=f"{alias}-v*", allow_no_indices=True, ignore_unavailable=True).body)
    if names:
        client.indices.delete(index=",".join(names), ignore_unavailable=True)


@pytest.fixture
def loaded(engine):
    engine.index(list(ALL))
    return engine


def ids(result) -> list[int]:
    return [doc["id"] for doc in result.hits]


def test_a_search_finds_stemmed_words_and_returns_the_documents(loaded):
    result = loaded.search(SearchQuery(q="bag", locale="en"))
    assert ids(result) == [1]
    assert result.total == 1
    assert result.hits[0] == BAGS


def test_accents_and_typos(loaded):
    assert ids(loaded.search(SearchQuery(q="cafe", locale="en"))) == [2]
    assert ids(loaded.search(SearchQuery(q="lether", locale="en"))) == [1]
    assert ids(loaded.search(SearchQuery(q="шаль", locale="ru"))) == [3]


def test_every_word_must_match(loaded):
    assert ids(loaded.search(SearchQuery(q="leather franca", locale="en"))) == [1]   # title + description
    assert ids(loaded.search(SearchQuery(q="leather coffee", locale="en"))) == []


def test_price_sorts_and_filters(loaded):
    assert ids(loaded.search(SearchQuery(sort="price_asc"))) == [2, 1, 3]
    assert ids(loaded.search(SearchQuery(sort="price_desc"))) == [3, 1, 2]
    assert ids(loaded.search(SearchQuery(sort="newest"))) == [3, 2, 1]
    assert ids(loaded.search(SearchQuery(sort="price_asc", price_min_micros=12_000_000,
                                         price_max_micros=45_000_000))) == [2, 1]


def test_facets(loaded):
    ranges = ((None, 20_000_000), (20_000_000, 50_000_000), (50_000_000, None))
    result = loaded.search(SearchQuery(origin_countries=("BR",), price_ranges=ranges))
    assert sorted(ids(result)) == [1, 2]
    # the country facet ignores the country filter; the others respect it
    assert result.facets["origin_country"] == [FacetValue("BR", 2), FacetValue("IN", 1)]
    assert result.facets["vendor"] == [FacetValue(1, 1), FacetValue(2, 1)]
    assert result.facets["category"] == [FacetValue("accessories", 1), FacetValue("bags", 1),
                                         FacetValue("coffee", 1), FacetValue("food", 1)]
    assert result.facets["price"] == [FacetValue(ranges[0], 1), FacetValue(ranges[1], 1), FacetValue(ranges[2], 0)]
    by_category = loaded.search(SearchQuery(category="accessories"))
    assert ids(by_category) == [1]


def test_versions(loaded):
    loaded.index([{**BAGS, "version": 0, "stock": 99}])               # older: ignored
    assert loaded.search(SearchQuery(q="bag")).hits[0]["stock"] == 3
    loaded.index([{**BAGS, "vendor_name": "Renamed"}])                # same version: applied
    assert loaded.search(SearchQuery(q="bag")).hits[0]["vendor_name"] == "Renamed"
    loaded.delete({1: 0})                                             # older delete: ignored
    assert ids(loaded.search(SearchQuery(q="bag"))) == [1]
    loaded.delete({1: 1})
    assert ids(loaded.search(SearchQuery(q="bag"))) == []
    loaded.index([{**BAGS, "version": 0}])                            # a late older write stays out
    assert ids(loaded.search(SearchQuery(q="bag"))) == []


def test_boosts_rank_and_keep_versions_working(loaded):
    loaded.index([document(4, {"en": {"title": "Leather wallets and bags", "description": ""}})])
    loaded.set_boosts({4: (50.0, ["buy-brics-ciie"]), 99: (2.0, [])})
    result = loaded.search(SearchQuery(q="leather bags", locale="en"))
    assert ids(result)[0] == 4 and result.hits[0]["campaigns"] == ["buy-brics-ciie"]
    assert ids(loaded.search(SearchQuery(campaign="buy-brics-ciie"))) == [4]
    # a boost does not bump the stored version: the product's next version still lands
    loaded.set_boosts({4: (10.0, ["buy-brics-ciie"])})
    loaded.index([document(4, {"en": {"title": "Leather wallets and bags", "description": ""}}, version=2,
                           stock=0)])
    assert loaded.search(SearchQuery(campaign=None, q="wallets")).hits[0]["stock"] == 0


def test_suggest(loaded):
    assert loaded.suggest("lea", "en") == ["Leather bags"]
    assert loaded.suggest("bols", "en") == ["Bolsas de couro"]
    assert loaded.suggest("caf", "pt") == ["Café do Cerrado"]


def test_reindex_swaps_the_alias_and_keeps_results(loaded):
    client = loaded.client
    before = set(client.indices.get_alias(name=loaded.alias).body)
    seen: list[int] = []
    loaded.reindex(iter(ALL), progress=seen.append)
    after = set(client.indices.get_alias(name=loaded.alias).body)
    assert seen == [3]
    assert len(after) == 1 and after != before
    assert not client.indices.exists(index=",".join(before))
    assert ids(loaded.search(SearchQuery(q="bag"))) == [1]
    assert loaded.search(SearchQuery()).total == 3
    health = loaded.health()
    assert health["status"] == "ok" and health["documents"] == 3
