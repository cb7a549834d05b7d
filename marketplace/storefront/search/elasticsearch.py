"""The Elasticsearch engine: the same interface and behaviour as the embedded one, on a cluster.

Layout: the configured index name (e.g. ``buybrics-products``) is an *alias*
pointing at one concrete index ``<alias>-v<UTC timestamp>``. A reindex builds
a complete new concrete index beside the live one and moves the alias in one
atomic ``_aliases`` call, so readers always see a complete index. The first
write or read on an empty cluster creates ``<alias>-v0`` with the alias
(a fixed name, so two processes racing to bootstrap end up with one index).

Documents: the dict handed to `index()` is kept verbatim under ``doc`` (an
object that is stored but not indexed) and returned as is by `search()`.
Beside it sit the fields that are indexed: a text field per locale for title
and description with that language's analyzer (and a ``.folded`` subfield,
lowercase + ASCII folding, so "cafe" finds "Café"), a ``search_as_you_type``
field per locale for suggestions, and keyword/numeric/date fields for
filters, facets and sorts.

Versions: writes carry the product version as an *external* version, with
``version_type=external_gte``: a write whose version is lower than the stored
one is rejected (HTTP 409 per bulk item, which is expected and ignored); an
equal version is applied, as in the embedded engine (a vendor renamed or
suspended re-sends its products at their unchanged version). Boosts are
written the same way - read the stored document, re-index it at its stored
version - because the update API cannot carry an external version and would
bump ``_version``, after which the next real change of the product would be
rejected as a conflict.

Errors: a connection, timeout or transport failure, an overloaded (429) or
failing (5xx) cluster, or a refused credential raises `EngineUnavailable`
(the outbox retries later, the API answers 503). A request the cluster
rejects as malformed (other 4xx) raises `ElasticsearchRequestError`.
"""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator

from elasticsearch import ApiError, Elasticsearch, TransportError

from marketplace.storefront.search.engine import (EngineUnavailable, FacetValue, Progress, SearchQuery, SearchResult,
                                                  rating_tenths)

log = logging.getLogger(__name__)

LOCALES = ("en", "pt", "ru", "hi", "zh", "ar", "fa", "id", "am")

#: Built-in language analyzers per locale; zh is decided from the installed plugins.
ANALYZERS = {
    "en": "english", "pt": "brazilian", "ru": "russian", "hi": "hindi", "ar": "arabic",
    "fa": "persian", "id": "indonesian", "am": "standard",
}
#: Locales whose text gets the accent-folding subfield (the standard tokenizer cuts Chinese into single characters).
FOLDED_LOCALES = tuple(locale for locale in LOCALES if locale != "zh")
FOLDING_ANALYZER = "buybrics_folding"

#: Query weights: the shopper's locale weighs more.
OWN_TITLE, OWN_DESCRIPTION, OTHER_TITLE, OTHER_DESCRIPTION = 6, 2, 2, 1

BULK_CHUNK = 1000
FACET_SIZE = 1000            # terms buckets per facet (countries, vendors, categories)
MAX_RESULT_WINDOW = 10_000   # the index.max_result_window default
SUGGEST_BOOST = 10
BOOST_RETRIES = 3


class ElasticsearchRequestError(RuntimeError):
    """Elasticsearch rejected a request or a document (a bug or a mapping mismatch, not an outage)."""


def _transient(status: int | None) -> bool:
    return status is not None and (status == 429 or status >= 500)


def _concrete_name(alias: str) -> str:
    return f"{alias}-v{datetime.now(timezone.utc).strftime('%Y%m%d%H%M%S%f')}"


def _error_type(error: ApiError) -> str | None:
    body = error.body if isinstance(error.body, dict) else {}
    detail = body.get("error")
    return detail.get("type") if isinstance(detail, dict) else None


def index_settings() -> dict[str, Any]:
    return {
        "index": {
            "number_of_shards": 1,          # a catalog fits one shard; BM25 statistics stay exact
            "auto_expand_replicas": "0-1",  # green on a single node, one replica where there are two
            "gc_deletes": "1h",             # how long a delete's version still rejects an older write
        },
        "analysis": {
            "analyzer": {
                FOLDING_ANALYZER: {"type": "custom", "tokenizer": "standard",
                                   "filter": ["lowercase", "asciifolding"]},
            },
        },
    }


