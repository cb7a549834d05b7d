"""Login and sign-up limits that stop an attacker without locking the owner out.

Failed logins count per (account, client address); every attempt counts per address; an account-wide
ceiling needs several addresses to reach. The client address is the peer's: X-Forwarded-For is ignored
unless the deployment says how many proxies of its own stand in front (RATELIMIT_TRUSTED_PROXIES).
"""
from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.kernel.extensions import client_address
from tests.api.test_accounts import ME, REGISTER, TOKEN, assert_problem, bearer
from tests.factories import PASSWORD

WRONG = "wrong-password-x"


def login(client, email, password=PASSWORD, address="127.0.0.1", headers=None):
    return client.post(TOKEN, json={"email": email, "password": password}, headers=headers or {},
                       environ_base={"REMOTE_ADDR": address})


def register(client, email, address="127.0.0.1", password=PASSWORD, role="shopper", headers=None):
    return client.post(REGISTER, json={"email": email, "password": password, "role": role}, headers=headers or {},
                       environ_base={"REMOTE_ADDR": address})


@pytest.fixture
def owner(make):
    return make.user("shopper", email="owner@example.com")


# ------------------------------------------------------------------ login


def test_attacker_throttled_from_several_addresses_does_not_lock_the_owner_out(client, owner):
    for attacker in ("203.0.113.7", "203.0.113.8", "198.51.100.9"):
        for _ in range(5):
            assert login(client, owner["email"], WRONG, address=attacker).status_code == 401
        # Even the right password is refused from the throttled address: no guess can be confirmed.
        refused = login(client, owner["email"], address=attacker)
        body = assert_problem(refused, 429, code="rate_limited")
        assert 0 < int(refused.headers["Retry-After"]) <= 60
        assert "access_token" not in body

    response = login(client, owner["email"], address="192.0.2.44")

    assert response.status_code == 200
    assert client.get(ME, headers=bearer(response.get_json()["access_token"])).get_json()["email"] == owner["email"]


def test_throttled_address_may_still_log_in_to_other_accounts(client, owner, make):
    other = make.user("shopper", email="other@example.com")
    for _ in range(5):
        login(client, owner["email"], WRONG, address="203.0.113.7")

    assert login(client, other["email"], address="203.0.113.7").status_code == 200


def test_account_wide_ceiling_needs_many_addresses_and_then_holds_everywhere(client, owner, make):
    bystander = make.user("shopper", email="bystander@example.com")
    # 100 failures per hour for one account (the default ceiling), five from each of 20 addresses.
    for n in range(20):
        for _ in range(5):
            assert login(client, owner["email"], WRONG, address=f"198.51.100.{n}").status_code == 401, n

    assert_problem(login(client, owner["email"], address="192.0.2.44"), 429, code="rate_limited")
    assert login(client, bystander["email"], address="192.0.2.44").status_code == 200


def test_one_address_cannot_reach_the_account_wide_ceiling(app):
    """The per-(account, address) budget over the ceiling's window is below the ceiling: one attacker's
    address never locks the account for everyone."""
    from limits import parse_many

    pair = parse_many(app.config["LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS"])
    [ceiling] = parse_many(app.config["LOGIN_LIMIT_PER_ACCOUNT"])
    window = ceiling.get_expiry()
    per_address = min(item.amount * -(-window // item.get_expiry()) for item in pair)
    assert per_address < ceiling.amount


def test_forged_x_forwarded_for_does_not_give_an_attacker_new_addresses(client, owner):
    for n in range(5):
        forged = {"X-Forwarded-For": f"10.9.{n}.1"}
        assert login(client, owner["email"], WRONG, address="203.0.113.7", headers=forged).status_code == 401

    refused = login(client, owner["email"], address="203.0.113.7", headers={"X-Forwarded-For": "10.9.99.1"})

    assert_problem(refused, 429, code="rate_limited")


def test_ipv6_client_counts_as_its_64_network(client, owner):
    for n in range(1, 6):
        assert login(client, owner["email"], WRONG, address=f"2001:db8:0:7::{n}").status_code == 401

    assert_problem(login(client, owner["email"], address="2001:db8:0:7::ffff"), 429, code="rate_limited")
    assert login(client, owner["email"], address="2001:db8:0:8::1").status_code == 200


@pytest.mark.parametrize("trusted, remote, forwarded, expected", [
    (0, "203.0.113.7", "10.0.0.1", "203.0.113.7"),
    (1, "10.0.0.2", "198.51.100.1, 203.0.113.7", "203.0.113.7"),
    (2, "10.0.0.2", "1.1.1.1, 203.0.113.7, 10.0.0.3", "203.0.113.7"),
    (2, "10.0.0.2", "203.0.113.7", "10.0.0.2"),
    (0, "2001:db8:1:2:3:4:5:6", None, "2001:db8:1:2::/64"),
    (0, "::ffff:203.0.113.7", None, "203.0.113.7"),
])
def test_client_address_trusts_only_the_configured_number_of_proxies(trusted, remote, forwarded, expected):
    app = Flask(__name__)
    app.config["RATELIMIT_TRUSTED_PROXIES"] = trusted
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    with app.test_request_context("/", headers=headers, environ_base={"REMOTE_ADDR": remote}):
        assert client_address() == expected


# ------------------------------------------------------------------ register


def test_register_is_limited_per_address(client, db):
    for n in range(10):
        assert register(client, f"bulk{n}@example.com", address="203.0.113.7").status_code == 202, n

    refused = register(client, "bulk10@example.com", address="203.0.113.7")

    assert_problem(refused, 429, code="rate_limited")
    assert int(refused.headers["Retry-After"]) > 0
    assert db.session.scalar(select(User).where(User.email == "bulk10@example.com")) is None
    assert register(client, "bulk10@example.com", address="203.0.113.8").status_code == 202


def test_register_limit_counts_taken_addresses_and_ignores_forged_forwarding(client, owner):
    for n in range(10):
        response = register(client, owner["email"], address="203.0.113.7",
                            headers={"X-Forwarded-For": f"10.9.{n}.1"})
        assert response.status_code == 202

    assert_problem(register(client, "new@example.com", address="203.0.113.7"), 429, code="rate_limited")


def test_register_does_not_tell_whether_an_email_has_an_account(client, owner):
    taken = register(client, owner["email"].upper(), address="203.0.113.7", role="vendor")
    new = register(client, "someone-new@example.com", address="203.0.113.7", role="vendor")

    assert taken.status_code == new.status_code == 202
    assert taken.mimetype == new.mimetype == "application/json"
    assert taken.get_json() == {"status": "received", "email": owner["email"], "role": "vendor"}
    assert new.get_json() == {"status": "received", "email": "someone-new@example.com", "role": "vendor"}
    assert sorted(taken.headers.keys()) == sorted(new.headers.keys())


@pytest.mark.parametrize("password", ["short", "owner@example.com"])
def test_register_refuses_a_weak_password_alike_for_taken_and_new_emails(client, owner, password):
    taken = register(client, owner["email"], password=password)
    new = register(client, "owner@example.org", password=password.replace(".com", ".org"))

    assert_problem(taken, 422, field="password")
    assert (taken.status_code, taken.get_json()["code"]) == (new.status_code, new.get_json()["code"])
