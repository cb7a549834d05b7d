"""A small fake of the Stripe API, for tests that run the real `stripe` SDK.

`FakeStripe` is an HTTP server on 127.0.0.1 (the standard library's
`http.server` in a thread) answering the few endpoints the marketplace uses,
with objects shaped as Stripe documents them:

    POST /v1/payment_intents                  create
    GET  /v1/payment_intents/{id}             retrieve
    POST /v1/payment_intents/{id}/cancel      cancel
    POST /v1/refunds                          create (payment_intent or charge, amount)
    GET  /v1/refunds?charge=...               list (newest first, limit/starting_after)
    GET  /v1/refunds/{id}                     retrieve
    GET  /v1/charges/{id}                     retrieve (`refunds` only with expand[]=refunds, as
                                              since API version 2022-11-15)
    POST /v1/transfers                        create
    GET  /v1/transfers/{id}                   retrieve

Use it as a context manager (or `start()` / `stop()`) and point the SDK at
`fake.url`:

    with FakeStripe() as fake:
        provider = StripeProvider("sk_test_x", "whsec_x", api_base=fake.url)
        state = provider.create_payment(...)
        fake.succeed(state.provider_ref)
        assert fake.last("POST", "/v1/payment_intents").params["currency"] == "brl"

What is recorded: every request, in `fake.requests`, as a `FakeRequest` with
`method`, `path`, `params` (the form body and query string decoded, keys kept
flat as Stripe's encoding sends them: "metadata[order_id]",
"automatic_payment_methods[enabled]", "expand[0]"), `pairs` (the same, in
order, with repeats) and `headers` (case-insensitive; `.idempotency_key`).

How far it goes, on purpose:

* Parameters are checked like Stripe checks them where that catches a client
  bug: unknown parameters ("parameter_unknown"), integers that are not
  integers ("parameter_invalid_integer"), a missing required parameter
  ("parameter_missing"), metadata limits (50 keys, 40-character keys,
  500-character values). It is stricter than Stripe in one place: a
  currency must be sent lower-case, as Stripe's documentation asks.
* Idempotency follows Stripe: a POST with an `Idempotency-Key` seen before
  replays the saved status and body (with `Idempotent-Replayed: true`); the
  same key with other parameters or another path is a 400 `idempotency_error`.
  A request refused while its parameters are validated is not saved (Stripe
  saves a result only once the endpoint has started executing), and nor are
  the failures injected with `fail_next` / `drop_next`, which stand for a
  failure in front of the API.
* Every request needs `Authorization: Bearer <key>` (and, when the fake was
  made with `api_key=`, that key), else 401 as Stripe answers.
* State changes Stripe would make on its own (the customer pays, the card is
  declined, the bank is slow) are the test's to make: `succeed`, `fail`,
  `set_status`, `set_refund_status`. Failures in front of the API are too:
  `fail_next(status, code=...)` (an error answer), `drop_next()` (the
  connection closes unanswered), `delay_next(seconds)` (a slow answer).
* `event(type, obj_or_id)` builds a webhook body from the current state and
  `sign_webhook(payload, secret)` signs it as Stripe does.
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

API_VERSION = "2026-10-28.endive"  # what the installed SDK pins; echoed in events only

#: Statuses from which Stripe lets a PaymentIntent be canceled.
CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation",
              "requires_action", "processing")


def sign_webhook(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header Stripe sends with `payload`.

    `t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<payload>" keyed with the endpoint secret>`.
    """
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    t = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode("utf-8"), f"{t}.".encode("ascii") + payload, hashlib.sha256)
    return f"t={t},v1={mac.hexdigest()}"


class Headers(dict):
    """A case-insensitive header mapping (keys stored lower-case)."""

    def __init__(self, items: Any = ()) -> None:
        super().__init__()
        for key, value in items:
            self[key] = value

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key.lower(), value)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)


