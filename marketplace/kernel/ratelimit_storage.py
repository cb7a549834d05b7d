"""Rate-limit counters in a SQLite file, shared by every process on one host (the embedded default).

Flask-Limiter's `memory://` storage keeps one budget per process, so two gunicorn workers allow twice
the limit. `RATELIMIT_STORAGE_URI=sqlite:////abs/path/ratelimit.db` (SQLAlchemy's spelling: three
slashes, then the path) keeps the counters in a small file of their own instead, apart from the
application database so that counting never waits for its write lock. Each change is one
`BEGIN IMMEDIATE` transaction (the file's write lock taken at its start, waiting up to `timeout`
seconds for it), so two processes counting at once never lose a hit. Fixed-window strategy only.

Several hosts need a storage they all reach: Redis (`RATELIMIT_STORAGE_URI=redis://...`).
Importing this module registers the `sqlite` scheme with the `limits` library.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from limits.errors import ConfigurationError
from limits.storage import Storage

SCHEME = "sqlite"
_PREFIX = f"{SCHEME}:///"
#: Expired counters are swept after this many new windows opened by one process.
SWEEP_EVERY = 500

_SCHEMA = ("CREATE TABLE IF NOT EXISTS rate_limit_counters ("
           "key TEXT PRIMARY KEY, hits INTEGER NOT NULL, expires_at REAL NOT NULL) WITHOUT ROWID")


class SQLiteStorage(Storage):
    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, timeout: float = 15.0,
                 **options: float | str | bool) -> None:
        path = (uri or "").removeprefix(_PREFIX)
        if not uri or not uri.startswith(_PREFIX) or not path or path == ":memory:" or "?" in path:
            raise ConfigurationError(f"a rate-limit storage URI needs a file: {SCHEME}:////abs/path/ratelimit.db, not {uri!r}")
        self.path = Path(path)
        self.timeout = float(timeout)
        self._local = threading.local()
        self._windows_opened = 0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        """One connection per thread of each process (a connection inherited through fork() is never used)."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            connection = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            self._enable_wal(connection)
            # Counters need no durability across a power cut; each commit need not wait for the disk.
            connection.execute("PRAGMA synchronous=OFF")
            connection.execute(_SCHEMA)
            local.connection, local.pid = connection, os.getpid()
        return local.connection

    def _enable_wal(self, connection: sqlite3.Connection) -> None:
        """Switch the file to WAL. Processes opening a new file at the same moment (the first requests to
        fresh workers) contend for it, and SQLite answers that contention at once, without its busy
        handler: so it is retried here, up to the busy timeout."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.005)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self._write() as connection:
            row = connection.execute("SELECT hits, expires_at FROM rate_limit_counters WHERE key = ?",
                                     (key,)).fetchone()
            if row is None or row[1] <= now:
                hits = amount
                connection.execute("INSERT OR REPLACE INTO rate_limit_counters (key, hits, expires_at) "
                                   "VALUES (?, ?, ?)", (key, hits, now + expiry))
                self._windows_opened += 1
                if self._windows_opened % SWEEP_EVERY == 0:
                    connection.execute("DELETE FROM rate_limit_counters WHERE expires_at <= ?", (now,))
            else:
                hits = row[0] + amount
                connection.execute("UPDATE rate_limit_counters SET hits = ? WHERE key = ?", (hits, key))
        return hits

    def get(self, key: str) -> int:
        row = self._connection().execute(
            "SELECT hits FROM rate_limit_counters WHERE key = ? AND expires_at > ?", (key, time.time())).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        row = self._connection().execute(
            "SELECT expires_at FROM rate_limit_counters WHERE key = ? AND expires_at > ?", (key, now)).fetchone()
        return row[0] if row else now

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        with self._write() as connection:
            return connection.execute("DELETE FROM rate_limit_counters").rowcount

    def clear(self, key: str) -> None:
        with self._write() as connection:
            connection.execute("DELETE FROM rate_limit_counters WHERE key = ?", (key,))
