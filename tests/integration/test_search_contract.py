"""The search engine contract (marketplace.storefront.search.engine.SearchEngine), engine by engine.

Every test takes the `engine` fixture, parametrized over the engines: "embedded"
and "tantivy" always, "elasticsearch" only when ELASTICSEARCH_URL names a running node. No
Flask app and no database: documents are made by `document()` below, in the
shape `marketplace.storefront.search.documents.build_document` produces.
"""
from __future__ import annotations

import os
import queue
import threading
import uuid
from typing import Any, Callable

import pytest

from marketplace.storefront.search.engine import FacetValue, SearchQuery, SearchResult

ELASTICSEARCH_URL = os.environ.get("ELASTICSEARCH_URL")


def document(product_id: int, translations: dict[str, dict[str, str]] | None = None, *, version: int = 1,
             country: str = "BR", category_path: tuple[str, ...] = ("leather-goods", "bags"),
             price: int | None = 10_000_000, vendor_id: int = 1, in_stock: bool = True,
             created: str = "2026-11-01T12:00:00+00:00", **extra: Any) -> dict[str, Any]:
    translations = translations or {"en": {"title": f"Product {product_id}", "description": ""}}
    doc = {
        "id": product_id, "version": version, "sku": f"SKU-{product_id}", "status": "active",
        "vendor_id": vendor_id, "vendor_name": f"Vendor {vendor_id}", "origin_country": country,
        "category": category_path[-1], "category_path": list(category_path),
        "original_locale": next(iter(translations)), "translations": translations,
        "price": {"amount": "1.00", "currency": "USD"}, "price_base_micros": price,
        "stock": 3 if in_stock else 0, "in_stock": in_stock, "hs_code": "420221", "attributes": {}, "images": [],
        "created_at": created, "updated_at": created, "boost": 1.0, "campaigns": [],
    }
    doc.update(extra)
    return doc


def en(title: str, description: str = "") -> dict[str, dict[str, str]]:
    return {"en": {"title": title, "description": description}}


BAGS = document(1, {"pt": {"title": "Bolsas de couro", "description": "Feitas à mão em Franca."},
                    "en": {"title": "Leather bags", "description": "Handmade in Franca, Brazil."}},
                price=45_000_000, vendor_id=1, created="2026-11-01T12:00:00+00:00")
CAFE = document(2, {"pt": {"title": "Café do Cerrado", "description": "Grãos torrados em Minas Gerais."}},
                category_path=("food-beverages", "coffee"), price=12_000_000, vendor_id=1,
                created="2026-11-02T12:00:00+00:00")
SHAWL = document(3, {"hi": {"title": "पश्मीना शॉल", "description": "कश्मीर की हाथ से बुनी शॉल"},
                     "ru": {"title": "Кашемировая шаль", "description": "Ручная работа из Кашмира"}},
                 country="IN", category_path=("textiles-apparel", "shawls-scarves"), price=80_000_000, vendor_id=3,
                 created="2026-11-03T12:00:00+00:00")
TEA = document(4, {"zh": {"title": "云南普洱茶饼", "description": ""}, "en": {"title": "Pu'er tea cake", "description": ""}},
               country="CN", category_path=("food-beverages", "tea"), price=30_000_000, vendor_id=4, in_stock=False,
               created="2026-11-04T12:00:00+00:00")
UNPRICED = document(5, en("Leather wallet"), country="IN", price=None, vendor_id=3,
                    created="2026-11-05T12:00:00+00:00")
ALL = (BAGS, CAFE, SHAWL, TEA, UNPRICED)


# -- engines ----------------------------------------------------------------------------

def _embedded(tmp_path) -> tuple[Any, Callable[[], None]]:
    from marketplace.storefront.search.embedded import EmbeddedEngine

    return EmbeddedEngine(tmp_path / "search"), lambda: None


def _tantivy(tmp_path) -> tuple[Any, Callable[[], None]]:
    from marketplace.storefront.search.tantivy_engine import TantivyEngine

    return TantivyEngine(tmp_path / "search"), lambda: None


