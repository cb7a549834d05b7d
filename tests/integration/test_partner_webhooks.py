"""Webhooks out: signed deliveries to a real HTTP receiver on 127.0.0.1, retries with backoff, entitlement,
and the guard that keeps webhooks off internal addresses (SSRF, DNS rebinding).

Requests are made without an app context held by the test; the worker runs through
`flask worker --once` (the CLI runner), with the clock frozen to step through the backoff.
Name lookups go through a fake DNS (`dns`): names under `.example` resolve only as a test says.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from marketplace.kernel import clock, events
from marketplace.kernel.extensions import db
from marketplace.partners.models import Webhook
from marketplace.partners.deliveries import backoff
from marketplace.partners.webhooks import decrypt_secret
from tests.api.test_partner_listings import listing, sync
from tests.api.test_products import assert_problem

WEBHOOKS = "/api/v1/partner/webhooks"


class Receiver:
    """A webhook endpoint on 127.0.0.1: records every request; answers from a script (default 200)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: list[int | float] = []   # an int: answer with this status; a float: sleep that long first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                action = receiver.script.pop(0) if receiver.script else 200
                if isinstance(action, float):
                    time.sleep(action)
                    action = 200
                self.send_response(action)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def on(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.fixture(autouse=True)
def dns(monkeypatch) -> dict[str, list[str]]:
    """A fake DNS for names under `.example` (a name maps to its addresses; unknown ones do not resolve);
    other names and IP addresses go to the real resolver. Tests change answers between steps to rebind a name."""
    answers: dict[str, list[str]] = {}
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else str(host)
        if not name.rstrip(".").endswith(".example"):
            return real_getaddrinfo(host, port, *args, **kwargs)
        if name not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "",
                 (address, port, 0, 0) if ":" in address else (address, port)) for address in answers[name]]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.fixture
def T0() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def vendor(make):
    make.rates()
    return make.vendor("IN")


@pytest.fixture
def partner(make, vendor):
    return make.partner(vendors=[vendor])