def index_mappings(chinese_analyzer: str = "cjk") -> dict[str, Any]:
    analyzers = {**ANALYZERS, "zh": chinese_analyzer}
    properties: dict[str, Any] = {
        "id": {"type": "long"},
        "version": {"type": "long"},
        "vendor_id": {"type": "integer"},
        "origin_country": {"type": "keyword"},
        "category": {"type": "keyword"},
        "category_path": {"type": "keyword"},
        "campaigns": {"type": "keyword"},
        "price_base_micros": {"type": "long"},
        "in_stock": {"type": "boolean"},
        "created_at": {"type": "date"},
        "boost": {"type": "float"},
        "rating_tenths": {"type": "integer"},
        "rating_count": {"type": "integer"},
        "doc": {"type": "object", "enabled": False},   # the original document, stored, not indexed
    }
    for locale in LOCALES:
        for kind in ("title", "description"):
            field: dict[str, Any] = {"type": "text", "analyzer": analyzers[locale]}
            if locale in FOLDED_LOCALES:
                field["fields"] = {"folded": {"type": "text", "analyzer": FOLDING_ANALYZER}}
            properties[f"{kind}_{locale}"] = field
        properties[f"suggest_{locale}"] = {"type": "search_as_you_type", "analyzer": FOLDING_ANALYZER}
    return {"dynamic": "strict", "properties": properties}


def chinese_analyzer(plugins: Iterable[str]) -> str:
    installed = set(plugins)
    if "analysis-smartcn" in installed:
        return "smartcn"
    if "analysis-icu" in installed:
        return "icu_analyzer"
    return "cjk"


def to_source(doc: dict[str, Any]) -> dict[str, Any]:
    """What Elasticsearch stores for a document: indexed fields beside the untouched original."""
    source: dict[str, Any] = {
        "id": doc["id"],
        "version": doc["version"],
        "vendor_id": doc.get("vendor_id"),
        "origin_country": doc.get("origin_country"),
        "category": doc.get("category"),
        "category_path": list(doc.get("category_path") or []),
        "campaigns": list(doc.get("campaigns") or []),
        "price_base_micros": doc.get("price_base_micros"),
        "in_stock": bool(doc.get("in_stock")),
        "created_at": doc.get("created_at"),
        "boost": float(doc.get("boost", 1.0)),
        "rating_tenths": rating_tenths(doc),
        "rating_count": int(doc.get("rating_count") or 0),
    }
    for locale, text in (doc.get("translations") or {}).items():
        if locale not in LOCALES or not isinstance(text, dict):
            continue
        title = text.get("title") or ""
        source[f"title_{locale}"] = title
        source[f"description_{locale}"] = text.get("description") or ""
        source[f"suggest_{locale}"] = title
    source["doc"] = doc
    return source


def text_fields(locale: str) -> list[str]:
    fields = []
    for other in LOCALES:
        own = other == locale
        weights = (("title", OWN_TITLE if own else OTHER_TITLE),
                   ("description", OWN_DESCRIPTION if own else OTHER_DESCRIPTION))
        for kind, weight in weights:
            fields.append(f"{kind}_{other}^{weight}")
            if other in FOLDED_LOCALES:
                fields.append(f"{kind}_{other}.folded^{weight}")
    return fields


def text_query(q: str, locale: str) -> dict[str, Any]:
    """Every word must match: in one field (with typos), or across a locale's title and description."""
    fields = text_fields(locale)
    return {"bool": {"should": [
        {"multi_match": {"query": q, "fields": fields, "type": "best_fields", "operator": "and",
                         "fuzziness": "AUTO", "prefix_length": 1, "tie_breaker": 0.3}},
        {"multi_match": {"query": q, "fields": fields, "type": "cross_fields", "operator": "and"}},
    ], "minimum_should_match": 1}}


def _facet_filters(query: SearchQuery) -> dict[str, dict[str, Any]]:
    """The filters a facet leaves out when counting its own values."""
    filters: dict[str, dict[str, Any]] = {}
    if query.origin_countries:
        filters["origin_country"] = {"terms": {"origin_country": list(query.origin_countries)}}
    if query.category:
        filters["category"] = {"term": {"category_path": query.category}}
    if query.vendor_id is not None:
        filters["vendor"] = {"term": {"vendor_id": query.vendor_id}}
    return filters