def _elasticsearch(tmp_path) -> tuple[Any, Callable[[], None]]:
    if not ELASTICSEARCH_URL:
        pytest.skip("needs a running Elasticsearch 9.x: set ELASTICSEARCH_URL (docs/elasticsearch/README.md)")
    from marketplace.storefront.search.elasticsearch import ElasticsearchEngine

    alias = f"buybrics-contract-{uuid.uuid4().hex[:12]}"
    engine = ElasticsearchEngine(ELASTICSEARCH_URL, alias, refresh=True)

    def cleanup() -> None:
        names = list(engine.client.indices.get(index=f"{alias}-v*", allow_no_indices=True,
                                               ignore_unavailable=True).body)
        if names:  # wildcard deletes are refused by default: name each index
            engine.client.indices.delete(index=",".join(names), ignore_unavailable=True)

    return engine, cleanup


ENGINES = {"embedded": _embedded, "tantivy": _tantivy, "elasticsearch": _elasticsearch}


@pytest.fixture(params=list(ENGINES))
def engine(request, tmp_path):
    engine, cleanup = ENGINES[request.param](tmp_path)
    yield engine
    cleanup()


@pytest.fixture
def loaded(engine):
    engine.index(list(ALL))
    return engine


def ids(result: SearchResult) -> list[int]:
    return [doc["id"] for doc in result.hits]


def titles(engine, product_id: int) -> dict[str, str]:
    docs = [d for d in engine.search(SearchQuery(per_page=100)).hits if d["id"] == product_id]
    return {locale: text["title"] for locale, text in docs[0]["translations"].items()} if docs else {}


def facet(result: SearchResult, name: str) -> dict[Any, int]:
    return {f.value: f.count for f in result.facets[name]}


# -- versions and tombstones ---------------------------------------------------------------

def test_a_newer_version_replaces_the_document(engine):
    engine.index([document(1, en("Old leather bag"), version=1)])
    engine.index([document(1, en("New canvas bag"), version=2)])

    result = engine.search(SearchQuery())
    assert result.total == 1 and result.hits[0]["version"] == 2
    assert ids(engine.search(SearchQuery(q="canvas"))) == [1]
    assert ids(engine.search(SearchQuery(q="leather"))) == []


def test_an_older_version_arriving_late_is_ignored(engine):
    engine.index([document(1, en("New canvas bag"), version=5)])
    engine.index([document(1, en("Old leather bag"), version=4)])

    assert titles(engine, 1) == {"en": "New canvas bag"}
    assert ids(engine.search(SearchQuery(q="leather"))) == []
    assert engine.search(SearchQuery()).hits[0]["version"] == 5


def test_the_same_version_indexed_again_is_accepted(engine):
    engine.index([document(1, en("Leather bag"), version=3)])
    engine.index([document(1, en("Leather bag"), version=3)])
    assert engine.search(SearchQuery()).total == 1


def test_a_batch_mixing_newer_and_stale_documents_applies_only_the_newer(engine):
    engine.index([document(1, en("First v2"), version=2), document(2, en("Second v2"), version=2)])
    engine.index([document(1, en("First v1"), version=1), document(2, en("Second v3"), version=3)])
    assert titles(engine, 1) == {"en": "First v2"} and titles(engine, 2) == {"en": "Second v3"}


def test_a_delete_removes_the_document_from_hits_facets_and_suggestions(loaded):
    loaded.delete({BAGS["id"]: BAGS["version"] + 1})

    result = loaded.search(SearchQuery())
    assert BAGS["id"] not in ids(result) and result.total == len(ALL) - 1
    assert ids(loaded.search(SearchQuery(q="bags"))) == []
    assert facet(loaded.search(SearchQuery(vendor_id=1)), "vendor") == {1: 1, 3: 2, 4: 1}
    assert "Leather bags" not in loaded.suggest("lea", "en")


def test_a_delete_leaves_a_tombstone_that_older_versions_cannot_pass(engine):
    engine.index([document(1, en("Leather bag"), version=2)])
    engine.delete({1: 3})

    engine.index([document(1, en("Leather bag"), version=2)])  # a late upsert of an older version
    assert engine.search(SearchQuery()).total == 0
    assert engine.health()["documents"] == 0

    engine.index([document(1, en("Leather bag again"), version=4)])  # a newer version comes back
    assert ids(engine.search(SearchQuery(q="again"))) == [1]


