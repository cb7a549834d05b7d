"""The search answer cache asks whether campaigns changed at most every SEARCH_PRICING_RECHECK_SECONDS.

(The test configuration sets it to 0: the suite changes campaigns and searches
at once. Production trusts a version for a second, as it does the rate table.)
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from marketplace.storefront.search import cache as search_cache
from marketplace.storefront.search.cache import ResponseCache
from marketplace.kernel import clock


class Versions:
    def __init__(self) -> None:
        self.asked = 0

    def __call__(self, session, at):
        self.asked += 1
        return (self.asked,)


def test_the_pricing_version_is_asked_again_after_the_interval_or_when_the_clock_moves(monkeypatch):
    versions, ticks = Versions(), [1000.0]
    monkeypatch.setattr(search_cache.pricing, "pricing_version", versions)
    monkeypatch.setattr(search_cache.time, "monotonic", lambda: ticks[0])
    start = datetime(2026, 11, 11, 12, 0, tzinfo=UTC)
    cache = ResponseCache(16, recheck=1.0)
    try:
        clock.freeze(start)
        assert cache.pricing_version(None) == (1,)
        ticks[0] += 0.5
        assert cache.pricing_version(None) == (1,)          # trusted for a second
        ticks[0] += 0.6
        assert cache.pricing_version(None) == (2,)          # then asked again
        clock.freeze(start + timedelta(hours=1))            # the app clock jumped (a campaign may have started)
        assert cache.pricing_version(None) == (3,)
    finally:
        clock.freeze(None)


def test_with_no_interval_every_answer_asks(monkeypatch):
    versions = Versions()
    monkeypatch.setattr(search_cache.pricing, "pricing_version", versions)
    cache = ResponseCache(16, recheck=0.0)
    assert [cache.pricing_version(None) for _ in range(3)] == [(1,), (2,), (3,)]
