"""Fixtures: one app per test session, a clean database for every test.

The database is `TEST_DATABASE_URL` when set (the CI's second run points it
at PostgreSQL; everything in that database is dropped first), otherwise a
fresh SQLite file. The schema is built by the Alembic migrations, as in
production.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from flask_migrate import upgrade
from hypothesis import HealthCheck, settings
from sqlalchemy import text

from config import TestingConfig, database_url
from marketplace.app import create_app
from marketplace.kernel import clock
from marketplace.kernel.extensions import db as _db
from marketplace.kernel.extensions import limiter
from marketplace.rates import services as rates_services
from tests.factories import Factory

# Property tests: enough examples to find edge cases, few enough for two database runs in CI.
# A test's own @settings still wins; HYPOTHESIS_PROFILE=thorough runs the library default.
settings.register_profile("suite", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))

#: Tables whose rows come from migrations (reference data), never truncated.
REFERENCE_TABLES = {"alembic_version", "categories"}


def _test_database_url(tmp_dir: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    return database_url(url) if url else f"sqlite:///{tmp_dir / 'test.db'}"


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def app():
    tmp_dir = Path(tempfile.mkdtemp(prefix="buybrics-test-"))
    url = _test_database_url(tmp_dir)
    if url.startswith("postgresql"):
        _reset_postgres(url)
    app = create_app(TestingConfig, {"SQLALCHEMY_DATABASE_URI": url, "SEARCH_INDEX_DIR": str(tmp_dir / "search")})
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    yield app
    with app.app_context():
        _db.engine.dispose()


def _truncate(app) -> None:
    with app.app_context():
        tables = [t for t in reversed(_db.metadata.sorted_tables) if t.name not in REFERENCE_TABLES]
        with _db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(table.delete())


@pytest.fixture(autouse=True)
def _isolation(request):
    """Every test starts with empty tables, an unfrozen clock and fresh rate limits."""
    yield
    clock.freeze(None)
    rates_services.forget_table()  # the process-wide rate table must not outlive the truncated rows
    if "app" in request.fixturenames:
        app = request.getfixturevalue("app")
        with app.app_context():
            _db.session.remove()
            limiter.reset()
            app.extensions["search_engine"].reindex([])  # an empty index
        _truncate(app)


@pytest.fixture
def db(app):
    with app.app_context():
        yield _db
        _db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make(app, client):
    """Builders for valid objects in one line: make.user(), make.vendor(), make.rates() ..."""
    return Factory(app, client)


def pytest_report_header(config):
    url = os.environ.get("TEST_DATABASE_URL")
    return f"database: {'PostgreSQL at ' + url if url else 'SQLite (temporary file)'}"


# -- parallel runs (pytest-xdist: `scripts/test` runs one worker per core) ------------------------------------

def _database_beside(url: str, suffix: str) -> str:
    """A PostgreSQL database named `<the url's database><suffix>` on the same server (created when missing)."""
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    base = make_url(database_url(url))
    name = f"{base.database}{suffix}"
    conninfo = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return base.set(drivername="postgresql", database=name).render_as_string(hide_password=False)


def pytest_configure(config):
    """Under xdist every worker gets its own database: SQLite runs already use a temporary file each; with
    PostgreSQL, worker gw1 uses `<TEST_DATABASE_URL's database>_gw1` beside it (whose schema it drops)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get("TEST_DATABASE_URL")
    if worker and url and url.startswith("postgres"):
        os.environ["TEST_DATABASE_URL"] = _database_beside(url, f"_{worker}")


def pytest_collection_modifyitems(config, items):
    """Tests of one file run on one xdist worker, in order (`--dist loadgroup`); the journey suite shares one
    running system, so all of it runs on one worker."""
    journeys = Path(__file__).resolve().parent / "journeys"
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            path = Path(str(item.fspath)).resolve()
            group = "journeys" if journeys in path.parents else str(path.relative_to(journeys.parent))
            item.add_marker(pytest.mark.xdist_group(group))