def test_the_version_of_a_delete_may_be_indexed_again(engine):
    """A vendor suspended, then approved again: its products leave and come back at the same version
    (vendor visibility does not change a product's version)."""
    engine.index([document(1, en("Leather bag"), version=3)])
    engine.delete({1: 3})
    assert engine.search(SearchQuery()).total == 0
    engine.index([document(1, en("Leather bag"), version=3)])
    assert ids(engine.search(SearchQuery(q="leather"))) == [1]


def test_a_delete_of_an_older_version_is_ignored(engine):
    engine.index([document(1, en("Leather bag"), version=5)])
    engine.delete({1: 4})
    assert ids(engine.search(SearchQuery(q="leather"))) == [1]


def test_a_delete_of_an_unknown_product_blocks_its_older_versions(engine):
    engine.delete({7: 2})
    engine.index([document(7, en("Leather bag"), version=1)])
    assert engine.search(SearchQuery()).total == 0
    assert engine.health()["documents"] == 0


# -- filters ------------------------------------------------------------------------------------

def test_countries_filter_by_any_of_several(loaded):
    assert sorted(ids(loaded.search(SearchQuery(origin_countries=("IN",))))) == [3, 5]
    assert sorted(ids(loaded.search(SearchQuery(origin_countries=("IN", "CN"))))) == [3, 4, 5]
    assert ids(loaded.search(SearchQuery(origin_countries=("ZA",)))) == []


def test_a_category_matches_itself_and_its_descendants_but_no_prefix(loaded):
    assert sorted(ids(loaded.search(SearchQuery(category="food-beverages")))) == [2, 4]
    assert ids(loaded.search(SearchQuery(category="tea"))) == [4]
    assert ids(loaded.search(SearchQuery(category="food"))) == []
    assert ids(loaded.search(SearchQuery(category="bag"))) == []


def test_vendor_filter(loaded):
    assert sorted(ids(loaded.search(SearchQuery(vendor_id=3)))) == [3, 5]


def test_price_bounds_are_inclusive_and_leave_out_unpriced_documents(loaded):
    assert sorted(ids(loaded.search(SearchQuery(price_min_micros=30_000_000)))) == [1, 3, 4]
    assert sorted(ids(loaded.search(SearchQuery(price_max_micros=30_000_000)))) == [2, 4]
    assert ids(loaded.search(SearchQuery(price_min_micros=30_000_000, price_max_micros=30_000_000))) == [4]
    assert ids(loaded.search(SearchQuery(price_min_micros=30_000_001, price_max_micros=44_999_999))) == []


def test_in_stock_filter_both_ways(loaded):
    assert 4 not in ids(loaded.search(SearchQuery(in_stock=True)))
    assert ids(loaded.search(SearchQuery(in_stock=False))) == [4]
    assert loaded.search(SearchQuery(in_stock=None)).total == len(ALL)


def test_filters_combine_with_text(loaded):
    result = loaded.search(SearchQuery(q="leather", origin_countries=("IN",)))
    assert ids(result) == [5] and result.total == 1


def test_campaign_filter_and_boost_follow_set_boosts(loaded):
    loaded.set_boosts({CAFE["id"]: (5.0, ["festival"])})
    assert ids(loaded.search(SearchQuery(campaign="festival"))) == [CAFE["id"]]
    assert ids(loaded.search(SearchQuery(campaign="fest"))) == []
    assert ids(loaded.search(SearchQuery()))[0] == CAFE["id"]  # boosted first without a query
    assert loaded.search(SearchQuery(campaign="festival")).hits[0]["version"] == CAFE["version"]


# -- text ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("q, locale, expected", [
    ("bag", "en", [1]), ("bolsa", "pt", [1]), ("graos", "pt", [2]), ("grão", "pt", [2]),
    ("шали", "ru", [3]), ("शॉल", "hi", [3]), ("普洱", "zh", [4]), ("leathr", "en", [1, 5]),
])
def test_text_matches_across_languages_inflections_accents_and_typos(loaded, q, locale, expected):
    assert sorted(ids(loaded.search(SearchQuery(q=q, locale=locale)))) == expected


