"""The search benchmarks' scratch catalog: a SQLite database and a search index in one directory.

`prepare(directory, count)` migrates, runs seed-demo, generates `count` products (bench.generate) and
times `flask search reindex`. A directory already prepared for the same count is reused as it is (its
reindex time is read back), so `bench.search` and `bench.search_engines` can share one catalog
(`--scratch DIR`).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def environment(directory: Path, **extra: str) -> dict[str, str]:
    """The environment of a process that uses the scratch catalog (app, flask commands, gunicorn)."""
    return {**os.environ, "DATABASE_URL": f"sqlite:///{directory / 'bench.db'}",
            "SEARCH_INDEX_DIR": str(directory / "search"), "APP_ENV": "development", "PYTHONPATH": str(ROOT),
            **extra}


def flask(args: list[str], env: dict[str, str], quiet: bool = True) -> None:
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env, check=True,
                   capture_output=quiet)


def reindex(env: dict[str, str]) -> float:
    """Seconds `flask search reindex` takes (the whole command, start-up included)."""
    started = time.perf_counter()
    flask(["search", "reindex"], env, quiet=False)
    return time.perf_counter() - started


def prepare(directory: Path, count: int) -> float:
    """Make (or reuse) the catalog in `directory`; return the reindex time in seconds."""
    marker = directory / "catalog.json"
    if marker.exists():
        recorded = json.loads(marker.read_text())
        if recorded["count"] == count:
            print(f"reusing the catalog in {directory} ({count} products)", flush=True)
            return recorded["reindex_seconds"]
        raise SystemExit(f"{directory} holds {recorded['count']} products, not {count}: use another directory")
    directory.mkdir(parents=True, exist_ok=True)
    env = environment(directory)
    flask(["db", "upgrade"], env)
    flask(["seed-demo"], env)
    subprocess.run([sys.executable, "-m", "bench.generate", "--count", str(count)], cwd=ROOT, env=env, check=True)
    seconds = reindex(env)
    marker.write_text(json.dumps({"count": count, "reindex_seconds": seconds}))
    return seconds
