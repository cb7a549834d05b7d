"""Rate limits on the embedded default are shared by every process (no Redis needed).

gunicorn runs several worker processes; with per-process counters, 5 failed logins a minute became 5 per
worker. Each "process" here is a separate interpreter running this module (`python -m
tests.integration.test_login_limits_processes MODE ...`), with the default storage kind: a SQLite file.

    setup DB_URL STORAGE_URI                          migrate, create owner@example.com
    login DB_URL STORAGE_URI EMAIL PASSWORD ADDRESS N  N logins; prints [[status, Retry-After], ...]
    register DB_URL STORAGE_URI ADDRESS N TAG START    N sign-ups from START (epoch seconds); prints statuses
    incr STORAGE_URI KEY N START                       N hits on one counter from START; prints the counts seen
"""
from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
OWNER = "owner@example.com"
PASSWORD = "correct-horse-battery"
WRONG = "wrong-password-x"


# ------------------------------------------------------------------ the separate processes


def _app(db_url: str, storage_uri: str):
    from config import DevelopmentConfig
    from marketplace.app import create_app

    return create_app(DevelopmentConfig, {
        "SQLALCHEMY_DATABASE_URI": db_url, "SEARCH_INDEX_DIR": tempfile.mkdtemp(prefix="login-limits-search-"),
        "RATELIMIT_STORAGE_URI": storage_uri, "OUTBOX_DRAIN_INLINE": False,
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1"})


def _wait_until(start: str) -> None:
    time.sleep(max(0.0, float(start) - time.time()))


def main(mode: str, *args: str) -> None:
    if mode == "incr":
        from marketplace.kernel.ratelimit_storage import SQLiteStorage

        storage_uri, key, count, start = args
        storage = SQLiteStorage(storage_uri)
        storage.get(key)  # connect before the start line
        _wait_until(start)
        print(json.dumps([storage.incr(key, 600) for _ in range(int(count))]))
        return
    db_url, storage_uri, *rest = args
    app = _app(db_url, storage_uri)
    if mode == "setup":
        from flask_migrate import upgrade

        from marketplace.accounts import services
        from marketplace.kernel.extensions import db

        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            services.create_user(db.session, OWNER, PASSWORD, "shopper")
        print(json.dumps("ready"))
        return
    client = app.test_client()
    if mode == "login":
        email, password, address, count = rest
        answers = []
        for _ in range(int(count)):
            response = client.post("/api/v1/auth/token", json={"email": email, "password": password},
                                   environ_base={"REMOTE_ADDR": address})
            answers.append([response.status_code, response.headers.get("Retry-After")])
        print(json.dumps(answers))
    elif mode == "register":
        address, count, tag, start = rest
        _wait_until(start)
        statuses = [client.post("/api/v1/auth/register", environ_base={"REMOTE_ADDR": address},
                                json={"email": f"{tag}-{n}@example.com", "password": PASSWORD,
                                      "role": "shopper"}).status_code
                    for n in range(int(count))]
        print(json.dumps(statuses))


# ------------------------------------------------------------------ the tests


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "tests.integration.test_login_limits_processes", *args]


def _env() -> dict[str, str]:
    env = {**os.environ, "APP_ENV": "development"}
    for name in ("LOGIN_LIMIT_PER_ADDRESS", "LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS", "LOGIN_LIMIT_PER_ACCOUNT",
                 "REGISTER_LIMIT_PER_ADDRESS", "RATELIMIT_STORAGE_URI"):
        env.pop(name, None)  # the defaults are what is tested
    return env


def process(*args: str):
    done = subprocess.run(_command(*args), cwd=ROOT, capture_output=True, text=True, timeout=180, env=_env())
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def in_parallel(*commands: tuple[str, ...]) -> list:
    running = [subprocess.Popen(_command(*c), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=_env()) for c in commands]
    results = []
    for proc in running:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


@pytest.fixture
def site(tmp_path):
    """An app database and the limit storage (a SQLite file) two processes share."""
    common = (f"sqlite:///{tmp_path / 'app.db'}", f"sqlite:///{tmp_path / 'ratelimit.db'}")
    assert process("setup", *common) == "ready"
    return common


def test_the_default_storage_is_a_shared_file_not_per_process_memory():
    if os.environ.get("RATELIMIT_STORAGE_URI"):
        pytest.skip("RATELIMIT_STORAGE_URI is set in this environment")
    from limits.storage import storage_from_string

    from config import BASE_DIR, DevelopmentConfig, ProductionConfig
    from marketplace.kernel.ratelimit_storage import SQLiteStorage

    for config in (DevelopmentConfig, ProductionConfig):
        assert config.RATELIMIT_STORAGE_URI == f"sqlite:///{BASE_DIR / 'instance' / 'ratelimit.db'}"
    assert isinstance(storage_from_string(f"sqlite:///{tempfile.mkdtemp()}/limits.db"), SQLiteStorage)


def test_failed_logins_in_one_process_count_in_another(site):
    first = process("login", *site, OWNER, WRONG, "203.0.113.7", "3")
    second = process("login", *site, OWNER, WRONG, "203.0.113.7", "2")
    # The owner's own password from the attacker's address: refused, the 5 failures were shared.
    refused = process("login", *site, OWNER, PASSWORD, "203.0.113.7", "1")
    owner_elsewhere = process("login", *site, OWNER, PASSWORD, "192.0.2.44", "1")

    assert [status for status, _ in first + second] == [401] * 5
    assert refused[0][0] == 429 and 0 < int(refused[0][1]) <= 60
    assert owner_elsewhere[0][0] == 200


def test_register_limit_holds_across_processes_signing_up_at_once(site):
    start = str(time.time() + 4)
    tag = uuid.uuid4().hex[:8]
    first, second = in_parallel(("register", *site, "203.0.113.7", "8", f"{tag}a", start),
                                ("register", *site, "203.0.113.7", "8", f"{tag}b", start))

    assert sorted(first + second) == [202] * 10 + [429] * 6


def test_two_processes_hitting_one_counter_lose_no_hit(tmp_path):
    uri = f"sqlite:///{tmp_path / 'ratelimit.db'}"
    start = str(time.time() + 3)
    first, second = in_parallel(("incr", uri, "k", "400", start), ("incr", uri, "k", "400", start))

    # Every hit saw a distinct count: no two processes read the same value and wrote it back.
    assert sorted(first + second) == list(range(1, 801))


def test_two_processes_share_one_partner_budget_on_the_default_storage(tmp_path):
    common = (f"sqlite:///{tmp_path / 'limits.db'}", f"sqlite:///{tmp_path / 'ratelimit.db'}", "")

    def partner_process(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "tests.integration.limiter_process", *common, *args],
                              cwd=ROOT, capture_output=True, text=True, timeout=180, env=_env())
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout.strip().splitlines()[-1]

    key = partner_process("setup")
    first = json.loads(partner_process("call", key, "2"))
    second = json.loads(partner_process("call", key, "2"))

    assert [a["status"] for a in first] == [200, 200]
    assert [a["status"] for a in second] == [200, 429]
    assert int(second[1]["Retry-After"]) > 0