def test_an_unaccented_word_finds_the_accented_one_first_in_its_locale(loaded):
    """'cafe' finds 'Café'; it is one typo away from 'cake' too, which may match, but not above it in pt."""
    found = ids(loaded.search(SearchQuery(q="cafe", locale="pt")))
    assert found[0] == CAFE["id"]
    assert CAFE["id"] in ids(loaded.search(SearchQuery(q="cafe", locale="en")))


def test_the_queried_locale_weighs_more(engine):
    engine.index([document(1, {"pt": {"title": "Bolsa Marajoara", "description": ""},
                               "en": {"title": "Handbag", "description": ""}}),
                  document(2, {"en": {"title": "Marajoara handbag", "description": ""},
                               "pt": {"title": "Bolsa", "description": ""}})])
    assert ids(engine.search(SearchQuery(q="marajoara", locale="pt"))) == [1, 2]
    assert ids(engine.search(SearchQuery(q="marajoara", locale="en"))) == [2, 1]


def test_a_query_without_terms_finds_nothing(loaded):
    result = loaded.search(SearchQuery(q="the and of"))
    assert result.total == 0 and result.hits == []


# -- sorts ------------------------------------------------------------------------------------------

def test_price_sorts_put_unpriced_documents_last(loaded):
    assert ids(loaded.search(SearchQuery(sort="price_asc"))) == [2, 4, 1, 3, 5]
    assert ids(loaded.search(SearchQuery(sort="price_desc"))) == [3, 1, 4, 2, 5]


def test_newest_sort(loaded):
    assert ids(loaded.search(SearchQuery(sort="newest"))) == [5, 4, 3, 2, 1]


def test_equal_prices_are_ordered_by_id(engine):
    engine.index([document(n, price=10_000_000) for n in (3, 1, 2)])
    assert ids(engine.search(SearchQuery(sort="price_asc"))) == [1, 2, 3]
    assert ids(engine.search(SearchQuery(sort="price_desc"))) == [1, 2, 3]


def test_pages_partition_a_sorted_result(loaded):
    pages = [ids(loaded.search(SearchQuery(sort="price_asc", page=n, per_page=2))) for n in (1, 2, 3, 4)]
    assert pages == [[2, 4], [1, 3], [5], []]
    assert loaded.search(SearchQuery(page=4, per_page=2)).total == len(ALL)


def test_pages_partition_hits_of_equal_relevance(engine):
    engine.index([document(n, en("Leather bag")) for n in range(1, 8)])
    pages = [ids(engine.search(SearchQuery(q="leather", page=n, per_page=3))) for n in (1, 2, 3)]
    assert [len(page) for page in pages] == [3, 3, 1]
    assert sorted(sum(pages, [])) == list(range(1, 8))
    assert all(page == sorted(page) for page in pages)  # equal scores in id order within a page


# -- facets -------------------------------------------------------------------------------------------

def test_facets_count_values_and_category_ancestors(loaded):
    result = loaded.search(SearchQuery())
    assert facet(result, "origin_country") == {"BR": 2, "IN": 2, "CN": 1}
    assert facet(result, "vendor") == {1: 2, 3: 2, 4: 1}
    assert facet(result, "category") == {"leather-goods": 2, "bags": 2, "food-beverages": 2, "coffee": 1, "tea": 1,
                                         "textiles-apparel": 1, "shawls-scarves": 1}


def test_a_facet_ignores_its_own_filter_and_applies_the_others(loaded):
    result = loaded.search(SearchQuery(origin_countries=("IN",)))
    assert result.total == 2
    assert facet(result, "origin_country") == {"BR": 2, "IN": 2, "CN": 1}
    assert facet(result, "vendor") == {3: 2}
    assert facet(result, "category") == {"textiles-apparel": 1, "shawls-scarves": 1, "leather-goods": 1, "bags": 1}

    by_vendor = loaded.search(SearchQuery(vendor_id=1, origin_countries=("BR", "IN")))
    assert facet(by_vendor, "vendor") == {1: 2, 3: 2}
    assert facet(by_vendor, "origin_country") == {"BR": 2}


