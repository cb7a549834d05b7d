"""The search engine interface both engines implement (embedded and Elasticsearch).

The catalog hands engines *documents*: plain dicts built by
`marketplace.storefront.search.documents.build_document`, one per public product:

    {
      "id": 42,                       # product id
      "version": 7,                   # product version; an engine never lets an older version overwrite a newer one
      "vendor_id": 3, "vendor_name": "Kashmir Loom", "origin_country": "IN",
      "category": "shawls", "category_path": ["apparel", "shawls"],   # ancestors first, self last
      "original_locale": "hi",
      "translations": {"hi": {"title": "...", "description": "..."}, "en": {...}},
      "price": {"amount": "2500.00", "currency": "INR"},  # the list price as the vendor set it
      "price_base_micros": 29980000,  # list price in the base currency x 10**6, an integer (sort/filter key)
      "stock": 12, "in_stock": true,
      "hs_code": "621410", "attributes": {...}, "images": [...],
      "created_at": "2026-11-22T12:00:00+00:00",
      "boost": 1.0,                   # ranking weight (campaigns raise it)
      "campaigns": ["buy-brics-ciie"], # slugs of active campaigns the product is enrolled in
      "rating_average": "4.5",        # published reviews' average, one decimal (None while unrated)
      "rating_count": 12              # published reviews; sort "rating": average, then count, unrated last
    }

Text analysis per language lives in `marketplace.storefront.search.analysis`; engines call it
(embedded) or configure the equivalent server-side analyzers (Elasticsearch).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Iterable, Protocol


@dataclass(frozen=True)
class SearchQuery:
    q: str = ""
    locale: str = "en"
    origin_countries: tuple[str, ...] = ()
    category: str | None = None            # slug: matches the category and its subcategories
    vendor_id: int | None = None
    price_min_micros: int | None = None    # inclusive, base currency x 10**6
    price_max_micros: int | None = None    # inclusive
    in_stock: bool | None = None
    campaign: str | None = None
    sort: str = "relevance"                # one of catalog.rules.SORTS
    page: int = 1
    per_page: int = 20
    price_ranges: tuple[tuple[int | None, int | None], ...] = ()   # facet buckets [from, to) in micros


@dataclass
class FacetValue:
    value: Any
    count: int


@dataclass
class SearchResult:
    total: int
    hits: list[dict[str, Any]]                       # the stored documents, in order
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)   # origin_country, category, vendor, price


def rating_tenths(doc: dict[str, Any]) -> int | None:
    """A document's published average in tenths ("4.5" -> 45), the rating sort's key; None while unrated."""
    average = doc.get("rating_average")
    return None if average is None else int(Decimal(average) * 10)


class EngineUnavailable(RuntimeError):
    """The engine cannot be reached; callers keep events for later and report it."""


Progress = Callable[[int], None]


class SearchEngine(Protocol):
    name: str

    def index(self, documents: list[dict[str, Any]]) -> None:
        """Upsert documents; a document whose version is lower than the stored one is ignored."""

    def delete(self, versions: dict[int, int]) -> None:
        """Remove products {id: version}; ignored where the stored version is newer."""

    def search(self, query: SearchQuery) -> SearchResult: ...

    def suggest(self, prefix: str, locale: str, limit: int = 8) -> list[str]:
        """Titles (in `locale` first, else any) containing a word that starts with `prefix`."""

    def reindex(self, documents: Iterable[dict[str, Any]], progress: Progress | None = None) -> None:
        """Build a complete new index from `documents` beside the live one, then swap atomically."""

    def set_boosts(self, boosts: dict[int, tuple[float, list[str]]]) -> None:
        """Set (boost, campaign slugs) for products, without touching their other fields."""

    def generation(self) -> str | None:
        """A token that changes whenever search results could change; None when the engine can't tell
        (its answers are then never cached)."""

    def health(self) -> dict[str, Any]:
        """{"status": "ok"|"down", "detail": ..., "documents": n}"""