def _hit_in_child(storage, key, queue) -> None:
    queue.put(storage.incr(key, 600))


def test_a_storage_inherited_through_fork_opens_its_own_connection(tmp_path):
    """gunicorn --preload builds the app (and its storage) before forking the workers."""
    from marketplace.kernel.ratelimit_storage import SQLiteStorage

    storage = SQLiteStorage(f"sqlite:///{tmp_path / 'ratelimit.db'}")
    assert storage.incr("k", 600) == 1
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    children = [context.Process(target=_hit_in_child, args=(storage, "k", queue)) for _ in range(2)]
    for child in children:
        child.start()
    for child in children:
        child.join(30)
        assert child.exitcode == 0

    assert sorted(queue.get(timeout=5) for _ in children) == [2, 3]
    assert storage.incr("k", 600) == 4


def test_storage_expires_windows_and_resets(tmp_path):
    from marketplace.kernel.ratelimit_storage import SQLiteStorage

    storage = SQLiteStorage(f"sqlite:///{tmp_path / 'ratelimit.db'}")
    assert [storage.incr("short", 1) for _ in range(3)] == [1, 2, 3]
    assert storage.get("short") == 3 and storage.get_expiry("short") > time.time()
    time.sleep(1.1)
    assert storage.get("short") == 0
    assert storage.incr("short", 1) == 1  # a new window
    storage.incr("other", 600)
    storage.clear("other")
    assert storage.get("other") == 0
    storage.incr("other", 600)
    storage.reset()  # what tests/conftest.py calls between tests, through limiter.reset()
    assert storage.get("short") == storage.get("other") == 0
    assert storage.check()


@pytest.mark.parametrize("uri", ["sqlite://", "sqlite:///:memory:", "sqlite:///"])
def test_storage_refuses_a_location_other_processes_cannot_share(uri):
    from limits.errors import ConfigurationError

    from marketplace.kernel.ratelimit_storage import SQLiteStorage

    with pytest.raises(ConfigurationError):
        SQLiteStorage(uri)


if __name__ == "__main__":
    main(*sys.argv[1:])


def test_workers_opening_a_new_storage_file_at_once_all_count(tmp_path):
    """The first requests to fresh workers open a new counter file at the same moment: every one of them
    counts (switching the file to WAL under contention is retried, never a 500)."""
    import threading

    from marketplace.kernel.ratelimit_storage import SQLiteStorage

    for round_ in range(15):
        storage = SQLiteStorage(f"sqlite:///{tmp_path / f'fresh-{round_}.db'}")
        barrier = threading.Barrier(8)
        seen, errors = [], []

        def hit():
            barrier.wait()
            try:
                seen.append(storage.incr("k", 60))
            except Exception as error:  # noqa: BLE001 - what a request would have met
                errors.append(error)

        threads = [threading.Thread(target=hit) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == [] and sorted(seen) == list(range(1, 9))
