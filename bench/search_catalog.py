"""The search benchmarks' scratch catalog: a SQLite database and a search index in one directory.

`prepare(directory, count)` migrates, runs seed-demo, generates `count` products (bench.generate) and
times `flask search reindex` into the embedded engine's index; `ensure_index(directory, backend)` builds
(and times) another engine's index beside it, in its own directory (ENGINES). A directory already
prepared for the same count is reused as it is (index build times are read back from `catalog.json`),
so `bench.search` and `bench.search_engines` can share one catalog (`--scratch DIR`).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: SEARCH_BACKEND -> its index directory inside the scratch directory
ENGINES = {"embedded": "search", "tantivy": "search-tantivy"}


def environment(directory: Path, backend: str = "embedded", **extra: str) -> dict[str, str]:
    """The environment of a process that uses the scratch catalog (app, flask commands, gunicorn)."""
    return {**os.environ, "DATABASE_URL": f"sqlite:///{directory / 'bench.db'}", "SEARCH_BACKEND": backend,
            "SEARCH_INDEX_DIR": str(directory / ENGINES[backend]), "APP_ENV": "development",
            "PYTHONPATH": str(ROOT), **extra}


def _recorded(directory: Path) -> dict | None:
    marker = directory / "catalog.json"
    if not marker.exists():
        return None
    recorded = json.loads(marker.read_text())
    if not isinstance(recorded["reindex_seconds"], dict):
        recorded["reindex_seconds"] = {"embedded": recorded["reindex_seconds"]}
    return recorded


def _record(directory: Path, count: int, backend: str, seconds: float) -> None:
    recorded = _recorded(directory) or {"count": count, "reindex_seconds": {}}
    recorded["reindex_seconds"][backend] = seconds
    (directory / "catalog.json").write_text(json.dumps(recorded))


def flask(args: list[str], env: dict[str, str], quiet: bool = True) -> None:
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env, check=True,
                   capture_output=quiet)


def reindex(env: dict[str, str]) -> float:
    """Seconds `flask search reindex` takes (the whole command, start-up included)."""
    started = time.perf_counter()
    flask(["search", "reindex"], env, quiet=False)
    return time.perf_counter() - started


def prepare(directory: Path, count: int) -> float:
    """Make (or reuse) the catalog in `directory`; return the embedded reindex time in seconds."""
    recorded = _recorded(directory)
    if recorded:
        if recorded["count"] == count:
            print(f"reusing the catalog in {directory} ({count} products)", flush=True)
            return recorded["reindex_seconds"]["embedded"]
        raise SystemExit(f"{directory} holds {recorded['count']} products, not {count}: use another directory")
    directory.mkdir(parents=True, exist_ok=True)
    env = environment(directory)
    flask(["db", "upgrade"], env)
    flask(["seed-demo"], env)
    subprocess.run([sys.executable, "-m", "bench.generate", "--count", str(count)], cwd=ROOT, env=env, check=True)
    seconds = reindex(env)
    _record(directory, count, "embedded", seconds)
    return seconds


def ensure_index(directory: Path, backend: str) -> float:
    """Build `backend`'s index of the prepared catalog unless built already; return its reindex seconds.
    Raises subprocess.CalledProcessError when the command fails (e.g. a backend this tree lacks)."""
    recorded = _recorded(directory)
    if recorded is None:
        raise SystemExit(f"{directory} holds no prepared catalog")
    if backend not in recorded["reindex_seconds"]:
        _record(directory, recorded["count"], backend, reindex(environment(directory, backend)))
    return _recorded(directory)["reindex_seconds"][backend]
