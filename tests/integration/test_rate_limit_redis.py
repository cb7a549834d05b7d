"""Partner rate limits with Redis storage (production): two API processes share one budget.

Each process is a real separate interpreter (tests/integration/limiter_process.py)
with `RATELIMIT_STORAGE_URI` pointing at Redis; skipped where no Redis runs.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"no Redis at {REDIS_URL} (set TEST_REDIS_URL): {error}")
    yield client
    client.close()


def process(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "tests.integration.limiter_process", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "APP_ENV": "development"})
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def test_two_processes_share_one_partner_budget_in_redis(tmp_path, redis_client):
    prefix = f"buybrics-test-{uuid.uuid4().hex[:12]}"
    common = (f"sqlite:///{tmp_path / 'limits.db'}", REDIS_URL, prefix)
    try:
        key = process(*common, "setup")

        first = json.loads(process(*common, "call", key, "2"))
        second = json.loads(process(*common, "call", key, "2"))

        assert [a["status"] for a in first] == [200, 200]
        assert [a["RateLimit-Remaining"] for a in first] == ["2", "1"]
        assert all(a["RateLimit-Limit"] == "3" for a in first + second)
        # the second process starts from what the first one used: one call left, then 429
        assert [a["status"] for a in second] == [200, 429]
        assert second[0]["RateLimit-Remaining"] == "0"
        assert int(second[1]["Retry-After"]) > 0
        assert any(prefix in k.decode() for k in redis_client.scan_iter(f"*{prefix}*"))
    finally:
        for k in redis_client.scan_iter(f"*{prefix}*"):
            redis_client.delete(k)