@dataclass
class FakeRequest:
    method: str
    path: str
    params: dict[str, str]
    pairs: list[tuple[str, str]]
    headers: Headers
    body: bytes = b""

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("Idempotency-Key")

    @property
    def metadata(self) -> dict[str, str]:
        return _bracketed(self.params, "metadata")


@dataclass
class _Failure:
    status: int = 500
    code: str | None = None
    message: str | None = None
    type: str | None = None
    decline_code: str | None = None
    should_retry: bool | None = None
    drop: bool = False
    delay: float = 0.0


class StripeFailure(Exception):
    """An error answer, in Stripe's shape: {"error": {"type", "code", "message", "param", ...}}."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None, save: bool = True,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.save = status, save
        self.error = {"type": type, "message": message}
        if code is not None:
            self.error["code"] = code
            self.error["doc_url"] = f"https://docs.stripe.com/error-codes/{code.replace('_', '-')}"
        if param is not None:
            self.error["param"] = param
        self.error.update(extra or {})


def _bracketed(params: dict[str, str], name: str) -> dict[str, str]:
    """{"metadata[a]": "1"} -> {"a": "1"} for `name` = "metadata" (one level, as metadata is)."""
    prefix = name + "["
    return {k[len(prefix):-1]: v for k, v in params.items() if k.startswith(prefix) and k.endswith("]")}


def _expand(params: dict[str, str]) -> set[str]:
    return {v for k, v in params.items() if k == "expand" or re.fullmatch(r"expand\[\d*\]", k)}


def _invalid(message: str, *, code: str, param: str | None = None) -> StripeFailure:
    return StripeFailure(400, message, code=code, param=param, save=False)


def _check_known(params: dict[str, str], allowed: set[str]) -> None:
    for key in params:
        top = key.split("[", 1)[0]
        if top not in allowed:
            raise _invalid(f"Received unknown parameter: {key}", code="parameter_unknown", param=key)


def _int(params: dict[str, str], name: str, *, required: bool = False) -> int | None:
    if name not in params:
        if required:
            raise _invalid(f"Missing required param: {name}.", code="parameter_missing", param=name)
        return None
    raw = params[name]
    if not re.fullmatch(r"-?[0-9]+", raw):
        raise _invalid(f"Invalid integer: {raw}", code="parameter_invalid_integer", param=name)
    return int(raw)


def _currency(params: dict[str, str], *, required: bool = True) -> str | None:
    if "currency" not in params:
        if required:
            raise _invalid("Missing required param: currency.", code="parameter_missing", param="currency")
        return None
    cur = params["currency"]
    if not re.fullmatch(r"[a-z]{3}", cur):
        raise _invalid(f"Invalid currency: {cur}. Stripe currently supports these currencies: ...",
                       code="parameter_invalid_string", param="currency")
    return cur


def _bool(params: dict[str, str], name: str) -> bool | None:
    if name not in params:
        return None
    raw = params[name]
    if raw not in ("true", "false"):
        raise _invalid(f"Invalid boolean: {raw}", code="parameter_invalid_boolean", param=name)
    return raw == "true"


def _metadata(params: dict[str, str]) -> dict[str, str]:
    meta = _bracketed(params, "metadata")
    if len(meta) > 50:
        raise _invalid("You can have at most 50 keys in metadata.", code="parameter_invalid_string", param="metadata")
    for key, value in meta.items():
        if len(key) > 40:
            raise _invalid(f"Metadata key {key!r} is too long (max 40 characters).",
                           code="parameter_invalid_string", param=f"metadata[{key}]")
        if len(value) > 500:
            raise _invalid(f"Metadata value for {key!r} is too long (max 500 characters).",
                           code="parameter_invalid_string", param=f"metadata[{key}]")
    return meta


class FakeStripe:
    def __init__(self, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.requests: list[FakeRequest] = []
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.transfers: dict[str, dict[str, Any]] = {}
        #: Status given to new refunds ("succeeded", or "pending" as for some payment methods).
        self.refund_status = "succeeded"
        self._saved: dict[str, tuple[str, str, list[tuple[str, str]], int, bytes]] = {}
        self._failures: deque[_Failure] = deque()
        self._lock = threading.RLock()
        self._counter = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------

    def start(self) -> "FakeStripe":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._serve(self)

            do_POST = do_DELETE = do_GET

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-stripe", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "FakeStripe":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeStripe is not running; use it as a context manager or call start()")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- what the test controls ------------------------------------------

    def fail_next(self, status: int = 500, *, code: str | None = None, message: str | None = None,
                  type: str | None = None, decline_code: str | None = None, count: int = 1,
                  should_retry: bool | None = None) -> None:
        """Answer the next `count` requests with an error of HTTP `status` (before any routing).

        The error's type defaults by status as Stripe's: 402 card_error (code card_declined),
        429 rate limit, 5xx api_error, otherwise invalid_request_error. `should_retry` sets
        the `Stripe-Should-Retry` response header, which the SDK's own retries obey.
        """
        with self._lock:
            for _ in range(count):
                self._failures.append(_Failure(status, code, message, type, decline_code, should_retry))

    def drop_next(self, count: int = 1) -> None:
        """Close the connection of the next `count` requests without answering (a network failure)."""
        with self._lock:
            for _ in range(count):
                self._failures.append(_Failure(drop=True))

    def delay_next(self, seconds: float, count: int = 1) -> None:
        """Answer the next `count` requests normally, but only after `seconds` (to exercise client timeouts)."""
        with self._lock:
            for _ in range(count):
                self._failures.append(_Failure(delay=seconds))

    def succeed(self, pi_id: str) -> str:
        """The customer paid: the PaymentIntent succeeds with a captured charge; returns the charge id."""
        with self._lock:
            pi = self._pi(pi_id)
            charge = self._new_charge(pi, status="succeeded")
            pi.update(status="succeeded", amount_received=pi["amount"], latest_charge=charge["id"],
                      last_payment_error=None, next_action=None, payment_method=charge["payment_method"])
            return charge["id"]

    def fail(self, pi_id: str, message: str = "Your card was declined.", *, code: str = "card_declined",
             decline_code: str | None = "generic_decline") -> str:
        """A payment attempt failed: back to requires_payment_method with `last_payment_error`; returns the failed charge id."""
        with self._lock:
            pi = self._pi(pi_id)
            charge = self._new_charge(pi, status="failed", failure_code=code, failure_message=message)
            error: dict[str, Any] = {"type": "card_error", "code": code, "message": message,
                                     "charge": charge["id"],
                                     "doc_url": f"https://docs.stripe.com/error-codes/{code.replace('_', '-')}"}
            if decline_code:
                error["decline_code"] = decline_code
            pi.update(status="requires_payment_method", last_payment_error=error, latest_charge=charge["id"],
                      payment_method=None)
            return charge["id"]

    def set_status(self, pi_id: str, status: str) -> None:
        """Put a PaymentIntent in any status (processing, requires_action, requires_capture, ...)."""
        with self._lock:
            pi = self._pi(pi_id)
            pi["status"] = status
            if status == "requires_action":
                pi["next_action"] = {"type": "redirect_to_url",
                                     "redirect_to_url": {"url": "https://hooks.stripe.com/3d_secure", "return_url": None}}

    def set_refund_status(self, refund_id: str, status: str, failure_reason: str | None = None) -> None:
        """A refund moves on; one that fails or is canceled gives its amount back to the charge, as at Stripe."""
        with self._lock:
            refund = self.refunds[refund_id]
            was_live = refund["status"] not in ("failed", "canceled")
            refund["status"] = status
            if status == "failed":
                refund["failure_reason"] = failure_reason or "unknown"
            if was_live and status in ("failed", "canceled"):
                charge = self.charges[refund["charge"]]
                charge["amount_refunded"] -= refund["amount"]
                charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]

    def event(self, type: str, obj: str | dict[str, Any], *, event_id: str | None = None,
              created: int | None = None, previous_attributes: dict[str, Any] | None = None) -> bytes:
        """A webhook body for event `type` about `obj` (an id known here, or an object), as Stripe sends it."""
        with self._lock:
            if isinstance(obj, str):
                obj = self._lookup(obj)
            data: dict[str, Any] = {"object": json.loads(json.dumps(obj))}
            if previous_attributes is not None:
                data["previous_attributes"] = previous_attributes
            event = {
                "id": event_id or self._id("evt"), "object": "event", "api_version": API_VERSION,
                "created": created or int(time.time()), "data": data, "livemode": False,
                "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None}, "type": type,
            }
        return json.dumps(event).encode("utf-8")

    # -- what the test reads ---------------------------------------------

    def last(self, method: str | None = None, path: str | None = None) -> FakeRequest:
        """The last request, optionally the last with this method and path (a prefix when it ends in '/')."""
        for request in reversed(self.requests):
            if method and request.method != method.upper():
                continue
            if path and not (request.path == path or (path.endswith("/") and request.path.startswith(path))):
                continue
            return request
        raise AssertionError(f"no {method or ''} {path or ''} request was made".strip())

    def requests_to(self, method: str, path: str) -> list[FakeRequest]:
        return [r for r in self.requests if r.method == method.upper() and r.path == path]

    # -- internals --------------------------------------------------------

    def _id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._counter):08d}"

    def _pi(self, pi_id: str) -> dict[str, Any]:
        try:
            return self.payment_intents[pi_id]
        except KeyError:
            raise KeyError(f"no PaymentIntent {pi_id!r} in the fake") from None

    def _lookup(self, obj_id: str) -> dict[str, Any]:
        for store in (self.payment_intents, self.charges, self.refunds, self.transfers):
            if obj_id in store:
                obj = store[obj_id]
                return self._charge_view(obj, expand_refunds=True) if obj["object"] == "charge" else obj
        raise KeyError(f"no object {obj_id!r} in the fake")

    def _new_charge(self, pi: dict[str, Any], *, status: str, failure_code: str | None = None,
                    failure_message: str | None = None) -> dict[str, Any]:
        charge = {
            "id": self._id("ch"), "object": "charge", "amount": pi["amount"],
            "amount_captured": pi["amount"] if status == "succeeded" else 0, "amount_refunded": 0,
            "balance_transaction": self._id("txn") if status == "succeeded" else None,
            "captured": status == "succeeded", "created": int(time.time()), "currency": pi["currency"],
            "failure_code": failure_code, "failure_message": failure_message, "livemode": False,
            "metadata": dict(pi["metadata"]), "paid": status == "succeeded", "payment_intent": pi["id"],
            "payment_method": self._id("pm"), "refunded": False, "status": status,
        }
        self.charges[charge["id"]] = charge
        return charge

    def _charge_view(self, charge: dict[str, Any], *, expand_refunds: bool) -> dict[str, Any]:
        view = dict(charge)
        if expand_refunds:
            refunds = self._refunds_of(charge["id"])
            view["refunds"] = {"object": "list", "data": refunds[:10], "has_more": len(refunds) > 10,
                               "total_count": len(refunds), "url": f"/v1/charges/{charge['id']}/refunds"}
        return view

    def _refunds_of(self, charge_id: str) -> list[dict[str, Any]]:
        return sorted((r for r in self.refunds.values() if r["charge"] == charge_id),
                      key=lambda r: r["_seq"], reverse=True)

    def _public(self, obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        pairs = parse_qsl(split.query, keep_blank_values=True)
        if body:
            pairs += parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        request = FakeRequest(handler.command, split.path, dict(pairs), list(pairs),
                              Headers(handler.headers.items()), body)
        with self._lock:
            self.requests.append(request)
            failure = self._failures.popleft() if self._failures else None
        if failure is not None and failure.drop:
            handler.close_connection = True
            return
        if failure is not None and failure.delay:
            time.sleep(failure.delay)
            failure = None
        with self._lock:
            status, payload, extra_headers = self._answer(request, failure)
            request_id = f"req_fake{next(self._counter):08d}"
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            handler.send_header("Request-Id", request_id)
            if request.idempotency_key:
                handler.send_header("Idempotency-Key", request.idempotency_key)
            for name, value in extra_headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(payload)
        except OSError:  # the client gave up (a timeout test); nothing to answer
            handler.close_connection = True

    def _answer(self, request: FakeRequest, failure: _Failure | None) -> tuple[int, bytes, dict[str, str]]:
        if failure is not None:
            return self._failure_answer(failure)
        auth = request.headers.get("Authorization", "")
        key = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
        if not key or (self.api_key is not None and key != self.api_key):
            err = StripeFailure(401, "Invalid API Key provided." if key else "You did not provide an API key.",
                                type="invalid_request_error")
            return 401, json.dumps({"error": err.error}).encode(), {}

        idem = request.idempotency_key if request.method == "POST" else None
        signature = sorted(request.pairs)
        if idem and idem in self._saved:
            method, path, saved_pairs, status, payload = self._saved[idem]
            if (method, path, saved_pairs) != (request.method, request.path, signature):
                err = StripeFailure(
                    400, "Keys for idempotent requests can only be used with the same parameters they were "
                         f"first used with. Try using a key other than '{idem}' if you meant to execute a "
                         "different request.", type="idempotency_error")
                return 400, json.dumps({"error": err.error}).encode(), {}
            return status, payload, {"Idempotent-Replayed": "true"}

        try:
            status, obj = 200, self._route(request)
            save = True
        except StripeFailure as err:
            status, obj, save = err.status, {"error": err.error}, err.save
        payload = json.dumps(obj).encode("utf-8")
        if idem and save:
            self._saved[idem] = (request.method, request.path, signature, status, payload)
        return status, payload, {}

    def _failure_answer(self, f: _Failure) -> tuple[int, bytes, dict[str, str]]:
        if f.status == 402:
            type_, code, message = "card_error", f.code or "card_declined", f.message or "Your card was declined."
        elif f.status == 429:
            type_, code = "invalid_request_error", f.code or "rate_limit"
            message = f.message or "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits."
        elif f.status >= 500:
            type_, code, message = "api_error", f.code, f.message or "An unknown error occurred"
        else:
            type_, code, message = "invalid_request_error", f.code, f.message or "Invalid request"
        err = StripeFailure(f.status, message, type=f.type or type_, code=code,
                            extra={"decline_code": f.decline_code} if f.decline_code else None)
        headers = {} if f.should_retry is None else {"Stripe-Should-Retry": "true" if f.should_retry else "false"}
        return f.status, json.dumps({"error": err.error}).encode("utf-8"), headers

    def _route(self, r: FakeRequest) -> dict[str, Any]:
        m, p = r.method, r.path
        if m == "POST" and p == "/v1/payment_intents":
            return self._create_pi(r.params)
        if match := re.fullmatch(r"/v1/payment_intents/([^/]+)", p):
            if m == "GET":
                _check_known(r.params, {"expand", "client_secret"})
                return self._public(self._get(self.payment_intents, match[1], "payment_intent", "intent"))
        if (match := re.fullmatch(r"/v1/payment_intents/([^/]+)/cancel", p)) and m == "POST":
            return self._cancel_pi(match[1], r.params)
        if p == "/v1/refunds":
            if m == "POST":
                return self._create_refund(r.params)
            if m == "GET":
                return self._list_refunds(r.params)
        if (match := re.fullmatch(r"/v1/refunds/([^/]+)", p)) and m == "GET":
            _check_known(r.params, {"expand"})
            return self._public(self._get(self.refunds, match[1], "refund", "refund"))
        if (match := re.fullmatch(r"/v1/charges/([^/]+)", p)) and m == "GET":
            _check_known(r.params, {"expand"})
            charge = self._get(self.charges, match[1], "charge", "charge")
            return self._charge_view(charge, expand_refunds="refunds" in _expand(r.params))
        if p == "/v1/transfers" and m == "POST":
            return self._create_transfer(r.params)
        if (match := re.fullmatch(r"/v1/transfers/([^/]+)", p)) and m == "GET":
            _check_known(r.params, {"expand"})
            return self._public(self._get(self.transfers, match[1], "transfer", "id"))
        raise StripeFailure(404, f"Unrecognized request URL ({m}: {p}). Please see https://stripe.com/docs "
                                 "or we can help at https://support.stripe.com/.", save=False)

    def _get(self, store: dict[str, dict[str, Any]], obj_id: str, kind: str, param: str) -> dict[str, Any]:
        if obj_id not in store:
            raise StripeFailure(404, f"No such {kind}: '{obj_id}'", code="resource_missing", param=param)
        return store[obj_id]

    def _create_pi(self, params: dict[str, str]) -> dict[str, Any]:
        _check_known(params, {"amount", "currency", "automatic_payment_methods", "metadata", "description",
                              "receipt_email", "customer", "payment_method_types", "capture_method",
                              "statement_descriptor", "statement_descriptor_suffix", "transfer_group",
                              "on_behalf_of", "application_fee_amount", "transfer_data", "expand",
                              "setup_future_usage", "shipping"})
        amount = _int(params, "amount", required=True)
        currency = _currency(params)
        if amount < 1:
            raise _invalid("This value must be greater than or equal to 1.", code="amount_too_small", param="amount")
        apm = _bool(params, "automatic_payment_methods[enabled]")
        metadata = _metadata(params)
        pi_id = self._id("pi")
        pi = {
            "id": pi_id, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
            "amount_received": 0, "automatic_payment_methods": {"allow_redirects": "always", "enabled": True}
            if apm else None, "canceled_at": None, "cancellation_reason": None,
            "capture_method": params.get("capture_method", "automatic_async"),
            "client_secret": f"{pi_id}_secret_fake{next(self._counter):08d}", "confirmation_method": "automatic",
            "created": int(time.time()), "currency": currency, "customer": params.get("customer"),
            "description": params.get("description"), "last_payment_error": None, "latest_charge": None,
            "livemode": False, "metadata": metadata, "next_action": None, "payment_method": None,
            "payment_method_types": ["card"], "status": "requires_payment_method",
            "transfer_group": params.get("transfer_group"),
        }
        self.payment_intents[pi_id] = pi
        return self._public(pi)

    def _cancel_pi(self, pi_id: str, params: dict[str, str]) -> dict[str, Any]:
        _check_known(params, {"cancellation_reason", "expand"})
        pi = self._get(self.payment_intents, pi_id, "payment_intent", "intent")
        if pi["status"] not in CANCELABLE:
            raise StripeFailure(
                400, f"You cannot cancel this PaymentIntent because it has a status of {pi['status']}. Only a "
                     "PaymentIntent with one of the following statuses may be canceled: " + ", ".join(CANCELABLE) + ".",
                code="payment_intent_unexpected_state", extra={"payment_intent": self._public(pi)})
        pi.update(status="canceled", canceled_at=int(time.time()),
                  cancellation_reason=params.get("cancellation_reason"), next_action=None)
        return self._public(pi)

    def _create_refund(self, params: dict[str, str]) -> dict[str, Any]:
        _check_known(params, {"payment_intent", "charge", "amount", "metadata", "reason", "expand",
                              "instructions_email", "refund_application_fee", "reverse_transfer", "currency"})
        amount = _int(params, "amount")
        metadata = _metadata(params)
        if "payment_intent" in params:
            pi = self._get(self.payment_intents, params["payment_intent"], "payment_intent", "payment_intent")
            charge = self.charges.get(pi["latest_charge"] or "")
            if pi["status"] != "succeeded" or charge is None:
                raise StripeFailure(400, f"This PaymentIntent ({pi['id']}) does not have a successful charge to refund.",
                                    code="charge_not_refundable", param="payment_intent")
        elif "charge" in params:
            charge = self._get(self.charges, params["charge"], "charge", "charge")
        else:
            raise _invalid("One of the following params should be provided for this request: payment_intent or charge.",
                           code="parameter_missing")
        remaining = charge["amount_captured"] - charge["amount_refunded"]
        if remaining <= 0:
            raise StripeFailure(400, f"Charge {charge['id']} has already been refunded.",
                                code="charge_already_refunded", param="charge")
        if amount is None:
            amount = remaining
        if amount < 1:
            raise _invalid("This value must be greater than or equal to 1.", code="parameter_invalid_integer",
                           param="amount")
        if amount > remaining:
            raise StripeFailure(400, f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                                     f"({remaining})", code="amount_too_large", param="amount")
        refund = {
            "id": self._id("re"), "object": "refund", "amount": amount,
            "balance_transaction": self._id("txn"), "charge": charge["id"], "created": int(time.time()),
            "currency": charge["currency"], "metadata": metadata, "payment_intent": charge["payment_intent"],
            "reason": params.get("reason"), "status": self.refund_status, "_seq": next(self._counter),
        }
        self.refunds[refund["id"]] = refund
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
        return self._public(refund)

    def _list_refunds(self, params: dict[str, str]) -> dict[str, Any]:
        _check_known(params, {"charge", "payment_intent", "limit", "starting_after", "ending_before",
                              "created", "expand"})
        limit = _int(params, "limit") or 10
        if not 1 <= limit <= 100:
            raise _invalid("This value must be between 1 and 100.", code="parameter_invalid_integer", param="limit")
        refunds = sorted(self.refunds.values(), key=lambda r: r["_seq"], reverse=True)
        if "charge" in params:
            refunds = [r for r in refunds if r["charge"] == params["charge"]]
        if "payment_intent" in params:
            refunds = [r for r in refunds if r["payment_intent"] == params["payment_intent"]]
        if "starting_after" in params:
            ids = [r["id"] for r in refunds]
            if params["starting_after"] not in ids:
                raise StripeFailure(404, f"No such refund: '{params['starting_after']}'", code="resource_missing",
                                    param="starting_after")
            refunds = refunds[ids.index(params["starting_after"]) + 1:]
        page = refunds[:limit]
        return {"object": "list", "data": [self._public(r) for r in page], "has_more": len(refunds) > limit,
                "url": "/v1/refunds"}

    def _create_transfer(self, params: dict[str, str]) -> dict[str, Any]:
        _check_known(params, {"amount", "currency", "destination", "metadata", "description", "transfer_group",
                              "source_transaction", "source_type", "expand"})
        amount = _int(params, "amount", required=True)
        currency = _currency(params)
        if "destination" not in params:
            raise _invalid("Missing required param: destination.", code="parameter_missing", param="destination")
        destination = params["destination"]
        if not destination.startswith("acct_"):
            raise StripeFailure(400, f"No such destination: '{destination}'", code="resource_missing",
                                param="destination")
        if amount < 1:
            raise _invalid("This value must be greater than or equal to 1.", code="parameter_invalid_integer",
                           param="amount")
        transfer = {
            "id": self._id("tr"), "object": "transfer", "amount": amount, "amount_reversed": 0,
            "balance_transaction": self._id("txn"), "created": int(time.time()), "currency": currency,
            "description": params.get("description"), "destination": destination,
            "destination_payment": self._id("py"), "livemode": False, "metadata": _metadata(params),
            "reversals": {"object": "list", "data": [], "has_more": False, "url": "/v1/transfers/x/reversals"},
            "reversed": False, "source_transaction": params.get("source_transaction"),
            "transfer_group": params.get("transfer_group"),
        }
        transfer["reversals"]["url"] = f"/v1/transfers/{transfer['id']}/reversals"
        self.transfers[transfer["id"]] = transfer
        return self._public(transfer)
