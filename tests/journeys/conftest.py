"""The journey suite's system: the marketplace as `./scripts/serve` runs it, driven over HTTP only.

Once for the whole directory (package scope: it stops after the last journey test): a scratch
database (a fresh SQLite file, or, when `TEST_DATABASE_URL` names a PostgreSQL database,
`<that name>_journey` created beside it; the named database itself is never touched),
`flask db upgrade`, `flask seed-demo` (its demo partner key is read from the output), a second
partner from `flask partners create`, then the Procfile under honcho: gunicorn with
WEB_CONCURRENCY=2 workers of WEB_THREADS=4 threads, and `flask worker`. The search index and the
rate-limit counters' file sit beside the scratch database, not in the checkout's instance/.
honcho runs in its own process group, stopped at the end (SIGTERM, then SIGKILL for anything left).

Nothing here imports the application: what the tests know of it they learn over HTTP (and from what
its commands print), like any user. Each client sends from a loopback address of its own
(127.x.y.z), so per-address limits see different users as different addresses.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.journeys.support import API, Client, WebhookReceiver, new_address, ok, unique

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BIN = ROOT / ".venv" / "bin"
START_TIMEOUT = 90

DEMO_PASSWORDS = {
    "admin@buybrics.example": "demo-admin-pass",
    "manager@buybrics.example": "demo-manager-pass",
    "shopper@buybrics.example": "demo-shopper-pass",
    **{f"vendor-{c}@buybrics.example": "demo-vendor-pass" for c in ("br", "ru", "in", "cn", "za")},
}


def pytest_collection_modifyitems(config, items):
    """Everything in this directory is a journey test (`-m journey` selects them; they run by default)."""
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.journey)


_running: dict = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing journey test's report carries what the server processes logged meanwhile (tracebacks of 500s)."""
    outcome = yield
    report = outcome.get_result()
    system = _running.get("system")
    if system is None or report.when not in ("setup", "call") or not report.failed or HERE not in Path(str(item.fspath)).parents:
        return
    logged = system.log_since(item.stash.get(_LOG_OFFSET, 0))
    if logged.strip():
        report.sections.append(("server log during the test", logged))


_LOG_OFFSET = pytest.StashKey[int]()


@pytest.fixture(autouse=True)
def _mark_log(request):
    system = _running.get("system")
    if system is not None:
        request.node.stash[_LOG_OFFSET] = system.log_size()
    yield


def _free_port(start: int) -> int:
    for port in range(start, start + 400):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port from {start}")


def _scratch_postgres(url: str) -> str:
    """`<dbname>_journey` beside the database `url` names, dropped and created afresh; its URL."""
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_journey"
    conninfo = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return base.set(drivername="postgresql", database=name).render_as_string(hide_password=False)


def _drop_postgres(url: str, scratch: str) -> None:
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(make_url(scratch).database)))


@dataclass
class System:
    base_url: str
    database_url: str
    log_path: Path
    demo_partner_key: str
    other_partner_key: str
    receiver: WebhookReceiver
    env: dict
    tokens: dict = field(default_factory=dict)

    @property
    def dialect(self) -> str:
        return "postgresql" if self.database_url.startswith("postgres") else "sqlite"

    def client(self, token: str | None = None) -> Client:
        """A new user agent, from its own loopback address."""
        return Client(self.base_url, token)

    def login(self, email: str, password: str | None = None) -> Client:
        """A client holding `email`'s token (each account logs in once per session, from its own address)."""
        if email not in self.tokens:
            client = self.client()
            body = ok(client.post("/auth/token", json={"email": email, "password": password or DEMO_PASSWORDS[email]}))
            self.tokens[email] = body["access_token"]
        return self.client(self.tokens[email])

    def register(self, email: str, password: str, role: str) -> Client:
        """Sign up as a shopper or vendor (the answer does not tell whether the address was new: 201 or 202),
        then sign in; a client holding the new account's token."""
        response = self.client().post("/auth/register", json={"email": email, "password": password, "role": role})
        assert response.status_code in (201, 202), f"register {email}: {response.status_code} {response.text[:500]}"
        client = self.login(email, password)
        assert ok(client.get("/auth/me"))["role"] == role
        return client

    def new_shopper(self) -> Client:
        """A shopper of its own (an empty cart, no orders), signed in."""
        return self.register(f"{unique('shopper')}@journey.example", "a-long-shopper-passphrase", "shopper")

    def partner(self, key: str) -> Client:
        return self.client(key)

    def flask(self, *args: str) -> str:
        """Run `flask --app wsgi <args>` against the system's database; its output."""
        result = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_since(self, offset: int, chars: int = 8000) -> str:
        """What the processes printed since `offset` (its last `chars` characters)."""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(offset)
                return log.read().decode(errors="replace")[-chars:]
        except OSError:
            return ""