def test_facets_follow_text_and_common_filters(loaded):
    result = loaded.search(SearchQuery(q="leather", in_stock=True))
    assert facet(result, "origin_country") == {"BR": 1, "IN": 1}
    assert facet(loaded.search(SearchQuery(in_stock=False)), "origin_country") == {"CN": 1}


def test_price_buckets_count_priced_hits_in_half_open_ranges(loaded):
    ranges = ((None, 12_000_000), (12_000_000, 45_000_000), (45_000_000, None))
    result = loaded.search(SearchQuery(price_ranges=ranges))
    assert [(f.value, f.count) for f in result.facets["price"]] == [
        (ranges[0], 0), (ranges[1], 2), (ranges[2], 2)]  # 12 and 30 in the middle; 45 and 80 in the top
    assert sum(f.count for f in result.facets["price"]) == result.total - 1  # the unpriced wallet is in none


def test_price_buckets_follow_the_filters(loaded):
    ranges = ((None, 40_000_000), (40_000_000, None))
    result = loaded.search(SearchQuery(price_ranges=ranges, origin_countries=("BR",)))
    assert [f.count for f in result.facets["price"]] == [1, 1]
    result = loaded.search(SearchQuery(price_ranges=ranges, price_min_micros=40_000_000))
    assert [f.count for f in result.facets["price"]] == [0, 2]


def test_a_search_without_hits_has_zero_facets(loaded):
    ranges = ((None, 40_000_000), (40_000_000, None))
    result = loaded.search(SearchQuery(q="matryoshka", price_ranges=ranges))
    assert result.total == 0
    assert result.facets["origin_country"] == [] and result.facets["category"] == []
    assert [f.count for f in result.facets["price"]] == [0, 0]


# -- suggest ------------------------------------------------------------------------------------------

def test_suggest_completes_word_prefixes_with_titles(loaded):
    suggestions = loaded.suggest("lea", "en")
    assert set(suggestions) == {"Leather bags", "Leather wallet"}
    assert loaded.suggest("wal", "en") == ["Leather wallet"]
    assert loaded.suggest("leather wa", "en") == ["Leather wallet"]
    assert loaded.suggest("xyz", "en") == []


def test_suggest_prefers_the_locale_and_respects_the_limit(loaded):
    assert loaded.suggest("bol", "pt") == ["Bolsas de couro"]
    assert loaded.suggest("каш", "ru") == ["Кашемировая шаль"]
    assert loaded.suggest("云南", "zh") == ["云南普洱茶饼"]
    assert len(loaded.suggest("l", "en", limit=1)) == 1


def test_suggest_folds_case_and_accents(loaded):
    assert loaded.suggest("CAF", "pt") == ["Café do Cerrado"]
    assert loaded.suggest("caf", "en") == ["Café do Cerrado"]


def test_suggest_follows_updates(engine):
    engine.index([document(1, en("Leather bag"), version=1)])
    engine.index([document(1, en("Canvas bag"), version=2)])
    assert engine.suggest("lea", "en") == []
    assert engine.suggest("can", "en") == ["Canvas bag"]


# -- reindex ------------------------------------------------------------------------------------------

def test_a_reindex_replaces_the_whole_index(loaded):
    replacement = [document(10, en("Rooibos tea")), document(11, en("Marula oil"))]
    loaded.reindex(iter(replacement))  # any iterable, consumed once

    assert sorted(ids(loaded.search(SearchQuery()))) == [10, 11]
    assert ids(loaded.search(SearchQuery(q="leather"))) == []
    assert loaded.suggest("roo", "en") == ["Rooibos tea"]
    assert loaded.health()["documents"] == 2


def test_a_reindex_reports_progress_for_every_document(engine):
    reported: list[int] = []
    engine.reindex((document(n) for n in range(1, 2502)), progress=reported.append)
    assert sum(reported) == 2501 and len(reported) >= 2
    assert engine.search(SearchQuery(per_page=1)).total == 2501