def subscribe(client, partner: dict, url: str, events_: list[str] | None = None) -> dict[str, Any]:
    response = client.post(WEBHOOKS, json={"url": url, "events": events_ or ["listing.updated"]},
                           headers=partner["headers"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def work(runner) -> None:
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output


def deliveries(client, partner: dict, webhook_id: int) -> list[dict[str, Any]]:
    response = client.get(f"{WEBHOOKS}/{webhook_id}/deliveries", headers=partner["headers"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def verify(request: dict[str, Any], secret: str) -> dict[str, Any]:
    """Check the signature as a partner would; gives the parsed body."""
    timestamp = request["headers"]["X-BuyBRICS-Timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-BuyBRICS-Signature"] == f"v1={expected}"
    assert abs(int(timestamp) - time.time()) < 60
    assert request["headers"]["Content-Type"] == "application/json"
    return json.loads(request["body"])


# -- delivery ----------------------------------------------------------------

def test_a_listing_change_reaches_the_partners_webhook_signed(client, runner, vendor, partner, receiver):
    hook = subscribe(client, partner, f"{receiver.url}/hooks")
    assert hook["secret"].startswith("whsec_") and hook["events"] == ["listing.updated"]
    product_id = sync(client, partner, listing(vendor, "sig-1", stock=5))["results"][0]["product_id"]

    work(runner)

    [request] = receiver.requests
    body = verify(request, hook["secret"])
    assert body["type"] == "listing.updated" and body["id"].startswith("evt_") and body["created_at"]
    assert body["data"]["external_id"] == "sig-1" and body["data"]["product_id"] == product_id
    assert body["data"]["stock"] == 5 and body["data"]["vendor_id"] == vendor["id"]
    [delivery] = deliveries(client, partner, hook["id"])
    assert delivery["status"] == "delivered" and delivery["event_id"] == body["id"]
    assert delivery["attempts"][0]["status_code"] == 200 and delivery["attempts"][0]["duration_ms"] >= 0
    work(runner)
    assert len(receiver.requests) == 1  # delivered once


def test_a_batch_sync_gives_one_delivery_per_listing_each_with_its_own_event(client, runner, vendor, partner,
                                                                            receiver):
    """A PUT of many listings records its events in bulk; every listing still gets its own event and delivery."""
    hook = subscribe(client, partner, f"{receiver.url}/hooks")
    answer = sync(client, partner, *(listing(vendor, f"batch-{n}", stock=n) for n in range(5)))
    product_ids = {r["external_id"]: r["product_id"] for r in answer["results"]}

    work(runner)

    bodies = [verify(request, hook["secret"]) for request in receiver.requests]
    assert sorted(b["data"]["external_id"] for b in bodies) == [f"batch-{n}" for n in range(5)]
    assert len({b["id"] for b in bodies}) == 5
    for body in bodies:
        assert body["data"]["product_id"] == product_ids[body["data"]["external_id"]]
        assert body["data"]["stock"] == int(body["data"]["external_id"].split("-")[1])
    assert sorted(d["event_id"] for d in deliveries(client, partner, hook["id"])) == sorted(b["id"] for b in bodies)


def test_failures_are_retried_with_backoff_and_the_same_event_id(client, runner, vendor, partner, receiver, T0):
    hook = subscribe(client, partner, f"{receiver.url}/flaky")
    receiver.script = [500, 503]
    clock.freeze(T0)
    sync(client, partner, listing(vendor, "retry-1"))

    work(runner)
    assert len(receiver.requests) == 1
    work(runner)
    clock.freeze(T0 + timedelta(seconds=59))
    work(runner)
    assert len(receiver.requests) == 1                    # not yet due
    clock.freeze(T0 + timedelta(minutes=1))
    work(runner)
    assert len(receiver.requests) == 2
    clock.freeze(T0 + timedelta(minutes=2, seconds=59))
    work(runner)
    assert len(receiver.requests) == 2                    # the second wait is two minutes
    clock.freeze(T0 + timedelta(minutes=3))
    work(runner)

    assert len(receiver.requests) == 3
    bodies = [verify(r, hook["secret"]) for r in receiver.requests]
    assert len({b["id"] for b in bodies}) == 1
    assert len({r["body"] for r in receiver.requests}) == 1
    [delivery] = deliveries(client, partner, hook["id"])
    assert delivery["status"] == "delivered"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 200]
    assert [a["error"] for a in delivery["attempts"]] == ["HTTP 500", "HTTP 503", None]
    assert [a["number"] for a in delivery["attempts"]] == [1, 2, 3]


def test_a_slow_receiver_times_out_and_is_retried(app, client, runner, vendor, partner, receiver, T0):
    saved = app.config["PARTNER_WEBHOOK_TIMEOUT_SECONDS"]
    app.config["PARTNER_WEBHOOK_TIMEOUT_SECONDS"] = 0.3
    try:
        hook = subscribe(client, partner, f"{receiver.url}/slow")
        receiver.script = [1.5]
        clock.freeze(T0)
        sync(client, partner, listing(vendor, "slow-1"))
        work(runner)
        clock.freeze(T0 + timedelta(minutes=1))
        work(runner)
    finally:
        app.config["PARTNER_WEBHOOK_TIMEOUT_SECONDS"] = saved

    [delivery] = deliveries(client, partner, hook["id"])
    first, second = delivery["attempts"]
    assert first["status_code"] is None and "timeout" in first["error"] and first["duration_ms"] < 1400
    assert second["status_code"] == 200 and delivery["status"] == "delivered"
    assert len({verify(r, hook["secret"])["id"] for r in receiver.requests}) == 1


def test_an_unreachable_receiver_is_retried_about_four_hours_then_given_up(app, client, runner, vendor, partner,
                                                                           closed_port, T0, receiver):
    hook = subscribe(client, partner, f"http://127.0.0.1:{closed_port}/down")
    clock.freeze(T0)
    sync(client, partner, listing(vendor, "down-1"))
    moment, waits = T0, []
    for _ in range(20):
        work(runner)
        [delivery] = deliveries(client, partner, hook["id"])
        if delivery["status"] != "pending":
            break
        due = datetime.fromisoformat(delivery["next_attempt_at"])
        waits.append(due - moment)
        moment = due
        clock.freeze(moment)

    assert delivery["status"] == "failed"
    attempts = delivery["attempts"]
    assert len(attempts) == app.config["PARTNER_WEBHOOK_MAX_ATTEMPTS"] >= 8
    assert all(a["status_code"] is None and a["error"] for a in attempts)
    assert [w.total_seconds() / 60 for w in waits] == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert timedelta(hours=3.5) <= moment - T0 <= timedelta(hours=4.5)

    # the partner fixes its endpoint and asks for the delivery again: same event, a fresh schedule
    with app.app_context():
        db.session.get(Webhook, hook["id"]).url = f"{receiver.url}/up"
        db.session.commit()
        db.session.remove()
    response = client.post(f"{WEBHOOKS}/{hook['id']}/deliveries/{delivery['id']}/redeliver",
                           headers=partner["headers"])
    assert response.status_code == 202 and response.get_json()["status"] == "pending"
    work(runner)
    [again] = deliveries(client, partner, hook["id"])
    assert again["status"] == "delivered" and len(again["attempts"]) == len(attempts) + 1
    assert verify(receiver.requests[0], hook["secret"])["id"] == delivery["event_id"]


def test_backoff_doubles_from_a_minute_and_is_capped_at_an_hour(app):
    with app.app_context():
        assert [backoff(n).total_seconds() for n in range(1, 10)] == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]


# -- who hears what ----------------------------------------------------------

def test_partners_hear_only_about_their_own_vendors_and_everyone_about_campaigns(app, client, runner, make, vendor,
                                                                               partner, receiver):
    outsider = make.partner()
    mine = subscribe(client, partner, f"{receiver.url}/mine", ["listing.updated", "order.paid", "campaign.started"])
    theirs = subscribe(client, outsider, f"{receiver.url}/theirs",
                       ["listing.updated", "order.paid", "campaign.started"])
    sync(client, partner, listing(vendor, "heard"))
    with app.app_context():
        events.publish(db.session, "order.paid", {"order_id": 7}, vendor_ids=[vendor["id"]])
        events.publish(db.session, "order.created", {"order_id": 7}, vendor_ids=[vendor["id"]])  # nobody subscribed
        events.publish(db.session, "campaign.started", {"slug": "summer"}, vendor_ids=None)
        db.session.commit()
        db.session.remove()

    work(runner)

    heard_mine = [verify(r, mine["secret"])["type"] for r in receiver.on("/mine")]
    heard_theirs = [verify(r, theirs["secret"])["type"] for r in receiver.on("/theirs")]
    assert sorted(heard_mine) == ["campaign.started", "listing.updated", "order.paid"]
    assert heard_theirs == ["campaign.started"]


def test_another_partner_listing_the_same_vendor_hears_without_my_external_id(client, runner, make, vendor, partner,
                                                                              receiver):
    colleague = make.partner(vendors=[vendor])
    hook = subscribe(client, colleague, f"{receiver.url}/colleague")
    sync(client, partner, listing(vendor, "my-secret-id"))

    work(runner)

    [request] = receiver.requests
    data = verify(request, hook["secret"])["data"]
    assert "external_id" not in data and data["vendor_id"] == vendor["id"]


# -- managing webhooks -------------------------------------------------------

@pytest.mark.parametrize("url, ok", [
    ("https://erp.example.com/hooks", True),
    ("http://127.0.0.1:8080/hooks", True),
    ("http://localhost/hooks", True),
    ("http://[::1]:9000/", True),
    ("http://erp.example.com/hooks", False),
    ("http://10.0.0.5/hooks", False),
    ("ftp://erp.example.com/", False),
    ("https://user:pass@erp.example.com/", False),
    ("https:///no-host", False),
    ("not a url", False),
])
def test_webhook_urls_are_https_except_loopback(client, partner, url, ok):
    response = client.post(WEBHOOKS, json={"url": url, "events": ["listing.updated"]}, headers=partner["headers"])
    if ok:
        assert response.status_code == 201, response.get_json()
    else:
        assert_problem(response, 422, "invalid_webhook_url", field="url")


def test_in_production_even_loopback_needs_https(app, client, partner):
    saved = app.config["ENV_NAME"]
    app.config["ENV_NAME"] = "production"
    try:
        response = client.post(WEBHOOKS, json={"url": "http://127.0.0.1:8080/", "events": ["listing.updated"]},
                               headers=partner["headers"])
    finally:
        app.config["ENV_NAME"] = saved
    assert_problem(response, 422, "invalid_webhook_url", field="url")


@pytest.mark.parametrize("url", [
    "https://10.0.0.1/hooks",
    "https://192.168.1.5/hooks",
    "https://172.16.0.1:8443/hooks",
    "https://169.254.169.254/latest/meta-data/",      # cloud metadata
    "https://[fe80::1]/hooks",
    "https://[fd00::1]/hooks",
    "https://[::ffff:10.0.0.1]/hooks",                 # IPv4-mapped IPv6
    "https://[2002:a00:1::]/hooks",                    # 6to4 wrapping 10.0.0.1
    "https://100.64.0.1/hooks",                        # carrier-grade NAT
    "https://0.0.0.0/hooks",
    "https://[::]/hooks",
    "https://224.0.0.1/hooks",
    "https://240.0.0.1/hooks",
    "https://0x0a000001/hooks",                        # 10.0.0.1 in a numeric form the resolver reads
    "https://internal.partner.example/hooks",          # a name for a private address
    "https://mixed.partner.example/hooks",             # a public and a private address
])
def test_webhook_urls_may_not_point_at_internal_addresses(client, partner, dns, url):
    dns["internal.partner.example"] = ["10.1.2.3"]
    dns["mixed.partner.example"] = ["93.184.215.14", "192.168.0.9"]

    response = client.post(WEBHOOKS, json={"url": url, "events": ["listing.updated"]}, headers=partner["headers"])

    body = assert_problem(response, 422, "invalid_webhook_url", field="url")
    assert "public" in body["detail"]
    assert client.get(WEBHOOKS, headers=partner["headers"]).get_json()["total"] == 0


@pytest.mark.parametrize("url", [
    "https://93.184.215.14/hooks",
    "https://[2606:4700:4700::1111]:8443/hooks",
    "https://erp.partner.example/hooks",               # resolves to public addresses only
    "https://not-yet.partner.example/hooks",           # does not resolve yet: checked again at each delivery
])
def test_webhook_urls_to_public_addresses_are_accepted(client, partner, dns, url):
    dns["erp.partner.example"] = ["93.184.215.14", "2606:2800:220:1::248"]
    subscribe(client, partner, url)


@pytest.mark.parametrize("url", ["https://127.0.0.1/hooks", "https://[::1]/hooks", "https://localhost/hooks",
                                 "https://loop.partner.example/hooks"])
def test_in_production_no_webhook_points_at_loopback(client, partner, dns, monkeypatch, app, url):
    dns["loop.partner.example"] = ["127.0.0.1"]
    monkeypatch.setitem(app.config, "ENV_NAME", "production")

    response = client.post(WEBHOOKS, json={"url": url, "events": ["listing.updated"]}, headers=partner["headers"])

    assert_problem(response, 422, "invalid_webhook_url", field="url")


def test_an_on_premise_install_may_allow_private_addresses_but_never_link_local(app, client, partner, monkeypatch):
    monkeypatch.setitem(app.config, "PARTNER_WEBHOOK_ALLOW_PRIVATE", True)

    subscribe(client, partner, "https://10.0.0.1/hooks")
    subscribe(client, partner, "https://[fd00::1]/hooks")
    response = client.post(WEBHOOKS, json={"url": "https://169.254.169.254/", "events": ["listing.updated"]},
                           headers=partner["headers"])
    assert_problem(response, 422, "invalid_webhook_url", field="url")


def point_at(app, webhook_id: int, url: str) -> None:
    """Store a webhook URL as it is (the send-time guard must hold whatever the stored URL says)."""
    with app.app_context():
        db.session.get(Webhook, webhook_id).url = url
        db.session.commit()
        db.session.remove()


def test_a_name_rebound_to_a_private_address_after_registration_is_not_posted_to(app, client, runner, dns, vendor,
                                                                                 partner, receiver, T0):
    """DNS rebinding: the name passed the check at registration, then its answer gains a private address.
    Every delivery resolves the name again and posts only when all its addresses are allowed."""
    dns["hooks.partner.example"] = ["93.184.215.14"]
    hook = subscribe(client, partner, "https://hooks.partner.example/hooks")
    port = receiver.url.rsplit(":", 1)[1]
    point_at(app, hook["id"], f"http://hooks.partner.example:{port}/hooks")  # the local receiver, by name
    dns["hooks.partner.example"] = ["127.0.0.1", "10.1.2.3"]
    clock.freeze(T0)
    sync(client, partner, listing(vendor, "rebound-1"))

    work(runner)

    assert receiver.requests == []
    [delivery] = deliveries(client, partner, hook["id"])
    [attempt] = delivery["attempts"]
    assert delivery["status"] == "pending" and attempt["status_code"] is None
    assert attempt["error"] == ("refused: hooks.partner.example resolves to 10.1.2.3, a private address; "
                                "webhooks only reach public addresses")

    dns["hooks.partner.example"] = ["127.0.0.1"]  # the answer is clean again: the retry goes through
    clock.freeze(T0 + timedelta(minutes=1))
    work(runner)

    [request] = receiver.requests
    assert request["headers"]["Host"] == f"hooks.partner.example:{port}"
    assert verify(request, hook["secret"])["data"]["external_id"] == "rebound-1"
    [delivery] = deliveries(client, partner, hook["id"])
    assert delivery["status"] == "delivered" and len(delivery["attempts"]) == 2


def test_deliveries_refused_for_good_are_given_up_like_other_failures(app, client, runner, dns, vendor, partner,
                                                                    monkeypatch, T0):
    monkeypatch.setitem(app.config, "PARTNER_WEBHOOK_MAX_ATTEMPTS", 2)
    dns["hooks.partner.example"] = ["93.184.215.14"]
    hook = subscribe(client, partner, "https://hooks.partner.example/hooks")
    dns["hooks.partner.example"] = ["fe80::1"]
    clock.freeze(T0)
    sync(client, partner, listing(vendor, "link-local-1"))

    work(runner)
    clock.freeze(T0 + timedelta(minutes=1))
    work(runner)

    [delivery] = deliveries(client, partner, hook["id"])
    assert delivery["status"] == "failed"
    assert [a["error"].split(";")[0] for a in delivery["attempts"]] == [
        "refused: hooks.partner.example resolves to fe80::1, a link-local address"] * 2


def test_a_name_with_several_addresses_is_tried_in_turn_when_one_refuses_connections(app, client, runner, dns,
                                                                                      vendor, partner, receiver):
    port = receiver.url.rsplit(":", 1)[1]
    dns["dual.partner.example"] = ["127.0.0.2", "127.0.0.1"]  # nothing listens on 127.0.0.2
    hook = subscribe(client, partner, f"{receiver.url}/dual")
    point_at(app, hook["id"], f"http://dual.partner.example:{port}/dual")
    sync(client, partner, listing(vendor, "dual-1"))

    work(runner)

    [request] = receiver.requests
    assert verify(request, hook["secret"])["data"]["external_id"] == "dual-1"
    [delivery] = deliveries(client, partner, hook["id"])
    assert delivery["status"] == "delivered" and len(delivery["attempts"]) == 1


def test_events_are_checked_against_the_list_and_the_keys_scopes(client, make, partner):
    assert_problem(client.post(WEBHOOKS, json={"url": "https://x.example/", "events": ["order.shipped"]},
                               headers=partner["headers"]), 422, field="events.0")
    assert_problem(client.post(WEBHOOKS, json={"url": "https://x.example/", "events": []},
                               headers=partner["headers"]), 422, field="events")
    listings_only = make.partner(scopes=["listings:read", "webhooks:manage"])
    body = assert_problem(client.post(WEBHOOKS, json={"url": "https://x.example/", "events": ["order.paid"]},
                                      headers=listings_only["headers"]), 403, "insufficient_scope")
    assert body["required_scope"] == "orders:read"
    assert client.post(WEBHOOKS, json={"url": "https://x.example/", "events": ["listing.updated", "campaign.ended"]},
                       headers=listings_only["headers"]).status_code == 201


def test_the_secret_is_shown_once_and_stored_encrypted(app, client, partner):
    hook = subscribe(client, partner, "https://erp.example.com/hooks")

    listed = client.get(WEBHOOKS, headers=partner["headers"]).get_json()

    assert listed["total"] == 1 and "secret" not in listed["items"][0]
    assert listed["items"][0]["url"] == "https://erp.example.com/hooks"
    with app.app_context():
        stored = db.session.scalar(select(Webhook.secret_ciphertext))
        assert hook["secret"] not in stored and decrypt_secret(stored) == hook["secret"]
        db.session.remove()


def test_a_partner_never_touches_another_partners_webhooks(client, runner, make, vendor, partner, receiver):
    hook = subscribe(client, partner, f"{receiver.url}/own")
    sync(client, partner, listing(vendor, "own-1"))
    work(runner)
    [delivery] = deliveries(client, partner, hook["id"])
    other = make.partner(vendors=[vendor])
    headers = other["headers"]

    assert client.get(WEBHOOKS, headers=headers).get_json()["items"] == []
    assert_problem(client.get(f"{WEBHOOKS}/{hook['id']}/deliveries", headers=headers), 404, "webhook_not_found")
    assert_problem(client.post(f"{WEBHOOKS}/{hook['id']}/deliveries/{delivery['id']}/redeliver", headers=headers),
                   404)
    assert_problem(client.delete(f"{WEBHOOKS}/{hook['id']}", headers=headers), 404)
    other_hook = subscribe(client, other, f"{receiver.url}/other")
    assert_problem(client.post(f"{WEBHOOKS}/{other_hook['id']}/deliveries/{delivery['id']}/redeliver",
                               headers=headers), 404, "webhook_delivery_not_found")

    assert client.delete(f"{WEBHOOKS}/{hook['id']}", headers=partner["headers"]).status_code == 204
    assert_problem(client.get(f"{WEBHOOKS}/{hook['id']}/deliveries", headers=partner["headers"]), 404)
