"""The search engine contract for `sort=rating`, engine by engine (the engines of test_search_contract):
highest published average first, then the most reviews, then the lowest id; unrated products last, also
for a text query and across pages."""
from __future__ import annotations

from marketplace.storefront.search.engine import SearchQuery
from tests.integration.test_search_contract import document, en, engine, ids  # noqa: F401 (the fixture)

RATED = [
    document(1, en("Leather bag"), rating_average="4.5", rating_count=2),
    document(2, en("Leather wallet")),                                      # unrated
    document(3, en("Leather belt"), rating_average="4.5", rating_count=10),
    document(4, en("Leather shoes"), rating_average="5.0", rating_count=1),
    document(5, en("Leather hat"), rating_average="3.0", rating_count=40),
    document(6, en("Leather gloves")),                                      # unrated
    document(7, en("Leather case"), rating_average="4.5", rating_count=10),
]


def test_rating_sort_puts_the_best_rated_first_then_the_most_reviewed(engine):
    engine.index(RATED)
    assert ids(engine.search(SearchQuery(sort="rating"))) == [4, 3, 7, 1, 5, 2, 6]


def test_rating_sort_orders_text_hits_too_and_pages_partition_them(engine):
    engine.index(RATED)
    assert ids(engine.search(SearchQuery(q="leather", sort="rating"))) == [4, 3, 7, 1, 5, 2, 6]
    pages = [ids(engine.search(SearchQuery(q="leather", sort="rating", page=n, per_page=3))) for n in (1, 2, 3)]
    assert pages == [[4, 3, 7], [1, 5, 2], [6]]


def test_a_new_rating_moves_the_product(engine):
    engine.index(RATED)
    engine.index([document(2, en("Leather wallet"), version=2, rating_average="5.0", rating_count=3)])
    assert ids(engine.search(SearchQuery(sort="rating")))[:2] == [2, 4]
    assert engine.search(SearchQuery(q="wallet")).hits[0]["rating_average"] == "5.0"


def test_elasticsearch_asks_for_the_rating_order_and_maps_its_fields():
    from marketplace.storefront.search.elasticsearch import index_mappings, search_request, to_source

    assert search_request(SearchQuery(q="bag", sort="rating"))["sort"] == [
        {"rating_tenths": {"order": "desc", "missing": "_last"}}, {"rating_count": {"order": "desc"}},
        {"id": {"order": "asc"}}]
    source = to_source(RATED[0])
    assert (source["rating_tenths"], source["rating_count"]) == (45, 2)
    assert to_source(RATED[1])["rating_tenths"] is None
    assert {"rating_tenths", "rating_count"} <= set(index_mappings()["properties"])
