"""The app's search engine: the one configuration picks (SEARCH_BACKEND), reached through `engine()`.

The embedded engine is the default and ships with the app. The Elasticsearch and tantivy engines are
imported only when configuration picks them: their libraries (a client and its transport, a compiled
index) are search dependencies that every other process would otherwise load for nothing.
"""
from __future__ import annotations

import os
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
    if backend == "tantivy":
        from marketplace.storefront.search.tantivy_engine import TantivyEngine  # optional compiled library

        return TantivyEngine(app.config["TANTIVY_INDEX_DIR"] or os.path.join(app.config["SEARCH_INDEX_DIR"], "tantivy"))
    raise RuntimeError(f"SEARCH_BACKEND must be 'embedded', 'elasticsearch' or 'tantivy', not {backend!r}")


def engine() -> SearchEngine:
    return current_app.extensions["search_engine"]


def health() -> dict[str, Any]:
    try:
        return engine().health()
    except EngineUnavailable as error:
        return {"status": "down", "detail": str(error), "documents": None}
