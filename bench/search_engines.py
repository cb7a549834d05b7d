"""Search engines compared query by query: single-threaded, uncached, on one catalog and one query log.

    python -m bench.search_engines [--count 100000] [--queries 2000] [--seed 2026] [--engines embedded,tantivy]
                                   [--scratch DIR]

The catalog is bench.search's (bench.search_catalog; --scratch shares it with bench.search). The queries
are the first QUERIES distinct queries of bench.search_queries for the seed, each asked once. For every
engine in --engines (bench.search_catalog.ENGINES: a SEARCH_BACKEND and its index directory), an app is built
with that backend and SEARCH_CACHE_SIZE=0, and each query is timed twice, after a warm-up pass:

- engine: the engine's `search(SearchQuery)` alone (the SearchQuery the service built for the query);
- service: `marketplace.storefront.search.cache.rendered` (arguments loaded by SearchArgs as the route
  does, then `querying.search`, the schema dump and the JSON bytes; the answer cache is disabled),
  each in a fresh app context, as a request has.

Prints mean and p99 ms per query for text queries, filter-only browsing and all, and, per engine beside
the first, how many answers had the same total, the same facets and the same first page of products.
An engine whose backend this tree does not know (or that fails to start) is reported as not available.
An engine other than the embedded one gets its own index (`flask search reindex`, timed) the first time.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask

from bench import search_catalog
from bench.search_load import percentile
from bench.search_queries import Query, distinct_queries
from config import database_url
from marketplace.app import create_app
from marketplace.kernel.extensions import db
from marketplace.storefront.schemas import SearchArgs
from marketplace.storefront.search import cache
from marketplace.storefront.search.engine import SearchQuery, SearchResult

class Recording:
    """An engine that remembers the queries it was asked and the answers it gave."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.asked: list[tuple[SearchQuery, SearchResult]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def search(self, query: SearchQuery) -> SearchResult:
        result = self.inner.search(query)
        self.asked.append((query, result))
        return result


@dataclass
class Timings:
    engine_ms: list[float] = field(default_factory=list)
    service_ms: list[float] = field(default_factory=list)
    answers: list[tuple] = field(default_factory=list)   # (total, facets, first page ids) per query
    reindex_seconds: float | None = None


def build_app(backend: str, scratch: Path) -> Flask:
    return create_app(overrides={
        "SQLALCHEMY_DATABASE_URI": database_url(f"sqlite:///{scratch / 'bench.db'}"), "SEARCH_BACKEND": backend,
        "SEARCH_INDEX_DIR": str(scratch / search_catalog.ENGINES[backend]), "SEARCH_CACHE_SIZE": 0})


def answer(result: SearchResult) -> tuple:
    facets = {name: [(f.value, f.count) for f in values] for name, values in sorted(result.facets.items())}
    return result.total, json.dumps(facets, sort_keys=True, default=str), [doc["id"] for doc in result.hits]


def measure(app: Flask, queries: list[Query]) -> Timings:
    timings = Timings()
    engine = app.extensions["search_engine"]
    recording = app.extensions["search_engine"] = Recording(engine)
    loaded = []
    try:
        for query in queries:   # warm-up: caches, jieba, the pages of the index; records what the engine is asked
            with app.app_context():
                args = SearchArgs().load(query.args())
                loaded.append(args)
                cache.rendered(db.session, args, query.get("locale"))
                db.session.remove()
    finally:
        app.extensions["search_engine"] = engine
    if len(recording.asked) != len(queries):
        raise SystemExit(f"the service asked the engine {len(recording.asked)} times for {len(queries)} queries")
    timings.answers = [answer(result) for _, result in recording.asked]
    for search_query, _ in recording.asked:
        started = time.perf_counter()
        engine.search(search_query)
        timings.engine_ms.append((time.perf_counter() - started) * 1000)
    for query, args in zip(queries, loaded):
        started = time.perf_counter()
        with app.app_context():
            cache.rendered(db.session, args, query.get("locale"))
            db.session.remove()
        timings.service_ms.append((time.perf_counter() - started) * 1000)
    return timings


def line(label: str, values: list[float]) -> str:
    if not values:
        return f"{label:<30} {'-':>9} {'-':>9}"
    return f"{label:<30} {statistics.fmean(values):>9.2f} {percentile(values, 0.99):>9.2f}"


def report(name: str, timings: Timings, queries: list[Query], reference: Timings | None) -> None:
    browse = [q.browse for q in queries]
    print(f"\n{name} (flask search reindex {timings.reindex_seconds:.1f} s)")
    print(f"{'':<30} {'mean ms':>9} {'p99 ms':>9}")
    for layer, values in (("engine", timings.engine_ms), ("service", timings.service_ms)):
        print(line(f"{layer}: all", values))
        print(line(f"{layer}: text queries", [v for v, b in zip(values, browse) if not b]))
        print(line(f"{layer}: filter-only browsing", [v for v, b in zip(values, browse) if b]))
    if reference is not None:
        pairs = list(zip(timings.answers, reference.answers))
        same = [sum(1 for mine, theirs in pairs if mine[i] == theirs[i]) for i in range(3)]
        same_set = sum(1 for mine, theirs in pairs if set(mine[2]) == set(theirs[2]))
        print(f"same answers as the first engine: totals {same[0]}/{len(pairs)}, facets {same[1]}/{len(pairs)}, "
              f"first page in the same order {same[2]}/{len(pairs)}, as a set {same_set}/{len(pairs)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000, help="generated products")
    parser.add_argument("--queries", type=int, default=2_000, help="distinct queries, each asked once")
    parser.add_argument("--seed", type=int, default=2026)
    engines = search_catalog.ENGINES
    parser.add_argument("--engines", default=",".join(engines), help=f"comma-separated, of {', '.join(engines)}")
    parser.add_argument("--scratch", type=Path, help="keep (and reuse) the catalog in this directory")
    args = parser.parse_args()
    names = [name.strip() for name in args.engines.split(",") if name.strip()]
    unknown = [name for name in names if name not in engines]
    if unknown:
        raise SystemExit(f"unknown engines {unknown}: choose from {', '.join(engines)}")

    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="buybrics-bench-"))
    queries = distinct_queries(args.queries, args.seed)
    results: dict[str, Timings] = {}
    unavailable: dict[str, str] = {}
    try:
        search_catalog.prepare(scratch, args.count)
        for name in names:
            try:
                app = build_app(name, scratch)
                reindex_seconds = search_catalog.ensure_index(scratch, name)
            except (RuntimeError, ImportError, OSError, ValueError, subprocess.CalledProcessError) as error:
                unavailable[name] = f"{type(error).__name__}: {error}"
                continue
            results[name] = measure(app, queries)
            results[name].reindex_seconds = reindex_seconds
    finally:
        if not args.scratch:
            shutil.rmtree(scratch, ignore_errors=True)

    browsing = sum(1 for q in queries if q.browse)
    print(f"\ncatalog: {args.count} products; {len(queries)} distinct queries (seed {args.seed}; {browsing} "
          f"filter-only browsing), each asked once, single-threaded, answer cache disabled (SEARCH_CACHE_SIZE=0)")
    print("targets (whole service, browsing included): mean <= 5 ms, p99 <= 25 ms")
    reference = None
    for name, timings in results.items():
        report(name, timings, queries, reference)
        reference = reference or timings
    for name, reason in unavailable.items():
        print(f"\n{name}: not available in this tree ({reason})")


if __name__ == "__main__":
    main()
