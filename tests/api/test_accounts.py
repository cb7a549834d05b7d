"""Accounts through the HTTP API: sign-up, tokens, login rate limits, staff accounts (CLI)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from marketplace.kernel import clock
from marketplace.accounts.models import AccessToken, User
from tests.factories import PASSWORD

REGISTER = "/api/v1/auth/register"
TOKEN = "/api/v1/auth/token"
ME = "/api/v1/auth/me"
PROBLEM = "application/problem+json"


def assert_problem(response, status: int, code: str | None = None, field: str | None = None) -> dict:
    """The response is an RFC 9457 problem with `status` (and `code`, and `field` named in `errors`)."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status
    assert body["type"] and body["title"] and body["detail"] and body["code"]
    if code is not None:
        assert body["code"] == code, body
    if field is not None:
        assert field in body.get("errors", {}), body
        assert body["errors"][field] and all(isinstance(m, str) and m for m in body["errors"][field])
    return body


def register(client, email="ana@example.com", password=PASSWORD, role="shopper", **extra):
    return client.post(REGISTER, json={"email": email, "password": password, "role": role, **extra})


def login(client, email, password=PASSWORD, address="127.0.0.1"):
    return client.post(TOKEN, json={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ------------------------------------------------------------------ register

@pytest.mark.parametrize("role", ["shopper", "vendor"])
def test_register_creates_shopper_or_vendor_account(client, role):
    response = register(client, email=f"new-{role}@example.com", role=role)

    assert response.status_code == 202
    body = response.get_json()
    assert body == {"status": "received", "email": f"new-{role}@example.com", "role": role}
    token = login(client, f"new-{role}@example.com").get_json()["access_token"]
    me = client.get(ME, headers=bearer(token)).get_json()
    assert me["email"] == f"new-{role}@example.com" and me["role"] == role
    assert isinstance(me["id"], int)


@pytest.mark.parametrize("role", ["admin", "campaign_manager", "superuser"])
def test_register_refuses_staff_and_unknown_roles(client, db, role):
    response = register(client, email="climber@example.com", role=role)

    assert_problem(response, 422, field="role")
    assert db.session.scalar(select(User).where(User.email == "climber@example.com")) is None


def test_register_of_a_taken_email_answers_like_a_new_one_and_keeps_the_account(client, db):
    first = register(client, email="dup@example.com")

    again = register(client, email="DUP@Example.COM", password="another-password-1", role="vendor")
    fresh = register(client, email="fresh@example.com", password="another-password-1", role="vendor")

    # Nothing in the answer tells that dup@ had an account: same status, same body shape.
    assert first.status_code == again.status_code == fresh.status_code == 202
    assert again.mimetype == fresh.mimetype
    assert again.get_json() == {"status": "received", "email": "dup@example.com", "role": "vendor"}
    assert set(again.get_json()) == set(fresh.get_json())
    # The owner's account is untouched: same password, same role, still one account.
    assert login(client, "dup@example.com", password="another-password-1").status_code == 401
    token = login(client, "dup@example.com").get_json()["access_token"]
    assert client.get(ME, headers=bearer(token)).get_json()["role"] == "shopper"
    assert len(db.session.scalars(select(User).where(User.email == "dup@example.com")).all()) == 1


def test_register_stores_email_in_lower_case(client):
    response = register(client, email="Mixed.Case@Example.com")

    assert response.status_code == 202
    assert response.get_json()["email"] == "mixed.case@example.com"
    assert login(client, "MIXED.case@example.com").status_code == 200


@pytest.mark.parametrize("password", ["short", "123456789"])
def test_register_refuses_password_shorter_than_ten_characters(client, password):
    response = register(client, password=password)

    assert_problem(response, 422, field="password")


def test_register_accepts_password_of_exactly_ten_characters(client):
    assert register(client, password="0123456789").status_code == 202


@pytest.mark.parametrize("password", ["longname@example.com", "LongName@Example.com"])
def test_register_refuses_password_equal_to_the_email(client, password):
    response = register(client, email="longname@example.com", password=password)

    assert_problem(response, 422, code="weak_password", field="password")


@pytest.mark.parametrize("field", ["email", "password", "role"])
def test_register_requires_every_field(client, field):
    payload = {"email": "x@example.com", "password": PASSWORD, "role": "shopper"}
    del payload[field]

    response = client.post(REGISTER, json=payload)

    assert_problem(response, 422, code="validation_error", field=field)


def test_register_refuses_malformed_email(client):
    assert_problem(register(client, email="not-an-email"), 422, field="email")


def test_register_refuses_unknown_fields_naming_them(client, db):
    response = register(client, email="sneaky@example.com", is_active=True, role_override="admin")

    body = assert_problem(response, 422, code="validation_error", field="is_active")
    assert "role_override" in body["errors"]
    assert db.session.scalar(select(User).where(User.email == "sneaky@example.com")) is None


def test_register_with_invalid_json_is_a_400_problem(client):
    response = client.post(REGISTER, data='{"email": "a@example.com",', content_type="application/json")

    assert_problem(response, 400, code="invalid_json")


def test_register_stores_password_hashed_with_a_kdf(client, db):
    assert register(client, email="hashed@example.com").status_code == 202

    user = db.session.scalar(select(User).where(User.email == "hashed@example.com"))
    assert user.password_hash != PASSWORD
    assert PASSWORD not in user.password_hash
    assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))


