"""Engine-level settings: SQLite enforces foreign keys and waits on locks."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import event

from marketplace.extensions import db


def register_sqlite_pragmas(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name != "sqlite":
            return

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()
