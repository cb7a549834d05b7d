"""Search benchmark: a festival's long-tail query log against the served app, beside a trivial endpoint.

    python -m bench.search [--count 100000] [--queries 10000] [--seed 2026] [--duration 15]
                           [--connections 32] [--suggest 500] [--also-uncached] [--backend embedded]
                           [--scratch DIR]

In a scratch directory (bench.search_catalog): migrate, seed-demo, generate COUNT products and time
`flask search reindex` (into --backend's index: the embedded engine by default). Then serve the app with
gunicorn (2 workers, default search settings: the answer cache on, SEARCH_CACHE_SIZE unset) and, at CONNECTIONS connections for DURATION seconds each, drive
the trivial JSON endpoint (/api/v1/ping), then search with QUERIES distinct long-tail queries sent in a
Zipf-like order (bench.search_queries: 1-3 words in nine locales, typos, filters by country, price
range and stock, sorts, pages 2-5, several currencies, filter-only browsing). Finally suggest, one
request at a time, with prefixes of product titles. Prints requests/s, p50/p99 for both, the
search/trivial ratio, suggest p50/p99 and the reindex time beside the issue's targets.

The load comes from wrk when it is on PATH, else from a small asyncio client (bench.search_load); the
output says which. --scratch keeps the catalog in DIR and reuses it on the next run with the same count
(bench.search_engines takes the same option).
"""
from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

from bench import search_catalog, search_load
from bench.catalog_words import ADJECTIVES, MATERIALS, NOUNS
from bench.search_queries import distinct_queries, mix_summary, zipf_sequence
from bench.serving import wait_for

ROOT = Path(__file__).resolve().parent.parent
HOST, PORT = "127.0.0.1", 5077


def suggest_paths(count: int, seed: int) -> list[str]:
    """Prefixes (2-5 characters) of the words product titles are made of, in their locales."""
    rng = random.Random(seed)
    paths = []
    for _ in range(count):
        locale = rng.choice(list(NOUNS))
        word = rng.choice(rng.choice((ADJECTIVES, MATERIALS, NOUNS))[locale])
        prefix = word[:rng.randint(2, 5)]
        paths.append(f"/api/v1/search/suggest?{urllib.parse.urlencode({'q': prefix, 'locale': locale})}")
    return paths


def repeats(paths: list[str], sequence: list[int], connections: int, sent: int) -> float:
    """Share of the `sent` search requests that repeated a query sent earlier in the run (an upper bound
    on what an answer cache could have served), assuming the connections advanced evenly."""
    per_connection = -(-sent // connections)
    starts = [i * len(sequence) // connections for i in range(connections)]
    seen: Counter = Counter()
    repeated = total = 0
    for step in range(per_connection):
        for start in starts:
            if total >= sent:
                break
            key = sequence[(start + step) % len(sequence)]
            repeated += seen[key] > 0
            seen[key] += 1
            total += 1
    return repeated / total if total else 0.0


def serve_and_load(env: dict, args: argparse.Namespace, search_paths: list[str], sequence: list[int],
                   scratch: Path) -> dict:
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"{HOST}:{PORT}",
                               "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
    try:
        base = f"http://{HOST}:{PORT}"
        wait_for(base + "/api/v1/ping")
        # Warm both workers (jieba, stemmers, the rate table) with queries the measured sequence does not
        # start with; the answer cache keeps only these few.
        for path in search_paths[-20:]:
            urllib.request.urlopen(base + path).read()
        trivial = search_load.drive(HOST, PORT, ["/api/v1/ping"], args.duration, args.connections, scratch)
        paths = [search_paths[i] for i in sequence]
        search = search_load.drive(HOST, PORT, paths, args.duration, args.connections, scratch)
        suggest = search_load.sequential(HOST, PORT, suggest_paths(args.suggest, args.seed))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"trivial": trivial, "search": search, "suggest": suggest,
            "repeats": repeats(paths, sequence, args.connections, search.requests)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000, help="generated products")
    parser.add_argument("--queries", type=int, default=10_000, help="distinct search queries")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--duration", type=int, default=15, help="seconds per load run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--suggest", type=int, default=500, help="suggest requests (one at a time)")
    parser.add_argument("--also-uncached", action="store_true", help="repeat with SEARCH_CACHE_SIZE=0")
    parser.add_argument("--backend", default="embedded", choices=list(search_catalog.ENGINES),
                        help="SEARCH_BACKEND the served app uses")
    parser.add_argument("--scratch", type=Path, help="keep (and reuse) the catalog in this directory")
    args = parser.parse_args()

    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="buybrics-bench-"))
    queries = distinct_queries(args.queries, args.seed)
    sequence = zipf_sequence(args.queries, args.seed)
    search_paths = [q.path() for q in queries]
    results = {}
    try:
        reindex_seconds = search_catalog.prepare(scratch, args.count)
        if args.backend != "embedded":
            reindex_seconds = search_catalog.ensure_index(scratch, args.backend)
        runs = [("default cache", {})] + ([("uncached", {"SEARCH_CACHE_SIZE": "0"})] if args.also_uncached else [])
        for label, extra in runs:
            env = search_catalog.environment(scratch, args.backend, **extra)
            results[label] = serve_and_load(env, args, search_paths, sequence, scratch)
    finally:
        if not args.scratch:
            shutil.rmtree(scratch, ignore_errors=True)

    print()
    print(f"catalog: {args.count} products; flask search reindex ({args.backend}) {reindex_seconds:.1f} s "
          f"(target <= 60 s at 100k)")
    print(f"queries: {mix_summary(queries, sequence)}")
    print(f"load: {search_load.tool()}, {args.connections} connections, {args.duration} s per endpoint, "
          f"gunicorn 2 workers (sync), {args.backend} engine")
    print(f"{'run':<30} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'errors':>7}")
    for label, result in results.items():
        for name in ("trivial", "search"):
            r = result[name]
            print(f"{name + ' (' + label + ')':<30} {r.rps:>9.1f} {r.p50:>9.2f} {r.p99:>9.2f} {r.errors:>7}")
        r = result["suggest"]
        print(f"{'suggest, 1 at a time (' + label + ')':<30} {r.rps:>9.1f} {r.p50:>9.2f} {r.p99:>9.2f} {r.errors:>7}")
    for label, result in results.items():
        trivial, search, suggest = result["trivial"], result["search"], result["suggest"]
        print(f"{label}: search/trivial throughput {search.rps:.1f}/{trivial.rps:.1f} = {search.rps / trivial.rps:.3f} "
              f"(target >= 0.25); search p99 {search.p99:.0f} ms (target <= 100 ms); suggest p99 {suggest.p99:.1f} ms "
              f"(target <= 10 ms); {search.requests} searches sent, {100 * result['repeats']:.0f}% of them a query "
              f"already sent in this run")
        for name in ("trivial", "search", "suggest"):
            if result[name].statuses:
                print(f"{label}: {name} errors by status: {dict(result[name].statuses)}")


if __name__ == "__main__":
    main()
