"""The app's search engine: the one configuration picks (SEARCH_BACKEND), reached through `engine()`.

The embedded engine is the default and ships with the app. The Elasticsearch engine is imported only when
configuration picks it: its client library (and its transport) is a production-search dependency that
every other process would otherwise load for nothing.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from marketplace.storefront.search.embedded import EmbeddedEngine
from marketplace.storefront.search.engine import EngineUnavailable, SearchEngine


def build_engine(app: Flask) -> SearchEngine:
    backend = app.config["SEARCH_BACKEND"]
    if backend == "embedded":
        return EmbeddedEngine(app.config["SEARCH_INDEX_DIR"])
    if backend == "elasticsearch":
        from marketplace.storefront.search.elasticsearch import ElasticsearchEngine  # optional client library

        return ElasticsearchEngine(app.config["ELASTICSEARCH_URL"], app.config["ELASTICSEARCH_INDEX"])
    raise RuntimeError(f"SEARCH_BACKEND must be 'embedded' or 'elasticsearch', not {backend!r}")


def engine() -> SearchEngine:
    return current_app.extensions["search_engine"]


def health() -> dict[str, Any]:
    try:
        return engine().health()
    except EngineUnavailable as error:
        return {"status": "down", "detail": str(error), "documents": None}
