"""Search benchmark on the embedded engine.

    python -m bench.search [--count 100000] [--duration 15] [--connections 32]

In a scratch directory: migrate, seed-demo, generate COUNT products, time
`flask search reindex`, then serve the app with gunicorn (2 workers) and drive
it on loopback with wrk: a trivial JSON endpoint (/api/v1/ping) and search
(a rotating set of multilingual queries, each with facets). Prints requests/s,
p50/p99 and the search/trivial ratio. Needs `wrk` (Debian package `wrk`).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from bench.catalog_words import QUERIES
from bench.serving import wait_for

ROOT = Path(__file__).resolve().parent.parent
PORT = 5077


def run(args: list[str], env: dict, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, env=env, check=True, **kwargs)


def parse_wrk(output: str) -> dict:
    def latency(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return {"rps": rps, "p50": latency("50"), "p99": latency("99"), "errors": int(non2xx.group(1)) if non2xx else 0}


def wrk(url: str, duration: int, connections: int, script: Path | None = None) -> dict:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s"]
    if script:
        args += ["-s", str(script)]
    output = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    return parse_wrk(output)


def lua_script(directory: Path) -> Path:
    paths = [f"/api/v1/search?{urllib.parse.urlencode({'q': q, 'locale': loc, 'currency': 'USD'})}"
             for loc, q in QUERIES]
    body = "paths = {" + ", ".join(f'"{p}"' for p in paths) + "}\n" + (
        "counter = 0\nrequest = function()\n  counter = counter + 1\n"
        "  return wrk.format(\"GET\", paths[(counter % #paths) + 1])\nend\n")
    path = directory / "search.lua"
    path.write_text(body)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")
    scratch = Path(tempfile.mkdtemp(prefix="buybrics-bench-"))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{scratch / 'bench.db'}", "SEARCH_INDEX_DIR": str(scratch / "search"),
           "APP_ENV": "development", "PYTHONPATH": str(ROOT)}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    run(flask + ["db", "upgrade"], env, capture_output=True)
    run(flask + ["seed-demo"], env, capture_output=True)
    run([sys.executable, "-m", "bench.generate", "--count", str(args.count)], env)
    started = time.perf_counter()
    run(flask + ["search", "reindex"], env)
    reindex_seconds = time.perf_counter() - started

    results = {}
    try:
        for label, cache_size in (("cached", "2048"), ("uncached", "0")):
            results[label] = serve_and_load({**env, "SEARCH_CACHE_SIZE": cache_size}, args, scratch)
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)

    print()
    print(f"catalog: {args.count} products; reindex {reindex_seconds:.1f} s "
          f"({args.count / reindex_seconds:.0f} products/s; target <= 60 s)")
    print(f"load: wrk, {args.connections} connections, {args.duration} s each, gunicorn 2 workers, embedded engine, "
          f"{len(QUERIES)} rotating multilingual queries with facets")
    print(f"{'run':<22} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'non-2xx':>8}")
    for label, (trivial, search) in results.items():
        for name, result in ((f"trivial ({label})", trivial), (f"search ({label})", search)):
            print(f"{name:<22} {result['rps']:>9.1f} {result['p50']:>9.2f} {result['p99']:>9.2f} {result['errors']:>8}")
    for label, (trivial, search) in results.items():
        print(f"{label}: search/trivial throughput ratio {search['rps'] / trivial['rps']:.2f} (target >= 0.5); "
              f"search p99 {search['p99']:.1f} ms (target <= 100 ms)")


def serve_and_load(env: dict, args: argparse.Namespace, scratch: Path) -> tuple[dict, dict]:
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{PORT}",
                               "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
    try:
        base = f"http://127.0.0.1:{PORT}"
        wait_for(base + "/api/v1/ping")
        for loc, q in QUERIES:  # warm both workers (jieba, stemmers, caches)
            for _ in range(10):
                urllib.request.urlopen(f"{base}/api/v1/search?{urllib.parse.urlencode({'q': q, 'locale': loc, 'currency': 'USD'})}").read()
        trivial = wrk(base + "/api/v1/ping", args.duration, args.connections)
        search = wrk(base + "/api/v1/search", args.duration, args.connections, lua_script(scratch))
    finally:
        server.terminate()
        server.wait(timeout=10)
    return trivial, search


if __name__ == "__main__":
    main()
