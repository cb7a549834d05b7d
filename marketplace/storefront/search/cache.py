"""The search answer cache: rendered answers, keyed by everything they depend on."""
from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from datetime import datetime
from typing import Any

from flask import current_app, g
from sqlalchemy.orm import Session

from marketplace.storefront.schemas import SearchResultSchema
from marketplace.kernel.clock import now
from marketplace.rates import services as rates
from marketplace.storefront.search.backend import engine
from marketplace.storefront.search.querying import search
from promotions import pricing


class ResponseCache:
    """A small per-process LRU of rendered search answers (festival peaks repeat queries).

    A key holds everything an answer depends on: the arguments, the locale, the
    index generation, the rates version and the pricing version; so a write, a
    reindex, a rate refresh or a campaign change makes new keys. Like the rate
    table (rates.RECHECK_SECONDS), the pricing version is asked of the database
    at most every `recheck` seconds (SEARCH_PRICING_RECHECK_SECONDS), so an answer
    may trail a campaign change by that long, as the index trails every write.
    """

    def __init__(self, size: int, recheck: float = 0.0) -> None:
        self.size = size
        self.recheck = recheck
        self._pricing: tuple[float, datetime, tuple] | None = None   # (monotonic, app clock, version)
        self._items: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def pricing_version(self, session: Session) -> tuple:
        """`pricing.pricing_version` now, asked again once `recheck` seconds passed or the app clock moved."""
        moment, at = time.monotonic(), now()
        seen = self._pricing
        if seen is None or moment - seen[0] >= self.recheck or abs((at - seen[1]).total_seconds()) >= self.recheck:
            seen = self._pricing = (moment, at, pricing.pricing_version(session, at))
        return seen[2]

    def get(self, key: tuple | None) -> bytes | None:
        if key is None or not self.size:
            return None
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key: tuple | None, body: bytes) -> None:
        if key is None or not self.size:
            return
        with self._lock:
            self._items[key] = body
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


#: One answer schema for every search (as the response decorators keep theirs): building it per search built
#: its nested product, money and facet schemas again each time.
SEARCH_RESULT = SearchResultSchema()


def response_cache() -> ResponseCache:
    return current_app.extensions["search_cache"]


def cache_key(session: Session, args: dict[str, Any], locale: str) -> tuple | None:
    generation = engine().generation()
    if generation is None:
        return None
    rates.current_table(session)
    arguments = tuple(sorted((k, tuple(v) if isinstance(v, list) else str(v)) for k, v in args.items()))
    return (arguments, locale, generation, g.get("rates_version"), response_cache().pricing_version(session))


def rendered(session: Session, args: dict[str, Any], locale: str) -> bytes:
    """The search answer as JSON bytes, from the answer cache when nothing it depends on changed."""
    key = cache_key(session, args, locale)
    body = response_cache().get(key)
    if body is None:
        body = json.dumps(SEARCH_RESULT.dump(search(session, args, locale)), ensure_ascii=False).encode()
        response_cache().put(key, body)
    return body
