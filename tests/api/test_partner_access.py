"""Partner API access: keys (CLI, hashing, revocation), scopes, vendor grants, per-partner rate limits."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from marketplace.kernel import clock
from marketplace.kernel.extensions import db
from marketplace.partners.models import PartnerApiKey
from tests.api.test_products import assert_problem

ME = "/api/v1/partner/me"
LISTINGS = "/api/v1/partner/listings"
WEBHOOKS = "/api/v1/partner/webhooks"


def grants_url(vendor_id: int) -> str:
    return f"/api/v1/vendors/{vendor_id}/partners"


def cli_key(result) -> str:
    """The key a `partners` command printed: alone on the last line."""
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


# -- keys --------------------------------------------------------------------

def test_partners_create_prints_a_working_key_alone_on_the_last_line(runner, client):
    result = runner.invoke(args=["partners", "create", "--name", "Acme ERP"])
    key = cli_key(result)
    assert key.startswith("bbp_") and " " not in key

    response = client.get(ME, headers={"Authorization": f"Bearer {key}"})

    assert response.status_code == 200
    body = response.get_json()
    assert body["name"] == "Acme ERP" and isinstance(body["id"], int)
    assert sorted(body["scopes"]) == ["listings:read", "listings:write", "orders:read", "webhooks:manage"]


def test_keys_are_stored_only_as_a_hash_with_a_visible_prefix(app, runner):
    key = cli_key(runner.invoke(args=["partners", "create", "--name", "Hashes Inc"]))
    with app.app_context():
        row = db.session.scalar(select(PartnerApiKey))
        stored = [str(v) for v in (row.prefix, row.key_hash, row.scopes)]
        db.session.remove()
    assert key.startswith(row.prefix + "_")
    assert all(key.split("_")[-1] not in value for value in stored)
    assert len(row.key_hash) == 64


def test_keys_create_gives_a_second_key_with_the_scopes_asked(runner, client, make):
    partner = make.partner()
    key = cli_key(runner.invoke(args=["partners", "keys", "create", "--partner", str(partner["id"]),
                                      "--scopes", "listings:read,orders:read"]))

    response = client.get(ME, headers={"Authorization": f"Bearer {key}"})

    assert response.get_json() == {"id": partner["id"], "name": partner["name"],
                                   "scopes": ["listings:read", "orders:read"]}
    assert client.get(ME, headers=partner["headers"]).status_code == 200  # the first key still works


def test_keys_create_refuses_an_unknown_scope_and_partner(runner, make):
    partner = make.partner()
    result = runner.invoke(args=["partners", "keys", "create", "--partner", str(partner["id"]), "--scopes", "admin"])
    assert result.exit_code != 0 and "Unknown scope" in result.output
    result = runner.invoke(args=["partners", "keys", "create", "--partner", "999"])
    assert result.exit_code != 0 and "No partner" in result.output


@pytest.mark.parametrize("by", ["prefix", "key-id"])
def test_a_revoked_key_gets_401(app, runner, client, make, by):
    partner = make.partner()
    with app.app_context():
        row = db.session.scalar(select(PartnerApiKey).where(PartnerApiKey.partner_id == partner["id"]))
        value = row.prefix if by == "prefix" else str(row.id)
        db.session.remove()
    assert client.get(ME, headers=partner["headers"]).status_code == 200

    result = runner.invoke(args=["partners", "keys", "revoke", f"--{by}", value])

    assert result.exit_code == 0, result.output
    body = assert_problem(client.get(ME, headers=partner["headers"]), 401, "invalid_api_key")
    assert "revoked" in body["detail"].lower()


def last_used(runner, partner: dict) -> str:
    """The last column of the partner's (only) key in `partners keys list`."""
    result = runner.invoke(args=["partners", "keys", "list", "--partner", str(partner["id"])])
    assert result.exit_code == 0, result.output
    [line] = result.output.strip().splitlines()
    return line.split("\t")[-1]


def test_keys_list_shows_when_a_key_was_last_used(runner, client, make):
    partner = make.partner()
    assert last_used(runner, partner) == "never used"
    moment = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    clock.freeze(moment)

    assert client.get(ME, headers=partner["headers"]).status_code == 200

    assert last_used(runner, partner) == f"last used {moment.isoformat()}"


def test_last_used_is_written_at_most_once_a_minute(runner, client, make):
    partner = make.partner()
    first = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    clock.freeze(first)
    client.get(ME, headers=partner["headers"])

    clock.freeze(first + timedelta(seconds=59))
    assert client.get(ME, headers=partner["headers"]).status_code == 200
    assert client.get(LISTINGS, headers=partner["headers"]).status_code == 200
    assert last_used(runner, partner) == f"last used {first.isoformat()}"

    later = first + timedelta(seconds=61)
    clock.freeze(later)
    assert client.get(ME, headers=partner["headers"]).status_code == 200
    assert last_used(runner, partner) == f"last used {later.isoformat()}"


def test_a_refused_key_is_not_marked_used(runner, client, make):
    partner = make.partner()
    tampered = partner["key"][:-1] + ("A" if partner["key"][-1] != "A" else "B")
    assert client.get(ME, headers={"Authorization": f"Bearer {tampered}"}).status_code == 401
    assert last_used(runner, partner) == "never used"


@pytest.mark.parametrize("header", [
    None, "Bearer", "Basic dXNlcjpwYXNz", "Bearer bbp_00000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "Bearer not-a-key",
])
def test_missing_malformed_or_unknown_keys_get_401(client, make, header):
    make.partner()
    response = client.get(ME, headers={"Authorization": header} if header else {})
    assert_problem(response, 401, "invalid_api_key")
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_key_with_a_tampered_secret_gets_401(client, make):
    partner = make.partner()
    tampered = partner["key"][:-1] + ("A" if partner["key"][-1] != "A" else "B")
    assert_problem(client.get(ME, headers={"Authorization": f"Bearer {tampered}"}), 401)


