"""Engine-level settings.

SQLite has no row locks (`SELECT ... FOR UPDATE` does nothing), and the default runs several processes on
one database file. So every transaction that may write takes SQLite's write lock when it starts
(`BEGIN IMMEDIATE`, waiting up to `SQLITE_BUSY_TIMEOUT_MS` for it): a check-then-write is atomic across
processes, as it is on PostgreSQL with its row locks. Requests with a safe method (GET, HEAD, OPTIONS)
begin deferred transactions, so readers never queue behind writers (WAL lets them read meanwhile).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import Flask, has_request_context, request
from sqlalchemy import event

from marketplace.kernel.extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_reading_only: ContextVar[bool] = ContextVar("reading_only", default=False)


@contextmanager
def read_only() -> Iterator[None]:
    """Transactions begun in this block only read: on SQLite they begin deferred, so a long read (a search
    reindex scanning the catalog) never holds the write lock that every other writer waits for."""
    token = _reading_only.set(True)
    try:
        yield
    finally:
        _reading_only.reset(token)


def writes_expected() -> bool:
    """Whether the transaction about to begin may write: not inside `read_only()`; outside a request
    (worker, CLI) always; in a request, unless its method is safe."""
    if _reading_only.get():
        return False
    return not has_request_context() or request.method not in SAFE_METHODS


def register_sqlite_pragmas(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name != "sqlite":
            return
        busy_timeout = int(app.config.get("SQLITE_BUSY_TIMEOUT_MS", 15000))

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):
            # The driver's own transaction handling is off: the "begin" listener below says how to begin.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={busy_timeout}")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection):
            connection.exec_driver_sql("BEGIN IMMEDIATE" if writes_expected() else "BEGIN")