def _common_filters(query: SearchQuery) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = []
    price: dict[str, int] = {}
    if query.price_min_micros is not None:
        price["gte"] = query.price_min_micros
    if query.price_max_micros is not None:
        price["lte"] = query.price_max_micros
    if price:
        filters.append({"range": {"price_base_micros": price}})
    if query.in_stock is not None:
        filters.append({"term": {"in_stock": bool(query.in_stock)}})
    if query.campaign:
        filters.append({"term": {"campaigns": query.campaign}})
    return filters


def _sort(query: SearchQuery, has_text: bool) -> list[Any]:
    if query.sort == "price_asc":
        return [{"price_base_micros": {"order": "asc", "missing": "_last"}}, {"id": {"order": "asc"}}]
    if query.sort == "price_desc":
        return [{"price_base_micros": {"order": "desc", "missing": "_last"}}, {"id": {"order": "asc"}}]
    if query.sort == "newest":
        return [{"created_at": {"order": "desc"}}, {"id": {"order": "desc"}}]
    if query.sort == "rating":
        return [{"rating_tenths": {"order": "desc", "missing": "_last"}}, {"rating_count": {"order": "desc"}},
                {"id": {"order": "asc"}}]
    if has_text:
        return [{"_score": {"order": "desc"}}, {"id": {"order": "asc"}}]
    return [{"boost": {"order": "desc"}}, {"created_at": {"order": "desc"}}, {"id": {"order": "asc"}}]


def search_request(query: SearchQuery) -> dict[str, Any]:
    """The keyword arguments of `Elasticsearch.search` for a query (index excluded)."""
    text = query.q.strip()
    inner: dict[str, Any] = {"bool": {"must": [text_query(text, query.locale) if text else {"match_all": {}}],
                                      "filter": _common_filters(query)}}
    facet_filters = _facet_filters(query)

    def others(skip: str | None) -> dict[str, Any]:
        return {"bool": {"filter": [f for name, f in facet_filters.items() if name != skip]}}

    terms_order = [{"_count": "desc"}, {"_key": "asc"}]
    aggs: dict[str, Any] = {}
    for name, field in (("origin_country", "origin_country"), ("vendor", "vendor_id"), ("category", "category_path")):
        aggs[name] = {"filter": others(name),
                      "aggs": {"values": {"terms": {"field": field, "size": FACET_SIZE, "order": terms_order}}}}
    if query.price_ranges:
        ranges = []
        for position, (low, high) in enumerate(query.price_ranges):
            bucket: dict[str, Any] = {"key": str(position)}
            if low is not None:
                bucket["from"] = low
            if high is not None:
                bucket["to"] = high
            ranges.append(bucket)
        aggs["price"] = {"filter": others(None),
                         "aggs": {"values": {"range": {"field": "price_base_micros", "keyed": True,
                                                       "ranges": ranges}}}}
    offset = max(query.page - 1, 0) * query.per_page
    size = query.per_page
    if offset + size > MAX_RESULT_WINDOW:   # past the window: no hits (as past the end), totals and facets still
        offset, size = 0, 0
    request: dict[str, Any] = {
        "query": {"function_score": {"query": inner,
                                     "field_value_factor": {"field": "boost", "missing": 1.0},
                                     "boost_mode": "multiply"}},
        "aggs": aggs,
        "sort": _sort(query, bool(text)),
        "from_": offset,
        "size": size,
        "track_total_hits": True,
        "source": {"includes": ["doc"]},
    }
    if facet_filters:
        request["post_filter"] = {"bool": {"filter": list(facet_filters.values())}}
    return request


