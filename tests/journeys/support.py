"""Talking to the running system over HTTP, as its users do.

Each `Client` is one user agent: a `requests` session with an optional bearer
token, sending from its own loopback address (127.0.x.y: the whole 127/8 block
is local on Linux), so different users really come from different addresses.
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
from requests.adapters import HTTPAdapter

API = "/api/v1"
PROBLEM = "application/problem+json"

#: Loopback addresses 127.<random>.x.y: rate limits that count per address (some per hour) never see the
#: addresses of an earlier run.
_NETWORK = random.randrange(1, 255)
_addresses = itertools.count(0)


def new_address() -> str:
    """A loopback address no other client of this session uses."""
    n = next(_addresses)
    return f"127.{_NETWORK}.{n // 250}.{2 + n % 250}"


_serial = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{_NETWORK}-{next(_serial)}"


def product_body(**overrides: Any) -> dict[str, Any]:
    """A valid, active product as `POST /products` takes it (Assam tea in INR), with `overrides` on top."""
    body: dict[str, Any] = {
        "sku": unique("SKU"),
        "translations": {"en": {"title": "Assam black tea", "description": "Strong malty tea from Assam."}},
        "price": {"amount": "650.00", "currency": "INR"},
        "stock": 40,
        "category": "tea",
        "hs_code": "090230",
        "status": "active",
        "weight_g": 500,
    }
    body.update(overrides)
    return body


class _SourceAddressAdapter(HTTPAdapter):
    def __init__(self, source: str, **kwargs: Any) -> None:
        self._source = (source, 0)
        super().__init__(pool_connections=4, pool_maxsize=32, **kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = self._source
        super().init_poolmanager(*args, **kwargs)


class Client:
    """One user agent against the base URL: `client.post("/checkout", json=..., headers=...)`."""

    def __init__(self, base_url: str, token: str | None = None, address: str | None = None) -> None:
        self.base_url = base_url
        self.address = address or new_address()
        self.session = requests.Session()
        self.session.mount("http://", _SourceAddressAdapter(self.address))
        self.token = token

    def with_token(self, token: str) -> Client:
        return Client(self.base_url, token, self.address)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {self.token}"
        kwargs.setdefault("timeout", 60)
        url = path if path.startswith("http") else self.base_url + (path if path.startswith(API) else API + path)
        return self.session.request(method, url, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)


def ok(response: requests.Response, status: int = 200) -> Any:
    """The JSON body of a response that must have `status` (the body is shown when it has not)."""
    assert response.status_code == status, f"{response.request.method} {response.url}: " \
                                           f"{response.status_code} {response.text[:2000]}"
    return response.json() if response.content else None


def assert_problem(response: requests.Response, status: int | tuple[int, ...], code: str | None = None,
                   field: str | None = None) -> dict:
    """An RFC 9457 problem: the status (one of them), the media type, a stable `code`, and `field` among `errors`
    (itself or as the prefix of a nested field)."""
    statuses = status if isinstance(status, tuple) else (status,)
    where = f"{response.request.method} {response.url}"
    assert response.status_code in statuses, f"{where}: {response.status_code} {response.text[:2000]}"
    assert response.headers.get("Content-Type", "").split(";")[0].strip() == PROBLEM, \
        f"{where}: {response.headers.get('Content-Type')} {response.text[:500]}"
    body = response.json()
    assert body["status"] == response.status_code and body.get("code") and body.get("detail"), body
    if code is not None:
        assert body["code"] == code, body
    if field is not None:
        errors = body.get("errors") or {}
        assert any(key == field or key.startswith(field + ".") or key.startswith(field + "[") for key in errors), body
    return body


def dec(money: dict) -> Decimal:
    return Decimal(money["amount"])


def parallel(calls: list[Callable[[], Any]], barrier: bool = True) -> list[Any]:
    """Run `calls` at once in a thread pool (started together behind a barrier); their results in order."""
    gate = threading.Barrier(len(calls)) if barrier else None

    def run(call: Callable[[], Any]) -> Any:
        if gate is not None:
            gate.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def wait_until(check: Callable[[], Any], timeout: float, interval: float = 0.1, message: str = "") -> Any:
    """Poll `check()` until it returns something truthy; fail after `timeout` seconds with its last value."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout} s: {message} (last: {last!r})")
        time.sleep(interval)


# -- the partner side of webhooks ---------------------------------------------------------------

def verify_signature(secret: str, headers: dict[str, str], body: bytes, tolerance: int = 300) -> bool:
    """What the README asks partners to do: HMAC-SHA256 of "{timestamp}.{raw body}" with the secret, compared in
    constant time with the `v1=` value, and a timestamp close to now."""
    timestamp = headers.get("X-BuyBRICS-Timestamp", "")
    signature = headers.get("X-BuyBRICS-Signature", "")
    if not timestamp.isdigit() or not signature.startswith("v1="):
        return False
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature[3:])


class Delivery:
    def __init__(self, path: str, headers: dict[str, str], body: bytes) -> None:
        self.path, self.headers, self.body = path, headers, body
        try:
            self.event = json.loads(body)
        except ValueError:
            self.event = None

    @property
    def type(self) -> str | None:
        return self.event.get("type") if isinstance(self.event, dict) else None

    @property
    def data(self) -> dict:
        return self.event.get("data") or {} if isinstance(self.event, dict) else {}


class WebhookReceiver:
    """A partner's endpoint on loopback: records every POST (path, headers, raw body) and answers 204."""

    def __init__(self, port: int) -> None:
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.deliveries.append(Delivery(self.path, dict(self.headers.items()), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def received(self, path: str, event_type: str | None = None) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if d.path == path and (event_type is None or d.type == event_type)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
