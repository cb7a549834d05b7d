"""Checkout benchmark and oversell check on PostgreSQL.

    python -m bench.checkout [--checkouts 200] [--concurrency 32] [--stock 120] [--threads 8] [--outbox worker|inline]

In a fresh scratch PostgreSQL database (created next to POSTGRES_ADMIN_URL's, dropped at the end unless
--keep): migrate, `flask seed-demo`, then make one product scarce (--stock units) and create one shopper
per checkout, each with a token and a two-vendor cart: one unit of the scarce product and one of a
plentiful one. The app is served by gunicorn (2 workers, --threads each) on loopback, and every shopper
checks out at once from --concurrency client threads (stdlib urllib, each with its own Idempotency-Key).

--outbox: `worker` (default, as in production: OUTBOX_DRAIN_INLINE=0, the search index and partner
webhooks are fed by `flask worker`, which is not run here) or `inline` (the embedded default: each request
delivers its outbox events, reindexing the embedded search engine, before it answers).

Prints orders/s, p50/p99 latency, the outcome counts (201, 409 insufficient_stock, anything else) and
the oversell check: units of the scarce product sold never exceed its initial stock, and sold + left =
initial. Beside them, measured in the same run on the same server: the trivial endpoint (/api/v1/ping)
at the same concurrency (--anchor requests), and the server's CPU time (user + system, all gunicorn
processes, from /proc/<pid>/stat) per checkout and per ping. Exits non-zero if the check fails or an
unexpected status came back.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.serving import wait_for

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = os.environ.get("POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ADDRESS = {"name": "Ana Souza", "line1": "Rua Augusta 1500", "city": "São Paulo", "region": "SP",
           "postal_code": "01304-001", "country": "BR"}


def sqlalchemy_url(url: str) -> str:
    from config import database_url

    return database_url(url)


def flask(args: list[str], env: dict) -> str:
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                            check=True, capture_output=True, text=True)
    return result.stdout


def prepare(db_url: str, search_dir: str, shoppers: int, stock: int, currency: str) -> tuple[int, list[str]]:
    """Make the scarce product, the shoppers, their tokens and carts (through the services, in-process)."""
    from sqlalchemy import select

    from catalog.models import Product
    from config import Config
    from marketplace.app import create_app
    from marketplace.accounts import services as accounts
    from marketplace.checkout import cart as carts
    from marketplace.kernel.extensions import db
    from vendors.models import Vendor

    app = create_app(Config, {"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(db_url), "OUTBOX_DRAIN_INLINE": False,
                              "SEARCH_INDEX_DIR": search_dir})
    with app.app_context():
        products = list(db.session.scalars(select(Product).join(Vendor).where(Product.status == "active")
                                           .order_by(Product.id)))
        scarce = products[0]
        plentiful = next(p for p in products if p.vendor_id != scarce.vendor_id)
        scarce.stock, plentiful.stock = stock, shoppers * 10
        db.session.commit()
        tokens = []
        for n in range(shoppers):
            user = accounts.create_user(db.session, f"bench-shopper-{n}@example.com", "bench-password-123",
                                        "shopper")
            token, _ttl = accounts.issue_token(db.session, user, timedelta(hours=2))
            carts.add_item(db.session, user, scarce.id, 1)
            carts.add_item(db.session, user, plentiful.id, 1)
            tokens.append(token)
        db.session.commit()
        scarce_id = scarce.id
        print(f"setup: {shoppers} shoppers, each with 1 x {scarce.sku} (stock {stock}, vendor {scarce.vendor_id}) "
              f"and 1 x {plentiful.sku} (vendor {plentiful.vendor_id}); checkout in {currency}")
        db.session.remove()
        db.engine.dispose()
    return scarce_id, tokens


def checkout(base: str, token: str, currency: str) -> tuple[int, str | None, float]:
    body = json.dumps({"currency": currency, "shipping_address": ADDRESS}).encode()
    request = urllib.request.Request(f"{base}/api/v1/checkout", data=body, method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json",
        "Idempotency-Key": str(uuid.uuid4())})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
            status, code = response.status, None
    except urllib.error.HTTPError as error:
        status = error.code
        try:
            code = json.loads(error.read()).get("code")
        except ValueError:
            code = None
    return status, code, time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ping(base: str) -> tuple[int, str | None, float]:
    started = time.perf_counter()
    with urllib.request.urlopen(f"{base}/api/v1/ping", timeout=60) as response:
        response.read()
        return response.status, None, time.perf_counter() - started


def server_pids(master: int) -> list[int]:
    """The gunicorn master and its workers (children listed by /proc)."""
    children = Path(f"/proc/{master}/task/{master}/children")
    return [master] + [int(pid) for pid in children.read_text().split()] if children.exists() else [master]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (/proc/<pid>/stat, fields 14 and 15)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def measure(pool: ThreadPoolExecutor, pids: list[int], call, items) -> tuple[list, float, float]:
    """Results, wall time and server CPU seconds of calling `call` on every item through the pool."""
    cpu, started = cpu_seconds(pids), time.perf_counter()
    results = list(pool.map(call, items))
    return results, time.perf_counter() - started, cpu_seconds(pids) - cpu


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkouts", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--stock", type=int, default=120, help="units of the scarce product")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    parser.add_argument("--currency", default="BRL")
    parser.add_argument("--anchor", type=int, default=2000, help="requests to the trivial endpoint (the anchor)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--outbox", choices=["worker", "inline"], default="worker",
                        help="who delivers outbox events (search index, webhooks): the worker, or each request")
    args = parser.parse_args()

    admin = create_engine(sqlalchemy_url(POSTGRES_ADMIN_URL), isolation_level="AUTOCOMMIT")
    name = f"buybrics_bench_checkout_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db_url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    work = Path(tempfile.mkdtemp(prefix="buybrics-bench-checkout-"))
    env = {**os.environ, "DATABASE_URL": db_url, "APP_ENV": "development", "SEARCH_INDEX_DIR": str(work / "search"),
           "PAYMENT_PROVIDER": "manual", "PYTHONPATH": str(ROOT),
           "OUTBOX_DRAIN_INLINE": "1" if args.outbox == "inline" else "0"}
    server = None
    try:
        print(f"database: {name} (scratch)")
        flask(["db", "upgrade"], env)
        flask(["seed-demo"], env)
        scarce_id, tokens = prepare(db_url, env["SEARCH_INDEX_DIR"], args.checkouts, args.stock, args.currency)

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", str(args.threads), "--bind",
             f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
            cwd=ROOT, env=env)
        wait_for(f"{base}/api/v1/ping")
        print(f"server: gunicorn, 2 workers x {args.threads} threads, outbox delivered by the {args.outbox}; "
              f"client: {args.concurrency} threads, "
              f"{args.checkouts} checkouts")

        pids = server_pids(server.pid)
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            list(pool.map(lambda _n: ping(base), range(args.concurrency * 4)))  # every thread connected once
            results, elapsed, cpu = measure(pool, pids, lambda token: checkout(base, token, args.currency), tokens)
            pings, ping_elapsed, ping_cpu = measure(pool, pids, lambda _n: ping(base), range(args.anchor))

        created = [r for r in results if r[0] == 201]
        sold_out = [r for r in results if r[0] == 409 and r[1] == "insufficient_stock"]
        other = [r for r in results if r not in created and r not in sold_out]
        latencies = [r[2] * 1000 for r in results]
        engine = create_engine(sqlalchemy_url(db_url))
        with engine.connect() as conn:
            left = conn.execute(text("SELECT stock FROM products WHERE id = :id"), {"id": scarce_id}).scalar()
            sold = conn.execute(text(
                "SELECT coalesce(sum(l.quantity), 0) FROM order_lines l JOIN orders o ON o.id = l.order_id "
                "WHERE l.product_id = :id AND o.status <> 'cancelled'"), {"id": scarce_id}).scalar()
            orders = conn.execute(text("SELECT count(*) FROM orders")).scalar()
        engine.dispose()

        ping_rate = len(pings) / ping_elapsed
        print(f"wall time: {elapsed:.2f} s")
        print(f"throughput: {len(created) / elapsed:.1f} orders/s ({len(results) / elapsed:.1f} checkouts/s); "
              f"anchor /api/v1/ping: {ping_rate:.0f} req/s at the same concurrency "
              f"(checkouts/s = {len(results) / elapsed / ping_rate:.3f} x ping)")
        ping_ms = [r[2] * 1000 for r in pings]
        print(f"server CPU: {cpu * 1000 / len(results):.1f} ms per checkout "
              f"({cpu * 1000 / max(1, len(created)):.1f} ms per order), "
              f"{ping_cpu * 1000 / len(pings):.2f} ms per ping; ping p50 {statistics.median(ping_ms):.0f} ms, "
              f"p99 {percentile(ping_ms, 99):.0f} ms")
        print(f"latency (all checkouts): p50 {statistics.median(latencies):.0f} ms, "
              f"p99 {percentile(latencies, 99):.0f} ms, max {max(latencies):.0f} ms")
        if created:
            ok = [r[2] * 1000 for r in created]
            print(f"latency (201 only): p50 {statistics.median(ok):.0f} ms, p99 {percentile(ok, 99):.0f} ms")
        print(f"outcomes: {len(created)} x 201, {len(sold_out)} x 409 insufficient_stock, {len(other)} other"
              + (f" {sorted({(r[0], r[1]) for r in other})}" if other else ""))
        oversold = sold > args.stock or sold + left != args.stock
        print(f"oversell check: initial stock {args.stock}, sold {sold}, left {left}, orders {orders}: "
              f"{'FAILED' if oversold else 'ok'} (sold <= initial and sold + left = initial)")
        expected = min(args.stock, args.checkouts)
        if len(created) != expected:
            print(f"note: expected {expected} successful checkouts, got {len(created)}")
        if oversold or other:
            raise SystemExit(1)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