def test_searches_answer_from_the_old_index_while_a_reindex_builds(loaded):
    during: list[list[int]] = []

    def documents():
        yield document(10, en("Rooibos tea"))
        during.append(sorted(ids(loaded.search(SearchQuery()))))  # mid-build: still the old index
        yield document(11, en("Marula oil"))

    loaded.reindex(documents())
    assert during == [[1, 2, 3, 4, 5]]
    assert sorted(ids(loaded.search(SearchQuery()))) == [10, 11]


def test_a_threads_existing_connection_sees_the_new_index_after_a_swap(engine):
    engine.index([document(1, en("Leather bag"))])
    requests: queue.Queue = queue.Queue()
    answers: queue.Queue = queue.Queue()

    def searcher() -> None:  # one long-lived thread, as a web server's worker thread
        while (q := requests.get()) is not None:
            try:
                answers.put(sorted(ids(engine.search(SearchQuery(q=q)))))
            except Exception as error:  # surfaced by the assertions below
                answers.put(error)

    thread = threading.Thread(target=searcher, daemon=True)
    thread.start()
    try:
        requests.put("")
        assert answers.get(timeout=10) == [1]  # the thread now holds a connection to the first index

        engine.reindex([document(2, en("Canvas bag")), document(3, en("Canvas tote"))])
        requests.put("canvas")
        assert answers.get(timeout=10) == [2, 3]

        engine.reindex([document(4, en("Canvas cap"))])  # and a second swap right after the first
        requests.put("canvas")
        assert answers.get(timeout=10) == [4]
        engine.index([document(5, en("Canvas belt"))])  # writes after a swap land in the live index
        requests.put("canvas")
        assert answers.get(timeout=10) == [4, 5]
    finally:
        requests.put(None)
        thread.join(timeout=10)


def test_writes_after_a_reindex_keep_version_checks(engine):
    engine.reindex([document(1, en("Leather bag"), version=3)])
    engine.index([document(1, en("Old title"), version=2)])
    assert titles(engine, 1) == {"en": "Leather bag"}


def test_health_counts_live_documents(loaded):
    health = loaded.health()
    assert health["status"] == "ok" and health["documents"] == len(ALL)
    loaded.delete({1: 9})
    assert loaded.health()["documents"] == len(ALL) - 1


# -- embedded engine specifics --------------------------------------------------------------------------

def test_embedded_a_thread_notices_a_swap_even_when_the_pointer_keeps_its_mtime(tmp_path):
    """File systems with coarse timestamps (or two swaps in one tick) can leave CURRENT's mtime
    unchanged across a swap; a thread's connection must still move to the new index."""
    from marketplace.storefront.search.embedded import EmbeddedEngine

    engine = EmbeddedEngine(tmp_path / "search")
    engine.index([document(1, en("Leather bag"))])
    assert ids(engine.search(SearchQuery())) == [1]
    pointer = tmp_path / "search" / "CURRENT"
    before = pointer.stat()

    engine.reindex([document(2, en("Canvas bag"))])
    os.utime(pointer, ns=(before.st_atime_ns, before.st_mtime_ns))  # the same mtime as before the swap

    assert ids(engine.search(SearchQuery())) == [2]
    assert engine.suggest("can", "en") == ["Canvas bag"]


def test_embedded_index_survives_a_new_engine_on_the_same_directory(tmp_path):
    from marketplace.storefront.search.embedded import EmbeddedEngine

    EmbeddedEngine(tmp_path / "search").index([document(1, en("Leather bag"))])
    assert ids(EmbeddedEngine(tmp_path / "search").search(SearchQuery(q="leather"))) == [1]


def test_embedded_facet_value_types(tmp_path):
    from marketplace.storefront.search.embedded import EmbeddedEngine

    engine = EmbeddedEngine(tmp_path / "search")
    engine.index([document(1)])
    result = engine.search(SearchQuery())
    assert result.facets["vendor"] == [FacetValue(1, 1)] and result.facets["origin_country"] == [FacetValue("BR", 1)]