def parse_search(response: dict[str, Any], query: SearchQuery) -> SearchResult:
    hits = response.get("hits") or {}
    total = hits.get("total")
    total = total.get("value", 0) if isinstance(total, dict) else int(total or 0)
    documents = [hit["_source"]["doc"] for hit in hits.get("hits") or []]
    aggregations = response.get("aggregations") or {}

    def terms(name: str) -> list[FacetValue]:
        buckets = ((aggregations.get(name) or {}).get("values") or {}).get("buckets") or []
        return [FacetValue(bucket["key"], int(bucket["doc_count"])) for bucket in buckets]

    facets = {"origin_country": terms("origin_country"), "vendor": terms("vendor"), "category": terms("category")}
    price_buckets = ((aggregations.get("price") or {}).get("values") or {}).get("buckets") or {}
    if isinstance(price_buckets, list):   # answered unkeyed: buckets carry their key
        price_buckets = {bucket.get("key"): bucket for bucket in price_buckets}
    facets["price"] = [FacetValue(tuple(bucket), int((price_buckets.get(str(position)) or {}).get("doc_count", 0)))
                       for position, bucket in enumerate(query.price_ranges)]
    return SearchResult(total=int(total), hits=documents, facets=facets)


def suggest_request(prefix: str, locale: str, limit: int) -> dict[str, Any]:
    should = []
    for other in LOCALES:
        should.append({"multi_match": {
            "query": prefix, "type": "bool_prefix", "operator": "and",
            "fields": [f"suggest_{other}", f"suggest_{other}._2gram", f"suggest_{other}._3gram"],
            "boost": SUGGEST_BOOST if other == locale else 1, "_name": other}})
    return {"query": {"bool": {"should": should, "minimum_should_match": 1}},
            "size": limit * 3, "source": {"includes": ["doc.translations"]}}


