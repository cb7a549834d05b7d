"""A separate process for tests/integration/test_rate_limit_redis.py: one API server process's view.

    python -m tests.integration.limiter_process DB_URL STORAGE_URI KEY_PREFIX setup
    python -m tests.integration.limiter_process DB_URL STORAGE_URI KEY_PREFIX call API_KEY N

`setup` migrates the database and prints a new partner's key; `call` makes N
requests to /api/v1/partner/me and prints, as JSON, each answer's status and
rate-limit headers.
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from flask_migrate import upgrade

from config import DevelopmentConfig
from marketplace.app import create_app
from marketplace.kernel.extensions import db
from marketplace.partners import keys

ROOT = Path(__file__).resolve().parent.parent.parent


def main(db_url: str, storage_uri: str, key_prefix: str, mode: str, *args: str) -> None:
    app = create_app(DevelopmentConfig, {
        "SQLALCHEMY_DATABASE_URI": db_url, "SEARCH_INDEX_DIR": tempfile.mkdtemp(prefix="limiter-search-"),
        "RATELIMIT_STORAGE_URI": storage_uri, "RATELIMIT_KEY_PREFIX": key_prefix,
        "PARTNER_RATE_LIMIT": "3 per minute", "OUTBOX_DRAIN_INLINE": False})
    if mode == "setup":
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            _partner, key = keys.create_partner(db.session, "Rate limit test partner")
        print(key)
        return
    key, count = args
    client = app.test_client()
    answers = []
    for _ in range(int(count)):
        response = client.get("/api/v1/partner/me", headers={"Authorization": f"Bearer {key}"})
        answers.append({"status": response.status_code,
                        **{name: response.headers.get(name) for name in
                           ("RateLimit-Limit", "RateLimit-Remaining", "Retry-After")}})
    print(json.dumps(answers))


if __name__ == "__main__":
    main(*sys.argv[1:])
