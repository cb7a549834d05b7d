"""The tantivy search engine (opt-in, SEARCH_BACKEND=tantivy): the embedded engine's rules on a compiled index.

Text is analysed in Python by `marketplace.storefront.search.analysis`, exactly as for the embedded engine:
documents are indexed as the analysed terms (one whitespace-separated term list per locale, title and
description), queries are matched with the analysed query terms, so the nine languages behave alike in
both engines. tantivy does the matching, the BM25 scoring, the counting of totals and facets
(aggregations on fast fields), the filters and the sorts.

One index directory per generation, ``index-<stamp>/``, and a ``CURRENT`` pointer naming the live one. A
reindex builds a new directory, then atomically replaces the pointer; readers notice and reopen. Three
kinds of documents share an index (``kind``): products, tombstones (a deleted product's id and version, so
a late older upsert is ignored) and suggestions (one per product and locale: the title's words).

Writers: tantivy allows one writer per index. A write opens the writer, applies its adds and deletes,
commits, waits for the merges it started and releases the writer, so any process may write; a process
that finds the writer busy (another process writing) retries for up to `WRITER_WAIT_SECONDS`, then
raises `EngineUnavailable` (the outbox keeps its events for later). Readers reload when the index's
commit stamp (``meta.json``) moved, which `generation()` also reports.

Where the answers differ from the embedded engine (the contract tests pass for both):
- matching, totals, facets, filters and sorts are the same; typo expansion is the same (the query word,
  plus up to 8 vocabulary words with the same first letter within its typo budget, closest and most
  frequent first);
- relevance scores are tantivy's BM25, per field (title and description per locale, the same weights:
  title 4, description 1, x3 in the shopper's locale), summed over the matching fields; FTS5's bm25 counts
  a document's length and a term's frequency over all its columns together. So the order of text hits
  with different scores can differ between the engines; the rules (the shopper's locale first, a boost
  multiplies the score) hold in both. BM25's document count and average field length also count the
  tombstones and suggestion documents (which have no text fields): this shifts the numbers slightly;
- equal text scores: the embedded engine orders them by product id; tantivy by their place in the index
  (a reindex writes products in id order, but merges and later writes reorder segments), and this engine
  then orders each page by id. So a run of equal scores longer than what is left of a page may put other
  products of that run on the page than the embedded engine does; pages still partition the hits;
- suggestions rank the shopper's locale first, then by BM25 of the full words (a prefix word scores a
  constant), then in index order, where FTS5 ranks the prefix match by bm25 too;
- boosts from 1 up (the campaign range is 1-10) multiply scores exactly; a boost below 1 would count as 1.
"""
from __future__ import annotations

import os
import re
import shutil
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

import orjson
import tantivy
from tantivy import Occur, Query

from marketplace.storefront.search import analysis
from marketplace.storefront.search.engine import (EngineUnavailable, FacetValue, Progress, SearchQuery, SearchResult,
                                                  rating_tenths)