def test_a_user_access_token_is_not_a_partner_key(client, make):
    vendor_user = make.user("vendor")
    assert_problem(client.get(ME, headers=vendor_user["headers"]), 401, "invalid_api_key")


def test_a_key_outside_its_scopes_gets_403_naming_the_scope(client, make):
    reader = make.partner(scopes=["listings:read"])

    body = assert_problem(client.put(LISTINGS, json={"listings": []}, headers=reader["headers"]), 403,
                          "insufficient_scope")
    assert body["required_scope"] == "listings:write"
    assert_problem(client.get(WEBHOOKS, headers=reader["headers"]), 403, "insufficient_scope")
    assert client.get(LISTINGS, headers=reader["headers"]).status_code == 200


def test_openapi_documents_the_partner_key_scheme(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["partnerKey"]["scheme"] == "bearer"
    put = spec["paths"]["/api/v1/partner/listings"]["put"]
    assert put["security"] == [{"partnerKey": []}]
    assert {"401", "403", "429"} <= set(put["responses"])
    assert "/api/v1/vendors/{vendor_id}/partners" in spec["paths"]


# -- vendor grants -----------------------------------------------------------

@pytest.fixture
def vendor(make):
    make.rates()
    return make.vendor("IN")


def test_the_vendor_owner_authorizes_and_revokes_a_partner(client, make, vendor):
    partner = make.partner()
    owner = vendor["owner"]["headers"]

    response = client.post(grants_url(vendor["id"]), json={"partner_id": partner["id"]}, headers=owner)
    assert response.status_code == 201
    assert response.get_json()["partner_name"] == partner["name"]
    again = client.post(grants_url(vendor["id"]), json={"partner_id": partner["id"]}, headers=owner)
    assert again.status_code == 200
    listed = client.get(grants_url(vendor["id"]), headers=owner).get_json()["items"]
    assert [g["partner_id"] for g in listed] == [partner["id"]]

    assert client.delete(f"{grants_url(vendor['id'])}/{partner['id']}", headers=owner).status_code == 204
    assert client.get(grants_url(vendor["id"]), headers=owner).get_json()["items"] == []
    assert_problem(client.delete(f"{grants_url(vendor['id'])}/{partner['id']}", headers=owner), 404,
                   "partner_grant_not_found")


def test_only_the_vendor_owner_may_authorize_a_partner(client, make, vendor):
    partner = make.partner()
    other_vendor_user = make.user("vendor")
    admin = make.user("admin")

    assert_problem(client.post(grants_url(vendor["id"]), json={"partner_id": partner["id"]},
                               headers=other_vendor_user["headers"]), 403, "not_vendor_owner")
    assert_problem(client.post(grants_url(vendor["id"]), json={"partner_id": partner["id"]},
                               headers=admin["headers"]), 403)
    assert_problem(client.post(grants_url(vendor["id"]), json={"partner_id": partner["id"]}), 401)
    assert_problem(client.get(grants_url(vendor["id"]), headers=other_vendor_user["headers"]), 403)
    assert_problem(client.post(grants_url(999), json={"partner_id": partner["id"]},
                               headers=vendor["owner"]["headers"]), 404)


def test_a_grant_names_an_existing_partner_and_nothing_else(client, vendor):
    owner = vendor["owner"]["headers"]
    assert_problem(client.post(grants_url(vendor["id"]), json={"partner_id": 424242}, headers=owner), 422,
                   "partner_not_found", field="partner_id")
    assert_problem(client.post(grants_url(vendor["id"]), json={"partner_id": "1"}, headers=owner), 422,
                   field="partner_id")
    assert_problem(client.post(grants_url(vendor["id"]), json={"partner_id": 1, "scopes": []}, headers=owner), 422,
                   field="scopes")


# -- rate limits -------------------------------------------------------------

@pytest.fixture
def small_limit(app):
    saved = app.config["PARTNER_RATE_LIMIT"]
    app.config["PARTNER_RATE_LIMIT"] = "3 per minute"
    yield 3
    app.config["PARTNER_RATE_LIMIT"] = saved


def test_partners_over_their_limit_get_429_with_retry_after(client, make, small_limit):
    partner = make.partner()

    answers = [client.get(ME, headers=partner["headers"]) for _ in range(small_limit + 1)]

    assert [r.status_code for r in answers] == [200] * small_limit + [429]
    for remaining, response in zip([2, 1, 0, 0], answers):
        assert response.headers["RateLimit-Limit"] == "3"
        assert response.headers["RateLimit-Remaining"] == str(remaining)
        assert 0 <= int(response.headers["RateLimit-Reset"]) <= 60
    limited = assert_problem(answers[-1], 429, "rate_limited")
    assert limited["detail"]
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 60


def test_the_limit_is_per_partner_across_endpoints(client, make, small_limit):
    first, second = make.partner(), make.partner()
    for url in (ME, LISTINGS, WEBHOOKS):
        assert client.get(url, headers=first["headers"]).status_code == 200
    assert client.get(ME, headers=first["headers"]).status_code == 429
    assert client.get(ME, headers=second["headers"]).status_code == 200


def test_ratelimit_headers_are_on_error_answers_too(client, make):
    partner = make.partner()
    for response in (client.get(ME),                                                        # 401
                     client.get(f"{LISTINGS}/jobs/999", headers=partner["headers"]),          # 404
                     client.get(LISTINGS, query_string={"limit": 0}, headers=partner["headers"])):  # 422
        assert response.status_code >= 400
        assert {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} <= set(response.headers.keys())
