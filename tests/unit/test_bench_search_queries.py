"""The search benchmark's query log keeps the mix it promises: a long tail the answer cache cannot
memorise, all nine locales, typos, filters, sorts, deep pages and filter-only browsing."""
import random
from collections import Counter

import pytest

from bench.search_queries import Query, distinct_queries, typo, zipf_counts, zipf_sequence

N = 4000


@pytest.fixture(scope="module")
def queries() -> list[Query]:
    return distinct_queries(N, seed=11)


def share(queries: list[Query], test) -> float:
    return sum(1 for q in queries if test(q)) / len(queries)


def test_queries_are_distinct_and_repeatable_for_a_seed(queries):
    assert len({q.params for q in queries}) == N
    assert distinct_queries(200, seed=11) == queries[:200]
    assert distinct_queries(200, seed=12) != queries[:200]


def test_sequence_is_a_long_tail_every_query_sent_most_only_once():
    sequence = zipf_sequence(N, seed=11)
    counts = Counter(sequence)
    assert set(counts) == set(range(N))
    assert sum(1 for c in counts.values() if c == 1) / N > 0.95
    assert sum(1 for c in counts.values() if c <= 3) / N > 0.98
    assert counts.most_common(1)[0][1] / len(sequence) < 0.03
    assert (len(sequence) - N) / len(sequence) < 0.15   # at most this share can repeat an earlier request
    assert zipf_counts(5, head=10) == [10, 5, 3, 2, 2]


def test_mix_covers_locales_filters_sorts_pages_and_browsing(queries):
    assert {q.get("locale") for q in queries} == {"en", "pt", "ru", "hi", "zh", "ar", "fa", "id", "am"}
    assert 0.12 < share(queries, lambda q: q.browse) < 0.18
    assert 0.07 < share(queries, lambda q: q.typo) < 0.15
    assert 0.15 < share(queries, lambda q: q.get("origin_country")) < 0.35
    assert 0.15 < share(queries, lambda q: q.get("price_min") or q.get("price_max")) < 0.30
    assert 0.18 < share(queries, lambda q: q.get("in_stock")) < 0.32
    assert 0.20 < share(queries, lambda q: q.get("page") in {"2", "3", "4", "5"}) < 0.30
    assert {q.get("sort") for q in queries} == {None, "price_asc", "price_desc", "newest"}
    assert len({q.get("currency") for q in queries}) >= 5
    words = Counter(len(q.get("q").split()) for q in queries if not q.browse)
    assert min(words) == 1 and words[2] and words[3]


def test_browsing_always_filters_and_price_bounds_are_plain_ordered_numbers(queries):
    for q in queries:
        if q.browse:
            assert q.get("category") or q.get("origin_country") or q.get("price_min") or q.get("price_max") \
                or q.get("in_stock")
        low, high = q.get("price_min"), q.get("price_max")
        for bound in (low, high):
            assert bound is None or bound.replace(".", "").isdigit()
        if low and high:
            assert float(low) <= float(high)


def test_typo_makes_one_edit_and_spares_short_words():
    rng = random.Random(3)
    assert typo(rng, "tea") == "tea"
    for _ in range(50):
        changed = typo(rng, "leather")
        assert abs(len(changed) - len("leather")) <= 1 and changed[0] == "l"
        assert sum(a != b for a, b in zip(changed, "leather")) >= 1 or len(changed) != len("leather")


def test_args_keep_repeated_countries_as_a_list():
    query = Query((("q", "tea"), ("origin_country", "BR"), ("origin_country", "IN"), ("page", "2")))
    assert query.args() == {"q": "tea", "origin_country": ["BR", "IN"], "page": "2"}
    assert query.path() == "/api/v1/search?q=tea&origin_country=BR&origin_country=IN&page=2"