# ------------------------------------------------------------------ tokens

def test_login_returns_bearer_token_that_works_on_me(client):
    register(client, email="me@example.com", role="vendor")

    response = login(client, "me@example.com")

    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert isinstance(body["access_token"], str) and len(body["access_token"]) >= 32
    me = client.get(ME, headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.get_json()["email"] == "me@example.com"
    assert me.get_json()["role"] == "vendor"


def test_each_login_issues_a_distinct_token(client):
    register(client, email="twice@example.com")

    first = login(client, "twice@example.com").get_json()["access_token"]
    second = login(client, "twice@example.com").get_json()["access_token"]

    assert first != second
    assert client.get(ME, headers=bearer(first)).status_code == 200
    assert client.get(ME, headers=bearer(second)).status_code == 200


def test_wrong_password_and_unknown_email_give_identical_401(client):
    register(client, email="known@example.com")

    wrong_password = login(client, "known@example.com", password="not-the-password")
    unknown_email = login(client, "nobody@example.com", password="not-the-password")

    body = assert_problem(wrong_password, 401, code="invalid_credentials")
    assert_problem(unknown_email, 401, code="invalid_credentials")
    assert unknown_email.get_json() == body
    assert "access_token" not in body


def test_login_with_missing_password_is_422(client):
    response = client.post(TOKEN, json={"email": "known@example.com"})

    assert_problem(response, 422, field="password")


def test_login_refuses_unknown_fields_naming_them(client):
    register(client, email="known@example.com")

    response = client.post(TOKEN, json={"email": "known@example.com", "password": PASSWORD, "scope": "admin"})

    assert_problem(response, 422, code="validation_error", field="scope")


def test_tokens_are_stored_hashed(client, db):
    register(client, email="tok@example.com")
    token = login(client, "tok@example.com").get_json()["access_token"]

    rows = db.session.scalars(select(AccessToken)).all()
    assert len(rows) == 1
    stored = [str(value) for row in rows for value in (row.token_hash, row.user_id, row.created_at, row.expires_at)]
    assert all(token not in value for value in stored)
    assert rows[0].token_hash != token


def test_me_without_token_is_401(client):
    response = client.get(ME)

    assert_problem(response, 401, code="unauthorized")
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Bearer garbage-token", "Bearer ", "Basic dXNlcjpwYXNz", "garbage"])
def test_me_with_garbage_or_malformed_token_is_401(client, header):
    response = client.get(ME, headers={"Authorization": header})

    assert_problem(response, 401, code="invalid_token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_token_is_rejected(client):
    start = datetime(2030, 1, 15, 9, 0, tzinfo=timezone.utc)
    clock.freeze(start)
    register(client, email="expiring@example.com")
    body = login(client, "expiring@example.com").get_json()
    token, ttl = body["access_token"], body["expires_in"]

    clock.freeze(start + timedelta(seconds=ttl - 1))
    assert client.get(ME, headers=bearer(token)).status_code == 200

    clock.freeze(start + timedelta(seconds=ttl))
    expired = client.get(ME, headers=bearer(token))
    assert_problem(expired, 401, code="invalid_token")
    assert expired.headers["WWW-Authenticate"].startswith("Bearer")

    clock.freeze(start + timedelta(days=30))
    assert_problem(client.get(ME, headers=bearer(token)), 401, code="invalid_token")


# ------------------------------------------------------------------ rate limits

def test_sixth_failed_login_for_an_account_is_429_with_retry_after(client):
    register(client, email="target@example.com")
    for _ in range(5):
        assert login(client, "target@example.com", password="wrong-password-x").status_code == 401

    # Locked even with the right password, from the address that failed: no guess is confirmed.
    response = login(client, "target@example.com")

    assert_problem(response, 429, code="rate_limited")
    assert int(response.headers["Retry-After"]) > 0
    assert "access_token" not in response.get_json()


def test_account_lockout_applies_whatever_the_email_case(client):
    register(client, email="target@example.com")
    for n in range(5):
        email = ["target@example.com", "TARGET@example.com", " Target@Example.com"][n % 3]
        response = login(client, email, password="wrong-password-x", address="10.0.1.1")
        assert response.status_code == 401

    assert_problem(login(client, "TARGET@example.COM", address="10.0.1.1"), 429, code="rate_limited")


def test_account_lockout_from_one_address_does_not_lock_the_owner_out_from_another(client):
    register(client, email="target@example.com")
    for _ in range(5):
        login(client, "target@example.com", password="wrong-password-x", address="10.0.1.1")
    assert login(client, "target@example.com", address="10.0.1.1").status_code == 429

    assert login(client, "target@example.com", address="10.0.2.1").status_code == 200


def test_account_lockout_does_not_block_other_accounts_from_same_address(client):
    register(client, email="target@example.com")
    register(client, email="bystander@example.com")
    for _ in range(5):
        login(client, "target@example.com", password="wrong-password-x", address="10.0.0.7")
    assert login(client, "target@example.com", address="10.0.0.7").status_code == 429

    response = login(client, "bystander@example.com", address="10.0.0.7")

    assert response.status_code == 200
    assert response.get_json()["access_token"]


def test_account_limit_counts_failed_attempts_only(client):
    register(client, email="busy@example.com")
    for _ in range(4):
        assert login(client, "busy@example.com", password="wrong-password-x").status_code == 401
    for _ in range(5):
        assert login(client, "busy@example.com").status_code == 200

    # The fifth failure is still answered; only the sixth attempt is refused.
    assert login(client, "busy@example.com", password="wrong-password-x").status_code == 401
    assert login(client, "busy@example.com").status_code == 429


def test_address_limit_blocks_the_address_after_twenty_attempts_but_not_other_addresses(client):
    register(client, email="legit@example.com")
    # 20 attempts from one address, each for a different account (no account hits its own limit).
    for n in range(20):
        response = login(client, f"guess{n}@example.com", password="wrong-password-x", address="10.0.0.7")
        assert response.status_code == 401, n

    blocked = login(client, "legit@example.com", address="10.0.0.7")

    assert_problem(blocked, 429, code="rate_limited")
    assert int(blocked.headers["Retry-After"]) > 0
    assert login(client, "legit@example.com", address="10.0.0.8").status_code == 200


def test_address_limit_counts_successful_logins_too(client):
    register(client, email="legit@example.com")
    for _ in range(20):
        assert login(client, "legit@example.com", address="10.0.0.9").status_code == 200

    assert_problem(login(client, "legit@example.com", address="10.0.0.9"), 429, code="rate_limited")


def test_login_lockout_retry_after_is_within_the_one_minute_window(client):
    register(client, email="target@example.com")
    for _ in range(5):
        login(client, "target@example.com", password="wrong-password-x")

    response = login(client, "target@example.com")

    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60


# ------------------------------------------------------------------ staff accounts (CLI)

@pytest.mark.parametrize("role", ["admin", "campaign_manager"])
def test_cli_creates_staff_account_that_can_log_in_with_its_role(client, runner, role):
    result = runner.invoke(args=["users", "create", "--email", f"Staff-{role}@example.com",
                                 "--password", "staff-password-123", "--role", role])

    assert result.exit_code == 0, result.output
    assert f"staff-{role}@example.com" in result.output
    token = login(client, f"staff-{role}@example.com", password="staff-password-123").get_json()["access_token"]
    me = client.get(ME, headers=bearer(token)).get_json()
    assert me["role"] == role
    assert me["email"] == f"staff-{role}@example.com"


def test_cli_refuses_weak_password(runner, db):
    result = runner.invoke(args=["users", "create", "--email", "weak@example.com", "--password", "short",
                                 "--role", "admin"])

    assert result.exit_code != 0
    assert "10" in result.output
    assert db.session.scalar(select(User).where(User.email == "weak@example.com")) is None


def test_cli_refuses_duplicate_email(client, runner):
    register(client, email="taken@example.com")

    result = runner.invoke(args=["users", "create", "--email", "TAKEN@example.com", "--password",
                                 "staff-password-123", "--role", "admin"])

    assert result.exit_code != 0
    assert "already exists" in result.output


def test_cli_refuses_unknown_role(runner, db):
    result = runner.invoke(args=["users", "create", "--email", "boss@example.com", "--password",
                                 "staff-password-123", "--role", "root"])

    assert result.exit_code != 0
    assert db.session.scalar(select(User).where(User.email == "boss@example.com")) is None
