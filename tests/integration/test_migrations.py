"""`flask db upgrade` on an empty database gives exactly the models' schema."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import database_url
from marketplace.kernel.extensions import db

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_ADMIN_URL = database_url(os.environ.get("POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))


def flask_db_upgrade(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "APP_ENV": "development"}
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)


def schema_drift(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, db.metadata)
    finally:
        engine.dispose()


@pytest.fixture
def empty_postgres_url():
    try:
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as error:  # no server on this machine
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {type(error).__name__}")
    name = f"buybrics_migrations_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_migrations_build_exactly_the_models_schema_on_sqlite(tmp_path, app):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    flask_db_upgrade(url)
    assert schema_drift(url) == []


@pytest.mark.postgres
def test_migrations_build_exactly_the_models_schema_on_postgresql(empty_postgres_url, app):
    flask_db_upgrade(empty_postgres_url)
    assert schema_drift(empty_postgres_url) == []


def test_drift_check_notices_a_model_change_without_migration(tmp_path, app):
    """The check itself works: a table missing from the migrations shows up as drift."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    flask_db_upgrade(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE vendor_status_changes"))
    engine.dispose()
    drift = schema_drift(url)
    assert any(op[0] == "add_table" and op[1].name == "vendor_status_changes" for op in drift)