def parse_suggest(response: dict[str, Any], locale: str, limit: int) -> list[str]:
    own, others = [], []
    for hit in (response.get("hits") or {}).get("hits") or []:
        translations = ((hit.get("_source") or {}).get("doc") or {}).get("translations") or {}
        matched = hit.get("matched_queries") or []
        matched = list(matched) if not isinstance(matched, dict) else list(matched.keys())
        for name in matched:
            title = (translations.get(name) or {}).get("title")
            if title:
                (own if name == locale else others).append(title)
    return list(dict.fromkeys(own + others))[:limit]


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class ElasticsearchEngine:
    name = "elasticsearch"

    def __init__(self, url: str, index_name: str, *, request_timeout: float = 10.0,
                 bulk_timeout: float = 120.0, refresh: bool = False, client: Elasticsearch | None = None) -> None:
        """`refresh=True` makes every write visible to search at once (tests); production leaves it off."""
        self.url = url
        self.alias = index_name
        self.refresh = refresh
        self.bulk_timeout = bulk_timeout
        self.client = client or Elasticsearch(url, request_timeout=request_timeout, max_retries=1,
                                              retry_on_timeout=False)
        self._ready = False
        self._lock = threading.Lock()

    # -- plumbing --------------------------------------------------------------

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        try:
            yield
        except TransportError as error:
            raise EngineUnavailable(f"elasticsearch at {self.url} unreachable ({what}): {error}") from error
        except ApiError as error:
            status = error.meta.status if error.meta is not None else None
            kind = _error_type(error)
            if kind == "media_type_header_exception":
                raise EngineUnavailable(f"elasticsearch {what}: the server rejects this client's API version "
                                        f"(the 9.x Python client needs an Elasticsearch 9.x server): {error}") \
                    from error
            if _transient(status) or status in (401, 403) or not isinstance(status, int) or status < 400:
                raise EngineUnavailable(f"elasticsearch {what} failed: {error}") from error
            raise ElasticsearchRequestError(f"elasticsearch {what} rejected: {error}") from error

    def _plugins(self) -> list[str]:
        try:
            rows = self.client.cat.plugins(format="json", h=["component"])
        except ApiError as error:     # e.g. not allowed to list plugins: use what every node has
            log.warning("cannot list elasticsearch plugins (%s); Chinese text uses the cjk analyzer", error)
            return []
        return [row.get("component", "") for row in rows.body or [] if isinstance(row, dict)]

    def _create_index(self, name: str, *, alias: bool, building: bool = False) -> None:
        zh = chinese_analyzer(self._plugins())
        settings = index_settings()
        if building:
            settings["index"]["refresh_interval"] = "-1"
        self.client.indices.create(index=name, settings=settings, mappings=index_mappings(zh),
                                   aliases={self.alias: {}} if alias else None)

    def _aliased_indices(self) -> list[str]:
        """The concrete indices the alias points at ([] when there is no alias yet)."""
        if not self.client.indices.exists_alias(name=self.alias):
            return []
        return sorted(self.client.indices.get_alias(name=self.alias).body)

    def _ensure_index(self) -> None:
        """Create the first concrete index and the alias on first use."""
        if self._ready:
            return
        with self._lock, self._guard("index bootstrap"):
            if self._ready:
                return
            if not self.client.indices.exists_alias(name=self.alias):
                try:
                    self._create_index(f"{self.alias}-v0", alias=True)
                except ApiError as error:
                    if _error_type(error) != "resource_already_exists_exception":
                        raise
                    # another process created it (with the alias) an instant ago
            self._ready = True

    def _bulk(self, operations: list[dict[str, Any]], index: str, *, to_alias: bool = True) -> dict[str, list]:
        """Run bulk operations; returns {"conflicts": [ids], "missing_index": [ids]}; raises on other item errors."""
        outcome: dict[str, list] = {"conflicts": [], "missing_index": []}
        if not operations:
            return outcome
        with self._guard("bulk"):
            response = self.client.options(request_timeout=self.bulk_timeout).bulk(
                operations=operations, index=index, require_alias=to_alias or None,
                refresh=True if self.refresh and to_alias else None).body
        if not response.get("errors"):
            return outcome
        failures, transient = [], []
        for item in response.get("items") or []:
            (action, result), = item.items()
            status = result.get("status", 0)
            if status < 300:
                continue
            error = result.get("error") or {}
            kind = error.get("type") if isinstance(error, dict) else str(error)
            if status == 409 and kind == "version_conflict_engine_exception":
                outcome["conflicts"].append(result.get("_id"))      # an older version: expected, ignored
            elif kind == "index_not_found_exception":
                outcome["missing_index"].append(result.get("_id"))
            elif action == "delete" and status == 404:
                continue                                              # already gone
            elif _transient(status):
                transient.append(f"{action} {result.get('_id')}: {status} {kind}")
            else:
                reason = error.get("reason") if isinstance(error, dict) else ""
                failures.append(f"{action} {result.get('_id')}: {status} {kind} {reason}".strip())
        if failures:
            raise ElasticsearchRequestError(f"elasticsearch rejected {len(failures)} bulk item(s): "
                                            + "; ".join(failures[:5]))
        if transient:
            raise EngineUnavailable(f"elasticsearch could not take {len(transient)} bulk item(s): "
                                    + "; ".join(transient[:5]))
        return outcome

    @staticmethod
    def _index_operations(documents: Iterable[dict[str, Any]],
                          versions: dict[int, int] | None = None) -> list[dict[str, Any]]:
        operations: list[dict[str, Any]] = []
        for doc in documents:
            version = versions[doc["id"]] if versions else doc["version"]
            operations.append({"index": {"_id": str(doc["id"]), "version": int(version),
                                         "version_type": "external_gte"}})
            operations.append(to_source(doc))
        return operations

    # -- writing ---------------------------------------------------------------

    def index(self, documents: list[dict[str, Any]]) -> None:
        for batch in _chunks(documents, BULK_CHUNK):
            self._ensure_index()
            outcome = self._bulk(self._index_operations(batch), self.alias)
            if outcome["missing_index"]:     # the index was removed behind our back: recreate, write again
                self._ready = False
                self._ensure_index()
                outcome = self._bulk(self._index_operations(batch), self.alias)
                if outcome["missing_index"]:
                    raise EngineUnavailable(f"elasticsearch index {self.alias} keeps disappearing")

    def delete(self, versions: dict[int, int]) -> None:
        self._ensure_index()
        for batch in _chunks(versions.items(), BULK_CHUNK):
            operations = [{"delete": {"_id": str(product_id), "version": int(version),
                                      "version_type": "external_gte"}} for product_id, version in batch]
            self._bulk(operations, self.alias)   # conflicts (newer stored) and 404s are fine

    def set_boosts(self, boosts: dict[int, tuple[float, list[str]]]) -> None:
        """Re-index each stored document with the new boost and campaigns, at its stored version."""
        if not boosts:
            return
        self._ensure_index()
        pending = {int(product_id): value for product_id, value in boosts.items()}
        for _attempt in range(BOOST_RETRIES):
            if not pending:
                return
            with self._guard("mget"):
                response = self.client.mget(index=self.alias, ids=[str(i) for i in pending],
                                            source=["doc"]).body
            documents, versions = [], {}
            for found in response.get("docs") or []:
                if not found.get("found"):
                    continue                                  # not indexed (or deleted): nothing to boost
                doc = dict(found["_source"]["doc"])
                boost, campaigns = pending[int(found["_id"])]
                doc["boost"], doc["campaigns"] = float(boost), list(campaigns)
                documents.append(doc)
                versions[doc["id"]] = found["_version"]
            outcome = self._bulk(self._index_operations(documents, versions), self.alias)
            # a conflict means a newer version landed meanwhile: read it again and boost that one
            pending = {int(i): pending[int(i)] for i in outcome["conflicts"]}
        if pending:
            raise EngineUnavailable(f"boosts for products {sorted(pending)} kept conflicting with writes")

    def reindex(self, documents: Iterable[dict[str, Any]], progress: Progress | None = None) -> None:
        name = _concrete_name(self.alias)
        with self._guard("reindex: create index"):
            self._create_index(name, alias=False, building=True)
        try:
            for batch in _chunks(documents, BULK_CHUNK):
                self._bulk(self._index_operations(batch), name, to_alias=False)
                if progress:
                    progress(len(batch))
            with self._guard("reindex: finish index"):
                self.client.indices.put_settings(index=name, settings={"index": {"refresh_interval": None}})
                self.client.indices.refresh(index=name)
            with self._lock, self._guard("reindex: swap alias"):
                previous = self._aliased_indices()
                actions = [{"remove": {"index": old, "alias": self.alias}} for old in previous]
                actions.append({"add": {"index": name, "alias": self.alias}})
                self.client.indices.update_aliases(actions=actions)
                self._ready = True
        except BaseException:
            try:   # never remove it if the swap went through after all (e.g. answered with a timeout)
                if name not in self._aliased_indices():
                    self.client.indices.delete(index=name, ignore_unavailable=True)
            except Exception:   # the cluster is gone: the orphan is removed by hand
                log.warning("could not remove the unfinished index %s", name)
            raise
        for old in previous:
            try:
                with self._guard("reindex: delete old index"):
                    self.client.indices.delete(index=old, ignore_unavailable=True)
            except (EngineUnavailable, ElasticsearchRequestError) as error:
                log.warning("could not delete the previous index %s: %s", old, error)

    # -- reading ---------------------------------------------------------------

    def _search(self, what: str, **request: Any) -> dict[str, Any]:
        self._ensure_index()
        for attempt in (1, 2):
            try:
                with self._guard(what):
                    return self.client.search(index=self.alias, **request).body
            except ElasticsearchRequestError as error:
                cause = error.__cause__
                if attempt == 1 and isinstance(cause, ApiError) and _error_type(cause) == "index_not_found_exception":
                    self._ready = False       # removed behind our back: recreate (empty) and ask again
                    self._ensure_index()
                    continue
                raise
        raise AssertionError("unreachable")

    def search(self, query: SearchQuery) -> SearchResult:
        return parse_search(self._search("search", **search_request(query)), query)

    def suggest(self, prefix: str, locale: str, limit: int = 8) -> list[str]:
        prefix = " ".join(prefix.split())
        if not any(ch.isalnum() for ch in prefix) or limit <= 0:
            return []
        return parse_suggest(self._search("suggest", **suggest_request(prefix, locale, limit)), locale, limit)

    def generation(self) -> str | None:
        """Elasticsearch keeps its own request cache; answers are not cached here."""
        return None

    def health(self) -> dict[str, Any]:
        try:
            with self._guard("health"):
                cluster = self.client.cluster.health().body
                indices = self._aliased_indices()
                documents = self.client.count(index=self.alias).body["count"] if indices else 0
        except (EngineUnavailable, ElasticsearchRequestError) as error:
            return {"status": "down", "detail": str(error), "documents": None}
        status = cluster.get("status")
        where = f"{self.alias} -> {', '.join(indices)}" if indices else f"{self.alias} (not created yet)"
        return {"status": "down" if status == "red" else "ok",
                "detail": f"elasticsearch {cluster.get('cluster_name', '')} {status}, {where}".replace("  ", " "),
                "documents": documents}
