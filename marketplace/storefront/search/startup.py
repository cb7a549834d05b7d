"""Search at app start: the engine configuration picks, the answer cache, and the outbox handlers that keep
the index in step with the catalog."""
from __future__ import annotations

from flask import Flask

from marketplace.kernel import outbox
from marketplace.storefront.search.backend import build_engine
from marketplace.storefront.search.cache import ResponseCache
from marketplace.storefront.search.indexing import TOPICS, handle_events


def init_search(app: Flask) -> None:
    app.extensions["search_engine"] = build_engine(app)
    app.extensions["search_cache"] = ResponseCache(app.config["SEARCH_CACHE_SIZE"],
                                                   app.config["SEARCH_PRICING_RECHECK_SECONDS"])
    for topic in TOPICS:
        outbox.register(app, topic, handle_events)