def _wait_for_health(base_url: str, honcho: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if honcho.poll() is not None:
            raise RuntimeError(f"honcho exited with {honcho.returncode}:\n{log_path.read_text(errors='replace')}")
        try:
            if requests.get(f"{base_url}{API}/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the system did not answer /health within {START_TIMEOUT} s:\n"
                       f"{log_path.read_text(errors='replace')[-5000:]}")


def _stop(honcho: subprocess.Popen, log_path: Path) -> None:
    """SIGTERM to honcho's group (honcho stops its children, SIGKILL after 5 s); force what is left."""
    try:
        os.killpg(honcho.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        honcho.wait(timeout=20)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(honcho.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        honcho.wait(timeout=10)
    # honcho starts each child in a session of its own: make sure none outlives the suite
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    for pid in {int(p) for p in re.findall(r"started \(pid=(\d+)\)", text)}:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


@pytest.fixture(scope="package")
def system():
    tmp = Path(tempfile.mkdtemp(prefix="buybrics-journey-"))
    test_url = os.environ.get("TEST_DATABASE_URL")
    if test_url and test_url.startswith(("postgresql", "postgres:")):
        database_url = _scratch_postgres(test_url)
    else:
        database_url = f"sqlite:///{tmp / 'journey.db'}"
    web_port = _free_port(8600 + (os.getpid() % 100) * 3)
    receiver = WebhookReceiver(_free_port(web_port + 1))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FLASK_", "TEST_DATABASE", "WEB_", "PARTNER_", "SEARCH_", "OUTBOX_", "RATELIMIT_",
                                "LOGIN_", "DATABASE_", "APP_ENV", "PORT"))}
    env.update({
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "FLASK_APP": "wsgi",
        "APP_ENV": "development",
        "DATABASE_URL": database_url,
        "SEARCH_INDEX_DIR": str(tmp / "search"),
        "WEB_CONCURRENCY": "2",
        "WEB_THREADS": "4",
        "PYTHONUNBUFFERED": "1",
        # the rate-limit counters' file, shared by the processes as by default, but beside the scratch database
        # rather than in the checkout's instance/ directory
        "RATELIMIT_STORAGE_URI": f"sqlite:///{tmp / 'ratelimit.db'}",
    })
    log_path = tmp / "honcho.log"
    honcho = None
    system = None
    try:
        system = System(base_url=f"http://127.0.0.1:{web_port}", database_url=database_url, log_path=log_path,
                        demo_partner_key="", other_partner_key="", receiver=receiver, env=env)
        system.flask("db", "upgrade")
        seeded = system.flask("seed-demo")
        match = re.search(r"API key (\S+)", seeded)
        assert match, f"seed-demo printed no partner key:\n{seeded}"
        system.demo_partner_key = match.group(1)
        created = system.flask("partners", "create", "--name", "Journey Other ERP")
        system.other_partner_key = created.strip().splitlines()[-1].strip()
        with open(log_path, "wb") as log:
            honcho = subprocess.Popen([str(BIN / "honcho"), "--procfile", "Procfile", "start", "--port", str(web_port)],
                                      cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        _wait_for_health(system.base_url, honcho, log_path)
        _running["system"] = system
        yield system
    finally:
        _running.pop("system", None)
        if honcho is not None:
            _stop(honcho, log_path)
        receiver.close()
        if database_url.startswith("postgresql"):
            try:
                _drop_postgres(test_url, database_url)
            except Exception:  # noqa: BLE001 - the next run drops it anyway
                pass
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="package")
def demo(system):
    """What the demo data holds, as its users see it: vendors by country (id, owner e-mail), partner ids."""
    admin = system.login("admin@buybrics.example")
    vendors = ok(admin.get("/vendors", params={"status": "approved", "per_page": 100}))["items"]
    by_country = {v["country"]: v for v in vendors if v["contact_email"].endswith("@buybrics.example")}
    demo_partner = ok(system.partner(system.demo_partner_key).get("/partner/me"))
    other_partner = ok(system.partner(system.other_partner_key).get("/partner/me"))
    return {"vendors": by_country, "demo_partner": demo_partner, "other_partner": other_partner}


@pytest.fixture
def anonymous(system) -> Client:
    return system.client()


__all__ = ["System", "new_address"]