LOCALES = analysis.LOCALES
TITLE_WEIGHT, DESCRIPTION_WEIGHT, OWN_LOCALE_FACTOR = 4.0, 1.0, 3.0
MAX_FUZZY_EXPANSIONS = 8
WRITER_HEAP, REINDEX_HEAP = 15_000_000, 200_000_000
WRITER_WAIT_SECONDS = 10.0
FACET_SIZE = 65_000
SUGGEST_LOCALE_SCORE = 1000.0
ID_SPAN = 10 ** 12
FACET_FILTERS = ("origin_country", "vendor", "category")
_OPSTAMP = re.compile(rb'"opstamp":\s*(\d+)')


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    for name in ("kind", "origin_country", "category", "campaigns", "s_locale"):
        builder.add_text_field(name, tokenizer_name="raw", fast=True, index_option="basic")
    for name in ("key_relevance", "key_newest", "key_price_asc", "key_price_desc", "key_rating"):
        builder.add_text_field(name, tokenizer_name="raw", fast=True, index_option="basic")
    for locale in LOCALES:
        builder.add_text_field(f"t_{locale}", tokenizer_name="whitespace", index_option="freq")
        builder.add_text_field(f"d_{locale}", tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field("vocab", tokenizer_name="whitespace", index_option="basic")  # every term, once
    builder.add_text_field("s_words", tokenizer_name="whitespace", index_option="freq")
    for name in ("id", "version", "vendor", "price"):
        builder.add_integer_field(name, indexed=True, fast=True)
    builder.add_boolean_field("in_stock", indexed=True, fast=True)
    builder.add_float_field("boost_weight", fast=True)  # 2**boost - 2: tantivy weighs by log2(2 + value)
    builder.add_bytes_field("body", stored=True)
    return builder.build()


SCHEMA = _schema()


def _term(field: str, value: Any) -> Query:
    return Query.term_query(SCHEMA, field, value)


def _filter(query: Query) -> Query:
    """A clause that selects without scoring."""
    return Query.const_score_query(query, 0.0)


def _created_key(created: str | None) -> str:
    try:
        moment = datetime.fromisoformat(created or "")
    except ValueError:
        return "0" * 17
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - datetime(1970, 1, 1, tzinfo=timezone.utc)
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return f"{max(micros, 0):017d}"


def _rating_key(doc: dict[str, Any]) -> str:
    """Rated before unrated, then the published average (in tenths), then the number of reviews."""
    tenths = rating_tenths(doc)
    if tenths is None:
        return "0" + "0" * 14
    return "1" + f"{tenths:02d}" + f"{int(doc.get('rating_count') or 0):012d}"


def sort_keys(doc: dict[str, Any]) -> dict[str, str]:
    """The sort orders as one string each (tantivy sorts by one fast field): every tie-break built in."""
    product_id = doc["id"]
    up, down = f"{product_id:012d}", f"{ID_SPAN - 1 - product_id:012d}"
    created = _created_key(doc.get("created_at"))
    price = doc.get("price_base_micros")
    boost = f"{round(float(doc.get('boost', 1.0)) * 1_000_000):015d}"
    return {
        "key_relevance": boost + created + down,        # descending: boost, newest, then lowest id
        "key_newest": created + up,                      # descending: newest, then highest id
        "key_price_asc": ("0" + f"{price:020d}" if price is not None else "1" + "0" * 20) + up,
        "key_price_desc": ("1" + f"{price:020d}" if price is not None else "0" + "0" * 20) + down,
        "key_rating": _rating_key(doc) + down,           # descending: rated, average, count, then lowest id
    }


def documents_of(doc: dict[str, Any]) -> list[tantivy.Document]:
    """The product document and its suggestion documents (one per locale with a title)."""
    product = tantivy.Document()
    product.add_text("kind", "product")
    product.add_integer("id", doc["id"])
    product.add_integer("version", doc["version"])
    if doc.get("vendor_id") is not None:
        product.add_integer("vendor", doc["vendor_id"])
    if doc.get("origin_country"):
        product.add_text("origin_country", doc["origin_country"])
    for slug in doc.get("category_path") or ():
        product.add_text("category", slug)
    for slug in doc.get("campaigns") or ():
        product.add_text("campaigns", slug)
    if doc.get("price_base_micros") is not None:
        product.add_integer("price", doc["price_base_micros"])
    product.add_boolean("in_stock", bool(doc.get("in_stock")))
    product.add_float("boost_weight", max(2.0 ** float(doc.get("boost", 1.0)) - 2.0, 0.0))
    for name, value in sort_keys(doc).items():
        product.add_text(name, value)
    vocabulary: dict[str, None] = {}
    suggestions = []
    for locale in LOCALES:
        text = doc["translations"].get(locale)
        if not text:
            continue
        for kind, value in (("t", text["title"]), ("d", text.get("description", ""))):
            terms = analysis.tokens(value, locale)
            if terms:
                product.add_text(f"{kind}_{locale}", " ".join(terms))
                vocabulary.update(dict.fromkeys(terms))
    for locale, text in doc["translations"].items():
        words = analysis.prefix_tokens(text["title"])
        if words:
            suggestion = tantivy.Document()
            suggestion.add_text("kind", "suggestion")
            suggestion.add_integer("id", doc["id"])
            suggestion.add_text("s_locale", locale)
            suggestion.add_text("s_words", " ".join(words))
            suggestion.add_bytes("body", text["title"].encode())
            suggestions.append(suggestion)
    if vocabulary:
        product.add_text("vocab", " ".join(vocabulary))
    product.add_bytes("body", orjson.dumps(doc))
    return [product, *suggestions]


def _tombstone(product_id: int, version: int) -> tantivy.Document:
    tombstone = tantivy.Document()
    tombstone.add_text("kind", "tombstone")
    tombstone.add_integer("id", product_id)
    tombstone.add_integer("version", version)
    return tombstone


class TantivyEngine:
    name = "tantivy"

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()         # guards _live
        self._write_lock = threading.Lock()   # one writer per process at a time (tantivy: one per index)
        self._live: tuple[str, tantivy.Index, int | None] | None = None
        if not self._pointer().exists():
            self._activate(self._create_index())

    # -- directories and readers ------------------------------------------------

    def _pointer(self) -> Path:
        return self.directory / "CURRENT"

    def _current_name(self) -> str:
        try:
            return self._pointer().read_text().strip()
        except OSError as error:
            raise EngineUnavailable(f"search index pointer unreadable: {error}") from error

    def _create_index(self) -> str:
        name = f"index-{time.time_ns()}"
        (self.directory / name).mkdir()
        tantivy.Index(SCHEMA, path=str(self.directory / name), reuse=False)
        return name

    def _activate(self, name: str) -> None:
        tmp = self.directory / f"CURRENT.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_text(name)
        os.replace(tmp, self._pointer())

    def _opstamp(self, name: str) -> int:
        try:
            match = _OPSTAMP.search((self.directory / name / "meta.json").read_bytes())
        except OSError as error:
            raise EngineUnavailable(f"tantivy index unreadable: {error}") from error
        return int(match.group(1)) if match else 0

    def _index(self) -> tantivy.Index:
        """The live index, reopened after a swap and reloaded when another commit landed."""
        name = self._current_name()
        stamp = self._opstamp(name)
        with self._lock:
            live = self._live
            if live is None or live[0] != name:
                try:
                    index = tantivy.Index.open(str(self.directory / name))
                except (OSError, ValueError) as error:
                    raise EngineUnavailable(f"tantivy index: {error}") from error
                index.config_reader(reload_policy="manual")
                self._live = live = (name, index, stamp)
            elif live[2] != stamp:
                live[1].reload()
                self._live = live = (name, live[1], stamp)
            return live[1]

    def _searcher(self) -> tantivy.Searcher:
        return self._index().searcher()

    # -- writing ----------------------------------------------------------------

    @staticmethod
    def _writer(index: tantivy.Index, heap: int = WRITER_HEAP) -> Any:
        deadline = time.monotonic() + WRITER_WAIT_SECONDS
        while True:
            try:
                return index.writer(heap, 1)
            except ValueError as error:
                if "LockBusy" not in str(error) or time.monotonic() > deadline:
                    raise EngineUnavailable(f"tantivy index writer: {error}") from error
                time.sleep(0.01)

    def _transaction(self, work: Callable[[Any, tantivy.Searcher], None]) -> None:
        with self._write_lock:
            index = self._index()
            writer = self._writer(index)
            try:
                index.reload()  # the latest commit, whichever process made it
                work(writer, index.searcher())
                writer.commit()
            except BaseException:
                writer.rollback()
                raise
            finally:
                writer.wait_merging_threads()  # also releases the writer
                del writer
            self._index()  # reload now: this process reads its own write at once

    @staticmethod
    def _stored(searcher: tantivy.Searcher, ids: list[int], kinds: tuple[str, ...]) -> list[tuple[int, int, Any]]:
        """(id, version, address) of the stored products (and tombstones) among `ids`."""
        if not ids:
            return []
        query = Query.boolean_query([(Occur.Must, Query.term_set_query(SCHEMA, "id", ids)),
                                     (Occur.Must, Query.term_set_query(SCHEMA, "kind", list(kinds)))])
        addresses = [address for _score, address in searcher.search(query, len(ids) * 2 + 1, count=False).hits]
        return list(zip(searcher.fast_field_values("id", addresses),
                        searcher.fast_field_values("version", addresses), addresses))

    def _apply(self, writer: Any, searcher: tantivy.Searcher, documents: list[dict[str, Any]]) -> None:
        stored = {pid: version for pid, version, _a in
                  self._stored(searcher, list({d["id"] for d in documents}), ("product", "tombstone"))}
        for doc in documents:
            if stored.get(doc["id"], doc["version"]) > doc["version"]:
                continue
            writer.delete_documents_by_term("id", doc["id"])
            for part in documents_of(doc):
                writer.add_document(part)
            stored[doc["id"]] = doc["version"]

    def index(self, documents: list[dict[str, Any]]) -> None:
        if documents:
            self._transaction(lambda writer, searcher: self._apply(writer, searcher, documents))

    def delete(self, versions: dict[int, int]) -> None:
        def work(writer: Any, searcher: tantivy.Searcher) -> None:
            stored = {pid: version for pid, version, _a in
                      self._stored(searcher, list(versions), ("product", "tombstone"))}
            for product_id, version in versions.items():
                if stored.get(product_id, version) > version:
                    continue
                writer.delete_documents_by_term("id", product_id)
                writer.add_document(_tombstone(product_id, version))

        if versions:
            self._transaction(work)

    def set_boosts(self, boosts: dict[int, tuple[float, list[str]]]) -> None:
        def work(writer: Any, searcher: tantivy.Searcher) -> None:
            for product_id, _version, address in self._stored(searcher, list(boosts), ("product",)):
                doc = orjson.loads(searcher.doc(address).get_first("body"))
                doc["boost"], doc["campaigns"] = boosts[product_id]
                writer.delete_documents_by_term("id", product_id)
                for part in documents_of(doc):
                    writer.add_document(part)

        if boosts:
            self._transaction(work)

    def reindex(self, documents: Iterable[dict[str, Any]], progress: Progress | None = None) -> None:
        name = self._create_index()
        index = tantivy.Index.open(str(self.directory / name))
        writer = index.writer(REINDEX_HEAP, 1)
        batch = 0
        try:
            for doc in documents:
                for part in documents_of(doc):
                    writer.add_document(part)
                batch += 1
                if batch >= 1000:
                    if progress:
                        progress(batch)
                    batch = 0
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()
            del writer
        if progress and batch:
            progress(batch)
        previous = self._current_name() if self._pointer().exists() else None
        self._activate(name)
        self._cleanup(keep={name, previous})

    def _cleanup(self, keep: set[str | None]) -> None:
        """Remove index directories two generations old (readers of the previous one may still be busy)."""
        for old in self.directory.glob("index-*"):
            if old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)

    # -- reading ----------------------------------------------------------------

    @staticmethod
    def _live_count(searcher: tantivy.Searcher, term: str) -> int:
        return searcher.search(_term("vocab", term), 1, count=True).count

    def _alternatives(self, searcher: tantivy.Searcher, term: str) -> list[str]:
        """The term, plus vocabulary words within its typo budget when the term itself is unknown."""
        typos = analysis.max_typos(term)
        if typos == 0 or self._live_count(searcher, term):
            return [term]
        close = []
        for word, _count in searcher.terms_with_prefix("vocab", term[0]):
            if abs(len(word) - len(term)) <= typos:
                distance = analysis.edit_distance(term, word, typos)
                if distance <= typos:
                    count = self._live_count(searcher, word)  # documents deleted but not yet merged away don't count
                    if count:
                        close.append((distance, -count, word))
        return [term] + [word for _d, _c, word in sorted(close)[:MAX_FUZZY_EXPANSIONS]]

    def _text_query(self, searcher: tantivy.Searcher, text: str, locale: str) -> Query | None:
        """One clause per distinct analysis of the query: locales that analyse it alike share a clause."""
        expansions: dict[str, list[str]] = {}
        clauses = []
        for terms, locales in analysis.query_analyses(text).items():
            parts = []
            for term in terms:
                if term not in expansions:
                    expansions[term] = self._alternatives(searcher, term)
                fields = []
                for column in locales:
                    factor = OWN_LOCALE_FACTOR if column == locale else 1.0
                    fields += [(f"t_{column}", TITLE_WEIGHT * factor), (f"d_{column}", DESCRIPTION_WEIGHT * factor)]
                parts.append((Occur.Must, Query.boolean_query(
                    [(Occur.Should, Query.boost_query(_term(field, word), weight))
                     for word in expansions[term] for field, weight in fields])))
            clauses.append((Occur.Should, Query.boolean_query(parts)))
        return Query.boolean_query(clauses) if clauses else None

    @staticmethod
    def _filters(query: SearchQuery, skip: str | None = None) -> list[tuple[Occur, Query]]:
        clauses = [_term("kind", "product")]
        if query.origin_countries and skip != "origin_country":
            clauses.append(Query.term_set_query(SCHEMA, "origin_country", list(query.origin_countries)))
        if query.category and skip != "category":
            clauses.append(_term("category", query.category))
        if query.vendor_id is not None and skip != "vendor":
            clauses.append(_term("vendor", query.vendor_id))
        if query.price_min_micros is not None or query.price_max_micros is not None:
            clauses.append(Query.range_query(SCHEMA, "price", tantivy.FieldType.Integer,
                                             query.price_min_micros, query.price_max_micros))
        if query.in_stock is not None:
            clauses.append(_term("in_stock", bool(query.in_stock)))
        if query.campaign:
            clauses.append(_term("campaigns", query.campaign))
        return [(Occur.Must, _filter(clause)) for clause in clauses]

    def search(self, query: SearchQuery) -> SearchResult:
        try:
            return self._search(self._searcher(), query)
        except ValueError as error:
            raise EngineUnavailable(f"tantivy search index: {error}") from error

    def _search(self, searcher: tantivy.Searcher, query: SearchQuery) -> SearchResult:
        text_query = None
        text = query.q.strip()
        if text:
            text_query = self._text_query(searcher, text, query.locale)
            if text_query is None:
                return SearchResult(total=0, hits=[], facets=self._empty_facets(query))

        def combined(skip: str | None = None) -> Query:
            clauses = self._filters(query, skip)
            if text_query is not None:
                clauses.append((Occur.Must, text_query))
            return Query.boolean_query(clauses)

        full = combined()
        offset, size = (query.page - 1) * query.per_page, query.per_page
        if text_query is not None and query.sort not in ("price_asc", "price_desc", "newest", "rating"):
            total, addresses = self._ranked(searcher, full, offset, size)
        else:
            field, order = {"price_asc": ("key_price_asc", tantivy.Order.Asc),
                            "price_desc": ("key_price_desc", tantivy.Order.Desc),
                            "newest": ("key_newest", tantivy.Order.Desc),
                            "rating": ("key_rating", tantivy.Order.Desc)}.get(
                query.sort, ("key_relevance", tantivy.Order.Desc))
            found = searcher.search(full, size, count=True, order_by_field=field, offset=offset, order=order)
            total, addresses = found.count, [address for _key, address in found.hits]
        hits = [orjson.loads(searcher.doc(address).get_first("body")) for address in addresses]
        return SearchResult(total=total, hits=hits, facets=self._facets(searcher, query, full, combined))

    @staticmethod
    def _ranked(searcher: tantivy.Searcher, query: Query, offset: int, size: int) -> tuple[int, list[Any]]:
        """Hits by score x boost; tantivy orders equal scores by their place in the index, so pages always
        partition the hits; within a page, equal scores are put in product id order."""
        found = searcher.search(query, size, count=True, offset=offset, weight_by_field="boost_weight")
        ids = searcher.fast_field_values("id", [address for _score, address in found.hits])
        ranked = sorted(zip(found.hits, ids), key=lambda item: (-item[0][0], item[1]))
        return found.count, [hit[1] for hit, _id in ranked]

    def _facets(self, searcher: tantivy.Searcher, query: SearchQuery, full: Query,
                combined: Callable[[str | None], Query]) -> dict[str, list[FacetValue]]:
        """Each facet ignores its own filter (multi-select): facets whose filter is unset come from one
        aggregation with the price buckets; each set one from its own."""
        fields = {"origin_country": "origin_country", "vendor": "vendor", "category": "category"}
        active = {"origin_country": bool(query.origin_countries), "category": query.category is not None,
                  "vendor": query.vendor_id is not None}
        terms = {name: {"terms": {"field": fields[name], "size": FACET_SIZE}} for name in FACET_FILTERS}
        main = {name: terms[name] for name in FACET_FILTERS if not active[name]}
        ranges = self._price_aggregation(query.price_ranges)
        if ranges:
            main["price"] = ranges
        answers = searcher.aggregate(full, main) if main else {}
        for name in FACET_FILTERS:
            if active[name]:
                answers.update(searcher.aggregate(combined(name), {name: terms[name]}))

        def ranked(name: str) -> list[FacetValue]:
            counts = [(bucket["key"], bucket["doc_count"]) for bucket in answers[name]["buckets"]]
            if name == "vendor":
                counts = [(int(key), n) for key, n in counts]
            return [FacetValue(value, n) for value, n in sorted(counts, key=lambda item: (-item[1], item[0])) if n]

        facets = {name: ranked(name) for name in FACET_FILTERS}
        if ranges:
            counts = {bucket["key"]: bucket["doc_count"] for bucket in answers["price"]["buckets"]}
            facets["price"] = [FacetValue(bucket, counts.get(f"r{i}", 0)) for i, bucket in enumerate(query.price_ranges)]
        else:
            facets["price"] = [FacetValue(bucket, self._count_in(searcher, query, full, bucket))
                               for bucket in query.price_ranges]
        return facets

    @staticmethod
    def _price_aggregation(buckets: tuple[tuple[int | None, int | None], ...]) -> dict | None:
        """A range aggregation when the buckets ascend without overlapping (the storefront's always do)."""
        if not buckets:
            return None
        edge = None
        for low, high in buckets:
            if (edge is not None and (low is None or low < edge)) or (low is not None and high is not None
                                                                       and high <= low):
                return None
            edge = high if high is not None else float("inf")
        ranges = []
        for i, (low, high) in enumerate(buckets):
            spec: dict[str, Any] = {"key": f"r{i}"}
            if low is not None:
                spec["from"] = low
            if high is not None:
                spec["to"] = high
            ranges.append(spec)
        return {"range": {"field": "price", "ranges": ranges}}

    @staticmethod
    def _count_in(searcher: tantivy.Searcher, query: SearchQuery, full: Query,
                  bucket: tuple[int | None, int | None]) -> int:
        low, high = bucket
        price = Query.range_query(SCHEMA, "price", tantivy.FieldType.Integer, low, high, True, False)
        both = Query.boolean_query([(Occur.Must, full), (Occur.Must, _filter(price))])
        return searcher.search(both, 1, count=True).count

    @staticmethod
    def _empty_facets(query: SearchQuery) -> dict[str, list[FacetValue]]:
        return {"origin_country": [], "vendor": [], "category": [],
                "price": [FacetValue(bucket, 0) for bucket in query.price_ranges]}

    def suggest(self, prefix: str, locale: str, limit: int = 8) -> list[str]:
        words = analysis.prefix_tokens(prefix)
        if not words:
            return []
        clauses = [(Occur.Must, _filter(_term("kind", "suggestion")))]
        clauses += [(Occur.Must, _term("s_words", word)) for word in words[:-1]]
        clauses.append((Occur.Must, Query.regex_query(SCHEMA, "s_words", words[-1] + ".*")))
        clauses.append((Occur.Should, Query.const_score_query(_term("s_locale", locale), SUGGEST_LOCALE_SCORE)))
        try:
            searcher = self._searcher()
            found = searcher.search(Query.boolean_query(clauses), limit * 3, count=False)
            titles = [searcher.doc(address).get_first("body").decode() for _score, address in found.hits]
        except ValueError as error:
            raise EngineUnavailable(f"tantivy search index: {error}") from error
        return list(dict.fromkeys(titles))[:limit]

    def generation(self) -> str | None:
        """The live index's name and commit stamp: changes with every commit from any process, and a swap."""
        try:
            name = self._current_name()
            return f"{name}:{self._opstamp(name)}"
        except EngineUnavailable:
            return None

    def health(self) -> dict[str, Any]:
        try:
            count = self._searcher().search(_term("kind", "product"), 1, count=True).count
            return {"status": "ok", "detail": f"tantivy ({self._current_name()})", "documents": count}
        except (ValueError, EngineUnavailable) as error:
            return {"status": "down", "detail": str(error), "documents": None}
